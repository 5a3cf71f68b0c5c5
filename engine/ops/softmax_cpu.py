"""torch's cpu softmax and log_softmax kernels (aten/src/ATen/native/cpu/SoftMaxKernel.cpp and
LogSoftmaxKernelImpl.h) on float32 numpy arrays, bit for bit: the exp and log of their vector code are SLEEF's
(engine/ops/sleef.py), their scalar tails the C library's expf, and their sums run in the kernels' orders.

- last dim: per row, max; exp(x - max) (SLEEF for every element: vec::map feeds partial vectors to the vector
  function too); the sum in vec::reduce_all's order (16 lane accumulators, the partial last vector added to
  its first lanes, then the lanes halved pairwise; rows under 16 elements summed in order); softmax
  multiplies by 1/sum, log_softmax subtracts max and then SLEEF's log of the sum.
- other dims (x seen as outer x dim x inner): every inner position reduces down the dim in order. softmax
  walks the outer*inner positions in blocks of 16 (vectors, SLEEF's exp) where 16 fit in the inner row and in
  the thread's chunk, one by one (expf) elsewhere, and divides by the sum; log_softmax takes the last
  inner % 16 positions of each inner row one by one.

float64 (forward only, `usable64`): the same kernels with 8 lanes, SLEEF's float64 exp and log
(engine/ops/sleef_more.py), the C library's exp on the scalar positions; vec::reduce_all's last step adds
the lanes in order (float has a shuffle specialization, double the generic loop).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from engine.ops import mkl, sleef, sleef_more
from engine.ops.cascade_sum import _seq
from engine.ops.cpu_capability import kernel_build, vector_bytes
from engine.ops.cpu_loops import parallel_chunks
from engine.ops.fma import fma
from engine.ops.libm import c_math

_F32 = np.dtype(np.float32)
_F64 = np.dtype(np.float64)
_LOW29 = np.array((1 << 29) - 1, np.uint64)  # float64 mantissa bits under float32's precision
_HALF29 = np.array(1 << 28, np.uint64)  # ... holding half a float32 ulp: a float32 tie
_GRAIN = 32768  # at::internal::GRAIN_SIZE


def usable(a: Any) -> bool:
    """Whether these kernels compute a: a float32 numpy array, in exact mode (the exact extra's MKL loaded:
    these kernels cost 3-5x numpy's formula on small arrays, a price paid only by choice)."""
    return type(a) is np.ndarray and a.dtype == _F32 and mkl.available()


def usable64(a: Any) -> bool:
    """Whether the forward kernels compute the float64 array a (SLEEF's float64 exp and log, emulated with
    the FMA variants: the AVX2 and AVX512 builds)."""
    return type(a) is np.ndarray and a.dtype == _F64 and mkl.available() and sleef_more.usable_fma()


def _lanes(dt: Any = _F32) -> int:
    return vector_bytes(kernel_build(True)) // np.dtype(dt).itemsize


def _exp(z: np.ndarray) -> np.ndarray:
    """Vectorized<T>::exp(): SLEEF's, float32 or float64."""
    return sleef.expf(z) if z.dtype == _F32 else sleef_more.exp64(z)


def _log(s: np.ndarray) -> np.ndarray:
    """Vectorized<T>::log(): SLEEF's, float32 or float64 (s >= 1 here: a sum of exps whose largest is 1)."""
    return sleef.logf(s) if s.dtype == _F32 else sleef_more.log64(s)


_ONE = np.float32(1.0)


def _glibc_exp(z: np.ndarray) -> np.ndarray:
    return c_math("exp", z)


def _row_sum(e: np.ndarray) -> np.ndarray:
    """vec::reduce_all(+) of each row of the 2-d float32 array e."""
    rows, n = e.shape
    L = _lanes(e.dtype)
    if n < L:  # in order: numpy adds in order down the outer axis of a C array (its inner one pairwise)
        if rows == 1:
            return np.add.accumulate(e[0])[-1:]
        return np.add.reduce(np.ascontiguousarray(e.T), axis=0)
    full = n - n % L
    acc = _seq(e[:, :full].reshape(rows, full // L, L), 1)
    if full < n:
        acc[:, : n - full] += e[:, full:]
    if e.dtype == _F64:  # vec_reduce_all's generic loop: lane 0, then each other lane added in order
        return _seq(acc, 1)
    while acc.shape[1] > 1:  # (float's VecReduceAllSIMD: halves added pairwise)
        h = acc.shape[1] // 2
        acc = acc[:, :h] + acc[:, h:]
    return acc[:, 0]


def _lastdim(x: np.ndarray, log: bool) -> np.ndarray:
    n = x.shape[-1]
    x2 = x.reshape(-1, n)
    z = x2 - np.maximum.reduce(x2, axis=1, keepdims=True)
    e = _exp(z)
    s = _row_sum(e)
    if log:
        z -= _log(s)[:, None]
        return z.reshape(x.shape)
    np.divide(s.dtype.type(1), s, out=s)
    e *= s[:, None]
    return e.reshape(x.shape)


def reduced_lastdim(x: np.ndarray) -> np.ndarray:
    """torch's last-dim softmax for float16/bfloat16 (_vec_softmax_lastdim's reduced-float branch) on the values
    as float32 (its result, to be rounded once): per row the max; exp(x - max) with SLEEF's exp over whole
    Vectorized<float> blocks and std::exp on the rest; the blocks summed into lane accumulators, the lanes
    halved pairwise, then the rest added in order; each exp times 1 / sum."""
    n = x.shape[-1]
    x2 = x.reshape(-1, n)
    rows, L = x2.shape[0], _lanes()
    full = n - n % L
    with np.errstate(all="ignore"):
        z = x2 - np.maximum.reduce(x2, axis=1, keepdims=True)
        e = np.empty_like(z)
        e[:, :full] = sleef.expf(z[:, :full])
        if full < n:
            e[:, full:] = _glibc_exp(np.ascontiguousarray(z[:, full:]))
        if full:
            acc = _seq(e[:, :full].reshape(rows, full // L, L), 1)
            while acc.shape[1] > 1:
                h = acc.shape[1] // 2
                acc = acc[:, :h] + acc[:, h:]
            s = acc[:, 0].copy()
        else:
            s = np.zeros(rows, _F32)
        for j in range(full, n):
            s += e[:, j]
        e *= (_ONE / s)[:, None]
    return e.reshape(x.shape)


def _softmax_vec_mask(outer: int, inner: int, dim: int, L: int) -> np.ndarray:
    """(outer, inner): which positions _vec_softmax computes in vectors (of L lanes): each thread's chunk of
    the outer * inner positions, cut at inner-row ends, in runs of whole vectors from each piece's start."""
    n = outer * inner
    chunks = parallel_chunks(n, min(_GRAIN // dim, 1))  # (sic: min, grain 1)
    if outer <= 32:  # few rows: a loop over the pieces costs less than the array passes below
        mask = np.zeros(n, dtype=bool)
        for b, end in chunks:
            idx = b
            while idx < end:
                run_end = min(end, (idx // inner + 1) * inner)
                mask[idx : idx + (run_end - idx) // L * L] = True
                idx = run_end
        return mask.reshape(outer, inner)
    pos = np.arange(n)
    start = pos - pos % inner  # the inner row's start and end
    stop = start + inner
    for b, end in chunks:
        inside = (pos >= b) & (pos < end)
        np.maximum(start, b, out=start, where=inside)
        np.minimum(stop, end, out=stop, where=inside)
    return (pos < start + (stop - start) // L * L).reshape(outer, inner)


def low_otherdim(z: np.ndarray, ax: int, half: bool) -> np.ndarray:
    """torch's other-dim softmax for float16 (half) or bfloat16, from z = x - max along ax (float32): positions
    in _vec_softmax's vector runs (Vectorized<Half>'s lanes) take SLEEF's exp and divide it by the sum as a
    float; the ones computed one by one take expf and store it in the output's dtype first, then divide (the
    sum, in order down the dim, adds the unrounded exps). numpy's exp stands in without the exact extra."""
    from engine.bf16 import round_bits

    shape = z.shape
    outer = int(np.prod(shape[:ax], dtype=np.int64))
    inner = int(np.prod(shape[ax + 1 :], dtype=np.int64))
    dim = shape[ax]
    z3 = np.ascontiguousarray(z, dtype=_F32).reshape(outer, dim, inner)
    vec = _softmax_vec_mask(outer, inner, dim, vector_bytes(kernel_build(True)) // 2)[:, None, :]
    if mkl.available():
        e = _glibc_exp(z3)
        if vec.any():
            e = np.where(vec, _exp(z3), e)
    else:
        e = np.exp(z3)
    s = _seq(e, 1)[:, None, :]
    low = e.astype(np.float16).astype(_F32) if half else round_bits(e)
    return (np.where(vec, e, low) / s).reshape(shape)


def _otherdim(x: np.ndarray, ax: int, log: bool) -> np.ndarray:
    shape = x.shape
    outer = int(np.prod(shape[:ax], dtype=np.int64))
    inner = int(np.prod(shape[ax + 1 :], dtype=np.int64))
    dim = shape[ax]
    x3 = x.reshape(outer, dim, inner)
    m = x3.max(axis=1, keepdims=True)
    z = x3 - m
    L = _lanes(x.dtype)
    if log:
        nv = inner - inner % L
        vec = np.zeros((outer, inner), dtype=bool)
        vec[:, :nv] = True
    else:
        vec = _softmax_vec_mask(outer, inner, dim, L)
    o, i = np.nonzero(~vec)  # the positions computed one by one (std::exp)
    if o.size == z.size // max(dim, 1):  # (all of them)
        e = _glibc_exp(z)
    else:
        e = _exp(z)  # (elementwise: every element, then the scalar positions' replaced)
        if o.size:
            e[o, :, i] = _glibc_exp(z[o, :, i])
    s = _seq(e, 1)[:, None, :]
    r = z - _log(s) if log else e / s
    return r.reshape(shape)


def softmax(x: np.ndarray, ax: int | None, log: bool) -> np.ndarray:
    """torch's softmax (log_softmax) of the float32 or float64 array x along axis ax (None: a 0-d x)."""
    if ax is None:
        return np.asarray(x.dtype.type(0.0) if log else x.dtype.type(1.0))
    if x.size == 0:
        return np.empty(x.shape, x.dtype)
    x = np.ascontiguousarray(x)  # (torch runs on input.contiguous())
    if ax == x.ndim - 1:
        return _lastdim(x, log)
    return _otherdim(x, ax, log)


def _inexact(r: np.ndarray, p: np.ndarray, z: np.ndarray) -> np.ndarray:
    """For r = RN64(p + z) (float64 arrays of one shape): which elements lie exactly halfway between two
    float32 values while p + z itself does not (there rounding r to float32 rounds twice; at an exact tie the
    cast rounds to even, as the fma would)."""
    bad = np.equal(np.bitwise_and(r.view(np.uint64), _LOW29), _HALF29)
    if np.count_nonzero(bad):
        i = np.nonzero(bad)
        rr, pp, zz = r[i], p[i], z[i]
        bb = rr - pp  # (TwoSum: the sum's exact error)
        bad[i] = ((pp - (rr - bb)) + (zz - bb)) != 0
    return bad


def _fnma(a: np.ndarray, b: np.ndarray, c: np.ndarray) -> np.ndarray:
    """c - a * b rounded once (GCC contracts the kernels' `x - y.exp() * sum` into vfnmadd): the product
    exact in float64, the difference rounded there and then to float32; where that rounds twice (rare),
    fma.fma (exact, slower) computes it all."""
    p = np.multiply(a.astype(_F64), np.negative(b.astype(_F64)))
    z = np.broadcast_to(c.astype(_F64), p.shape)
    r = np.add(p, z)
    if np.count_nonzero(_inexact(r, p, z)):
        return fma(-a, np.ascontiguousarray(np.broadcast_to(b, a.shape)), np.ascontiguousarray(c))
    return r.astype(_F32)


def _dot_down(g3: np.ndarray, y3: np.ndarray) -> np.ndarray:
    """sum of grad * out down axis 1 of (outer, dim, inner) float32 arrays, in order, each step an fma (the
    kernel's tmp_sum += grad * out, contracted): the products exact in float64, each step's sum rounded there
    and then to float32, the float64 sums kept to catch a double rounding (then the exact loop runs)."""
    n = g3.shape[1]
    p = np.multiply(g3.astype(_F64), y3.astype(_F64))
    w = np.empty_like(p)  # w[:, k]: RN64(p[:, k] + the sum before it)
    acc = w[:, 0] = (g3[:, 0] * y3[:, 0]).astype(_F64)
    for k in range(1, n):
        np.add(p[:, k], acc, w[:, k])
        acc = w[:, k].astype(_F32).astype(_F64)
    if n > 1 and np.count_nonzero(_inexact(w[:, 1:], p[:, 1:], w[:, :-1].astype(_F32).astype(_F64))):
        acc32 = g3[:, 0] * y3[:, 0]
        for k in range(1, n):
            acc32 = fma(g3[:, k], y3[:, k], acc32)
        return acc32
    return acc.astype(_F32)


def _softmax_backward64(g: np.ndarray, y: np.ndarray, ax: int, log: bool) -> np.ndarray:
    """softmax_backward for float64 arrays: the float32 kernels' steps with 8 lanes, SLEEF's float64 exp,
    and the contracted steps as exact float64 fmas."""
    g = np.ascontiguousarray(g, dtype=_F64)
    y = np.ascontiguousarray(y, dtype=_F64)
    shape = y.shape
    n = shape[ax]
    if ax == y.ndim - 1:
        g2, y2 = g.reshape(-1, n), y.reshape(-1, n)
        if log:
            s = np.ascontiguousarray(np.broadcast_to(_row_sum(g2)[:, None], g2.shape))
            r = fma(-_exp(y2), s, g2)
        else:
            r = (g2 - _row_sum(g2 * y2)[:, None]) * y2
        return r.reshape(shape)
    outer = int(np.prod(shape[:ax], dtype=np.int64))
    inner = int(np.prod(shape[ax + 1 :], dtype=np.int64))
    g3, y3 = g.reshape(outer, n, inner), y.reshape(outer, n, inner)
    if log:
        nv = inner - inner % _lanes(_F64)
        e = np.empty_like(y3)
        e[:, :, :nv] = _exp(y3[:, :, :nv])
        if nv < inner:
            e[:, :, nv:] = _glibc_exp(y3[:, :, nv:])
        s = np.ascontiguousarray(np.broadcast_to(_seq(g3, 1)[:, None, :], g3.shape))
        r = fma(-e, s, g3)
    else:
        acc = g3[:, 0] * y3[:, 0]
        for k in range(1, n):  # tmp_sum += grad * out, contracted into fmas down the dim
            acc = fma(np.ascontiguousarray(g3[:, k]), np.ascontiguousarray(y3[:, k]), acc)
        r = y3 * (g3 - acc[:, None, :])
    return r.reshape(shape)


def softmax_backward(g: np.ndarray, y: np.ndarray, ax: int | None, log: bool) -> np.ndarray:
    """torch's _softmax_backward_data (_log_softmax_backward_data) of float32 (or, usable64, float64) arrays
    along axis ax."""
    if ax is None or y.size == 0:
        return g - np.exp(y) * g if log else (g - g * y) * y
    if y.dtype == _F64:
        return _softmax_backward64(g, y, ax, log)
    g = np.ascontiguousarray(g, dtype=_F32)
    y = np.ascontiguousarray(y, dtype=_F32)
    shape = y.shape
    n = shape[ax]
    if ax == y.ndim - 1:
        g2, y2 = g.reshape(-1, n), y.reshape(-1, n)
        if log:  # grad - exp(out) * sum(grad): the exp in vectors for every element (vec::map2)
            r = _fnma(sleef.expf(y2), _row_sum(g2)[:, None], g2)
        else:
            r = (g2 - _row_sum(g2 * y2)[:, None]) * y2
        return r.reshape(shape)
    outer = int(np.prod(shape[:ax], dtype=np.int64))
    inner = int(np.prod(shape[ax + 1 :], dtype=np.int64))
    g3, y3 = g.reshape(outer, n, inner), y.reshape(outer, n, inner)
    if log:  # vectors over the inner positions, the last inner % 16 one by one (std::exp)
        nv = inner - inner % _lanes()
        e = np.empty_like(y3)
        e[:, :, :nv] = sleef.expf(y3[:, :, :nv])
        if nv < inner:
            e[:, :, nv:] = _glibc_exp(y3[:, :, nv:])
        r = _fnma(e, _seq(g3, 1)[:, None, :], g3)
    else:
        acc = _dot_down(g3, y3)  # tmp_sum += grad * out, contracted into fmas down the dim
        r = y3 * (g3 - acc[:, None, :])
    return r.reshape(shape)
