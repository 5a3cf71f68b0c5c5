"""torch.backends.cudnn: cuDNN's switches. The engine never calls cuDNN (its cuda convolutions are its own
cupy kernels, deterministic whatever these say), so the flags are settable settings with no effect, kept so
that seeding boilerplate (`torch.backends.cudnn.deterministic = True`, `benchmark = False`) runs as written."""

from __future__ import annotations

enabled = True
deterministic = False
benchmark = False
allow_tf32 = True


def is_available() -> bool:
    return False


def version() -> int | None:
    return None
