#!/usr/bin/env python3
"""On a GPU: where the time of a tiny op and of a training step goes (issue 6's two overhead targets).

1. A 4-element float32 add by every route there is: the engine, PyTorch, cupy's operator, cupy's ufunc with and
   without a preallocated output, an ElementwiseKernel, a RawKernel launch, and cupy.empty alone. Each is the
   median of several batches of calls, per call, with one synchronisation per batch (as a script's loop runs).
2. The MLP step of `tcli bench` (engine, numpy-style cupy floor, PyTorch) at the large size: time per step
   synchronised every step, the host's time to issue a step without waiting, and the GPU's busy time measured
   with events; a step whose issue time is near its total is bound by the host, not the GPU.
Prints one line per measurement. Run by scripts/gpu_proof.sh.
"""

from __future__ import annotations

import statistics
import sys
import time
from collections.abc import Callable
from typing import Any

import numpy as np

sys.path.insert(0, ".")


def per_call(fn: Callable[[], Any], sync: Callable[[], Any], calls: int = 2000, batches: int = 7) -> float:
    for _ in range(200):
        fn()
    sync()
    ts = []
    for _ in range(batches):
        t0 = time.perf_counter()
        for _ in range(calls):
            fn()
        sync()
        ts.append((time.perf_counter() - t0) / calls)
    return statistics.median(ts) * 1e6


def tiny(cupy: Any, torch: Any, engine: Any) -> None:
    sync = cupy.cuda.Device().synchronize
    a = cupy.arange(4, dtype=cupy.float32)
    b = cupy.ones(4, dtype=cupy.float32)
    o = cupy.empty(4, dtype=cupy.float32)
    ek = cupy.ElementwiseKernel("float32 x, float32 y", "float32 z", "z = x + y", "tcli_probe_add")
    rk = cupy.RawKernel(
        r"""extern "C" __global__ void tcli_probe_raw(const float* x, const float* y, float* z, int n) {
            int i = blockIdx.x * blockDim.x + threadIdx.x; if (i < n) z[i] = x[i] + y[i]; }""",
        "tcli_probe_raw",
    )
    n4 = np.int32(4)
    f32 = np.dtype(np.float32)
    rk((1,), (32,), (a, b, o, n4))
    launch = rk.kernel  # (the compiled Function RawKernel.__call__ hands its arguments to)
    ea = engine.tensor([0.0, 1.0, 2.0, 3.0], device="cuda")
    eb = engine.ones(4, device="cuda")
    eg = engine.tensor([0.0, 1.0, 2.0, 3.0], device="cuda", requires_grad=True)
    ta = torch.arange(4, dtype=torch.float32, device="cuda")
    tb = torch.ones(4, device="cuda")
    tg = ta.clone().requires_grad_(True)
    tsync = torch.cuda.synchronize
    rows = [
        ("torch a + b", lambda: ta + tb, tsync),
        ("torch a + b (a requires grad)", lambda: tg + tb, tsync),
        ("engine a + b", lambda: ea + eb, sync),
        ("engine a + b (a requires grad)", lambda: eg + eb, sync),
        ("cupy a + b", lambda: a + b, sync),
        ("cupy.add(a, b)", lambda: cupy.add(a, b), sync),
        ("cupy.add(a, b, out=o)", lambda: cupy.add(a, b, out=o), sync),
        ("ElementwiseKernel(a, b)", lambda: ek(a, b), sync),
        ("ElementwiseKernel(a, b, o)", lambda: ek(a, b, o), sync),
        ("RawKernel launch into o", lambda: rk((1,), (32,), (a, b, o, n4)), sync),
        ("cupy.empty + RawKernel", lambda: rk((1,), (32,), (a, b, cupy.empty(4, dtype=cupy.float32), n4)), sync),
        ("cupy.empty(4)", lambda: cupy.empty(4, dtype=cupy.float32), sync),
        ("cupy.ndarray((4,), float32)", lambda: cupy.ndarray((4,), f32), sync),
        ("RawKernel's Function into o", lambda: launch((1,), (32,), (a, b, o, n4)), sync),
        ("ndarray + Function", lambda: launch((1,), (32,), (a, b, cupy.ndarray((4,), f32), n4)), sync),
    ]
    base = None
    for name, fn, s in rows:
        us = per_call(fn, s)
        base = base or us
        print(f"tiny  {name:<34} {us:7.2f} us/call  {us / base:5.2f}x torch")


def mlp(cupy: Any, torch: Any, engine: Any, size: str) -> None:
    from tcli.bench_workloads import MLPLarge

    w = MLPLarge()
    p = w._sizes[size]
    inputs = w.inputs(p, np.random.default_rng(0))
    variants = {
        "engine": (w.tensor(engine, "cuda", inputs, p), cupy.cuda.Device().synchronize),
        "torch": (w.tensor(torch, "cuda", inputs, p), torch.cuda.synchronize),
        "floor": (w.floor(cupy, {k: cupy.asarray(v) for k, v in inputs.items()}, p), cupy.cuda.Device().synchronize),
    }
    for name, (step, sync) in variants.items():
        for _ in range(5):
            step()
        sync()
        total, issue = [], []
        for _ in range(15):
            t0 = time.perf_counter()
            step()
            t1 = time.perf_counter()
            sync()
            t2 = time.perf_counter()
            issue.append((t1 - t0) * 1e3)
            total.append((t2 - t0) * 1e3)
        if name == "torch":
            ev0, ev1 = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
            ev0.record()
            for _ in range(10):
                step()
            ev1.record()
            ev1.synchronize()
            busy = ev0.elapsed_time(ev1) / 10
        else:
            ev0, ev1 = cupy.cuda.Event(), cupy.cuda.Event()
            ev0.record()
            for _ in range(10):
                step()
            ev1.record()
            ev1.synchronize()
            busy = cupy.cuda.get_elapsed_time(ev0, ev1) / 10
        print(
            f"mlp {size:<6} {name:<6} step {statistics.median(total):6.3f} ms  host issue "
            f"{statistics.median(issue):6.3f} ms  back-to-back {busy:6.3f} ms/step"
        )


def main() -> int:
    import cupy
    import torch

    import engine

    tiny(cupy, torch, engine)
    for size in ("medium", "large"):
        mlp(cupy, torch, engine, size)
    return 0


if __name__ == "__main__":
    sys.exit(main())
