"""einsum (engine/ops/einsum.py) against torch.einsum: values, dtypes, errors, the autograd graph node for
node, first and second-order gradients, views. Oracle: PyTorch 2.13 on the cpu."""

from __future__ import annotations

import random
import re
from typing import Any

import helpers
import numpy as np
import pytest
import torch
from helpers import Arg, check, computed, graph, make, same, same_error

import engine
from engine.ops.einsum import einsum

pytestmark = pytest.mark.usefixtures("device")


def _e(T: Any) -> Any:
    return torch.einsum if T is torch else einsum


ok = computed  # (a case that must compute)


def f32(*shape: int, seed: int = 0) -> np.ndarray:
    return make(shape, "float32", seed=seed)


# equation -> operand shapes; every case is checked for values, dtype, shape, grad_fn name and the gradient of
# every operand
CASES: dict[str, tuple[str, list]] = {
    "matmul": ("ij,jk->ik", [(2, 3), (3, 4)]),
    "matmul_implicit": ("ij,jk", [(2, 3), (3, 4)]),
    "transpose": ("ij->ji", [(2, 3)]),
    "implicit_transpose": ("ji", [(2, 3)]),
    "implicit_upper_first": ("Zz", [(2, 3)]),
    "sum_all": ("ij->", [(2, 3)]),
    "sum_rows": ("ij->i", [(2, 3)]),
    "diagonal": ("ii->i", [(3, 3)]),
    "trace": ("ii", [(3, 3)]),
    "trace_explicit": ("ii->", [(3, 3)]),
    "diagonal_3d": ("iji->ij", [(3, 2, 3)]),
    "triple_repeat": ("iii->i", [(2, 2, 2)]),
    "repeat_in_second": ("ij,kk->ijk", [(2, 3), (4, 4)]),
    "repeat_contracted": ("iij,jk->ik", [(3, 3, 2), (2, 4)]),
    "dot": ("i,i->", [(4,), (4,)]),
    "dot_implicit": ("i,i", [(4,), (4,)]),
    "outer": ("i,j->ij", [(3,), (4,)]),
    "outer_implicit": ("i,j", [(3,), (4,)]),
    "hadamard": ("ij,ij->ij", [(2, 3), (2, 3)]),
    "bmm": ("bij,bjk->bik", [(2, 3, 4), (2, 4, 5)]),
    "bmm_out_permuted": ("bij,bjk->kbi", [(2, 3, 4), (2, 4, 5)]),
    "ellipsis_matmul": ("...ij,...jk", [(2, 3, 4), (4, 5)]),
    "ellipsis_broadcast": ("...ij,...jk->...ik", [(2, 1, 3, 4), (5, 4, 2)]),
    "ellipsis_middle": ("i...j->j...i", [(2, 3, 4, 5)]),
    "ellipsis_sum": ("...i->...", [(2, 3, 4)]),
    "ellipsis_contracted": ("...i,...i->i", [(2, 3, 4), (3, 4)]),
    "ellipsis_empty": ("...ij,jk->...ik", [(2, 3), (3, 4)]),
    "ellipsis_out_no_input": ("ij->...", [(2, 3)]),
    "label_broadcast": ("ij,ij->ij", [(2, 3), (2, 1)]),
    "label_broadcast_sum": ("ij,ij->", [(1, 3), (2, 3)]),
    "spaces": (" a b , b c -> a c ", [(2, 3), (3, 4)]),
    "three_operands": ("ij,jk,kl->il", [(2, 3), (3, 4), (4, 5)]),
    "three_operands_sum_early": ("ij,k,kl->jl", [(2, 3), (4,), (4, 5)]),
    "four_operands": ("a,ab,bc,c->", [(2,), (2, 3), (3, 4), (4,)]),
    "bilinear": ("bn,anm,bm->ba", [(2, 3), (4, 3, 5), (2, 5)]),
    "contract_only_one": ("ij,k->k", [(2, 3), (4,)]),
    "scalar_operand": (",ij->ij", [(), (2, 3)]),
    "scalars": ("->", [()]),
    "empty_dim": ("ij,jk->ik", [(0, 3), (3, 4)]),
    "empty_contraction": ("ij,jk->ik", [(2, 0), (0, 4)]),
    "size_one_contraction": ("ij,jk->ik", [(2, 1), (1, 4)]),
}


@pytest.mark.parametrize("name", list(CASES))
def test_einsum_values_and_grads(name: str) -> None:
    eq, shapes = CASES[name]
    arrays = [f32(*s, seed=i) for i, s in enumerate(shapes)]
    ok(lambda T, *ops: _e(T)(eq, *ops), *arrays)


GRAPHS: dict[str, tuple[str, list]] = {
    **{k: CASES[k] for k in ("matmul", "diagonal", "bmm", "ellipsis_broadcast", "three_operands", "trace")},
    # torch swaps a pair for bmm when all of the right operand's output dims come before the left one's
    "swapped_pair": ("jk,ij", [(3, 4), (2, 3)]),
    "swapped_pair_size_one_dim": ("de,abdd", [(2, 3), (3, 1, 2, 2)]),
    "interleaved_not_swapped": ("ea,eAb", [(3, 2), (3, 2, 2)]),
    "swapped_with_batch": ("lis,sir->rli", [(2, 3, 4), (4, 3, 5)]),
}


@pytest.mark.parametrize("name", list(GRAPHS))
def test_einsum_graph_is_torchs(name: str) -> None:
    """The whole recorded graph, node for node, not only the top node."""
    eq, shapes = GRAPHS[name]
    arrays = [f32(*s, seed=i) for i, s in enumerate(shapes)]
    graphs = []
    for T in (torch, engine):
        ops = [T.tensor(a, requires_grad=True) for a in arrays]
        graphs.append(graph(_e(T)(eq, *ops), depth=32))
    assert graphs[1] == graphs[0]


def test_einsum_grad_of_one_operand() -> None:
    # only the operand that requires grad gets one; the other is a constant
    ok(lambda T, a, b: _e(T)("ij,jk->ik", a, b), f32(2, 3), Arg(f32(3, 4, seed=1)))
    ok(lambda T, a, b: _e(T)("ii,ij->j", a, b), Arg(f32(3, 3)), f32(3, 4, seed=1))


def test_einsum_operand_list_and_tuple() -> None:
    ok(lambda T, ops: _e(T)("ij,jk->ik", ops), [f32(2, 3), f32(3, 4, seed=1)])
    ok(lambda T, a, b: _e(T)("ij,jk->ik", (a, b)), f32(2, 3), f32(3, 4, seed=1))


def test_einsum_sublist_format() -> None:
    a, b = f32(2, 3), f32(4, 3, seed=1)
    ok(lambda T, x, y: _e(T)(x, [0, 1], y, [2, 1], [0, 2]), a, b)
    ok(lambda T, x, y: _e(T)(x, [0, 1], y, [2, 1]), a, b)
    ok(lambda T, x: _e(T)(x, [..., 1], [1]), f32(2, 3, 4))


def test_einsum_second_order() -> None:
    """create_graph: the gradient is itself differentiable, repeated labels and ellipsis included."""

    def fn(T: Any, a: Any, b: Any) -> Any:
        a, b = a.requires_grad_(), b.requires_grad_()
        y = _e(T)("iij,...jk->i...k", a, b)
        ga, gb = T.autograd.grad((y * y).sum(), (a, b), create_graph=True)
        gga, ggb = T.autograd.grad((ga * ga).sum() + (gb.sin()).sum(), (a, b))
        return ga, gb, gga, ggb

    out = check(fn, f32(3, 3, 2), f32(2, 2, 4, seed=1), grad=False, atol=1e-4, rtol=1e-4)
    assert out is not None  # (both raising the same error would pass check)


def test_einsum_second_order_names() -> None:
    """The gradient's graph names torch's nodes: the diagonal's backward is DiagonalBackwardBackward0."""
    out = []
    for T in (torch, engine):
        x = T.tensor(f32(3, 3), requires_grad=True)
        w = T.tensor(f32(3, seed=1), requires_grad=True)
        (g,) = T.autograd.grad((_e(T)("ii->i", x) * w).sum(), x, create_graph=True)
        out.append(graph(g, depth=32))
    assert out[1] == out[0]


@pytest.mark.parametrize(
    "dtypes",
    [
        ("int32", "int32"),  # bmm keeps int32
        ("int64", "int64"),
        ("float16", "float16"),
        ("float64", "float64"),
        ("bool", "bool"),  # bool bmm is an error
    ],
)
def test_einsum_dtypes_matmul(dtypes: tuple) -> None:
    a, b = make((2, 3), dtypes[0]), make((3, 4), dtypes[1], seed=1)
    check(lambda T, x, y: _e(T)("ij,jk->ik", x, y), Arg(a), Arg(b))


DTYPE_CASES = {
    "mul_promotes": ("ij,ij->ij", "float32", "float64"),  # a contraction-free pair is a mul: promotion
    "mul_int_promotes": ("ij,ij->ij", "int32", "int64"),
    "bool_mul": ("ij,ij->ij", "bool", "bool"),
    "bmm_mismatch": ("ij,ij->", "float32", "float64"),  # bmm: no promotion, torch's CPU message
    "bmm_mismatch_rev": ("ij,kj->ik", "float64", "float32"),
    "bmm_int_float": ("ij,kj->ik", "int64", "float32"),
    "bmm_float_bool": ("ij,kj->ik", "float32", "bool"),
    "bmm_bool_float": ("ij,kj->ik", "bool", "float32"),
    "int_sum_is_int64": ("ij,k->k", "int32", "int32"),  # the early sum of an int operand is int64
    "single_int_sum": ("ij->", "int32", None),
    "single_bool_sum": ("ij->i", "bool", None),
    "single_int_permute": ("ij->ji", "int32", None),  # no sum: the dtype stays
}


@pytest.mark.parametrize("name", list(DTYPE_CASES))
def test_einsum_dtypes(name: str) -> None:
    eq, da, db = DTYPE_CASES[name]
    if db is None:
        check(lambda T, x: _e(T)(eq, x), Arg(make((2, 3), da)))
        return
    b_shape = (4,) if eq == "ij,k->k" else (2, 3)
    check(lambda T, x, y: _e(T)(eq, x, y), Arg(make((2, 3), da)), Arg(make(b_shape, db, seed=1)))


def test_einsum_mixed_dtype_three_operands() -> None:
    eqs = ["i,i,i->", "i,i,i->i"]  # an error (bmm) or a float64 result (two muls)
    for eq in eqs:
        check(lambda T, a, b, c, eq=eq: _e(T)(eq, a, b, c), f32(3), make((3,), "float64", seed=1), f32(3, seed=2))


ERRORS: dict[str, Any] = {
    "no_operand": lambda E, a, b: E("ij"),
    "empty_list": lambda E, a, b: E("ij", []),
    "fewer_operands": lambda E, a, b: E("ij,jk->ik", a),
    "fewer_operands_trailing_comma": lambda E, a, b: E("ij,->", a),
    "more_operands": lambda E, a, b: E("ij->ij", a, b),
    "too_many_subscripts": lambda E, a, b: E("ijk->", a),
    "too_few_subscripts": lambda E, a, b: E("i->", a),
    "empty_equation": lambda E, a, b: E("", a),
    "ellipsis_too_many": lambda E, a, b: E("...ijk->", a),
    "size_mismatch": lambda E, a, b: E("ij,jk->ik", a, a),
    "size_mismatch_hadamard": lambda E, a, b: E("ij,ij->ij", a, b),
    "ellipsis_size_mismatch": lambda E, a, b: E("...ij,...jk", a.expand(5, 2, 3), b.expand(3, 3, 2)),
    "repeated_size_mismatch": lambda E, a, b: E("ii->i", a),
    "invalid_character": lambda E, a, b: E("i1->", a),
    "invalid_character_output": lambda E, a, b: E("ij->i1", a),
    "invalid_unicode": lambda E, a, b: E("ié->", a),
    "invalid_arrow": lambda E, a, b: E("ij-<ji", a),
    "double_arrow": lambda E, a, b: E("ij->->", a),
    "arrow_with_space": lambda E, a, b: E("ij- >ji", a),
    "repeated_output": lambda E, a, b: E("ij->ii", a),
    "unknown_output": lambda E, a, b: E("ij->k", a),
    "lone_dot": lambda E, a, b: E("i.j->", a),
    "two_dots": lambda E, a, b: E("i..->", a),
    "two_ellipses": lambda E, a, b: E("......->", a),
    "output_two_ellipses": lambda E, a, b: E("...->......", a),
    "output_lone_dot": lambda E, a, b: E("ij->.", a),
    "equation_not_str": lambda E, a, b: E(3, a),
    "operand_not_tensor": lambda E, a, b: E("ij", 1),
    "second_operand_not_tensor": lambda E, a, b: E("ij,jk", a, 3),
    "sublist_out_of_range": lambda E, a, b: E(a, [0, 60]),
    "bool_bmm": lambda E, a, b: E("ij,kj->ik", a > 0, a > 0),
}


@pytest.mark.parametrize("name", list(ERRORS))
def test_einsum_errors(name: str) -> None:
    same_error(lambda T, a, b: ERRORS[name](_e(T), a, b), f32(2, 3), f32(3, 2, seed=1))


def test_einsum_result_is_a_view_as_in_torch() -> None:
    """'ii->i' and 'ij->ji' return views of the operand in torch: writes go through, versions are shared."""

    def fn(T: Any) -> Any:
        x = T.arange(9.0).reshape(3, 3)
        d = _e(T)("ii->i", x)
        d.add_(100)
        t = _e(T)("ij->ji", x)
        t[0, 1] = -1
        return x, d, t, d._base is x, x._version

    same(fn)


def test_einsum_inplace_on_result_view_with_grad() -> None:
    """An in-place op on the view einsum returns rewrites the operand's graph, as in torch."""

    def diag(T: Any, x: Any) -> Any:
        y = x * 1
        _e(T)("ii->i", y).mul_(2)
        return y

    def transposed(T: Any, x: Any) -> Any:
        y = x * 1
        _e(T)("ij->ji", y)[0] = 5
        return (y * y).sum()

    ok(diag, f32(3, 3))
    ok(transposed, f32(2, 3))


def test_einsum_inplace_on_view_of_leaf_is_an_error() -> None:
    def fn(T: Any) -> None:
        x = T.ones(3, 3, requires_grad=True)
        _e(T)("ii->i", x).add_(1)

    same_error(fn)


def test_einsum_modified_operand_is_an_error_in_backward() -> None:
    def fn(T: Any) -> Any:
        a = T.ones(2, 3, requires_grad=True)
        b = T.ones(3, 4) * 2
        y = _e(T)("ij,jk->ik", a, b)
        b.mul_(2)  # saved for a's gradient by the bmm inside
        y.sum().backward()

    same_error(fn)


def test_einsum_matches_matmul_large() -> None:
    # a case the differential helpers cannot fake: many labels, mixed broadcasting, all operands with grad
    ok(
        lambda T, a, b, c: _e(T)("bhqd,bhkd,hd->bhqk", a, b, c),
        f32(2, 3, 4, 5),
        f32(2, 3, 6, 5, seed=1),
        f32(3, 5, seed=2),
    )


def _random_case(rng: random.Random) -> tuple[str, list]:
    """A random equation of one or two operands: repeated labels, size-1 dims, ellipses, implicit outputs."""
    letters = "abcAB"
    sizes = {c: rng.choice([1, 2, 3]) for c in letters}
    ell = [rng.choice([1, 2]) for _ in range(rng.randint(0, 2))]
    subs, shapes = [], []
    for _ in range(rng.randint(1, 2)):
        labels = [rng.choice(letters) for _ in range(rng.randint(0, 4))]
        shape = [sizes[c] if rng.random() > 0.2 else 1 for c in labels]
        for i, c in enumerate(labels):  # a repeated label needs equal sizes
            if c in labels[:i]:
                shape[i] = shape[labels.index(c)]
        sub = "".join(labels)
        if ell and rng.random() < 0.5:
            pos = rng.randint(0, len(labels))
            sub = sub[:pos] + "..." + sub[pos:]
            shape = shape[:pos] + ell[rng.randint(0, len(ell)) :] + shape[pos:]
        subs.append(sub)
        shapes.append(tuple(shape))
    eq = ",".join(subs)
    if rng.random() < 0.6:
        out = [c for c in sorted(set(eq) - {".", ","}) if rng.random() < 0.5]
        rng.shuffle(out)
        eq += "->" + "".join(out) + ("..." if "..." in eq and rng.random() < 0.5 else "")
    return eq, shapes


def test_einsum_random_equations() -> None:
    """Seeded random equations: values, gradients and torch's whole graph (or torch's error)."""
    rng = random.Random(0)
    for k in range(150):
        eq, shapes = _random_case(rng)
        arrays = [f32(*s, seed=k * 10 + i) for i, s in enumerate(shapes)]
        check(lambda T, *ops, eq=eq: _e(T)(eq, *ops), *arrays, seed=k)
        graphs = []
        for T in (torch, engine):
            try:
                graphs.append(graph(_e(T)(eq, *[T.tensor(a, requires_grad=True) for a in arrays]), depth=32))
            except RuntimeError as e:
                graphs.append(str(e))
        if helpers.DEVICE != "cpu":
            # which reshape node torch records (a view, _reshape_alias, or a copy) depends on the memory layout of
            # intermediate results, which on the device is the array library's (the emulator's numpy reductions
            # keep their input's layout); the node structure must still be torch's
            graphs = [_reshape_kinds(g) for g in graphs]
        assert graphs[1] == graphs[0], eq


def _reshape_kinds(g: str) -> list:
    reshapes = ("ViewBackward0", "ReshapeAliasBackward0", "UnsafeViewBackward0")
    return ["reshape" if w in reshapes else w for w in re.findall(r"\w+", g) if w != "CloneBackward0"]
