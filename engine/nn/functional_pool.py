"""torch.nn.functional's pooling over 1, 2 or 3 spatial dims: max (with indices, dilation, ceil mode), average
(count_include_pad, divisor_override), power-average, adaptive average and max, and max unpooling.

One array kernel per kind serves every rank: it walks the kernel offsets (itertools.product over the spatial
dims) and does one vectorised step per offset over all windows, in the order torch's cpu loops visit a window,
so first maxima, nan picks and float sums come out as torch's. The per-rank parts are only what torch's
entry points differ in: argument texts, shape checks, the dtypes each kernel takes and the node names
(MaxPool3DWithIndicesBackward0, AvgPool2DBackward0, ...). The 1-d ops run as torch runs them, as 2-d ones over
a height of 1 (unsqueeze, then squeeze)."""

from __future__ import annotations

import functools
import itertools
import math
from collections.abc import Callable
from typing import Any

import numpy as np

from engine.amp.policy import policy as autocast_policy
from engine.bf16 import to_bf16
from engine.nn import functional as _functional
from engine.nn.spatial import (
    check1d,
    check_dim_range,
    grad_node,
    low_of,
    not_for,
    op_node,
    pool_out,
    run_in,
    shape_text,
    with_indices,
)
from engine.nn.spatial import pad_nd as _pad_nd
from engine.ops.memory_layout import follow_channels_last
from engine.tensor import Tensor

_WORDS = {1: "one", 2: "two", 3: "three"}
_DIMS = {2: "HW", 3: "THW"}  # the letters torch's pooling messages name the spatial dims by


def _ints(value: Any, message: str, sizes: tuple) -> list:
    """An int or a sequence of ints of an allowed length (torch's `IntArrayRef` pooling arguments)."""
    if value is None:
        return []
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        return [int(value)]
    vals = [int(v) for v in value]
    if len(vals) not in sizes:
        raise RuntimeError(message)
    return vals


def _pool_params(fname: str, nd: int, kernel_size: Any, stride: Any, padding: Any, dilation: Any = 1) -> tuple:
    """(kernel, stride, padding, dilation), one int per spatial dim, of max_poolNd's / avg_poolNd's arguments,
    with their messages (avg_pool3d's say `must be`, the others `must either be`)."""
    either = "" if fname == "avg_pool3d" else "either "
    n = _WORDS[nd]
    k = _ints(kernel_size, f"{fname}: kernel_size must {either}be a single int, or a tuple of {n} ints", (1, nd))
    st = _ints(stride, f"{fname}: stride must {either}be omitted, a single int, or a tuple of {n} ints", (0, 1, nd))
    pd = _ints(padding, f"{fname}: padding must {either}be a single int, or a tuple of {n} ints", (1, nd))
    dl = _ints(dilation, f"{fname}: dilation must be either a single int, or a tuple of {n} ints", (1, nd))
    k = tuple(k * nd if len(k) == 1 else k)
    st = k if not st else tuple(st * nd if len(st) == 1 else st)
    return k, st, tuple(pd * nd if len(pd) == 1 else pd), tuple(dl * nd if len(dl) == 1 else dl)


def _listed(prefix: str, nd: int, values: tuple) -> str:
    return " ".join(f"{prefix}{c}: {v}" for c, v in zip(_DIMS[nd], values))


def _pool_shape_check(x: Tensor, k: tuple, s: tuple, p: tuple, d: tuple, o: list, fn_name: str,
                      check_size: bool = False) -> None:  # fmt: skip
    """ATen's pool2d_shape_check / pool3d_shape_check, in their order and texts."""
    nd = len(k)
    if min(k) <= 0:
        raise RuntimeError(f"kernel size should be greater than zero, but got {_listed('k', nd, k)}")
    if min(s) <= 0:
        raise RuntimeError(f"stride should be greater than zero, but got {_listed('d', nd, s)}")
    if min(d) <= 0:
        raise RuntimeError(f"dilation should be greater than zero, but got {_listed('dilation', nd, d)}")
    shape = x._data.shape
    nonbatch = shape[1:] if len(shape) == nd + 2 else shape
    if not all(nonbatch):
        if nd == 2:
            raise RuntimeError(
                "Expected 3D or 4D (batch mode) tensor with optional 0 dim batch size for input, but got:"
                + shape_text(shape)
            )
        raise RuntimeError(
            f"{fn_name}: Expected input's non-batch dimensions to have positive length, but input has a shape of "
            f"{shape_text(shape)} and non-batch dimension 0 has length zero!"
        )
    sizes = shape[-nd:]
    if check_size and any(n < kk for n, kk in zip(sizes, k)):
        raise RuntimeError(f"input image ({_listed('', nd, sizes)}) smaller than kernel size ({_listed('k', nd, k)})")
    if any(kk // 2 < pp for kk, pp in zip(k, p)):
        if nd == 2:
            raise RuntimeError(
                f"pad should be smaller than or equal to half of kernel size, but got padW = {p[1]}, padH = {p[0]}, "
                f"kW = {k[1]}, kH = {k[0]}"
            )
        raise RuntimeError(
            f"pad should be smaller than or equal to half of kernel size, but got kT: {k[0]} kW: {k[2]} kH: {k[1]} "
            f"padT: {p[0]} padW: {p[2]} padH: {p[1]}"
        )
    if min(o) < 1:
        c = shape[-nd - 1]
        raise RuntimeError(
            f"Given input size: ({'x'.join(map(str, (c, *sizes)))}). Calculated output size: "
            f"({'x'.join(map(str, (c, *o)))}). Output size is too small"
        )


def _batched(a: Any, nd: int) -> Any:
    """An unbatched (C, *spatial) array as (1, C, *spatial): the kernels run on batches."""
    return a.reshape(1, *a.shape) if a.ndim == nd + 1 else a


@functools.lru_cache(maxsize=256)
def _window_slices(k: tuple, d: tuple, s: tuple, o: tuple) -> tuple:
    """Per kernel offset (row-major), the index of its elements in every window: a strided slice per spatial
    dim, after the batch and channel dims."""
    per_dim = [[slice(j * dd, j * dd + (oo - 1) * ss + 1, ss) for j in range(kk)] for kk, dd, ss, oo in zip(k, d, s, o)]
    return tuple((slice(None), slice(None), *sl) for sl in itertools.product(*per_dim))


def _frozen(*arrays: np.ndarray) -> tuple:
    """Host arrays a cached plan hands out: read-only, so no caller can change the cache."""
    for a in arrays:
        a.flags.writeable = False
    return arrays


def _axis_shape(i: int, nd: int) -> tuple:
    """The shape that lays a 1-d array along spatial dim i of nd (for broadcasting)."""
    return tuple(-1 if j == i else 1 for j in range(nd))


def _outer(op: Any, arrays: list) -> Any:
    """A ufunc over per-dim 1-d arrays, each laid along its own dim: their outer sum, product or and."""
    r = arrays[0]
    for a in arrays[1:]:
        r = op.outer(r, a)
    return r


def _plane_strides(sizes: tuple) -> list:
    """The step of each spatial dim in a flattened plane (torch's indices are flat positions in it)."""
    return [math.prod(sizes[i + 1 :]) for i in range(len(sizes))]


# ---- max pooling ---------------------------------------------------------------------------------------


@functools.lru_cache(maxsize=128)
def _max_pool_plan(sizes: tuple, k: tuple, s: tuple, p: tuple, d: tuple, o: tuple) -> tuple:
    """What a max pooling of this geometry needs besides the data: the trailing padding, each window's start
    and first valid element as flat plane indices, and each kernel offset's window slices and index offset (the
    index is linear in the position). Host arrays, computed once per geometry."""
    after = tuple(max(0, (oo - 1) * ss + (kk - 1) * dd + 1 - z - pp)
                  for oo, ss, kk, dd, z, pp in zip(o, s, k, d, sizes, p))  # fmt: skip
    step = _plane_strides(sizes)
    starts = [np.arange(oo, dtype=np.int64) * ss - pp for oo, ss, pp in zip(o, s, p)]
    # (a window's first element inside the input: past the left padding in steps of the dilation)
    first = [np.maximum(st, st % dd) if pp else st for st, dd, pp in zip(starts, d, p)]
    base, init = _frozen(_outer(np.add, [st * w for st, w in zip(starts, step)]),
                         _outer(np.add, [f * w for f, w in zip(first, step)]))  # fmt: skip
    deltas = [sum(c) for c in itertools.product(*([j * dd * w for j in range(kk)] for kk, dd, w in zip(k, d, step)))]
    return after, base, init, tuple(zip(_window_slices(k, d, s, o), deltas))


def _max_pool_arr(xp: Any, x: Any, k: tuple, s: tuple, p: tuple, d: tuple, o: tuple) -> tuple:
    """torch's cpu max pooling: each window's first maximum in window order (a nan wins, the last nan), the
    padding never picked; the index is the flat position in the input plane (from the window's first valid
    element when every value is the lowest). One vectorised step per kernel offset."""
    n, c = x.shape[:2]
    after, base, init, offsets = _max_pool_plan(x.shape[2:], k, s, p, d, o)
    low = low_of(x.dtype)
    xpd = _pad_nd(xp, x, p, after, low)
    base = xp.asarray(base)
    idx = xp.broadcast_to(xp.asarray(init), (n, c, *o))
    best = xp.full((n, c, *o), low, dtype=x.dtype)
    isfloat = x.dtype.kind == "f"
    for at, delta in offsets:
        v = xpd[at]
        upd = v > best
        if isfloat:
            upd |= xp.isnan(v)
        best = xp.where(upd, v, best)
        idx = xp.where(upd, base + delta, idx)
    return best, xp.ascontiguousarray(idx)


def _max_pool_with_indices(fname: str, nd: int, input: Tensor, kernel_size: Any, stride: Any, padding: Any,
                           dilation: Any, ceil_mode: bool) -> tuple:  # noqa: A002  # fmt: skip
    """aten::max_pool{2,3}d_with_indices: checks in torch's order, then (values, indices)."""
    k, s, p, d = _pool_params(fname, nd, kernel_size, stride, padding, dilation)
    if input.dim() not in (nd + 1, nd + 2):
        raise RuntimeError(f"non-empty {nd + 1}D or {nd + 2}D (batch mode) tensor expected for input")
    sizes = input._data.shape[-nd:]
    o = [pool_out(sizes[i], k[i], p[i], s[i], d[i], ceil_mode) for i in range(nd)]
    _pool_shape_check(input, k, s, p, d, o, f"{fname}_with_indices_out_cpu_template()")
    not_for(fname, input, "fiu")
    a = input._data
    out, idx = _max_pool_arr(input._dev.xp, _batched(a, nd), k, s, p, d, tuple(o))
    if a.ndim == nd + 1:
        out, idx = out[0], idx[0]
    unique = all(ss >= (kk - 1) * dd + 1 for ss, kk, dd in zip(s, k, d))
    return with_indices(f"MaxPool{nd}DWithIndicesBackward0", input, out, idx, nd, unique)


def max_pool2d(input: Tensor, kernel_size: Any, stride: Any = None, padding: Any = 0, dilation: Any = 1,
               ceil_mode: bool = False, return_indices: bool = False) -> Any:  # noqa: A002  # fmt: skip
    _functional.tensor_arg("max_pool2d", input)
    out, idx = _max_pool_with_indices("max_pool2d", 2, input, kernel_size, stride, padding, dilation, ceil_mode)
    follow_channels_last((input,), out, idx)
    return (out, idx) if return_indices else out


@autocast_policy(cpu="fp32")
def max_pool3d(input: Tensor, kernel_size: Any, stride: Any = None, padding: Any = 0, dilation: Any = 1,
               ceil_mode: bool = False, return_indices: bool = False) -> Any:  # noqa: A002  # fmt: skip
    _functional.tensor_arg("max_pool3d", input)
    out, idx = _max_pool_with_indices("max_pool3d", 3, input, kernel_size, stride, padding, dilation, ceil_mode)
    follow_channels_last((input,), out, idx)
    return (out, idx) if return_indices else out


def _check_max_pool1d(input: Tensor, kernel_size: Any, stride: Any, padding: Any, dilation: Any,
                      ceil_mode: bool) -> None:  # noqa: A002  # fmt: skip
    """at::max_pool1d's own checks (F.max_pool1d without indices)."""
    shape = input._data.shape
    nd = len(shape)
    if not ((nd == 2 and shape[0] != 0 and shape[1] != 0) or (nd == 3 and shape[1] != 0 and shape[2] != 0)):
        raise RuntimeError(
            "max_pool1d: Expected 2D or 3D (batch mode) tensor with optional 0 dim batch size for input, but got:"
            + shape_text(shape)
        )
    k = _ints(kernel_size, "", (0, 1, 2, 3, 4))
    st = _ints(stride, "", (0, 1, 2, 3, 4))
    pd = _ints(padding, "", (0, 1, 2, 3, 4))
    dl = _ints(dilation, "", (0, 1, 2, 3, 4))
    if len(k) != 1:
        raise RuntimeError(
            f"max_pool1d() kernel_size must be an int, list of ints or tuple of ints of size 1 but got size {len(k)}"
        )
    if len(st) > 1:
        raise RuntimeError(
            f"max_pool1d() stride must be None, an int, list of ints, or tuple of ints of size 1 but got size {len(st)}"
        )
    if len(pd) != 1:
        raise RuntimeError(
            f"max_pool1d() padding must be an int, list of ints, or tuple of ints of size 1 but got size {len(pd)}"
        )
    if len(dl) != 1:
        raise RuntimeError(
            f"max_pool1d() dilation must be an int, list of ints or tuple of ints of size 1 but got size {len(dl)}"
        )
    s = st[0] if st else k[0]
    if k[0] <= 0:
        raise RuntimeError(f"max_pool1d() kernel_size must be greater than zero, but got {k[0]}")
    if s <= 0:
        raise RuntimeError(f"max_pool1d() stride must be greater than zero, but got {s}")
    if pd[0] < 0:
        raise RuntimeError(f"max_pool1d() padding must be non-negative, but got {pd[0]}")
    if pd[0] > k[0] // 2:
        raise RuntimeError(
            f"max_pool1d() padding should be at most half of kernel size, but got padding={pd[0]} and "
            f"kernel_size={k[0]}"
        )
    if dl[0] <= 0:
        raise RuntimeError(f"max_pool1d() dilation must be greater than zero, but got {dl[0]}")
    ow = pool_out(shape[-1], k[0], pd[0], s, dl[0], ceil_mode)
    if ow <= 0:
        raise RuntimeError(f"max_pool1d() Invalid computed output size: {ow}")


def max_pool1d(input: Tensor, kernel_size: Any, stride: Any = None, padding: Any = 0, dilation: Any = 1,
               ceil_mode: bool = False, return_indices: bool = False) -> Any:  # noqa: A002  # fmt: skip
    _functional.tensor_arg("max_pool1d", input)
    if not return_indices:
        _check_max_pool1d(input, kernel_size, stride, padding, dilation, ceil_mode)
    # at::max_pool1d_with_indices: max_pool2d over a height of 1 (UnsqueezeBackward0 below, SqueezeBackward1 on top)
    check_dim_range("max_pool1d", input, 2, 4)
    k = check1d("max_pool1d", "kernel_size", kernel_size)
    s = k if stride is None or (not isinstance(stride, int) and len(stride) == 0) else stride
    s = check1d("max_pool1d", "stride", s)
    p = check1d("max_pool1d", "padding", padding)
    d = check1d("max_pool1d", "dilation", dilation)
    out, idx = _max_pool_with_indices("max_pool2d", 2, input.unsqueeze(-2), (1, k), (1, s), (0, p), (1, d),
                                      ceil_mode)  # fmt: skip
    out = out.squeeze(-2)
    return (out, idx.squeeze(-2)) if return_indices else out


# ---- average pooling -----------------------------------------------------------------------------------


@functools.lru_cache(maxsize=128)
def _avg_geometry(sizes: tuple, prm: tuple) -> tuple:
    """(divisor per output position, where a window holds no input element, the trailing padding ceil mode
    needs), as torch's avg_pool kernels divide: divisor_override, else the window's size within the padded input
    (count_include_pad), else its count of input elements; a window entirely in padding gives 0. Host arrays."""
    k, s, p, o, _, cip, div = prm
    pool, valid = [], []
    for n, kk, ss, pp, oo in zip(sizes, k, s, p, o):
        start = np.arange(oo, dtype=np.int64) * ss - pp
        end = np.minimum(start + kk, n + pp)
        pool.append(end - start)
        valid.append(np.minimum(end, n) - np.maximum(start, 0))
    if div is not None:
        d = np.full(o, div, dtype=np.int64)
    else:
        d = _outer(np.multiply, pool if cip else valid)
    empty = _outer(np.logical_or, [v <= 0 for v in valid])
    d = np.where(empty | (d == 0), 1, d)
    after = tuple(max(0, (oo - 1) * ss + kk - n - pp) for oo, ss, kk, n, pp in zip(o, s, k, sizes, p))
    return (*_frozen(d, empty), after)


def _avg_pool_arr(xp: Any, x: Any, prm: tuple) -> Any:
    k, s, p, o = prm[:4]
    d, empty, after = _avg_geometry(x.shape[2:], prm)
    isfloat = x.dtype.kind == "f"
    bf16 = x.dtype.metadata is not None  # (float32 sums and one rounding, as for float16)
    ct = (np.float32 if x.dtype == np.float16 or bf16 else x.dtype) if isfloat else np.int64
    xpd = _pad_nd(xp, x, p, after, 0)
    acc = xp.zeros((*x.shape[:2], *o), dtype=ct)
    for at in _window_slices(k, (1,) * len(k), s, o):  # (in window order, as torch's kernels add)
        acc += xpd[at]
    if isfloat:
        out = acc / xp.asarray(d.astype(ct))
    else:  # C++'s integer division, toward zero
        out = xp.abs(acc) // xp.asarray(d) * xp.sign(acc)
    if prm[6] is not None or not prm[5]:
        out = xp.where(xp.asarray(empty), 0, out)
    if bf16:
        return to_bf16(out, xp)
    return out.astype(x.dtype) if out.dtype != x.dtype else out


def _avg_pool_bw_arr(xp: Any, g: Any, shape: tuple, prm: tuple) -> Any:
    """The adjoint of _avg_pool_arr: each output's gradient / divisor added over its window's input elements."""
    k, s, p, o = prm[:4]
    sizes = shape[2:]
    d, empty, after = _avg_geometry(sizes, prm)
    ct = np.float32 if g.dtype == np.float16 else g.dtype
    gd = g.astype(ct) / xp.asarray(d.astype(ct))
    if prm[6] is not None or not prm[5]:
        gd = xp.where(xp.asarray(empty), 0, gd)
    img = xp.zeros((*shape[:2], *(n + pp + a for n, pp, a in zip(sizes, p, after))), dtype=ct)
    # torch adds each output's share over its window, the outputs in row-major order; the window offsets
    # backwards give every input its shares in that order (a later offset is an earlier output)
    for at in reversed(_window_slices(k, (1,) * len(k), s, o)):
        img[at] += gd
    out = xp.ascontiguousarray(img[(slice(None), slice(None), *(slice(pp, pp + n) for pp, n in zip(p, sizes)))])
    return out.astype(g.dtype) if out.dtype != g.dtype else out


def _avg_pool_prim(x: Tensor, prm: tuple) -> Tensor:
    """avg_pool{2,3}d on checked arguments: AvgPool{2,3}DBackward0; its backward's node
    AvgPool{2,3}DBackwardBackward0 differentiates to the same pooling of the incoming gradient."""
    nd = len(prm[0])
    a = x._data
    out = _avg_pool_arr(x._dev.xp, _batched(a, nd), prm)
    if a.ndim == nd + 1:
        out = out[0]

    def backward(g: Tensor, x: Tensor) -> Tensor:
        gx = _avg_pool_bw_arr(g._dev.xp, _batched(g._data, nd), _batched(x._data, nd).shape, prm)
        if x._data.ndim == nd + 1:
            gx = gx[0]
        return grad_node(f"AvgPool{nd}DBackwardBackward0", gx, g, x, lambda gg: _avg_pool_prim(gg, prm))

    return op_node(f"AvgPool{nd}DBackward0", out, x, backward)


def _avg_pool(fname: str, nd: int, input: Tensor, kernel_size: Any, stride: Any, padding: Any, ceil_mode: bool,
              count_include_pad: bool, divisor_override: int | None) -> Tensor:  # noqa: A002  # fmt: skip
    k, s, p, _ = _pool_params(fname, nd, kernel_size, stride, padding)
    if nd == 3 and input.dim() not in (4, 5):
        raise RuntimeError("non-empty 4D or 5D (batch mode) tensor expected for input")
    if divisor_override is not None and divisor_override == 0:
        raise RuntimeError("divisor must be not zero")
    if nd == 2:
        from engine.ops.util import norm_dim

        norm_dim(-3, input.dim())  # (torch reads input.size(-3): a 2-d input is its "Dimension out of range")
    sizes = input._data.shape[-nd:]
    o = [pool_out(sizes[i], k[i], p[i], s[i], 1, ceil_mode) for i in range(nd)]
    _pool_shape_check(input, k, s, p, (1,) * nd, o, f"{fname}()", check_size=nd == 3)
    # the kernels take the floating types (avg_pool3d's not half) and, of the integers, int64
    kernel = "avg_pool2d" if nd == 2 else "avg_pool3d_out_frame"
    dt = input._data.dtype
    if not (dt.kind == "f" or dt == np.int64) or (nd == 3 and dt == np.float16):
        raise NotImplementedError(f"\"{kernel}\" not implemented for '{input.dtype.scalar_name()}'")
    prm = (k, s, p, tuple(o), ceil_mode, bool(count_include_pad), divisor_override)
    out = _avg_pool_prim(input, prm)
    follow_channels_last((input,), out)
    return out


def avg_pool2d(input: Tensor, kernel_size: Any, stride: Any = None, padding: Any = 0, ceil_mode: bool = False,
               count_include_pad: bool = True, divisor_override: int | None = None) -> Tensor:  # noqa: A002  # fmt: skip
    return _avg_pool("avg_pool2d", 2, input, kernel_size, stride, padding, ceil_mode, count_include_pad,
                     divisor_override)  # fmt: skip


@autocast_policy(cpu="fp32")
def avg_pool3d(input: Tensor, kernel_size: Any, stride: Any = None, padding: Any = 0, ceil_mode: bool = False,
               count_include_pad: bool = True, divisor_override: int | None = None) -> Tensor:  # noqa: A002  # fmt: skip
    return _avg_pool("avg_pool3d", 3, input, kernel_size, stride, padding, ceil_mode, count_include_pad,
                     divisor_override)  # fmt: skip


def avg_pool1d(input: Tensor, kernel_size: Any, stride: Any = None, padding: Any = 0, ceil_mode: bool = False,
               count_include_pad: bool = True) -> Tensor:  # noqa: A002  # fmt: skip
    if stride is None or (not isinstance(stride, int) and len(stride) == 0):
        stride = kernel_size
    check_dim_range("avg_pool1d", input, 2, 4)
    k = check1d("avg_pool1d", "kernel_size", kernel_size)
    s = check1d("avg_pool1d", "stride", stride)
    p = check1d("avg_pool1d", "padding", padding)
    return avg_pool2d(input.unsqueeze(-2), (1, k), (1, s), (0, p), ceil_mode, count_include_pad).squeeze(-2)


# ---- power-average pooling -----------------------------------------------------------------------------


def _kernel_volume(kernel_size: Any, nd: int) -> int:
    """torch's `kw, kh = _pair(kernel_size)` (or _triple): the kernel's number of elements; a sequence of
    another length is Python's unpacking error."""
    if not isinstance(kernel_size, (tuple, list)):
        return int(kernel_size) ** nd
    ks = tuple(kernel_size)
    if len(ks) > nd:
        raise ValueError(f"too many values to unpack (expected {nd})")
    if len(ks) < nd:
        raise ValueError(f"not enough values to unpack (expected {nd}, got {len(ks)})")
    return int(np.prod(ks))


_MAX_POOLS: dict = {}  # nd -> max_pool{nd}d (filled below)
_AVG_POOLS: dict = {}


def _lp_pool(nd: int, input: Tensor, norm_type: float, kernel_size: Any, stride: Any, ceil_mode: bool) -> Tensor:  # noqa: A002
    """torch's Python composite: (sign(avg) * relu(|avg|) * kernel volume) ** (1 / p) of avg_pool(x ** p); a max
    pooling of |x| for p = inf (and minus that of -|x| for -inf)."""
    from engine.ops import elementwise as E

    volume = kernel_size if nd == 1 else _kernel_volume(kernel_size, nd)
    if isinstance(norm_type, (int, float)) and abs(norm_type) == float("inf"):
        if norm_type > 0:
            return _MAX_POOLS[nd](input.abs(), kernel_size, stride, 0, 1, ceil_mode)
        return -_MAX_POOLS[nd](-input.abs(), kernel_size, stride, 0, 1, ceil_mode)
    avg = _AVG_POOLS[nd]
    if stride is not None:
        out = avg(input.pow(norm_type), kernel_size, stride, 0, ceil_mode)
    else:
        out = avg(input.pow(norm_type), kernel_size, padding=0, ceil_mode=ceil_mode)
    return (E.sign(out) * E.relu(E.abs(out))).mul(volume).pow(1.0 / norm_type)


def lp_pool1d(input: Tensor, norm_type: float, kernel_size: int, stride: Any = None,
              ceil_mode: bool = False) -> Tensor:  # noqa: A002  # fmt: skip
    return _lp_pool(1, input, norm_type, kernel_size, stride, ceil_mode)


def lp_pool2d(input: Tensor, norm_type: float, kernel_size: Any, stride: Any = None,
              ceil_mode: bool = False) -> Tensor:  # noqa: A002  # fmt: skip
    return _lp_pool(2, input, norm_type, kernel_size, stride, ceil_mode)


def lp_pool3d(input: Tensor, norm_type: float, kernel_size: Any, stride: Any = None,
              ceil_mode: bool = False) -> Tensor:  # noqa: A002  # fmt: skip
    return _lp_pool(3, input, norm_type, kernel_size, stride, ceil_mode)


_MAX_POOLS.update({1: max_pool1d, 2: max_pool2d, 3: max_pool3d})
_AVG_POOLS.update({1: avg_pool1d, 2: avg_pool2d, 3: avg_pool3d})


# ---- adaptive pooling ----------------------------------------------------------------------------------


@functools.lru_cache(maxsize=256)
def _adaptive_bounds(size: int, out: int) -> tuple:
    """torch's adaptive windows along one dim: [floor(o * size / out), ceil((o + 1) * size / out))."""
    o = np.arange(out, dtype=np.int64)
    return _frozen((o * size) // out, ((o + 1) * size + out - 1) // out)


def _adaptive_avg_arr(xp: Any, x: Any, out: tuple) -> Any:
    """torch's cpu adaptive average pool: each window summed element by element in row-major order from 0,
    then divided by its length along each dim in turn (so the average of whole numbers prints as torch's). All
    windows at once: one step per offset inside the largest window, a dim at a time (each gather reused for the
    dims after it), windows already done left as they are."""
    nd = len(out)

    def fn(a: Any) -> Any:
        sizes = a.shape[-nd:]
        if not all(out):  # an empty output: nothing to average
            return xp.zeros((*a.shape[:-nd], *out), dtype=a.dtype)
        bounds = [_adaptive_bounds(n, o) for n, o in zip(sizes, out)]
        lengths = [e - s for s, e in bounds]
        acc = [xp.zeros((*a.shape[:-nd], *out), dtype=a.dtype)]

        def walk(part: Any, dim: int, live: Any) -> None:
            if dim == nd:
                acc[0] = xp.where(xp.asarray(live), acc[0] + part, acc[0])
                return
            start, n = bounds[dim][0], sizes[dim]
            for j in range(int(lengths[dim].max())):
                taken = xp.take(part, xp.asarray(np.minimum(start + j, n - 1)), axis=dim - nd)
                walk(taken, dim + 1, live & (j < lengths[dim]).reshape(_axis_shape(dim, nd)))

        walk(a, 0, np.ones((1,) * nd, dtype=bool))
        r = acc[0]
        for i, n in enumerate(lengths):
            r = r / xp.asarray(n.astype(a.dtype)).reshape(_axis_shape(i, nd))
        return r

    return run_in(xp, fn, x.dtype, x)


def _adaptive_avg_bw_arr(xp: Any, g: Any, shape: tuple, nd: int) -> Any:
    """torch's cpu adaptive average pool backward: each output's gradient divided by its window's length along
    each dim in turn, then added to every input of its window, the outputs in row-major order (so an input two
    windows share sums their shares in that order)."""

    def fn(a: Any) -> Any:
        out = a.shape[-nd:]
        bounds = [_adaptive_bounds(n, o) for n, o in zip(shape[-nd:], out)]
        delta = a
        for i, (start, end) in enumerate(bounds):
            delta = delta / xp.asarray((end - start).astype(a.dtype)).reshape(_axis_shape(i, nd))
        gi = xp.zeros(shape, dtype=a.dtype)
        lead = (slice(None),) * (a.ndim - nd)
        for o in itertools.product(*(range(n) for n in out)):
            window = tuple(slice(int(b[0][j]), int(b[1][j])) for b, j in zip(bounds, o))
            gi[lead + window] += delta[lead + o][(...,) + (None,) * nd]
        return gi

    return run_in(xp, fn, g.dtype, g)


def _adaptive_avg_prim(x: Tensor, out: tuple) -> Tensor:
    nd = len(out)
    arr = _adaptive_avg_arr(x._dev.xp, x._data, out)

    def backward(g: Tensor, x: Tensor) -> Tensor:
        gs = g._data.shape
        for i in range(1, len(gs)):  # (torch's backward refuses what its forward gave for an empty output)
            if gs[i] == 0:
                raise RuntimeError(
                    f"adaptive_avg_pool{nd}d_backward(): Expected grad_output to have non-zero size for non-batch "
                    f"dimensions, but grad_output has sizes {shape_text(gs)} with dimension {i} being empty"
                )
        gx = _adaptive_avg_bw_arr(g._dev.xp, g._data, x._data.shape, nd)
        return grad_node(f"AdaptiveAvgPool{nd}DBackwardBackward0", gx, g, x, lambda gg: _adaptive_avg_prim(gg, out))

    return op_node(f"AdaptiveAvgPool{nd}DBackward0", arr, x, backward)


def _output_size(output_size: Any, shape: tuple) -> Any:
    """torch's _list_with_default: None in output_size takes the input's size."""
    if isinstance(output_size, (int, np.integer)):
        return int(output_size)
    out = list(output_size)
    if len(shape) <= len(out):
        raise ValueError(f"Input dimension should be at least {len(out) + 1}")
    return [d if v is None else int(v) for v, d in zip(out, shape[len(shape) - len(out) :])]


def _sizes_text(o: list) -> str:
    """The output size as torch's adaptive_avg_pool messages brace it: {2, 3} and {1, 2,3}."""
    return "{" + ", ".join(map(str, o[:2])) + "".join(f",{v}" for v in o[2:]) + "}"


def _adaptive_avg_pool(nd: int, input: Tensor, output_size: Any) -> Tensor:  # noqa: A002
    fname = f"adaptive_avg_pool{nd}d"
    size = _output_size(output_size, input._data.shape)
    size = [size] * nd if isinstance(size, int) else size
    if len(size) != nd:
        raise RuntimeError(f"{fname}: output_size must be {nd}")
    if min(size) < 0:
        raise RuntimeError(
            f"{fname}: elements of output_size must be greater than or equal to 0 but received {_sizes_text(size)}"
        )
    if all(v == 1 for v in size):  # torch: a mean over the spatial dims (MeanBackward1)
        return input.mean(tuple(range(-1, -nd - 1, -1)), keepdim=True)
    shape = input._data.shape
    if len(shape) not in (nd + 1, nd + 2):
        raise RuntimeError(f"{fname}(): Expected {nd + 1}D or {nd + 2}D tensor, but got {shape_text(shape)}")
    # (the 2-d kernel checks the spatial dims, the 3-d one every dim after the first)
    for i in range(len(shape) - nd if nd == 2 else 1, len(shape)):
        if shape[i] <= 0:
            raise RuntimeError(
                f"{fname}(): Expected input to have non-zero size for non-batch dimensions, but input has sizes "
                f"{shape_text(shape)} with dimension {i} being empty"
            )
    not_for(fname if nd == 2 else f"{fname}_cpu", input, "f")
    out = _adaptive_avg_prim(input, tuple(size))
    follow_channels_last((input,), out)
    return out


def adaptive_avg_pool2d(input: Tensor, output_size: Any) -> Tensor:  # noqa: A002
    return _adaptive_avg_pool(2, input, output_size)


@autocast_policy(cpu="fp32")
def adaptive_avg_pool3d(input: Tensor, output_size: Any) -> Tensor:  # noqa: A002
    return _adaptive_avg_pool(3, input, output_size)


def adaptive_avg_pool1d(input: Tensor, output_size: Any) -> Tensor:  # noqa: A002
    check_dim_range("adaptive_avg_pool1d", input, 2, 4)
    o = check1d("adaptive_avg_pool1d", "output_size", output_size)
    return adaptive_avg_pool2d(input.unsqueeze(-2), (1, o)).squeeze(-2)


@functools.lru_cache(maxsize=128)
def _adaptive_max_plan(sizes: tuple, out: tuple) -> tuple:
    """Per offset into the largest window: the input positions it reads (one index array per spatial dim,
    clamped), where that offset is still inside its window, and the positions as flat plane indices; and the
    windows' first elements. Host arrays, computed once per geometry."""
    nd = len(out)
    bounds = [_adaptive_bounds(size, o) for size, o in zip(sizes, out)]
    step = _plane_strides(sizes)
    init = _outer(np.add, [s * w for (s, _), w in zip(bounds, step)])
    steps = []
    for offs in itertools.product(*(range(int((e - s).max(initial=0))) for s, e in bounds)):
        at = [np.minimum(s + j, size - 1) for (s, _), j, size in zip(bounds, offs, sizes)]
        valid = _outer(np.logical_and, [(s + j) < e for (s, e), j in zip(bounds, offs)])
        flat = _outer(np.add, [a * w for a, w in zip(at, step)])
        steps.append((_frozen(*(a.reshape(_axis_shape(i, nd)) for i, a in enumerate(at))), *_frozen(valid, flat)))
    return _frozen(init)[0], tuple(steps)


def _adaptive_max_arr(xp: Any, x: Any, out: tuple) -> tuple:
    """torch's adaptive max: per window the first maximum in row-major order (a nan wins, the last nan), one
    vectorised step per offset into the largest window; positions past a smaller window's end are masked out.
    The index is the flat position in the input plane."""
    n, c = x.shape[:2]
    init, steps = _adaptive_max_plan(x.shape[2:], out)
    best = xp.full((n, c, *out), low_of(x.dtype), dtype=x.dtype)
    idx = xp.broadcast_to(xp.asarray(init), (n, c, *out))
    isfloat = x.dtype.kind == "f"
    colons = (slice(None), slice(None))
    for at, valid, flat in steps:
        v = x[colons + tuple(map(xp.asarray, at))]
        upd = v > best
        if isfloat:
            upd |= xp.isnan(v)
        upd &= xp.asarray(valid)
        best = xp.where(upd, v, best)
        idx = xp.where(upd, xp.asarray(flat), idx)
    return best, xp.ascontiguousarray(idx)


def _adaptive_max_pool(nd: int, input: Tensor, output_size: Any) -> tuple:  # noqa: A002
    fname = f"adaptive_max_pool{nd}d"
    size = _output_size(output_size, input._data.shape)
    shape = input._data.shape
    rank = len(shape)
    if rank not in (nd + 1, nd + 2):
        raise RuntimeError(f"{fname}(): Expected {nd + 1}D or {nd + 2}D tensor, but got: {shape_text(shape)}")
    for i in range(1, rank):
        if shape[i] <= 0:
            raise RuntimeError(
                f"{fname}(): Expected input to have non-zero size for non-batch dimensions, but input has sizes "
                f"{shape_text(shape)} with dimension {i} being empty"
            )
    size = [size] * nd if isinstance(size, int) else size
    if len(size) != nd:
        raise RuntimeError(f"{fname}(): internal error: output_size.size() must be {nd}")
    if min(size) < 0:
        full = [*shape[:-nd], *size]
        raise RuntimeError(f"Trying to create tensor with negative dimension {min(size)}: {shape_text(full)}")
    not_for(fname if nd == 2 else f"{fname}_cpu", input, "f")
    a = input._data
    out, idx = _adaptive_max_arr(input._dev.xp, _batched(a, nd), tuple(size))
    if a.ndim == nd + 1:
        out, idx = out[0], idx[0]
    return with_indices(f"AdaptiveMaxPool{nd}DBackward0", input, out, idx, nd, False)


def adaptive_max_pool2d(input: Tensor, output_size: Any, return_indices: bool = False) -> Any:  # noqa: A002
    r = _adaptive_max_pool(2, input, output_size)
    return r if return_indices else r[0]


@autocast_policy(cpu="fp32")
def adaptive_max_pool3d(input: Tensor, output_size: Any, return_indices: bool = False) -> Any:  # noqa: A002
    r = _adaptive_max_pool(3, input, output_size)
    return r if return_indices else r[0]


def adaptive_max_pool1d(input: Tensor, output_size: Any, return_indices: bool = False) -> Any:  # noqa: A002
    check_dim_range("adaptive_max_pool1d", input, 2, 4)
    o = check1d("adaptive_max_pool1d", "output_size", output_size)
    out, idx = adaptive_max_pool2d(input.unsqueeze(-2), (1, o), True)
    out = out.squeeze(-2)
    return (out, idx.squeeze(-2)) if return_indices else out


def max_pool1d_with_indices(input: Tensor, kernel_size: Any, stride: Any = None, padding: Any = 0,
                            dilation: Any = 1, ceil_mode: bool = False, return_indices: bool = False) -> tuple:  # noqa: A002  # fmt: skip
    return max_pool1d(input, kernel_size, stride, padding, dilation, ceil_mode, True)


def max_pool2d_with_indices(input: Tensor, kernel_size: Any, stride: Any = None, padding: Any = 0,
                            dilation: Any = 1, ceil_mode: bool = False, return_indices: bool = False) -> tuple:  # noqa: A002  # fmt: skip
    return max_pool2d(input, kernel_size, stride, padding, dilation, ceil_mode, True)


def max_pool3d_with_indices(input: Tensor, kernel_size: Any, stride: Any = None, padding: Any = 0,
                            dilation: Any = 1, ceil_mode: bool = False, return_indices: bool = False) -> tuple:  # noqa: A002  # fmt: skip
    return max_pool3d(input, kernel_size, stride, padding, dilation, ceil_mode, True)


def adaptive_max_pool1d_with_indices(input: Tensor, output_size: Any, return_indices: bool = False) -> tuple:  # noqa: A002
    return adaptive_max_pool1d(input, output_size, True)


def adaptive_max_pool2d_with_indices(input: Tensor, output_size: Any, return_indices: bool = False) -> tuple:  # noqa: A002
    return adaptive_max_pool2d(input, output_size, True)


def adaptive_max_pool3d_with_indices(input: Tensor, output_size: Any, return_indices: bool = False) -> tuple:  # noqa: A002
    return adaptive_max_pool3d(input, output_size, True)


# ---- max unpooling -------------------------------------------------------------------------------------


def _unpool_output_size(input: Tensor, kernel: tuple, stride: tuple, padding: tuple, output_size: Any) -> list:  # noqa: A002
    """torch's nn.functional._unpool_output_size: the default size, or output_size checked against it."""
    shape = input._data.shape
    n = len(kernel)
    default = [(shape[-n + d] - 1) * stride[d] + kernel[d] - 2 * padding[d] for d in range(n)]
    if output_size is None:
        ret = default
    else:
        if len(output_size) == n + 2:
            output_size = output_size[2:]
        if len(output_size) != n:
            raise ValueError(
                f"output_size should be a sequence containing {n} or {n + 2} elements, but it has a length of "
                f"'{len(output_size)}'"
            )
        for d in range(n):
            lo, hi = default[d] - stride[d], default[d] + stride[d]
            if not lo < output_size[d] < hi:
                raise ValueError(f'invalid output_size "{output_size}" (dim {d} must be between {lo} and {hi})')
        ret = [int(v) for v in output_size]
    for d in range(n):
        if ret[d] < 0:
            raise ValueError(
                "max_unpooling: output_size must contain non-negative spatial dimensions, but got "
                f"output_size[{d}]={ret[d]}"
            )
    return ret


def _max_unpool_prim(input: Tensor, indices: Tensor, out: list) -> Tensor:  # noqa: A002
    """Each value written at its index in its output plane, zeros elsewhere (MaxUnpool{2,3}DBackward0); the
    gradient is the output's gradient gathered back at the indices."""
    nd = len(out)
    xp, a, idx = input._dev.xp, input._data, indices._data
    lead = a.shape[:-nd]
    flat_idx = idx.reshape(*lead, -1)
    size = int(np.prod(out))
    if flat_idx.size:
        bad = (flat_idx < 0) | (flat_idx >= size)
        if bool(bad.any()):  # (torch's serial loop reports the last bad index it met)
            from engine.backend import host

            flat = host(flat_idx).reshape(-1)
            last = int(flat[int(np.flatnonzero(host(bad).reshape(-1))[-1])])
            what = "x".join(map(str, out))
            raise RuntimeError(f"Found an invalid max index: {last} (output volumes are of size {what})")
    planes = int(np.prod(lead)) if lead else 1
    res = xp.zeros((planes, size), dtype=a.dtype)
    res[xp.arange(planes)[:, None], flat_idx.reshape(planes, -1)] = a.reshape(planes, -1)
    res = res.reshape(*lead, *out)

    def backward(g: Tensor, x: Tensor) -> Tensor:
        return g.reshape(*lead, size).gather(-1, indices.reshape(*lead, -1)).reshape(a.shape)

    return op_node(f"MaxUnpool{nd}DBackward0", res, input, backward, keep=False)


def _ntuple(v: Any, n: int) -> tuple:
    """torch.nn.modules.utils._ntuple: a sequence as a tuple, anything else repeated n times."""
    return tuple(v) if isinstance(v, (tuple, list)) else (int(v),) * n


def _max_unpool(nd: int, input: Tensor, indices: Tensor, kernel_size: Any, stride: Any, padding: Any,
                output_size: Any) -> Tensor:  # noqa: A002  # fmt: skip
    """max_unpool{2,3}d: the inverse of max_pool(return_indices=True), each value back where it was taken from;
    the checks of ATen's max_unpooling kernels, in their order."""
    kernel = _ntuple(kernel_size, nd)
    step = _ntuple(stride, nd) if stride is not None else kernel
    pad = _ntuple(padding, nd)
    out = _unpool_output_size(input, kernel, step, pad, output_size)
    if indices._data.dtype != np.int64:
        got = f" but got: {indices.dtype.scalar_name()}" if nd == 2 else ""
        raise RuntimeError(f"elements in indices should be type int64{got}")
    if input.dim() not in (nd + 1, nd + 2):
        raise RuntimeError(
            f"Input to max_unpooling{nd}d should be a {nd + 1}d or {nd + 2}d Tensor, but got a tensor with "
            f"{input.dim()} dimensions."
        )
    shape = input._data.shape
    if indices._data.shape != shape:
        raise RuntimeError(
            f"Expected shape of indices to be same as that of the input tensor ({shape_text(shape)}) but got "
            f"indices tensor with shape: {shape_text(indices._data.shape)}"
        )
    for i in range(1, len(shape)):
        if shape[i] <= 0:
            raise RuntimeError(
                f"max_unpooling{nd}d_forward_out_cpu(): Expected input to have non-zero size for non-batch "
                f"dimensions, but got {shape_text(shape)} with dimension {i} being empty."
            )
    if nd == 3 and min(step) <= 0:
        raise RuntimeError(f"strides should be greater than zero, but got stride: {shape_text(step)}")
    return _max_unpool_prim(input, indices, out)


def max_unpool2d(input: Tensor, indices: Tensor, kernel_size: Any, stride: Any = None, padding: Any = 0,
                 output_size: Any = None) -> Tensor:  # noqa: A002  # fmt: skip
    _functional.tensor_arg("max_unpool2d", input)
    return _max_unpool(2, input, indices, kernel_size, stride, padding, output_size)


def max_unpool3d(input: Tensor, indices: Tensor, kernel_size: Any, stride: Any = None, padding: Any = 0,
                 output_size: Any = None) -> Tensor:  # noqa: A002  # fmt: skip
    _functional.tensor_arg("max_unpool3d", input)
    return _max_unpool(3, input, indices, kernel_size, stride, padding, output_size)


def max_unpool1d(input: Tensor, indices: Tensor, kernel_size: Any, stride: Any = None, padding: Any = 0,
                 output_size: Any = None) -> Tensor:  # noqa: A002  # fmt: skip
    """torch's: max_unpool2d over a width of 1 (unsqueezed, then squeezed)."""
    _functional.tensor_arg("max_unpool1d", input)
    kernel = _ntuple(kernel_size, 1)
    step = _ntuple(stride, 1) if stride is not None else kernel
    pad = _ntuple(padding, 1)
    (ol,) = _unpool_output_size(input, kernel, step, pad, output_size)
    return max_unpool2d(input.unsqueeze(-1), indices.unsqueeze(-1), (kernel[0], 1), (step[0], 1), (pad[0], 0),
                        (ol, 1)).squeeze(-1)  # fmt: skip


FUNCTIONS: dict[str, Callable] = {
    "max_pool1d": max_pool1d,
    "max_pool2d": max_pool2d,
    "max_pool3d": max_pool3d,
    "avg_pool1d": avg_pool1d,
    "avg_pool2d": avg_pool2d,
    "avg_pool3d": avg_pool3d,
    "lp_pool1d": lp_pool1d,
    "lp_pool2d": lp_pool2d,
    "lp_pool3d": lp_pool3d,
    "adaptive_avg_pool1d": adaptive_avg_pool1d,
    "adaptive_avg_pool2d": adaptive_avg_pool2d,
    "adaptive_avg_pool3d": adaptive_avg_pool3d,
    "adaptive_max_pool1d": adaptive_max_pool1d,
    "adaptive_max_pool2d": adaptive_max_pool2d,
    "adaptive_max_pool3d": adaptive_max_pool3d,
    "max_pool1d_with_indices": max_pool1d_with_indices,
    "max_pool2d_with_indices": max_pool2d_with_indices,
    "max_pool3d_with_indices": max_pool3d_with_indices,
    "adaptive_max_pool1d_with_indices": adaptive_max_pool1d_with_indices,
    "adaptive_max_pool2d_with_indices": adaptive_max_pool2d_with_indices,
    "adaptive_max_pool3d_with_indices": adaptive_max_pool3d_with_indices,
    "max_unpool1d": max_unpool1d,
    "max_unpool2d": max_unpool2d,
    "max_unpool3d": max_unpool3d,
}


# ---- torch's errors for raw data passed in (engine/nn/arg_checks.py) -------------------------------------------
def _install_arg_checks() -> None:
    from engine.nn import arg_checks

    g = globals()
    for name in ("avg_pool1d", "avg_pool2d", "avg_pool3d", "adaptive_avg_pool1d", "adaptive_max_pool1d"):
        g[name] = FUNCTIONS[name] = arg_checks.parser(g[name], name)
    for name in ("adaptive_avg_pool2d", "adaptive_max_pool2d", "adaptive_avg_pool3d", "adaptive_max_pool3d"):
        g[name] = FUNCTIONS[name] = arg_checks.attribute(g[name], "size")


_install_arg_checks()
