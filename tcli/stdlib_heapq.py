"""The `heapq` and `bisect` facades: Python's C functions on a list the script holds (each step O(log n),
heapify O(n) on a list already within the limits), with any key function as Prelude.as_called hands it on.
nlargest, nsmallest and merge read their iterables as lists within the sequence limit first (nlargest(1, it)
is max(it) in C, which looped for ever over itertools.count()); a script's comparisons run as tsr code.
"""

from __future__ import annotations

import bisect
import heapq
from collections.abc import Callable
from typing import Any


def _passing(module: Any, name: str, p: Any) -> Callable:
    raw = getattr(module, name)

    def call(*args: Any, **kwargs: Any) -> Any:
        if "key" in kwargs and kwargs["key"] is not None:
            kwargs["key"] = p.as_called(kwargs["key"])
        return raw(*args, **kwargs)

    call.__name__ = call.__qualname__ = name
    call.__module__ = module.__name__
    return call


def make_heapq(p: Any) -> dict[str, Any]:
    out = {n: _passing(heapq, n, p) for n in ("heappush", "heappop", "heapify", "heappushpop", "heapreplace")}

    def chosen(name: str) -> Callable:
        raw = getattr(heapq, name)

        def call(n: Any, iterable: Any, key: Any = None) -> list:
            return raw(n, p.bounded_list(iterable), key=None if key is None else p.as_called(key))

        call.__name__ = call.__qualname__ = name
        return call

    def merge(*iterables: Any, key: Any = None, reverse: bool = False) -> Any:
        # (a list or tuple is read as it is, not copied: merge(*[a] * 200) of a 5M-item list made 200 copies, 7.7 GB)
        lists = [it if type(it) is list or type(it) is tuple else p.bounded_list(it) for it in iterables]
        return heapq.merge(*lists, key=None if key is None else p.as_called(key), reverse=reverse)

    out.update(nlargest=chosen("nlargest"), nsmallest=chosen("nsmallest"), merge=merge)
    return out


def make_bisect(p: Any) -> dict[str, Any]:
    return {n: _passing(bisect, n, p) for n in ("bisect", "bisect_left", "bisect_right", "insort", "insort_left",
                                                "insort_right")}  # fmt: skip
