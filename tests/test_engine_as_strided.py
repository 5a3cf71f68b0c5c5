"""torch.as_strided / Tensor.as_strided / as_strided_ against PyTorch: views of the storage with any sizes,
strides and storage offset (on slices and transposes too: the offset is into the storage, not the view), their
values and gradients (AsStridedBackward0, elements read from storage outside the input dropped), that they are
views (writes show in the base, the version counter is shared), the in-place form's node, and torch's errors:
the setStorage bounds check that keeps a script's view inside its tensor's memory, negative strides, offsets
and sizes, and argument types. Random geometries are compared outcome for outcome (value or error)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from helpers import check, same, same_error
from hypothesis import given, settings
from hypothesis import strategies as st

import engine

pytestmark = pytest.mark.usefixtures("device")

X = np.arange(12, dtype=np.float32) - 5.5


@pytest.mark.parametrize(
    ("src", "size", "stride", "offset"),
    [
        (lambda x: x, (3, 4), (4, 1), None),
        (lambda x: x, (3, 4), (1, 3), None),
        (lambda x: x, (4, 3), (2, 1), 1),  # (overlapping windows: their gradients add)
        (lambda x: x, (3,), (0,), 5),
        (lambda x: x[4:], (3,), (1,), None),
        (lambda x: x[4:], (2, 3), (1, 1), 0),  # (reads storage before the slice: no gradient there)
        (lambda x: x.view(3, 4).t(), (2, 2), (1, 4), None),
        (lambda x: x * 2, (2, 2), (1, 2), 8),
        (lambda x: x, (), (), 3),
        (lambda x: x, (2, 0), (100, 1), 50),
    ],
)
def test_values_and_gradients(src: object, size: tuple, stride: tuple, offset: int | None) -> None:
    check(lambda T, x: T.as_strided(src(x), size, stride, offset), X)
    check(lambda T, x: src(x).as_strided(size, stride, offset), X)
    check(lambda T, x: src(x).as_strided(size=size, stride=stride, storage_offset=offset).exp(), X)


def test_double_backward() -> None:
    check(lambda T, x: T.autograd.grad((x * x).as_strided((3, 3), (1, 2), 2).sum(), x, create_graph=True)[0] ** 2,
          X, names=False)  # fmt: skip


def test_is_a_view_of_the_storage() -> None:
    def f(T: object) -> tuple:
        z = T.zeros(8)
        v = z[2:].as_strided((2, 2), (3, 1), 1)
        v.fill_(7.0)
        w = z.as_strided((3,), (2,))
        w.add_(1.0)
        return z, z._version, v._version, v._base is z, v.stride(), v.is_contiguous()

    same(f)


def test_storage_offset_of_the_view() -> None:
    if engine.zeros(1).device.type != "cpu":
        pytest.skip("cupy's strided views keep no base to measure an offset from")
    for T in (torch, engine):
        assert T.arange(8.0)[2:].as_strided((2, 2), (3, 1), 1).storage_offset() == 1
        assert T.arange(8.0)[2:].as_strided((2,), (3,)).storage_offset() == 2


def test_in_place_form() -> None:
    def f(T: object) -> tuple:
        a = T.arange(6.0, requires_grad=True) * 1
        r = a.as_strided_((2, 2), (2, 1), 1)
        r.pow(2).sum().backward()
        return r is a, a, a.grad_fn.name(), a._version

    same(f)


def nbytes_check(T: object, size: tuple, stride: tuple, offset: object) -> object:
    return T.arange(12.0)[3:].as_strided(size, stride, offset)


ERRORS = [
    lambda T: T.arange(12.0).as_strided((3, 4), (4, 1), 1),
    lambda T: T.arange(12.0).as_strided((3, 5), (4, 1)),
    lambda T: T.arange(12.0, dtype=T.float64).as_strided((2, 2), (1, 2), 11),
    lambda T: T.arange(12.0)[6:].as_strided((7,), (1,)),  # (from the slice's own offset: past the end)
    lambda T: T.arange(12.0).view(3, 4)[1:, 1:].as_strided((3, 4), (4, 1)),
    lambda T: T.arange(12.0).as_strided((3,), (-1,)),
    lambda T: T.arange(12.0).as_strided((3, 2), (-1, -2)),
    lambda T: T.arange(12.0).as_strided((3,), (1,), -1),
    lambda T: T.arange(12.0).as_strided((3,), (1, 1)),
    lambda T: T.arange(12.0).as_strided((-3,), (1,)),
    lambda T: T.arange(12.0).as_strided((3, -2), (0, 0)),
    lambda T: T.as_strided(T.arange(12.0), (2,), 1),
    lambda T: T.as_strided(T.arange(12.0), 2, (1,)),
    lambda T: T.as_strided(T.arange(12.0), (2.5,), (1,)),
    lambda T: T.arange(12.0).as_strided(2, (1,)),
    lambda T: T.arange(6.0).as_strided_((2, 2), (4, 4)),
    lambda T: T.arange(6.0, requires_grad=True).as_strided_((2, 2), (1, 1)),
]


@pytest.mark.parametrize("case", range(len(ERRORS)))
def test_errors_match_torch(case: int) -> None:
    same_error(ERRORS[case])


def test_a_refused_view_leaves_memory_untouched() -> None:
    x = engine.zeros(4)
    with pytest.raises(RuntimeError, match="out of bounds for storage of size 16"):
        x[1:].as_strided((4,), (1,))
    with pytest.raises(RuntimeError, match="out of bounds"):
        x.as_strided((2,), (1 << 40,))
    assert x.as_strided((2,), (3,)).tolist() == [0.0, 0.0]


@settings(max_examples=120, deadline=None)
@given(
    start=st.integers(0, 6),
    size=st.lists(st.integers(-1, 4), min_size=0, max_size=3),
    stride=st.lists(st.integers(-1, 5), min_size=0, max_size=3),
    offset=st.one_of(st.none(), st.integers(-1, 14)),
)
def test_random_geometries(start: int, size: list, stride: list, offset: int | None) -> None:
    if 0 in size and min(size, default=0) < 0:
        return  # (torch makes a tensor with a negative size here; the engine refuses it)
    results = []
    for T in (torch, engine):
        try:
            v = T.arange(12.0)[start:].as_strided(tuple(size), tuple(stride), offset)
            results.append(v.tolist())
        except RuntimeError as e:
            results.append(str(e))
    assert results[1] == results[0]


@pytest.mark.parametrize(
    ("size", "stride", "offset"), [((-1,), (0,), 14), ((-1, 1), (0, 2), 14), ((-1,), (0,), 3), ((2, -1), (3, 0), 9)]
)
def test_negative_sizes_check_the_storage_first(size: tuple, stride: tuple, offset: int) -> None:
    # torch's computeStorageNbytes runs before the element count: a size -1 with stride 0 adds nothing to the
    # storage size, so a view past the storage's end is the setStorage error, else numel's overflow
    results = []
    for T in (torch, engine):
        try:
            T.arange(12.0).as_strided(size, stride, offset)
            results.append("ok")
        except RuntimeError as e:
            results.append(str(e))
    assert results[1] == results[0]
