"""baddbmm and addbmm bit for bit with torch's cpu kernels: below 400 multiply-adds per matrix a loop summing
in k order and then r * beta + alpha * sum; above, one addmm_ (a gemm with alpha and beta) per batch item."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import engine

SHAPES = [(3, 8, 13, 6), (2, 3, 4, 5), (4, 16, 16, 16), (3, 30, 40, 20), (1, 8, 13, 6)]
SCALARS = [(1, 1), (0.5, 2), (0, 1), (1, 0.3)]


@pytest.mark.parametrize("dt", ["float32", "float64"])
@pytest.mark.parametrize(("beta", "alpha"), SCALARS)
def test_baddbmm_and_addbmm_bits(dt: str, beta: float, alpha: float) -> None:
    rng = np.random.default_rng(3)
    for bs, n, k, m in SHAPES:
        a, b, c = (rng.standard_normal(s).astype(dt) for s in ((bs, n, m), (bs, n, k), (bs, k, m)))
        r = [
            mod.baddbmm(mod.tensor(a), mod.tensor(b), mod.tensor(c), beta=beta, alpha=alpha).numpy()
            for mod in (torch, engine)
        ]
        assert r[0].tobytes() == r[1].tobytes(), ("baddbmm", bs, n, k, m)
        r = [
            mod.addbmm(mod.tensor(a[0]), mod.tensor(b), mod.tensor(c), beta=beta, alpha=alpha).numpy()
            for mod in (torch, engine)
        ]
        assert r[0].tobytes() == r[1].tobytes(), ("addbmm", bs, n, k, m)
