"""`from dataclasses import dataclass, field` for tsr: @dataclass gives a script's class the __init__, __repr__ and
__eq__ that Python's would, from its annotated class attributes (`block_size: int = 1024`), in tcli's own code:
the standard library writes those methods' source text from the script's names and exec()s it. Its __match_args__ (the
__init__ fields, for `case Point(x, y):`) is set as Python's is.

The interpreter records each class's annotated names in ANNOTATED (annotations themselves are never evaluated
in tsr: only the names and their order count, as for Python's dataclass). Of Python's options, init, repr,
eq and match_args are taken; order, frozen, slots and the rest are refused with a message rather than ignored.
"""

from __future__ import annotations

import copy
import weakref
from collections.abc import Callable
from typing import Any

#: class -> its annotated class-body names, in order (set by the interpreter's class statement)
ANNOTATED: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
#: dataclass -> its fields (inherited ones first), for subclasses and asdict
_FIELDS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


class _Missing:
    __slots__ = ()

    def __repr__(self) -> str:
        return "<dataclasses.MISSING>"


MISSING: Any = _Missing()


class Field:
    """One field: a name, a default or a default factory, and whether __init__, __repr__ and __eq__ use it."""

    __slots__ = ("name", "default", "default_factory", "init", "repr", "compare")

    def __init__(self, default: Any, default_factory: Any, init: bool, repr: bool, compare: bool) -> None:  # noqa: A002
        self.name = ""
        self.default = default
        self.default_factory = default_factory
        self.init = init
        self.repr = repr
        self.compare = compare

    def __repr__(self) -> str:
        return f"Field(name={self.name!r},default={self.default!r},default_factory={self.default_factory!r})"

    def has_default(self) -> bool:
        return self.default is not MISSING or self.default_factory is not MISSING

    def value(self) -> Any:
        return self.default_factory() if self.default_factory is not MISSING else self.default


def make_field(admit: Callable[[Any], Any]) -> Callable[..., Field]:
    """dataclasses.field, with what a script hands in as default_factory passed through the call gate first."""

    def field(
        *, default: Any = MISSING, default_factory: Any = MISSING, init: bool = True, repr: bool = True,  # noqa: A002
        compare: bool = True,
    ) -> Field:  # fmt: skip
        if default is not MISSING and default_factory is not MISSING:
            raise ValueError("cannot specify both default and default_factory")
        if default_factory is not MISSING:
            admit(default_factory)
        return Field(default, default_factory, init, repr, compare)

    return field


#: (what the facade hands out is make_field's, with the call gate; this one is for the module's own readers)
field = make_field(lambda value: value)

_REFUSED = ("order", "frozen", "unsafe_hash", "kw_only", "slots", "weakref_slot")


def make_dataclass(charge: Callable[[str], None] | None) -> Callable[..., Any]:
    """dataclasses.dataclass, whose __repr__ hands each text it makes to `charge` (Prelude.charge_text: the text
    of [d] * 100 counts a hundred times toward the limit of the conversion that asked for it)."""

    def dataclass(
        cls: Any = None, /, *, init: bool = True, repr: bool = True, eq: bool = True, match_args: bool = True,  # noqa: A002
        **options: Any,
    ) -> Any:  # fmt: skip
        """@dataclass or @dataclass(init=..., repr=..., eq=..., match_args=...) on a class the script defined."""
        for name, value in options.items():
            if name not in _REFUSED:
                raise TypeError(f"dataclass() got an unexpected keyword argument '{name}'")
            if value:
                raise TypeError(f"tsr's @dataclass takes init, repr and eq, not {name}={value!r}")

        def wrap(c: Any) -> Any:
            return _process(c, init, repr, eq, charge, match_args)

        return wrap if cls is None else wrap(cls)

    return dataclass


dataclass = make_dataclass(None)


def _process(
    cls: Any, init: bool, repr_: bool, eq: bool, charge: Callable[[str], None] | None = None, match_args: bool = True
) -> Any:
    own = ANNOTATED.get(cls) if isinstance(cls, type) else None
    if own is None:
        raise TypeError("@dataclass in tsr applies to a class the script defines")
    fields: dict[str, Field] = {}
    for base in reversed(cls.__mro__[1:]):
        for f in _FIELDS.get(base, ()):
            fields[f.name] = f
    for name in own:
        if name.startswith("_"):
            raise TypeError(f"dataclass field '{name}': tsr's dataclass fields are public names")
        default = cls.__dict__.get(name, MISSING)
        if isinstance(default, Field):
            f = default
            if f.default is MISSING:
                delattr(cls, name)
            else:
                setattr(cls, name, f.default)
        else:
            f = Field(default, MISSING, True, True, True)
        if f.default is not MISSING and type(f.default) in (list, dict, set):
            raise ValueError(f"mutable default {type(f.default)} for field {name} is not allowed: use default_factory")
        f.name = name
        fields[name] = f
    seen_default = False
    for f in fields.values():
        if not f.init:
            continue
        if f.has_default():
            seen_default = True
        elif seen_default:
            raise TypeError(f"non-default argument '{f.name}' follows default argument")
    ordered = tuple(fields.values())
    _FIELDS[cls] = ordered
    own_methods = cls.__dict__
    if init and "__init__" not in own_methods:
        cls.__init__ = _make_init(cls, ordered)
    if repr_ and "__repr__" not in own_methods:
        cls.__repr__ = _make_repr(cls, ordered, charge)
    if eq and "__eq__" not in own_methods:
        cls.__eq__ = _make_eq(cls, ordered)
        if "__hash__" not in own_methods:
            cls.__hash__ = None  # (Python's rule for eq without frozen: instances are unhashable)
    if match_args and "__match_args__" not in own_methods:  # (`case Point(x, y):` reads the __init__ fields in order)
        cls.__match_args__ = tuple(f.name for f in ordered if f.init)
    return cls


def _make_init(cls: type, fields: tuple[Field, ...]) -> Callable:
    params = [f for f in fields if f.init]
    names = {f.name for f in params}
    qual = f"{cls.__qualname__}.__init__"
    required = sum(not f.has_default() for f in params)
    # Python's count includes self: "takes 3 positional arguments", "takes from 2 to 4 positional arguments"
    takes = str(len(params) + 1) if required == len(params) else f"from {required + 1} to {len(params) + 1}"

    def __init__(self: Any, *args: Any, **kwargs: Any) -> None:  # noqa: N807
        if len(args) > len(params):
            raise TypeError(f"{qual}() takes {takes} positional argument{'' if takes == '1' else 's'} but "
                            f"{len(args) + 1} were given")  # fmt: skip
        values = {f.name: a for f, a in zip(params, args)}
        for k, v in kwargs.items():
            if k not in names:
                raise TypeError(f"{qual}() got an unexpected keyword argument '{k}'")
            if k in values:
                raise TypeError(f"{qual}() got multiple values for argument '{k}'")
            values[k] = v
        missing = [f.name for f in params if f.name not in values and not f.has_default()]
        if missing:
            quoted = [f"'{m}'" for m in missing]
            listed = quoted[0] if len(quoted) == 1 else ", ".join(quoted[:-1]) + " and " + quoted[-1]
            s = "" if len(missing) == 1 else "s"
            raise TypeError(f"{qual}() missing {len(missing)} required positional argument{s}: {listed}")
        for f in fields:
            if f.name in values:
                setattr(self, f.name, values[f.name])
            elif f.has_default():
                setattr(self, f.name, f.value())
        post = getattr(type(self), "__post_init__", None)
        if post is not None:
            post(self)

    __init__.__qualname__ = qual
    return __init__


def _make_repr(cls: type, fields: tuple[Field, ...], charge: Callable[[str], None] | None = None) -> Callable:
    shown = [f.name for f in fields if f.repr]
    running: set = set()

    def __repr__(self: Any) -> str:  # noqa: N807
        key = id(self)
        if key in running:  # (reprlib.recursive_repr's answer to an object that holds itself)
            return "..."
        running.add(key)
        try:
            inner = ", ".join(f"{n}={getattr(self, n)!r}" for n in shown)
        finally:
            running.discard(key)
        text = f"{type(self).__qualname__}({inner})"
        if charge is not None:
            charge(text)
        return text

    __repr__.__qualname__ = f"{cls.__qualname__}.__repr__"
    return __repr__


def _make_eq(cls: type, fields: tuple[Field, ...]) -> Callable:
    compared = [f.name for f in fields if f.compare]

    def __eq__(self: Any, other: Any) -> Any:  # noqa: N807
        if other.__class__ is self.__class__:
            return tuple(getattr(self, n) for n in compared) == tuple(getattr(other, n) for n in compared)
        return NotImplemented

    __eq__.__qualname__ = f"{cls.__qualname__}.__eq__"
    return __eq__


def _is_instance(obj: Any) -> bool:
    return not isinstance(obj, type) and type(obj) in _FIELDS


def make_conversions(tick: Callable[[], None] | None) -> dict[str, Callable[[Any], Any]]:
    """asdict and astuple, calling `tick` (the run's checks of --timeout and --max-memory) every few thousand values
    they copy: like Python's they copy a list once per place it is reached (a list held by one dataclass that
    a hundred places hold is copied a hundred times), so what they build can be far larger than what the script
    holds."""
    count = [0]

    def _as(obj: Any, kind: type) -> Any:
        count[0] += 1
        if count[0] >= 4096:
            count[0] = 0
            if tick is not None:
                tick()
        if _is_instance(obj):
            items = [(f.name, _as(getattr(obj, f.name), kind)) for f in _FIELDS[type(obj)]]
            return dict(items) if kind is dict else tuple(v for _, v in items)
        if type(obj) in (list, tuple):
            return type(obj)(_as(v, kind) for v in obj)
        if type(obj) is dict:
            return {_as(k, kind): _as(v, kind) for k, v in obj.items()}
        return copy.deepcopy(obj)

    def asdict(obj: Any) -> dict:
        """The fields of a dataclass instance as a dict, recursing into dataclasses, lists, tuples and dicts and
        deep-copying everything else, as Python's."""
        if not _is_instance(obj):
            raise TypeError("asdict() should be called on dataclass instances")
        return _as(obj, dict)

    def astuple(obj: Any) -> tuple:
        if not _is_instance(obj):
            raise TypeError("astuple() should be called on dataclass instances")
        return _as(obj, tuple)

    return {"asdict": asdict, "astuple": astuple}


_CONVERSIONS = make_conversions(None)
asdict = _CONVERSIONS["asdict"]
astuple = _CONVERSIONS["astuple"]


def is_dataclass(obj: Any) -> bool:
    return (obj if isinstance(obj, type) else type(obj)) in _FIELDS
