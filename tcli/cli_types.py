"""Options tcli run and tcli repl share (one definition, so both check them alike)."""

from __future__ import annotations

from typing import Any

import click

from tcli.policy import DEFAULT_DTYPES


class _Seed(click.ParamType):
    """An integer torch.manual_seed accepts (-2**63 .. 2**64 - 1), without click's range in the help."""

    name = "integer"

    def convert(self, value: Any, param: Any, ctx: Any) -> int:
        try:
            n = int(value)
        except (TypeError, ValueError):
            self.fail(f"{value!r} is not a whole number", param, ctx)
        if not -(2**63) <= n < 2**64:
            self.fail(f"{n} is outside the seeds torch accepts (-2**63 to 2**64 - 1)", param, ctx)
        return n


SEED = _Seed()


class _Duration(click.ParamType):
    """--timeout: seconds (0.5, 30) or with a unit (30s, 10m, 1h); inf for no limit."""

    name = "seconds"
    UNITS = {"s": 1.0, "m": 60.0, "h": 3600.0}

    def convert(self, value: Any, param: Any, ctx: Any) -> float:
        text = str(value).strip().lower()
        scale = self.UNITS.get(text[-1:], 1.0)
        if text[-1:] in self.UNITS:
            text = text[:-1].strip()
        try:
            seconds = float(text) * scale
        except ValueError:
            self.fail(f"{value!r} is not a duration (examples: 0.5, 30, 30s, 10m, 1h, inf)", param, ctx)
        if seconds != seconds:
            self.fail("nan is not a number of seconds", param, ctx)
        if not seconds > 0:
            self.fail(f"{value!r}: a time limit must be more than 0 seconds (inf: no limit)", param, ctx)
        return seconds


DURATION = _Duration()

dtype_option = click.option(
    "--dtype",
    type=click.Choice(list(DEFAULT_DTYPES)),
    default="float32",
    show_default=True,
    help="Default floating dtype.",
)

seed_option = click.option("--seed", type=SEED, metavar="N", help="Seed torch's (and numpy's) random generators first.")
allow_path_option = click.option(
    "--allow-path",
    "allow_paths",
    multiple=True,
    metavar="DIR",
    type=click.Path(exists=True, file_okay=False),
    help="Let torch.save/load use DIR (repeatable).",
)
