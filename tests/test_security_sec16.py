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
