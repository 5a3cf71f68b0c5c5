"""Errors against PyTorch: each snippet must raise in both, with the same exception type name and the
same message (str(e)), character for character."""

from __future__ import annotations

import re
import warnings

import pytest
import torch
from helpers import same_error

import engine


def _backward_twice(T: object) -> None:
    x = T.ones(3, requires_grad=True)
    y = (x.exp() * x).sum()
    y.backward()
    y.backward()


def _grad_twice(T: object) -> None:
    x = T.ones(3, requires_grad=True)
    y = (x * x).sum()
    T.autograd.grad(y, x)
    T.autograd.grad(y, x)


def _version(T: object) -> None:
    x = T.ones(3, requires_grad=True)
    y = x * 2
    z = y.sin()
    y.add_(1)
    z.sum().backward()


def _version_out(T: object) -> None:
    x = T.ones(2, 2, requires_grad=True, dtype=T.float64)
    y = x.sigmoid()
    y.mul_(2)
    y.sum().backward()


def _version_index(T: object) -> None:
    x = T.ones(4, requires_grad=True)
    y = x * 1
    z = y[1:] * y[:-1]
    y[0] = 3.0
    z.sum().backward()


def _unused(T: object) -> None:
    a, b = T.ones(2, requires_grad=True), T.ones(2, requires_grad=True)
    T.autograd.grad((a * 2).sum(), (a, b))


def _unused_second(T: object) -> None:
    a, b, c = (T.ones(2, requires_grad=True) for _ in range(3))
    T.autograd.grad((a * b).sum(), [a, b, c])


ERRORS = {
    # broadcasting
    "broadcast_add": lambda T: T.ones(2, 3) + T.ones(4),
    "broadcast_mul_dim0": lambda T: T.ones(3, 2) * T.ones(4, 2),
    "broadcast_3d": lambda T: T.ones(2, 3, 4) - T.ones(5, 1, 4),
    "broadcast_where": lambda T: T.where(T.ones(3) > 0, T.ones(2), T.ones(3)),
    "broadcast_inplace": lambda T: T.ones(3).add_(T.ones(2, 3)),
    "broadcast_compare": lambda T: T.ones(2) == T.ones(3),
    "broadcast_maximum": lambda T: T.maximum(T.ones(2), T.ones(3)),
    # matmul shapes
    "mm": lambda T: T.mm(T.ones(2, 3), T.ones(4, 5)),
    "mm_1d": lambda T: T.mm(T.ones(3), T.ones(3, 2)),
    "mm_3d": lambda T: T.mm(T.ones(2, 3), T.ones(1, 3, 2)),
    "matmul_2d": lambda T: T.ones(2, 3) @ T.ones(4, 5),
    "mv": lambda T: T.mv(T.ones(2, 3), T.ones(4)),
    "mv_matmul": lambda T: T.ones(2, 3) @ T.ones(4),
    "mv_dims": lambda T: T.mv(T.ones(2, 3), T.ones(3, 1)),
    "dot": lambda T: T.dot(T.ones(3), T.ones(4)),
    "dot_matmul": lambda T: T.ones(3) @ T.ones(4),
    "dot_2d": lambda T: T.dot(T.ones(3), T.ones(3, 1)),
    "vm_matmul": lambda T: T.ones(3) @ T.ones(4, 2),
    "bmm": lambda T: T.bmm(T.ones(2, 2, 3), T.ones(2, 4, 2)),
    "bmm_batch": lambda T: T.bmm(T.ones(2, 2, 3), T.ones(3, 3, 2)),
    "bmm_dims": lambda T: T.bmm(T.ones(2, 3), T.ones(2, 3, 2)),
    "batched_matmul": lambda T: T.ones(5, 2, 3) @ T.ones(5, 4, 2),
    "batched_matmul_broadcast": lambda T: T.ones(5, 2, 3) @ T.ones(4, 3, 2),
    "batched_matrix": lambda T: T.ones(5, 2, 3) @ T.ones(4, 2),
    "matrix_batched": lambda T: T.ones(2, 3) @ T.ones(5, 4, 2),
    "batched_vector": lambda T: T.ones(5, 2, 3) @ T.ones(4),
    "matmul_0d": lambda T: T.ones(()) @ T.ones(3),
    "matmul_dtype": lambda T: T.ones(2, 2) @ T.ones(2, 2, dtype=T.float64),
    "matmul_bool": lambda T: T.ones(2, 2, dtype=T.bool) @ T.ones(2, 2, dtype=T.bool),
    "dot_bool": lambda T: T.ones(2, dtype=T.bool) @ T.ones(2, dtype=T.bool),
    "mv_bool": lambda T: T.ones(2, 2, dtype=T.bool) @ T.ones(2, dtype=T.bool),
    "bmm_bool": lambda T: T.ones(1, 2, 2, dtype=T.bool) @ T.ones(1, 2, 2, dtype=T.bool),
    "batched_mv_bool": lambda T: T.ones(3, 2, 2, dtype=T.bool) @ T.ones(2, dtype=T.bool),
    "contains_str": lambda T: "a" in T.ones(2),
    # dims
    "sum_dim": lambda T: T.ones(2, 3).sum(2),
    "sum_negdim": lambda T: T.ones(2, 3).sum(-3),
    "softmax_dim": lambda T: T.ones(2, 3).softmax(5),
    "transpose_dim": lambda T: T.ones(2, 3).transpose(0, 2),
    "unsqueeze_dim": lambda T: T.ones(2, 3).unsqueeze(4),
    "squeeze_dim": lambda T: T.ones(2, 3).squeeze(3),
    "cat_dim": lambda T: T.cat([T.ones(2), T.ones(2)], 1),
    "stack_dim": lambda T: T.stack([T.ones(2), T.ones(2)], 3),
    "max_dim": lambda T: T.ones(2).max(1),
    "argmax_dim": lambda T: T.ones(2, 2).argmax(-3),
    "cumsum_dim": lambda T: T.ones(2).cumsum(1),
    "scalar_dim": lambda T: T.tensor(1.0).sum(1),
    "size_dim": lambda T: T.ones(2).size(1),
    "duplicate_dims": lambda T: T.ones(2, 3).sum((0, 0)),
    "permute_dims": lambda T: T.ones(2, 3).permute(0, 0),
    "permute_len": lambda T: T.ones(2, 3).permute(0, 1, 2),
    # views
    "view_noncontiguous": lambda T: T.ones(2, 3).t().view(6),
    "view_size": lambda T: T.ones(2, 3).view(4),
    "view_two_infer": lambda T: T.ones(2, 3).view(-1, -1),
    "reshape_size": lambda T: T.ones(2, 3).reshape(5, -1),
    "view_negative": lambda T: T.ones(2, 3).view(-2, 3),
    # autograd
    "int_requires_grad": lambda T: T.ones(2, dtype=T.int64).requires_grad_(),
    "int_tensor_requires_grad": lambda T: T.tensor([1, 2], requires_grad=True),
    "int_zeros_requires_grad": lambda T: T.zeros(2, dtype=T.int32, requires_grad=True),
    "bool_requires_grad": lambda T: setattr(T.ones(2, dtype=T.bool), "requires_grad", True),
    "nonleaf_requires_grad_false": lambda T: (T.ones(2, requires_grad=True) * 2).requires_grad_(False),
    "backward_twice": _backward_twice,
    "grad_twice": _grad_twice,
    "implicit_grad": lambda T: (T.ones(2, requires_grad=True) * 2).backward(),
    "implicit_grad_autograd": lambda T: T.autograd.grad(T.ones(2, 2, requires_grad=True) * 2, []),
    "no_grad_fn": lambda T: T.ones(2).sum().backward(),
    "grad_shape": lambda T: (T.ones(2, requires_grad=True) * 2).backward(T.ones(3)),
    "unused_input": _unused,
    "unused_input_2": _unused_second,
    "input_no_grad": lambda T: T.autograd.grad((T.ones(2, requires_grad=True) * 2).sum(), T.ones(2)),
    "leaf_inplace": lambda T: T.ones(2, requires_grad=True).add_(1),
    "leaf_iadd": lambda T: T.ones(2, requires_grad=True).__iadd__(1),
    "leaf_setitem": lambda T: T.ones(2, requires_grad=True).__setitem__(slice(None), 0.0),
    "leaf_index_put": lambda T: T.ones(2, requires_grad=True).__setitem__(T.tensor([0]), 0.0),
    "leaf_zero": lambda T: T.ones(2, requires_grad=True).zero_(),
    "view_of_leaf_inplace": lambda T: T.ones(2, 2, requires_grad=True)[0].mul_(2),
    "view_of_leaf_setitem": lambda T: T.ones(2, 2, requires_grad=True).__setitem__(0, 1.0),
    "view_of_leaf_transpose": lambda T: T.ones(2, 2, requires_grad=True).t().zero_(),
    "view_of_leaf_reshape": lambda T: T.ones(2, 2, requires_grad=True).view(4).fill_(1.0),
    "version": _version,
    "version_saved_output": _version_out,
    "version_index": _version_index,
    # reductions
    "mean_int": lambda T: T.tensor([1, 2, 3]).mean(),
    "mean_int_dim": lambda T: T.ones(2, 2, dtype=T.int32).mean(0),
    "mean_bool": lambda T: T.tensor([True]).mean(),
    "std_int": lambda T: T.tensor([1, 2]).std(),
    "var_int": lambda T: T.tensor([1, 2], dtype=T.uint8).var(),
    "norm_int": lambda T: T.tensor([1, 2]).norm(),
    "softmax_int": lambda T: T.tensor([1, 2]).softmax(0),
    "max_empty": lambda T: T.ones(0).max(),
    # indexing
    "index_oob": lambda T: T.ones(3)[3],
    "index_oob_neg": lambda T: T.ones(3)[-4],
    "index_oob_dim1": lambda T: T.ones(2, 3)[0, 5],
    "index_too_many": lambda T: T.ones(3)[0, 0],
    "index_tensor_oob": lambda T: T.ones(3)[T.tensor([0, 3])],
    "index_list_oob": lambda T: T.ones(2, 3)[:, [1, -4]],
    "index_float": lambda T: T.ones(3)[1.5],
    "index_float_tensor": lambda T: T.ones(3)[T.tensor([1.0])],
    "index_mask_shape": lambda T: T.ones(3)[T.tensor([True, False])],
    "setitem_oob": lambda T: T.ones(3).__setitem__(5, 1.0),
    "setitem_shape": lambda T: T.ones(2, 3).__setitem__(0, T.ones(4)),
    "setitem_adv_shape": lambda T: T.ones(2, 3).__setitem__(T.tensor([0, 1]), T.ones(2)),
    "negative_step": lambda T: T.ones(5)[::-1],
    "negative_step_tuple": lambda T: T.ones(5, 5)[:, ::-2],
    "zero_step": lambda T: T.ones(5)[::0],
    "index_select_oob": lambda T: T.ones(3).index_select(0, T.tensor([3])),
    "index_select_float": lambda T: T.ones(3).index_select(0, T.tensor([1.0])),
    "gather_oob": lambda T: T.ones(2, 2).gather(1, T.tensor([[0, 2], [1, 0]])),
    "gather_dtype": lambda T: T.ones(2, 2).gather(1, T.tensor([[0.0, 1.0]])),
    "gather_dims": lambda T: T.ones(2, 2).gather(1, T.tensor([0, 1])),
    "masked_fill_mask": lambda T: T.ones(3).masked_fill(T.tensor([1, 0, 1]), 0.0),
    "masked_select_mask": lambda T: T.ones(3).masked_select(T.tensor([1, 0, 1])),
    "masked_fill_value_dims": lambda T: T.ones(3).masked_fill(T.ones(3) > 0, T.ones(3)),
    "where_cond": lambda T: T.where(T.tensor([1, 0]), T.ones(2), T.zeros(2)),
    # joining
    "cat_sizes": lambda T: T.cat([T.ones(2, 3), T.ones(2, 4)]),
    "cat_sizes_dim1": lambda T: T.cat([T.ones(2, 3), T.ones(3, 3)], 1),
    "cat_ndim": lambda T: T.cat([T.ones(2, 3), T.ones(3)]),
    "cat_empty_list": lambda T: T.cat([]),
    "cat_tensor": lambda T: T.cat(T.ones(2)),
    "stack_sizes": lambda T: T.stack([T.ones(2, 3), T.ones(3, 2)]),
    "stack_third": lambda T: T.stack([T.ones(2), T.ones(2), T.ones(3)]),
    "stack_empty": lambda T: T.stack([]),
    "split_sizes": lambda T: T.ones(5).split([2, 2]),
    "chunk_zero": lambda T: T.ones(5).chunk(0),
    "unbind_scalar": lambda T: T.tensor(1.0).unbind(),
    # expand / repeat
    "expand_mismatch": lambda T: T.ones(2, 3).expand(2, 4),
    "expand_fewer": lambda T: T.ones(2, 3).expand(3),
    "expand_leading_negative": lambda T: T.ones(3).expand(-1, 3),
    "expand_as": lambda T: T.ones(3).expand_as(T.ones(2, 4)),
    "repeat_fewer": lambda T: T.ones(2, 3).repeat(2),
    # conversions
    "item_multi": lambda T: T.ones(2).item(),
    "item_empty": lambda T: T.ones(0).item(),
    "float_multi": lambda T: float(T.ones(3)),
    "int_multi": lambda T: int(T.ones(2, 2)),
    "bool_multi": lambda T: bool(T.ones(2)),
    "bool_empty": lambda T: bool(T.ones(0)),
    "numpy_requires_grad": lambda T: T.ones(2, requires_grad=True).numpy(),
    "numpy_nonleaf": lambda T: (T.ones(2, requires_grad=True) * 2).numpy(),
    "len_scalar": lambda T: len(T.tensor(1.0)),
    "iter_scalar": lambda T: iter(T.tensor(1.0)),
    "tensor_ragged": lambda T: T.tensor([[1, 2], [3]]),
    # in-place result type casts
    "iadd_float_to_int": lambda T: T.tensor([1, 2]).__iadd__(1.5),
    "add_float_tensor_to_int": lambda T: T.tensor([1, 2]).add_(T.tensor([0.5, 0.5])),
    "div_int_inplace": lambda T: T.tensor([4, 2]).div_(2),
    "itruediv_int": lambda T: T.tensor([4, 2]).__itruediv__(T.tensor([2, 2])),
    "mul_bool_inplace": lambda T: T.tensor([True, False]).mul_(2),
    "int_into_bool": lambda T: T.tensor([True]).add_(T.tensor([1])),
    "float_into_long": lambda T: T.zeros(2, dtype=T.int64).sub_(T.ones(2, dtype=T.float16)),
    "out_cast": lambda T: T.add(T.ones(2), T.ones(2), out=T.zeros(2, dtype=T.int64)),
    "out_requires_grad": lambda T: T.mul(T.ones(2, requires_grad=True), 2, out=T.zeros(2)),
    # misc kernels
    "sub_bool": lambda T: T.tensor([True]) - T.tensor([False]),
    "neg_bool": lambda T: -T.tensor([True]),
    "int_pow_negative": lambda T: T.tensor([2]) ** -1,
    "int_div_zero": lambda T: T.tensor([1]) // 0,
    "int_mod_zero": lambda T: T.tensor([5]) % T.tensor([0]),
    "bitwise_float": lambda T: T.ones(2) & T.ones(2),
    "clamp_none": lambda T: T.ones(2).clamp(),
    "div_rounding": lambda T: T.div(T.ones(2), 2, rounding_mode="round"),
    "arange_step": lambda T: T.arange(0, 10, 0),
    # argument-parser errors for a left-out argument (not Python's own or an internal one)
    "arange_no_args": lambda T: T.arange(),
    "arange_dtype_only": lambda T: T.arange(dtype=T.float32),
    "linspace_no_steps": lambda T: T.linspace(0, 1),
    "linspace_float_no_steps": lambda T: T.linspace(0.0, 1),
    "linspace_steps_kw_only": lambda T: T.linspace(steps=3),
    "linspace_no_args": lambda T: T.linspace(),
    "take_oob": lambda T: T.take(T.arange(12).reshape(3, 4), T.tensor([12])),
    "take_oob_negative_first": lambda T: T.take(T.arange(12), T.tensor([[3, -13], [14, 0]])),
    "tensor_str_list": lambda T: T.tensor(["a"]),
    "tensor_str_nested": lambda T: T.tensor([["ab"]]),
    "tensor_str_first": lambda T: T.tensor(["a", 1]),
    "tensor_str_later": lambda T: T.tensor([1, "a"]),
    "tensor_str_inner_later": lambda T: T.tensor([[1], ["a"]]),
    "tensor_str": lambda T: T.tensor("a"),
    "index_select_oob_dim1": lambda T: T.ones(2, 3).index_select(1, T.tensor([1, 3, -1])),
    "index_select_negative_dim1": lambda T: T.ones(2, 3, 4).index_select(1, T.tensor([-5])),
    "index_select_oob_dim2": lambda T: T.ones(2, 3, 4).index_select(2, T.tensor([0, 7])),
    "index_select_oob_dim0": lambda T: T.ones(2, 3).index_select(0, T.tensor([2])),
    "index_fill_oob": lambda T: T.ones(2, 3).index_fill(1, T.tensor([5]), 0.0),
    "index_fill_oob_first": lambda T: T.ones(2, 3).index_fill(1, T.tensor([1, -7, 5]), 0.0),
    "index_fill__oob_dim0": lambda T: T.ones(3).index_fill_(0, T.tensor([3]), 0.0),
    "index_copy_oob": lambda T: T.ones(2, 3).index_copy(1, T.tensor([-4]), T.ones(2, 1)),
    "lerp_long_end": lambda T: T.lerp(T.ones(2), T.ones(2, dtype=T.long), 0.5),
    "lerp_int8_end": lambda T: T.lerp(T.ones(2), T.ones(2, dtype=T.int8), 0.5),
    "lerp_half_end": lambda T: T.lerp(T.ones(2), T.ones(2, dtype=T.float16), 0.5),
    "lerp_long_weight": lambda T: T.lerp(T.ones(2), T.ones(2), T.ones(2, dtype=T.long)),
    "lerp_long_input": lambda T: T.lerp(T.ones(2, dtype=T.long), T.ones(2), 0.5),
    # torch's C types keep their dotted names in parser errors
    "zeros_of_dtype": lambda T: T.zeros(T.float32),
    "relu_of_size": lambda T: T.relu(T.Size([1])),
    "arange_sign": lambda T: T.arange(10, 0, 1),
    "zeros_negative": lambda T: T.zeros(2, -1),
    "full_tensor_int_out_of_range": lambda T: T.tensor([300], dtype=T.uint8),
    # sizes and dim lists as torch's argument parser reads them: the one argument's type, the first element's,
    # then each later element's (1-based "pos"), and the overloads where none takes the arguments
    "size_not_tuple": lambda T: T.ones(T.float32),
    "size_float": lambda T: T.ones(2.5),
    "size_str": lambda T: T.zeros("a"),
    "size_bool_alone": lambda T: T.zeros(True),
    "size_float_tensor": lambda T: T.zeros(T.tensor(2.0)),
    "size_1d_tensor": lambda T: T.zeros(T.tensor([2, 3])),
    "size_first_element": lambda T: T.ones((2.5, 2)),
    "size_later_element": lambda T: T.ones((2, 2.5)),
    "size_later_vararg": lambda T: T.empty(2, "a"),
    "size_first_vararg": lambda T: T.ones(2.5, 2),
    "size_tuple_then_int": lambda T: T.zeros((2,), 3),
    "size_class": lambda T: T.randn(T.Size),
    "rand_overloads": lambda T: T.rand(T.ones(2).shape, 2),
    "randn_overloads": lambda T: T.randn((2,), (3,)),
    "full_int_size": lambda T: T.full(2, 1.0),
    "full_fill_value": lambda T: T.full((2,), T.float32),
    "reshape_float": lambda T: T.ones(2).reshape(2.0),
    "reshape_tuple_float": lambda T: T.ones(2).reshape((2.0,)),
    "expand_dtype": lambda T: T.ones(2).expand(T.float32),
    "repeat_float": lambda T: T.ones(2).repeat(2.0),
    "permute_float": lambda T: T.ones(2).permute(0.0),
    "flip_float": lambda T: T.ones(2).flip(0.0),
    "new_zeros_float": lambda T: T.ones(2).new_zeros(2.0),
    "new_ones_element": lambda T: T.ones(2).new_ones((2, 1.0)),
    "view_float": lambda T: T.ones(2).view(2.0),
    "view_tuple": lambda T: T.ones(2).view((2.0, 1.0)),
    "view_list": lambda T: T.ones(2).view([2.0, 2]),
    "view_tensor": lambda T: T.ones(2).view(T.ones(2)),
    "view_later_element": lambda T: T.ones(2).view(2, 2.0),
    "sum_float_dim": lambda T: T.ones(2, 2).sum(1.0),
    "sum_tuple_float_dim": lambda T: T.ones(2, 2).sum((1.0,)),
    "sum_later_dim": lambda T: T.ones(2, 2).sum((1, 2.0)),
    "mean_float_dim": lambda T: T.ones(2, 2).mean(1.0),
    "sum_function_float_dim": lambda T: T.sum(T.ones(2, 2), 1.0),
    "mean_function_float_dim": lambda T: T.mean(T.ones(2, 2), 1.0),
    # torch's C types by their full names in Python's own messages
    "size_not_callable": lambda T: T.ones(2).shape(),
    "dtype_not_callable": lambda T: T.float32(),
    "device_not_callable": lambda T: T.ones(2).device(),
    "dtype_not_subscriptable": lambda T: T.float32[0],
    "finfo_not_callable": lambda T: T.finfo(T.float32)(),
    "generator_not_subscriptable": lambda T: T.Generator()[0],
}


@pytest.mark.parametrize("name", list(ERRORS))
def test_error_matches_torch(name: str) -> None:
    same_error(ERRORS[name])


WARNINGS = {
    "T_1d": lambda T: T.ones(3).T,
    "T_0d": lambda T: T.ones(()).T,
    "std_dof": lambda T: T.ones(1).std(),
    "var_dof_dim": lambda T: T.ones(2, 1).var(1),
    "out_resize": lambda T: T.add(T.ones(2), 1, out=T.zeros(3)),
    "nonleaf_grad": lambda T: (T.ones(2, requires_grad=True) * 2).grad,
    "gradcheck_float32": lambda T: T.autograd.gradcheck(
        lambda a: a * 2, (T.ones(2, requires_grad=True),), raise_exception=False
    ),
}


def _warnings_of(lib: object, fn: object) -> list:
    if lib is engine:  # torch's once-per-process warnings: as if this were the engine's first
        import sys

        sys.modules["engine.warn"]._WARNED_ONCE.clear()
        sys.modules["engine.tensor"]._FLOAT_WARNED.clear()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fn(lib)
    # torch appends where in its C++ sources it warned
    return [(w.category.__name__, re.sub(r" \(Triggered internally at .*\)$", "", str(w.message))) for w in caught]


@pytest.mark.parametrize("name", list(WARNINGS))
def test_warnings_match_torch(name: str) -> None:
    t, e = _warnings_of(torch, WARNINGS[name]), _warnings_of(engine, WARNINGS[name])
    assert t, "torch did not warn"
    assert e == t


def test_float_of_a_grad_tensor_warns_only_with_grad_enabled() -> None:
    """(LBFGS calls float() on the closure's loss under no_grad: torch says nothing there.)"""

    def convert(lib: object) -> None:
        x = lib.ones((), requires_grad=True) * 2
        with lib.no_grad():
            float(x)
        with lib.inference_mode():
            float(x)

    assert _warnings_of(engine, convert) == _warnings_of(torch, convert) == []
