"""torch.func (grad, grad_and_value, vjp, jvp, jacrev, jacfwd, hessian, vmap, functional_call,
stack_module_state) against PyTorch: values, which results carry a graph (and the gradients through those that
do, compared by check()), second derivatives of nested transforms, per-sample gradients of a small MLP, vmap's
argument and output checks and randomness modes, and the errors of bad calls by type and message."""

from __future__ import annotations

import pytest
import torch
from helpers import Arg, check, computed, make, same_error

import engine

pytestmark = pytest.mark.usefixtures("device")

SEEDS = [0, 1, 2]


def _lists(x):  # dict results as (keys, values) lists, which check() compares
    if isinstance(x, dict):
        return [list(x), [_lists(v) for v in x.values()]]
    if isinstance(x, (tuple, list)):
        return type(x)(_lists(v) for v in x)
    return x


def _F(T):  # noqa: N802 - the functions the tests transform, written against either library
    return {
        "cubic": lambda x: (x**3).sum(),
        "sin_exp": lambda x: (x.sin() * x.exp()).sum(),
        "pair": lambda a, b: (a.tanh() * b).sum() + (a**2).mean(),
        "logsumexp": lambda x: x.exp().sum().log(),
        "vec": lambda x: x.sin() * x,
        "two_out": lambda a, b: (a * b, a.exp().sum()),
        "mat": lambda a, b: (a @ b).tanh(),
    }


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("grad_in", [False, True])
@pytest.mark.parametrize("name,shapes,argnums", [("cubic", [(3,)], 0), ("sin_exp", [(2, 3)], 0),
                                                 ("pair", [(3,), (3,)], 0), ("pair", [(3,), (3,)], (0, 1)),
                                                 ("pair", [(3,), (3,)], -1), ("logsumexp", [()], 0)])  # fmt: skip
def test_grad_and_grad_and_value(seed: int, grad_in: bool, name: str, shapes: list, argnums) -> None:
    """No graph on the results unless the inputs require grad; then backward through them matches torch's."""
    args = [make(s, seed=seed + i, low=-1, high=1) for i, s in enumerate(shapes)]
    args = args if grad_in else [Arg(a) for a in args]
    computed(lambda T, *xs: T.func.grad(_F(T)[name], argnums=argnums)(*xs), *args)
    computed(lambda T, *xs: T.func.grad_and_value(_F(T)[name], argnums=argnums)(*xs), *args)


@pytest.mark.parametrize("seed", SEEDS)
def test_grad_of_grad_is_the_second_derivative(seed: int) -> None:
    x = make((3,), seed=seed, low=-1, high=1)
    computed(lambda T, x: T.func.grad(lambda t: T.func.grad(lambda u: (u.sin() * u).sum())(t).sum())(x), Arg(x))
    computed(lambda T, x: T.func.grad(lambda t: T.func.grad(lambda u: (u**4).sum())(t)[0])(x), x)
    # the inner function closes over the outer input: only the path through its own argument is differentiated
    computed(lambda T, x: T.func.grad(lambda a: T.func.grad(lambda b: (a * b**2).sum())(a).sum())(x), Arg(x))


def test_has_aux_and_kwargs() -> None:
    x, w = make((3,), seed=3), make((3,), seed=4)
    f = lambda T: lambda a, w=None: ((a * w).sum(), {"a2": [a * 2], "w": w})  # noqa: E731

    def run(T, x, w):
        g, aux = T.func.grad(f(T), has_aux=True)(x, w=w)
        (g2, (v, aux2)) = T.func.grad_and_value(f(T), has_aux=True)(x, w=w)
        return g, _lists(aux), g2, v, _lists(aux2)

    computed(run, x, Arg(w))
    computed(run, Arg(x), w)
    # an input returned as aux comes back as the caller's own tensor
    for arg in (x, Arg(x)):
        computed(lambda T, x: T.func.grad(lambda a: (a.sum(), a), has_aux=True)(x)[1], arg)
    # pytree arguments: the gradient has the argument's structure
    computed(lambda T, x, w: _lists(T.func.grad(lambda p: (p["x"] * p["w"][0]).sum())({"x": x, "w": [w]})), x, w)


def test_a_closed_over_tensor_that_requires_grad_keeps_the_graph() -> None:
    x, w = make((3,), seed=5), make((3,), seed=6)
    computed(lambda T, x, w: T.func.grad(lambda a: (a * w).sin().sum())(x), Arg(x), w)
    computed(lambda T, x, w: T.func.grad(lambda a: (a * w.detach()).sum())(x), Arg(x), w)
    # aux made of the function's intermediates and that tensor: its graph outlives the gradient's backward pass
    computed(lambda T, x, w: T.func.grad(lambda a: (lambda h: (h.sum(), h * w))(a.sin()), has_aux=True)(x), Arg(x), w)


@pytest.mark.parametrize("seed", SEEDS)
def test_vjp(seed: int) -> None:
    a, b = make((2, 3), seed=seed), make((2, 3), seed=seed + 1)
    ct = make((2, 3), seed=seed + 2)

    def run(T, a, b, ct):
        out, fn = T.func.vjp(_F(T)["two_out"], a, b)
        first = fn((ct, T.tensor(1.0)))
        out2, fn2, aux = T.func.vjp(lambda x: (x.exp(), x.sum()), a, has_aux=True)
        return out, first, fn((ct, T.tensor(0.5)), create_graph=False), out2, fn2(ct), aux

    computed(run, a, b, Arg(ct))
    computed(run, Arg(a), Arg(b), ct)  # a cotangent that requires grad: the result depends on it
    computed(run, Arg(a), Arg(b), Arg(ct))


@pytest.mark.parametrize("seed", SEEDS)
def test_jvp(seed: int) -> None:
    a, b = make((3,), seed=seed), make((3,), seed=seed + 1)
    ta, tb = make((3,), seed=seed + 2), make((3,), seed=seed + 3)
    # (a tangent's graph ends in the engine's backward formula's last op, where torch's ends in its forward formula's)
    for args in ((a, b, Arg(ta), Arg(tb)), (Arg(a), Arg(b), ta, Arg(tb)), (Arg(a), Arg(b), Arg(ta), Arg(tb))):
        computed(lambda T, a, b, ta, tb: T.func.jvp(_F(T)["two_out"], (a, b), (ta, tb)), *args, names=False)
        computed(lambda T, a, b, ta, tb: T.func.jvp(lambda x: (x.sin(), x * b), (a,), (ta,), has_aux=True), *args,
                 names=False)  # fmt: skip
    # an output that does not depend on the inputs gets a zero tangent; one that is an input, the tangent
    computed(lambda T, a, ta: T.func.jvp(lambda x: (T.ones(2), x), (a,), (ta,)), Arg(a), Arg(ta))


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("jac", ["jacrev", "jacfwd"])
@pytest.mark.parametrize("name,shapes,argnums", [("vec", [(4,)], 0), ("mat", [(2, 3), (3,)], 0),
                                                 ("mat", [(2, 3), (3,)], (0, 1)), ("two_out", [(3,), (3,)], 1),
                                                 ("cubic", [()], 0)])  # fmt: skip
def test_jacobians(seed: int, jac: str, name: str, shapes: list, argnums) -> None:
    args = [make(s, seed=seed + i, low=-1, high=1) for i, s in enumerate(shapes)]
    computed(lambda T, *xs: getattr(T.func, jac)(_F(T)[name], argnums=argnums)(*xs), *[Arg(a) for a in args])
    if jac == "jacfwd" and argnums == 1:
        # torch's forward formula for a*b keeps b in the graph of d(a*b)/db = diag(a) (a zero gradient); the
        # engine's Jacobian, found in reverse mode, does not depend on b
        return
    computed(lambda T, *xs: getattr(T.func, jac)(_F(T)[name], argnums=argnums)(*xs), *args)


def test_jacobian_options() -> None:
    x = make((5,), seed=7, low=-1, high=1)
    for chunk_size in (1, 2, 5, 9):
        computed(lambda T, x, c=chunk_size: T.func.jacrev(lambda t: (t.exp(), t.sum()), chunk_size=c)(x), Arg(x))
    for jac in ("jacrev", "jacfwd"):
        computed(lambda T, x, j=jac: getattr(T.func, j)(lambda t: (t**2, t.cos()), has_aux=True)(x), Arg(x))
        computed(lambda T, x, j=jac: _lists(getattr(T.func, j)(lambda t: {"s": t.sum(), "l": [t * 2]})(x)), Arg(x))
        computed(lambda T, x, j=jac: getattr(T.func, j)(lambda t: t * 2)(x[:0]), Arg(x))


@pytest.mark.parametrize("seed", SEEDS)
def test_hessian(seed: int) -> None:
    x, y = make((3,), seed=seed, low=-1, high=1), make((3,), seed=seed + 1, low=-1, high=1)
    computed(lambda T, x: T.func.hessian(lambda t: ((1 - t[:-1]) ** 2 + 10 * (t[1:] - t[:-1] ** 2) ** 2).sum())(x),
             Arg(x))  # fmt: skip
    computed(lambda T, x, y: T.func.hessian(_F(T)["pair"], argnums=(0, 1))(x, y), Arg(x), Arg(y))
    computed(lambda T, x: T.func.hessian(_F(T)["cubic"])(x), x, grad_atol=1e-3, grad_rtol=1e-3)


def _mlp(T):
    T.manual_seed(0)
    return T.nn.Sequential(T.nn.Linear(4, 8), T.nn.Tanh(), T.nn.Linear(8, 3))


@pytest.mark.parametrize("seed", SEEDS)
def test_per_sample_gradients_of_an_mlp(seed: int) -> None:
    """The per-sample-gradients tutorial: vmap(grad(loss)) over functional_call, against torch's."""
    x, y = make((5, 4), seed=seed), make((5,), "int64", low=0, high=2, seed=seed + 1)

    def run(T, x, y):
        model = _mlp(T)
        params = {k: v.detach() for k, v in model.named_parameters()}

        def loss(params, sample, target):
            out = T.func.functional_call(model, params, (sample.unsqueeze(0),))
            return T.nn.functional.cross_entropy(out, target.unsqueeze(0))

        grads = T.func.vmap(T.func.grad(loss), in_dims=(None, 0, 0))(params, x, y)
        return _lists(grads), [p.requires_grad for p in model.parameters()]

    computed(run, Arg(x), Arg(y))


def test_vmap_in_dims_and_out_dims() -> None:
    a, b = make((3, 4), seed=9), make((4, 3), seed=10)
    c = make((4,), seed=11)
    cases = [
        lambda T, a, b, c: T.func.vmap(lambda x, y: x * y, in_dims=(0, 1))(a, b),
        lambda T, a, b, c: T.func.vmap(lambda x, y: x @ y, in_dims=(0, None))(a, b),
        lambda T, a, b, c: T.vmap(lambda x, y: x + y, in_dims=(-1, 0))(b, a),
        lambda T, a, b, c: T.func.vmap(lambda x: (x, x.sum()), out_dims=(1, 0))(a),
        lambda T, a, b, c: T.func.vmap(lambda x: x.outer(x), out_dims=-1)(a),
        lambda T, a, b, c: T.func.vmap(lambda x: (x * 2, 3.0), out_dims=(0, None))(a),
        lambda T, a, b, c: T.func.vmap(lambda x: (x * 2, c), out_dims=(0, None))(a),
        lambda T, a, b, c: T.func.vmap(lambda x, p: x * p["w"][0], in_dims=(0, {"w": [None]}))(a, {"w": [c]}),
        lambda T, a, b, c: T.func.vmap(lambda x, scale=1.0: x * scale)(a, scale=3.0),
        lambda T, a, b, c: T.func.vmap(T.func.vmap(lambda x, y: x * y), in_dims=(0, None))(a, c),
        lambda T, a, b, c: T.func.vmap(T.func.vmap(lambda x: x.sum(), in_dims=1), chunk_size=2)(a.reshape(3, 2, 2)),
        lambda T, a, b, c: T.func.vmap(lambda x: (x.sum(), x.new_zeros(2), x @ c))(a[:0]),
        lambda T, a, b, c: T.func.vmap(lambda x: T.ones(2))(a),
    ]
    for case in cases:
        computed(case, Arg(a), Arg(b), Arg(c))
    # gradients flow through vmap to its inputs (the graph ends in a stack rather than torch's last op)
    for case in cases[:5]:
        check(case, a, b, c, names=False)


def test_vmap_randomness() -> None:
    x = make((3, 4), seed=12)

    def run(T, x, mode):
        T.manual_seed(5)
        out = T.func.vmap(lambda t: t * 0 + T.rand(()), randomness=mode)(x)
        return out, T.rand(2)

    same = computed(lambda T, x: run(T, x, "same"), Arg(x))
    assert bool((same[0] == same[0][0, 0]).all())
    for T in (torch, engine):
        out, _ = run(T, T.tensor(x), "different")
        assert out.shape == (3, 4) and len(set(out[:, 0].tolist())) == 3
    for inner, outer in (("error", "same"), ("different", "error")):  # an inner or outer "error" refuses the draw

        def nested(T, x, inner=inner, outer=outer):
            return T.func.vmap(lambda r: T.func.vmap(lambda t: t + T.rand(()), randomness=inner)(r), randomness=outer)(
                x
            )

        same_error(nested, x)


def test_functional_call() -> None:
    x = make((2, 4), seed=13)
    w = make((3, 4), seed=14)

    def run(T, x, w):
        model = T.nn.Linear(4, 3)
        before = model.weight
        out = T.func.functional_call(model, {"weight": w}, x)
        out2 = T.func.functional_call(model, ({"weight": w}, {"bias": T.zeros(3)}), (x,), strict=True)
        return out, out2, model.weight is before, isinstance(model.weight, T.nn.Parameter)

    computed(run, x, w)

    def buffers(T, x):  # a buffer the module updates in place reaches the caller's dict
        bn = T.nn.BatchNorm1d(4)
        state = {"running_mean": T.zeros(4), "running_var": T.ones(4), "num_batches_tracked": T.tensor(0)}
        out = T.func.functional_call(bn, state, x)
        return out, state["running_mean"], state["num_batches_tracked"], bn.running_mean

    computed(buffers, Arg(x))

    def tied(T, x, w):
        model = T.nn.Sequential(T.nn.Linear(4, 4, bias=False), T.nn.Linear(4, 4, bias=False))
        model[1].weight = model[0].weight
        w4 = w[:, :4].repeat(2, 1)[:4]
        return T.func.functional_call(model, {"0.weight": w4}, x), T.func.functional_call(
            model, {"0.weight": w4}, x, tie_weights=False
        )

    computed(tied, x, Arg(w))


def test_stack_module_state_runs_an_ensemble() -> None:
    x = make((2, 4), seed=15)

    def run(T, x):
        T.manual_seed(1)
        models = [T.nn.Linear(4, 2) for _ in range(3)]
        params, buffers = T.func.stack_module_state(models)

        def call(p, b, x):
            return T.func.functional_call(models[0], (p, b), (x,))

        return T.func.vmap(call, in_dims=(0, 0, None))(params, buffers, x), _lists(params)

    check(run, Arg(x), names=False)


_E = [
    # grad and grad_and_value
    lambda T, x: T.func.grad(lambda t: t * 2)(x),
    lambda T, x: T.func.grad(lambda t: 3.0)(x),
    lambda T, x: T.func.grad(lambda t: t.sum())(3.0),
    lambda T, x: T.func.grad(lambda t: t.sum())(x.long()),
    lambda T, x: T.func.grad(lambda t: t.sum(), argnums=2)(x),
    lambda T, x: T.func.grad(lambda t: t.sum(), argnums=(0, -1))(x),
    lambda T, x: T.func.grad(lambda t: t.sum(), argnums=())(x),
    lambda T, x: T.func.grad(lambda t: t.sum(), argnums=[0])(x),
    lambda T, x: T.func.grad(lambda t: t.sum(), argnums=(0.0,))(x),
    lambda T, x: T.func.grad(lambda t: t.sum(), has_aux=True)(x),
    lambda T, x: T.func.grad(lambda t: (t.sum(), 3), has_aux=True)(x),
    lambda T, x: T.func.grad(lambda t: (t.sum(), [t, None]), has_aux=True)(x),
    lambda T, x: T.func.grad_and_value(lambda t: t)(x),
    lambda T, x: T.func.grad(lambda t: t.add_(1).sum())(x),
    # vjp
    lambda T, x: T.func.vjp(lambda t: t.exp(), x, has_aux=True),
    lambda T, x: T.func.vjp(lambda t: 3.0, x),
    lambda T, x: T.func.vjp(lambda t: None, x),
    lambda T, x: T.func.vjp(lambda t: [], x),
    lambda T, x: T.func.vjp(lambda t: t.long(), x),
    lambda T, x: T.func.vjp(lambda t: t, 3.0),
    lambda T, x: T.func.vjp(T.sin, x)[1]((T.ones(3),)),
    lambda T, x: T.func.vjp(T.sin, x)[1](T.ones(2)),
    lambda T, x: (lambda f: (f(T.ones(3), retain_graph=False), f(T.ones(3))))(T.func.vjp(T.sin, x)[1]),
    # jvp
    lambda T, x: T.func.jvp(T.sin, x, (x,)),
    lambda T, x: T.func.jvp(T.sin, (x,), x),
    lambda T, x: T.func.jvp(T.sin, (x,), (T.ones(2),)),
    lambda T, x: T.func.jvp(T.sin, (x,), (T.ones(3).long(),)),
    lambda T, x: T.func.jvp(T.sin, (), ()),
    lambda T, x: T.func.jvp(T.sin, (3.0,), (1.0,)),
    lambda T, x: T.func.jvp(lambda t: T.ones(2), (x,), (x,), strict=True),
    lambda T, x: T.func.jvp(lambda t: 3.0, (x,), (x,)),
    lambda T, x: T.func.jvp(lambda t: None, (x,), (x,)),
    lambda T, x: T.func.jvp(lambda t: t.exp(), (x,), (x,), has_aux=True),
    # jacobians
    lambda T, x: T.func.jacrev(T.sin, chunk_size=0)(x),
    lambda T, x: T.func.jacfwd(T.sin, randomness="x")(x),
    lambda T, x: T.func.jacrev(lambda t: t, argnums=1)(x),
    lambda T, x: T.func.jacrev(lambda t: t.long())(x),
    lambda T, x: T.func.jacfwd(lambda t: t)(x.long()),
    lambda T, x: T.func.jacfwd(lambda t: 3.0)(x),
    lambda T, x: T.func.hessian(lambda t: t.sum())(3.0),
    # vmap's arguments
    lambda T, x: T.func.vmap(lambda a, b: a + b)(x, x[:2]),
    lambda T, x: T.func.vmap(lambda a, b: a + b, in_dims=(0,))(x, x),
    lambda T, x: T.func.vmap(lambda a, b: a + b, in_dims=[0, 0])(x, x),
    lambda T, x: T.func.vmap(lambda a, b: a + b, in_dims=(0, 2))(x, x),
    lambda T, x: T.func.vmap(lambda a, b: a + b, in_dims=(0, 1.0))(x, x),
    lambda T, x: T.func.vmap(lambda a, b: a + b, in_dims=(0, 0))(x, 1.0),
    lambda T, x: T.func.vmap(lambda a, b: a + b, in_dims=(None, None))(x, x),
    lambda T, x: T.func.vmap(lambda a: a["a"], in_dims=({"b": 0},))({"a": x}),
    lambda T, x: T.func.vmap(lambda a: a, in_dims=((0, 0),))([x, x]),
    lambda T, x: T.func.vmap(lambda a: a)(x.sum()),
    lambda T, x: T.func.vmap(lambda a: a)(),
    lambda T, x: T.func.vmap(lambda a: a, randomness="foo"),
    lambda T, x: T.func.vmap(lambda a: a, chunk_size=0),
    # vmap's outputs
    lambda T, x: T.func.vmap(lambda a: 3.0)(x),
    lambda T, x: T.func.vmap(lambda a: (a, None))(x),
    lambda T, x: T.func.vmap(lambda a: a * 2, out_dims=None)(x),
    lambda T, x: T.func.vmap(lambda a: (a, a), out_dims=(0, 1, 2))(x),
    lambda T, x: T.func.vmap(lambda a: a, out_dims=(0, 1))(x),
    lambda T, x: T.func.vmap(lambda a: a, out_dims="a")(x),
    lambda T, x: T.func.vmap(lambda a: a, out_dims=3)(x),
    # random operations in randomness="error" mode
    lambda T, x: T.func.vmap(lambda a: a + T.rand(()))(x),
    lambda T, x: T.func.vmap(lambda a: T.nn.functional.dropout(a, 0.5))(x),
    lambda T, x: T.func.vmap(lambda a: a + T.randn(3))(x),
    # functional_call
    lambda T, x: T.func.functional_call(T.nn.Linear(3, 1), {"weight": 1.0}, x),
    lambda T, x: T.func.functional_call(T.nn.Linear(3, 1), [{"weight": x}, {"weight": x}], x),
    lambda T, x: T.func.functional_call(T.nn.Linear(3, 1), [{"weight": x}, 3], x),
    lambda T, x: T.func.functional_call(T.nn.Linear(3, 1), "w", x),
    lambda T, x: T.func.functional_call(T.nn.Linear(3, 1), {"w": x, "bias": x}, x, strict=True),
    lambda T, x: T.func.functional_call(T.nn.Linear(3, 1), {"fc.weight": x}, x),
    lambda T, x: T.func.functional_call(T.nn.Linear(3, 1), {"forward": x}, x),
    lambda T, x: T.func.functional_call(T.nn.Sequential(T.nn.Linear(3, 1)), {"1.weight": x}, x),
    lambda T, x: T.func.stack_module_state([]),
    lambda T, x: T.func.stack_module_state([T.nn.Linear(1, 1), T.nn.Linear(1, 1).eval()]),
    lambda T, x: T.func.stack_module_state([T.nn.Linear(1, 1), T.nn.Tanh()]),
]


@pytest.mark.parametrize("case", _E)
def test_errors(case) -> None:
    same_error(case, make((3, 3), seed=16))


def test_tied_weights_given_twice() -> None:
    def run(T, x, w):
        model = T.nn.Sequential(T.nn.Linear(3, 3), T.nn.Linear(3, 3))
        model[1].weight = model[0].weight
        return T.func.functional_call(model, {"0.weight": w, "1.weight": w * 2}, x)

    same_error(run, make((2, 3), seed=17), make((3, 3), seed=18))
