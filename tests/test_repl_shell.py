"""The REPL's logic without a screen: multi-line detection, the plain line reader, echo, the backward summary,
errors that do not end the session, and the prompt_toolkit session driven through a pipe input."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from prompt_toolkit.input import create_pipe_input
from prompt_toolkit.output import DummyOutput

from tcli import parser
from tcli.repl import (
    ReplOptions,
    Shell,
    calls_backward,
    indent_for,
    input_ready,
    make_prompt_session,
    read_inputs,
    run_plain,
)


@pytest.fixture(autouse=True)
def engine_defaults_restored() -> Iterator[None]:
    """The engine's default dtype/device and grad mode are process-wide: leave them as found for the
    test files that run after this one."""
    import engine

    yield
    engine.set_default_dtype(engine.float32)
    engine.set_default_device("cpu")
    engine.set_grad_enabled(True)


def make_shell(**options: object) -> tuple[Shell, io.StringIO, io.StringIO]:
    out, err = io.StringIO(), io.StringIO()
    opts = ReplOptions(color=False, **options)  # type: ignore[arg-type]
    return Shell(opts, stdout=out, stderr=err, width=80), out, err


def run_lines(text: str, **options: object) -> tuple[str, str, int]:
    shell, out, err = make_shell(**options)
    status = run_plain(shell, io.StringIO(text))
    return out.getvalue(), err.getvalue(), status


# ---------------------------------------------------------------------------------------------------------
# multi-line input
# ---------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, ready",
    [
        ("1 + 1", True),
        ("", True),
        ("   ", True),
        (":vars", True),
        ("for i in range(3):", False),
        ("for i in range(3):\n    print(i)", False),
        ("for i in range(3):\n    print(i)\n", True),
        ("for i in range(3):\n    print(i)\n    ", True),  # the auto-indented empty line ends the block
        ("def f(x):\n    return x\n", True),
        ("with torch.no_grad():\n    y = x * 2\n", True),
        ("x = (1,\n", False),  # an empty line does not close a bracket
        ("x = [1,\n 2]", True),
        ("x = [1,\n    2", False),
        ("x = [1,\n    2]", True),
        ("for i in range(3):\n    x = [i,\n         2]", False),
        ("if x:\n    pass\nelse:", False),
        ("s = '''abc", False),
        ("y = 1 + \\", False),
        ("for i in range(3): print(i)", True),
        ("1 +* 2", True),  # a syntax error is complete: running it reports the error
    ],
)
def test_input_ready(text: str, ready: bool) -> None:
    assert input_ready(text, parser.is_complete) is ready


@pytest.mark.parametrize(
    "before, indent",
    [("for i in range(3):", "    "), ("    x = 1", "    "), ("    return x", ""), ("        pass", "    "), ("x", "")],
)
def test_indent_for(before: str, indent: str) -> None:
    assert indent_for("first\n" + before) == indent


def test_calls_backward_reads_the_parse() -> None:
    assert calls_backward("loss.backward()")
    assert calls_backward("for _ in range(3):\n    (w * 2).sum().backward(retain_graph=True)")
    assert calls_backward("torch.autograd.backward(y)")
    assert not calls_backward("print('x.backward()')")
    assert not calls_backward("y = x * 2")


def test_read_inputs_groups_lines_as_enter_would() -> None:
    lines = ["x = 1\n", "\n", "for i in range(2):\n", "    x += i\n", "\n", "x\n", "if x:\n", "    x\n"]
    assert list(read_inputs(lines, parser.is_complete)) == [
        "x = 1",
        "for i in range(2):\n    x += i\n",
        "x",
        "if x:\n    x",  # what is left at the end of input runs
    ]


# ---------------------------------------------------------------------------------------------------------
# plain mode: exact output
# ---------------------------------------------------------------------------------------------------------


def test_plain_echo_is_pythons() -> None:
    out, err, status = run_lines("1 + 1\nNone\nx = 5\nx\n'a' * 3\nprint('hi')\n[1, 2]\n")
    assert (out, err, status) == ("2\n5\n'aaa'\nhi\n[1, 2]\n", "", 0)


def test_classes_and_generators_echo_as_in_pythons_repl() -> None:
    out, err, _ = run_lines("torch.Tensor\ntorch.nn.Parameter\ntype(torch.ones(1))\n(i for i in range(3))\n")
    assert err == ""
    lines = out.splitlines()
    assert lines[:3] == ["<class 'torch.Tensor'>", "<class 'torch.nn.parameter.Parameter'>", "<class 'torch.Tensor'>"]
    assert lines[3].startswith("<generator object <genexpr> at 0x")


def test_an_echo_too_large_to_print_is_a_positioned_error() -> None:
    _, err, _ = run_lines("[0] * 10**7\n")
    assert err.startswith("<stdin>:1:1: MemoryError: printing this value would take over 10,000,000 characters")


def test_expressions_in_a_trailing_block_echo_as_in_pythons_repl() -> None:
    # Python's REPL runs the last statement in 'single' mode: every expression statement in its blocks
    # is shown (not inside functions, not in earlier statements of a paste)
    out, err, _ = run_lines(
        "for i in range(3):\n    i\n\n"
        "if True:\n    None\n    'a'\n\n"
        "def f():\n    7\n\nf()\n"
        "for k in range(2):\n    k / (1 - k)\n\n"
        "_\n"
    )
    assert out == "0\n1\n2\n'a'\n0.0\n0.0\n"
    assert "ZeroDivisionError" in err


def test_backward_summary_comes_before_the_trailing_value() -> None:
    out, _, _ = run_lines("w = torch.ones(2, requires_grad=True)\n(w * 2).sum().backward(); w.grad\n")
    assert out.splitlines() == [
        "gradients: w.grad (2,)",
        "shape (2,) · torch.float32 · cpu · requires_grad=False",
        "tensor([2., 2.])",
    ]


def test_plain_tensor_echo_has_header_and_torch_format() -> None:
    out, err, _ = run_lines("torch.arange(6.).reshape(2, 3)\ntorch.ones(2, dtype=torch.float64, requires_grad=True)\n")
    assert err == ""
    assert out == (
        "shape (2, 3) · torch.float32 · cpu · requires_grad=False\n"
        "tensor([[0., 1., 2.],\n"
        "        [3., 4., 5.]])\n"
        "shape (2,) · torch.float64 · cpu · requires_grad · leaf · grad None\n"
        "tensor([1., 1.], dtype=torch.float64, requires_grad=True)\n"
    )


def test_large_tensors_are_summarised_as_torch_does() -> None:
    out, _, _ = run_lines("torch.arange(5000)\n")
    assert out.splitlines()[1] == "tensor([   0,    1,    2,  ..., 4997, 4998, 4999])"


def test_backward_names_the_leaves_that_received_gradients() -> None:
    out, err, _ = run_lines(
        "w = torch.ones(3, requires_grad=True)\n"
        "b = torch.zeros(1, requires_grad=True)\n"
        "frozen = torch.ones(3, requires_grad=True)\n"
        "params = [torch.ones(2, requires_grad=True)]\n"
        "loss = (w * 2 + b).sum() + params[0].sum()\n"
        "loss.backward()\n"
    )
    assert err == ""
    assert out == "gradients: b.grad (1,), params[0].grad (2,), w.grad (3,)\n"


def test_second_backward_accumulating_in_place_is_reported_again() -> None:
    out, _, _ = run_lines(
        "x = torch.ones(2, requires_grad=True)\n(x * 3).sum().backward()\n(x * 3).sum().backward()\nx.grad\n"
    )
    assert out.splitlines() == [
        "gradients: x.grad (2,)",
        "gradients: x.grad (2,)",
        "shape (2,) · torch.float32 · cpu · requires_grad=False",
        "tensor([6., 6.])",
    ]


def test_errors_are_reported_with_caret_and_the_session_goes_on() -> None:
    out, err, status = run_lines("x = torch.ones(2, 3)\ny = x @ x\nx.sum()\n")
    assert status == 0
    assert err.splitlines() == [
        "<stdin>:2:5: RuntimeError: mat1 and mat2 shapes cannot be multiplied (2x3 and 2x3)",
        "    2 | y = x @ x",
        "      |     ^^^^^",
    ]
    assert out.endswith("tensor(6.)\n")


def test_autograd_hint_is_shown() -> None:
    _, err, _ = run_lines("w = torch.ones(2, requires_grad=True)\nw += 1\n")
    assert "RuntimeError: a leaf Variable that requires grad" in err
    assert "hint: update the leaf inside `with torch.no_grad():`" in err


def test_multi_line_block_in_plain_mode() -> None:
    out, err, _ = run_lines("total = 0\nfor i in range(4):\n    total += i\n\ntotal\n")
    assert (out, err) == ("6\n", "")


def test_options_reach_the_session() -> None:
    out, _, _ = run_lines("torch.get_default_dtype()\ntorch.rand(2)\n", dtype="float64", seed=0)
    assert out.splitlines()[0] == "torch.float64"
    # torch's values for manual_seed(0) in float64; no dtype suffix, since float64 is now the default
    assert out.splitlines()[1:] == [
        "shape (2,) · torch.float64 · cpu · requires_grad=False",
        "tensor([0.9701, 0.7078])",
    ]


def test_quit_stops_reading() -> None:
    out, _, status = run_lines("1\n:quit\n2\n")
    assert (out, status) == ("1\n", 0)


def test_interrupted_cell_keeps_the_session() -> None:
    shell, out, err = make_shell()
    shell.handle("x = torch.ones(2)")
    limits = shell.session.limits
    limits.timeout = 0.2  # SIGALRM stands in for Ctrl-C here; the pty test sends a real Ctrl-C
    shell.handle("while True:\n    x = x + 0\n")
    limits.timeout = None
    assert "TimeoutError" in err.getvalue()
    shell.handle("x")
    assert out.getvalue().endswith("tensor([1., 1.])\n")


def test_keyboard_interrupt_in_a_cell_is_reported_and_the_session_stays(monkeypatch: pytest.MonkeyPatch) -> None:
    shell, out, err = make_shell()
    shell.handle("x = torch.ones(2)")
    real = shell.session.interp.eval_node

    def interrupt(node: object) -> object:
        raise KeyboardInterrupt

    monkeypatch.setattr(shell.session.interp, "eval_node", interrupt)
    assert shell.handle("x + 1") is True
    monkeypatch.setattr(shell.session.interp, "eval_node", real)
    assert "KeyboardInterrupt" in err.getvalue()
    shell.handle("x")
    assert out.getvalue().endswith("tensor([1., 1.])\n")


def test_toolbar_shows_device_dtype_grad_mode_and_memory() -> None:
    shell, _, _ = make_shell()
    shell.handle("a = torch.zeros(256)")  # 1 KiB of float32
    shell.handle("torch.set_grad_enabled(False)")
    text = "".join(t for _, t in shell.toolbar())
    shell.handle("torch.set_grad_enabled(True)")  # the grad mode is the process's
    assert "device cpu" in text and "dtype float32" in text and "grad off" in text and "tensors 1.0 KiB" in text


# ---------------------------------------------------------------------------------------------------------
# the prompt_toolkit session, through a pipe
# ---------------------------------------------------------------------------------------------------------


def prompt_once(*chunks: str, shell: Shell | None = None, history: object = None) -> str:
    """Type keys into a PromptSession on a pipe; chunks after the first are sent from a thread after a
    pause, for keys that must wait for something asynchronous (completion runs in the background)."""
    shell = shell or make_shell()[0]
    with create_pipe_input() as inp:
        session = make_prompt_session(shell, history=history, input=inp, output=DummyOutput())
        inp.send_text(chunks[0])

        def later() -> None:
            for chunk in chunks[1:]:
                # wait for the asynchronous step (a completion) to show in the buffer, not a fixed time: on a
                # loaded machine 0.3s was sometimes too short (3s at most, then send anyway)
                time.sleep(0.3)
                typed = chunks[0].rstrip("\t")
                if chunks[0].endswith("\t"):  # a Tab: wait (3s at most) until the completion changed the text
                    for _ in range(30):
                        if session.default_buffer.text not in ("", typed):
                            break
                        time.sleep(0.1)
                inp.send_text(chunk)
            # a prompt still open after its keys would hang the test: Alt-Enter ends it (and the
            # assertion on its text fails instead)
            if not done.wait(5):
                inp.send_text("\x1b\r")

        done = threading.Event()

        thread = threading.Thread(target=later, daemon=True)
        thread.start()
        try:
            return session.prompt()
        finally:
            done.set()
            thread.join()


def test_enter_runs_a_complete_line() -> None:
    assert prompt_once("x = 1\r") == "x = 1"


def test_block_continues_with_auto_indent_until_an_empty_line() -> None:
    assert prompt_once("for i in range(3):\rprint(i)\r\r") == "for i in range(3):\n    print(i)"


def test_nested_block_and_dedent_after_return() -> None:
    keys = "def f(x):\rif x:\rreturn 1\rreturn 2\r\r"
    assert prompt_once(keys) == "def f(x):\n    if x:\n        return 1\n    return 2"


def test_open_bracket_continues_past_empty_lines() -> None:
    assert prompt_once("x = (1,\r\r2)\r") == "x = (1,\n\n2)"


def test_alt_enter_runs_at_once() -> None:
    assert prompt_once("for i in range(3):\x1b\r") == "for i in range(3):"


def test_tab_completes_torch_functions() -> None:
    assert prompt_once("y = torch.zeros_l\t", "\r") == "y = torch.zeros_like"


def test_tab_completes_meta_commands() -> None:
    assert prompt_once(":gradch\t", "\r") == ":gradcheck"


def test_enter_picks_the_selected_completion_without_running() -> None:
    shell = make_shell()[0]
    shell.handle("x = torch.ones(2, requires_grad=True)")
    # Tab inserts the common part "grad" and opens the menu (grad, grad_fn); two Tabs select grad_fn;
    # Enter takes the selection without running the line, so typing goes on after it
    assert prompt_once("x.gra\t", "\t\t", "\r", ".name()\r", shell=shell) == "x.grad_fn.name()"


def test_tab_at_line_start_indents() -> None:
    # Backspace in the indentation removes one level; Tab puts it back
    assert prompt_once("if True:\r\x7f\tpass\r\r") == "if True:\n    pass"


def test_bracketed_paste_of_a_script_runs_as_one_input() -> None:
    script = "a = 1\nfor i in range(2):\n    a += i\n\nb = a * 2\n"
    assert prompt_once("\x1b[200~" + script + "\x1b[201~\r") == script.rstrip()


def past_inputs() -> object:
    from prompt_toolkit.history import InMemoryHistory

    history = InMemoryHistory()
    for line in ("alpha = 1", "for i in range(2):\n    beta = i", "gamma = 3"):
        history.append_string(line)
    return history


def test_up_and_down_walk_the_history() -> None:
    assert prompt_once("\x1b[A", "\r", history=past_inputs()) == "gamma = 3"
    # a multi-line entry comes back whole; Up moves through its lines before going further back
    assert (
        prompt_once("\x1b[A\x1b[A", "\x1b[A\x1b[A", "\x1b[B", "\r", history=past_inputs())
        == "for i in range(2):\n    beta = i"
    )


def test_ctrl_r_searches_the_history() -> None:
    assert prompt_once("\x12alp", "\r", "\r", history=past_inputs()) == "alpha = 1"


def test_ctrl_c_clears_and_ctrl_d_exits() -> None:
    with pytest.raises(KeyboardInterrupt):
        prompt_once("half typed\x03")
    with pytest.raises(EOFError):
        prompt_once("\x04")


def test_importing_the_cli_loads_no_screen_libraries() -> None:
    # `tcli --help` and `tcli run` must not pay for prompt_toolkit, rich or the REPL's modules
    code = (
        "import sys, tcli.cli\n"
        "heavy = ('prompt_toolkit', 'rich', 'pygments', 'tcli.repl', 'tcli.meta', 'tcli.repl_render')\n"
        "print([m for m in heavy if m in sys.modules])\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.stdout == "[]\n", done.stderr


def test_history_file_is_created_or_falls_back_to_memory(tmp_path: Path) -> None:
    from prompt_toolkit.history import FileHistory, InMemoryHistory

    from tcli.repl import default_history_path, make_history

    path = tmp_path / "deep" / "dir" / "history"
    assert isinstance(make_history(str(path)), FileHistory) and path.exists()
    warnings: list[str] = []
    blocked = tmp_path / "file"
    blocked.write_text("")
    assert isinstance(make_history(str(blocked / "history"), warnings.append), InMemoryHistory)
    assert warnings and "will not be saved" in warnings[0]
    assert default_history_path().endswith(os.path.join("tcli", "history"))


def test_default_history_follows_xdg_state_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from tcli.repl import default_history_path

    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path))
    assert default_history_path() == str(tmp_path / "tcli" / "history")


@pytest.mark.parametrize(
    ("args", "rc", "err"),
    [
        (["--timeout", "inf"], 0, ""),
        (["--timeout", "nan"], 2, "nan is not a number of seconds"),
        (["--seed", "99999999999999999999"], 2, "is outside the seeds torch accepts"),
    ],
)
def test_limits_are_checked_as_tcli_run_checks_them(args: list, rc: int, err: str) -> None:
    """A value tcli run refuses is a usage error here too, never a traceback; inf means no limit."""
    done = subprocess.run(
        [sys.executable, "-m", "tcli", "repl", *args], input="1+1\n", capture_output=True, text=True, timeout=60
    )
    assert done.returncode == rc, done.stderr
    assert err in done.stderr and "Traceback" not in done.stderr
    if rc == 0:
        assert done.stdout.strip() == "2"


def test_piped_errors_point_at_the_line_of_stdin() -> None:
    """A script piped into the REPL reads like `tcli run -`: each error names its line in the stream (blank
    lines and earlier blocks counted), not line 1 of the input it was grouped into."""
    text = "x = torch.ones(2)\n\nx.foo\nfor i in range(2):\n    i\n    i.bar\n\ny = 1 +\n"
    out, err, status = run_lines(text)
    assert status == 0
    assert out == "0\n"  # the loop's echo of i before i.bar fails
    assert err.splitlines() == [
        "<stdin>:3:1: AttributeError: 'Tensor' object has no attribute 'foo'",
        "    3 | x.foo",
        "      | ^^^^^",
        "<stdin>:6:5: AttributeError: 'int' object has no attribute 'bar'",
        "    6 |     i.bar",
        "      |     ^^^^^",
        "<stdin>:8:8: SyntaxError: invalid syntax",
        "    8 | y = 1 +",
        "      |        ^",
    ]


def test_numbered_inputs_start_lines() -> None:
    from tcli.repl import numbered_inputs

    lines = ["\n", "x = 1\n", "\n", "\n", "if x:\n", "    x\n", "\n", "x\n"]
    assert list(numbered_inputs(lines, parser.is_complete)) == [(2, "x = 1"), (5, "if x:\n    x\n"), (8, "x")]
