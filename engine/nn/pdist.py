"""torch.nn.functional.pdist (torch.pdist): the p-norm distance between every pair of rows, i < j in row-major
order, as one node (PdistBackward0) whose backward is torch's per-p kernel (DistanceOpsKernel.cpp); torch has no
derivative for that backward, so differentiating it again raises as torch does."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from engine.nn.functional import _record, tensor_arg
from engine.nn.functional_more import _not_implemented
from engine.ops.util import add_at, node_class, record
from engine.tensor import Tensor, wrap


def _distances(xp: Any, diff: Any, p: float) -> Any:
    a = xp.abs(diff)
    if p == 0:
        return (diff != 0).sum(-1).astype(diff.dtype)
    if p == 1:
        return a.sum(-1)
    if p == 2:
        return xp.sqrt((diff * diff).sum(-1))
    if math.isinf(p):
        return a.max(-1) if diff.shape[-1] else xp.zeros(diff.shape[:-1], dtype=diff.dtype)
    return (a**p).sum(-1) ** (1 / p)


def _unit_grads(xp: Any, diff: Any, dist: Any, p: float) -> Any:
    """d dist / d x_i per pair and coordinate (x_j's is its negative), torch's cases by p."""
    d = dist[:, None]
    sign = xp.sign(diff)
    a = xp.abs(diff)
    if p == 1:
        return sign
    if math.isinf(p):
        return sign * (a == d)
    if p < 2:
        zero = (d == 0) | ((diff == 0) & (p < 1))
        return xp.where(zero, 0, sign * a ** (p - 1) / xp.where(zero, 1, d) ** (p - 1))
    if p == 2:
        return xp.where(d == 0, 0, diff / xp.where(d == 0, 1, d))
    return xp.where(d == 0, 0, diff * a ** (p - 2) / xp.where(d == 0, 1, d) ** (p - 1))


def _no_derivative(self: Any, g: Tensor) -> tuple:
    raise NotImplementedError("the derivative for '_pdist_backward' is not implemented.")


# torch declares no derivative for its pdist backward: a gradient taken with create_graph raises when used
PdistBackwardBackward0 = node_class("PdistBackwardBackward0", _no_derivative)


def pdist(input: Tensor, p: float = 2) -> Tensor:  # noqa: A002
    tensor_arg("pdist", input)
    d = input._data
    if d.ndim != 2:
        raise RuntimeError(f"pdist only supports 2D tensors, got: {d.ndim}D")
    if d.dtype.kind != "f":
        raise RuntimeError("pdist only supports floating-point dtypes")
    if p < 0:
        raise RuntimeError("pdist only supports non-negative p values")
    if d.dtype == np.float16:
        raise _not_implemented("pdist", input)
    xp = input._dev.xp
    n = d.shape[0]
    i, j = xp.triu_indices(n, 1)
    diff = d[i] - d[j]
    dist = _distances(xp, diff, float(p)).astype(d.dtype, copy=False)

    def backward(g: Tensor, x: Tensor) -> tuple:
        r = xp.zeros(d.shape, dtype=d.dtype)
        if p != 0 and g._data.size and d.size:
            gi = (_unit_grads(xp, diff, dist, float(p)) * g._data[:, None]).astype(d.dtype)
            add_at(xp, r, i, gi)
            add_at(xp, r, j, -gi)
        return (record(PdistBackwardBackward0, r, x._dev, (g, x)),)

    return _record("PdistBackward0", wrap(xp.ascontiguousarray(dist), input._dev), (input,), (input,), backward)


FUNCTIONS = {"pdist": pdist}
