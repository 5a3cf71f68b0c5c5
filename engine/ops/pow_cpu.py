"""torch's cpu pow kernels for float32 and float64 numpy arrays, bit for bit (aten/src/ATen/native/cpu/PowKernel.cpp):
cpu_kernel_vec loops (engine/ops/cpu_loops.py) whose vector function is Vectorized<float>::pow, SLEEF's
powf (engine/ops/sleef_pow.py), and whose scalar function is the C library's.

- pow(Tensor, Tensor) (pow_tensor_tensor_kernel; a Python-number base too, which torch wraps in a 0-dim
  tensor): vector Sleef_powf16_u10(base, exp), scalar std::pow(float, float), the C library's powf
  (engine/ops/glibc_powf.py); for float64 Sleef_pow8_u10 and the C library's pow.
- pow(Tensor, Scalar) for an exponent other than 0, 1, 2, 3, -2, 0.5, -0.5, -1
  (pow_tensor_scalar_optimized_kernel<float, double>): vector Sleef_powf16_u10(base, (float) exp), scalar
  std::pow(base, (double) exp): the C library's double pow, rounded to float (float64: Sleef_pow8_u10 and
  the C library's pow).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from engine.ops import glibc_powf, mkl, sleef_pow
from engine.ops.cpu_capability import has_fma, kernel_build
from engine.ops.cpu_loops import kernel_vec, kernel_vec2
from engine.ops.libm import c_pow

_F32 = np.dtype(np.float32)
_F64 = np.dtype(np.float64)


def usable(a: Any, b: Any = None) -> bool:
    """Whether these kernels compute a ** b: float32 or float64 numpy arrays of one dtype (b may be left out),
    in exact mode (the
    exact extra's MKL loaded: these kernels cost several times numpy's power, a price paid only by choice) and
    in a kernel build with FMA (the df.h variants emulated here; torch's DEFAULT build has others)."""
    return (
        type(a) is np.ndarray
        and (a.dtype == _F32 or a.dtype == _F64)
        and (b is None or (type(b) is np.ndarray and b.dtype == a.dtype))
        and mkl.available()
        and has_fma(kernel_build(True))
    )


def _c_pow64(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return c_pow(a, b).copy()  # (its numpy variant may hand back a reversed view: a fresh array)


def pow_tensor_tensor(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """a ** b of two float32 or float64 arrays (broadcast together), as torch's pow_tensor_tensor_kernel."""
    with np.errstate(all="ignore"):
        if a.dtype == _F64:
            return kernel_vec2(a, b, sleef_pow.pow64, _c_pow64)
        return kernel_vec2(a, b, sleef_pow.powf, glibc_powf.powf)


def pow_tensor_scalar(a: np.ndarray, e: float) -> np.ndarray:
    """a ** e of a float32 or float64 array and a number, as torch's pow_tensor_scalar_optimized_kernel (its
    general case)."""
    ed = float(e)
    if a.dtype == _F64:

        def vec(x: np.ndarray) -> np.ndarray:
            return sleef_pow.pow64(x, ed)

    else:
        ef = np.float32(e)

        def vec(x: np.ndarray) -> np.ndarray:
            return sleef_pow.powf(x, ef)

    def scalar(x: np.ndarray) -> np.ndarray:
        return c_pow(x.astype(_F64), np.full(x.shape, ed)).astype(a.dtype, order="C")  # (a fresh array)

    with np.errstate(all="ignore"):
        if a.ndim == 0:
            return scalar(a.reshape(1)).reshape(())
        return kernel_vec(a, vec, scalar)
