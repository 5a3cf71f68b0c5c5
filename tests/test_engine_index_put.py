"""index_put / index_put_ / torch.index_put and put / put_ / torch.put against PyTorch: values (repeated
indices replaced or summed), broadcast values, masks, gradients for self and values, nodes and errors."""

from __future__ import annotations

import numpy as np
import pytest
from helpers import check, same, same_error
from hypothesis import given, settings
from hypothesis import strategies as st

import engine
from engine.autograd import gradcheck

pytestmark = pytest.mark.usefixtures("device")


@settings(max_examples=25, deadline=None)
@given(
    rows=st.integers(1, 4),
    cols=st.integers(1, 5),
    n=st.integers(0, 6),
    accumulate=st.booleans(),
    seed=st.integers(0, 2**16),
)
def test_index_put_random_shapes_values_and_grads(rows: int, cols: int, n: int, accumulate: bool, seed: int) -> None:
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((rows, cols)).astype(np.float32)
    i0 = rng.integers(-rows, rows, n).tolist()
    i1 = rng.integers(-cols, cols, n).tolist()
    v = rng.standard_normal(n).astype(np.float32)

    def fn(T: object, x: object, v: object) -> object:
        return T.index_put(x, (T.tensor(i0, dtype=T.int64), T.tensor(i1)), v, accumulate) * 2

    check(fn, x, v)


CASES = {
    "rows_broadcast_value": lambda T, x, v: x.index_put((T.tensor([0, 2, 0]),), v[:1], accumulate=True),
    "column_value": lambda T, x, v: x.index_put((T.tensor([1, 2]),), v[:2].reshape(2, 1)),
    "mask": lambda T, x, v: x.index_put((x.detach() > 0,), v[:1].sum()),
    "mask_accumulate": lambda T, x, v: x.index_put((x.detach() > 0,), v[:1].sum(), True),
    "row_mask": lambda T, x, v: x.index_put((T.tensor([True, False, True]),), v),
    "2d_index": lambda T, x, v: x.index_put((T.tensor([[0, 1], [1, 1]]), T.tensor([3])), v[:2], accumulate=True),
    "int32_and_0d": lambda T, x, v: x.index_put([T.tensor(1), T.tensor([0, -1], dtype=T.int32)], v[1:3]),
    "in_place": lambda T, x, v: (x * 1).index_put_((T.tensor([2, 2]),), v, accumulate=True),
    "in_place_replace": lambda T, x, v: (x * 1).index_put_((T.tensor([2, 0]), T.tensor([1, 1])), v[0]),
    "uint8_mask": lambda T, x, v: x.index_put((T.tensor([1, 0, 1], dtype=T.uint8),), v),
}


def test_uint8_index_warns_as_torch_does() -> None:
    with pytest.warns(UserWarning, match="indexing with dtype torch.uint8 is now deprecated"):
        engine.zeros(3).index_put((engine.tensor([1, 0, 1], dtype=engine.uint8),), engine.ones(2))


@pytest.mark.parametrize("name", list(CASES))
@pytest.mark.filterwarnings("ignore:indexing with dtype torch.uint8")
def test_index_put_cases(name: str) -> None:
    x = np.arange(12, dtype=np.float32).reshape(3, 4) - 5
    v = np.array([1.5, -2.0, 3.0, 4.0], dtype=np.float32)
    check(lambda T, x, v: CASES[name](T, x, v) * T.arange(4.0), x, v)


def test_integer_and_bool_tensors_accumulate() -> None:
    same(lambda T: T.tensor([1, 2]).index_put((T.tensor([1, 1]),), T.tensor(7), accumulate=True))
    same(lambda T: T.tensor([True, False]).index_put((T.tensor([1]),), T.tensor(True), accumulate=True))
    same(lambda T: T.tensor([1.0, 2.0], dtype=T.float64).index_put_((T.tensor([0]),), T.tensor([5.0], dtype=T.float64)))


def test_index_put_gradcheck() -> None:
    x = engine.randn(3, 4, dtype=engine.float64, requires_grad=True)
    v = engine.randn(2, 1, dtype=engine.float64, requires_grad=True)
    i = (engine.tensor([0, 2]),)
    assert gradcheck(lambda x, v: x.index_put(i, v), (x, v))
    assert gradcheck(lambda x, v: x.index_put(i, v, accumulate=True), (x, v))
    j = (engine.tensor([1, 1, 0]), engine.tensor([2, 2, 3]))
    w = engine.randn(3, dtype=engine.float64, requires_grad=True)
    assert gradcheck(lambda x, v: engine.index_put(x, j, v, True), (x, w))
    k = (engine.tensor([1, 0, 0]), engine.tensor([2, 2, 3]))  # (replacing at a repeated position has no one gradient)
    assert engine.autograd.gradgradcheck(lambda x, v: x.index_put(k, v) ** 2, (x, w))


INDEX_PUT_ERRORS = {
    "dtype": lambda T: T.zeros(3, 4).index_put((T.tensor([0]),), T.tensor(1.0, dtype=T.float64)),
    "long_values": lambda T: T.zeros(3, 4).index_put((T.tensor([0, 1]),), T.tensor([2])),
    "bounds": lambda T: T.zeros(3, 4).index_put((T.tensor([0, 5]),), T.tensor(1.0)),
    "negative_bounds": lambda T: T.zeros(3, 4).index_put((T.tensor([0, 1]), T.tensor([-5, 1])), T.tensor(2.0), True),
    "float_index": lambda T: T.zeros(3, 4).index_put((T.tensor([0.0, 1.0]),), T.tensor(1.0)),
    "too_many": lambda T: T.zeros(3, 4).index_put((T.tensor([0]),) * 3, T.tensor(1.0)),
    "0d_self": lambda T: T.tensor(5.0).index_put((T.tensor(True),), T.tensor(2.0)),
    "value_shape": lambda T: T.zeros(3, 4).index_put((T.tensor([0, 1]),), T.ones(3)),
    "value_rank": lambda T: T.zeros(3, 4).index_put((T.tensor([0, 1]),), T.ones(2, 4, 1)),
    "mask_shape": lambda T: T.zeros(3, 4).index_put((T.tensor([True, False]),), T.tensor(2.0)),
    "index_broadcast": lambda T: T.zeros(3, 4).index_put((T.tensor([0, 1]), T.tensor([0, 1, 2])), T.tensor(2.0)),
    "uint8_scalar_fill": lambda T: T.zeros(3, 4).index_put_((T.tensor([1, 0, 1], dtype=T.uint8),), T.tensor(2.0)),
    "none_entry": lambda T: T.zeros(3, 4).index_put_((T.tensor([0]), None), T.tensor(2.0)),
    "list_entry": lambda T: T.index_put(T.zeros(3, 4), ([0, 1],), T.tensor(2.0)),
    "tensor_indices": lambda T: T.zeros(3, 4).index_put(T.tensor([0, 1]), T.tensor(2.0)),
    "float_values": lambda T: T.zeros(3, 4).index_put((T.tensor([0, 1]),), 2.0),
    "accumulate_int": lambda T: T.zeros(3, 4).index_put((T.tensor([0, 1]),), T.tensor(2.0), accumulate=1),
    "empty_tuple": lambda T: T.zeros(3, 4).index_put((), T.tensor(2.0)),
    "leaf": lambda T: T.zeros(3, requires_grad=True).index_put_((T.tensor([0]),), T.tensor(1.0)),
    "no_values": lambda T: T.index_put(T.zeros(3), (T.tensor([0]),)),
    "no_values_in_place": lambda T: T.zeros(3).index_put_((T.tensor([0]),)),
    "no_arguments": lambda T: T.zeros(3).index_put(),
}


@pytest.mark.parametrize("name", list(INDEX_PUT_ERRORS))
@pytest.mark.filterwarnings("ignore:indexing with dtype torch.uint8")
def test_index_put_errors(name: str) -> None:
    same_error(INDEX_PUT_ERRORS[name])


def test_index_put_changed_index_fails_backward() -> None:
    def fn(T: object) -> object:
        x = T.zeros(3, requires_grad=True)
        i = T.tensor([0, 1])
        y = x.index_put((i,), T.ones(2))
        i.add_(1)
        y.sum().backward()

    same_error(fn)


@settings(max_examples=25, deadline=None)
@given(shape=st.sampled_from([(5,), (2, 3), (2, 1, 4), ()]), n=st.integers(0, 6), accumulate=st.booleans(),
       seed=st.integers(0, 2**16))  # fmt: skip
def test_put_random_shapes_values_and_grads(shape: tuple, n: int, accumulate: bool, seed: int) -> None:
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(shape).astype(np.float64)
    idx = rng.integers(-x.size, x.size, n).tolist()
    src = rng.standard_normal(n).astype(np.float64)

    def fn(T: object, x: object, s: object) -> object:
        return T.put(x, T.tensor(idx, dtype=T.int64), s, accumulate=accumulate) * 3

    check(fn, x, src)


def test_put_forms_and_gradcheck() -> None:
    def fn(T: object) -> object:
        x = T.arange(6.0).reshape(2, 3).requires_grad_()
        s = T.tensor([[1.0, 2.0]], requires_grad=True)
        y = x.put(T.tensor([-1, 1]), s.reshape(2))
        z = (x * 1).put_(T.tensor([[4, 4]]), s, True)
        (y * z).sum().backward()
        return y, z, x.grad, s.grad

    same(fn)
    x = engine.randn(2, 3, dtype=engine.float64, requires_grad=True)
    s = engine.randn(3, dtype=engine.float64, requires_grad=True)
    i = engine.tensor([0, 5, 0])
    assert gradcheck(lambda x, s: x.put(i, s, accumulate=True), (x, s))
    assert gradcheck(lambda x, s: x.put(i[:2], s[:2]), (x, s))


PUT_ERRORS = {
    "high": lambda T: T.ones(5).put(T.tensor([-1, 7]), T.tensor([1.0, 2.0])),
    "low": lambda T: T.ones(5).put_(T.tensor([-6, 1]), T.tensor([1.0, 2.0])),
    "numel": lambda T: T.ones(5).put(T.tensor([-1, 1]), T.tensor([1.0, 2.0, 3.0])),
    "dtype": lambda T: T.put(T.ones(5), T.tensor([-1, 1]), T.tensor([1.0, 2.0], dtype=T.float64)),
    "float_index": lambda T: T.ones(5).put(T.tensor([-1.0, 1.0]), T.tensor([1.0, 2.0])),
    "int_index": lambda T: T.ones(5).put(T.tensor([1, 1], dtype=T.int32), T.tensor([1.0, 2.0])),
    "bool_index": lambda T: T.zeros(2, 3).put_(T.tensor([True, False]), T.tensor([1.0, 2.0]), True),
    "empty_self": lambda T: T.ones(0).put(T.tensor([0]), T.tensor([1.0])),
    "float_source": lambda T: T.ones(5).put(T.tensor([1, 1]), 2.0),
    "accumulate_none": lambda T: T.zeros(2, 3).put_(T.tensor(1), T.tensor(1.0), accumulate=None),
    "leaf": lambda T: T.zeros(3, requires_grad=True).put_(T.tensor([0]), T.tensor([1.0])),
    "no_source": lambda T: T.zeros(3).put(T.tensor([0])),
    "no_source_in_place": lambda T: T.zeros(3).put_(T.tensor([0])),
}


@pytest.mark.parametrize("name", list(PUT_ERRORS))
def test_put_errors(name: str) -> None:
    same_error(PUT_ERRORS[name])
