"""The C library's elementary functions on float arrays, as torch's scalar cpu kernels call them (std::exp,
std::log, std::sin, std::cos, std::acos on one element at a time).

float64: numpy's own SIMD loops for contiguous input differ from the C library in the last bit for a few
percent of arguments; for strided input numpy calls the C library, so per function the fastest variant that
agrees with Python's math module (the same C library) on a probe is used. float32: the C library's float
function (expf, cosf, ...) element by element through ctypes, which costs about half a microsecond an element;
hot loops may ask instead for the double function's result rounded once, which differs from the float
function's in the last bit for about one argument in a hundred (sinf, cosf) or a thousand (expf, logf). A
device has only its own functions: there they are the array module's, in float64, rounded."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from engine.ops import glibc_expf

_F64 = np.float64
_PICKED: dict = {}
_ARRAY_NAMES = {"acos": "arccos", "asin": "arcsin"}  # (the C names that numpy 1 and cupy spell otherwise)


def _probe(name: str) -> np.ndarray:
    rng = np.random.default_rng(20240607)
    if name in ("acos", "asin"):
        return rng.random(4096) * 2 - 1
    if name == "log":
        return 1.0 - rng.integers(0, 1 << 53, 4096).astype(_F64) * 2.0**-53
    return rng.random(4096) * (2 * math.pi)


def _pick(name: str) -> Any:
    npf, mf = getattr(np, _ARRAY_NAMES.get(name, name)), getattr(math, name)
    probe = _probe(name)
    ref = np.array([mf(v) for v in probe.tolist()], dtype=_F64)
    for cand in (lambda x: npf(x[::-1])[::-1], npf):
        if np.array_equal(cand(probe).view(np.int64), ref.view(np.int64)):
            return cand
    vec = np.frompyfunc(mf, 1, 1)  # (math raises where numpy gives nan or inf: only as a last resort)
    return lambda x: vec(x).astype(_F64)


def _float_function(name: str) -> Any:
    """The C library's float version of name (ctypes), or None where no C math library can be loaded."""
    import ctypes
    import ctypes.util

    try:
        fn = getattr(ctypes.CDLL(ctypes.util.find_library("m") or "libm.so.6"), name + "f")
    except (OSError, AttributeError):
        return None
    fn.restype, fn.argtypes = ctypes.c_float, [ctypes.c_float]
    return fn


def c_math(name: str, a: Any, exact32: bool = True) -> Any:
    """name(a) ('exp', 'log', 'sin', 'cos', 'acos') of a float32 or float64 array, in its dtype; float32 through
    the float function unless exact32 is False (the double function, rounded)."""
    if type(a) is not np.ndarray:
        import cupy

        return getattr(cupy, _ARRAY_NAMES.get(name, name))(a.astype(_F64)).astype(a.dtype)
    if a.dtype == np.float32 and exact32:
        key = name + "f"
        if key not in _PICKED:
            _PICKED[key] = _float_function(name)
        fn32 = _PICKED[key]
        if fn32 is not None:
            if name == "exp" and a.size > 8 and glibc_expf.usable():  # numpy passes, fn32 for a few elements
                return glibc_expf.expf(np.ascontiguousarray(a), fn32)
            flat = np.fromiter(map(fn32, a.ravel().tolist()), dtype=np.float32, count=a.size)
            return flat.reshape(a.shape)
    fn = _PICKED.get(name)
    if fn is None:
        fn = _PICKED[name] = _pick(name)
    flat = np.ascontiguousarray(a, dtype=_F64).reshape(-1)
    with np.errstate(all="ignore"):
        r = fn(flat).reshape(a.shape)
    return r if a.dtype == _F64 else r.astype(a.dtype)


def _pick_pow() -> Any:
    rng = np.random.default_rng(20240607)
    base, expo = rng.random(4096) * 20 + 0.01, rng.random(4096) * 20 - 10
    ref = np.array([math.pow(u, v) for u, v in zip(base.tolist(), expo.tolist())], dtype=_F64)
    for cand in (lambda a, b: np.power(a[::-1], b[::-1])[::-1], np.power):
        if np.array_equal(cand(base, expo).view(np.int64), ref.view(np.int64)):
            return cand
    return lambda a, b: np.fromiter(map(math.pow, a.tolist(), b.tolist()), dtype=_F64, count=a.size)


def c_pow(a: Any, b: Any) -> Any:
    """std::pow(a, b) of two float arrays of one dtype and shape (powf for float32), in their dtype."""
    if type(a) is not np.ndarray:
        import cupy

        return cupy.power(a.astype(_F64), b.astype(_F64)).astype(a.dtype)
    if a.dtype == np.float32:
        if "powf" not in _PICKED:
            fn = _float_function("pow")
            if fn is not None:
                fn.argtypes = [fn.argtypes[0]] * 2
            _PICKED["powf"] = fn
        fn32 = _PICKED["powf"]
        if fn32 is not None:
            flat = np.fromiter(map(fn32, a.ravel().tolist(), b.ravel().tolist()), dtype=np.float32, count=a.size)
            return flat.reshape(a.shape)
    if "pow" not in _PICKED:
        _PICKED["pow"] = _pick_pow()
    fa = np.ascontiguousarray(a, dtype=_F64).reshape(-1)
    fb = np.ascontiguousarray(b, dtype=_F64).reshape(-1)
    with np.errstate(all="ignore"):
        r = _PICKED["pow"](fa, fb).reshape(a.shape)
    return r if a.dtype == _F64 else r.astype(a.dtype)


def _c_function(name: str, dt: Any) -> Any:
    """The C library's `name` (float32: its float version) as a ctypes function of one argument, or None."""
    key = (name, np.dtype(dt).char)
    if key not in _PICKED:
        if dt == np.float32:
            fn = _float_function(name)
        else:
            import ctypes
            import ctypes.util

            try:
                fn = getattr(ctypes.CDLL(ctypes.util.find_library("m") or "libm.so.6"), name)
            except (OSError, AttributeError):
                fn = None
            else:
                fn.restype, fn.argtypes = ctypes.c_double, [ctypes.c_double]
        _PICKED[key] = fn
    return _PICKED[key]


def c_elementwise(name: str, a: np.ndarray) -> np.ndarray | None:
    """std::name on each element of a float32/float64 numpy array, in its dtype (None without a C library)."""
    fn = _c_function(name, a.dtype)
    if fn is None:
        return None
    from engine.ops.cpu_loops import map_flat

    return map_flat(lambda x: np.fromiter(map(fn, x.tolist()), dtype=a.dtype, count=x.size), a)


def torch_unary(name: str, array_fn: Any, vectorized: bool, sleef_fn: Any = None) -> Any:
    """array_fn made torch's cpu kernel for float32/float64 numpy arrays: `vectorized`, cpu_kernel_vec's split
    (the C library on the elements its scalar loop takes: every element of a tensor shorter than two vectors;
    on the vector blocks sleef_fn, the emulation of torch's SLEEF function, where given and usable (exact
    mode, engine/ops/sleef_more.py), else array_fn, which does not round as SLEEF does); otherwise
    cpu_kernel's plain loop, std::name on every element (asinh, acosh). Other arrays (float16, device arrays)
    go to array_fn."""
    from engine.ops.cpu_loops import kernel_vec
    from engine.ops.sleef_more import usable

    f32, f64 = np.dtype(np.float32), np.dtype(np.float64)

    def scalar(x: np.ndarray) -> np.ndarray:
        r = c_elementwise(name, x)
        return array_fn(x) if r is None else r

    def f(a: Any) -> Any:
        if type(a) is not np.ndarray or (a.dtype != f32 and a.dtype != f64):
            return array_fn(a)
        with np.errstate(all="ignore"):
            if vectorized:
                vec = sleef_fn if sleef_fn is not None and usable(a) else array_fn
                return kernel_vec(a, vec, scalar)
            return scalar(a)

    return f


def c_atan2(a: np.ndarray, b: np.ndarray) -> np.ndarray | None:
    """std::atan2 (atan2f for float32) on each pair of two float arrays of one dtype and shape."""
    key = ("atan2", a.dtype.char)
    if key not in _PICKED:
        import ctypes
        import ctypes.util

        try:
            fn = getattr(
                ctypes.CDLL(ctypes.util.find_library("m") or "libm.so.6"),
                "atan2f" if a.dtype == np.float32 else "atan2",
            )
        except (OSError, AttributeError):
            fn = None
        else:
            c = ctypes.c_float if a.dtype == np.float32 else ctypes.c_double
            fn.restype, fn.argtypes = c, [c, c]
        _PICKED[key] = fn
    fn = _PICKED[key]
    if fn is None:
        return None
    r = np.fromiter(map(fn, a.ravel().tolist(), b.ravel().tolist()), dtype=a.dtype, count=a.size)
    return r.reshape(a.shape)
