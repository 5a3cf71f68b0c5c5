"""Solvers over triangular factors: torch.linalg.solve_triangular, torch.triangular_solve (the older form, which
also returns a copy of A), torch.cholesky_solve and torch.cholesky_inverse.

The solves run by substitution (engine/ops/lapack.trsm) in the array library, so a zero on the diagonal gives
BLAS's inf and nan rather than an error; results are column-major per matrix, as LAPACK leaves them (torch's
strides). Each backward is torch's formula (FunctionsManual.cpp) in engine ops, differentiable again."""

from __future__ import annotations

from typing import Any

import numpy as np

from engine.backend import host
from engine.naming import result_type
from engine.ops import lapack, mkl_lapack
from engine.ops.index import _bcast_msg
from engine.ops.linalg import matmul
from engine.ops.linalg_more import (
    _SELF,
    _at_least_2d,
    _first_info,
    _grads,
    _linalg_error,
    _multi_class,
    _out,
    _record,
    _record_multi,
    _square,
    _tensor,
)
from engine.ops.util import node_class, same_device
from engine.tensor import Tensor
from engine.warn import warn_once


def _dispatch(t: Tensor, kernel: str) -> None:
    """torch's kernels run for float and double only: anything else is the dispatcher's NotImplementedError."""
    if t._data.dtype not in (np.float32, np.float64):
        raise NotImplementedError(f"\"{kernel}\" not implemented for '{t.dtype.scalar_name()}'")


def _batch(b_shape: tuple, a_shape: tuple) -> tuple:
    try:
        return np.broadcast_shapes(b_shape[:-2], a_shape[:-2])
    except ValueError:
        raise RuntimeError(_bcast_msg(b_shape[:-2], a_shape[:-2])) from None


def _solve_arrays(xp: Any, a: Any, b: Any, upper: bool, left: bool = True, unit: bool = False) -> Any:
    """X with A X = B (left) or X A = B, A triangular; b already has the broadcast batch shape."""
    if left:
        return lapack.colmajor(xp, lapack.trsm(xp, a, b, upper, unit))
    return lapack.colmajor(
        xp, lapack.trsm(xp, a.swapaxes(-1, -2), b.swapaxes(-1, -2), not upper, unit).swapaxes(-1, -2)
    )


def _triangle(g: Tensor, upper: bool, unit: bool) -> Tensor:
    return g.triu(int(unit)) if upper else g.tril(-int(unit))


# ---- linalg.solve_triangular ---------------------------------------------------------------------------------
def _solve_triangular_bw(self: Any, g: Tensor, A: Tensor, X: Tensor, upper: bool, left: bool, unit: bool) -> tuple:  # noqa: N803
    """torch's linalg_solve_triangular_backward: gB solves the adjoint system, gA = -gB X^T projected onto A's
    triangle (without the diagonal for a unit triangle)."""
    n = self._next
    gB = solve_triangular(A.mT, g, upper=not upper, left=left, unitriangular=unit)
    gA = None
    if n[0] is not None:
        gA = _triangle(-matmul(gB, X.mT) if left else -matmul(X.mT, gB), upper, unit)
    return gA, gB if n[1] is not None else None


LinalgSolveTriangularBackward0 = node_class("LinalgSolveTriangularBackward0", _solve_triangular_bw)

_MISSING = object()


def solve_triangular(A: Tensor, B: Tensor, *, upper: Any = _MISSING, left: bool = True,  # noqa: N803
                     unitriangular: bool = False, out: Any = None) -> Tensor:  # fmt: skip
    """X solving A X = B (or X A = B for left=False) for a triangular A; B is cast to A's dtype."""
    if upper is _MISSING:
        raise TypeError('linalg_solve_triangular() missing 1 required positional arguments: "upper"')
    _tensor(A, "linalg_solve_triangular", "input", 1)
    _tensor(B, "linalg_solve_triangular", "B", 2)
    same_device((A, B))
    fn = "linalg.solve_triangular"
    _square(A, fn)
    _at_least_2d(B, fn, "B")
    ad, bd = A._data, B._data
    if (ad.shape[-1] != bd.shape[-2]) if left else (ad.shape[-2] != bd.shape[-1]):
        raise RuntimeError(
            f"{fn}: Incompatible shapes of A and B for the equation {'AX = B' if left else 'XA = B'} "
            f"({ad.shape[-2]}x{ad.shape[-1]} and {bd.shape[-2]}x{bd.shape[-1]})"
        )
    batch = _batch(bd.shape, ad.shape)
    _dispatch(A, "triangular_solve_cpu")
    xp = A._dev.xp
    b = xp.broadcast_to(bd.astype(ad.dtype, copy=False), batch + bd.shape[-2:])
    if type(ad) is np.ndarray and b.size and mkl_lapack.available(ad.dtype):  # torch's MKL ?trsm
        x = mkl_lapack.trsm(np.broadcast_to(ad, batch + ad.shape[-2:]), b, bool(upper), left, bool(unitriangular))
    else:
        x = _solve_arrays(xp, ad, b, bool(upper), left, bool(unitriangular))
    meta = ((ad.shape, ad.dtype), (bd.shape, bd.dtype))
    items = (A, _SELF, bool(upper), left, bool(unitriangular))
    return _out(out, _record(LinalgSolveTriangularBackward0, x, A._dev, (A, B), items, meta))


# ---- torch.triangular_solve --------------------------------------------------------------------------------------
triangular_solve_type = result_type("triangular_solve", "solution", "cloned_coefficient")


def _linear_solve_checks(b: Tensor, A: Tensor, fn: str) -> tuple:  # noqa: N803
    """torch's linearSolveCheckInputs and _linalg_broadcast_batch_dims: the broadcast batch shape."""
    same_device((b, A))
    if b.dtype is not A.dtype:
        raise RuntimeError(
            f"Expected b and A to have the same dtype, but found b of type {b.dtype.scalar_name()} and A of type "
            f"{A.dtype.scalar_name()} instead."
        )
    m, n = A._data.shape[-2:]
    if m != n:
        raise RuntimeError(f"A must be batches of square matrices, but they are {m} by {n} matrices")
    if n != b._data.shape[-2]:
        raise RuntimeError(
            f"Incompatible matrix sizes for {fn}: each A matrix is {m} by {n} but each b matrix is "
            f"{b._data.shape[-2]} by {b._data.shape[-1]}"
        )
    return _batch(b._data.shape, A._data.shape)


def _triangular_solve_bw(self: Any, g: Tensor, b: Tensor, A: Tensor, X: Tensor, M: Tensor, upper: bool,  # noqa: N803
                         transpose: bool, unit: bool) -> tuple:  # fmt: skip
    """torch's triangular_solve_backward: the solution's gradient reaches b and A's triangle, the cloned
    coefficient's goes to A as it is (added to the solution's part where both outputs got a gradient)."""
    n = self._next
    gX, gM = _grads(self, g, 2)
    gb = gA = None
    if gX is not None:
        gb = triangular_solve(gX, A, upper, not transpose, unit)[0]
        if n[1] is not None:
            gA = _triangle(-matmul(X, gb.mT) if transpose else -matmul(gb, X.mT), upper, unit)
    if gM is not None and n[1] is not None:
        gA = gM if gA is None else gA + gM
    return gb if n[0] is not None else None, gA


TriangularSolveBackward0 = _multi_class("TriangularSolveBackward0", _triangular_solve_bw)


def triangular_solve(input: Tensor, A: Tensor, upper: bool = True, transpose: bool = False,  # noqa: A002, N803
                     unitriangular: bool = False, *, out: Any = None) -> Any:  # fmt: skip
    """(X, A's copy) with A X = b (A^T X = b for transpose=True); torch deprecates it for solve_triangular."""
    _tensor(input, "triangular_solve", "input", 1)
    _tensor(A, "triangular_solve", "A", 2)
    for name, t in (("b", input), ("A", A)):
        if t._data.ndim < 2:
            raise RuntimeError(
                f"torch.triangular_solve: Expected {name} to have at least 2 dimensions, but it has "
                f"{t._data.ndim} dimensions instead"
            )
    batch = _linear_solve_checks(input, A, "triangular_solve")
    _dispatch(A, "triangular_solve_cpu")
    warn_once(
        "torch.triangular_solve is deprecated in favor of torch.linalg.solve_triangularand will be removed in a "
        "future PyTorch release.\ntorch.linalg.solve_triangular has its arguments reversed and does not return a "
        "copy of one of the inputs.\nX = torch.triangular_solve(B, A).solution\nshould be replaced with\nX = "
        "torch.linalg.solve_triangular(A, B). (Triggered internally at "
        "/__w/pytorch/pytorch/aten/src/ATen/native/BatchLinearAlgebra.cpp:2273.)"
    )
    xp = A._dev.xp
    ad, bd = A._data, input._data
    b = xp.broadcast_to(bd, batch + bd.shape[-2:])
    a = ad.swapaxes(-1, -2) if transpose else ad
    x = _solve_arrays(xp, a, b, bool(upper) != bool(transpose), True, bool(unitriangular))
    coef = lapack.colmajor(xp, xp.broadcast_to(ad, batch + ad.shape[-2:]))
    meta = ((bd.shape, bd.dtype), (ad.shape, ad.dtype))
    outs = _record_multi(TriangularSolveBackward0, [x, coef], A._dev, (input, A), keep=(input, A),
                         extra=(bool(upper), bool(transpose), bool(unitriangular)), meta=meta)  # fmt: skip
    r = triangular_solve_type(*outs)
    if out is not None:
        from engine.ops.inplace import write_out

        return triangular_solve_type(*(write_out(o, x) for o, x in zip(out, r)))
    return r


# ---- cholesky_solve / cholesky_inverse -------------------------------------------------------------------------
def _cholesky_arrays(xp: Any, L: Any, b: Any, upper: bool) -> Any:  # noqa: N803
    """X with (L L^T) X = b (U^T U for upper): two substitutions, the factor's transpose second (first)."""
    Lt = L.swapaxes(-1, -2)
    if upper:
        return lapack.trsm(xp, L, lapack.trsm(xp, Lt, b, False), True)
    return lapack.trsm(xp, Lt, lapack.trsm(xp, L, b, False), True)


def _cholesky_solve_bw(self: Any, g: Tensor, L: Tensor, X: Tensor, upper: bool) -> tuple:  # noqa: N803
    """torch's cholesky_solve_backward."""
    n = self._next
    gB = cholesky_solve(g, L, upper)
    gL = None
    if n[1] is not None:
        common = matmul(gB, X.mT)
        common = common + common.mT
        gL = -matmul(L, common) if upper else -matmul(common, L)
    return gB if n[0] is not None else None, gL


CholeskySolveBackward0 = node_class("CholeskySolveBackward0", _cholesky_solve_bw)


def cholesky_solve(input: Tensor, input2: Tensor, upper: bool = False, *, out: Any = None) -> Tensor:  # noqa: A002
    """X solving A X = B given A's Cholesky factor (lower L with A = L L^T, or upper U with A = U^T U)."""
    _tensor(input, "cholesky_solve", "input", 1)
    _tensor(input2, "cholesky_solve", "input2", 2)
    if input._data.ndim < 2:
        raise RuntimeError(f"b should have at least 2 dimensions, but has {input._data.ndim} dimensions instead")
    if input2._data.ndim < 2:
        raise RuntimeError(f"u should have at least 2 dimensions, but has {input2._data.ndim} dimensions instead")
    batch = _linear_solve_checks(input, input2, "cholesky_solve")
    _dispatch(input2, "cholesky_solve_cpu")
    xp = input._dev.xp
    bd, ld = input._data, input2._data
    b = xp.broadcast_to(bd, batch + bd.shape[-2:])
    x = lapack.colmajor(xp, _cholesky_arrays(xp, ld, b, bool(upper)))
    meta = ((bd.shape, bd.dtype), (ld.shape, ld.dtype))
    return _out(out, _record(CholeskySolveBackward0, x, input._dev, (input, input2), (input2, _SELF, bool(upper)),
                             meta))  # fmt: skip


def _cholesky_inverse_bw(self: Any, g: Tensor, L: Tensor, inv: Tensor, upper: bool) -> tuple:  # noqa: N803
    """torch's cholesky_inverse_backward."""
    common = matmul(inv, matmul(g + g.mT, inv))
    return (-matmul(L, common) if upper else -matmul(common, L),)


CholeskyInverseBackward0 = node_class("CholeskyInverseBackward0", _cholesky_inverse_bw)


def cholesky_inverse(input: Tensor, upper: bool = False, *, out: Any = None) -> Tensor:  # noqa: A002
    """(L L^T)^-1 from the factor L (or (U^T U)^-1); a zero on the factor's diagonal is potri's singular error."""
    _tensor(input, "cholesky_inverse", "input", 1)
    fn = "cholesky_inverse"
    _square(input, fn)
    _dispatch(input, "cholesky_inverse_out_cpu")
    xp = input._dev.xp
    d = input._data
    n = d.shape[-1]
    diag = xp.diagonal(d, 0, -2, -1)
    zero = np.asarray(host(diag == 0)).reshape(-1, n)
    hit = _first_info(np.where(zero.any(-1), zero.argmax(-1) + 1, 0)) if d.size else None
    if hit is not None:  # (potri's check: the factor's first zero diagonal entry)
        raise _linalg_error(
            fn,
            d.ndim > 2,
            hit,
            f"The diagonal element {hit[1]} is zero, the inversion could not be completed because the input "
            "matrix is singular.",
        )
    eye = xp.broadcast_to(xp.eye(n, dtype=d.dtype), d.shape)
    inv = lapack.trsm(xp, d, eye, bool(upper))  # the factor's inverse, triangular as the factor
    r = inv @ inv.swapaxes(-1, -2) if upper else inv.swapaxes(-1, -2) @ inv
    r = lapack.colmajor(xp, r.astype(d.dtype, copy=False))
    return _out(out, _record(CholeskyInverseBackward0, r, input._dev, (input,), (input, _SELF, bool(upper))))


TORCH = {"triangular_solve": triangular_solve, "cholesky_solve": cholesky_solve,
         "cholesky_inverse": cholesky_inverse}  # fmt: skip
LINALG = {"solve_triangular": solve_triangular}
METHODS = dict(TORCH)
