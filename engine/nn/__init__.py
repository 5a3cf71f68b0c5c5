"""torch.nn: the functional namespace (modules are outside the engine's covered API)."""

from engine.nn import functional  # noqa: F401
