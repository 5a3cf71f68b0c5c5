"""torch.as_strided / Tensor.as_strided / as_strided_: a view of the tensor's storage with any sizes, strides
and storage offset. Scripts choose all three, so the view is checked against the storage before it is made
(torch's setStorage error): no view may reach memory that is not the tensor's."""

from __future__ import annotations

from typing import Any

import numpy as np

from engine.autograd import next_seq
from engine.grad_mode import ENABLED
from engine.ops.diagonal import out_of_storage, strided_span
from engine.ops.inplace import _view_inplace
from engine.ops.util import _int_like, edge_of, parser_type_name
from engine.ops.view_regen import AsStridedBackward0, Geometry, _offsets, _ptr
from engine.tensor import Tensor, view_of, wrap


def _ints(v: Any, arg: str, pos: int) -> tuple:
    """size/stride as torch's argument parser takes them: a sequence of ints, never one int."""
    if not isinstance(v, (tuple, list)):
        raise TypeError(
            f"as_strided(): argument '{arg}' (position {pos}) must be tuple of ints, not {parser_type_name(v)}"
        )
    for k, e in enumerate(v):
        if not _int_like(e, k == 0):
            raise TypeError(
                f"as_strided(): argument '{arg}' (position {pos}) must be tuple of ints, but found element of type "
                f"{parser_type_name(e)} at pos {k}"
            )
    return tuple(int(e) for e in v)


def _root(d: Any) -> Any:
    """The array owning d's memory: the base chain followed through numpy's as_strided, whose views hang off
    a non-array holder (so a view of a strided view is checked against the real storage, not the view)."""
    root = d
    b = d.base
    while b is not None:
        if isinstance(b, type(d)):
            root = b
        b = getattr(b, "base", None)
    return root


def _flat_storage(d: Any) -> tuple[Any, int]:
    """d's storage as a flat array over its memory, and d's offset (in elements) into it."""
    root = _root(d)
    if not (root.flags.c_contiguous or root.flags.f_contiguous):
        # (host arrays always reach their owner; cupy's strided views (diagonal, unfold) keep no base to follow)
        raise RuntimeError("as_strided: this strided view's storage cannot be found; call .contiguous() first")
    flat = root.reshape(-1) if root.flags.c_contiguous else root.T.reshape(-1)
    return flat, (_ptr(d) - _ptr(flat)) // d.itemsize


def _view(flat: Any, shape: tuple, strides: tuple, offset: int) -> Any:
    """The strided view itself, based on the flat storage (so its storage_offset and base chain are right)."""
    isz = flat.itemsize
    byte_strides = tuple(s * isz for s in strides)
    if isinstance(flat, np.ndarray):  # (a BF16Array too: the view keeps its class)
        if any(n == 0 for n in shape):
            offset = 0
        return np.ndarray.__new__(type(flat), shape, flat.dtype, buffer=flat, offset=offset * isz, strides=byte_strides)
    import cupy

    return cupy.lib.stride_tricks.as_strided(flat[min(offset, flat.size) :], shape, byte_strides)


def _check(shape: tuple, strides: tuple, offset: int, isz: int, nbytes: int) -> None:
    if len(shape) != len(strides):
        raise RuntimeError("mismatch in length of strides and shape")
    if any(s < 0 for s in strides):
        listed = ", ".join(map(str, strides))
        raise RuntimeError(f"as_strided: Negative strides are not supported at the moment, got strides: [{listed}]")
    if offset < 0:
        raise RuntimeError(f"Tensor: invalid storage offset {offset}")
    if any(n < 0 for n in shape):
        # (torch's size arithmetic is unsigned: a negative size overflows the storage size where its stride is
        # not 0, else the element count; next to a 0 size torch makes a tensor with a negative size, which the
        # engine refuses like the first)
        if 0 not in shape and all(st == 0 for n, st in zip(shape, strides) if n < 0):
            # (the storage size, counted first, is then finite: a view past the storage's end says so)
            if (offset + strided_span(shape, strides)[1] + 1) * isz > nbytes:
                raise out_of_storage(shape, strides, offset, isz, nbytes)
            raise RuntimeError("numel: integer multiplication overflow")
        raise RuntimeError(
            f"Storage size calculation overflowed with sizes=[{', '.join(map(str, shape))}] and strides="
            f"[{', '.join(map(str, strides))}]"
        )
    if all(n > 0 for n in shape) and (offset + strided_span(shape, strides)[1] + 1) * isz > nbytes:
        raise out_of_storage(shape, strides, offset, isz, nbytes)


def as_strided(input: Tensor, size: Any, stride: Any, storage_offset: int | None = None, _pos: int = 2) -> Tensor:  # noqa: A002
    """The view of input's storage with these sizes, strides (in elements) and offset (input's own if None)."""
    shape, strides = _ints(size, "size", _pos), _ints(stride, "stride", _pos + 1)
    d = input._data
    if input._dev.type == "meta":  # (no memory to reach: only the geometry is checked)
        from engine.meta import meta_array

        _check(shape, strides, 0 if storage_offset is None else int(storage_offset), d.itemsize, 1 << 62)
        return view_of(meta_array(shape, d.dtype), input)
    flat, own = _flat_storage(d)
    offset = own if storage_offset is None else int(storage_offset)
    isz = d.itemsize
    _check(shape, strides, offset, isz, flat.nbytes)
    r = _view(flat, shape, strides, offset)
    t = view_of(r, input)
    from engine.ops.index import _remember_view

    _remember_view(t, input, lambda p: as_strided(p, shape, strides, _flat_storage(p._data)[1] + offset - own))
    if ENABLED[0] and input._rg:
        node = AsStridedBackward0()
        node._seq = next_seq()
        node._next = (edge_of(input),)
        positions, spill = _positions(d, flat.size, own, shape, strides, offset)
        node._saved = (Geometry(wrap(input._dev.xp.asarray(positions), input._dev), spill), d.shape)
        node._vers = (None, None)
        node._ctx = (r.shape, r.dtype)
        t._rg = True
        t.grad_fn = node
    return t


def _positions(d: Any, storage: int, own: int, shape: tuple, strides: tuple, offset: int) -> tuple:
    """Each view element's row-major index in the input d, d.size where it reads storage outside d."""
    isz = d.itemsize
    vmem = _offsets(shape, strides, offset)
    lookup = np.full(storage, d.size, np.int64)
    lookup[_offsets(d.shape, tuple(s // isz for s in d.strides), own)] = np.arange(d.size)
    pos = lookup[vmem]
    return pos, bool(pos.size and pos.max() == d.size)


def as_strided_method(self: Tensor, size: Any, stride: Any, storage_offset: int | None = None) -> Tensor:
    return as_strided(self, size, stride, storage_offset, _pos=1)


def as_strided_(self: Tensor, size: Any, stride: Any, storage_offset: int | None = None) -> Tensor:
    """self becomes the strided view of its own storage (torch's AsStridedBackward1 in the graph)."""
    return _view_inplace(self, lambda a: as_strided(a, size, stride, storage_offset, _pos=1), "AsStridedBackward1")


TORCH = {"as_strided": as_strided}
METHODS = {"as_strided": as_strided_method, "as_strided_": as_strided_}
