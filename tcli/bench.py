"""`tcli bench`'s machinery: checking, timing and reporting the workloads of `tcli.bench_workloads`.

Each workload runs up to three ways: the engine, the floor (numpy or cupy doing the same arithmetic by hand,
gradients included) and PyTorch on the same device. Before anything is timed every variant runs once from the
same inputs and its results are compared with the floor's (np.allclose at the workload's tolerance); a
disagreement marks the row MISMATCH.

Timing: the variants are interleaved in rounds (engine, floor, torch, then floor, torch, engine, ...: each
round starts one variant later) so that machine noise falls on all of them alike. Warm-up rounds are
discarded (first calls, cupy kernel compilation). A sample times `loops` back-to-back calls, `loops` chosen
so that it lasts about SAMPLE_S, and is reported per call. In each round a variant first runs untimed for
SETTLE_S, because right after another library ran the cores are still busy with that library's threads (see
`measure`), then gives about BLOCK_S of samples (one sample with `repeat`). Rounds continue until the time
budget is spent (at least MIN_ROUNDS) or for exactly `repeat` rounds. Ratios are paired round by round
(`paired_ratio`), so that load which comes and goes cancels out. On cuda, samples are bracketed by CUDA
events (cupy's for the engine and the floor, torch's for torch) and synchronised, so asynchronous launches
are not under-counted.

torch runs with no more threads than the load average leaves cores idle (`tcli.bench_threads`, which says why),
as its OpenMP workers on busy cores time the scheduler instead of torch. A variant whose samples' interquartile
range exceeds NOISY_SPREAD of their median is flagged noisy: the table prints `noisy` instead of a target's
PASS/MISS that rests on it, and `ok, noisy` in the check column.

JSON written by ``--json FILE`` (see also man/tcli-bench.1)::

    {
      "machine": {"cpu", "cores", "platform", "python", "numpy", "blas", "blas_threads"?, "mkl"?, "torch",
                  "torch_threads", "torch_threads_default", "torch_threads_why", "cupy", "gpu", "loadavg",
                  "device", "size", "time"},
      "workloads": [
        {"name": str, "size": "small"|"medium"|"large", "device": "cpu"|"cuda", "shape": str,
         "params": {str: int},
         "engine": STATS|null, "floor": STATS|null, "torch": STATS|null,
         "ratio_floor": float|null, "ratio_torch": float|null,
         "throughput": {"unit": "GB/s"|"GFLOP/s", "engine": float|null, "floor": float|null,
                        "torch": float|null}|null,
         "target": {"against": "floor"|"torch", "max_ratio": float, "met": bool|null, "noisy": bool}|null,
         "check": "ok"|"MISMATCH"|"error", "detail": str|null, "noisy": [variant, ...]}
      ]
    }

where STATS is {"median_s", "iqr_s", "min_s": seconds per call, "count": timed samples, "loops": calls per
sample}; ratio_X is the median over rounds of (engine's round median / X's round median). A variant is null
when it was not run (torch not compared or not importable, no floor).
"""

from __future__ import annotations

import contextlib
import math
import os
import platform
import sys
import time
import traceback
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from importlib import metadata
from types import ModuleType
from typing import Any

import numpy as np

from tcli.bench_threads import ThreadChoice, choose_torch_threads, describe, engine_threads
from tcli.bench_workloads import SIZES, WORKLOADS, Target, Workload, to_numpy

VARIANTS = ("engine", "floor", "torch")
# Per-workload time budget in seconds: bigger sizes run longer per call and need more to reach enough rounds.
BUDGET_S = {"small": 0.25, "medium": 1.5, "large": 3.0}
WARMUP_ROUNDS = 2
MIN_ROUNDS = 3
MAX_ROUNDS = 100_000
# Long enough that timer overhead (tens of ns on cpu, microseconds for CUDA events) vanishes in a sample,
# short enough that a sample seldom contains a scheduler hiccup.
SAMPLE_S = 2e-3
MAX_LOOPS = 100_000
# Each round gives each variant about BLOCK_S of samples, after SETTLE_S of untimed calls (see `measure`):
# longer than the ~20 ms measured here for torch's idle OpenMP workers to stop competing for the cores.
BLOCK_S = 0.05
SETTLE_S = 0.02
# A variant whose samples' interquartile range exceeds this fraction of their median is flagged noisy: its median,
# and the ratios and target verdicts built on it, may be off by as much. Quiet runs stay under 0.1 (measured on a
# 2-core machine at load 1.3, where 27 of 30 variants were under 0.1 and the rest over 0.8).
NOISY_SPREAD = 0.25


class BenchError(Exception):
    """A usage problem (no CUDA, unknown workload): one line for the user, exit status 2."""


@dataclass(frozen=True)
class Stats:
    median_s: float
    iqr_s: float
    min_s: float
    count: int
    loops: int
    # The median of each round's samples, for ratios paired round by round (see `paired_ratio`).
    round_medians: tuple[float, ...] = ()

    @classmethod
    def of(cls, per_call_s: Sequence[float], loops: int, rounds: Sequence[Sequence[float]] = ()) -> Stats:
        q25, q50, q75 = np.percentile(np.asarray(per_call_s, dtype=np.float64), [25, 50, 75])
        round_medians = tuple(float(np.median(r)) for r in rounds if len(r))
        return cls(float(q50), float(q75 - q25), float(min(per_call_s)), len(per_call_s), loops, round_medians)

    @property
    def spread(self) -> float:
        """Interquartile range over median: how far apart the samples fell, as a fraction of the figure shown."""
        return self.iqr_s / self.median_s if self.median_s > 0 else 0.0

    def to_json(self) -> dict[str, Any]:
        return {
            "median_s": self.median_s,
            "iqr_s": self.iqr_s,
            "min_s": self.min_s,
            "count": self.count,
            "loops": self.loops,
        }


# --- timers -----------------------------------------------------------------------------------------------


class CpuTimer:
    """Wall time of `loops` calls; cpu work is synchronous, so perf_counter brackets it exactly."""

    def time(self, step: Callable[[], Any], loops: int) -> float:
        clock = time.perf_counter_ns
        out = None
        t0 = clock()
        for _ in range(loops):
            # Each result lives until the next replaces it, as `y = f(x)` in a loop does: torch, for one,
            # rebuilds a leaf's gradient accumulator whenever the last graph using it dies.
            out = step()
        t = clock() - t0
        del out
        return t * 1e-9


class CudaEventTimer:
    """GPU-timeline time between two events recorded around `loops` calls, after draining the queue first.

    `event_factory` makes an event with timing enabled; `synchronize` waits for the device; `elapsed_ms`
    reads the time between two completed events. cupy and torch each time their own launches."""

    def __init__(self, event_factory: Callable[[], Any], synchronize: Callable[[], None], elapsed_ms: Callable):
        self._event = event_factory
        self._sync = synchronize
        self._elapsed = elapsed_ms

    @classmethod
    def for_cupy(cls, cupy: ModuleType) -> CudaEventTimer:
        return cls(
            cupy.cuda.Event,
            cupy.cuda.Device().synchronize,
            lambda a, b: cupy.cuda.get_elapsed_time(a, b),
        )

    @classmethod
    def for_torch(cls, torch: ModuleType) -> CudaEventTimer:
        return cls(
            lambda: torch.cuda.Event(enable_timing=True),
            torch.cuda.synchronize,
            lambda a, b: a.elapsed_time(b),
        )

    def time(self, step: Callable[[], Any], loops: int) -> float:
        self._sync()
        start, end = self._event(), self._event()
        out = None
        start.record()
        for _ in range(loops):
            out = step()  # kept until replaced, as in CpuTimer
        end.record()
        del out
        end.synchronize()
        return self._elapsed(start, end) * 1e-3


def _autorange(timer: Any, step: Callable[[], Any]) -> tuple[int, float]:
    """(calls per sample, seconds per call): calls chosen so that a sample lasts about SAMPLE_S, found by
    growing 1, 2, 5, 10, ... like timeit, because one call of a microsecond op is too noisy to go by."""
    loops = 1
    while True:
        for k in (1, 2, 5):
            n = loops * k
            t = timer.time(step, n)
            if t >= SAMPLE_S / 4 or n >= MAX_LOOPS:
                per_call = max(t / n, 1e-9)
                return max(1, min(MAX_LOOPS, math.ceil(SAMPLE_S / per_call))), per_call
        loops *= 10


def _settle(step: Callable[[], Any], seconds: float) -> None:
    end = time.perf_counter() + seconds
    out = step()
    while time.perf_counter() < end:
        out = step()
    del out


def measure(
    steps: dict[str, Callable[[], Any]],
    timers: dict[str, Any],
    *,
    budget_s: float,
    repeat: int | None = None,
    warmup: int = WARMUP_ROUNDS,
    on_progress: Callable[[float], None] | None = None,
) -> dict[str, Stats]:
    """Time each step, interleaved round by round: `repeat` rounds of one sample per variant, or rounds of
    about BLOCK_S of samples per variant until `budget_s` is spent (at least MIN_ROUNDS)."""
    names = list(steps)
    loops = dict.fromkeys(names, 1)
    block = dict.fromkeys(names, 1)
    for r in range(warmup):
        for n in names:
            if r < warmup - 1:
                timers[n].time(steps[n], 1)
                continue
            loops[n], per_call = _autorange(timers[n], steps[n])  # on the last, warmest round
            if repeat is None:
                block[n] = max(1, round(BLOCK_S / (per_call * loops[n])))
    samples: dict[str, list[list[float]]] = {n: [] for n in names}  # per round
    start = time.perf_counter()
    rounds = 0
    while True:
        # Each round starts one variant later (A B C, B C A, C A B, ...), so that no variant always runs
        # right after the same neighbour and inherits its leftovers (threads, caches, allocator state).
        k = rounds % len(names)
        for n in names[k:] + names[:k]:
            if len(names) > 1:
                # The first milliseconds after another variant ran are often slower, sometimes many times
                # over: on a small machine torch's OpenMP workers keep spinning for a while after their
                # parallel region and numpy's BLAS threads wake up, competing for the cores. That cost
                # belongs to the switching, not to either variant, so untimed calls absorb it.
                _settle(steps[n], SETTLE_S)
            samples[n].append([timers[n].time(steps[n], loops[n]) / loops[n] for _ in range(block[n])])
        rounds += 1
        elapsed = time.perf_counter() - start
        if repeat is not None:
            done = rounds / repeat
        else:
            done = min(elapsed / budget_s, 1.0) if rounds >= MIN_ROUNDS else min(rounds / MIN_ROUNDS, 0.99)
        if on_progress is not None:
            on_progress(done)
        if done >= 1.0 or rounds >= MAX_ROUNDS:
            break
    return {n: Stats.of([t for r in samples[n] for t in r], loops[n], samples[n]) for n in names}


def paired_ratio(a: Stats, b: Stats) -> float:
    """a's time over b's: the median over rounds of the ratio of their round medians.

    Pairing within a round cancels what drifts between rounds (other processes' load, clock speed), which
    on a shared machine moves both times far more than it moves their ratio. Without rounds to pair, the
    ratio of the overall medians."""
    if a.round_medians and len(a.round_medians) == len(b.round_medians):
        return float(np.median([x / y for x, y in zip(a.round_medians, b.round_medians) if y > 0]))
    return a.median_s / b.median_s


# --- context: which modules play which part ---------------------------------------------------------------


@dataclass
class Context:
    device: str
    engine: ModuleType
    xp: ModuleType
    torch: ModuleType | None
    torch_note: str | None = None  # why torch is absent, when it is
    torch_threads: ThreadChoice | None = None  # set by `use_torch_threads`

    def timer(self, variant: str) -> Any:
        if self.device == "cpu":
            return CpuTimer()
        if variant == "torch":
            return CudaEventTimer.for_torch(self.torch)
        return CudaEventTimer.for_cupy(self.xp)


def make_context(device: str, compare: str, engine: ModuleType | None = None) -> Context:
    """Import what the run needs; BenchError when the device cannot be used."""
    if engine is None:
        import engine as engine_mod

        engine = engine_mod
    if device == "cuda":
        from tcli.device_check import cuda_problem

        if problem := cuda_problem(engine):  # the engine's words, as `tcli run --device cuda` gives them
            raise BenchError(f"--device cuda: {problem}")
        import cupy

        xp: ModuleType = cupy
    else:
        xp = np
    torch_mod, note = None, None
    if compare == "torch":
        try:
            import torch as torch_mod
        except ImportError:
            note = "torch is not installed"
        else:
            if device == "cuda" and not torch_mod.cuda.is_available():
                torch_mod, note = None, "this torch build has no CUDA"
    else:
        note = "not compared (--compare none)"
    return Context(device, engine, xp, torch_mod, note)


@contextlib.contextmanager
def torch_threads_for_run(ctx: Context, requested: int | None = None, load: float | None = None) -> Any:
    """Set torch's thread count for the run (see tcli.bench_threads) and record the choice in `ctx`; torch's
    own count is back afterwards. `load` is the 1-minute load average, read here when not given."""
    if ctx.torch is None:
        yield
        return
    before = ctx.torch.get_num_threads()
    if load is None and hasattr(os, "getloadavg"):
        load = os.getloadavg()[0]
    # The load average counts every cpu of the machine, so it is compared with all of them, not this process's
    # affinity; torch's default already respects the affinity.
    ctx.torch_threads = choose_torch_threads(
        before, os.cpu_count() or 1, load, requested=requested, engine=engine_threads()
    )
    ctx.torch.set_num_threads(ctx.torch_threads.threads)
    try:
        yield
    finally:
        ctx.torch.set_num_threads(before)


# --- one workload -----------------------------------------------------------------------------------------


@dataclass
class Row:
    workload: Workload
    size: str
    device: str
    params: dict[str, Any]
    stats: dict[str, Stats | None] = field(default_factory=dict)
    check: str = "ok"
    detail: str | None = None

    @property
    def name(self) -> str:
        return self.workload.name

    def ratio(self, against: str) -> float | None:
        e, o = self.stats.get("engine"), self.stats.get(against)
        if e is None or o is None or o.median_s <= 0:
            return None
        return paired_ratio(e, o)

    def target(self) -> Target | None:
        for t in self.workload.targets:
            if t.applies(self.device, self.size):
                return t
        return None

    def target_met(self) -> bool | None:
        t = self.target()
        r = self.ratio(t.against) if t else None
        return None if r is None else r <= t.max_ratio

    def noisy(self) -> list[str]:
        """The variants whose samples spread too far to trust their median (see NOISY_SPREAD)."""
        return [v for v in VARIANTS if (s := self.stats.get(v)) is not None and s.spread > NOISY_SPREAD]

    def target_noisy(self) -> bool:
        """Whether the target's verdict rests on a noisy variant (the engine, or what the target compares with)."""
        t = self.target()
        return t is not None and any(v in ("engine", t.against) for v in self.noisy())

    def throughput(self, variant: str) -> float | None:
        s = self.stats.get(variant)
        if s is None or self.workload.unit is None or s.median_s <= 0:
            return None
        scale = 1e9  # GB/s and GFLOP/s alike
        return self.workload.work(self.params) / s.median_s / scale

    def _target_json(self, t: Target) -> dict[str, Any]:
        return {"against": t.against, "max_ratio": t.max_ratio, "met": self.target_met(), "noisy": self.target_noisy()}

    def to_json(self) -> dict[str, Any]:
        t = self.target()
        unit = self.workload.unit
        return {
            "name": self.name,
            "size": self.size,
            "device": self.device,
            "shape": self.workload.shape(self.params),
            "params": self.params,
            **{v: (s.to_json() if (s := self.stats.get(v)) else None) for v in VARIANTS},
            "ratio_floor": self.ratio("floor"),
            "ratio_torch": self.ratio("torch"),
            "throughput": None if unit is None else {"unit": unit, **{v: self.throughput(v) for v in VARIANTS}},
            "target": None if t is None else self._target_json(t),
            "check": self.check,
            "detail": self.detail,
            "noisy": self.noisy(),
        }


def _error_line(variant: str, e: BaseException) -> str:
    # The innermost frame says which op failed, which is what an engine author needs first.
    tb = traceback.extract_tb(e.__traceback__)
    where = f" at {os.path.basename(tb[-1].filename)}:{tb[-1].lineno}" if tb else ""
    return f"{variant}: {type(e).__name__}: {e}{where}"


def build_steps(
    w: Workload, ctx: Context, size: str, seed: int = 0
) -> tuple[dict[str, np.ndarray], dict[str, Callable[[], tuple]], dict[str, str]]:
    """(inputs, steps, errors): each variant's step built from the same inputs; a variant whose build
    raised is in errors instead, so an engine still missing an op does not end the whole run."""
    p = w.params(size)
    inputs = w.inputs(p, np.random.default_rng(seed))
    variants = ("engine", "floor", "torch") if ctx.torch is not None else ("engine", "floor")
    steps, errors = {}, {}
    for v in variants:
        try:
            steps[v] = w.build(v, ctx, inputs, p)
        except Exception as e:
            errors[v] = _error_line(v, e)
    return inputs, steps, errors


def check_results(w: Workload, results: dict[str, list[np.ndarray]], inputs: dict[str, np.ndarray]) -> str | None:
    """None when every variant agrees with the reference (the floor, else torch), else a one-line reason."""
    ref_name = "floor" if "floor" in results else "torch" if "torch" in results else None
    if ref_name is None:
        return None
    ref = w.comparable(results[ref_name], inputs)
    for v, res in results.items():
        if v == ref_name:
            continue
        got = w.comparable(res, inputs)
        if len(got) != len(ref):
            return f"{v}: {len(got)} results, {ref_name} has {len(ref)}"
        for i, (a, b) in enumerate(zip(got, ref)):
            if a.shape != b.shape:
                return f"{v}: result {i} has shape {a.shape}, {ref_name} {b.shape}"
            if a.dtype != b.dtype:  # float64 arithmetic would be a different workload, and a slower one
                return f"{v}: result {i} has dtype {a.dtype}, {ref_name} {b.dtype}"
            if not np.allclose(a, b, rtol=w.rtol, atol=w.atol):
                err = float(np.max(np.abs(a.astype(np.float64) - b)))
                return f"{v}: result {i} differs from {ref_name} (max abs error {err:.3g})"
    return None


def run_workload(
    w: Workload,
    ctx: Context,
    size: str,
    *,
    budget_s: float | None = None,
    repeat: int | None = None,
    on_progress: Callable[[float], None] | None = None,
) -> Row:
    row = Row(w, size, ctx.device, w.params(size))
    inputs, steps, errors = build_steps(w, ctx, size)
    results: dict[str, list[np.ndarray]] = {}
    for v in list(steps):
        try:
            out = steps[v]()
            results[v] = [to_numpy(r) for r in out]
            if w.grad_tracked and v != "floor" and not getattr(out[0], "requires_grad", False):
                errors[v] = f"{v}: result does not require grad; the untracked path would be timed"
        except Exception as e:
            errors[v] = _error_line(v, e)
        if v in errors:
            del steps[v]
            results.pop(v, None)
    mismatch = check_results(w, results, inputs)
    if errors:
        row.check, row.detail = "error", "; ".join(errors.values())
    elif mismatch:
        row.check, row.detail = "MISMATCH", mismatch
    if steps:
        timers = {v: ctx.timer(v) for v in steps}
        budget = BUDGET_S[size] if budget_s is None else budget_s
        row.stats = dict(measure(steps, timers, budget_s=budget, repeat=repeat, on_progress=on_progress))
    return row


def select(only: Iterable[str] | None) -> list[Workload]:
    """Workloads named in `only` (names, or comma-separated lists of names), all of them when empty."""
    names = [n.strip() for item in (only or ()) for n in item.split(",") if n.strip()]
    if not names:
        return list(WORKLOADS.values())
    unknown = [n for n in names if n not in WORKLOADS]
    if unknown:
        raise BenchError(f"unknown workload {', '.join(unknown)}; choose from {', '.join(WORKLOADS)}")
    return [WORKLOADS[n] for n in dict.fromkeys(names)]


# --- machine info -----------------------------------------------------------------------------------------


def _cpu_model() -> str:
    with contextlib.suppress(OSError):
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    return platform.processor() or platform.machine()


def _dist_version(*names: str) -> str | None:
    for n in names:
        with contextlib.suppress(metadata.PackageNotFoundError):
            return metadata.version(n)
    return None


def machine_info(ctx: Context, size: str) -> dict[str, Any]:
    info: dict[str, Any] = {
        "cpu": _cpu_model(),
        "cores": os.cpu_count(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "blas": None,
    }
    with contextlib.suppress(Exception):  # the layout of show_config's dict is not a stable API
        info["blas"] = np.show_config(mode="dicts")["Build Dependencies"]["blas"]["name"]
    if ctx.device == "cpu":
        from engine.ops import mkl

        info["mkl"] = mkl.available()  # the `exact` extra: products and VML functions through torch's MKL
    with contextlib.suppress(ImportError):
        import threadpoolctl

        info["blas_threads"] = sum(p["num_threads"] for p in threadpoolctl.threadpool_info() if p["user_api"] == "blas")
    info["torch"] = ctx.torch.__version__ if ctx.torch is not None else None
    info["torch_threads"] = ctx.torch.get_num_threads() if ctx.torch is not None else None
    # Added after torch_threads: torch's own default, and why the run used another count (null when it did not).
    choice = ctx.torch_threads
    info["torch_threads_default"] = choice.default if choice else info["torch_threads"]
    info["torch_threads_why"] = choice.why if choice else None
    # Read from package metadata rather than importing: importing cupy on a cpu run costs seconds.
    info["cupy"] = _dist_version("cupy", "cupy-cuda13x", "cupy-cuda12x", "cupy-cuda11x")
    info["gpu"] = None
    if ctx.device == "cuda":
        with contextlib.suppress(Exception):
            name = ctx.xp.cuda.runtime.getDeviceProperties(0)["name"]
            info["gpu"] = name.decode() if isinstance(name, bytes) else str(name)
    # Other processes' load is the main source of noise on a small machine: record it with the figures.
    info["loadavg"] = [round(x, 2) for x in os.getloadavg()] if hasattr(os, "getloadavg") else None
    info["device"] = ctx.device
    info["size"] = size
    info["time"] = time.strftime("%Y-%m-%dT%H:%M:%S%z")
    return info


def to_json(machine: dict[str, Any], rows: Sequence[Row]) -> dict[str, Any]:
    return {"machine": machine, "workloads": [r.to_json() for r in rows]}


# --- text -------------------------------------------------------------------------------------------------


def fmt_time(s: float | None) -> str:
    if s is None:
        return "-"
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("us", 1e-6)):
        if s >= scale:
            return f"{s / scale:.3g} {unit}"
    return f"{s / 1e-9:.3g} ns"


def fmt_ratio(r: float | None) -> str:
    """Two decimals, two significant figures below 0.1 (0.048x), and '<0.01x' below that: never a 0.00x that
    reads as 'free'."""
    if r is None:
        return "-"
    if r >= 0.1:
        return f"{r:.2f}x"
    if r >= 0.01:
        return f"{r:.2g}x"
    return "<0.01x"


def machine_line(m: dict[str, Any]) -> str:
    parts = [
        f"{m['cpu']}, {m['cores']} cores",
        f"numpy {m['numpy']}" + (f" ({m['blas']})" if m["blas"] else ""),
    ]
    if m.get("blas_threads"):
        parts[-1] += f", {m['blas_threads']} BLAS threads"
    if m.get("mkl"):
        parts.append("exact mode: MKL 2024.2, SLEEF kernels (the floor too)")
    if m["torch"]:
        threads = m["torch_threads"]
        choice = ThreadChoice(threads, m.get("torch_threads_default") or threads, m.get("torch_threads_why"))
        parts.append(f"torch {m['torch']} ({describe(choice)})")
    if m["cupy"]:
        parts.append(f"cupy {m['cupy']}")
    if m["gpu"]:
        parts.append(f"GPU {m['gpu']}")
    if m.get("loadavg") and not any(f"load {m['loadavg'][0]:g} " in p for p in parts):  # (said once is enough)
        parts.append(f"load {m['loadavg'][0]:g}")
    return "; ".join(parts)


def busy_warning(m: dict[str, Any]) -> str | None:
    """A caution when other processes already keep the cores busy, as they make every figure noisy."""
    load, cores = (m.get("loadavg") or [0])[0], m.get("cores") or 1
    if load < 0.5 * cores:
        return None
    return f"warning: the machine is busy (load {load:g} on {cores} cores): times are noisy, ratios less so"


COLUMNS = (
    "workload",
    "shape",
    "engine",
    "iqr",
    "floor",
    "torch",
    "/floor",
    "/torch",
    "target",
    "throughput",
    "check",
)


#: under the table, for whoever has not read tcli-bench(1)
LEGEND = (
    "times: median per call; floor: the same arithmetic in plain numpy (cupy on cuda)\n"
    "/floor, /torch: engine time over theirs (below 1x: faster); every column: tcli bench --help"
)


def row_cells(r: Row) -> list[str]:
    e, f, t = (r.stats.get(v) for v in VARIANTS)
    tgt = r.target()
    met = r.target_met()
    # A verdict on a noisy figure would be a guess stated with confidence: say noisy instead.
    verdict = "?" if met is None else "noisy" if r.target_noisy() else "PASS" if met else "MISS"
    target = "-" if tgt is None else f"{tgt.describe()} {verdict}"
    tp = r.throughput("engine")
    return [
        r.name,
        r.workload.shape(r.params),
        fmt_time(e.median_s if e else None),
        fmt_time(e.iqr_s if e else None),
        fmt_time(f.median_s if f else None),
        fmt_time(t.median_s if t else None),
        fmt_ratio(r.ratio("floor")),
        fmt_ratio(r.ratio("torch")),
        target,
        "-" if tp is None else f"{tp:.3g} {r.workload.unit}",
        f"{r.check}, noisy" if r.check == "ok" and r.noisy() else r.check,
    ]


def plain_report(machine: dict[str, Any], rows: Sequence[Row], torch_note: str | None = None) -> str:
    """The table as aligned plain text, for pipes and files."""
    lines = [f"tcli bench: device {machine['device']}, size {machine['size']}", machine_line(machine)]
    if torch_note:
        lines.append(f"torch: {torch_note}")
    if warning := busy_warning(machine):
        lines.append(warning)
    table = [list(COLUMNS)] + [row_cells(r) for r in rows]
    widths = [max(len(row[i]) for row in table) for i in range(len(COLUMNS))]
    lines.append("")
    for cells in table:
        lines.append("  ".join(c.ljust(w) for c, w in zip(cells, widths)).rstrip())
    lines.extend(_details(rows))
    lines.extend(_noise_notes(rows))
    lines.append(LEGEND)
    return "\n".join(lines) + "\n"


def _details(rows: Sequence[Row]) -> list[str]:
    return [f"{r.name}: {r.check}: {r.detail}" for r in rows if r.detail]


def _noise_notes(rows: Sequence[Row]) -> list[str]:
    """One line per noisy row saying which variants spread how far, then what to do about it."""
    lines = []
    for r in rows:
        if noisy := r.noisy():
            spreads = ", ".join(f"{v} {r.stats[v].spread:.0%}" for v in noisy)  # type: ignore[union-attr]
            lines.append(f"{r.name}: noisy: interquartile range over median {spreads} (limit {NOISY_SPREAD:.0%})")
    if lines:
        lines.append(
            "noisy: those times, their ratios and targets are unreliable; rerun when the machine is quieter, "
            "or with a longer --budget"
        )
    return lines


def rich_header(machine: dict[str, Any], torch_note: str | None = None) -> Any:
    """The run's title and the machine it measures (CPU, GPU, library versions, threads, load), as the
    plain report's first lines."""
    from rich.console import Group
    from rich.text import Text

    lines = [
        Text(f"tcli bench: device {machine['device']}, size {machine['size']}", style="bold"),
        Text(machine_line(machine), style="dim"),
    ]
    if torch_note:
        lines.append(Text(f"torch: {torch_note}", style="dim"))
    if warning := busy_warning(machine):
        lines.append(Text(warning, style="yellow"))
    return Group(*lines)


def rich_table(rows: Sequence[Row]) -> Any:
    """The results as a rich table (PASS/MISS and check coloured), then any mismatch details."""
    from rich.console import Group
    from rich.table import Table
    from rich.text import Text

    table = Table(header_style="bold")
    for c in COLUMNS:
        table.add_column(c, justify="left" if c in ("workload", "shape", "target", "check") else "right")
    for r in rows:
        cells = row_cells(r)
        met = r.target_met()
        noisy = bool(r.noisy())
        styled: list[Any] = list(cells)
        verdict = "" if met is None else "yellow" if r.target_noisy() else "green" if met else "red"
        styled[8] = Text(cells[8], style=verdict)
        styled[10] = Text(cells[10], style=("yellow" if noisy else "green") if r.check == "ok" else "bold red")
        table.add_row(*styled)
    details = [Text(line, style="red") for line in _details(rows)]
    notes = [Text(line, style="yellow") for line in _noise_notes(rows)]
    return Group(table, *details, *notes, Text(LEGEND, style="dim"))


def rich_report(machine: dict[str, Any], rows: Sequence[Row], torch_note: str | None = None) -> Any:
    """Header and table as one rich renderable, for terminals."""
    from rich.console import Group

    return Group(rich_header(machine, torch_note), rich_table(rows))


def run_bench(
    *,
    device: str = "cpu",
    size: str = "medium",
    compare: str = "torch",
    only: Iterable[str] | None = None,
    repeat: int | None = None,
    budget_s: float | None = None,
    json_path: str | None = None,
    torch_threads: int | None = None,
    engine: ModuleType | None = None,
    out: Any = None,
) -> int:
    """The whole `tcli bench` run: exit status 0 when every check passed, 1 otherwise; BenchError for usage.

    `torch_threads` is --torch-threads (None: chosen from the load, see tcli.bench_threads). `out` is a rich
    Console; on a terminal the table is drawn with a progress bar, elsewhere as plain text."""
    import json

    from rich.console import Console

    workloads = select(only)
    ctx = make_context(device, compare, engine)
    if out is None:  # NO_COLOR (or TERM=dumb) means no escape codes at all, bold and dim included
        plain = bool(os.environ.get("NO_COLOR")) or os.environ.get("TERM") == "dumb"
        out = Console(color_system=None) if plain else Console()
    with torch_threads_for_run(ctx, torch_threads):
        machine, rows = _run_and_report(ctx, workloads, size, budget_s, repeat, out)
    if json_path is not None:
        try:
            with open(json_path, "w", encoding="utf-8") as f:
                json.dump(to_json(machine, rows), f, indent=2)
                f.write("\n")
        except OSError as e:
            raise BenchError(f"cannot write {json_path}: {e.strerror or e}") from None
    return 0 if all(r.check == "ok" for r in rows) else 1


def _run_and_report(
    ctx: Context, workloads: Sequence[Workload], size: str, budget_s: float | None, repeat: int | None, console: Any
) -> tuple[dict[str, Any], list[Row]]:
    machine = machine_info(ctx, size)
    rows: list[Row] = []
    if console.is_terminal:
        from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

        console.print(rich_header(machine, ctx.torch_note))  # what is measured, before the wait

        columns = (TextColumn("{task.description:<14}"), BarColumn(), TimeElapsedColumn())
        with Progress(*columns, console=console, transient=True) as progress:
            task = progress.add_task("", total=len(workloads))
            for i, w in enumerate(workloads):
                progress.update(task, description=w.name, completed=i)

                def advance(frac: float, i: int = i) -> None:
                    progress.update(task, completed=i + frac)

                rows.append(run_workload(w, ctx, size, budget_s=budget_s, repeat=repeat, on_progress=advance))
        console.print(rich_table(rows))
    else:
        for w in workloads:
            rows.append(run_workload(w, ctx, size, budget_s=budget_s, repeat=repeat))
        console.file.write(plain_report(machine, rows, ctx.torch_note))
        console.file.flush()
    return machine, rows


def list_report() -> str:
    width = max(map(len, WORKLOADS))
    return "".join(f"{n.ljust(width)}  {w.description}\n" for n, w in WORKLOADS.items())


def engine_import_seconds(runs: int = 5, python: str = sys.executable) -> float:
    """Median wall time of `import engine` in a fresh interpreter (the interpreter's own start excluded)."""
    import subprocess

    code = "import time; t = time.perf_counter(); import engine; print(time.perf_counter() - t)"
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [root, os.environ.get("PYTHONPATH")])))
    times = []
    for _ in range(runs):
        out = subprocess.run([python, "-c", code], capture_output=True, text=True, check=True, env=env)
        times.append(float(out.stdout.strip()))
    return float(np.median(times))


__all__ = [
    "SIZES",
    "VARIANTS",
    "WORKLOADS",
    "BenchError",
    "Context",
    "Row",
    "Stats",
    "build_steps",
    "check_results",
    "make_context",
    "machine_info",
    "measure",
    "plain_report",
    "rich_header",
    "rich_report",
    "rich_table",
    "list_report",
    "run_bench",
    "run_workload",
    "select",
    "to_json",
]
