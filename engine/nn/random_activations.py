"""The activations that draw random numbers: F.rrelu / torch.rrelu (and their in-place forms) with nn.RReLU, and
F.gumbel_softmax. Seeded, they draw torch's numbers from the engine's generator (engine/random.py).

rrelu in training mode is torch's rrelu_with_noise kernel: element by element, each value <= 0 draws its own slope
from uniform_real_distribution<double>(lower, upper) (53 bits of one random64(), scaled, then rounded to the
kernel's precision) and is multiplied by it; positive values (and nan) pass with slope 1 and draw nothing. Out of
training it is leaky_relu with the mean slope. Both record RreluWithNoiseBackward0: the gradient times the slopes
used. gumbel_softmax is torch's composite: exponential_ noise, -log, added to the logits, over tau, softmax
(straight-through one-hot when hard)."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from engine.backend import host
from engine.nn.module import Module
from engine.ops.util import node_class, record
from engine.ops.util import saved as saved_versions
from engine.tensor import Tensor, wrap
from engine.warn import user_stacklevel


def _noise(x: Tensor, lower: float, upper: float, generator: Any) -> Any:
    """Per element the slope torch's training kernel multiplies it by (an array on x's device)."""
    from engine.creation import _gen
    from engine.random import _gen as _or_default
    from engine.random import _unit53

    ct = np.float64 if x._data.dtype == np.float64 else np.float32  # (the kernel's opmath type)
    lo, hi = float(ct(lower)), float(ct(upper))
    neg = host(x._data <= 0).reshape(-1)
    noise = np.ones(neg.shape, dtype=ct)
    # (the generator of x's device, as torch keeps one per device)
    noise[neg] = (_unit53(_or_default(_gen(generator, x._dev)), int(neg.sum())) * (hi - lo) + lo).astype(ct)
    return x._dev.xp.asarray(noise.reshape(x._data.shape))


def _rrelu_backward(self: Any, g: Tensor, slopes: Tensor) -> tuple:
    return (g * slopes,)


_NODES = {n: node_class(f"RreluWithNoiseBackward{n}", _rrelu_backward) for n in (0, 1)}


def _rrelu(input: Tensor, lower: float, upper: float, training: bool, generator: Any,  # noqa: A002
           node: int) -> Tensor:  # fmt: skip
    if not float(lower) <= float(upper):
        raise RuntimeError("Lower bound should be less than or equal to the upper bound")
    kind = input._data.dtype
    if kind.kind != "f" or (training and kind == np.float16):
        kernel = "rrelu_with_noise_out_cpu" if training else "leaky_relu_cpu"
        raise NotImplementedError(f"\"{kernel}\" not implemented for '{input.dtype.scalar_name()}'")
    xp = input._dev.xp
    a = input._data
    ct = np.float64 if kind == np.float64 else np.float32
    if training:
        slopes = _noise(input, lower, upper, generator)
        out = xp.where(a <= 0, (a.astype(ct) * slopes).astype(kind), a)
    else:  # leaky_relu with the mean slope, taken in double and rounded to the kernel's precision
        slope = ct((float(lower) + float(upper)) / 2)
        out = xp.where(a > 0, a, (a.astype(ct) * slope).astype(kind))
        slopes = xp.where(a > 0, ct(1), slope)
    s = wrap(slopes.astype(kind), input._dev)
    return record(_NODES[node], xp.ascontiguousarray(out), input._dev, (input,), (s,), saved_versions(s))


def torch_rrelu(input: Tensor, lower: float = 1.0 / 8, upper: float = 1.0 / 3, training: bool = False,  # noqa: A002
                generator: Any = None) -> Tensor:  # fmt: skip
    """torch.rrelu."""
    return _rrelu(input, lower, upper, training, generator, 0)


def torch_rrelu_(input: Tensor, lower: float = 1.0 / 8, upper: float = 1.0 / 3, training: bool = False,  # noqa: A002
                 generator: Any = None) -> Tensor:  # fmt: skip
    """torch.rrelu_ (and F.rrelu_): in place, RreluWithNoiseBackward1."""
    from engine.ops.inplace import apply

    return apply(input, lambda a: _rrelu(a, lower, upper, training, generator, 1))


def rrelu(input: Tensor, lower: float = 1.0 / 8, upper: float = 1.0 / 3, training: bool = False,  # noqa: A002
          inplace: bool = False) -> Tensor:  # fmt: skip
    return (torch_rrelu_ if inplace else torch_rrelu)(input, lower, upper, training)


class RReLU(Module):
    _torch_name = "torch.nn.modules.activation.{name}"

    def __init__(self, lower: float = 1.0 / 8, upper: float = 1.0 / 3, inplace: bool = False) -> None:
        super().__init__()
        self.lower = lower
        self.upper = upper
        self.inplace = inplace

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return rrelu(input, self.lower, self.upper, self.training, self.inplace)

    def extra_repr(self) -> str:
        return f"lower={self.lower}, upper={self.upper}" + (", inplace=True" if self.inplace else "")


def gumbel_softmax(logits: Tensor, tau: float = 1, hard: bool = False, eps: float = 1e-10,
                   dim: int = -1) -> Tensor:  # fmt: skip
    """F.gumbel_softmax: softmax((logits + Gumbel(0, 1) noise) / tau); hard gives the one-hot of its argmax,
    with the soft sample's gradient (straight through)."""
    from engine.creation import empty_like, zeros_like

    if eps != 1e-10:
        warnings.warn("`eps` parameter is deprecated and has no effect.", UserWarning, stacklevel=user_stacklevel())
    gumbels = -empty_like(logits).exponential_().log()
    y_soft = ((logits + gumbels) / tau).softmax(dim)
    if not hard:
        return y_soft
    index = y_soft.max(dim, keepdim=True)[1]
    y_hard = zeros_like(logits).scatter_(dim, index, 1.0)
    return y_hard - y_soft.detach() + y_soft


FUNCTIONS = {"rrelu": rrelu, "rrelu_": torch_rrelu_, "gumbel_softmax": gumbel_softmax}
TORCH_FUNCTIONS = {"rrelu": torch_rrelu, "rrelu_": torch_rrelu_}
__all__ = ["RReLU"]
