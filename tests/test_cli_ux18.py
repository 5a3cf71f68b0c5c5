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
    # (a hint for a builtin tsr has would be wrong)
    assert name not in policy.BUILTIN_FUNCTIONS | policy.BUILTIN_EXCEPTIONS | policy.TCLI_BUILTINS


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


def test_backward_of_a_gradient_taken_without_create_graph_says_to_pass_it() -> None:
    import torch as real

    src = """\
    import torch
    x = torch.ones(2, requires_grad=True)
    y = (x * x).sum()
    g = torch.autograd.grad(y, x)[0]
    g.sum().backward()
    """
    status, out, err = run(src)
    x = real.ones(2, requires_grad=True)
    g = real.autograd.grad((x * x).sum(), x)[0]
    with pytest.raises(RuntimeError) as caught:
        g.sum().backward()
    assert status == 1 and out == ""
    assert err.splitlines()[:3] == [
        f"prog.tsr:5:1: RuntimeError: {caught.value}",
        "    5 | g.sum().backward()",
        "      | ^^^^^^^^^^^^^^^^^^",
    ]
    assert err.splitlines()[3].endswith(
        "check the result was not computed under torch.no_grad(), from a .detach(), or by torch.autograd.grad "
        "without create_graph=True"
    )


# ---------------------------------------------------------------------------------------------------------
# An error raised from another, or while handling one, shows that one too (as Python's traceback does)
# ---------------------------------------------------------------------------------------------------------


def test_raise_from_shows_the_cause(tmp_path: Path) -> None:
    script = tmp_path / "wrap.tsr"
    script.write_text(
        "import torch\n"
        "def load(cfg):\n"
        "    try:\n"
        "        return cfg['lr']\n"
        "    except KeyError as e:\n"
        "        raise ValueError('config has no lr') from e\n"
        "load({})\n"
    )
    p = tcli("run", str(script))
    assert p.returncode == 1 and p.stdout == ""
    assert p.stderr == (
        f"{script}:6:9: ValueError: config has no lr\n"
        "    6 |         raise ValueError('config has no lr') from e\n"
        "      |         ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^\n"
        f"  called from {script}:7:1\n"
        "      7 | load({})\n"
        "which was directly caused by:\n"
        f"{script}:4:16: KeyError: 'lr'\n"
        "    4 |         return cfg['lr']\n"
        "      |                ^^^^^^^^^\n"
    )


def test_an_error_while_handling_an_engine_error_shows_it() -> None:
    status, out, err = run(
        """\
        import torch
        try:
            torch.ones(2) @ torch.ones(3, 3)
        except RuntimeError:
            raise ValueError("bad shapes")
        """
    )
    import torch as real

    with pytest.raises(RuntimeError) as caught:
        real.ones(2) @ real.ones(3, 3)
    assert status == 1 and out == ""
    assert err.splitlines() == [
        "prog.tsr:5:5: ValueError: bad shapes",
        '    5 |     raise ValueError("bad shapes")',
        "      |     ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^",
        "which was raised while handling:",
        f"prog.tsr:3:5: RuntimeError: {caught.value}",
        "    3 |     torch.ones(2) @ torch.ones(3, 3)",
        "      |     ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^",
    ]


def test_from_none_and_a_bare_reraise_show_one_error() -> None:
    status, _, err = run("try:\n    1 / 0\nexcept ZeroDivisionError:\n    raise ValueError('x') from None\n")
    assert status == 1 and err.splitlines()[0] == "prog.tsr:4:5: ValueError: x" and "which was" not in err
    status, _, err = run("try:\n    1 / 0\nexcept ZeroDivisionError:\n    raise\n")
    assert status == 1 and err.splitlines()[0] == "prog.tsr:2:5: ZeroDivisionError: division by zero"
    assert "which was" not in err


def test_a_limit_shows_no_chain_and_makes_no_message_again() -> None:
    # the timeout fires while the ValueError's message is made (the module's repr loops): reported as the
    # timeout alone, promptly, never by making that message again outside the time limit
    src = "import torch.nn as nn\nclass Slow(nn.Module):\n    def extra_repr(self):\n        while True:\n"
    src += "            pass\nraise ValueError(Slow())\n"
    p = subprocess.run(
        [sys.executable, "-m", "tcli", "run", "--timeout", "1", "-"], input=src, capture_output=True, text=True,
        env=ENV, timeout=60,
    )  # fmt: skip
    assert p.returncode == 1 and "TimeoutError" in p.stderr and "which was" not in p.stderr


def test_a_chain_is_cut_after_three() -> None:
    src = "def f(n):\n    try:\n        if n == 0:\n            raise KeyError(n)\n        f(n - 1)\n"
    src += "    except Exception as e:\n        raise ValueError(n) from e\nf(6)\n"
    status, _, err = run(src)
    assert status == 1 and err.count("which was directly caused by:") == 3


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


def test_bench_machine_line_says_the_load_once() -> None:
    from tcli import bench

    machine = {
        "cpu": "CPU", "cores": 2, "numpy": "2", "blas": None, "torch": "2.13", "torch_threads": 1,
        "torch_threads_default": 2, "torch_threads_why": "load 1.26 on 2 cores", "cupy": None, "gpu": None,
        "loadavg": [1.26, 1.0, 1.0],
    }  # fmt: skip
    line = bench.machine_line(machine)
    assert line == "CPU, 2 cores; numpy 2; torch 2.13 (1 thread of its 2: load 1.26 on 2 cores)"
    quiet = dict(machine, torch_threads=2, torch_threads_why=None)
    assert bench.machine_line(quiet).endswith("torch 2.13 (2 threads); load 1.26")


def test_bench_table_says_what_its_figures_are() -> None:
    p = tcli("bench", "--only", "tiny_add", "--size", "small", "--repeat", "3", "--compare", "none")
    assert p.returncode == 0, p.stderr
    lines = p.stdout.splitlines()
    assert lines[-2:] == [
        "times: median per call; floor: the same arithmetic in plain numpy (cupy on cuda)",
        "/floor, /torch: engine time over theirs (below 1x: faster); every column: tcli bench --help",
    ]


# ---------------------------------------------------------------------------------------------------------
# graph() on bigger graphs: a loop's running total, a node with many inputs, long gradients
# ---------------------------------------------------------------------------------------------------------

RUNNING_TOTAL = """\
import torch
w = torch.ones(3, requires_grad=True)
b = torch.ones(3, requires_grad=True)
s = torch.zeros(())
for i in range(40):
    s = s + (w * i + b).sum()
graph(s)
"""


def test_a_running_total_keeps_its_first_and_last_levels(tmp_path: Path) -> None:
    script = tmp_path / "total.tsr"
    script.write_text(RUNNING_TOTAL)
    p = tcli("run", str(script))
    assert p.returncode == 0 and p.stderr == ""
    lines = p.stdout.splitlines()
    # before: 240 lines, 40 levels deep and 170 columns wide
    assert len(lines) <= 60 and max(len(line) for line in lines) <= 100
    assert lines[:8] == [
        "s = AddBackward0  shape=()",
        "├── AddBackward0  shape=()",
        "│   ├── AddBackward0  shape=()",
        "│   │   ├── AddBackward0  shape=()",
        "│   │   │   ├── … 32 more levels like these (AddBackward0), their other inputs not drawn …",
        "│   │   │   │   │ AddBackward0  shape=()",
        "│   │   │   │     ├── AddBackward0  shape=()",
        "│   │   │   │     │   ├── AddBackward0  shape=()",
    ]
    # 40 levels (the running totals, then the first term's w * i + b): the first and last four drawn
    assert sum(line.endswith("AddBackward0  shape=()") for line in lines) == 8
    assert sum("w  torch::autograd::AccumulateGrad" in line for line in lines) == 8
    assert "b  torch::autograd::AccumulateGrad  shape=(3,)  requires_grad" in p.stdout
    assert lines[-1] == "      └── b  torch::autograd::AccumulateGrad  (shown above)"


def test_a_named_level_of_a_spine_stays_and_a_reference_into_a_hidden_one_says_so() -> None:
    src = """\
    import torch
    w = torch.ones(3, requires_grad=True)
    s = torch.zeros(())
    for i in range(30):
        s = s * 0.9 + (w * i).sum()
        if i == 10:
            keep = s
        if i == 20:
            hidden = s
    y = s + hidden
    del hidden
    graph(s)
    graph(y)
    """
    status, out, err = run(src)
    assert status == 0 and err == ""
    first, second = out.split("y = AddBackward0", 1)
    pattern = "(AddBackward0 → MulBackward0), their other inputs not drawn …"
    # s's 29 levels: the first 4, 15 hidden, keep's, 5 hidden, the last 4
    assert first.splitlines()[7:10] == [
        f"│     │     │     ├── … 15 more levels like these {pattern}",
        "│     │     │     │   │ keep = AddBackward0  shape=()",
        f"│     │     │     │     ├── … 5 more levels like these {pattern}",
    ]
    assert sum("more levels" in line for line in first.splitlines()) == 2
    # y's second input is a level hidden in its first input's spine
    assert second.splitlines()[-1] == "└── AddBackward0  (in the elided run above)"


def test_a_node_with_many_inputs_shows_its_first_and_last_three() -> None:
    src = """\
    import torch
    w = torch.ones(3, requires_grad=True)
    s = torch.stack([w * i for i in range(40)]).sum()
    graph(s)
    """
    status, out, _ = run(src)
    lines = out.splitlines()
    assert status == 0 and len(lines) == 15  # before: 82
    assert lines[:5] == [
        "s = SumBackward0  shape=()",
        "│ StackBackward0  shape=(40, 3)",
        "  ├── MulBackward0  shape=(3,)  saved=1",
        "  │   │ w  torch::autograd::AccumulateGrad  shape=(3,)  requires_grad",
        "  ├── MulBackward0  shape=(3,)  saved=1",
    ]
    assert lines[8] == "  ├── … 34 more inputs (MulBackward0 each) …"
    assert lines[-2:] == [
        "  └── MulBackward0  shape=(3,)  saved=1",
        "      │ w  torch::autograd::AccumulateGrad  (shown above)",
    ]


def test_a_long_grad_shows_its_shape_and_norm_and_a_short_one_in_full() -> None:
    import torch as real

    src = """\
    import torch
    torch.manual_seed(0)
    net = torch.nn.Linear(4, 8)
    out = net(torch.randn(5, 4)).pow(2).mean()
    out.backward()
    graph(out)
    print(net.weight.grad.norm().item(), net.bias.grad.norm().item())
    """
    status, out, _ = run(src)
    assert status == 0
    *graph_lines, norms = out.splitlines()
    wnorm, bnorm = (float(x) for x in norms.split())
    assert max(len(line) for line in graph_lines) <= 120  # before: 158 (the bias grad in full)
    assert any(
        line.endswith(
            f"net.bias  torch::autograd::AccumulateGrad  shape=(8,)  requires_grad  "
            f"grad=<(8,) tensor, norm {bnorm:.4g}>"
        )
        for line in graph_lines
    )
    assert any(line.endswith(f"grad=<(8, 4) tensor, norm {wnorm:.4g}>") for line in graph_lines)
    real.manual_seed(0)
    net = real.nn.Linear(4, 8)
    net(real.randn(5, 4)).pow(2).mean().backward()
    assert f"{net.weight.grad.norm().item():.4g}" == f"{wnorm:.4g}"
    status, out, _ = run(
        "import torch\nx = torch.tensor([1., 2.], requires_grad=True)\n(x * x).sum().backward()\ngraph(x)\n"
    )
    assert out == "x: leaf tensor  shape=(2,)  requires_grad  grad=tensor([2., 4.])\n"


# ---------------------------------------------------------------------------------------------------------
# --timeout takes the units people type
# ---------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "seconds"), [("30", 30.0), ("0.5", 0.5), ("30s", 30.0), ("10m", 600.0), ("1H", 3600.0)]
)
def test_timeout_takes_seconds_or_a_unit(value: str, seconds: float) -> None:
    from tcli.cli_types import DURATION

    assert DURATION.convert(value, None, None) == seconds


def test_a_loop_stopped_by_a_timeout_in_minutes() -> None:
    p = tcli("run", "--timeout", "0.01m", "-c", "n = 0\nwhile True:\n    n += 1\n")
    assert p.returncode == 1 and p.stdout == ""
    assert p.stderr.startswith("<string>:")
    assert "TimeoutError: the script ran longer than the time limit of 0.6s (--timeout)\n" in p.stderr


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("1x", "'1x' is not a duration (examples: 0.5, 30, 30s, 10m, 1h, inf)"),
        ("0", "'0': a time limit must be more than 0 seconds (inf: no limit)"),
        ("nan", "nan is not a number of seconds"),
    ],
)
@pytest.mark.parametrize("command", ["run", "repl"])
def test_a_bad_timeout_says_what_it_takes(command: str, value: str, message: str) -> None:
    args = ["run", "--timeout", value, "-c", "print(1)"] if command == "run" else ["repl", "--timeout", value]
    p = tcli(*args, stdin="1 + 1\n")
    assert (p.returncode, p.stdout) == (2, "")
    assert p.stderr.splitlines()[-1] == f"Error: Invalid value for '--timeout': {message}"
