"""repr/str of real engine tensors (and of what ops return) against torch's, on the same data:
dtypes, shapes, value ranges, nan/inf, summarization, requires_grad and grad_fn suffixes,
torch.return_types namedtuples, Size and dtype objects."""

from __future__ import annotations

import os

import numpy as np
import pytest
import torch
from helpers import DTYPES, FLOATS, make
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import engine

FAST = settings(
    max_examples=int(os.environ.get("ENGINE_EXAMPLES", "30")),
    deadline=None,
    suppress_health_check=list(HealthCheck),
)


def both(fn: object) -> None:
    t, e = fn(torch), fn(engine)
    assert repr(e) == repr(t), f"\nengine:\n{e!r}\ntorch:\n{t!r}"
    assert str(e) == str(t)


@st.composite
def arrays(draw: st.DrawFn) -> np.ndarray:
    dtype = draw(st.sampled_from(DTYPES))
    shape = tuple(draw(st.lists(st.integers(0, 5), min_size=0, max_size=3)))
    seed = draw(st.integers(0, 2**16))
    scale = draw(st.sampled_from([1.0, 1e-5, 1e3, 1e8, 123.456, 1e-10]))
    a = make(shape, dtype, -100, 100, seed=seed)
    if dtype in FLOATS:
        a = (make(shape, "float64", -3, 3, seed=seed) * scale).astype(dtype)
        if a.size and draw(st.booleans()):
            flat = a.reshape(-1)
            flat[draw(st.integers(0, a.size - 1))] = draw(st.sampled_from([np.nan, np.inf, -np.inf, 0.0, -0.0]))
        if a.size and draw(st.booleans()):
            a = np.round(a)  # integral-valued floats print without decimals
    return a


@given(a=arrays())
@FAST
def test_repr_of_random_tensors(a: np.ndarray) -> None:
    both(lambda T: T.tensor(a))


@given(a=arrays(), op=st.sampled_from(["leaf", "mul", "sum", "view", "slice", "exp", "t", "mean", "relu"]))
@FAST
def test_repr_with_autograd_suffixes(a: np.ndarray, op: str) -> None:
    if a.dtype.kind != "f" or a.ndim < 1:
        a = make((2, 3), "float32", seed=a.size)
    ops = {
        "leaf": lambda x: x, "mul": lambda x: x * 2, "sum": lambda x: x.sum(), "view": lambda x: x.view(-1),
        "slice": lambda x: x[..., :1], "exp": lambda x: x.exp(), "t": lambda x: x.transpose(0, -1),
        "mean": lambda x: x.mean(0), "relu": lambda x: x.relu(),
    }  # fmt: skip
    both(lambda T: ops[op](T.tensor(a, requires_grad=True)))


@pytest.mark.parametrize(
    "fn",
    [
        lambda T: T.arange(2000.0),
        lambda T: T.arange(2000).reshape(40, 50),
        lambda T: T.arange(1001.0).reshape(7, 11, 13)[:, :, :7] / 3,
        lambda T: T.zeros(0, 3),
        lambda T: T.zeros(2, 0, dtype=T.int64),
        lambda T: T.tensor([], dtype=T.float64),
        lambda T: T.tensor(3.5),
        lambda T: T.tensor(-0.0),
        lambda T: T.tensor(True),
        lambda T: T.tensor(7, dtype=T.uint8),
        lambda T: T.tensor([1e-8, 1.0, 1e8]),
        lambda T: T.tensor([0.1, 0.25, 100.0], dtype=T.float16),
        lambda T: T.tensor([float("nan"), float("inf"), -float("inf")], dtype=T.float64),
        lambda T: T.ones(3, requires_grad=True),
        lambda T: T.ones(2, requires_grad=True, dtype=T.float64) * 3,
        lambda T: T.ones(2, requires_grad=True).sum(),
        lambda T: T.ones(2, 2, requires_grad=True).mean(),
        lambda T: T.ones(2, 2, requires_grad=True) @ T.ones(2, 2),
        lambda T: T.ones(2, 2, requires_grad=True)[T.tensor([0])],
        lambda T: T.ones(3, requires_grad=True).detach(),
        lambda T: T.ones(3, requires_grad=True).unbind(0),
        lambda T: T.ones(4, requires_grad=True).split(2),
        lambda T: T.ones(2, 3, requires_grad=True).chunk(2, 1),
        lambda T: T.tensor([[1.0, 5.0, 2.0], [3.0, 0.0, 4.0]]).max(dim=1),
        lambda T: T.tensor([[1.0, 5.0, 2.0], [3.0, 0.0, 4.0]]).min(0, keepdim=True),
        lambda T: T.tensor([[1.0, 5.0, 2.0], [3.0, 0.0, 4.0]], requires_grad=True).max(1),
        lambda T: T.tensor([3, 1, 2]).sort(),
        lambda T: T.tensor([3.0, 1.0, 2.0], requires_grad=True).sort(descending=True),
        lambda T: T.tensor([[3.0, 1.0], [2.0, 5.0]], dtype=T.float64).sort(dim=0, stable=True),
        lambda T: T.tensor([[1, 5], [7, 3]]).max(1).values,
        lambda T: T.ones(2, 3).shape,
        lambda T: T.ones(2, 3).size(),
        lambda T: T.Size([]),
        lambda T: (T.float32, T.int64, T.bool, T.float16, T.uint8),
        lambda T: T.tensor([1, 2]).dtype,
        lambda T: [T.tensor(1.5), T.tensor([2])],
        lambda T: {"a": T.tensor([1.25])},
        lambda T: T.ones(2, requires_grad=True).grad,
    ],
)
def test_repr_cases(fn: object) -> None:
    both(fn)


def test_printoptions_round_trip() -> None:
    def fn(T: object) -> object:
        x = T.tensor([1.123456789, 22.5, 333.0])
        T.set_printoptions(precision=2)
        try:
            a = repr(x)
        finally:
            T.set_printoptions(precision=4)
        T.set_printoptions(sci_mode=True)
        try:
            b = repr(x)
        finally:
            T.set_printoptions(sci_mode=None)
        return a + b + repr(x)

    assert fn(engine) == fn(torch)


def test_format_and_item_printing() -> None:
    for spec in (".3f", "", ".2e"):
        assert format(engine.tensor(2.5), spec) == format(torch.tensor(2.5), spec)
    assert f"{engine.tensor(3)}" == f"{torch.tensor(3)}"
    assert str(engine.tensor([1.5]).item()) == str(torch.tensor([1.5]).item())
