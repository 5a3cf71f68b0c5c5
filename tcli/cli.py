"""The `tcli` command: a thin click group. Each subcommand lives in its own module and imports
its heavy dependencies (rich, prompt_toolkit, the engine) only when it runs, so `--help` stays fast."""

from __future__ import annotations

import os
import shlex

import click

from tcli import __version__
from tcli.cmd_bench import bench
from tcli.cmd_repl import repl
from tcli.cmd_run import run


class _Group(click.Group):
    """A click group that, for `tcli train.tsr` and `tcli -c CODE` (as one types `python train.py` and
    `python -c CODE`), says how to run them instead of only 'No such command' or 'No such option'."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if args and args[0].startswith("-c") and not args[0].startswith("--"):
            code = args[0][2:] or (args[1] if len(args) > 1 else None)  # -cCODE or -c CODE
            how = f"tcli run -c {shlex.quote(code)}" if code is not None else "tcli run -c CODE"
            raise click.UsageError(f"No such option '-c'. To run code: {how}", ctx)
        return super().parse_args(ctx, args)

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
