"""torch's legacy tensor types (torch.FloatTensor, torch.LongTensor, ...): constructors of a dtype on the cpu,
and isinstance checks for it (`isinstance(t, torch.FloatTensor)`), as older tutorials use them."""

from __future__ import annotations

from typing import Any

import numpy as np

from engine import dtypes as D
from engine.naming import TorchNamed, type_name
from engine.tensor import Size, Tensor


class tensortype(TorchNamed, metaclass=TorchNamed):  # noqa: N801 - torch's spelling
    """The metaclass of the legacy types (type(torch.FloatTensor) is torch.tensortype)."""

    _torch_name = "torch.{name}"
    _dtype: Any = None

    def __instancecheck__(cls, obj: object) -> bool:
        return isinstance(obj, Tensor) and obj.dtype is cls._dtype and obj.device.type == "cpu"

    def __call__(cls, *args: Any, **kwargs: Any) -> Tensor:
        from engine.creation import empty, tensor

        if set(kwargs) - {"device"}:
            names = ", ".join(f"{k}={type_name(v)}" for k, v in kwargs.items())
            got = ", ".join([type_name(a) for a in args] + [names])
            raise TypeError(f"new() received an invalid combination of arguments - got ({got}), but expected one of:")
        if not args:
            return empty(0, dtype=cls._dtype)
        first = args[0]
        if len(args) == 1 and isinstance(first, Tensor):
            if first.dtype is not cls._dtype:
                raise TypeError(f"expected {cls.__name__} (got {first.type()})")
            return first
        if len(args) == 1 and isinstance(first, Size):
            return empty(tuple(first), dtype=cls._dtype)
        if len(args) == 1 and isinstance(first, (list, tuple, range, np.ndarray)):
            return tensor(first, dtype=cls._dtype)
        if all(type(a) is int for a in args):
            return empty(args, dtype=cls._dtype)
        raise TypeError(f"new(): data must be a sequence (got {type_name(first)})")


def _legacy(name: str, dt: Any) -> tensortype:
    return tensortype(name, (), {"_dtype": dt, "__module__": __name__})


FloatTensor = _legacy("FloatTensor", D.float32)
DoubleTensor = _legacy("DoubleTensor", D.float64)
HalfTensor = _legacy("HalfTensor", D.float16)
LongTensor = _legacy("LongTensor", D.int64)
IntTensor = _legacy("IntTensor", D.int32)
ShortTensor = _legacy("ShortTensor", D.int16)
CharTensor = _legacy("CharTensor", D.int8)
ByteTensor = _legacy("ByteTensor", D.uint8)
BoolTensor = _legacy("BoolTensor", D.bool_)


def set_default_tensor_type(t: Any) -> None:
    """torch.set_default_tensor_type (deprecated, in older tutorials): a floating legacy type, or its dotted name,
    makes its dtype the default."""
    from engine.warn import warn_once

    if isinstance(t, str):
        import engine

        obj: Any = engine
        head, *rest = t.split(".")
        if head != "torch":
            raise ModuleNotFoundError(f"No module named '{head}'")
        for part in rest:
            obj = getattr(obj, part)
        t = obj
    warn_once(
        "torch.set_default_tensor_type() is deprecated as of PyTorch 2.1, please use torch.set_default_dtype() and "
        "torch.set_default_device() as alternatives. (Triggered internally at "
        "/__w/pytorch/pytorch/torch/csrc/tensor/python_tensor.cpp:434.)"
    )
    if not isinstance(t, tensortype):
        raise TypeError("invalid type object: only floating-point types are supported as the default type")
    if not t._dtype.is_floating_point:
        raise TypeError("only floating-point types are supported as the default type")
    D.set_default_dtype(t._dtype)
