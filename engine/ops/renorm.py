"""torch.renorm / Tensor.renorm / renorm_: each slice along dim whose p-norm exceeds maxnorm scaled down to
maxnorm, by torch's factor maxnorm / (norm + 1e-7) (in the norm's dtype), with torch's RenormBackward0."""

from __future__ import annotations

from typing import Any

from engine.naming import type_name
from engine.ops.reduce import _norm_bw, vector_norm
from engine.ops.util import NoGrad, node_class, norm_dim, record, with_out
from engine.tensor import Tensor

_EPS = 1e-7


def _renorm_bw(self: Any, g: Tensor, x: Tensor, p: float, dims: tuple, maxnorm: float) -> tuple:
    """torch's renorm_backward: the scaled slices' gradient through their norm, the others' unchanged."""
    from engine.ops.elementwise import where

    norm = vector_norm(x, p, dims, True)
    xg = x.conj() * g if x.is_complex() else x * g
    gout = (xg.real if x.is_complex() else xg).sum(dims, keepdim=True)
    nb = _norm_bw(self, gout, x, norm, p, dims, True)[0]
    invnorm = (norm + _EPS).reciprocal()
    factor = invnorm * maxnorm
    return (where(norm > maxnorm, factor * g - (factor * invnorm) * nb, g),)


RenormBackward0 = node_class("RenormBackward0", _renorm_bw)


def _renorm(input: Tensor, p: Any, dim: Any, maxnorm: Any, pos: int) -> Tensor:  # noqa: A002
    if type(dim) is not int:
        raise TypeError(f"renorm(): argument 'dim' (position {pos + 1}) must be int, not {type_name(dim)}")
    p, maxnorm = float(p), float(maxnorm)
    if not p > 0.0:
        raise RuntimeError("renorm: non-positive-norm not supported")
    if not maxnorm >= 0.0:
        raise RuntimeError(f"renorm: expected maxnorm to be >= 0 but got {maxnorm:g}")
    d = input._data
    if d.ndim <= 1:
        raise RuntimeError(f"renorm: input needs at least 2 dimensions, got {d.ndim} dimensions")
    ax = norm_dim(dim, d.ndim)
    dims = tuple(i for i in range(d.ndim) if i != ax)
    # torch takes the norm in the accumulate type of its cuda kernels (float32 for float16) and computes the
    # factor there, in that type, before casting it to the input's dtype
    acc = "float32" if d.dtype.name == "float16" else None
    with NoGrad():
        nd = vector_norm(input, p, dims, True, dtype=acc)._data
    xp = input._dev.xp
    m = nd.dtype.type(maxnorm)
    factor = xp.where(nd > m, m / (nd + nd.dtype.type(_EPS)), nd.dtype.type(1)).astype(d.dtype)
    return record(RenormBackward0, d * factor, input._dev, (input,), (input, p, dims, maxnorm),
                  ((input._vc, input._vc[0]), None, None, None))  # fmt: skip


@with_out
def renorm(input: Tensor, p: Any, dim: Any, maxnorm: Any) -> Tensor:  # noqa: A002
    """torch.renorm(input, p, dim, maxnorm): the slices input.select(dim, i) whose p-norm is above maxnorm
    rescaled to norm maxnorm (just under it: torch adds 1e-7 to the norm it divides by)."""
    return _renorm(input, p, dim, maxnorm, 2)


def _renorm_method(self: Tensor, p: Any, dim: Any, maxnorm: Any) -> Tensor:
    return _renorm(self, p, dim, maxnorm, 1)


def renorm_(self: Tensor, p: Any, dim: Any, maxnorm: Any) -> Tensor:
    """Tensor.renorm_: renorm stored in self."""
    from engine.ops.inplace import apply

    return apply(self, lambda a: _renorm(a, p, dim, maxnorm, 1))


TORCH = {"renorm": renorm}
METHODS = {"renorm": _renorm_method, "renorm_": renorm_}
