"""The C library's expf (glibc 2.28 and later: sysdeps/ieee754/flt-32/e_expf.c) on float32 arrays in a few
numpy passes, for torch's scalar kernel code (std::exp on one float at a time), which ctypes reaches at about
half a microsecond an element.

expf works in double: k = round(x * 32 / ln2), r = x * 32 / ln2 - k, y = 2^(k/32) * (C0 r^3 + C1 r^2 + C2 r + 1),
then one rounding to float. Here y is computed the same way in float64 (without the fused multiply-adds the
library's FMA build may use, and with 2^(i/32) computed here), so it may differ from the library's y by a few
float64 ulps; rounding y * (1 -+ 2^-36) to float32 gives one float unless y lies that close to a float32
rounding boundary, and those few elements (with the ones whose r is near +-1/2, where k could differ, and
|x| >= 87, NaN and infinities) go to the library itself. `usable()` checks the scheme against the library on a
probe first: another C library (or none) keeps every element on the library's own path.
"""

from __future__ import annotations

from typing import Any

import numpy as np

_F32, _F64 = np.dtype(np.float32), np.dtype(np.float64)
_N = 32
_INV_LN2_N = float.fromhex("0x1.71547652b82fep+0") * _N
_SHIFT = float.fromhex("0x1.8p+52")  # z + SHIFT rounds z to an integer, half to even
_C = (
    float.fromhex("0x1.c6af84b912394p-5") / _N / _N / _N,
    float.fromhex("0x1.ebfce50fac4f3p-3") / _N / _N,
    float.fromhex("0x1.62e42ff0c52d6p-1") / _N,
)
_TAB = np.array([2.0 ** (i / _N) for i in range(_N)])
_LO, _HI = 1.0 - 2.0**-36, 1.0 + 2.0**-36
_STATE: list = []  # [whether the scheme matches the library here]


def _library() -> Any:
    from engine.ops.libm import _float_function

    return _float_function("exp")


def _approx(x: np.ndarray) -> tuple:
    """(float32 result, elements the library must compute) for a 1-d float32 array."""
    z = x.astype(_F64)
    z *= _INV_LN2_N
    kd = z + _SHIFT
    kd -= _SHIFT
    z -= kd  # r, in [-1/2, 1/2]
    ki = kd.astype(np.int64)
    s = np.ldexp(_TAB.take(ki & (_N - 1)), (ki >> 5).astype(np.int32))
    y = z * _C[0]
    y += _C[1]
    p = z * _C[2]
    p += 1.0
    z *= z
    y *= z
    y += p
    y *= s
    lo = (y * _LO).astype(_F32)
    y *= _HI
    hard = lo != y.astype(_F32)
    hard |= ~(np.abs(x) < 87.0)  # (NaN too)
    hard |= z > 0.2499999  # r^2: r near +-1/2
    return lo, hard


def usable() -> bool:
    """Whether this scheme reproduces the C library's expf here (checked once, on a probe)."""
    if not _STATE:
        fn = _library()
        ok = fn is not None
        if ok:
            rng = np.random.default_rng(20240607)
            probe = np.concatenate([rng.random(2048) * 180 - 90, rng.standard_normal(2048)]).astype(_F32)
            got = expf(probe, fn)
            ref = np.array([fn(v) for v in probe.tolist()], _F32)
            ok = bool(np.array_equal(got.view(np.int32), ref.view(np.int32)))
        _STATE.append(ok)
    return _STATE[0]


def expf(a: np.ndarray, fn: Any) -> np.ndarray:
    """The C library's expf of the float32 array a (fn: its ctypes function, for the hard elements)."""
    x = a.reshape(-1)
    r, hard = _approx(x)
    if np.count_nonzero(hard):
        i = np.flatnonzero(hard)
        r[i] = np.fromiter(map(fn, x[i].tolist()), dtype=_F32, count=i.size)
    return r.reshape(a.shape)
