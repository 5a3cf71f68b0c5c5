"""The `enum` facade: Enum, IntEnum, auto and unique, built by tsr's own class machinery.

A script writes `class Mode(Enum): TRAIN = 1` as in Python. The class statement (Interpreter.visit_ClassDef)
compiles the body as for any script class and then builds the class with its base's metaclass, which is
EnumType below: tcli's own small metaclass, not Python's (whose _missing_, _generate_next_value_, __set_name__
and functional API run hooks a script could supply). It turns the body's plain values into members (each an
instance of the script's class, or an int for IntEnum), keeps them in definition order and answers the class
protocol a script uses: iteration, len, `in`, Mode(value), Mode["NAME"], and refuses reassigning a member.
The members' name and value are read-only (a script's code cannot set `_name_` or `_value_` either:
Prelude.check_private refuses a private name the script did not set itself). Behaviour follows CPython 3.11.
"""

from __future__ import annotations

import types
from typing import Any

from tcli.prelude import REPR_PARTS

_ORDER = "_member_names_"
_READY = False  # (set once Enum and IntEnum are made: the classes built after are the scripts')


class auto:
    """auto(): the next value (1, then the last value plus one)."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "auto(_auto_null)"


def _is_descriptor(value: Any) -> bool:
    # a method (the class statement makes each def a Python function), a property, a static or class method
    return isinstance(value, (types.FunctionType, property, staticmethod, classmethod)) or hasattr(
        type(value), "__get__"
    )


def _next_value(last_values: list) -> Any:
    if not last_values:
        return 1
    last = last_values[-1]
    try:
        ordered = sorted(last_values)
    except TypeError:
        ordered = None
    if ordered is not None and last == ordered[-1]:
        return last + 1
    for v in reversed(last_values):
        try:
            return v + 1
        except TypeError:
            pass
    return 1


class _Member:
    """`name` and `value` of a member: read-only, as Python's enum.property."""

    __slots__ = ("field",)

    def __init__(self, field: str) -> None:
        self.field = field

    def __get__(self, obj: Any, owner: Any = None) -> Any:
        if obj is None:
            raise AttributeError(self.field.strip("_"))
        return obj.__dict__[self.field]

    def __set__(self, obj: Any, value: Any) -> None:
        raise AttributeError(f"<enum 'Enum'> cannot set attribute '{self.field.strip('_')}'")

    def __delete__(self, obj: Any) -> None:
        raise AttributeError(f"<enum 'Enum'> cannot delete attribute '{self.field.strip('_')}'")


class EnumType(type):
    """The metaclass of tsr's Enum: members from the class body, and the class's protocol."""

    def __new__(mcls, name: str, bases: tuple, ns: dict) -> Any:  # noqa: N804
        members: list[tuple[str, Any]] = []
        last: list = []
        body = {}
        for key, value in ns.items():
            if key.startswith("_") or _is_descriptor(value) and not isinstance(value, auto):
                body[key] = value
                continue
            if isinstance(value, auto):
                value = _next_value(last)
            members.append((key, value))
            last.append(value)
        for base in bases:
            if isinstance(base, EnumType) and getattr(base, _ORDER, ()):
                raise TypeError(f"<enum {name!r}> cannot extend {base!r}")
        cls = super().__new__(mcls, name, bases, body)
        if _READY:  # (a script's class: its own already while its members' __init__ runs)
            from tcli.prelude import register_script_class

            register_script_class(cls)
        type.__setattr__(cls, _ORDER, [])
        type.__setattr__(cls, "_member_map_", {})
        type.__setattr__(cls, "_value2member_map_", {})
        is_int = issubclass(cls, int)
        init = None
        for k in cls.__mro__:
            if "__init__" in vars(k):
                init = vars(k)["__init__"]
                break
        for key, value in members:
            if is_int:
                member = int.__new__(cls, value)
            else:
                member = object.__new__(cls)
            member.__dict__["_name_"] = key
            member.__dict__["_value_"] = int(member) if is_int else value
            alias = cls._lookup(member.__dict__["_value_"])
            if alias is not None:
                member = alias
            else:
                if init is not None and init is not object.__init__ and init is not int.__init__:
                    init(member, *(value if type(value) is tuple else (value,)))
                cls._member_names_.append(key)
                try:
                    cls._value2member_map_[member.__dict__["_value_"]] = member
                except TypeError:
                    pass
            cls._member_map_[key] = member
            type.__setattr__(cls, key, member)
        return cls

    def _lookup(cls, value: Any) -> Any:
        try:
            return cls._value2member_map_.get(value)
        except TypeError:  # (an unhashable value: compared member by member)
            for member in cls._member_map_.values():
                if member.__dict__["_value_"] == value:
                    return member
            return None

    def __call__(cls, *args: Any, **kwargs: Any) -> Any:
        if len(args) != 1 or kwargs:
            if not args and not kwargs:
                raise TypeError("EnumType.__call__() missing 1 required positional argument: 'value'")
            raise TypeError(
                "Enum classes in tsr are called with one value (Mode(1)); the functional API is not available"
            )
        value = args[0]
        if type(value) is cls:
            return value
        member = cls._lookup(value)
        if member is None:
            raise ValueError(f"{value!r} is not a valid {cls.__qualname__}")
        return member

    def __iter__(cls) -> Any:
        return iter([cls._member_map_[n] for n in cls._member_names_])

    def __reversed__(cls) -> Any:
        return iter([cls._member_map_[n] for n in reversed(cls._member_names_)])

    def __len__(cls) -> int:
        return len(cls._member_names_)

    def __bool__(cls) -> bool:
        return True

    def __contains__(cls, member: Any) -> bool:
        if not isinstance(member, Enum):
            raise TypeError(
                f"unsupported operand type(s) for 'in': '{type(member).__qualname__}' and '{type(cls).__qualname__}'"
            )
        return isinstance(member, cls) and member.__dict__["_name_"] in cls._member_map_

    def __getitem__(cls, name: Any) -> Any:
        return cls._member_map_[name]

    def __repr__(cls) -> str:
        return f"<enum {cls.__name__!r}>"

    def __setattr__(cls, name: str, value: Any) -> None:
        if name in cls.__dict__.get("_member_map_", {}):
            raise AttributeError(f"cannot reassign member {name!r}")
        super().__setattr__(name, value)

    def __delattr__(cls, name: str) -> None:
        if name in cls.__dict__.get("_member_map_", {}):
            raise AttributeError(f"{cls.__name__!r} cannot delete member {name!r}.")
        super().__delattr__(name)


EnumType.__name__ = EnumType.__qualname__ = "EnumType"


class Enum(metaclass=EnumType):
    name = _Member("_name_")
    value = _Member("_value_")

    def __repr__(self) -> str:
        return f"<{type(self).__name__}.{self.__dict__['_name_']}: {self.__dict__['_value_']!r}>"

    def __str__(self) -> str:
        return f"{type(self).__name__}.{self.__dict__['_name_']}"

    def __format__(self, spec: str) -> str:
        return format(str(self), spec)

    def __hash__(self) -> int:
        return hash(self.__dict__["_name_"])

    def __copy__(self) -> Any:
        return self

    def __deepcopy__(self, memo: dict) -> Any:
        return self

    def __reduce_ex__(self, protocol: Any) -> Any:
        raise TypeError(f"cannot pickle {type(self).__name__!r} object")


class IntEnum(int, Enum):
    def __repr__(self) -> str:
        return f"<{type(self).__name__}.{self.__dict__['_name_']}: {int.__repr__(self)}>"

    __str__ = int.__repr__  # type: ignore[assignment]
    __format__ = int.__format__  # type: ignore[assignment]
    __hash__ = int.__hash__  # type: ignore[assignment]


for _cls in (Enum, IntEnum):  # (what a member's repr writes, measured before it is made)
    REPR_PARTS[_cls.__repr__] = lambda m: (m.__dict__["_name_"], m.__dict__["_value_"])
for _cls in (Enum, IntEnum):
    _cls.__module__ = "enum"
_READY = True


def unique(enumeration: Any) -> Any:
    """@unique: no two names for one value."""
    if not isinstance(enumeration, EnumType):
        raise TypeError("unique in tsr decorates an Enum class")
    duplicates = [
        (name, member.__dict__["_name_"])
        for name, member in enumeration._member_map_.items()
        if name != member.__dict__["_name_"]
    ]
    if duplicates:
        text = ", ".join(f"{alias} -> {name}" for alias, name in duplicates)
        raise ValueError(f"duplicate values found in {enumeration!r}: {text}")
    return enumeration


def make(p: Any) -> dict[str, Any]:
    """The facade's values; Enum and IntEnum become bases a script's class may derive from."""
    for cls in (Enum, IntEnum, auto):
        p._handed_classes.add(cls)
    p.add_class_base(Enum)
    return {"Enum": Enum, "IntEnum": IntEnum, "auto": auto, "unique": unique}
