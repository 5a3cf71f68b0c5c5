"""`tcli run` as a user runs it: a subprocess, its stdout, stderr and exit status."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
HELLO = ROOT / "tcli" / "examples" / "hello.tsr"
ENV = dict(os.environ, NO_COLOR="1", TERM="dumb")


def tcli(
    *args: str, stdin: str | None = None, cwd: Path | None = None, timeout: float = 60
) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "tcli", *args], input=stdin, capture_output=True, text=True, env=ENV,
        cwd=cwd, timeout=timeout,
    )  # fmt: skip


def test_hello_example_prints_pytorchs_answer() -> None:
    p = tcli("run", str(HELLO))
    assert (p.returncode, p.stdout, p.stderr) == (0, "14.0 tensor([2., 4., 6.])\n", "")
    assert len(HELLO.read_text().splitlines()) == 5


def test_script_from_stdin_and_from_c() -> None:
    p = tcli("run", "-", stdin="import torch\nprint(torch.ones(2))\n")
    assert (p.returncode, p.stdout) == (0, "tensor([1., 1.])\n")
    p = tcli("run", "-c", "print(argv)", "a", "--flag")
    assert (p.returncode, p.stdout) == (0, "['-c', 'a', '--flag']\n")


def test_arguments_after_the_file_reach_the_script(tmp_path: Path) -> None:
    script = tmp_path / "args.tsr"
    script.write_text("print(argv[1:])\n")
    p = tcli("run", str(script), "--lr", "0.1", "-v")
    assert (p.returncode, p.stdout) == (0, "['--lr', '0.1', '-v']\n")


def test_shebang_line(tmp_path: Path) -> None:
    tcli_bin = shutil.which("tcli") or str(Path(sys.executable).parent / "tcli")
    if not os.path.exists(tcli_bin):
        pytest.skip("tcli is not installed as a command")
    script = tmp_path / "tool.tsr"
    script.write_text("#!/usr/bin/env -S tcli run\nprint('shebang', argv[1:])\n")
    script.chmod(0o755)
    env = dict(ENV, PATH=f"{Path(tcli_bin).parent}{os.pathsep}{ENV.get('PATH', '')}")
    p = subprocess.run([str(script), "x"], capture_output=True, text=True, env=env, timeout=60)
    assert (p.returncode, p.stdout) == (0, "shebang ['x']\n")


def test_script_error_is_one_positioned_report_and_status_1(tmp_path: Path) -> None:
    script = tmp_path / "bad.tsr"
    script.write_text("import torch\nx = torch.ones(2, requires_grad=True)\nprint('before')\n(x * 2).backward()\n")
    p = tcli("run", str(script))
    assert p.returncode == 1 and p.stdout == "before\n"
    assert p.stderr.splitlines()[0] == (
        f"{script}:4:1: RuntimeError: grad can be implicitly created only for scalar outputs"
    )
    assert "Traceback" not in p.stderr


def test_debug_flag_shows_the_python_traceback(tmp_path: Path) -> None:
    p = tcli("run", "--debug", "-c", "1 / 0")
    assert p.returncode == 1 and "Traceback (most recent call last)" in p.stderr


@pytest.mark.parametrize(
    "args",
    [["run"], ["run", "/nonexistent/x.tsr"], ["run", "--device", "tpu", "x.tsr"],
     ["run", "--max-memory", "lots", "-c", "1"], ["run", "--timeout", "-1", "-c", "1"],
     ["run", "--seed", "x", "-c", "1"], ["run", "--seed", str(2**64), "-c", "1"],
     ["run", "--max-memory", "inf", "-c", "1"], ["run", "--max-memory", "1e30", "-c", "1"],
     ["run", "--max-memory", "nan", "-c", "1"]],
)  # fmt: skip
def test_usage_errors_exit_2(args: list[str]) -> None:
    p = tcli(*args)
    assert p.returncode == 2 and "Traceback" not in p.stderr and p.stderr


def test_cuda_without_a_gpu_is_a_usage_error() -> None:
    import importlib.util

    if importlib.util.find_spec("cupy") is not None:
        pytest.skip("cupy is installed: --device cuda may work here")
    p = tcli("run", "--device", "cuda", "-c", "print(1)")
    assert (p.returncode, p.stdout) == (2, "")
    assert p.stderr.startswith("Error: --device cuda: CUDA is not available") and p.stderr.count("\n") == 1


def test_cuda_in_a_script_without_cupy_is_torchs_assertion_with_the_install_hint() -> None:
    import importlib.util

    if importlib.util.find_spec("cupy") is not None:
        pytest.skip("cupy is installed: cuda may work here")
    src = "import torch\nprint(torch.cuda.is_available())\ntry:\n    torch.ones(1).cuda()\n"
    src += "except AssertionError as e:\n    print(e)\nx = torch.zeros(2, device='cuda')\n"
    p = tcli("run", "-c", src)
    # torch's CPU build: `AssertionError: Torch not compiled with CUDA enabled`; tcli adds what to install
    assert p.stdout == "False\nTorch not compiled with CUDA enabled\n" and p.returncode == 1
    lines = p.stderr.splitlines()
    assert lines[0].endswith(":7:5: AssertionError: Torch not compiled with CUDA enabled")
    assert lines[-1].startswith("hint: CUDA is not available: cupy is not installed; install a CUDA build of cupy")
    assert "pip install 'tcli[cuda13]'" in lines[-1]


def test_timeout_option() -> None:
    p = tcli("run", "--timeout", "0.5", "-c", "while True:\n    pass")
    assert p.returncode == 1
    assert "TimeoutError: the script ran longer than the time limit of 0.5s (--timeout)" in p.stderr


def test_repl_timeout_ends_the_session_stuck_in_one_long_operation() -> None:
    """The REPL cannot interrupt one C call either: past --timeout (and its grace) the session ends with the
    reason, rather than running on past the limit it was given."""
    code = "a = torch.ones(8000, 8000, dtype=torch.float64)\nprint('start')\nb = a @ a\nprint('end')\n"
    p = tcli("repl", "--timeout", "5", stdin=code)
    assert p.returncode == 1
    assert p.stdout == "start\n"
    assert p.stderr.endswith(
        "<stdin>:3:1: TimeoutError: the input ran longer than the time limit of 5s (--timeout) inside one long "
        "operation, which cannot be interrupted; the session ends\n"
    )


def test_timeout_stops_a_single_long_operation() -> None:
    """One numpy call runs to its end before a signal handler can run; tcli run stops the process anyway
    (an 8000x8000 float64 matmul takes many seconds here; the limit is 5s, room for the 512 MB setup on a busy
    machine)."""
    code = "import torch\na = torch.ones(8000, 8000, dtype=torch.float64)\nprint('start')\nb = a @ a\nprint('end')"
    p = tcli("run", "--timeout", "5", "-c", code)
    assert p.returncode == 1
    assert p.stdout == "start\n"
    assert p.stderr == (
        "<string>:4:1: TimeoutError: the script ran longer than the time limit of 5s (--timeout); it was stopped "
        "inside one long operation\n"
    )


@pytest.mark.parametrize("value", ["inf", "1e20"])
def test_timeout_beyond_any_timer_means_no_limit(value: str) -> None:
    p = tcli("run", "--timeout", value, "-c", "print('ran')")
    assert (p.returncode, p.stdout, p.stderr) == (0, "ran\n", "")


def test_timeout_nan_is_a_usage_error() -> None:
    p = tcli("run", "--timeout", "nan", "-c", "print('ran')")
    assert (p.returncode, p.stdout) == (2, "") and "Invalid value for '--timeout'" in p.stderr


def test_max_memory_option() -> None:
    p = tcli("run", "--max-memory", "64M", "-c", "import torch\nx = torch.zeros(100, 1000, 1000)")
    assert p.returncode == 1
    assert "MemoryError: allocating 381.5 MiB would exceed the memory limit of 64.0 MiB (--max-memory)" in p.stderr


def test_seed_dtype_device_options() -> None:
    code = "import torch\nprint(torch.rand(3).tolist(), torch.zeros(1).dtype, torch.zeros(1).device)"
    a = tcli("run", "--seed", "5", "--dtype", "float64", "--device", "cpu", "-c", code)
    b = tcli("run", "--seed", "5", "--dtype", "float64", "-c", code)
    assert a.returncode == 0 and a.stdout == b.stdout and "torch.float64 cpu" in a.stdout


def test_allow_path_option(tmp_path: Path) -> None:
    other = tmp_path / "data"
    other.mkdir()
    code = f"import torch\ntorch.save(torch.ones(1), {str(other / 'w.pt')!r})\nprint('saved')"
    work = tmp_path / "work"
    work.mkdir()
    assert tcli("run", "-c", code, cwd=work).returncode == 1
    p = tcli("run", "--allow-path", str(other), "-c", code, cwd=work)
    assert (p.returncode, p.stdout) == (0, "saved\n")


def test_ctrl_c_stops_with_one_line_and_status_130(tmp_path: Path) -> None:
    script = tmp_path / "spin.tsr"
    script.write_text("print('started', flush=True)\nwhile True:\n    pass\n")
    proc = subprocess.Popen(
        [sys.executable, "-m", "tcli", "run", str(script)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env=ENV,
    )  # fmt: skip
    assert proc.stdout is not None and proc.stdout.readline() == "started\n"
    time.sleep(0.2)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 130
    assert len(err.splitlines()) == 1 and err.rstrip().endswith("KeyboardInterrupt")


def test_cold_start_loads_no_terminal_libraries() -> None:
    p = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "tcli", "run", str(HELLO)], capture_output=True, text=True,
        env=ENV, timeout=60,
    )  # fmt: skip
    assert p.returncode == 0
    imported = {line.split("|")[-1].strip().split(".")[0] for line in p.stderr.splitlines() if "|" in line}
    assert "rich" not in imported and "prompt_toolkit" not in imported and "pygments" not in imported


# ---------------------------------------------------------------------------------------------------------
# options and arguments as a demanding user types them
# ---------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "args,typo,suggestion",
    [(["--sed", "1", "x.tsr"], "--sed", "--seed"), (["--timout=3", "x.tsr"], "--timout", "--timeout")],
)
def test_a_mistyped_option_is_an_unknown_option_not_a_file(args: list[str], typo: str, suggestion: str) -> None:
    p = tcli("run", *args)
    assert (p.returncode, p.stdout) == (2, "")
    assert f"Error: No such option '{typo}'. Did you mean '{suggestion}'?" in p.stderr
    assert "cannot read" not in p.stderr


def test_a_script_whose_name_starts_with_a_dash_still_runs(tmp_path: Path) -> None:
    (tmp_path / "-odd.tsr").write_text("print('odd', argv)\n")
    p = tcli("run", "-odd.tsr", "a", cwd=tmp_path)
    assert (p.returncode, p.stdout, p.stderr) == (0, "odd ['-odd.tsr', 'a']\n", "")


def test_allow_path_must_be_an_existing_directory(tmp_path: Path) -> None:
    p = tcli("run", "--allow-path", str(tmp_path / "nope"), "-c", "print(1)")
    assert (p.returncode, p.stdout) == (2, "") and "does not exist" in p.stderr
    (tmp_path / "f").write_text("")
    p = tcli("run", "--allow-path", str(tmp_path / "f"), "-c", "print(1)")
    assert (p.returncode, p.stdout) == (2, "") and "is a file" in p.stderr


def test_script_for_the_group_says_how_to_run_it(tmp_path: Path) -> None:
    """`tcli train.tsr` (as one types `python train.py`) is a usage error that names the right command."""
    p = tcli("train.tsr", cwd=tmp_path)
    assert p.returncode == 2
    assert "Error: No such command 'train.tsr'. To run a script: tcli run train.tsr" in p.stderr


@pytest.mark.parametrize(
    "args,how",
    [(["-c", "print(1)"], "tcli run -c 'print(1)'"), (["-cprint(2)"], "tcli run -c 'print(2)'"),
     (["-c"], "tcli run -c CODE")],
)  # fmt: skip
def test_c_for_the_group_says_how_to_run_code(args: list[str], how: str) -> None:
    """`tcli -c CODE` (as one types `python -c CODE`) is a usage error that names `tcli run -c`, and runs nothing."""
    p = tcli(*args)
    assert (p.returncode, p.stdout) == (2, "")
    assert p.stderr.endswith(f"Error: No such option '-c'. To run code: {how}\n")


def test_run_has_a_whole_summary_in_the_group_help() -> None:
    p = tcli("--help")
    line = next(x for x in p.stdout.splitlines() if x.strip().startswith("run "))
    assert "..." not in line and "tsr script" in line, line


# ---------------------------------------------------------------------------------------------------------
# reading the script
# ---------------------------------------------------------------------------------------------------------


def test_byte_order_mark_and_windows_line_endings(tmp_path: Path) -> None:
    """What Windows editors save runs as Python runs it."""
    script = tmp_path / "win.tsr"
    script.write_bytes(b"\xef\xbb\xbfif True:\r\n    print('bom')\r\n")
    p = tcli("run", str(script))
    assert (p.returncode, p.stdout, p.stderr) == (0, "bom\n", "")
    p = subprocess.run(
        [sys.executable, "-m", "tcli", "run", "-"], input=script.read_bytes(), capture_output=True, env=ENV, timeout=60
    )  # fmt: skip
    assert (p.returncode, p.stdout, p.stderr) == (0, b"bom\n", b"")


def test_coding_declaration_is_honoured(tmp_path: Path) -> None:
    script = tmp_path / "latin.tsr"
    script.write_bytes("# -*- coding: latin-1 -*-\nprint(len('café'))\n".encode("latin-1"))
    p = tcli("run", str(script))
    assert (p.returncode, p.stdout, p.stderr) == (0, "4\n", "")


def test_undecodable_script_is_one_line_naming_the_position(tmp_path: Path) -> None:
    script = tmp_path / "bad.tsr"
    script.write_bytes(b"x = 1\ny = 2\nprint('a\xff')\n")
    p = tcli("run", str(script))
    assert (p.returncode, p.stdout) == (2, "")
    assert p.stderr.startswith(f"Error: cannot read {script}: not valid UTF-8: byte 0xff at line 3, column 9")
    assert p.stderr.count("\n") == 1
    p = subprocess.run(
        [sys.executable, "-m", "tcli", "run", "-"], input=script.read_bytes(), capture_output=True, env=ENV, timeout=60
    )  # fmt: skip
    assert (p.returncode, p.stdout) == (2, b"")
    assert p.stderr.startswith(b"Error: cannot read standard input: not valid UTF-8: byte 0xff at line 3")


def test_unknown_coding_is_a_usage_error(tmp_path: Path) -> None:
    script = tmp_path / "odd.tsr"
    script.write_text("# coding: klingon\nprint(1)\n")
    p = tcli("run", str(script))
    assert (p.returncode, p.stdout) == (2, "") and "unknown encoding: klingon" in p.stderr


# ---------------------------------------------------------------------------------------------------------
# output and errors
# ---------------------------------------------------------------------------------------------------------


def test_closed_pipe_ends_quietly() -> None:
    """`tcli run x.tsr | head -1`: no BrokenPipeError report, the process ends by SIGPIPE as cat would."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "tcli", "run", "-c", "for i in range(10 ** 7):\n    print(i)"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=ENV,
    )  # fmt: skip
    assert proc.stdout is not None and proc.stdout.readline() == b"0\n"
    proc.stdout.close()
    err = proc.stderr.read() if proc.stderr else b""
    proc.wait(timeout=60)
    assert err == b""
    assert proc.returncode == -signal.SIGPIPE


def test_deep_recursion_report_is_short() -> None:
    p = tcli("run", "-c", "def f(n):\n    return f(n + 1)\nf(0)")
    assert p.returncode == 1
    lines = p.stderr.splitlines()
    assert lines[0] == "<string>:2:5: RecursionError: maximum recursion depth exceeded"  # (Python's, at 999 calls)
    assert lines.count("  called from <string>:2:12") == 3
    assert "  [the call above repeated 995 more times]" in lines
    assert lines[-2:] == ["  called from <string>:3:1", "      3 | f(0)"]
    assert len(lines) < 20


def test_mutual_recursion_report_is_short() -> None:
    p = tcli("run", "-c", "def f(n):\n    return g(n)\ndef g(n):\n    return f(n)\nf(0)")
    assert p.returncode == 1
    assert "  [the 2 calls above repeated 498 more times]" in p.stderr.splitlines()
    assert len(p.stderr.splitlines()) < 20


def test_a_few_repeated_calls_are_all_shown() -> None:
    """Python's rule: a call repeated up to three times is shown in full, the rest counted."""
    p = tcli("run", "-c", "def f(n):\n    return 1 / n if n == 0 else f(n - 1)\nf(5)")
    lines = p.stderr.splitlines()
    assert lines.count("  called from <string>:2:33") == 3
    assert "  [the call above repeated 2 more times]" in lines


@pytest.mark.parametrize(
    "statement,example",
    [
        ("w -= 0.1 * w", "w = w - 0.1 * w"),
        ("w.mul_(2)", "w = w.mul(2)"),
        ("w.clamp_(min=0)", "w = w.clamp(min=0)"),
    ],
)
def test_leaf_inplace_hint_rewrites_the_failing_statement(statement: str, example: str) -> None:
    # the fix offered is no_grad; the out-of-place form is named as the trap it is in a loop (w stops being a leaf)
    p = tcli("run", "-c", f"import torch\nw = torch.ones(2, requires_grad=True)\n{statement}")
    assert p.returncode == 1
    hint = p.stderr.splitlines()[3]
    assert hint == (
        f"hint: update the leaf inside `with torch.no_grad():` (`with torch.no_grad(): {statement}`), so that "
        f"autograd does not record it; `{example}` would make w a computed tensor, whose .grad the next backward "
        "leaves None"
    )


def test_hint_when_grad_is_none_after_a_leaf_was_reassigned() -> None:
    p = tcli(
        "run",
        "-c",
        "import torch\nw = torch.ones(2, requires_grad=True)\nfor i in range(2):\n"
        "    (w * 2).sum().backward()\n    w = w - 0.1 * w.grad\n",
    )
    assert p.returncode == 1
    lines = p.stderr.splitlines()
    assert lines[-4].endswith("TypeError: unsupported operand type(s) for *: 'float' and 'NoneType'")
    assert lines[-1].startswith("hint: `w.grad` is None: backward fills .grad only in the leaf tensors it reached")
    assert "update it in place inside `with torch.no_grad():`" in lines[-1]


def test_leaf_inplace_hint_for_an_item_assignment() -> None:
    p = tcli("run", "-c", "import torch\nw = torch.ones(2, requires_grad=True)\nw[0] = 5")
    assert p.returncode == 1
    assert "hint: update leaf tensors inside `with torch.no_grad():` (`w[0] = ...` writes into the tensor" in p.stderr


def test_memory_check_counts_the_dtype_the_tensor_will_have() -> None:
    """10**7 float32 elements are 38.1 MiB (torch's default dtype), float64 ones 76.3 MiB."""
    code = "import torch\nx = torch.zeros(10 ** 7)"
    p = tcli("run", "--max-memory", "10M", "-c", code)
    assert "MemoryError: allocating 38.1 MiB would exceed the memory limit of 10.0 MiB" in p.stderr
    p = tcli("run", "--max-memory", "10M", "--dtype", "float64", "-c", code)
    assert "MemoryError: allocating 76.3 MiB would exceed" in p.stderr
    p = tcli("run", "--max-memory", "10M", "-c", "import torch\nx = torch.zeros(10 ** 7, dtype=torch.float16)")
    assert "MemoryError: allocating 19.1 MiB would exceed" in p.stderr
    p = tcli("run", "--max-memory", "50M", "-c", "import torch\nx = torch.zeros(10 ** 7)\nprint(x.shape)")
    assert (p.returncode, p.stdout) == (0, "torch.Size([10000000])\n")


def test_file_errors_name_the_path_the_script_wrote(tmp_path: Path) -> None:
    """As torch does: 'missing.pt', not the resolved absolute path."""
    p = tcli("run", "-c", "import torch\ntorch.load('missing.pt')", cwd=tmp_path)
    assert p.returncode == 1
    assert "FileNotFoundError: [Errno 2] No such file or directory: 'missing.pt'" in p.stderr
    assert str(tmp_path) not in p.stderr


def test_numpy_refusal_points_to_torch() -> None:
    p = tcli("run", "-c", "import torch\nimport numpy as np\nnp.cumsum(np.ones(2))")
    assert p.returncode == 1
    assert (
        "'numpy.cumsum' is not available in tsr; tsr's numpy creates arrays and has common elementwise functions, "
        "compute the rest with torch (torch.cumsum, on torch.from_numpy(a))"
    ) in p.stderr


def test_an_internal_error_is_one_line_without_traceback(tmp_path: Path) -> None:
    """A bug in tcli itself (simulated) is reported in one line, and --debug shows the traceback."""
    driver = (
        "import sys, tcli.session as s\n"
        "def broken(self, *a, **k):\n    raise LookupError('simulated bug')\n"
        "s.Session.run_source = broken\n"
        "from tcli.cli import main\nsys.argv = ['tcli', 'run', *sys.argv[1:]]\nmain()\n"
    )
    run = [sys.executable, "-c", driver]
    p = subprocess.run([*run, "-c", "print(1)"], capture_output=True, text=True, env=ENV, timeout=60)
    assert p.returncode == 1
    assert p.stderr == "tcli: internal error: LookupError: simulated bug (a bug in tcli; --debug shows where)\n"
    p = subprocess.run([*run, "--debug", "-c", "print(1)"], capture_output=True, text=True, env=ENV, timeout=60)
    assert p.returncode == 1 and "Traceback (most recent call last)" in p.stderr


def test_out_of_memory_explains_itself() -> None:
    code = "import torch\nx = torch.ones(10**4, 10**4)\nrows = x.numpy().tolist()"
    p = tcli("run", "--max-memory", "600M", "-c", code)
    assert p.returncode == 1
    # (tolist is checked before it makes its 10**8 numbers now, sec16; error_message's words for a MemoryError
    # with no message, the address-space cap's, are tests/test_security_sec16.py's)
    first = p.stderr.splitlines()[0]
    assert first.startswith("<string>:3:8: MemoryError: ") and first.endswith("(--max-memory)"), first
