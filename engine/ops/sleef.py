"""SLEEF's vector functions, bit for bit, on numpy arrays: torch's Vectorized<float>::exp() and ::log() call
Sleef_expf16_u10 and Sleef_logf16_u10 (AVX512 build), so the vectorized parts of its softmax, log_softmax,
sigmoid, silu... kernels round as these do, not as the C library or MKL would.

Each function follows SLEEF's source (src/libm/sleefsimdsp.c: xexpf, xlogf_u1; df.h's double-float helpers in
their FMA variant; helperavx512f.h: vgetexp/vgetmant/vfixup) step by step: every float32 operation rounded
once in float32, every vmla/vfma an exact fused multiply-add. numpy has no fma, so `_fma` computes the product
exactly in float64 and resolves the rare double rounding (see engine/ops/fma.py).

Only numpy float32 arrays come here; callers keep device arrays on their own path.
"""

from __future__ import annotations

from typing import Any

import numpy as np

F32 = np.dtype(np.float32)
F64 = np.dtype(np.float64)
_U64 = np.uint64
_LOW29 = np.uint64((1 << 29) - 1)  # float64 mantissa bits below float32's precision
_HALF29 = np.uint64(1 << 28)  # ... holding exactly half a float32 ulp
_INF32 = np.float32(np.inf)


def _f(v: float) -> float:
    """The float32 value SLEEF's `vcast_vf_f(v)` makes of a C constant, as a Python float."""
    return float(np.float32(v))


def _fma(x: Any, y: Any, z: Any) -> np.ndarray:
    """RN32(x * y + z) for float32 arrays (y and z may be Python floats holding float32 values, z also a
    float64 array holding float32 values): the product is exact in float64, the sum rounds once in float64,
    and a float64 sum lying exactly halfway between two float32 values is moved off the tie toward the exact
    sum's error before the final rounding."""
    p = np.multiply(x, y, dtype=F64)
    r = p + z
    tie = (r.view(_U64) & _LOW29) == _HALF29
    if np.count_nonzero(tie):
        zz = np.asarray(z, dtype=F64)
        bb = r - p
        err = (p - (r - bb)) + (zz - bb)
        r = np.where(tie & (err != 0), np.nextafter(r, np.copysign(np.inf, err)), r)
    return r.astype(F32)


_R_LN2 = _f(1.442695040888963407359924681001892137426645954152985934135449406931)
_L2U = _f(0.693145751953125)
_L2L = _f(1.428606765330187045e-06)
_EXP_C = tuple(
    _f(c)
    for c in (
        0.000198527617612853646278381,
        0.00139304355252534151077271,
        0.00833336077630519866943359,
        0.0416664853692054748535156,
        0.166666671633720397949219,
        0.5,
    )
)


# Horner steps 1-4 of xexpf land in one binade each for every |s| <= ln2/2 (+ the rounding of d * R_LN2), so
# RN32 there is rounding to a fixed grid, which float64 does in one step: with M = 1.5 * 2^(52 + g) (g the
# grid's exponent), M + c is exact and M + p + c rounds once, onto the grid, ties to even (M / 2^g is even).
# So u = (u * s + (M + c)) - M is that step's fma exactly; no double rounding, no check.
_HORNER = tuple((1.5 * 2.0 ** (52 + g), 1.5 * 2.0 ** (52 + g) + c) for g, c in zip((-33, -30, -28, -26), _EXP_C[1:5]))
# (constants as 0-d arrays: numpy takes them faster than Python floats or numpy scalars; float32 ones for
# float32 operations, as a float64 0-d array would promote)
_HORNER_A = tuple((np.array(m), np.array(mc)) for m, mc in _HORNER)
_C0 = np.array(_EXP_C[0])
_R_LN2_32 = np.array(_R_LN2, F32)
_L2U_32 = np.array(_L2U, F32)
_NL2L = np.array(-_L2L)
_HALF = np.array(0.5)
_ONE32 = np.array(1.0, F32)
_LOW29_A = np.array(_LOW29)
_HALF29_A = np.array(_HALF29)
_CHUNK = 16384  # elements a pass of expf works on
_mul, _add, _sub = np.multiply, np.add, np.subtract


def expf(d: np.ndarray) -> np.ndarray:
    """Sleef_expf16_u10 (xexpf) of a float32 array, in few numpy passes (its per-call overhead is the cost on
    small arrays). The fmas whose result binade varies run as float64 sums rounded to float32: the one giving
    s is exact in float64 (q == 0 gives s == d; otherwise |d| > 0.34 puts d's last bit at 2^-25 or above,
    q * L2L's at 2^-43 and the sum under 1), the other two (u * s + 0.5, s * s * u + s) are kept, and an
    element whose float64 sum lies exactly halfway between two float32 values (a possible double rounding,
    rare) is recomputed by expf_exact."""
    d = np.asarray(d, dtype=F32)
    x = d.reshape(-1)
    if x.size <= _CHUNK:
        if x.size < 2:  # (numpy's in-place ops cost three times more on one element than on two)
            return x.reshape(d.shape).copy() if not x.size else _expf(x.repeat(2))[:1].reshape(d.shape)
        return _expf(x).reshape(d.shape)
    # in cache-sized pieces: a dozen fresh temporaries of the whole size cost more in page faults than work
    r = np.empty_like(x)
    for b in range(0, x.size, _CHUNK):
        r[b : b + _CHUNK] = _expf(x[b : b + _CHUNK])
    return r.reshape(d.shape)


def _expf(x: np.ndarray) -> np.ndarray:
    mul, add, sub = _mul, _add, _sub
    q = mul(x, _R_LN2_32)
    np.rint(q, q)  # (vrint_vi2_vf: round half to even)
    t = mul(q, _L2U_32)  # fma(q, -L2U, d): exact in float32 (q * L2U has at most 23 bits and cancels d's lead)
    sub(x, t, t)
    s = mul(q.astype(F64), _NL2L)
    add(s, t.astype(F64), s)
    s32 = s.astype(F32)
    s = s32.astype(F64)
    w = np.empty((2, x.size), F64)  # the two float64 sums that may round twice
    w0, w1 = w
    u = mul(s, _C0)
    for m, mc in _HORNER_A:
        add(u, mc, u)
        sub(u, m, u)
        mul(u, s, u)
    add(u, _HALF, w0)
    u = w0.astype(F32).astype(F64)
    mul(s32, s32, s32)  # RN32(s * s): a float32 multiply
    mul(s32.astype(F64), u, w1)
    add(w1, s, w1)
    r = w1.astype(F32)
    add(r, _ONE32, r)  # (an exact sum, one float32 rounding)
    r = np.ldexp(r, q.astype(np.int32))  # vldexp2: its first factor keeps r normal, so one rounding
    np.abs(q, q)
    if not np.maximum.reduce(q) <= 148:  # (or NaN) inputs under -104 give 0, over 100 inf (+-inf too)
        r[x < -104] = 0
        r[x > 100] = _INF32
    wb = w.view(_U64)
    np.bitwise_and(wb, _LOW29_A, wb)
    tie = np.equal(wb, _HALF29_A)
    if np.count_nonzero(tie):
        i = np.flatnonzero(tie.any(axis=0))
        r[i] = expf_exact(x[i])
    return r


def expf_exact(d: np.ndarray) -> np.ndarray:
    """Sleef_expf16_u10 (xexpf) of a float32 array, every fma resolved on its own: `expf`'s reference and its
    fallback for the elements where a double rounding is possible."""
    d = np.asarray(d, dtype=F32)
    qf = np.rint(d * np.float32(_R_LN2))  # (vrint_vi2_vf: round half to even)
    np.fmax(qf, -160.0, out=qf)  # (the result is replaced below and above these bounds; NaN becomes a number)
    np.fmin(qf, 160.0, out=qf)
    # s = fma(q, -L2U, d): exact (q * L2U has at most 23 bits and cancels d's leading bits), kept in float64
    s1 = d.astype(F64) - qf.astype(F64) * _L2U
    s = _fma(qf, -_L2L, s1)
    c = _EXP_C
    u = _fma(s, c[0], c[1])
    for k in c[2:]:
        u = _fma(u, s, k)
    u = _fma(s * s, u, s)
    u += np.float32(1.0)
    # vldexp2: u * 2^(q>>1) * 2^(q - (q>>1)); the first factor keeps u normal over the range kept, so one
    # rounding, as ldexp's
    r = np.ldexp(u, qf.astype(np.int32))
    r[d < -104] = 0
    r[d > 100] = _INF32
    return r


_R075 = np.float32(1.0 / 0.75)
_LN2H, _LN2L = _f(0.69314718246459960938), _f(-1.904654323148236017e-09)
_LOG_C = (_f(0.3027294874), _f(0.3996108174), _f(0.6666694880))


def _getexp_getmant(d: np.ndarray) -> tuple:
    """AVX-512's vgetexpps(d * (1/0.75)) and vgetmantps(d, [0.75, 1.5)) for positive finite d (denormals
    normalized, as the instructions do), as float32."""
    y = d * _R075
    _, ey = np.frexp(y)
    e = (ey - 1).astype(F32)
    e[np.isinf(y)] = 128.0  # (vgetexp of inf is inf; SLEEF replaces it with 128)
    md, _ = np.frexp(d)
    m = md * np.float32(2.0)  # [1, 2)
    big = m >= np.float32(1.5)
    m[big] *= np.float32(0.5)
    return e, m


def _log_ratio(m: np.ndarray) -> tuple:
    """SLEEF's x = dfdiv(dfadd2(-1, m), dfadd2(1, m)) of the reduced mantissa, as a float pair (hi, lo), and hi^2:
    the step its logf and log10f share."""
    nx, ny = _dfadd2(np.float32(-1.0), m)
    dx, dy = _dfadd2(np.float32(1.0), m)
    t = np.float32(1.0) / dx
    xx = nx * t
    u = _fma(t, nx, -xx.astype(F64))
    v = _fma(-dy, t, _fma(-dx, t, 1.0))
    return xx, _fma(xx, v, _fma(ny, t, u)), xx * xx


def logf_exact(d: np.ndarray) -> np.ndarray:
    """Sleef_logf16_u10 (xlogf_u1, AVX-512 variant) of a float32 array, step by step: `logf`'s reference and
    its path for zeros, denormals, negatives, infinities and NaN."""
    d = np.asarray(d, dtype=F32)
    e, m = _getexp_getmant(d)
    # s = dfmul((ln2 hi, lo), e)
    sx = np.float32(_LN2H) * e
    sy = _fma(np.full_like(e, _LN2L), e, _fma(np.full_like(e, _LN2H), e, -sx.astype(F64)))
    xx, xy, x2 = _log_ratio(m)
    c = _LOG_C
    tt = _fma(x2, c[0], c[1])
    tt = _fma(tt, x2, c[2])
    # s = dfadd(s, dfscale(x, 2)); s = dfadd(s, x2 * x.x * t)
    two = np.float32(2.0)
    sx, sy = _dfadd22(sx, sy, xx * two, xy * two)
    w = (x2 * xx) * tt
    r0 = sx + w
    sy = ((sx - r0) + w) + sy
    r = r0 + sy
    # vfixup: 0 -> -inf, +inf -> +inf, -inf and negatives -> NaN (NaN stays NaN)
    bad = ~(d > 0) | (d == _INF32)
    if np.count_nonzero(bad):
        r[d == 0] = -_INF32
        r[d < 0] = np.nan
        r[d == _INF32] = _INF32
    return r


_NEG_NAN32 = np.array(0xFFC00000, np.uint32).view(F32)  # x86's default NaN
_L10H, _L10L = _f(0.30103001), _f(-1.432098889e-08)  # log10(2), hi and lo
_X10H, _X10L = _f(0.868588984), _f(-2.170757285e-08)  # 2 / ln(10), hi and lo
_LOG10_C = (_f(0.1314289868), _f(0.1735493541), _f(0.2895309627))


def log10f(d: np.ndarray) -> np.ndarray:
    """Sleef_log10f16_u10 (xlog10f, AVX-512 variant) of a float32 array, step by step (torch's
    Vectorized<float>::log10, which its float16/bfloat16 log10 maps over every element): logf_exact's reduction
    and division, log10(2) * e and 2/ln(10) * x as float pairs, a three-term polynomial."""
    shape = np.shape(d)
    d = np.asarray(d, dtype=F32).reshape(-1)  # (1-d: a 0-dim input's steps would be numpy scalars)
    with np.errstate(all="ignore"):
        e, m = _getexp_getmant(d)
        xx, xy, x2 = _log_ratio(m)
        c = _LOG10_C
        tt = _fma(_fma(x2, c[0], c[1]), x2, c[2])
        sx = np.float32(_L10H) * e  # dfmul((log10 2 hi, lo), e)
        sy = _fma(np.full_like(e, _L10L), e, _fma(np.full_like(e, _L10H), e, -sx.astype(F64)))
        px = xx * np.float32(_X10H)  # dfmul(x, (2/ln10 hi, lo))
        py = _fma(xx, _X10L, _fma(xy, _X10H, _fma(xx, _X10H, -px.astype(F64))))
        sx, sy = _dfadd22(sx, sy, px, py)
        w = (x2 * xx) * tt
        r0 = sx + w
        sy = ((sx - r0) + w) + sy
        r = r0 + sy
        # vfixup: 0 -> -inf, +inf -> +inf, negatives -> the default NaN (sign set), a NaN stays
        r = np.where(d == 0, -_INF32, np.where(d < 0, _NEG_NAN32, np.where(d == _INF32, _INF32, r)))
    return np.asarray(r, dtype=F32).reshape(shape)


def _dfadd2(x: Any, y: np.ndarray) -> tuple:
    s = x + y
    v = s - x
    return s, (x - (s - v)) + (y - v)


def _dfadd22(xx: np.ndarray, xy: np.ndarray, yx: np.ndarray, yy: np.ndarray) -> tuple:
    s = xx + yx
    return s, (((xx - s) + yx) + xy) + yy


def _ln2_times_exponents() -> tuple:
    """dfmul((ln2 hi, lo), e) of every exponent vgetexp gives a positive normal float or inf (-126..128),
    indexed by the biased exponent e + 127: e has 8 bits, so a table serves it."""
    e = np.arange(-127, 129, dtype=F32)
    sx = np.float32(_LN2H) * e
    sy = _fma(np.full_like(e, _LN2L), e, _fma(np.full_like(e, _LN2H), e, -sx.astype(F64)))
    return sx, sy


_LN2E_X, _LN2E_Y = _ln2_times_exponents()
_MIN_NORMAL_BITS, _INF_BITS = 0x00800000, 0x7F800000
# the polynomial's two fmas land in one binade each for every x2 <= 1/25 ([0.25, 0.5), then [0.5, 1)): as in
# expf, M + c makes float64's one rounding of the sum the float32 fma's
_LOG_HORNER = tuple((1.5 * 2.0 ** (52 + g), 1.5 * 2.0 ** (52 + g) + c) for g, c in zip((-25, -24), _LOG_C[1:]))
_ONE = np.array(1.0)


def logf(d: np.ndarray) -> np.ndarray:
    """Sleef_logf16_u10 (xlogf_u1, AVX-512 variant) of a float32 array, in few numpy passes. For positive
    normal finite inputs (anything else goes to logf_exact): vgetexp and vgetmant read off the bits, dfmul by
    ln2 from a table, and dfdiv's fmas in float64, where all but the last are exact; an element whose last
    fma's float64 sum lies halfway between two float32 values (a possible double rounding) is recomputed."""
    d = np.asarray(d, dtype=F32)
    x = d.reshape(-1)
    if not x.size:
        return x.reshape(d.shape).copy()
    bits = x.view(np.int32)
    if not (np.minimum.reduce(bits) >= _MIN_NORMAL_BITS and np.maximum.reduce(bits) < _INF_BITS):
        return logf_exact(d)
    if x.size <= _CHUNK:
        if x.size == 1:  # (numpy's in-place ops cost three times more on one element than on two)
            x = x.repeat(2)
            return _logf(x, x.view(np.int32))[:1].reshape(d.shape)
        return _logf(x, bits).reshape(d.shape)
    r = np.empty_like(x)
    for b in range(0, x.size, _CHUNK):
        r[b : b + _CHUNK] = _logf(x[b : b + _CHUNK], bits[b : b + _CHUNK])
    return r.reshape(d.shape)


_I32 = np.dtype(np.int32)
_MANT, _TOP, _ONE_BITS, _I1, _I23 = (np.array(v, _I32) for v in (0x7FFFFF, 0x400000, 0x3F800000, 1, 23))
_TWO32 = np.array(2.0, F32)
_LOG_C0 = np.array(_LOG_C[0])
_LOG_HORNER_A = tuple((np.array(m), np.array(mc)) for m, mc in _LOG_HORNER)


def _logf(x: np.ndarray, bits: np.ndarray) -> np.ndarray:
    mul, add, sub = _mul, _add, _sub
    ei = np.right_shift(mul(x, _R075).view(_I32), _I23)  # vgetexp(d / 0.75) + 127 (inf: 128 + 127)
    sx = _LN2E_X.take(ei)
    sy = _LN2E_Y.take(ei)
    mb = np.bitwise_and(bits, _MANT)  # vgetmant into [0.75, 1.5): [1, 2), halved from 1.5 up (the top bit)
    np.bitwise_or(mb, _ONE_BITS, mb)
    hb = np.bitwise_and(bits, _TOP)
    np.left_shift(hb, _I1, hb)
    sub(mb, hb, mb)
    m = mb.view(F32)
    # x = dfdiv(dfadd2(-1, m), dfadd2(1, m)): m - 1 is exact (no low part); 1 + m rounds, its error is dy
    nx = sub(m, _ONE32)
    dx = add(m, _ONE32)
    dy = add(m.astype(F64), _ONE)
    sub(dy, dx, dy)
    t = np.divide(_ONE32, dx)
    xx = mul(nx, t)
    t64 = t.astype(F64)
    u = mul(nx.astype(F64), t64)  # fma(t, nx, -xx): the product's rounding error, exact
    sub(u, xx, u)
    v = mul(dx.astype(F64), t64)  # fma(-dy, t, fma(-dx, t, 1)): the inner one exact, the outer sum exact
    sub(_ONE, v, v)
    mul(dy, t64, dy)
    sub(v, dy, v)
    w = mul(xx.astype(F64), v.astype(F32))  # fma(xx, v, fma(ny, t, u)), ny == 0: the one that may round twice
    add(w, u, w)
    xy = w.astype(F32)
    x2 = mul(xx, xx)
    x2d = x2.astype(F64)
    (m1, mc1), (m2, mc2) = _LOG_HORNER_A
    tt = mul(x2d, _LOG_C0)
    add(tt, mc1, tt)
    sub(tt, m1, tt)
    mul(tt, x2d, tt)
    add(tt, mc2, tt)
    sub(tt, m2, tt)
    mul(x2, xx, x2)  # x2 * x.x * t
    mul(x2, tt.astype(F32), x2)
    # s = dfadd(s, dfscale(x, 2)), then dfadd(s, x2 * x.x * t), then s.x + s.y: float32 steps
    mul(xx, _TWO32, xx)
    mul(xy, _TWO32, xy)
    s0 = add(sx, xx)
    sub(sx, s0, sx)
    add(sx, xx, sx)
    add(sx, sy, sx)
    add(sx, xy, sx)
    r = add(s0, x2)
    sub(s0, r, s0)
    add(s0, x2, s0)
    add(s0, sx, s0)
    add(r, s0, r)
    wb = w.view(_U64)
    np.bitwise_and(wb, _LOW29_A, wb)
    tie = np.equal(wb, _HALF29_A)
    if np.count_nonzero(tie):
        i = np.flatnonzero(tie)
        r[i] = logf_exact(x[i])
    return r
