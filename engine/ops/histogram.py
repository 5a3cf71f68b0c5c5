"""torch.histogram (and Tensor.histogram): counts, or summed weights, of a float tensor's values over bins, returned
with the bin edges as torch.return_types.histogram(hist, bin_edges).

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
from engine.tensor import Tensor

histogram_type = result_type("histogram", "hist", "bin_edges")
histogram_out_type = result_type("histogram_out", "hist", "bin_edges")
RETURN_TYPES = {"histogram": histogram_type, "histogram_out": histogram_out_type}

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


TORCH = {"histogram": histogram}
METHODS = {"histogram": histogram}
