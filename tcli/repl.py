"""The REPL's screen. Everything that runs code belongs to tcli.session.Session (shared with `tcli run`); this
module reads inputs, echoes values, prints the backward summary and dispatches meta-commands.

    Shell           one REPL: a Session plus the consoles, the meta-commands' helpers and the toolbar facts
    input_ready     whether Enter should run the buffer (multi-line detection from the parse, never compile)
    run_terminal    prompt_toolkit: highlighting, completion, history, auto-suggest, toolbar, Ctrl-C/Ctrl-D
    run_plain       when stdin is not a terminal: read lines, run each complete input, print plain text
    main            pick one of the two for `tcli repl`

prompt_toolkit, rich and the engine are imported when the REPL starts, never when tcli.cli is imported.
"""

from __future__ import annotations

import ast
import keyword
import os
import re
import sys
import textwrap
import types
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, TextIO

from tcli import __version__, policy
from tcli.device_check import cuda_problem
from tcli.errors import ScriptError, ScriptExit

INDENT = "    "
PROMPT = ">>> "
CONTINUATION = "... "

#: keys listed by :help (prompt_toolkit's emacs bindings plus ours)
KEYS: tuple[tuple[str, str], ...] = (
    ("Enter", "run the input when it is complete; otherwise start a new line (blocks end on an empty line)"),
    ("Alt-Enter", "run the input as it is"),
    ("Tab", "complete a name, attribute or meta-command (indent at the start of a line)"),
    ("Up / Down", "move through lines, then through history"),
    ("Ctrl-R", "search the history backwards"),
    ("Right / Ctrl-E", "accept the grey suggestion from history"),
    ("Ctrl-C", "clear the input, or interrupt a running computation (variables are kept)"),
    ("Ctrl-D", "exit (on an empty line)"),
)


@dataclass
class ReplOptions:
    """`tcli repl`'s options (the same names and meanings as `tcli run`'s where they overlap)."""

    device: str = "cpu"
    dtype: str = "float32"
    seed: int | None = None
    history_file: str | None = None
    #: None: colour when the stream is a terminal and NO_COLOR/TERM=dumb are not set
    color: bool | None = None
    limits: policy.Limits = field(default_factory=policy.Limits)
    allow_paths: tuple[str, ...] = ()
    debug: bool = False


class MetaError(Exception):
    """A meta-command that cannot do what was asked; printed as one line, the session goes on."""


# ---------------------------------------------------------------------------------------------------------
# multi-line input
# ---------------------------------------------------------------------------------------------------------


def input_ready(text: str, is_complete: Callable[[str], bool]) -> bool:
    """Whether Enter runs `text`. Meta-commands are one line. An empty (or whitespace-only) last line ends a
    block, but not an open bracket or string: those still need their closing character."""
    if not text.strip() or text.lstrip().startswith(":"):
        return True
    lines = text.split("\n")
    if len(lines) > 1 and not lines[-1].strip():
        return is_complete(text.rstrip() + "\n\n")
    return is_complete(text)


_DEDENT_AFTER = ("return", "pass", "break", "continue", "raise")


def indent_for(text_before_cursor: str) -> str:
    """Indentation of the next line: the current line's, one level more after a `:`, one less after a
    statement that ends its block."""
    line = text_before_cursor.rsplit("\n", 1)[-1]
    indent = line[: len(line) - len(line.lstrip())]
    stripped = line.strip()
    if stripped.endswith(":") and not stripped.startswith("#"):
        return indent + INDENT
    first = stripped.split(None, 1)[0] if stripped else ""
    if first in _DEDENT_AFTER:
        return indent[: max(0, len(indent) - len(INDENT))]
    return indent


def calls_backward(text: str) -> bool:
    """Whether an input calls .backward() or torch.autograd.backward() (read from the parse tree)."""
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return False
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "backward":
            return True
    return False


# ---------------------------------------------------------------------------------------------------------
# the shell
# ---------------------------------------------------------------------------------------------------------


def _make_console(stream: TextIO, color: bool, width: int | None = None) -> Any:
    from rich.console import Console

    return Console(
        file=stream, force_terminal=color, no_color=not color, color_system="auto" if color else None,
        highlight=False, width=width, emoji=False, markup=False,
    )  # fmt: skip


class Shell:
    """One REPL session: the Session that runs inputs, plus what the screen shows about it."""

    def __init__(
        self,
        options: ReplOptions | None = None,
        *,
        stdout: TextIO | None = None,
        stderr: TextIO | None = None,
        width: int | None = None,
    ) -> None:
        self.options = options or ReplOptions()
        self._stdout = stdout
        self._stderr = stderr
        self.width = width
        #: bytes held by the tensors in scope, refreshed after each input (the toolbar shows it)
        self.tensor_bytes = 0
        #: the status the REPL exits with: sys.exit()'s, else 0
        self.exit_status = 0
        self.session = self._new_session()
        self.refresh_stats()
        self.color = self.session.use_color(self.stdout)
        self.console = _make_console(self.stdout, self.color, width)
        self.err_console = _make_console(self.stderr, self.session.use_color(self.stderr), width)

    @property
    def stdout(self) -> TextIO:
        return self._stdout if self._stdout is not None else sys.stdout

    @property
    def stderr(self) -> TextIO:
        return self._stderr if self._stderr is not None else sys.stderr

    @property
    def plain(self) -> bool:
        return not self.color

    # -- session ----------------------------------------------------------------------------------------

    def _new_session(self) -> Any:
        from tcli.session import Session

        o = self.options
        session = Session(
            stdout=self._stdout, stderr=self._stderr, device=o.device, dtype=o.dtype, seed=o.seed, limits=o.limits,
            argv=["<repl>"], allow_paths=o.allow_paths, debug=o.debug, color=o.color, hard_timeout=True,
        )  # fmt: skip
        _import_torch(session)  # the REPL starts with torch in scope
        return session

    def reset(self) -> None:
        """:reset: a session as at startup (torch imported, the command line's device, dtype and seed)."""
        self.session.reset()
        _import_torch(self.session)
        self.refresh_stats()

    @property
    def engine(self) -> Any:
        return self.session.engine

    @property
    def tensor_type(self) -> type:
        return self.session.tensor_type

    # -- output -----------------------------------------------------------------------------------------

    def print(self, renderable: Any, soft_wrap: bool = False) -> None:
        self.console.print(renderable, soft_wrap=soft_wrap)
        self._flush(self.stdout)

    def error(self, message: str) -> None:
        from rich.text import Text

        self._flush(self.stdout)
        self.err_console.print(Text.assemble(("error: ", "bold red"), message), soft_wrap=True)
        self._flush(self.stderr)

    def note(self, message: str) -> None:
        from rich.text import Text

        self.print(Text(message, "dim"), soft_wrap=True)

    @staticmethod
    def _flush(stream: TextIO) -> None:
        try:
            stream.flush()
        except (OSError, ValueError):
            pass

    def report(self, err: ScriptError) -> None:
        if getattr(err, "interrupted", False) and self.stderr.isatty():
            self.stderr.write("\n")  # the terminal echoed ^C where the cursor was: start the report below it
        self.session.report(err)

    # -- one input --------------------------------------------------------------------------------------

    def handle(self, text: str, line: int | None = None) -> bool:
        """Run one input (code or a meta-command). False when the REPL should exit. With `line` (plain mode:
        where the input starts in the piped stream), errors point at that line of <stdin>, not of the input."""
        text = textwrap.dedent(text.rstrip())  # an indented paste runs as if typed at the margin
        if not text.strip():
            return True
        try:
            if text.lstrip().startswith(":"):
                from tcli import meta

                return meta.run(self, text.strip())
            asked = help_request(text)
            if asked == "":  # `help`, `help()`, `?`: the REPL's own help
                from tcli import meta

                return meta.run(self, ":help")
            self.run_code(f"help({asked})" if asked is not None else text, line)
        except KeyboardInterrupt:  # Ctrl-C while we were echoing or rendering, outside the interpreter
            self.stderr.write("KeyboardInterrupt\n")
            self._flush(self.stderr)
        except ScriptExit as e:  # sys.exit() ends the REPL, as Python's
            self.exit_status = self.session.exit_with(e.code)
            return False
        except Exception as e:  # a bug in the REPL itself must not end the user's session
            self.error(f"internal error in tcli's REPL: {type(e).__name__}: {e}")
            if self.options.debug:
                import traceback

                traceback.print_exception(e, file=self.stderr)
        finally:
            self.refresh_stats()
        return True

    def run_code(self, text: str, line: int | None = None) -> None:
        before = self.session.grad_stamps() if calls_backward(text) else None
        try:
            if line is None:
                value = self.session.run_cell(text, "<input>", display=self.display)
            else:
                value = self.session.run_cell(text, "<stdin>", display=self.display, first_line=line)
        except ScriptError as err:
            self.report(err)
            return
        if before is not None:  # before the trailing value: `loss.backward(); w.grad` reads in that order
            received = self.session.received_grads(before)
            if received:
                from tcli.repl_render import backward_summary

                self.print(backward_summary(received), soft_wrap=True)
        self.display(value)

    def display(self, value: Any) -> None:
        """Echo a value as Python's REPL does (None echoes nothing); tensors with their header line."""
        if value is None:
            return
        from tcli.repl_render import echo

        def show(v: Any) -> None:
            if not isinstance(v, self.tensor_type):
                self.session.check_printable(v)  # the same size guard print() has
            prelude = self.session.prelude
            if type(v) is types.MethodType:  # (`x.item`: a tensor method, echoed as torch's C method is)
                v = prelude.method_text(v)
            self.print(echo(v, prelude.mask_addresses), soft_wrap=True)

        try:
            self.session.displayed(show, value)  # (a repr may run the script's code: under its limits)
        except KeyboardInterrupt:
            raise
        except BaseException as e:  # a repr that fails, is too large or too slow: an error at the expression
            err = ScriptError.from_exception(e)
            if err.site is None:
                err.site = self.session.echo_site
            self.report(err)

    # -- what is in scope -------------------------------------------------------------------------------

    def scope_items(self) -> list[tuple[str, Any]]:
        """Public globals, in name order (what :vars lists)."""
        return self.session.scope()

    def named_tensors(self) -> dict[int, str]:
        """id -> how the user can reach a tensor (`w`, `params[0]`), for :graph's leaves."""
        return self.session.tensor_names()

    def refresh_stats(self) -> None:
        try:
            self.tensor_bytes = self.session.tensor_memory()
        except Exception:  # the toolbar must never fail an input
            pass

    def toolbar(self) -> list[tuple[str, str]]:
        """device · default dtype · grad mode · tensor memory, for the bottom toolbar."""
        state = self.session.state()
        device, dtype, grad = state.device, state.dtype, state.grad_enabled
        return [
            ("class:bottom-toolbar.key", " device "), ("class:bottom-toolbar", f"{device}  "),
            ("class:bottom-toolbar.key", " dtype "), ("class:bottom-toolbar", f"{dtype}  "),
            ("class:bottom-toolbar.key", " grad "), ("class:bottom-toolbar", ("on" if grad else "off") + "  "),
            ("class:bottom-toolbar.key", " tensors "),
            ("class:bottom-toolbar", f"{policy.human_size(self.tensor_bytes)}  "),
            ("class:bottom-toolbar", "  :help  Ctrl-D exits "),
        ]  # fmt: skip

    # -- evaluation for meta-commands --------------------------------------------------------------------

    def prepare(self, expr: str, filename: str) -> Callable[[], Any]:
        """The Session's prepare, with "not one expression" as a MetaError (a one-line usage message)."""
        try:
            return self.session.prepare(expr, filename)
        except ValueError as e:
            raise MetaError(str(e)) from None

    def running(self) -> Any:
        return self.session.running()

    def evaluate(self, expr: str, filename: str) -> Any:
        evaluate = self.prepare(expr, filename)
        with self.running():
            return evaluate()

    # -- completion ----------------------------------------------------------------------------------------

    def completion_names(self) -> list[str]:
        return [n for n in self.session.names() if not n.startswith("_")]

    def attribute_names(self, path: list[str]) -> list[str]:
        return self.session.attribute_names(path)


# ---------------------------------------------------------------------------------------------------------
# the terminal screen (prompt_toolkit)
# ---------------------------------------------------------------------------------------------------------


def default_history_path() -> str:
    """$XDG_STATE_HOME/tcli/history (platformdirs' user state directory)."""
    import platformdirs

    return os.path.join(platformdirs.user_state_dir("tcli", appauthor=False), "history")


_HELP_ALONE = frozenset({"help", "help()", "?", "??"})
_DOTTED = re.compile(r"[A-Za-z_][\w]*(?:\.[A-Za-z_]\w*)*")


def help_request(text: str) -> str | None:
    """IPython's `torch.sum?` / `?torch.sum`: the expression to pass to help(); "" for help on the REPL itself
    (`help`, `help()`, `?`); None for ordinary input. Only a dotted name qualifies (`a ? b` is no request)."""
    stripped = text.strip()
    if stripped in _HELP_ALONE:
        return ""
    name = stripped.strip("?") if stripped.endswith("?") or stripped.startswith("?") else None
    if name is not None and _DOTTED.fullmatch(name) and not keyword.iskeyword(name):
        return name
    return None


def make_history(path: str | None, warn: Callable[[str], None] | None = None) -> Any:
    from prompt_toolkit.history import FileHistory, InMemoryHistory

    path = path or default_history_path()
    try:
        os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        with open(path, "a", encoding="utf-8"):
            pass
    except OSError as e:
        if warn is not None:
            warn(f"cannot keep history in {path}: {e.strerror or e}; this session's history will not be saved")
        return InMemoryHistory()
    return FileHistory(path)


def key_bindings(shell: Shell) -> Any:
    """Enter (run when complete, else newline + indent), Alt-Enter (run now), Tab (complete or indent),
    Backspace in indentation (remove one level). None of them apply while Ctrl-R searches: there the
    keys keep prompt_toolkit's meaning."""
    from prompt_toolkit.application.current import get_app
    from prompt_toolkit.filters import Condition, has_completions, is_searching
    from prompt_toolkit.key_binding import KeyBindings
    from prompt_toolkit.key_binding.bindings.completion import generate_completions

    kb = KeyBindings()
    editing = ~is_searching

    @Condition
    def completion_selected() -> bool:
        state = get_app().current_buffer.complete_state
        return state is not None and state.current_completion is not None

    @Condition
    def at_indentation() -> bool:
        return get_app().current_buffer.document.current_line_before_cursor.strip() == ""

    @Condition
    def inside_indentation() -> bool:
        before = get_app().current_buffer.document.current_line_before_cursor
        return bool(before) and before.strip() == ""

    @kb.add("enter", filter=editing & completion_selected)
    def _(event: Any) -> None:
        buf = event.current_buffer
        buf.apply_completion(buf.complete_state.current_completion)

    @kb.add("enter", filter=editing & ~completion_selected)
    def _(event: Any) -> None:
        buf = event.current_buffer
        if buf.complete_state is not None:
            buf.cancel_completion()
        is_complete = shell.session.is_complete
        _dedent_clause(buf)
        if input_ready(buf.text, is_complete) or _recalled_block(buf, is_complete):
            stripped = buf.text.rstrip()
            if stripped != buf.text:
                buf.text = stripped
            buf.validate_and_handle()
        else:
            buf.insert_text("\n" + indent_for(buf.document.text_before_cursor))

    @kb.add("escape", "enter", filter=editing)
    def _(event: Any) -> None:
        event.current_buffer.validate_and_handle()

    @kb.add("tab", filter=editing & at_indentation & ~has_completions)
    def _(event: Any) -> None:
        event.current_buffer.insert_text(INDENT)

    # elsewhere Tab is prompt_toolkit's own: complete the common part, then cycle through the menu
    kb.add("tab", filter=editing & (~at_indentation | has_completions))(generate_completions)

    @kb.add("backspace", filter=editing & inside_indentation)
    def _(event: Any) -> None:
        before = event.current_buffer.document.current_line_before_cursor
        event.current_buffer.delete_before_cursor(count=(len(before) - 1) % len(INDENT) + 1)

    return kb


_CLAUSES = ("else", "elif", "except", "finally")


def _dedent_clause(buf: Any) -> None:
    """`else:`/`elif ...:`/`except ...:`/`finally:` typed at the body's indentation belongs one level out, as
    IPython and ptpython place it: moved there when Enter ends the line."""
    doc = buf.document
    line = doc.current_line
    stripped = line.strip()
    if not line.startswith(INDENT) or doc.cursor_position_col != len(line) or not stripped.endswith(":"):
        return
    first = stripped.split(None, 1)[0].rstrip(":")
    if first not in _CLAUSES:
        return
    start = doc.cursor_position - len(line)
    buf.text = buf.text[:start] + line[len(INDENT) :] + buf.text[start + len(line) :]
    buf.cursor_position = start + len(line) - len(INDENT)


def _recalled_block(buf: Any, is_complete: Callable[[str], bool]) -> bool:
    """A block brought back unchanged from the history runs on Enter: it ended with an empty line when it
    was typed, and the history keeps it without one."""
    text = buf.text
    if "\n" not in text or not input_ready(text + "\n", is_complete):
        return False
    return text in buf.history.get_strings()


def make_prompt_session(shell: Shell, history: Any = None, input: Any = None, output: Any = None) -> Any:
    """The PromptSession for a Shell (tests pass a pipe input and DummyOutput)."""
    from prompt_toolkit import PromptSession
    from prompt_toolkit.auto_suggest import AutoSuggestFromHistory
    from prompt_toolkit.history import InMemoryHistory
    from prompt_toolkit.lexers import PygmentsLexer
    from prompt_toolkit.output.color_depth import ColorDepth
    from prompt_toolkit.styles import Style

    from tcli import meta
    from tcli.repl_complete import CompletionSources, ReplCompleter

    sources = CompletionSources(names=shell.completion_names, attributes=shell.attribute_names, meta=meta.catalogue)
    lexer = None
    if shell.color:
        from pygments.lexers.python import PythonLexer

        lexer = PygmentsLexer(PythonLexer)
    style = Style.from_dict(
        {"bottom-toolbar": "noreverse bg:#303030 #d0d0d0", "bottom-toolbar.key": "noreverse bg:#303030 #87afd7 bold"}
    )

    def continuation(width: int, line_number: int, is_soft_wrap: bool) -> str:
        return CONTINUATION.rjust(width)

    return PromptSession(
        message=PROMPT,
        multiline=True,
        prompt_continuation=continuation,
        key_bindings=key_bindings(shell),
        history=history if history is not None else InMemoryHistory(),
        auto_suggest=AutoSuggestFromHistory(),
        completer=ReplCompleter(sources),
        complete_while_typing=False,
        lexer=lexer,
        bottom_toolbar=shell.toolbar,
        style=style,
        color_depth=None if shell.color else ColorDepth.MONOCHROME,
        include_default_pygments_style=shell.color,
        enable_history_search=False,
        input=input,
        output=output,
    )


def banner(shell: Shell) -> Any:
    from rich.text import Text

    s = shell.session
    return Text.assemble(
        (f"tcli {__version__}", "bold"),
        (f" · torch-compatible tensors and autograd · {s.device} · {s.dtype}\n", "dim"),
        ("torch is imported. ", ""),
        (":help", "bold cyan"),
        (" lists the meta-commands; Ctrl-D exits.", ""),
    )


def run_terminal(shell: Shell, history_file: str | None = None) -> int:
    history = make_history(history_file, shell.error)
    prompt = make_prompt_session(shell, history)
    shell.print(banner(shell), soft_wrap=True)
    while True:
        try:
            text = prompt.prompt()
        except KeyboardInterrupt:  # Ctrl-C at the prompt: drop the line
            continue
        except EOFError:  # Ctrl-D on an empty line
            return 0
        if not shell.handle(text):
            return shell.exit_status


# ---------------------------------------------------------------------------------------------------------
# plain lines (stdin is not a terminal)
# ---------------------------------------------------------------------------------------------------------


def read_inputs(lines: Iterable[str], is_complete: Callable[[str], bool]) -> Iterator[str]:
    """Group lines into inputs as the terminal's Enter would: each complete statement on its own, blocks
    up to an empty line (or the first line back at the margin), what is left at the end of input."""
    return (text for _, text in numbered_inputs(lines, is_complete))


def numbered_inputs(lines: Iterable[str], is_complete: Callable[[str], bool]) -> Iterator[tuple[int, str]]:
    """read_inputs with the line number (1-based, in `lines`) where each input starts."""
    buf: list[str] = []
    start = 0
    for number, raw in enumerate(lines, 1):
        line = raw.rstrip("\r\n")
        if not buf:
            if not line.strip():
                continue
            start = number
        buf.append(line)
        text = "\n".join(buf)
        if input_ready(text, is_complete):
            buf = []
            yield start, text
    if buf and "\n".join(buf).strip():
        yield start, "\n".join(buf)


def run_plain(shell: Shell, stdin: TextIO, prompts: bool = False) -> int:
    """Read inputs from a pipe or file; with `prompts` (stdin is a terminal but stdout is not) show the
    prompts on stderr so they stay out of the output."""

    def lines() -> Iterator[str]:
        while True:
            if prompts:
                shell.stderr.write(PROMPT)
                shell.stderr.flush()
            line = stdin.readline()
            if not line:
                return
            yield line

    try:
        for line, text in numbered_inputs(lines(), shell.session.is_complete):
            # a script piped in reads like `tcli run -`: errors at its own line numbers
            if not shell.handle(text, None if prompts else line):
                return shell.exit_status
    except KeyboardInterrupt:  # Ctrl-C while waiting for input
        shell.stderr.write("KeyboardInterrupt\n")
        return 130
    return 0


@contextmanager
def _quiet_broken_pipe() -> Iterator[None]:
    """`tcli repl < script | head` should end quietly when head stops reading."""
    try:
        yield
    except BrokenPipeError:
        try:
            sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - Python flushes stdout at exit
        except OSError:
            pass


def main(options: ReplOptions) -> int:
    """`tcli repl`: the terminal screen when stdin and stdout are terminals, plain lines otherwise."""
    shell = Shell(options)
    if options.device == "cuda":
        # fail at once, as `tcli bench --device cuda` does, rather than on every tensor the user types
        if problem := cuda_problem(shell.engine):
            shell.error(f"--device cuda: {problem}")
            return 2
    with _quiet_broken_pipe():
        # TERM=dumb keeps the prompt (prompt_toolkit has a dumb-terminal mode); only the colour goes
        if _isatty(sys.stdin) and _isatty(sys.stdout):
            return run_terminal(shell, options.history_file)
        return run_plain(shell, sys.stdin, prompts=_isatty(sys.stdin))
    return 0


def _isatty(stream: Any) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False


def _import_torch(session: Any) -> None:
    """The REPL's own `import torch`: not the user's code, so --timeout does not count it."""
    import dataclasses

    limits = session.limits
    session.limits = dataclasses.replace(limits, timeout=None)
    try:
        session.run_cell("import torch")
    finally:
        session.limits = limits
