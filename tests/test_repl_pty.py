"""End to end: `tcli repl` in a real pseudo-terminal, typed as a person would, and in a pipe.

The terminal test answers prompt_toolkit's cursor-position requests as a terminal does (so the bottom
toolbar is drawn) and reads the screen as the text left after removing escape sequences.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

pexpect = pytest.importorskip("pexpect")

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="needs a POSIX pseudo-terminal")

ROOT = Path(__file__).resolve().parents[1]
ANSI = re.compile(r"\x1b\[[0-9;?<>=]*[ -/]*[@-~]|\x1b[()][0-9A-B]|\x1b[=>78]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)")
CPR_REQUEST = "\x1b[6n"


def environment(home: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "COLUMNS", "LINES", "PYTHONSTARTUP")}
    env.update(HOME=str(home), XDG_STATE_HOME=str(home / "state"), TERM="xterm", PYTHONIOENCODING="utf-8")
    env.update(extra)
    return env


class Terminal:
    """A spawned `tcli repl` and what its screen has shown."""

    def __init__(self, home: Path, *args: str, **env: str) -> None:
        self.child = pexpect.spawn(
            sys.executable, ["-m", "tcli", "repl", *args], env=environment(home, **env), cwd=str(home),
            dimensions=(40, 110), encoding="utf-8", codec_errors="replace", timeout=15,
        )  # fmt: skip
        self.raw = ""
        self.mark = 0  # where the next wait starts looking, in text()

    def text(self) -> str:
        return ANSI.sub("", self.raw).replace("\r", "")

    def _read(self) -> None:
        try:
            chunk = self.child.read_nonblocking(65536, timeout=0.05)
        except pexpect.TIMEOUT:
            return
        self.raw += chunk
        for _ in range(chunk.count(CPR_REQUEST)):  # answer as a terminal would: row 1, column 1
            self.child.send("\x1b[1;1R")

    def pause(self, seconds: float) -> None:
        """Let time pass while still answering the terminal's requests (a sleep would leave prompt_toolkit
        waiting for its cursor-position answer, and swallow the next key)."""
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            self._read()

    def wait(self, pattern: str, timeout: float = 15) -> re.Match:
        """Wait until `pattern` (a regex) appears on the screen after the previous match."""
        end = time.monotonic() + timeout
        while True:
            m = re.compile(pattern).search(self.text(), self.mark)
            if m:
                self.mark = m.end()
                return m
            if time.monotonic() > end:
                raise AssertionError(f"{pattern!r} did not appear; the screen ends with:\n{self.text()[-2000:]}")
            if not self.child.isalive():
                self._read()
                if not re.compile(pattern).search(self.text(), self.mark):
                    raise AssertionError(f"tcli exited before {pattern!r}:\n{self.text()[-2000:]}")
            self._read()

    def prompt(self) -> None:
        self.wait(r">>> ?")

    def type(self, line: str, then_prompt: bool = True) -> None:
        """Type a line and press Enter; wait for the next prompt (the echo of the line goes past first)."""
        self.child.send(line + "\r")
        if then_prompt:
            self.prompt()

    def finish(self) -> int:
        self.child.sendcontrol("d")
        self.child.expect(pexpect.EOF)
        self.raw += self.child.before or ""
        self.child.close()
        return self.child.exitstatus


def test_a_typed_session(tmp_path: Path) -> None:
    t = Terminal(tmp_path)
    t.wait(r"tcli \d+\.\d+\.\d+")
    t.prompt()
    t.wait(r"device cpu\s+dtype float32\s+grad on\s+tensors 0 bytes")  # the bottom toolbar

    # a tensor, echoed with its header line in torch's format
    t.type("x = torch.ones(2, 3, requires_grad=True)")
    t.child.send("x\r")
    t.wait(r"shape \(2, 3\) · torch\.float32 · cpu · requires_grad · leaf · grad None\n")
    t.wait(r"tensor\(\[\[1\., 1\., 1\.\],\n\s+\[1\., 1\., 1\.\]\], requires_grad=True\)")
    t.prompt()

    # backward names the leaf that received a gradient; :graph draws the tree
    t.type("y = (x * 2).sum()")
    t.child.send("y.backward()\r")
    t.wait(r"gradients: x\.grad \(2, 3\)")
    t.prompt()
    t.child.send(":graph y\r")
    t.wait(r"y = SumBackward0  shape=\(\)")
    t.wait(r"│ MulBackward0  shape=\(2, 3\)  saved=\d+  \(freed by backward\)")
    t.wait(r"│ x  torch::autograd::AccumulateGrad  shape=\(2, 3\)  requires_grad  grad=tensor")
    t.prompt()

    # an error, reported with its caret; the session continues
    t.child.send("x @ x\r")
    t.wait(r"<input>:1:1: RuntimeError: mat1 and mat2 shapes cannot be multiplied \(2x3 and 2x3\)")
    t.wait(r"1 \| x @ x\n\s+\| \^\^\^\^\^")
    t.prompt()
    t.child.send("x.sum()\r")
    t.wait(r"tensor\(6\., grad_fn=<SumBackward0>\)")
    t.prompt()

    # a multi-line for block: continuation prompt, auto-indent, ends on an empty line
    t.type("total = 0")
    t.child.send("for i in range(4):\r")
    t.wait(r"\.\.\.")
    t.child.send("total += i * 10\r")  # auto-indented
    t.child.send("\r")
    t.prompt()
    t.child.send("total\r")
    t.wait(r"\n60\n")
    t.prompt()

    # Ctrl-C interrupts a long loop and returns to the prompt with the session intact
    t.type("n = 0")
    t.child.send("while True:\r")
    t.child.send("n += 1\r")
    t.child.send("\r")
    t.pause(0.7)
    t.child.sendcontrol("c")
    t.wait(r"KeyboardInterrupt")
    t.prompt()
    t.child.send("n > 0 and x.shape == (2, 3)\r")
    t.wait(r"\nTrue\n")
    t.prompt()

    # Ctrl-C at the prompt drops a half-typed line
    t.child.send("half typed")
    t.child.sendcontrol("c")
    t.prompt()
    t.child.send("6 * 7\r")
    t.wait(r"\n42\n")
    t.prompt()

    # the toolbar follows the session: 24 bytes of x, 24 of its grad, 4 of y
    t.wait(r"tensors 52 bytes")

    # Ctrl-D exits with status 0
    assert t.finish() == 0
    history = (tmp_path / "state" / "tcli" / "history").read_text()
    assert "+x = torch.ones(2, 3, requires_grad=True)" in history
    assert "+for i in range(4):\n+    total += i * 10\n" in history

    # history survives a restart: Up recalls the last input of the previous session
    t = Terminal(tmp_path)
    t.prompt()
    t.child.send("\x1b[A")
    t.wait(r"6 \* 7")
    t.child.send("\r")
    t.wait(r"\n42\n")
    t.prompt()
    assert t.finish() == 0


def test_colour_on_a_terminal_and_plain_with_no_color(tmp_path: Path) -> None:
    line = "torch.tensor([1.5, 2.5]) * 2"
    coloured = Terminal(tmp_path)
    coloured.prompt()
    coloured.child.send(line + "\r")
    coloured.wait(r"tensor\(\[3\., 5\.\]\)")
    coloured.prompt()
    assert coloured.finish() == 0
    assert "tensor([3., 5.])" not in coloured.raw  # the numbers carry colour codes
    assert re.search(r"\x1b\[[0-9;]*m3\.", coloured.raw)

    plain = Terminal(tmp_path, NO_COLOR="1")
    plain.prompt()
    plain.child.send(line + "\r")
    plain.wait(r"tensor\(\[3\., 5\.\]\)")
    plain.prompt()
    assert plain.finish() == 0
    assert "shape (2,) · torch.float32 · cpu · requires_grad=False\r\ntensor([3., 5.])\r\n" in plain.raw


def run_piped(stdin: str, *args: str, home: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "tcli", *args], input=stdin, capture_output=True, text=True,
        env=environment(home), cwd=str(home), timeout=60,
    )  # fmt: skip


def test_piped_stdin_gives_exact_plain_output(tmp_path: Path) -> None:
    script = (
        "1 + 1\n"
        "w = torch.tensor([1.0, -2.0], requires_grad=True)\n"
        "loss = (w ** 2).sum()\n"
        "loss.backward()\n"
        "w.grad\n"
        "for i in range(2):\n"
        "    print('step', i)\n"
        "\n"
        "nope\n"
        ":vars\n"
    )
    done = run_piped(script, "repl", home=tmp_path)
    assert done.returncode == 0
    assert done.stdout == (
        "2\n"
        "gradients: w.grad (2,)\n"
        "shape (2,) · torch.float32 · cpu · requires_grad=False\n"
        "tensor([ 2., -4.])\n"
        "step 0\n"
        "step 1\n"
        "name  kind    shape  dtype          device  requires_grad  grad\n"
        "i     int 1                                                    \n"
        "loss  tensor  ()     torch.float32  cpu     True           -   \n"
        "w     tensor  (2,)   torch.float32  cpu     True           (2,)\n"
    )
    assert done.stderr == "<stdin>:9:1: NameError: name 'nope' is not defined\n    9 | nope\n      | ^^^^\n"
    # plain `tcli` is the REPL too, and keeps no history when not on a terminal
    assert run_piped("torch.ones(1).dtype\n", home=tmp_path).stdout == "torch.float32\n"
    assert not (tmp_path / "state" / "tcli" / "history").exists()


def test_repl_options_on_the_command_line(tmp_path: Path) -> None:
    done = run_piped("torch.rand(2)\n", "repl", "--dtype", "float64", "--seed", "0", home=tmp_path)
    assert done.stdout.splitlines() == [
        "shape (2,) · torch.float64 · cpu · requires_grad=False",
        "tensor([0.9701, 0.7078])",
    ]
    done = run_piped("1\n", "repl", "--max-memory", "lots", home=tmp_path)
    assert done.returncode == 2 and "--max-memory" in done.stderr
    if "cupy" not in sys.modules and not _has_cupy():
        done = run_piped("1\n", "repl", "--device", "cuda", home=tmp_path)
        assert done.returncode == 2 and done.stderr.startswith("error: --device cuda: CUDA is not available")


def _has_cupy() -> bool:
    import importlib.util

    return importlib.util.find_spec("cupy") is not None


def test_history_file_completion_paste_suggestion_and_search(tmp_path: Path) -> None:
    history = tmp_path / "elsewhere" / "hist.txt"
    t = Terminal(tmp_path, "--history-file", str(history))
    t.prompt()
    t.type("weights = torch.arange(3.)")
    # Tab completes a name in scope, then a tensor method after the dot (nothing typed is run)
    t.child.send("weig\t")
    t.pause(0.5)
    t.child.send(".cums\t")
    t.pause(0.5)
    t.child.send("(0)\r")
    t.wait(r"weights\.cumsum\(0\)")
    t.wait(r"tensor\(\[0\., 1\., 3\.\]\)")
    t.prompt()

    # a whole script pasted at once (bracketed paste) is one input: blank lines and indentation kept
    t.child.send("\x1b[200~a = 2\nfor i in range(2):\n    a = a * 10\n\nb = [a,\n     a + 1]\n\x1b[201~\r")
    t.prompt()
    t.child.send("b\r")
    t.wait(r"\[200, 201\]")
    t.prompt()

    # auto-suggestion from history: the rest of an earlier input, accepted with Right
    t.child.send("weights.cu")
    t.pause(0.5)
    t.child.send("\x1b[C\r")
    t.wait(r"tensor\(\[0\., 1\., 3\.\]\)")
    t.prompt()

    # Ctrl-R finds an earlier input; Enter takes it, Enter runs it
    t.child.sendcontrol("r")
    t.child.send("b = [")
    t.pause(0.5)
    t.child.send("\r")
    t.pause(0.5)
    t.child.send("\r")
    t.prompt()
    t.type("a = 0")
    t.child.send("b[1] - b[0]\r")
    t.wait(r"\n1\n")
    t.prompt()

    t.child.send(":quit\r")
    t.child.expect(pexpect.EOF)
    t.child.close()
    assert t.child.exitstatus == 0
    kept = history.read_text()
    assert "+weights = torch.arange(3.)\n" in kept
    assert "+a = 2\n+for i in range(2):\n+    a = a * 10\n+\n+b = [a,\n+     a + 1]\n" in kept
    assert kept.count("+b = [a,") == 2  # typed once, run again from the search
    assert not (tmp_path / "state" / "tcli" / "history").exists()  # --history-file replaces the default


@pytest.mark.parametrize("args, env", [(("--no-color",), {}), ((), {"TERM": "dumb"})])
def test_no_color_and_dumb_terminal_echo_plain_text(tmp_path: Path, args: tuple[str, ...], env: dict) -> None:
    t = Terminal(tmp_path, *args, **env)
    t.prompt()
    t.child.send("torch.tensor([1.5, 2.5]) * 2\r")
    t.wait(r"tensor\(\[3\., 5\.\]\)")
    t.prompt()
    t.child.send("1 / 0\r")
    t.wait(r"ZeroDivisionError")
    t.prompt()
    t.pause(0.5)  # a dumb terminal's prompt is written before the tty is in raw mode: let it get there
    assert t.finish() == 0
    assert "shape (2,) · torch.float32 · cpu · requires_grad=False\r\ntensor([3., 5.])\r\n" in t.raw
    assert "<input>:1:1: ZeroDivisionError: division by zero\r\n    1 | 1 / 0\r\n" in t.raw


def test_clauses_dedent_and_try_blocks_wait_for_their_handlers(tmp_path: Path) -> None:
    # `else:` / `except ...:` typed at the body's indentation move one level out, as in IPython; a try block
    # and a decorator wait for the rest instead of running half-typed
    t = Terminal(tmp_path)
    t.prompt()
    t.child.send("if 1 > 2:\r")
    t.wait(r"\.\.\.")
    t.child.send("print('a')\r")  # auto-indented
    t.child.send("else:\r")  # typed at the body's indentation: dedented
    t.child.send("print('b')\r")
    t.child.send("\r")
    t.wait(r"\nb\n")
    t.prompt()
    t.child.send("try:\r")
    t.child.send("1/0\r")
    t.child.send("except ZeroDivisionError:\r")
    t.child.send("print('z')\r")
    t.child.send("\r")
    t.wait(r"\nz\n")
    t.prompt()
    t.child.send("@torch.no_grad()\r")
    t.child.send("def g(v):\r")
    t.child.send("return v * 2\r")
    t.child.send("\r")
    t.prompt()
    t.type("r = g(torch.ones(1, requires_grad=True))")
    t.child.send("r.requires_grad\r")
    t.wait(r"\nFalse\n")
    t.prompt()
    assert "SyntaxError" not in t.text()
    assert t.finish() == 0


def test_a_class_typed_at_the_prompt(tmp_path: Path) -> None:
    """`class Net(nn.Module)` typed line by line (auto-indented), then used: the REPL runs it as a script would."""
    t = Terminal(tmp_path)
    t.prompt()
    t.child.send("class Twice(torch.nn.Module):\r")
    t.wait(r"\.\.\.")
    t.child.send("def forward(self, x):\r")  # auto-indented into the class
    t.child.send("return x * 2\r")  # and into the method
    t.child.send("\r")
    t.prompt()
    t.type("m = torch.nn.Sequential(Twice(), torch.nn.ReLU())")
    t.child.send("m\r")
    t.wait(r"Sequential\(\n  \(0\): Twice\(\)\n  \(1\): ReLU\(\)\n\)")
    t.prompt()
    t.child.send("m(torch.tensor([-1.0, 3.0]))\r")
    t.wait(r"tensor\(\[0\., 6\.\]\)")
    t.prompt()
    assert "Error" not in t.text()
    assert t.finish() == 0
