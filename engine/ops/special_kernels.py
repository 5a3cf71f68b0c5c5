"""What the Bessel, Airy, zeta and orthogonal-polynomial functions of torch.special share: Cephes' polynomial
evaluations in torch's loop shapes, an elementwise loop that runs each element until its own stopping test, and
the torch-facing wrappers (argument checks, dtype promotion, out=) for one-tensor and (tensor, number)
functions. Those kernels have no derivative in torch, so their results never require grad (zeta, which has
one for its second argument, records its own node)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from engine.dtypes import DEFAULT
from engine.ops import elementwise as E
from engine.ops.fma import fma, xp_of
from engine.ops.util import result_np, same_device
from engine.tensor import Tensor, wrap


def mad(a: Any, b: Any, c: Any) -> Any:
    """a * b + c rounded once, as the compiler of torch's kernels contracts a product whose only use is an
    addition (it builds them with FMA instructions); b and c may be numbers of a's dtype."""
    xp = xp_of(a)
    if not hasattr(b, "shape") or type(b) is not type(a):  # (a number: an array of a's module, for cupy)
        b = xp.asarray(b, dtype=a.dtype)
    if not hasattr(c, "shape") or c.shape != a.shape:
        c = xp.broadcast_to(xp.asarray(c, dtype=a.dtype), a.shape)
    c = c.astype(a.dtype, copy=True)
    plain = a * b + c
    if a.dtype == np.float64 and bool((xp.abs(a) > _HUGE).any() | (xp.abs(b) > _HUGE).any()):
        # (the emulation splits its factors, which overflows near the top of the range: scale by powers of 2)
        sa = xp.where(xp.abs(a) > _HUGE, 128, 0)
        sb = xp.where(xp.abs(b) > _HUGE, 128, 0)
        r = xp.ldexp(fma(xp.ldexp(a, -sa), xp.ldexp(b, -sb), xp.ldexp(c, -(sa + sb))), sa + sb)
    else:
        r = fma(a, b, c)
    # an infinite or nan addend to a finite product is the result (the product is never rounded to inf);
    # infinite or nan factors, and a product past the range, give what the plain expression gives, and so
    # does an exact 0 (the product is exact then: the plain sum has the signed zero the emulation loses)
    finite_ab = xp.isfinite(a) & xp.isfinite(b)
    finite_c = xp.isfinite(c)
    fused = finite_ab & finite_c & ~xp.isnan(r) & (r != 0)
    return xp.where(fused, r, xp.where(finite_ab & ~finite_c, c, plain))


_HUGE = 2.0**900


def horner(z: Any, coefs: tuple) -> Any:
    """c[0] z^n + ... + c[n], from r = 0 as torch's loops run (fma(r, z, c) each step), in z's dtype."""
    ft = z.dtype.type
    r = xp_of(z).zeros_like(z)
    for c in coefs:
        r = mad(r, z, ft(c))
    return r


def cheb_loop(y: Any, coefs: tuple) -> tuple:
    """Cephes' Chebyshev recurrence as torch writes it inline: (a, p) after a = y * q - p + c[i] (the
    product fused with the subtraction), with p and q the two previous values; the caller takes
    0.5 * (a - p)."""
    ft, xp = y.dtype.type, xp_of(y)
    p = q = xp.zeros_like(y)
    a = xp.full_like(y, ft(coefs[0]))
    for c in coefs[1:]:
        p, q = q, a
        a = mad(y, q, -p) + ft(c)
    return a, p


def pieces(x: Any, parts: list) -> Any:
    """A piecewise function: for each (mask, fn), fn of the elements of x in mask (a 1-d array of them, so each
    branch costs only its own elements); masks are disjoint, elements in none are nan."""
    xp = xp_of(x)
    out = xp.full(x.shape, np.nan, dtype=x.dtype)
    flat, res = x.ravel(), out.ravel()
    for mask, fn in parts:
        idx = xp.flatnonzero(mask)
        if idx.size:
            res[idx] = fn(flat[idx])
    return out


def series_until(state: dict, step: Callable[[dict], tuple], active: Any) -> dict:
    """Run step (state -> (new state, go on)) for the elements in `active` until each element's own test
    says stop, at least once each (a do-while, as torch's loops are); the others keep their values."""
    xp = xp_of(active)
    active = active.copy()
    while bool(active.any()):
        new, go = step(state)
        for k, v in new.items():
            state[k] = xp.where(active, v, state[k])
        active = active & go
    return state


def _half_refused(name: str, dt: Any) -> None:
    if dt == np.float16:
        raise NotImplementedError(f"\"{name}_cpu\" not implemented for 'Half'")


def special_unary(name: str, kernel: Callable[[Any], Any], arg: str = "input") -> Callable:
    """torch.special.<name>(input, *, out=None): integer and bool inputs computed in the default float dtype.
    arg: the argument's name in torch's signature (its errors quote it)."""

    def op(input: Tensor, *, out: Tensor | None = None) -> Tensor:  # noqa: A002
        E._tensor_arg(input, "special_" + name, arg)
        d = input._data
        if d.dtype.kind != "f":
            d = d.astype(DEFAULT.float.np)
        _half_refused(name, d.dtype)
        with np.errstate(all="ignore"):
            r = kernel(input._dev.xp.asarray(d))
        return written(wrap(input._dev.xp.asarray(r, dtype=d.dtype), input._dev), out)

    op.__name__ = op.__qualname__ = name
    return op


def written(r: Tensor, out: Tensor | None) -> Tensor:
    """r, or r written into out= (which may require grad: these functions have no derivative)."""
    if out is None:
        return r
    from engine.ops.inplace import write_out

    return write_out(out, r, diff=False)


def binary_signature(fn: str, names: tuple) -> Callable[[Any, Any], TypeError]:
    """torch's parser error for a binary special function called with two numbers or a non-number."""
    a, b = names
    text = (
        f"{fn}() received an invalid combination of arguments - got ({{}}, {{}}), but expected one of:\n"
        f" * (Tensor {a}, Tensor {b}, *, Tensor out = None)\n"
        f" * (Number {'self' if a == 'input' else a}, Tensor {b}, *, Tensor out = None)\n"
        f" * (Tensor {a}, Number {b}, *, Tensor out = None)\n"
    )
    return lambda x, y: TypeError(text.format(E._tn(x), E._tn(y)))


def binary_arrays(fn: str, name: str, x: Any, y: Any, bad: Callable[[Any, Any], TypeError]) -> tuple:
    """The two operands as arrays of their result dtype (torch's promotion, integers to the default float),
    broadcast together, and the device: torch's checks in its order."""
    xt, yt = isinstance(x, Tensor), isinstance(y, Tensor)
    numbers = (int, float, bool)
    if not (xt or isinstance(x, numbers)) or not (yt or isinstance(y, numbers)) or not (xt or yt):
        raise bad(x, y)
    dev = same_device([t for t in (x, y) if isinstance(t, Tensor)])
    dt = np.dtype(result_np(x, y))
    if dt.kind != "f":
        dt = DEFAULT.float.np
    _half_refused(name, dt)
    xp = dev.xp
    a = x._data.astype(dt) if xt else xp.asarray(x, dtype=dt)
    b = y._data.astype(dt) if yt else xp.asarray(y, dtype=dt)
    try:
        shape = np.broadcast_shapes(a.shape, b.shape)
    except ValueError:
        raise RuntimeError(E.broadcast_error(a.shape, b.shape)) from None
    return xp.broadcast_to(a, shape), xp.broadcast_to(b, shape), dev
