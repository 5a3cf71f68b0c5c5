"""Indexing, gathering and joining: getitem/setitem, index_select, masked ops, gather/scatter,
cat/stack/split/chunk/unbind."""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np

from engine.amp.policy import policy as autocast_policy
from engine.autograd import next_seq
from engine.backend import for_array, host
from engine.dtypes import PROMOTE_NP, no_uint_kernel
from engine.grad_mode import ENABLED
from engine.multi_output import connect, grads_of
from engine.naming import type_name
from engine.ops.util import (
    NoGrad,
    NotImplementedNode,
    add_at,
    edge_of,
    first_out_of_range,
    index_range,
    mixed_device,
    node_class,
    norm_dim,
    parser_type_name,
    record,
    same_device,
    scalar_to,
    with_out,
)
from engine.tensor import Tensor, view_of, wrap, wrap_any
from engine.warn import user_stacklevel, warn_once


# ---- index normalisation ----------------------------------------------------------------------------
def _norm_index(x: Tensor, idx: Any) -> tuple[tuple, bool, str]:
    """The index as numpy understands it, whether it is advanced, and torch's name for a basic one."""
    single = not isinstance(idx, tuple)  # torch always records a lone slice, even a full one
    if single:
        idx = (idx,)
    shape = x._data.shape
    out = []
    advanced = False
    name = "AliasBackward0"
    dim = 0
    nadv = 0  # advanced-index dims so far: torch numbers out-of-bounds errors among those
    n_real = sum(
        1
        for i in idx
        if i is not None
        and i is not Ellipsis
        and not (isinstance(i, Tensor) and i._data.dtype.kind == "b")
        and not (isinstance(i, (list, tuple)) and i and isinstance(i[0], bool))
    )
    n_real += sum(i._data.ndim for i in idx if isinstance(i, Tensor) and i._data.dtype.kind == "b")
    n_real += sum(np.ndim(i) for i in idx if isinstance(i, (list, tuple)) and i and isinstance(i[0], bool))
    # torch counts the indexed dims first (x[:, None, :, :] of a matrix; a bool indexes none)
    if n_real > len(shape) and n_real - sum(1 for i in idx if isinstance(i, bool)) > len(shape):
        raise IndexError(f"too many indices for tensor of dimension {len(shape)}")
    seen_ellipsis = False
    for pos, i in enumerate(idx):
        if i is Ellipsis:
            if seen_ellipsis and all(j is Ellipsis for j in idx[pos:]):
                continue  # (torch takes several: each skips the unindexed dims again; trailing ones index nothing)
            seen_ellipsis = True
            if len(shape) - n_real > 0:  # an Ellipsis of no dims is dropped: it must not separate advanced
                out.append(i)  # indices for numpy (torch keeps such indices in place)
            dim = len(shape) - (n_real - dim) if dim <= len(shape) else dim
            continue
        if i is None:
            out.append(None)
            name = "UnsqueezeBackward0"
            continue
        if isinstance(i, bool):
            out.append(i)
            advanced = True
            continue
        if isinstance(i, Tensor) and i._data.ndim == 0 and i._data.dtype.kind in "iu":
            i = int(i._data)  # torch indexes with a 0-dim integer tensor as with an int (a view)
        if isinstance(i, int) or isinstance(i, np.integer):
            i = int(i)
            if dim >= len(shape):
                raise IndexError(f"too many indices for tensor of dimension {len(shape)}")
            n = shape[dim]
            if i < -n or i >= n:
                # (torch names the entry's position in the index, not the tensor's dim)
                raise IndexError(f"index {i} is out of bounds for dimension {pos} with size {n}")
            out.append(i)
            name = "SelectBackward0"
            dim += 1
            continue
        if isinstance(i, slice):
            for part in (i.start, i.stop, i.step):
                if part is not None and not isinstance(part, (int, np.integer)):
                    if isinstance(part, Tensor):  # (read through __index__: a one-element integer or bool tensor)
                        if part._data.size == 1 and part._data.dtype.kind in "iub":
                            continue
                        raise TypeError("only integer tensors of a single element can be converted to an index")
                    raise TypeError("slice indices must be integers or None or have an __index__ method")
            step = i.step
            if step is not None:
                step = int(step)
                if step == 0:
                    raise ValueError("slice step cannot be zero")
                if step < 0:
                    raise ValueError("step must be greater than zero")
            i = slice(None if i.start is None else int(i.start), None if i.stop is None else int(i.stop), step)
            out.append(i)
            # torch skips a slice that keeps the whole dim (start 0, step 1, stop past the end)
            whole = dim < len(shape) and i.start in (None, 0) and step in (None, 1)
            whole = whole and (i.stop is None or i.stop >= shape[dim])
            if single or not whole:
                name = "SliceBackward0"
            dim += 1
            continue
        if isinstance(i, Tensor):
            a = i._data
            if i._dev is not x._dev and not (i._dev.type == "cpu" and a.ndim == 0):
                raise mixed_device(x, i)
            if a.dtype.kind == "b":
                _check_mask(x, idx, i, a, dim)
                dim += a.ndim
                nadv += a.ndim
            elif a.dtype.kind in "iu" and a.dtype.itemsize >= 4 or a.dtype == np.uint8:  # (int64, int32, uint8)
                _bounds(a, shape, dim, nadv)
                dim += 1
                nadv += 1
            else:
                raise IndexError("tensors used as indices must be long, int, byte or bool tensors")
            out.append(a)
            advanced = True
            continue
        if isinstance(i, str):  # (a str is a sequence to torch: read as data for an index tensor)
            raise TypeError("new(): invalid data type 'str'")
        if isinstance(i, (list, tuple)):
            a = np.asarray(i)
            if a.dtype.kind == "f":  # torch makes an index tensor of a list as int64 (x[[1.5]] is x[[1]])
                a = a.astype(np.int64)
            elif a.dtype.kind == "U":
                raise TypeError("new(): invalid data type 'str'")
            if a.dtype.kind == "b":
                _check_mask(x, idx, i, a, dim)
                dim += a.ndim
                nadv += a.ndim
            elif a.dtype.kind in "iu" or a.size == 0:
                a = a.astype(np.int64)
                _bounds(a, shape, dim, nadv)
                dim += 1
                nadv += 1
            else:
                raise IndexError("tensors used as indices must be long, int, byte or bool tensors")
            out.append(a)
            advanced = True
            continue
        raise IndexError(
            "only integers, slices (`:`), ellipsis (`...`), None and long or byte Variables are valid indices "
            f"(got {type_name(i)})"
        )
    return tuple(out), advanced, name


def _check_mask(x: Tensor, idx: tuple, entry: Any, a: Any, dim: int) -> None:
    """A boolean mask must match the dims it covers. torch checks it after the basic indexing (slices,
    None) is applied, so its message names that tensor's shape and the mask's position in it."""
    shape = x._data.shape
    if all(dim + k < len(shape) and a.shape[k] == shape[dim + k] for k in range(a.ndim)):
        return
    k = next(k for k in range(a.ndim) if dim + k >= len(shape) or a.shape[k] != shape[dim + k])
    consumed = sum(
        (np.ndim(i._data if isinstance(i, Tensor) else i) if _is_mask(i) else 1)
        for i in idx
        if i is not None and i is not Ellipsis
    )
    basic: list = []
    pos = out_dims = 0
    for i in idx:
        if i is entry:
            pos = out_dims
        if i is None or isinstance(i, slice):
            basic.append(i)
            out_dims += 1
        elif i is Ellipsis:
            basic.append(i)
            out_dims += len(shape) - consumed
        elif _is_int_index(i):
            basic.append(int(i))
        else:
            n = np.ndim(i._data if isinstance(i, Tensor) else i) if _is_mask(i) else 1
            basic.extend([slice(None)] * n)
            out_dims += n
    try:
        bshape = np.broadcast_to(np.empty((), np.int8), shape)[tuple(basic)].shape
    except IndexError:
        bshape, pos = shape, dim
    raise IndexError(
        f"The shape of the mask [{', '.join(map(str, a.shape))}] at index {k} does not match "
        f"the shape of the indexed tensor [{', '.join(map(str, bshape))}] at index {pos + k}"
    )


def _is_mask(i: Any) -> bool:
    if isinstance(i, Tensor):
        return i._data.dtype.kind == "b"
    return isinstance(i, (list, tuple, np.ndarray)) and np.asarray(i).dtype.kind == "b"


def _bounds(a: Any, shape: tuple, dim: int, pos: int) -> None:
    if dim >= len(shape) or a.size == 0:
        return
    n = shape[dim]
    lo, hi = index_range(a)
    if lo < -n or hi >= n:
        bad = hi if hi >= n else lo
        raise IndexError(f"index {bad} is out of bounds for dimension {pos} with size {n}")


# ---- getitem ------------------------------------------------------------------------------------------
def _index_bw(self: Any, g: Tensor, shape: tuple, idx: tuple, advanced: bool) -> tuple:
    return (index_put_new(g, idx, shape, advanced),)


SelectBackward0 = node_class("SelectBackward0", _index_bw)
SliceBackward0 = node_class("SliceBackward0", _index_bw)
UnsqueezeIdxBackward0 = node_class("UnsqueezeBackward0", _index_bw)
AliasBackward0 = node_class("AliasBackward0", _index_bw)
IndexBackward0 = node_class("IndexBackward0", _index_bw)
_BASIC = {
    "SelectBackward0": SelectBackward0,
    "SliceBackward0": SliceBackward0,
    "UnsqueezeBackward0": UnsqueezeIdxBackward0,
    "AliasBackward0": AliasBackward0,
}


def _ints_first(idx: Any) -> tuple | None:
    """torch applies integer indices (selects) before advanced ones, so a tuple mixing them is two
    steps: (ints and Ellipsis, with ':' for the other dims), then (the rest). None when not mixed."""
    if type(idx) is not tuple:
        return None
    has_int = has_adv = False
    for i in idx:
        if _is_int_index(i):
            has_int = True
        elif isinstance(i, (Tensor, list, tuple, np.ndarray)):
            has_adv = True
    if not (has_int and has_adv):
        return None
    basic: list = []
    rest: list = []
    for i in idx:
        if _is_int_index(i):
            basic.append(i)
        elif i is None or isinstance(i, bool):
            rest.append(i)
        elif i is Ellipsis:
            basic.append(i)
            rest.append(i)
        else:
            n = np.ndim(i._data if isinstance(i, Tensor) else i) if _is_mask(i) else 1
            basic.extend([slice(None)] * n)
            rest.append(i)
    return tuple(basic), tuple(rest)


def _basic_first(x: Tensor, idx: Any) -> tuple | None:
    """For x[idx] = v with advanced indices: torch first applies the basic part (ints, None, slices
    that don't keep a whole dim) as a view, then index_put_s into it. (basic, rest), or None when
    there are no advanced indices or the basic part is trivial."""
    entries = idx if type(idx) is tuple else (idx,)
    if not any(isinstance(i, (Tensor, list, tuple, np.ndarray)) and not _is_int_index(i) for i in entries):
        return None
    shape = x._data.shape
    n_real = sum(
        (np.ndim(i._data if isinstance(i, Tensor) else i) if _is_mask(i) else 1)
        for i in entries
        if i is not None and i is not Ellipsis and not isinstance(i, bool)
    )
    dim, trivial = 0, True
    basic: list = []
    rest: list = []
    for i in entries:
        if i is Ellipsis:
            dim += len(shape) - n_real
            basic.append(i)
            rest.append(i)
        elif i is None:
            trivial = False
            basic.append(None)
            rest.append(slice(None))
        elif isinstance(i, bool):
            rest.append(i)
        elif _is_int_index(i):
            trivial = False
            basic.append(i)
            dim += 1
        elif isinstance(i, slice):
            n = shape[dim] if dim < len(shape) else 0
            whole = i.start in (None, 0) and i.step in (None, 1) and (i.stop is None or i.stop >= n)
            trivial = trivial and whole
            basic.append(i)
            rest.append(slice(None))
            dim += 1
        else:
            k = np.ndim(i._data if isinstance(i, Tensor) else i) if _is_mask(i) else 1
            basic.extend([slice(None)] * k)
            rest.append(i)
            dim += k
    return None if trivial else (tuple(basic), tuple(rest))


def _is_int_index(i: Any) -> bool:
    if isinstance(i, (int, np.integer)):
        return not isinstance(i, (bool, np.bool_))
    return isinstance(i, Tensor) and i._data.ndim == 0 and i._data.dtype.kind in "iu"


def _adv_broadcast_error(nidx: tuple) -> IndexError:
    shapes = []
    for i in nidx:
        if isinstance(i, np.ndarray) or hasattr(i, "__cuda_array_interface__"):
            shapes += [(int(i.sum()),)] * i.ndim if i.dtype.kind == "b" else [i.shape]
    text = ", ".join("[" + ", ".join(map(str, s)) + "]" for s in shapes)
    return IndexError(f"shape mismatch: indexing tensors could not be broadcast together with shapes {text}")


_SEQ_WARNING = (
    "Using a non-tuple sequence for multidimensional indexing is deprecated and will be changed in pytorch 2.9; "
    "use x[tuple(seq)] instead of x[seq]. In pytorch 2.9 this will be interpreted as tensor index, "
    "x[torch.tensor(seq)], which will result either in an error or a different result (Triggered internally at "
    "/__w/pytorch/pytorch/torch/csrc/autograd/python_variable_indexing.cpp:349.)"
)
_UINT8_WARNING = (
    "indexing with dtype torch.uint8 is now deprecated, please use a dtype torch.bool instead. (Triggered "
    "internally at /__w/pytorch/pytorch/aten/src/ATen/native/IndexingUtils.h:37.)"
)


def _legacy(idx: Any) -> Any:
    """torch's two legacy index forms, each with its deprecation warning: a short list holding a sequence,
    a tensor, a slice, None or Ellipsis is a tuple (x[[[0, 1], [1, 0]]] is x[[0, 1], [1, 0]]), and a uint8
    tensor is a mask."""
    import warnings

    if type(idx) is list and len(idx) < 32:
        if any(isinstance(i, (list, tuple, Tensor, slice)) or i is None or i is Ellipsis for i in idx):
            warnings.warn(_SEQ_WARNING, UserWarning, stacklevel=user_stacklevel())
            idx = tuple(idx)
    entries = idx if type(idx) is tuple else (idx,)
    if any(isinstance(i, Tensor) and i._data.dtype == np.uint8 for i in entries):
        warnings.warn(_UINT8_WARNING, UserWarning, stacklevel=user_stacklevel())
        conv = tuple(wrap(i._data.astype(bool), i._dev) if isinstance(i, Tensor) and i._data.dtype == np.uint8 else i
                     for i in entries)  # fmt: skip
        idx = conv if type(idx) is tuple else conv[0]
    return idx


def _sequences(idx: Any) -> Any:
    """range and numpy index arrays as the lists torch reads them as (x[range(n), y] is tutorial code)."""
    if type(idx) is tuple:
        return tuple(_sequences(i) for i in idx) if any(type(i) in (range, np.ndarray) for i in idx) else idx
    if type(idx) is range:
        return list(idx)
    if type(idx) is np.ndarray:
        return idx.tolist() if idx.ndim else idx.item()
    return idx


_ZERO_DIM_INT = (
    "invalid index of a 0-dim tensor. Use `tensor.item()` in Python or `tensor.item<T>()` in C++ to convert a "
    "0-dim tensor to a number"
)


def _zero_dim_index(x: Tensor, idx: Any) -> None:
    """torch's own errors for a bare int or slice on a 0-dim tensor (`loss[0]`)."""
    if x._data.ndim == 0:
        if type(idx) is int or isinstance(idx, np.integer):
            raise IndexError(_ZERO_DIM_INT)
        if type(idx) is slice:
            raise IndexError("slice() cannot be applied to a 0-dim tensor.")


def getitem(x: Tensor, idx: Any) -> Tensor:
    if type(idx) in (int, slice) and x._data.ndim == 0:
        _zero_dim_index(x, idx)
    if type(idx) in (range, np.ndarray) or (type(idx) is tuple and any(type(i) in (range, np.ndarray) for i in idx)):
        idx = _sequences(idx)
    if type(idx) is list or isinstance(idx, (tuple, Tensor)):
        idx = _legacy(idx)
    split = _ints_first(idx)
    if split is not None:
        return getitem(getitem(x, split[0]), split[1])
    nidx, advanced, name = _norm_index(x, idx)
    if not advanced and type(idx) is tuple and ENABLED[0] and x._rg:
        steps = _basic_steps(nidx, x._data.shape)
        if len(steps) > 1:  # torch's graph: one view node per index entry (SliceBackward0(SelectBackward0...))
            t = x
            for step in steps:
                t = getitem(t, step)
            return t
    d = x._data
    try:
        r = d[nidx]
    except (IndexError, ValueError) as e:  # cupy: ValueError "operands could not be broadcast together"
        if "could not be broadcast" in str(e):
            raise _adv_broadcast_error(nidx) from None
        raise IndexError(str(e)) from None
    if advanced:
        t = wrap(r if type(r) is np.ndarray or hasattr(r, "device") else np.asarray(r), x._dev)
        cls = IndexBackward0
    else:
        if type(r) is not np.ndarray and not isinstance(r, np.ndarray) and not hasattr(r, "__cuda_array_interface__"):
            # (a numpy scalar: the 0-d view instead; a BF16Array view is kept as it is)
            r = d[nidx + (Ellipsis,)] if Ellipsis not in nidx else np.asarray(r)
        t = view_of(r, x)
        cls = _BASIC[name]
        # Always: writing a grad-requiring value into this view later must reach x (CopySlices), as in torch
        _remember_view(t, x, lambda b, i=idx: getitem(b, i))
    if ENABLED[0] and x._rg:
        node = cls()
        node._seq = next_seq()
        node._next = (edge_of(x),)
        node._saved = (d.shape, nidx, advanced)
        node._vers = (None, None, None)
        node._ctx = (t._data.shape, t._data.dtype)
        t._rg = True
        t.grad_fn = node
    return t


def _basic_steps(nidx: tuple, shape: tuple) -> list:
    """A basic index as torch applies it, one entry at a time (applySlicing): each entry that makes a node
    (a select, an unsqueeze, a slice that does not keep its whole dim), as an index of its own into the result
    of the entries before it."""
    n_real = sum(1 for i in nidx if i is not None and i is not Ellipsis)
    steps: list = []
    dim = 0  # position in the result so far
    src = 0  # dim of the input the next int or slice applies to
    for i in nidx:
        if i is Ellipsis:
            skip = len(shape) - n_real
            dim += skip
            src += skip
        elif i is None:
            steps.append((slice(None),) * dim + (None,))
            dim += 1
        elif isinstance(i, slice):
            n = shape[src]
            whole = i.start in (None, 0) and i.step in (None, 1) and (i.stop is None or i.stop >= n)
            if not whole:
                steps.append((slice(None),) * dim + (i,))
            dim += 1
            src += 1
        else:  # an int: select, the dim goes away
            steps.append((slice(None),) * dim + (i,))
            src += 1
    return steps


def _remember_view(v: Tensor, parent: Tensor, fn: Any) -> None:
    """Keep how v was made from parent, so an in-place op on v can rewrite parent's graph."""
    if v._meta is None:
        v._meta = {"view": (parent, fn)}
    else:
        v._meta["view"] = (parent, fn)


def _put_bw(self: Any, g: Tensor, idx: tuple, advanced: bool) -> tuple:
    return (getitem(g, idx if len(idx) != 1 else idx[0]) if not advanced else _adv_get(g, idx),)


def _adv_get(g: Tensor, idx: tuple) -> Tensor:
    t = wrap_any(g._data[idx], g._dev)
    if ENABLED[0] and g._rg:
        node = IndexBackward0()
        node._seq = next_seq()
        node._next = (edge_of(g),)
        node._saved = (g._data.shape, idx, True)
        node._vers = (None, None, None)
        node._ctx = (t._data.shape, t._data.dtype)
        t._rg = True
        t.grad_fn = node
    return t


IndexPutBackward0 = node_class("IndexPutBackward0", _put_bw)
IndexPutImplBackward0 = node_class("IndexPutImplBackward0", _put_bw)  # (torch's index backward: _index_put_impl_)


def index_put_new(g: Tensor, idx: tuple, shape: tuple, advanced: bool) -> Tensor:
    """zeros(shape) with g added at idx: the backward of indexing, itself differentiable."""
    xp = g._dev.xp
    z = xp.zeros(shape, dtype=g._data.dtype)
    if advanced:
        add_at(xp, z, idx, g._data)
    else:
        z[idx] = g._data
    t = wrap(z, g._dev)
    if ENABLED[0] and g._rg:
        node = IndexPutImplBackward0() if advanced else IndexPutBackward0()
        node._seq = next_seq()
        node._next = (edge_of(g),)
        node._saved = (idx, advanced)
        node._vers = (None, None)
        node._ctx = (shape, z.dtype)
        t._rg = True
        t.grad_fn = node
    return t


# ---- setitem ------------------------------------------------------------------------------------------
def expands_to(vshape: tuple, tshape: tuple) -> bool:
    """Whether a value of vshape can be written into an indexing result of tshape: expanded to it (leading dims
    of 1 beyond its rank dropped), not merely broadcast with it (x[mask] = v of a [2, 3] into [1, 3] fails)."""
    extra = len(vshape) - len(tshape)
    if extra > 0:
        if any(n != 1 for n in vshape[:extra]):
            return False
        vshape = vshape[extra:]
    return all(v == 1 or v == t for v, t in zip(vshape[::-1], tshape[::-1]))


def setitem(x: Tensor, idx: Any, value: Any) -> None:
    from engine.ops.inplace import VIEW_LEAF_MSG, check_inplace, commit

    if not isinstance(value, (Tensor, int, float, complex, np.number, np.bool_)):  # (torch's valueToTensor)
        shown = "numpy.ndarray" if isinstance(value, np.ndarray) else type_name(value)
        raise TypeError(f"can't assign a {shown} to a {x.type()}")
    if x._data.ndim == 0:
        _zero_dim_index(x, idx)
    if type(idx) in (range, np.ndarray) or (type(idx) is tuple and any(type(i) in (range, np.ndarray) for i in idx)):
        idx = _sequences(idx)
    if type(idx) is list or isinstance(idx, (tuple, Tensor)):
        entries = idx if type(idx) is tuple else (idx,)
        advs = [i for i in entries if isinstance(i, (Tensor, list)) and not _is_int_index(i)]
        if (
            len(advs) == 1
            and isinstance(advs[0], Tensor)
            and advs[0]._data.dtype == np.uint8
            and (not isinstance(value, Tensor) or value._data.ndim == 0)
        ):  # torch fills a scalar through masked_fill_, which refuses a uint8 mask
            raise RuntimeError("masked_fill_ only supports boolean masks, but got mask with dtype unsigned char")
        idx = _legacy(idx)
    split = _basic_first(x, idx)
    if split is not None:  # torch writes x[basic..., adv] = v through the view the basic indices make
        setitem(getitem(x, split[0]), split[1], value)
        return
    nidx, advanced, name = _norm_index(x, idx if isinstance(idx, tuple) else (idx,))
    if advanced and isinstance(value, Tensor) and value.dtype is not x.dtype:
        mask_fill = isinstance(idx, Tensor) and idx._data.dtype.kind == "b" and value._data.ndim == 0
        if not mask_fill:  # (x[mask] = 0-dim value is masked_fill_, which casts)
            raise RuntimeError(
                "Index put requires the source and destination dtypes match, got "
                f"{x.dtype.scalar_name()} for the destination and {value.dtype.scalar_name()} for the source."
            )
    if ENABLED[0] and x._rg and x.grad_fn is None and not advanced and name != "AliasBackward0":
        raise RuntimeError(VIEW_LEAF_MSG)  # torch writes through a view of x here
    check_inplace(x)
    from engine.ops.inplace import writable_view

    d = writable_view(x._data)  # torch assigns through an expanded tensor's aliases
    if isinstance(value, Tensor):
        if value._dev is not x._dev and not (value._dev.type == "cpu" and value._data.ndim == 0):
            raise mixed_device(x, value)
        vd = value._data
    elif type(value) in (int, float):
        if type(value) is int and not -(2**63) <= value < 2**63:  # (torch reads the int as a C long long first)
            raise ValueError("Overflow when unpacking long long")
        if d.dtype == np.float16:  # (torch's indexed write rounds a number beyond half's range to inf, unchecked)
            with np.errstate(over="ignore"):
                vd = np.float16(np.float32(value))  # (through float, as c10::Half is made from a double)
        else:
            vd = scalar_to(value, d.dtype)
    else:
        vd = value
    try:
        try:
            target = d[nidx]
        except (IndexError, ValueError) as e:  # cupy: ValueError "operands could not be broadcast together"
            if "could not be broadcast" in str(e):
                raise _adv_broadcast_error(nidx) from None
            raise
        tshape = np.shape(target)
        vshape = np.shape(vd)
        if not advanced and isinstance(value, Tensor):  # target is a view of x: torch's overlap rule applies
            from engine.ops.inplace import check_no_partial_overlap

            check_no_partial_overlap(target, vd)
        if not advanced:  # torch copies into the view: drop leading 1s, then expand (with expand's errors)
            vs = tuple(vshape)
            while vs and vs[0] == 1:
                vs = vs[1:]
            if len(vs) > len(tshape) or any(a != b and a != 1 for a, b in zip(vs[::-1], tshape[::-1])):
                from engine.ops.shape import expand

                expand(wrap(np.broadcast_to(np.zeros((), getattr(vd, "dtype", d.dtype)), vs)), tshape)
            if name == "AliasBackward0":  # the whole tensor: torch fills or copies (FillBackward3, CopyBackwards)
                from engine.ops.inplace import copy_, fill_

                if not isinstance(value, Tensor) or value._data.ndim == 0:
                    fill_(x, value if isinstance(value, Tensor) else wrap(np.asarray(vd)))
                else:
                    copy_(x, value if value._data.shape == d.shape else value.expand(d.shape))
                return
            st = getattr(target, "strides", ())
            if 0 in st and 0 not in tshape and any(s == 0 and n > 1 for s, n in zip(st, tshape)):
                # (torch copies into the view, and copy_ refuses a destination whose elements alias each other)
                from engine.ops.inplace import OVERLAP_MSG

                raise RuntimeError(OVERLAP_MSG)
            if len(vshape) > len(tshape):  # (the leading 1s dropped: a [1] value into a 0-d element)
                vd = vd.reshape(vs)
                vshape = vs
        if not expands_to(vshape, tshape):
            raise RuntimeError(
                f"shape mismatch: value tensor of shape [{', '.join(map(str, vshape))}] cannot be broadcast to "
                f"indexing result of shape [{', '.join(map(str, tshape))}]"
            )
        needs_graph = ENABLED[0] and (x._rg or (isinstance(value, Tensor) and value._rg))
        if needs_graph:
            with NoGrad():
                old = wrap(d.copy(), x._dev)
        if hasattr(vd, "astype"):
            if d.dtype.char == "e" and vd.dtype.char == "d":  # (double -> c10::Half goes through float)
                vd = vd.astype(np.float32)
            vd = vd.astype(d.dtype, copy=False)
        d[nidx] = vd
    except (ValueError, TypeError, OverflowError) as e:
        if type(value) is complex:  # (a complex number into a real tensor: torch's checked_convert refuses it)
            from engine.ops.util import _overflow

            raise _overflow(d.dtype) from None
        raise RuntimeError(str(e)) from None
    c = x._vc
    c[0] += 1
    from engine import autograd

    c[1] = autograd.current_site
    if needs_graph:
        node = IndexPutBackward0_() if advanced else CopySlices()
        node._seq = next_seq()
        vt = value if isinstance(value, Tensor) else None
        node._next = (edge_of(x), edge_of(vt) if vt is not None else None)
        # the index tensors are saved too (torch's index_put_ keeps them): one changed in place since fails the
        # backward with torch's version error, rather than reading the new indices
        entries = idx if type(idx) is tuple else (idx,)
        index_tensors = tuple(i for i in entries if isinstance(i, Tensor)) if advanced else ()
        node._saved = (nidx, advanced, np.shape(vd), tshape, *index_tensors)
        node._vers = (None, None, None, None, *((i._vc, i._vc[0]) for i in index_tensors))
        if vt is not None and vt._data.dtype != d.dtype:
            node._meta = (None, (vt._data.shape, vt._data.dtype))
        node._ctx = (d.shape, d.dtype)
        del old
        new = wrap(d, x._dev)
        new._rg = True
        new.grad_fn = node
        commit(x, new)


def _copyslices_bw(
    self: Any, g: Tensor, idx: tuple, advanced: bool, vshape: tuple, tshape: tuple, *index_tensors: Tensor
) -> tuple:
    from engine.ops.shape import sum_to

    n = self._next
    gx = gv = None
    if n[0] is not None:
        from engine.ops.elementwise import where

        # the overwritten elements' gradient is zero, not g times 0 (which keeps g's nan and inf)
        keep = g._dev.xp.ones(g._data.shape, dtype=bool)
        keep[idx] = False
        gx = where(wrap(keep, g._dev), g, 0.0)
    if n[1] is not None:
        gv = _adv_get(g, idx) if advanced else getitem(g, idx if len(idx) != 1 else idx[0])
        gv = sum_to(gv, tuple(vshape))
    return gx, gv


CopySlices = node_class("CopySlices", _copyslices_bw)
CopySlices.name = lambda self: "torch::autograd::CopySlices"
IndexPutBackward0_ = node_class("IndexPutBackward0", _copyslices_bw)  # x[advanced] = v (index_put_)


# ---- index_select / masked ops / take --------------------------------------------------------------------
def _index_select_bw(self: Any, g: Tensor, shape: tuple, dim: int, index: Tensor) -> tuple:
    if shape == ():  # a 0-dim input: its one element was selected
        return (g.reshape(()) * 1,)
    return (index_add_new(g, dim, index, shape),)


IndexSelectBackward0 = node_class("IndexSelectBackward0", _index_select_bw)


@with_out
def index_select(input: Tensor, dim: int, index: Tensor) -> Tensor:  # noqa: A002
    d = input._data
    no_uint_kernel("index_select", d.dtype)
    ax = norm_dim(dim, d.ndim)
    if not isinstance(index, Tensor):
        raise TypeError(f"index_select(): argument 'index' (position 3) must be Tensor, not {type_name(index)}")
    if index._data.dtype.kind not in "iu":
        raise RuntimeError("index_select(): Expected dtype int32 or int64 for index")
    if index._data.ndim > 1:
        raise IndexError("index_select(): Index is supposed to be a vector")
    ia = index._data.reshape(-1)
    n = d.shape[ax] if d.ndim else 1
    if not d.ndim and ia.size != 1:
        raise RuntimeError(f"index_select(): Index to scalar can have only 1 value, got {ia.size} value(s)")
    if ia.size and ((r := index_range(ia))[0] < 0 or r[1] >= n):  # (no negative index, as in torch)
        if n == 0:
            raise RuntimeError("index_select(): self indexing axis dim should be positive")
        if d.ndim > 1 and ax == 1:  # torch's cpu kernel for dim 1 (index_select_out_cpu_dim1_) checks each index
            raise RuntimeError(f"INDICES element is out of DATA bounds, id={first_out_of_range(ia, 0, n)} axis_dim={n}")
        raise IndexError("index out of range in self")
    r = for_array(np.take, d)(d, ia, axis=ax) if d.ndim else d.reshape(1)[ia].reshape(())  # (0-dim stays 0-dim)
    t = wrap_any(r, input._dev)
    if ENABLED[0] and input._rg:
        node = IndexSelectBackward0()
        node._seq = next_seq()
        node._next = (edge_of(input),)
        node._saved = (d.shape, ax, wrap(ia, index._dev))
        node._vers = (None, None, None)
        node._ctx = (t._data.shape, t._data.dtype)
        t._rg = True
        t.grad_fn = node
    return t


IndexAddBackward0 = node_class("IndexAddBackward0", lambda self, g, dim, index: (index_select(g, dim, index),))


def index_add_new(g: Tensor, dim: int, index: Tensor, shape: tuple) -> Tensor:
    xp = g._dev.xp
    z = xp.zeros(shape, dtype=g._data.dtype)
    zm = xp.moveaxis(z, dim, 0)
    add_at(xp, zm, index._data, xp.moveaxis(g._data, dim, 0))
    t = wrap(z, g._dev)
    if ENABLED[0] and g._rg:
        node = IndexAddBackward0()
        node._seq = next_seq()
        node._next = (edge_of(g),)
        node._saved = (dim, index)
        node._vers = (None, None)
        node._ctx = (shape, z.dtype)
        t._rg = True
        t.grad_fn = node
    return t


def _index_func_check(fn: str, input: Tensor, index: Tensor, source: Tensor) -> None:  # noqa: A002
    """torch's index_add_/index_reduce_ checks on index and source, in its order: no promotion of source."""
    ia = index._data
    if ia.dtype != np.int64 and ia.dtype != np.int32:
        raise RuntimeError(f"{fn}(): Expected dtype int32/int64 for index but got: {index.dtype.scalar_name()}")
    if ia.ndim > 1:
        raise IndexError(
            f"{fn}(): Index is supposed to be a vector, but got dim: {ia.ndim} with type: "
            f"{index.dtype.scalar_name()} and size: [{', '.join(map(str, ia.shape))}]"
        )
    if source.dtype is not input.dtype:
        raise RuntimeError(
            f"{fn}(): self ({input.dtype.scalar_name()}) and source ({source.dtype.scalar_name()}) must have the "
            "same scalar type"
        )


def _index_func_shapes(fn: str, input: Tensor, ax: int, index: Tensor, source: Tensor, bounds: Any = True) -> None:  # noqa: A002, E501
    """torch's index_func_meta_impl checks on the shapes (after the dtype checks), then index_add's kernel's bounds
    check (bounds=False: the caller's kernel checks in its own words; "scatter": alpha is 1, so a matrix's first or
    last dim takes the scatter_add_ path and its words)."""
    ss, xs = source._data.shape, input._data.shape
    if ax != 0 and ax >= len(ss):
        raise RuntimeError(f"{fn}(): Indexing dim {ax} is out of bounds of the source tensor with dim {len(ss)}")
    n = index._data.size
    if n != (ss[ax] if ss else 1):
        raise RuntimeError(
            f"{fn}(): Number of indices ({n}) should be equal to source.size(dim): ({ss[ax]}), for dim: {ax}"
        )
    if (xs[:ax] + xs[ax + 1 :] if ss and xs else xs) != (ss[:ax] + ss[ax + 1 :] if ss and xs else ss):
        raise RuntimeError(
            "source tensor shape must match self tensor shape, excluding the specified dimension. Got self.shape = "
            f"[{', '.join(map(str, xs))}] source.shape = [{', '.join(map(str, ss))}]"
        )
    size = xs[ax] if xs else 1
    ia = index._data
    if bounds and n and ((r := index_range(ia))[0] < 0 or r[1] >= size):
        if len(xs) > 1 and not input._data.size:  # (torch's kernel returns before its check on an empty matrix)
            return
        if len(xs) > 1 and (ax == 0 or ax == len(xs) - 1) and bounds == "scatter" and ia.dtype == np.int64:
            # (index_add's fast path on a first or last dim with alpha 1: scatter_add_'s check and words)
            raise RuntimeError(
                f"index {first_out_of_range(ia.reshape(-1), 0, size)} is out of bounds for dimension {ax} with size "
                f"{size}"
            )
        raise IndexError("index out of range in self")  # (the serial kernel's TORCH_CHECK_INDEX)


def index_add(input: Tensor, dim: int, index: Tensor, source: Tensor, *, alpha: Any = 1) -> Tensor:  # noqa: A002
    _index_func_check("index_add_", input, index, source)
    ax = norm_dim(dim, input._data.ndim)
    _index_func_shapes("index_add_", input, ax, index, source, "scatter" if alpha == 1 else True)
    if index._data.ndim == 0:
        index = index.reshape(1)
    with NoGrad():
        if input._data.ndim > 1 and not input._data.size:  # (nothing to add to: torch skips even the index check)
            r = input.clone()
        elif input._data.ndim == 0 or source._data.ndim == 0:  # (a 0-dim side: one element, added in place of the row)
            src = (source * alpha if alpha != 1 else source).reshape(input._data.shape)
            r = input + src
        elif type(input._data) is np.ndarray and input._data.dtype.char in "fd" and source.dtype is input.dtype:
            r = wrap(_index_add_cpu(input._data, ax, index._data, source._data, alpha), input._dev)
        elif alpha == 1 and source.dtype is input.dtype and _half_host(input._data):
            r = wrap(_index_add_rounded(input._data, ax, index._data, source._data), input._dev)
        else:
            r = input + index_add_new(source * alpha if alpha != 1 else source, ax, index, input._data.shape)
    return record(IndexAddBackward, r._data, r._dev, (input, source), (ax, index, alpha), (None,) * 3)


def _half_host(d: Any) -> bool:
    """A host array of float16 or bfloat16 (the engine's bfloat16: float32 values tagged in the dtype)."""
    return isinstance(d, np.ndarray) and (d.dtype == np.float16 or d.dtype.metadata is not None)


def _index_add_rounded(x: Any, ax: int, idx: np.ndarray, src: Any) -> Any:
    """index_add of float16 or bfloat16 (alpha 1) as torch's cpu kernel: the sums kept in float, in index order,
    rounded to the type once at the end."""
    from engine.bf16 import plain, to_bf16

    bf16 = x.dtype.metadata is not None
    out = np.array(plain(x) if bf16 else x, dtype=np.float32, copy=True, order="C")
    np.add.at(
        np.moveaxis(out, ax, 0),
        idx.reshape(-1),
        np.moveaxis(np.asarray(plain(src) if bf16 else src, np.float32), ax, 0),
    )
    return to_bf16(out) if bf16 else out.astype(np.float16)


def _index_add_cpu(x: np.ndarray, ax: int, idx: np.ndarray, src: np.ndarray, alpha: Any) -> np.ndarray:
    """torch's cpu index_add: each source slice added onto the input's in index order (a repeated index sums onto
    what the earlier ones left); alpha != 1 on a matrix or more as add_'s fused multiply-add, on a vector as
    src * alpha then the add."""
    from engine.ops.fma import fma

    out = np.array(x, copy=True, order="C")
    om, sm = np.moveaxis(out, ax, 0), np.moveaxis(src, ax, 0)
    idx = idx.reshape(-1)
    if alpha == 1 or x.ndim <= 1:
        np.add.at(om, idx, sm * x.dtype.type(alpha) if alpha != 1 else sm)
        return out
    # fused: one round per repetition of an index (each round's indices are distinct), in index order
    order = np.argsort(idx, kind="stable")
    first = np.r_[True, idx[order][1:] != idx[order][:-1]]
    starts = np.maximum.accumulate(np.where(first, np.arange(idx.size), 0))
    rank = np.empty(idx.size, np.int64)
    rank[order] = np.arange(idx.size) - starts
    for k in range(int(rank.max()) + 1 if idx.size else 0):
        sel = np.flatnonzero(rank == k)
        om[idx[sel]] = fma(sm[sel], float(x.dtype.type(alpha)), np.ascontiguousarray(om[idx[sel]]))
    return out


def _index_add_bw(self: Any, g: Tensor, dim: int, index: Tensor, alpha: Any) -> tuple:
    n = self._next
    gs = None
    if n[1] is not None:
        gs = g.index_select(dim, index) if g._data.ndim else g * 1
        if alpha != 1:
            gs = gs * alpha
    return (g if n[0] is not None else None, gs)


IndexAddBackward = node_class("IndexAddBackward0", _index_add_bw)  # (index_add(input, ...): both inputs)


MaskedSelectBackward0 = node_class(
    "MaskedSelectBackward0", lambda self, g, shape, mask: (index_put_new(g, (mask,), shape, True),)
)


@with_out
def masked_select(input: Tensor, mask: Tensor) -> Tensor:  # noqa: A002
    if mask._data.dtype.kind != "b":
        raise RuntimeError("masked_select: expected BoolTensor for mask")
    same_device((input, mask))
    d, m = input._data, mask._data
    try:
        shape = np.broadcast_shapes(d.shape, m.shape)
    except ValueError:
        raise RuntimeError(_bcast_msg(d.shape, m.shape)) from None
    db = np.broadcast_to(d, shape)
    mb = np.broadcast_to(m, shape)
    t = wrap_any(db[mb], input._dev)
    if ENABLED[0] and input._rg:
        node = MaskedSelectBackward0()
        node._seq = next_seq()
        node._next = (edge_of(input),)
        node._saved = (shape, mb)
        node._vers = (None, None)
        if shape != d.shape:
            node._meta = ((d.shape, d.dtype),)
        node._ctx = (t._data.shape, t._data.dtype)
        t._rg = True
        t.grad_fn = node
    return t


def _bcast_msg(a: tuple, b: tuple) -> str:
    for i in range(1, max(len(a), len(b)) + 1):
        x = a[-i] if i <= len(a) else 1
        y = b[-i] if i <= len(b) else 1
        if x != y and x != 1 and y != 1:
            dim = max(len(a), len(b)) - i
            return f"The size of tensor a ({x}) must match the size of tensor b ({y}) at non-singleton dimension {dim}"
    return "shapes cannot be broadcast"


def _masked_fill_bw(self: Any, g: Tensor, mask: Tensor) -> tuple:
    return (masked_fill(g, mask, 0.0),)  # torch's grad.masked_fill(mask, 0) (MaskedFillBackward0 when recorded)


MaskedFillBackward0 = node_class("MaskedFillBackward0", _masked_fill_bw)


def _masked_fill1_bw(self: Any, g: Tensor, mask: Tensor) -> tuple:
    from engine.ops.elementwise import where

    n = self._next
    return (
        masked_fill(g, mask, 0.0) if n[0] is not None else None,
        where(mask, g, 0.0).sum() if n[1] is not None else None,
    )


MaskedFillBackward1 = node_class("MaskedFillBackward1", _masked_fill1_bw)


def masked_fill(input: Tensor, mask: Tensor, value: Any) -> Tensor:  # noqa: A002
    if value is None:  # (torch's parser refuses it: tcli words it so)
        raise TypeError("masked_fill(): value must be a Tensor or a Number, not NoneType")
    no_uint_kernel("masked_fill", input._data.dtype)
    if mask._data.dtype.kind != "b":
        raise RuntimeError(
            f"masked_fill_ only supports boolean masks, but got mask with dtype {mask.dtype.name_for_error()}"
        )
    vt = None
    if isinstance(value, Tensor):
        if value._data.ndim != 0:
            raise RuntimeError(
                "masked_fill_ only supports a 0-dimensional value tensor, but got tensor with "
                f"{value._data.ndim} dimension(s)."
            )
        vt, value = value, value.item()
    d = input._data
    try:
        fill = np.array(value).astype(d.dtype)[()] if vt is not None else scalar_to(value, d.dtype)
        r = input._dev.xp.where(mask._data, fill, d)  # (out of place, torch broadcasts input and mask)
    except ValueError:
        raise RuntimeError(_bcast_msg(mask._data.shape, d.shape)) from None
    t = wrap(r, input._dev)
    if ENABLED[0] and (input._rg or (vt is not None and vt._rg)):
        node = MaskedFillBackward0() if vt is None else MaskedFillBackward1()
        node._seq = next_seq()
        node._next = (edge_of(input),) if vt is None else (edge_of(input), edge_of(vt))
        fit_in = (d.shape, d.dtype) if r.shape != d.shape else None
        if vt is not None and vt._data.dtype != r.dtype:
            node._meta = (fit_in, (vt._data.shape, vt._data.dtype))
        elif fit_in is not None:
            node._meta = (fit_in,) if vt is None else (fit_in, None)
        node._saved = (mask,)
        node._vers = ((mask._vc, mask._vc[0]),)
        node._ctx = (r.shape, r.dtype)
        t._rg = True
        t.grad_fn = node
    return t


def take(input: Tensor, index: Tensor) -> Tensor:  # noqa: A002
    n, ia = input._data.size, index._data
    if ia.dtype != np.int64:
        raise RuntimeError(f"take(): Expected a long tensor for index, but got {index.dtype.scalar_name()}")
    if ia.size and index._data.dtype.kind in "iu" and ((r := index_range(ia))[0] < -n or r[1] >= n):
        bad = first_out_of_range(ia, -n, n)
        raise IndexError(f"out of range: tried to access index {bad} on a tensor of {n} elements.")
    with NoGrad():
        r = getitem(input.reshape(-1), index)
    return record(TakeBackward0, r._data, r._dev, (input,), (input._data.shape, index), (None, None))


def _take_bw(self: Any, g: Tensor, shape: tuple, index: Tensor) -> tuple:
    n = 1
    for s in shape:
        n *= s
    return (index_put_new(g.reshape(-1), (index._data.reshape(-1),), (n,), True).reshape(shape),)


TakeBackward0 = node_class("TakeBackward0", _take_bw)


# ---- gather / scatter ----------------------------------------------------------------------------------
def _gather_bw(self: Any, g: Tensor, shape: tuple, dim: int, index: Tensor, _x: Any = None) -> tuple:
    if shape == ():  # a 0-dim input: its one element was gathered
        return (g * 1,)
    return (scatter_add_new(g, dim, index, shape),)


GatherBackward0 = node_class("GatherBackward0", _gather_bw)


def _check_index(index: Tensor, fn: str) -> None:
    if not isinstance(index, Tensor):  # (a list of indices: the parser's message, as torch.gather words it)
        raise TypeError(f"{fn}(): argument 'index' (position 3) must be Tensor, not {type_name(index)}")
    if index._data.dtype != np.int64 and index._data.dtype != np.int32:
        raise RuntimeError(f"{fn}(): Expected dtype int32/int64 for index")


@with_out
def gather(input: Tensor, dim: int, index: Tensor, *, sparse_grad: bool = False) -> Tensor:  # noqa: A002
    _check_index(index, "gather")
    d = input._data
    no_uint_kernel("scatter_gather_tensor_cpu", d.dtype)
    ax = norm_dim(dim, d.ndim)
    ia = index._data
    if ia.ndim != d.ndim:
        raise RuntimeError("Index tensor must have the same number of dimensions as input tensor")
    if d.ndim == 0:  # dim 0 of a 0-dim tensor: one element
        d, ia = d.reshape(1), ia.reshape(1)
    for i in range(d.ndim):  # (torch's gather_shape_check)
        if i != ax and ia.shape[i] > d.shape[i]:
            raise RuntimeError(
                f"Size does not match at dimension {i} expected index [{', '.join(map(str, index._data.shape))}] to "
                f"be no larger than self [{', '.join(map(str, input._data.shape))}] apart from dimension {ax}"
            )
    n = d.shape[ax]
    if ia.size and ((r := index_range(ia))[0] < 0 or r[1] >= n):  # (gather takes no negative index)
        raise RuntimeError(f"index {r[1] if r[1] >= n else r[0]} is out of bounds for dimension {ax} with size {n}")
    sl = tuple(slice(0, s) for s in ia.shape)
    sub = d[tuple(slice(None) if i == ax else sl[i] for i in range(d.ndim))]
    r = for_array(np.take_along_axis, sub)(sub, ia, axis=ax)
    if input._data.ndim == 0:
        r, d = r.reshape(()), input._data
    t = wrap(r, input._dev)
    if ENABLED[0] and input._rg:
        node = GatherBackward0()
        node._seq = next_seq()
        node._next = (edge_of(input),)
        node._saved = (d.shape, ax, index, input)  # torch saves self and index: in-place changes are errors
        node._vers = (None, None, (index._vc, index._vc[0]), (input._vc, input._vc[0]))
        node._ctx = (r.shape, r.dtype)
        t._rg = True
        t.grad_fn = node
    return t


ScatterAddBackward0 = node_class("ScatterAddBackward0", lambda self, g, dim, index: (gather(g, dim, index),))


def scatter_add_new(g: Tensor, dim: int, index: Tensor, shape: tuple, base: Any = None) -> Tensor:
    """zeros(shape).scatter_add(dim, index, g): the backward of gather, differentiable. base: an array to add onto
    instead of zeros (scatter_add's input: each element's sources added onto it in index order, as torch's)."""
    xp = g._dev.xp
    z = xp.zeros(shape, dtype=g._data.dtype) if base is None else xp.array(base, copy=True)
    ia = index._data
    grids = xp.ix_(*(xp.arange(n) for n in ia.shape))  # open grids (cupy's indices has no sparse=)
    full = tuple(ia if i == dim else grids[i] for i in range(len(shape)))
    add_at(xp, z, full, g._data)
    t = wrap(z, g._dev)
    if ENABLED[0] and g._rg:
        node = ScatterAddBackward0()
        node._seq = next_seq()
        node._next = (edge_of(g),)
        node._saved = (dim, index)
        node._vers = (None, None)
        node._ctx = (shape, z.dtype)
        t._rg = True
        t.grad_fn = node
    return t


ScatterNewBackward0 = node_class("ScatterBackward0", lambda self, g, dim, index: (gather(g, dim, index),))


def scatter_new(g: Tensor, dim: int, index: Tensor, shape: tuple) -> Tensor:
    """Place g at unique positions along dim (max/sort backward): scatter_add there, recorded as torch's
    zeros(...).scatter_(dim, indices, grad) (ScatterBackward0)."""
    t = scatter_add_new(g, dim, index, shape)
    if type(t.grad_fn) is ScatterAddBackward0:
        t.grad_fn.__class__ = ScatterNewBackward0
    return t


def _scatter_bounds(index: Tensor, shape: tuple, ax: int) -> None:
    ia = index._data
    if ia.size and shape:
        n = shape[ax]
        lo, hi = index_range(ia)
        if lo < 0 or hi >= n:
            raise RuntimeError(f"index {hi if hi >= n else lo} is out of bounds for dimension {ax} with size {n}")


def _scatter_check(input: Tensor, index: Tensor, src: Any) -> None:  # noqa: A002
    """torch's scatter_gather_dtype_check, shared by scatter, scatter_add and their in-place forms: the index's
    dtype, then src's (never promoted or cast to self's), then src's rank."""
    if index._data.dtype != np.int64 and index._data.dtype != np.int32:
        raise RuntimeError("scatter(): Expected dtype int32/int64 for index")
    if isinstance(src, Tensor):
        if src.dtype is not input.dtype:
            raise RuntimeError("scatter(): Expected self.dtype to be equal to src.dtype")
        if src._data.ndim != index._data.ndim:
            raise RuntimeError("Index tensor must have the same number of dimensions as src tensor")


def _scatter_shapes(input: Tensor, ax: int, index: Tensor, src: Any) -> None:  # noqa: A002
    """torch's scatter_shape_check: index as many dims as self, and no larger than self (apart from dim) or src."""
    ia, d = index._data, input._data
    if not ia.size:
        return
    if max(d.ndim, 1) != max(ia.ndim, 1):
        raise RuntimeError("Index tensor must have the same number of dimensions as self tensor")
    ish, dsh = ia.shape or (1,), d.shape or (1,)
    wrong = any(ish[k] > dsh[k] for k in range(len(ish)) if k != ax)
    s = src._data if isinstance(src, Tensor) else None
    if not wrong and s is not None:
        ssh = s.shape or (1,)
        wrong = any(ish[k] > ssh[k] for k in range(len(ish)))
    if wrong:
        shp = lambda a: "[" + ", ".join(map(str, a)) + "]"  # noqa: E731
        tail = f" and to be no larger size than src {shp(s.shape)}" if s is not None else ""
        raise RuntimeError(
            f"Expected index {shp(ia.shape)} to be no larger than self {shp(d.shape)} apart from dimension {ax}{tail}"
        )


def scatter_add(input: Tensor, dim: int, index: Tensor, src: Tensor) -> Tensor:  # noqa: A002
    _scatter_check(input, index, src)
    ax = norm_dim(dim, input._data.ndim)
    _scatter_shapes(input, ax, index, src)
    _scatter_bounds(index, input._data.shape, ax)
    sl = tuple(slice(0, s) for s in index._data.shape)
    part = src[sl] if src._data.shape != index._data.shape else src
    with NoGrad():
        d = input._data
        if type(d) is np.ndarray and d.dtype == np.float16 and part._data.dtype == d.dtype:
            # torch's Half scatter_add accumulates in float and rounds once
            r = scatter_add_new(part.float(), ax, index, d.shape, d.astype(np.float32)).half()
        elif part._data.dtype == d.dtype:
            r = scatter_add_new(part, ax, index, input._data.shape, input._data)
        else:
            r = input + scatter_add_new(part, ax, index, input._data.shape)
    # torch's node: the input's gradient passes, the source's is gathered (as if it were index's shape)
    return record(ScatterAddBackward, r._data, r._dev, (input, src), (ax, index, src._data.shape), (None,) * 3)


def _scatter_add_bw(self: Any, g: Tensor, dim: int, index: Tensor, src_shape: tuple) -> tuple:
    n = self._next
    gs = None
    if n[1] is not None:
        gs = g.gather(dim, index)
        if gs._data.shape != src_shape:  # torch's engine refuses the index-shaped gradient of a larger src
            got, want = (", ".join(map(str, s)) for s in (gs._data.shape, src_shape))
            raise RuntimeError(
                f"Function ScatterAddBackward0 returned an invalid gradient at index 1 - got [{got}] but expected "
                f"shape compatible with [{want}]"
            )
    return (g if n[0] is not None else None, gs)


ScatterAddBackward = node_class("ScatterAddBackward0", _scatter_add_bw)  # (scatter_add(input, ...): both inputs)


def scatter(
    input: Tensor, dim: int, index: Tensor, src: Any = None, *, value: Any = None, reduce: Any = None
) -> Tensor:  # noqa: A002
    if src is None:
        src = value
    if src is None:  # (torch's parser refuses it: tcli words it so)
        raise TypeError("scatter(): src must be a Tensor or value a Number, not NoneType")
    if reduce is not None:
        return _scatter_reduce_legacy(input, dim, index, src, reduce)
    _scatter_check(input, index, src)
    ax = norm_dim(dim, input._data.ndim)
    _scatter_shapes(input, ax, index, src)
    _scatter_bounds(index, input._data.shape, ax)
    r = input._data.copy()
    ia = index._data
    xp = input._dev.xp
    grids = xp.ix_(*(xp.arange(n) for n in ia.shape))  # open grids (cupy's indices has no sparse=)
    full = tuple(ia if i == ax else grids[i] for i in range(r.ndim))
    if isinstance(src, Tensor):
        sl = tuple(slice(0, s) for s in ia.shape)
        r[full] = src._data[sl]
    else:
        r[full] = src
    t = wrap(r, input._dev)
    st = src if isinstance(src, Tensor) else None
    if ENABLED[0] and (input._rg or (st is not None and st._rg)):
        node = ScatterBackward0() if st is not None else ScatterBackward1()
        node._seq = next_seq()
        node._next = (edge_of(input), edge_of(st)) if st is not None else (edge_of(input),)
        node._saved = (ax, index, None if st is None else st._data.shape)
        node._vers = (None, None, None)
        node._ctx = (r.shape, r.dtype)
        t._rg = True
        t.grad_fn = node
    return t


def _scatter_reduce_legacy(input: Tensor, dim: int, index: Tensor, src: Any, reduce: Any) -> Tensor:  # noqa: A002
    """scatter(..., reduce='add'|'multiply'): each indexed place combined with its src values in index order
    (torch's kernel is serial on the cpu); torch defines no derivative for it."""
    if isinstance(src, Tensor):  # (torch warns before it looks at the reduce name)
        warn_once(
            "The reduce argument of torch.scatter with Tensor src is deprecated and will be removed in a future "
            "PyTorch release. Use torch.scatter_reduce instead for more reduction options. (Triggered internally "
            "at /__w/pytorch/pytorch/aten/src/ATen/native/TensorAdvancedIndexing.cpp:225.)"
        )
    _scatter_check(input, index, src)
    ax = norm_dim(dim, input._data.ndim)
    _scatter_shapes(input, ax, index, src)
    if reduce not in ("add", "multiply"):  # (after the shape checks, as torch's kernel reads it)
        raise RuntimeError("reduce argument must be either add or multiply.")
    _scatter_bounds(index, input._data.shape, ax)
    r = input._data.copy()
    ia = index._data
    xp = input._dev.xp
    grids = xp.ix_(*(xp.arange(n) for n in ia.shape))
    full = tuple(xp.broadcast_to(ia if i == ax else grids[i], ia.shape) for i in range(r.ndim))
    if isinstance(src, Tensor):
        vals = src._data[tuple(slice(0, s) for s in ia.shape)].astype(r.dtype, copy=False)
    else:
        vals = xp.full(ia.shape, src).astype(r.dtype)
    # (serial, in index order, on the host: ufunc.at is numpy's; cupy's scatter_add has no multiply)
    host_r, host_full, host_vals = host(r), tuple(host(f) for f in full), host(vals)
    (np.add if reduce == "add" else np.multiply).at(host_r, host_full, host_vals)
    inputs = (input, src) if isinstance(src, Tensor) else (input,)
    return record(NotImplementedNode, xp.asarray(host_r), input._dev, inputs, ("aten::scatter",), (None,))


def _scatter_bw(self: Any, g: Tensor, dim: int, index: Tensor, src_shape: Any) -> tuple:
    """The scattered-over positions get no gradient; src gets the gradient gathered from them."""
    n = self._next
    gi = scatter(g, dim, index, value=0.0) if n[0] is not None else None
    if len(n) == 1:
        return (gi,)
    gs = None
    if n[1] is not None:
        gs = gather(g, dim, index)
        if gs._data.shape != tuple(src_shape):  # src larger than index: the rest gets zeros
            gs = index_put_new(gs, tuple(slice(0, s) for s in gs._data.shape), tuple(src_shape), False)
    return gi, gs


ScatterBackward0 = node_class("ScatterBackward0", _scatter_bw)  # src tensor
ScatterBackward1 = node_class("ScatterBackward1", _scatter_bw)  # value


# ---- cat / stack / split / chunk / unbind -------------------------------------------------------------------
def _cat_bw(self: Any, g: Tensor, dim: int, sizes: tuple) -> tuple:
    out = []
    start = 0
    for s in sizes:
        if s is None:  # a legacy empty 1-D input that cat skipped: its gradient is empty too
            out.append(wrap(g._dev.xp.zeros((0,), dtype=g._data.dtype), g._dev))
            continue
        out.append(g.narrow(dim, start, s))
        start += s
    return tuple(out)


CatBackward0 = node_class("CatBackward0", _cat_bw)


@autocast_policy(cpu="promote")
def cat(tensors: Any, dim: int = 0, *, out: Tensor | None = None) -> Tensor:
    if isinstance(tensors, Tensor):
        raise TypeError("cat(): argument 'tensors' (position 1) must be tuple of Tensors, not Tensor")
    tensors = _tensor_list(tensors)
    if not tensors:
        raise ValueError("torch.cat(): expected a non-empty list of Tensors")
    dev = same_device(tensors)
    for k, t in enumerate(tensors):
        if t._data.ndim == 0:
            raise RuntimeError(f"zero-dimensional tensor (at position {k}) cannot be concatenated")
    # torch skips legacy empty 1-D tensors in cat
    parts = [t for t in tensors if not (t._data.ndim == 1 and t._data.size == 0)] or tensors[:1]
    ref = parts[0]._data
    ax = norm_dim(dim, ref.ndim)
    for k, t in enumerate(parts):
        s = t._data.shape
        if len(s) != ref.ndim:
            raise RuntimeError(f"Tensors must have same number of dimensions: got {ref.ndim} and {len(s)}")
        for i in range(ref.ndim):
            if i != ax and s[i] != ref.shape[i]:
                raise RuntimeError(
                    f"Sizes of tensors must match except in dimension {ax}. Expected size {ref.shape[i]} but got "
                    f"size {s[i]} for tensor number {k} in the list."
                )
    rt = tensors[0]._data.dtype
    for t in tensors[1:]:  # the skipped empty tensors still take part in the result's dtype, as in torch
        rt = PROMOTE_NP[rt, t._data.dtype]
    xp = dev.xp
    r = xp.concatenate([t._data.astype(rt, copy=False) for t in parts], axis=ax)
    if not r.flags.c_contiguous and r.ndim > 1:
        r = _cat_layout(xp, r, parts)
    res = wrap(r, dev)
    if ENABLED[0] and any(t._rg for t in tensors):
        node = CatBackward0()
        node._seq = next_seq()
        node._next = tuple(edge_of(t) for t in tensors)
        kept = {id(t) for t in parts}
        node._saved = (ax, tuple(t._data.shape[ax] if id(t) in kept else None for t in tensors))
        node._vers = (None, None)
        meta = tuple(None if t._data.dtype == rt else (t._data.shape, t._data.dtype) for t in tensors)
        if any(m is not None for m in meta):
            node._meta = meta
        node._ctx = (r.shape, r.dtype)
        res._rg = True
        res.grad_fn = node
    if out is not None:
        from engine.ops.inplace import write_out

        return write_out(out, res)
    return res


def _cat_layout(xp: Any, r: Any, parts: list) -> Any:
    """torch's cat writes the inputs' common suggested memory format (channels-last where every input's strides
    suggest it), else a contiguous result; numpy's concatenate keeps the inputs' order (a transposed input's)."""
    from engine.ops.memory_layout import contiguous_format, elem_strides, relaid, suggest

    fmts = {suggest(t._data.shape, elem_strides(t._data)) for t in parts}
    fmt = fmts.pop() if len(fmts) == 1 else contiguous_format
    return relaid(xp, r, fmt)


def concat(tensors: Any, dim: int = 0) -> Tensor:
    if isinstance(tensors, Tensor):
        raise TypeError("concat(): argument 'tensors' (position 1) must be tuple of Tensors, not Tensor")
    return cat(tensors, dim)


def concatenate(tensors: Any, dim: int = 0) -> Tensor:
    if isinstance(tensors, Tensor):
        raise TypeError("concatenate(): argument 'tensors' (position 1) must be tuple of Tensors, not Tensor")
    return cat(tensors, dim)


def _stack_bw(self: Any, g: Tensor, dim: int, n: int) -> tuple:
    return tuple(g.select(dim, i) for i in range(n))


StackBackward0 = node_class("StackBackward0", _stack_bw)


def _tensor_list(tensors: Any) -> list:
    """A sequence of tensors as a list, with torch's TypeError for an element that is not one."""
    tensors = list(tensors)
    for k, t in enumerate(tensors):
        if not isinstance(t, Tensor):
            raise TypeError(f"expected Tensor as element {k} in argument 0, but got {parser_type_name(t)}")
    return tensors


@autocast_policy(cpu="promote")
def stack(tensors: Any, dim: int = 0, *, out: Tensor | None = None) -> Tensor:
    if isinstance(tensors, Tensor):  # (torch.stack(x, y): the tensors given one by one)
        raise TypeError("stack(): argument 'tensors' (position 1) must be tuple of Tensors, not Tensor")
    tensors = _tensor_list(tensors)
    if not tensors:
        raise RuntimeError("stack expects a non-empty TensorList")
    dev = same_device(tensors)
    s0 = tensors[0]._data.shape
    for k, t in enumerate(tensors):
        if t._data.shape != s0:
            raise RuntimeError(
                f"stack expects each tensor to be equal size, but got [{', '.join(map(str, s0))}] at entry 0 and "
                f"[{', '.join(map(str, t._data.shape))}] at entry {k}"
            )
    ax = norm_dim(dim, len(s0) + 1)
    rt = tensors[0]._data.dtype
    for t in tensors[1:]:
        rt = PROMOTE_NP[rt, t._data.dtype]
    r = dev.xp.stack([t._data.astype(rt, copy=False) for t in tensors], axis=ax)
    if not r.flags.c_contiguous:  # (numpy keeps a transposed input's order; torch writes a contiguous result)
        r = r.copy(order="C")
    res = wrap(r, dev)
    if ENABLED[0] and any(t._rg for t in tensors):
        node = StackBackward0()
        node._seq = next_seq()
        node._next = tuple(edge_of(t) for t in tensors)
        node._saved = (ax, len(tensors))
        node._vers = (None, None)
        meta = tuple(None if t._data.dtype == rt else (t._data.shape, t._data.dtype) for t in tensors)
        if any(m is not None for m in meta):
            node._meta = meta
        node._ctx = (r.shape, r.dtype)
        res._rg = True
        res.grad_fn = node
    if out is not None:
        from engine.ops.inplace import write_out

        return write_out(out, res)
    return res


def stack_family_list(name: str, tensors: Any, empty_name: str | None = None) -> list:
    """The tensors given to hstack/vstack/dstack/column_stack, with torch's errors for a tensor given alone, an
    element that is not a tensor and an empty list (row_stack's is vstack's)."""
    if isinstance(tensors, Tensor):
        raise TypeError(f"{name}(): argument 'tensors' (position 1) must be tuple of Tensors, not Tensor")
    tensors = _tensor_list(tensors)
    if not tensors:
        raise RuntimeError(f"{empty_name or name} expects a non-empty TensorList")
    return tensors


def hstack(tensors: Any) -> Tensor:
    tensors = stack_family_list("hstack", tensors)
    tensors = [t.reshape(1) if t._data.ndim == 0 else t for t in tensors]  # atleast_1d
    return cat(tensors, 0 if tensors[0]._data.ndim == 1 else 1)


def vstack(tensors: Any) -> Tensor:
    tensors = stack_family_list("vstack", tensors)
    return cat([t if t._data.ndim > 1 else t.reshape(1, -1) for t in tensors], 0)


def row_stack(tensors: Any) -> Tensor:
    return vstack(stack_family_list("row_stack", tensors, "vstack"))


def _narrow_bw(self: Any, g: Tensor, shape: tuple, dim: int, start: int) -> tuple:
    idx = (slice(None),) * dim + (slice(start, start + g._data.shape[dim]),)
    return (index_put_new(g, idx, shape, False),)


def _split_bw(self: Any, g: Any, shape: tuple, dim: int, sizes: tuple) -> tuple:
    """torch's split_backward: the outputs' gradients joined, zeros for an output that got none."""
    return (cat(_materialized(grads_of(g, len(sizes)), shape, dim, sizes), dim),)


def _materialized(grads: list, shape: tuple, dim: int, sizes: tuple | None) -> list:
    """grads with zeros (of the output's shape, the gradients' dtype and device) where an output got none;
    sizes None: unbind's outputs, which drop dim."""
    ref = next(x for x in grads if x is not None)
    for i, x in enumerate(grads):
        if x is None:
            s = shape[:dim] + ((sizes[i],) if sizes is not None else ()) + shape[dim + 1 :]
            grads[i] = wrap(ref._dev.xp.zeros(s, dtype=ref._data.dtype), ref._dev)
    return grads


SplitBackward0 = node_class("SplitBackward0", _split_bw)
SplitWithSizesBackward0 = node_class("SplitWithSizesBackward0", _split_bw)
NarrowBackward0 = node_class("SliceBackward0", _narrow_bw)


def _split_views(input: Tensor, ax: int, sizes: list, cls: type, op: str) -> tuple:  # noqa: A002
    """The pieces of input along ax, with one `cls` node shared by all of them (torch's SplitBackward0)."""
    out = []
    start = 0
    for length in sizes:
        out.append(_piece(input, ax, start, length, None))
        start += length
    if ENABLED[0] and input._rg:
        node = cls()
        node._seq = next_seq()
        node._next = (edge_of(input),)
        node._saved = (input._data.shape, ax, tuple(sizes))
        node._vers = (None, None, None)
        node._ctx = (out[0]._data.shape, out[0]._data.dtype)
        connect(node, out)
    return _multi(out, op)


def _piece(input: Tensor, ax: int, start: int, length: int, cls: type | None) -> Tensor:  # noqa: A002
    """A narrow view of input; cls None: its node is left to the caller (split's one for all pieces)."""
    d = input._data
    idx = (slice(None),) * ax + (slice(start, start + length),)
    t = view_of(d[idx], input)
    if cls is not None and ENABLED[0] and input._rg:
        node = cls()
        node._seq = next_seq()
        node._next = (edge_of(input),)
        node._saved = (d.shape, ax, start)
        node._vers = (None, None, None)
        node._ctx = (t._data.shape, t._data.dtype)
        t._rg = True
        t.grad_fn = node
    if input._rg or input._meta is not None:
        _remember_view(t, input, lambda b, a=ax, s=start, n=length: narrow(b, a, s, n))
    return t


def narrow(input: Tensor, dim: int, start: Any, length: int) -> Tensor:  # noqa: A002
    if isinstance(start, (float, np.ndarray)):  # (torch's parser refuses it: tcli words it so)
        raise TypeError(f"narrow(): argument 'start' must be int or Tensor, not {type(start).__name__}")
    d = input._data
    if d.ndim == 0:
        raise RuntimeError("narrow() cannot be applied to a 0-dim tensor.")
    ax = norm_dim(dim, d.ndim)
    start = int(start)
    if length < 0:
        raise RuntimeError("narrow(): length must be non-negative.")
    if not -d.shape[ax] <= start <= d.shape[ax]:
        raise IndexError(
            f"start out of range (expected to be in range of [{-d.shape[ax]}, {d.shape[ax]}], but got {start})"
        )
    if start < 0:
        start += d.shape[ax]
    if start + length > d.shape[ax]:
        raise RuntimeError(f"start ({start}) + length ({length}) exceeds dimension size ({d.shape[ax]}).")
    return _piece(input, ax, start, length, NarrowBackward0)


_UNSET: Any = object()


def split(tensor: Tensor, split_size_or_sections: Any = _UNSET, dim: Any = 0, *, split_size: Any = _UNSET) -> tuple:
    if split_size_or_sections is _UNSET:  # Tensor.split names it split_size
        split_size_or_sections = split_size
    if split_size_or_sections is _UNSET:  # (torch.split and Tensor.split are Python functions: Python's message)
        raise TypeError("split() missing 1 required positional argument: 'split_size_or_sections'")
    if not isinstance(tensor, Tensor):  # (torch.split calls tensor.split: a str's own split, or no such attribute)
        if isinstance(tensor, str):
            return tensor.split(split_size_or_sections, dim)
        raise AttributeError(f"'{parser_type_name(tensor)}' object has no attribute 'split'")
    s = split_size_or_sections
    if type(s) is not int or type(dim) is not int:  # (Tensor.split calls _VF.split with an int, else split_with_sizes)
        _split_parser(tensor, s, dim)
    d = tensor._data
    if d.ndim == 0:
        raise RuntimeError("split expects at least a 1-dimensional tensor")
    ax = norm_dim(dim, d.ndim)
    n = d.shape[ax]
    s = split_size_or_sections
    if isinstance(s, Tensor):
        s = s.tolist()
    if isinstance(s, (list, tuple)):
        if sum(s) != n:
            raise RuntimeError(
                f"split_with_sizes expects split_sizes to sum exactly to {n} (input tensor's size at dimension "
                f"{ax}), but got split_sizes=[{', '.join(map(str, s))}]"
            )
        sizes = list(s)
        cls = SplitWithSizesBackward0
    else:
        cls = SplitBackward0
        s = int(s)
        if s < 0:
            raise RuntimeError(f"split expects split_size be non-negative, but got split_size={s}")
        if s == 0 and n > 0:
            raise RuntimeError(f"split_size can only be 0 if dimension size is 0, but got dimension size of {n}")
        sizes = [s] * (n // s) + ([n % s] if n % s else []) if s > 0 else [0]
        if n == 0:
            sizes = [0]
    return _split_views(tensor, ax, sizes, cls, "SplitWithSizes" if cls is SplitWithSizesBackward0 else "Split")


def _split_parser(tensor: Tensor, s: Any, dim: Any) -> None:
    """torch's parser error of the _VF function Tensor.split calls (split for an int size, split_with_sizes for
    anything else but a tensor), where it refuses these arguments."""
    from engine.ops.arg_parser import refusal

    if isinstance(s, Tensor):
        return
    name = "split" if isinstance(s, int) and not isinstance(s, bool) else "split_with_sizes"
    refused = refusal("_VF", name, (tensor, s, dim), {})
    if refused is not None:
        raise refused


def _multi(views: list, op: str) -> tuple:
    """Mark the views one call returned together (split, chunk, unbind): torch refuses to modify them in
    place with grad (ops/inplace.check_inplace says so)."""
    for i, t in enumerate(views):
        if t._rg and t._meta is not None:
            t._meta["multi"] = (op, i)
    return tuple(views)


def chunk(input: Tensor, chunks: int, dim: int = 0) -> tuple:  # noqa: A002
    if not isinstance(chunks, int) and not hasattr(type(chunks), "__index__"):  # (x.chunk(n / 2): no rounding)
        raise TypeError(f"chunk(): argument 'chunks' (position 2) must be int, not {type_name(chunks)}")
    if chunks <= 0:
        raise RuntimeError(f"chunk expects `chunks` to be greater than 0, got: {chunks}")
    d = input._data
    if d.ndim == 0:
        raise RuntimeError("chunk expects at least a 1-dimensional tensor")
    ax = norm_dim(dim, d.ndim)
    n = d.shape[ax]
    size = -(-n // chunks) if n else 0
    if size == 0:
        return _split_views(input, ax, [0] * chunks, SplitWithSizesBackward0, "SplitWithSizes")
    return split(input, size, ax)


def tensor_split(input: Tensor, indices_or_sections: Any, dim: int = 0) -> tuple:  # noqa: A002
    d = input._data
    if d.ndim == 0:
        raise RuntimeError("tensor_split expected at least a 1-dimensional tensor, but got a tensor with 0 dims")
    ax = norm_dim(dim, d.ndim)
    n = d.shape[ax]
    if isinstance(indices_or_sections, Tensor):  # (a 0-dim tensor: the number of sections; 1-dim: indices)
        ia = indices_or_sections._data
        if ia.dtype != np.int64:  # (torch checks the dtype first)
            raise RuntimeError(
                "tensor_split expected tensor_indices_or_sections to have dtype of long, but got "
                f"{indices_or_sections.dtype.scalar_name()}"
            )
        if ia.ndim > 1:
            raise RuntimeError(
                "tensor_split expected tensor_indices_or_sections to be a zero-dimensional or one-dimensional "
                f"tensor, but got a tensor with {ia.ndim} dims"
            )
        indices_or_sections = int(ia) if ia.ndim == 0 else [int(v) for v in ia.tolist()]
    elif not isinstance(indices_or_sections, (int, list, tuple)):
        raise TypeError(
            f"tensor_split() received an invalid combination of arguments - got ({type_name(indices_or_sections)}), "
            "but expected one of:\n * (tuple of ints indices, int dim = 0)\n * (Tensor tensor_indices_or_sections, "
            "int dim = 0)\n * (int sections, int dim = 0)\n"
        )
    if isinstance(indices_or_sections, int):
        k = indices_or_sections
        if k <= 0:
            raise RuntimeError(f"number of sections must be larger than 0, got {k}")
        q, r = divmod(n, k)
        sizes = [q + 1] * r + [q] * (k - r)
        starts = [0, *itertools.accumulate(sizes[:-1])]
    else:  # each piece is torch's slice(start, end): a negative bound counts from the end, both clamped to [0, n]
        bounds = [0] + [b + n if b < 0 else b for b in indices_or_sections] + [n]
        bounds = [min(max(b, 0), n) for b in bounds]
        starts = bounds[:-1]
        sizes = [max(0, b - a) for a, b in zip(bounds, bounds[1:])]
    return tuple(_piece(input, ax, a, length, NarrowBackward0) for a, length in zip(starts, sizes))  # SliceBackward0


def combinations(input: Any, r: Any = 2, with_replacement: bool = False) -> Tensor:  # noqa: A002
    """torch.combinations, as torch computes it: an 'ij' meshgrid of r copies of input, each grid's elements where
    the grid indices increase (or do not decrease, with replacement) selected, the r columns stacked."""
    from engine.ops.shape import meshgrid

    if not isinstance(input, Tensor):
        raise TypeError(f"combinations(): argument 'input' (position 1) must be Tensor, not {type_name(input)}")
    if not isinstance(r, (int, np.integer)) or isinstance(r, bool):
        raise TypeError(f"combinations(): argument 'r' (position 2) must be int, not {type_name(r)}")
    d = input._data
    if d.ndim != 1:
        raise RuntimeError(f"Expect a 1D vector, but got shape [{', '.join(map(str, d.shape))}]")
    if r < 0:
        raise RuntimeError(f"Expect a non-negative number, but got {r}")
    if r == 0:
        return wrap(input._dev.xp.empty((0,), dtype=d.dtype), input._dev)
    grids = meshgrid(*([input] * r), indexing="ij")
    idx = np.indices((d.shape[0],) * r, sparse=True)
    keep = np.ones((d.shape[0],) * r, dtype=bool)
    for a, b in zip(idx, idx[1:]):
        keep &= (a <= b) if with_replacement else (a < b)
    mask = wrap(input._dev.xp.asarray(keep), input._dev)
    return stack([masked_select(g, mask) for g in grids], 1)


_SPLIT_OVERLOADS = ("(Tensor input, int sections)", "(Tensor input, tuple of ints indices)")
_SPLIT_METHOD_OVERLOADS = ("(int sections)", "(tuple of ints indices)")


def _directional_split(name: str, min_dims: int) -> tuple:
    """torch.hsplit/vsplit/dsplit and their methods: tensor_split along dim 1 (0 for a 1-d hsplit), 0 or 2, whose
    number of sections must divide the size."""
    from engine.ops.util import parser_type_name

    def is_int(v: Any) -> bool:
        return isinstance(v, (int, np.integer)) and not isinstance(v, (bool, np.bool_))

    def is_ints(v: Any) -> bool:
        return isinstance(v, (list, tuple)) and all(is_int(i) for i in v)

    def invalid(args: tuple, kw: dict, method: bool) -> TypeError:
        """The parser's message: each overload's line, and when the arguments were as many as its parameters, the
        ones of the wrong type marked."""
        from engine.ops.util import parser_arg_text

        got = [parser_type_name(a) for a in args] + [f"{k}={parser_type_name(v)}" for k, v in kw.items()]
        lines = [f"{name}() received an invalid combination of arguments - got ({', '.join(got)}), but expected "
                 "one of:"]  # fmt: skip
        for o, second in zip(_SPLIT_METHOD_OVERLOADS if method else _SPLIT_OVERLOADS, (is_int, is_ints)):
            lines.append(f" * {o}")
            checks = (second,) if method else (lambda a: isinstance(a, Tensor), second)
            if not kw and len(args) == len(checks):
                marks = ", ".join(parser_type_name(a) if ok(a) else f"!{parser_arg_text(a)}!" for a, ok in
                                  zip(args, checks))  # fmt: skip
                lines.append(f"      didn't match because some of the arguments have invalid types: ({marks})")
        return TypeError("\n".join(lines) + "\n")

    def split(input: Any, args: tuple, kw: dict, method: bool) -> tuple:  # noqa: A002
        if method and len(args) > 1 and not kw and all(is_int(a) for a in args):
            args = (args,)  # (x.hsplit(1, 2): the method takes the indices as separate ints too)
        given = args if method else (input, *args)
        if len(args) + len(kw) != 1 or any(k not in ("sections", "indices") for k in kw):
            raise invalid(given, kw, method)
        v = args[0] if args else next(iter(kw.values()))
        sections = is_int(v)
        if not isinstance(input, Tensor) or not sections and not is_ints(v):
            raise invalid(given, kw, method)
        d = input._data
        if d.ndim < min_dims:
            raise RuntimeError(
                f"torch.{name} requires a tensor with at least {min_dims} dimension, but got a tensor with {d.ndim} "
                "dimensions!"
            )
        dim = {"hsplit": 1 if d.ndim > 1 else 0, "vsplit": 0, "dsplit": 2}[name]
        if sections:
            v = int(v)
            if v == 0 or d.shape[dim] % v:  # (C++'s %: a negative count divides, then tensor_split refuses it)
                raise RuntimeError(
                    f"torch.{name} attempted to split along dimension {dim}, but the size of the dimension "
                    f"{d.shape[dim]} is not divisible by the split_size {v}!"
                )
        else:
            v = [int(i) for i in v]
        return tensor_split(input, v, dim)

    def function(*args: Any, **kw: Any) -> tuple:
        if not args:
            raise invalid((), kw, False)
        return split(args[0], args[1:], kw, False)

    def method(self: Tensor, *args: Any, **kw: Any) -> tuple:
        return split(self, args, kw, True)

    function.__name__ = method.__name__ = name
    return function, method


hsplit, hsplit_method = _directional_split("hsplit", 1)
vsplit, vsplit_method = _directional_split("vsplit", 2)
dsplit, dsplit_method = _directional_split("dsplit", 3)


def _unbind_bw(self: Any, g: Tensor, shape: tuple, dim: int, i: int) -> tuple:
    idx = (slice(None),) * dim + (i,)
    return (index_put_new(g, idx, shape, False),)


def _unbind_all_bw(self: Any, g: Any, shape: tuple, dim: int) -> tuple:
    """torch's unbind_backward: the outputs' gradients stacked, zeros for an output that got none."""
    return (stack(_materialized(grads_of(g, shape[dim]), shape, dim, None), dim),)


UnbindBackward0 = node_class("UnbindBackward0", _unbind_all_bw)
SelectIntBackward0 = node_class("SelectBackward0", _unbind_bw)


def _select_view(input: Tensor, ax: int, i: int, cls: type | None) -> Tensor:  # noqa: A002
    """A view of input at index i of ax; cls None: its node is left to the caller (unbind's one for all)."""
    d = input._data
    idx = (slice(None),) * ax + (i,)
    r = d[idx]
    if type(r) is not np.ndarray and not hasattr(r, "__cuda_array_interface__"):
        r = d[idx + (Ellipsis,)]
    t = view_of(r, input)
    if cls is not None and ENABLED[0] and input._rg:
        node = cls()
        node._seq = next_seq()
        node._next = (edge_of(input),)
        node._saved = (d.shape, ax, i)
        node._vers = (None, None, None)
        node._ctx = (r.shape, r.dtype)
        t._rg = True
        t.grad_fn = node
    if input._rg or input._meta is not None:
        _remember_view(t, input, lambda b, a=ax, k=i: select(b, a, k))
    return t


def unbind(input: Tensor, dim: int = 0) -> tuple:  # noqa: A002
    d = input._data
    if d.ndim == 0:
        raise IndexError("Dimension specified as 0 but tensor has no dimensions")
    ax = norm_dim(dim, d.ndim)
    out = [_select_view(input, ax, i, None) for i in range(d.shape[ax])]
    if out and ENABLED[0] and input._rg:
        node = UnbindBackward0()
        node._seq = next_seq()
        node._next = (edge_of(input),)
        node._saved = (d.shape, ax)
        node._vers = (None, None)
        node._ctx = (out[0]._data.shape, out[0]._data.dtype)
        connect(node, out)
    return _multi(out, "Unbind")


def select(input: Tensor, dim: int, index: int) -> Tensor:  # noqa: A002
    if isinstance(index, (float, np.ndarray)):  # (torch's parser refuses it: tcli words it so)
        raise TypeError(f"select(): argument 'index' must be int, not {type(index).__name__}")
    d = input._data
    ax = norm_dim(dim, d.ndim)
    n = d.shape[ax]
    index = int(index)
    if index < -n or index >= n:
        raise IndexError(
            f"select(): index {index} out of range for tensor of size [{', '.join(map(str, d.shape))}] at "
            f"dimension {ax}"
        )
    if index < 0:
        index += n
    return _select_view(input, ax, index, SelectIntBackward0)


def _triangle(input: Tensor, diagonal: int, lower: bool) -> Tensor:  # noqa: A002
    d = input._data
    name = "tril" if lower else "triu"
    if d.ndim < 2:
        raise RuntimeError(f"{name}: input tensor must have at least 2 dimensions")
    xp = input._dev.xp
    r = xp.tril(d, diagonal) if lower else xp.triu(d, diagonal)
    return record(TrilBackward0 if lower else TriuBackward0, r, input._dev, (input,), (diagonal,), (None,))


TrilBackward0 = node_class("TrilBackward0", lambda self, g, k: (g.tril(k),))
TriuBackward0 = node_class("TriuBackward0", lambda self, g, k: (g.triu(k),))


def tril(input: Tensor, diagonal: int = 0) -> Tensor:  # noqa: A002
    return _triangle(input, diagonal, True)


def triu(input: Tensor, diagonal: int = 0) -> Tensor:  # noqa: A002
    return _triangle(input, diagonal, False)
