"""torch.special: the special functions (engine/ops/special.py) and torch.special's names for existing ones."""

from __future__ import annotations

from engine.ops.special import SPECIAL as _SPECIAL
from engine.ops.special_igamma import SPECIAL as _IGAMMA

globals().update(_SPECIAL)
globals().update(_IGAMMA)
__all__ = sorted({**_SPECIAL, **_IGAMMA})


def __getattr__(name: str) -> object:
    from engine.not_covered import not_covered

    raise not_covered("torch.special", name)
