"""torch.testing.make_tensor: a random tensor drawn with torch's own calls (uniform_ for floating dtypes, randint
for integers and bool), so that under the same manual_seed it holds torch's values."""

from __future__ import annotations

import collections.abc
import math
import warnings
from typing import Any

import engine
from engine.warn import user_stacklevel

_INTEGRAL = (engine.bool, engine.uint8, engine.int8, engine.int16, engine.int32, engine.int64)
_FLOATING = (engine.float16, engine.float32, engine.float64)


def _low_high(dtype: engine.dtype, low: float | None, high: float | None, *, lowest: float, highest: float,
              default_low: float, default_high: float) -> tuple[float, float]:  # fmt: skip
    """The interval to draw from: the defaults filled in, checked, clamped to what `dtype` holds ([lowest,
    highest)), and for integers rounded up to whole numbers."""
    low = default_low if low is None else low
    high = default_high if high is None else high
    if any(isinstance(v, float) and math.isnan(v) for v in (low, high)):
        raise ValueError(f"`low` and `high` cannot be NaN, but got low={low!r} and high={high!r}")
    if low == high and dtype in _FLOATING:
        warnings.warn("Passing `low==high` to `torch.testing.make_tensor` for floating or complex types is deprecated "
                      "since 2.1 and will be removed in 2.3. Use `torch.full(...)` instead.", FutureWarning,
                      stacklevel=user_stacklevel())  # fmt: skip
    elif low >= high:
        raise ValueError(f"`low` must be less than `high`, but got {low} >= {high}")
    elif high < lowest or low >= highest:
        raise ValueError(f"The value interval specified by `low` and `high` is [{low}, {high}), but {dtype} only "
                         f"supports [{lowest}, {highest})")  # fmt: skip
    low, high = min(max(low, lowest), highest), min(max(high, lowest), highest)
    return (math.ceil(low), math.ceil(high)) if dtype in _INTEGRAL else (low, high)


def make_tensor(*shape: int | collections.abc.Sequence[int], dtype: engine.dtype, device: Any, low: float | None = None,
                high: float | None = None, requires_grad: bool = False, noncontiguous: bool = False,
                exclude_zero: bool = False, memory_format: Any = None) -> engine.Tensor:  # fmt: skip
    """A tensor of `shape` filled with values uniform in [low, high) (default [-9, 9) for floating dtypes, [-9, 10)
    for integers, both values for bool)."""
    if len(shape) == 1 and isinstance(shape[0], collections.abc.Sequence):
        shape = shape[0]  # type: ignore[assignment]
    shape = tuple(shape)
    if noncontiguous and memory_format is not None:
        raise ValueError("The parameters `noncontiguous` and `memory_format` are mutually exclusive, but got "
                         f"noncontiguous={noncontiguous!r} and memory_format={memory_format!r}")  # fmt: skip
    if requires_grad and dtype in _INTEGRAL:
        raise ValueError(
            f"`requires_grad=True` is not supported for boolean and integral dtypes, but got dtype={dtype!r}"
        )
    noncontiguous = noncontiguous and math.prod(shape) > 1
    if noncontiguous:  # (drawn twice as wide in the last dim, then every other element kept)
        shape = (*shape[:-1], 2 * shape[-1])
    if dtype is engine.bool:
        low, high = _low_high(dtype, low, high, lowest=0, highest=2, default_low=0, default_high=2)
        result = engine.randint(low, high, shape, device=device, dtype=dtype)
    elif dtype in _INTEGRAL:
        info = engine.iinfo(dtype)
        low, high = _low_high(dtype, low, high, lowest=info.min, highest=info.max + (dtype is not engine.int64),
                              default_low=-9, default_high=10)  # fmt: skip
        result = engine.randint(low, high, shape, device=device, dtype=dtype)
    elif dtype in _FLOATING:
        finfo = engine.finfo(dtype)
        low, high = _low_high(dtype, low, high, lowest=finfo.min, highest=finfo.max, default_low=-9, default_high=9)
        result = engine.empty(shape, device=device, dtype=dtype)
        if high - low >= finfo.max:  # (the width itself would overflow: draw half of it, then double)
            result.uniform_(low / 2, high / 2).mul_(2)
        else:
            result.uniform_(low, high)
    else:
        raise TypeError(f"The requested dtype '{dtype}' is not supported by torch.testing.make_tensor(). To request "
                        "support, file an issue at: https://github.com/pytorch/pytorch/issues")  # fmt: skip
    if noncontiguous:
        result = result[..., 1::2]
    elif memory_format is not None:
        result = result.clone(memory_format=memory_format)
    if exclude_zero:
        result[result == 0] = 1 if dtype in _INTEGRAL else engine.finfo(dtype).tiny
    if dtype in _FLOATING:
        result.requires_grad = requires_grad
    return result
