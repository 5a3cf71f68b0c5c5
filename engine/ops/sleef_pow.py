"""SLEEF's powf (Sleef_powf16_u10, xpowf in src/libm/sleefsimdsp.c, AVX512 build with FMA), bit for bit, on
float32 numpy arrays: torch's Vectorized<float>::pow, the vector half of its cpu pow kernels.

xpowf(x, y) = expkf(dfmul(logkf(|x|), y)) with the sign and special-value fix-ups of the source, where logkf
and expkf work in double-float arithmetic (df.h's FMA variants: dfmul, dfsqu, dfdiv, dfadd, dfadd2,
dfnormalize). Every float32 operation here rounds once in float32 as the vector instruction does, every
vmla/vfma is an exact fused multiply-add (`_fma`), vgetexp/vgetmant read the exponent and the mantissa as
AVX-512 does, and vrint/vldexp follow the int32 arithmetic of the source (its wrap-around included, which
decides the results of out-of-range arguments before the fix-ups replace them).

`pow64` does the same for float64 (Sleef_pow8_u10: xpow in src/libm/sleefsimddp.c, logk and expk in
double-double arithmetic, dd.h's FMA variants, Estrin's polynomials of estrin.h), its fmas through
engine/ops/fma.py's exact float64 emulation and Dekker's product for the exact ones.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from engine.ops.fma import _SMALL as _SMALL_FMA
from engine.ops.fma import _fma64 as _fma64_impl
from engine.ops.fma import chunked, fma64_small
from engine.ops.sleef import _dfadd2 as _dfadd2_ff  # (float32 or float64 alike)
from engine.ops.sleef import _getexp_getmant  # (AVX-512 vgetexp/vgetmant, as logf_exact uses them)

F32 = np.dtype(np.float32)
F64 = np.dtype(np.float64)
I32 = np.dtype(np.int32)
_INF = np.float32(np.inf)


def _c(v: float) -> np.float32:
    return np.float32(v)


def _fma(x: Any, y: Any, z: Any) -> np.ndarray:
    """RN32(x * y + z) of float32 values (arrays or numpy float32 scalars), exactly: the product is exact in
    float64 and the sum rounds once there, so rounding that to float32 is the fma's result unless the float64
    sum lies exactly halfway between two float32 values (a possible double rounding: `_fma_slow` resolves
    those, and the sums in float32's subnormal range, where the halfway points lie elsewhere)."""
    p = np.multiply(x, y, dtype=F64)
    r = p + z
    f = r.astype(F32)
    low = r.view(_U64) & _LOW29
    check = low == _HALF29
    check |= np.abs(r) < _TINY
    if np.count_nonzero(check):
        # the ties are often exact sums (a power-of-two operand), which the cast rounds right: only sums with
        # a rounding error (TwoSum's, on these elements) need _fma_slow
        i = np.flatnonzero(check)
        rr, pp, zz = r[i], _pick(p, r, i), _pick(z, r, i)
        bb = rr - pp
        i = i[((pp - (rr - bb)) + (zz - bb)) != 0]
        if i.size:
            f[i] = _fma_slow(*(_pick(v, r, i) for v in (x, y, z)))
    return f


def _pick(v: Any, like: np.ndarray, i: np.ndarray) -> Any:
    """v (broadcast to like's shape) at the flat indices i; a scalar or 0-d v stays itself."""
    if not np.ndim(v):
        return v
    return (v if v.shape == like.shape else np.broadcast_to(v, like.shape)).reshape(-1)[i]


def _fma_slow(x: Any, y: Any, z: Any) -> np.ndarray:
    """`_fma` element by element in numpy passes: a float64 sum halfway between two float32 values (normal or
    subnormal) whose exact sum is not is resolved from the sum's error (TwoSum)."""
    p = np.multiply(x, y, dtype=F64)
    zz = np.asarray(z, dtype=F64)
    r = p + zz
    f = r.astype(F32)
    d = r - f.astype(F64)  # (exact: r and f are within a float32 ulp)
    g = np.nextafter(f, np.where(d > 0, _INF, -_INF).astype(F32))
    mid = (f.astype(F64) + g.astype(F64)) * 0.5
    bb = r - p
    err = (p - (r - bb)) + (zz - bb)
    tie = (d != 0) & (r == mid) & (err != 0) & np.isfinite(r)
    # r lies between f and g, so the exact sum is nearer g when err points as d does
    return np.where(tie & ((err > 0) == (d > 0)), g, f)


def _two_prod_err(x: Any, y: Any, rx: np.ndarray) -> np.ndarray:
    """fma(x, y, -rx) for rx = RN32(x * y): exact in float64 (the product has 48 bits and rx lies within a
    factor of two of it), so one rounding to float32, the fma's."""
    r = np.multiply(x, y, dtype=F64)
    r -= rx
    return r.astype(F32)


_U64 = np.dtype(np.uint64)
_LOW29 = np.array((1 << 29) - 1, _U64)  # float64 mantissa bits below float32's precision
_HALF29 = np.array(1 << 28, _U64)  # ... holding exactly half a float32 ulp
_TINY = 2.0**-125  # below it the float32 halfway points are not where _LOW29 looks: checked slowly


# constants as vcast_vf_f makes them
_R_LN2 = _c(1.442695040888963407359924681001892137426645954152985934135449406931)
_L2U = _c(0.693145751953125)
_L2L = _c(1.428606765330187045e-06)
_LN2_HI, _LN2_LO = _c(0.69314718246459960938), _c(-1.904654323148236017e-09)
_LOGK_T = (_c(0.240320354700088500976562), _c(0.285112679004669189453125), _c(0.400007992982864379882812))
_LOGK_C = (_c(0.66666662693023681640625), _c(3.69183861259614332084311e-09))
_EXPK_U = tuple(
    _c(v)
    for v in (
        0.00136324646882712841033936,
        0.00836596917361021041870117,
        0.0416710823774337768554688,
        0.166665524244308471679688,
        0.499999850988388061523438,
    )
)
_ONE, _TWO, _ZERO = _c(1.0), _c(2.0), _c(0.0)
_R075 = _c(1.0 / 0.75)


def _dfadd2_f2f(xx: Any, xy: Any, y: Any) -> tuple:
    rx = xx + y
    v = rx - xx
    ry = (xx - (rx - v)) + (y - v)
    return rx, ry + xy


def _dfadd2_f2f2(xx: Any, xy: Any, yx: Any, yy: Any) -> tuple:
    rx = xx + yx
    v = rx - xx
    ry = (xx - (rx - v)) + (yx - v)
    return rx, ry + (xy + yy)


def _dfadd_f2f2(xx: Any, xy: Any, yx: Any, yy: Any) -> tuple:
    rx = xx + yx
    return rx, (((xx - rx) + yx) + xy) + yy


def _dfmul_f2f(xx: Any, xy: Any, y: Any) -> tuple:
    rx = xx * y
    return rx, _fma(xy, y, _two_prod_err(xx, y, rx))


def _dfmul_f2f2(xx: Any, xy: Any, yx: Any, yy: Any) -> tuple:
    rx = xx * yx
    return rx, _fma(xx, yy, _fma(xy, yx, _two_prod_err(xx, yx, rx)))


def _dfsqu(xx: Any, xy: Any) -> tuple:
    rx = xx * xx
    return rx, _fma(xx + xx, xy, _two_prod_err(xx, xx, rx))


def _dfdiv(nx: Any, ny: Any, dx: Any, dy: Any) -> tuple:
    t = _ONE / dx
    qx = nx * t
    u = _two_prod_err(t, nx, qx)
    qy = _fma(-dy, t, _fma(-dx, t, _ONE))
    return qx, _fma(qx, qy, _fma(ny, t, u))


def _logkf(d: np.ndarray) -> tuple:
    """logkf(d) for positive finite d: log(d) as a float32 pair."""
    e, m = _getexp_getmant(d)
    nx, ny = _dfadd2_ff(-_ONE, m)
    dx, dy = _dfadd2_ff(_ONE, m)
    xx, xy = _dfdiv(nx, ny, dx, dy)
    x2x, x2y = _dfsqu(xx, xy)
    t = _fma(_LOGK_T[0], x2x, _LOGK_T[1])
    t = _fma(t, x2x, _LOGK_T[2])
    sx, sy = _dfmul_f2f(np.full_like(e, _LN2_HI), np.full_like(e, _LN2_LO), e)
    sx, sy = _dfadd_f2f2(sx, sy, xx * _TWO, xy * _TWO)
    ax, ay = _dfmul_f2f2(x2x, x2y, xx, xy)
    bx, by = _dfmul_f2f(x2x, x2y, t)
    bx, by = _dfadd2_f2f2(bx, by, _LOGK_C[0], _LOGK_C[1])
    cx, cy = _dfmul_f2f2(ax, ay, bx, by)
    return _dfadd_f2f2(sx, sy, cx, cy)


def _rint_i32(u: np.ndarray) -> np.ndarray:
    """vrint_vi2_vf (cvtps2dq): round half to even; NaN and out-of-range values give INT_MIN."""
    ok = np.abs(u) < _c(2147483648.0)
    return np.where(ok, np.rint(np.where(ok, u, _ZERO)), _c(-2147483648.0)).astype(I32)


def _vldexp(x: np.ndarray, q: np.ndarray) -> np.ndarray:
    """vldexp_vf_vf_vi2: x * 2^q in five float32 multiplies, in the source's int32 arithmetic."""
    with np.errstate(over="ignore"):
        m = q >> 31
        m = (((m + q) >> 6) - m) << 4
        q = q - (m << 2)
        m = m + 127
        m = np.where(m > 0, m, 0)
        m = np.where(m > 255, 255, m).astype(I32)
        u = (m << 23).view(F32)
        x = x * u
        x *= u
        x *= u
        x *= u
        u = ((q + 127) << 23).astype(I32).view(F32)
        return x * u


def _expkf(dx: np.ndarray, dy: np.ndarray) -> np.ndarray:
    u = (dx + dy) * _R_LN2
    q = _rint_i32(u)
    qf = q.astype(F32)
    sx, sy = _dfadd2_f2f(dx, dy, qf * -_L2U)
    sx, sy = _dfadd2_f2f(sx, sy, qf * -_L2L)
    nx = sx + sy  # dfnormalize
    sy = (sx - nx) + sy
    sx = nx
    u = _fma(_EXPK_U[0], sx, _EXPK_U[1])
    for c in _EXPK_U[2:]:
        u = _fma(u, sx, c)
    qx, qy = _dfsqu(sx, sy)
    mx, my = _dfmul_f2f(qx, qy, u)
    tx, ty = _dfadd_f2f2(sx, sy, mx, my)
    rx = _ONE + tx  # dfadd_vf2_vf_vf2(1, t)
    ry = ((_ONE - rx) + tx) + ty
    r = _vldexp(rx + ry, q)
    r[dx < _c(-104.0)] = 0
    return r


_NAN = np.float32(np.nan)  # SLEEF_NANf
_ALL_ONES = np.array(-1, I32).view(F32)  # vor with a true mask: every bit set


def powf(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Sleef_powf16_u10 of float32 arrays of one shape (y may be a float32 scalar), a new float32 array."""
    x = np.asarray(x, dtype=F32)
    return chunked(_powf, x, np.broadcast_to(np.asarray(y, dtype=F32), x.shape))


def _powf(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    with np.errstate(all="ignore"):
        ay = np.abs(y)
        yisint = (np.trunc(y) == y) | (ay > _c(1 << 24))
        yt = np.where(ay < _c(2147483648.0), np.trunc(y), _c(-2147483648.0)).astype(I32)  # vtruncate_vi2_vf
        yisodd = ((yt & 1) == 1) & yisint & (ay < _c(1 << 24))
        ax = np.abs(x)
        fin = (ax > 0) & (ax < _INF)
        d = np.where(fin, ax, _ONE)  # (the other elements are replaced below)
        lx, ly = _logkf(d)
        ex, ey = _dfmul_f2f(lx, ly, y)
        r = _expkf(ex, ey)
        r[np.isnan(r)] = _INF
        sign = np.where(x > 0, _ONE, np.where(yisint, np.where(yisodd, -_ONE, _ONE), _NAN))
        r = r * sign
        efx = np.where(np.signbit(y), -(ax - _ONE), ax - _ONE)  # vmulsign: y's sign bit xored in
        yinf = np.isinf(y)
        if np.count_nonzero(yinf):
            v = np.where(efx < 0, _ZERO, np.where(efx == 0, _ONE, _INF))
            r = np.where(yinf, v, r)
        xz = np.isinf(x) | (x == 0)
        if np.count_nonzero(xz):
            mag = np.where(np.signbit(y) ^ (x == 0), _ZERO, _INF)
            sgn = np.where(yisodd, x, _ONE)
            v = mag.view(I32) ^ (sgn.view(I32) & np.int32(-0x80000000))
            r = np.where(xz, v.view(F32), r)
        nan = np.isnan(x) | np.isnan(y)
        if np.count_nonzero(nan):
            r = np.where(nan, _ALL_ONES, r)
        r = np.where((y == 0) | (x == _ONE), _ONE, r)
    return r.astype(F32, copy=False)


# ---- float64: Sleef_pow8_u10 (xpow in src/libm/sleefsimddp.c: logk, expk, dd.h's FMA variants) -----------

_SPLIT = 134217729.0  # 2^27 + 1, Veltkamp's splitting constant


def _fma64(x: Any, y: Any, z: Any) -> np.ndarray:
    """RN64(x * y + z), exactly, for finite float64 values (engine/ops/fma.py's emulation)."""
    x = x if type(x) is np.ndarray else np.asarray(x, F64)
    return _fma64_impl(x, y, z if type(z) is np.ndarray else np.asarray(z, F64))


def _split(a: Any) -> tuple:
    c = a * _SPLIT
    hi = c - (c - a)
    return hi, a - hi


def _prod_err64(x: Any, y: Any, rx: np.ndarray) -> np.ndarray:
    """fma(x, y, -rx) for rx = RN64(x * y): the product's rounding error, exact (Dekker) for finite values
    away from overflow and underflow."""
    if type(rx) is np.ndarray and rx.size <= _SMALL_FMA:
        e = fma64_small(x, y, -rx)  # (numpy's per-call cost dominates there; None: Dekker's steps below)
        if e is not None:
            return e
    xh, xl = _split(x)
    yh, yl = _split(y)
    return ((xh * yh - rx) + xh * yl + xl * yh) + xl * yl


def _dmul_d2d(xx: Any, xy: Any, y: Any) -> tuple:  # ddmul_vd2_vd2_vd
    rx = xx * y
    return rx, _fma64(xy, y, _prod_err64(xx, y, rx))


def _dmul_d2d2(xx: Any, xy: Any, yx: Any, yy: Any) -> tuple:  # ddmul_vd2_vd2_vd2
    rx = xx * yx
    return rx, _fma64(xx, yy, _fma64(xy, yx, _prod_err64(xx, yx, rx)))


def _dsqu(xx: Any, xy: Any) -> tuple:  # ddsqu_vd2_vd2
    rx = xx * xx
    return rx, _fma64(xx + xx, xy, _prod_err64(xx, xx, rx))


def _ddiv(nx: Any, ny: Any, dx: Any, dy: Any) -> tuple:  # dddiv_vd2_vd2_vd2
    t = 1.0 / dx
    qx = nx * t
    u = _prod_err64(t, nx, qx)
    qy = _fma64(-dy, t, _fma64(-dx, t, np.ones_like(dx)))
    return qx, _fma64(qx, qy, _fma64(ny, t, u))


def _poly4(x: Any, x2: Any, c3: float, c2: float, c1: float, c0: float) -> np.ndarray:
    return _fma64(x2, _fma64(x, c3, np.full_like(x, c2)), _fma64(x, c1, np.full_like(x, c0)))


def _poly8(x: Any, x2: Any, x4: Any, c: tuple) -> np.ndarray:  # c: c7 .. c0
    return _fma64(x4, _poly4(x, x2, *c[:4]), _poly4(x, x2, *c[4:]))


_LOGK_C9 = (
    0.116255524079935043668677,
    0.103239680901072952701192,
    0.117754809412463995466069,
    0.13332981086846273921509,
    0.153846227114512262845736,
    0.181818180850050775676507,
    0.222222222230083560345903,
    0.285714285714249172087875,
    0.400000000000000077715612,
)
_LOGK_CC = (0.666666666666666629659233, 3.80554962542412056336616e-17)
_LN2_D = (0.693147180559945286226764, 2.319046813846299558417771e-17)
_EXPK_C10 = (
    2.51069683420950419527139e-08,
    2.76286166770270649116855e-07,
    2.75572496725023574143864e-06,
    2.48014973989819794114153e-05,
    0.000198412698809069797676111,
    0.0013888888939977128960529,
    0.00833333333332371417601081,
    0.0416666666665409524128449,
    0.166666666666666740681535,
    0.500000000000000999200722,
)
_L2U_D = 0.69314718055966295651160180568695068359375
_L2L_D = 0.28235290563031577122588448175013436025525412068e-12
_R_LN2_D = 1.442695040888963407359924681001892137426645954152985934135449406931


def _logk(d: np.ndarray) -> tuple:
    """logk(d) for positive finite float64 d (AVX-512 variant: vgetexp / vgetmant)."""
    y = d * (1.0 / 0.75)
    _, ey = np.frexp(y)
    e = (ey - 1).astype(F64)
    e[np.isinf(y)] = 1024.0
    md, _ = np.frexp(d)
    m = md * 2.0
    m = np.where(m >= 1.5, m * 0.5, m)
    nx, ny = _dfadd2_ff(-1.0, m)
    dx, dy = _dfadd2_ff(1.0, m)
    xx, xy = _ddiv(nx, ny, dx, dy)
    x2x, x2y = _dsqu(xx, xy)
    x4 = x2x * x2x
    x8 = x4 * x4
    x16 = x8 * x8
    t = _fma64(x16, _LOGK_C9[0], _poly8(x2x, x4, x8, _LOGK_C9[1:]))
    sx, sy = _dmul_d2d(np.full_like(e, _LN2_D[0]), np.full_like(e, _LN2_D[1]), e)
    sx, sy = _dfadd_f2f2(sx, sy, xx * 2.0, xy * 2.0)
    ax, ay = _dmul_d2d2(x2x, x2y, xx, xy)
    bx, by = _dmul_d2d2(ax, ay, np.full_like(ax, _LOGK_CC[0]), np.full_like(ax, _LOGK_CC[1]))
    sx, sy = _dfadd_f2f2(sx, sy, bx, by)
    ax, ay = _dmul_d2d2(x2x, x2y, ax, ay)
    bx, by = _dmul_d2d(ax, ay, t)
    return _dfadd_f2f2(sx, sy, bx, by)


def _expk(dx: np.ndarray, dy: np.ndarray) -> np.ndarray:
    """expk(d) for finite d with d.x in [-1000, 709.79] (the caller replaces the rest)."""
    u = (dx + dy) * _R_LN2_D
    dq = np.rint(u)
    sx, sy = _dfadd2_f2f(dx, dy, dq * -_L2U_D)
    sx, sy = _dfadd2_f2f(sx, sy, dq * -_L2L_D)
    nx = sx + sy  # ddnormalize
    sy = (sx - nx) + sy
    sx = nx
    s2 = sx * sx
    s4 = s2 * s2
    s8 = s4 * s4
    c = _EXPK_C10
    u = _fma64(s8, _fma64(sx, c[0], np.full_like(sx, c[1])), _poly8(sx, s2, s4, c[2:]))
    tx = 1.0 + sx  # ddadd_vd2_vd_vd2(1, s)
    ty = ((1.0 - tx) + sx) + sy
    qx, qy = _dsqu(sx, sy)
    mx, my = _dmul_d2d(qx, qy, u)
    tx, ty = _dfadd_f2f2(tx, ty, mx, my)
    # vldexp2: u * 2^(q>>1) * 2^(q - (q>>1)); the first product is exact over this range, so one rounding
    return np.ldexp(tx + ty, dq.astype(np.int32))


def pow64(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Sleef_pow8_u10 of float64 arrays of one shape (y may be a scalar), a new float64 array."""
    x = np.asarray(x, dtype=F64)
    return chunked(_pow64, x, np.broadcast_to(np.asarray(y, dtype=F64), x.shape))


def _pow64(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    with np.errstate(all="ignore"):
        yisint = np.rint(y) == y
        yh = y * 0.5
        yisodd = (np.rint(yh) != yh) & yisint
        ax = np.abs(x)
        d = np.where((ax > 0) & (ax < np.inf), ax, 1.0)  # (the other elements are replaced below)
        yf = np.where(np.isfinite(y), y, 0.0)
        lx, ly = _logk(d)
        ex = lx * yf
        # (past 2^990 Dekker's split overflows; there ex is out of range unless log|x| is 0, and then ey is 0)
        ys = np.where(np.abs(yf) < 2.0**990, yf, 0.0)
        ey = _fma64(ly, ys, _prod_err64(lx, ys, ex * (ys != 0)))
        ok = (ex >= -1000.0) & (ex <= 709.78271114955742909217217426)
        r = _expk(np.where(ok, ex, 0.0), np.where(ok, ey, 0.0))
        r = np.where(ex > 709.78271114955742909217217426, np.inf, np.where(ex < -1000.0, 0.0, r))
        sign = np.where(x > 0, 1.0, np.where(yisint, np.where(yisodd, -1.0, 1.0), np.nan))
        r = r * sign
        efx = np.where(np.signbit(y), -(ax - 1.0), ax - 1.0)
        yinf = np.isinf(y)
        if np.count_nonzero(yinf):
            r = np.where(yinf, np.where(efx < 0, 0.0, np.where(efx == 0, 1.0, np.inf)), r)
        xz = np.isinf(x) | (x == 0)
        if np.count_nonzero(xz):
            mag = np.where(np.signbit(y) ^ (x == 0), 0.0, np.inf)
            r = np.where(xz, np.copysign(mag, np.where(yisodd, x, 1.0)), r)
        nan = np.isnan(x) | np.isnan(y)
        if np.count_nonzero(nan):
            r = np.where(nan, np.array(-1, np.int64).view(F64), r)
        r = np.where((y == 0) | (x == 1.0), 1.0, r)
    return r
