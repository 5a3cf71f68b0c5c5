"""cdist bit for bit with torch's cpu kernels (the direct path: up to 25 rows a side): the forward's loop per
pair in order (p=2: squares of four, or two doubles, by a vector multiply and the rest fused, as torch's build
compiles it), and for p=1 and p=2 the backward kernel's terms summed in order."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import engine

SHAPES = [(8, 6, 13), (5, 7, 3), (20, 20, 100), (3, 4, 1), (2, 9, 784)]


@pytest.mark.parametrize("dt", ["float32", "float64"])
@pytest.mark.parametrize("p", [2.0, 1.0, 3.0, 0.5, 0.0, float("inf")])
def test_cdist_values_bits(dt: str, p: float) -> None:
    rng = np.random.default_rng(2)
    for r1, r2, m in SHAPES:
        a, b = rng.standard_normal((r1, m)).astype(dt), rng.standard_normal((r2, m)).astype(dt)
        r = [mod.cdist(mod.tensor(a), mod.tensor(b), p=p).numpy().tobytes() for mod in (torch, engine)]
        assert r[0] == r[1], (r1, r2, m)


@pytest.mark.parametrize("dt", ["float32", "float64"])
@pytest.mark.parametrize("p", [2.0, 1.0])
def test_cdist_grad_bits(dt: str, p: float) -> None:
    rng = np.random.default_rng(3)
    for r1, r2, m in SHAPES:
        a, b = rng.standard_normal((r1, m)).astype(dt), rng.standard_normal((r2, m)).astype(dt)
        w = rng.standard_normal((r1, r2)).astype(dt)
        out = []
        for mod in (torch, engine):
            x, y = mod.tensor(a).requires_grad_(), mod.tensor(b).requires_grad_()
            mod.cdist(x, y, p=p).backward(mod.tensor(w))
            out.append((x.grad.numpy().tobytes(), y.grad.numpy().tobytes()))
        assert out[0] == out[1], (r1, r2, m)
