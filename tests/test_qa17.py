"""Differences from PyTorch found by QA round 17 (a differential sweep of whole learner programs modelled on
PyTorch's tutorials, d2l.ai, nanoGPT and makemore: each run by `tcli run` and by Python with PyTorch, stdout
compared byte for byte)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import engine


def _bits(t) -> list:
    a = t.detach().float().numpy() if t.dtype in (torch.bfloat16, engine.bfloat16) else t.detach().numpy()
    return a.view({2: np.uint16, 4: np.uint32, 8: np.uint64}[a.itemsize]).tolist()


@pytest.mark.parametrize("dtype", ["float32", "float64", "float16", "bfloat16"])
@pytest.mark.parametrize(
    "args",
    [
        (-8.0, 8.0, 0.1),  # d2l's activation plots: element 80 is 4.4e-16 (a fused multiply-add), so relu' is 1
        (-1, 1, 0.1),  # float32 lanes start from a base rounded to float: element 10 is -2.98e-09
        (-8.0, 8.4, 0.1),  # a scalar tail after the vector blocks
        (0.1, 7.3, 0.013),
        (5.0, -5.0, -0.17),
        (1e5, 1e5 + 70000 * 0.37, 0.37),  # past the grain: one chunk per thread, each with its own blocks
    ],
)
def test_arange_float_bits_match_torch(args, dtype):
    """arange's cpu kernel computes whole blocks of vectors from a per-vector base (Vectorized::arange), with
    FMA, in double for float32/float64 and in float for float16/bfloat16; a plain start + i * step in double
    gave other last bits (and a relu gradient of 0 where torch's is 1)."""
    ours = engine.arange(*args, dtype=getattr(engine, dtype))
    ref = torch.arange(*args, dtype=getattr(torch, dtype))
    assert _bits(ours) == _bits(ref)


def test_arange_relu_grad_at_the_d2l_origin():
    x = engine.arange(-8.0, 8.0, 0.1, requires_grad=True)
    engine.relu(x).backward(engine.ones_like(x))
    tx = torch.arange(-8.0, 8.0, 0.1, requires_grad=True)
    torch.relu(tx).backward(torch.ones_like(tx))
    assert x.grad.tolist() == tx.grad.tolist()


def test_arange_out_and_requires_grad_keep_the_kernel_values():
    r = engine.arange(-1, 1, 0.1, requires_grad=True)
    ref = torch.arange(-1, 1, 0.1)
    assert r.requires_grad and _bits(r) == _bits(ref)
    o = engine.empty(20)
    engine.arange(-1, 1, 0.1, out=o)
    assert _bits(o) == _bits(ref)


# ---- a matrix (or vector) times a batch: torch's should_fold ----------------------------------------------------


@pytest.fixture
def torch_one_thread():
    """The engine's MKL runs sequentially: torch's arithmetic on one thread (tests/test_engine_mkl.py)."""
    from engine.ops import mkl

    if not mkl.available():
        pytest.skip("MKL 2024.2 (the `exact` extra) is not installed")
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def _pair(s1, s2, rg1, rg2, seed):
    g = np.random.default_rng(seed)
    a, b = g.standard_normal(s1).astype(np.float32), g.standard_normal(s2).astype(np.float32)
    ea, eb = engine.tensor(a, requires_grad=rg1), engine.tensor(b, requires_grad=rg2)
    ta, tb = torch.tensor(a, requires_grad=rg1), torch.tensor(b, requires_grad=rg2)
    return ea, eb, ta, tb


@pytest.mark.parametrize(
    "s1, s2",
    [
        ((8, 8), (4, 8, 5)),  # karpathy's `wei @ x` (torch: one bmm over the batch, not folded)
        ((40, 30), (7, 30, 50)),
        ((8,), (4, 8, 5)),  # a vector times a batch
        ((6, 8), (2, 3, 8, 9)),
        ((2, 1, 6, 7), (1, 3, 7, 5)),  # broadcast batches: both expanded, one bmm
        ((3, 6, 7), (2, 3, 7, 5)),
        ((1, 2, 3), (4, 3, 2)),  # a batch of one counts as a matrix
        ((4, 2, 3), (1, 3, 2)),
    ],
)
@pytest.mark.parametrize("rg", [(False, False), (False, True), (True, True)])
def test_matmul_of_a_matrix_and_a_batch_is_torchs_bits(torch_one_thread, s1, s2, rg):
    """A matrix times a batch was numpy's product (other last bits than torch's bmm or folded mm), and its node
    was CloneBackward0 also where torch, the matrix not requiring grad, runs one bmm (UnsafeViewBackward0)."""
    ea, eb, ta, tb = _pair(s1, s2, *rg, seed=len(s1) * 10 + len(s2))
    ey, ty = ea @ eb, ta @ tb
    assert _bits(ey) == _bits(ty)
    if ty.grad_fn is not None:
        assert ey.grad_fn.name() == ty.grad_fn.name()


@pytest.mark.parametrize("s1, s2", [((8, 8), (4, 8, 5)), ((6, 8), (2, 3, 8, 9)), ((1, 2, 3), (4, 3, 2))])
def test_matmul_folded_matrix_gradient_is_torchs_bits(torch_one_thread, s1, s2):
    """With the matrix requiring grad torch folds the batch into one mm, so the matrix's gradient is one
    product over all the batch's rows (it was a per-item product summed over the batch)."""
    ea, eb, ta, tb = _pair(s1, s2, True, True, seed=7)
    w = np.random.default_rng(8).standard_normal(np.broadcast_shapes(s1[:-2], s2[:-2]) + (s1[-2], s2[-1]))
    ey, ty = ea @ eb, ta @ tb
    assert ey.grad_fn.name() == ty.grad_fn.name() == "CloneBackward0"
    (ey * engine.tensor(w.astype(np.float32))).sum().backward()
    (ty * torch.tensor(w.astype(np.float32))).sum().backward()
    assert _bits(ea.grad) == _bits(ta.grad)
    assert _bits(eb.grad) == _bits(tb.grad)
    (eg,) = engine.autograd.grad((ea @ eb).pow(2).sum(), ea, create_graph=True)
    (tg,) = torch.autograd.grad((ta @ tb).pow(2).sum(), ta, create_graph=True)
    assert _bits(eg) == _bits(tg) and eg.grad_fn.name() == tg.grad_fn.name()
