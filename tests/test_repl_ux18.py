"""ux18: the REPL, typed in a real pseudo-terminal and fed through a pipe: what a new user meets there."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

pexpect = pytest.importorskip("pexpect")

from test_repl_pty import Terminal  # noqa: E402  (the pty driver of tests/test_repl_pty.py)

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="needs a POSIX pseudo-terminal")

OPEN_HINT = (
    "hint: `open` is one of the Python builtins tsr leaves out: scripts cannot open files; torch.save and "
    "torch.load save and load tensors and state dicts (in the working directory, or in a directory given with "
    "--allow-path DIR)"
)


def piped(text: str, cwd: Path) -> subprocess.CompletedProcess:
    env = dict(os.environ, NO_COLOR="1", TERM="dumb")
    return subprocess.run(
        [sys.executable, "-m", "tcli", "repl"], input=text, capture_output=True, text=True, env=env, cwd=cwd,
        timeout=120,
    )  # fmt: skip


def test_a_refused_builtin_says_why_and_the_session_goes_on(tmp_path: Path) -> None:
    t = Terminal(tmp_path)
    t.prompt()
    t.type("x = torch.arange(3.)")
    t.child.send("f = open('data.txt')\r")
    t.wait(r"<input>:1:5: NameError: name 'open' is not defined")
    t.wait(r"\| {5}\^\^\^\^")
    # (the terminal may wrap the hint: compare it with the line breaks taken out)
    t.prompt()
    assert OPEN_HINT.replace(" ", "") in t.text().replace("\n", "").replace(" ", "")
    t.child.send("eval('1')\r")
    t.wait(r"hint: `eval` is one of the Python builtins tsr leaves out: tsr never runs text as code")
    t.prompt()
    t.child.send("x * 2\r")
    t.wait(r"tensor\(\[0\., 2\., 4\.\]\)")
    t.prompt()
    assert t.finish() == 0


def test_graph_of_a_running_total_typed_in_the_terminal(tmp_path: Path) -> None:
    t = Terminal(tmp_path)
    t.prompt()
    t.type("w = torch.ones(3, requires_grad=True)")
    t.type("s = torch.zeros(())")
    t.child.send("for i in range(40):\r")
    t.child.send("s = s + (w * i).sum()\r")
    t.child.send("\r")
    t.prompt()
    t.child.send(":graph s\r")
    t.wait(r"s = AddBackward0  shape=\(\)\n├── AddBackward0  shape=\(\)\n")
    t.wait(r"├── … 31 more levels like these \(AddBackward0\), their other inputs not drawn …")
    t.prompt()
    t.child.send("s.backward()\r")
    t.wait(r"gradients: w\.grad \(3,\)")
    t.prompt()
    t.child.send("graph(w)\r")
    t.wait(r"w: leaf tensor  shape=\(3,\)  requires_grad  grad=tensor\(\[780\., 780\., 780\.\]\)")
    t.prompt()
    assert t.finish() == 0


def test_the_same_through_a_pipe(tmp_path: Path) -> None:
    p = piped(
        "f = open('x')\n"
        "w = torch.ones(3, requires_grad=True)\n"
        "s = torch.zeros(())\n"
        "for i in range(40):\n"
        "    s = s + (w * i).sum()\n"
        "\n"
        ":graph s\n"
        "raise SystemExit(3)\n"
        "s.item()\n",
        tmp_path,
    )
    assert p.returncode == 0
    assert p.stderr.splitlines() == [
        "<stdin>:1:5: NameError: name 'open' is not defined",
        "    1 | f = open('x')",
        "      |     ^^^^",
        OPEN_HINT,
        "<stdin>:8:7: NameError: name 'SystemExit' is not defined",
        "    8 | raise SystemExit(3)",
        "      |       ^^^^^^^^^^",
        "hint: `SystemExit` is one of the Python builtins tsr leaves out: end the script with sys.exit(code), or "
        "exit(code)",
    ]
    out = p.stdout.splitlines()
    assert "│   │   │   ├── … 31 more levels like these (AddBackward0), their other inputs not drawn …" in out
    assert len(out) < 40 and out[-1] == "2340.0"
