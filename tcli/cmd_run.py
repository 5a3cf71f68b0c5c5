"""`tcli run`: run a tsr script. The click command only collects options; `run_script` does the work."""

from __future__ import annotations

import os
import sys

import click

_EPILOG = """\b
Examples:
  tcli run train.tsr                 run a script
  tcli run train.tsr --lr 0.1        arguments after the file reach the script as argv
  tcli run - < train.tsr             read the script from standard input
  tcli run -c 'import torch; print(torch.ones(2))'
  tcli run --timeout 10 --max-memory 2G untrusted.tsr

\b
Exit status: 0 ok, 1 error in the script, 2 usage error (or --device cuda without a GPU),\n130 interrupted.
The language is described in tsr(5)."""


@click.command(
    "run",
    epilog=_EPILOG,
    context_settings={"ignore_unknown_options": True, "allow_interspersed_args": False},
)
@click.option("-c", "code", metavar="CODE", help="Run CODE instead of a file.")
@click.option(
    "--device",
    type=click.Choice(["cpu", "cuda"]),
    default="cpu",
    show_default=True,
    help="Default device for new tensors.",
)
@click.option("--seed", type=int, help="Seed torch's (and numpy's) random generators first.")
@click.option(
    "--dtype",
    type=click.Choice(["float32", "float64"]),
    default="float32",
    show_default=True,
    help="Default floating dtype.",
)
@click.option(
    "--timeout", type=click.FloatRange(min=0, min_open=True), metavar="SECONDS", help="Stop the script after this long."
)
@click.option(
    "--max-memory", metavar="SIZE", help="Memory the script may allocate, e.g. 512M, 2G [default: half the RAM]."
)
@click.option(
    "--allow-path", "allow_paths", multiple=True, metavar="DIR", help="Let torch.save/load use DIR (repeatable)."
)
@click.option("--debug", is_flag=True, help="Also print the interpreter's Python traceback on errors.")
@click.argument("file", required=False, metavar="FILE.tsr")
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
def run(
    code: str | None,
    device: str,
    seed: int | None,
    dtype: str,
    timeout: float | None,
    max_memory: str | None,
    allow_paths: tuple[str, ...],
    debug: bool,
    file: str | None,
    args: tuple[str, ...],
) -> None:
    """Run a tsr script (a safe subset of Python in which `import torch` is tcli's engine).

    FILE.tsr may be - for standard input; ARGS are visible to the script as argv[1:].
    """
    status = run_script(
        file, args, code=code, device=device, seed=seed, dtype=dtype, timeout=timeout,
        max_memory=max_memory, allow_paths=allow_paths, debug=debug,
    )  # fmt: skip
    sys.exit(status)


def run_script(
    file: str | None,
    args: tuple[str, ...],
    *,
    code: str | None = None,
    device: str = "cpu",
    seed: int | None = None,
    dtype: str = "float32",
    timeout: float | None = None,
    max_memory: str | None = None,
    allow_paths: tuple[str, ...] = (),
    debug: bool = False,
) -> int:
    """Exit status of running a script file (or `code`) with the given options."""
    from tcli import policy
    from tcli.session import Session

    if code is None and file is None:
        raise click.UsageError("give a script FILE.tsr, '-' for standard input, or -c CODE")
    limits = policy.Limits(timeout=timeout)
    if max_memory is not None:
        try:
            limits.max_memory = policy.parse_size(max_memory)
        except ValueError as e:
            raise click.BadParameter(str(e), param_hint="'--max-memory'") from None
    if device == "cuda":
        problem = _cuda_problem()
        if problem:  # fail at once with the engine's reason, as `tcli repl` and `tcli bench` do
            click.echo(f"Error: --device cuda: {problem}", err=True)
            return 2
    if code is not None:
        argv = ["-c", *([file] if file is not None else []), *args]
    else:
        argv = [file or "-", *args]
    session = Session(
        device=device, dtype=dtype, seed=seed, limits=limits, argv=argv, allow_paths=allow_paths, debug=debug,
        process_limits=True,
    )  # fmt: skip
    try:
        if code is not None:
            return session.run_source(code, "<string>")
        if file == "-":
            return session.run_file("-")
        try:
            with open(file, encoding="utf-8") as f:  # type: ignore[arg-type]
                text = f.read()
        except (OSError, UnicodeDecodeError) as e:
            reason = getattr(e, "strerror", None) or str(e)
            click.echo(f"Error: cannot read {file}: {reason}", err=True)  # one line: a usage error, status 2
            return 2
        if os.path.splitext(file)[1] not in (".tsr", ".py", ""):  # type: ignore[type-var]
            click.echo(f"tcli run: warning: {file} is not a .tsr script; running it as tsr anyway", err=True)
        return session.run_source(text, file)  # type: ignore[arg-type]
    except KeyboardInterrupt:  # Ctrl-C outside the script (e.g. while reading stdin)
        sys.stderr.write("KeyboardInterrupt\n")
        return 130


def _cuda_problem() -> str | None:
    """Why the engine cannot make a CUDA tensor here, or None when it can."""
    import engine

    try:
        engine.zeros(1, device="cuda")
    except Exception as e:  # the engine's reason (no cupy, no GPU, no driver)
        return str(e)
    return None
