"""torch.nn.functional: activations, losses and linear, built from engine primitives."""

from __future__ import annotations

from typing import Any

from engine.ops import elementwise as E
from engine.ops import reduce as R
from engine.ops.linalg import matmul
from engine.tensor import Tensor

relu = E.relu
sigmoid = E.sigmoid
tanh = E.tanh
softmax = R.softmax
log_softmax = R.log_softmax
silu = E.silu
softplus_ = E.softplus


softplus = E.softplus


def leaky_relu(input: Tensor, negative_slope: float = 0.01, inplace: bool = False) -> Tensor:  # noqa: A002
    return E.where(input > 0, input, input * negative_slope)


def elu(input: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:  # noqa: A002
    return E.where(input > 0, input, (input.exp() - 1) * alpha)


def gelu(input: Tensor, approximate: str = "none") -> Tensor:  # noqa: A002
    if approximate == "tanh":
        return 0.5 * input * (1 + E.tanh(0.7978845608028654 * (input + 0.044715 * input**3)))
    return 0.5 * input * (1 + E.erf(input * 0.7071067811865476))


def linear(input: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:  # noqa: A002
    out = matmul(input, weight.t())
    return out + bias if bias is not None else out


def _reduce(loss: Tensor, reduction: str) -> Tensor:
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    if reduction == "none":
        return loss
    raise ValueError(f"{reduction} is not a valid value for reduction")


def mse_loss(input: Tensor, target: Tensor, size_average: Any = None, reduce: Any = None,
             reduction: str = "mean") -> Tensor:  # noqa: A002  # fmt: skip
    d = input - target
    return _reduce(d * d, reduction)


def l1_loss(input: Tensor, target: Tensor, reduction: str = "mean") -> Tensor:  # noqa: A002
    return _reduce((input - target).abs(), reduction)


def binary_cross_entropy(input: Tensor, target: Tensor, weight: Tensor | None = None,
                         reduction: str = "mean") -> Tensor:  # noqa: A002  # fmt: skip
    # torch clamps the log at -100 so that p = 0 or 1 gives a finite loss
    loss = -(target * input.log().clamp(min=-100) + (1 - target) * (1 - input).log().clamp(min=-100))
    if weight is not None:
        loss = loss * weight
    return _reduce(loss, reduction)


def binary_cross_entropy_with_logits(input: Tensor, target: Tensor, weight: Tensor | None = None,
                                     reduction: str = "mean", pos_weight: Tensor | None = None) -> Tensor:  # noqa: A002  # fmt: skip
    # log(1 + exp(-|x|)) + max(x, 0) - x*t: stable for large |x|
    loss = E.softplus(-input.abs()) + input.clamp(min=0) - input * target
    if weight is not None:
        loss = loss * weight
    return _reduce(loss, reduction)


def nll_loss(input: Tensor, target: Tensor, reduction: str = "mean") -> Tensor:  # noqa: A002
    picked = -input.gather(1, target.unsqueeze(1)).squeeze(1)
    return _reduce(picked, reduction)


def cross_entropy(input: Tensor, target: Tensor, reduction: str = "mean") -> Tensor:  # noqa: A002
    return nll_loss(R.log_softmax(input, 1), target, reduction)


def one_hot(tensor: Tensor, num_classes: int = -1) -> Tensor:
    import numpy as np

    from engine.tensor import wrap

    n = int(tensor._data.max()) + 1 if num_classes < 0 else num_classes
    return wrap(tensor._dev.xp.eye(n, dtype=np.int64)[tensor._data], tensor._dev)


def normalize(input: Tensor, p: float = 2.0, dim: int = 1, eps: float = 1e-12) -> Tensor:  # noqa: A002
    return input / R.norm(input, p, dim, keepdim=True).clamp(min=eps).expand_as(input)


def dropout(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:  # noqa: A002
    if not training or p == 0:
        return input
    from engine.creation import rand_like

    mask = rand_like(input) >= p
    return input * mask / (1 - p)
