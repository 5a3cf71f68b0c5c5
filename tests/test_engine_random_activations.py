"""F.rrelu / torch.rrelu / nn.RReLU and F.gumbel_softmax against torch, the oracle: under the same seed the same
random slopes and Gumbel noise (so rrelu's values and gradients are torch's bits), grad_fn names, the in-place
forms, module reprs, gradcheck in float64 and torch's errors; and torch.func.linearize (its jvp_fn against
torch's, its argument checks). The engine side runs on each device of the `device` fixture."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pytest
from helpers import check, computed, make, same_error
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import engine
from engine.autograd import gradcheck

torch = pytest.importorskip("torch")

pytestmark = pytest.mark.usefixtures("device")

FAST = settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))


def _seeded(fn: Any) -> Any:
    """fn(T, *args) run after manual_seed(0) in each library, so both draw the same numbers."""

    def run(T: Any, *args: Any) -> Any:
        T.manual_seed(0)
        return fn(T, *args)

    return run


@FAST
@given(st.lists(st.integers(0, 5), min_size=1, max_size=3), st.sampled_from(["float32", "float64"]),
       st.sampled_from([(1 / 8, 1 / 3), (0.1, 0.3), (0.2, 0.2), (0.0, 1.0)]), st.booleans(),
       st.integers(0, 99))  # fmt: skip
def test_rrelu_draws_torchs_slopes(shape: list, dt: str, bounds: tuple, training: bool, seed: int) -> None:
    """Each value <= 0 draws its slope in order (values bit for bit, gradients the slopes used)."""
    lo, hi = bounds
    x = make(tuple(shape), dt, seed=seed)
    x.reshape(-1)[::3] = 0.0  # (zeros draw too)
    check(_seeded(lambda T, a: T.nn.functional.rrelu(a, lo, hi, training=training)), x, atol=0, rtol=0,
          grad_atol=0, grad_rtol=0)  # fmt: skip


def test_rrelu_forms_and_module() -> None:
    x = make((3, 4), seed=1)
    check(_seeded(lambda T, a: T.rrelu(a, 0.2, 0.4, True)), x, atol=0, rtol=0)
    check(_seeded(lambda T, a: T.nn.functional.rrelu(a.clone(), training=True, inplace=True)), x, atol=0, rtol=0)
    check(_seeded(lambda T, a: T.rrelu_(a.clone(), 0.1, 0.2, False)), x, atol=0, rtol=0)
    check(_seeded(lambda T, a: T.nn.RReLU(0.1, 0.3)(a)), x, atol=0, rtol=0)
    check(_seeded(lambda T, a: T.nn.RReLU().eval()(a)), x, atol=0, rtol=0)
    check(_seeded(lambda T, a: [T.nn.functional.rrelu(a, training=True), T.rand(2)]), x, atol=0, rtol=0)
    check(lambda T, a: T.nn.functional.rrelu(a), make((2, 3), "float16"), grad=False, atol=0, rtol=0)
    for T in (engine, torch):
        assert repr(T.nn.RReLU()) == "RReLU(lower=0.125, upper=0.3333333333333333)"
        assert repr(T.nn.RReLU(0.1, 0.3, inplace=True)) == "RReLU(lower=0.1, upper=0.3, inplace=True)"
    x64 = engine.tensor(make((6,), "float64", seed=2), requires_grad=True)
    assert gradcheck(lambda a: engine.nn.functional.rrelu(a, training=False), (x64,))


def test_rrelu_errors() -> None:
    for fn in (lambda T: T.nn.functional.rrelu(T.arange(4), training=True),
               lambda T: T.nn.functional.rrelu(T.arange(4)),
               lambda T: T.nn.functional.rrelu(T.ones(4).half(), training=True),
               lambda T: T.nn.functional.rrelu(T.ones(4), 0.5, 0.2, training=True),
               lambda T: T.nn.functional.rrelu(T.ones(4).double(), 0.5, 0.2),
               lambda T: T.nn.functional.rrelu(T.ones(3, requires_grad=True), 0.1, 0.2, True, True)):  # fmt: skip
        same_error(fn)


@pytest.mark.parametrize("kw", [{}, {"tau": 0.5}, {"hard": True}, {"hard": True, "dim": 0, "tau": 2.0}])
def test_gumbel_softmax(kw: dict) -> None:
    """The same exponential_ noise as torch's: values and gradients to rounding, the one-hot sample exactly."""
    for dt in ("float32", "float64"):
        out = check(_seeded(lambda T, a: T.nn.functional.gumbel_softmax(a, **kw)), make((3, 5), dt), atol=1e-6)
        assert out is not None
    if kw.get("hard"):
        check(_seeded(lambda T, a: T.nn.functional.gumbel_softmax(a, **kw).argmax(-1)), make((4, 6)), grad=False)


def test_gumbel_softmax_eps_warns() -> None:
    with pytest.warns(UserWarning, match="`eps` parameter is deprecated and has no effect."):
        engine.nn.functional.gumbel_softmax(engine.zeros(2, 3), eps=1e-5)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        engine.nn.functional.gumbel_softmax(engine.zeros(2, 3))


# ---- torch.func.linearize ----------------------------------------------------------------------------------
def _pair(x: Any, y: Any) -> tuple:
    return (x.sin() * y, (x * y).sum())


def test_linearize_values_and_jvp_fn() -> None:
    x, y = make((3,), seed=3), make((3,), seed=4)
    t1, t2 = make((3,), seed=5), make((3,), seed=6)

    def run(T: Any, x: Any, y: Any, t1: Any, t2: Any) -> list:
        out, jvp_fn = T.func.linearize(_pair, x, y)
        return [out, jvp_fn(t1, t2), jvp_fn(T.ones(3), T.zeros(3)), T.func.jvp(_pair, (x, y), (t1, t2))[1]]

    computed(run, x, y, t1, t2, grad=False)
    computed(lambda T, a: T.func.linearize(lambda v: (v.exp() * 2).sum(), a)[0], make((2, 2)))  # (keeps its graph)

    def nested(T: Any, a: Any) -> Any:
        out, fn = T.func.linearize(lambda v: {"s": v.exp(), "c": [v * 2, v.sum()]}, a)
        r = fn(T.full_like(a, 0.5))
        return [out["s"], out["c"][0], r["s"], r["c"][0], r["c"][1]]

    check(nested, make((4,)), grad=False)


def test_linearize_checks_its_tangents() -> None:
    def call(*tangents: Any) -> Any:
        def fn(T: Any) -> Any:
            _, jvp_fn = T.func.linearize(_pair, T.ones(3), T.ones(3))
            return jvp_fn(*(t(T) for t in tangents))

        return fn

    for fn in (call(lambda T: T.ones(3)), call(lambda T: T.ones(4), lambda T: T.ones(3)),
               call(lambda T: T.ones(3), lambda T: T.ones(3).double()),
               call(lambda T: [T.ones(3)], lambda T: T.ones(3))):  # fmt: skip
        same_error(fn)
    out = engine.func.linearize(lambda a: a * 3, engine.ones(2))[1](engine.ones(2))
    assert out.grad_fn is None and np.array_equal(out.cpu().numpy(), [3.0, 3.0])
