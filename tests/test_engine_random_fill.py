"""The in-place random fills against PyTorch's seeded cpu streams, bit for bit: geometric_ and log_normal_
(new), with exponential_, cauchy_ and random_ beside them, over sizes, dtypes, parameters, explicit generators,
non-contiguous tensors and the stream shared with later draws; their nodes and torch's errors."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from helpers import same, same_error
from hypothesis import given, settings
from hypothesis import strategies as st

import engine

FILLS = {
    "geometric": lambda x, a, b: x.geometric_(min(max(a, 1e-6), 1 - 1e-6)),
    "log_normal": lambda x, a, b: x.log_normal_(a * 4 - 2, b * 3 + 0.01),
    "log_normal_default": lambda x, a, b: x.log_normal_(),
    "exponential": lambda x, a, b: x.exponential_(b * 5 + 0.01),
    "cauchy": lambda x, a, b: x.cauchy_(a, b + 0.01),
    "random_to": lambda x, a, b: x.random_(int(a * 100) + 1),
    "random_from_to": lambda x, a, b: x.random_(-int(a * 50), int(b * 50) + 1),
}
FLOAT_ONLY = {"log_normal", "log_normal_default", "exponential", "cauchy"}


def _bits(e: engine.Tensor, t: torch.Tensor) -> None:
    assert str(e.dtype) == str(t.dtype) and tuple(e.shape) == tuple(t.shape)
    assert e.numpy().tobytes() == t.numpy().tobytes(), (e, t)


@settings(max_examples=80, deadline=None)
@given(
    name=st.sampled_from(sorted(FILLS)),
    n=st.sampled_from([0, 1, 5, 15, 16, 17, 100]),
    dtype=st.sampled_from(["float32", "float64", "float16", "int64", "int32", "uint8", "int8"]),
    a=st.floats(0.0, 1.0),
    b=st.floats(0.0, 1.0),
    seed=st.integers(0, 2**40),
)
def test_fills_match_torchs_stream(name: str, n: int, dtype: str, a: float, b: float, seed: int) -> None:
    if name in FLOAT_ONLY and not dtype.startswith("float"):
        dtype = "float64"
    if name.startswith("random") and dtype in ("uint8", "int8"):
        dtype = "int64"
    out = []
    for T in (torch, engine):
        T.manual_seed(seed)
        x = FILLS[name](T.empty(n, dtype=getattr(T, dtype)), a, b)
        out.append((x, T.rand(3)))  # (and the stream left behind for the next draw)
    _bits(out[1][0], out[0][0])
    _bits(out[1][1], out[0][1])


@pytest.mark.parametrize("name", ["geometric", "log_normal"])
def test_generator_non_contiguous_and_node(name: str) -> None:
    out = []
    for T in (torch, engine):
        g = T.Generator().manual_seed(11)
        fill = {"geometric": lambda x, g=g: x.geometric_(0.3, generator=g),
                "log_normal": lambda x, g=g: x.log_normal_(mean=0.2, std=0.7, generator=g)}[name]  # fmt: skip
        a = fill(T.empty(4, 3).t())
        b = fill(T.empty(5, dtype=T.float64))
        y = T.ones(3, requires_grad=True) * 2
        fill(y)
        y.sum().backward()
        out.append((a.contiguous(), b, y.grad_fn.name()))
    for te, ee in zip(out[0][:2], out[1][:2]):
        _bits(ee, te)
    assert out[1][2] == out[0][2]


def test_grad_through_a_fill_is_zero() -> None:
    def fn(T: object) -> object:
        x = T.ones(3, requires_grad=True)
        y = x * 2
        y.log_normal_()
        y.sum().backward()
        return x.grad

    same(fn)


ERRORS = {
    "p_zero": lambda T: T.empty(5).geometric_(0),
    "p_one": lambda T: T.empty(5).geometric_(1),
    "p_nan": lambda T: T.empty(5).geometric_(float("nan")),
    "p_missing": lambda T: T.empty(5).geometric_(),
    "p_str": lambda T: T.empty(5).geometric_("a"),
    "geometric_bool": lambda T: T.empty(5, dtype=T.bool).geometric_(0.5),
    "geometric_complex": lambda T: T.empty(5, dtype=T.complex64).geometric_(0.3),
    "geometric_leaf": lambda T: T.ones(5, requires_grad=True).geometric_(0.2),
    "std_zero": lambda T: T.empty(5).log_normal_(1, 0),
    "std_negative": lambda T: T.empty(5).log_normal_(1, -1),
    "log_normal_long": lambda T: T.empty(5, dtype=T.int64).log_normal_(),
    "log_normal_complex": lambda T: T.empty(5, dtype=T.complex64).log_normal_(),
}


@pytest.mark.parametrize("name", list(ERRORS))
def test_errors(name: str) -> None:
    same_error(ERRORS[name])


def test_geometric_values_are_counts() -> None:
    engine.manual_seed(0)
    x = engine.empty(2000, dtype=engine.float64).geometric_(0.25)
    assert float(x.min()) >= 1 and abs(float(x.mean()) - 4) < 0.3
    assert np.all(x.numpy() == np.round(x.numpy()))
