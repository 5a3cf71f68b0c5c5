"""The optimizers' arithmetic, rounded as torch's CPU kernels round it, on raw arrays (numpy or cupy).

torch's single-tensor optimizers are chains of in-place tensor ops, and on the cpu three of them fuse a
multiply into an add with one rounding (a fused multiply-add, in the vectorized loop and in the scalar tail
alike): `a.add_(b, alpha=s)` is fma(b, s, a), `a.addcmul_(b, c, value=v)` is fma(v*b, c, a), and `a.lerp_(b, w)`
is fma(w, b - a, a) (fma(w - 1, b - a, b) for a weight of 0.5 or more). `a.addcdiv_(b, c, value=v)` is
a + (v*b)/c, each step rounded. numpy has no fma: engine/ops/fma.py emulates it exactly for float32 and
float64 (the engine's own add, addcmul and lerp use it too).

Other dtypes (float16) go through the engine's own tensor ops, which round as the engine's ops do.

sqrt is torch's cpu sqrt, MKL's vsSqrt/vdSqrt, where the `mkl` wheel is installed (engine/ops/mkl.py). It is
not correctly rounded: without MKL, IEEE's (numpy's) differs in the last bit for about 1 value in 100, so the
optimizers that divide by a square root (Adam, AdamW, RMSprop, Adagrad) can differ from torch by an ulp there.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from engine.ops import mkl
from engine.ops.fma import EXACT, arr, fma, fma32_, store, xp_of

F16 = np.dtype(np.float16)
F32 = np.dtype(np.float32)
_AS_F32: dict = {}  # a Python float -> its float32 value as a Python float


# ---- torch's in-place ops, on arrays -----------------------------------------------------------------------
def add(a: Any, b: Any, alpha: float) -> Any:
    """a.add(b, alpha=alpha), a new array."""
    dt = a.dtype
    if dt in EXACT:
        return fma(b, float(dt.type(alpha)), a)
    return _engine(lambda A, B: A.add(B, alpha=alpha), a, b)


# (numpy's module __getattr__ keeps np.<name> from being read quickly: bound once)
_ndarray = np.ndarray


def add_(a: Any, b: Any, alpha: float) -> None:
    """a.add_(b, alpha=alpha)."""
    dt = a.dtype
    fast = dt is F32 and b.dtype is F32 and type(a) is _ndarray and type(b) is _ndarray
    if fast and a.ndim and a.shape == b.shape:  # (float32 arrays: fma32_, in place)
        s = _AS_F32.get(alpha) if type(alpha) is float else None  # (an optimizer's few constants: lr, 1 - dampening)
        if s is None:
            s = float(F32.type(alpha))
            if len(_AS_F32) < 256 and type(alpha) is float:
                _AS_F32[alpha] = s
        if s == 1.0:
            a += b
        elif s == -1.0:
            a -= b
        else:
            fma32_(b, s, a)
        return
    if dt in EXACT:
        s = float(dt.type(alpha))
        if s == 1.0:
            a += b
        elif s == -1.0:
            a -= b
        else:
            fma(b, s, a, out=a)
    else:
        store(a, add(a, b, alpha))


def mul_(a: Any, s: float) -> None:
    """a.mul_(s) for a Python number s."""
    dt = a.dtype
    if dt in EXACT:
        a *= dt.type(s)
    else:
        store(a, _engine(lambda A: A.mul(s), a))


def addcmul_(a: Any, b: Any, c: Any, value: float) -> None:
    """a.addcmul_(b, c, value=value): fma(value * b, c, a)."""
    dt = a.dtype
    if dt in EXACT:
        v = dt.type(value)
        fma(b if v == 1 else b * v, c, a, out=a)
    else:
        store(a, addcmul(a, b, c, value))


def addcmul(a: Any, b: Any, c: Any, value: float) -> Any:
    """a.addcmul(b, c, value=value), a new array."""
    dt = a.dtype
    if dt in EXACT:
        v = dt.type(value)
        return fma(b if v == 1 else b * v, c, a)
    return _engine(lambda A, B, C: A.addcmul(B, C, value=value), a, b, c)


def addcdiv_(a: Any, b: Any, c: Any, value: float) -> None:
    """a.addcdiv_(b, c, value=value): a + (value * b) / c, each step rounded."""
    dt = a.dtype
    if dt in EXACT:
        v = dt.type(value)
        a += b / c if v == 1 else (b * v) / c
    else:
        store(a, _engine(lambda A, B, C: A.addcdiv(B, C, value=value), a, b, c))


def lerp_(a: Any, end: Any, weight: float) -> None:
    """a.lerp_(end, weight) for a Python number weight."""
    dt = a.dtype
    if dt in EXACT:
        w = dt.type(weight)
        d = end - a
        if abs(w) < 0.5:
            fma(d, float(w), a, out=a)
        else:
            fma(d, float(w - dt.type(1)), end, out=a)
    else:
        store(a, _engine(lambda A, E: A.lerp(E, weight), a, end))


def neg(a: Any) -> Any:
    """-a, a new array."""
    return arr(-a)


def sqrt(a: Any) -> Any:
    """a.sqrt(), a new array: MKL's, as torch's, where installed; else IEEE's (see the module's note)."""
    if a.dtype in EXACT:
        if type(a) is np.ndarray and mkl.available():
            return mkl.vml("sqrt", a)
        return arr(xp_of(a).sqrt(a))
    return _engine(lambda A: A.sqrt(), a)


def div_(a: Any, s: float) -> None:
    """a.div_(s) for a Python number s (a true division, not a multiply by the reciprocal, as torch's cpu)."""
    dt = a.dtype
    if dt in EXACT:
        a /= dt.type(s)
    else:
        store(a, _engine(lambda A: A.div(s), a))


def add_scalar_(a: Any, s: float) -> None:
    """a.add_(s) for a Python number s."""
    dt = a.dtype
    if dt in EXACT:
        a += dt.type(s)
    else:
        store(a, _engine(lambda A: A.add(s), a))


def _engine(fn: Any, *arrays: Any) -> Any:
    """fn on tensors around the arrays, through the engine's ops (dtypes whose rounding is not reproduced here)."""
    from engine.backend import device
    from engine.tensor import wrap

    dev = device("cpu") if type(arrays[0]) is np.ndarray else device("cuda", 0)
    return fn(*(wrap(x, dev) for x in arrays))._data


# ---- elementwise ops between arrays, and scalar ops that make a new array ---------------------------------
def add_scalar(a: Any, s: float) -> Any:
    """a.add(s) for a Python number s, a new array."""
    dt = a.dtype
    if dt in EXACT:
        return arr(a + dt.type(s))
    return _engine(lambda A: A.add(s), a)


def mul_t_(a: Any, b: Any) -> None:
    """a.mul_(b) for an array b of a's dtype (one rounding: numpy's and torch's agree, float16 included)."""
    a *= b


def div_t_(a: Any, b: Any) -> None:
    """a.div_(b) for an array b of a's dtype."""
    a /= b


def div(a: Any, s: float) -> Any:
    """a.div(s) for a Python number s, a new array."""
    dt = a.dtype
    if dt in EXACT:
        return arr(a / dt.type(s))
    return _engine(lambda A: A.div(s), a)


def mul(a: Any, s: float) -> Any:
    """a.mul(s) (a * s) for a Python number s, a new array."""
    dt = a.dtype
    if dt in EXACT:
        return arr(a * dt.type(s))
    return _engine(lambda A: A.mul(s), a)


def rdiv(s: float, a: Any) -> Any:
    """s / a for a Python number s: torch's Tensor.__rtruediv__, a.reciprocal() * s, a new array."""
    dt = a.dtype
    if dt in EXACT:
        return arr((dt.type(1) / a) * dt.type(s))
    return _engine(lambda A: A.reciprocal() * s, a)


def abs_(a: Any) -> Any:
    """a.abs(), a new array."""
    return arr(xp_of(a).abs(a))


def maximum_(a: Any, b: Any) -> None:
    """torch.maximum(a, b, out=a) (NaN from either side)."""
    xp_of(a).maximum(a, b, out=a)
