"""`tcli bench`: the click command. The work is in tcli.bench, imported only when the command runs so that
`tcli --help` does not pay for numpy, rich or the engine."""

from __future__ import annotations

import click

_SIZES = ("small", "medium", "large")

_EPILOG = """\b
Examples:
  tcli bench --size small            a quick look, a few seconds
  tcli bench --only matmul,mlp_large --device cuda --json gpu.json
                                     two workloads on the GPU, kept for later
  tcli bench --compare none | tee bench.txt
                                     without PyTorch, as plain text
  tcli bench --torch-threads 1       torch on one thread, whatever the load

\b
Columns:
  engine, iqr     tcli's median time per call, and its interquartile range
  floor           median time of the same arithmetic in plain numpy (cupy on
                  cuda): the least the engine can cost
  torch           PyTorch's median time per call (- when not run)
  /floor, /torch  engine time over floor time and over torch time (below 1x:
                  the engine is faster)
  target          the speed goal for this row, if any, and PASS or MISS
  throughput      the engine's GB/s or GFLOP/s
  check           ok when every variant computed the same numbers

\b
A row marked noisy had samples too far apart for its times, ratios and
target to be trusted: rerun it on a quieter machine.
Exit status: 0 all results agree, 1 a workload computed different numbers
or failed, 2 usage error (e.g. --device cuda without cupy or a GPU).
The workloads and the measurement are described in tcli-bench(1)."""


class _TorchThreads(click.ParamType):
    """A positive thread count, or `auto` (None): fewer than torch's default when the machine is busy."""

    name = "N|auto"

    def convert(self, value: object, param: click.Parameter | None, ctx: click.Context | None) -> int | None:
        if value is None or value == "auto":
            return None
        try:
            n = int(value)  # type: ignore[call-overload]
        except (TypeError, ValueError):
            n = 0
        if n < 1:
            self.fail(f"{value!r} is neither a positive number of threads nor auto", param, ctx)
        return n


@click.command(epilog=_EPILOG, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--device", type=click.Choice(["cpu", "cuda"]), default="cpu", show_default=True, help="Device.")
@click.option("--size", type=click.Choice(_SIZES), default="medium", show_default=True, help="Problem sizes.")
@click.option(
    "--repeat",
    type=click.IntRange(min=1),
    metavar="N",
    help="Time exactly N rounds per workload instead of running until the time budget is spent.",
)
@click.option(
    "--budget",
    "budget_s",
    type=click.FloatRange(min=0, min_open=True),
    metavar="SECONDS",
    help="Time budget per workload [default: 0.25 small, 1.5 medium, 3 large].",
)
@click.option("--json", "json_path", type=click.Path(dir_okay=False), metavar="FILE", help="Write results as JSON.")
@click.option(
    "--compare",
    type=click.Choice(["torch", "none"]),
    default="torch",
    show_default=True,
    help="Also time PyTorch, or not (then torch is never imported).",
)
@click.option(
    "--torch-threads",
    type=_TorchThreads(),
    default="auto",
    metavar="N|auto",
    help="PyTorch's cpu threads [default: auto: its default, but no more than the idle cores or TCLI_THREADS].",
)
@click.option("--only", multiple=True, metavar="NAME[,NAME]", help="Run only these workloads (repeatable).")
@click.option("--list", "list_only", is_flag=True, help="List the workloads and exit.")
def bench(
    device: str,
    size: str,
    repeat: int | None,
    budget_s: float | None,
    json_path: str | None,
    compare: str,
    torch_threads: int | None,
    only: tuple[str, ...],
    list_only: bool,
) -> None:
    """Measure the engine against the numpy/cupy floor and PyTorch."""
    from tcli import bench as b

    if list_only:
        click.echo(b.list_report(), nl=False)
        return
    if json_path is not None:  # checked before minutes of timing, not after
        import os

        parent = os.path.dirname(os.path.abspath(json_path))
        if not os.path.isdir(parent) or not os.access(parent, os.W_OK):
            click.echo(f"Error: cannot write {json_path}: {parent} is not a writable directory", err=True)
            raise SystemExit(2)
    if only and not any(part.strip() for name in only for part in name.split(",")):
        click.echo("Error: --only names no workload (see tcli bench --list)", err=True)
        raise SystemExit(2)
    try:
        status = b.run_bench(
            device=device,
            size=size,
            compare=compare,
            only=only,
            repeat=repeat,
            budget_s=budget_s,
            json_path=json_path,
            torch_threads=torch_threads,
        )
    except b.BenchError as e:
        click.echo(f"Error: {e}", err=True)
        raise SystemExit(2) from None
    if status:
        raise SystemExit(status)
