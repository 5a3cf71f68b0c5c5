"""Differences from PyTorch found by QA round 12 (learners' programs: makemore, tutorials' training loops), each
compared bit for bit with PyTorch 2.13 on the cpu: a one-ulp gap in a gradient grows over a training loop into a
different printed loss."""

from __future__ import annotations

import numpy as np
import torch

import engine


def _bits(e: engine.Tensor, t: torch.Tensor) -> None:
    np.testing.assert_array_equal(e.detach().numpy(), t.detach().numpy())


def test_div_divisor_grad_rounds_as_torch() -> None:
    # torch's div_tensor_other_backward: -grad * ((self / other) / other), not -grad * self / (other * other)
    a = [1.3, 2.7, 0.3, 5.1, 7.7, 1e-3]
    b = [0.7, 3.3, 1.9, 2.2, 0.1, 3.0]
    g = [0.9, -1.1, 2.3, 0.4, 1.7, 0.6]
    grads = []
    for T in (torch, engine):
        x, y = T.tensor(a, requires_grad=True), T.tensor(b, requires_grad=True)
        (x / y).backward(T.tensor(g))
        grads.append((x.grad, y.grad))
    _bits(grads[1][0], grads[0][0])
    _bits(grads[1][1], grads[0][1])
