"""Whether `--device cuda` can work, asked the same way by every command so that all give the engine's one message
(which names the pip extra to install)."""

from __future__ import annotations

from types import ModuleType


def cuda_problem(engine: ModuleType | None = None) -> str | None:
    """Why the engine cannot make a CUDA tensor here (its own words: no cupy, no GPU, no driver), or None."""
    if engine is None:
        import engine as engine_mod

        engine = engine_mod
    try:
        engine.zeros(1, device="cuda")
    except Exception as e:
        notes = getattr(e, "__notes__", None)  # (torch's words first, what is missing here in the note)
        return notes[0] if notes else str(e)
    return None
