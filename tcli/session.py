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
    session.attribute_names(path: list[str]) -> list[str]
        Public attributes of the object at a dotted path (["torch", "nn"]), found by looking names up;
        a method or a computing property on the way gives [] rather than run.
    session.globals: dict[str, Any]
        The program's global variables.

  For the REPL's meta-commands and screen (nothing here prints):

    session.prepare(expr: str, filename: str = "<expr>") -> Callable[[], Any]
        Parse one expression once; the function evaluates it in the globals (ScriptError on failure,
        `.interrupted` for Ctrl-C). ValueError when `expr` is not a single expression.
    session.running() -> context manager
        The per-run context (timeout, recursion limit, warnings) run_cell puts around a run.
    session.evaluate(expr: str, filename: str = "<expr>") -> Any
        prepare + running, once.
    session.engine, session.tensor_type
        The engine module (`torch` in scripts; loaded on first use) and its Tensor class.
    session.state() -> EngineState
        device, default dtype and grad mode as the engine has them now (the engine is not loaded for it).
    session.set_device(name) / set_dtype(name) / set_seed(n)
        Change the defaults for what follows (ValueError: cuda unusable, unknown dtype).
    session.reset() -> None
        Forget every variable; device, dtype, seed and grad mode back to the constructor's.
    session.scope() -> list[tuple[str, Any]]
        The public globals (no leading underscore), by name.
    session.tensor_names(nested: bool = True) -> dict[int, str]
        id -> how a tensor is reached: `w`, or with `nested` `params[0]` / `state['w']` one level into a
        list, tuple or dict (plain names win); inside a running tsr function, its locals first.
    session.name_of(tensor) -> str | None
        The name tensor_names() gives it.
    session.grad_stamps() -> dict ; session.received_grads(stamps) -> list[tuple[str, tuple]]
        Before and after a backward: which named leaves got a new or changed .grad, with its shape.
    session.tensor_memory() -> int
        Bytes held by the tensors in scope and their leaf grads (each counted once).
    session.check_printable(value) / session.check_alloc(nbytes)
        The size guards print() and allocations have (MemoryError / ValueError when over the limits).

Limits (policy.Limits) apply to each run_source/run_cell call: `limits.timeout` is per call.
"""

from __future__ import annotations

import ast
import functools
import keyword
import os
import re
import signal
import sys
import threading
import time
import types
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, TextIO

from tcli import parser, policy
from tcli.errors import (
    ScriptError,
    ScriptExit,
    Site,
    TsrTimeout,
    exit_status,
    node_of,
    site_of,
    visible,
    visible_output,
)
from tcli.interpreter import Interpreter
from tcli.prelude import ModuleFacade, Prelude

#: tensor properties attribute_names may read on the way: cheap views and metadata. Any other property
#: (they compute) stops the walk rather than run.
_READABLE_PROPERTIES = frozenset(
    {"grad", "data", "T", "mT", "H", "mH", "real", "imag", "shape", "dtype", "device", "grad_fn", "is_leaf",
     "requires_grad", "layout", "is_cuda", "ndim", "itemsize", "nbytes", "next_functions", "variable"}
)  # fmt: skip

#: the global run_cell's `display` is reached by while a cell runs (no script can spell the name)
_ECHO = "_tcli echo"

#: the most items looked into, per list/tuple/dict in scope, when naming tensors
_NESTED_LIMIT = 1000


def _attribute_path(path: str) -> str:
    """A parameter's dotted name as a script reaches it: `0.weight` -> `[0].weight`."""
    return "".join(f"[{p}]" if p.isdigit() else f".{p}" for p in path.split("."))


@dataclass(frozen=True)
class EngineState:
    """What the engine's process-wide defaults are now (the REPL's toolbar)."""

    device: str
    dtype: str
    grad_enabled: bool


class Session:
    def __deepcopy__(self, memo: dict) -> Session:  # (kept as itself: see Interpreter.__deepcopy__)
        return self

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
        hard_timeout: bool | None = None,
    ) -> None:
        self._stdout = stdout
        self._stderr = stderr
        self.device = device
        self.dtype = dtype
        self.seed = seed
        self.limits = limits if limits is not None else policy.Limits()
        self._warned: set = set()  # (message, category, script location) of warnings shown (once each)
        self._user_code = False  # whether the script's code is running (where a timeout may interrupt it)
        #: the REPL input's trailing expression, whose value the REPL echoes (an echo error points there)
        self.echo_site: Any = None
        self.argv = list(argv)
        self.allow_paths = list(allow_paths)
        self.debug = debug
        self.color = color
        self.process_limits = process_limits
        #: end the process when a run overruns --timeout inside one C call (tcli run; the REPL, where the input
        #: otherwise runs on past any limit); embedded sessions keep their process
        self.hard_timeout = process_limits if hard_timeout is None else hard_timeout
        if self.hard_timeout:
            _deepen_c_stack()
        self._startup = (device, dtype, seed)
        self._fresh_state()

    def _fresh_state(self) -> None:
        self.globals: dict[str, Any] = {"__name__": "__main__"}
        self.prelude = Prelude(self)
        self.interp = Interpreter(self.prelude, self.limits, self.globals)
        self.prelude.interp = self.interp
        self.prelude.baseline_rss = self.prelude.rss()

    def reset(self) -> None:
        """Forget every variable and return to the constructor's device, dtype, seed and grad mode. When the
        engine was loaded it is loaded again at once, so its process-wide defaults are reset now."""
        had_engine = self.prelude.engine is not None
        self.device, self.dtype, self.seed = self._startup
        self._fresh_state()
        if had_engine:
            self.prelude.load_engine()

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
        except ScriptExit as e:  # sys.exit(): the status it asked for
            return self.exit_with(e.code)
        finally:
            self._flush()
        return 0

    def exit_with(self, code: Any) -> int:
        """The process status for sys.exit(code), its message (if any) written to stderr as Python does."""
        status, message = exit_status(code)
        if message is not None:
            self._flush()
            self.stderr.write(message + "\n")
        return status

    def run_file(self, path: str) -> int:
        if path == "-":
            return self.run_source(sys.stdin.read(), "<stdin>")
        with open(path, encoding="utf-8") as f:
            text = f.read()
        return self.run_source(text, path)

    def run_cell(
        self, text: str, filename: str = "<input>", display: Callable[[Any], None] | None = None, first_line: int = 1
    ) -> Any:
        """Run one input and return the value of its last expression. `first_line`: where the input starts in
        the file it came from, so that positions in errors and warnings are that file's."""
        if first_line > 1:  # blank lines in front: the cheapest way to move every position the parser makes
            text = "\n" * (first_line - 1) + text
        value = self._execute(text, filename, echo_last=True, display=display)
        if value is not None:
            self.globals["_"] = value
        return value

    def _execute(self, text: str, filename: str, echo_last: bool, display: Callable[[Any], None] | None = None) -> Any:
        tree = parser.parse(text, filename, self.limits.max_nesting, echo=_ECHO if display is not None else None)
        last: ast.Expr | None = None
        if echo_last and tree.body and type(tree.body[-1]) is ast.Expr:
            last = tree.body.pop()  # type: ignore[assignment]
        interp = self.interp
        if display is not None:

            def echo(value: Any) -> None:
                if value is not None:
                    self.globals["_"] = value
                    display(value)

            self.globals[_ECHO] = echo
        try:
            with self.running():
                self._user_code = True
                try:
                    interp.run_module(tree)
                    if last is not None:
                        interp.site_hook.current_site = self.echo_site = last.tsr_site  # type: ignore[attr-defined]
                        return interp.eval_node(last.value)
                except (KeyboardInterrupt, ScriptExit):
                    raise
                except BaseException as e:
                    # the message is made here, under the limits: str(e) may run the script's code (a module's
                    # extra_repr in the message), which must not outlive --timeout
                    err = self.prelude.converting(self._script_error, e)  # (one text conversion: charge_text)
                    if err.site is None and isinstance(e, TsrTimeout):  # (the alarm came between two steps)
                        err.site = self._timeout_site(tree, last)
                    raise err from None
        except KeyboardInterrupt as e:
            err = ScriptError.from_exception(e)
            err.interrupted = True  # type: ignore[attr-defined]
            raise err from None
        except (ScriptError, ScriptExit):
            raise
        except BaseException as e:  # every failure becomes a positioned error, never a traceback
            err = ScriptError.from_exception(e)
            if err.site is None and isinstance(e, TsrTimeout):  # (the alarm came between two of tcli's steps)
                err.site = self._timeout_site(tree, last)
            raise err from None
        finally:
            self._user_code = False
            self.globals.pop(_ECHO, None)
            interp.reset()
        return None

    def _timeout_site(self, tree: ast.Module, last: Any) -> Site | None:
        """Where a timeout that came between tcli's steps is reported: the statement running then, else the
        script's first (a loaded machine can deliver the alarm before the first statement has begun)."""
        first = tree.body[0] if tree.body else last
        return self.interp.site_hook.current_site or getattr(first, "tsr_site", None)

    def _script_error(self, e: BaseException) -> ScriptError:
        try:
            # (an exception's text is its args': ValueError(*["y" * 10**6] * 1000) would make a gigabyte of it)
            self.prelude.check_repr(e)
            return ScriptError.from_exception(e)
        except (TsrTimeout, MemoryError, RecursionError) as limit:  # the message itself hit a limit
            err = ScriptError.from_exception(limit)
            if err.site is None:
                err.site = getattr(e, "tsr_site", None) or site_of(node_of(e))
            return err

    def displayed(self, show: Callable[[Any], None], value: Any) -> None:
        """The REPL's echo of a value, under the script's limits: its repr may run the script's code."""
        with self.running():
            self._user_code = True
            try:
                self.prelude.converting(show, value)
            except (KeyboardInterrupt, ScriptExit, ScriptError):
                raise
            except BaseException as e:  # (its message made here, under the limits: str(e) may run the script's code)
                raise self.prelude.converting(self._script_error, e) from None
            finally:
                self._user_code = False

    @contextmanager
    def running(self) -> Iterator[None]:
        """Around one run: the timeout, a recursion limit deep enough for max_call_depth tsr calls,
        and the process limits."""
        limits = self.limits
        old_limit = sys.getrecursionlimit()
        sys.setrecursionlimit(max(old_limit, limits.max_call_depth * 20 + limits.max_nesting * 4 + 1000))
        old_stack = _room_for_calls()
        timer = False
        old_handler: Any = None
        # the address-space backstop: for the whole process in tcli run; in the REPL (and embedded sessions) for
        # the length of each run, so one input cannot take the machine's memory and the prompt keeps its own
        # (the wider default slack leaves room for numpy's import, until it has happened)
        slack = min(1 << 30, policy.physical_memory() // 8) if self.prelude.engine is not None else None
        capped = self.apply_process_limits(slack) if self.limits.max_memory else None
        finished = None
        if limits.timeout:
            if threading.current_thread() is threading.main_thread() and hasattr(signal, "setitimer"):
                old_handler = signal.signal(signal.SIGALRM, self._on_alarm)
                signal.setitimer(signal.ITIMER_REAL, limits.timeout)
                timer = True
            # polled by loops as well: the alarm fires once, and a script's `finally:` may loop on after it
            self.interp.deadline = time.monotonic() + limits.timeout
            if self.hard_timeout:  # a hard stop as well (see _watchdog), and a last one (see _start_backstop)
                self._backstop = _start_backstop(limits.timeout, self.process_limits)
                finished = threading.Event()
                threading.Thread(target=self._watchdog, args=(finished, limits.timeout), daemon=True).start()
        schedulers = sys.modules.get("engine.optim.lr_scheduler")
        if schedulers is not None:
            from tcli.prelude import narrow_stateful_callables

            narrow_stateful_callables(schedulers)
        if self.prelude.engine is not None:  # (a new module's names, for the length of the run)
            from tcli.prelude import narrow_module_names

            narrow_module_names(self.prelude)
        old_show = warnings.showwarning
        old_filters = warnings.filters[:]
        # every warning reaches _show_warning, which keeps Python's default of once per source line, counted
        # by the script's lines (Python's own registry would count the interpreter's one line for all of them)
        warnings.simplefilter("always")
        warnings.showwarning = self._show_warning
        self.interp.live = True
        try:
            yield
        finally:
            self.interp.live = False
            schedulers = sys.modules.get("engine.optim.lr_scheduler")
            if schedulers is not None:
                schedulers._stateful = schedulers._stateful_default
            if "engine.host" in sys.modules:
                sys.modules["engine.host"].check_module_name = sys.modules["engine.host"].check_module_name_default
                sys.modules["engine.host"].charge_text = sys.modules["engine.host"].charge_text_default
                sys.modules["engine.host"].check_views = sys.modules["engine.host"].check_views_default
                sys.modules["engine.host"].check_alloc = sys.modules["engine.host"].check_alloc_default
            # (the engine is the process's: code that runs it after this script must not see the script's lines)
            self.interp.site_hook.current_site = None
            if capped is not None and not self.process_limits:
                self._restore_address_space(capped)
            if finished is not None:
                finished.set()
                self._stop_backstop()
            warnings.showwarning = old_show
            warnings.filters[:] = old_filters
            warnings._filters_mutated()  # type: ignore[attr-defined]
            if timer:
                signal.setitimer(signal.ITIMER_REAL, 0)
                signal.signal(signal.SIGALRM, old_handler)
            self.interp.deadline = None
            sys.setrecursionlimit(old_limit)
            if old_stack is not None:
                _set_stack_limit(old_stack)

    def _show_warning(self, message: Any, category: type, filename: str, lineno: int, *rest: Any) -> None:
        """Engine warnings (torch's UserWarnings) point at the script's statement, not at engine code."""
        site = getattr(self.interp.site_hook, "current_site", None)
        # Python's once-per-location rule counts lines: two statements on one line (`a.step(); b.step()`) warn once
        text = self.prelude.converting(str, message)  # (a warning made of a script's object: its text is charged)
        key = (text, category, (site.filename, site.line) if isinstance(site, Site) else (filename, lineno))
        if key in self._warned:
            return
        self._warned.add(key)
        expr = _warning_expression(site) if isinstance(site, Site) else None
        if expr is not None:  # the caret under the expression that warned, as an error's
            site = expr
        where = f"{site.where()}: " if isinstance(site, Site) else ""
        # (a script's own warning text is shown, never obeyed: its escape sequences as escapes)
        lines = [f"{where}{category.__name__}: {visible(text)}"] + (
            site.excerpt(caret=expr is not None) if isinstance(site, Site) else []
        )
        try:
            self.stdout.flush()
            self.stderr.write("\n".join(lines) + "\n")
        except (OSError, ValueError):
            pass

    def _watchdog(self, finished: threading.Event, timeout: float) -> None:
        """The alarm is handled between Python steps, so one long numpy/BLAS call (a @ a of 8000x8000)
        would overrun --timeout by its whole length. In tcli run the time limit is a hard stop: shortly after
        it, the process reports the timeout and ends, wherever the main thread is (numpy releases the GIL in
        its long loops, so this thread gets to run)."""
        if finished.wait(timeout + max(1.0, timeout * 0.1)):
            return
        site = getattr(self.interp.site_hook, "current_site", None)
        where = f"{site.where()}: " if isinstance(site, Site) else ""
        if self.process_limits:
            msg = (
                f"{where}TimeoutError: the script ran longer than the time limit of {timeout:g}s (--timeout); it "
                "was stopped inside one long operation\n"
            )
        else:  # (the REPL: one C call cannot be interrupted, so the whole session has to end)
            msg = (
                f"\n{where}TimeoutError: the input ran longer than the time limit of {timeout:g}s (--timeout) "
                "inside one long operation, which cannot be interrupted; the session ends\n"
            )
        for stream in (self.stdout, sys.stdout, sys.__stdout__):  # (os._exit skips Python's own flushing)
            try:
                stream.flush()
            except (OSError, ValueError, AttributeError):
                pass
        self._stop_backstop()
        os.write(2, msg.encode())
        os._exit(1)

    def _stop_backstop(self) -> None:
        backstop, self._backstop = getattr(self, "_backstop", None), None
        if backstop is not None:
            import faulthandler

            faulthandler.cancel_dump_traceback_later()
            pid, w = backstop
            try:
                os.close(w)  # (the helper reads the end of its pipe and exits)
                os.waitpid(pid, 0)
            except OSError:
                pass

    def _on_alarm(self, signum: int, frame: Any) -> None:
        if not self._user_code:  # in tcli's own bookkeeping: the script's next step reports it instead
            self.interp.deadline = time.monotonic() - 1
            return
        raise TsrTimeout(f"the script ran longer than the time limit of {self.limits.timeout:g}s (--timeout)")

    def _flush(self) -> None:
        for stream in (self.stdout, self.stderr):
            try:
                stream.flush()
            except (OSError, ValueError):
                pass

    def prepare(self, expr: str, filename: str = "<expr>") -> Callable[[], Any]:
        """Parse EXPR once (tsr's parser and checks) and return a function that evaluates it in the globals,
        so a meta-command can evaluate it many times (inside running()) without parsing each time. Errors
        come out as ScriptError positioned in EXPR, Ctrl-C as one with `.interrupted`; ValueError when EXPR
        is not exactly one expression."""
        tree = parser.parse(expr, filename, self.limits.max_nesting)
        if len(tree.body) != 1 or type(tree.body[0]) is not ast.Expr:
            raise ValueError(f"expected one expression, got {expr!r}")
        stmt = tree.body[0]
        node = stmt.value  # type: ignore[attr-defined]
        site = getattr(stmt, "tsr_site", None)
        interp = self.interp

        def evaluate() -> Any:
            try:
                self._user_code = True
                interp.site_hook.current_site = site
                if interp.deadline is not None and time.monotonic() > interp.deadline:  # (expired between calls)
                    raise TsrTimeout(
                        f"the script ran longer than the time limit of {self.limits.timeout:g}s (--timeout)"
                    )
                return interp.eval_node(node)
            except KeyboardInterrupt as e:
                err = ScriptError.from_exception(e)
                err.interrupted = True  # type: ignore[attr-defined]
                raise err from None
            except BaseException as e:
                raise self.prelude.converting(self._script_error, e) from None
            finally:
                self._user_code = False
                interp.reset()

        return evaluate

    def evaluate(self, expr: str, filename: str = "<expr>") -> Any:
        """EXPR's value, once (the same path as prepare's repeats)."""
        evaluate = self.prepare(expr, filename)
        with self.running():
            return evaluate()

    # ------------------------------------------------------------------------------------------------
    # engine
    # ------------------------------------------------------------------------------------------------

    @property
    def engine(self) -> Any:
        """The engine module (what `import torch` gives a script), loaded on first use."""
        return self.prelude.load_engine()

    @property
    def tensor_type(self) -> type:
        return self.engine.Tensor

    def state(self) -> EngineState:
        engine = self.prelude.engine
        if engine is None:
            return EngineState(str(self.device), self.dtype, True)
        dtype = str(engine.get_default_dtype()).removeprefix("torch.")
        return EngineState(str(self.device), dtype, bool(engine.is_grad_enabled()))

    def set_device(self, device: str) -> None:
        """The default device for new tensors ("cpu" or "cuda"); ValueError when CUDA is not usable."""
        if device not in ("cpu", "cuda"):
            raise ValueError(f"unknown device {device!r} (cpu or cuda)")
        engine = self.engine
        if device == "cuda" and not engine.cuda.is_available():
            raise ValueError("CUDA is not available here (it needs cupy and a GPU)")
        engine.set_default_device(device)
        self.device = device

    def set_dtype(self, dtype: str) -> None:
        """The default floating dtype (one of policy.DEFAULT_DTYPES)."""
        if dtype not in policy.DEFAULT_DTYPES:
            raise ValueError(f"unknown default dtype {dtype!r} ({', '.join(policy.DEFAULT_DTYPES)})")
        engine = self.engine
        engine.set_default_dtype(getattr(engine, dtype))
        self.dtype = dtype

    def set_seed(self, seed: int) -> None:
        """Seed torch's generator and numpy's global one, as --seed does."""
        self.engine.manual_seed(seed)
        sys.modules["numpy"].random.seed(seed % 2**32)
        self.seed = seed

    def on_engine_loaded(self, engine: Any) -> None:
        """Called once when a script first imports torch: wire the autograd site hook, apply defaults."""
        autograd = getattr(engine, "autograd", None)
        if autograd is not None:
            self.interp.site_hook = autograd
        # set both every time: the engine's defaults are process-wide and another session may have changed them
        engine.set_default_dtype(getattr(engine, self.dtype))
        engine.set_default_device(self.device)
        engine.set_grad_enabled(True)  # process-wide too: a :reset after set_grad_enabled(False) starts over
        engine.set_anomaly_enabled(False)
        distributions = sys.modules.get("engine.distributions")
        if distributions is not None:  # (its validation default and KL registry are process-wide too)
            distributions._restore_defaults()
        if self.seed is not None and hasattr(engine, "manual_seed"):
            engine.manual_seed(self.seed)
        if self.seed is not None:
            sys.modules["numpy"].random.seed(self.seed % 2**32)
        self.prelude.baseline_rss = self.prelude.rss()
        if self.process_limits:  # numpy's import has reserved its address space by now: tighten
            self.apply_process_limits(slack=min(1 << 30, policy.physical_memory() // 8))

    def apply_process_limits(self, slack: int | None = None) -> Any:
        """Backstop for what no check can see (a C routine building a huge string): cap the address space
        at its current size + --max-memory + slack, so such allocations fail with MemoryError. The slack
        leaves room for numpy's import (thread buffers) until it happens. Skipped for CUDA, whose driver
        reserves vast address ranges."""
        if slack is None:
            slack = min(4 << 30, policy.physical_memory() // 4)
        if self.device != "cpu" or sys.platform != "linux":
            return
        try:
            import resource

            if _cupy_installed():
                return
            with open("/proc/self/statm") as f:
                vsz = int(f.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
            cap = vsz + self.limits.max_memory + slack
            soft, hard = resource.getrlimit(resource.RLIMIT_AS)
            if hard != resource.RLIM_INFINITY:
                cap = min(cap, hard)
            if soft == resource.RLIM_INFINITY or cap < soft:
                resource.setrlimit(resource.RLIMIT_AS, (cap, hard))
                return soft
        except (OSError, ValueError, ImportError):
            pass
        return None

    @staticmethod
    def _restore_address_space(soft: Any) -> None:
        import resource

        try:
            resource.setrlimit(resource.RLIMIT_AS, (soft, resource.getrlimit(resource.RLIMIT_AS)[1]))
        except (OSError, ValueError):
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
        if type(value) is types.MethodType:  # (`x.item`: a tensor method, shown as torch's C method is)
            value = self.prelude.method_text(value)
        text = self.prelude.mask_addresses(repr(value))
        if _isatty(self.stdout):  # (as print: on a terminal a script's text is shown, never obeyed)
            text = visible_output(text)
        self.stdout.write(text + "\n")

    def show_graph(self, tensor: Any) -> None:
        from tcli import render

        names, node_names = self.graph_names()  # (leaves in a list or dict are params[0], as the REPL says)
        render.show_graph(tensor, names, self.stdout, self.use_color(self.stdout), node_names)

    def show_help(self, value: Any, *none: Any) -> None:
        """help(obj): its signature and description as text (tcli/help.py); help() says how to use it."""
        from tcli import help as tsr_help
        from tcli.interpreter import Function

        text = tsr_help.help_text(value, self.prelude.tensor_type, Function) if not none else tsr_help.USAGE
        if _isatty(self.stdout):  # (a script's docstring is shown, never obeyed)
            text = visible_output(text)
        self.stdout.write(text)

    def show_tensor(self, tensor: Any) -> None:
        from tcli import render

        render.show_tensor(tensor, self.stdout, self.use_color(self.stdout))

    def check_printable(self, value: Any) -> None:
        """Refuse to print a container whose text would pass the string limit (what print() checks)."""
        self.prelude.check_repr(value)

    def check_alloc(self, nbytes: int) -> None:
        """MemoryError when allocating nbytes would pass --max-memory."""
        self.prelude.check_alloc(nbytes)

    # ------------------------------------------------------------------------------------------------
    # what is in scope
    # ------------------------------------------------------------------------------------------------

    def scope(self) -> list[tuple[str, Any]]:
        """The public globals (no leading underscore), by name."""
        g = self.globals
        return [(name, g[name]) for name in sorted(g) if not name.startswith("_")]

    def tensor_names(self, nested: bool = True) -> dict[int, str]:
        """id -> the name a tensor is reached by. Inside a running tsr function its locals win over the
        enclosing frames and the globals; with `nested`, tensors one level into a list, tuple or dict at
        module level are named `params[0]` / `state['w']` where no plain name reaches them."""
        return {i: name for i, (name, _) in self._tensor_bindings(nested).items()}

    def graph_names(self) -> tuple[dict[int, str], dict[tuple[int, int], str]]:
        """What graph() labels: tensors by name (its leaves), and autograd nodes by the variables bound to
        their outputs (`y = MulBackward0`)."""
        from tcli import render

        bindings = self._tensor_bindings(True)
        names = {i: name for i, (name, _) in bindings.items()}
        return names, render.graph_node_names({name: t for name, t in bindings.values()})

    def _tensor_bindings(self, nested: bool) -> dict[int, tuple[str, Any]]:
        tensor = self.prelude.tensor_type
        if tensor is None:
            return {}
        names: dict[int, tuple[str, Any]] = {}
        if nested:
            for name, value in self.scope():
                if isinstance(value, (list, tuple)) and len(value) <= _NESTED_LIMIT:
                    for i, item in enumerate(value):
                        if isinstance(item, tensor):
                            names.setdefault(id(item), (f"{name}[{i}]", item))
                elif isinstance(value, dict) and len(value) <= _NESTED_LIMIT:
                    for key, item in value.items():
                        if isinstance(item, tensor) and isinstance(key, (str, int)):
                            names.setdefault(id(item), (f"{name}[{key!r}]", item))
                elif isinstance(value, self._module_type()):
                    for path, item in _module_parameters(value):
                        names.setdefault(id(item), (name + _attribute_path(path), item))
        frames = [self.interp.module_frame]
        f = self.interp.frame
        while f is not None and f is not self.interp.module_frame:
            frames.append(f)
            f = f.parent
        for frame in frames:  # later (inner) frames overwrite: inner scopes win
            for name, value in frame.vars.items():
                if isinstance(value, tensor) and not name.startswith("_"):
                    names[id(value)] = (name, value)
        return names

    def name_of(self, tensor: Any) -> str | None:
        return self.tensor_names().get(id(tensor))

    def _scope_tensors(self) -> Iterator[Any]:
        tensor = self.prelude.tensor_type
        if tensor is None:
            return
        for _, value in self.scope():
            if isinstance(value, tensor):
                yield value
            elif isinstance(value, (list, tuple)) and len(value) <= _NESTED_LIMIT:
                yield from (v for v in value if isinstance(v, tensor))
            elif isinstance(value, dict) and len(value) <= _NESTED_LIMIT:
                yield from (v for v in value.values() if isinstance(v, tensor))
            elif isinstance(value, self._module_type()):
                yield from (v for _, v in _module_parameters(value))

    def _module_type(self) -> type | tuple:
        """torch.nn.Module once the engine is loaded (its parameters are named `model.fc.weight`)."""
        if self.prelude.engine is None:
            return ()
        from engine.nn.module import Module

        return Module

    def _named_tensors(self) -> dict[str, Any]:
        by_id = {id(t): t for t in self._scope_tensors()}
        return {name: by_id[i] for i, name in self.tensor_names().items() if i in by_id}

    def grad_stamps(self) -> dict[str, tuple[int, Any]]:
        """For each named leaf that requires grad: the identity and version of its .grad, so that after a
        backward received_grads can tell which ones it reached (a first grad is a new tensor, later ones
        accumulate in place and bump the version)."""
        stamps: dict[str, tuple[int, Any]] = {}
        for name, t in self._named_tensors().items():
            if t.requires_grad and t.is_leaf:
                g = _grad_of(t)
                stamps[name] = (id(g), getattr(g, "_version", None)) if g is not None else (0, None)
        return stamps

    def received_grads(self, before: dict[str, tuple[int, Any]]) -> list[tuple[str, tuple[int, ...]]]:
        """(name, grad shape) of the named tensors whose .grad is new or changed since grad_stamps()."""
        out = []
        for name, t in sorted(self._named_tensors().items()):
            g = _grad_of(t) if t.requires_grad else None
            if g is None:
                continue
            if before.get(name) != (id(g), getattr(g, "_version", None)):
                out.append((name, tuple(int(d) for d in g.shape)))
        return out

    def tensor_memory(self) -> int:
        """Bytes held by the tensors in scope and the grads of the leaves among them, each counted once."""
        total = 0
        seen: set[int] = set()
        for t in self._scope_tensors():
            for x in (t, _grad_of(t) if t.is_leaf else None):
                if x is not None and id(x) not in seen:
                    seen.add(id(x))
                    total += int(x.nbytes)
        return total

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
        return [n for n in self.attribute_names(path.split(".")) if n.startswith(prefix)]

    def attribute_names(self, path: list[str]) -> list[str]:
        """Public attributes of the object at a dotted path, found by looking names up: globals, builtins,
        then the interpreter's policy-checked attribute reads. A method or a computing property on the
        way stops the walk (completing after it would mean calling it)."""
        import inspect

        if not path or path[0].startswith("_"):
            return []
        if path[0] in self.globals:
            obj = self.globals[path[0]]
        elif path[0] in self.prelude.builtins:
            obj = self.prelude.builtins[path[0]]
        else:
            return []
        try:
            for part in path[1:]:
                if part.startswith("_"):
                    return []
                static = inspect.getattr_static(obj, part, None)
                if isinstance(static, property) and part not in _READABLE_PROPERTIES:
                    return []
                if callable(static) and not isinstance(static, type) and not hasattr(static, "public_names"):
                    return []  # a method: its attributes are not the result's
                obj = self.interp.get_attribute(obj, part)
            return [n for n in self.attributes(obj) if not n.startswith("_")]
        except Exception:  # refused by policy, missing, or anything else: just no completions
            return []

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


def _warning_expression(statement: Site) -> Site | None:
    """The innermost script expression being evaluated while a warning is shown (`t.T` in `u = 1 + t.T`),
    found on the interpreter's own stack: each node's compiled closure holds its node. None when no
    expression of the statement that warned is running (the caret then stays off)."""
    import tcli.interpreter

    here = tcli.interpreter.__file__
    f = sys._getframe(2)
    while f is not None:
        code = f.f_code
        if code.co_filename == here and "node" in code.co_freevars:
            node = f.f_locals.get("node")
            if isinstance(node, ast.expr):
                site = site_of(node)
                if site is not None and site.filename == statement.filename and site.line >= statement.line:
                    return site
                return None
        f = f.f_back
    return None


def _grad_of(t: Any) -> Any:
    """t.grad without the warning reading a non-leaf's .grad gives: looking is not the mistake it is about."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return getattr(t, "grad", None)


def _module_parameters(module: Any) -> list[tuple[str, Any]]:
    """A module's parameters as named_parameters() lists them (own first, then each submodule's, depth first),
    read from its registries: the REPL's toolbar and graph names never call a method a script's class may have
    overridden (its own named_parameters could loop or allocate outside the script's limits)."""
    out: list[tuple[str, Any]] = []
    seen: set[int] = set()
    stack: list[tuple[str, Any]] = [("", module)]
    while stack and len(out) < _NESTED_LIMIT:
        prefix, mod = stack.pop()
        if id(mod) in seen:
            continue
        seen.add(id(mod))
        d = vars(mod)
        for k, p in d.get("_parameters", {}).items():
            if p is not None and id(p) not in seen:
                seen.add(id(p))
                out.append((prefix + k, p))
        children = [(prefix + k + ".", m) for k, m in d.get("_modules", {}).items() if m is not None]
        stack.extend(reversed(children))
    return out[:_NESTED_LIMIT]


@functools.cache
def _cupy_installed() -> bool:
    """Whether cupy can be imported (looked up once: the search walks sys.path, and every run asks)."""
    import importlib.util

    return importlib.util.find_spec("cupy") is not None


def _start_backstop(timeout: float, run: bool) -> tuple[int, int] | None:
    """The watchdog thread needs the interpreter lock, and some C loops never let it go: hashing or comparing a
    tuple that shares its parts (`t = (t, t)` eighty times is 2**80 items to walk) ran on for ever past --timeout.
    faulthandler's timer is a thread of C that needs no lock: a little after the watchdog would have, it ends the
    process (status 1), writing its report into a pipe that a forked helper reads; the helper shows the script's
    error instead (and drains the report). The helper ends when the pipe closes: the run's end, the process's."""
    if not hasattr(os, "fork"):
        return None
    import faulthandler

    delay = timeout + max(1.0, timeout * 0.1) + max(2.0, timeout * 0.1)
    msg = (
        f"TimeoutError: the script ran longer than the time limit of {timeout:g}s (--timeout); it was stopped "
        "inside one long operation\n"
        if run
        else f"\nTimeoutError: the input ran longer than the time limit of {timeout:g}s (--timeout) inside one long "
        "operation, which cannot be interrupted; the session ends\n"
    ).encode()
    try:
        r, w = os.pipe()
    except OSError:
        return None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # (Python 3.12 warns of forking a process with threads: the child
            pid = os.fork()  # runs none of the parent's code and takes no lock)
    except OSError:
        os.close(r)
        os.close(w)
        return None
    if pid:
        os.close(r)
        faulthandler.dump_traceback_later(delay, exit=True, file=w)
        return pid, w
    try:  # the helper: only the error stream and the pipe stay open (a reader of the output sees its end)
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # (Ctrl-C reaches the whole process group: the script's)
        os.closerange(0, 2)
        os.closerange(3, r)
        os.closerange(r + 1, 1 << 16)
        shown = False
        while os.read(r, 1 << 16):
            if not shown:
                os.write(2, msg)
                shown = True
    finally:
        os._exit(0)


def _deepen_c_stack() -> None:
    """Let the main thread's C stack grow as far as the system allows (tcli run, the REPL): some of CPython's C
    routines recurse without a depth check (hashing a tuple nested 300,000 deep overflowed the default 8 MiB
    and crashed the process). The address-space cap still bounds it; threads keep the size fixed at startup."""
    try:
        import resource

        soft, hard = resource.getrlimit(resource.RLIMIT_STACK)
        if soft != resource.RLIM_INFINITY and (hard == resource.RLIM_INFINITY or hard > soft):
            resource.setrlimit(resource.RLIMIT_STACK, (hard, hard))
    except (ImportError, OSError, ValueError):
        pass


def _room_for_calls() -> tuple | None:
    """For one run in the main thread: its C stack may grow to policy.RUN_STACK_BYTES where its soft limit is
    lower (an embedded session; tcli run and the REPL have raised it already, _deepen_c_stack), room for
    max_call_depth nested calls, each of which may re-enter the C eval loop. The limit it replaced, or None."""
    if threading.current_thread() is not threading.main_thread():
        return None
    try:
        import resource

        soft, hard = resource.getrlimit(resource.RLIMIT_STACK)
        want = policy.RUN_STACK_BYTES if hard == resource.RLIM_INFINITY else min(policy.RUN_STACK_BYTES, hard)
        if soft == resource.RLIM_INFINITY or soft >= want:
            return None
        resource.setrlimit(resource.RLIMIT_STACK, (want, hard))
        return (soft, hard)
    except (ImportError, OSError, ValueError):
        return None


def _set_stack_limit(limit: tuple) -> None:
    try:
        import resource

        resource.setrlimit(resource.RLIMIT_STACK, limit)
    except (ImportError, OSError, ValueError):
        pass


def _isatty(stream: TextIO) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False
