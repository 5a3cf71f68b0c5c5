"""torch's regularized incomplete gamma functions: special.gammainc / torch.igamma (P(a, x), the lower one) and
special.gammaincc / torch.igammac (Q(a, x) = 1 - P), which Gamma, Chi2 and InverseGamma's cdf use.

Computed in float64 on the host (no scipy): the power series of P where x < a + 1, Lentz's continued fraction
of Q elsewhere, with torch's values at the edges (a = 0, x = 0, infinities, negatives and nan); results round
to the operands' floating dtype. torch's kernels (aten's Math.h, calc_igamma) switch to asymptotic series for
large a, so values can differ from torch's in the last bits. The derivative is torch's: in x, exp((a - 1)
log x - x - lgamma(a)) (negated for Q); in a, torch has none: a backward pass reaching an a that requires grad
raises torch's error (torch skips it where autograd.grad asks only for x's)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from engine.backend import host
from engine.ops.util import node_class, record, result_np, same_device, track_meta
from engine.tensor import Tensor

_EPS = np.finfo(np.float64).eps
_TINY = 1e-300
_MAX_STEPS = 20000
_lgamma = np.frompyfunc(math.lgamma, 1, 1)


def _log_prefactor(a: np.ndarray, x: np.ndarray) -> np.ndarray:
    return a * np.log(x) - x - _lgamma(a).astype(np.float64)


def _lower_series(a: np.ndarray, x: np.ndarray) -> np.ndarray:
    """P(a, x) by its power series (x < a + 1)."""
    term = 1.0 / a
    total = term.copy()
    live = np.ones(a.shape, dtype=bool)
    n = 0
    while live.any() and n < _MAX_STEPS:
        n += 1
        term[live] *= x[live] / (a[live] + n)
        total[live] += term[live]
        live &= np.abs(term) > np.abs(total) * _EPS
    return total * np.exp(_log_prefactor(a, x))


def _upper_fraction(a: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Q(a, x) by its continued fraction, evaluated with Lentz's method (x >= a + 1)."""
    b = x + 1.0 - a
    c = np.full(a.shape, 1.0 / _TINY)
    d = 1.0 / b
    h = d.copy()
    live = np.ones(a.shape, dtype=bool)
    i = 0
    while live.any() and i < _MAX_STEPS:
        i += 1
        an = -i * (i - a)
        b = b + 2.0
        d = an * d + b
        d = np.where(np.abs(d) < _TINY, _TINY, d)
        c = b + an / c
        c = np.where(np.abs(c) < _TINY, _TINY, c)
        d = 1.0 / d
        delta = d * c
        h = np.where(live, h * delta, h)
        live &= np.abs(delta - 1.0) > _EPS
    return np.exp(_log_prefactor(a, x)) * h


def _igamma(a: np.ndarray, x: np.ndarray, upper: bool) -> np.ndarray:
    """P(a, x) (or Q with upper) over broadcast float64 arrays, with torch's edge values."""
    a, x = np.broadcast_arrays(a, x)
    out = np.full(a.shape, np.nan)
    with np.errstate(all="ignore"):
        # the edges, as calc_igamma / calc_igammac take them
        out[(a == 0) & (x > 0)] = 0.0 if upper else 1.0
        out[(x == 0) & (a > 0)] = 1.0 if upper else 0.0
        out[np.isinf(a) & (a > 0) & np.isfinite(x) & (x > 0)] = 1.0 if upper else 0.0
        out[np.isinf(x) & (x > 0) & np.isfinite(a) & (a > 0)] = 0.0 if upper else 1.0
        body = (a > 0) & (x > 0) & np.isfinite(a) & np.isfinite(x)
        series = body & (x < a + 1)
        fraction = body & ~series
        if series.any():
            p = _lower_series(a[series], x[series])
            out[series] = 1.0 - p if upper else p
        if fraction.any():
            q = _upper_fraction(a[fraction], x[fraction])
            out[fraction] = q if upper else 1.0 - q
    return out


def _igamma_bw(self: Any, g: Tensor, a: Tensor, x: Tensor, upper: bool) -> tuple:
    import engine

    if self._next[0] is not None:
        name = "igammac" if upper else "igamma"
        raise NotImplementedError(f"the derivative for '{name}: input' is not implemented.")
    d = engine.exp((a - 1) * engine.log(x) - x - engine.lgamma(a))
    return None, (-g * d if upper else g * d)


IgammaBackward0 = node_class("IgammaBackward0", lambda self, g, a, x: _igamma_bw(self, g, a, x, False))
IgammacBackward0 = node_class("IgammacBackward0", lambda self, g, a, x: _igamma_bw(self, g, a, x, True))


def _op(upper: bool, kernel: str) -> Any:
    cls = IgammacBackward0 if upper else IgammaBackward0

    def fn(input: Tensor, other: Tensor, *, out: Tensor | None = None) -> Tensor:  # noqa: A002
        dt = result_np(input, other)
        if dt.kind != "f":
            name = {"i": "Long", "b": "Bool", "u": "Byte"}.get(dt.kind, str(dt))
            if dt.kind == "i":
                name = {1: "Char", 2: "Short", 4: "Int", 8: "Long"}[dt.itemsize]
            raise NotImplementedError(f"\"{kernel}\" not implemented for '{name}'")
        dev = same_device((input, other))
        r = _igamma(host(input._data).astype(np.float64), host(other._data).astype(np.float64), upper).astype(dt)
        t = record(cls, dev.xp.asarray(r), dev, (input, other), (input, other), ((input._vc, input._vc[0]),
                                                                             (other._vc, other._vc[0])))  # fmt: skip
        if t.grad_fn is not None:
            track_meta(t.grad_fn, (input._data.shape, input._data.dtype), (other._data.shape, other._data.dtype))
        if out is not None:
            from engine.ops.inplace import write_out

            return write_out(out, t)
        return t

    fn.__name__ = "igammac" if upper else "igamma"
    return fn


igamma = _op(False, "igamma_cpu")
igammac = _op(True, "igammac_cpu")

TORCH = {"igamma": igamma, "igammac": igammac}
SPECIAL = {"gammainc": igamma, "gammaincc": igammac}
METHODS = {"igamma": igamma, "igammac": igammac}
