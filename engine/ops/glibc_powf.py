"""The C library's powf (glibc 2.28 and later: sysdeps/ieee754/flt-32/e_powf.c) on float32 arrays in numpy
passes, for torch's scalar pow kernel code (std::pow of two floats, one element at a time), which ctypes
reaches at about half a microsecond an element.

powf works in double: log2(x) from a 16-entry table (x = 2^k z, z near c: log2(x) = k + log2(c) +
log1p(z/c - 1)/ln2 by a degree-5 polynomial), ylogx = y * log2(x), then 2^ylogx from a 32-entry table and a
cubic, one rounding to float at the end. Here the same steps run in float64 (z/c - 1 computed as the
library's fma would, the polynomials without fused multiply-adds), so the double result may differ from the
library's by a few float64 ulps times |ylogx|; rounding it * (1 -+ 2^-38) to float32 gives one float unless it
lies that close to a float32 rounding boundary, and those few elements (with |ylogx| >= 126, zeros,
infinities, NaN and a zero, infinite or NaN exponent) go to the library itself. A negative base with a
non-integer exponent gives the library's NaN. `usable()` checks the scheme against the library on a probe
first: another C library (or none) keeps every element on the library's own path.
"""

from __future__ import annotations

from typing import Any

import numpy as np

_F32, _F64 = np.dtype(np.float32), np.dtype(np.float64)
_I64 = np.dtype(np.int64)
_M32 = 0xFFFFFFFF
_OFF = 0x3F330000
_TAB = (
    ("0x1.661ec79f8f3bep+0", "-0x1.efec65b963019p-2"),
    ("0x1.571ed4aaf883dp+0", "-0x1.b0b6832d4fca4p-2"),
    ("0x1.49539f0f010bp+0", "-0x1.7418b0a1fb77bp-2"),
    ("0x1.3c995b0b80385p+0", "-0x1.39de91a6dcf7bp-2"),
    ("0x1.30d190c8864a5p+0", "-0x1.01d9bf3f2b631p-2"),
    ("0x1.25e227b0b8eap+0", "-0x1.97c1d1b3b7afp-3"),
    ("0x1.1bb4a4a1a343fp+0", "-0x1.2f9e393af3c9fp-3"),
    ("0x1.12358f08ae5bap+0", "-0x1.960cbbf788d5cp-4"),
    ("0x1.0953f419900a7p+0", "-0x1.a6f9db6475fcep-5"),
    ("0x1p+0", "0x0p+0"),
    ("0x1.e608cfd9a47acp-1", "0x1.338ca9f24f53dp-4"),
    ("0x1.ca4b31f026aap-1", "0x1.476a9543891bap-3"),
    ("0x1.b2036576afce6p-1", "0x1.e840b4ac4e4d2p-3"),
    ("0x1.9c2d163a1aa2dp-1", "0x1.40645f0c6651cp-2"),
    ("0x1.886e6037841edp-1", "0x1.88e9c2c1b9ff8p-2"),
    ("0x1.767dcf5534862p-1", "0x1.ce0a44eb17bccp-2"),
)
_INVC = np.array([float.fromhex(a) for a, _ in _TAB])
_LOGC = np.array([float.fromhex(b) for _, b in _TAB])
# invc split in a high part of 26 bits and the rest: z * hi is exact (z has 24 bits), so z * invc - 1 is
# (z * hi - 1) + z * lo rounded once, the library's fma
_INVC_HI = (_INVC.view(np.uint64) & np.uint64(~((1 << 27) - 1) & 0xFFFFFFFFFFFFFFFF)).view(_F64)
_INVC_LO = _INVC - _INVC_HI
_A = tuple(
    float.fromhex(v)
    for v in ("0x1.27616c9496e0bp-2", "-0x1.71969a075c67ap-2", "0x1.ec70a6ca7baddp-2", "-0x1.7154748bef6c8p-1")
)
_A4 = float.fromhex("0x1.71547652ab82bp0")
_N = 32
_SHIFT = float.fromhex("0x1.8p+52") / _N
_C = tuple(float.fromhex(v) for v in ("0x1.c6af84b912394p-5", "0x1.ebfce50fac4f3p-3", "0x1.62e42ff0c52d6p-1"))
_OVER = float.fromhex("0x1.fffffffd1d571p+6")
_EXP_TAB = np.array([2.0 ** (i / _N) for i in range(_N)])
_LO, _HI = 1.0 - 2.0**-38, 1.0 + 2.0**-38
_STATE: list = []  # [whether the scheme matches the library here]
_FN: list = []  # [the library's powf through ctypes, or None]
_NAN: list = []  # [the library's NaN for a negative base and a non-integer exponent]


def library() -> Any:
    """The C library's powf (ctypes), or None where no C math library can be loaded."""
    if not _FN:
        from engine.ops.libm import _float_function

        fn = _float_function("pow")
        if fn is not None:
            fn.argtypes = [fn.argtypes[0]] * 2
        _FN.append(fn)
    return _FN[0]


def _checkint(iy: np.ndarray) -> np.ndarray:
    """0 where y (bits iy, finite and nonzero) is no integer, 1 where odd, 2 where even (the library's)."""
    e = (iy >> 23) & 0xFF
    sh = np.clip(0x7F + 23 - e, 0, 31)
    frac = (iy & ((np.int64(1) << sh) - 1)) != 0
    odd = (iy & (np.int64(1) << sh)) != 0
    return np.where(e < 0x7F, 0, np.where(e > 0x7F + 23, 2, np.where(frac, 0, np.where(odd, 1, 2))))


def _approx(x: np.ndarray, y: np.ndarray) -> tuple:
    """(float32 result, elements the library must compute) for 1-d float32 arrays of one size."""
    ix = x.view(np.uint32).astype(_I64)
    iy = y.view(np.uint32).astype(_I64)
    one = ((iy & 0x7FFFFFFF) == 0) | (ix == 0x3F800000)  # y == 0 or x == 1: 1 (a signaling NaN aside)
    hard = ((2 * iy - 1) & _M32) >= 2 * 0x7F800000 - 1  # y zero, infinite or NaN
    ax = ix & 0x7FFFFFFF
    hard |= (ax == 0) | (ax >= 0x7F800000)  # x zero, infinite or NaN
    hard &= ~one
    neg = ix != ax
    yint = _checkint(iy)
    nan = neg & (yint == 0) & ~hard & ~one
    flip = neg & (yint == 1) & ~one
    sub = ax < 0x00800000
    if np.count_nonzero(sub & ~hard):  # subnormal |x|: normalized, its biased exponent negative
        s = (np.abs(x[sub]) * np.float32(2.0**23)).view(np.uint32).astype(_I64)
        ax[sub] = (s - (23 << 23)) & _M32
    tmp = (ax - _OFF) & _M32
    i = (tmp >> 19) % 16
    top = tmp & 0xFF800000
    iz = (ax - top) & _M32
    k = ((top ^ 0x80000000) - 0x80000000) >> 23  # (int32) top >> 23, arithmetic
    z = iz.astype(np.uint32).view(_F32).astype(_F64)
    r = z * _INVC_HI.take(i)
    r -= 1.0
    r += z * _INVC_LO.take(i)
    y0 = _LOGC.take(i) + k
    r2 = r * r
    p1 = _A[0] * r + _A[1]
    p = _A[2] * r + _A[3]
    r4 = r2 * r2
    q = _A4 * r + y0
    q += p * r2
    q += p1 * r4
    yl = y.astype(_F64) * q  # ylogx
    # |ylogx| >= 126: the library's overflow (inf) and underflow (0) thresholds; the elements near them (or
    # NaN: hard ones) go to the library, those between give subnormals, computed as the rest
    over = yl > _OVER
    under = yl <= -150.0
    hard |= ~(np.abs(yl + 150.0) > 1e-6) | ~(np.abs(yl - _OVER) > 1e-6)
    yl = np.where(hard | over | under, 0.0, yl)
    kd = yl + _SHIFT
    kd -= _SHIFT
    rr = yl - kd
    ki = np.rint(kd * _N).astype(_I64)
    s = np.ldexp(_EXP_TAB.take(ki & (_N - 1)), (ki >> 5).astype(np.int32))
    zz = _C[0] * rr + _C[1]
    res = _C[2] * rr + 1.0
    res += zz * (rr * rr)
    res *= s
    lo = (res * _LO).astype(_F32)
    res *= _HI
    hard |= lo != res.astype(_F32)
    hard &= ~nan
    if np.count_nonzero(over | under):
        lo = np.where(over, np.float32(np.inf), np.where(under, np.float32(0.0), lo))
    lo = np.where(flip, -lo, lo)
    if np.count_nonzero(one):
        lo[one] = 1.0
    if np.count_nonzero(nan):
        lo[nan] = _nan_value()
    return lo, hard


def _nan_value() -> np.float32:
    if not _NAN:
        fn = library()
        _NAN.append(np.float32(fn(-2.0, 0.5)) if fn is not None else np.float32(np.nan))
    return _NAN[0]


def usable() -> bool:
    """Whether this scheme reproduces the C library's powf here (checked once, on a probe)."""
    if not _STATE:
        fn = library()
        ok = fn is not None
        if ok:
            rng = np.random.default_rng(20240607)
            x = np.concatenate([rng.random(2048) * 8, np.exp(rng.uniform(-80, 80, 2048))]).astype(_F32)
            y = np.concatenate([rng.standard_normal(2048) * 4, rng.standard_normal(2048)]).astype(_F32)
            x[::7] *= -1
            y[::5] = np.rint(y[::5])
            got = _powf(x, y, fn)
            ref = np.array([fn(u, v) for u, v in zip(x.tolist(), y.tolist())], _F32)
            ok = bool(np.array_equal(got.view(np.int32), ref.view(np.int32)))
        _STATE.append(ok)
    return _STATE[0]


def _powf(x: np.ndarray, y: np.ndarray, fn: Any) -> np.ndarray:
    with np.errstate(all="ignore"):
        r, hard = _approx(x, y)
    if np.count_nonzero(hard):
        i = np.flatnonzero(hard)
        r[i] = np.fromiter(map(fn, x[i].tolist(), y[i].tolist()), dtype=_F32, count=i.size)
    return r


def powf(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """The C library's powf of float32 arrays of one shape (y may also be a float32 scalar), a float32 array;
    numpy's float32 power where no C library can be loaded."""
    y = np.broadcast_to(np.asarray(y, dtype=_F32), np.shape(x))
    fn = library()
    if fn is None:
        with np.errstate(all="ignore"):
            return np.power(x, y)
    xf = np.ascontiguousarray(x, dtype=_F32).reshape(-1)
    yf = np.ascontiguousarray(y).reshape(-1)
    if xf.size > 8 and usable():
        return _powf(xf, yf, fn).reshape(np.shape(x))
    r = np.fromiter(map(fn, xf.tolist(), yf.tolist()), dtype=_F32, count=xf.size)
    return r.reshape(np.shape(x))
