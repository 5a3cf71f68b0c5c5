"""match statements (structural pattern matching): `tcli run` against CPython (`python x.py`) on the same file,
with CPython 3.11's semantics and messages; and the patterns' security: an attribute a pattern reads is read as
`obj.name` is, and what a sequence pattern collects is held to the sequence limit."""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tcli import policy
from tcli.session import Session

ROOT = Path(__file__).resolve().parents[1]
#: the messages below are CPython 3.11's (3.12 reworded "called match pattern must be a type")
PY311 = sys.version_info[:2] == (3, 11)


def run_file(tmp_path: Path, src: str, *command: str) -> subprocess.CompletedProcess:
    path = tmp_path / "x.py"
    path.write_text(textwrap.dedent(src))
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    return subprocess.run([sys.executable, *command, str(path)], capture_output=True, text=True, env=env, cwd=tmp_path)


def tsr(tmp_path: Path, src: str) -> subprocess.CompletedProcess:
    return run_file(tmp_path, src, "-m", "tcli", "run")


def cpython(tmp_path: Path, src: str) -> subprocess.CompletedProcess:
    return run_file(tmp_path, src)


PROGRAMS = {
    "command_dispatch": """
        def dispatch(cmd):
            match cmd.split():
                case ["go", direction]:
                    return f"going {direction}"
                case ["pick", "up", *items] if items:
                    return f"picking {items}"
                case ["quit" | "exit"]:
                    return "bye"
                case [verb, *_]:
                    return f"unknown verb {verb}"
                case []:
                    return "empty"

        for c in ["go north", "pick up sword shield", "pick up", "quit", "exit", "dance now", ""]:
            print(dispatch(c))
    """,
    "dataclass_and_class_patterns": """
        from dataclasses import dataclass

        @dataclass
        class Point:
            x: int
            y: int = 0

        @dataclass
        class Point3(Point):
            z: int = 0

        class Vec:
            __match_args__ = ("a", "b")

            def __init__(self, a, b):
                self.a = a
                self.b = b

        class Plain:
            def __init__(self):
                self.v = 1
                self._own = 2

        def where(p):
            match p:
                case Point3(x, y, z) if z:
                    return f"3d {x} {y} {z}"
                case Point(0, 0):
                    return "origin"
                case Point(x=0, y=yy):
                    return f"on y axis at {yy}"
                case Point(xx, 0):
                    return f"on x axis at {xx}"
                case Point(x, y) if x == y:
                    return f"diagonal {x}"
                case Vec(a, b=2):
                    return f"vec {a}"
                case Vec():
                    return "other vec"
                case Plain(v=1, _own=own):
                    return f"plain {own}"
                case _:
                    return "somewhere"

        for p in [Point(0, 0), Point(0, 5), Point(3, 0), Point(4, 4), Point(1, 2), Point3(1, 2, 3), Point3(0, 0),
                  Vec(1, 2), Vec(1, 3), Plain(), 7]:
            print(where(p))
    """,
    "builtin_classes_match_the_subject": """
        def kind(v):
            match v:
                case bool(b):
                    return f"bool {b}"
                case int(n) | float(n) if n < 0:
                    return f"negative {n}"
                case int(n):
                    return f"int {n}"
                case float():
                    return "float"
                case str() as s:
                    return f"str {s!r}"
                case tuple((a, b)):
                    return f"tuple pair {a} {b}"
                case list(items):
                    return f"list {items}"
                case dict(d):
                    return f"dict {d}"
                case None:
                    return "none"
            return "no match"

        for v in [True, -3, -2.5, 7, 2.5, "hi", (1, 2), (1, 2, 3), [5], {"k": 1}, None, {1, 2}]:
            print(kind(v))
        match int:
            case type():
                print("int is a type")
    """,
    "mapping_patterns": """
        from collections import Counter, OrderedDict, defaultdict

        def handle(msg):
            match msg:
                case {"op": "add", "args": [a, b], **rest}:
                    return f"add {a + b} {rest}"
                case {"op": "neg", "args": [a]}:
                    return f"neg {-a}"
                case {"op": op}:
                    return f"unknown op {op}"
                case {}:
                    return f"no op in {msg}"
            return "not a mapping"

        for m in [{"op": "add", "args": [1, 2], "id": 9}, {"op": "neg", "args": [4], "x": 0}, {"op": "mul"}, {"a": 1},
                  [("op", "add")], "op"]:
            print(handle(m))
        for m in [OrderedDict(a=1, b=2), Counter("aab"), defaultdict(int, z=3)]:
            match m:
                case {"a": 1, **rest}:
                    print("ordered", rest, type(rest).__name__)
                case {"a": n}:
                    print("counter", n)
                case {"q": _}:
                    print("never")
                case _:
                    print("other", dict(m))
            print(len(m))  # (get made no entry in the defaultdict)
    """,
    "sequences_and_stars": """
        from collections import deque, namedtuple

        Pt = namedtuple("Pt", "x y")
        for v in [Pt(1, 2), Pt(0, 5), (0, 5), deque([1, 2, 3]), range(4), "ab", [1, [2, 3, 4]], (), [[]]]:
            match v:
                case Pt(0, y):
                    print("pt on y", y)
                case Pt(x=x, y=y):
                    print("pt", x, y)
                case [a, b] if isinstance(b, int):
                    print("pair", a, b)
                case [1, [2, *rest]] as whole:
                    print("nested", rest, whole)
                case [first, *mid, last]:
                    print("seq", first, mid, last)
                case [[]]:
                    print("list of empty")
                case []:
                    print("empty")
                case str(s):
                    print("str, never a sequence:", s)
        match range(10**12):
            case [a, b, *_, z]:
                print("read by index", a, b, z)
    """,
    "literals_or_and_singletons": """
        for v in [True, 1, 1.0, False, 0, None, 0.0, -1, 1 + 2j, -2.5, 3j, "x", "y"]:
            match v:
                case True:
                    print(repr(v), "is True")
                case False:
                    print(repr(v), "is False")
                case None:
                    print(repr(v), "is None")
                case 1:
                    print(repr(v), "== 1")
                case 0 | -1 as n:
                    print(repr(v), "in 0 | -1 as", n)
                case 1 + 2j | 3j:
                    print(repr(v), "complex")
                case -2.5:
                    print(repr(v), "negative float")
                case "x" | "y" if v == "y":
                    print(repr(v), "guarded y")
                case _:
                    print(repr(v), "other")
    """,
    "bindings_only_on_success": """
        y = z = "unset"
        match [1, 5]:
            case [y, 2]:
                pass
            case [z, 3]:
                pass
        print(y, z)  # a failed pattern binds nothing
        match [7, 3]:
            case [z, 3] if False:
                pass
            case _:
                pass
        print(z)  # a matched pattern binds before its guard
        match (1, 2):
            case (1, q) | (q, 1) if q > 5:
                print("no")
            case _:
                print("q", q)

        def h(v):
            match v:
                case {"a": a}:
                    pass
            return a

        try:
            h({})
        except UnboundLocalError as e:
            print("UnboundLocalError", e)
    """,
    "control_flow_and_scopes": """
        out = []
        for v in [1, 2, "skip", 3, "stop", 4]:
            match v:
                case "stop":
                    break
                case 2 | "skip":
                    continue
                case n:
                    out.append(n)
        print(out)

        def f(v):
            global g
            match v:
                case [x, *rest] if (n := len(rest)) > 1:
                    g = n
                    return x, rest, n
            return "no match falls through"

        g = 0
        print(f([1, 2, 3]), g)
        print(f([1]))

        def counter():
            total = 0

            def add(v):
                nonlocal total
                match v:
                    case int(total):
                        pass
                return total

            return add

        print(counter()(4))

        def gen(items):
            for it in items:
                match it:
                    case [a, b]:
                        yield a + b
                    case {"v": v}:
                        x = yield v
                        print("sent", x)
                    case _:
                        yield None

        g2 = gen([[1, 2], {"v": 5}, 3])
        print(next(g2), next(g2), g2.send("hi"))
    """,
    "value_patterns_and_eq": """
        class Color:
            RED = "red"
            GREEN = "green"

        class Cfg:
            key = "k"

        class Loud:
            def __eq__(self, other):
                print("eq with", other)
                return True

        for c in ["green", "red", "blue"]:
            match c:
                case Color.RED:
                    print("stop")
                case Color.GREEN:
                    print("go")
                case other:
                    print("unknown", other)
        match {"k": 1}:
            case {Cfg.key: v}:
                print("dotted key", v)
        match Loud():
            case 5:
                print("Loud() == 5")
    """,
    "exceptions_as_subjects": """
        class MyErr(Exception):
            def __init__(self, code):
                super().__init__(code)
                self.code = code

        for e in [ValueError("bad"), MyErr(5), MyErr(6), KeyError("k")]:
            match e:
                case ValueError(args=(msg,)):
                    print("value error", msg)
                case MyErr(code=5):
                    print("code 5")
                case MyErr(code=c):
                    print("code", c)
                case Exception():
                    print("other", type(e).__name__)
    """,
}


@pytest.mark.parametrize("name", sorted(PROGRAMS))
def test_match_runs_as_cpython_runs_it(tmp_path: Path, name: str) -> None:
    src = PROGRAMS[name]
    want = cpython(tmp_path, src)
    assert want.returncode == 0, want.stderr
    got = tsr(tmp_path, src)
    assert (got.returncode, got.stderr) == (0, "")
    assert got.stdout == want.stdout


def test_shapes_of_tensors_match_as_in_pytorch(tmp_path: Path) -> None:
    pytest.importorskip("torch")
    src = """
        import torch
        import torch.nn as nn

        def describe(x):
            match x.shape:
                case (n, c, h, w):
                    return f"images: batch {n}, {c} channels, {h}x{w}"
                case (n, d):
                    return f"batch {n} of {d} features"
                case (d,):
                    return f"vector of {d}"
                case ():
                    return "scalar"
                case [*dims]:
                    return f"{len(dims)} dims"

        for x in [torch.zeros(2, 3, 4, 5), torch.ones(8, 16), torch.ones(3), torch.tensor(1.0), torch.ones(1, 2, 3)]:
            print(describe(x))
        match torch.ones(3, 4):
            case torch.Tensor(shape=(3, w), dtype=torch.float32, requires_grad=False):
                print("float tensor of width", w)
        for layer in [nn.ReLU(), nn.Linear(4, 2), nn.Conv2d(1, 2, 3)]:
            match layer:
                case nn.Linear(in_features=i, out_features=o):
                    print("linear", i, o)
                case nn.Conv2d(kernel_size=(k, _)):
                    print("conv", k)
                case nn.Module():
                    print("module", type(layer).__name__)
        match torch.tensor(3):
            case 3:
                print("0-d tensor == 3")
    """
    want = cpython(tmp_path, src)
    assert want.returncode == 0, want.stderr
    got = tsr(tmp_path, src)
    assert (got.returncode, got.stderr) == (0, "")
    assert got.stdout == want.stdout


# (source, the error's line:col in tsr, CPython 3.11's last traceback line)
ERRORS = [
    ("x = 5\nmatch 1:\n    case x():\n        pass\n", "3:10", "TypeError: called match pattern must be a type"),
    ("match 1:\n    case len():\n        pass\n", "2:10", "TypeError: called match pattern must be a type"),
    ("class P:\n    pass\nmatch P():\n    case P(1):\n        pass\n", "4:10",
     "TypeError: P() accepts 0 positional sub-patterns (1 given)"),
    ("match 5:\n    case int(1, 2):\n        pass\n", "2:10",
     "TypeError: int() accepts 1 positional sub-pattern (2 given)"),
    ("class Q:\n    __match_args__ = ('x', 'y')\n    x = y = 1\nmatch Q():\n    case Q(1, 2, 3):\n        pass\n",
     "5:10",
     "TypeError: Q() accepts 2 positional sub-patterns (3 given)"),
    ("class Q:\n    __match_args__ = ('x', 'y')\n    x = y = 1\nmatch Q():\n    case Q(a, x=b):\n        pass\n",
     "5:10",
     "TypeError: Q() got multiple sub-patterns for attribute 'x'"),
    ("class R:\n    __match_args__ = ['x']\nmatch R():\n    case R(a):\n        pass\n", "4:10",
     "TypeError: R.__match_args__ must be a tuple (got list)"),
    ("class T:\n    __match_args__ = (1,)\nmatch T():\n    case T(a):\n        pass\n", "4:10",
     "TypeError: __match_args__ elements must be strings (got int)"),
    ("from dataclasses import dataclass\n@dataclass(match_args=False)\nclass N:\n    a: int\nmatch N(1):\n"
     "    case N(q):\n        pass\n", "6:10", "TypeError: N() accepts 0 positional sub-patterns (1 given)"),
    ("class K:\n    a = 'a'\nmatch {'a': 1, 'b': 2}:\n    case {K.a: 1, K.a: 2}:\n        pass\n", "4:10",
     "ValueError: mapping pattern checks duplicate key ('a')"),
    ("match range(10**20):\n    case [a, *_]:\n        pass\n", "2:10",
     "OverflowError: Python int too large to convert to C ssize_t"),
    ("match 1:\n    case 1 if undefined_name:\n        pass\n", "2:15",
     "NameError: name 'undefined_name' is not defined"),
    ("match 1:\n    case Color.RED:\n        pass\n", "2:10", "NameError: name 'Color' is not defined"),
    ("class W:\n    def __eq__(self, o):\n        raise ValueError('no eq')\nmatch W():\n    case 1:\n        pass\n",
     "3:9", "ValueError: no eq"),
    # the checks CPython's compiler makes (ast.parse makes none of them), before anything runs, at its position
    ("print(1)\nmatch x:\n    case (a, a): pass\n", "3:14", "SyntaxError: multiple assignments to name 'a' in pattern"),
    ("match x:\n    case y: pass\n    case 1: pass\n", "2:10",
     "SyntaxError: name capture 'y' makes remaining patterns unreachable"),
    ("match x:\n    case _: pass\n    case 1: pass\n", "2:10",
     "SyntaxError: wildcard makes remaining patterns unreachable"),
    ("match x:\n    case [a] | 1: pass\n", "2:16", "SyntaxError: alternative patterns bind different names"),
    ("match x:\n    case (a, b) | (b, c): pass\n", "2:23", "SyntaxError: alternative patterns bind different names"),
    ("match x:\n    case a | 1: pass\n", "2:10", "SyntaxError: name capture 'a' makes remaining patterns unreachable"),
    ("match x:\n    case C(a=1, a=2): pass\n", "2:19", "SyntaxError: attribute name repeated in class pattern: a"),
    ("match x:\n    case {1: a, 1.0: b}: pass\n", "2:10", "SyntaxError: mapping pattern checks duplicate key (1.0)"),
    ("match x:\n    case {-1: a, -1: b}: pass\n", "2:10", "SyntaxError: mapping pattern checks duplicate key (-1)"),
    ("match x:\n    case [*a, *b]: pass\n", "2:10", "SyntaxError: multiple starred names in sequence pattern"),
    ("match x:\n    case __debug__: pass\n", "2:10", "SyntaxError: cannot assign to __debug__"),
    ("match x:\n    case {'a': r, **r}: pass\n", "2:16", "SyntaxError: multiple assignments to name 'r' in pattern"),
    ("match x:\n    case [a] as a: pass\n", "2:11", "SyntaxError: multiple assignments to name 'a' in pattern"),
    ("match x:\n    case [a, _] as a: pass\n", "2:14", "SyntaxError: multiple assignments to name 'a' in pattern"),
    ("match x:\n    case [x, C(a=_) as x]: pass\n", "2:14", "SyntaxError: multiple assignments to name 'x' in pattern"),
    ("match x:\n    case f'a': pass\n", "2:10", "SyntaxError: patterns may only match literals and attribute lookups"),
    ("match x:\n    case y as z: pass\n    case 2: pass\n", "2:10",
     "SyntaxError: name capture 'y' makes remaining patterns unreachable"),
    # (and the parser's own)
    ("match x:\n    case 1 as _: pass\n", "2:15", "SyntaxError: cannot use '_' as a target"),
    ("match x:\n    case {a: 1}: pass\n", "2:12", "SyntaxError: invalid syntax"),
]  # fmt: skip


@pytest.mark.parametrize(("src", "where", "error"), ERRORS)
def test_errors_are_cpythons_with_a_position(tmp_path: Path, src: str, where: str, error: str) -> None:
    got = tsr(tmp_path, src)
    assert got.returncode == 1 and "Traceback" not in got.stderr
    lines = got.stderr.splitlines()
    assert lines[0] == f"{tmp_path / 'x.py'}:{where}: {error}"
    line, col = (int(n) for n in where.split(":"))
    assert lines[1].startswith(f"{line:5d} | ")
    assert lines[2].startswith("      | " + " " * (col - 1) + "^")  # the caret under the pattern
    if PY311:
        want = cpython(tmp_path, src)
        assert want.stderr.splitlines()[-1] == error
        assert f"line {line}" in want.stderr


def test_repl_echoes_expressions_in_cases(tmp_path: Path) -> None:
    text = "x = (1, 2)\nmatch x:\n    case (a, b):\n        a + b\n    case _:\n        0\n\nmatch 5:\n"
    text += '    case int(n) if n > 3:\n        "big"\n\nn\n'
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    got = subprocess.run([sys.executable, "-m", "tcli", "repl"], input=text, capture_output=True, text=True, env=env)
    assert (got.stdout, got.stderr) == ("3\n'big'\n5\n", "")


# -- security -------------------------------------------------------------------------------------------------

HEADLINE = re.compile(r"^<test>:(\d+):(\d+): (\w+): (.*)$")


def run(src: str, **limits: object) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    session = Session(stdout=out, stderr=err, color=False, limits=policy.Limits(**limits))  # type: ignore[arg-type]
    status = session.run_source(textwrap.dedent(src), "<test>")
    return status, out.getvalue(), err.getvalue()


def refused(src: str, error: str, **limits: object) -> tuple[str, str]:
    """Run `src`, expect exit 1 with `error` as the error type and nothing printed; (line:col, message)."""
    status, out, err = run(src, **limits)
    assert "Traceback" not in err and "LEAK" not in out
    m = HEADLINE.match(err.splitlines()[0] if err else "")
    assert m, f"not a clean error line: {err!r}"
    assert (status, m.group(3)) == (1, error), err
    return f"{m.group(1)}:{m.group(2)}", m.group(4)


def private(name: str) -> str:
    return f"access to attribute '{name}' is not allowed in tsr (names starting with '_' are private)"


@pytest.mark.parametrize(
    ("src", "name", "where"),
    [
        ("class C:\n    pass\nmatch C():\n    case C(__dict__=d):\n        print('LEAK', d)", "__dict__", "4:21"),
        ("match print:\n    case object(__self__=m):\n        print('LEAK', m)", "__self__", "2:26"),
        ("def f():\n    pass\nmatch f:\n    case type(__globals__=g):\n        print('LEAK', g)", "__globals__",
         "4:27"),
        ("match 1:\n    case int(__class__=type(__mro__=m)):\n        print('LEAK', m)", "__mro__", "2:37"),
        ("try:\n    1/0\nexcept Exception as e:\n    match e:\n        case ZeroDivisionError(__traceback__=t):\n"
         "            print('LEAK', t)", "__traceback__", "5:46"),
    ],
)  # fmt: skip
def test_a_keyword_pattern_is_refused_a_dunder_as_obj_dunder_is(src: str, name: str, where: str) -> None:
    """`case C(__dict__=d)` reads obj.__dict__: refused before anything runs (nothing printed), as that attribute is,
    the caret under the keyword's pattern."""
    assert refused(src, "AttributeError") == (where, private(name))


def test_class_keyword_dunder_reads_what_obj_dunder_reads() -> None:
    """__class__ is the one readable dunder of a plain object: what `obj.__class__` (tsr's type()) gives."""
    status, out, err = run(
        """
        class C:
            pass
        for v in [1, C()]:
            match v:
                case int(__class__=k) | C(__class__=k):
                    print(k, k is v.__class__)
        """
    )
    assert (status, err) == (0, "")
    assert out == "<class 'int'> True\n<class '__main__.C'> True\n"


@pytest.mark.parametrize(
    ("src", "name"),
    [
        # a class's own __match_args__ may name any string: each is read as obj.<name> is, a refusal is an error
        ("class D:\n    __match_args__ = ('__dict__',)\nmatch D():\n    case D(d):\n        print('LEAK', d)",
         "__dict__"),
        ("class D:\n    __match_args__ = ('__class__', '__init__')\nmatch D():\n    case D(_, i):\n"
         "        print('LEAK', i)", "__init__"),
        ("import torch.nn as nn\nclass M(nn.Module):\n    __match_args__ = ('_modules',)\nmatch M():\n    case M(m):\n"
         "        print('LEAK', m)", "_modules"),
        ("import torch.nn as nn\nclass M(nn.Module):\n    __match_args__ = ('_parameters',)\nmatch M():\n"
         "    case M(p):\n        print('LEAK', p)", "_parameters"),
    ],
)  # fmt: skip
def test_match_args_names_are_read_through_the_attribute_rules(src: str, name: str) -> None:
    where, message = refused(src, "AttributeError")
    assert message == private(name)
    assert where.endswith(":10")  # (the class pattern)


def test_engine_fields_cannot_be_read_through_match_args() -> None:
    src = "class E:\n    __match_args__ = ('_data',)\nmatch E():\n    case E(d):\n        print('LEAK', d)"
    _, message = refused(src, "AttributeError")
    assert message.startswith("'_data' is a name tcli's engine uses")


@pytest.mark.parametrize(
    ("src", "message"),
    [
        ("match 'abc':\n    case str(encode=e):\n        print('LEAK', e)",
         "'str' object attribute 'encode' is not available in tsr"),
        ("match ValueError('x'):\n    case ValueError(with_traceback=w):\n        print('LEAK', w)",
         "'ValueError' object attribute 'with_traceback' is not available in tsr"),
        ("match [1]:\n    case list(__len__=f):\n        print('LEAK', f)", private("__len__")),
        ("class MyErr(Exception):\n    pass\nmatch MyErr():\n    case MyErr(tsr_node=n):\n        print('LEAK', n)",
         "'tsr_node': names starting with 'tsr_' on an exception are tcli's own in tsr"),
    ],
)  # fmt: skip
def test_an_attribute_tsr_leaves_out_is_an_error_not_a_failed_match(src: str, message: str) -> None:
    assert refused(src, "AttributeError")[1] == message


def test_a_missing_attribute_is_no_match_as_in_python() -> None:
    status, out, err = run(
        """
        class A:
            def __init__(self):
                self._mine = 1
        match A():
            case A(_missing=1) | A(nothere=1) | str(nothere=1):
                print("no")
            case A(_mine=m):
                print("own private", m)
        """
    )
    assert (status, out, err) == (0, "own private 1\n", "")


def test_match_args_cannot_be_set_from_outside_the_class_body() -> None:
    where, _ = refused("class A:\n    pass\nA.__match_args__ = ('x',)", "AttributeError")
    assert where == "3:1"
    refused("class A:\n    pass\nsetattr(A, '__match_args__', ('x',))", "AttributeError")
    refused("class A:\n    __slots__ = ('x',)", "SyntaxError")  # (still the only special class attribute)


def test_a_star_capture_is_held_to_the_sequence_limit() -> None:
    where, message = refused(
        "match range(10**12):\n    case [a, *rest]:\n        print('LEAK', len(rest))", "MemoryError"
    )
    assert where == "2:10" and message == "a sequence of 1,000,000,000,000 items is over the tsr limit of 10,000,000"
    # a sequence whose iterator never ends: stopped at the limit (or by the timeout), never collected for ever
    src = """
        from collections import namedtuple
        P = namedtuple("P", "a b")
        class Endless(P):
            def __iter__(self):
                while True:
                    yield 1
        try:
            match Endless(1, 2):
                case [a, b]:
                    print("LEAK")
        except ValueError as e:
            print(e)
        match Endless(1, 2):
            case [a, *rest]:
                print("LEAK", len(rest))
    """
    status, out, err = run(src, max_seq_len=1000)
    assert out == "too many values to unpack (expected 2)\n"
    assert status == 1 and err.startswith("<test>:15:10: MemoryError: a sequence of ")
    status, out, err = run(src, timeout=1.0)
    assert status == 1 and "TimeoutError" in err.splitlines()[0]


def test_a_rest_mapping_is_held_to_the_sequence_limit() -> None:
    src = "d = {}\nfor i in range(2000):\n    d[i] = i\nmatch d:\n    case {0: _, **rest}:\n        print('LEAK')"
    where, message = refused(src, "MemoryError", max_seq_len=1000)
    assert where == "5:10" and message.startswith("a sequence of 2,000 items")


def test_a_scripts_own_attribute_error_is_no_match_whatever_it_says() -> None:
    """A refusal is told from a missing attribute by a mark only tsr's refusals carry, not by their words: a
    property raising an AttributeError that reads like a refusal is an absent attribute, as in Python."""
    status, out, err = run(
        """
        class P:
            @property
            def x(self):
                raise AttributeError("'P' object attribute 'x' is not available in tsr")
        match P():
            case P(x=1):
                print("matched")
            case _:
                print("no match")
        try:
            P().x
        except AttributeError as e:
            print(e)
        """
    )
    assert (status, err) == (0, "")
    assert out == "no match\n'P' object attribute 'x' is not available in tsr\n"


def test_the_refusal_mark_cannot_be_forged_by_a_script() -> None:
    where, message = refused("e = AttributeError('x')\ne._tsr_refused = True", "AttributeError")
    assert (where, message) == ("2:1", private("_tsr_refused"))
