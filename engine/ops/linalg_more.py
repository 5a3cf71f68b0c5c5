"""torch's linear algebra beyond the products of linalg.py: determinants and inverses (det, logdet, slogdet, inverse,
matrix_power), torch.linalg's solvers and decompositions (solve, cholesky, their _ex forms and inv_ex, qr, eigh, svd,
pinv, lstsq), matrix norms, and the fused or chained products addmv, addr, baddbmm, addbmm, vdot, tensordot, multi_dot
and chain_matmul.

The factorizations run in MKL's LAPACK on the cpu where MKL 2024.2 is installed, with the routines and arguments of
torch's cpu build (engine/ops/mkl_lapack.py: its bits, but for the shapes where torch's threaded MKL takes another
path than the sequential library), else in the array library (numpy's LAPACK, cupy's cuSOLVER on a GPU). Each
differentiable result gets the node torch reports (LinalgDetBackward0, LinalgSvdBackward0, ...), whose backward is
torch's formula (torch/csrc/autograd/FunctionsManual.cpp) written in engine ops, so create_graph=True differentiates
it again (a plain backward solves with the forward's MKL factorization where torch's formula does). A
decomposition with several differentiable outputs (slogdet, qr, eigh, svd, lstsq) gives each output its own node of
the op's class: torch's formulas are linear in the outputs' gradients, so the per-output gradients add up to torch's.
A singular or non-positive-definite input raises torch's _LinAlgError with the index LAPACK reports, found by LAPACK's
unblocked LU (or Cholesky) of engine/ops/lapack.py, run only once the library has failed; the _ex forms return that
info, and the factor or solution LAPACK leaves behind, instead of raising.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from engine.amp.policy import policy as autocast_policy
from engine.autograd import save_out
from engine.backend import host
from engine.bf16 import whole
from engine.grad_mode import ENABLED
from engine.multi_output import MultiNode, grads_by_position, multi_class, share
from engine.naming import TorchNamed, result_type, type_name
from engine.ops import lapack, mkl, mkl_lapack
from engine.ops.complex import cj
from engine.ops.diagonal import diag_embed, diagonal
from engine.ops.index import _bcast_msg, cat
from engine.ops.linalg import addmm_dtypes, bmm, dot, matmul, mm, mv, outer
from engine.ops.reduce import vector_norm
from engine.ops.util import NoGrad, node_class, norm_dim, norm_dims, record, same_device
from engine.tensor import Tensor, wrap
from engine.warn import warn_once


# ---- errors and result types ---------------------------------------------------------------------------------
class _LinAlgError(RuntimeError, metaclass=TorchNamed):
    """torch.linalg.LinAlgError (torch._C._LinAlgError): the RuntimeError torch raises for a singular matrix or one
    that is not positive-definite; `type_name(e)` reads as torch's."""

    _torch_name = "torch._C._LinAlgError"


slogdet_type = result_type("slogdet", "sign", "logabsdet")
linalg_slogdet_type = result_type("linalg_slogdet", "sign", "logabsdet")
linalg_qr_type = result_type("linalg_qr", "Q", "R")
linalg_eigh_type = result_type("linalg_eigh", "eigenvalues", "eigenvectors")
linalg_svd_type = result_type("linalg_svd", "U", "S", "Vh")
linalg_lstsq_type = result_type("linalg_lstsq", "solution", "residuals", "rank", "singular_values")
linalg_inv_ex_type = result_type("linalg_inv_ex", "inverse", "info")
linalg_solve_ex_type = result_type("linalg_solve_ex", "result", "info")
linalg_cholesky_ex_type = result_type("linalg_cholesky_ex", "L", "info")
RETURN_TYPES = {
    t._name: t
    for t in (
        slogdet_type,
        linalg_slogdet_type,
        linalg_qr_type,
        linalg_eigh_type,
        linalg_svd_type,
        linalg_lstsq_type,
        linalg_inv_ex_type,
        linalg_solve_ex_type,
        linalg_cholesky_ex_type,
    )
}


# ---- argument checks, in the order torch makes them -----------------------------------------------------------
def _tensor(x: Any, fn: str, name: str, pos: int) -> None:
    if not isinstance(x, Tensor):
        raise TypeError(f"{fn}(): argument '{name}' (position {pos}) must be Tensor, not {type_name(x)}")


def _at_least_2d(t: Tensor, fn: str, name: str = "A") -> None:
    if t._data.ndim < 2:
        raise RuntimeError(f"{fn}: The input tensor {name} must have at least 2 dimensions.")


def _square(t: Tensor, fn: str, name: str = "A") -> None:
    _at_least_2d(t, fn, name)
    m, n = t._data.shape[-2:]
    if m != n:
        raise RuntimeError(f"{fn}: {name} must be batches of square matrices, but they are {m} by {n} matrices")


def _floating(t: Tensor, fn: str, half: str | None = None) -> None:
    """torch's checkFloatingOrComplex; half: what float16 gets, "low" for the check's own low-precision error, a
    kernel name for the dispatch's NotImplementedError, None where float16 is computed."""
    dt = t._data.dtype
    if dt.kind == "c":  # (a scope note, not torch's text: torch computes these)
        raise NotImplementedError(f"{fn}: complex matrices are not covered by tcli's engine")
    if dt.kind != "f":
        raise RuntimeError(f"{fn}: Expected a floating point or complex tensor as input. Got {t.dtype.scalar_name()}")
    if dt == np.float16 and half is not None:
        if half == "low":
            raise RuntimeError(f"{fn}: Low precision dtypes not supported. Got Half")
        raise NotImplementedError(f"\"{half}\" not implemented for 'Half'")


def _out(out: Any, r: Tensor) -> Tensor:
    if out is None:
        return r
    from engine.ops.inplace import write_out

    return write_out(out, r)


# ---- arrays ------------------------------------------------------------------------------------------------
def _mT(a: Any) -> Any:  # noqa: N802
    return a.swapaxes(-1, -2)


def _on_device(t: Tensor) -> bool:
    return type(t._data) is not np.ndarray


def _lapack(t: Tensor, fn: Any) -> Any:
    """fn(xp, array) in t's library. An empty input goes through numpy (cuSOLVER refuses size 0; the shapes and
    the few values, an identity U of an (m, 0) SVD, are numpy's), its results moved to the device."""
    d = t._data
    if d.size == 0 and _on_device(t):
        r = fn(np, np.zeros(d.shape, d.dtype))
        xp = t._dev.xp
        return tuple(xp.asarray(x) for x in r) if isinstance(r, tuple) else xp.asarray(r)
    r = fn(t._dev.xp, d)
    return tuple(r) if isinstance(r, tuple) else r  # (numpy's SVDResult & co as plain tuples)


def _mkl(t: Tensor, finite: bool = False) -> bool:
    """Whether t's factorization runs in MKL's LAPACK as torch's cpu build does (engine/ops/mkl_lapack.py): a
    non-empty float32/float64 cpu array with MKL 2024.2 loaded (and every entry finite where `finite`: the other
    path reports LAPACK's errors)."""
    d = t._data
    return type(d) is np.ndarray and d.size > 0 and mkl_lapack.available(d.dtype) and (not finite or _finite(d))


def _finite(a: Any) -> bool:
    """Every entry finite; a device array is read back once."""
    if a.size == 0:
        return True
    if isinstance(a, np.ndarray):
        return bool(np.isfinite(a).all())
    import cupy

    return bool(cupy.isfinite(a).all())


def _eye(n: int, like: Tensor) -> Tensor:
    return wrap(like._dev.xp.eye(n, dtype=like._data.dtype), like._dev)


def _first_info(info: Any) -> tuple | None:
    """(batch element, info) of the first failed matrix of a batch's LAPACK info, None where none failed."""
    flat = np.asarray(host(info)).reshape(-1)
    bad = np.flatnonzero(flat)
    return (int(bad[0]), int(flat[bad[0]])) if bad.size else None


def _trusted(a: Any, r: Any) -> bool:
    """Whether a device solver's answer r for matrices a can stand without LAPACK's pivot check. cuSOLVER reports
    no singular matrix, and its rounding can leave a tiny pivot where LAPACK's LU meets an exact zero: the answer
    is then finite but of size ~1/eps. Finite answers far below that skip the host check (one read-back, where
    torch's cuda inverse synchronises to check its info too)."""
    if a.size == 0 or r.size == 0:
        return True
    import cupy

    eps = float(np.finfo(r.dtype).eps)
    big = cupy.abs(r).max() * cupy.abs(a).max() * (eps * a.shape[-1])
    return bool(big < 1e-3)  # (nan and inf compare False)


def _linalg_error(fn: str, batched: bool, hit: tuple, msg: str) -> _LinAlgError:
    where = f"(Batch element {hit[0]}): " if batched else ""
    return _LinAlgError(f"{fn}: {where}{msg}")


def _inv_info(A: Tensor) -> tuple:  # noqa: N803
    """(inverses, LAPACK's info) of a batch: the library's inverse, or where it fails (or a device's answer is not
    to be trusted) getrf and getrs, whose inf and nan for a singular matrix are torch's garbage too."""
    d = A._data
    xp = A._dev.xp
    if _mkl(A):  # torch's linalg_inv_ex: linalg_solve_ex(A, I), getrf and getrs
        lu, piv, info = mkl_lapack.getrf(d)
        return mkl_lapack.getrs(lu, piv, np.broadcast_to(np.eye(d.shape[-1], dtype=d.dtype), d.shape), False), info
    try:
        r = _lapack(A, lambda xp_, a: xp_.linalg.inv(a))
    except np.linalg.LinAlgError:  # (numpy's, which cupy raises too)
        r = None
    if r is not None and not (_on_device(A) and not _trusted(d, r)):  # cuSOLVER does not report a singular matrix
        return lapack.colmajor(xp, r.astype(d.dtype, copy=False)), xp.zeros(d.shape[:-2], dtype=np.int32)
    lu, piv, info = lapack.getrf(xp, d)
    eye = xp.broadcast_to(xp.eye(d.shape[-1], dtype=d.dtype), d.shape)
    return lapack.getrs(xp, lu, piv, eye), info


def _singular_inverse(fn: str, batched: bool, info: Any) -> None:
    hit = _first_info(info)
    if hit is not None:
        raise _linalg_error(
            fn,
            batched,
            hit,
            f"The diagonal element {hit[1]} is zero, the inversion could not be completed because the input matrix "
            "is singular.",
        )


def _inv_array(A: Tensor, fn: str = "linalg.inv") -> Any:  # noqa: N803
    r, info = _inv_info(A)
    _singular_inverse(fn, A._data.ndim > 2, info)
    return r


def _inv_quiet(d: Any, xp: Any) -> Any:
    """The inverses of a batch, nan for the singular matrices (a plain backward's A^-1 where torch divides by a
    zero pivot)."""
    try:
        return xp.linalg.inv(d)
    except np.linalg.LinAlgError:
        pass
    n = d.shape[-1]
    flat = d.reshape(-1, n, n)
    out = xp.full(flat.shape, np.nan, dtype=d.dtype)
    for i in range(flat.shape[0]):
        try:
            out[i] = xp.linalg.inv(flat[i])
        except np.linalg.LinAlgError:
            pass
    return out.reshape(d.shape)


# ---- graph recording -------------------------------------------------------------------------------------------
_SELF = object()  # in saved items: the op's own output


def _record(cls: type, arr: Any, dev: Any, inputs: tuple, items: tuple = (), meta: Any = None) -> Tensor:
    """record() for ops whose backward reads their own output (_SELF in items): kept as torch keeps a saved
    result, re-wrapped with this node as grad_fn on unpack (no reference cycle, second order flows through it)."""
    t = record(cls, arr, dev, inputs)
    node = t.grad_fn
    if node is not None:
        vals, vers = [], []
        for s in items:
            if s is _SELF:
                o, v = save_out(node, t)
                vals.append(o)
                vers.append(v)
            else:
                vals.append(s)
                vers.append((s._vc, s._vc[0]) if isinstance(s, Tensor) else None)
        node._saved = tuple(vals)
        node._vers = tuple(vers)
        if meta is not None:
            node._meta = meta
    return t


_MultiNode = MultiNode
_multi_class = multi_class
_grads = grads_by_position


def _record_multi(
    cls: type, arrays: list, dev: Any, inputs: tuple, keep: tuple = (), extra: tuple = (), diff: tuple | None = None,
    meta: Any = None,
) -> list:  # fmt: skip
    """Wrap a decomposition's outputs; with grad, the differentiable ones share one `cls` node whose backward
    receives (g, *keep, *outputs, *extra), g the Grads of the outputs that got one (see `_grads`)."""
    xp = dev.xp
    ts = [wrap(a if hasattr(a, "__array_interface__") or hasattr(a, "__cuda_array_interface__") else xp.asarray(a), dev)
          for a in arrays]  # fmt: skip
    if ENABLED[0] and any(isinstance(i, Tensor) and i._rg for i in inputs):
        share(cls, ts, inputs, keep, extra, diff, meta)
    return ts


# ---- det / slogdet / logdet ------------------------------------------------------------------------------------
def _prod_safe_zeros_backward(grad: Tensor, inp: Tensor) -> Tensor:
    """torch's prod_safe_zeros_backward over the last dim: grad times the product of the other entries."""
    n = inp._data.shape[-1]
    if inp._data.size == 0:
        return grad.expand_as(inp)
    ones = wrap(inp._dev.xp.ones(inp._data.shape[:-1] + (1,), dtype=inp._data.dtype), inp._dev)
    normal = cat([ones, inp.narrow(-1, 0, n - 1)], -1).cumprod(-1)
    reverse = cat([ones, inp.narrow(-1, 1, n - 1).flip(-1)], -1).cumprod(-1).flip(-1)
    return grad * (normal * reverse)


def _det_singular_grad(A: Tensor, g: Tensor) -> Tensor:  # noqa: N803
    """The adjugate through the SVD (torch's singular_case_backward), right for singular matrices as well."""
    U, S, Vh = svd(A)
    alpha = linalg_det(U) * linalg_det(Vh) * g
    D = _prod_safe_zeros_backward(alpha.unsqueeze(-1), S)
    return matmul(U * D.unsqueeze(-2), Vh)


def _det_bw(self: Any, g: Tensor, A: Tensor, det: Tensor) -> tuple:  # noqa: N803
    ad = A._data
    if ad.size == 0:
        return (wrap(A._dev.xp.zeros(ad.shape, dtype=ad.dtype), A._dev),)
    n = ad.shape[-1]
    if not ENABLED[0] and _mkl(A):
        return (wrap(_lu_solve_diag(A, g._data * det._data), g._dev),)
    if not ENABLED[0]:
        # det * A^-T; torch perturbs a zero pivot by eps, where det (and so the gradient) is 0
        xp = A._dev.xp
        dd = det._data
        flat, nz = ad.reshape(-1, n, n), (dd != 0).reshape(-1)
        inv = xp.zeros_like(flat)
        if bool(nz.all()):
            inv = _inv_quiet(flat, xp)
        elif bool(nz.any()):
            inv[nz] = _inv_quiet(flat[nz], xp)
        r = _mT(inv.reshape(ad.shape)) * (g._data * dd)[..., None, None]
        return (wrap(r.astype(ad.dtype, copy=False), g._dev),)
    # create_graph: torch solves A^T X = det * g * I, differentiably, or takes the SVD adjugate near singularity
    eps = float(np.finfo(ad.dtype).eps)
    if bool((abs(det._data) < 100.0 * eps).any()):
        return (_det_singular_grad(A, g),)
    d = (g * det).unsqueeze(-1).unsqueeze(-1) * _eye(n, A)
    return (solve(A.mT, d),)


LinalgDetBackward0 = node_class("LinalgDetBackward0", _det_bw)


def _lu_diag(A: Tensor) -> tuple:  # noqa: N803
    """(U's diagonal as a Tensor, det(P) as an array) of torch's getrf for det and slogdet: the factorization of
    A^T where A is contiguous (torch's shortcut, which saves lu_factor a column-major copy), of A otherwise."""
    d = A._data
    lu, piv, _ = mkl_lapack.getrf(_mT(d) if d.flags.c_contiguous else d)
    n = piv.shape[-1]
    swaps = (np.arange(1, n + 1, dtype=np.int32) != piv).sum(-1) % 2
    return wrap(np.diagonal(lu, 0, -2, -1), A._dev), (1 - 2 * swaps).astype(d.dtype)


def _lu_solve_diag(A: Tensor, s: Any, perturb: bool = True) -> Any:  # noqa: N803
    """A^-T diag(s) as torch's det and slogdet backward solve it: lu_solve with the forward's factorization (of A^T
    for a contiguous A, then adjoint=False), a zero pivot replaced by eps for det's (`perturb`)."""
    d = A._data
    use_t = d.flags.c_contiguous
    lu, piv, _ = mkl_lapack.getrf(_mT(d) if use_t else d)
    n = d.shape[-1]
    if perturb:
        lu = lu.copy()
        diag = np.diagonal(lu, 0, -2, -1)
        idx = np.arange(n)
        lu[..., idx, idx] = np.where(diag == 0, np.finfo(d.dtype).eps, diag)
    rhs = (np.asarray(s, dtype=d.dtype)[..., None, None] * np.eye(n, dtype=d.dtype)).astype(d.dtype)
    return mkl_lapack.getrs(lu, piv, np.broadcast_to(rhs, d.shape), not use_t)


def _det(A: Tensor) -> Tensor:  # noqa: N803
    _square(A, "linalg.det")
    _floating(A, "linalg.det", half="lu_cpu")
    d = A._data
    if _mkl(A):  # torch's: det(P) * prod(diag(U))
        with NoGrad():
            diag, p = _lu_diag(A)
            r = np.asarray(p * diag.prod(-1)._data, dtype=d.dtype)
        return _record(LinalgDetBackward0, r, A._dev, (A,), (A, _SELF))
    r = _lapack(A, lambda xp, a: xp.linalg.det(a))
    r = A._dev.xp.asarray(r).astype(d.dtype, copy=False)
    return _record(LinalgDetBackward0, r, A._dev, (A,), (A, _SELF))


def det(input: Tensor) -> Tensor:  # noqa: A002
    _tensor(input, "det", "input", 1)
    return _det(input)


def linalg_det(A: Tensor, *, out: Any = None) -> Tensor:  # noqa: N803
    _tensor(A, "linalg_det", "A", 1)
    return _out(out, _det(A))


def _g_inv_t(A: Tensor, g: Tensor) -> Tensor:  # noqa: N803
    """g * A^-T per matrix (slogdet's gradient): a plain backward inverts the arrays, a recorded one solves
    A^T X = g I in engine ops, as torch recomputes the factorization so that the graph reaches A."""
    if not ENABLED[0] and _mkl(A):
        return wrap(_lu_solve_diag(A, g._data, False), g._dev)
    if not ENABLED[0]:
        inv = _inv_quiet(A._data, A._dev.xp)
        return wrap((_mT(inv) * g._data[..., None, None]).astype(A._data.dtype, copy=False), g._dev)
    return solve(A.mT, g.unsqueeze(-1).unsqueeze(-1) * _eye(A._data.shape[-1], A))


def _slogdet_bw(self: Any, g: Any, A: Tensor, sign: Tensor, logabsdet: Tensor) -> tuple:  # noqa: N803
    g = _grads(self, g, 2)[1]
    if g is None:  # a real sign has no gradient (torch's slogdet_backward ignores it)
        return (None,)
    if A._data.size == 0:
        return (wrap(A._dev.xp.zeros(A._data.shape, dtype=A._data.dtype), A._dev),)
    return (_g_inv_t(A, g),)


LinalgSlogdetBackward0 = _multi_class("LinalgSlogdetBackward0", _slogdet_bw)


def _slogdet(A: Tensor, fn: str, rtype: type) -> Any:  # noqa: N803
    _square(A, fn)
    _floating(A, fn, half="low")
    d = A._data
    if _mkl(A):  # torch's: sign = prod(sgn(diag(U))) * det(P), logabsdet = sum(log(abs(diag(U))))
        with NoGrad():
            diag, p = _lu_diag(A)
            sign = diag.sign().prod(-1)._data * p
            logabs = diag.abs().log().sum(-1)._data
    else:
        sign, logabs = _lapack(A, lambda xp, a: tuple(xp.linalg.slogdet(a)))
    xp = A._dev.xp
    sign = xp.asarray(sign).astype(d.dtype, copy=False)
    logabs = xp.asarray(logabs).astype(d.dtype, copy=False)
    return rtype(*_record_multi(LinalgSlogdetBackward0, [sign, logabs], A._dev, (A,), keep=(A,)))


def slogdet(input: Tensor) -> Any:  # noqa: A002
    _tensor(input, "slogdet", "input", 1)
    return _slogdet(input, "linalg.slogdet", slogdet_type)


def linalg_slogdet(A: Tensor) -> Any:  # noqa: N803
    _tensor(A, "linalg_slogdet", "A", 1)
    return _slogdet(A, "linalg.slogdet", linalg_slogdet_type)


def logdet(input: Tensor) -> Tensor:  # noqa: A002
    """torch's composite: slogdet's logabsdet, nan where the determinant is negative (WhereBackward0 on top)."""
    from engine.ops.elementwise import where

    _tensor(input, "logdet", "input", 1)
    _square(input, "logdet")
    _floating(input, "logdet", half="low")
    sign, logabs = _slogdet(input, "linalg.slogdet", linalg_slogdet_type)
    return where(sign == -1.0, math.nan, logabs)


# ---- inverse / solve -------------------------------------------------------------------------------------------
def _inv_bw(self: Any, g: Tensor, inv: Tensor) -> tuple:
    it = inv.mT
    return (-matmul(it, matmul(g, it)),)


LinalgInvExBackward0 = node_class("LinalgInvExBackward0", _inv_bw)


def _inv(A: Tensor) -> Tensor:  # noqa: N803
    return _inv_ex(A, "linalg.inv")[0]


@autocast_policy(cpu="fp32")
def _inv_ex(A: Tensor, check: str | None) -> tuple:  # noqa: N803
    """(inverse, info); a singular matrix raises torch's error naming `check`, if given."""
    _square(A, "linalg.inv")
    _floating(A, "linalg.inv", half="low")
    r, info = _inv_info(A)
    if check is not None:
        _singular_inverse(check, A._data.ndim > 2, info)
    return _record(LinalgInvExBackward0, r, A._dev, (A,), (_SELF,)), wrap(info, A._dev)


@autocast_policy(cpu="fp32")
def inv_ex(A: Tensor, *, check_errors: bool = False, out: Any = None) -> Any:  # noqa: N803
    _tensor(A, "linalg_inv_ex", "A", 1)
    return _out_tuple(out, linalg_inv_ex_type(*_inv_ex(A, "linalg.inv_ex" if check_errors else None)))


def _out_tuple(out: Any, r: Any) -> Any:
    """A result tuple, or its tensors written into out's (a tuple or list of tensors) and out's returned."""
    if out is None:
        return r
    from engine.ops.inplace import write_out

    return type(r)(*(write_out(o, x) for o, x in zip(out, r)))


def linalg_inv(A: Tensor, *, out: Any = None) -> Tensor:  # noqa: N803
    _tensor(A, "linalg_inv", "A", 1)
    return _out(out, _inv(A))


@autocast_policy(cpu="fp32")
def inverse(input: Tensor, *, out: Any = None) -> Tensor:  # noqa: A002
    _tensor(input, "inverse", "input", 1)
    return _out(out, _inv(input))


def _is_vector_rhs(A: Tensor, B: Tensor) -> bool:  # noqa: N803
    """torch's linalg_solve_is_vector_rhs: B is a vector (or a batch of them) rather than a matrix."""
    sa, sb = A._data.shape, B._data.shape
    return len(sb) == 1 or (len(sa) >= 1 and len(sa) - 1 == len(sb) and sb == sa[:-1])


def _solve_bw(self: Any, g: Tensor, A: Tensor, X: Tensor, left: bool, vec: bool) -> tuple:  # noqa: N803
    """torch's linalg_solve_backward: gB solves the adjoint system, gA = -gB X^T (left) or -X^T gB."""
    n = self._next
    gX = g.unsqueeze(-1) if vec else g
    if not ENABLED[0] and _mkl(A) and gX._data.dtype == A._data.dtype and gX._data.size:
        # torch's linalg_lu_solve(LU, pivots, gX, left, adjoint=True) with the forward's LU: getrs 'T'
        ad, gd = A._data, np.asarray(gX._data)
        batch = np.broadcast_shapes(ad.shape[:-2], gd.shape[:-2])
        lu, piv, _ = mkl_lapack.getrf(ad)
        lu = np.broadcast_to(lu, batch + ad.shape[-2:])
        piv = np.broadcast_to(piv, batch + piv.shape[-1:])
        gd = np.broadcast_to(gd, batch + gd.shape[-2:])
        r = mkl_lapack.getrs(lu, piv, gd, True) if left else _mT(mkl_lapack.getrs(lu, piv, _mT(gd), False))
        gB = wrap(r, A._dev)
    else:
        gB = solve(A.mT, gX, left=left)
    gA = None
    if n[0] is not None:
        Xm = X.unsqueeze(-1) if vec else X
        gA = -matmul(gB, Xm.mT) if left else -matmul(Xm.mT, gB)
    if n[1] is None:
        return gA, None
    return gA, (gB.squeeze(-1) if vec else gB)


LinalgSolveExBackward0 = node_class("LinalgSolveExBackward0", _solve_bw)


@autocast_policy(cpu="fp32")
def solve(A: Tensor, B: Tensor, *, left: bool = True, out: Any = None) -> Tensor:  # noqa: N803
    _tensor(A, "linalg_solve", "A", 1)
    _tensor(B, "linalg_solve", "B", 2)
    return _out(out, _solve_ex(A, B, left, "torch.linalg.solve")[0])


def solve_ex(A: Tensor, B: Tensor, *, left: bool = True, check_errors: bool = False, out: Any = None) -> Any:  # noqa: N803
    _tensor(A, "linalg_solve_ex", "A", 1)
    _tensor(B, "linalg_solve_ex", "B", 2)
    r = _solve_ex(A, B, left, "torch.linalg.solve_ex" if check_errors else None)
    return _out_tuple(out, linalg_solve_ex_type(*r))


def _solve_ex(A: Tensor, B: Tensor, left: bool, check: str | None) -> tuple:  # noqa: N803
    """(X, info) with info A's LAPACK info (its batch shape); a singular A raises torch's error naming `check`."""
    _floating(A, "linalg.solve")
    if A.dtype is not B.dtype:
        raise RuntimeError(
            f"linalg.solve: Expected A and B to have the same dtype, but found A of type {A.dtype.scalar_name()} and "
            f"B of type {B.dtype.scalar_name()} instead"
        )
    same_device((A, B))
    ad, bd = A._data, B._data
    vec = _is_vector_rhs(A, B)
    bm = bd[..., None] if vec else bd
    _square(A, "linalg.solve")
    if bm.ndim < 2:
        raise RuntimeError("linalg.solve: The input tensor B must have at least 2 dimensions.")
    if (ad.shape[-2] != bm.shape[-2]) if left else (ad.shape[-1] != bm.shape[-1]):
        raise RuntimeError(
            f"linalg.solve: Incompatible shapes of A and B for the equation {'AX = B' if left else 'XA = B'} "
            f"({ad.shape[-2]}x{ad.shape[-1]} and {bm.shape[-2]}x{bm.shape[-1]})"
        )
    try:
        batch = np.broadcast_shapes(bm.shape[:-2], ad.shape[:-2])
    except ValueError:
        raise RuntimeError(_bcast_msg(bm.shape[:-2], ad.shape[:-2])) from None
    if not left and vec:
        raise RuntimeError(
            "linalg.solve: Vector broadcasting of the left hand side is not supported for left=False. In this case "
            "linalg.solve is equivalent to B / A.squeeze(-1)"
        )
    _floating(A, "linalg.solve", half="lu_cpu")
    xp = A._dev.xp
    a = xp.broadcast_to(ad, batch + ad.shape[-2:])
    b = xp.broadcast_to(bm, batch + bm.shape[-2:])
    x = None
    info = xp.zeros(ad.shape[:-2], dtype=np.int32)
    exact = a.size != 0 and b.size != 0 and _mkl(A)
    if a.size == 0 or b.size == 0:
        x = xp.zeros(b.shape, dtype=ad.dtype)
    elif exact:  # torch's: getrf of A (once per A's batch), getrs of each B (X A = B as A^T X^T = B^T)
        lu, piv, info = mkl_lapack.getrf(ad)
        lu = np.broadcast_to(lu, batch + ad.shape[-2:])
        piv = np.broadcast_to(piv, batch + piv.shape[-1:])
        x = mkl_lapack.getrs(lu, piv, b, False) if left else _mT(mkl_lapack.getrs(lu, piv, _mT(b), True))
        hit = _first_info(info) if check is not None else None
        if hit is not None:
            raise _linalg_error(check, ad.ndim > 2, hit, "The solver failed because the input matrix is singular.")
    else:
        try:  # (X A = B is A^T X^T = B^T)
            x = xp.linalg.solve(a, b) if left else _mT(xp.linalg.solve(_mT(a), _mT(b)))
        except np.linalg.LinAlgError:
            pass
    if x is None or (_on_device(A) and not _trusted(a, x)):  # (cuSOLVER does not report a singular matrix)
        lu, piv, info = lapack.getrf(xp, ad)
        x = lapack.getrs(xp, lu, piv, b, left)
        hit = _first_info(info) if check is not None else None
        if hit is not None:
            raise _linalg_error(check, ad.ndim > 2, hit, "The solver failed because the input matrix is singular.")
    if vec:
        x = x[..., 0]
    x = x if exact else xp.ascontiguousarray(x.astype(ad.dtype, copy=False))  # (getrs's layout is torch's)
    meta = ((ad.shape, ad.dtype), (bd.shape, bd.dtype))
    return _record(LinalgSolveExBackward0, x, A._dev, (A, B), (A, _SELF, left, vec), meta), wrap(info, A._dev)


# ---- matrix_power ------------------------------------------------------------------------------------------------
def _matrix_power(A: Tensor, n: Any, fn: str) -> Tensor:  # noqa: N803
    if not isinstance(n, int) or isinstance(n, bool):
        raise TypeError(f"{fn}(): argument 'n' (position 2) must be int, not {type_name(n)}")
    _square(A, "linalg.matrix_power")
    if n == 0:
        # torch clones the input (so the result is in the graph) and copies the identity into it: CopyBackwards
        from engine.ops.inplace import copy_

        d = A._data
        eye = wrap(A._dev.xp.zeros(d.shape, dtype=d.dtype) + A._dev.xp.eye(d.shape[-1], dtype=d.dtype), A._dev)
        return copy_(A.clone(), eye)
    a = _inv(A) if n < 0 else A
    n = abs(n)
    if n == 1:
        return a if a is not A else A.clone()
    if n == 2:
        return matmul(a, a)
    if n == 3:
        return matmul(matmul(a, a), a)
    z = result = None
    while n > 0:  # torch's binary decomposition, in its order of products
        bit, n = n % 2, n // 2
        z = a if z is None else matmul(z, z)
        if bit:
            result = z if result is None else matmul(result, z)
    return result


def matrix_power(input: Tensor, n: Any) -> Tensor:  # noqa: A002
    _tensor(input, "matrix_power", "input", 1)
    return _matrix_power(input, n, "matrix_power")


def linalg_matrix_power(A: Tensor, n: Any, *, out: Any = None) -> Tensor:  # noqa: N803
    _tensor(A, "linalg_matrix_power", "A", 1)
    return _out(out, _matrix_power(A, n, "linalg_matrix_power"))


# ---- products: vdot, tensordot, multi_dot, chain_matmul ----------------------------------------------------------
def _vdot_bw(self: Any, g: Tensor, a: Tensor, b: Tensor) -> tuple:
    n = self._next
    return (cj(g) * b if n[0] is not None else None, g * a if n[1] is not None else None)


VdotBackward0 = node_class("VdotBackward0", _vdot_bw)


def vdot(input: Tensor, other: Tensor, *, out: Any = None) -> Tensor:  # noqa: A002
    """dot with the first operand conjugated: dot itself for real tensors, under torch's own node."""
    _tensor(input, "vdot", "input", 1)
    _tensor(other, "vdot", "other", 2)
    with NoGrad():
        r = dot(cj(input), other)  # (dot's checks and messages are vdot's)
    items = (input if other._rg else None, other if input._rg else None)
    return _out(out, _record(VdotBackward0, r._data, input._dev, (input, other), items))


def _tensordot(a: Tensor, b: Tensor, d1: list, d2: list) -> Tensor:
    """torch's tensordot kernel: size-1 contracted dims summed first, both operands permuted and reshaped to
    matrices, one mm (a dot for a one-element result), the result reshaped (ViewBackward0 on top)."""
    if len(d1) != len(d2):
        raise RuntimeError("both dimension lists should have same length")
    if a.dtype is not b.dtype:
        raise RuntimeError("both inputs should have same dtype")
    na, nb = a._data.ndim, b._data.ndim
    csize = 1
    t1, t2 = a, b
    for x, y in zip(d1, d2):
        s1 = a._data.shape[norm_dim(x, na)]
        s2 = b._data.shape[norm_dim(y, nb)]
        if s2 == 1:  # a broadcast dim is summed right away
            t1 = t1.sum(x, keepdim=True, dtype=t1.dtype)
        elif s1 == 1:
            t2 = t2.sum(y, keepdim=True, dtype=t2.dtype)
        else:
            if s1 != s2:
                raise RuntimeError(
                    f"contracted dimensions need to match, but first has size {s1} in dim {x} and second has size "
                    f"{s2} in dim {y}"
                )
            csize *= s1
    c1, c2 = set(norm_dims(d1, na)), set(norm_dims(d2, nb))
    p1, p2, rsizes = [], [], []
    size1 = size2 = 1
    for i in range(na):
        if i not in c1:
            p1.append(i)
            size1 *= t1._data.shape[i]
            rsizes.append(t1._data.shape[i])
    p1 += list(d1)
    p2 += list(d2)
    for i in range(nb):
        if i not in c2:
            p2.append(i)
            size2 *= t2._data.shape[i]
            rsizes.append(t2._data.shape[i])
    if size1 == 1 and size2 == 1:  # one element: torch takes a dot of the two flattened operands (a 1-d one as is)
        v1, v2 = t1.permute(p1), t2.permute(p2)
        v1 = v1 if v1._data.ndim == 1 else v1.reshape(csize)
        v2 = v2 if v2._data.ndim == 1 else v2.reshape(csize)
        return dot(v1, v2).reshape(tuple(rsizes))
    m1 = t1.permute(p1).reshape(size1, csize)
    m2 = t2.permute(p2).reshape(csize, size2)
    return mm(m1, m2).reshape(tuple(rsizes))


def tensordot(a: Tensor, b: Tensor, dims: Any = 2, out: Any = None) -> Tensor:
    """torch.tensordot (torch/functional.py): dims an int (the last dims of a against the first of b), a pair of
    dim lists, or a tensor of either."""
    if isinstance(dims, int) and not (isinstance(a, Tensor) and isinstance(b, Tensor)):  # (torch reads a.dim())
        from engine.ops.util import parser_type_name

        bad = a if not isinstance(a, Tensor) else b
        raise AttributeError(f"'{parser_type_name(bad)}' object has no attribute 'dim'")
    if not isinstance(dims, (tuple, list, Tensor, int)):
        raise RuntimeError(
            "tensordot expects dims to be int or tuple[list[int], list[int]] or list[list[int]] containing two "
            f"lists, but got dims={dims}"
        )
    dims_a: Any = []
    dims_b: Any = []
    if isinstance(dims, (tuple, list)):
        dims_a, dims_b = dims
    if isinstance(dims, Tensor):
        if dims.numel() > 1:
            if dims.shape[0] != 2:
                raise AssertionError(f"dims tensor must have size 2 in first dimension, got {dims.shape[0]}")
            dims_a, dims_b = dims[0].tolist(), dims[1].tolist()
        else:
            v = int(dims.item())
            if v < 0:
                raise RuntimeError(f"tensordot expects dims >= 0, but got dims={dims}")
            dims_a, dims_b = list(range(-v, 0)), list(range(v))
    if isinstance(dims, int):
        if dims < 0:
            raise RuntimeError(f"tensordot expects dims >= 0, but got dims={dims}")
        if dims > min(a._data.ndim, b._data.ndim):
            raise RuntimeError(f"tensordot expects dims < ndim_a or ndim_b, but got dims={dims}")
        dims_a, dims_b = list(range(-dims, 0)), list(range(dims))
    for name, pos, d in (("dims_self", 3, dims_a), ("dims_other", 4, dims_b)):
        if not isinstance(d, (list, tuple)):
            raise TypeError(
                f"tensordot(): argument '{name}' (position {pos}) must be tuple of ints, not {type_name(d)}"
            )
    return _out(out, _tensordot(a, b, [int(x) for x in dims_a], [int(x) for x in dims_b]))


def _chain_order(mats: list) -> list:
    """torch's matrix_chain_order (CLRS): s[i][j] is where the optimal product of mats i..j splits."""
    n = len(mats)
    p = [m._data.shape[0] for m in mats] + [mats[-1]._data.shape[1]]
    cost = [[0] * n for _ in range(n)]
    split = [[0] * n for _ in range(n)]
    for length in range(1, n):
        for i in range(n - length):
            j = i + length
            cost[i][j] = None  # type: ignore[call-overload]
            for k in range(i, j):
                q = cost[i][k] + cost[k + 1][j] + p[i] * p[k + 1] * p[j + 1]
                if cost[i][j] is None or q < cost[i][j]:
                    cost[i][j] = q
                    split[i][j] = k
    return split


def _chain(mats: list, split: list, i: int, j: int) -> Tensor:
    if i == j:
        return mats[i]
    return mm(_chain(mats, split, i, split[i][j]), _chain(mats, split, split[i][j] + 1, j))


@autocast_policy(cuda="lower")
def multi_dot(tensors: Any, *, out: Any = None) -> Tensor:
    ts = list(tensors)
    n = len(ts)
    if n < 2:
        raise RuntimeError(f"multi_dot(): expected at least 2 tensors but got {n}")
    out_shape: list = []
    first, last = ts[0], ts[-1]
    if first._data.ndim == 1:
        t0 = first.unsqueeze(0)
    elif first._data.ndim == 2:
        t0 = first
        out_shape.append(first._data.shape[0])
    else:
        raise RuntimeError(f"multi_dot(): the first tensor must be 1D or 2D but got {first._data.ndim}D")
    if last._data.ndim == 1:
        tl = last.unsqueeze(-1)
    elif last._data.ndim == 2:
        tl = last
        out_shape.append(last._data.shape[1])
    else:
        raise RuntimeError(f"multi_dot(): the last tensor must be 1D or 2D but got {last._data.ndim}D")
    for i in range(1, n - 1):
        if ts[i]._data.ndim != 2:
            raise RuntimeError(f"multi_dot(): tensor {i} must be 2D but got {ts[i]._data.ndim}D")
    mats = [t0] + ts[1:-1] + [tl]
    for i in range(1, n):
        if mats[i]._data.dtype != mats[0]._data.dtype:
            raise RuntimeError(
                f"multi_dot(): all tensors must have be the same dtype but tensor 0 is "
                f"{mats[0].dtype.name_for_error()} and tensor {i} {mats[i].dtype.name_for_error()}"
            )
        if mats[i]._dev is not mats[0]._dev:
            raise RuntimeError(
                f"multi_dot(): all tensors must be on the same device but tensor 0 is on {mats[0]._dev} and tensor "
                f"{i} on {mats[i]._dev}"
            )
        if mats[i - 1]._data.shape[-1] != mats[i]._data.shape[0]:
            raise RuntimeError(
                f"multi_dot(): tensors {i - 1} and {i} with shapes {list(ts[i - 1]._data.shape)} and "
                f"{list(ts[i]._data.shape)} cannot be multiplied"
            )
    if n == 2:
        r = mm(mats[0], mats[1])
    elif n == 3:  # torch compares the two orders directly
        a, b, c, d = mats[0]._data.shape[0], mats[1]._data.shape[0], mats[2]._data.shape[0], mats[2]._data.shape[1]
        if (a * c) * (b + d) > (b * d) * (a + c):
            r = mm(mats[0], mm(mats[1], mats[2]))
        else:
            r = mm(mm(mats[0], mats[1]), mats[2])
    else:
        r = _chain(mats, _chain_order(mats), 0, n - 1)
    return _out(out, r.reshape(tuple(out_shape)))


@autocast_policy(cuda="lower")
def chain_matmul(*matrices: Tensor, out: Any = None) -> Tensor:
    warn_once(
        "torch.chain_matmul is deprecated and will be removed in a future PyTorch release. Use "
        "torch.linalg.multi_dot instead, which accepts a list of two or more tensors rather than multiple "
        "parameters. (Triggered internally at /__w/pytorch/pytorch/aten/src/ATen/native/LinearAlgebra.cpp:1102.)"
    )
    for m in matrices:
        if m._data.ndim != 2:
            raise RuntimeError(f"Tensor dimension is {m._data.ndim}, expected 2 instead.")
    if not matrices:
        raise RuntimeError("chain_matmul(): Expected one or more matrices")
    if len(matrices) == 1:
        return _out(out, matrices[0].clone())
    return _out(out, multi_dot(matrices))


# ---- fused products: addmv, addr, baddbmm, addbmm -----------------------------------------------------------------
def _maybe_mul(t: Tensor, s: Any) -> Tensor:
    """torch's maybe_multiply: the gradient scaled by a Scalar (MulBackward1 when recorded), untouched for 1."""
    if s == 1:
        return t
    from engine.ops.elementwise import mul_scalar

    return mul_scalar(t, s)


def _int_scalars(dt: Any, *vals: Any) -> tuple:
    # an integer kernel takes alpha and beta as integers (torch's Scalar.to<int64_t>() truncates 2.5 to 2)
    return tuple(int(v) for v in vals) if dt.kind in "iu" else vals


def _node3(cls: type, r: Any, dev: Any, inputs: tuple, items: tuple, shape: tuple) -> Tensor:
    """A fused product's result with its node: the bias (inputs[0]) gets a meta record where it was broadcast or
    cast, so autograd._fit sums and casts its gradient back."""
    inp = inputs[0]
    meta = None
    if isinstance(inp, Tensor) and (inp._data.shape != shape or inp._data.dtype != r.dtype):
        meta = ((inp._data.shape, inp._data.dtype),) + tuple(
            (t._data.shape, t._data.dtype) if t._data.dtype != r.dtype else None for t in inputs[1:]
        )
    elif any(t._data.dtype != r.dtype for t in inputs[1:]):
        meta = (None,) + tuple((t._data.shape, t._data.dtype) if t._data.dtype != r.dtype else None for t in inputs[1:])
    return _record(cls, r, dev, inputs, items, meta)


def _addmv_bw(self: Any, g: Tensor, mat: Tensor, vec: Tensor, beta: Any, alpha: Any) -> tuple:
    n = self._next
    return (
        _maybe_mul(g, beta) if n[0] is not None else None,
        _maybe_mul(outer(g, vec), alpha) if n[1] is not None else None,
        _maybe_mul(mv(mat.t(), g), alpha) if n[2] is not None else None,
    )


AddmvBackward0 = node_class("AddmvBackward0", _addmv_bw)


@autocast_policy(cuda="lower")
@whole
def addmv(input: Tensor, mat: Tensor, vec: Tensor, *, beta: Any = 1, alpha: Any = 1, out: Any = None) -> Tensor:  # noqa: A002
    """beta * input + alpha * (mat @ vec) as one node (torch's AddmvBackward0)."""
    for name, t, pos in (("input", input, 1), ("mat", mat, 2), ("vec", vec, 3)):
        _tensor(t, "addmv", name, pos)
    same_device((input, mat, vec))
    di, dm, dv = input._data, mat._data, vec._data
    if not (dm.ndim == 2 and dv.ndim == 1 and di.ndim <= 1):
        raise RuntimeError(f"vector + matrix @ vector expected, got {di.ndim}, {dm.ndim}, {dv.ndim}")
    if dm.shape[1] != dv.shape[0] or not (dm.shape[0] == di.size or di.size == 1):
        if di.ndim == 0:
            raise IndexError("Dimension specified as 0 but tensor has no dimensions")
        raise RuntimeError(
            f"size mismatch, got input ({di.shape[0]}), mat ({dm.shape[0]}x{dm.shape[1]}), vec ({dv.shape[0]})"
        )
    if not (di.dtype == dm.dtype == dv.dtype):
        raise RuntimeError(
            f"addmv input tensors must have the same dtype, but got {input.dtype.scalar_name()}, "
            f"{mat.dtype.scalar_name()}, and {vec.dtype.scalar_name()}"
        )
    if dm.dtype.kind == "b":
        raise NotImplementedError("\"addmv_impl_cpu\" not implemented for 'Bool'")
    beta, alpha = _int_scalars(dm.dtype, beta, alpha)
    r = dm @ dv
    if alpha != 1:
        r = r * alpha
    if beta != 0:  # (beta=0 ignores input, nan and inf included)
        r = r + (di if beta == 1 else di * beta)
    r = r.astype(dm.dtype, copy=False)
    items = (mat if vec._rg else None, vec if mat._rg else None, beta, alpha)
    return _out(out, _node3(AddmvBackward0, r, mat._dev, (input, mat, vec), items, r.shape))


def _addr_bw(self: Any, g: Tensor, v1: Tensor, v2: Tensor, beta: Any, alpha: Any) -> tuple:
    n = self._next
    return (
        _maybe_mul(g, beta) if n[0] is not None else None,
        _maybe_mul(mv(g, v2), alpha) if n[1] is not None else None,
        _maybe_mul(mv(g.t(), v1), alpha) if n[2] is not None else None,
    )


AddrBackward0 = node_class("AddrBackward0", _addr_bw)


@autocast_policy(cuda="lower")
@whole
def addr(input: Tensor, vec1: Tensor, vec2: Tensor, *, beta: Any = 1, alpha: Any = 1, out: Any = None) -> Tensor:  # noqa: A002
    """beta * input + alpha * outer(vec1, vec2), in the operands' promoted dtype (torch's AddrBackward0)."""
    from engine.dtypes import promote_types
    from engine.ops.shape import expand

    for name, t, pos in (("input", input, 1), ("vec1", vec1, 2), ("vec2", vec2, 3)):
        _tensor(t, "addr", name, pos)
    same_device((input, vec1, vec2))
    for name, t in (("vec1", vec1), ("vec2", vec2)):
        if t._data.ndim != 1:
            raise RuntimeError(f"addr: Expected 1-D argument {name}, but got {t._data.ndim}-D")
    dt = promote_types(promote_types(input.dtype, vec1.dtype), vec2.dtype).np
    if dt.kind in "iub":
        for name, v in (("beta", beta), ("alpha", alpha)):
            if isinstance(v, float):
                raise RuntimeError(f"For integral input tensors, argument {name} must not be a floating point number.")
    shape = (vec1._data.shape[0], vec2._data.shape[0])
    with NoGrad():
        di = expand(input, shape)._data  # (torch's expand error for a bias that does not fit)
    xp = input._dev.xp
    a, b, di = vec1._data.astype(dt, copy=False), vec2._data.astype(dt, copy=False), di.astype(dt, copy=False)
    if dt.kind == "b":  # (beta && input) || (alpha && vec1 (x) vec2)
        r = xp.logical_and(a[:, None], b[None, :]) if alpha else xp.zeros(shape, dtype=bool)
        r = xp.logical_or(r, di) if beta else r
    else:
        r = a[:, None] * b[None, :]
        if alpha != 1:
            r = r * alpha
        if beta != 0:
            r = r + (di if beta == 1 else di * beta)
        r = r.astype(dt, copy=False)
    items = (vec1 if vec2._rg else None, vec2 if vec1._rg else None, beta, alpha)
    return _out(out, _node3(AddrBackward0, xp.ascontiguousarray(r), input._dev, (input, vec1, vec2), items, shape))


def _baddbmm_bw(self: Any, g: Tensor, b1: Tensor, b2: Tensor, beta: Any, alpha: Any) -> tuple:
    n = self._next
    return (
        _maybe_mul(g, beta) if n[0] is not None else None,
        _maybe_mul(bmm(g, b2.transpose(1, 2)), alpha) if n[1] is not None else None,
        _maybe_mul(bmm(b1.transpose(1, 2), g), alpha) if n[2] is not None else None,
    )


BaddbmmBackward0 = node_class("BaddbmmBackward0", _baddbmm_bw)


def _expand_bias(input: Tensor, shape: tuple) -> Any:  # noqa: A002
    from engine.ops.shape import expand

    with NoGrad():
        return expand(input, shape)._data


@autocast_policy(cpu="lower", cuda="lower")
@whole
def baddbmm(input: Tensor, batch1: Tensor, batch2: Tensor, *, beta: Any = 1, alpha: Any = 1, out: Any = None) -> Tensor:  # noqa: A002, E501
    """beta * input + alpha * (batch1 @ batch2) per batch (torch's BaddbmmBackward0)."""
    for name, t, pos in (("input", input, 1), ("batch1", batch1, 2), ("batch2", batch2, 3)):
        _tensor(t, "baddbmm", name, pos)
    same_device((input, batch1, batch2))
    d1, d2 = batch1._data, batch2._data
    # torch expands the bias to (b, n, p) before checking the batches' ranks (hence its IndexErrors)
    shape = (d1.shape[norm_dim(0, d1.ndim)], d1.shape[norm_dim(1, d1.ndim)], d2.shape[norm_dim(2, d2.ndim)])
    di = _expand_bias(input, shape)
    if d1.ndim != 3:
        raise RuntimeError("batch1 must be a 3D tensor")
    if d2.ndim != 3:
        raise RuntimeError("batch2 must be a 3D tensor")
    if d2.shape[0] != d1.shape[0] or d2.shape[1] != d1.shape[2]:
        raise RuntimeError(
            f"Expected size for first two dimensions of batch2 tensor to be: [{d1.shape[0]}, {d1.shape[2]}] but got: "
            f"[{d2.shape[0]}, {d2.shape[1]}]."
        )
    if not (di.dtype == d1.dtype == d2.dtype):
        raise RuntimeError(
            f"Input dtypes must be the same, got: input {input.dtype.name_for_error()}, batch1: "
            f"{batch1.dtype.name_for_error()}, batch2: {batch2.dtype.name_for_error()}"
        )
    if d1.dtype.kind == "b":
        raise NotImplementedError("\"baddbmm\" not implemented for 'Bool'")
    beta, alpha = _int_scalars(d1.dtype, beta, alpha)
    if mkl.usable(d1, d2) and type(alpha) in (int, float) and type(beta) in (int, float):
        r = _baddbmm_cpu(di, d1, d2, beta, alpha)
    else:
        r = d1 @ d2
        if alpha != 1:
            r = r * alpha
        if beta != 0:
            r = r + (di if beta == 1 else di * beta)
    r = input._dev.xp.ascontiguousarray(r.astype(d1.dtype, copy=False))
    items = (batch1 if batch2._rg else None, batch2 if batch1._rg else None, beta, alpha)
    return _out(out, _node3(BaddbmmBackward0, r, batch1._dev, (input, batch1, batch2), items, shape))


def _baddbmm_cpu(di: Any, d1: Any, d2: Any, beta: float, alpha: float) -> Any:
    """torch's cpu baddbmm (bmm_out_or_baddbmm_): below 400 multiply-adds per matrix, its loop's sum in k order,
    then r * beta + alpha * sum in the element type; else one addmm_ per batch item (a gemm with alpha, beta),
    the items shared over torch's threads: MKL threads a lone item's gemm only (mkl.gemm's threaded)."""
    bs, m, k = d1.shape
    n = d2.shape[2]
    if k * m * n < 400:
        t = d1.dtype.type
        acc = mkl.bmm(d1, d2) * t(alpha)
        return acc if beta == 0 else di * t(beta) + acc
    r = np.empty((bs, m, n), d1.dtype)
    if beta != 0:
        r[...] = di
    for i in range(bs):  # (torch's parallel loop over the items: MKL threaded for a single one only)
        mkl.gemm(d1[i], d2[i], r[i], alpha, beta, threaded=bs == 1)
    return r


def _addbmm_bw(self: Any, g: Tensor, b1: Tensor, b2: Tensor, beta: Any, alpha: Any) -> tuple:
    n = self._next
    ge = None
    if n[1] is not None or n[2] is not None:
        ge = g.unsqueeze(0).expand(b1._data.shape[0], g._data.shape[0], g._data.shape[1])
    return (
        _maybe_mul(g, beta) if n[0] is not None else None,
        _maybe_mul(bmm(ge, b2.transpose(1, 2)), alpha) if n[1] is not None else None,
        _maybe_mul(bmm(b1.transpose(1, 2), ge), alpha) if n[2] is not None else None,
    )


AddbmmBackward0 = node_class("AddbmmBackward0", _addbmm_bw)


@autocast_policy(cpu="lower", cuda="lower")
@whole
def addbmm(input: Tensor, batch1: Tensor, batch2: Tensor, *, beta: Any = 1, alpha: Any = 1, out: Any = None) -> Tensor:  # noqa: A002, E501
    """beta * input + alpha * sum_b(batch1[b] @ batch2[b]) (torch's AddbmmBackward0; its checks are addmm's, as
    torch accumulates one addmm_ per batch)."""
    for name, t, pos in (("input", input, 1), ("batch1", batch1, 2), ("batch2", batch2, 3)):
        _tensor(t, "addbmm", name, pos)
    same_device((input, batch1, batch2))
    d1, d2 = batch1._data, batch2._data
    shape = (d1.shape[norm_dim(1, d1.ndim)], d2.shape[norm_dim(2, d2.ndim)])
    di = _expand_bias(input, shape)
    if d1.ndim != 3:
        raise RuntimeError("batch1 must be a 3D tensor")
    if d2.ndim != 3:
        raise RuntimeError("batch2 must be a 3D tensor")
    if d1.shape[0] != d2.shape[0]:
        raise RuntimeError(f"batch1 and batch2 must have same number of batches, got {d1.shape[0]} and {d2.shape[0]}")
    if d1.shape[2] != d2.shape[1]:
        raise RuntimeError(
            f"Incompatible matrix sizes for bmm ({d1.shape[1]}x{d1.shape[2]} and {d2.shape[1]}x{d2.shape[2]})"
        )
    xp = input._dev.xp
    if d1.shape[0] == 0:  # no addmm_ runs: beta * input (zeros for beta=0), unchecked
        r = di * beta if beta != 0 else xp.zeros(shape, dtype=di.dtype)
    else:
        addmm_dtypes(input, batch1, batch2)
        beta, alpha = _int_scalars(d1.dtype, beta, alpha)
        if mkl.usable(d1, d2) and type(alpha) in (int, float) and type(beta) in (int, float):
            # torch: one addmm_ per batch item into the result, beta for the first only
            r = np.empty(shape, d1.dtype)
            if beta != 0:
                r[...] = di
            for i in range(d1.shape[0]):
                mkl.gemm(d1[i], d2[i], r, alpha, beta if i == 0 else 1)
        else:
            r = (d1 @ d2).sum(axis=0, dtype=d1.dtype)
            if alpha != 1:
                r = r * alpha
            if beta != 0:
                r = r + (di if beta == 1 else di * beta)
    r = xp.ascontiguousarray(r.astype(di.dtype, copy=False))
    items = (batch1 if batch2._rg else None, batch2 if batch1._rg else None, beta, alpha)
    return _out(out, _node3(AddbmmBackward0, r, batch1._dev, (input, batch1, batch2), items, shape))


def _inplace(fn: Any, name: str) -> Any:
    """x.addmv_(mat, vec) & co: fn(x, ...) stored in x (the operands need not broadcast against x)."""

    def op(x: Tensor, *args: Any, **kw: Any) -> Tensor:
        from engine.ops.inplace import apply

        return apply(x, lambda a, *_: fn(a, *args, **kw), *(a for a in args if isinstance(a, Tensor)), fits=False)

    op.__name__ = op.__qualname__ = name
    return op


addmv_ = _inplace(addmv, "addmv_")
addr_ = _inplace(addr, "addr_")
baddbmm_ = _inplace(baddbmm, "baddbmm_")
addbmm_ = _inplace(addbmm, "addbmm_")


# ---- vecdot / diagonal -----------------------------------------------------------------------------------------
def vecdot(x: Tensor, y: Tensor, *, dim: int = -1, out: Any = None) -> Tensor:
    """torch's composite for real tensors: (x * y).sum(dim) (SumBackward1 over MulBackward0)."""
    _tensor(x, "linalg_vecdot", "x", 1)
    _tensor(y, "linalg_vecdot", "y", 2)
    _floating(x, "linalg.vecdot")
    if x.dtype is not y.dtype:
        raise RuntimeError(
            f"linalg.vecdot: Expected x and y to have the same dtype, but found x of type {x.dtype.scalar_name()} and "
            f"y of type {y.dtype.scalar_name()} instead"
        )
    xs, ys = x._data.shape, y._data.shape
    if len(xs) == 1 and len(ys) == 1 and xs != ys:  # (two vectors: torch's dot kernel says it)
        raise RuntimeError(
            f"inconsistent tensor size, expected tensor [{xs[0]}] and src [{ys[0]}] to have the same number of "
            f"elements, but got {xs[0]} and {ys[0]} elements respectively"
        )
    return _out(out, (x * y).sum(dim))


def linalg_diagonal(A: Tensor, *, offset: int = 0, dim1: int = -2, dim2: int = -1) -> Tensor:  # noqa: N803
    return diagonal(A, offset, dim1, dim2)


# ---- cholesky ----------------------------------------------------------------------------------------------------
def _cholesky_bw(self: Any, gL: Tensor, L: Tensor, upper: bool) -> tuple:  # noqa: N803
    """torch's cholesky_backward: gA = L^-T pi*(tril(L^T gL)) L^-1, with its two triangular solves (a failed
    factor of cholesky_ex gives inf and nan, as torch's)."""
    from engine.ops.linalg_triangular import solve_triangular

    L_ = L.mT if upper else L
    g = gL.mT if upper else gL
    gA = matmul(L_.mT, g).tril()
    gA = 0.5 * (gA + gA.tril(-1).mT)
    gA = solve_triangular(L_.mT, gA, upper=True)
    gA = solve_triangular(L_, gA, upper=False, left=False)
    return (gA,)


LinalgCholeskyExBackward0 = node_class("LinalgCholeskyExBackward0", _cholesky_bw)
CholeskyBackward0 = node_class("CholeskyBackward0", _cholesky_bw)  # torch.cholesky's (deprecated) node


@autocast_policy(cpu="fp32")
def cholesky(A: Tensor, *, upper: bool = False, out: Any = None) -> Tensor:  # noqa: N803
    _tensor(A, "linalg_cholesky", "A", 1)
    return _out(out, _cholesky_ex(A, upper, "linalg.cholesky")[0])


@autocast_policy(cpu="fp32")
def cholesky_ex(A: Tensor, *, upper: bool = False, check_errors: bool = False, out: Any = None) -> Any:  # noqa: N803
    _tensor(A, "linalg_cholesky_ex", "input", 1)
    r = _cholesky_ex(A, upper, "linalg.cholesky_ex" if check_errors else None)
    return _out_tuple(out, linalg_cholesky_ex_type(*r))


def _not_positive_definite(check: Any, d: Any, info: Any) -> None:
    """torch's cholesky error for the first matrix whose factorization stopped (when asked to check)."""
    hit = _first_info(info) if check is not None else None
    if hit is not None:
        raise _linalg_error(
            check,
            d.ndim > 2,
            hit,
            "The factorization could not be completed because the input is not positive-definite (the leading "
            f"minor of order {hit[1]} is not positive-definite).",
        )


def _cholesky_ex(A: Tensor, upper: bool, check: str | None, name: str = "linalg.cholesky",  # noqa: N803
                 node: type | None = None) -> tuple:  # fmt: skip
    """(L, info): the library's factor, or where it fails LAPACK potf2's, whose partial factor of a matrix that is
    not positive-definite torch returns too; `check` names the function whose error that raises."""
    _square(A, name)
    _floating(A, name, half="cholesky_cpu")
    d = A._data
    xp = A._dev.xp
    # torch reads one triangle (the lower, or the upper for upper=True): the symmetric matrix it stands for
    if upper:
        sym = xp.triu(d) + _mT(xp.triu(d, 1))
    else:
        sym = xp.tril(d) + _mT(xp.tril(d, -1))
    L = F = None
    info = xp.zeros(d.shape[:-2], dtype=np.int32)
    if _mkl(A):  # torch's potrf, reading the `upper` triangle, the other one zeroed
        F, info = mkl_lapack.potrf(d, upper)
        L = _mT(F) if upper else F
        _not_positive_definite(check, d, info)
    elif d.size == 0:
        L = xp.zeros(d.shape, dtype=d.dtype)
    else:
        try:
            L = xp.linalg.cholesky(sym)
        except np.linalg.LinAlgError:
            pass
    if L is None or (_on_device(A) and not _finite(xp.log(xp.diagonal(L, 0, -2, -1)))):
        L, info = lapack.potf2(xp, sym)
        _not_positive_definite(check, d, info)
    r = F if F is not None else xp.ascontiguousarray(_mT(L) if upper else L).astype(d.dtype, copy=False)
    return _record(node or LinalgCholeskyExBackward0, r, A._dev, (A,), (_SELF, upper)), wrap(info, A._dev)


# ---- qr ----------------------------------------------------------------------------------------------------------
def _qr_backward(gQ: Any, gR: Any, Q: Tensor, R: Tensor, mode: str) -> Tensor:  # noqa: N803
    """torch's linalg_qr_backward (real case)."""
    from engine.ops.linalg_triangular import solve_triangular

    if mode == "r":
        raise RuntimeError(
            "The derivative of linalg.qr depends on Q, which is not computed when mode='r'. Please use "
            "linalg.qr(A, mode='reduced') if you are going to differentiate through linalg.qr."
        )
    m, n = Q._data.shape[-2], R._data.shape[-1]
    if mode == "complete" and m > n:
        raise RuntimeError("The QR decomposition is not differentiable when mode='complete' and nrows > ncols.")
    if gQ is not None:
        gA = matmul(gR, R.mT) - matmul(Q.mT, gQ) if gR is not None else -matmul(Q.mT, gQ)
    else:
        gA = matmul(gR, R.mT)
    if m >= n:
        X = gA.triu()
        X = X + X.mT
        X = X - 0.5 * diag_embed(X.diagonal(0, -2, -1))  # (the diagonal halved)
        gA = matmul(Q, X)
        if gQ is not None:
            gA = gA + gQ
        return solve_triangular(R.mT, gA, upper=False, left=False)  # gA R^-T
    X = (-gA - (-gA).mT).tril()
    gA = matmul(Q, X)
    gA = solve_triangular(R.narrow(-1, 0, m).mT, gA, upper=False, left=False)
    zeros = wrap(R._dev.xp.zeros(R._data.shape[:-1] + (n - m,), dtype=R._data.dtype), R._dev)
    gA = cat([gA, zeros], -1)
    if gR is not None:
        gA = gA + matmul(Q, gR)
    return gA


def _qr_bw(self: Any, g: Tensor, Q: Tensor, R: Tensor, mode: str) -> tuple:  # noqa: N803
    gQ, gR = _grads(self, g, 2)
    return (_qr_backward(gQ, gR, Q, R, mode),)


LinalgQrBackward0 = _multi_class("LinalgQrBackward0", _qr_bw)


@autocast_policy(cpu="fp32")
def qr(A: Tensor, mode: str = "reduced", *, out: Any = None) -> Any:  # noqa: N803
    _tensor(A, "linalg_qr", "A", 1)
    _at_least_2d(A, "linalg.qr")
    _floating(A, "linalg.qr")
    if mode not in ("reduced", "r", "complete"):
        raise RuntimeError(
            f"qr received unrecognized mode '{mode}' but expected one of 'reduced' (default), 'r', or 'complete'"
        )
    _floating(A, "linalg.qr", half="geqrf_cpu")
    d = A._data
    xp = A._dev.xp
    exact = _mkl(A)
    if exact:  # torch's geqrf and orgqr, column-major as torch leaves them
        Q, R = mkl_lapack.qr(d, mode)
    elif mode == "r":
        R = _lapack(A, lambda xp_, a: xp_.linalg.qr(a, mode="r"))
        Q = xp.zeros((0,), dtype=d.dtype)
    else:
        Q, R = _lapack(A, lambda xp_, a: xp_.linalg.qr(a, mode=mode))
    if not exact:
        Q = xp.ascontiguousarray(Q.astype(d.dtype, copy=False))
        R = xp.ascontiguousarray(R.astype(d.dtype, copy=False))
    r = linalg_qr_type(*_record_multi(LinalgQrBackward0, [Q, R], A._dev, (A,), extra=(mode,)))
    if out is not None:
        from engine.ops.inplace import write_out

        return linalg_qr_type(*(write_out(o, x) for o, x in zip(out, r)))
    return r


# ---- eigh --------------------------------------------------------------------------------------------------------
def _eigh_backward(gL: Any, gV: Any, L: Tensor, V: Tensor) -> Tensor:  # noqa: N803
    """torch's linalg_eig_backward, Hermitian case."""
    if gV is None:
        return matmul(V * gL.unsqueeze(-2), V.mT)
    VhgV = matmul(V.mT, gV)
    VhgV = 0.5 * (VhgV - VhgV.mT)  # (a zero diagonal: adding gL below is torch's copy into it)
    E = L.unsqueeze(-2) - L.unsqueeze(-1) + _eye(L._data.shape[-1], L)  # L_j - L_i, 1 on the diagonal
    ret = VhgV / E
    if gL is not None:
        ret = ret + diag_embed(gL)
    return matmul(V, matmul(ret, V.mT))


def _eigh_bw(self: Any, g: Tensor, L: Tensor, V: Tensor) -> tuple:  # noqa: N803
    gL, gV = _grads(self, g, 2)
    return (_eigh_backward(gL, gV, L, V),)


LinalgEighBackward0 = _multi_class("LinalgEighBackward0", _eigh_bw)


def _eigh_checks(A: Tensor, UPLO: Any) -> str:  # noqa: N803
    _square(A, "linalg.eigh")
    if not (isinstance(UPLO, str) and len(UPLO) == 1 and UPLO.upper() in ("L", "U")):
        raise RuntimeError(f"Expected UPLO argument to be 'L' or 'U', but got {UPLO}")
    dt = A._data.dtype
    if dt.kind != "f" or dt == np.float16:
        raise NotImplementedError(f"\"linalg_eigh_cpu\" not implemented for '{A.dtype.scalar_name()}'")
    return UPLO.upper()


def _eigh(A: Tensor, uplo: str) -> list:  # noqa: N803
    d = A._data
    if _mkl(A, True):  # torch's syevd, the eigenvectors column-major
        L, V, _ = mkl_lapack.syevd(d, True, uplo)
    else:
        L, V = _lapack(A, lambda xp, a: xp.linalg.eigh(a, UPLO=uplo))
        xp = A._dev.xp
        L = xp.ascontiguousarray(L.astype(d.dtype, copy=False))
        V = xp.ascontiguousarray(V.astype(d.dtype, copy=False))
    return _record_multi(LinalgEighBackward0, [L, V], A._dev, (A,))


@autocast_policy(cpu="fp32")
def eigh(A: Tensor, UPLO: str = "L") -> Any:  # noqa: N803
    _tensor(A, "linalg_eigh", "A", 1)
    return linalg_eigh_type(*_eigh(A, _eigh_checks(A, UPLO)))


@autocast_policy(cpu="fp32")
def eigvalsh(A: Tensor, UPLO: str = "L", *, out: Any = None) -> Tensor:  # noqa: N803
    _tensor(A, "linalg_eigvalsh", "A", 1)
    uplo = _eigh_checks(A, UPLO)
    if ENABLED[0] and A._rg:  # torch computes the eigenvectors only when a gradient may need them
        return _out(out, _eigh(A, uplo)[0])
    if _mkl(A, True):
        L = mkl_lapack.syevd(A._data, False, uplo)[0]
    else:
        L = _lapack(A, lambda xp, a: xp.linalg.eigvalsh(a, UPLO=uplo))
    return _out(out, wrap(A._dev.xp.asarray(L).astype(A._data.dtype, copy=False), A._dev))


# ---- svd ---------------------------------------------------------------------------------------------------------
def _svd_backward(gU: Any, gS: Any, gVh: Any, U: Tensor, S: Tensor, Vh: Tensor) -> Tensor:  # noqa: N803
    """torch's svd_backward, real case (U, Vh reduced to k = min(m, n) columns / rows)."""
    m, n = U._data.shape[-2], Vh._data.shape[-1]
    if gU is None and gVh is None:
        return matmul(U, gS.unsqueeze(-1) * Vh) if m >= n else matmul(U * gS.unsqueeze(-2), Vh)
    UhgU = VhgV = None
    if gU is not None:
        UhgU = matmul(U.mT, gU)
        UhgU = UhgU - UhgU.mT
    if gVh is not None:
        VhgV = matmul(Vh, gVh.mT)
        VhgV = VhgV - VhgV.mT
    S2 = S * S
    E = S2.unsqueeze(-2) - S2.unsqueeze(-1) + _eye(S._data.shape[-1], S)  # 1 on the diagonal
    if UhgU is not None and VhgV is not None:
        ret = (UhgU * S.unsqueeze(-2) + S.unsqueeze(-1) * VhgV) / E
    elif UhgU is not None:
        ret = (UhgU / E) * S.unsqueeze(-2)
    else:
        ret = S.unsqueeze(-1) * (VhgV / E)
    if gS is not None:
        ret = ret + diag_embed(gS)
    if m > n and gU is not None:
        gA = matmul(U, ret)
        gUSinv = gU / S.unsqueeze(-2)
        gA = gA + gUSinv - matmul(U, matmul(U.mT, gUSinv))
        return matmul(gA, Vh)
    if m < n and gVh is not None:
        gA = matmul(ret, Vh)
        SinvgVh = gVh / S.unsqueeze(-1)
        gA = gA + SinvgVh - matmul(matmul(SinvgVh, Vh.mT), Vh)
        return matmul(U, gA)
    return matmul(U, matmul(ret, Vh)) if m >= n else matmul(matmul(U, ret), Vh)


def _svd_bw(self: Any, g: Tensor, U: Tensor, S: Tensor, Vh: Tensor, full: bool) -> tuple:  # noqa: N803
    gU, gS, gVh = _grads(self, g, 3)
    k = S._data.shape[-1]
    if full:  # torch differentiates the reduced factors: the first k columns of U and rows of Vh
        gU = gU.narrow(-1, 0, k) if gU is not None else None
        gVh = gVh.narrow(-2, 0, k) if gVh is not None else None
        U, Vh = U.narrow(-1, 0, k), Vh.narrow(-2, 0, k)
    return (_svd_backward(gU, gS, gVh, U, S, Vh),)


LinalgSvdBackward0 = _multi_class("LinalgSvdBackward0", _svd_bw)


def _svd_lapack(A: Tensor, fn: Any) -> Any:  # noqa: N803
    """_lapack for an SVD: gesdd refuses a matrix holding a nan (an inf only gives nan values), as torch reports."""
    try:
        return _lapack(A, fn)
    except np.linalg.LinAlgError:
        d = np.asarray(host(A._data))
        bad = np.isnan(d.reshape((-1,) + d.shape[-2:])).any(axis=(-2, -1))
        if not bad.any():
            raise
        raise _linalg_error(
            "linalg.svd",
            d.ndim > 2,
            (int(bad.argmax()), 0),
            "The algorithm failed to converge because the input matrix contained non-finite values.",
        ) from None


def _svd_checks(A: Tensor, driver: Any) -> None:  # noqa: N803
    _at_least_2d(A, "linalg.svd")
    _floating(A, "linalg.svd", half="linalg_svd_cpu")
    if driver is not None and not _on_device(A):
        raise RuntimeError(
            "torch.linalg.svd: keyword argument `driver=` is only supported on CUDA inputs with cuSOLVER backend."
        )


def _svd(A: Tensor, full: bool) -> list:  # noqa: N803
    d = A._data
    if _mkl(A, True):  # torch's gesdd, jobz 'A' or 'S', U and Vh column-major
        arrs = list(mkl_lapack.gesdd(d, "A" if full else "S")[:3])
    else:
        U, S, Vh = _svd_lapack(A, lambda xp, a: xp.linalg.svd(a, full_matrices=full))
        xp = A._dev.xp
        arrs = [xp.ascontiguousarray(x.astype(d.dtype, copy=False)) for x in (U, S, Vh)]
    return _record_multi(LinalgSvdBackward0, arrs, A._dev, (A,), extra=(full,))


@autocast_policy(cpu="fp32")
def svd(A: Tensor, full_matrices: bool = True, *, driver: Any = None) -> Any:  # noqa: N803
    _tensor(A, "linalg_svd", "A", 1)
    _svd_checks(A, driver)
    return linalg_svd_type(*_svd(A, bool(full_matrices)))


@autocast_policy(cpu="fp32")
def svdvals(A: Tensor, *, driver: Any = None, out: Any = None) -> Tensor:  # noqa: N803
    _tensor(A, "linalg_svdvals", "A", 1)
    _svd_checks(A, driver)
    if ENABLED[0] and A._rg:  # torch computes U and Vh only when a gradient may need them
        return _out(out, _svd(A, False)[1])
    if _mkl(A, True):  # gesdd with jobz 'N'
        S = mkl_lapack.gesdd(A._data, "N")[1]
    else:
        S = _svd_lapack(A, lambda xp, a: xp.linalg.svd(a, compute_uv=False))
    return _out(out, wrap(A._dev.xp.asarray(S).astype(A._data.dtype, copy=False), A._dev))


# ---- pinv ----------------------------------------------------------------------------------------------------------
def _pinv_backward(g: Tensor, pinvA: Tensor, A: Tensor) -> Tensor:  # noqa: N803
    """torch's pinv_backward."""
    m, n = A._data.shape[-2], A._data.shape[-1]
    pinvAh = pinvA.mT
    gh = g.mT
    if m <= n:
        K = matmul(gh, pinvA)
        KpinvAh = matmul(K, pinvAh)
        return (
            -matmul(pinvA, K).mT + KpinvAh - matmul(matmul(A, pinvA), KpinvAh)
            + matmul(matmul(pinvAh, pinvA), gh - matmul(K, A))
        )  # fmt: skip
    K = matmul(pinvA, gh)
    pinvAhK = matmul(pinvAh, K)
    return (
        -matmul(K, pinvA).mT + matmul(matmul(gh - matmul(A, K), pinvA), pinvAh) + pinvAhK
        - matmul(matmul(pinvAhK, pinvA), A)
    )  # fmt: skip


LinalgPinvBackward0 = node_class("LinalgPinvBackward0", lambda self, g, A, p: (_pinv_backward(g, p, A),))


def _reduced_svd(xp: Any, a: Any) -> tuple:
    return tuple(xp.linalg.svd(a, full_matrices=False))


def _tol(v: Any, xp: Any) -> Any:
    return xp.asarray(v._data if isinstance(v, Tensor) else v, dtype=np.float64)


def _pinv_array(A: Tensor, atol: Any, rtol: Any, hermitian: bool) -> Any:  # noqa: N803
    """torch's linalg_pinv on the arrays: singular values (or |eigenvalues|) above max(atol, rtol * largest)
    inverted, the rest dropped."""
    d = A._data
    xp = A._dev.xp
    m, n = d.shape[-2:]
    if d.size == 0:
        return xp.zeros(d.shape[:-2] + (n, m), dtype=d.dtype)
    eps = float(np.finfo(d.dtype).eps)
    a_tol = _tol(0.0 if atol is None else atol, xp)
    if rtol is not None:
        r_tol = _tol(rtol, xp)
    else:
        default = xp.asarray(eps * max(m, n), dtype=np.float64)
        r_tol = xp.where(a_tol > 0, 0.0, default) if atol is not None else default
    exact = _mkl(A, True)  # torch's gesdd / syevd factors, its products through engine's (torch's) matmul
    if not hermitian:
        if exact:
            U, S, Vh, _ = mkl_lapack.gesdd(d, "S")
        else:
            U, S, Vh = (x.astype(d.dtype, copy=False) for x in _svd_lapack(A, _reduced_svd))
        big = S[..., :1]
        tol = xp.maximum(a_tol[..., None], r_tol[..., None] * big)
        Sp = xp.where(S > tol, 1 / S, 0).astype(d.dtype)
        left, right = _mT(Vh) * Sp[..., None, :], _mT(U)
    else:
        if exact:
            S, U, _ = mkl_lapack.syevd(d, True, "L")
        else:
            S, U = (x.astype(d.dtype, copy=False) for x in _lapack(A, lambda xp_, a: xp_.linalg.eigh(a)))
        Sa = abs(S)
        tol = xp.maximum(a_tol[..., None], r_tol[..., None] * Sa.max(-1, keepdims=True))
        Sp = xp.where(Sa > tol, 1 / S, 0).astype(d.dtype)
        left, right = U * Sp[..., None, :], _mT(U)
    if exact:
        with NoGrad():
            return matmul(wrap(left, A._dev), wrap(right, A._dev))._data
    return left @ right


def _pinv(A: Tensor, atol: Any, rtol: Any, hermitian: bool) -> Tensor:  # noqa: N803
    dt = A._data.dtype
    if dt not in (np.float32, np.float64) or A._data.ndim < 2:
        shape = ", ".join(map(str, A._data.shape))
        raise RuntimeError(
            f"linalg.pinv({A.dtype.scalar_name()}{{[{shape}]}}): expected a tensor with 2 or more dimensions of "
            "float, double, cfloat or cdouble types"
        )
    r = A._dev.xp.ascontiguousarray(_pinv_array(A, atol, rtol, hermitian).astype(dt, copy=False))
    return _record(LinalgPinvBackward0, r, A._dev, (A,), (A, _SELF))


def pinv(A: Tensor, rcond: Any = None, hermitian: bool = False, *, atol: Any = None, rtol: Any = None,  # noqa: N803
         out: Any = None) -> Tensor:  # fmt: skip
    """torch.linalg.pinv; rcond (NumPy's name) is a relative tolerance with atol 0."""
    _tensor(A, "linalg_pinv", "A", 1)
    if rcond is not None:
        atol, rtol = 0.0, rcond
    return _out(out, _pinv(A, atol, rtol, hermitian))


def pinverse(input: Tensor, rcond: float = 1e-15) -> Tensor:  # noqa: A002
    _tensor(input, "pinverse", "input", 1)
    return _pinv(input, 0.0, rcond, False)


# ---- lstsq ---------------------------------------------------------------------------------------------------------
def _lstsq_bw(self: Any, g: Tensor, A: Tensor, B: Tensor, X: Tensor, res: Tensor, rank: Tensor, sv: Tensor,  # noqa: N803
              vec: bool) -> tuple:  # fmt: skip
    """torch's linalg_lstsq_backward: through pinv(A) for the solution, through the residual for residuals."""
    n = self._next
    gX, gL = _grads(self, g, 4)[:2]
    if gL is not None and gL._data.size == 0:  # (no residuals were computed: nothing flows back from them)
        gL = None
    Bm = B.unsqueeze(-1) if vec else B
    gA = gB = None
    if gX is not None:
        gXm = gX.unsqueeze(-1) if vec else gX
        pinvA = pinv(A)
        if n[0] is not None:
            gA = _pinv_backward(matmul(gXm, Bm.mT), pinvA, A)
        if n[1] is not None:
            gB = matmul(pinvA.mT, gXm)
    if gL is not None:
        Xm = X.unsqueeze(-1) if vec else X
        r = matmul(A, Xm) - Bm
        gl = gL.unsqueeze(-2)
        if n[0] is not None:
            ga = 2 * matmul(gl * r, Xm.mT)
            gA = ga if gA is None else gA + ga
        if n[1] is not None:
            gb = -2 * gl * r
            gB = gb if gB is None else gB + gb
    if gB is not None and vec:
        gB = gB.squeeze(-1)
    return gA, gB


LinalgLstsqBackward0 = _multi_class("LinalgLstsqBackward0", _lstsq_bw)


def _lstsq_mkl(A: Tensor, B: Tensor, b: Any, rc: float, drv: str, vec: bool) -> Any:  # noqa: N803
    """linalg.lstsq through MKL's driver as torch's linalg_lstsq runs it: the solution the first n rows of the
    column-major B the driver overwrote, the residuals the squared sums of its rows n to m (gels, and gelsd/gelss
    where every matrix has full column rank), rank and singular values where the driver computes them."""
    ad = A._data
    dt = ad.dtype
    m, n = ad.shape[-2:]
    sol, rank, sv = mkl_lapack.lstsq(ad, np.ascontiguousarray(b), rc, drv)
    X = sol[..., :n, :]
    residuals = np.zeros((0,), dtype=dt)
    if m > n and drv != "gelsy" and (drv == "gels" or bool((rank == n).all())):
        with NoGrad():
            raw = wrap(sol[..., n:, :], A._dev)
            residuals = raw.pow(2).sum(-2)._data
    # rank and singular values have A's own batch shape: torch writes each broadcast matrix's into its A's slot
    count = math.prod(ad.shape[:-2])
    slot = np.broadcast_to(np.arange(count).reshape(ad.shape[:-2]), rank.shape).reshape(-1)
    if drv == "gels":
        rank = np.zeros((0,), dtype=np.int64)
    else:
        r = np.zeros(count, dtype=np.int64)
        r[slot] = rank.reshape(-1)
        rank = r.reshape(ad.shape[:-2])
    if drv in ("gelsd", "gelss"):
        v = np.zeros((count, sv.shape[-1]), dtype=dt)
        v[slot] = sv.reshape(-1, sv.shape[-1])
        sv = v.reshape(ad.shape[:-2] + sv.shape[-1:])
    else:
        sv = np.zeros((0,), dtype=dt)
    if vec:
        X = X[..., 0]
    meta = ((ad.shape, dt), (B._data.shape, dt))
    outs = _record_multi(LinalgLstsqBackward0, [X, residuals, rank, sv], A._dev, (A, B), keep=(A, B), extra=(vec,),
                         diff=(True, True, False, False), meta=meta)  # fmt: skip
    return linalg_lstsq_type(*outs)


@autocast_policy(cpu="fp32")
def lstsq(A: Tensor, B: Tensor, rcond: Any = None, *, driver: Any = None) -> Any:  # noqa: N803
    """torch.linalg.lstsq with the cpu's drivers. The solution is the pseudo-inverse's (the minimum-norm solution
    every driver computes for a full-rank A); the rank counts the singular values above rcond times the largest
    (gelsd/gelss; gelsy's pivoted QR estimates the same rank)."""
    _tensor(A, "linalg_lstsq", "A", 1)
    _tensor(B, "linalg_lstsq", "B", 2)
    same_device((A, B))
    ad, bd = A._data, B._data
    if ad.ndim < 2:
        raise RuntimeError("torch.linalg.lstsq: input must have at least 2 dimensions.")
    if bd.ndim < 1:
        raise RuntimeError("torch.linalg.lstsq: other must have at least 1 dimension.")
    if ad.dtype != bd.dtype:
        raise RuntimeError(
            f"torch.linalg.lstsq: Expected input and other to have the same dtype, but got input's dtype "
            f"{A.dtype.scalar_name()} and other's dtype {B.dtype.scalar_name()}"
        )
    diff = ad.ndim - bd.ndim
    if not 0 <= diff <= 1:
        raise RuntimeError(
            "torch.linalg.lstsq: input.dim() must be greater or equal to other.dim() and (input.dim() - other.dim()) "
            "<= 1"
        )
    vec = diff == 1  # (lstsq's own rule: B one dim short is a batch of vectors)
    bm = bd[..., None] if vec else bd
    try:
        batch = np.broadcast_shapes(ad.shape[:-2], bm.shape[:-2])
    except ValueError:
        raise RuntimeError(_bcast_msg(ad.shape[:-2], bm.shape[:-2])) from None
    if ad.shape[-2] != bm.shape[-2]:
        raise RuntimeError(f"torch.linalg.lstsq: input.size(-2) should match other.size({-1 if vec else -2})")
    drv = "gelsy" if driver is None else driver
    if drv not in ("gels", "gelsy", "gelsd", "gelss"):
        raise RuntimeError("torch.linalg.lstsq: parameter `driver` should be one of (gels, gelsy, gelsd, gelss)")
    if ad.dtype not in (np.float32, np.float64):
        raise RuntimeError("This function doesn't handle types other than float and double")
    xp = A._dev.xp
    dt = ad.dtype
    m, n = ad.shape[-2:]
    k = bm.shape[-1]
    # rank and singular_values have A's own batch shape (torch factors A once per its batch, not per broadcast
    # batch); the solution and residuals have the broadcast one
    a = ad
    b = xp.broadcast_to(bm, batch + (m, k))
    rc = float(np.finfo(dt).eps) * max(m, n) if rcond is None else float(rcond)
    if min(m, n) > 0 and _mkl(A, True) and _finite(bd):  # torch's apply_lstsq: the driver itself, in MKL
        return _lstsq_mkl(A, B, b, rc, drv, vec)
    if min(m, n) == 0:
        S = xp.zeros(ad.shape[:-2] + (0,), dtype=dt)
        X = xp.zeros(batch + (n, k), dtype=dt)
        rank = xp.zeros(ad.shape[:-2], dtype=np.int64)
    else:
        U, S, Vh = (x.astype(dt, copy=False) for x in _svd_lapack(wrap(xp.ascontiguousarray(a), A._dev), _reduced_svd))
        keep = S > 0 if drv == "gels" else S > rc * S[..., :1]
        Sp = xp.where(keep, 1 / xp.where(keep, S, 1), 0).astype(dt)
        X = _mT(Vh) @ (Sp[..., :, None] * (_mT(U) @ b))
        rank = keep.sum(-1).astype(np.int64)
    residuals = xp.zeros((0,), dtype=dt)
    if m > n and drv != "gelsy" and (drv == "gels" or bool((rank == n).all())):
        residuals = ((a @ X - b) ** 2).sum(-2).astype(dt)
    if drv == "gels":
        rank = xp.zeros((0,), dtype=np.int64)
    sv = S if drv in ("gelsd", "gelss") else xp.zeros((0,), dtype=dt)
    if vec:
        X = X[..., 0]
    X = xp.ascontiguousarray(X.astype(dt, copy=False))
    meta = ((ad.shape, dt), (bd.shape, dt))
    outs = _record_multi(LinalgLstsqBackward0, [X, residuals, rank, xp.ascontiguousarray(sv)], A._dev, (A, B),
                         keep=(A, B), extra=(vec,), diff=(True, True, False, False), meta=meta)  # fmt: skip
    return linalg_lstsq_type(*outs)


# ---- matrix norms ----------------------------------------------------------------------------------------------
def _norm_dtype(A: Tensor, dtype: Any, fn: str) -> None:  # noqa: N803
    """torch's check_linalg_norm_dtype."""
    if dtype is None:
        return
    from engine.dtypes import promote_types, to_dtype

    dt = to_dtype(dtype)
    if dt.np.kind != "f":
        raise RuntimeError(f"{fn}: dtype should be floating point or complex, but got {dt.scalar_name()}")
    if promote_types(A.dtype, dt) != dt:
        raise RuntimeError(
            f"{fn}: the dtype of the input ({A.dtype.scalar_name()}) should be convertible without narrowing to the "
            f"specified dtype ({dt.scalar_name()})"
        )


def _max_min(x: Tensor, dim: int, keepdim: bool, largest: bool) -> Tensor:
    """amax / amin over dim; torch's largest of an empty set of norms is 0 (a constant, no node) where amin's
    empty reduction is amin's error."""
    d = x._data
    ax = norm_dim(dim, d.ndim)
    if d.shape[ax] == 0:
        if not largest:  # (torch names the dim as it was passed: -1 for the singular values)
            raise IndexError(f"amin(): Expected reduction dim {dim} to have non-zero size.")
        shape = tuple(1 if i == ax else n for i, n in enumerate(d.shape) if keepdim or i != ax)
        return wrap(x._dev.xp.zeros(shape, dtype=d.dtype), x._dev)
    return x.amax(dim, keepdim) if largest else x.amin(dim, keepdim)


def matrix_norm(A: Tensor, ord: Any = "fro", dim: Any = (-2, -1), keepdim: bool = False, *, dtype: Any = None,  # noqa: A002, N803
                out: Any = None) -> Tensor:  # fmt: skip
    """torch's linalg_matrix_norm: 'fro' a vector 2-norm over both dims; 1/-1 and inf/-inf the max/min of the
    column (row) abs sums; 2/-2 and 'nuc' the largest/smallest/summed singular values of the matrices moved last."""
    _tensor(A, "linalg_matrix_norm", "input", 1)
    if isinstance(ord, str):
        if ord not in ("fro", "nuc"):
            raise RuntimeError(f"linalg.matrix_norm: Order {ord} not supported.")
        low, o = ord == "nuc", 0.0
    else:
        o = float(ord)
        if abs(o) not in (1.0, 2.0, math.inf):
            raise RuntimeError(f"linalg.matrix_norm: Order {o:g} not supported.")
        low = abs(o) == 2.0
    _at_least_2d(A, "linalg.matrix_norm")
    _floating(A, "linalg.matrix_norm", half="low" if low else None)
    dims = list(dim)
    if len(dims) != 2:
        raise RuntimeError(f"linalg.matrix_norm: dim must be a 2-tuple. Got {' '.join(map(str, dims))}")
    nd = A._data.ndim
    d0, d1 = norm_dim(dims[0], nd), norm_dim(dims[1], nd)
    if d0 == d1:
        raise RuntimeError(f"linalg.matrix_norm: dims must be different. Got ({d0}, {d1})")
    _norm_dtype(A, dtype, "linalg.matrix_norm")
    if ord == "fro":
        return _out(out, vector_norm(A, 2, (d0, d1), keepdim, dtype=dtype))
    if low:
        perm = [i for i in range(nd) if i not in (d0, d1)] + [d0, d1]
        A_ = A.to(dtype) if dtype is not None else A
        sv = svdvals(A_.permute(perm))
        r = sv.sum(-1, keepdim=keepdim) if ord == "nuc" else _max_min(sv, -1, keepdim, o > 0)
        if keepdim:
            r = r.unsqueeze(-1).permute([int(i) for i in np.argsort(perm)])
        return _out(out, r)
    if math.isinf(o):  # the inf norm is the 1 norm of the transpose
        d0, d1 = d1, d0
    if not keepdim and d0 < d1:
        d1 -= 1
    v = vector_norm(A, 1, (d0,), keepdim, dtype=dtype)
    return _out(out, _max_min(v, d1, keepdim, o > 0))


def norm(A: Tensor, ord: Any = None, dim: Any = None, keepdim: bool = False, *, dtype: Any = None,  # noqa: A002, N803
         out: Any = None) -> Tensor:  # fmt: skip
    """torch.linalg.norm: a matrix norm for a string ord, or a numeric ord over two dims (or a 2-D input without
    dim); the vector norm otherwise (ord None: the 2-norm of everything, which is 'fro' for a matrix)."""
    _tensor(A, "linalg_norm", "input", 1)
    dims = None
    if dim is not None:
        dims = [dim] if isinstance(dim, int) else list(dim)
        if len(dims) not in (1, 2):
            raise RuntimeError(
                f"linalg.norm: If dim is specified, it must be of length 1 or 2. Got [{', '.join(map(str, dims))}]"
            )
    elif ord is not None and A._data.ndim not in (1, 2):
        raise RuntimeError(
            f"linalg.norm: If dim is not specified but ord is, the input must be 1D or 2D. Got {A._data.ndim}D."
        )
    if isinstance(ord, str) or (ord is not None and (len(dims) == 2 if dims is not None else A._data.ndim == 2)):
        return matrix_norm(A, ord, dims if dims is not None else (0, 1), keepdim, dtype=dtype, out=out)
    return _out(out, vector_norm(A, 2 if ord is None else ord, dims, keepdim, dtype=dtype))


# ---- namespaces --------------------------------------------------------------------------------------------------
LinAlgError = _LinAlgError

svd_type = result_type("svd", "U", "S", "V")
qr_type = result_type("qr", "Q", "R")
RETURN_TYPES.update({"svd": svd_type, "qr": qr_type})


def torch_svd(input: Tensor, some: bool = True, compute_uv: bool = True, *, out: Any = None) -> Any:  # noqa: A002
    """torch.svd (older tutorials): linalg.svd with V = Vh.mH; without compute_uv, U and V are zeros (full size)."""
    from engine.ops.shape import transpose

    _tensor(input, "svd", "input", 1)
    _svd_checks(input, None)
    U, S, Vh = _svd(input, not some and compute_uv)
    if not compute_uv:
        from engine.creation import zeros
        from engine.dtypes import to_dtype

        m, n = input._data.shape[-2:]
        batch = input._data.shape[:-2]
        dt = to_dtype(input._data.dtype)
        return svd_type(zeros(*batch, m, m, dtype=dt), S, zeros(*batch, n, n, dtype=dt))
    return svd_type(U, S, transpose(Vh, -2, -1))


def torch_cholesky(input: Tensor, upper: bool = False, *, out: Any = None) -> Tensor:  # noqa: A002
    """torch.cholesky (deprecated, older tutorials): linalg.cholesky's factor, under torch.cholesky's own name."""
    warn_once(
        "torch.cholesky is deprecated in favor of torch.linalg.cholesky and will be removed in a future PyTorch "
        "release.\nL = torch.cholesky(A)\nshould be replaced with\nL = torch.linalg.cholesky(A)\nand\n"
        "U = torch.cholesky(A, upper=True)\nshould be replaced with\nU = torch.linalg.cholesky(A).mH\n"
        "This transform will produce equivalent results for all valid (symmetric positive definite) inputs. "
        "(Triggered internally at /__w/pytorch/pytorch/aten/src/ATen/native/BatchLinearAlgebra.cpp:1765.)"
    )
    _tensor(input, "cholesky", "input", 1)
    if input._data.dtype.kind not in "fc":  # (no floating check before the kernel's dispatch, as in linalg's)
        raise NotImplementedError(f"\"cholesky_cpu\" not implemented for '{input.dtype.scalar_name()}'")
    return _out(out, _cholesky_ex(input, bool(upper), "cholesky", "cholesky", CholeskyBackward0)[0])


def torch_qr(input: Tensor, some: bool = True, *, out: Any = None) -> Any:  # noqa: A002
    warn_once(
        "torch.qr is deprecated in favor of torch.linalg.qr and will be removed in a future PyTorch release.\n"
        "The boolean parameter 'some' has been replaced with a string parameter 'mode'.\nQ, R = torch.qr(A, some)\n"
        "should be replaced with\nQ, R = torch.linalg.qr(A, 'reduced' if some else 'complete') (Triggered "
        "internally at /__w/pytorch/pytorch/aten/src/ATen/native/BatchLinearAlgebra.cpp:2505.)"
    )
    Q, R = qr(input, "reduced" if some else "complete")
    return qr_type(Q, R)


TORCH = {
    "svd": torch_svd, "qr": torch_qr, "cholesky": torch_cholesky,
    "det": det, "logdet": logdet, "slogdet": slogdet, "inverse": inverse, "matrix_power": matrix_power,
    "tensordot": tensordot, "addmv": addmv, "addmv_": addmv_, "addr": addr, "baddbmm": baddbmm, "addbmm": addbmm,
    "chain_matmul": chain_matmul, "vdot": vdot, "pinverse": pinverse,
}  # fmt: skip
LINALG = {
    "inv": linalg_inv, "det": linalg_det, "slogdet": linalg_slogdet, "solve": solve, "matmul": matmul,
    "vecdot": vecdot, "diagonal": linalg_diagonal, "multi_dot": multi_dot, "matrix_power": linalg_matrix_power,
    "matrix_norm": matrix_norm, "norm": norm, "cholesky": cholesky, "qr": qr, "eigh": eigh, "eigvalsh": eigvalsh,
    "svd": svd, "svdvals": svdvals, "pinv": pinv, "lstsq": lstsq, "LinAlgError": LinAlgError, "inv_ex": inv_ex,
    "solve_ex": solve_ex, "cholesky_ex": cholesky_ex,
}  # fmt: skip
METHODS = {
    "det": det, "logdet": logdet, "slogdet": slogdet, "inverse": inverse, "matrix_power": matrix_power,
    "addmv": addmv, "addmv_": addmv_, "addr": addr, "addr_": addr_, "baddbmm": baddbmm, "baddbmm_": baddbmm_,
    "addbmm": addbmm, "addbmm_": addbmm_, "vdot": vdot, "pinverse": pinverse,
}  # fmt: skip
