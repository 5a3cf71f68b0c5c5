"""LAPACK's unblocked factorizations and triangular solves on arrays, batched, in the array's own library (numpy on
the cpu, cupy on a GPU) and dtype: getrf (partial-pivoting LU), getrs (solving with it), potf2 (Cholesky) and trsm
(substitution).

Neither numpy nor cupy exposes getrf's pivots and info, potrf's partial factor or a triangular solve that divides
by a zero diagonal instead of refusing it; torch returns all of them (linalg.lu_factor's pivots, the info of the
_ex functions, the inf and nan of solve_triangular over a singular matrix). Each loop runs over one dimension of
the matrix with the whole batch in each step, in the order of LAPACK's reference routines, so exact zero pivots,
failing minors and the values left behind are LAPACK's."""

from __future__ import annotations

import math
from typing import Any

import numpy as np


def getrf(xp: Any, a: Any, pivot: bool = True) -> tuple:
    """(LU, pivots, info) of a batch of (m, n) matrices, as dgetf2 computes them: the row of largest magnitude (the
    first one of a tie) pivots each column, L's multipliers sit below U's diagonal, pivots are 1-based int32 and
    info is the 1-based column of the first exactly zero pivot (0 where there is none). pivot=False keeps the rows
    in place (cuSOLVER's unpivoted getrf), dividing by a zero pivot."""
    shape = a.shape
    m, n = shape[-2:]
    k = min(m, n)
    b = a.reshape((math.prod(shape[:-2]), m, n)).copy()
    count = b.shape[0]
    rows = xp.arange(count)
    piv = xp.zeros((count, k), dtype=np.int32)
    info = xp.zeros(count, dtype=np.int32)
    for j in range(k):
        piv[:, j] = j + 1
        if pivot:
            p = xp.abs(b[:, j:, j]).argmax(axis=1) + j
            piv[:, j] = p + 1
            top = b[rows, j, :].copy()
            b[rows, j, :] = b[rows, p, :]
            b[rows, p, :] = top
        d = b[:, j, j]
        zero = d == 0
        info = xp.where((info == 0) & zero, j + 1, info).astype(np.int32)
        if j + 1 < m:
            # a pivoted zero's column is zero below it (it was the largest): LAPACK leaves it, and the update adds 0
            scale = (1 / d if not pivot else xp.where(zero, 1, 1 / xp.where(zero, 1, d))).astype(b.dtype)
            b[:, j + 1 :, j] *= scale[:, None]
            if j + 1 < n:
                b[:, j + 1 :, j + 1 :] -= b[:, j + 1 :, j, None] * b[:, j, None, j + 1 :]
    return b.reshape(shape), piv.reshape(shape[:-2] + (k,)), info.reshape(shape[:-2])


def potf2(xp: Any, a: Any) -> tuple:
    """(L, info) of the lower Cholesky factor of a batch of symmetric matrices (read from the lower triangle), as
    dpotf2 leaves it: where the leading minor of order j fails, the column holds what was computed up to it,
    L[j, j] the non-positive pivot, and the columns from j on below the diagonal the input's entries."""
    n = a.shape[-1]
    b = xp.tril(a.reshape((math.prod(a.shape[:-2]), n, n)))
    info = xp.zeros(b.shape[0], dtype=np.int32)
    for j in range(n):
        live = info == 0
        d = b[:, j, j] - (b[:, j, :j] * b[:, j, :j]).sum(-1)
        bad = live & ~(d > 0)  # (nan fails too)
        info = xp.where(bad, j + 1, info).astype(np.int32)
        b[:, j, j] = xp.where(live, d, b[:, j, j])
        ok = live & ~bad
        root = xp.sqrt(xp.where(ok, d, 1)).astype(b.dtype)
        b[:, j, j] = xp.where(ok, root, b[:, j, j])
        if j + 1 < n:
            col = (b[:, j + 1 :, j] - (b[:, j + 1 :, :j] * b[:, j, None, :j]).sum(-1)) * (1 / root)[:, None]
            b[:, j + 1 :, j] = xp.where(ok[:, None], col, b[:, j + 1 :, j])
    return b.reshape(a.shape), info.reshape(a.shape[:-2])


def trsm(xp: Any, a: Any, b: Any, upper: bool, unit: bool = False) -> Any:
    """X solving A X = B for triangular A (the other triangle ignored; unit: its diagonal taken as ones), by
    substitution: a zero on the diagonal divides, to inf and nan, as BLAS's trsm does. a and b share their batch
    shape."""
    n = a.shape[-1]
    x = b.copy()
    for i in range(n - 1, -1, -1) if upper else range(n):
        lo, hi = (i + 1, n) if upper else (0, i)
        row = x[..., i, :]
        if hi > lo:
            row = row - (a[..., i, None, lo:hi] @ x[..., lo:hi, :])[..., 0, :]
        if not unit:
            row = row / a[..., i, i, None]
        x[..., i, :] = row
    return x


def getrs(xp: Any, lu: Any, piv: Any, b: Any, left: bool = True, adjoint: bool = False) -> Any:
    """X with op(A) X = B (left) or X op(A) = B (op(A) = A^T for adjoint) for A = P L U given as getrf's LU and
    pivots: P^T applied, then the two triangular substitutions. b has the broadcast batch shape, lu and piv
    broadcast against it. The result is column-major per matrix, as getrs leaves it (row-major for left=False)."""
    if not left:  # X A = B is A^T X^T = B^T
        return xp.ascontiguousarray(getrs(xp, lu, piv, b.swapaxes(-1, -2), True, not adjoint).swapaxes(-1, -2))
    n = lu.shape[-1]
    batch = b.shape[:-2]
    lu = xp.broadcast_to(lu, batch + (n, n))
    perm = permutation(xp, xp.broadcast_to(piv, batch + (n,)), n)
    index = xp.broadcast_to(perm[..., None], b.shape)
    if not adjoint:  # U^-1 L^-1 P^T B
        y = xp.take_along_axis(b, index, axis=-2)
        y = trsm(xp, lu, y, False, True)
        return colmajor(xp, trsm(xp, lu, y, True))
    lut = lu.swapaxes(-1, -2)  # A^T = U^T L^T P^T: X = P L^-T U^-T B
    y = trsm(xp, lut, b, False)
    y = trsm(xp, lut, y, True, True)
    back = xp.broadcast_to(perm.argsort(axis=-1)[..., None], b.shape)  # row perm[i] of X is row i of y
    return colmajor(xp, xp.take_along_axis(y, back, axis=-2))


def permutation(xp: Any, piv: Any, m: int) -> Any:
    """The row order of getrf's P^T A for 1-based pivots (..., k): row i of P^T A is row perm[i] of A."""
    batch = piv.shape[:-1]
    flat = piv.reshape((math.prod(batch), piv.shape[-1])).astype(np.int64) - 1
    count = flat.shape[0]
    perm = xp.broadcast_to(xp.arange(m), (count, m)).copy()
    rows = xp.arange(count)
    for i in range(flat.shape[1]):
        p = flat[:, i]
        top = perm[:, i].copy()
        perm[:, i] = perm[rows, p]
        perm[rows, p] = top
    return perm.reshape(batch + (m,))


def colmajor(xp: Any, a: Any) -> Any:
    """a laid out as LAPACK returns its matrices (each column-major): torch's strides for these results."""
    return xp.ascontiguousarray(a.swapaxes(-1, -2)).swapaxes(-1, -2)
