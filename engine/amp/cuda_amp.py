"""torch.cuda.amp: the deprecated spellings of torch.amp's autocast and GradScaler for cuda (engine/amp/legacy.py)."""

from engine.amp.legacy import CUDA_AUTOCAST as autocast
from engine.amp.legacy import CUDA_GRAD_SCALER as GradScaler

__all__ = ["GradScaler", "autocast"]
