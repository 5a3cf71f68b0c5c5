"""torch's cpu batch_norm kernels (aten/src/ATen/native/cpu/batch_norm_kernel.cpp), rounding for rounding, for
float32 and float64 numpy arrays that are contiguous or channels-last.

A batch norm's bias gradient is a sum of round-off (the normalisation removes the mean), and Adam scales it
to +-lr, so the last bits of these sums decide a training run. torch has two kernels:

- rows (2-d input, image size 1, channels-last): the N*H*W rows split over torch's threads (one chunk each,
  as parallel_for splits them); each thread accumulates its rows into a buffer of the input's dtype, element
  by element per channel, row after row (with an FMA where the kernel adds a product); the threads' buffers
  are then added in double, in thread order.
- planes (contiguous with image size > 1): per channel and sample, the image plane reduced with vec's
  reduce_all / map2_reduce_all (a vector accumulator of Vectorized<T>::size() lanes, the tail blended into
  its first lanes, then the lanes combined: a halving tree for float, in order for double; below one vector,
  in order), the samples' results added in double.

Where GCC contracts `acc + x * y` into an FMA was found by comparing with torch: the rows kernel's
accumulations and element-wise loops are contracted (but the tail of grad_input's loop), map2_reduce_all's
vector loop is not (its tail is), the planes' scalar float64 variance loop only for the odd element
after its pairs.

The kernels have no AVX512 build, so Vectorized<T> is 32 bytes wide here on every x86 machine; whether a * b + c
is contracted into an FMA follows the build torch runs (ops/cpu_capability.py: not in the DEFAULT build).
Sums that the kernels run in order are run in order here too (numpy's reduce adds in order along any axis
but the innermost); the accumulations with an FMA take one array step per row (or per vector of a plane),
each step over all threads' chunks and channels at once.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from engine.ops.cascade_sum import _seq, torch_threads
from engine.ops.cpu_capability import has_fma as _build_has_fma
from engine.ops.cpu_capability import kernel_build
from engine.ops.fma import _fma64

_F32 = np.dtype(np.float32)
_F64 = np.dtype(np.float64)
_VEC_BYTES = 32
_SLICE = 8192  # elements per slice of fmadd's float64 work


def has_fma() -> bool:
    return _build_has_fma(kernel_build(False))


def fmadd(x: Any, y: Any, z: Any) -> Any:
    """x * y + z as torch's build computes a contracted `x * y + z`: one rounding with FMA, else two. (The
    float32 product is exact in float64; the float64 sum rounded to float32 is the FMA's but for a double
    rounding about once in 2**28, which engine.ops.fma repairs at the cost of four passes.) Large float32
    operands go in slices of the first axis, so the float64 temporaries stay small (a fresh large buffer
    costs its page faults on every call)."""
    if not has_fma():
        return x * y + z
    if x.dtype != _F32:
        return _fma64(x, y, z)
    shape = np.broadcast_shapes(x.shape, y.shape, z.shape)
    size = math.prod(shape)
    if size <= _SLICE or len(shape) < 2 or shape[0] == 1:
        r = np.multiply(x, y, dtype=_F64)
        r += z
        return r.astype(_F32)
    like = next(a for a in (x, z, y) if a.shape == shape)
    out = np.empty_like(like, dtype=_F32)  # (in the operand's layout, as a ufunc's result would be)
    xs, ys, zs = np.broadcast_arrays(x, y, z)
    step = max(1, _SLICE * shape[0] // size)
    for i in range(0, shape[0], step):
        r = np.multiply(xs[i : i + step], ys[i : i + step], dtype=_F64)
        r += zs[i : i + step]
        out[i : i + step] = r
    return out


def _chunking(rows: int) -> tuple:
    """parallel_for(0, rows, 1)'s split over torch's threads: (chunks used, rows per chunk)."""
    nt = min(torch_threads(), rows)
    ch = -(-rows // nt)
    return -(-rows // ch), ch


def _by_chunk(a: np.ndarray, nt: int, ch: int) -> np.ndarray:
    """(rows, C) -> (ch, nt * C): step j holds row j of every thread's chunk (zero rows pad the last chunk;
    adding a zero leaves torch's buffers, which start at +0, as they are)."""
    rows, c = a.shape
    if nt * ch != rows:
        a = np.concatenate((a, np.zeros((nt * ch - rows, c), a.dtype)))
    return np.ascontiguousarray(a.reshape(nt, ch, c).transpose(1, 0, 2)).reshape(ch, nt * c)


def _seq_sum0(a: np.ndarray) -> np.ndarray:
    """a's rows added in order, from +0 (so a -0 total is +0, as in torch's zero-initialised buffers)."""
    return _seq(a, 0) + 0


def sum64(a: np.ndarray) -> np.ndarray:
    """The rows of a 2-d array added in order in float64, from +0. (numpy's reduce along the outer axis adds
    in order, widening a buffer at a time: no float64 copy of a.)"""
    if a.shape[0] > 1 and a.shape[1] > 1:  # (C order: numpy adds pairwise along the axis it runs innermost)
        return np.add.reduce(np.ascontiguousarray(a), axis=0, dtype=_F64) + 0
    return _seq(a.astype(_F64), 0) + 0


def _fma_steps(a: np.ndarray, b: np.ndarray, acc: np.ndarray) -> np.ndarray:
    """acc = a[j] * b[j] + acc for j in order (the kernels' contracted accumulations), a new array."""
    if not has_fma():
        return _seq(np.concatenate((acc[None], a * b)), 0)
    acc = acc.copy()
    if a.dtype == _F32:
        p = np.multiply(a, b, dtype=_F64)  # exact products
        for row in p:
            np.add(acc, row, out=acc, casting="unsafe")  # the sum rounded to float64, then to float32
        return acc
    for j in range(a.shape[0]):
        acc = _fma64(a[j], b[j], acc)
    return acc


def _seq_fma0(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return _fma_steps(a, b, np.zeros(a.shape[1:], a.dtype))


def _thread_total(buf: np.ndarray, nt: int, c: int, dt: Any) -> np.ndarray:
    """The threads' buffers (nt * C,) added in double in thread order, stored in dt."""
    return _seq(buf.reshape(nt, c).astype(_F64), 0).astype(dt)


# ---- forward ---------------------------------------------------------------------------------------------


def rows_stats(rows: np.ndarray) -> tuple:
    """(mean, sum of squared deviations) per channel of (R, C) rows: batch_norm_cpu_collect_stats_channels_last."""
    r, c = rows.shape
    dt = rows.dtype
    nt, ch = _chunking(r)
    # (with R <= threads torch sums each channel in double; one row per chunk gives the same roundings)
    total = _seq(_seq_sum0(_by_chunk(rows, nt, ch)).reshape(nt, c).astype(_F64), 0)
    mean = (total / r).astype(dt)
    d = _by_chunk(rows - mean, nt, ch)
    return mean, _thread_total(_seq_fma0(d, d), nt, c, dt)


def plane_stats(x3: np.ndarray) -> tuple:
    """(mean, sum of squared deviations) per channel of a contiguous (N, C, L) array:
    batch_norm_cpu_collect_stats_contiguous, a scalar loop per channel summing in double (each square rounded
    before it is added, but a float64 row's odd last one)."""
    n, c, length = x3.shape
    dt = x3.dtype
    flat = np.ascontiguousarray(x3.transpose(0, 2, 1)).reshape(n * length, c)
    mean = (sum64(flat) / (n * length)).astype(dt)
    d = flat - mean
    if dt == _F32 or length % 2 == 0 or not has_fma():
        return mean, sum64(d * d).astype(dt)
    # float64: GCC runs the image loop two elements at a time (squares rounded) and contracts the odd last
    # element's square into the sum, so that one is an FMA on the running sum: one step per sample
    sq = (d * d).reshape(n, length, c)
    d_last = d.reshape(n, length, c)[:, -1]
    acc = np.zeros(c, _F64)
    for i in range(n):
        acc = _fma64(d_last[i], d_last[i], _seq(np.concatenate((acc[None], sq[i, :-1])), 0))
    return mean, acc


def affine(a: np.ndarray, mean: np.ndarray, invstd: np.ndarray, w: Any, b: Any, shape: tuple) -> np.ndarray:
    """y = x * alpha + beta per channel (batch_norm_cpu_collect_linear_and_constant_terms, then the vector
    loop): alpha = invstd * weight, beta = bias - mean * alpha, both contracted in torch's FMA builds."""
    alpha = invstd if w is None else invstd * w
    beta = -(mean * alpha) if b is None else fmadd(-mean, alpha, b)
    return fmadd(a, alpha.reshape(shape), beta.reshape(shape))


# ---- vec::reduce_all and vec::map2_reduce_all --------------------------------------------------------------


def _lane_total(acc: np.ndarray) -> np.ndarray:
    """vec_reduce_all over the last axis (the vector's lanes): float's shuffle tree halves the vector (lane i
    with lane i + width/2) until one lane is left; double (and the DEFAULT build) adds the lanes in order."""
    if acc.dtype == _F64 or not has_fma():  # (the DEFAULT build has no shuffle tree)
        return _seq(acc, acc.ndim - 1)
    while acc.shape[-1] > 1:
        h = acc.shape[-1] // 2
        acc = acc[..., :h] + acc[..., h:]
    return acc[..., 0]


def _vectors_total(v: np.ndarray, nv: int, lanes: int, v2: np.ndarray | None = None) -> np.ndarray:
    """(..., nv * lanes) -> (..., lanes): the nv vectors of v (or of v * v2, each product rounded) added in
    order. (Laid out vector-major first, so numpy's reduce adds whole planes of vectors at a time, in order.)"""
    view = np.moveaxis(v.reshape(*v.shape[:-1], nv, lanes), -2, 0)
    steps = np.empty(view.shape, v.dtype)
    if v2 is None:
        np.copyto(steps, view)
    else:
        np.multiply(view, np.moveaxis(v2.reshape(*v2.shape[:-1], nv, lanes), -2, 0), out=steps)
    return np.add.reduce(steps, axis=0)


def plane_sum(g: np.ndarray) -> np.ndarray:
    """vec::reduce_all(x + y) along the last axis of g."""
    lanes = _VEC_BYTES // g.dtype.itemsize
    length = g.shape[-1]
    if length < lanes:
        return _seq(g, g.ndim - 1)
    nv = length // lanes
    acc = _vectors_total(g[..., : nv * lanes], nv, lanes)
    rest = length - nv * lanes
    if rest:
        acc[..., :rest] += g[..., nv * lanes :]
    return _lane_total(acc)


def plane_dot(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """vec::map2_reduce_all(a * b, x + y) along the last axis: the vectors' products added in order, each
    rounded (that loop is found not contracted), then the tail's products added with an FMA (that one is),
    then the lanes combined."""
    lanes = _VEC_BYTES // a.dtype.itemsize
    length = a.shape[-1]
    if length < lanes:
        return _seq(a * b, a.ndim - 1)
    nv = length // lanes
    acc = _vectors_total(a[..., : nv * lanes], nv, lanes, b[..., : nv * lanes])
    rest = length - nv * lanes
    if rest:
        acc[..., :rest] = fmadd(a[..., nv * lanes :], b[..., nv * lanes :], acc[..., :rest])
    return _lane_total(acc)


# ---- backward --------------------------------------------------------------------------------------------


def rows_backward(gy: np.ndarray, x: np.ndarray, mean: np.ndarray, invstd: np.ndarray, w: Any, train: bool,
                  need_x: bool) -> tuple:  # fmt: skip
    """batch_norm_cpu_backward_channels_last on (R, C) rows: (grad_input rows or None, dotp, sum), dotp and
    sum per channel in the input's dtype (grad_weight is dotp * invstd, grad_bias is sum)."""
    r, c = x.shape
    dt = x.dtype
    nt, ch = _chunking(r)
    xc = x - mean
    g = _by_chunk(gy, nt, ch)
    total = _thread_total(_seq_sum0(g), nt, c, dt)
    dotp = _thread_total(_seq_fma0(_by_chunk(xc, nt, ch), g), nt, c, dt)
    gx = None
    if need_x:
        if train:
            k = dotp * invstd * invstd / dt.type(r)
            u = gy - total / dt.type(r)
            # the vector loop's `dy - grad_mean - (x - mean) * k` is contracted; its tail's (the channels
            # after the last whole vector) is found rounded twice
            body = c - c % (_VEC_BYTES // dt.itemsize) if has_fma() else 0
            gx = u - xc * k
            if body:
                gx[:, :body] = fmadd(-xc[:, :body], k[:body], u[:, :body])
            gx *= invstd
        else:
            gx = gy * invstd
        if w is not None:
            gx *= w
    return gx, dotp, total


def plane_backward(g3: np.ndarray, x3: np.ndarray, mean: np.ndarray, invstd: np.ndarray, w: Any, train: bool,
                   need_x: bool) -> tuple:  # fmt: skip
    """batch_norm_cpu_backward_contiguous on (N, C, L) arrays: (grad_input or None, grad_weight, grad_bias),
    the per-channel sums in double across the samples."""
    n, c, length = x3.shape
    dt = x3.dtype
    xc = x3 - mean[:, None]
    total = _seq_sum0(plane_sum(g3).astype(_F64))
    dotp = _seq_sum0(plane_dot(xc, g3).astype(_F64))
    gx = None
    if need_x:
        if train:
            count = n * length
            k = dotp.astype(dt) * invstd * invstd / dt.type(count)
            grad_mean = (total / count).astype(dt)
            gx = fmadd(xc, -k[:, None], g3 - grad_mean[:, None])  # (fma(-a, b, c) is fma(a, -b, c))
            gx *= invstd[:, None]
        else:
            gx = g3 * invstd[:, None]
        if w is not None:
            gx *= w[:, None]
    return gx, (dotp * invstd).astype(dt), total.astype(dt)
