"""The `tcli` command: a thin click group. Each subcommand lives in its own module and imports
its heavy dependencies (rich, prompt_toolkit, the engine) only when it runs, so `--help` stays fast."""

from __future__ import annotations

import os

import click

from tcli import __version__
from tcli.cmd_bench import bench
from tcli.cmd_repl import repl
from tcli.cmd_run import run


class _Group(click.Group):
    """A click group that, for `tcli train.tsr`, says how to run a script instead of only 'No such command'."""

    def resolve_command(self, ctx: click.Context, args: list[str]):  # type: ignore[no-untyped-def]
        name = args[0] if args else ""
        if name and self.get_command(ctx, name) is None and not name.startswith("-"):
            if name.endswith((".tsr", ".py")) or os.path.isfile(name):
                raise click.UsageError(f"No such command {name!r}. To run a script: tcli run {name}", ctx)
        return super().resolve_command(ctx, args)


@click.group(
    cls=_Group,
    invoke_without_command=True,
    context_settings={"help_option_names": ["-h", "--help"]},
    epilog="Manual: man tcli (commands), man tsr (the language). Shell completion: see SHELL COMPLETION in tcli(1).",
)
@click.version_option(__version__, prog_name="tcli")
@click.pass_context
def main(ctx: click.Context) -> None:
    """tcli: PyTorch's answers without PyTorch.

    \b
    Examples:
      tcli                      start the interactive REPL
      tcli run train.tsr        run a script
      tcli run -c 'import torch; print(torch.ones(2))'
      echo 'torch.ones(2) * 3' | tcli repl
      tcli bench --size small   measure the engine against numpy and PyTorch
    """
    if ctx.invoked_subcommand is None:
        ctx.invoke(repl)


main.add_command(run)
main.add_command(repl)
main.add_command(bench)
