"""torch.autograd.functional (jacobian, hessian, vjp, jvp, hvp, vhp) against PyTorch on random inputs: values,
nesting of tuple results, grad_fn names, second-order gradients through create_graph=True results (check()
backpropagates through them to the inputs), strict mode's and the argument checks' errors."""

from __future__ import annotations

import pytest
from helpers import Arg, computed, make, same_error

pytestmark = pytest.mark.usefixtures("device")

SEEDS = [0, 1, 2]


def _F(T):  # noqa: N802 - the functions the tests differentiate, written against either library
    return {
        "poly": lambda x: x**2 + 3 * x,
        "sin_exp": lambda x: x.sin() * x.exp(),
        "reducer": lambda x: x.exp().sum(dim=1),
        "pair": lambda a, b: (a * b, a + b.sum()),
        "mixed": lambda a, b: (a.tanh() @ b, (a**2).mean()),
        "cubic_sum": lambda x: (x**3).sum(),
        "quad_pair": lambda a, b: (a * b).sum() + (a**2).sum(),
        "logsumexp": lambda x: x.exp().sum().log(),
        "rosenbrock": lambda x: ((1 - x[:-1]) ** 2 + 100 * (x[1:] - x[:-1] ** 2) ** 2).sum(),
        "tanh_net": lambda x, w: (w @ x).tanh().sum(),
    }


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("create_graph", [False, True])
@pytest.mark.parametrize("vectorize", [False, True])
@pytest.mark.parametrize("name,shapes", [("poly", [(4,)]), ("sin_exp", [(2, 3)]), ("reducer", [(3, 2)]),
                                         ("pair", [(3,), (3,)]), ("mixed", [(2, 3), (3,)])])  # fmt: skip
def test_jacobian(seed: int, create_graph: bool, vectorize: bool, name: str, shapes: list) -> None:
    args = [make(s, seed=seed + i, low=-1, high=1) for i, s in enumerate(shapes)]

    def run(T, *xs):
        f = _F(T)[name]
        inputs = xs[0] if len(xs) == 1 else tuple(xs)
        return T.autograd.functional.jacobian(f, inputs, create_graph=create_graph, vectorize=vectorize)

    computed(run, *args)


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("create_graph", [False, True])
@pytest.mark.parametrize("name,shapes", [("cubic_sum", [(3,)]), ("quad_pair", [(2,), (2,)]),
                                         ("logsumexp", [(2, 2)]), ("rosenbrock", [(4,)])])  # fmt: skip
def test_hessian(seed: int, create_graph: bool, name: str, shapes: list) -> None:
    args = [make(s, seed=seed + i, low=-1, high=1) for i, s in enumerate(shapes)]

    def run(T, *xs):
        inputs = xs[0] if len(xs) == 1 else tuple(xs)
        return T.autograd.functional.hessian(_F(T)[name], inputs, create_graph=create_graph)

    computed(run, *args, grad_atol=1e-3, grad_rtol=1e-3)


@pytest.mark.parametrize("seed", SEEDS)
def test_hessian_of_a_network_with_a_fixed_weight(seed: int) -> None:
    x, w = make((3,), seed=seed, low=-1, high=1), make((2, 3), seed=seed + 5, low=-1, high=1)
    computed(lambda T, x, w: T.autograd.functional.hessian(lambda x: _F(T)["tanh_net"](x, w), x, create_graph=True),
             x, Arg(w))  # fmt: skip


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("create_graph", [False, True])
@pytest.mark.parametrize("what", ["vjp", "jvp"])
@pytest.mark.parametrize("name,shapes,v_shapes", [("poly", [(3,)], [(3,)]), ("reducer", [(2, 2)], None),
                                                  ("pair", [(2,), (2,)], None)])  # fmt: skip
def test_vjp_jvp(seed: int, create_graph: bool, what: str, name: str, shapes: list, v_shapes: list | None) -> None:
    args = [make(s, seed=seed + i, low=-1, high=1) for i, s in enumerate(shapes)]
    if v_shapes is None:  # v shaped as the outputs (vjp) or the inputs (jvp)
        v_shapes = {("reducer", "vjp"): [(2,)], ("reducer", "jvp"): [(2, 2)], ("pair", "vjp"): [(2,), (2,)],
                    ("pair", "jvp"): [(2,), (2,)]}[name, what]  # fmt: skip
    vs = [make(s, seed=seed + 10 + i) for i, s in enumerate(v_shapes)]
    n = len(args)

    def run(T, *xs):
        inputs = xs[0] if n == 1 else tuple(xs[:n])
        v = xs[n] if len(xs) == n + 1 else tuple(xs[n:])
        return getattr(T.autograd.functional, what)(_F(T)[name], inputs, v, create_graph=create_graph)

    computed(run, *args, *[Arg(v) for v in vs])


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("create_graph", [False, True])
@pytest.mark.parametrize("what", ["hvp", "vhp"])
@pytest.mark.parametrize("name,shapes", [("cubic_sum", [(3,)]), ("quad_pair", [(2,), (2,)]),
                                         ("rosenbrock", [(3,)])])  # fmt: skip
def test_hvp_vhp(seed: int, create_graph: bool, what: str, name: str, shapes: list) -> None:
    args = [make(s, seed=seed + i, low=-1, high=1) for i, s in enumerate(shapes)]
    vs = [make(s, seed=seed + 10 + i) for i, s in enumerate(shapes)]
    n = len(args)

    def run(T, *xs):
        inputs = xs[0] if n == 1 else tuple(xs[:n])
        v = xs[n] if n == 1 else tuple(xs[n:])
        return getattr(T.autograd.functional, what)(_F(T)[name], inputs, v, create_graph=create_graph)

    computed(run, *args, *[Arg(v) for v in vs], grad_atol=1e-3, grad_rtol=1e-3)


def test_v_may_be_omitted_for_one_element() -> None:
    x = make((1,), seed=3)
    for what in ("vjp", "jvp", "hvp", "vhp"):
        computed(lambda T, x, what=what: getattr(T.autograd.functional, what)(lambda x: (x**3).sum(), x), x)


def test_inputs_that_do_not_require_grad_stay_so() -> None:
    """A create_graph=True result's graph goes back to the caller's inputs only where they require grad."""
    x = make((3,), seed=4)
    computed(lambda T, x: T.autograd.functional.jacobian(lambda x: x.sin(), x, create_graph=True), Arg(x))
    computed(lambda T, x: T.autograd.functional.hessian(lambda x: x.sin().sum(), x, create_graph=True), Arg(x))
    # a linear function's Jacobian is a constant: no graph even with create_graph=True
    computed(lambda T, x: T.autograd.functional.jacobian(lambda x: 2 * x, x, create_graph=True), x)


def test_independent_outputs_give_zeros() -> None:
    a, b = make((2,), seed=5), make((3,), seed=6)
    for vectorize in (False, True):
        computed(lambda T, a, b, v=vectorize: T.autograd.functional.jacobian(
            lambda a, b: (a**2, T.ones(2), b * 2), (a, b), create_graph=True, vectorize=v), a, b)  # fmt: skip
    computed(lambda T, a, b: T.autograd.functional.vjp(lambda a, b: a.exp(), (a, b), T.ones(2)), a, b)
    computed(lambda T, a, b: T.autograd.functional.hvp(lambda a, b: (a * a).sum(), (a, b), (a, b)), a, b)


def test_forward_mode_with_vectorize() -> None:
    """Forward mode's results: lists for tuple inputs, and a graph (a reshape of the tangent) on every block of an
    output whose tangent depends on an input that requires grad; inside hessian the inputs always do."""
    x, y = make((3,), seed=7), make((2,), seed=17)
    for arg in (x, Arg(x)):
        computed(lambda T, x: T.autograd.functional.jacobian(
            lambda x: (x**2, x.sum()), x, vectorize=True, strategy="forward-mode"), arg)  # fmt: skip
    for args in ((x, y), (Arg(x), Arg(y)), (x, Arg(y))):
        computed(lambda T, a, b: T.autograd.functional.jacobian(
            lambda a, b: (a.sum() * b, b.exp()), (a, b), vectorize=True, strategy="forward-mode"), *args)  # fmt: skip
    computed(lambda T, x: T.autograd.functional.hessian(
        lambda x: (x**3).sum(), x, vectorize=True, outer_jacobian_strategy="forward-mode"), Arg(x))  # fmt: skip
    computed(lambda T, a, b: T.autograd.functional.hessian(
        lambda a, b: (a * b.sum() ** 2).sum(), (a, b), vectorize=True, outer_jacobian_strategy="forward-mode"),
        Arg(x), Arg(y))  # fmt: skip


@pytest.mark.parametrize(
    "case",
    [
        # strict mode, in each of the places torch checks it
        lambda T, x: T.autograd.functional.jacobian(lambda x: T.ones(2), x, strict=True),
        lambda T, x: T.autograd.functional.jacobian(lambda a, b: a * 2, (x, x), strict=True),
        lambda T, x: T.autograd.functional.jacobian(lambda x: x * 2, x, strict=True, create_graph=True),
        lambda T, x: T.autograd.functional.jacobian(lambda x: x**2, x, strict=True, vectorize=True),
        lambda T, x: T.autograd.functional.vjp(lambda a, b: a * 2, (x, x), T.ones(2), strict=True),
        lambda T, x: T.autograd.functional.vjp(lambda x: x * 2, x, T.ones(2), strict=True, create_graph=True),
        lambda T, x: T.autograd.functional.jvp(lambda a, b: a.exp(), (x, x), (T.ones(2), T.ones(2)), strict=True),
        lambda T, x: T.autograd.functional.jvp(lambda x: x.detach(), x, T.ones(2), strict=True),
        lambda T, x: T.autograd.functional.hessian(lambda x: (2 * x).sum(), x, strict=True),
        lambda T, x: T.autograd.functional.hessian(lambda a, b: (a**2).sum(), (x, x), strict=True),
        lambda T, x: T.autograd.functional.hvp(lambda x: (2 * x).sum(), x, T.ones(2), strict=True),
        lambda T, x: T.autograd.functional.vhp(lambda a, b: (a**2).sum(), (x, x), (x, x), strict=True),
        lambda T, x: T.autograd.functional.vhp(lambda x: x.detach().sum(), x, x, strict=True),
        # what the function returns
        lambda T, x: T.autograd.functional.jacobian(lambda x: 3.0, x),
        lambda T, x: T.autograd.functional.jacobian(lambda x: [x, x], x),
        lambda T, x: T.autograd.functional.vjp(lambda x: (x, None), x, (x, x)),
        lambda T, x: T.autograd.functional.hessian(lambda x: x**2, x),
        lambda T, x: T.autograd.functional.hessian(lambda x: (x.sum(), x.sum()), x),
        lambda T, x: T.autograd.functional.hvp(lambda x: x**2, x, x),
        lambda T, x: T.autograd.functional.vhp(lambda x: (x.sum(),), x, x),
        # the inputs and v
        lambda T, x: T.autograd.functional.jacobian(lambda x: x, [x]),
        lambda T, x: T.autograd.functional.jacobian(lambda x, y: x, (x, 1.0)),
        lambda T, x: T.autograd.functional.vjp(lambda x: x * 2, x, T.ones(3)),
        lambda T, x: T.autograd.functional.vjp(lambda x: (x, x), x, (T.ones(2),)),
        lambda T, x: T.autograd.functional.vjp(lambda x: (x, x), x, (T.ones(2), T.ones(1))),
        lambda T, x: T.autograd.functional.vjp(lambda x: x * 2, x, (T.ones(2), T.ones(2))),
        lambda T, x: T.autograd.functional.vjp(lambda x: x * 2, x),
        lambda T, x: T.autograd.functional.jvp(lambda x: x * 2, x),
        lambda T, x: T.autograd.functional.jvp(lambda x: x * 2, x, "v"),
        lambda T, x: T.autograd.functional.hvp(lambda x: x.sum(), x),
        lambda T, x: T.autograd.functional.vhp(lambda x: x.sum(), (x, x), (x,)),
        # strategies
        lambda T, x: T.autograd.functional.jacobian(lambda x: x, x, strategy="forward"),
        lambda T, x: T.autograd.functional.jacobian(lambda x: x, x, strategy="forward-mode"),
        lambda T, x: T.autograd.functional.jacobian(lambda x: x, x, strategy="forward-mode", create_graph=True),
        lambda T, x: T.autograd.functional.jacobian(lambda x: x, x, strategy="forward-mode", strict=True),
        lambda T, x: T.autograd.functional.jacobian(lambda x: x, 2, strategy="forward-mode"),
        lambda T, x: T.autograd.functional.jacobian(lambda x: 2.0, x, strategy="forward-mode", vectorize=True),
        lambda T, x: T.autograd.functional.hessian(lambda x: x.sum(), x, outer_jacobian_strategy="forward-mode"),
        lambda T, x: T.autograd.functional.hessian(lambda x: x.sum(), x, outer_jacobian_strategy="fwd"),
        # an error from the function itself passes through
        lambda T, x: T.autograd.functional.jacobian(lambda x: x @ T.ones(3), x),
        # an output with no elements
        lambda T, x: T.autograd.functional.jacobian(lambda x: x[:0], x, vectorize=True),
    ],
)
def test_errors(case) -> None:
    same_error(case, make((2,), seed=8))
