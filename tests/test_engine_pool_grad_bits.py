"""Pooling gradients bit for bit with torch's cpu kernels for overlapping windows and any incoming gradient:
each output's share reaches its window's inputs in row-major output order."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import engine

CASES = [
    ("avg_pool2d", (2, 3, 8, 8), {"kernel_size": 3, "stride": 2, "padding": 1}),
    ("avg_pool2d", (2, 3, 9, 9), {"kernel_size": 3, "stride": 1}),
    ("avg_pool2d", (2, 3, 9, 9), {"kernel_size": 3, "stride": 1, "padding": 1, "count_include_pad": False}),
    ("avg_pool1d", (2, 3, 20), {"kernel_size": 4, "stride": 1}),
    ("avg_pool3d", (1, 2, 6, 6, 6), {"kernel_size": 3, "stride": 1}),
    ("avg_pool2d", (2, 3, 9, 9), {"kernel_size": 3, "stride": 2, "ceil_mode": True}),
    ("max_pool2d", (2, 3, 8, 8), {"kernel_size": 3, "stride": 1}),
    ("max_pool2d", (2, 3, 8, 8), {"kernel_size": 3, "stride": 2, "padding": 1}),
    ("max_pool1d", (2, 3, 20), {"kernel_size": 3, "stride": 1}),
]


@pytest.mark.parametrize(("name", "shape", "kw"), CASES)
@pytest.mark.parametrize("dt", ["float32", "float64"])
def test_pool_grad_bits(name: str, shape: tuple, kw: dict, dt: str) -> None:
    x = np.round(np.random.default_rng(4).standard_normal(shape), 1).astype(dt)  # (ties among maxima too)
    out = []
    for m in (torch, engine):
        t = m.tensor(x).requires_grad_()
        y = getattr(m.nn.functional, name)(t, **kw)
        y.backward(m.tensor(np.random.default_rng(1).standard_normal(tuple(y.shape)).astype(dt)))
        out.append((y.detach().numpy().tobytes(), t.grad.numpy().tobytes()))
    assert out[0] == out[1]
