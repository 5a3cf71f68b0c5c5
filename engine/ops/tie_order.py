"""Which of equal values torch's cpu sort and topk put first. Their kernels run libstdc++'s std::sort (sort,
stable=False), std::partial_sort or std::nth_element (topk), none stable: the values come out sorted either
way, but the indices of equal values (and topk's order when sorted=False) are whatever those algorithms leave.
The vectorised stable order answers every row whose values fix the answer; the other rows are replayed here
with the same algorithms (engine/ops/std_algorithms.py), within a budget."""

from __future__ import annotations

import numpy as np

from engine.ops.std_algorithms import THRESHOLD, std_nth_element, std_partial_sort, std_sort

#: Elements replayed in Python per call (about a microsecond each). Rows past it keep the stable order among
#: equal values: the values are right; only the indices of ties may differ from torch's.
BUDGET = 1 << 16
#: torch sorts a 1-d integer tensor of this many elements or more, ascending, with fbgemm's radix sort, which is
#: stable: the stable order is torch's there.
_RADIX = 1 << 15


def _rows(a: np.ndarray, ax: int) -> np.ndarray:
    return np.moveaxis(a, ax, -1).reshape(-1, a.shape[ax])


def _back(rows: np.ndarray, like: np.ndarray, ax: int) -> np.ndarray:
    moved = np.moveaxis(like, ax, -1).shape[:-1] + (rows.shape[1],)
    return np.moveaxis(rows.reshape(moved), -1, ax)


def _tied(ordered: np.ndarray, width: int) -> np.ndarray:
    """Rows of values (in sorted order) with two equal neighbours among their first `width` + 1."""
    head = ordered[:, : width + 1]
    eq = head[:, 1:] == head[:, :-1]
    if head.dtype.kind == "f":
        eq |= np.isnan(head[:, 1:]) & np.isnan(head[:, :-1])
    return eq.any(axis=1)


def _keys(row: np.ndarray, descending: bool) -> list[int]:
    """The row as integer ranks compared with plain <, as torch's comparators compare the values: equal values
    equal, nan above everything (first when descending)."""
    ranks = np.unique(row, return_inverse=True)[1].reshape(-1)  # (nans collapse into the top rank)
    return (-ranks if descending else ranks).tolist()


def _less(keys: list[int]):  # noqa: ANN202
    def lt(i: int, j: int) -> bool:
        return keys[i] < keys[j]

    return lt


def sort_order(d: np.ndarray, idx: np.ndarray, ax: int, descending: bool) -> np.ndarray:
    """`idx` (the stable order of `d` along `ax`) with every row that has ties reordered as std::sort leaves
    it. Rows of up to 16 need nothing: std::sort sorts them by insertion, which is stable."""
    n = d.shape[ax]
    if n <= THRESHOLD or n > BUDGET or d.size == 0:
        return idx
    if d.ndim == 1 and d.dtype.kind in "iu" and not descending and n >= _RADIX:
        return idx
    values, order = _rows(d, ax), _rows(idx, ax)
    tied = np.flatnonzero(_tied(np.take_along_axis(values, order, axis=1), n))[: BUDGET // n]
    if tied.size == 0:
        return idx
    order = order.copy()
    for r in tied.tolist():
        perm = list(range(n))
        std_sort(perm, _less(_keys(values[r], descending)))
        order[r] = perm
    return _back(order, idx, ax)


def topk_order(d: np.ndarray, stable: np.ndarray, k: int, ax: int, largest: bool, sorted_: bool) -> np.ndarray:
    """The first k of `stable` (the stable order of `d` along `ax`, largest first when `largest`), with the rows
    whose ties reach the top k (or, with sorted=False, every row that std::nth_element leaves unsorted) replayed
    as torch's topk_impl_loop runs them."""
    n = d.shape[ax]
    top = np.take(stable, np.arange(k), axis=ax)
    if k == 0 or n > BUDGET or d.size == 0:
        return top
    partial = k * 64 <= n
    values, order = _rows(d, ax), _rows(stable, ax)
    if sorted_ or partial:
        rows = np.flatnonzero(_tied(np.take_along_axis(values, order, axis=1), k))
    else:
        rows = np.arange(values.shape[0])
    rows = rows[: BUDGET // n]
    if rows.size == 0:
        return top
    out = _rows(top, ax).copy()
    for r in rows.tolist():
        perm = list(range(n))
        lt = _less(_keys(values[r], largest))
        if partial:
            std_partial_sort(perm, k, lt)
        else:
            std_nth_element(perm, k - 1, lt)
            if sorted_:
                std_sort(perm, lt, k - 1)
        out[r] = perm[:k]
    return _back(out, top, ax)
