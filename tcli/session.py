"""Session: everything about running tsr that is not screen handling, shared by `tcli run` and the REPL.

A Session holds the state of one program or REPL: its globals (kept between inputs), the default
device/dtype/seed it gives the engine, its limits and allowed paths, and the streams it prints to.

API
---
    Session(*, stdout=None, stderr=None, device="cpu", dtype="float32", seed=None, limits=None,
            argv=(), allow_paths=(), debug=False, color=None, process_limits=False)
        stdout/stderr default to sys.stdout/sys.stderr; color=None means "when stderr is a terminal and
        NO_COLOR is unset"; process_limits=True also caps the process's address space (tcli run only).

    session.run_source(text: str, filename: str = "<string>") -> int
        Run a whole program; report any error on stderr. Returns the exit status: 0 ok, 1 error,
        130 interrupted (Ctrl-C).
    session.run_file(path: str) -> int
        The same for a file ("-" reads standard input).
    session.run_cell(text: str, filename: str = "<input>") -> Any
        Run one REPL input in the same globals. Returns the value of a trailing expression statement (as
        Python's REPL echoes it; None when there is none or it is None) and stores it as `_`. Raises
        ScriptError (tcli.errors) on failure, with `.interrupted` set for Ctrl-C; nothing is printed.
    session.report(error: ScriptError) -> None
        Print an error on stderr as FILE:LINE:COL: Type: message, source line, caret, hint (colour on a
        terminal; with debug=True also the Python traceback).
    session.display(value: Any) -> None
        Echo a value as the REPL does (repr on stdout; nothing for None).
    session.is_complete(text: str) -> bool
        Whether an input is finished or needs more lines (ast.parse only, never compile).
    session.complete(text: str) -> list[str]
        Completion candidates for the name or dotted attribute at the end of `text` (the last
        component, e.g. "torch.ze" -> ["zeros", "zeros_like"]); evaluates no calls.
    session.names() -> list[str]
        Every name a script sees right now: its globals and the builtins.
    session.globals: dict[str, Any]
        The program's global variables.

Limits (policy.Limits) apply to each run_source/run_cell call: `limits.timeout` is per call.
"""

from __future__ import annotations

import ast
import keyword
import os
import re
import signal
import sys
import threading
import time
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, TextIO

from tcli import parser, policy
from tcli.errors import ScriptError, Site, TsrTimeout
from tcli.interpreter import Interpreter
from tcli.prelude import ModuleFacade, Prelude


class Session:
    def __init__(
        self,
        *,
        stdout: TextIO | None = None,
        stderr: TextIO | None = None,
        device: str = "cpu",
        dtype: str = "float32",
        seed: int | None = None,
        limits: policy.Limits | None = None,
        argv: tuple[str, ...] | list[str] = (),
        allow_paths: tuple[str, ...] | list[str] = (),
        debug: bool = False,
        color: bool | None = None,
        process_limits: bool = False,
    ) -> None:
        self._stdout = stdout
        self._stderr = stderr
        self.device = device
        self.dtype = dtype
        self.seed = seed
        self.limits = limits if limits is not None else policy.Limits()
        self.argv = list(argv)
        self.allow_paths = list(allow_paths)
        self.debug = debug
        self.color = color
        self.process_limits = process_limits
        self.globals: dict[str, Any] = {"__name__": "__main__"}
        self.prelude = Prelude(self)
        self.interp = Interpreter(self.prelude, self.limits, self.globals)
        self.prelude.interp = self.interp
        self.prelude.baseline_rss = self.prelude.rss()

    @property
    def stdout(self) -> TextIO:
        return self._stdout if self._stdout is not None else sys.stdout

    @property
    def stderr(self) -> TextIO:
        return self._stderr if self._stderr is not None else sys.stderr

    # ------------------------------------------------------------------------------------------------
    # running
    # ------------------------------------------------------------------------------------------------

    def run_source(self, text: str, filename: str = "<string>") -> int:
        try:
            self._execute(text, filename, echo_last=False)
        except ScriptError as err:
            self.report(err)
            return 130 if getattr(err, "interrupted", False) else 1
        finally:
            self._flush()
        return 0

    def run_file(self, path: str) -> int:
        if path == "-":
            return self.run_source(sys.stdin.read(), "<stdin>")
        with open(path, encoding="utf-8") as f:
            text = f.read()
        return self.run_source(text, path)

    def run_cell(self, text: str, filename: str = "<input>") -> Any:
        value = self._execute(text, filename, echo_last=True)
        if value is not None:
            self.globals["_"] = value
        return value

    def _execute(self, text: str, filename: str, echo_last: bool) -> Any:
        tree = parser.parse(text, filename, self.limits.max_nesting)
        last: ast.Expr | None = None
        if echo_last and tree.body and type(tree.body[-1]) is ast.Expr:
            last = tree.body.pop()  # type: ignore[assignment]
        interp = self.interp
        try:
            with self._running():
                interp.run_module(tree)
                if last is not None:
                    interp.site_hook.current_site = last.tsr_site  # type: ignore[attr-defined]
                    return interp.eval_node(last.value)
        except KeyboardInterrupt as e:
            err = ScriptError.from_exception(e)
            err.interrupted = True  # type: ignore[attr-defined]
            raise err from None
        except BaseException as e:  # every failure becomes a positioned error, never a traceback
            raise ScriptError.from_exception(e) from None
        finally:
            interp.reset()
        return None

    @contextmanager
    def _running(self) -> Iterator[None]:
        """Around one run: the timeout, a recursion limit deep enough for max_call_depth tsr calls,
        and the process limits."""
        limits = self.limits
        old_limit = sys.getrecursionlimit()
        sys.setrecursionlimit(max(old_limit, limits.max_call_depth * 20 + limits.max_nesting * 4 + 1000))
        timer = False
        old_handler: Any = None
        if self.process_limits:
            self.apply_process_limits()
        if limits.timeout:
            if threading.current_thread() is threading.main_thread() and hasattr(signal, "setitimer"):
                old_handler = signal.signal(signal.SIGALRM, self._on_alarm)
                signal.setitimer(signal.ITIMER_REAL, limits.timeout)
                timer = True
            else:
                self.interp.deadline = time.monotonic() + limits.timeout
        old_show = warnings.showwarning
        warnings.showwarning = self._show_warning
        try:
            yield
        finally:
            warnings.showwarning = old_show
            if timer:
                signal.setitimer(signal.ITIMER_REAL, 0)
                signal.signal(signal.SIGALRM, old_handler)
            self.interp.deadline = None
            sys.setrecursionlimit(old_limit)

    def _show_warning(self, message: Any, category: type, filename: str, lineno: int, *rest: Any) -> None:
        """Engine warnings (torch's UserWarnings) point at the script's statement, not at engine code."""
        site = getattr(self.interp.site_hook, "current_site", None)
        where = f"{site.where()}: " if isinstance(site, Site) else ""
        lines = [f"{where}{category.__name__}: {message}"] + (
            site.excerpt(caret=False) if isinstance(site, Site) else []
        )
        try:
            self.stdout.flush()
            self.stderr.write("\n".join(lines) + "\n")
        except (OSError, ValueError):
            pass

    def _on_alarm(self, signum: int, frame: Any) -> None:
        raise TsrTimeout(f"the script ran longer than the time limit of {self.limits.timeout:g}s (--timeout)")

    def _flush(self) -> None:
        for stream in (self.stdout, self.stderr):
            try:
                stream.flush()
            except (OSError, ValueError):
                pass

    # ------------------------------------------------------------------------------------------------
    # engine
    # ------------------------------------------------------------------------------------------------

    def on_engine_loaded(self, engine: Any) -> None:
        """Called once when a script first imports torch: wire the autograd site hook, apply defaults."""
        autograd = getattr(engine, "autograd", None)
        if autograd is not None:
            self.interp.site_hook = autograd
        # set both every time: the engine's defaults are process-wide and another session may have changed them
        engine.set_default_dtype(engine.float64 if self.dtype == "float64" else engine.float32)
        engine.set_default_device(self.device)
        if self.seed is not None and hasattr(engine, "manual_seed"):
            engine.manual_seed(self.seed)
        if self.seed is not None:
            sys.modules["numpy"].random.seed(self.seed % 2**32)
        self.prelude.baseline_rss = self.prelude.rss()
        if self.process_limits:  # numpy's import has reserved its address space by now: tighten
            self.apply_process_limits(slack=min(1 << 30, policy.physical_memory() // 8))

    def apply_process_limits(self, slack: int | None = None) -> None:
        """Backstop for what no check can see (a C routine building a huge string): cap the address space
        at its current size + --max-memory + slack, so such allocations fail with MemoryError. The slack
        leaves room for numpy's import (thread buffers) until it happens. Skipped for CUDA, whose driver
        reserves vast address ranges."""
        if slack is None:
            slack = min(4 << 30, policy.physical_memory() // 4)
        if self.device != "cpu" or sys.platform != "linux":
            return
        try:
            import importlib.util
            import resource

            if importlib.util.find_spec("cupy") is not None:
                return
            with open("/proc/self/statm") as f:
                vsz = int(f.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
            cap = vsz + self.limits.max_memory + slack
            soft, hard = resource.getrlimit(resource.RLIMIT_AS)
            if hard != resource.RLIM_INFINITY:
                cap = min(cap, hard)
            if soft == resource.RLIM_INFINITY or cap < soft:
                resource.setrlimit(resource.RLIMIT_AS, (cap, hard))
        except (OSError, ValueError, ImportError):
            pass

    # ------------------------------------------------------------------------------------------------
    # output
    # ------------------------------------------------------------------------------------------------

    def use_color(self, stream: TextIO) -> bool:
        if self.color is not None:
            return self.color
        if os.environ.get("NO_COLOR") or os.environ.get("TERM") == "dumb":
            return False
        try:
            return stream.isatty()
        except (AttributeError, ValueError):
            return False

    def report(self, error: ScriptError) -> None:
        try:
            self.stdout.flush()
        except (OSError, ValueError):
            pass
        stream = self.stderr
        if getattr(error, "interrupted", False):
            stream.write(error.headline() + "\n")
        elif self.use_color(stream):
            from tcli import render

            render.print_error(error, stream)
        else:
            stream.write(error.format_plain())
        if self.debug and error.exc is not None:
            import traceback

            stream.write("--debug: Python traceback of the interpreter\n")
            traceback.print_exception(error.exc, file=stream)
        stream.flush()

    def display(self, value: Any) -> None:
        if value is None:
            return
        self.prelude.check_repr(value)
        self.stdout.write(repr(value) + "\n")

    def show_graph(self, tensor: Any) -> None:
        from tcli import render

        render.show_graph(tensor, self._tensor_names(), self.stdout, self.use_color(self.stdout))

    def show_tensor(self, tensor: Any) -> None:
        from tcli import render

        render.show_tensor(tensor, self.stdout, self.use_color(self.stdout))

    def _tensor_names(self) -> dict[int, str]:
        """id -> variable name of the tensors in scope, for naming leaves in graph()."""
        names: dict[int, str] = {}
        tensor = self.prelude.tensor_type
        frames = [self.interp.module_frame]
        f = self.interp.frame
        while f is not None and f is not self.interp.module_frame:
            frames.append(f)
            f = f.parent
        for frame in frames:  # inner scopes win
            for name, value in frame.vars.items():
                if tensor is not None and isinstance(value, tensor) and not name.startswith("_"):
                    names[id(value)] = name
        return names

    # ------------------------------------------------------------------------------------------------
    # REPL support
    # ------------------------------------------------------------------------------------------------

    def is_complete(self, text: str) -> bool:
        return parser.is_complete(text)

    def names(self) -> list[str]:
        return sorted(set(self.globals) | set(self.prelude.builtins))

    def complete(self, text: str) -> list[str]:
        token = re.search(r"[\w.]*$", text).group(0)  # type: ignore[union-attr]
        if "." not in token:
            pool = set(self.names()) | set(keyword.kwlist)
            return sorted(n for n in pool if n.startswith(token) and not n.startswith("__"))
        path, prefix = token.rsplit(".", 1)
        if not re.fullmatch(r"[A-Za-z_]\w*(\.[A-Za-z_]\w*)*", path):
            return []
        try:
            obj = self._resolve_path(path.split("."))
        except Exception:
            return []
        return [n for n in self.attributes(obj) if n.startswith(prefix)]

    def _resolve_path(self, parts: list[str]) -> Any:
        obj = self.globals[parts[0]] if parts[0] in self.globals else self.prelude.builtins[parts[0]]
        for part in parts[1:]:
            if part.startswith("_"):
                raise AttributeError(part)
            obj = self.interp.get_attribute(obj, part)
        return obj

    def attributes(self, obj: Any) -> list[str]:
        """The attribute names of `obj` a script may read (without evaluating them)."""
        if isinstance(obj, ModuleFacade):
            return obj.public_names()
        from tcli.prelude import _PLAIN_TYPES, _is_engine_type

        plain = _PLAIN_TYPES.get(type(obj))
        if plain is not None:
            return sorted(policy.PLAIN_ATTRIBUTES[plain])
        if _is_engine_type(type(obj)):
            return sorted(n for n in dir(obj) if not n.startswith("_"))
        np = sys.modules.get("numpy")
        if np is not None and isinstance(obj, np.ndarray):
            return sorted(policy.NDARRAY_ATTRIBUTES)
        return []
