"""torch's cpu kernels for sigmoid and silu on float32 numpy arrays, bit for bit: cpu_kernel_vec loops
(engine/ops/cpu_loops.py) whose vector function uses SLEEF's expf (engine/ops/sleef.py) and whose scalar one
uses the C library's expf.

- sigmoid (UnaryOpsKernel.cpp): vector 1 / ((0 - x).exp() + 1), scalar 1 / (1 + std::exp(-x)).
- silu (Activation.cpp): vector x / (1 + x.neg().exp()), scalar x / (1 + std::exp(-x)).
- silu_backward (Activation.cpp): s = 1 / (1 + exp(-x)), dy * s * (1 + x * (1 - s)), where GCC contracts
  1 + x * (1 - s) into one fma (in the vector and the scalar code alike).
"""

from __future__ import annotations

import numpy as np

from engine.ops import mkl, sleef
from engine.ops.cpu_loops import kernel_vec
from engine.ops.fma import fma
from engine.ops.libm import c_math

_F32 = np.dtype(np.float32)
_ONE = np.float32(1.0)
_ZERO = np.float32(0.0)


def usable(a: object) -> bool:
    """Whether these kernels compute a: a float32 numpy array with at least one dim, in exact mode (the exact
    extra's MKL loaded: these kernels cost 3-5x numpy's formula on small arrays, a price paid only by choice)."""
    return type(a) is np.ndarray and a.dtype == _F32 and a.ndim > 0 and mkl.available()


def _sigmoid_vec(x: np.ndarray) -> np.ndarray:
    e = sleef.expf(_ZERO - x)
    e += _ONE
    return np.divide(_ONE, e, out=e)


def _sigmoid_scalar(x: np.ndarray) -> np.ndarray:
    e = c_math("exp", -x)
    e += _ONE
    return np.divide(_ONE, e, out=e)


def _silu_vec(x: np.ndarray) -> np.ndarray:
    e = sleef.expf(-x)
    e += _ONE
    return np.divide(x, e, out=e)


def _silu_scalar(x: np.ndarray) -> np.ndarray:
    e = c_math("exp", -x)
    e += _ONE
    return np.divide(x, e, out=e)


def sigmoid(a: np.ndarray) -> np.ndarray:
    return kernel_vec(a, _sigmoid_vec, _sigmoid_scalar)


def silu(a: np.ndarray) -> np.ndarray:
    return kernel_vec(a, _silu_vec, _silu_scalar)


def _exp_neg_vec(x: np.ndarray) -> np.ndarray:
    return sleef.expf(-x)


def _exp_neg_scalar(x: np.ndarray) -> np.ndarray:
    return c_math("exp", -x)


def silu_backward(dy: np.ndarray, x: np.ndarray) -> np.ndarray:
    """torch's silu_backward kernel for float32 arrays of one shape and layout (the exp of each element from
    the vector or the scalar function as cpu_kernel_vec splits them; the rest rounds alike in both)."""
    e = kernel_vec(x, _exp_neg_vec, _exp_neg_scalar)  # (split as x's layout walks)
    e += _ONE
    s = np.divide(_ONE, e, out=e)
    t = fma(x, _ONE - s, np.ones_like(x))
    return dy * s * t
