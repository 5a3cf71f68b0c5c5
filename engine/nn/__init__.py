"""torch.nn: the functional namespace. Modules, parameters and optimizers are outside the engine's covered API;
asking for one gets an AttributeError that says so and shows the tensor-level way to write it."""

from __future__ import annotations

from engine.nn import functional  # noqa: F401
from engine.not_covered import not_covered


def __getattr__(name: str) -> object:
    raise not_covered("torch.nn", name)
