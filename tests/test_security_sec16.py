"""Security review sec16: text a script's objects make (their __repr__/__str__, a dataclass's repr) counted
against the string limit in every conversion that builds a larger text from it, and the routes of the review
(the catalogue goes on from tests/test_security.py and tests/test_security_sec15.py). Each hole found has a test
that failed before its fix; the rest document routes that were tried and found closed."""

from __future__ import annotations

import subprocess
import sys
import tracemalloc

import pytest

from tests.test_security import refused, run

# -- text a script's object makes, copied many times into one text --------------------------------------------
# A string is capped at max_str_len when the script builds it, but a list of one object a hundred times printed
# (or str()'d, f-stringed, %-formatted, raised, warned) calls its __repr__ a hundred times and C copies each text
# into one: a gigabyte past --max-memory from a 10M-character repr. Each conversion now counts what the script's
# methods return toward max_str_len (Prelude.converting / charge_text). Measured here with a 1M-character limit:
# each case built 100-200 MB of text before its fix, and stops within a few MB now.

LIMIT = 1_000_000
BIG = f"""
class Big:
    def __init__(self):
        self.s = "x" * {LIMIT}
    def __repr__(self):
        return self.s
    def __hash__(self):
        return 1
b = Big()
"""
TEXT_LIMIT = f"the text of this value would take over {LIMIT:,} characters (tsr limit)"
#: (where the parts are joined by tsr, the total of the parts may be what stops first)
LIMITS = (TEXT_LIMIT, f"characters is over the tsr limit of {LIMIT:,}")
STR_LIMIT = f"is over the tsr limit of {LIMIT:,}"


def peak_of(src: str, error: str, **limits: object) -> tuple[str, int]:
    """Run src expecting a clean `error`; its message and the peak of memory Python allocated meanwhile."""
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        before = tracemalloc.get_traced_memory()[0]
        msg = refused(src, error, max_str_len=LIMIT, **limits)
        peak = tracemalloc.get_traced_memory()[1] - before
    finally:
        tracemalloc.stop()
    return msg, peak


OBJECT_TEXT = [
    "print([b] * 100)",
    "print(b, b, b, b)",
    "s = str([b] * 100)",
    "s = repr([b] * 100)",
    "s = repr((b,) * 100)",
    "s = str({1: [b] * 100})",
    "s = f'{[b] * 100}'",
    "s = f'{[b] * 100!r}'",
    "s = format([b] * 100)",
    "s = '{}'.format([b] * 100)",
    "s = ('{}' * 100).format(*([b] * 100))",
    "s = ('%s' * 100) % tuple([b] * 100)",
    "s = '%s' % ([b] * 100,)",
    "s = '%(k)s%(k)s%(k)s' % {'k': [b] * 40}",
    "s = str(ValueError([b] * 100))",
    "raise ValueError([b] * 100)",
    "assert False, [b] * 100",
    "d = {}\nd[tuple([b] * 100)]",
    "import warnings\nwarnings.warn([b] * 100)",
    "import warnings\nwarnings.warn(UserWarning([b] * 100))",
]


@pytest.mark.parametrize("src", OBJECT_TEXT)
def test_a_scripts_repr_counts_against_the_string_limit_in_every_conversion(src: str) -> None:
    msg, peak = peak_of(BIG + src, "MemoryError")
    assert any(m in msg for m in LIMITS), msg
    assert peak < 12 * LIMIT, f"{peak:,} bytes allocated"


def test_str_of_an_object_calls_its_str_and_is_charged() -> None:
    src = BIG.replace("__repr__", "__str__") + "s = '%s' * 3 % (b, b, b)"
    msg, peak = peak_of(src, "MemoryError")
    assert TEXT_LIMIT in msg
    assert peak < 12 * LIMIT


def test_a_dataclass_repr_counts_against_the_string_limit() -> None:
    src = f"""
from dataclasses import dataclass
@dataclass
class D:
    s: str
d = D("x" * {LIMIT - 10})
print([d] * 100)
"""
    msg, peak = peak_of(src, "MemoryError")
    assert TEXT_LIMIT in msg
    assert peak < 12 * LIMIT


def test_a_modules_extra_repr_counts_against_the_string_limit() -> None:
    src = f"""
import torch
class M(torch.nn.Module):
    def extra_repr(self):
        return "x" * {LIMIT - 10}
m = M()
print(torch.nn.Sequential(*([m] * 100)))
"""
    msg, peak = peak_of(src, "MemoryError")
    assert TEXT_LIMIT in msg
    assert peak < 40 * LIMIT


def test_a_module_shared_many_times_in_a_container_counts_each_time() -> None:
    # no script code at all: torch's own extra_repr of one Upsample, printed once per place it is registered
    src = """
import torch
m = torch.nn.Upsample(scale_factor=tuple([1.0] * 150_000))
seq = torch.nn.Sequential(*([m] * 100))
print(seq)
"""
    msg, peak = peak_of(src, "MemoryError")
    assert TEXT_LIMIT in msg
    assert peak < 40 * LIMIT


PLAIN_TEXT = [
    # the parts of an f-string, a format() or a print, each within the limit, joined before the total was checked
    "s = 'x' * 1_000_000\nt = f'{s}{s}{s}{s}{s}{s}{s}{s}{s}{s}{s}{s}{s}{s}{s}{s}{s}{s}{s}{s}{s}{s}{s}{s}{s}{s}{s}{s}'",
    "s = 'x' * 1_000_000\nt = ('{0}' * 100).format(s)",
    "s = 'x' * 1_000_000\nprint(*([s] * 100))",
    "s = 'x' * 1_000_000\nt = ('%s' * 100) % tuple([s] * 100)",
    "s = 'x' * 1_000_000\nt = '%(a)s' * 100 % {'a': s}",
]


@pytest.mark.parametrize("src", PLAIN_TEXT)
def test_joined_text_is_checked_before_it_is_built(src: str) -> None:
    msg, peak = peak_of(src, "MemoryError")
    assert STR_LIMIT in msg
    assert peak < 12 * LIMIT, f"{peak:,} bytes allocated"


def test_text_within_the_limit_still_prints() -> None:
    src = f"""
class Big:
    def __init__(self, n):
        self.s = "x" * n
    def __repr__(self):
        return self.s
b = Big({LIMIT // 4})
s = str([b] * 3)
print(len(s), len(f"{{b}}{{b}}"), len("%s%s" % (b, b)), len("{{}}{{}}".format(b, b)))
print(len("%(a)s%(a)s" % {{"a": "y" * {LIMIT // 2 - 1}}}))
for i in range(50):  # each conversion has its own budget
    t = repr([b] * 3)
print(len(t))
"""
    status, out, err = run(src, max_str_len=LIMIT)
    assert (status, err) == (0, "")
    n = LIMIT // 4
    assert out.split("\n")[:3] == [f"{3 * n + 6} {2 * n} {2 * n} {2 * n}", f"{LIMIT - 2}", f"{3 * n + 6}"]


def test_nested_conversions_have_their_own_budget() -> None:
    # a __repr__ that itself converts (repr of its children) returns text within the limit: counted once
    src = f"""
class Leaf:
    def __repr__(self):
        return "y" * {LIMIT // 8}
class Node:
    def __init__(self):
        self.kids = [Leaf()] * 6
    def __repr__(self):
        return str(len(repr(self.kids)))
print([Node()] * 20)
"""
    status, out, err = run(src, max_str_len=LIMIT)
    assert (status, err) == (0, "")
    assert out == "[" + ", ".join([str(6 * (LIMIT // 8) + 12)] * 20) + "]\n"


# -- a script's text made after the run: no --timeout, no text limit --------------------------------------------
# sys.exit(obj) printed str(obj) while the process exited, and the REPL made the message of an error a repr raised
# after its run had ended: a __str__ that loops ran for ever past --timeout, one that returns much text built it
# all. Both are made inside the run now.

LOOP = """
import sys
class Loop:
    def __str__(self):
        while True:
            pass
    def __repr__(self):
        while True:
            pass
"""


def test_sys_exit_of_an_object_makes_its_text_under_the_timeout() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "tcli", "run", "--timeout", "1", "-c", LOOP + "sys.exit(Loop())\n"],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert proc.returncode == 1
    assert "TimeoutError: the script ran longer than the time limit of 1s (--timeout)" in proc.stderr.splitlines()[0]


def test_sys_exit_of_an_object_makes_its_text_within_the_limit() -> None:
    msg, peak = peak_of(BIG + "import sys\nsys.exit([b] * 100)", "MemoryError")
    assert TEXT_LIMIT in msg
    assert peak < 12 * LIMIT


def test_sys_exit_still_prints_an_objects_text() -> None:
    status, _, err = run("import sys\nclass A:\n    def __str__(self):\n        return 'bye'\nsys.exit(A())\n")
    assert (status, err) == (1, "bye\n")


def test_the_repl_makes_an_echo_errors_message_under_the_timeout() -> None:
    src = LOOP + "class A:\n    def __repr__(self):\n        raise ValueError(Loop())\n\nA()\nprint('after')\n"
    proc = subprocess.run(
        [sys.executable, "-m", "tcli", "repl", "--timeout", "1"], input=src, capture_output=True, text=True, timeout=60
    )
    assert "TimeoutError: the script ran longer than the time limit of 1s (--timeout)" in proc.stdout + proc.stderr
    assert "after" in proc.stdout


# -- copies C code or the dataclass helpers build from shared values ---------------------------------------------

BUILT_IN_C = [
    # itertools.accumulate adds in C without a function: running sums of one long string or list
    ("import itertools\ns = 'x' * 1_000_000\nx = list(itertools.accumulate([s] * 100))", "characters is over"),
    ("import itertools\ns = [0] * 1_000_000\nx = list(itertools.accumulate([s] * 100))", "items is over"),
    ("import itertools\ns = [0] * 1_000_000\nx = list(itertools.accumulate([s] * 100, initial=[]))", "items is over"),
    # % reads a mapping-like object's items (its __getitem__) once per field
    (
        "class M:\n    def __getitem__(self, k):\n        return 'x' * 1_000_000\ns = '%(a)s' * 100 % M()",
        "characters is over",
    ),
]


@pytest.mark.parametrize(("src", "what"), BUILT_IN_C)
def test_what_c_code_builds_from_shared_values_is_checked(src: str, what: str) -> None:
    msg, peak = peak_of(src, "MemoryError", max_seq_len=LIMIT)
    assert what in msg and "the tsr limit of 1,000,000" in msg
    assert peak < 30 * LIMIT, f"{peak:,} bytes allocated"


def test_accumulate_and_percent_keep_their_meaning() -> None:
    src = """
import itertools
class M:
    def __getitem__(self, k):
        return k * 2
print(list(itertools.accumulate([1, 2, 3])), list(itertools.accumulate([1, 2, 3], initial=10)))
print(list(itertools.accumulate([3, 1, 4], max)), list(itertools.accumulate(['a', 'b'])))
print(isinstance(itertools.accumulate([1]), itertools.accumulate))
print('%(a)s-%(bc)s' % M(), '%(a)s' % {'a': 1}, '%s %d' % ('x', 3), '%%%s' % 5, '%5s|' % 'ab')
try:
    print('%(a)s' % [1])
except TypeError as e:
    print(e)
"""
    status, out, err = run(src)
    assert (status, err) == (0, "")
    assert out.splitlines() == [
        "[1, 3, 6] [10, 11, 13, 16]",
        "[3, 3, 4] ['a', 'ab']",
        "True",
        "aa-bcbc 1 x 3 %5    ab|",
        "list indices must be integers or slices, not str",
    ]


def test_asdict_of_a_list_shared_by_many_places_stops_at_the_memory_limit() -> None:
    # Python's asdict copies a list once per place that reaches it: 100 places of one 300,000-item list
    src = """
from dataclasses import dataclass, asdict
@dataclass
class D:
    x: list
@dataclass
class E:
    ds: list
e = E([D([None] * 300_000)] * 100)
x = asdict(e)
"""
    proc = subprocess.run(
        [sys.executable, "-m", "tcli", "run", "--max-memory", "150M", "--timeout", "60", "-c", src],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert proc.returncode == 1
    assert "MemoryError: the script's memory" in proc.stderr.splitlines()[0]


# -- Python objects made per element, and results of functions without a size rule -----------------------------
# A tensor of 5M float32 is 20 MB; its tolist() is 200 MB of floats, and its views (list(t), for x in t, t.unbind(),
# t.split(1), t.chunk(n)) are 1.2 GB of tensor objects, all made at once in C or the engine, where only the
# address-space cap stopped them (split(1) then failed inside tcli's own error handling: "internal error").
# They are checked before they are made now. Functions without a size rule (block_diag, one_hot, a clone of a
# broadcast view, advanced indexing) are checked as their result comes back: the script cannot go on with a
# tensor past --max-memory.


def tcli_run(src: str, max_memory: str = "150M") -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "tcli", "run", "--max-memory", max_memory, "--timeout", "60", "-c", src],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip


PER_ELEMENT = [
    "x = t.tolist()",
    "x = t.numpy().tolist()",
    "x = list(t)",
    "x = tuple(t)",
    "for v in t:\n    pass",
    "x = list(zip(t))",
    "x = t.unbind()",
    "x = torch.unbind(t)",
    "x = t.split(1)",
    "x = torch.split(t, 1)",
    "x = t.split([1] * 5_000_000)",
    "x = t.chunk(2_000_000)",
    "x = torch.tensor_split(t, 2_000_000)",
    "x = list(range(5_000_000))",
]


@pytest.mark.parametrize("src", PER_ELEMENT)
def test_python_objects_made_per_element_are_checked_before_they_are_made(src: str) -> None:
    p = tcli_run("import torch\nt = torch.zeros(5_000_000)\n" + src)
    assert p.returncode == 1
    first = p.stderr.splitlines()[0]
    assert "MemoryError: allocating" in first and "(--max-memory)" in first, p.stderr


def test_views_and_lists_within_the_limit_still_work() -> None:
    src = """
import torch
t = torch.arange(10.)
print(t.split(4), torch.split(t, [5, 5])[1], t.chunk(3)[2], t.unbind()[9], torch.unbind(t.view(2, 5), 1)[4])
print(t.tensor_split([2, 4])[1], t.tolist()[-1], t.numpy().tolist()[:2], len(list(torch.zeros(5000))))
print(sum(1 for v in torch.zeros(70000)), len(list(range(100000))), len(tuple(i for i in range(200000))))
"""
    status, out, err = run(src)
    assert (status, err) == (0, "")
    assert out.splitlines() == [
        "(tensor([0., 1., 2., 3.]), tensor([4., 5., 6., 7.]), tensor([8., 9.])) tensor([5., 6., 7., 8., 9.]) "
        "tensor([8., 9.]) tensor(9.) tensor([4., 9.])",
        "tensor([2., 3.]) 9.0 [0.0, 1.0] 5000",
        "70000 100000 200000",
    ]


UNSIZED = [
    "t = torch.zeros(100, 100)\nx = torch.block_diag(*([t] * 70))",
    "import torch.nn.functional as F\nx = F.one_hot(torch.zeros(4000, dtype=torch.long), num_classes=6000)",
    "a, b = torch.broadcast_tensors(torch.zeros(7000, 1), torch.zeros(1, 7000))\nx = a.clone()",
    "a, b = torch.broadcast_tensors(torch.zeros(7000, 1), torch.zeros(1, 7000))\nx = torch.zeros_like(a)",
    "x = torch.zeros(1, 1)\ni = torch.zeros(7000, dtype=torch.long)\ny = x[i[:, None], i[None, :]]",
]


@pytest.mark.parametrize("src", UNSIZED)
def test_a_result_past_the_memory_limit_stops_the_script(src: str) -> None:
    p = tcli_run("import torch\n" + src + "\nprint('went on')")
    assert p.returncode == 1 and "went on" not in p.stdout
    first = p.stderr.splitlines()[0]
    assert "MemoryError: the script's memory" in first and "after this made a tensor of" in first, p.stderr


def test_a_memory_error_without_words_is_explained() -> None:
    from tcli.errors import error_message

    assert error_message(MemoryError()).startswith("out of memory: the script reached the memory limit")


# -- fresh long values made faster than the loop's periodic memory check -------------------------------------------
# Each value within the string or sequence limit, but a new one per iteration: 100 strings of 9M characters
# (900 MB) or 30 lists of 9M items (2.2 GB) were built before the loop's check every 127 iterations ran. Long
# strings, lists and tuples that +, *, %, an f-string, str.format, a call or a subscript make count toward
# --max-memory as they come.

FRESH = [
    "s = 'x' * 9_000_000\nx = [s + 'y' for i in range(100)]",
    "s = 'x' * 9_000_000\nx = []\nfor i in range(100):\n    x.append(s + 'y')",
    "s = 'x' * 1000\nx = [s * 9000 for i in range(100)]",
    "s = 'x' * 9_000_000\nx = [s.upper() for i in range(100)]",
    "s = 'x' * 9_000_000\nx = [s[::-1] for i in range(100)]",
    "s = 'x' * 9_000_000\nx = [f'{s}y' for i in range(100)]",
    "s = 'x' * 9_000_000\nx = ['%sy' % s for i in range(100)]",
    "s = 'x' * 9_000_000\nx = ['{}y'.format(s) for i in range(100)]",
    "s = [0] * 9_000_000\nx = [s + [1] for i in range(30)]",
    "s = [0] * 9_000_000\nx = [s[:] for i in range(30)]",
    "s = [0] * 9_000_000\nx = [sorted(s) for i in range(30)]",
]


@pytest.mark.parametrize("src", FRESH)
def test_fresh_long_values_count_toward_the_memory_limit_as_they_come(src: str) -> None:
    p = tcli_run(src, max_memory="200M")
    assert p.returncode == 1
    first = p.stderr.splitlines()[0]
    assert "MemoryError: allocating" in first and "over the limit of 200.0 MiB (--max-memory)" in first, p.stderr


@pytest.mark.parametrize(
    "alias, use", [("__repr__ = text", "print([b] * 100)"), ("__str__ = text", "print(*([b] * 100))")]
)
def test_an_aliased_repr_in_a_class_body_is_charged_too(alias: str, use: str) -> None:
    """`__repr__ = show` (a class body naming an earlier method) is as much the script's text as a def'd one."""
    src = f"""
class Big:
    def text(self):
        return "x" * {LIMIT}
    {alias}
b = Big()
{use}
"""
    msg, peak = peak_of(src, "MemoryError")
    assert any(m in msg for m in LIMITS), msg
    assert peak < 12 * LIMIT, f"{peak:,} bytes allocated"
