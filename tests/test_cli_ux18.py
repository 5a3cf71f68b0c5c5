"""ux18: tcli as a demanding new user meets it: `tcli run` errors, graph() on bigger graphs, bench's columns.

Each test runs tcli as a user does (a subprocess: its stdout, stderr and exit status) or renders what the
user would see."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tcli import policy
from tcli.session import Session

ENV = dict(os.environ, NO_COLOR="1", TERM="dumb")


def tcli(*args: str, stdin: str | None = None, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "tcli", *args], input=stdin, capture_output=True, text=True, env=ENV, cwd=cwd,
        timeout=120,
    )  # fmt: skip


def run(src: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    status = Session(stdout=out, stderr=err, color=False).run_source(textwrap.dedent(src), "prog.tsr")
    return status, out.getvalue(), err.getvalue()


# ---------------------------------------------------------------------------------------------------------
# A Python builtin tsr leaves out says why, and what to do instead
# ---------------------------------------------------------------------------------------------------------


def test_open_says_why_it_is_missing_and_what_to_use(tmp_path: Path) -> None:
    script = tmp_path / "read.tsr"
    script.write_text('import torch\nf = open("data.txt")\n')
    p = tcli("run", str(script))
    assert p.returncode == 1 and p.stdout == ""
    assert p.stderr == (
        f"{script}:2:5: NameError: name 'open' is not defined\n"
        '    2 | f = open("data.txt")\n'
        "      |     ^^^^\n"
        "hint: `open` is one of the Python builtins tsr leaves out: scripts cannot open files; torch.save and "
        "torch.load save and load tensors and state dicts (in the working directory, or in a directory given "
        "with --allow-path DIR)\n"
    )
    assert "Traceback" not in p.stderr


@pytest.mark.parametrize("name", sorted(policy.REFUSED_BUILTINS))
def test_every_refused_builtin_has_its_hint(name: str) -> None:
    status, out, err = run(f"x = {name}\n")
    assert status == 1 and out == ""
    head, excerpt, caret, hint = err.splitlines()
    assert head == f"prog.tsr:1:5: NameError: name '{name}' is not defined"
    assert caret == "      |     " + "^" * len(name)
    assert hint == f"hint: `{name}` is one of the Python builtins tsr leaves out: {policy.REFUSED_BUILTINS[name]}"
    assert name not in policy.BUILTIN_FUNCTIONS  # (a hint for a builtin tsr has would be wrong)


def test_eval_and_import_from_stdin_and_c() -> None:
    p = tcli("run", "-", stdin='os = __import__("os")\n')
    assert p.returncode == 1
    assert p.stderr.splitlines()[-1] == (
        "hint: `__import__` is one of the Python builtins tsr leaves out: write an import statement "
        "(`import math`); tsr(5), IMPORTS, lists the modules a script can import"
    )
    p = tcli("run", "-c", 'print(eval("1 + 1"))')
    assert p.returncode == 1 and p.stderr.startswith("<string>:1:7: NameError: name 'eval' is not defined\n")
    assert "tsr never runs text as code" in p.stderr


def test_a_script_s_own_name_is_not_hinted() -> None:
    # a variable called `input` is the script's: defined, it works; a misspelt local is Python's suggestion
    assert run("input = 3\nprint(input)\n")[:2] == (0, "3\n")
    status, _, err = run("def f():\n    inputs = 1\n    return input\nf()\n")
    assert status == 1 and "hint:" in err  # input itself is refused, so the hint says why
    status, _, err = run("def f():\n    value = 1\n    return valeu\nf()\n")
    assert status == 1 and "Did you mean: 'value'?" in err and "hint:" not in err


# ---------------------------------------------------------------------------------------------------------
# tcli bench explains its columns
# ---------------------------------------------------------------------------------------------------------


def test_bench_help_explains_every_column() -> None:
    from tcli import bench

    p = tcli("bench", "--help")
    assert p.returncode == 0
    text = p.stdout.split("Columns:", 1)[1].split("\n\n", 1)[0]
    explained = {w.strip(",") for line in text.splitlines() if line.startswith("    ") for w in line.split()[:2]}
    assert set(bench.COLUMNS) - {"workload", "shape"} <= explained


def test_bench_table_says_what_its_figures_are() -> None:
    p = tcli("bench", "--only", "tiny_add", "--size", "small", "--repeat", "3", "--compare", "none")
    assert p.returncode == 0, p.stderr
    lines = p.stdout.splitlines()
    assert lines[-2:] == [
        "times: median per call; floor: the same arithmetic in plain numpy (cupy on cuda)",
        "/floor, /torch: engine time over theirs (below 1x: faster); every column: tcli bench --help",
    ]
