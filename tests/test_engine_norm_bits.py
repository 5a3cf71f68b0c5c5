"""Vector norms bit for bit with torch's cpu kernels: p=2 over a contiguous last dim (one accumulator per lane,
then a tail whose last size % 4 squares torch's build fuses into multiply-adds), and a general p (the C
library's pow on every element and on the sum)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import engine


@pytest.mark.parametrize("dt", ["float32", "float64"])
def test_two_norm_last_dim_bits_match_torch(dt: str) -> None:
    rng = np.random.default_rng(6)
    bad = {}
    for n in [1, 3, 4, 7, 9, 10, 12, 15, 17, 20, 31, 33, 65, 129, 1000]:
        x = (rng.standard_normal((300, n)) * 2).astype(dt)
        a = torch.tensor(x).norm(dim=1).numpy()
        b = engine.tensor(x).norm(dim=1).numpy()
        if a.tobytes() != b.tobytes():
            bad[n] = int((a != b).sum())
    assert bad == {}


@pytest.mark.parametrize("p", [3, 1.5, 0.5, 1, 2])
@pytest.mark.parametrize("dt", ["float32", "float64"])
def test_p_norms_bits_match_torch(p: float, dt: str) -> None:
    rng = np.random.default_rng(7)
    bad = []
    for shape, dim in [((7,), 0), ((5, 9), 1), ((5, 9), 0), ((3, 4, 33), 1), ((64, 10), 1), ((16, 16, 16), 2)]:
        x = (rng.standard_normal(shape) * 2).astype(dt)
        a = torch.tensor(x).norm(p=p, dim=dim).numpy()
        b = engine.tensor(x).norm(p=p, dim=dim).numpy()
        if a.tobytes() != b.tobytes():
            bad.append((shape, dim))
    assert bad == []


def test_linalg_vector_norm_and_normalize_bits() -> None:
    rng = np.random.default_rng(8)
    x = rng.standard_normal((50, 11)).astype(np.float32)
    for f in (lambda m, t: m.linalg.vector_norm(t, dim=-1), lambda m, t: m.nn.functional.normalize(t, dim=1)):
        assert f(torch, torch.tensor(x)).numpy().tobytes() == f(engine, engine.tensor(x)).numpy().tobytes()
