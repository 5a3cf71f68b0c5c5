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


# ---- hyperbolic functions: xsinhf / xcoshf / xtanhf (sleefsimdsp.c), xsinh / xcosh / xtanh (sleefsimddp.c) ----
# expk2 of |x| as a pair, its reciprocal (df.h / dd.h's FMA dfrec), then a pair sum or difference (or dfdiv)


def _rec(dx: np.ndarray, dy: np.ndarray) -> tuple:
    """dfrec_vf2_vf2 / ddrec_vd2_vd2 (FMA variants): 1 / (dx + dy) as a pair."""
    if dx.dtype == F32:
        one = np.float32(1.0)
        s = one / dx
        return s, s * P._fma(-dy, s, P._fma(-dx, s, one))
    s = 1.0 / dx
    # fma(-dx, s, 1) with both factors scaled by inverse powers of two (the same exact product): the fma
    # emulation's split of dx would overflow past 2^996
    _, e = np.frexp(dx)
    inner = P._fma64(-np.ldexp(dx, -e), np.ldexp(s, e), np.ones_like(dx))
    return s, s * P._fma64(-dy, s, inner)


def _sub22(xx: Any, xy: Any, yx: Any, yy: Any) -> tuple:
    """dfsub_vf2_vf2_vf2 / ddsub_vd2_vd2_vd2."""
    s = xx - yx
    return s, (((xx - s) - yx) + xy) - yy


def _div22(nx: Any, ny: Any, dx: Any, dy: Any) -> tuple:
    """dfdiv_vf2_vf2_vf2 / dddiv_vd2_vd2_vd2 (FMA variants)."""
    return (P._dfdiv if nx.dtype == F32 else P._ddiv)(nx, ny, dx, dy)


def _expk2(y: np.ndarray) -> tuple:
    from engine.ops import sleef_log1p as L

    return L.expk2f(y) if y.dtype == F32 else L.expk2_64(y)


def _hyperbolic(kind: str, x: np.ndarray) -> np.ndarray:
    f32 = x.dtype == F32
    dt = x.dtype.type
    big = dt(89.0 if f32 else 710.0) if kind != "tanh" else dt(8.664339742 if f32 else 18.714973875)
    with np.errstate(all="ignore"):
        ax = np.abs(x)
        y = np.where(ax <= big, ax, dt(0))  # (the others are replaced below)
        dx, dy = _expk2(y)
        ex, ey = _rec(dx, dy)
        if kind == "sinh":
            dx, dy = _sub22(dx, dy, ex, ey)
            r = (dx + dy) * dt(0.5)
        elif kind == "cosh":
            dx, dy = P._dfadd_f2f2(dx, dy, ex, ey)
            r = (dx + dy) * dt(0.5)
        else:
            nx, ny = P._dfadd_f2f2(dx, dy, -ex, -ey)
            mx, my = P._dfadd_f2f2(dx, dy, ex, ey)
            dx, dy = _div22(nx, ny, mx, my)
            r = dx + dy
        over = (ax > big) | np.isnan(r)
        r[over] = dt(1.0) if kind == "tanh" else dt(np.inf)
        if kind != "cosh":
            r = np.copysign(r, x)  # vmulsign: |r| with x's sign (r is not negative)
        nan = np.isnan(x)
        if np.count_nonzero(nan):
            r[nan] = np.nan
    return r


def sinh(x: np.ndarray) -> np.ndarray:
    """Sleef_sinhf16_u10 / Sleef_sinhd8_u10 of a float32 / float64 array."""
    return chunked(lambda v: _hyperbolic("sinh", v), np.asarray(x))


def cosh(x: np.ndarray) -> np.ndarray:
    """Sleef_coshf16_u10 / Sleef_coshd8_u10 of a float32 / float64 array."""
    return chunked(lambda v: _hyperbolic("cosh", v), np.asarray(x))


def tanh(x: np.ndarray) -> np.ndarray:
    """Sleef_tanhf16_u10 / Sleef_tanhd8_u10 of a float32 / float64 array."""
    return chunked(lambda v: _hyperbolic("tanh", v), np.asarray(x))


# ---- exp2: xexp2f (sleefsimdsp.c) and xexp2 (sleefsimddp.c), their FMA branches --------------------------------

_EXP2F_C = tuple(
    np.float32(c)
    for c in (0.1535920892e-3, 0.1339262701e-2, 0.9618384764e-2, 0.5550347269e-1, 0.2402264476e0, 0.6931471825e0)
)
_EXP2_C10 = (
    0.4434359082926529454e-9,
    0.7073164598085707425e-8,
    0.1017819260921760451e-6,
    0.1321543872511327615e-5,
    0.1525273353517584730e-4,
    0.1540353045101147808e-3,
    0.1333355814670499073e-2,
    0.9618129107597600536e-2,
    0.5550410866482046596e-1,
    0.2402265069591012214e0,
)


def _exp2f(d: np.ndarray) -> np.ndarray:
    from engine.ops.sleef_log1p import _ldexp2

    one = np.float32(1.0)
    with np.errstate(all="ignore"):
        x = np.where((d >= -151) & (d <= 129), d, np.float32(0))  # (the others are replaced below)
        u = np.rint(x)
        q = u.astype(np.int32)
        s = x - u  # (exact)
        c = _EXP2F_C
        p = P._fma(c[0], s, c[1])
        for k in c[2:]:
            p = P._fma(p, s, k)
        p = P._fma(p, s, one)
        r = _ldexp2(p, q)
        r[d >= 128] = np.inf
        r[d < -150] = 0
        nan = np.isnan(d)
        if np.count_nonzero(nan):
            r[nan] = d[nan]
    return r


def _exp2_64(d: np.ndarray) -> np.ndarray:
    f = P._fma64
    with np.errstate(all="ignore"):
        x = np.where((d >= -2001.0) & (d <= 1025.0), d, 0.0)  # (the others are replaced below)
        u = np.rint(x)
        s = x - u  # (exact)
        s2 = s * s
        s4 = s2 * s2
        s8 = s4 * s4
        c = _EXP2_C10
        p = f(s8, f(s, c[0], np.full_like(s, c[1])), P._poly8(s, s2, s4, c[2:]))
        p = f(p, s, np.full_like(s, 0.6931471805599452862e0))
        p = f(p, s, np.ones_like(s))
        # vldexp2: p * 2^(q>>1) * 2^(q - (q>>1)): the first product is exact here, so one rounding
        r = np.ldexp(p, u.astype(np.int32))
        r[d >= 1024] = np.inf
        r[d < -2000] = 0.0
        nan = np.isnan(d)
        if np.count_nonzero(nan):
            r[nan] = d[nan]
    return r


def exp2(x: np.ndarray) -> np.ndarray:
    """Sleef_exp2f16_u10 / Sleef_exp2d8_u10 of a float32 / float64 array."""
    x = np.asarray(x)
    return chunked(_exp2f if x.dtype == F32 else _exp2_64, x)
