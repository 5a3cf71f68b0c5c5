"""Which elements torch's `cpu_kernel_vec` computes with its vector function and which with its scalar one, so
that kernels whose two functions round differently (SLEEF's exp in the vector one, the C library's expf in the
scalar one) can be reproduced bit for bit.

TensorIterator walks the elements in memory order (dims sorted by stride, adjacent dims that are contiguous
with each other merged into one run); above 32768 elements it splits that walk into one chunk per thread.
Within each piece of a run (a run cut by chunk boundaries) `vectorized_loop` takes blocks of two vectors
(32 floats, 16 doubles in the AVX512 build) with the vector function and the elements after the last whole
block with the scalar function. A run whose elements are not adjacent in memory is all scalar.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from engine.ops import cascade_sum as C
from engine.ops.cpu_capability import kernel_build, vector_bytes
from engine.process import _INTRA_SET

_GRAIN = 32768  # at::internal::GRAIN_SIZE


def torch_threads() -> int:
    """torch's intra-op thread count: what the script set with set_num_threads, else torch's default."""
    return _INTRA_SET[0] if _INTRA_SET else C.torch_threads()


def parallel_chunks(n: int, grain: int) -> list:
    """at::parallel_for(0, n, grain)'s split over torch's threads, as (begin, end) pairs: one piece unless n
    exceeds the grain (and 1), else one chunk a thread, at most n / grain of them (ParallelOpenMP.h)."""
    threads = torch_threads()
    if n <= grain or n <= 1 or threads == 1:
        return [(0, n)]
    t = min(threads, -(-n // grain)) if grain > 0 else threads
    c = -(-n // t)
    return [(b, min(n, b + c)) for b in range(0, n, c)]


#: elements per vectorized_loop step where they are not two Vectorized of the arrays' own dtype (0: theirs):
#: float16 and bfloat16 kernels emulated on float32 arrays walk blocks of two Vectorized<Half> (`reduced_blocks`)
_WIDTH = [0]


def block(dtype: Any) -> int:
    """Elements per vectorized_loop step: two Vectorized<T>."""
    return _WIDTH[0] or 2 * vector_bytes(kernel_build(True)) // np.dtype(dtype).itemsize


class reduced_blocks:  # noqa: N801 (a context manager used like a function)
    """Within it, kernel_vec and kernel_vec2 split float32 arrays as torch's float16/bfloat16 kernels split their
    tensors: blocks of two Vectorized<Half> (64 elements in the AVX512 build; 32 for a kernel without an
    AVX512 variant, avx512=False), the scalar function after them. itemsize: another scalar_t's (a float32 or
    float64 kernel without an AVX512 variant: its AVX2 blocks)."""

    def __init__(self, avx512: bool = True, itemsize: int = 2) -> None:
        self.w = 2 * vector_bytes(kernel_build(avx512)) // itemsize

    def __enter__(self) -> None:
        _WIDTH[0] = self.w

    def __exit__(self, *exc: object) -> None:
        _WIDTH[0] = 0


def _walk(a: np.ndarray) -> tuple:
    """(order, run): the axes of a in TensorIterator's order (outermost first) and the length of the
    innermost run that vectorized_loop takes (1 when the innermost dim is neither contiguous nor broadcast:
    a broadcast input is a scalar the vector function splats, as cpu_kernel_vec's is_contiguous_scalar)."""
    shape, isz = a.shape, a.itemsize
    # (a size-1 dim keeps its stride, as TensorIterator's compute_strides keeps it: it sorts in among the others)
    st = [abs(s) // isz for s in a.strides]
    perm = _order2(shape, st, st)  # fastest first; a broadcast dim stays where it is (ambiguous)
    dims = [d for d in perm if shape[d] != 1]
    order = perm[::-1]
    run = 1
    if dims and st[dims[0]] in (0, 1) and a.strides[dims[0]] >= 0:
        prev = dims[0]
        run = shape[prev]
        for d in dims[1:]:  # merged while the input steps on evenly (the fresh output always does)
            if st[prev] * shape[prev] != st[d] or a.strides[d] < 0:
                break
            run *= shape[d]
            prev = d
    return order, run


def walk_order(a: Any) -> list:
    """a's dims outermost first in TensorIterator's (and infer_dense_strides') order."""
    return _walk(a)[0]


def fresh_like(x: np.ndarray, dtype: Any = None) -> np.ndarray:
    """An uninitialised result for an elementwise op over x, laid out as TensorIterator lays out a fresh
    output (and numpy a ufunc's): x's memory order, where a broadcast (stride-0) dim keeps its place instead of
    counting as the fastest, which np.empty_like would make it."""
    if 0 not in x.strides or x.size <= 1:
        return np.empty_like(x, dtype)
    order, _ = _walk(x)
    t = np.empty(tuple(x.shape[d] for d in order), dtype or x.dtype)
    return t.transpose(np.argsort(order))


def map_flat(fn: Any, a: np.ndarray) -> np.ndarray:
    """fn (a 1-d array to a 1-d array, elementwise) over a, its result laid out as TensorIterator lays out a
    fresh output: a C-contiguous a's order, else the walk order (a transposed input gives a transposed result)."""
    if a.flags.c_contiguous or a.ndim < 2:
        return fn(a.reshape(-1)).reshape(a.shape)
    order, _ = _walk(a)
    t = a.transpose(order)
    return fn(t.reshape(-1)).reshape(t.shape).transpose(np.argsort(order))


def dense_copy(x: np.ndarray, dtype: Any = None) -> np.ndarray:
    """x (cast to dtype) in fresh_like's layout: what numpy's K-order copies and astype would lay out with a
    broadcast dim fastest."""
    r = fresh_like(x, dtype)
    np.copyto(r, x, casting="unsafe")
    return r


def _scalar_elements(n: int, run: int, w: int, grain: int = _GRAIN) -> np.ndarray:
    """Which of n elements walked in runs of `run` adjacent ones vectorized_loop computes with its scalar
    function: those after the last whole block of w in each piece (a run cut by thread chunk boundaries)."""
    pos = np.arange(n)
    start = (pos // run) * run
    stop = start + run
    for b, _ in parallel_chunks(n, grain)[1:]:  # pieces begin and end at chunk boundaries too
        start = np.where((start < b) & (pos >= b), b, start)
        stop = np.where((stop > b) & (pos < b), b, stop)
    return pos >= start + (stop - start) // w * w


def kernel_vec(a: np.ndarray, vec_fn: Any, scalar_fn: Any, grain: int = _GRAIN) -> np.ndarray:
    """torch's cpu_kernel_vec(vec_fn, scalar_fn) over the float array a (numpy, cpu): vec_fn and scalar_fn
    map 1-d arrays elementwise. The result has a's shape (and its memory order when a is dense). vec_fn runs
    over every element in one call (the scalar elements' values are then replaced): fewer numpy calls.
    grain: the kernel's grain size where it passes one (GRAIN_SIZE otherwise)."""
    n = a.size
    w = block(a.dtype)
    if a.flags.c_contiguous:
        flat = a.reshape(-1)
        if n < w:  # (tiny tensors: one short run, all scalar)
            return scalar_fn(flat).reshape(a.shape)
        out = vec_fn(flat)
        if n <= grain:
            nv = n - n % w
            if nv < n:
                out[nv:] = scalar_fn(flat[nv:])
        else:
            for b, e in parallel_chunks(n, grain):  # each thread's chunk ends in its own scalar tail
                t = b + (e - b) // w * w
                if t < e:
                    out[t:e] = scalar_fn(flat[t:e])
        return out.reshape(a.shape)
    order, run = _walk(a)
    t = a.transpose(order)
    src = t.reshape(-1)  # (a view when a is dense, else a copy in walk order)
    if run == 1:  # no adjacent elements: all scalar
        out = scalar_fn(src)
    else:
        scalar = _scalar_elements(n, run, w, grain)
        out = vec_fn(src)
        if scalar.any():
            out[scalar] = scalar_fn(src[scalar])
    return out.reshape(t.shape).transpose(np.argsort(order))


def _order2(shape: tuple, sa: list, sb: list) -> list:
    """TensorIterator's reorder_dimensions for a binary op with a fresh output: the dims fastest first, sorted
    by the inputs' strides (a's decides, b's breaks its ties; a broadcast dim of either defers to the other;
    equal strides put the smaller dim first), by its insertion sort."""
    nd = len(shape)
    perm = list(range(nd - 1, -1, -1))

    def should_swap(d0: int, d1: int) -> int:
        for st in (sa, sb):
            s0, s1 = st[d0], st[d1]
            if s0 == 0 or s1 == 0:
                continue
            if s0 < s1:
                return -1
            if s0 > s1:
                return 1
            if shape[d0] > shape[d1]:
                return 1
        return 0

    return C.insertion_sort(perm, should_swap)


def kernel_vec2(a: np.ndarray, b: np.ndarray, vec_fn: Any, scalar_fn: Any) -> np.ndarray:
    """torch's cpu_kernel_vec(vec_fn, scalar_fn) for a binary op over the float arrays a and b of one dtype
    (numpy, cpu; broadcast together): vec_fn and scalar_fn map two 1-d arrays elementwise. TensorIterator
    orders the dims by the inputs' strides (the output gets that layout, as here), merges the dims it can,
    and runs vectorized_loop on the innermost run when every operand is contiguous there, or all but one
    input whose stride there is 0 (a scalar operand); else the whole run is scalar."""
    shape = np.broadcast_shapes(a.shape, b.shape)
    isz = a.itemsize
    n = int(np.prod(shape))
    if not n:
        return np.empty(shape, a.dtype)
    if a.shape == b.shape and a.flags.c_contiguous and b.flags.c_contiguous:
        order, run, vec = list(range(len(shape))), n, True
    else:
        av, bv = np.broadcast_to(a, shape), np.broadcast_to(b, shape)
        sa = [s // isz if m != 1 else 0 for s, m in zip(av.strides, shape)]
        sb = [s // isz if m != 1 else 0 for s, m in zip(bv.strides, shape)]
        perm = _order2(shape, sa, sb)  # fastest first
        dims = [d for d in perm if shape[d] != 1]
        run = 1
        if dims:
            d0 = dims[0]
            vec = all(s[d0] in (0, 1) for s in (sa, sb)) and (sa[d0], sb[d0]) != (0, 0)
            run = shape[d0]
            prev = d0
            for d in dims[1:]:  # coalesce while every operand (the output too) steps on evenly
                if not all(s[prev] * shape[prev] == s[d] for s in (sa, sb)):
                    break
                run *= shape[d]
                prev = d
        else:
            vec = False
        order = [d for d in range(len(shape)) if shape[d] == 1] + [d for d in reversed(perm) if shape[d] != 1]
    w = block(a.dtype)
    if order == list(range(len(shape))) and a.shape == b.shape == shape:
        fa, fb = np.ascontiguousarray(a).reshape(-1), np.ascontiguousarray(b).reshape(-1)
    else:
        fa = np.broadcast_to(a, shape).transpose(order).reshape(-1)
        fb = np.broadcast_to(b, shape).transpose(order).reshape(-1)
    if not vec or run < w:
        out = scalar_fn(fa, fb)
    else:
        scalar = _scalar_elements(n, run, w)
        out = vec_fn(fa, fb)
        if scalar.any():
            i = np.flatnonzero(scalar)
            out[i] = scalar_fn(fa[i], fb[i])
    tshape = tuple(shape[d] for d in order)
    return out.reshape(tshape).transpose(np.argsort(order))
