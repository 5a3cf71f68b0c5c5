"""Memory formats (torch.contiguous_format, channels_last, channels_last_3d, preserve_format) on the engine's
arrays, whose strides are real: a channels-last tensor is an (N, C, H, W) array whose memory runs (N, H, W, C),
made as numpy makes it, a C-order (N, H, W, C) array viewed through a transpose. The checks follow torch's
c10 helpers (compute_channels_last_contiguous_2d, is_channels_last_strides_2d, suggest_memory_format), so
is_contiguous, stride() and the no-op rules agree with torch's.

Which ops keep a channels-last layout: elementwise ops on one tensor, or on tensors of one layout, keep it (numpy
walks operands in memory order, as TensorIterator does); convolution and the max, average and adaptive average
pools give a channels-last result when an operand is channels-last (follow_channels_last); a leaf's first .grad
takes the leaf's layout (torch's AccumulateGrad contract); the *_like factories and clone keep it. Not matched:
a channels-last tensor combined with a contiguous one of the same shape comes out contiguous (torch follows
the first operand; the check would cost every binary op), reductions with keepdim and adaptive_avg_pool2d to
1x1 report contiguous strides for their size-1 dims, and other ops (softmax, interpolate, pad, group_norm)
keep whatever layout their numpy kernels give, where torch has its own rule per kernel."""

from __future__ import annotations

from typing import Any

import numpy as np

from engine.memory_format import channels_last, channels_last_3d, contiguous_format, memory_format, preserve_format
from engine.ops.cascade_sum import insertion_sort

# (engine.ops.util is imported where an error needs it: the cupy kernels import this module while autograd loads)

# the memory order of a channels-last array's dims, and back
_TO_LAST = {4: (0, 2, 3, 1), 5: (0, 2, 3, 4, 1)}
_FROM_LAST = {4: (0, 3, 1, 2), 5: (0, 4, 1, 2, 3)}
# the dims from fastest to slowest in a channels-last layout (c10's order)
_FAST_FIRST = {4: (1, 3, 2, 0), 5: (1, 4, 3, 2, 0)}
_RANK = {channels_last: 4, channels_last_3d: 5}


def check_format(fmt: Any, fn: str) -> Any:
    """fmt itself when it is a memory format or None, else the argument parser's TypeError."""
    if fmt is not None and type(fmt) is not memory_format:
        from engine.ops.util import parser_type_name

        raise TypeError(f"{fn}(): argument 'memory_format' must be torch.memory_format, not {parser_type_name(fmt)}")
    return fmt


def check_rank(fmt: Any, ndim: int) -> None:
    """torch's error for a channels-last format on a tensor of the wrong rank."""
    rank = _RANK.get(fmt)
    if rank is not None and ndim != rank:
        raise RuntimeError(f"required rank {rank} tensor to use {fmt._name} format")


def elem_strides(d: Any) -> tuple:
    """d's strides in elements (what Tensor.stride() reports before its size-1 and empty-dim repairs)."""
    isz = d.itemsize
    return tuple(s // isz for s in d.strides)


def is_format(shape: tuple, strides: tuple, fmt: Any) -> bool:
    """torch's is_contiguous(memory_format=fmt): dims of size 1 may have any stride."""
    if fmt is channels_last or fmt is channels_last_3d:
        if len(shape) != _RANK[fmt]:
            return False
        order = _FAST_FIRST[len(shape)]
    else:
        order = tuple(range(len(shape) - 1, -1, -1))
    expected = 1
    for d in order:
        size = shape[d]
        if size == 0:  # (an empty tensor is contiguous in every format)
            return True
        if size != 1:
            if strides[d] != expected:
                return False
            expected *= size
    return True


def _strides_like_channels_last(shape: tuple, strides: tuple) -> bool:
    """c10's is_channels_last_strides_2d/3d: strides ordered as channels-last, ambiguous cases read as NCHW."""
    lo = 0
    if strides[1] == 0:
        return False
    for d in _FAST_FIRST[len(shape)]:
        if shape[d] == 0 or strides[d] < lo:
            return False
        if d == 0 and lo == strides[1]:
            return False
        lo = strides[d] * shape[d] if shape[d] > 1 else strides[d]
    return True


def suggest(shape: tuple, strides: tuple) -> Any:
    """torch's suggest_memory_format: the channels-last format a tensor's strides look like, else contiguous."""
    if len(shape) in (4, 5) and _strides_like_channels_last(shape, strides):
        return channels_last if len(shape) == 4 else channels_last_3d
    return contiguous_format


def relaid(xp: Any, d: Any, fmt: Any) -> Any:
    """A copy of d laid out in fmt (a channels-last format or contiguous_format)."""
    if fmt is channels_last or fmt is channels_last_3d:
        # (a new array, not ascontiguousarray: that hands back a view already C-ordered up to size-1 dims,
        # whose strides for those dims are not the ones torch gives)
        src = d.transpose(_TO_LAST[d.ndim])
        out = xp.empty(src.shape, dtype=d.dtype)
        out[...] = src
        return out.transpose(_FROM_LAST[d.ndim])
    return xp.ascontiguousarray(d) if not d.flags.c_contiguous else d.copy()


def new_array(xp: Any, shape: tuple, dtype: Any, fmt: Any, fill: Any = 0) -> Any:
    """A new array of shape filled with `fill`, in fmt's layout (torch.empty's memory_format)."""
    if fmt is preserve_format:
        raise RuntimeError("unsupported memory format Preserve")
    check_rank(fmt, len(shape))
    if fmt is channels_last or fmt is channels_last_3d:
        last = tuple(shape[i] for i in _TO_LAST[len(shape)])
        return xp.full(last, fill, dtype=dtype).transpose(_FROM_LAST[len(shape)])
    return xp.full(shape, fill, dtype=dtype)


def like_array(xp: Any, d: Any, dtype: Any, fmt: Any, fill: Any = 0) -> Any:
    """The *_like functions' new array: preserve_format (or None) keeps d's layout as torch does, else fmt's."""
    if fmt is None or fmt is preserve_format:
        from engine.creation import preserved

        return preserved(d, xp, dtype, fill)
    return new_array(xp, d.shape, dtype, fmt, fill)


def is_contiguous_as(t: Any, fmt: Any) -> bool:
    """Tensor.is_contiguous(memory_format=fmt)."""
    check_format(fmt, "is_contiguous")
    if fmt is channels_last or fmt is channels_last_3d:
        return is_format(t.shape, t.stride(), fmt)
    return bool(t._data.flags.c_contiguous)


def clone_format(t: Any, fmt: Any) -> Any:
    """clone(memory_format=fmt): the copy laid out in fmt, or None for preserve_format (clone's own copy, which
    keeps a dense tensor's strides)."""
    check_format(fmt, "clone")
    if fmt is preserve_format:
        return None
    check_rank(fmt, t.dim())
    return relaid(t._dev.xp, t._data, fmt)


def contiguous_format_of(t: Any, fmt: Any) -> Any:
    """contiguous(memory_format=fmt): the channels-last format t must be copied into, else None (t is in it
    already, or fmt is contiguous_format)."""
    check_format(fmt, "contiguous")
    if fmt is preserve_format:
        if t._data.flags.c_contiguous:  # (torch: is_contiguous(preserve_format) first, then the refusal)
            return None
        raise RuntimeError("preserve memory format is unsupported by the contiguous operator")
    if fmt is channels_last or fmt is channels_last_3d:
        check_rank(fmt, t.dim())
        return None if is_format(t.shape, t.stride(), fmt) else fmt
    return None


def to_format(t: Any, fmt: Any) -> Any:
    """Tensor.to(memory_format=fmt): the format to lay the result out in, or None where t's strides already
    suggest fmt (torch's no-op test) or fmt is preserve_format."""
    if fmt is preserve_format:
        return None
    check_rank(fmt, t.dim())
    return None if suggest(t.shape, t.stride()) is fmt else fmt


_TO_SIGNATURES = (
    "torch.device device = None, torch.dtype dtype = None, bool non_blocking = False, bool copy = False",
    "torch.dtype dtype, bool non_blocking = False, bool copy = False",
    "Tensor tensor, bool non_blocking = False, bool copy = False",
)


def check_to_format(args: tuple, kwargs: dict) -> None:
    """to(..., memory_format=x) with x no memory format: torch's argument-parser error, which lists the call."""
    fmt = kwargs.get("memory_format")
    if fmt is None or type(fmt) is memory_format:
        return
    from engine.ops.util import parser_type_name

    got = [parser_type_name(a) for a in args] + [f"{k}={parser_type_name(v)}" for k, v in kwargs.items()]
    shown = ", ".join(got) + (", " if not args else "")  # (torch's parser ends a keywords-only list so)
    lines = [f"to() received an invalid combination of arguments - got ({shown}), but expected one of:"]
    lines += [f" * ({s}, *, torch.memory_format memory_format = None)" for s in _TO_SIGNATURES]
    raise TypeError("\n".join(lines) + "\n")


def follow_channels_last(sources: tuple, *outs: Any) -> None:
    """torch's convolution and pooling kernels write a channels-last result where an operand's strides suggest
    that format: outs (fresh results no one else holds yet) are re-laid in place to match."""
    for s in sources:
        d = s._data
        if d.ndim in (4, 5) and _strides_like_channels_last(d.shape, elem_strides(d)):
            fmt = channels_last if d.ndim == 4 else channels_last_3d
            for o in outs:
                if o._data.ndim == d.ndim:
                    o._data = relaid(o._dev.xp, o._data, fmt)
            return


def laid_out_as_inputs(r: Any, ins: Any) -> Any:
    """A generated cupy kernel writes C order; an elementwise op keeps the layout of its first full-size input
    where that is one dense block in another order (a channels-last tensor), as the op-by-op kernels do."""
    for x in ins:
        if getattr(x, "shape", None) == r.shape:
            if x.flags.c_contiguous:
                return r
            import cupy

            from engine.creation import preserved

            out = preserved(x, cupy, r.dtype)
            out[...] = r
            return out
    return r


def iterator_layout(out: Any, *operands: Any) -> Any:
    """out (a fresh numpy result of an elementwise op) laid out as torch's TensorIterator lays out its output
    (reorder_dimensions): each pair of dims ordered by the first operand whose strides tell them apart
    (broadcast dims skipped), so `x.t() * y` keeps x.t()'s layout where numpy, seeing operands disagree, writes
    C order. Callers reach here only where an operand is not C-contiguous (all C-contiguous: numpy's C order is
    torch's)."""
    shape = out.shape
    nd = len(shape)
    if out.size <= 1:
        return out
    if all(getattr(d, "shape", shape) == shape for d in operands) and all(
        getattr(d, "ndim", 0) == 0 or d.flags.c_contiguous for d in operands
    ):
        return out  # (torch's fast setup: operands of one shape, all contiguous)
    strides = []
    for d in operands:
        if getattr(d, "ndim", 0) == 0:
            continue
        lead = nd - d.ndim
        es = elem_strides(d)
        strides.append(
            tuple(0 if i < lead or (d.shape[i - lead] == 1 and shape[i] != 1) else es[i - lead] for i in range(nd))
        )

    def should_swap(d0: int, d1: int) -> int:
        for s in strides:
            a, b = s[d0], s[d1]
            if a == 0 or b == 0:
                continue
            if a != b:
                return -1 if a < b else 1
            if shape[d0] > shape[d1]:
                return 1
        return 0

    perm = insertion_sort(list(range(nd - 1, -1, -1)), should_swap)  # perm[0]: the innermost dim
    want = [0] * nd
    step = 1
    for d in perm:
        want[d] = step
        step *= shape[d]
    if tuple(want) == elem_strides(out):
        return out
    order = perm[::-1]  # outermost first
    relaid = np.empty(tuple(shape[d] for d in order), dtype=out.dtype).transpose(
        tuple(int(i) for i in np.argsort(order))
    )
    relaid[...] = out
    return relaid
