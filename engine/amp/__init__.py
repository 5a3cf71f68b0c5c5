"""torch.amp: automatic mixed precision (autocast) and gradient scaling (GradScaler)."""

from engine.amp.autocast_mode import autocast, is_autocast_available
from engine.amp.grad_scaler import GradScaler

__all__ = ["GradScaler", "autocast", "is_autocast_available"]
