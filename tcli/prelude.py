"""What a tsr script can reach beyond its own values, and the checks on the way.

- `builtins`: the names of policy.BUILTIN_FUNCTIONS / BUILTIN_EXCEPTIONS / TCLI_BUILTINS. Classes such
  as list or str stay the real classes (isinstance works); calling them goes through `call_guards`, and
  builtins that could build huge values or loop in C without end (sum, min, sorted, repr, pow ...) are
  replaced by checked versions.
- module facades (`ModuleFacade`): `torch` (the engine, with torch.save/load confined to allowed paths
  and sized creators checked before they allocate), `math` and the curated `numpy`. Facades are read-only.
- `attribute_rule(type)`: the function that reads an attribute of a value of that type, per policy.py.
- checked operators: integer sizes, sequence sizes and tensor broadcast sizes are checked before the
  operation runs.

The engine and numpy are imported only when a script imports them, to keep `tcli run` starting fast.
"""

from __future__ import annotations

import builtins as _py
import collections
import copy
import functools
import importlib
import inspect
import itertools
import math
import operator
import os
import random
import re
import secrets
import sys
import time
import types
import warnings
import weakref
from collections import Counter, OrderedDict, defaultdict, deque
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from itertools import islice
from typing import Any

from tcli import policy
from tcli.errors import (
    ScriptExit,
    TsrTimeout,
    note_lookup,
    private_attribute_error,
    refusal,
    tag,
    tp_name,
    visible_output,
)
from tcli.generators import TsrGenerator
from tcli.torch_names import ONE_SIGNATURE, torch_names

_MISSING: Any = object()
#: items consumed between checks when a builtin walks an iterator the script made
_CHUNK = 1 << 16
#: operand pairs whose element counts multiply to less than this cannot broadcast to anything large
_SMALL_ELEMENTS = 1 << 21
#: allocations from this size on are also checked against the process's total memory
_BIG_BYTES = 16 << 20

_PLAIN_TYPES: dict[type, str] = {
    str: "str", list: "list", tuple: "tuple", dict: "dict", set: "set", frozenset: "frozenset", int: "int",
    bool: "bool", float: "float", complex: "complex", range: "range", slice: "slice",
    type({}.keys()): "dict_keys", type({}.items()): "dict_items", type({}.values()): "dict_values",
    # a module's state_dict() and an optimizer's state
    OrderedDict: "OrderedDict", defaultdict: "dict", Counter: "Counter", type(OrderedDict().keys()): "dict_keys",
    type(OrderedDict().items()): "dict_items", type(OrderedDict().values()): "dict_values",
    TsrGenerator: "generator", property: "property", deque: "deque", random.Random: "Random",
}  # fmt: skip
#: classes type() may hand a script (a generator's is opaque: calling it would build one from raw parts)
_SAFE_CLASSES = frozenset(_PLAIN_TYPES) - {TsrGenerator} | {type(None), type(Ellipsis)}
#: values already in memory: walking them is bounded by what the script was allowed to build
_MATERIAL = frozenset({list, tuple, str, set, frozenset, dict, type({}.keys()), type({}.items()), type({}.values())})
_CONTAINERS = frozenset({list, tuple, set, frozenset, dict, OrderedDict, defaultdict, Counter, deque})
_NUMBERS = frozenset({int, float, complex, bool})
#: what the call gate looks at in a value: C functions, classes, and containers that may hold them
_GATE_KINDS = frozenset({types.BuiltinFunctionType, type}) | _CONTAINERS


class _MethodText:
    """A tensor's (or a Size's) bound method as torch shows it: torch's tensor methods are C builtins,
    `<built-in method size of Tensor object at 0x...>`; those torch writes in Python (PYTHON_LEVEL_METHODS)
    `<bound method Tensor.backward of tensor(...)>`. Stands in for the method in a text conversion only."""

    __slots__ = ("method", "text")

    def __init__(self, method: types.MethodType, name: str, python_level: bool) -> None:
        owner = method.__self__
        cls = "torch.Size" if isinstance(owner, tuple) else type(owner).__name__  # (C type names, as torch's)
        if python_level:
            self.text = f"<bound method Tensor.{name} of {owner!r}>"
        else:
            self.text = f"<built-in method {name} of {cls} object at 0x{id(owner):x}>"

    def __repr__(self) -> str:
        return self.text


class _FunctionText:
    """A function of torch's (or torch.nn.functional's) that torch writes in C, as torch shows it:
    `<built-in method zeros of type object at 0x...>`, `<built-in function gelu>` (_torch_c_functions).
    Stands in for the function in a text conversion only."""

    __slots__ = ("text",)

    def __init__(self, text: str) -> None:
        self.text = text

    def __repr__(self) -> str:
        return self.text


class _GuardedCall:
    """A collection class (list, set, dict, Counter ...) handed to code that calls it (map, filter, a sort key,
    functools' and itertools' wrappers): its checked constructor, shown as the class (partial's repr)."""

    __slots__ = ("cls", "call")

    def __init__(self, cls: type, call: Callable) -> None:
        self.cls = cls
        self.call = call

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.call(*args, **kwargs)

    def __repr__(self) -> str:
        return repr(self.cls)


class Builtin:
    """A builtin that tsr writes itself (print, sorted, ...), seen by scripts as Python's own: its repr, its
    type's name, and argument errors that name it rather than the method behind it."""

    __slots__ = ("_fn", "name")

    def __init__(self, name: str, fn: Callable) -> None:
        self._fn, self.name = fn, name
        fn.__func__.__name__ = fn.__func__.__qualname__ = name  # type: ignore[attr-defined]

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self._fn(*args, **kwargs)

    def __repr__(self) -> str:
        return f"<built-in function {self.name}>"

    def __deepcopy__(self, memo: dict) -> Builtin:
        return self

    @property
    def __name__(self) -> str:  # type: ignore[override]
        return self.name


Builtin.__name__ = Builtin.__qualname__ = "builtin_function_or_method"


class Quitter(Builtin):
    """exit and quit: calling one ends the run as sys.exit does; its repr says how, as Python's."""

    __slots__ = ()

    def __repr__(self) -> str:
        return f"Use {self.name}() or Ctrl-D (i.e. EOF) to exit"


Quitter.__name__ = Quitter.__qualname__ = "Quitter"


def _is_engine_type(tp: Any) -> bool:
    mod = getattr(tp, "__module__", None)
    return type(mod) is str and (mod == "engine" or mod.startswith("engine."))


#: the classes scripts defined (by the interpreter's class statement, never by a value a script built)
_SCRIPT_CLASSES: weakref.WeakSet = weakref.WeakSet()


def register_script_class(cls: type) -> None:
    _SCRIPT_CLASSES.add(cls)


#: the Python functions that run a script's methods (interpreter._method): read off the class (`A.m(obj)`), they
#: take any first argument as Python's functions do, where the engine's methods check it (_unbound_method)
_SCRIPT_METHODS: weakref.WeakSet = weakref.WeakSet()


def _is_script_class(tp: Any) -> bool:
    """A class a script's class statement defined (an nn.Module subclass or another allowed base), or the
    `Parametrized...` subclass torch.nn.utils.parametrize swapped in under an instance of one (its instances
    are still the script's objects, with their own attributes and methods)."""
    try:
        if tp in _SCRIPT_CLASSES:
            return True
    except TypeError:  # (an unhashable or unweakrefable value is no class of a script's)
        return False
    parametrize = sys.modules.get("engine.nn.utils.parametrize")
    return parametrize is not None and parametrize._is_parametrized_class(tp) and tp.__bases__[0] in _SCRIPT_CLASSES


def _is_node_type(tp: type) -> bool:
    """Whether tp is one of the engine's autograd node classes (a grad_fn's)."""
    autograd = sys.modules.get("engine.autograd")
    return autograd is not None and issubclass(tp, autograd.Node)


def _script_callable_state(fn: Any) -> bool:
    """What a scheduler's state_dict may keep the __dict__ of, in tsr: an instance of the script's own class (a
    tsr function is a plain function to it, as Python's are to torch). Any other object's namespace would hand
    a script the internals of whatever it put in lr_lambdas (a module, the interpreter)."""
    return _is_script_class(type(fn))


def narrow_stateful_callables(lr_scheduler: Any) -> None:
    """For the length of a run (Session.running restores torch's rule, for the engine's other users)."""
    lr_scheduler._stateful = _script_callable_state


def refuse_array(*args: Any, **kwargs: Any) -> Any:
    """`__array__` of a script's classes and functions: numpy asks an object for it before reading the object as a
    sequence, which would call the script's __len__ and __getitem__ from C, wherever the engine hands a value to
    numpy (t.fill_(obj), t.clamp(min=obj), t[0] = obj, np.full(3, obj)). Refused there, as torch refuses such a
    value (round 14)."""
    what = f"a '{tp_name(type(args[0]))}' object" if args else "it"
    raise TypeError(
        f"{what} is not a number or an array: numpy and torch in tsr read numbers, sequences, arrays and tensors, "
        "never the script's own objects"
    )


def narrow_module_names(prelude: Prelude | None) -> None:
    """For the length of a run: the names a script may give parameters, buffers and submodules
    (Prelude.check_registered_name), and the text a module's repr copies counted (Prelude.charge_text); None
    restores torch's rules."""
    from engine import host

    host.check_module_name = host.check_module_name_default if prelude is None else prelude.check_registered_name
    host.charge_text = host.charge_text_default if prelude is None else prelude.charge_text
    host.check_views = host.check_views_default if prelude is None else prelude.check_views
    host.check_alloc = host.check_alloc_default if prelude is None else prelude.check_alloc


def check_own_name(name: str) -> None:
    """A script's own attribute, method or class attribute may not take a name the engine reads as a tensor's or
    a node's field (policy.ENGINE_FIELDS)."""
    if name in policy.ENGINE_FIELDS:
        raise AttributeError(
            f"'{name}' is a name tcli's engine uses for the fields of its tensors and autograd nodes; a script's "
            f"own attributes may not use it (rename it, e.g. '{name}_')"
        )


def exception_tag_message(name: str) -> str:
    return f"'{name}': names starting with '{policy.EXCEPTION_TAG_PREFIX}' on an exception are tcli's own in tsr"


def _builtin_owned(tp: type, name: str) -> bool:
    """Whether `name`, read off a script's class or its value, is one a builtin base of it defines (int, under an
    IntEnum) that tsr does not list for that builtin (PLAIN_ATTRIBUTES): I.A.to_bytes(10**9) built a gigabyte of
    bytes, past every limit. What the script's class or Enum itself defines wins, as Python's lookup does."""
    for k in tp.__mro__:
        if name in vars(k):
            plain = _PLAIN_TYPES.get(k)
            return plain is not None and name not in policy.PLAIN_ATTRIBUTES[plain]
    return False


def _is_module_type(tp: Any) -> bool:
    """The engine's own classes and the script's classes: every public attribute is readable."""
    return _is_engine_type(tp) or _is_script_class(tp)


class ModuleFacade:
    """A read-only view of a module: attribute reads go through `resolve`, which admits or refuses each
    name once (cached); scripts can never assign to it."""

    __slots__ = ("name", "resolve", "names", "cache")

    def __init__(self, name: str, resolve: Callable[[str], Any], names: Callable[[], Iterable[str]]) -> None:
        self.name = name
        self.resolve = resolve
        self.names = names
        self.cache: dict[str, Any] = {}

    def get(self, attr: str) -> Any:
        v = self.cache.get(attr, _MISSING)
        if v is _MISSING:
            v = self.cache[attr] = self.resolve(attr)
        return v

    def public_names(self) -> list[str]:
        out = []
        for n in self.names():
            try:
                self.get(n)
            except (AttributeError, ImportError):
                continue
            out.append(n)
        return sorted(out)

    def __repr__(self) -> str:
        return f"<module '{self.name}'>"

    def __deepcopy__(self, memo: dict) -> ModuleFacade:
        return self  # (a module is copied as itself, as Python copies modules)


class OpaqueType:
    """What type() gives for values whose class a script must not call (functions, modules, iterators)."""

    __slots__ = ("name", "refusal", "short")

    def __init__(self, name: str, refusal: str | None = None) -> None:
        self.name = name
        self.refusal = refusal
        #: its __name__ where that is not the name it prints as (a custom Function's node prints as
        #: torch.autograd.function.MyReLUBackward, while its __name__ is MyReLUBackward)
        self.short = name

    def __repr__(self) -> str:
        return f"<class '{self.name}'>"

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        raise TypeError(
            self.refusal or f"{self.name}() cannot be called in tsr (it would build a raw {self.name} object or class)"
        )

    def __deepcopy__(self, memo: dict) -> OpaqueType:
        return self


# Python's messages about the value itself ("'type' object is not subscriptable") name what it stands for
OpaqueType.__name__ = OpaqueType.__qualname__ = "type"


class CheckedClass:
    """A class a script may test against (isinstance, ==, print) and call, but only through its check: the class
    itself never reaches a script (np.ndarray: map(np.ndarray, ...) would build an array over any buffer)."""

    __slots__ = ("cls", "check")

    def __init__(self, cls: type, check: Callable) -> None:
        self.cls = cls
        self.check = check

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.check(*args, **kwargs)

    def __eq__(self, other: object) -> bool:
        return other is self.cls or (type(other) is CheckedClass and other.cls is self.cls)  # type: ignore[union-attr]

    def __hash__(self) -> int:
        return hash(self.cls)

    def __repr__(self) -> str:
        return repr(self.cls)

    def __deepcopy__(self, memo: dict) -> CheckedClass:
        return self


class _Hook:
    """An engine hook as `module._forward_pre_hooks` shows it to a script: its repr, nothing to call."""

    __slots__ = ("text",)

    def __init__(self, hook: Any) -> None:
        self.text = repr(hook)

    def __repr__(self) -> str:
        return self.text


class _UnboundSuper:
    """super(Cls) with one argument: Python's unbound super object, whose only use in the code people copy is
    `super(Cls).__init__()`, which initialises nothing (the instance is not involved)."""

    __slots__ = ()

    def __init__(self) -> None:
        pass

    def __repr__(self) -> str:
        return "<super: <class 'super'>, NULL>"


_UnboundSuper.__name__ = _UnboundSuper.__qualname__ = "super"


#: numpy.ndarray and numpy.generic once numpy is loaded (read on every checked call)
_NDARRAY: list = [None, ()]
_OBJECT_ARRAYS = "object arrays are not available in tsr (an object dtype holds raw Python references)"


class Checked:
    """A sized function (torch.zeros, np.arange ...) whose allocation is checked before it runs, or any callable
    of numpy's a script holds (`numpy`: np.full, a.fill, rng.choice, np.float32), whose arguments are screened
    first (Prelude.screen_numpy_call) and whose result may hold no Python objects."""

    __slots__ = ("fn", "rule", "prelude", "owner", "floating", "numpy")

    def __init__(
        self, fn: Callable, rule: str | None, prelude: Prelude, owner: Any = None, floating: bool = False,
        numpy: bool = False,
    ) -> None:  # fmt: skip
        self.fn = fn
        self.rule = rule
        self.prelude = prelude
        self.owner = owner
        #: a torch creator whose result has the default floating dtype unless dtype= says otherwise
        self.floating = floating
        self.numpy = numpy

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if self.numpy:
            self.prelude.screen_numpy_call(args, kwargs)
        if self.rule is not None:
            self.prelude.check_call_size(self.rule, args, kwargs, self.owner, self.floating)
        r = self.fn(*args, **kwargs)
        # (np.array([None]) infers an object dtype, a.sum(axis=0, dtype="O", keepdims=True) asks for one)
        if (type(r) is _NDARRAY[0] or (self.numpy and isinstance(r, _NDARRAY[1]))) and r.dtype.hasobject:
            raise TypeError(_OBJECT_ARRAYS)
        return r

    def __deepcopy__(self, memo: dict) -> Checked:  # a function: copied as itself (its prelude stays out of reach)
        return self

    def __copy__(self) -> Checked:
        return self

    def __repr__(self) -> str:
        if type(self.fn) is types.MethodType:  # (x.repeat: a tensor method, shown as torch shows it)
            return repr(self.prelude.method_text(self.fn))
        text = self.prelude.method_text(self)  # (torch.zeros: one of torch's C functions)
        return repr(self.fn if text is self else text)


# what it wraps (torch.zeros, x.repeat, np.arange) is a C builtin, and Python's messages name it so
Checked.__name__ = Checked.__qualname__ = "builtin_function_or_method"
#: what method_text looks into: bound methods (a tensor's sized ones are Checked) and the containers that hold them
_METHOD_KINDS = frozenset({types.MethodType, types.FunctionType, Checked, list, tuple, dict})


def _torch_c_functions(engine: Any) -> dict[Callable, str]:
    """The text torch prints for the engine's functions that torch writes in C (engine.naming's tables), by
    function. One function the engine binds under aliases (clamp, clip) shows its own name; one it binds in
    torch and in torch.nn.functional, which torch prints differently (F.max_pool2d, torch.max_pool2d; F.celu,
    a Python function, torch.celu), shows F's text."""
    from engine import naming
    from engine.nn import functional

    owner = f"type object at 0x{id(_FunctionText):x}>"  # (torch's C functions share one owner)
    in_torch: dict[Callable, str] = {}
    for names, text in ((naming.TORCH_C_FUNCTIONS, "<built-in method {} of " + owner),
                        (naming.TORCH_C_PLAIN, "<built-in function {}>")):  # fmt: skip
        for name in sorted(names):
            fn = getattr(engine, name, None)  # (some load on first use)
            if type(fn) is types.FunctionType and (fn not in in_torch or fn.__name__ == name):
                in_torch[fn] = text.format(name)
    in_f: dict[Callable, str] = {}
    for names, text in ((naming.F_C_METHODS, "<built-in method {} of " + owner),
                        (naming.F_C_FUNCTIONS, "<built-in function {}>"),
                        (naming.F_BOOLEAN_DISPATCH, "<function boolean_dispatch.<locals>.fn at 0x{:x}>"),
                        (naming.F_PYTHON_ALSO_C, "")):  # fmt: skip
        for name in sorted(names):
            fn = getattr(functional, name, None)  # (the convolutions and pools load on first use)
            if type(fn) is types.FunctionType:
                in_f.setdefault(fn, text.format(id(fn) if "boolean_dispatch" in text else name))
    found = {**in_torch, **in_f}  # (F's text where one function is both: F.max_pool2d is the one scripts print)
    return {fn: text for fn, text in found.items() if text}


#: torch's functions the engine binds under another name or shares with torch.nn.functional, copied under the
#: name torch prints them by (torch.clip, torch.gt, torch.selu: _named_copy), by (function, name); and each copy's
#: original (help looks functions up by identity)
_NAMED_COPIES: dict[tuple[Callable, str], types.FunctionType] = {}
ORIGINAL_OF: dict[Callable, Callable] = {}


def _named_copy(fn: types.FunctionType, name: str) -> types.FunctionType:
    """fn as another function object, the same code, defaults and closure (a call through it runs exactly what
    fn runs, as fast), whose __name__ is `name`: what the torch facade hands out for torch.clip where the engine
    has clip = clamp, so that print(torch.clip) can show clip's text (torch.clip is not torch.clamp in torch
    either). __qualname__ stays fn's, so Python's own argument errors read as before."""
    key = (fn, name)
    copy = _NAMED_COPIES.get(key)
    if copy is None:
        copy = types.FunctionType(fn.__code__, fn.__globals__, name, fn.__defaults__, fn.__closure__)
        copy.__kwdefaults__ = fn.__kwdefaults__
        copy.__dict__.update(fn.__dict__)
        copy.__doc__, copy.__module__, copy.__qualname__ = fn.__doc__, fn.__module__, fn.__qualname__
        copy.__annotations__ = fn.__annotations__
        _NAMED_COPIES[key] = copy
        ORIGINAL_OF[copy] = fn
    return copy


def _torch_text(name: str) -> str | None:
    """The text torch prints for torch.<name> where torch writes it in C (engine.naming's tables), else None."""
    from engine import naming

    if name in naming.TORCH_C_FUNCTIONS:
        return f"<built-in method {name} of type object at 0x{id(_FunctionText):x}>"
    if name in naming.TORCH_C_PLAIN:
        return f"<built-in function {name}>"
    return None


class Prelude:
    def __deepcopy__(self, memo: dict) -> Prelude:  # (kept as itself: see Interpreter.__deepcopy__)
        return self

    def __init__(self, session: Any) -> None:
        self.session = session
        self.limits: policy.Limits = session.limits
        self.interp: Any = None  # set by the session
        self.engine: Any = None
        self.tensor_type: type | None = None
        self.ndarray_class: Any = None  # np.ndarray as scripts see it (CheckedClass)
        self.dtype_class: Any = None  # np.dtype, likewise
        self._streams: tuple[ModuleFacade, ModuleFacade] | None = None  # sys.stdout, sys.stderr
        self._argv = list(self.session.argv)  # (tsr's argv and sys.argv: one list)
        self._tty_stream: Any = None  # the stdout print() last wrote to, and whether it is a terminal
        self._tty = False
        #: engine classes whose methods are C builtins in torch (see builtin_method_names)
        self._c_method_owners: tuple[type, ...] = ()
        #: torch's C functions the engine has (print(torch.zeros)): the function -> torch's text (load_engine)
        self._c_functions: dict[Callable, str] | None = None
        self._method_names: dict = {}  # a tensor method's function -> the name torch shows it by
        #: tensor and ndarray classes, once loaded, for the broadcast checks
        self.array_types: tuple[type, ...] = ()
        self.baseline_rss = 0
        self._since_rss = 0  # bytes allocated since the process memory was last read (check_alloc)
        #: characters the text conversion running now (print, str, repr, format, an f-string field, %, an error's
        #: message) may still take from the script's __repr__/__str__ (charge_text); None outside one
        self._text_left: int | None = None
        self.saved_bytes = 0  # what torch.save has added to the disk (capped at the memory limit)
        self._admitted: dict = {}  # C functions of modules, whether a script may call them (admit_builtin)
        self._class_calls: dict = {}  # classes: what calling one runs (admit_class), False where refused
        self._facades: dict[str, ModuleFacade] = {}
        self._opaque: dict[type, OpaqueType] = {}
        self._statm = _open_statm()
        # Addresses a script sees are the real ones moved by per-session secrets (64 KiB-aligned, so alignment
        # and every difference stay true): every memory-level escape found so far needed a real address to forge
        # a pointer with. Objects (id, hash, `at 0x...` in reprs) and tensor memory (data_ptr) get separate keys.
        self._id_key = secrets.randbelow(1 << 30) << 16
        self._ptr_key = secrets.randbelow(1 << 30) << 16
        self.builtins = self._make_builtins()
        #: classes tsr itself hands out (builtins such as enumerate and zip, the facades' classes): callable
        self._handed_classes: set[type] = {v for v in self.builtins.values() if isinstance(v, type)}
        #: the dunders scripts may read, each a read-only string (policy.READABLE_UNDERSCORED)
        self.dunders: dict[str, Callable[[Any], Any]] = {
            "__name__": self.name_of, "__version__": self.version_of, "_version": self.version_counter_of,
            "__class__": self._type,  # (layer.__class__.__name__: what type() gives, read-only)
            "_forward_pre_hooks": self.forward_pre_hooks_of, "_tensor_name": self.pruned_name_of,
            "_orig_mod": self.compiled_module_of, "__cause__": self.cause_of,
            "_indices": self._sparse_method("_indices"), "_values": self._sparse_method("_values"),
            "_nnz": self._sparse_method("_nnz"),
        }  # fmt: skip
        assert set(self.dunders) == policy.READABLE_UNDERSCORED
        self.binary_operators, self.inplace_operators = self._make_operators()
        #: builtins that neither call nor keep what they are given: the call gate does not walk the containers
        #: handed to them (`while i < len(big):` stays linear)
        self.pure_callables = frozenset(
            id(self.builtins[n])
            for n in ("print", "len", "repr", "ascii", "isinstance", "issubclass", "id", "hash", "type", "format",
                      "hasattr", "callable", "show", "graph", "help")
        )  # fmt: skip
        self.call_guards: dict[type, Callable] = {
            str: self._str, list: self._list, tuple: self._tuple, set: self._set, frozenset: self._frozenset,
            dict: self._dict, OrderedDict: self._mapping(OrderedDict), Counter: self._mapping(Counter),
            defaultdict: self._defaultdict, deque: self._deque,
        }  # fmt: skip
        # the classes that call what they are given (map, functools.partial, itertools.starmap ...): checked so
        # that what they call is as_called's
        self.call_guards.update(_calling_guards(self))
        #: the guarded classes as C code calls them (map(set, [it]), sorted(key=dict), partial(list, it)): through
        #: their checks too. The raw collection constructors loop over any iterable in C, where neither --timeout
        #: nor Ctrl-C reaches (sec15: next(map(set, [itertools.repeat(1)])) ran for ever).
        self._called_as: dict[type, _GuardedCall] = {
            cls: _GuardedCall(cls, guard) for cls, guard in self.call_guards.items()
        }  # fmt: skip
        self._overrides = self._make_overrides()
        self._module_internals: frozenset[str] | None = None  # what Module.__init__ sets on every module
        self._settable: tuple[type, ...] | None = None
        #: bases the stdlib facades add for a script's classes (enum.Enum, abc.ABC: tcli's own classes)
        self._stdlib_bases: tuple[type, ...] = ()

    # ------------------------------------------------------------------------------------------------
    # limits
    # ------------------------------------------------------------------------------------------------

    def check_length(self, n: int) -> None:
        if n > self.limits.max_seq_len:
            raise MemoryError(f"a sequence of {n:,} items is over the tsr limit of {self.limits.max_seq_len:,}")

    def check_str_len(self, n: int) -> None:
        if n > self.limits.max_str_len:
            raise MemoryError(f"a string of {n:,} characters is over the tsr limit of {self.limits.max_str_len:,}")

    def check_int_bits(self, bits: float) -> None:
        if bits > self.limits.max_int_bits:
            raise OverflowError(
                f"integer result would have about {int(bits):,} bits; tsr allows {self.limits.max_int_bits:,}"
            )

    def check_alloc(self, nbytes: int) -> None:
        """Refuse an allocation before it happens if it would pass --max-memory."""
        limit = self.limits.max_memory
        if nbytes > limit:
            raise MemoryError(
                f"allocating {policy.human_size(nbytes)} would exceed the memory limit of "
                f"{policy.human_size(limit)} (--max-memory)"
            )
        # what is already held counts too: the process's memory is read for a big allocation, and after every
        # sixteenth of the limit allocated in smaller ones (so forty 15 MiB tensors cannot slip under 100 MiB)
        self._since_rss += nbytes
        if nbytes >= _BIG_BYTES or self._since_rss >= min(_BIG_BYTES, limit >> 4):
            self._since_rss = 0
            used = self.rss() - self.baseline_rss
            if used + nbytes > limit:
                raise MemoryError(
                    f"allocating {policy.human_size(nbytes)} would bring the script's memory to "
                    f"{policy.human_size(used + nbytes)}, over the limit of {policy.human_size(limit)} (--max-memory)"
                )

    def made(self, tensor: Any, node: Any) -> None:
        """A tensor a call returned: past 16 MB the process's memory is read. Sized functions are checked before
        they allocate (SIZE_RULES); this catches every other way to a big result (torch.block_diag, one_hot, a
        clone of a broadcast view, advanced indexing ...) before the script can go on with it and build more."""
        data = tensor._data
        if data.nbytes >= _BIG_BYTES and self._statm is not None:
            used = self.rss() - self.baseline_rss
            if used > self.limits.max_memory:
                e = MemoryError(
                    f"the script's memory ({policy.human_size(used)}) exceeded the limit of "
                    f"{policy.human_size(self.limits.max_memory)} (--max-memory) after this made a tensor of "
                    f"{policy.human_size(data.nbytes)}"
                )
                tag(e, node)
                raise e

    def made_value(self, value: Any) -> None:
        """A long string, list or tuple a call or subscript made (s.upper(), s[::-1], a list method's result):
        counted toward --max-memory as it comes, so that a short loop of fresh 9M-character strings cannot pass the
        limit before the loop's periodic check (every _TICK iterations) runs."""
        n = len(value)
        if n > _CHUNK:
            self.check_alloc(8 * n if type(value) is not str else n if value.isascii() else 4 * n)

    def check_views(self, count: int) -> None:
        """Before the engine makes `count` tensor objects at once (iterating a tensor unbinds it)."""
        self.check_alloc(count * _TENSOR_BYTES)

    def rss(self) -> int:
        fd = _open_statm()  # (this process's: a session made before a fork is read in the child too)
        if fd is None:
            return 0
        try:
            return int(os.pread(fd, 128, 0).split()[1]) * _PAGE
        except (OSError, ValueError, IndexError):
            return 0

    def periodic_check(self, deadline: float | None = None) -> None:
        """Called from loops and between chunks of C-level iteration."""
        if deadline is not None and time.monotonic() > deadline:
            raise TsrTimeout(f"the script ran longer than the time limit of {self.limits.timeout:g}s (--timeout)")
        if self._statm is not None:
            used = self.rss() - self.baseline_rss
            if used > self.limits.max_memory:
                raise MemoryError(
                    f"the script's memory ({policy.human_size(used)}) exceeded the limit of "
                    f"{policy.human_size(self.limits.max_memory)} (--max-memory)"
                )

    def _tick_deadline(self) -> None:
        self.periodic_check(self.interp.deadline if self.interp is not None else None)

    def set_item(self, obj: Any, key: Any, value: Any) -> None:
        """`obj[key] = value` as a script's assignment does it (Interpreter.target's store_item), for
        operator.setitem: numpy's intake screened, a list's slice filled from a bounded list."""
        self.admit_value(value)
        if obj.__class__ is _NDARRAY[0]:
            self.screen_numpy_call((key, value), {})
        elif key.__class__ is slice and obj.__class__ is list:
            value = self.bounded_list(value)
        obj[key] = value

    def bounded_list(self, iterable: Any) -> list:
        """list(iterable), refusing more than max_seq_len items before building them, and checking --max-memory
        as it goes: each item an iterator makes may be a new object (list(t) of a tensor makes a tensor per
        element, 250 bytes each), and a range's items past 256 are new ints."""
        if type(iterable) in _MATERIAL or type(iterable) is range:
            try:
                n = len(iterable)
            except OverflowError:
                n = self.limits.max_seq_len + 1
            self.check_length(n)
            if n > _CHUNK:
                self.check_alloc(n * (_NUMBER_BYTES if type(iterable) is range else 8))
            return list(iterable)
        limit = self.limits.max_seq_len + 1
        it = iter(iterable)
        items = list(islice(it, _CHUNK))
        while len(items) < limit and len(items) % _CHUNK == 0 and items:  # (in blocks, the memory read between)
            more = list(islice(it, min(_CHUNK, limit - len(items))))
            if not more:
                break
            items += more
            self._tick_deadline()
        self.check_length(len(items))
        return items

    def materialize(self, value: Any) -> Any:
        return value if type(value) in _MATERIAL else self.bounded_list(value)

    def chunks(self, iterable: Any) -> Iterator[list]:
        """Consume an iterator in blocks with checks in between, so that a C-level loop over a huge
        range can still be stopped by --timeout and Ctrl-C."""
        it = iter(iterable)
        while True:
            block = list(islice(it, _CHUNK))
            if not block:
                return
            yield block
            if len(block) == _CHUNK:
                self._tick_deadline()

    def check_repr(self, value: Any) -> int:
        """Refuse printing a container whose text would pass max_str_len (shared items repeat); returns the
        estimate (0 for anything else). An object of the script's counts 16 here: what its __repr__ returns is
        charged as it comes (charge_text)."""
        if type(value) in _CONTAINERS or isinstance(value, BaseException):
            return _ReprBudget(self.limits.max_str_len).measure(value, 0)
        return 0

    def method_text(self, obj: Any, depth: int = 0) -> Any:
        """obj for a text conversion, a tensor's bound methods in it (in lists, tuples and dicts, a few levels
        down) shown as torch shows them (_MethodText); obj itself, uncopied, where it holds none."""
        kind = type(obj)
        if kind is Checked and type(obj.fn) is types.MethodType:  # (x.add: sized, so checked)
            obj, kind = obj.fn, types.MethodType
        elif kind is Checked:  # (torch.zeros, np.arange: a function, not a container to look into)
            text = self._c_function_text(obj.fn) if type(obj.fn) is types.FunctionType else None
            return obj if text is None else _FunctionText(text)
        if kind is types.FunctionType:
            text = self._c_function_text(obj)
            return obj if text is None else _FunctionText(text)
        if kind is types.MethodType:
            if not isinstance(obj.__self__, self._c_method_owners):
                return obj
            from engine.tensor import PYTHON_LEVEL_METHODS

            name = self._method_name(obj)
            return _MethodText(obj, name, name in PYTHON_LEVEL_METHODS)
        if depth > 4 or kind not in _METHOD_KINDS or not self._c_method_owners:
            return obj
        if kind is dict:
            if _METHOD_KINDS.isdisjoint(map(type, obj.values())):
                return obj
            return {k: self.method_text(v, depth + 1) for k, v in obj.items()}
        if _METHOD_KINDS.isdisjoint(map(type, obj)):
            return obj
        return kind(self.method_text(v, depth + 1) for v in obj)

    def _c_function_text(self, fn: Callable) -> str | None:
        """torch's text for fn where torch writes it in C (print(torch.zeros)), else None."""
        table = self._c_functions
        if table is None:
            if self.engine is None:
                return None
            table = self._c_functions = _torch_c_functions(self.engine)
        text = table.get(fn)
        if text is None and fn in _UNBOUND_OF:
            return self._unbound_text(*_UNBOUND_OF[fn], fn)
        return text

    def _unbound_text(self, cls: type, name: str, fn: Callable) -> str | None:
        """torch's text for a tensor method read off the class (print(torch.Tensor.add)): `<method 'add' of
        'torch._C.TensorBase' objects>` where torch writes it in C, `<function Tensor.backward at 0x...>` where
        in Python; None for any other class's (Python's own text)."""
        if cls is not self.tensor_type:
            return None
        from engine.tensor import PYTHON_LEVEL_METHODS

        if name in PYTHON_LEVEL_METHODS:
            return f"<function Tensor.{name} at 0x{id(fn):x}>"
        return f"<method '{name}' of 'torch._C.TensorBase' objects>"

    def _as_torch_prints(self, fn: types.FunctionType, name: str) -> types.FunctionType:
        """torch.<name> as the torch facade hands it out: fn, or where fn prints as another text than torch's
        torch.<name> (an alias, clip = clamp; a function shared with F, torch.selu), fn's copy under that name
        with torch's text (_named_copy), read once per session (the facade caches it)."""
        text = _torch_text(name)
        if text is None or self._c_function_text(fn) == text or self._c_functions is None:
            return fn
        copy = _named_copy(fn, name)
        self._c_functions[copy] = text  # type: ignore[index]  (built by _c_function_text above)
        return copy

    def converting(self, convert: Callable, *args: Any) -> Any:
        """convert(*args) as one text conversion: the text the script's __repr__, __str__ and extra_repr return
        inside it (once per occurrence: [obj] * 100 calls obj's __repr__ a hundred times) counts toward
        max_str_len, so a list of objects with 10M-character reprs stops at the second, not at a gigabyte."""
        saved = self._text_left
        self._text_left = self.limits.max_str_len
        try:
            return convert(*args)
        finally:
            self._text_left = saved

    def charge_text(self, text: str) -> None:
        """Text a script's method made for a conversion (its __repr__, __str__, a module's extra_repr): against
        the budget of the conversion running (converting), and against --max-memory (the text is copied into
        the text being built) wherever it was asked for, engine code and numpy included."""
        n = len(text)
        left = self._text_left
        if left is not None:
            left -= n
            if left < 0:
                raise MemoryError(
                    f"the text of this value would take over {self.limits.max_str_len:,} characters (tsr limit)"
                )
            self._text_left = left
        if n > 4096:
            self.check_alloc(n if text.isascii() else 4 * n)

    def check_spec(self, spec: str) -> None:
        if spec:
            for digits in re.findall(r"\d+", spec):
                if len(digits) > 9 or int(digits) > self.limits.max_format_width:
                    raise ValueError(
                        f"format width or precision {digits} is over the tsr limit of {self.limits.max_format_width}"
                    )

    def format_value(self, value: Any, spec: str, conversion: int) -> str:
        """One f-string field: conversion, then format() with a checked spec (one text conversion)."""
        if type(value) is str and conversion == -1 and not spec:
            return value
        return self.converting(self._format_value, value, spec, conversion)

    def _format_value(self, value: Any, spec: str, conversion: int) -> str:
        value = self.method_text(value)
        if conversion != -1:
            self.check_repr(value)
            value = str(value) if conversion == 115 else repr(value) if conversion == 114 else ascii(value)
        self.check_spec(spec)
        if not spec:
            self.check_repr(value)
        return self.mask_addresses(format(value, spec))

    def check_percent(self, fmt: str, args: Any) -> Any:
        """`fmt % args`: widths within max_format_width, and the text within max_str_len before it is built (a
        field's estimate: a string's length, a container's repr, 16 for anything else, whose text is charged as
        it comes; named fields read their value from the mapping, once per field). Returns the arguments to format
        with: an object that is no dict but has __getitem__ (which Python reads as a mapping) is read here, once
        per name, into a dict, so that what it returns is what was measured."""
        star = False
        named: list[str] = []
        total = len(fmt)
        for m in _PERCENT.finditer(fmt):
            total -= len(m.group())
            if m.group() == "%%":
                total += 1
                continue
            key = m.group(1)
            if key is not None:
                named.append(key)
            for part in m.groups()[1:]:
                if part == "*":
                    star = True
                elif part:
                    self.check_spec(part)
                    total += int(part)
        values = args if type(args) is tuple else (args,)
        for v in values:
            if star and isinstance(v, int) and v > self.limits.max_format_width:
                raise ValueError(f"'*' width {v} is over the tsr limit of {self.limits.max_format_width}")
        mapping = named and type(args) is not tuple and type(args) is not str and hasattr(type(args), "__getitem__")
        if mapping and not hasattr(type(args), "keys"):
            args = {key: args[key] for key in dict.fromkeys(named)}
        if mapping:
            for key in named:
                try:
                    v = args[key]
                except Exception:  # (the formatting itself reports a missing key)
                    continue
                total += len(v) if type(v) is str else self.check_repr(v) or 16
                self.check_str_len(total)
        else:
            for v in values:
                total += len(v) if type(v) is str else self.check_repr(v) or 16
                self.check_str_len(total)
        return args

    # ------------------------------------------------------------------------------------------------
    # allocation checks for sized functions and tensor operators
    # ------------------------------------------------------------------------------------------------

    def numel(self, x: Any) -> int:
        if self.tensor_type is not None and isinstance(x, self.tensor_type):
            return x.numel()
        return int(getattr(x, "size", 1))

    def check_broadcast(self, a: Any, b: Any) -> None:
        if self.numel(a) * self.numel(b) < _SMALL_ELEMENTS:
            return
        shape = _broadcast_shape(tuple(a.shape), tuple(b.shape))
        if shape is not None:
            self.check_alloc(_prod(shape) * max(_itemsize(a), _itemsize(b)))

    def check_matmul(self, a: Any, b: Any) -> None:
        if self.numel(a) * self.numel(b) < _SMALL_ELEMENTS:
            return
        n = _matmul_numel(tuple(a.shape), tuple(b.shape))
        if n is not None:
            self.check_alloc(n * max(_itemsize(a), _itemsize(b)))

    def check_call_size(self, rule: str, args: tuple, kwargs: dict, owner: Any, floating: bool = False) -> None:
        """Check the allocation of a sized call. An element counts the size of its dtype: dtype= when given,
        else the owner's (tensor.new_zeros, array.repeat), else torch's default dtype for the creators whose
        result is floating (`floating`), else 8 bytes (an upper bound: int64, float64)."""
        try:
            n = SIZE_RULES[rule](self, args, kwargs, owner)
        except Exception:  # malformed arguments: the function itself reports them (rules only compute)
            return
        dtype = kwargs.get("dtype")
        at = _DTYPE_AT.get(rule)
        if dtype is None and at is not None and len(args) > at:
            dtype = args[at]
        if dtype is not None and _holds_objects(dtype):
            raise TypeError(_OBJECT_ARRAYS)
        if n is not None:
            if rule in _OBJECT_RULES:  # (Python objects: the rule counts their bytes)
                itemsize = 1
            elif dtype is not None:
                itemsize = _dtype_size(dtype) or 8
            elif owner is not None:
                itemsize = _itemsize(owner)
            elif rule in _FIRST_TENSOR_RULES and args:
                itemsize = _itemsize(args[0])
            elif floating and self.engine is not None:
                itemsize = _dtype_size(self.engine.get_default_dtype()) or 8
            else:
                itemsize = 8
            self.check_alloc(int(n) * itemsize)

    def _make_operators(self) -> tuple[dict, dict]:
        """Operator functions with their checks, keyed by the plain operator function. Tensors and floats
        take a short path (tensor pairs compare element counts first); everything else goes through
        `_checked`. The tensor class is read at each call: the interpreter keeps these functions from before
        the script imports torch."""
        small = _SMALL_ELEMENTS
        checked = self._checked
        prelude = self

        def make(op: Callable, kind: str) -> Callable:
            def fast(a: Any, b: Any) -> Any:
                ta = type(a)
                if ta is prelude.tensor_type:
                    tb = type(b)
                    if tb is ta:
                        if a.numel() * b.numel() >= small:
                            checked(op, kind, a, b)
                        return op(a, b)
                    if tb is float or tb is int:
                        return op(a, b)
                elif ta is float:
                    return op(a, b)
                return op(a, checked(op, kind, a, b))

            if kind == "Mod":  # ("%r" % obj shows the address id() gives)

                def mod(a: Any, b: Any) -> Any:
                    if type(a) is not str:
                        return fast(a, b)
                    out = prelude.converting(fast, a, b)  # (one text conversion: "%s" % obj runs its __str__)
                    if type(out) is not str:
                        return out
                    if len(out) > _CHUNK:
                        prelude.made_value(out)
                    return prelude.mask_addresses(out)

                return mod
            return fast

        binary = {op: make(op, name) for name, op in policy.BINARY_OPERATORS.items()}
        inplace = {policy.BINARY_OPERATORS[name]: make(op, name) for name, op in policy.INPLACE_OPERATORS.items()}
        return binary, inplace

    def _checked(self, op: Callable, kind: str, a: Any, b: Any) -> Any:
        """The size checks of one operation: raises if it would build something over a limit, else returns
        the right operand (materialized where the operation would consume an iterator in C)."""
        ta, tb = type(a), type(b)
        types_ = self.array_types
        if types_ and isinstance(a, types_) and isinstance(b, types_):
            if kind == "MatMult":
                self.check_matmul(a, b)
            else:
                self.check_broadcast(a, b)
        elif kind == "Add":
            if (ta is str or ta is bytes) and tb is ta:  # (bytes: what a checkpoint's pickle may hold)
                self.check_str_len(len(a) + len(b))
                if len(a) + len(b) > _CHUNK:  # (a new string each time: counted toward --max-memory as well)
                    self.check_alloc(len(a) + len(b))
            elif (ta is list or ta is tuple or ta is deque) and tb is ta:
                self.check_length(len(a) + len(b))
                if len(a) + len(b) > _CHUNK:
                    self.check_alloc(8 * (len(a) + len(b)))
            elif (ta is list or ta is deque) and op is operator.iadd:  # list += iterable extends in C
                b = self.materialize(b)
                self.check_length(len(a) + len(b))
            if op is operator.iadd and ta is list:  # (a list the engine holds, extended: the call gate, round 14)
                self.admit_value(b)
        elif kind == "BitOr" and op is operator.ior and ta in _CONTAINERS:  # (d |= {...}: likewise)
            if isinstance(a, dict) and not hasattr(tb, "keys"):  # (d |= pairs updates in C: for ever over repeat())
                b = self.bounded_list(b)
            self.admit_value(b)
        elif kind == "Mult":
            # (isinstance, not `is int`: an IntEnum's members are ints of a script's class, which C multiplies
            # as ints; `"x" * Big.N` skipped every check and built a gigabyte)
            if isinstance(a, int):
                if isinstance(b, int):
                    self.check_int_bits(a.bit_length() + b.bit_length())
                elif tb is str or tb is list or tb is tuple or tb is deque or tb is bytes:
                    self._check_repeat(b, a)
            elif (ta is str or ta is list or ta is tuple or ta is deque or ta is bytes) and isinstance(b, int):
                self._check_repeat(a, b)
        elif kind == "Pow":
            if isinstance(a, int) and isinstance(b, int) and b > 0 and abs(a) > 1:
                self.check_int_bits(math.log2(abs(a)) * b)
        elif kind == "LShift":
            if isinstance(a, int) and isinstance(b, int) and a and b > 0:
                self.check_int_bits(a.bit_length() + b)
        elif kind == "Mod" and ta is str:
            b = self.check_percent(a, b)
        elif kind == "Mod" and (ta is bytes or ta is bytearray):  # (torch.load hands out bytes; % pads them in C)
            raise TypeError("tsr does not format bytes with %")
        return b

    def _check_repeat(self, seq: Any, times: int) -> None:
        n = len(seq) * times
        text = type(seq) is str or type(seq) is bytes
        if text:
            self.check_str_len(n)
        else:
            self.check_length(n)
        if n > _CHUNK:  # (a new value each time: counted toward --max-memory as well)
            self.check_alloc(n if text else 8 * n)

    # ------------------------------------------------------------------------------------------------
    # builtins
    # ------------------------------------------------------------------------------------------------

    def _make_builtins(self) -> dict[str, Any]:
        names: dict[str, Any] = {}
        for name in policy.BUILTIN_FUNCTIONS | policy.BUILTIN_EXCEPTIONS:
            names[name] = getattr(_py, name)
        ours = dict(
            print=self._print, repr=self._repr, format=self._format, sum=self._sum, min=self._min, max=self._max,
            any=self._any, all=self._all, sorted=self._sorted, pow=self._pow, round=self._round,
            getattr=self._getattr, hasattr=self._hasattr, type=self._type, graph=self._graph, show=self._show,
            ascii=self._ascii,
            help=self._help,
            isinstance=self._isinstance, issubclass=self._issubclass, super=self._super, id=self._id, hash=self._hash,
            setattr=self._setattr, delattr=self._delattr,
        )  # fmt: skip
        names.update({name: Builtin(name, fn) for name, fn in ours.items()}, argv=self._argv)
        names.update(exit=Quitter("exit", self._exit), quit=Quitter("quit", self._quit))
        names.update(NotImplemented=NotImplemented, Ellipsis=Ellipsis)
        assert set(names) == (
            policy.BUILTIN_FUNCTIONS | policy.BUILTIN_EXCEPTIONS | policy.TCLI_BUILTINS | policy.BUILTIN_CONSTANTS
        )
        return names

    def _exit(self, code: Any = None) -> None:
        _sys_exit(self)(code)

    def _quit(self, code: Any = None) -> None:
        _sys_exit(self)(code)

    def _print(
        self, *args: Any, sep: Any = " ", end: Any = "\n", file: Any = None, flush: bool = False, **other: Any
    ) -> None:
        if other:  # (Python's own message, not the wrapper's "got an unexpected keyword argument")
            raise TypeError(f"{next(iter(other))!r} is an invalid keyword argument for print()")
        err = False
        if file is not None:
            streams = self._sys_streams()
            if file is streams[1]:
                err = True
            elif file is not streams[0]:
                raise TypeError("print(file=...) in tsr writes to sys.stdout or sys.stderr, not a file")
        if sep is None:
            sep = " "
        elif type(sep) is not str:
            raise TypeError(f"sep must be None or a string, not {tp_name(type(sep))}")
        if end is None:
            end = "\n"
        elif type(end) is not str:
            raise TypeError(f"end must be None or a string, not {tp_name(type(end))}")
        text = self.converting(self._print_text, args, sep, end)
        if err:
            self._write_stderr(text)
            return
        out = self.session.stdout
        if out is not self._tty_stream:
            self._tty_stream = out
            try:
                self._tty = bool(out.isatty())
            except (AttributeError, ValueError):
                self._tty = False
        if self._tty:  # on a terminal a script's text is shown, never obeyed (escape sequences as escapes)
            text = visible_output(text)
        out.write(text)
        if flush:
            out.flush()

    def _print_text(self, args: tuple, sep: str, end: str) -> str:
        """What print writes, within max_str_len before it is joined (one text conversion)."""
        parts = []
        total = len(sep) * max(len(args) - 1, 0)
        for a in args:
            if type(a) is not str:  # (print(loss.item): a tensor method, shown as torch shows it: method_text)
                self.check_repr(a)
                a = self.mask_addresses(str(self.method_text(a)))
            total += len(a)
            self.check_str_len(total)
            parts.append(a)
        return sep.join(parts) + end

    def _write_stderr(self, text: str) -> None:
        """A script's text on standard error, after what it printed so far (shown, never obeyed, on a terminal)."""
        try:
            self.session.stdout.flush()
        except (OSError, ValueError):
            pass
        err = self.session.stderr
        try:
            tty = bool(err.isatty())
        except (AttributeError, ValueError):
            tty = False
        err.write(visible_output(text) if tty else text)

    def _sys_streams(self) -> tuple[ModuleFacade, ModuleFacade]:
        """sys.stdout and sys.stderr: write(str) and flush() onto the session's streams."""
        if self._streams is None:

            def stream(name: str, to_err: bool) -> ModuleFacade:
                def write(text: Any) -> int:
                    if type(text) is not str:
                        raise TypeError(f"write() argument must be str, not {tp_name(type(text))}")
                    if to_err:
                        self._write_stderr(text)
                    else:
                        self._print(text, end="")
                    return len(text)

                def flush() -> None:
                    (self.session.stderr if to_err else self.session.stdout).flush()

                methods = {"write": write, "flush": flush}

                def resolve(attr: str) -> Any:
                    if attr in methods:
                        return methods[attr]
                    raise refusal(f"'{name}' in tsr has write() and flush() only, not '{attr}'")

                return ModuleFacade(name, resolve, lambda: list(methods))

            self._streams = (stream("sys.stdout", False), stream("sys.stderr", True))
        return self._streams

    def _sys_facade(self) -> ModuleFacade:
        """`sys`: argv (the same list as tsr's argv), exit, the standard streams, and constants."""
        values: dict[str, Any] = {
            "argv": self._argv, "exit": _sys_exit(self), "maxsize": sys.maxsize, "version": sys.version,
            "version_info": tuple(sys.version_info), "platform": sys.platform,
            "stdout": self._sys_streams()[0], "stderr": self._sys_streams()[1],
        }  # fmt: skip

        def resolve(attr: str) -> Any:
            if attr in values:
                return values[attr]
            if attr.startswith("_"):
                raise private_attribute_error(attr)
            if hasattr(sys, attr):
                raise refusal(f"'sys.{attr}' is not available in tsr")
            raise AttributeError(f"module 'sys' has no attribute '{attr}'")

        return ModuleFacade("sys", resolve, lambda: list(values))

    def _repr(self, *args: Any, **kwargs: Any) -> str:
        obj = _one_argument("repr", args, kwargs)
        return self.repr_of(obj)

    def repr_of(self, obj: Any) -> str:
        """repr(obj) as a script sees it (the size checked, addresses masked)."""
        if type(obj) is str:
            return repr(obj)
        self.check_repr(obj)
        return self.mask_addresses(self.converting(repr, self.method_text(obj)))

    def _ascii(self, *args: Any, **kwargs: Any) -> str:
        text = self.repr_of(_one_argument("ascii", args, kwargs))
        if not text.isascii():  # (an escape is up to 10 characters: \U0001f600; bounded by the string limit first)
            self.check_str_len(len(text) + 9 * (len(text.encode("utf-8", "surrogatepass")) - len(text)))
            text = text.encode("ascii", "backslashreplace").decode("ascii")
        return text

    def admit_callable(self, fn: Any) -> Any:
        """fn, if a script may run it: the interpreter asks for every function a call runs or is handed (map,
        sorted's key, an engine function that calls it); a C function of a module only if tsr handed it out
        (admit_builtin). Returns fn."""
        if type(fn) is types.BuiltinFunctionType and type(fn.__self__) is types.ModuleType:
            self.admit_builtin(fn)
        return fn

    def admit_class(self, cls: type) -> Any:
        """What to call for cls, if a script may call it (build an instance): the engine's classes and the
        script's own, plain values, exceptions and numpy's scalar types (those through the numpy screen:
        np.float32(x) reads x as numpy's functions do). A raw class that reached a script by another way
        (Python's `type`, numpy's ndarray constructor, tcli's own classes) would build objects tsr never lets a
        script make: `type("X", (), {"__array_interface__": ...})` became a view of any memory (round 11)."""
        call = self._class_calls.get(cls)
        if call is None:
            np = sys.modules.get("numpy")
            ok = not issubclass(cls, type) and (
                cls in _SAFE_CLASSES
                or (_is_engine_type(cls) and not cls.__name__.startswith("_"))
                or _is_script_class(cls)
                or (issubclass(cls, BaseException) and cls.__module__ == "builtins")
                or (np is not None and issubclass(cls, np.generic))
                or cls in self._handed_classes
            )
            if ok and np is not None and issubclass(cls, np.generic):
                call = Checked(cls, None, self, numpy=True)
            else:
                call = cls if ok else False
            self._class_calls[cls] = call
        if call is False:
            raise TypeError(f"the class '{cls.__name__}' cannot be called in tsr")
        return call

    def admit_value(self, value: Any) -> Any:
        """The call gate for a value handed on to code that may call it later (an attribute of a module, an item
        stored in a list the engine holds, what a script's function returns to its caller): a C function or a
        class directly, or anywhere inside the lists, tuples, sets and dicts it is (admit_nested). Returns value."""
        kind = type(value)
        if kind is types.BuiltinFunctionType:
            self.admit_callable(value)
        elif kind is type:
            self.admit_class(value)
        elif kind in _CONTAINERS:
            self.admit_nested(value)
        return value

    def admit_nested(self, container: Any) -> None:
        """The call gate for everything a container holds, at any depth: the engine calls what it finds in lists
        and dicts as it calls an argument (LambdaLR's list of lr_lambdas, checkpoint_sequential's functions, a
        param group or hook table a script filled). Each level is sorted by its items' classes in C first, so a
        list of a million floats costs about 10 ms; a container met twice (one that holds itself) is walked once."""
        # (most containers hold none of these: decided in C, stopping at the first hit)
        if isinstance(container, dict):
            if _GATE_KINDS.isdisjoint(map(type, container.values())) and _GATE_KINDS.isdisjoint(map(type, container)):
                return
        elif _GATE_KINDS.isdisjoint(map(type, container)):
            return
        gated, klass = types.BuiltinFunctionType, type
        seen = {id(container)}
        stack = [container]
        while stack:
            c = stack.pop()
            for items in (c.keys(), c.values()) if isinstance(c, dict) else (c,):
                if _GATE_KINDS.isdisjoint(set(map(type, items))):
                    continue
                for x in items:
                    kind = type(x)
                    if kind is gated:
                        self.admit_callable(x)
                    elif kind is klass:
                        self.admit_class(x)
                    elif kind in _CONTAINERS and id(x) not in seen:
                        seen.add(id(x))
                        stack.append(x)

    def screen_array_data(self, data: Any, *more: Any) -> Any:
        """data, if numpy may build an array from it: numbers, strings, arrays, tensors and lists or tuples of
        them (and dtypes, slices and ..., which numpy's functions take beside data). numpy reads
        `__array_interface__`, `__array__` and `__array_struct__` off any other object (in lists too), and an
        interface the script wrote became a view of any memory (round 12); of a script's own object it calls
        __len__ and __getitem__ from C (round 14). An object array (raw Python references) is refused too.
        Returns data."""
        np = sys.modules["numpy"]
        arrays = (np.ndarray, np.generic)
        tensor = self.tensor_type or arrays
        stack = [data, *more]
        walked: set[int] = set()  # ([[0] * 10**5] * 10**5 holds one inner list 10**5 times: walked once)
        while stack:
            x = stack.pop()
            tp = type(x)
            if tp in _ARRAY_SCALARS:
                continue
            if isinstance(x, (list, tuple)):  # (torch.Size, return types: the engine's tuples)
                if id(x) not in walked:
                    walked.add(id(x))
                    stack.extend(x)
            elif isinstance(x, arrays):
                if x.dtype.hasobject:
                    raise TypeError(_OBJECT_ARRAYS)
            elif not isinstance(x, tensor) and not (_numpy_dtype_like(x, np) or (tp is type and x in _DTYPE_CLASSES)):
                raise TypeError(f"numpy in tsr builds arrays from numbers, sequences, arrays and tensors, not "
                                f"{tp_name(tp)}")  # fmt: skip
        return data

    def screen_numpy_call(self, args: tuple, kwargs: dict) -> None:
        """The arguments of a call into numpy (its functions, an array's or a numpy scalar's methods, a random
        generator's, numpy's scalar types): data as screen_array_data takes it, and no object dtype asked for
        (`a.cumsum(0, "O")` would compute with raw Python objects in C, out of reach of every check)."""
        if not kwargs:
            for a in args:
                if type(a) not in _PLAIN_NUMPY_ARGS:
                    break
            else:
                return  # (numbers and plain strings: a[i] = x, a.sum(0), np.zeros(3))
        self.screen_array_data(args, *kwargs.values())
        dtype = kwargs.get("dtype")
        if dtype is not None and _holds_objects(dtype):
            raise TypeError(_OBJECT_ARRAYS)
        dtype_types = (type, sys.modules["numpy"].dtype)
        for a in args:  # (a string is parsed only where it could name objects: "O", "object", "i4,O")
            if (isinstance(a, dtype_types) or (type(a) is str and ("O" in a or "object" in a))) and _holds_objects(a):
                raise TypeError(_OBJECT_ARRAYS)

    def admit_builtin(self, fn: Any) -> None:
        """A C function of a module may be called only if tsr handed it out: a builtin the script has (len,
        not exec), or one of math's, numpy's or warnings' (the facades). Every escape found so far ended in
        calling os.system or exec, reached through some leaked object: this stops the next one there."""
        ok = self._admitted.get(fn)
        if ok is None:
            name = fn.__self__.__name__
            ok = self._admitted[fn] = (
                name in ("math", "_warnings", "time", "_functools")
                or (name.startswith("numpy.") and any(fn is getattr(sys.modules["numpy"], n, None)
                                                      for n in policy.NUMPY_NAMES))
                or (name == "builtins" and any(fn is v for v in self.builtins.values()))
            )  # fmt: skip
        if not ok:
            raise TypeError(f"{fn.__name__}() of module '{fn.__self__.__name__}' cannot be called in tsr")

    def _id(self, obj: Any) -> int:
        return id(obj) + self._id_key

    def _hash(self, obj: Any) -> int:
        if type(obj).__hash__ is object.__hash__:  # (Python's pointer hash: the address rotated by 4 bits)
            y = self._id(obj)
            h = ((y >> 4) | (y << 60)) & 0xFFFFFFFFFFFFFFFF
            h = h - (1 << 64) if h >> 63 else h
            return -2 if h == -1 else h
        return hash(obj)

    def mask_addresses(self, text: str) -> str:
        """Default reprs (`<Foo object at 0x7f...>`) with the address id() gives, not the real one."""
        if " at 0x" not in text:
            return text
        key = self._id_key
        return _ADDRESS.sub(lambda m: f" at 0x{int(m.group(1), 16) + key:x}>", text)

    def data_ptr(self, method: Callable[[], int]) -> Callable[[], int]:
        """tensor.data_ptr (or a storage's) as a script reads it: the address moved by the session's key
        (equality between views and offsets within a tensor stay true)."""
        key = self._ptr_key

        def data_ptr() -> int:
            return method() + key

        return data_ptr

    def _format(self, *args: Any, **kwargs: Any) -> str:
        if kwargs:
            raise TypeError("format() takes no keyword arguments")
        if not 1 <= len(args) <= 2:  # (Python's messages for its positional-only format(value, format_spec=''))
            raise TypeError(
                f"format expected at {'least 1 argument' if not args else 'most 2 arguments'}, got {len(args)}"
            )
        return self.format_value(args[0], args[1] if len(args) == 2 else "", -1)

    def _method_name(self, m: types.MethodType) -> str:
        """The name a tensor's class binds method m to (a shared helper such as _sum_method shows as sum)."""
        name = self._method_names.get(m.__func__)
        if name is None:
            cls = type(m.__self__)
            name = m.__func__.__name__
            if getattr(cls, name, None) is not m.__func__:
                name = next((k for k in dir(cls) if getattr(cls, k, None) is m.__func__), name)
            self._method_names[m.__func__] = name
        return name

    def _str(self, *args: Any, **kwargs: Any) -> str:
        if len(args) == 1 and not kwargs:
            if type(args[0]) is not str:
                self.check_repr(args[0])
                return self.mask_addresses(self.converting(str, self.method_text(args[0])))
        return str(*args, **kwargs)

    def _mapping(self, cls: type) -> Callable:
        """OrderedDict(...) / Counter(...): an iterable argument is read within the sequence limit first."""

        def make(*args: Any, **kwargs: Any) -> Any:
            if len(args) == 1 and not isinstance(args[0], dict):
                args = (self.bounded_list(args[0]),)
            return cls(*args, **kwargs)

        return make

    def _deque(self, *args: Any, **kwargs: Any) -> deque:
        """deque(iterable, maxlen): the iterable read within the sequence limit first (deque reads it in C)."""
        if args:
            args = (self.bounded_list(args[0]), *args[1:])
        elif "iterable" in kwargs:
            kwargs["iterable"] = self.bounded_list(kwargs["iterable"])
        return deque(*args, **kwargs)

    def _defaultdict(self, *args: Any, **kwargs: Any) -> defaultdict:
        if len(args) == 2 and not isinstance(args[1], dict):
            args = (args[0], self.bounded_list(args[1]))
        return defaultdict(*args, **kwargs)

    def as_called(self, fn: Any) -> Any:
        """What code that calls `fn` later, in C (map, filter, a sort key, functools.partial ...), is handed: a
        collection class's checked constructor in place of the class, anything else as it is."""
        if fn.__class__ is type:
            return self._called_as.get(fn, fn)
        return fn

    def _list(self, *args: Any) -> list:
        return list(self.bounded_list(args[0])) if len(args) == 1 else list(*args)

    def _tuple(self, *args: Any) -> tuple:
        return tuple(self.bounded_list(args[0])) if len(args) == 1 else tuple(*args)

    def _set(self, *args: Any) -> set:
        return set(self.bounded_list(args[0])) if len(args) == 1 else set(*args)

    def _frozenset(self, *args: Any) -> frozenset:
        return frozenset(self.bounded_list(args[0])) if len(args) == 1 else frozenset(*args)

    def _dict(self, *args: Any, **kwargs: Any) -> dict:
        if len(args) == 1 and not hasattr(type(args[0]), "keys"):
            args = (self.bounded_list(args[0]),)
        return dict(*args, **kwargs)

    def _sum(self, iterable: Any, /, start: Any = 0) -> Any:
        if isinstance(start, str):
            raise TypeError("sum() can't sum strings [use ''.join(seq) instead]")
        add = self.binary_operators[operator.add]
        total = start
        for block in self.chunks(iterable):
            if type(total) in _NUMBERS and all(type(x) in _NUMBERS for x in block):
                total = _py.sum(block, total)
            else:
                for x in block:
                    total = add(total, x)
        return total

    def _extreme(self, pick: Callable, args: tuple, kwargs: dict) -> Any:
        if len(args) != 1:
            return pick(*args, **kwargs)
        key = kwargs.get("key")
        best = _MISSING
        for block in self.chunks(args[0]):
            if best is not _MISSING:
                block.insert(0, best)  # ties keep the first item, as in Python
            best = pick(block, key=self.as_called(key))
        if best is _MISSING:
            return pick((), **kwargs)
        return best

    def _min(self, *args: Any, **kwargs: Any) -> Any:
        return self._extreme(min, args, kwargs)

    def _max(self, *args: Any, **kwargs: Any) -> Any:
        return self._extreme(max, args, kwargs)

    def _any(self, iterable: Any, /) -> bool:
        # item by item, so a generator stops at the answer (its later side effects never happen)
        n = 0
        for x in iterable:
            if x:
                return True
            n += 1
            if n == _CHUNK:
                n = 0
                self._tick_deadline()
        return False

    def _all(self, iterable: Any, /) -> bool:
        n = 0
        for x in iterable:
            if not x:
                return False
            n += 1
            if n == _CHUNK:
                n = 0
                self._tick_deadline()
        return True

    def _sorted(self, iterable: Any, /, *, key: Any = None, reverse: bool = False) -> list:
        return sorted(self.bounded_list(iterable), key=self.as_called(key), reverse=reverse)

    def _pow(self, base: Any, exp: Any, mod: Any = None) -> Any:
        if mod is None:
            return self.binary_operators[operator.pow](base, exp)
        return pow(base, exp, mod)

    def _round(self, number: Any, ndigits: Any = None) -> Any:
        if ndigits is None:
            return round(number)
        if isinstance(number, int) and isinstance(ndigits, int) and -ndigits > len(str(abs(number))) + 1:
            return 0  # Python would build 10**-ndigits first
        return round(number, ndigits)

    @staticmethod
    def cause_of(obj: Any) -> BaseException | None:
        """`e.__cause__`: what `raise ... from c` set on an exception (None, or an exception)."""
        if not isinstance(obj, BaseException):
            raise AttributeError(f"'{tp_name(type(obj))}' object has no attribute '__cause__'")
        cause = obj.__cause__
        return cause if isinstance(cause, BaseException) else None

    def name_of(self, obj: Any) -> str:
        """`x.__name__`, the one dunder attribute scripts may read: the name of a class, a function or a
        module, as Python gives it (`type(e).__name__` is 'RuntimeError'). Never anything but a str."""
        tp = type(obj)
        if tp is OpaqueType:
            return obj.short
        if tp is ModuleFacade:
            return obj.name
        if tp is CheckedClass:  # (np.ndarray as scripts see it)
            return obj.cls.__name__
        if tp.__qualname__ == "Function" and tp.__module__ == "tcli.interpreter":  # a function the script defined
            return obj.name
        if tp is types.MethodType and getattr(obj, "__self__", None) is self:  # a builtin such as print
            return obj.__func__.__name__.lstrip("_")
        if isinstance(obj, type) or callable(obj):
            name = getattr(obj, "__name__", None)
            if type(name) is str:
                return name
        what = f"type object '{obj.__name__}'" if isinstance(obj, type) else f"'{tp.__name__}' object"
        raise AttributeError(f"{what} has no attribute '__name__'")

    def version_counter_of(self, obj: Any) -> int:
        """`t._version` of a tensor: how many in-place changes its memory has seen (an int, read-only)."""
        if self.tensor_type is not None and isinstance(obj, self.tensor_type):
            return int(obj._version)
        raise private_attribute_error("_version")

    def forward_pre_hooks_of(self, obj: Any) -> Any:
        """`module._forward_pre_hooks`: a copy of the module's hooks by id (printing it, finding a pruning hook
        in its values), so that a script changes hooks only through register_forward_pre_hook and handles."""
        from engine.nn.module import Module

        if isinstance(obj, Module):
            from engine.nn.utils.prune import BasePruningMethod

            # the hooks a script may hold: pruning methods and its own functions; the engine's other hooks
            # (a lazy module's _infer_parameters swaps any object's class, round 13) show as an opaque stand-in
            return OrderedDict(
                (k, h if isinstance(h, BasePruningMethod) or type(h).__module__ == "tcli.interpreter" else _Hook(h))
                for k, h in obj.__dict__["_forward_pre_hooks"].items()
            )
        return self._own_private(obj, "_forward_pre_hooks")

    def pruned_name_of(self, obj: Any) -> Any:
        """`method._tensor_name` of a pruning method: the name of the tensor it prunes (a string)."""
        from engine.nn.utils.prune import BasePruningMethod

        if isinstance(obj, BasePruningMethod):
            name = obj.__dict__.get("_tensor_name")
            if type(name) is str:
                return name
        return self._own_private(obj, "_tensor_name")

    def compiled_module_of(self, obj: Any) -> Any:
        """`compiled._orig_mod` of what torch.compile returned for a module: that module."""
        from engine.compile import OptimizedModule

        if type(obj) is OptimizedModule:
            return obj._modules["_orig_mod"]
        return self._own_private(obj, "_orig_mod")

    def _sparse_method(self, name: str) -> Callable[[Any], Any]:
        """The reader of a sparse tensor's `_indices`, `_values`, `_nnz` (engine/sparse_tensor.py): its bound
        method; on another object, a private name as any other."""

        def read(obj: Any) -> Any:
            from engine.sparse_tensor import SparseTensor

            if isinstance(obj, SparseTensor):
                return getattr(obj, name)
            return self._own_private(obj, name)

        return read

    def read_private(self, obj: Any, name: str) -> Any:
        """`obj._name` in a script: an autograd node's saved fields (`y.grad_fn._saved_self`, tensors and sizes
        only, read through the engine's table, never a raw attribute), else a private name of the script's own
        object (check_private)."""
        if name[:7] == "_saved_" and self.engine is not None and isinstance(obj, self.engine.autograd.Node):
            from engine.autograd_graph import saved_field

            return saved_field(obj, name)
        self.check_private(obj, name)
        return getattr(obj, name)

    def _own_private(self, obj: Any, name: str) -> Any:
        """A private name read from the script's own object, as any other private name is."""
        self.check_private(obj, name)
        return getattr(obj, name)

    def version_of(self, obj: Any) -> str:
        """`module.__version__` for the modules scripts import: torch (the engine's), torch.version and numpy."""
        if type(obj) is ModuleFacade:
            source = {"torch": "engine", "torch.version": "engine.version", "numpy": "numpy"}.get(obj.name)
            if source is not None:
                return str(sys.modules[source].__version__)
            raise AttributeError(f"module '{obj.name}' has no attribute '__version__'")
        raise AttributeError(f"'{tp_name(type(obj))}' object has no attribute '__version__'")

    def _getattr(self, obj: Any, name: Any, *default: Any) -> Any:
        if type(name) is not str:
            raise TypeError("attribute name must be string, not " + repr(tp_name(type(name))))
        if name.startswith("_") and name != "__name__":
            raise private_attribute_error(name)
        try:
            return self.interp.get_attribute(obj, name)
        except AttributeError as e:
            if default:
                return default[0]
            if e.__class__ is AttributeError:
                note_lookup(e, "attribute", obj, name)  # (Python suggests for getattr's misspellings too)
            raise

    def _setattr(self, obj: Any, name: Any, value: Any) -> None:
        """setattr(obj, name, value): `obj.name = value` with the name a string (a loop that adds
        self.layer0, self.layer1 ...), under the same rules."""
        if type(name) is not str:
            raise TypeError(f"attribute name must be string, not '{tp_name(type(name))}'")
        self.set_attribute(obj, name, value)

    def _delattr(self, obj: Any, name: Any) -> None:
        if type(name) is not str:
            raise TypeError(f"attribute name must be string, not '{tp_name(type(name))}'")
        self.delete_attribute(obj, name)

    def _hasattr(self, obj: Any, name: Any) -> bool:
        if type(name) is not str:
            raise TypeError("attribute name must be string, not " + repr(tp_name(type(name))))
        if name in policy.CLASS_SPECIAL_METHODS:
            # `hasattr(x, "__len__")` (duck typing): whether its class defines that protocol method (one a script's
            # class may define), looked up without running anything; other private names stay False
            for k in (*obj.__mro__, *type(obj).__mro__) if isinstance(obj, type) else type(obj).__mro__:
                if name in vars(k):
                    return True
            return False
        if name.startswith("_"):
            return False
        try:
            self.interp.get_attribute(obj, name)
        except AttributeError:
            return False
        return True

    def _real_class(self, c: Any) -> Any:
        """A class (or tuple of them) as a script names it, as Python's isinstance takes it: tsr's `type` is a
        function (one argument only), and as a class to test against it is Python's type."""
        if c is self.builtins["type"]:
            return type
        if type(c) is CheckedClass:
            return c.cls
        return tuple(self._real_class(x) for x in c) if type(c) is tuple else c

    def _isinstance(self, obj: Any, classinfo: Any, /) -> bool:
        return isinstance(obj, self._real_class(classinfo))

    def _issubclass(self, cls: Any, classinfo: Any, /) -> bool:
        return issubclass(self._real_class(cls), self._real_class(classinfo))

    def _super(self, *args: Any) -> Any:
        if not args:
            from tcli.interpreter import super_of

            return super_of(self.interp.frame)
        if len(args) == 1 and _is_script_class(args[0]):
            return _UnboundSuper()  # super(Cls).__init__(): PyTorch's IterableDataset examples write it
        # an instance of that class only: super(X, X) would hand out the bases' functions unbound, which then
        # work on the class itself (Module.set_submodule(X, "__setstate__", m) set a dunder on X, round 12)
        cls, obj = args if len(args) == 2 else (None, None)
        if not _is_script_class(cls) or isinstance(obj, type) or not isinstance(obj, cls):
            raise TypeError("super() in tsr takes no arguments, or a class the script defined and an instance of it")
        return super(*args)

    @staticmethod
    def is_super(obj: Any) -> bool:
        return type(obj) is super or type(obj) is _UnboundSuper

    def class_bases(self) -> tuple[type, ...]:
        """What every class a script defines derives from (policy.CLASS_BASES_TEXT): objects the engine
        already shows in full, which a script's methods extend (forward, __getitem__, step, get_lr)."""
        self.load_engine()
        from engine.autograd_function import Function
        from engine.nn.module import Module
        from engine.nn.utils.prune import BasePruningMethod
        from engine.optim.lr_scheduler import LRScheduler
        from engine.optim.optimizer import Optimizer
        from engine.utils.data import Dataset, Sampler

        return (Module, Function, Dataset, Sampler, Optimizer, LRScheduler, BasePruningMethod, *self._stdlib_bases)

    def add_class_base(self, cls: type) -> None:
        """A class of tcli's own (enum.Enum, abc.ABC) that a script's class may derive from, once imported."""
        if cls not in self._stdlib_bases:
            self._stdlib_bases += (cls,)

    def _type_before_parametrizations(self, parametrize: Any) -> Callable[[Any], Any]:
        def type_before_parametrizations(module: Any) -> Any:
            # a parametrized instance only: given a class with a `parametrizations` attribute, torch's answer is
            # the class's metaclass, which builds classes as `type` does (round 12)
            if not isinstance(module, type) and parametrize.is_parametrized(module):
                return parametrize.type_before_parametrizations(module)
            return self._type(module)  # (what type() shows a script)

        return type_before_parametrizations

    def _type(self, obj: Any, *more: Any) -> Any:
        if more:
            raise TypeError("type() takes 1 argument in tsr (scripts cannot create classes)")
        tp = type(obj)
        if issubclass(tp, type):
            # a metaclass (the engine's, for Module, Tensor, Function ...) is never handed out: calling it would
            # build a class with any base and namespace. Python shows type for these classes' type.
            return self._opaque_type(type)
        if self.tensor_type is not None and isinstance(obj, self.tensor_type):
            # every tensor is a torch.Tensor (a pending fused one included); a Parameter shows as one
            return tp if tp.__name__ == "Parameter" else self.tensor_type
        if self.ndarray_class is not None and tp is self.ndarray_class.cls:
            return self.ndarray_class
        np = sys.modules.get("numpy")
        if np is not None and issubclass(tp, np.void):  # (np.void(8, dtype=[('a', 'O')]) holds objects)
            return self._opaque_type(tp)
        if _is_node_type(tp):  # (torch's nodes cannot be built from Python either); shown as torch shows it
            opaque = self._opaque_type(tp, f"cannot create '{tp.__name__}' instances")
            opaque.name = repr(tp)[len("<class '") : -len("'>")]
            opaque.short = tp.__name__
            return opaque
        if _is_engine_type(tp) and tp.__name__.startswith("_"):  # the engine's internal classes (_Geo, _Out)
            return self._opaque_type(tp)
        if tp is types.MethodType or tp is types.FunctionType or tp is Checked:
            c_type = self._c_callable_type(obj)
            if c_type is not None:  # (torch's C functions and tensor methods: builtin_function_or_method)
                return self._opaque_type(c_type)
            if tp is Checked:  # (a sized Python-level one, x.split: its own kind, not the wrapper's)
                return self._type(obj.fn)
        if tp in _SAFE_CLASSES or _is_module_type(tp) or _is_numpy_value_type(tp):
            return tp
        if issubclass(tp, BaseException) and tp.__module__ == "builtins":
            return tp
        return self._opaque_type(tp)

    def _c_callable_type(self, obj: Any) -> type | None:
        """The class torch's object has where torch writes it in C: a tensor's method (x.size) and torch.zeros are
        builtin_function_or_method, torch.Tensor.add a method_descriptor; None for a Python function's."""
        fn = obj.fn if type(obj) is Checked else obj
        if type(fn) is types.MethodType:
            from engine.tensor import PYTHON_LEVEL_METHODS

            owners, python_level = self._c_method_owners, PYTHON_LEVEL_METHODS | _PRIVATE
            if owners and isinstance(fn.__self__, owners) and self._method_name(fn) not in python_level:
                return types.BuiltinMethodType
            return None
        text = self._c_function_text(fn)
        if text is None:
            return None
        if text.startswith("<built-in "):
            return types.BuiltinFunctionType
        return types.MethodDescriptorType if text.startswith("<method ") else None

    def _opaque_type(self, tp: type, refusal: str | None = None) -> OpaqueType:
        opaque = self._opaque.get(tp)
        if opaque is None:
            name = {"Function": "function", "GeneratorFunction": "function", "ModuleFacade": "module"}.get(
                tp.__name__, tp.__name__
            )
            opaque = self._opaque[tp] = OpaqueType(name, refusal)
            if tp.__module__ == "numpy":  # (numpy's own classes print with their module: <class 'numpy.ufunc'>)
                opaque.name = f"numpy.{name}"
                opaque.short = name
        return opaque

    def _graph(self, *args: Any, **kwargs: Any) -> None:
        tensor = _one_argument("graph", args, kwargs)
        if self.tensor_type is None or not isinstance(tensor, self.tensor_type):
            raise TypeError(f"graph() takes a tensor, not {tp_name(type(tensor))}")
        self.session.show_graph(tensor)

    def _help(self, *args: Any, **kwargs: Any) -> None:
        if not args and not kwargs:
            self.session.show_help(None, True)
            return
        self.session.show_help(_one_argument("help", args, kwargs))

    def _show(self, *args: Any, **kwargs: Any) -> None:
        value = _one_argument("show", args, kwargs)
        if self.tensor_type is None or not isinstance(value, self.tensor_type):
            self.check_repr(value)  # any other value is shown by its repr, within the printing limit
        self.session.show_tensor(value)

    # ------------------------------------------------------------------------------------------------
    # attributes
    # ------------------------------------------------------------------------------------------------

    def attribute_rule(self, tp: type) -> Callable[[Any, str], Any]:
        """The reader of attributes of values of type `tp` (cached by the interpreter per type)."""
        if tp is ModuleFacade:
            return ModuleFacade.get
        plain = _PLAIN_TYPES.get(tp)
        if plain is not None:
            return self._allow(policy.PLAIN_ATTRIBUTES[plain], self._overrides.get(plain, {}))
        if issubclass(tp, type):
            return self._class_attribute
        if issubclass(tp, BaseException) and _is_script_class(tp):  # (a script's own exception: its attributes)
            prefix = policy.EXCEPTION_TAG_PREFIX

            def read_own_exception(obj: Any, name: str) -> Any:
                if name.startswith(prefix):
                    raise refusal(exception_tag_message(name))
                return getattr(obj, name)

            return read_own_exception
        if issubclass(tp, BaseException):
            allowed, mask = policy.EXCEPTION_ATTRIBUTES, self.mask_addresses

            def read_exception(obj: Any, name: str) -> Any:
                if name not in allowed:
                    raise _refused(obj, name)
                value = getattr(obj, name)
                if name == "args":  # (a message may quote a default repr: masked as str(e) is)
                    value = tuple(mask(a) if type(a) is str else _exception_arg(a, mask) for a in value)
                elif type(value) is not str:  # (StopIteration.value: what a generator returned)
                    value = _exception_arg(value, mask)
                return value

            return read_exception
        if _is_module_type(tp):  # tensors included; their sized methods are wrapped by sized_attribute
            if _is_script_class(tp) and any(k in _PLAIN_TYPES for k in tp.__mro__):  # (an IntEnum's members)

                def read_script_value(obj: Any, name: str) -> Any:
                    if _builtin_owned(tp, name):
                        raise _refused(obj, name)
                    return getattr(obj, name)

                return read_script_value
            hidden = policy.HIDDEN_ENGINE_ATTRIBUTES.get((tp.__module__, tp.__qualname__))
            if _is_node_type(tp):
                hidden = policy.HIDDEN_NODE_ATTRIBUTES
            if hidden is not None:

                def read(obj: Any, name: str) -> Any:
                    if name in hidden:
                        raise _refused(obj, name)
                    return getattr(obj, name)

                return read
            return getattr
        if tp is super or tp is _UnboundSuper:  # super().__init__(...) and the base class's public methods
            return self._super_attribute
        io_facade = sys.modules.get("tcli.stdlib_io")
        if io_facade is not None and tp is io_facade.BytesIO:
            return self._allow(policy.BYTESIO_ATTRIBUTES, {})
        if io_facade is not None and tp is io_facade._Buffer:
            return self._allow(policy.BUFFER_ATTRIBUTES, {})
        np = sys.modules.get("numpy")
        if np is not None:
            # (every method of numpy's values goes through the numpy screen: Checked(..., numpy=True))
            if issubclass(tp, np.ndarray):
                return self._allow(policy.NDARRAY_ATTRIBUTES, {}, policy.NDARRAY_SIZE_RULES, numpy=True)
            if issubclass(tp, np.generic):
                return self._allow(policy.NUMPY_SCALAR_ATTRIBUTES, {}, numpy=True)
            if issubclass(tp, np.dtype):
                return self._allow(policy.NUMPY_DTYPE_ATTRIBUTES, {}, numpy=True)
            if issubclass(tp, np.random.Generator):
                return self._allow(policy.NUMPY_GENERATOR_ATTRIBUTES, {}, policy.NUMPY_SIZE_RULES, numpy=True)
        return self._allow(frozenset(), {})

    def _allow(
        self, allowed: frozenset[str], overrides: dict[str, Callable], sized: dict | None = None, numpy: bool = False
    ) -> Callable:
        sized = sized or {}

        def read(obj: Any, name: str) -> Any:
            if name in allowed:
                override = overrides.get(name)
                if override is not None:
                    return types.MethodType(override, obj)
                value = getattr(obj, name)
                rule = sized.get(name)
                if rule is not None or (numpy and callable(value)):
                    return Checked(value, rule, self, obj, numpy=numpy)
                return value
            raise _refused(obj, name)

        return read

    def autograd_attribute(self, obj: Any, name: str, value: Any) -> Any:
        """A tensor's requires_grad, grad_fn or is_leaf as torch shows it: of a forward-AD dual tensor whose graph
        torch does not have, False, None and True (engine/forward_ad.shown_attribute)."""
        fwd = sys.modules.get("engine.forward_ad")
        if fwd is None or not fwd._ANY_HIDDEN[0]:
            return value
        return fwd.shown_attribute(obj, name, value)

    def sized_attribute(self, obj: Any, name: str, value: Any) -> Any:
        """A tensor method such as .repeat or .expand, wrapped to check its allocation first."""
        if name in policy.ADDRESS_METHODS and callable(value):  # (tensors and storages)
            return self.data_ptr(value)
        if self.tensor_type is not None and isinstance(obj, self.tensor_type):
            rule = policy.TENSOR_METHOD_SIZE_RULES.get(name)
            if rule is not None and callable(value):
                return Checked(value, rule, self, obj)
        return value

    @staticmethod
    def _super_attribute(obj: Any, name: str) -> Any:
        if name.startswith("_") and name not in policy.CLASS_SPECIAL_METHODS:
            raise _refused(obj, name)
        return getattr(obj, name)

    def _class_attribute(self, cls: Any, name: str) -> Any:
        plain = _PLAIN_TYPES.get(cls)
        if plain is not None and name in policy.PLAIN_ATTRIBUTES[plain]:
            override = self._overrides.get(plain, {}).get(name)
            if override is not None and name == "fromkeys":  # (the one class method among them)
                return types.MethodType(override, cls)
            return override if override is not None else getattr(cls, name)
        if (
            _is_module_type(cls) and any(name in vars(k) for k in cls.__mro__ if k is not object)
            and not _builtin_owned(cls, name)
        ):  # fmt: skip
            hidden = policy.HIDDEN_ENGINE_ATTRIBUTES.get((cls.__module__, cls.__qualname__), ())
            if name in hidden or (_is_node_type(cls) and name in policy.HIDDEN_NODE_ATTRIBUTES):
                raise _refused(cls, name)  # (read off the class as off an instance: Node.apply(grad_fn, g))
            value = getattr(cls, name)
            if type(value) is types.FunctionType and not isinstance(_static_attribute(cls, name), staticmethod):
                if value in _SCRIPT_METHODS:  # (a script's own method runs its code on any self, as Python's does)
                    return value
                return _unbound_method(cls, name, value)
            return value
        if cls is itertools.chain and name == "from_iterable":
            return _chain_from_iterable
        raise _refused(cls, name)

    def set_attribute(self, obj: Any, name: str, value: Any) -> None:
        if type(obj) is ModuleFacade and name in policy.SETTABLE_FLAGS.get(obj.name, ()):
            # a backend flag (torch.backends.cudnn.deterministic): set on the engine's module, read afresh
            module = importlib.import_module("engine." + obj.name[len("torch.") :])
            setattr(module, name, value)
            obj.cache.pop(name, None)
            return
        self._check_settable(obj, name)
        if name[:1] == "_" and not isinstance(obj, type):  # (checked above: a new name, or one it set before)
            d = getattr(obj, "__dict__", None)
            if d is not None and name not in d.get(_OWNED, ()):
                d[_OWNED] = d.get(_OWNED, frozenset()) | {name}
        # what engine code calls later (a module's forward, extra_repr, a loader's collate_fn) passes the call
        # gate here, as a script's own call would: the engine calls it without asking (round 12)
        if isinstance(value, type):
            self.admit_class(value)
        else:  # (and in the containers it is: sched.lr_lambdas = [f], round 14)
            self.admit_value(value)
        setattr(obj, name, value)

    def delete_attribute(self, obj: Any, name: str) -> None:
        self._check_settable(obj, name)
        delattr(obj, name)

    def check_registered_name(self, module: Any, name: str) -> None:
        """A new parameter, buffer or submodule name (register_buffer, add_module, a ModuleDict's key,
        set_submodule, register_parametrization's): no private name the engine or Python reads as its own, a
        special name, a tensor's or node's field, a name the module's engine classes define or Module's
        bookkeeping uses. Module.__getattr__ hands out what is registered under any name, so such a name made a
        module pose as something else (`m.register_buffer("_data", t)`: a tensor, to the engine's duck typing,
        round 14). The script's own private names (`self.register_buffer("_mask", m)`) stay allowed. Torch's
        own refusals (a '.', an empty name, an attribute that exists) come first, from the engine."""
        if name[:1] == "_" and (
            name[:2] == "__" or name in policy.ENGINE_FIELDS or name in policy.READABLE_UNDERSCORED
            or self.engine_name(type(module), name)
        ):  # fmt: skip
            raise KeyError(
                f"'{name}' cannot name a parameter, buffer or submodule in tsr: tcli's engine or Python reads that "
                "name as its own (rename it, e.g. without the leading '_')"
            )

    def check_private(self, obj: Any, name: str) -> None:
        """AttributeError unless `name` (a leading underscore) is one a script's own class owns: a method or class
        attribute it defined, or an attribute its code set on an instance, never one the engine's classes or
        Module's own bookkeeping use (self._modules, self._call_impl, t._data stay out of reach)."""
        cls = obj if isinstance(obj, type) else type(obj)
        # (the readable dunders have their own readers, prelude.dunders: none of them is read raw here)
        if name.startswith("__") or not _is_script_class(cls) or self.engine_name(cls, name):
            raise private_attribute_error(name)
        if cls is obj and any(name in vars(k) for k in type(cls).__mro__):  # (its metaclass's: EnumType._lookup)
            raise private_attribute_error(name)
        check_own_name(name)
        d = None if cls is obj else getattr(obj, "__dict__", None)
        # an instance field the engine's __init__ set (an RNN's _all_weights) is the engine's, not the script's:
        # only the private names the script's own code set on this object are its own (round 13)
        if d is not None and name in d and name not in d.get(_OWNED, ()):
            raise private_attribute_error(name)

    def engine_name(self, cls: type, name: str) -> bool:
        """Whether the engine's side of `cls` (its non-script bases, and what Module.__init__ sets on an
        instance) has `name`."""
        for k in cls.__mro__:
            if k in _SCRIPT_CLASSES or name not in vars(k):
                continue
            # a Parametrized... class over a script's class: its properties are the script's own tensors
            # (self._w, parametrized), its other names (_torch_name) the engine's
            if type(vars(k)[name]) is property and _is_script_class(k):
                continue
            return True
        if self._module_internals is None:
            bases = self.class_bases()
            self._module_internals = frozenset(vars(bases[0]()))
        return name in self._module_internals

    def _check_settable(self, obj: Any, name: str) -> None:
        if isinstance(obj, BaseException) and name.startswith(policy.EXCEPTION_TAG_PREFIX):
            raise refusal(exception_tag_message(name))
        if name.startswith("_"):
            if name in policy.READABLE_UNDERSCORED:  # (read-only: t._version, __name__)
                raise private_attribute_error(name)
            self.check_private(obj, name)
        if type(obj) is ModuleFacade:
            raise AttributeError(f"module '{obj.name}' is read-only in tsr (cannot set '{name}')")
        if self.engine is not None and type(obj) is self._matmul_settings():
            if name in policy.SETTABLE_FLAGS["torch.backends.cuda.matmul"]:
                return
            raise AttributeError(f"'torch.backends.cuda.matmul' has no setting '{name}' a script may assign")
        if self.tensor_type is not None and isinstance(obj, self.tensor_type):
            if name in policy.TENSOR_SETTABLE:
                return
            allowed = ", ".join(f".{n}" for n in sorted(policy.TENSOR_SETTABLE))
            raise AttributeError(f"tensor attribute '{name}' cannot be assigned in tsr (only {allowed})")
        if self.engine is not None and not isinstance(obj, type) and isinstance(obj, self._settable_types()):
            return
        if not isinstance(obj, type) and _is_script_class(type(obj)):  # an instance of the script's own class
            return
        if isinstance(obj, type) and _is_script_class(obj):  # a class attribute of the script's own class
            return
        what = f"'{tp_name(obj)}'" if isinstance(obj, type) else f"'{tp_name(type(obj))}' object"
        raise AttributeError(
            f"{what} attributes cannot be assigned in tsr (only tensors' .grad, .requires_grad, .data, .real, "
            ".imag and the attributes of the script's own objects, nn.Module, optimizer, scheduler, dataset and "
            "DataLoader objects and a custom Function's ctx)"
        )

    @staticmethod
    def _matmul_settings() -> type:
        from engine.backends.cuda import cuBLASModule

        return cuBLASModule

    def _settable_types(self) -> tuple[type, ...]:
        """Objects a script may set attributes on, each its own (never a shared one such as a dtype, whose fields
        the size checks read): nn.Module objects, a custom Function's ctx (`ctx.k = k` in forward), datasets,
        samplers, data loaders, optimizers and lr schedulers (`scheduler.last_epoch = start` to resume).
        Found once, on first use."""
        if self._settable is None:
            from engine.autograd_function import FunctionCtx
            from engine.nn.module import Module
            from engine.optim.lr_scheduler import LRScheduler
            from engine.optim.optimizer import Optimizer
            from engine.utils.data import DataLoader, Dataset, Sampler

            self._settable = (Module, FunctionCtx, Dataset, Sampler, DataLoader, Optimizer, LRScheduler)
        return self._settable

    def _make_overrides(self) -> dict[str, dict[str, Callable]]:
        """Methods of plain values replaced by checked versions (used for `s.join` and `str.join` alike)."""
        p = self

        def fmt(self_: str, *args: Any, **kwargs: Any) -> str:
            if type(self_) is not str:
                raise TypeError("descriptor 'format' for 'str' objects doesn't apply to a non-str object")
            return p.safe_format(self_, args, kwargs)

        def padded(name: str) -> Callable:
            method = getattr(str, name)

            def pad(self_: str, width: Any, *rest: Any) -> str:
                if isinstance(width, int):
                    p.check_str_len(width)
                return method(self_, width, *rest)

            return pad

        def expandtabs(self_: str, tabsize: int = 8) -> str:
            if isinstance(tabsize, int) and tabsize > 1:
                p.check_str_len(len(self_) + self_.count("\t") * tabsize)
            return str.expandtabs(self_, tabsize)

        def replace(self_: str, old: str, new: str, count: int = -1) -> str:
            if type(self_) is str and type(old) is str and type(new) is str and len(new) > len(old):
                n = self_.count(old) if old else len(self_) + 1
                if isinstance(count, int) and count >= 0:
                    n = min(n, count)
                p.check_str_len(len(self_) + n * (len(new) - len(old)))
            return str.replace(self_, old, new, count)

        def join(self_: str, iterable: Any) -> str:
            items = p.materialize(iterable)
            total = len(self_) * max(len(items) - 1, 0) + _py.sum(len(x) for x in items if type(x) is str)
            p.check_str_len(total)
            return str.join(self_, items)

        def extend(self_: list, iterable: Any) -> None:
            items = p.materialize(iterable)
            p.check_length(len(self_) + len(items))
            list.extend(self_, items)

        def deque_extend(name: str) -> Callable:
            method = getattr(deque, name)

            def call(self_: deque, iterable: Any) -> None:
                items = p.materialize(iterable)  # (deque reads an iterable in C: for ever over repeat())
                p.check_length(len(self_) + len(items))
                method(self_, items)

            return call

        def sort(self_: list, *, key: Any = None, reverse: bool = False) -> None:
            list.sort(self_, key=p.as_called(key), reverse=reverse)

        def count_update(self_: Counter, *args: Any, **kwargs: Any) -> None:
            # (Counter counts an iterable in C, _count_elements: for ever over itertools.repeat(1))
            if len(args) == 1 and not hasattr(type(args[0]), "keys"):
                args = (p.bounded_list(args[0]),)
            Counter.update(self_, *args, **kwargs)

        def update(self_: dict, *args: Any, **kwargs: Any) -> None:
            if len(args) == 1 and not hasattr(type(args[0]), "keys"):
                args = (p.bounded_list(args[0]),)
            dict.update(self_, *args, **kwargs)

        def fromkeys(owner: Any, iterable: Any, value: Any = None) -> dict:
            # a class method: bound to the class (dict.fromkeys) or to an instance (d.fromkeys), as Python's
            cls = owner if isinstance(owner, type) else type(owner)
            return cls.fromkeys(p.bounded_list(iterable), value)

        def set_method(cls: type, name: str) -> Callable:
            method = getattr(cls, name)

            def call(self_: Any, *others: Any) -> Any:
                return method(self_, *[p.materialize(o) for o in others])

            return call

        str_methods = {"format": fmt, "expandtabs": expandtabs, "replace": replace, "join": join}
        str_methods.update({n: padded(n) for n in ("center", "ljust", "rjust", "zfill")})
        set_names = policy.PLAIN_ATTRIBUTES["set"] - {"add", "clear", "copy", "discard", "pop", "remove"}
        overrides = {
            "str": str_methods,
            "list": {"extend": extend, "sort": sort},
            "Counter": {"update": count_update},
            "Random": _random_methods(p),
            "deque": {"extend": deque_extend("extend"), "extendleft": deque_extend("extendleft")},
            "dict": {"update": update, "fromkeys": fromkeys},
            "OrderedDict": {"fromkeys": fromkeys},
            "set": {n: set_method(set, n) for n in set_names},
            "frozenset": {n: set_method(frozenset, n) for n in policy.PLAIN_ATTRIBUTES["frozenset"] - {"copy"}},
        }
        for methods in overrides.values():
            _named(methods)
        return overrides

    def safe_format(self, template: str, args: tuple, kwargs: dict) -> str:
        """str.format where a field is a position or a keyword only: no `.attr` or `[key]` lookups."""
        return self._vformat(template, args, kwargs, 2, [0])

    def _vformat(self, template: str, args: tuple, kwargs: dict, depth: int, auto: list[int]) -> str:
        import _string

        if depth < 0:
            raise ValueError("Max string recursion exceeded")
        out = []
        total = 0
        for literal, field, spec, conversion in _string.formatter_parser(template):
            out.append(literal)
            if field is None:
                total += len(literal)
                continue
            if field == "":
                if auto[0] < 0:
                    raise ValueError("cannot switch from manual field specification to automatic field numbering")
                index: Any = auto[0]
                auto[0] += 1
            elif field.isdigit():
                if auto[0] > 0:
                    raise ValueError("cannot switch from automatic field numbering to manual field specification")
                auto[0] = -1
                index = int(field)
            elif field.isidentifier():
                index = field
            else:
                raise ValueError(
                    f"format field {{{field}}} is not allowed in tsr: fields name a position or a keyword, "
                    "without '.attribute' or '[item]' lookups"
                )
            if type(index) is int:
                if index >= len(args):
                    raise IndexError(f"Replacement index {index} out of range for positional args tuple")
                value = args[index]
            else:
                value = kwargs[index]
            if spec and "{" in spec:
                spec = self._vformat(spec, args, kwargs, depth - 1, auto)
            out.append(self.format_value(value, spec or "", {None: -1, "s": 115, "r": 114, "a": 97}[conversion]))
            total += len(literal) + len(out[-1])
            self.check_str_len(total)  # (before the next field: "{0}" * 100 of one long text builds no more)
        if total > _CHUNK:
            self.check_alloc(total)
        return "".join(out)

    # ------------------------------------------------------------------------------------------------
    # modules
    # ------------------------------------------------------------------------------------------------

    def import_module(self, dotted: str) -> ModuleFacade:
        # (a module outside tsr is one it has not: ModuleNotFoundError, as Python says for a module not installed,
        # so that both `except ImportError` and `except ModuleNotFoundError` around `import tqdm` work)
        facade = self._facades.get(dotted)
        if facade is not None:
            return facade
        if dotted == "torch" or dotted.startswith("torch."):
            sub = dotted[len("torch.") :] if dotted != "torch" else ""
            if sub and sub not in policy.TORCH_SUBMODULES:
                if sub in _NOT_IN_ENGINE:  # a part of PyTorch the engine lacks, not a forbidden module
                    raise ModuleNotFoundError(f"No module named '{dotted}' in tcli's engine; tsr {_ALLOWED_IMPORTS}")
                raise ModuleNotFoundError(f"tsr cannot import '{dotted}'; it {_ALLOWED_IMPORTS}")
            engine = self.load_engine()
            try:
                where = policy.ENGINE_MODULES.get(sub, "engine." + sub)
                module = importlib.import_module(where) if sub else engine
            except ModuleNotFoundError:
                raise ModuleNotFoundError(f"No module named '{dotted}'") from None
            facade = self._engine_facade(dotted, module)
        elif dotted == "math":
            facade = self._table_facade("math", math, policy.MATH_NAMES, _MATH_CHECKS(self))
        elif dotted in ("numpy", "numpy.random"):
            np = self.load_numpy()
            if dotted == "numpy":
                extra = {"random": lambda: self.import_module("numpy.random")}
                replaced = {"ndarray": self.ndarray_class, "dtype": self.dtype_class}
                facade = self._table_facade("numpy", np, policy.NUMPY_NAMES, replaced, policy.NUMPY_SIZE_RULES, extra)
            else:
                facade = self._table_facade(
                    "numpy.random", np.random, policy.NUMPY_RANDOM_NAMES, {}, policy.NUMPY_SIZE_RULES
                )
        elif dotted == "random":
            facade = self._table_facade("random", random, policy.RANDOM_NAMES, _RANDOM_CHECKS(self))
        elif dotted == "collections":
            from tcli.script_namedtuple import make_namedtuple

            facade = self._table_facade(
                "collections", collections, policy.COLLECTIONS_NAMES,
                {"namedtuple": make_namedtuple(self, register_script_class)},
            )  # fmt: skip
        elif dotted == "copy":
            facade = self._table_facade("copy", copy, policy.COPY_NAMES, {"deepcopy": _deepcopy})
        elif dotted == "warnings":
            facade = self._table_facade("warnings", warnings, policy.WARNINGS_NAMES, _warnings_checked(self))
        elif dotted == "sys":
            facade = self._sys_facade()
        elif dotted in _STDLIB_FACADES:
            names, replaced = _STDLIB_FACADES[dotted]
            module = importlib.import_module("tcli.script_dataclass" if dotted == "dataclasses" else dotted)
            facade = self._table_facade(dotted, module, names, replaced(self))
        else:
            raise ModuleNotFoundError(f"tsr cannot import '{dotted}'; it {_ALLOWED_IMPORTS}")
        self._facades[dotted] = facade
        return facade

    def import_from(self, module: ModuleFacade, name: str) -> Any:
        try:
            return module.get(name)
        except AttributeError as e:
            if "not available" in str(e) or "not allowed" in str(e) or "is not in tcli's engine" in str(e):
                raise ImportError(str(e)) from None
        try:
            return self.import_module(f"{module.name}.{name}")
        except ImportError:
            raise ImportError(f"cannot import name '{name}' from '{module.name}'") from None

    def builtin_method_names(self, e: TypeError, *values: Any) -> None:
        """Python names a bound method 'method' in its TypeErrors; torch's tensor methods are C builtins, so
        `x.size[0]` says 'builtin_function_or_method' with PyTorch. Mends the message where one of the values
        the failed operation got is such a method (off the hot path: only when a TypeError is raised)."""
        args = e.args
        if len(args) != 1 or type(args[0]) is not str or "'method'" not in args[0]:
            return
        from engine.tensor import PYTHON_LEVEL_METHODS

        for v in values:
            if (
                type(v) is types.MethodType
                and isinstance(v.__self__, self._c_method_owners)
                and v.__name__ not in PYTHON_LEVEL_METHODS
            ):
                e.args = (args[0].replace("'method'", "'builtin_function_or_method'"),)
                return

    def parser_refusal(
        self, e: BaseException, fn: Any, args: tuple, kwargs: dict | None, called: str | None
    ) -> BaseException | None:
        """torch's argument-parser error where a torch function or tensor method (read as `called`) raised an
        error of its own, e, for arguments torch's parser refuses before it runs (engine/ops/arg_parser.py); None
        where the parser takes them, the callable is none of torch's, or e says the same in another order (the
        engine's own, which may know more: the order torch lists keywords in). Off the hot path: only when a
        call raised."""
        if called is None or self.engine is None:
            return None
        from engine.ops.arg_parser import SIGNATURES

        if type(fn) is Checked:  # (a sized method: .repeat, .expand)
            fn = fn.fn
        if type(fn) is types.MethodType:
            owner = type(fn.__self__)
            if not isinstance(fn.__self__, self.tensor_type) or getattr(owner, called, None) is not fn.__func__:
                return None
            kind = "method"
        elif getattr(self.engine, called, None) in (fn, ORIGINAL_OF.get(fn)) and ("function", called) in SIGNATURES:
            kind = "function"
        else:
            nn = sys.modules.get("engine.nn.functional")
            if nn is None or getattr(nn, called, None) not in (fn, ORIGINAL_OF.get(fn)):
                return None
            kind = "nn"
        from engine.ops.arg_parser import nn_refusal, refusal

        if kind == "nn":  # (torch.nn.functional's: C ones parsed, Python ones as what they call meets them)
            try:
                params = tuple(inspect.signature(ORIGINAL_OF.get(fn, fn)).parameters)
            except (TypeError, ValueError):
                return None
            refused = nn_refusal(called, params, args, kwargs or {})
        else:
            refused = refusal(kind, called, args, kwargs or {})
        if refused is not None and e.__class__ is TypeError and sorted(str(e)) == sorted(str(refused)):
            return None
        return refused

    def tensor_method_missing_args(
        self,
        e: TypeError,
        fn: Any,
        called: str | None = None,
        given: tuple = (),
        kwargs: dict | None = None,
        attr: str | None = None,
    ) -> None:
        """Python's "f() missing 1 required positional argument: 'dim'" for a tensor method torch writes in C,
        said as torch's argument parser says it: 'f() missing 1 required positional arguments: "dim"' (its
        plural, and its quotes); likewise a dim that is not an int (`x.transpose(0, 1.0)`), named as torch's
        parser names it. Off the hot path: only when a call raises a TypeError."""
        args = e.args
        if len(args) != 1 or type(args[0]) is not str:
            return
        if args[0].startswith("dim must be an int, got ") or _DIM_NOT_INT.fullmatch(args[0]):
            self._dim_arg_error(e, fn, given, kwargs or {}, attr)
            return
        over = "positional argument" in args[0] and " takes " in args[0]
        if "required positional argument" not in args[0] and not over:
            return
        if type(fn) is Checked:  # (a sized method: .repeat, .expand, .mm)
            fn = fn.fn
        if type(fn) is types.FunctionType and not over:  # (torch.matmul(x): a C function of one signature)
            m = _MISSING_ARGS.fullmatch(args[0])
            if m is not None and m.group(1) == fn.__name__ and fn.__name__ in ONE_SIGNATURE:
                text = self._c_function_text(fn)
                if text is not None and text.startswith("<built-in"):
                    _parser_missing(e, m)
            return
        if type(fn) is not types.MethodType or not isinstance(fn.__self__, self._c_method_owners):
            return
        from engine.tensor import PYTHON_LEVEL_METHODS

        if over:  # "mul() takes 2 positional arguments but 3 were given": torch's parser does not count self
            m = _TOO_MANY_ARGS.fullmatch(args[0])
            code = getattr(inspect.unwrap(fn.__func__), "__code__", None)  # (through a functools.wraps forwarder)
            if code is None or code.co_flags & inspect.CO_VARARGS:  # (Python counts only where there is no *args)
                return
            if m is not None and int(m.group(3)) != code.co_argcount:  # (not Python's count: the engine's own)
                return
            if m is not None and m.group(1) == fn.__name__ and fn.__name__ not in PYTHON_LEVEL_METHODS | _PRIVATE:
                lo, n, k = int(m.group(2) or m.group(3)) - 1, int(m.group(3)) - 1, int(m.group(4)) - 1
                kw = code.co_varnames[code.co_argcount : code.co_argcount + code.co_kwonlyargcount]
                if n == 0 and code.co_argcount == 1 and all(a == "out" for a in kw):  # (out= is torch.f's, not x.f's)
                    # (a method of self alone is a METH_NOARGS builtin in torch: CPython's words, its owner's name)
                    e.args = (f"TensorBase.{m.group(1)}() takes no arguments ({k} given)",)
                    return
                took = (
                    f"from {lo} to {n} positional arguments" if lo != n else f"{n} positional argument{'s' * (n != 1)}"
                )
                e.args = (f"{m.group(1)}() takes {took} but {k} {'was' if k == 1 else 'were'} given",)
            return
        m = _MISSING_ARGS.fullmatch(args[0])
        if called is not None and called in _NO_ARGS_OVERLOADS and m is not None:  # x.add(): no argument at all
            overloads = _NO_ARGS_OVERLOADS[called]
            head = f"{called}() received an invalid combination of arguments - got (), but expected"
            if len(overloads) == 1:
                e.args = (f"{head} {overloads[0]}",)
            else:
                e.args = (f"{head} one of:\n" + "".join(f" * {o}\n" for o in overloads),)
            return
        if m is None or fn.__name__ in PYTHON_LEVEL_METHODS or m.group(1) != fn.__name__:
            return
        _parser_missing(e, m)

    def _dim_arg_error(self, e: TypeError, fn: Any, given: tuple, kwargs: dict, attr: str | None) -> None:
        """torch's parser words for an int argument given as another type: `transpose(): argument 'dim1'
        (position 2) must be int, not float` (by keyword: without the position), for the functions and tensor
        methods in _INT_PARAMS."""
        if type(fn) is Checked:
            fn = fn.fn
        if type(fn) is types.MethodType:
            if not isinstance(fn.__self__, self._c_method_owners):
                return
            name, skip = self._method_name(fn), 1  # (the parser of a method does not count self)
        elif type(fn) is types.FunctionType:
            name, skip = fn.__name__, 0
        else:
            return
        if skip and attr:  # (x.swapaxes shares transpose's function: the name called)
            name = attr
        params = _INT_PARAMS.get(name)
        if params is None:
            return
        from engine.naming import type_name

        for i, param in enumerate(params[1:], 1):
            k = i - skip
            v, where = (given[k], f" (position {i + 1 - skip})") if k < len(given) else (kwargs.get(param), "")
            if v is None or isinstance(v, int) or hasattr(type(v), "__index__"):
                continue
            many = param.endswith("*")
            if many and isinstance(v, (list, tuple)):
                continue
            kind = "tuple of ints" if many else "int"
            e.args = (f"{name}(): argument '{param.rstrip('*')}'{where} must be {kind}, not {type_name(v)}",)
            return

    def load_engine(self) -> Any:
        if self.engine is None:
            import engine

            self.engine = engine
            self.tensor_type = engine.Tensor
            self._c_method_owners = (engine.Tensor, engine.Size)
            self.load_numpy()
            self.array_types = (engine.Tensor, sys.modules["numpy"].ndarray)
            self.session.on_engine_loaded(engine)
            narrow_module_names(self)  # (torch's rule comes back when the run ends: Session.running)
        return self.engine

    def load_numpy(self) -> Any:
        import numpy

        if not self.array_types:
            self.array_types = (numpy.ndarray,)
        _NDARRAY[0], _NDARRAY[1] = numpy.ndarray, numpy.generic
        if self.ndarray_class is None:
            # scripts never hold the class itself: calling it some other way (map, a decorator) would skip the
            # check, and over a buffer with an object dtype it reads bytes as object pointers
            self.ndarray_class = CheckedClass(numpy.ndarray, self._ndarray)
            # np.dtype(x) reads x.dtype off any object and builds object dtypes: the numpy screen's call
            self.dtype_class = CheckedClass(numpy.dtype, self._dtype)
        return numpy

    def _ndarray(self, shape: Any, dtype: Any = float, *rest: Any, **kwargs: Any) -> Any:
        """np.ndarray(shape, dtype): an uninitialised array; never over a buffer (with an object dtype, bytes a
        script wrote would be read as object pointers) nor with strides of its own."""
        import numpy

        if rest or set(kwargs) - {"order"}:
            raise TypeError(
                "np.ndarray in tsr takes a shape and a dtype only (no buffer, offset or strides): use np.zeros, "
                "np.array or torch"
            )
        self.screen_numpy_call((shape, dtype), kwargs)
        self.check_call_size("np_size", (shape, dtype), {}, None)
        return numpy.ndarray(shape, dtype, order=kwargs.get("order", "C"))

    def _dtype(self, *args: Any, **kwargs: Any) -> Any:
        """np.dtype(x): x screened as numpy's functions' arguments are (numpy reads `x.dtype` off any object), and
        no dtype that holds objects (a structured one with an "O" field)."""
        import numpy

        self.screen_numpy_call(args, kwargs)
        r = numpy.dtype(*args, **kwargs)
        if r.hasobject:
            raise TypeError(_OBJECT_ARRAYS)
        return r

    def _engine_facade(self, dotted: str, module: Any) -> ModuleFacade:
        path = dotted[len("torch.") :] if dotted != "torch" else ""
        if path == "optim.lr_scheduler":
            narrow_stateful_callables(module)
        overrides: dict[str, Any] = {"save": self._save, "load": self._load} if dotted == "torch" else {}
        if dotted == "torch.nn.utils.parametrize":  # (torch's answers type(x) for any x: a raw class, round 11)
            overrides["type_before_parametrizations"] = self._type_before_parametrizations(module)

        def resolve(attr: str) -> Any:
            if attr.startswith("_"):
                raise private_attribute_error(attr)
            if attr in overrides:
                return overrides[attr]
            if any(
                attr in names and (path == top or path.startswith(top + "."))
                for top, names in policy.HIDDEN_TORCH_NAMES.items()
            ):
                raise refusal(f"'{dotted}.{attr}' is not available in tsr")
            sub = f"{path}.{attr}" if path else attr
            if attr not in torch_names(path) and sub not in policy.TORCH_SUBMODULES:
                # torch's names only: an engine module also holds the helpers it imports (the raw tensor
                # constructor, graph plumbing), which must not become torch attributes
                if hasattr(module, attr):
                    raise AttributeError(f"module '{dotted}' has no attribute '{attr}'")
            try:
                raw = getattr(module, attr)
            except AttributeError as e:
                if sub in policy.TORCH_SUBMODULES:
                    return self.import_module(f"torch.{sub}")
                # the engine's scope note (nn.Conv2d, torch.fft): kept, but for a capitalised name that PyTorch
                # lacks too (the engine guesses torch.nn's classes by case): that is a typo, `nn.Linaer`
                if getattr(e, "not_covered", False) and (attr in torch_names(path) or not attr[:1].isupper()):
                    raise AttributeError(str(e)) from None
                raise AttributeError(f"module '{dotted}' has no attribute '{attr}'") from None
            if isinstance(raw, types.ModuleType):
                if sub in policy.TORCH_SUBMODULES:
                    return self.import_module(f"torch.{sub}")
                raise refusal(f"'{dotted}.{attr}' is not available in tsr")
            if not _admissible(raw):
                raise refusal(f"'{dotted}.{attr}' is not available in tsr")
            if not path and type(raw) is types.FunctionType:
                raw = self._as_torch_prints(raw, attr)
            rule = policy.TORCH_SIZE_RULES.get(attr) if not path else None
            floating = attr in policy.TORCH_FLOATING_CREATORS
            return Checked(raw, rule, self, floating=floating) if rule and callable(raw) else raw

        def names() -> list[str]:  # (torch's names the engine has; a module __getattr__ hides some from dir())
            found = [n for n in sorted(torch_names(path)) if n not in overrides and hasattr(module, n)]
            above = path + "." if path else ""
            subs = {s[len(above) :].split(".")[0] for s in policy.TORCH_SUBMODULES if s.startswith(above)}
            return found + sorted(subs) + list(overrides)

        return ModuleFacade(dotted, resolve, names)

    def _table_facade(
        self,
        dotted: str,
        module: Any,
        allowed: frozenset[str],
        replaced: dict[str, Callable],
        sized: dict[str, str] | None = None,
        extra: dict[str, Callable[[], Any]] | None = None,
    ) -> ModuleFacade:
        extra = extra or {}
        numpy = dotted.split(".")[0] == "numpy"

        def resolve(attr: str) -> Any:
            if attr.startswith("_"):
                raise private_attribute_error(attr)
            if attr in extra:
                return extra[attr]()
            if attr not in allowed or not hasattr(module, attr):
                if hasattr(module, attr):
                    hint = ""
                    if dotted == "numpy" and any(w in attr for w in ("load", "save", "file", "txt", "memmap")):
                        hint = "; tsr's numpy touches no files (torch.save and torch.load do, in the working directory)"
                    elif dotted == "numpy":  # a computation: the engine has it under the same name, most often
                        hint = "; tsr's numpy creates arrays and has common elementwise functions, compute the rest"
                        hint += " with torch"
                        engine = self.engine or sys.modules.get("engine")
                        if engine is not None and hasattr(engine, attr):
                            hint += f" (torch.{attr}, on torch.from_numpy(a))"
                    raise refusal(f"'{dotted}.{attr}' is not available in tsr{hint}")
                raise AttributeError(f"module '{dotted}' has no attribute '{attr}'")
            if attr in replaced:
                return replaced[attr]
            raw = getattr(module, attr)
            if isinstance(raw, type):  # (a class on the facade's list: callable; numpy's by admit_class's rule)
                if not issubclass(raw, type):
                    self._handed_classes.add(raw)
                return raw
            rule = (sized or {}).get(attr)
            # numpy's functions all go through the numpy screen (np.random.seed and shuffle as np.full does)
            if rule or (numpy and callable(raw)):
                return Checked(raw, rule, self, numpy=numpy)
            return raw

        return ModuleFacade(dotted, resolve, lambda: [*allowed, *extra])

    # ------------------------------------------------------------------------------------------------
    # files: torch.save / torch.load
    # ------------------------------------------------------------------------------------------------

    def allowed_path(self, path: Any, action: str, what: str | None = None) -> str:
        """The resolved path, if it lies under the working directory or an --allow-path directory (what a
        script's torch.save/load and the REPL's :save, :restore and :load may touch)."""
        what = what or f"torch.{action}"
        if not isinstance(path, str):
            raise TypeError(f"{what} in tsr takes a file path (str), not {tp_name(type(path))}")
        full = os.path.realpath(os.path.join(os.getcwd(), path))
        roots = [os.path.realpath(os.getcwd())] + [os.path.realpath(d) for d in self.session.allow_paths]
        if not any(full == r or full.startswith(r.rstrip(os.sep) + os.sep) for r in roots):
            raise PermissionError(
                f"{what}: '{path}' is outside the working directory; pass --allow-path DIR to allow another directory"
            )
        return full

    def checked_save(self, name: str, full: str, write: Callable[[], None], what: str = "torch.save") -> None:
        """Write a checkpoint through `write()`, under the rules for where (check_save_target) and how much
        (what one run saves is capped at the memory limit; an overwrite counts only its growth)."""
        self.check_save_target(name, full, what)
        before = os.path.getsize(full) if os.path.isfile(full) else 0
        write()
        self.saved_bytes += os.path.getsize(full) - before
        if self.saved_bytes > self.limits.max_memory:
            self.saved_bytes -= os.path.getsize(full)
            os.remove(full)
            raise OSError(
                f"{what}: '{name}' would bring what this run saved to over "
                f"{policy.human_size(self.limits.max_memory)}, the memory limit (--max-memory), which also caps "
                "what a script writes to disk; the file was not kept"
            )

    def check_save_target(self, name: str, full: str, what: str = "torch.save") -> None:
        """What torch.save may write: a checkpoint file, never a dotfile (.vimrc, .git/...) nor a file that is
        not already an archive. A saved array's bytes stand in the file as written, so a script must not be
        able to plant them where another program reads its configuration or code."""
        parts = [p for p in name.replace(os.sep, "/").split("/") if p not in ("", ".", "..")]
        if any(p.startswith(".") for p in parts):
            raise PermissionError(f"{what}: '{name}' is a hidden file or directory; tsr does not write those")
        ext = os.path.splitext(full)[1].lower()
        if ext not in policy.SAVE_EXTENSIONS:
            raise PermissionError(
                f"{what}: tsr writes checkpoints only to files named *{', *'.join(policy.SAVE_EXTENSIONS)} "
                f"(not '{name}')"
            )
        if os.path.lexists(full):
            try:
                with open(full, "rb") as fh:
                    archive = fh.read(4) in (b"PK\x03\x04", b"PK\x05\x06")
            except OSError:
                archive = False
            if not archive or not os.path.isfile(full):
                raise PermissionError(
                    f"{what}: '{name}' exists and is not a saved checkpoint; tsr overwrites only its own archives"
                )

    def _save(self, obj: Any, f: Any, **options: Any) -> None:
        """torch.save confined to allowed paths (the engine writes PyTorch's format: plain data and tensors), or
        into a script's io.BytesIO."""
        from tcli.stdlib_io import file_of

        memory = file_of(f)
        if memory is not None:
            before = memory.getbuffer().nbytes
            self.load_engine().save(obj, memory, **options)
            self.check_alloc(max(0, memory.getbuffer().nbytes - before))  # (what the buffer grew by)
            return
        path = self.allowed_path(f, "save")
        engine = self.load_engine()

        def write() -> None:
            with _as_written(f, path):
                engine.save(obj, path, **options)

        self.checked_save(f, path, write)

    def _load(self, f: Any, *args: Any, **options: Any) -> Any:
        from tcli.stdlib_io import file_of

        memory = file_of(f)
        if memory is not None:
            if memory.tell() >= memory.getbuffer().nbytes:
                raise EOFError  # (torch reads the pickle from where the buffer stands: at its end, nothing)
            return self.load_engine().load(memory, *args, **options)
        path = self.allowed_path(f, "load")
        if os.path.isfile(path):
            self.check_alloc(max(os.path.getsize(path), archive_bytes(path)))
        engine = self.load_engine()
        with _as_written(f, path):
            return engine.load(path, *args, **options)


def archive_bytes(path: str) -> int:
    """What loading an archive allocates: each array's size as its header declares it (a compressed member
    of a few MB can hold GBs), at least the member's stated size."""
    import zipfile

    np = sys.modules.get("numpy")
    total = 0
    try:
        with zipfile.ZipFile(path) as z:
            for info in z.infolist():
                declared = 0
                if np is not None and info.filename.endswith(".npy"):
                    with z.open(info) as fh:
                        fmt = np.lib.format
                        version = fmt.read_magic(fh)
                        read = fmt.read_array_header_1_0 if version == (1, 0) else fmt.read_array_header_2_0
                        shape, _, dtype = read(fh)
                        declared = _prod(shape) * dtype.itemsize
                total += max(info.file_size, declared)
    except Exception:  # not an archive (the loader reports it) or a header numpy cannot read
        return 0
    return total


@contextmanager
def _as_written(name: str, full: str) -> Iterator[None]:
    """File errors name the path as the script wrote it (as torch's do), not the resolved absolute path."""
    try:
        yield
    except OSError as e:
        if e.errno is None or e.filename != full:
            raise
        raise type(e)(e.errno, e.strerror, name) from None
    except Exception as e:  # the loader's own errors (an UnpicklingError, a RuntimeError) name the file as written
        plain = type(e).__module__ in ("builtins", "_pickle")
        if plain and isinstance(name, str) and len(e.args) == 1 and isinstance(e.args[0], str) and full in e.args[0]:
            raise type(e)(e.args[0].replace(full, name)) from None
        raise


# PyTorch submodules tcli's engine does not have (its own internals keep the plain "not allowed")
_NOT_IN_ENGINE = frozenset(
    {"fft", "nn.modules", "nn.parameter", "jit", "onnx", "hub",
     "profiler", "quantization", "distributed", "multiprocessing", "export",
     "masked", "nested", "signal"}
)  # fmt: skip


def _named(functions: dict[str, Callable]) -> dict[str, Callable]:
    """Each function renamed for its key, so that argument errors name the function a script called, not the
    checked version's own name. Returns the dict."""
    for name, fn in functions.items():
        fn.__name__ = fn.__qualname__ = name
    return functions


def _one_argument(name: str, args: tuple, kwargs: dict) -> Any:
    """The single positional argument of a one-argument builtin (repr, ascii), with Python's messages."""
    if kwargs:
        raise TypeError(f"{name}() takes no keyword arguments")
    if len(args) != 1:
        raise TypeError(f"{name}() takes exactly one argument ({len(args)} given)")
    return args[0]


def _calling_guards(p: Prelude) -> dict[type, Callable]:
    """Checked constructors of the classes that call a function they are given (map(f, it), partial(f, ...),
    itertools.starmap(f, it) ...): the function as Prelude.as_called hands it on."""

    def guard(cls: type, position: int, keyword: str | None = None) -> Callable:
        def make(*args: Any, **kwargs: Any) -> Any:
            if len(args) > position:
                args = (*args[:position], p.as_called(args[position]), *args[position + 1 :])
            if keyword is not None and keyword in kwargs:
                kwargs[keyword] = p.as_called(kwargs[keyword])
            return cls(*args, **kwargs)

        make.__name__ = make.__qualname__ = cls.__name__
        return make

    checked_accumulate = guard(itertools.accumulate, 1, "func")

    def accumulate(iterable: Any, func: Any = None, *args: Any, **kwargs: Any) -> Any:
        # (without a function it adds in C: the running sums of [s] * 100 are strings up to a hundred times s's
        # length, with nothing checking them; tsr's + checks every sum, as the script's `total = total + x` would)
        return checked_accumulate(iterable, p.binary_operators[operator.add] if func is None else func, *args, **kwargs)

    accumulate.__name__ = accumulate.__qualname__ = "accumulate"
    return {
        map: guard(map, 0), filter: guard(filter, 0), functools.partial: guard(functools.partial, 0),
        itertools.starmap: guard(itertools.starmap, 0), itertools.filterfalse: guard(itertools.filterfalse, 0),
        itertools.dropwhile: guard(itertools.dropwhile, 0), itertools.takewhile: guard(itertools.takewhile, 0),
        itertools.groupby: guard(itertools.groupby, 1, "key"),
        itertools.accumulate: accumulate,
    }  # fmt: skip


def _functools_checked(p: Prelude) -> dict[str, Callable]:
    """functools' C functions and caches, with the function they call as Prelude.as_called hands it on
    (reduce(defaultdict, [None, repeat((1, 1))]) built a dict in C for ever)."""

    def reduce(function: Any, *rest: Any) -> Any:
        return functools.reduce(p.as_called(function), *rest)

    def cmp_to_key(mycmp: Any) -> Any:
        return functools.cmp_to_key(p.as_called(mycmp))

    def lru_cache(maxsize: Any = 128, typed: Any = False) -> Any:
        if callable(maxsize) and isinstance(typed, bool):  # (@lru_cache without arguments)
            return functools.lru_cache(p.as_called(maxsize), typed)
        decorate = functools.lru_cache(maxsize, typed)

        def decorating_function(user_function: Any) -> Any:
            return decorate(p.as_called(user_function))

        return decorating_function

    def cache(user_function: Any) -> Any:
        return functools.cache(p.as_called(user_function))

    def wraps(wrapped: Any, assigned: Any = None, updated: Any = None) -> Callable:
        # tsr's own: a script's function takes the wrapped one's name (what __name__, repr and errors show);
        # nothing else is copied (Python's copies __dict__ and sets __wrapped__, which tsr functions lack)
        name = p.name_of(wrapped)

        def decorate(wrapper: Any) -> Any:
            if type(wrapper).__qualname__ in ("Function", "GeneratorFunction") and type(wrapper).__module__ == (
                "tcli.interpreter"
            ):
                wrapper.name = name
                wrapper.qualname = getattr(wrapped, "qualname", name)
            return wrapper

        return decorate

    def total_ordering(cls: Any) -> Any:
        # (it sets the missing comparison methods on the class it is given: a script's own only, never the engine's)
        if not (isinstance(cls, type) and _is_script_class(cls)):
            raise TypeError("functools.total_ordering in tsr decorates a class the script defined")
        return functools.total_ordering(cls)

    return _named(
        {"reduce": reduce, "cmp_to_key": cmp_to_key, "lru_cache": lru_cache, "cache": cache, "wraps": wraps,
         "total_ordering": total_ordering}
    )  # fmt: skip


def _itertools_checked(p: Prelude) -> dict[str, Callable]:
    """itertools' iterators that C code could run without end or build huge tuples in: product and
    permutations materialize their inputs first (as the real ones do), within the sequence limit."""

    def product(*iterables: Any, repeat: int = 1) -> Any:
        pools = [p.bounded_list(it) for it in iterables]
        return itertools.product(*pools, repeat=repeat)

    def permutations(iterable: Any, r: Any = None) -> Any:
        return itertools.permutations(p.bounded_list(iterable), r)

    def combinations(iterable: Any, r: int) -> Any:
        return itertools.combinations(p.bounded_list(iterable), r)

    def combinations_with_replacement(iterable: Any, r: int) -> Any:
        return itertools.combinations_with_replacement(p.bounded_list(iterable), r)

    return _named({"product": product, "permutations": permutations, "combinations": combinations,
                   "combinations_with_replacement": combinations_with_replacement})  # fmt: skip


def _chain_from_iterable(iterables: Any) -> Iterator:
    """itertools.chain.from_iterable, looping in Python: the C one skips empty iterables in a loop that neither
    --timeout nor Ctrl-C reaches (chain.from_iterable(repeat([])))."""
    for it in iterables:
        yield from it


_chain_from_iterable.__name__ = _chain_from_iterable.__qualname__ = "from_iterable"


def _time_checked(p: Prelude) -> dict[str, Callable]:
    def sleep(seconds: Any) -> None:
        # in short steps: a signal (--timeout's alarm, Ctrl-C) is handled between them
        if not isinstance(seconds, (int, float)) or isinstance(seconds, bool):
            raise TypeError(f"'{tp_name(type(seconds))}' object cannot be interpreted as an integer")
        if seconds < 0:
            raise ValueError("sleep length must be non-negative")
        end = time.monotonic() + seconds
        while (left := end - time.monotonic()) > 0:
            time.sleep(min(left, 0.05))

    return {"sleep": sleep}


def _typing_checked(p: Prelude) -> dict[str, Any]:
    """typing's aliases of the collections classes: hints only. typing.Counter[int](it) would call the raw class
    (never its checked constructor, call_guards) from typing's code: Counter over itertools.repeat(1) looped in C
    for ever, past --timeout and Ctrl-C (sec15). As typing.Dict, they cannot be called (use Counter())."""
    import typing

    alias = typing._SpecialGenericAlias  # type: ignore[attr-defined]
    return {
        "Counter": alias(Counter, 1, inst=False, name="Counter"),
        "DefaultDict": alias(defaultdict, 2, inst=False, name="DefaultDict"),
        "OrderedDict": alias(OrderedDict, 2, inst=False, name="OrderedDict"),
    }


def _statistics_checked(p: Prelude) -> dict[str, Callable]:
    """statistics' functions read their data as a list within the sequence limit first: median sorts it and mode
    counts it in C (statistics.mode(itertools.repeat(1)) looped in C for ever, past --timeout, sec15)."""
    import statistics

    def checked(name: str) -> Callable:
        fn = getattr(statistics, name)

        def call(data: Any, *args: Any, **kwargs: Any) -> Any:
            if "weights" in kwargs:
                kwargs["weights"] = p.bounded_list(kwargs["weights"])
            return fn(p.bounded_list(data), *[p.bounded_list(a) if name == "fmean" else a for a in args], **kwargs)

        call.__name__ = call.__qualname__ = name
        call.__module__ = "statistics"
        return call

    return {name: checked(name) for name in policy.STATISTICS_NAMES}


def _facade_of(module: str) -> Callable[[Prelude], dict]:
    """The values of a facade written in its own file (tcli/stdlib_*.py), loaded on the first import."""
    return lambda p: importlib.import_module(module).make(p)


_STDLIB_FACADES: dict[str, tuple[frozenset, Callable[[Prelude], dict]]] = {
    "operator": (policy.OPERATOR_NAMES, _facade_of("tcli.stdlib_operator")),
    "heapq": (policy.HEAPQ_NAMES, lambda p: importlib.import_module("tcli.stdlib_heapq").make_heapq(p)),
    "bisect": (policy.BISECT_NAMES, lambda p: importlib.import_module("tcli.stdlib_heapq").make_bisect(p)),
    "contextlib": (policy.CONTEXTLIB_NAMES, _facade_of("tcli.stdlib_contextlib")),
    "abc": (policy.ABC_NAMES, _facade_of("tcli.stdlib_abc")),
    "enum": (policy.ENUM_NAMES, _facade_of("tcli.stdlib_enum")),
    "json": (policy.JSON_NAMES, _facade_of("tcli.stdlib_json")),
    "pprint": (policy.PPRINT_NAMES, _facade_of("tcli.stdlib_pprint")),
    "io": (policy.IO_NAMES, _facade_of("tcli.stdlib_io")),
    "time": (policy.TIME_NAMES, _time_checked),
    "typing": (policy.TYPING_NAMES, _typing_checked),
    "functools": (policy.FUNCTOOLS_NAMES, _functools_checked),
    "itertools": (policy.ITERTOOLS_NAMES, _itertools_checked),
    "string": (policy.STRING_NAMES, lambda p: {}),
    "statistics": (policy.STATISTICS_NAMES, _statistics_checked),
    "dataclasses": (
        policy.DATACLASSES_NAMES,
        lambda p: {
            "field": importlib.import_module("tcli.script_dataclass").make_field(p.admit_value),
            "dataclass": importlib.import_module("tcli.script_dataclass").make_dataclass(p.charge_text),
            **importlib.import_module("tcli.script_dataclass").make_conversions(p._tick_deadline),
        },
    ),
}


def _allowed_imports() -> str:
    """What tsr can import, for the refusal: each package once, its allowed submodules summed up (the list
    is long for torch: tsr(5) has it)."""
    subs: dict[str, list[str]] = {"torch": [f"torch.{s}" for s in policy.TORCH_SUBMODULES]}
    for dotted in sorted(policy.FACADE_MODULES):
        top = dotted.split(".")[0]
        subs.setdefault(top, [])
        if dotted != top:
            subs[top].append(dotted)
    parts = []
    for top, below in subs.items():
        if len(below) > 1:
            parts.append(f"{top} (and its submodules listed in tsr(5), IMPORTS)")
        else:
            parts.append(f"{top} (and {below[0]})" if below else top)
    return "can import " + ", ".join(parts[:-1]) + " and " + parts[-1]


_ALLOWED_IMPORTS = _allowed_imports()
_ADDRESS = re.compile(r" at 0x([0-9a-f]+)>")
_MISSING_ARGS = re.compile(r"(\w+)\(\) missing (\d+) required positional arguments?: (.+)")
#: tensor methods whose parser has several signatures (or one beside a hidden deprecated one): called with no
#: argument, torch lists them where Python would name the missing argument
_OTHER = ("(Tensor other)", "(Number other)")
_NO_ARGS_OVERLOADS: dict[str, tuple[str, ...]] = {
    **dict.fromkeys(("add", "sub", "add_", "sub_", "subtract", "subtract_"), ("(Tensor other, *, Number alpha = 1)",)),
    "copy_": ("(Tensor other, bool non_blocking = False)",),
    "div": ("(Tensor other)", "(Tensor other, *, str rounding_mode)", "(Number other, *, str rounding_mode)"),
    "pow": ("(Tensor exponent)", "(Number exponent)"),
    **dict.fromkeys(
        ("eq", "ne", "lt", "le", "gt", "ge", "fmod", "remainder", "bitwise_and", "bitwise_or", "bitwise_xor"), _OTHER
    ),
    "masked_fill": ("(Tensor mask, Tensor value)", "(Tensor mask, Number value)"),
    "clamp_min": ("(Tensor min)", "(Number min)"),
    "clamp_max": ("(Tensor max)", "(Number max)"),
    "where": ("(Tensor condition, Tensor other)", "(Tensor condition, Number other)"),
    "lerp": ("(Tensor end, Tensor weight)", "(Tensor end, Number weight)"),
    "narrow": ("(int dim, Tensor start, int length)", "(int dim, int start, int length)"),
    "fill_": ("(Tensor value)", "(Number value)"),
}


def _parser_missing(e: TypeError, m: re.Match) -> None:
    """Python's "f() missing 1 required positional argument: 'dim'" (m: its _MISSING_ARGS match) in the words of
    torch's argument parser: 'f() missing 1 required positional arguments: "dim"' (its plural, its quotes)."""
    n, missing = int(m.group(2)), re.findall(r"'(\w+)'", m.group(3))
    if len(missing) == n:  # (torch's parser writes "arguments" for one, "argument" for more)
        plural = "s" if n == 1 else ""
        quoted = ", ".join(f'"{a}"' for a in missing)
        e.args = (f"{m.group(1)}() missing {n} required positional argument{plural}: {quoted}",)


_DIM_NOT_INT = re.compile(r"\w+\(\): argument '\w+'(?: \(position \d+\))? must be int, not [\w.]+")
#: torch functions (and their tensor methods) whose parser has one signature taking ints after the input: the
#: parameters in order, so that a float dim is named as torch names it
_INT_PARAMS: dict[str, tuple[str, ...]] = {
    "transpose": ("input", "dim0", "dim1"), "swapaxes": ("input", "axis0", "axis1"),
    "swapdims": ("input", "dim0", "dim1"), "unsqueeze": ("input", "dim"), "flatten": ("input", "start_dim", "end_dim"),
    "select": ("input", "dim", "index"), "unbind": ("input", "dim"), "gather": ("input", "dim"),
    "index_select": ("input", "dim"), "diagonal": ("input", "offset", "dim1", "dim2"), "diff": ("input", "n", "dim"),
    "size": ("input", "dim"), "stride": ("input", "dim"), "chunk": ("input", "chunks", "dim"),
    "cat": ("tensors", "dim"),
    "concat": ("tensors", "dim"), "concatenate": ("tensors", "dim"), "stack": ("tensors", "dim"),
    # (a name ending in * is a dim list: "must be tuple of ints, not float")
    "amax": ("input", "dim*"), "amin": ("input", "dim*"), "logsumexp": ("input", "dim*"),
    "roll": ("input", "shifts*", "dims*"),
}  # fmt: skip
_PRIVATE = frozenset({"_split_method"})  # (x.split: Python-level in torch, so its count includes self)
_TOO_MANY_ARGS = re.compile(
    r"(?:Tensor\.)?(\w+)\(\) takes (?:from (\d+) to )?(\d+) positional arguments? but (\d+) (?:was|were) given"
)
_PERCENT = re.compile(r"%(?:\(([^)]*)\))?[#0 +\-]*(\*|\d+)?(?:\.(\*|\d+))?[hlL]?[a-zA-Z%]")

try:
    _PAGE = os.sysconf("SC_PAGE_SIZE")
except (ValueError, OSError, AttributeError):  # pragma: no cover
    _PAGE = 4096


def _sys_exit(p: Prelude) -> Callable:
    def exit(status: Any = None) -> None:  # noqa: A001
        """sys.exit: ends the run (tcli run exits with the status; the REPL ends), as Python's SystemExit."""
        if status is not None and type(status) is not int and type(status) is not bool and type(status) is not str:
            # what Python prints on the way out is str(status): made here, under the run's limits (a script's
            # __str__ run after the run, while the process exits, had no --timeout and no text limit)
            status = p._str(status)
        raise ScriptExit(status)

    return exit


_STATM: list = [None, None]  # [pid, fd]: one descriptor for the process (every session of it reads the same file)


def _open_statm() -> int | None:
    """A descriptor of this process's /proc/self/statm, opened once per process (a forked child, whose
    /proc/self is another file, opens its own): a session each would leak one per session."""
    pid = os.getpid()
    if _STATM[0] != pid:
        try:
            fd = os.open("/proc/self/statm", os.O_RDONLY)
        except OSError:
            fd = None
        _STATM[0], _STATM[1] = pid, fd
    return _STATM[1]


def _is_numpy_value_type(tp: type) -> bool:
    np = sys.modules.get("numpy")
    return np is not None and issubclass(tp, (np.ndarray, np.generic, np.dtype))


_ACTIONS = ("default", "error", "ignore", "always", "all", "module", "once")


def _warning_category(category: Any) -> Any:
    if not (isinstance(category, type) and issubclass(category, Warning)):
        raise TypeError("category must be a Warning subclass")
    return category


def _action(action: Any) -> str:
    if action not in _ACTIONS:
        raise ValueError(f"invalid action: {action!r}")
    return action


def _filterwarnings(action: Any, message: str = "", category: Any = Warning, module: str = "", lineno: int = 0,
                    append: bool = False) -> None:  # fmt: skip
    if not isinstance(message, str) or not isinstance(module, str):
        raise TypeError("message and module must be strings")
    if not isinstance(lineno, int) or lineno < 0:
        raise ValueError("lineno must be an int >= 0")
    warnings.filterwarnings(_action(action), message, _warning_category(category), module, lineno, bool(append))


def _simplefilter(action: Any, category: Any = Warning, lineno: int = 0, append: bool = False) -> None:
    if not isinstance(lineno, int) or lineno < 0:
        raise ValueError("lineno must be an int >= 0")
    warnings.simplefilter(_action(action), _warning_category(category), lineno, bool(append))


def _warnings_checked(p: Prelude) -> dict[str, Callable]:
    def warn(message: Any, category: Any = None, stacklevel: int = 1, source: Any = None) -> None:
        # (the session shows it at the statement running, whatever the stack level)
        if isinstance(message, Warning):  # (Python takes str(message) in C for its registry: made here instead)
            warnings.warn(p._str(message), type(message), stacklevel=2)
        else:
            kind = _warning_category(category) if category is not None else UserWarning
            warnings.warn(p._str(message), kind, stacklevel=2)  # (str(message) as one text conversion)

    return _named({**_WARNINGS_CHECKED, "warn": warn})


def _catch_warnings(*, record: bool = False, action: Any = None, category: Any = Warning) -> Any:
    if record:
        raise TypeError("catch_warnings(record=True) is not supported in tsr: warnings are shown, not collected")
    if action is None:
        return warnings.catch_warnings()
    return warnings.catch_warnings(action=_action(action), category=_warning_category(category))


_WARNINGS_CHECKED = {
    "filterwarnings": _filterwarnings, "simplefilter": _simplefilter,
    "catch_warnings": _catch_warnings, "resetwarnings": warnings.resetwarnings,
}  # fmt: skip


def _deepcopy(x: Any, *rest: Any, **kwargs: Any) -> Any:
    """copy.deepcopy(x) without its memo argument: the memo (and its keep-alive list) would hand a script every
    object the copy walked through, the originals included."""
    if rest or kwargs:
        raise TypeError("deepcopy() takes 1 argument in tsr (the memo dict is Python's internals)")
    return copy.deepcopy(x)


def _admissible(raw: Any) -> bool:
    """Whether an engine module attribute may be shown to scripts: the engine's own functions, classes and
    objects, and immutable plain values; not imported helpers or mutable module state."""
    tp = type(raw)
    if tp in (int, float, complex, str, bool, type(None)):
        return True
    if tp is tuple or tp is frozenset:  # (each item as an attribute would be: a tuple of classes held a foreign one)
        return all(_admissible(item) for item in raw)
    if isinstance(raw, type) and issubclass(raw, type):
        return False  # a metaclass: calling it would build a class from a script's own bases and namespace
    if isinstance(raw, (type, types.FunctionType, types.BuiltinFunctionType)):
        return _is_engine_type(raw)
    return _is_engine_type(tp)


_PLAIN_ARGS = (int, float, complex, bool, bytes, type(None))
_ARG_CONTAINERS = (tuple, list, set, frozenset)


def _exception_arg(a: Any, mask: Callable[[str], str]) -> Any:
    """An item of an exception's args as a script may hold it: plain values, the engine's and tsr's objects and
    the script's own, in containers too; anything else (a library's error may carry its own internals, numpy's
    loop errors carry the ufunc) is replaced by its masked repr."""
    if _arg_admissible(a, 0):
        return a
    return mask(repr(a))


def _arg_admissible(a: Any, depth: int) -> bool:
    tp = type(a)
    if tp in _PLAIN_ARGS or tp is str:
        return True
    if depth > 8:
        return False
    if tp in _ARG_CONTAINERS:
        return len(a) <= 10_000 and all(_arg_admissible(x, depth + 1) for x in a)
    if tp is dict:
        return len(a) <= 10_000 and all(
            _arg_admissible(k, depth + 1) and _arg_admissible(v, depth + 1) for k, v in a.items()
        )
    if isinstance(a, type):
        return _is_script_class(a) or (_is_engine_type(a) and not issubclass(a, type))
    mod = getattr(tp, "__module__", None)
    return _is_script_class(tp) or _is_engine_type(tp) or (type(mod) is str and mod.startswith("tcli."))


def _refused(obj: Any, name: str) -> AttributeError:
    owner = obj if isinstance(obj, type) else type(obj)
    label = f"type object '{owner.__name__}'" if isinstance(obj, type) else f"'{owner.__name__}' object"
    if hasattr(owner, name):
        return refusal(f"{label} attribute '{name}' is not available in tsr")
    return AttributeError(f"{label} has no attribute '{name}'")


#: The reprs of tcli's own classes (the stdlib facades') that write values they hold: each maps to what gives those
#: values, as a tuple _ReprBudget measures (registered by the facade's module).
REPR_PARTS: dict[Callable, Callable[[Any], tuple]] = {}


class _ReprBudget:
    """Estimates the length of a container's repr, giving up (MemoryError) past the budget. Shared
    containers are measured once but counted at every occurrence, as repr prints them."""

    __slots__ = ("budget", "memo")

    def __init__(self, budget: int) -> None:
        self.budget = budget
        self.memo: dict[int, int] = {}

    def measure(self, value: Any, depth: int) -> int:
        tp = type(value)
        if tp is str:
            n = len(value) + 2
        elif tp is int:
            n = value.bit_length() // 3 + 2
        elif tp in _CONTAINERS:
            key = id(value)
            n = self.memo.get(key, -1)
            if n >= 0:
                return n
            if depth > 100:  # repr itself stops with RecursionError
                return 8
            self.memo[key] = 5  # a cycle prints as [...]
            n = 2
            for item in value.items() if isinstance(value, dict) else value:
                n += self.measure(item, depth + 1) + 2
                if n > self.budget:
                    break
            self.memo[key] = n
        elif isinstance(value, BaseException):  # its str and repr are its args' (ValueError(*["x" * 10**6] * 1000))
            args = value.args
            n = 16 + (self.measure(args, depth + 1) if type(args) is tuple else 0)
        else:
            n = 16
            # (a repr of tcli's own that writes values, not the script's code that is charged as it runs: an enum
            # member's `<E.A: value>`, operator.itemgetter's; [E.A] * 200 with a 9M-character value built 1.8 GB)
            parts = REPR_PARTS.get(tp.__repr__)
            if parts is not None:
                n += self.measure(parts(value), depth + 1)
        if n > self.budget:
            raise MemoryError(f"printing this value would take over {self.budget:,} characters (tsr limit)")
        return n


def _dtype_size(dtype: Any) -> int | None:
    """Bytes per element of an engine or numpy dtype (or numpy scalar type), None when unknown. An engine
    dtype counts what it stores: bfloat16 lies in float32 arrays (its itemsize, 2, is torch's)."""
    engine = sys.modules.get("engine.dtypes")
    if engine is not None and type(dtype) is engine.dtype:
        return int(dtype.np.itemsize)
    size = getattr(dtype, "itemsize", None)
    if type(size) is int:
        return size
    np = sys.modules.get("numpy")
    if np is not None:
        try:
            return int(np.dtype(dtype).itemsize)
        except Exception:  # not a numpy dtype either
            return None
    return None


def _itemsize(x: Any) -> int:
    """Bytes per element of a tensor or array (8 for anything else: Python numbers become int64/float64)."""
    return _dtype_size(getattr(x, "dtype", None)) or 8


def _prod(dims: Iterable[int]) -> int:
    n = 1
    for d in dims:
        n *= max(int(d), 0)
    return n


def _broadcast_shape(a: tuple, b: tuple) -> tuple | None:
    out = []
    for i in range(1, max(len(a), len(b)) + 1):
        x = a[-i] if i <= len(a) else 1
        y = b[-i] if i <= len(b) else 1
        if x != y and x != 1 and y != 1:
            return None
        out.append(max(x, y) if x and y else 0)
    return tuple(reversed(out))


def _dims(value: Any) -> list[int] | None:
    if isinstance(value, int):
        return [int(value)]
    if isinstance(value, (list, tuple)) and all(isinstance(d, int) for d in value):
        return [int(d) for d in value]
    return None


def _size_args(args: tuple, kwargs: dict, first: int = 0) -> int | None:
    """torch.zeros(2, 3) / zeros((2, 3)) / zeros(size=(2, 3)) / np.zeros(shape)."""
    for key in ("size", "shape"):
        if key in kwargs:
            dims = _dims(kwargs[key])
            return None if dims is None else _prod(dims)
    rest = args[first:]
    if len(rest) == 1:
        dims = _dims(rest[0])
    else:
        dims = _dims(tuple(rest))
    return None if dims is None else _prod(dims)


def _operands(prelude: Prelude, values: Iterable[Any]) -> list:
    types_ = prelude.array_types
    return [v for v in values if types_ and isinstance(v, types_)]


def _rule_broadcast(p: Prelude, args: tuple, kwargs: dict, owner: Any) -> int | None:
    ops = _operands(p, ([owner] if owner is not None else []) + list(args[:3]))
    if len(ops) < 2:
        return None
    if _prod(p.numel(o) for o in ops) < _SMALL_ELEMENTS:
        return None
    shape: tuple | None = tuple(ops[0].shape)
    for o in ops[1:]:
        shape = _broadcast_shape(shape, tuple(o.shape)) if shape is not None else None
    return None if shape is None else _prod(shape)


def _rule_matmul(p: Prelude, args: tuple, kwargs: dict, owner: Any) -> int | None:
    ops = _operands(p, ([owner] if owner is not None else []) + list(args[:2]))
    return _matmul_numel(tuple(ops[0].shape), tuple(ops[1].shape)) if len(ops) == 2 else None


def _matmul_numel(sa: tuple, sb: tuple) -> int | None:
    if len(sa) < 2 or len(sb) < 2:
        return None  # a vector operand: the result is no larger than the other operand
    batch = _broadcast_shape(sa[:-2], sb[:-2])
    return None if batch is None else _prod(batch) * sa[-2] * sb[-1]


def _rule_outer(p: Prelude, args: tuple, kwargs: dict, owner: Any) -> int | None:
    ops = _operands(p, ([owner] if owner is not None else []) + list(args[:2]))
    return p.numel(ops[0]) * p.numel(ops[1]) if len(ops) == 2 else None


def _rule_product(p: Prelude, args: tuple, kwargs: dict, owner: Any) -> int | None:
    ops = _operands(p, args)
    return _prod(p.numel(o) for o in ops) if len(ops) >= 2 else None


def _rule_arange(p: Prelude, args: tuple, kwargs: dict, owner: Any) -> int | None:
    nums = list(args[:3])
    start, end, step = 0, None, 1
    if len(nums) == 1:
        end = nums[0]
    elif len(nums) >= 2:
        start, end = nums[0], nums[1]
        if len(nums) == 3:
            step = nums[2]
    start = kwargs.get("start", start)
    end = kwargs.get("end", kwargs.get("stop", end))
    step = kwargs.get("step", step)
    if end is None or not step:
        return None
    return max(0, math.ceil((float(end) - float(start)) / float(step)))


#: bytes of one number tolist() makes (a float object, or an int past the cached small ones, and its list slot)
_NUMBER_BYTES = 40
#: bytes of one tensor a split makes (the view object, its fields and its tuple slot; measured: about 245)
_TENSOR_BYTES = 256


def _dim_size(t: Any, dim: Any) -> int:
    shape = tuple(t.shape)
    return int(shape[dim]) if shape else 1


def _rule_unbind(p: Prelude, args: tuple, kwargs: dict, owner: Any) -> int | None:
    return None if owner is None else _dim_size(owner, args[0] if args else kwargs.get("dim", 0)) * _TENSOR_BYTES


def _rule_split(p: Prelude, args: tuple, kwargs: dict, owner: Any) -> int | None:
    """t.split(size_or_sizes, dim): a piece per `size` elements along dim, or one per size listed."""
    names = ("split_size_or_sections", "split_size", "split_sizes")
    size = args[0] if args else next((kwargs[n] for n in names if n in kwargs), None)
    if owner is None or size is None:
        return None
    if isinstance(size, int):
        n = _dim_size(owner, args[1] if len(args) > 1 else kwargs.get("dim", 0))
        return (-(-n // size) if size > 0 else 1) * _TENSOR_BYTES
    return len(size) * _TENSOR_BYTES


def _rule_sections(p: Prelude, args: tuple, kwargs: dict, owner: Any) -> int | None:
    """chunk/tensor_split/hsplit...: a number of pieces, or indices (one piece more than listed)."""
    names = ("chunks", "sections", "indices", "indices_or_sections", "tensor_indices_or_sections")
    k = args[0] if args else next((kwargs[n] for n in names if n in kwargs), None)
    if k is None:
        return None
    return (int(k) if isinstance(k, int) else len(k) + 1) * _TENSOR_BYTES


def _first_tensor(rule: Callable) -> Callable:
    """A method's rule for torch's function of the same name (the tensor first)."""
    return lambda p, a, k, o: rule(p, a[1:], k, a[0] if a else k.get("input"))


def _rule_repeat(p: Prelude, args: tuple, kwargs: dict, owner: Any) -> int | None:
    reps = _dims(args[0] if len(args) == 1 else tuple(args))
    return None if reps is None or owner is None else p.numel(owner) * _prod(reps)


def _rule_expand(p: Prelude, args: tuple, kwargs: dict, owner: Any) -> int | None:
    sizes = _dims(args[0] if len(args) == 1 else tuple(args))
    if sizes is None or owner is None:
        return None
    shape = tuple(owner.shape)
    dims = [
        shape[i - len(sizes) + len(shape)] if d == -1 and i - len(sizes) + len(shape) >= 0 else d
        for i, d in enumerate(sizes)
    ]
    return _prod(dims)


def _rule_eye(p: Prelude, args: tuple, kwargs: dict, owner: Any) -> int | None:
    n = args[0] if args else kwargs.get("n", kwargs.get("N"))
    m = args[1] if len(args) > 1 and isinstance(args[1], int) else kwargs.get("m", kwargs.get("M", n))
    return None if n is None else int(n) * int(m if m is not None else n)


def _rule_randint(p: Prelude, args: tuple, kwargs: dict, owner: Any) -> int | None:
    if "size" in kwargs:
        return _size_args((), kwargs)
    for x in args:  # randint(high, size) / randint(low, high, size)
        if isinstance(x, (tuple, list)):
            dims = _dims(x)
            return None if dims is None else _prod(dims)
    return None


def _np_random(position: int) -> Callable[[Prelude, tuple, dict, Any], int | None]:
    """numpy.random functions take size= or a positional size at a fixed place."""

    def rule(p: Prelude, args: tuple, kwargs: dict, owner: Any) -> int | None:
        size = kwargs["size"] if "size" in kwargs else args[position] if len(args) > position else None
        if size is None:
            return None
        dims = _dims(size)
        return None if dims is None else _prod(dims)

    return rule


SIZE_RULES: dict[str, Callable[[Prelude, tuple, dict, Any], int | None]] = {
    "size": lambda p, a, k, o: _size_args(a, k),
    "full": lambda p, a, k, o: _size_args(a[:1], {x: k[x] for x in ("size", "shape") if x in k}),
    "randint": _rule_randint,
    "normal": lambda p, a, k, o: _size_args((), k) if "size" in k else (_size_args(a[2:3], {}) if len(a) > 2 else None),
    "arange": _rule_arange,
    "steps": lambda p, a, k, o: int(a[2] if len(a) > 2 else k["steps"]),
    "np_steps": lambda p, a, k, o: int(a[2] if len(a) > 2 else k.get("num", 50)),
    "eye": _rule_eye,
    "count": lambda p, a, k, o: int(a[0] if a else k["n"]) if isinstance(a[0] if a else k.get("n"), int) else None,
    "data": lambda p, a, k, o: _data_elements(a[0]) if a else None,
    "np_data": lambda p, a, k, o: _data_elements(a[0]) if a else None,
    "np_ufunc": lambda p, a, k, o: _ufunc_elements(p, a),
    "np_size": lambda p, a, k, o: _size_args(a[:1], k),
    "astype": lambda p, a, k, o: p.numel(o),
    "np_like": lambda p, a, k, o: p.numel(a[0]) if a else None,
    "broadcast": _rule_broadcast,
    "matmul": _rule_matmul,
    "outer": _rule_outer,
    "product": _rule_product,
    "repeat": _rule_repeat,
    "expand": _rule_expand,
    "np_random0": _np_random(0),
    "np_random1": _np_random(1),
    "np_random2": _np_random(2),
    "np_repeat": lambda p, a, k, o: p.numel(o) * int(a[0]) if a and isinstance(a[0], int) else None,
    "like": lambda p, a, k, o: p.numel(a[0] if a else k["the_template"]),
    "first_size": lambda p, a, k, o: _size_args(a[:1], k),
    "second_size": lambda p, a, k, o: _size_args(a[1:2], k),
    "torch_tile": lambda p, a, k, o: _rule_repeat(p, a[1:2] or (k["dims"],), {}, a[0] if a else k["input"]),
    "interleave": lambda p, a, k, o: _interleaved(p, o, a[0] if a else k["repeats"]),
    "pylist": lambda p, a, k, o: p.numel(o) * _NUMBER_BYTES,
    "unbind": _rule_unbind,
    "split": _rule_split,
    "sections": _rule_sections,
    "torch_unbind": _first_tensor(_rule_unbind),
    "torch_split": _first_tensor(_rule_split),
    "torch_sections": _first_tensor(_rule_sections),
    "torch_interleave": lambda p, a, k, o: _interleaved(p, a[0], a[1] if len(a) > 1 else k["repeats"]),
}

#: rules of torch's functions whose result has the dtype of the tensor they take first (torch.tile(t, reps))
_FIRST_TENSOR_RULES = frozenset({"second_size", "torch_tile", "torch_interleave"})
#: rules that count the bytes of the Python objects a call makes (tolist's numbers, split's tensors)
_OBJECT_RULES = frozenset({"pylist", "unbind", "split", "sections", "torch_unbind", "torch_split", "torch_sections"})


def _interleaved(p: Prelude, x: Any, repeats: Any) -> int | None:
    """Elements repeat_interleave makes: each of x's repeated `repeats` times (a number), or as many times as
    the counts in a tensor say (one count per element along the dim they repeat)."""
    if isinstance(repeats, int):
        return p.numel(x) * int(repeats)
    if p.tensor_type is not None and isinstance(repeats, p.tensor_type) and repeats.numel() > 1:
        return int(repeats.sum()) * (p.numel(x) // repeats.numel())
    if p.tensor_type is not None and isinstance(repeats, p.tensor_type) and repeats.numel() == 1:
        return p.numel(x) * int(repeats.sum())
    return None


#: where a rule's function takes its dtype positionally (np.zeros(shape, dtype), np.full(shape, fill, dtype),
#: a.astype(dtype)): a dtype such as 'S1000000000' makes each element that many bytes
_DTYPE_AT = {"np_size": 1, "data": 1, "np_data": 1, "full": 2, "astype": 0, "np_like": 1}


def _static_attribute(cls: type, name: str) -> Any:
    for k in cls.__mro__:
        if name in vars(k):
            return vars(k)[name]
    return None


_UNBOUND: dict[tuple[type, str], Callable] = {}
_UNBOUND_OF: dict[Callable, tuple[type, str]] = {}  # (each guard's class and name: its text, _unbound_text)


def _unbound_method(cls: type, name: str, fn: Callable) -> Callable:
    """A method read from a class (`nn.Module.set_submodule`): it applies to instances of that class only, as a
    C method descriptor does; a plain Python function would take any object (a class, a dtype) as self. One
    wrapper per defining class, so that a subclass reads the very function its base holds, as in Python
    (`torch.optim.AdamW.step is torch.optim.Adam.step`, printed at one address)."""
    for owner in cls.__mro__:
        if vars(owner).get(name) is fn:
            cls = owner
            break
    key = (cls, name)
    checked = _UNBOUND.get(key)
    if checked is None:

        def checked(*args: Any, **kwargs: Any) -> Any:
            if not args or not isinstance(args[0], cls):
                what = ("type" if isinstance(args[0], type) else tp_name(type(args[0]))) if args else "nothing"
                raise TypeError(f"descriptor '{name}' for '{tp_name(cls)}' objects doesn't apply to a '{what}' object")
            return fn(*args, **kwargs)

        checked.__name__ = name
        checked.__qualname__ = getattr(fn, "__qualname__", name)  # (print(nn.Module.parameters): Module.parameters)
        checked = _UNBOUND[key] = checked
        _UNBOUND_OF[checked] = key
    return checked


def _holds_objects(dtype: Any) -> bool:
    np = sys.modules.get("numpy")
    if np is None:
        return False
    try:  # (a structured dtype given as a list or dict may hide an object field)
        return bool(np.dtype(dtype).hasobject)
    except Exception:  # not a numpy dtype (torch's): the function reports it
        return False


#: the key, in a script object's __dict__, of the private names its code set (no attribute syntax reaches it)
_OWNED = "_\x00tsr_owned"
#: what numpy may read as an array's element, or takes beside data (screen_array_data)
_ARRAY_SCALARS = frozenset({int, float, complex, bool, str, bytes, type(None), range, slice, type(Ellipsis)})
#: arguments of a numpy call that need no screening (a string may name an object dtype)
_PLAIN_NUMPY_ARGS = frozenset({int, float, complex, bool, type(None), slice})
#: Python's classes numpy takes as dtypes (np.zeros(3, dtype=float), a.astype(int))
_DTYPE_CLASSES = frozenset({int, float, complex, bool, str, bytes})


def _numpy_dtype_like(x: Any, np: Any) -> bool:
    """A dtype given where numpy also takes data (np.zeros_like(a, np.float32)): nothing numpy reads as an array."""
    return isinstance(x, np.dtype) or (isinstance(x, type) and issubclass(x, np.generic))


def _ufunc_elements(p: Prelude, args: tuple) -> int:
    """Elements a numpy elementwise function or reduction may allocate: its array operands broadcast together,
    or what a list or range operand becomes as an array, whichever is more."""
    shape: tuple | None = ()
    most = 1
    for x in args[:2]:
        if type(x) in (list, tuple, range):
            most = max(most, _data_elements(x) or 1)
        elif (_NDARRAY[0] is not None and isinstance(x, _NDARRAY[0])) or (
            p.tensor_type is not None and isinstance(x, p.tensor_type)
        ):
            s = tuple(x.shape)
            most = max(most, _prod(s))
            shape = _broadcast_shape(shape, s) if shape is not None else None
    return max(most, _prod(shape) if shape is not None else 1)


def _data_elements(data: Any) -> int | None:
    """Elements np.array(data) builds: a range's length, or a nested list's lengths along its first elements
    (a list repeated by reference, [[0] * 10**4] * 10**4, is small in memory but not as an array)."""
    if type(data) is range:
        return len(data)
    n = 1
    for _ in range(64):
        if type(data) not in (list, tuple):
            return n
        n *= len(data)
        if not data:
            return n
        data = data[0]
    return n


def _random_methods(p: Prelude) -> dict[str, Callable]:
    """A random.Random's sample and choices, checked as the module's are."""

    def sample(self_: random.Random, population: Any, k: Any, **kwargs: Any) -> list:
        if isinstance(k, int):
            p.check_length(k)
        return random.Random.sample(self_, population, k, **kwargs)

    def choices(
        self_: random.Random, population: Any, weights: Any = None, *, cum_weights: Any = None, k: Any = 1
    ) -> list:
        if isinstance(k, int):
            p.check_length(k)
        return random.Random.choices(self_, population, weights, cum_weights=cum_weights, k=k)

    def setstate(self_: random.Random, state: Any) -> None:
        random.Random.setstate(self_, _random_state(state))

    return {"sample": sample, "choices": choices, "setstate": setstate}


def _random_state(state: Any) -> Any:
    """A state for random.setstate as getstate makes it: setstate keeps its third item, the next gauss() value,
    whatever it is, and gauss() returns `mu + z * sigma` of it in Python's code, past tsr's checks (a list there
    and gauss([], 12) made a list of 120M items)."""
    if type(state) is tuple and len(state) == 3 and type(state[2]) in (float, type(None)):
        return state
    raise TypeError("random.setstate: the state must be a tuple that random.getstate() returned")


def _RANDOM_CHECKS(p: Prelude) -> dict[str, Callable]:
    """random's functions that build lists of a size the script picks, checked first."""

    def sample(population: Any, k: Any, **kwargs: Any) -> list:
        if isinstance(k, int):
            p.check_length(k)
        return random.sample(population, k, **kwargs)

    def choices(population: Any, weights: Any = None, *, cum_weights: Any = None, k: Any = 1) -> list:
        if isinstance(k, int):
            p.check_length(k)
        return random.choices(population, weights, cum_weights=cum_weights, k=k)

    def shuffle(x: Any) -> None:
        random.shuffle(x)

    def setstate(state: Any) -> None:
        random.setstate(_random_state(state))

    return {"sample": sample, "choices": choices, "shuffle": shuffle, "setstate": setstate}


def _MATH_CHECKS(p: Prelude) -> dict[str, Callable]:
    """math functions that can build huge integers or loop over an iterator in C, checked first."""

    def factorial(n: Any) -> int:
        if isinstance(n, int) and n > 2:
            p.check_int_bits(n * math.log2(n))
        return math.factorial(n)

    def comb(n: Any, k: Any) -> int:
        if isinstance(n, int) and isinstance(k, int) and 0 <= k <= n and n > 2:
            p.check_int_bits(min(k, n - k) * math.log2(n))
        return math.comb(n, k)

    def perm(n: Any, k: Any = None) -> int:
        if isinstance(n, int) and n > 2:
            p.check_int_bits((n if k is None or not isinstance(k, int) else min(k, n)) * math.log2(n))
        return math.perm(n, k)

    def prod(iterable: Any, /, *, start: Any = 1) -> Any:
        mul = p.binary_operators[operator.mul]
        total = start
        for block in p.chunks(iterable):
            for x in block:
                total = mul(total, x)
        return total

    def lcm(*integers: Any) -> int:
        if all(isinstance(i, int) for i in integers):
            p.check_int_bits(_py.sum(i.bit_length() for i in integers))
        return math.lcm(*integers)

    def fsum(iterable: Any, /) -> float:
        return math.fsum(p.bounded_list(iterable))

    def dist(a: Any, b: Any, /) -> float:
        return math.dist(p.materialize(a), p.materialize(b))

    return {"factorial": factorial, "comb": comb, "perm": perm, "prod": prod, "lcm": lcm, "fsum": fsum, "dist": dist}
