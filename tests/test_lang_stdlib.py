"""The standard library modules PyTorch scripts import around their model (time for timing a loop, typing for
hints, functools, itertools, string, statistics) and class attributes with annotations: what Python prints,
within the sandbox's limits."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from test_lang_torch import run_torch, run_tsr
from test_tutorial import tcli_command

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
        ("import itertools\nitertools.chain.mro", "AttributeError: type object 'chain' attribute"),
        ("import itertools\nlist(itertools.count())", "MemoryError: a sequence of 10,000,001 items"),
        ("import itertools\nitertools.product(range(10**4), range(10**8))", "MemoryError: a sequence of"),
        ("import functools\nfunctools.reduce(pow, [10] * 50)", "OverflowError: integer result would have"),
        ("import typing\ntyping.get_type_hints", "AttributeError: 'typing.get_type_hints' is not available"),
        ("from typing import NamedTuple", "ImportError: 'typing.NamedTuple' is not available in tsr"),
        ("import time\ntime.sleep(-1)", "ValueError: sleep length must be non-negative"),
        ("import time\ntime.sleep('1')", "TypeError: 'str' object cannot be interpreted as an integer"),
        ("import os", "ModuleNotFoundError: tsr cannot import 'os'"),
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


DATACLASSES = """
    from dataclasses import dataclass, field, asdict, astuple, is_dataclass
    import dataclasses
    import torch


    @dataclass
    class GPTConfig:
        block_size: int = 1024
        vocab_size: int = 50304
        n_layer: int = 12
        dropout: float = 0.0
        bias: bool = True


    @dataclass
    class Point:
        x: float
        y: float = 0.0
        tags: list = field(default_factory=list)

        def norm(self):
            return (self.x ** 2 + self.y ** 2) ** 0.5


    @dataclass
    class Point3(Point):
        z: float = 1.0

        def __post_init__(self):
            self.sum = self.x + self.y + self.z


    @dataclass(repr=False)
    class Quiet:
        a: int = 1


    @dataclass()
    class WithTensor:
        w: torch.Tensor
        name: str = "w"


    cfg = GPTConfig(n_layer=6)
    print(cfg, cfg.block_size, GPTConfig.vocab_size)
    p = Point(3, 4)
    print(p, p.norm(), p == Point(3, 4), p == Point(3, 5), p != Point(1), Point(1, tags=[1]))
    q = Point3(1, 2)
    print(q, q.sum, asdict(q), astuple(p), is_dataclass(p), is_dataclass(Point), is_dataclass(1))
    print(str(Quiet()).startswith("<__main__.Quiet object at"), WithTensor(torch.ones(2)))
    print(asdict(WithTensor(torch.zeros(1), "z")), dataclasses.asdict(cfg)["dropout"])
    bad_calls = [
        lambda: Point(),
        lambda: Point(1, 2, [], 4),
        lambda: Point(1, x=2),
        lambda: Point(1, w=2),
        lambda: hash(Point(1)),
    ]
    for bad in bad_calls:
        try:
            bad()
        except TypeError as e:
            print(type(e).__name__, e)
    try:
        @dataclass
        class Bad:
            a: int = 1
            b: int
    except TypeError as e:
        print("TypeError", e)
    try:
        @dataclass
        class Bad2:
            a: list = []
    except ValueError as e:
        print("ValueError", e)
"""


def test_dataclasses_as_python() -> None:
    """nanoGPT's GPTConfig and the other uses of @dataclass: __init__, __repr__, __eq__, defaults, field's
    default_factory, inheritance, __post_init__, asdict/astuple, and Python's errors."""
    status, out, err = run_tsr(DATACLASSES)
    assert (status, err) == (0, "")
    assert out == run_torch(DATACLASSES)


@pytest.mark.parametrize(
    ("src", "headline"),
    [
        (
            "from dataclasses import dataclass\n@dataclass(frozen=True)\nclass A:\n    x: int = 1",
            "TypeError: tsr's @dataclass",
        ),
        ("from dataclasses import dataclass\n@dataclass\nclass A:\n    _x: int = 1", "TypeError: dataclass field '_x'"),
        ("from dataclasses import dataclass\ndataclass(int)", "TypeError: @dataclass in tsr applies to a class"),
        ("from dataclasses import field\nfield(default=1, default_factory=list)", "ValueError: cannot specify both"),
        ("import dataclasses\ndataclasses.fields", "AttributeError: module 'dataclasses' has no attribute 'fields'"),
    ],
)
def test_dataclasses_errors(src: str, headline: str) -> None:
    status, _, err = run_tsr(src + "\n")
    assert status == 1
    assert headline in err.splitlines()[0]


SYS_PROGRAM = """
import sys
print("args", sys.argv[1:], sys.maxsize, sys.platform, sys.version_info >= (3, 8))
print("to err", file=sys.stderr)
sys.stdout.write("written\\n")
sys.stderr.write("err written\\n")
sys.stdout.flush()


def main():
    print("in main")
    return 4


if __name__ == "__main__":
    try:
        sys.exit(main())
    finally:
        print("finally")
print("not reached")
"""


def test_sys_argv_streams_and_exit_as_python(tmp_path: Path) -> None:
    script = tmp_path / "prog.tsr"
    script.write_text(SYS_PROGRAM)
    ref = subprocess.run([sys.executable, str(script), "a", "b"], capture_output=True, text=True)
    got = subprocess.run([*tcli_command(), "run", str(script), "a", "b"], capture_output=True, text=True)
    assert (got.returncode, got.stdout, got.stderr) == (ref.returncode, ref.stdout, ref.stderr)
    assert got.returncode == 4 and got.stdout.endswith("in main\nfinally\n")


@pytest.mark.parametrize(
    ("code", "status", "stderr"),
    [("sys.exit()", 0, ""), ("sys.exit(0)", 0, ""), ("sys.exit('bye')", 1, "bye\n"), ("sys.exit(True)", 1, "")],
)
def test_sys_exit_statuses(code: str, status: int, stderr: str) -> None:
    st, out, err = run_tsr(f"import sys\nprint('before')\n{code}\nprint('after')\n")
    assert (st, out, err) == (status, "before\n", stderr)


def test_sys_exit_ends_the_repl_with_its_status() -> None:
    p = subprocess.run(
        [*tcli_command(), "repl"], input="import sys\nprint(1)\nsys.exit(5)\nprint(2)\n", capture_output=True, text=True
    )
    assert (p.returncode, p.stdout) == (5, "1\n")


@pytest.mark.parametrize(
    ("src", "headline"),
    [
        ("import sys\nsys.modules", "AttributeError: 'sys.modules' is not available in tsr"),
        ("import sys\nsys._getframe()", "AttributeError: access to attribute '_getframe'"),
        ("import sys\nsys.stdout.buffer", "AttributeError: 'sys.stdout' in tsr has write() and flush() only"),
        ("import sys\nsys.stdout.write(1)", "TypeError: write() argument must be str, not int"),
        ("print(1, file=open)", "NameError"),
        ("print(1, file=[])", "TypeError: print(file=...) in tsr writes to sys.stdout or sys.stderr"),
    ],
)
def test_sys_keeps_the_sandbox(src: str, headline: str) -> None:
    status, _, err = run_tsr(src + "\n")
    assert status == 1
    assert headline in err.splitlines()[0]


def test_help_names_modules_and_sys_exit() -> None:
    status, out, err = run_tsr("import sys\nimport torch\nhelp(sys)\nhelp(torch.nn)\nhelp(sys.exit)\n")
    assert (status, err) == (0, "")
    assert out.splitlines() == [
        "module 'sys' (tsr(5), IMPORTS, lists what tsr has of it); help() takes its functions one by one",
        "module 'torch.nn' (tsr(5), IMPORTS, lists what tsr has of it); help() takes its functions one by one",
        "exit: a function with no help in tcli (see its documentation)",
    ]
