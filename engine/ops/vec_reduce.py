"""torch's cpu product order (binary_kernel_reduce_vec), so that `x.prod().item()` prints torch's digits.

A float product rounds after every multiplication, so its last bits depend on the order. torch's reduction
loop (aten/src/ATen/native/cpu/Reduce.h) reads a contiguous row as blocks of four 32-byte vectors: each of the
four vector accumulators multiplies its vectors in order, the four are combined as (a0*a1)*(a2*a3), the lanes
are multiplied in order, and the elements after the last whole block follow one by one. Rows that are not
contiguous are multiplied element by element in order. Each output starts at 1 and takes the results of its
rows in iteration order. Above 32768 elements a full product is split over torch's threads, one chunk each,
and the chunks' products are multiplied in order, as for sums (ops/cascade_sum.py).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from engine.bf16 import BF16Array, stepwise
from engine.ops import cascade_sum as C
from engine.ops import glibc_powf
from engine.ops.fma import fma
from engine.ops.libm import c_pow

_MUL = np.multiply


def _inner(x: np.ndarray) -> np.ndarray:
    """vectorized_inner_reduction along the last axis of x, which is contiguous: one factor per row."""
    lanes = 32 // x.dtype.itemsize
    n = x.shape[-1]
    count = n // (4 * lanes)
    rest = x.shape[:-1]
    factors = []
    if count:
        blocks = x[..., : count * 4 * lanes].reshape(*rest, count, 4, lanes)
        acc = C._seq(blocks, len(rest), _MUL)  # (..., 4, lanes): each accumulator down its vectors
        a = (acc[..., 0, :] * acc[..., 1, :]) * (acc[..., 2, :] * acc[..., 3, :])
        factors.append(C._seq(a, len(rest), _MUL)[..., None] if a.ndim > 1 else C._seq(a, 0, _MUL)[None])
    factors.append(x[..., count * 4 * lanes :])
    f = np.concatenate(factors, axis=-1) if len(factors) > 1 else factors[0]
    return C._seq(f, f.ndim - 1, _MUL) if f.shape[-1] else np.ones(rest, x.dtype)


def full_prod(d: np.ndarray) -> np.ndarray | None:
    """torch's product of every element of a dense float array (any order of its dims), or None."""
    if d.dtype.kind != "f" or d.size == 0:
        return None
    flat = C.dense_flat(d)
    if flat is None:
        return None
    chunks = C.thread_chunks(flat.size)
    if len(chunks) == 1:
        return np.asarray(_inner(flat), dtype=d.dtype)
    parts = np.array([_inner(flat[c]) for c in chunks], dtype=d.dtype)
    return np.asarray(C._seq(parts, 0, _MUL), dtype=d.dtype)


def dim_prod(d: np.ndarray, axis: int) -> np.ndarray | None:
    """torch's product of a float array along one dim (keepdim=False), or None."""
    if d.dtype.kind != "f" or d.size == 0 or d.ndim == 0:
        return None
    if all(n == 1 for i, n in enumerate(d.shape) if i != axis):
        r = full_prod(d)
        return None if r is None else r.reshape(tuple(n for i, n in enumerate(d.shape) if i != axis))
    dims = C._iter_dims(d.shape, d.strides, frozenset((axis,)))
    if not dims or dims[0][2] != 0:
        return (d * 1).reshape(tuple(n for i, n in enumerate(d.shape) if i != axis))
    # one reduced dim: it is dims[0] (reduced dims come first), and it does not merge with kept ones
    live, order, sizes = C.loop_view_params(d.shape, dims)
    v = d.reshape(live).transpose(order).reshape(sizes)
    if dims[0][1] == d.dtype.itemsize:
        r = _inner(v)
    else:  # element by element down the rows
        r = C._seq(v, v.ndim - 1, _MUL)
    unmerge, back = C.kept_params(d.shape, dims[1:])
    return r.reshape(unmerge).transpose(back).reshape(tuple(n for i, n in enumerate(d.shape) if i != axis))


def torch_prod(d: Any, axis: int | None) -> np.ndarray | None:
    """prod in torch's order for a numpy float array (None: use numpy's)."""
    if type(d) is not np.ndarray:
        return stepwise(d, axis, _MUL) if type(d) is BF16Array else None
    return full_prod(d) if axis is None else dim_prod(d, axis)


def torch_var(d: Any, dims: tuple | None, correction: float, keepdim: bool) -> np.ndarray | None:
    """var in torch's arithmetic (float64 result, the caller rounds), or None. A full float32/float64 var is
    torch's std_var_all_cpu: the mean as torch computes it, then the squared deviations summed in double one
    by one (per thread above 32768 elements); along dims torch runs Welford in double, whose result rounded
    to float32 is the double two-pass variance's."""
    if type(d) is not np.ndarray or d.dtype.char not in "efd" or d.size == 0:
        return None
    full = dims is None or len(dims) == d.ndim
    if not full and d.dtype.char == "d":
        r = _welford_var(d, dims, correction, keepdim)
        if r is not None:
            return r
    if not full or d.dtype.char == "e":
        return d.astype(np.float64).var(axis=dims, ddof=correction, keepdims=keepdim)
    s = C.full_sum(d)
    if s is None:
        return None
    mean = float(np.asarray(s / d.dtype.type(d.size), dtype=d.dtype))  # torch's self.mean().item<double>()
    flat = C.dense_flat(d)
    dx = flat.astype(np.float64) - mean
    sq = dx * dx
    n = sq.size
    total = 0.0
    for c in C.thread_chunks(n):  # each thread's sum from 0, then the threads' sums in order
        total += float(np.add.accumulate(sq[c])[-1])
    r = np.float64(total) / max(0.0, n - correction)
    return r.reshape((1,) * d.ndim) if keepdim else np.asarray(r)


def _welford_var(d: np.ndarray, dims: tuple, correction: float, keepdim: bool) -> np.ndarray | None:
    """torch's var along dims of a float64 array: WelfordOps over each output's elements in iteration order
    (mean += delta / n; m2 += delta * (x - mean), unfused), or None past one thread's share (32768 elements,
    where torch splits the sum over its threads and numpy's two-pass variance stands in)."""
    dims_ = C._iter_dims(d.shape, d.strides, frozenset(dims))
    nred = sum(1 for dim in dims_ if dim[2] == 0)
    live, order, sizes = C.loop_view_params(d.shape, dims_)
    v = d.reshape(live).transpose(order).reshape(sizes)
    v = v.reshape(*v.shape[: v.ndim - nred], -1)
    n = v.shape[-1]
    if nred == 0 or n > 32768:
        return None
    mean = np.zeros(v.shape[:-1])
    m2 = np.zeros(v.shape[:-1])
    for i in range(n):
        x = v[..., i]
        delta = x - mean
        mean = mean + delta / (i + 1)
        m2 = m2 + delta * (x - mean)
    r = m2 / max(n - correction, 0)
    unmerge, back = C.kept_params(d.shape, dims_[nred:])
    r = np.asarray(r).reshape(unmerge).transpose(back)
    return r.reshape(tuple(1 if i in dims else k for i, k in enumerate(d.shape)) if keepdim else
                     tuple(k for i, k in enumerate(d.shape) if i not in dims))  # fmt: skip


def _chunked_seq(v: np.ndarray) -> np.ndarray:
    """binary_kernel_reduce's sum along the last axis: in order from 0; each output's elements split over
    torch's threads (one chunk each, then the chunks' sums in order) when there are 32768 or more."""
    zero = np.zeros((*v.shape[:-1], 1), v.dtype)
    chunks = C.thread_chunks(v.shape[-1])
    if len(chunks) == 1:
        return C._seq(np.concatenate((zero, v), axis=-1), v.ndim - 1)
    parts = [C._seq(np.concatenate((zero, v[..., c]), axis=-1), v.ndim - 1)[..., None] for c in chunks]
    return C._seq(np.concatenate([zero, *parts], axis=-1), v.ndim - 1)


def torch_norm(d: Any, p: float, dims: tuple | None, keepdim: bool, fast: bool = True) -> np.ndarray | None:
    """torch's cpu vector norm (p = 1, 2 or another positive p) of a float32/float64 numpy array, or None.
    `fast` False: the input was float16 (its norm runs in float32 without torch's vectorized p=2 loop)."""
    if type(d) is not np.ndarray or d.dtype.char not in "fd" or d.size == 0 or not (p > 0 and p != float("inf")):
        return None
    axes = tuple(range(d.ndim)) if dims is None else tuple(dims)
    if not axes:
        return None
    dims_ = C._iter_dims(d.shape, d.strides, frozenset(axes))
    nred = sum(1 for dim in dims_ if dim[2] == 0)
    if nred == 0:
        return None
    live, order, sizes = C.loop_view_params(d.shape, dims_)
    v = d.reshape(live).transpose(order).reshape(sizes)
    v = v.reshape(*v.shape[: v.ndim - nred], -1)  # the reduced elements of each output, in iteration order
    item = d.dtype.itemsize
    if p == 2 and fast and nred == 1 and dims_[0][1] == item:
        # torch's vectorized last-dim loop: squares added into one accumulator per lane, the lanes in order,
        # then the tail one by one, as its build compiles that loop: squares of four at a time (a vector multiply),
        # the last (size % 4) as fused multiply-adds; the square root in the tensor's dtype
        lanes = 32 // item
        n = v.shape[-1]
        nv = n // lanes * lanes
        k = nv + (n - nv) // 4 * 4
        sq = v[..., :k] * v[..., :k]
        zero = np.zeros((*v.shape[:-1], 1, lanes), d.dtype)
        acc = C._seq(
            np.concatenate((zero, sq[..., :nv].reshape(*v.shape[:-1], nv // lanes, lanes)), axis=-2), v.ndim - 1
        )
        total = C._seq(np.concatenate((acc, sq[..., nv:]), axis=-1), v.ndim - 1)
        for j in range(k, n):
            total = fma(v[..., j], v[..., j], np.asarray(total))
        r = np.sqrt(total)
    elif p == 2:
        r = np.sqrt(_chunked_seq(v * v))
    elif p == 1:
        r = _chunked_seq(np.abs(v))
    else:
        # (std::pow of the element type on every element, and on the sum: the C library's, not numpy's)
        pw = glibc_powf.powf if d.dtype.char == "f" else c_pow
        a = np.abs(v)
        r = _chunked_seq(pw(a, np.full_like(a, p)))
        r = pw(np.asarray(r), np.full(np.shape(r), 1.0 / d.dtype.type(p), d.dtype))
    unmerge, back = C.kept_params(d.shape, dims_[nred:])
    r = np.asarray(r).reshape(unmerge).transpose(back)
    shape = (
        tuple(1 if i in axes else n for i, n in enumerate(d.shape))
        if keepdim
        else tuple(n for i, n in enumerate(d.shape) if i not in axes)
    )
    return r.reshape(shape)
