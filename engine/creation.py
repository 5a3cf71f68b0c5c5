"""Tensor creation: from data, numeric fills, ranges, and random sampling (numbers from engine.random)."""

from __future__ import annotations

import math
import sys
from typing import Any

import numpy as np

from engine import random as rnd
from engine.backend import DEFAULTS, host, to_device
from engine.bf16 import BF16Array, bf16_cpu_only, round_bits, to_bf16
from engine.dtypes import DEFAULT, FROM_NP, INT, UINTS, bool_, default_complex, float32, int64, promote_types, to_dtype
from engine.dtypes import dtype as _DTYPE
from engine.naming import type_name
from engine.ops.cascade_sum import dense_flat
from engine.ops.util import (
    SIZE_OVERLOADS,
    _int_like,
    bad_keywords,
    int_list,
    invalid_combination,
    memory_order,
    parser_type_name,
    scalar_to,
)
from engine.tensor import Size, Tensor, wrap
from engine.warn import user_stacklevel, warn_once


def _dev(device: Any) -> Any:
    return DEFAULTS.device if device is None else to_device(device)


def _size(size: tuple, fn: str | None = None) -> tuple:
    if not size:  # (torch's size argument has no default)
        raise TypeError(f'{fn or _caller()}() missing 1 required positional arguments: "size"')
    for s in size:
        if type(s) is not int:
            size = int_list(size, fn or _caller(), "size")
            break
    for s in size:
        if s < 0:
            raise RuntimeError(f"Trying to create tensor with negative dimension {s}: [{', '.join(map(str, size))}]")
    return size


# Random numbers for cuda tensors are drawn on the host from their own stream (torch keeps a separate
# generator per device too), then moved; torch.manual_seed seeds both.
CUDA_GENERATOR = rnd.cuda_generator
manual_seed = rnd.manual_seed  # seeds both


def _caller() -> str:
    """The factory the user called (zeros, ones, rand, ...), for argument errors (off the hot path)."""
    return sys._getframe(2).f_code.co_name


def _gen(generator: Any, dev: Any) -> Any:
    if generator is None:
        if dev.type == "meta":  # (a throwaway stream: torch's meta factories leave the global one as it was)
            return rnd.Generator()
        return CUDA_GENERATOR if dev.type == "cuda" else None
    if not isinstance(generator, rnd.Generator):
        raise TypeError(f"{_caller()}(): argument 'generator' must be torch.Generator, not {type_name(generator)}")
    return generator


def _finish(arr: Any, dev: Any, requires_grad: bool, out: Tensor | None = None, warn_resize: bool = False) -> Tensor:
    if dev.type != "cpu":
        if dev.type == "meta":
            from engine.meta import meta_array

            arr = meta_array(np.shape(arr), arr.dtype)
        else:
            if arr.dtype.metadata is not None:
                raise bf16_cpu_only()
            arr = dev.xp.asarray(arr)
    if arr.dtype.metadata is not None and not isinstance(arr, BF16Array) and dev.type != "meta":
        arr = to_bf16(arr, dev.xp)  # made as float32 for dtype=torch.bfloat16: rounded once, as torch fills it
    if out is not None:
        from engine.ops.inplace import write_out

        # torch's factory functions resize out= silently; arange alone goes through resize_output's warning
        return write_out(out, wrap(arr, dev), warn_resize)
    t = wrap(arr, dev)
    if requires_grad.__class__ is not bool and requires_grad is not None:
        _requires_grad_type(requires_grad)
    if requires_grad:
        if arr.dtype.kind not in "fc":
            raise RuntimeError("Only Tensors of floating point and complex dtype can require gradients")
        t._rg = True
    return t


def _dtype_arg(fn: str, dtype: Any) -> None:
    """torch's argument parser takes a torch.dtype (or float, int, bool, complex) for dtype=, never its name nor
    numpy's dtype."""
    if dtype is None or dtype.__class__ is _DTYPE:  # (the usual cases, at one test)
        return
    if isinstance(dtype, str):
        raise TypeError(f"{fn}(): argument 'dtype' must be torch.dtype, not str")
    if isinstance(dtype, type) and dtype not in (float, int, bool, complex):  # (dtype=np.float32)
        raise TypeError(f"{fn}(): argument 'dtype' must be torch.dtype, not type")
    if isinstance(dtype, np.dtype):  # (dtype=np.dtype('float32'))
        raise TypeError(f"{fn}(): argument 'dtype' must be torch.dtype, not {parser_type_name(dtype)}")


def _bad_dtype(dtype: Any) -> bool:
    """A dtype= that torch's parser refuses (a name, a class such as np.float32, a numpy dtype): for the functions
    whose parser has several signatures, which then lists them."""
    if dtype is None or dtype.__class__ is _DTYPE:
        return False
    return isinstance(dtype, (str, np.dtype)) or isinstance(dtype, type) and dtype not in (float, int, bool, complex)


def _given(**kw: Any) -> dict:
    """The factory keywords a call gave (those not at their defaults), for a parser error's "got (...)"."""
    return {k: v for k, v in kw.items() if v is not None and v is not False}


def _requires_grad_type(value: Any) -> None:
    """torch's argument parser takes only a bool for requires_grad= (off the hot path: reached only for a
    value that is not one); the error names the factory that was called."""
    if isinstance(value, np.bool_):
        return
    fn = sys._getframe(2).f_code.co_name
    raise TypeError(f"{fn}(): argument 'requires_grad' must be bool, not {type_name(value)}")


# ---- from data ----------------------------------------------------------------------------------------
def _seq(x: Any) -> bool:
    """A sequence torch's tensor_new walks into (PySequence_Check): lists, tuples, ranges, numpy arrays."""
    return isinstance(x, (list, tuple, range)) or (isinstance(x, np.ndarray) and x.ndim > 0)


def _leaf_dtype(x: Any) -> Any:
    """torch's infer_scalar_type for one element: a Python number's default dtype, a numpy scalar's, array's
    or tensor's own (so [1.5, np.float64(2)] is float64 and [np.int32(1)] int32)."""
    if isinstance(x, Tensor):
        return x.dtype
    if isinstance(x, (np.ndarray, np.generic)) and x.dtype.kind in "biufc":  # (before float: np.float64 is one)
        d = FROM_NP.get(x.dtype)
        if d is None:  # (an unsigned width the engine lacks: its kind's widest)
            d = int64 if x.dtype.kind == "u" else FROM_NP[np.dtype(x.dtype.kind + "8")]
        return d
    if isinstance(x, bool):
        return bool_
    if isinstance(x, int):
        return int64
    if isinstance(x, float):
        return DEFAULT.float
    if isinstance(x, complex):
        return default_complex()
    if isinstance(x, str):
        raise TypeError(f"new(): invalid data type '{type_name(x)}'")
    raise RuntimeError(f"Could not infer dtype of {type_name(x)}")


def _infer(data: Any, target: Any = None) -> tuple[Any, Any]:
    """The nested-list data as a nested list of Python numbers with torch's inferred dtype. As torch's
    tensor_new: the shape follows the first element at each depth, the dtype every leaf (promoted together, as
    infer_scalar_type does); a one-element tensor among them is a number, and each misfit gets torch's error.
    target: the dtype= asked for, which torch stores in (and so reads an element by)."""

    def scan(x: Any) -> Any:  # the promoted dtype of every leaf
        if not _seq(x) or isinstance(x, np.ndarray):  # (an array's items are of its dtype)
            return _leaf_dtype(x)
        if not len(x):  # (torch's infer_scalar_type: an empty sequence is of the default dtype, as numpy's)
            return DEFAULT.float
        kinds = set(map(type, x))
        if len(kinds) == 1 and (only := kinds.pop()) in (float, int, bool):  # (the common rows of numbers)
            return DEFAULT.float if only is float else int64 if only is int else bool_
        found = None
        for v in x:
            d = scan(v)
            if d is not None:
                found = d if found is None else promote_types(found, d)
        return found

    x = data
    while _seq(x) and len(x):  # torch's compute_sizes runs first and takes a str for a sequence
        x = x[0]  # (one that never ends: it gives up past its dimension limit)
        if isinstance(x, str):
            raise ValueError(f"too many dimensions '{type_name(x)}'")
        if type(x) is np.ndarray and not x.ndim:  # (a 0-dim array is a sequence to Python's C API: len() fails)
            raise TypeError("len() of unsized object")
    found = scan(data)
    if target is None and found is not None and found.is_complex and DEFAULT.float.name == "bfloat16":
        if _has_complex(data):  # (torch's infer_scalar_type has no complex twin of bfloat16)
            raise RuntimeError("invalid default scalar type for complex")
    shape: list = []
    x = data
    while _seq(x):  # (torch's compute_sizes: down the first elements)
        shape.append(len(x))
        if not len(x):
            break
        x = x[0]
    dt = DEFAULT.float if found is None else found
    if 0 in shape:  # torch stores no element of an empty tensor, so nothing past the first elements is checked
        return np.zeros(shape, np.int8).tolist(), dt.np

    def build(x: Any, depth: int) -> Any:
        if depth < len(shape):
            if isinstance(x, Tensor):
                got = x._data.shape[0] if x._data.ndim else 0
                raise ValueError(f"expected sequence of length {shape[depth]} at dim {depth} (got {got})")
            if not _seq(x):
                raise TypeError("not a sequence")
            if len(x) != shape[depth]:
                raise ValueError(f"expected sequence of length {shape[depth]} at dim {depth} (got {len(x)})")
            if depth and isinstance(x, np.ndarray):  # (torch warns as it stores each array item by item)
                warn_once(
                    "Creating a tensor from a list of numpy.ndarrays is extremely slow. Please consider converting "
                    "the list to a single numpy.ndarray with numpy.array() before converting to a tensor. "
                    "(Triggered internally at /__w/pytorch/pytorch/torch/csrc/utils/tensor_new.cpp:252.)"
                )
            return [build(v, depth + 1) for v in x]
        if isinstance(x, Tensor):  # an element, as a Python number (torch's item(): one element only)
            if x._data.size != 1:
                if (target or dt).cat == INT:  # (torch reads an integer element through __index__)
                    raise TypeError("only integer tensors of a single element can be converted to an index")
                raise ValueError("only one element tensors can be converted to Python scalars")
            into = target or dt
            if x._rg and into.is_floating_point:
                float(x)  # (torch stores a float element through __float__: its requires_grad warning)
            elif not into.is_floating_point and not into.is_complex and x._data.dtype.kind not in "iub":
                # (an integer or bool element is read through __index__, which a float tensor refuses)
                raise TypeError("only integer tensors of a single element can be converted to an index")
            return x.item()
        if _seq(x):  # a sequence where the first elements said a number
            if dt.is_complex:
                raise TypeError(f"must be real number, not {type(x).__name__}")
            if dt.is_floating_point:
                raise TypeError(f"must be real number, not {type_name(x)}")
            raise TypeError(f"'{type_name(x)}' object cannot be interpreted as an integer")
        return x

    return build(data, 0), dt.np


# the numpy dtypes torch can take in (it has unsigned types the engine lacks; its message lists them all)
_NUMPY_TYPES = (
    "float64, float32, float16, complex64, complex128, int64, int32, int16, int8, uint64, uint32, uint16, uint8, and "
    "bool."
)


def _astype(a: Any, dt: Any) -> Any:
    """a.astype(dt), a double converted to float16 through float32 (c10::Half is made from a float)."""
    if dt.char == "e" and a.dtype.char == "d":
        a = a.astype(np.float32)
    return a.astype(dt)


def _from_data(data: Any, dtype: Any) -> Any:
    if isinstance(data, Tensor):
        a = data._data.copy()
        return a if dtype is None else _astype(a, to_dtype(dtype).np)
    if isinstance(data, np.ndarray):
        _check_numpy(data)
        a = np.array(data, copy=True)
        return a if dtype is None else _astype(a, to_dtype(dtype).np)
    if isinstance(data, np.generic):
        a = np.asarray(data)
        return a.copy() if dtype is None else _astype(a, to_dtype(dtype).np)
    if hasattr(data, "__cuda_array_interface__"):
        return data.copy() if dtype is None else _astype(data, to_dtype(dtype).np)
    clean, dt = _infer(data, None if dtype is None else to_dtype(dtype))
    if dtype is not None:
        inferred, dt = dt, to_dtype(dtype).np
        if dt.kind not in "cb" and _has_complex(clean):  # (torch reads each element as the dtype's C type)
            if dt.kind == "f":
                raise TypeError("must be real number, not complex")
            raise TypeError("'complex' object cannot be interpreted as an integer")
        if dt == np.uint8 and inferred.kind == "f" and not _floats_fit_uint8(clean):
            raise RuntimeError("value cannot be converted to type uint8 without overflow")
    try:
        if dt.char == "e":  # (Python floats are doubles: to float32 first, as c10::Half is made)
            return np.array(clean, dtype=np.float32).astype(np.float16)
        return np.array(clean, dtype=dt)
    except ValueError:  # (a nan into an integer dtype: torch's checked conversion)
        raise RuntimeError(f"value cannot be converted to type {to_dtype(dt).name} without overflow") from None
    except OverflowError:
        if dt == np.uint64 and not _beyond_int64(clean):  # (torch reads each int as an unsigned long long)
            raise OverflowError("can't convert negative int to unsigned") from None
        if dt.kind == "u" and not _beyond_int64(clean):  # torch wraps negative ints down to -max into uint8 ..
            wide = np.array(clean, dtype=np.int64)
            top = int(np.iinfo(dt).max)
            if wide.size and -top <= wide.min() and wide.max() <= top:
                return wide.astype(dt)
        if _beyond_int64(clean):  # torch fails reading the Python int itself, before any dtype is involved
            raise ValueError("Overflow when unpacking long long") from None
        raise RuntimeError(f"value cannot be converted to type {to_dtype(dt).name} without overflow") from None


def _floats_fit_uint8(data: Any) -> bool:
    """Whether every float in the nested list lies in [0, 255]: torch's checked conversion refuses a float
    outside (-1.0 and 255.5 too), where numpy's cast would wrap it."""
    if isinstance(data, (list, tuple)):
        return all(_floats_fit_uint8(x) for x in data)
    return type(data) is not float or 0.0 <= data <= 255.0


def _has_complex(data: Any) -> bool:
    if isinstance(data, (list, tuple)):
        return any(_has_complex(x) for x in data)
    return isinstance(data, complex)


def _beyond_int64(data: Any) -> bool:
    if isinstance(data, (list, tuple)):
        return any(_beyond_int64(x) for x in data)
    return type(data) is int and not -(1 << 63) <= data < (1 << 63)


def tensor(
    data: Any, dtype: Any = None, device: Any = None, requires_grad: bool = False, pin_memory: bool = False
) -> Tensor:
    _dtype_arg("tensor", dtype)
    if isinstance(data, Tensor):
        import warnings

        warnings.warn(
            "To copy construct from a tensor, it is recommended to use sourceTensor.detach().clone() or "
            "sourceTensor.detach().clone().requires_grad_(True), rather than torch.tensor(sourceTensor).",
            UserWarning,
            stacklevel=user_stacklevel(),
        )
    dev = _dev(device if device is not None else (data._dev if isinstance(data, Tensor) else None))
    if requires_grad is None:
        raise TypeError("tensor(): argument 'requires_grad' must be bool, not NoneType")
    return _finish(_from_data(data, dtype), dev, requires_grad)


def as_tensor(data: Any, dtype: Any = None, device: Any = None) -> Tensor:
    _dtype_arg("as_tensor", dtype)
    if isinstance(data, Tensor):
        if dtype is None and device is None:
            return data
        return data.to(device=device, dtype=dtype)
    if isinstance(data, np.ndarray) and device is None and (dtype is None or to_dtype(dtype).np == data.dtype):
        return from_numpy(data)
    return tensor(data, dtype=dtype, device=device)


asarray = as_tensor


def from_numpy(*args: Any, **kwargs: Any) -> Tensor:
    """torch.from_numpy(ndarray): a C function of one argument (METH_O), with Python's messages for that."""
    if kwargs:
        raise TypeError("torch._VariableFunctionsClass.from_numpy() takes no keyword arguments")
    if len(args) != 1:
        raise TypeError(f"torch._VariableFunctionsClass.from_numpy() takes exactly one argument ({len(args)} given)")
    ndarray = args[0]
    if not isinstance(ndarray, np.ndarray):
        raise TypeError(f"expected np.ndarray (got {type_name(ndarray)})")
    _check_numpy(ndarray)
    return wrap(ndarray)  # shares memory, as torch.from_numpy does


def _check_numpy(a: np.ndarray) -> None:
    """torch's tensor_from_numpy checks: a dtype it has (named as numpy names the scalar type: numpy.str_), and no
    negative stride (torch.from_numpy(img[:, ::-1]) is refused; a copy is not)."""
    dt = a.dtype
    if dt.kind not in "biufc" or (dt.kind == "f" and dt.itemsize > 8) or (dt.kind == "c" and dt.itemsize > 16):
        raise TypeError(
            f"can't convert np.ndarray of type numpy.{dt.type.__name__}. The only supported types are: " + _NUMPY_TYPES
        )
    if a.size and any(st < 0 for st in a.strides):
        raise ValueError(
            "At least one stride in the given numpy array is negative, and tensors with negative strides are not "
            "currently supported. (You can probably work around this by making a copy of your array  with "
            "array.copy().) "
        )


def legacy_tensor(*args: Any, **kwargs: Any) -> Tensor:
    """torch.Tensor(...): sizes make an uninitialised float tensor; data makes a float copy."""
    device = kwargs.pop("device", None)
    if not args:
        return _finish(np.empty((0,), dtype=DEFAULT.float.np), _dev(device), False)
    if len(args) == 1 and isinstance(args[0], Size):  # a torch.Size is a shape here, not data
        return empty(tuple(args[0]), device=device)
    if len(args) == 1 and isinstance(args[0], Tensor) and device is None:
        from engine.ops.shape import alias  # torch.Tensor(t) is t.alias(): t's own data and dtype, a view

        return alias(args[0])
    if len(args) == 1 and isinstance(args[0], (list, tuple, range, np.ndarray, Tensor)):
        return tensor(args[0], dtype=DEFAULT.float, device=device)
    try:
        return empty(*args, device=device)
    except TypeError as e:  # (the constructor's parser is torch's new())
        if str(e).startswith("empty()"):
            raise TypeError("new()" + str(e)[len("empty()") :]) from None
        raise


# ---- numeric fills ----------------------------------------------------------------------------------
def _fill_dtype(dtype: Any, default: Any = None) -> Any:
    if dtype is not None:
        return to_dtype(dtype).np
    return (default or DEFAULT.float).np


def _size_kw(size: tuple, kw: dict, fn: str) -> tuple:
    """torch's `zeros(size=(2, 3))`: the size passed by keyword; any other keyword refused in the words of fn's
    parser (rand and randn have two signatures, so theirs lists them; `zeros(shape=...)` lacks a size first)."""
    if "size" in kw and size:
        raise TypeError(f"{fn}() got multiple values for argument 'size'")
    unknown = [k for k in kw if k != "size"]
    if not size and "size" not in kw:
        if unknown:
            raise TypeError(f'{fn}() missing 1 required positional arguments: "size"')
        if fn in SIZE_OVERLOADS:  # (rand(): no argument at all, both signatures listed)
            raise invalid_combination(fn, (), SIZE_OVERLOADS[fn], False)
    if unknown:
        if fn in SIZE_OVERLOADS:
            raise invalid_combination(fn, size, SIZE_OVERLOADS[fn], False, kwargs=kw)
        raise TypeError(f"{fn}() got an unexpected keyword argument '{unknown[0]}'")
    if "size" in kw:
        size = (kw.pop("size"),)
    return size


def zeros(*size: Any, out: Tensor | None = None, dtype: Any = None, layout: Any = None, device: Any = None,
          requires_grad: bool = False, pin_memory: bool = False, **kw: Any) -> Tensor:  # fmt: skip
    _dtype_arg("zeros", dtype)
    size = _size_kw(size, kw, "zeros")
    if out is not None and dtype is None:
        dtype = out.dtype
    try:
        shape = _size(size)
    except RuntimeError:
        raise RuntimeError("zeros: Dimension size must be non-negative.") from None  # torch's zeros says so
    dev = _dev(device)
    return _finish(dev.xp.zeros(shape, dtype=_fill_dtype(dtype)), dev, requires_grad, out)


def ones(*size: Any, out: Tensor | None = None, dtype: Any = None, layout: Any = None, device: Any = None,
         requires_grad: bool = False, pin_memory: bool = False, **kw: Any) -> Tensor:  # fmt: skip
    _dtype_arg("ones", dtype)
    size = _size_kw(size, kw, "ones")
    if out is not None and dtype is None:
        dtype = out.dtype
    dev = _dev(device)
    return _finish(dev.xp.ones(_size(size), dtype=_fill_dtype(dtype)), dev, requires_grad, out)


def empty(*size: Any, out: Tensor | None = None, dtype: Any = None, layout: Any = None, device: Any = None,
          requires_grad: bool = False, pin_memory: bool = False, memory_format: Any = None,
          **kw: Any) -> Tensor:  # fmt: skip
    _dtype_arg("empty", dtype)
    size = _size_kw(size, kw, "empty")
    # Zero-filled rather than uninitialised: deterministic output costs little and leaks nothing.
    if out is not None and dtype is None:
        dtype = out.dtype
    dev = _dev(device)
    if memory_format is not None:
        from engine.ops.memory_layout import check_format, new_array

        check_format(memory_format, "empty")
        arr = new_array(dev.xp, _size(size), _fill_dtype(dtype), memory_format)
        return _finish(arr, dev, requires_grad, out)
    return _finish(dev.xp.zeros(_size(size), dtype=_fill_dtype(dtype)), dev, requires_grad, out)


def full(size: Any, fill_value: Any, *, out: Tensor | None = None, dtype: Any = None, layout: Any = None,
         device: Any = None, requires_grad: bool = False, pin_memory: bool = False) -> Tensor:  # fmt: skip
    _dtype_arg("full", dtype)
    if isinstance(fill_value, Tensor):
        fill_value = fill_value.item()
    if dtype is None:
        if out is not None:
            dtype = out.dtype
        elif isinstance(fill_value, bool):
            dtype = bool_
        elif isinstance(fill_value, int):
            dtype = int64
        elif isinstance(fill_value, complex):
            dtype = default_complex()
        else:
            dtype = DEFAULT.float
    if not isinstance(size, (tuple, list)):  # (full's size is no vararg: `full(2, 1.0)` is refused too)
        raise TypeError(f"full(): argument 'size' (position 1) must be tuple of ints, not {parser_type_name(size)}")
    if not isinstance(fill_value, (int, float, complex, np.number, np.bool_)):
        raise TypeError(
            f"full(): argument 'fill_value' (position 2) must be Number, not {parser_type_name(fill_value)}"
        )
    # (a size of () or [] is a 0-dim tensor here: full's size is its own positional argument)
    size = _size((size,), "full") if size != () and size != [] else ()
    dev = _dev(device)
    np_dtype = to_dtype(dtype).np
    return _finish(dev.xp.full(size, scalar_to(fill_value, np_dtype), dtype=np_dtype), dev, requires_grad, out)


def _like(input: Tensor, dtype: Any, device: Any, fn: str = "empty_like") -> tuple:  # noqa: A002
    _dtype_arg(fn, dtype)
    dt = to_dtype(dtype).np if dtype is not None else input._data.dtype
    dev = to_device(device) if device is not None else input._dev
    return input._data.shape, dt, dev


def preserved(d: Any, xp: Any, dt: Any, fill: Any = 0) -> Any:
    """A new array shaped as d and filled with `fill`, laid out as torch's preserve_format lays it out: with d's
    strides when d is one dense block in some order of its dims (a transposed or permuted tensor), else dense
    in the order of d's strides (infer_dense_strides: a broadcast dim keeps its place)."""
    if d.ndim < 2 or d.flags.c_contiguous:
        return xp.full(d.shape, fill, dtype=dt)
    order = memory_order(d)
    if order is None or dense_flat(d) is None:
        from engine.ops.cpu_loops import walk_order

        order = walk_order(d)
    out = xp.full(tuple(d.shape[i] for i in order), fill, dtype=dt)
    return out.transpose(tuple(int(i) for i in np.argsort(order)))


def _formatted(input: Tensor, dev: Any, dt: Any, fmt: Any, fn: str, fill: Any = 0) -> Any:  # noqa: A002
    """A *_like function's array with its memory_format given (preserve_format: input's layout)."""
    from engine.ops.memory_layout import check_format, like_array

    check_format(fmt, fn)
    return like_array(dev.xp, input._data, dt, fmt, fill)


def zeros_like(input: Tensor, *, dtype: Any = None, layout: Any = None, device: Any = None,
               requires_grad: bool = False, memory_format: Any = None) -> Tensor:  # noqa: A002  # fmt: skip
    shape, dt, dev = _like(input, dtype, device, "zeros_like")
    if memory_format is not None:
        return _finish(_formatted(input, dev, dt, memory_format, "zeros_like"), dev, requires_grad)
    return _finish(preserved(input._data, dev.xp, dt), dev, requires_grad)


def ones_like(input: Tensor, *, dtype: Any = None, layout: Any = None, device: Any = None,
              requires_grad: bool = False, memory_format: Any = None) -> Tensor:  # noqa: A002  # fmt: skip
    shape, dt, dev = _like(input, dtype, device, "ones_like")
    if memory_format is not None:
        return _finish(_formatted(input, dev, dt, memory_format, "ones_like", 1), dev, requires_grad)
    return _finish(preserved(input._data, dev.xp, dt, 1), dev, requires_grad)


def empty_like(input: Tensor, *, dtype: Any = None, layout: Any = None, device: Any = None,
               requires_grad: bool = False, memory_format: Any = None) -> Tensor:  # noqa: A002  # fmt: skip
    shape, dt, dev = _like(input, dtype, device, "empty_like")
    if memory_format is not None:
        return _finish(_formatted(input, dev, dt, memory_format, "empty_like"), dev, requires_grad)
    return _finish(preserved(input._data, dev.xp, dt), dev, requires_grad)


def full_like(input: Tensor, fill_value: Any, *, dtype: Any = None, layout: Any = None, device: Any = None,
              requires_grad: bool = False, memory_format: Any = None) -> Tensor:  # noqa: A002  # fmt: skip
    shape, dt, dev = _like(input, dtype, device, "full_like")
    if isinstance(fill_value, (int, float)):  # (torch's checked conversion of the fill value to dt)
        fill_value = scalar_to(fill_value, dt)
    if memory_format is not None:
        return _finish(_formatted(input, dev, dt, memory_format, "full_like", fill_value), dev, requires_grad)
    return _finish(preserved(input._data, dev.xp, dt, fill_value), dev, requires_grad)


# ---- ranges ------------------------------------------------------------------------------------------------
def _num(x: Any) -> Any:
    return x.item() if isinstance(x, Tensor) else x


def range_(start: Any, end: Any, step: Any = 1, *, out: Tensor | None = None, dtype: Any = None, layout: Any = None,
           device: Any = None, requires_grad: bool = False) -> Tensor:  # fmt: skip
    """torch.range (deprecated in torch, kept for old tutorials): [start, end] inclusive, computed in double as
    start + i * step, in the default float dtype."""
    import math
    import warnings

    warnings.warn(
        "torch.range is deprecated and will be removed in a future release because its behavior is inconsistent "
        "with Python's range builtin. Instead, use torch.arange, which produces values in [start, end).",
        UserWarning,
        stacklevel=user_stacklevel(),
    )
    start, end, step = (float(v) if isinstance(v, Tensor) else v for v in (start, end, step))
    if step == 0:
        raise RuntimeError("step must be nonzero")
    if (step > 0 and end < start) or (step < 0 and end > start):
        raise RuntimeError("upper bound and larger bound inconsistent with step sign")
    n = int(math.floor((end - start) / step)) + 1
    dt = to_dtype(dtype).np if dtype is not None else DEFAULT.float.np
    values = (start + np.arange(n, dtype=np.float64) * step).astype(dt)
    return _finish(values, _dev(device), requires_grad, out)


_FACTORY_KW = "torch.dtype dtype = None, torch.layout layout = None, torch.device device = None, bool pin_memory = False, bool requires_grad = False"  # noqa: E501
_ARANGE_OVERLOADS = (
    f"(Number end, *, Tensor out = None, {_FACTORY_KW})",
    f"(Number start, Number end, *, {_FACTORY_KW})",
    f"(Number start, Number end, Number step = 1, *, Tensor out = None, {_FACTORY_KW})",
)
_LINSPACE_OVERLOADS = tuple(
    f"({a} start, {b} end, int steps, *, Tensor out = None, {_FACTORY_KW})"
    for a, b in (("Tensor", "Tensor"), ("Number", "Tensor"), ("Tensor", "Number"), ("Number", "Number"))
)
_LOGSPACE_OVERLOADS = tuple(
    f"({a} start, {b} end, int steps, float base = 10.0, *, Tensor out = None, {_FACTORY_KW})"
    for a, b in (("Tensor", "Tensor"), ("Number", "Tensor"), ("Tensor", "Number"), ("Number", "Number"))
)
_MISSING: Any = object()


_EYE_OVERLOADS = (
    f"(int n, *, Tensor out = None, {_FACTORY_KW})",
    f"(int n, int m, *, Tensor out = None, {_FACTORY_KW})",
)


def _unknown_keywords(fn: str, params: dict, kw: dict, overloads: tuple) -> TypeError:
    """torch's parser error for a keyword none of fn's signatures has: the arguments given ahead of the first
    one left out shown by position, the rest and the unknown keywords as name=type."""
    names = list(params)
    first = next((i for i, n in enumerate(names) if params[n] is _MISSING), len(names))
    args = tuple(params[n] for n in names[:first])
    kwargs = {n: params[n] for n in names[first:] if params[n] is not _MISSING} | kw
    return invalid_combination(fn, args, overloads, False, kwargs=kwargs)


def _missing_args(fn: str, params: dict, overloads: tuple) -> TypeError:
    """torch's parser error for a call that leaves out a required argument: the arguments ahead of the first
    missing one are taken as given by position, those after it as given by keyword."""
    names = list(params)
    first = next(i for i, n in enumerate(names) if params[n] is _MISSING)
    args = tuple(params[n] for n in names[:first])
    kwargs = {n: params[n] for n in names[first:] if params[n] is not _MISSING}
    return invalid_combination(fn, args, overloads, False, kwargs=kwargs)


def _is_number(v: Any) -> bool:
    """What torch's parser takes as a Number: a Python or numpy scalar, or a 0-d tensor."""
    if isinstance(v, Tensor):
        return v.ndim == 0
    return isinstance(v, (int, float, complex, np.number, np.bool_))


_STEP: Any = object()  # arange's step not given (torch's errors list an explicit step, even 1)


def _number_args(start: Any, end: Any, step: Any) -> None:
    """arange's arguments refused as torch's parser refuses them (torch.arange('5'))."""
    if end is None:
        if not _is_number(start):  # (a start of None here was given: arange(None))
            raise TypeError(f"arange(): argument 'end' (position 1) must be Number, not {parser_type_name(start)}")
        return
    args = (start, end) if step is _STEP else (start, end, step)
    if start is not None and not all(_is_number(v) for v in args):
        raise invalid_combination("arange", args, _ARANGE_OVERLOADS, False)


def arange(start: Any = _MISSING, end: Any = None, step: Any = _STEP, *, out: Tensor | None = None, dtype: Any = None,
           layout: Any = None, device: Any = None, requires_grad: bool = False, **kw: Any) -> Tensor:  # fmt: skip
    if kw and start is _MISSING:  # (keywords only: the parser matches the first overload, its argument missing)
        raise TypeError('arange() missing 1 required positional arguments: "end"')
    if kw or _bad_dtype(dtype):  # (np.arange habits, arange(0, 5, num=2), dtype=np.float32)
        given = {"start": start, "end": _MISSING if end is None else end, "step": _MISSING if step is _STEP else step}
        raise _unknown_keywords("arange", given, {**kw, **_given(dtype=dtype)}, _ARANGE_OVERLOADS)
    if start is _MISSING:
        if end is None:
            if (out, dtype, layout, device, requires_grad) == (None, None, None, None, False):
                raise invalid_combination("arange", (), _ARANGE_OVERLOADS, False)
            # (given keywords only: the parser matches the first overload and finds its one argument missing)
            raise TypeError('arange() missing 1 required positional arguments: "end"')
        start = None  # arange(end=4)
    _number_args(start, end, step)
    start, end, step = _num(start), _num(end), 1 if step is _STEP else _num(step)
    if end is None:
        start, end = 0, start
    elif start is None:  # arange(end=4)
        start = 0
    floats = any(isinstance(v, float) for v in (start, end, step))
    if dtype is None:
        dtype = out.dtype if out is not None else DEFAULT.float if floats else int64
    dt = to_dtype(dtype).np
    if dt.kind in "cb" or to_dtype(dt) in UINTS:
        raise NotImplementedError(f"\"arange_cpu\" not implemented for '{to_dtype(dt).scalar_name()}'")
    if not (step > 0 or step < 0):  # (a nan step too)
        raise RuntimeError("step must be nonzero")
    if not (math.isfinite(start) and math.isfinite(end)):  # (torch prints the doubles as C++'s ostream does)
        raise RuntimeError(f"unsupported range: {float(start):g} -> {float(end):g}")
    if dt.kind in "iu":
        # torch casts start, end and step to int64 first (1.5 -> 1); the length is counted from those
        # for int64 and from the uncast values (in double) for the narrower integer types
        xs, xe, xst = (int(math.trunc(v)) for v in (start, end, step))
        if (end - start) * step < 0:
            raise RuntimeError("upper bound and lower bound inconsistent with step sign")
        if dt == np.int64:
            if xst == 0:  # a fractional step that the cast made 0: torch's check here is a ValueError
                raise ValueError("step must be nonzero")
            if (xe - xs) * xst < 0:
                raise RuntimeError("upper bound and lower bound inconsistent with step sign")
            sgn = (xst > 0) - (xst < 0)
            n = max(0, (xe - xs + xst - sgn) // xst)
        else:
            n = max(0, math.ceil((end - start) / step))
        dev = _dev(device)
        arr = (xs + dev.xp.arange(n, dtype=np.int64) * xst).astype(dt)
        _arange_out_warning(out, n)
        return _finish(arr, dev, requires_grad, out)
    if (end - start) * step < 0:
        raise RuntimeError("upper bound and lower bound inconsistent with step sign")
    n = max(0, math.ceil((end - start) / step))
    dev = _dev(device)
    if dev.type == "cpu" and dt.kind == "f":
        arr = _arange_cpu_float(float(start), float(step), n, dt)
    else:
        arr = _arange_values(start, step, n, dev.xp).astype(dt)
    _arange_out_warning(out, n)
    return _finish(arr, dev, requires_grad, out)


def _arange_values(start: Any, step: Any, n: int, xp: Any) -> Any:
    """arange_kernel's scalar function: start + step * i in double (the float types' cpu accumulate type)."""
    return start + xp.arange(n, dtype=np.float64) * step


def _arange_cpu_float(start: float, step: float, n: int, dt: Any) -> np.ndarray:
    """torch's cpu arange_kernel (RangeFactoriesKernel.cpp, an AVX2-only kernel, built with FMA) for the float
    dtypes. start and step are held in the accumulate type (double for float32/float64, float for float16 and
    bfloat16). In each thread's chunk vectorized_loop takes whole blocks of two Vectorized<T> and the rest with
    the scalar function, fma(step, i, start). Vectorized<T>::arange(base, step) gives fma(j, step, base) for its
    lanes from a lane-0 value fma(step, i, start) *cast to T*, so the lanes after it start from a rounded base:
    arange(-1, 1, 0.1)[10] is -2.98e-09 in float32, not 0 (and arange(-8, 8, 0.1)[80] is 4.4e-16, the fused
    product's exact remainder). bfloat16 arrives as dt float32 with bfloat16's tag: its values round here."""
    from engine.ops.cpu_capability import has_fma, kernel_build, vector_bytes
    from engine.ops.fma import fma

    bf16 = dt.metadata is not None
    acc = np.float64 if dt.itemsize >= 4 and not bf16 else np.float32
    start, step = acc(start), acc(step)

    def to_t(a: np.ndarray) -> np.ndarray:  # round to T, held in the accumulate type
        return round_bits(a) if bf16 else a.astype(dt).astype(acc)

    build = kernel_build(False)
    fused = has_fma(build)
    idx = np.arange(n, dtype=acc)
    start_a = np.full(n, start, acc)
    vals = fma(idx, float(step), start_a) if fused else start_a + idx * step
    lanes = vector_bytes(build) // (2 if bf16 else dt.itemsize)
    for b, e in _parallel_chunks(n):
        m = (e - b) // (2 * lanes) * 2 * lanes
        if m:
            base = np.repeat(to_t(vals[b : b + m : lanes]), lanes)
            j = np.tile(np.arange(lanes, dtype=acc), m // lanes)
            vals[b : b + m] = fma(j, float(step), base) if fused else base + j * step
    return vals.astype(dt)  # (bfloat16: the tagged float32 dtype; _finish rounds it)


def _parallel_chunks(n: int) -> list:
    from engine.ops.cpu_loops import parallel_chunks

    return parallel_chunks(n, 32768)


def _arange_out_warning(out: Tensor | None, n: int) -> None:
    if out is not None and out._data.size and out._data.size != n:
        import warnings

        warnings.warn(
            f"The number of elements in the out tensor of shape [{', '.join(map(str, out._data.shape))}] is "
            f"{out._data.size} which does not match the computed number of elements {n}. Note that this may occur "
            f"as a result of rounding error. The out tensor will be resized to a tensor of shape ({n},).",
            UserWarning,
            stacklevel=user_stacklevel(),
        )


def linspace(start: Any = _MISSING, end: Any = _MISSING, steps: Any = _MISSING, *, out: Tensor | None = None,
             dtype: Any = None, layout: Any = None, device: Any = None,
             requires_grad: bool = False, **kw: Any) -> Tensor:  # fmt: skip
    if kw or _bad_dtype(dtype):  # (np.linspace habits, linspace(0, 1, num=5))
        given = {"start": start, "end": end, "steps": steps}
        raise _unknown_keywords("linspace", given, {**kw, **_given(dtype=dtype)}, _LINSPACE_OVERLOADS)
    if start is _MISSING or end is _MISSING or steps is _MISSING:
        raise _missing_args("linspace", {"start": start, "end": end, "steps": steps}, _LINSPACE_OVERLOADS)
    if isinstance(steps, float):  # (no overload takes a float steps; it is shown as given by position)
        raise invalid_combination("linspace", (start, end, steps), _LINSPACE_OVERLOADS, False)
    start, end = _num(start), _num(end)
    if steps < 0:
        raise RuntimeError("number of steps must be non-negative")
    dt = to_dtype(dtype).np if dtype is not None else DEFAULT.float.np
    if steps > 1:  # (one step is start, cast unchecked; none is empty)
        _convertible(dt, start, end)
    # torch's kernel works in the output float type: the first half counts up from start, the second half
    # down from end (so both endpoints are exact), each element one multiply-add that its build fuses (FMA):
    # linspace(-1, 1, 7)[3] is -2.9802e-08 there, not 0
    w = np.float32 if dt == np.float32 else np.float16 if dt == np.float16 else np.float64
    fma = rnd._fma32 if w is np.float32 else rnd._fma64
    s, e = w(start), w(end)
    if steps == 1:
        arr = np.array([s], dtype=w)
    elif w is np.float16:  # c10::Half rounds every operation to half, so nothing is fused
        arr = _linspace_rounded(s, e, steps, _HALF_VALUES).astype(np.float16)
    elif dt.metadata is not None:  # c10::BFloat16 likewise
        arr = _linspace_rounded(round_bits(np.float32(start)), round_bits(np.float32(end)), steps, round_bits)
    else:
        st = (e - s) / w(steps - 1)
        half = steps // 2
        up = fma(np.arange(half, dtype=w), st, s)
        down = fma(np.arange(steps - half - 1, -1, -1, dtype=w), -st, e)
        arr = np.concatenate([up, down]).astype(w)
    if dt.kind in "iu":
        arr = np.trunc(arr)
    return _finish(np.asarray(arr).astype(dt), _dev(device), requires_grad, out)


_BF16_MAX = 3.3895313892515355e38


def _convertible(dt: Any, *values: Any) -> None:
    """torch's checked conversion of linspace's and logspace's bounds to the result dtype ("value cannot be
    converted to type c10::Half without overflow")."""
    for v in values:
        if dt.metadata is None:
            scalar_to(v, dt)
        elif isinstance(v, (int, float)) and math.isfinite(v) and abs(v) > _BF16_MAX:
            raise RuntimeError("value cannot be converted to type c10::BFloat16 without overflow")


def _HALF_VALUES(a: Any) -> np.ndarray:  # noqa: N802 - a constant-like rounding function
    return np.asarray(a, np.float32).astype(np.float16).astype(np.float32)


def _linspace_rounded(s: Any, e: Any, steps: int, low: Any) -> np.ndarray:
    """linspace in a 16-bit float type whose every operation rounds (`low` rounds float32 values to it): the
    float32 values of the result."""
    f = np.float32
    st = low(low(f(e) - f(s)) / low(f(steps - 1)))
    half = steps // 2
    up = low(f(s) + low(st * low(np.arange(half).astype(f))))
    down = low(f(e) - low(st * low(np.arange(steps - half - 1, -1, -1).astype(f))))
    return np.concatenate([up, down])


def logspace(start: Any = _MISSING, end: Any = _MISSING, steps: Any = _MISSING, base: float = 10.0, *,
             out: Tensor | None = None, dtype: Any = None, layout: Any = None, device: Any = None,
             requires_grad: bool = False, **kw: Any) -> Tensor:  # fmt: skip
    if kw:
        raise _unknown_keywords("logspace", {"start": start, "end": end, "steps": steps}, kw, _LOGSPACE_OVERLOADS)
    if start is _MISSING or end is _MISSING or steps is _MISSING:
        raise _missing_args("logspace", {"start": start, "end": end, "steps": steps}, _LOGSPACE_OVERLOADS)
    if isinstance(steps, float):  # (logspace's own signatures, not those of the linspace it calls)
        raise invalid_combination("logspace", (start, end, steps), _LOGSPACE_OVERLOADS, False)
    dt = to_dtype(dtype).np if dtype is not None else DEFAULT.float.np
    if steps > 1:
        _convertible(dt, _num(start), _num(end))
    if dt.kind == "c":
        exps = linspace(start, end, steps, dtype=float32 if dt != np.float64 else to_dtype(dt))._data
        arr = np.power(float(base), exps.astype(np.float64))
    else:
        arr = _logspace_real(_num(start), _num(end), steps, float(base), dt)
    return _finish(arr.astype(dt), _dev(device), requires_grad, out)


def _logspace_real(start: Any, end: Any, steps: int, base: float, dt: Any) -> np.ndarray:
    """torch's real logspace kernel: the bounds cast to the result type, then in double the first half counts up
    from start and the second half down from end, one std::pow each (a plain multiply and add: the file is built
    without FMA), the double result cast to the result type (16-bit floats through float)."""
    from engine.ops.libm import c_pow

    if steps <= 1:  # (fill_ with pow(base, start) in double, a checked conversion)
        v = float(c_pow(np.array([base]), np.array([float(start)]))[0])
        if dt.kind in "iub":
            return np.full(steps, scalar_to(v, dt) if steps else 0, dtype=dt)
        return _double_to(np.full(steps, v), dt)
    if dt.kind == "b":
        raise NotImplementedError("\"logspace_cpu\" not implemented for 'Bool'")
    if dt.kind in "iu":  # (a negative bound wraps into an unsigned type, as c10's checked conversion allows)
        s, e = (int(np.array(int(v)).astype(dt)) for v in (start, end))
        diff = float(e - s)
    else:
        to_t = round_bits if dt.metadata is not None else _HALF_VALUES if dt == np.float16 else np.dtype(dt).type
        s, e = float(to_t(np.float32(start))), float(to_t(np.float32(end)))
        if dt == np.float64:
            s, e, diff = float(start), float(end), float(end) - float(start)
        else:
            diff = float(to_t(np.float32(e) - np.float32(s)))
    step = diff / (steps - 1)
    half = steps // 2
    i = np.arange(steps, dtype=np.float64)
    exps = np.concatenate([s + step * i[:half], e - step * (steps - 1 - i[half:])])
    arr = c_pow(np.full(steps, base), exps)
    if dt.kind in "iu":  # x86's truncating conversion: through int32 for the narrow types, and its
        # "integer indefinite" (the lowest value) where the double is out of range
        wide = dt.itemsize == 8
        lim = 2.0**63 if wide else 2.0**31
        with np.errstate(invalid="ignore"):
            ok = (arr >= -lim) & (arr < lim)
            return np.where(ok, np.trunc(np.where(ok, arr, 0)), -lim).astype(np.int64)
    return _double_to(arr, dt)


def _double_to(arr: np.ndarray, dt: Any) -> np.ndarray:
    """double values as torch casts them to a float type (c10's 16-bit types take a float): float64 values of
    the result for float64, float32 ones otherwise."""
    if dt == np.float64:
        return arr
    arr = arr.astype(np.float32)
    return round_bits(arr) if dt.metadata is not None else _HALF_VALUES(arr) if dt == np.float16 else arr


def eye(n: int, m: Any = _MISSING, *more: Any, out: Tensor | None = None, dtype: Any = None, layout: Any = None,
        device: Any = None, requires_grad: bool = False, **kw: Any) -> Tensor:  # fmt: skip
    if kw or _bad_dtype(dtype):  # (torch.eye(3, require_grad=True))
        pos = (n,) + (() if m is _MISSING else (m,)) + more
        given = _given(out=out, dtype=dtype, layout=layout, device=device, requires_grad=requires_grad)
        raise bad_keywords("eye", pos, {**given, **kw}, _EYE_OVERLOADS)
    if isinstance(n, float):
        raise TypeError(f"eye(): argument 'n' (position 1) must be int, not {type_name(n)}")
    if more or (m is not _MISSING and not _int_like(m, True)):  # (torch.eye(2, 3, 4), torch.eye(2, "a"))
        raise invalid_combination("eye", (n, m, *more), _EYE_OVERLOADS, False)
    if m is _MISSING:
        m = None
    if n < 0:
        raise RuntimeError(f"n must be greater or equal to 0, got {n}")
    if m is not None and m < 0:
        raise RuntimeError(f"m must be greater or equal to 0, got {m}")
    dev = _dev(device)
    return _finish(dev.xp.eye(n, n if m is None else m, dtype=_fill_dtype(dtype)), dev, requires_grad, out)


# ---- random ---------------------------------------------------------------------------------------------
def _float_dt(dtype: Any) -> Any:
    dt = to_dtype(dtype).np if dtype is not None else DEFAULT.float.np
    return dt


def _generator_overloads(fn: str, args: tuple) -> TypeError:
    """rand/randn given a size and more positionals: torch's parser lists both overloads (with a generator and
    without)."""
    tail = (
        "Tensor out = None, torch.dtype dtype = None, torch.layout layout = None, torch.device device = None, "
        "bool pin_memory = False, bool requires_grad = False)"
    )
    return TypeError(
        f"{fn}() received an invalid combination of arguments - got ({', '.join(map(parser_type_name, args))}), "
        f"but expected one of:\n * (tuple of ints size, *, torch.Generator generator, {tail}\n"
        f" * (tuple of ints size, *, {tail}\n"
    )


def rand(*size: Any, generator: Any = None, out: Tensor | None = None, dtype: Any = None, layout: Any = None,
         device: Any = None, requires_grad: bool = False, pin_memory: bool = False, **kw: Any) -> Tensor:  # fmt: skip
    if _bad_dtype(dtype):  # (dtype=np.float32: the parser lists both signatures)
        raise invalid_combination("rand", size, SIZE_OVERLOADS["rand"], False, kwargs={**kw, "dtype": dtype})
    size = _size_kw(size, kw, "rand")
    if len(size) > 1 and isinstance(size[0], (tuple, list)):
        raise _generator_overloads("rand", size)
    dt = _float_dt(dtype)
    if dt.kind not in "fc":
        raise NotImplementedError(f"\"check_uniform_bounds\" not implemented for '{to_dtype(dt).scalar_name()}'")
    dev = _dev(device)
    return _finish(rnd.uniform(_gen(generator, dev), _size(size), dt), dev, requires_grad, out)


def randn(*size: Any, generator: Any = None, out: Tensor | None = None, dtype: Any = None, layout: Any = None,
          device: Any = None, requires_grad: bool = False, pin_memory: bool = False, **kw: Any) -> Tensor:  # fmt: skip
    if _bad_dtype(dtype):  # (dtype=np.float32: the parser lists both signatures)
        raise invalid_combination("randn", size, SIZE_OVERLOADS["randn"], False, kwargs={**kw, "dtype": dtype})
    size = _size_kw(size, kw, "randn")
    if len(size) > 1 and isinstance(size[0], (tuple, list)):
        raise _generator_overloads("randn", size)
    dt = _float_dt(dtype)
    if dt.kind not in "fc":
        raise NotImplementedError(f"\"normal_kernel_cpu\" not implemented for '{to_dtype(dt).scalar_name()}'")
    dev = _dev(device)
    return _finish(rnd.normal(_gen(generator, dev), _size(size), dt), dev, requires_grad, out)


def randint(*args: Any, generator: Any = None, out: Tensor | None = None, dtype: Any = None, layout: Any = None,
            device: Any = None, requires_grad: bool = False, size: Any = None, low: Any = None,
            high: Any = None, **kw: Any) -> Tensor:  # fmt: skip
    if kw or _bad_dtype(dtype):
        given = _given(generator=generator, out=out, dtype=dtype, layout=layout, device=device,
                       requires_grad=requires_grad, size=size, low=low, high=high)  # fmt: skip
        raise bad_keywords("randint", args, {**given, **kw}, _RANDINT_OVERLOADS)
    args = list(args)
    if (
        high is None
        and low is None
        and size is None
        and (len(args) in (1, 3) and not isinstance(args[-1], (tuple, list)) or len(args) > 3)
    ):  # (torch.randint(0, 10, 5): the size is not a tuple; torch's parser lists the four overloads)
        raise _randint_combination(args)
    given = list(args)
    if low is None and (size is None and high is None and len(args) == 2 or size is not None and len(args) < 2):
        # the one signature that takes these (high, size): its size must be a sequence (randint(0, 10))
        sz = args[1] if size is None else size
        if not isinstance(sz, (tuple, list)):
            where = " (position 2)" if size is None else ""
            raise TypeError(f"randint(): argument 'size'{where} must be tuple of ints, not {parser_type_name(sz)}")
    if high is not None:  # randint(low=0, high=3, size=(2,)): the keyword forms of torch's two overloads
        args = ([low] if low is not None else []) + args + [high]
    elif low is not None:
        args = [low] + args
    if size is None:
        size = args.pop()
    if len(args) == 1:
        low, high = 0, args[0]
        if isinstance(high, float):
            where = " (position 1)" if len(given) == 2 else ""
            raise TypeError(f"randint(): argument 'high'{where} must be int, not float")
    elif len(args) == 2:
        low, high = args
        if isinstance(low, float) or isinstance(high, float):
            raise _randint_combination(given)
    else:
        raise TypeError(
            "randint() received an invalid combination of arguments: expected (high, size) or (low, high, size)"
        )
    if low >= high:
        raise RuntimeError(f"random_ expects 'from' to be less than 'to', but got from={low} >= to={high}")
    dt = to_dtype(dtype).np if dtype is not None else np.dtype(np.int64)
    return _finish(
        rnd.randint(generator, int(low), int(high), _size((size,), "randint"), dt), _dev(device), requires_grad, out
    )


def randperm(n: int, *, generator: Any = None, out: Tensor | None = None, dtype: Any = None, layout: Any = None,
             device: Any = None, requires_grad: bool = False, pin_memory: bool = False,
             **kw: Any) -> Tensor:  # fmt: skip
    if kw or _bad_dtype(dtype):
        given = _given(generator=generator, out=out, dtype=dtype, layout=layout, device=device,
                       requires_grad=requires_grad, pin_memory=pin_memory)  # fmt: skip
        raise bad_keywords("randperm", (n,), {**given, **kw}, _RANDPERM_OVERLOADS)
    if isinstance(n, bool) or not hasattr(type(n), "__index__"):  # (an integer tensor of one element is an int)
        raise TypeError(f"randperm(): argument 'n' (position 1) must be int, not {type_name(n)}")
    n = n.__index__()
    dt = to_dtype(dtype).np if dtype is not None else np.dtype(np.int64)
    return _finish(rnd.randperm(generator, int(n), dt), _dev(device), requires_grad, out)


def rand_like(input: Tensor, *, dtype: Any = None, layout: Any = None, device: Any = None,
              requires_grad: bool = False, memory_format: Any = None, generator: Any = None,
              **kw: Any) -> Tensor:  # noqa: A002  # fmt: skip
    if kw:
        given = _given(generator=generator, memory_format=memory_format, dtype=dtype, layout=layout, device=device,
                       requires_grad=requires_grad)  # fmt: skip
        raise bad_keywords("rand_like", (), {**given, **kw}, _like_overloads(), before=("Tensor",))
    shape, dt, dev = _like(input, dtype, device, "rand_like")
    if not input._data.flags.c_contiguous or memory_format is not None:  # torch: empty_like, then uniform_ in place
        out = empty_like(input, dtype=dtype, device=device, memory_format=memory_format)
        return out.uniform_(generator=generator).requires_grad_(requires_grad)
    return _finish(rnd.uniform(_gen(generator, dev), shape, dt), dev, requires_grad)


def randn_like(input: Tensor, *, dtype: Any = None, layout: Any = None, device: Any = None,
               requires_grad: bool = False, memory_format: Any = None, generator: Any = None,
               **kw: Any) -> Tensor:  # noqa: A002  # fmt: skip
    if kw:
        given = _given(generator=generator, memory_format=memory_format, dtype=dtype, layout=layout, device=device,
                       requires_grad=requires_grad)  # fmt: skip
        raise bad_keywords("randn_like", (), {**given, **kw}, _like_overloads(), before=("Tensor",))
    shape, dt, dev = _like(input, dtype, device, "randn_like")
    if not input._data.flags.c_contiguous or memory_format is not None:  # torch: empty_like, then normal_ in place
        out = empty_like(input, dtype=dtype, device=device, memory_format=memory_format)
        return out.normal_(generator=generator).requires_grad_(requires_grad)
    return _finish(rnd.normal(_gen(generator, dev), shape, dt), dev, requires_grad)


_RANDINT_REST = (
    "Tensor out = None, torch.dtype dtype = None, torch.layout layout = None, torch.device device = None, "
    "bool pin_memory = False, bool requires_grad = False)"
)


_RANDINT_OVERLOADS = tuple(
    f"({head}, *, {gen}{_RANDINT_REST}"
    for head in ("int high, tuple of ints size", "int low, int high, tuple of ints size")
    for gen in ("torch.Generator generator, ", "")
)
_RANDPERM_OVERLOADS = tuple(f"(int n, *, {gen}{_RANDINT_REST}" for gen in ("torch.Generator generator, ", ""))


def _like_overloads() -> tuple:
    """rand_like's and randn_like's signatures, with a generator and without."""
    tail = f"torch.memory_format memory_format = None, {_FACTORY_KW})"
    return tuple(f"(Tensor input, *, {gen}{tail}" for gen in ("torch.Generator generator, ", ""))


def _randint_combination(args: list) -> TypeError:
    got = ", ".join(type_name(a) for a in args)
    lines = [f"randint() received an invalid combination of arguments - got ({got}), but expected one of:"]
    for head in ("int high, tuple of ints size", "int low, int high, tuple of ints size"):
        lines.append(f" * ({head}, *, torch.Generator generator, {_RANDINT_REST}")
        lines.append(f" * ({head}, *, {_RANDINT_REST}")
    return TypeError("\n".join(lines) + "\n")


def randint_like(input: Tensor, low: int = 0, high: int | None = None, *, dtype: Any = None, layout: Any = None,
                 device: Any = None, requires_grad: bool = False, memory_format: Any = None,
                 **kw: Any) -> Tensor:  # noqa: A002  # fmt: skip
    if kw:
        given = _given(memory_format=memory_format, dtype=dtype, layout=layout, device=device,
                       requires_grad=requires_grad)  # fmt: skip
        pos = (low,) if high is None else (low, high)
        heads = ("int low, int high", "Tensor high", "int high")
        overloads = tuple(
            o.replace("Tensor input, *", f"Tensor input, {h}, *") for h in heads for o in _like_overloads()
        )
        raise bad_keywords("randint_like", pos, {**given, **kw}, overloads, before=("Tensor",))
    if high is None:
        low, high = 0, low
    shape, dt, dev = _like(input, dtype, device, "randint_like")
    return _finish(rnd.randint(None, int(low), int(high), shape, dt), dev, requires_grad)


_NORMAL_OVERLOADS = (
    "(Tensor mean, Tensor std, *, torch.Generator generator = None, Tensor out = None)",
    "(Tensor mean, float std = 1, *, torch.Generator generator = None, Tensor out = None)",
    "(float mean, Tensor std, *, torch.Generator generator = None, Tensor out = None)",
    "(float mean, float std, tuple of ints size, *, torch.Generator generator = None, Tensor out = None, torch.dtype "
    "dtype = None, torch.layout layout = None, torch.device device = None, bool pin_memory = False, bool "
    "requires_grad = False)",
)


def normal(mean: Any = 0.0, std: Any = 1.0, size: Any = None, *, generator: Any = None, out: Tensor | None = None,
           dtype: Any = None, layout: Any = None, device: Any = None,
           requires_grad: bool = False) -> Tensor:  # fmt: skip
    mt, st = isinstance(mean, Tensor), isinstance(std, Tensor)
    if not mt and not st:
        if size is None or not isinstance(size, (list, tuple)):  # (normal(0, 1): numpy's habit, no size)
            given = (mean, std) if size is None else (mean, std, size)
            raise invalid_combination("normal", given, _NORMAL_OVERLOADS, False)
        if std < 0:
            raise RuntimeError(f"normal expects std >= 0.0, but found std {float(std):g}")
        dt = _float_dt(dtype)
        return _finish(
            rnd.normal(
                generator,
                _size(tuple(size) if isinstance(size, (list, tuple)) else (size,)),
                dt,
                float(mean),
                float(std),
            ),
            _dev(device),
            requires_grad,
            out,
        )
    if st and bool((std._data < 0).any()):
        raise RuntimeError("normal expects all elements of std >= 0.0")
    like = mean if mt else std
    dt = like._data.dtype
    if dt.kind != "f":
        raise NotImplementedError(f"\"normal_kernel_cpu\" not implemented for '{like.dtype.scalar_name()}'")
    # the streams are drawn on the host (torch's cpu numbers, bit for bit), then moved to like's device
    m = host(mean._data) if mt else float(mean)
    s = host(std._data) if st else float(std)
    return _finish(rnd.normal_tensor(_gen(generator, like._dev), m, s, dt), like._dev, requires_grad, out)


def bernoulli(input: Tensor, p: Any = None, *, generator: Any = None, out: Tensor | None = None) -> Tensor:  # noqa: A002
    probs = host(input._data) if p is None else np.full(input._data.shape, float(p))
    if probs.size and (bool((probs < 0).any()) or bool((probs > 1).any())):
        raise RuntimeError(
            "Expected p_in >= 0 && p_in <= 1 to be true, but got false.  (Could this error message "
            "be improved?  If so, please report an enhancement request to PyTorch.)"
        )
    return _finish(rnd.bernoulli(_gen(generator, input._dev), probs, input._data.dtype), input._dev, False, out)


def multinomial(input: Tensor, num_samples: int, replacement: bool = False, *, generator: Any = None) -> Tensor:  # noqa: A002
    """torch's cpu multinomial: one sample, or any number without replacement, is its "gumbel" fast path
    (argmax/topk of p / q with q ~ Exp(1) drawn as exponential_ draws them); several with replacement, a
    binary search of the cumulative distribution per uniform draw."""
    d = input._data
    if d.dtype.kind != "f":
        raise RuntimeError(
            f"multinomial only supports floating-point dtypes for input, got: {input.dtype.scalar_name()}"
        )
    if num_samples <= 0:
        raise RuntimeError("cannot sample n_sample <= 0 samples")
    if d.ndim not in (1, 2):
        raise RuntimeError("prob_dist must be 1 or 2 dim")
    if not replacement and num_samples > d.shape[-1]:
        raise RuntimeError("cannot sample n_sample > prob_dist.size(-1) samples without replacement")
    probs = host(d)
    if not replacement or num_samples == 1:
        if not bool((probs < np.inf).all() and (probs >= 0).all()):  # (nan fails both)
            raise RuntimeError("probability tensor contains either `inf`, `nan` or element < 0")
        if bool((probs.reshape(-1, probs.shape[-1]).sum(-1) == 0).any()):
            raise RuntimeError("invalid multinomial distribution (sum of probabilities <= 0)")
        q = rnd.exponential(_gen(generator, input._dev), probs.shape, probs.dtype)
        with np.errstate(divide="ignore", invalid="ignore"):
            keys = probs / q
        if num_samples == 1:
            out = keys.argmax(-1)[..., None]
        else:
            out = np.argsort(-keys, axis=-1, kind="stable")[..., :num_samples]
        return _finish(out.astype(np.int64), input._dev, False)
    rows = probs.astype(np.float64).reshape(-1, probs.shape[-1])
    out = np.empty((rows.shape[0], num_samples), dtype=np.int64)
    for r, row in enumerate(rows):
        # torch's per-entry checks, in its order: a nan fails `>= 0` first
        if not bool((row >= 0).all()):
            raise RuntimeError("invalid multinomial distribution (encountering probability entry < 0)")
        if not bool(np.isfinite(row).all()):
            raise RuntimeError("invalid multinomial distribution (encountering probability entry = infinity or NaN)")
        if not row.sum() > 0:
            raise RuntimeError("invalid multinomial distribution (sum of probabilities <= 0)")
        p = row / row.sum()
        u = rnd.uniform(_gen(generator, input._dev), (num_samples,), np.dtype(np.float64))
        out[r] = np.minimum(np.searchsorted(np.cumsum(p), u, side="right"), len(p) - 1)
    return _finish(out.reshape(probs.shape[:-1] + (num_samples,)), input._dev, False)
