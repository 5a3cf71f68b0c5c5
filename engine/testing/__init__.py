"""torch.testing: assert_close (and the deprecated assert_allclose) compare tensors, scalars, arrays and nested
containers of them with torch's tolerances and failure messages; make_tensor draws torch's random test tensors."""

from __future__ import annotations

from engine.testing.comparison import assert_allclose, assert_close
from engine.testing.creation import make_tensor

__all__ = ["assert_allclose", "assert_close", "make_tensor"]


def __getattr__(name: str) -> object:
    from engine.not_covered import not_covered

    raise not_covered("torch.testing", name)
