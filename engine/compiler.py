"""torch.compiler: what a script asks of the compiler around torch.compile (engine/compile.py runs eagerly,
so nothing is ever being traced and nothing is cached)."""

from __future__ import annotations

from typing import Any


def is_compiling() -> bool:
    return False


def is_dynamo_compiling() -> bool:
    return False


def reset() -> None:
    """Forget compiled code: there is none."""


def disable(fn: Any = None, recursive: bool = True, *, reason: Any = None) -> Any:
    """Run fn without compiling it: as it always runs."""
    return fn if fn is not None else (lambda f: f)
