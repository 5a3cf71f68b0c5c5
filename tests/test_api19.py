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


def _tree(fn: object, depth: int = 0) -> str:
    if fn is None:
        return "None"
    kids = ",".join(_tree(f, depth + 1) for f, _ in fn.next_functions) if depth < 6 else ""  # type: ignore[attr-defined]
    name = fn.name().replace("torch::autograd::AccumulateGrad", "A")  # type: ignore[attr-defined]
    return f"{name}({kids})" if kids else name


_MATMUL_SHAPES = [
    ((4, 2, 3), (4, 3, 5)), ((2, 4, 2, 3), (4, 3, 5)), ((4, 2, 3), (3, 5)), ((3,), (4, 3, 5)), ((4, 2, 3), (3,)),
    ((2, 3), (4, 3, 5)), ((1, 2, 3), (1, 3, 5)), ((4, 2, 3), (1, 3, 5)), ((1, 2, 3), (4, 3, 5)),
    ((2, 1, 2, 3), (4, 3, 5)), ((4, 2, 3), (2, 4, 3, 5)), ((3,), (1, 3, 5)), ((2, 4, 3, 5), (5,)),
]


def test_batched_matmul_graph_is_torchs() -> None:
    """matmul with a batch records torch's _matmul_impl graph: UnsafeViewBackward0 over BmmBackward0 over
    ViewBackward0 over ExpandBackward0 (or the folded mm/mv, with its transposes and copies); same gradients."""
    for sa, sb in _MATMUL_SHAPES:
        for ga, gb, tr in ((True, True, False), (True, False, False), (False, True, False), (True, True, True)):
            if tr and (len(sa) < 2 or len(sb) < 2):
                continue
            a0 = torch.randn(sa, dtype=torch.float64)
            b0 = torch.randn(sb, dtype=torch.float64)
            res = []
            for lib in (torch, engine):
                a = lib.tensor(a0.numpy(), requires_grad=ga)
                b = lib.tensor(b0.numpy(), requires_grad=gb)
                x, y = a, b
                if tr:  # operands that are transposed copies: ReshapeAliasBackward0 and copies under the bmm
                    x = a.transpose(-1, -2).contiguous().transpose(-1, -2)
                    y = b.transpose(-1, -2).contiguous().transpose(-1, -2)
                r = x @ y
                r.backward(lib.ones(r.shape, dtype=lib.float64))
                res.append((_tree(r.grad_fn), r.detach().numpy(), [t.grad.numpy() for t in (a, b) if t.requires_grad]))
            (tt, vt, gt), (te, ve, ge) = res
            assert te == tt, (sa, sb, ga, gb, tr)
            assert abs(vt - ve).max() < 1e-12
            for g1, g2 in zip(gt, ge):
                assert abs(g1 - g2).max() < 1e-12
