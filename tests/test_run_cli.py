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
     ["run", "--seed", "x", "-c", "1"]],
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


def test_timeout_option() -> None:
    p = tcli("run", "--timeout", "0.5", "-c", "while True:\n    pass")
    assert p.returncode == 1
    assert "TimeoutError: the script ran longer than the time limit of 0.5s (--timeout)" in p.stderr


def test_max_memory_option() -> None:
    p = tcli("run", "--max-memory", "64M", "-c", "import torch\nx = torch.zeros(100, 1000, 1000)")
    assert p.returncode == 1
    assert "MemoryError: allocating 762.9 MiB would exceed the memory limit of 64.0 MiB (--max-memory)" in p.stderr


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
