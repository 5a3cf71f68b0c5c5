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
from typing import NamedTuple


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
        """The source line (tabs expanded) with its number, and a caret line under the span."""
        if not self.text.strip():
            return []
        number = f"{self.line:>5}"
        lines = [f"{number} | {self.text.expandtabs(1)}"]
        if caret:
            width = max(1, self.end_col - self.col)
            lines.append(f"{' ' * len(number)} | {' ' * (self.col - 1)}{'^' * width}")
        return lines


def site_of(node: ast.AST | None) -> Site | None:
    src = getattr(node, "tsr_src", None)
    return src.site(node) if src is not None else None


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
        super().__init__(f"{type_name}: {message}" if message else type_name)
        self.type_name = type_name
        self.message = message
        self.site = site
        self.hint = hint
        self.hint_site = hint_site
        self.stack = stack
        self.exc = exc

    @classmethod
    def from_exception(cls, exc: BaseException) -> ScriptError:
        if isinstance(exc, ScriptError):
            return exc
        site = getattr(exc, "tsr_site", None) or site_of(getattr(exc, "tsr_node", None))
        stack = tuple(s for s in (site_of(n) for n in getattr(exc, "tsr_stack", ())) if s is not None)
        hint, hint_site = autograd_hint(exc)
        return cls(error_type_name(exc), error_message(exc), site, hint, hint_site, stack, exc)

    def headline(self) -> str:
        where = f"{self.site.where()}: " if self.site else ""
        return f"{where}{self.type_name}: {self.message}" if self.message else f"{where}{self.type_name}"

    def format_plain(self) -> str:
        lines = [self.headline()]
        if self.site:
            lines += self.site.excerpt()
        for call in self.stack:
            lines.append(f"  called from {call.where()}")
            lines += ["  " + x for x in call.excerpt(caret=False)]
        if self.hint:
            lines.append(f"hint: {self.hint}")
            if self.hint_site:
                lines += self.hint_site.excerpt()
        return "\n".join(lines) + "\n"


def error_type_name(exc: BaseException) -> str:
    name = getattr(exc, "tsr_type_name", None) or type(exc).__name__
    # numpy's allocation failure is a MemoryError subclass with a private name
    return "MemoryError" if name.startswith("_") and isinstance(exc, MemoryError) else name


def error_message(exc: BaseException) -> str:
    if isinstance(exc, KeyError) and len(exc.args) == 1:
        return repr(exc.args[0])  # what Python prints for KeyError
    if isinstance(exc, SyntaxError) and exc.msg is not None:
        return exc.msg
    return str(exc)


LEAF_INPLACE = "a leaf Variable that requires grad is being used in an in-place operation"
BACKWARD_TWICE = "Trying to backward through the graph a second time"
VERSION_MISMATCH = "modified by an inplace operation"


def autograd_hint(exc: BaseException) -> tuple[str | None, Site | None]:
    """The hint no peer gives for the autograd errors users struggle with, with the line it refers to."""
    if not isinstance(exc, RuntimeError):
        return None, None
    msg = str(exc)
    if BACKWARD_TWICE in msg:
        freed = _as_site(getattr(exc, "freed_site", None))
        where = f" by the backward at {freed.where()}" if freed else " by an earlier backward"
        return (
            f"the graph was freed{where}; pass retain_graph=True to that call to backward through it again",
            freed,
        )
    if LEAF_INPLACE in msg:
        return (
            "update leaf tensors inside `with torch.no_grad():`, or use an out-of-place op "
            "(`w = w + 1` instead of `w += 1` or `w.add_(1)`)",
            None,
        )
    if VERSION_MISMATCH in msg:
        modified = _as_site(getattr(exc, "modified_site", None))
        where = f"at {modified.where()}" if modified else "after it was used"
        return (
            f"a tensor saved for backward was modified in place {where}; use an out-of-place op there "
            "(`x = x * 2` rather than `x *= 2`), or save a .clone()",
            modified,
        )
    return None, None


def _as_site(value: object) -> Site | None:
    if isinstance(value, Site):
        return value
    if isinstance(value, tuple) and len(value) >= 3:  # a bare (filename, line, col) from elsewhere
        return Site(str(value[0]), int(value[1]), int(value[2]), int(value[2]) + 1, "")
    return None


def private_attribute_message(name: str) -> str:
    return f"access to attribute '{name}' is not allowed in tsr (names starting with '_' are private)"


def tag(exc: BaseException, node: ast.AST) -> None:
    """Record the innermost node that was executing when `exc` was raised (outer handlers keep it)."""
    try:
        if getattr(exc, "tsr_node", None) is None:
            exc.tsr_node = node  # type: ignore[attr-defined]
    except (AttributeError, TypeError):  # an exception type without a __dict__
        pass


def add_call(exc: BaseException, call: ast.AST) -> None:
    """Record that `exc` left a tsr function called at `call` (innermost first)."""
    try:
        stack = exc.__dict__.setdefault("tsr_stack", [])
        stack.append(call)
    except (AttributeError, TypeError):
        pass


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
        err.tsr_node = node  # type: ignore[attr-defined]
    return err
