"""index_put / put and their in-place forms: writing values at advanced indices (a tuple of index tensors, or
flat indices into the whole tensor), replacing or, with accumulate=True, summing over repeated positions. Each
records torch's node: self's gradient is the incoming one with the written positions zeroed (all of it when
accumulating); the values get the gradient read back at their positions, summed down to their shape."""

from __future__ import annotations

from typing import Any

from engine.naming import type_name
from engine.ops.index import _legacy, _norm_index, getitem, take
from engine.ops.util import add_at, first_out_of_range, index_range, node_class, parser_type_name, record
from engine.tensor import Tensor

_MISSING = object()


def _arg_checks(fn: str, indices_name: str, pos: int, indices: Any, values: Any, vname: str, accumulate: Any) -> None:
    """torch's argument-parser errors (pos: the index argument's position among the Python arguments)."""
    if values is _MISSING:  # (torch's parser's wording, "argument" singular when both are missing)
        if indices is _MISSING:
            raise TypeError(f'{fn}() missing 2 required positional argument: "{indices_name}", "{vname}"')
        raise TypeError(f'{fn}() missing 1 required positional arguments: "{vname}"')
    if indices_name == "indices":
        if not isinstance(indices, (tuple, list)):
            raise TypeError(
                f"{fn}(): argument 'indices' (position {pos + 1}) must be tuple of Tensors, not {type_name(indices)}"
            )
        for k, i in enumerate(indices):
            if not isinstance(i, Tensor):
                raise TypeError(f"expected Tensor as element {k} in argument {pos}, but got {parser_type_name(i)}")
    elif not isinstance(indices, Tensor):
        raise TypeError(f"{fn}(): argument 'index' (position {pos + 1}) must be Tensor, not {type_name(indices)}")
    if not isinstance(values, Tensor):
        raise TypeError(f"{fn}(): argument '{vname}' (position {pos + 2}) must be Tensor, not {type_name(values)}")
    if type(accumulate) is not bool:
        raise TypeError(f"{fn}(): argument 'accumulate' must be bool, not {type_name(accumulate)}")


# ---- index_put --------------------------------------------------------------------------------------------
def _index_put_bw(self: Any, g: Tensor, indices: tuple, accumulate: bool, vshape: tuple, *_: Tensor) -> tuple:
    # (*_: the index tensors again, saved so that one changed in place since fails with torch's version error)
    from engine.ops.shape import sum_to

    n = self._next
    gx = gv = None
    if n[0] is not None:  # (zeros written, not g * 0: g's nan and inf do not leak into the overwritten places)
        gx = g if accumulate else index_put(g, indices, g.new_zeros(vshape))
    if n[1] is not None:
        gv = sum_to(getitem(g, indices), tuple(vshape))
    return gx, gv


IndexPutBackward0 = node_class("IndexPutBackward0", _index_put_bw)


def _index_put(input: Tensor, indices: Any, values: Any, accumulate: Any, fn: str, pos: int) -> Tensor:  # noqa: A002
    _arg_checks(fn, "indices", pos, indices, values, "values", accumulate)
    d, vd = input._data, values._data
    indices = tuple(indices)
    if not indices:  # (torch's own message: its kernel reads the missing first index)
        raise RuntimeError("sym_strides() called on an undefined Tensor")
    if len(indices) > d.ndim:
        raise IndexError(f"too many indices for tensor of dimension {d.ndim} (got {len(indices)})")
    if vd.dtype != d.dtype:
        raise RuntimeError(
            "Index put requires the source and destination dtypes match, got "
            f"{input.dtype.scalar_name()} for the destination and {values.dtype.scalar_name()} for the source."
        )
    # a 0-dim integer index is advanced here (torch's index_put), where plain indexing takes it as an int: the
    # written positions are the same, so index with the 1-element form and give numpy the 0-dim array back
    flat = tuple(
        i.reshape(1) if i._data.ndim == 0 and i._data.dtype.kind in "iu" else i
        for i in _legacy(indices)  # (a uint8 index is a mask, with torch's deprecation warning)
    )
    nidx = _norm_index(input, flat)[0]
    if (
        not accumulate
        and len(indices) == 1
        and indices[0]._data.dtype.name == "uint8"
        and vd.ndim == 0
        and indices[0]._data.ndim
    ):  # torch hands a lone mask (of the right shape) with a 0-dim value to masked_fill_, which refuses a uint8 one
        raise RuntimeError("masked_fill_ only supports boolean masks, but got mask with dtype unsigned char")
    nidx = tuple(a.reshape(()) if i._data.ndim == 0 else a for a, i in zip(nidx, indices))
    r = d.copy()
    try:
        target_shape = r[nidx].shape
    except (IndexError, ValueError) as e:  # (cupy says ValueError for indices that do not broadcast)
        if "broadcast" not in str(e):
            raise
        from engine.ops.index import _adv_broadcast_error

        raise _adv_broadcast_error(nidx) from None
    from engine.ops.index import expands_to

    if not expands_to(vd.shape, target_shape):
        raise RuntimeError(
            f"shape mismatch: value tensor of shape [{', '.join(map(str, vd.shape))}] cannot be broadcast to "
            f"indexing result of shape [{', '.join(map(str, target_shape))}]"
        )
    if accumulate:  # (masks as the integer positions they select: cupyx's scatter_add takes integer indices)
        xp = input._dev.xp
        ints = tuple(p for a in nidx for p in (xp.nonzero(a) if a.dtype == bool and a.ndim else (a,)))
        add_at(xp, r, ints, xp.broadcast_to(vd, target_shape))
    else:
        r[nidx] = vd
    vers = (None, None, None) + tuple((i._vc, i._vc[0]) for i in indices)
    return record(IndexPutBackward0, r, input._dev, (input, values), (indices, accumulate, vd.shape, *indices), vers)


def index_put(input: Tensor, indices: Any = _MISSING, values: Any = _MISSING, accumulate: Any = False) -> Tensor:  # noqa: A002
    """torch.index_put(input, indices, values, accumulate=False): a copy of input with values written at
    input[indices] (a tuple of integer or boolean index tensors), summed over repeats when accumulating."""
    return _index_put(input, indices, values, accumulate, "index_put", 1)


def _index_put_method(self: Tensor, indices: Any = _MISSING, values: Any = _MISSING, accumulate: Any = False) -> Tensor:
    return _index_put(self, indices, values, accumulate, "index_put", 0)


def index_put_(self: Tensor, indices: Any = _MISSING, values: Any = _MISSING, accumulate: Any = False) -> Tensor:
    """Tensor.index_put_: index_put stored in self."""
    from engine.ops.inplace import apply

    _arg_checks("index_put_", "indices", 0, indices, values, "values", accumulate)
    return apply(self, lambda a, v: _index_put(a, indices, v, accumulate, "index_put_", 0), values, fits=False)


# ---- put --------------------------------------------------------------------------------------------------
def _put_bw(self: Any, g: Tensor, index: Tensor, accumulate: bool, sshape: tuple) -> tuple:
    n = self._next
    gx = gs = None
    if n[0] is not None:
        gx = g if accumulate else put(g, index, g.new_zeros(sshape))
    if n[1] is not None:
        gs = take(g, index).reshape(sshape)
    return gx, gs


PutBackward0 = node_class("PutBackward0", _put_bw)


def _put(input: Tensor, index: Any, source: Any, accumulate: Any, fn: str, pos: int) -> Tensor:  # noqa: A002
    _arg_checks(fn, "index", pos, index, source, "source", accumulate)
    d, ia, sd = input._data, index._data, source._data
    if ia.dtype.name != "int64":
        raise RuntimeError(f"put_(): Expected a long tensor for index, but got {index.dtype.scalar_name()}")
    if sd.dtype != d.dtype:
        raise RuntimeError(
            "put_(): self and source expected to have the same dtype, but got self.dtype = "
            f"{input.dtype.scalar_name()} and source.dtype = {source.dtype.scalar_name()}"
        )
    if ia.size != sd.size:
        raise IndexError(
            "put_(): Expected source and index to have the same number of elements, but got "
            f"source.numel() = {sd.size}, index.numel() = {ia.size}"
        )
    n = d.size
    if n == 0 and ia.size:
        raise IndexError("put_(): Tried to put elements into an empty tensor")
    if ia.size and ((lim := index_range(ia))[0] < -n or lim[1] >= n):
        raise IndexError(
            f"out of range: tried to access index {first_out_of_range(ia, -n, n)} on a tensor of {n} elements."
        )
    r = d.copy()
    flat, idx, src = r.reshape(-1), ia.reshape(-1), sd.reshape(-1)
    if accumulate:
        add_at(input._dev.xp, flat, idx, src)
    else:
        flat[idx] = src
    return record(
        PutBackward0,
        r,
        input._dev,
        (input, source),
        (index, accumulate, sd.shape),
        ((index._vc, index._vc[0]), None, None),
    )


def put(input: Tensor, index: Any = _MISSING, source: Any = _MISSING, accumulate: Any = False) -> Tensor:  # noqa: A002
    """torch.put(input, index, source, accumulate=False): a copy of input, seen as 1-d, with source's elements
    written at the flat positions index (negative ones counting from the end), summed over repeats when
    accumulating."""
    return _put(input, index, source, accumulate, "put", 1)


def _put_method(self: Tensor, index: Any = _MISSING, source: Any = _MISSING, accumulate: Any = False) -> Tensor:
    return _put(self, index, source, accumulate, "put", 0)


def put_(self: Tensor, index: Any = _MISSING, source: Any = _MISSING, accumulate: Any = False) -> Tensor:
    """Tensor.put_: put stored in self."""
    from engine.ops.inplace import apply

    _arg_checks("put_", "index", 0, index, source, "source", accumulate)
    return apply(self, lambda a, s: _put(a, index, s, accumulate, "put_", 0), source, fits=False)


TORCH = {"index_put": index_put, "index_put_": index_put_, "put": put}
METHODS = {"index_put": _index_put_method, "index_put_": index_put_, "put": _put_method, "put_": put_}
