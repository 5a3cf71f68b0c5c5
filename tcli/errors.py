"""Errors of tsr programs: where they happened, what to show, and the hints for autograd mistakes.

Any exception raised while a script runs (a Python error, an engine error, a limit) is tagged with the AST
node that was executing (`exc.tsr_node`) and, when it leaves tsr functions, with their call sites
(`exc.tsr_stack`). `ScriptError.from_exception` turns that into one value with a type name, a message, a
`Site`, an optional hint and the call sites; `format_plain` prints it as

    FILE:LINE:COL: ErrorType: message
        LINE | source line
             | ^^^^^^ (under the failing span)
    hint: ...

and render.py prints the same with colour on a terminal. Columns are 1-based characters.
"""

from __future__ import annotations

import ast
import re
from typing import Any, NamedTuple


class Source:
    """A script's text and name, shared by every node parsed from it (as `node.tsr_src`)."""

    __slots__ = ("filename", "text", "lines")

    def __init__(self, text: str, filename: str) -> None:
        self.filename = filename
        self.text = text
        self.lines = text.splitlines()

    def line(self, n: int) -> str:
        return self.lines[n - 1] if 0 < n <= len(self.lines) else ""

    def column(self, line: int, byte_offset: int) -> int:
        """1-based character column of a UTF-8 byte offset (what ast reports) in a line."""
        raw = self.line(line).encode()
        return len(raw[:byte_offset].decode("utf-8", errors="replace")) + 1

    def site(self, node: ast.AST) -> Site:
        line = getattr(node, "lineno", 1) or 1
        end_line = getattr(node, "end_lineno", None) or line
        col = self.column(line, getattr(node, "col_offset", 0) or 0)
        end_off = getattr(node, "end_col_offset", None)
        if end_line != line or end_off is None:
            end_col = len(self.line(line)) + 1
        else:
            end_col = self.column(line, end_off)
        return Site(self.filename, line, col, max(end_col, col + 1), self.line(line))


class Site(NamedTuple):
    """A span in a script: the statement the engine records as `engine.autograd.current_site`, or the
    node an error points at. `end_col` is exclusive and on the same line."""

    filename: str
    line: int
    col: int
    end_col: int
    text: str

    def where(self) -> str:
        return f"{self.filename}:{self.line}:{self.col}"

    def excerpt(self, caret: bool = True) -> list[str]:
        """The source line (tabs expanded, control characters shown as escapes) with its number, and a caret
        line under the span; a very long line is cut to a window around the span."""
        if not self.text.strip():
            return []
        number = f"{self.line:>5}"
        # (tab stops depend only on what precedes: prefixes expand alike)
        text = visible(self.text).expandtabs(4)
        prefix = visible(self.text[: self.col - 1]).expandtabs(4)
        span_end = len(visible(self.text[: self.end_col - 1]).expandtabs(4))
        start, end = 0, len(text)
        if len(text) > _LONG_LINE:
            start = max(0, len(prefix) - _CONTEXT)
            end = min(len(text), max(span_end, len(prefix) + 1) + _CONTEXT)
        shown = ("…" if start else "") + text[start:end] + ("…" if end < len(text) else "")
        lines = [f"{number} | {shown}"]
        if caret:
            # columns count characters; the caret line counts terminal cells (wide CJK characters take two)
            pad = _cells(("…" if start else "") + prefix[start:])
            width = max(1, _cells(text[len(prefix) : min(span_end, end)]))
            lines.append(f"{' ' * len(number)} | {' ' * pad}{'^' * width}")
        return lines


#: source lines longer than this are shown as a window of _CONTEXT characters each side of the error's span
_LONG_LINE, _CONTEXT = 240, 100
#: characters a terminal would act on rather than show (C0 but tab and newline, DEL, C1, bidi overrides)
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def _escape(m: re.Match) -> str:
    c = ord(m.group())
    return f"\\x{c:02x}" if c < 0x100 else f"\\u{c:04x}"


def visible(text: str) -> str:
    """Text a script chose (messages, its source, what it prints to a terminal) with every control character
    written as an escape, so that no script can drive the user's terminal (set the clipboard, move the
    cursor, erase or forge tcli's lines)."""
    return _CONTROL.sub(_escape, text) if _CONTROL.search(text) else text


def visible_output(text: str) -> str:
    """visible(), keeping carriage returns: print(..., end="\\r") progress lines still work on a terminal."""
    return _OUTPUT_CONTROL.sub(_escape, text) if _OUTPUT_CONTROL.search(text) else text


_OUTPUT_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def _cells(text: str) -> int:
    if text.isascii():
        return len(text)
    import unicodedata

    return sum(0 if unicodedata.combining(c) else 2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


#: Consecutive identical call sites shown before the rest are counted (Python's traceback does the same).
REPEATS_SHOWN = 3


def call_lines(stack: tuple[Site, ...]) -> list[tuple[Site | None, int, int]]:
    """The call sites to show, innermost first: (site, 0, 0) for each, and (None, n, k) in place of n further
    repetitions of the k call sites above (deep recursion, direct or through k functions): a site repeated
    consecutively is shown REPEATS_SHOWN times, a longer cycle once."""
    out: list[tuple[Site | None, int, int]] = []
    i = 0
    while i < len(stack):
        best_k, best_r = 1, 1
        for k in range(1, 9):
            block = stack[i : i + k]
            if len(block) < k:
                break
            r = 1
            while stack[i + r * k : i + (r + 1) * k] == block:
                r += 1
            if r >= 2 and r * k > best_k * best_r:
                best_k, best_r = k, r
        shown = min(best_r, REPEATS_SHOWN if best_k == 1 else 1)
        out += [(site, 0, 0) for site in stack[i : i + best_k]] * shown
        if best_r > shown:
            out.append((None, best_r - shown, best_k))
        i += best_k * best_r
    return out


def repeated_message(n: int, k: int = 1) -> str:
    above = "the call above" if k == 1 else f"the {k} calls above"
    return f"  [{above} repeated {n} more time{'s' if n != 1 else ''}]"


def site_of(node: ast.AST | None) -> Site | None:
    src = getattr(node, "tsr_src", None)
    return src.site(node) if src is not None else None


class ScriptExit(SystemExit):
    """sys.exit() in a script: ends the run with `code` (None: 0; a number: that status; anything else is
    printed to stderr and the status is 1), through any engine code between, as Python's SystemExit does."""

    __module__ = "builtins"


ScriptExit.__name__ = ScriptExit.__qualname__ = "SystemExit"  # (what type(e).__name__ shows a script)


def exit_status(code: Any) -> tuple[int, str | None]:
    """(process status, message for stderr) of sys.exit(code), as Python's interpreter exits."""
    if code is None:
        return 0, None
    if isinstance(code, int) and not isinstance(code, bool):
        return code & 0xFF, None
    if isinstance(code, bool):
        return int(code), None
    return 1, str(code)


class ScriptError(Exception):
    """A failed tsr program, ready to print. `exc` is the original exception (for --debug and for the REPL)."""

    def __init__(
        self,
        type_name: str,
        message: str,
        site: Site | None = None,
        hint: str | None = None,
        hint_site: Site | None = None,
        stack: tuple[Site, ...] = (),
        exc: BaseException | None = None,
    ) -> None:
        message = visible(message)
        super().__init__(f"{type_name}: {message}" if message else type_name)
        self.type_name = type_name
        self.message = message
        self.site = site
        self.hint = hint
        self.hint_site = hint_site
        self.stack = stack
        self.exc = exc
        #: the script's earlier exceptions this one was raised from or while handling, latest first: (how, error)
        self.chain: list[tuple[str, ScriptError]] = []

    @classmethod
    def from_exception(cls, exc: BaseException) -> ScriptError:
        if isinstance(exc, ScriptError):
            return exc
        site = getattr(exc, "tsr_site", None) or site_of(node_of(exc))
        stack = tuple(s for s in (site_of(n) for n in calls_of(exc)) if s is not None)
        hint, hint_site = autograd_hint(exc)
        message = error_message(exc)
        refused = refused_builtin_hint(exc, message)  # (then no "Did you mean": compile is not complex)
        hint = hint or refused or _note(exc)
        suggestion = None if refused else did_you_mean(exc, message)
        if suggestion is not None:  # where Python 3.11 prints it, after the message
            message += f". Did you mean: '{suggestion}'?"
        err = cls(error_type_name(exc), message, site, hint, hint_site, stack, exc)
        err.chain = _chain(exc)
        return err

    def headline(self) -> str:
        where = f"{self.site.where()}: " if self.site else ""
        return f"{where}{self.type_name}: {self.message}" if self.message else f"{where}{self.type_name}"

    def format_plain(self) -> str:
        lines = [self.headline()]
        if self.site:
            lines += self.site.excerpt()
        for call, repeated, period in call_lines(self.stack):
            if call is None:
                lines.append(repeated_message(repeated, period))
                continue
            lines.append(f"  called from {call.where()}")
            lines += ["  " + x for x in call.excerpt(caret=False)]
        if self.hint:
            lines.append(f"hint: {self.hint}")
            if self.hint_site:
                lines += self.hint_site.excerpt()
        for how, earlier in self.chain:
            lines.append(how)
            lines += [earlier.headline(), *(earlier.site.excerpt() if earlier.site else [])]
        return "\n".join(lines) + "\n"


#: how an earlier exception of the script is linked to the one reported (Python's two chaining messages)
CAUSED_BY = "which was directly caused by:"
RAISED_WHILE = "which was raised while handling:"
#: the most earlier exceptions shown under one error
MAX_CHAIN = 3


def _chain(exc: BaseException) -> list[tuple[str, ScriptError]]:
    """What Python prints above a traceback, latest first: the exception `raise ... from` named, or the one
    being handled when this one was raised. Only the script's own (raised at a line of it): what the engine
    caught and replaced inside itself is not the script's business."""
    chain: list[tuple[str, ScriptError]] = []
    if isinstance(exc, (*UNCATCHABLE, MemoryError, RecursionError)):
        # a limit: what it interrupted (perhaps the making of another error's message, which may loop or grow
        # without end) is not shown, and no message of the script's is made again outside the limits
        return chain
    seen = {id(exc)}
    while len(chain) < MAX_CHAIN:
        cause = exc.__cause__
        if cause is not None:
            how, exc = CAUSED_BY, cause
        elif exc.__context__ is not None and not exc.__suppress_context__:
            how, exc = RAISED_WHILE, exc.__context__
        else:
            break
        site = getattr(exc, "tsr_site", None) or site_of(node_of(exc))
        if id(exc) in seen or site is None or isinstance(exc, ScriptError):
            break
        seen.add(id(exc))
        message = error_message(exc)
        chain.append((how, ScriptError(error_type_name(exc), message, site, exc=exc)))
    return chain


def _note(exc: BaseException) -> str | None:
    """The engine's note on an exception whose message is torch's (what is missing here, and how to get it)."""
    notes = getattr(exc, "__notes__", None)
    return notes[0] if notes and isinstance(notes[0], str) else None


def error_type_name(exc: BaseException) -> str:
    name = getattr(exc, "tsr_type_name", None) or type(exc).__name__
    # numpy's allocation failure is a MemoryError subclass with a private name
    return "MemoryError" if name.startswith("_") and isinstance(exc, MemoryError) else name


def error_message(exc: BaseException) -> str:
    if isinstance(exc, KeyError) and len(exc.args) == 1 and type(exc).__str__ is KeyError.__str__:
        return repr(exc.args[0])  # what Python prints for KeyError
    if isinstance(exc, SyntaxError) and exc.msg is not None:
        return exc.msg
    text = exc_text(exc)
    if isinstance(exc, ValueError) and _INT_DIGITS_ADVICE in text:  # (advice a tsr script cannot follow)
        return text.replace(_INT_DIGITS_ADVICE, _INT_DIGITS_TSR)
    if isinstance(exc, MemoryError) and not text:  # the process hit its memory cap inside Python or numpy
        return "out of memory: the script reached the memory limit (tcli run's --max-memory, half the RAM by default)"
    return text


def exc_text(exc: BaseException) -> str:
    """str(exc), as Python's traceback shows it: a script exception's __str__ that fails (raises another, whose
    own __str__ is never run) reads "<exception str() failed>"."""
    try:
        return str(exc)
    except (MemoryError, RecursionError):
        raise  # (a limit the message hit: reported as itself)
    except Exception:
        return "<exception str() failed>"


#: Python's advice for integers past the digit limit of decimal conversion, and tsr's (it has no sys module)
_INT_DIGITS_ADVICE = "; use sys.set_int_max_str_digits() to increase the limit"
_INT_DIGITS_TSR = (
    "; tsr cannot raise this limit, which is for decimal only: hex(x), f'{x:x}' and int(text, 16) have none"
)

LEAF_INPLACE = "a leaf Variable that requires grad is being used in an in-place operation"
BACKWARD_TWICE = "Trying to backward through the graph a second time"
VERSION_MISMATCH = "modified by an inplace operation"
NAN_GRADIENT = "returned nan values in its"
NOT_SCALAR = "grad can be implicitly created only for scalar outputs"
NO_GRAD_FN = "does not require grad and does not have a grad_fn"


def autograd_hint(exc: BaseException) -> tuple[str | None, Site | None]:
    """The hint no peer gives for the autograd errors users struggle with, with the line it refers to."""
    if isinstance(exc, (TypeError, AttributeError)) and "NoneType" in exc_text(exc):
        name = _grad_reader(node_of(exc))
        if name is not None:
            return (
                f"`{name}.grad` is None: backward fills .grad only in the leaf tensors it reached (those made with "
                f"requires_grad=True). If {name} was reassigned a computed tensor (`{name} = {name} - ...`), it "
                f"is no longer a leaf: update it in place inside `with torch.no_grad():` instead",
                None,
            )
    if not isinstance(exc, RuntimeError):
        return None, None
    msg = exc_text(exc)
    if BACKWARD_TWICE in msg:
        freed = _as_site(_engine_field(exc, "freed_site"))
        where = f" by the backward at {freed.where()}" if freed else " by an earlier backward"
        return (
            f"the graph was freed{where}; pass retain_graph=True to that call to backward through it again",
            freed,
        )
    if LEAF_INPLACE in msg:
        node = node_of(exc)
        target = node.targets[0] if type(node) is ast.Assign and len(node.targets) == 1 else None
        if type(node) is ast.AugAssign or type(node) is ast.Subscript:
            target = node.target if type(node) is ast.AugAssign else node
        if type(target) is ast.Subscript:
            shown = ast.unparse(node) if type(node) is ast.AugAssign else f"{ast.unparse(target)} = ..."
            return (
                f"update leaf tensors inside `with torch.no_grad():` (`{_short(shown)}` writes into the tensor "
                "in place), or build a new tensor with torch.where or torch.cat",
                None,
            )
        example = _out_of_place(node)
        if example is None:
            return "update leaf tensors inside `with torch.no_grad():`, so that autograd does not record it", None
        # (not the out-of-place form as the fix: in a training loop it turns the parameter into a computed
        # tensor, and the next step's .grad is None)
        name = example[0].split(" =", 1)[0]
        return (
            f"update the leaf inside `with torch.no_grad():` (`with torch.no_grad(): {example[1]}`), so that "
            f"autograd does not record it; `{example[0]}` would make {name} a computed tensor, whose .grad the "
            "next backward leaves None",
            None,
        )
    if NAN_GRADIENT in msg:
        forward = _as_site(_engine_field(exc, "forward_site"))
        where = f"ran at {forward.where()}" if forward else "ran earlier in the script"
        return (
            f"the op whose gradient is nan {where}; look at its inputs there (a sqrt or log at 0, a 0/0, an inf "
            "times 0)",
            forward,
        )
    if NOT_SCALAR in msg:
        y = _backward_receiver(node_of(exc))
        if y is None:
            return (
                "backward starts from one number: reduce the output to one first (with .sum() or .mean()), or "
                "pass a gradient for each of its elements (torch.ones_like(output))",
                None,
            )
        return (
            f"backward starts from one number: reduce `{y}` to one first (`{y}.sum().backward()`), or pass a "
            f"gradient for each of its elements (`{y}.backward(torch.ones_like({y}))`)",
            None,
        )
    if NO_GRAD_FN in msg:
        return (
            "nothing this result was computed from requires grad: make the leaf with requires_grad=True "
            "(`w = torch.randn(3, requires_grad=True)`) or call w.requires_grad_(), and check the result was not "
            "computed under torch.no_grad(), from a .detach(), or by torch.autograd.grad without create_graph=True",
            None,
        )
    if VERSION_MISMATCH in msg:
        modified = _as_site(_engine_field(exc, "modified_site"))
        where = f"at {modified.where()}" if modified else "after it was used"
        return (
            f"a tensor saved for backward was modified in place {where}; use an out-of-place op there "
            "(`x = x * 2` rather than `x *= 2`), or save a .clone()",
            modified,
        )
    return None, None


def refused_builtin_hint(exc: BaseException, message: str) -> str | None:
    """Why a Python builtin tsr leaves out (open, eval, input ...) is missing, and what to do instead."""
    if type(exc) is not NameError:
        return None
    from tcli.policy import REFUSED_BUILTINS

    held = getattr(exc, "__dict__", {}).get("tsr_lookup")
    lookup = held._value if type(held) is Hidden else None
    if not lookup or lookup[0] != "name" or message != f"name '{lookup[1]}' is not defined":
        return None
    why = REFUSED_BUILTINS.get(lookup[1])
    return f"`{lookup[1]}` is one of the Python builtins tsr leaves out: {why}" if why else None


def _backward_receiver(node: ast.AST | None) -> str | None:
    """`loss` for the statement `loss.backward()` (or torch.autograd.backward(loss)), when short."""
    if type(node) is ast.Expr:
        node = node.value
    if type(node) is not ast.Call:
        return None
    func = node.func
    if type(func) is ast.Attribute and func.attr == "backward" and type(func.value) is ast.Name:
        return func.value.id
    return None


def _grad_reader(node: ast.AST | None) -> str | None:
    """`w` for a failing expression that reads `w.grad` (the first such name), else None."""
    if node is None:
        return None
    for n in ast.walk(node):
        if type(n) is ast.Attribute and n.attr == "grad" and type(n.value) is ast.Name:
            return n.value.id
    return None


def _short(text: str) -> str:
    return text if len(text) <= 40 else text[:37] + "..."


def _out_of_place(node: ast.AST | None) -> tuple[str, str] | None:
    """For the in-place statement that failed, its out-of-place form: (`w = w - lr * g`, `w -= lr * g`) or
    (`w = w.add(1)`, `w.add_(1)`); None when the node is neither shape or the text would be long."""
    try:
        if type(node) is ast.AugAssign and type(node.target) is ast.Name:
            name = node.target.id
            value = ast.unparse(ast.BinOp(ast.Name(name), node.op, node.value))
            pair = (f"{name} = {value}", ast.unparse(node))
        elif (
            type(node) is ast.Call
            and type(node.func) is ast.Attribute
            and type(node.func.value) is ast.Name
            and node.func.attr.endswith("_")
            and not node.func.attr.endswith("__")
        ):
            name = node.func.value.id
            out = ast.Call(ast.Attribute(node.func.value, node.func.attr[:-1]), node.args, node.keywords)
            pair = (f"{name} = {ast.unparse(out)}", ast.unparse(node))
        else:
            return None
    except Exception:  # a node ast.unparse cannot print: the generic example
        return None
    return pair if max(len(pair[0]), len(pair[1])) <= 60 else None


def _engine_field(exc: BaseException, name: str) -> object:
    """A field the engine set on one of its errors (freed_site ...): never read off a script's own exception class,
    whose attributes are the script's."""
    return getattr(exc, name, None) if type(exc).__module__ == "builtins" else None


def _as_site(value: object) -> Site | None:
    if isinstance(value, Site):
        return value
    if isinstance(value, tuple) and len(value) >= 3:  # a bare (filename, line, col) from elsewhere
        return Site(str(value[0]), int(value[1]), int(value[2]), int(value[2]) + 1, "")
    return None


def private_attribute_message(name: str) -> str:
    return f"access to attribute '{name}' is not allowed in tsr (names starting with '_' are private)"


def refusal(message: str) -> AttributeError:
    """The AttributeError for a name tsr refuses though Python has it, marked as a refusal: a reader that takes a
    missing attribute as an answer (a match class pattern gives "no match") must still raise it. The mark is a
    private name, so a script's own AttributeError cannot pass for one."""
    e = AttributeError(message)
    e._tsr_refused = True  # type: ignore[attr-defined]
    return e


def is_refusal(e: BaseException) -> bool:
    return getattr(e, "_tsr_refused", False) is True


def private_attribute_error(name: str) -> AttributeError:
    return refusal(private_attribute_message(name))


class Hidden:
    """What tcli keeps on a script's exceptions (the node it was raised at, the calls it left), behind a private
    slot: an exception is the script's, and should its namespace ever leak (an engine API copying a __dict__),
    no public attribute may lead from it into the parsed program and on to the interpreter."""

    __slots__ = ("_value",)

    def __init__(self, value: Any) -> None:
        self._value = value


def set_node(exc: BaseException, node: ast.AST) -> None:
    exc.tsr_node = Hidden(node)  # type: ignore[attr-defined]


def node_of(exc: BaseException) -> ast.AST | None:
    """The node `exc` was tagged with (tag, set_node), or None."""
    held = getattr(exc, "tsr_node", None)
    return held._value if type(held) is Hidden else None


def tag(exc: BaseException, node: ast.AST) -> None:
    """Record the innermost node that was executing when `exc` was raised (outer handlers keep it). An
    exception that left a tsr function the engine called (a module's forward, a hook, a dataset's __getitem__)
    gets `node` as that call's site instead: the first tsr code it meets on its way out is what called the
    engine (`net(x)`, `loss.backward()`, `for b in loader`)."""
    try:
        d = exc.__dict__
        if d.get("tsr_node") is None:
            d["tsr_node"] = Hidden(node)
        elif d.pop("tsr_pending", None) is not None:
            add_call(exc, node)
    except (AttributeError, TypeError):  # an exception type without a __dict__
        pass


def left_function(exc: BaseException, call: ast.AST | None) -> None:
    """`exc` left a tsr function called at `call`, or, for None, called by the engine: the site is then the
    tsr code that called the engine, which tags it next (see tag)."""
    if call is not None:
        add_call(exc, call)
        return
    try:
        exc.__dict__["tsr_pending"] = Hidden(True)
    except (AttributeError, TypeError):
        pass


def add_call(exc: BaseException, call: ast.AST) -> None:
    """Record that `exc` left a tsr function called at `call` (innermost first)."""
    try:
        held = exc.__dict__.get("tsr_stack")
        if held is None:
            held = exc.__dict__["tsr_stack"] = Hidden([])
        held._value.append(call)
    except (AttributeError, TypeError):
        pass


def note_lookup(exc: BaseException, *lookup: Any) -> None:
    """Record the failed lookup an AttributeError or NameError came from, for did_you_mean: ("attribute",
    obj, name), or ("name", name, frame, globals, builtins). The innermost lookup is kept."""
    try:
        if "tsr_lookup" not in exc.__dict__:
            exc.__dict__["tsr_lookup"] = Hidden(lookup)
    except (AttributeError, TypeError):
        pass


def did_you_mean(exc: BaseException, message: str) -> str | None:
    """Python's suggestion for the misspelt name of a failed lookup (note_lookup), among the names the
    script may use; computed only when the error is reported."""
    d = getattr(exc, "__dict__", None)
    held = d.get("tsr_lookup") if type(d) is dict else None
    if type(held) is not Hidden:
        return None
    lookup = held._value
    try:
        from tcli import suggest

        if lookup[0] == "attribute" and type(exc) is AttributeError:
            obj, name = lookup[1], lookup[2]
            if message.endswith(f"has no attribute '{name}'"):  # (not a refusal, nor an error from further in)
                return suggest.attribute_suggestion(obj, name)
        elif lookup[0] == "name" and type(exc) is NameError:
            name = lookup[1]
            if message == f"name '{name}' is not defined":
                return suggest.name_suggestion(name, *lookup[2:])
    except Exception:  # a suggestion is a courtesy: never an error of its own
        return None
    return None


def calls_of(exc: BaseException) -> list:
    held = getattr(exc, "tsr_stack", None)
    return held._value if type(held) is Hidden else []


class TsrTimeout(BaseException):
    """--timeout expired. A BaseException so that `except Exception` in a script cannot swallow it."""

    tsr_type_name = "TimeoutError"


#: Exceptions a script's except clauses never catch.
UNCATCHABLE = (TsrTimeout, KeyboardInterrupt, SystemExit, GeneratorExit)


def syntax_error(message: str, node: ast.AST | None, source: Source | None = None) -> SyntaxError:
    """A SyntaxError located at a node (the parser's refusals, and misuse found while running)."""
    err = SyntaxError(message)
    if node is not None:
        if source is not None:
            node.tsr_src = source  # type: ignore[attr-defined]
        set_node(err, node)
    return err


_TYPE_NAME = type.__dict__["__name__"]


def tp_name(tp: type) -> str:
    """A class's name as Python's own messages print it (its C-level tp_name): `torch.Size`, where
    `torch.Size.__name__` is `Size` (engine/naming.py keeps the two apart as torch's C types have them)."""
    return _TYPE_NAME.__get__(tp)
