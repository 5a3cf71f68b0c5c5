"""index_reduce / index_reduce_: source's slices reduced (prod, mean, amax, amin) into the slices of input that a
1-d index names along dim, as torch's beta op. The kernel is scatter_reduce's with the index spread over source's
shape (both reduce slice by slice in index order, as torch's serial cpu loop); the derivative is torch's
index_reduce_backward, in engine ops."""

from __future__ import annotations

from typing import Any

import numpy as np

from engine.autograd import save_out
from engine.ops import elementwise as E
from engine.ops import inplace as P
from engine.ops.elementwise import where
from engine.ops.index import _index_func_check, _index_func_shapes
from engine.ops.statistics import _scatter_reduce_arrays
from engine.ops.util import index_range, node_class, norm_dim, record
from engine.tensor import Tensor
from engine.warn import warn_once

_REDUCES = ("prod", "mean", "amax", "amin")
_BETA = (
    "index_reduce() is in beta and the API may change at any time. (Triggered internally at "
    "/__w/pytorch/pytorch/aten/src/ATen/native/TensorAdvancedIndexing.cpp:1523.)"
)


def _kernel(input: Tensor, ax: int, index: Tensor, source: Tensor, reduce: str, include_self: bool) -> Any:  # noqa: A002
    """The result array: torch's checks done by the caller up to the dtype; here its kernel's own."""
    warn_once(_BETA)
    d, s, ia = input._data, source._data, index._data
    if d.dtype.kind in "bc":
        raise NotImplementedError(f"\"index_func_\" not implemented for '{input.dtype.scalar_name()}'")
    if ia.size:
        lo, hi = index_range(ia)
        if lo < 0 or hi >= (d.shape[ax] if d.ndim else 1):
            raise IndexError("index out of range in self")
    if d.ndim == 0:  # one element: the 1-element case of the 1-d kernel
        r = _kernel_nd(input._dev.xp, d.reshape(1), 0, ia.reshape(-1), s.reshape(1), reduce, include_self)
        return r.reshape(())
    return _kernel_nd(input._dev.xp, d, ax, ia.reshape(-1), s, reduce, include_self)


def _kernel_nd(xp: Any, d: Any, ax: int, ia: Any, s: Any, reduce: str, include_self: bool) -> Any:
    shape = [1] * s.ndim
    shape[ax] = ia.shape[0]
    spread = xp.broadcast_to(ia.astype(np.int64, copy=False).reshape(shape), s.shape)
    return _scatter_reduce_arrays(xp, d, ax, spread, s, reduce, include_self)


def _index_reduce_bw(
    self: Any, g: Tensor, x: Tensor, ax: int, index: Tensor, src: Tensor, reduce: str, include_self: bool, y: Tensor
) -> tuple:
    """torch's index_reduce_backward."""
    from engine.creation import ones_like, zeros_like

    n = self._next
    if reduce == "prod":
        masked_x = x.masked_fill(x == 0, 1)
        gx = g * index_reduce(masked_x, ax, index, src, reduce, include_self=include_self) / masked_x
        src_zero = src == 0
        n_zeros = zeros_like(x).index_add(ax, index, src_zero.to(x.dtype)).index_select(ax, index)
        single_zero = src_zero & (n_zeros == 1)
        masked_src_result = index_reduce(x, ax, index, src.masked_fill(single_zero, 1), reduce,
                                         include_self=include_self)  # fmt: skip
        gs = where(single_zero, (g * masked_src_result).index_select(ax, index),
                   (g * y).index_select(ax, index) / src.masked_fill(src_zero, 1))  # fmt: skip
    elif reduce == "mean":
        cnt = (ones_like(g) if include_self else zeros_like(g)).index_add(ax, index, ones_like(src))
        cnt = cnt.masked_fill(cnt == 0, 1)
        gx, gs = g / cnt, g.index_select(ax, index) / cnt.index_select(ax, index)
    else:  # amax / amin: the gradient shared evenly among the values equal to the result
        value = y.index_select(ax, index)
        x_is = (x == y).to(x.dtype)
        src_is = (src == value).to(x.dtype)
        share = g / x_is.index_add(ax, index, src_is)
        gx = x_is * share
        gs = src_is * share.index_select(ax, index)
    if not include_self:
        gx = gx.index_fill(ax, index, 0)
    return (gx if n[0] is not None else None, gs if n[1] is not None else None)


IndexReduceBackward0 = node_class("IndexReduceBackward0", _index_reduce_bw)


def index_reduce(
    input: Tensor, dim: int, index: Tensor, source: Tensor, reduce: str | None = None, *extra: Any,
    include_self: bool = True, out: Any = None,
) -> Tensor:  # noqa: A002  # fmt: skip
    """input with source's slices reduced (prod/mean/amax/amin) into the slices index names along dim."""
    if extra:  # (include_self is keyword-only: torch's count, not Python's)
        raise TypeError(f"index_reduce() takes 5 positional arguments but {5 + len(extra)} were given")
    if reduce is None:
        raise TypeError('index_reduce() missing 1 required positional arguments: "reduce"')
    if reduce not in _REDUCES:
        raise RuntimeError(f"index_reduce(): Expected reduce to be one of prod, mean, amax or amin but got {reduce}.")
    _index_func_check("index_reduce_", input, index, source)
    ax = norm_dim(dim, input._data.ndim)
    _index_func_shapes("index_reduce_", input, ax, index, source, bounds=False)
    r = _kernel(input, ax, index, source, reduce, include_self)
    t = record(IndexReduceBackward0, r, input._dev, (input, source), (), ())
    if t.grad_fn is not None:
        node = t.grad_fn
        y, v = save_out(node, t)
        node._saved = (input, ax, index, source, reduce, include_self, y)
        node._vers = ((input._vc, input._vc[0]), None, (index._vc, index._vc[0]), (source._vc, source._vc[0]), None,
                      None, v)  # fmt: skip
    return E._out(t, out)


def _index_reduce_method(
    self: Tensor, dim: int, index: Tensor, source: Tensor, reduce: str | None = None, *extra: Any,
    include_self: bool = True,
) -> Tensor:  # fmt: skip
    if extra:
        raise TypeError(f"index_reduce() takes 4 positional arguments but {4 + len(extra)} were given")
    return index_reduce(self, dim, index, source, reduce, include_self=include_self)


def _index_reduce_(
    self: Tensor, dim: int, index: Tensor, source: Tensor, reduce: str | None = None, *extra: Any,
    include_self: bool = True,
) -> Tensor:  # fmt: skip
    if extra:
        raise TypeError(f"index_reduce_() takes 4 positional arguments but {4 + len(extra)} were given")
    return P.apply(self, lambda a, s: index_reduce(a, dim, index, s, reduce, include_self=include_self), source,
                   fits=False)  # fmt: skip


TORCH = {"index_reduce": index_reduce}
METHODS = {"index_reduce": _index_reduce_method, "index_reduce_": _index_reduce_}
