"""xlogy bit for bit with torch in every float dtype: for bfloat16 torch's kernel rounds the log to bfloat16
before the product (c10's std::log of a BFloat16 returns one)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import engine


@pytest.mark.parametrize("dt", ["bfloat16", "float16", "float32", "float64"])
@pytest.mark.parametrize("form", ["tensors", "scalar_other", "scalar_self"])
def test_xlogy_bits_match_torch(dt: str, form: str) -> None:
    rng = np.random.default_rng(3)
    x = (rng.random(400) * 5).astype(np.float32)
    x[::7] = 0
    y = np.abs(rng.standard_normal(400) * 3).astype(np.float32)
    y[::11] = 0

    def run(mod: object) -> bytes:
        t = lambda v: mod.tensor(v).to(getattr(mod, dt))  # type: ignore[attr-defined]  # noqa: E731
        if form == "tensors":
            r = mod.xlogy(t(x), t(y))  # type: ignore[attr-defined]
        elif form == "scalar_other":
            r = mod.xlogy(t(x), 2.7)  # type: ignore[attr-defined]
        else:
            r = mod.xlogy(3.3, t(y))  # type: ignore[attr-defined]
        return r.float().numpy().tobytes()

    assert run(engine) == run(torch)


def test_xlogy_bfloat16_grad_matches_torch() -> None:
    rng = np.random.default_rng(4)
    x = (rng.random(64) * 5).astype(np.float32)
    y = (rng.random(64) * 5 + 0.1).astype(np.float32)
    grads = []
    for mod in (torch, engine):
        a = mod.tensor(x).bfloat16().requires_grad_()
        b = mod.tensor(y).bfloat16().requires_grad_()
        mod.xlogy(a, b).sum().backward()
        grads.append((a.grad.float().numpy().tobytes(), b.grad.float().numpy().tobytes()))
    assert grads[0] == grads[1]
