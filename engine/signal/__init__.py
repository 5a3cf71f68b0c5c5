"""torch.signal: its window functions (torch.signal.windows)."""

from __future__ import annotations

from engine.signal import windows

__all__ = ["windows"]
