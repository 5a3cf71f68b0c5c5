"""Writing along an index or a mask, out of place: index_fill, index_copy, masked_scatter (their in-place forms
go through inplace.apply). Each records torch's node: the input's gradient is the incoming one with the
written positions zeroed; a written tensor gets the gradient of the positions it landed on."""

from __future__ import annotations

from typing import Any

import numpy as np

from engine.amp.policy import policy as autocast_policy
from engine.dtypes import no_uint_kernel
from engine.ops.index import index_select, masked_fill
from engine.ops.util import first_out_of_range, index_range, node_class, norm_dim, record, scalar_to
from engine.tensor import Tensor


def _moved(a: Any, ax: int) -> Any:
    return a if ax == 0 else a.swapaxes(0, ax)


def _bounds(idx: Any, n: int, ax: int, prefix: str, lo: int | None = None) -> None:
    lo = -n if lo is None else lo
    if idx.size and ((r := index_range(idx))[0] < lo or r[1] >= n):
        bad = first_out_of_range(idx, lo, n)
        raise IndexError(f"{prefix}index {bad} is out of bounds for dimension {ax} with size {n}")


# ---- index_fill --------------------------------------------------------------------------------------------
def _index_fill_bw(self: Any, g: Tensor, dim: int, index: Tensor) -> tuple:
    n = self._next
    gx = index_fill(g, dim, index, 0.0) if n[0] is not None else None
    gv = index_select(g, dim, index).sum() if len(n) > 1 and n[1] is not None else None
    return (gx, gv) if len(n) > 1 else (gx,)


IndexFillBackward0 = node_class("IndexFillBackward0", _index_fill_bw)
IndexFillBackward1 = node_class("IndexFillBackward1", _index_fill_bw)


def index_fill(input: Tensor, dim: int, index: Tensor, value: Any) -> Tensor:  # noqa: A002
    if value is None:  # (torch's parser refuses it: tcli words it so)
        raise TypeError("index_fill(): value must be a Tensor or a Number, not NoneType")
    d = input._data
    no_uint_kernel("index_fill_cpu", d.dtype)
    ax = norm_dim(dim, d.ndim)
    if index._data.dtype != np.int64:
        raise IndexError("index_fill_(): Expected dtype int64 for index.")
    if index._data.ndim > 1:
        raise RuntimeError("Index has to be a vector/scalar")
    idx = index._data.reshape(-1)
    _bounds(idx, d.shape[ax] if d.ndim else 1, ax, "")  # (torch's index_fill names no function)
    vt = value if isinstance(value, Tensor) else None
    if vt is not None and vt._data.ndim != 0:
        raise RuntimeError(
            f"index_fill_ only supports a 0-dimensional value tensor, but got tensor with {vt._data.ndim} dimension(s)."
        )
    v = vt.item() if vt is not None else value
    r = d.copy()
    if d.ndim:
        _moved(r, ax)[idx] = scalar_to(v, d.dtype)
    elif idx.size:
        r[...] = scalar_to(v, d.dtype)
    if vt is None:
        return record(IndexFillBackward0, r, input._dev, (input,), (ax, index), (None, None))
    return record(IndexFillBackward1, r, input._dev, (input, vt), (ax, index), (None, None))


# ---- index_copy --------------------------------------------------------------------------------------------
def _index_copy_bw(self: Any, g: Tensor, dim: int, index: Tensor) -> tuple:
    n = self._next
    return (
        index_fill(g, dim, index, 0.0) if n[0] is not None else None,
        index_select(g, dim, index) if n[1] is not None else None,
    )


IndexCopyBackward0 = node_class("IndexCopyBackward0", _index_copy_bw)


def _index_copy_checks(input: Tensor, ax: int, index: Tensor, source: Tensor) -> None:  # noqa: A002
    """torch's index_copy_ checks, in its order (aten/src/ATen/native/TensorAdvancedIndexing.cpp)."""
    d, s, ia = input._data, source._data, index._data
    if ia.ndim > 1:
        raise IndexError(f"index_copy_(): Index should have dimension 1 or 0 (got {ia.ndim})")
    n = ia.size
    if s.ndim == 0 and n != 1:
        raise IndexError(f"index_copy_(): When source is scalar, index should have one element (got {n})")
    if s.ndim != d.ndim and s.ndim and d.ndim:
        raise IndexError(
            "index_copy_(): When source and destination are not scalars, their dimensionality must match. Source "
            f"dimensionality ({s.ndim}), destination dimensionality ({d.ndim})"
        )
    if ia.dtype != np.int64:
        raise RuntimeError(f"index_copy_(): Expected a long tensor for index, but got {index.dtype.scalar_name()}")
    if s.dtype != d.dtype:
        raise RuntimeError(
            f"index_copy_(): self and source expected to have the same dtype, but got (self) "
            f"{input.dtype.scalar_name()} and (source) {source.dtype.scalar_name()}"
        )
    xs = d.shape[:ax] + d.shape[ax + 1 :] if d.ndim else ()
    ss = s.shape[:ax] + s.shape[ax + 1 :] if s.ndim else ()
    if xs != ss:
        raise RuntimeError(
            "index_copy_(): Source/destination tensor must have same slice shapes. Destination slice shape: "
            f"{' '.join(map(str, xs))} at dimension {ax} and source slice shape: {' '.join(map(str, ss))} at "
            "dimension 0."
        )
    if s.ndim and n != s.shape[ax]:
        raise IndexError(f"index_copy_(): Number of indices ({n}) should be equal to source.size(dim) ({s.shape[ax]})")


@autocast_policy(cpu="promote")
def index_copy(input: Tensor, dim: int, index: Tensor, source: Tensor) -> Tensor:  # noqa: A002
    d, s = input._data, source._data
    ax = norm_dim(dim, d.ndim)
    _index_copy_checks(input, ax, index, source)
    idx = index._data.reshape(-1)
    _bounds(idx, d.shape[ax] if d.ndim else 1, ax, "index_copy_(): ", 0)
    r = d.copy()
    if d.ndim:
        _moved(r, ax)[idx] = _moved(s, ax if s.ndim else 0) if s.ndim else s
    elif idx.size:
        r[...] = s
    return record(IndexCopyBackward0, r, input._dev, (input, source), (ax, index), (None, None))


# ---- masked_scatter ----------------------------------------------------------------------------------------
def _masked_scatter_bw(self: Any, g: Tensor, mask: Tensor, src_shape: tuple) -> tuple:
    n = self._next
    gx = masked_fill(g, mask, 0.0) if n[0] is not None else None
    gs = None
    if n[1] is not None:
        from engine.creation import zeros
        from engine.ops.index import cat

        picked = g[mask.expand(g.shape) if mask.shape != g.shape else mask]
        total = 1
        for k in src_shape:
            total *= k
        rest = total - picked._data.size
        gs = cat([picked, zeros(rest, dtype=g.dtype, device=g.device)]) if rest else picked
        gs = gs.reshape(src_shape)
    return gx, gs


MaskedScatterBackward0 = node_class("MaskedScatterBackward0", _masked_scatter_bw)


def masked_scatter(input: Tensor, mask: Tensor, source: Tensor) -> Tensor:  # noqa: A002
    d, m, s = input._data, mask._data, source._data
    if m.dtype.kind != "b":
        raise RuntimeError(
            f"masked_scatter_ only supports boolean masks, but got mask with dtype {mask.dtype.scalar_name()}"
        )
    if s.dtype != d.dtype:
        raise RuntimeError(  # (torch's text has no space after "got")
            f"masked_scatter: expected self and source to have same dtypes but got{input.dtype.scalar_name()} "
            f"and {source.dtype.scalar_name()}"
        )
    xp = input._dev.xp
    shape = np.broadcast_shapes(d.shape, m.shape)
    r = xp.broadcast_to(d, shape).copy()
    mb = xp.broadcast_to(m, shape)
    k = int(mb.sum())
    if k > s.size:
        raise RuntimeError("Number of elements of source < number of ones in mask")
    r[mb] = s.reshape(-1)[:k]
    t = record(MaskedScatterBackward0, r, input._dev, (input, source), (mask, s.shape), (None, None))
    if t.grad_fn is not None and d.shape != shape:  # input was broadcast to the mask: its gradient is summed back
        t.grad_fn._meta = ((d.shape, d.dtype), None)
    return t
