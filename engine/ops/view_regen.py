"""Views whose memory changed in place through another alias: their grad_fn regenerated, as torch does.

torch re-links such a view when its grad_fn is next read (VariableHooks::grad_fn): a new AsStridedBackward0
on the base's current graph, which puts the view's gradient at the positions of the base the view covers.
Doing it on read (engine.tensor.GradView) keeps in-place ops free of any walk over live views, so a loop
such as `out[t] = f(out[t - 1])` stays linear.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from engine.autograd import next_seq
from engine.ops.index import index_add_new
from engine.ops.inplace import move_retain_hook
from engine.ops.util import edge_of, node_class
from engine.tensor import Tensor, wrap


class Geometry:
    """Where a view's elements sit in its base (row-major indices). torch's AsStridedBackward0 keeps the
    view's sizes and strides, not a saved tensor, so a second backward through it needs no retain_graph:
    this holder is not a tensor, so a backward does not free it."""

    __slots__ = ("positions", "spill")

    def __init__(self, positions: Tensor, spill: bool = False) -> None:  # noqa: FBT001, FBT002
        self.positions = positions
        # as_strided may read storage outside its input: those elements sit at position n (one past the
        # input's last), whose gradient is dropped, as torch's as_strided_backward drops it
        self.spill = spill


def _as_strided_bw(self: Any, g: Tensor, geometry: Geometry, shape: tuple) -> tuple:
    n = 1
    for s in shape:
        n *= s
    if geometry.spill:
        return (index_add_new(g.reshape(-1), 0, geometry.positions, (n + 1,))[:n].reshape(shape),)
    return (index_add_new(g.reshape(-1), 0, geometry.positions, (n,)).reshape(shape),)


AsStridedBackward0 = node_class("AsStridedBackward0", _as_strided_bw)

MULTI_MSG = (
    "Output {i} of {op} is a view and its base or another view of its base has been modified inplace. This view "
    "is the output of a function that returns multiple views. Such functions do not allow the output views to be "
    "modified inplace. You should replace the inplace operation by an out-of-place one."
)


def regenerate(v: Tensor, old: Any) -> Any:
    """v's new grad_fn: AsStridedBackward0 from its base's current graph (torch's error for the outputs of
    split/chunk/unbind, which torch cannot re-link)."""
    meta = v._meta
    multi = meta.get("multi") if meta else None
    if multi is not None:
        raise RuntimeError(MULTI_MSG.format(i=multi[1], op=multi[0]))
    base = v._base
    positions = _positions(v._data, base._data)
    if positions is None:  # base's memory was replaced (x.data = ...): v no longer lies in it
        v.grad_fn = old
        return old
    node = AsStridedBackward0()
    node._seq = next_seq()
    node._next = (edge_of(base),)
    node._saved = (Geometry(wrap(v._dev.xp.asarray(positions), v._dev)), base._data.shape)
    node._vers = (None, None)
    node._ctx = (v._data.shape, v._data.dtype)
    if meta and meta.get("retain"):
        move_retain_hook(old, node)
    v.grad_fn = node
    return node


def _ptr(a: Any) -> int:
    return a.__array_interface__["data"][0] if isinstance(a, np.ndarray) else a.data.ptr


def _offsets(shape: tuple, strides: tuple, start: int) -> np.ndarray:
    """The memory offset (in elements) of every element of an array, in its row-major order."""
    o = np.full((), start, np.int64)
    for n, s in zip(shape, strides):
        o = o[..., None] + np.arange(n, dtype=np.int64) * s
    return o.reshape(-1)


def _positions(vd: Any, bd: Any) -> np.ndarray | None:
    """Each element of the view vd as a row-major index into its base bd, or None where vd is not in bd."""
    isz = bd.itemsize
    off = _ptr(vd) - _ptr(bd)
    if vd.itemsize != isz or off % isz:
        return None
    vmem = _offsets(vd.shape, tuple(s // isz for s in vd.strides), off // isz)
    if bd.flags.c_contiguous:  # memory order is row-major order
        pos = vmem
        lookup = None
    else:
        bmem = _offsets(bd.shape, tuple(s // isz for s in bd.strides), 0)
        lo = int(bmem.min()) if bmem.size else 0
        lookup = np.full((int(bmem.max()) - lo + 1) if bmem.size else 0, -1, np.int64)
        lookup[bmem - lo] = np.arange(bmem.size)
        pos = vmem - lo
    if pos.size and (pos.min() < 0 or pos.max() >= (bd.size if lookup is None else lookup.size)):
        return None
    if lookup is not None:
        pos = lookup[pos]
        if pos.size and pos.min() < 0:
            return None
    return pos
