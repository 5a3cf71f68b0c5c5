"""Reductions and normalisations: sum, mean, prod, max/min, std/var, norm, cumsum, softmax, sort..."""

from __future__ import annotations

import builtins
import weakref
from collections import namedtuple
from typing import Any

import numpy as np

from engine.amp.policy import policy as autocast_policy
from engine.autograd import Node, next_seq, save_out
from engine.backend import for_array
from engine.bf16 import plain, to_bf16, whole
from engine.dtypes import DEFAULT, UINTS_NP, no_uint_kernel, to_dtype
from engine.grad_mode import ENABLED
from engine.multi_output import grads_of, multi_class, share
from engine.naming import TorchNamed, type_name
from engine.ops import softmax_cpu
from engine.ops.cascade_sum import dim_sum, full_sum
from engine.ops.elementwise import _grad_op
from engine.ops.util import (
    SparseOperand,
    dim_list_ok,
    edge_of,
    holomorphic,
    index_range,
    int_list,
    invalid_combination,
    named_code,
    node_class,
    norm_dim,
    norm_dims,
    record,
    with_out,
)
from engine.ops.util import saved as saved_vers
from engine.ops.vec_reduce import torch_norm, torch_prod, torch_var
from engine.tensor import Tensor, wrap, wrap_any
from engine.warn import user_stacklevel

_ndarray = np.ndarray
# (numpy's module __getattr__ keeps np.<name> from being read quickly: bound once)
_np_empty = np.empty


def _arr(r: Any, dev: Any) -> Any:
    return r if isinstance(r, _ndarray) else dev.xp.asarray(r)


_F16 = np.dtype(np.float16)
_F32 = np.dtype(np.float32)
_F64 = np.dtype(np.float64)


def _acc(d: Any) -> Any:
    """The accumulation dtype for a reduction: torch sums float16 in float32 and rounds once."""
    return np.float32 if d.dtype == _F16 else None


def _dims(input: Tensor, dim: Any) -> tuple | None:  # noqa: A002
    if dim is None:
        return None
    if isinstance(dim, (list, tuple)):
        if len(dim) == 0:
            return None
        return norm_dims(dim, input._data.ndim)
    return (norm_dim(dim, input._data.ndim),)


def _axes(input: Tensor, dim: Any) -> tuple | None:  # noqa: A002
    """_dims for numpy's axis=: a 0-dim tensor takes dim 0 or -1 (torch) and numpy no axis at all."""
    dims = _dims(input, dim)
    return () if dims is not None and input._data.ndim == 0 else dims


# The filled gradients that torch holds as expanded views (zero strides): a kernel whose arithmetic depends on
# its gradient's layout (batch_norm's backward takes an element-wise path for one) asks `is_expanded`.
_EXPANDED: weakref.WeakValueDictionary = weakref.WeakValueDictionary()


def is_expanded(a: Any) -> bool:
    """Whether array a is a sum's gradient broadcast back, which torch would hold as an expanded view."""
    return _EXPANDED.get(id(a)) is a


def expand_back(g: Tensor, shape: tuple, dims: tuple | None, keepdim: bool, expanded: bool = True) -> Tensor:
    """Broadcast a reduced gradient back over the input's shape (engine ops, so it is differentiable).
    expanded: torch's gradient is this expansion itself (a sum's; a mean's is divided after it)."""
    if not ENABLED[0]:
        d = g._data
        if dims is None:
            d = d.reshape((1,) * len(shape))
        elif not keepdim:
            d = d.reshape(tuple(1 if i in dims else n for i, n in enumerate(shape)))
        # A filled array, not a broadcast view: BLAS and most ufuncs run far slower on zero strides.
        out = g._dev.xp.empty(shape, dtype=d.dtype)
        out[...] = d
        if expanded:
            _EXPANDED[id(out)] = out
        return wrap(out, g._dev)
    # torch's sum_backward: the reduced dims unsqueezed one by one, then expanded (so a graph of this backward,
    # as jvp and hessians build, has torch's nodes: UnsqueezeBackward0 under ExpandBackward0)
    if dims is None:
        return g.expand(shape) if shape else g
    if not keepdim:
        for d in sorted(dims):
            g = g.unsqueeze(d)
    return g.expand(shape)


def _numel(shape: tuple) -> int:
    n = 1
    for s in shape:
        n *= s
    return n


def _node(cls: type, t: Tensor, inputs: tuple, saved: tuple, vers: tuple, ctx: Any = None) -> Tensor:
    node = cls()
    node._seq = next_seq()
    node._next = (edge_of(inputs[0]),) if len(inputs) == 1 else tuple(edge_of(i) for i in inputs)
    node._saved = saved
    node._vers = vers
    d = t._data
    node._ctx = (d.shape, d.dtype)
    t._rg = True
    t.grad_fn = node
    return t


# ---- sum / mean ---------------------------------------------------------------------------------
def _sum_bw(self: Node, g: Tensor, shape: tuple, dims: Any, keepdim: bool) -> tuple:
    return (expand_back(g, shape, dims, keepdim),)


def _mean_bw(self: Node, g: Tensor, shape: tuple, dims: Any, keepdim: bool, n: int) -> tuple:
    if not ENABLED[0]:  # plain backward: divide on the array, no op to record
        gd = g._data
        if dims is None and type(gd) is _ndarray and not gd.ndim:  # a full mean (a loss): one value, filled in
            out = np.empty(shape, gd.dtype)
            out.fill(gd[()] / n)  # (a numpy scalar's division: quicker than a 0-dim array's, the same rounding)
            return (wrap(out, g._dev),)
        q = gd / n
        return (
            expand_back(
                wrap(q if type(q) is type(gd) else g._dev.xp.asarray(q, dtype=gd.dtype), g._dev),
                shape,
                dims,
                keepdim,
                expanded=False,
            ),
        )
    from engine.ops.elementwise import div_scalar

    return (div_scalar(expand_back(g, shape, dims, keepdim), n),)  # torch: grad.expand(shape) / n


SumBackward0 = node_class("SumBackward0", _sum_bw)
SumBackward1 = node_class("SumBackward1", _sum_bw)
MeanBackward0 = node_class("MeanBackward0", _mean_bw)


def _mean_abw(self: Node, g: Any, shape: tuple, dims: Any, keepdim: bool, n: int) -> tuple | None:
    """_mean_bw's full mean (a loss) on a raw gradient array (autograd.run_backward's raw mode)."""
    if dims is not None or g.ndim:
        return None
    out = _np_empty(shape, g.dtype)
    out.fill(g[()] / n)
    return (out,)


MeanBackward0._abw = _mean_abw
MeanBackward1 = node_class("MeanBackward1", _mean_bw)
SumBackward0._plain = SumBackward1._plain = MeanBackward0._plain = MeanBackward1._plain = True  # (shapes and dims)

_NOV3 = (None, None, None)


NODIM: Any = object()  # `dim` not passed at all (torch tells x.sum() from x.sum(dim=None))
NOKEEP: Any = object()  # `keepdim` not passed


def keepdim_needs_dim(name: str, method: bool) -> TypeError:
    """torch's argument-parser error for keepdim= given without dim= (x.sum(keepdim=True))."""
    dim = "int" if name == "prod" else "tuple of ints"
    if method:
        return TypeError(
            f"{name}() received an invalid combination of arguments - got (keepdim=bool, ), but expected one of:\n"
            f" * (*, torch.dtype dtype = None)\n * ({dim} dim, bool keepdim = False, *, torch.dtype dtype = None)\n"
        )
    out1 = ", Tensor out = None" if name == "mean" else ""
    return TypeError(
        f"{name}() received an invalid combination of arguments - got (Tensor, keepdim=bool), but expected one of:\n"
        f" * (Tensor input, *, torch.dtype dtype = None{out1})\n * (Tensor input, {dim} dim, bool keepdim = False, *, "
        "torch.dtype dtype = None, Tensor out = None)\n"
    )


def _dim_args(name: str, dim: Any, keepdim: Any, method: bool) -> tuple:
    if dim is NODIM:
        if keepdim is not NOKEEP:
            raise keepdim_needs_dim(name, method)
        return None, False, False
    if name in _DIM_OVERLOADS and isinstance(dim, (tuple, list)) and dim_list_ok(dim):
        dim = int_list((dim,), name, "dim")  # (later elements of the wrong type: the parser's unpack error)
    elif dim is not None and name in _DIM_OVERLOADS and not dim_list_ok(dim):
        given = (dim,) if keepdim is NOKEEP else (dim, keepdim)
        if method:
            raise invalid_combination(name, given, _DIM_OVERLOADS[name], False)
        raise invalid_combination(name, given, _DIM_FUNCTION_OVERLOADS[name], False, ("Tensor",))
    return dim, False if keepdim is NOKEEP else keepdim, True


#: torch's listed overloads of reductions over a dim list, as methods and as functions (a dim of the wrong type)
_DIM_OVERLOADS = {
    "sum": ("(*, torch.dtype dtype = None)", "(tuple of ints dim, bool keepdim = False, *, torch.dtype dtype = None)"),
    "mean": ("(*, torch.dtype dtype = None)", "(tuple of ints dim, bool keepdim = False, *, torch.dtype dtype = None)"),
}
_DIM_FUNCTION_OVERLOADS = {
    "sum": (
        "(Tensor input, *, torch.dtype dtype = None)",
        "(Tensor input, tuple of ints dim, bool keepdim = False, *, torch.dtype dtype = None, Tensor out = None)",
    ),
    "mean": (
        "(Tensor input, *, torch.dtype dtype = None, Tensor out = None)",
        "(Tensor input, tuple of ints dim, bool keepdim = False, *, torch.dtype dtype = None, Tensor out = None)",
    ),
}


_TORCH_ORDER_MAX = 1 << 20  # elements; full sums follow torch's order at any size (one output: cheap)


def _torch_sum(d: Any, axis: Any, keepdim: bool) -> Any:
    """A sum in torch's summation order (ops/cascade_sum.py), or None (then numpy's order will do)."""
    if type(d) is not _ndarray or d.ndim == 0:
        return None
    if axis is None and not keepdim:  # a full sum (a loss's mean) straight to its loop
        r = full_sum(d)
        if r is not None:
            return r
    axes = tuple(range(d.ndim)) if axis is None else axis if type(axis) is tuple else (axis,)  # (non-negative)
    if len(axes) < d.ndim and d.size > _TORCH_ORDER_MAX:
        return None  # large sums along dims keep numpy's order: torch's costs 2-3x there
    r = full_sum(d) if len(axes) == d.ndim else None  # (the common full sum straight to its loop)
    if r is None:
        r = dim_sum(d, axes)
    if r is not None and keepdim:
        r = r.reshape(tuple(1 if i in axes else n for i, n in enumerate(d.shape)))
    return r


def sum(
    input: Tensor, dim: Any = NODIM, keepdim: Any = NOKEEP, *, dtype: Any = None, out: Any = None, _method: bool = False
) -> Tensor:  # noqa: A001, A002, E501
    dim, keepdim, given = _dim_args("sum", dim, keepdim, _method)
    d = input._data
    try:
        dims = _dims(input, dim)
        if dtype is not None:
            d = d.astype(to_dtype(dtype).np)
        elif d.dtype.kind in "biu":
            d = d.astype(np.int64)
        axis = None if dims is None or d.ndim == 0 else (dims if len(dims) > 1 else dims[0])  # 0-dim: dim 0/-1
        r = _torch_sum(d, axis, keepdim)
        if r is None:
            r = d.sum(axis=axis, keepdims=keepdim, dtype=_acc(d))
    except SparseOperand:  # a sparse operand (engine/sparse_tensor.py)
        return _finish(input.sum(dim, keepdim, dtype=dtype), out)
    r = _arr(r if r.dtype == d.dtype else r.astype(d.dtype), input._dev)
    t = wrap(r, input._dev)
    if ENABLED[0] and input._rg:
        cls = SumBackward1 if given else SumBackward0
        _node(cls, t, (input,), (d.shape, dims, keepdim), _NOV3)
        if r.dtype is not input._data.dtype:
            t.grad_fn._meta = ((d.shape, input._data.dtype),)
    return _finish(t, out)


@whole
def mean(
    input: Tensor, dim: Any = NODIM, keepdim: Any = NOKEEP, *, dtype: Any = None, out: Any = None, _method: bool = False
) -> Tensor:  # noqa: A002, E501
    if dim is NODIM and dtype is None and out is None and keepdim is NOKEEP and type(input) is Tensor:
        # a full mean of float32/float64 (a loss): the general path below, with its questions answered
        d = input._data
        dt = d.dtype
        if (dt is _F32 or dt is _F64) and type(d) is _ndarray and d.ndim and d.size:
            r = full_sum(d)
            if r is not None:
                r = _arr(r[()] / d.size, input._dev)
                if r.dtype is not dt and r.dtype != dt:
                    r = r.astype(dt)
                t = wrap(r, input._dev)
                if ENABLED[0] and input._rg:
                    _node(MeanBackward0, t, (input,), (d.shape, None, False, d.size), (None, None, None, None))
                return t
    dim, keepdim, given = _dim_args("mean", dim, keepdim, _method)
    d = input._data
    if dtype is not None:
        d = d.astype(to_dtype(dtype).np)
    if d.dtype.kind not in "fc":
        from engine.dtypes import FROM_NP

        raise RuntimeError(
            f"mean(): could not infer output dtype. {'Input' if dtype is None else 'Optional'} dtype must be either "
            f"a floating point or complex dtype. Got: {FROM_NP[d.dtype].scalar_name()}"
        )
    dims = _dims(input, dim)
    axis = None if dims is None or d.ndim == 0 else (dims if len(dims) > 1 else dims[0])  # 0-dim: dim 0/-1
    n_red = d.size if axis is None else (d.shape[axis] if type(axis) is int else _numel([d.shape[i] for i in axis]))
    # sum/n directly (as torch computes it; numpy's ndarray.mean also goes through a slow Python helper)
    r = _torch_sum(d, axis, keepdim)
    if r is None:
        r = d.sum(axis=axis, keepdims=keepdim, dtype=_acc(d))
    if n_red and type(r) is _ndarray and not r.ndim:
        r = r[()]  # (a numpy scalar divides in a tenth of the time a 0-dim array does, with the same rounding)
    r = _arr(r / n_red if n_red else r * np.nan, input._dev)
    if r.dtype is not d.dtype and r.dtype != d.dtype:
        r = r.astype(d.dtype)
    t = wrap(r, input._dev)
    if ENABLED[0] and input._rg:
        n = d.size // builtins.max(r.size, 1) if d.size else 0
        cls = MeanBackward1 if given else MeanBackward0
        _node(cls, t, (input,), (d.shape, dims, keepdim, n), (None, None, None, None))
        # mean(dtype=...): the gradient goes back in the input's dtype
        if r.dtype is not input._data.dtype and r.dtype != input._data.dtype:
            t.grad_fn._meta = ((d.shape, input._data.dtype),)
    return _finish(t, out)


def nansum(input: Tensor, dim: Any = None, keepdim: bool = False, *, dtype: Any = None) -> Tensor:  # noqa: A002
    if input._data.dtype.kind != "f":  # (no nan to skip; integers sum to int64, as sum's)
        return sum(input, dim, keepdim, dtype=dtype)
    prev = ENABLED[0]
    ENABLED[0] = False
    try:
        r = sum(where_nan_zero(input), dim, keepdim, dtype=dtype)
    finally:
        ENABLED[0] = prev
    dims = _dims(input, dim)
    return record(NansumBackward0, r._data, r._dev, (input,), (input, dims, keepdim), saved_vers(input, None, None))


def _nansum_bw(self: Node, g: Tensor, x: Tensor, dims: Any, keepdim: bool) -> tuple:
    return (expand_back(g, x._data.shape, dims, keepdim) * (x == x),)  # torch: grad * self.isnan().logical_not()


NansumBackward0 = node_class("NansumBackward0", _nansum_bw)


def where_nan_zero(x: Tensor) -> Tensor:
    from engine.ops.elementwise import isnan, where

    return where(isnan(x), 0.0, x)


# ---- prod -----------------------------------------------------------------------------------------
def _prod_bw(self: Node, g: Tensor, x: Tensor, y: Tensor, dims: Any, keepdim: bool) -> tuple:
    shape = x._data.shape
    ge = expand_back(g, shape, dims, keepdim)
    ye = expand_back(y, shape, dims, keepdim)
    xd = x._data
    if not bool((xd == 0).any()):
        return (ge * (ye / x),)  # torch's grad * (result / input)
    # With zeros, y/x is undefined: use the product of the other elements, computed directly.
    axis = None if dims is None else dims[0]
    others = _prod_others(xd, axis)
    return (ge * wrap(others, x._dev),)


def _prod_others(x: Any, axis: int | None) -> Any:
    flat = axis is None
    a = x.reshape(-1) if flat else x
    ax = 0 if flat else axis
    ones_shape = list(a.shape)
    ones_shape[ax] = 1
    one = np.ones_like(a, shape=ones_shape)  # on a's device
    left = np.cumprod(np.concatenate([one, a], axis=ax), axis=ax).take(range(a.shape[ax]), axis=ax)
    rev = np.flip(a, axis=ax)
    right = np.flip(np.cumprod(np.concatenate([one, rev], axis=ax), axis=ax).take(range(a.shape[ax]), axis=ax), axis=ax)
    r = left * right
    return r.reshape(x.shape) if flat else r


ProdBackward0 = node_class("ProdBackward0", holomorphic(_prod_bw))
ProdBackward1 = node_class("ProdBackward1", holomorphic(_prod_bw))


@autocast_policy(cpu="fp32", cuda="fp32")
@with_out
def prod(input: Tensor, dim: int | None = None, keepdim: bool = False, *, dtype: Any = None) -> Tensor:  # noqa: A002
    d = input._data
    if dtype is not None:
        d = d.astype(to_dtype(dtype).np)
    elif d.dtype.kind in "biu":
        d = d.astype(np.int64)
    dims = None if dim is None else (norm_dim(dim, d.ndim),)
    r = torch_prod(d, None if dims is None or d.ndim == 0 else dims[0]) if d.ndim else None  # torch's order
    if r is not None:
        if keepdim:
            r = r.reshape(tuple(1 if dims is None or i == dims[0] else n for i, n in enumerate(d.shape)))
    else:
        r = d.prod(axis=None if dims is None else dims[0], keepdims=keepdim, dtype=_acc(d))
    r = _arr(r if r.dtype == d.dtype else r.astype(d.dtype), input._dev)
    t = wrap(r, input._dev)
    if ENABLED[0] and input._rg:
        node_cls = ProdBackward0 if dim is None else ProdBackward1
        _node(node_cls, t, (input,), (input, None, dims, keepdim), None)
        node = t.grad_fn
        s, v = save_out(node, t)
        node._saved = (input, s, dims, keepdim)
        node._vers = ((input._vc, input._vc[0]), v, None, None)
        if r.dtype != input._data.dtype:
            node._meta = ((d.shape, input._data.dtype),)
    return t


# ---- max / min / amax / amin / argmax ----------------------------------------------------------------
values_indices = namedtuple("values_indices", ["values", "indices"])


class _ReturnType(tuple, metaclass=TorchNamed):
    _torch_name = "torch.return_types.{name}"
    """torch.return_types.max & co: a named pair that prints as torch prints it."""

    _name = "return_type"
    __slots__ = ()

    def __new__(cls, values: Tensor, indices: Tensor) -> _ReturnType:
        return tuple.__new__(cls, (values, indices))

    @property
    def values(self) -> Tensor:
        return self[0]

    @property
    def indices(self) -> Tensor:
        return self[1]

    def __repr__(self) -> str:
        return f"torch.return_types.{self._name}(\nvalues={self[0]!r},\nindices={self[1]!r})"

    __str__ = __repr__


def _rt(name: str) -> type:
    return type(name, (_ReturnType,), {"__slots__": (), "_name": name, "__qualname__": name, "_c_type": True})


RT = {n: _rt(n) for n in ("max", "min", "sort", "topk", "kthvalue", "median", "mode", "cummax", "cummin", "aminmax")}
RT.update({n + "_out": _rt(n + "_out") for n in list(RT)})  # what the same functions return with out=


def _even_bw(self: Node, g: Tensor, x: Tensor, y: Tensor, dims: Any, keepdim: bool) -> tuple:
    shape = x._data.shape
    ye = expand_back(y, shape, dims, keepdim)
    mask = x == ye
    if dims is None:  # a nan maximum is shared by the nans (torch's evenly_distribute_backward)
        mask = mask | (x.isnan() & ye.isnan())
    count = mask.sum(dim=dims, keepdim=True) if dims is not None else mask.sum()
    return (expand_back(g, shape, dims, keepdim) * mask / count,)


MaxBackward1 = node_class("MaxBackward1", _even_bw)
MinBackward1 = node_class("MinBackward1", _even_bw)
AmaxBackward0 = node_class("AmaxBackward0", _even_bw)
AminBackward0 = node_class("AminBackward0", _even_bw)


def _save_even(t: Tensor, cls: type, input: Tensor, dims: Any, keepdim: bool) -> None:  # noqa: A002
    node = cls()
    node._seq = next_seq()
    node._next = (edge_of(input),)
    s, v = save_out(node, t)
    node._saved = (input, s, dims, keepdim)
    node._vers = ((input._vc, input._vc[0]), v, None, None)
    node._ctx = (t._data.shape, t._data.dtype)
    t._rg = True
    t.grad_fn = node


def _select_bw(self: Node, g: Tensor, shape: tuple, dim: int, idx: Tensor, keepdim: bool) -> tuple:
    from engine.ops.index import scatter_new

    if not keepdim:
        g = g.unsqueeze(dim)
        idx = idx.unsqueeze(dim)
    return (scatter_new(g, dim, idx, shape),)


MaxBackward0 = node_class("MaxBackward0", _select_bw)
MinBackward0 = node_class("MinBackward0", _select_bw)


def _extreme(input: Tensor, dim: Any, keepdim: bool, other: Any, is_max: bool) -> Any:  # noqa: A002
    if isinstance(dim, Tensor) and other is None:
        dim, other = None, dim
    if other is not None:
        from engine.ops.elementwise import maximum, minimum

        return maximum(input, other) if is_max else minimum(input, other)
    if input._data.dtype.kind == "c":
        name = "max" if is_max else "min"
        if dim is None:
            raise NotImplementedError(f"\"{name}_all\" not implemented for '{input.dtype.scalar_name()}'")
        raise RuntimeError(f"{name}(): does not support complex input")
    if input._data.dtype in UINTS_NP:  # (torch's shell unsigned types: no kernel of theirs)
        kernel = ("max" if is_max else "min") + ("_all" if dim is None else "_cpu")
        raise NotImplementedError(f"\"{kernel}\" not implemented for '{input.dtype.scalar_name()}'")
    d = input._data
    if dim is None:
        if d.size == 0:
            raise RuntimeError(
                f"{'max' if is_max else 'min'}(): Expected reduction dim to be specified for input.numel() == 0. "
                "Specify the reduction dim with the 'dim' argument."
            )
        r = _arr(d.max() if is_max else d.min(), input._dev)
        t = wrap(r, input._dev)
        if ENABLED[0] and input._rg:
            _save_even(t, MaxBackward1 if is_max else MinBackward1, input, None, False)
        return t
    ax = norm_dim(dim, d.ndim)
    if d.ndim == 0:
        return RT["max" if is_max else "min"](
            _0d_copy(input, "MaxBackward0" if is_max else "MinBackward0"), wrap_any(0, input._dev)
        )
    if d.shape[ax] == 0:
        raise IndexError(f"{'max' if is_max else 'min'}(): Expected reduction dim {ax} to have non-zero size.")
    xp = np if type(d) is _ndarray else input._dev.xp
    idx = xp.argmax(d, axis=ax, keepdims=keepdim) if is_max else xp.argmin(d, axis=ax, keepdims=keepdim)
    # a nan wins, at its first position; on a device the fix-up runs unconditionally rather than reading
    # "is there a nan" back from it (a sync in every max(dim))
    if d.dtype.kind == "f" and (xp is not np or bool(np.isnan(d).any())):
        isnan = xp.isnan(d)
        idx = xp.where(isnan.any(axis=ax, keepdims=keepdim), xp.argmax(isnan, axis=ax, keepdims=keepdim), idx)
    idx = _arr(idx, input._dev).astype(np.int64)
    vals = xp.take_along_axis(d, idx if keepdim else xp.expand_dims(idx, ax), axis=ax)
    if not keepdim:
        vals = vals.squeeze(ax)
    vt = wrap(_arr(vals, input._dev), input._dev)
    it = wrap(idx, input._dev)
    if ENABLED[0] and input._rg:
        _node(
            MaxBackward0 if is_max else MinBackward0,
            vt,
            (input,),
            (d.shape, ax, it, keepdim),
            (None, None, None, None),
        )
    return RT["max" if is_max else "min"](vt, it)


_COPY_NODES = {
    n: node_class(n, lambda self, g: (g,)) for n in ("MaxBackward0", "MinBackward0", "SortBackward0", "MedianBackward1")
}


def _0d_copy(input: Tensor, name: str) -> Tensor:  # noqa: A002
    """max/min/sort along dim 0 of a 0-dim tensor: a copy, with the node torch records for the op."""
    c = input.clone()
    if c.grad_fn is not None:
        c.grad_fn.__class__ = _COPY_NODES[name]
    return c


@with_out
def max(input: Tensor, dim: Any = None, keepdim: bool = False, *, other: Any = None) -> Any:  # noqa: A001, A002
    return _extreme(input, dim, keepdim, other, True)


@with_out
def min(input: Tensor, dim: Any = None, keepdim: bool = False, *, other: Any = None) -> Any:  # noqa: A001, A002
    return _extreme(input, dim, keepdim, other, False)


def _amaxmin(input: Tensor, dim: Any, keepdim: bool, is_max: bool) -> Tensor:  # noqa: A002
    d = input._data
    if d.dtype.kind == "c" or d.dtype in UINTS_NP:
        kernel = "max_values_cpu" if is_max else "min_values_cpu"
        raise NotImplementedError(f"\"{kernel}\" not implemented for '{input.dtype.scalar_name()}'")
    dims = _dims(input, dim if dim != () else None)
    if d.size == 0:
        name = "amax" if is_max else "amin"
        if dims is None or dim == ():
            raise RuntimeError(
                f"{name}(): Expected reduction dim to be specified for input.numel() == 0. Specify the reduction "
                "dim with the 'dim' argument."
            )
        for ax in dims if isinstance(dims, tuple) else (dims,):
            if d.shape[ax] == 0:
                raise IndexError(f"{name}(): Expected reduction dim {ax} to have non-zero size.")
    axis = dims if d.ndim else None  # (cupy refuses axis 0 of a 0-dim array, numpy takes it)
    r = _arr(d.max(axis=axis, keepdims=keepdim) if is_max else d.min(axis=axis, keepdims=keepdim), input._dev)
    t = wrap(r, input._dev)
    if ENABLED[0] and input._rg:
        _save_even(t, AmaxBackward0 if is_max else AminBackward0, input, dims, keepdim)
    return t


@with_out
def amax(input: Tensor, dim: Any = (), keepdim: bool = False) -> Tensor:  # noqa: A002
    return _amaxmin(input, dim, keepdim, True)


@with_out
def amin(input: Tensor, dim: Any = (), keepdim: bool = False) -> Tensor:  # noqa: A002
    return _amaxmin(input, dim, keepdim, False)


def _argext(input: Tensor, dim: Any, keepdim: bool, fn: Any) -> Tensor:  # noqa: A002
    d = input._data
    no_uint_kernel(f"{fn.__name__}_cpu", d.dtype)
    if d.dtype.kind in "bc":
        what = "bool" if d.dtype.kind == "b" else "complex"
        raise RuntimeError(f"{fn.__name__}(): does not support {what} input")
    if dim is None:
        if d.size == 0:
            raise IndexError(f"{fn.__name__}(): Expected reduction dim to be specified for input.numel() == 0.")
        r = fn(d.reshape(-1))
        if keepdim:
            r = input._dev.xp.asarray(r).reshape((1,) * d.ndim)
    else:
        ax = norm_dim(dim, d.ndim)
        if d.ndim and d.shape[ax] == 0:
            raise IndexError(f"{fn.__name__}(): Expected reduction dim {ax} to have non-zero size.")
        # (numpy takes axis 0 of a 0-dim array, cupy does not: the answer is 0 either way)
        r = fn(d, axis=ax, keepdims=keepdim) if d.ndim else fn(d)
    return wrap(input._dev.xp.asarray(r, dtype=np.int64), input._dev)


@with_out
def argmax(input: Tensor, dim: Any = None, keepdim: bool = False) -> Tensor:  # noqa: A002
    return _argext(input, dim, keepdim, np.argmax)


@with_out
def argmin(input: Tensor, dim: Any = None, keepdim: bool = False) -> Tensor:  # noqa: A002
    return _argext(input, dim, keepdim, np.argmin)


# ---- var / std ---------------------------------------------------------------------------------------
NOUNBIASED: Any = object()  # `unbiased` not passed (torch's parser refuses an explicit None)


def _bool_dim_refusal(name: str, input: Tensor, unbiased: bool, correction: Any) -> TypeError:  # noqa: A002
    from engine.ops.arg_parser import SIGNATURES, _invalid_combination

    return _invalid_combination(name, SIGNATURES[("function", name)], (input, unbiased), {"correction": correction})


def _correction(unbiased: Any, correction: Any) -> float:
    if correction is not None:
        if unbiased is not NOUNBIASED:  # (no signature of torch's takes both: tcli says it as its parser does)
            raise TypeError("std/var(): unbiased and correction given together")
        return correction
    if unbiased is NOUNBIASED:
        return 1
    return 1 if unbiased else 0


def _complex_var(d: Any, dims: Any, c: float, keepdim: bool) -> Any:
    parts = []
    for p in (d.real, d.imag):
        v = torch_var(p, dims, c, keepdim) if p.size > c else None
        parts.append(v if v is not None else p.var(axis=dims, ddof=c, keepdims=keepdim, dtype=_acc(p)))
    return parts[0] + parts[1]


def _var_grad(g: Tensor, x: Tensor, dims: Any, keepdim: bool, n: float) -> Tensor:
    """torch's var_backward, n the degrees of freedom (numel - correction). Over all elements with
    n <= 0 the gradient is inf (nan where x equals its mean); over dims torch just divides by n."""
    ge = expand_back(g, x._data.shape, dims, keepdim)
    if dims is None or x._data.ndim == 0:
        m = x.mean()
        if n <= 0:
            from engine.ops.elementwise import where

            return ge * where(x == m, float("nan"), float("inf"))
        return (2.0 / n) * ge * (x - m)
    return (2.0 / n if n else float("inf")) * ge * (x - x.mean(dim=dims, keepdim=True))


def _var_bw(self: Node, g: Tensor, x: Tensor, dims: Any, keepdim: bool, n: float) -> tuple:
    return (_var_grad(g, x, dims, keepdim, n),)


def _std_bw(self: Node, g: Tensor, x: Tensor, y: Tensor, dims: Any, keepdim: bool, n: float) -> tuple:
    from engine.ops.elementwise import where

    gy = where(y == 0, 0.0, g / (y * 2))  # torch masks the gradient where std is 0
    return (_var_grad(gy, x, dims, keepdim, n),)


VarBackward0 = node_class("VarBackward0", _var_bw)
StdBackward0 = node_class("StdBackward0", _std_bw)


def _varstd(
    input: Tensor, dim: Any, unbiased: Any, keepdim: bool, correction: Any, is_std: bool, fname: str = ""
) -> Tensor:  # noqa: A002
    if isinstance(dim, bool):
        if correction is not None:  # torch.std(x, True, correction=0): no signature of torch's takes both
            raise _bool_dim_refusal(fname or ("std" if is_std else "var"), input, dim, correction)
        unbiased, dim = dim, None
    if unbiased is not NOUNBIASED and not isinstance(unbiased, (bool, np.bool_)):  # (torch's parser refuses it)
        name = fname or ("std" if is_std else "var")
        raise TypeError(f"{name}(): argument 'unbiased' must be bool, not {type(unbiased).__name__}")
    d = input._data
    if d.dtype.kind not in "fc":
        raise RuntimeError("std and var only support floating point and complex dtypes")
    c = _correction(unbiased, correction)
    dims = _dims(input, dim) if d.ndim else None  # (dim 0 or -1 of a 0-dim tensor is all of it)
    n_red = d.size if dims is None else int(np.prod([d.shape[i] for i in dims]))
    denom = n_red - c
    if denom <= 0:
        import warnings

        warnings.warn(
            f"{fname or ('std' if is_std else 'var')}(): degrees of freedom is <= 0. Correction should be strictly "
            "less than the reduction factor (input numel divided by output numel). (Triggered internally at "
            "/__w/pytorch/pytorch/aten/src/ATen/native/ReduceOps.cpp:1861.)",
            UserWarning,
            stacklevel=user_stacklevel(),
        )
    with np.errstate(divide="ignore", invalid="ignore"):
        # numpy divides by max(n - correction, 0) as torch does: inf, or nan for 0/0
        if d.dtype.kind == "c":
            # |z - mean|^2 adds the parts' squared deviations: torch sums the variances of real and imag
            r = _complex_var(d, dims, c, keepdim)
        elif denom > 0 and d.dtype.metadata is not None:  # bfloat16: torch's Welford in double, as for float16
            r = plain(d).astype(np.float64).var(axis=dims, ddof=c, keepdims=keepdim)
        elif denom > 0:
            r = torch_var(d, dims, c, keepdim)  # torch's arithmetic (double) on the cpu
            if r is None:
                r = d.var(axis=dims, ddof=c, keepdims=keepdim, dtype=_acc(d))
        else:
            # sum of squares over 0 by hand: cupy's var answers nan where torch (and numpy) give inf. The mean
            # is a sum over n, not d.mean(), whose "Mean of empty slice" would need warnings.catch_warnings,
            # and that resets Python's once-per-line registry (torch's own warning would then repeat)
            mean = d.sum(axis=dims, keepdims=True, dtype=_acc(d)) / n_red
            dev = d - mean.astype(d.dtype, copy=False)
            r = (dev * dev).sum(axis=dims, keepdims=keepdim, dtype=_acc(d)) / 0.0
        if is_std:
            r = np.sqrt(r)
    r = _arr(r, input._dev).astype(d.real.dtype, copy=False)
    t = wrap(r, input._dev)
    if ENABLED[0] and input._rg:
        if is_std:
            node = StdBackward0()
            node._seq = next_seq()
            node._next = (edge_of(input),)
            s, v = save_out(node, t)
            node._saved = (input, s, dims, keepdim, denom)
            node._vers = ((input._vc, input._vc[0]), v, None, None, None)
            node._ctx = (r.shape, r.dtype)
            t._rg = True
            t.grad_fn = node
        else:
            _node(
                VarBackward0,
                t,
                (input,),
                (input, dims, keepdim, denom),
                ((input._vc, input._vc[0]), None, None, None),
            )
    return t


@with_out
@whole
def var(
    input: Tensor, dim: Any = None, unbiased: Any = NOUNBIASED, keepdim: bool = False, *, correction: Any = None
) -> Tensor:  # noqa: A002
    return _varstd(input, dim, unbiased, keepdim, correction, False)


@with_out
@whole
def std(
    input: Tensor, dim: Any = None, unbiased: Any = NOUNBIASED, keepdim: bool = False, *, correction: Any = None
) -> Tensor:  # noqa: A002
    return _varstd(input, dim, unbiased, keepdim, correction, True)


def _std_mean_bw(
    self: Node, g: Any, x: Tensor, y: Tensor, dims: Any, keepdim: bool, c: Any, denom: float, n: int
) -> tuple:
    """torch's std_mean_backward: std's gradient (where std's output got one) plus mean's."""
    gs, gm = grads_of(g, 2)
    r = None if gs is None else _std_bw(self, gs, x, y, dims, keepdim, denom)[0]
    if gm is not None:
        m = _mean_bw(self, gm, x._data.shape, dims, keepdim, n)[0]
        r = m if r is None else r + m
    return (r,)


def _var_mean_bw(self: Node, g: Any, x: Tensor, dims: Any, keepdim: bool, c: Any, denom: float, n: int) -> tuple:
    """torch's var_mean_backward: var's gradient (where var's output got one) plus mean's."""
    gv, gm = grads_of(g, 2)
    r = None if gv is None else _var_grad(gv, x, dims, keepdim, denom)
    if gm is not None:
        m = _mean_bw(self, gm, x._data.shape, dims, keepdim, n)[0]
        r = m if r is None else r + m
    return (r,)


StdMeanBackward0 = multi_class("StdMeanBackward0", _std_mean_bw)
VarMeanBackward0 = multi_class("VarMeanBackward0", _var_mean_bw)


def _varstd_mean(input: Tensor, dim: Any, unbiased: Any, keepdim: bool, correction: Any, is_std: bool) -> tuple:  # noqa: A002
    """(std or var, mean), both outputs of one StdMeanBackward0 / VarMeanBackward0 node, as in torch."""
    if isinstance(dim, bool):
        if correction is not None:
            raise _bool_dim_refusal("std_mean" if is_std else "var_mean", input, dim, correction)
        unbiased, dim = dim, None
    prev = ENABLED[0]
    ENABLED[0] = False
    try:
        v = _varstd(input, dim, unbiased, keepdim, correction, is_std, "std_mean" if is_std else "var_mean")
        m = mean(input, dim, keepdim)
    finally:
        ENABLED[0] = prev
    if prev and input._rg:
        d = input._data
        c = _correction(unbiased, correction)
        dims = _dims(input, dim) if d.ndim else None
        n = d.size // builtins.max(m._data.size, 1) if d.size else 0
        extra = (dims, keepdim, correction, n - c, n)  # (torch's _saved_correction: as given)
        if is_std:
            share(StdMeanBackward0, [v, m], (input,), keep=(input,), extra=extra, save=(0,))
        else:
            share(VarMeanBackward0, [v, m], (input,), keep=(input,), extra=extra, save=())
    return v, m


@whole
def var_mean(
    input: Tensor, dim: Any = None, unbiased: Any = NOUNBIASED, keepdim: bool = False, *, correction: Any = None
) -> tuple:  # noqa: A002
    return _varstd_mean(input, dim, unbiased, keepdim, correction, False)


@whole
def std_mean(
    input: Tensor, dim: Any = None, unbiased: Any = NOUNBIASED, keepdim: bool = False, *, correction: Any = None
) -> tuple:  # noqa: A002
    return _varstd_mean(input, dim, unbiased, keepdim, correction, True)


# ---- norm -----------------------------------------------------------------------------------------
def _norm_bw(self: Node, g: Tensor, x: Tensor, y: Tensor, p: float, dims: Any, keepdim: bool) -> tuple:
    from engine.ops.elementwise import where

    if p == 0:
        return (None,)  # torch's zero norm has no gradient: the input's .grad stays None
    shape = x._data.shape
    ge = expand_back(g, shape, dims, keepdim)
    ye = expand_back(y, shape, dims, keepdim)
    # torch's norm_backward, grouped as it groups (the last bits follow): grad * (self / norm), 0 where norm is
    if p == 2:
        return (ge * where(ye == 0, 0.0, x / ye),)
    if p == 1:
        return (ge * x.sign(),)
    if p == float("inf") or p == float("-inf"):
        mask = x.abs() == ye
        count = mask.sum(dim=dims, keepdim=True) if dims is not None else mask.sum()
        return (ge * x.sign() * mask / count,)
    if p < 1:
        scaled = x.sign() * where(x == 0, 0.0, x.abs() ** (p - 1))
        return (scaled * ge * ye ** (1 - p),)
    scaled = x.sign() * x.abs() ** (p - 1) if p < 2 else x * x.abs() ** (p - 2)
    return (scaled * where(ye == 0, 0.0, ge / ye ** (p - 1)),)


LinalgVectorNormBackward0 = node_class("LinalgVectorNormBackward0", _norm_bw)


@with_out
def norm(input: Tensor, p: Any = "fro", dim: Any = None, keepdim: bool = False, dtype: Any = None) -> Tensor:  # noqa: A002
    if not isinstance(input, Tensor) or not isinstance(p, (str, int, float, np.number, NoneType)):
        _norm_refused(input, p)
    if p == "fro" or p is None:
        p = 2
    if isinstance(p, str) and p != "nuc":  # (torch hands any other order named by a string to matrix_norm)
        raise RuntimeError(f"linalg.matrix_norm: Order {p} not supported.")
    if p == "nuc":  # torch's matrix norm over dim (all dims when not given), whose errors it keeps
        from engine.ops.linalg_more import matrix_norm

        dims = list(range(input._data.ndim)) if dim is None else [dim] if isinstance(dim, int) else dim
        return matrix_norm(input, "nuc", dims, keepdim, dtype=dtype)
    try:
        return vector_norm(input, p, dim, keepdim, dtype=dtype)
    except SparseOperand:  # a sparse operand (engine/sparse_tensor.py)
        return input.norm(p, dim, keepdim, dtype)


NoneType = type(None)


def _norm_refused(input: Any, p: Any) -> None:  # noqa: A002
    """torch.norm (Python in torch) on what it does not take: Python's error for an input with no layout (its
    first read); torch.linalg.vector_norm's parser error for an order that is no number."""
    from engine.ops.util import parser_type_name

    if not isinstance(input, Tensor):
        raise AttributeError(f"'{parser_type_name(input)}' object has no attribute 'layout'")
    if isinstance(p, Tensor) and p.ndim == 0 and not p.requires_grad:
        return
    raise TypeError(f"linalg_vector_norm(): argument 'ord' (position 2) must be Number, not {parser_type_name(p)}")


@whole
def vector_norm(x: Tensor, ord: float = 2, dim: Any = None, keepdim: bool = False, *, dtype: Any = None) -> Tensor:  # noqa: A002
    d = x._data
    if d.dtype.kind == "c":  # (a complex vector's norm is its moduli's)
        return vector_norm(x.abs(), ord, dim, keepdim, dtype=dtype)
    if d.dtype.kind != "f":
        raise RuntimeError(
            f"linalg.vector_norm: Expected a floating point or complex tensor as input. Got {x.dtype.scalar_name()}"
        )
    p = float(ord)
    dims = _dims(x, dim) if d.ndim else None  # (dim 0 or -1 of a 0-dim tensor is all of it)
    if dtype is not None:
        d = d.astype(to_dtype(dtype).np)  # computed and returned in dtype; the gradient comes back in x's
    out_dt = d.dtype
    half = _acc(d) is not None or d.dtype.metadata is not None
    if half:
        d = d.astype(np.float32)  # float16 (and bfloat16) norms are computed in float32, as torch
    r = torch_norm(d, p, dims, keepdim, fast=not half)  # torch's order of additions on the cpu
    a = np.abs(d)
    if r is not None:
        pass
    elif p == 2:
        r = np.sqrt((d * d).sum(axis=dims, keepdims=keepdim))
    elif p == 1:
        r = a.sum(axis=dims, keepdims=keepdim)
    elif p == float("inf"):
        r = a.max(axis=dims, keepdims=keepdim)
    elif p == float("-inf"):
        r = a.min(axis=dims, keepdims=keepdim)
    elif p == 0:
        r = (a != 0).sum(axis=dims, keepdims=keepdim).astype(d.dtype)
    else:
        r = (a**p).sum(axis=dims, keepdims=keepdim) ** (1 / p)
    r = _arr(r, x._dev)
    r = r.astype(out_dt, copy=False) if out_dt.metadata is None else to_bf16(r, x._dev.xp)
    t = wrap(r, x._dev)
    if ENABLED[0] and x._rg:
        node = LinalgVectorNormBackward0()
        node._seq = next_seq()
        node._next = (edge_of(x),)
        s, v = save_out(node, t)
        node._saved = (x, s, p, dims, keepdim)
        node._vers = ((x._vc, x._vc[0]), v, None, None, None)
        node._ctx = (r.shape, r.dtype)
        if r.dtype != x._data.dtype:
            node._meta = ((x._data.shape, x._data.dtype),)
        t._rg = True
        t.grad_fn = node
    return t


# ---- cumsum / cumprod / logsumexp ------------------------------------------------------------------
def _cum_acc(d: Any) -> Any:
    """The running total's dtype: torch's cpu kernels carry a float32 cumsum/cumprod in double (acc_type on
    the cpu), its cuda kernels in float32; float16 in float32 on both."""
    if d.dtype.char == "f" and type(d) is _ndarray:
        return np.float64
    return _acc(d)


def _cumsum_bw(self: Node, g: Tensor, dim: int) -> tuple:
    return (g.flip(dim).cumsum(dim).flip(dim),)


CumsumBackward0 = node_class("CumsumBackward0", _cumsum_bw)


@with_out
def cumsum(input: Tensor, dim: int = NODIM, *, dtype: Any = None) -> Tensor:  # noqa: A002
    if dim is NODIM:
        raise TypeError('cumsum() missing 1 required positional arguments: "dim"')
    d = input._data
    if dtype is not None:
        d = d.astype(to_dtype(dtype).np)
    elif d.dtype.kind in "biu":
        d = d.astype(np.int64)
    ax = norm_dim(dim, d.ndim)
    if d.ndim:
        acc = np.cumsum(d, axis=ax, dtype=_cum_acc(d))
        if acc.dtype.kind in "fc":  # torch's running total starts at +0: a leading -0.0 comes out as 0.0
            acc += 0.0
        r = acc.astype(d.dtype, copy=False)
    else:
        r = d.copy()
    r = _arr(r if r.flags.c_contiguous else r.copy(order="C"), input._dev)  # (torch: a contiguous result)
    t = wrap(r, input._dev)
    if ENABLED[0] and input._rg:
        _node(CumsumBackward0, t, (input,), (ax,), (None,))
        if r.dtype != input._data.dtype:
            t.grad_fn._meta = ((d.shape, input._data.dtype),)
    return t


def _cumprod_bw(self: Node, g: Tensor, x: Tensor, y: Tensor, dim: int) -> tuple:
    """torch's cumprod_backward: d y_k / d x_i = y_k / x_i for k >= i while x has no zero (a reversed cumsum);
    with zeros, the products that leave x_i out, computed directly."""
    xd = x._data
    if xd.size <= 1 or xd.shape[dim] == 1:
        return (g,)
    xp = x._dev.xp
    if not bool((xd == 0).any()):
        return (((g * y).flip(dim).cumsum(dim).flip(dim)) / x,)
    if ENABLED[0]:  # create_graph: the products as a differentiable O(n^2) composite (torch's path too)
        return (_cumprod_grad_exact(g, x, dim),)
    gd, yd = g._data, y._data
    zero = xd == 0
    nz = xp.cumsum(zero, axis=dim)
    before = nz == 0  # ahead of a row's first zero: the quotient formula holds there
    rev = lambda a: xp.flip(xp.cumsum(xp.flip(a, dim), axis=dim), dim)  # noqa: E731
    out = xp.where(before, rev(xp.where(before, gd * yd, 0)) / xp.where(before, xd, 1), 0)
    first = zero & (nz == 1)  # at the first zero: sum over k of g_k times the product up to k without it
    left_out = xp.cumprod(xp.where(first, 1, xd), axis=dim)
    out = xp.where(first, rev(xp.where(nz >= 1, gd * left_out, 0)), out)  # (after a row's 2nd zero: 0)
    return (wrap(out.astype(gd.dtype, copy=False), g._dev),)


def _cumprod_grad_exact(g: Tensor, x: Tensor, dim: int) -> Tensor:
    """sum over k >= i of g_k * prod_{j <= k, j != i} x_j, for every i, from engine ops (differentiable)."""
    from engine.creation import eye, ones

    n = x._data.shape[dim]
    xm = x.movedim(dim, -1).unsqueeze(-2)  # (..., 1, n): row i of the square gets x with x_i replaced by 1
    xm = xm.expand(*xm.shape[:-2], n, n)
    diag = eye(n, dtype=x.dtype, device=x.device).bool()
    left_out = xm.masked_fill(diag, 1.0).cumprod(-1)  # (..., i, k)
    upper = ones(n, n, dtype=x.dtype, device=x.device).triu()  # k >= i
    return (left_out * upper * g.movedim(dim, -1).unsqueeze(-2)).sum(-1).movedim(-1, dim)


CumprodBackward0 = node_class("CumprodBackward0", holomorphic(_cumprod_bw))


@with_out
def cumprod(input: Tensor, dim: int = NODIM, *, dtype: Any = None) -> Tensor:  # noqa: A002
    if dim is NODIM:
        raise TypeError('cumprod() missing 1 required positional arguments: "dim"')
    d = input._data
    if dtype is not None:
        d = d.astype(to_dtype(dtype).np)
    elif d.dtype.kind in "biu":
        d = d.astype(np.int64)
    ax = norm_dim(dim, d.ndim)
    r = np.cumprod(d, axis=ax, dtype=_cum_acc(d)).astype(d.dtype, copy=False) if d.ndim else d.copy()
    r = _arr(r if r.flags.c_contiguous else r.copy(order="C"), input._dev)  # (torch: a contiguous result)
    t = wrap(r, input._dev)
    if ENABLED[0] and input._rg:
        node = CumprodBackward0()
        node._seq = next_seq()
        node._next = (edge_of(input),)
        s, v = save_out(node, t)
        node._saved = (input, s, ax)
        node._vers = ((input._vc, input._vc[0]), v, None)
        node._ctx = (r.shape, r.dtype)
        t._rg = True
        t.grad_fn = node
    return t


def _lse_bw(self: Node, g: Tensor, x: Tensor, y: Tensor, dims: Any, keepdim: bool) -> tuple:
    shape = x._data.shape
    return (expand_back(g, shape, dims, keepdim) * (x - expand_back(y, shape, dims, keepdim)).exp(),)


LogsumexpBackward0 = node_class("LogsumexpBackward0", holomorphic(_lse_bw))


def _lse_real(x: Tensor, dims: tuple, keepdim: bool) -> Any:
    """torch's logsumexp, op for op in the input's dtype (each op torch's kernel, so the result is its bits): the
    maxima over dims (an infinite one taken as 0), sum(exp(x - max)), its log, plus the maxima."""
    m = x.amax(dims, True)
    m = m.masked_fill(m.abs() == float("inf"), 0)
    r = (x - m).exp().sum(dims, keepdim).log()
    return (r + (m if keepdim else m.squeeze(dims)))._data


@with_out
def logsumexp(input: Tensor, dim: Any, keepdim: bool = False) -> Tensor:  # noqa: A002
    d = input._data
    if d.dtype.kind not in "fc":
        d = d.astype(DEFAULT.float.np)
    dims = _axes(input, dim)
    if dims is None:
        if dim is None:  # (torch's dim has no default and takes no None: x.logsumexp(None))
            raise TypeError("logsumexp(): argument 'dim' (position 2) must be tuple of ints, not NoneType")
        if not keepdim and d.size and d.ndim and isinstance(dim, (list, tuple)):
            # torch's kernel sums dim=() over every dim but adds back the maxima it kept (all size-1 dims)
            raise RuntimeError(f"output with shape [] doesn't match the broadcast shape [{', '.join(['1'] * d.ndim)}]")
    if d.dtype.kind == "f" and d.size and d.ndim:
        r = _lse_real(wrap(d, input._dev), dims if dims is not None else tuple(range(d.ndim)), keepdim)
    else:
        big = d.real  # (a complex input is shifted by its largest real part)
        m = big.max(axis=dims, keepdims=True) if d.size else np.zeros_like(big, shape=(1,) * d.ndim)
        m = np.where(np.isfinite(m), m, 0)
        with np.errstate(divide="ignore"):
            r = np.log(np.exp(d - m).sum(axis=dims, keepdims=True)) + m
        if not keepdim:
            r = r.squeeze(axis=dims) if dims is not None else r.reshape(())
        r = _arr(r, input._dev).astype(d.dtype, copy=False)
    t = wrap(r, input._dev)
    if ENABLED[0] and input._rg:
        node = LogsumexpBackward0()
        node._seq = next_seq()
        node._next = (edge_of(input),)
        s, v = save_out(node, t)
        node._saved = (input, s, dims, keepdim)
        node._vers = ((input._vc, input._vc[0]), v, None, None)
        node._ctx = (r.shape, r.dtype)
        t._rg = True
        t.grad_fn = node
    return t


# ---- softmax / log_softmax ---------------------------------------------------------------------------
def _axis(a: Any, dim: int) -> Any:
    return dim if a.ndim else None


def _softmax_grad(g: Any, y: Any, dim: int) -> Any:
    if (softmax_cpu.usable(y) and softmax_cpu.usable(g)) or (softmax_cpu.usable64(y) and softmax_cpu.usable64(g)):
        return softmax_cpu.softmax_backward(g, y, _axis(y, dim), False)
    return y * (g - (g * y).sum(axis=_axis(y, dim), keepdims=True))


def _log_softmax_grad(g: Any, y: Any, dim: int) -> Any:
    if (softmax_cpu.usable(y) and softmax_cpu.usable(g)) or (softmax_cpu.usable64(y) and softmax_cpu.usable64(g)):
        return softmax_cpu.softmax_backward(g, y, _axis(y, dim), True)
    return g - for_array(np.exp, y)(y) * g.sum(axis=_axis(y, dim), keepdims=True)


def _softmax_grad_dy(gg: Tensor, g: Tensor, y: Tensor, dim: int) -> Tensor:
    # (d/dg is the kernel itself: it is symmetric)
    return gg * (g - (g * y).sum(dim=dim, keepdim=True)) - g * (gg * y).sum(dim=dim, keepdim=True)


# torch's derivatives.yaml: d/dg is the kernel's transpose, gg - sum(gg * exp(y)); d/dy is -sum(g) * exp(y) * gg
def _log_softmax_grad_dg(gg: Tensor, g: Tensor, y: Tensor, dim: int) -> Tensor:
    return gg - (gg * y.exp()).sum(dim=dim, keepdim=True)


def _log_softmax_grad_dy(gg: Tensor, g: Tensor, y: Tensor, dim: int) -> Tensor:
    return -g.sum(dim=dim, keepdim=True) * y.exp() * gg


@whole
def _softmax_bw(self: Node, g: Tensor, y: Tensor, dim: int) -> tuple:
    return (softmax_backward_data(g, y, dim),)


@whole
def _log_softmax_bw(self: Node, g: Tensor, y: Tensor, dim: int) -> tuple:
    return (log_softmax_backward_data(g, y, dim),)


# torch's _softmax_backward_data / _log_softmax_backward_data kernels, primitives with their own derivatives
softmax_backward_data = _grad_op(
    "SoftmaxBackwardDataBackward0",
    _softmax_grad,
    lambda gg, g, y, dim: softmax_backward_data(gg, y, dim),
    _softmax_grad_dy,
)
log_softmax_backward_data = _grad_op(
    "LogSoftmaxBackwardDataBackward0", _log_softmax_grad, _log_softmax_grad_dg, _log_softmax_grad_dy
)
SoftmaxBackward0 = node_class("SoftmaxBackward0", _softmax_bw)
SafeSoftmaxBackward0 = node_class("SafeSoftmaxBackward0", _softmax_bw)  # (attention's: its gradient is softmax's)
LogSoftmaxBackward0 = node_class("LogSoftmaxBackward0", _log_softmax_bw)


@whole
def _softmax_impl(
    input: Tensor,
    dim: Any,
    dtype: Any,
    log: bool,
    where: str = "",
    safe: bool = False,  # noqa: A002
) -> Tensor:
    """where: the parser's ' (position n)' of dim, given by position (F.softmax passes it so: position 1)."""
    if dim is not None and not isinstance(dim, int) and not hasattr(dim, "__index__"):
        name = "log_softmax" if log else "softmax"
        raise TypeError(f"{name}(): argument 'dim'{where} must be int, not {type_name(dim)}")
    d = input._data
    if dtype is not None:
        d = d.astype(to_dtype(dtype).np)
    if dim is None:
        dim = 0 if d.ndim in (0, 1, 3) else 1  # torch's legacy implicit-dim rule
    ax = norm_dim(dim, d.ndim) if d.ndim else None
    if d.dtype.kind != "f" and (d.size or dtype is not None):  # (torch's kernels: one for the last dim)
        kernel = "lastdim_kernel_impl" if ax is None or ax == d.ndim - 1 else "kernel_impl"
        raise NotImplementedError(
            f'"{"log_softmax" if log else "softmax"}_{kernel}" not implemented for '
            f"'{(input.dtype if dtype is None else to_dtype(dtype)).scalar_name()}'"
        )
    out_dt = d.dtype
    if _acc(d) is not None:
        d = d.astype(np.float32)  # torch computes float16 softmax in float32
    if not log and (out_dt == _F16 or out_dt.metadata) and ax is not None and ax != d.ndim - 1 and d.size:
        if isinstance(d, np.ndarray):  # (cpu; bfloat16: a BF16Array, its float32 values read plainly)
            x = plain(d)
            r = softmax_cpu.low_otherdim(x - x.max(axis=ax, keepdims=True), ax, out_dt == _F16)
            r = r.astype(_F16) if out_dt == _F16 else to_bf16(r)
            return _softmax_out(input, r, ax, log, safe)
    if not log and (out_dt == _F16 or out_dt.metadata) and ax == d.ndim - 1 and softmax_cpu.usable(plain(d)):
        r = softmax_cpu.reduced_lastdim(plain(d))  # (torch's float16/bfloat16 kernel: float, its own tail and sum)
        r = r.astype(_F16) if out_dt == _F16 else to_bf16(r)
        return _softmax_out(input, _arr(r, input._dev), ax, log, safe)
    if (softmax_cpu.usable(d) and out_dt == np.float32) or softmax_cpu.usable64(d):
        # torch's kernels: SLEEF's exp and log, its sum orders
        r = _arr(softmax_cpu.softmax(d, ax, log), input._dev)
        return _softmax_out(input, r, ax, log, safe)
    m = d.max(axis=ax, keepdims=True) if d.size else d
    z = d - m
    e = for_array(np.exp, z)(z)
    s = e.sum(axis=ax, keepdims=True)
    log_ = for_array(np.log, s)
    if log and (out_dt == _F16 or out_dt.metadata) and ax == d.ndim - 1:
        # torch's last-dim kernel keeps sum and log in half (and in bfloat16)
        low = (lambda a: a.astype(_F16).astype(np.float32)) if out_dt == _F16 else (lambda a: to_bf16(plain(a)))
        s = low(s)
        r = z - low(log_(s))
    else:
        r = z - log_(s) if log else e / s
    r = _arr(r.astype(out_dt, copy=False), input._dev)
    return _softmax_out(input, r, ax, log, safe)


def _softmax_out(input: Tensor, r: Any, ax: Any, log: bool, safe: bool = False) -> Tensor:  # noqa: A002
    if safe and ax is not None and r.size:  # (torch's _safe_softmax: a row of -inf only gives zeros, not nans)
        xp = input._dev.xp
        dead = xp.all(plain(input._data) == -np.inf, axis=ax, keepdims=True)
        if dead.any():
            r = xp.where(dead, xp.zeros((), dtype=r.dtype), r)
    t = wrap(r, input._dev)
    if ENABLED[0] and input._rg:
        node = (LogSoftmaxBackward0 if log else SafeSoftmaxBackward0 if safe else SoftmaxBackward0)()
        node._seq = next_seq()
        node._next = (edge_of(input),)
        sv, v = save_out(node, t)
        node._saved = (sv, ax if ax is not None else 0)
        node._vers = (v, None)
        if r.dtype is not input._data.dtype:
            node._meta = ((input._data.shape, input._data.dtype),)
        node._ctx = (r.shape, r.dtype)
        t._rg = True
        t.grad_fn = node
    return t


_NO_DIM = object()


def safe_softmax(input: Tensor, dim: int) -> Tensor:  # noqa: A002
    """torch's _safe_softmax (scaled_dot_product_attention's math path): softmax, with zeros for a row that is
    -inf throughout (all its keys masked out) where softmax gives nans; SafeSoftmaxBackward0."""
    return _softmax_impl(input, dim, None, False, safe=True)


@with_out
def softmax(input: Tensor, dim: Any = _NO_DIM, dtype: Any = None) -> Tensor:  # noqa: A002
    """torch.softmax / Tensor.softmax: dim is required (F.softmax alone has the deprecated implicit dim)."""
    if dim is _NO_DIM:
        raise TypeError('softmax() missing 1 required positional arguments: "dim"')
    if dim is None:
        raise TypeError("softmax(): argument 'dim' must be int, not NoneType")
    return _softmax_impl(input, dim, dtype, False)


@with_out
def log_softmax(input: Tensor, dim: Any = _NO_DIM, dtype: Any = None) -> Tensor:  # noqa: A002
    if dim is _NO_DIM:
        raise TypeError('log_softmax() missing 1 required positional arguments: "dim"')
    if dim is None:
        raise TypeError("log_softmax(): argument 'dim' must be int, not NoneType")
    return _softmax_impl(input, dim, dtype, True)


# ---- all / any / count_nonzero ----------------------------------------------------------------------
@with_out
def all(input: Tensor, dim: Any = None, keepdim: bool = False) -> Tensor:  # noqa: A001, A002
    d = input._data
    r = d.all() if dim is None else d.all(axis=_axes(input, dim), keepdims=keepdim)
    r = input._dev.xp.asarray(r, dtype=np.uint8 if d.dtype == np.uint8 else None)  # torch keeps uint8 for uint8
    return wrap(_arr(r, input._dev), input._dev)


@with_out
def any(input: Tensor, dim: Any = None, keepdim: bool = False) -> Tensor:  # noqa: A001, A002
    d = input._data
    r = d.any() if dim is None else d.any(axis=_axes(input, dim), keepdims=keepdim)
    r = input._dev.xp.asarray(r, dtype=np.uint8 if d.dtype == np.uint8 else None)
    return wrap(_arr(r, input._dev), input._dev)


def count_nonzero(input: Tensor, dim: Any = None) -> Tensor:  # noqa: A002
    d = input._data
    r = np.count_nonzero(d, axis=_axes(input, dim))
    return wrap(input._dev.xp.asarray(r, dtype=np.int64), input._dev)


# ---- sort / argsort / topk ------------------------------------------------------------------------
def _sort_bw(self: Node, g: Tensor, shape: tuple, dim: int, idx: Tensor) -> tuple:
    from engine.ops.index import scatter_new

    return (scatter_new(g, dim, idx, shape),)


SortBackward0 = node_class("SortBackward0", _sort_bw)
SortBackward1 = node_class("SortBackward1", _sort_bw)
TopkBackward0 = node_class("TopkBackward0", _sort_bw)


def _stable_order(d: Any, ax: int, descending: bool) -> Any:
    """Indices that sort `d` along `ax`, equal values in their original order (nans last, or first when
    descending, as torch's comparators place them)."""
    if descending:
        idx = np.flip(np.argsort(np.flip(d, axis=ax), axis=ax, kind="stable"), axis=ax)
        return (d.shape[ax] - 1 - idx).astype(np.int64)
    return np.argsort(d, axis=ax, kind="stable").astype(np.int64)


@with_out
def sort(input: Tensor, dim: int = -1, descending: bool = False, stable: bool | None = None) -> Any:  # noqa: A002
    d = input._data
    if d.dtype.kind == "c":
        raise RuntimeError(" Sort does not support complex dtypes on CPU")
    if d.ndim == 0:
        return RT["sort"](_0d_copy(input, "SortBackward0"), wrap_any(0, input._dev))
    ax = norm_dim(dim, d.ndim)
    idx = _stable_order(d, ax, descending)
    if not stable and isinstance(d, _ndarray):  # (cuda's sort is another algorithm; the stable order stands there)
        from engine.ops.tie_order import sort_order

        idx = sort_order(d, idx, ax, descending)
    vals = for_array(np.take_along_axis, d)(d, idx, axis=ax)
    vt = wrap(_arr(vals, input._dev), input._dev)
    it = wrap(_arr(idx, input._dev), input._dev)
    if ENABLED[0] and input._rg:
        # the overload with stable= is torch's sort.stable: SortBackward1
        _node(SortBackward0 if stable is None else SortBackward1, vt, (input,), (d.shape, ax, it), (None, None, None))
    return RT["sort"](vt, it)


def argsort(input: Tensor, dim: int = -1, descending: bool = False, stable: bool = False) -> Tensor:  # noqa: A002
    return sort(input, dim, descending, stable).indices


def topk(input: Tensor, k: int, dim: int = -1, largest: bool = True, sorted: bool = True) -> Any:  # noqa: A002
    d = input._data
    no_uint_kernel("topk_cpu", d.dtype)
    if d.dtype.kind == "c":
        raise RuntimeError(" topk does not support complex dtypes on CPU")
    if d.dtype.kind == "b":
        raise RuntimeError("topk does not support bool dtypes on CPU")
    ax = norm_dim(dim, d.ndim)
    if not 0 <= k <= (d.shape[ax] if d.ndim else 1):
        raise RuntimeError("selected index k out of range")
    if d.ndim == 0:  # (torch gives the element back for k of 0 or 1)
        s = sort(input)
        return RT["topk"](s.values, s.indices)
    order = _stable_order(d, ax, largest)
    if isinstance(d, _ndarray):
        from engine.ops.tie_order import topk_order

        idx = topk_order(d, order, k, ax, largest, sorted)
    else:
        idx = order.take(range(k), axis=ax)
    vals = for_array(np.take_along_axis, d)(d, idx, axis=ax)
    vt = wrap(_arr(vals, input._dev), input._dev)
    it = wrap(_arr(idx, input._dev), input._dev)
    if ENABLED[0] and input._rg:
        _node(TopkBackward0, vt, (input,), (d.shape, ax, it), (None, None, None))
    return RT["topk"](vt, it)


MedianBackward0 = node_class("MedianBackward0", _even_bw)
MedianBackward1 = node_class("MedianBackward1", _select_bw)


def median(input: Tensor, dim: Any = None, keepdim: bool = False) -> Any:  # noqa: A002
    """The lower median; a nan anywhere makes it nan (torch's), the gradient shared by the ties (full) or
    sent to the chosen index (along a dim)."""
    d = input._data
    if d.dtype.kind == "b" and (d.size or dim is not None):  # (torch's cpu kernels have no bool variant)
        raise NotImplementedError(f"\"{'median_cpu' if dim is None else 'median_out'}\" not implemented for 'Bool'")
    xp = np if type(d) is _ndarray else input._dev.xp
    if dim is None:
        if d.size == 0:
            return wrap_any(xp.asarray(np.nan, dtype=d.dtype), input._dev)
        flat = xp.sort(d.reshape(-1))  # (nans last)
        r = (
            flat[(flat.size - 1) // 2]
            if d.dtype.kind != "f"
            else xp.where(xp.isnan(flat[-1]), flat[-1], flat[(flat.size - 1) // 2])
        )
        t = wrap(_arr(r, input._dev), input._dev)
        if ENABLED[0] and input._rg:
            _save_even(t, MedianBackward0, input, None, False)
        return t
    ax = norm_dim(dim, d.ndim)
    if d.ndim and d.shape[ax] == 0:
        raise IndexError(f"median(): Expected reduction dim {ax} to have non-zero size.")
    if not d.ndim:
        return RT["median"](_0d_copy(input, "MedianBackward1"), wrap_any(0, input._dev))
    order = xp.argsort(d, axis=ax, kind="stable")  # nans last, ties in order
    k = (d.shape[ax] - 1) // 2
    idx = xp.take(order, [k], axis=ax)
    if d.dtype.kind == "f":  # a row with a nan answers nan, at its first nan
        nan = xp.isnan(d)
        idx = xp.where(nan.any(axis=ax, keepdims=True), xp.argmax(nan, axis=ax, keepdims=True), idx)
    idx = idx.astype(np.int64)
    vals = xp.take_along_axis(d, idx, axis=ax)
    if not keepdim:
        vals, idx = vals.squeeze(ax), idx.squeeze(ax)
    vt = wrap(_arr(vals, input._dev), input._dev)
    it = wrap(_arr(idx, input._dev), input._dev)
    if ENABLED[0] and input._rg:
        _node(MedianBackward1, vt, (input,), (d.shape, ax, it, keepdim), (None, None, None, None))
    return RT["median"](vt, it)


def index_scalar(input: Tensor, flat: Any, k: int) -> Tensor:  # noqa: A002
    return (input.reshape(-1).sort().values)[k]


def _finish(t: Tensor, out: Any) -> Tensor:
    if out is None:
        return t
    from engine.ops.inplace import write_out

    return write_out(out, t)


# ---- unique / bincount -----------------------------------------------------------------------------------
def _no_derivative(self: Node, g: Tensor, *saved: Any) -> tuple:
    raise NotImplementedError("the derivative for '_unique2' is not implemented.")


Unique2Backward0 = node_class("Unique2Backward0", _no_derivative)


def unique(
    input: Tensor,  # noqa: A002
    sorted: bool = True,  # noqa: A002
    return_inverse: bool = False,
    return_counts: bool = False,
    dim: int | None = None,
) -> Any:
    """The distinct values in ascending order (torch sorts on the cpu either way), with the index of each
    input element in them and their counts on request; nans are each their own value, as in torch."""
    from engine.backend import host

    if not isinstance(input, Tensor):  # (torch.unique([1, 1]): the parser of the op it calls)
        op = "_unique2" if dim is None else "unique_dim"
        raise TypeError(f"{op}(): argument 'input' (position 1) must be Tensor, not {type_name(input)}")
    if input._data.dtype.kind == "c":
        raise NotImplementedError(f"\"unique\" not implemented for '{input.dtype.scalar_name()}'")
    d = host(input._data)
    if dim is None:
        vals, inv, counts = np.unique(d.reshape(-1), return_inverse=True, return_counts=True, equal_nan=False)
        inv = inv.reshape(d.shape)
    else:
        if d.ndim == 0:
            raise IndexError("Dimension specified as 0 but tensor has no dimensions")
        ax = norm_dim(dim, d.ndim)
        vals, inv, counts = np.unique(d, return_inverse=True, return_counts=True, axis=ax, equal_nan=False)
        inv = inv.reshape(-1)
    t = wrap(input._dev.xp.asarray(vals), input._dev)
    if ENABLED[0] and input._rg and dim is None:
        _node(Unique2Backward0, t, (input,), (), ())
    out = [t]
    if return_inverse:
        out.append(wrap(input._dev.xp.asarray(inv.astype(np.int64)), input._dev))
    if return_counts:
        out.append(wrap(input._dev.xp.asarray(counts.astype(np.int64)), input._dev))
    return out[0] if len(out) == 1 else tuple(out)


def _no_unique_consecutive_derivative(self: Node, g: Tensor, *saved: Any) -> tuple:
    raise NotImplementedError("the derivative for 'unique_consecutive' is not implemented.")


UniqueConsecutiveBackward0 = node_class("UniqueConsecutiveBackward0", _no_unique_consecutive_derivative)


def _unique_consecutive(input: Any, return_inverse: Any = False, return_counts: Any = False, dim: Any = None) -> Any:  # noqa: A002
    """torch.unique_consecutive: the first of each run of equal values (or of equal slices along dim), with each
    element's run index and the run lengths on request; nans never equal each other, as in torch."""
    from engine.backend import host

    if not isinstance(input, Tensor):
        raise TypeError(f"unique_consecutive(): argument 'input' (position 1) must be Tensor, not {type_name(input)}")
    for name, v in (("return_inverse", return_inverse), ("return_counts", return_counts)):
        if type(v) is not bool:
            raise TypeError(f"unique_consecutive(): argument '{name}' must be bool, not {type_name(v)}")
    if dim is not None and (not isinstance(dim, int) or isinstance(dim, bool)):
        raise TypeError(f"unique_consecutive(): argument 'dim' must be int, not {type_name(dim)}")
    d = host(input._data)
    if dim is None:
        flat = d.reshape(-1)
        starts = np.empty(flat.shape[0], dtype=bool)
        starts[:1] = True
        starts[1:] = flat[1:] != flat[:-1]
        vals = flat[starts]
        inv_shape: tuple = d.shape
    else:
        if d.ndim == 0:
            raise IndexError("Dimension specified as 0 but tensor has no dimensions")
        ax = norm_dim(dim, d.ndim)
        n = d.shape[ax]
        if n and d.size == 0:
            raise RuntimeError("There are 0 sized dimensions, and they aren't selected, so unique cannot be applied")
        rows = np.moveaxis(d, ax, 0).reshape(n, d.size // n if n else 0)
        starts = np.empty(n, dtype=bool)
        starts[:1] = True
        starts[1:] = (rows[1:] != rows[:-1]).any(axis=1)
        vals = np.compress(starts, d, axis=ax)
        inv_shape = (n,)
    xp, dev = input._dev.xp, input._dev
    t = wrap(xp.asarray(np.ascontiguousarray(vals)), dev)
    if ENABLED[0] and input._rg:
        _node(UniqueConsecutiveBackward0, t, (input,), (), ())
    out = [t]
    if return_inverse:
        out.append(wrap(xp.asarray((np.cumsum(starts) - 1).astype(np.int64).reshape(inv_shape)), dev))
    if return_counts:
        idx = np.flatnonzero(starts)
        out.append(wrap(xp.asarray(np.diff(np.append(idx, starts.shape[0])).astype(np.int64)), dev))
    return out[0] if len(out) == 1 else tuple(out)


def unique_consecutive(input: Any, return_inverse: Any = False, return_counts: Any = False, dim: Any = None) -> Any:  # noqa: A002
    return _unique_consecutive(input, return_inverse, return_counts, dim)


def unique_consecutive_method(self: Tensor, return_inverse: Any = False, return_counts: Any = False,
                              dim: Any = None) -> Any:  # fmt: skip
    return _unique_consecutive(self, return_inverse, return_counts, dim)


# (torch's Python wrappers' names in Python's own argument errors)
named_code(unique_consecutive, "_consecutive_return_output")
named_code(unique_consecutive_method, "Tensor.unique_consecutive")


def bincount(input: Tensor, weights: Tensor | None = None, minlength: int = 0) -> Tensor:  # noqa: A002
    d = input._data
    if d.dtype.kind not in "iub" or d.dtype in UINTS_NP:
        raise NotImplementedError(f"\"bincount_{input._dev.type}\" not implemented for '{input.dtype.scalar_name()}'")
    if d.ndim != 1 or (d.size and int(index_range(d)[0]) < 0):
        raise RuntimeError("bincount only supports 1-d non-negative integral inputs.")
    xp = input._dev.xp
    if weights is None:
        r = xp.bincount(d, minlength=minlength).astype(np.int64)
    else:
        w = weights._data
        n = builtins.max(minlength, int(index_range(d)[1]) + 1 if d.size else 0)
        if w.dtype == np.float32 and xp is np:  # torch adds float weights in float, one by one in order
            r = np.zeros(n, np.float32)
            np.add.at(r, d, w)
        else:  # other weights in double (torch's output is then double too)
            r = xp.bincount(d, weights=w.astype(np.float64), minlength=minlength)
            r = r.astype(np.float32 if w.dtype == np.float32 else np.float64)
    return wrap(r, input._dev)
