"""torch.distributions.utils: broadcasting parameters, probabilities <-> logits, lazy properties and the
triangular-matrix packing the distributions share (torch/distributions/utils.py)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import engine as torch
from engine.tensor import Tensor

euler_constant = 0.57721566490153286060  # Euler Mascheroni Constant

__all__ = [
    "broadcast_all",
    "logits_to_probs",
    "clamp_probs",
    "probs_to_logits",
    "lazy_property",
    "tril_matrix_to_vec",
    "vec_to_tril_matrix",
]

# torch.types._Number: what a distribution takes as a plain number parameter
NUMBER = (int, float, bool)


def broadcast_all(*values: Any) -> tuple[Tensor, ...]:
    """The values broadcast to one shape; numbers become tensors of the first tensor's dtype and device
    (the default dtype when all are numbers)."""
    if not all(isinstance(v, (Tensor, *NUMBER)) for v in values):
        raise ValueError(
            "Input arguments must all be instances of Number, torch.Tensor or objects implementing __torch_function__."
        )
    if not all(isinstance(v, Tensor) for v in values):
        options: dict[str, Any] = {"dtype": torch.get_default_dtype()}
        for value in values:
            if isinstance(value, Tensor):
                options = {"dtype": value.dtype, "device": value.device}
                break
        values = tuple(v if isinstance(v, Tensor) else torch.tensor(v, **options) for v in values)
    return torch.broadcast_tensors(*values)


def _standard_normal(shape: Sequence[int], dtype: Any, device: Any) -> Tensor:
    # (torch draws these with normal_ on an empty tensor: the same stream as torch.randn)
    return torch.empty(shape, dtype=dtype, device=device).normal_()


def _sum_rightmost(value: Tensor, dim: int) -> Tensor:
    """value with its `dim` rightmost dimensions summed out."""
    if dim == 0:
        return value
    required_shape = value.shape[:-dim] + (-1,)
    return value.reshape(required_shape).sum(-1)


def logits_to_probs(logits: Tensor, is_binary: bool = False) -> Tensor:
    """Probabilities from log-odds (binary) or unnormalised log-probabilities over the last dimension."""
    if is_binary:
        return torch.sigmoid(logits)
    return torch.nn.functional.softmax(logits, dim=-1)


def clamp_probs(probs: Tensor) -> Tensor:
    """probs clamped into [eps, 1 - eps], eps the dtype's machine epsilon."""
    eps = torch.finfo(probs.dtype).eps
    return probs.clamp(min=eps, max=1 - eps)


def probs_to_logits(probs: Tensor, is_binary: bool = False) -> Tensor:
    """Log-odds (binary) or log-probabilities of clamped probabilities."""
    ps_clamped = clamp_probs(probs)
    if is_binary:
        return torch.log(ps_clamped) - torch.log1p(-ps_clamped)
    return torch.log(ps_clamped)


class lazy_property:  # noqa: N801 - torch's name
    """A property computed on first read (with grad enabled) and then stored on the instance, so a
    distribution built from probs computes its logits once, and only if asked."""

    def __init__(self, wrapped: Callable[[Any], Any]) -> None:
        # (torch's update_wrapper copies the wrapped object's whole __dict__: only its docstring is needed)
        self.wrapped = wrapped
        self.__doc__ = getattr(wrapped, "__doc__", None)

    def __get__(self, instance: Any, obj_type: Any = None) -> Any:
        if instance is None:
            return _lazy_property_and_property(self.wrapped)
        with torch.enable_grad():
            value = self.wrapped(instance)
        name = self.wrapped.__name__
        if not name.isidentifier() or name.startswith("__"):  # (a plain attribute name, never a special one)
            raise AttributeError(f"lazy_property cannot store under {name!r}")
        setattr(instance, name, value)
        return value


class _lazy_property_and_property(lazy_property, property):  # noqa: N801
    """What the class attribute reads as: a property to documentation tools, a lazy_property to the
    argument validation (which skips parameters not computed yet)."""

    def __init__(self, wrapped: Callable[[Any], Any]) -> None:
        property.__init__(self, wrapped)


def _tril_mask(n: int, diag: int, device: Any) -> Tensor:
    arange = torch.arange(n, device=device)
    return arange < arange.view(-1, 1) + (diag + 1)


def tril_matrix_to_vec(mat: Tensor, diag: int = 0) -> Tensor:
    """The lower-triangular entries of a (batch of) D x D matrices, in row order."""
    n = mat.shape[-1]
    if diag < -n or diag >= n:
        raise ValueError(f"diag ({diag}) provided is outside [{-n}, {n - 1}].")
    return mat[..., _tril_mask(n, diag, mat.device)]


def vec_to_tril_matrix(vec: Tensor, diag: int = 0) -> Tensor:
    """The (batch of) lower-triangular D x D matrices whose entries, in row order, are vec."""
    # +ve root of D**2 + (1+2*diag)*D - |diag| * (diag+1) - 2*vec.shape[-1] = 0
    n = (-(1 + 2 * diag) + ((1 + 2 * diag) ** 2 + 8 * vec.shape[-1] + 4 * abs(diag) * (diag + 1)) ** 0.5) / 2
    eps = torch.finfo(vec.dtype).eps
    if round(n) - n > eps:
        raise ValueError(
            f"The size of last dimension is {vec.shape[-1]} which cannot be expressed as "
            + "the lower triangular part of a square D x D matrix."
        )
    n = round(n)
    mat = vec.new_zeros(vec.shape[:-1] + torch.Size((n, n)))
    mat[..., _tril_mask(n, diag, vec.device)] = vec
    return mat
