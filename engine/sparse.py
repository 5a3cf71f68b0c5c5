"""torch.sparse: the functions a tutorial calls on sparse COO tensors (engine/sparse_tensor.py holds the tensors)."""

from __future__ import annotations

from typing import Any

from engine.sparse_tensor import mm as _mm
from engine.sparse_tensor import sparse_sum as _sum


def sum(input: Any, dim: Any = None, dtype: Any = None) -> Any:  # noqa: A001, A002 - torch's names
    """torch.sparse.sum(input, dim=None, dtype=None): every element (a dense 0-d tensor) or over dims."""
    return _sum(input, dim, dtype)


def mm(mat1: Any, mat2: Any, reduce: Any = None) -> Any:
    """torch.sparse.mm(sparse, dense): a dense product whose sparse operand gets a sparse gradient."""
    if reduce is not None:
        from engine.sparse_tensor import refusal

        raise refusal("torch.sparse.mm(reduce=...)")
    return _mm(mat1, mat2, sparse_fn=True)


def __getattr__(name: str) -> Any:
    from engine.not_covered import not_covered

    raise not_covered("torch.sparse", name)
