"""`tcli run` on a program using torch.linalg's LU family and matrix functions, the multi-class margin losses,
CTC, torch.special's Bessel functions, polynomials and zeta, EmbeddingBag, histogram, the window functions and
torch.optim.swa_utils: its stdout is byte for byte what PyTorch prints running the same file."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import run_tsr_and_python

PROGRAM = """\
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.optim.swa_utils import AveragedModel, SWALR, get_ema_multi_avg_fn

torch.manual_seed(0)
A = torch.randn(3, 3) + 3 * torch.eye(3)
b = torch.randn(3, 2)

# LU: factor once, solve twice
LU, pivots = torch.linalg.lu_factor(A)
print(pivots)
x = torch.linalg.lu_solve(LU, pivots, b)
print(torch.allclose(A @ x, b, atol=1e-5))
P, L, U = torch.linalg.lu(A)
print(torch.allclose(P @ L @ U, A, atol=1e-6))
print(torch.linalg.solve_triangular(U, b, upper=True))
print(torch.linalg.matrix_rank(A), torch.linalg.cond(A, 'fro') > 1)
print(torch.linalg.matrix_exp(torch.zeros(2, 2)))
print(torch.linalg.inv_ex(torch.zeros(2, 2)).info)

# a gradient through the factorization
A.requires_grad_()
torch.linalg.lu_factor(A).LU.sum().backward()
print(A.grad.shape, torch.linalg.lu_factor(A).LU.grad_fn.name())

# margin losses, bilinear, embedding bags
scores = torch.tensor([[0.1, 0.2, 0.4, 0.8], [0.5, 0.1, 0.2, 0.3]], requires_grad=True)
loss = F.multi_margin_loss(scores, torch.tensor([3, 0]))
print(loss)
loss.backward()
print(scores.grad)
print(nn.MultiLabelMarginLoss()(scores, torch.tensor([[3, 0, -1, 1], [0, -1, 1, 1]])))
bag = nn.EmbeddingBag.from_pretrained(torch.arange(12.0).reshape(6, 2), mode='sum')
print(bag, bag(torch.tensor([0, 2, 4, 5]), torch.tensor([0, 3])))
print(torch.histogram(torch.tensor([1.0, 2.0, 1.0, 4.0]), bins=3))
print(torch.hann_window(5), torch.bartlett_window(4, periodic=False))

# CTC: padded and concatenated targets
lp = torch.randn(6, 2, 4).log_softmax(2).requires_grad_()
ctc = F.ctc_loss(lp, torch.tensor([[1, 2], [3, 3]]), [6, 5], [2, 2])
ctc.backward()
print(ctc, lp.grad[0])
print(nn.CTCLoss(reduction='none')(lp, torch.tensor([1, 2, 3]), torch.tensor([6, 5]), torch.tensor([2, 1])))

# Bessel functions, orthogonal polynomials, Hurwitz zeta
x = torch.linspace(-3, 3, 5, dtype=torch.float64)
print(torch.special.bessel_j0(x), torch.special.modified_bessel_k1(x.abs() + 0.5), torch.special.airy_ai(x))
print(torch.special.chebyshev_polynomial_t(x / 3, 9))
print(torch.special.hermite_polynomial_h(x, torch.tensor([0, 3])[:, None]))
print(torch.special.zeta(torch.tensor([2.0, 3.0]), 1.0))

# SWA: average a small model, anneal the learning rate
torch.manual_seed(1)
model = nn.Linear(2, 1)
ema = AveragedModel(model, multi_avg_fn=get_ema_multi_avg_fn(0.5))
swa = AveragedModel(model)
opt = torch.optim.SGD(model.parameters(), lr=0.5)
sched = SWALR(opt, swa_lr=0.05, anneal_epochs=2, anneal_strategy='linear')
for step in range(3):
    opt.zero_grad()
    model(torch.ones(1, 2)).pow(2).sum().backward()
    opt.step()
    sched.step()
    ema.update_parameters(model)
    swa.update_parameters(model)
    print(step, sched.get_last_lr(), swa.n_averaged.item())
print(ema.module.weight, swa.module.bias)
"""


def test_tsr_program_prints_pytorchs_output(tmp_path: Path) -> None:
    pytest.importorskip("torch")
    script = tmp_path / "extras.tsr"
    script.write_text(PROGRAM)
    tsr, ref = run_tsr_and_python(script)
    assert (tsr.returncode, tsr.stderr) == (0, "")
    assert tsr.stdout == ref.stdout
