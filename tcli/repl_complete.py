"""Completion for the REPL: names in scope, `torch.` functions, attributes after a dot, meta-commands and their
arguments.

The completer gets functions, not the REPL (the ptpython pattern), and never evaluates input: it finds the
dotted name before the cursor with a regular expression and asks `attributes(path)` for the names an
object reached by *looking names up* offers (the Shell walks the path with the interpreter's policy-checked
attribute reads and refuses any property that computes). Names starting with `_` are never offered.
"""

from __future__ import annotations

import keyword
import os
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

from prompt_toolkit.completion import CompleteEvent, Completer, Completion
from prompt_toolkit.document import Document

# the dotted name that ends the text: `torch.nn.fun`, `x.gr`, `ze`; not after a digit or another dot
#: keywords of syntax tsr refuses (policy.REFUSED_SYNTAX), not worth offering
_UNSUPPORTED = {"async", "await", "class", "yield"}

_DOTTED = re.compile(r"(?<![\w.])((?:[A-Za-z_]\w*\s*\.\s*)*)(\w*)$")


@dataclass
class CompletionSources:
    """What completion may look up. Each is a plain function so tests can pass simple lambdas."""

    #: every name a script sees now (globals, builtins)
    names: Callable[[], Iterable[str]]
    #: public attribute names of the object at a dotted path, or [] when it cannot be reached by lookups
    attributes: Callable[[list[str]], Iterable[str]]
    #: meta-commands as (name without the colon, summary, argument kind, choices)
    meta: Callable[[], Iterable[tuple[str, str, str, tuple[str, ...]]]] = lambda: ()
    #: extra words offered everywhere a name is (keywords by default)
    words: Iterable[str] = field(default_factory=lambda: sorted({*keyword.kwlist, "match", "case"} - _UNSUPPORTED))


def in_string_or_comment(text: str) -> bool:
    """Whether the end of `text` is inside a string literal or a comment (nothing to complete there).
    A scan, not a tokenizer: incomplete input must still be answered."""
    i, n = 0, len(text)
    quote: str | None = None
    while i < n:
        c = text[i]
        if quote is not None:
            if c == "\\":
                i += 2
                continue
            if text.startswith(quote, i):
                i += len(quote)
                quote = None
                continue
            if c == "\n" and len(quote) == 1:
                quote = None
        elif c == "#":
            end = text.find("\n", i)
            if end < 0:
                return True
            i = end
        elif c in "'\"":
            quote = c * 3 if text.startswith(c * 3, i) else c
            i += len(quote)
            continue
        i += 1
    return quote is not None


def python_completions(text: str, sources: CompletionSources) -> tuple[int, list[str]]:
    """(start offset relative to the end of `text`, candidates) for the name or attribute being typed."""
    if in_string_or_comment(text):
        return 0, []
    m = _DOTTED.search(text)
    if m is None:
        return 0, []
    path_text, prefix = m.group(1), m.group(2)
    if prefix[:1].isdigit():
        return 0, []
    if path_text:
        path = [p.strip() for p in path_text.split(".")[:-1]]
        if any(p.startswith("_") for p in path):
            return 0, []
        pool: Iterable[str] = sources.attributes(path)
    else:
        if not prefix:
            return 0, []  # an empty word would offer everything
        pool = [*sources.names(), *sources.words]
    found = sorted({n for n in pool if n.startswith(prefix) and not n.startswith("_")})
    return -len(prefix), found


class ReplCompleter(Completer):
    """prompt_toolkit completer over CompletionSources."""

    def __init__(self, sources: CompletionSources) -> None:
        self.sources = sources

    def get_completions(self, document: Document, complete_event: CompleteEvent) -> Iterator[Completion]:
        text = document.text_before_cursor
        stripped = text.lstrip()
        if stripped.startswith(":") and "\n" not in text:
            yield from self._meta(stripped[1:])
            return
        start, names = python_completions(text, self.sources)
        for name in names:
            yield Completion(name, start_position=start)

    def _meta(self, rest: str) -> Iterator[Completion]:
        commands = list(self.sources.meta())
        if " " not in rest:
            for name, summary, _, _ in commands:
                if name.startswith(rest):
                    yield Completion(name, start_position=-len(rest), display=":" + name, display_meta=summary)
            return
        name, _, arg = rest.partition(" ")
        for cmd, _, kind, choices in commands:
            if cmd != name:
                continue
            if kind == "choice":
                word = arg.strip()
                for c in choices:
                    if c.startswith(word):
                        yield Completion(c, start_position=-len(word))
            elif kind == "expr":
                start, names = python_completions(arg, self.sources)
                for n in names:
                    yield Completion(n, start_position=start)
            elif kind.startswith("file"):
                yield from _files(arg.lstrip(), kind.partition(":")[2])
            return


def _files(typed: str, suffix: str) -> Iterator[Completion]:
    """Paths for :load/:save/:restore: directories and files with the command's suffix."""
    expanded = os.path.expanduser(typed)
    directory, partial = os.path.split(expanded)
    try:
        entries = sorted(os.listdir(directory or "."))
    except OSError:
        return
    for entry in entries:
        if not entry.startswith(partial) or (entry.startswith(".") and not partial.startswith(".")):
            continue
        full = os.path.join(directory, entry)
        if os.path.isdir(full):
            yield Completion(entry + "/", start_position=-len(partial), display=entry + "/")
        elif not suffix or entry.endswith(suffix):
            yield Completion(entry, start_position=-len(partial))
