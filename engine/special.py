"""torch.special: the special functions (engine/ops/special*.py) and torch.special's names for existing ones."""

from __future__ import annotations

from engine.ops.special import SPECIAL as _SPECIAL
from engine.ops.special_bessel import FUNCTIONS as _BESSEL
from engine.ops.special_igamma import SPECIAL as _IGAMMA
from engine.ops.special_polynomials import FUNCTIONS as _POLYNOMIALS
from engine.ops.special_zeta import FUNCTIONS as _ZETA

_ALL = {**_SPECIAL, **_IGAMMA, **_BESSEL, **_POLYNOMIALS, **_ZETA}
globals().update(_ALL)
__all__ = sorted(_ALL)


def __getattr__(name: str) -> object:
    from engine.not_covered import not_covered

    raise not_covered("torch.special", name)
