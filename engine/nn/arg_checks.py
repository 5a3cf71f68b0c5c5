"""torch's errors for a list, a numpy array or a number passed where torch.nn.functional takes a tensor: the
mistake of feeding raw data to a model. torch answers from one of two places, and so do these wrappers:

- its C++ argument parser, for ops bound straight to ATen: TypeError "silu(): argument 'input' (position 1)
  must be Tensor, not list" (`parser`);
- its Python code, which calls a tensor method on the argument first: the AttributeError Python raises,
  "'list' object has no attribute 'size'" (`attribute`).

Without them the engine would fail deeper down, naming its own internals ('_data'). Each wrapper costs one
isinstance test per call.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from engine.ops.util import parser_type_name
from engine.tensor import Tensor

_HEAPTYPE = 1 << 9  # Py_TPFLAGS_HEAPTYPE: a class made by a class statement


def _python_name(x: Any) -> str:
    """A type as Python's AttributeError names it: a C type's full name, a class statement's bare name."""
    tp = type(x)
    if tp.__flags__ & _HEAPTYPE or tp.__module__ == "builtins":
        return tp.__name__
    return f"{tp.__module__}.{tp.__name__}"


def parser(fn: Callable, torch_name: str, names: tuple[str, ...] = ("input",)) -> Callable:
    """fn, raising the argument parser's TypeError when one of its first len(names) positional arguments (named
    `names` in torch's signature) is not a tensor."""
    if names == ("input",):  # (the common case, kept to one test)

        @functools.wraps(fn)
        def checked(input: Any, *args: Any, **kwargs: Any) -> Any:  # noqa: A002
            if not isinstance(input, Tensor):
                raise parser_error(torch_name, "input", 1, input)
            return fn(input, *args, **kwargs)

        return checked

    @functools.wraps(fn)
    def checked_all(*args: Any, **kwargs: Any) -> Any:
        for pos, (name, x) in enumerate(zip(names, args), 1):
            if not isinstance(x, Tensor):
                raise parser_error(torch_name, name, pos, x)
        return fn(*args, **kwargs)

    return checked_all


def parser_error(torch_name: str, name: str, pos: int, x: Any) -> TypeError:
    """torch's argument-parser TypeError for a non-tensor `x` as argument `name` at position `pos`."""
    return TypeError(f"{torch_name}(): argument '{name}' (position {pos}) must be Tensor, not {parser_type_name(x)}")


def attribute(fn: Callable, attr: str, order: tuple[int, ...] = (0,)) -> Callable:
    """fn, raising Python's AttributeError for `attr` when a positional argument in `order` (the order torch's
    code reads them in) is not a tensor and has no such attribute."""

    @functools.wraps(fn)
    def checked(*args: Any, **kwargs: Any) -> Any:
        for i in order:
            if i < len(args):
                x = args[i]
                if not isinstance(x, Tensor):
                    if not hasattr(x, attr):
                        raise AttributeError(f"'{_python_name(x)}' object has no attribute '{attr}'")
                    value = getattr(x, attr)
                    if not callable(value):  # (a numpy array's .size is a number: torch calls it)
                        raise TypeError(f"'{_python_name(value)}' object is not callable")
        return fn(*args, **kwargs)

    return checked
