"""torch.nn.utils.stateless.functional_call: torch.func.functional_call under its pre-2.0 name, with the
FutureWarning torch gives it (torch/nn/utils/stateless.py)."""

from __future__ import annotations

import warnings
from typing import Any

from engine.nn.module import Module
from engine.tensor import Tensor
from engine.warn import user_stacklevel

__all__ = ["functional_call"]


def functional_call(module: Module, parameters_and_buffers: dict[str, Tensor], args: Any = None,
                    kwargs: dict[str, Any] | None = None, *, tie_weights: bool = True,
                    strict: bool = False) -> Any:  # fmt: skip
    """module(*args, **kwargs) with the named parameters and buffers replaced by the given tensors."""
    from engine.func.stateless import functional_call as func_functional_call

    warnings.warn(
        "`torch.nn.utils.stateless.functional_call` is deprecated as of PyTorch 2.0 and will be removed in a future "
        "version of PyTorch. Please use `torch.func.functional_call` instead which is a drop-in replacement.",
        FutureWarning,
        stacklevel=user_stacklevel(),
    )
    return func_functional_call(module, parameters_and_buffers, args, kwargs, tie_weights=tie_weights, strict=strict)
