"""Differences from PyTorch found by differential QA passes over autograd and ops (session 5): the nodes torch
records (F.linear's addmm, tril, scatter_add, ...), gradients at edge values, argument checks. Oracle: PyTorch
2.13 on the cpu; each test compares values, node graphs and error texts with it."""

from __future__ import annotations

import pytest
from helpers import graph, same, same_error

pytestmark = pytest.mark.usefixtures("device")

LINEAR_INPUTS = {
    "1d": lambda T: T.linspace(-1.0, 1.0, 2),
    "2d": lambda T: T.linspace(-1.0, 1.0, 8).reshape(4, 2),
    "3d": lambda T: T.linspace(-1.0, 1.0, 16).reshape(2, 4, 2),
    "2d_transposed": lambda T: T.linspace(-1.0, 1.0, 8).reshape(2, 4).t(),
    "3d_transposed": lambda T: T.linspace(-1.0, 1.0, 16).reshape(2, 4, 2).transpose(0, 1),
    "4d": lambda T: T.linspace(-1.0, 1.0, 32).reshape(2, 2, 4, 2),
}


@pytest.mark.parametrize("name", list(LINEAR_INPUTS))
@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("input_grad", [True, False])
def test_linear_records_torch_nodes(name: str, bias: bool, input_grad: bool) -> None:
    def fn(T: object) -> object:
        W = T.tensor([[1.0, 2.0], [3.0, -4.0], [5.0, 6.0]], requires_grad=True)
        b = T.tensor([0.5, -0.5, 1.0], requires_grad=True) if bias else None
        x = LINEAR_INPUTS[name](T).requires_grad_(input_grad)
        y = T.nn.functional.linear(x, W, b)
        (y * y).sum().backward()
        return y, graph(y, 4), W.grad, b.grad if bias else None, x.grad

    same(fn)


@pytest.mark.parametrize("beta,alpha", [(1, 1), (2, 3), (0.5, -1), (0, 1)])
def test_addmm_values_grads_and_node(beta: float, alpha: float) -> None:
    def fn(T: object) -> object:
        b = T.tensor([0.5, -0.5, 1.0], requires_grad=True)
        m1 = T.linspace(-2.0, 2.0, 8).reshape(4, 2).requires_grad_()
        m2 = T.tensor([[1.0, 2.0, 0.0], [3.0, -4.0, 1.0]], requires_grad=True)
        r = T.addmm(b, m1, m2, beta=beta, alpha=alpha)
        (r * r).sum().backward()
        return r, graph(r, 2), b.grad, m1.grad, m2.grad

    same(fn)


def test_addmm_second_order() -> None:
    def fn(T: object) -> object:
        b = T.tensor([[0.5], [-0.5]], requires_grad=True)
        m1 = T.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
        m2 = T.tensor([[1.0, -1.0, 2.0], [0.5, 0.0, 1.0]], requires_grad=True)
        r = T.addmm(b, m1, m2, alpha=2)
        g1, g2 = T.autograd.grad((r**2).sum(), (m1, m2), create_graph=True)
        (g1.sum() + g2.sum()).backward()
        return g1, g2, b.grad, m1.grad, m2.grad

    same(fn)


ADDMM_ERRORS = [
    lambda T: T.addmm(T.ones(5), T.ones(4, 2), T.ones(2, 3)),
    lambda T: T.addmm(T.ones(3), T.ones(4, 2), T.ones(3, 3)),
    lambda T: T.addmm(T.ones(3), T.ones(4), T.ones(4, 3)),
    lambda T: T.addmm(T.ones(3), T.ones(4, 2), T.ones(2)),
    lambda T: T.addmm(T.ones(3), T.ones(4, 2, dtype=T.float64), T.ones(2, 3)),
    lambda T: T.addmm(T.ones(3), T.ones(4, 2), T.ones(2, 3, dtype=T.float64)),
]


@pytest.mark.parametrize("i", range(len(ADDMM_ERRORS)))
def test_addmm_errors(i: int) -> None:
    same_error(ADDMM_ERRORS[i])
