"""Ops whose derivative is zero everywhere (floor, sign, round, pow 0, div with a rounding mode, fill_, copy_'s
target, copysign's sign operand): torch's zeros_like(grad), so a negative or nan
incoming gradient gives plain zeros, not -0. or nan."""

import math

import pytest
import torch

import engine

GRAD = [-1.0, math.nan, 2.0]
X = [1.5, -2.5, 0.3]


def _grad(T, f):
    x = T.tensor(X, requires_grad=True)
    f(T, x).backward(T.tensor(GRAD))
    return x.grad


CASES = {
    "sign": lambda T, x: x.sign(),
    "floor": lambda T, x: x.floor(),
    "ceil": lambda T, x: x.ceil(),
    "trunc": lambda T, x: x.trunc(),
    "fix": lambda T, x: T.fix(x),
    "round": lambda T, x: x.round(),
    "round_decimals": lambda T, x: x.round(decimals=1),
    "pow0": lambda T, x: x**0,
    "div_floor": lambda T, x: T.div(x, T.tensor([2.0, 3.0, 4.0]), rounding_mode="floor"),
    "div_trunc_other": lambda T, x: T.div(T.tensor([2.0, 3.0, 4.0]), x, rounding_mode="trunc"),
    "sgn": lambda T, x: x.sgn(),
    "angle": lambda T, x: x.angle(),
    "copysign_other": lambda T, x: T.tensor([1.0, -1.0, 2.0]).copysign(x),
    "fill_": lambda T, x: (x * 1).fill_(2.0),
    "fill_tensor": lambda T, x: (x * 1).fill_(T.tensor(2.0)),
    "copy_": lambda T, x: (x * 1).copy_(T.tensor([1.0, 2.0, 3.0])),
}


@pytest.mark.parametrize("name", CASES)
def test_zero_derivative_is_plain_zeros(name):
    want = _grad(torch, CASES[name])
    if want._is_zerotensor():  # (torch's sgn of a real tensor hands back a ZeroTensor: no storage to read)
        want = torch.zeros(want.shape, dtype=want.dtype)
    got = _grad(engine, CASES[name])
    # (the sign of zero included)
    assert [math.copysign(1, v) for v in got.tolist()] == [math.copysign(1, v) for v in want.tolist()]
    assert not any(map(math.isnan, got.tolist()))
    assert str(got) == str(want)


def test_zero_derivative_under_create_graph_has_no_graph():
    for T in (torch, engine):
        x = T.tensor(X, requires_grad=True)
        (g,) = T.autograd.grad(x.floor().sum(), x, create_graph=True)
        assert g.grad_fn is None and not g.requires_grad
