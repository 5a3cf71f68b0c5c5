#!/usr/bin/env python
"""The engine's speed targets, measured side by side in one run on this machine (cpu).

    .venv/bin/python scripts/bench_engine.py [--budget SECONDS] [--repeat N] [--strict]

Prints, each with its target and PASS or MISS:

* a grad-tracked ``a + b`` on 4-element tensors: at most 0.8x PyTorch eager;
* forward + backward + SGD step of a 64x32->64->1 MLP: at most 0.9x PyTorch;
* a 4M-element elementwise chain, a 512x512 matmul forward+backward and 4M-element reductions: at most 1.15x
  raw numpy doing the same arithmetic;
* ``import engine`` in a fresh interpreter: under 0.3 s.

The workloads, the correctness check and the timer are `tcli bench`'s own (tcli/bench_workloads.py,
tcli/bench.py) at size medium; this script only picks the figures and lays them out. Exit status 1 when a
workload computed wrong numbers (or, with --strict, when a target is missed), else 0.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tcli import bench as B  # noqa: E402
from tcli.bench_workloads import WORKLOADS  # noqa: E402

# (workload, what the figure is called); each workload carries its cpu target for size medium.
FIGURES = (
    ("tiny_add_grad", "grad-tracked a + b, 4 elements"),
    ("mlp_small", "MLP 64x32->64->1 fwd+bwd+SGD step"),
    ("elementwise", "4M elementwise chain"),
    ("matmul", "512x512 matmul forward+backward"),
    ("reduction", "4M reductions (sum dim=1, mean dim=0)"),
)
IMPORT_TARGET_S = 0.3
SIZE = "medium"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--budget", type=float, default=3.0, help="seconds per workload (default 3)")
    ap.add_argument("--repeat", type=int, help="time exactly N rounds per workload instead")
    ap.add_argument("--strict", action="store_true", help="exit 1 when a target is missed")
    args = ap.parse_args(argv)

    ctx = B.make_context("cpu", "torch")
    if ctx.torch is None:
        print(f"bench_engine: torch is needed for the torch targets ({ctx.torch_note})", file=sys.stderr)
        return 2
    print(f"engine speed targets, cpu, size {SIZE}: " + B.machine_line(B.machine_info(ctx, SIZE)))
    lines = [("figure", "engine", "reference", "ratio", "target", "result")]
    missed = wrong = False
    for name, label in FIGURES:
        w = WORKLOADS[name]
        row = B.run_workload(w, ctx, SIZE, budget_s=args.budget, repeat=args.repeat)
        target = row.target()
        assert target is not None, f"{name} has no cpu target at size {SIZE}"
        ref = row.stats.get(target.against)
        met = row.target_met()
        engine = row.stats.get("engine")
        result = "PASS" if met else "MISS" if met is not None else "?"
        if row.check != "ok":
            result, wrong = row.check, True
        missed |= met is not True
        lines.append(
            (
                label,
                B.fmt_time(engine.median_s if engine else None),
                f"{target.against} {B.fmt_time(ref.median_s if ref else None)}",
                B.fmt_ratio(row.ratio(target.against)),
                target.describe(),
                result,
            )
        )
        if row.detail:
            print(f"{name}: {row.detail}", file=sys.stderr)
    t_import = B.engine_import_seconds()
    ok = t_import < IMPORT_TARGET_S
    missed |= not ok
    lines.append(
        ("import engine", B.fmt_time(t_import), "-", "-", f"<{IMPORT_TARGET_S:g} s", "PASS" if ok else "MISS")
    )
    widths = [max(len(line[i]) for line in lines) for i in range(len(lines[0]))]
    for line in lines:
        print("  ".join(c.ljust(wd) for c, wd in zip(line, widths)).rstrip())
    return 1 if wrong or (args.strict and missed) else 0


if __name__ == "__main__":
    sys.exit(main())
