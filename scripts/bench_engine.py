#!/usr/bin/env python
"""The engine's speed targets, measured side by side in one run on this machine (cpu).

    .venv/bin/python scripts/bench_engine.py [--budget SECONDS] [--repeat N] [--strict]
    .venv/bin/python scripts/bench_engine.py --profile WORKLOAD [--calls N]

Prints, each with its target and PASS or MISS:

* a grad-tracked ``a + b`` on 4-element tensors: at most 0.8x PyTorch eager;
* forward + backward + SGD step of a 64x32->64->1 MLP: at most 0.9x PyTorch;
* a 4M-element elementwise chain, a 512x512 matmul forward+backward and 4M-element reductions: at most 1.15x
  raw numpy doing the same arithmetic;
* ``import engine`` in a fresh interpreter: under 0.3 s.

The workloads, the correctness check and the timer are `tcli bench`'s own (tcli/bench_workloads.py,
tcli/bench.py) at size medium; this script only picks the figures and lays them out. Exit status 1 when a
workload computed wrong numbers (or, with --strict, when a target is missed), else 0.

--profile runs one workload's engine variant (any of `tcli bench --list`) under cProfile and prints where
its time goes, per call of the workload, to find what to speed up when a target is missed.
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


def profile(name: str, calls: int, size: str = SIZE, top: int = 25) -> None:
    """cProfile of the engine variant of one workload: the functions with the most own time."""
    import cProfile
    import pstats

    ctx = B.make_context("cpu", "none")
    _, steps, errors = B.build_steps(WORKLOADS[name], ctx, size)
    if "engine" not in steps:
        raise SystemExit(errors["engine"])
    step = steps["engine"]
    for _ in range(max(3, calls // 10)):  # warm
        step()
    prof = cProfile.Profile()
    prof.enable()
    for _ in range(calls):
        step()
    prof.disable()
    stats = pstats.Stats(prof)
    total = stats.total_tt  # type: ignore[attr-defined]
    print(f"{name} (size {size}), engine variant under cProfile: {total / calls * 1e6:.1f} us per call")
    rows = sorted(stats.stats.items(), key=lambda kv: kv[1][2], reverse=True)  # type: ignore[attr-defined]
    by_file: dict[str, float] = {}
    for (file, line, _func), (_cc, _nc, tt, _ct, _callers) in rows:
        key = f"{Path(file).parent.name}/{Path(file).name}" if line else "builtins and C functions"
        by_file[key] = by_file.get(key, 0.0) + tt
    print(
        "own time by file: "
        + ", ".join(f"{k} {v / total:.0%}" for k, v in sorted(by_file.items(), key=lambda kv: -kv[1])[:8])
    )
    print(f"{'own us/call':>11} {'cum us/call':>11} {'ncalls/call':>11}  function")
    for (file, line, func), (_cc, nc, tt, ct, _callers) in rows[:top]:
        where = f"{Path(file).parent.name}/{Path(file).name}:{line}" if line else file
        print(f"{tt / calls * 1e6:11.2f} {ct / calls * 1e6:11.2f} {nc / calls:11.1f}  {func} ({where})")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--budget", type=float, default=3.0, help="seconds per workload (default 3)")
    ap.add_argument("--repeat", type=int, help="time exactly N rounds per workload instead")
    ap.add_argument("--strict", action="store_true", help="exit 1 when a target is missed")
    ap.add_argument("--profile", metavar="WORKLOAD", choices=list(WORKLOADS), help="profile one workload instead")
    ap.add_argument("--calls", type=int, default=2000, help="calls to profile (default 2000)")
    args = ap.parse_args(argv)
    if args.profile:
        profile(args.profile, args.calls)
        return 0

    ctx = B.make_context("cpu", "torch")
    if ctx.torch is None:
        print(f"bench_engine: torch is needed for the torch targets ({ctx.torch_note})", file=sys.stderr)
        return 2
    machine = B.machine_info(ctx, SIZE)
    print(f"engine speed targets, cpu, size {SIZE}: " + B.machine_line(machine))
    if warning := B.busy_warning(machine):
        print(warning)
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
    lines.append(("import engine", B.fmt_time(t_import), "-", "-", f"<{IMPORT_TARGET_S:g} s", "PASS" if ok else "MISS"))
    widths = [max(len(line[i]) for line in lines) for i in range(len(lines[0]))]
    for line in lines:
        print("  ".join(c.ljust(wd) for c, wd in zip(line, widths)).rstrip())
    return 1 if wrong or (args.strict and missed) else 0


if __name__ == "__main__":
    sys.exit(main())
