"""`tcli run`: run a tsr script. The click command only collects options; `run_script` does the work."""

from __future__ import annotations

import io
import os
import signal
import sys

import click

from tcli.cli_types import DURATION, allow_path_option, dtype_option, seed_option

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
    short_help="Run a tsr script (PyTorch code, run safely).",
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
@seed_option
@dtype_option
@click.option(
    "--timeout",
    type=DURATION,
    metavar="SECONDS",
    help="Stop the script after this long: seconds, or 30s, 10m, 1h (inf: no limit, the default).",
)
@click.option(
    "--max-memory", metavar="SIZE", help="Memory the script may allocate, e.g. 512M, 2G [default: half the RAM]."
)
@allow_path_option
@click.option("--debug", is_flag=True, help="Also print the interpreter's Python traceback on errors.")
@click.argument("file", required=False, metavar="FILE.tsr", type=click.Path(allow_dash=True))
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
@click.pass_context
def run(
    ctx: click.Context,
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
    if code is None and file is not None and file.startswith("-") and file != "-" and not os.path.exists(file):
        # unknown options are let through for `-c CODE --flag` (argv, as python -c); before a file they are typos
        opts = [o for p in ctx.command.params if isinstance(p, click.Option) for o in p.opts + p.secondary_opts]
        raise click.NoSuchOption(file.split("=", 1)[0], possibilities=opts, ctx=ctx)
    status = run_script(
        file, args, code=code, device=device, seed=seed, dtype=dtype, timeout=timeout,
        max_memory=max_memory, allow_paths=allow_paths, debug=debug,
    )  # fmt: skip
    sys.exit(status)


#: --timeout values from here on (inf included) mean no limit (about 30 years; the timer cannot count to 1e20)
_NO_TIMEOUT = 1e9


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
    if device == "cuda":
        from tcli.device_check import cuda_problem

        problem = cuda_problem()
        if problem:  # fail at once with the engine's reason, as `tcli repl` and `tcli bench` do
            click.echo(f"Error: --device cuda: {problem}", err=True)
            return 2
    if code is not None:
        argv = ["-c", *([file] if file is not None else []), *args]
    else:
        argv = [file or "-", *args]
    if hasattr(signal, "SIGPIPE"):  # `tcli run x.tsr | head` ends quietly, as other Unix tools do
        signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    try:
        if code is not None:
            text, name = code, "<string>"
        else:
            name = "<stdin>" if file == "-" else file
            try:
                text = decode_source(sys.stdin.buffer.read() if file == "-" else _read(file))  # type: ignore[arg-type]
            except (OSError, ValueError) as e:
                reason = getattr(e, "strerror", None) or str(e)
                what = "standard input" if file == "-" else file
                click.echo(f"Error: cannot read {what}: {reason}", err=True)  # one line: a usage error, status 2
                return 2
            if file != "-" and os.path.splitext(file)[1] not in (".tsr", ".py", ""):  # type: ignore[type-var]
                click.echo(f"tcli run: warning: {file} is not a .tsr script; running it as tsr anyway", err=True)
        session = Session(
            device=device, dtype=dtype, seed=seed, limits=limits, argv=argv, allow_paths=allow_paths, debug=debug,
            process_limits=True,
        )  # fmt: skip
        return session.run_source(text, name)  # type: ignore[arg-type]
    except KeyboardInterrupt:  # Ctrl-C outside the script (e.g. while reading stdin)
        sys.stderr.write("KeyboardInterrupt\n")
        return 130
    except Exception as e:  # a bug in tcli itself, not in the script: one line, the traceback with --debug
        if debug:
            raise
        click.echo(f"tcli: internal error: {type(e).__name__}: {e} (a bug in tcli; --debug shows where)", err=True)
        return 1


def _read(path: str) -> bytes:
    with open(path, "rb") as f:
        return f.read()


def decode_source(data: bytes) -> str:
    """A script's text as Python reads a source file: UTF-8 unless a coding declaration (PEP 263) says
    otherwise, a leading BOM dropped. Raises ValueError naming the line of an undecodable byte."""
    import tokenize

    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
    except SyntaxError as e:
        if "invalid or missing" not in str(e):  # an unknown encoding, or a BOM against the declaration
            raise ValueError(str(e)) from None
        encoding = "utf-8"  # undecodable bytes in the first lines: say where below
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as e:
        line = data.count(b"\n", 0, e.start) + 1
        col = e.start - (data.rfind(b"\n", 0, e.start) + 1) + 1
        raise ValueError(
            f"not valid {'UTF-8' if e.encoding.startswith('utf-8') else e.encoding}: byte 0x{data[e.start]:02x} "
            f"at line {line}, column {col} (save it as UTF-8, or declare its encoding in a '# coding: NAME' line)"
        ) from None
