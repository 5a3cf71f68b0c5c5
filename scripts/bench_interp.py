#!/usr/bin/env python3
"""Interpreter overhead: a 1000-step linear-regression loop in tsr against the same loop in Python on the
engine (target: tsr at most 1.3x). Runs both in this process, interleaved, and compares the fastest run
of each (the least disturbed by other load on the machine).

    python scripts/bench_interp.py [--steps 1000] [--repeat 15] [--profile]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

LOOP = """\
import torch
torch.manual_seed(0)
x = torch.randn(64, 8)
true_w = torch.randn(8, 1)
y = x @ true_w + 0.1 * torch.randn(64, 1)
w = torch.zeros(8, 1, requires_grad=True)
b = torch.zeros(1, requires_grad=True)
lr = 0.05
for step in range(STEPS):
    pred = x @ w + b
    loss = ((pred - y) ** 2).mean()
    loss.backward()
    with torch.no_grad():
        w -= lr * w.grad
        b -= lr * b.grad
    w.grad.zero_()
    b.grad.zero_()
result = loss.item()
"""


def run_python(steps: int) -> float:
    import engine

    namespace = {"torch": engine}
    source = LOOP.replace("import torch\n", "").replace("STEPS", str(steps))
    t = time.perf_counter()  # both sides start from source text: Python compiles, tsr parses and checks
    exec(compile(source, "<python>", "exec"), namespace)  # the benchmark's own fixed source, not user code
    return time.perf_counter() - t


def run_tsr(steps: int) -> float:
    from tcli.session import Session

    session = Session()
    source = LOOP.replace("STEPS", str(steps))
    session.run_source("import torch\n", "<warmup>")
    t = time.perf_counter()
    status = session.run_source(source, "<tsr>")
    elapsed = time.perf_counter() - t
    if status != 0:
        raise SystemExit("tsr loop failed")
    return elapsed


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--steps", type=int, default=1000)
    ap.add_argument("--repeat", type=int, default=15)
    ap.add_argument("--profile", action="store_true", help="cProfile the tsr loop instead")
    a = ap.parse_args()
    if a.profile:
        import cProfile
        import pstats

        cProfile.runctx("run_tsr(a.steps)", globals(), {"a": a, "run_tsr": run_tsr}, "/tmp/bench_interp.prof")
        pstats.Stats("/tmp/bench_interp.prof").sort_stats("tottime").print_stats(25)
        return
    run_python(50), run_tsr(50)  # warm caches and imports
    py, ts = [], []
    for _ in range(a.repeat):
        py.append(run_python(a.steps))
        ts.append(run_tsr(a.steps))
    p, t = min(py), min(ts)
    print(f"python on engine: {p * 1e3:8.1f} ms  ({p / a.steps * 1e6:.1f} us/step, fastest of {a.repeat})")
    print(f"tsr:              {t * 1e3:8.1f} ms  ({t / a.steps * 1e6:.1f} us/step)")
    verdict = "PASS" if t / p <= 1.3 else "MISS"
    print(f"ratio tsr/python: {t / p:.3f}  (target <= 1.3: {verdict})")


if __name__ == "__main__":
    main()
