"""ux15: tcli for people learning autograd: graph() layout and names, warning carets, help()."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tcli.session import Session


def run(src: str, color: bool = False, **options: object) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    session = Session(stdout=out, stderr=err, color=color, **options)  # type: ignore[arg-type]
    status = session.run_source(textwrap.dedent(src), "prog.tsr")
    return status, out.getvalue(), err.getvalue()


# ---------------------------------------------------------------------------------------------------------
# L1: graph() keeps a linear chain at one column and elides the middle of a long one
# ---------------------------------------------------------------------------------------------------------

CHAIN = """\
import torch
x = torch.ones(3, requires_grad=True)
y = x * 2
w = y.exp().sum()
for i in range(30):
    w = w * 1.5 + 1
graph(w)
"""

CHAIN_GRAPH = [
    "w = AddBackward0  shape=()",
    "│ MulBackward0  shape=()  saved=1",
    "│ AddBackward0  shape=()",
    "│ MulBackward0  shape=()  saved=1",
    "│ AddBackward0  shape=()",
    "│ … 54 more nodes (MulBackward0 → AddBackward0, 27 times) …",
    "│ MulBackward0  shape=()  saved=1",
    "│ SumBackward0  shape=()",
    "│ ExpBackward0  shape=(3,)  saved=1",
    "│ y = MulBackward0  shape=(3,)  saved=1",
    "│ x  torch::autograd::AccumulateGrad  shape=(3,)  requires_grad",
]


def test_a_long_chain_stays_at_one_column_with_its_middle_elided() -> None:
    status, out, err = run(CHAIN)
    assert (status, err) == (0, "")
    assert out.splitlines() == CHAIN_GRAPH


def test_the_chain_fits_80_columns_in_colour_too() -> None:
    status, out, _ = run(CHAIN, color=True)
    assert status == 0 and "\x1b[" in out
    import re

    text = re.sub(r"\x1b\[[0-9;]*m", "", out)
    assert text.splitlines() == CHAIN_GRAPH
    assert max(len(line) for line in text.splitlines()) <= 80


def test_after_backward_the_leaf_keeps_its_grad_and_the_root_stays() -> None:
    status, out, _ = run(CHAIN + "w.backward()\ngraph(w)\n")
    lines = out.splitlines()
    assert status == 0 and len(lines) == 2 * len(CHAIN_GRAPH)
    assert lines[len(CHAIN_GRAPH)] == "w = AddBackward0  shape=()"
    assert lines[-1].startswith("│ x  torch::autograd::AccumulateGrad  shape=(3,)  requires_grad  grad=tensor([")
    assert lines[-2] == "│ y = MulBackward0  shape=(3,)  saved=1  (freed by backward)"


def test_branches_indent_as_a_tree_and_chains_under_them_do_not() -> None:
    src = """\
    import torch
    x = torch.ones(3, requires_grad=True)
    b = torch.zeros(3, requires_grad=True)
    y = x * 2
    z = (y + b).relu()
    loss = (z * y).sum() + x.mean()
    graph(loss)
    """
    status, out, _ = run(src)
    assert status == 0
    assert out.splitlines() == [
        "loss = AddBackward0  shape=()",
        "├── SumBackward0  shape=()",
        "│   │ MulBackward0  shape=(3,)  saved=2",
        "│     ├── z = ReluBackward0  shape=(3,)  saved=1",
        "│     │   │ AddBackward0  shape=(3,)",
        "│     │     ├── y = MulBackward0  shape=(3,)  saved=1",
        "│     │     │   │ x  torch::autograd::AccumulateGrad  shape=(3,)  requires_grad",
        "│     │     └── b  torch::autograd::AccumulateGrad  shape=(3,)  requires_grad",
        "│     └── y = MulBackward0  (shown above)",
        "└── MeanBackward0  shape=()",
        "    │ x  torch::autograd::AccumulateGrad  (shown above)",
    ]


def test_a_reference_into_an_elided_run_says_so() -> None:
    src = """\
    import torch
    x = torch.ones(2, requires_grad=True)
    h = x * 1
    for i in range(20):
        h = h.exp()
        if i == 5:
            mid = h
    y = h + mid
    del mid
    graph(y)
    """
    status, out, _ = run(src)
    lines = out.splitlines()
    assert status == 0
    assert lines[0] == "y = AddBackward0  shape=(2,)"
    assert lines[1] == "├── h = ExpBackward0  shape=(2,)  saved=1"
    assert lines[6] == "│   │ … 13 more nodes (ExpBackward0, 13 times) …"
    assert lines[-1] == "└── ExpBackward0  (in the elided run above)"
    assert "│     x  torch::autograd::AccumulateGrad" not in out
    assert any(line.endswith("x  torch::autograd::AccumulateGrad  shape=(2,)  requires_grad") for line in lines)


# ---------------------------------------------------------------------------------------------------------
# L2: inner nodes are named by the variables bound to their outputs
# ---------------------------------------------------------------------------------------------------------


def test_inner_nodes_take_the_names_of_variables_and_of_a_function_s_locals() -> None:
    src = """\
    import torch
    w = torch.ones(2, requires_grad=True)
    def f(x):
        hidden = x * w
        out = hidden.tanh() + hidden
        graph(out)
        return out
    u = w + 1
    f(u)
    """
    status, out, _ = run(src)
    assert status == 0
    assert out.splitlines() == [
        "out = AddBackward0  shape=(2,)",
        "├── TanhBackward0  shape=(2,)  saved=1",
        "│   │ hidden = MulBackward0  shape=(2,)  saved=2",
        "│     ├── x = AddBackward0  shape=(2,)",  # (the function's local name for u wins)
        "│     │   │ w  torch::autograd::AccumulateGrad  shape=(2,)  requires_grad",
        "│     └── w  torch::autograd::AccumulateGrad  (shown above)",
        "└── hidden = MulBackward0  (shown above)",
    ]


def test_a_named_node_inside_a_long_run_is_never_elided() -> None:
    src = """\
    import torch
    x = torch.ones(2, requires_grad=True)
    h = x * 1
    for i in range(30):
        h = h * 1.5 + 1
        if i == 15:
            mid = h
    graph(h)
    """
    status, out, _ = run(src)
    assert status == 0
    assert out.splitlines() == [
        "h = AddBackward0  shape=(2,)",
        "│ MulBackward0  shape=(2,)  saved=1",
        "│ AddBackward0  shape=(2,)",
        "│ MulBackward0  shape=(2,)  saved=1",
        "│ AddBackward0  shape=(2,)",
        "│ … 22 more nodes (MulBackward0 → AddBackward0, 11 times) …",
        "│ MulBackward0  shape=(2,)  saved=1",
        "│ mid = AddBackward0  shape=(2,)",
        "│ … 28 more nodes (MulBackward0 → AddBackward0, 14 times) …",
        "│ MulBackward0  shape=(2,)  saved=1",
        "│ AddBackward0  shape=(2,)",
        "│ MulBackward0  shape=(2,)  saved=1",
        "│ MulBackward0  shape=(2,)  saved=1",
        "│ x  torch::autograd::AccumulateGrad  shape=(2,)  requires_grad",
    ]


# ---------------------------------------------------------------------------------------------------------
# L4: a warning has a caret under the expression that raised it, as an error does
# ---------------------------------------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def _warn_once_afresh(monkeypatch: pytest.MonkeyPatch) -> None:
    """torch warns about `.T` once per process: each test here sees it as a fresh process would."""
    import engine.warn

    monkeypatch.setattr(engine.warn, "_WARNED_ONCE", set())


T_MESSAGE = "UserWarning: The use of `x.T` on tensors of dimension other than 2 to reverse their shape is deprecated"


def test_a_warning_points_at_its_expression_with_a_caret() -> None:
    src = (
        "import torch\nt = torch.ones(3)\nu = 1 + t.T.sum()\nx = torch.ones(2, requires_grad=True)\ny = x * 2\n"
        "print(y.grad)\n"
    )
    status, out, err = run(src)
    lines = err.splitlines()
    assert (status, out) == (0, "None\n")
    assert lines[0].startswith("prog.tsr:3:9: " + T_MESSAGE)
    assert lines[1:3] == ["    3 | u = 1 + t.T.sum()", "      |         ^^^"]
    assert lines[3].startswith("prog.tsr:6:7: UserWarning: The .grad attribute of a Tensor that is not a leaf")
    assert lines[4:] == ["    6 | print(y.grad)", "      |       ^^^^^^"]


def test_a_warning_inside_a_function_points_inside_it() -> None:
    src = "import torch\ndef f(t):\n    return t.T\nf(torch.ones(3))\n"
    status, _, err = run(src)
    assert status == 0 and err.splitlines()[0].startswith("prog.tsr:3:12: " + T_MESSAGE)
    assert err.splitlines()[1:3] == ["    3 |     return t.T", "      |            ^^^"]


def test_tcli_run_prints_the_warning_caret(tmp_path: Path) -> None:
    script = tmp_path / "w.tsr"
    script.write_text("import torch\nt = torch.ones(3)\nprint(t.T)\n")
    p = subprocess.run(
        [sys.executable, "-m", "tcli", "run", str(script)], capture_output=True, text=True, cwd=tmp_path,
        env={**os.environ, "NO_COLOR": "1"}, timeout=120,
    )  # fmt: skip
    assert p.returncode == 0 and p.stdout == "tensor([1., 1., 1.])\n"
    lines = p.stderr.splitlines()
    assert lines[0].startswith(f"{script}:3:7: {T_MESSAGE}")
    assert lines[1:] == ["    3 | print(t.T)", "      |       ^^^"]


def test_the_repl_prints_the_warning_caret(tmp_path: Path) -> None:
    from test_repl_pty import Terminal

    t = Terminal(tmp_path)
    t.prompt()
    t.type("import torch")
    t.child.send("torch.ones(3).T.sum()\r")
    t.wait(r"<input>:1:1: UserWarning: The use of `x\.T`")
    t.wait(r"1 \| torch\.ones\(3\)\.T\.sum\(\)\n\s+\| \^{15}\n")
    t.wait(r"tensor\(3\.\)")
    t.prompt()
    assert t.finish() == 0


# ---------------------------------------------------------------------------------------------------------
# L3: help(obj) in scripts and the REPL; `help`, `?` and `torch.sum?` in the REPL
# ---------------------------------------------------------------------------------------------------------

HELP_SCRIPT = '''\
import torch
x = torch.ones(3, requires_grad=True)
help(torch.sum)
help(x.sum)
help(torch.Tensor.backward)
help(torch.nn.functional.relu)
help(torch.linalg.norm)
help(torch.ones)
def f(a, b=2):
    """Adds twice b."""
    return a + 2 * b
help(f)
help(len)
help("torch.mean")
'''

HELP_OUT = """\
torch.sum(input, *, dtype=None) -> Tensor
    Returns the sum of all elements in the input tensor.
Tensor.sum(dim=None, keepdim=False, dtype=None) -> Tensor
    See torch.sum: Returns the sum of all elements in the input tensor.
Tensor.backward(gradient=None, retain_graph=None, create_graph=False, inputs=None)
    Computes the gradient of current tensor wrt graph leaves.
torch.nn.functional.relu(input, inplace=False) -> Tensor
    Applies the rectified linear unit function element-wise. See
    torch.nn.ReLU for more details.
torch.linalg.norm(input, ord=None, dim=None, keepdim=False, *, out=None, dtype=None) -> Tensor
    Computes a vector or matrix norm.
torch.ones(*size, *, out=None, dtype=None, layout=torch.strided, device=None, requires_grad=False) -> Tensor
    Returns a tensor filled with the scalar value `1`, with the shape
    defined by the variable argument size.
f(a, b=2)
    Adds twice b.
len: a Python builtin (see Python's documentation)
torch.mean(input, *, dtype=None) -> Tensor
    Returns the mean value of all elements in the input tensor. Input must
    be floating point or complex.
"""


def test_help_in_a_script_shows_signatures_and_descriptions() -> None:
    status, out, err = run(HELP_SCRIPT)
    assert (status, err) == (0, "")
    assert out == HELP_OUT


def test_help_without_an_argument_and_its_argument_errors() -> None:
    status, out, _ = run("help()\n")
    assert status == 0 and out.startswith("help(obj) shows a signature and a short description: help(torch.sum)")
    status, _, err = run("help(1, 2)\n")
    assert status == 1 and "TypeError: help() takes exactly one argument (2 given)" in err


def test_tcli_run_help_on_stdout(tmp_path: Path) -> None:
    script = tmp_path / "h.tsr"
    script.write_text(HELP_SCRIPT)
    p = subprocess.run(
        [sys.executable, "-m", "tcli", "run", str(script)], capture_output=True, text=True, cwd=tmp_path,
        env={**os.environ, "NO_COLOR": "1"}, timeout=120,
    )  # fmt: skip
    assert (p.returncode, p.stdout, p.stderr) == (0, HELP_OUT, "")


def test_help_requests_in_the_repl_are_recognised() -> None:
    from tcli.repl import help_request

    assert [help_request(t) for t in ("help", " help() ", "?", "torch.sum?", "?x.sum", "x ? y", "1?", "if?")] == [
        "", "", "", "torch.sum", "x.sum", None, None, None,
    ]  # fmt: skip


def test_help_in_a_typed_repl(tmp_path: Path) -> None:
    from test_repl_pty import Terminal

    t = Terminal(tmp_path)
    t.prompt()
    t.type("x = torch.ones(2, requires_grad=True)")
    t.child.send("help\r")
    t.wait(r"help\(torch\.sum\)\s+or\s+torch\.sum\?\s+shows\s+a\s+signature")
    t.wait(r":graph EXPR")
    t.prompt()
    t.child.send("torch.sum?\r")
    t.wait(r"torch\.sum\(input, \*, dtype=None\) -> Tensor\n\s+Returns the sum of all elements in the input tensor\.")
    t.prompt()
    t.child.send("help(x.sum)\r")
    t.wait(r"Tensor\.sum\(dim=None, keepdim=False, dtype=None\) -> Tensor")
    t.prompt()
    assert t.finish() == 0


def test_help_is_tcli_s_own_not_pydoc() -> None:
    """Python's help is pydoc: it imports modules by name and reads any object's internals. tsr's looks names
    up in its table only and describes a script's class or value by its type, running none of its code."""
    src = """\
    class Secret:
        def __repr__(self):
            print("repr ran")
            return "s"
    help("modules")
    help("os.system")
    help(Secret())
    print(help)
    """
    status, out, err = run(src)
    lines = out.splitlines()
    assert (status, err) == (0, "")
    assert lines[0].startswith("no help for 'modules': help(obj) shows")
    assert lines[2].startswith("no help for 'os.system': help(obj) shows")
    assert lines[4].startswith("a Secret value; help(obj) shows")
    assert "repr ran" not in out and lines[-1] == "<built-in function help>"


# ---------------------------------------------------------------------------------------------------------
# Tensor.apply_(callable): cpu only, elementwise, in place; a script's functions and lambdas as the callable
# ---------------------------------------------------------------------------------------------------------

APPLY = """\
import torch
def sq(v):
    return v * v + 1
x = torch.tensor([1., 2., 3.])
r = x.apply_(lambda v: v * 2)
print(r, x, r is x, x._version)
z = torch.arange(6.).reshape(2, 3).t()
print(z.apply_(sq), z.is_contiguous())
print(torch.tensor([1, 2, -3]).apply_(lambda v: v + 0.7))
print(torch.tensor([True, False]).apply_(lambda v: not v), torch.tensor([True, True]).apply_(lambda v: 0.0))
print(torch.tensor([1., 2.], dtype=torch.float16).apply_(lambda v: 1 / 3))
print(torch.tensor([1.5j]).apply_(lambda v: v * 2))
x = torch.arange(4.)
x[1:3].apply_(lambda v: -v)
print(x, torch.tensor(2.).apply_(lambda v: v * 3))
"""


def _errors(lines: list[str]) -> str:
    return "".join(f"try:\n    {line}\nexcept Exception as e:\n    print(type(e).__name__, e)\n" for line in lines)


APPLY_ERRORS = _errors([
    "torch.ones(2, requires_grad=True).apply_(lambda v: v)",
    "torch.ones(2).apply_(3)",
    "torch.ones(2).apply_(lambda v: 'a')",
    "torch.ones(2).apply_(lambda v: None)",
    "torch.tensor([1]).apply_(lambda v: 'a')",
    "torch.tensor([True]).apply_(lambda v: None)",
    "torch.ones(1).apply_(lambda v: 1j)",
    "torch.ones(1).apply_(lambda v, w: 1)",
])  # fmt: skip


def _torch_prints(src: str) -> str:
    import contextlib

    import torch

    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(src, "<torch>", "exec"), {"torch": torch})  # the oracle: real PyTorch on our own test text
    return out.getvalue()


def test_apply_matches_torch_with_lambdas_and_script_functions() -> None:
    status, out, err = run(APPLY)
    assert (status, err) == (0, "")
    assert out == _torch_prints(APPLY)


def test_apply_errors_match_torch() -> None:
    src = "import torch\n" + APPLY_ERRORS + "with torch.no_grad():\n" + textwrap.indent(_errors([
        "torch.ones(2, requires_grad=True).apply_(lambda v: v)"]), "    ")  # fmt: skip
    status, out, err = run(src)
    assert (status, err) == (0, "")
    assert out == _torch_prints(src)
    assert out.splitlines()[0] == (
        "RuntimeError Can't call apply_() on Variable that requires grad. Use var.detach().apply_() instead."
    )


def test_an_error_in_the_callable_points_into_the_script_and_keeps_what_was_written() -> None:
    src = (
        "import torch\nx = torch.tensor([1., 2., 0., 4.])\ndef inv(v):\n    return 1 / v\n"
        "try:\n    x.apply_(inv)\nexcept ZeroDivisionError:\n    print(x)\nx.apply_(inv)\n"
    )
    status, out, err = run(src)
    assert status == 1 and out == "tensor([1.0000, 0.5000, 0.0000, 4.0000])\n"
    assert err.splitlines()[0] == "prog.tsr:4:12: ZeroDivisionError: float division by zero"


def test_apply_on_a_cuda_tensor_is_torch_s_type_error() -> None:
    """Under the cupy emulator (no GPU needed), as torch: TypeError, cpu only; requires_grad is checked first."""
    code = (
        "import fakecupy\nfakecupy.install()\nimport engine\nt = engine.ones(2, device='cuda')\n"
        "for x in (t, t.clone().requires_grad_()):\n    try:\n        x.apply_(lambda v: v)\n"
        "    except Exception as e:\n        print(type(e).__name__, e)\n"
    )
    here = Path(__file__).resolve().parent
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(here.parent), str(here)]), "TCLI_MKL": "0"}
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
    assert p.stdout.splitlines() == [
        "TypeError apply_ is only implemented on CPU tensors",
        "RuntimeError Can't call apply_() on Variable that requires grad. Use var.detach().apply_() instead.",
    ], p.stderr[-2000:]
