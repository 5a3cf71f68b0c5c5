"""diagonal (a writable view), diag_embed and fill_diagonal_ against PyTorch: values, views, gradients, nodes."""

from __future__ import annotations

import pytest
from helpers import graph, same, same_error

pytestmark = pytest.mark.usefixtures("device")

CASES = [(0, 0, 1), (1, 0, 1), (-1, 0, 1), (2, 1, 0), (0, 0, 2), (-1, 2, 0), (5, 0, 1), (0, -1, -2)]


@pytest.mark.parametrize("offset,d1,d2", CASES)
def test_diagonal_values_view_grads(offset: int, d1: int, d2: int) -> None:
    def fn(T: object) -> object:
        x = T.arange(24.0).reshape(2, 3, 4).requires_grad_()
        y = x * 1
        d = y.diagonal(offset, d1, d2)
        w = T.arange(1.0, d.numel() + 1).reshape(d.shape)
        (d * w).sum().backward()
        return d, d._base is y, d.shape, d.stride(), x.grad, T.diagonal(x.detach(), offset, d1, d2), graph(d, 2)

    same(fn)


def test_diagonal_writes_through_and_second_order() -> None:
    def fn(T: object) -> object:
        m = T.zeros(3, 3)
        m.diagonal().fill_(1.0)
        m.diagonal(1).add_(T.tensor([5.0, 6.0]))
        x = T.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
        (g,) = T.autograd.grad((x.diagonal() ** 3).sum(), x, create_graph=True)
        g.sum().backward()
        return m, g, x.grad

    same(fn)


@pytest.mark.parametrize("offset", [0, 1, -2])
def test_diag_embed(offset: int) -> None:
    def fn(T: object) -> object:
        v = T.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], requires_grad=True)
        e = T.diag_embed(v, offset)
        (e * T.arange(float(e.numel())).reshape(e.shape)).sum().backward()
        return e, v.grad, v.detach().diag_embed(offset, 0, 2)

    same(fn)


def test_fill_diagonal() -> None:
    def fn(T: object) -> object:
        x = T.arange(12.0).reshape(3, 4).requires_grad_()
        y = (x * 1).fill_diagonal_(0)
        (y * 2).sum().backward()
        cube = T.ones(3, 3, 3).fill_diagonal_(7)
        return y, x.grad, T.zeros(5, 2).fill_diagonal_(1, wrap=True), T.zeros(5, 2).fill_diagonal_(1), cube, graph(y, 1)

    same(fn)


@pytest.mark.parametrize(
    "call",
    [
        lambda T: T.zeros(3).diagonal(),
        lambda T: T.zeros(3, 3).diagonal(0, 1, 1),
        lambda T: T.zeros(2, 3, 4).fill_diagonal_(1),
        lambda T: T.zeros(3).fill_diagonal_(1),
        lambda T: T.ones(2, 2, requires_grad=True).fill_diagonal_(0),
    ],
)
def test_errors(call: object) -> None:
    same_error(call)
