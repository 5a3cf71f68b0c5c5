"""logsumexp against torch, bit for bit in every float dtype (torch's kernel is amax, exp, sum, log and add, each
its own kernel), its gradient, and torch's error for dim=() without keepdim."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import engine

CASES = [((7,), 0), ((5, 9), 1), ((5, 9), 0), ((3, 4, 33), -1), ((64, 10), 1), ((300, 3), 0), ((2, 1000), 1),
         ((3, 4, 5), (0, 2)), ((), 0), ((0, 3), 1), ((3, 0), 1)]  # fmt: skip


def run(mod: object, x: np.ndarray, dim: object, keepdim: bool, dt: str) -> object:
    t = mod.tensor(x, dtype=getattr(mod, dt), requires_grad=True)  # type: ignore[attr-defined]
    try:
        r = mod.logsumexp(t, dim, keepdim)  # type: ignore[attr-defined]
        (r * r).sum().backward()
    except Exception as e:  # noqa: BLE001 - the error is the outcome compared
        return type(e).__name__, str(e)
    return tuple(r.shape), r.detach().float().numpy().tobytes(), t.grad.float().numpy().tobytes()


@pytest.mark.parametrize("dt", ["float32", "float64", "float16", "bfloat16"])
@pytest.mark.parametrize("keepdim", [False, True])
def test_logsumexp_value_and_grad_bits_match_torch(dt: str, keepdim: bool) -> None:
    rng = np.random.default_rng(7)
    bad = []
    for shape, dim in CASES:
        for scale in (1.0, 5.0, 30.0):
            x = (rng.standard_normal(shape) * scale).astype(np.float32)
            if run(torch, x, dim, keepdim, dt) != run(engine, x, dim, keepdim, dt):
                bad.append((shape, dim, scale))
    assert bad == []


def test_logsumexp_infinities_match_torch() -> None:
    x = np.array([-np.inf, 1, 2, -np.inf, np.inf, 3], dtype=np.float32)
    assert run(engine, x, 0, False, "float32") == run(torch, x, 0, False, "float32")
    y = np.full((2, 3), -np.inf, dtype=np.float32)
    assert run(engine, y, 1, True, "float32") == run(torch, y, 1, True, "float32")


@pytest.mark.parametrize("shape", [(3,), (2, 3), (), (0, 2)])
@pytest.mark.parametrize("keepdim", [False, True])
def test_logsumexp_empty_dims_as_torch(shape: tuple, keepdim: bool) -> None:
    """dim=(): torch sums over every dim, and without keepdim fails adding its kept maxima back in place."""
    x = np.ones(shape, dtype=np.float32)
    assert run(engine, x, (), keepdim, "float32") == run(torch, x, (), keepdim, "float32")
