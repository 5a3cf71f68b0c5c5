"""torch.norm_except_dim and torch._weight_norm, the two ops weight normalisation is written in
(aten/src/ATen/native/WeightNorm.cpp): w = v * (g / ||v||), the norm taken over every dimension but `dim`
(dim=-1: over all of v). As in torch, dim 0 and the last dim run as one node (WeightNormInterfaceBackward0);
any other dim is the composite's graph."""

from __future__ import annotations

from engine.grad_mode import no_grad
from engine.nn.functional import _record
from engine.nn.functional_more import _norm
from engine.tensor import Tensor


def norm_except_dim(v: Tensor, pow: float = 2, dim: int = 0) -> Tensor:  # noqa: A002
    """The `pow`-norm of v over every dimension but `dim`, shaped to broadcast against v (dim=-1: one norm)."""
    if dim == -1:
        return _norm(v, pow, None, False)
    if dim == 0:
        return v.contiguous().view(v.size(0), -1).norm(pow, 1).view(v.size(0), *[1] * (v.dim() - 1))
    if dim == v.dim() - 1:
        return v.contiguous().view(-1, v.size(-1)).norm(pow, 0).view(*[1] * (v.dim() - 1), v.size(-1))
    return norm_except_dim(v.transpose(0, dim), pow, 0).transpose(0, dim)


def _sum_except_dim(x: Tensor, dim: int) -> Tensor:
    """x summed over every dimension but `dim`, kept as size-1 dimensions."""
    dims = [d for d in range(x.dim()) if d != dim]
    return x.sum(dims, keepdim=True) if dims else x


def _interface_backward(grad: Tensor, v: Tensor, g: Tensor, dim: int) -> tuple:
    """torch's weight_norm_backward: with n = ||v|| and s = sum(grad * v) over the non-`dim` dimensions,
    dv = (g / n) * (grad - v * s / n^2) and dg = s / n (written in ops, so create_graph differentiates it)."""
    norm = norm_except_dim(v, 2, dim)
    s = _sum_except_dim(grad * v, dim)
    grad_v = (g / norm) * (grad - v * (s / (norm * norm)))
    grad_g = (s / norm).view(g.shape)
    return grad_v, grad_g


def _weight_norm(v: Tensor, g: Tensor, dim: int = 0) -> Tensor:
    """v * (g / norm_except_dim(v, 2, dim))."""
    if not (dim == 0 or dim == v.dim() - 1):
        return v * (g / norm_except_dim(v, 2, dim))
    v, g = v.contiguous(), g.contiguous()
    with no_grad():
        out = v * (g / norm_except_dim(v, 2, dim))
    return _record(
        "WeightNormInterfaceBackward0",
        out,
        (v, g),
        (v, g),
        lambda grad, v_, g_: _interface_backward(grad, v_, g_, dim),
    )
