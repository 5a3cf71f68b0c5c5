"""torch.finfo and torch.iinfo: the numeric limits of a dtype, printed as torch prints them."""

from __future__ import annotations

from typing import Any

import numpy as np

from engine.dtypes import DEFAULT, dtype, to_dtype
from engine.naming import TorchNamed


class finfo(metaclass=TorchNamed):  # noqa: N801 - torch's spelling
    """Machine limits of a floating point dtype (the default dtype when none is given)."""

    _torch_name = "torch.finfo"
    _c_type = True

    def __init__(self, type: Any = None) -> None:  # noqa: A002 - torch's keyword
        d = DEFAULT.float if type is None else to_dtype(type).to_real()  # (a complex type: its parts' limits)
        if d.np.kind != "f":
            raise TypeError(
                "torch.finfo() requires a floating point input type. Use torch.iinfo to handle 'torch.finfo'"
            )
        if d.name == "bfloat16":  # (numpy has no bfloat16: float32's range with 8 significand bits)
            self.bits, self.eps, self.max = 16, 2.0**-7, float.fromhex("0x1.fep127")
            self.min, self.tiny = -self.max, 2.0**-126
            self.smallest_normal, self.resolution, self.dtype = self.tiny, 0.01, "bfloat16"
            return
        info = np.finfo(d.np)
        self.bits = info.bits
        self.eps = float(info.eps)
        self.max = float(info.max)
        self.min = float(info.min)
        self.tiny = self.smallest_normal = float(info.smallest_normal)
        self.resolution = 10.0 ** -int(info.precision)  # (torch: 10 ** -digits10, exactly 1e-06)
        self.dtype = d.np.name

    def __repr__(self) -> str:
        fields = ("resolution", "min", "max", "eps", "smallest_normal", "tiny")
        return f"finfo({', '.join(f'{k}={getattr(self, k):.6g}' for k in fields)}, dtype={self.dtype})"

    def __eq__(self, other: object) -> bool:
        return type(other) is finfo and other.dtype == self.dtype

    def __hash__(self) -> int:
        return hash(self.dtype)


class iinfo(metaclass=TorchNamed):  # noqa: N801
    """Limits of an integer dtype."""

    _torch_name = "torch.iinfo"
    _c_type = True

    def __init__(self, type: Any) -> None:  # noqa: A002
        d: dtype = to_dtype(type)
        if d.np.kind == "b":
            raise TypeError("torch.bool is not supported by torch.iinfo")
        if d.np.kind not in "iu":
            raise TypeError("torch.iinfo() requires an integer input type. Use torch.finfo to handle 'torch.iinfo'")
        info = np.iinfo(d.np)
        self.bits, self.max, self.min, self.dtype = info.bits, int(info.max), int(info.min), d.np.name

    def __repr__(self) -> str:
        return f"iinfo(min={self.min:.6g}, max={self.max:.6g}, dtype={self.dtype})"

    def __eq__(self, other: object) -> bool:
        return type(other) is iinfo and other.dtype == self.dtype

    def __hash__(self) -> int:
        return hash(self.dtype)
