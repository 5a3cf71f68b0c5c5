"""torch.nn.functional.bilinear (torch.bilinear) and nn.Bilinear: y = x1^T A x2 + b per output feature.

torch flattens both inputs to matrices and runs one _trilinear (TrilinearBackward0) reshaped back to the batch
(ViewBackward0), the bias added on top (AddBackward0); the same graph is recorded here. _trilinear's backward is
its own three contractions, written with engine ops so it differentiates again."""

from __future__ import annotations

import math
from typing import Any

from engine.creation import empty
from engine.nn import init
from engine.nn.functional import tensor_arg
from engine.nn.module import Module
from engine.nn.parameter import Parameter
from engine.ops.einsum import einsum
from engine.ops.util import node_class, record, saved
from engine.tensor import Tensor


def _trilinear_bw(self: Any, g: Tensor, x1: Tensor, w: Tensor, x2: Tensor) -> tuple:
    n = self._next
    return (
        einsum("bo,oij,bj->bi", g, w, x2) if n[0] is not None else None,
        einsum("bo,bi,bj->oij", g, x1, x2) if n[1] is not None else None,
        einsum("bo,bi,oij->bj", g, x1, w) if n[2] is not None else None,
    )


TrilinearBackward0 = node_class("TrilinearBackward0", _trilinear_bw)


def _trilinear(x1: Tensor, w: Tensor, x2: Tensor) -> Tensor:
    """out[b, o] = sum_ij x1[b, i] w[o, i, j] x2[b, j]."""
    a1, aw, a2 = x1._data, w._data, x2._data
    out = ((a1[None, :, None, :] @ aw[:, None, :, :])[:, :, 0, :] * a2[None]).sum(-1).T
    out = w._dev.xp.ascontiguousarray(out.astype(aw.dtype, copy=False))
    return record(TrilinearBackward0, out, w._dev, (x1, w, x2), (x1, w, x2), saved(x1, w, x2))


def bilinear(input1: Tensor, input2: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    for name, t, pos in (("input1", input1, 1), ("input2", input2, 2), ("weight", weight, 3)):
        tensor_arg("bilinear", t, name, pos)
    dts = [input1.dtype, input2.dtype, weight.dtype] + ([bias.dtype] if bias is not None else [])
    if len(set(dts)) > 1:
        names = ("input1", "input2", "weight", "bias")
        listed = ", ".join(f"{n}: {d.name_for_error()}" for n, d in zip(names, dts))
        raise RuntimeError(f"All tensors must have the same dtype, got {listed}")
    s1, s2, sw = input1._data.shape, input2._data.shape, weight._data.shape
    if len(s1) != len(s2):
        raise RuntimeError(f"bilinear(): input dimensions do not match: got {len(s1)} and {len(s2)}")
    for i in range(len(s1) - 1):
        if s1[i] != s2[i]:
            raise RuntimeError(f"bilinear(): input batch dimensions do not match at dim {i}: got {s1[i]} and {s2[i]}")
    if s1[-1] != sw[1]:
        raise RuntimeError(f"bilinear(): input1 size does not match weight size: got {s1[-1]} but expected {sw[1]}")
    if s2[-1] != sw[2]:
        raise RuntimeError(f"bilinear(): input2 size does not match weight size: got {s2[-1]} but expected {sw[2]}")
    if bias is not None and bias._data.shape[0] != sw[0]:
        raise RuntimeError(
            f"bilinear(): bias size does not match weight size: got {bias._data.shape[0]} but expected {sw[0]}"
        )
    out = _trilinear(input1.reshape(-1, s1[-1]), weight, input2.reshape(-1, s2[-1])).reshape(*s1[:-1], sw[0])
    return out + bias if bias is not None else out


class Bilinear(Module):
    _torch_name = "torch.nn.modules.linear.{name}"

    def __init__(self, in1_features: int, in2_features: int, out_features: int, bias: bool = True,
                 device: Any = None, dtype: Any = None) -> None:  # fmt: skip
        super().__init__()
        self.in1_features = in1_features
        self.in2_features = in2_features
        self.out_features = out_features
        self.weight = Parameter(empty((out_features, in1_features, in2_features), device=device, dtype=dtype))
        if bias:
            self.bias = Parameter(empty(out_features, device=device, dtype=dtype))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        bound = 1 / math.sqrt(self.weight.size(1))
        init.uniform_(self.weight, -bound, bound)
        if self.bias is not None:
            init.uniform_(self.bias, -bound, bound)

    def forward(self, input1: Tensor, input2: Tensor) -> Tensor:
        return bilinear(input1, input2, self.weight, self.bias)

    def extra_repr(self) -> str:
        return (
            f"in1_features={self.in1_features}, in2_features={self.in2_features}, "
            f"out_features={self.out_features}, bias={self.bias is not None}"
        )


FUNCTIONS = {"bilinear": bilinear}
__all__ = ["Bilinear"]
