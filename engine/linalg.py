"""torch.linalg: vector and matrix norms, the cross product, and the matrix functions of the linear-algebra op modules
(engine/ops/linalg_registry.py gathers them): inv, det, solve, cholesky and their _ex forms, qr, eigh, svd, pinv,
lstsq, the LU family, solve_triangular, matrix_exp, matrix_rank, cond, vander, tensorinv, tensorsolve,
householder_product, ..."""

from __future__ import annotations

from engine.ops.composites import linalg_cross as cross
from engine.ops.linalg_registry import LINALG as _MORE  # (every module's torch.linalg names)
from engine.ops.reduce import vector_norm

globals().update(_MORE)
__all__ = ["cross", "vector_norm", *_MORE]


def __getattr__(name: str) -> object:
    from engine.not_covered import not_covered

    raise not_covered("torch.linalg", name)
