"""Adaptive average pooling's gradient bit for bit with torch's cpu kernel for any incoming gradient: each
output's share divided by its window's length per dim, added to its window's inputs in row-major output order."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import engine

CASES = [(2, (2, 3, 8, 8), (3, 3)), (2, (2, 3, 7, 9), (4, 5)), (2, (2, 3, 8, 8), (1, 1)), (1, (2, 3, 11), 4),
         (3, (1, 2, 5, 6, 7), (2, 3, 4)), (2, (3, 7, 9), (2, 4)), (2, (2, 3, 6, 6), (12, 12))]  # fmt: skip


@pytest.mark.parametrize(("nd", "shape", "out"), CASES)
@pytest.mark.parametrize("dt", ["float32", "float64"])
def test_adaptive_avg_pool_grad_bits(nd: int, shape: tuple, out: object, dt: str) -> None:
    rng = np.random.default_rng(4)
    x = rng.standard_normal(shape).astype(dt)
    res = []
    for m in (torch, engine):
        t = m.tensor(x).requires_grad_()
        y = getattr(m.nn.functional, f"adaptive_avg_pool{nd}d")(t, out)
        y.backward(m.tensor(np.random.default_rng(1).standard_normal(tuple(y.shape)).astype(dt)))
        res.append((y.detach().numpy().tobytes(), t.grad.numpy().tobytes()))
    assert res[0] == res[1]
