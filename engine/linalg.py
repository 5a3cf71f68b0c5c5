"""torch.linalg: vector and matrix norms, the cross product, and the matrix functions of engine/ops/linalg_more.py
(inv, det, slogdet, solve, cholesky, qr, eigh, svd, pinv, lstsq, ...) and the triangular solver and
cholesky_ex of engine/ops/linalg_triangular.py."""

from __future__ import annotations

from engine.ops.composites import linalg_cross as cross
from engine.ops.linalg_more import LINALG as _MORE
from engine.ops.linalg_triangular import LINALG as _TRIANGULAR
from engine.ops.reduce import vector_norm

globals().update(_MORE)
globals().update(_TRIANGULAR)
__all__ = ["cross", "vector_norm", *_MORE, *_TRIANGULAR]


def __getattr__(name: str) -> object:
    from engine.not_covered import not_covered

    raise not_covered("torch.linalg", name)
