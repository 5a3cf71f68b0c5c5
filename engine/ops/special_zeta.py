"""torch.special.zeta(x, q): the Hurwitz zeta function, a port of torch's kernel (aten's Math.h zeta, from
Cephes): inf at x = 1 and at the poles q = 0, -1, ...; nan for x < 1 and for a non-integer x at a negative q;
otherwise the direct sum of (q + i)^-x until its terms are negligible or past i = 9 and q + i > 9, then the
Euler-Maclaurin tail, each element stopping where torch's loops stop. torch accumulates in double for float32
too, from a first term computed in the input's precision (powf), and calls the C library's pow.

Its derivative: torch has one for q only (-x zeta(x + 1, q)); asking for x's raises NotImplementedError."""

from __future__ import annotations

from typing import Any

import numpy as np

from engine.grad_mode import ENABLED
from engine.ops.fma import xp_of
from engine.ops.inplace import write_out
from engine.ops.libm import c_pow
from engine.ops.special_kernels import binary_arrays, binary_signature
from engine.ops.util import node_class, record, saved
from engine.tensor import Tensor

_MACHEP = 1.11022302462515654042e-16
_A = (12.0, -720.0, 30240.0, -1209600.0, 47900160.0, -1.8924375803183791606e9, 7.47242496e10,
      -2.950130727918164224e12, 1.1646782814350067249e14, -4.5979787224074726105e15, 1.8152105401943546773e17,
      -7.1661652561756670113e18)  # fmt: skip


def _zeta(x: Any, q: Any) -> Any:
    xp = xp_of(x)
    xd, qd = x.astype(np.float64), q.astype(np.float64)
    with np.errstate(all="ignore"):
        s = c_pow(q, -x).astype(np.float64)
        pole = (q <= 0) & (q == xp.floor(q))
        special = (x == 1) | (x < 1) | pole | ((q <= 0) & (x != xp.floor(x)))
        out = xp.zeros(x.shape, dtype=np.float64)
        active = ~special
        # the direct sum: at least 9 terms, and on while q + i <= 9, until a term is below MACHEP * s
        a, b, i = qd.copy(), xp.zeros_like(qd), 0
        tail = xp.zeros(x.shape, dtype=bool)
        while bool(active.any()):
            i += 1
            a = xp.where(active, a + 1.0, a)
            b = xp.where(active, c_pow(a, -xd), b)
            s = xp.where(active, s + b, s)
            converged = active & (-_MACHEP * s < b) & (b < _MACHEP * s)
            out = xp.where(converged, s, out)
            active = active & ~converged
            if i >= 9:
                tail = tail | (active & ~(a <= 9.0))
                active = active & (a <= 9.0)
        # the Euler-Maclaurin tail
        w = a
        s = s + b * w / (xd - 1.0)
        s = s - 0.5 * b
        fac, k = xp.ones_like(xd), 0.0
        for coef in _A:
            fac = fac * (xd + k)
            b = b / w
            t = fac * b / coef
            s = s + t
            converged = tail & (xp.abs(t / s) < _MACHEP)
            out = xp.where(converged, s, out)
            tail = tail & ~converged
            k += 1.0
            fac = fac * (xd + k)
            b = b / w
            k += 1.0
        out = xp.where(tail, s, out)
    out = xp.where((q <= 0) & (x != xp.floor(x)), np.nan, out)
    out = xp.where(pole, np.inf, out)
    out = xp.where(x < 1, np.nan, out)
    out = xp.where(x == 1, np.inf, out)
    return out.astype(x.dtype)


def _refuse_x() -> NotImplementedError:
    return NotImplementedError("the derivative for 'zeta' is not implemented.")


def _bw_tensors(self: Any, g: Tensor, x: Tensor, q: Tensor) -> tuple:
    if self._next[0] is not None:
        raise _refuse_x()
    return None, g * -x * zeta(x + 1.0, q)


def _bw_number_x(self: Any, g: Tensor, x: float, q: Tensor) -> tuple:
    return (g * -x * zeta(x + 1.0, q),)


def _bw_number_q(self: Any, g: Tensor, x: Tensor, q: float) -> tuple:
    raise _refuse_x()


# (torch's nodes for the number overloads have one edge, the tensor's)
_NODES = (
    node_class("SpecialZetaBackward0", _bw_tensors),
    node_class("SpecialZetaBackward1", _bw_number_x),
    node_class("SpecialZetaBackward2", _bw_number_q),
)
_BAD = binary_signature("special_zeta", ("input", "other"))


def zeta(input: Any, other: Any, *, out: Tensor | None = None) -> Tensor:  # noqa: A002
    """The Hurwitz zeta function of x = input at q = other (either may be a number)."""
    a, b, dev = binary_arrays("special_zeta", "zeta", input, other, _BAD)
    r = _zeta(dev.xp.ascontiguousarray(a), dev.xp.ascontiguousarray(b))
    tensors = tuple(v for v in (input, other) if isinstance(v, Tensor))
    node = _NODES[0] if len(tensors) == 2 else _NODES[2] if isinstance(input, Tensor) else _NODES[1]
    t = record(node, r, dev, tensors, (input, other), saved(input, other))
    if t.grad_fn is not None:  # (gradients of broadcast or promoted operands are summed and cast back)
        t.grad_fn._meta = tuple((v._data.shape, v._data.dtype) for v in tensors)
    if out is None:
        return t
    if ENABLED[0] and (out._rg or t._rg):  # (torch names the function, not the node)
        raise RuntimeError(
            "special_zeta(): functions with out=... arguments don't support automatic differentiation, but one of "
            "the arguments requires grad."
        )
    return write_out(out, t, diff=False)


FUNCTIONS = {"zeta": zeta}
