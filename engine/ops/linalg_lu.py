"""The LU factorization and what is built on it: torch.linalg.lu_factor, lu_factor_ex, lu and lu_solve, and the
older torch.lu, torch.lu_unpack and torch.lu_solve.

The factorization is LAPACK getrf's (engine/ops/lapack.getrf, run in the array library): the same pivots, the same
info for a singular matrix and the same factors as torch's cpu results. Pivots are 1-based int32 row swaps; P is
built from them as A = P L U. Without pivoting (pivot=False) torch factors on a GPU only, and so does the engine.
The backward formulas are torch's (linalg_lu_backward, lu_factor_ex_backward, linalg_lu_solve_LU,
lu_unpack_backward) in engine ops, so they differentiate again."""

from __future__ import annotations

from typing import Any

import numpy as np

from engine.naming import result_type
from engine.ops import lapack, mkl_lapack
from engine.ops.index import _bcast_msg, cat
from engine.ops.linalg import matmul
from engine.ops.linalg_more import (
    _SELF,
    _first_info,
    _floating,
    _grads,
    _multi_class,
    _on_device,
    _out,
    _record,
    _record_multi,
    _square,
    _tensor,
)
from engine.ops.linalg_triangular import solve_triangular
from engine.ops.util import index_range, node_class, same_device
from engine.tensor import Tensor, wrap
from engine.warn import warn_once

linalg_lu_factor_type = result_type("linalg_lu_factor", "LU", "pivots")
linalg_lu_factor_ex_type = result_type("linalg_lu_factor_ex", "LU", "pivots", "info")
linalg_lu_type = result_type("linalg_lu", "P", "L", "U")
lu_unpack_type = result_type("lu_unpack", "P", "L", "U")
lu_with_info_type = result_type("_lu_with_info", "LU", "pivots", "info")
RETURN_TYPES = {t._name: t for t in (linalg_lu_factor_type, linalg_lu_factor_ex_type, linalg_lu_type,
                                     lu_unpack_type, lu_with_info_type)}  # fmt: skip


def _write_out(out: Any, r: tuple) -> Any:
    if out is None:
        return r
    from engine.ops.inplace import write_out

    return type(r)(*(write_out(o, x) for o, x in zip(out, r)))


# ---- unpacking ---------------------------------------------------------------------------------------------------
def _perm_matrix(xp: Any, piv: Any, m: int, dtype: Any) -> Any:
    """P of A = P L U: column i holds a one in the row that getrf's swaps brought to position i."""
    perm = lapack.permutation(xp, piv, m)
    eye = xp.eye(m, dtype=dtype)
    return xp.ascontiguousarray(eye[perm].swapaxes(-1, -2))


def _unpack_arrays(xp: Any, lu: Any, k: int) -> tuple:
    m, n = lu.shape[-2:]
    L = xp.tril(lu[..., :, :k], -1) + xp.eye(m, k, dtype=lu.dtype)
    U = xp.triu(lu[..., :k, :])
    return xp.ascontiguousarray(L), xp.ascontiguousarray(U)


def _unpack_bw(self: Any, g: Tensor, P: Tensor, L: Tensor, U: Tensor, m: int, n: int) -> tuple:  # noqa: N803
    """torch's lu_unpack_backward: L's strict lower part and U's upper part go back where they came from in the
    packed matrix (zeros for the part the other factor holds); the two parts add where both got a gradient."""
    gL, gU = _grads(self, g, 3)[1:]
    k = min(m, n)
    gA = None
    if gL is not None:
        _empty_factor(gL, m * n)
        r = gL.narrow(-2, 0, k).tril(-1) if m > k else gL.tril(-1)
        if m == n:
            gA = r
        elif m > n:
            gA = cat([r, gL.narrow(-2, k, m - k)], -2)
        else:
            gA = cat([r, _zeros_like(gL, n - m, -1)], -1)
    if gU is not None:
        _empty_factor(gU, m * n)
        r = gU.narrow(-1, 0, k).triu() if n > k else gU.triu()
        if m == n:
            pass
        elif n > m:
            r = cat([r, gU.narrow(-1, k, n - k)], -1)
        else:
            r = cat([r, _zeros_like(gU, m - n, -2)], -2)
        gA = r if gA is None else gA + r
    return gA, None


def _empty_factor(g: Tensor, size: int) -> None:
    """unpack_data=False leaves L and U empty: torch's formula then fails on the first triangle it takes."""
    if g._data.ndim < 2 and size:
        raise RuntimeError("triu: input tensor must have at least 2 dimensions")


def _zeros_like(t: Tensor, size: int, dim: int) -> Tensor:
    shape = list(t._data.shape)
    shape[dim] = size
    return wrap(t._dev.xp.zeros(tuple(shape), dtype=t._data.dtype), t._dev)


LuUnpackBackward0 = _multi_class("LuUnpackBackward0", _unpack_bw)


def _check_pivots(piv: Any, m: int, below: str, above: str) -> None:
    """torch's range checks of 1-based pivots: `below` for one under 1, `above` for one past m."""
    if piv.size:
        lo, hi = index_range(piv)
        if lo < 1:
            raise RuntimeError(below)
        if hi > m:
            raise RuntimeError(above)


def lu_unpack(LU_data: Tensor, LU_pivots: Tensor, unpack_data: bool = True, unpack_pivots: bool = True,  # noqa: N803
              *, out: Any = None) -> Any:  # fmt: skip
    """(P, L, U) from lu_factor's packed LU and pivots; a factor not asked for is an empty tensor."""
    _tensor(LU_data, "lu_unpack", "LU_data", 1)
    _tensor(LU_pivots, "lu_unpack", "LU_pivots", 2)
    same_device((LU_data, LU_pivots))
    d = LU_data._data
    if d.ndim < 2:
        raise RuntimeError(
            f"torch.lu_unpack: Expected tensor with 2 or more dimensions. Got size: [{', '.join(map(str, d.shape))}] "
            "instead"
        )
    if LU_pivots._data.dtype != np.int32:
        raise RuntimeError(
            "torch.lu_unpack: LU_pivots is expected to be a contiguous tensor of torch.int32 dtype.\nNote: this "
            "function is intended to be used with the output produced by torch.linalg.lu_factor"
        )
    xp = LU_data._dev.xp
    m, n = d.shape[-2:]
    k = min(m, n)
    empty = xp.zeros((0,), dtype=d.dtype)
    P = empty
    if unpack_pivots:
        piv = xp.broadcast_to(LU_pivots._data, d.shape[:-2] + LU_pivots._data.shape[-1:])
        msg = (
            "pivots passed to lu_unpack must be between 1 and LU.size(-2) inclusive.Did you properly pass the result "
            "of lu_factor?"
        )
        _check_pivots(piv, m, msg, msg)
        P = _perm_matrix(xp, piv, m, d.dtype)
    L, U = _unpack_arrays(xp, d, k) if unpack_data else (empty, empty)
    outs = _record_multi(LuUnpackBackward0, [P, L, U], LU_data._dev, (LU_data, None), extra=(m, n),
                         diff=(False, True, True))  # fmt: skip
    return _write_out(out, lu_unpack_type(*outs))


# ---- lu_factor / lu_factor_ex / lu -------------------------------------------------------------------------------
def _lu_backward(gL: Any, gU: Any, P: Tensor, L: Tensor, U: Tensor, pivot: bool) -> Tensor:  # noqa: N803
    """torch's linalg_lu_backward: A's gradient from the factors', for square, wide and tall A."""
    m, n = L._data.shape[-2], U._data.shape[-1]
    k = min(m, n)
    if m == n:
        gA = matmul(L.mT, gL).tril(-1) if gL is not None else None
        if gU is not None:
            t = matmul(gU, U.mT).triu()
            gA = t if gA is None else gA + t
        gA = solve_triangular(U.mT, gA, upper=False, left=False)
        gA = solve_triangular(L.mT, gA, upper=True, left=True, unitriangular=True)
    elif m < n:
        U1 = U.narrow(-1, 0, k)
        gA = matmul(L.mT, gL) if gL is not None else None
        if gU is not None:
            t = matmul(gU.triu(), U.mT)
            gA = -t if gA is None else gA - t
        gA = solve_triangular(U1.mT, gA.tril(-1), upper=False, left=False)
        if gU is not None:
            gA = cat([gA + gU.narrow(-1, 0, k).triu(), gU.narrow(-1, k, n - k)], -1)
        gA = solve_triangular(L.mT, gA, upper=True, left=True, unitriangular=True)
        if gU is None:
            gA = cat([gA, _zeros_like(U, n - k, -1)], -1)
    else:
        L1 = L.narrow(-2, 0, k)
        gA = matmul(gU, U.mT) if gU is not None else None
        if gL is not None:
            t = matmul(L.mT, gL.tril(-1))
            gA = -t if gA is None else gA - t
        gA = solve_triangular(L1.mT, gA.triu(), upper=True, left=True, unitriangular=True)
        if gL is not None:
            gA = cat([gA + gL.narrow(-2, 0, k).tril(-1), gL.narrow(-2, k, m - k)], -2)
        gA = solve_triangular(U.mT, gA, upper=False, left=False)
        if gL is None:
            gA = cat([gA, _zeros_like(L, m - k, -2)], -2)
    return matmul(P, gA) if pivot else gA


def _lu_factor_bw(self: Any, g: Tensor, LU: Tensor, piv: Tensor, info: Tensor, pivot: bool) -> tuple:  # noqa: N803
    """torch's lu_factor_ex_backward: LU's gradient split into L's (its first k columns) and U's (first k rows)."""
    g = _grads(self, g, 3)[0]
    P, L, U = lu_unpack(LU, piv, True, pivot)
    m, n = LU._data.shape[-2:]
    k = min(m, n)
    return (_lu_backward(g.narrow(-1, 0, k), g.narrow(-2, 0, k), P, L, U, pivot),)


LinalgLuFactorExBackward0 = _multi_class("LinalgLuFactorExBackward0", _lu_factor_bw)


def _lu_arrays(A: Tensor, pivot: bool, fn: str) -> tuple:  # noqa: N803
    """getrf on A, after torch's checks (fn names the dimension error)."""
    d = A._data
    if d.ndim < 2:
        raise RuntimeError(
            f"{fn}: Expected tensor with 2 or more dimensions. Got size: [{', '.join(map(str, d.shape))}] instead"
        )
    if d.dtype not in (np.float32, np.float64):
        raise NotImplementedError(f"\"lu_cpu\" not implemented for '{A.dtype.scalar_name()}'")
    if not pivot and not _on_device(A):
        raise RuntimeError("linalg.lu_factor: LU without pivoting is not implemented on the CPU")
    if pivot and type(d) is np.ndarray and d.size and mkl_lapack.available(d.dtype):  # torch's getrf
        return mkl_lapack.getrf(d)
    return lapack.getrf(A._dev.xp, d, pivot)


def _lu_factor_ex(A: Tensor, pivot: bool, check: str | None) -> list:  # noqa: N803
    """[LU, pivots, info], raising torch's error for a zero pivot when check names the function."""
    lu, piv, info = _lu_arrays(A, pivot, "torch.lu_factor")
    if check is not None:
        hit = _first_info(info)
        if hit is not None:
            where = f"(Batch element {hit[0]}): " if A._data.ndim > 2 else ""
            raise RuntimeError(
                f"{check}: {where}U[{hit[1]},{hit[1]}] is zero and using it on lu_solve would result in a division "
                "by zero. If you still want to perform the factorization, consider calling linalg.lu(A, pivot) or "
                "linalg.lu_factor_ex(A, pivot)"
            )
    xp = A._dev.xp
    return _record_multi(LinalgLuFactorExBackward0, [lapack.colmajor(xp, lu), piv, info], A._dev, (A,),
                         extra=(pivot,), diff=(True, False, False))  # fmt: skip


def lu_factor_ex(A: Tensor, *, pivot: bool = True, check_errors: bool = False, out: Any = None) -> Any:  # noqa: N803
    _tensor(A, "linalg_lu_factor_ex", "A", 1)
    r = _lu_factor_ex(A, bool(pivot), "torch.linalg.lu_factor_ex" if check_errors else None)
    return _write_out(out, linalg_lu_factor_ex_type(*r))


def lu_factor(A: Tensor, *, pivot: bool = True, out: Any = None) -> Any:  # noqa: N803
    _tensor(A, "linalg_lu_factor", "A", 1)
    LU, piv, _ = _lu_factor_ex(A, bool(pivot), "torch.linalg.lu_factor")
    return _write_out(out, linalg_lu_factor_type(LU, piv))


def _linalg_lu_bw(self: Any, g: Tensor, A: Tensor, P: Tensor, L: Tensor, U: Tensor, pivot: bool) -> tuple:  # noqa: N803
    gL, gU = _grads(self, g, 3)[1:]
    return (_lu_backward(gL, gU, P, L, U, pivot),)


LinalgLuBackward0 = _multi_class("LinalgLuBackward0", _linalg_lu_bw)


def lu(A: Tensor, *, pivot: bool = True, out: Any = None) -> Any:  # noqa: N803
    """(P, L, U) with A = P L U; P is an empty tensor without pivoting."""
    _tensor(A, "linalg_lu", "A", 1)
    pivot = bool(pivot)
    lu_, piv, _ = _lu_arrays(A, pivot, "linalg.lu")
    xp = A._dev.xp
    m, n = lu_.shape[-2:]
    L, U = _unpack_arrays(xp, lu_, min(m, n))
    P = _perm_matrix(xp, piv, m, lu_.dtype) if pivot else xp.zeros((0,), dtype=lu_.dtype)
    outs = _record_multi(LinalgLuBackward0, [P, L, U], A._dev, (A,), keep=(A,), extra=(pivot,),
                         diff=(False, True, True))  # fmt: skip
    return _write_out(out, linalg_lu_type(*outs))


# ---- lu_solve ------------------------------------------------------------------------------------------------
def _lu_solve_LU(gX: Tensor, LU: Tensor, piv: Tensor, X: Tensor, left: bool, adjoint: bool) -> Tensor:  # noqa: N802, N803
    """torch's linalg_lu_solve_LU: the gradient of the packed LU."""
    P, L, U = lu_unpack(LU, piv, True, left == adjoint)
    if left != adjoint:
        gR = solve_triangular(U.mT, -matmul(gX if left else gX.mT, X.mT if left else X), upper=False)
        gL = solve_triangular(L.mT, matmul(gR, U.mT), upper=True, left=True, unitriangular=True).tril(-1)
        return gL + gR.triu()
    gR = -matmul(matmul(matmul(P.mT, X if left else X.mT), gX.mT if left else gX), P)
    gR = solve_triangular(L.mT, gR, upper=True, left=False, unitriangular=True)
    gU = solve_triangular(U.mT, matmul(L.mT, gR), upper=False, left=False).triu()
    return gR.tril(-1) + gU


def _lu_solve_bw(self: Any, g: Tensor, LU: Tensor, piv: Tensor, X: Tensor, left: bool, adjoint: bool) -> tuple:  # noqa: N803
    n = self._next
    gLU = _lu_solve_LU(g, LU, piv, X, left, adjoint) if n[0] is not None else None
    gB = lu_solve(LU, piv, g, left=left, adjoint=not adjoint) if n[2] is not None else None
    return gLU, None, gB


LinalgLuSolveBackward0 = node_class("LinalgLuSolveBackward0", _lu_solve_bw)


def lu_solve(LU: Tensor, pivots: Tensor, B: Tensor, *, left: bool = True, adjoint: bool = False,  # noqa: N803
             out: Any = None) -> Tensor:  # fmt: skip
    """X with A X = B (A^T X = B for adjoint; X A = B for left=False) from A's lu_factor."""
    for name, t, pos in (("LU", LU, 1), ("pivots", pivots, 2), ("B", B, 3)):
        _tensor(t, "linalg_lu_solve", name, pos)
    same_device((LU, pivots, B))
    fn = "linalg.lu_solve"
    ld, pd, bd = LU._data, pivots._data, B._data
    if ld.dtype.kind != "f":
        raise RuntimeError(
            f"torch.linalg.lu_solve: Expected a floating point or complex tensor as input. Got {LU.dtype.scalar_name()}"
        )
    if ld.dtype != bd.dtype:
        raise RuntimeError(
            f"{fn}: Expected LU and B to have the same dtype, but found LU of type {LU.dtype.scalar_name()} and B of "
            f"type {B.dtype.scalar_name()} instead"
        )
    if pd.dtype != np.int32:
        raise RuntimeError(f"{fn}: pivots should be a Tensor of scalar type torch.int32")
    _square(LU, "torch.linalg.lu_solve")
    if bd.ndim < 2:
        raise RuntimeError(f"{fn}: The input tensor B must have at least 2 dimensions.")
    if (ld.shape[-2] != bd.shape[-2]) if left else (ld.shape[-1] != bd.shape[-1]):
        raise RuntimeError(
            f"{fn}: Incompatible shapes of A and B for the equation {'AX = B' if left else 'XA = B'} "
            f"({ld.shape[-2]}x{ld.shape[-1]} and {bd.shape[-2]}x{bd.shape[-1]})"
        )
    if pd.ndim == 0 or ld.shape[-1] != pd.shape[-1]:
        raise RuntimeError(f"{fn}: Number of pivots per batch should be same as the dimension of the matrix")
    if ld.shape[:-1] != pd.shape:
        raise RuntimeError(
            f"{fn}: Expected LU.shape[:-1] and pivots.shape to be the same, but got pivots with shape "
            f"[{', '.join(map(str, pd.shape))}] instead"
        )
    try:
        batch = np.broadcast_shapes(bd.shape[:-2], ld.shape[:-2])
    except ValueError:
        raise RuntimeError(_bcast_msg(bd.shape[:-2], ld.shape[:-2])) from None
    _floating(LU, fn, half="linalg.lu_solve_cpu")
    xp = LU._dev.xp
    b = xp.broadcast_to(bd, batch + bd.shape[-2:])
    if b.size:
        n = ld.shape[-1]
        _check_pivots(
            pd,
            n,
            "Pivots given to lu_solve must all be greater or equal to 1. Did you properly pass the result of "
            "lu_factor?",
            "Pivots given to lu_solve must all be smaller or equal to LU.size(-2). Did you properly pass the result "
            "of lu_factor?",
        )
        x = lapack.getrs(xp, ld, pd, b, bool(left), bool(adjoint))
    else:
        x = xp.zeros(b.shape, dtype=bd.dtype)
    meta = ((ld.shape, ld.dtype), None, (bd.shape, bd.dtype))
    items = (LU, pivots, _SELF, bool(left), bool(adjoint))
    return _out(out, _record(LinalgLuSolveBackward0, x, LU._dev, (LU, pivots, B), items, meta))


# ---- the older torch.lu / torch.lu_solve ----------------------------------------------------------------------
def torch_lu(A: Tensor, pivot: bool = True, get_infos: bool = False, out: Any = None) -> Any:  # noqa: N803
    """torch.lu: lu_factor_ex without its error check; (LU, pivots), or with get_infos the _lu_with_info tuple."""
    warn_once(
        "torch.lu is deprecated in favor of torch.linalg.lu_factor / torch.linalg.lu_factor_ex and will be removed in "
        "a future PyTorch release.\nLU, pivots = torch.lu(A, compute_pivots)\nshould be replaced with\nLU, pivots = "
        "torch.linalg.lu_factor(A, compute_pivots)\nand\nLU, pivots, info = torch.lu(A, compute_pivots, "
        "get_infos=True)\nshould be replaced with\nLU, pivots, info = torch.linalg.lu_factor_ex(A, compute_pivots) "
        "(Triggered internally at /__w/pytorch/pytorch/aten/src/ATen/native/BatchLinearAlgebra.cpp:2073.)"
    )
    _tensor(A, "_lu_with_info", "input", 1)
    r = lu_with_info_type(*_lu_factor_ex(A, bool(pivot), None))
    if get_infos:
        return _write_out(out, r)
    LU, piv = r[0], r[1]
    if out is not None:
        return _write_out(out, (LU, piv))
    return LU, piv


def lu_method(self: Tensor, pivot: bool = True, get_infos: bool = False) -> tuple:
    """Tensor.lu: plain tuples, (LU, pivots) or (LU, pivots, info)."""
    r = tuple(torch_lu(self, pivot, True))
    return r if get_infos else r[:2]


def torch_lu_solve(input: Tensor, LU_data: Tensor, LU_pivots: Tensor, *, out: Any = None) -> Tensor:  # noqa: A002, N803
    warn_once(
        "torch.lu_solve is deprecated in favor of torch.linalg.lu_solveand will be removed in a future PyTorch "
        "release.\nNote that torch.linalg.lu_solve has its arguments reversed.\nX = torch.lu_solve(B, LU, pivots)\n"
        "should be replaced with\nX = torch.linalg.lu_solve(LU, pivots, B) (Triggered internally at "
        "/__w/pytorch/pytorch/aten/src/ATen/native/BatchLinearAlgebra.cpp:2230.)"
    )
    for name, t, pos in (("input", input, 1), ("LU_data", LU_data, 2), ("LU_pivots", LU_pivots, 3)):
        _tensor(t, "lu_solve", name, pos)
    return lu_solve(LU_data, LU_pivots, input, out=out)


TORCH = {"lu": torch_lu, "lu_unpack": lu_unpack, "lu_solve": torch_lu_solve}
LINALG = {"lu_factor": lu_factor, "lu_factor_ex": lu_factor_ex, "lu": lu, "lu_solve": lu_solve}
METHODS = {"lu": lu_method, "lu_solve": torch_lu_solve}
