"""torch.nn.utils.convert_conv2d_weight_memory_format and convert_conv3d_weight_memory_format: every
(transposed) convolution's weight in a module tree re-laid in a memory format (torch/nn/utils/memory_format.py),
so that channels-last inputs meet channels-last weights."""

from __future__ import annotations

from typing import Any

from engine.nn.module import Module


def _convert(module: Module, memory_format: Any, kinds: tuple) -> Module:
    if isinstance(module, kinds):
        module.weight.data = module.weight.detach().clone(memory_format=memory_format)
    for child in module.children():
        _convert(child, memory_format, kinds)
    return module


def convert_conv2d_weight_memory_format(module: Module, memory_format: Any) -> Module:
    """Lay out the weight of every Conv2d and ConvTranspose2d under module in memory_format."""
    from engine.nn import Conv2d, ConvTranspose2d

    return _convert(module, memory_format, (Conv2d, ConvTranspose2d))


def convert_conv3d_weight_memory_format(module: Module, memory_format: Any) -> Module:
    """Lay out the weight of every Conv3d and ConvTranspose3d under module in memory_format."""
    from engine.nn import Conv3d, ConvTranspose3d

    return _convert(module, memory_format, (Conv3d, ConvTranspose3d))
