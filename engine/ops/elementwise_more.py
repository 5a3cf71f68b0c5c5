"""More of torch's elementwise math, built on elementwise.py's machinery: the inverse hyperbolic functions,
deg2rad/rad2deg, sgn, fix, sinc, sign predicates, and the two-tensor functions hypot, logaddexp(2), fmax/fmin,
copysign, xlogy. Each records the node torch records, with torch's backward formula."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from engine.backend import for_array
from engine.bf16 import array_module, round_bits
from engine.dtypes import from_np
from engine.ops import elementwise as E
from engine.ops import sleef_more
from engine.ops.elementwise import binary, where
from engine.ops.libm import c_math, torch_unary
from engine.ops.util import SparseOperand, node_class, result_np
from engine.tensor import Tensor, wrap

_D2R = math.pi / 180.0
_R2D = 180.0 / math.pi


def _sinc(a: Any) -> Any:
    if a.dtype == np.float16:  # (torch's Half kernel computes in float: sinc(2) is -0., not pi*2 rounded to half)
        return _sinc(a.astype(np.float32)).astype(np.float16)
    with np.errstate(invalid="ignore", divide="ignore"):
        px = a * a.dtype.type(math.pi)
        if sleef_more.usable(a):  # (torch: std::sin; the result keeps px's layout, as numpy's sin would)
            sin = np.empty_like(px)
            sin[...] = c_math("sin", px)
        else:
            sin = for_array(np.sin, a)(px)
        return for_array(np.where, a)(a == 0, a.dtype.type(1), sin / px)


def _sinc_bw(g: Tensor, x: Tensor, y: Any) -> Tensor:
    px = x * math.pi
    sq = x * x * math.pi
    out = g * ((px * px.cos() - px.sin()) / sq)  # torch's sinc_backward, 0 where x * x * pi is
    return where(sq == 0, 0.0, out)


def _acosh_slope(x: Tensor) -> Tensor:
    # 1 / sqrt(x^2 - 1); complex x as 1 / (sqrt(x + 1) sqrt(x - 1)), the branch torch's formula takes
    if x._data.dtype.kind == "c":
        return (x + 1).rsqrt() * (x - 1).rsqrt()
    return (x * x - 1).rsqrt()


def _sgn(a: Any) -> Any:
    if a.dtype.kind != "c":
        return E._sign(a)
    m = for_array(np.abs, a)(a)
    return a / (m + (m == 0))  # x / |x|, and 0 at 0


def _sgn_bw(g: Tensor, x: Tensor, y: Tensor) -> Tensor:
    if x._data.dtype.kind != "c":
        return E.zero_grad(g)
    from engine.ops.complex import sgn_backward

    return sgn_backward(g, x, y)


def _scaled(a: Any, c: float) -> Any:
    """a * c as torch's deg2rad/rad2deg (a mul by a scalar): float16 by its opmath, the float values times c as a
    float, rounded once."""
    if a.dtype == np.float16:
        return (a.astype(np.float32) * np.float32(c)).astype(np.float16)
    return a * a.dtype.type(c)


# (name, array fn, node name, backward(g, x, y), saves, int policy): rows in elementwise.UNARY's format
# (asinh and acosh: torch's kernels have no vector function, std:: on every element; atanh: SLEEF's and std::'s)
_ASINH, _ACOSH = torch_unary("asinh", np.arcsinh, False), torch_unary("acosh", np.arccosh, False)
_ATANH = torch_unary("atanh", np.arctanh, True, sleef_more.atanh)  # (cpu_kernel_vec: SLEEF's atanh in exact mode)
UNARY_MORE = [
    ("asinh", _ASINH, "AsinhBackward0", lambda g, x, y: g * (x * x + 1).rsqrt(), "x", "float"),
    ("acosh", _ACOSH, "AcoshBackward0", lambda g, x, y: g * _acosh_slope(x), "x", "float"),
    ("atanh", _ATANH, "AtanhBackward0", lambda g, x, y: g / (1 - x * x), "x", "float"),
    ("deg2rad", lambda a: _scaled(a, _D2R), "Deg2RadBackward0", lambda g, x, y: E.mul_scalar(g, _D2R), "",
     "float"),
    ("rad2deg", lambda a: _scaled(a, _R2D), "Rad2DegBackward0", lambda g, x, y: E.mul_scalar(g, _R2D), "",
     "float"),
    ("sgn", lambda a: _sgn(a), "SgnBackward0", _sgn_bw, "xy", "keep"),
    ("fix", np.trunc, "TruncBackward0", lambda g, x, y: E.zero_grad(g), "", "keep"),
    ("sinc", _sinc, "SincBackward0", _sinc_bw, "x", "float"),
]  # fmt: skip

E._REFUSES["fix"] = (NotImplementedError, "trunc_vml_cpu", "b")
FNS = {row[0]: E._make_unary(row[1], row[2], row[3], row[4], row[5], row[0]) for row in UNARY_MORE}


def _predicate(test: Any, name: str) -> Any:
    def op(input: Tensor, *, out: Tensor | None = None) -> Tensor:  # noqa: A002
        d = E._tensor_arg(input, name)._data
        try:
            return E._out(wrap(test(d), input._dev), out)
        except SparseOperand:  # a sparse operand (engine/sparse_tensor.py)
            return E._sparse_unary(name, input, op, out)

    op.__name__ = name
    return op


def _no_inf(d: Any) -> Any:
    return for_array(np.zeros, d)(d.shape, bool)


signbit = _predicate(lambda d: for_array(np.signbit, d)(d) if d.dtype.kind == "f" else d < 0, "signbit")
isposinf = _predicate(lambda d: for_array(np.isposinf, d)(d) if d.dtype.kind == "f" else _no_inf(d), "isposinf")
isneginf = _predicate(lambda d: for_array(np.isneginf, d)(d) if d.dtype.kind == "f" else _no_inf(d), "isneginf")


# ---- two tensors ----------------------------------------------------------------------------------------------
def _hypot_bw(self: Any, g: Tensor, a: Tensor, b: Tensor) -> tuple:
    r = a.hypot(b)  # (torch's formulas divide by the result: grad * self / result)
    n = self._next
    return (g * a / r if n[0] is not None else None, g * b / r if n[1] is not None else None)


def _logaddexp_bw(self: Any, g: Tensor, a: Tensor, b: Tensor) -> tuple:
    n = self._next
    return (
        g / ((b - a).exp() + 1) if n[0] is not None else None,
        g / ((a - b).exp() + 1) if n[1] is not None else None,
    )


def _logaddexp2_bw(self: Any, g: Tensor, a: Tensor, b: Tensor) -> tuple:
    n = self._next
    return (
        g / ((b - a).exp2() + 1) if n[0] is not None else None,
        g / ((a - b).exp2() + 1) if n[1] is not None else None,
    )


def _fmax_bw(self: Any, g: Tensor, a: Tensor, b: Tensor) -> tuple:
    first = (a >= b) | b.isnan()  # torch: the gradient goes to the operand fmax picked
    return where(first, g, 0.0), where(first, 0.0, g)


def _fmin_bw(self: Any, g: Tensor, a: Tensor, b: Tensor) -> tuple:
    first = (a <= b) | b.isnan()
    return where(first, g, 0.0), where(first, 0.0, g)


def _copysign_bw(self: Any, g: Tensor, a: Tensor, b: Any) -> tuple:
    r = a.copysign(b)
    ratio = where(a == 0, 0.0, r / a)  # torch's copysign_tensor_self_backward
    n = self._next
    return g * ratio, (E.zero_grad(g) if len(n) > 1 and n[1] is not None else None)


def _xlogy_bw(self: Any, g: Tensor, a: Tensor, b: Any) -> tuple:
    n = self._next
    ga = None
    if n[0] is not None:  # torch: at::xlogy(grad, other).masked_fill((self == 0.) & (other <= 0.), 0.)
        ga = g.xlogy(b)
        zero = (a == 0) & (b <= 0) if isinstance(b, Tensor) else (a == 0) if b <= 0 else None
        if zero is not None:
            ga = ga.masked_fill(zero, 0.0)
    gb = g * a / b if len(n) > 1 and n[1] is not None and isinstance(b, Tensor) else None
    return ga, gb


_hypot = binary(np.hypot, node_class("HypotBackward0", _hypot_bw))
_logaddexp = binary(np.logaddexp, node_class("LogaddexpBackward0", _logaddexp_bw))
_logaddexp2 = binary(np.logaddexp2, node_class("Logaddexp2Backward0", _logaddexp2_bw))
_fmax = binary(np.fmax, node_class("FmaxBackward0", _fmax_bw))
_fmin = binary(np.fmin, node_class("FminBackward0", _fmin_bw))
_copysign_t = binary(np.copysign, node_class("CopysignBackward0", _copysign_bw), floatify=True)
_copysign_s = binary(np.copysign, node_class("CopysignBackward1", _copysign_bw), floatify=True)


def _xlogy_arrays(a: Any, b: Any, bf16: bool = False) -> Any:
    if not hasattr(b, "dtype") or b.ndim == 0 and type(b) is not type(a):  # a number: in a's dtype, as torch's
        b = a.dtype.type(b)
    with np.errstate(divide="ignore", invalid="ignore"):
        if sleef_more.usable(a) and type(b) in (np.ndarray, a.dtype.type) and b.dtype == a.dtype:
            log = c_math("log", np.asarray(b))  # exact mode: torch's cpu_kernel, std::log on every element
        else:
            log = for_array(np.log, a)(b)
        r = a * (round_bits(log, array_module(a)) if bf16 else log)  # (c10's log of a BFloat16 is a BFloat16)
    zero = (a == 0) & ~for_array(np.isnan, r)(b)  # 0 * log(0) is 0; a nan y stays nan
    return for_array(np.where, r)(zero, 0, r).astype(r.dtype, copy=False)


# (bfloat16: a scalar operand is a BFloat16 in torch's kernel too)
_xlogy_arrays.bf16 = lambda a, b: _xlogy_arrays(round_bits(a, array_module(a)), round_bits(b, array_module(a)), True)  # type: ignore[attr-defined]
_xlogy_t = binary(_xlogy_arrays, node_class("XlogyBackward0", _xlogy_bw), floatify=True)
_xlogy_s = binary(_xlogy_arrays, node_class("XlogyBackward2", _xlogy_bw), floatify=True)


def _two_tensors(name: str, op: Any, float_only: bool) -> Any:
    """A function of two tensors (torch's parser refuses a number for `other`); float_only: torch has no integer
    kernel (hypot_cpu, logaddexp_cpu)."""

    def fn(input: Tensor, other: Tensor, *, out: Tensor | None = None) -> Tensor:  # noqa: A002
        input = E._tensor_arg(input, name)
        other = E._other_tensor(other, name)
        if float_only:
            rt = result_np(input, other)  # (torch's kernel is picked for the promoted dtype)
            if rt.kind != "f":
                raise NotImplementedError(f"\"{name}_cpu\" not implemented for '{from_np(rt).scalar_name()}'")
        return E._out(E._check(op(input, other), name, input, other), out)

    fn.__name__ = name
    return fn


hypot = _two_tensors("hypot", _hypot, True)
logaddexp = _two_tensors("logaddexp", _logaddexp, True)
logaddexp2 = _two_tensors("logaddexp2", _logaddexp2, True)
fmax = _two_tensors("fmax", _fmax, False)
fmin = _two_tensors("fmin", _fmin, False)


def copysign(input: Tensor, other: Any, *, out: Tensor | None = None) -> Tensor:  # noqa: A002
    input = E._tensor_arg(input, "copysign")
    op = _copysign_t if isinstance(other, Tensor) else _copysign_s
    return E._out(E._check(op(input, other), "copysign", input, other), out)


def xlogy(input: Any, other: Any, *, out: Tensor | None = None) -> Tensor:  # noqa: A002
    if not isinstance(input, Tensor):  # xlogy(2, t): torch's self_scalar overload
        other = E._tensor_arg(other, "xlogy", "other")
        if other._data.dtype.kind == "f" and type(input) in (int, float):  # (in other's dtype, bfloat16 too)
            input = other.new_full((), input)
        else:
            input = wrap(other._dev.xp.asarray(input, dtype=np.result_type(input, other._data.dtype)), other._dev)
    op = _xlogy_t if isinstance(other, Tensor) else _xlogy_s
    return E._out(E._check(op(input, other), "xlogy", input, other), out)


FUNCTIONS = {
    **FNS,
    "signbit": signbit,
    "isposinf": isposinf,
    "isneginf": isneginf,
    "hypot": hypot,
    "logaddexp": logaddexp,
    "logaddexp2": logaddexp2,
    "fmax": fmax,
    "fmin": fmin,
    "copysign": copysign,
    "xlogy": xlogy,
}
