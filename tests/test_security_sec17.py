"""Security review sec17: the operator, heapq, bisect, contextlib, abc, enum, json and pprint facades (tcli/stdlib_*.py)
attacked. Each hole found has a test that failed before its fix (the catalogue goes on from
tests/test_security_sec16b.py)."""

from __future__ import annotations

import io
import subprocess
import sys
import textwrap
import time
import tracemalloc

import pytest

from tcli.session import Session
from tests.test_security import refused, run


def peak_of(src: str, error: str) -> tuple[str, int]:
    """The refusal's message and the memory Python allocated on the way to it."""
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        before = tracemalloc.get_traced_memory()[0]
        msg = refused(src, error)
        return msg, tracemalloc.get_traced_memory()[1] - before
    finally:
        tracemalloc.stop()


def python_output(src: str) -> str:
    p = subprocess.run([sys.executable, "-c", textwrap.dedent(src)], capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stderr
    return p.stdout


# -- an IntEnum's members are ints of a script's class ----------------------------------------------------------
# Every size check read `type(x) is int`: a member of `class Big(IntEnum): N = 10**9` is an int to C but not `int`, so
# "x" * Big.N built a gigabyte string, 2 ** Big.BITS a 10-million-bit integer, math.factorial(Big.N) and
# pow(7, Big.BITS) ran to the timeout, and Big.ONE.to_bytes(10**9, "big") (int's own methods were readable on a
# member) a gigabyte of bytes. The checks now take any int, and a member has only the int methods an int has in tsr.

BIG = "from enum import IntEnum\nclass Big(IntEnum):\n    ONE = 1\n    N = 10**9\n    BITS = 10**7\n"


@pytest.mark.parametrize(
    ("use", "error", "words"),
    [
        ("s = 'x' * Big.N", "MemoryError", "a string of 1,000,000,000 characters is over the tsr limit"),
        ("s = Big.N * 'x'", "MemoryError", "a string of 1,000,000,000 characters is over the tsr limit"),
        ("s = [0] * Big.N", "MemoryError", "a sequence of 1,000,000,000 items is over the tsr limit"),
        ("s = [0]\ns *= Big.N", "MemoryError", "a sequence of 1,000,000,000 items is over the tsr limit"),
        ("x = 2 ** Big.BITS", "OverflowError", "tsr allows 100,000"),
        ("x = 1 << Big.N", "OverflowError", "tsr allows 100,000"),
        ("x = Big.N ** Big.N", "OverflowError", "tsr allows 100,000"),
        ("x = pow(7, Big.BITS)", "OverflowError", "tsr allows 100,000"),
        ("import math\nx = math.factorial(Big.N)", "OverflowError", "tsr allows 100,000"),
        ("import math\nx = math.perm(Big.N)", "OverflowError", "tsr allows 100,000"),
        ("import operator\nx = operator.mul('ab', Big.N)", "MemoryError", "a string of 2,000,000,000 characters"),
        ("s = 'ab'.center(Big.N)", "MemoryError", "a string of 1,000,000,000 characters is over the tsr limit"),
        ("s = 'ab'.zfill(Big.N)", "MemoryError", "a string of 1,000,000,000 characters is over the tsr limit"),
        ("s = '%*d' % (Big.N, 1)", "ValueError", "'*' width 1000000000 is over the tsr limit of 10000"),
        ("import random\nx = random.choices([1], k=Big.N)", "MemoryError", "a sequence of 1,000,000,000 items"),
        ("b = Big.ONE.to_bytes(Big.N, 'big')", "AttributeError", "'Big' object attribute 'to_bytes' is not available"),
        ("b = Big.from_bytes", "AttributeError", "type object 'Big' attribute 'from_bytes' is not available"),
    ],
)  # fmt: skip
def test_an_intenum_member_is_held_to_an_ints_limits(use: str, error: str, words: str) -> None:
    start = time.monotonic()
    msg, peak = peak_of(BIG + use, error)
    assert words in msg, msg
    assert peak < 50 << 20, peak
    assert time.monotonic() - start < 20


def test_an_intenum_still_computes_as_cpython() -> None:
    src = BIG + textwrap.dedent("""\
        print(Big.ONE + 1, Big.N * 2, 'ab' * Big.ONE, [0] * Big.ONE, 2 ** Big.ONE, Big.ONE << 3, Big.N.bit_length())
        print(Big.ONE.real, Big.N.numerator, Big.ONE.as_integer_ratio(), Big.ONE.name, Big.N.value, repr(Big.N))
        print(round(12345, -Big.ONE), 'a\\tb'.expandtabs(Big.ONE), 'aaa'.replace('a', 'bb', Big.ONE), f'{Big.N:,}')
        """)  # fmt: skip
    status, out, err = run(src)
    assert (status, err) == (0, "")
    assert out == python_output(src)


# -- operator ---------------------------------------------------------------------------------------------------
# methodcaller ran the method with no call site: its errors were reported without the script's line ("MemoryError:
# ..." alone). operator.setitem was Python's: numpy read a script's object as a sequence (a[:] = s is refused) and
# a list's slice filled from itertools.count() for ever in C, as `a[:] = itertools.count()` did too.


def test_an_error_in_a_method_methodcaller_runs_is_at_the_scripts_line() -> None:
    src = "import operator\nf = operator.methodcaller('center', 10**9)\nprint('ok')\nf('x')"
    status, out, err = run(src)
    assert (status, out) == (1, "ok\n")
    assert err.startswith("<test>:4:1: MemoryError: a string of 1,000,000,000 characters is over the tsr limit"), err


SEQ = """\
import numpy as np
import operator
class S:
    def __len__(self):
        print("len")
        return 2
    def __getitem__(self, i):
        print("getitem")
        if i >= 2:
            raise IndexError(i)
        return 1.0
a = np.zeros(2)
"""


@pytest.mark.parametrize("use", ["operator.setitem(a, 0, S())", "operator.setitem(a, slice(None), S())"])
def test_operator_setitem_screens_what_numpy_takes_in(use: str) -> None:
    status, out, err = run(SEQ + use)
    assert (status, out) == (1, "")
    assert "TypeError: numpy in tsr builds arrays from numbers, sequences, arrays and tensors, not S" in err


@pytest.mark.parametrize(
    "use", ["a[:] = itertools.count()", "operator.setitem(a, slice(None), itertools.count())",
            "a[1:] = range(10**12)", "operator.setitem(a, slice(1, None), range(10**12))"],
)  # fmt: skip
def test_a_list_slice_is_filled_within_the_sequence_limit(use: str) -> None:
    start = time.monotonic()
    msg = refused("import itertools, operator\na = [1, 2, 3]\n" + use, "MemoryError")
    assert "over the tsr limit of 10,000,000" in msg
    assert time.monotonic() - start < 30


def test_operator_setitem_still_sets() -> None:
    src = """\
    import operator
    import numpy as np
    a, d, n = [1, 2, 3], {}, np.zeros(3)
    operator.setitem(a, slice(1, None), (x * 2 for x in range(4)))
    operator.setitem(d, "k", [1])
    operator.setitem(n, slice(None), [1, 2, 3])
    operator.setitem(n, 0, 7)
    print(a, d, n.tolist(), operator.setitem(a, 0, 9), a)
    """
    assert run(src)[:2] == (0, "[9, 0, 2, 4, 6] {'k': [1]} [7.0, 2.0, 3.0] None [9, 0, 2, 4, 6]\n")


# -- json and pprint indents -------------------------------------------------------------------------------------
# Python's encoder makes ' ' * indent (and '\n' + indent * level) and PrettyPrinter writes ' ' * indent before any
# piece reaches a counter: indent=10**9 took a gigabyte (the run ended at the timeout or the memory limit).


@pytest.mark.parametrize(
    ("use", "words"),
    [("json.dumps([1], indent=10**9)", "json.dumps indent 1000000000 is over the tsr limit of 10000"),
     ("json.dumps([[1]], indent='x' * 5_000_000)", "json.dumps indent 5000000 is over the tsr limit of 10000"),
     ("pprint.pprint([[1, 2]] * 3, indent=10**9, width=1)", "pprint indent 1000000000 is over the tsr limit of 10000"),
     ("pprint.pformat([1], indent=10**9)", "pprint indent 1000000000 is over the tsr limit of 10000")],
)  # fmt: skip
def test_a_huge_indent_is_refused_before_it_is_built(use: str, words: str) -> None:
    msg, peak = peak_of("import json, pprint\n" + use, "ValueError")
    assert words in msg
    assert peak < 50 << 20, peak


def test_indents_within_the_limit_print_as_cpython() -> None:
    src = """\
    import json, pprint
    print(json.dumps({"a": [1, {"b": None}], "c": "\\u00e9"}, indent=3), json.dumps([], indent=9))
    print(json.dumps(1, indent=2))
    print(json.dumps({"a": [1]}, indent="\\t"), json.dumps([[1]], indent=True), json.dumps([1, [2]], indent=-1))
    pprint.pprint([list(range(12)), {"k": "v" * 30}], indent=4, width=30)
    print(pprint.pformat({"a": [1, 2, 3] * 5}, indent=8, width=20))
    """
    status, out, err = run(src)
    assert (status, err) == (0, "")
    assert out == python_output(src)


# -- json.loads' depth check -------------------------------------------------------------------------------------
# The depth check's regular expression needed a closing quote: on '"' + '\\"' * 2_000_000 + '[' * 1000 every escaped
# quote began a new match that ran to the end of the text, O(n**2) in C (hours without --timeout).


def test_the_depth_check_of_loads_is_linear() -> None:
    src = "import json\ns = '\"' + '\\\\\"' * 2_000_000 + '[' * 1000\njson.loads(s)"
    start = time.monotonic()
    msg = refused(src, "JSONDecodeError")
    assert "Unterminated string starting at: line 1 column 1 (char 0)" in msg
    assert time.monotonic() - start < 10


@pytest.mark.parametrize(
    "text", ['["a]", [1]]', '{"k\\\\": "[{"}', '"[\\"["', '[' * 500 + ']' * 500, '"abc\\\\'],
)  # fmt: skip
def test_loads_reads_strings_with_brackets_as_cpython(text: str) -> None:
    import json

    try:
        expected = repr(json.loads(text))[:40] + "\n"
    except json.JSONDecodeError as e:
        expected = f"JSONDecodeError {e}\n"
    src = (
        f"import json\ntry:\n    print(repr(json.loads({text!r}))[:40])\n"
        "except json.JSONDecodeError as e:\n    print('JSONDecodeError', e)\n"
    )
    assert run(src)[:2] == (0, expected)


def test_loads_of_bytes_is_depth_checked_too() -> None:
    """torch.load may hand a script bytes: json.loads decodes them and read them past the depth check."""
    out, err = io.StringIO(), io.StringIO()
    session = Session(stdout=out, stderr=err, color=False)
    session.globals["b"] = b"[" * 100_000 + b"]" * 100_000
    session.globals["ok"] = b'{"a": [1, 2]}'
    status = session.run_source("import json\nprint(json.loads(ok))\njson.loads(b)\n", "<test>")
    assert status == 1 and out.getvalue() == "{'a': [1, 2]}\n"
    assert "RecursionError: maximum recursion depth exceeded while decoding a JSON array" in err.getvalue()


# -- enum's metaclass -----------------------------------------------------------------------------------------------
# A private name read off a script's class was checked against the class's bases only: EnumType's own _lookup (a
# metaclass method, tcli's) was readable as Mode._lookup. Names of a class's metaclass are now refused too.


def test_a_private_name_of_the_metaclass_is_refused() -> None:
    src = "from enum import Enum\nclass Mode(Enum):\n    TRAIN = 1\n    _own = 5\nprint(Mode._own)\nMode._lookup(1)"
    status, out, err = run(src)
    assert (status, out) == (1, "5\n")
    assert err.startswith("<test>:6:1: AttributeError: access to attribute '_lookup' is not allowed in tsr"), err


def test_an_enum_with_members_cannot_be_extended_even_without_new_ones() -> None:
    """CPython refuses `class F(E): pass` when E has members; tsr's EnumType made F an empty enum."""
    src = "from enum import Enum\nclass E(Enum):\n    A = 1\nclass F(E):\n    pass\nprint(list(F))"
    msg = refused(src, "TypeError")
    assert msg == ": <enum 'F'> cannot extend <enum 'E'>"


# -- an enum member's repr is tcli's --------------------------------------------------------------------------------
# The estimate of a value's text before it is made (Prelude.check_repr) counted an object it does not know as 16
# characters: a script's __repr__ is charged as it runs, but a member's repr is tcli's Python, `<E.A: value>`, so
# repr([E.A] * 200) with a 9M-character value built 1.8 GB and str([I.A] * 300000) with a 4000-digit IntEnum 1.2 GB.


@pytest.mark.parametrize(
    ("members", "use"),
    [("class E(Enum):\n    A = 'x' * 9_000_000\n", "s = repr([E.A] * 200)"),
     ("class E(Enum):\n    A = 'x' * 9_000_000\n", "s = f'{[E.A] * 200}'"),
     ("class E(Enum):\n    A = ['x' * 1000] * 12000\n", "print({1: E.A})"),
     ("class I(IntEnum):\n    A = int('7' * 4000)\n", "s = str([I.A] * 300000)")],
)  # fmt: skip
def test_the_text_of_enum_members_is_measured_before_it_is_made(members: str, use: str) -> None:
    msg, peak = peak_of("from enum import Enum, IntEnum\n" + members + use, "MemoryError")
    assert "printing this value would take over 10,000,000 characters (tsr limit)" in msg
    assert peak < 100 << 20, peak


def test_enum_members_still_print_as_cpython() -> None:
    src = """\
    from enum import Enum, IntEnum
    class E(Enum):
        A = "x" * 30
        B = (1, [2, 3])
    class I(IntEnum):
        A = 10**30
    print([E.A, E.B], repr(E.B), {I.A: E.A}, str([I.A]), f"{[E.B]}", E.A, I.A)
    """
    status, out, err = run(src)
    assert (status, err) == (0, "")
    assert out == python_output(src)


@pytest.mark.parametrize(
    "use",
    ["s = repr([operator.itemgetter('x' * 9_000_000)] * 300)", "s = str([operator.attrgetter('x' * 9_000_000)] * 2)",
     "print([operator.methodcaller('split', 'x' * 9_000_000)] * 2)"],
)  # fmt: skip
def test_the_text_of_operators_getters_is_measured_before_it_is_made(use: str) -> None:
    msg, peak = peak_of("import operator\n" + use, "MemoryError")
    assert "printing this value would take over 10,000,000 characters (tsr limit)" in msg
    assert peak < 100 << 20, peak


def test_operators_getters_still_print_as_cpython() -> None:
    src = """\
    import operator
    print([operator.itemgetter(1, "a"), operator.attrgetter("x.y"), operator.methodcaller("split", ",", maxsplit=1)])
    """
    status, out, err = run(src)
    assert (status, err) == (0, "")
    assert out == python_output(src)


# -- heapq.merge ---------------------------------------------------------------------------------------------------
# merge read every iterable into a new list: merge(*[a] * 200) of a 5M-item list made 200 copies (7.7 GB, past
# the sequence limit 100 times over). A list or tuple is read as it is now; other iterables still within the limit.


def test_merge_does_not_copy_the_lists_it_is_given() -> None:
    src = "import heapq\na = [1] * 2_000_000\nm = heapq.merge(*([a] * 30))\n"
    src += "print(next(m), list(heapq.merge([1, 4], (2, 3))))"
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        before = tracemalloc.get_traced_memory()[0]
        assert run(src)[:2] == (0, "1 [1, 2, 3, 4]\n")
        peak = tracemalloc.get_traced_memory()[1] - before
    finally:
        tracemalloc.stop()
    assert peak < 100 << 20, peak
