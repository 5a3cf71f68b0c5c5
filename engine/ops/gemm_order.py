"""torch's cpu float32 matrix products in MKL's summation order, for the small shapes numpy can follow cheaply.

numpy's BLAS (OpenBLAS) and torch's (MKL sgemm/sgemv) add an output element's K products in different
orders, so a small Linear layer's output differs in its last bit, and training grows that (Adam normalises a
bias gradient that is pure round-off). Probing MKL 2024.2 as torch 2.13 calls it (cancellation probes give
each element's summation tree; random data then pins products rounded or fused) gives these classes, the
same for 1, 2, 4 or 8 threads and under MKL_ENABLE_INSTRUCTIONS=AVX2. The layouts are torch's for
C = A @ B (row-major): A "N" contiguous or "T" a transposed contiguous array; B likewise.

    seq    products rounded to float32, then added in k order (numpy's product-then-axis-sum)
    fma    a fused chain acc = fl(acc + a_k * b_k) in k order (K sequential adds: small K only)
    gemv   MKL's sgemv dot per output: for the outputs up to a multiple of 4, the first (K-1) % 4 + 1
           products summed in order and added to lane 0's first product, 4 lanes (k mod 4) summed in
           order, then (l0 + l2) + (l1 + l3); the 1-3 outputs past that (_tail_dot) sum 4 head products
           into lane 0 of 8, 4 and 8 lanes over the next multiple of 8 products, then add the rest in order
    laneL  L lanes (k mod L) summed in order, halving reduction: l_i + l_{i+L/2}, ..., down to one

A @ B^T (NT, F.linear's x @ W.t()):
    M == 1 or N == 1                                 gemv
    N >= 12 and M >= 4                               fma (K <= 8; M a multiple of 4 or M >= 12)
    otherwise                                        lane4 over the first N - N % 4 columns (K % 4 == 0),
                                                     lane8 over the last N % 4 (K % 8 == 0); fewer
                                                     products than lanes: seq
A @ B, A^T @ B (NN: x @ W, a linear's input gradient; TN: a weight gradient, g.T @ x):
    N == 1                                           NN: gemv; TN: seq
    M == 1                                           seq
    N >= 12 and M >= 4                               fma (as above)
    N in (2, 3, 4, 8); M <= 3 with N % 4 == 0; K <= 4   seq
mv (matrix @ vector): gemv. A bias (addmm's input) is added after the product. A single output (a dot
product) is known only as F.linear makes it, a row times a row's transpose.

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


def _sum0(p: Any) -> Any:
    """p's slices added in order along axis 0. With one element per slice axis 0 is contiguous and
    np.add.reduce would sum it pairwise (8 partial sums from 8 terms on); accumulate adds in order."""
    if p[0].size == 1:
        return np.add.accumulate(p, axis=0)[-1]
    return np.add.reduce(p, axis=0)


def _seq(a: Any, b: Any) -> Any:
    return _sum0(_products(a, b))


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


def _tail_dot(a: Any, b: Any, width: int) -> Any:
    """gemv's dot for an output past a multiple of 4: the first 4 products summed in order into lane 0 of
    `width` lanes over the next multiple of 8 products, halving reduction, then the rest added in order.
    Below K = 12 it is the plain sum in order."""
    k = a.shape[1]
    p = _products(a, b)
    body = (k - 4) // 8 * 8 if k >= 12 else 0
    if body == 0:
        return _sum0(p)
    head = np.add.reduce(p[:4], axis=0)
    q = p[4 : 4 + body].reshape((body // width, width) + p.shape[1:])
    q[0, 0] += head
    s = _halve(np.add.reduce(q, axis=0))
    for pk in p[4 + body :]:
        s = s + pk
    return s


def _gemv(a: Any, b: Any) -> Any:
    """MKL's sgemv: a dot product per output, 4 at a time (peel); the 1 to 3 outputs past a multiple of 4
    take _tail_dot with 8, 4 and 8 lanes. One of a's rows (M == 1) or b's columns (N == 1) is the vector."""
    if a.shape[0] == 1:
        return _tail_dot(a, b, 8) if b.shape[1] == 1 else _gemv(b.T, a.T).T
    m = a.shape[0]
    q = m - m % 4
    if q == m:
        return _peel(a, b)
    parts = [_peel(a[:q], b)] if q else []
    parts += [_tail_dot(a[i : i + 1], b, 4 if i - q == 1 else 8) for i in range(q, m)]
    return np.concatenate(parts, axis=0)


def _lanes4(a: Any, b: Any) -> Any:
    return _lanes(a, b, 4)


def _lanes8(a: Any, b: Any) -> Any:
    return _lanes(a, b, 8)


def _nt_lanes(a: Any, b: Any) -> Any:
    """lane4 over the columns up to a multiple of 4, lane8 over the rest."""
    q = b.shape[1] - b.shape[1] % 4
    return np.concatenate((_lanes(a, b[:, :q], 4), _lanes(a, b[:, q:], 8)), axis=1)


def _fma_fits(m: int, k: int) -> bool:
    # (M 5..11 other than 8 with larger N splits off rows that fuse differently)
    return k <= FMA_MAX_K and (m % 4 == 0 or m >= 12)


def _classify(m: int, k: int, n: int, nt: bool, ta: bool) -> Any:
    if nt:
        if m == 1 or n == 1:
            return _gemv
        if n >= 12 and m >= 4:
            return _fma if _fma_fits(m, k) else None
        lane4_ok = n < 4 or k < 4 or k % 4 == 0
        lane8_ok = n % 4 == 0 or k < 8 or k % 8 == 0
        if not (lane4_ok and lane8_ok):
            return None
        if n % 4 == 0:
            return _seq if k < 4 else _lanes4
        if n < 4:
            return _seq if k < 8 else _lanes8
        return _seq if k < 4 else _nt_lanes
    if n == 1:
        return _seq if ta else _gemv
    if m == 1:
        return _seq
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
    if m == 1 and n == 1:
        # A dot product: torch's kernel depends on the strides of the size-1 dims; only a row times a row's
        # transpose (F.linear with one input and one output) is known.
        return _gemv if a.strides == (k * 4, 4) and b.strides == (4, k * 4) else None
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
    """a @ v (matrix times vector) in MKL's sgemv order: as sgemm's single-column product."""
    if type(a) is not np.ndarray or a.dtype != _F32 or v.dtype != _F32:
        return a @ v
    m, k = a.shape
    if k < 2 or m == 0 or m * k >= BUDGET or not mkl_order_known() or _transposed(a):
        return a @ v
    if m == 1 and a.strides[0] != k * 4:  # (a dot product whose size-1 dim has another stride: another kernel)
        return a @ v
    return _gemv(a, v[:, None])[:, 0]
