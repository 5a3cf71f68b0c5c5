"""gaps22: small divergences from torch 2.13 (empty nested lists in torch.tensor, explicit None arguments,
keyword slips in the parser's refusal, numpy dtypes): each case runs through tcli's Session and as Python with
torch, and the printed value or error (type and message) must be the same."""

from __future__ import annotations

import textwrap

from tsr_oracle import same_as_torch

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


def test_parser_refusals_list_what_was_given() -> None:
    # arange's refusal lists an explicit step (even 1); normal's unknown keywords get its signatures;
    # from_numpy is a one-argument C function; a call with no arguments gets the parser's signatures too
    same_as_torch(
        _cases([
            "torch.arange(0, 3, 1, require_grad=True)", "torch.arange(0, 3, require_grad=True)",
            "torch.arange(3, require_grad=True)", "torch.arange(0, 'a', 1)", "torch.arange(0, 'a')",
            "torch.arange(0, 3, 1)", "torch.arange(0, 3)", "torch.arange(5)", "torch.arange(0, 1, 0.25)",
            "torch.arange(0, 3, 1, dtype=np.float32)", "torch.arange(end=3)", "torch.arange(0, 3, step=1)",
            "torch.normal(0, 1, (2,), require_grad=True)", "torch.normal(x, 1., foo=3)", "torch.normal(x, x, foo=3)",
            "torch.normal(0., 1., (2,)).shape", "torch.normal(x, 1.).shape", "torch.normal(x, x).shape",
            "torch.normal(0., x).shape", "torch.from_numpy(np.zeros(2), foo=1)", "torch.from_numpy(a=np.zeros(2))",
            "torch.from_numpy(np.zeros(2), np.zeros(2))", "torch.from_numpy()", "torch.from_numpy(np.zeros(2))",
            "torch.from_numpy([1])", "torch.mm(x)", "torch.randn()", "torch.mm()", "torch.rand()", "torch.zeros()",
            "torch.matmul(x)",
        ])
    )  # fmt: skip


def test_numpy_dtypes_are_refused_as_torchs_parser_refuses_them() -> None:
    # dtype= takes a torch.dtype (or float, int, bool, complex), never numpy's dtype; x.type takes no class but
    # a legacy tensor type (x.type(np.float32): ValueError naming the class by its C tp_name)
    f = "np.dtype('float32')"
    same_as_torch(
        _cases([
            f"torch.zeros(2, dtype={f})", f"torch.ones(2, dtype={f})", f"torch.empty(2, dtype={f}).shape",
            f"torch.full((2,), 1., dtype={f})", f"torch.tensor([1.], dtype={f})", f"torch.as_tensor([1.], dtype={f})",
            f"torch.arange(3, dtype={f})", f"torch.linspace(0, 1, 3, dtype={f})", f"torch.eye(2, dtype={f})",
            f"torch.randn(2, dtype={f}).shape", f"torch.rand(2, dtype={f}).shape", f"torch.zeros_like(x, dtype={f})",
            f"torch.randint(3, (2,), dtype={f}).shape", "torch.zeros(2, dtype=np.dtype('int64'))",
            f"torch.full_like(x, 1, dtype={f}).shape", f"torch.empty_like(x, dtype={f}).shape",
            f"torch.ones_like(x, dtype={f}).shape", f"x.new_zeros(2, dtype={f})", f"x.new_ones(2, dtype={f})",
            f"x.new_tensor([1], dtype={f})", f"x.new_full((2,), 1, dtype={f})", f"x.new_empty(2, dtype={f}).shape",
            f"torch.zeros(2, dtype={f}, requires_grad=True)", "torch.zeros(2, dtype=np.float32)",
            "x.new_zeros(2, dtype='float32')", "x.new_tensor([1], dtype=np.float32)",
            "x.new_empty(2, dtype=float).dtype",
            "x.new_ones(2, dtype=torch.int32)", "x.new_ones(2).dtype", "torch.zeros(2, dtype=float)",
            "torch.ones(2, dtype=torch.float16)", f"x.to({f}).dtype", "x.type(np.float32)", f"x.type({f})",
            "x.type(float)", "x.type(int)", "x.type(bool)", "x.type(complex)", "x.type('float')",
            "x.type('torch.float32')",
            "x.type(torch.DoubleTensor).dtype", "x.type(3)", "x.type(torch.float16).dtype", "x.type()",
            "x.type('torch.IntTensor').dtype", "x.type(dtype=torch.int32).dtype", "x.type(torch.nn.Linear)",
        ])
    )  # fmt: skip
