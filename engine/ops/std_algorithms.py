"""libstdc++'s std::sort, std::partial_sort and std::nth_element (bits/stl_algo.h, bits/stl_heap.h), replayed
over a Python list with a strict "less" `lt`. torch's cpu kernels (sort, topk, mode, nanmedian) order equal and
nan elements wherever these algorithms leave them; the index arithmetic here mirrors the C++ comparison for
comparison, so a replayed row ends exactly as torch's does. Host only, one row at a time: callers replay just
the rows whose answer the values alone do not fix."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

THRESHOLD = 16  # libstdc++'s _S_threshold


def _move_median_to_first(a: list, result: int, i: int, j: int, k: int, lt: Callable) -> None:
    if lt(a[i], a[j]):
        m = j if lt(a[j], a[k]) else k if lt(a[i], a[k]) else i
    elif lt(a[i], a[k]):
        m = i
    elif lt(a[j], a[k]):
        m = k
    else:
        m = j
    a[result], a[m] = a[m], a[result]


def _unguarded_partition(a: list, first: int, last: int, pivot: int, lt: Callable) -> int:
    while True:
        while lt(a[first], a[pivot]):
            first += 1
        last -= 1
        while lt(a[pivot], a[last]):
            last -= 1
        if not first < last:
            return first
        a[first], a[last] = a[last], a[first]
        first += 1


def _partition_pivot(a: list, first: int, last: int, lt: Callable) -> int:
    mid = first + (last - first) // 2
    _move_median_to_first(a, first, first + 1, mid, last - 1, lt)
    return _unguarded_partition(a, first + 1, last, first, lt)


def _linear_insert(a: list, last: int, lt: Callable) -> None:
    val = a[last]
    nxt = last - 1
    # (libstdc++ relies on a smaller element ahead; the bound only keeps a broken order from wrapping around)
    while nxt >= 0 and lt(val, a[nxt]):
        a[last] = a[nxt]
        last = nxt
        nxt -= 1
    a[last] = val


def _insertion_sort(a: list, first: int, last: int, lt: Callable) -> None:
    for i in range(first + 1, last):
        if lt(a[i], a[first]):
            val = a[i]
            a[first + 1 : i + 1] = a[first:i]
            a[first] = val
        else:
            _linear_insert(a, i, lt)


def _adjust_heap(a: list, first: int, hole: int, n: int, value: Any, lt: Callable) -> None:
    top = hole
    child = hole
    while child < (n - 1) // 2:
        child = 2 * (child + 1)
        if lt(a[first + child], a[first + child - 1]):
            child -= 1
        a[first + hole] = a[first + child]
        hole = child
    if n % 2 == 0 and child == (n - 2) // 2:
        child = 2 * (child + 1)
        a[first + hole] = a[first + child - 1]
        hole = child - 1
    parent = (hole - 1) // 2
    while hole > top and lt(a[first + parent], value):
        a[first + hole] = a[first + parent]
        hole = parent
        parent = (hole - 1) // 2
    a[first + hole] = value


def _heap_select(a: list, first: int, middle: int, last: int, lt: Callable) -> None:
    n = middle - first
    if n >= 2:  # make_heap
        parent = (n - 2) // 2
        while True:
            _adjust_heap(a, first, parent, n, a[first + parent], lt)
            if parent == 0:
                break
            parent -= 1
    for i in range(middle, last):
        if lt(a[i], a[first]):  # pop_heap into i
            value = a[i]
            a[i] = a[first]
            _adjust_heap(a, first, 0, n, value, lt)


def _sort_heap(a: list, first: int, last: int, lt: Callable) -> None:
    while last - first > 1:
        last -= 1
        value = a[last]
        a[last] = a[first]
        _adjust_heap(a, first, 0, last - first, value, lt)


def _introsort_loop(a: list, first: int, last: int, depth: int, lt: Callable) -> None:
    while last - first > THRESHOLD:
        if depth == 0:  # partial_sort(first, last, last): heapsort
            _heap_select(a, first, last, last, lt)
            _sort_heap(a, first, last, lt)
            return
        depth -= 1
        cut = _partition_pivot(a, first, last, lt)
        _introsort_loop(a, cut, last, depth, lt)
        last = cut


def std_sort(a: list, lt: Callable, last: int | None = None) -> None:
    """libstdc++'s std::sort(a.begin(), a.begin() + last, lt), in place (the whole list by default)."""
    n = len(a) if last is None else last
    if n < 2:
        return
    _introsort_loop(a, 0, n, 2 * (n.bit_length() - 1), lt)
    if n > THRESHOLD:
        _insertion_sort(a, 0, THRESHOLD, lt)
        for i in range(THRESHOLD, n):
            _linear_insert(a, i, lt)
    else:
        _insertion_sort(a, 0, n, lt)


def std_nth_element(a: list, nth: int, lt: Callable) -> None:
    """libstdc++'s std::nth_element(a.begin(), a.begin() + nth, a.end(), lt), in place."""
    first, last = 0, len(a)
    if first == last or nth == last:
        return
    depth = 2 * ((last - first).bit_length() - 1)
    while last - first > 3:
        if depth == 0:
            _heap_select(a, first, nth + 1, last, lt)
            a[first], a[nth] = a[nth], a[first]
            return
        depth -= 1
        cut = _partition_pivot(a, first, last, lt)
        if cut <= nth:
            first = cut
        else:
            last = cut
    _insertion_sort(a, first, last, lt)


def std_partial_sort(a: list, middle: int, lt: Callable) -> None:
    """libstdc++'s std::partial_sort(a.begin(), a.begin() + middle, a.end(), lt), in place."""
    _heap_select(a, 0, middle, len(a), lt)
    _sort_heap(a, 0, middle, lt)
