"""Gradients whose formulas torch groups in its own way, bit for bit for a non-uniform incoming gradient: hypot
(divides by the result), dist (norm_backward of self - other), glu (its kernel's (1 - s) * s * a * grad) and
einsum's bmm (bmm's own kernel in the backward, not a folded matmul)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import engine

RNG = np.random.default_rng(21)
A, B = RNG.standard_normal((6, 13)).astype(np.float32), RNG.standard_normal((6, 13)).astype(np.float32)
C = RNG.standard_normal((6, 14)).astype(np.float32)
D = RNG.standard_normal((5, 13)).astype(np.float32)

CASES = {
    "hypot": (lambda m, a, b: m.hypot(a, b), (A, B)),
    "dist2": (lambda m, a, b: m.dist(a, b), (A, B)),
    "dist3": (lambda m, a, b: m.dist(a, b, 3), (A, B)),
    "dist1": (lambda m, a, b: m.dist(a, b, 1), (A, B)),
    "glu": (lambda m, c: m.nn.functional.glu(c, 1), (C,)),
    "einsum": (lambda m, a, d: m.einsum("ij,kj->ik", a, d), (A, D)),
}


@pytest.mark.parametrize("name", list(CASES))
def test_grad_bits(name: str) -> None:
    fn, arrays = CASES[name]
    out = []
    for m in (torch, engine):
        ts = [m.tensor(a).requires_grad_() for a in arrays]
        y = fn(m, *ts)
        y.backward(m.tensor(np.random.default_rng(1).standard_normal(tuple(y.shape)).astype(np.float32)))
        out.append([y.detach().numpy().tobytes()] + [t.grad.numpy().tobytes() for t in ts])
    assert out[0] == out[1]
