"""Functions torch builds from other ops, or runs as one kernel with a simple backward: rot90, diff, dstack,
column_stack, atleast_1d/2d/3d, kron, dist, cross, cartesian_prod, and the integer-valued isin, searchsorted,
bucketize, tril_indices/triu_indices. Each gives torch's node on top of its result."""

from __future__ import annotations

from typing import Any

import numpy as np

from engine.backend import host, to_device
from engine.dtypes import no_uint_kernel
from engine.ops.index import cat, narrow, stack
from engine.ops.shape import UnsafeViewBackward0, _record, flip, meshgrid, reshape, transpose
from engine.ops.util import NoGrad, node_class, norm_dim, record
from engine.tensor import Tensor, wrap
from engine.warn import warn_once

# ---- rot90 ---------------------------------------------------------------------------------------------
Rot90Backward0 = node_class("Rot90Backward0", lambda self, g, k, dims: (rot90(g, -k, dims),))


def rot90(input: Tensor, k: int = 1, dims: Any = (0, 1)) -> Tensor:  # noqa: A002
    d = input._data
    dims = list(dims)
    if len(dims) != 2:
        raise RuntimeError(f"expected total rotation dims == 2, but got dims = {len(dims)}")
    if d.ndim < 2:
        raise RuntimeError(f"expected total dims >= 2, but got total dims = {d.ndim}")
    a, b = norm_dim(dims[0], d.ndim), norm_dim(dims[1], d.ndim)
    if a == b:
        raise RuntimeError(f"expected rotation dims to be different, but got dim0 = {a} and dim1 = {b}")
    k = int(k) % 4
    with NoGrad():  # torch's flips and transposes, recorded as one Rot90Backward0
        r = input
        if k == 1:
            r = transpose(flip(r, (b,)), a, b)
        elif k == 2:
            r = flip(r, (a, b))
        elif k == 3:
            r = flip(transpose(r, a, b), (b,))
        else:
            r = r.clone()
    return record(Rot90Backward0, r._data, input._dev, (input,), (k, (a, b)), (None, None))


# ---- diff -------------------------------------------------------------------------------------------------
def diff(input: Tensor, n: int = 1, dim: int = -1, prepend: Any = None, append: Any = None) -> Tensor:  # noqa: A002
    d = input._data
    if d.ndim == 0:
        raise RuntimeError("diff expects input to be at least one-dimensional")
    if n < 0:
        raise RuntimeError(f"order must be non-negative but got {n}")
    ax = norm_dim(dim, d.ndim)
    x = input
    if prepend is not None or append is not None:
        parts = [t for t in (prepend, input, append) if t is not None]
        if any(t._data.ndim != d.ndim for t in parts):
            raise RuntimeError("diff expects prepend or append to be the same dimension as input")
        x = cat(parts, ax)
    for _ in range(int(n)):
        m = x._data.shape[ax]
        if m == 0:
            break
        hi, lo = narrow(x, ax, 1, m - 1), narrow(x, ax, 0, m - 1)
        x = hi.logical_xor(lo) if x._data.dtype.kind == "b" else hi - lo
    return x


# ---- stacking helpers -----------------------------------------------------------------------------------
def _tensors(args: tuple) -> tuple:
    return tuple(args[0]) if len(args) == 1 and isinstance(args[0], (list, tuple)) else args


def atleast_1d(*tensors: Any) -> Any:
    ts = _tensors(tensors)
    out = tuple(t.reshape(1) if t._data.ndim == 0 else t for t in ts)
    return out[0] if len(tensors) == 1 and isinstance(tensors[0], Tensor) else out


def atleast_2d(*tensors: Any) -> Any:
    ts = _tensors(tensors)
    out = tuple(t.reshape(1, 1) if t._data.ndim == 0 else t.unsqueeze(0) if t._data.ndim == 1 else t for t in ts)
    return out[0] if len(tensors) == 1 and isinstance(tensors[0], Tensor) else out


def atleast_3d(*tensors: Any) -> Any:
    def one(t: Tensor) -> Tensor:
        n = t._data.ndim
        if n == 0:
            return t.reshape(1, 1, 1)
        if n == 1:
            return t.unsqueeze(0).unsqueeze(-1)
        if n == 2:
            return t.unsqueeze(-1)
        return t

    ts = _tensors(tensors)
    out = tuple(one(t) for t in ts)
    return out[0] if len(tensors) == 1 and isinstance(tensors[0], Tensor) else out


def dstack(tensors: Any) -> Tensor:
    from engine.ops.index import stack_family_list

    tensors = stack_family_list("dstack", tensors)
    return cat(list(atleast_3d(*tensors)) if len(tensors) > 1 else [atleast_3d(tensors[0])], 2)


def column_stack(tensors: Any) -> Tensor:
    from engine.ops.index import stack_family_list

    tensors = stack_family_list("column_stack", tensors)
    cols = [t.reshape(-1, 1) if t._data.ndim <= 1 else t for t in tensors]
    return cat(cols, 1)


# ---- kron / dist / cross / cartesian_prod ---------------------------------------------------------------
def kron(input: Tensor, other: Tensor) -> Tensor:  # noqa: A002
    if not isinstance(input, Tensor) or not isinstance(other, Tensor):  # (torch.kron(x, 2))
        from engine.ops.linalg import tensor_args

        tensor_args("kron", input, other, "other")
    a, b = input, other
    n = max(a._data.ndim, b._data.ndim)
    sa = (1,) * (n - a._data.ndim) + a._data.shape
    sb = (1,) * (n - b._data.ndim) + b._data.shape
    # interleave: a's dims (i, 1) against b's (1, j), multiplied, then merged pairwise (torch's composite)
    ai = reshape(a, tuple(v for s in sa for v in (s, 1)))
    bi = reshape(b, tuple(v for s in sb for v in (1, s)))
    p = ai * bi
    shape = tuple(x * y for x, y in zip(sa, sb))
    return _record(wrap(p._data.reshape(shape), p._dev), UnsafeViewBackward0, p, (p._data.shape,))


def _dist_bw(self: Any, g: Tensor, a: Tensor, b: Tensor, p: float, r: Tensor) -> tuple:
    from engine.ops.reduce import _norm_bw

    if p == 0:
        return None, None
    (ga,) = _norm_bw(None, g, a - b, r, p, None, False)  # torch: norm_backward(grad, self - other, p, result)
    n = self._next
    return (ga if n[0] is not None else None, -ga if n[1] is not None else None)


DistBackward0 = node_class("DistBackward0", _dist_bw)


def dist(input: Tensor, other: Tensor, p: float = 2) -> Tensor:  # noqa: A002
    if not isinstance(other, Tensor):  # (torch's parser refuses it: tcli words it so)
        raise TypeError(f"dist(): argument 'other' must be Tensor, not {type(other).__name__}")
    with NoGrad():
        diff = input - other
        if diff._data.dtype.kind in "biu":  # (torch's dist kernel checks the difference's dtype as norm's)
            raise RuntimeError(
                "norm(): input dtype should be either floating point or complex. Got "
                f"{diff.dtype.scalar_name()} instead."
            )
        r = diff.norm(p)
    t = record(DistBackward0, r._data, input._dev, (input, other), (input, other, float(p), r), (None,) * 4)
    if t.grad_fn is not None:  # (the operands broadcast: their gradients are summed back)
        t.grad_fn._meta = tuple((x._data.shape, x._data.dtype) for x in (input, other))
    return t


def _cross_bw(self: Any, g: Tensor, a: Tensor, b: Tensor, dim: int) -> tuple:
    n = self._next
    return (
        linalg_cross(b, g, dim=dim) if n[0] is not None else None,
        linalg_cross(g, a, dim=dim) if n[1] is not None else None,
    )


LinalgCrossBackward0 = node_class("LinalgCrossBackward0", _cross_bw)


def linalg_cross(input: Tensor, other: Tensor, *, dim: int = -1, out: Any = None) -> Tensor:  # noqa: A002
    if out is not None:
        from engine.ops.inplace import write_out

        return write_out(out, linalg_cross(input, other, dim=dim))
    da, db = input._data, other._data
    if da.ndim != db.ndim:
        raise RuntimeError("linalg.cross: inputs must have the same number of dimensions.")
    shape = np.broadcast_shapes(da.shape, db.shape)
    ax = norm_dim(dim, len(shape))
    if da.shape[ax - len(shape) + da.ndim] != 3 or db.shape[ax - len(shape) + db.ndim] != 3:
        raise RuntimeError(
            f"linalg.cross: inputs dimension {dim} must have length 3. Got {da.shape[ax]} and {db.shape[ax]}"
        )
    if da.dtype != db.dtype:
        raise RuntimeError(f"expected scalar type {input.dtype.scalar_name()} but found {other.dtype.scalar_name()}")
    xp = input._dev.xp
    r = xp.cross(xp.broadcast_to(da, shape), xp.broadcast_to(db, shape), axis=ax)
    t = record(LinalgCrossBackward0, r, input._dev, (input, other), (input, other, ax), (None,) * 3)
    if t.grad_fn is not None:
        t.grad_fn._meta = tuple((x._data.shape, x._data.dtype) for x in (input, other))
    return t


def cross(input: Tensor, other: Tensor, dim: int | None = None) -> Tensor:  # noqa: A002
    if dim is None:
        warn_once(
            "Using torch.cross without specifying the dim arg is deprecated.\nPlease either pass the dim explicitly "
            "or simply use torch.linalg.cross.\nThe default value of dim will change to agree with that of "
            "linalg.cross in a future release. (Triggered internally at "
            "/__w/pytorch/pytorch/aten/src/ATen/native/Cross.cpp:63.)"
        )
        shape = np.broadcast_shapes(input._data.shape, other._data.shape)
        dims = [i for i, s in enumerate(shape) if s == 3]
        if not dims:
            raise RuntimeError("no dimension of size 3 in input")
        dim = dims[0]
    return linalg_cross(input, other, dim=dim)


def cartesian_prod(*tensors: Any) -> Tensor:
    ts = _tensors(tensors)
    if len(ts) == 1:
        return ts[0]
    grids = meshgrid(*ts, indexing="ij")
    return stack([g.reshape(-1) for g in grids], 1)


# ---- integer-valued lookups (no gradients) ---------------------------------------------------------------
def isin(elements: Any, test_elements: Any, *, assume_unique: bool = False, invert: bool = False) -> Tensor:
    like = elements if isinstance(elements, Tensor) else test_elements
    e = elements._data if isinstance(elements, Tensor) else like._dev.xp.asarray(elements)
    no_uint_kernel("isin_default_cpu", e.dtype)
    t = test_elements._data if isinstance(test_elements, Tensor) else like._dev.xp.asarray(test_elements)
    xp = like._dev.xp
    return wrap(xp.isin(e, t, invert=invert), like._dev)


def searchsorted(sorted_sequence: Tensor, values: Any, *, out_int32: bool = False, right: bool = False,
                 side: str | None = None, sorter: Any = None) -> Tensor:  # fmt: skip
    if not isinstance(values, (Tensor, int, float, bool, np.number)):  # (torch's parser refuses it: tcli words it so)
        raise TypeError(f"searchsorted(): values must be a Tensor or a Number, not {type(values).__name__}")
    seq = host(sorted_sequence._data)
    vals = host(values._data) if isinstance(values, Tensor) else np.asarray(values)
    if side is not None and side not in ("left", "right"):
        raise RuntimeError(f"torch.searchsorted(): side can only be 'left' or 'right' but got {side}")
    if side == "left" and right:
        raise RuntimeError(
            "torch.searchsorted(): side and right can't be set to opposites, got side of left while right was True"
        )
    side = side or ("right" if right else "left")
    if sorter is not None:
        if tuple(sorter.shape) != tuple(sorted_sequence.shape):
            raise RuntimeError(
                "torch.searchsorted(): boundary and sorter must have the same size, but got boundary tensor "
                f"{list(sorted_sequence.shape)}and got sorter tensor {list(sorter.shape)}"
            )
        seq = np.take_along_axis(seq, host(sorter._data), axis=-1)
    if seq.ndim <= 1:
        r = np.searchsorted(seq, vals, side=side)
    else:
        if vals.ndim == 0:  # (a scalar value, or a tensor of no dims)
            raise RuntimeError(
                "torch.searchsorted(): input value can be a scalar only when boundaries tensor dimension is 1, but "
                f"we got boundaries tensor dim({seq.ndim}) and input value's dim(0) numel(1)"
            )
        if seq.shape[:-1] != vals.shape[:-1]:
            raise RuntimeError(
                "torch.searchsorted(): boundaries tensor should be 1 dimension or the first N-1 dimensions of "
                "boundaries tensor and input value tensor must match, but we got boundaries tensor "
                f"[{', '.join(map(str, seq.shape))}] and input value tensor [{', '.join(map(str, vals.shape))}]"
            )
        flat_s = seq.reshape(-1, seq.shape[-1])
        flat_v = vals.reshape(-1, vals.shape[-1])
        r = np.stack([np.searchsorted(s, v, side=side) for s, v in zip(flat_s, flat_v)]).reshape(vals.shape)
    dev = sorted_sequence._dev
    return wrap(dev.xp.asarray(np.asarray(r, dtype=np.int32 if out_int32 else np.int64)), dev)


def bucketize(input: Any, boundaries: Tensor, *, out_int32: bool = False, right: bool = False) -> Tensor:  # noqa: A002
    if not isinstance(input, (Tensor, int, float, bool, np.number)):  # (torch's parser refuses it: tcli words it so)
        raise TypeError(f"bucketize(): input must be a Tensor or a Number, not {type(input).__name__}")
    if boundaries._data.ndim != 1:
        raise RuntimeError(f"boundaries tensor must be 1 dimension, but got dim({boundaries._data.ndim})")
    return searchsorted(boundaries, input, out_int32=out_int32, right=right)


def _triangle_indices(row: int, col: int, offset: int, dtype: Any, device: Any, lower: bool) -> Tensor:
    from engine.dtypes import int64, to_dtype

    dt = to_dtype(dtype if dtype is not None else int64).np
    mask = np.tri(row, col, offset, dtype=bool) if lower else ~np.tri(row, col, offset - 1, dtype=bool)
    r = np.stack(np.nonzero(mask)).astype(dt)
    dev = to_device(device)
    return wrap(dev.xp.asarray(r), dev)


def tril_indices(row: int, col: int, offset: int = 0, *, dtype: Any = None, device: Any = None,
                 layout: Any = None) -> Tensor:  # fmt: skip
    return _triangle_indices(row, col, offset, dtype, device, True)


def triu_indices(row: int, col: int, offset: int = 0, *, dtype: Any = None, device: Any = None,
                 layout: Any = None) -> Tensor:  # fmt: skip
    return _triangle_indices(row, col, offset, dtype, device, False)


FUNCTIONS = {
    "rot90": rot90, "diff": diff, "atleast_1d": atleast_1d, "atleast_2d": atleast_2d, "atleast_3d": atleast_3d,
    "dstack": dstack, "column_stack": column_stack, "kron": kron, "dist": dist, "cross": cross,
    "cartesian_prod": cartesian_prod, "isin": isin, "searchsorted": searchsorted, "bucketize": bucketize,
    "tril_indices": tril_indices, "triu_indices": triu_indices,
}  # fmt: skip
METHODS = {"rot90": rot90, "diff": diff, "kron": kron, "dist": dist, "cross": cross}
