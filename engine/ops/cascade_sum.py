"""torch's cpu summation order, so that `x.sum().item()` prints the digits PyTorch prints.

A float32 sum rounds after every addition, so its last bits depend on the order of the additions; numpy's
pairwise order and torch's differ in about half of all sums of more than a few elements. torch's kernel
(aten/src/ATen/native/cpu/SumKernel.cpp, `cascade_sum`) reads the data as 8-float (4-double) vectors, four of
them side by side; each of those four running sums is cascaded through four levels of accumulators that
flush every 2**k vectors (k = max(4, ceil(log2(rows)) / 4)); the leftovers, the four partial vectors, the
scalar tail and the vector's lanes are then added in a fixed order. The kernel is built for AVX2 vectors only
(there is no AVX-512 variant), so this order holds on every x86 build. Above 32768 elements torch splits the
sum over its threads (one chunk per thread, then a sum of the per-thread results); that split is reproduced
with torch's default thread count (engine.process.default_threads).

Here: full reductions (every dimension) of float32/float64 arrays whose memory is one dense block in some
order of their dims (contiguous, transposed, permuted), which TensorIterator also reduces as a single row.
Everything else keeps numpy's order (within float rounding of torch's).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from engine.process import _INTRA_SET, get_num_threads

_GRAIN = 32768  # at::internal::GRAIN_SIZE
_reduce = np.add.reduce


def torch_threads() -> int:
    """torch's intra-op thread count: what the script set with set_num_threads, else torch's default."""
    return _INTRA_SET[0] if _INTRA_SET else get_num_threads()


def thread_chunks(n: int) -> list[slice]:
    """How torch's parallel_for splits n elements over its threads (one chunk each): one chunk below
    32768 elements or with one thread."""
    if n < _GRAIN or torch_threads() == 1:
        return [slice(0, n)]
    chunk = -(-n // min(torch_threads(), -(-n // _GRAIN)))
    return [slice(i, i + chunk) for i in range(0, n, chunk)]


def dense_flat(d: np.ndarray) -> np.ndarray | None:
    """d's elements in memory order as one line, or None when its memory is not one block. (TensorIterator
    orders the dims by stride, so a permuted dense block is still read in memory order.)"""
    if d.flags.c_contiguous:
        return d.reshape(-1)
    t = d.transpose(sorted(range(d.ndim), key=lambda i: -d.strides[i]))
    return t.reshape(-1) if t.flags.c_contiguous else None


def _seq(x: np.ndarray, axis: int, uf: Any = np.add) -> np.ndarray:
    """Left-to-right sum (or `uf`'s reduction) along `axis` (non-negative), rounding after each step, the
    first term taken exactly. numpy's reduce adds in order along any axis but the innermost one (there it adds
    pairwise), and its accumulate adds in order everywhere but runs one inner loop per output element (slow
    beyond 1-d); so the summed axis is kept off the innermost place of a C-contiguous array and reduce does
    the work."""
    n = x.shape[axis]
    if n == 0:
        return np.full(x.shape[:axis] + x.shape[axis + 1 :], uf.identity, x.dtype)
    if n == x.size:  # a single line: one inner loop either way
        return uf.accumulate(x.reshape(n))[-1].reshape(x.shape[:axis] + x.shape[axis + 1 :])
    if math.prod(x.shape[axis + 1 :]) < 2:  # summed axis innermost: move it to the front
        x = np.moveaxis(x, axis, 0)
        axis = 0
    if not x.flags.c_contiguous:
        x = np.ascontiguousarray(x)
    return uf.reduce(x, axis=axis)


def _ceil_log2(n: int) -> int:
    return 1 if n <= 2 else (n - 1).bit_length()  # c10's CeilLog2


def _take(x: np.ndarray, axis: int, start: int, stop: int | None = None) -> np.ndarray:
    return x[(slice(None),) * axis + (slice(start, stop),)]


def _groups(x: np.ndarray, axis: int, size: int) -> np.ndarray:
    """Each run of `size` consecutive entries along axis, summed in order; the runs along axis."""
    g = x.shape[axis] // size
    y = _take(x, axis, 0, g * size).reshape(x.shape[:axis] + (g, size) + x.shape[axis + 1 :])
    return _seq(y, axis + 1)


def _multi_row_sum(rows: np.ndarray, axis: int) -> np.ndarray:
    """torch's multi_row_sum along `axis`: every other entry summed alongside, each through four levels of
    accumulators that flush every 2**k rows (k = max(4, ceil(log2(rows)) / 4))."""
    size = rows.shape[axis]
    step = 1 << max(4, _ceil_log2(size) // 4)
    if size < step:  # no block completes: acc[0] alone (the + 0 keeps torch's sign of a zero sum)
        return _seq(rows, axis) + 0
    blocks = _groups(rows, axis, step)  # acc[0] of each full block, flushed into acc[1]
    nb = blocks.shape[axis]
    if nb < step:  # acc[1] never flushes: (leftover rows + acc[1]) + 0 + 0
        acc1 = _seq(blocks, axis)
        return (_seq(_take(rows, axis, nb * step), axis) + acc1 if size % step else acc1) + 0
    level1 = _groups(blocks, axis, step)  # acc[1] each time it reaches a multiple of step blocks
    level2 = _groups(level1, axis, step)
    n1, n2 = level1.shape[axis], level2.shape[axis]
    acc = _seq(_take(rows, axis, nb * step), axis) if size % step else 0
    acc = acc + (_seq(_take(blocks, axis, n1 * step), axis) if nb % step else 0)
    acc = acc + (_seq(_take(level1, axis, n2 * step), axis) if n1 % step else 0)
    return acc + (_seq(level2, axis) if n2 else 0)


def _ilp_sum(x: np.ndarray, axis: int) -> np.ndarray:
    """torch's row_sum along `axis`, every other entry summed alongside: the entries read as groups of four
    (ilp), each of the four running sums cascaded, the leftovers added to the first, then the other three."""
    k = x.shape[axis] // 4
    pre, post = x.shape[:axis], x.shape[axis + 1 :]
    if k:
        part = _multi_row_sum(_take(x, axis, 0, 4 * k).reshape(pre + (k, 4) + post), axis)
    else:
        part = np.zeros(pre + (4,) + post, x.dtype)
    first, rest = _take(part, axis, 0, 1), _take(part, axis, 1)
    return _seq(np.concatenate((first, _take(x, axis, 4 * k), rest), axis=axis), axis)


def _vec_inner(x: np.ndarray) -> np.ndarray:
    """torch's vectorized_inner_sum along the last axis of x (at least one vector long): row_sum over the
    vectors, then 0, the scalar tail and the vector's lanes added in order."""
    lanes = 32 // x.dtype.itemsize
    n = x.shape[-1]
    nvec = n // lanes
    head = x if nvec * lanes == n else x[..., : nvec * lanes]
    acc = _ilp_sum(head.reshape(*x.shape[:-1], nvec, lanes), x.ndim - 1)
    zero = np.zeros((*x.shape[:-1], 1), x.dtype)
    return _seq(np.concatenate((zero, x[..., nvec * lanes :], acc), axis=-1), x.ndim - 1)


_ZEROS = {c: np.zeros((4, 32 // np.dtype(c).itemsize), np.dtype(c)) for c in "fd"}


def _row_sum(a: np.ndarray) -> Any:
    """The sum of one contiguous 1-d chunk, as one call of torch's loop computes it (_vec_inner's arithmetic,
    with fewer calls: this runs for every full sum, a loss's mean among them)."""
    dt = a.dtype
    lanes = 32 // dt.itemsize
    n = a.size
    if n < lanes:
        return _ilp_sum(a, 0)
    nvec = n // lanes
    ilp = nvec // 4
    w = 4 * lanes
    if 0 < ilp < 16:
        # no block of _multi_row_sum completes: its running sums alone, one row of four vectors per step, added
        # in order (a reduce over the outer axis; one row is itself, two are one addition, at half a reduce's cost)
        if ilp == 1:
            part = a[:w].reshape(4, lanes)
        elif ilp == 2:
            part = (a[:w] + a[w : 2 * w]).reshape(4, lanes)
        else:
            part = _reduce((a if ilp * w == n else a[: ilp * w]).reshape(ilp, w), axis=0).reshape(4, lanes)
    elif ilp:
        part = _multi_row_sum(a[: ilp * w].reshape(ilp, 4, lanes), 0)
    else:
        part = _ZEROS[dt.char][:4]
    # partial 0, the leftover vectors, then partials 1-3, in that order; then the scalar tail and the lanes.
    # torch starts these sums from 0: only the sign of a zero total can tell, and the final `+ 0` gives it.
    if ilp * w == nvec * lanes:
        p0 = _reduce(part, axis=0)
    else:
        p0 = _reduce(np.concatenate((part[:1], a[ilp * w : nvec * lanes].reshape(-1, lanes), part[1:])), axis=0)
    if nvec * lanes == n:
        return _accumulate(p0)[-1] + 0
    return np.add.accumulate(np.concatenate((a[nvec * lanes :], p0)))[-1] + 0


# (numpy's module __getattr__ keeps np.<name> from being read quickly: bound once)
_accumulate, _asarray = np.add.accumulate, np.asarray


def full_sum(d: np.ndarray) -> np.ndarray | None:
    """torch's sum of every element of d as a 0-d array, or None where this order is not torch's (a layout
    that is not one block, another dtype): the caller then sums as it would."""
    dt = d.dtype
    if dt.kind != "f" or dt.itemsize < 4 or d.size == 0:
        return None
    flat = d.reshape(-1) if d.flags.c_contiguous else dense_flat(d)
    if flat is None:
        return None
    if flat.size < _GRAIN:  # one chunk (a loss's mean, a one-output layer's bias gradient): straight to the loop
        return _asarray(_row_sum(flat), dtype=dt)
    chunks = thread_chunks(flat.size)
    if len(chunks) == 1:
        return np.asarray(_row_sum(flat), dtype=dt)
    buf = np.zeros(torch_threads(), d.dtype)  # (unused threads' results stay 0)
    for t, c in enumerate(chunks):
        buf[t] = _row_sum(flat[c])
    return np.asarray(_row_sum(buf), dtype=d.dtype)


def insertion_sort(perm: list, should_swap: Any) -> list:
    """TensorIterator's reorder_dimensions sort of `perm` (dims, fastest first) in place, ambiguous
    comparisons (should_swap 0) included: a dim moves left past those it should swap with, and stops at the
    first it must stay after."""
    for i in range(1, len(perm)):
        d1 = i
        for d0 in range(i - 1, -1, -1):
            c = should_swap(perm[d0], perm[d1])
            if c > 0:
                perm[d0], perm[d1] = perm[d1], perm[d0]
                d1 = d0
            elif c < 0:
                break
    return perm


def _iter_dims(shape: tuple, strides: tuple, axes: frozenset) -> list:
    """TensorIterator's loop dims for summing `axes` of an array (reorder_dimensions, then
    coalesce_dimensions): [(size, input stride, output stride, logical axes)], fastest first. The output is
    contiguous with stride 0 in the reduced dims; dims of size 1 coalesce into anything, so they are left out."""
    out_stride, acc = {}, 1
    for i in reversed(range(len(shape))):
        out_stride[i] = 0 if i in axes else acc
        acc *= 1 if i in axes else shape[i]

    def should_swap(a: int, b: int) -> int:  # 1: a goes after b, -1: before, 0: ambiguous (look further)
        oa, ob = out_stride[a], out_stride[b]
        if (oa == 0) != (ob == 0):  # reduced dims to the front
            return 1 if ob == 0 else -1
        for sa, sb in ((oa, ob), (strides[a], strides[b])):  # the output, then the input
            if sa == 0 or sb == 0:
                continue
            if sa != sb:
                return -1 if sa < sb else 1
            if shape[a] > shape[b]:
                return 1
        return 0

    perm = insertion_sort([i for i in reversed(range(len(shape))) if shape[i] != 1], should_swap)
    dims: list = []
    for i in perm:
        if dims:
            size, ins, outs, ax = dims[-1]
            if size * ins == strides[i] and size * outs == out_stride[i]:
                dims[-1] = (size * shape[i], ins, outs, ax + (i,))
                continue
        dims.append((shape[i], strides[i], out_stride[i], (i,)))
    return dims


def _split(v: np.ndarray, group: int) -> np.ndarray:
    """torch's outer-sum kernels along the last axis of v (..., columns, rows): columns in whole groups of
    `group` cascaded straight down the rows (multi_row_sum), the rest summed by row_sum."""
    w = np.swapaxes(v, -1, -2)  # (..., rows, columns): the rows' axis off the innermost place
    ax = w.ndim - 2
    g = w.shape[-1] // group * group
    if g == w.shape[-1]:
        return _multi_row_sum(w, ax)
    if g == 0:
        return _ilp_sum(w, ax)
    return np.concatenate((_multi_row_sum(w[..., :g], ax), _ilp_sum(w[..., g:], ax)), axis=-1)


_PLANS: dict = {}  # (shape, strides, summed dims, dtype) -> (how dim_sum runs it or None, the output's shape)


def _plan(d: np.ndarray, red: frozenset) -> tuple | None:
    dims = _iter_dims(d.shape, d.strides, red)
    nred = sum(1 for dim in dims if dim[2] == 0)
    item = d.dtype.itemsize
    lanes = 32 // item
    s0, in0 = dims[0][0], dims[0][1]
    s1, in1 = (dims[1][0], dims[1][1]) if len(dims) > 1 else (1, 0)
    if in0 == item and s0 >= lanes:
        kernel = "inner"  # contiguous inner sum
    elif in1 == item and s1 >= lanes:
        kernel = "outer"  # contiguous outer sum: four vectors of columns at a time
    elif in0 < in1 or len(dims) == 1:
        kernel = "row"  # strided inner sum (one loop dim: a single column of the outer sum, the same)
    else:
        kernel = "outer4"  # strided outer sum: four columns at a time
        if d.size >= _GRAIN and torch_threads() > 1:
            return None  # each thread's share of the columns starts its own groups of four
    out_shape = tuple(n for i, n in enumerate(d.shape) if i not in red)
    return (*loop_view_params(d.shape, dims), kernel, lanes, nred, *kept_params(d.shape, dims[nred:]), out_shape)


def loop_view_params(shape: tuple, dims: list) -> tuple:
    """How to view an array as the loop's dims (_iter_dims), slowest first: its dims of size 1 dropped
    (`reshape(live)`), the rest ordered (`transpose(order)`) and merged (`reshape(sizes)`), all views."""
    live = tuple(n for n in shape if n != 1)
    pos = {ax: i for i, ax in enumerate(i for i, n in enumerate(shape) if n != 1)}
    order = tuple(pos[ax] for dim in reversed(dims) for ax in reversed(dim[3]))
    return live, order, tuple(dim[0] for dim in reversed(dims))


def kept_params(shape: tuple, kept_dims: list) -> tuple:
    """How to bring a result over the loop's kept dims back to the array's order: `reshape(unmerge)`, then
    `transpose(back)` (then a reshape to the output shape puts back the dims of size 1)."""
    kept = [ax for dim in reversed(kept_dims) for ax in reversed(dim[3])]  # slowest first
    return tuple(shape[ax] for ax in kept), tuple(np.argsort(kept).tolist())


def dim_sum(d: np.ndarray, axes: tuple) -> np.ndarray | None:
    """torch's sum of d over `axes` (distinct dims in range), keepdim=False, or None where this order is not
    known to be torch's (another dtype; a large tensor whose threads split the columns of a strided outer sum)."""
    if d.dtype.kind != "f" or d.dtype.itemsize < 4 or d.size == 0:
        return None
    if axes == (0,) and d.ndim == 2 and d.size < _GRAIN and d.flags.c_contiguous:
        rows, cols = d.shape
        if cols == 1:  # a one-output layer's bias gradient: one column, one block, torch's full sum
            return full_sum(d).reshape(1)
        if rows < 256 and cols % (128 // d.itemsize) == 0 and rows > 1:
            # a bias gradient (a batch's rows summed per column, whole vector groups of columns, one thread):
            # _multi_row_sum inline, blocks of 16 rows summed in order, then the blocks (no second level)
            # (The final + 0 that gives a zero total torch's sign is the reduce's start, initial=0, where the
            # sum ends with the reduce: a sum in order from +0 only differs from one ending in + 0 in the sign of
            # intermediate zeros, which no later addition can tell.)
            if rows < 16:
                return _reduce(d, axis=0, initial=0)
            nb = rows >> 4
            # (blocks side by side: a reduce over the outermost axis adds in order and runs fastest)
            if not rows & 15:
                return _reduce(_reduce(d.reshape(nb, 16, cols).transpose(1, 0, 2), axis=0), axis=0, initial=0)
            r = _reduce(_reduce(d[: nb << 4].reshape(nb, 16, cols).transpose(1, 0, 2), axis=0), axis=0)
            return _reduce(d[nb << 4 :], axis=0) + r + 0
    key = (d.shape, d.strides, axes, d.dtype.char)
    cached = _PLANS.get(key)
    if cached is None:
        red = frozenset(axes)
        if len(red) == d.ndim or all(d.shape[i] == 1 for i in range(d.ndim) if i not in red):
            plan = "full"  # one output: torch's full reduction (two passes over threads when large)
        elif all(d.shape[i] == 1 for i in red):
            plan = "copy"  # no addition, but the output starts at 0 (so -0.0 becomes 0.0)
        else:
            plan = _plan(d, red)
        cached = (plan, tuple(n for i, n in enumerate(d.shape) if i not in axes))
        if len(_PLANS) < 4096:
            _PLANS[key] = cached
    plan, out_shape = cached
    if plan is None:
        return None
    if plan == "full":
        r = full_sum(d)
        if r is not None or d.size >= _GRAIN:
            return None if r is None else r.reshape(out_shape)
        plan = _plan(d, frozenset(axes))  # (a full sum of a layout full_sum does not read as one block)
    elif plan == "copy":
        return (d + 0).reshape(out_shape)
    live, order, sizes, kernel, lanes, nred, unmerge, back, out_shape = plan
    v = d.reshape(live).transpose(order).reshape(sizes)  # views: the merged dims are adjacent in memory
    if kernel == "inner":
        r = _vec_inner(v)
    elif kernel == "outer":
        r = _split(v, 4 * lanes)
    elif kernel == "row":
        r = _ilp_sum(v, v.ndim - 1)
    else:
        r = _split(v, 4)
    if nred > 1:  # each further summed dim adds its results into the output one after another
        r = r.reshape(*r.shape[: r.ndim - (nred - 1)], -1)
        r = _seq(np.concatenate((np.zeros_like(r[..., :1]), r), axis=-1), r.ndim - 1)
    else:
        r = r + 0
    return r.reshape(unmerge).transpose(back).reshape(out_shape)
