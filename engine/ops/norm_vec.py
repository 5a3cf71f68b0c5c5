"""torch's vectorized cpu loops (aten/src/ATen/cpu/vec/functional_base.h and the norm kernels' own loops) as
the builds of the normalisation kernels run them, rounding for rounding, on float32 and float64 numpy arrays.

The batch, layer and group norm kernels have no AVX512 build (their DispatchStub's AVX512 slot is empty), so
Vectorized<T> is 32 bytes wide on every x86 machine; whether `a * b + c` is contracted into an FMA follows
the build torch runs (ops/cpu_capability.py: GCC contracts in the AVX2 build, the DEFAULT one has no FMA).
Where it contracts was found by comparing with torch: the element-wise map loops and the per-thread
accumulations are contracted, map2_reduce_all's vector loop is not (its tail is).

Sums that the kernels run in order are run in order here too (numpy's reduce adds in order along any axis
but the one it runs innermost); the accumulations with an FMA take one array step per row, each step over
all threads' chunks and channels at once.
"""

from __future__ import annotations

import math
import threading
from typing import Any

import numpy as np

from engine.ops.cascade_sum import _seq, torch_threads
from engine.ops.cpu_capability import has_fma as _build_has_fma
from engine.ops.cpu_capability import kernel_build
from engine.ops.fma import _fma64

_F32 = np.dtype(np.float32)
_F64 = np.dtype(np.float64)

VEC_BYTES = 32
_SLICE = 8192  # elements per slice of fmadd's float64 work
_SCRATCH_MAX = 1 << 20  # elements of the float64 scratch buffer kept per thread (8 MiB)
_scratch = threading.local()


def scratch64(shape: tuple) -> np.ndarray:
    """A float64 work array of `shape` (C order, contents undefined) from a buffer kept between calls: a fresh
    large array costs a page fault per 4 KiB on every call (malloc hands such sizes back to the system). Only
    for temporaries that never leave the function, and never two at once; above _SCRATCH_MAX, a fresh one."""
    n = math.prod(shape)
    if n > _SCRATCH_MAX:
        return np.empty(shape, _F64)
    buf = getattr(_scratch, "buf", None)
    if buf is None or buf.size < n:
        buf = _scratch.buf = np.empty(max(n, 2 * (0 if buf is None else buf.size), _SLICE), _F64)
    return buf[:n].reshape(shape)


def has_fma() -> bool:
    """Whether the norm kernels' build contracts a * b + c (their AVX2 build does, DEFAULT does not)."""
    return _build_has_fma(kernel_build(False))


def fmadd(x: Any, y: Any, z: Any) -> Any:
    """x * y + z as torch's build computes a contracted `x * y + z`: one rounding with FMA, else two. (The
    float32 product is exact in float64; the float64 sum rounded to float32 is the FMA's but for a double
    rounding about once in 2**28, which engine.ops.fma repairs at the cost of four passes.) Large float32
    operands work in scratch64's kept buffer, and beyond its size in slices of the first axis, so no large
    float64 temporary is allocated afresh (its page faults cost more than the arithmetic)."""
    if not has_fma():
        return x * y + z
    if x.dtype != _F32:
        return _fma64(x, y, z)
    shape = None if x.size <= _SLICE and z.size <= _SLICE else np.broadcast_shapes(x.shape, y.shape, z.shape)
    size = 0 if shape is None else math.prod(shape)
    if size <= _SLICE or len(shape) < 2 or shape[0] == 1:
        r = np.multiply(x, y, dtype=_F64)
        r += z
        return r.astype(_F32)
    like = next(a for a in (x, z, y) if a.shape == shape)
    out = np.empty_like(like, dtype=_F32)  # (in the operand's layout, as a ufunc's result would be)
    if size <= _SCRATCH_MAX:
        # (a float32 operand in a float64 ufunc call is cast in buffered blocks, slowly: the big ones are
        # cast by assignment, the broadcast ones up front)
        r = scratch64(shape)
        r[...] = x
        r *= y.astype(_F64) if y.size < size else y
        r += z.astype(_F64) if z.size < size else z
        out[...] = r
        return out
    xs, ys, zs = np.broadcast_arrays(x, y, z)
    step = max(1, _SLICE * shape[0] // size)
    for i in range(0, shape[0], step):
        r = np.multiply(xs[i : i + step], ys[i : i + step], dtype=_F64)
        r += zs[i : i + step]
        out[i : i + step] = r
    return out


def thread_split(rows: int) -> tuple:
    """parallel_for(0, rows, 1)'s split over torch's threads: (chunks used, rows per chunk)."""
    nt = min(torch_threads(), rows)
    ch = -(-rows // nt)
    return -(-rows // ch), ch


def by_chunk(a: np.ndarray, nt: int, ch: int) -> np.ndarray:
    """(rows, C) -> (ch, nt * C): step j holds row j of every thread's chunk (zero rows pad the last chunk;
    adding a zero leaves torch's buffers, which start at +0, as they are)."""
    rows, c = a.shape
    if nt * ch != rows:
        a = np.concatenate((a, np.zeros((nt * ch - rows, c), a.dtype)))
    return np.ascontiguousarray(a.reshape(nt, ch, c).transpose(1, 0, 2)).reshape(ch, nt * c)


def seq_sum0(a: np.ndarray) -> np.ndarray:
    """a's rows added in order, from +0 (so a -0 total is +0, as in torch's zero-initialised buffers)."""
    return _seq(a, 0) + 0


def sum64(a: np.ndarray) -> np.ndarray:
    """The rows of a 2-d array added in order in float64, from +0. (numpy's reduce along the outer axis adds
    in order, widening a buffer at a time: no float64 copy of a.)"""
    if a.shape[0] > 1 and a.shape[1] > 1:  # (C order: numpy adds pairwise along the axis it runs innermost)
        return np.add.reduce(np.ascontiguousarray(a), axis=0, dtype=_F64) + 0
    return _seq(a.astype(_F64), 0) + 0


def fma_steps(a: np.ndarray, b: np.ndarray, acc: np.ndarray) -> np.ndarray:
    """acc = a[j] * b[j] + acc for j in order (the kernels' contracted accumulations), a new array."""
    if not has_fma():
        return _seq(np.concatenate((acc[None], a * b)), 0)
    if a.dtype == _F32:
        p = np.multiply(a, b, dtype=_F64)  # exact products
        acc64 = acc.astype(_F64)
        acc32 = np.empty(acc.shape, _F32)
        add = np.add
        for row in p:  # the sum rounded to float64, then to float32 (held in float64: no casting loop per step)
            add(acc64, row, out=acc64)
            acc32[...] = acc64
            acc64[...] = acc32
        return acc32
    acc = acc.copy()
    for j in range(a.shape[0]):
        acc = _fma64(a[j], b[j], acc)
    return acc


def seq_fma0(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return fma_steps(a, b, np.zeros(a.shape[1:], a.dtype))


def chunk_sum0(a: np.ndarray, nt: int, ch: int) -> np.ndarray:
    """seq_sum0(by_chunk(a, nt, ch)) without by_chunk's copy where the chunks are whole: numpy's reduce over
    the middle axis of (nt, ch, C) adds in order (C > 1 keeps that axis off the innermost place)."""
    rows, c = a.shape
    if nt * ch == rows and c > 1 and a.flags.c_contiguous:
        return np.add.reduce(a.reshape(nt, ch, c), axis=1).reshape(nt * c) + 0
    return seq_sum0(by_chunk(a, nt, ch))


def chunk_fma0(a: np.ndarray, b: np.ndarray, nt: int, ch: int) -> np.ndarray:
    """seq_fma0(by_chunk(a, nt, ch), by_chunk(b, nt, ch)) for (rows, C) arrays, the products written straight
    into by_chunk's layout (no copies of a and b)."""
    if a.dtype != _F32 or not has_fma():
        return seq_fma0(by_chunk(a, nt, ch), by_chunk(b, nt, ch))
    rows, c = a.shape
    head = (nt - 1) * ch  # the whole chunks before the last one
    last = rows - head  # the last chunk's rows
    p = scratch64((ch, nt, c))  # exact products (dtype: a float64 out alone would round them to float32)
    if nt > 1:
        chunks = (nt - 1, ch, c)
        np.multiply(a[:head].reshape(chunks).transpose(1, 0, 2), b[:head].reshape(chunks).transpose(1, 0, 2),
                    out=p[:, :-1], dtype=_F64)  # fmt: skip
    np.multiply(a[head:], b[head:], out=p[:last, -1], dtype=_F64)
    p[last:, -1] = 0
    acc64 = np.zeros(nt * c, _F64)
    acc32 = np.empty(nt * c, _F32)
    add = np.add
    for row in p.reshape(ch, nt * c):  # the sum rounded to float64, then through float32, as in fma_steps
        add(acc64, row, out=acc64)
        acc32[...] = acc64
        acc64[...] = acc32
    return acc32


def thread_total(buf: np.ndarray, nt: int, c: int, dt: Any) -> np.ndarray:
    """The threads' buffers (nt * C,) added in double in thread order, stored in dt."""
    return _seq(buf.reshape(nt, c).astype(_F64), 0).astype(dt)


# ---- vec::reduce_all and vec::map2_reduce_all ----------------------------------------------------------------


def lane_total(acc: np.ndarray) -> np.ndarray:
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
    vectors = v.reshape(*v.shape[:-1], nv, lanes)
    steps = np.empty((nv, *vectors.shape[:-2], lanes), v.dtype)
    if v2 is None:
        np.copyto(steps, np.moveaxis(vectors, -2, 0))
    else:  # (read in order, written strided: faster than the other way round)
        np.multiply(vectors, v2.reshape(*v2.shape[:-1], nv, lanes), out=np.moveaxis(steps, 0, -2))
    return np.add.reduce(steps, axis=0)


def reduce_all(g: np.ndarray) -> np.ndarray:
    """vec::reduce_all(x + y) along the last axis of g."""
    lanes = VEC_BYTES // g.dtype.itemsize
    length = g.shape[-1]
    if length < lanes:
        return _seq(g, g.ndim - 1)
    nv = length // lanes
    acc = _vectors_total(g[..., : nv * lanes], nv, lanes)
    rest = length - nv * lanes
    if rest:
        acc[..., :rest] += g[..., nv * lanes :]
    return lane_total(acc)


def map2_reduce_all(a: np.ndarray, b: np.ndarray, fused_tail: bool = True) -> np.ndarray:
    """vec::map2_reduce_all(a * b, x + y) along the last axis: the vectors' products added in order, each
    rounded (that loop is found not contracted), then the tail's products added, with an FMA where the
    kernel's build contracts it (batch and layer norm's do, group norm's does not), then the lanes combined."""
    lanes = VEC_BYTES // a.dtype.itemsize
    length = a.shape[-1]
    if length < lanes:
        return _seq(a * b, a.ndim - 1)
    nv = length // lanes
    acc = _vectors_total(a[..., : nv * lanes], nv, lanes, b[..., : nv * lanes])
    rest = length - nv * lanes
    if rest:
        ta, tb, head = a[..., nv * lanes :], b[..., nv * lanes :], acc[..., :rest]
        acc[..., :rest] = fmadd(ta, tb, head) if fused_tail else head + ta * tb
    return lane_total(acc)
