"""torch.distributions.kl: kl_divergence and register_kl, with every pair torch registers among the
distributions the engine has (engine/distributions/kl_same_family.py,
kl_cross_family.py and kl_gamma_family.py)."""

from __future__ import annotations

from engine.distributions import kl_cross_family, kl_gamma_family, kl_same_family  # noqa: F401  (they register)
from engine.distributions.kl_registry import kl_divergence, register_kl

__all__ = ["kl_divergence", "register_kl"]
