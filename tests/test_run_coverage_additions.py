"""`tcli run` on a program using torch.histogramdd (and torch.return_types.histogramdd), nn.RReLU / F.rrelu /
torch.rrelu under a seed, F.gumbel_softmax, nn.LazyConvTranspose3d and torch.func.linearize: its stdout is byte
for byte what PyTorch prints running the same file."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import run_tsr_and_python

PROGRAM = """\
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.func import linearize

torch.manual_seed(0)
points = torch.tensor([[0., 1.], [1., 0.], [2., 0.], [2., 2.]])
print(torch.histogramdd(points, bins=[3, 3], weight=torch.tensor([1., 2., 4., 8.])))
r = torch.histogramdd(points, bins=2, range=[0., 2., 0., 2.], density=True)
print(r.hist, type(r).__name__, len(r.bin_edges))
print(torch.histogramdd(points, bins=[torch.tensor([0., 1., 2.]), torch.tensor([0., 0.5, 3.])]).hist)

x = torch.randn(8, requires_grad=True)
act = nn.RReLU(0.1, 0.3)
print(act)
y = act(x)
print(y)
y.sum().backward()
print(x.grad)
print(F.rrelu(x.detach(), training=False))
print(torch.rrelu(torch.tensor([-1., 2., -3.]), 0.2, 0.4, True))

logits = torch.tensor([[1.0, 2.0, 0.5], [0.1, 0.2, 3.0]])
print(F.gumbel_softmax(logits, tau=0.5, hard=True))
print(F.gumbel_softmax(logits).argmax(-1))

up = nn.LazyConvTranspose3d(2, 2, stride=2)
print(up)
print(up(torch.ones(1, 3, 2, 2, 2)).shape, up)

def f(a):
    return (a.sin() * 2).sum()

out, jvp_fn = linearize(f, torch.tensor([0.0, 1.0]))
print(out, jvp_fn(torch.tensor([1.0, 1.0])))
"""


def test_tsr_program_prints_pytorchs_output(tmp_path: Path) -> None:
    pytest.importorskip("torch")
    script = tmp_path / "extras.tsr"
    script.write_text(PROGRAM)
    tsr, ref = run_tsr_and_python(script)
    assert (tsr.returncode, tsr.stderr) == (0, "")
    assert tsr.stdout == ref.stdout
