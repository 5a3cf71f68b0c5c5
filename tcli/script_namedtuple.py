"""`from collections import namedtuple` for tsr: the tuple subclass Python's namedtuple builds, in tcli's own code.
The standard library writes its `__new__` as source text (`lambda _cls, x, y: ...`) and eval()s it; here the
arguments are bound by hand, with the messages Python's generated function gives (`Pt.__new__() missing 1
required positional argument: 'y'`).

The class is registered as one of the script's (so it may be a base, and `_asdict`, `_replace`, `_fields` read as
on Python's), its items pass the call gate when an instance is built (a tuple is never changed after), and its
repr is measured against the output limit as a tuple's is.
"""

from __future__ import annotations

import keyword
import sys
from collections.abc import Callable
from typing import Any

try:  # (the field descriptor Python's namedtuple uses: "can't set attribute")
    from _collections import _tuplegetter
except ImportError:  # pragma: no cover

    def _tuplegetter(index: int, doc: str) -> Any:
        import operator

        return property(operator.itemgetter(index), doc=doc)


_FIELD_BYTES = 400


def make_namedtuple(p: Any, register: Callable[[type], None]) -> Callable[..., type]:
    """collections.namedtuple for a script, over the Prelude `p` (sequence limit, call gate, repr budget)."""

    def namedtuple(typename: Any, field_names: Any, *, rename: bool = False, defaults: Any = None,
                   module: Any = None) -> type:  # fmt: skip
        if isinstance(field_names, str):
            field_names = field_names.replace(",", " ").split()
        field_names = list(map(str, p.bounded_list(field_names)))
        typename = sys.intern(str(typename))
        if rename:
            seen: set[str] = set()
            for index, name in enumerate(field_names):
                if not name.isidentifier() or keyword.iskeyword(name) or name.startswith("_") or name in seen:
                    field_names[index] = f"_{index}"
                seen.add(name)
        for name in [typename, *field_names]:
            if not name.isidentifier():
                raise ValueError(f"Type names and field names must be valid identifiers: {name!r}")
            if keyword.iskeyword(name):
                raise ValueError(f"Type names and field names cannot be a keyword: {name!r}")
        seen = set()
        for name in field_names:
            if name.startswith("_") and not rename:
                raise ValueError(f"Field names cannot start with an underscore: {name!r}")
            if name in seen:
                raise ValueError(f"Encountered duplicate field name: {name!r}")
            seen.add(name)
        field_defaults: dict[str, Any] = {}
        if defaults is not None:
            defaults = tuple(p.bounded_list(defaults))
            if len(defaults) > len(field_names):
                raise TypeError("Got more default values than field names")
            field_defaults = dict(reversed(list(zip(reversed(field_names), reversed(defaults)))))
            p.admit_value(defaults)
        fields = tuple(field_names)
        n = len(fields)
        # each field is a property with its doc and a class-dict entry (about 400 bytes, from 8 characters of a
        # name): a million-field class from a 10M-character string took 450 MB under a 300 MB --max-memory
        p.check_alloc(_FIELD_BYTES * n)
        qual_new = f"{typename}.__new__"
        n_required = n - len(field_defaults)

        def __new__(_cls: type, *args: Any, **kwargs: Any) -> Any:  # noqa: N807
            if len(args) > n:
                takes = f"{n + 1}" if not field_defaults else f"from {n_required + 1} to {n + 1}"
                given = len(args) + 1
                raise TypeError(
                    f"{qual_new}() takes {takes} positional argument{'s' if n + 1 != 1 else ''} but {given} "
                    f"{'were' if given != 1 else 'was'} given"
                )
            values = list(args)
            for k in kwargs:
                if k not in fields:
                    raise TypeError(f"{qual_new}() got an unexpected keyword argument '{k}'")
                if fields.index(k) < len(args):
                    raise TypeError(f"{qual_new}() got multiple values for argument '{k}'")
            missing = []
            for name in fields[len(args) :]:
                if name in kwargs:
                    values.append(kwargs[name])
                elif name in field_defaults:
                    values.append(field_defaults[name])
                else:
                    missing.append(name)
            if missing:
                quoted = [f"'{m}'" for m in missing]
                names = " and ".join(quoted) if len(quoted) < 3 else ", ".join(quoted[:-1]) + ", and " + quoted[-1]
                raise TypeError(
                    f"{qual_new}() missing {len(missing)} required positional argument"
                    f"{'s' if len(missing) > 1 else ''}: {names}"
                )
            p.admit_value(values)  # (the engine may call what an instance holds, as a list's items)
            return tuple.__new__(_cls, values)

        __new__.__qualname__ = qual_new

        def _make(cls: type, iterable: Any) -> Any:
            result = p.bounded_list(iterable)
            if len(result) != n:
                raise TypeError(f"Expected {n} arguments, got {len(result)}")
            p.admit_value(result)
            return tuple.__new__(cls, result)

        def _replace(self: Any, /, **kwds: Any) -> Any:
            result = self._make([kwds.pop(name) if name in kwds else value for name, value in zip(fields, self)])
            if kwds:
                raise ValueError(f"Got unexpected field names: {list(kwds)!r}")
            return result

        def __repr__(self: Any) -> str:  # noqa: N807
            p.check_repr(tuple(self))
            inner = ", ".join(f"{name}={value!r}" for name, value in zip(fields, self))
            return f"{type(self).__name__}({inner})"

        def _asdict(self: Any) -> dict:
            return dict(zip(fields, self))

        def __getnewargs__(self: Any) -> tuple:  # noqa: N807
            return tuple(self)

        ns: dict[str, Any] = {
            "__doc__": f"{typename}({', '.join(fields)})",
            "__slots__": (),
            "_fields": fields,
            "_field_defaults": field_defaults,
            "__new__": __new__,
            "_make": classmethod(_make),
            "_replace": _replace,
            "__repr__": __repr__,
            "_asdict": _asdict,
            "__getnewargs__": __getnewargs__,
            "__match_args__": fields,
            "__module__": "__main__",
        }
        for index, name in enumerate(fields):
            ns[name] = _tuplegetter(index, f"Alias for field number {index}")
        cls = type(typename, (tuple,), ns)
        register(cls)
        return cls

    return namedtuple
