"""Complex-number primitives: view_as_real/view_as_complex (views that share memory), real/imag (views through
view_as_real, as torch builds them), complex, polar, conj, angle; each with torch's backward under its
convention (the gradient is the conjugate Wirtinger derivative, so a real input's gradient is a real part)."""

from __future__ import annotations

import builtins
from typing import Any

from engine.autograd import next_seq
from engine.dtypes import DEFAULT, FROM_NP
from engine.ops.shape import _record
from engine.ops.util import node_class
from engine.tensor import Tensor, view_of, wrap

_CONJ_VIEW = (
    "view_as_real doesn't work on unresolved conjugated tensors.  To resolve the conjugate tensor so you can view "
    "it as real, use self.resolve_conj(); however, be warned that the resulting tensor will NOT alias the original."
)


def cj(v: Any) -> Any:
    """The conjugate of a tensor or a number in a backward formula; real values pass through untouched."""
    if isinstance(v, Tensor):
        return v.conj() if v._data.dtype.kind == "c" else v
    return v.conjugate() if type(v) is builtins.complex else v  # (this module's `complex` is torch.complex)


def is_complex(input: Tensor) -> bool:  # noqa: A002
    return input._data.dtype.kind == "c"


def isreal(input: Tensor) -> Tensor:  # noqa: A002
    """Where the imaginary part is zero (everywhere, for a real tensor)."""
    d = input._data
    xp = input._dev.xp
    return wrap(d.imag == 0 if d.dtype.kind == "c" else xp.ones(d.shape, dtype=bool), input._dev)


def is_conj(input: Tensor) -> bool:  # noqa: A002
    meta = input._meta
    return bool(meta and meta.get("conj"))


# ---- view_as_real / view_as_complex ----------------------------------------------------------------
ViewAsRealBackward0 = node_class("ViewAsRealBackward0", lambda self, g: (view_as_complex(g.contiguous()),))
ViewAsComplexBackward0 = node_class("ViewAsComplexBackward0", lambda self, g: (view_as_real(g.resolve_conj()),))


def view_as_real(input: Tensor) -> Tensor:  # noqa: A002
    d = input._data
    if d.dtype.kind != "c":
        raise RuntimeError("view_as_real is only supported for complex tensors")
    if is_conj(input):
        raise RuntimeError(_CONJ_VIEW)
    r = d[..., None].view(d.real.dtype)  # the last axis of one complex becomes two reals, in place
    return _record(view_of(r, input), ViewAsRealBackward0, input, ())


def view_as_complex(input: Tensor) -> Tensor:  # noqa: A002
    d = input._data
    if d.dtype.kind != "f" or d.dtype.char == "e":
        name = FROM_NP[d.dtype].scalar_name()
        raise RuntimeError(
            f"view_as_complex is only supported for half, float and double tensors, but got a tensor of scalar type: "
            f"{name}"
        )
    if not d.ndim or d.shape[-1] != 2:
        raise RuntimeError("Tensor must have a last dimension of size 2")
    if d.strides[-1] != d.itemsize:
        raise RuntimeError("Tensor must have a last dimension with stride 1")
    if any(s % (2 * d.itemsize) for s in d.strides[:-1]):
        raise RuntimeError("Tensor must have a stride divisible by 2 for all but last dimension")
    r = d.view(FROM_NP[d.dtype].to_complex().np)[..., 0]
    return _record(view_of(r, input), ViewAsComplexBackward0, input, ())


def real(input: Tensor) -> Tensor:  # noqa: A002
    if input._data.dtype.kind != "c":
        return input
    return view_as_real(input.resolve_conj()).select(-1, 0)


def imag(input: Tensor) -> Tensor:  # noqa: A002
    if input._data.dtype.kind != "c":
        raise RuntimeError("imag is not implemented for tensors with non-complex dtypes.")
    return view_as_real(input.resolve_conj()).select(-1, 1)


# ---- complex / polar -------------------------------------------------------------------------------------
def _pair_check(a: Tensor, b: Tensor) -> None:
    da, db = a._data.dtype, b._data.dtype
    if da.kind != "f" or db.kind != "f":
        an, bn = FROM_NP[da].scalar_name(), FROM_NP[db].scalar_name()
        raise RuntimeError(f"Expected both inputs to be Half, Float or Double tensors but got {an} and {bn}")
    if da != db:
        an, bn = FROM_NP[da].scalar_name(), FROM_NP[db].scalar_name()
        raise RuntimeError(f"Expected object of scalar type {an} but got scalar type {bn} for second argument")


def _complex_bw(self: Any, g: Tensor) -> tuple:
    n = self._next
    return (g.real if n[0] is not None else None, g.imag if n[1] is not None else None)


def _polar_bw(self: Any, g: Tensor, r: Tensor, y: Tensor) -> tuple:
    # y = r e^{i theta}: d/dr = e^{i theta} = y / r, d/dtheta = i y; each input's gradient is Re(g * conj(d))
    n = self._next
    unit = wrap(y._data / _nonzero(r._data), y._dev)
    gr = (g * unit.conj()).real if n[0] is not None else None
    gt = (g * (y * 1j).conj()).real if n[1] is not None else None
    return gr, gt


def _nonzero(a: Any) -> Any:
    """|a| with zeros as ones (the direction of a zero-length polar vector is its angle's)."""
    return a + (a == 0)


ComplexBackward0 = node_class("ComplexBackward0", _complex_bw)
PolarBackward0 = node_class("PolarBackward0", _polar_bw)


def _attach2(t: Tensor, cls: type, a: Tensor, b: Tensor, saved: tuple) -> Tensor:
    from engine.grad_mode import ENABLED
    from engine.ops.util import edge_of

    if ENABLED[0] and (a._rg or b._rg):
        node = cls()
        node._seq = next_seq()
        node._next = (edge_of(a), edge_of(b))
        node._saved = saved
        node._vers = (None,) * len(saved)
        shape = t._data.shape
        if a._data.shape != shape or b._data.shape != shape:  # broadcast: autograd sums the gradients back
            node._meta = tuple(None if x._data.shape == shape else (x._data.shape, x._data.dtype) for x in (a, b))
        node._ctx = (shape, t._data.dtype)
        t._rg = True
        t.grad_fn = node
    return t


def _pack(xp: Any, re: Any, im: Any) -> Any:
    """A complex array from its two parts, written side by side (-0.0, inf and nan kept as they are)."""
    re, im = xp.broadcast_arrays(re, im)
    pairs = xp.empty((*re.shape, 2), dtype=re.dtype)
    pairs[..., 0] = re
    pairs[..., 1] = im
    return pairs.view(FROM_NP[re.dtype].to_complex().np)[..., 0]


def complex(real: Tensor, imag: Tensor) -> Tensor:  # noqa: A001
    _pair_check(real, imag)
    out = _pack(real._dev.xp, real._data, imag._data)
    return _attach2(wrap(out, real._dev), ComplexBackward0, real, imag, ())


def polar(abs: Tensor, angle: Tensor) -> Tensor:  # noqa: A002
    _pair_check(abs, angle)
    xp = abs._dev.xp
    r, th = abs._data, angle._data
    t = wrap(_pack(xp, r * xp.cos(th), r * xp.sin(th)), abs._dev)
    return _attach2(t, PolarBackward0, abs, angle, (abs.detach(), t.detach()))


# ---- conj / angle ----------------------------------------------------------------------------------------
ConjBackward0 = node_class("ConjBackward0", lambda self, g: (g.conj(),))
ConjPhysicalBackward0 = node_class("ConjPhysicalBackward0", lambda self, g: (g.conj_physical(),))


def conj(input: Tensor) -> Tensor:  # noqa: A002
    """torch's lazy conjugate is a view with the conjugate bit set; here the values are conjugated at once and the
    bit is kept as a mark (is_conj, resolve_conj and view_as_real read it)."""
    d = input._data
    if d.dtype.kind != "c":
        return input
    t = wrap(d.conj(), input._dev)
    t._meta = None if is_conj(input) else {"conj": True}
    return _record(t, ConjBackward0, input, ())


def conj_physical(input: Tensor) -> Tensor:  # noqa: A002
    d = input._data
    if d.dtype.kind != "c":
        return input.clone()
    return _record(wrap(d.conj(), input._dev), ConjPhysicalBackward0, input, ())


def resolve_conj(input: Tensor) -> Tensor:  # noqa: A002
    return input.clone() if is_conj(input) else input


def _angle_bw(self: Any, g: Tensor, x: Tensor) -> tuple:
    from engine.ops.elementwise import where, zero_grad

    if x._data.dtype.kind != "c":
        return (zero_grad(g),)
    return (where(x == 0, 0.0, g * x / (x.abs() ** 2) * 1j),)


AngleBackward0 = node_class("AngleBackward0", _angle_bw)


def angle(input: Tensor) -> Tensor:  # noqa: A002
    d = input._data
    xp = input._dev.xp
    if d.dtype.kind == "c":
        r = xp.angle(d)
    else:
        if d.dtype.kind != "f":
            d = d.astype(DEFAULT.float.np)
        # torch's real angle: pi for negatives, nan kept, 0 otherwise
        r = xp.where(d < 0, d.dtype.type(3.141592653589793), xp.where(d != d, d, d.dtype.type(0)))
    return _record(wrap(xp.asarray(r), input._dev), AngleBackward0, input, (input.detach(),))


def sgn_backward(g: Tensor, x: Tensor, y: Tensor) -> Tensor:
    """torch's sgn_backward: the part of g across the unit circle at x, over |x|; 0 at 0."""
    from engine.ops.elementwise import where

    a = x.abs()
    return where(a == 0, 0.0, (g - y * (g * y.conj()).real) / a)
