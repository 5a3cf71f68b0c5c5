"""What tcli draws: an error with its caret, the autograd graph of a tensor (graph), a tensor summary (show).

Each view is built once as lines of styled segments; `plain` joins the text (for pipes and files) and the
rich path styles it for a terminal. rich is imported only on the terminal path, so scripts that print
plain text never load it. The engine never imports this module.
"""

from __future__ import annotations

from typing import Any, TextIO

from tcli.errors import ScriptError, call_lines, repeated_message, visible_output

#: a line of (text, style) segments
Line = list[tuple[str, str]]


def plain(lines: list[Line]) -> str:
    return "".join("".join(text for text, _ in line) + "\n" for line in lines)


def _print_styled(lines: list[Line], stream: TextIO) -> None:
    from rich.console import Console
    from rich.text import Text

    console = Console(file=stream, force_terminal=True, highlight=False, soft_wrap=True)
    for line in lines:
        console.print(Text.assemble(*[(text, style) for text, style in line]))


def emit(lines: list[Line], stream: TextIO, color: bool) -> None:
    # a script chose some of this text (a module's extra_repr, a name): shown, never obeyed by the terminal
    lines = [[(visible_output(text), style) for text, style in line] for line in lines]
    if color:
        _print_styled(lines, stream)
    else:
        stream.write(plain(lines))


# ---------------------------------------------------------------------------------------------------------
# errors
# ---------------------------------------------------------------------------------------------------------


def error_lines(err: ScriptError) -> list[Line]:
    """The same text as ScriptError.format_plain, as styled segments."""
    lines: list[Line] = []
    head: Line = []
    if err.site:
        head.append((f"{err.site.where()}: ", "bold"))
    head.append((err.type_name, "bold red"))
    if err.message:
        head.append((f": {err.message}", "bold"))
    lines.append(head)
    if err.site:
        lines += _excerpt(err.site.excerpt())
    for call, repeated, period in call_lines(err.stack):
        if call is None:
            lines.append([(repeated_message(repeated, period), "dim")])
            continue
        lines.append([("  called from ", "dim"), (call.where(), "bold")])
        lines += [[("  " + x, "dim")] for x in call.excerpt(caret=False)]
    if err.hint:
        lines.append([("hint: ", "bold cyan"), (err.hint, "cyan")])
        if err.hint_site:
            lines += _excerpt(err.hint_site.excerpt())
    return lines


def _excerpt(text_lines: list[str]) -> list[Line]:
    out: list[Line] = []
    for i, text in enumerate(text_lines):
        gutter, _, rest = text.partition(" | ")
        out.append([(gutter + " | ", "blue"), (rest, "bold red" if i == 1 else "")])
    return out


def print_error(err: ScriptError, stream: TextIO) -> None:
    _print_styled(error_lines(err), stream)


# ---------------------------------------------------------------------------------------------------------
# graph(t)
# ---------------------------------------------------------------------------------------------------------


def graph_lines(tensor: Any, names: dict[int, str]) -> list[Line]:
    """The autograd graph below `tensor` as a tree: torch's node names, output shapes, saved tensors (and
    whether backward freed them), leaves by variable name with their .grad. A node reached twice is
    drawn once; later references say so. A node that several outputs share (split's, unbind's, svd's) is
    one node, as in torch: each reference names the output it stands for."""
    title = names.get(id(tensor))
    fn = getattr(tensor, "grad_fn", None)
    if fn is None:
        label: Line = [(f"{title}: " if title else "", "bold")]
        if getattr(tensor, "requires_grad", False):
            return [label + [("leaf tensor", "green"), *_tensor_facts(tensor)]]
        return [label + [("no autograd graph (requires_grad=False)", "dim"), *_tensor_facts(tensor)]]
    lines: list[Line] = []
    seen: set[int] = set()
    head = [(f"{title} = ", "bold")] if title else []
    _walk(fn, _output_nr(tensor), names, "", None, lines, seen, head)
    return lines


def _output_nr(tensor: Any) -> int:
    nr = getattr(tensor, "output_nr", 0)
    return nr if isinstance(nr, int) else 0


MAX_GRAPH_DEPTH = 40  # levels drawn below the root; a deeper graph (a long loop's chain) is summarised
MAX_GRAPH_LINES = 400


def _walk(
    node: Any, nr: int, names: dict[int, str], prefix: str, last: bool | None, lines: list[Line], seen: set[int],
    head: Line,
) -> None:  # fmt: skip
    # depth first, children in torch's next_functions order, without recursion (graphs can be thousands deep)
    stack: list[tuple[Any, int, str, bool | None, Line, int]] = [(node, nr, prefix, last, head, 0)]
    while stack:
        node, nr, prefix, last, head, depth = stack.pop()
        branch = "" if last is None else ("└── " if last else "├── ")
        if depth > MAX_GRAPH_DEPTH or len(lines) >= MAX_GRAPH_LINES:
            more = _count_below(node, seen)
            lines.append([(prefix + branch, "dim"), (f"… {more} more node{'s' if more != 1 else ''}", "dim")])
            continue
        line: Line = [(prefix + branch, "dim"), *head]
        repeated = id(node) in seen
        seen.add(id(node))
        line += _node_label(node, nr, names, repeated)
        lines.append(line)
        if repeated:
            continue
        children = [(c, k) for c, k in getattr(node, "next_functions", ()) if c is not None]
        child_prefix = prefix + ("" if last is None else ("    " if last else "│   "))
        for i in reversed(range(len(children))):
            c, k = children[i]
            stack.append((c, k, child_prefix, i == len(children) - 1, [], depth + 1))


def _count_below(node: Any, seen: set[int]) -> int:
    """How many nodes (not drawn yet) start at node: what a summarised branch stands for."""
    count, todo = 0, [node]
    while todo:
        n = todo.pop()
        if id(n) in seen:
            continue
        seen.add(id(n))
        count += 1
        todo += [c for c, _ in getattr(n, "next_functions", ()) if c is not None]
    return count


def _node_label(node: Any, nr: int, names: dict[int, str], repeated: bool) -> Line:
    name = _call(node, "name") or type(node).__name__
    variable = getattr(node, "variable", None)
    if variable is not None:
        label: Line = [(names.get(id(variable), "leaf"), "bold green"), (f"  {name}", "dim")]
        if repeated:
            return label + [("  (shown above)", "dim")]
        return label + _tensor_facts(variable)
    label = [(name, "bold")]
    info = _describe(node)
    outputs = getattr(info, "outputs", ()) or ()
    if len(outputs) > 1 and 0 <= nr < len(outputs):  # one node for several outputs: say which this edge is
        label.append((f"  output {nr} of {len(outputs)}", "cyan"))
    if repeated:
        return label + [("  (shown above)", "dim")]
    if info is not None:
        shape = outputs[nr] if len(outputs) > 1 and 0 <= nr < len(outputs) else getattr(info, "shape", None)
        if shape is not None:
            label.append((f"  shape={_shape(shape)}", ""))
        saved = getattr(info, "saved", 0) or 0
        if saved:
            freed = getattr(info, "freed", False)
            label.append((f"  saved={saved}", ""))
            if freed:
                label.append(("  (freed by backward)", "yellow"))
    return label


def _describe(node: Any) -> Any:
    import sys

    autograd = sys.modules.get("engine.autograd")
    describe = getattr(autograd, "describe", None)
    if describe is None:
        return None
    try:
        return describe(node)
    except Exception:
        return None


def _tensor_facts(t: Any) -> Line:
    facts: Line = [(f"  shape={_shape(getattr(t, 'shape', ()))}", "")]
    if getattr(t, "requires_grad", False):
        facts.append(("  requires_grad", ""))
    grad = getattr(t, "grad", None)
    if grad is not None:
        facts.append((f"  grad={_one_line(grad)}", "cyan"))
    return facts


def _one_line(t: Any) -> str:
    numel = _call(t, "numel")
    if isinstance(numel, int) and numel > 8:
        return f"<{_shape(t.shape)} tensor>"
    return " ".join(repr(t).split())


def _shape(shape: Any) -> str:
    return str(tuple(int(d) for d in shape))


def _call(obj: Any, method: str) -> Any:
    fn = getattr(obj, method, None)
    try:
        return fn() if callable(fn) else None
    except Exception:
        return None


def show_graph(tensor: Any, names: dict[int, str], stream: TextIO, color: bool) -> None:
    emit(graph_lines(tensor, names), stream, color)


# ---------------------------------------------------------------------------------------------------------
# show(t)
# ---------------------------------------------------------------------------------------------------------


def show_lines(t: Any) -> list[Line]:
    """shape, dtype, device, requires_grad; min/max/mean/std over the finite values, nan/inf counts; then
    the values as torch prints them."""
    if not all(hasattr(t, a) for a in ("shape", "dtype", "detach")):
        return [[(type(t).__name__, "bold"), (f"  {t!r}", "")]]
    head: Line = [
        ("tensor", "bold"),
        (f"  shape={_shape(t.shape)}", ""),
        (f"  dtype={t.dtype}", ""),
        (f"  device={getattr(t, 'device', 'cpu')}", ""),
        (f"  requires_grad={getattr(t, 'requires_grad', False)}", ""),
    ]
    lines = [head, _stats(t)]
    lines += [[(row, "")] for row in repr(t).split("\n")]
    return lines


def _stats(t: Any) -> Line:
    import numpy as np

    try:
        arr = t.detach()
        if hasattr(arr, "resolve_conj"):  # (numpy() refuses a tensor with the conjugate bit set)
            arr = arr.resolve_conj()
        if str(getattr(arr, "device", "cpu")) != "cpu":
            arr = arr.cpu()
        values = np.asarray(arr.numpy() if hasattr(arr, "numpy") else arr.tolist())
    except Exception:
        return [("(statistics unavailable)", "dim")]
    if values.dtype == bool:
        values = values.astype(np.int64)
    if values.size == 0:
        return [("empty", "dim")]
    if np.iscomplexobj(values):
        values = np.abs(values)
    values = values.astype(np.float64)
    finite = values[np.isfinite(values)]
    nan = int(np.isnan(values).sum())
    inf = int(np.isinf(values).sum())
    parts: Line = []
    if finite.size:
        for label, v in (("min", finite.min()), ("max", finite.max()), ("mean", finite.mean())):
            parts.append((f"{label}={v:.4g}  ", ""))
        # (a sample std needs two values: with one finite value it is undefined, not a nan of the tensor's)
        parts.append((f"std={finite.std(ddof=1):.4g}  " if finite.size > 1 else "std=-  ", ""))
    parts.append((f"nan={nan}", "red" if nan else ""))
    parts.append((f"  inf={inf}", "red" if inf else ""))
    return parts


def show_tensor(t: Any, stream: TextIO, color: bool) -> None:
    emit(show_lines(t), stream, color)
