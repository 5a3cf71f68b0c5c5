"""Shape ops. Most are views: they share memory and the version counter with their input."""

from __future__ import annotations

from typing import Any

import numpy as np

from engine.autograd import next_seq
from engine.bf16 import _tag, array_module, bf16_cpu_only, plain, to_bf16
from engine.dtypes import no_uint_kernel
from engine.grad_mode import ENABLED
from engine.memory_format import contiguous_format
from engine.naming import type_name
from engine.ops.util import (
    SIZE_OVERLOADS,
    SparseOperand,
    dim_list_ok,
    edge_of,
    int_list,
    invalid_combination,
    node_class,
    norm_dim,
    norm_dims,
)
from engine.tensor import Tensor, view_of, wrap, wrap_any
from engine.warn import warn_once


def _shape_args(shape: Any, fn: str = "view", arg: str = "size") -> tuple:
    if not shape and fn == "view":  # (x.view(): no signature of view takes no argument)
        raise invalid_combination("view", (), SIZE_OVERLOADS["view"], False)
    for s in shape:
        if type(s) is not int:
            break
    else:
        return shape
    return int_list(shape, fn, arg)


def _infer(shape: tuple, numel: int) -> tuple:
    neg = [i for i, s in enumerate(shape) if s == -1]
    if len(neg) > 1:
        raise RuntimeError("only one dimension can be inferred")
    for i, s in enumerate(shape):
        if s < -1:
            raise RuntimeError(f"invalid shape dimension {s} at index {i} of shape [{', '.join(map(str, shape))}]")
    known = 1
    for s in shape:
        if s != -1:
            known *= s
    if neg:
        if known == 0 and numel == 0:
            raise RuntimeError(
                f"cannot reshape tensor of 0 elements into shape [{', '.join(map(str, shape))}] because the "
                "unspecified dimension size -1 can be any value and is ambiguous"
            )
        if known == 0 or numel % known:
            raise RuntimeError(f"shape '[{', '.join(map(str, shape))}]' is invalid for input of size {numel}")
        shape = tuple(numel // known if s == -1 else s for s in shape)
    elif known != numel:
        raise RuntimeError(f"shape '[{', '.join(map(str, shape))}]' is invalid for input of size {numel}")
    return shape


def _record(t: Tensor, cls: type, input: Tensor, saved: tuple, fn: Any = None) -> Tensor:  # noqa: A002
    """Attach cls's node when input requires grad. fn (view ops only) re-makes this view from its
    parent, so an in-place op on the view can rewrite the parent's graph (inplace.commit)."""
    if fn is not None and t._base is not None:  # (a later in-place write with grad must reach input)
        if t._meta is None:
            t._meta = {"view": (input, fn)}
        else:
            t._meta["view"] = (input, fn)
    if ENABLED[0] and input._rg:
        node = cls()
        node._seq = next_seq()
        node._next = (edge_of(input),)
        node._saved = saved
        node._vers = (None,) * len(saved)
        d = t._data
        node._ctx = (d.shape, d.dtype)
        t._rg = True
        t.grad_fn = node
    return t


def _as_view(arr: Any, input: Tensor) -> Tensor:  # noqa: A002
    """Wrap arr as a view of input when it shares input's memory, else as a fresh tensor."""
    base = input._data.base
    if arr.base is not None and (arr.base is input._data or (base is not None and arr.base is base)):
        return view_of(arr, input)
    return wrap(arr, input._dev)


# ---- reshape / view / flatten -------------------------------------------------------------------
ViewBackward0 = node_class("ViewBackward0", lambda self, g, shape: (g.reshape(shape),))
UnsafeViewBackward0 = node_class("UnsafeViewBackward0", lambda self, g, shape: (g.reshape(shape),))
ReshapeAliasBackward0 = node_class("ReshapeAliasBackward0", lambda self, g, shape: (g.reshape(shape),))


# torch's alias: the same data and shape, the gradient passed through as it is (no reshape in a backward graph).
# torch.func's transforms take their inputs in and their results out through it.
IdentityAliasBackward0 = node_class("AliasBackward0", lambda self, g: (g,))


def alias(input: Tensor) -> Tensor:  # noqa: A002
    return _record(view_of(input._data.view(), input), IdentityAliasBackward0, input, (), alias)


def _kw_shape(shape: tuple, kw: dict, name: str) -> tuple:
    """`x.reshape(shape=(2, 3))`, `x.view(size=...)`, `x.permute(dims=...)`: the sizes by keyword."""
    if name in kw:
        shape = (kw.pop(name),)
    if kw:
        raise TypeError(f"got an unexpected keyword argument '{next(iter(kw))}'")
    return shape


def reshape(input: Tensor, *shape: Any, **kw: Any) -> Tensor:  # noqa: A002
    if kw:
        shape = _kw_shape(shape, kw, "shape")
    elif not shape:
        raise TypeError('reshape() missing 1 required positional arguments: "shape"')
    d = input._data
    new = _infer(_shape_args(shape, "reshape", "shape"), d.size)
    if new == d.shape:
        r = d.view()
    else:
        r = d.reshape(new)
    t = _as_view(r, input)
    fn = lambda b, s=new: reshape(b, s)  # noqa: E731
    if t._base is not None:
        # torch: view() for a contiguous input, _reshape_alias for another one that needs no copy
        cls = ViewBackward0 if d.flags.c_contiguous else ReshapeAliasBackward0
        return _record(t, cls, input, (d.shape,), fn)
    if ENABLED[0] and input._rg:  # a copying reshape is torch's clone, then _unsafe_view
        c = _record(wrap(t._data, input._dev), CloneBackward0, input, ())
        return _record(t, UnsafeViewBackward0, c, (d.shape,))
    return t


def view(input: Tensor, *shape: Any, **kw: Any) -> Tensor:  # noqa: A002
    if kw:
        shape = _kw_shape(shape, kw, "dtype" if "dtype" in kw else "size")
    if len(shape) == 1 and not dim_list_ok(shape[0]):
        return _view_dtype(input, shape[0])
    d = input._data
    new = _infer(_shape_args(shape), d.size)
    try:
        r = d.reshape(new, copy=False)
    except ValueError:
        raise RuntimeError(
            "view size is not compatible with input tensor's size and stride (at least one dimension spans "
            "across two contiguous subspaces). Use .reshape(...) instead."
        ) from None
    return _record(view_of(r, input), ViewBackward0, input, (d.shape,), lambda b, s=new: view(b, s))


def _view_dtype(input: Tensor, target: Any) -> Tensor:  # noqa: A002
    """x.view(dtype): the same bytes read as another dtype, with torch's checks (view_dtype in
    TensorConversions.cpp). bfloat16 is stored as float32 here, so a view from or to it is a copy of the bits:
    the values are torch's, but writes through it do not reach the other tensor."""
    from engine.dtypes import bfloat16, dtype, to_dtype

    if not isinstance(target, dtype):
        raise invalid_combination("view", (target,), ("(torch.dtype dtype)", "(tuple of ints size)"), True)
    dt = to_dtype(target)
    src = input.dtype
    d = input._data
    old, new = src.itemsize, dt.itemsize
    if old != new:
        names = f"{src.scalar_name()} as {dt.scalar_name()} (different element sizes)"
        if d.ndim == 0:
            raise RuntimeError(f"self.dim() cannot be 0 to view {names}")
        st = input.stride()
        ratio = new // old if new > old else 1
        if ratio > 1 and d.shape[-1] % ratio:
            raise RuntimeError(f"self.size(-1) must be divisible by {ratio} to view {names}, but got {d.shape[-1]}")
        if st[-1] != 1:
            raise RuntimeError(f"self.stride(-1) must be 1 to view {names}, but got {st[-1]}")
        if ratio > 1:
            for i in range(d.ndim - 1):
                if st[i] % ratio:
                    raise RuntimeError(
                        f"self.stride({i}) must be divisible by {ratio} to view {names}, but got {st[i]}"
                    )
            offset = input.storage_offset()
            if offset % ratio:
                raise RuntimeError(
                    f"self.storage_offset() must be divisible by {ratio} to view {names}, but got {offset}"
                )
    if src is bfloat16 and dt is not bfloat16:
        bits = (plain(d).view(np.uint32) >> 16).astype(np.uint16)  # the upper halves are bfloat16's bits
        out = bits.view(dt.np)
    elif dt is bfloat16 and src is not bfloat16:
        # (tagged, not rounded: the bits are bfloat16 values already, nan payloads included)
        out = _tag((np.ascontiguousarray(d).view(np.uint16).astype(np.uint32) << 16).view(np.float32))
    else:
        out = d.view(dt.np)
    # torch's view.dtype is not differentiable: no grad_fn, no _base, a leaf, but the version counter is shared
    t = wrap(out, input._dev)
    t._vc = input._vc
    return t


def _other_tensor(fn: str, other: Any) -> None:
    """torch's parser error for x.view_as(1) and the like: the other operand must be a tensor."""
    from engine.naming import type_name

    raise TypeError(f"{fn}(): argument 'other' (position 1) must be Tensor, not {type_name(other)}")


def view_as(input: Tensor, other: Tensor) -> Tensor:  # noqa: A002
    if not isinstance(other, Tensor):
        _other_tensor("view_as", other)
    return view(input, other._data.shape)


def reshape_as(input: Tensor, other: Tensor) -> Tensor:  # noqa: A002
    if not isinstance(other, Tensor):
        _other_tensor("reshape_as", other)
    return reshape(input, other._data.shape)


def flatten(input: Tensor, start_dim: int = 0, end_dim: int = -1) -> Tensor:  # noqa: A002
    d = input._data
    s = norm_dim(start_dim, d.ndim)  # (checked first: a 0-dim tensor takes dims 0 and -1 only)
    e = norm_dim(end_dim, d.ndim)
    if d.ndim == 0:
        return reshape(input, (1,))
    if s > e:
        raise RuntimeError("flatten() has invalid args: start_dim cannot come after end_dim")
    if s == e:
        return input
    n = 1
    for i in range(s, e + 1):
        n *= d.shape[i]
    return reshape(input, d.shape[:s] + (n,) + d.shape[e + 1 :])


def unflatten(input: Tensor, dim: int, sizes: Any) -> Tensor:  # noqa: A002
    d = input._data
    ax = norm_dim(dim, d.ndim)
    if not isinstance(sizes, (tuple, list)):
        raise TypeError(f"unflatten(): argument 'sizes' (position 2) must be tuple of ints, not {type_name(sizes)}")
    sizes = tuple(int(s) for s in sizes)
    if not sizes:
        raise RuntimeError("unflatten: sizes must be non-empty")
    try:
        sizes = _infer(sizes, d.shape[ax])
    except RuntimeError as e:
        if "is invalid for input of size" not in str(e):
            raise
        raise RuntimeError(
            f"unflatten: Provided sizes [{', '.join(map(str, sizes))}] don't multiply up to the size of dim {ax} "
            f"({d.shape[ax]}) in the input tensor"
        ) from None
    # (splitting one dimension is always a view: torch's unflatten is view, ViewBackward0 on any strides)
    return view(input, d.shape[:ax] + sizes + d.shape[ax + 1 :])


def ravel(input: Tensor) -> Tensor:  # noqa: A002
    # torch: contiguous().view(-1), so a non-contiguous input shows CloneBackward0 under ViewBackward0
    return view(contiguous(input), (-1,))


# ---- transpose / permute ---------------------------------------------------------------------------
TBackward0 = node_class("TBackward0", lambda self, g: (g.t(),))
TBackward0._abw = lambda self, g: (g.T,)  # (autograd.run_backward's raw mode: t() of a gradient is its .T view)
TransposeBackward0 = node_class("TransposeBackward0", lambda self, g, a, b: (g.transpose(a, b),))
PermuteBackward0 = node_class("PermuteBackward0", lambda self, g, inv: (g.permute(inv),))


def transpose(input: Tensor, dim0: int, dim1: int) -> Tensor:  # noqa: A002
    d = input._data
    try:
        n = d.ndim
    except SparseOperand:  # a sparse operand (engine/sparse_tensor.py)
        return input.transpose(dim0, dim1)
    a, b = norm_dim(dim0, n), norm_dim(dim1, n)
    if n == 0:
        return _record(view_of(d.view(), input), TransposeBackward0, input, (0, 0))
    return _record(
        view_of(d.swapaxes(a, b), input), TransposeBackward0, input, (a, b), lambda x, i=a, j=b: transpose(x, i, j)
    )


swapaxes = swapdims = transpose


def t(input: Tensor) -> Tensor:  # noqa: A002
    d = input._data
    try:
        n = d.ndim
    except SparseOperand:  # a sparse operand (engine/sparse_tensor.py)
        return input.t()
    if n > 2:
        raise RuntimeError(f"t() expects a tensor with <= 2 dimensions, but self is {n}D")
    return _record(view_of(d.T, input), TBackward0, input, (), t)


def permute(input: Tensor, *dims: Any, **kw: Any) -> Tensor:  # noqa: A002
    if kw:
        dims = _kw_shape(dims, kw, "dims")
    if not dims:
        raise TypeError('permute() missing 1 required positional arguments: "dims"')
    dims = _shape_args(dims, "permute", "dims")
    d = input._data
    if len(dims) != d.ndim:
        raise RuntimeError(
            "permute(sparse_coo): number of dimensions in the tensor input does not match the length of the "
            f"desired ordering of dimensions i.e. input.dim() = {d.ndim} is not equal to len(dims) = {len(dims)}"
        )
    perm = tuple(norm_dim(x, d.ndim) for x in dims)
    if len(set(perm)) != len(perm):
        raise RuntimeError("permute(): duplicate dims are not allowed.")
    return _permuted(input, perm)


def _permuted(input: Tensor, perm: tuple) -> Tensor:  # noqa: A002
    """permute with perm checked: a tuple of every dim once, non-negative (x.T comes here straight)."""
    # (the inverse by sorting in Python: numpy's argsort of a tuple cost 4 us, more than the rest of the view)
    inv = tuple(sorted(range(len(perm)), key=perm.__getitem__))
    return _record(
        view_of(input._data.transpose(perm), input), PermuteBackward0, input, (inv,), lambda x, p=perm: permute(x, p)
    )


def T(input: Tensor) -> Tensor:  # noqa: N802 - torch's property name
    n = input._data.ndim
    if n != 2:  # torch 2.13 warns for any dimension but 2, each of its two texts once per process
        warn_once(
            "Tensor.T is deprecated on 0-D tensors. This function is the identity in these cases. (Triggered "
            "internally at /__w/pytorch/pytorch/aten/src/ATen/native/TensorShape.cpp:4321.)"
            if n == 0
            else "The use of `x.T` on tensors of dimension other than 2 to reverse their shape is deprecated and it "
            "will throw an error in a future release. Consider `x.mT` to transpose batches of matrices or "
            "`x.permute(*torch.arange(x.ndim - 1, -1, -1))` to reverse the dimensions of a tensor. (Triggered "
            "internally at /__w/pytorch/pytorch/aten/src/ATen/native/TensorShape.cpp:4314.)"
        )
    return _permuted(input, tuple(range(n - 1, -1, -1)))


def mT(input: Tensor) -> Tensor:  # noqa: N802
    n = input._data.ndim
    if n == 0:
        warn_once(
            "Tensor.mT is deprecated on 0-D tensors. This function is the identity in these cases. (Triggered "
            "internally at /__w/pytorch/pytorch/aten/src/ATen/native/TensorShape.cpp:4373.)"
        )
        return input
    if n < 2:
        raise RuntimeError("tensor.mT is only supported on matrices or batches of matrices. Got 1-D tensor.")
    return transpose(input, -2, -1)


def mH(input: Tensor) -> Tensor:  # noqa: N802 - torch's property name (real tensors: the conjugate is a no-op)
    n = input._data.ndim
    if n == 0:
        warn_once(
            "Tensor.mH is deprecated on 0-D tensors. Consider using x.conj(). (Triggered internally at "
            "/__w/pytorch/pytorch/aten/src/ATen/native/TensorShape.cpp:4382.)"
        )
        return input
    if n < 2:
        raise RuntimeError(f"tensor.mH is only supported on matrices or batches of matrices. Got {n}-D tensor.")
    return transpose(input, -2, -1).conj()


def H(input: Tensor) -> Tensor:  # noqa: N802
    n = input._data.ndim
    if n == 0:
        warn_once(
            "Tensor.H is deprecated on 0-D tensors. Consider using x.conj(). (Triggered internally at "
            "/__w/pytorch/pytorch/aten/src/ATen/native/TensorShape.cpp:4335.)"
        )
        return input
    if n != 2:
        raise RuntimeError(
            f"tensor.H is only supported on matrices (2-D tensors). Got {n}-D tensor."
            + (" For batches of matrices, consider using tensor.mH" if n > 2 else "")
        )
    return transpose(input, 0, 1).conj()


def adjoint(input: Tensor) -> Tensor:  # noqa: A002
    n = input._data.ndim
    if n < 2:
        raise RuntimeError(f"tensor.adjoint() is only supported on matrices or batches of matrices. Got {n}-D tensor.")
    return transpose(input, -2, -1).conj()


def _ints(xs: list) -> str:
    return f"[{', '.join(map(str, xs))}]"


def _movedim(input: Tensor, source: Any, destination: Any) -> Tensor:  # noqa: A002
    n = input._data.ndim
    src0 = [source] if isinstance(source, int) else list(source)
    dst0 = [destination] if isinstance(destination, int) else list(destination)
    if len(src0) != len(dst0):
        raise RuntimeError(
            f"movedim: Invalid source or destination dims: source ({_ints(src0)} dims) should contain the same "
            f"number of dims as destination ({_ints(dst0)} dims)"
        )
    src = [norm_dim(x, n) for x in src0]
    dst = [norm_dim(x, n) for x in dst0]
    for what, given, dims in (("source", src0, src), ("destination", dst0, dst)):
        if len(set(dims)) != len(dims):
            raise RuntimeError(f"movedim: repeated dim in `{what}` ({_ints(given)})")
    if n == 0:
        return permute(input, ())
    order: list = [None] * n
    for s_, d_ in zip(src, dst):
        order[d_] = s_
    rest = iter(i for i in range(n) if i not in src)
    return permute(input, tuple(o if o is not None else next(rest) for o in order))


def _movedim_parsed(name: str) -> Any:
    """movedim/moveaxis as torch's parser takes them: source and destination both ints or both int
    sequences; otherwise its invalid-combination error (the method's positions count after self)."""
    core = _movedim

    def parsed(*args: Any, _method: bool = False, **kwargs: Any) -> Tensor:
        if len(args) == 3 and not kwargs:
            src, dst = args[1], args[2]
            ints = [isinstance(v, int) and not isinstance(v, bool) for v in (src, dst)]
            seqs = [isinstance(v, (tuple, list)) for v in (src, dst)]
            if not (all(ints) or all(seqs)):
                from engine.ops.util import parser_arg_text, parser_type_name

                lead = [] if _method else ["Tensor"]
                heads = ("int source, int destination", "tuple of ints source, tuple of ints destination")
                got = ", ".join(lead + [parser_type_name(v) for v in (src, dst)])
                lines = [f"{name}() received an invalid combination of arguments - got ({got}), but expected one of:"]
                for k, head in enumerate(heads):
                    marks = [
                        parser_type_name(v) if k == 0 and ok else f"!{parser_arg_text(v)}!"
                        for v, ok in zip((src, dst), ints)
                    ]
                    lines.append(f" * ({'' if _method else 'Tensor input, '}{head})")
                    shown = ", ".join(lead + marks)
                    lines.append(f"      didn't match because some of the arguments have invalid types: ({shown})")
                raise TypeError("\n".join(lines) + "\n")
        return core(*args, **kwargs)

    parsed.__name__ = parsed.__qualname__ = name
    parsed.__doc__ = core.__doc__
    parsed.__wrapped__ = core  # type: ignore[attr-defined]

    def method(self: Tensor, *args: Any, **kwargs: Any) -> Tensor:
        return parsed(self, *args, _method=True, **kwargs)

    method.__name__ = method.__qualname__ = name
    method.__wrapped__ = core  # type: ignore[attr-defined]
    return parsed, method


movedim, movedim_method = _movedim_parsed("movedim")
moveaxis, moveaxis_method = _movedim_parsed("moveaxis")


# ---- squeeze / unsqueeze ------------------------------------------------------------------------------
def _sq_bw(self: Any, g: Tensor, shape: tuple) -> tuple:
    """torch's unsqueeze_to: the gradient unsqueezed at each dim the squeeze removed, in ascending order (one
    UnsqueezeBackward0 each in a double-backward graph; among equal sizes which dim it was does not matter)."""
    gs = g._data.shape
    if len(gs) == len(shape):
        return (g,)
    j = 0
    for i, n in enumerate(shape):
        if j < len(gs) and gs[j] == n:
            j += 1
        else:
            g = g.unsqueeze(i)
    return (g,)


SqueezeBackward0 = node_class("SqueezeBackward0", _sq_bw)
SqueezeBackward1 = node_class("SqueezeBackward1", _sq_bw)
SqueezeBackward2 = node_class("SqueezeBackward2", _sq_bw)
SqueezeBackward4 = node_class("SqueezeBackward4", _sq_bw)
UnsqueezeBackward0 = node_class("UnsqueezeBackward0", lambda self, g, dim: (g.squeeze(dim),))


_ALL_DIMS: Any = object()  # squeeze's dim not given (torch's parser takes no None for it)


def squeeze(input: Tensor, dim: Any = _ALL_DIMS, *extra: Any) -> Tensor:  # noqa: A002
    if extra:  # torch.squeeze(x, 0, 1): only the method takes its dims one by one
        overloads = ("(Tensor input)", "(Tensor input, int dim)", "(Tensor input, tuple of ints dim)")
        raise invalid_combination("squeeze", (dim, *extra), overloads, False, ("Tensor",))
    d = input._data
    if dim is _ALL_DIMS:
        r = d.reshape(tuple(s for s in d.shape if s != 1))
        cls = SqueezeBackward0
    else:
        if isinstance(dim, (tuple, list)):
            dims = norm_dims(dim, d.ndim)  # (a dim named twice: torch's error)
            cls = SqueezeBackward2
        else:
            dims = (norm_dim(dim, d.ndim),)
            cls = SqueezeBackward1
        keep = tuple(s for i, s in enumerate(d.shape) if not (i in dims and s == 1))
        r = d.reshape(keep)
    return _record(view_of(r, input), cls, input, (d.shape,), lambda x, k=dim: squeeze(x, k))


def squeeze_method(self: Tensor, *dims: Any, **kw: Any) -> Tensor:
    """x.squeeze(0, 1): torch's method takes the dims one by one too (its `int... dim` overload)."""
    if len(dims) > 1 and not kw and all(isinstance(d, int) and not isinstance(d, bool) for d in dims):
        return squeeze(self, dims)
    return squeeze(self, *dims, **kw)


squeeze_method.__name__ = squeeze_method.__qualname__ = "squeeze"
squeeze_method.__wrapped__ = squeeze  # type: ignore[attr-defined]  # (numpy_names: x.squeeze(axis=0))

_FULL = (slice(None),) * 64  # indexing with None always gives a view (reshape may copy); numpy and cupy alike


def unsqueeze(input: Tensor, dim: int) -> Tensor:  # noqa: A002
    d = input._data
    ax = norm_dim(dim, d.ndim + 1)
    return _record(
        view_of(d[_FULL[:ax] + (None,)], input), UnsqueezeBackward0, input, (ax,), lambda x, k=ax: unsqueeze(x, k)
    )


# ---- expand / repeat / flip ------------------------------------------------------------------------------
def sum_to(g: Tensor, shape: tuple) -> Tensor:
    """Sum a broadcast gradient down to `shape` (expand's backward)."""
    gs = g._data.shape
    if gs == shape:
        return g
    lead = len(gs) - len(shape)
    dims = tuple(range(lead)) + tuple(i + lead for i, n in enumerate(shape) if n == 1 and gs[i + lead] != 1)
    if dims:
        g = g.sum(dim=dims, keepdim=True)
    return g.reshape(shape)


ExpandBackward0 = node_class("ExpandBackward0", lambda self, g, shape: (sum_to(g, shape),))


def expand(input: Tensor, *sizes: Any, size: Any = None) -> Tensor:  # noqa: A002
    if size is not None and not sizes:
        sizes = (size,)
    if not sizes:
        raise TypeError('expand() missing 1 required positional arguments: "size"')
    sizes = _shape_args(sizes, "expand")
    d = input._data
    if len(sizes) < d.ndim:
        raise RuntimeError(
            f"expand(torch.{input.dtype.legacy}{{[{', '.join(map(str, d.shape))}]}}, "
            f"size=[{', '.join(map(str, sizes))}]): "
            f"the number of sizes provided ({len(sizes)}) must be greater or equal to the number of dimensions "
            f"in the tensor ({d.ndim})"
        )
    lead = len(sizes) - d.ndim
    for i in range(len(sizes) - 1, lead - 1, -1):  # torch reports the last mismatching dim
        s, cur = sizes[i], d.shape[i - lead]
        if s != -1 and cur != 1 and s != cur:
            raise RuntimeError(
                f"The expanded size of the tensor ({s}) must match the existing size ({cur}) at non-singleton "
                f"dimension {i}.  Target sizes: [{', '.join(map(str, sizes))}].  Tensor sizes: "
                f"[{', '.join(map(str, d.shape))}]"
            )
    target = []
    for i, s in enumerate(sizes):
        if i < lead:
            if s < 0:
                raise RuntimeError(
                    f"The expanded size of the tensor ({s}) isn't allowed in a leading, non-existing dimension {i}"
                )
            target.append(s)
            continue
        cur = d.shape[i - lead]
        if s == -1:
            s = cur
        elif cur != 1 and s != cur:
            raise RuntimeError(
                f"The expanded size of the tensor ({s}) must match the existing size ({cur}) at non-singleton "
                f"dimension {i}.  Target sizes: [{', '.join(map(str, sizes))}].  Tensor sizes: "
                f"[{', '.join(map(str, d.shape))}]"
            )
        target.append(s)
    target = tuple(target)
    if type(d) is np.ndarray:
        r = np.broadcast_to(d, target)
    elif isinstance(d, np.ndarray):  # bfloat16: a view as well (numpy's hook would copy), stride 0 as torch's
        r = np.broadcast_to(d.view(np.ndarray), target).view(type(d))
    else:
        r = input._dev.xp.broadcast_to(d, target)
    return _record(view_of(r, input), ExpandBackward0, input, (d.shape,), lambda b, s=target: expand(b, *s))


def expand_as(input: Tensor, other: Tensor) -> Tensor:  # noqa: A002
    if not isinstance(other, Tensor):
        _other_tensor("expand_as", other)
    return expand(input, other._data.shape)


def broadcast_to(input: Tensor, shape: Any) -> Tensor:  # noqa: A002
    return expand(input, (shape,) if isinstance(shape, int) else tuple(shape))


def _repeat_bw(self: Any, g: Tensor, shape: tuple, reps: tuple) -> tuple:
    lead = len(reps) - len(shape)
    full = (1,) * lead + tuple(shape)
    split = []
    for r, s in zip(reps, full):
        split += [r, s]
    g = g.reshape(tuple(split))
    g = g.sum(dim=tuple(range(0, 2 * len(reps), 2)))
    return (g.reshape(shape),)


RepeatBackward0 = node_class("RepeatBackward0", _repeat_bw)


def repeat(input: Tensor, *sizes: Any, repeats: Any = None) -> Tensor:  # noqa: A002
    if repeats is not None and not sizes:
        sizes = (repeats,)
    if not sizes:
        raise TypeError('repeat() missing 1 required positional arguments: "repeats"')
    reps = _shape_args(sizes, "repeat", "repeats")
    d = input._data
    if len(reps) < d.ndim:
        raise RuntimeError("Number of dimensions of repeat dims can not be smaller than number of dimensions of tensor")
    full = (1,) * (len(reps) - d.ndim) + d.shape
    target = [n * r for n, r in zip(full, reps)]
    if any(r < 0 for r in reps):
        bad = next(t for t in target if t < 0)
        raise RuntimeError(f"Trying to create tensor with negative dimension {bad}: [{', '.join(map(str, target))}]")
    r = np.tile(d, reps)
    return _record(wrap_any(r, input._dev), RepeatBackward0, input, (d.shape, reps))


def _diag_index(n: int, k: int, xp: Any) -> tuple:
    i = xp.arange(n)
    return (i, i + k) if k >= 0 else (i - k, i)


def _diag_embed_bw(self: Any, g: Tensor, n: int, k: int) -> tuple:
    rows, cols = _diag_index(n, k, g._dev.xp)
    return (g[wrap(rows, g._dev), wrap(cols, g._dev)],)


def _diagonal_bw(self: Any, g: Tensor, shape: tuple, k: int) -> tuple:
    from engine.creation import zeros

    full = zeros(shape, dtype=g.dtype, device=g.device)
    n = g._data.shape[0]
    if n:
        rows, cols = _diag_index(n, k, g._dev.xp)
        full[wrap(rows, g._dev), wrap(cols, g._dev)] = g
    return (full,)


DiagEmbedBackward0 = node_class("DiagEmbedBackward0", _diag_embed_bw)
DiagonalBackward0_copy = node_class("DiagonalBackward0_copy", _diagonal_bw)


def diag(input: Tensor, diagonal: int = 0) -> Tensor:  # noqa: A002
    """torch.diag: a 1-d tensor laid on the k-th diagonal of a square matrix, or a matrix's k-th diagonal."""
    d = input._data
    xp = input._dev.xp
    k = int(diagonal)
    if d.ndim == 1:
        n = d.shape[0]
        m = n + abs(k)
        r = xp.zeros((m, m), dtype=d.dtype)
        if n:
            r[_diag_index(n, k, xp)] = d
        return _record(wrap(r, input._dev), DiagEmbedBackward0, input, (n, k))
    if d.ndim == 2:
        r = xp.diagonal(d, k).copy()
        return _record(wrap(r, input._dev), DiagonalBackward0_copy, input, (d.shape, k))
    raise RuntimeError("diag(): Supports 1D or 2D tensors. Got " + f"{d.ndim}D")


def meshgrid(*tensors: Any, indexing: str | None = None) -> tuple:
    """torch.meshgrid: each 1-d input viewed along its own axis and expanded over the grid ('ij' unless told)."""
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tuple(tensors[0])
    if indexing is None:  # (torch's TORCH_WARN_ONCE)
        warn_once(
            "torch.meshgrid: in an upcoming release, it will be required to pass the indexing argument. "
            "(Triggered internally at /__w/pytorch/pytorch/aten/src/ATen/native/TensorShape.cpp:4215.)"
        )
        indexing = "ij"
    if indexing not in ("ij", "xy"):
        raise RuntimeError(f'torch.meshgrid: indexing must be one of "xy" or "ij", but received: {indexing}')
    ts = list(tensors)
    if not ts:
        raise RuntimeError("meshgrid expects a non-empty TensorList")
    swap = indexing == "xy" and len(ts) >= 2
    if swap:
        ts[0], ts[1] = ts[1], ts[0]
    shape = tuple(t.numel() for t in ts)
    out = []
    for i, t in enumerate(ts):
        view_shape = [1] * len(ts)
        view_shape[i] = -1
        out.append(t.reshape(view_shape).expand(*shape))
    if swap:  # torch builds 'xy' as 'ij' over the first two swapped, then swaps the two grids back
        out[0], out[1] = out[1], out[0]
    return tuple(out)


def tile(input: Tensor, *dims: Any, **kw: Any) -> Tensor:  # noqa: A002
    """torch.tile: repeat, with too few counts padded by leading 1s (RepeatBackward0, as in torch)."""
    if "dims" in kw and not dims:
        dims = (kw.pop("dims"),)
    if kw:
        raise TypeError(f"tile() got an unexpected keyword argument '{next(iter(kw))}'")
    reps = _shape_args(dims, "tile", "dims")
    return repeat(input, *((1,) * (input._data.ndim - len(reps)) + tuple(reps)))


_RI_FUNCTION = (
    "(Tensor input, Tensor repeats, int dim = None, *, int output_size = None)",
    "(Tensor repeats, *, int output_size = None)",
    "(Tensor input, int repeats, int dim = None, *, int output_size = None)",
)
_RI_METHOD = ("(Tensor repeats, int dim = None, *, int output_size = None)",
              "(int repeats, int dim = None, *, int output_size = None)")  # fmt: skip
_RI_NAMES = ("input", "repeats", "dim")


def _ri_invalid(args: tuple, kw: dict, overloads: tuple) -> TypeError:
    """torch's parser error for repeat_interleave's arguments (keywords shown as name=type)."""
    from engine.ops.util import parser_type_name

    got = ", ".join([*map(parser_type_name, args), *(f"{k}={parser_type_name(v)}" for k, v in kw.items())])
    lines = [f"repeat_interleave() received an invalid combination of arguments - got ({got}), but expected one of:"]
    return TypeError("\n".join(lines + [f" * {o}" for o in overloads]) + "\n")


def _ri_int(x: Any) -> bool:
    return isinstance(x, (int, np.integer)) and not isinstance(x, (bool, np.bool_))


def _ri_axis(kw: dict) -> None:
    """torch's parser takes numpy's axis= for dim= (repeat_interleave(x, 2, axis=1))."""
    if "axis" in kw and "dim" not in kw:
        kw["dim"] = kw.pop("axis")


def repeat_interleave(*args: Any, **kw: Any) -> Tensor:
    """torch.repeat_interleave(input, repeats, dim=None, *, output_size=None), and the one-argument form
    repeat_interleave(repeats): each index i repeated repeats[i] times."""
    _ri_axis(kw)
    output_size = kw.pop("output_size", None)
    given = dict(zip(_RI_NAMES, args))
    if len(args) > 3 or any(k not in _RI_NAMES or k in given for k in kw):
        raise _ri_invalid(args, {**kw, **({} if output_size is None else {"output_size": output_size})}, _RI_FUNCTION)
    given.update(kw)
    if "repeats" not in given or "input" not in given:
        if len(given) == 1 and isinstance(given.get("input" if args else "repeats"), Tensor):
            return _ri_indices(given.get("input" if args else "repeats"), output_size)
        if not given:
            raise _ri_invalid(args, kw, _RI_FUNCTION)
        if len(given) == 2 and "dim" in given:
            raise _ri_invalid(args, kw, _RI_FUNCTION)
        raise TypeError('repeat_interleave() missing 1 required positional arguments: "repeats"')
    input, repeats, dim = given["input"], given["repeats"], given.get("dim")  # noqa: A001
    if not isinstance(repeats, Tensor) and not _ri_int(repeats):
        raise _ri_invalid(args, kw, _RI_FUNCTION)
    return _repeat_interleave(input, repeats, dim, output_size)


def repeat_interleave_method(self: Tensor, *args: Any, **kw: Any) -> Tensor:
    _ri_axis(kw)
    output_size = kw.pop("output_size", None)
    given = dict(zip(_RI_NAMES[1:], args))
    if len(args) > 2 or any(k not in _RI_NAMES[1:] or k in given for k in kw):
        raise _ri_invalid(args, {**kw, **({} if output_size is None else {"output_size": output_size})}, _RI_METHOD)
    given.update(kw)
    repeats = given.get("repeats")
    if repeats is None or not isinstance(repeats, Tensor) and not _ri_int(repeats):
        raise _ri_invalid(args, kw, _RI_METHOD)
    return _repeat_interleave(self, repeats, given.get("dim"), output_size)


def _ri_indices(repeats: Tensor, output_size: Any) -> Tensor:
    """The one-argument form (torch's repeat_interleave kernel): [0]*r[0] + [1]*r[1] + ..., in repeats' dtype."""
    d = repeats._data
    if d.dtype not in (np.int32, np.int64):
        raise NotImplementedError(f"\"repeat_interleave_cpu\" not implemented for '{repeats.dtype.scalar_name()}'")
    if d.ndim != 1:
        raise RuntimeError("repeat_interleave only accept 1D vector as repeat")
    reps = repeats._host()  # (the result's size depends on the values: torch syncs too)
    if (reps < 0).any():
        raise RuntimeError("repeats can not be negative")
    if output_size is not None and int(reps.sum()) != output_size:
        raise RuntimeError("allocated size does not match required size")
    idx = np.repeat(np.arange(reps.shape[0], dtype=d.dtype), reps)
    return wrap(repeats._dev.xp.asarray(idx), repeats._dev)


def _repeat_interleave(input: Tensor, repeats: Any, dim: Any, output_size: Any) -> Tensor:  # noqa: A002
    from engine.ops.index import index_select

    if dim is None:
        input = input.reshape(-1)
        dim = 0
    ax = norm_dim(dim, input._data.ndim)
    if not isinstance(repeats, Tensor):
        # a number of repeats: torch's composite, each slice repeated in place (unsqueeze, expand, clone, view)
        k = int(repeats)
        if k < 0:
            raise RuntimeError("Repeats must be non-negative")
        u = input.unsqueeze(ax + 1)
        shape = list(u._data.shape)
        shape[ax + 1] = k
        out = list(input._data.shape)
        out[ax] *= k
        if output_size is not None and output_size != out[ax]:
            raise RuntimeError(f"repeat_interleave: Invalid output_size, expected {out[ax]} but got {output_size}")
        c = u.expand(*shape).clone()
        return c.view(*out)
    n = input._data.shape[ax] if input._data.ndim else 1
    if repeats._data.ndim == 0 or repeats._data.shape == (1,):
        repeats = repeats.reshape(1).expand(n)  # (one count for every slice)
    elif repeats._data.ndim == 1:
        if repeats._data.shape[0] != n:
            raise RuntimeError(
                f"repeats must have the same size as input along dim, but got repeats.size(0) = "
                f"{repeats._data.shape[0]} and input.size({ax}) = {n}"
            )
    else:
        raise RuntimeError("repeats must be 0-dim or 1-dim tensor")
    idx = _ri_indices(repeats, output_size)
    return index_select(input, ax, idx)


FlipBackward0 = node_class("FlipBackward0", lambda self, g, dims: (g.flip(dims),))


def flip(input: Tensor, *dims: Any, **kw: Any) -> Tensor:  # noqa: A002
    if "dims" in kw and not dims:
        dims = (kw.pop("dims"),)
    if kw:
        raise TypeError(f"flip() got an unexpected keyword argument '{next(iter(kw))}'")
    if dims:
        dims = _shape_args(dims, "flip", "dims")
    d = input._data
    ax = tuple(norm_dim(x, d.ndim) for x in dims)
    for i, a in enumerate(ax):
        if a in ax[:i]:
            raise RuntimeError(f"dim {a} appears multiple times in the list of dims")
    if d.ndim == 0:
        ax = ()
    no_uint_kernel("flip_cpu", d.dtype)
    r = np.flip(d, ax).copy() if type(d) is np.ndarray else input._dev.xp.flip(d, ax).copy()
    return _record(wrap(r, input._dev), FlipBackward0, input, (ax,))


def fliplr(input: Tensor) -> Tensor:  # noqa: A002
    if input._data.ndim < 2:
        raise RuntimeError("Input must be >= 2-d.")
    return flip(input, (1,))


def flipud(input: Tensor) -> Tensor:  # noqa: A002
    if input._data.ndim < 1:
        raise RuntimeError("Input must be >= 1-d.")
    return flip(input, (0,))


def roll(input: Tensor, shifts: Any, dims: Any = None) -> Tensor:  # noqa: A002
    if isinstance(shifts, (float, np.ndarray)):  # (torch's parser refuses it: tcli words it so)
        raise TypeError(f"roll(): argument 'shifts' must be tuple of ints, not {type(shifts).__name__}")
    d = input._data
    ns = len(shifts) if isinstance(shifts, (tuple, list)) else 1
    nd = 0 if dims is None else len(dims) if isinstance(dims, (tuple, list)) else 1
    if dims is not None and ns != nd or dims is None and ns != 1:
        raise RuntimeError(f"shifts and dimensions must align. shifts: {ns}, dims:{nd}")
    if dims is not None:
        if d.ndim == 0:
            raise IndexError("Dimension specified as 0 but tensor has no dimensions")
        dims = (
            tuple(norm_dim(x, d.ndim) for x in dims)
            if nd > 1 or isinstance(dims, (tuple, list))
            else norm_dim(dims, d.ndim)
        )
    r = np.roll(d, shifts, axis=dims)
    if not r.flags.c_contiguous:  # (torch's roll writes a contiguous result; numpy's keeps the input's order)
        r = r.copy(order="C")
    RollBackward0 = _ROLL
    neg = tuple(-s for s in shifts) if isinstance(shifts, (tuple, list)) else -shifts
    return _record(wrap(r, input._dev), RollBackward0, input, (neg, dims))


_ROLL = node_class("RollBackward0", lambda self, g, shifts, dims: (g.roll(shifts, dims),))


# ---- clone / contiguous / detach / casts ---------------------------------------------------------------
CloneBackward0 = node_class("CloneBackward0", lambda self, g: (g,))


def clone(input: Tensor, *, memory_format: Any = None) -> Tensor:  # noqa: A002
    d = input._data
    if memory_format is not None:
        from engine.ops.memory_layout import clone_format

        r = clone_format(input, memory_format)
        if r is not None:
            return _record(wrap(r, input._dev), CloneBackward0, input, ())
    if d.ndim > 1 and not d.flags.c_contiguous:
        from engine.ops.cascade_sum import dense_flat

        if dense_flat(d) is not None:  # torch's preserve_format: a transposed tensor's clone keeps its strides
            return _record(wrap(d.copy(order="K"), input._dev), CloneBackward0, input, ())
        if type(d) is np.ndarray:  # not dense: infer_dense_strides, the strides' order (a broadcast dim stays)
            from engine.ops.cpu_loops import dense_copy

            return _record(wrap(dense_copy(d), input._dev), CloneBackward0, input, ())
    return _record(wrap(d.copy(), input._dev), CloneBackward0, input, ())


def contiguous(input: Tensor, memory_format: Any = None) -> Tensor:  # noqa: A002
    d = input._data
    if memory_format is not None:
        from engine.ops.memory_layout import contiguous_format_of

        if contiguous_format_of(input, memory_format) is not None:
            return clone(input, memory_format=memory_format)
        if memory_format is not contiguous_format:  # (already laid out so)
            return input
    if d.flags.c_contiguous:
        return input
    return _record(
        wrap(
            np.ascontiguousarray(d) if type(d) is np.ndarray else input._dev.xp.ascontiguousarray(d),
            input._dev,
        ),
        CloneBackward0,
        input,
        (),
    )


def detach(input: Tensor) -> Tensor:  # noqa: A002
    t = view_of(input._data, input)  # shares memory and the version counter
    t._base = None  # but is not a differentiable view: torch's detach() has no _base
    t._rg, t._meta = False, None
    return t


def _to_copy_bw(self: Any, g: Tensor, np_dtype: Any, dev: Any) -> tuple:
    if g._data.dtype.kind == "c" and np.dtype(np_dtype).kind != "c":
        g = g.real  # (a real input's gradient is the real part, without the cast's warning: handle_r_to_c)
    return (cast(g, np_dtype, dev),)


ToCopyBackward0 = node_class("ToCopyBackward0", _to_copy_bw)


def astype(a: Any, np_dtype: Any) -> Any:
    """a.astype(np_dtype) with torch's float -> narrow integer rule. On the cpu torch converts through int32
    as x86 does (a value out of int32's range, or nan, becomes -2**31), then keeps the low bits (-2.0 -> 254
    as uint8, 1e10 -> 0 as int16); elsewhere through int64, so out-of-range values wrap on every device (a
    GPU saturates a direct conversion)."""
    np_dtype = np.dtype(np_dtype)
    if type(a) is np.ndarray and 0 in a.strides and a.size > 1:  # expanded: torch's layout, not numpy's K order
        from engine.ops.cpu_loops import dense_copy

        a = dense_copy(a)
    if np_dtype.metadata is not None:  # to bfloat16: through float32, as torch's conversion from double
        return to_bf16(astype(a, np.float32), array_module(a))
    if a.dtype.metadata is not None:
        a = plain(a)
    if a.dtype.kind == "f" and np_dtype.kind in "iu" and np_dtype.itemsize < 8:
        if type(a) is np.ndarray:
            with np.errstate(invalid="ignore"):
                r = a.astype(np.int32)
                bad = ~(np.abs(a) < 2147483648.0)  # (x86 gives -2**31 there; other cpus may saturate)
                if bad.any():
                    r[bad] = -(2**31)
            return r if np_dtype.char == "i" and np_dtype.itemsize == 4 else r.astype(np_dtype)
        return a.astype(np.int64).astype(np_dtype)
    if np_dtype.char == "e" and a.dtype.char == "d":  # double -> c10::Half goes through float, rounding twice
        return a.astype(np.float32).astype(np.float16)
    if a.dtype.kind == "c" and np_dtype.kind == "b":  # (torch: nonzero, the imaginary part counted; no warning)
        return a != 0
    if a.dtype.kind == "c" and np_dtype.kind != "c":
        warn_once(
            "Casting complex values to real discards the imaginary part (Triggered internally at "
            "/__w/pytorch/pytorch/aten/src/ATen/native/Copy.cpp:307.)"
        )
        return astype(a.real, np_dtype)
    return a.astype(np_dtype)


def cast(input: Tensor, np_dtype: Any, dev: Any, copy: bool = False, memory_format: Any = None) -> Tensor:  # noqa: A002
    """dtype/device/memory-format conversion; a no-op (returning input itself) when nothing changes, like torch
    (for the format: when the tensor's strides already suggest it)."""
    d = input._data
    same_dev = dev is None or dev is input._dev
    if memory_format is not None:
        from engine.ops.memory_layout import to_format

        memory_format = to_format(input, memory_format)
    if (
        d.dtype == np_dtype
        and same_dev
        and not copy
        and memory_format is None
        and (d.dtype.metadata is None) is (np_dtype.metadata is None)
    ):
        return input
    if not same_dev:
        from engine.backend import host

        if input._dev.type == "meta" or dev.type == "meta":
            from engine.meta import meta_array, no_data

            if dev.type != "meta":
                raise no_data()
            r = meta_array(d.shape, np_dtype)
        elif dev.type == "cpu":
            r = host(d)
            if r.dtype != np_dtype:
                r = astype(r, np_dtype)
            elif copy or r is d:
                r = r.copy()
        else:
            if np_dtype.metadata is not None:
                raise bf16_cpu_only()
            r = dev.xp.asarray(astype(d, np_dtype) if d.dtype != np_dtype else d)
        out = wrap(r, dev)
    else:
        if input._dev.type == "cuda" and np_dtype.metadata is not None:
            raise bf16_cpu_only()
        out = wrap(astype(d, np_dtype), input._dev)
    if memory_format is not None:
        from engine.ops.memory_layout import relaid

        out._data = relaid(out._dev.xp, out._data, memory_format)
    if out._data.dtype.kind not in "fc":  # an integer or bool result is not differentiable
        return out
    return _record(out, ToCopyBackward0, input, (d.dtype, input._dev))
