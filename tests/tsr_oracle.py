"""A tsr program run through tcli's Session and the same source run as Python with torch, the oracle: for tests
that compare what both print (addresses masked)."""

from __future__ import annotations

import contextlib
import io
import re
import textwrap
import warnings

from tcli.session import Session

ADDR = re.compile(r"0x[0-9a-f]+")


def run_tsr(src: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    status = Session(stdout=out, stderr=err, color=False).run_source(textwrap.dedent(src), "prog.tsr")
    return status, out.getvalue(), err.getvalue()


def run_torch(src: str) -> str:
    out = io.StringIO()
    with contextlib.redirect_stdout(out), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        exec(compile(textwrap.dedent(src), "prog.py", "exec"), {})  # noqa: S102 - the oracle's own run
    return out.getvalue()


def same_as_torch(src: str) -> str:
    status, out, err = run_tsr(src)
    assert status == 0, err
    assert ADDR.sub("0x", out) == ADDR.sub("0x", run_torch(src))
    return out
