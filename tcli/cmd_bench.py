"""`tcli bench`: the click command. The work is in tcli.bench, imported only when the command runs so that
`tcli --help` does not pay for numpy, rich or the engine."""

from __future__ import annotations

import click

_SIZES = ("small", "medium", "large")


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
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
@click.option("--only", multiple=True, metavar="NAME[,NAME]", help="Run only these workloads (repeatable).")
@click.option("--list", "list_only", is_flag=True, help="List the workloads and exit.")
def bench(
    device: str,
    size: str,
    repeat: int | None,
    budget_s: float | None,
    json_path: str | None,
    compare: str,
    only: tuple[str, ...],
    list_only: bool,
) -> None:
    """Measure the engine against the numpy/cupy floor and PyTorch.

    \b
    Exit status: 0 all results agree, 1 a workload computed different numbers
    or failed, 2 usage error (e.g. --device cuda without cupy or a GPU).
    """
    from tcli import bench as b

    if list_only:
        click.echo(b.list_report(), nl=False)
        return
    if json_path is not None:  # checked before minutes of timing, not after
        import os

        parent = os.path.dirname(os.path.abspath(json_path))
        if not os.path.isdir(parent) or not os.access(parent, os.W_OK):
            click.echo(f"tcli bench: error: cannot write {json_path}: {parent} is not a writable directory", err=True)
            raise SystemExit(2)
    if only and not any(part.strip() for name in only for part in name.split(",")):
        click.echo("tcli bench: error: --only names no workload (see tcli bench --list)", err=True)
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
        )
    except b.BenchError as e:
        click.echo(f"tcli bench: error: {e}", err=True)
        raise SystemExit(2) from None
    if status:
        raise SystemExit(status)
