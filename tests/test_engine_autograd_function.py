"""torch.autograd.Function (custom ops with their own backward) against PyTorch: values, gradients, node
names and edges, ctx (saved tensors, needs_input_grad, attributes), and torch's errors for bad gradients."""

from __future__ import annotations

import re

import pytest
import torch

import engine

pytestmark = pytest.mark.usefixtures("device")

ADDRESS = re.compile(r" at 0x[0-9a-f]+")


def _norm(v: object, lib: object) -> object:
    """A value both libraries can be compared on: tensors by contents and autograd metadata."""
    if isinstance(v, (lib.Tensor,)):  # type: ignore[attr-defined]
        fn = v.grad_fn
        return ("tensor", v.detach().cpu().tolist(), str(v.dtype), v.requires_grad, fn.name() if fn else None)
    if isinstance(v, (list, tuple)):
        return type(v).__name__, [_norm(x, lib) for x in v]
    if isinstance(v, BaseException):
        return type(v).__name__, ADDRESS.sub("", str(v))
    return ADDRESS.sub("", repr(v))


def both(scenario) -> None:
    """Run scenario(T) with torch and with the engine; every value it returns (or the error it raises) agrees."""

    def run(lib):
        try:
            return _norm(scenario(lib), lib)
        except Exception as e:  # noqa: BLE001 - the error itself is compared
            return _norm(e, lib)

    want, got = run(torch), run(engine)
    assert got == want


def _functions(T):
    class Exp(T.autograd.Function):
        @staticmethod
        def forward(ctx, i, k):
            result = (i * i + 1) * k  # (a polynomial: exp's last bits differ between torch's and numpy's)
            ctx.save_for_backward(result)
            ctx.k = k
            return result

        @staticmethod
        def backward(ctx, grad_output):
            (result,) = ctx.saved_tensors
            return grad_output * result, None

    class Square(T.autograd.Function):
        @staticmethod
        def forward(ctx, a):
            ctx.save_for_backward(a)
            return a**2

        @staticmethod
        def backward(ctx, g):
            (a,) = ctx.saved_tensors
            return 2 * a * g

    class Two(T.autograd.Function):
        @staticmethod
        def forward(ctx, a):
            return a * 2, a * 3

        @staticmethod
        def backward(ctx, g1, g2):
            return g1 * 2 + g2 * 3

    return Exp, Square, Two


def test_forward_backward_and_ctx() -> None:
    def scenario(T):
        Exp, _, _ = _functions(T)
        x = T.tensor([1.0, 2.0, -0.5], requires_grad=True)
        y = Exp.apply(x, 2.0)
        fn = y.grad_fn
        out = [y, fn.name(), [n.name() for n, _ in fn.next_functions], fn.needs_input_grad, fn.k, fn.saved_tensors]
        y.sum().backward()
        out.append(x.grad)
        try:
            out.append(fn.saved_tensors)
        except RuntimeError as e:
            out.append(str(e))
        z = Exp.apply(T.ones(2), 3)
        out += [z, z.grad_fn]
        return out

    both(scenario)


def test_second_order_through_a_differentiable_backward() -> None:
    def scenario(T):
        _, Square, _ = _functions(T)
        x = T.tensor([[1.0, -2.0], [0.5, 3.0]], dtype=T.float64, requires_grad=True)
        (g,) = T.autograd.grad(Square.apply(x).sum(), x, create_graph=True)
        g.sum().backward()
        return [g, x.grad]

    both(scenario)


def test_gradcheck_of_a_custom_function() -> None:
    _, Square, _ = _functions(engine)
    x = engine.randn(3, 2, dtype=engine.float64, requires_grad=True)
    assert engine.autograd.gradcheck(Square.apply, (x,))


def test_multiple_outputs_run_backward_once_with_every_gradient() -> None:
    calls = []

    def scenario(T):
        class Two(T.autograd.Function):
            @staticmethod
            def forward(ctx, a):
                return a * 2, a * 3

            @staticmethod
            def backward(ctx, g1, g2):
                calls.append(T.__name__)
                return g1 * 2 + g2 * 3

        x = T.tensor([1.0, 2.0], requires_grad=True)
        p, q = Two.apply(x)
        (p.sum() * 2 + q.sum()).backward()
        r = [p, q, x.grad, p.grad_fn.name(), [n.name() for n, _ in q.grad_fn.next_functions]]
        x.grad = None
        p, q = Two.apply(x)
        p.sum().backward()  # q gets no gradient: zeros
        return [*r, x.grad]

    both(scenario)
    assert calls == ["torch", "torch", "engine", "engine"]


def test_materialize_dirty_and_non_differentiable_outputs() -> None:
    def scenario(T):
        seen = []

        class NoMat(T.autograd.Function):
            @staticmethod
            def forward(ctx, a):
                ctx.set_materialize_grads(False)
                return a * 2, a * 3

            @staticmethod
            def backward(ctx, g1, g2):
                seen.append(g2)
                return g1 * 2

        class ArgMax(T.autograd.Function):
            @staticmethod
            def forward(ctx, a):
                idx = a.argmax()
                ctx.mark_non_differentiable(idx)
                ctx.save_for_backward(idx)
                return a.max(), idx

            @staticmethod
            def backward(ctx, gv, gi):
                seen.append(gi)
                (idx,) = ctx.saved_tensors
                return T.zeros(3).index_fill(0, idx, 1.0) * gv

        class Double(T.autograd.Function):
            @staticmethod
            def forward(ctx, a):
                a.mul_(2)
                ctx.mark_dirty(a)
                return a

            @staticmethod
            def backward(ctx, g):
                return g * 2

        x = T.tensor([1.0, 5.0, 2.0], requires_grad=True)
        p, _ = NoMat.apply(x)
        p.sum().backward()
        out = [x.grad, seen[-1]]
        x.grad = None
        v, i = ArgMax.apply(x)
        v.backward()
        out += [v, i, i.requires_grad, x.grad, seen[-1]]
        x.grad = None
        y = x * 1
        before = y._version
        z = Double.apply(y)
        out += [z is y, y.grad_fn.name(), y._version - before, z]
        z.sum().backward()
        out.append(x.grad)
        try:
            Double.apply(x)
        except RuntimeError as e:
            out.append(str(e))
        return out

    both(scenario)


def test_setup_context_style_and_input_returned_unchanged() -> None:
    def scenario(T):
        class Mul(T.autograd.Function):
            @staticmethod
            def forward(a, k):
                return a * k

            @staticmethod
            def setup_context(ctx, inputs, output):
                ctx.k = inputs[1]

            @staticmethod
            def backward(ctx, g):
                return g * ctx.k, None

        class Same(T.autograd.Function):
            @staticmethod
            def forward(ctx, a):
                return a

            @staticmethod
            def backward(ctx, g):
                return g * 10

        x = T.tensor([1.0, 2.0], requires_grad=True)
        o = Mul.apply(x, 3.0)
        o.sum().backward()
        out = [o, x.grad]
        x.grad = None
        s = Same.apply(x)
        s.sum().backward()
        return [*out, s, s is x, x.grad]

    both(scenario)


@pytest.mark.parametrize(
    "bad",
    ["too_many", "grad_for_number", "wrong_shape", "no_backward", "modified_saved", "double_grad", "broadcast"],
)
def test_gradient_checks_and_errors_are_torchs(bad: str) -> None:
    def scenario(T):
        def fn(backward, forward=lambda ctx, a, k: a * k, save=False):
            def fwd(ctx, a, k):
                if save:
                    ctx.save_for_backward(a)
                return forward(ctx, a, k)

            ns = {"forward": staticmethod(fwd)}
            if backward is not None:
                ns["backward"] = staticmethod(backward)
            return type("Bad", (T.autograd.Function,), ns)

        x = T.tensor([1.0, 2.0], requires_grad=True)
        cases = {
            "too_many": (fn(lambda ctx, g: (g, None, g)), 2.0),
            "grad_for_number": (fn(lambda ctx, g: (g, g)), 2.0),
            "wrong_shape": (fn(lambda ctx, g: (T.ones(3), None)), 2.0),
            "no_backward": (fn(None), 2.0),
            "modified_saved": (fn(lambda ctx, g: (ctx.saved_tensors[0] * g, None), save=True), 2.0),
            "double_grad": (fn(lambda ctx, g: (g.double() * 2, None)), 2.0),
            "broadcast": (fn(lambda ctx, g: (T.ones(3, 2), None)), 2.0),
        }
        Bad, k = cases[bad]
        if bad == "modified_saved":
            w = x * 1
            y = Bad.apply(w, k)
            w.add_(1)
        else:
            y = Bad.apply(x, k)
        y.sum().backward()
        return [x.grad]

    both(scenario)
