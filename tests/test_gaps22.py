"""gaps22: small divergences from torch 2.13 (empty nested lists in torch.tensor, explicit None arguments,
keyword slips in the parser's refusal, numpy dtypes): each case runs through tcli's Session and as Python with
torch, and the printed value or error (type and message) must be the same."""

from __future__ import annotations

import contextlib
import io
import re
import textwrap
import warnings

from tcli.session import Session

_ADDR = re.compile(r"0x[0-9a-f]+")


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
    assert _ADDR.sub("0x", out) == _ADDR.sub("0x", run_torch(src))
    return out


_SETUP = """
import torch
import numpy as np
x = torch.arange(24.).reshape(2, 3, 4)
"""


def _cases(calls: list[str]) -> str:
    cases = "".join(f"    lambda: {c},\n" for c in calls)
    return (
        _SETUP
        + f"cases = [\n{cases}]\n"
        + textwrap.dedent("""
        for n, f in enumerate(cases):
            try:
                r = f()
                print(n, 'OK', r, getattr(r, 'dtype', None), getattr(r, 'shape', None))
            except Exception as e:
                print(n, type(e).__name__ + ': ' + str(e).replace(chr(10), '|'))
        """)
    )


def test_tensor_from_nested_lists_with_an_empty_first_row() -> None:
    # torch stores no element of an empty tensor, so a later row is never checked; an empty list is a leaf
    # of the default dtype for inference ([[], [1]] is float32, [1, []] fails as a float store)
    out = same_as_torch(
        _cases([
            "torch.tensor([[], [1]])", "torch.tensor([[1], []])", "torch.tensor([[], []])",
            "torch.tensor([[[]], [1]])", "torch.tensor([[], [True]])", "torch.tensor([[], [1j]])",
            "torch.tensor([[], 5])", "torch.tensor([[], [[1]]])", "torch.tensor([[[]], [[1, 2]]])",
            "torch.tensor([1, []])", "torch.tensor([[], 'ab'])", "torch.tensor([[], [1]], dtype=torch.int64)",
            "torch.tensor([])", "torch.tensor([[], [1]]).sum()",
        ])
    )  # fmt: skip
    assert "0 OK tensor([], size=(2, 0)) torch.float32" in out
