"""Elementwise primitives. Each row of the tables below is one op: its array function, the node
torch names its backward, and the backward formula in engine ops (so double backward works)."""

from __future__ import annotations

import builtins
import functools
import math
import warnings
from typing import Any

import numpy as np

from engine.autograd import Node, accumulator, next_seq, output_edge, plain_op, raw_saved, save_out
from engine.backend import CPU, for_array
from engine.bf16 import BF16Array, apply, plain, round_bits, to_bf16, whole
from engine.dtypes import (
    DEFAULT,
    FLOAT,
    FROM_NP,
    UINTS_NP,
    default_complex,
    from_np,
    no_uint_kernel,
    promote_types,
    result_type,
)
from engine.grad_mode import ENABLED, INFERENCE, InferenceVC
from engine.naming import type_name
from engine.ops import activation_cpu, fusion, mkl, pow_cpu, sleef, sleef_erf, sleef_log1p, sleef_more
from engine.ops.cpu_capability import cpu_capability, has_fma
from engine.ops.cpu_loops import dense_copy, kernel_vec, kernel_vec2, reduced_blocks
from engine.ops.fma import EXACT, fma
from engine.ops.libm import c_elementwise, c_pow, torch_unary
from engine.ops.memory_layout import iterator_layout
from engine.ops.util import (
    SparseOperand,
    edge_of,
    holomorphic,
    invalid_combination,
    memory_order,
    mixed_device,
    named_code,
    node_class,
    result_np,
    scalar_to,
)
from engine.tensor import Tensor, wrap, wrap_any
from engine.warn import WARN_ALWAYS, user_stacklevel

_ndarray = np.ndarray
# (numpy's module __getattr__ keeps np.<name> from being read quickly: bound once)
_less_equal, _bitwise_and, _np_maximum = np.less_equal, np.bitwise_and, np.maximum
_generic = np.generic  # cupy keeps 0-dim results as arrays; numpy hands back scalars
_new = object.__new__


class NotOperand(TypeError):
    pass


def prep(a: Tensor, b: Any, floatify: bool = False) -> tuple:
    """The two operands as arrays/scalars of torch's result dtype (Python scalars stay weak)."""
    ad = a._data
    if isinstance(b, Tensor):
        bd = b._data
        if a._dev is not b._dev:
            raise mixed_device(a, b)
        if ad.dtype is bd.dtype:
            if floatify and ad.dtype.kind not in "fc":
                f = DEFAULT.float.np
                return ad.astype(f), bd.astype(f)
            return ad, bd
        if not floatify and (bd.dtype.kind == "b") != (ad.dtype.kind == "b"):
            # bool with a number type: numpy and torch agree on the result (the number type)
            return ad, bd
        rt = result_np(a, b)
        if floatify and rt.kind not in "fc":
            rt = DEFAULT.float.np
        # (metadata: bfloat16's float32 storage equals float32 but is another dtype)
        if ad.dtype != rt or (ad.dtype.metadata is None) is not (rt.metadata is None):
            ad = ad.astype(rt)
        if bd.dtype != rt or (bd.dtype.metadata is None) is not (rt.metadata is None):
            bd = bd.astype(rt)
        return ad, bd
    tb = type(b)
    if tb is float:
        k = ad.dtype.kind
        if k != "f" and k != "c":
            ad = ad.astype(DEFAULT.float.np)
        return ad, b
    if tb is int:
        k = ad.dtype.kind
        if floatify and k not in "fc":
            ad = ad.astype(DEFAULT.float.np)
        elif k == "b":
            ad = ad.astype(np.int64)
        elif k in "iu":
            info = np.iinfo(ad.dtype)
            if not info.min <= b <= info.max:
                b = np.array(b).astype(ad.dtype)[()]  # torch wraps out-of-range scalars (a numpy scalar: any device)
        return ad, b
    if tb is bool:
        if floatify and ad.dtype.kind not in "fc":
            ad = ad.astype(DEFAULT.float.np)
        return ad, b
    if tb is complex:
        if ad.dtype.kind != "c":
            # a float keeps its precision (float64 -> complex128); anything else takes the default complex type
            ad = ad.astype(_COMPLEX_OF.get(ad.dtype.char) or default_complex().np)
        return ad, b
    if isinstance(b, np.generic):  # numpy scalars act as Python numbers; torch reads np.bool_ as a float
        return prep(a, float(b) if isinstance(b, np.bool_) else b.item(), floatify)
    raise NotOperand


def _attach(t: Tensor, cls: type, a: Tensor, b: Any, saved: tuple, out: Any) -> None:
    node = cls()
    node._seq = next_seq()
    bt = type(b) is Tensor or isinstance(b, Tensor)
    node._next = (edge_of(a),) if b is None else (edge_of(a), edge_of(b) if bt else None)
    node._saved = saved
    if saved:
        node._vers = tuple((s._vc, s._vc[0]) if isinstance(s, Tensor) else None for s in saved)
    shape, dt = out.shape, out.dtype
    ma = None if (a._data.shape == shape and a._data.dtype is dt) else (a._data.shape, a._data.dtype)
    mb = None
    if bt and (b._data.shape != shape or b._data.dtype is not dt):
        mb = (b._data.shape, b._data.dtype)
    if ma is not None or mb is not None:
        node._meta = (ma, mb)
    node._ctx = (shape, dt)
    t._rg = True
    t.grad_fn = node


def binary(
    ufunc: Any,
    cls: type | None,
    save: bool = True,
    floatify: bool = False,
    nobool: bool = False,
    fuse: str | None = None,
    crossed: bool | str = False,
    opmath: bool = False,
    ordered: str | None = None,
    uint: str | None = None,
) -> Any:
    """An op over a tensor and a tensor-or-scalar: promotion, broadcasting, graph recording. uint: the kernel
    torch names in refusing the shell unsigned types (uint16/32/64), for an op that has none of theirs.

    This is the hottest code in the engine (every + - * / on tensors), so the common case (two
    tensors of one dtype on one device) is inlined: no helper calls between the user and numpy."""

    direct = not isinstance(ufunc, np.ufunc)  # a wrapper of our own: it picks its device functions itself
    # the dtypes that leave the fast path for a check: bool for subtraction, the complex ones for an ordering,
    # uint16/32/64 for an op torch has no kernel of theirs for (float32, the common case, skips hashing its dtype)
    screen = (
        (_BOOL_SET if nobool else _COMPLEX_SET if ordered is not None else frozenset()) | (_UINT_SET if uint else set())
    ) or None
    seq = next_seq  # (a closure cell: read faster than the global on this path)

    def op(a: Tensor, b: Any) -> Any:
        bt = type(b) is Tensor
        half = False  # a float16 op with a scalar operand: computed by _half_with_scalar (torch's opmath)
        if bt:
            ad = a._data
            bd = b._data
            if (
                (dt := ad.dtype) is not bd.dtype or a._dev is not b._dev or (floatify and dt.kind != "f")
                or (screen is not None and dt is not _F32 and dt in screen)
            ):  # fmt: skip
                if ordered is not None:
                    _ordered_check(ordered, a, b)
                if opmath and _half_scalar_pair(ad, bd):
                    bd = bd.item()  # a cpu 0-dim float operand of a half op acts as a scalar (torch's cpu scalar)
                    half = True
                elif opmath and ufunc is np.multiply and _half_scalar_pair(bd, ad):
                    ad, bd = bd, ad.item()  # (mul commutes: the 0-dim first operand is the scalar all the same)
                    half = True
                else:
                    if nobool:
                        _sub_check(a, b)
                    ad, bd = prep(a, b, floatify)
                    if uint is not None and ad.dtype in _UINT_SET:
                        raise _uint_refusal(uint, ad)
        elif type(b) is float and a._data.dtype.kind == "f":  # a float tensor and a Python float (lr * grad)
            ad, bd = a._data, b
            if ad.dtype.char == "e":
                half = opmath
                if not opmath:  # (the double reaches c10::Half through float: rounded to float32 first; kept a
                    # Python float, exact in float16, so that it stays a weak scalar for cupy as for numpy)
                    bd = float(np.float16(np.float32(b)))
            elif not opmath and ad.dtype.metadata is not None:  # bfloat16: the scalar a BFloat16 first too
                bd = float(round_bits(np.float32(b)))
        else:
            if nobool:
                _sub_check(a, b)
            if ordered is not None:
                _ordered_check(ordered, a, b)
            try:
                ad, bd = prep(a, b, floatify)
            except NotOperand:
                return NotImplemented
            if uint is not None and ad.dtype in _UINT_SET:
                raise _uint_refusal(uint, ad)
            bt = isinstance(b, Tensor)
            half = opmath and ad.dtype.char == "e" and type(bd) in _PY_NUMBERS
        try:
            if half:
                out = _half_with_scalar(ufunc, ad, bd)
            elif type(ad) is _ndarray:
                out = ufunc(ad, bd)
            elif isinstance(ad, _ndarray):  # bfloat16 (BF16Array): in float32, rounded once (or as its .bf16 says)
                out = apply(getattr(ufunc, "bf16", ufunc), ad, bd)
            elif direct:
                out = ufunc(ad, bd)
            else:  # a device array: joins a fused chain where it can (ops/fusion.py)
                if fuse is not None and ad.size * (bd.size if bt else 1) >= fusion.MIN_NUMEL:
                    p = fusion.make(fuse, a, b)
                    if p is not None:
                        return p
                out = for_array(ufunc, ad)(ad, bd)
        except ValueError:  # shapes that do not broadcast (a try costs nothing until it raises)
            raise RuntimeError(broadcast_error(np.shape(ad), np.shape(bd))) from None
        if type(out) is _ndarray:
            if out.ndim > 1 and type(bd) is _ndarray and not ad.flags.c_contiguous:
                out = iterator_layout(out, ad, bd)  # (torch's layout where the operands' layouts disagree)
        elif isinstance(out, _generic):  # a numpy scalar from 0-dim operands
            out = a._dev.xp.asarray(out)
        t = _new(Tensor)
        t._data = out
        t._dev = a._dev
        t._grad = None
        t._vc = [0, None] if not INFERENCE[0] else InferenceVC((0, None))
        t._base = None
        t._accum = None
        t._meta = None
        if cls is None or not ENABLED[0] or not (a._rg or (bt and b._rg)):
            t._rg = False
            t.grad_fn = None
            return t
        node = cls()
        node._seq = seq()
        fa = a.grad_fn
        if fa is None:
            if a._rg:
                fa = a._accum or accumulator(a)
        elif a._accum is not None:  # (an output of a multi-output op: its port)
            fa = output_edge(a, fa)
        fb = None
        if bt:
            fb = b.grad_fn
            if fb is None:
                if b._rg:
                    fb = b._accum or accumulator(b)
            elif b._accum is not None:
                fb = output_edge(b, fb)
        node._next = (fa, fb)
        if save:
            # torch saves an operand only for a gradient that will be computed (a * 3 keeps 3, not a), so
            # only those are checked for in-place changes: a later a.mul_(2) is no error here, as in torch
            va = a._vc
            check_a = not crossed or (bt and b._rg)
            if bt:
                vb = b._vc
                check_b = a._rg or not crossed or crossed == "div"  # (a divisor is in both gradients)
                node._vers = ((va, va[0]) if check_a else None, (vb, vb[0]) if check_b else None)
            else:
                node._vers = ((va, va[0]) if check_a else None, None)
            node._saved = (a, b)
        a0 = a._data
        if a0 is not ad or (bt and b._data is not bd):  # an operand was cast: record what to cast back
            shape = out.shape
            node._meta = _meta2(a0, b._data if bt else None, shape, out.dtype)
        else:  # uncast operands share the output's dtype; a scalar operand leaves a's shape as it is
            shape = ad.shape
            if bt and bd.shape != shape:  # broadcast
                shape = out.shape
                node._meta = _meta2(a0, bd, shape, out.dtype)
        node._ctx = (shape, out.dtype)
        t._rg = True
        t.grad_fn = node
        return t

    return op


def _ordered_check(kernel: str, a: Tensor, b: Any) -> None:
    """torch has no order on complex numbers: < <= > >= refuse a complex operand."""
    if a._data.dtype.kind == "c" or type(b) is complex or (isinstance(b, Tensor) and b._data.dtype.kind == "c"):
        name = FROM_NP[result_np(a, b)].scalar_name()
        raise NotImplementedError(f"\"{kernel}\" not implemented for '{name}'")


_BOOL_DT = np.dtype(np.bool_)
_F32 = np.dtype(np.float32)
_COMPLEX_DTS = (np.dtype(np.complex64), np.dtype(np.complex128))
_BOOL_SET = frozenset({_BOOL_DT})
_COMPLEX_SET = frozenset(_COMPLEX_DTS)
_UINT_SET = UINTS_NP


def _uint_refusal(kernel: str, ad: Any) -> NotImplementedError:
    """torch's error for an op without a kernel for its shell unsigned types (uint16, uint32, uint64)."""
    return NotImplementedError(f"\"{kernel}\" not implemented for '{FROM_NP[ad.dtype].scalar_name()}'")


_PY_NUMBERS = (int, float)
_COMPLEX_OF = {"d": np.dtype(np.complex128), "f": np.dtype(np.complex64), "e": np.dtype(np.complex64)}


def _half_scalar_pair(h: Any, s: Any) -> bool:
    """h a float16 array with dims, s a 0-dim float32/float64 numpy array: torch's half op with a cpu scalar."""
    return h.dtype.char == "e" and s.ndim == 0 < h.ndim and s.dtype.char in "fd" and type(s) is _ndarray


def _half_with_scalar(ufunc: Any, a: Any, s: Any) -> Any:
    """A float16 tensor with a scalar as torch computes it: in float32 with the scalar as a float32 (so a scalar
    beyond float16's range or precision still counts), rounded once; division multiplies by 1/s."""
    with np.errstate(over="ignore"):
        f = np.float32(s)
    a32 = a.astype(np.float32)
    if ufunc is np.true_divide:
        with np.errstate(divide="ignore"):
            r = for_array(np.multiply, a32)(a32, np.float32(1) / f)
    else:
        r = for_array(ufunc, a32)(a32, f)
    return r.astype(np.float16)


def broadcast_error(*shapes: tuple) -> str:
    """torch's message for operands that do not broadcast: shapes are combined left to right, and the
    first pair that clashes is reported (a: the shape so far, b: the next operand)."""
    acc: tuple = ()
    for s in shapes:
        n = max(len(acc), len(s))
        for i in range(1, n + 1):
            x = acc[-i] if i <= len(acc) else 1
            y = s[-i] if i <= len(s) else 1
            if x != y and x != 1 and y != 1:
                return (
                    f"The size of tensor a ({x}) must match the size of tensor b ({y}) at non-singleton "
                    f"dimension {n - i}"
                )
        acc = np.broadcast_shapes(acc, s)
    return "shapes cannot be broadcast"


def _sub_check(a: Tensor, b: Any) -> None:
    """torch refuses subtraction with a bool operand (a Python bool counts as a bool tensor)."""
    ab = a._data.dtype.kind == "b"
    bb = b._data.dtype.kind == "b" if isinstance(b, Tensor) else isinstance(b, bool)
    if ab and bb:
        raise RuntimeError(
            "Subtraction, the `-` operator, with two bool tensors is not supported. Use the `^` or "
            "`logical_xor()` operator instead."
        )
    if ab or bb:
        raise RuntimeError(
            "Subtraction, the `-` operator, with a bool tensor is not supported. If you are trying to invert a "
            "mask, use the `~` or `logical_not()` operator instead."
        )


def _meta2(a0: Any, b0: Any, shape: tuple, dt: Any) -> tuple:
    ma = None if (a0.shape == shape and a0.dtype is dt) else (a0.shape, a0.dtype)
    mb = None if b0 is None or (b0.shape == shape and b0.dtype is dt) else (b0.shape, b0.dtype)
    return (ma, mb)


def _needs(node: Node, i: int) -> bool:
    return node._next[i] is not None


# ---- binary backward formulas ----------------------------------------------------------------
def _add_bw(self: Node, g: Tensor) -> tuple:
    return g, g


def _sub_bw(self: Node, g: Tensor) -> tuple:
    return g, (-g if self._next[1] is not None else None)


def _mul_bw(self: Node, g: Tensor, a: Any, b: Any) -> tuple:
    n = self._next
    if not ENABLED[0]:  # plain backward: on the arrays where the op would multiply them as they are
        ga = gb = None
        if n[0] is not None:
            ga = plain_op(np.multiply, g, b)
            if ga is None:
                ga = g * b
        if n[1] is not None:
            gb = plain_op(np.multiply, g, a)
            if gb is None:
                gb = g * a
        return ga, gb
    return (g * b if n[0] is not None else None, g * a if n[1] is not None else None)


def _div_bw(self: Node, g: Tensor, a: Any, b: Any) -> tuple:
    n = self._next
    # the divisor's as torch's div_tensor_other_backward rounds it: -grad * ((self / other) / other)
    return (g / b if n[0] is not None else None, -g * (a / b / b) if n[1] is not None else None)


def _pow1_bw(self: Node, g: Tensor, a: Tensor, b: Tensor, _y: Any = None) -> tuple:
    n = self._next
    ga = gb = None
    if n[0] is not None:
        ga = where(b == 0, 0.0, g * (b * a ** (b - 1)))  # torch's pow_backward_self
    if n[1] is not None:
        y = a**b  # torch's pow_backward_exponent: grad * where(self == 0 & exponent >= 0, 0, result * log(self))
        bre = b.real if b._data.dtype.kind == "c" else b  # (a complex exponent: its real part decides)
        base = a if a._data.dtype is y._data.dtype else a.to(y.dtype)  # (torch takes the log in the result's dtype)
        gb = g * where((a == 0) & (bre >= 0), 0.0, y * base.log())
    return ga, gb


def _atan2_bw(self: Node, g: Tensor, a: Tensor, b: Any) -> tuple:
    recip = (a * a + b * b).reciprocal()  # torch's formula, in the inputs' own dtypes
    recip = where(recip.isinf(), 0.0, recip)  # at (0, 0) torch's gradient is 0, not 0 * inf
    n = self._next
    return (g * b * recip if n[0] is not None else None, g * -a * recip if n[1] is not None else None)


def _max_bw(self: Node, g: Tensor, a: Tensor, b: Tensor) -> tuple:
    half = where(a == b, g / 2, g)
    return where(a < b, 0.0, half), where(a > b, 0.0, half)


def _min_bw(self: Node, g: Tensor, a: Tensor, b: Tensor) -> tuple:
    half = where(a == b, g / 2, g)
    return where(a > b, 0.0, half), where(a < b, 0.0, half)


def _rem_bw(self: Node, g: Tensor, a: Any, b: Any) -> tuple:
    gb = None
    if self._next[1] is not None:
        gb = -g * (a / b).floor()
    return g, gb


def zero_grad(g: Tensor) -> Tensor:
    """torch's zeros_like(grad) for a derivative that is zero everywhere (floor, sign, round ...): plain zeros,
    where g * 0 would give -0. for a negative gradient and nan for a nan one."""
    from engine.creation import zeros_like

    return zeros_like(g)


def _zero_bw(self: Node, g: Tensor, *saved: Any) -> tuple:
    return tuple(zero_grad(g) if n is not None else None for n in self._next)


AddBackward0 = node_class("AddBackward0", _add_bw)
SubBackward0 = node_class("SubBackward0", _sub_bw)
MulBackward0 = node_class("MulBackward0", holomorphic(_mul_bw))


# the formulas on raw gradient arrays (autograd.run_backward's raw mode: float32/float64 cpu arrays, no graph)
def _add_abw(self: Node, g: Any) -> tuple:
    return g, g


def _sub_abw(self: Node, g: Any) -> tuple:
    if self._next[1] is None:
        return g, None
    r = _np_negative(g)  # (neg's cpu kernel on a real array)
    return g, (r if type(r) is _ndarray else np.asarray(r))  # (a 0-dim operand gives a numpy scalar)


def _mul_abw(self: Node, g: Any, a: Any, b: Any) -> tuple | None:
    # _mul_bw's plain_op products, where they apply to both needed gradients
    n = self._next
    dt = g.dtype
    if type(b) is float and n[1] is None:  # a * 2.5: g * 2.5, the op's float-tensor-and-Python-float product
        r = _np_multiply(g, b)
        return (r if type(r) is _ndarray else np.asarray(r)), None
    if n[0] is not None and not (type(b) is Tensor and type(b._data) is _ndarray and b._data.dtype is dt):
        return None
    if n[1] is not None and not (type(a) is Tensor and type(a._data) is _ndarray and a._data.dtype is dt):
        return None
    try:
        ga = _np_multiply(g, b._data) if n[0] is not None else None
        if a is b and ga is not None:  # (x * x: g * x twice, the same bits; run_backward adds the pair)
            gb = ga
        else:
            gb = _np_multiply(g, a._data) if n[1] is not None else None
    except ValueError:
        return None
    if ga is not None and type(ga) is not _ndarray:  # (0-dim operands give a numpy scalar)
        ga = np.asarray(ga)
    if gb is not None and type(gb) is not _ndarray:
        gb = np.asarray(gb)
    return ga, gb


AddBackward0._abw = _add_abw
SubBackward0._abw = _sub_abw
MulBackward0._abw = _mul_abw
_np_negative = np.negative
_np_multiply = np.multiply
DivBackward0 = node_class("DivBackward0", holomorphic(_div_bw))
PowBackward1 = node_class("PowBackward1", holomorphic(_pow1_bw))
Atan2Backward0 = node_class("Atan2Backward0", _atan2_bw)
MaximumBackward0 = node_class("MaximumBackward0", _max_bw)
MinimumBackward0 = node_class("MinimumBackward0", _min_bw)
RemainderBackward1 = node_class("RemainderBackward1", _rem_bw)
DivBackward2 = node_class("DivBackward2", _zero_bw)


class NotImplementedNode(Node):
    __slots__ = ()

    def name(self) -> str:
        return "torch::autograd::NotImplemented"

    def __repr__(self) -> str:
        return f"<NotImplemented object at {id(self):#x}>"

    def backward(self, g: Tensor, *saved: Any) -> tuple:
        raise RuntimeError("derivative for aten::floor_divide is not implemented")


_mul = binary(np.multiply, MulBackward0, fuse="multiply", crossed=True, opmath=True)  # a's grad needs b, b's needs a


def _scalar_bw(two: Any) -> Any:
    """The backward of a tensor-with-Scalar node: torch's has the tensor's edge only (see _scalar_op)."""

    def bw(self: Node, g: Tensor, a: Any, b: Any) -> tuple:
        return two(self, g, a, b) if len(self._next) == 2 else two(_OneEdge(self._next), g, a, b)[:1]

    return bw


class _OneEdge:
    """A node's edges seen as the two-edge formula expects them (the scalar's: none)."""

    __slots__ = ("_next",)

    def __init__(self, next_: tuple) -> None:
        self._next = (next_[0], None)


def _scalar_op(op: Any) -> Any:
    """C++'s tensor * Scalar, tensor / Scalar: one edge, the tensor's (MulBackward1, DivBackward1)."""

    def scalar_op(a: Tensor, s: Any) -> Any:
        r = op(a, s)
        if type(r) is Tensor and r.grad_fn is not None and not isinstance(s, Tensor) and len(r.grad_fn._next) == 2:
            _one_edge(r.grad_fn, 0)
        return r

    return scalar_op


# mul(Tensor, Scalar) as torch's own backward formulas call it (result * M_LN2): MulBackward1 under create_graph
mul_scalar = _scalar_op(binary(np.multiply, node_class("MulBackward1", holomorphic(_scalar_bw(_mul_bw))), opmath=True))
# C++'s tensor / scalar (torch's own backward formulas divide so: grad.expand(...) / numel)
div_scalar = _scalar_op(
    binary(
        np.true_divide,
        node_class("DivBackward1", holomorphic(_scalar_bw(_div_bw))),
        floatify=True,
        opmath=True,
        crossed="div",
    )
)
# (torch casts an add's scalar to float16 first)
_add = binary(np.add, AddBackward0, save=False, fuse="add", uint="add_stub")
_sub = binary(np.subtract, SubBackward0, save=False, nobool=True, fuse="subtract", uint="add_stub")
# torch saves the dividend only for the divisor's gradient, the divisor for both
_div = binary(np.true_divide, DivBackward0, floatify=True, fuse="divide", opmath=True, crossed="div")


def _atan2_arrays(a: Any, b: Any) -> Any:
    """np.arctan2, except that a float32/float64 cpu result shorter than two vectors is all torch's scalar loop:
    std::atan2 (atan2f) on each pair, the C library's rounding (numpy's differs in the last bit at times); and
    in exact mode a longer one is torch's cpu_kernel_vec split (SLEEF's atan2 in its vector blocks)."""
    if type(a) is _ndarray and type(b) is _ndarray and a.dtype == b.dtype and a.dtype.char in "fd":
        from engine.ops.cpu_loops import block
        from engine.ops.libm import c_atan2

        x, y = np.broadcast_arrays(a, b)
        if x.size < block(x.dtype):
            r = c_atan2(x, y)
            if r is not None:
                return r
        elif x.ndim and sleef_more.usable(x):
            # exact mode: torch's cpu_kernel_vec, SLEEF's atan2 on the vector blocks, std::atan2 on the rest
            from engine.ops.cpu_loops import kernel_vec2

            def scalar(u: Any, v: Any) -> Any:
                r = c_atan2(u, v)
                return np.arctan2(u, v) if r is None else r

            return kernel_vec2(a, b, sleef_more.atan2, scalar)
    return for_array(np.arctan2, a)(a, b)


_atan2 = binary(_atan2_arrays, Atan2Backward0, floatify=True)
_maximum = binary(np.maximum, MaximumBackward0, uint="maximum_cpu")
_minimum = binary(np.minimum, MinimumBackward0, uint="minimum_cpu")


def maximum(input: Tensor, other: Tensor, *, out: Tensor | None = None) -> Tensor:  # noqa: A002
    _no_complex("maximum", input, other)
    return _out(
        _check(_maximum(_tensor_arg(input, "maximum"), _other_tensor(other, "maximum")), "maximum", input, other), out
    )


def minimum(input: Tensor, other: Tensor, *, out: Tensor | None = None) -> Tensor:  # noqa: A002
    _no_complex("minimum", input, other)
    return _out(
        _check(_minimum(_tensor_arg(input, "minimum"), _other_tensor(other, "minimum")), "minimum", input, other), out
    )


def _no_complex(fn: str, a: Any, b: Any) -> None:
    if (isinstance(a, Tensor) and a._data.dtype.kind == "c") or (isinstance(b, Tensor) and b._data.dtype.kind == "c"):
        raise RuntimeError(f"{fn} not implemented for complex tensors.")


def _other_tensor(x: Any, fn: str) -> Tensor:
    """torch's parser error for a non-tensor second argument of a tensor-only function (maximum(t, 1))."""
    if not isinstance(x, Tensor):
        raise TypeError(f"{fn}(): argument 'other' (position 2) must be Tensor, not {type_name(x)}")
    return x


_eq = binary(np.equal, None)
_ne = binary(np.not_equal, None)
_lt = binary(np.less, None, ordered="lt_cpu", uint="lt_cpu")
_le = binary(np.less_equal, None, ordered="le_cpu", uint="le_cpu")
_gt = binary(np.greater, None, ordered="gt_cpu", uint="gt_cpu")
_ge = binary(np.greater_equal, None, ordered="ge_cpu", uint="ge_cpu")


def _bool_div_check(a: Tensor, b: Any, kernel: str) -> None:
    """torch has no bool kernels for floor/trunc division and remainder (two bool operands), nor complex ones."""
    if a._data.dtype.kind == "c" or type(b) is complex or (isinstance(b, Tensor) and b._data.dtype.kind == "c"):
        raise NotImplementedError(f"\"{kernel}\" not implemented for '{FROM_NP[result_np(a, b)].scalar_name()}'")
    if a._data.dtype.kind == "b" and (b._data.dtype.kind == "b" if isinstance(b, Tensor) else isinstance(b, bool)):
        raise NotImplementedError(f"\"{kernel}\" not implemented for 'Bool'")


def _int_div_check(a: Tensor, b: Any) -> None:
    """torch raises for integer division by zero where numpy would warn and return 0."""
    if a._data.dtype.kind not in "iub":
        return
    if isinstance(b, Tensor):
        if b._data.dtype.kind in "iub" and bool((b._data == 0).any()):
            raise RuntimeError("ZeroDivisionError")
    elif isinstance(b, (int, np.integer)) and b == 0:
        raise RuntimeError("ZeroDivisionError")


_floordiv_raw = binary(np.floor_divide, NotImplementedNode, save=False, uint="div_floor_cpu")


def _remainder(a: Any, b: Any) -> Any:
    """torch's remainder: for floats fmod, moved by b when the signs differ, so 0 % -2 is 0.0 (numpy's
    remainder gives -0.0, the divisor's sign)."""
    if a.dtype.kind != "f":
        return for_array(np.remainder, a)(a, b)
    fmod, where = for_array(np.fmod, a), for_array(np.where, a)
    with np.errstate(invalid="ignore", divide="ignore"):
        mod = fmod(a, b)
        return where((mod != 0) & ((b < 0) != (mod < 0)), mod + b, mod)


_rem_raw = binary(_remainder, RemainderBackward1, uint="remainder_cpu")


def _tensor_arg(x: Any, fn: str, pos: str = "input") -> Tensor:
    if not isinstance(x, Tensor):
        raise TypeError(f"{fn}(): argument '{pos}' (position 1) must be Tensor, not {type_name(x)}")
    return x


_NUMBERS = (bool, int, float, complex, np.number, np.bool_)


def _number_arg(x: Any, other: Any, fn: str) -> Tensor:
    """add/sub/mul/div's input, which torch's parser takes as a Python number too (numbers as tensors): a tensor
    of no dims of the number, of the other tensor's dtype where its kind holds the number (the number's part in
    type promotion as a 'wrapped number'), else of the number's own."""
    if isinstance(x, Tensor):
        return x
    if not isinstance(x, _NUMBERS):
        return _tensor_arg(x, fn)
    from engine.creation import tensor
    from engine.dtypes import scalar_dtype

    if isinstance(x, np.generic):
        x = x.item()
    dt = scalar_dtype(x)
    if isinstance(other, Tensor):
        rank = "biufc"
        if rank.index(np.dtype(other.dtype.np).kind) >= rank.index(np.dtype(dt.np).kind):
            dt = other.dtype
        return tensor(x, dtype=dt, device=other.device)
    return tensor(x, dtype=dt)


def _bad(op: str, a: Any, b: Any) -> TypeError:
    return TypeError(f"unsupported operand type(s) for {op}: '{_tn(a)}' and '{_tn(b)}'")


def _tn(x: Any) -> str:
    return "Tensor" if isinstance(x, Tensor) else type_name(x)


def _check(r: Any, op: str, a: Any, b: Any) -> Any:
    if r is NotImplemented:
        raise _bad(op, a, b)
    return r


# ---- public binary functions (torch.add(...), Tensor.add(...)) --------------------------------
_DEPRECATED_WARNED: list = []


def deprecated_alpha(name: str, alpha: Any, rest: tuple) -> Any:
    """torch's hidden add(Number alpha, Tensor other) (and sub's): x.add(2, y) is x + 2 * y, with its warning
    (TORCH_WARN_ONCE at one place in torch's parser: once in the process for all of them). Returns other."""
    if len(rest) != 1 or not isinstance(alpha, (int, float, complex, np.number)) or isinstance(alpha, Tensor):
        n = 1 + len(rest)
        raise TypeError(f"{name}() takes 1 positional argument but {n} {'was' if n == 1 else 'were'} given")
    if not isinstance(rest[0], (Tensor, int, float, complex, np.number)):
        raise TypeError(f"{name}() takes 1 positional argument but 2 were given")
    if not _DEPRECATED_WARNED or WARN_ALWAYS[0]:
        _DEPRECATED_WARNED.append(True)
        warnings.warn(
            f"This overload of {name} is deprecated:\n\t{name}(Number alpha, Tensor other)\nConsider using one of "
            f"the following signatures instead:\n\t{name}(Tensor other, *, Number alpha = 1) (Triggered internally "
            "at /__w/pytorch/pytorch/torch/csrc/utils/python_arg_parser.cpp:1841.)",
            UserWarning,
            stacklevel=user_stacklevel(),
        )
    return rest[0]


def add(input: Tensor, other: Any, *rest: Any, alpha: Any = 1, out: Tensor | None = None) -> Tensor:  # noqa: A002
    input = _number_arg(input, other, "add")
    if rest:
        other, alpha = deprecated_alpha("add", other, rest), other
    try:
        if type(alpha) is not int or alpha != 1:
            return _out(_alpha_op(input, other, alpha, False), out)
        r = _check(_add(input, other), "+", input, other)
    except SparseOperand:  # a sparse operand (engine/sparse_tensor.py)
        r = _sparse_binary("add", input, other, alpha)
    return _out(r, out)


def sub(input: Tensor, other: Any, *rest: Any, alpha: Any = 1, out: Tensor | None = None) -> Tensor:  # noqa: A002
    input = _number_arg(input, other, "sub")
    if rest:
        other, alpha = deprecated_alpha("sub", other, rest), other
    try:
        _sub_check(input, other)
        if type(alpha) is not int or alpha != 1:
            return _out(_alpha_op(input, other, alpha, True), out)
        r = _check(_sub(input, other), "-", input, other)
    except SparseOperand:  # a sparse operand (engine/sparse_tensor.py)
        r = _sparse_binary("sub", input, other, alpha)
    return _out(r, out)


def _sparse_binary(name: str, input: Tensor, other: Any, alpha: Any) -> Tensor:  # noqa: A002
    from engine.sparse_tensor import binary_fallback

    return binary_fallback(name, input, other, alpha)


def _sparse_unary(name: str, input: Tensor, op: Any, out: Any = None, *args: Any, **kwargs: Any) -> Tensor:  # noqa: A002
    from engine.sparse_tensor import unary

    return unary(name, input, op, out, *args, **kwargs)


def _add_alpha_bw(self: Node, g: Tensor, alpha: Any) -> tuple:
    return g, (g * alpha if self._next[1] is not None else None)


def _sub_alpha_bw(self: Node, g: Tensor, alpha: Any) -> tuple:
    return g, (g * -alpha if self._next[1] is not None else None)


AddAlphaBackward0 = node_class("AddBackward0", _add_alpha_bw)
SubAlphaBackward0 = node_class("SubBackward0", _sub_alpha_bw)


_FMA_EXACT = (np.dtype(np.float32), np.dtype(np.float64))


def _alpha_op(input: Tensor, other: Any, alpha: Any, neg: bool) -> Tensor:  # noqa: A002
    """input + alpha * other (or minus), computed in the result dtype as torch does."""
    try:
        ad, bd = prep(input, other)
    except NotOperand:
        raise _bad("-" if neg else "+", input, other) from None
    rt = result_np(input, other) if isinstance(other, Tensor) else ad.dtype
    if ad.dtype != rt:
        ad = ad.astype(rt)
    if isinstance(alpha, Tensor):
        alpha = alpha.item()
    if isinstance(alpha, (bool, np.bool_)):
        if rt.kind != "b":
            raise RuntimeError("Boolean alpha only supported for Boolean results.")
    elif isinstance(alpha, (float, np.floating)) and rt.kind in "iub":
        raise RuntimeError("For integral input tensors, argument alpha must not be a floating point number.")
    try:
        if rt.kind == "b":
            r = np.logical_or(ad, np.logical_and(bd, bool(alpha)))
        elif rt.char == "e" and type(ad) is _ndarray:
            r = _reduced_alpha(ad, bd, alpha, neg)
        elif rt.char == "e":  # float16: the other operand in float16, then a + alpha * b in float32, rounded once
            with np.errstate(over="ignore"):
                # (a double reaches c10::Half through float: rounded to float32 first)
                b16 = bd if hasattr(bd, "dtype") else np.float32(bd)
                b16 = (b16.astype(np.float32) if b16.dtype.char == "d" else b16).astype(np.float16)
                b32 = b16.astype(np.float32)
                a32 = ad.astype(np.float32)
                scaled = b32 * np.float32(alpha)
                r = (np.subtract(a32, scaled) if neg else np.add(a32, scaled)).astype(np.float16)
        elif rt.metadata is not None and type(ad) is BF16Array:
            r = _reduced_alpha(ad, bd, alpha, neg)
        elif rt in _FMA_EXACT:  # torch's cpu kernel: fma(other, alpha, input), one rounding
            xp = input._dev.xp
            b = bd.astype(rt, copy=False) if hasattr(bd, "dtype") else xp.asarray(bd, dtype=rt)
            s = float(rt.type(alpha))
            r = fma(b, -s if neg else s, ad)
        else:
            scaled = bd * alpha
            if hasattr(scaled, "dtype") and scaled.dtype != rt:
                scaled = scaled.astype(rt)
            r = np.subtract(ad, scaled) if neg else np.add(ad, scaled)
    except ValueError:
        raise RuntimeError(broadcast_error(np.shape(ad), np.shape(bd))) from None
    t = wrap_any(r, input._dev)
    if ENABLED[0] and (input._rg or (isinstance(other, Tensor) and other._rg)):
        _attach(t, SubAlphaBackward0 if neg else AddAlphaBackward0, input, other, (alpha,), t._data)
    return t


def _reduced_alpha(a: Any, b: Any, alpha: Any, neg: bool) -> Any:
    """torch's float16/bfloat16 add/sub with alpha on cpu: other in the dtype (a Python scalar too) and alpha as
    well (alpha.to<scalar_t>()); the vector blocks fmadd(other, alpha, self) in float, rounded once, the scalar
    tail c10::Half/BFloat16's self + alpha * other, rounded after each step."""
    if a.dtype.char == "e":  # (a double reaches c10::Half through float)
        rnd = _h16
        b = b.astype(np.float32) if hasattr(b, "dtype") else np.float32(b)
        a32, b32 = a.astype(np.float32), _h16(b.astype(np.float32, copy=False))
        out = np.float16
    else:
        rnd = round_bits
        b32, a32 = round_bits(b), round_bits(a)  # (plain float32 arrays of bfloat16 values)
        out = None
    s = rnd(np.float32(-alpha if neg else alpha))
    sf = float(s)

    def vec(u: Any, v: Any) -> Any:
        return fma(np.ascontiguousarray(v), sf, np.ascontiguousarray(u))

    def scalar(u: Any, v: Any) -> Any:
        return u + rnd(s * v)

    with reduced_blocks(), np.errstate(over="ignore", invalid="ignore"):
        r = kernel_vec2(a32, np.broadcast_to(b32, a32.shape) if b32.ndim == 0 else b32, vec, scalar)
    return to_bf16(r) if out is None else r.astype(out)


def mul(input: Tensor, other: Any, *, out: Tensor | None = None) -> Tensor:  # noqa: A002
    try:
        input = _number_arg(input, other, "mul")
        return _out(_check(_mul(input, other), "*", input, other), out)
    except SparseOperand:  # a sparse operand (engine/sparse_tensor.py)
        return _out(_sparse_binary("mul", input, other, 1), out)


def div(input: Tensor, other: Any, *, rounding_mode: str | None = None, out: Tensor | None = None) -> Tensor:  # noqa: A002
    input = _number_arg(input, other, "div")
    if rounding_mode is None:
        try:
            return _out(_check(_div(input, other), "/", input, other), out)
        except SparseOperand:  # a sparse operand (engine/sparse_tensor.py)
            from engine.sparse_tensor import div_fallback

            return _out(div_fallback(input, other), out)
    if rounding_mode == "floor":
        _bool_div_check(input, other, "div_floor_cpu")
        _int_div_check(input, other)
        r = _check(_floordiv_raw(input, other), "//", input, other)
    elif rounding_mode == "trunc":
        _bool_div_check(input, other, "div_trunc_cpu")
        _int_div_check(input, other)
        ad, bd = prep(input, other)
        no_uint_kernel("div_trunc_cpu", ad.dtype)
        rt = result_np(input, other)
        q = np.true_divide(ad, bd)
        r = wrap_any(np.trunc(q).astype(rt) if rt.kind in "iub" else np.trunc(q), input._dev)
    else:
        raise RuntimeError(
            f"div expected rounding_mode to be one of None, 'trunc', or 'floor' but found '{rounding_mode}'"
        )
    if r.grad_fn is not None or (ENABLED[0] and (input._rg or (isinstance(other, Tensor) and other._rg))):
        r = _regrad(r, DivBackward2, input, other)
    return _out(r, out)


def _regrad(r: Tensor, cls: type, a: Tensor, b: Any) -> Tensor:
    t = wrap(r._data, r._dev)
    if ENABLED[0] and (a._rg or (isinstance(b, Tensor) and b._rg)):
        _attach(t, cls, a, b, (), r._data)
    return t


true_divide = div
divide = div
multiply = mul
subtract = sub


def floor_divide(input: Tensor, other: Any, *, out: Tensor | None = None) -> Tensor:  # noqa: A002
    input = _tensor_arg(input, "floor_divide")
    _bool_div_check(input, other, "div_floor_cpu")
    _int_div_check(input, other)
    r = _check(_floordiv_raw(input, other), "//", input, other)
    if r.grad_fn is not None and not isinstance(other, Tensor):
        _one_edge(r.grad_fn, 0)
    return _out(r, out)


def _one_edge(node: Node, keep: int) -> None:
    """Drop the edge of a Python-number operand: torch's node has only the tensor's."""
    node._next = (node._next[keep],)
    if node._meta is not None:
        node._meta = (node._meta[keep],)


class RemainderNotImplementedNode(NotImplementedNode):
    __slots__ = ()

    def backward(self, g: Tensor, *saved: Any) -> tuple:
        raise RuntimeError("derivative for aten::remainder is not implemented")


def remainder(input: Any, other: Any, *, out: Tensor | None = None) -> Tensor:  # noqa: A002
    if not isinstance(input, Tensor):  # number % tensor: torch has no derivative for it
        r = remainder(_full_like_scalar(input, other), other)
        if r.grad_fn is not None:
            r.grad_fn.__class__ = RemainderNotImplementedNode
            _one_edge(r.grad_fn, 1)
        return _out(r, out)
    _bool_div_check(input, other, "remainder_cpu")
    _int_div_check(input, other)
    r = _check(_rem_raw(input, other), "%", input, other)
    if r.grad_fn is not None and not isinstance(other, Tensor):
        r.grad_fn.__class__ = RemainderBackward0
        _one_edge(r.grad_fn, 0)
    return _out(r, out)


def _rem0_bw(self: Node, g: Tensor, a: Any, b: Any) -> tuple:
    return g, None


RemainderBackward0 = node_class("RemainderBackward0", _rem0_bw)


def _fmod0_bw(self: Node, g: Tensor) -> tuple:
    return (g,)


def _fmod1_bw(self: Node, g: Tensor, a: Any, b: Any) -> tuple:
    n = self._next
    return (g if n[0] is not None else None, -g * a.div(b, rounding_mode="trunc") if n[1] is not None else None)


FmodBackward0 = node_class("FmodBackward0", _fmod0_bw)  # fmod(tensor, number)
FmodBackward1 = node_class("FmodBackward1", _fmod1_bw)
_fmod_tt = binary(np.fmod, FmodBackward1)


def fmod(input: Tensor, other: Any, *, out: Tensor | None = None) -> Tensor:  # noqa: A002
    input = _tensor_arg(input, "fmod")
    if input._data.dtype.kind == "b" and (
        other._data.dtype.kind == "b" if isinstance(other, Tensor) else type(other) is bool
    ):
        raise NotImplementedError("\"fmod_cpu\" not implemented for 'Bool'")
    if type(other) is not float:
        no_uint_kernel("fmod_cpu", input._data.dtype)
    if isinstance(other, Tensor):
        _int_div_check(input, other)
        return _out(_fmod_tt(input, other), out)
    _int_div_check(input, other)
    ad, bd = prep(input, other)
    t = wrap_any(np.fmod(ad, bd), input._dev)
    if ENABLED[0] and input._rg:
        _attach(t, FmodBackward0, input, None, (), t._data)
    return _out(t, out)


def atan2(input: Tensor, other: Tensor, *, out: Tensor | None = None) -> Tensor:  # noqa: A002
    if not isinstance(other, Tensor):
        raise TypeError(f"atan2(): argument 'other' (position 2) must be Tensor, not {type_name(other)}")
    return _out(_check(_atan2(_tensor_arg(input, "atan2"), other), "atan2", input, other), out)


arctan2 = atan2


def _full_like_scalar(s: Any, like: Tensor) -> Tensor:
    rt = result_np(s, like)
    return wrap(like._dev.xp.asarray(np.asarray(s).astype(rt)), like._dev)  # out-of-range ints wrap as torch


# ---- pow --------------------------------------------------------------------------------------
def _pow0_bw(self: Node, g: Tensor, x: Tensor, e: Any) -> tuple:
    if e == 0:  # (torch's pow_backward: zeros_like(self), so no -0. from a negative gradient)
        return (zero_grad(g),)
    return (g * (e * x ** (e - 1)),)  # torch's pow_backward: grad * (exponent * self.pow(exponent - 1))


def _pow2_bw(self: Node, g: Tensor, base: Any, y: Tensor, _x: Any = None) -> tuple:
    # torch's pow_backward_exponent: result * log(base); 0 where a zero base has a non-negative exponent (the
    # result is then 0 or 1; a negative exponent gives inf), nan for a negative base
    if base != 0 and (type(base) is complex or y._data.dtype.kind == "c"):
        import cmath

        return (g * (y * cmath.log(base)),)  # (a complex result: any nonzero base has a logarithm)
    if base > 0:
        return (g * (y * math.log(base)),)  # torch's grad * (result * log(base))
    if base == 0:
        return (where((y == 0) | (y == 1), 0.0, g * y * -math.inf),)
    return (g * y * math.nan,)


PowBackward0 = node_class("PowBackward0", holomorphic(_pow0_bw))
PowBackward2 = node_class("PowBackward2", holomorphic(_pow2_bw))
_pow_tt = binary(np.power, PowBackward1, fuse="power", uint="pow")


def _power_exact(a: Any, b: Any) -> Any:
    """a ** b of two cpu arrays in exact mode: torch's pow kernel for float32 and float64 (SLEEF's pow in its
    vectorized runs, the C library's in the rest), numpy's power for the other dtypes."""
    if pow_cpu.usable(a, b):
        return pow_cpu.pow_tensor_tensor(a, b)
    return np.power(a, b)


_pow_tt_exact = binary(_power_exact, PowBackward1)
_EXACT_POW = (np.dtype(np.float32), np.dtype(np.float64))


def pow(input: Any, exponent: Any, *, out: Tensor | None = None) -> Tensor:  # noqa: A001, A002
    if not isinstance(input, Tensor):
        if not isinstance(exponent, Tensor):
            raise TypeError("pow(): expected at least one Tensor argument")
        if not isinstance(input, _NUMBERS):  # (torch's parser refuses it: tcli words it so)
            raise TypeError(f"pow(): argument 'self' must be a Number, not {type_name(input)}")
        return _out(_rpow(exponent, input), out)
    if isinstance(exponent, Tensor):
        if exponent._data.ndim == 0 and exponent._dev is not input._dev and exponent._dev.type == "cpu":
            exponent = exponent.item()
        else:
            if input._data.dtype.kind == "b" and exponent._data.dtype.kind == "b":
                raise NotImplementedError("\"pow\" not implemented for 'Bool'")
            if input._data.dtype.kind in "iub" and exponent._data.dtype.kind in "iu":
                ed = exponent._data
                if ed.dtype.kind == "i" and bool((ed < 0).any()):
                    if input._dev is not exponent._dev:
                        raise mixed_device(input, exponent)
                    rt = result_np(input, exponent)
                    r = _int_power(input._data.astype(rt), ed.astype(rt), input._dev.xp)
                    return _out(wrap(r, input._dev), out)
            cplx = input._data.dtype.kind == "c" or exponent._data.dtype.kind == "c"
            try:
                if cplx:
                    r = _pow_tt_complex(input, exponent)
                elif (
                    input._dev.type == "cpu" == exponent._dev.type
                    and result_np(input, exponent) in _EXACT_POW
                    and mkl.available()
                ):
                    r = _pow_tt_exact(input, exponent)
                else:
                    r = _pow_tt(input, exponent)
            except SparseOperand:  # a sparse operand (engine/sparse_tensor.py)
                from engine.sparse_tensor import not_run

                raise not_run("aten::pow.Tensor_Tensor") from None
            node = r.grad_fn
            if type(node) is PowBackward1 and node._vers:  # torch also saves the result (for the exponent)
                s_, v_ = save_out(node, r)
                node._vers = (*node._vers, v_)
                node._saved = (*raw_saved(node), s_)
            return _out(r, out)
    if isinstance(exponent, np.generic):
        exponent = exponent.item()
    if not isinstance(exponent, (int, float, complex)):
        raise _bad("** or pow()", input, exponent)
    _int_pow_check(input, exponent)
    ad, e = prep(input, exponent)
    if ad.dtype in _UINT_SET:
        raise _uint_refusal("pow", ad)
    if isinstance(e, bool):
        if ad.dtype.kind == "b":  # bool ** bool stays bool: x ** True is x, x ** False is all True
            r = ad.copy() if e else np.ones_like(ad)
            return _out(wrap_any(r, input._dev), out)
        e = int(e)
    try:
        if e == 2:
            r = ad * ad
        elif e == 0.5 and ad.dtype.kind == "f":
            r = for_array(np.sqrt, ad)(ad)
        elif (char := ad.dtype.char) in "fd" and e in (3, -1, -2, -0.5):
            # torch's pow_tensor_scalar_optimized_kernel: these exponents are products and quotients, not pow()
            if e == 3:
                r = ad * ad * ad
            elif e == -1:
                r = 1 / ad
            elif e == -2:
                r = 1 / (ad * ad)
            elif type(ad) is BF16Array and activation_cpu.reduced_usable(ad):
                r = _rsqrt_reduced(ad, avx512=True)  # (bfloat16's pow(-0.5) is its rsqrt kernel, built for AVX512 here)
            else:
                r = 1 / for_array(np.sqrt, ad)(ad)
        elif char in "FD":  # complex64/complex128
            r = _complex_power_scalar(ad, e)
        elif e != 0 and e != 1 and type(e) is not complex and pow_cpu.usable(ad):
            r = pow_cpu.pow_tensor_scalar(ad, e)  # (torch's general case: SLEEF's powf and the C library's pow)
        elif char in "fd" and type(ad) is _ndarray and type(e) is not complex:
            # (not exact mode) cpu_kernel_vec(std::pow(x, e), Vectorized::pow): on its scalar loop's elements (all of
            # a tensor shorter than two vectors) the C library's pow with the exponent a double (a float base's result
            # rounded once), numpy's on the vector blocks
            ev, dt = ad.dtype.type(e), ad.dtype

            def scalar(x: Any) -> Any:
                return c_pow(x.astype(np.float64), np.full(x.shape, float(e))).astype(dt, copy=False)

            with np.errstate(all="ignore"):
                r = kernel_vec(ad, lambda x: np.power(x, ev), scalar)
        else:
            r = for_array(np.power, ad)(ad, e)
    except SparseOperand:  # a sparse operand (engine/sparse_tensor.py)
        from engine.sparse_tensor import pow_scalar

        return pow_scalar(input, exponent, out)
    if type(r) is not _ndarray and isinstance(r, _generic):  # a numpy scalar from 0-dim operands
        r = input._dev.xp.asarray(r)
    t = wrap(r, input._dev)
    if ENABLED[0] and input._rg:
        _attach(t, PowBackward0, input, None, (input, exponent), r)
    return _out(t, out)


def _exp_log(a: Any, b: Any) -> Any:
    """a ** b as exp(b * log(a)): torch's complex pow (std::pow), where numpy multiplies out integer powers."""
    with np.errstate(all="ignore"):
        return for_array(np.exp, a)(b * for_array(np.log, a)(a))


def _complex_power(a: Any, b: Any) -> Any:
    # torch agrees with numpy's complex power, except for a real exponent, which it takes through exp and log
    bi = b.imag if hasattr(b, "imag") else 0
    with np.errstate(all="ignore"):
        return for_array(np.where, a)(bi == 0, _exp_log(a, b), for_array(np.power, a)(a, b))


def _complex_power_scalar(a: Any, e: Any) -> Any:
    """A complex tensor to a number as torch's pow kernel computes it: sqrt, reciprocal and numpy's small integer
    powers where torch has those special cases, exp and log for another real integer."""
    if e == 0.5:
        return for_array(np.sqrt, a)(a)
    if e == -0.5:
        return 1 / for_array(np.sqrt, a)(a)
    if e == -1:
        return 1 / a
    if type(e) is not complex and e not in (1, 2, 3, -2) and float(e).is_integer():
        return _exp_log(a, a.dtype.type(e))
    return for_array(np.power, a)(a, e)


_pow_tt_complex = binary(_complex_power, PowBackward1)


def _int_pow_check(a: Tensor, e: Any) -> None:
    if a._data.dtype.kind in "iub":
        if isinstance(e, Tensor):
            if e._data.dtype.kind in "iu" and bool((e._data < 0).any()):
                raise RuntimeError("Integers to negative integer powers are not allowed.")
        elif isinstance(e, int) and not isinstance(e, bool) and e < 0:
            raise RuntimeError("Integers to negative integer powers are not allowed.")


def _int_power(b: Any, e: Any, xp: Any) -> Any:
    """Integer powers with negative exponents as torch computes them: the truncated quotient 1 / b**-e, so
    0 (a zero base included), or +-1 for a base of +-1."""
    b, e = xp.broadcast_arrays(b, e)
    neg = e < 0
    r = xp.power(b, xp.where(neg, 0, e))
    one = xp.where(e % 2 == 0, xp.ones_like(b), b)  # (-1) ** e
    return xp.where(neg, xp.where(b == 1, 1, xp.where(b == -1, one, 0)), r).astype(b.dtype)


def _rpow(x: Tensor, base: Any) -> Tensor:
    if isinstance(base, np.generic):
        base = base.item()
    if isinstance(base, bool) and x._data.dtype.kind == "b":
        raise NotImplementedError("\"pow\" not implemented for 'Bool'")
    if not isinstance(base, (int, float, complex)):
        return NotImplemented
    rt = result_np(x, base)
    xd = x._data if x._data.dtype == rt else x._data.astype(rt)
    xp = x._dev.xp
    if rt.kind in "iu" and type(base) is int and not np.iinfo(rt).min <= base <= np.iinfo(rt).max:
        base = int(np.asarray(base, dtype=np.int64).astype(rt))  # (torch casts the base as C does: -2 -> 254)
    if rt.kind in "iu" and bool((xd < 0).any()):
        # torch computes an integer base to a negative power as the truncated quotient: 0, or +-1 for a base of +-1
        neg = xd < 0
        r = xp.power(xp.asarray(base, dtype=rt), xp.where(neg, 0, xd))
        if base in (1, -1):
            r = xp.where(neg, xp.asarray(base, dtype=rt) ** (xp.abs(xd) % 2), r)
        else:
            r = xp.where(neg, xp.zeros((), dtype=rt), r)
    elif base != 1 and pow_cpu.usable(xd):  # torch wraps the base in a 0-dim tensor: its tensor-tensor kernel
        r = pow_cpu.pow_tensor_tensor(np.asarray(base, dtype=rt), xd)
    else:
        r = xp.power(xp.asarray(base, dtype=rt), xd)
    if type(r) is not _ndarray and isinstance(r, _generic):  # a numpy scalar from 0-dim operands
        r = x._dev.xp.asarray(r)
    t = wrap(r, x._dev)
    if ENABLED[0] and x._rg:
        node = PowBackward2()
        node._seq = next_seq()
        node._next = (edge_of(x),)
        s, v = save_out(node, t)
        node._saved = (base, s, x)  # x too: torch saves the exponent (so changing it in place is an error)
        node._vers = (None, v, (x._vc, x._vc[0]))
        node._ctx = (r.shape, r.dtype)
        t._rg = True
        t.grad_fn = node
    return t


def float_power(input: Tensor, exponent: Any) -> Tensor:  # noqa: A002
    # in double precision: complex128 when either operand is complex
    cplx = (
        input._data.dtype.kind == "c"
        or type(exponent) is complex
        or (isinstance(exponent, Tensor) and exponent._data.dtype.kind == "c")
    )
    wide = (lambda t: t.to(FROM_NP[np.dtype(np.complex128)])) if cplx else (lambda t: t.double())
    return pow(wide(input), wide(exponent) if isinstance(exponent, Tensor) else exponent)


# ---- where / clamp / addcmul / addcdiv ----------------------------------------------------------
def _where_bw(self: Node, g: Tensor, cond: Tensor) -> tuple:
    n = self._next
    return (
        where(cond, g, 0.0) if n[0] is not None else None,
        where(cond, 0.0, g) if n[1] is not None else None,
    )


WhereBackward0 = node_class("WhereBackward0", _where_bw)


_WHERE_OVERLOADS = (
    "(Tensor condition)",
    "(Tensor condition, Tensor input, Tensor other, *, Tensor out = None)",
    "(Tensor condition, Number self, Tensor other)",
    "(Tensor condition, Tensor input, Number other)",
    "(Tensor condition, Number self, Number other)",
)


def where(condition: Tensor, input: Any = None, other: Any = None, *, out: Tensor | None = None) -> Any:  # noqa: A002
    if input is None and other is None:
        return nonzero(condition, as_tuple=True)
    if input is None or other is None:  # (torch.where(cond, x): no overload takes two arguments)
        if other is None:
            raise invalid_combination("where", (condition, input), _WHERE_OVERLOADS, False)
        raise invalid_combination("where", (condition,), _WHERE_OVERLOADS, False, kwargs={"other": other})
    c = condition._data
    if c.dtype.kind != "b":
        raise RuntimeError(
            "where expected condition to be a boolean tensor, but got a tensor with dtype "
            f"{condition.dtype.scalar_name()}"
        )
    xt = input if isinstance(input, Tensor) else None
    yt = other if isinstance(other, Tensor) else None
    like = xt if xt is not None else yt
    if like is None:
        rt = np.dtype(result_np(input, other)).type  # scalars of the result dtype: no host arrays on cuda
        r = condition._dev.xp.where(c, rt(input), rt(other))
        return wrap_any(r, condition._dev)
    for t in (xt, yt):
        if t is not None and t._dev is not condition._dev:
            raise mixed_device(condition, t)
    rt = result_np(input, other)
    # a scalar, on any device
    xd = xt._data.astype(rt, copy=False) if xt is not None else scalar_to(input, rt)
    yd = yt._data.astype(rt, copy=False) if yt is not None else scalar_to(other, rt)
    try:
        r = like._dev.xp.where(c, xd, yd)
    except ValueError:
        raise RuntimeError(broadcast_error(c.shape, np.shape(xd), np.shape(yd))) from None
    if type(r) is _ndarray and r.ndim > 1 and not c.flags.c_contiguous:
        r = iterator_layout(r, c, xd, yd)  # (the condition is torch's first operand)
    t = wrap(r, like._dev)
    if ENABLED[0] and ((xt is not None and xt._rg) or (yt is not None and yt._rg)):
        node = WhereBackward0()
        node._seq = next_seq()
        node._next = (edge_of(xt), edge_of(yt))
        node._saved = (condition,)
        node._vers = ((condition._vc, condition._vc[0]),)
        ma = (
            None
            if xt is None or (xt._data.shape == r.shape and xt._data.dtype == r.dtype)
            else (xt._data.shape, xt._data.dtype)
        )
        mb = (
            None
            if yt is None or (yt._data.shape == r.shape and yt._data.dtype == r.dtype)
            else (yt._data.shape, yt._data.dtype)
        )
        if ma is not None or mb is not None:
            node._meta = (ma, mb)
        node._ctx = (r.shape, r.dtype)
        t._rg = True
        t.grad_fn = node
    return _out(t, out)


def nonzero(input: Tensor, *, as_tuple: bool = False) -> Any:  # noqa: A002
    d = input._data
    no_uint_kernel("nonzero_count_cpu", d.dtype)
    if d.ndim == 0:  # torch reads a 0-dim tensor as one element with no index dims
        xp = input._dev.xp
        hit = bool(d != 0)
        if as_tuple:
            return (wrap(xp.zeros(int(hit), np.int64), input._dev),)
        return wrap(xp.zeros((int(hit), 0), np.int64), input._dev)
    idx = np.nonzero(d)
    if as_tuple:
        return tuple(wrap_any(i.astype(np.int64), input._dev) for i in idx)
    xp = input._dev.xp
    return wrap(xp.stack(idx, axis=1).astype(np.int64) if idx else xp.zeros((0, 0), np.int64), input._dev)


def argwhere(input: Tensor) -> Tensor:  # noqa: A002
    return nonzero(input)


def _clamp_bw(self: Node, g: Tensor, x: Tensor, lo: Any, hi: Any) -> tuple:
    mask = None
    if lo is not None:
        mask = x >= lo
    if hi is not None:
        m2 = x <= hi
        mask = m2 if mask is None else mask & m2
    return (where(mask, g, 0.0),)  # torch's clamp_backward: a true 0 outside, no -0.0 or nan from g * mask


ClampBackward1 = node_class("ClampBackward1", _clamp_bw)


def _clamp0_bw(self: Node, g: Tensor, x: Tensor, lo: Any, hi: Any) -> tuple:
    """torch's clamp_backward_min_max: x gets the gradient inside [lo, hi], each bound where it clipped."""
    n = self._next
    ge = x >= lo if lo is not None else None
    le = x <= hi if hi is not None else None
    pred = ge & le if ge is not None and le is not None else (ge if ge is not None else le)
    return (
        where(pred, g, 0.0) if n[0] is not None else None,
        where(~ge, g, 0.0) if n[1] is not None else None,
        where(~le, g, 0.0) if n[2] is not None else None,
    )


ClampBackward0 = node_class("ClampBackward0", _clamp0_bw)  # clamp with tensor bounds


def _clamp_tensors(input: Tensor, min: Any, max: Any) -> Tensor:  # noqa: A002
    lo = min if min is None or isinstance(min, Tensor) else _full_like_scalar(min, input)
    hi = max if max is None or isinstance(max, Tensor) else _full_like_scalar(max, input)
    with _no_grad():
        r = input
        # a value equal to its bound stays itself (torch keeps -0.0 against a 0.0 bound; numpy picks one)
        if lo is not None:
            r = where(r == lo, r, maximum(r, lo))
        if hi is not None:
            r = where(r == hi, r, minimum(r, hi))
    t = wrap(r._data, r._dev)
    ins = (input, lo, hi)
    if ENABLED[0] and builtins.any(i is not None and i._rg for i in ins):
        node = ClampBackward0()
        node._seq = next_seq()
        node._next = tuple(edge_of(i) for i in ins)
        node._saved = ins
        node._vers = tuple(None if i is None else (i._vc, i._vc[0]) for i in ins)
        shape, dt = r._data.shape, r._data.dtype
        meta = tuple(
            None if i is None or (i._data.shape == shape and i._data.dtype == dt) else (i._data.shape, i._data.dtype)
            for i in ins
        )
        if builtins.any(m is not None for m in meta):
            node._meta = meta
        node._ctx = (shape, dt)
        t._rg = True
        t.grad_fn = node
    return t


def _pytype(v: Any) -> str:
    return "Tensor" if isinstance(v, Tensor) else type_name(v)


def check_clamp_args(name: str, method: bool, args: tuple, kwargs: dict) -> None:
    """torch's argument-parser TypeError for bounds that fit neither clamp(Tensor, Tensor) nor clamp(Number,
    Number): a tensor with dims beside a Python number (a 0-dim tensor passes as a number)."""
    lo = args[0] if args else kwargs.get("min")
    hi = args[1] if len(args) > 1 else kwargs.get("max")
    big = [isinstance(v, Tensor) and v._data.ndim > 0 for v in (lo, hi)]
    num = [v is not None and not isinstance(v, Tensor) for v in (lo, hi)]
    # (a bound that is neither a tensor nor a number, clamp('a'): no overload takes it)
    alien = any(v is not None and not isinstance(v, (Tensor, *_NUMBERS)) for v in (lo, hi))
    if not ((big[0] and num[1]) or (big[1] and num[0]) or alien):
        return
    kws = [k for k in reversed(list(kwargs)) if k in ("min", "max")]  # torch lists keywords last-first
    pos = [_pytype(v) for v in args[:2]]
    head = f"{name}() received an invalid combination of arguments - got ("
    if method and alien and len(args) < 2:  # (fewer arguments than the overloads list: nothing marked)
        got = (
            ", ".join(pos + [f"{k}={_pytype(kwargs[k])}" for k in kws])
            if pos
            else "".join(f"{k}={_pytype(kwargs[k])}, " for k in kws)
        )
        raise TypeError(
            f"{head}{got}), but expected one of:\n * (Tensor min = None, Tensor max = None)\n"
            " * (Number min = None, Number max = None)\n"
        )
    if method:
        got = ", ".join(pos) + "".join(f"{k}={_pytype(kwargs[k])}, " for k in kws)
        why = (
            f"some of the keywords were incorrect: {', '.join(kws)}"
            if kws
            else f"some of the arguments have invalid types: ({', '.join(f'!{t}!' for t in pos)})"
        )
        raise TypeError(
            f"{head}{got}), but expected one of:\n * (Tensor min = None, Tensor max = None)\n      didn't match "
            f"because {why}\n * (Number min = None, Number max = None)\n      didn't match because {why}\n"
        )
    got = ", ".join(["Tensor", *pos, *(f"{k}={_pytype(kwargs[k])}" for k in kws)])
    raise TypeError(
        f"{head}{got}), but expected one of:\n * (Tensor input, Tensor min = None, Tensor max = None, *, Tensor out "
        "= None)\n * (Tensor input, Number min = None, Number max = None, *, Tensor out = None)\n"
    )


_NUMBERS = (int, float, complex, np.number, np.bool_)


def clamp(input: Tensor, *args: Any, out: Tensor | None = None, **kwargs: Any) -> Tensor:  # noqa: A002
    check_clamp_args("clamp", False, args, kwargs)
    return _clamp(input, *args, out=out, **kwargs)


def _clamp(input: Tensor, min: Any = None, max: Any = None, *, out: Tensor | None = None) -> Tensor:  # noqa: A001, A002
    if input._data.dtype.kind == "c" and (min is not None or max is not None):
        raise NotImplementedError("clamp is not supported for complex types")
    if min is None and max is None:
        raise RuntimeError("torch.clamp: At least one of 'min' or 'max' must not be None")
    if isinstance(min, Tensor) != isinstance(max, Tensor) and min is not None and max is not None:
        # a 0-dim tensor beside a number: torch's clamp(Number, Number) overload takes its value
        min, max = (v.item() if isinstance(v, Tensor) else v for v in (min, max))  # noqa: A001
    if isinstance(min, Tensor) or isinstance(max, Tensor):
        no_uint_kernel("clamp_cpu", input._data.dtype)
        return _out(_clamp_tensors(input, min, max), out)
    d = input._data
    which = (
        "clamp_scalar"
        if min is not None and max is not None
        else "clamp_min_scalar"
        if min is not None
        else "clamp_max_scalar"
    )  # (torch's kernel, named in its refusals)
    if type(min) is not float and type(max) is not float:
        no_uint_kernel(f"{which}_cpu", d.dtype)
    if d.dtype.kind == "b" and all(v is None or type(v) is bool for v in (min, max)):
        raise NotImplementedError(f"\"{which}_{input._dev.type}\" not implemented for 'Bool'")
    if d.dtype.kind == "b" and any(type(v) is int for v in (min, max)):
        d = d.astype(np.int64)  # torch's promotion: bool with an int bound is int64
    if (min is not None and isinstance(min, float)) or (max is not None and isinstance(max, float)):
        if d.dtype.kind != "f":
            d = d.astype(DEFAULT.float.np)
    if d.dtype.kind in "iu":  # bounds are the tensor's type (torch refuses one it cannot hold)
        min = None if min is None else scalar_to(min, d.dtype)  # noqa: A001
        max = None if max is None else scalar_to(max, d.dtype)  # noqa: A001
    else:
        for v in (min, max):
            if v is not None:
                scalar_to(v, d.dtype)
    clip_ = for_array(np.clip, d)
    r = clip_(d, min, max) if d.dtype.kind == "f" else clip_(d, min, max).astype(d.dtype)
    if min is not None and max is not None and min > max:
        r = for_array(np.full_like, d)(d, max)
    if type(r) is not _ndarray and isinstance(r, _generic):  # a numpy scalar from 0-dim operands
        r = input._dev.xp.asarray(r)
    t = wrap(r, input._dev)
    if ENABLED[0] and input._rg:
        _attach(t, ClampBackward1, input, None, (input, min, max), r)
    return _out(t, out)


clip = clamp


ClampMinBackward0 = node_class("ClampMinBackward0", _clamp_bw)
ClampMaxBackward0 = node_class("ClampMaxBackward0", _clamp_bw)


def clamp_min(input: Tensor, min: Any) -> Tensor:  # noqa: A002
    r = clamp(input, min=min)
    if type(r.grad_fn) is ClampBackward1:
        r.grad_fn.__class__ = ClampMinBackward0  # torch's own node for clamp_min(number)
    return r


def clamp_max(input: Tensor, max: Any) -> Tensor:  # noqa: A002
    r = clamp(input, max=max)
    if type(r.grad_fn) is ClampBackward1:
        r.grad_fn.__class__ = ClampMaxBackward0
    return r


def _addcmul_bw(self: Node, g: Tensor, t1: Tensor, t2: Tensor, value: Any) -> tuple:
    n = self._next
    return (
        g,
        g * (t2 * value) if n[1] is not None else None,  # (torch's grad * (tensor2 * value))
        g * (t1 * value) if n[2] is not None else None,
    )


def _addcdiv_bw(self: Node, g: Tensor, t1: Tensor, t2: Tensor, value: Any) -> tuple:
    n = self._next
    return (
        g,
        # (torch's grad * (value / tensor2) and -grad * (value * tensor1 / (tensor2 * tensor2)); ATen's
        # scalar / tensor fills a tensor with the scalar and divides it, where Python's takes a reciprocal)
        g * (t2.new_full(t2.shape, value) / t2) if n[1] is not None else None,
        -g * (t1 * value / (t2 * t2)) if n[2] is not None else None,
    )


ADDCDIV_INT_MSG = (
    "Integer division with addcdiv is no longer supported, and in a future  release addcdiv will perform a true "
    "division of tensor1 and tensor2. The historic addcdiv behavior can be implemented as (input + value * "
    "torch.trunc(tensor1 / tensor2)).to(input.dtype) for integer inputs and as (input + value * tensor1 / tensor2) "
    "for float inputs. The future addcdiv behavior is just the latter implementation: (input + value * tensor1 / "
    "tensor2), for all dtypes."
)
AddcmulBackward0 = node_class("AddcmulBackward0", holomorphic(_addcmul_bw))
AddcdivBackward0 = node_class("AddcdivBackward0", holomorphic(_addcdiv_bw))


def _ternary(cls: type, combine: Any) -> Any:
    def op(input: Tensor, tensor1: Tensor, tensor2: Tensor, *, value: Any = 1, out: Tensor | None = None) -> Tensor:  # noqa: A002
        if not isinstance(tensor1, Tensor) or not isinstance(tensor2, Tensor):  # (torch's parser refuses it)
            bad = tensor2 if isinstance(tensor1, Tensor) else tensor1
            raise TypeError(f"{cls.__name__[:7].lower()}(): tensor1 and tensor2 must be Tensors, not {type_name(bad)}")
        if (
            cls is AddcdivBackward0
            and isinstance(tensor1, Tensor)
            and isinstance(tensor2, Tensor)
            and tensor1._data.dtype.kind in "biu"
            and tensor2._data.dtype.kind in "biu"
        ):
            raise RuntimeError(ADDCDIV_INT_MSG)
        if cls is AddcmulBackward0 and all(
            isinstance(x, Tensor) and x._data.dtype.kind == "b" for x in (input, tensor1, tensor2)
        ):
            raise NotImplementedError(f"\"addcmul_{input._dev.type}_out\" not implemented for 'Bool'")
        shapes = [np.shape(x._data) for x in (input, tensor1, tensor2) if isinstance(x, Tensor)]
        try:
            np.broadcast_shapes(*shapes)
        except ValueError:  # torch broadcasts input, tensor1, tensor2 in that order
            raise RuntimeError(broadcast_error(*shapes)) from None
        fused = None
        if (
            type(input._data) is not _ndarray
            and isinstance(tensor1, Tensor)
            and isinstance(tensor2, Tensor)
            and type(value) in (int, float)
            and input._dev is tensor1._dev is tensor2._dev
            and input._data.dtype.kind == "f"
        ):  # cupy: one fused kernel instead of three passes
            from engine.ops import cuda_kernels

            k = cuda_kernels.addcmul if cls is AddcmulBackward0 else cuda_kernels.addcdiv
            fused = k(input._data, tensor1._data, tensor2._data, float(value))
        with _no_grad():
            if fused is None:
                a, b, c, v = _in_result_dtype(input, tensor1, tensor2, value)
            r = wrap(fused, input._dev) if fused is not None else combine(a, b, c, v)
            if fused is None and (r._data.dtype == np.float16 or r._data.dtype.metadata is not None):
                # torch fuses the float16 (and bfloat16) op in float32: round once
                a, b, c = (plain(x._data).astype(np.float32) for x in (input, tensor1, tensor2))
                f = a + value * b * c if cls is AddcmulBackward0 else a + value * b / c  # torch's order
                r = wrap(to_bf16(f) if r._data.dtype.metadata is not None else f.astype(np.float16), r._dev)
        t = wrap(r._data, r._dev)
        ins = (input, tensor1, tensor2)
        if ENABLED[0] and builtins.any(isinstance(i, Tensor) and i._rg for i in ins):
            node = cls()
            node._seq = next_seq()
            node._next = tuple(edge_of(i) for i in ins)
            node._saved = (tensor1, tensor2, value)
            # saved only for a gradient that will be computed (torch's should_compute_output): tensor1 for
            # tensor2's, tensor2 for tensor1's (and, dividing, for its own)
            rg1, rg2 = isinstance(tensor1, Tensor) and tensor1._rg, isinstance(tensor2, Tensor) and tensor2._rg
            need2 = rg1 or (rg2 and cls is AddcdivBackward0)
            node._vers = (
                (tensor1._vc, tensor1._vc[0]) if rg2 else None,
                (tensor2._vc, tensor2._vc[0]) if need2 else None,
                None,
            )
            shape, dt = r._data.shape, r._data.dtype
            meta = tuple(
                None if (i._data.shape == shape and i._data.dtype == dt) else (i._data.shape, i._data.dtype)
                for i in ins
            )
            if builtins.any(m is not None for m in meta):
                node._meta = meta
            node._ctx = (shape, dt)
            t._rg = True
            t.grad_fn = node
        return _out(t, out)

    return op


def _in_result_dtype(a: Any, b: Any, c: Any, value: Any) -> tuple:
    """torch's addcmul/addcdiv compute in the three tensors' result type, which `value` never promotes: it is
    cast to that type (an integer result truncates 0.5 to 0), and each operand is converted to it first."""
    if not (isinstance(a, Tensor) and isinstance(b, Tensor) and isinstance(c, Tensor)):
        return a, b, c, value
    ts = (a, b, c)
    if a.dtype is b.dtype is c.dtype:
        rt = a.dtype
    else:
        dims = [t.dtype for t in ts if t._data.ndim]
        zeros = [t.dtype for t in ts if not t._data.ndim]
        rt = result_type(
            functools.reduce(promote_types, dims) if dims else None,
            functools.reduce(promote_types, zeros) if zeros else None,
            None,
        )
        a, b, c = (t if t.dtype is rt else t.to(rt) for t in ts)
    if rt.cat != FLOAT and not isinstance(value, Tensor):
        value = int(value)  # (C++'s cast: truncation toward zero)
    return a, b, c, value


class _no_grad:  # noqa: N801 - a cheap local guard; engine.grad_mode.no_grad is the public one
    def __enter__(self) -> None:
        self.prev = ENABLED[0]
        ENABLED[0] = False

    def __exit__(self, *exc: object) -> None:
        ENABLED[0] = self.prev


def _addcmul(a: Tensor, b: Tensor, c: Tensor, v: Any) -> Tensor:
    """torch's cpu addcmul: fma(value * tensor1, tensor2, input), rounded once (float32/float64 operands of one
    dtype; other mixes round as the ops they are made of)."""
    if (
        isinstance(b, Tensor) and isinstance(c, Tensor) and type(v) in (int, float)
        and a._data.dtype in _FMA_EXACT and a._data.dtype == b._data.dtype == c._data.dtype
        and a._dev is b._dev is c._dev
    ):  # fmt: skip
        dt = a._data.dtype
        bd = b._data if v == 1 else b._data * dt.type(v)
        return wrap(fma(bd, c._data, a._data), a._dev)
    return a + b * c * v if v != 1 else a + b * c


addcmul = _ternary(AddcmulBackward0, _addcmul)
# torch's cpu addcdiv: input + (value * tensor1) / tensor2, each step rounded
addcdiv = _ternary(AddcdivBackward0, lambda a, b, c, v: a + (b * v) / c if v != 1 else a + b / c)


# ---- unary ops ----------------------------------------------------------------------------------
# (the constants torch's derivatives.yaml writes: its ln 10 is one ulp below the correctly rounded math.log(10))
LN2, LN10 = 0.6931471805599453, 2.3025850929940456


def _u(name: str, bw: Any) -> type:
    return node_class(name, bw)


# (name, array fn, node name, backward(g, x, y), saves, int policy)
# saves: which of x (input) / y (output) backward needs; int policy: "float" computes ints in the
# default float dtype as torch does; "keep" keeps the integer dtype.
# cpu_kernel_vec kernels whose vector function is SLEEF's (emulated in exact mode), the C library's on the tail
_SINH = torch_unary("sinh", np.sinh, True, sleef_more.sinh)
_COSH = torch_unary("cosh", np.cosh, True, sleef_more.cosh)
_EXP2 = torch_unary("exp2", np.exp2, True, sleef_more.exp2)
UNARY = [
    ("exp", np.exp, "ExpBackward0", lambda g, x, y: g * y, "y", "float"),
    ("expm1", np.expm1, "Expm1Backward0", lambda g, x, y: g * (y + 1), "y", "float"),
    ("log", np.log, "LogBackward0", lambda g, x, y: g / x, "x", "float"),
    ("log1p", np.log1p, "Log1PBackward0", lambda g, x, y: g / (x + 1), "x", "float"),
    ("log2", np.log2, "Log2Backward0", lambda g, x, y: g / (x * LN2), "x", "float"),
    ("log10", np.log10, "Log10Backward0", lambda g, x, y: g / (x * LN10), "x", "float"),
    ("sqrt", np.sqrt, "SqrtBackward0", lambda g, x, y: g / (2 * y), "y", "float"),
    ("rsqrt", lambda a: _rsqrt(a), "RsqrtBackward0", lambda g, x, y: -0.5 * g * y.pow(3), "y", "float"),
    ("sin", np.sin, "SinBackward0", lambda g, x, y: g * x.cos(), "x", "float"),
    ("cos", np.cos, "CosBackward0", lambda g, x, y: g * -x.sin(), "x", "float"),
    ("tan", np.tan, "TanBackward0", lambda g, x, y: g * (1 + y * y), "y", "float"),
    ("tanh", np.tanh, "TanhBackward0", lambda g, x, y: tanh_backward(g, y), "y", "float"),
    ("sigmoid", lambda a: _sigmoid(a), "SigmoidBackward0", lambda g, x, y: sigmoid_backward(g, y), "y", "float"),
    ("relu", lambda a: _relu(a), "ReluBackward0", lambda g, x, y: threshold_backward(g, y, 0), "y", "keep"),
    ("abs", np.abs, "AbsBackward0", lambda g, x, y: g * (x.sgn() if x._data.dtype.kind == "c" else x.sign()), "x",
     "keep"),
    ("neg", np.negative, "NegBackward0", lambda g, x, y: -g, "", "keep"),
    ("reciprocal", lambda a: 1 / a, "ReciprocalBackward0", lambda g, x, y: -g * (y * y), "y", "float"),
    ("square", lambda a: a * a, "PowBackward0", lambda g, x, y: g * 2 * x, "x", "keep"),
    ("sign", lambda a: _sign(a), "SignBackward0", lambda g, x, y: zero_grad(g), "", "keep"),
    ("floor", np.floor, "FloorBackward0", lambda g, x, y: zero_grad(g), "", "keep"),
    ("ceil", np.ceil, "CeilBackward0", lambda g, x, y: zero_grad(g), "", "keep"),
    ("trunc", np.trunc, "TruncBackward0", lambda g, x, y: zero_grad(g), "", "keep"),
    ("frac", lambda a: a - np.trunc(a), "FracBackward0", lambda g, x, y: g, "", "keep"),
    ("asin", np.arcsin, "AsinBackward0", lambda g, x, y: g * (1 - x * x).rsqrt(), "x", "float"),
    ("acos", np.arccos, "AcosBackward0", lambda g, x, y: -g * (1 - x * x).rsqrt(), "x", "float"),
    ("atan", np.arctan, "AtanBackward0", lambda g, x, y: g / (1 + x * x), "x", "float"),
    ("sinh", _SINH, "SinhBackward0", lambda g, x, y: g * x.cosh(), "x", "float"),
    ("cosh", _COSH, "CoshBackward0", lambda g, x, y: g * x.sinh(), "x", "float"),
    ("exp2", _EXP2, "Exp2Backward0", lambda g, x, y: mul_scalar(g * y, LN2), "y", "float"),
    ("erf", None, "ErfBackward0", lambda g, x, y: 2 / math.sqrt(math.pi) * (-(x * x)).exp() * g, "x", "float"),
    ("silu", lambda a: _silu(a), "SiluBackward0",
     lambda g, x, y: _silu_grad(g, x), "x", "float"),
]  # fmt: skip


_NEG_BOOL = (
    "Negation, the `-` operator, on a bool tensor is not supported. If you are trying to invert a mask, use the "
    "`~` or `logical_not()` operator instead."
)
# Unary ops torch has no kernel for on some integer/bool dtypes: (exception, kernel or message, dtype kinds)
_REFUSES = {
    "neg": (RuntimeError, _NEG_BOOL, "b"),
    "relu": (RuntimeError, "Boolean inputs not supported for relu", "b"),
    "abs": (NotImplementedError, "abs_cpu", "b"),
    "floor": (NotImplementedError, "floor_vml_cpu", "b"),
    "ceil": (NotImplementedError, "ceil_vml_cpu", "b"),
    "trunc": (NotImplementedError, "trunc_vml_cpu", "b"),
    "frac": (NotImplementedError, "frac_cpu", "biu"),
}


# Unary ops without a kernel for torch's shell unsigned types (uint16, uint32, uint64): the kernel torch names
_UINT_REFUSES = {"neg": "neg_cpu", "abs": "abs_cpu", "sign": "sign_cpu", "square": "pow", "sgn": "sign_cpu"}


# (neg too: its formula -g is already torch's for complex grads, and conjugating around it would flip the sign of
# the zero parts that torch's grad.neg() leaves)
_NOT_HOLOMORPHIC = frozenset({"abs", "sgn", "neg"})
# Unary ops torch has no complex kernel for: (exception, message; {} takes the dtype's name)
COMPLEX_REFUSES = {
    "relu": (NotImplementedError, "clamp is not supported for complex types"),
    "sign": (
        NotImplementedError,
        "Unlike NumPy, torch.sign is not intended to support complex numbers. Please use torch.sgn instead.",
    ),
    "floor": (NotImplementedError, "floor is not supported for complex inputs"),
    "ceil": (NotImplementedError, "ceil is not supported for complex inputs"),
    "trunc": (NotImplementedError, "trunc is not supported for complex inputs"),
    "fix": (NotImplementedError, "trunc is not supported for complex inputs"),
    "frac": (NotImplementedError, "\"frac_cpu\" not implemented for '{}'"),
    "erf": (NotImplementedError, "\"erf_vml_cpu\" not implemented for '{}'"),
}


def _sign(a: Any) -> Any:
    return a.copy() if a.dtype.kind == "b" else for_array(np.sign, a)(a)  # torch's sign of bools is the bools


def _rsqrt(a: Any) -> Any:
    if a.dtype == np.float16:
        return (1 / np.sqrt(a.astype(np.float32))).astype(np.float16)
    return 1 / np.sqrt(a)


def _grad_op(name: str, fwd: Any, d_grad: Any, d_saved: Any, half: Any = None) -> Any:
    """An ATen backward kernel as a primitive (threshold_backward, sigmoid_backward, tanh_backward): torch
    runs these as single ops, so with create_graph=True a gradient's grad_fn is <NameBackwardBackward0> with
    edges to the incoming gradient and to the saved tensor, and a second derivative flows through both.
    fwd(g, s, arg) works on arrays (float16 in float32, rounded once, as torch); d_grad and d_saved(gg, g, s,
    arg), on tensors, give the gradients for g and for s, each computed only when its input needs it. half:
    fwd for float16 where torch's kernel has no float branch for it (Vectorized<Half> arithmetic, rounding after
    each operation), on the float32 values, its result rounded once more."""

    def backward(self: Node, gg: Tensor, g: Tensor, s: Tensor, arg: Any) -> tuple:
        n = self._next
        return (
            d_grad(gg, g, s, arg) if n[0] is not None else None,
            d_saved(gg, g, s, arg) if n[1] is not None else None,
        )

    cls = node_class(name, backward)

    def op(g: Tensor, s: Tensor, arg: Any = None) -> Tensor:
        gd, sd = g._data, s._data
        if gd.dtype.char == "e" and gd.dtype == np.float16:  # (the char first: == converts the type each call)
            r = (half or fwd)(gd.astype(np.float32), sd.astype(np.float32), arg).astype(np.float16)
        else:  # (bfloat16: torch's kernel computes in float32 and rounds once)
            r = fwd(gd, sd, arg) if type(gd) is not BF16Array else apply(lambda a, b: fwd(a, b, arg), gd, sd)
        if type(r) is not _ndarray and isinstance(r, _generic):
            r = g._dev.xp.asarray(r)
        t = wrap(r, g._dev)
        if ENABLED[0] and (g._rg or s._rg):
            _attach(t, cls, g, s, (g, s, arg), r)
        return t

    return op


def _h16(a: Any) -> Any:
    """float32 values rounded to float16 and back: one step of c10::Half arithmetic."""
    return a.astype(np.float16).astype(np.float32)


def _zeros_of(t: Tensor) -> Tensor:
    return wrap(t._dev.xp.zeros(t._data.shape, dtype=t._data.dtype), t._dev)


_BITS = {np.dtype(np.float32): np.uint32, np.dtype(np.float64): np.uint64}
_ONE = {np.uint32: np.ones((), np.uint32), np.uint64: np.ones((), np.uint64)}


def _where_above(g: Any, x: Any, threshold: Any) -> Any:
    # a true 0 where x <= threshold (grad * mask would leave -0.0 and nan there); a Python 0 keeps g's dtype
    bits = _BITS.get(g.dtype) if type(g) is _ndarray and type(x) is _ndarray and g.shape == x.shape else None
    if bits is not None and g.ndim and g.flags.c_contiguous:
        # the same as where(), twice as fast on a cpu: g's bits and-ed with all ones (keep) or zeros (drop).
        # (Operands that are arrays of the right dtype, not Python numbers, and one buffer for the three
        # steps: numpy's scalar conversions and casting loops cost more than the arithmetic at a layer's size.)
        if threshold == 0 and type(threshold) in _PY_NUMBERS and x.dtype in _ZERO:
            threshold = _ZERO[x.dtype]  # (relu's: the same comparison)
        keep = _less_equal(x, threshold).astype(bits)
        keep -= _ONE[bits]  # 1 - 1 = 0 drops, 0 - 1 wraps to all ones
        return _bitwise_and(g.view(bits), keep, out=keep).view(g.dtype)
    where = for_array(np.where, x)
    return where(x <= threshold, 0, g)


def _softplus_grad(g: Any, x: Any, arg: tuple) -> Any:
    beta, threshold = arg
    if activation_cpu.exact_usable(x) and type(g) is _ndarray and g.dtype == x.dtype:
        return activation_cpu.softplus_backward(g, x, beta, threshold)  # (torch's kernel: SLEEF's exp)
    xb = x * beta
    with np.errstate(over="ignore", invalid="ignore"):
        z = np.exp(xb)
        return np.where(xb > threshold, g, g * z / (z + 1))


def _softplus_grad_dx(gg: Tensor, g: Tensor, x: Tensor, arg: tuple) -> Tensor:
    beta, threshold = arg
    xb = x * beta  # torch's softplus_double_backward
    return sigmoid_backward(gg * g, xb.sigmoid()) * (xb < threshold) * beta


# torch's kernels and derivative formulas (tools/autograd/derivatives.yaml), operand order kept for rounding
threshold_backward = _grad_op(
    "ThresholdBackwardBackward0",
    _where_above,
    lambda gg, g, x, t: threshold_backward(gg, x, t),
    lambda gg, g, x, t: _zeros_of(gg),
)
sigmoid_backward = _grad_op(
    "SigmoidBackwardBackward0",
    lambda g, y, _: g * (1 - y) * y,
    lambda gg, g, y, _: sigmoid_backward(gg, y),
    lambda gg, g, y, _: gg * g * (-2 * y + 1),
    # (float16: torch's kernel is Vectorized<Half>'s a * (1 - b) * b, each step rounded; bfloat16's is in float)
    lambda g, y, _: _h16(_h16(g * _h16(1 - y)) * y),
)
softplus_backward = _grad_op(
    "SoftplusBackwardBackward0", _softplus_grad, lambda gg, g, x, arg: softplus_backward(gg, x, arg), _softplus_grad_dx
)
SoftplusBackward0 = node_class(
    "SoftplusBackward0", lambda self, g, x, beta, threshold: (softplus_backward(g, x, (beta, threshold)),)
)


@whole
def softplus(input: Tensor, beta: float = 1.0, threshold: float = 20.0) -> Tensor:  # noqa: A002
    """torch.nn.functional.softplus: log(1 + exp(beta * x)) / beta, and x itself where beta * x > threshold."""
    d = input._data
    if d.dtype.kind != "f":
        raise NotImplementedError(f"\"softplus_cpu\" not implemented for '{input.dtype.scalar_name()}'")
    a = d.astype(np.float32) if d.dtype == np.float16 else d

    def vec(a: Any) -> Any:
        xb = a * beta
        with np.errstate(over="ignore"):
            return np.where(xb > threshold, a, np.log1p(np.exp(xb)) / beta)

    if activation_cpu.exact_usable(a):  # torch's kernel: SLEEF's exp and log1p, the C library's on its tail
        r = activation_cpu.softplus(a, beta, threshold)
    elif type(a) is _ndarray and d.dtype.char in "fd":
        # cpu_kernel_vec: its scalar loop's elements (all of a tensor shorter than two vectors) are
        # std::log1p(std::exp(x * beta)) / beta in the tensor's dtype, the C library's functions
        b, th = a.dtype.type(beta), a.dtype.type(threshold)

        def scalar(x: Any) -> Any:
            xb = x * b
            e, lp = c_elementwise("exp", xb), None
            if e is not None:
                lp = c_elementwise("log1p", e)
            return vec(x) if lp is None else np.where(xb > th, x, lp / b)

        with np.errstate(over="ignore"):
            r = kernel_vec(a, vec, scalar)
    else:
        r = vec(a)
    r = r.astype(d.dtype, copy=False)
    if type(r) is not _ndarray and isinstance(r, _generic):
        r = input._dev.xp.asarray(r)
    t = wrap(r, input._dev)
    if ENABLED[0] and input._rg:
        _attach(t, SoftplusBackward0, input, None, (input, beta, threshold), r)
    return t


def _tanh_grad(g: Any, y: Any, _: Any) -> Any:
    """g * (1 - y * y) as torch's cpu kernel: in its FMA builds 1 - y * y is one fused negated multiply-add
    (a device keeps its own arithmetic)."""
    if type(y) is _ndarray and y.dtype in EXACT and g.dtype == y.dtype and has_fma(cpu_capability()):
        return g * fma(-y, y, y.dtype.type(1))
    return g * (1 - y * y)


tanh_backward = _grad_op(
    "TanhBackwardBackward0",
    _tanh_grad,
    lambda gg, g, y, _: tanh_backward(gg, y),
    lambda gg, g, y, _: gg * (-2 * y * g),  # (torch's grouping: grad * (-2 * output * grad_output))
)


_ZERO: dict = {}  # dtype -> 0-dim zero: max(zero, a) keeps a's dtype on every backend
# (shape, dtype) -> a read-only block of zeros shaped like the input, a view of one flat buffer per dtype: numpy's
# maximum runs its vector loop only when both operands are contiguous, 3-4x faster than against a 0-dim zero
# (4096 float32: 0.6 us, not 2.1), with the same bits (nans, signed zeros)
_ZEROS: dict = {}
_ZEROS_FLAT: dict = {}  # dtype -> the flat buffer
_ZEROS_MAX = 1 << 16  # elements; larger inputs compare against the 0-dim zero (no buffer kept that large)


def _relu(a: Any) -> Any:
    # max(0, x) with 0 first keeps -0.0 (and nan) as torch does; numpy's float16 maximum loses -0.0
    dt = a.dtype
    z = _ZERO.get(dt)  # (never float16's)
    if z is not None and type(a) is _ndarray:
        if a.size <= _ZEROS_MAX and a.flags.c_contiguous:
            zs = _ZEROS.get((a.shape, dt))
            if zs is None:
                zs = _zeros_like_c(a)
            return _np_maximum(zs, a)
        return np.maximum(z, a)
    if dt == np.float16:
        return np.maximum(0, a.astype(np.float32)).astype(np.float16)
    if type(a) is not _ndarray:
        return for_array(np.maximum, a)(0, a).astype(dt, copy=False)
    z = _ZERO[dt] = np.zeros((), dt)
    return np.maximum(z, a)


def _zeros_like_c(a: Any) -> Any:
    """A read-only C-ordered block of zeros of a's shape and dtype for _relu (cached: a model relus few shapes)."""
    dt = a.dtype
    flat = _ZEROS_FLAT.get(dt)
    if flat is None:
        flat = _ZEROS_FLAT[dt] = np.zeros(_ZEROS_MAX, dt)
        flat.flags.writeable = False
    zs = flat[: a.size].reshape(a.shape)
    if len(_ZEROS) < 256:
        _ZEROS[(a.shape, dt)] = zs
    return zs


def _sigmoid(a: Any) -> Any:
    if type(a) is not _ndarray and a.ndim:  # cupy: one fused kernel instead of four passes
        from engine.ops import cuda_kernels

        r = cuda_kernels.sigmoid(a)
        if r is not None:
            return r
    if a.dtype == np.float16:  # torch computes in float32 and rounds once
        return _sigmoid(a.astype(np.float32)).astype(np.float16)
    if activation_cpu.usable(a) or (a.dtype.char == "d" and activation_cpu.exact_usable(a)):
        return activation_cpu.sigmoid(a)  # torch's kernel, its SLEEF exp and its scalar tail
    # 1/(1+exp(-a)) overflows to inf for large negative a but still yields the right limit, 0.
    # One buffer for the four steps: on large tensors the time is memory traffic, not arithmetic.
    with np.errstate(over="ignore"):
        if not a.ndim:  # numpy hands back scalars for 0-d arrays: no buffer to reuse
            return 1 / (1 + np.exp(-a))
        t = np.negative(a)
        np.exp(t, out=t)
        t += 1
        return np.divide(1, t, out=t)


def _silu_grad(g: Any, x: Any) -> Any:
    gd, xd = g._data, x._data
    if (
        not (ENABLED[0] and (g._rg or x._rg))
        and activation_cpu.reduced_usable(xd)
        and type(gd) is type(xd)
        and gd.dtype == xd.dtype
        and gd.shape == xd.shape
    ):  # torch's silu_backward kernel, its float branch for float16 and bfloat16
        fn = activation_cpu.silu_backward if gd.strides == xd.strides else activation_cpu.silu_backward2
        return wrap(activation_cpu.reduced(fn, gd, xd), x._dev)
    if (
        not (ENABLED[0] and (g._rg or x._rg))  # (a graph of the gradient needs the formula's ops)
        and (activation_cpu.usable(xd) or (xd.dtype.char == "d" and activation_cpu.exact_usable(xd)))
        and type(gd) is _ndarray
        and gd.dtype == xd.dtype
        and gd.shape == xd.shape
        and gd.strides == xd.strides
    ):
        return wrap(activation_cpu.silu_backward(gd, xd), x._dev)
    s = x.sigmoid()  # (once: each one is a full exp)
    return g * s * (1 + x * (1 - s))


def _silu(a: Any) -> Any:
    if activation_cpu.usable(a) or (a.dtype.char == "d" and activation_cpu.exact_usable(a)):
        return activation_cpu.silu(a)
    if type(a) is _ndarray and a.dtype.char == "d":  # float64: the scalar loop's x / (1 + std::exp(-x))

        def scalar(x: Any) -> Any:
            e = c_elementwise("exp", -x)
            return x * _sigmoid(x) if e is None else x / (1.0 + e)

        with np.errstate(all="ignore"):
            return kernel_vec(a, lambda x: x * _sigmoid(x), scalar)
    return a * _sigmoid(a)


def _erf(a: Any) -> Any:
    if type(a) is not np.ndarray and not isinstance(a, np.generic):  # a device array: cupy's own erf kernel
        try:
            from cupyx.scipy.special import erf as device_erf
        except ImportError:  # not a device array: a sparse tensor's stand-in refuses here (engine/sparse_tensor.py)
            a.__cuda_array_interface__  # noqa: B018
            raise

        return device_erf(a).astype(a.dtype, copy=False)  # its float16 loop may answer in float32
    # numpy has no erf; math.erf is the C library's, as torch's cpu kernel uses. Mapping over a list avoids
    # np.vectorize's per-element overhead (about 6x faster on large tensors).
    from math import erf

    order = memory_order(a)  # (walked in memory order, so a channels-last input gives a channels-last result)
    src = a if order is None else a.transpose(order)
    flat = np.fromiter(map(erf, src.ravel().tolist()), dtype=np.float64, count=a.size)
    out = flat.astype(a.dtype, copy=False).reshape(src.shape)
    return out if order is None else out.transpose(np.argsort(order))


# unary ops a fused device chain can take (ops/fusion.py), by their name there
_FUSABLE = {n: n for n in ("exp", "log", "sqrt", "tanh", "sin", "cos", "sigmoid", "reciprocal")} | {"neg": "negative"}


def _vml_first(name: str, fn: Any) -> Any:
    """fn, except that float32/float64 cpu arrays go to MKL's VML where it is installed: torch's own kernel
    for these functions, so its bits (engine/ops/mkl.py)."""
    ufunc = isinstance(fn, np.ufunc)
    state, f32, f64 = mkl._STATE, np.dtype(np.float32), np.dtype(np.float64)

    def f(a: Any) -> Any:
        if type(a) is _ndarray:
            # (the library, once looked up, read inline: this runs on every exp/log/tanh, MKL or not)
            if ((dt := a.dtype) is f32 or dt is f64) and (state[0] if state else mkl.lib()) is not None:
                return mkl.vml(name, a)
            return fn(a)
        return fn(a) if not ufunc else for_array(fn, a)(a)

    return f


# Unary ops whose float32/float64 numpy results come from a bit-exact emulation of torch's cpu kernel in exact
# mode (SLEEF's function on every element: no C-library tail, measured); other arrays keep fn. The other kernels
# found to run one function on every element, tail included: lgamma (vml::vlgamma maps SLEEF's lgamma,
# special.py), log_sigmoid's forward (its own loop of whole and partial vectors, activation_cpu.py), softmax's
# exp on its last dim (vec::map, softmax_cpu.py), logit of a dense input (VML's Ln), and the plain cpu_kernels
# digamma and xlogy (the C library's log). sinh, cosh, exp2, atanh, atan2 and the activations' vector code
# (softplus, elu, mish, glu, gelu tanh) are cpu_kernel_vec: SLEEF in the vector blocks, the C library on the
# scalar tail (sleef_more.py, activation_cpu.py).
def _neg_cpu(a: np.ndarray) -> np.ndarray:
    """torch's cpu neg: for complex values its vector blocks (two AVX2 vectors) compute 0 - x, so a zero part
    comes out +0.0 there and -0.0 in the scalar tail (-x); each thread's chunk has its own tail."""
    r = np.negative(a)
    if a.dtype.kind != "c":
        return r
    from engine.ops.cpu_capability import kernel_build, vector_bytes
    from engine.ops.cpu_loops import parallel_chunks

    blk = 2 * vector_bytes(kernel_build(False)) // a.dtype.itemsize
    if a.size < blk:
        return r
    if a.flags.c_contiguous and r.flags.c_contiguous:
        xf, rf = a.reshape(-1), r.reshape(-1)
    elif a.flags.f_contiguous and r.flags.f_contiguous:  # (TensorIterator walks it in memory order)
        xf, rf = a.T.reshape(-1), r.T.reshape(-1)
    else:  # strided: each run of the trailing dims that coalesce (an expanded row) is one vector loop
        inner, expect = 1, a.itemsize
        for n, s in zip(reversed(a.shape), reversed(a.strides)):
            if n != 1:
                if s != expect:
                    break
                inner, expect = inner * n, s * n
        if inner < blk or a.size > 32768 or not r.flags.c_contiguous:
            return r
        full = inner // blk * blk
        np.subtract(0, a.reshape(-1, inner)[:, :full], out=r.reshape(-1, inner)[:, :full])
        return r
    for b, e in parallel_chunks(a.size, 32768):  # (at::internal::GRAIN_SIZE)
        full = b + (e - b) // blk * blk
        np.subtract(0, xf[b:full], out=rf[b:full])
    return r


_EXACT_CPU = {"log1p": sleef_log1p.log1p, "expm1": sleef_log1p.expm1, "neg": _neg_cpu}
# float16/bfloat16 kernels whose float branch computes in float32 with cpu_kernel_vec's split (SLEEF's functions
# in the vector blocks, the C library's on the tail) and rounds once (activation_cpu.reduced)
_REDUCED_CPU = {
    "silu": lambda d: activation_cpu.reduced(activation_cpu.silu, d),
    "sigmoid": lambda d: activation_cpu.reduced(activation_cpu.sigmoid, d),
    "rsqrt": lambda d: _rsqrt_reduced(d),
    # (vml::verf: Vectorized<float>::erf on every element)
    "erf": lambda d: activation_cpu.reduced(sleef_erf.erf32_vec, d, allvec=True),
    # (vml::vlog1p: SLEEF's log1pf on every element; its nan below -1 is all ones, which float16 keeps)
    "log1p": lambda d: activation_cpu.reduced(sleef_log1p.log1p, d, allvec=True),
    "log10": lambda d: activation_cpu.reduced(sleef.log10f, d, allvec=True),  # (vml::vlog10: SLEEF's log10f)
}


def _rsqrt_reduced(d: Any, avx512: bool = False) -> Any:
    """torch's rsqrt kernel for float16/bfloat16 (no AVX512 variant): Vectorized<Half>::rsqrt() is 1 / sqrt(x)
    in float, rounded once; the scalar tail's std::sqrt of a Half is a Half (c10's overload), so it rounds
    twice."""
    rnd = activation_cpu.rounding(d)

    def scalar(v: Any) -> Any:
        return np.divide(np.float32(1), rnd(np.sqrt(v)))

    with np.errstate(divide="ignore", invalid="ignore"):
        return activation_cpu.reduced(
            lambda a: kernel_vec(a, lambda v: np.divide(np.float32(1), np.sqrt(v)), scalar), d, avx512=avx512
        )


def _relu_abw(self: Node, g: Any, x: Any, y: Any) -> tuple | None:
    """ReluBackward0 on a raw gradient array: threshold_backward(g, y, 0)'s kernel on the saved output's array."""
    yd = y.data
    if type(yd) is not _ndarray or yd.dtype is not g.dtype:
        return None
    r = _where_above(g, yd, 0)
    return (r if type(r) is _ndarray else np.asarray(r),)


def _make_unary(fn: Any, node_name: str, bw: Any, saves: str, policy: str, name: str) -> Any:
    if fn is None:
        fn = _erf
    if name in mkl.VML_FUNCTIONS:
        fn = _vml_first(name, fn)
    needs_x, needs_y = "x" in saves, "y" in saves

    holomorphic = name not in _NOT_HOLOMORPHIC

    def backward(self: Node, g: Tensor, x: Any = None, y: Any = None) -> tuple:
        if holomorphic and g._data.dtype.kind == "c":
            # torch's complex gradient is g * conj(f'(x)): the real formula g * f'(x) conjugated around
            return (bw(g.conj(), x, y).conj(),)
        return (bw(g, x, y),)

    cls = node_class(node_name, backward)
    if name == "relu":
        cls._abw = _relu_abw
    direct = not isinstance(fn, np.ufunc)
    fop = _FUSABLE.get(name)
    floaty = policy == "float"
    refuses = _REFUSES.get(name)  # (exception, torch's kernel name, dtype kinds it has no kernel for)
    uint_refusal = _UINT_REFUSES.get(name)  # (torch's kernel, which has no uint16/uint32/uint64 case)
    to_long = name == "square"  # torch computes square as pow(x, 2): bool promotes to int64
    exact = _EXACT_CPU.get(name)  # (torch's kernel for float32/float64 numpy arrays; it falls back to fn)
    red = _REDUCED_CPU.get(name)  # (torch's kernel for float16/bfloat16 cpu arrays, in exact mode)

    def op(input: Tensor, *, out: Tensor | None = None) -> Tensor:  # noqa: A002
        if fop is not None and input._dev is not CPU and out is None:
            p = fusion.make(fop, input)
            if p is not None:
                return p
        try:
            d = input._data
            k = d.dtype.kind
            if k != "f":
                if k == "c":
                    if name in COMPLEX_REFUSES:
                        exc, msg = COMPLEX_REFUSES[name]
                        raise exc(msg.format(input.dtype.scalar_name()))
                elif floaty:
                    d = d.astype(DEFAULT.float.np)
                elif uint_refusal is not None and d.dtype in _UINT_SET:
                    raise _uint_refusal(uint_refusal, d)
                elif refuses is not None and k in refuses[2]:
                    exc, kernel = refuses[0], refuses[1]
                    if exc is NotImplementedError:
                        kernel = f"\"{kernel}\" not implemented for '{input.dtype.scalar_name()}'"
                    raise exc(kernel)
                elif to_long and k == "b":
                    d = d.astype(np.int64)
            if red is not None and (type(d) is BF16Array or d.dtype.char == "e") and activation_cpu.reduced_usable(d):
                r = red(d)  # (torch's float16/bfloat16 kernel, bit for bit)
            elif type(d) is _ndarray:
                r = fn(d) if exact is None else exact(d)
            elif type(d) is BF16Array:  # in float32, rounded once
                r = apply(fn, d)
            else:
                r = fn(d) if direct else for_array(fn, d)(d)
        except SparseOperand:  # a sparse operand (engine/sparse_tensor.py)
            return _sparse_unary(name, input, op, out)
        if type(r) is not _ndarray and isinstance(r, _generic):  # a numpy scalar from 0-dim operands
            r = input._dev.xp.asarray(r)
        t = wrap(r, input._dev)
        if ENABLED[0] and input._rg:
            node = cls()
            node._seq = next_seq()
            e = input.grad_fn
            node._next = (
                (e if input._accum is None else output_edge(input, e))
                if e is not None
                else input._accum or accumulator(input),
            )
            c = input._vc
            if needs_y:
                s, v = save_out(node, t)
            else:
                s, v = None, None
            if needs_x or needs_y:
                node._saved = (input if needs_x else None, s)
                node._vers = ((c, c[0]) if needs_x else None, v)
            if r.dtype is not input._data.dtype:
                node._meta = ((d.shape, input._data.dtype),)
            node._ctx = (r.shape, r.dtype)
            t._rg = True
            t.grad_fn = node
        if out is not None:
            return _out(t, out)
        return t

    op.__name__ = op.__qualname__ = name  # (print(torch.relu) names the function, not this factory)
    return op


_UNARY_FNS: dict = {}
for _row in UNARY:
    _UNARY_FNS[_row[0]] = _make_unary(_row[1], _row[2], _row[3], _row[4], _row[5], _row[0])
globals().update(_UNARY_FNS)


_ROUND_OVERLOADS = ("(Tensor input, *, Tensor out = None)", "(Tensor input, *, int decimals, Tensor out = None)")


def round(input: Tensor, *args: Any, decimals: int | None = None, out: Tensor | None = None) -> Tensor:  # noqa: A001, A002
    if args:  # (torch.round(x, 2): numpy's spelling; decimals is keyword-only)
        from engine.ops.util import invalid_combination

        kw = {"decimals": decimals} if decimals is not None else {}
        raise invalid_combination("round", args, _ROUND_OVERLOADS, False, before=("Tensor",), kwargs=kw)
    if decimals is not None and (type(decimals) is bool or not isinstance(decimals, int)):
        raise TypeError(f"round(): argument 'decimals' must be int, not {type(decimals).__name__}")
    d = input._data
    if d.dtype.kind in "bc" or (decimals is not None and d.dtype.kind != "f"):
        kernel = "round_vml_cpu" if decimals is None else "round_cpu"
        raise NotImplementedError(f"\"{kernel}\" not implemented for '{input.dtype.scalar_name()}'")
    try:
        r = np.round(d, decimals or 0) if d.dtype.kind == "f" else d.copy()
    except SparseOperand:  # a sparse operand (engine/sparse_tensor.py)
        return _sparse_unary("round" if decimals is None else "round.decimals", input, round, out)
    t = wrap_any(r, input._dev)
    if ENABLED[0] and input._rg:
        node = RoundBackward0() if decimals is None else RoundBackward1()
        node._seq = next_seq()
        node._next = (edge_of(input),)
        node._ctx = (r.shape, r.dtype)
        t._rg = True
        t.grad_fn = node
    return _out(t, out)


RoundBackward0 = node_class("RoundBackward0", lambda self, g: (zero_grad(g),))
RoundBackward1 = node_class("RoundBackward1", lambda self, g: (zero_grad(g),))  # round(decimals=...)


def positive(input: Tensor) -> Tensor:  # noqa: A002
    if input._data.dtype.kind == "b":
        raise RuntimeError("The `+` operator, on a bool tensor is not supported.")
    return input


def logical_not(input: Tensor, *, out: Tensor | None = None) -> Tensor:  # noqa: A002
    if not isinstance(input, Tensor):
        raise TypeError(f"logical_not(): argument 'input' (position 1) must be Tensor, not {type_name(input)}")
    if out is not None and not isinstance(out, Tensor):
        raise TypeError(f"logical_not(): argument 'out' must be Tensor, not {type_name(out)}")
    r = wrap(for_array(np.logical_not, input._data)(input._data), input._dev)
    return r if out is None else _out_nondiff(r, out)


def _out_nondiff(r: Tensor, out: Tensor) -> Tensor:
    """out= of an op without a derivative: torch writes into any out dtype, one that requires grad included."""
    from engine.ops.inplace import write_out

    return write_out(out, r, diff=False)


_NOARG: Any = object()  # (an omitted `other`: torch's parser names the missing argument its own way)


def _logical(fn: Any, name: str, input: Tensor, other: Any, out: Any, pos: int) -> Tensor:  # noqa: A002
    """logical_and/or/xor: both operands tensors (torch's parser takes no numbers here), a bool result."""
    if out is not None and not isinstance(out, Tensor):
        raise TypeError(f"{name}(): argument 'out' must be Tensor, not {type_name(out)}")
    if not isinstance(input, Tensor):
        raise TypeError(f"{name}(): argument 'input' (position 1) must be Tensor, not {type_name(input)}")
    if not isinstance(other, Tensor):
        if other is _NOARG:
            raise TypeError(f'{name}() missing 1 required positional arguments: "other"')
        raise TypeError(f"{name}(): argument 'other' (position {pos}) must be Tensor, not {type_name(other)}")
    a, b = input._data, other._data
    if a.shape != b.shape:
        try:
            np.broadcast_shapes(a.shape, b.shape)
        except ValueError:
            raise RuntimeError(broadcast_error(a.shape, b.shape)) from None
    r = wrap_any(for_array(fn, a)(a, b), input._dev)
    return r if out is None else _out_nondiff(r, out)


def logical_and(input: Tensor, other: Any = _NOARG, *, out: Tensor | None = None) -> Tensor:  # noqa: A002
    return _logical(np.logical_and, "logical_and", input, other, out, 2)


def logical_or(input: Tensor, other: Any = _NOARG, *, out: Tensor | None = None) -> Tensor:  # noqa: A002
    return _logical(np.logical_or, "logical_or", input, other, out, 2)


def logical_xor(input: Tensor, other: Any = _NOARG, *, out: Tensor | None = None) -> Tensor:  # noqa: A002
    return _logical(np.logical_xor, "logical_xor", input, other, out, 2)


def _logical_method(fn: Any, name: str) -> Any:
    """x.logical_and(other) (and x.logical_and_ under name + "_"): `other` is the parser's position 1, no out=."""

    def method(self: Tensor, other: Any = _NOARG) -> Tensor:
        return _logical(fn, name, self, other, None, 1)

    return named_code(method, name)


def _logical_not_method(self: Tensor) -> Tensor:
    return wrap(for_array(np.logical_not, self._data)(self._data), self._dev)


_LOGICAL = {"logical_and": np.logical_and, "logical_or": np.logical_or, "logical_xor": np.logical_xor}
# the methods, and the in-place methods' operations (ops/inplace.inplace_of stores them in x)
LOGICAL_METHODS = {**{n: _logical_method(f, n) for n, f in _LOGICAL.items()}, "logical_not": _logical_not_method}
LOGICAL_INPLACE = {**{n: _logical_method(f, n + "_") for n, f in _LOGICAL.items()}, "logical_not": _logical_not_method}


def _bitwise(fn: Any, cname: str, name: str) -> Any:
    def op(input: Tensor, other: Any) -> Any:  # noqa: A002
        if not isinstance(other, (Tensor, int, bool, float)):
            return NotImplemented
        rt = result_np(input, other)  # (torch's kernel is picked for the promoted dtype)
        if rt.kind in "fc" or (cname in ("lshift", "rshift") and (rt.kind == "b" or rt in _UINT_SET)):
            raise NotImplementedError(f"\"{cname}_cpu\" not implemented for '{from_np(rt).scalar_name()}'")
        ad, bd = prep(input, other)
        return wrap_any(for_array(fn, ad)(ad, bd), input._dev)

    return named_code(op, name)


bitwise_and = _bitwise(np.bitwise_and, "bitwise_and", "bitwise_and")
bitwise_or = _bitwise(np.bitwise_or, "bitwise_or", "bitwise_or")
bitwise_xor = _bitwise(np.bitwise_xor, "bitwise_xor", "bitwise_xor")
bitwise_left_shift = _bitwise(np.left_shift, "lshift", "bitwise_left_shift")
bitwise_right_shift = _bitwise(np.right_shift, "rshift", "bitwise_right_shift")


def bitwise_not(input: Tensor) -> Tensor:  # noqa: A002
    if input._data.dtype.kind in "fc" or input._data.dtype in _UINT_SET:
        raise NotImplementedError(f"\"bitwise_not_cpu\" not implemented for '{input.dtype.scalar_name()}'")
    return wrap_any(for_array(np.invert, input._data)(input._data), input._dev)


def isnan(input: Tensor) -> Tensor:  # noqa: A002
    try:
        return wrap_any(for_array(np.isnan, input._data)(input._data), input._dev)
    except SparseOperand:  # a sparse operand (engine/sparse_tensor.py)
        return _sparse_unary("isnan", input, isnan)


def isinf(input: Tensor) -> Tensor:  # noqa: A002
    try:
        return wrap_any(for_array(np.isinf, input._data)(input._data), input._dev)
    except SparseOperand:  # a sparse operand (engine/sparse_tensor.py)
        return _sparse_unary("isinf", input, isinf)


def isfinite(input: Tensor) -> Tensor:  # noqa: A002
    return wrap_any(for_array(np.isfinite, input._data)(input._data), input._dev)


NanToNumBackward0 = node_class("NanToNumBackward0", lambda self, g, x: (g * isfinite(x),))


def nan_to_num(input: Tensor, nan: float = 0.0, posinf: float | None = None, neginf: float | None = None) -> Tensor:  # noqa: A002
    d = input._data
    if type(d) is _ndarray and 0 in d.strides and d.size > 1:
        d = dense_copy(d)  # (an expanded input: numpy's K-order copy would put the broadcast dim fastest)
    try:
        t = wrap(np.nan_to_num(d, nan=nan, posinf=posinf, neginf=neginf), input._dev)
    except SparseOperand:  # a sparse operand (engine/sparse_tensor.py)
        return _sparse_unary("nan_to_num", input, nan_to_num, None, nan, posinf, neginf)
    if ENABLED[0] and input._rg:
        _attach(t, NanToNumBackward0, input, None, (input,), t._data)
    return t


# ---- comparisons ------------------------------------------------------------------------------
def _cmp(raw: Any, sym: str) -> Any:
    def op(input: Tensor, other: Any, *, out: Tensor | None = None) -> Tensor:  # noqa: A002
        r = raw(input, other)
        if r is NotImplemented:
            raise _bad(sym, input, other)
        return _out(r, out)

    return op


eq, ne, lt, le, gt, ge = (
    _cmp(_eq, "=="),
    _cmp(_ne, "!="),
    _cmp(_lt, "<"),
    _cmp(_le, "<="),
    _cmp(_gt, ">"),
    _cmp(_ge, ">="),
)
greater, greater_equal, less, less_equal, not_equal = gt, ge, lt, le, ne


def equal(input: Tensor, other: Tensor) -> bool:  # noqa: A002
    for name, pos, v in (("input", 1, input), ("other", 2, other)):
        if not isinstance(v, Tensor):
            raise TypeError(f"equal(): argument '{name}' (position {pos}) must be Tensor, not {type_name(v)}")
    if input._dev is not other._dev:
        raise mixed_device(input, other)
    a, b = input._data, other._data
    return a.shape == b.shape and bool((a == b).all())


def _close_check(fn: str, a: Any, b: Any, rtol: float, atol: float) -> None:
    """torch's isclose checks, in its order: tensors, one dtype (no promotion), tolerances, broadcasting."""
    a = _tensor_arg(a, fn)
    b = _other_tensor(b, fn)
    if a.dtype is not b.dtype:
        raise RuntimeError(f"{a.dtype.scalar_name()} did not match {b.dtype.scalar_name()}")
    for name, v in (("rtol", rtol), ("atol", atol)):
        if v < 0:  # C++ streams a double like %g: -1.0 prints as -1
            raise RuntimeError(f"{name} must be greater than or equal to zero, but got {v:g}")
    sa, sb = a._data.shape, b._data.shape
    if sa != sb:
        try:
            np.broadcast_shapes(sa, sb)
        except ValueError:
            raise RuntimeError(broadcast_error(sa, sb)) from None


def allclose(input: Tensor, other: Tensor, rtol: float = 1e-05, atol: float = 1e-08, equal_nan: bool = False) -> bool:  # noqa: A002
    _close_check("allclose", input, other, rtol, atol)
    return bool(np.allclose(input._data, other._data, rtol=rtol, atol=atol, equal_nan=equal_nan))


def isclose(input: Tensor, other: Tensor, rtol: float = 1e-05, atol: float = 1e-08, equal_nan: bool = False) -> Tensor:  # noqa: A002
    _close_check("isclose", input, other, rtol, atol)
    return wrap(np.isclose(input._data, other._data, rtol=rtol, atol=atol, equal_nan=equal_nan), input._dev)


# ---- out= -----------------------------------------------------------------------------------
def _out(r: Tensor, out: Tensor | None) -> Tensor:
    """torch's out=: the result is written into `out` (resized as needed) and `out` returned."""
    if out is None:
        return r
    from engine.ops.inplace import write_out

    return write_out(out, r)


# ---- lerp --------------------------------------------------------------------------------------------------
def _lerp_bw(self: Node, g: Tensor, start: Tensor, end: Tensor, weight: Any) -> tuple:
    n = self._next
    w_t = isinstance(weight, Tensor)
    return (
        g * (1 - weight) if n[0] is not None else None,
        g * weight if n[1] is not None else None,
        *((g * (end - start) if n[2] is not None else None,) if w_t else ()),
    )


LerpBackward0 = node_class("LerpBackward0", holomorphic(_lerp_bw))  # a number weight
LerpBackward1 = node_class("LerpBackward1", holomorphic(_lerp_bw))  # a tensor weight


#: the C++ type names torch's lerp prints in its dtype check (as the compiler spells them: "long int")
_CPP_NAMES = {
    "float32": "float", "float64": "double", "float16": "c10::Half", "bfloat16": "c10::BFloat16",
    "int64": "long int", "int32": "int", "int16": "short int", "int8": "signed char", "uint8": "unsigned char",
    "bool": "bool",
}  # fmt: skip


def lerp(input: Tensor, end: Tensor, weight: Any, *, out: Tensor | None = None) -> Tensor:  # noqa: A002
    """start + weight * (end - start), in torch's two forms: from start below a weight of 0.5, from end
    above (so lerp(a, b, 1) is exactly b)."""
    from engine.ops.util import record

    if weight is None:  # (torch's parser refuses it: tcli words it so)
        raise TypeError("lerp(): weight must be a Tensor or a Number, not NoneType")
    for name, t in (("end", end),) + ((("weight", weight),) if isinstance(weight, Tensor) else ()):
        if t.dtype is not input.dtype:
            raise RuntimeError(
                f"expected dtype {_CPP_NAMES.get(input.dtype.name)} for `{name}` but got dtype "
                f"{_CPP_NAMES.get(t.dtype.name)}"
            )
    if input._data.dtype.kind not in "fc":
        kind = "tensor" if isinstance(weight, Tensor) else "scalar"
        raise NotImplementedError(f"\"lerp_kernel_{kind}\" not implemented for '{input.dtype.scalar_name()}'")
    s, e = input._data, end._data
    bf = s.dtype.metadata is not None  # bfloat16: torch's float kernel on the values, rounded once
    if bf:
        s, e = plain(s), plain(e)
    xp = input._dev.xp
    w = plain(weight._data) if isinstance(weight, Tensor) else s.dtype.type(weight)
    try:
        np.broadcast_shapes(s.shape, e.shape, np.shape(w))
    except ValueError:
        raise RuntimeError(broadcast_error(s.shape, e.shape, np.shape(w))) from None
    diff = e - s
    if s.dtype in _FMA_EXACT:  # torch's cpu kernel: fma(w, diff, start) below 0.5, fma(w - 1, diff, end) above
        wa = xp.asarray(w, dtype=s.dtype)
        r = xp.where(xp.abs(wa) < 0.5, fma(diff, wa, s), fma(diff, wa - 1, e))
    elif s.dtype.char == "e":  # float16: the same fused multiply-adds, emulated in double
        s64, e64, d64 = s.astype(np.float64), e.astype(np.float64), diff.astype(np.float64)
        w64, omw = xp.asarray(w).astype(np.float64), (1 - xp.asarray(w, dtype=s.dtype)).astype(np.float64)
        r = xp.where(xp.abs(w64) < 0.5, s64 + w64 * d64, e64 - omw * d64)
    else:
        r = xp.where(xp.abs(w) < 0.5, s + w * diff, e - diff * (1 - w))
    if r.shape != xp.broadcast_shapes(s.shape, e.shape, np.shape(w)):
        r = xp.broadcast_to(r, xp.broadcast_shapes(s.shape, e.shape, np.shape(w))).copy()
    r = r.astype(s.dtype, copy=False) if not bf else to_bf16(r, xp)
    w_t = isinstance(weight, Tensor)
    cls = LerpBackward1 if w_t else LerpBackward0
    inputs = (input, end, weight) if w_t else (input, end)
    saved = (input, end, weight)
    # what torch saves: the weight alone for a number weight; start and end only for a tensor weight's gradient
    w_rg = w_t and weight._rg
    vers = (
        (input._vc, input._vc[0]) if w_rg else None,
        (end._vc, end._vc[0]) if w_rg else None,
        (weight._vc, weight._vc[0]) if w_t and (input._rg or end._rg) else None,
    )
    t = record(cls, r, input._dev, inputs, saved, vers)
    if t.grad_fn is not None:
        t.grad_fn._meta = tuple((i._data.shape, i._data.dtype) for i in inputs)
    return _out(t, out)
