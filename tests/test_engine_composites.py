"""rot90, diff, dstack, column_stack, atleast_*, kron, dist, cross, cartesian_prod, isin, searchsorted,
bucketize and tril/triu_indices against PyTorch: values, the node on top, gradients, errors."""

from __future__ import annotations

import warnings

import pytest
from helpers import same, same_error

pytestmark = pytest.mark.usefixtures("device")

GRAD_CASES = {
    "rot90": lambda T, x: T.rot90(x),
    "rot90_2": lambda T, x: T.rot90(x, 2),
    "rot90_neg_dims": lambda T, x: x.rot90(-1, [1, 0]),
    "rot90_0": lambda T, x: T.rot90(x, 0),
    "diff": lambda T, x: T.diff(x),
    "diff_n2": lambda T, x: T.diff(x, n=2, dim=1),
    "diff_append": lambda T, x: T.diff(x, dim=0, append=T.ones(1, 3)),
    "diff_prepend": lambda T, x: T.diff(x, prepend=T.zeros(2, 1)),
    "dstack": lambda T, x: T.dstack([x, x]),
    "column_stack": lambda T, x: T.column_stack([x[0], x[1]]),
    "atleast_2d": lambda T, x: T.atleast_2d(x[0]),
    "atleast_3d": lambda T, x: T.atleast_3d(x),
    "atleast_1d": lambda T, x: T.atleast_1d(x[0, 0]),
    "kron": lambda T, x: T.kron(x, x),
    "kron_ranks": lambda T, x: T.kron(x[0], x),
    "dist": lambda T, x: T.dist(x, x * 2),
    "dist_1": lambda T, x: T.dist(x, T.zeros(3), 1),
    "dist_inf": lambda T, x: T.dist(x, T.zeros(3), float("inf")),
    "dist_3": lambda T, x: T.dist(x, T.zeros(3), 3),
    "cross": lambda T, x: T.cross(x.flip(1), T.ones(2, 3) * T.arange(3.0), dim=1),
    "linalg_cross": lambda T, x: T.linalg.cross(x, T.ones(1, 3)),
    "cartesian_prod": lambda T, x: T.cartesian_prod(x[0], x[1]),
}


@pytest.mark.parametrize("name", list(GRAD_CASES))
def test_values_nodes_grads(name: str) -> None:
    def fn(T: object) -> object:
        x = T.arange(6.0).reshape(2, 3).requires_grad_()
        y = GRAD_CASES[name](T, x)
        (y.reshape(-1) * T.arange(1.0, y.numel() + 1)).sum().backward()
        return y, x.grad

    same(fn)


def test_integer_lookups() -> None:
    def fn(T: object) -> object:
        seq = T.tensor([1, 3, 5, 7])
        return (
            T.isin(T.tensor([1, 2, 3]), T.tensor([2, 5])), T.isin(T.tensor([1, 2, 3]), 2),
            T.isin(T.tensor([1.0, 2.0]), T.tensor([2]), invert=True),
            T.searchsorted(seq, T.tensor([3, 6, 9])), T.searchsorted(seq, T.tensor([3, 6, 9]), right=True),
            T.bucketize(T.tensor([3, 6, 9]), seq),
            T.searchsorted(T.tensor([[1, 3, 5], [2, 4, 6]]), T.tensor([[2], [5]])),
            T.searchsorted(T.tensor([1, 3]), T.tensor([2]), out_int32=True),
            T.tril_indices(3, 3), T.triu_indices(3, 4, 1), T.tril_indices(4, 3, -1),
            T.diff(T.tensor([1, 4, 9, 16]), n=2), T.diff(T.tensor([True, False, True])),
            T.atleast_1d(T.tensor(1.0), T.tensor(2.0)), T.atleast_2d(T.tensor(1.0)),
        )  # fmt: skip

    same(fn)


@pytest.mark.parametrize(
    "call",
    [
        lambda T: T.rot90(T.arange(3), 1),
        lambda T: T.rot90(T.ones(2, 2), 1, [0, 0]),
        lambda T: T.cross(T.ones(2, 2), T.ones(2, 2)),
        lambda T: T.cross(T.ones(3, 2), T.ones(3, 2), dim=1),
        lambda T: T.linalg.cross(T.ones(2, 3), T.ones(3)),
        lambda T: T.diff(T.tensor(1.0)),
        lambda T: T.diff(T.ones(2, 3), prepend=T.tensor(5.0)),
    ],
)
def test_errors(call: object) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        same_error(call)


def test_cross_without_dim_warns() -> None:
    import engine
    from engine import warn

    warn._WARNED_ONCE.clear()  # (torch warns once per process; so does the engine)
    with pytest.warns(UserWarning, match=r"Using torch.cross without specifying the dim arg is deprecated(.|\n)*"
                                         r"\(Triggered internally at .*Cross.cpp:63.\)"):  # fmt: skip
        engine.cross(engine.ones(3, 3), engine.ones(3, 3))
