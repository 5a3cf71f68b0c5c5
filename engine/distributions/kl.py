"""torch.distributions.kl: kl_divergence and register_kl, with every pair torch registers among the
distributions the engine has (engine/distributions/kl_same_family.py,
kl_cross_family.py and kl_gamma_family.py)."""

from __future__ import annotations

from engine.distributions import kl_cross_family, kl_gamma_family, kl_same_family  # noqa: F401  (they register)
from engine.distributions.kl_registry import _KL_MEMOIZE, _KL_REGISTRY, kl_divergence, register_kl

__all__ = ["kl_divergence", "register_kl"]

_ENGINE_PAIRS = dict(_KL_REGISTRY)


def restore_registry() -> None:
    """The registry as the engine fills it, without the pairs programs registered since (a host running
    several programs in one process starts each from torch's table)."""
    _KL_REGISTRY.clear()
    _KL_REGISTRY.update(_ENGINE_PAIRS)
    _KL_MEMOIZE.clear()
