"""torch's cpu summation order, so that `x.sum().item()` prints the digits PyTorch prints.

A float32 sum rounds after every addition, so its last bits depend on the order of the additions; numpy's
pairwise order and torch's differ in about half of all sums of more than a few elements. torch's kernel
(aten/src/ATen/native/cpu/SumKernel.cpp, `cascade_sum`) reads the data as 8-float (4-double) vectors, four of
them side by side; each of those four running sums is cascaded through four levels of accumulators that
flush every 2**k vectors (k = max(4, ceil(log2(rows)) / 4)); the leftovers, the four partial vectors, the
scalar tail and the vector's lanes are then added in a fixed order. The kernel is built for AVX2 vectors only
(there is no AVX-512 variant), so this order holds on every x86 build. Above 32768 elements torch splits the
sum over its threads (one chunk per thread, then a sum of the per-thread results); that split is reproduced
with torch's default thread count (OMP_NUM_THREADS, else the physical cores).

Here: full reductions (every dimension) of float32/float64 arrays whose memory is one dense block in some
order of their dims (contiguous, transposed, permuted), which TensorIterator also reduces as a single row.
Everything else keeps numpy's order (within float rounding of torch's).
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np

_GRAIN = 32768  # at::internal::GRAIN_SIZE


def _torch_threads() -> int:
    """torch's default intra-op thread count: OMP_NUM_THREADS when set, else the physical cores."""
    env = os.environ.get("OMP_NUM_THREADS", "")
    if env.isdigit() and int(env) > 0:
        return int(env)
    try:
        with open("/proc/cpuinfo") as f:
            cores, phys = set(), "0"
            for line in f:
                key, _, value = line.partition(":")
                key = key.strip()
                if key == "physical id":
                    phys = value.strip()
                elif key == "core id":
                    cores.add((phys, value.strip()))
        if cores:
            return len(cores)
    except OSError:
        pass
    return max(1, os.cpu_count() or 1)


_THREADS: list = []  # found on first use (reading /proc/cpuinfo costs more than most imports)


def _fold(x: np.ndarray, axis: int) -> np.ndarray:
    """Left-to-right sum along `axis`, rounding after each addition (the first term is taken exactly)."""
    n = x.shape[axis]
    if n == 0:
        shape = x.shape[:axis] + x.shape[axis + 1 :]
        return np.zeros(shape, x.dtype)
    if x.size <= 1 << 14:  # one call (accumulate is a running sum; reduce would be pairwise)
        return np.add.accumulate(x, axis=axis)[(slice(None),) * axis + (-1,)]
    idx: list[Any] = [slice(None)] * x.ndim  # large: no prefix-sum temporary, one add per step
    idx[axis] = 0
    acc = x[tuple(idx)].copy()
    for j in range(1, n):
        idx[axis] = j
        acc += x[tuple(idx)]
    return acc


def _ceil_log2(n: int) -> int:
    return 1 if n <= 2 else (n - 1).bit_length()  # c10's CeilLog2


def _groups(x: np.ndarray, size: int) -> np.ndarray:
    """Each run of `size` consecutive rows of x, folded: shape (len(x) // size, *row)."""
    g = len(x) // size
    return _fold(x[: g * size].reshape(g, size, *x.shape[1:]), 1)


def _multi_row_sum(rows: np.ndarray) -> np.ndarray:
    """torch's multi_row_sum over rows (size, *row), all rows summed at once."""
    size = len(rows)
    step = 1 << max(4, _ceil_log2(size) // 4)
    if size < step:  # no block completes: acc[0] alone (the + 0 keeps torch's sign of a zero sum)
        return np.add.accumulate(rows, axis=0)[-1] + 0
    zero = np.zeros(rows.shape[1:], rows.dtype)
    blocks = _groups(rows, step)  # acc[0] of each full block, flushed into acc[1]
    level1 = _groups(blocks, step)  # acc[1] each time it reaches a multiple of step blocks
    level2 = _groups(level1, step)
    acc1 = _fold(blocks[len(level1) * step :], 0) if len(blocks) % step else zero
    acc2 = _fold(level1[len(level2) * step :], 0) if len(level1) % step else zero
    acc3 = _fold(level2, 0) if len(level2) else zero
    acc0 = _fold(rows[len(blocks) * step :], 0) if size % step else zero
    return ((acc0 + acc1) + acc2) + acc3


def _row_sum(a: np.ndarray) -> Any:
    """The sum of one contiguous 1-d chunk, as one call of torch's loop computes it."""
    dt = a.dtype
    lanes = 32 // dt.itemsize
    n = a.size
    if n < lanes:  # torch's scalar row_sum: four running sums over at most one row of four, then the rest
        f = dt.type
        v = [f(x) for x in a.tolist()]
        k = 4 if n >= 4 else 0
        part = [f(x + f(0)) for x in v[:k]] if k else [f(0)] * 4
        p0 = part[0]
        for x in v[k:]:
            p0 = f(p0 + x)
        for x in part[1:]:
            p0 = f(p0 + x)
        return p0
    nvec = n // lanes
    ilp = nvec // 4
    if 0 < ilp < 16:  # (no block of _multi_row_sum completes: its running sum alone, inline)
        part = np.add.accumulate(a[: ilp * 4 * lanes].reshape(ilp, 4, lanes), axis=0)[-1] + 0
    elif ilp:
        part = _multi_row_sum(a[: ilp * 4 * lanes].reshape(ilp, 4, lanes))
    else:
        part = _ZEROS[dt.char][:4]
    # partial 0, the leftover vectors, then partials 1-3, in that order; then the scalar tail and the lanes
    p0 = np.add.accumulate(np.concatenate((part[:1], a[ilp * 4 * lanes : nvec * lanes].reshape(-1, lanes), part[1:])))
    return np.add.accumulate(np.concatenate((_ZEROS[dt.char][0, :1], a[nvec * lanes :], p0[-1])))[-1]


_ZEROS = {c: np.zeros((4, 32 // np.dtype(c).itemsize), np.dtype(c)) for c in "fd"}


def full_sum(d: np.ndarray) -> np.ndarray | None:
    """torch's sum of every element of d as a 0-d array, or None where this order is not torch's (a layout
    that is not one block, another dtype): the caller then sums as it would."""
    if d.dtype.kind != "f" or d.dtype.itemsize < 4 or d.size == 0:
        return None
    if d.flags.c_contiguous:
        flat = d.reshape(-1)
    else:  # TensorIterator orders the dims by stride: a permuted dense block is still read in memory order
        t = d.transpose(sorted(range(d.ndim), key=lambda i: -d.strides[i]))
        if not t.flags.c_contiguous:
            return None
        flat = t.reshape(-1)
    n = flat.size
    if n < _GRAIN:
        return np.asarray(_row_sum(flat), dtype=d.dtype)
    if not _THREADS:
        _THREADS.append(_torch_threads())
    threads = _THREADS[0]
    if threads == 1:
        return np.asarray(_row_sum(flat), dtype=d.dtype)
    tasks = min(threads, -(-n // _GRAIN))
    chunk = -(-n // tasks)
    buf = np.zeros(threads, d.dtype)
    for t, i in enumerate(range(0, n, chunk)):
        buf[t] = _row_sum(flat[i : i + chunk])
    return np.asarray(_row_sum(buf), dtype=d.dtype)
