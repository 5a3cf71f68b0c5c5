"""A cupy emulator on numpy, for finding numpy/cupy mixing bugs in the engine without a GPU.

`install()` puts it in sys.modules as `cupy` and `cupyx` (tests/conftest.py does that when TCLI_FAKE_CUPY=1),
so `engine.cuda.is_available()` is true and every "cuda" tensor holds a `fakecupy.ndarray`.

What it enforces, as cupy 14 does:
- a fakecupy.ndarray is *not* a numpy.ndarray (isinstance/type checks see a foreign array);
- ufuncs and functions refuse numpy arrays of any ndim (0-d included) and Python lists among their array
  arguments: TypeError("Unsupported type <class 'numpy.ndarray'>"); Python and numpy scalars are accepted;
- numpy functions called on a fakecupy array dispatch (__array_ufunc__/__array_function__) to the fakecupy
  function of the same name, or fail where cupy has none; numpy calls that would convert it
  (np.asarray, np.array, np.lib.stride_tricks, ...) raise cupy's "Implicit conversion" TypeError;
- reductions and scalar indexing return 0-d arrays, not numpy scalars;
- `flags` has only c_contiguous, f_contiguous and owndata; no `__array_interface__` (there is
  `__cuda_array_interface__`), `.data.ptr`, `.device.id`, `.get()`, `.set()`;
- indexing accepts numpy/list index arrays (cupy copies them over); basic-index assignment of a non-scalar
  numpy value fails as cupy's fill does, advanced-index assignment accepts it;
- `indices` has no `sparse=`, there is no `errstate`/`seterr`; broadcast views are writeable.
Explicit transfers: cupy.asarray/array/asnumpy, ndarray.get/set.
Where it differs: numpy's dtype promotion and numerics, no streams or asynchrony, no ElementwiseKernel/fuse,
`random` is numpy's legacy random wrapped (cupy's own generators differ), and names cupy lacks beyond the
ones listed in _MISSING may still be present.
"""

from __future__ import annotations

import contextlib
import sys
import types
import warnings
import weakref
from typing import Any

import numpy as np

__version__ = "14.2.0-fake"

_IMPLICIT = (
    "Implicit conversion to a NumPy array is not allowed. Please use `.get()` to construct a NumPy array explicitly."
)
_SCALARS = (int, float, complex, bool, np.generic)
_REG: dict[int, weakref.ref] = {}
# Every device<->host transfer (each is a synchronisation on a GPU) is logged here while TRANSFERS is a list:
# `with transfers() as log:` collects (kind, where) pairs; tests assert a hot path logs none.
TRANSFERS: list | None = None


def _transfer(kind: str) -> None:
    if TRANSFERS is not None:
        f = sys._getframe(2)
        while f is not None and f.f_code.co_filename == __file__:
            f = f.f_back
        where = f"{f.f_code.co_filename.rpartition('/')[2]}:{f.f_lineno} {f.f_code.co_name}" if f else "?"
        TRANSFERS.append((kind, where))


# Called with the numpy array under every write into an existing device array (ufunc out=, in-place operators,
# index assignment, fill, set, scatter, copyto); tests/conftest.py uses it to check that nothing writes into an
# array a pending fused recipe still reads (engine/ops/fusion.py).
WRITE_GUARD: Any = None


def _written(a: Any) -> None:
    if WRITE_GUARD is not None and isinstance(a, np.ndarray):
        WRITE_GUARD(a)


@contextlib.contextmanager
def transfers() -> Any:
    """Log device->host reads (item, float(), bool(), get, printing, boolean-mask indexing, nonzero) and
    host->device copies of numpy data (asarray/array of a numpy array, host index arrays) made inside."""
    global TRANSFERS
    outer, TRANSFERS = TRANSFERS, []
    try:
        yield TRANSFERS
    finally:
        TRANSFERS = outer


def _unsupported(x: Any) -> TypeError:
    return TypeError(f"Unsupported type {type(x)}")


def _wrap_arr(a: np.ndarray) -> ndarray:
    ref = _REG.get(id(a))
    if ref is not None:
        w = ref()
        if w is not None and w._a is a:
            return w
    if not a.flags.writeable and a.base is not None:  # cupy's broadcast views are writeable
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                a.flags.writeable = True
            except ValueError:
                pass
    w = object.__new__(ndarray)
    w._a = a
    key = id(a)
    _REG[key] = weakref.ref(w, lambda _r, k=key: _REG.pop(k, None) if _REG.get(k) is _r else None)
    return w


def _wrap(r: Any) -> Any:
    if type(r) is np.ndarray:
        return _wrap_arr(r)
    if isinstance(r, np.ndarray):  # a numpy subclass (matrix, ...): cupy has none
        return _wrap_arr(np.asarray(r))
    if isinstance(r, np.generic):
        return _wrap_arr(np.asarray(r))
    if isinstance(r, tuple):
        if hasattr(r, "_fields"):
            return type(r)(*(_wrap(x) for x in r))
        return tuple(_wrap(x) for x in r)
    if isinstance(r, list):
        return [_wrap(x) for x in r]
    return r


def _strict(x: Any) -> Any:
    """An array argument of a ufunc: cupy arrays and scalars only."""
    if isinstance(x, ndarray):
        return x._a
    if x is None or isinstance(x, _SCALARS):
        return x
    if isinstance(x, (np.ndarray, list, tuple)):
        raise _unsupported(x)
    if hasattr(x, "__cuda_array_interface__"):
        return x
    raise _unsupported(x)


def _arg(x: Any, allow_numpy: bool = False) -> Any:
    """An argument of a function: cupy arrays unwrapped, numpy arrays refused (unless a transfer)."""
    if isinstance(x, ndarray):
        return x._a
    if isinstance(x, np.ndarray):
        if allow_numpy:
            return x
        raise _unsupported(x)
    if isinstance(x, (list, tuple)):
        return type(x)(_arg(v, allow_numpy) for v in x) if not hasattr(x, "_fields") else x
    if isinstance(x, dict):
        return {k: _arg(v, allow_numpy) for k, v in x.items()}
    if x is ndarray:
        return np.ndarray
    return x


def _kw(kwargs: dict, allow_numpy: bool = False) -> dict:
    out = {}
    for k, v in kwargs.items():
        if k == "out" and v is not None:
            if isinstance(v, tuple):
                out[k] = tuple(_strict(o) if o is not None else None for o in v)
            else:
                if not isinstance(v, ndarray):
                    raise TypeError(f"Output arrays must be cupy.ndarray, got {type(v)}")
                out[k] = v._a
        else:
            out[k] = _arg(v, allow_numpy)
    return out


class ufunc:
    """cupy.ufunc over a numpy ufunc: arguments must be cupy arrays or scalars."""

    def __init__(self, uf: np.ufunc) -> None:
        self._uf = uf
        self.__name__ = uf.__name__
        self.nin = uf.nin
        self.nout = uf.nout
        self.nargs = uf.nargs
        self.types = uf.types

    def __repr__(self) -> str:
        return f"<ufunc '{self.__name__}'>"

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        kw = _kw(kwargs)
        outs = kw.get("out")
        for o in outs if isinstance(outs, tuple) else (outs,):
            _written(o)
        return _wrap(self._uf(*(_strict(a) for a in args), **kw))

    def _method(self, name: str, args: tuple, kwargs: dict) -> Any:
        return _wrap(getattr(self._uf, name)(*(_strict(a) for a in args), **_kw(kwargs)))

    def reduce(self, *args: Any, **kwargs: Any) -> Any:
        return self._method("reduce", args, kwargs)

    def accumulate(self, *args: Any, **kwargs: Any) -> Any:
        return self._method("accumulate", args, kwargs)

    def reduceat(self, *args: Any, **kwargs: Any) -> Any:
        return self._method("reduceat", args, kwargs)

    def outer(self, *args: Any, **kwargs: Any) -> Any:
        return self._method("outer", args, kwargs)

    def at(self, a: Any, indices: Any, b: Any = None) -> None:
        if not isinstance(a, ndarray):
            raise _unsupported(a)
        idx = _index(indices)
        _written(a._a)
        if b is None:
            self._uf.at(a._a, idx)
        else:
            self._uf.at(a._a, idx, _strict(b))


def _index_part(s: Any) -> Any:
    if s is None or s is Ellipsis or isinstance(s, slice):
        return s
    if isinstance(s, ndarray):
        return s._a
    if isinstance(s, (list, np.ndarray)):  # cupy copies list/numpy index arrays to the device
        _transfer("host index array")
        return np.asarray(_arg(s, allow_numpy=True))
    if isinstance(s, _SCALARS):
        return s
    if hasattr(s, "__index__"):
        return s.__index__()
    raise IndexError(
        "only integers, slices (`:`), ellipsis (`...`),numpy.newaxis (`None`) and integer or boolean arrays are "
        "valid indices"
    )


def _index(key: Any) -> Any:
    if isinstance(key, tuple):
        return tuple(_index_part(s) for s in key)
    return _index_part(key)


def _advanced(key: Any) -> bool:
    parts = key if isinstance(key, tuple) else (key,)
    return any(isinstance(s, (ndarray, np.ndarray, list)) or isinstance(s, (bool, np.bool_)) for s in parts)


@contextlib.contextmanager
def _cupy_index_errors() -> Any:
    """Index arrays that do not broadcast: cupy broadcasts them as operands (ValueError), numpy says IndexError."""
    try:
        yield
    except IndexError as e:
        if "could not be broadcast" not in str(e):
            raise
        shapes = str(e).rpartition("shapes")[2]
        raise ValueError("operands could not be broadcast together with shapes" + shapes) from None


class _Flags:
    __slots__ = ("c_contiguous", "f_contiguous", "owndata")

    def __init__(self, a: np.ndarray) -> None:
        self.c_contiguous = bool(a.flags.c_contiguous)
        self.f_contiguous = bool(a.flags.f_contiguous)
        self.owndata = bool(a.flags.owndata)

    def __getitem__(self, name: str) -> bool:
        key = {"C_CONTIGUOUS": "c_contiguous", "F_CONTIGUOUS": "f_contiguous", "OWNDATA": "owndata"}.get(name)
        if key is None:
            raise KeyError(f"{name} is not defined for cupy.ndarray.flags")
        return getattr(self, key)

    def __repr__(self) -> str:
        return f"  C_CONTIGUOUS : {self.c_contiguous}\n  F_CONTIGUOUS : {self.f_contiguous}\n  OWNDATA : {self.owndata}"


class _MemoryPointer:
    __slots__ = ("ptr",)

    def __init__(self, ptr: int) -> None:
        self.ptr = ptr


class _DeviceObj:
    def __init__(self, device: int | None = None) -> None:
        self.id = int(device or 0)

    def synchronize(self) -> None:
        pass

    def use(self) -> None:
        pass

    def __enter__(self) -> _DeviceObj:
        return self

    def __exit__(self, *exc: Any) -> None:
        pass

    def __int__(self) -> int:
        return self.id

    def __repr__(self) -> str:
        return f"<CUDA Device {self.id}>"


def _ptr(a: np.ndarray) -> int:
    return int(np.ndarray.__array_interface__.__get__(a)["data"][0])


def _binop(name: str, reflected: bool = False) -> Any:
    def op(self: ndarray, other: Any) -> Any:
        if not isinstance(other, ndarray):
            prio = getattr(other, "__array_priority__", None)
            if prio is not None and not isinstance(other, np.ndarray) and prio > ndarray.__array_priority__:
                return NotImplemented  # cupy's _should_use_rop
        f = _NS[name]
        return f(other, self) if reflected else f(self, other)

    return op


def _iop(name: str) -> Any:
    def op(self: ndarray, other: Any) -> Any:
        _NS[name](self, other, out=self)
        return self

    return op


class ndarray:
    """A cupy.ndarray stand-in holding a numpy array (never itself a numpy array)."""

    __slots__ = ("_a", "__weakref__")
    __array_priority__ = 100
    __hash__ = None  # type: ignore[assignment]

    def __new__(cls, shape: Any, dtype: Any = float, memptr: Any = None, strides: Any = None, order: str = "C") -> Any:
        return _wrap_arr(np.empty(shape, dtype=dtype, order=order))

    # ---- numpy interop: dispatch to this module, never convert ----------------------------------
    def __array__(self, dtype: Any = None, copy: Any = None) -> Any:
        raise TypeError(_IMPLICIT)

    @property
    def __array_interface__(self) -> Any:
        raise AttributeError("'cupy.ndarray' object has no attribute '__array_interface__'")

    def __array_ufunc__(self, uf: np.ufunc, method: str, *inputs: Any, **kwargs: Any) -> Any:
        f = _NS.get(uf.__name__)
        if not isinstance(f, ufunc):
            return NotImplemented
        if method == "__call__":
            return f(*inputs, **kwargs)
        return getattr(f, method)(*inputs, **kwargs)

    def __array_function__(self, func: Any, types_: Any, args: Any, kwargs: Any) -> Any:
        mod = _MODULE
        for part in func.__module__.split(".")[1:]:
            if part.startswith("_"):
                continue
            mod = getattr(mod, part, None)
            if mod is None:
                return NotImplemented
        f = getattr(mod, func.__name__, None)
        if f is None or f is func:
            return NotImplemented
        return f(*args, **kwargs)

    @property
    def __cuda_array_interface__(self) -> dict:
        a = self._a
        return {
            "shape": a.shape,
            "typestr": a.dtype.str,
            "descr": a.dtype.descr,
            "data": (_ptr(a), False),
            "strides": None if a.flags.c_contiguous else a.strides,
            "version": 3,
        }

    # ---- attributes ------------------------------------------------------------------------------
    @property
    def shape(self) -> tuple:
        return self._a.shape

    @shape.setter
    def shape(self, value: Any) -> None:
        self._a = self._a.reshape(value)  # cupy refuses a copying reshape here; numpy views or copies

    dtype = property(lambda self: self._a.dtype)
    ndim = property(lambda self: self._a.ndim)
    size = property(lambda self: self._a.size)
    itemsize = property(lambda self: self._a.itemsize)
    nbytes = property(lambda self: self._a.nbytes)
    strides = property(lambda self: self._a.strides)
    T = property(lambda self: _wrap(self._a.T))
    mT = property(lambda self: _wrap(np.swapaxes(self._a, -1, -2)))
    flags = property(lambda self: _Flags(self._a))
    device = property(lambda self: _DeviceObj(0))

    @property
    def base(self) -> Any:
        b = self._a.base
        while isinstance(b, np.ndarray) and b.base is not None and isinstance(b.base, np.ndarray):
            b = b.base
        return _wrap(b) if isinstance(b, np.ndarray) else None

    @property
    def data(self) -> _MemoryPointer:
        return _MemoryPointer(_ptr(self._a))

    @property
    def real(self) -> Any:
        return _wrap(self._a.real)

    @property
    def imag(self) -> Any:
        return _wrap(self._a.imag)

    # ---- transfers and scalars (these synchronize on cupy too) --------------------------------------
    def get(self, stream: Any = None, order: str = "C", out: Any = None, blocking: bool = True) -> np.ndarray:
        _transfer("get")
        if out is not None:
            out[...] = self._a
            return out
        return np.array(self._a, order=order)

    def set(self, arr: Any, stream: Any = None) -> None:
        if not isinstance(arr, np.ndarray):
            raise TypeError(f"Only numpy.ndarray can be set to cupy.ndarray, got {type(arr)}")
        if arr.shape != self._a.shape:
            raise ValueError("Shape mismatch")
        _written(self._a)
        self._a[...] = arr

    def item(self, *args: Any) -> Any:
        _transfer("item")
        return self._a.item(*args)

    def tolist(self) -> Any:
        _transfer("tolist")
        return self._a.tolist()

    def tobytes(self, order: str = "C") -> bytes:
        _transfer("tobytes")
        return self._a.tobytes(order)

    def __float__(self) -> float:
        _transfer("float")
        return float(self._a)

    def __int__(self) -> int:
        _transfer("int")
        return int(self._a)

    def __complex__(self) -> complex:
        _transfer("complex")
        return complex(self._a)

    def __bool__(self) -> bool:
        _transfer("bool")
        return bool(self._a)

    def __index__(self) -> int:
        _transfer("index")
        return self._a.__index__()

    def __len__(self) -> int:
        return len(self._a)

    def __iter__(self) -> Any:
        if self._a.ndim == 0:
            raise TypeError("iteration over a 0-d array")
        return (self[i] for i in range(self._a.shape[0]))

    def __repr__(self) -> str:
        _transfer("repr")
        return repr(self._a)

    def __str__(self) -> str:
        _transfer("str")
        return str(self._a)

    def __format__(self, spec: str) -> str:
        if self._a.ndim == 0:
            return format(self._a.item(), spec)
        return format(str(self), spec)

    def __copy__(self) -> ndarray:
        return self.copy()

    def __deepcopy__(self, memo: dict) -> ndarray:
        return self.copy()

    def __reduce__(self) -> Any:
        return (array, (self.get(),))

    # ---- indexing ---------------------------------------------------------------------------------
    def __getitem__(self, key: Any) -> Any:
        idx = _index(key)
        parts = idx if isinstance(idx, tuple) else (idx,)
        if any(getattr(p, "dtype", None) == np.bool_ and p.ndim > 0 for p in parts):
            _transfer("boolean mask")  # the result's size is read back from the device
        with _cupy_index_errors():
            return _wrap(self._a[idx])

    def __setitem__(self, key: Any, value: Any) -> None:
        with _cupy_index_errors():
            self._setitem(_index(key), key, value)

    def _setitem(self, idx: Any, key: Any, value: Any) -> None:
        _written(self._a)
        if isinstance(value, ndarray):
            self._a[idx] = value._a
            return
        if isinstance(value, np.ndarray) and not _advanced(key):
            if value.shape != ():
                raise ValueError("non-scalar numpy.ndarray cannot be used for fill")
        elif isinstance(value, (list, tuple)) and not _advanced(key):
            raise _unsupported(value)
        self._a[idx] = _arg(value, allow_numpy=True)

    # ---- methods ----------------------------------------------------------------------------------
    def fill(self, value: Any) -> None:
        _written(self._a)
        if isinstance(value, np.ndarray) and value.shape != ():
            raise ValueError("non-scalar numpy.ndarray cannot be used for fill")
        if isinstance(value, ndarray):
            if value.ndim != 0:
                raise ValueError("non-scalar cupy.ndarray cannot be used for fill")
            value = value._a
        self._a.fill(value)

    def view(self, dtype: Any = None, type: Any = None) -> Any:  # noqa: A002
        if type is not None or (isinstance(dtype, builtins_type) and issubclass(dtype, np.ndarray)):
            raise TypeError(f"Unsupported type {type or dtype}")
        return _wrap(self._a.view() if dtype is None else self._a.view(dtype))

    def __getattr__(self, name: str) -> Any:
        if name not in _METHODS:
            raise AttributeError(f"'cupy.ndarray' object has no attribute '{name}'")
        meth = getattr(self._a, name)
        if name in _SYNCING:
            _transfer(name)
        if name in ("sort", "partition", "put"):  # these methods work in place
            _written(self._a)

        def call(*args: Any, **kwargs: Any) -> Any:
            return _wrap(meth(*(_arg(a) for a in args), **_kw(kwargs)))

        return call

    def __neg__(self) -> Any:
        return _NS["negative"](self)

    def __pos__(self) -> Any:
        return _NS["positive"](self)

    def __abs__(self) -> Any:
        return _NS["absolute"](self)

    def __invert__(self) -> Any:
        return _NS["invert"](self)

    def __matmul__(self, other: Any) -> Any:
        return _NS["matmul"](self, other)

    def __rmatmul__(self, other: Any) -> Any:
        return _NS["matmul"](other, self)

    def __divmod__(self, other: Any) -> Any:
        return _NS["divmod"](self, other)

    def __eq__(self, other: Any) -> Any:  # type: ignore[override]
        return _NS["equal"](self, other)

    def __ne__(self, other: Any) -> Any:  # type: ignore[override]
        return _NS["not_equal"](self, other)

    def __lt__(self, other: Any) -> Any:
        return _NS["less"](self, other)

    def __le__(self, other: Any) -> Any:
        return _NS["less_equal"](self, other)

    def __gt__(self, other: Any) -> Any:
        return _NS["greater"](self, other)

    def __ge__(self, other: Any) -> Any:
        return _NS["greater_equal"](self, other)


builtins_type = type

for _op, _uf in [
    ("add", "add"),
    ("sub", "subtract"),
    ("mul", "multiply"),
    ("truediv", "true_divide"),
    ("floordiv", "floor_divide"),
    ("mod", "remainder"),
    ("pow", "power"),
    ("and", "bitwise_and"),
    ("or", "bitwise_or"),
    ("xor", "bitwise_xor"),
    ("lshift", "left_shift"),
    ("rshift", "right_shift"),
]:
    setattr(ndarray, f"__{_op}__", _binop(_uf))
    setattr(ndarray, f"__r{_op}__", _binop(_uf, reflected=True))
    setattr(ndarray, f"__i{_op}__", _iop(_uf))

_METHODS = {
    "all", "any", "argmax", "argmin", "argpartition", "argsort", "astype", "choose", "clip", "compress", "conj",
    "conjugate", "copy", "cumprod", "cumsum", "diagonal", "dot", "dump", "dumps", "flatten", "max", "mean", "min",
    "nonzero", "partition", "prod", "ptp", "put", "ravel", "repeat", "reshape", "round", "sort", "squeeze", "std",
    "sum", "swapaxes", "take", "tofile", "trace", "transpose", "var",
}  # fmt: skip

# ---- the module namespace -----------------------------------------------------------------------------------

# numpy names cupy does not have (or has with another meaning)
_MISSING = {
    "errstate", "seterr", "geterr", "seterrcall", "geterrcall", "setbufsize", "getbufsize", "nditer", "ndenumerate",
    "ndindex", "nested_iters", "einsum_path", "matrix", "asmatrix", "bmat", "memmap", "recarray", "chararray",
    "busday_count", "busday_offset", "is_busday", "busdaycalendar", "datetime_as_string", "datetime_data",
    "frompyfunc", "info", "show_config", "show_runtime", "test", "get_include", "lib", "ma", "rec", "char",
    "strings", "ctypeslib", "polynomial", "emath", "typing", "testing", "exceptions", "dtypes", "f2py", "matlib",
    "fromregex", "genfromtxt", "loadtxt", "savetxt", "fromstring", "fromfile", "save", "savez", "savez_compressed",
    "load", "array_repr", "array_str", "set_printoptions", "get_printoptions", "printoptions",
    "format_float_positional", "format_float_scientific", "asarray_chkfinite", "asfortranarray", "require",
    "iterable", "mintypecode",
    "typename", "may_share_memory", "shares_memory", "isfortran", "ndarray", "ufunc", "broadcast",
}  # fmt: skip
# functions that accept numpy (host) arrays: the explicit transfers
_TRANSFER = {"array", "asarray", "asanyarray"}


# functions whose result size depends on the data: cupy reads a count back from the device
_SYNCING = {"nonzero", "argwhere", "flatnonzero", "unique", "extract", "compress"}
_WRITES_FIRST = {"copyto", "put", "putmask", "place", "put_along_axis", "fill_diagonal"}


def _func(name: str, f: Any, allow_numpy: bool = False) -> Any:
    def call(*args: Any, **kwargs: Any) -> Any:
        if name in _SYNCING:
            _transfer(name)
        if name in _WRITES_FIRST and args and isinstance(args[0], ndarray):
            _written(args[0]._a)
        return _wrap(f(*(_arg(a, allow_numpy) for a in args), **_kw(kwargs, allow_numpy)))

    call.__name__ = name
    call.__qualname__ = name
    return call


def _sub(name: str, src: Any, names: Any = None) -> types.ModuleType:
    m = types.ModuleType(f"cupy.{name}")
    for n in names if names is not None else dir(src):
        if n.startswith("_"):
            continue
        v = getattr(src, n)
        if callable(v) and not isinstance(v, type):
            setattr(m, n, _func(n, v))
    return m


_MODULE = types.ModuleType("cupy")
_MODULE.__version__ = __version__
_NS = _MODULE.__dict__

for _name in dir(np):
    if _name.startswith("_") or _name in _MISSING:
        continue
    _v = getattr(np, _name)
    if isinstance(_v, np.ufunc):
        _NS[_name] = ufunc(_v)
    elif isinstance(_v, type) or isinstance(_v, (int, float, str)) or _v is None:
        _NS[_name] = _v  # scalar types, dtype, constants, newaxis
    elif isinstance(_v, types.ModuleType):
        continue
    elif callable(_v):
        _NS[_name] = _func(_name, _v, allow_numpy=_name in _TRANSFER)

_NS["ndarray"] = ndarray
_NS["ufunc"] = ufunc


def _host_data(obj: Any) -> None:
    if isinstance(obj, (np.ndarray, list, tuple)):
        _transfer("host to device")


def array(obj: Any, dtype: Any = None, copy: bool = True, order: str = "K", subok: bool = False, ndmin: int = 0) -> Any:
    _host_data(obj)
    return _wrap_arr(np.array(_arg(obj, allow_numpy=True), dtype=dtype, copy=bool(copy), order=order, ndmin=ndmin))


def asarray(a: Any, dtype: Any = None, order: Any = None, *, blocking: bool = False) -> Any:
    if isinstance(a, ndarray) and (dtype is None or np.dtype(dtype) == a.dtype):
        return a
    _host_data(a)
    return _wrap_arr(np.asarray(_arg(a, allow_numpy=True), dtype=dtype, order=order))


def asnumpy(a: Any, stream: Any = None, order: str = "C", out: Any = None, blocking: bool = True) -> np.ndarray:
    if isinstance(a, ndarray):
        return a.get(order=order, out=out)
    return np.asarray(a, order=order)


def get_array_module(*args: Any) -> Any:
    return _MODULE if any(isinstance(a, ndarray) for a in args) else np


def indices(dimensions: Any, dtype: Any = int) -> Any:  # cupy's has no sparse=
    return _wrap_arr(np.indices(dimensions, dtype=dtype))


def _may_share_memory(a: Any, b: Any, max_work: Any = None) -> bool:
    return bool(np.may_share_memory(_strict(a), _strict(b)))


def _shares_memory(a: Any, b: Any, max_work: Any = None) -> bool:
    return bool(np.shares_memory(_strict(a), _strict(b)))


for _f in (array, asarray, asnumpy, get_array_module, indices):
    _NS[_f.__name__] = _f
_NS["asanyarray"] = asarray
_NS["may_share_memory"] = _may_share_memory
_NS["shares_memory"] = _shares_memory
_NS["isfortran"] = lambda a: bool(a.flags.f_contiguous and not a.flags.c_contiguous)

_MODULE.linalg = _sub("linalg", np.linalg)
_MODULE.fft = _sub("fft", np.fft)
_MODULE.random = _sub("random", np.random)
_lib = types.ModuleType("cupy.lib")
_lib.stride_tricks = types.ModuleType("cupy.lib.stride_tricks")


def _as_strided(x: Any, shape: Any = None, strides: Any = None) -> Any:
    if not isinstance(x, ndarray):
        raise _unsupported(x)
    return _wrap_arr(np.lib.stride_tricks.as_strided(x._a, shape, strides, writeable=True))


_lib.stride_tricks.as_strided = _as_strided
_lib.stride_tricks.sliding_window_view = _func("sliding_window_view", np.lib.stride_tricks.sliding_window_view)
_MODULE.lib = _lib


# ---- cupy.cuda ----------------------------------------------------------------------------------------------
class _Event:
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        import time

        self._time = time
        self._t = None

    def record(self, stream: Any = None) -> None:
        self._t = self._time.perf_counter()

    def synchronize(self) -> None:
        pass

    @property
    def done(self) -> bool:
        return True


def _get_elapsed_time(start: _Event, end: _Event) -> float:
    return (end._t - start._t) * 1000.0


_runtime = types.ModuleType("cupy.cuda.runtime")
_runtime.getDeviceCount = lambda: 1
_runtime.getDeviceProperties = lambda i: {
    "name": b"FakeCupy GPU (numpy)",
    "totalGlobalMem": 1 << 34,
    "major": 9,
    "minor": 0,
    "multiProcessorCount": 132,
    "l2CacheSize": 60 << 20,
}
_runtime.memGetInfo = lambda: (1 << 33, 1 << 34)
_runtime.runtimeGetVersion = lambda: 13000
_runtime.driverGetVersion = lambda: 13000


class _MemoryPool:
    def used_bytes(self) -> int:
        return 0

    def total_bytes(self) -> int:
        return 0

    def free_all_blocks(self) -> None:
        pass


_POOL = _MemoryPool()
_cuda = types.ModuleType("cupy.cuda")
_cuda.Device = _DeviceObj
_cuda.Event = _Event
_cuda.get_elapsed_time = _get_elapsed_time
_cuda.runtime = _runtime
_cuda.is_available = lambda: True
_cuda.get_current_stream = lambda: types.SimpleNamespace(synchronize=lambda: None)
_cuda.MemoryPool = _MemoryPool
_MODULE.cuda = _cuda
_MODULE.get_default_memory_pool = lambda: _POOL
_MODULE.get_default_pinned_memory_pool = lambda: _POOL


# ---- cupyx --------------------------------------------------------------------------------------------------
def _scatter(op: np.ufunc) -> Any:
    def scatter(a: Any, slices: Any, value: Any) -> None:
        if not isinstance(a, ndarray):
            raise _unsupported(a)
        v = value._a if isinstance(value, ndarray) else _arg(value, allow_numpy=True)
        _written(a._a)
        op.at(a._a, _index(slices), v)

    return scatter


class ElementwiseKernel:
    """cupy.ElementwiseKernel for the one-statement kernels the engine writes (`y = <C expression>`): the C
    expression is translated to numpy (casts, f-suffixed literals, math functions) and evaluated over the
    inputs cast to their declared types, so a kernel's arithmetic is checked without a GPU. numpy rounds each
    operation in the operands' type, as C without FMA contraction does."""

    _FUNCS = {"exp": np.exp, "log": np.log, "sqrt": np.sqrt, "tanh": np.tanh, "sin": np.sin, "cos": np.cos,
              "pow": np.power, "fabs": np.abs, "expf": np.exp, "logf": np.log, "powf": np.power,
              "__fadd_rn": np.add, "__dadd_rn": np.add, "__fsub_rn": np.subtract, "__dsub_rn": np.subtract,
              "__fmul_rn": np.multiply, "__dmul_rn": np.multiply}  # fmt: skip

    def __init__(self, in_params: str, out_params: str, operation: str, name: str = "kernel", reduce_dims: bool = True,
                 preamble: str = "", no_return: bool = False, return_tuple: bool = False, loop_prep: str = "",
                 after_loop: str = "", options: tuple = ()) -> None:  # fmt: skip
        import re

        self.ins = [tuple(p.split()) for p in in_params.split(",")]
        self.outs = [tuple(p.split()) for p in out_params.split(",")]
        target, _, expr = operation.strip().rstrip(";").partition("=")
        if len(self.outs) != 1 or target.strip() != self.outs[0][1] or ";" in expr:
            raise NotImplementedError(f"fakecupy.ElementwiseKernel runs one `out = expr` statement: {operation!r}")
        expr = re.sub(r"\((float16|float|double)\)\s*\(", lambda m: f"_{m.group(1)}(", expr)
        expr = re.sub(r"\((float16|float|double)\)\s*(\w+)", lambda m: f"_{m.group(1)}({m.group(2)})", expr)
        expr = re.sub(r"(?<![\w.])(\d+\.\d*|\.\d+)f\b", r"_float(\1)", expr)
        self.code = compile(expr.strip(), f"<fakecupy kernel {name}>", "eval")
        self.name = name
        self.preamble = preamble
        self.options = tuple(options)

    def __call__(self, *args: Any) -> Any:
        if len(args) != len(self.ins):
            raise TypeError(f"Wrong number of arguments for {self.name!r}")
        env: dict = {}
        shapes = []
        for (dt, name), v in zip(self.ins, args):
            if isinstance(v, ndarray):
                env[name] = v._a.astype(dt, copy=False)
                shapes.append(v._a.shape)
            elif isinstance(v, (np.ndarray, list)):
                raise _unsupported(v)
            else:
                env[name] = np.dtype(dt).type(v)
        shape = np.broadcast_shapes(*shapes)

        def sigmoid(x: Any) -> Any:
            one = x.dtype.type(1)
            return one / (one + np.exp(-x))

        names = {**self._FUNCS, "tcli_sigmoid": sigmoid, "_float": np.float32, "_double": np.float64,
                 "_float16": np.float16, "tcli_add": np.add, "tcli_sub": np.subtract,
                 "tcli_mul": np.multiply}  # fmt: skip
        with np.errstate(all="ignore"):
            r = eval(self.code, {"__builtins__": {}}, {**names, **env})  # noqa: S307 - the engine's own kernel text
        out = np.empty(shape, dtype=self.outs[0][0])
        out[...] = r
        return _wrap_arr(out)


_NS["ElementwiseKernel"] = ElementwiseKernel

cupyx = types.ModuleType("cupyx")
cupyx.scatter_add = _scatter(np.add)
cupyx.scatter_max = _scatter(np.maximum)
cupyx.scatter_min = _scatter(np.minimum)


def _erf(x: Any) -> Any:
    import math

    a = _strict(x)
    if not isinstance(a, np.ndarray):
        raise _unsupported(x)
    dt = a.dtype if a.dtype.kind == "f" else np.dtype(np.float64)
    flat = np.fromiter(map(math.erf, a.ravel().tolist()), dtype=np.float64, count=a.size)
    return _wrap_arr(flat.astype(dt).reshape(a.shape))


cupyx.scipy = types.ModuleType("cupyx.scipy")
cupyx.scipy.special = types.ModuleType("cupyx.scipy.special")
cupyx.scipy.special.erf = _erf


def check_tensor_arrays() -> None:
    """Make the engine's tensor constructors (wrap, wrap_any, view_of, in every engine module that imported them)
    refuse a cuda tensor around a numpy array or a cpu tensor around a device array: such a tensor computes on
    the wrong device silently until it meets an array of the other kind."""
    import engine  # noqa: F401 - loads engine.tensor (the name engine.tensor is torch.tensor, a function)

    et = sys.modules["engine.tensor"]

    def checked(f: Any) -> Any:
        if getattr(f, "_fakecupy_checked", False):
            return f

        def ctor(data: Any, dev: Any = et.CPU) -> Any:  # view_of's second argument is the base tensor
            t = f(data, dev)
            dv = t._dev
            if dv.type not in ("cpu", "cuda"):
                return t
            on_device = isinstance(t._data, ndarray)
            if (dv.type == "cuda") != on_device:
                raise AssertionError(f"a {dv} tensor around a {type(t._data).__module__}.{type(t._data).__name__}")
            return t

        ctor._fakecupy_checked = True
        ctor.__wrapped__ = f
        return ctor

    originals = {}
    for name in ("wrap", "wrap_any", "view_of"):
        f = getattr(et, name)
        originals[getattr(f, "__wrapped__", f)] = checked(f)
    for mod_name, mod in list(sys.modules.items()):
        if not (mod_name == "engine" or mod_name.startswith("engine.")) or mod is None:
            continue
        for attr, v in list(vars(mod).items()):
            if callable(v) and v.__hash__ is not None and v in originals:  # (transforms are unhashable, as torch's)
                setattr(mod, attr, originals[v])


def install() -> types.ModuleType:
    """Make `import cupy` / `import cupyx` return the emulator (tests only)."""
    sys.modules["cupy"] = _MODULE
    sys.modules["cupy.cuda"] = _cuda
    sys.modules["cupy.cuda.runtime"] = _runtime
    sys.modules["cupy.linalg"] = _MODULE.linalg
    sys.modules["cupy.random"] = _MODULE.random
    sys.modules["cupy.fft"] = _MODULE.fft
    sys.modules["cupy.lib"] = _lib
    sys.modules["cupy.lib.stride_tricks"] = _lib.stride_tricks
    sys.modules["cupyx"] = cupyx
    sys.modules["cupyx.scipy"] = cupyx.scipy
    sys.modules["cupyx.scipy.special"] = cupyx.scipy.special
    return _MODULE


def uninstall() -> None:
    for name in ("cupy", "cupy.cuda", "cupy.cuda.runtime", "cupy.linalg", "cupy.random", "cupy.fft", "cupy.lib",
                 "cupy.lib.stride_tricks", "cupyx", "cupyx.scipy", "cupyx.scipy.special"):  # fmt: skip
        if sys.modules.get(name) is not None and getattr(sys.modules[name], "__name__", "").startswith(("cupy",)):
            del sys.modules[name]
