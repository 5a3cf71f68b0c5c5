"""Differences from PyTorch found by QA round 16b (a differential sweep of core tensor behaviour: printing,
promotion, integer semantics, indexing, shape ops, reductions, creation, autograd basics; each snippet run as a
tsr script and by Python with PyTorch, stdout compared byte for byte, errors by type and message)."""

from __future__ import annotations

import warnings

import pytest
import torch

import engine
from tests.helpers import same, same_error


# ---- can_cast: complex never casts to a real dtype ----------------------------------------------------------
def test_can_cast_complex_to_real_is_refused() -> None:
    names = ["complex64", "complex128", "float32", "float16", "int64", "uint8", "bool"]
    same(lambda T: [T.can_cast(getattr(T, a), getattr(T, b)) for a in names for b in names])


# ---- index_add / index_copy / index_fill: torch's shape and bounds checks -------------------------------------
@pytest.mark.parametrize(
    "call",
    [
        lambda T: T.ones(5, 3).index_add(0, T.tensor([0]), T.ones(2, 3)),
        lambda T: T.ones(5, 3).index_add(0, T.tensor([0]), T.ones(1, 4)),
        lambda T: T.ones(5, 3).index_add(0, T.tensor([0]), T.ones(1, 3, 1)),
        lambda T: T.ones(5, 3).index_add(0, T.tensor([7]), T.ones(1, 3)),
        lambda T: T.ones(5, 3).index_add(0, T.tensor([-1]), T.ones(1, 3)),
        lambda T: T.ones(5, 3).index_add(1, T.tensor([-1]), T.ones(5, 1)),
        lambda T: T.ones(5, 3).index_add(0, T.tensor([0, 1, 2]), T.zeros(3)),
        lambda T: T.ones(5, 3).index_add(1, T.tensor([0]), T.ones(5)),
        lambda T: T.ones(5).index_add(0, T.tensor([0]), T.tensor(2.0)),
        lambda T: T.ones(()).index_add(0, T.tensor([0]), T.ones(1)),
        lambda T: T.ones(5, 3).index_copy(0, T.tensor([0]), T.ones(2, 3)),
        lambda T: T.ones(5, 3).index_copy(0, T.tensor([0]), T.ones(1, 4)),
        lambda T: T.ones(5, 3, 2).index_copy(0, T.tensor([0]), T.ones(1, 4, 2)),
        lambda T: T.ones(5, 3).index_copy(0, T.tensor([0]), T.ones(1, 3, 1)),
        lambda T: T.ones(5, 3).index_copy(0, T.tensor([0]), T.ones(3)),
        lambda T: T.ones(5, 3).index_copy(0, T.tensor([0]), T.tensor(7.0)),
        lambda T: T.ones(5, 3).index_copy(0, T.tensor([0, 1]), T.tensor(1.0)),
        lambda T: T.ones(5, 3).index_copy(0, T.tensor([[0]]), T.ones(1, 3)),
        lambda T: T.ones(5, 3).index_copy(0, T.tensor([0], dtype=T.int32), T.ones(1, 3)),
        lambda T: T.ones(5, 3).index_copy(0, T.tensor([-1]), T.ones(1, 3)),
        lambda T: T.ones(5).index_copy(0, T.tensor([0, 1]), T.ones(3)),
        lambda T: T.ones(5, 3).index_fill(0, T.tensor([[0]]), 1),
        lambda T: T.ones(5, 3).index_fill(0, T.tensor([0], dtype=T.int32), 1),
        lambda T: T.ones(5, 3).index_fill(0, T.tensor([0.0]), 1),
    ],
)
def test_index_write_errors_as_torch(call: object) -> None:
    same_error(call)


def test_index_write_values_as_torch() -> None:
    same(
        lambda T: [
            T.ones(5, 3).index_add(0, T.tensor(0), T.ones(1, 3)),
            T.ones(5).index_add(0, T.tensor(0), T.tensor([2.0])),
            T.ones(()).index_add(0, T.tensor([0]), T.ones(())),
            T.ones(5, 3).index_add(0, T.tensor([0, 0]), T.ones(2, 3), alpha=2),
            T.ones(5, 3).index_fill(0, T.tensor([-1]), 2),
            T.ones(5, 3).index_fill(0, T.tensor(1), 2),
            T.ones(5, 3).index_copy(0, T.tensor(0), T.ones(3) * 4),
            T.ones(2).index_copy(0, T.tensor([0]), T.tensor(4.0)),
        ]
    )


# ---- movedim / unflatten / reshape messages ---------------------------------------------------------------
@pytest.mark.parametrize(
    "call",
    [
        lambda T: T.zeros(2, 3).movedim((0, 1), (0,)),
        lambda T: T.zeros(2, 3).movedim([0], (1, 0)),
        lambda T: T.zeros(2, 3).movedim((0, -2), (0, 1)),
        lambda T: T.zeros(2, 3).movedim((0, 1), (-1, 1)),
        lambda T: T.zeros(2, 12).unflatten(1, (5, -1)),
        lambda T: T.zeros(2, 12).unflatten(1, (0, -1)),
        lambda T: T.zeros(2, 12).unflatten(1, (-1, 5)),
        lambda T: T.zeros(2, 12).unflatten(1, (5, 2)),
        lambda T: T.zeros(2, 12).unflatten(1, ()),
        lambda T: T.zeros(2, 12).unflatten(1, 12),
        lambda T: T.zeros(0).reshape(0, -1),
        lambda T: T.zeros(0).view(-1, 2, 0, 3),
        lambda T: T.zeros(12).reshape(0, -1),
    ],
)
def test_shape_errors_as_torch(call: object) -> None:
    same_error(call)


# ---- warnings ---------------------------------------------------------------------------------------------
def test_out_resize_warning_text_as_torch() -> None:
    msgs = []
    for T in (torch, engine):
        o = T.empty(3)
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            T.add(T.tensor([1.0, 2.0]), 1, out=o)
        msgs.append([str(x.message) for x in w])
    assert msgs[1] == msgs[0]


# ---- in-place ops with an int beyond the tensor's dtype: the scalar wraps, as torch casts it ---------------
@pytest.mark.parametrize("dt", ["uint8", "int8", "int32"])
@pytest.mark.parametrize("op", ["add_", "sub_", "mul_"])
@pytest.mark.parametrize("v", [300, -1, 2**40])
def test_inplace_int_scalar_out_of_range_wraps(dt: str, op: str, v: int) -> None:
    def f(T: object) -> object:
        x = T.tensor([1, 2], dtype=getattr(T, dt))
        getattr(x, op)(v)
        return x

    same(f)


# ---- results torch writes contiguous (so a .view of them works), and small shape-op gaps -------------------
def test_results_contiguous_as_torch() -> None:
    def f(T: object) -> object:
        a = T.arange(6.0).reshape(2, 3).t()
        x = T.arange(24.0).reshape(2, 3, 4).permute(2, 0, 1)
        outs = [T.cat([a, a]), T.cat([a, a], 1), T.stack([a, a]), a.roll(1, 0), x.cumsum(1), x.cumprod(0)]
        return [o.stride() for o in outs] + [T.stack([a, a]).view(-1), a.roll(1, 0).view(-1), x.cumsum(1).view(-1)]

    same(f)


def test_squeeze_broadcast_to_as_torch() -> None:
    same(lambda T: [T.tensor([1]).broadcast_to(3), T.tensor([1]).broadcast_to(3).stride()])
    same_error(lambda T: T.zeros(1, 2, 1).squeeze((0, 0)))


# ---- indexing: index dtypes, assigned values, gather/scatter shape checks ---------------------------------
@pytest.mark.parametrize(
    "call",
    [
        lambda T: T.arange(5)[T.tensor([1], dtype=T.int16)],
        lambda T: T.arange(5)[T.tensor([1], dtype=T.int8)],
        lambda T: T.arange(6).reshape(2, 3)[0, T.tensor([1], dtype=T.int16)],
        lambda T: T.zeros(3).__setitem__(slice(0, 2), [5, 6]),
        lambda T: T.zeros(3, dtype=T.int64).__setitem__([0, 2], (5, 6)),
        lambda T: T.zeros(3).__setitem__(0, None),
        lambda T: T.zeros(3).__setitem__(0, "a"),
        lambda T: T.zeros(3, dtype=T.int64).__setitem__(0, 2**63),
        lambda T: T.zeros(3).__setitem__(slice(None), -(2**70)),
        lambda T: T.zeros(3).masked_scatter(T.tensor([True, True, True]), T.tensor([1.0, 2.0])),
        lambda T: T.arange(6.0).reshape(2, 3).gather(1, T.tensor([[0, 1], [2, 0], [1, 1]])),
        lambda T: T.arange(6.0).reshape(2, 3).gather(0, T.tensor([[0, 1, 1, 1]])),
        lambda T: T.zeros(2, 3).scatter(1, T.tensor([[0, 1], [2, 0], [1, 1]]), T.ones(3, 2)),
        lambda T: T.zeros(2, 3).scatter(1, T.tensor([[0, 1], [2, 0]]), T.ones(1, 2)),
        lambda T: T.zeros(2, 3).scatter(0, T.tensor([[0, 1, 1, 1]]), T.ones(1, 4)),
        lambda T: T.zeros(2, 3).scatter_add(1, T.tensor([[0, 1], [2, 0], [1, 1]]), T.ones(3, 2)),
        lambda T: T.zeros(2, 3).scatter(1, T.tensor([[0, 1], [2, 0], [1, 1]]), 1.0),
        lambda T: T.zeros(2, 3).scatter(1, T.tensor([0, 1]), T.ones(2)),
    ],
)
def test_indexing_errors_as_torch(call: object) -> None:
    same_error(call)


def test_uint8_index_warning_text_as_torch() -> None:
    msgs = []
    for T in (torch, engine):
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            T.arange(3)[T.tensor([1, 0, 1], dtype=T.uint8)]
        msgs.append([str(x.message) for x in w])
    assert msgs[1] == msgs[0]


@pytest.mark.parametrize("dt", ["uint8", "int8", "float16", "float32", "int32"])
@pytest.mark.parametrize("v", [-1, 300, 70000, 1e10, 1e300])
@pytest.mark.parametrize("where", ["int", "slice", "list", "mask", "ellipsis", "row"])
def test_setitem_number_beyond_dtype_as_torch(dt: str, v: float, where: str) -> None:
    def f(T: object) -> object:
        x = T.zeros(2, 2, dtype=getattr(T, dt))
        idx = {"int": (0, 0), "slice": slice(None), "list": [0], "mask": T.tensor([True, False]), "ellipsis": ...}
        x[idx.get(where, 0)] = v
        return x

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            torch.zeros(2, 2, dtype=getattr(torch, dt))[0] = v
        except RuntimeError:
            same_error(f)
            return
    same(f)


def test_fill_with_a_tensor_value_casts_as_torch() -> None:
    def f(T: object) -> object:
        x = T.zeros(2, dtype=T.uint8)
        x[:] = T.tensor(-1)
        y = T.zeros(2, dtype=T.uint8)
        y[0] = T.tensor(300)
        return [
            T.zeros(2, dtype=T.uint8).fill_(T.tensor(-1)),
            T.zeros(2, dtype=T.uint8).fill_(T.tensor(300)),
            T.zeros(2, dtype=T.float16).fill_(T.tensor(70000.0)),
            T.zeros(2).fill_(T.tensor(1e300, dtype=T.float64)),
            T.zeros(2, dtype=T.int64).fill_(T.tensor(2.7)),
            x,
            y,
        ]

    same(f)


# ---- creation: ranges, float sizes, fill values, legacy types -----------------------------------------------
@pytest.mark.parametrize(
    "call",
    [
        lambda T: T.arange(0.0, float("inf")),
        lambda T: T.arange(0.5, float("inf")),
        lambda T: T.arange(float("nan"), 1),
        lambda T: T.arange(0, 1, float("nan")),
        lambda T: T.arange(float("-inf"), 1.5),
        lambda T: T.arange(1e300, float("inf")),
        lambda T: T.arange(0, float("inf"), dtype=T.int64),
        lambda T: T.arange(3, dtype=T.bool),
        lambda T: T.linspace(0, 1, 2.5),
        lambda T: T.linspace(0.0, 1.0, 2.0),
        lambda T: T.eye(2.5),
        lambda T: T.eye(2, 2.5),
        lambda T: T.randint(3.5, (2,)),
        lambda T: T.randint(0, 3.5, (2,)),
        lambda T: T.randint(0.5, 3, (2,)),
        lambda T: T.tensor([float("nan")], dtype=T.int64),
        lambda T: T.tensor([float("nan")], dtype=T.uint8),
        lambda T: T.tensor(float("nan"), dtype=T.int64),
        lambda T: T.full_like(T.zeros(2, dtype=T.int64), 1e30),
        lambda T: T.full_like(T.zeros(2, dtype=T.uint8), 300),
        lambda T: T.full_like(T.zeros(2, dtype=T.float16), 1e5),
    ],
)
def test_creation_errors_as_torch(call: object) -> None:
    same_error(call)


def test_creation_values_as_torch() -> None:
    same(
        lambda T: [
            T.full_like(T.zeros(2, dtype=T.uint8), -1),
            T.tensor([1.5]).type(T.IntTensor),
            T.tensor([1.5]).type(T.DoubleTensor),
            T.tensor([1, 2]).type(T.FloatTensor),
        ]
    )


# ---- stack family, take, tensor_split, mT, meshgrid: torch's argument checks ---------------------------------
@pytest.mark.parametrize("name", ["hstack", "vstack", "dstack", "column_stack", "row_stack", "concat", "concatenate"])
@pytest.mark.parametrize("arg", ["empty", "tensor", "int", "tuple"])
def test_stack_family_arguments_as_torch(name: str, arg: str) -> None:
    def f(T: object) -> object:
        x = T.arange(6.0).reshape(2, 3)
        return getattr(T, name)({"empty": [], "tensor": x, "int": (x, 1), "tuple": ()}[arg])

    same_error(f)


@pytest.mark.parametrize(
    "call",
    [
        lambda T: T.take(T.arange(6.0), T.tensor([1.0])),
        lambda T: T.take(T.arange(6.0), T.tensor([1], dtype=T.int32)),
        lambda T: T.take(T.arange(6.0), T.tensor([True])),
        lambda T: T.arange(6.0).reshape(2, 3).tensor_split(T.tensor([[1]])),
        lambda T: T.arange(6.0).reshape(2, 3).tensor_split(T.tensor([1.0])),
        lambda T: T.arange(6.0).reshape(2, 3).tensor_split(1.5),
        lambda T: T.meshgrid([], indexing="ij"),
        lambda T: T.meshgrid(indexing="xy"),
    ],
)
def test_shape_argument_errors_as_torch(call: object) -> None:
    same_error(call)


def test_tensor_split_by_tensor_and_mt_of_0d_as_torch() -> None:
    def f(T: object) -> object:
        x = T.arange(6.0).reshape(2, 3)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            m = T.tensor(2.0).mT
        return [*x.tensor_split(T.tensor(1)), *x.tensor_split(T.tensor([1])), m]

    same(f)


# ---- reductions over one int dim: torch's parser errors, method and function forms -----------------------------
@pytest.mark.parametrize(
    "call",
    [
        lambda T: T.ones(2, 3).max(dim=(0, 1)),
        lambda T: T.ones(2, 3).max((0, 1)),
        lambda T: T.ones(2, 3).max((0, 1), True),
        lambda T: T.ones(2, 3).max((0, 1), keepdim=True),
        lambda T: T.ones(2, 3).min(dim=[0, 1], keepdim=True),
        lambda T: T.max(T.ones(2, 3), dim=(0, 1)),
        lambda T: T.min(T.ones(2, 3), (0, 1)),
        lambda T: T.max(T.ones(2, 3), (0, 1), True),
        lambda T: T.max(T.ones(2, 3), dim=(0, 1), keepdim=True),
        lambda T: T.ones(2, 3).argmax(dim=(0, 1)),
        lambda T: T.ones(2, 3).argmin((0, 1)),
        lambda T: T.argmax(T.ones(2, 3), (0, 1)),
        lambda T: T.ones(2, 3).argmax(1, 1),
        lambda T: T.ones(2, 3).median((0, 1)),
        lambda T: T.ones(2, 3).median(None),
        lambda T: T.median(T.ones(2, 3), dim=True),
        lambda T: T.ones(2, 3).cumsum((0, 1)),
        lambda T: T.ones(2, 3).cumsum(dim=1.5),
        lambda T: T.cumprod(T.ones(2, 3), (0, 1)),
        lambda T: T.ones(2, 3).topk(1.5),
        lambda T: T.topk(T.ones(2, 3), 1.5),
        lambda T: T.ones(2, 3).topk(k=1.5),
        lambda T: T.ones(2, 3).topk(1, 1.5),
        lambda T: T.ones(2, 3).tril(1.5),
        lambda T: T.tril(T.ones(2, 3), 1.5),
        lambda T: T.ones(2, 3).triu(diagonal=1.5),
        lambda T: T.ones(2, 3).prod((0, 1)),
        lambda T: T.ones(2, 3).prod(dim=(0, 1)),
        lambda T: T.ones(2, 3).prod((0, 1), True),
        lambda T: T.ones(2, 3).prod(dim=(0, 1), keepdim=True),
        lambda T: T.prod(T.ones(2, 3), (0, 1)),
        lambda T: T.prod(T.ones(2, 3), dim=(0, 1)),
        lambda T: T.prod(T.ones(2, 3), (0, 1), True),
        lambda T: T.ones(2, 3).prod(1.5),
        lambda T: T.ones(2, 3).prod(None),
        lambda T: T.ones(2, 3).prod(0, 1),
    ],
)
def test_int_dim_argument_errors_as_torch(call: object) -> None:
    same_error(call)


def test_int_dim_reductions_still_take_ints_and_numpy_names() -> None:
    same(
        lambda T: [
            T.ones(2, 3).argmax(T.tensor(1)),
            T.ones(2, 3).cumsum(T.tensor(1)),
            T.ones(2, 3).max(1, keepdim=True),
            T.ones(2, 3).max(axis=1).values,
            T.max(T.ones(2, 3), axis=0, keepdims=True).indices,
            T.ones(2, 3).argmax(axis=1),
            T.argmin(T.ones(2, 3), dim=None, keepdim=True),
            T.ones(2, 3).tril(1),
            T.ones(2, 3).topk(1).values,
            T.ones(2, 3).prod(axis=1),
            T.ones(2, 3).prod(T.tensor(1)),
            T.prod(T.ones(2, 3), 0, keepdim=True, dtype=T.float64),
        ]
    )


# ---- dtype sweeps of unary/binary ops: kernels named for the promoted dtype, bool refusals, half/bf16 kernels --
_DTS = ["bool", "uint8", "int32", "int64", "float16", "float32", "float64"]


def _pair(T: object, a: str, b: str) -> tuple:
    x = T.tensor([1, 2, 0], dtype=getattr(T, a)) if a != "bool" else T.tensor([True, True, False])
    y = T.tensor([2, 1, 1], dtype=getattr(T, b)) if b != "bool" else T.tensor([True, False, True])
    return x, y


@pytest.mark.parametrize("op", ["bitwise_and", "bitwise_xor", "bitwise_left_shift", "hypot", "logaddexp", "fmod",
                                "dist", "nextafter", "ldexp"])  # fmt: skip
def test_binary_dtype_sweep_as_torch(op: str) -> None:
    from tests.helpers import outcome

    for a in _DTS:
        for b in _DTS:
            got = [outcome(lambda T, a=a, b=b: getattr(T, op)(*_pair(T, a, b)), T) for T in (torch, engine)]
            if isinstance(got[0], tuple):
                assert got[1] == got[0], (a, b)
            else:
                assert not isinstance(got[1], tuple), (a, b, got[1])
                assert str(got[1].dtype) == str(got[0].dtype), (a, b)
                assert str(got[1]) == str(got[0]), (a, b)


@pytest.mark.parametrize(
    "call",
    [
        lambda T: +T.tensor([True, False]),
        lambda T: T.tensor([True]).positive(),
        lambda T: T.tensor([1.5]).bitwise_not(),
        lambda T: T.tensor([1.5], dtype=T.float64).bitwise_not(),
        lambda T: T.tensor([1j]).bitwise_not(),
        lambda T: T.tensor([True]) << True,
        lambda T: T.tensor([1], dtype=T.float64) & 1,
        lambda T: T.tensor([1]) & 1.5,
        lambda T: T.fmod(T.tensor([True]), True),
    ],
)
def test_unary_dtype_refusals_as_torch(call: object) -> None:
    same_error(call)


def test_half_kernels_and_complex_to_bool_as_torch() -> None:
    def f(T: object) -> object:
        x = T.tensor([1.5, -3.0], requires_grad=True)
        y = T.ldexp(x, T.tensor([2, -1]))
        y.sum().backward()
        c = T.tensor([0j, 1j, 1 + 0j])
        return [
            T.tensor([0.0, 1.0, 2.0], dtype=T.float16).sinc(),
            T.nextafter(
                T.tensor([1.0, 0.0, -1.0, 2.0], dtype=T.bfloat16), T.tensor([2.0, -1.0, -2.0, 2.0], dtype=T.bfloat16)
            ).float(),
            T.nextafter(
                T.tensor([1.0, 0.0, 60000.0], dtype=T.float16), T.tensor([0.0, 1.0, float("inf")], dtype=T.float16)
            ),
            y,
            x.grad,
            T.ldexp(T.tensor([1.0], dtype=T.float16), T.tensor([20])),
            c.bool(),
            c.to(T.bool),
        ]

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # (complex to bool warns in neither)
        same(f)


@pytest.mark.parametrize(
    "call",
    [
        lambda T: T.where(T.tensor([True]), T.tensor([1])),
        lambda T: T.where(T.tensor([True]), 1.0),
        lambda T: T.where(T.tensor([True]), other=T.tensor([1])),
    ],
)
def test_where_with_one_value_as_torch(call: object) -> None:
    same_error(call)


def test_copy_from_complex_and_a_list_as_torch() -> None:
    same_error(lambda T: T.zeros(2).copy_([1, 2]))
    msgs = []
    for T in (torch, engine):
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            r = T.zeros(2).copy_(T.tensor([1 + 1j, 2j]))
        msgs.append(([str(x.message) for x in w], r.tolist()))
    # (a warn-once in both: whether it shows depends on what ran earlier in the process, so either may be quiet)
    text = (
        "Casting complex values to real discards the imaginary part (Triggered internally at "
        "/__w/pytorch/pytorch/aten/src/ATen/native/Copy.cpp:307.)"
    )
    assert all(m in ([], [text]) for m, _ in msgs), msgs
    assert msgs[1][1] == msgs[0][1]
    same(lambda T: T.zeros(2, dtype=T.bool).copy_(T.tensor([1j, 0j])))


@pytest.mark.parametrize(
    "call",
    [
        lambda T: T.zeros(2, 3).movedim(0, (1,)),
        lambda T: T.zeros(2, 3).movedim((0,), 1),
        lambda T: T.zeros(2, 3).movedim(0, 1.0),
        lambda T: T.movedim(T.zeros(2, 3), 0, (1,)),
        lambda T: T.moveaxis(T.zeros(2, 3), (0,), 1),
        lambda T: T.zeros(2, 3).moveaxis(0, 1.5),
    ],
)
def test_movedim_mixed_int_and_sequence_as_torch(call: object) -> None:
    same_error(call)


def test_movedim_forms_still_work() -> None:
    same(
        lambda T: [
            T.zeros(2, 3, 4).movedim([0], [1]).shape,
            T.zeros(2, 3, 4).movedim(0, -1).shape,
            T.movedim(T.zeros(2, 3), (0, 1), (1, 0)).shape,
            T.zeros(2, 3).movedim(source=0, destination=1).shape,
            T.moveaxis(T.zeros(2, 3), 1, 0).shape,
        ]
    )
