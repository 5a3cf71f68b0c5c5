"""index_fill/index_copy/masked_scatter and the in-place forms of functions with operands (x.eq_(y),
x.remainder_(2), x.index_add_(...)) against PyTorch: values, gradients, nodes, errors."""

from __future__ import annotations

import warnings

import pytest
from helpers import same, same_error

pytestmark = pytest.mark.usefixtures("device")


def test_index_fill_copy_scatter_values_grads_nodes() -> None:
    def fn(T: object) -> object:
        a = T.arange(6.0).reshape(3, 2).requires_grad_()
        s = T.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
        v = T.tensor(7.0, requires_grad=True)
        m = T.tensor([[True, False], [False, True], [True, True]])
        src = T.arange(10.0, 16.0).reshape(3, 2).requires_grad_()
        f0 = a.index_fill(0, T.tensor([1]), 3.0)
        f1 = T.index_fill(a, 1, T.tensor([0]), v)
        c = a.index_copy(0, T.tensor([2, 0]), s * 2)
        ms = a.masked_scatter(m, src)
        w = T.arange(6.0).reshape(3, 2)
        ((f0 + f1 + c + ms) * w).sum().backward()
        return f0, f1, c, ms, a.grad, s.grad, v.grad, src.grad

    same(fn)


def test_masked_scatter_broadcast_mask() -> None:
    def fn(T: object) -> object:
        a = T.zeros(2, requires_grad=True)
        r = a.masked_scatter(T.tensor([[True, False], [False, True]]), T.arange(4.0))
        r.sum().backward()
        return r, a.grad

    same(fn)


INPLACE = {
    "eq_": lambda T: T.tensor([1.0, 2.0, 3.0]).eq_(2),
    "lt_int": lambda T: T.tensor([1, 2]).lt_(1.5),
    "ge_tensor": lambda T: T.tensor([1.0, 2.0]).ge_(T.tensor([2.0, 1.0])),
    "remainder_": lambda T: T.tensor([5.0, -3.0]).remainder_(2),
    "fmod_": lambda T: T.tensor([5.0, -3.0]).fmod_(2),
    "atan2_": lambda T: T.tensor([1.0, -1.0]).atan2_(T.tensor([2.0, 2.0])),
    "round_": lambda T: T.tensor([1.26, 2.5]).round_(decimals=1),
    "logical_not_": lambda T: T.tensor([1.0, 0.0]).logical_not_(),
    "logical_and_": lambda T: T.tensor([1.0, 0.0]).logical_and_(T.tensor([1.0, 1.0])),
    "nan_to_num_": lambda T: T.tensor([float("nan"), 1.0]).nan_to_num_(0.5),
    "float_power_": lambda T: T.tensor([2.0], dtype=T.float64).float_power_(2),
    "index_add_": lambda T: T.zeros(3).index_add_(0, T.tensor([0, 0]), T.ones(2), alpha=2),
    "index_fill_": lambda T: T.zeros(3, 2).index_fill_(0, T.tensor([0, 2]), -1.0),
    "index_copy_": lambda T: T.zeros(3, 2).index_copy_(0, T.tensor([2, 0]), T.ones(2, 2)),
    "masked_scatter_": lambda T: T.zeros(2, 2).masked_scatter_(T.tensor([[True, False], [False, True]]), T.arange(4.0)),
    "hypot_": lambda T: T.tensor([3.0]).hypot_(T.tensor([4.0])),
    "copysign_": lambda T: T.tensor([3.0]).copysign_(-1),
}


@pytest.mark.parametrize("name", list(INPLACE))
def test_inplace_forms(name: str) -> None:
    same(INPLACE[name])


ERRORS = {
    "float_power_float": lambda T: T.tensor([2.0]).float_power_(2),
    "eq_grows": lambda T: T.tensor([1.0]).eq_(T.tensor([1.0, 2.0])),
    "remainder_int_by_float": lambda T: T.tensor([5]).remainder_(2.5),
    "index_copy_dtype": lambda T: T.zeros(3).index_copy_(0, T.tensor([0]), T.ones(1, dtype=T.float64)),
    "index_fill_2d_value": lambda T: T.zeros(3).index_fill(0, T.tensor([0]), T.ones(2)),
    "masked_scatter_dtype": lambda T: T.zeros(2).masked_scatter(T.tensor([True, True]), T.ones(2, dtype=T.int64)),
    "leaf_inplace": lambda T: T.ones(2, requires_grad=True).eq_(1),
    # scatter-style writes never promote or cast their source (torch checks dtypes before anything else)
    "scatter_src_dtype": lambda T: T.ones(2, 3).scatter(1, T.tensor([[0]]), T.ones(1, 1, dtype=T.int64)),
    "scatter__src_dtype": lambda T: T.ones(2, 3).scatter_(1, T.tensor([[0]]), T.ones(1, 1, dtype=T.float64)),
    "scatter_0d_src_dtype": lambda T: T.ones(2, 3).scatter(1, T.tensor([[0]]), T.tensor(2)),
    "scatter_0d_src": lambda T: T.ones(2, 3).scatter(1, T.tensor([[0]]), T.tensor(2.0)),
    "scatter_float_index": lambda T: T.ones(2, 3).scatter(1, T.tensor([[0.0]]), T.ones(1, 1, dtype=T.int64)),
    "scatter_add_src_dtype": lambda T: T.ones(2, 3).scatter_add(1, T.tensor([[0]]), T.ones(1, 1, dtype=T.int64)),
    "scatter_add__src_dtype": lambda T: T.ones(2, 3).scatter_add_(1, T.tensor([[0]]), T.ones(1, 1, dtype=T.int64)),
    "index_add_src_dtype": lambda T: T.ones(2, 3).index_add(1, T.tensor([0]), T.ones(2, 1, dtype=T.float64)),
    "index_add__src_dtype": lambda T: T.ones(2, 3, dtype=T.int64).index_add_(1, T.tensor([0]), T.ones(2, 1)),
    "index_add_float_index": lambda T: T.ones(2, 3).index_add(1, T.tensor([0.0]), T.ones(2, 1)),
    "index_add_2d_index": lambda T: T.ones(2, 3).index_add(1, T.tensor([[0]]), T.ones(2, 1)),
    "index_copy_long_src": lambda T: T.ones(2, 3).index_copy(1, T.tensor([0]), T.ones(2, 1, dtype=T.int64)),
    "masked_scatter_double": lambda T: T.ones(2).masked_scatter_(T.tensor([True, True]), T.ones(2, dtype=T.float64)),
}


@pytest.mark.parametrize("name", list(ERRORS))
def test_errors(name: str) -> None:
    same_error(ERRORS[name])


def test_an_empty_device_array_is_writeable_whatever_its_strides() -> None:
    """Seen on a GPU: cupy gave an empty (0, 1, 4, 5) index result zero strides, and copying a gradient into
    it (backward of an empty indexed write) raised the overlapping-memory error."""
    from types import SimpleNamespace

    from engine.ops.inplace import writeable

    assert writeable(SimpleNamespace(size=0, shape=(0, 1, 4, 5), strides=(0, 0, 0, 0)))
    assert not writeable(SimpleNamespace(size=20, shape=(1, 4, 5), strides=(0, 0, 4)))  # an expanded view
    assert writeable(SimpleNamespace(size=20, shape=(1, 4, 5), strides=(80, 20, 4)))


def test_scatter_with_reduce_combines_in_index_order() -> None:
    def fn(T: object) -> object:
        idx = T.tensor([[2, 2], [3, 0]])
        out = [
            T.full((2, 4), 2.0).scatter_(1, T.tensor([[2], [3]]), 1.23, reduce="multiply"),
            T.full((2, 4), 2.0).scatter(1, idx, 1.5, reduce="add"),
            T.zeros(5).scatter_(0, T.tensor([1, 1, 3]), T.tensor([1.0, 2.0, 3.0]), reduce="add"),
            T.ones(5, dtype=T.int64).scatter_(0, T.tensor([1, 1, 3]), 2, reduce="multiply"),
            T.ones(2, 3).scatter(1, T.tensor([[0, 0], [2, 1]]), T.arange(6.0).reshape(2, 3), reduce="multiply"),
        ]
        y = T.full((2, 4), 2.0, requires_grad=True).scatter(1, idx, 1.5, reduce="add")
        return (*out, y.requires_grad, type(y.grad_fn).__name__)

    with warnings.catch_warnings():  # (torch and the engine warn once per process, for the tensor src)
        warnings.simplefilter("ignore")
        same(fn)


@pytest.mark.parametrize(
    "fn",
    [
        lambda T: T.zeros(3).scatter(0, T.tensor([0]), 1.0, reduce="mean"),
        lambda T: T.zeros(3).scatter_(0, T.tensor([0]), T.ones(1), reduce="sum"),
        lambda T: T.ones(3, requires_grad=True).scatter(0, T.tensor([0]), 2.0, reduce="add").sum().backward(),
    ],
)
def test_scatter_reduce_argument_errors(fn: object) -> None:
    same_error(fn)
