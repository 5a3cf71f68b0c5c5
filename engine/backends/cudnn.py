"""torch.backends.cudnn: cuDNN's switches. The engine never calls cuDNN (its cuda convolutions are its own
cupy kernels, deterministic whatever these say), so the flags are settable settings with no effect, kept so
that seeding boilerplate (`torch.backends.cudnn.deterministic = True`, `benchmark = False`) runs as written."""

from __future__ import annotations

import sys
import types
from typing import Any

from engine.naming import type_name

enabled = True
deterministic = False
benchmark = False
allow_tf32 = True


def is_available() -> bool:
    return False


def version() -> int | None:
    return None


# torch's setters take a bool only (its C++ switches); the message names each C++ setter
_SETTERS = {"enabled": "set_enabled_cudnn", "deterministic": "set_deterministic_cudnn",
            "benchmark": "set_benchmark_cudnn", "allow_tf32": "set_allow_tf32_cublas"}  # fmt: skip


class _Flags(types.ModuleType):
    """This module, with torch's check on assigning a flag."""

    def __setattr__(self, name: str, value: Any) -> None:
        setter = _SETTERS.get(name)
        if setter is not None and type(value) is not bool:
            raise RuntimeError(f"{setter} expects a bool, but got {type_name(value)}")
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Flags
