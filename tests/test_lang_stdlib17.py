"""tsr's operator, heapq, bisect, contextlib, abc, enum, json and pprint facades: output as CPython prints it,
misuse failing with CPython's error, and the sandbox's limits (tcli/stdlib_*.py)."""

from __future__ import annotations

import contextlib
import io
import textwrap

import pytest
from test_lang_torch import run_tsr

ENUM_ABC_CONTEXTLIB = """
from enum import Enum, IntEnum, auto, unique
from abc import ABC, abstractmethod
from contextlib import contextmanager, nullcontext, suppress

class Mode(Enum):
    TRAIN = 1
    EVAL = 2
    def describe(self):
        return f"{self.name.lower()}={self.value}"

class Planet(Enum):
    EARTH = (5.97e24, 6.37e6)
    MARS = (6.42e23, 3.39e6)
    def __init__(self, mass, radius):
        self.mass = mass
        self.radius = radius

class P(IntEnum):
    A = auto()
    B = auto()

print(Mode.TRAIN, repr(Mode.EVAL), Mode.TRAIN.name, Mode.TRAIN.value, Mode(2), Mode["EVAL"], list(Mode), len(Mode))
print([m.describe() for m in Mode], Mode.TRAIN == Mode.TRAIN, Mode.TRAIN is Mode(1), Mode.TRAIN in Mode)
print(Planet.EARTH.mass, Planet.MARS.value, P.A + 1, P.B, repr(P.B), f"{P.A:>3}|{Mode.EVAL}",
    isinstance(P.A, int), type(Mode.TRAIN))
print({Mode.TRAIN: "t"}[Mode.TRAIN], sorted([P.B, P.A]), Mode, P.A == 1)
for bad in ["Mode(7)", "Mode['X']"]:
    pass
try:
    Mode(7)
except ValueError as e:
    print("ValueError", e)
try:
    Mode["X"]
except KeyError as e:
    print("KeyError", e)
try:
    Mode.TRAIN = 3
except AttributeError as e:
    print("AttributeError", e)

class Layer(ABC):
    @abstractmethod
    def forward(self, x):
        pass
    def __call__(self, x):
        return self.forward(x)

class Double(Layer):
    def forward(self, x):
        return 2 * x

print(Double()(4), isinstance(Double(), Layer))
try:
    Layer()
except TypeError as e:
    print("TypeError", e)

@contextmanager
def timer(name):
    print("enter", name)
    try:
        yield name.upper()
    finally:
        print("exit", name)

with timer("a") as t:
    print("body", t)
try:
    with timer("b"):
        raise ValueError("boom")
except ValueError as e:
    print("caught", e)

@contextmanager
def swallow():
    try:
        yield
    except KeyError:
        print("swallowed")

with swallow():
    {}["k"]
with nullcontext(5) as v:
    print(v)
with suppress(ZeroDivisionError):
    1 / 0
print("done")
"""

OPERATOR_HEAPQ_JSON_PPRINT = """
import operator, heapq, bisect, json, pprint
from functools import reduce
from operator import itemgetter, attrgetter, methodcaller

print(reduce(operator.mul, [1, 2, 3, 4]), reduce(operator.add, ["a", "b"]), operator.neg(3), operator.truth(0))
pairs = [("b", 2), ("a", 3), ("c", 1)]
print(sorted(pairs, key=itemgetter(1)), sorted(pairs, key=operator.itemgetter(0, 1)), itemgetter(1, 0)(pairs[0]))
class Pt:
    def __init__(self, x, y):
        self.x = x
        self.y = y
    def __repr__(self):
        return f"Pt({self.x}, {self.y})"
pts = [Pt(2, 1), Pt(1, 5)]
print(sorted(pts, key=attrgetter("x")), attrgetter("x", "y")(pts[0]), methodcaller("upper")("abc"),
    methodcaller("split", ",")("a,b"))
print(repr(itemgetter(1)), repr(attrgetter("x")), repr(methodcaller("split", ",", maxsplit=1)),
    operator.contains([1, 2], 2), operator.getitem([1, 2], -1))
h = []
for v in [5, 1, 4, 2]:
    heapq.heappush(h, v)
print(h, heapq.heappop(h), heapq.nlargest(2, [3, 9, 1]), heapq.nsmallest(2, pairs,
    key=lambda t: t[1]), list(heapq.merge([1, 4], [2, 3])))
xs = [3, 1, 2]
heapq.heapify(xs)
print(xs, heapq.heappushpop(xs, 0), heapq.heapreplace(xs, 7), xs)
a = [1, 3, 5]
bisect.insort(a, 4)
print(a, bisect.bisect_left(a, 3), bisect.bisect(a, 3), bisect.bisect_right(a, 10),
    bisect.bisect_left(pairs, 2, key=itemgetter(1)))
metrics = {"loss": 0.25, "acc": 0.9, "epochs": [1, 2], "ok": True, "none": None, "name": "résumé", 3: "k"}
s = json.dumps(metrics, indent=2)
print(s)
print(json.dumps(metrics), json.dumps(metrics, sort_keys=False, separators=(",", ":"), ensure_ascii=False))
print(json.loads(s) == {str(k): v for k, v in metrics.items()}, json.loads('{"a": [1, 2.5, null]}'))
print(json.dumps((1, 2)), json.dumps(float("nan")), json.dumps({"a": {1, 2}}, default=sorted))
try:
    json.loads("{bad")
except json.JSONDecodeError as e:
    print("decode", e)
try:
    json.dumps({"t": Pt(1, 2)})
except TypeError as e:
    print("TypeError", e)
loop = [1]
loop.append(loop)
try:
    json.dumps(loop)
except ValueError as e:
    print("ValueError", e)
pprint.pprint({"b": [1] * 30, "a": {"nested": list(range(25))}, "c": "x" * 10})
pprint.pprint(metrics, width=40)
pprint.pp({"b": 1, "a": 2})
print(pprint.pformat([pts, {"z": 1, "y": 2}], indent=2, width=20))
"""


def run_python(src: str) -> str:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(textwrap.dedent(src), "<reference>", "exec"), {"__name__": "__main__"})  # noqa: S102
    return out.getvalue()


def python_error(src: str) -> str:
    try:
        run_python(src)
    except Exception as e:  # noqa: BLE001
        return f"{type(e).__name__}: {e}"
    raise AssertionError("no error")


@pytest.mark.parametrize("program", [ENUM_ABC_CONTEXTLIB, OPERATOR_HEAPQ_JSON_PPRINT], ids=["enum", "operator"])
def test_stdlib17_prints_what_python_prints(program: str) -> None:
    status, out, err = run_tsr(program)
    assert (status, err) == (0, "")
    assert out == run_python(program)


MISUSE = [
    "from enum import Enum\nclass M(Enum):\n    A = 1\nM(3)",
    "from enum import Enum\nclass M(Enum):\n    A = 1\nM['B']",
    "from enum import Enum\nclass M(Enum):\n    A = 1\nM.A = 2",
    "from enum import Enum\nclass M(Enum):\n    A = 1\nclass N(M):\n    B = 2",
    "from enum import IntEnum\nclass M(IntEnum):\n    A = 1\nM(2)",
    "from abc import ABC, abstractmethod\nclass B(ABC):\n    @abstractmethod\n    def f(self):\n        pass\n"
    "    @abstractmethod\n    def g(self):\n        pass\nclass C(B):\n    def f(self):\n        return 1\nC()",
    "from contextlib import contextmanager\n@contextmanager\ndef f():\n    if False:\n        yield\n"
    "with f():\n    pass",
    "from contextlib import contextmanager\n@contextmanager\ndef f():\n    yield 1\n    yield 2\nwith f():\n    pass",
    "import heapq\nheapq.heappush(1, 2)",
    "import heapq\nheapq.heappop([])",
    "import heapq\nheapq.heappush([1], 'a')",
    "import bisect\nbisect.bisect_left([1, 2], 'a')",
    "import bisect\nbisect.insort(5, 1)",
    "import operator\noperator.add(1, 'a')",
    "import operator\noperator.add(1)",
    "import operator\noperator.itemgetter(5)([1])",
    "import operator\noperator.itemgetter('k')({})",
    "import operator\noperator.concat(1, 2)",
    "import json\njson.loads('{bad')",
    "import json\njson.loads('[1, 2')",
    "import json\njson.loads(5)",
    "import json\njson.dumps({'a': range(3)})",
    "import json\njson.dumps(float('nan'), allow_nan=False)",
    "import json\njson.dumps({(1, 2): 3})",
    "import json\nx = [1]\nx.append(x)\njson.dumps(x)",
    "import json\nx = {}\nx['a'] = x\njson.dumps(x, indent=2)",
]


@pytest.mark.parametrize("src", MISUSE)
def test_stdlib17_misuse_fails_as_python(src: str) -> None:
    status, _, err = run_tsr(src + "\n")
    assert status == 1
    headline = err.splitlines()[0].split(": ", 1)[1]
    want = python_error(src)
    assert headline == want or headline.endswith("." + want), (headline, want)


SANDBOX = [
    # json.dumps of 10M shared zeros: refused when measured, before any text is written
    (
        "import json\nx = [[0] * 1000] * 10000\njson.dumps(x)",
        "MemoryError: the JSON text of this value would take over",
    ),
    ("import json\nx = [[0] * 1000] * 10000\njson.dumps(x, default=str, indent=1)", "MemoryError: the JSON text"),
    # what default= returns is only known as it is written: counted then
    ("import json\nbig = [[0] * 1000] * 10000\njson.dumps({1}, default=lambda o: big)", "MemoryError: the JSON text"),
    ("import json\nx = []\nfor i in range(2000):\n    x = [x]\njson.dumps(x)", "RecursionError: maximum recursion"),
    (
        "import json\njson.loads('[' * 5000 + ']' * 5000)",
        "RecursionError: maximum recursion depth exceeded while decoding",
    ),
    ("import json\njson.dump({}, None)", "AttributeError: 'json.dump' is not available in tsr"),
    ("import json\njson.dumps({}, cls=dict)", "TypeError: json.dumps(cls=...) is not available in tsr"),
    ("import json\njson.loads('{}', object_hook=print)", "TypeError: json.loads in tsr takes the text only"),
    ("import operator\noperator.attrgetter('__class__')(1)", "AttributeError: access to attribute '__class__' is not"),
    ("import operator\noperator.attrgetter('real.__class__')(1)", "AttributeError: access to attribute '__class__'"),
    ("import operator\noperator.methodcaller('__reduce__')(1)", "AttributeError: access to attribute '__reduce__'"),
    ("import operator\noperator.attrgetter('prelude')(operator.itemgetter(1))", "AttributeError: 'itemgetter' object"),
    ("import operator\noperator.itemgetter(1).prelude", "AttributeError: 'itemgetter' object attribute 'prelude'"),
    ("import operator\noperator.mul('a', 10**9)", "MemoryError: a string of 1,000,000,000 characters"),
    ("import operator, functools\nfunctools.reduce(operator.pow, [10] * 50)", "OverflowError: integer result would"),
    ("import operator\noperator.call(print, 1)", "AttributeError: 'operator.call' is not available in tsr"),
    ("import operator\noperator.countOf([1], 1)", "AttributeError: 'operator.countOf' is not available in tsr"),
    ("import heapq, itertools\nheapq.nlargest(1, itertools.count())", "MemoryError: a sequence of 10,000,001 items"),
    ("import heapq, itertools\nheapq.merge(itertools.count())", "MemoryError: a sequence of 10,000,001 items"),
    ("import pprint\npprint.pprint([[0] * 1000] * 10000)", "MemoryError: printing this value would take over"),
    ("import pprint, sys\npprint.pprint(1, stream=sys.stdout)", "TypeError: pprint in tsr writes to the script's"),
    ("import enum\nenum.EnumType", "AttributeError: 'enum.EnumType' is not available in tsr"),
    ("from enum import Enum\nEnum('Color', 'RED GREEN')", "TypeError: Enum classes in tsr are called with one value"),
    (
        "from enum import Enum\nclass M(Enum):\n    A = 1\nM.A._value_ = 3",
        "AttributeError: access to attribute '_value_'",
    ),
    ("from enum import Enum\nclass M(Enum):\n    A = 1\nM._member_map_", "AttributeError: access to attribute"),
    ("from enum import Enum\nclass M(Enum):\n    A = 1\ntype(M)('X', (), {})", "TypeError: type() cannot be called"),
    ("import abc\nabc.abstractmethod(print)", "TypeError: abstractmethod in tsr decorates a method in a class body"),
    ("import abc\nabc.ABCMeta", "AttributeError: 'abc.ABCMeta' is not available in tsr"),
    ("import contextlib\ncontextlib.ExitStack", "AttributeError: 'contextlib.ExitStack' is not available in tsr"),
]


@pytest.mark.parametrize(("src", "headline"), SANDBOX)
def test_stdlib17_keeps_the_sandbox(src: str, headline: str) -> None:
    status, _, err = run_tsr(src + "\n")
    assert status == 1
    assert headline in err.splitlines()[0], err


def test_suppress_and_contextmanager_cannot_swallow_the_timeout() -> None:
    from tcli.policy import Limits

    src = """
    from contextlib import suppress, contextmanager
    @contextmanager
    def guard():
        try:
            yield
        except BaseException:
            print("swallowed")
    with guard():
        with suppress(BaseException):
            while True:
                pass
    print("after")
    """
    status, out, err = run_tsr(src, limits=Limits(timeout=0.5))
    assert status == 1
    assert "swallowed" not in out and "after" not in out
    assert "time limit" in err


def test_import_error_lists_the_new_modules() -> None:
    status, _, err = run_tsr("import os\n")
    assert status == 1
    for name in ("abc", "bisect", "contextlib", "enum", "heapq", "json", "operator", "pprint"):
        assert f" {name}," in err.splitlines()[0] or f" {name} " in err.splitlines()[0]
