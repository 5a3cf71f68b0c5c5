"""Warnings that point at the user's line, as torch's do, however deep in the engine they are raised."""

from __future__ import annotations

import os
import sys

_ENGINE = os.path.dirname(os.path.abspath(__file__)) + os.sep


def user_stacklevel() -> int:
    """The `stacklevel` for warnings.warn, called from the function that warns: the first frame outside
    the engine package (so `x.var()` in a script warns at the script's line, not at an engine helper's)."""
    level = 1
    f = sys._getframe(1)
    while f is not None and f.f_code.co_filename.startswith(_ENGINE):
        f = f.f_back
        level += 1
    return level


_WARNED_ONCE: set[str] = set()
#: torch.set_warn_always: warnings torch gives once per process are given every time
WARN_ALWAYS = [False]


def set_warn_always(b: bool) -> None:
    """torch.set_warn_always: when on, the warnings torch gives once (TORCH_WARN_ONCE) are given each time."""
    if b.__class__ is not bool:
        raise RuntimeError(f"setWarnOnlyOnce expects a bool, but got {type(b).__name__}")
    WARN_ALWAYS[0] = b


def is_warn_always_enabled() -> bool:
    return WARN_ALWAYS[0]


def warn_once(message: str, category: type[Warning] = UserWarning) -> None:
    """torch's TORCH_WARN_ONCE: the first time in the process only, whatever the warnings filters say; at the
    user's line."""
    if message not in _WARNED_ONCE or WARN_ALWAYS[0]:
        import warnings

        _WARNED_ONCE.add(message)
        warnings.warn(message, category, stacklevel=user_stacklevel())
