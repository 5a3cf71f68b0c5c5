"""var/std along dims of float64 tensors bit for bit with torch's cpu kernel: Welford's running mean and sum
of squared deviations over each output's elements in iteration order."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import engine


@pytest.mark.parametrize(
    ("shape", "dim"), [((6, 13), 1), ((13, 6), 0), ((40, 100), 1), ((3, 4, 5), (0, 2)), ((3, 4, 5), (1, 2)), ((7,), 0)]
)
@pytest.mark.parametrize("keepdim", [False, True])
@pytest.mark.parametrize("correction", [0, 1, 2])
def test_var_std_float64_bits(shape: tuple, dim: object, keepdim: bool, correction: int) -> None:
    x = np.random.default_rng(0).standard_normal(shape) * 3 + 1
    for fn in ("var", "std"):
        r = [
            getattr(m.tensor(x), fn)(dim, correction=correction, keepdim=keepdim).numpy().tobytes()
            for m in (torch, engine)
        ]
        assert r[0] == r[1], fn
    t = [m.tensor(x).t() if len(shape) == 2 else m.tensor(x) for m in (torch, engine)]  # (a strided input too)
    r = [a.var(0).numpy().tobytes() for a in t]
    assert r[0] == r[1]
