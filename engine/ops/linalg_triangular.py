"""torch's triangular solvers and the Cholesky extras the distributions use: linalg.solve_triangular,
linalg.cholesky_ex (the factor and LAPACK's info, without raising), cholesky_inverse and cholesky_solve.

The triangular solve is substitution in the array library (numpy or cupy), one vectorised step per row, in
the column order of the reference BLAS trsm; torch calls its BLAS, so the last bits of a result can differ
from torch's where that BLAS orders its sums otherwise. Backward formulas are torch's
(FunctionsManual.cpp: linalg_solve_triangular_forward_AD's adjoint, cholesky_inverse_backward)."""

from __future__ import annotations

from typing import Any

import numpy as np

from engine.backend import host
from engine.naming import result_type
from engine.ops.index import _bcast_msg
from engine.ops.linalg import matmul
from engine.ops.linalg_more import (
    _SELF,
    LinalgCholeskyExBackward0,
    _floating,
    _mT,
    _out,
    _record,
    _square,
    _tensor,
    cholesky,
)
from engine.ops.util import node_class, same_device
from engine.tensor import Tensor, wrap

linalg_cholesky_ex_type = result_type("linalg_cholesky_ex", "L", "info")


# ---- solve_triangular -----------------------------------------------------------------------------------------
def _substitute(a: Any, b: Any, upper: bool, unit: bool) -> Any:
    """X with a X = b for batches of triangular a (n x n) and b (n x k), rows solved in dependency order."""
    n = a.shape[-1]
    x = b.copy()
    rows = range(n - 1, -1, -1) if upper else range(n)
    for i in rows:
        xi = x[..., i, :] if unit else x[..., i, :] / a[..., i, i, None]
        x[..., i, :] = xi
        rest = slice(0, i) if upper else slice(i + 1, n)
        # (trsm's column order: each solved row is taken off the rows still to solve)
        x[..., rest, :] -= a[..., rest, i, None] * xi[..., None, :]
    return x


def _solve_triangular_bw(self: Any, g: Tensor, A: Tensor, X: Tensor, upper: bool, left: bool, unit: bool) -> tuple:  # noqa: N803
    """gB solves the adjoint system; gA = -gB X^T (left) or -X^T gB, kept to A's triangle."""
    n = self._next
    gB = solve_triangular(A.mT, g, upper=not upper, left=left, unitriangular=unit)
    gA = None
    if n[0] is not None:
        gA = -matmul(gB, X.mT) if left else -matmul(X.mT, gB)
        gA = (gA.triu(1) if unit else gA.triu()) if upper else (gA.tril(-1) if unit else gA.tril())
    return gA, (gB if n[1] is not None else None)


LinalgSolveTriangularBackward0 = node_class("LinalgSolveTriangularBackward0", _solve_triangular_bw)


def solve_triangular(
    A: Tensor,  # noqa: N803
    B: Tensor,  # noqa: N803
    *,
    upper: bool,
    left: bool = True,
    unitriangular: bool = False,
    out: Any = None,
) -> Tensor:
    """torch.linalg.solve_triangular: X with A X = B (X A = B for left=False), A triangular (its other
    triangle is not read; with unitriangular its diagonal is taken as ones)."""
    _tensor(A, "linalg_solve_triangular", "A", 1)
    _tensor(B, "linalg_solve_triangular", "B", 2)
    fn = "linalg.solve_triangular"
    ad, bd = A._data, B._data
    if bd.ndim < 2:
        raise RuntimeError(f"{fn}: The input tensor B must have at least 2 dimensions.")
    _square(A, fn)
    if (ad.shape[-1] != bd.shape[-2]) if left else (ad.shape[-2] != bd.shape[-1]):
        raise RuntimeError(
            f"{fn}: Incompatible shapes of A and B for the equation {'AX = B' if left else 'XA = B'} "
            f"({ad.shape[-2]}x{ad.shape[-1]} and {bd.shape[-2]}x{bd.shape[-1]})"
        )
    if ad.dtype.kind != "f" or ad.dtype == np.float16:  # (the kernel's dispatch refuses it, before any check)
        raise NotImplementedError(f"\"triangular_solve_cpu\" not implemented for '{A.dtype.scalar_name()}'")
    same_device((A, B))
    try:
        batch = np.broadcast_shapes(ad.shape[:-2], bd.shape[:-2])
    except ValueError:
        raise RuntimeError(_bcast_msg(bd.shape[:-2], ad.shape[:-2])) from None
    xp = A._dev.xp
    a = xp.broadcast_to(ad, batch + ad.shape[-2:])
    b = xp.broadcast_to(bd.astype(ad.dtype, copy=False), batch + bd.shape[-2:])
    if left:
        x = _substitute(a, b, upper, unitriangular)
    else:  # X A = B is A^T X^T = B^T, A^T triangular the other way
        x = _mT(_substitute(_mT(a), _mT(b), not upper, unitriangular))
    x = xp.ascontiguousarray(x)
    meta = ((ad.shape, ad.dtype), (bd.shape, bd.dtype))
    return _out(out, _record(LinalgSolveTriangularBackward0, x, A._dev, (A, B), (A, _SELF, upper, left, unitriangular),
                             meta))  # fmt: skip


# ---- cholesky_ex -----------------------------------------------------------------------------------------------
def _partial_cholesky(a: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """LAPACK potf2 over a batch, in a's dtype: the lower factor and info. Where the minor of order j is not
    positive-definite, column j holds its failed pivot, the columns after it keep a's entries, and info = j."""
    n = a.shape[-1]
    b = a.reshape(-1, n, n)
    L = np.tril(b).copy()
    info = np.zeros(b.shape[0], dtype=np.int32)
    live = np.ones(b.shape[0], dtype=bool)
    for j in range(n):
        d = L[:, j, j] - (L[:, j, :j] ** 2).sum(-1)
        bad = live & ~(d > 0)  # (nan too)
        L[bad, j, j] = d[bad]
        info[bad] = j + 1
        live &= ~bad
        dj = np.sqrt(np.where(live, d, 1))
        L[live, j, j] = dj[live]
        if j + 1 < n:
            col = (L[:, j + 1 :, j] - (L[:, j + 1 :, :j] * L[:, j, None, :j]).sum(-1)) / dj[:, None]
            L[live, j + 1 :, j] = col[live]
    return L.reshape(a.shape), info.reshape(a.shape[:-2])


def cholesky_ex(A: Tensor, *, upper: bool = False, check_errors: bool = False) -> Any:  # noqa: N803
    """torch.linalg.cholesky_ex: (L, info), info 0 where A is positive-definite and otherwise the order of its
    first leading minor that is not (L then holds LAPACK's partial factor); raises only with check_errors."""
    _tensor(A, "linalg_cholesky_ex", "A", 1)
    _square(A, "linalg.cholesky")
    _floating(A, "linalg.cholesky", half="cholesky_cpu")
    if check_errors:
        from engine.ops.linalg_more import _LinAlgError

        try:
            L = cholesky(A, upper=upper)
        except _LinAlgError as e:
            raise _LinAlgError(str(e).replace("linalg.cholesky:", "linalg.cholesky_ex:", 1)) from None
        return linalg_cholesky_ex_type(L, wrap(A._dev.xp.zeros(A._data.shape[:-2], np.int32), A._dev))
    d = host(A._data)
    sym = np.triu(d) + _mT(np.triu(d, 1)) if upper else np.tril(d) + _mT(np.tril(d, -1))
    part, info = _partial_cholesky(sym)
    xp = A._dev.xp
    if not info.any():
        L = cholesky(A, upper=upper)
    else:  # the factors that go through are LAPACK's; the failed ones, its partial factors
        bad = (info != 0)[..., None, None]
        good = xp.linalg.cholesky(xp.asarray(np.where(bad, np.eye(d.shape[-1], dtype=d.dtype), sym)))
        full = xp.where(xp.asarray(bad), xp.asarray(part), good)
        full = xp.ascontiguousarray(_mT(full) if upper else full).astype(d.dtype, copy=False)
        L = _record(LinalgCholeskyExBackward0, full, A._dev, (A,), (_SELF, upper))
    return linalg_cholesky_ex_type(L, wrap(A._dev.xp.asarray(info), A._dev))


# ---- cholesky_inverse ------------------------------------------------------------------------------------------
def _cholesky_inverse_bw(self: Any, g: Tensor, L: Tensor, inverse: Tensor, upper: bool) -> tuple:  # noqa: N803
    common = matmul(inverse, matmul(g + g.mT, inverse))
    return ((-matmul(L, common) if upper else -matmul(common, L)),)


CholeskyInverseBackward0 = node_class("CholeskyInverseBackward0", _cholesky_inverse_bw)


def cholesky_inverse(input: Tensor, upper: bool = False, *, out: Any = None) -> Tensor:  # noqa: A002
    """torch.cholesky_inverse: the inverse of A from its Cholesky factor (A = L L^T, or U^T U with upper)."""
    _tensor(input, "cholesky_inverse", "input", 1)
    _square(input, "cholesky_inverse")
    _floating(input, "cholesky_inverse", half="cholesky_inverse_out_cpu")
    d = input._data
    xp = input._dev.xp
    eye = xp.broadcast_to(xp.eye(d.shape[-1], dtype=d.dtype), d.shape)
    if upper:  # A^-1 = U^-1 U^-T
        inv_u = _substitute(d, eye, True, False)
        r = inv_u @ _mT(inv_u)
    else:  # A^-1 = L^-T L^-1
        inv_l = _substitute(d, eye, False, False)
        r = _mT(inv_l) @ inv_l
    r = xp.ascontiguousarray(r)
    return _out(out, _record(CholeskyInverseBackward0, r, input._dev, (input,), (input, _SELF, upper)))


# ---- cholesky_solve ---------------------------------------------------------------------------------------------
def _cholesky_solve_bw(self: Any, g: Tensor, L: Tensor, X: Tensor, upper: bool) -> tuple:  # noqa: N803
    """torch's cholesky_solve_backward: gB solves the same system; gL from the symmetrised gB X^T."""
    n = self._next
    g_b = cholesky_solve(g, L, upper)
    g_l = None
    if n[1] is not None:
        common = matmul(g_b, X.mT)
        common = common + common.mT
        g_l = -matmul(L, common) if upper else -matmul(common, L)
    return (g_b if n[0] is not None else None), g_l


CholeskySolveBackward0 = node_class("CholeskySolveBackward0", _cholesky_solve_bw)


def cholesky_solve(B: Tensor, L: Tensor, upper: bool = False, *, out: Any = None) -> Tensor:  # noqa: N803
    """torch.cholesky_solve: X with A X = B, given A's Cholesky factor L (A = L L^T, or U^T U with upper)."""
    _tensor(B, "cholesky_solve", "input", 1)
    _tensor(L, "cholesky_solve", "input2", 2)
    bd, ld = B._data, L._data
    if bd.ndim < 2:
        raise RuntimeError(f"b should have at least 2 dimensions, but has {bd.ndim} dimensions instead")
    if ld.ndim < 2:
        raise RuntimeError(f"u should have at least 2 dimensions, but has {ld.ndim} dimensions instead")
    if bd.dtype != ld.dtype:
        raise RuntimeError(
            f"Expected b and A to have the same dtype, but found b of type {B.dtype.scalar_name()} and A of type "
            f"{L.dtype.scalar_name()} instead."
        )
    if ld.shape[-1] != ld.shape[-2] or ld.shape[-1] != bd.shape[-2]:
        raise RuntimeError(
            f"Incompatible matrix sizes for cholesky_solve: each A matrix is {ld.shape[-2]} by {ld.shape[-1]} but "
            f"each b matrix is {bd.shape[-2]} by {bd.shape[-1]}"
        )
    _floating(L, "cholesky_solve", half="cholesky_solve_cpu")
    dev = same_device((B, L))
    xp = dev.xp
    try:
        batch = np.broadcast_shapes(bd.shape[:-2], ld.shape[:-2])
    except ValueError:
        raise RuntimeError(_bcast_msg(bd.shape[:-2], ld.shape[:-2])) from None
    lo = xp.broadcast_to(_mT(ld) if upper else ld, batch + ld.shape[-2:])
    y = _substitute(lo, xp.broadcast_to(bd, batch + bd.shape[-2:]), False, False)  # L Y = B
    x = xp.ascontiguousarray(_substitute(_mT(lo), y, True, False))  # L^T X = Y
    meta = ((bd.shape, bd.dtype), (ld.shape, ld.dtype))
    return _out(out, _record(CholeskySolveBackward0, x, dev, (B, L), (L, _SELF, upper), meta))


TORCH = {"cholesky_inverse": cholesky_inverse, "cholesky_solve": cholesky_solve}
LINALG = {"solve_triangular": solve_triangular, "cholesky_ex": cholesky_ex}
METHODS = {"cholesky_inverse": cholesky_inverse, "cholesky_solve": cholesky_solve}
