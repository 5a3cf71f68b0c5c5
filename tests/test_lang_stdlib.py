"""The standard library modules PyTorch scripts import around their model (time for timing a loop, typing for
hints, functools, itertools, string, statistics) and class attributes with annotations: what Python prints,
within the sandbox's limits."""

from __future__ import annotations

import pytest
from test_lang_torch import run_torch, run_tsr

PROGRAM = """
    import time
    import functools
    import itertools
    import string
    import statistics
    from typing import List, Optional, Tuple, Dict, Any, Callable, TypeVar, Union, cast
    from functools import reduce, partial, lru_cache
    import torch

    Batch = Tuple[torch.Tensor, torch.Tensor]
    T = TypeVar("T")


    def first(xs: List[T]) -> Optional[T]:
        return xs[0] if xs else None


    class Config:
        lr: float = 0.1
        layers: List[int] = [2, 3]
        name: str

        def show(self) -> str:
            return f"{self.lr} {self.layers}"


    t0 = time.time()
    p0 = time.perf_counter()
    print(first([3, 4]), cast(int, 5), reduce(lambda a, b: a * b, [1, 2, 3, 4]), reduce(lambda a, b: a + b, [], 0))
    print(partial(lambda a, b: a + b, 3)(4), list(itertools.product([1, 2], "ab")))
    print(list(itertools.permutations(range(3), 2)), list(itertools.chain([1], (2, 3))))
    print(list(itertools.islice(itertools.count(5), 3)), list(itertools.accumulate([1, 2])))
    print([(k, list(g)) for k, g in itertools.groupby("aabbc")], list(itertools.combinations("abc", 2)))
    print(list(itertools.zip_longest([1, 2], [3], fillvalue=0)), list(itertools.pairwise([1, 2, 3])))
    print(list(itertools.repeat(7, 2)), list(itertools.starmap(pow, [(2, 3)])))
    print(sorted([3, 1, 2], key=functools.cmp_to_key(lambda a, b: b - a)))


    @lru_cache(maxsize=None)
    def fib(n: int) -> int:
        return n if n < 2 else fib(n - 1) + fib(n - 2)


    print(fib(60), string.ascii_lowercase[:5], string.digits, statistics.mean([1, 2, 3, 4]))
    print(statistics.median([3, 1, 2]))
    print(round(statistics.stdev([1.0, 2.0, 4.0]), 6), statistics.mode([1, 1, 2]), statistics.variance([1, 2, 3, 4]))
    time.sleep(0.01)
    print(time.perf_counter() - p0 > 0.009, time.time() >= t0, type(time.monotonic()).__name__)
    print(Config().show(), hasattr(Config, "name"), Config.lr)
"""


def test_stdlib_modules_print_what_python_prints() -> None:
    status, out, err = run_tsr(PROGRAM)
    assert (status, err) == (0, "")
    assert out == run_torch(PROGRAM)


@pytest.mark.parametrize(
    ("src", "headline"),
    [
        ("import functools\nfunctools.partial(print, 1).func", "AttributeError: 'partial' object attribute 'func'"),
        ("import itertools\nitertools.chain.from_iterable", "AttributeError: type object 'chain' attribute"),
        ("import itertools\nlist(itertools.count())", "MemoryError: a sequence of 10,000,001 items"),
        ("import itertools\nitertools.product(range(10**4), range(10**8))", "MemoryError: a sequence of"),
        ("import functools\nfunctools.reduce(pow, [10] * 50)", "OverflowError: integer result would have"),
        ("import typing\ntyping.get_type_hints", "AttributeError: 'typing.get_type_hints' is not available"),
        ("from typing import NamedTuple", "ImportError: 'typing.NamedTuple' is not available in tsr"),
        ("import time\ntime.sleep(-1)", "ValueError: sleep length must be non-negative"),
        ("import time\ntime.sleep('1')", "TypeError: 'str' object cannot be interpreted as an integer"),
        ("import os", "ImportError: tsr cannot import 'os'"),
        ("import torch\nclass M(torch.nn.Module):\n    _parameters: dict = {}", "AttributeError: access to attribute"),
        ("class M:\n    __slots__: tuple = ()", "SyntaxError: class attribute '__slots__'"),
    ],
)
def test_stdlib_modules_keep_the_sandbox(src: str, headline: str) -> None:
    status, _, err = run_tsr(src + "\n")
    assert status == 1
    assert headline in err.splitlines()[0]


def test_time_sleep_is_interrupted_by_the_timeout() -> None:
    from tcli.policy import Limits

    status, _, err = run_tsr("import time\ntime.sleep(30)\n", limits=Limits(timeout=0.5))
    assert status == 1
    assert "TimeoutError" in err.splitlines()[0]
