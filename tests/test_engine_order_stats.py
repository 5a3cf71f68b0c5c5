"""engine/ops/order_stats.py against PyTorch (the oracle, on the cpu): cummax, cummin, mode, kthvalue, aminmax,
nanmedian, nanmean, msort and logcumsumexp. Values, dtypes, the index torch's cpu kernels pick among equal
values (on seeded and hypothesis-drawn inputs full of ties, nans and signed zeros), printing, errors,
gradients and grad_fn names, in the function and the method forms."""

from __future__ import annotations

import math
import os
from collections.abc import Callable
from typing import Any

import helpers
import numpy as np
import pytest
import torch
from helpers import Arg, check, graph, make, same, same_error
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.ops import order_stats as O
from engine.ops import std_algorithms as S
from engine.tensor import Tensor as ETensor

# every test runs once per device: [cpu] and [cuda] (skipped without a GPU; see conftest.py)
pytestmark = pytest.mark.usefixtures("device")

FAST = settings(
    max_examples=int(os.environ.get("ENGINE_EXAMPLES", "15")),
    deadline=None,
    suppress_health_check=list(HealthCheck),
)
NAN = math.nan


def ops(T: Any) -> Any:
    """The functions under test: torch's, or the engine's from engine.ops.order_stats."""
    return torch if T is torch else O


def meth(T: Any, x: Any, name: str, *args: Any, **kwargs: Any) -> Any:
    """The method form: x.name(...) in torch; the engine's method function (or the function) with x first."""
    if T is torch:
        return getattr(x, name)(*args, **kwargs)
    return getattr(O, name + "_method", getattr(O, name))(x, *args, **kwargs)


def minmax(r: Any, text: bool = True) -> tuple:
    """An aminmax result as the helpers compare it: its type's name, its two tensors and how it prints (on the
    cpu without grad_fn: a device's name or a grad_fn in the text wraps long lines differently; test_printing
    covers those on short tensors)."""
    text = repr(r) if text and helpers.DEVICE == "cpu" and not r[0].requires_grad else None
    return type(r).__name__, tuple(r), text, repr(type(r))


def exact(r: Any) -> tuple:
    """A result with the signs of its values' zeros too (the comparison of values takes -0.0 for 0.0), as
    -0. and 0. print differently."""
    v = r if isinstance(r, (torch.Tensor, ETensor)) else r[0]
    return r, [math.copysign(1.0, f) for f in v.detach().flatten().tolist()]


def tie_data(shape: tuple, seed: int, kind: str, dtype: str = "float64") -> np.ndarray:
    """Few distinct values (so ties everywhere); `nan` adds nans, `zeros` signed zeros and nans, `allnan`
    rows of nans only."""
    rng = np.random.default_rng(seed)
    x = rng.integers(-2, 3, size=shape).astype(np.float64)
    if kind in ("nan", "zeros"):
        x[rng.random(shape) < 0.25] = NAN
    if kind == "zeros":
        x[x == 0] = np.where(rng.random(shape) < 0.5, -0.0, 0.0)[x == 0]
    if kind == "allnan" and x.ndim:
        x[..., : max(1, x.shape[-1] // 2)] = NAN
        x.reshape(-1, x.shape[-1])[::2] = NAN
    if dtype not in ("float16", "float32", "float64"):
        x = np.nan_to_num(x)
    return x.astype(dtype)


# ---- fixed cases: values, indices, dtypes, 0-dim and empty inputs ------------------------------------
CASES: dict[str, Callable] = {
    # cummax / cummin: the latest of equal values takes the lead; a nan takes it and keeps it to the next nan
    "cummax_ties": lambda T: ops(T).cummax(T.tensor([1, 3, 3, 2, 3]), 0),
    "cummin_ties": lambda T: ops(T).cummin(T.tensor([3, 1, 1, 2, 1]), 0),
    "cummax_nan": lambda T: ops(T).cummax(T.tensor([1.0, NAN, 2.0, NAN, 5.0]), 0),
    "cummin_nan_first": lambda T: ops(T).cummin(T.tensor([NAN, -1.0, NAN, -5.0]), 0),
    "cummax_2d_dim0": lambda T: ops(T).cummax(T.tensor([[1, 5, 2], [3, 5, 0], [3, 1, 9]]), 0),
    "cummin_neg_dim": lambda T: ops(T).cummin(T.tensor([[1.0, 5, 2], [3, 5, 0]]), -1),
    "cummax_bool": lambda T: ops(T).cummax(T.tensor([False, True, False, True]), 0),
    "cummin_bool": lambda T: ops(T).cummin(T.tensor([True, False, True, False]), 0),
    "cummax_half": lambda T: ops(T).cummax(T.tensor([1.0, 3.0, 2.0], dtype=T.float16), 0),
    "cummin_uint8": lambda T: ops(T).cummin(T.tensor([4, 2, 9, 2], dtype=T.uint8), dim=0),
    "cummax_int8": lambda T: ops(T).cummax(T.tensor([-4, -2, -9, -2], dtype=T.int8), 0),
    "cummax_0d": lambda T: ops(T).cummax(T.tensor(2.5), 0),
    "cummin_0d_neg": lambda T: ops(T).cummin(T.tensor(7), -1),
    "cummax_empty": lambda T: ops(T).cummax(T.zeros(0, 3), 0),
    "cummin_empty_other": lambda T: ops(T).cummin(T.zeros(2, 0), 0),
    "cummax_signed_zero": lambda T: exact(ops(T).cummax(T.tensor([0.0, -0.0, 0.0, -0.0]), 0)),
    "cummin_signed_zero": lambda T: exact(ops(T).cummin(T.tensor([-0.0, 0.0, -0.0, 0.0]), 0)),
    "cummax_inf": lambda T: ops(T).cummax(T.tensor([-math.inf, -math.inf, math.inf, 1.0]), 0),
    # mode: the smallest most frequent value; its index is where torch's std::sort leaves it
    "mode_1d": lambda T: ops(T).mode(T.tensor([1, 2, 2, 3, 3])),
    "mode_rows": lambda T: ops(T).mode(T.tensor([[1, 2, 2], [3, 3, 1]])),
    "mode_dim0_keepdim": lambda T: ops(T).mode(T.tensor([[1, 2, 2], [3, 3, 1]]), 0, True),
    "mode_kw": lambda T: ops(T).mode(T.tensor([[1, 2, 2], [3, 3, 1]]), dim=0, keepdim=False),
    "mode_nan": lambda T: ops(T).mode(T.tensor([1.0, NAN, NAN, 2.0])),
    "mode_all_nan": lambda T: ops(T).mode(T.tensor([NAN, NAN, NAN])),
    "mode_bool": lambda T: ops(T).mode(T.tensor([True, False, True])),
    "mode_half": lambda T: ops(T).mode(T.tensor([2.0, 1.0, 2.0], dtype=T.float16)),
    "mode_0d": lambda T: ops(T).mode(T.tensor(3)),
    "mode_0d_dim0": lambda T: ops(T).mode(T.tensor(3.0), 0, True),
    "mode_empty_rows": lambda T: ops(T).mode(T.zeros(0, 2)),
    "mode_empty_other": lambda T: ops(T).mode(T.zeros(2, 0), 0),
    "mode_distinct": lambda T: ops(T).mode(T.tensor([5.0, 3.0, 4.0])),
    "mode_signed_zero": lambda T: exact(ops(T).mode(T.tensor([-0.0, 0.0, 1.0, 0.0, -0.0]))),
    "mode_long_row": lambda T: ops(T).mode(T.tensor([i % 3 for i in range(40)])),
    # kthvalue: dim=-1 by default; nans rank above everything
    "kth_1d": lambda T: ops(T).kthvalue(T.tensor([3.0, 1.0, 2.0]), 2),
    "kth_dim0": lambda T: ops(T).kthvalue(T.tensor([[3.0, 1], [2, 2]]), 1, dim=0),
    "kth_keepdim": lambda T: ops(T).kthvalue(T.tensor([[1, 2], [3, 4]]), 1, keepdim=True),
    "kth_nan": lambda T: ops(T).kthvalue(T.tensor([1.0, NAN, 3.0, NAN]), 3),
    "kth_nan_last": lambda T: ops(T).kthvalue(T.tensor([1.0, NAN, 3.0, NAN]), 4),
    "kth_half": lambda T: ops(T).kthvalue(T.tensor([2.0, 1.0], dtype=T.float16), 1),
    "kth_uint8": lambda T: ops(T).kthvalue(T.tensor([7, 1, 4], dtype=T.uint8), 3),
    "kth_0d": lambda T: ops(T).kthvalue(T.tensor(5.0), 1),
    "kth_empty_other": lambda T: ops(T).kthvalue(T.zeros(2, 0), 1, 0),
    "kth_empty_rows": lambda T: ops(T).kthvalue(T.zeros(0, 2), 2),
    "kth_numpy_k": lambda T: ops(T).kthvalue(T.tensor([3.0, 1.0, 2.0]), np.int64(1)),
    "kth_signed_zero": lambda T: exact(ops(T).kthvalue(T.tensor([0.0, -0.0, 1.0, -0.0, 0.0]), 2)),
    # aminmax: (min, max); a nan anywhere is both
    "aminmax_all": lambda T: minmax(ops(T).aminmax(T.tensor([[3.0, 1.0, 2.0], [0.5, 7.0, 7.0]]))),
    "aminmax_dim": lambda T: minmax(ops(T).aminmax(T.tensor([[3.0, 1.0, 2.0], [0.5, 7.0, 7.0]]), dim=1)),
    "aminmax_dim_keepdim": lambda T: minmax(ops(T).aminmax(T.tensor([[3, 1, 2], [0, 7, 7]]), dim=0, keepdim=True)),
    "aminmax_all_keepdim": lambda T: minmax(ops(T).aminmax(T.tensor([[1.0, 2.0]]), keepdim=True)),
    "aminmax_nan": lambda T: minmax(ops(T).aminmax(T.tensor([[1.0, NAN, 3.0], [1.0, 2.0, 3.0]]), dim=1)),
    "aminmax_bool": lambda T: minmax(ops(T).aminmax(T.tensor([True, False]))),
    "aminmax_half": lambda T: minmax(ops(T).aminmax(T.tensor([1.0, 2.0], dtype=T.float16))),
    "aminmax_0d": lambda T: minmax(ops(T).aminmax(T.tensor(3.0))),
    "aminmax_0d_dim": lambda T: minmax(ops(T).aminmax(T.tensor(3.0), dim=0, keepdim=True)),
    "aminmax_empty_rows": lambda T: minmax(ops(T).aminmax(T.zeros(0, 2), dim=1)),
    "aminmax_empty_keepdim": lambda T: minmax(ops(T).aminmax(T.zeros(2, 0), dim=0, keepdim=True)),
    "aminmax_dim_none": lambda T: minmax(ops(T).aminmax(T.tensor([1.0, 2.0]), dim=None, keepdim=True)),
    # nanmedian: the lower median of the non-nan values
    "nanmedian_all": lambda T: ops(T).nanmedian(T.tensor([3.0, 1.0, NAN, 2.0, 5.0])),
    "nanmedian_all_nan": lambda T: ops(T).nanmedian(T.tensor([NAN, NAN])),
    "nanmedian_int": lambda T: ops(T).nanmedian(T.tensor([1, 2, 3, 4])),
    "nanmedian_half": lambda T: ops(T).nanmedian(T.tensor([1.0, 2.0], dtype=T.float16)),
    "nanmedian_0d": lambda T: ops(T).nanmedian(T.tensor(2.0)),
    "nanmedian_signed_zero": lambda T: exact(ops(T).nanmedian(T.tensor([0.0, -0.0, 1.0, -0.0, 0.0, -1.0]))),
    "nanmedian_dim": lambda T: ops(T).nanmedian(T.tensor([[3.0, 1.0, NAN], [NAN, NAN, NAN]]), 1),
    "nanmedian_dim_keepdim": lambda T: ops(T).nanmedian(T.tensor([[3.0, 1], [2, 2]]), dim=0, keepdim=True),
    "nanmedian_dim_ties": lambda T: ops(T).nanmedian(T.tensor([2, 1, 2, 1, 2, 1]), 0),
    "nanmedian_dim_all_nan_5": lambda T: ops(T).nanmedian(T.full((5,), NAN), 0),
    "nanmedian_dim_0d": lambda T: ops(T).nanmedian(T.tensor(2.0), 0),
    "nanmedian_dim_half": lambda T: ops(T).nanmedian(T.tensor([1.0, 2.0, 0.5], dtype=T.float16), 0),
    "nanmedian_dim_empty_rows": lambda T: ops(T).nanmedian(T.zeros(0, 2), 1),
    # (an empty input's median is nan, converted to the dtype)
    "nanmedian_empty": lambda T: ops(T).nanmedian(T.tensor([])),
    "nanmedian_empty_long": lambda T: ops(T).nanmedian(T.tensor([], dtype=T.int64)),
    "nanmedian_empty_int": lambda T: ops(T).nanmedian(T.tensor([], dtype=T.int32)),
    "nanmedian_empty_int8": lambda T: ops(T).nanmedian(T.tensor([], dtype=T.int8)),
    "nanmedian_empty_bool": lambda T: ops(T).nanmedian(T.tensor([], dtype=T.bool)),
    # nanmean
    "nanmean_all": lambda T: ops(T).nanmean(T.tensor([3.0, 1.0, NAN])),
    "nanmean_dim": lambda T: ops(T).nanmean(T.tensor([[1.0, NAN], [NAN, NAN]]), 1),
    "nanmean_dims_keepdim": lambda T: ops(T).nanmean(T.tensor([[1.0, NAN], [3.0, NAN]]), (0, 1), True),
    "nanmean_keepdim_only": lambda T: ops(T).nanmean(T.tensor([[1.0, NAN], [3.0, 4.0]]), keepdim=True),
    "nanmean_dtype": lambda T: ops(T).nanmean(T.tensor([[1.0, NAN], [3.0, 4.0]]), dtype=T.float64),
    "nanmean_half": lambda T: ops(T).nanmean(T.tensor([1.0, 2.0], dtype=T.float16)),
    "nanmean_empty": lambda T: ops(T).nanmean(T.tensor([])),
    "nanmean_empty_dim": lambda T: ops(T).nanmean(T.zeros(2, 0), 1),
    "nanmean_empty_list": lambda T: ops(T).nanmean(T.ones(2, 3), []),
    "nanmean_0d": lambda T: ops(T).nanmean(T.tensor(1.0), 0),
    # msort
    "msort_2d": lambda T: ops(T).msort(T.tensor([[3, 1], [1, 2], [2, 0]])),
    "msort_0d": lambda T: ops(T).msort(T.tensor(3.0)),
    "msort_empty": lambda T: ops(T).msort(T.zeros(0, 2)),
    "msort_bool": lambda T: ops(T).msort(T.tensor([True, False, True])),
    # logcumsumexp
    "lcse_1d": lambda T: ops(T).logcumsumexp(T.tensor([3.0, 1.0, 2.0]), 0),
    "lcse_dim": lambda T: ops(T).logcumsumexp(T.tensor([[3.0, 1.0], [2.0, -5.0]]), dim=-1),
    "lcse_infs": lambda T: ops(T).logcumsumexp(T.tensor([-math.inf, -math.inf, 1.0, math.inf, math.inf, NAN, 2.0]), 0),
    "lcse_inf_first": lambda T: ops(T).logcumsumexp(T.tensor([math.inf, -math.inf, 1.0]), 0),
    "lcse_big": lambda T: ops(T).logcumsumexp(T.tensor([1e30, -1e30, 3.0, 88.0, 89.0]), 0),
    "lcse_half": lambda T: ops(T).logcumsumexp(T.tensor([1.0, 2.0, 0.5, 7.0], dtype=T.float16), 0),
    "lcse_double": lambda T: ops(T).logcumsumexp(T.tensor([1.0, 2.0, 0.5, 7.0], dtype=T.float64), 0),
    "lcse_0d": lambda T: ops(T).logcumsumexp(T.tensor(2.0), 0),
    "lcse_empty": lambda T: ops(T).logcumsumexp(T.zeros(0, 3), 1),
}


@pytest.mark.parametrize("name", list(CASES))
def test_cases(name: str) -> None:
    same(CASES[name])


# ---- the method forms --------------------------------------------------------------------------------
METHODS: dict[str, Callable] = {
    "cummax": lambda T, x: meth(T, x, "cummax", 1),
    "cummin": lambda T, x: meth(T, x, "cummin", dim=0),
    "mode": lambda T, x: meth(T, x, "mode"),
    "mode_dim": lambda T, x: meth(T, x, "mode", 0, True),
    "kthvalue": lambda T, x: meth(T, x, "kthvalue", 2),
    "kthvalue_kw": lambda T, x: meth(T, x, "kthvalue", k=1, dim=0, keepdim=True),
    "aminmax": lambda T, x: minmax(meth(T, x, "aminmax")),
    "aminmax_dim": lambda T, x: minmax(meth(T, x, "aminmax", dim=1)),
    "nanmedian": lambda T, x: meth(T, x, "nanmedian"),
    "nanmedian_dim": lambda T, x: meth(T, x, "nanmedian", 1, keepdim=True),
    "nanmean": lambda T, x: meth(T, x, "nanmean", 0),
    "msort": lambda T, x: meth(T, x, "msort"),
    "logcumsumexp": lambda T, x: meth(T, x, "logcumsumexp", 0),
}


@pytest.mark.parametrize("name", list(METHODS))
def test_method_forms(name: str) -> None:
    x = np.array([[2.0, NAN, 1.0, 2.0], [0.5, 0.5, -1.0, 3.0], [2.0, 1.0, 1.0, NAN]])
    check(METHODS[name], x)


# ---- which index among ties: seeded sweeps and hypothesis -------------------------------------------------
# row lengths on both sides of 16, where torch's std::sort stops being a plain insertion sort
@pytest.mark.parametrize("kind", ["int", "nan", "zeros"])
def test_mode_ties_sweep(kind: str) -> None:
    for seed in range(40):
        n = [3, 9, 16, 17, 23, 40, 70][seed % 7]
        x = tie_data((3, n), seed, kind)
        same(lambda T, x: exact(ops(T).mode(x)), x)


@pytest.mark.parametrize("kind", ["int", "nan", "zeros"])
def test_kthvalue_ties_sweep(kind: str) -> None:
    for seed in range(40):
        n = [2, 5, 9, 16, 17, 31, 64][seed % 7]
        x = tie_data((3, n), seed, kind)
        k = 1 + seed % n
        same(lambda T, x, k=k: exact(ops(T).kthvalue(x, k)), x)


@pytest.mark.parametrize("kind", ["int", "nan", "zeros", "allnan"])
def test_nanmedian_ties_sweep(kind: str) -> None:
    for seed in range(30):
        n = [1, 2, 4, 5, 8, 17, 33][seed % 7]
        x = tie_data((4, n), seed, kind)
        same(lambda T, x: exact(ops(T).nanmedian(x, 1)), x)
        same(lambda T, x: exact(ops(T).nanmedian(x)), x)


@pytest.mark.parametrize("kind", ["int", "nan", "zeros"])
def test_cummax_cummin_ties_sweep(kind: str) -> None:
    for seed in range(20):
        x = tie_data((3, 1 + seed), seed, kind)
        same(lambda T, x: exact(ops(T).cummax(x, 1)), x)
        same(lambda T, x: exact(ops(T).cummin(x, 1)), x)


tie_shapes = st.lists(st.integers(1, 24), min_size=1, max_size=3).map(tuple)
kinds = st.sampled_from(["int", "nan", "zeros"])
dtypes = st.sampled_from(["float64", "float32", "float16", "int64", "uint8", "int8"])


@FAST
@given(tie_shapes, st.integers(0, 2**16), kinds, dtypes, st.data())
def test_order_stats_drawn(shape: tuple, seed: int, kind: str, dtype: str, data: st.DataObject) -> None:
    x = tie_data(shape, seed, kind, dtype)
    if dtype == "uint8":
        x = (x.astype(np.int64) + 2).astype(np.uint8)
    dim = data.draw(st.integers(-len(shape), len(shape) - 1))
    keepdim = data.draw(st.booleans())
    k = data.draw(st.integers(1, shape[dim]))
    same(lambda T, x: ops(T).mode(x, dim, keepdim), x)
    same(lambda T, x: ops(T).kthvalue(x, k, dim, keepdim), x)
    same(lambda T, x: ops(T).cummax(x, dim), x)
    same(lambda T, x: ops(T).cummin(x, dim), x)
    # (not its text: which zero a min or max of -0.0 and 0.0 is follows torch's vectorised reduction order)
    same(lambda T, x: minmax(ops(T).aminmax(x, dim=dim, keepdim=keepdim), text=False), x)
    same(lambda T, x: ops(T).nanmedian(x, dim, keepdim), x)
    same(lambda T, x: ops(T).nanmedian(x), x)
    same(lambda T, x: ops(T).msort(x), x)
    if dtype.startswith("float"):
        same(lambda T, x: ops(T).nanmean(x, dim, keepdim), x)
        same(lambda T, x: ops(T).logcumsumexp(x, dim), x)


@FAST
@given(st.lists(st.integers(1, 40), min_size=1, max_size=3).map(tuple), st.integers(0, 2**16), kinds, dtypes, st.data())
def test_sort_topk_tie_order_drawn(shape: tuple, seed: int, kind: str, dtype: str, data: st.DataObject) -> None:
    """sort (not stable) and topk name the same index among equal values as torch's std::sort / partial_sort /
    nth_element leave there (engine/ops/tie_order.py); cuda keeps the stable order (torch's cuda sort is
    another algorithm), so this is the cpu's."""
    if helpers.DEVICE != "cpu":
        pytest.skip("tie order is the cpu kernels'")
    x = tie_data(shape, seed, kind, dtype)
    dim = data.draw(st.integers(-len(shape), len(shape) - 1))
    k = data.draw(st.integers(0, shape[dim]))
    flag, sort_ = data.draw(st.booleans()), data.draw(st.booleans())
    same(lambda T, x: T.sort(x, dim, descending=flag), x)
    same(lambda T, x: x.argsort(dim, descending=flag), x)
    same(lambda T, x: T.topk(x, k, dim, largest=flag, sorted=sort_), x)


def test_sort_topk_tie_order_long_rows() -> None:
    """Rows past std::sort's insertion threshold (16) and topk's partial_sort switch (k * 64 <= n)."""
    if helpers.DEVICE != "cpu":
        pytest.skip("tie order is the cpu kernels'")
    for seed, shape in enumerate([(300,), (3, 200), (130, 2), (2, 1000), (40000,)]):
        x = tie_data(shape, seed, "nan" if seed % 2 else "int", "float32")
        dim = 0 if shape == (130, 2) else -1
        same(lambda T, x, d=dim: T.sort(x, d), x)
        same(lambda T, x, d=dim: T.sort(x, d, descending=True), x)
        for k in (1, 3, shape[dim] // 2):
            same(lambda T, x, d=dim, k=k: T.topk(x, k, d), x)
            same(lambda T, x, d=dim, k=k: T.topk(x, k, d, largest=False, sorted=False), x)


@FAST
@given(st.lists(st.integers(1, 6), min_size=1, max_size=3).map(tuple), st.integers(0, 2**16), st.data())
def test_gradients_drawn(shape: tuple, seed: int, data: st.DataObject) -> None:
    # ties in the data make the chosen index matter for where the gradient lands
    x = tie_data(shape, seed, "int")
    dim = data.draw(st.integers(-len(shape), len(shape) - 1))
    keepdim = data.draw(st.booleans())
    k = data.draw(st.integers(1, shape[dim]))
    check(lambda T, x: ops(T).mode(x, dim, keepdim), x)
    check(lambda T, x: ops(T).kthvalue(x, k, dim, keepdim), x)
    check(lambda T, x: ops(T).cummax(x, dim), x)
    check(lambda T, x: ops(T).cummin(x, dim), x)
    check(lambda T, x: tuple(ops(T).aminmax(x, dim=dim, keepdim=keepdim)), x)
    check(lambda T, x: ops(T).nanmedian(x, dim, keepdim), x)
    check(lambda T, x: ops(T).logcumsumexp(x, dim), make(shape, "float64", seed=seed))


# ---- gradients and nodes ------------------------------------------------------------------------------
GRADS: dict[str, tuple] = {
    "cummax": (lambda T, x: ops(T).cummax(x, 1), tie_data((3, 6), 1, "int")),
    "cummin_nan": (lambda T, x: ops(T).cummin(x, 0), tie_data((5, 2), 2, "nan")),
    "cummax_0d": (lambda T, x: ops(T).cummax(x, 0), np.array(2.0)),
    "cummax_empty": (lambda T, x: ops(T).cummax(x, 0), np.zeros((0, 3))),
    "mode": (lambda T, x: ops(T).mode(x), tie_data((3, 20), 3, "int")),
    "mode_0d": (lambda T, x: ops(T).mode(x), np.array(2.0)),
    "kthvalue": (lambda T, x: ops(T).kthvalue(x, 2, 0, True), tie_data((6, 3), 4, "int")),
    "kthvalue_0d": (lambda T, x: ops(T).kthvalue(x, 1), np.array(2.0)),
    "aminmax": (lambda T, x: tuple(ops(T).aminmax(x)), tie_data((3, 4), 5, "int")),
    "aminmax_dim": (lambda T, x: tuple(ops(T).aminmax(x, dim=0)), tie_data((3, 4), 6, "int")),
    "aminmax_keepdim": (lambda T, x: tuple(ops(T).aminmax(x, dim=1, keepdim=True)), tie_data((3, 4), 7, "int")),
    "aminmax_min_only": (lambda T, x: ops(T).aminmax(x, dim=1).min, tie_data((3, 4), 8, "int")),
    "aminmax_max_only": (lambda T, x: ops(T).aminmax(x).max, tie_data((3, 4), 9, "int")),
    "aminmax_nan": (lambda T, x: tuple(ops(T).aminmax(x, dim=1)), tie_data((3, 4), 10, "nan")),
    "aminmax_0d": (lambda T, x: tuple(ops(T).aminmax(x, dim=0)), np.array(2.0)),
    "nanmedian_all": (lambda T, x: ops(T).nanmedian(x), tie_data((3, 4), 11, "nan")),
    "nanmedian_all_nan": (lambda T, x: ops(T).nanmedian(x), np.full((2, 2), NAN)),
    "nanmedian_empty": (lambda T, x: ops(T).nanmedian(x), np.zeros((0, 3))),
    "nanmedian_dim": (lambda T, x: ops(T).nanmedian(x, 1), tie_data((3, 5), 12, "nan")),
    "nanmedian_0d": (lambda T, x: ops(T).nanmedian(x, 0), np.array(2.0)),
    "nanmean": (lambda T, x: ops(T).nanmean(x, 1), tie_data((3, 5), 13, "nan")),
    "nanmean_all": (lambda T, x: ops(T).nanmean(x), tie_data((3, 5), 14, "nan")),
    "msort": (lambda T, x: ops(T).msort(x), tie_data((4, 3), 15, "int")),
    "msort_0d": (lambda T, x: ops(T).msort(x), np.array(2.0)),
    "logcumsumexp": (lambda T, x: ops(T).logcumsumexp(x, 1), make((3, 5), "float64", seed=1)),
    "logcumsumexp_f32": (lambda T, x: ops(T).logcumsumexp(x, 0), make((4, 3), "float32", seed=2)),
    "logcumsumexp_inf": (lambda T, x: ops(T).logcumsumexp(x, 0), np.array([-math.inf, 1.0, 2.0, -math.inf])),
    "logcumsumexp_0d": (lambda T, x: ops(T).logcumsumexp(x, 0), np.array(2.0)),
    "logcumsumexp_empty": (lambda T, x: ops(T).logcumsumexp(x, 1), np.zeros((0, 3))),
}


@pytest.mark.parametrize("name", list(GRADS))
def test_gradients(name: str) -> None:
    fn, x = GRADS[name]
    check(fn, x)


SECOND_ORDER: dict[str, Callable] = {
    "cummax": lambda T, x: ops(T).cummax(x, 1).values,
    "kthvalue": lambda T, x: ops(T).kthvalue(x, 2).values,
    "mode_keepdim": lambda T, x: ops(T).mode(x, 0, True).values,
    "nanmedian_dim": lambda T, x: ops(T).nanmedian(x, 1).values,
    "logcumsumexp": lambda T, x: ops(T).logcumsumexp(x, 1),
}


@pytest.mark.parametrize("name", list(SECOND_ORDER))
def test_second_order(name: str) -> None:
    def fn(T: Any, x: Any) -> tuple:
        x = x.clone().requires_grad_()
        y = SECOND_ORDER[name](T, x)
        (g,) = T.autograd.grad((y**2).sum(), x, create_graph=True)
        (gg,) = T.autograd.grad((g**2).sum(), x)
        return g.grad_fn.name(), g, gg

    same(fn, Arg(np.array([[1.0, 3.0, 3.0, 1.0], [2.0, 2.0, 0.5, 5.0]])))


def test_node_names() -> None:
    def fn(T: Any, x: Any) -> list:
        o = ops(T)
        rs = [o.cummax(x, 0).values, o.cummin(x, 0).values, o.mode(x).values, o.kthvalue(x, 1).values]
        rs += list(o.aminmax(x)) + [o.nanmedian(x), o.nanmedian(x, 0).values, o.nanmean(x), o.msort(x)]
        rs += [o.logcumsumexp(x, 0), o.mode(x[0], 0).values]
        return [graph(r) for r in rs]

    same(fn, np.array([[1.0, 2.0], [3.0, NAN]]))


# ---- printing and return types --------------------------------------------------------------------------
PRINTS: dict[str, Callable] = {
    "cummax": lambda T, x: ops(T).cummax(x, 1),
    "cummin": lambda T, x: ops(T).cummin(x, 0),
    "mode": lambda T, x: ops(T).mode(x),
    "kthvalue": lambda T, x: ops(T).kthvalue(x, 2, 0),
    "aminmax": lambda T, x: ops(T).aminmax(x, dim=1),
    "nanmedian": lambda T, x: ops(T).nanmedian(x, 1, True),
}


@pytest.mark.parametrize("name", list(PRINTS))
def test_printing(name: str) -> None:
    def fn(T: Any, x: Any) -> tuple:
        r = PRINTS[name](T, x)
        return repr(r), str(r), repr(type(r)), type(r).__name__, len(r), repr(r[0]), repr(r[1])

    same(fn, np.array([[2.0, 1.0, 2.0], [0.5, NAN, 0.5]]))


def test_fields() -> None:
    def fn(T: Any) -> tuple:
        x = T.tensor([[2.0, 1.0], [1.0, 1.0]])
        lo, hi = ops(T).aminmax(x)
        v, i = ops(T).kthvalue(x, 1)
        r = ops(T).nanmedian(x, 0)
        return lo, hi, ops(T).aminmax(x).min, ops(T).aminmax(x).max, v, i, r.values, r.indices, r[1]

    same(fn)


def test_return_types_module() -> None:
    def fn(T: Any) -> list:
        x = T.tensor([[2.0, 1.0], [1.0, 1.0]])
        o, rt = ops(T), T.return_types
        pairs = [(o.cummax(x, 0), rt.cummax), (o.cummin(x, 0), rt.cummin), (o.mode(x), rt.mode)]
        pairs += [(o.kthvalue(x, 1), rt.kthvalue), (o.aminmax(x), rt.aminmax), (o.nanmedian(x, 0), rt.nanmedian)]
        outs = [rt.cummax_out, rt.cummin_out, rt.mode_out, rt.kthvalue_out, rt.aminmax_out, rt.nanmedian_out]
        return [isinstance(r, cls) for r, cls in pairs] + [repr(cls) for _, cls in pairs] + [repr(c) for c in outs]

    same(fn)


def test_out() -> None:
    def fn(T: Any) -> list:
        x = T.tensor([[3.0, 1.0, 2.0], [1.0, 1.0, 0.0]])
        o = ops(T)

        def pair() -> tuple:
            return T.empty(0), T.empty(0, dtype=T.int64)

        rs = [o.cummax(x, 1, out=pair()), o.cummin(x, 0, out=pair()), o.mode(x, out=pair())]
        rs += [o.kthvalue(x, 2, out=pair()), o.nanmedian(x, 1, out=pair())]
        rs += [o.nanmean(x, 1, out=T.empty(0)), o.msort(x, out=T.empty(0)), o.logcumsumexp(x, 1, out=T.empty(0))]
        r = o.aminmax(x, dim=0, out=(T.empty(0), T.empty(0)))
        return rs + [minmax(r)]

    same(fn)


def test_out_with_grad_is_refused() -> None:
    same_error(
        lambda T, x: ops(T).kthvalue(x.requires_grad_(), 1, out=(T.empty(0), T.empty(0, dtype=T.int64))), np.ones(3)
    )


# ---- errors -------------------------------------------------------------------------------------------
ERRORS: dict[str, Callable] = {
    # missing and mistyped arguments: torch's argument parser
    "cummax_no_dim": lambda T: ops(T).cummax(T.ones(2)),
    "cummin_dim_float": lambda T: ops(T).cummin(T.ones(2), 0.5),
    "cummax_dim_float_kw": lambda T: ops(T).cummax(T.ones(2), dim=0.5),
    "cummax_dim_none_kw": lambda T: ops(T).cummax(T.ones(2), dim=None),
    "cummax_too_many": lambda T: ops(T).cummax(T.ones(2), 0, 1),
    "kth_too_many": lambda T: ops(T).kthvalue(T.ones(2), 1, 0, False, 2),
    "lcse_too_many": lambda T: ops(T).logcumsumexp(T.ones(2), 0, 1),
    "nanmedian_too_many": lambda T: ops(T).nanmedian(T.ones(2), 0, False, 1),
    "nanmean_too_many": lambda T: ops(T).nanmean(T.ones(2), 0, False, 1),
    "aminmax_too_many": lambda T: ops(T).aminmax(T.ones(2), 0, 1),
    "kth_no_k": lambda T: ops(T).kthvalue(T.ones(2)),
    "kth_k_float": lambda T: ops(T).kthvalue(T.ones(2), 1.0),
    "kth_k_bool": lambda T: ops(T).kthvalue(T.ones(2), True),
    "kth_k_float_kw": lambda T: ops(T).kthvalue(T.ones(2), k=1.5),
    "kth_dim_float": lambda T: ops(T).kthvalue(T.ones(2), 1, 0.5),
    "kth_dim_bool": lambda T: ops(T).kthvalue(T.ones(2), 1, True),
    "kth_keepdim_int": lambda T: ops(T).kthvalue(T.ones(2), 1, 0, 1),
    "kth_keepdim_none": lambda T: ops(T).kthvalue(T.ones(2), 1, 0, None),
    "mode_dim_none": lambda T: ops(T).mode(T.ones(2), None),
    "mode_keepdim_int": lambda T: ops(T).mode(T.ones(2), 0, 5),
    "mode_keepdim_none_kw": lambda T: ops(T).mode(T.ones(2), keepdim=None),
    "mode_too_many": lambda T: ops(T).mode(T.ones(2), 0, False, 3),
    "aminmax_positional": lambda T: ops(T).aminmax(T.ones(2), 0),
    "aminmax_dim_float": lambda T: ops(T).aminmax(T.ones(2), dim=0.5),
    "aminmax_dim_tuple": lambda T: ops(T).aminmax(T.ones(2), dim=(0,)),
    "aminmax_keepdim_int": lambda T: ops(T).aminmax(T.ones(2), keepdim=1),
    "nanmedian_dim_none": lambda T: ops(T).nanmedian(T.ones(2), None),
    "nanmedian_dim_float": lambda T: ops(T).nanmedian(T.ones(2), 0.5),
    "nanmedian_keepdim_only": lambda T: ops(T).nanmedian(T.ones(2), keepdim=True),
    "nanmean_dim_float": lambda T: ops(T).nanmean(T.ones(2), 0.5),
    "msort_dim": lambda T: ops(T).msort(T.ones(2), 0),
    "lcse_no_dim": lambda T: ops(T).logcumsumexp(T.ones(2)),
    "lcse_dim_none": lambda T: ops(T).logcumsumexp(T.ones(2), None),
    "lcse_dim_float_kw": lambda T: ops(T).logcumsumexp(T.ones(2), dim=0.5),
    # dims out of range
    "cummax_dim_range": lambda T: ops(T).cummax(T.ones(2), 3),
    "cummin_0d_dim": lambda T: ops(T).cummin(T.tensor(1), -2),
    "cummax_0d_dim": lambda T: ops(T).cummax(T.tensor(1.0), 1),
    "mode_dim_range": lambda T: ops(T).mode(T.ones(2), 2),
    "mode_0d_dim": lambda T: ops(T).mode(T.tensor(3), 1),
    "kth_dim_range": lambda T: ops(T).kthvalue(T.ones(2, 3), 1, 2),
    "aminmax_dim_range": lambda T: ops(T).aminmax(T.ones(1), dim=3),
    "aminmax_0d_dim": lambda T: ops(T).aminmax(T.tensor(1.0), dim=1),
    "nanmedian_dim_range": lambda T: ops(T).nanmedian(T.zeros(2, 3), 2),
    "nanmean_dim_range": lambda T: ops(T).nanmean(T.ones(2), 3),
    "nanmean_dim_twice": lambda T: ops(T).nanmean(T.ones(2), (0, 0)),
    "lcse_dim_range": lambda T: ops(T).logcumsumexp(T.ones(2), 3),
    "lcse_0d_dim": lambda T: ops(T).logcumsumexp(T.tensor(2.0), 1),
    # empty reductions
    "mode_empty": lambda T: ops(T).mode(T.tensor([])),
    "mode_empty_dim": lambda T: ops(T).mode(T.zeros(2, 0)),
    "mode_empty_dim0": lambda T: ops(T).mode(T.zeros(0, 2), 0),
    "kth_empty": lambda T: ops(T).kthvalue(T.tensor([]), 1),
    "kth_empty_big_k": lambda T: ops(T).kthvalue(T.tensor([]), 5),
    "kth_empty_bool": lambda T: ops(T).kthvalue(T.tensor([], dtype=T.bool), 1),
    "aminmax_empty": lambda T: ops(T).aminmax(T.tensor([])),
    "aminmax_empty_keepdim": lambda T: ops(T).aminmax(T.zeros(2, 0), keepdim=True),
    "aminmax_empty_dim": lambda T: ops(T).aminmax(T.zeros(2, 0), dim=-1),
    "aminmax_empty_dim0": lambda T: ops(T).aminmax(T.zeros(0, 2), dim=0),
    "nanmedian_empty_dim": lambda T: ops(T).nanmedian(T.tensor([]), 0),
    "nanmedian_empty_dim_bool": lambda T: ops(T).nanmedian(T.tensor([], dtype=T.bool), 0),
    "nanmedian_empty_rows": lambda T: ops(T).nanmedian(T.zeros(2, 0), -1),
    # k out of range
    "kth_k0": lambda T: ops(T).kthvalue(T.tensor([3.0, 1, 2]), 0),
    "kth_k_big": lambda T: ops(T).kthvalue(T.tensor([3.0, 1, 2]), 4),
    "kth_k_negative": lambda T: ops(T).kthvalue(T.tensor([3.0, 1, 2]), -1),
    "kth_k_big_2d": lambda T: ops(T).kthvalue(T.zeros(2, 3), 5),
    "kth_k_big_dim0": lambda T: ops(T).kthvalue(T.zeros(2, 3), 5, 0),
    "kth_k_big_empty_rows": lambda T: ops(T).kthvalue(T.zeros(0, 2), 5, 1),
    "kth_k0_empty_other": lambda T: ops(T).kthvalue(T.zeros(2, 0), 0, 0),
    "kth_0d_k2": lambda T: ops(T).kthvalue(T.tensor(5.0), 2),
    "kth_0d_k0": lambda T: ops(T).kthvalue(T.tensor(5.0), 0),
    "kth_bool_big_k": lambda T: ops(T).kthvalue(T.tensor([True]), 5),
    # dtypes
    "kth_bool": lambda T: ops(T).kthvalue(T.tensor([True, False]), 1),
    "nanmedian_bool": lambda T: ops(T).nanmedian(T.tensor([True, False])),
    "nanmedian_dim_bool": lambda T: ops(T).nanmedian(T.tensor([True]), 0),
    "nanmean_long": lambda T: ops(T).nanmean(T.tensor([1, 2])),
    "nanmean_bool": lambda T: ops(T).nanmean(T.tensor([True])),
    "nanmean_long_float_dtype": lambda T: ops(T).nanmean(T.tensor([1, 2]), dtype=T.float32),
    "nanmean_int_dtype": lambda T: ops(T).nanmean(T.tensor([1.0]), dtype=T.int64),
    "lcse_long": lambda T: ops(T).logcumsumexp(T.tensor([1, 2]), 0),
    "lcse_bool": lambda T: ops(T).logcumsumexp(T.tensor([True]), 0),
    "lcse_empty_long": lambda T: ops(T).logcumsumexp(T.tensor([], dtype=T.int64), 0),
}


@pytest.mark.parametrize("name", list(ERRORS))
def test_errors(name: str) -> None:
    same_error(ERRORS[name])


METHOD_ERRORS: dict[str, Callable] = {
    "cummax_dim_float": lambda T, x: meth(T, x, "cummax", 0.5),
    "cummax_dim_none_kw": lambda T, x: meth(T, x, "cummax", dim=None),
    "kthvalue_dim_float": lambda T, x: meth(T, x, "kthvalue", 1, 0.5),
    "kthvalue_k_float_kw": lambda T, x: meth(T, x, "kthvalue", k=1.5),
    "kthvalue_no_k": lambda T, x: meth(T, x, "kthvalue"),
    "mode_keepdim_int": lambda T, x: meth(T, x, "mode", 0, 1),
    "nanmedian_dim_none": lambda T, x: meth(T, x, "nanmedian", None),
    "nanmedian_dim_float_kw": lambda T, x: meth(T, x, "nanmedian", dim=0.5),
    "nanmedian_keepdim_only": lambda T, x: meth(T, x, "nanmedian", keepdim=True),
    "aminmax_positional": lambda T, x: meth(T, x, "aminmax", 0),
    "logcumsumexp_dim_float_kw": lambda T, x: meth(T, x, "logcumsumexp", dim=0.5),
    "nanmean_dim_float": lambda T, x: meth(T, x, "nanmean", 0.5),
    "cummax_too_many": lambda T, x: meth(T, x, "cummax", 0, 1),
    "mode_too_many": lambda T, x: meth(T, x, "mode", 0, False, 3),
    "kthvalue_too_many": lambda T, x: meth(T, x, "kthvalue", 1, 0, False, 2),
    "logcumsumexp_too_many": lambda T, x: meth(T, x, "logcumsumexp", 0, 1),
    "nanmean_too_many": lambda T, x: meth(T, x, "nanmean", 0, False, 1),
}


@pytest.mark.parametrize("name", list(METHOD_ERRORS))
def test_method_errors(name: str) -> None:
    same_error(METHOD_ERRORS[name], np.ones(3))


# ---- the engine's own replays of torch's cpu algorithms -------------------------------------------------
def test_std_sort_replay_sorts() -> None:
    # the replay of libstdc++'s introsort is a correct sort for a strict weak order (the heapsort fallback
    # included: depth 0 from the start), whatever it does with ties
    rng = np.random.default_rng(0)
    for n in (0, 1, 2, 15, 16, 17, 100, 1000):
        a = rng.integers(0, 20, n).tolist()
        b = list(a)
        S.std_sort(b, lambda x, y: x < y)
        assert b == sorted(a)
        c = list(a)
        S._introsort_loop(c, 0, n, 0, lambda x, y: x < y)
        S._insertion_sort(c, 0, n, lambda x, y: x < y)
        assert c == sorted(a)
        e = list(a)
        S.std_partial_sort(e, n // 2, lambda x, y: x < y)
        assert e[: n // 2] == sorted(a)[: n // 2] and sorted(e) == sorted(a)
        if n:
            d = list(a)
            nth = n // 3
            S.std_nth_element(d, nth, lambda x, y: x < y)
            assert d[nth] == sorted(a)[nth]
            assert all(v <= d[nth] for v in d[:nth]) and all(v >= d[nth] for v in d[nth + 1 :])


def test_large_rows_match() -> None:
    # rows long enough for several partitioning rounds, with many ties
    x = tie_data((2, 600), 3, "nan")
    same(lambda T, x: (ops(T).mode(x), ops(T).kthvalue(x, 250), ops(T).nanmedian(x, 1)), x)
    y = tie_data((700,), 4, "int", "int64")
    same(lambda T, y: (ops(T).mode(y), ops(T).kthvalue(y, 350)), y)
