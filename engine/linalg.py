"""torch.linalg: the norms and the cross product the engine covers."""

from __future__ import annotations

from typing import Any

from engine.ops.composites import linalg_cross as cross
from engine.ops.reduce import norm as _norm
from engine.ops.reduce import vector_norm


def norm(input: Any, ord: Any = None, dim: Any = None, keepdim: bool = False, *, dtype: Any = None) -> Any:  # noqa: A002
    return _norm(input, 2 if ord is None else ord, dim, keepdim)


__all__ = ["cross", "norm", "vector_norm"]
