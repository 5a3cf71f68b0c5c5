"""Fuzzing: no input, however broken or hostile, leaks a Python traceback or crashes the interpreter. Every
run ends with status 0, or 1 and a clean `FILE:LINE:COL: Type: message` report. Sources come from grammar
fragments, from mutations of the conformance corpus, and from raw text; all run in-process through Session."""

from __future__ import annotations

import io
import os
import re
import tempfile
from contextlib import contextmanager
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tcli import policy
from tcli.session import Session

CORPUS = sorted((Path(__file__).resolve().parents[2] / "shared" / "conformance" / "cases").glob("*.py"))
if not CORPUS:  # the corpus lives beside the checkout; fall back to the bundled example
    CORPUS = [Path(__file__).resolve().parent.parent / "tcli" / "examples" / "hello.tsr"]
CLEAN = re.compile(r"^<fuzz>:\d+:\d+: [A-Za-z_]\w*(: |\n)")
SETTINGS = settings(
    max_examples=120, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck), database=None
)


@contextmanager
def scratch_directory():
    """Fuzzed scripts may call torch.save: let them write only into a throwaway directory."""
    old = os.getcwd()
    with tempfile.TemporaryDirectory() as tmp:
        os.chdir(tmp)
        try:
            yield
        finally:
            os.chdir(old)


def check(src: str) -> None:
    out, err = io.StringIO(), io.StringIO()
    limits = policy.Limits(timeout=1.0, max_memory=256 << 20, max_seq_len=100_000, max_str_len=1_000_000)
    session = Session(stdout=out, stderr=err, color=False, limits=limits)
    with scratch_directory():
        status = session.run_source(src, "<fuzz>")
    report = err.getvalue()
    assert "Traceback" not in report, report
    if status == 0:  # only warnings (the engine's UserWarnings), each positioned like an error
        for line in report.splitlines():
            assert line.startswith(" ") or re.match(r"^<fuzz>:\d+:\d+: \w*Warning: ", line), report
    else:
        assert status == 1, (status, report)
        assert CLEAN.match(report), report


NAMES = ["x", "y", "t", "w", "f", "torch", "math", "np", "print", "len", "range", "__class__", "_x", "None", "argv"]
ATTRS = [
    "grad", "shape", "sum", "backward", "requires_grad", "__class__", "__globals__", "gi_frame", "mro", "format",
    "numpy", "T", "zeros", "append", "item", "tolist", "save", "load", "ctypes", "data", "backend", "xp", "_data",
]  # fmt: skip
LITERALS = ["0", "1", "-1", "2.5", "1e308", "10 ** 400", "9 ** 9 ** 9", "'s'", "'{0.__class__}'", "[]", "()", "{}",
            "None", "True", "...", "[1, 2]", "(1,)", "{'k': 1}", "'a' * 10 ** 9", "float('nan')"]  # fmt: skip
CALLS = [
    "torch.tensor([1.0, 2.0], requires_grad=True)", "torch.ones(2, 3)", "torch.zeros(10 ** 12)", "torch.arange(6)",
    "torch.randn(3)", "np.array([1, 2])", "math.sqrt(2)", "getattr(x, '__class__')", "type(x)", "str(x)",
    "list(range(10 ** 9))", "sorted([3, 1])", "len(x)", "x.sum()", "x.backward()", "graph(x)", "show(x)",
    "'{}'.format(x)", "f'{x!r:>4}'", "print(x)", "(lambda v: v)(x)", "max(x)", "torch.save(x, 'out.pt')",
]  # fmt: skip


@st.composite
def expressions(draw, depth: int = 0):
    if depth > 2:
        return draw(st.sampled_from(NAMES + LITERALS))
    kind = draw(st.integers(0, 7))
    sub = expressions(depth + 1)
    if kind == 0:
        return draw(st.sampled_from(NAMES + LITERALS))
    if kind == 1:
        return f"{draw(sub)}.{draw(st.sampled_from(ATTRS))}"
    if kind == 2:
        op = draw(st.sampled_from(["+", "-", "*", "/", "//", "%", "**", "@", "<<", "&", "==", "<", "in", "and", "or"]))
        return f"({draw(sub)} {op} {draw(sub)})"
    if kind == 3:
        return draw(st.sampled_from(CALLS))
    if kind == 4:
        return f"{draw(sub)}[{draw(sub)}]"
    if kind == 5:
        return f"[{draw(sub)} for x in range(3) if {draw(sub)}]"
    if kind == 6:
        return f"{draw(sub)}({draw(sub)})"
    return f"({draw(sub)} if {draw(sub)} else {draw(sub)})"


@st.composite
def statements(draw, depth: int = 0):
    e = expressions()
    kind = draw(st.integers(0, 11 if depth < 2 else 5))
    target = draw(st.sampled_from(["x", "y", "t", "w", "x.grad", "t[0]", "a, *b", "torch.tensor", "x.shape"]))
    if kind == 0:
        return [f"{target} = {draw(e)}"]
    if kind == 1:
        return [f"{target} += {draw(e)}"]
    if kind == 2:
        return [draw(e)]
    if kind == 3:
        return [f"import {draw(st.sampled_from(['torch', 'math', 'numpy as np', 'os', 'torch.nn.functional as F']))}"]
    if kind == 4:
        return [f"del {draw(st.sampled_from(['x', 'y', 't[0]', 'x.grad']))}"]
    if kind == 5:
        return [f"assert {draw(e)}"]
    body = [("    " + line) for line in draw(st.lists(statements(depth + 1), min_size=1, max_size=3)) for line in line]
    header = {
        6: f"if {draw(e)}:",
        7: "for x in range(3):",
        8: "def f(x, *a, k=1, **kw):",
        9: "with torch.no_grad():",
        10: "while y < 3:",
        11: "try:",
    }[kind]
    lines = [header, *body]
    if kind == 10:
        lines.insert(1, "    y += 1")
    if kind == 11:
        lines += ["except Exception as e:", f"    print({draw(e)})", "finally:", "    pass"]
    return lines


PRELUDE = "import torch\nimport math\nimport numpy as np\nx = torch.ones(2, requires_grad=True)\ny = 0\n"


@SETTINGS
@given(st.lists(statements(), min_size=1, max_size=6))
def test_generated_programs_end_cleanly(blocks: list[list[str]]) -> None:
    check(PRELUDE + "\n".join(line for block in blocks for line in block) + "\n")


@st.composite
def mutated_corpus(draw):
    text = draw(st.sampled_from(CORPUS)).read_text()
    for _ in range(draw(st.integers(1, 4))):
        lines = text.split("\n")
        op = draw(st.integers(0, 6))
        i = draw(st.integers(0, max(len(lines) - 1, 0)))
        j = draw(st.integers(0, max(len(lines) - 1, 0)))
        if op == 0 and len(text) > 1:  # cut a span of characters
            a = draw(st.integers(0, len(text) - 1))
            text = text[:a] + text[a + draw(st.integers(1, 20)) :]
        elif op == 1:  # duplicate a line
            lines.insert(j, lines[i])
            text = "\n".join(lines)
        elif op == 2:  # swap two lines
            lines[i], lines[j] = lines[j], lines[i]
            text = "\n".join(lines)
        elif op == 3:  # insert a token
            a = draw(st.integers(0, len(text)))
            token = draw(st.sampled_from(["(", ")", ":", "[", "**", " 10 ** 12 ", ".__class__", "\n    ", "'", "*"]))
            text = text[:a] + token + text[a:]
        elif op == 4:  # make a number huge
            text = re.sub(r"\b\d+\b", lambda m: m.group(0) + "0" * draw(st.integers(0, 12)), text, count=3)
        elif op == 5:  # re-indent a line
            lines[i] = "    " + lines[i]
            text = "\n".join(lines)
        else:  # drop a line
            del lines[i]
            text = "\n".join(lines)
    return text


@SETTINGS
@given(mutated_corpus())
def test_mutated_corpus_scripts_end_cleanly(src: str) -> None:
    check(src)


@settings(max_examples=150, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck), database=None)
@given(st.text(alphabet=st.sampled_from(list("x1(),:[]{}=.+*'\"\\\n \t#@!<>-_ab\x00é")), max_size=60))
def test_raw_text_ends_cleanly(src: str) -> None:
    check(src)
