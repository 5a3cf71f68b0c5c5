"""api19: gaps between tcli and PyTorch 2.13 that the qa18 sweep found, each checked against PyTorch: a tensor's
bound methods as torch prints them, ... Scripts run through tcli's Session and as Python with torch."""

from __future__ import annotations

import contextlib
import io
import re
import textwrap
import warnings

import torch

import engine
from tcli.session import Session

_ADDR = re.compile(r"0x[0-9a-f]{6,}")


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


def same_as_torch(src: str) -> None:
    status, out, err = run_tsr(src)
    assert status == 0, err
    assert _ADDR.sub("0xADDR", out) == _ADDR.sub("0xADDR", run_torch(src))


def test_bound_method_reprs() -> None:
    same_as_torch(
        """
        import torch
        x = torch.ones(2)
        print(x.size)
        print(repr(x.add), str(x.size), f"{x.size}", f"{x.add!r}")
        print((x.size, x.ndim, x.shape), [x.add, {"a": (x.size,)}])
        print(x.backward, x.shape.numel)
        print(torch.nn.Parameter(torch.ones(1)).size)
        """
    )


def test_zero_dim_arrays_in_a_list() -> None:
    same_as_torch(
        """
        import torch
        import numpy as np
        for f in (
            lambda: torch.tensor([np.array(1.0), np.array(2.0)]), lambda: torch.tensor([np.array(1)]),
            lambda: torch.tensor([[np.array(1.0)]]), lambda: torch.as_tensor([np.array(1.0)]),
            lambda: torch.tensor([1.0, np.array(2.0)]), lambda: torch.tensor([np.float64(1.0)]),
        ):
            try:
                r = f()
                print(r, r.dtype)
            except Exception as e:
                print(type(e).__name__, e)
        """
    )
