"""torch.histogram (and Tensor.histogram): counts, or summed weights, of a float tensor's values over bins, returned
with the bin edges as torch.return_types.histogram(hist, bin_edges); and torch.histogramdd, the same over the
N-dimensional points that are an (..., N) tensor's rows, returned as torch.return_types.histogramdd(hist, bin_edges)
with one tensor of edges per dimension.

torch runs it as a one-dimensional histogramdd (aten/src/ATen/native/Histogram.cpp): bins as a count spread the
range (the values' min and max, widened by 0.5 either side when equal; numpy's [0, 1] for no values) with
linspace in the input's dtype, or bins as the edges themselves; a value falls in the last bin whose left edge it
reaches, the rightmost edge counting in, values outside left out. Its errors name histogramdd, as torch's do.
torch defines no derivative: an input that requires grad gives both outputs a NotImplemented node."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from engine.backend import host
from engine.naming import result_type
from engine.ops.util import NotImplementedNode, parser_type_name, record, same_device
from engine.tensor import Tensor, wrap

histogram_type = result_type("histogram", "hist", "bin_edges")
histogram_out_type = result_type("histogram_out", "hist", "bin_edges")
histogramdd_type = result_type("histogramdd", "hist", "bin_edges")
RETURN_TYPES = {"histogram": histogram_type, "histogram_out": histogram_out_type, "histogramdd": histogramdd_type}

_DD = "torch.histogramdd"


def _invalid(args: tuple) -> TypeError:
    got = ", ".join(map(parser_type_name, args))
    return TypeError(
        f"histogram() received an invalid combination of arguments - got ({got}), but expected one of:\n"
        " * (Tensor input, Tensor bins, *, Tensor weight = None, bool density = False, tuple of Tensors out = None)\n"
        " * (Tensor input, int bins = 100, *, tuple of floats range = None, Tensor weight = None, bool density = "
        "False, tuple of Tensors out = None)\n"
    )


def _shape(s: tuple) -> str:
    return "[" + ", ".join(map(str, s)) + "]"


def _outer_edges(xp: Any, x: Any, range: Any) -> tuple:  # noqa: A002
    """The leftmost and rightmost edges (torch's select_outer_bin_edges), as Python floats."""
    lo, hi = 0.0, 1.0
    if range is not None:
        r = list(range)
        if len(r) != 2:
            raise RuntimeError(f"{_DD}: for a 1-dimensional histogram range should have 2 elements, but got {len(r)}")
        lo, hi = float(r[0]), float(r[1])
    elif x.size:
        lo, hi = host(xp.stack((x.min(), x.max()))).tolist()  # (one read from a device)
    if not (math.isfinite(lo) and math.isfinite(hi)):
        raise RuntimeError(f"{_DD}: dimension 0's range [{lo:g}, {hi:g}] is not finite")
    if lo > hi:
        raise RuntimeError(f"{_DD}: min should not exceed max, but got min {lo:g} max {hi:g} for dimension 0")
    if lo == hi:  # (numpy's widening of an empty range)
        lo, hi = lo - 0.5, hi + 0.5
    return lo, hi


def histogram(input: Tensor, bins: Any = 100, *, range: Any = None, weight: Tensor | None = None,  # noqa: A002
              density: bool = False, out: Any = None) -> Any:  # fmt: skip
    from engine.creation import linspace

    if not isinstance(input, Tensor) or isinstance(bins, bool) or not isinstance(bins, (int, Tensor)):
        raise _invalid((input, bins))
    xp = input._dev.xp
    dt = input._data.dtype
    x = input._data.reshape(-1)
    if isinstance(bins, int) and bins <= 0:
        raise RuntimeError(f"torch.histogram(): bins must be > 0, but got {bins} for dimension 0")
    if isinstance(bins, Tensor):
        same_device((input, bins))
        b = bins._data
        if b.dtype != dt:
            raise RuntimeError(
                f"{_DD}: input tensor and bins tensors should have the same dtype, but got input with dtype "
                f"{input.dtype.name_for_error()} and bins for dimension 0 with dtype {bins.dtype.name_for_error()}"
            )
        if b.ndim != 1:
            raise RuntimeError(
                f"{_DD}: bins tensor should have one dimension, but got {b.ndim} dimensions in the bins tensor for "
                "dimension 0"
            )
        if b.size == 0:
            raise RuntimeError(
                f"{_DD}: bins tensor should have at least 1 element, but got 0 elements in the bins tensor for "
                "dimension 0"
            )
    if weight is not None:
        if weight._data.dtype != dt:
            raise RuntimeError(
                f"{_DD}: if weight tensor is provided, input tensor and weight tensor should have the same dtype, "
                f"but got input({input.dtype.name_for_error()}), and weight({weight.dtype.name_for_error()})"
            )
        if (weight._data.shape or (1,)) != (x.size,):
            raise RuntimeError(
                f"{_DD}: if weight tensor is provided it should have the same shape as the input tensor excluding "
                f"its innermost dimension, but got input with shape {_shape((x.size, 1))} and weight with shape "
                f"{_shape(weight._data.shape or (1,))}"
            )
    if isinstance(bins, Tensor) and bins._data.size == 1:
        raise RuntimeError("torch.histogram(): bins must be > 0, but got 0 for dimension 0")
    if dt not in (np.float32, np.float64):
        raise NotImplementedError(f"\"histogramdd\" not implemented for '{input.dtype.scalar_name()}'")
    if isinstance(bins, Tensor):
        edges = bins._data.copy()
    else:
        lo, hi = _outer_edges(xp, x, range)
        edges = linspace(lo, hi, bins + 1, dtype=input.dtype, device=input._dev)._data
    n = edges.shape[0] - 1
    inside = (x >= edges[0]) & (x <= edges[-1])
    pos = xp.minimum(xp.searchsorted(edges, x, side="right") - 1, n - 1)  # (the rightmost edge counts in)
    w = weight._data.reshape(-1) if weight is not None else xp.ones(x.shape, dtype=dt)
    hist = xp.zeros(n, dtype=dt)
    if x.size:
        hist = xp.bincount(pos[inside], weights=w[inside].astype(np.float64), minlength=n)[:n].astype(dt)
    if density:
        hist = (hist / hist.sum()).astype(dt)
        hist = (hist / xp.diff(edges)).astype(dt)
    inputs = (input, bins) if isinstance(bins, Tensor) else (input,)
    h, e = (record(NotImplementedNode, a, input._dev, inputs, ("aten::histogram",), (None,)) for a in (hist, edges))
    if out is not None:
        from engine.ops.inplace import write_out

        return histogram_out_type(*(write_out(o, t) for o, t in zip(out, (h, e))))
    return histogram_type(h, e)


# ---- histogramdd ------------------------------------------------------------------------------------------

_DD_SIGNATURES = (
    " * (Tensor input, int bins, tuple of floats range = None, Tensor weight = None, bool density = False)\n"
    " * (Tensor input, tuple of ints bins, tuple of floats range = None, Tensor weight = None, bool density = False)\n"
    " * (Tensor input, tuple of Tensors bins, tuple of floats range = None, Tensor weight = None, bool density = "
    "False)\n"
)
_DD_ARGS = ("input", "bins", "range", "weight", "density")


def _dd_parse(args: tuple, kwargs: dict) -> tuple:
    """torch's argument parser for histogramdd's three signatures: (input, bins, range, weight, density), with
    bins an int, ints or Tensors; its TypeError names what was passed, positionally or by keyword."""
    got = dict(zip(_DD_ARGS, args))
    ok = len(args) <= len(_DD_ARGS) and not (set(kwargs) - set(_DD_ARGS)) and not (set(got) & set(kwargs))
    got.update(kwargs)
    x, bins, rng, weight = got.get("input"), got.get("bins"), got.get("range"), got.get("weight")

    def is_int(v: Any) -> bool:
        return isinstance(v, (int, np.integer)) and not isinstance(v, bool)

    ok = ok and isinstance(x, Tensor) and "bins" in got
    if ok and not is_int(bins):
        seq = isinstance(bins, (list, tuple))
        ok = seq and (all(is_int(b) for b in bins) or all(isinstance(b, Tensor) for b in bins))
    if ok and rng is not None:
        ok = isinstance(rng, (list, tuple)) and all(isinstance(v, (int, float, np.number)) for v in rng)
    ok = ok and (weight is None or isinstance(weight, Tensor)) and isinstance(got.get("density", False), bool)
    if not ok:
        shown = [parser_type_name(a) for a in args] + [f"{k}={parser_type_name(v)}" for k, v in kwargs.items()]
        raise TypeError(
            f"histogramdd() received an invalid combination of arguments - got ({', '.join(shown)}), but expected one "
            f"of:\n{_DD_SIGNATURES}"
        )
    return x, bins, rng, weight, bool(got.get("density", False))


def _dd_check_dtype(input: Tensor) -> None:  # noqa: A002
    if input._data.dtype not in (np.float32, np.float64):
        raise NotImplementedError(f"\"histogramdd\" not implemented for '{input.dtype.scalar_name()}'")


def _dd_edges_from_counts(input: Tensor, x: Any, counts: list, rng: Any) -> list:  # noqa: A002
    """select_outer_bin_edges (per dimension: range, else the points' min and max, widened by 0.5 either side
    when equal), then linspace to each count + 1 edges in the input's dtype."""
    from engine.creation import linspace

    xp = input._dev.xp
    n = x.shape[1]
    lo, hi = [0.0] * n, [1.0] * n
    if rng is not None:
        if len(rng) != 2 * n:
            raise RuntimeError(
                f"{_DD}: for a {n}-dimensional histogram range should have {2 * n} elements, but got {len(rng)}"
            )
        lo, hi = [float(v) for v in rng[0::2]], [float(v) for v in rng[1::2]]
    elif x.size:
        _dd_check_dtype(input)
        lo, hi = host(xp.stack((x.min(0), x.max(0)))).tolist()  # (one read from a device)
    for d in range(n):
        if not (math.isfinite(lo[d]) and math.isfinite(hi[d])):
            raise RuntimeError(f"{_DD}: dimension {d}'s range [{lo[d]:g}, {hi[d]:g}] is not finite")
        if lo[d] > hi[d]:
            raise RuntimeError(
                f"{_DD}: min should not exceed max, but got min {lo[d]:g} max {hi[d]:g} for dimension {d}"
            )
        if lo[d] == hi[d]:
            lo[d], hi[d] = lo[d] - 0.5, hi[d] + 0.5
    if len(counts) != n:
        raise RuntimeError("histogramdd: The size of bins must be equal to the innermost dimension of the input.")
    return [linspace(lo[d], hi[d], max(counts[d], 0) + 1, dtype=input.dtype, device=input._dev) for d in range(n)]


def _dd_check(input: Tensor, edges: list, weight: Tensor | None, points: int) -> None:  # noqa: A002
    """histogramdd_check_inputs and histogramdd_prepare_out, in torch's order."""
    n = input._data.shape[-1]
    if len(edges) != n:
        raise RuntimeError(
            f"{_DD}: expected {n} sequences of bin edges for a {n}-dimensional histogram but got {len(edges)}"
        )
    for d, e in enumerate(edges):
        same_device((input, e))
        if e.dtype != input.dtype:
            raise RuntimeError(
                f"{_DD}: input tensor and bins tensors should have the same dtype, but got input with dtype "
                f"{input.dtype.name_for_error()} and bins for dimension {d} with dtype {e.dtype.name_for_error()}"
            )
        if e.dim() != 1:
            raise RuntimeError(
                f"{_DD}: bins tensor should have one dimension, but got {e.dim()} dimensions in the bins tensor for "
                f"dimension {d}"
            )
        if e.numel() == 0:
            raise RuntimeError(
                f"{_DD}: bins tensor should have at least 1 element, but got 0 elements in the bins tensor for "
                f"dimension {d}"
            )
    if weight is not None:
        if weight.dtype != input.dtype:
            raise RuntimeError(
                f"{_DD}: if weight tensor is provided, input tensor and weight tensor should have the same dtype, "
                f"but got input({input.dtype.name_for_error()}), and weight({weight.dtype.name_for_error()})"
            )
        if (weight._data.shape or (1,)) != input._data.shape[:-1]:
            raise RuntimeError(
                f"{_DD}: if weight tensor is provided it should have the same shape as the input tensor excluding "
                f"its innermost dimension, but got input with shape {_shape(input._data.shape)} and weight with "
                f"shape {_shape(weight._data.shape)}"
            )
    for d, e in enumerate(edges):
        if e.numel() - 1 <= 0:
            raise RuntimeError(f"torch.histogram(): bins must be > 0, but got {e.numel() - 1} for dimension {d}")


def _dd_counts(xp: Any, x: Any, edges: list, w: Any) -> Any:
    """Each point's weight added to its bin in point order, in the input's dtype (torch's kernel); a point
    outside any dimension's outer edges, or with a nan, adds nothing; the rightmost edge counts in."""
    shape = tuple(e.shape[0] - 1 for e in edges)
    hist = xp.zeros(shape, dtype=x.dtype)
    keep = xp.ones(x.shape[0], dtype=bool)
    flat = xp.zeros(x.shape[0], dtype=np.int64)
    for d, e in enumerate(edges):
        v = x[:, d]
        keep &= (v >= e[0]) & (v <= e[-1])
        pos = xp.minimum(xp.searchsorted(e, v, side="right") - 1, shape[d] - 1)
        flat = flat * shape[d] + pos
    from engine.ops.util import add_at

    add_at(xp, hist.reshape(-1), flat[keep], w[keep])
    return hist


def histogramdd(*args: Any, **kwargs: Any) -> Any:
    """torch.histogramdd(input, bins, range=None, weight=None, density=False): bins an int (per dimension), a
    sequence of ints, or a sequence of edge tensors (returned as given)."""
    input, bins, rng, weight, density = _dd_parse(args, kwargs)  # noqa: A001
    if input.dim() < 2:
        raise RuntimeError(f"{_DD}: input tensor should have at least 2 dimensions")
    xp = input._dev.xp
    n = input._data.shape[-1]
    x = input._data.reshape(math.prod(input._data.shape[:-1]), n)
    from_counts = not isinstance(bins, (list, tuple)) or not bins or not isinstance(bins[0], Tensor)
    if from_counts:
        counts = [int(bins)] * n if not isinstance(bins, (list, tuple)) else [int(b) for b in bins]
        edge_t = _dd_edges_from_counts(input, x, counts, rng)
    else:
        edge_t = list(bins)
    _dd_check(input, edge_t, weight, x.shape[0])
    _dd_check_dtype(input)
    edges = [e._data for e in edge_t]
    w = weight._data.reshape(-1) if weight is not None else xp.ones(x.shape[0], dtype=x.dtype)
    hist = _dd_counts(xp, x, edges, w) if n else xp.zeros((), dtype=x.dtype)
    if density:
        from engine.grad_mode import no_grad

        with no_grad():
            h = wrap(hist, input._dev)
            h = h / h.sum().item()
            for d, e in enumerate(edge_t):
                view = [1] * n
                view[d] = -1
                h = h / e.diff().reshape(view)
        hist = h._data
    inputs = (input, *edge_t) if not from_counts else (input,)
    h = record(NotImplementedNode, hist, input._dev, inputs, ("aten::_histogramdd_from_bin_cts",), (None,))
    if from_counts:
        edge_t = [record(NotImplementedNode, e._data, input._dev, (input,), ("aten::_histogramdd_bin_edges",),
                         (None,)) for e in edge_t]  # fmt: skip
    return histogramdd_type(h, tuple(edge_t))


TORCH = {"histogram": histogram, "histogramdd": histogramdd}
METHODS = {"histogram": histogram}
