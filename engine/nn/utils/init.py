"""torch.nn.utils.skip_init: a module whose parameters and buffers are left uninitialised (torch/nn/utils/init.py).
torch builds it on the meta device and then allocates empty tensors; the engine has no meta device, so it
builds the module and then swaps every tensor for an empty one, with the generators' states restored, so that
the random draws after it are the ones torch's skipped initialisation leaves."""

from __future__ import annotations

import inspect
from typing import Any

from engine.nn.module import Module


def skip_init(module_cls: type, *args: Any, **kwargs: Any) -> Module:
    """module_cls(*args, **kwargs) with uninitialised parameters and buffers, on kwargs' device."""
    import engine.random as R

    if not issubclass(module_cls, Module):
        raise RuntimeError(f"Expected a Module; got {module_cls}")
    if "device" not in inspect.signature(module_cls).parameters:
        raise RuntimeError("Module must support a 'device' arg to skip initialization")
    final_device = kwargs.pop("device", "cpu")
    states = (R.default_generator.get_state(), R.cuda_generator.get_state())
    try:
        module = module_cls(*args, **kwargs)
    finally:
        R.default_generator.set_state(states[0])
        R.cuda_generator.set_state(states[1])
    return module.to_empty(device=final_device)
