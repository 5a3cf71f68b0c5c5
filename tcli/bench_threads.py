"""How many threads `tcli bench` lets PyTorch use on cpu, and why.

torch's OpenMP workers spin, then sleep, waiting for each other at the end of every parallel region. When other
processes keep some cores busy, a worker that lost its core holds the whole region up until the scheduler gives it
back: on a 2-core machine with load 1, a 64K-element torch op measured 60 ms with 2 threads and 0.23 ms with 1.
Such a figure measures the scheduler, not torch, and makes the engine look 100x faster. So, unless told otherwise,
torch gets no more threads than there are idle cores, and never more than the engine is allowed (TCLI_THREADS),
so that both sides of a ratio use the machine alike."""

from __future__ import annotations

import os
from dataclasses import dataclass


@dataclass(frozen=True)
class ThreadChoice:
    threads: int  # what torch was set to
    default: int  # what torch would have used (its own default, OMP_NUM_THREADS included)
    why: str | None  # a few words for the machine line when threads != default, else None


def idle_cores(cores: int, load: float | None) -> int:
    """Cores the 1-minute load average leaves idle, at least 1; a core counts as idle when it is at least half
    free (load 0.4 on 2 cores leaves 2, load 0.6 leaves 1)."""
    if load is None:
        return max(1, cores)
    return max(1, min(cores, int(cores - load + 0.5)))


def engine_threads(environ: dict[str, str] | None = None) -> int | None:
    """The engine's thread count when TCLI_THREADS sets it (see engine/ops/mkl.py), else None."""
    value = (os.environ if environ is None else environ).get("TCLI_THREADS", "")
    try:
        n = int(value)
    except ValueError:
        return None
    return n if n > 0 else None


def choose_torch_threads(
    default: int, cores: int, load: float | None, *, requested: int | None = None, engine: int | None = None
) -> ThreadChoice:
    """torch's thread count for the run: `requested` (--torch-threads) as given, else the smallest of torch's
    default, the idle cores and the engine's own count."""
    if requested is not None:
        return ThreadChoice(requested, default, None if requested == default else "--torch-threads")
    n, why = default, None
    idle = idle_cores(cores, load)
    if idle < n:
        n, why = idle, f"load {load:.2f} on {cores} cores"
    if engine is not None and engine < n:
        n, why = engine, f"TCLI_THREADS={engine}, as the engine"
    return ThreadChoice(n, default, why)


def describe(choice: ThreadChoice) -> str:
    """'2 threads', or '1 thread of its 2: load 1.3 on 2 cores' when the count was lowered or raised."""
    s = f"{choice.threads} thread{'s' if choice.threads != 1 else ''}"
    if choice.why is None:
        return s
    return f"{s} of its {choice.default}: {choice.why}"
