"""torch's statistics and assorted tensor utilities: quantile/nanquantile, cov, corrcoef, histc, cdist, block_diag,
vander, trapezoid/trapz/cumulative_trapezoid, take_along_dim, scatter_reduce, gcd/lcm, broadcast_tensors,
broadcast_shapes, is_nonzero, is_same_size, can_cast.

Where torch builds a function from other ops (quantile, cov, corrcoef, trapezoid, take_along_dim, vander), it is
built here from the same engine ops in the same order, so the graph (and its node names) and the rounding are
torch's; where torch has one kernel with its own derivative (cdist, block_diag, scatter_reduce), the kernel is
computed on the arrays and recorded as torch's node with its backward formula in engine ops."""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np

from engine.amp.policy import policy as autocast_policy
from engine.autograd import save_out
from engine.backend import host
from engine.dtypes import FROM_NP, PROMOTE, dtype
from engine.grad_mode import ENABLED
from engine.naming import type_name
from engine.ops import elementwise as E
from engine.ops import inplace as P
from engine.ops import reduce as R
from engine.ops.elementwise import broadcast_error, div_scalar, mul_scalar, where
from engine.ops.index import gather, narrow
from engine.ops.shape import SqueezeBackward4, _record
from engine.ops.util import add_at, index_range, node_class, norm_dim, record, result_np
from engine.tensor import Size, Tensor, view_of, wrap
from engine.warn import user_stacklevel


def _tensor(x: Any, fn: str, pos: str = "input", n: int = 1) -> Tensor:
    if not isinstance(x, Tensor):
        raise TypeError(f"{fn}(): argument '{pos}' (position {n}) must be Tensor, not {type_name(x)}")
    return x


def _scalar_name(d: Any) -> str:
    return FROM_NP[np.dtype(d)].scalar_name()


def _cfmt(v: float) -> str:
    """A double as C++'s ostream prints it (6 significant digits, %g): torch's messages quote numbers so."""
    if math.isnan(v):
        return "nan"
    if math.isinf(v):
        return "inf" if v > 0 else "-inf"
    return f"{v:g}"


# in-place forms of view ops, as torch's quantile applies them to its result (unsqueeze_, transpose_)
UnsqueezeBackward1 = node_class("UnsqueezeBackward1", lambda self, g, dim: (g.squeeze(dim),))
TransposeBackward1 = node_class("TransposeBackward1", lambda self, g, a, b: (g.transpose(a, b),))


def _view(t: Tensor, arr: Any, cls: type, saved: tuple) -> Tensor:
    return _record(view_of(arr, t), cls, t, saved)


# ---- quantile / nanquantile ---------------------------------------------------------------------------------
_INTERPOLATIONS = ("linear", "lower", "higher", "midpoint", "nearest")


def _quantile_sig(name: str, input: Any, q: Any) -> TypeError:  # noqa: A002
    return TypeError(
        f"{name}() received an invalid combination of arguments - got ({E._tn(input)}, {E._tn(q)}), but expected "
        f'one of:\n * (Tensor input, Tensor q, int dim = None, bool keepdim = False, *, str interpolation = "linear", '
        "Tensor out = None)\n * (Tensor input, float q, int dim = None, bool keepdim = False, *, str interpolation = "
        '"linear", Tensor out = None)\n'
    )


def _quantile(
    name: str, input: Tensor, q: Any, dim: Any, keepdim: bool, interpolation: str, out: Any, ignore_nan: bool
) -> Tensor:  # noqa: A002
    """torch's quantile_impl: sort (the reduced dim moved last), ranks from q, gather below (and above, with a
    lerp between for linear/midpoint), then the q dim moved first."""
    if not isinstance(input, Tensor):
        raise _quantile_sig(name, input, q)
    if isinstance(q, Tensor):
        qt = q
    elif isinstance(q, (int, float)):  # the float overload: checked here, then a 0-dim tensor of input's dtype
        if not 0 <= q <= 1:
            raise RuntimeError(f"quantile() q must be in the range [0, 1] but got {_cfmt(float(q))}")
        qt = wrap(input._dev.xp.asarray(q, dtype=input._data.dtype), input._dev)
    else:
        raise _quantile_sig(name, input, q)
    if interpolation not in _INTERPOLATIONS:
        raise RuntimeError(
            "quantile() interpolation must be one of linear, lower, higher, midpoint or nearest, but got "
            f"{interpolation}"
        )
    d = input._data
    ax = norm_dim(0 if dim is None else dim, d.ndim)
    if d.size == 0:
        raise RuntimeError("quantile() input tensor must be non-empty")
    qd = qt._data
    if qd.ndim > 1:
        raise RuntimeError("quantile() q must be a scalar or 1D tensor")
    if d.dtype not in (np.float32, np.float64):
        raise RuntimeError("quantile() input tensor must be either float or double dtype")
    if qd.dtype != d.dtype:
        raise RuntimeError("quantile() q tensor must be same dtype as the input tensor")
    if qt._dev is not input._dev:
        raise RuntimeError("quantile() q tensor must be on the same device as the input tensor")
    if qd.size and not bool(host(((qd >= 0) & (qd <= 1)).all())):
        # (torch checks on the cpu only, to spare a cuda sync; checked on every device here, as the engine's
        # index bounds are, so the error is raised where it happens)
        raise RuntimeError("quantile() q values must be in the range [0, 1]")

    # the output's shape without q's dim
    if dim is not None and d.ndim > 0:
        red = list(d.shape)
        if keepdim:
            red[ax] = 1
        else:
            del red[ax]
    else:
        red = [1] * d.ndim if keepdim else []
    if dim is None:
        srt = R.sort(input if d.ndim == 1 else input.reshape(-1)).values  # (flatten of a 1-D tensor is itself)
    elif ax == d.ndim - 1:
        srt = R.sort(input).values
    else:
        srt = R.sort(input.unsqueeze(-1).transpose(ax, -1)).values
    n = srt._data.shape[-1]
    srt = srt.view(*red, n)
    sd = srt._data
    xp = input._dev.xp
    dt = d.dtype.type
    if ignore_nan:  # ranks among the non-nan values; all nan: rank 0, which is nan
        count = (~xp.isnan(sd)).sum(-1, keepdims=True)
        ranks = qd * (count - 1).astype(d.dtype)
        ranks = xp.where(ranks < 0, dt(0), ranks)
    else:  # a row with a nan takes the last (sorted: nan) value
        ranks = qd * dt(n - 1)
        nan_rows = xp.isnan(sd).any(-1, keepdims=True)
        shape = np.broadcast_shapes(ranks.shape, nan_rows.shape)
        ranks = xp.where(xp.broadcast_to(nan_rows, shape), dt(n - 1), xp.broadcast_to(ranks, shape))
    if interpolation == "lower":
        ranks = xp.floor(ranks)
    elif interpolation == "higher":
        ranks = xp.ceil(ranks)
    elif interpolation == "nearest":
        ranks = xp.round(ranks)  # (half to even, as torch's round_)
    ranks = xp.asarray(ranks, dtype=d.dtype)
    below = ranks.astype(np.int64)
    r = gather(srt, -1, wrap(below, input._dev))
    if interpolation in ("linear", "midpoint"):
        above = gather(srt, -1, wrap(xp.ceil(ranks).astype(np.int64), input._dev))
        if interpolation == "midpoint":
            weights = wrap(xp.full_like(ranks, 0.5), input._dev)
        else:  # the ranks again in engine ops: q's gradient flows through the weights, as in torch
            if ignore_nan:
                rt = qt * wrap(count - 1, input._dev)
                rt = rt.masked_fill(rt < 0, 0)
            else:
                rt, nan_t = broadcast_tensors(mul_scalar(qt, n - 1), wrap(nan_rows, input._dev))
                rt = rt.masked_fill(nan_t, n - 1)
            weights = rt - wrap(below, input._dev)
        r = E.lerp(r, above, weights)
    rd = r._data
    if qd.ndim == 0:  # torch's in-place squeeze_(-1), unsqueeze_(0), transpose_(0, -1): their nodes
        r = _view(r, rd.reshape(rd.shape[:-1]), SqueezeBackward4, (rd.shape,))
    else:
        r = _view(r, rd[None], UnsqueezeBackward1, (0,))
        rd = xp.swapaxes(r._data, 0, -1)
        r = _view(r, rd, TransposeBackward1, (0, rd.ndim - 1))
        rd = r._data
        r = _view(r, rd.reshape(rd.shape[:-1]), SqueezeBackward4, (rd.shape,))
    return E._out(r, out)


@autocast_policy(cpu="fp32")
def quantile(
    input: Tensor, q: Any, dim: Any = None, keepdim: bool = False, *, interpolation: str = "linear", out: Any = None
) -> Tensor:  # noqa: A002
    return _quantile("quantile", input, q, dim, keepdim, interpolation, out, False)


@autocast_policy(cpu="fp32")
def nanquantile(
    input: Tensor, q: Any, dim: Any = None, keepdim: bool = False, *, interpolation: str = "linear", out: Any = None
) -> Tensor:  # noqa: A002
    return _quantile("nanquantile", input, q, dim, keepdim, interpolation, out, True)


# ---- cov / corrcoef -----------------------------------------------------------------------------------------
def cov(input: Tensor, *, correction: int = 1, fweights: Any = None, aweights: Any = None) -> Tensor:  # noqa: A002
    """torch's cov: observations in columns, optional frequency and observation weights, in torch's op order."""
    input = _tensor(input, "cov")
    d = input._data
    if d.ndim > 2:
        raise RuntimeError(
            f"cov(): expected input to have two or fewer dimensions but got an input with {d.ndim} dimensions"
        )
    if d.dtype.kind == "b":
        raise RuntimeError("cov(): bool dtype is not supported for input")
    x = input.view(1, -1) if d.ndim < 2 else input
    n_obs = x._data.shape[1]
    w = None
    for kind, wt in (("fweights", fweights), ("aweights", aweights)):
        if wt is None:
            continue
        wd = wt._data
        if wd.ndim > 1:
            raise RuntimeError(
                f"cov(): expected {kind} to have one or fewer dimensions but got {kind} with {wd.ndim} dimensions"
            )
        if kind == "fweights" and wd.dtype.kind not in "iu":
            raise RuntimeError(
                f"cov(): expected fweights to have integral dtype but got fweights with {wt.dtype.scalar_name()} dtype"
            )
        if kind == "aweights" and wd.dtype.kind != "f":
            raise RuntimeError(
                "cov(): expected aweights to have floating point dtype but got aweights with "
                f"{wt.dtype.scalar_name()} dtype"
            )
        if wd.size != n_obs:
            raise RuntimeError(
                f"cov(): expected {kind} to have the same numel as there are observations in the input but got "
                f"{wd.size} != {n_obs}"
            )
        if n_obs and float(host(wd.min())) < 0:
            raise RuntimeError(f"cov(): {kind} cannot be negative")
        w = wt if w is None else w * wt
    if w is not None:
        w_sum = w.sum()
        if not bool(host(w_sum._data != 0)):
            raise RuntimeError("cov(): weights sum to zero, can't be normalized")
    else:
        w_sum = wrap(input._dev.xp.asarray(n_obs, dtype=np.int64), input._dev)
    avg = (x * w if w is not None else x).sum(1) / w_sum
    if w is not None and correction != 0 and aweights is not None:
        norm = w_sum - correction * (w * aweights).sum() / w_sum
    else:
        norm = w_sum - correction
    if bool(host(norm._data <= 0)):
        warnings.warn(
            "cov(): degrees of freedom is <= 0. Correction should be strictly less than the number of observations.",
            UserWarning,
            stacklevel=user_stacklevel(),
        )
        norm = wrap(input._dev.xp.zeros((), dtype=norm._data.dtype), input._dev)  # torch's norm_factor.zero_()
    x = x - avg.unsqueeze(1)
    c = x.mm((x * w if w is not None else x).t())
    return (c / norm).squeeze()


def corrcoef(input: Tensor) -> Tensor:  # noqa: A002
    input = _tensor(input, "corrcoef")
    if input._data.ndim > 2:
        raise RuntimeError(
            "corrcoef(): expected input to have two or fewer dimensions but got an input with "
            f"{input._data.ndim} dimensions"
        )
    c = cov(input)
    if c._data.ndim == 0:  # one variable: nan for a covariance of nan, inf or 0, else 1
        return c / c
    sd = c.diagonal().sqrt()
    c = c / sd.view(-1, 1)
    c = c / sd.view(1, -1)
    return E.clamp(c, -1, 1)


# ---- histc --------------------------------------------------------------------------------------------------
def histc(input: Tensor, bins: int = 100, min: float = 0, max: float = 0, *, out: Any = None) -> Tensor:  # noqa: A001, A002
    """Counts in `bins` equal bins over [min, max] (the data's range when min == max); values outside are
    skipped, the last bin includes max. Counts are in the input's dtype and carry no gradient, as torch's."""
    input = _tensor(input, "histc")
    d = input._data
    if d.dtype.kind != "f":  # (bool fails first where torch makes the bin edges: linspace)
        kernel = "linspace_cpu" if d.dtype.kind == "b" else "histogram_cpu"
        raise NotImplementedError(f"\"{kernel}\" not implemented for '{input.dtype.scalar_name()}'")
    if bins <= 0:
        raise RuntimeError(f"torch.histogram(): bins must be > 0, but got {bins} for dimension 0")
    lo, hi = float(min), float(max)
    from_data = lo == hi and d.size > 0
    if from_data:
        lo, hi = (float(v) for v in host(input._dev.xp.stack((d.min(), d.max()))).tolist())
    if lo == hi:
        lo, hi = lo - 1, hi + 1
    if any(math.isinf(v) or math.isnan(v) for v in (lo, hi)):
        # (torch's vectorised min/max make a nan of the data negative: C++ prints it as -nan)
        fmt = lambda v: "-nan" if from_data and math.isnan(v) else _cfmt(v)  # noqa: E731
        raise RuntimeError(f"torch.histc: range of [{fmt(lo)}, {fmt(hi)}] is not finite")
    if not lo < hi:
        raise RuntimeError("torch.histc: max must be larger than min")
    xp = input._dev.xp
    a = d.astype(np.float32) if d.dtype == np.float16 else d  # (half computes in float)
    left, right = a.dtype.type(lo), a.dtype.type(hi)  # the outer edges of torch's linspace, in the input's dtype
    inside = (a >= left) & (a <= right)  # (nan is never inside)
    pos = ((xp.where(inside, a, left) - left) * a.dtype.type(bins) / (right - left)).astype(np.int64)
    pos = xp.where(pos >= bins, bins - 1, pos)  # the right edge belongs to the last bin
    pos = xp.where(inside, pos, bins)  # outside: counted in a spare bin that is dropped
    counts = xp.bincount(pos.ravel(), minlength=bins + 1)[:bins]
    return E._out(wrap(counts.astype(d.dtype), input._dev), out)


# ---- cdist --------------------------------------------------------------------------------------------------
_CDIST_MODES = {
    "use_mm_for_euclid_dist_if_necessary": 0,
    "use_mm_for_euclid_dist": 1,
    "donot_use_mm_for_euclid_dist": 2,
}


def _cdist_terms(g: Tensor, x1: Tensor, x2: Tensor, y: Tensor, p: float) -> Tensor:
    """d dist / d x1 per pair (torch's _cdist_backward), over the (..., r1, r2, m) differences."""
    diff = x1.unsqueeze(-2) - x2.unsqueeze(-3)
    dist = y.unsqueeze(-1)
    gr = g.unsqueeze(-1)
    if p == 1:
        return gr * diff.sign()
    if p == 2:
        return where(dist == 0, 0.0, gr * diff / dist)
    if math.isinf(p):
        return gr * diff.sign() * (diff.abs() == dist)
    if p < 2:
        zero = (dist == 0) | ((diff == 0) & (p < 1))
        return where(zero, 0.0, diff.sign() * diff.abs().pow(p - 1) * gr / dist.pow(p - 1))
    return where(dist == 0, 0.0, diff * diff.abs().pow(p - 2) * gr / dist.pow(p - 1))


def _cdist_side(gd: np.ndarray, u: np.ndarray, v: np.ndarray, yd: np.ndarray, p: float) -> np.ndarray:
    """torch's cpu _cdist_backward kernel for u's gradient (u: (..., r1, m), v: (..., r2, m)): per pair its term
    over diff = u_i - v_j (p=1: grad * sign(diff); p=2: grad * diff / dist, 0 where dist is), summed over j in
    order onto a zero."""
    from engine.ops.cascade_sum import _seq

    diff = u[..., :, None, :] - v[..., None, :, :]
    gr, dist = gd[..., None], yd[..., None]
    with np.errstate(all="ignore"):
        t = gr * np.sign(diff) if p == 1 else np.where(dist == 0, diff.dtype.type(0), gr * diff / dist)
    return _seq(t, t.ndim - 2) + diff.dtype.type(0)  # (0 + the terms: a sum of -0s is +0)


def _cdist_bw(self: Any, g: Tensor, x1: Tensor, x2: Tensor, y: Tensor, p: float) -> tuple:
    n = self._next
    if p == 0:
        return (x1 * 0 if n[0] is not None else None, x2 * 0 if n[1] is not None else None)
    a, b, gd, yd = x1._data, x2._data, g._data, y._data
    exact = all(type(d) is np.ndarray and d.dtype.char in "fd" for d in (a, b, gd))
    if (p == 1 or p == 2) and not ENABLED[0] and exact:
        # (torch computes x2's as _cdist_backward(grad.mT, x2, x1, p, result.mT): the same kernel, roles swapped)
        g1 = wrap(_cdist_side(gd, a, b, yd, p), x1._dev) if n[0] is not None else None
        gt, yt = np.swapaxes(gd, -1, -2), np.swapaxes(yd, -1, -2)
        g2 = wrap(_cdist_side(gt, b, a, yt, p), x2._dev) if n[1] is not None else None
        return g1, g2
    t = _cdist_terms(g, x1, x2, y, p)
    g1 = t.sum(-2) if n[0] is not None else None
    g2 = -t.sum(-3) if n[1] is not None else None
    return g1, g2


CdistBackward0 = node_class("CdistBackward0", _cdist_bw)


def _euclid_bw(self: Any, g: Tensor, x1: Tensor, x2: Tensor, y: Tensor) -> tuple:
    # torch's _euclidean_dist_backward
    ratio = (g / y).masked_fill(y == 0, 0.0)
    n = self._next
    g1 = x1 * ratio.sum(-1, keepdim=True) - ratio.matmul(x2) if n[0] is not None else None
    g2 = x2 * ratio.sum(-2).unsqueeze(-1) - ratio.mT.matmul(x1) if n[1] is not None else None
    return g1, g2


EuclideanDistBackward0 = node_class("EuclideanDistBackward0", _euclid_bw)


def _euclidean_dist(x1: Tensor, x2: Tensor) -> Tensor:
    """sqrt(max(|a|^2 - 2 a.b + |b|^2, 0)) by one matrix product of padded operands, as torch's."""
    a, b = x1._data, x2._data
    xp = x1._dev.xp
    an = (a * a).sum(-1, keepdims=True)
    bn = (b * b).sum(-1, keepdims=True)
    a_ = xp.concatenate([a * a.dtype.type(-2), an, xp.ones_like(an)], axis=-1)
    b_ = xp.concatenate([b, xp.ones_like(bn), bn], axis=-1)
    r = xp.sqrt(xp.maximum(xp.matmul(a_, xp.swapaxes(b_, -1, -2)), 0))
    t = record(EuclideanDistBackward0, r, x1._dev, (x1, x2), (x1, x2, None), (None,) * 3)
    if t.grad_fn is not None:
        node = t.grad_fn
        y, v = save_out(node, t)  # (the result itself, with its graph: a second derivative flows through it)
        node._saved = (x1, x2, y)
        node._vers = ((x1._vc, x1._vc[0]), (x2._vc, x2._vc[0]), v)
        node._meta = ((a.shape, a.dtype), (b.shape, b.dtype))  # (broadcast batch dims summed back)
    return t


def _cdist_cpu(diff: np.ndarray, p: float) -> np.ndarray:
    """torch's cpu cdist kernel (run_parallel_cdist) over |a - b| (last dim): one scalar loop in order per pair,
    agg + diff^p; for p=2 as its build compiles that loop: squares of four (two doubles) at a time by a vector
    multiply, the rest as fused multiply-adds; the root through the C library's pow in double."""
    from engine.ops.cascade_sum import _seq
    from engine.ops.cpu_capability import has_fma, kernel_build
    from engine.ops.fma import fma
    from engine.ops.libm import c_pow

    m = diff.shape[-1]
    if p == 1:
        return _seq(diff, diff.ndim - 1)
    if p == 2:
        g = (4 if diff.dtype.char == "f" else 2) if has_fma(kernel_build(True)) else m
        q = m // g * g
        agg = _seq(diff[..., :q] * diff[..., :q], diff.ndim - 1) if q else np.zeros(diff.shape[:-1], diff.dtype)
        for k in range(q, m):
            agg = fma(diff[..., k], diff[..., k], np.asarray(agg))
        return np.sqrt(agg)
    if diff.dtype.char == "f":
        from engine.ops import glibc_powf

        agg = _seq(glibc_powf.powf(diff, np.float32(p)), diff.ndim - 1)
    else:
        agg = _seq(c_pow(diff, np.full_like(diff, p)), diff.ndim - 1)
    agg = np.asarray(agg)
    return c_pow(agg.astype(np.float64), np.full(agg.shape, 1.0 / float(diff.dtype.type(p)))).astype(diff.dtype)


@autocast_policy(cpu="fp32", cuda="fp32")
def cdist(x1: Tensor, x2: Tensor, p: float = 2.0, compute_mode: str = "use_mm_for_euclid_dist_if_necessary") -> Tensor:
    """The p-norm distances between the rows of x1 and of x2 (batch dims broadcast)."""
    if compute_mode not in _CDIST_MODES:
        raise ValueError(f"{compute_mode} is not a valid value for compute_mode")
    mode = _CDIST_MODES[compute_mode]
    x1, x2 = _tensor(x1, "cdist", "x1"), _tensor(x2, "cdist", "x2", 2)
    a, b = x1._data, x2._data
    for name, arr in (("X1", a), ("X2", b)):
        if arr.ndim < 2:
            raise RuntimeError(f"cdist only supports at least 2D tensors, {name} got: {arr.ndim}D")
    if a.shape[-1] != b.shape[-1]:
        raise RuntimeError(f"X1 and X2 must have the same number of columns. X1: {a.shape[-1]} X2: {b.shape[-1]}")
    for name, t in (("X1", x1), ("X2", x2)):
        if t._data.dtype.kind != "f":
            raise RuntimeError(f"cdist only supports floating-point dtypes, {name} got: {t.dtype.scalar_name()}")
    if p < 0:
        raise RuntimeError("cdist only supports non-negative p values")
    if a.dtype != b.dtype:
        raise RuntimeError(f"expected scalar type {x1.dtype.scalar_name()} but found {x2.dtype.scalar_name()}")
    r1, r2 = a.shape[-2], b.shape[-2]
    try:
        batch = tuple(np.broadcast_shapes(a.shape[:-2], b.shape[:-2]))
    except ValueError:
        raise RuntimeError(broadcast_error(a.shape[:-2], b.shape[:-2])) from None
    p = float(p)
    if a.size and b.size and p == 2 and (mode == 1 or (mode == 0 and (r1 > 25 or r2 > 25))):
        nb = int(np.prod(batch)) if batch else 1
        if nb == 1:
            dist = _euclidean_dist(x1, x2)
        else:  # torch expands the batch dims and folds them into one
            e1 = x1.expand(*batch, r1, a.shape[-1]).contiguous().view(nb, r1, a.shape[-1])
            e2 = x2.expand(*batch, r2, b.shape[-1]).contiguous().view(nb, r2, b.shape[-1])
            dist = _euclidean_dist(e1, e2)
        return dist.view(*batch, r1, r2)
    xp = x1._dev.xp
    diff = xp.abs(a[..., :, None, :] - b[..., None, :, :])
    if type(diff) is np.ndarray and diff.dtype.char in "fd" and p != 0 and not math.isinf(p) and diff.shape[-1]:
        r = _cdist_cpu(diff, p)
    elif p == 0:
        r = (diff != 0).sum(-1).astype(a.dtype)
    elif p == 1:
        r = diff.sum(-1)
    elif p == 2:
        r = xp.sqrt((diff * diff).sum(-1))
    elif math.isinf(p):
        r = diff.max(-1) if diff.shape[-1] else xp.zeros(diff.shape[:-1], a.dtype)
    else:
        r = (diff ** a.dtype.type(p)).sum(-1) ** a.dtype.type(1 / p)
    r = xp.asarray(r, dtype=a.dtype)
    t = record(CdistBackward0, r, x1._dev, (x1, x2), (x1, x2, None, p), (None,) * 4)
    if t.grad_fn is not None:
        node = t.grad_fn
        y, v = save_out(node, t)
        node._saved = (x1, x2, y, p)
        node._vers = ((x1._vc, x1._vc[0]), (x2._vc, x2._vc[0]), v, None)
        node._meta = ((a.shape, a.dtype), (b.shape, b.dtype))  # (broadcast batch dims summed back)
    return t


# ---- block_diag ---------------------------------------------------------------------------------------------
def _block_diag_bw(self: Any, g: Tensor, spans: tuple) -> tuple:
    out = []
    for (r0, r1, c0, c1, shape), nxt in zip(spans, self._next):
        out.append(None if nxt is None else g[r0:r1, c0:c1].reshape(shape))
    return tuple(out)


BlockDiagBackward0 = node_class("BlockDiagBackward0", _block_diag_bw)


def block_diag(*tensors: Tensor) -> Tensor:
    """The tensors (0-d as 1x1, 1-d as a row) along the diagonal of a zero matrix of their promoted dtype."""
    for i, t in enumerate(tensors):
        if not isinstance(t, Tensor):
            raise TypeError(f"expected Tensor as element {i} in argument 0, but got {type_name(t)}")
        if t._data.ndim > 2:
            raise RuntimeError(
                f"torch.block_diag: Input tensors must have 2 or fewer dimensions. Input {i} has {t._data.ndim} "
                "dimensions"
            )
    from engine.creation import zeros

    if not tensors:
        return zeros(1, 0)
    dt = tensors[0].dtype
    for t in tensors[1:]:
        dt = PROMOTE[dt, t.dtype]
    mats = [t._data.reshape((1, -1)) if t._data.ndim < 2 else t._data for t in tensors]
    rows, cols = sum(m.shape[0] for m in mats), sum(m.shape[1] for m in mats)
    dev = tensors[0]._dev
    xp = dev.xp
    r = xp.zeros((rows, cols), dtype=dt.np)
    spans, i, j = [], 0, 0
    for t, m in zip(tensors, mats):
        h, w = m.shape
        r[i : i + h, j : j + w] = m
        spans.append((i, i + h, j, j + w, t._data.shape))
        i, j = i + h, j + w
    out = record(BlockDiagBackward0, r, dev, tensors, (tuple(spans),), (None,))
    if out.grad_fn is not None:
        out.grad_fn._meta = tuple((t._data.shape, t._data.dtype) for t in tensors)  # (gradients cast back)
    return out


# ---- vander -------------------------------------------------------------------------------------------------
def _vander_bw(self: Any, g: Tensor, shape: tuple, legacy: str) -> tuple:
    # torch's vander writes cumprod's result over the slice cumprod saved as its input, so its backward always
    # fails on the version check (torch 2.13): the same error here
    dims = ", ".join(map(str, shape))
    raise RuntimeError(
        "one of the variables needed for gradient computation has been modified by an inplace operation: "
        f"[torch.{legacy} [{dims}]], which is output 0 of AsStrided, is at version 3; expected version 2 instead. "
        "Hint: enable anomaly detection to find the operation that failed to compute its gradient, with "
        "torch.autograd.set_detect_anomaly(True, check_nan=False)."
    )


CopySlicesVander = node_class("CopySlices", _vander_bw)
CopySlicesVander.name = lambda self: "torch::autograd::CopySlices"  # type: ignore[method-assign]


def vander(x: Tensor, N: int | None = None, increasing: bool = False) -> Tensor:  # noqa: N803 - torch's name
    """Columns x^(N-1), ..., x, 1 (or ascending): torch fills ones and writes cumprod(x) into columns 1 on."""
    x = _tensor(x, "vander", "x")
    d = x._data
    if d.ndim != 1:
        raise RuntimeError("x must be a one-dimensional tensor.")
    n = d.shape[0] if N is None else N
    if n < 0:
        raise RuntimeError("N must be non-negative.")
    dt = PROMOTE[x.dtype, FROM_NP[np.dtype(np.int64)]]  # integers become long (cumprod's promotion)
    xp = x._dev.xp
    if n > 1:
        rest = R.cumprod(x.to(dt).unsqueeze(1).expand(d.shape[0], n - 1), 1)
        r = xp.concatenate([xp.ones((d.shape[0], 1), dtype=dt.np), rest._data], axis=1)
        saved = ((d.shape[0], n - 1), FROM_NP[np.dtype(dt.np)].legacy)
        t = record(CopySlicesVander, r, x._dev, (None, rest), saved, (None, None))
    else:
        t = wrap(xp.ones((d.shape[0], n), dtype=dt.np), x._dev)
    return t if increasing else t.flip(1)


# ---- trapezoid / cumulative_trapezoid ---------------------------------------------------------------------------
def _trap_sig(name: str) -> TypeError:
    if name == "trapz":
        over = " * (Tensor y, *, float dx = 1, int dim = -1)\n * (Tensor y, Tensor x, *, int dim = -1)\n"
    else:
        over = " * (Tensor y, Tensor x, *, int dim = -1)\n * (Tensor y, *, Number dx = 1, int dim = -1)\n"
    return TypeError(
        f"{name}() received an invalid combination of arguments - got (Tensor, Tensor, dx=float), but expected one "
        f"of:\n{over}"
    )


def _trap_args(name: str, y: Tensor, x: Any, dx: Any, dim: int) -> tuple:
    """Checks and the differences dx (a tensor shaped to broadcast against y's pairs, or a number)."""
    if x is not None and dx is not None:
        raise _trap_sig(name)
    y = _tensor(y, name, "y")
    yd = y._data
    if yd.ndim == 0:
        if name == "cumulative_trapezoid":  # (it slices before it wraps dim)
            raise IndexError("slice() cannot be applied to a 0-dim tensor.")
        raise IndexError(f"Dimension specified as {dim} but tensor has no dimensions")
    ax = norm_dim(dim, yd.ndim)
    label = "trapezoid" if name == "trapz" else name
    if x is None:
        if yd.dtype.kind == "b":
            raise RuntimeError(f"{label}: received a bool input for `y`, but bool is not supported")
        step = 1 if dx is None else dx
        if name == "trapz" and isinstance(step, bool):  # (trapz takes a float dx: a bool is read as one)
            step = float(step)
        if isinstance(step, bool) or not isinstance(step, (int, float)):
            raise RuntimeError(f"{label}: Currently, we only support dx as a real number.")
        return y, ax, float(step)
    if yd.dtype.kind == "b" or x._data.dtype.kind == "b":
        raise RuntimeError(f"{label}: received a bool input for `x` or `y`, but bool is not supported")
    xd = x._data
    if xd.ndim == 1:
        if xd.shape[0] != yd.shape[ax]:
            raise RuntimeError(f"{label}: There must be one `x` value for each sample point")
        xv = x.view(*[xd.shape[0] if i == ax else 1 for i in range(yd.ndim)])
    elif xd.ndim < yd.ndim:
        xv = x.view(*((1,) * (yd.ndim - xd.ndim) + xd.shape))
    else:
        xv = x
    m = xv._data.shape[ax]
    return y, ax, narrow(xv, ax, min(1, m), max(m - 1, 0)) - narrow(xv, ax, 0, max(m - 1, 0))


def _pairs(y: Tensor, ax: int) -> Tensor:
    n = y._data.shape[ax]
    return narrow(y, ax, 0, max(n - 1, 0)) + narrow(y, ax, min(1, n), max(n - 1, 0))


def trapezoid(y: Tensor, x: Any = None, *, dx: Any = None, dim: int = -1) -> Tensor:
    """The trapezoidal rule along dim, with sample points x or a constant spacing dx."""
    return _trapezoid("trapezoid", y, x, dx, dim)


def _trapezoid(name: str, y: Tensor, x: Any, dx: Any, dim: int) -> Tensor:
    y, ax, step = _trap_args(name, y, x, dx, dim)
    if y._data.shape[ax] == 0:  # numpy's answer for no samples: zeros
        from engine.creation import zeros

        shape = tuple(s for i, s in enumerate(y._data.shape) if i != ax)
        return zeros(shape, dtype=y.dtype, device=y.device)
    if isinstance(step, Tensor):
        return div_scalar((_pairs(y, ax) * step).sum(ax), 2.0)
    ends = y.select(ax, 0) + y.select(ax, -1)
    return mul_scalar(y.sum(ax) - mul_scalar(ends, 0.5), step)


def trapz(y: Tensor, x: Any = None, *, dx: Any = None, dim: int = -1) -> Tensor:
    return _trapezoid("trapz", y, x, dx, dim)


def cumulative_trapezoid(y: Tensor, x: Any = None, *, dx: Any = None, dim: int = -1) -> Tensor:
    """The running trapezoidal integral along dim (one fewer element than y there)."""
    y, ax, step = _trap_args("cumulative_trapezoid", y, x, dx, dim)
    if isinstance(step, Tensor):
        return div_scalar(R.cumsum(_pairs(y, ax) * step, ax), 2.0)
    return R.cumsum(mul_scalar(_pairs(y, ax), step / 2.0), ax)


# ---- take_along_dim -----------------------------------------------------------------------------------------
def take_along_dim(input: Tensor, indices: Tensor, dim: int | None = None, *, out: Any = None) -> Tensor:  # noqa: A002
    input = _tensor(input, "take_along_dim")
    indices = _tensor(indices, "take_along_dim", "indices", 2)
    if dim is None:  # as take, over the flattened input
        return E._out(gather(input.reshape(-1), 0, indices.reshape(-1)), out)
    d, i = input._data, indices._data
    if d.ndim != i.ndim:
        raise RuntimeError(
            "torch.take_along_dim(): input and indices should have the same number of dimensions, but got "
            f"{d.ndim} dimensions for input, and {i.ndim} dimensions for indices"
        )
    if i.dtype != np.int64:
        raise RuntimeError(
            f"torch.take_along_dim(): dtype of indices should be Long but got {indices.dtype.scalar_name()}"
        )
    ax = norm_dim(dim, d.ndim)

    def bshape(a: tuple, b: tuple) -> tuple:
        try:
            return tuple(np.broadcast_shapes(a, b))
        except ValueError:
            raise RuntimeError(broadcast_error(a, b)) from None

    s_sizes = list(d.shape)
    s_sizes[ax] = i.shape[ax]
    idx = indices.broadcast_to(bshape(tuple(s_sizes), i.shape))
    i_sizes = list(i.shape)
    i_sizes[ax] = d.shape[ax]
    src = input.broadcast_to(bshape(tuple(i_sizes), d.shape))
    return E._out(gather(src, ax, idx), out)


# ---- scatter_reduce -----------------------------------------------------------------------------------------
_REDUCES = ("sum", "prod", "mean", "amax", "amin", "max", "min")  # (max/min: torch's aliases of amax/amin)


def _grids(xp: Any, shape: tuple, ax: int, ia: Any) -> tuple:
    grids = xp.ix_(*(xp.arange(n) for n in shape))  # open grids (cupy's indices has no sparse=)
    return tuple(ia if k == ax else grids[k] for k in range(len(shape)))


def _scatter_reduce_arrays(xp: Any, sd: Any, ax: int, ia: Any, src: Any, reduce: str, include_self: bool) -> Any:
    """The forward kernel on arrays: positions index names get the reduction of their src values (and of their own
    value when include_self); mean divides by the count (floor division for integers, as torch)."""
    out = sd.copy()
    if ia.size == 0:
        return out
    full = _grids(xp, ia.shape, ax, ia)
    vals = src[tuple(slice(0, s) for s in ia.shape)]
    if not include_self:  # the positions written start from the reduction's identity
        if reduce in ("sum", "mean"):
            ident = 0
        elif reduce == "prod":
            ident = 1
        elif out.dtype.kind == "f":
            ident = -math.inf if reduce == "amax" else math.inf
        else:
            info = np.iinfo(out.dtype) if out.dtype.kind != "b" else None
            ident = (info.min if reduce == "amax" else info.max) if info else reduce == "amin"
        out[full] = ident
    if reduce in ("sum", "mean"):
        add_at(xp, out, full, vals)
    else:
        ufunc = np.multiply if reduce == "prod" else np.maximum if reduce == "amax" else np.minimum
        if xp is np:
            ufunc.at(out, full, vals)
        else:
            # cupyx has no scatter-multiply, and its scatter_max/min on a GPU kept float64 values only to float32
            # precision and do not propagate nan as torch does: done on the host and moved back
            h = host(out)
            ufunc.at(h, tuple(host(f) for f in full), host(vals))
            out = xp.asarray(h)
    if reduce == "mean":
        count = xp.ones(out.shape, dtype=out.dtype) if include_self else xp.zeros(out.shape, dtype=out.dtype)
        add_at(xp, count, full, xp.ones(ia.shape, dtype=out.dtype))
        count = xp.where(count == 0, 1, count).astype(out.dtype)
        out = out // count if out.dtype.kind in "iu" else out / count
    return out.astype(sd.dtype, copy=False)


def _scatter_reduce_bw(
    self: Any, g: Tensor, x: Tensor, ax: int, index: Tensor, src: Tensor, reduce: str, include_self: bool,
    y: Tensor,
) -> tuple:  # fmt: skip
    """torch's scatter_reduce_backward, in engine ops."""
    from engine.creation import ones_like, zeros_like

    if reduce in ("max", "min"):  # the forward takes torch's aliases, its backward does not
        raise RuntimeError(f"Expected 'reduce' to be one of 'sum', 'prod', 'mean', 'amax', 'amin' but got {reduce}.")
    n = self._next
    if reduce == "sum":
        gx, gs = g, g.gather(ax, index)
    elif reduce == "mean":
        cnt = ones_like(g) if include_self else zeros_like(g)
        cnt = cnt.scatter_add(ax, index, ones_like(src))
        cnt = cnt.masked_fill(cnt == 0, 1)
        gx, gs = g / cnt, g.gather(ax, index) / cnt.gather(ax, index)
    elif reduce == "prod":
        masked_x = x.masked_fill(x == 0, 1)
        masked_x_result = scatter_reduce(masked_x, ax, index, src, reduce, include_self=include_self)
        gx = g * masked_x_result / masked_x
        src_zero = src == 0
        if src._data.shape != index._data.shape:  # torch's formula mixes src's shape and index's: it fails
            raise RuntimeError(broadcast_error(src._data.shape, index._data.shape))
        n_zeros = zeros_like(x).scatter_add(ax, index, src_zero.to(x.dtype)).gather(ax, index)
        single_zero = src_zero & (n_zeros == 1)
        masked_src = src.masked_fill(single_zero, 1)
        masked_src_result = scatter_reduce(x, ax, index, masked_src, reduce, include_self=include_self)
        gs = where(single_zero, (g * masked_src_result).gather(ax, index),
                   (g * y).gather(ax, index) / src.masked_fill(src_zero, 1))  # fmt: skip
    else:  # amax / amin: the gradient shared evenly among the values equal to the result
        value = y.gather(ax, index)
        x_is = (x == y).to(x.dtype)
        src_is = (src == value).to(x.dtype)
        share = g / x_is.scatter_add(ax, index, src_is)
        gx = (x == y) * share
        gs = (src == value) * share.gather(ax, index)
    if not include_self:
        gx = gx.scatter(ax, index, 0.0)
    if n[1] is not None and gs._data.shape != src._data.shape:
        got, want = (", ".join(map(str, s)) for s in (gs._data.shape, src._data.shape))
        raise RuntimeError(
            f"Function ScatterReduceBackward0 returned an invalid gradient at index 1 - got [{got}] but expected "
            f"shape compatible with [{want}]"
        )
    return (gx if n[0] is not None else None, gs if n[1] is not None else None)


ScatterReduceBackward0 = node_class("ScatterReduceBackward0", _scatter_reduce_bw)


def scatter_reduce(
    input: Tensor, dim: int, index: Tensor, src: Tensor, reduce: str | None = None, *extra: Any,
    include_self: bool = True, out: Any = None,
) -> Tensor:  # noqa: A002  # fmt: skip
    """input with src's values reduced (sum/prod/mean/amax/amin) into the positions index names along dim."""
    if extra:  # (include_self is keyword-only: torch's count, not Python's)
        raise TypeError(f"scatter_reduce() takes 5 positional arguments but {5 + len(extra)} were given")
    if reduce is None:
        raise TypeError('scatter_reduce() missing 1 required positional arguments: "reduce"')
    if reduce not in _REDUCES:
        raise RuntimeError(f"reduce argument must be either sum, prod, mean, amax or amin, got {reduce}")
    d, ia, s = input._data, index._data, src._data
    ax = norm_dim(dim, d.ndim)
    if ia.dtype not in (np.int64, np.int32):
        raise RuntimeError("scatter(): Expected dtype int32/int64 for index")
    if s.dtype != d.dtype:
        raise RuntimeError("scatter(): Expected self.dtype to be equal to src.dtype")
    if ia.ndim != d.ndim or (ia.ndim and s.ndim != d.ndim):
        raise RuntimeError("Index tensor must have the same number of dimensions as self tensor")
    if ia.ndim and any(ia.shape[k] > s.shape[k] or (k != ax and ia.shape[k] > d.shape[k]) for k in range(ia.ndim)):
        shp = lambda a: "[" + ", ".join(map(str, a)) + "]"  # noqa: E731
        raise RuntimeError(
            f"Expected index {shp(ia.shape)} to be no larger than self {shp(d.shape)} apart from dimension {ax} and "
            f"to be no larger size than src {shp(s.shape)}"
        )
    if ia.size:
        lo, hi = index_range(ia)
        size = d.shape[ax] if d.ndim else 1
        if lo < 0 or hi >= size:
            raise RuntimeError(f"index {hi if hi >= size else lo} is out of bounds for dimension {ax} with size {size}")
    kernel = {"max": "amax", "min": "amin"}.get(reduce, reduce)
    r = _scatter_reduce_arrays(input._dev.xp, d, ax, ia.astype(np.int64, copy=False), s, kernel, include_self)
    t = record(ScatterReduceBackward0, r, input._dev, (input, src), (), ())
    if t.grad_fn is not None:
        node = t.grad_fn
        y, v = save_out(node, t)
        node._saved = (input, ax, index, src, reduce, include_self, y)
        node._vers = ((input._vc, input._vc[0]), None, (index._vc, index._vc[0]), (src._vc, src._vc[0]), None, None,
                      v)  # fmt: skip
    return E._out(t, out)


def _scatter_reduce_method(
    self: Tensor, dim: int, index: Tensor, src: Tensor, reduce: str | None = None, *extra: Any,
    include_self: bool = True,
) -> Tensor:  # fmt: skip
    if extra:
        raise TypeError(f"scatter_reduce() takes 4 positional arguments but {4 + len(extra)} were given")
    return scatter_reduce(self, dim, index, src, reduce, include_self=include_self)


def _scatter_reduce_(
    self: Tensor, dim: int, index: Tensor, src: Tensor, reduce: str | None = None, *extra: Any,
    include_self: bool = True,
) -> Tensor:  # fmt: skip
    if extra:
        raise TypeError(f"scatter_reduce_() takes 4 positional arguments but {4 + len(extra)} were given")
    return P.apply(self, lambda a, s: scatter_reduce(a, dim, index, s, reduce, include_self=include_self), src,
                   fits=False)  # fmt: skip


# ---- gcd / lcm ----------------------------------------------------------------------------------------------
def _int_binary(name: str, ufunc: Any) -> Any:
    def fn(input: Tensor, other: Tensor, *, out: Any = None) -> Tensor:  # noqa: A002
        input = _tensor(input, name)
        other = _tensor(other, name, "other", 2)
        rt = np.dtype(result_np(input, other))
        if rt.kind not in "iu":
            raise NotImplementedError(f"\"{name}_cpu\" not implemented for '{_scalar_name(rt)}'")
        if input._dev is not other._dev:
            from engine.ops.util import mixed_device

            raise mixed_device(input, other)
        a, b = input._data.astype(rt, copy=False), other._data.astype(rt, copy=False)
        try:
            shape = np.broadcast_shapes(a.shape, b.shape)
        except ValueError:
            raise RuntimeError(broadcast_error(a.shape, b.shape)) from None
        xp = input._dev.xp
        r = xp.asarray(getattr(xp, ufunc)(a, b), dtype=rt).reshape(shape)
        return E._out(wrap(r, input._dev), out)

    fn.__name__ = name
    return fn


gcd = _int_binary("gcd", "gcd")
lcm = _int_binary("lcm", "lcm")


def heaviside(input: Tensor, values: Tensor, *, out: Any = None) -> Tensor:  # noqa: A002
    """torch.heaviside: values where input is 0, else (input > 0) (so nan gives 0); input and values of one
    dtype. torch defines no derivative: the result's node says so when backward reaches it."""
    from engine.ops.util import NotImplementedNode, mixed_device

    input = _tensor(input, "heaviside")
    if not isinstance(values, Tensor):
        raise TypeError(f"heaviside(): argument 'values' (position 2) must be Tensor, not {type_name(values)}")
    if input.dtype is not values.dtype:
        raise RuntimeError("heaviside is not yet implemented for tensors with different dtypes.")
    if input._dev is not values._dev and values._data.ndim != 0:
        raise mixed_device(input, values)
    a, b = input._data, values._data
    try:
        shape = np.broadcast_shapes(a.shape, b.shape)
    except ValueError:
        raise RuntimeError(broadcast_error(a.shape, b.shape)) from None
    xp = input._dev.xp
    r = xp.where(a == 0, xp.asarray(b), (a > 0).astype(a.dtype)).astype(a.dtype, copy=False).reshape(shape)
    t = record(NotImplementedNode, r, input._dev, (input, values), ("aten::heaviside",))
    return E._out(t, out)


# ---- broadcasting and predicates ------------------------------------------------------------------------------
def broadcast_tensors(*tensors: Tensor) -> tuple:
    """The tensors expanded to their common shape (a tensor already of that shape is returned as it is)."""
    for i, t in enumerate(tensors):
        if not isinstance(t, Tensor):
            raise TypeError(f"expected Tensor as element {i} in argument 0, but got {type_name(t)}")
    shapes = [t._data.shape for t in tensors]
    try:
        shape = tuple(np.broadcast_shapes(*shapes))
    except ValueError:
        raise RuntimeError(broadcast_error(*shapes)) from None
    return tuple(t if t._data.shape == shape else t.expand(shape) for t in tensors)


def broadcast_shapes(*shapes: Any) -> Size:
    """The shape that tensors of these shapes broadcast to (torch._refs._broadcast_shapes' checks and texts)."""
    norm = tuple((s,) if isinstance(s, int) else s for s in shapes if s is not None)
    if not norm:
        return Size([])
    for s in norm:
        if not isinstance(s, Sequence):
            raise RuntimeError(f"Input shapes should be of type ints, a tuple of ints, or a list of ints, got {s}")
    common = [1] * max(len(s) for s in norm)
    for k, s in enumerate(norm):
        for i in range(-1, -1 - len(s), -1):
            if s[i] == common[i]:
                continue
            if common[i] == 1:
                if s[i] < 0:
                    raise ValueError("Attempting to broadcast a dimension with negative length!")
                common[i] = s[i]
            if s[i] != 1 and common[i] != s[i]:
                raise RuntimeError(
                    f"Attempting to broadcast a dimension of length {s[i]} at {i}! Mismatching argument at index {k} "
                    f"had {s}; but expected shape should be broadcastable to {common}"
                )
    return Size(common)


def is_nonzero(input: Tensor) -> bool:  # noqa: A002
    input = _tensor(input, "is_nonzero")
    n = input._data.size
    if n == 0:
        raise RuntimeError("Boolean value of Tensor with no values is ambiguous")
    if n > 1:
        raise RuntimeError("Boolean value of Tensor with more than one value is ambiguous")
    return bool(host(input._data).reshape(()) != 0)


def is_same_size(input: Tensor, other: Tensor) -> bool:  # noqa: A002
    input = _tensor(input, "is_same_size")
    other = _tensor(other, "is_same_size", "other", 2)
    return input._data.shape == other._data.shape


def can_cast(from_: Any, to: Any) -> bool:
    """torch's canCast: no complex to real, no float to integer, no non-bool to bool."""
    for pos, (name, v) in enumerate((("from_", from_), ("to", to)), 1):
        if not isinstance(v, dtype):
            raise TypeError(f"can_cast(): argument '{name}' (position {pos}) must be torch.dtype, not {type_name(v)}")
    fk, tk = from_.np.kind, to.np.kind
    if fk == "c" and tk != "c":
        return False
    if fk == "f" and tk in "iu":
        return False
    return not (fk != "b" and tk == "b")


def hash_tensor(input: Tensor, dim: Any = None, *, keepdim: bool = False, mode: int = 0) -> Tensor:  # noqa: A002
    """torch.hash_tensor (mode 0, the only one): the elements as float64 or int64, their bits read as uint64,
    reduced by xor over dim (all dims for None); always uint64, no gradient."""
    input = _tensor(input, "hash_tensor")
    if mode != 0:
        raise RuntimeError(f"Unknown hash_tensor mode: {mode}")
    d = input._data
    k = d.dtype.kind
    if k == "c":
        raise NotImplementedError(f"\"xor_sum_cpu\" not implemented for '{input.dtype.scalar_name()}'")
    xp = input._dev.xp
    bits = d.astype(np.float64 if k == "f" else np.int64).view(np.uint64)
    if dim is None or (isinstance(dim, (tuple, list)) and not dim):
        if d.size == 0:
            raise RuntimeError(
                "hash_tensor: Expected reduction dim to be specified for input.numel() == 0. Specify the reduction "
                "dim with the 'dim' argument."
            )
        axes = tuple(range(d.ndim))
    else:
        axes = tuple(norm_dim(a, d.ndim) for a in (dim if isinstance(dim, (tuple, list)) else (dim,)))
        for a in axes:
            if d.ndim and d.shape[a] == 0:
                raise IndexError(f"hash_tensor: Expected reduction dim {a} to have non-zero size.")
    r = xp.bitwise_xor.reduce(bits, axis=axes, keepdims=keepdim) if d.ndim else bits
    return wrap(xp.asarray(r, dtype=np.uint64), input._dev)


TORCH = {
    "quantile": quantile,
    "nanquantile": nanquantile,
    "cov": cov,
    "corrcoef": corrcoef,
    "histc": histc,
    "hash_tensor": hash_tensor,
    "cdist": cdist,
    "block_diag": block_diag,
    "vander": vander,
    "trapezoid": trapezoid,
    "trapz": trapz,
    "cumulative_trapezoid": cumulative_trapezoid,
    "take_along_dim": take_along_dim,
    "scatter_reduce": scatter_reduce,
    "gcd": gcd,
    "lcm": lcm,
    "heaviside": heaviside,
    "broadcast_tensors": broadcast_tensors,
    "broadcast_shapes": broadcast_shapes,
    "is_nonzero": is_nonzero,
    "is_same_size": is_same_size,
    "can_cast": can_cast,
}

METHODS = {
    "quantile": quantile,
    "nanquantile": nanquantile,
    "cov": cov,
    "corrcoef": corrcoef,
    "histc": histc,
    "hash_tensor": hash_tensor,
    "take_along_dim": take_along_dim,
    "scatter_reduce": _scatter_reduce_method,
    "scatter_reduce_": _scatter_reduce_,
    "gcd": gcd,
    "gcd_": P.inplace_of(gcd, "gcd"),
    "lcm": lcm,
    "lcm_": P.inplace_of(lcm, "lcm"),
    "heaviside": heaviside,
    "heaviside_": P.inplace_of(heaviside, "heaviside"),
    "is_nonzero": is_nonzero,
    "is_same_size": is_same_size,
}
