"""SLEEF's log1p and expm1 (Sleef_log1pf16_u10 / Sleef_expm1f16_u10, AVX512 build with FMA; float64:
Sleef_log1p8_u10 / Sleef_expm18_u10), bit for bit, on numpy arrays: torch's Vectorized<float>::log1p() and
::expm1(). torch's cpu log1p and expm1 kernels (IMPLEMENT_FLOAT_KERNEL in UnaryOpsKernel.cpp) run
vml::vlog1p / vml::vexpm1, a vec::map of the Vectorized function over the whole run (its tail through a
partial load, a strided input copied into a contiguous buffer first; MKL's VML is not used for these two), so
every element, of any layout and size, gets SLEEF's result: measured against torch 2.13, the C library's
log1pf / expm1f differ from it on ~6-9% of float32 arguments, strided or not.

The float32 functions follow xlog1pf and xexpm1f (expk2f) of src/libm/sleefsimdsp.c and the float64 ones
xlog1p and xexpm1 (expk2) of src/libm/sleefsimddp.c, step by step, with the double-float / double-double
helpers of engine/ops/sleef_pow.py (df.h's and dd.h's FMA variants): every operation rounds once in its
dtype, every vmla/vfma is an exact fused multiply-add, and vgetexp / vrint / vldexp3 / vpow2i work as the
AVX-512 instructions and the source's int32 arithmetic do.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from engine.ops import mkl, sleef
from engine.ops import sleef_pow as P
from engine.ops.cpu_capability import has_fma, kernel_build
from engine.ops.cpu_loops import fresh_like
from engine.ops.fma import chunked

F32 = np.dtype(np.float32)
F64 = np.dtype(np.float64)
I32 = np.dtype(np.int32)
_c = P._c
_ONE, _TWO = _c(1.0), _c(2.0)
_INF = np.float32(np.inf)
_ALL_ONES = P._ALL_ONES  # vor with a true mask: every bit set, a NaN
_LN2_HI, _LN2_LO = P._LN2_HI, P._LN2_LO
_R075 = P._R075
_LOG1P_T = (_c(0.3027294874), _c(0.3996108174), _c(0.6666694880))
_BIG = _c(1e38)


def _getexp(y: np.ndarray) -> np.ndarray:
    """vgetexp_vf_vf: floor(log2 |y|) as a float (subnormals normalized), -inf for 0, +inf for inf, NaN."""
    _, ey = np.frexp(y)
    e = (ey - 1).astype(y.dtype)
    e[y == 0] = -np.inf
    e[np.isinf(y)] = np.inf
    e[np.isnan(y)] = np.nan
    return e


def log1pf(d: np.ndarray) -> np.ndarray:
    """Sleef_log1pf16_u10 (xlog1pf, AVX512 branch) of a float32 array, a new float32 array."""
    d = np.asarray(d, dtype=F32)
    shape = d.shape
    d = d.reshape(-1)
    with np.errstate(all="ignore"):
        dp1 = d + _ONE
        e = _getexp(dp1 * _R075)
        e[e == _INF] = _c(128.0)
        q = P._rint_i32(e)
        t = ((-q) << 23).astype(I32)
        t += np.int32(0x3F800000)  # vldexp3_vf_vf_vi2(1, -q): 1's bits plus -q in the exponent field
        t = t.view(F32)
        m = d * t + (t - _ONE)  # fma(d, t, t - 1): t is a power of two, so d * t is exact
        sx, sy = P._dfmul_f2f(np.full_like(e, _LN2_HI), np.full_like(e, _LN2_LO), e)
        ax = _TWO + m  # dfadd_vf2_vf_vf(2, m)
        ay = (_TWO - ax) + m
        xx, xy = P._dfdiv(m, np.zeros_like(m), ax, ay)
        x2 = xx * xx
        tt = P._fma(_LOG1P_T[0], x2, _LOG1P_T[1])
        tt = P._fma(tt, x2, _LOG1P_T[2])
        sx, sy = P._dfadd_f2f2(sx, sy, xx * _TWO, xy * _TWO)
        v = x2 * xx * tt  # dfadd_vf2_vf2_vf(s, v)
        rx = sx + v
        sy = ((sx - rx) + v) + sy
        r = rx + sy
        big = d > _BIG  # (SLEEF 3.6's LOG1PF_BOUND: past it, xlogf_u1(d))
        if np.count_nonzero(big):
            r[big] = sleef.logf_exact(d[big])
        r[-_ONE > d] = _ALL_ONES
        r[d == -_ONE] = -_INF
        r[(d == 0) & np.signbit(d)] = _c(-0.0)
    return r.reshape(shape)


_EXPK2_U = (_c(0.1980960224e-3), _c(0.1394256484e-2), _c(0.8333456703e-2), _c(0.4166637361e-1))
_C6 = _c(0.166666659414234244790680580464e0)
_HALF = _c(0.5)


def _pow2i(q: np.ndarray) -> np.ndarray:
    """vpow2i_vf_vi2: 2^q from the bits, in the source's int32 arithmetic (wrapping)."""
    return ((q + np.int32(0x7F)) << 23).astype(I32).view(F32)


def _ldexp2(x: np.ndarray, q: np.ndarray) -> np.ndarray:
    """vldexp2_vf_vf_vi2: x * 2^(q >> 1) * 2^(q - (q >> 1)), two float32 multiplies."""
    h = q >> 1
    return x * _pow2i(h) * _pow2i(q - h)


def expm1f(a: np.ndarray) -> np.ndarray:
    """Sleef_expm1f16_u10 (xexpm1f: expk2f of (a, 0), then dfadd2 -1) of a float32 array, a new array."""
    a = np.asarray(a, dtype=F32)
    shape = a.shape
    a = a.reshape(-1)
    with np.errstate(all="ignore"):
        # (the results of arguments outside [-17, 89] or NaN are replaced below: compute those on 0)
        keep = (a >= _c(-17.0)) & (a <= _c(89.0))
        d = np.where(keep, a, _c(0.0))
        rx, ry = expk2f(d)
        rx, ry = P._dfadd2_f2f(rx, ry, -_ONE)
        r = rx + ry
        r[a > _c(88.72283172607421875)] = _INF
        r[a < _c(-16.635532333438687426013570)] = -_ONE
        r[(a == 0) & np.signbit(a)] = _c(-0.0)
        nan = np.isnan(a)
        r[nan] = a[nan]
    return r.reshape(shape)


def expk2f(d: np.ndarray) -> tuple:
    """expk2f of (d, 0) (sleefsimdsp.c): exp(d) as a float32 pair, for finite d whose results stay finite
    (the callers replace the others)."""
    with np.errstate(all="ignore"):
        u = d * P._R_LN2
        q = P._rint_i32(u)
        qf = q.astype(F32)
        sx, sy = P._dfadd2_f2f(d, np.zeros_like(d), qf * -P._L2U)
        sx, sy = P._dfadd2_f2f(sx, sy, qf * -P._L2L)
        u = P._fma(_EXPK2_U[0], sx, _EXPK2_U[1])
        u = P._fma(u, sx, _EXPK2_U[2])
        u = P._fma(u, sx, _EXPK2_U[3])
        tx, ty = P._dfmul_f2f(sx, sy, u)
        tx, ty = P._dfadd2_f2f(tx, ty, _C6)
        tx, ty = P._dfmul_f2f2(sx, sy, tx, ty)
        tx, ty = P._dfadd2_f2f(tx, ty, _HALF)
        qx, qy = P._dfsqu(sx, sy)
        tx, ty = P._dfmul_f2f2(qx, qy, tx, ty)
        tx, ty = P._dfadd2_f2f2(sx, sy, tx, ty)
        rx = _ONE + tx  # dfadd_vf2_vf_vf2(1, t)
        ry = ((_ONE - rx) + tx) + ty
        rx = _ldexp2(rx, q)
        ry = _ldexp2(ry, q)
        lo = d < _c(-104.0)
        rx[lo] = 0
        ry[lo] = 0
    return rx, ry


# ---- float64: xlog1p and xexpm1 (expk2) of src/libm/sleefsimddp.c, dd.h's FMA variants -------------------

_LOG1P_C7 = (
    0.1532076988502701353e0,
    0.1525629051003428716e0,
    0.1818605932937785996e0,
    0.2222214519839380009e0,
    0.2857142932794299317e0,
    0.3999999999635251990e0,
    0.6666666666667333541e0,
)
_EXPK2_C10 = (
    0.1602472219709932072e-9,
    0.2092255183563157007e-8,
    0.2505230023782644465e-7,
    0.2755724800902135303e-6,
    0.2755731892386044373e-5,
    0.2480158735605815065e-4,
    0.1984126984148071858e-3,
    0.1388888888886763255e-2,
    0.8333333333333347095e-2,
    0.4166666666666669905e-1,
)


def _poly7(x: np.ndarray, x2: np.ndarray, x4: np.ndarray, c: tuple) -> np.ndarray:
    """estrin.h's POLY7 (c: c6 .. c0), every MLA an fma."""
    f = P._fma64
    p3 = f(x2, c[0], f(x, c[1], np.full_like(x, c[2])))
    return f(x4, p3, P._poly4(x, x2, *c[3:]))


def log1p64(d: np.ndarray) -> np.ndarray:
    """Sleef_log1p8_u10 (xlog1p, AVX512 branch) of a float64 array, a new float64 array."""
    d0 = np.asarray(d, dtype=F64)
    shape = d0.shape
    d0 = d0.reshape(-1)
    with np.errstate(all="ignore"):
        ok = (d0 > -1.0) & (d0 <= 1e307)  # (the others are replaced below: computed on 0)
        d = np.where(ok, d0, 0.0)
        dp1 = d + 1.0
        e = _getexp(dp1 * (1.0 / 0.75))
        t = np.ldexp(1.0, -e.astype(np.int64))  # vldexp3(1, -rint(e)): e is an integer in [-54, 1020] here
        m = d * t + (t - 1.0)  # fma(d, t, t - 1): t is a power of two, so d * t is exact
        sx, sy = P._dmul_d2d(np.full_like(e, P._LN2_D[0]), np.full_like(e, P._LN2_D[1]), e)
        ax = 2.0 + m  # ddadd_vd2_vd_vd(2, m)
        ay = (2.0 - ax) + m
        xx, xy = P._ddiv(m, np.zeros_like(m), ax, ay)
        x2 = xx * xx
        x4 = x2 * x2
        x8 = x4 * x4
        tt = _poly7(x2, x4, x8, _LOG1P_C7)
        sx, sy = P._dfadd_f2f2(sx, sy, xx * 2.0, xy * 2.0)
        v = x2 * xx * tt  # ddadd_vd2_vd2_vd(s, v)
        rx = sx + v
        sy = ((sx - rx) + v) + sy
        r = rx + sy
        big = d0 > 1e307  # (SLEEF 3.6's LOG1P_BOUND: past it, xlog_u1(d))
        if np.count_nonzero(big):
            r[big] = _log_u1_64(d0[big])
        r[(d0 < -1.0) | np.isnan(d0)] = np.nan
        r[d0 == -1.0] = -np.inf
        r[(d0 == 0) & np.signbit(d0)] = -0.0
    return r.reshape(shape)


def _log_u1_64(d: np.ndarray) -> np.ndarray:
    """xlog_u1 (Sleef_log8_u10, AVX512 branch) for float64 d in (1e307, inf]."""
    y = d * (1.0 / 0.75)
    e = _getexp(y)
    e[np.isinf(y)] = 1024.0
    md, _ = np.frexp(d)
    m = md * 2.0  # vgetmant into [0.75, 1.5)
    m = np.where(m >= 1.5, m * 0.5, m)
    sx, sy = P._dmul_d2d(np.full_like(e, P._LN2_D[0]), np.full_like(e, P._LN2_D[1]), e)
    nx, ny = P._dfadd2_ff(-1.0, m)
    dx, dy = P._dfadd2_ff(1.0, m)
    xx, xy = P._ddiv(nx, ny, dx, dy)
    x2 = xx * xx
    x4 = x2 * x2
    x8 = x4 * x4
    tt = _poly7(x2, x4, x8, _LOG1P_C7)
    sx, sy = P._dfadd_f2f2(sx, sy, xx * 2.0, xy * 2.0)
    v = x2 * xx * tt
    rx = sx + v
    sy = ((sx - rx) + v) + sy
    r = rx + sy
    r[np.isinf(d)] = np.inf
    return r


def expm1_64(a: np.ndarray) -> np.ndarray:
    """Sleef_expm18_u10 (xexpm1: expk2 of (a, 0), then ddadd2 -1) of a float64 array, a new array."""
    a0 = np.asarray(a, dtype=F64)
    shape = a0.shape
    a0 = a0.reshape(-1)
    with np.errstate(all="ignore"):
        keep = (a0 >= -37.0) & (a0 <= 710.0)  # (the others are replaced below: computed on 0)
        d = np.where(keep, a0, 0.0)
        tx, ty = expk2_64(d)
        rx, ry = P._dfadd2_f2f(tx, ty, -1.0)
        r = rx + ry
        r[a0 > 709.782712893383996732223] = np.inf
        r[a0 < -36.736800569677101399113302437] = -1.0
        r[(a0 == 0) & np.signbit(a0)] = -0.0
        nan = np.isnan(a0)
        r[nan] = a0[nan]
    return r.reshape(shape)


def expk2_64(d: np.ndarray) -> tuple:
    """expk2 of (d, 0) (sleefsimddp.c): exp(d) as a float64 pair, for finite d in [-1000, 710] (the callers
    replace the others)."""
    f = P._fma64
    with np.errstate(all="ignore"):
        dq = np.rint(d * P._R_LN2_D)
        sx, sy = P._dfadd2_f2f(d, np.zeros_like(d), dq * -P._L2U_D)
        sx, sy = P._dfadd2_f2f(sx, sy, dq * -P._L2L_D)
        s2x, s2y = P._dsqu(sx, sy)
        s4x, s4y = P._dsqu(s2x, s2y)
        s8 = s4x * s4x
        c = _EXPK2_C10
        u = f(s8, f(sx, c[0], np.full_like(sx, c[1])), P._poly8(sx, s2x, s4x, c[2:]))
        tx, ty = P._dmul_d2d(sx, sy, 0.1666666666666666574e0)
        tx, ty = _dadd_d_d2(0.5, tx, ty)
        tx, ty = P._dmul_d2d2(tx, ty, sx, sy)
        tx, ty = _dadd_d_d2(1.0, tx, ty)
        tx, ty = P._dmul_d2d2(tx, ty, sx, sy)
        tx, ty = _dadd_d_d2(1.0, tx, ty)
        mx, my = P._dmul_d2d(s4x, s4y, u)
        tx, ty = P._dfadd_f2f2(tx, ty, mx, my)
        q = dq.astype(np.int64)
        tx = np.ldexp(tx, q)  # vldexp2: exact scalings by powers of two over the range kept
        ty = np.ldexp(ty, q)
    return tx, ty


def _dadd_d_d2(x: float, yx: np.ndarray, yy: np.ndarray) -> tuple:
    """ddadd_vd2_vd_vd2(x, y)."""
    s = x + yx
    return s, ((x - s) + yx) + yy


# ---- torch's kernels ---------------------------------------------------------------------------------------


def usable(a: Any) -> bool:
    """Whether `log1p` / `expm1` compute torch's bits for a: a float32 or float64 numpy array, in exact mode (the
    exact extra's MKL loaded: these cost several times numpy's functions) and in a kernel build with FMA (the
    df.h / dd.h variants emulated here)."""
    return (
        type(a) is np.ndarray and (a.dtype == F32 or a.dtype == F64) and mkl.available() and has_fma(kernel_build(True))
    )


def _torch_kernel(name: str, vec32: Any, vec64: Any, fallback: Any) -> Any:
    def f(a: Any) -> Any:
        if not usable(a):
            return fallback(a)
        r = chunked(vec32 if a.dtype == F32 else vec64, a)
        if a.flags.c_contiguous:
            return r
        out = fresh_like(a)  # (the input's memory order, as numpy's ufuncs and TensorIterator give)
        np.copyto(out, r)
        return out

    f.__name__ = name
    f.__doc__ = (
        f"torch's cpu {name} of a float32/float64 numpy array in exact mode (SLEEF's {name} on every element), "
        f"numpy's {name} otherwise."
    )
    return f


log1p = _torch_kernel("log1p", log1pf, log1p64, np.log1p)
expm1 = _torch_kernel("expm1", expm1f, expm1_64, np.expm1)
