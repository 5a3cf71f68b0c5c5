"""SLEEF's powf (Sleef_powf16_u10, xpowf in src/libm/sleefsimdsp.c, AVX512 build with FMA), bit for bit, on
float32 numpy arrays: torch's Vectorized<float>::pow, the vector half of its cpu pow kernels.

xpowf(x, y) = expkf(dfmul(logkf(|x|), y)) with the sign and special-value fix-ups of the source, where logkf
and expkf work in double-float arithmetic (df.h's FMA variants: dfmul, dfsqu, dfdiv, dfadd, dfadd2,
dfnormalize). Every float32 operation here rounds once in float32 as the vector instruction does, every
vmla/vfma is an exact fused multiply-add (`_fma`), vgetexp/vgetmant read the exponent and the mantissa as
AVX-512 does, and vrint/vldexp follow the int32 arithmetic of the source (its wrap-around included, which
decides the results of out-of-range arguments before the fix-ups replace them).
"""

from __future__ import annotations

from typing import Any

import numpy as np

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
    r = np.multiply(x, y, dtype=F64)
    r += z
    f = r.astype(F32)
    low = r.view(_U64) & _LOW29
    check = low == _HALF29
    check |= np.abs(r) < _TINY
    if np.count_nonzero(check):
        i = np.flatnonzero(check)
        i = i[r[i] != 0]  # (an exact zero has no rounding to resolve)
        f[i] = _fma_slow(*(np.broadcast_to(v, f.shape)[i] for v in (x, y, z)))
    return f


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
_TINY = 2.0**-125  # under it a float32 ulp is coarser than 2^-149 ... and halfway points differ: checked slowly


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


def _getexp_getmant(d: np.ndarray) -> tuple:
    """vgetexp(d * (1/0.75)) (+inf replaced by 128) and vgetmant(d) into [0.75, 1.5), for positive finite d
    (subnormals normalized, as the instructions do)."""
    y = d * _R075
    _, ey = np.frexp(y)
    e = (ey - 1).astype(F32)
    e[np.isinf(y)] = 128.0
    md, _ = np.frexp(d)
    m = md * _TWO  # [1, 2)
    big = m >= _c(1.5)
    m[big] *= _c(0.5)
    return e, m


def _dfadd2_ff(x: Any, y: Any) -> tuple:
    rx = x + y
    v = rx - x
    return rx, (x - (rx - v)) + (y - v)


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
    y = np.broadcast_to(np.asarray(y, dtype=F32), x.shape)
    shape = x.shape
    x = x.reshape(-1)
    y = np.ascontiguousarray(y).reshape(-1)
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
    return r.astype(F32, copy=False).reshape(shape)
