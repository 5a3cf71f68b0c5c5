"""torch.backends: the backend switches tutorials set or ask about. The engine computes with numpy on the cpu
and cupy on cuda, never with cuDNN, MPS or TF32 arithmetic: the flags are kept and read back as torch's are,
and change nothing in what the engine computes (its cpu results are torch's at its defaults, which these
flags leave alone on the cpu too)."""

from __future__ import annotations

from engine.backends import cuda, cudnn, mps

__all__ = ["cuda", "cudnn", "mps"]
