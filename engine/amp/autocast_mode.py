"""torch.amp.autocast (torch.autocast) and the functions that read and set autocast's state. The casting
itself happens in the ops torch lists (engine/amp/policy.py, engine/amp/op_lists.py)."""

from __future__ import annotations

import functools
import warnings
from typing import Any

from engine.amp.policy import ACTIVE, CACHE, NESTING, STATE
from engine.naming import TorchModuleNamed
from engine.warn import user_stacklevel

_TYPES = ("cpu", "cuda")


def _state(device_type: Any, fn: str) -> list | None:
    if not isinstance(device_type, str):
        raise TypeError(f"{fn}(): argument 'device_type' (position 1) must be str, not {type(device_type).__name__}")
    from engine.backend import device

    return STATE.get(device(device_type).type)


def is_autocast_available(device_type: str) -> bool:
    return device_type in _TYPES


def is_autocast_enabled(device_type: Any = None) -> bool:
    """With no device type, whether cuda autocast is on (torch's legacy meaning)."""
    s = _state("cuda" if device_type is None else device_type, "is_autocast_enabled")
    return bool(s and s[0])


def set_autocast_enabled(device_type: Any, enabled: bool) -> None:
    s = _state(device_type, "set_autocast_enabled")
    if s is not None and s[0] != bool(enabled):
        s[0] = bool(enabled)
        ACTIVE[0] += 1 if enabled else -1


def get_autocast_dtype(device_type: Any) -> Any:
    import engine.dtypes as D

    s = _state(device_type, "get_autocast_dtype")
    return getattr(D, s[1]) if s is not None else D.bfloat16


def set_autocast_dtype(device_type: Any, dtype: Any) -> None:
    from engine.dtypes import dtype as dtype_type

    if not isinstance(dtype, dtype_type):  # (the state keeps a dtype's name: only an engine dtype names one)
        raise TypeError(
            f"set_autocast_dtype(): argument 'dtype' (position 2) must be torch.dtype, not {type(dtype).__name__}"
        )
    s = _state(device_type, "set_autocast_dtype")
    if s is not None:
        s[1] = dtype.name


def is_autocast_cache_enabled() -> bool:
    return bool(STATE["cpu"][2])


def set_autocast_cache_enabled(enabled: bool) -> None:
    for s in STATE.values():
        s[2] = bool(enabled)


def clear_autocast_cache() -> None:
    CACHE.clear()


def _deprecated(old: str, new: str, line: int) -> None:
    warnings.warn(
        f"torch.{old}() is deprecated. Please use torch.{new} instead. (Triggered internally at "
        f"/__w/pytorch/pytorch/torch/csrc/autograd/init.cpp:{line}.)",
        DeprecationWarning,
        stacklevel=user_stacklevel(),
    )


def get_autocast_cpu_dtype() -> Any:
    _deprecated("get_autocast_cpu_dtype", "get_autocast_dtype('cpu')", 1016)
    return get_autocast_dtype("cpu")


def get_autocast_gpu_dtype() -> Any:
    _deprecated("get_autocast_gpu_dtype", "get_autocast_dtype('cuda')", 1007)
    return get_autocast_dtype("cuda")


def is_autocast_cpu_enabled() -> bool:
    _deprecated("is_autocast_cpu_enabled", "is_autocast_enabled('cpu')", 883)
    return is_autocast_enabled("cpu")


class autocast(metaclass=TorchModuleNamed):  # noqa: N801 - torch's spelling
    """Runs the ops torch lists in a lower precision (matmul, linear, conv...) or in float32 (losses, prod,
    linalg...) while the context is active, as a `with` block or as a decorator."""

    def __init__(self, device_type: str, dtype: Any = None, enabled: bool = True, cache_enabled: Any = None) -> None:
        if not isinstance(device_type, str):
            raise ValueError(f"Expected `device_type` of type `str`, got: `{type(device_type)}`")
        from engine.backend import cuda_available, device

        self.device = device(device_type).type
        self.fast_dtype = get_autocast_dtype(self.device) if dtype is None else dtype
        self._cache_enabled = is_autocast_cache_enabled() if cache_enabled is None else cache_enabled
        self._enabled = enabled
        from engine.dtypes import dtype as dtype_type

        supported = isinstance(self.fast_dtype, dtype_type) and self.fast_dtype.name in ("bfloat16", "float16")
        if self.device == "cpu" and enabled and not supported:
            warnings.warn(
                "In CPU autocast, but the target dtype is not supported. Disabling autocast.\n"
                "CPU Autocast only supports dtypes of torch.bfloat16, torch.float16 currently.",
                UserWarning,
                stacklevel=user_stacklevel(),
            )
            self._enabled = False
        elif self.device == "cuda" and enabled and not cuda_available():
            warnings.warn(
                "CUDA is not available or torch_xla is imported. Disabling autocast.",
                UserWarning,
                stacklevel=user_stacklevel(),
            )
            self._enabled = False

    def __repr__(self) -> str:
        return f"<torch.amp.autocast_mode.autocast object at {id(self):#x}>"

    def __enter__(self) -> autocast:
        s = STATE.get(self.device)
        self._prev = None if s is None else list(s)
        if s is not None:
            set_autocast_enabled(self.device, bool(self._enabled))
            from engine.dtypes import dtype as dtype_type

            if isinstance(self.fast_dtype, dtype_type):  # (the state names a dtype: only an engine dtype's name)
                s[1] = self.fast_dtype.name
            s[2] = bool(self._cache_enabled)
        NESTING[0] += 1
        return self

    def __exit__(self, *exc: object) -> bool:
        NESTING[0] -= 1
        if NESTING[0] == 0:
            CACHE.clear()  # (torch drops the cached casts when the outermost autocast exits)
        if self._prev is not None:
            set_autocast_enabled(self.device, self._prev[0])
            STATE[self.device][1:] = self._prev[1:]
        return False

    def __call__(self, func: Any) -> Any:
        @functools.wraps(func)
        def decorate_autocast(*args: Any, **kwargs: Any) -> Any:
            with self:
                return func(*args, **kwargs)

        return decorate_autocast
