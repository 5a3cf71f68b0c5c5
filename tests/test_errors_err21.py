"""Learner mistakes whose error differed from PyTorch 2.13's (round err21: ~240 short programs, each ending in one
typical mistake, run by `tcli run` and by Python with PyTorch; error type, full message and script line compared).

Each case runs in a tsr program that prints the error's type and message, and in Python with PyTorch: the two
outputs must be equal. The last tests run `tcli run` on a file and check the caret under the failing call."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import warnings
from pathlib import Path

import pytest
from test_lang_torch import run_torch, run_tsr

ROOT = Path(__file__).resolve().parents[1]

_SETUP = """
import torch
import torch.nn as nn
import torch.nn.functional as F
import numpy as np
x = torch.ones(2, 3)
"""


def same_error_as_torch(stmt: str, setup: str = "") -> str:
    src = (
        _SETUP
        + textwrap.dedent(setup)
        + f"""
try:
    {stmt}
    print("no error")
except Exception as e:
    print(type(e).__name__ + ": " + str(e))
"""
    )
    status, out, err = run_tsr(src)
    assert status == 0, err
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        want = run_torch(src)
    assert "no error" not in want, "torch did not raise"
    assert out == want
    return out


# ---- a misspelt keyword: torch's parser names the function; several signatures are all listed ---------------
FACTORY_KEYWORDS = [
    "torch.ones(2, 3, require_grad=True)",
    "torch.zeros(2, foo=1)",
    "torch.empty(2, require_grad=True)",
    "torch.zeros((2,), size=(3,))",
    "torch.randn(2, 3, require_grad=True)",
    "torch.randn((2, 3), require_grad=True)",
    "torch.rand(2, require_grad=True)",
    "torch.arange(5, require_grad=True)",
    "torch.arange(0, 3, require_grad=True)",
    "torch.arange(0.0, 3, 0.5, require_grad=True)",
    "torch.linspace(0, 1, 3, require_grad=True)",
    "torch.linspace(0, 1, require_grad=True)",
    "torch.logspace(0, 1, 3, require_grad=True)",
    "torch.eye(3, require_grad=True)",
    "torch.eye(3, 3, require_grad=True)",
    "torch.randint(0, 3, (2,), require_grad=True)",
    "torch.randint(3, (2,), require_grad=True)",
    "torch.randperm(3, require_grad=True)",
    "torch.rand_like(x, require_grad=True)",
    "torch.randn_like(x, require_grad=True)",
    "torch.randint_like(x, 3, require_grad=True)",
]


@pytest.mark.parametrize("stmt", FACTORY_KEYWORDS)
def test_misspelt_factory_keyword(stmt: str) -> None:
    out = same_error_as_torch(stmt)
    assert out.startswith("TypeError: " + stmt.split("(")[0].split(".")[-1] + "()")


# ---- dtype= given numpy's or a name --------------------------------------------------------------------------
NUMPY_DTYPES = [
    "torch.ones(2, dtype=np.float32)",
    "torch.tensor([1.0], dtype=np.float32)",
    "torch.zeros_like(x, dtype=np.float64)",
    "torch.arange(3, dtype=np.float32)",
    "torch.arange(3, dtype='float32')",
    "torch.randn(2, dtype=np.float32)",
    "torch.rand(2, dtype='float')",
    "x.to(np.float32)",
    "x.to(dtype=np.float32)",
    "x.to(dtype='float32')",
    "x.to(foo=1)",
]


@pytest.mark.parametrize("stmt", NUMPY_DTYPES)
def test_numpy_dtype_refused(stmt: str) -> None:
    same_error_as_torch(stmt)


# ---- a call that leaves out an argument, or gives one too many, in torch's parser's words -------------------
PARSER_ARGS = [
    "x.sum(keepdims=True)",
    "x.mean(keepdims=True)",
    "torch.sum(x, keepdims=True)",
    "torch.mean(x, keepdims=True)",
    "torch.logsumexp(x)",
    "torch.topk(x)",
    "torch.gather(x, 1)",
    "torch.index_select(x, 0)",
    "torch.transpose(x, 0)",
    "torch.unsqueeze(x)",
    "torch.matmul(x)",
    "torch.chunk(x)",
    "torch.cat()",
    "x.masked_fill(x > 0)",
    "x.narrow(0, 1)",
    "x.flatten(0, 1, 2)",
    # numpy's round(x, 2) spelling; item() given an argument
    "x.round(2)",
    "x.clone().round_(2)",
    "torch.round(x, 2)",
    "x.round(decimals=2.5)",
    "x[0, 0].item(0)",
    # a size of several arguments whose first is no int (n = len(x) / 2): the parser counts the rest as extra
    "torch.zeros(3.0, 2)",
    "torch.ones('a', 2)",
    "torch.empty(None, 2, 1)",
    "torch.zeros(2, 3.0)",
    # unbiased= and correction= together
    "x.std(unbiased=False, correction=0)",
    "x.var(correction=0, unbiased=False)",
    "x.std(0, unbiased=False, correction=0)",
    "x.var(dim=0, unbiased=True, correction=1)",
    "x.std(0, True, correction=0)",
    "x.std(True, correction=0)",
]


@pytest.mark.parametrize("stmt", PARSER_ARGS)
def test_parser_argument_errors(stmt: str) -> None:
    same_error_as_torch(stmt)


# ---- shapes, dtypes and devices ------------------------------------------------------------------------------
MISTAKES = [
    # an index of more dims than the tensor has (numpy's words leaked)
    "x[:, None, :, :]",
    "x[..., :, :, :]",
    "x[..., 0, 0, :]",
    "x[:, :, [0]]",
    "x[:, :, torch.tensor([0])]",
    # bmm's kernel, and matmul's with a batch of right-hand matrices, check the dtype in their own words
    "torch.bmm(torch.randn(2, 2, 3).double(), torch.randn(2, 3, 2))",
    "torch.bmm(torch.randn(2, 2, 3), torch.randn(2, 3, 2).long())",
    "torch.randn(2, 2, 3).double() @ torch.randn(2, 3, 2)",
    "torch.randn(2, 3) @ torch.randn(2, 3, 2).double()",
    "torch.kron(x, 2)",
    "torch.kron(1, x)",
    "torch.linalg.vecdot(torch.randn(3), torch.randn(4))",
    "torch.linalg.vecdot(torch.randn(2, 3), torch.randn(2, 4))",
    # linear of a 0-d tensor
    "nn.Linear(3, 2)(torch.tensor(1.0))",
    "F.linear(torch.randn(3), torch.tensor(1.0))",
    # a weight of another dtype than the input's
    "F.nll_loss(torch.randn(4, 3).double(), torch.tensor([0, 1, 2, 1]), weight=torch.ones(3))",
    "F.cross_entropy(torch.randn(4, 3), torch.tensor([0, 1, 2, 1]), weight=torch.ones(3).double())",
    "F.nll_loss(torch.randn(2, 3, 4).double(), torch.zeros(2, 4).long(), weight=torch.ones(3))",
    # convolution: the native kernels' dtype check, or oneDNN's where torch hands the input to it
    "nn.Conv2d(3, 4, 3, bias=False)(torch.randn(1, 3, 8, 8).double())",
    "nn.Conv2d(3, 4, 3, bias=False).double()(torch.randn(1, 3, 8, 8))",
    "nn.Conv1d(3, 4, 3, bias=False)(torch.randn(1, 3, 8).double())",
    "nn.ConvTranspose2d(3, 4, 3)(torch.randn(1, 3, 8, 8).double())",
    "F.conv2d(torch.randn(1, 3, 8, 8).half(), torch.randn(4, 3, 3, 3))",
    "F.conv2d(torch.randn(2, 3, 8, 8), torch.randn(4, 3, 3, 3).double())",
    "F.conv2d(torch.randn(1, 3, 8, 8), torch.randn(4, 3, 4, 4).double())",
    "F.conv2d(torch.randn(1, 3, 8, 8), torch.randn(4, 3, 3, 3).double())",
    "F.conv2d(torch.randn(2, 3, 8, 8), torch.randn(4, 3, 3, 3).bfloat16())",
    "F.conv2d(torch.randn(1, 3, 8, 8).bfloat16(), torch.randn(4, 3, 3, 3).double())",
    # devices: torch names the type alone; an index in the string and one passed; a list's items
    "torch.device('gpu:0')",
    "torch.ones(2, device='gpu:1')",
    "torch.device('cuda:0', 1)",
    "torch.device([1])",
    # a value that broadcasts with the indexing result but does not expand to it (numpy's words leaked)
    "x[torch.tensor([True, False])] = torch.ones(2, 3)",
    "x[torch.tensor([0])] = torch.ones(2, 3)",
    "torch.ones(3).index_put_((torch.tensor([0]),), torch.ones(2))",
    "torch.index_put(x, (torch.tensor([0, 1]),), torch.ones(4, 3))",
    # in-place ops: their own names and checks' order
    "x.masked_scatter_(x.long(), torch.ones(6))",
    "x.scatter_(1, torch.tensor([[0, 1]]), torch.ones(1, 1), reduce='max')",
    "torch.ones(2, 2, 2).t_()",
    # a list added to a torch.Size
    "torch.Size([2, 3]) + [1]",
    "x.shape + [4]",
    # autograd
    "(torch.ones(2, requires_grad=True) * 2).sum().backward(inputs=[])",
    # detach_ of a view, with no graph too
    "torch.ones(3).view(3).detach_()",
    "x.t().detach_()",
    "torch.ones(3, requires_grad=True).detach()[:2].detach_()",
]


@pytest.mark.parametrize("stmt", MISTAKES)
def test_learner_mistake(stmt: str) -> None:
    same_error_as_torch(stmt)


def test_new_tensor_of_a_tensor_warns_in_its_own_words() -> None:
    torch = pytest.importorskip("torch")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        torch.ones(2).new_tensor(torch.ones(2, requires_grad=True))
    (want,) = [str(w.message) for w in caught]
    assert want.endswith("rather than tensor.new_tensor(sourceTensor).")
    status, out, err = run_tsr(
        """
        import torch
        y = torch.ones(2).new_tensor(torch.ones(2, requires_grad=True))
        print(y.requires_grad)
        """
    )
    assert status == 0 and out == "False\n"
    assert err.count("UserWarning") == 1 and f"UserWarning: {want}" in err


# ---- `tcli run`: the error's line, its caret, the exit status -----------------------------------------------
def _tcli_run(tmp_path: Path, src: str) -> subprocess.CompletedProcess:
    script = tmp_path / "mistake.tsr"
    script.write_text(textwrap.dedent(src).lstrip())
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-m", "tcli", "run", str(script)], capture_output=True, text=True, env=env, timeout=120
    )


def test_run_reports_a_misspelt_keyword_under_its_call(tmp_path: Path) -> None:
    r = _tcli_run(
        tmp_path,
        """
        import torch
        w = torch.zeros(3)
        print(w.shape)
        b = torch.randn(3, require_grad=True)
        """,
    )
    assert r.returncode == 1
    assert r.stdout == "torch.Size([3])\n"
    lines = r.stderr.splitlines()
    assert lines[0].endswith(
        "mistake.tsr:4:5: TypeError: randn() received an invalid combination of arguments - got (int, "
        "require_grad=bool), but expected one of:"
    )
    at = lines.index("    4 | b = torch.randn(3, require_grad=True)")
    assert lines[at + 1] == "      |     " + "^" * len("torch.randn(3, require_grad=True)")


def test_run_reports_too_many_indices_under_the_subscript(tmp_path: Path) -> None:
    r = _tcli_run(
        tmp_path,
        """
        import torch
        x = torch.ones(2, 3)
        print(x[:, None].shape)
        y = x[:, None, :, :]
        """,
    )
    assert r.returncode == 1
    assert r.stdout == "torch.Size([2, 1, 3])\n"
    lines = r.stderr.splitlines()
    assert lines[0].endswith("mistake.tsr:4:5: IndexError: too many indices for tensor of dimension 2")
    assert lines[1:3] == ["    4 | y = x[:, None, :, :]", "      |     ^^^^^^^^^^^^^^^^"]
