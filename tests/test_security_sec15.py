"""Security review sec15 of the features added on one day: plain classes and their special methods, class
decorators and @dataclass, the sys/time/typing/functools/itertools/string/statistics facades, numpy's compute
functions, help() and Tensor.apply_. Each hole found has a test that failed before its fix; the rest document
routes that were tried and found closed (the catalogue goes on from tests/test_security.py)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.test_security import refused, run

SEQ_LIMIT = "over the tsr limit of 10,000,000"

# -- a collection class called from C code: an endless loop in C, past --timeout and Ctrl-C --------------------
# set/dict/Counter of an endless iterator that repeats one item never grows, so nothing but the sequence limit
# can stop it; called by the interpreter they go through their checked constructors (call_guards), but map,
# functools.partial, a sort key or a typing alias called the raw class from C, where no signal is handled.

C_LOOPS = [
    "next(map(set, [itertools.repeat(1)]))",
    "next(map(set, [map(bool, range(10 ** 18))]))",  # (no itertools: open before the facades came)
    "next(filter(frozenset, [itertools.repeat(1)]))",
    "next(next(map(map, [set], [[itertools.repeat(1)]])))",
    "functools.partial(set, itertools.repeat(1))()",
    "functools.partial(functools.partial, set)(itertools.repeat(1))()",
    "functools.reduce(collections.defaultdict, [None, itertools.repeat((1, 1))])",
    "functools.cache(set)(itertools.repeat(1))",
    "functools.lru_cache(set)(itertools.repeat(1))",
    "functools.lru_cache(maxsize=None)(set)(itertools.repeat(1))",
    "next(itertools.starmap(set, [[itertools.repeat(1)]]))",
    "next(itertools.dropwhile(set, [itertools.repeat(1)]))",
    "next(itertools.groupby([itertools.repeat(1)], key=set))",
    "sorted([itertools.repeat(1), 2], key=set)",
    "max([itertools.repeat(1), 2], key=frozenset)",
    "[itertools.repeat(1)].sort(key=set)",
    "collections.Counter().update(itertools.repeat(1))",
    "d = {}\nd |= itertools.repeat((1, 1))",
    "statistics.mode(itertools.repeat(1))",
    "statistics.median(itertools.count())",
]


@pytest.mark.parametrize("src", C_LOOPS)
def test_collection_classes_called_from_c_stop_at_the_sequence_limit(src: str) -> None:
    head = "import itertools\nimport functools\nimport collections\nimport statistics\n"
    assert SEQ_LIMIT in refused(head + src, "MemoryError", timeout=20.0)


@pytest.mark.parametrize(
    "src",
    ["typing.Counter[int](itertools.repeat(1))", "typing.Counter(itertools.repeat(1))",
     "typing.DefaultDict[int, int](int, itertools.repeat((1, 1)))", "typing.OrderedDict[int, int]()"],
)  # fmt: skip
def test_typing_aliases_of_collections_cannot_be_called(src: str) -> None:
    msg = refused("import typing\nimport itertools\n" + src, "TypeError")
    assert "cannot be instantiated" in msg


def test_an_endless_c_loop_no_longer_outlives_the_timeout() -> None:
    code = "import itertools\nnext(map(set, [itertools.repeat(1)]))"
    p = subprocess.run(
        [sys.executable, "-m", "tcli", "run", "--timeout", "5", "-c", code], capture_output=True, text=True, timeout=60
    )
    assert p.returncode == 1 and "MemoryError" in p.stderr and "Traceback" not in p.stderr


def test_the_checked_callers_behave_as_pythons() -> None:
    status, out, err = run(
        """
        import functools
        import itertools
        import collections
        import statistics
        import typing
        p = functools.partial(list, [1])
        print(p, p(), functools.partial(print, 1, sep="-"), isinstance(p, functools.partial))
        print(list(map(list, [(1, 2)])), list(filter(None, [0, 1])), sorted(["b", "a"], key=str))
        print(functools.reduce(lambda a, b: a + b, range(5), 0), functools.reduce(max, [3, 9, 2]))
        print(list(itertools.starmap(pow, [(2, 3)])), [k for k, g in itertools.groupby("aab")])
        print(list(itertools.accumulate([1, 2, 3])), list(itertools.accumulate([1, 2], func=max, initial=5)))
        print(sorted([3, 1, 2], key=functools.cmp_to_key(lambda a, b: b - a)))
        @functools.lru_cache(maxsize=None)
        def fib(n):
            return n if n < 2 else fib(n - 1) + fib(n - 2)
        @functools.cache
        def sq(n):
            return n * n
        @functools.lru_cache
        def cube(n):
            return n ** 3
        print(fib(30), sq(4), cube(3), type(map(str, [])), isinstance(map(str, []), map))
        c = collections.Counter("abca")
        c.update("aa")
        c.update({"z": 3})
        print(c)
        l = [3, 1, 2]
        l.sort(reverse=True)
        l.sort(key=lambda x: -x)
        d = {1: 2}
        d |= [(3, 4)]
        d |= {5: 6}
        print(l, max([1, 3], key=str), min("ab", "c", key=len), d)
        print(statistics.mean([1, 2, 3]), statistics.median(x for x in [3, 1, 2]), statistics.mode("aab"))
        print(statistics.stdev([1.0, 2.0, 4.0]), statistics.fmean([1, 2], [1, 3]), statistics.variance([1, 2, 3], 2))
        print(statistics.median, typing.Counter[int], typing.DefaultDict[str, int], typing.OrderedDict[str, int])
        """
    )
    assert (status, err) == (0, "")
    assert out == (
        "functools.partial(<class 'list'>, [1]) [1] functools.partial(<built-in function print>, 1, sep='-') True\n"
        "[[1, 2]] [1] ['a', 'b']\n10 9\n[8] ['a', 'b']\n[1, 3, 6] [5, 5, 5]\n[3, 2, 1]\n"
        "832040 16 27 <class 'map'> True\nCounter({'a': 4, 'z': 3, 'b': 1, 'c': 1})\n"
        "[3, 2, 1] 3 c {1: 2, 3: 4, 5: 6}\n2 2 a\n1.5275252316519468 1.75 1\n"
        + out.splitlines()[-1].split(" typing")[0]
        + " typing.Counter[int] typing.DefaultDict[str, int] typing.OrderedDict[str, int]\n"
    )
    assert out.splitlines()[-1].startswith("<function median at 0x")
    refused("import statistics\nstatistics.mean([])", "StatisticsError")


# -- script code in a generator Python collects after the run (the REPL's :reset, a session dropped) ------------
# TsrGenerator.__del__ closes a dropped generator only while a run is live, but the Python generator inside it
# was then closed by Python itself as it was freed, running the script's except clauses and finally blocks with
# no --timeout: `finally: while True: pass` hung :reset for ever, and sys.exit there printed a Python traceback.

LATE_CODE = [
    "    finally:\n        while True:\n            pass\n",
    "    except BaseException:\n        while True:\n            pass\n",
    "    finally:\n        sys.exit(3)\n",
    "    finally:\n        print('late')\n",
]


@pytest.mark.parametrize("tail", LATE_CODE)
def test_a_generator_collected_after_the_run_runs_no_script_code(tail: str) -> None:
    driver = (
        "import io, sys\n"
        "from tcli import policy\n"
        "from tcli.session import Session\n"
        "out, err = io.StringIO(), io.StringIO()\n"
        "s = Session(stdout=out, stderr=err, color=False, limits=policy.Limits(timeout=2.0))\n"
        f"src = 'import sys\\ndef g():\\n    try:\\n        yield 1\\n' + {tail!r} + 'x = g()\\nnext(x)\\n'\n"
        "print(s.run_source(src, '<t>'), repr(out.getvalue()), repr(err.getvalue()))\n"
        "s.reset()\n"
        "print('reset', repr(out.getvalue()), repr(err.getvalue()))\n"
    )
    p = subprocess.run([sys.executable, "-c", driver], capture_output=True, text=True, timeout=60)
    assert (p.returncode, p.stdout, p.stderr) == (0, "0 '' ''\nreset '' ''\n", "")


def test_a_generator_dropped_during_the_run_still_runs_its_finally() -> None:
    status, out, err = run(
        "def g():\n    try:\n        yield 1\n    finally:\n        print('closed')\n"
        "x = g()\nnext(x)\ndel x\nprint('after')\n"
        "def h():\n    try:\n        yield 1\n    finally:\n        print('exit seen')\n"
        "y = h()\nnext(y)\ny.close()\n"
    )
    assert (status, out, err) == (0, "closed\nafter\nexit seen\n", "")


# -- routes tried and found closed (the catalogue) ------------------------------------------------------------

CLOSED = [
    # the wrappers' and typing objects' insides stay out of reach
    ("import functools\nfunctools.partial(print, 1).func", "AttributeError"),
    ("import functools\nfunctools.lru_cache(maxsize=None)(print).__wrapped__", "AttributeError"),
    ("import functools\nfunctools.lru_cache(maxsize=None)(print).cache_info()", "AttributeError"),
    ("import functools\nfunctools.cmp_to_key(lambda a, b: 0)(1).obj", "AttributeError"),
    ("import functools\np = functools.partial(print)\ntype(p)(print, 1)", "TypeError"),
    ("import functools\ntype(functools.cmp_to_key(lambda a, b: 0))(print)", "TypeError"),
    ("import typing\ntyping.List[int].__origin__", "AttributeError"),
    ("import typing\ntyping.List[int].copy_with", "AttributeError"),
    ("import typing\ntyping.get_type_hints", "AttributeError"),
    ("import typing\ntyping.Type[int]('X', (), {})", "TypeError"),
    ("import typing\ntyping.Dict[str, int]()", "TypeError"),
    ("import dataclasses\ndataclasses.field(default=1).default", "AttributeError"),
    ("import dataclasses\ntype(dataclasses.field(default=1))(1, 2, 3)", "TypeError"),
    ("import dataclasses\ntype(dataclasses.MISSING)()", "TypeError"),
    ("import dataclasses\ndataclasses.fields", "AttributeError"),
    ("from dataclasses import dataclass\n@dataclass(frozen=True)\nclass A:\n    x: int = 1", "TypeError"),
    ("from dataclasses import dataclass\n@dataclass\nclass A:\n    _data: int = 1", "AttributeError"),
    ("from dataclasses import dataclass, field\n@dataclass\nclass A:\n"
     "    x: int = field(default_factory=lambda: 10 ** 10 ** 10)\nA()", "OverflowError"),
    # the sys facade
    ("import sys\nsys.modules", "AttributeError"),
    ("import sys\nsys.stdout.buffer", "AttributeError"),
    ("import sys\nsys._getframe", "AttributeError"),
    ("import sys\nsys.stderr.write(1)", "TypeError"),
    ("import string\nstring.Formatter", "AttributeError"),
    # plain classes: no dunder of Python's own, no special method that reaches the machinery
    ("class A:\n    pass\nA().__dict__", "AttributeError"),
    ("class A:\n    def __getattr__(self, n):\n        return 1", "SyntaxError"),
    ("class A:\n    def __del__(self):\n        pass", "SyntaxError"),
    ("class A:\n    def __index__(self):\n        return 1", "SyntaxError"),
    ("class S(str):\n    pass", "TypeError"),
    ("class B:\n    def __bool__(self):\n        return 2\nif B():\n    pass", "TypeError"),
    ("class L:\n    def __len__(self):\n        return 10 ** 30\nlen(L())", "OverflowError"),
    # a script's __eq__/__hash__ cannot pass for a name in a check
    ("class N:\n    def __eq__(self, o):\n        return True\n    def __hash__(self):\n"
     "        return hash('__class__')\ngetattr(1, N())", "TypeError"),
    ("class N:\n    def __eq__(self, o):\n        return True\n    def __hash__(self):\n        return hash('_data')\n"
     "import torch\nsetattr(torch.nn.Module(), N(), torch.ones(1))", "TypeError"),
    # numpy's compute functions: sizes checked, no object arrays, no script objects, no ufunc methods
    ("import numpy as np\nnp.add(np.ones((10 ** 5, 1)), np.ones((1, 10 ** 5)))", "MemoryError"),
    ("import numpy as np\nclass W:\n    def __radd__(self, o):\n        return 1\nnp.add(W(), 1)", "TypeError"),
    ("import numpy as np\nnp.add.reduce", "AttributeError"),
    ("import numpy as np\nnp.add(np.ones(2), 1, dtype='O')", "TypeError"),
    # Tensor.apply_: torch's conversions
    ("import torch\ntorch.ones(2).apply_(lambda x: 10 ** 400)", "OverflowError"),
    ("import torch\ntorch.ones(2).apply_(lambda x: 'a')", "TypeError"),
]  # fmt: skip


@pytest.mark.parametrize(("src", "error"), CLOSED)
def test_sec15_routes_are_closed(src: str, error: str) -> None:
    refused(src, error)


def test_script_code_in_dunders_keeps_its_limits_and_exit_status() -> None:
    # a __repr__ looping in an error message is stopped by --timeout; sys.exit in a hook, a __post_init__ or a
    # __hash__ the engine calls ends the run with its status and prints nothing of Python's
    msg = refused("class R:\n    def __repr__(self):\n        while True:\n            pass\nraise ValueError(R())",
                  "TimeoutError", timeout=1.0)  # fmt: skip
    assert "time limit" in msg
    for src, code in [
        ("import sys\nimport torch\nx = torch.ones(2, requires_grad=True)\nx.register_hook(lambda g: sys.exit(5))\n"
         "x.sum().backward()", 5),
        ("import sys\nfrom dataclasses import dataclass\n@dataclass\nclass A:\n    x: int = 1\n"
         "    def __post_init__(self):\n        sys.exit(7)\nA()", 7),
        ("import sys\nclass K:\n    def __hash__(self):\n        sys.exit(2)\nimport torch\n"
         "torch.nn.ModuleDict({'a': torch.nn.Linear(1, 1)})[K()]", 2),
        ("import sys\nimport torch\ntorch.ones(2).apply_(lambda v: sys.exit(6))", 6),
    ]:  # fmt: skip
        assert run(src) == (code, "", "")
    assert run("import time\ntime.sleep(10 ** 10)", timeout=0.5)[0] == 1
