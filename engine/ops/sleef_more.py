"""More of SLEEF's vector functions, bit for bit, on numpy arrays (AVX512 build with FMA): the ones torch's
Vectorized<T> calls in its activation and softmax kernels beyond sleef.py's expf/logf and sleef_log1p.py's
log1p/expm1.

- `exp64`: Sleef_expd8_u10 (xexp in src/libm/sleefsimddp.c, its ENABLE_FMA_DP branch): Vectorized<double>::exp(),
  the vector half of torch's float64 softmax, log_softmax, sigmoid, silu, softplus, logsigmoid, mish kernels.
- `log64`: Sleef_logd8_u10 (xlog_u1, AVX512 branch): Vectorized<double>::log() (log_softmax).

Every operation rounds once in its dtype as the vector instruction does; every vmla/vfma is an exact fused
multiply-add (sleef_pow's `_fma64`, engine/ops/fma.py's float64 emulation; `_fma` for float32).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from engine.ops import mkl
from engine.ops import sleef_pow as P
from engine.ops.cpu_capability import has_fma, kernel_build

F32 = np.dtype(np.float32)
F64 = np.dtype(np.float64)
_CHUNK = 16384  # elements a pass works on: dozens of fresh temporaries of the whole size cost page faults

# xexp's POLY10 coefficients (c9 .. c0), FMA branch
_EXP_C10 = (
    0.2081276378237164457e-8,
    0.2511210703042288022e-7,
    0.2755762628169491192e-6,
    0.2755723402025388239e-5,
    0.2480158687479686264e-4,
    0.1984126989855865850e-3,
    0.1388888888914497797e-2,
    0.8333333333314938210e-2,
    0.4166666666666602598e-1,
    0.1666666666666669072e0,
)


def usable_fma() -> bool:
    """Whether torch's kernel build here has FMA (AVX2, AVX512): the SLEEF variants emulated here."""
    return has_fma(kernel_build(True))


def usable(a: Any) -> bool:
    """Whether the kernels built on these functions compute a: a float32 or float64 numpy array with a dim, in
    exact mode (the exact extra's MKL loaded: these emulations cost several times numpy's formulas) and an
    FMA build."""
    return (
        type(a) is np.ndarray and (a.dtype == F32 or a.dtype == F64) and a.ndim > 0 and mkl.available() and usable_fma()
    )


def chunked(fn: Any, *arrays: np.ndarray) -> np.ndarray:
    """fn over same-shaped arrays (C order) in cache-sized pieces, a new C-contiguous array of their shape."""
    shape = arrays[0].shape
    xs = [np.ascontiguousarray(a).reshape(-1) for a in arrays]
    n = xs[0].size
    if n <= _CHUNK:
        return fn(*xs).reshape(shape)
    r = None
    for b in range(0, n, _CHUNK):
        piece = fn(*(x[b : b + _CHUNK] for x in xs))
        if r is None:
            r = np.empty(n, piece.dtype)
        r[b : b + _CHUNK] = piece
    return r.reshape(shape)


def _exp64(d: np.ndarray) -> np.ndarray:
    f = P._fma64
    with np.errstate(all="ignore"):
        x = np.where((d >= -1000.0) & (d <= 710.0), d, 0.0)  # (the others are replaced below)
        u = np.rint(x * P._R_LN2_D)
        s = x - u * P._L2U_D  # fma(u, -L2U, d): u * L2U is exact (L2U has few bits, |u| < 2^11)
        s = f(u, -P._L2L_D, s)
        s2 = s * s
        s4 = s2 * s2
        s8 = s4 * s4
        c = _EXP_C10
        p = f(s8, f(s, c[0], np.full_like(s, c[1])), P._poly8(s, s2, s4, c[2:]))
        p = f(p, s, np.full_like(s, 0.5))
        p = f(p, s, np.ones_like(s))
        p = f(p, s, np.ones_like(s))
        # vldexp2: p * 2^(q>>1) * 2^(q - (q>>1)); the first product is exact over this range, so one rounding
        r = np.ldexp(p, u.astype(np.int32))
        r[d > 709.78271114955742909217217426] = np.inf
        r[d < -1000.0] = 0.0
        nan = np.isnan(d)
        if np.count_nonzero(nan):
            r[nan] = d[nan]
    return r


def exp64(d: np.ndarray) -> np.ndarray:
    """Sleef_expd8_u10 (xexp, FMA branch) of a float64 array, a new array."""
    d = np.asarray(d, dtype=F64)
    return chunked(_exp64, d)


def _log64(d: np.ndarray) -> np.ndarray:
    from engine.ops.sleef_log1p import _log_u1_64  # (xlog_u1 for positive d, infinity included)

    with np.errstate(all="ignore"):
        ok = d > 0
        r = _log_u1_64(np.where(ok, d, 1.0))
        if not np.all(ok):
            r[d == 0] = -np.inf
            r[~ok & (d != 0)] = np.nan  # (negatives and NaN)
    return r


def log64(d: np.ndarray) -> np.ndarray:
    """Sleef_logd8_u10 (xlog_u1, AVX512 branch) of a float64 array, a new array."""
    d = np.asarray(d, dtype=F64)
    return chunked(_log64, d)
