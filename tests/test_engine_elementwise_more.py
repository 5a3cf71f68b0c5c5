"""torch's further elementwise functions (engine/ops/elementwise_more.py) against PyTorch: values over dtypes,
gradients and node names, second order, the errors of torch's argument parser and kernels."""

from __future__ import annotations

import pytest
from helpers import check, same, same_error

pytestmark = pytest.mark.usefixtures("device")

VALUES = [-2.5, -1.0, -0.0, 0.0, 0.25, 0.5, 1.0, 3.0]
INSIDE = [-0.75, -0.5, -0.0, 0.0, 0.25, 0.5, 0.9]  # atanh's domain
ABOVE = [1.0, 1.5, 2.0, 10.0]  # acosh's domain

UNARY = {
    "asinh": VALUES,
    "arcsinh": VALUES,
    "acosh": ABOVE,
    "atanh": INSIDE,
    "deg2rad": VALUES,
    "rad2deg": VALUES,
    "sgn": VALUES,
    "fix": VALUES,
    "sinc": VALUES,
}


@pytest.mark.parametrize("name", list(UNARY))
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_unary_values_grads_second_order(name: str, dtype: str) -> None:
    def fn(T: object) -> object:
        x = T.tensor(UNARY[name], dtype=getattr(T, dtype), requires_grad=True)
        y = getattr(T, name)(x)
        w = T.linspace(0.5, 2.0, len(UNARY[name]), dtype=getattr(T, dtype))
        (g,) = T.autograd.grad((y * w).sum(), x, create_graph=True)
        (gg,) = T.autograd.grad((g * w).sum(), x, allow_unused=True, materialize_grads=True)
        return y, g.detach(), gg, getattr(x.detach(), name)()

    same(fn)


PLAIN = ["asinh", "deg2rad", "rad2deg", "sgn", "fix", "sinc", "signbit", "isposinf", "isneginf"]


@pytest.mark.parametrize("name", PLAIN)
@pytest.mark.parametrize("dtype", ["int64", "bool", "float16"])
def test_unary_dtypes(name: str, dtype: str) -> None:
    same(lambda T: getattr(T, name)(T.tensor([1, 0, -2, 3], dtype=getattr(T, dtype))))


def test_predicates_on_infinities() -> None:
    same(lambda T: [f(T.tensor([float("inf"), -float("inf"), -0.0, 0.0, float("nan"), -1.0])) for f in
                    (T.signbit, T.isposinf, T.isneginf)])  # fmt: skip


def test_inplace_forms() -> None:
    def fn(T: object) -> object:
        x = T.tensor([0.5, -0.25, 0.75])
        x.asinh_()
        x.deg2rad_()
        return x

    same(fn)


PAIRS = {
    "hypot": ([3.0, -1.0, 0.0, 2.0], [4.0, 2.0, 0.5, -2.0]),
    "logaddexp": ([0.0, -1.0, 5.0, 2.0], [0.0, 3.0, -5.0, 2.5]),
    "logaddexp2": ([0.0, -1.0, 5.0, 2.0], [0.0, 3.0, -5.0, 2.5]),
    "fmax": ([1.0, float("nan"), 3.0, -1.0], [2.0, 1.0, float("nan"), -1.0]),
    "fmin": ([1.0, float("nan"), 3.0, -1.0], [2.0, 1.0, float("nan"), -1.0]),
    "copysign": ([1.0, -2.0, 0.0, 3.0], [-1.0, 2.0, -0.0, -0.0]),
    "xlogy": ([0.0, 2.0, 1.5, 0.0], [0.0, 3.0, 0.5, float("nan")]),
}


@pytest.mark.parametrize("name", list(PAIRS))
def test_binary_values_and_grads(name: str) -> None:
    a, b = PAIRS[name]

    def fn(T: object) -> object:
        x = T.tensor(a, requires_grad=True)
        y = T.tensor(b, requires_grad=True)
        r = getattr(T, name)(x, y)
        (r * T.tensor([1.0, 2.0, 3.0, 4.0])).sum().backward()
        return r, x.grad, y.grad, getattr(x.detach(), name)(y.detach())

    same(fn)


@pytest.mark.parametrize("name", list(PAIRS))
def test_binary_broadcast_grads(name: str) -> None:
    check(lambda T, x, y: getattr(T, name)(x, y), _arr((3, 1), 0), _arr((4,), 1))


def _arr(shape: tuple, seed: int) -> object:
    from helpers import make

    return make(shape, low=0.5, high=3.0, seed=seed)


@pytest.mark.parametrize(
    "call",
    [
        lambda T: T.hypot(T.tensor([1, 2]), T.tensor([3, 4])),
        lambda T: T.hypot(T.tensor([1.0, 2.0]), 2),
        lambda T: T.logaddexp(T.tensor([1, 2]), T.tensor([3, 4])),
        lambda T: T.fmax(T.tensor([1.0]), 2),
        lambda T: T.logaddexp2(T.tensor([1.0]), 2.0),
    ],
)
def test_binary_errors(call: object) -> None:
    same_error(call)


def test_binary_dtypes_and_scalars() -> None:
    def fn(T: object) -> object:
        i, j = T.tensor([1, 2]), T.tensor([3, 4])
        f = T.tensor([1.0, -2.0])
        wide = T.tensor([3.0], dtype=T.float64)
        return (T.fmax(i, j), T.fmin(i, j), T.copysign(i, j), T.copysign(f, 2), T.copysign(f, -1.5),
                T.xlogy(i, j), T.xlogy(f.abs(), 2), T.xlogy(2, j), T.hypot(f, wide))  # fmt: skip

    same(fn)
