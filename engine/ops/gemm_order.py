"""torch's cpu float32 matrix products in MKL's summation order, for the small shapes numpy can follow cheaply.

numpy's BLAS (OpenBLAS) and torch's (MKL sgemm/sgemv) add an output element's K products in different
orders, so a small Linear layer's output differs in its last bit, and training grows that (Adam normalises a
bias gradient that is pure round-off). Probing MKL 2024.2 as torch 2.13 calls it (cancellation probes give
each element's summation tree; random data then pins products rounded or fused) gives these classes, the
same for 1, 2, 4 or 8 threads and under MKL_ENABLE_INSTRUCTIONS=AVX2. The layouts are torch's for
C = A @ B (row-major): A "N" contiguous or "T" a transposed contiguous array; B likewise.

    seq    products rounded to float32, then added in k order (numpy's product-then-axis-sum)
    fma    a fused chain acc = fl(acc + a_k * b_k) in k order (K sequential adds: small K only)
    peel   gemv's dot: the first (K-1) % 4 + 1 products summed in order, that sum added to lane 0's first
           product, 4 lanes (k mod 4) summed in order, then (l0 + l2) + (l1 + l3)
    laneL  L lanes (k mod L) summed in order, halving reduction: l_i + l_{i+L/2}, ..., down to one

A @ B^T (NT, F.linear's x @ W.t()):
    N == 1 and M >= 4, or M == 1 and N >= 4          peel
    N >= 12 and M >= 4                               fma
    otherwise (M, N >= 2)                            lane4 over the first N - N % 4 columns, lane8 over the
                                                     last N % 4 (fewer products than lanes: seq)
A @ B, A^T @ B (NN: x @ W, a linear's input gradient; TN: a weight gradient, g.T @ x):
    M == 1 and N >= 2                                seq
    N == 1: NN with M >= 4                           peel
    N == 1: TN with M >= 2                           seq
    N >= 12 and M >= 4                               fma
    N in (2, 3, 4, 8); M <= 3 with N % 4 == 0        seq
mv (matrix @ vector) with 4 or more rows: as NN with N == 1. A bias (addmm's input) is added after the product.

Only below BUDGET multiply-adds. Shapes outside these classes (NN/TN with N in 5..7 or 9..11 mix fused and
unfused columns; the fma class above 128 products blocks K), float64, TT layouts, batched products and other
machines keep numpy's BLAS.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from engine.ops.cpu_capability import mkl_order_known

# M * K * N from here on stays on BLAS. An emulation is a handful of numpy calls (3-8 us at this size, against
# about 1 us for BLAS): a 64x64 -> 1 layer's forward and weight gradient would add about 13 us, 15%, to the
# 64x32->64->1 MLP training step that scripts/bench_engine.py holds to 0.9x torch.
BUDGET = 1 << 12
FMA_MAX_K = 8  # the fused chain is K numpy calls
_F32 = np.dtype(np.float32)
_KERNELS: dict = {}  # (shapes, strides) -> the emulating function or None


def _products(a: Any, b: Any) -> Any:
    """The K products of every output as a C-ordered (K, M, N) array: each k's slice contiguous, so that a
    reduction over axis 0 adds whole slices in k order (numpy's pairwise summation runs along a contiguous
    axis, which numpy's default output layout would make axis 0 for a transposed operand)."""
    return np.multiply(a.T[:, :, None], b[:, None, :], order="C")


def _seq(a: Any, b: Any) -> Any:
    return np.add.reduce(_products(a, b), axis=0)


def _fma(a: Any, b: Any) -> Any:
    p = np.multiply(a.T.astype(np.float64)[:, :, None], b.astype(np.float64)[:, None, :], order="C")  # (exact)
    acc = np.zeros(p.shape[1:], _F32)
    for pk in p:
        np.add(acc, pk, out=acc, casting="unsafe")  # one rounding per step, as the fused multiply-add
    return acc


def _halve(s: Any) -> Any:
    """Lane sums (L, M, N) reduced as a vector register is: upper half onto lower half, until one is left."""
    while s.shape[0] > 1:
        h = s.shape[0] // 2
        s = s[:h] + s[h:]
    return s[0]


def _lanes(a: Any, b: Any, width: int) -> Any:
    k = a.shape[1]
    if k < width:
        return _seq(a, b)
    p = _products(a, b)
    return _halve(np.add.reduce(p.reshape((k // width, width) + p.shape[1:]), axis=0))


def _peel(a: Any, b: Any) -> Any:
    k = a.shape[1]
    p = _products(a, b)
    r = (k - 1) % 4 + 1
    head = np.add.reduce(p[:r], axis=0)
    if k == r:
        return head
    q = p[r:].reshape(((k - r) // 4, 4) + p.shape[1:])
    q[0, 0] += head  # (p is this call's own array)
    s = np.add.reduce(q, axis=0)
    return (s[0] + s[2]) + (s[1] + s[3])


def _tail_dot(a: Any, b: Any) -> Any:
    """gemv's dot for the last rows (columns) past a multiple of 4: 4 head products summed into lane 0 of 8
    lanes over the next multiple of 8, halving reduction, the rest added in order. Exact for K < 8, and for
    K >= 12 when a single output is left over (M % 4 == 1); two or three left over, and K 8..11, take
    orders not pinned down here (an element or so per row differs)."""
    k = a.shape[1]
    p = _products(a, b)
    body = (k - 4) // 8 * 8 if k >= 12 else 0
    if body == 0:
        return np.add.reduce(p, axis=0)
    head = np.add.reduce(p[:4], axis=0)
    q = p[4 : 4 + body].reshape((body // 8, 8) + p.shape[1:])
    q[0, 0] += head
    s = _halve(np.add.reduce(q, axis=0))
    for pk in p[4 + body :]:
        s = s + pk
    return s


def _gemv(a: Any, b: Any) -> Any:
    """MKL's sgemv: a dot product per output, 4 at a time (peel); the outputs past a multiple of 4 take
    another kernel (_tail_dot). One of a's rows (M == 1) or b's columns (N == 1) is the vector."""
    if a.shape[0] == 1:
        return _gemv(b.T, a.T).T
    m = a.shape[0]
    q = m - m % 4
    if q == m:
        return _peel(a, b)
    return np.concatenate((_peel(a[:q], b), _tail_dot(a[q:], b)), axis=0)


def _nt_lanes(a: Any, b: Any) -> Any:
    n = b.shape[1]
    q = n - n % 4
    if q == n:
        return _lanes(a, b, 4)
    if q == 0:
        return _lanes(a, b, 8)
    return np.concatenate((_lanes(a, b[:, :q], 4), _lanes(a, b[:, q:], 8)), axis=1)


def _fma_fits(m: int, k: int) -> bool:
    # (M 5..11 other than 8 with larger N splits off rows that fuse differently)
    return k <= FMA_MAX_K and (m % 4 == 0 or m >= 12)


def _classify(m: int, k: int, n: int, nt: bool, ta: bool) -> Any:
    if nt:
        if (n == 1 and m >= 4) or (m == 1 and n >= 4):
            return _gemv
        if m == 1 or n == 1:
            return _seq if k <= 4 else None
        if n >= 12 and m >= 4:
            return _fma if _fma_fits(m, k) else None
        lane4_ok = n < 4 or k < 4 or k % 4 == 0
        lane8_ok = n % 4 == 0 or k < 8 or k % 8 == 0
        return _nt_lanes if lane4_ok and lane8_ok else None
    if m == 1:
        return _seq if n >= 2 or k <= 3 else None
    if n == 1:
        if ta:
            return _seq
        return _gemv if m >= 4 else (_seq if k <= 3 else None)
    if n >= 12 and m >= 4:
        return _fma if _fma_fits(m, k) else None
    if n in (2, 3, 4, 8) or (m <= 3 and n % 4 == 0) or k <= 4:
        return _seq
    return None


def _transposed(x: Any) -> bool:
    """torch's gemm reads a matrix as transposed when it is a transposed contiguous array."""
    s0, s1 = x.strides
    return s0 == x.itemsize and s1 == x.shape[0] * x.itemsize and x.shape[0] > 1 and x.shape[1] > 1


def _kernel(a: Any, b: Any) -> Any:
    """The emulating function for a @ b with these shapes and layouts, or None for numpy's BLAS."""
    m, k = a.shape
    n = b.shape[1]
    if k < 2 or m * n == 0 or m * k * n >= BUDGET or not mkl_order_known():
        return None
    ta, tb = _transposed(a), _transposed(b)
    return None if ta and tb else _classify(m, k, n, tb and not ta, ta)


def mm(a: Any, b: Any) -> Any:
    """a @ b for 2-D numpy float32 arrays, summed as torch's MKL does where that order is known and cheap;
    numpy's BLAS otherwise. Other array types and dtypes go straight to `@`."""
    if type(a) is not np.ndarray or a.dtype is not _F32 or b.dtype is not _F32:
        if type(a) is not np.ndarray or a.dtype != _F32 or b.dtype != _F32:
            return a @ b
    key = (a.shape, b.shape, a.strides, b.strides)  # (one dict probe per product once a shape is known)
    fn = _KERNELS.get(key, 0)
    if fn == 0:
        fn = _kernel(a, b)
        if len(_KERNELS) < 4096:
            _KERNELS[key] = fn
    return a @ b if fn is None else fn(a, b)


def mv(a: Any, v: Any) -> Any:
    """a @ v (matrix times vector) in MKL's sgemv order where known: as sgemm's single-column product, from 4
    rows on."""
    if type(a) is not np.ndarray or a.dtype != _F32 or v.dtype != _F32:
        return a @ v
    m, k = a.shape
    if m < 4 or k < 2 or m * k >= BUDGET or not mkl_order_known() or _transposed(a):
        return a @ v
    return _gemv(a, v[:, None])[:, 0]
