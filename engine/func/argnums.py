"""argnums: which positional arguments grad, vjp's jacobians and jvp differentiate, checked as torch checks them."""

from __future__ import annotations

from typing import Any

#: an int or a tuple of ints
Argnums = Any


def _wrap_argnum(argnum: Any, num_args: int) -> int:
    if not isinstance(argnum, int):
        raise RuntimeError(f"argnum must be int, got: {type(argnum)}")
    if 0 <= argnum < num_args:
        return argnum
    if -num_args <= argnum < 0:
        return argnum + num_args
    raise RuntimeError(f"Got argnum={argnum}, but only {num_args} positional inputs")


def wrap_argnums(argnums: Argnums, num_args: int) -> Argnums:
    """argnums checked against the number of arguments, negative ones counted from the end."""
    if not isinstance(argnums, (int, tuple)):
        raise RuntimeError(f"argnums must be int or Tuple[int, ...], got: {type(argnums)}")
    if isinstance(argnums, int):
        return _wrap_argnum(argnums, num_args)
    wrapped = tuple(_wrap_argnum(a, num_args) for a in argnums)
    if not wrapped:
        raise RuntimeError("argnums must be non-empty")
    if len(set(wrapped)) != len(wrapped):
        raise RuntimeError(f"argnums elements must be unique, got {wrapped}")
    return wrapped


def slice_argnums(args: tuple, argnums: Argnums, as_tuple: bool = True) -> Any:
    """The arguments argnums picks: a tuple (or the one argument for an int argnums with as_tuple=False)."""
    argnums = wrap_argnums(argnums, len(args))
    if isinstance(argnums, int):
        return (args[argnums],) if as_tuple else args[argnums]
    return tuple(args[i] for i in argnums)


def replace_args(args: tuple, new: tuple, argnums: Argnums) -> tuple:
    """args with the ones argnums picks replaced by new, in argnums' order."""
    argnums = wrap_argnums(argnums, len(args))
    if isinstance(argnums, int):
        return tuple(new[0] if i == argnums else a for i, a in enumerate(args))
    return tuple(new[argnums.index(i)] if i in argnums else a for i, a in enumerate(args))
