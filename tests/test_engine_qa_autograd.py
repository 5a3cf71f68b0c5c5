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


CUMPROD_INPUTS = [[2.0, 0.0, 3.0], [0.0, 2.0, 3.0, 0.0, 5.0], [1.5, -2.0, 0.0, 4.0, 0.0, 2.0], [3.0, 4.0], [0.0]]


@pytest.mark.parametrize("vals", CUMPROD_INPUTS)
def test_cumprod_grad_with_zeros_first_and_second_order(vals: list) -> None:
    def fn(T: object) -> object:
        x = T.tensor(vals, requires_grad=True)
        w = T.arange(1.0, len(vals) + 1)
        (g,) = T.autograd.grad((x.cumprod(0) * w).sum(), x, create_graph=True)
        (g * w).sum().backward()
        x2 = T.tensor(vals, requires_grad=True)
        (x2.cumprod(0) * w).sum().backward()
        return g.detach(), x.grad, x2.grad

    same(fn)


@pytest.mark.parametrize("dim", [0, 1])
def test_cumprod_grad_with_zeros_2d(dim: int) -> None:
    def fn(T: object) -> object:
        m = T.tensor([[1.0, 0.0, 2.0], [0.0, 3.0, 0.0], [2.0, 2.0, 2.0]], requires_grad=True)
        (m.cumprod(dim) * T.arange(9.0).reshape(3, 3)).sum().backward()
        return m.grad

    same(fn)


def test_masked_fill_broadcasts_input() -> None:
    def fn(T: object) -> object:
        x = T.tensor([[1.0], [2.0], [3.0]], requires_grad=True)
        y = x.masked_fill(T.eye(3).bool(), 0.0)
        (y * T.arange(9.0).reshape(3, 3)).sum().backward()
        return y, x.grad

    same(fn)
    same_error(lambda T: T.ones(3, 2).masked_fill(T.ones(3, 3) > 0, 1.0))
    same_error(lambda T: T.ones(3, 1).masked_fill_(T.eye(3).bool(), 0.0))


def _x(T: object) -> object:
    return T.ones(2, requires_grad=True)


GRADIENT_ARGUMENT_ERRORS = [
    lambda T: (_x(T) * 2).backward([1.0, 3.0]),
    lambda T: (_x(T) * 2).backward(2.0),
    lambda T: (_x(T) * 2).sum().backward(2.0),
    lambda T: T.autograd.grad(_x(T) * 2, _x(T), [1.0, 1.0]),
    lambda T: T.autograd.grad((_x(T) * 2).sum(), _x(T), 3.0),
    lambda T: T.autograd.backward([_x(T) * 2, _x(T) * 3], [T.ones(2)]),
    lambda T: T.autograd.grad([_x(T).sum(), _x(T).sum()], _x(T), [T.tensor(1.0)]),
]


@pytest.mark.parametrize("i", range(len(GRADIENT_ARGUMENT_ERRORS)))
def test_gradient_arguments_must_be_tensors(i: int) -> None:
    same_error(GRADIENT_ARGUMENT_ERRORS[i])


def test_extra_gradients_are_ignored_as_torch_zips() -> None:
    def fn(T: object) -> object:
        x = T.ones(2, requires_grad=True)
        T.autograd.backward(x * 2, [T.ones(2), T.ones(2)])
        (x * 3).backward((T.tensor([1.0, 2.0]),))
        return x.grad

    same(fn)


def test_variable_shares_memory_and_sets_requires_grad() -> None:
    def fn(T: object) -> object:
        from_data = T.tensor([1.0, 2.0])
        v = T.autograd.Variable(from_data, requires_grad=True)
        (v * v).sum().backward()
        w = T.autograd.Variable(from_data)
        w[0] = 5.0
        return v, v.grad, from_data, isinstance(T.ones(1), T.autograd.Variable), isinstance(3, T.autograd.Variable)

    same(fn)
    same_error(lambda T: T.autograd.Variable([1.0, 2.0]))


def test_no_grad_without_call_names_type() -> None:
    def fn(T: object) -> None:
        with T.no_grad:
            pass

    same_error(fn)


def _set_rg(t: object, value: object) -> None:
    t.requires_grad = value


REQUIRES_GRAD_ERRORS = [
    lambda T: _set_rg(_x(T) * 2, True),
    lambda T: _set_rg(_x(T) * 2, False),
    lambda T: _set_rg(_x(T), 1),
    lambda T: _set_rg(_x(T), None),
    lambda T: _x(T).requires_grad_("yes"),
    lambda T: _x(T).requires_grad_(1),
    lambda T: (_x(T) * 2).requires_grad_(False),
    lambda T: T.tensor([1.0], requires_grad=1),
    lambda T: T.tensor([1.0], requires_grad=None),
    lambda T: T.ones(2, requires_grad=1),
    lambda T: T.full((2,), 1.0, requires_grad=1),
    lambda T: T.ones_like(_x(T), requires_grad=1),
    lambda T: T.empty(2, requires_grad="no"),
]


@pytest.mark.parametrize("i", range(len(REQUIRES_GRAD_ERRORS)))
def test_requires_grad_flags_are_checked(i: int) -> None:
    same_error(REQUIRES_GRAD_ERRORS[i])


BROADCAST_ORDER_ERRORS = [
    lambda T: T.ones(3, 2).lerp(T.ones(3, 3), 0.3),
    lambda T: T.ones(3, 2).lerp(T.ones(3, 2), T.ones(3, 3)),
    lambda T: T.addcmul(T.ones(3, 2), T.ones(3, 3), T.ones(3, 2)),
    lambda T: T.addcdiv(T.ones(3, 2), T.ones(3, 3), T.ones(3, 2)),
    lambda T: T.ones(3, 2).masked_fill(T.ones(3, 3) > 0, 1.0),
]


@pytest.mark.parametrize("i", range(len(BROADCAST_ORDER_ERRORS)))
def test_broadcast_errors_name_operands_in_torch_order(i: int) -> None:
    same_error(BROADCAST_ORDER_ERRORS[i])


def test_plain_backward_after_create_graph_keeps_grad_graph() -> None:
    import warnings

    def fn(T: object) -> object:
        x = T.tensor([1.0, 2.0], requires_grad=True)
        y = (x**3).sum()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            y.backward(create_graph=True)
        y.backward()
        return x.grad

    same(fn)


def test_next_functions_name_the_output_of_multi_output_ops() -> None:
    import re

    def fn(T: object) -> object:
        x = T.arange(6.0).requires_grad_()
        _, _, c = x.split(2)
        u = x.view(2, 3).unbind()[1]
        return re.sub(r"0x[0-9a-f]+", "", str(((c * 2).grad_fn.next_functions, (u * 1).grad_fn.next_functions)))

    same(fn)


def test_small_autograd_texts_and_handles() -> None:
    import re

    def fn(T: object) -> object:
        x = T.tensor([1.0, 2.0], requires_grad=True)
        seen = []
        with x.register_hook(lambda g: seen.append(1)):
            pass
        (x * 2).sum().backward()
        return re.sub(r"0x[0-9a-f]+", "", repr((x // 1).grad_fn)), len(seen), x.grad

    same(fn)

    def set_grad(T: object) -> None:
        T.ones(2, requires_grad=True).grad = [1.0, 2.0]

    same_error(set_grad)

    def set_data(T: object) -> None:
        T.ones(2, requires_grad=True).data = T.tensor([1, 2])

    same_error(set_data)


def test_grad_fn_pre_and_post_hooks() -> None:
    """grad_fn.register_prehook(fn(grad_outputs)) and register_hook(fn(grad_inputs, grad_outputs)), after the
    tensor's own hooks; each may return a replacement tuple, and the handles remove them."""

    def fn(T: object) -> object:
        seen = []
        x = T.tensor([1.0, 2.0], requires_grad=True)
        b = T.tensor([3.0], requires_grad=True)
        y = x * b
        z = y.sum()
        h1 = y.grad_fn.register_hook(lambda gi, go: seen.append(("post", [g.tolist() for g in gi], go[0].tolist())))
        h2 = y.grad_fn.register_prehook(lambda go: (seen.append(("pre", go[0].tolist())), (go[0] * 10,))[1])
        y.register_hook(lambda g: seen.append(("tensor", g.tolist())))
        z.backward(retain_graph=True)
        first = (x.grad.clone(), b.grad.clone())
        h1.remove()
        h2.remove()
        x.grad = b.grad = None
        y.grad_fn.register_hook(lambda gi, go: (gi[0] * 0, gi[1]))
        z.backward()
        return str(seen), first, x.grad, b.grad

    same(fn)
