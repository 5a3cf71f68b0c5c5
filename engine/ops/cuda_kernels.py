"""One-kernel forms of composite elementwise ops on cupy arrays.

On a GPU every separate array op is a kernel launch and a full pass over memory, so sigmoid written as four
ops (neg, exp, add, divide) or addcmul as three moves several times the bytes it must. Here each is one cupy
ElementwiseKernel (compiled on first use, cached by cupy on disk). Called only with cupy arrays; a kernel that
fails to build is remembered in ERRORS and the caller falls back to the composite form, so a toolchain
problem costs speed, never an answer.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from engine.naming import type_name
from engine.ops import cuda_vec
from engine.ops.memory_layout import laid_out_as_inputs

ERRORS: list = []  # (kernel, error) for kernels that could not be built or run
_KERNELS: dict = {}
_FAILED: set = set()

# float16 is computed in float32 and rounded once, as torch does
_SIGMOID = {
    "float16": ("float16 x", "float16 y", "y = (float16)(1.0f / (1.0f + expf(-(float)x)))"),
    "float32": ("float32 x", "float32 y", "y = 1.0f / (1.0f + expf(-x))"),
    "float64": ("float64 x", "float64 y", "y = 1.0 / (1.0 + exp(-x))"),
}
_H16 = "float16 a, float16 b, float16 c, float32 v"
_ADDCMUL = {
    "float16": (_H16, "float16 y", "y = (float16)((float)a + v * (float)b * (float)c)"),
    "float32": ("float32 a, float32 b, float32 c, float32 v", "float32 y", "y = a + v * b * c"),
    "float64": ("float64 a, float64 b, float64 c, float64 v", "float64 y", "y = a + v * b * c"),
}
_ADDCDIV = {
    "float16": (_H16, "float16 y", "y = (float16)((float)a + v * (float)b / (float)c)"),
    "float32": ("float32 a, float32 b, float32 c, float32 v", "float32 y", "y = a + v * b / c"),
    "float64": ("float64 a, float64 b, float64 c, float64 v", "float64 y", "y = a + v * b / c"),
}


# the same expressions over in0.. and c0 (the value), for the dense 16-byte-load path (ops/cuda_vec.py)
_VEC = {
    ("sigmoid", "float32"): "1.0f / (1.0f + expf(-in0))",
    ("sigmoid", "float64"): "1.0 / (1.0 + exp(-in0))",
    ("addcmul", "float32"): "in0 + c0 * in1 * in2",
    ("addcmul", "float64"): "in0 + c0 * in1 * in2",
    ("addcdiv", "float32"): "in0 + c0 * in1 / in2",
    ("addcdiv", "float64"): "in0 + c0 * in1 / in2",
}


def _kernel(name: str, table: dict, dtype: Any) -> Any:
    key = (name, str(dtype))
    k = _KERNELS.get(key)
    if k is None:
        if key in _FAILED or key[1] not in table:
            return None
        import cupy

        ins, outs, body = table[key[1]]
        k = _KERNELS[key] = cupy.ElementwiseKernel(ins, outs, body, f"tcli_{name}_{key[1]}")
    return k


def _run(name: str, table: dict, dtype: Any, *args: Any) -> Any:
    if isinstance(args[0], np.ndarray):  # a host bfloat16 array (an ndarray subclass): the composite form
        return None
    body = _VEC.get((name, str(dtype)))
    if body is not None:
        arrays = args if name == "sigmoid" else args[:3]
        r = cuda_vec.run(body, list(arrays), args[3:], dtype, arrays[0].shape)
        if r is not None:
            return laid_out_as_inputs(r, arrays)
    try:
        k = _kernel(name, table, dtype)
        return None if k is None else laid_out_as_inputs(k(*args), args[:3])
    except Exception as e:  # noqa: BLE001 - any build/launch failure: fall back to the composite form
        key = (name, str(dtype))
        _FAILED.add(key)
        _KERNELS.pop(key, None)
        ERRORS.append((f"{name}[{dtype}]", f"{type_name(e)}: {e}"))
        return None


def sigmoid(a: Any) -> Any:
    """1 / (1 + exp(-a)) in one pass, or None (use the composite form)."""
    return _run("sigmoid", _SIGMOID, a.dtype, a)


def addcmul(a: Any, b: Any, c: Any, value: float) -> Any:
    """a + value * b * c in one pass (broadcasting a, b, c), or None."""
    if not (a.dtype == b.dtype == c.dtype):
        return None
    return _run("addcmul", _ADDCMUL, a.dtype, a, b, c, value)


def addcdiv(a: Any, b: Any, c: Any, value: float) -> Any:
    """a + value * b / c in one pass (broadcasting a, b, c), or None."""
    if not (a.dtype == b.dtype == c.dtype):
        return None
    return _run("addcdiv", _ADDCDIV, a.dtype, a, b, c, value)
