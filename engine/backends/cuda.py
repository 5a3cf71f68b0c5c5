"""torch.backends.cuda: whether cuda support is there, and cuBLAS's matmul switches (`matmul.allow_tf32`),
which follow torch.set_float32_matmul_precision as torch's do. The engine's matmuls are numpy's and cupy's in
full float32 whatever the setting: it is kept and read back, with no effect on results."""

from __future__ import annotations

import warnings
from typing import Any

from engine.naming import object_repr, type_name
from engine.sdpa_backends import (  # noqa: F401 - torch.backends.cuda's attention switches
    cudnn_sdp_enabled,
    enable_cudnn_sdp,
    enable_flash_sdp,
    enable_math_sdp,
    enable_mem_efficient_sdp,
    flash_sdp_enabled,
    math_sdp_enabled,
    mem_efficient_sdp_enabled,
    sdp_kernel,
)

_PRECISION = ["highest"]  # torch.get_float32_matmul_precision()
_PRECISIONS = ("highest", "high", "medium")


def is_built() -> bool:
    """Whether the engine can run cuda work here at all (cupy importable), as a torch build with CUDA."""
    try:
        import cupy  # noqa: F401
    except ImportError:
        return False
    return True


def set_float32_matmul_precision(precision: str) -> None:
    if precision not in _PRECISIONS:
        warnings.warn(
            f"{precision} is not one of 'highest', 'high', or 'medium'; the currentsetFloat32MatmulPrecision "
            "call has no effect. (Triggered internally at /__w/pytorch/pytorch/aten/src/ATen/Context.cpp:458.)",
            UserWarning,
            stacklevel=2,
        )
        return
    _PRECISION[0] = precision


def get_float32_matmul_precision() -> str:
    return _PRECISION[0]


class cuBLASModule:  # noqa: N801 - torch's spelling
    """torch.backends.cuda.matmul: allow_tf32 is float32_matmul_precision seen as a switch ('highest' is off)."""

    _torch_name = "torch.backends.cuda.cuBLASModule"
    __repr__ = object_repr

    def __init__(self) -> None:
        self._reduced = {"fp16": True, "bf16": True}

    @property
    def allow_tf32(self) -> bool:
        return _PRECISION[0] != "highest"

    @allow_tf32.setter
    def allow_tf32(self, value: bool) -> None:
        if type(value) is not bool:
            raise RuntimeError(f"set_allow_tf32_cublas expects a bool, but got {type_name(value)}")
        _PRECISION[0] = "high" if value else "highest"

    def _set_reduced(self, kind: str, value: Any) -> None:
        ok = type(value) is bool or (
            type(value) in (tuple, list) and 1 <= len(value) <= 2 and all(type(v) is bool for v in value)
        )
        if not ok:
            raise TypeError(
                f"allow_{kind}_reduced_precision_reduction expects a bool or a tuple/list of bools, but got "
                f"{type(value)}"
            )
        self._reduced[kind] = value if type(value) is bool else value[0]

    allow_fp16_reduced_precision_reduction = property(
        lambda self: self._reduced["fp16"], lambda self, v: self._set_reduced("fp16", v)
    )
    allow_bf16_reduced_precision_reduction = property(
        lambda self: self._reduced["bf16"], lambda self, v: self._set_reduced("bf16", v)
    )


matmul = cuBLASModule()
