"""What tcli draws: an error with its caret, the autograd graph of a tensor (graph), a tensor summary (show).

Each view is built once as lines of styled segments; `plain` joins the text (for pipes and files) and the
rich path styles it for a terminal. rich is imported only on the terminal path, so scripts that print
plain text never load it. The engine never imports this module.
"""

from __future__ import annotations

import sys
from typing import Any, TextIO

from tcli.errors import ScriptError, call_lines, repeated_message, visible_output


def shown(t: Any, name: str, default: Any = None) -> Any:
    """t's requires_grad, grad_fn or is_leaf as torch shows it: a forward-AD dual tensor's graph, which torch
    does not have, is not shown (engine/forward_ad.shown_attribute)."""
    value = getattr(t, name, default)
    fwd = sys.modules.get("engine.forward_ad")
    if fwd is None or not fwd._ANY_HIDDEN[0]:
        return value
    return fwd.shown_attribute(t, name, value)


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
    for how, earlier in err.chain:
        lines.append([(how, "dim")])
        site = earlier.site
        head: Line = [(f"{site.where()}: ", "bold")] if site else []
        head += [(earlier.type_name, "bold red"), (f": {earlier.message}" if earlier.message else "", "bold")]
        lines.append(head)
        if site:
            lines += _excerpt(site.excerpt())
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


def graph_lines(tensor: Any, names: dict[int, str], node_names: dict[tuple[int, int], str] | None = None) -> list[Line]:
    """The autograd graph below `tensor` as a tree: torch's node names, output shapes, saved tensors (and
    whether backward freed them), leaves by variable name with their .grad. A node reached twice is
    drawn once; later references say so. A node that several outputs share (split's, unbind's, svd's) is
    one node, as in torch: each reference names the output it stands for. `node_names` labels inner nodes
    by the variables bound to their outputs: (id(grad_fn), output_nr) -> `y` (see graph_node_names)."""
    title = names.get(id(tensor))
    fn = shown(tensor, "grad_fn")
    if fn is None:
        label: Line = [(f"{title}: " if title else "", "bold")]
        if shown(tensor, "requires_grad", False):
            return [label + [("leaf tensor", "green"), *_tensor_facts(tensor)]]
        return [label + [("no autograd graph (requires_grad=False)", "dim"), *_tensor_facts(tensor)]]
    lines: list[Line] = []
    head = [(f"{title} = ", "bold")] if title else []
    node_names = dict(node_names or {})
    node_names.pop((id(fn), _output_nr(tensor)), None)  # (the root is titled already)
    _walk(fn, _output_nr(tensor), names, node_names, lines, head)
    return lines


def graph_node_names(tensors: dict[str, Any]) -> dict[tuple[int, int], str]:
    """(id(grad_fn), output_nr) -> `y` (or `y, z`) for the named tensors that are a node's output."""
    found: dict[tuple[int, int], list[str]] = {}
    for name, t in tensors.items():
        fn = getattr(t, "grad_fn", None)
        if fn is not None:
            found.setdefault((id(fn), _output_nr(t)), []).append(name)
    return {key: ", ".join(sorted(vs)) for key, vs in found.items()}


def _output_nr(tensor: Any) -> int:
    nr = getattr(tensor, "output_nr", 0)
    return nr if isinstance(nr, int) else 0


MAX_GRAPH_DEPTH = 40  # branch levels drawn below the root; a deeper graph is summarised
MAX_GRAPH_LINES = 400
#: a linear run (each node with one input) longer than this shows its first and last CHAIN_ENDS nodes and a
#: one-line summary of the middle; the run's last node (a leaf, or where the graph branches) is always drawn
MAX_CHAIN = 12
CHAIN_ENDS = 4


def _children(node: Any) -> list[tuple[Any, int]]:
    return [(c, k) for c, k in getattr(node, "next_functions", ()) if c is not None]


#: a node with more inputs than this draws its first SIBLING_ENDS and last SIBLING_ENDS and counts the rest
MAX_SIBLINGS = 8
SIBLING_ENDS = 3
#: the most single-input nodes between two levels of a spine (see _spine)
SPINE_LINK = 4


def _walk(
    node: Any, nr: int, names: dict[int, str], node_names: dict[tuple[int, int], str], lines: list[Line],
    head: Line,
) -> None:  # fmt: skip
    """Depth first, children in torch's next_functions order, without recursion (graphs can be thousands
    deep). A node with several inputs indents them as a tree; a node with one input continues at the same
    column, joined by a `│`, so a long chain (a loop's `w = w * 1.5 + 1`) stays narrow. A long spine (a
    loop's `total = total + loss`, each level a node with inputs of its own) shows its first and last
    CHAIN_ENDS levels, and a node with many inputs its first and last few."""
    seen: set[int] = set()
    elided: set[int] = set()
    spined: set[int] = set()  # multi-input nodes whose spine was looked for already
    # level node -> (its input the cut replaces, the summary line, (the level drawn after it, the hidden nodes))
    cuts: dict[int, tuple[int, list[Line], tuple[tuple[Any, int], list[Any]]]] = {}
    # (node, output nr, text before the label, prefix for the node's children, name head, branch depth);
    # node None: a line of its own (head), then the resumed node, if any, in nr
    stack: list[tuple[Any, Any, str, str, Line, int]] = [(node, nr, "", "", head, 0)]
    while stack:
        node, nr, before, cont, head, depth = stack.pop()
        if node is None:
            lines.append([(before, "dim"), *head])
            if nr is not None:  # an elided spine: its last levels continue under the summary
                (resume, k), hidden = nr
                elided.update(id(n) for n in hidden)
                seen.update(id(n) for n in hidden)
                stack.append((resume, k, cont + "│ ", cont + "  ", [], depth))
            continue
        if depth > MAX_GRAPH_DEPTH or len(lines) >= MAX_GRAPH_LINES:
            more = _count_below(node, seen)
            lines.append([(before, "dim"), (f"… {more} more node{'s' if more != 1 else ''}", "dim")])
            continue
        lines.append([(before, "dim"), *head, *_node_label(node, nr, names, node_names, seen, elided)])
        if id(node) in seen:
            continue
        seen.add(id(node))
        children = _children(node)
        if len(children) == 1:  # a linear run: follow it at this column
            shown = _shorten(_run(children[0], seen), node_names)
            for item in shown[:-1]:
                if isinstance(item, list):  # an elided stretch
                    lines.append([(cont + "│ ", "dim"), (_elision(item), "dim")])
                    elided.update(id(n) for n, _ in item)
                    seen.update(id(n) for n, _ in item)
                    continue
                c, k = item
                lines.append([(cont + "│ ", "dim"), *_node_label(c, k, names, node_names, seen, elided)])
                seen.add(id(c))
            node, nr = shown[-1]
            stack.append((node, nr, cont + "│ ", cont + "  ", [], depth))
            continue
        if id(node) not in spined:
            _plan_spine(node, seen, node_names, spined, cuts)
        cut = cuts.pop(id(node), None)
        drawn: list[Any] = list(range(len(children)))
        if len(children) > MAX_SIBLINGS:
            hidden = children[SIBLING_ENDS:-SIBLING_ENDS]
            drawn = [*drawn[:SIBLING_ENDS], hidden, *drawn[-SIBLING_ENDS:]]
        for i in reversed(range(len(drawn))):
            last = i == len(drawn) - 1
            branch, pad = ("└── ", "    ") if last else ("├── ", "│   ")
            item = drawn[i]
            if isinstance(item, list):
                stack.append((None, None, cont + branch, cont + pad, [(_sibling_elision(item), "dim")], depth + 1))
            elif cut is not None and item == cut[0]:
                stack.append((None, cut[2], cont + branch, cont + pad, cut[1], depth + 1))
            else:
                c, k = children[item]
                stack.append((c, k, cont + branch, cont + pad, [], depth + 1))


def _sibling_elision(hidden: list[tuple[Any, int]]) -> str:
    """`… 34 more inputs (MulBackward0 each) …` for the middle inputs of a node with many."""
    kinds = _kinds(hidden)
    text = f"… {len(hidden)} more inputs"
    if len(set(kinds)) == 1:
        text += f" ({kinds[0]} each)"
    return text + " …"


def _spine(node: Any, seen: set[int]) -> list[tuple[Any, int, list[tuple[Any, int]]]]:
    """The levels of the spine from `node`: a node with several inputs one of which leads (directly or through
    at most SPINE_LINK single-input nodes) to a node of the same kind with several inputs, and so on, as a
    loop's `total = total + loss` builds. Each level is (node, the input its next level is under, the nodes
    from that input to the next level, the last of which is the next level's node)."""
    kind = _call(node, "name")
    levels: list[tuple[Any, int, list[tuple[Any, int]]]] = []
    ids = {id(node)}
    while True:
        step = None
        for j, child in enumerate(_children(node)):
            path, item = [child], child
            for _ in range(SPINE_LINK):
                n = item[0]
                if id(n) in seen or id(n) in ids:
                    break
                grand = _children(n)
                if _call(n, "name") == kind and len(grand) > 1:
                    step = (j, path)
                    break
                if len(grand) != 1:
                    break
                item = grand[0]
                path.append(item)
            if step is not None:
                break
        if step is None:
            levels.append((node, -1, []))
            return levels
        levels.append((node, step[0], step[1]))
        ids.update(id(n) for n, _ in step[1])
        node = step[1][-1][0]


def _plan_spine(
    node: Any, seen: set[int], node_names: dict[tuple[int, int], str], spined: set[int],
    cuts: dict[int, tuple[int, list[Line], tuple[tuple[Any, int], list[Any]]]],
) -> None:  # fmt: skip
    """Look for a long spine from `node`; if there is one, record where its middle levels are cut: all but its
    first and last CHAIN_ENDS levels and those a variable names, each hidden stretch summarised in one line."""
    levels = _spine(node, seen)
    spined.update(id(n) for n, _, _ in levels)
    if len(levels) <= MAX_CHAIN:
        return
    # level i is its node and the single-input nodes below it, up to level i + 1's node
    members = [[(levels[0][0], -1)]] + [path[-1:] for _, _, path in levels[:-1]]
    for i, (_, _, path) in enumerate(levels):
        members[i] += path[:-1]
    keep = [
        i < CHAIN_ENDS or i >= len(levels) - CHAIN_ENDS or any(item in node_names for item in _keys(members[i]))
        for i in range(len(levels))
    ]
    i = 0
    while i < len(levels):
        if keep[i]:
            i += 1
            continue
        j = i
        while not keep[j]:
            j += 1
        if j - i >= 2:  # levels i .. j-1 hidden, under level i - 1's spine input; level j resumes
            kinds = _kinds([(n, 0) for n, _ in members[i]])
            text = f"… {j - i} more levels like these ({' → '.join(kinds)}), their other inputs not drawn …"
            hidden = [n for m in members[i:j] for n, _ in m]
            above = levels[i - 1]
            cuts[id(above[0])] = (above[1], [(text, "dim")], (levels[j - 1][2][-1], hidden))
        i = j


def _keys(items: list[tuple[Any, int]]) -> list[tuple[int, int]]:
    return [(id(n), k) for n, k in items]


def _shorten(run: list[tuple[Any, int]], node_names: dict[tuple[int, int], str]) -> list[Any]:
    """A long run as drawn: its first and last CHAIN_ENDS nodes and every node a variable names, each hidden
    stretch between them as one list (elided as a whole number of its repeating pattern; the rest drawn)."""
    if len(run) <= MAX_CHAIN:
        return list(run)
    keep = [i < CHAIN_ENDS or i >= len(run) - CHAIN_ENDS or (id(n), k) in node_names for i, (n, k) in enumerate(run)]
    shown: list[Any] = []
    i = 0
    while i < len(run):
        if keep[i]:
            shown.append(run[i])
            i += 1
            continue
        j = i
        while not keep[j]:
            j += 1
        stretch = run[i:j]
        cut = len(stretch) - len(stretch) % _period(stretch)  # (whole repeats elided, the rest drawn)
        if cut >= 2:
            shown.append(stretch[:cut])
            shown += stretch[cut:]
        else:
            shown += stretch
        i = j
    return shown


def _run(start: tuple[Any, int], seen: set[int]) -> list[tuple[Any, int]]:
    """The linear run from `start`: nodes while each (not drawn yet) has exactly one input; the last one
    is where it ends (a leaf, a branch, a node already drawn)."""
    run, ids, item = [], set(), start
    while True:
        run.append(item)
        node = item[0]
        if id(node) in seen or id(node) in ids:
            return run
        ids.add(id(node))
        children = _children(node)
        if len(children) != 1:
            return run
        item = children[0]


def _kinds(nodes: list[tuple[Any, int]]) -> list[str]:
    return [_call(n, "name") or type(n).__name__ for n, _ in nodes]


def _period(nodes: list[tuple[Any, int]]) -> int:
    """The shortest pattern (up to 4 node kinds) the run repeats at least twice, else 1."""
    kinds = _kinds(nodes)
    for period in range(1, 5):
        if len(kinds) >= 2 * period and all(kinds[i] == kinds[i % period] for i in range(len(kinds))):
            return period
    return 1


def _elision(middle: list[tuple[Any, int]]) -> str:
    """`… 52 more nodes (MulBackward0 → AddBackward0, 26 times) …` for the hidden middle of a run."""
    kinds = _kinds(middle)
    count = len(kinds)
    text = f"… {count} more node{'s' if count != 1 else ''}"
    period = _period(middle)
    if count // period >= 2 and kinds == kinds[:period] * (count // period):
        text += f" ({' → '.join(kinds[:period])}, {count // period} times)"
    return text + " …"


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


def _node_label(
    node: Any, nr: int, names: dict[int, str], node_names: dict[tuple[int, int], str], seen: set[int],
    elided: set[int],
) -> Line:  # fmt: skip
    name = _call(node, "name") or type(node).__name__
    repeated = id(node) in seen
    note = [("  (in the elided run above)" if id(node) in elided else "  (shown above)", "dim")]
    variable = getattr(node, "variable", None)
    if variable is not None:
        label: Line = [(names.get(id(variable), "leaf"), "bold green"), (f"  {name}", "dim")]
        if repeated:
            return label + note
        return label + _tensor_facts(variable)
    bound = node_names.get((id(node), nr))
    label = [(f"{bound} = ", "bold")] if bound else []
    label.append((name, "bold"))
    info = _describe(node)
    outputs = getattr(info, "outputs", ()) or ()
    if len(outputs) > 1 and 0 <= nr < len(outputs):  # one node for several outputs: say which this edge is
        label.append((f"  output {nr} of {len(outputs)}", "cyan"))
    if repeated:
        return label + note
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
    if shown(t, "requires_grad", False):
        facts.append(("  requires_grad", ""))
    grad = getattr(t, "grad", None)
    if grad is not None:
        facts.append((f"  grad={_one_line(grad)}", "cyan"))
    return facts


#: a .grad shown in full on its node's line may take this many characters; a longer one shows its norm
MAX_INLINE_GRAD = 40


def _one_line(t: Any) -> str:
    numel = _call(t, "numel")
    if isinstance(numel, int) and numel <= 8:
        text = " ".join(repr(t).split())
        if len(text) <= MAX_INLINE_GRAD:
            return text
    norm = _call(t, "norm")
    try:
        return f"<{_shape(t.shape)} tensor, norm {float(norm):.4g}>"
    except Exception:  # (a grad without a norm: bool, or a meta tensor)
        return f"<{_shape(t.shape)} tensor>"


def _shape(shape: Any) -> str:
    return str(tuple(int(d) for d in shape))


def _call(obj: Any, method: str) -> Any:
    fn = getattr(obj, method, None)
    try:
        return fn() if callable(fn) else None
    except Exception:
        return None


def show_graph(
    tensor: Any, names: dict[int, str], stream: TextIO, color: bool,
    node_names: dict[tuple[int, int], str] | None = None,
) -> None:  # fmt: skip
    emit(graph_lines(tensor, names, node_names), stream, color)


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
        (f"  requires_grad={shown(t, 'requires_grad', False)}", ""),
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
