"""The linear-algebra modules' names in one place: what each adds to torch (TORCH), torch.linalg (LINALG), Tensor's
methods (METHODS) and torch.return_types (RETURN_TYPES)."""

from __future__ import annotations

from engine.ops import (
    householder,
    linalg_composites,
    linalg_eig,
    linalg_lu,
    linalg_more,
    linalg_triangular,
    matrix_exp,
)

_MODULES = (linalg_more, linalg_triangular, linalg_lu, matrix_exp, linalg_composites, householder, linalg_eig)

TORCH: dict = {}
LINALG: dict = {}
METHODS: dict = {}
RETURN_TYPES: dict = {}
for _m in _MODULES:
    TORCH.update(_m.TORCH)
    LINALG.update(_m.LINALG)
    METHODS.update(_m.METHODS)
    RETURN_TYPES.update(getattr(_m, "RETURN_TYPES", {}))
