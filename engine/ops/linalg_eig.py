"""torch.linalg.eig / eigvals: the eigen-decomposition of general square matrices through LAPACK's geev (MKL's, as
torch's cpu build, through engine/ops/mkl_lapack.py; numpy's where MKL is missing or the input is not finite; on a
device computed on the host, as torch does), returned complex (complex64 for float32, complex128 for float64), with
torch's linalg_eig_backward (itself differentiable). Eigenvectors are unit columns whose phase geev fixes (its
largest component real); numpy's LAPACK may give a column times -1, which torch documents as equally valid, and may
converge to the same eigenvalues in another order (float32 mostly, float64 too: seed 8757's 4x4)."""

from __future__ import annotations

from typing import Any

import numpy as np

from engine.backend import host
from engine.grad_mode import ENABLED
from engine.naming import result_type
from engine.ops import mkl_lapack
from engine.ops.diagonal import diag_embed
from engine.ops.linalg import matmul
from engine.ops.linalg_more import _at_least_2d, _grads, _multi_class, _out, _record_multi, _tensor
from engine.ops.util import node_class, record
from engine.tensor import Tensor, wrap
from engine.warn import warn_once

linalg_eig_type = result_type("linalg_eig", "eigenvalues", "eigenvectors")
RETURN_TYPES = {linalg_eig_type._name: linalg_eig_type}

_COMPLEX = {"float32": np.complex64, "float64": np.complex128, "complex64": np.complex64,
            "complex128": np.complex128}  # fmt: skip
_COMPLEX_HALF = (
    "ComplexHalf support is experimental and many operators don't support it yet. (Triggered internally at "
    "/__w/pytorch/pytorch/aten/src/ATen/EmptyTensor.cpp:54.)"
)


def _checks(A: Tensor, fn: str) -> Any:  # noqa: N803
    """torch's checks, in its order; the complex dtype of the result."""
    _tensor(A, f"linalg_{fn}", "input", 1)
    _at_least_2d(A, f"linalg.{fn}")
    m, n = A._data.shape[-2:]
    if m != n:
        raise RuntimeError(f"linalg.{fn}: A must be batches of square matrices, but they are {m} by {n} matrices")
    dt = A._data.dtype
    if dt.kind not in "fc":
        raise RuntimeError(f"Unknown Complex ScalarType for {A.dtype.scalar_name()}")
    if dt == np.float16:  # (torch makes the complex-half result first, with its warning, then has no kernel)
        warn_once(_COMPLEX_HALF)
        raise NotImplementedError("\"linalg_eig_out_cpu\" not implemented for 'Half'")
    return _COMPLEX[dt.name]


def _mkl_geev(a: Any, vectors: bool, cdt: Any) -> tuple:
    """torch's cpu eig: MKL's geev, its real pairs of eigenvector columns made complex conjugate columns."""
    wr, wi, vr, _ = mkl_lapack.geev(a, vectors)
    L = (wr + 1j * wi).astype(cdt)
    if not vectors:
        return L, None
    V = vr.astype(cdt)
    pair = wi > 0  # (the first of each conjugate pair: v = vr[:, j] + i vr[:, j + 1], its conjugate next)
    if pair.any():
        re, im = vr[..., :, :-1], vr[..., :, 1:]
        first = np.broadcast_to(pair[..., None, :-1], re.shape)
        second = np.broadcast_to(pair[..., None, :-1], im.shape)
        left, right = V[..., :, :-1], V[..., :, 1:]
        left[first] = (re + 1j * im)[first]
        right[second] = (re - 1j * im)[second]
    return L, V


def _geev(A: Tensor, vectors: bool, cdt: Any) -> tuple:  # noqa: N803
    """(eigenvalues, eigenvectors or None) as complex arrays on A's device, computed on the host."""
    a = np.asarray(host(A._data))
    V = None
    if a.size == 0:
        L = np.zeros(a.shape[:-1], cdt)
        V = np.zeros(a.shape, cdt) if vectors else None
    elif a.dtype.kind == "f" and mkl_lapack.available(a.dtype) and np.isfinite(a).all():
        L, V = _mkl_geev(a, vectors, cdt)
    elif vectors:
        L, V = np.linalg.eig(a)
        L, V = L.astype(cdt), V.astype(cdt)
    else:
        L = np.full(
            a.shape[:-1], complex(np.nan, np.nan), cdt
        )  # (a matrix with an inf or nan gets nan eigenvalues, as torch's)
        ok = np.isfinite(a).all(axis=(-2, -1))
        L[ok] = np.linalg.eigvals(a[ok]).astype(cdt)
    xp = A._dev.xp
    return xp.asarray(np.ascontiguousarray(L)), None if V is None else xp.asarray(np.ascontiguousarray(V))


# ---- backward ------------------------------------------------------------------------------------------------
_PHASE_MSG = (
    "linalg_eig_backward: The eigenvectors in the complex case are specified up to multiplication by e^{i phi}. "
    "The specified loss function depends on this quantity, so it is ill-defined."
)


def _csolve_bw(self: Any, g: Tensor, V: Tensor, X: Tensor, adjoint: bool) -> tuple:  # noqa: N803
    """torch's linalg_solve backward for Y = A^{-1} X with A = V^H (adjoint) or V: gX = A^{-H} g, gA = -gX Y^H."""
    gX = _csolve(V, g, not adjoint)
    gA = -matmul(gX, _csolve(V, X, adjoint).mH)
    return (gA.mH if adjoint else gA), gX


LinalgSolveExBackward0 = node_class("LinalgSolveExBackward0", _csolve_bw)


def _csolve(V: Tensor, X: Tensor, adjoint: bool) -> Tensor:  # noqa: N803
    """(V^H)^{-1} X or V^{-1} X for complex V, differentiable to any order (the engine's linalg.solve takes real
    matrices only)."""
    a = V._data.swapaxes(-1, -2).conj() if adjoint else V._data
    r = V._dev.xp.linalg.solve(a, X._data)
    vers = ((V._vc, V._vc[0]), (X._vc, X._vc[0]), None)
    return record(LinalgSolveExBackward0, r, V._dev, (V, X), (V, X, adjoint), vers)


def _eig_backward(gL: Any, gV: Any, L: Tensor, V: Tensor) -> Tensor:  # noqa: N803
    """torch's linalg_eig_backward, general case: gA = V^{-H} (diag(gL) + (V^H gV - V^H V diag(re(V^H gV))) / E*) V^H,
    E*_ij = conj(L_j - L_i) off the diagonal."""
    Vh = V.mH
    if gV is None:
        return _csolve(V, gL.unsqueeze(-1) * Vh, True)
    VhgV = matmul(Vh, gV)
    diag = VhgV.diagonal(0, -2, -1)
    if not bool(diag.imag.abs().le(1e-2).all()):  # (torch's allclose(imag, 0, 1e-2, 1e-2))
        raise RuntimeError(_PHASE_MSG)
    n = L._data.shape[-1]
    eye = wrap(L._dev.xp.eye(n, dtype=L._data.dtype), L._dev)
    Lc = L.conj()
    E = Lc.unsqueeze(-2) - Lc.unsqueeze(-1) + eye  # (1 on the diagonal, which gL or 0 replaces below)
    ret = (VhgV - matmul(Vh, V * diag.real.unsqueeze(-2))) / E
    ret = ret * (1 - eye)
    if gL is not None:
        ret = ret + diag_embed(gL)
    return _csolve(V, matmul(ret, Vh), True)


def _eig_bw(self: Any, g: Tensor, L: Tensor, V: Tensor, real: bool) -> tuple:  # noqa: N803
    gL, gV = _grads(self, g, 2)
    gA = _eig_backward(gL, gV, L, V)
    return (gA.real if real else gA,)  # (a real input's gradient is the real part: torch's handle_r_to_c)


LinalgEigBackward0 = _multi_class("LinalgEigBackward0", _eig_bw)


# ---- functions -----------------------------------------------------------------------------------------------
def _eig(A: Tensor, cdt: Any) -> list:  # noqa: N803
    if A._data.size and not bool(np.isfinite(np.asarray(host(A._data))).all()):
        raise RuntimeError("torch.linalg.eig: input tensor should not contain infs or NaNs.")
    L, V = _geev(A, True, cdt)
    return _record_multi(LinalgEigBackward0, [L, V], A._dev, (A,), extra=(A._data.dtype.kind == "f",))


def eig(A: Tensor, *, out: Any = None) -> Any:  # noqa: N803
    """torch.linalg.eig(A): (eigenvalues, eigenvectors) of the square matrices in A's last two dims, complex."""
    r = linalg_eig_type(*_eig(A, _checks(A, "eig")))
    if out is not None:
        from engine.ops.inplace import write_out

        return linalg_eig_type(*(write_out(o, x) for o, x in zip(out, r)))
    return r


def eigvals(A: Tensor, *, out: Any = None) -> Tensor:  # noqa: N803
    """torch.linalg.eigvals(A): eig's eigenvalues (the eigenvectors computed only when a gradient may need them)."""
    cdt = _checks(A, "eigvals")
    if ENABLED[0] and A._rg:
        return _out(out, _eig(A, cdt)[0])
    return _out(out, wrap(_geev(A, False, cdt)[0], A._dev))


LINALG = {"eig": eig, "eigvals": eigvals}
TORCH: dict = {}
METHODS: dict = {}
