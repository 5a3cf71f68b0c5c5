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
