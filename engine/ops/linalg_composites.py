"""torch.linalg's functions that torch builds from its other ops (aten/src/ATen/native/LinearAlgebra.cpp), written
with the same ops in the same order, so values, dtypes and the recorded graph are torch's: matrix_rank, cond,
vander, tensorinv and tensorsolve."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from engine.ops.index import cat
from engine.ops.linalg_more import (
    _inv_ex,
    _out,
    _square,
    _tensor,
    eigvalsh,
    matrix_norm,
    solve,
    svdvals,
)
from engine.ops.util import NoGrad, parser_type_name
from engine.tensor import Tensor, wrap


# ---- matrix_rank -------------------------------------------------------------------------------------------------
def _rank_overloads(args: tuple, kwargs: dict) -> TypeError:
    got = ", ".join([*map(parser_type_name, args), *(f"{k}={parser_type_name(v)}" for k, v in kwargs.items())])
    return TypeError(
        f"linalg_matrix_rank() received an invalid combination of arguments - got ({got}), but expected one of:\n"
        " * (Tensor input, *, Tensor atol = None, Tensor rtol = None, bool hermitian = False, Tensor out = None)\n"
        " * (Tensor input, *, float atol = None, float rtol = None, bool hermitian = False, Tensor out = None)\n"
        " * (Tensor input, Tensor tol, bool hermitian = False, *, Tensor out = None)\n"
        " * (Tensor input, float tol, bool hermitian = False, *, Tensor out = None)\n"
    )


def _tolerance(v: Any, xp: Any) -> Any:
    return xp.asarray(v._data if isinstance(v, Tensor) else v, dtype=np.float64)


def matrix_rank(A: Tensor, tol: Any = None, hermitian: bool = False, *, atol: Any = None, rtol: Any = None,  # noqa: N803
                out: Any = None) -> Tensor:  # fmt: skip
    """The number of singular values (|eigenvalues| for hermitian) above max(atol, rtol * the largest); rtol
    defaults to eps * max(m, n), or 0 where a positive atol is given; `tol` is atol with rtol 0."""
    if not isinstance(A, Tensor) or (tol is not None and (atol is not None or rtol is not None)):
        given = {k: v for k, v in (("atol", atol), ("rtol", rtol), ("hermitian", hermitian)) if v not in (None, False)}
        raise _rank_overloads((A,) if tol is None else (A, tol), given)
    d = A._data
    if d.ndim < 2:
        raise RuntimeError("torch.linalg.matrix_rank: The input tensor input must have at least 2 dimensions.")
    if d.dtype not in (np.float32, np.float64):
        raise RuntimeError("This function doesn't handle types other than float and double")
    if tol is not None:
        atol, rtol = tol, 0.0
    xp = A._dev.xp
    m, n = d.shape[-2:]
    if d.size == 0:
        return _out(out, wrap(xp.zeros(d.shape[:-2], dtype=np.int64), A._dev))
    with NoGrad():  # (an integer result: nothing to differentiate)
        if hermitian:
            S = xp.abs(eigvalsh(A)._data)
            top = S.max(-1, keepdims=True)
        else:
            S = svdvals(A)._data
            top = S[..., :1]
    a_tol = _tolerance(0.0 if atol is None else atol, xp)
    if rtol is not None:
        r_tol = _tolerance(rtol, xp)
    else:
        default = xp.asarray(float(np.finfo(d.dtype).eps) * max(m, n), dtype=np.float64)
        r_tol = xp.where(a_tol > 0, 0.0, default) if atol is not None else default
    limit = xp.maximum(a_tol[..., None], r_tol[..., None] * top.astype(np.float64))
    return _out(out, wrap((S > limit).sum(-1).astype(np.int64), A._dev))


# ---- cond --------------------------------------------------------------------------------------------------------
def _ord_text(p: Any) -> str:
    """The order as torch's message shows it: std::to_string of an int, or of a float ('1.000000', 'inf')."""
    return str(p) if isinstance(p, int) else f"{p:f}"


def _cond_by_inverse(A: Tensor, p: Any) -> Tensor:  # noqa: N803
    """norm(A) * norm(A^-1), inf for a singular matrix (torch's _linalg_cond_helper)."""
    inverse, info = _inv_ex(A, None)
    info = info.unsqueeze(-1).unsqueeze(-1)
    inverse.masked_fill_(info > 0, math.inf)
    result = matrix_norm(A, p) * matrix_norm(inverse, p)
    return result.nan_to_num_(math.inf, math.inf, -math.inf)  # (0 * inf: NumPy's inf)


def _cond_empty(A: Tensor) -> Tensor:  # noqa: N803
    d = A._data
    return wrap(A._dev.xp.zeros(d.shape[:-2], dtype=d.dtype), A._dev)


def cond(A: Tensor, p: Any = None, *, out: Any = None) -> Tensor:  # noqa: N803
    """The condition number: the ratio of extreme singular values for p None or +-2 (rectangular A too), else
    norm(A, p) * norm(A^-1, p) for square A (p 'fro', 'nuc', +-1, +-inf)."""
    _tensor(A, "linalg_cond", "input", 1)
    if isinstance(p, str):
        _square(A, f"linalg.cond(ord={p})")
        if p not in ("fro", "nuc"):
            raise RuntimeError(f"linalg.cond got an invalid norm type: {p}")
        if A._data.size == 0:
            return _out(out, _cond_empty(A))
        if p == "nuc":  # (through the singular values: matrix_norm's nuc refuses infinities)
            sv = svdvals(A)
            return _out(out, sv.sum(-1) * sv.reciprocal().sum(-1))
        return _out(out, _cond_by_inverse(A, p))
    if A._data.ndim < 2:
        raise RuntimeError("linalg.cond: The input tensor must have at least 2 dimensions.")
    p = 2 if p is None else p
    if abs(float(p)) not in (1.0, 2.0, math.inf):
        raise RuntimeError(f"linalg.cond got an invalid norm type: {float(p):g}")
    if A._data.size == 0:
        return _out(out, _cond_empty(A))
    if abs(float(p)) == 2.0:
        sv = svdvals(A)
        k = sv._data.shape[-1]
        s_max, s_min = sv.narrow(-1, 0, 1), sv.narrow(-1, k - 1, 1)
        return _out(out, (s_min / s_max if p < 0 else s_max / s_min).squeeze(-1))
    _square(A, f"linalg.cond(ord={_ord_text(p)})")
    return _out(out, _cond_by_inverse(A, p))


# ---- vander ------------------------------------------------------------------------------------------------------
def vander(x: Tensor, *, N: Any = None) -> Tensor:  # noqa: N803
    """Columns x^0, x^1, ..., x^(N-1) over a last new dim: ones, then the cumulative products of x."""
    _tensor(x, "linalg_vander", "x", 1)
    dt = x._data.dtype
    if dt.kind not in "iuf" or dt == np.float16:
        raise RuntimeError(
            f"linalg.vander supports floating point, complex, and integer tensors, but got {x.dtype.scalar_name()}"
        )
    x_ = x.unsqueeze(-1) if x._data.ndim == 0 else x
    shape = tuple(x_._data.shape)
    n = shape[-1] if N is None else int(N)
    if n <= 1:
        raise RuntimeError("N must be greater than 1.")
    powers = x_.unsqueeze(-1).expand(*shape, n - 1).cumprod(-1)
    ones = wrap(x._dev.xp.ones(shape + (1,), dtype=powers._data.dtype), x._dev)
    return cat([ones, powers], -1)


# ---- tensorinv / tensorsolve ------------------------------------------------------------------------------------
def tensorinv(A: Tensor, ind: int = 2, *, out: Any = None) -> Tensor:  # noqa: N803
    """The inverse of A read as a matrix of its first `ind` dims by the rest, shaped rest + first."""
    _tensor(A, "linalg_tensorinv", "input", 1)
    if ind <= 0:
        raise RuntimeError(f"Expected a strictly positive integer for 'ind', but got {ind}")
    shape = tuple(A._data.shape)
    if ind > len(shape):
        raise RuntimeError(f"ArrayRef: invalid slice, N = {ind}; size = {len(shape)}")
    head, tail = shape[:ind], shape[ind:]
    rows, cols = math.prod(head), math.prod(tail)
    if rows != cols:
        raise RuntimeError(
            "Expected self to satisfy the requirement prod(self.shape[ind:]) == prod(self.shape[:ind]), but got "
            f"{cols} != {rows}"
        )
    inverse, _ = _inv_ex(A.reshape(rows, rows), "inv")
    return _out(out, inverse.reshape(tail + head))


def tensorsolve(A: Tensor, B: Tensor, dims: Any = None, *, out: Any = None) -> Tensor:  # noqa: N803
    """X with tensordot(A, X, X.ndim) = B: A's dims past B's read as one matrix (dims moves those named last)."""
    _tensor(A, "linalg_tensorsolve", "input", 1)
    _tensor(B, "linalg_tensorsolve", "other", 2)
    nd = A._data.ndim
    if dims is not None:
        dims = [dims] if isinstance(dims, int) else list(dims)
        A = A.movedim(dims, list(range(nd - len(dims), nd)))
    result_shape = tuple(A._data.shape[B._data.ndim :])
    size, other = math.prod(result_shape), math.prod(B._data.shape)
    if size != other:
        raise RuntimeError(
            "Expected self to satisfy the requirement prod(self.shape[other.ndim:]) == prod(self.shape[:other.ndim]), "
            f"but got {size} != {other}"
        )
    return _out(out, solve(A.reshape(size, size), B.flatten()).reshape(result_shape))


_NUCLEAR_WARNING = (
    "at::nuclear_norm is deprecated and it is just left for JIT compatibility. It will be removed in a future "
    "PyTorch release. Please use `linalg.matrix_norm(A, 'nuc', dim, keepdim)` instead (Triggered internally at "
    "/__w/pytorch/pytorch/aten/src/ATen/native/LinearAlgebra.cpp:{line}.)"
)


def nuclear_norm(input: Tensor, dim: Any = None, keepdim: bool = False, *, out: Any = None) -> Tensor:  # noqa: A002
    """torch.nuclear_norm (deprecated in torch, with its warning): linalg.matrix_norm(input, 'nuc', dim, keepdim),
    dim (-2, -1) when not given."""
    from engine.warn import warn_once

    # (torch warns once from each of its three overloads: the plain one, and out= with and without dim)
    warn_once(_NUCLEAR_WARNING.format(line=3229 if out is None else 3217 if dim is None else 3241))
    return matrix_norm(input, "nuc", (-2, -1) if dim is None else dim, keepdim, out=out)


LINALG = {"matrix_rank": matrix_rank, "cond": cond, "vander": vander, "tensorinv": tensorinv,
          "tensorsolve": tensorsolve}  # fmt: skip
TORCH = {"nuclear_norm": nuclear_norm}
METHODS: dict = {}
