"""torch's cpu kernels for sigmoid and silu on float32 numpy arrays, bit for bit: cpu_kernel_vec loops
(engine/ops/cpu_loops.py) whose vector function uses SLEEF's expf (engine/ops/sleef.py) and whose scalar one
uses the C library's expf.

- sigmoid (UnaryOpsKernel.cpp): vector 1 / ((0 - x).exp() + 1), scalar 1 / (1 + std::exp(-x)).
- silu (Activation.cpp): vector x / (1 + x.neg().exp()), scalar x / (1 + std::exp(-x)).
- silu_backward (Activation.cpp): s = 1 / (1 + exp(-x)), dy * s * (1 + x * (1 - s)), where GCC contracts
  1 + x * (1 - s) into one fma (in the vector and the scalar code alike).

float32 and float64 (`exact_usable`; the float64 exp is engine/ops/sleef_more.py's):

- sigmoid and silu in float64, as above.
- softplus (Activation.cpp): vector blendv((x * beta).exp().log1p() / beta, x, x * beta > threshold),
  scalar std::log1p(std::exp(x * beta)) / beta.
- elu, selu, celu (Activation.cpp's elu kernel): vector blendv((x * negiptcoef).expm1() * negcoef,
  x * poscoef, x > 0), scalar x <= 0 ? std::expm1(x * negiptcoef) * negcoef : x * poscoef; the coefficients
  in the tensor's dtype (negcoef = alpha * scale rounded to it first).
- mish (Activation.cpp): vector x * x.exp().log1p().tanh(), scalar x * std::tanh(std::log1p(std::exp(x))).
- log_sigmoid (Activation.cpp's _vec_log_sigmoid): not cpu_kernel_vec but a loop of whole vectors and a
  partial one at the end, so every element is min(x, 0) - log1p(exp(-|x|)) with SLEEF's functions.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from engine.bf16 import BF16Array, plain, round_bits, to_bf16, to_bf16_vec
from engine.ops import mkl, sleef, sleef_log1p, sleef_more
from engine.ops.cpu_loops import kernel_vec, reduced_blocks
from engine.ops.fma import fma
from engine.ops.libm import c_elementwise, c_math

_F32 = np.dtype(np.float32)
_F64 = np.dtype(np.float64)
_F16 = np.dtype(np.float16)
_ONE_F32 = np.ones(1, _F32)
_ONE = np.float32(1.0)
_ZERO = np.float32(0.0)


def usable(a: object) -> bool:
    """Whether these kernels compute a: a float32 numpy array (0-d too: one element is the scalar loop's), in
    exact mode (the exact extra's MKL loaded: these kernels cost 3-5x numpy's formula on small arrays, a price
    paid only by choice)."""
    return type(a) is np.ndarray and a.dtype == _F32 and mkl.available()


def exact_usable(a: object) -> bool:
    """Whether the float32/float64 kernels below compute a (engine/ops/sleef_more.py's `usable`)."""
    return sleef_more.usable(a)


def reduced_usable(a: object) -> bool:
    """Whether `reduced` computes a: a float16 numpy array or a bfloat16 one (BF16Array), in exact mode."""
    return (type(a) is BF16Array or (type(a) is np.ndarray and a.dtype == _F16)) and sleef_more.usable(_ONE_F32)


def reduced(fn: Any, *arrays: Any, avx512: bool = True, allvec: bool = False, **kwargs: Any) -> Any:
    """fn, one of the float32 kernels here, over float16/bfloat16 arrays as torch's reduced-float branch of
    that kernel computes them: each operand loaded to float32, the kernel's float code on it (cpu_kernel_vec
    walking blocks of two Vectorized<Half>: 64 elements in the AVX512 build, the scalar function after them),
    the result rounded once at the store. avx512=False: a kernel without an AVX512 variant (its AVX2 blocks).
    allvec: a kernel that stores every element through its vector code (a bfloat16 nan is then 0xFFFF)."""
    bf = type(arrays[0]) is BF16Array
    fs = [plain(a) if bf else _f32_like(a) for a in arrays]
    with reduced_blocks(avx512):
        r = fn(*fs, **kwargs)
    if bf:
        return to_bf16_vec(r) if allvec else to_bf16(r)
    return r.astype(_F16)


def _f32_like(a: np.ndarray) -> np.ndarray:
    """The float16 array a as float32 values laid out as a is (its strides in elements kept, a broadcast dim's
    0 too), so that kernel_vec splits them as torch's iterator walks a."""
    if a.flags.c_contiguous or a.flags.f_contiguous or a.size <= 1:
        return a.astype(_F32)
    est = [s // a.itemsize for s in a.strides]
    lo = sum((n - 1) * s for n, s in zip(a.shape, est) if s < 0)
    hi = sum((n - 1) * s for n, s in zip(a.shape, est) if s > 0)
    buf = np.empty(hi - lo + 1, _F32)
    v = np.lib.stride_tricks.as_strided(buf[-lo:], a.shape, [s * 4 for s in est])
    v[...] = a
    return v


def rounding(a: Any) -> Any:
    """The rounding of float32 values to a's reduced dtype (float16 or bfloat16), kept float32: one step of
    c10::Half / c10::BFloat16 arithmetic."""
    if type(a) is BF16Array:
        return round_bits
    return lambda v: v.astype(_F16).astype(_F32)


def _exp(x: np.ndarray) -> np.ndarray:
    """Vectorized<T>::exp() (SLEEF's)."""
    return sleef.expf(x) if x.dtype == _F32 else sleef_more.exp64(x)


def _log1p(x: np.ndarray) -> np.ndarray:
    """Vectorized<T>::log1p() (SLEEF's)."""
    return sleef_log1p.log1p(x)


def _expm1(x: np.ndarray) -> np.ndarray:
    """Vectorized<T>::expm1() (SLEEF's)."""
    return sleef_log1p.expm1(x)


def _c(name: str, x: np.ndarray) -> np.ndarray:
    """std::name on every element (the C library), or numpy's where no C library loads. exp through
    libm.c_math (its few-pass emulation of glibc's expf, the verified numpy exp for float64)."""
    if name == "exp":
        return c_math("exp", x)
    r = c_elementwise(name, x)
    return getattr(np, name)(x) if r is None else r


def _sigmoid_vec(x: np.ndarray) -> np.ndarray:
    if x.dtype == _F64:
        e = sleef_more.exp64(0.0 - x)
        e += 1.0
        return np.divide(1.0, e, out=e)
    e = sleef.expf(_ZERO - x)
    e += _ONE
    return np.divide(_ONE, e, out=e)


def _sigmoid_scalar(x: np.ndarray) -> np.ndarray:
    e = c_math("exp", -x)
    one = x.dtype.type(1)
    e += one
    return np.divide(one, e, out=e)


def _silu_vec(x: np.ndarray) -> np.ndarray:
    e = _exp(-x)
    e += x.dtype.type(1)
    return np.divide(x, e, out=e)


def _silu_scalar(x: np.ndarray) -> np.ndarray:
    e = c_math("exp", -x)
    e += x.dtype.type(1)
    return np.divide(x, e, out=e)


def sigmoid(a: np.ndarray) -> np.ndarray:
    return kernel_vec(a, _sigmoid_vec, _sigmoid_scalar)


def silu(a: np.ndarray) -> np.ndarray:
    return kernel_vec(a, _silu_vec, _silu_scalar)


def _exp_neg_vec(x: np.ndarray) -> np.ndarray:
    return _exp(-x)


def _exp_neg_scalar(x: np.ndarray) -> np.ndarray:
    return c_math("exp", -x)


def silu_backward(dy: np.ndarray, x: np.ndarray) -> np.ndarray:
    """torch's silu_backward kernel for float32 arrays of one shape and layout (the exp of each element from
    the vector or the scalar function as cpu_kernel_vec splits them; the rest rounds alike in both)."""
    e = kernel_vec(x, _exp_neg_vec, _exp_neg_scalar)  # (split as x's layout walks)
    one = x.dtype.type(1)
    e += one
    s = np.divide(one, e, out=e)
    t = fma(x, one - s, np.ones_like(x))
    return dy * s * t


def silu_backward2(dy: np.ndarray, x: np.ndarray) -> np.ndarray:
    """silu_backward for operands of any layouts (float32/float64): cpu_kernel_vec over (grad, input) as the
    iterator orders them (kernel_vec2), the same arithmetic as silu_backward."""
    from engine.ops.cpu_loops import kernel_vec2

    one = x.dtype.type(1)

    def make(exp: Any) -> Any:
        def f(a: np.ndarray, v: np.ndarray) -> np.ndarray:
            s = one / (one + exp(-v))
            return a * s * fma(v, one - s, np.ones_like(v))

        return f

    with np.errstate(all="ignore"):
        return kernel_vec2(dy, x, make(_exp), make(lambda z: c_math("exp", z)))


def softplus(a: np.ndarray, beta: float, threshold: float) -> np.ndarray:
    """torch's softplus kernel for a float32/float64 array (exact_usable)."""
    dt = a.dtype.type
    b, th = dt(beta), dt(threshold)

    def vec(x: np.ndarray) -> np.ndarray:
        xb = x * b
        return np.where(xb > th, x, _log1p(_exp(xb)) / b)

    def scalar(x: np.ndarray) -> np.ndarray:
        xb = x * b
        return np.where(xb > th, x, _c("log1p", _c("exp", xb)) / b)

    with np.errstate(all="ignore"):
        return kernel_vec(a, vec, scalar)


def elu(a: np.ndarray, alpha: float, scale: float, input_scale: float) -> np.ndarray:
    """torch's elu kernel (elu, selu, celu) for a float32/float64 array (exact_usable)."""
    dt = a.dtype.type
    neg, pos, ins = dt(alpha) * dt(scale), dt(scale), dt(input_scale)

    def vec(x: np.ndarray) -> np.ndarray:
        return np.where(x > 0, x * pos, _expm1(x * ins) * neg)

    def scalar(x: np.ndarray) -> np.ndarray:
        return np.where(x <= 0, _c("expm1", x * ins) * neg, x * pos)

    with np.errstate(all="ignore"):
        return kernel_vec(a, vec, scalar)


def log_sigmoid(a: np.ndarray) -> np.ndarray:
    """torch's log_sigmoid forward for a float32/float64 array (exact_usable): SLEEF on every element."""
    with np.errstate(all="ignore"):
        return np.minimum(a, a.dtype.type(0)) - _log1p(_exp(-np.abs(a)))


def mish_vec(x: np.ndarray) -> np.ndarray:
    """mish's vector function (float32/float64, exact_usable): x * tanh(log1p(exp(x))), SLEEF's functions."""
    return x * sleef_more.tanh(_log1p(_exp(x)))


def softplus_backward(g: np.ndarray, x: np.ndarray, beta: float, threshold: float) -> np.ndarray:
    """torch's softplus_backward kernel (float32/float64, exact_usable): cpu_kernel_vec over (grad, input),
    z = exp(x * beta) (SLEEF's in the vector blocks, std::exp on the rest), x * beta > threshold ? grad :
    grad * z / (z + 1)."""
    from engine.ops.cpu_loops import kernel_vec2

    dt = x.dtype.type
    b, th, one = dt(beta), dt(threshold), dt(1)

    def vec(a: np.ndarray, v: np.ndarray) -> np.ndarray:
        xb = v * b
        z = _exp(xb)
        return np.where(xb > th, a, a * z / (z + one))

    def scalar(a: np.ndarray, v: np.ndarray) -> np.ndarray:
        xb = v * b
        z = _c("exp", xb)
        return np.where(xb > th, a, a * z / (z + one))

    with np.errstate(all="ignore"):
        return kernel_vec2(g, x, vec, scalar)


def log_sigmoid_backward(g: np.ndarray, x: np.ndarray, rnd: Any = None) -> np.ndarray:
    """torch's log_sigmoid_backward kernel (float32/float64, exact_usable): the forward's buffer
    b = exp(-|x|) (SLEEF's, every element), then (max_deriv - sign * (b / (1 + b))) * grad with max_deriv,
    sign = 1, 1 for x < 0 and 0, -1 otherwise."""
    dt = x.dtype.type
    one = dt(1)
    with np.errstate(all="ignore"):
        b = _exp(-np.abs(x))
        if rnd is not None:  # (a float16/bfloat16 forward stores its buffer rounded)
            b = rnd(b)
        neg = x < 0
        t = b / (one + b)
        return np.where(neg, one - t, dt(0) + t) * g


def mish_backward(g: np.ndarray, x: np.ndarray) -> np.ndarray:
    """torch's mish_backward kernel (float32/float64, exact_usable): cpu_kernel_vec over (grad, input),
    s = 1 / (1 + exp(-x)), t = tanh(log1p(exp(x))) (SLEEF's functions in the vector blocks, the C library's
    on the rest), grad * (t + x * s * (1 - t * t)) with both products fused into their sums as GCC contracts
    them (fma(x * s, fma(-t, t, 1), t)), in the vector and the scalar code alike."""
    from engine.ops.cpu_loops import kernel_vec2

    one = x.dtype.type(1)

    def tail(a: np.ndarray, v: np.ndarray, s: np.ndarray, t: np.ndarray) -> np.ndarray:
        return a * fma(v * s, fma(-t, t, np.ones_like(t)), t)

    def vec(a: np.ndarray, v: np.ndarray) -> np.ndarray:
        s = one / (one + _exp(-v))
        return tail(a, v, s, sleef_more.tanh(_log1p(_exp(v))))

    def scalar(a: np.ndarray, v: np.ndarray) -> np.ndarray:
        s = one / (one + _c("exp", -v))
        return tail(a, v, s, _c("tanh", _c("log1p", _c("exp", v))))

    with np.errstate(all="ignore"):
        return kernel_vec2(g, x, vec, scalar)


def elu_backward(g: np.ndarray, x: np.ndarray, alpha: float, scale: float, input_scale: float) -> np.ndarray:
    """torch's elu_backward kernel from the input (is_result false; float32/float64, exact_usable):
    cpu_kernel_vec over (grad, input), x <= 0 ? grad * negiptcoef * negcoef * exp(x * negiptcoef) :
    grad * poscoef (SLEEF's exp in the vector blocks, std::exp on the rest), coefficients in the dtype."""
    from engine.ops.cpu_loops import kernel_vec2

    dt = x.dtype.type
    neg, pos, ins = dt(alpha) * dt(scale), dt(scale), dt(input_scale)

    def vec(a: np.ndarray, v: np.ndarray) -> np.ndarray:
        return np.where(v > 0, a * pos, a * ins * neg * _exp(v * ins))

    def scalar(a: np.ndarray, v: np.ndarray) -> np.ndarray:
        return np.where(v <= 0, a * ins * neg * _c("exp", v * ins), a * pos)

    with np.errstate(all="ignore"):
        return kernel_vec2(g, x, vec, scalar)


def elu_backward_result(g: np.ndarray, y: np.ndarray, alpha: float, scale: float, input_scale: float) -> np.ndarray:
    """torch's elu_backward kernel from the result (is_result, elu_'s backward; float32/float64): y <= 0 ?
    grad * negiptcoef * (y + negcoef) : grad * poscoef, coefficients in the dtype (no function: the vector
    and scalar code agree)."""
    dt = y.dtype.type
    neg, pos, ins = dt(alpha) * dt(scale), dt(scale), dt(input_scale)
    with np.errstate(all="ignore"):
        return np.where(y <= 0, g * ins * (y + neg), g * pos)


def glu(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """torch's glu kernel (float32/float64, exact_usable) over the input's two halves a and b (views):
    cpu_kernel_vec, a * (1 / (1 + exp(-b))), SLEEF's exp in the vector blocks, std::exp on the rest."""
    from engine.ops.cpu_loops import kernel_vec2

    one = a.dtype.type(1)

    def vec(u: np.ndarray, v: np.ndarray) -> np.ndarray:
        return u * (one / (one + _exp(-v)))

    def scalar(u: np.ndarray, v: np.ndarray) -> np.ndarray:
        return u * (one / (one + _c("exp", -v)))

    with np.errstate(all="ignore"):
        return kernel_vec2(a, b, vec, scalar)


def gelu_tanh(a: np.ndarray) -> np.ndarray:
    """torch's GeluKernelImpl with approximate='tanh' (float32/float64, exact_usable): cpu_kernel_vec with
    its own grain (numel / threads above 16384 elements), 0.5 * x * (1 + tanh(kBeta * (x + kKappa * x^3)))
    with kKappa * x^3 fused into its sum as GCC contracts it; SLEEF's tanh in the vector blocks, std::tanh on
    the rest."""
    from engine.ops.cpu_loops import torch_threads

    dt = a.dtype.type
    beta, kappa, half, one = dt(math.sqrt(2) * (2 / math.sqrt(math.pi)) * 0.5), dt(0.044715), dt(0.5), dt(1)

    def inner(v: np.ndarray) -> np.ndarray:
        return beta * fma(v * v * v, kappa, v)

    def vec(v: np.ndarray) -> np.ndarray:
        return half * v * (one + sleef_more.tanh(inner(v)))

    def scalar(v: np.ndarray) -> np.ndarray:
        return half * v * (one + _c("tanh", inner(v)))

    grain = a.size // torch_threads() if a.size > 16384 else 32768
    with np.errstate(all="ignore"):
        return kernel_vec(a, vec, scalar, grain)


def gelu_tanh_backward(g: np.ndarray, x: np.ndarray) -> np.ndarray:
    """torch's GeluBackwardKernelImpl with approximate='tanh' (float32/float64, exact_usable): cpu_kernel_vec
    over (grad, input), t = tanh(kBeta * (x + kKappa * x^3)), grad * (0.5 * (1 + t) + 0.5 * x * (1 - t * t) *
    kBeta * (1 + 3 * kKappa * x^2)), with kKappa * x^3, t * t and (3 * kKappa) * x^2 fused into their sums as
    GCC contracts them; SLEEF's tanh in the vector blocks, std::tanh on the rest."""
    from engine.ops.cpu_loops import kernel_vec2

    dt = x.dtype.type
    beta, kappa, half, one = dt(math.sqrt(2) * (2 / math.sqrt(math.pi)) * 0.5), dt(0.044715), dt(0.5), dt(1)
    k3 = dt(3) * kappa

    def make(tanh: Any) -> Any:
        def f(dy: np.ndarray, v: np.ndarray) -> np.ndarray:
            xsq = v * v
            t = tanh(beta * fma(v * xsq, kappa, v))
            ones = np.ones_like(v)
            td = fma(-t, t, ones)
            idr = beta * fma(np.full_like(v, k3), xsq, ones)
            return dy * (half * (one + t) + ((half * v) * td) * idr)

        return f

    with np.errstate(all="ignore"):
        return kernel_vec2(g, x, make(sleef_more.tanh), make(lambda z: _c("tanh", z)))


def _erf_vec(x: np.ndarray) -> np.ndarray:
    """Vectorized<T>::erf(): SLEEF's erf for float64, aten's own polynomial for float32 (engine/ops/sleef_erf.py)."""
    from engine.ops import sleef_erf

    return sleef_erf.erf32_vec(x) if x.dtype == _F32 else sleef_erf.erf64(x)


def gelu_erf(a: np.ndarray) -> np.ndarray:
    """torch's GeluKernelImpl with approximate='none' (float32/float64, exact_usable; float32 contiguous
    tensors of more than one element go to oneDNN instead, engine/nn/gelu_onednn.py): cpu_kernel_vec with its
    own grain (numel / threads above 16384 elements), x * 0.5 * (1 + erf(x * M_SQRT1_2)); Vectorized<T>::erf
    in the vector blocks, std::erf on the rest."""
    from engine.ops.cpu_loops import torch_threads

    dt = a.dtype.type
    alpha, half, one = dt(math.sqrt(0.5)), dt(0.5), dt(1)

    def vec(v: np.ndarray) -> np.ndarray:
        return v * half * (one + _erf_vec(v * alpha))

    def scalar(v: np.ndarray) -> np.ndarray:
        return v * half * (one + _c("erf", v * alpha))

    grain = a.size // torch_threads() if a.size > 16384 else 32768
    with np.errstate(all="ignore"):
        return kernel_vec(a, vec, scalar, grain)


def gelu_erf_backward(g: np.ndarray, x: np.ndarray) -> np.ndarray:
    """torch's GeluBackwardKernelImpl with approximate='none' (float32/float64, exact_usable): cpu_kernel_vec
    over (grad, input), cdf = 0.5 * (1 + erf(x * M_SQRT1_2)), pdf = kBeta * exp(x * x * -0.5), grad * (cdf +
    x * pdf); GCC contracts x * pdf into its sum in the vector function (not in the scalar one, as measured);
    Vectorized<T>::erf/exp in the vector blocks, std::erf/std::exp on the rest."""
    from engine.ops.cpu_loops import kernel_vec2

    dt = x.dtype.type
    alpha, beta, half, one, mhalf = (dt(math.sqrt(0.5)), dt(1.12837916709551257390 * 0.70710678118654752440 * 0.5),
                                     dt(0.5), dt(1), dt(-0.5))  # fmt: skip

    def vec(dy: np.ndarray, v: np.ndarray) -> np.ndarray:
        cdf = half * (one + _erf_vec(v * alpha))
        pdf = beta * _exp(v * v * mhalf)
        # (where cdf is 0 the fma is the product (+ 0: no -0), maybe subnormal, where the emulation is not exact)
        return dy * np.where(cdf == 0, v * pdf + cdf, fma(v, pdf, cdf))

    def scalar(dy: np.ndarray, v: np.ndarray) -> np.ndarray:
        cdf = half * (one + _c("erf", v * alpha))
        return dy * (cdf + v * (beta * _c("exp", v * v * mhalf)))

    with np.errstate(all="ignore"):
        return kernel_vec2(g, x, vec, scalar)
