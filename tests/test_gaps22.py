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


def test_python_functions_take_no_numpy_keywords() -> None:
    # torch's argument parser reads axis=/keepdims= for dim=/keepdim= (x.max(0, keepdims=True)), but norm,
    # split, unique, unique_consecutive and unflatten are Python functions, whose signatures have no such names
    same_as_torch(
        _cases([
            "x.max(0, keepdims=True)", "x.prod(0, keepdims=True)", "x.sum(axis=0, keepdims=True)",
            "x.norm(dim=0, keepdims=True)", "torch.norm(x, dim=0, keepdims=True)", "x.norm(axis=0)",
            "torch.norm(x, axis=0)", "x.split(2, axis=0)", "torch.split(x, 2, axis=0)", "x.unique(axis=0)",
            "x.unique_consecutive(axis=0)", "x.unflatten(axis=0, sizes=(1, 2))", "x.norm(2, 0, keepdims=True)",
            "x.unique(dim=0, keepdims=True)", "x.std(0, 1, 2, 3)", "torch.unique_consecutive(x, axis=0)",
            "x.norm(dim=0, keepdim=True)", "x.norm(2, 0, True)", "x.split(2, 1)", "x.unique(dim=1)", "x.norm(out=x)",
            "x.split(split_size=2)",
        ])
    )  # fmt: skip


def test_explicit_none_is_refused_where_torchs_parser_refuses_it() -> None:
    # an explicit None is not "not given": torch's parser takes no None for max's dim or other, logsumexp's or
    # squeeze's dim, std's unbiased (dim=None and correction=None it takes)
    same_as_torch(
        _cases([
            "torch.max(x, None)", "torch.min(x, None)", "x.max(None)", "x.min(None)", "torch.max(x, dim=None)",
            "x.max(dim=None)", "torch.max(x, None, True)", "x.max(None, True)", "torch.max(x, other=None)",
            "torch.max(x, 0, None)", "x.max(0, keepdim=None)", "x.logsumexp(None)", "torch.logsumexp(x, None)",
            "x.logsumexp(dim=None)", "torch.logsumexp(x, dim=None)", "torch.special.logsumexp(x, None)",
            "x.squeeze(None)", "torch.squeeze(x, None)", "x.squeeze(dim=None)", "torch.squeeze(x, dim=None)",
            "x.clone().squeeze_(None)", "x.clone().squeeze_(dim=None)", "x.std(0, None, True)", "x.std(None)",
            "x.std(dim=None)", "torch.std(x, 0, None, True)", "x.var(0, None, True)", "x.std(0, True, None)",
            "x.std(None, True)", "x.std(0, keepdim=None)", "x.std(0, unbiased=None)", "x.std(correction=None)",
            "torch.std(x, None)", "torch.var(x, 0, None, True)", "torch.var_mean(x, 0, None, True)",
            "torch.std_mean(x, unbiased=None)", "torch.std_mean(x, None)", "torch.std(x, True, correction=1)",
            "torch.var_mean(x, True, correction=1)", "torch.std_mean(x, 0, True, correction=1)",
            "torch.std(x, 0, True, correction=1)",
        ])
    )  # fmt: skip


def test_the_successful_forms_still_run() -> None:
    same_as_torch(
        _cases([
            "torch.max(x)", "torch.max(x, 1)", "torch.max(x, x)", "torch.max(x, other=x)", "x.max(1, True)",
            "torch.min(x, 0, keepdim=True)", "x.logsumexp(0)", "torch.logsumexp(x, (0, 1))", "torch.logsumexp(x, ())",
            "torch.special.logsumexp(x, 1)", "torch.ones(2, 1).squeeze()", "torch.ones(2, 1).squeeze(1)",
            "torch.squeeze(torch.ones(1, 2, 1), (0, 2))", "torch.ones(2, 1, 1).squeeze(1, 2)",
            "torch.ones(2, 1).squeeze_()", "torch.ones(2, 1).squeeze_(1)", "torch.ones(2, 1, 1).squeeze_((1, 2))",
            "x.std()", "x.std(0)", "x.std(0, False, True)", "x.var(True)", "x.std(correction=0)",
            "torch.std_mean(x, 0)", "torch.var_mean(x, (0, 1), correction=0)", "torch.var_mean(x, False)",
            "torch.tensor([[1., 2.]], requires_grad=True).squeeze().sum().grad_fn",
        ])
    )  # fmt: skip
