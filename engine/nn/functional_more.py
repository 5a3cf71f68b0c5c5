"""More of torch.nn.functional: activations, layer_norm, embedding, distances and losses.

Each function takes torch's path: where torch runs one ATen kernel the result carries that kernel's node
(HardtanhBackward0, NativeLayerNormBackward0, SmoothL1LossBackward0, ...), recorded with functional's
`_record` and a backward written in engine ops, so that create_graph works through it; where torch composes
(in Python or in an ATen CompositeImplicitAutograd function: softmin, cosine_similarity, kl_div, the margin
losses, ...) the same engine ops are composed in the same order, so the printed grad_fn, the graph and the
roundings are torch's. Errors are raised in torch's order with torch's texts (its cpu kernels' names).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np

from engine.amp.policy import policy as autocast_policy
from engine.backend import for_array
from engine.bf16 import BF16Array, plain, round_bits, to_bf16, whole
from engine.creation import full_like, ones_like, zeros_like
from engine.dtypes import DEFAULT, FROM_NP, to_dtype
from engine.grad_mode import ENABLED, no_grad
from engine.nn.functional import (
    _detached,
    _elementwise_mean,
    _implicit_dim,
    _record,
    _reduced,
    _scaled,
    _size_warning,
)
from engine.ops import activation_cpu
from engine.ops import elementwise as E
from engine.ops import reduce as R
from engine.ops.cpu_loops import kernel_vec, reduced_blocks
from engine.ops.elementwise_more import xlogy
from engine.ops.index import cat, index_add_new, narrow
from engine.ops.inplace import apply as _inplace
from engine.ops.libm import c_elementwise
from engine.ops.util import NotImplementedNode, index_range, norm_dim, record, result_np, scalar_to
from engine.tensor import Tensor, wrap
from engine.warn import user_stacklevel

# ---- shared helpers ------------------------------------------------------------------------------------


def _not_implemented(kernel: str, t: Tensor) -> NotImplementedError:
    return NotImplementedError(f"\"{kernel}\" not implemented for '{t.dtype.scalar_name()}'")


def _floats_only(t: Tensor, kernel: str) -> None:
    """torch's kernels dispatch on floating dtypes only: others get its 'not implemented for' error."""
    if t._data.dtype.kind != "f":
        raise _not_implemented(kernel, t)


def _arrays(input: Tensor, fn: Callable[[Any, Any], Any], reduced: bool = False) -> Tensor:  # noqa: A002
    """fn(xp, array) on input's array, as a tensor on its device: float16 is computed in float32 and rounded
    once (torch's opmath); overflow in exp is the intended inf (torch's kernels do not warn). reduced: fn is
    an activation kernel whose float16/bfloat16 branch computes in float (exact mode: fn's float32 kernel over
    blocks of two Vectorized<Half>, activation_cpu.reduced)."""
    d = input._data
    xp = input._dev.xp
    if reduced and activation_cpu.reduced_usable(d):
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            return wrap(activation_cpu.reduced(lambda a: fn(np, a), d), input._dev)
    half = d.dtype == np.float16
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        r = fn(xp, d.astype(np.float32) if half else d)
    if half:
        r = r.astype(np.float16)
    return wrap(xp.asarray(r), input._dev)  # (numpy answers a 0-dim operand with a scalar)


def _activation(input: Tensor, name: str, fwd: Callable, backward: Callable, inplace: bool = False) -> Tensor:  # noqa: A002
    """One elementwise kernel: fwd on arrays, one node `name` whose backward (engine ops) gets the input.
    inplace: torch's `op_` (the leaf and version rules, x's graph rewritten) via engine.ops.inplace."""
    if inplace:
        return _inplace(input, lambda a: _activation(a, name, fwd, backward))
    return _record(name, _arrays(input, fwd, True), (input,), (input,), backward)


def _grad_kernel(name: str, drop: Callable[[Any, Any], Any]) -> Callable:
    """A piecewise-linear activation's backward as torch's primitive (hardtanh_backward, ...): the gradient
    where `drop(x, arg)` is false, 0 where it is true. Under create_graph its node
    (<Name>BackwardBackward0) links to the incoming gradient and, with a zero gradient, to the input, so a
    second derivative is zero rather than an 'unused tensor' error, as in torch."""

    def fwd(g: Any, x: Any, arg: Any) -> Any:
        return for_array(np.where, x)(drop(x, arg), 0, g)  # (a Python 0 keeps g's dtype)

    op: Callable = E._grad_op(name, fwd, lambda gg, g, x, arg: op(gg, x, arg), lambda gg, g, x, arg: E._zeros_of(x))
    return op


# C++'s tensor-and-Scalar arithmetic inside ATen's composite functions: each is one node with one edge
# (AddBackward1, SubBackward1, MulBackward1), where Python's `x + 0.5` records AddBackward0 with two
def _add_scalar(x: Tensor, s: float) -> Tensor:
    with no_grad():
        out = x.detach() + s
    return _record("AddBackward1", out, (x,), (), lambda g: (g,))


def _sub_scalar(x: Tensor, s: float) -> Tensor:
    with no_grad():
        out = x.detach() - s
    return _record("SubBackward1", out, (x,), (), lambda g: (g,))


def _mul_scalar(x: Tensor, s: float) -> Tensor:
    with no_grad():
        out = x.detach() * s
    return _record("MulBackward1", out, (x,), (), lambda g: (g * s,))


def _rsub_scalar(s: float, x: Tensor) -> Tensor:
    # C++'s `Scalar - Tensor` is empty_like(x).fill_(s).sub_(x): SubBackward0 whose first edge is None
    return full_like(x, s) - x


def _reduction_enum(reduction: str) -> str:
    """torch.nn._reduction.get_enum, as the reduction's name."""
    if reduction in ("none", "mean", "sum"):
        return reduction
    if reduction == "elementwise_mean":
        return _elementwise_mean(reduction)
    raise ValueError(f"{reduction} is not a valid value for reduction")


def _legacy_reduction(size_average: Any, reduce: Any) -> str:
    """torch.nn._reduction.legacy_get_string: the old size_average/reduce flags as a reduction, with its warning."""
    size_average = True if size_average is None else size_average
    reduce = True if reduce is None else reduce
    ret = "mean" if size_average and reduce else "sum" if reduce else "none"
    warnings.warn(
        f"size_average and reduce args will be deprecated, please use reduction='{ret}' instead.",
        UserWarning,
        stacklevel=user_stacklevel(),
    )
    return ret


def _reduction(size_average: Any, reduce: Any, reduction: str) -> str:
    if size_average is not None or reduce is not None:
        return _legacy_reduction(size_average, reduce)
    return _reduction_enum(reduction)


def _apply_reduction(loss: Tensor, reduction: str) -> Tensor:
    """ATen's apply_loss_reduction (the reduction already checked)."""
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    return loss


def _shape_text(shape: Any) -> str:
    return "[" + ", ".join(str(n) for n in shape) + "]"


def _broadcast_shape(*shapes: tuple) -> tuple:
    try:
        return tuple(np.broadcast_shapes(*shapes))
    except ValueError:
        raise RuntimeError(E.broadcast_error(*shapes)) from None


def _broadcast_tensors(*ts: Tensor) -> tuple:
    """torch.broadcast_tensors: only the tensors whose shape differs are expanded (ExpandBackward0)."""
    shape = _broadcast_shape(*(t._data.shape for t in ts))
    return tuple(t if t._data.shape == shape else t.expand(shape) for t in ts)


# ---- activations ---------------------------------------------------------------------------------------

hardtanh_backward = _grad_kernel("HardtanhBackwardBackward0", lambda x, a: (x <= a[0]) | (x >= a[1]))
hardshrink_backward = _grad_kernel("HardshrinkBackwardBackward0", lambda x, lambd: (x >= -lambd) & (x <= lambd))
softshrink_backward = _grad_kernel("SoftshrinkBackwardBackward0", lambda x, lambd: (x >= -lambd) & (x <= lambd))


def _hardtanh(input: Tensor, min_val: float, max_val: float, inplace: bool) -> Tensor:  # noqa: A002
    kind = input._data.dtype.kind
    if kind == "b":
        raise RuntimeError("Bool inputs not supported for hardtanh")
    if kind == "u" and (int(min_val) < 0 or int(max_val) < 0):  # (torch takes integer bounds as int(bound))
        raise RuntimeError("cannot do hardtanh on an unsigned type with negative limits")

    def fwd(xp: Any, a: Any) -> Any:  # torch's clamp, with integer bounds for an integer input (1.7 -> 1)
        lo, hi = (int(min_val), int(max_val)) if kind in "iu" else (min_val, max_val)
        return xp.clip(a, scalar_to(lo, a.dtype), scalar_to(hi, a.dtype))

    def backward(g: Tensor, x: Tensor) -> tuple:
        return (hardtanh_backward(g, x, (min_val, max_val)),)

    return _activation(input, "HardtanhBackward0", fwd, backward, inplace)


def hardtanh(input: Tensor, min_val: float = -1.0, max_val: float = 1.0, inplace: bool = False) -> Tensor:  # noqa: A002
    if min_val > max_val:
        raise ValueError("min_val cannot be greater than max_val")
    return _hardtanh(input, min_val, max_val, inplace)


def hardtanh_(input: Tensor, min_val: float = -1.0, max_val: float = 1.0) -> Tensor:  # noqa: A002
    return _hardtanh(input, min_val, max_val, True)  # (torch's hardtanh_ skips the Python bounds check)


def relu6(input: Tensor, inplace: bool = False) -> Tensor:  # noqa: A002
    return _hardtanh(input, 0.0, 6.0, inplace)  # torch: hardtanh(x, 0, 6), so HardtanhBackward0


def _exact_backward(g: Tensor, x: Tensor) -> bool:
    """Whether an activation's backward may run torch's own cpu backward kernel (exact mode) on g and x: plain
    same-dtype, same-shape host arrays, and no graph of the gradient wanted (that needs the formula's ops)."""
    gd, xd = g._data, x._data
    return (
        not (ENABLED[0] and (g._rg or x._rg))
        and (activation_cpu.exact_usable(xd) or activation_cpu.reduced_usable(xd))
        and type(gd) is type(xd)
        and gd.dtype == xd.dtype
        and gd.shape == xd.shape
    )


def _kernel_bw(fn: Callable, g: Tensor, x: Tensor, **kwargs: Any) -> tuple:
    """fn(grad, input), a backward kernel of activation_cpu, on g's and x's arrays (_exact_backward's): float16
    and bfloat16 by torch's float branch of the kernel (activation_cpu.reduced)."""
    gd, xd = g._data, x._data
    if activation_cpu.reduced_usable(xd):
        return (wrap(activation_cpu.reduced(fn, gd, xd, **kwargs), x._dev),)
    return (wrap(fn(gd, xd, **kwargs), x._dev),)


def logsigmoid(input: Tensor) -> Tensor:  # noqa: A002
    _floats_only(input, "log_sigmoid_cpu")

    def fwd(xp: Any, a: Any) -> Any:  # torch's stable form: min(x, 0) - log1p(exp(-|x|))
        if activation_cpu.exact_usable(a):  # (its kernel's SLEEF functions, on every element)
            return activation_cpu.log_sigmoid(a)
        return xp.minimum(a, 0) - xp.log1p(xp.exp(-xp.abs(a)))

    def backward(g: Tensor, x: Tensor) -> tuple:
        # d/dx log(sigmoid(x)) = sigmoid(-x); its derivative is torch's log_sigmoid_double_backward
        if _exact_backward(g, x):  # (float16/bfloat16: the forward's buffer exp(-|x|) is stored rounded)
            rnd = _round_like(x._data)
            return _kernel_bw(activation_cpu.log_sigmoid_backward, g, x, **({"rnd": rnd} if rnd else {}))
        return (g * E.sigmoid(-x),)

    return _record("LogSigmoidBackward0", _arrays(input, fwd, True), (input,), (input,), backward)


def _round_like(d: Any) -> Any:
    """float32 values rounded to d's reduced dtype (kept float32), or None for other dtypes."""
    if type(d) is BF16Array:
        return round_bits
    if d.dtype == np.float16:
        return lambda a: a.astype(np.float16).astype(np.float32)
    return None


logsigmoid.__name__ = logsigmoid.__qualname__ = "log_sigmoid"  # (torch's is the builtin torch._C._nn.log_sigmoid)


def softmin(input: Tensor, dim: Any = None, _stacklevel: int = 3, dtype: Any = None) -> Tensor:  # noqa: A002
    if dim is None:  # torch's _get_softmax_dim: warn, then the legacy choice
        _implicit_dim("softmin", None)
        dim = 0 if input.dim() in (0, 1, 3) else 1
    neg = -input
    if dtype is not None:
        neg = neg.to(to_dtype(dtype))  # torch's softmax(dtype=) casts first: ToCopyBackward0 under the softmax
    return R.softmax(neg, dim)


def softsign(input: Tensor) -> Tensor:  # noqa: A002
    return input / (input.abs() + 1)  # torch's Python composite


def tanhshrink(input: Tensor) -> Tensor:  # noqa: A002
    return input - input.tanh()  # torch's Python composite


_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946


def _scalar_loop(fwd: Callable, scalar: Callable) -> Callable:
    """fwd (xp, array) as torch's cpu_kernel_vec for float32/float64 numpy arrays: `scalar`, the kernel's
    scalar function with the C library's functions, on the elements its scalar loop takes (all of a tensor
    shorter than two vectors), fwd on the vector blocks."""

    def f(xp: Any, a: Any) -> Any:
        if xp is np and type(a) is np.ndarray and a.dtype.char in "fd":
            with np.errstate(all="ignore"):
                return kernel_vec(a, lambda v: fwd(np, v), scalar)
        return fwd(xp, a)

    return f


def _elu(input: Tensor, name: str, alpha: float, scale: float, input_scale: float, inplace: bool,
         grad_input_scale: float | None = None) -> Tensor:  # noqa: A002  # fmt: skip
    """torch's elu kernel, which selu and celu call with their own coefficients (grad_input_scale: the one
    torch's backward formula uses, where it differs)."""
    _floats_only(input, "elu_cpu")
    neg = alpha * scale
    bw_scale = input_scale if grad_input_scale is None else grad_input_scale

    def fwd(xp: Any, a: Any) -> Any:
        return xp.where(a <= 0, xp.expm1(a * input_scale) * neg, a * scale)

    def scalar(a: Any) -> Any:  # a <= 0 ? std::expm1(a * negiptcoef) * negcoef : a * poscoef, in a's dtype
        dt = a.dtype.type
        e = c_elementwise("expm1", a * dt(input_scale))
        return fwd(np, a) if e is None else np.where(a <= 0, e * (dt(alpha) * dt(scale)), a * dt(scale))

    def backward(g: Tensor, x: Tensor) -> tuple:
        # from the input, so that a second derivative reaches it; torch's double backward masks with x < 0
        # where its backward takes x <= 0, so at x == 0 the gradient is the constant g * neg * input_scale
        if inplace:  # elu_: torch's backward reads the result, grad * input_scale * (result + neg)
            if _exact_backward(g, x):  # (the forward's result again, from its kernel; torch's elu_backward)
                res = _arrays(x, kernel, True)
                return _kernel_bw(activation_cpu.elu_backward_result, g, res, alpha=alpha, scale=scale,
                                  input_scale=bw_scale)  # fmt: skip
            res = E.where(x <= 0, (x * input_scale).expm1() * neg, x * scale)
            return (E.where(res <= 0, g * bw_scale * (res + neg), g * scale),)
        if _exact_backward(g, x):  # torch's elu_backward kernel (is_result false)
            return _kernel_bw(activation_cpu.elu_backward, g, x, alpha=alpha, scale=scale, input_scale=bw_scale)
        inside = E.where(x == 0, g * (neg * bw_scale), g * scale)
        return (E.where(x < 0, g * (x * bw_scale).exp() * (neg * bw_scale), inside),)

    loop = _scalar_loop(fwd, scalar)

    def kernel(xp: Any, a: Any) -> Any:
        if activation_cpu.exact_usable(a):  # torch's kernel: SLEEF's expm1, the C library's on its tail
            return activation_cpu.elu(a, alpha, scale, input_scale)
        return loop(xp, a)

    return _activation(input, name, kernel, backward, inplace)


def elu(input: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:  # noqa: A002
    # (replaces functional.elu: this one's second derivative at 0 is torch's)
    return _elu(input, "EluBackward1" if inplace else "EluBackward0", alpha, 1.0, 1.0, inplace)


def elu_(input: Tensor, alpha: float = 1.0) -> Tensor:  # noqa: A002
    return elu(input, alpha, True)


def selu(input: Tensor, inplace: bool = False) -> Tensor:  # noqa: A002
    # torch.selu is elu with selu's constants (EluBackward0); in place, EluBackward1
    return _elu(input, "EluBackward1" if inplace else "EluBackward0", _SELU_ALPHA, _SELU_SCALE, 1.0, inplace)


def selu_(input: Tensor) -> Tensor:  # noqa: A002
    return selu(input, True)


def celu(input: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:  # noqa: A002
    if alpha == 0:
        raise RuntimeError("ZeroDivisionError: alpha cannot be 0 for CELU")
    # the forward divides in double; torch's derivative formula takes 1.0 / alpha.toFloat()
    bw_scale = 1.0 / float(np.float32(alpha))
    return _elu(input, "CeluBackward1" if inplace else "CeluBackward0", alpha, 1.0, 1.0 / alpha, inplace, bw_scale)


def celu_(input: Tensor, alpha: float = 1.0) -> Tensor:  # noqa: A002
    return celu(input, alpha, True)


def mish(input: Tensor, inplace: bool = False) -> Tensor:  # noqa: A002
    _floats_only(input, "mish_cpu")

    def fwd(xp: Any, a: Any) -> Any:
        return a * xp.tanh(xp.log1p(xp.exp(a)))

    def scalar(a: Any) -> Any:  # x * std::tanh(std::log1p(std::exp(x)))
        e = c_elementwise("exp", a)
        return fwd(np, a) if e is None else a * c_elementwise("tanh", c_elementwise("log1p", e))

    loop = _scalar_loop(fwd, scalar)

    def kernel(xp: Any, a: Any) -> Any:
        if activation_cpu.exact_usable(a):  # torch's kernel: SLEEF's exp, log1p and tanh, the C library's on its tail
            with np.errstate(all="ignore"):
                return kernel_vec(a, activation_cpu.mish_vec, scalar)
        return loop(xp, a)

    def backward(g: Tensor, x: Tensor) -> tuple:  # torch's infinitely_differentiable_mish_backward
        if _exact_backward(g, x):
            return _kernel_bw(activation_cpu.mish_backward, g, x)  # (torch's mish_backward kernel)
        t = E.softplus(x).tanh()
        return (g * (t + x * x.sigmoid() * (1.0 - t * t)),)

    return _activation(input, "MishBackward0", kernel, backward, inplace)


def hardswish(input: Tensor, inplace: bool = False) -> Tensor:  # noqa: A002
    _floats_only(input, "hardswish_cpu")

    def fwd(xp: Any, a: Any) -> Any:
        return a * xp.clip(a + 3, 0, 6) / 6

    def backward(g: Tensor, x: Tensor) -> tuple:  # torch's hardswish_backward (a nan input passes g)
        if _exact_backward(g, x) and activation_cpu.reduced_usable(x._data):  # (its float branch, rounded once)
            return _kernel_bw(_hardswish_backward_arrays, g, x)
        return (E.where(x <= -3, 0.0, E.where(x < 3, g * (x / 3 + 0.5), g)),)

    return _activation(input, "HardswishBackward0", fwd, backward, inplace)


def _hardswish_backward_arrays(g: Any, x: Any) -> Any:
    return np.where(x <= -3, np.float32(0), np.where(x < 3, g * (x / np.float32(3) + np.float32(0.5)), g))


def _hardsigmoid_backward(g: Tensor, x: Tensor) -> Tensor:
    def fwd(xp: Any, a: Any) -> Any:
        xa = x._data.astype(a.dtype)
        # torch's constant is 1.0f / 6.0f, a float32 even for double tensors
        return xp.where((xa > -3) & (xa < 3), a * a.dtype.type(np.float32(1.0) / np.float32(6.0)), 0)

    r = _arrays(g, fwd)
    # torch has no double backward for hardsigmoid: under create_graph the gradient's node is NotImplemented
    return record(NotImplementedNode, r._data, r._dev, (x,), ("aten::hardsigmoid_backward",), (None,))


def hardsigmoid(input: Tensor, inplace: bool = False) -> Tensor:  # noqa: A002
    _floats_only(input, "hardsigmoid_cpu")

    def fwd(xp: Any, a: Any) -> Any:
        return xp.clip(a + 3, 0, 6) / 6

    return _activation(input, "HardsigmoidBackward0", fwd, lambda g, x: (_hardsigmoid_backward(g, x),), inplace)


def glu(input: Tensor, dim: int = -1) -> Tensor:  # noqa: A002
    if input.dim() == 0:
        raise RuntimeError("glu does not support scalars because halving size must be even")
    ax = norm_dim(dim, input.dim())
    n = input._data.shape[ax]
    if n % 2:
        raise RuntimeError(f"Halving dimension must be even, but dimension {ax} is size {n}")
    _floats_only(input, "glu_cpu")
    h = n // 2

    def fwd(xp: Any, d: Any) -> Any:
        a, b = xp.split(d, 2, axis=ax)
        if activation_cpu.exact_usable(d):  # torch's glu kernel over the two halves (SLEEF's exp in its vectors)
            return activation_cpu.glu(a, b)
        return a / (1 + xp.exp(-b))  # a * sigmoid(b)

    def backward(g: Tensor, x: Tensor) -> tuple:  # torch's glu_backward: both halves, joined along dim
        # (s = sigmoid of the second half, stored in the dtype; the first half's gradient s * g, the second's the
        # glu_backward kernel's (1 - s) * s * a * g, in float and rounded once for float16/bfloat16)
        a, s = narrow(x, ax, 0, h), narrow(x, ax, h, h).sigmoid()
        gd = g._data
        if not (ENABLED[0] and (g._rg or x._rg)) and activation_cpu.reduced_usable(gd) and type(gd) is type(x._data):
            second = activation_cpu.reduced(lambda s_, a_, g_: (1 - s_) * s_ * a_ * g_, s._data, a._data, gd)
            return (cat([s * g, wrap(second, x._dev)], ax),)
        return (cat([s * g, (1 - s) * s * a * g], ax),)  # (its kernel's (1 - s) * s * a * grad, left to right)

    return _record("GluBackward0", _arrays(input, fwd, True), (input,), (input,), backward)


def _threshold(input: Tensor, threshold: float, value: float, inplace: bool) -> Tensor:  # noqa: A002
    if input._data.dtype.kind == "b":
        raise _not_implemented("threshold_cpu", input)

    def fwd(xp: Any, a: Any) -> Any:  # torch's kernel: x <= threshold ? value : x, both in x's dtype
        return xp.where(a <= scalar_to(threshold, a.dtype), scalar_to(value, a.dtype), a)

    def backward(g: Tensor, x: Tensor) -> tuple:
        return (E.threshold_backward(g, x, threshold),)

    return _activation(input, "ThresholdBackward1" if inplace else "ThresholdBackward0", fwd, backward, inplace)


def threshold(input: Tensor, threshold: float, value: float, inplace: bool = False) -> Tensor:  # noqa: A002
    return _threshold(input, threshold, value, inplace)


threshold.__name__ = threshold.__qualname__ = "_threshold"  # (torch's F.threshold is its boolean-dispatch wrapper)


def threshold_(input: Tensor, threshold: float, value: float) -> Tensor:  # noqa: A002
    return _threshold(input, threshold, value, True)


def softshrink(input: Tensor, lambd: float = 0.5) -> Tensor:  # noqa: A002
    _floats_only(input, "softshrink_check")
    top = float(np.finfo(input._data.dtype).max)
    if not 0 <= lambd <= top:
        raise RuntimeError(
            f"lambda must be in range [0, {top:g}] for input dtype {input.dtype.scalar_name()}, but found {lambd:g}"
        )

    def fwd(xp: Any, a: Any) -> Any:  # (torch's `a * 0` in the dead zone keeps -0.0 and nan)
        return xp.where(a > lambd, a - lambd, xp.where(a < -lambd, a + lambd, a * 0))

    def backward(g: Tensor, x: Tensor) -> tuple:  # (shrink_backward compares with lambd in the dtype)
        return (softshrink_backward(g, x, _in_dtype(lambd, x._data)),)

    d = input._data
    if activation_cpu.reduced_usable(d):  # (the float branch, lambd a float)
        r = activation_cpu.reduced(lambda a: _softshrink_kernel(a, np.float32(lambd)), d, avx512=False)
        out = wrap(r, input._dev)
    elif activation_cpu.exact_usable(d):
        with reduced_blocks(avx512=False, itemsize=d.itemsize):  # (no AVX512 variant: its AVX2 blocks)
            out = wrap(_softshrink_kernel(d, d.dtype.type(lambd)), input._dev)
    else:
        out = _arrays(input, fwd)
    return _record("SoftshrinkBackward0", out, (input,), (input,), backward)


def _in_dtype(v: float, d: Any) -> float:
    """The Python float v as d's floating dtype holds it (float32, float16, bfloat16 round it)."""
    if d.dtype.metadata is not None:
        return float(round_bits(np.float32(v)))
    if d.dtype.kind == "f":
        return float(d.dtype.type(np.float32(v)) if d.dtype.itemsize < 8 else v)
    return v


def _softshrink_kernel(a: Any, lam: Any) -> Any:
    """torch's softshrink kernel on a float32/float64 array (cpu_kernel_vec): its vector code ORs the masked
    x - lambd and x + lambd, so the dead zone is +0.0 (a nan stays); its scalar tail's x * 0 keeps -0.0."""
    zero = a.dtype.type(0)

    def vec(v: Any) -> Any:
        r = np.where(v > lam, v - lam, np.where(v < -lam, v + lam, zero))
        return np.where(v != v, v, r)

    def scalar(v: Any) -> Any:
        return np.where(v > lam, v - lam, np.where(v < -lam, v + lam, v * zero))

    with np.errstate(all="ignore"):
        return kernel_vec(a, vec, scalar)


def hardshrink(input: Tensor, lambd: float = 0.5) -> Tensor:  # noqa: A002
    _floats_only(input, "hardshrink_cpu")

    lam = _in_dtype(lambd, input._data)  # (torch's kernels compare with lambd.to<scalar_t>())

    def fwd(xp: Any, a: Any) -> Any:
        return xp.where((a >= -lam) & (a <= lam), 0, a)

    def backward(g: Tensor, x: Tensor) -> tuple:
        return (hardshrink_backward(g, x, lam),)

    return _record("HardshrinkBackward0", _arrays(input, fwd), (input,), (input,), backward)


@autocast_policy(cpu="lower", cuda="lower")
def prelu(input: Tensor, weight: Tensor) -> Tensor:  # noqa: A002
    """ATen's prelu: the weight reshaped to broadcast over the channel dim (ViewBackward0), then one
    _prelu_kernel (PreluKernelBackward0)."""
    if input.dtype is not weight.dtype:
        raise RuntimeError(
            f"prelu: Type promoting not supported. Got {input.dtype.scalar_name()} and {weight.dtype.scalar_name()}"
        )
    nd, nw = input.dim(), weight.numel()
    if nw != 1:
        if nd == 0:
            raise RuntimeError("Not allow zero-dim input tensor.")
        channels = input._data.shape[1] if nd > 1 else 1
        if channels != nw:
            raise RuntimeError(
                f"Mismatch of parameter numbers and input channel size. Found parameter numbers = {nw} and channel "
                f"size = {channels}."
            )
    if weight.dim() > 1:
        raise RuntimeError(f"prelu: Expected `weight` to be a scalar or 1D tensor, but got: ndim = {weight.dim()}")
    w = weight
    if nd != weight.dim():
        shape = [1] * nd
        if nd > 1:
            shape[1] = nw
        w = weight.reshape(shape)
    _floats_only(input, "prelu_cpu")
    x, wd = _detached(input, w)
    with no_grad():
        out = E.where(x > 0, x, wd * x)

    def backward(g: Tensor, x: Tensor, w: Tensor) -> tuple:  # torch's _prelu_kernel_backward
        return E.where(x > 0, g, w * g), E.where(x > 0, 0.0, x * g)  # (w's is summed back to its shape)

    return _record("PreluKernelBackward0", out, (input, w), (input, w), backward)


# ---- layers --------------------------------------------------------------------------------------------


@whole
def layer_norm(input: Tensor, normalized_shape: Any, weight: Tensor | None = None, bias: Tensor | None = None,
               eps: float = 1e-5) -> Tensor:  # noqa: A002  # fmt: skip
    from engine.nn.functional import tensor_arg

    tensor_arg("layer_norm", input)
    if isinstance(normalized_shape, int):  # torch's argument parser takes a sequence only
        raise TypeError(
            "layer_norm(): argument 'normalized_shape' (position 2) must be tuple of ints, not "
            f"{type(normalized_shape).__name__}"
        )
    shape = [int(n) for n in normalized_shape]
    k = len(shape)
    if k < 1:
        raise RuntimeError(
            "Expected normalized_shape to be at least 1-dimensional, i.e., containing at least one element, but got "
            f"normalized_shape = {_shape_text(shape)}"
        )
    for what, p in (("weight", weight), ("bias", bias)):
        if p is not None and list(p._data.shape) != shape:
            raise RuntimeError(
                f"Expected {what} to be of same shape as normalized_shape, but got {what} of shape "
                f"{_shape_text(p._data.shape)} and normalized_shape = {_shape_text(shape)}"
            )
    ishape = input._data.shape
    if len(ishape) < k or list(ishape[len(ishape) - k :]) != shape:
        raise RuntimeError(
            f"Given normalized_shape={_shape_text(shape)}, expected input with shape [*"
            + "".join(f", {n}" for n in shape)
            + f"], but got input of size{_shape_text(ishape)}"
        )
    params = [p for p in (weight, bias) if p is not None]
    if params and params[0]._data.dtype != input._data.dtype:  # torch's cpu mixed-dtype rule
        if any(p._data.dtype != np.float32 for p in params):
            raise RuntimeError("mixed dtype (CPU): expect parameter to have scalar type of Float")
        if input._data.dtype != np.float16:
            raise RuntimeError("mixed dtype (CPU): all inputs must share same datatype.")
    _floats_only(input, "LayerNormKernelImpl")
    axes = tuple(range(len(ishape) - k, len(ishape)))
    w_arr = plain(weight._data) if weight is not None else None
    b_arr = plain(bias._data) if bias is not None else None

    stats: list = []  # (rows' mean, rstd) of torch's cpu kernel, for the backward on the arrays

    def fwd(xp: Any, a: Any) -> Any:
        if type(a) is BF16Array:  # torch's float kernel on the values, rounded once
            out = to_bf16(fwd(xp, plain(a)))
            if stats:  # (torch keeps the rows' mean and rstd in the input's dtype for the backward)
                stats[-1] = tuple(round_bits(s) for s in stats[-1])
            return out
        if type(a) is np.ndarray and a.dtype in (np.float32, np.float64) and a.size:
            out, mean, rstd = _layer_norm_cpu(a, math.prod(shape), eps, w_arr, b_arr)
            stats.append((mean, rstd))
            return out
        mean = a.mean(axis=axes, keepdims=True)
        xc = a - mean
        rstd = 1 / xp.sqrt((xc * xc).mean(axis=axes, keepdims=True) + eps)
        out = xc * rstd
        if w_arr is not None:
            out = out * w_arr.astype(a.dtype)
        if b_arr is not None:
            out = out + b_arr.astype(a.dtype)
        return out

    @whole  # (one kernel in torch: bfloat16 rounds once)
    def backward(g: Tensor, x: Tensor, w: Any, b: Any) -> tuple:
        if stats and not ENABLED[0] and isinstance(g._data, np.ndarray):  # torch's kernel, on the arrays
            return _layer_norm_backward_cpu(g, x, w, b, stats[0], math.prod(shape))
        # mean and rstd recomputed from x in engine ops (not saved as constants): under create_graph the
        # gradient then depends on x through them too, as torch's layer_norm double backward does
        mu = x.mean(axes, keepdim=True)
        xc = x - mu
        rstd = ((xc * xc).mean(axes, keepdim=True) + eps).rsqrt()
        xhat = xc * rstd
        gx = gw = gb = None
        if x.requires_grad:
            gh = g if w is None else g * w
            gx = rstd * (gh - gh.mean(axes, keepdim=True) - xhat * (gh * xhat).mean(axes, keepdim=True))
        if w is not None and w.requires_grad:
            gw = (g * xhat).reshape(-1, *shape).sum(0)
        if b is not None and b.requires_grad:
            gb = g.reshape(-1, *shape).sum(0)
        return gx, gw, gb

    out = _arrays(input, fwd)
    return _record("NativeLayerNormBackward0", out, (input, weight, bias), (input, weight, bias), backward)


def _layer_norm_backward_cpu(g: Tensor, x: Tensor, w: Tensor | None, b: Tensor | None, stats: tuple, n: int) -> tuple:
    """torch's cpu layer_norm backward kernel on the arrays (nn/layer_norm_cpu.py), with the forward's mean and
    rstd; the gradients in the input's shape and the parameters'."""
    from engine.nn import layer_norm_cpu

    xd = plain(x._data)  # (bfloat16: torch's float kernel on the values, each gradient rounded once)
    rows = np.ascontiguousarray(xd).reshape(-1, n)
    dy = np.ascontiguousarray(plain(g._data), dtype=xd.dtype).reshape(-1, n)
    gamma = None if w is None else plain(w._data).reshape(-1)
    gx, gw, gb = layer_norm_cpu.backward(dy, rows, *stats, gamma, x._rg, w is not None and w._rg,
                                         b is not None and b._rg)  # fmt: skip

    def back(r: Any, like: Any) -> Tensor:
        return wrap(r.reshape(like.shape) if like.dtype.metadata is None else to_bf16(r.reshape(like.shape)), x._dev)

    return (
        None if gx is None else back(gx, x._data),
        None if gw is None else back(gw, w._data),
        None if gb is None else back(gb, b._data),
    )


def _layer_norm_cpu(a: np.ndarray, n: int, eps: float, w: Any, b: Any) -> tuple:
    """torch's cpu layer_norm of float32 or float64 rows, bit for bit: the rows' moments as its RowwiseMoments
    computes them, then (x - mean) * rstd with the weight and bias in its fused multiply-adds. (A near-zero
    output after cancellation shows a one-ulp difference in the mean at the fourth printed digit.) Returns
    (out, mean, rstd), the rows' statistics as torch's kernel saves them."""
    from engine.nn.functional_norm import _rowwise_moments
    from engine.ops.norm_vec import fmadd

    dt = a.dtype
    rows = a.reshape(-1, n)
    mean, var = _rowwise_moments(rows)
    rstd = (dt.type(1) / np.sqrt(var + dt.type(eps)))[:, None]
    xc = rows - mean[:, None]
    w = w.reshape(-1).astype(dt, copy=False) if w is not None else None
    b = np.broadcast_to(b.reshape(-1).astype(dt, copy=False), xc.shape) if b is not None else None
    if w is None:  # (the + 0: torch's multiply-add has an addend of 0 there, so a -0. comes out as 0.)
        out = xc * rstd + 0 if b is None else fmadd(xc, rstd, b)
    else:
        out = xc * rstd * w + 0 if b is None else fmadd(xc * rstd, w, b)
    return out.reshape(a.shape), mean, rstd[:, 0]


def _index_check(fn: str, indices: Tensor, pos: int) -> None:
    dt = indices._data.dtype
    if dt not in (np.int64, np.int32):
        # torch names the type as its legacy class, except bool's, which it names by its backend type
        kind = f"{'CPU' if indices.device.type == 'cpu' else 'CUDA'}BoolType" if dt == np.bool_ else indices.type()
        raise RuntimeError(
            f"Expected tensor for argument #{pos} 'indices' to have one of the following scalar types: Long, Int; "
            f"but got {kind} instead (while checking arguments for {fn})"
        )


def _embedding_renorm(weight: Tensor, indices: Tensor, max_norm: float, norm_type: float) -> None:
    """torch.embedding_renorm_ on weight.detach() (so weight's version counter moves, as in torch): each row
    an index names, once, scaled by max_norm / (norm + 1e-7) where its norm exceeds max_norm."""
    if weight.dim() != 2:
        raise RuntimeError(
            f"Expected 2-dimensional tensor, but got {weight.dim()}-dimensional tensor for argument #1 'self' "
            "(while checking arguments for embedding_renorm_)"
        )
    _index_check("embedding_renorm_", indices, 2)
    n = weight._data.shape[0]
    idx = indices._data.reshape(-1)
    if idx.size:
        lo, hi = index_range(idx)
        bad = lo if lo < -n else hi if hi >= n else None
        if bad is not None:
            raise IndexError(
                f"select(): index {bad} out of range for tensor of size {_shape_text(weight.shape)} at dimension 0"
            )
    xp = weight._dev.xp
    rows = wrap(xp.unique(idx).astype(np.int64), weight._dev)
    with no_grad():
        w = weight.detach()
        picked = w[rows]
        norms = R.vector_norm(picked, norm_type, 1, keepdim=True).double()
        big = norms > max_norm
        scale = E.where(big, max_norm / (norms + 1e-7), 1.0).to(picked.dtype)
        w[rows] = picked * scale


def embedding(input: Tensor, weight: Tensor, padding_idx: int | None = None, max_norm: float | None = None,
              norm_type: float = 2.0, scale_grad_by_freq: bool = False, sparse: bool = False) -> Tensor:  # noqa: A002  # fmt: skip
    from engine.nn.functional import tensor_arg

    tensor_arg("embedding", input, "indices", 2)
    if padding_idx is not None:
        if padding_idx > 0:
            if padding_idx >= weight.size(0):
                raise AssertionError("Padding_idx must be within num_embeddings")
        elif padding_idx < 0:
            if padding_idx < -weight.size(0):
                raise AssertionError("Padding_idx must be within num_embeddings")
            padding_idx = weight.size(0) + padding_idx
    else:
        padding_idx = -1
    if max_norm is not None:
        input = input.contiguous()  # noqa: A001
        _embedding_renorm(weight, input, max_norm, norm_type)
    if weight.dim() != 2:
        raise RuntimeError("'weight' must be 2-D")
    _index_check("embedding", input, 1)
    n, width = weight._data.shape
    idx = input._data
    if idx.size:
        lo, hi = index_range(idx)
        if n == 0:  # (torch's embedding is an index_select of the weight's rows)
            raise RuntimeError("index_select(): self indexing axis dim should be positive")
        if lo < 0 or hi >= n:
            raise IndexError("index out of range in self")
    out = wrap(weight._data[idx.reshape(-1)].reshape(*idx.shape, width), weight._dev)

    def backward(g: Tensor, indices: Tensor) -> tuple:
        # torch's embedding_sparse_backward: a sparse COO gradient (engine/sparse_tensor.py, cpu only: on cuda
        # the engine's sparse tensors are not there, so the same values come dense)
        if sparse and g._dev.type == "cpu":
            from engine.sparse_tensor import embedding_sparse_grad

            return (embedding_sparse_grad(g, indices, (n, width), padding_idx, scale_grad_by_freq),)
        # torch's embedding_dense_backward: each index's gradient row added into its weight row (none for
        # padding_idx), scaled by 1 / the index's count in the batch under scale_grad_by_freq; as an
        # index_add, so that a second derivative flows back through it
        flat = indices.reshape(-1).long()
        rows = g.reshape(-1, width)
        if padding_idx >= 0:
            rows = E.where((flat != padding_idx).unsqueeze(1), rows, 0.0)
        if scale_grad_by_freq:
            xp = g._dev.xp
            counts = xp.bincount(flat._data, minlength=n)[flat._data]
            rows = rows * wrap((1.0 / counts).astype(g._data.dtype)[:, None], g._dev)
        return (index_add_new(rows, 0, flat, (n, width)),)

    return _record("EmbeddingBackward0", out, (weight,), (input,), backward)


# ---- distances -----------------------------------------------------------------------------------------


def cosine_similarity(x1: Tensor, x2: Tensor, dim: int = 1, eps: float = 1e-8) -> Tensor:
    """ATen's cosine_similarity: each input divided by its clamped norm first, then the dot product."""
    common = result_np(x1, x2)
    if common.kind != "f":
        raise RuntimeError(
            f"expected common dtype to be floating point, yet common dtype is {FROM_NP[common].scalar_name()}"
        )
    a = x1 if x1._data.dtype.kind == "f" else x1.to(FROM_NP[common])  # (integers and bools only)
    b = x2 if x2._data.dtype.kind == "f" else x2.to(FROM_NP[common])
    if a._data.shape != b._data.shape:  # expand_outplace: both expanded, as soon as the shapes differ
        shape = _broadcast_shape(a._data.shape, b._data.shape)
        a, b = a.expand(shape), b.expand(shape)
    n1 = R.vector_norm(a, 2, dim, keepdim=True).clone()
    n2 = R.vector_norm(b, 2, dim, keepdim=True).clone()
    with no_grad():  # torch clamps the clones in place, outside the graph
        n1.clamp_min_(eps)
        n2.clamp_min_(eps)
    return ((a / n1) * (b / n2)).sum(dim)


def _norm(x: Tensor, p: float, dim: int | None, keepdim: bool) -> Tensor:
    """at::norm(x, p, dim, keepdim): NormBackward1, or NormBackward0 over the whole tensor (dim=None)
    (torch.linalg's norm is LinalgVectorNormBackward0)."""
    with no_grad():
        y = R.vector_norm(x.detach(), p, dim, keepdim)
    dims = R._dims(x, dim) if x.dim() else None

    def backward(g: Tensor, x: Tensor) -> tuple:
        # under create_graph the norm is recomputed in the graph, so a second derivative sees its dependence on x
        yy = R.vector_norm(x, p, dim, keepdim) if ENABLED[0] else y
        return R._norm_bw(None, g, x, yy, float(p), dims, keepdim)

    return _record("NormBackward1" if dim is not None else "NormBackward0", y, (x,), (x,), backward)


def pairwise_distance(x1: Tensor, x2: Tensor, p: float = 2.0, eps: float = 1e-6, keepdim: bool = False) -> Tensor:
    dim = max(x1.dim(), x2.dim()) - 1  # the innermost dim of the broadcast result
    return _norm(_add_scalar(x1 - x2, eps), p, dim, keepdim)


# ---- losses --------------------------------------------------------------------------------------------


def _pointwise_loss(name: str, kernel: str, input: Tensor, target: Tensor, reduction: str, value: Callable,
                    grad: Callable, input_dtype: bool = False) -> Tensor:  # noqa: A002  # fmt: skip
    """One loss kernel over broadcast inputs: value(d) of d = input - target, reduced; grad(s, d), s the
    scaled incoming gradient, is the input's gradient, and grad(s, target - input) the target's, as torch
    calls its backward kernel with the two swapped. input_dtype: the kernel writes into a tensor of input's
    dtype (huber_loss), so the loss is rounded to it before the reduction. grad(g, k, d) also has the incoming
    gradient g and the factor k (1/n for a mean), as torch's kernels group norm * x * grad_output."""
    common = result_np(input, target)
    if common.kind != "f":
        raise NotImplementedError(f"\"{kernel}\" not implemented for '{FROM_NP[common].scalar_name()}'")
    if input_dtype and input._data.dtype.kind != "f":
        raise RuntimeError(
            f"result type {FROM_NP[common].scalar_name()} can't be cast to the desired output type "
            f"{input.dtype.scalar_name()}"
        )
    x, t = _detached(input, target)
    with no_grad():
        loss = value(x - t)
        out, k = _reduced(loss.to(x.dtype) if input_dtype else loss, reduction)

    def backward(g: Tensor, x: Tensor, t: Tensor) -> tuple:
        if input_dtype and x.dtype is not t.dtype:  # huber_loss_backward's own dtype check
            raise RuntimeError(f"Found dtype {t.dtype.scalar_name()} but expected {x.dtype.scalar_name()}")
        s = _scaled(g, reduction, k)
        return (grad(s, g, k, x - t) if x.requires_grad else None, grad(s, g, k, t - x) if t.requires_grad else None)

    return _record(name, out, (input, target), (input, target), backward)


@autocast_policy(cpu="fp32", cuda="fp32")
def smooth_l1_loss(input: Tensor, target: Tensor, size_average: Any = None, reduce: Any = None,
                   reduction: str = "mean", beta: float = 1.0) -> Tensor:  # noqa: A002  # fmt: skip
    _size_warning(input, target)
    if size_average is not None or reduce is not None:
        reduction = _legacy_reduction(size_average, reduce)
    input, target = _broadcast_tensors(input, target)  # noqa: A001
    if beta == 0.0:  # torch's l1_loss, a composite: |input - target|, reduced
        return _apply_reduction((input - target).abs(), _reduction_enum(reduction))
    reduction = _reduction_enum(reduction)
    if beta < 0:
        raise RuntimeError("smooth_l1_loss does not support negative values for beta.")

    def value(d: Tensor) -> Tensor:
        z = d.abs()
        return E.where(z < beta, 0.5 * z * z / beta, z - 0.5 * beta)

    def grad(s: Tensor, g: Tensor, k: float, d: Tensor) -> Tensor:  # torch's smooth_l1_loss_backward
        return E.where(d <= -beta, -s, E.where(d >= beta, s, d * k * g / beta))

    return _pointwise_loss("SmoothL1LossBackward0", "smooth_l1_cpu", input, target, reduction, value, grad)


def _huber(input: Tensor, target: Tensor, reduction: str, delta: float) -> Tensor:  # noqa: A002
    if delta <= 0:
        raise RuntimeError("huber_loss does not support non-positive values for delta.")

    def value(d: Tensor) -> Tensor:
        z = d.abs()
        return E.where(z < delta, 0.5 * z * z, delta * (z - 0.5 * delta))

    def grad(s: Tensor, g: Tensor, k: float, d: Tensor) -> Tensor:  # torch's huber_loss_backward
        return E.where(d <= -delta, -s * delta, E.where(d >= delta, s * delta, d * k * g))

    return _pointwise_loss("HuberLossBackward0", "huber_cpu", input, target, reduction, value, grad, True)


@autocast_policy(cpu="fp32", cuda="fp32")
def huber_loss(input: Tensor, target: Tensor, reduction: str = "mean", delta: float = 1.0,
               weight: Tensor | None = None) -> Tensor:  # noqa: A002  # fmt: skip
    _size_warning(input, target)
    ei, et = _broadcast_tensors(input, target)
    if weight is None:
        return _huber(ei, et, _reduction_enum(reduction), delta)
    if weight.shape != input.shape:
        raise ValueError("Weights and input must have the same size.")
    weighted = _huber(ei, et, "none", delta) * weight  # torch's Python weighting: MulBackward0, then reduced
    if reduction in ("none", "sum", "mean"):
        return _apply_reduction(weighted, reduction)
    raise ValueError(f"Invalid reduction mode: {reduction}. Expected one of 'none', 'mean', 'sum'.")


@autocast_policy(cpu="fp32", cuda="fp32")
def kl_div(input: Tensor, target: Tensor, size_average: Any = None, reduce: Any = None, reduction: str = "mean",
           log_target: bool = False) -> Tensor:  # noqa: A002  # fmt: skip
    if size_average is not None or reduce is not None:
        red = _legacy_reduction(size_average, reduce)
    else:
        if reduction == "mean":
            warnings.warn(
                "reduction: 'mean' divides the total loss by both the batch size and the support size.'batchmean' "
                "divides only by the batch size, and aligns with the KL div math definition.'mean' will be changed "
                "to behave the same as 'batchmean' in the next major release.",
                UserWarning,
                stacklevel=user_stacklevel(),
            )
        red = "sum" if reduction == "batchmean" else _reduction_enum(reduction)
    if input._data.dtype.kind != "f" or target._data.dtype.kind != "f":
        raise RuntimeError("kl_div: Integral inputs not supported.")
    # torch's C++ composite, whose operands GCC evaluates right to left: the right one is recorded first, which
    # decides the order its gradients reach target in
    if log_target:
        diff = target - input
        out = target.exp() * diff
    else:
        prod = target * input
        out = xlogy(target, target) - prod
    reduced = _apply_reduction(out, red)
    if reduction == "batchmean" and input.dim() != 0:
        reduced = reduced / input.shape[0]  # (torch divides in Python: DivBackward0)
    return reduced


@autocast_policy(cpu="fp32", cuda="fp32")
def margin_ranking_loss(input1: Tensor, input2: Tensor, target: Tensor, margin: float = 0,
                        size_average: Any = None, reduce: Any = None, reduction: str = "mean") -> Tensor:  # fmt: skip
    red = _reduction(size_average, reduce, reduction)
    if input1.dim() != input2.dim() or input1.dim() != target.dim():
        raise RuntimeError(
            f"margin_ranking_loss : All input tensors should have same dimension but got sizes: input1: "
            f"{input1.shape}, input2: {input2.shape}, target: {target.shape} "
        )
    out = E.clamp_min(_add_scalar(-target * (input1 - input2), float(margin)), 0)
    return _apply_reduction(out, red)


@autocast_policy(cpu="fp32", cuda="fp32")
def hinge_embedding_loss(input: Tensor, target: Tensor, margin: float = 1.0, size_average: Any = None,
                         reduce: Any = None, reduction: str = "mean") -> Tensor:  # noqa: A002  # fmt: skip
    red = _reduction(size_average, reduce, reduction)
    zeros = zeros_like(input)
    margin_clamp = E.clamp_min(_rsub_scalar(margin, input), 0)
    output_margin = E.where(target != 1, margin_clamp, zeros)
    output_self = E.where(target != -1, input, zeros)
    return _apply_reduction(output_margin + output_self, red)


@autocast_policy(cpu="fp32", cuda="fp32")
def soft_margin_loss(input: Tensor, target: Tensor, size_average: Any = None, reduce: Any = None,
                     reduction: str = "mean") -> Tensor:  # noqa: A002  # fmt: skip
    red = _reduction(size_average, reduce, reduction)
    if ENABLED[0] and target.requires_grad:
        raise RuntimeError(
            "The function 'soft_margin_loss' is not differentiable with respect to argument 'target'. This input "
            "cannot have requires_grad True."
        )
    # torch's kernel: neg_out into a tensor of input's dtype and shape, then mul_(target), exp_(), log1p_()
    if input._data.dtype.kind == "b":
        raise RuntimeError(E._NEG_BOOL)
    ishape = input._data.shape
    full = _broadcast_shape(ishape, target._data.shape)
    if full != ishape:
        raise RuntimeError(
            f"output with shape {_shape_text(ishape)} doesn't match the broadcast shape {_shape_text(full)}"
        )
    if input._data.dtype.kind != "f":
        rt = result_np(input, target)
        name = FROM_NP[rt].scalar_name() if rt.kind == "f" else DEFAULT.float.scalar_name()
        raise RuntimeError(f"result type {name} can't be cast to the desired output type {input.dtype.scalar_name()}")
    x, t = _detached(input, target)
    with no_grad():
        out, k = _reduced((-x * t).to(x.dtype).exp().log1p(), red)

    def backward(g: Tensor, x: Tensor, t: Tensor) -> tuple:  # torch's soft_margin_loss_backward
        z = (-t * x).exp()
        return (-_scaled(g, red, k) * t * z / (1 + z),)

    return _record("SoftMarginLossBackward0", out, (input,), (input, target), backward)


@autocast_policy(cpu="fp32", cuda="fp32")
def poisson_nll_loss(input: Tensor, target: Tensor, log_input: bool = True, full: bool = False,
                     size_average: Any = None, eps: float = 1e-8, reduce: Any = None,
                     reduction: str = "mean") -> Tensor:  # noqa: A002  # fmt: skip
    if size_average is not None or reduce is not None:
        reduction = _legacy_reduction(size_average, reduce)
    if reduction not in ("none", "mean", "sum"):
        raise ValueError(reduction + " is not a valid value for reduction")
    if log_input:
        loss = input.exp() - target * input
    else:
        loss = input - target * _add_scalar(input, eps).log()
    if full:  # the Stirling term, where target > 1
        stirling = target * target.log() - target + _mul_scalar(_mul_scalar(target, 2 * math.pi).log(), 0.5)
        loss = loss + stirling.masked_fill(target <= 1, 0)
    return _apply_reduction(loss, reduction)


_ANY_ERROR = (
    "any() received an invalid combination of arguments - got ({}), but expected one of:\n"
    " * (Tensor input, *, Tensor out = None)\n"
    " * (Tensor input, tuple of ints dim = None, bool keepdim = False, *, Tensor out = None)\n"
    " * (Tensor input, int dim, bool keepdim = False, *, Tensor out = None)\n"
)


def gaussian_nll_loss(input: Tensor, target: Tensor, var: Tensor | float, full: bool = False, eps: float = 1e-6,
                      reduction: str = "mean") -> Tensor:  # noqa: A002  # fmt: skip
    """torch's Python composite, op for op."""
    if isinstance(var, float):
        if var < 0:
            raise ValueError("var has negative entry/entries")
        var = var * ones_like(input)
    else:
        negative = var < 0
        if not isinstance(negative, Tensor):  # torch.any(bool), as for an int var
            raise TypeError(_ANY_ERROR.format(type(negative).__name__))
        if bool(negative.any()):
            raise ValueError("var has negative entry/entries")
    if var.shape != input.shape:
        if input.shape[:-1] == var.shape:
            var = var.unsqueeze(-1)
        elif input.dim() == var.dim() and sum(y for x, y in zip(input.shape, var.shape) if x != y) == 1:
            pass
        else:
            raise ValueError("var is of incorrect size")
    if reduction not in ("none", "mean", "sum"):
        raise ValueError(reduction + " is not valid")
    var = var.clone()
    with no_grad():
        var.clamp_(min=eps)
    loss = 0.5 * (var.log() + (input - target) ** 2 / var)
    if full:
        loss += 0.5 * math.log(2 * math.pi)
    return _apply_reduction(loss, reduction)


@autocast_policy(cpu="fp32", cuda="fp32")
def cosine_embedding_loss(input1: Tensor, input2: Tensor, target: Tensor, margin: float = 0,
                          size_average: Any = None, reduce: Any = None, reduction: str = "mean") -> Tensor:  # fmt: skip
    red = _reduction(size_average, reduce, reduction)
    td = target.dim()
    if td not in (0, 1):
        raise RuntimeError("0D or 1D target tensor expected, multi-target not supported")
    want = 2 if td == 1 else 1
    if input1.dim() != want or input2.dim() != want:
        raise RuntimeError(
            f"{td}D target tensor expects {want}D input tensors, but found inputs with sizes "
            f"{_shape_text(input1.shape)} and {_shape_text(input2.shape)}."
        )
    prod_sum = (input1 * input2).sum(td)
    mag1 = _add_scalar((input1 * input1).sum(td), 1e-12)
    mag2 = _add_scalar((input2 * input2).sum(td), 1e-12)
    cos = prod_sum / (mag1 * mag2).sqrt()
    zeros = zeros_like(cos)
    pos = _rsub_scalar(1, cos)
    neg = E.clamp_min(_sub_scalar(cos, float(margin)), 0)
    out = E.where(target == 1, pos, zeros) + E.where(target == -1, neg, zeros)
    return _apply_reduction(out, red)


@autocast_policy(cpu="fp32", cuda="fp32")
def triplet_margin_loss(anchor: Tensor, positive: Tensor, negative: Tensor, margin: float = 1.0, p: float = 2,
                        eps: float = 1e-6, swap: bool = False, size_average: Any = None, reduce: Any = None,
                        reduction: str = "mean") -> Tensor:  # fmt: skip
    red = _reduction(size_average, reduce, reduction)
    if margin <= 0:
        raise ValueError(f"margin must be greater than 0, got {margin}")
    a, po, n = anchor.dim(), positive.dim(), negative.dim()
    if not a == po == n:
        raise RuntimeError(
            "The anchor, positive, and negative tensors are expected to have the same number of dimensions, but got: "
            f"anchor {a}D, positive {po}D, and negative {n}D inputs"
        )
    dist_pos = pairwise_distance(anchor, positive, p, eps)
    dist_neg = pairwise_distance(anchor, negative, p, eps)
    if swap:
        dist_neg = E.minimum(dist_neg, pairwise_distance(positive, negative, p, eps))
    out = E.clamp_min(_add_scalar(dist_pos, float(margin)) - dist_neg, 0)
    return _apply_reduction(out, red)


def triplet_margin_with_distance_loss(
    anchor: Tensor,
    positive: Tensor,
    negative: Tensor,
    *,
    distance_function: Callable | None = None,
    margin: float = 1.0,
    swap: bool = False,
    reduction: str = "mean",
) -> Tensor:
    """triplet_margin_loss under any distance (pairwise_distance when None), as torch's Python composite."""
    if reduction not in ("mean", "sum", "none"):
        raise ValueError(f"{reduction} is not a valid value for reduction")
    if margin <= 0:
        raise ValueError(f"margin must be greater than 0, got {margin}")
    a, po, n = anchor.ndim, positive.ndim, negative.ndim
    if not a == po == n:
        raise RuntimeError(
            "The anchor, positive, and negative tensors are expected to have the same number of dimensions, but got: "
            f"anchor {a}D, positive {po}D, and negative {n}D inputs"
        )
    distance = pairwise_distance if distance_function is None else distance_function
    dist_pos = distance(anchor, positive)
    dist_neg = distance(anchor, negative)
    if swap:
        dist_neg = E.minimum(dist_neg, distance(positive, negative))
    loss = E.clamp_min(margin + dist_pos - dist_neg, 0)
    if reduction == "sum":
        return loss.sum()
    return loss.mean() if reduction == "mean" else loss


FUNCTIONS: dict[str, Callable] = {
    "elu": elu,
    "elu_": elu_,
    "hardtanh": hardtanh,
    "hardtanh_": hardtanh_,
    "relu6": relu6,
    "logsigmoid": logsigmoid,
    "softmin": softmin,
    "softsign": softsign,
    "selu": selu,
    "selu_": selu_,
    "celu": celu,
    "celu_": celu_,
    "mish": mish,
    "hardswish": hardswish,
    "hardsigmoid": hardsigmoid,
    "glu": glu,
    "threshold": threshold,
    "threshold_": threshold_,
    "tanhshrink": tanhshrink,
    "softshrink": softshrink,
    "hardshrink": hardshrink,
    "prelu": prelu,
    "layer_norm": layer_norm,
    "embedding": embedding,
    "cosine_similarity": cosine_similarity,
    "pairwise_distance": pairwise_distance,
    "smooth_l1_loss": smooth_l1_loss,
    "huber_loss": huber_loss,
    "kl_div": kl_div,
    "margin_ranking_loss": margin_ranking_loss,
    "hinge_embedding_loss": hinge_embedding_loss,
    "soft_margin_loss": soft_margin_loss,
    "poisson_nll_loss": poisson_nll_loss,
    "gaussian_nll_loss": gaussian_nll_loss,
    "cosine_embedding_loss": cosine_embedding_loss,
    "triplet_margin_loss": triplet_margin_loss,
    "triplet_margin_with_distance_loss": triplet_margin_with_distance_loss,
}


# ---- torch's errors for raw data passed in (engine/nn/arg_checks.py) -------------------------------------------
def _install_arg_checks() -> None:
    from engine.nn import arg_checks

    g = globals()
    for name in ("hinge_embedding_loss", "kl_div", "poisson_nll_loss", "soft_margin_loss", "hardtanh", "mish",
                 "prelu", "threshold", "hardswish", "hardsigmoid", "celu", "selu", "softshrink", "hardshrink",
                 "elu"):  # fmt: skip
        g[name] = FUNCTIONS[name] = arg_checks.parser(g[name], name)
    g["relu6"] = FUNCTIONS["relu6"] = arg_checks.parser(g["relu6"], "hardtanh")  # (torch's relu6 is hardtanh(0, 6))
    g["logsigmoid"] = FUNCTIONS["logsigmoid"] = arg_checks.parser(g["logsigmoid"], "log_sigmoid")
    for name in ("smooth_l1_loss", "huber_loss"):
        g[name] = FUNCTIONS[name] = arg_checks.attribute(g[name], "size", (1, 0))


_install_arg_checks()
