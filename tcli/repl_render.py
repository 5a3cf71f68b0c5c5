"""What the REPL draws: echoed values (tensors with a header line), the backward summary, and the tables of
the meta-commands (:vars, :grad, :time, :gradcheck, :help).

Every function returns a rich renderable and takes `plain`: on a terminal the tables get a light box and
the tensor text is coloured by the console; with `plain=True` (pipes, NO_COLOR, --no-color) the same content
is laid out as whitespace-aligned text, so piped output is stable and greppable. The console decides
colour; these functions only decide layout. Nothing here evaluates user input.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from rich import box
from rich.console import Group, RenderableType
from rich.highlighter import ReprHighlighter
from rich.table import Table
from rich.text import Text

from tcli.errors import visible_output
from tcli.render import shown

SEP = " · "

# torch's repr, token by token: numbers, non-finite values, keyword suffixes, grad_fn (dimmed last so
# the digits of "MulBackward0" keep its style)
_TENSOR_STYLES: tuple[tuple[str, str], ...] = (
    (r"(?<![\w.])-?(?:\d+\.?\d*(?:e[+-]?\d+)?|\.\d+)j?", "cyan"),
    (r"(?<![\w.])-?(?:nan|inf)\b", "bold red"),
    (r"\b(?:True|False)\b", "cyan"),
    (r"dtype=torch\.\w+", "magenta"),
    (r"device='[^']*'", "magenta"),
    (r"requires_grad=True", "yellow"),
    (r"size=\([^)]*\)", "magenta"),
    (r"grad_fn=<\w+>", "dim"),
    (r"^tensor\(|\)$", "bold"),
)


def is_tensor(value: Any) -> bool:
    """Duck-typed so this module never imports the engine (it needs only what it prints); a tensor, not the
    Tensor class (whose attributes are the same names, as properties)."""
    return not isinstance(value, type) and all(
        hasattr(value, a) for a in ("shape", "dtype", "requires_grad", "grad_fn", "is_leaf")
    )


def shape_text(shape: Any) -> str:
    return str(tuple(int(d) for d in shape))


def grad_of(t: Any) -> Any:
    """t.grad without the non-leaf UserWarning torch (and the engine) print: reading it for display is
    not the mistake that warning is about."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return getattr(t, "grad", None)


# ---------------------------------------------------------------------------------------------------------
# echo
# ---------------------------------------------------------------------------------------------------------


def tensor_text(t: Any, text: str | None = None) -> Text:
    """A tensor in torch's exact repr, with styles for the console to apply (or drop)."""
    out = Text(repr(t) if text is None else text)
    for pattern, style in _TENSOR_STYLES:
        out.highlight_regex(re.compile(pattern, re.MULTILINE), style)
    return out


def tensor_header(t: Any) -> Text:
    """shape · dtype · device · requires_grad/leaf · grad present, on one line."""
    parts: list[tuple[str, str]] = [
        (f"shape {shape_text(t.shape)}", "bold"),
        (str(t.dtype), "magenta"),
        (str(getattr(t, "device", "cpu")), "magenta"),
    ]
    if getattr(t, "is_sparse", False) is True:  # (a sparse COO tensor: its layout and stored entries)
        parts.append((f"sparse_coo nnz={t._nnz()}", "magenta"))
    grad = grad_of(t)
    if grad is not None and getattr(grad, "is_sparse", False) is True:
        grad_text = f"grad {shape_text(grad.shape)} sparse"
    else:
        grad_text = None if grad is None else f"grad {shape_text(grad.shape)}"
    if not shown(t, "requires_grad"):
        parts.append(("requires_grad=False", "dim"))
    else:
        parts.append(("requires_grad", "yellow"))
        parts.append(("leaf", "green") if t.is_leaf else ("non-leaf", ""))
        if grad_text is not None:
            parts.append((grad_text, "cyan"))
        elif t.is_leaf:  # a non-leaf has no grad unless retain_grad() asked for one: nothing to say
            parts.append(("grad None", "dim"))
    out = Text()
    for i, (text, style) in enumerate(parts):
        if i:
            out.append(SEP, "dim")
        out.append(text, style)
    return out


def echo(value: Any, mask: Callable[[str], str] = str) -> RenderableType:
    """An expression's value as the REPL echoes it: tensors with their header, anything else as repr (passed
    through `mask`, the session's address masking)."""
    if is_tensor(value):
        return Group(tensor_header(value), tensor_text(value))
    text = Text(visible_output(mask(repr(value))))  # (a script's repr may hold escape sequences: shown as escapes)
    ReprHighlighter().highlight(text)
    return text


def backward_summary(received: Sequence[tuple[str, Any]]) -> Text:
    """The line after a backward: which named leaves received gradients, and their shapes."""
    out = Text("gradients: ", "bold")
    for i, (name, shape) in enumerate(received):
        if i:
            out.append(", ")
        out.append(f"{name}.grad", "green")
        out.append(f" {shape_text(shape)}", "dim")
    return out


# ---------------------------------------------------------------------------------------------------------
# tables
# ---------------------------------------------------------------------------------------------------------


def _table(columns: Iterable[str], plain: bool, title: str | None = None) -> Table:
    table = Table(
        *columns,
        box=None if plain else box.SIMPLE_HEAD,
        show_edge=False,
        pad_edge=False,
        header_style="" if plain else "bold",
        title=title,
        title_justify="left",
        title_style="" if plain else "bold",
    )
    return table


@dataclass
class VarRow:
    name: str
    kind: str
    shape: str = ""
    dtype: str = ""
    device: str = ""
    requires_grad: str = ""
    has_grad: str = ""


def vars_table(rows: Sequence[VarRow], plain: bool) -> RenderableType:
    if not rows:
        return Text("no variables yet", "dim")
    table = _table(("name", "kind", "shape", "dtype", "device", "requires_grad", "grad"), plain)
    for r in rows:
        table.add_row(
            Text(r.name, "bold"), r.kind, r.shape, r.dtype, r.device,
            Text(r.requires_grad, "yellow" if r.requires_grad == "True" else ""),
            Text(r.has_grad, "cyan" if r.has_grad.startswith("(") else "dim"),
        )  # fmt: skip
    return table


def grad_view(expr: str, value: Any, grad: Any, why_none: str, width: int = 80) -> RenderableType:
    """EXPR next to EXPR.grad: the two reprs side by side under their names when they fit in `width`,
    one above the other otherwise (torch's line breaks are never re-wrapped); then each header line."""
    gname = f"{expr}.grad" if expr.isidentifier() else f"({expr}).grad"
    left = tensor_text(value)
    right = tensor_text(grad) if grad is not None else Text("None", "dim")
    left_lines, right_lines = left.split("\n"), right.split("\n")
    col = max(len(expr), *(len(t) for t in left_lines)) + 4
    out: list[RenderableType] = []
    if col + max(len(gname), *(len(t) for t in right_lines)) <= width:
        out.append(Text.assemble((expr.ljust(col), "bold"), (gname, "bold")))
        for i in range(max(len(left_lines), len(right_lines))):
            line = Text()
            a = left_lines[i] if i < len(left_lines) else Text("")
            line.append_text(a)
            line.append(" " * (col - len(a)))
            if i < len(right_lines):
                line.append_text(right_lines[i])
            line.rstrip()
            out.append(line)
    else:
        out += [Text(expr, "bold"), left, Text(gname, "bold"), right]
    out.append(Text.assemble((expr, "bold"), ": ", tensor_header(value)))
    if grad is not None:
        out.append(Text.assemble((gname, "bold"), ": ", tensor_header(grad)))
    else:
        out.append(Text.assemble((gname, "bold"), ": ", ("None", "dim"), " — ", (why_none, "yellow")))
    return Group(*out)


def _seconds(s: float) -> str:
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("µs", 1e-6)):
        if s >= scale:
            return f"{s / scale:.3g} {unit}"
    return f"{s / 1e-9:.3g} ns"


@dataclass
class TimeStats:
    expr: str
    median: float
    best: float
    worst: float
    repeats: int
    loops: int
    device: str
    synced: bool


def time_table(st: TimeStats, plain: bool) -> RenderableType:
    table = _table(("expression", "median", "min", "max", "runs", "device"), plain)
    runs = f"{st.repeats} × {st.loops}" + (" (synced)" if st.synced else "")
    table.add_row(Text(st.expr, "bold"), Text(_seconds(st.median), "bold green"), _seconds(st.best),
                  _seconds(st.worst), runs, st.device)  # fmt: skip
    return table


@dataclass
class GradcheckResult:
    expr: str
    name: str
    out_shape: tuple[int, ...]
    in_shape: tuple[int, ...]
    #: (output index, input index, analytical, numerical) per Jacobian element
    entries: list[tuple[tuple[int, ...], tuple[int, ...], float, float]]
    eps: float
    atol: float
    rtol: float


def _index(name: str, idx: tuple[int, ...]) -> str:
    return f"{name}[{', '.join(map(str, idx))}]" if idx else name


def gradcheck_view(r: GradcheckResult, plain: bool, max_rows: int = 40) -> RenderableType:
    """Numerical vs analytical gradient per element, the failures first when there are too many rows."""

    def ok(a: float, n: float) -> bool:
        return abs(a - n) <= r.atol + r.rtol * abs(n)

    bad = [e for e in r.entries if not ok(e[2], e[3])]
    # a Jacobian is mostly structural zeros (elementwise ops): those rows say nothing, count them instead
    zeros = [e for e in r.entries if e[2] == 0.0 and abs(e[3]) <= r.atol] if r.out_shape else []
    entries = [e for e in r.entries if not (e[2] == 0.0 and abs(e[3]) <= r.atol)] if zeros else r.entries
    scalar_out = len(r.out_shape) == 0
    columns = ([] if scalar_out else ["output"]) + ["input", "analytical", "numerical", "abs error", ""]
    table = _table(columns, plain)
    shown = entries if len(entries) <= max_rows else (bad + [e for e in entries if ok(e[2], e[3])])[:max_rows]
    for out_idx, in_idx, a, n in shown:
        good = ok(a, n)
        cells: list[Any] = [] if scalar_out else [_index("out", out_idx)]
        cells += [
            _index(r.name, in_idx), f"{a:.10g}", f"{n:.10g}", Text(f"{abs(a - n):.2e}", "" if good else "bold red"),
            Text("ok", "green") if good else Text("FAIL", "bold red"),
        ]  # fmt: skip
        table.add_row(*cells)
    max_err = max((abs(a - n) for _, _, a, n in r.entries), default=0.0)
    lines: list[RenderableType] = [table]
    if len(shown) < len(entries):
        lines.append(Text(f"… {len(entries) - len(shown)} more elements, all within tolerance", "dim"))
    if zeros:
        lines.append(Text(f"{len(zeros)} more Jacobian elements are zero in both (not shown)", "dim"))
    verdict = Text()
    if bad:
        verdict.append(f"gradcheck failed: {len(bad)} of {len(r.entries)} elements differ", "bold red")
    else:
        verdict.append(f"gradcheck passed: {len(r.entries)} elements agree", "bold green")
    verdict.append(
        f" (max abs error {max_err:.2e}; atol {r.atol:g}, rtol {r.rtol:g}, central differences with eps "
        f"{r.eps:g}, float64)",
        "dim",
    )
    lines.append(verdict)
    return Group(*lines)


def help_view(commands: Sequence[tuple[str, str]], keys: Sequence[tuple[str, str]], plain: bool) -> RenderableType:
    table = _table(("meta-command", "what it does"), plain)
    for usage, summary in commands:
        table.add_row(Text(usage, "bold cyan"), summary)
    key_table = _table(("key", "action"), plain)
    for key, action in keys:
        key_table.add_row(Text(key, "bold"), action)
    intro = Text(
        "Type tsr (Python with `import torch` as tcli's engine; torch is already imported). An expression's "
        "value is echoed; tensors get a header line: shape · dtype · device · requires_grad/leaf · grad. "
        "help(torch.sum) or torch.sum? shows a signature and a description; graph(t) and show(t) draw a "
        "tensor's autograd graph and summary.",
    )
    return Group(intro, Text(""), table, Text(""), key_table)
