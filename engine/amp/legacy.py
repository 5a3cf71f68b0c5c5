"""torch.cuda.amp and torch.cpu.amp: the pre-2.4 spellings of autocast and GradScaler that older tutorials
use (`with torch.cuda.amp.autocast():`, `scaler = torch.cuda.amp.GradScaler()`). Each is torch.amp's class with
the device fixed, and each warns as torch's does that it is deprecated (a FutureWarning at the script's line)."""

from __future__ import annotations

import warnings
from typing import Any

from engine.amp.autocast_mode import autocast as _autocast
from engine.amp.grad_scaler import GradScaler as _GradScaler
from engine.warn import user_stacklevel


def _deprecated(old: str, new: str) -> None:
    warnings.warn(
        f"`torch.{old}(args...)` is deprecated. Please use `torch.{new}` instead.",
        FutureWarning,
        stacklevel=user_stacklevel(),
    )


def _autocast_for(device_type: str, default_dtype: str) -> type:
    module = f"torch.{device_type}.amp.autocast_mode"

    class autocast(_autocast):  # noqa: N801 - torch's spelling
        _torch_module = module

        def __init__(self, enabled: bool = True, dtype: Any = None, cache_enabled: bool = True) -> None:
            import engine.dtypes as D

            _deprecated(f"{device_type}.amp.autocast", f"amp.autocast('{device_type}', args...)")
            dtype = getattr(D, default_dtype) if dtype is None else dtype
            super().__init__(device_type, enabled=enabled, dtype=dtype, cache_enabled=cache_enabled)

        def __repr__(self) -> str:
            return f"<{module}.autocast object at {id(self):#x}>"

    autocast.__module__ = f"engine.amp.{device_type}_amp"
    return autocast


def _grad_scaler_for(device_type: str) -> type:
    module = f"torch.{device_type}.amp.grad_scaler"

    class GradScaler(_GradScaler):
        _torch_module = module

        def __init__(self, init_scale: float = 2.0**16, growth_factor: float = 2.0, backoff_factor: float = 0.5,
                     growth_interval: int = 2000, enabled: bool = True) -> None:  # fmt: skip
            _deprecated(f"{device_type}.amp.GradScaler", f"amp.GradScaler('{device_type}', args...)")
            super().__init__(device_type, init_scale, growth_factor, backoff_factor, growth_interval, enabled)

        def __repr__(self) -> str:
            return f"<{module}.GradScaler object at {id(self):#x}>"

    GradScaler.__module__ = f"engine.amp.{device_type}_amp"
    return GradScaler


CUDA_AUTOCAST = _autocast_for("cuda", "float16")
CPU_AUTOCAST = _autocast_for("cpu", "bfloat16")
CUDA_GRAD_SCALER = _grad_scaler_for("cuda")
CPU_GRAD_SCALER = _grad_scaler_for("cpu")
