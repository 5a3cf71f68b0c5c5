"""Process-wide settings torch exposes at the top level: thread counts and deterministic algorithms. The engine
computes in one thread (numpy's own kernels pick theirs) and every op it has is deterministic, so these record
and report what a script set, with torch's checks and messages; the kernels that split work (or round) as torch's
threads do read the intra-op count (default_threads: torch's default)."""

from __future__ import annotations

import os
from typing import Any

from engine.naming import type_name

_NOARG: Any = object()


def _cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # (not on Linux)
        return os.cpu_count() or 1


def _cores() -> int:
    """The physical cores this process may run on, as MKL counts them: the distinct (physical id, core id) pairs
    of the cpus in its affinity mask (/proc/cpuinfo), else the usable cpus."""
    try:
        cpus = os.sched_getaffinity(0)
    except AttributeError:
        return os.cpu_count() or 1
    try:
        with open("/proc/cpuinfo") as f:
            cores, cpu, phys = set(), -1, "0"
            for line in f:
                key, _, value = line.partition(":")
                key = key.strip()
                if key == "processor":
                    cpu, phys = int(value), "0"
                elif key == "physical id":
                    phys = value.strip()
                elif key == "core id" and cpu in cpus:
                    cores.add((phys, value.strip()))
        if cores:
            return len(cores)
    except (OSError, ValueError):
        pass
    return len(cpus)


def _env_count(name: str) -> int:
    value = os.environ.get(name, "").split(",")[0].strip()
    return int(value) if value.isdigit() and int(value) > 0 else 0


def default_threads() -> int:
    """torch's default intra-op thread count, which is MKL's (torch sizes its OpenMP pool by mkl_get_max_threads):
    MKL_NUM_THREADS, else OMP_NUM_THREADS (its first count), else the physical cores (_cores); never more than
    those cores unless MKL_DYNAMIC=false. Checked against torch 2.13 with these variables and taskset."""
    cores = _cores()
    n = _env_count("MKL_NUM_THREADS") or _env_count("OMP_NUM_THREADS")
    if not n:
        return cores
    return n if os.environ.get("MKL_DYNAMIC", "").strip().lower() == "false" else min(n, cores)


# [intra-op threads (0: torch's default, found on first use: default_threads reads /proc/cpuinfo), inter-op
# threads, whether the inter-op count was set]; inter-op's default: the usable cpus
_THREADS: list = [0, _cpus(), False]
_INTRA_SET: list = []  # the count a script set with set_num_threads (kernels that split work as torch does read it)
# [use_deterministic_algorithms' mode, its warn_only]
_DETERMINISTIC = [False, False]


def _positive_int(fn: str, n: Any) -> int:
    if type(n) is not int:
        raise RuntimeError(f"{fn} expects an int, but got {type_name(n)}")
    if n <= 0:
        raise RuntimeError(f"{fn} expects a positive integer")
    return n


def set_num_threads(*args: Any) -> None:
    if len(args) != 1:
        raise TypeError(f"torch.set_num_threads() takes exactly one argument ({len(args)} given)")
    _THREADS[0] = _positive_int("set_num_threads", args[0])
    _INTRA_SET[:] = [_THREADS[0]]


def get_num_threads(*args: Any) -> int:
    if args:
        raise TypeError(f"torch.get_num_threads() takes no arguments ({len(args)} given)")
    if not _THREADS[0]:
        _THREADS[0] = default_threads()
    return _THREADS[0]


def set_num_interop_threads(*args: Any) -> None:
    if len(args) != 1:
        raise TypeError(f"torch.set_num_interop_threads() takes exactly one argument ({len(args)} given)")
    n = _positive_int("set_num_interop_threads", args[0])
    if _THREADS[2]:  # (torch allows it once, before its inter-op pool starts)
        raise RuntimeError(
            "Error: cannot set number of interop threads after parallel work has started or set_num_interop_threads "
            "called"
        )
    _THREADS[1], _THREADS[2] = n, True


def get_num_interop_threads(*args: Any) -> int:
    if args:
        raise TypeError(f"torch.get_num_interop_threads() takes no arguments ({len(args)} given)")
    return _THREADS[1]


def use_deterministic_algorithms(mode: bool, *, warn_only: bool = False) -> None:
    if type(mode) is not bool:
        raise TypeError(
            f"_set_deterministic_algorithms(): argument 'mode' (position 1) must be bool, not {type_name(mode)}"
        )
    if type(warn_only) is not bool:
        raise TypeError(
            f"_set_deterministic_algorithms(): argument 'warn_only' must be bool, not {type_name(warn_only)}"
        )
    _DETERMINISTIC[0], _DETERMINISTIC[1] = mode, warn_only


def are_deterministic_algorithms_enabled() -> bool:
    return _DETERMINISTIC[0]


def is_deterministic_algorithms_warn_only_enabled() -> bool:
    return _DETERMINISTIC[1]


def set_deterministic_debug_mode(debug_mode: Any) -> None:
    """0/"default": off, 1/"warn": on with warn_only, 2/"error": on."""
    if isinstance(debug_mode, str):
        modes = {"default": 0, "warn": 1, "error": 2}
        if debug_mode not in modes:
            raise RuntimeError(
                f"invalid value of debug_mode, expected one of `default`, `warn`, `error`, but got {debug_mode}"
            )
        debug_mode = modes[debug_mode]
    elif not isinstance(debug_mode, int):
        raise TypeError(f"debug_mode must be str or int, but got {type(debug_mode)}")
    if debug_mode not in (0, 1, 2):
        raise RuntimeError(f"invalid value of debug_mode, expected 0, 1, or 2, but got {debug_mode}")
    use_deterministic_algorithms(debug_mode != 0, warn_only=debug_mode == 1)


def get_deterministic_debug_mode() -> int:
    if not _DETERMINISTIC[0]:
        return 0
    return 1 if _DETERMINISTIC[1] else 2
