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

Where GCC contracts `acc + x * y` into an FMA was found by comparing with torch: besides ops/norm_vec.py's
findings, the tail of the rows kernel's grad_input loop is not contracted, and the planes' scalar float64
variance loop only for the odd element after its pairs.

The vector loops are ops/norm_vec.py's (32-byte vectors: these kernels have no AVX512 build).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from engine.ops.cascade_sum import _seq
from engine.ops.fma import _fma64
from engine.ops.norm_vec import (
    VEC_BYTES,
    chunk_fma0,
    chunk_sum0,
    fmadd,
    has_fma,
    map2_reduce_all,
    reduce_all,
    scratch64,
    seq_sum0,
    sum64,
    thread_split,
    thread_total,
)

_F32 = np.dtype(np.float32)
_F64 = np.dtype(np.float64)


# ---- forward ---------------------------------------------------------------------------------------------


def rows_stats(rows: np.ndarray) -> tuple:
    """(mean, sum of squared deviations) per channel of (R, C) rows: batch_norm_cpu_collect_stats_channels_last."""
    r, c = rows.shape
    dt = rows.dtype
    nt, ch = thread_split(r)
    # (with R <= threads torch sums each channel in double; one row per chunk gives the same roundings)
    total = _seq(chunk_sum0(rows, nt, ch).reshape(nt, c).astype(_F64), 0)
    mean = (total / r).astype(dt)
    d = rows - mean
    return mean, thread_total(chunk_fma0(d, d, nt, ch), nt, c, dt)


def plane_stats(x3: np.ndarray) -> tuple:
    """(mean, sum of squared deviations) per channel of a contiguous (N, C, L) array:
    batch_norm_cpu_collect_stats_contiguous, a scalar loop per channel summing in double (each square rounded
    before it is added, but a float64 row's odd last one)."""
    n, c, length = x3.shape
    dt = x3.dtype
    if c > 1 and n * length > 1 and (dt == _F32 or length % 2 == 0 or not has_fma()):
        return _plane_stats_rows(x3)
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


def _plane_stats_rows(x3: np.ndarray) -> tuple:
    """plane_stats's sums, each a float64 reduce over the (N * L, C) rows in order: the values (and then the
    squared deviations) cast and transposed into a float64 work buffer in one pass, so the reduce runs on
    float64 (a float32 operand would be cast in slow buffered blocks)."""
    n, c, length = x3.shape
    dt = x3.dtype
    t = scratch64((n, length, c))
    rows = t.reshape(n * length, c)
    t[...] = x3.transpose(0, 2, 1)
    mean = ((np.add.reduce(rows, axis=0) + 0) / (n * length)).astype(dt)
    d = x3 - mean[:, None]
    d *= d
    t[...] = d.transpose(0, 2, 1)
    return mean, (np.add.reduce(rows, axis=0) + 0).astype(dt)


def affine(a: np.ndarray, mean: np.ndarray, invstd: np.ndarray, w: Any, b: Any, shape: tuple) -> np.ndarray:
    """y = x * alpha + beta per channel (batch_norm_cpu_collect_linear_and_constant_terms, then the vector
    loop): alpha = invstd * weight, beta = bias - mean * alpha, both contracted in torch's FMA builds."""
    alpha = invstd if w is None else invstd * w
    beta = -(mean * alpha) if b is None else fmadd(-mean, alpha, b)
    return fmadd(a, alpha.reshape(shape), beta.reshape(shape))


# ---- backward --------------------------------------------------------------------------------------------


def rows_backward(gy: np.ndarray, x: np.ndarray, mean: np.ndarray, invstd: np.ndarray, w: Any, train: bool,
                  need_x: bool) -> tuple:  # fmt: skip
    """batch_norm_cpu_backward_channels_last on (R, C) rows: (grad_input rows or None, dotp, sum), dotp and
    sum per channel in the input's dtype (grad_weight is dotp * invstd, grad_bias is sum)."""
    r, c = x.shape
    dt = x.dtype
    nt, ch = thread_split(r)
    xc = x - mean
    total = thread_total(chunk_sum0(gy, nt, ch), nt, c, dt)
    dotp = thread_total(chunk_fma0(xc, gy, nt, ch), nt, c, dt)
    gx = None
    if need_x:
        if train:
            k = dotp * invstd * invstd / dt.type(r)
            u = gy - total / dt.type(r)
            # the vector loop's `dy - grad_mean - (x - mean) * k` is contracted; its tail's (the channels
            # after the last whole vector) is found rounded twice
            body = c - c % (VEC_BYTES // dt.itemsize) if has_fma() else 0
            if body == c:
                gx = fmadd(-xc, k, u)
            else:
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
    total = seq_sum0(reduce_all(g3).astype(_F64))
    dotp = seq_sum0(map2_reduce_all(xc, g3).astype(_F64))
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
