"""engine/ops/gemm_order.py against torch: small float32 matrix products (F.linear, mm/matmul, a transposed
operand, mv, vector @ matrix) and their gradients, bit for bit, in each summation class the module emulates;
and a small training loop whose printed losses match torch's exactly.

The classes were probed on MKL as torch 2.13 runs it on an AMD cpu with AVX2/AVX-512; elsewhere (an Intel cpu,
whose MKL may pick AVX-512 kernels, or a torch without MKL) the engine keeps numpy's BLAS and these tests
skip."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import torch
import torch.nn.functional as TF
from helpers import train_losses

import engine
import engine.nn.functional as EF
from engine.ops import gemm_order
from engine.ops.cpu_capability import mkl_order_known

pytestmark = pytest.mark.skipif(
    not (mkl_order_known() and torch.backends.mkl.is_available()),
    reason="MKL's summation orders were derived with torch's MKL on an AMD cpu with AVX2; not this machine",
)

# (M, K, N) per class, all below gemm_order.BUDGET multiply-adds
LINEAR = [
    (4, 16, 1), (32, 64, 1), (16, 100, 1), (5, 16, 1), (9, 20, 1), (1, 64, 32), (1, 13, 8),  # gemv
    (1, 40, 1), (2, 20, 1), (3, 33, 1), (6, 24, 1), (7, 9, 1), (10, 64, 1), (1, 50, 2), (1, 100, 7),  # its tails
    (16, 3, 8), (8, 16, 4), (64, 8, 6), (16, 8, 10), (4, 32, 2), (2, 16, 16), (3, 64, 7), (64, 8, 3),  # lanes
    (16, 4, 16), (64, 3, 12), (12, 8, 32), (8, 2, 64),  # fma
    (2, 4, 1), (1, 3, 2),  # seq
]  # fmt: skip
MATMUL = [
    (1, 64, 32), (16, 32, 2), (64, 16, 3), (8, 100, 4), (8, 32, 8), (2, 16, 16), (3, 8, 32),  # seq
    (16, 64, 1), (4, 5, 1), (32, 100, 1), (2, 33, 1), (7, 20, 1),  # gemv
    (8, 4, 16), (8, 8, 12),  # fma (a batch of 8 at most: the weight gradient's K)
]  # fmt: skip
TRANSPOSED_A = [(8, 16, 3), (12, 4, 32), (16, 64, 1), (1, 64, 32), (16, 100, 2), (4, 64, 8)]
MV = [(16, 64), (4, 100), (64, 63), (5, 7), (8, 300), (9, 33), (1, 50), (2, 40), (3, 100), (7, 300)]


def bits(t: Any) -> np.ndarray:
    return np.ascontiguousarray(t.detach().numpy()).view(np.int32)


def mismatches(e: Any, t: Any) -> int:
    """How many elements differ in any bit (shapes must agree)."""
    assert tuple(e.shape) == tuple(t.shape)
    return int((bits(e) != bits(t)).sum())


def pair(*shape: int, seed: int) -> tuple:
    g = torch.Generator().manual_seed(seed)
    t = torch.randn(*shape, generator=g)
    return t, engine.tensor(t.numpy().copy())


@pytest.mark.parametrize("m,k,n", LINEAR)
def test_linear_forward_and_gradients(m: int, k: int, n: int) -> None:
    tx, ex = pair(m, k, seed=1)
    tw, ew = pair(n, k, seed=2)
    tb, eb = pair(n, seed=3)
    tg, eg = pair(m, n, seed=4)
    for t in (tx, tw, tb, ex, ew, eb):
        t.requires_grad_(True)
    to, eo = TF.linear(tx, tw, tb), EF.linear(ex, ew, eb)
    assert mismatches(eo, to) == 0
    (to * tg).sum().backward()
    (eo * eg).sum().backward()
    for e, t in ((ex, tx), (ew, tw), (eb, tb)):
        assert mismatches(e.grad, t.grad) == 0


@pytest.mark.parametrize("m,k,n", MATMUL)
def test_matmul_forward_and_gradients(m: int, k: int, n: int) -> None:
    ta, ea = pair(m, k, seed=5)
    tb, eb = pair(k, n, seed=6)
    tg, eg = pair(m, n, seed=7)
    for t in (ta, tb, ea, eb):
        t.requires_grad_(True)
    to, eo = ta @ tb, ea @ eb
    assert mismatches(eo, to) == 0
    assert mismatches(engine.mm(ea, eb), torch.mm(ta, tb)) == 0
    (to * tg).sum().backward()
    (eo * eg).sum().backward()
    assert mismatches(ea.grad, ta.grad) == 0
    assert mismatches(eb.grad, tb.grad) == 0


@pytest.mark.parametrize("m,k,n", TRANSPOSED_A)
def test_transposed_operand(m: int, k: int, n: int) -> None:
    """A weight gradient's product: a transposed contiguous matrix times a contiguous one."""
    ta, ea = pair(k, m, seed=8)
    tb, eb = pair(k, n, seed=9)
    assert mismatches(ea.t() @ eb, ta.t() @ tb) == 0


@pytest.mark.parametrize("m,k", MV)
def test_mv_and_vector_times_matrix(m: int, k: int) -> None:
    ta, ea = pair(m, k, seed=10)
    tv, ev = pair(k, seed=11)
    assert mismatches(engine.mv(ea, ev), torch.mv(ta, tv)) == 0
    assert mismatches(ea @ ev, ta @ tv) == 0
    tu, eu = pair(m, seed=12)
    assert mismatches(eu @ ea, tu @ ta) == 0


def test_numpy_blas_alone_differs() -> None:
    """The emulation is what makes the products above match: plain BLAS differs on these shapes."""
    diff = 0
    for m, k, n in LINEAR:
        tx, _ = pair(m, k, seed=1)
        tw, _ = pair(n, k, seed=2)
        diff += int((tx.numpy() @ tw.numpy().T != (tx @ tw.t()).numpy()).sum())
    assert diff > 0


def test_outside_the_classes_falls_back_to_blas() -> None:
    big = np.ones((64, 64), np.float32)
    assert gemm_order._kernel(big, big) is None  # over the budget
    f64 = np.ones((4, 4))
    np.testing.assert_array_equal(gemm_order.mm(f64, f64), f64 @ f64)


def _train(T: Any, batch: int) -> list:
    T.manual_seed(0)
    x, y = T.randn(batch, 3), T.randn(batch, 1)
    model = T.nn.Sequential(T.nn.Linear(3, 8), T.nn.ReLU(), T.nn.Linear(8, 1))
    return train_losses(T, model, x, y, T.optim.SGD(model.parameters(), lr=0.01))


@pytest.mark.parametrize("batch", [10, 16, 64])
def test_training_loop_losses_match(batch: int) -> None:
    assert _train(engine, batch) == _train(torch, batch)


@pytest.mark.parametrize("m,k,n", [(16, 3, 8), (8, 16, 1), (4, 8, 16)])
def test_linear_double_backward(m: int, k: int, n: int) -> None:
    """create_graph records torch's products (a column-major weight's gradient as a transposed product)."""
    results = []
    for T, F in ((torch, TF), (engine, EF)):
        T.manual_seed(0)
        x = T.randn(m, k, requires_grad=True)
        w = T.randn(n, k, requires_grad=True)
        b = T.randn(n, requires_grad=True)
        gw, gx = T.autograd.grad((F.linear(x, w, b) ** 2).sum(), (w, x), create_graph=True)
        (gw.sum() + (gx * gx).sum()).backward()
        results.append((gw, gx, w.grad, x.grad, gw.grad_fn.name()))
    (tgw, tgx, twg, txg, tname), (egw, egx, ewg, exg, ename) = results
    assert ename == tname
    for e, t in ((egw, tgw), (egx, tgx), (ewg, twg), (exg, txg)):
        assert mismatches(e, t) == 0
