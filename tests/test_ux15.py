"""ux15: tcli for people learning autograd: graph() layout and names, warning carets, help()."""

from __future__ import annotations

import io
import textwrap

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
