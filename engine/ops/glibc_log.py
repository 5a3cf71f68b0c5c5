"""The C library's logf and log1pf (glibc 2.28 and later) on float32 arrays in numpy passes, for torch's scalar
kernel code (std::log and std::log1p of one float at a time: binary_cross_entropy's kernel), which ctypes reaches
at about half a microsecond an element.

logf (sysdeps/ieee754/flt-32/e_logf.c) works in double: x = 2^k z, log(x) = k ln2 + log(c) + log1p(z/c - 1) with
c from a 16-entry table and a cubic, one rounding to float. Here the same steps run in float64 (without the
fused multiply-adds of the library's FMA build), so the double result may differ from the library's by a few
float64 ulps; rounding it * (1 -+ 2^-38) to float32 gives one float unless it lies that close to a float32
rounding boundary, and those few elements (with zeros, negatives, infinities and NaN) go to the library.

log1pf (sysdeps/ieee754/flt-32/s_log1pf.c, fdlibm's) works in float: every step here is the same float32
operation, so the result is the library's bit for bit; x <= -1, infinities and NaN go to the library.

`usable()` checks both schemes against the library on a probe first: another C library (or none) keeps every
element on the library's own path.
"""

from __future__ import annotations

from typing import Any

import numpy as np

_F32, _F64 = np.dtype(np.float32), np.dtype(np.float64)
_I64 = np.dtype(np.int64)
_M32 = 0xFFFFFFFF
_OFF = 0x3F330000
_TAB = (
    ("0x1.661ec79f8f3bep+0", "-0x1.57bf7808caadep-2"),
    ("0x1.571ed4aaf883dp+0", "-0x1.2bef0a7c06ddbp-2"),
    ("0x1.49539f0f010bp+0", "-0x1.01eae7f513a67p-2"),
    ("0x1.3c995b0b80385p+0", "-0x1.b31d8a68224e9p-3"),
    ("0x1.30d190c8864a5p+0", "-0x1.6574f0ac07758p-3"),
    ("0x1.25e227b0b8eap+0", "-0x1.1aa2bc79c81p-3"),
    ("0x1.1bb4a4a1a343fp+0", "-0x1.a4e76ce8c0e5ep-4"),
    ("0x1.12358f08ae5bap+0", "-0x1.1973c5a611cccp-4"),
    ("0x1.0953f419900a7p+0", "-0x1.252f438e10c1ep-5"),
    ("0x1p+0", "0x0p+0"),
    ("0x1.e608cfd9a47acp-1", "0x1.aa5aa5df25984p-5"),
    ("0x1.ca4b31f026aap-1", "0x1.c5e53aa362eb4p-4"),
    ("0x1.b2036576afce6p-1", "0x1.526e57720db08p-3"),
    ("0x1.9c2d163a1aa2dp-1", "0x1.bc2860d22477p-3"),
    ("0x1.886e6037841edp-1", "0x1.1058bc8a07ee1p-2"),
    ("0x1.767dcf5534862p-1", "0x1.4043057b6ee09p-2"),
)
_INVC = np.array([float.fromhex(a) for a, _ in _TAB])
_LOGC = np.array([float.fromhex(b) for _, b in _TAB])
_LN2 = float.fromhex("0x1.62e42fefa39efp-1")
_A = tuple(float.fromhex(v) for v in ("-0x1.00ea348b88334p-2", "0x1.5575b0be00b6ap-2", "-0x1.ffffef20a4123p-2"))
_LO, _HI = 1.0 - 2.0**-38, 1.0 + 2.0**-38

# fdlibm's log1pf constants, float32
_f = np.float32
_LN2_HI, _LN2_LO = _f(6.9313812256e-01), _f(9.0580006145e-06)
_LP = tuple(_f(v) for v in (6.6666668653e-01, 4.0000000596e-01, 2.8571429849e-01, 2.2222198546e-01,
                            1.8183572590e-01, 1.5313838422e-01, 1.4798198640e-01))  # fmt: skip
_STATE: dict = {}  # name -> whether the scheme matches the library here
_FN: dict = {}  # name -> the library's float function through ctypes, or None


def library(name: str) -> Any:
    """The C library's `name`f (ctypes), or None where no C math library can be loaded."""
    if name not in _FN:
        from engine.ops.libm import _float_function

        _FN[name] = _float_function(name)
    return _FN[name]


def _logf(x: np.ndarray) -> tuple:
    """(float32 logf, elements the library must compute) of a 1-d float32 array."""
    ix = x.view(np.uint32).astype(_I64)
    hard = ((ix - 0x00800000) & _M32) >= 0x7F800000 - 0x00800000  # zero, subnormal, negative, inf, NaN
    sub = hard & (ix > 0) & (ix < 0x00800000)
    if np.count_nonzero(sub):  # (a subnormal: normalized)
        ix[sub] = (x[sub] * _f(2.0**23)).view(np.uint32).astype(_I64) - (23 << 23)
        hard &= ~sub
    tmp = (ix - _OFF) & _M32
    i = (tmp >> 19) % 16
    top = tmp & 0xFF800000
    k = ((top ^ 0x80000000) - 0x80000000) >> 23  # (int32) tmp >> 23, arithmetic
    z = ((ix - top) & _M32).astype(np.uint32).view(_F32).astype(_F64)
    r = z * _INVC.take(i) - 1.0
    y0 = _LOGC.take(i) + k * _LN2
    r2 = r * r
    y = _A[1] * r + _A[2]
    y = _A[0] * r2 + y
    y = y * r2 + (y0 + r)
    lo = (y * _LO).astype(_F32)
    hard |= lo != (y * _HI).astype(_F32)
    lo[ix == 0x3F800000] = 0.0
    return lo, hard


def _log1pf(x: np.ndarray) -> tuple:
    """(float32 log1pf, elements the library must compute) of a 1-d float32 array: fdlibm's float steps."""
    hx = x.view(np.int32).astype(_I64)
    ax = hx & 0x7FFFFFFF
    small = hx < 0x3ED413D7
    hard = (small & (ax >= 0x3F800000)) | (hx >= 0x7F800000) | (ax > 0x7F800000)  # x <= -1, +inf, NaN
    tiny = small & (ax < 0x31000000)
    direct = small & ((hx > 0) | (hx <= -1097468385)) & ~tiny  # (int32) 0xbe95f61f
    with np.errstate(all="ignore"):
        one = _f(1.0)
        u = np.where(hx < 0x5A000000, one + x, x)
        hu = u.view(np.int32).astype(_I64)
        k = (hu >> 23) - 127
        c = np.where(hx < 0x5A000000, np.where(k > 0, one - (u - x), x - (u - one)) / u, _f(0.0)).astype(_F32)
        hu &= 0x007FFFFF
        low = hu < 0x3504F7
        u = np.where(low, hu | 0x3F800000, hu | 0x3F000000).astype(np.uint32).view(_F32)
        k = np.where(low, k, k + 1)
        hu = np.where(low, hu, (0x00800000 - hu) >> 2)
        f = u - one
        f = np.where(direct, x, f)
        k = np.where(direct, 0, k)
        hu = np.where(direct, 1, hu)
        c = np.where(direct, _f(0.0), c)
        kf = k.astype(_F32)
        hfsq = _f(0.5) * f * f
        # |f| < 2**-20 (hu == 0)
        r0 = hfsq * (one - _f(0.66666666666666666) * f)
        near = np.where(
            f == 0,
            np.where(k == 0, _f(0.0), kf * _LN2_HI + (c + kf * _LN2_LO)),
            np.where(k == 0, f - r0, kf * _LN2_HI - ((r0 - (kf * _LN2_LO + c)) - f)),
        )
        s = f / (_f(2.0) + f)
        z = s * s
        p = _LP[6]
        for lp in _LP[5::-1]:
            p = lp + z * p
        rr = z * p
        far = np.where(
            k == 0, f - (hfsq - s * (hfsq + rr)), kf * _LN2_HI - ((hfsq - (s * (hfsq + rr) + (kf * _LN2_LO + c))) - f)
        )
        out = np.where(hu == 0, near, far).astype(_F32)
        out = np.where(tiny, np.where(ax < 0x24800000, x, x - x * x * _f(0.5)), out).astype(_F32)
    return out, hard


_SCHEMES = {"log": _logf, "log1p": _log1pf}


def usable(name: str) -> bool:
    """Whether the scheme for `name` ('log' or 'log1p') reproduces the C library's here (checked once)."""
    if name not in _STATE:
        fn = library(name)
        ok = fn is not None
        if ok:
            rng = np.random.default_rng(20240607)
            x = np.concatenate(
                [rng.random(4096), -rng.random(2048), np.exp(rng.uniform(-100, 80, 4096)), rng.random(512) * 1e-6]
            ).astype(_F32)
            got = _run(_SCHEMES[name], x, fn)
            ref = np.array([fn(v) for v in x.tolist()], _F32)
            ok = bool(np.array_equal(got.view(np.int32), ref.view(np.int32)))
        _STATE[name] = ok
    return _STATE[name]


def _run(scheme: Any, x: np.ndarray, fn: Any) -> np.ndarray:
    r, hard = scheme(x)
    if np.count_nonzero(hard):
        i = np.flatnonzero(hard)
        r[i] = np.fromiter(map(fn, x[i].tolist()), dtype=_F32, count=i.size)
    return r


def apply(name: str, x: np.ndarray) -> np.ndarray | None:
    """The C library's `name`f ('log' or 'log1p') of a float32 array, or None where no C library can be
    loaded."""
    fn = library(name)
    if fn is None:
        return None
    xf = np.ascontiguousarray(x, dtype=_F32).reshape(-1)
    if xf.size > 8 and usable(name):
        return _run(_SCHEMES[name], xf, fn).reshape(np.shape(x))
    return np.fromiter(map(fn, xf.tolist()), dtype=_F32, count=xf.size).reshape(np.shape(x))
