"""Module backward hooks against PyTorch: register_full_backward_hook / register_full_backward_pre_hook (the
identity BackwardHookFunction around inputs and outputs, what each hook receives and what its return replaces),
the deprecated register_backward_hook on the output's grad_fn, and the errors and warnings around them."""

from __future__ import annotations

import warnings

import pytest
from helpers import same, same_error

pytestmark = pytest.mark.usefixtures("device")


def _quiet(fn: object) -> object:
    def run(T: object) -> object:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return fn(T)

    return run


def test_full_hooks_see_input_and_output_grads_and_pre_hooks_replace_grad_output() -> None:
    def fn(T: object) -> object:
        T.manual_seed(0)
        seen = []
        lin = T.nn.Linear(3, 2)
        lin.register_full_backward_hook(lambda m, gi, go: seen.append((type(m).__name__, gi, go)))
        lin.register_full_backward_pre_hook(lambda m, go: (go[0] * 2,))
        x = T.randn(4, 3, requires_grad=True)
        y = lin(x)
        y.sum().backward()
        return seen[0], x.grad, lin.weight.grad, type(y.grad_fn).__name__, y.grad_fn.name(), y._base is not None

    same(fn)


def test_a_hook_that_returns_grad_input_replaces_it() -> None:
    def fn(T: object) -> object:
        T.manual_seed(1)
        seq = T.nn.Sequential(T.nn.Linear(2, 2), T.nn.ReLU(), T.nn.Linear(2, 1))
        seq[2].register_full_backward_hook(lambda m, gi, go: (gi[0] * 0.5,))
        x = T.randn(3, 2, requires_grad=True)
        seq(x).sum().backward()
        return x.grad, seq[0].weight.grad, seq[2].weight.grad

    same(fn)


def test_no_input_requires_grad_fires_at_the_outputs_and_removed_hooks_do_not_fire() -> None:
    def fn(T: object) -> object:
        seen = []
        lin = T.nn.Linear(3, 1)
        handle = lin.register_full_backward_hook(lambda m, gi, go: seen.append((gi, go)))
        lin(T.ones(2, 3)).sum().backward()
        handle.remove()
        lin(T.ones(2, 3)).sum().backward()
        return seen

    with pytest.warns(UserWarning, match="Full backward hook is firing when gradients are computed"):
        same(fn)


def test_deprecated_backward_hook_sees_the_last_ops_grads() -> None:
    def fn(T: object) -> object:
        T.manual_seed(2)
        seen = []
        m = T.nn.Linear(2, 2)
        m.register_backward_hook(lambda mod, gi, go: seen.append((gi, go)))
        m(T.randn(3, 2, requires_grad=True)).sum().backward()
        return seen

    with pytest.warns(FutureWarning, match="non-full backward hook when the forward contains multiple"):
        same(fn)


def _inplace_on_hooked_output(T: object) -> object:
    m = T.nn.Linear(2, 2)
    m.register_full_backward_hook(lambda *a: None)
    return m(T.randn(1, 2, requires_grad=True)).relu_()


def _both_kinds(T: object) -> object:
    m = T.nn.Linear(2, 2)
    m.register_backward_hook(lambda *a: None)
    m.register_full_backward_hook(lambda *a: None)


def _wrong_count(T: object) -> object:
    m = T.nn.Linear(2, 2)
    m.register_full_backward_hook(lambda mod, gi, go: (gi[0], gi[0]))
    m(T.randn(1, 2, requires_grad=True)).sum().backward()


def _wrong_pre_count(T: object) -> object:
    m = T.nn.Linear(2, 2)
    m.register_full_backward_pre_hook(lambda mod, go: (go[0], go[0]))
    m(T.randn(1, 2, requires_grad=True)).sum().backward()


@pytest.mark.parametrize("fn", [_inplace_on_hooked_output, _both_kinds, _wrong_count, _wrong_pre_count])
def test_errors(fn: object) -> None:
    same_error(_quiet(fn))


def test_custom_function_outputs_returned_as_is_are_views_and_non_differentiable_ones_have_no_grad() -> None:
    def fn(T: object) -> object:
        class Ident(T.autograd.Function):
            @staticmethod
            def forward(ctx, *args):
                ctx.mark_non_differentiable(*[a for a in args if not a.requires_grad])
                return args

            @staticmethod
            def backward(ctx, *args):
                return args

        x = T.ones(2, requires_grad=True)
        a, b = Ident.apply(x, T.ones(2))
        seen = []
        a.grad_fn.register_hook(lambda gi, go: seen.append(go))
        (a * 3).sum().backward()
        return a._base is x, b.requires_grad, b.grad_fn is None, seen, x.grad

    same(fn)
