"""torch's nll_loss reduction on the cpu (nll_loss_out_frame, and nll_loss2d's over every spatial element): the
losses and weights summed in a cascade of eight partial sums in the input's dtype, then added up in order and,
for the mean, divided by the total weight. A float32 sum of another order differs in the last bits, and a
training loop's printed loss drifts from torch's after a few steps.

The cascade, as torch runs it element by element: element b (skipped when its target is ignore_index) is
subtracted from level 0; then, level by level, where b's bits in that level's field are all zero the level is
added into the next and cleared. With a level step of s = 2**power that makes each level a run of sequential
sums, reset after the elements whose index is a multiple of s**(level + 1). Each level is computed here a column
at a time over all its runs (the k-th addition of every run at once), so the cost is a few numpy passes."""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

_LEVELS = 8


def _runs(like: np.ndarray, rest: np.ndarray, flush: np.ndarray, rnd: Callable, sub: bool) -> tuple:
    """Sequential sums of rest over the runs flush ends: each run starts from +0 and adds (sub: subtracts) its
    elements in order. Returns the sums of the runs flush closes, and the open run's sum (0 when none is open)."""
    n = len(rest)
    seg = np.zeros(n, np.int64)
    if n > 1:
        seg[1:] = np.cumsum(flush[:-1])
    starts = np.flatnonzero(np.r_[True, seg[1:] != seg[:-1]]) if n else np.zeros(0, np.int64)
    pos = np.arange(n) - starts[seg] if n else seg
    acc = np.zeros(len(starts), like.dtype)
    order = np.argsort(pos, kind="stable")
    bounds = np.searchsorted(pos[order], np.arange(int(pos.max()) + 2 if n else 1))
    for k in range(len(bounds) - 1):
        i = order[bounds[k] : bounds[k + 1]]
        s = seg[i]
        acc[s] = rnd(acc[s] - rest[i] if sub else acc[s] + rest[i])
    closed = flush[starts + np.diff(np.r_[starts, n]) - 1] if n else np.zeros(0, bool)
    open_sum = acc[-1] if n and not closed[-1] else like.dtype.type(0)
    return acc[closed], open_sum


def nll_reduce(picked: np.ndarray, weights: np.ndarray | None, keep: np.ndarray, mean: bool,
               rnd: Callable = lambda a: a) -> np.ndarray:  # fmt: skip
    """The reduced loss, a 0-d array of picked's dtype: picked are the inputs at the targets (flat, in torch's
    order), weights the targets' weights (None: unweighted), keep marks targets that are not ignore_index; rnd
    rounds an array of picked's dtype to the dtype torch computes in (bfloat16 held in float32)."""
    n = len(picked)
    power = max(4, math.ceil(math.log2(n)) // _LEVELS if n > 1 else 0)
    b = np.flatnonzero(keep)
    loss = picked[b]
    if weights is not None:
        w = weights[b]
        loss = rnd(loss * w)
    zero = picked.dtype.type(0)
    loss_parts, weight_parts = [], []
    for j in range(_LEVELS):
        last = j == _LEVELS - 1  # (the top level is never added onward)
        flush = np.zeros(len(b), bool) if last else (b & (((1 << power) - 1) << (j * power))) == 0
        up, rest = _runs(picked, loss, flush, rnd, sub=j == 0)
        loss_parts.append(rest)
        if weights is not None:
            wup, wrest = _runs(picked, w, flush, rnd, sub=False)
            weight_parts.append(wrest)
            w = wup
        loss, b = up, b[flush]
    total = np.array(zero)
    for v in loss_parts:
        total = rnd(total + v)
    if not mean:
        return total
    if weights is None:
        tw = rnd(np.array(len(np.flatnonzero(keep)), picked.dtype))
    else:
        tw = np.array(zero)
        for v in weight_parts:
            tw = rnd(tw + v)
    with np.errstate(divide="ignore", invalid="ignore"):
        return rnd(total / tw)
