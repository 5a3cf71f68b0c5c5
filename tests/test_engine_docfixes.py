"""Fixes from the QA sweep of PyTorch's docstring examples (/work/qa_doc), each against PyTorch: logical ops' out=,
repeat_interleave's one-argument form and output_size=, inner on N-d and 0-d operands, resize_, inference
tensors, torch's module paths in default reprs, subscriptable data classes, and coverage additions (in-place
forms, autograd aliases, thread settings, hsplit/vsplit/dsplit, unique_consecutive, combinations)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch
from helpers import make, same

import engine

pytestmark = pytest.mark.usefixtures("device")


def outcome(fn, T):  # noqa: ANN001, ANN201
    """repr of fn(T), or the raised (type name, message)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return repr(fn(T))
    except Exception as e:  # noqa: BLE001 - the point is to compare whatever is raised
        return (type(e).__name__, str(e))


def agree(fn) -> str:  # noqa: ANN001
    t, e = outcome(fn, torch), outcome(fn, engine)
    assert e == t, f"\nengine: {e}\ntorch:  {t}"
    return t


# ---- logical ops: out= of any dtype, torch's argument errors --------------------------------------------------------
@pytest.mark.parametrize("name", ["logical_and", "logical_or", "logical_xor"])
@pytest.mark.parametrize("dt", ["bool", "int16", "uint8", "float32", "float64"])
def test_logical_binary_out(name: str, dt: str) -> None:
    a, b = make((2, 4), "int8", -2, 2), make((4,), "int8", -2, 2, seed=1)
    same(lambda T, x, y: getattr(T, name)(x, y, out=T.empty(2, 4, dtype=getattr(T, dt))), a, b)
    same(lambda T, x, y: getattr(T, name)(x, y, out=T.empty(0, dtype=getattr(T, dt))), a, b)


@pytest.mark.parametrize("name", ["logical_and", "logical_or", "logical_xor"])
def test_logical_binary_errors_and_forms(name: str) -> None:
    a = make((4,), "float32")
    cases = [
        lambda T: getattr(T, name)(T.tensor(a), T.tensor(a), out=[1]),
        lambda T: getattr(T, name)(T.tensor(a), T.tensor(a), foo=1),
        lambda T: getattr(T, name)(T.tensor(a)),
        lambda T: getattr(T, name)(T.tensor(a), 1),
        lambda T: getattr(T, name)(1, T.tensor(a)),
        lambda T: getattr(T, name)(T.ones(2, 3), T.ones(4)),
        lambda T: getattr(T.tensor(a), name)(1),
        lambda T: getattr(T.tensor(a), name)(),
        lambda T: getattr(T.tensor(a), name)(T.tensor(a), out=T.empty(4)),
        lambda T: getattr(T.tensor(a), name + "_")(1),
        lambda T: getattr(T.tensor(a), name + "_")(T.tensor(a).flip(0)),
        lambda T: getattr(T.tensor(a), name)(T.tensor(a).flip(0)),
        # no derivative: an operand or out that requires grad is fine
        lambda T: getattr(T, name)(T.ones(2, requires_grad=True), T.ones(2), out=T.empty(2)),
        lambda T: getattr(T, name)(T.ones(2), T.ones(2), out=T.empty(2, requires_grad=True)),
    ]
    for fn in cases:
        agree(fn)


def test_logical_not_out() -> None:
    x = np.array([0.0, 1.0, -10.0], dtype=np.float32)
    for dt in ("int16", "float16", "bool", "int64"):
        same(lambda T, v, d=dt: T.logical_not(v, out=T.empty(3, dtype=getattr(T, d))), x)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # (resizing a non-empty out warns)
        same(lambda T, v: T.logical_not(v, out=T.empty(1, dtype=T.bool)), x)
    for fn in (
        lambda T: T.logical_not(1),
        lambda T: T.logical_not(T.ones(2), out=[1]),
        lambda T: T.logical_not(T.ones(2), foo=1),
        lambda T: T.logical_not(T.ones(2, requires_grad=True), out=T.empty(2)),
    ):
        agree(fn)
    # the docstring's examples
    agree(lambda T: T.logical_and(T.tensor([0, 1, 10, 0], dtype=T.int8), T.tensor([4, 0, 1, 0], dtype=T.int8),
                                  out=T.empty(4, dtype=T.bool)))  # fmt: skip
    o = agree(lambda T: T.logical_not(T.tensor([0.0, 1.0, -10.0]), out=T.empty(3, dtype=T.int16)))
    assert o == "tensor([1, 0, 0], dtype=torch.int16)"
