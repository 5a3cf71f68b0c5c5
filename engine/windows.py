"""torch's window functions: hann_window, hamming_window, bartlett_window, blackman_window and kaiser_window.

Each runs torch's steps (aten/src/ATen/native/TensorFactories.cpp) in the requested dtype: an arange, scaled,
through cos (or the kaiser kernel), each step rounded to the dtype (float16 computed in float32 per step, as
torch's half kernels do), so the last bits, and the printed values (blackman's -2.9802e-08 at 0 in float32),
are torch's. periodic=True computes one point more and drops it."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from engine.dtypes import DEFAULT, to_dtype
from engine.ops.util import parser_type_name
from engine.tensor import Tensor

_UNSET = object()
_C_TYPE = {"float16": "c10::Half", "float32": "float", "float64": "double", "int64": "long int", "int32": "int",
           "int16": "short int", "int8": "signed char", "uint8": "unsigned char", "bool": "bool"}  # fmt: skip
_FACTORY = "torch.dtype dtype = None, torch.layout layout = None, torch.device device = None, bool pin_memory = False, "
_FACTORY += "bool requires_grad = False"


def _overloads(fn: str, extra: tuple, args: tuple, kwargs: dict) -> TypeError:
    """torch's parser error when the optional positional parameters are named without the ones before them."""
    got = ", ".join([*map(parser_type_name, args), *(f"{k}={parser_type_name(v)}" for k, v in kwargs.items())])
    lines = [f"{fn}() received an invalid combination of arguments - got ({got}), but expected one of:"]
    params = ["int window_length", "bool periodic", *extra]
    for n in range(1, len(params) + 1):
        lines.append(f" * ({', '.join(params[:n])}, *, {_FACTORY})")
    return TypeError("\n".join(lines) + "\n")


def _check(fn: str, window_length: Any, dtype: Any, device: Any) -> tuple:
    """(numpy dtype, device) after torch's checks."""
    from engine.creation import _dev

    if not isinstance(window_length, int) or isinstance(window_length, bool):
        raise TypeError(
            f"{fn}(): argument 'window_length' (position 1) must be int, not {type(window_length).__name__}"
        )
    dt = to_dtype(dtype).np if dtype is not None else DEFAULT.float.np
    dev = _dev(device)
    if dt.kind != "f":
        where = f"{dev.type}" if dev.type == "cpu" else f"{dev.type}:{dev.index or 0}"
        raise RuntimeError(
            f"{fn} expects floating point dtypes, got: TensorOptions(dtype={_C_TYPE[dt.name]}, device={where}, "
            "layout=Strided (default), requires_grad=false (default), pinned_memory=false, memory_format=(nullopt))"
        )
    if window_length < 0:
        raise RuntimeError(f"{fn} requires non-negative window_length, got window_length={window_length}")
    return dt, dev


def _step(w: Any, f: Any) -> Any:
    """One of torch's elementwise steps on the window: float16 through float32 and rounded once, as torch's half
    kernels compute (numpy's own float16 ops would round the scalars to half first)."""
    if w.dtype == np.float16:
        return f(w.astype(np.float32)).astype(np.float16)
    return f(w).astype(w.dtype, copy=False)


def _window(fn: str, window_length: int, periodic: bool, dtype: Any, device: Any, requires_grad: bool,
            build: Any) -> Tensor:  # fmt: skip
    from engine.creation import _finish

    dt, dev = _check(fn, window_length, dtype, device)
    xp = dev.xp
    if window_length <= 1:
        arr = xp.ones(window_length, dtype=dt)
    else:
        n = window_length + 1 if periodic else window_length
        arr = build(xp, xp.arange(n, dtype=dt), n)
        if periodic:
            arr = arr[: n - 1]
    return _finish(xp.ascontiguousarray(arr), dev, requires_grad)


def _hamming(alpha: float, beta: float) -> Any:
    def build(xp: Any, w: Any, n: int) -> Any:
        w = _step(w, lambda a: a * (math.pi * 2.0 / (n - 1)))
        w = _step(w, xp.cos)
        w = _step(w, lambda a: a * -beta)
        return _step(w, lambda a: a + alpha)

    return build


def hamming_window(window_length: int, periodic: Any = _UNSET, alpha: Any = _UNSET, beta: Any = _UNSET, *,
                   dtype: Any = None, layout: Any = None, device: Any = None, pin_memory: bool = False,
                   requires_grad: bool = False) -> Tensor:  # fmt: skip
    """alpha - beta cos(2 pi n / (N - 1)); alpha and beta only after periodic (positionally, as torch's overloads)."""
    if periodic is _UNSET and (alpha is not _UNSET or beta is not _UNSET):
        given = {k: v for k, v in (("beta", beta), ("alpha", alpha)) if v is not _UNSET}  # (torch lists beta first)
        raise _overloads("hamming_window", ("float alpha", "float beta"), (window_length,), given)
    if alpha is _UNSET and beta is not _UNSET:
        raise _overloads("hamming_window", ("float alpha", "float beta"), (window_length, periodic), {"beta": beta})
    a = 0.54 if alpha is _UNSET else float(alpha)
    b = 0.46 if beta is _UNSET else float(beta)
    p = True if periodic is _UNSET else bool(periodic)
    return _window("hamming_window", window_length, p, dtype, device, requires_grad, _hamming(a, b))


def hann_window(window_length: int, periodic: bool = True, *, dtype: Any = None, layout: Any = None,
                device: Any = None, pin_memory: bool = False, requires_grad: bool = False) -> Tensor:  # fmt: skip
    """torch's hamming window with alpha = beta = 0.5."""
    return _window("hann_window", window_length, bool(periodic), dtype, device, requires_grad, _hamming(0.5, 0.5))


def bartlett_window(window_length: int, periodic: bool = True, *, dtype: Any = None, layout: Any = None,
                    device: Any = None, pin_memory: bool = False, requires_grad: bool = False) -> Tensor:  # fmt: skip
    """The triangle 2n / (N - 1), mirrored past its middle."""

    def build(xp: Any, w: Any, n: int) -> Any:
        w = _step(w, lambda a: a * (2.0 / (n - 1)))
        half = ((n - 1) >> 1) + 1
        w[half:] = _step(w[half:], lambda a: a * -1 + 2)
        return w

    return _window("bartlett_window", window_length, bool(periodic), dtype, device, requires_grad, build)


def blackman_window(window_length: int, periodic: bool = True, *, dtype: Any = None, layout: Any = None,
                    device: Any = None, pin_memory: bool = False, requires_grad: bool = False) -> Tensor:  # fmt: skip
    """0.42 - 0.5 cos(2 pi n / (N - 1)) + 0.08 cos(4 pi n / (N - 1)), in torch's order of operations."""

    def build(xp: Any, w: Any, n: int) -> Any:
        w = _step(w, lambda a: a * (math.pi / (n - 1)))
        four = _step(_step(_step(w, lambda a: a * 4), xp.cos), lambda a: a * 0.08)
        two = _step(_step(_step(w, lambda a: a * 2), xp.cos), lambda a: a * 0.5)
        return _step(_step(four, lambda a: a - two.astype(a.dtype)), lambda a: a + 0.42)

    return _window("blackman_window", window_length, bool(periodic), dtype, device, requires_grad, build)


def kaiser_window(window_length: int, periodic: Any = _UNSET, beta: Any = _UNSET, *, dtype: Any = None,
                  layout: Any = None, device: Any = None, pin_memory: bool = False,
                  requires_grad: bool = False) -> Tensor:  # fmt: skip
    """I0(beta sqrt(1 - ((n - a) / a)^2)) / I0(beta), a = (N - 1) / 2; beta only after periodic."""
    from engine.ops.special import _i0

    if periodic is _UNSET and beta is not _UNSET:
        raise _overloads("kaiser_window", ("float beta",), (window_length,), {"beta": beta})
    b = 12.0 if beta is _UNSET else float(beta)

    def build(xp: Any, w: Any, n: int) -> Any:
        op = np.float32 if w.dtype == np.float16 else w.dtype.type  # (torch's opmath)
        alpha = op((n - 1) / 2.0)
        x = w.astype(op)
        r = _i0(op(b) * xp.sqrt(xp.abs(1 - ((x - alpha) / alpha) ** 2))) / _i0(xp.asarray(op(b)))
        return r.astype(w.dtype)

    p = True if periodic is _UNSET else bool(periodic)
    return _window("kaiser_window", window_length, p, dtype, device, requires_grad, build)


FUNCTIONS = {
    "hann_window": hann_window, "hamming_window": hamming_window, "bartlett_window": bartlett_window,
    "blackman_window": blackman_window, "kaiser_window": kaiser_window,
}  # fmt: skip
