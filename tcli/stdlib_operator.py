"""The `operator` facade: the operators as functions, and itemgetter, attrgetter and methodcaller.

Each arithmetic function is the checked operator tsr's own `a op b` runs (Prelude.binary_operators: sizes of
strings, lists and integers checked before they are built), so functools.reduce(operator.mul, ...) is held to
the same limits as a loop of `*`. itemgetter reads items as a script's `x[k]` does (results counted as the
subscript counts them); attrgetter and methodcaller read attributes through tsr's attribute policy, as
getattr(x, name) does (no private names, no raw objects), never Python's getattr.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from typing import Any

from tcli import policy
from tcli.prelude import REPR_PARTS

_BINARY = (
    "add", "sub", "mul", "truediv", "floordiv", "mod", "pow", "lshift", "rshift", "and_", "or_", "xor", "matmul",
)  # fmt: skip
_PLAIN = ("abs", "eq", "ne", "lt", "le", "gt", "ge", "neg", "pos", "not_", "truth", "inv", "invert", "index", "is_",
          "is_not", "delitem")  # fmt: skip


def _binary(name: str, checked: Callable) -> Callable:
    raw = getattr(operator, name)

    def call(*args: Any, **kwargs: Any) -> Any:
        if len(args) != 2 or kwargs:
            return raw(*args, **kwargs)  # (Python's own argument error)
        return checked(*args)

    call.__name__ = call.__qualname__ = name
    call.__module__ = "_operator"
    return call


def _plain(name: str) -> Callable:
    raw = getattr(operator, name)

    def call(*args: Any, **kwargs: Any) -> Any:
        return raw(*args, **kwargs)

    call.__name__ = call.__qualname__ = name
    call.__module__ = "_operator"
    return call


def make(p: Any) -> dict[str, Any]:
    out: dict[str, Any] = {name: _binary(name, p.binary_operators[getattr(operator, name)]) for name in _BINARY}
    out.update({name: _plain(name) for name in _PLAIN})
    add = out["add"]

    def concat(*args: Any, **kwargs: Any) -> Any:
        if len(args) != 2 or kwargs:
            return operator.concat(*args, **kwargs)
        a, b = args
        if not hasattr(type(a), "__getitem__"):
            return operator.concat(a, b)  # (its TypeError)
        return add(a, b)

    def contains(*args: Any, **kwargs: Any) -> bool:
        if len(args) != 2 or kwargs:
            return operator.contains(*args, **kwargs)
        return policy.contains(args[1], args[0])

    def getitem(*args: Any, **kwargs: Any) -> Any:
        if len(args) != 2 or kwargs:
            return operator.getitem(*args, **kwargs)
        return _item(p, args[0], args[1])

    def setitem(*args: Any, **kwargs: Any) -> None:
        if len(args) != 3 or kwargs:
            return operator.setitem(*args, **kwargs)
        p.set_item(*args)  # (as `a[k] = v`: numpy's intake screened, a[:] = itertools.count() bounded)
        return None

    out.update(_named({"concat": concat, "contains": contains, "getitem": getitem, "setitem": setitem}))
    # (the classes of this session: each reads its own prelude)
    classes = {
        cls.__name__: type(cls.__name__, (cls,), {"__slots__": (), "prelude": p, "__module__": "operator"})
        for cls in (itemgetter, attrgetter, methodcaller)
    }
    p._handed_classes.update(classes.values())
    return {**out, **classes}


def _named(functions: dict[str, Callable]) -> dict[str, Callable]:
    for name, fn in functions.items():
        fn.__name__ = fn.__qualname__ = name
        fn.__module__ = "_operator"
    return functions


def _item(p: Any, obj: Any, key: Any) -> Any:
    r = obj[key]
    if r.__class__ is p.tensor_type:  # (as a subscript's result is counted: interpreter.visit_Subscript)
        p.made(r, None)
    elif r.__class__ in (str, list, tuple):
        p.made_value(r)
    return r


def _repr_args(p: Any, args: tuple, kwargs: dict | None = None) -> str:
    parts = [p._repr(a) for a in args] + [f"{k}={p._repr(v)}" for k, v in (kwargs or {}).items()]
    return ", ".join(parts)


class itemgetter:  # noqa: N801
    __slots__ = ("items",)
    prelude: Any = None

    def __init__(self, *items: Any) -> None:
        if not items:
            raise TypeError("itemgetter expected 1 argument, got 0")
        self.items = items

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if kwargs:
            raise TypeError("itemgetter() takes no keyword arguments")
        if len(args) != 1:
            raise TypeError(f"itemgetter expected 1 argument, got {len(args)}")
        obj, p = args[0], self.prelude
        if len(self.items) == 1:
            return _item(p, obj, self.items[0])
        return tuple(_item(p, obj, k) for k in self.items)

    def __repr__(self) -> str:
        return f"operator.itemgetter({_repr_args(self.prelude, self.items)})"


class attrgetter:  # noqa: N801
    __slots__ = ("attrs",)
    prelude: Any = None

    def __init__(self, *attrs: Any) -> None:
        if not attrs:
            raise TypeError("attrgetter expected 1 argument, got 0")
        for a in attrs:
            if type(a) is not str:
                raise TypeError("attribute name must be a string")
        self.attrs = attrs

    def _get(self, obj: Any, dotted: str) -> Any:
        for name in dotted.split("."):
            obj = self.prelude._getattr(obj, name)  # (getattr's rules: no private names, tsr's attribute policy)
        return obj

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if kwargs:
            raise TypeError("attrgetter() takes no keyword arguments")
        if len(args) != 1:
            raise TypeError(f"attrgetter expected 1 argument, got {len(args)}")
        if len(self.attrs) == 1:
            return self._get(args[0], self.attrs[0])
        return tuple(self._get(args[0], a) for a in self.attrs)

    def __repr__(self) -> str:
        return f"operator.attrgetter({_repr_args(self.prelude, self.attrs)})"


class methodcaller:  # noqa: N801
    __slots__ = ("name", "args", "kwargs")
    prelude: Any = None

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        if not args:
            raise TypeError("methodcaller needs at least one argument, the method name")
        if type(args[0]) is not str:
            raise TypeError("method name must be a string")
        self.name, self.args, self.kwargs = args[0], args[1:], kwargs

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if kwargs:
            raise TypeError("methodcaller() takes no keyword arguments")
        if len(args) != 1:
            raise TypeError(f"methodcaller expected 1 argument, got {len(args)}")
        p = self.prelude
        method = p._getattr(args[0], self.name)
        return p.interp.call(method, self.args, dict(self.kwargs), None)

    def __repr__(self) -> str:
        return f"operator.methodcaller({_repr_args(self.prelude, (self.name, *self.args), self.kwargs)})"


for _cls in (itemgetter, attrgetter, methodcaller):
    _cls.__module__ = "operator"
# (what their reprs write, measured before it is made: repr([itemgetter("x" * 9_000_000)] * 300) built 2.7 GB)
REPR_PARTS[itemgetter.__repr__] = lambda g: g.items
REPR_PARTS[attrgetter.__repr__] = lambda g: g.attrs
REPR_PARTS[methodcaller.__repr__] = lambda g: (g.name, g.args, g.kwargs)
