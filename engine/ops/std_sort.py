"""The order torch's cpu sort leaves equal keys in, where callers depend on it (the sparse coalesce sums repeated
indices in that order): torch sorts a 1-d int64 tensor of fewer than 32768 elements with libstdc++'s std::sort
(introsort: median-of-three quicksort down to runs of 16, heapsort past its depth limit, one insertion sort
pass), which is not stable above 16 elements; at 32768 and more, with fbgemm's radix sort, which is."""

from __future__ import annotations

import math

import numpy as np


def sort_perm(keys: np.ndarray) -> np.ndarray:
    """The permutation `torch.sort(keys)` returns for a 1-d int64 array (stable=False)."""
    n = keys.shape[0]
    if n <= 16 or n >= 32768:
        return np.argsort(keys, kind="stable")
    return np.array(std_sort_perm(keys.tolist()), dtype=np.int64)


def std_sort_perm(keys: list) -> list:
    """The order libstdc++'s std::sort leaves (key, position) pairs in, compared by key only (torch's cpu sort of
    an int64 tensor below 32768 elements, stable=False): positions in sorted order."""
    a = list(zip(keys, range(len(keys))))
    n = len(a)
    if n < 2:
        return [p for _, p in a]

    def insertion(first: int, last: int) -> None:
        for i in range(first + 1, last):
            v = a[i]
            if v[0] < a[first][0]:
                a[first + 1 : i + 1] = a[first:i]
                a[first] = v
            else:
                j = i
                while v[0] < a[j - 1][0]:
                    a[j] = a[j - 1]
                    j -= 1
                a[j] = v

    def unguarded_insertion(first: int, last: int) -> None:
        for i in range(first, last):
            v = a[i]
            j = i
            while v[0] < a[j - 1][0]:
                a[j] = a[j - 1]
                j -= 1
            a[j] = v

    def move_median_to_first(result: int, x: int, y: int, z: int) -> None:
        ka, kb, kc = a[x][0], a[y][0], a[z][0]
        if ka < kb:
            if kb < kc:
                m = y
            elif ka < kc:
                m = z
            else:
                m = x
        elif ka < kc:
            m = x
        elif kb < kc:
            m = z
        else:
            m = y
        a[result], a[m] = a[m], a[result]

    def unguarded_partition(first: int, last: int, pivot: int) -> int:
        pk = a[pivot][0]
        while True:
            while a[first][0] < pk:
                first += 1
            last -= 1
            while pk < a[last][0]:
                last -= 1
            if not first < last:
                return first
            a[first], a[last] = a[last], a[first]
            first += 1

    def adjust_heap(first: int, hole: int, length: int, value: tuple) -> None:
        top = hole
        child = hole
        while child < (length - 1) // 2:
            child = 2 * (child + 1)
            if a[first + child][0] < a[first + child - 1][0]:
                child -= 1
            a[first + hole] = a[first + child]
            hole = child
        if (length & 1) == 0 and child == (length - 2) // 2:
            child = 2 * (child + 1)
            a[first + hole] = a[first + child - 1]
            hole = child - 1
        parent = (hole - 1) // 2
        while hole > top and a[first + parent][0] < value[0]:
            a[first + hole] = a[first + parent]
            hole = parent
            parent = (hole - 1) // 2
        a[first + hole] = value

    def heap_sort(first: int, last: int) -> None:  # std::__partial_sort(first, last, last): make_heap then sort_heap
        length = last - first
        if length >= 2:
            parent = (length - 2) // 2
            while True:
                adjust_heap(first, parent, length, a[first + parent])
                if parent == 0:
                    break
                parent -= 1
        while last - first > 1:
            last -= 1
            value = a[last]
            a[last] = a[first]
            adjust_heap(first, 0, last - first, value)

    def introsort(first: int, last: int, depth: int) -> None:
        while last - first > 16:
            if depth == 0:
                heap_sort(first, last)
                return
            depth -= 1
            mid = first + (last - first) // 2
            move_median_to_first(first, first + 1, mid, last - 1)
            cut = unguarded_partition(first + 1, last, first)
            introsort(cut, last, depth)
            last = cut

    introsort(0, n, 2 * int(math.floor(math.log2(n))))
    if n > 16:
        insertion(0, 16)
        unguarded_insertion(16, n)
    else:
        insertion(0, n)
    return [p for _, p in a]
