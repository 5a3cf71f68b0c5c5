"""Diagonals as torch has them: diagonal() is a writable view (x.diagonal().fill_(0) changes x), diag_embed
lays the last dim on a diagonal, fill_diagonal_ writes through strided views of x (torch's as_strided)."""

from __future__ import annotations

from typing import Any

import numpy as np

from engine.autograd import next_seq
from engine.grad_mode import ENABLED
from engine.ops.inplace import fill_
from engine.ops.shape import _record
from engine.ops.util import edge_of, node_class, norm_dim, record
from engine.tensor import Tensor, view_of, wrap


def _strided(d: Any, start: tuple, shape: tuple, strides: tuple) -> Any:
    """A writable view of d from element `start` with the given shape and element strides (numpy's own
    diagonal() is read-only; cupy's arrays take the same strided construction)."""
    sub = d[start] if start else d
    isz = d.itemsize
    byte_strides = tuple(s * isz for s in strides)
    _inside_storage(d, sub, shape, strides)
    if isinstance(d, np.ndarray):
        return np.lib.stride_tricks.as_strided(sub, shape, byte_strides, subok=True)  # (a BF16Array stays one)
    import cupy

    return cupy.lib.stride_tricks.as_strided(sub, shape, byte_strides)


def strided_span(shape: tuple, strides: tuple) -> tuple[int, int]:
    """How far a strided view reaches before and after its first element (in the strides' units): the
    (negative) sum over dims with negative strides, and the sum over those with positive ones."""
    back = reach = 0
    for n, st in zip(shape, strides):
        if st > 0:
            reach += (n - 1) * st
        elif st < 0:
            back += (n - 1) * st
    return back, reach


def _inside_storage(d: Any, sub: Any, shape: tuple, strides: tuple) -> None:
    """torch's as_strided check: every element of the view lies in the tensor's storage (its root buffer).
    A view past it would read and write memory that is not the tensor's (fill_diagonal_(wrap=True) on a
    transposed tensor reaches there)."""
    if any(n == 0 for n in shape) or type(d) is not np.ndarray:
        return  # (host memory, where a write past the buffer would reach Python's objects; cupy's is the device's)
    root = d
    while isinstance(root.base, np.ndarray):
        root = root.base
    isz = d.itemsize
    lo_root, hi_root = np.lib.array_utils.byte_bounds(root)
    ptr = sub.__array_interface__["data"][0]
    back, reach = strided_span(shape, strides)
    if ptr + back * isz < lo_root or ptr + (reach + 1) * isz > hi_root:
        raise out_of_storage(shape, strides, (ptr - lo_root) // isz, isz, hi_root - lo_root)


def out_of_storage(shape: tuple, strides: tuple, offset: int, isz: int, nbytes: int) -> RuntimeError:
    """torch's setStorage error: a view reaching past the end of its storage (nbytes long)."""
    _, reach = strided_span(shape, strides)
    return RuntimeError(
        f"setStorage: sizes [{', '.join(map(str, shape))}], strides [{', '.join(map(str, strides))}], storage "
        f"offset {offset}, and itemsize {isz} requiring a storage size of {(offset + reach + 1) * isz} are out "
        f"of bounds for storage of size {nbytes}"
    )


def _diagonal_bw(self: Any, g: Tensor, shape: tuple, offset: int, d1: int, d2: int) -> tuple:
    return (diagonal_backward(g, shape, offset, d1, d2),)


DiagonalBackwardBackward0 = node_class(
    "DiagonalBackwardBackward0", lambda self, gg, offset, d1, d2: (diagonal(gg, offset, d1, d2),)
)


def diagonal_backward(g: Tensor, shape: tuple, offset: int, d1: int, d2: int) -> Tensor:
    """zeros(shape) with g on the diagonal: torch's diagonal_backward, one op (its own node under create_graph)."""
    full = wrap(g._dev.xp.zeros(shape, dtype=g._data.dtype), g._dev)
    prev = ENABLED[0]
    ENABLED[0] = False
    try:
        diagonal(full, offset, d1, d2)._data[...] = g._data
    finally:
        ENABLED[0] = prev
    return record(DiagonalBackwardBackward0, full._data, g._dev, (g,), (offset, d1, d2), (None, None, None))


DiagonalBackward0 = node_class("DiagonalBackward0", _diagonal_bw)


def diagonal(input: Tensor, offset: int = 0, dim1: int = 0, dim2: int = 1) -> Tensor:  # noqa: A002
    if isinstance(offset, (float, np.ndarray)):  # (torch's parser refuses it: tcli words it so)
        raise TypeError(f"diagonal(): argument 'offset' must be int, not {type(offset).__name__}")
    d = input._data
    n = d.ndim
    a, b = norm_dim(dim1, n), norm_dim(dim2, n)
    if a == b:
        raise RuntimeError(f"diagonal dimensions cannot be identical {dim1}, {dim2}")
    if n < 2:
        norm_dim(1, n)  # torch's "Dimension out of range" for a 0-d or 1-d input
    offset = int(offset)
    i0, j0 = (0, offset) if offset >= 0 else (-offset, 0)
    length = max(0, min(d.shape[a] - i0, d.shape[b] - j0))
    st = [s // d.itemsize for s in d.strides]
    rest = [k for k in range(n) if k not in (a, b)]
    shape = tuple(d.shape[k] for k in rest) + (length,)
    strides = tuple(st[k] for k in rest) + (st[a] + st[b],)
    start = [slice(None)] * n
    if length:
        start[a], start[b] = slice(i0, None), slice(j0, None)
    r = _strided(d, tuple(start), shape, strides)
    t = view_of(r, input)
    return _record(t, DiagonalBackward0, input, (d.shape, offset, a, b), lambda p: diagonal(p, offset, a, b))


def _diag_embed_bw(self: Any, g: Tensor, offset: int, d1: int, d2: int) -> tuple:
    return (diagonal(g, offset, d1, d2),)


DiagEmbedBackward0 = node_class("DiagEmbedBackward0", _diag_embed_bw)


def diag_embed(input: Tensor, offset: int = 0, dim1: int = -2, dim2: int = -1) -> Tensor:  # noqa: A002
    """The last dim of input laid on the offset-th diagonal of the plane (dim1, dim2) of a new tensor."""
    d = input._data
    n = d.ndim + 1
    a, b = norm_dim(dim1, n), norm_dim(dim2, n)
    if a == b:
        raise RuntimeError(f"diagonal dimensions cannot be identical {dim1}, {dim2}")
    size = d.shape[-1] + abs(int(offset)) if d.ndim else 1 + abs(int(offset))
    batch = list(d.shape[:-1])
    shape = []
    for k in range(n):
        shape.append(size if k in (a, b) else batch.pop(0))
    xp = input._dev.xp
    out = wrap(xp.zeros(tuple(shape), dtype=d.dtype), input._dev)
    view = diagonal(out, offset, a, b)
    view._data[...] = d
    return _record(wrap(out._data, input._dev), DiagEmbedBackward0, input, (int(offset), a, b))


def fill_diagonal_(input: Tensor, fill_value: Any, wrap: bool = False) -> Tensor:  # noqa: A002, FBT001
    d = input._data
    n = d.ndim
    if n < 2:
        raise RuntimeError("dimensions must larger than 1")
    height, width = d.shape[0], d.shape[1]
    if n > 2 and any(s != height for s in d.shape[1:]):
        raise RuntimeError("all dimensions of input must be of equal length")
    size = min(height, width)
    stride = sum(s // d.itemsize for s in d.strides)
    fill_(_flat_view(input, (0,) * n, size, stride), fill_value)
    if wrap and n == 2 and height > width + 1:
        step = width + 1
        count = (d.size + step - 1) // step - size
        fill_(_flat_view(input, (step, 0), count, stride), fill_value)
    return input


def _flat_view(input: Tensor, first: tuple, count: int, stride: int) -> Tensor:  # noqa: A002
    """A 1-d view of `count` elements of input from index `first`, `stride` elements apart (torch's as_strided);
    writing into it goes back to input as any view's write does."""
    from engine.ops.index import _remember_view

    d = input._data
    if count <= 0:
        return view_of(d.reshape(-1)[:0], input)
    r = _strided(d, tuple(slice(i, None) for i in first), (count,), (stride,))
    t = view_of(r, input)
    _remember_view(t, input, lambda p: _flat_view(p, first, count, stride))
    if ENABLED[0] and input._rg:
        from engine.ops.view_regen import AsStridedBackward0, Geometry, _positions

        node = AsStridedBackward0()
        node._seq = next_seq()
        node._next = (edge_of(input),)
        node._saved = (Geometry(wrap(input._dev.xp.asarray(_positions(r, d)), input._dev)), d.shape)
        node._vers = (None, None)
        node._ctx = (r.shape, r.dtype)
        t._rg = True
        t.grad_fn = node
    return t


def _unfold_bw(self: Any, g: Tensor, shape: tuple, dim: int, size: int, step: int) -> tuple:
    return (unfold_backward(g, shape, dim, size, step),)


def unfold_backward(g: Tensor, shape: tuple, dim: int, size: int, step: int) -> Tensor:
    """zeros(shape) with every window's gradient added back where the window read: torch's unfold_backward."""
    out = g._dev.xp.zeros(shape, dtype=g._data.dtype)
    gd = g._data
    if not shape:  # a 0-dim input: its one window
        out[...] = gd.reshape(())
    n = gd.shape[dim] if shape else 0
    # one strided add per window offset, the last offset first: each position then sums its windows in
    # increasing order from zero, as torch's unfold_backward kernel does (istft's overlap-add rounds as torch's)
    for k in reversed(range(size if shape else 0)):
        idx = [slice(None)] * len(shape)
        idx[dim] = slice(k, k + step * (n - 1) + 1, step)
        out[tuple(idx)] += gd[..., k]
    prev = ENABLED[0]
    ENABLED[0] = False
    try:
        r = wrap(out, g._dev)
    finally:
        ENABLED[0] = prev
    if ENABLED[0] and g._rg:  # under create_graph: its own gradient is unfold again
        return record(UnfoldBackwardBackward0, out, g._dev, (g,), (dim, size, step), (None, None, None))
    return r


UnfoldBackwardBackward0 = node_class(
    "UnfoldBackwardBackward0", lambda self, gg, dim, size, step: (unfold(gg, dim, size, step),)
)
UnfoldBackward0 = node_class("UnfoldBackward0", _unfold_bw)


def unfold(input: Tensor, dimension: int, size: int, step: int) -> Tensor:  # noqa: A002
    """Tensor.unfold: every `size`-long window along `dimension`, `step` apart, as a new last dim; a view."""
    d = input._data
    n = max(d.ndim, 1)
    dim = norm_dim(dimension, n)
    length = d.shape[dim] if d.ndim else 1
    if size > length:
        raise RuntimeError(f"maximum size for tensor at dimension {dim} is {length} but size is {size}")
    if step <= 0:
        raise RuntimeError(f"step is {step} but must be > 0")
    st = [s // d.itemsize for s in d.strides] if d.ndim else [1]
    base = d if d.ndim else d.reshape(1)
    count = (length - size) // step + 1
    if d.ndim == 0:  # (a 0-dim tensor's one window is the whole result)
        shape, strides = (size,), (1,)
    else:
        shape = tuple(count if k == dim else base.shape[k] for k in range(n)) + (size,)
        strides = tuple(st[k] * step if k == dim else st[k] for k in range(n)) + (st[dim],)
    r = _strided(base, (), shape, strides)
    t = view_of(r, input)
    return _record(t, UnfoldBackward0, input, (d.shape, dim, size, step), lambda p: unfold(p, dim, size, step))
