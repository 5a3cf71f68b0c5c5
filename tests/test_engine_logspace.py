"""logspace against torch, bit for bit: the bounds cast to the result type, the exponents counted in double from
both ends, one pow each, and the cast of the double result (through float for the 16-bit types, x86's
truncation for integer types)."""

from __future__ import annotations

import itertools

import pytest
import torch

import engine

DTYPES = ["float64", "float32", "float16", "bfloat16", "int64", "int32", "int16", "int8", "uint8"]
GRID = list(itertools.product([-3, -1.5, 0.3, 2], [1, 2.5, -2], [0, 1, 2, 7, 50], [10.0, 2.0, 3.5, 0.5]))


def outcome(mod: object, *args: object, **kw: object) -> object:
    try:
        t = mod.logspace(*args, **kw)  # type: ignore[attr-defined]
    except Exception as e:  # noqa: BLE001 - the error is the outcome compared
        return type(e).__name__, str(e)
    return str(t.dtype), t.float().numpy().tobytes() if t.dtype == mod.bfloat16 else t.numpy().tobytes()


@pytest.mark.parametrize("dt", DTYPES)
def test_logspace_bits_match_torch(dt: str) -> None:
    bad = [
        args
        for args in GRID
        if outcome(torch, *args, dtype=getattr(torch, dt)) != outcome(engine, *args, dtype=getattr(engine, dt))
    ]
    assert bad == []


@pytest.mark.parametrize(
    "args",
    [(400, 500, 1), (400, 500, 3), (0.5, 1.5, 1, -2.0), (0.5, 1.5, 3, -2.0), (2.2, 3, 1), (0, 1, 5)],
)
@pytest.mark.parametrize("dt", ["float32", "float64", "float16", "int8", "bool"])
def test_logspace_edges_match_torch(args: tuple, dt: str) -> None:
    """Overflow to inf, nan from a negative base, one step (a checked fill: int8 overflow is an error), and
    torch's refusal of bool for more than one step."""
    assert outcome(engine, *args, dtype=getattr(engine, dt)) == outcome(torch, *args, dtype=getattr(torch, dt))


def test_logspace_default_dtype_value() -> None:
    """The first half counts up from start: torch.logspace(-3, 1, 7)[3] is exactly 0.1 in float64 (pow(10, -1))."""
    a = torch.logspace(-3, 1, 7, dtype=torch.float64).numpy()
    b = engine.logspace(-3, 1, 7, dtype=engine.float64).numpy()
    assert a.tobytes() == b.tobytes()
    assert b[3] == 0.1
