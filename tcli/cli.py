"""The `tcli` command: a thin click group. Each subcommand lives in its own module and imports
its heavy dependencies (rich, prompt_toolkit, the engine) only when it runs, so `--help` stays fast."""

from __future__ import annotations

import click

from tcli import __version__
from tcli.cmd_bench import bench
from tcli.cmd_repl import repl
from tcli.cmd_run import run


@click.group(invoke_without_command=True, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="tcli")
@click.pass_context
def main(ctx: click.Context) -> None:
    """tcli: PyTorch's answers without PyTorch.

    \b
    Examples:
      tcli                      start the interactive REPL
      tcli run train.tsr        run a script
      tcli run -c 'import torch; print(torch.ones(2))'
      tcli bench --size small   measure the engine against numpy and PyTorch
    """
    if ctx.invoked_subcommand is None:
        ctx.invoke(repl)


main.add_command(run)
main.add_command(repl)
main.add_command(bench)
