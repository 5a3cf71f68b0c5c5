"""torch.cpu.amp: the deprecated spellings of torch.amp's autocast and GradScaler for the cpu (engine/amp/legacy.py)."""

from engine.amp.legacy import CPU_AUTOCAST as autocast
from engine.amp.legacy import CPU_GRAD_SCALER as GradScaler

__all__ = ["GradScaler", "autocast"]
