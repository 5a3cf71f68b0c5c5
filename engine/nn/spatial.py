"""What the spatial ops (engine/nn/functional_conv.py's convolutions, padding, fold and interpolation, and
engine/nn/functional_pool.py's pooling) share: torch's shape and type texts, N-d padding of arrays, the compute
dtype of the cpu kernels, ATen's pooling output size, and the graph pieces their hand-written backwards use
(a node per op named as torch names it, the scatter / gather of max pooling by flat indices, and the
<Op>BackwardBackward0 nodes that make a backward differentiable again)."""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from typing import Any

import numpy as np

from engine.autograd import Node, next_seq
from engine.bf16 import plain, to_bf16
from engine.grad_mode import ENABLED
from engine.naming import type_name
from engine.ops.diagonal import strided_span
from engine.ops.util import add_at, edge_of, node_class, record
from engine.ops.util import saved as saved_versions
from engine.tensor import Tensor, wrap

# torch's C++ type names, as its dtype-mismatch errors print them (caffe2::TypeMeta::name)
_CPP_NAMES = {"float32": "float", "float64": "double", "float16": "c10::Half", "int64": "long int", "int32": "int",
              "int16": "short int", "int8": "signed char", "uint8": "unsigned char", "bool": "bool"}  # fmt: skip


def shape_text(shape: Any) -> str:
    """A shape as torch's messages print an IntArrayRef: [2, 3, 4]."""
    return "[" + ", ".join(str(int(n)) for n in shape) + "]"


def cpp_name(t: Tensor) -> str:
    return _CPP_NAMES.get(t._data.dtype.name, t._data.dtype.name)


def strided(xp: Any, a: Any, shape: tuple, strides: tuple) -> Any:
    """A strided view of a (numpy's and cupy's as_strided): the windows im2col and pooling read. On the host
    every window must lie inside a's memory (a geometry taken from a wrong-sized gradient would read past it)."""
    if isinstance(a, np.ndarray):
        _inside(a, shape, strides)
    elif not hasattr(a, "__cuda_array_interface__"):
        raise TypeError(f"expected an array, got {type_name(a)}")
    return xp.lib.stride_tricks.as_strided(a, shape, strides)


def _inside(a: np.ndarray, shape: tuple, strides: tuple) -> None:
    if a.dtype.kind == "O":
        raise TypeError("convolution and pooling take numeric tensors")
    if 0 in shape:
        return
    back, reach = strided_span(shape, strides)
    flags = a.flags
    if flags.c_contiguous or flags.f_contiguous:  # (the padded input, as a rule: its bytes start at its pointer)
        lo, hi = 0, a.nbytes
    else:
        lo, hi = np.lib.array_utils.byte_bounds(a)
        ptr = a.__array_interface__["data"][0]
        lo, hi = lo - ptr, hi - ptr
    if back < lo or reach + a.itemsize > hi:
        raise RuntimeError(
            f"internal error: a window of shape {list(shape)} would read outside its input of shape {list(a.shape)}"
        )


@functools.lru_cache(maxsize=256)
def _pad_layout(shape: tuple, before: tuple, after: tuple) -> tuple:
    """The padded shape and where the input sits in it (computed once per geometry: this is on every conv's
    and pooling's path)."""
    padded = list(shape)
    at = [slice(None), slice(None)]
    for i, (b, e) in enumerate(zip(before, after), 2):
        n = shape[i]
        padded[i] = n + b + e
        at.append(slice(b, b + n))
    return tuple(padded), tuple(at)


def pad_nd(xp: Any, a: Any, before: tuple, after: tuple, value: Any = 0) -> Any:
    """a (N, C, *spatial) with `before[i]` and `after[i]` elements of `value` around spatial dim i (one
    allocation and one copy; a itself where there is nothing to add)."""
    if not (any(before) or any(after)):
        return a
    shape, at = _pad_layout(a.shape, before, after)
    out = xp.full(shape, value, dtype=a.dtype)
    out[at] = a
    return out


def compute_dtype(a: Any) -> Any:
    # float16 is computed in float32 and rounded once (torch's cpu kernels accumulate half in float)
    return np.float32 if a.dtype == np.float16 else a.dtype


def run_in(xp: Any, fn: Callable, dtype: Any, *arrays: Any) -> Any:
    """fn on the arrays in their compute dtype (float16 in float32), the result in `dtype`."""
    if np.dtype(dtype).metadata is not None:  # bfloat16: on the float32 values, rounded once
        return to_bf16(fn(*[plain(a) for a in arrays]), xp)
    ct = compute_dtype(arrays[0])
    r = fn(*[a.astype(ct) if a.dtype != ct else a for a in arrays])
    return r.astype(dtype) if r.dtype != dtype else r


def low_of(dtype: Any) -> Any:
    """What padding holds for a max: below every value (torch starts each window's max from it)."""
    return -np.inf if dtype.kind == "f" else np.iinfo(dtype).min


def not_for(kernel: str, t: Tensor, kinds: str) -> None:
    """torch's dispatch error for a dtype its kernel does not take (`kinds`: the numpy kinds it takes)."""
    if t._data.dtype.kind not in kinds:
        raise NotImplementedError(f"\"{kernel}\" not implemented for '{t.dtype.scalar_name()}'")


def check_dim_range(fname: str, t: Tensor, lo: int, hi: int) -> None:
    """ATen's checkDimRange (hi exclusive)."""
    if not lo <= t.dim() < hi:
        raise RuntimeError(
            f"Expected {lo} to {hi - 1} dimensions, but got {t.dim()}-dimensional tensor for argument #1 'self' "
            f"(while checking arguments for {fname})"
        )


def check1d(fname: str, name: str, value: Any) -> int:
    """A 1-d op's `IntArrayRef[1]` argument (an int, or a sequence of one int)."""
    vals = [int(value)] if isinstance(value, (int, np.integer)) else [int(v) for v in value]
    if len(vals) != 1:
        raise RuntimeError(f"{fname}() argument '{name}' should contain one int (got {len(vals)})")
    return vals[0]


def _ctrunc(a: int, b: int) -> int:
    """C++'s integer division, toward zero."""
    q = abs(a) // abs(b)
    return q if (a >= 0) == (b > 0) else -q


def pool_out(size: int, k: int, p: int, s: int, d: int, ceil: bool) -> int:
    """ATen's pooling_output_shape: the output length, with its checks; in ceil mode the last window must
    start inside the input or its left padding."""
    if s == 0:
        raise RuntimeError("stride should not be zero")
    if p < 0:
        raise RuntimeError(f"pad must be non-negative, but got pad: {p}")
    if p > _ctrunc((k - 1) * d + 1, 2):
        raise RuntimeError(
            f"pad should be at most half of effective kernel size, but got pad={p}, kernel_size={k} and dilation={d}"
        )
    out = (size + 2 * p - d * (k - 1) - 1 + (s - 1 if ceil else 0)) // s + 1
    if ceil and (out - 1) * s >= size + p:
        out -= 1
    return out


# ---- the graph of hand-written backwards -------------------------------------------------------------------


def _linear_bw(self: Node, gg: Tensor, fn: Callable) -> tuple:
    # (torch's derivative of these backward ops for their `self` input is zeros_like(self))
    if len(self._next) == 1:
        return (fn(gg),)
    x = self._x
    return fn(gg), wrap(x._dev.xp.zeros(x._data.shape, dtype=x._data.dtype), x._dev)


_BW_NODES: dict = {}


def grad_node(name: str, out: Any, g: Tensor, x: Tensor | None, fn: Callable) -> Tensor:
    """A backward op's result (`out`, an array) as torch's <Op>BackwardBackward0: edges (grad_output, input),
    or grad_output alone where x is None; linear in grad_output, whose gradient fn(gg) is the forward op (or a
    gather) of gg."""
    cls = _BW_NODES.get(name)
    if cls is None:
        cls = _BW_NODES[name] = node_class(name, _linear_bw)
    t = wrap(out, g._dev)
    if not (ENABLED[0] and (g._rg or (x is not None and x._rg))):
        return t
    node = cls()
    node._seq = next_seq()
    node._next = (edge_of(g),) if x is None else (edge_of(g), edge_of(x))
    node._x = x
    node._saved, node._vers = (fn,), (None,)
    node._ctx = (out.shape, out.dtype)
    t._rg = True
    t.grad_fn = node
    return t


def op_node(name: str, out: Any, x: Tensor, backward: Callable, keep: bool = True) -> Tensor:
    """An op's result with torch's node `name` (edge: the input); backward(g, x) gives the input's gradient.
    keep: torch's node saves the input (so modifying it in place afterwards is an error at backward); where it
    keeps only sizes, backward gets None for x."""
    cls = _BW_NODES.get(name)
    if cls is None:
        cls = _BW_NODES[name] = node_class(name, lambda self, g, x, fn: (fn(g, x),))
    if keep:
        return record(cls, out, x._dev, (x,), (x, backward), (*saved_versions(x), None))
    return record(cls, out, x._dev, (x,), (None, backward), (None, None))


def scatter_planes(xp: Any, g: Any, idx: Any, shape: tuple, nd: int, unique: bool) -> Any:
    """g's values added into zeros of `shape` (lead dims, then nd spatial ones) at the flat per-plane positions
    idx (max pooling's backward). unique: no position is picked twice (non-overlapping windows), so a plain
    write does."""
    planes = math.prod(shape[:-nd])
    size = math.prod(shape[-nd:])
    out = xp.zeros(planes * size, dtype=g.dtype)
    picks = math.prod(idx.shape[-nd:])  # (explicit: an empty batch has no -1 to infer)
    flat = (xp.arange(planes, dtype=np.int64).reshape(planes, 1) * size + idx.reshape(planes, picks)).reshape(-1)
    if unique:
        out[flat] = g.reshape(-1)
    else:
        add_at(xp, out, flat, g.reshape(-1))
    return out.reshape(shape)


def gather_planes(gg: Tensor, idx: Any, out_shape: tuple, nd: int) -> Tensor:
    """The adjoint of scatter_planes, in engine ops (so that it can be differentiated again): gg at the
    indices."""
    shape = gg._data.shape
    planes = math.prod(shape[:-nd])
    it = wrap(idx.reshape(planes, math.prod(idx.shape[-nd:])), gg._dev)
    return gg.reshape(planes, math.prod(shape[-nd:])).gather(1, it).reshape(out_shape)


def with_indices(name: str, x: Tensor, out: Any, idx: Any, nd: int, unique: bool) -> tuple:
    """(values, indices) of a max pooling over nd spatial dims: values carry `name`; its backward scatters by
    the indices, and that scatter's own gradient gathers (torch's <name>Backward0 under create_graph)."""
    xshape = x._data.shape
    oshape = out.shape

    def backward(g: Tensor, x: Tensor) -> Tensor:
        gx = scatter_planes(g._dev.xp, g._data, idx, xshape, nd, unique)
        return grad_node(name[:-1] + "Backward0", gx, g, x, lambda gg: gather_planes(gg, idx, oshape, nd))

    return op_node(name, out, x, backward), wrap(idx, x._dev)
