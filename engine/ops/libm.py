"""The C library's elementary functions on float arrays, as torch's scalar cpu kernels call them (std::exp,
std::log, std::sin, std::cos, std::acos on one element at a time).

numpy's own SIMD loops for contiguous float64 input differ from the C library in the last bit for a few
percent of arguments; for strided input numpy calls the C library, so per function the fastest variant that
agrees with Python's math module (the same C library) on a probe is used. A float32 result is the C library's
double result rounded once, which is the float function's (expf, logf, ...) value but for about one argument
in a thousand. A device has only its own functions: there they are the array module's, in float64, rounded."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

_F64 = np.float64
_PICKED: dict = {}


def _probe(name: str) -> np.ndarray:
    rng = np.random.default_rng(20240607)
    if name in ("acos", "asin"):
        return rng.random(4096) * 2 - 1
    if name == "log":
        return 1.0 - rng.integers(0, 1 << 53, 4096).astype(_F64) * 2.0**-53
    return rng.random(4096) * (2 * math.pi)


def _pick(name: str) -> Any:
    npf, mf = getattr(np, name), getattr(math, name)
    probe = _probe(name)
    ref = np.array([mf(v) for v in probe.tolist()], dtype=_F64)
    for cand in (lambda x: npf(x[::-1])[::-1], npf):
        if np.array_equal(cand(probe).view(np.int64), ref.view(np.int64)):
            return cand
    vec = np.frompyfunc(mf, 1, 1)  # (math raises where numpy gives nan or inf: only as a last resort)
    return lambda x: vec(x).astype(_F64)


def c_math(name: str, a: Any) -> Any:
    """name(a) ('exp', 'log', 'sin', 'cos', 'acos') of a float32 or float64 array, in its dtype."""
    if type(a) is not np.ndarray:
        import cupy

        return getattr(cupy, name)(a.astype(_F64)).astype(a.dtype)
    fn = _PICKED.get(name)
    if fn is None:
        fn = _PICKED[name] = _pick(name)
    flat = np.ascontiguousarray(a, dtype=_F64).reshape(-1)
    with np.errstate(all="ignore"):
        r = fn(flat).reshape(a.shape)
    return r if a.dtype == _F64 else r.astype(a.dtype)
