"""torch.version: what environment-check snippets print (`torch.version.cuda`, `torch.version.__version__`).
The engine is torch's cpu build as far as these say: no CUDA or ROCm toolkit is compiled in (cuda tensors run
on cupy, whatever toolkit it brings)."""

from __future__ import annotations

__all__ = ["__version__", "cuda", "debug", "git_version", "hip", "rocm", "xpu"]
__version__ = "2.13.0+engine"
debug = False
cuda: str | None = None
git_version = "cf30153c4c131c8164ee7798e5022d810682e2cb"  # (torch 2.13.0's, whose behaviour the engine follows)
hip: str | None = None
rocm: str | None = None
xpu: str | None = None
