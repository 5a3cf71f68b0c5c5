"""Autograd semantics against PyTorch: graph structure, leaves, retain_graph, higher-order grads,
autograd.grad, accumulation, hooks, grad modes, in-place rules and version counters."""

from __future__ import annotations

import os
from typing import Any

import numpy as np
import pytest
import torch
from helpers import check, graph, make, same, same_error
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import engine

# every test runs once per device: [cpu] and [cuda] (skipped without a GPU; see conftest.py)
pytestmark = pytest.mark.usefixtures("device")

# ---- graph structure -----------------------------------------------------------------------------------
GRAPHS = [
    lambda T, a, b: (a * b).sum(),
    lambda T, a, b: (a + 2) * (b - 1),
    lambda T, a, b: a.exp().log().sin() / b,
    lambda T, a, b: (a @ b.t()).relu().mean(),
    lambda T, a, b: a.reshape(-1)[1:].pow(2),
    lambda T, a, b: T.cat([a, b], 0).sum(1),
    lambda T, a, b: T.stack([a, b]).max(0).values,
    lambda T, a, b: a.transpose(0, 1).unsqueeze(0).squeeze(0).expand(2, 3, 2),
    lambda T, a, b: T.where(a > 0, a, b).sigmoid().tanh(),
    lambda T, a, b: a.softmax(1).log_softmax(0) + b.abs(),
    lambda T, a, b: a[a > 0] * 2,
    lambda T, a, b: a.detach() * b,
    lambda T, a, b: (a * a).sum() * (a * 3).mean(),
    lambda T, a, b: a.clone().clamp(-1, 1).neg(),
    lambda T, a, b: T.addcmul(a, a, b, value=2).norm(),
    lambda T, a, b: a.var(1) + a.std(0).sum(),
    lambda T, a, b: a.cumsum(0).prod(),
    lambda T, a, b: a.chunk(2, 1)[1] * b.split(1, 1)[0],
    lambda T, a, b: a.float().double().half(),
    lambda T, a, b: a.to(T.float64) + b,
]


@pytest.mark.parametrize("k", range(len(GRAPHS)))
def test_graph_names_and_next_functions(k: int) -> None:
    x, y = make((2, 3), seed=1), make((2, 3), seed=2)
    gs = []
    for T in (torch, engine):
        a, b = T.tensor(x, requires_grad=True), T.tensor(y, requires_grad=True)
        gs.append(graph(GRAPHS[k](T, a, b)))
    assert gs[1] == gs[0]
    check(GRAPHS[k], x, y)  # values and gradients too


def test_next_functions_shape() -> None:
    def fn(T: object) -> object:
        a = T.ones(2, requires_grad=True)
        b = T.ones(2)
        c = a * b + 1
        nf = c.grad_fn.next_functions
        mul = nf[0][0]
        return (
            len(nf), nf[0][1], nf[1][0] is None, mul.name(), len(mul.next_functions),
            mul.next_functions[1][0] is None, mul.next_functions[0][0].name(),
            mul.next_functions[0][0].variable is a,
        )  # fmt: skip

    same(fn)


def test_accumulate_grad_node_is_shared() -> None:
    def fn(T: object) -> object:
        a = T.ones(2, requires_grad=True)
        b, c = a * 2, a * 3
        return b.grad_fn.next_functions[0][0] is c.grad_fn.next_functions[0][0]

    same(fn)


# ---- leaves and requires_grad propagation ----------------------------------------------------------------
def test_is_leaf_and_requires_grad() -> None:
    def fn(T: object) -> object:
        a = T.ones(2, requires_grad=True)
        b = T.ones(2)
        c = a + b
        d = b * 2
        e = c.detach()
        f = a.detach().requires_grad_()
        with T.no_grad():
            g = a * 2
        return [(t.is_leaf, t.requires_grad, t.grad_fn is None) for t in (a, b, c, d, e, f, g)]

    same(fn)


def test_requires_grad_on_non_leaf_errors() -> None:
    same_error(lambda T: setattr(T.ones(2, requires_grad=True) * 2, "requires_grad", False))
    same_error(lambda T: T.ones(2, dtype=T.int64).requires_grad_())
    same_error(lambda T: T.tensor([1, 2], requires_grad=True))
    same(lambda T: ((T.ones(2, requires_grad=True) * 2).requires_grad_(True)).requires_grad)


# ---- retain_graph / backward twice -------------------------------------------------------------------------
def test_backward_twice_error() -> None:
    def fn(T: object) -> None:
        a = T.ones(2, requires_grad=True)
        y = (a * a).sum()
        y.backward()
        y.backward()

    same_error(fn)


def test_backward_twice_through_shared_subgraph() -> None:
    def fn(T: object) -> None:
        a = T.ones(2, requires_grad=True)
        h = a.exp()
        h.sum().backward()
        (h * 2).sum().backward()

    same_error(fn)


def test_retain_graph_accumulates() -> None:
    def fn(T: object, x: object) -> object:
        y = (x * x).sum()
        y.backward(retain_graph=True)
        g1 = x.grad.clone()
        y.backward()
        return g1, x.grad

    check(lambda T, x: fn(T, x.requires_grad_()), make((3,)), grad=False)


def test_backward_without_saved_tensors_runs_twice() -> None:
    # AddBackward saves nothing: torch allows a second pass
    def fn(T: object) -> object:
        a = T.ones(2, requires_grad=True)
        y = (a + 1).sum()
        y.backward()
        y.backward()
        return a.grad

    same(fn)


# ---- create_graph / higher order ---------------------------------------------------------------------------
HIGHER = [
    lambda T, x: x**3,
    lambda T, x: x.sin() * x.exp(),
    lambda T, x: (x * x).sum().sqrt(),
    lambda T, x: x.tanh(),
    lambda T, x: x.sigmoid() * x,
    lambda T, x: x.softmax(0) * T.arange(3.0),
    lambda T, x: x.log_softmax(0)[0],
    lambda T, x: 1 / (x + 3),
    lambda T, x: x.norm(),
    lambda T, x: x.std(),
    lambda T, x: x.cumsum(0) * x,
    lambda T, x: (x.unsqueeze(1) @ x.unsqueeze(0)).sum(),
]


@pytest.mark.parametrize("k", range(len(HIGHER)))
def test_second_and_third_derivatives(k: int) -> None:
    def fn(T: object, x: object) -> object:
        x.requires_grad_()
        y = HIGHER[k](T, x).sum()
        (g,) = T.autograd.grad(y, x, create_graph=True)
        (gg,) = T.autograd.grad(g.sum(), x, create_graph=True)
        (ggg,) = T.autograd.grad(gg.sum(), x, allow_unused=True, materialize_grads=True)
        return g, gg, ggg

    # the backward graph is built from primitive ops, so its node names differ from torch's fused
    # *BackwardBackward nodes: compare values (and that a graph exists), not names
    check(fn, make((3,), "float64", 0.2, 1.5), grad=False, names=False)


def test_backward_create_graph_grad_has_graph() -> None:
    def fn(T: object) -> object:
        x = T.tensor([1.0, 2.0], requires_grad=True)
        y = (x**3).sum()
        y.backward(create_graph=True)
        g = x.grad
        info = (g.requires_grad, g.grad_fn is not None)
        z = (g * g).sum()
        (h,) = T.autograd.grad(z, x)
        return info, g, h

    same(fn)


# ---- autograd.grad -----------------------------------------------------------------------------------------
def test_autograd_grad_values() -> None:
    def fn(T: object, x: object, y: object) -> object:
        z = (x * y).sum() + x.pow(2).sum()
        gx, gy = T.autograd.grad(z, (x, y))
        return gx, gy, x.grad, y.grad

    def with_grad(T: object, x: object, y: object) -> object:
        return fn(T, x.requires_grad_(), y.requires_grad_())

    check(with_grad, make((3,)), make((3,), seed=3), grad=False)


def test_autograd_grad_outputs_and_multiple_outputs() -> None:
    def fn(T: object) -> object:
        x = T.tensor([1.0, 2.0, 3.0], requires_grad=True)
        a, b = x * 2, x.exp()
        return T.autograd.grad([a, b], [x], grad_outputs=[T.ones(3), T.tensor([1.0, 0.0, 2.0])])

    same(fn)


def test_autograd_grad_allow_unused() -> None:
    def fn(T: object) -> object:
        x = T.ones(2, requires_grad=True)
        y = T.ones(2, requires_grad=True)
        z = (x * 2).sum()
        return T.autograd.grad(z, [x, y], allow_unused=True, retain_graph=True), T.autograd.grad(
            z, [x, y], materialize_grads=True
        )

    same(fn)


def test_autograd_grad_unused_error() -> None:
    def fn(T: object) -> None:
        x = T.ones(2, requires_grad=True)
        y = T.ones(2, requires_grad=True)
        T.autograd.grad((x * 2).sum(), [x, y])

    same_error(fn)


def test_autograd_grad_errors() -> None:
    same_error(lambda T: T.autograd.grad(T.ones(2, requires_grad=True).sum(), T.ones(2)))
    same_error(lambda T: T.autograd.grad((T.ones(2, requires_grad=True) * 2), T.ones(2, requires_grad=True)))
    same_error(lambda T: T.autograd.grad(T.ones(2).sum(), T.ones(2, requires_grad=True)))


def test_autograd_grad_does_not_touch_dot_grad() -> None:
    def fn(T: object) -> object:
        x = T.ones(2, requires_grad=True)
        (g,) = T.autograd.grad((x * 3).sum(), x)
        return g, x.grad

    same(fn)


def test_backward_inputs_argument() -> None:
    def fn(T: object) -> object:
        x = T.ones(2, requires_grad=True)
        y = T.ones(2, requires_grad=True)
        (x * y * 2).sum().backward(inputs=[y])
        return x.grad, y.grad

    same(fn)


# ---- accumulation and zeroing ------------------------------------------------------------------------------
def test_grad_accumulates_and_zero() -> None:
    def fn(T: object, x: object) -> object:
        (x * 2).sum().backward()
        a = x.grad.clone()
        (x * x).sum().backward()
        b = x.grad.clone()
        x.grad.zero_()
        c = x.grad.clone()
        (x * 3).sum().backward()
        d = x.grad.clone()
        x.grad = None
        (x * 4).sum().backward()
        return a, b, c, d, x.grad

    check(lambda T, x: fn(T, x.requires_grad_()), make((3,)), grad=False)


def test_grad_of_shared_input() -> None:
    check(lambda T, x: x * x + x, make((4,)))
    check(lambda T, x: (x + x) * x.sum(), make((4,)))


def test_implicit_grad_errors() -> None:
    same_error(lambda T: (T.ones(2, requires_grad=True) * 2).backward())
    same_error(lambda T: T.ones(2).sum().backward())
    same_error(lambda T: (T.ones(2, requires_grad=True) * 2).backward(T.ones(3)))


def test_backward_with_gradient_argument() -> None:
    def fn(T: object, x: object) -> object:
        (x * x).backward(T.tensor([1.0, 0.5, -1.0]))
        return x.grad

    check(lambda T, x: fn(T, x.requires_grad_()), make((3,)), grad=False)


def test_non_leaf_grad_warning_and_retain_grad() -> None:
    def fn(T: object) -> object:
        x = T.ones(2, requires_grad=True)
        y = x * 2
        y.retain_grad()
        z = y * 3
        z.sum().backward()
        return y.grad, y.retains_grad, x.retains_grad, z.retains_grad

    same(fn)
    x = engine.ones(2, requires_grad=True)
    with pytest.warns(UserWarning, match="is not a leaf Tensor is being accessed"):
        assert (x * 2).grad is None


# ---- hooks -------------------------------------------------------------------------------------------------
def test_tensor_hooks() -> None:
    def fn(T: object) -> object:
        seen = []
        x = T.tensor([1.0, 2.0], requires_grad=True)
        y = x * 3
        y.register_hook(lambda g: seen.append(g.clone()))
        h = x.register_hook(lambda g: g * 10)
        (y * y).sum().backward()
        first = x.grad.clone()
        h.remove()
        x.grad = None
        (x * 1).sum().backward()
        return seen, first, x.grad

    same(fn)


def test_hook_replaces_gradient_flowing_on() -> None:
    def fn(T: object) -> object:
        x = T.tensor([1.0, 2.0], requires_grad=True)
        y = x * 2
        y.register_hook(lambda g: g * 0 + 1)
        (y * 5).sum().backward()
        return x.grad

    same(fn)


def test_hook_on_tensor_without_grad_errors() -> None:
    same_error(lambda T: T.ones(2).register_hook(lambda g: g))
    same_error(lambda T: T.ones(2).retain_grad())


# ---- grad modes --------------------------------------------------------------------------------------------
def test_grad_mode_context_managers() -> None:
    def fn(T: object) -> object:
        x = T.ones(2, requires_grad=True)
        out = [T.is_grad_enabled()]
        with T.no_grad():
            out.append((T.is_grad_enabled(), (x * 2).requires_grad))
            with T.enable_grad():
                out.append((T.is_grad_enabled(), (x * 2).requires_grad))
            out.append(T.is_grad_enabled())
        with T.set_grad_enabled(False):
            out.append((x * 2).requires_grad)
        with T.set_grad_enabled(True):
            out.append((x * 2).requires_grad)
        out.append(T.is_grad_enabled())
        return out

    same(fn)


def test_grad_mode_decorators() -> None:
    def fn(T: object) -> object:
        x = T.ones(2, requires_grad=True)

        @T.no_grad()
        def f(v: object) -> object:
            return v * 2

        @T.enable_grad()
        def g(v: object) -> object:
            return v * 2

        @T.no_grad()
        def h(v: object) -> object:
            return g(v)

        r = [f(x).requires_grad, g(x).requires_grad, h(x).requires_grad, T.is_grad_enabled()]
        T.set_grad_enabled(False)
        r.append((x * 2).requires_grad)
        T.set_grad_enabled(True)
        r.append((x * 2).requires_grad)
        return r

    same(fn)


def test_grad_mode_restored_after_exception() -> None:
    for T in (torch, engine):
        with pytest.raises(ValueError):
            with T.no_grad():
                raise ValueError
        assert T.is_grad_enabled()


# ---- in-place rules ----------------------------------------------------------------------------------------
INPLACE_ON_LEAF = [
    lambda x: x.add_(1),
    lambda x: x.mul_(2),
    lambda x: x.zero_(),
    lambda x: x.fill_(3),
    lambda x: x.clamp_(0, 1),
    lambda x: x.copy_(x.detach() * 2),
    lambda x: x.__setitem__(0, 5.0),
    lambda x: x.__iadd__(1),
    lambda x: x.sub_(1),
    lambda x: x.div_(2),
]


@pytest.mark.parametrize("k", range(len(INPLACE_ON_LEAF)))
def test_leaf_inplace_error_before_data_changes(k: int) -> None:
    def fn(T: object) -> None:
        x = T.tensor([1.0, 2.0, 3.0], requires_grad=True)
        INPLACE_ON_LEAF[k](x)

    same_error(fn)

    def after(T: object) -> object:
        x = T.tensor([1.0, 2.0, 3.0], requires_grad=True)
        try:
            INPLACE_ON_LEAF[k](x)
        except RuntimeError:
            pass
        return x.detach(), x._version

    assert_versions_equal(after)


def assert_versions_equal(fn: object) -> None:
    t, e = fn(torch), fn(engine)
    np.testing.assert_array_equal(e[0].cpu().numpy(), t[0].numpy())
    assert e[1] == t[1]


@pytest.mark.parametrize("k", range(len(INPLACE_ON_LEAF)))
def test_view_of_leaf_inplace_error(k: int) -> None:
    def fn(T: object) -> None:
        x = T.tensor([[1.0, 2.0, 3.0]], requires_grad=True)
        INPLACE_ON_LEAF[k](x[0])

    same_error(fn)


@pytest.mark.parametrize("k", range(len(INPLACE_ON_LEAF)))
def test_inplace_allowed_under_no_grad(k: int) -> None:
    def fn(T: object) -> object:
        x = T.tensor([1.0, 2.0, 3.0], requires_grad=True)
        with T.no_grad():
            INPLACE_ON_LEAF[k](x)
        return x.detach(), x.requires_grad, x.is_leaf

    same(fn)


def test_version_counter_error_message() -> None:
    def fn(T: object) -> None:
        a = T.tensor([1.0, 2.0], requires_grad=True)
        b = a * 1
        c = b * b  # saves b
        b.add_(1)
        c.sum().backward()

    same_error(fn)

    def fn2(T: object) -> None:
        a = T.tensor([1.0, 2.0], requires_grad=True)
        y = a.exp()  # saves its output
        y.mul_(2)
        y.sum().backward()

    same_error(fn2)

    def fn3(T: object) -> None:
        a = T.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
        w = T.ones(2, 2)
        y = a @ w  # saves w
        w[0, 0] = 5
        y.sum().backward()

    same_error(fn3)

    def fn4(T: object) -> None:
        a = T.tensor([1.0, 2.0], requires_grad=True, dtype=T.float64)
        b = a.sigmoid()
        c = b.tanh()
        b += 1
        c.sum().backward()

    same_error(fn4)


def test_versions_bumped_like_torch() -> None:
    def fn(T: object) -> list:
        x = T.zeros(3)
        v = [x._version]
        ops = (lambda: x.add_(1), lambda: x.__setitem__(0, 2), lambda: x.mul_(1), lambda: x.zero_(),
               lambda: x.fill_(1), lambda: x.copy_(T.ones(3)), lambda: x.clamp_(0, 1))  # fmt: skip
        for op in ops:
            op()
            v.append(x._version)
        return v

    assert fn(engine) == fn(torch)


def test_views_share_version_counter() -> None:
    def fn(T: object) -> list:
        base = T.zeros(2, 3)
        views = [
            base[0],
            base.view(6),
            base.t(),
            base.reshape(3, 2),
            base.unsqueeze(0),
            base[:, 1:],
            base.detach(),
        ]
        ver = lambda t: t._version  # noqa: E731
        out = []
        for v in views:
            before = ver(base)
            v.add_(1)
            out.append((ver(base) - before, ver(v)))
        return out

    assert fn(engine) == fn(torch)


def test_inplace_on_view_updates_base_graph() -> None:
    def fn(T: object, a: object) -> object:
        x = a * 1
        x[0].mul_(2)
        x[:, 1] += 3
        return x.sum(1)

    check(fn, make((2, 3)))

    def fn2(T: object, a: object) -> object:
        x = a.clone()
        v = x.view(6)
        v.mul_(2)
        return x, v * 1

    # torch regenerates the view's grad_fn as AsStridedBackward0 after the in-place op; the engine
    # keeps the op's node on the view, so only the base's graph and the values are compared by name
    check(fn2, make((2, 3)), names=False)
    check(lambda T, a: fn2(T, a)[0], make((2, 3)))


def test_inplace_correct_gradients() -> None:
    def fn(T: object, a: object, b: object) -> object:
        x = a.exp()
        x.mul_(b)
        x.add_(b, alpha=2)
        x.sub_(1)
        x.div_(b + 3)
        return x

    check(fn, make((3,)), make((3,), seed=4))


def test_detach_shares_storage_not_graph() -> None:
    def fn(T: object) -> object:
        a = T.tensor([1.0, 2.0], requires_grad=True)
        b = a * 2
        d = b.detach()
        d.zero_()
        return b, d.requires_grad, d.is_leaf

    same(fn)


# ---- random op chains: values, gradients and node names -----------------------------------------------
def _dim(x: object) -> int:
    return x.dim()


CHAIN_UNARY = [
    lambda T, x: x.exp() * 0.1,
    lambda T, x: x.tanh(),
    lambda T, x: x.sigmoid(),
    lambda T, x: x.relu(),
    lambda T, x: x.abs(),
    lambda T, x: -x,
    lambda T, x: x.sin(),
    lambda T, x: x * x,
    lambda T, x: x**2,
    lambda T, x: x.clamp(-1, 1),
    lambda T, x: (x.abs() + 0.5).log(),
    lambda T, x: (x.abs() + 0.5).sqrt(),
    lambda T, x: 1 / (x.abs() + 1),
    lambda T, x: 2 - x,
    lambda T, x: x.clone(),
    lambda T, x: x.t() if _dim(x) == 2 else x,
    lambda T, x: x.unsqueeze(0).squeeze(0),
    lambda T, x: x.flip(0) if _dim(x) else x,
    lambda T, x: x.cumsum(-1) if _dim(x) else x,
    lambda T, x: x.softmax(-1) if _dim(x) else x,
    lambda T, x: x.log_softmax(-1) if _dim(x) else x,
    lambda T, x: x[..., :1] * x if _dim(x) else x,
    lambda T, x: T.where(x > 0, x, x * 0.1),
    lambda T, x: x.masked_fill(x > 0.5, 0.0),
    lambda T, x: x.max(-1, keepdim=True).values * x if _dim(x) else x,
    lambda T, x: x - x.mean(-1, keepdim=True) if _dim(x) else x,
    lambda T, x: x / (x.norm() + 1),
    lambda T, x: T.stack([x, x.exp()]).sum(0),
    lambda T, x: x.reshape(-1).reshape(x.shape),
    lambda T, x: x.expand(2, *x.shape).sum(0),
    lambda T, x: x.prod(-1, keepdim=True) if _dim(x) else x,
    lambda T, x: x.sort(-1).values if _dim(x) else x,
    lambda T, x: (x @ x.t()) if _dim(x) == 2 else x,
    lambda T, x: T.addcmul(x, x, x, value=0.5),
    lambda T, x: x.index_select(-1, T.tensor([0, 0])) if _dim(x) else x,
    lambda T, x: T.maximum(x, x.flip(-1) if _dim(x) else x),
]
CHAIN_BINARY = [
    lambda T, x, y: x + y,
    lambda T, x, y: x * y,
    lambda T, x, y: x - y,
    lambda T, x, y: x / (y.abs() + 1),
    lambda T, x, y: T.maximum(x, y),
    lambda T, x, y: T.atan2(x, y),
    lambda T, x, y: T.sub(x, y, alpha=0.5),
    lambda T, x, y: T.where(x > y, x, y),
    lambda T, x, y: (x.abs() + 0.5) ** y.clamp(-1, 1),
]
FUZZ = settings(
    max_examples=int(os.environ.get("ENGINE_EXAMPLES", "25")),
    deadline=None,
    suppress_health_check=list(HealthCheck),
)


@given(
    shape=st.sampled_from([(2, 3), (3,), (), (2, 2), (1, 3)]),
    ops=st.lists(st.integers(0, len(CHAIN_UNARY) - 1), min_size=4, max_size=4),
    bi=st.integers(0, len(CHAIN_BINARY) - 1),
    seed=st.integers(0, 2**16),
)
@FUZZ
def test_random_op_chains(shape: tuple, ops: list, bi: int, seed: int) -> None:
    def fn(T: object, a: object, b: object) -> object:
        x = a
        for k, o in enumerate(ops):
            x = CHAIN_UNARY[o](T, x)
            if k == 1:
                x = CHAIN_BINARY[bi](T, x, b)
        return x

    check(fn, make(shape, "float64", seed=seed), make(shape, "float64", seed=seed + 1))


# ---- more autograd corners ------------------------------------------------------------------------------
def _leaf_backward(T: object) -> object:
    x = T.tensor(2.0, requires_grad=True)
    x.backward()
    y = T.tensor([2.0, 3.0], requires_grad=True)
    y.backward(T.tensor([1.0, 5.0]))
    return x.grad, y.grad


def _grad_of_self(T: object) -> object:
    x = T.tensor([2.0, 3.0], requires_grad=True)
    return T.autograd.grad(x.sum(), x), T.autograd.grad(x, x, T.ones(2))


def _retain_grad_twice(T: object) -> object:
    x = T.tensor([2.0, 3.0], requires_grad=True)
    y = x * 2
    y.retain_grad()
    z = (y * y).sum()
    z.backward(retain_graph=True)
    g1 = y.grad.clone()
    z.backward()
    return g1, y.grad, x.grad


def _hook_order(T: object) -> object:
    seen = []
    x = T.tensor([2.0, 3.0], requires_grad=True)
    y = x * 2
    y.register_hook(lambda g: seen.append("a") or g * 2)
    y.register_hook(lambda g: seen.append("b") or g + 1)
    y.retain_grad()
    (y * 1).sum().backward()
    return seen, y.grad, x.grad


def _retain_then_hook(T: object) -> object:
    x = T.tensor([2.0, 3.0], requires_grad=True)
    y = x * 2
    y.retain_grad()
    y.register_hook(lambda g: g * 10)  # torch runs retain_grad's hook last: y.grad sees the * 10
    (y * 1).sum().backward()
    return y.grad, x.grad


def _leaf_hook_accumulates(T: object) -> object:
    x = T.tensor([2.0, 3.0], requires_grad=True)
    x.register_hook(lambda g: g * 3)
    (x * 2).sum().backward()
    (x * 2).sum().backward()
    return x.grad


def _grad_mode_in_hook(T: object) -> object:
    out = []
    x = T.tensor([2.0], requires_grad=True)
    x.register_hook(lambda g: out.append(T.is_grad_enabled()))
    (x * 2).sum().backward()
    return out


def _grad_outputs_cast(T: object) -> object:
    x = T.tensor([2.0, 3.0], requires_grad=True)
    a = T.autograd.grad(x * 2, x, grad_outputs=T.tensor([1.0, 2.0], dtype=T.float64))
    (x * 2).backward(T.tensor([1, 2]))
    return a, x.grad


def _grad_outputs_with_none(T: object) -> object:
    x = T.tensor([2.0, 3.0], requires_grad=True)
    return T.autograd.grad([x.sum(), (x * 2).sum()], x, grad_outputs=[None, T.tensor(3.0)])


def _double_backward_into_grad(T: object) -> object:
    x = T.tensor([2.0, 3.0], requires_grad=True)
    (g,) = T.autograd.grad((x**3).sum(), x, create_graph=True)
    g.sum().backward()
    y = T.tensor([2.0, 3.0], requires_grad=True)
    (y**2).sum().backward(create_graph=True)
    return x.grad, y.grad, y.grad.requires_grad


def _inplace_on_grad(T: object) -> object:
    x = T.tensor([2.0, 3.0], requires_grad=True)
    (x * 2).sum().backward()
    x.grad.mul_(0.5)
    (x * 2).sum().backward()
    return x.grad


def _views_graph(T: object) -> object:
    a = T.arange(12.0).reshape(3, 4).requires_grad_()
    b = a[1:].t()[::2]
    c = T.arange(6.0, requires_grad=True).reshape(2, 3)
    return b, graph(b), c.is_leaf, graph(c)


@pytest.mark.parametrize(
    "fn",
    [
        _leaf_backward, _grad_of_self, _retain_grad_twice, _hook_order, _retain_then_hook,
        _leaf_hook_accumulates, _grad_mode_in_hook, _grad_outputs_cast, _grad_outputs_with_none,
        _double_backward_into_grad, _inplace_on_grad, _views_graph,
    ],
)  # fmt: skip
def test_autograd_corners(fn: object) -> None:
    same(fn)


def _set_grad_shape(T: object) -> None:
    T.tensor([2.0, 3.0], requires_grad=True).grad = T.ones(3)


def _set_grad_dtype(T: object) -> None:
    T.tensor([2.0, 3.0], requires_grad=True).grad = T.ones(2, dtype=T.float64)


def _detach_inplace_then_backward(T: object) -> None:
    a = T.tensor([1.0, 2.0], requires_grad=True)
    b = a.sigmoid()
    b.detach().zero_()  # shares the version counter: backward sees the change
    b.sum().backward()


def _no_grad_view_inplace(T: object) -> None:
    a = T.tensor([1.0, 2.0], requires_grad=True)
    with T.no_grad():
        v = a[:1]
    v.mul_(2)


@pytest.mark.parametrize("fn", [_set_grad_shape, _set_grad_dtype, _detach_inplace_then_backward, _no_grad_view_inplace])
def test_autograd_corner_errors(fn: object) -> None:
    same_error(fn)


def _anomaly_nan(T: object) -> object:
    x = T.tensor([0.0, 1.0], requires_grad=True)
    with T.autograd.detect_anomaly():
        (T.sqrt(x) * 0).sum().backward()


def test_anomaly_mode_names_the_node_that_returned_nan() -> None:
    import warnings

    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        same_error(_anomaly_nan)
    texts = [str(x.message) for x in w]
    assert (
        texts.count(
            "Anomaly Detection has been enabled. This mode will increase the runtime and should only be enabled for "
            "debugging."
        )
        == 2
    )  # (once per library)
    errors = [t for t in texts if t.startswith("Error detected in SqrtBackward0. Traceback of forward call")]
    assert len(errors) == 2 and all("(T.sqrt(x) * 0).sum().backward()" in t for t in errors)
    assert not engine.is_anomaly_enabled()


def test_anomaly_flags_and_check_nan_off() -> None:
    def fn(T: object) -> object:
        x = T.tensor([0.0, 1.0], requires_grad=True)
        flags = [T.is_anomaly_enabled()]
        with T.autograd.set_detect_anomaly(True, check_nan=False):
            flags += [T.is_anomaly_enabled(), T.is_anomaly_check_nan_enabled()]
            (T.sqrt(x) * 0).sum().backward()
        T.autograd.set_detect_anomaly(True)
        flags.append(T.is_anomaly_enabled())
        T.autograd.set_detect_anomaly(False)
        return flags, x.grad

    same(fn)


def _inference_tensor(T: object) -> object:
    with T.inference_mode():
        return T.ones(3) * 2


@pytest.mark.parametrize(
    "fn",
    [
        lambda T: _inference_tensor(T).requires_grad_(True),
        lambda T: _inference_tensor(T).add_(1),
        lambda T: T.add(T.ones(3), 1, out=_inference_tensor(T)),
        lambda T: _inference_tensor(T).mul(T.ones(3, requires_grad=True)),
        lambda T: T.nn.Linear(3, 2)(_inference_tensor(T)).sum().backward(),
    ],
)
def test_inference_tensors_outside_inference_mode(fn: object) -> None:
    same_error(fn)


def test_inference_tensors_still_compute_outside_it() -> None:
    def fn(T: object) -> object:
        t = _inference_tensor(T)
        w = T.ones(3, requires_grad=True)
        (t + w).sum().backward()  # (an add saves nothing)
        with T.no_grad():
            y = T.nn.Linear(3, 2)(t)
        return t * 2, t[0], t.clone().add_(1), w.grad, y.shape, t.is_inference(), t.clone().is_inference()

    same(fn)


def test_mm_backward_keeps_the_sign_of_zero_over_an_inner_dim_of_one() -> None:
    # Linear(n, 1) with a zero upstream gradient: torch's gemm gives -0. where the weight is negative
    got = []
    for T in (torch, engine):
        w = T.tensor([[-0.5, 0.3, -0.4]])
        x = T.ones(2, 3, requires_grad=True)
        T.nn.functional.linear(x, w).backward(T.zeros(2, 1))
        y = T.ones(2, 1, requires_grad=True)
        T.mm(y, w).backward(T.zeros(2, 3) - 0.0)
        got.append((str(x.grad.cpu()), str(y.grad.cpu())))
    assert got[1] == got[0]


def test_post_accumulate_grad_hooks_match_torch() -> None:
    """register_post_accumulate_grad_hook: run after backward accumulates a leaf's .grad (not by autograd.grad),
    removable, the optimizer-in-backward pattern; torch's errors for a result and for the wrong tensors."""

    def fn(T: Any) -> list:
        seen: list = []
        w = T.ones(2, requires_grad=True)
        h = w.register_post_accumulate_grad_hook(lambda p: seen.append(p.grad.tolist()))
        (w * 3).sum().backward()
        h.remove()
        (w * 3).sum().backward()
        u = T.ones(2, requires_grad=True)
        u.register_post_accumulate_grad_hook(lambda p: seen.append("u"))
        seen.append(T.autograd.grad((u * 2).sum(), u)[0].tolist())
        m = T.nn.Linear(2, 1)
        opts = {p: T.optim.SGD([p], lr=0.1) for p in m.parameters()}

        def step(p: Any) -> None:
            opts[p].step()
            opts[p].zero_grad()

        for p in m.parameters():
            p.register_post_accumulate_grad_hook(step)
        before = m.weight.detach().clone()
        m(T.ones(3, 2)).sum().backward()
        seen += [w.grad.tolist(), (m.weight - before).tolist(), m.weight.grad]
        return seen

    same(fn)
    for make_tensor in (lambda T: T.ones(2), lambda T: T.ones(2, requires_grad=True) * 2):
        same_error(lambda T, mk=make_tensor: mk(T).register_post_accumulate_grad_hook(lambda p: None))
    for result in (5, "tensor"):

        def bad(T: Any, result: Any = result) -> None:
            v = T.ones(2, requires_grad=True)
            v.register_post_accumulate_grad_hook(lambda p: p.grad.mul_(2) if result == "tensor" else result)
            (v * 2).sum().backward()

        same_error(bad)
