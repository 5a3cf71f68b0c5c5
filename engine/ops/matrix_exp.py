"""torch.linalg.matrix_exp (and torch.matrix_exp, Tensor.matrix_exp): torch's algorithm, so results round as its do.

torch evaluates an optimized Taylor polynomial of degree 1, 2, 4, 8, 12 or 18 (Bader, Blanes and Casas, 2019),
picked by the matrix's 1-norm against per-dtype thresholds, and for larger norms (and for every matrix of a batch)
the degree-18 one on the matrix scaled by a power of two, squared back as often (aten/src/ATen/native/
LinearAlgebra.cpp: mexp, compute_T*). This runs the same products in the array library, in the input's dtype.
float16 is computed in float32 and rounded: torch's own float16 kernel reads its coefficients with the wrong width
and returns nan or inf.

The gradient is torch's linalg_matrix_exp_differential: the exponential of the block matrix [[A^T, G], [0, A^T]],
whose upper right block is the adjoint of the differential at A applied to G; built from engine ops, so it
differentiates again."""

from __future__ import annotations

from typing import Any

import numpy as np

from engine.ops.index import cat
from engine.ops.linalg_more import _floating, _record, _square, _tensor
from engine.ops.util import node_class
from engine.tensor import Tensor, wrap

# the 1-norms up to which each degree (1, 2, 4, 8, 12, 18) is accurate to the dtype's precision
_THETAS = {
    np.dtype(np.float32): (1.192092800768788e-07, 5.978858893805233e-04, 5.116619363445086e-02,
                           5.800524627688768e-01, 1.461661507209034e00, 3.010066362817634e00),
    np.dtype(np.float64): (2.220446049250313e-16, 2.580956802971767e-08, 3.397168839976962e-04,
                           4.991228871115323e-02, 2.996158913811580e-01, 1.090863719290036e00),
}  # fmt: skip

_SQRT_177 = 0.1330413469565007072504e2
_X3 = 2.0 / 3.0
_T8 = {  # compute_T8's constants
    "x1": _X3 * ((1.0 + _SQRT_177) / 88.0),
    "x2": _X3 * ((1.0 + _SQRT_177) / 352.0),
    "x4": (-271.0 + 29.0 * _SQRT_177) / (315.0 * _X3),
    "x5": (-11.0 + 11.0 * _SQRT_177) / (1260.0 * _X3),
    "x6": (-99.0 + 11.0 * _SQRT_177) / (5040.0 * _X3),
    "x7": (89.0 - _SQRT_177) / (5040.0 * _X3),
    "y2": (857.0 - 58.0 * _SQRT_177) / 630.0,
}
_B12 = (
    (9.0198e-16, 0.46932117595418237389, -0.20099424927047284052, -0.04623946134063071740),
    (5.31597895759871264183, 1.19926790417132231573, 0.01179296240992997031, 0.01108844528519167989),
    (0.18188869982170434744, 0.05502798439925399070, 0.09351590770535414968, 0.00610700528898058230),
    (-2.0861320e-13, -0.13181061013830184015, -0.02027855540589259079, -0.00675951846863086359),
)
_B18 = (
    (0.0, -1.00365581030144618291e-01, -8.02924648241156932449e-03, -8.92138498045729985177e-04, 0.0),
    (0.0, 3.97849749499645077844e-01, 1.36783778460411720168e00, 4.98289622525382669416e-01,
     -6.37898194594723280150e-04),
    (-1.09676396052962061844e01, 1.68015813878906206114e00, 5.71779846478865511061e-02,
     -6.98210122488052056106e-03, 3.34975017086070470649e-05),
    (-9.04316832390810593223e-02, -6.76404519071381882256e-02, 6.75961301770459654925e-02,
     2.95552570429315521194e-02, -1.39180257516060693404e-05),
    (0.0, 0.0, -9.23364619367118555360e-02, -1.69364939002081722752e-02, -1.40086798182036094347e-05),
)  # fmt: skip


def _powers(xp: Any, a: Any, count: int) -> list:
    """The first `count` of I, A, A^2, A^3, A^6 (torch's _fill_matrix_powers)."""
    out = [xp.broadcast_to(xp.eye(a.shape[-1], dtype=a.dtype), a.shape), a]
    if count > 2:
        out.append(a @ a)
    if count > 3:
        out.append(a @ out[2])
    if count > 4:
        out.append(out[3] @ out[3])
    return out[:count]


def _combine(powers: list, coefs: Any) -> Any:
    """sum_j coefs[j] * powers[j], each coefficient rounded to the powers' dtype first (as torch's tensor of them)."""
    dt = powers[0].dtype.type
    r = powers[0] * dt(coefs[0])
    for p, c in zip(powers[1:], coefs[1:]):
        r = r + p * dt(c)
    return r


def _t1(xp: Any, a: Any) -> Any:
    return _combine(_powers(xp, a, 2), (1.0, 1.0))


def _t2(xp: Any, a: Any) -> Any:
    p = _powers(xp, a, 3)
    return p[0] + p[1] + p[2] / a.dtype.type(2.0)


def _t4(xp: Any, a: Any) -> Any:
    p = _powers(xp, a, 3)
    p.append(p[2] @ _combine(p, (1 / 2.0, 1 / 6.0, 1 / 24.0)))
    return _combine(p, (1.0, 1.0, 0.0, 1.0))


def _t8(xp: Any, a: Any) -> Any:
    c = _T8
    p = _powers(xp, a, 3)
    p.append(p[2] @ _combine(p[1:3], (c["x1"], c["x2"])))  # A4
    p.append(_combine(p[2:4], (_X3, 1.0)) @ _combine(p[:4], (c["x4"], c["x5"], c["x6"], c["x7"])))  # A8
    return _combine(p, (1.0, 1.0, c["y2"], 0.0, 1.0))


def _t12(xp: Any, a: Any) -> Any:
    p = _powers(xp, a, 4)
    b = [_combine(p, row) for row in _B12]
    b2 = b[2] + b[3] @ b[3]  # + A6
    return b[0] + (b[1] + b2) @ b2


def _t18(xp: Any, a: Any) -> Any:
    p = _powers(xp, a, 5)
    b = [_combine(p, row) for row in _B18]
    b3 = b[3] + b[0] @ b[4]  # + A9
    return b[1] + (b[2] + b3) @ b3


def _t18_scale_square(xp: Any, a: Any, norm: Any, theta: float) -> Any:
    """The degree-18 polynomial of A / 2^s, squared s times, s = max(0, ceil(log2(|A|_1 / theta)))."""
    dt = a.dtype.type
    s = xp.maximum(xp.ceil(xp.log2(norm / dt(theta))), 0)
    r = _t18(xp, a * xp.power(dt(2), -s)[:, None, None])
    steps = s.astype(np.int64)
    top = int(steps.max()) if steps.size else 0
    for j in range(top):
        more = steps > j
        r = xp.where(more[:, None, None], r @ r, r)
    return r


_DEGREES = (_t1, _t2, _t4, _t8, _t12)


def _mexp(xp: Any, a: Any) -> Any:
    """e^A for a batch of n x n matrices, n >= 2 (torch's mexp)."""
    thetas = _THETAS[a.dtype]
    a3 = a.reshape((-1,) + a.shape[-2:])
    norm = xp.abs(a3).sum(-2).max(-1)
    if a3.shape[0] > 1:  # torch takes the highest degree for every batch
        return _t18_scale_square(xp, a3, norm, thetas[-1]).reshape(a.shape)
    nrm = float(norm[0])
    res = xp.full(a3.shape, np.nan, dtype=a.dtype)  # (a nan norm selects nothing: a nan result)
    lower = -1.0
    for compute, upper in zip(_DEGREES, thetas):
        if lower < nrm <= upper:
            res = compute(xp, a3)
        lower = upper
    if nrm >= thetas[-2]:
        res = _t18_scale_square(xp, a3, norm, thetas[-1])
    return res.reshape(a.shape)


def _matrix_exp_bw(self: Any, g: Tensor, A: Tensor) -> tuple:  # noqa: N803
    At = A.mT
    n = A._data.shape[-1]
    zeros = wrap(A._dev.xp.zeros(A._data.shape, dtype=g._data.dtype), A._dev)
    block = cat([cat([At, g], -1), cat([zeros, At], -1)], -2)
    return (_matrix_exp(block).narrow(-2, 0, n).narrow(-1, n, n),)


LinalgMatrixExpBackward0 = node_class("LinalgMatrixExpBackward0", _matrix_exp_bw)


def _matrix_exp(A: Tensor) -> Tensor:  # noqa: N803
    _square(A, "linalg.matrix_exp")
    _floating(A, "linalg.matrix_exp")
    d = A._data
    xp = A._dev.xp
    n = d.shape[-1]
    if n == 0:
        r = d.copy()
    elif n == 1:
        r = xp.exp(d)
    elif d.dtype == np.float16:
        r = _mexp(xp, d.astype(np.float32)).astype(np.float16)
    else:
        r = _mexp(xp, d)
    return _record(LinalgMatrixExpBackward0, xp.ascontiguousarray(r), A._dev, (A,), (A,))


def linalg_matrix_exp(input: Tensor) -> Tensor:  # noqa: A002
    _tensor(input, "linalg_matrix_exp", "input", 1)
    return _matrix_exp(input)


def matrix_exp(input: Tensor) -> Tensor:  # noqa: A002
    _tensor(input, "matrix_exp", "input", 1)
    return _matrix_exp(input)


TORCH = {"matrix_exp": matrix_exp}
LINALG = {"matrix_exp": linalg_matrix_exp}
METHODS = {"matrix_exp": matrix_exp}
