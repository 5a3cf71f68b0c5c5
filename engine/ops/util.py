"""Helpers every op family shares: dim normalisation, device checks, result dtypes, graph recording."""

from __future__ import annotations

from typing import Any

import numpy as np

from engine.autograd import Node, accumulator, next_seq, output_edge
from engine.dtypes import DEFAULT, INT, PROMOTE, _combine, dtype_of
from engine.grad_mode import ENABLED
from engine.naming import type_name
from engine.tensor import Tensor, wrap

SCALARS = (int, float, bool)


def norm_dim(dim: Any, ndim: int) -> int:
    if not isinstance(dim, int) or isinstance(dim, bool):
        try:
            dim = dim.__index__()
        except AttributeError:
            raise TypeError(f"dim must be an int, got {type_name(dim)}") from None
    n = ndim if ndim > 0 else 1
    if dim < -n or dim >= n:
        raise IndexError(f"Dimension out of range (expected to be in range of [{-n}, {n - 1}], but got {dim})")
    return dim + n if dim < 0 else dim


def norm_dims(dims: Any, ndim: int) -> tuple:
    if isinstance(dims, int):
        dims = (dims,)
    out = tuple(norm_dim(d, ndim) for d in dims)
    seen = set()
    for d in out:
        if d in seen:
            raise RuntimeError(f"dim {d} appears multiple times in the list of dims")
        seen.add(d)
    return out


def mixed_device(a: Tensor, b: Tensor) -> RuntimeError:
    if a._dev.type == "meta" or b._dev.type == "meta":  # (torch's meta kernels check against the first)
        return RuntimeError(f"Tensor on device {_devname(b._dev)} is not on the expected device {_devname(a._dev)}!")
    return RuntimeError(
        "Expected all tensors to be on the same device, but found at least two devices, "
        f"{_devname(a._dev)} and {_devname(b._dev)}!"
    )


def _devname(d: Any) -> str:
    return str(d)


def same_device(tensors: Any) -> Any:
    dev = None
    first = None
    for t in tensors:
        if dev is None:
            dev, first = t._dev, t
        elif t._dev is not dev:
            raise mixed_device(first, t)
    return dev


def result_np(a: Any, b: Any) -> Any:
    """torch.result_type of two operands (tensors or Python scalars) as a numpy dtype."""
    if isinstance(a, Tensor):
        da = dtype_of(a._data)
        za = a._data.ndim == 0
    else:
        da, za = _scalar_dt(a), None
    if isinstance(b, Tensor):
        db = dtype_of(b._data)
        zb = b._data.ndim == 0
    else:
        db, zb = _scalar_dt(b), None
    if za is None and zb is None:
        return PROMOTE[da, db].np
    if za is None:
        return _combine(db, da).np
    if zb is None:
        return _combine(da, db).np
    if za == zb:
        return PROMOTE[da, db].np
    return (_combine(db, da) if za else _combine(da, db)).np


def _scalar_dt(v: Any) -> Any:
    from engine.dtypes import bool_, int64

    if isinstance(v, bool):
        return bool_
    if isinstance(v, int):
        return int64
    if isinstance(v, float):
        return DEFAULT.float
    if isinstance(v, complex):
        from engine.dtypes import default_complex

        return default_complex()
    if isinstance(v, np.generic):  # torch treats numpy scalars as the Python numbers they hold
        return DEFAULT.float if isinstance(v, np.bool_) else _scalar_dt(v.item())  # np.bool_ as a float
    raise TypeError(f"unsupported operand type: {type_name(v)}")


def as_tensor_like(v: Any, like: Tensor, np_dtype: Any = None) -> Tensor:
    """A Python scalar or array-like as a tensor on like's device."""
    if isinstance(v, Tensor):
        return v
    xp = like._dev.xp
    if np_dtype is None:
        np_dtype = result_np(like, v) if isinstance(v, SCALARS) else None
    return wrap(xp.asarray(v, dtype=np_dtype), like._dev)


def to_np_dtype(d: Any) -> Any:
    from engine.dtypes import to_dtype

    return to_dtype(d).np


class SparseOperand(NotImplementedError):
    """Raised by a sparse tensor's array stand-in (engine/sparse_tensor.py) when a dense op reaches it: the torch
    functions that also take a sparse operand (mm, matmul, add, sub, mul) catch it and turn to the sparse module,
    at no cost to their dense path. Named as torch's error is named (a NotImplementedError)."""


SparseOperand.__name__ = SparseOperand.__qualname__ = "NotImplementedError"
SparseOperand.__module__ = "builtins"


class NotImplementedNode(Node):
    """torch's node for a derivative it does not define: it shows as NotImplemented and raises when run (its
    one saved item names the op, "aten::scatter")."""

    def name(self) -> str:
        return "torch::autograd::NotImplemented"

    def __repr__(self) -> str:
        return f"<NotImplemented object at {id(self):#x}>"

    def backward(self, g: Tensor, op: str) -> tuple:
        raise RuntimeError(f"derivative for {op} is not implemented")


NotImplementedNode.__name__ = NotImplementedNode.__qualname__ = "NotImplemented"  # type_name(fn) as torch


# (numpy's module __getattr__ keeps np.<name> from being read quickly: bound once)
_ndarray = np.ndarray


def record(cls: type, out: Any, dev: Any, inputs: tuple, saved: tuple = (), vers: tuple = ()) -> Tensor:
    """Wrap `out` and, when grad mode is on and an input requires grad, attach a `cls` node.

    inputs: tensors (or None/scalars) the gradient flows to; saved: what backward receives, with
    vers the matching (counter, version) pairs (None for items that are not tensors)."""
    if type(out) is not _ndarray and not isinstance(out, np.ndarray) and not hasattr(out, "__cuda_array_interface__"):
        out = dev.xp.asarray(out)
    t = wrap(out, dev)
    if not ENABLED[0]:
        return t
    need = False
    for i in inputs:
        if isinstance(i, Tensor) and i._rg:
            need = True
            break
    if not need:
        return t
    node = cls()
    node._seq = next_seq()
    node._next = tuple(edge_of(i) for i in inputs)
    node._saved = saved
    node._vers = vers
    node._ctx = (out.shape, out.dtype)
    t._rg = True
    t.grad_fn = node
    return t


def edge_of(i: Any) -> Node | None:
    if not isinstance(i, Tensor):
        return None
    fn = i.grad_fn
    if fn is not None:
        return fn if i._accum is None else output_edge(i, fn)
    if i._rg:
        return i._accum or accumulator(i)
    return None


def saved(*items: Any) -> tuple:
    """Version records for saved items: tensors are checked at unpack, other values are not."""
    return tuple((i._vc, i._vc[0]) if isinstance(i, Tensor) else None for i in items)


def node_class(name: str, backward: Any) -> type:
    """A Node subclass named as torch names the op's backward, with its backward formula."""
    return type(name, (Node,), {"__slots__": (), "backward": backward})


def holomorphic(backward: Any) -> Any:
    """A real backward formula made torch's complex one. For an op holomorphic in each input torch's gradient
    is g * conj(df/dx); the real formula is linear in g, so that is conj(formula(conj(g))). Real gradients
    take the formula as it is, for the price of one dtype test."""

    def complex_aware(self: Any, g: Any, *saved: Any) -> tuple:
        if g._data.dtype.kind != "c":
            return backward(self, g, *saved)
        return tuple(None if r is None else r.conj_physical() for r in backward(self, g.conj_physical(), *saved))

    return complex_aware


def track_meta(node: Node, *pairs: Any) -> None:
    """Record (shape, dtype) per input where the op broadcast or cast it, for autograd._fit."""
    node._meta = pairs


def with_out(fn: Any) -> Any:
    """Give a torch function its out= keyword: the result is written into out (or, for a
    (values, indices) result, into the pair of tensors given) and out is returned."""
    import functools

    @functools.wraps(fn)
    def wrapper(*args: Any, out: Any = None, **kwargs: Any) -> Any:
        r = fn(*args, **kwargs)
        if out is None:
            return r
        from engine.ops.inplace import write_out

        if isinstance(r, tuple):  # torch.return_types.max -> max_out
            from engine.ops.reduce import RT

            return RT[type(r)._name + "_out"](*(write_out(o, x) for o, x in zip(out, r)))
        return write_out(out, r)

    return wrapper


def float_np() -> Any:
    return DEFAULT.float.np


def add_at(xp: Any, target: Any, idx: Any, values: Any) -> None:
    """target[idx] += values with repeated indices accumulating (numpy's ufunc.at; cupyx on the GPU)."""
    if xp is np:
        np.add.at(target, idx, values)
    else:
        import cupyx

        cupyx.scatter_add(target, idx, values)


def index_range(a: Any) -> tuple[int, int]:
    """The smallest and largest entry of a non-empty index array, for bounds checks. On a device both come
    back in one read (one synchronisation, not two); torch checks there with device-side asserts instead,
    which report at a later call, so this keeps the error at the op that caused it."""
    if type(a) is np.ndarray:
        return int(a.min()), int(a.max())
    from engine.backend import host, on_device

    lo, hi = host(on_device(np.stack)((a.min(), a.max()))).tolist()
    return int(lo), int(hi)


def first_out_of_range(a: Any, lo: int, hi: int) -> int:
    """The first entry (in memory order) of an index array outside [lo, hi): the one torch's serial kernels
    report. Only for the error path, after index_range found one."""
    flat = a.reshape(-1)
    return int(flat[int(((flat < lo) | (flat >= hi)).argmax())])


_C_NAMES = {"float32": "float", "float64": "double", "float16": "c10::Half", "int8": "int8_t", "int16": "int16_t",
            "int32": "int", "int64": "int64_t", "uint8": "uint8_t", "bool": "bool"}  # fmt: skip


def scalar_to(value: Any, np_dtype: Any) -> Any:
    """A Python number as a scalar of a tensor's dtype, as torch's checked_convert makes it: a value the dtype
    cannot hold is torch's "value cannot be converted ... without overflow" error (a float beyond a float
    dtype's range, a nan or out-of-range float for an integer dtype), except that an unsigned dtype takes a
    negative integer down to minus its maximum and wraps it (-1 -> 255 as uint8)."""
    dt = np.dtype(np_dtype)
    k = dt.kind
    if type(value) is complex and k != "c":
        raise _overflow(dt)  # (torch's checked_convert refuses a complex value for a real dtype so)
    if k in "bc" or type(value) is bool or not isinstance(value, (int, float)):
        return dt.type(value)
    lo, hi = _LIMITS.get(dt) or _limits(dt)
    if k == "f":
        if value == value and abs(value) != _INF and abs(float(value)) > hi:
            raise _overflow(dt)
        if dt.char == "e":  # c10::Half is made from a float: a double is rounded to float32 first, then to half
            return np.float16(np.float32(value))
        return dt.type(value)
    if isinstance(value, float):
        if not (lo <= value <= hi):  # (nan and inf fail this too)
            raise _overflow(dt)
        return dt.type(int(value))
    if value > hi or value < (lo if k == "i" else -hi):
        raise _overflow(dt)
    return dt.type(value) if value >= 0 or k == "i" else np.array(value).astype(dt)[()]


_INF = float("inf")
_LIMITS: dict = {}  # dtype -> (lowest, max): np.finfo/np.iinfo once per dtype (each call costs microseconds)


def _limits(dt: np.dtype) -> tuple:
    info = np.finfo(dt) if dt.kind == "f" else np.iinfo(dt)
    _LIMITS[dt] = r = (float(info.min), float(info.max)) if dt.kind == "f" else (int(info.min), int(info.max))
    return r


def _overflow(dt: np.dtype) -> RuntimeError:
    return RuntimeError(f"value cannot be converted to type {_C_NAMES.get(dt.name, dt.name)} without overflow")


_NUMPY_NAMES = {"axis": "dim", "keepdims": "keepdim"}


def numpy_names(fn: Any, name: str | None = None) -> Any:
    """fn, taking numpy's keyword names as torch's argument parser does (axis= for dim=, keepdims= for
    keepdim=: `P.sum(1, keepdims=True)` is tutorial code). Only functions with a dim or keepdim parameter
    are wrapped, so elementwise hot paths keep no extra call."""
    inner = fn
    while hasattr(inner, "__wrapped__"):  # (with_out and friends: the signature is the wrapped function's)
        inner = inner.__wrapped__
    code = getattr(inner, "__code__", None)
    if code is None:
        return fn
    names = code.co_varnames[: code.co_argcount + code.co_kwonlyargcount]
    if "dim" not in names and "keepdim" not in names:
        return fn

    shown = name or fn.__name__

    def call(*args: Any, **kw: Any) -> Any:
        if kw and ("axis" in kw or "keepdims" in kw):
            given = set(kw)
            for np_name, name in _NUMPY_NAMES.items():
                if np_name in kw:
                    if name in kw:
                        raise TypeError(f"{shown}() got an unexpected keyword argument '{np_name}'")
                    kw[name] = kw.pop(np_name)
            try:
                return fn(*args, **kw)
            except TypeError as e:  # a parser error names the keywords as given (x.sum(keepdims=True))
                text = str(e)
                if " received an invalid combination of arguments - got (" not in text:
                    raise
                head, sep, rest = text.partition("), but expected")
                for np_name, name in _NUMPY_NAMES.items():
                    head = head.replace(f"{name}=", f"{np_name}=") if np_name in given else head
                raise TypeError(head + sep + rest) from None
        return fn(*args, **kw)

    call.__name__, call.__qualname__, call.__doc__ = fn.__name__, fn.__qualname__, fn.__doc__
    call.__wrapped__ = fn  # type: ignore[attr-defined]
    return call


class NoGrad:
    """Grad mode off inside a with block: the engine's own internal steps (cheaper than engine.no_grad, which
    is also a decorator and prints as torch's)."""

    def __enter__(self) -> None:
        self.prev = ENABLED[0]
        ENABLED[0] = False

    def __exit__(self, *exc: object) -> None:
        ENABLED[0] = self.prev


def memory_order(d: Any) -> tuple | None:
    """The dims of d sorted by stride, so that d.transpose(order) read in C order follows d's memory (the order
    in which torch's serial kernels fill a transposed or permuted tensor, and preserve_format lays out a copy).
    None when that is d's own order."""
    if d.ndim < 2 or d.flags.c_contiguous:
        return None
    order = tuple(sorted(range(d.ndim), key=lambda i: -abs(d.strides[i])))
    return None if order == tuple(range(d.ndim)) else order


def named_code(fn: Any, name: str) -> Any:
    """fn under torch's name, in Python's own argument errors too ("logical_and() got an unexpected keyword
    argument 'out'"), which quote the code object's name."""
    kw = {"co_name": name, "co_qualname": name} if hasattr(fn.__code__, "co_qualname") else {"co_name": name}
    fn.__code__ = fn.__code__.replace(**kw)
    fn.__name__ = fn.__qualname__ = name
    return fn


def parser_type_name(x: Any) -> str:
    """A value's type as torch's argument parser names it in its errors: builtins and torch's own classes bare
    (list, Tensor, Parameter), others with their module (numpy.ndarray)."""
    tp = type(x)
    if isinstance(x, type):  # (torch.Size itself, an engine class whose metaclass is ours)
        return "type"
    module = tp.__module__
    if module == "builtins" or module.startswith("engine."):
        return type_name(x)
    return f"{module}.{tp.__name__}"


def parser_arg_text(v: Any) -> str:
    """How torch's argument parser describes a value that did not match ("list of [float, float]")."""
    if isinstance(v, list):
        return f"list of [{', '.join(parser_type_name(e) for e in v)}]"
    if isinstance(v, tuple):
        return f"tuple of ({', '.join(parser_type_name(e) for e in v)}{',' if len(v) == 1 else ''})"
    return parser_type_name(v)


def invalid_combination(fn: str, args: tuple, overloads: tuple, marked: bool, before: tuple = (),
                        marks_from: tuple | None = None, kwargs: dict | None = None) -> TypeError:  # fmt: skip
    """torch's parser error when no overload takes the arguments; `marked` adds each overload's line that marks
    the arguments of the wrong type (shown when every overload took that many arguments); `before` names the
    types of arguments given ahead of `args` (a function's Tensor input). marks_from: per overload, the index
    of the first argument it did not take (torch marks that one and every later one), else all are marked.
    kwargs: keyword arguments, listed as name=type after the positional ones (torch's own order is its hash
    map's; here the given order)."""
    pos = [*before, *map(parser_type_name, args)]
    kws = [f"{k}={parser_type_name(v)}" for k, v in (kwargs or {}).items()]
    # (with no positional argument torch ends each keyword with ", ": "got (steps=int, )")
    got = ", ".join(pos + kws) if pos else "".join(k + ", " for k in kws)
    lines = [f"{fn}() received an invalid combination of arguments - got ({got}), but expected one of:"]
    for i, o in enumerate(overloads):
        lines.append(f" * {o}")
        if marked:
            first = 0 if marks_from is None else marks_from[i]
            marks = ", ".join(
                parser_type_name(a) if k < first else f"!{parser_arg_text(a)}!" for k, a in enumerate(args)
            )
            lines.append(f"      didn't match because some of the arguments have invalid types: ({marks})")
    return TypeError("\n".join(lines) + "\n")


def bad_keywords(fn: str, args: tuple, kwargs: dict, overloads: tuple, before: tuple = ()) -> TypeError:
    """torch's parser error for a keyword that none of several overloads takes (torch.randn(2, require_grad=True)):
    every overload listed, and under each that took as many arguments as were given, the keywords it does not
    name. (torch counts an overload's arguments by splitting its text at ", ", and reads the last word of each as
    its name, so "()" counts one and "Tensor out = None" is named "None".) The keywords are listed last given
    first, as torch's hash map lists them (each new key goes to the front where keys fall in distinct buckets)."""
    kwargs = dict(reversed(kwargs.items()))
    pos = [*before, *map(parser_type_name, args)]
    kws = [f"{k}={parser_type_name(v)}" for k, v in kwargs.items()]
    got = ", ".join(pos + kws) if pos else "".join(k + ", " for k in kws)
    lines = [f"{fn}() received an invalid combination of arguments - got ({got}), but expected one of:"]
    n_got = len(pos) + len(kwargs)
    for o in overloads:
        lines.append(f" * {o}")
        names = [a.rsplit(" ", 1)[-1] for a in o[1:-1].split(", ")]
        if n_got == len(names) or ("..." in o and n_got > len(names)):
            known = names[max(0, len(names) - len(kwargs)) :]
            unmatched = [k for k in kwargs if k not in known]
            if unmatched:
                lines.append(f"      didn't match because some of the keywords were incorrect: {', '.join(unmatched)}")
    return TypeError("\n".join(lines) + "\n")


def dim_list_ok(dim: Any) -> bool:
    """Whether torch's parser would take `dim` as a dim list (an int, or a sequence that starts with one)."""
    if isinstance(dim, (tuple, list)):
        return not dim or _int_like(dim[0], True)
    return _int_like(dim, True)


def _int_like(x: Any, first: bool) -> bool:
    """What torch's parser takes as an int in a size: ints (a bool only after the first), numpy integers and
    0-d integer tensors."""
    if isinstance(x, Tensor):
        return x.ndim == 0 and x.dtype.cat == INT
    return isinstance(x, (int, np.integer)) and not (first and isinstance(x, (bool, np.bool_)))


_GENERATOR_TAIL = (
    "Tensor out = None, torch.dtype dtype = None, torch.layout layout = None, torch.device device = None, "
    "bool pin_memory = False, bool requires_grad = False)"
)
#: the functions taking a size whose parser has several signatures: `x.view(n / 2, 3)` lists them, where a
#: function of one signature says it "takes 1 positional argument"
SIZE_OVERLOADS = {
    "view": ("(torch.dtype dtype)", "(tuple of ints size)"),
    "rand": (
        f"(tuple of ints size, *, torch.Generator generator, {_GENERATOR_TAIL}",
        f"(tuple of ints size, *, {_GENERATOR_TAIL}",
    ),
    "randn": (
        f"(tuple of ints size, *, torch.Generator generator, {_GENERATOR_TAIL}",
        f"(tuple of ints size, *, {_GENERATOR_TAIL}",
    ),
}


def int_list(args: tuple, fn: str, arg: str) -> tuple:
    """A size given as ints or as one sequence (`zeros(2, 3)`, `zeros((2, 3))`), with the messages of torch's
    argument parser: it checks the first element's type (or the one argument's) to pick the signature, then
    unpacks the rest."""
    if len(args) == 1:
        a = args[0]
        if isinstance(a, (tuple, list)):
            if not a:
                return ()
            if not _int_like(a[0], True):
                raise TypeError(
                    f"{fn}(): argument '{arg}' (position 1) must be tuple of ints, but found element of type "
                    f"{parser_type_name(a[0])} at pos 0"
                )
            items = a
        elif _int_like(a, True):
            return (int(a),)
        else:
            raise TypeError(f"{fn}(): argument '{arg}' (position 1) must be tuple of ints, not {parser_type_name(a)}")
    elif not _int_like(args[0], True):
        overloads = SIZE_OVERLOADS.get(fn)
        if overloads is not None:  # (several signatures: the parser lists them all)
            raise invalid_combination(fn, args, overloads, False)
        raise TypeError(f"{fn}() takes 1 positional argument but {len(args)} were given")
    else:
        items = args
    out = []
    for k, s in enumerate(items):
        if type(s) is int:
            out.append(s)
        elif _int_like(s, False):
            out.append(int(s))
        else:
            raise TypeError(
                f"{fn}(): argument '{arg}' failed to unpack the object at pos {k + 1} with error \"type must be tuple "
                f'of ints,but got {parser_type_name(s)}"'
            )
    return tuple(out)
