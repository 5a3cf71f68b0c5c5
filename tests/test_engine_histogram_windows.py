"""torch.histogram and the window functions (hann, hamming, bartlett, blackman, kaiser) against torch: values
(float32 and float64 windows to the last bit where torch's cos rounds as numpy's, and their printed text), dtypes,
requires_grad, the return type and its printing, histogram's NotImplemented gradient, and torch's errors."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import torch
from helpers import Arg, computed, same, same_error
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import engine

pytestmark = pytest.mark.usefixtures("device")

ok = computed
WINDOWS = ["hann_window", "hamming_window", "bartlett_window", "blackman_window", "kaiser_window"]


# ---- windows --------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", WINDOWS)
@pytest.mark.parametrize("n", [0, 1, 2, 5, 8, 33])
@pytest.mark.parametrize("periodic", [True, False])
@pytest.mark.parametrize("dt", ["float32", "float64", "float16"])
def test_window_values(name: str, n: int, periodic: bool, dt: str) -> None:
    atol = 2e-3 if dt == "float16" else 1e-6 if dt == "float32" else 1e-12
    ok(lambda T: getattr(T, name)(n, periodic=periodic, dtype=getattr(T, dt)), atol=atol, rtol=atol)


@pytest.mark.parametrize("name", ["hann_window", "hamming_window", "bartlett_window", "blackman_window"])
def test_window_prints_as_torchs(name: str) -> None:
    """torch's order of float32 steps: the same text, blackman's -2.9802e-08 at 0 included."""
    for n in (5, 8, 12):  # (printed from the cpu: a device's suffix would wrap the line differently)
        assert same(lambda T, n=n: str(getattr(T, name)(n).cpu())) == str(getattr(torch, name)(n))


def test_window_options() -> None:
    ok(lambda T: T.hamming_window(5, False, 0.3, 0.2))
    ok(lambda T: T.hamming_window(5, True, 0.3))
    ok(lambda T: T.kaiser_window(7, False, 3.0))
    ok(lambda T: T.kaiser_window(5, periodic=True, beta=3.0))
    for name in WINDOWS:
        ok(lambda T, n=name: getattr(T, n)(4, requires_grad=True))


@pytest.mark.parametrize("name", WINDOWS)
def test_window_errors(name: str) -> None:
    same_error(lambda T: getattr(T, name)(-1))
    same_error(lambda T: getattr(T, name)(4.0))
    if engine.get_default_device().type == "cpu":  # (the message spells out the tensor options, device included)
        same_error(lambda T: getattr(T, name)(4, dtype=T.int64))
    same_error(lambda T: T.hamming_window(5, alpha=0.3, beta=0.2))
    same_error(lambda T: T.kaiser_window(5, beta=3.0))


# ---- histogram ------------------------------------------------------------------------------------------------
X = np.array([1.0, 2.0, 1.0, 2.5, 4.0, -1.0])


@pytest.mark.parametrize("dt", ["float32", "float64"])
def test_histogram(dt: str) -> None:
    x = X.astype(dt)
    w = np.random.default_rng(0).random(6).astype(dt)
    edges = np.array([-1.0, 0.0, 2.0, 5.0], dt)
    ok(lambda T, a: tuple(T.histogram(a, 3)), Arg(x))
    ok(lambda T, a: tuple(T.histogram(a, 3, range=(0.0, 3.0))), Arg(x))
    ok(lambda T, a, w: tuple(T.histogram(a, 3, weight=w)), Arg(x), Arg(w))
    ok(lambda T, a: tuple(T.histogram(a, 3, density=True)), Arg(x))
    ok(lambda T, a, w: tuple(T.histogram(a, 4, weight=w, density=True)), Arg(x), Arg(w))
    ok(lambda T, a, b: tuple(T.histogram(a, b)), Arg(x), Arg(edges))
    ok(lambda T, a, b: tuple(T.histogram(a, bins=b)), Arg(x), Arg(edges))
    ok(lambda T, a: tuple(a.histogram(3)), Arg(x))
    ok(lambda T, a: tuple(a.histogram()), Arg(np.random.default_rng(1).standard_normal(500).astype(dt)))
    ok(lambda T, a: tuple(T.histogram(a, 7)), Arg(np.random.default_rng(2).standard_normal((20, 50)).astype(dt)))
    # values on the edges: the rightmost edge counts in, a value on an inner edge goes right
    ok(lambda T, a: tuple(T.histogram(a, 10, range=(0.0, 1.0))), Arg(np.array([0.1, 0.2, 0.3, 0.7, 1.0, 0.0], dt)))


def test_histogram_edges_cases() -> None:
    ok(lambda T: tuple(T.histogram(T.tensor(2.0), 3)))
    ok(lambda T: tuple(T.histogram(T.tensor([]), 3)))
    ok(lambda T: tuple(T.histogram(T.ones(4), 3)))
    ok(lambda T: tuple(T.histogram(T.tensor([1.0, 2.0, 3.0]), 2, out=(T.empty(2), T.empty(3)))))


def test_histogram_return_type_and_gradient() -> None:
    text = same(lambda T: repr(T.histogram(T.tensor([1.0, 2.0, 3.0]), 2)))
    assert text.startswith("torch.return_types.histogram(\nhist=")
    assert "NotImplemented" in same(lambda T: repr(T.histogram(T.tensor([1.0, 2.0, 3.0], requires_grad=True), 2)))
    ok(lambda T, a: tuple(T.histogram(a, 3)), X)  # (the backward raises torch's error in both)
    same_error(lambda T: T.histogram(T.tensor([1.0, 2.0], requires_grad=True), 2).hist.sum().backward())


HISTOGRAM_ERRORS = {
    "int": lambda T: T.histogram(T.tensor([1, 2]), 3),
    "half": lambda T: T.histogram(T.ones(6).half(), 3),
    "zero_bins": lambda T: T.histogram(T.ones(3), 0),
    "negative_bins": lambda T: T.histogram(T.ones(3), -1),
    "float_bins": lambda T: T.histogram(T.ones(6), 3.5),
    "range_reversed": lambda T: T.histogram(T.ones(3), 3, range=(3.0, 0.0)),
    "range_length": lambda T: T.histogram(T.ones(6), 3, range=(0.0, 1.0, 2.0)),
    "nan": lambda T: T.histogram(T.tensor([1.0, float("nan")]), 3),
    "inf": lambda T: T.histogram(T.tensor([1.0, float("inf")]), 3),
    "weight_dtype": lambda T: T.histogram(T.ones(6), 3, weight=T.ones(6).double()),
    "weight_shape": lambda T: T.histogram(T.ones(6), 3, weight=T.ones(5)),
    "weight_scalar": lambda T: T.histogram(T.ones(6), 3, weight=T.tensor(1.0)),
    "bins_dtype": lambda T: T.histogram(T.ones(6), T.tensor([0.0, 1.0]).double()),
    "bins_one_edge": lambda T: T.histogram(T.ones(6), T.tensor([2.0])),
    "bins_2d": lambda T: T.histogram(T.ones(6), T.ones(2, 2)),
    "bins_empty": lambda T: T.histogram(T.ones(6), T.ones(0)),
}


@pytest.mark.parametrize("name", list(HISTOGRAM_ERRORS))
def test_histogram_errors(name: str) -> None:
    same_error(HISTOGRAM_ERRORS[name])


@settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    size=st.integers(0, 40),
    bins=st.integers(1, 12),
    spread=st.sampled_from([1e-3, 1.0, 100.0]),
    ranged=st.booleans(),
    seed=st.integers(0, 2**16),
)
def test_histogram_random(size: int, bins: int, spread: float, ranged: bool, seed: int) -> None:
    x = (np.random.default_rng(seed).standard_normal(size) * spread).astype("float32")
    kw: dict[str, Any] = {"range": (-spread, spread)} if ranged else {}
    ok(lambda T, a: tuple(T.histogram(a, bins, **kw)), Arg(x))
