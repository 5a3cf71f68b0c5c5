"""The REPL's meta-commands (`:help`, `:vars`, `:graph EXPR`, ...).

Each command is a function of (shell, argument text) registered in COMMANDS with its usage, a one-line
summary (for :help, completion and the man page) and the kind of argument it completes. Expressions are run
by the Session (Session.prepare/evaluate, through the Shell), exactly as if typed at the prompt; the meta-commands
themselves are the user's own commands, not script code, so their file paths are not confined the way
torch.save/torch.load inside scripts are.
"""

from __future__ import annotations

import difflib
import json
import os
import re
import statistics
import time
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from tcli.errors import ScriptError
from tcli.policy import DEFAULT_DTYPES
from tcli.repl import MetaError

if TYPE_CHECKING:
    from tcli.repl import Shell

#: what :save writes next to the arrays (a name no tsr variable can have)
_META_KEY = "__tcli__"
#: :gradcheck evaluates EXPR twice per input element and backwards once per output element
GRADCHECK_MAX_INPUTS = 1000
GRADCHECK_MAX_JACOBIAN = 100_000
#: :time aims at about this many seconds in all
TIME_BUDGET = 1.0


@dataclass(frozen=True)
class MetaCommand:
    name: str
    usage: str
    summary: str
    run: Callable[[Shell, str], bool | None]
    #: what completes after the name: "expr", "choice", "file:.tsr", "file:.npz" or ""
    argument: str = ""
    choices: tuple[str, ...] = ()
    aliases: tuple[str, ...] = ()


COMMANDS: dict[str, MetaCommand] = {}


def command(
    name: str, usage: str, summary: str, argument: str = "", choices: tuple[str, ...] = (), aliases: tuple = ()
) -> Callable[[Callable[[Shell, str], bool | None]], Callable[[Shell, str], bool | None]]:
    def register(fn: Callable[[Shell, str], bool | None]) -> Callable[[Shell, str], bool | None]:
        COMMANDS[name] = MetaCommand(name, usage, summary, fn, argument, choices, aliases)
        return fn

    return register


def lookup(name: str) -> MetaCommand | None:
    if name in COMMANDS:
        return COMMANDS[name]
    for cmd in COMMANDS.values():
        if name in cmd.aliases:
            return cmd
    return None


def catalogue() -> Iterator[tuple[str, str, str, tuple[str, ...]]]:
    """(name, summary, argument kind, choices) of every command, for completion."""
    for cmd in COMMANDS.values():
        choices = tuple(COMMANDS) if cmd.name == "help" else cmd.choices
        yield cmd.name, cmd.summary, cmd.argument, choices


def run(shell: Shell, line: str) -> bool:
    """Run a `:command args` line. False when the REPL should exit."""
    name, _, arg = line[1:].strip().partition(" ")
    cmd = lookup(name)
    if cmd is None:
        close = difflib.get_close_matches(name, list(COMMANDS), n=1)
        hint = f"; did you mean :{close[0]}?" if close else "; :help lists them"
        shell.error(f"unknown meta-command ':{name}'{hint}")
        return True
    try:
        return cmd.run(shell, arg.strip()) is not False
    except MetaError as e:
        shell.error(f":{cmd.name}: {e}")
    except ScriptError as err:
        shell.report(err)
    except Exception as e:  # an engine error outside EXPR (autograd.grad in :gradcheck, a file's arrays ...)
        shell.report(ScriptError.from_exception(e))
    return True


def _need(arg: str, usage: str) -> str:
    if not arg:
        raise MetaError(f"usage: {usage}")
    return arg


def _tensor(shell: Shell, expr: str, filename: str) -> Any:
    value = shell.evaluate(expr, filename)
    if not isinstance(value, shell.tensor_type):
        raise MetaError(f"{expr} is {_kind(shell, value)}, not a tensor")
    return value


def _kind(shell: Shell, value: Any) -> str:
    from tcli.prelude import ModuleFacade

    if isinstance(value, shell.tensor_type):
        return "tensor"
    if isinstance(value, ModuleFacade):
        return "module"
    tp = type(value)
    if tp.__qualname__ == "Function" and tp.__module__ == "tcli.interpreter":
        return "function"
    if tp.__module__ == "numpy" and tp.__name__ == "ndarray":
        return "ndarray"
    if tp in (list, tuple, dict, set, frozenset, str):
        return f"{tp.__name__}[{len(value)}]" if tp is not str else "str"
    if isinstance(value, type):
        return "class"
    if callable(value) and not hasattr(value, "forward"):  # (a module is called, but is no function)
        return "function"
    return tp.__name__


# ---------------------------------------------------------------------------------------------------------
# commands
# ---------------------------------------------------------------------------------------------------------


@command("help", ":help [COMMAND]", "list the meta-commands and keys, or explain one command", "choice")
def _help(shell: Shell, arg: str) -> None:
    from rich.text import Text

    from tcli.repl import KEYS
    from tcli.repl_render import help_view

    if arg:
        cmd = lookup(arg.lstrip(":"))
        if cmd is None:
            raise MetaError(f"no meta-command ':{arg.lstrip(':')}'")
        shell.print(Text.assemble((cmd.usage, "bold cyan"), "  ", cmd.summary), soft_wrap=True)
        return
    shell.print(help_view([(c.usage, c.summary) for c in COMMANDS.values()], KEYS, shell.plain))


@command("vars", ":vars", "table of the variables: name, kind, shape, dtype, device, requires_grad, grad")
def _vars(shell: Shell, arg: str) -> None:
    from tcli.repl_render import VarRow, grad_of, shape_text, vars_table

    rows = []
    for name, value in shell.scope_items():
        kind = _kind(shell, value)
        if kind == "module":
            continue  # imported modules (torch is always there) are not what :vars is asked about
        row = VarRow(name, kind)
        if kind == "tensor":
            grad = grad_of(value) if value.requires_grad else None
            row.shape, row.dtype, row.device = shape_text(value.shape), str(value.dtype), str(value.device)
            row.requires_grad = str(bool(value.requires_grad))
            row.has_grad = shape_text(grad.shape) if grad is not None else "-"
        elif kind == "ndarray":
            row.shape, row.dtype, row.device = shape_text(value.shape), f"numpy.{value.dtype}", "cpu"
        elif type(value) in (int, float, bool, complex) and len(repr(value)) <= 20:  # (a class named int is not)
            row.kind = f"{kind} {value!r}"  # a number's value says more than an empty shape
        rows.append(row)
    shell.print(vars_table(rows, shell.plain))


@command("graph", ":graph EXPR", "the autograd graph of a tensor as a tree (torch's node names, shapes, saved tensors)",
         "expr")  # fmt: skip
def _graph(shell: Shell, arg: str) -> None:
    from rich.console import Group
    from rich.text import Text

    from tcli import render

    expr = _need(arg, ":graph EXPR")
    value = _tensor(shell, expr, "<:graph>")
    names, node_names = shell.session.graph_names()
    lines = render.graph_lines(value, names, node_names)
    if value.grad_fn is not None and id(value) not in names:
        lines.insert(0, [(expr, "bold")])  # the tree's title when EXPR is not a variable
    shell.print(Group(*[Text.assemble(*[(t, s) for t, s in line]) for line in lines]), soft_wrap=True)


@command("grad", ":grad EXPR", "a tensor next to its .grad (and why it has none)", "expr")
def _grad(shell: Shell, arg: str) -> None:
    from tcli.repl_render import grad_of, grad_view

    expr = _need(arg, ":grad EXPR")
    t = _tensor(shell, expr, "<:grad>")
    grad = grad_of(t)
    why = ""
    if grad is None:
        if not t.requires_grad:
            why = "requires_grad=False: autograd does not track it (use .requires_grad_() on a leaf)"
        elif not t.is_leaf:
            why = "a non-leaf tensor: call .retain_grad() on it before backward to keep its grad"
        else:
            why = "no backward has reached it yet"
    shell.print(grad_view(expr, t, grad, why, shell.console.width), soft_wrap=True)


@command("time", ":time EXPR", "time an expression: median of repeats (synchronised on cuda)", "expr")
def _time(shell: Shell, arg: str) -> None:
    from tcli.repl_render import TimeStats, time_table

    expr = _need(arg, ":time EXPR")
    evaluate = shell.prepare(expr, "<:time>")
    engine = shell.engine
    with shell.running():
        value = evaluate()  # warm-up, and tells whether the result lives on the GPU
        on_cuda = isinstance(value, shell.tensor_type) and value.device.type == "cuda"

        def sync() -> None:
            if on_cuda:
                engine.cuda.synchronize()

        def run(loops: int) -> float:
            start = time.perf_counter()
            for _ in range(loops):
                evaluate()
            sync()
            return time.perf_counter() - start

        # grow the loop count until one repeat takes ~1/10 of the budget (as timeit's autorange does)
        loops, took = 1, run(1)
        while took < TIME_BUDGET / 10 and loops < 10**6:
            loops *= 10 if took < TIME_BUDGET / 100 else 2
            took = run(loops)
        repeats = max(3, min(7, int(TIME_BUDGET / max(took, 1e-9))))
        samples = [took / loops] + [run(loops) / loops for _ in range(repeats - 1)]
    stats = TimeStats(
        expr, statistics.median(samples), min(samples), max(samples), len(samples), loops,
        str(value.device) if isinstance(value, shell.tensor_type) else shell.session.device, on_cuda,
    )  # fmt: skip
    shell.print(time_table(stats, shell.plain), soft_wrap=True)


@command("gradcheck", ":gradcheck EXPR wrt NAME",
         "numerical vs analytical gradient of EXPR with respect to the tensor NAME, in float64, per element",
         "expr")  # fmt: skip
def _gradcheck(shell: Shell, arg: str) -> None:
    import numpy as np

    from tcli.repl_render import GradcheckResult, gradcheck_view

    usage = ":gradcheck EXPR wrt NAME"
    m = re.fullmatch(r"(.+?)\s+wrt\s+([A-Za-z_]\w*)\s*", _need(arg, usage))
    if m is None:
        raise MetaError(f"usage: {usage}  (e.g. :gradcheck (x**3).sum() wrt x)")
    expr, name = m.group(1).strip(), m.group(2)
    g = shell.session.globals
    if name.startswith("_") or name not in g:
        raise MetaError(f"no variable '{name}' in scope")
    original = g[name]
    engine = shell.engine
    if not isinstance(original, shell.tensor_type) or not original.is_floating_point():
        raise MetaError(f"{name} must be a floating-point tensor")
    n = original.numel()
    if n > GRADCHECK_MAX_INPUTS:
        raise MetaError(f"{name} has {n} elements; :gradcheck checks at most {GRADCHECK_MAX_INPUTS}")
    evaluate = shell.prepare(expr, "<:gradcheck>")
    device = original.device
    base = original.detach().cpu().numpy().astype(np.float64)
    eps, atol, rtol = 1e-6, 1e-5, 1e-3  # torch.autograd.gradcheck's defaults
    f64 = engine.float64
    try:
        with shell.running(), engine.enable_grad():
            x = engine.tensor(base, dtype=f64, device=device, requires_grad=True)
            g[name] = x
            out = evaluate()
            if not isinstance(out, shell.tensor_type):
                raise MetaError(f"{expr} is {_kind(shell, out)}, not a tensor")
            if not out.requires_grad:
                raise MetaError(f"{expr} does not depend on {name} through autograd")
            m_out = out.numel()
            if m_out * n > GRADCHECK_MAX_JACOBIAN:
                raise MetaError(f"the Jacobian has {m_out}×{n} elements; :gradcheck shows at most "
                                f"{GRADCHECK_MAX_JACOBIAN}")  # fmt: skip
            analytical = np.zeros((m_out, n))
            for j in range(m_out):
                onehot = np.zeros(m_out)
                onehot[j] = 1.0
                seed = engine.tensor(onehot.reshape(tuple(out.shape)), dtype=out.dtype, device=device)
                (grad,) = engine.autograd.grad(out, x, grad_outputs=seed, retain_graph=True, allow_unused=True)
                if grad is not None:
                    analytical[j] = grad.detach().cpu().numpy().reshape(-1)
            numerical = np.zeros((m_out, n))
            with engine.no_grad():
                for i in range(n):
                    sides = []
                    for step in (eps, -eps):
                        moved = base.copy()
                        moved.flat[i] += step
                        g[name] = engine.tensor(moved, dtype=f64, device=device)
                        sides.append(evaluate().detach().cpu().numpy().astype(np.float64).reshape(-1))
                    numerical[:, i] = (sides[0] - sides[1]) / (2 * eps)
    finally:
        g[name] = original
    out_shape, in_shape = tuple(int(d) for d in out.shape), tuple(int(d) for d in original.shape)
    entries = [
        (tuple(int(k) for k in np.unravel_index(j, out_shape)) if out_shape else (),
         tuple(int(k) for k in np.unravel_index(i, in_shape)) if in_shape else (),
         float(analytical[j, i]), float(numerical[j, i]))
        for j in range(m_out) for i in range(n)
    ]  # fmt: skip
    result = GradcheckResult(expr, name, out_shape, in_shape, entries, eps, atol, rtol)
    shell.print(gradcheck_view(result, shell.plain), soft_wrap=True)
    if out.dtype != f64:
        shell.note(f"note: {expr} came out as {out.dtype}, so part of it ran below float64 precision")


def _confined(shell: Shell, path: str, action: str, what: str) -> str:
    """The path, if a script's torch.save/load could use it (the working directory, --allow-path): the REPL may
    be reading a stranger's file from a pipe, meta-commands included."""
    try:
        shell.session.prelude.allowed_path(path, action, what)
    except PermissionError as e:
        raise MetaError(str(e).removeprefix(f"{what}: ")) from None
    return path


@command("load", ":load FILE.tsr", "run a script in this session (its variables stay)", "file:.tsr")
def _load(shell: Shell, arg: str) -> None:
    from tcli.cmd_run import decode_source

    path = _confined(shell, os.path.expanduser(_need(arg, ":load FILE.tsr")), "load", ":load")
    try:
        with open(path, "rb") as f:
            text = decode_source(f.read())  # as `tcli run` reads a script (coding lines, a clear message)
    except (OSError, ValueError) as e:
        raise MetaError(f"cannot read {path}: {getattr(e, 'strerror', None) or e}") from None
    shell.session.run_source(text, path)


@command("save", ":save FILE.npz", "save the tensors in scope to a numpy .npz archive", "file:.npz")
def _save(shell: Shell, arg: str) -> None:
    import numpy as np

    path = os.path.expanduser(_need(arg, ":save FILE.npz"))
    if not path.endswith(".npz"):
        path += ".npz"
    full = _confined(shell, path, "save", ":save")
    tensors = {name: v for name, v in shell.scope_items() if isinstance(v, shell.tensor_type)}
    if not tensors:
        raise MetaError("no tensors in scope to save")
    meta = {"requires_grad": sorted(n for n, t in tensors.items() if t.requires_grad), "format": 1}

    # written member by member rather than with np.savez(**arrays), whose own parameter names
    # (file, allow_pickle) would clash with variables of those names
    def write() -> None:
        with zipfile.ZipFile(full, "w", zipfile.ZIP_STORED) as zf:
            for name, t in tensors.items():
                with zf.open(name + ".npy", "w", force_zip64=True) as f:
                    np.lib.format.write_array(f, t.detach().cpu().numpy(), allow_pickle=False)
            with zf.open(_META_KEY + ".npy", "w") as f:
                np.lib.format.write_array(f, np.frombuffer(json.dumps(meta).encode(), np.uint8), allow_pickle=False)

    try:  # (where a script's torch.save may write, within the same cap: the REPL may be reading a stranger's pipe)
        shell.session.prelude.checked_save(path, full, write, ":save")
    except PermissionError as e:
        raise MetaError(str(e).removeprefix(":save: ")) from None
    except OSError as e:
        raise MetaError(f"cannot write {path}: {e.strerror or e}") from None
    shell.note(f"saved {len(tensors)} tensor{'s' if len(tensors) != 1 else ''} ({', '.join(tensors)}) to {path}")


@command("restore", ":restore FILE.npz", "load the tensors of an .npz archive into scope", "file:.npz")
def _restore(shell: Shell, arg: str) -> None:
    import keyword

    import numpy as np

    path = _confined(shell, os.path.expanduser(_need(arg, ":restore FILE.npz")), "load", ":restore")
    try:
        from tcli.prelude import archive_bytes

        shell.session.check_alloc(max(os.path.getsize(path), archive_bytes(path)))
        archive = np.load(path, allow_pickle=False)
    except MemoryError as e:
        raise MetaError(str(e)) from None
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as e:
        why = getattr(e, "strerror", None) or str(e) or type(e).__name__
        if "pickle" in why or isinstance(e, EOFError):  # numpy's advice about pickles is not for tsr users
            why = "not a numpy .npz archive written by :save"
        raise MetaError(f"cannot read {path}: {why}") from None
    if not hasattr(archive, "files"):
        raise MetaError(f"{path} is a single .npy array, not an .npz archive")
    engine = shell.engine
    restored, skipped = [], []
    with archive:
        meta: dict[str, Any] = {}
        if _META_KEY in archive.files:
            try:
                meta = json.loads(bytes(archive[_META_KEY]).decode())
            except ValueError:
                meta = {}
        wants_grad = set(meta.get("requires_grad", ()))
        for name in archive.files:
            if name == _META_KEY:
                continue
            if not name.isidentifier() or keyword.iskeyword(name) or name.startswith("_"):
                skipped.append(name)
                continue
            try:
                t = engine.tensor(archive[name], device=shell.session.device)
                if name in wants_grad and t.is_floating_point():
                    t.requires_grad_(True)
            except Exception:  # a dtype the engine has no tensor for (strings, objects)
                skipped.append(name)
                continue
            shell.session.globals[name] = t
            restored.append(f"{name} {tuple(int(d) for d in t.shape)}")
    if restored:
        shell.note(f"restored {len(restored)} tensor{'s' if len(restored) != 1 else ''}: {', '.join(restored)}")
    if skipped:
        shell.error(f":restore: skipped {', '.join(skipped)} (not usable as tsr variable names or tensors)")


@command("device", ":device cpu|cuda", "set the default device for new tensors", "choice", ("cpu", "cuda"))
def _device(shell: Shell, arg: str) -> None:
    if arg not in ("cpu", "cuda"):
        raise MetaError("usage: :device cpu|cuda")
    try:
        shell.session.set_device(arg)
    except ValueError as e:
        raise MetaError(f"{e}; staying on {shell.session.device}") from None
    shell.note(f"new tensors go to {arg} (existing ones stay where they are; move them with .to('{arg}'))")


@command("dtype", ":dtype " + "|".join(DEFAULT_DTYPES), "set the default floating dtype", "choice", DEFAULT_DTYPES)
def _dtype(shell: Shell, arg: str) -> None:
    if arg not in DEFAULT_DTYPES:
        given = f"{arg} is not" if arg else "give"
        raise MetaError(
            f"{given} a floating dtype torch.set_default_dtype takes: {', '.join(DEFAULT_DTYPES[:-1])} or "
            f"{DEFAULT_DTYPES[-1]} (usage: :dtype {'|'.join(DEFAULT_DTYPES)})"
        )
    shell.session.set_dtype(arg)
    shell.note(f"default dtype: torch.{arg}")


@command("seed", ":seed N", "seed torch's (and numpy's) random generators")
def _seed(shell: Shell, arg: str) -> None:
    try:
        seed = int(_need(arg, ":seed N"))
    except ValueError:
        raise MetaError(f"the seed must be an integer, not {arg!r}") from None
    shell.session.set_seed(seed)
    shell.note(f"seeded with {seed}")


@command("reset", ":reset", "forget every variable and return to the startup options")
def _reset(shell: Shell, arg: str) -> None:
    shell.reset()
    o = shell.options
    shell.note(f"session reset ({o.device}, {o.dtype}{f', seed {o.seed}' if o.seed is not None else ''})")


@command("quit", ":quit", "leave the REPL (as Ctrl-D does)", aliases=("q", "exit"))
def _quit(shell: Shell, arg: str) -> bool:
    return False
