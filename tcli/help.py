"""help(obj) in tsr: a signature and a one-paragraph description, as text.

torch's callables are described from tcli/help_docs.py (torch's own docstrings, generated); a function a
script defines by its parameters and docstring (from its source, never by running anything); other values
by their type. Nothing here calls a script's code or reads an object's internals beyond its name.
"""

from __future__ import annotations

import ast
import importlib
import textwrap
import types
from typing import Any

#: the torch modules help_docs covers (a key is "torch.nn.functional.relu" or "Tensor.sum")
_MODULES = ("", "nn", "nn.functional", "linalg", "optim")
_by_id: dict[int, str] | None = None

USAGE = (
    "help(obj) shows a signature and a short description: help(torch.sum), help(x.sum), help(torch.nn.Linear),\n"
    "help('torch.sum'). In the REPL, `torch.sum?` does the same and :help lists the REPL's commands.\n"
)


def _index() -> dict[int, str]:
    """id of each engine object behind a documented torch name -> that name (built on first use)."""
    global _by_id
    if _by_id is None:
        from tcli.help_docs import DOCS

        found: dict[int, str] = {}
        modules = {path: importlib.import_module("engine" + (f".{path}" if path else "")) for path in _MODULES}
        tensor = importlib.import_module("engine").Tensor
        for key in DOCS:
            owner, _, name = key.rpartition(".")
            if owner == "Tensor":
                obj = getattr(tensor, name, None)
            else:
                obj = getattr(modules.get(owner.removeprefix("torch").lstrip(".")), name, None)
            if obj is not None and not isinstance(obj, (int, float, str, bool)):
                found.setdefault(id(obj), key)
        _by_id = found
    return _by_id


def _documented(key: str) -> str:
    from tcli.help_docs import DOCS

    signature, description = DOCS[key]
    owner = key.rpartition(".")[0]
    name = key.rpartition(".")[2]
    # (torch's line may say `linalg.norm(...)` or an alias's target: the name asked for, with its module)
    lines = [f"{owner}.{name}{line[line.index('(') :]}" for line in signature.splitlines() if "(" in line] or [key]
    text = description
    see = description.removeprefix("See ").rstrip(".")
    if see != description and see in DOCS:  # (`Tensor.sum`: "See torch.sum": say what that is too)
        text = f"{description}: {DOCS[see][1]}"
    if text:
        lines += textwrap.wrap(text, 76, initial_indent="    ", subsequent_indent="    ")
    return "\n".join(lines) + "\n"


def help_text(value: Any, tensor_type: type | None, function_type: type) -> str:
    from tcli.help_docs import DOCS

    if isinstance(value, str):  # help('torch.sum'), help('Tensor.sum')
        key = value if value in DOCS else f"torch.{value}" if f"torch.{value}" in DOCS else None
        return _documented(key) if key else f"no help for {value!r}: " + USAGE
    if isinstance(value, function_type):
        return _tsr_function(value)
    value = _unwrap(value)
    owner = getattr(value, "__self__", None)
    if tensor_type is not None and isinstance(owner, tensor_type):  # x.sum: the Tensor method behind it
        value = getattr(value, "__func__", value)
    try:
        key = _index().get(id(value))
    except Exception:
        key = None
    if key is not None:
        return _documented(key)
    if tensor_type is not None and isinstance(value, tensor_type):
        return "a Tensor; its methods have help: help(x.sum), help(x.backward)\n"
    from tcli.prelude import Builtin, ModuleFacade

    if isinstance(value, ModuleFacade):  # (help(sys), help(torch.nn): what tsr(5) lists of it)
        lists = "(tsr(5), IMPORTS, lists what tsr has of it); help() takes its functions one by one"
        return f"module '{value.name}' {lists}\n"
    if isinstance(value, Builtin) or (type(value) is type(len) and getattr(value, "__module__", "") == "builtins"):
        return f"{getattr(value, 'name', None) or value.__name__}: a Python builtin (see Python's documentation)\n"
    name = getattr(value, "__name__", None)
    kind = type(value).__name__
    if isinstance(name, str) and callable(value):
        return f"{name}: a {kind} with no help in tcli (see its documentation)\n"
    return f"a {kind} value; " + USAGE


def _unwrap(value: Any) -> Any:
    """The engine callable behind tcli's own wrappers (an allocation check, an unbound method's guard)."""
    from tcli import prelude

    if isinstance(value, prelude.Checked):
        value = value.fn
    if type(value) is types.FunctionType:
        value = prelude.ORIGINAL_OF.get(value, value)  # (torch.clip: clamp's copy under torch's name)
    for (cls, name), guard in list(prelude._UNBOUND.items()):
        if guard is value:
            return getattr(cls, name, value)
    return value


def _tsr_function(fn: Any) -> str:
    node = fn.node
    if isinstance(node, ast.Lambda):
        return f"lambda {ast.unparse(node.args)}: {ast.unparse(node.body)}\n"
    head = f"{fn.qualname}({ast.unparse(node.args)})"
    if getattr(node, "returns", None) is not None:
        head += f" -> {ast.unparse(node.returns)}"
    doc = ast.get_docstring(node) if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) else None
    lines = [head]
    if doc:
        lines += ["    " + line if line else "" for line in doc.splitlines()]
    return "\n".join(lines) + "\n"
