"""The REPL's renderables on a fixed-width console: plain text exactly, colour as styles."""

from __future__ import annotations

from io import StringIO
from typing import Any

from rich.console import Console

import engine as torch
from tcli import repl_render as rr


def render(renderable: Any, width: int = 80, color: bool = False) -> str:
    out = StringIO()
    console = Console(
        file=out, width=width, force_terminal=color, color_system="truecolor" if color else None, highlight=False
    )
    console.print(renderable, soft_wrap=True)
    return out.getvalue()


def test_echo_of_a_tensor_is_header_then_torchs_repr() -> None:
    x = torch.ones(2, 3, requires_grad=True)
    y = (x * 2).sum()
    assert render(rr.echo(x)) == (
        "shape (2, 3) · torch.float32 · cpu · requires_grad · leaf · grad None\n"
        "tensor([[1., 1., 1.],\n"
        "        [1., 1., 1.]], requires_grad=True)\n"
    )
    assert render(rr.echo(y)) == (
        "shape () · torch.float32 · cpu · requires_grad · non-leaf\ntensor(12., grad_fn=<SumBackward0>)\n"
    )
    y.backward()
    assert render(rr.tensor_header(x)) == "shape (2, 3) · torch.float32 · cpu · requires_grad · leaf · grad (2, 3)\n"


def test_header_of_a_sparse_tensor_and_a_sparse_grad() -> None:
    s = torch.tensor([[0.0, 2.0], [3.0, 0.0]]).to_sparse()
    assert (
        render(rr.tensor_header(s)) == "shape (2, 2) · torch.float32 · cpu · sparse_coo nnz=2 · requires_grad=False\n"
    )
    emb = torch.nn.Embedding(3, 2, sparse=True)
    emb(torch.tensor([0, 2, 0])).sum().backward()
    assert render(rr.tensor_header(emb.weight)) == (
        "shape (3, 2) · torch.float32 · cpu · requires_grad · leaf · grad (3, 2) sparse\n"
    )


def test_tensor_text_is_never_rewrapped_on_a_narrow_console() -> None:
    t = torch.arange(12.0).reshape(2, 6) * 1000.5
    assert render(rr.tensor_text(t), width=20) == repr(t) + "\n"


def test_colour_styles_numbers_suffixes_and_dims_grad_fn() -> None:
    x = torch.ones(2, dtype=torch.float64, requires_grad=True)
    text = rr.tensor_text(x * 2)
    styled = {text.plain[s.start : s.end]: str(s.style) for s in text.spans}
    assert styled["2."] == "cyan"
    assert styled["dtype=torch.float64"] == "magenta"
    assert styled["grad_fn=<MulBackward0>"] == "dim"
    coloured = render(rr.echo(x * 2), color=True)
    assert "\x1b[" in coloured and "\x1b[2mgrad_fn=<MulBackward0>" in coloured


def test_non_tensor_values_echo_their_repr() -> None:
    assert render(rr.echo((1, "a", None))) == "(1, 'a', None)\n"
    assert render(rr.echo(torch.float32)) == "torch.float32\n"


def test_backward_summary() -> None:
    line = rr.backward_summary([("b", (1,)), ("w", (3, 4))])
    assert render(line) == "gradients: b.grad (1,), w.grad (3, 4)\n"


def test_vars_table_plain() -> None:
    rows = [
        rr.VarRow("lr", "float", "0.1"),
        rr.VarRow("w", "tensor", "(3,)", "torch.float32", "cpu", "True", "(3,)"),
    ]
    assert render(rr.vars_table(rows, plain=True)).splitlines() == [
        "name  kind    shape  dtype          device  requires_grad  grad",
        "lr    float   0.1                                              ",
        "w     tensor  (3,)   torch.float32  cpu     True           (3,)",
    ]
    assert render(rr.vars_table([], plain=True)) == "no variables yet\n"
    assert "─" in render(rr.vars_table(rows, plain=False))  # a light rule under the header on terminals


def test_grad_view_side_by_side_and_stacked() -> None:
    x = torch.ones(2, requires_grad=True)
    (x * 3).sum().backward()
    assert render(rr.grad_view("x", x, x.grad, "", width=80)).splitlines() == [
        "x                                       x.grad",
        "tensor([1., 1.], requires_grad=True)    tensor([3., 3.])",
        "x: shape (2,) · torch.float32 · cpu · requires_grad · leaf · grad (2,)",
        "x.grad: shape (2,) · torch.float32 · cpu · requires_grad=False",
    ]
    narrow = render(rr.grad_view("x", x, x.grad, "", width=30)).splitlines()
    assert narrow[:4] == ["x", "tensor([1., 1.], requires_grad=True)", "x.grad", "tensor([3., 3.])"]
    assert render(rr.grad_view("x * 2", x * 2, None, "a non-leaf tensor", width=80)).splitlines() == [
        "x * 2                                       (x * 2).grad",
        "tensor([2., 2.], grad_fn=<MulBackward0>)    None",
        "x * 2: shape (2,) · torch.float32 · cpu · requires_grad · non-leaf",
        "(x * 2).grad: None — a non-leaf tensor",
    ]


def test_time_table_units() -> None:
    st = rr.TimeStats("x + 1", 2.5e-6, 2.4e-6, 3e-6, 7, 10000, "cpu", False)
    lines = render(rr.time_table(st, plain=True)).splitlines()
    assert lines[0].split() == ["expression", "median", "min", "max", "runs", "device"]
    assert lines[1].split() == ["x", "+", "1", "2.5", "µs", "2.4", "µs", "3", "µs", "7", "×", "10000", "cpu"]
    st = rr.TimeStats("big", 1.5, 1.2, 2.0, 3, 1, "cuda:0", True)
    assert "1.5 s" in render(rr.time_table(st, plain=True)) and "(synced)" in render(rr.time_table(st, plain=True))


def test_gradcheck_view_pass_and_fail() -> None:
    ok = rr.GradcheckResult("f", "x", (), (2,), [((), (0,), 2.0, 2.000001), ((), (1,), 4.0, 4.0)], 1e-6, 1e-5, 1e-3)
    text = render(rr.gradcheck_view(ok, plain=True))
    assert text.splitlines()[0].split() == ["input", "analytical", "numerical", "abs", "error"]
    assert text.splitlines()[1].split()[:3] == ["x[0]", "2", "2.000001"]
    assert "gradcheck passed: 2 elements agree" in text
    jacobian = [((0,), (0,), 1.0, 2.0), ((0,), (1,), 0.0, 0.0), ((1,), (0,), 0.0, 0.0), ((1,), (1,), 1.0, 2.0)]
    bad = rr.GradcheckResult("f", "x", (2,), (2,), jacobian, 1e-6, 1e-5, 1e-3)
    text = render(rr.gradcheck_view(bad, plain=True), width=120)
    rows = text.splitlines()
    assert rows[1].split() == ["out[0]", "x[0]", "1", "2", "1.00e+00", "FAIL"]
    assert "gradcheck failed: 2 of 4 elements differ" in text
    assert "2 more Jacobian elements are zero in both (not shown)" in text


def test_help_lists_commands_and_keys() -> None:
    text = render(rr.help_view([(":vars", "the variables")], [("Ctrl-D", "exit")], plain=True), width=100)
    assert ":vars" in text and "the variables" in text and "Ctrl-D" in text
