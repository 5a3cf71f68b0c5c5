"""torch.unsafe_split / unsafe_chunk / unsafe_split_with_sizes, and split_with_sizes.

The unsafe forms are split's pieces that are not views: they share the input's memory, but a write to one is
neither refused (as a split output's is) nor carried into the input's graph, and each keeps its own version
counter. Their one node is UnsafeSplitBackward0 (UnsafeSplitWithSizesBackward0), shared by all the pieces.
"""

from __future__ import annotations

from typing import Any

from engine.naming import type_name
from engine.ops.index import SplitBackward0, SplitWithSizesBackward0, chunk, split
from engine.tensor import Tensor

UnsafeSplitBackward0 = type("UnsafeSplitBackward0", (SplitBackward0,), {"__slots__": ()})
UnsafeSplitWithSizesBackward0 = type("UnsafeSplitWithSizesBackward0", (SplitWithSizesBackward0,), {"__slots__": ()})


def _sizes(fn: str, split_sizes: Any) -> list:
    if not isinstance(split_sizes, (list, tuple)) or not all(
        isinstance(s, int) and not isinstance(s, bool) for s in split_sizes
    ):
        raise TypeError(f"{fn}(): argument 'split_sizes' (position 2) must be tuple of ints, not "
                        f"{type_name(split_sizes)}")  # fmt: skip
    return list(split_sizes)


def _unsafe(parts: tuple) -> tuple:
    """split's pieces made plain tensors over the same memory, their shared node renamed as torch names it."""
    for t in parts:
        t.__class__ = Tensor  # (a GradView would re-link its grad_fn to the input's after a write)
        t._base = None
        t._meta = None
        if type(t._vc) is list:  # (an inference tensor's counter stays the inference one)
            t._vc = [0, None]
    node = parts[0].grad_fn if parts else None
    if node is not None:
        node.__class__ = (
            UnsafeSplitWithSizesBackward0 if type(node) is SplitWithSizesBackward0 else UnsafeSplitBackward0
        )
    return parts


def split_with_sizes(input: Tensor, split_sizes: Any, dim: int = 0) -> tuple:  # noqa: A002
    return split(input, _sizes("split_with_sizes", split_sizes), dim)


def unsafe_split(input: Tensor, split_size: int, dim: int = 0) -> tuple:  # noqa: A002
    return _unsafe(split(input, int(split_size), dim))


def unsafe_chunk(input: Tensor, chunks: int, dim: int = 0) -> tuple:  # noqa: A002
    return _unsafe(chunk(input, chunks, dim))


def unsafe_split_with_sizes(input: Tensor, split_sizes: Any, dim: int = 0) -> tuple:  # noqa: A002
    return _unsafe(split(input, _sizes("unsafe_split_with_sizes", split_sizes), dim))
