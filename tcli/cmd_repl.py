"""`tcli repl` (also plain `tcli`): the interactive session. The click command only collects options;
tcli.repl does the work. Nothing heavy is imported here, so `tcli --help` and `tcli run` stay fast."""

from __future__ import annotations

import sys

import click

from tcli.cli_types import DURATION, allow_path_option, dtype_option, seed_option

_EPILOG = """\b
Examples:
  tcli                                start the REPL (same as `tcli repl`)
  tcli repl --dtype float64 --seed 0  float64 by default, seeded generators
  echo 'torch.ones(2) * 3' | tcli repl
                                      read inputs from a pipe; values are echoed as plain text

\b
In the REPL, type :help for the meta-commands (:vars, :graph, :grad, :time, :gradcheck, ...).
History is kept in $XDG_STATE_HOME/tcli/history unless --history-file says otherwise.
Exit status: 0 (Ctrl-D, :quit or end of input), 2 usage error or --device cuda without a GPU."""


@click.command("repl", epilog=_EPILOG)
@click.option(
    "--device",
    type=click.Choice(["cpu", "cuda"]),
    default="cpu",
    show_default=True,
    help="Default device for new tensors.",
)
@dtype_option
@seed_option
@click.option(
    "--history-file",
    type=click.Path(dir_okay=False),
    metavar="PATH",
    help="Where to keep the input history [default: $XDG_STATE_HOME/tcli/history].",
)
@click.option("--no-color", is_flag=True, help="Plain text output (also when NO_COLOR is set or TERM=dumb).")
@click.option(
    "--max-memory", metavar="SIZE", help="Memory the session may allocate, e.g. 512M, 2G [default: half the RAM]."
)
@click.option(
    "--timeout",
    type=DURATION,
    metavar="SECONDS",
    help=(
        "Stop any one input after this long: seconds, or 30s, 10m, 1h (inf: no limit, the default; Ctrl-C always does)."
    ),
)
@allow_path_option
@click.option("--debug", is_flag=True, help="Also print the interpreter's Python traceback on errors.")
def repl(
    device: str = "cpu",
    dtype: str = "float32",
    seed: int | None = None,
    history_file: str | None = None,
    no_color: bool = False,
    max_memory: str | None = None,
    timeout: float | None = None,
    allow_paths: tuple[str, ...] = (),
    debug: bool = False,
) -> None:
    """Start the interactive tensor session (torch is already imported).

    Inputs run in the same language as `tcli run` and share state; an expression's value is echoed,
    tensors with a header line. Ctrl-C interrupts a running input, Ctrl-D exits.
    """
    from tcli import policy
    from tcli.cmd_run import _NO_TIMEOUT
    from tcli.repl import ReplOptions, main

    if timeout is not None and timeout != timeout:
        raise click.BadParameter("nan is not a number of seconds", param_hint="'--timeout'")
    if timeout is not None and timeout >= _NO_TIMEOUT:  # inf, or longer than a timer can count: no limit
        timeout = None
    limits = policy.Limits(timeout=timeout)
    if max_memory is not None:
        try:
            limits.max_memory = policy.parse_size(max_memory)
        except ValueError as e:
            raise click.BadParameter(str(e), param_hint="'--max-memory'") from None
    options = ReplOptions(
        device=device,
        dtype=dtype,
        seed=seed,
        history_file=history_file,
        color=False if no_color else None,
        limits=limits,
        allow_paths=allow_paths,
        debug=debug,
    )
    sys.exit(main(options))
