"""torch.histogramdd against torch, the oracle: the histogram and its per-dimension edges bit for bit over random
points (hypothesis) with bins as an int, a list of ints or a list of edge tensors, with range, weight and
density; torch.return_types.histogramdd and how it prints; NotImplemented nodes; torch's errors (type and
text). The engine side runs on each device of the `device` fixture."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from helpers import check, cpu_text, make, same_error
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import engine

torch = pytest.importorskip("torch")

pytestmark = pytest.mark.usefixtures("device")

FAST = settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))


def _both(T: Any, *args: Any, **kw: Any) -> tuple:
    r = T.histogramdd(*args, **kw)
    assert type(r).__name__ == "histogramdd" and isinstance(r.bin_edges, tuple)
    return r.hist, r.bin_edges


@st.composite
def _case(draw: Any) -> tuple:
    n = draw(st.integers(1, 3))
    lead = tuple(draw(st.integers(0, 4)) for _ in range(draw(st.integers(1, 2))))
    kind = draw(st.sampled_from(["int", "ints", "tensors"]))
    counts = [draw(st.integers(1, 4)) for _ in range(n)]
    kw: dict = {}
    if kind != "tensors" and draw(st.booleans()):
        kw["range"] = [
            v for _ in range(n) for v in sorted(draw(st.sampled_from([(-1.0, 1.0), (0.0, 2.5), (0.5, 0.5)])))
        ]
    if draw(st.booleans()):
        kw["weight"] = True
    kw["density"] = draw(st.booleans())
    return lead, n, kind, counts, kw, draw(st.sampled_from(["float32", "float64"])), draw(st.integers(0, 50))


@FAST
@given(_case())
def test_random_histograms(case: tuple) -> None:
    lead, n, kind, counts, kw, dt, seed = case
    x = np.round(make(lead + (n,), dt, -2, 2, seed=seed), 1)  # (rounded: points land on edges too)
    args: list = [x]
    if kind == "int":
        bins: Any = counts[0]
    elif kind == "ints":
        bins = counts
    else:
        bins = [np.sort(make((c + 1,), dt, -2, 2, seed=seed + d)) for d, c in enumerate(counts)]
    if kw.pop("weight", False):
        args.append(make(lead, dt, 0, 3, seed=seed + 7))

    def fn(T: Any, x: Any, w: Any = None) -> tuple:
        b = [T.tensor(e) for e in bins] if kind == "tensors" else bins
        return _both(T, x, b, weight=w, **kw)

    check(fn, *args, grad=False, atol=0, rtol=0)


def test_printing_and_return_type() -> None:
    x = [[0.0, 1.0], [1.0, 0.0], [2.0, 0.0], [2.0, 2.0]]
    for kw in (dict(bins=[3, 3], weight=[1.0, 2.0, 4.0, 8.0]), dict(bins=2), dict(bins=(2, 3)),
               dict(bins=[2, 2], range=[0.0, 1.0, 0.0, 1.0], density=True)):  # fmt: skip
        got, want = (repr(T.histogramdd(T.tensor(x), **{**kw, **(
            {"weight": T.tensor(kw["weight"])} if "weight" in kw else {})})) for T in (engine, torch))  # fmt: skip
        assert cpu_text(got) == want
    assert cpu_text(repr(engine.histogramdd(engine.zeros(3, 0), bins=2))) == repr(
        torch.histogramdd(torch.zeros(3, 0), bins=2)
    )
    assert engine.return_types.histogramdd.__name__ == "histogramdd"


def test_nodes_and_given_edges() -> None:
    """torch defines no derivative: the histogram (and edges it made) carry a NotImplemented node; edges given
    as tensors come back as those tensors."""
    for T in (engine, torch):
        x = T.rand(5, 2, requires_grad=True)
        b = [T.tensor([0.0, 0.5, 1.0]), T.tensor([0.0, 1.0])]
        r = T.histogramdd(x, bins=b)
        assert r.bin_edges[0] is b[0] and r.bin_edges[0].grad_fn is None
        assert type(r.hist.grad_fn).__name__ == "NotImplemented"
        r = T.histogramdd(x, 2)
        assert type(r.bin_edges[1].grad_fn).__name__ == "NotImplemented"
        assert T.histogramdd(x.detach(), 2).hist.grad_fn is None


def test_histogramdd_errors() -> None:
    x = lambda T: T.tensor([[0.0, 1.0], [1.0, 0.0], [2.0, 0.0]])  # noqa: E731
    t = lambda T, *v: T.tensor(list(v))  # noqa: E731
    for fn in (lambda T: T.histogramdd(x(T)), lambda T: T.histogramdd(x(T), bins=2.5),
               lambda T: T.histogramdd(x(T), "a"), lambda T: T.histogramdd(x(T), bins=[2]),
               lambda T: T.histogramdd(x(T), bins=[2, 2, 2]), lambda T: T.histogramdd(x(T), bins=0),
               lambda T: T.histogramdd(x(T), bins=[2, 0]), lambda T: T.histogramdd(x(T), 2, range=[0.0, 1.0]),
               lambda T: T.histogramdd(x(T), 2, range=[1.0, 0.0, 0.0, 1.0]), lambda T: T.histogramdd(x(T).long(), 2),
               lambda T: T.histogramdd(x(T).half(), 2), lambda T: T.histogramdd(x(T)[0], 2),
               lambda T: T.histogramdd(x(T), 2, weight=T.ones(2)),
               lambda T: T.histogramdd(x(T), 2, weight=T.ones(3).double()),
               lambda T: T.histogramdd(x(T), [t(T, 0.0, 1.0), T.tensor([[0.0, 1.0]])]),
               lambda T: T.histogramdd(x(T), [t(T, 0.0, 1.0), t(T, 0.0, 1.0).double()]),
               lambda T: T.histogramdd(x(T), [t(T, 1.0), t(T, 0.0, 1.0)]),
               lambda T: T.histogramdd(x(T), [t(T, 0.0, 1.0)]),
               lambda T: T.histogramdd(T.tensor([[1.0, float("inf")]]), bins=2),
               lambda T: T.histogramdd(T.tensor([[1.0, float("nan")]]), bins=2)):  # fmt: skip
        same_error(fn)
    check(lambda T: _both(T, x(T), [t(T, 1.0, 0.0), t(T, 0.0, 1.0)]), grad=False)  # (decreasing edges: all outside)
    check(lambda T: _both(T, x(T), 2, (0, 1, 0, 1), None, True), grad=False)
    check(lambda T: _both(T, input=x(T), bins=2), grad=False)
