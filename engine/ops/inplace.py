"""In-place ops and out=: torch's leaf rules checked before any data changes, version counters
bumped, and the graph rewritten so later backward passes see the new values (CopySlices for views)."""

from __future__ import annotations

from typing import Any

import numpy as np

from engine import autograd
from engine.autograd import _Out, next_seq
from engine.backend import for_array
from engine.bf16 import round_bits
from engine.dtypes import no_uint_kernel
from engine.grad_mode import ENABLED, INFERENCE, INPLACE_INFERENCE, InferenceVC
from engine.ops import fusion
from engine.ops.util import edge_of, invalid_combination, memory_order, node_class, scalar_to
from engine.tensor import _GRAD_FN, FORWARD_AD, GradView, Tensor, wrap
from engine.warn import user_stacklevel

LEAF_MSG = "a leaf Variable that requires grad is being used in an in-place operation."
VIEW_LEAF_MSG = "a view of a leaf Variable that requires grad is being used in an in-place operation."

# (read on every in-place op: numpy's and engine.autograd's module __getattr__ keep their attributes from being read
# quickly, so bound once; autograd's current_site is read from its namespace, where the interpreter updates it)
_ndarray = np.ndarray
_subtract = np.subtract
_true_divide = np.true_divide
_AUTOGRAD = autograd.__dict__


def check_inplace(x: Tensor) -> None:
    if fusion._LIVE:  # pending fused recipes read their inputs' memory: run them before anything writes
        fusion.flush()
    if type(x._vc) is InferenceVC and not INFERENCE[0]:
        raise RuntimeError(INPLACE_INFERENCE)
    if not ENABLED[0]:
        return
    if x._rg and _GRAD_FN.__get__(x) is None and not (x._meta and x._meta.get("nograd_view")):
        raise RuntimeError(LEAF_MSG)  # (the raw slot: a view whose base changed is judged below, as torch does)
    custom = x._meta.get("custom_view") if x._meta and x._rg else None
    if custom is not None:
        raise RuntimeError(
            f"Output {custom[1]} of {custom[0]} is a view and is being modified inplace. This view was created "
            "inside a custom Function (or because an input was returned as-is) and the autograd logic to handle "
            "view+inplace would override the custom backward associated with the custom Function, leading to "
            "incorrect gradients. This behavior is forbidden. You can fix this by cloning the output of the "
            "custom Function."
        )
    multi = x._meta.get("multi") if x._meta and x._rg else None
    if multi is not None:
        raise RuntimeError(
            f"Output {multi[1]} of {multi[0]} is a view and is being modified inplace. This view is the output of "
            "a function that returns multiple views. Such functions do not allow the output views to be modified "
            "inplace. You should replace the inplace operation by an out-of-place one."
        )
    base = x._base
    # only a differentiable view counts (x.detach() and views made under no_grad are not)
    nograd_view = bool(x._meta and x._meta.get("nograd_view"))
    if base is not None and x._rg and base._rg and base.grad_fn is None and not nograd_view:
        raise RuntimeError(VIEW_LEAF_MSG)
    if base is not None and base._rg and (not x._rg or nograd_view):
        # a view made under no_grad of a tensor that requires grad
        raise RuntimeError(
            "A view was created in no_grad mode and is being modified inplace with grad mode enabled. Given that "
            "this use case is ambiguous and error-prone, it is forbidden. You can clarify your code by moving both "
            "the view and the inplace either both inside the no_grad block (if you don't want the inplace to be "
            "tracked) or both outside (if you want the inplace to be tracked)."
        )


OVERLAP_MSG = (
    "unsupported operation: more than one element of the written-to tensor refers to a single memory location. "
    "Please clone() the tensor before performing the operation."
)


PARTIAL_OVERLAP_MSG = (
    "unsupported operation: some elements of the input tensor and the written-to tensor refer to a single memory "
    "location. Please clone() the tensor before performing the operation."
)


def _dense(a: Any) -> bool:
    return a.flags.c_contiguous or a.flags.f_contiguous


def check_no_partial_overlap(dst: Any, src: Any) -> None:
    """torch's refusal to read from memory an in-place op is writing, unless both views are the same one
    (x.copy_(x)) or either is too strided to tell (torch then computes element by element, as numpy does)."""
    if type(dst) is not type(src) or dst is src or not dst.size or not src.size:
        return
    share = for_array(np.may_share_memory, dst)
    if (dst.base is None and src.base is None) or not share(dst, src):
        return
    if not (_dense(dst) and _dense(src)):
        return
    a0, b0 = _ptr(dst), _ptr(src)
    a1, b1 = a0 + dst.nbytes, b0 + src.nbytes
    if a0 == b0 and a1 == b1 and dst.strides == src.strides:
        return
    if a0 < b1 and b0 < a1:
        raise RuntimeError(PARTIAL_OVERLAP_MSG)


def _ptr(a: Any) -> int:
    return a.__array_interface__["data"][0] if isinstance(a, np.ndarray) else a.data.ptr


def writeable(d: Any) -> bool:
    """False for numpy's read-only arrays (expanded tensors are broadcast views); cupy has no such flag, so
    there an expanded tensor is one with a zero stride over a dimension longer than 1 (an empty array, whose
    strides cupy may leave at zero, has no element to alias)."""
    if type(d) is not np.ndarray:
        return d.size == 0 or not any(st == 0 and n > 1 for st, n in zip(d.strides, d.shape))
    return d.flags.writeable


def writable_view(d: Any) -> Any:
    """d, or for a read-only numpy broadcast view, a writeable view of the same memory: torch fills and
    index-assigns through an expanded tensor (every alias of one element gets the same value)."""
    if not isinstance(d, np.ndarray) or writeable(d):  # cupy's broadcast views are writeable
        return d
    root = d
    while isinstance(root.base, np.ndarray):
        root = root.base
    if not root.flags.writeable or not _dense(root):
        return d  # memory that really is read-only: numpy's error stands
    flat = root.reshape(-1, order="A")
    offset = _ptr(d) - _ptr(root)
    return np.ndarray.__new__(type(d), d.shape, d.dtype, buffer=flat, offset=offset, strides=d.strides)


def _bump(x: Tensor) -> None:
    c = x._vc
    c[0] += 1
    c[1] = autograd.current_site


_CAT = {"b": 0, "u": 1, "i": 1, "f": 2, "c": 3}
_CATNAME = {"b": "Bool", "u": "Byte", "i": "Long", "f": "Float"}


def _check_cast(src: Any, dst: Any) -> None:
    if _CAT[src.kind] > _CAT[dst.kind]:
        from engine.dtypes import FROM_NP

        s = FROM_NP[src].scalar_name()
        d = FROM_NP[dst].scalar_name()
        raise RuntimeError(f"result type {s} can't be cast to the desired output type {d}")


def apply(x: Tensor, compute: Any, *others: Any, fits: bool = True) -> Tensor:
    """Run `compute(x, *others)` out of place, then store the result in x's memory. fits: check that the
    operands broadcast to x's shape (done by the caller where some operand is an index, not an operand)."""
    check_inplace(x)
    if fits:
        _fits_in(x, *(o._data.shape for o in others if isinstance(o, Tensor)))
    for o in others:
        if isinstance(o, Tensor):
            check_no_partial_overlap(x._data, o._data)
    grad = ENABLED[0] and (x._rg or any(isinstance(o, Tensor) and o._rg for o in others))
    if not grad:
        prev = ENABLED[0]
        ENABLED[0] = False
        try:
            r = compute(x, *others)
        finally:
            ENABLED[0] = prev
        _store(x, r._data)
        return x
    # The op's node may save its input: give it a snapshot so writing x cannot corrupt it.
    proxy = wrap(_snapshot(x._data), x._dev)
    proxy._rg = x._rg
    proxy.grad_fn = x.grad_fn
    proxy._accum = x._accum
    r = compute(proxy, *others)
    if r.dtype is not x.dtype:
        _check_cast(r._data.dtype, x._data.dtype)
        r = r.to(x.dtype)
    _store(x, r._data)
    commit(x, r)
    return x


def _snapshot(d: Any) -> Any:
    """A copy of d. A strided numpy view's copy keeps its strides: torch's kernels split each row into vectors
    and a scalar tail as the memory runs (cpu_kernel_vec), so the op on the copy rounds as on the view (a GRU's
    sigmoid_ on its gates' pieces). Only where the view spans at most 4x its elements (a thin slice of a large
    tensor is copied compactly: no memory for the rest)."""
    if type(d) is np.ndarray and d.ndim > 1 and not _dense(d):
        st, size = d.strides, d.itemsize
        if all(s > 0 and s % size == 0 for s in st):
            span = sum((n - 1) * s for n, s in zip(d.shape, st)) // size + 1
            if span > 4 * d.size:
                return d.copy()
            out = np.lib.stride_tricks.as_strided(np.empty(span, d.dtype), d.shape, st)
            np.copyto(out, d)
            return out
    return d.copy()


def _fits_in(x: Tensor, *shapes: tuple) -> None:
    """torch's error, raised before anything is computed or allocated, when operands broadcast to a shape
    larger than the in-place output (operands that do not broadcast at all fail in the op itself)."""
    d = x._data.shape
    if all(s == d for s in shapes):
        return
    try:
        full = np.broadcast_shapes(d, *shapes)
    except ValueError:
        return
    if full != d:
        raise RuntimeError(
            f"output with shape [{', '.join(map(str, d))}] doesn't match the broadcast shape "
            f"[{', '.join(map(str, full))}]"
        )


def _store(x: Tensor, data: Any) -> None:
    d = x._data
    if data.dtype != d.dtype:
        _check_cast(data.dtype, d.dtype)
    if data.shape != d.shape:
        # Inputs already broadcast against each other; only a result larger than x is an error.
        full = np.broadcast_shapes(data.shape, d.shape)
        if full != d.shape:
            raise RuntimeError(
                f"output with shape [{', '.join(map(str, d.shape))}] doesn't match the broadcast shape "
                f"[{', '.join(map(str, full))}]"
            )
    if not writeable(d):
        raise RuntimeError(OVERLAP_MSG)
    if type(d) is np.ndarray:
        np.copyto(d, data, casting="unsafe")
    else:
        d[...] = data
    _bump(x)


def commit(x: Tensor, new: Tensor) -> None:
    """x's memory now holds new's values: x takes new's graph; a view passes the change up to its base."""
    node = new.grad_fn
    if node is not None and node._saved and node._saved is not autograd.FREED:
        # A node that saved its own output must see x's memory and version from now on.
        saved = list(node._saved)
        vers = list(node._vers)
        for i, s in enumerate(saved):
            if type(s) is _Out and s.data is new._data:
                s.data, s.counter = x._data, x._vc
                vers[i] = (x._vc, x._vc[0])
        node._vers = tuple(vers)
    meta = x._meta
    if meta and meta.get("retain") and node is not None:
        old = _GRAD_FN.__get__(x)
        move_retain_hook(old if old is None or x._accum is None else autograd.output_edge(x, old), node)
    x.grad_fn = node
    x._rg = new._rg
    view = meta.get("view") if meta else None
    if view is None or node is None:
        return
    parent, fn = view
    # torch's CopySlices: the write's own node runs inside it, so its edges are the parent's old graph (for
    # the write's input) and the write's other inputs; the view's old graph is no longer reached
    pnode = CopySlices()
    pnode._seq = next_seq()
    pnode._next = (edge_of(parent),) + node._next[1:]
    pd = parent._data
    # the order of the parent's dims in memory, where it is not row-major: backward lays the gradient out so,
    # for the view the write went through to fit it again (torch allocates it with the base's strides)
    order = None
    if pd.ndim > 1 and not pd.flags.c_contiguous:
        order = tuple(sorted(range(pd.ndim), key=lambda i: -pd.strides[i]))
    pnode._saved = (fn, node, order)
    # a write whose node keeps tensors is freed with it (a second backward raises, as in torch)
    pnode._vers = (None, _NO_CHECK if autograd._holds_tensors(node) else None, None)
    pnode._ctx = (parent._data.shape, parent._data.dtype)
    pnew = wrap(parent._data, parent._dev)
    pnew._rg = True
    pnew.grad_fn = pnode
    commit(parent, pnew)
    if type(x) is GradView:
        # torch re-links the view itself after the write (AsStridedBackward0 on the base's CopySlices); marking
        # it stale does that when its grad_fn is next read, so a loop of writes through views builds none
        x._gv = -1


def move_retain_hook(old: Any, new: Any) -> None:
    """torch moves a tensor's retain_grad hook to its new grad_fn (its other hooks stay with the old one)."""
    pre = old._pre if old is not None else None
    if not pre:
        return
    keep = [h for h in pre if getattr(h, "_retain", False)]
    if keep:
        old._pre = [h for h in pre if not getattr(h, "_retain", False)]
        new._pre = (new._pre or []) + keep


_NO_CHECK = ([0], 0)  # a version record that never fails: marks a saved item that backward frees


def _copyslices_bw(self: Any, g: Tensor, fn: Any, node: Any, order: tuple | None) -> tuple:
    """The parent's gradient with the written region replaced by the write's gradient for its input (torch's
    CopySlices::apply); the write's other inputs get theirs."""
    # a copy of g laid out as the parent is (row-major, or in `order`), so the view the write went through fits it
    if order is None:
        result = g.clone() if g._data.flags.c_contiguous else g.contiguous()
    else:
        p = g.permute(order)
        laid = p.contiguous()
        result = g.clone() if laid is p else laid.permute(tuple(int(i) for i in np.argsort(order)))
    region = fn(result)
    grads = autograd.apply_fitted(node, region.clone())
    if self._next[0] is not None:
        if grads[0] is None:
            region.zero_()
        else:
            region.copy_(grads[0])
    return (result,) + tuple(grads[1:])


CopySlices = node_class("CopySlices", _copyslices_bw)
CopySlices.name = lambda self: "torch::autograd::CopySlices"


def write_out(out: Tensor, r: Tensor, warn_resize: bool = True, diff: bool = True) -> Tensor:
    """torch's out=: out takes r's shape and values (in out's dtype) and is returned. Resizing a non-empty
    out warns as torch's resize_output does; factory functions (zeros, rand, ...) resize silently. diff=False:
    an op without a derivative (logical_*), which torch lets write into an out that requires grad."""
    if not isinstance(out, Tensor):
        raise TypeError(f"argument 'out' must be Tensor, not {type(out).__name__}")
    if fusion._LIVE:
        fusion.flush()
    if diff and ENABLED[0] and (out._rg or r._rg):
        fn = r.grad_fn
        op = autograd._short(fn.name()).rstrip("0123456789").lower() + "(): " if fn is not None else ""  # mul():
        raise RuntimeError(
            f"{op}functions with out=... arguments don't support automatic differentiation, but one of the "
            "arguments requires grad."
        )
    rd = r._data
    if out._data.shape != rd.shape:
        if out._data.size and warn_resize:
            import warnings

            warnings.warn(
                "An output with one or more elements was resized since it had shape "
                f"[{', '.join(map(str, out._data.shape))}], which does not match the required output shape "
                f"[{', '.join(map(str, rd.shape))}]. This behavior is "
                "deprecated, and in a future PyTorch release outputs will not be resized unless they have zero "
                "elements. You can explicitly reuse an out tensor t by resizing it, inplace, to zero elements with "
                "t.resize_(0). (Triggered internally at /__w/pytorch/pytorch/aten/src/ATen/native/Resize.cpp:30.)",
                UserWarning,
                stacklevel=user_stacklevel(),
            )
        out._data = out._dev.xp.empty(rd.shape, dtype=out._data.dtype)
    _check_cast(rd.dtype, out._data.dtype)
    if type(out._vc) is InferenceVC and not INFERENCE[0]:
        raise RuntimeError(INPLACE_INFERENCE)
    out._data[...] = rd
    _bump(out)
    return out


# ---- the in-place methods ----------------------------------------------------------------------------
def _fast(x: Tensor, other: Any, ufunc: Any) -> Tensor | None:
    """Write `x <op> other` straight into x's memory when no graph is recorded and no promotion is
    involved (SGD updates under no_grad take this path); None means: take the general path."""
    xd = x._data
    if type(other) is Tensor:
        od = other._data
        if od.dtype is not xd.dtype or other._dev is not x._dev:
            return None
        if xd.base is not None or od.base is not None:  # (two owners of their memory cannot overlap)
            check_no_partial_overlap(xd, od)
    elif type(other) is float:
        if xd.dtype.kind != "f" or xd.dtype.char == "e":  # (float16: the general path has torch's scalar rules)
            return None
        od = other
        if xd.dtype.metadata is not None and (ufunc is np.add or ufunc is np.subtract):
            od = float(round_bits(np.float32(other)))  # (bfloat16's add: the scalar a BFloat16 first)
    elif type(other) is int:
        if xd.dtype.kind not in "fiu":
            return None
        od = other
    else:
        return None
    if ufunc is _true_divide and xd.dtype.kind != "f":
        return None
    try:
        if type(xd) is _ndarray:
            if not xd.flags.writeable:
                return None
            ufunc(xd, od, out=xd)
        else:
            if not writeable(xd):
                return None
            for_array(ufunc, xd)(xd, od, out=xd)
    except (ValueError, OverflowError):  # (an int beyond x's dtype: the general path wraps it as torch does)
        return None
    c = x._vc
    c[0] += 1
    c[1] = _AUTOGRAD["current_site"]
    return x


def _no_graph(x: Tensor, other: Any) -> bool:
    return not (ENABLED[0] and (x._rg or (isinstance(other, Tensor) and other._rg)))


def add_(x: Tensor, other: Any, *rest: Any, alpha: Any = 1) -> Tensor:
    if rest:  # (torch's deprecated add_(Number alpha, Tensor other))
        from engine.ops.elementwise import deprecated_alpha

        other, alpha = deprecated_alpha("add_", other, rest), other
    check_inplace(x)
    no_uint_kernel("add_stub", x._data.dtype)
    if alpha == 1 and (not ENABLED[0] or _no_graph(x, other)):  # (an optimizer's update: under no_grad)
        r = _fast(x, other, np.add)
        if r is not None:
            return r
    from engine.ops.elementwise import add

    return apply(x, lambda a, b: add(a, b, alpha=alpha), other)


def sub_(x: Tensor, other: Any, *rest: Any, alpha: Any = 1) -> Tensor:
    if rest:
        from engine.ops.elementwise import deprecated_alpha

        other, alpha = deprecated_alpha("sub_", other, rest), other
    check_inplace(x)
    no_uint_kernel("add_stub", x._data.dtype)
    if x._data.dtype.kind == "b":  # (torch's words for a bool subtraction, before numpy's own in the fast path)
        from engine.ops.elementwise import _sub_check

        _sub_check(x, other)
    if alpha == 1 and (not ENABLED[0] or _no_graph(x, other)):  # (an optimizer's update: under no_grad)
        r = _fast(x, other, _subtract)
        if r is not None:
            return r
    from engine.ops.elementwise import sub

    return apply(x, lambda a, b: sub(a, b, alpha=alpha), other)


def mul_(x: Tensor, other: Any) -> Tensor:
    check_inplace(x)
    if not ENABLED[0] or _no_graph(x, other):
        r = _fast(x, other, np.multiply)
        if r is not None:
            return r
    from engine.ops.elementwise import mul

    return apply(x, mul, other)


def div_(x: Tensor, other: Any, *, rounding_mode: str | None = None) -> Tensor:
    check_inplace(x)
    if rounding_mode is None and (not ENABLED[0] or _no_graph(x, other)):
        r = _fast(x, other, np.true_divide)
        if r is not None:
            return r
    from engine.ops.elementwise import div

    return apply(x, lambda a, b: div(a, b, rounding_mode=rounding_mode), other)


def pow_(x: Tensor, exponent: Any) -> Tensor:
    from engine.ops.elementwise import pow

    return apply(x, pow, exponent)


def clamp_(x: Tensor, min: Any = None, max: Any = None) -> Tensor:  # noqa: A002
    from engine.ops.elementwise import clamp

    return apply(x, lambda a: clamp(a, min, max))


def addcmul_(x: Tensor, t1: Tensor, t2: Tensor, *, value: Any = 1) -> Tensor:
    from engine.ops.elementwise import addcmul

    return apply(x, lambda a, b, c: addcmul(a, b, c, value=value), t1, t2)


def clamp_min_(x: Tensor, min: Any) -> Tensor:  # noqa: A002
    from engine.ops.elementwise import clamp_min

    return apply(x, lambda a: clamp_min(a, min))


def clamp_max_(x: Tensor, max: Any) -> Tensor:  # noqa: A002
    from engine.ops.elementwise import clamp_max

    return apply(x, lambda a: clamp_max(a, max))


def lerp_(x: Tensor, end: Tensor, weight: Any) -> Tensor:
    from engine.ops.elementwise import lerp

    if weight is None:  # (torch's parser refuses it: tcli words it so)
        raise TypeError("lerp_(): weight must be a Tensor or a Number, not NoneType")
    if isinstance(weight, Tensor):
        return apply(x, lambda a, e, w: lerp(a, e, w), end, weight)
    return apply(x, lambda a, e: lerp(a, e, weight), end)


def scatter_(x: Tensor, dim: int, index: Tensor, src: Any = None, *, value: Any = None, reduce: Any = None) -> Tensor:
    from engine.ops.index import scatter

    if isinstance(src, Tensor):
        return apply(x, lambda a, i, b: scatter(a, dim, i, b, reduce=reduce), index, src)
    return apply(x, lambda a, i: scatter(a, dim, i, src, value=value, reduce=reduce), index)


def scatter_add_(x: Tensor, dim: int, index: Tensor, src: Tensor) -> Tensor:
    from engine.ops.index import scatter_add

    return apply(x, lambda a, i, b: scatter_add(a, dim, i, b), index, src)


def addcdiv_(x: Tensor, t1: Tensor, t2: Tensor, *, value: Any = 1) -> Tensor:
    from engine.ops.elementwise import addcdiv

    return apply(x, lambda a, b, c: addcdiv(a, b, c, value=value), t1, t2)


def masked_fill_(x: Tensor, mask: Tensor, value: Any) -> Tensor:
    from engine.ops.index import masked_fill

    if value is None:  # (torch's parser refuses it: tcli words it so)
        raise TypeError("masked_fill_(): value must be a Tensor or a Number, not NoneType")
    d = x._data
    if not writeable(d) and not (ENABLED[0] and (x._rg or (isinstance(value, Tensor) and value._rg))):
        import warnings

        warnings.warn(
            "Use of masked_fill_ on expanded tensors is deprecated. Please clone() the tensor before performing "
            "this operation. This also applies to advanced indexing e.g. tensor[mask] = scalar",
            UserWarning,
            stacklevel=user_stacklevel(),
        )
        check_inplace(x)
        masked_fill(x, mask, value)  # torch's checks and messages for mask and value
        v = value.item() if isinstance(value, Tensor) else value
        md = mask._data if mask._data.shape == d.shape else x._dev.xp.broadcast_to(mask._data, d.shape)
        writable_view(d)[md] = v  # only where the mask is set, as torch writes through the aliases
        _bump(x)
        return x
    return apply(x, lambda a: masked_fill(a, mask, value))


def _zeros_bw(self: Any, g: Tensor) -> tuple:
    from engine.ops.elementwise import zero_grad

    return (zero_grad(g),)


def _fill3_bw(self: Any, g: Tensor) -> tuple:
    from engine.ops.elementwise import zero_grad

    n = self._next
    return (zero_grad(g) if n[0] is not None else None, g.sum() if n[1] is not None else None)


def _copy_bw(self: Any, g: Tensor, shape: tuple, np_dtype: Any, dev: Any) -> tuple:
    from engine.ops.elementwise import zero_grad
    from engine.ops.shape import cast, sum_to

    n = self._next
    ga = zero_grad(g) if n[0] is not None else None
    return (ga, cast(sum_to(g, shape), np_dtype, dev) if n[1] is not None else None)


ZeroBackward0 = node_class("ZeroBackward0", _zeros_bw)
FillBackward2 = node_class("FillBackward2", _zeros_bw)  # fill_(number)
FillBackward3 = node_class("FillBackward3", _fill3_bw)  # fill_(0-dim tensor): the value gets the summed grad
CopyBackwards = node_class("CopyBackwards", _copy_bw)
CopyBackwards.name = lambda self: "torch::autograd::CopyBackwards"


def _rewrite(x: Tensor, cls: type, other: Tensor | None = None, saved: tuple = ()) -> None:
    """x's memory was just overwritten by an op whose result does not depend on x's old values:
    record cls (next: x's old graph, and `other`'s) as x's grad_fn."""
    node = cls()
    node._seq = next_seq()
    node._next = (edge_of(x),) if other is None else (edge_of(x), edge_of(other))
    node._saved = saved
    node._vers = (None,) * len(saved)
    node._ctx = (x._data.shape, x._data.dtype)
    if cls is FillBackward3 and other.dtype is not x.dtype:
        node._meta = (None, ((), other._data.dtype))
    new = wrap(x._data, x._dev)
    new._rg = True
    new.grad_fn = node
    commit(x, new)


def zero_(x: Tensor) -> Tensor:
    check_inplace(x)
    d = x._data
    # (fill: several times faster than d[...] = 0 on small arrays; an optimizer zeroes every grad each step)
    (d if type(d) is _ndarray and d.flags.writeable else writable_view(d)).fill(0)
    c = x._vc
    c[0] += 1
    c[1] = _AUTOGRAD["current_site"]
    if ENABLED[0] and x._rg:
        _rewrite(x, ZeroBackward0)
    return x


_NUMBERS = (int, float, complex, np.generic)  # (bool is an int)


def fill_(x: Tensor, value: Any) -> Tensor:
    check_inplace(x)
    vt = None
    if isinstance(value, Tensor):
        if value._data.ndim != 0:
            raise RuntimeError(
                f"fill_ only supports 0-dimension value tensor but got tensor with {value._data.ndim} dimensions."
            )
        if not writeable(x._data):
            raise RuntimeError(OVERLAP_MSG)
        from engine.backend import host

        vt = value
        with np.errstate(invalid="ignore", over="ignore"):  # (a tensor's value is cast, wrapping, as torch's copy)
            value = np.asarray(host(value._data)).astype(x._data.dtype)[()]
    elif isinstance(value, _NUMBERS):
        value = scalar_to(value, x._data.dtype)
    else:  # (numpy would take a list or a range and fill elementwise; torch takes one number)
        raise invalid_combination("fill_", (value,), ("(Tensor value)", "(Number value)"), True)
    writable_view(x._data)[...] = value
    _bump(x)
    if ENABLED[0] and (x._rg or (vt is not None and vt._rg)):
        _rewrite(x, FillBackward2) if vt is None else _rewrite(x, FillBackward3, vt)
    return x


def copy_(x: Tensor, src: Any, non_blocking: bool = False) -> Tensor:
    if type(src) in (int, float, bool):  # torch takes a number as a 0-dim source
        return copy_(x, wrap(x._dev.xp.asarray(scalar_to(src, x._data.dtype)), x._dev), non_blocking)
    if not isinstance(src, Tensor):
        raise TypeError(f"copy_(): argument 'other' (position 1) must be Tensor, not {type(src).__name__}")
    check_inplace(x)
    if not writeable(x._data):
        raise RuntimeError(OVERLAP_MSG)
    sd = src._data
    _fits_in(x, sd.shape)
    check_no_partial_overlap(x._data, sd)
    if src._dev is not x._dev:
        from engine.backend import host

        sd = host(sd) if x._dev.type == "cpu" else x._dev.xp.asarray(sd)
    if sd.dtype.kind == "c" and x._data.dtype.kind != "c":  # (torch's warning, and bool as nonzero)
        from engine.ops.shape import astype

        sd = astype(sd, x._data.dtype)
    elif sd.dtype.char == "d" and x._data.dtype.char == "e":  # (double -> c10::Half goes through float)
        sd = sd.astype(np.float32)
    try:
        x._data[...] = sd
    except ValueError:
        from engine.ops.elementwise import broadcast_error

        raise RuntimeError(broadcast_error(x._data.shape, sd.shape)) from None
    _bump(x)
    if ENABLED[0] and (x._rg or src._rg):
        _rewrite(x, CopyBackwards, src, (src._data.shape, src._data.dtype, src._dev))
    return x


_RENAMED: dict = {}


def _view_inplace(x: Tensor, make: Any, node: str) -> Tensor:
    """x.t_(), x.squeeze_(), ...: x becomes the view make(x) of its own memory (a new shape and strides, the
    same data), with torch's node for the in-place form (TBackward1, SqueezeBackward3, ...)."""
    if ENABLED[0] and x._rg and _GRAD_FN.__get__(x) is None and not (x._meta and x._meta.get("nograd_view")):
        raise RuntimeError(VIEW_LEAF_MSG if x._base is not None else LEAF_MSG)
    r = make(x)
    x._data = r._data
    _bump(x)
    fn = _GRAD_FN.__get__(r)
    if fn is not None:
        cls = _RENAMED.get((type(fn), node))
        if cls is None:
            cls = _RENAMED[(type(fn), node)] = type(node, (type(fn),), {"__slots__": ()})
        fn.__class__ = cls
        x.grad_fn = fn
        x._rg = True
    return x


def t_(x: Tensor) -> Tensor:
    from engine.ops.shape import t

    if x._data.ndim > 2:  # (t's check, in t_'s name)
        raise RuntimeError(f"t_() expects a tensor with <= 2 dimensions, but self is {x._data.ndim}D")
    return _view_inplace(x, t, "TBackward1")


def transpose_(x: Tensor, dim0: int, dim1: int) -> Tensor:
    from engine.ops.shape import transpose

    return _view_inplace(x, lambda a: transpose(a, dim0, dim1), "TransposeBackward1")


_SQUEEZE_ALL: Any = object()  # squeeze_'s dim not given (torch's parser takes no None for it)


def squeeze_(x: Tensor, dim: Any = _SQUEEZE_ALL) -> Tensor:
    from engine.ops.shape import squeeze

    if dim is _SQUEEZE_ALL:
        return _view_inplace(x, squeeze, "SqueezeBackward3")
    node = "SqueezeBackward5" if isinstance(dim, (tuple, list)) else "SqueezeBackward4"
    return _view_inplace(x, lambda a: squeeze(a, dim), node)  # (None: squeeze's error, as torch's parser's)


def unsqueeze_(x: Tensor, dim: int) -> Tensor:
    from engine.ops.shape import unsqueeze

    return _view_inplace(x, lambda a: unsqueeze(a, dim), "UnsqueezeBackward1")


def _storage(d: Any) -> Any:
    """The array whose memory d views (torch's storage): numpy's and cupy's base chain to its root."""
    root = d
    while root.base is not None and type(root.base) is type(d):
        root = root.base
    return root


def resize_(x: Tensor, *size: Any, memory_format: Any = None) -> Tensor:
    """torch's resize_: x becomes contiguous with the new sizes over its storage from its storage offset (a
    smaller size keeps the storage, so growing back shows the old values); past the storage's end a larger
    storage is allocated with the old contents (torch leaves the new elements uninitialised; here they are 0).
    Views that shared the old storage keep it (in torch they would follow the reallocated storage)."""
    from engine.ops.util import int_list

    if not size:
        raise TypeError('resize_() missing 1 required positional arguments: "size"')
    sizes = int_list(size, "resize_", "size")
    if x._rg:
        raise RuntimeError("cannot resize variables that require grad")
    n = 1
    for k in sizes:
        if k < 0:
            raise RuntimeError("numel: integer multiplication overflow")
        n *= k
    if fusion._LIVE:
        fusion.flush()
    d = x._data
    if d.shape != sizes and x._dev.type == "meta":  # (no storage to grow: a new placeholder of the new size)
        from engine.meta import meta_array

        x._data = meta_array(sizes, d.dtype)
        _bump(x)
    elif d.shape != sizes:
        xp = x._dev.xp
        root = _storage(d)
        offset = x.storage_offset() if root is d.base or root is d else _offset_in(d, root)
        if root.flags.c_contiguous:
            flat = root.reshape(-1)
        else:  # (a root array that is not dense: its elements in memory order stand for the storage)
            flat = xp.ascontiguousarray(root).reshape(-1)
        if offset + n > flat.size:
            grown = xp.zeros(offset + n, dtype=d.dtype)
            grown[: flat.size] = flat
            flat = grown
        x._data = flat[offset : offset + n].reshape(sizes)
        _bump(x)  # (torch counts a resize that changes the sizes only)
    return x


def _offset_in(d: Any, root: Any) -> int:
    """d's offset in elements from the start of root's memory."""
    if isinstance(d, np.ndarray):
        return (d.__array_interface__["data"][0] - root.__array_interface__["data"][0]) // d.itemsize
    return (d.data.ptr - root.data.ptr) // d.itemsize


def resize_as_(x: Tensor, the_template: Any, *, memory_format: Any = None) -> Tensor:
    if not isinstance(the_template, Tensor):
        raise TypeError(
            f"resize_as_(): argument 'the_template' (position 1) must be Tensor, not {type(the_template).__name__}"
        )
    return resize_(x, tuple(the_template._data.shape))


def requires_grad_(x: Tensor, requires_grad: bool = True) -> Tensor:
    if requires_grad.__class__ is not bool and not isinstance(requires_grad, np.bool_):
        raise TypeError(
            f"requires_grad_(): argument 'requires_grad' (position 1) must be bool, not {type(requires_grad).__name__}"
        )
    if x._rg and FORWARD_AD[0] is not None and FORWARD_AD[0](x):  # (a graph only forward AD's, torch's a leaf)
        from engine.forward_ad import set_requires_grad

        return set_requires_grad(x, requires_grad)
    if x.grad_fn is not None:
        if not requires_grad:
            x.requires_grad = False  # torch's error for a non-leaf
        return x  # (a non-leaf already requires grad: requires_grad_() is allowed, the setter is not)
    if requires_grad and x._data.dtype.kind not in "fc":
        # (the requires_grad setter's text adds "and complex")
        raise RuntimeError("only Tensors of floating point dtype can require gradients")
    x.requires_grad = requires_grad
    return x


def detach_(x: Tensor) -> Tensor:
    if x._base is not None:  # (any view: torch refuses one with no graph too)
        raise RuntimeError(
            "Can't detach views in-place. Use detach() instead. If you are using DistributedDataParallel (DDP) "
            "for training, and gradient_as_bucket_view is set as True, gradients are views of DDP buckets, and "
            "hence detach_() cannot be called on these gradients. To fix this error, please refer to the "
            "Optimizer.zero_grad() function in torch/optim/optimizer.py as the solution."
        )
    if x._accum is not None and x._accum._port:  # (no longer an output of a multi-output op)
        x._accum = None
    x.grad_fn = None
    x._rg = False
    return x


def inplace_of(fn: Any, name: str) -> Any:
    """x.name_(*args, **kw): fn(x, *args, **kw) stored in x. Only tensors that broadcast against x elementwise
    are checked against x's shape (an index tensor is not)."""
    elementwise = not name.startswith(("index_", "masked_"))

    def op(x: Tensor, *args: Any, **kw: Any) -> Tensor:
        tensors = tuple(a for a in args if isinstance(a, Tensor))
        if elementwise:
            check_inplace(x)
            _fits_in(x, *(t._data.shape for t in tensors))
        return apply(x, lambda a, *_: fn(a, *args, **kw), *tensors, fits=False)

    op.__name__ = name + "_"
    return op


def float_power_(x: Tensor, exponent: Any) -> Tensor:
    from engine.ops.elementwise import float_power

    if x._data.dtype != np.float64:
        raise RuntimeError(
            f"the base given to float_power_ has dtype {x.dtype.scalar_name()} but the operation's result requires "
            "dtype Double"
        )
    return apply(x, lambda a, *_: float_power(a, exponent), *((exponent,) if isinstance(exponent, Tensor) else ()))


def unary_fn_(fn: Any, name: str) -> Any:
    """x.fn_(): x's values replaced by fn(x) (for functions outside elementwise's own table)."""

    def op(x: Tensor) -> Tensor:
        return apply(x, fn)

    op.__name__ = name + "_"
    return op


def _cumulative_(name: str) -> Any:
    """x.cumsum_(dim, dtype=None), x.cumprod_: the scan stored in x, whose dtype a given dtype must equal."""

    def op(x: Tensor, *args: Any, **kw: Any) -> Tensor:
        from engine.dtypes import to_dtype
        from engine.ops import reduce

        if not args and "dim" not in kw:
            raise TypeError(f'{name}_() missing 1 required positional arguments: "dim"')
        dt = kw.get("dtype")
        if dt is not None and to_dtype(dt) != x.dtype:
            raise RuntimeError(
                f"Bad in-place call: input tensor dtype {x.dtype.name_for_error()} and output tensor dtype "
                f"{to_dtype(dt).name_for_error()} should match"
            )
        if x._data.dtype.kind == "b":  # (the scan would be long: torch's out= kernel has no bool)
            raise NotImplementedError(f"\"{name}_out_cpu\" not implemented for 'Bool'")
        fn = getattr(reduce, name)
        return apply(x, lambda a: fn(a, *args, **kw), fits=False)

    op.__name__ = name + "_"
    return op


cumsum_ = _cumulative_("cumsum")
cumprod_ = _cumulative_("cumprod")


def _refuse_inplace(self: Any, g: Tensor, *saved: Any) -> tuple:
    raise NotImplementedError(f"the derivative for 'inplace version of {self._op}' is not implemented.")


def inplace_not_differentiable(op: Any, name: str) -> Any:
    """x.name_() where torch's derivatives.yaml says not_implemented("inplace version of name"): the node is
    {Name}Backward1 (in place of the op's own Backward0), and running it raises torch's error."""
    cls = node_class(f"{name.capitalize()}Backward1", _refuse_inplace)
    cls._op = name
    own = f"{name.capitalize()}Backward0"

    def run(x: Tensor) -> Tensor:
        r = op(x)
        fn = _GRAD_FN.__get__(r)
        if fn is not None and type(fn).__name__ == own:
            fn.__class__ = cls
        return r

    run.__name__ = name + "_"
    return run


def unary_(name: str) -> Any:
    def op(x: Tensor) -> Tensor:
        from engine.ops import elementwise

        return apply(x, getattr(elementwise, name))

    op.__name__ = name + "_"
    return op


_RANDOM_NODES = {
    n: node_class(n, _zeros_bw)
    for n in ("UniformBackward0", "NormalBackward0", "BernoulliBackward1", "BernoulliBackward2", "ExponentialBackward0",
              "CauchyBackward0", "GeometricBackward0", "LogNormalBackward0",
              "RandomBackward0", "RandomBackward1", "RandomBackward2")
}  # fmt: skip


def _fill_random(x: Tensor, draw: Any, generator: Any, node: str) -> Tensor:
    """x's values replaced by numbers drawn on the host from torch's streams (the cuda generator for a cuda
    tensor, as creation does), then moved to x's device; with grad, x's graph ends in torch's node for the
    draw (its values no longer depend on what x held: the gradient back is zero)."""
    from engine.creation import _gen

    check_inplace(x)
    if x._dev.type == "meta":  # (no values to fill, and no numbers drawn: torch's meta kernels draw none)
        _bump(x)
        if ENABLED[0] and x._rg:
            _rewrite(x, _RANDOM_NODES[node])
        return x
    values = draw(_gen(generator, x._dev))
    if type(x._data) is not np.ndarray:
        values = x._dev.xp.asarray(values)
    order = memory_order(x._data)
    if order is None:
        x._data[...] = values
    else:  # (the stream of draws, in x's memory order)
        target = x._data.transpose(order)
        target[...] = values.reshape(target.shape)
    _bump(x)
    if ENABLED[0] and x._rg:
        _rewrite(x, _RANDOM_NODES[node])
    return x


def uniform_(x: Tensor, a: float = 0.0, b: float = 1.0, *, generator: Any = None) -> Tensor:
    from engine import random as rnd

    return _fill_random(x, lambda g: rnd.uniform(g, x._data.shape, x._data.dtype, a, b), generator, "UniformBackward0")


def normal_(x: Tensor, mean: float = 0.0, std: float = 1.0, *, generator: Any = None) -> Tensor:
    from engine import random as rnd

    contiguous = x._data.flags.c_contiguous
    return _fill_random(
        x, lambda g: rnd.normal(g, x._data.shape, x._data.dtype, mean, std, contiguous), generator, "NormalBackward0"
    )


def exponential_(x: Tensor, lambd: float = 1.0, *, generator: Any = None) -> Tensor:
    from engine import random as rnd

    if x._data.dtype.kind != "f":
        raise RuntimeError(
            "Exponential distribution is a continuous probability distribution. dtype must be a floating point but "
            f"you specified {x.dtype.scalar_name()}"
        )
    if not lambd > 0:
        raise RuntimeError(f"exponential_ expects lambda > 0.0, but found lambda={float(lambd):g}")
    return _fill_random(
        x, lambda g: rnd.exponential(g, x._data.shape, x._data.dtype, lambd), generator, "ExponentialBackward0"
    )


_C_TYPE_NAMES = {"int64": "long int", "int32": "int", "int16": "short int", "int8": "signed char",
                 "uint8": "unsigned char", "bool": "bool"}  # fmt: skip


def cauchy_(x: Tensor, median: float = 0.0, sigma: float = 1.0, *, generator: Any = None) -> Tensor:
    from engine import random as rnd

    if x._data.dtype.kind != "f":  # (named as C++ names the type, where exponential_ uses torch's names)
        raise RuntimeError(
            "Cauchy distribution is a continuous probability distribution. dtype must be a floating point but you "
            f"specified {_C_TYPE_NAMES[x._data.dtype.name]}"
        )
    if not sigma > 0:
        raise RuntimeError(f"cauchy_ expects sigma > 0.0, but found sigma={float(sigma):g}")
    return _fill_random(
        x, lambda g: rnd.cauchy(g, x._data.shape, x._data.dtype, median, sigma), generator, "CauchyBackward0"
    )


_NO_P = object()


def geometric_(x: Tensor, p: Any = _NO_P, *, generator: Any = None) -> Tensor:
    """x's values replaced by the number of Bernoulli(p) trials up to the first success (1, 2, ...)."""
    from engine import random as rnd

    if p is _NO_P:  # (torch's parser's wording)
        raise TypeError('geometric_() missing 1 required positional arguments: "p"')
    if isinstance(p, Tensor):
        p = p.item()
    if isinstance(p, str) or not isinstance(p, (int, float)):
        raise TypeError(f"geometric_(): argument 'p' (position 1) must be float, not {type(p).__name__}")
    if not 0 < p < 1:
        raise RuntimeError(f"geometric_ expects p to be in (0, 1), but got p={float(p):g}")
    return _fill_random(
        x, lambda g: rnd.geometric(g, x._data.shape, x._data.dtype, float(p)), generator, "GeometricBackward0"
    )


def log_normal_(x: Tensor, mean: float = 1.0, std: float = 2.0, *, generator: Any = None) -> Tensor:
    """x's values replaced by exp(N(mean, std^2)) draws."""
    from engine import random as rnd

    if not std > 0:
        raise RuntimeError(f"log_normal_ expects std > 0.0, but found std={float(std):g}")
    return _fill_random(
        x, lambda g: rnd.log_normal(g, x._data.shape, x._data.dtype, mean, std), generator, "LogNormalBackward0"
    )


_UNSET = object()


def random_(x: Tensor, from_: Any = None, to: Any = _UNSET, *, generator: Any = None, **kw: Any) -> Tensor:
    """x's values replaced by torch's uniform integers: random_() over [0, max] of x's dtype (floats: [0, 2**digits]),
    random_(to) over [0, to), random_(from, to) over [from, to), random_(from, None) over [from, max]; drawn as
    engine/random.py's random_/randint."""
    from engine import random as rnd

    if "from" in kw:  # (torch's keyword is `from`, a Python keyword)
        from_, to = kw.pop("from"), (from_ if to is _UNSET else to)
    if kw:
        raise TypeError(f"random_() got an unexpected keyword argument '{next(iter(kw))}'")
    dt, shape = x._data.dtype, x._data.shape
    if from_ is None and to is _UNSET:
        return _fill_random(x, lambda g: rnd.random_(g, shape, dt), generator, "RandomBackward2")
    if to is _UNSET:  # random_(to): [0, to)
        low, high, node = 0, int(from_), "RandomBackward1"
    elif to is None:  # random_(from, None): [from, the dtype's max] (floats: 2**digits)
        low, node = int(from_), "RandomBackward0"
        if dt == np.int64 and low == -(1 << 63):  # the whole 64-bit range: random64() as it comes
            return _fill_random(x, lambda g: rnd._gen(g)._u64(int(np.prod(shape))).view(np.int64).reshape(shape),
                                generator, node)  # fmt: skip
        top = (1 << rnd._DIGITS[dt]) if dt.kind == "f" else (1 if dt.kind == "b" else int(np.iinfo(dt).max))
        high = top + 1
    else:
        low, high, node = int(from_), int(to), "RandomBackward0"
    return _fill_random(x, lambda g: rnd.randint(g, low, high, shape, dt), generator, node)


def bernoulli_(x: Tensor, p: Any = 0.5, *, generator: Any = None) -> Tensor:
    """x's values replaced by 0/1 draws with probability p (a number, or a tensor broadcast to x)."""
    from engine import random as rnd
    from engine.backend import host

    if isinstance(p, Tensor):
        probs = np.broadcast_to(host(p._data), x._data.shape)
        order = memory_order(x._data)
        if order is not None:  # (drawn in x's memory order, as they are written)
            probs = probs.transpose(order)
        draw = lambda g: rnd.bernoulli(g, np.ascontiguousarray(probs), x._data.dtype)  # noqa: E731
        return _fill_random(x, draw, generator, "BernoulliBackward1")
    draw = lambda g: rnd.bernoulli_scalar(g, p, x._data.shape, x._data.dtype)  # noqa: E731
    return _fill_random(x, draw, generator, "BernoulliBackward2")


APPLY_GRAD_MSG = "Can't call apply_() on Variable that requires grad. Use var.detach().apply_() instead."


def apply_(x: Tensor, callable: Any) -> Tensor:  # noqa: A002 - torch's parameter name
    """Tensor.apply_(fn): fn(element) for each element in index order, written back in place (cpu only, never
    on a tensor that requires grad, whatever the grad mode: torch's checks, in its order). fn may be any
    callable, a script's function included; an exception it raises stops the loop with the elements before it
    written, as in torch. No backward and no version bump: apply_ is outside autograd."""
    if x._rg:
        raise RuntimeError(APPLY_GRAD_MSG)
    if x._dev.type == "meta":
        return x  # (no values to visit)
    if x._dev.type != "cpu":
        raise TypeError("apply_ is only implemented on CPU tensors")
    d = x._data
    return _write_each(x, lambda index: callable(d[index].item()))


def map_(x: Tensor, tensor: Any, callable: Any) -> Tensor:  # noqa: A002 - torch's parameter names
    """Tensor.map_(tensor, fn): fn(element, tensor's element) for each element in index order (tensor broadcast to
    x's shape, of x's dtype), written back in place; apply_'s rules otherwise (cpu only, never on a tensor that
    requires grad, outside autograd)."""
    from engine.naming import type_name

    if not isinstance(tensor, Tensor):
        raise TypeError(f"map_(): argument 'other' (position 1) must be Tensor, not {type_name(tensor)}")
    if x._rg:
        raise RuntimeError("Can't call map_() on Variable that requires grad. Use var.detach().map_() instead.")
    if x._dev.type != "cpu" or tensor._dev.type != "cpu":
        raise TypeError("map_ is only implemented on CPU tensors")
    if tensor._data.dtype != x._data.dtype:
        raise TypeError(f"map_: expected {x.type()} for 'other' (got {tensor.type()})")
    other = tensor.expand_as(x)._data
    d = x._data
    return _write_each(x, lambda index: callable(d[index].item(), other[index].item()))


def _write_each(x: Tensor, value_at: Any) -> Tensor:
    """apply_'s and map_'s loop: value_at(index) written at each index of x in index order, in place (torch
    writes the memory directly: the version counter stays)."""
    check_inplace(x)
    d = x._data
    out = writable_view(d)
    if not writeable(out):
        raise RuntimeError(OVERLAP_MSG)
    unpack = _UNPACK[d.dtype.kind]
    for index in np.ndindex(d.shape):
        out[index] = unpack(value_at(index))
    return x


def _real(r: Any) -> float:
    """A result for a floating tensor: what CPython's PyFloat_AsDouble takes (a real number)."""
    if isinstance(r, (int, float, np.integer, np.floating)):
        return float(r)
    raise TypeError(f"must be real number, not {type(r).__name__}")


def _integer(r: Any) -> int:
    """A result for an integer tensor: a float truncates toward zero; anything else must be an integer."""
    import operator

    if isinstance(r, (float, np.floating)):
        return int(r) if np.isfinite(r) else 0
    return operator.index(r)


def _truth(r: Any) -> bool:
    """A result for a bool tensor: a number's truth (0.0 is False); anything else must be an integer."""
    import operator

    if isinstance(r, (float, complex, np.floating, np.complexfloating)):
        return r != 0
    return operator.index(r) != 0


def _complex(r: Any) -> complex:
    if isinstance(r, (int, float, complex, np.number)):
        return complex(r)
    raise TypeError(f"must be real number, not {type(r).__name__}")


_UNPACK = {"f": _real, "i": _integer, "u": _integer, "b": _truth, "c": _complex}
