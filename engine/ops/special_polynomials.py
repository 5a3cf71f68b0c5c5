"""torch.special's orthogonal polynomials of degree n at x: chebyshev_polynomial_t/u/v/w, their shifted_
forms, hermite_polynomial_h/he, laguerre_polynomial_l and legendre_polynomial_p.

Ports of torch's kernels (aten/src/ATen/native/Math.h): the special values it returns first (negative n, the
interval's end points), the closed trigonometric forms it switches to for large n inside the interval, and
otherwise its three-term recurrence, run for each element until its own degree or until its value turns nan,
with the products the compiler of torch's kernels fuses into the additions after them fused here too
(special_kernels.mad). n comes in as the result dtype and is truncated to an integer as torch's
static_cast<int64_t> truncates it (nan, inf and out-of-range values become the most negative integer; hermite's
n of nan or inf is -1). Where torch's recurrence never runs (x nan) its result is an uninitialised register;
nan is returned there."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from engine.ops.fma import xp_of
from engine.ops.libm import c_math
from engine.ops.special_kernels import binary_arrays, binary_signature, mad, written
from engine.tensor import Tensor, wrap

_INT64_MIN = np.iinfo(np.int64).min


def _degree(n: Any, hermite: bool) -> Any:
    xp = xp_of(n)
    finite = xp.isfinite(n)
    ok = finite & (xp.abs(n) < 2.0**63)
    d = xp.where(ok, xp.where(ok, n, 0).astype(np.int64), _INT64_MIN)
    return xp.where(finite, d, -1) if hermite else d


def _recurrence(x: Any, n: Any, p0: Any, q0: Any, first_k: int, last: Callable[[Any, Any], Any],
                step: Callable[[Any, Any, Any, Any], Any], nan_stops: bool, run: Any) -> Any:  # fmt: skip
    """r after torch's loop `for k = first_k; last(k, n); k++` of r = step(k, x, p, q); p, q = q, r (stopping
    early where q is nan, if nan_stops), for the elements in `run`; nan elsewhere."""
    xp = xp_of(x)
    ft = x.dtype.type
    out = xp.full(x.shape, ft(np.nan))
    idx = xp.flatnonzero(run & (~xp.isnan(q0) if nan_stops else True))
    xs, ns, p, q = x.ravel()[idx], n.ravel()[idx], p0.ravel()[idx], q0.ravel()[idx]
    k = first_k
    while idx.size:
        r = step(ft(k), xs, p, q)
        p, q = q, r
        out.ravel()[idx] = r
        k += 1
        keep = last(k, ns)
        if nan_stops:
            keep = keep & ~xp.isnan(q)
        if not bool(keep.all()):
            idx, xs, ns, p, q = idx[keep], xs[keep], ns[keep], p[keep], q[keep]
    return out


def _select(x: Any, cases: list, otherwise: Any) -> Any:
    """torch's chain of early returns: the first case whose condition holds gives the value."""
    xp = xp_of(x)
    r = otherwise
    for cond, value in reversed(cases):
        r = xp.where(cond, value, r)
    return r.astype(x.dtype, copy=False)


def _int(n: Any, ft: Any) -> Any:
    """An integer torch computes in int64 (n + 1, n + n + 1), converted to the float type as C converts it."""
    return n.astype(ft)


# ---- Chebyshev polynomials of the four kinds, plain and shifted ------------------------------------------------
def _chebyshev(kind: str, shifted: bool) -> Callable[[Any, Any], Any]:
    """T, U, V or W at x (or at 2x - 1, shifted): the same recurrence r = 2y q - p from the kind's first two
    values, a closed form in acos(y) for large n with |y| < 1."""

    def kernel(x: Any, n_: Any) -> Any:
        xp, ft = xp_of(x), x.dtype.type
        n = _degree(n_, False)
        one = ft(1.0)
        y = x + x - one if shifted else x
        nf = _int(n, ft)
        even = n % 2 == 0
        with np.errstate(all="ignore"):
            q1 = {"t": y, "u": y + y, "v": y + y - one, "w": y + y + one}[kind]
            acos = c_math("acos", y)
            closed = _closed_form(kind, shifted, y, nf, n, acos, even, ft)
        cut = {"t": 6, "u": 6 if shifted else 8, "v": 6 if shifted else 8, "w": 4 if shifted else 8}[kind]
        ends = _ends(kind, shifted, x, n, even, ft)
        closed_cond = (n > cut) & (xp.abs(y) < one)
        run = n >= 2
        for cond, _ in ends:
            run = run & ~cond
        rec = _recurrence(y, n, xp.ones_like(y), q1, 2, lambda k, m: k <= m,
                          lambda k, y_, p, q: mad(y_ + y_, q, -p), True, run & ~closed_cond)  # fmt: skip
        return _select(x, [(n < 0, ft(0.0)), *ends, (closed_cond, closed), (n == 0, one), (n == 1, q1)], rec)

    return kernel


def _ends(kind: str, shifted: bool, x: Any, n: Any, even: Any, ft: Any) -> list:
    """The values torch returns at the interval's ends (|x| = 1, or x = 1 and x = 0 shifted)."""
    xp = xp_of(x)
    one = ft(1.0)
    sign = xp.where(even, one, -one)
    n1, n21 = _int(n + 1, ft), _int(n + n + 1, ft)
    if shifted:
        top, bottom = x == one, x == ft(0.0)
        values = {"t": (one, sign), "u": (n1, sign * n1), "v": (one, sign * n21), "w": (n21, sign)}[kind]
        return [(top, values[0]), (bottom, values[1])]
    end = xp.abs(x) == one
    pos = x > ft(0.0)
    if kind in ("t", "u"):
        v = one if kind == "t" else n1
        return [(end & (pos | even), v), (end, -v)]
    if kind == "v":
        return [(end & pos, one), (end, sign * n21)]
    return [(end & pos, n21), (end, sign)]


def _closed_form(kind: str, shifted: bool, y: Any, nf: Any, n: Any, acos: Any, even: Any, ft: Any) -> Any:
    xp = xp_of(y)
    half, one = ft(0.5), ft(1.0)
    sign = xp.where(even, one, -one)
    if kind == "t":
        return c_math("cos", nf * acos)
    if kind == "u":
        s = c_math("sin", acos)
        n1 = _int(n + 1, ft)
        regular = c_math("sin", n1 * acos) / s
        return xp.where(s != ft(0.0), regular, n1 * c_math("cos", n1 * acos) / y)
    a2 = acos / ft(2.0)
    if kind == "v":
        regular = c_math("cos", (nf + half) * acos) / c_math("cos", a2)
        return xp.where(c_math("sin", a2) != one, regular, sign * _int(n + n + 1, ft))
    regular = c_math("sin", (nf + half) * acos) / c_math("sin", a2)
    edge = sign if shifted else xp.where(y > ft(0.0), _int(n + n + 1, ft), sign)
    return xp.where(c_math("cos", a2) != one, regular, edge)


# ---- Hermite, Laguerre and Legendre ------------------------------------------------------------------------------
def _hermite(physicists: bool) -> Callable[[Any, Any], Any]:
    """H (physicists') or He (probabilists'): nan past degree 128 in float32, 512 in float64."""

    def kernel(x: Any, n_: Any) -> Any:
        xp, ft = xp_of(x), x.dtype.type
        n = _degree(n_, physicists)
        limit = 128 if x.dtype == np.float32 else 512
        q1 = x + x if physicists else x
        run = (n >= 2) & (n <= limit)
        if physicists:  # for k = 2; k < n + n; k += 2: r = 2x q - k p
            rec = _recurrence(x, n, xp.ones_like(x), q1, 1, lambda k, m: k < m,
                              lambda k, x_, p, q: mad(x_ + x_, q, -((k + k) * p)), False, run)  # fmt: skip
        else:  # for k = 1; k < n; k++: r = x q - k p
            rec = _recurrence(x, n, xp.ones_like(x), q1, 1, lambda k, m: k < m,
                              lambda k, x_, p, q: mad(x_, q, -(k * p)), False, run)  # fmt: skip
        return _select(x, [(n < 0, ft(0.0)), (n == 0, ft(1.0)), (n == 1, q1), (n > limit, ft(np.nan))], rec)

    return kernel


def _laguerre(x: Any, n_: Any) -> Any:
    xp, ft = xp_of(x), x.dtype.type
    n = _degree(n_, False)
    one = ft(1.0)
    q1 = one - x

    def step(k: Any, x_: Any, p: Any, q: Any) -> Any:  # r = ((2k + (1 - x)) q - k p) / (k + 1)
        return mad(k + k + (one - x_), q, -(k * p)) / (k + one)

    rec = _recurrence(x, n, xp.ones_like(x), q1, 1, lambda k, m: k < m, step, True, (n >= 2) & (x != ft(0.0)))
    return _select(x, [(n < 0, ft(0.0)), (xp.abs(x) == ft(0.0), one), (n == 0, one), (n == 1, q1)], rec)


def _legendre(x: Any, n_: Any) -> Any:
    xp, ft = xp_of(x), x.dtype.type
    n = _degree(n_, False)
    one = ft(1.0)
    end = xp.abs(x) == one
    odd_neg = (x < ft(0.0)) & (n % 2 != 0)

    def step(k: Any, x_: Any, p: Any, q: Any) -> Any:  # r = ((2k + 1) x q - k p) / (k + 1)
        return mad((k + k + one) * x_, q, -(k * p)) / (k + one)

    rec = _recurrence(x, n, xp.ones_like(x), x, 1, lambda k, m: k < m, step, True, (n >= 2) & ~end)
    return _select(x, [(n < 0, ft(0.0)), (end, xp.where(odd_neg, -one, one)), (n == 0, one), (n == 1, x)], rec)


def _polynomial(name: str, kernel: Callable[[Any, Any], Any]) -> Callable:
    bad = binary_signature("special_" + name, ("x", "n"))

    def op(x: Any, n: Any, *, out: Tensor | None = None) -> Tensor:
        a, b, dev = binary_arrays("special_" + name, name, x, n, bad)
        with np.errstate(all="ignore"):
            r = kernel(dev.xp.ascontiguousarray(a), dev.xp.ascontiguousarray(b))
        return written(wrap(dev.xp.asarray(r, dtype=a.dtype), dev), out)

    op.__name__ = op.__qualname__ = name
    return op


_KERNELS = {
    **{f"chebyshev_polynomial_{k}": _chebyshev(k, False) for k in "tuvw"},
    **{f"shifted_chebyshev_polynomial_{k}": _chebyshev(k, True) for k in "tuvw"},
    "hermite_polynomial_h": _hermite(True),
    "hermite_polynomial_he": _hermite(False),
    "laguerre_polynomial_l": _laguerre,
    "legendre_polynomial_p": _legendre,
}
FUNCTIONS = {name: _polynomial(name, kernel) for name, kernel in _KERNELS.items()}
