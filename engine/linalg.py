"""torch.linalg: vector and matrix norms, the cross product, and the matrix functions of engine/ops/linalg_more.py
(inv, det, slogdet, solve, cholesky, qr, eigh, svd, pinv, lstsq, ...)."""

from __future__ import annotations

from engine.ops.composites import linalg_cross as cross
from engine.ops.linalg_registry import LINALG as _MORE
from engine.ops.reduce import vector_norm

globals().update(_MORE)
__all__ = ["cross", "vector_norm", *_MORE]


def __getattr__(name: str) -> object:
    from engine.not_covered import not_covered

    raise not_covered("torch.linalg", name)
