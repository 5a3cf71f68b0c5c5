"""Order statistics and running extremes: cummax, cummin, mode, kthvalue, aminmax, nanmedian, nanmean, msort,
logcumsumexp, with the values, indices, errors and gradients of torch's cpu kernels.

Which index torch returns among equal values is whatever its cpu kernel's algorithm leaves there, not a
documented rule: mode sorts (value, index) pairs on the value alone with libstdc++'s std::sort (an introsort,
not stable) and reports the last pair of the winning run; kthvalue runs torch's own quickselect
(quick_select_template in aten's SortingUtils.h); nanmedian's nth_element compares (value, index), a total
order except among nans. Where the values alone do not fix the answer (a tie at the selected value, or a nan
in a mode row), the row is replayed here on the host with the same algorithm, comparison for comparison; the
vectorised paths answer every other row.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any

import numpy as np

from engine.autograd import Node, next_seq
from engine.backend import host
from engine.bf16 import plain, to_bf16
from engine.dtypes import no_uint_kernel, to_dtype
from engine.grad_mode import ENABLED
from engine.multi_output import grads_of, multi_class, share
from engine.naming import result_type, type_name
from engine.ops import elementwise as E
from engine.ops import index as _index
from engine.ops import reduce as R
from engine.ops.index import scatter_add_new
from engine.ops.std_algorithms import THRESHOLD as _THRESHOLD
from engine.ops.std_algorithms import std_nth_element, std_sort
from engine.ops.util import edge_of, node_class, norm_dim
from engine.tensor import Tensor, wrap, wrap_any

_MISSING: Any = object()  # a required argument not passed (torch's parser names it in its TypeError)


# ---- torch's argument parser ---------------------------------------------------------------------------
def _is_int(v: Any) -> bool:
    if isinstance(v, (bool, np.bool_)):
        return False
    if isinstance(v, (int, np.integer)):
        return True
    return isinstance(v, Tensor) and v._data.ndim == 0 and v._data.dtype.kind in "iu"


def _is_ints(v: Any) -> bool:
    return v is None or _is_int(v) or (isinstance(v, (tuple, list)) and all(_is_int(x) for x in v))


_ACCEPTS: dict[str, Callable[[Any], bool]] = {
    "int": _is_int,
    "int?": lambda v: v is None or _is_int(v),
    "bool": lambda v: isinstance(v, (bool, np.bool_)),
    "ints?": _is_ints,
}
_EXPECTED = {"int": "int", "int?": "int", "bool": "bool", "ints?": "tuple of ints"}


def _parsed(name: str, required: int | None = None, **kinds: str) -> Callable[[Callable], Callable]:
    """Check the arguments as torch's argument parser does, before the op runs. A wrong type is its TypeError,
    which names the argument and, when it was passed positionally, its position (counted from the input in
    the function form, from the first argument after self in the method form, `_method=True`). With
    `required` (the positional parameters torch's schema requires), too many positional arguments are
    counted as torch counts them (its schema, not this signature, says which have defaults)."""

    def deco(fn: Callable) -> Callable:
        params = inspect.signature(fn).parameters
        # (a keyword-only parameter has no position)
        index = {
            p: list(params).index(p) if params[p].kind is params[p].POSITIONAL_OR_KEYWORD else 1 << 30 for p in kinds
        }
        total = sum(1 for p in params.values() if p.kind is p.POSITIONAL_OR_KEYWORD)

        @functools.wraps(fn)
        def parsed(*args: Any, _method: bool = False, **kwargs: Any) -> Any:
            if not kwargs and len(args) == 1:  # x.argmax(): nothing to check (a hot path)
                return fn(args[0])
            if required is not None and len(args) > total:
                raise _too_many(name, required - _method, total - _method, len(args) - _method)
            for p, kind in kinds.items():
                if p in kwargs:
                    v, pos = kwargs[p], None
                elif index[p] < len(args):
                    v, pos = args[index[p]], index[p] + (0 if _method else 1)
                else:
                    continue
                if v is not _MISSING and v is not R.NODIM and v is not R.NOKEEP and not _ACCEPTS[kind](v):
                    at = f" (position {pos})" if pos is not None else ""
                    raise TypeError(f"{name}(): argument '{p}'{at} must be {_EXPECTED[kind]}, not {type_name(v)}")
            return fn(*args, **kwargs)

        return parsed

    return deco


def _too_many(name: str, required: int, total: int, given: int) -> TypeError:
    takes = f"{total} positional argument{'' if total == 1 else 's'}"
    if required < total:
        takes = f"from {required} to {total} positional arguments"
    return TypeError(f"{name}() takes {takes} but {given} {'was' if given == 1 else 'were'} given")


def _missing(name: str, arg: str) -> TypeError:
    return TypeError(f'{name}() missing 1 required positional arguments: "{arg}"')


def _not_implemented(kernel: str, t: Tensor) -> NotImplementedError:
    # the cpu kernel's name: the engine is checked against torch's cpu kernels on every device
    return NotImplementedError(f"\"{kernel}\" not implemented for '{t.dtype.scalar_name()}'")


def _nonempty_dim(name: str, d: Any, ax: int) -> None:
    """torch's zero_numel_check_dims: an empty input may not be reduced along a dimension of size 0."""
    if d.size == 0 and d.shape[ax] == 0:
        raise IndexError(f"{name}: Expected reduction dim {ax} to have non-zero size.")


# ---- return types --------------------------------------------------------------------------------------
nanmedian_type = R._rt("nanmedian")
nanmedian_out_type = R._rt("nanmedian_out")


aminmax_type = result_type("aminmax", "min", "max")
aminmax_out_type = result_type("aminmax_out", "min", "max")
frexp_type = result_type("frexp", "mantissa", "exponent")
frexp_out_type = result_type("frexp_out", "mantissa", "exponent")
_OUT_TYPES = {aminmax_type: aminmax_out_type, nanmedian_type: nanmedian_out_type, frexp_type: frexp_out_type}


def _finish(r: Any, out: Any) -> Any:
    """out=: the results written into the given tensors, returned as torch's *_out return type."""
    if out is None:
        return r
    from engine.ops.inplace import write_out

    if isinstance(r, tuple):
        cls = _OUT_TYPES.get(type(r)) or R.RT[type(r)._name + "_out"]
        return cls(*(write_out(o, x) for o, x in zip(out, r)))
    return write_out(out, r)


# ---- backward formulas (engine ops, so create_graph differentiates them) ----------------------------
def _identity_bw(self: Node, g: Tensor) -> tuple:
    return (g,)


# torch's scatter_/scatter_add_ into a 0-dim tensor is a copy; recorded under the scatter's name
_Scatter0d = node_class("ScatterBackward0", _identity_bw)
_ScatterAdd0d = node_class("ScatterAddBackward0", _identity_bw)


def _copy_as(g: Tensor, cls: type) -> Tensor:
    t = wrap(g._data.copy(), g._dev)
    if ENABLED[0] and g._rg:
        R._node(cls, t, (g,), (), ())
    return t


def _select_bw(self: Node, g: Tensor, shape: tuple, dim: int, idx: Tensor, keepdim: bool) -> tuple:
    """torch's value_selecting_reduction_backward: zeros with the gradient scattered to the chosen indices."""
    if not shape:
        return (_copy_as(g, _Scatter0d),)
    return R._select_bw(self, g, shape, dim, idx, keepdim)


def _cum_bw(self: Node, g: Tensor, empty: Tensor | None, shape: tuple, dim: int, idx: Tensor) -> tuple:
    """torch's cummaxmin_backward: zeros.scatter_add_(dim, indices, grad); an empty input is handed back as
    its own gradient (torch returns `input` there)."""
    if empty is not None:
        return (empty,)
    if not shape:
        return (_copy_as(g, _ScatterAdd0d),)
    return (scatter_add_new(g, dim, idx, shape),)


def _aminmax_share(g: Tensor, x: Tensor, y: Tensor, dims: tuple | None, keepdim: bool) -> Tensor:
    """One output's share of torch's aminmax_backward: (grad / count) * mask over the elements equal to
    that output (a nan result matches nothing, so its gradient is nan, as in torch)."""
    shape = x._data.shape
    if not shape:
        mask = x == y
        return (g / mask.sum()) * mask
    kept = tuple(1 if dims is None or i in dims else n for i, n in enumerate(shape))
    if dims is None or not keepdim:
        g, y = g.reshape(kept), y.reshape(kept)
    mask = x == y
    count = mask.sum(dim=tuple(range(len(shape))) if dims is None else dims, keepdim=True)
    return (g / count) * mask


def _aminmax_bw(self: Node, g: Any, x: Tensor, lo: Tensor, hi: Tensor, dims: tuple | None, keepdim: bool) -> tuple:
    """torch's aminmax formula: the min's share (where min got a gradient) plus the max's."""
    gl, gh = grads_of(g, 2)
    r = None if gl is None else _aminmax_share(gl, x, lo, dims, keepdim)
    if gh is not None:
        h = _aminmax_share(gh, x, hi, dims, keepdim)
        r = h if r is None else r + h
    return (r,)


def _evenly_bw(self: Node, g: Tensor, x: Tensor, y: Tensor, dims: Any, keepdim: bool) -> tuple:
    """torch's evenly_distribute_backward (its cpu branch): zeros, with grad / count where the input equals
    the result (where the input is nan, for a nan result)."""
    from engine.creation import zeros_like

    mask = x.isnan() if bool(host(y._data != y._data)) else x == y
    return (zeros_like(x).masked_fill(mask, g / mask.sum()),)


def _logcumsumexp_bw(self: Node, g: Tensor, x: Tensor, y: Tensor, dim: int) -> tuple:
    """torch's logcumsumexp_backward: the positive and negative parts of grad in log space, each through a
    reversed logcumsumexp, so that nothing overflows."""
    gd = g._data
    if gd.ndim == 0 or gd.size == 0:
        return (g,)
    lowest = float(np.finfo(gd.dtype).min)
    log_abs = g.abs().log()
    pos = E.where(g > 0, log_abs, lowest)
    neg = E.where(g < 0, log_abs, lowest)

    def reverse(t: Tensor) -> Tensor:
        return logcumsumexp(t.flip(dim), dim).flip(dim)

    return ((reverse(pos - y) + x).exp() - (reverse(neg - y) + x).exp(),)


CummaxBackward0 = node_class("CummaxBackward0", _cum_bw)
CumminBackward0 = node_class("CumminBackward0", _cum_bw)
ModeBackward0 = node_class("ModeBackward0", _select_bw)
KthvalueBackward0 = node_class("KthvalueBackward0", _select_bw)
NanmedianBackward0 = node_class("NanmedianBackward0", _evenly_bw)
NanmedianBackward1 = node_class("NanmedianBackward1", _select_bw)
AminmaxBackward0 = multi_class("AminmaxBackward0", _aminmax_bw)
LogcumsumexpBackward0 = node_class("LogcumsumexpBackward0", _logcumsumexp_bw)


# ---- replays of torch's cpu algorithms (host, one row at a time) --------------------------------------
def _mode_replay(row: list) -> int:
    """torch's mode_kernel_impl on one row: the index it reports."""
    order = list(range(len(row)))
    std_sort(order, lambda i, j: row[i] < row[j])  # (its comparator looks at the value only)
    modei = freq = best = 0
    n = len(order)
    for i in range(n):
        freq += 1
        if i == n - 1 or row[order[i]] != row[order[i + 1]]:
            if freq > best:
                modei, best = order[i], freq
            freq = 0
    return modei


def _kth_replay(row: list, k: int) -> int:
    """torch's quick_select_template for kthvalue on one row (nan above everything): the index at k - 1."""
    vals = list(row)
    idx = list(range(len(row)))

    def gt(x: Any, y: Any) -> bool:
        return (x != x and y == y) or x > y

    def swap(i: int, j: int) -> None:
        vals[i], vals[j] = vals[j], vals[i]
        idx[i], idx[j] = idx[j], idx[i]

    k -= 1
    lo, hi = 0, len(vals) - 1
    while hi > lo:
        if hi == lo + 1:
            if gt(vals[lo], vals[hi]):
                swap(lo, hi)
            break
        swap(lo + (hi - lo) // 2, lo + 1)  # median of three as the pivot, at lo
        if gt(vals[lo + 1], vals[hi]):
            swap(lo + 1, hi)
        if gt(vals[lo], vals[hi]):
            swap(lo, hi)
        if gt(vals[lo + 1], vals[lo]):
            swap(lo + 1, lo)
        i, j, piv = lo + 1, hi, vals[lo]
        while True:
            i += 1
            while gt(piv, vals[i]):
                i += 1
            j -= 1
            while gt(vals[j], piv):
                j -= 1
            if j < i:
                break
            swap(i, j)
        swap(lo, j)
        if j <= k:
            lo = i
        if j >= k:
            hi = j - 1
    return idx[k]


@functools.lru_cache(maxsize=256)
def _all_nan_index(n: int) -> int:
    """The index nanmedian reports for a row of n nans: torch's nth_element sees them all as equivalent and
    leaves one of them at position 0, depending on n alone."""
    order = list(range(n))
    std_nth_element(order, 0, lambda i, j: False)
    return order[0]


# ---- helpers over rows ------------------------------------------------------------------------------
def _rows(input: Tensor, ax: int) -> tuple:  # noqa: A002
    """The input on the host with the reduced dim last, as (rows, n) and the shape the indices take."""
    h = host(input._data)
    if h.ndim == 0:
        h = h.reshape(1)
    m = np.moveaxis(h, ax, -1)
    return m.reshape(-1, m.shape[-1]), m.shape[:-1]


def _select(input: Tensor, ax: int, idx: np.ndarray, keepdim: bool, cls: type, rt: type) -> Any:  # noqa: A002
    """The (values, indices) pair for host indices chosen along ax (shaped as the input without ax)."""
    d = input._data
    xp = input._dev.xp
    if d.ndim == 0:
        vals, it = d.copy(), xp.asarray(idx.reshape(()))
    else:
        it = xp.asarray(np.expand_dims(idx, ax))
        vals = xp.take_along_axis(d, it, axis=ax)
        if not keepdim:
            vals, it = vals.squeeze(ax), it.squeeze(ax)
    vt = wrap(vals, input._dev)
    ti = wrap(it, input._dev)
    if ENABLED[0] and input._rg:
        R._node(cls, vt, (input,), (d.shape, ax, ti, keepdim), (None, None, None, None))
    return rt(vt, ti)


def _scan(xp: Any, op: str, a: Any, ax: int) -> Any:
    """A running maximum/minimum along ax. cupy's ufuncs have no accumulate but for add and multiply, so on a
    device it is a log-step scan (each step combines every element with the one 2^s before it)."""
    if xp is np:
        return getattr(np, op).accumulate(a, axis=ax)
    f = getattr(xp, op)
    n = a.shape[ax]
    s = 1
    while s < n:
        lead = tuple(slice(s, None) if i == ax else slice(None) for i in range(a.ndim))
        lag = tuple(slice(0, n - s) if i == ax else slice(None) for i in range(a.ndim))
        nxt = a.copy()
        nxt[lead] = f(a[lead], a[lag])
        a = nxt
        s *= 2
    return a


# ---- cummax / cummin --------------------------------------------------------------------------------
def _cumext(input: Tensor, dim: Any, name: str) -> Any:  # noqa: A002
    if dim is _MISSING:
        raise _missing(name, "dim")
    d = input._data
    no_uint_kernel(f"{name}_cpu", d.dtype)
    xp = input._dev.xp
    is_max = name == "cummax"
    if d.ndim == 0:
        if dim not in (0, -1):
            raise IndexError(f"{name}(): Expected reduction dim -1 or 0 for scalar but got {dim}")
        ax = 0
        vals, idx = d.copy(), xp.zeros((), dtype=np.int64)
    else:
        ax = norm_dim(dim, d.ndim)
        if d.size == 0:
            vals, idx = d.copy(), xp.zeros(d.shape, dtype=np.int64)
        else:
            # torch's cummax_cummin_helper: an element takes the lead when it is >= (<=) the running extreme,
            # so among equals the latest wins; a nan takes it and keeps it until the next nan
            pos = xp.arange(d.shape[ax], dtype=np.int64).reshape(tuple(-1 if i == ax else 1 for i in range(d.ndim)))
            run = _scan(xp, "maximum" if is_max else "minimum", d, ax)
            idx = _scan(xp, "maximum", xp.where(d == run, pos, -1), ax)
            if d.dtype.kind == "f":
                last_nan = _scan(xp, "maximum", xp.where(xp.isnan(d), pos, -1), ax)
                idx = xp.where(last_nan >= 0, last_nan, idx)
            vals = xp.take_along_axis(d, idx, axis=ax)
    vt = wrap(vals, input._dev)
    it = wrap(idx, input._dev)
    if ENABLED[0] and input._rg:
        cls = CummaxBackward0 if is_max else CumminBackward0
        R._node(cls, vt, (input,), (input if d.size == 0 else None, d.shape, ax, it), (None, None, None, None))
    return R.RT[name](vt, it)


@_parsed("cummax", 2, dim="int")
def cummax(input: Tensor, dim: Any = _MISSING, *, out: Any = None) -> Any:  # noqa: A002
    """torch.cummax: the running maximum along dim and the index it came from (the latest among equals)."""
    return _finish(_cumext(input, dim, "cummax"), out)


@_parsed("cummin", 2, dim="int")
def cummin(input: Tensor, dim: Any = _MISSING, *, out: Any = None) -> Any:  # noqa: A002
    """torch.cummin: the running minimum along dim and the index it came from (the latest among equals)."""
    return _finish(_cumext(input, dim, "cummin"), out)


# ---- mode -------------------------------------------------------------------------------------------
def _mode_rows(rows: np.ndarray) -> np.ndarray:
    """torch's mode index per row: the smallest of the most frequent values, at the position std::sort
    leaves last in its run."""
    nrow, n = rows.shape
    if nrow == 0:
        return np.zeros(0, np.int64)
    s = np.sort(rows, axis=1)
    pos = np.arange(n)
    start = np.ones((nrow, n), bool)
    start[:, 1:] = s[:, 1:] != s[:, :-1]
    end = np.ones((nrow, n), bool)
    end[:, :-1] = start[:, 1:]
    freq = np.where(end, pos - np.maximum.accumulate(np.where(start, pos, 0), axis=1) + 1, 0)
    best = freq.argmax(axis=1)  # the first longest run: torch replaces the mode only on a strictly longer one
    every = np.arange(nrow)
    count = freq[every, best]
    eq = rows == s[every, best][:, None]
    # a value that occurs once is at its one position; up to 16 elements std::sort is an insertion sort,
    # which is stable, so the run ends at the value's last occurrence; otherwise (or with a nan, which
    # compares false with everything and lands anywhere) the row is replayed
    idx = np.where(count == 1, eq.argmax(axis=1), n - 1 - eq[:, ::-1].argmax(axis=1)).astype(np.int64)
    replay = count > 1 if n > _THRESHOLD else np.zeros(nrow, bool)
    if rows.dtype.kind == "f":
        replay |= np.isnan(rows).any(axis=1)
    for r in np.flatnonzero(replay):
        idx[r] = _mode_replay(rows[r].tolist())
    return idx


@_parsed("mode", 1, dim="int", keepdim="bool")
def mode(input: Tensor, dim: int = -1, keepdim: bool = False, *, out: Any = None) -> Any:  # noqa: A002
    """torch.mode: the most frequent value along dim (the smallest among equally frequent ones) and the
    index torch's cpu kernel reports for it."""
    d = input._data
    ax = norm_dim(dim, d.ndim)
    if d.ndim:
        _nonempty_dim("mode()", d, ax)
    rows, shape = _rows(input, ax)
    idx = _mode_rows(rows).reshape(shape)
    return _finish(_select(input, ax, idx, keepdim, ModeBackward0, R.RT["mode"]), out)


# ---- kthvalue ---------------------------------------------------------------------------------------
def _kth_rows(rows: np.ndarray, k: int) -> np.ndarray:
    nrow, n = rows.shape
    v = np.sort(rows, axis=1)[:, k - 1]  # (numpy sorts nans last, as torch's comparison ranks them)
    eq = rows == v[:, None]
    if rows.dtype.kind == "f":
        eq |= np.isnan(rows) & np.isnan(v)[:, None]
    idx = eq.argmax(axis=1).astype(np.int64)
    for r in np.flatnonzero(eq.sum(axis=1) > 1):  # a tie at the k-th value: where quickselect leaves it
        idx[r] = _kth_replay(rows[r].tolist(), k)
    return idx


@_parsed("kthvalue", 2, k="int", dim="int", keepdim="bool")
def kthvalue(input: Tensor, k: Any = _MISSING, dim: int = -1, keepdim: bool = False, *, out: Any = None) -> Any:  # noqa: A002
    """torch.kthvalue: the k-th smallest value along dim (nans rank above everything) and the index torch's
    quickselect reports for it."""
    if k is _MISSING:
        raise _missing("kthvalue", "k")
    k = int(k)
    d = input._data
    ax = norm_dim(dim, d.ndim)
    if d.ndim:
        _nonempty_dim("kthvalue()", d, ax)
    if not 1 <= k <= (d.shape[ax] if d.ndim else 1):
        raise RuntimeError(f"kthvalue(): selected number k out of range for dimension {ax}")
    if d.dtype.kind == "b" and d.ndim:  # (a 0-dim input is copied before torch dispatches on its dtype)
        raise _not_implemented("kthvalue_cpu", input)
    rows, shape = _rows(input, ax)
    idx = _kth_rows(rows, k).reshape(shape)
    return _finish(_select(input, ax, idx, keepdim, KthvalueBackward0, R.RT["kthvalue"]), out)


# ---- aminmax ----------------------------------------------------------------------------------------
@_parsed("aminmax", 1, dim="int?", keepdim="bool")
def aminmax(input: Tensor, *, dim: Any = None, keepdim: bool = False, out: Any = None) -> Any:  # noqa: A002
    """torch.aminmax: (min, max) over dim or over everything; a nan anywhere in the reduction is both."""
    d = input._data
    no_uint_kernel("aminmax_cpu", d.dtype)
    if dim is None:
        if d.size == 0:
            raise RuntimeError(
                "aminmax(): cannot compute aminmax over an empty dimension as the operation has no identity."
            )
        dims = None
        lo, hi = d.min(), d.max()
        if keepdim:
            lo, hi = lo.reshape((1,) * d.ndim), hi.reshape((1,) * d.ndim)
    else:
        ax = norm_dim(dim, d.ndim)
        dims = (ax,)
        if d.ndim == 0:
            lo, hi = d.copy(), d.copy()
        else:
            _nonempty_dim("aminmax", d, ax)
            lo, hi = d.min(axis=ax, keepdims=keepdim), d.max(axis=ax, keepdims=keepdim)
    xp = input._dev.xp
    lt, ht = wrap_any(xp.asarray(lo), input._dev), wrap_any(xp.asarray(hi), input._dev)
    if ENABLED[0] and input._rg:
        share(AminmaxBackward0, [lt, ht], (input,), keep=(input,), extra=(dims, keepdim))  # one node, as torch
    return _finish(aminmax_type(lt, ht), out)


# ---- frexp ------------------------------------------------------------------------------------------
def _frexp_bw(self: Node, g: Tensor, exponent: Tensor) -> tuple:
    return (g / exponent.exp2(),)  # torch's formula: the exponent (int32) to float first


FrexpBackward0 = node_class("FrexpBackward0", _frexp_bw)


def frexp(input: Tensor, *, out: Any = None) -> Any:  # noqa: A002
    """torch.frexp: (mantissa, exponent), input = mantissa * 2 ** exponent with |mantissa| in [0.5, 1), the
    exponent int32; only the mantissa is differentiable (FrexpBackward0, which saves the exponent)."""
    if not isinstance(input, Tensor):
        raise TypeError(f"frexp(): argument 'input' (position 1) must be Tensor, not {type_name(input)}")
    d = input._data
    if d.dtype.kind != "f":
        raise RuntimeError("torch.frexp() only supports floating-point dtypes")
    xp = input._dev.xp
    bf16 = d.dtype.metadata is not None
    m, e = xp.frexp(plain(d) if bf16 else d)  # (a bfloat16's mantissa fits in bfloat16: exact)
    e = e.astype(np.int32, copy=False)
    mt = wrap_any(xp.asarray(to_bf16(m) if bf16 else m), input._dev)
    et = wrap_any(xp.asarray(e), input._dev)
    if ENABLED[0] and input._rg:
        node = FrexpBackward0()
        node._seq = next_seq()
        node._next = (edge_of(input),)
        node._saved = (et,)
        node._vers = ((et._vc, et._vc[0]),)
        node._ctx = (mt._data.shape, mt._data.dtype)
        mt._rg = True
        mt.grad_fn = node
    return _finish(frexp_type(mt, et), out)


def frexp_method(self: Tensor, *args: Any, **kwargs: Any) -> Any:
    return frexp(self, *args, **kwargs)


def aminmax_method(self: Tensor, *args: Any, **kwargs: Any) -> Any:
    """Tensor.aminmax: keyword arguments only (torch's message counts the arguments after self)."""
    if args:
        raise _too_many("aminmax", 0, 0, len(args))
    return aminmax(self, _method=True, **kwargs)


# ---- nanmedian --------------------------------------------------------------------------------------
_EMPTY_MEDIAN = {"i": {1: 0, 2: 0, 4: -(2**31), 8: -(2**63)}, "u": {1: 0}}  # nan cast to an int dtype, in C++


def _nanmedian_all(input: Tensor) -> Tensor:  # noqa: A002
    d = input._data
    xp = input._dev.xp
    if d.size == 0:  # torch answers nan, converted to the dtype (True for bool, INT_MIN for int32 and int64)
        k = d.dtype.kind
        fill = np.nan if k == "f" else True if k == "b" else _EMPTY_MEDIAN[k][d.dtype.itemsize]
        t = wrap(xp.asarray(fill, dtype=d.dtype), input._dev)
    else:
        if d.dtype.kind == "b":
            raise _not_implemented("median_cpu", input)
        flat = d.reshape(-1)
        nn = int(xp.isnan(flat).sum()) if d.dtype.kind == "f" else 0
        s = xp.sort(flat)  # nans last
        r = s[max(flat.size - nn - 1, 0) // 2]
        if d.dtype.kind == "f" and float(r) == 0:
            # the sign of a zero median is whichever zero nth_element leaves there: replay it
            # (over positions: nth_element's moves depend on its comparisons only, so the position it leaves at
            # nth names the element, which is then taken from the array itself, its zero's sign and all)
            h = host(flat).tolist()
            nth = max(len(h) - nn - 1, 0) // 2
            pos = list(range(len(h)))
            std_nth_element(pos, nth, lambda i, j: h[i] < h[j] or (h[j] != h[j] and h[i] == h[i]))
            r = flat[pos[nth]].copy()
        t = wrap(xp.asarray(r).reshape(()), input._dev)
    if ENABLED[0] and input._rg:
        R._save_even(t, NanmedianBackward0, input, None, False)
    return t


@_parsed("nanmedian", 2, dim="int", keepdim="bool")
def nanmedian(input: Tensor, dim: Any = R.NODIM, keepdim: Any = R.NOKEEP, *, out: Any = None) -> Any:  # noqa: A002
    """torch.nanmedian: the lower median of the non-nan values (nan where there are none); along a dim, with
    its index (the lower median in (value, index) order, as torch's nth_element ranks them)."""
    if dim is R.NODIM:
        if keepdim is not R.NOKEEP:
            raise _missing("nanmedian", "dim")
        return _finish(_nanmedian_all(input), out)
    keepdim = False if keepdim is R.NOKEEP else keepdim
    d = input._data
    ax = norm_dim(dim, d.ndim)
    if d.ndim:
        _nonempty_dim("median()", d, ax)
    if d.dtype.kind == "b":
        raise _not_implemented("median_out", input)
    xp = input._dev.xp
    a = d.reshape(1) if d.ndim == 0 else d
    n = a.shape[ax]
    if a.size == 0:
        idx = xp.zeros(tuple(1 if i == ax else s for i, s in enumerate(a.shape)), dtype=np.int64)
    else:
        # a stable sort ranks (value, index) as torch's comparator does, nans last; +0 makes -0.0 a +0.0,
        # which a device's radix sort would otherwise order before it
        order = xp.argsort(a + a.dtype.type(0) if a.dtype.kind == "f" else a, axis=ax, kind="stable")
        nn = xp.isnan(a).sum(axis=ax, keepdims=True) if a.dtype.kind == "f" else xp.zeros((1,) * a.ndim, np.int64)
        nth = xp.maximum(n - nn - 1, 0) // 2
        idx = xp.take_along_axis(order, nth.astype(np.int64), axis=ax)
        idx = xp.where(nn == n, _all_nan_index(n), idx).astype(np.int64)
    vals = xp.take_along_axis(a, idx, axis=ax)
    if d.ndim == 0:
        vals, idx = vals.reshape(()), idx.reshape(())
    elif not keepdim:
        vals, idx = vals.squeeze(ax), idx.squeeze(ax)
    vt = wrap(vals, input._dev)
    it = wrap(idx, input._dev)
    if ENABLED[0] and input._rg:
        R._node(NanmedianBackward1, vt, (input,), (d.shape, ax, it, keepdim), (None, None, None, None))
    return _finish(nanmedian_type(vt, it), out)


# ---- nanmean / msort --------------------------------------------------------------------------------
@_parsed("nanmean", 1, dim="ints?", keepdim="bool")
def nanmean(
    input: Tensor,  # noqa: A002
    dim: Any = None,
    keepdim: bool = False,
    *,
    dtype: Any = None,
    out: Any = None,
) -> Tensor:
    """torch.nanmean, composed as torch composes it: nansum(input) / (number of non-nan elements), so its
    node is DivBackward0 over NansumBackward0."""
    if input._data.dtype.kind != "f":
        raise RuntimeError(
            f"nanmean(): expected input to have floating point or complex dtype but got {input.dtype.scalar_name()}"
        )
    if dtype is not None and to_dtype(dtype).np.kind != "f":
        raise RuntimeError(
            "nanmean(): could not infer output dtype. Optional dtype must be either a floating point or complex "
            f"dtype. Got: {to_dtype(dtype).scalar_name()}"
        )
    count = R.sum(E.logical_not(E.isnan(input)), dim, keepdim)
    return _finish(E.div(R.nansum(input, dim, keepdim, dtype=dtype), count), out)


def msort(input: Tensor, *, out: Any = None) -> Tensor:  # noqa: A002
    """torch.msort: sort along dim 0 (its node is sort's, SortBackward0)."""
    return _finish(R.sort(input, 0).values, out)


# ---- logcumsumexp -----------------------------------------------------------------------------------
def _logcumsumexp_array(d: Any, ax: int, xp: Any) -> Any:
    """torch's cpu loop: one element at a time, r = _log_add_exp_helper(x, r) from r = -inf, carried in its
    accumulation type (double for float32, float for float16) and rounded once per output."""
    acc = np.float32 if d.dtype == np.float16 else np.float64
    x = xp.moveaxis(d.astype(acc), ax, 0)
    outm = xp.empty(x.shape, dtype=acc)
    cur = xp.full(x.shape[1:], -np.inf, dtype=acc)
    for i in range(x.shape[0]):
        xi = x[i]
        lo, hi = xp.minimum(xi, cur), xp.maximum(xi, cur)  # (nan-propagating, as the helper's nan branch)
        # equal infinities (both -inf, or both inf) return x itself: their difference would be nan
        cur = xp.where((lo != hi) | xp.isfinite(lo), hi + xp.log1p(xp.exp(lo - hi)), xi)
        outm[i] = cur
    return xp.ascontiguousarray(xp.moveaxis(outm, 0, ax)).astype(d.dtype)


@_parsed("logcumsumexp", 2, dim="int")
def logcumsumexp(input: Tensor, dim: Any = _MISSING, *, out: Any = None) -> Tensor:  # noqa: A002
    """torch.logcumsumexp: log(cumsum(exp(input))) along dim, computed stably as torch's cpu kernel does."""
    if dim is _MISSING:
        raise _missing("logcumsumexp", "dim")
    d = input._data
    ax = norm_dim(dim, d.ndim)
    if d.dtype.kind != "f":
        raise _not_implemented("logcumsumexp_out_cpu", input)
    xp = input._dev.xp
    r = d.copy() if d.ndim == 0 or d.size == 0 else _logcumsumexp_array(d, ax, xp)
    t = wrap(r, input._dev)
    if ENABLED[0] and input._rg:
        from engine.autograd import save_out
        from engine.ops.util import edge_of

        node = LogcumsumexpBackward0()
        node._seq = next_seq()
        node._next = (edge_of(input),)
        s, v = save_out(node, t)
        node._saved = (input, s, ax)
        node._vers = ((input._vc, input._vc[0]), v, None)
        node._ctx = (r.shape, r.dtype)
        t._rg = True
        t.grad_fn = node
    return _finish(t, out)


# ---- the Tensor method forms ------------------------------------------------------------------------
def _method(fn: Callable) -> Callable:
    """The Tensor method of a parsed function: its TypeErrors count positions after self, as torch's do."""

    raw = getattr(fn, "__wrapped__", None)  # (the unchecked function: a call with no arguments has nothing to check)

    def method(self: Tensor, *args: Any, **kwargs: Any) -> Any:
        if not args and not kwargs and raw is not None:
            return raw(self)
        return fn(self, *args, _method=True, **kwargs)

    method.__name__ = method.__qualname__ = fn.__name__
    method.__doc__ = fn.__doc__
    method.__wrapped__ = fn  # type: ignore[attr-defined]  # (its signature: numpy_names looks for dim there)
    return method


cummax_method = _method(cummax)
cummin_method = _method(cummin)
mode_method = _method(mode)
kthvalue_method = _method(kthvalue)
nanmedian_method = _method(nanmedian)
nanmean_method = _method(nanmean)
logcumsumexp_method = _method(logcumsumexp)


# ---- torch's parser checks for reductions over one int dim (x.argmax(dim=(0, 1)) is torch's TypeError) --------
argmax = _parsed("argmax", dim="int?", keepdim="bool")(R.argmax)
argmin = _parsed("argmin", dim="int?", keepdim="bool")(R.argmin)
median = _parsed("median", dim="int", keepdim="bool")(R.median)
cumsum = _parsed("cumsum", dim="int")(R.cumsum)
cumprod = _parsed("cumprod", dim="int")(R.cumprod)
topk = _parsed("topk", k="int", dim="int", largest="bool", sorted="bool")(R.topk)


tril = _parsed("tril", diagonal="int")(_index.tril)
triu = _parsed("triu", diagonal="int")(_index.triu)

_MAXMIN_METHOD = ("()", "(Tensor other)", "(int dim, bool keepdim = False)")
_MAXMIN_FUNCTION = (
    "(Tensor input, *, Tensor out = None)",
    "(Tensor input, Tensor other, *, Tensor out = None)",
    "(Tensor input, int dim, bool keepdim = False, *, tuple of Tensors out = None)",
)


def _maxmin_dim_error(name: str, args: tuple, kwargs: dict, method: bool) -> TypeError:
    """torch's parser error for max/min given a dim sequence (x.max(dim=(0, 1)): only sum-like reductions take
    one); what it says depends on which arguments came by position and which by keyword."""
    from engine.ops.util import parser_arg_text, parser_type_name

    rest = args[1:]
    dim = kwargs.get("dim", rest[0] if rest else None)
    keep = "keepdim" in kwargs or len(rest) > 1
    if method and keep:
        at = "" if "dim" in kwargs else " (position 1)"
        return TypeError(f"{name}(): argument 'dim'{at} must be int, not {type_name(dim)}")
    overloads = _MAXMIN_METHOD if method else _MAXMIN_FUNCTION
    lines = []
    if "dim" in kwargs:
        kws = ["keepdim=" + parser_type_name(kwargs["keepdim"])] if "keepdim" in kwargs else []
        kws.append("dim=" + parser_type_name(dim))
        got = ", ".join(kws) + ", " if method else ", ".join(["Tensor", *kws])
        wrong = ", ".join(k.split("=")[0] for k in kws)
        for i, o in enumerate(overloads):
            lines.append(f" * {o}")
            if (method and i < 2) or (not method and keep and i == 0):
                lines.append(f"      didn't match because some of the keywords were incorrect: {wrong}")
    else:
        shown = [parser_type_name(a) for a in rest]
        got = ", ".join(shown if method else ["Tensor", *shown])
        for i, o in enumerate(overloads):
            lines.append(f" * {o}")
            if method and i < 2:
                lines.append(
                    f"      didn't match because some of the arguments have invalid types: (!{parser_arg_text(dim)}!)"
                )
            elif not method and keep and i == 0:
                marks = ", ".join(["Tensor", *(f"!{parser_arg_text(a)}!" for a in rest)])
                lines.append(f"      didn't match because some of the arguments have invalid types: ({marks})")
    head = f"{name}() received an invalid combination of arguments - got ({got}), but expected one of:"
    return TypeError("\n".join([head, *lines]) + "\n")


def _maxmin(name: str, fn: Callable) -> Callable:
    @functools.wraps(fn)
    def parsed(*args: Any, _method: bool = False, **kwargs: Any) -> Any:
        if not kwargs and len(args) == 1:  # torch.max(x): nothing to check (a hot path)
            return fn(args[0])
        dim = kwargs["dim"] if "dim" in kwargs else args[1] if len(args) > 1 else None
        if isinstance(dim, (tuple, list)):
            raise _maxmin_dim_error(name, args, kwargs, _method)
        if dim is None and (len(args) > 1 or "dim" in kwargs) or kwargs.get("other", 0) is None:
            from engine.ops.arg_parser import refusal  # (an explicit None: no signature of torch's takes it)

            kind, given = ("method", args[1:]) if _method else ("function", args)
            raise refusal(kind, name, given, kwargs) or TypeError(f"{name}(): None given for dim or other")
        keep = kwargs["keepdim"] if "keepdim" in kwargs else args[2] if len(args) > 2 else False
        if type(keep) is not bool and not isinstance(dim, Tensor):  # (keepdim: a bool, as the parser reads it)
            if not _method:
                raise _maxmin_dim_error(name, args, kwargs, False)
            at = "" if "keepdim" in kwargs else " (position 2)"
            raise TypeError(f"{name}(): argument 'keepdim'{at} must be bool, not {type_name(keep)}")
        return fn(*args, **kwargs)

    return parsed


max_ = _maxmin("max", R.max)  # (torch.max; not `max`, which would hide the builtin from this module)
min_ = _maxmin("min", R.min)
argmax_method, argmin_method, median_method = _method(argmax), _method(argmin), _method(median)
cumsum_method, cumprod_method, topk_method = _method(cumsum), _method(cumprod), _method(topk)
tril_method, triu_method, max_method, min_method = _method(tril), _method(triu), _method(max_), _method(min_)

_PROD_METHOD = ("(*, torch.dtype dtype = None)", "(int dim, bool keepdim = False, *, torch.dtype dtype = None)")
_PROD_FUNCTION = (
    "(Tensor input, *, torch.dtype dtype = None)",
    "(Tensor input, int dim, bool keepdim = False, *, torch.dtype dtype = None, Tensor out = None)",
)


def _prod_parsed(fn: Callable) -> Callable:
    """prod's dim is one int (None is no dim only when left out): torch's parser errors otherwise."""

    @functools.wraps(fn)
    def parsed(*args: Any, _method: bool = False, **kwargs: Any) -> Any:
        given = "dim" in kwargs or len(args) > 1
        if given:
            dim = kwargs["dim"] if "dim" in kwargs else args[1]
            keep = "keepdim" in kwargs or len(args) > 2
            if not _is_int(dim):
                if keep:
                    at = "" if "dim" in kwargs else f" (position {1 if _method else 2})"
                    raise TypeError(f"prod(): argument 'dim'{at} must be int, not {type_name(dim)}")
                from engine.ops.util import parser_type_name

                shown = f"dim={parser_type_name(dim)}" if "dim" in kwargs else parser_type_name(dim)
                got = (shown + (", " if "dim" in kwargs else "")) if _method else f"Tensor, {shown}"
                lines = [f" * {o}" for o in (_PROD_METHOD if _method else _PROD_FUNCTION)]
                head = f"prod() received an invalid combination of arguments - got ({got}), but expected one of:"
                raise TypeError("\n".join([head, *lines]) + "\n")
        return fn(*args, _method=_method, **kwargs)

    return parsed


prod = _prod_parsed(_parsed("prod", keepdim="bool")(R.prod))
prod_method = _method(prod)
