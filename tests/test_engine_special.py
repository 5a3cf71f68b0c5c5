"""torch's special functions (engine/ops/special.py) against PyTorch: values over dtypes and at the edges of their
domains (poles, infinities, nan, signed zeros), node names, first and second derivatives, torch.special's aliases,
the Tensor methods and their in-place forms, and torch's errors."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
import torch
from helpers import computed, same_error

from engine.ops import special as SP

pytestmark = pytest.mark.usefixtures("device")

INF, NAN = math.inf, math.nan


chk = computed  # (helpers.check, where torch must not raise)


def sm(*args: Any) -> Any:
    return chk(*args, grad=False)


def fn(T: Any, name: str) -> Any:
    """torch.NAME or the engine's (the module's TORCH table: engine/__init__.py binds it as torch.NAME)."""
    return getattr(torch, name) if T is torch else SP.TORCH[name]


def sp(T: Any, name: str) -> Any:
    """torch.special.NAME or the engine's (SPECIAL table)."""
    return getattr(torch.special, name) if T is torch else SP.SPECIAL[name]


def meth(T: Any, x: Any, name: str, *args: Any, **kw: Any) -> Any:
    """x.NAME(...) as a Tensor method (the METHODS table until engine/methods.py binds it)."""
    return getattr(x, name)(*args, **kw) if T is torch else SP.METHODS[name](x, *args, **kw)


GAMMA_X = [-3.7, -2.5, -1.2, -0.5, 0.2, 0.5, 1.0, 1.4616, 2.0, 3.5, 9.99, 10.0, 10.5, 25.0, 150.0]
UNIT = [-0.999, -0.9, -0.7, -0.5, -0.1, 0.0, 0.1, 0.69, 0.71, 0.9, 0.99, 0.999]
PROB = [0.001, 0.1, 0.135, 0.2, 0.5, 0.8, 0.87, 0.9, 0.999]
REAL = [-12.0, -8.5, -3.0, -1.0, -0.25, 0.0, 0.3, 1.0, 2.5, 8.0, 8.5, 20.0]

# (name, values, where: "torch" / "special") for the unary functions with their own kernels
UNARY = [
    ("erfc", REAL, "torch"),
    ("erfinv", UNIT, "torch"),
    ("lgamma", GAMMA_X, "torch"),
    ("digamma", GAMMA_X, "torch"),
    ("i0", REAL, "torch"),
    ("logit", [0.01, 0.2, 0.5, 0.7, 0.99], "torch"),
    ("i0e", REAL, "special"),
    ("i1", REAL, "special"),
    ("i1e", REAL, "special"),
    ("ndtri", PROB, "special"),
    ("log_ndtr", [-40.0, -20.0, -5.0, -1.5, -1.0, -0.5, 0.0, 1.0, 3.0, 6.0], "special"),
    ("erfcx", [-20.0, -6.5, -5.0, -1.0, -0.1, 0.0, 0.2, 1.0, 5.0, 25.0, 27.0, 60.0], "special"),
    ("entr", [0.01, 0.3, 1.0, 2.5, 7.0], "special"),
    ("ndtr", REAL, "special"),
]


def _get(T: Any, name: str, where: str) -> Any:
    return fn(T, name) if where == "torch" else sp(T, name)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize(("name", "values", "where"), UNARY, ids=[u[0] for u in UNARY])
def test_unary_values_and_gradients(name: str, values: list, where: str, dtype: str) -> None:
    chk(lambda T, x: _get(T, name, where)(x), np.array(values, dtype=dtype))


SECOND = [
    ("lgamma", [0.3, 0.7, 1.5, 2.5, 12.0, -0.4], "torch"),
    ("digamma", [0.3, 0.7, 1.5, 2.5, 12.0, -0.4], "torch"),
    ("erfc", [-1.0, 0.0, 0.5, 2.0], "torch"),
    ("erfinv", [-0.8, -0.1, 0.3, 0.75], "torch"),
    ("i0", [-9.0, -1.0, 0.5, 3.0, 10.0], "torch"),
    ("logit", [0.1, 0.4, 0.85], "torch"),
    ("i0e", [-9.0, -1.0, 0.5, 3.0, 10.0], "special"),
    ("i1", [-9.0, -1.0, 0.5, 3.0, 10.0], "special"),
    ("i1e", [-9.0, -1.0, 0.5, 3.0, 10.0], "special"),
    ("ndtri", [0.05, 0.4, 0.9], "special"),
    ("log_ndtr", [-3.0, -0.5, 2.0], "special"),
    ("erfcx", [-1.0, 0.5, 3.0], "special"),
    ("entr", [0.3, 0.7, 1.5], "special"),
    ("ndtr", [-1.0, 0.5, 3.0], "special"),
]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize(("name", "values", "where"), SECOND, ids=[u[0] for u in SECOND])
def test_second_order(name: str, values: list, where: str, dtype: str) -> None:
    def f(T: Any) -> Any:
        x = T.tensor(values, dtype=getattr(T, dtype), requires_grad=True)
        y = _get(T, name, where)(x)
        w = T.linspace(0.5, 2.0, len(values), dtype=getattr(T, dtype))
        (g,) = T.autograd.grad((y * w).sum(), x, create_graph=True)
        (gg,) = T.autograd.grad((g * w).sum(), x)
        return y, g.detach(), gg

    sm(f)


@pytest.mark.parametrize("n", [0, 1, 2, 3, 5])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_polygamma(n: int, dtype: str) -> None:
    chk(lambda T, x: fn(T, "polygamma")(n, x), np.array(GAMMA_X, dtype=dtype))


@pytest.mark.parametrize("n", [0, 1, 2])
def test_polygamma_second_order_and_method(n: int) -> None:
    def f(T: Any) -> Any:
        x = T.tensor([0.3, 1.5, 4.0, -0.4], dtype=T.float64, requires_grad=True)
        y = meth(T, x, "polygamma", n)
        (g,) = T.autograd.grad(y.sum(), x, create_graph=True)
        (gg,) = T.autograd.grad(g.sum(), x)
        return y, g.detach(), gg, fn(T, "polygamma")(n, x.detach())

    sm(f)


def test_gamma_family_at_poles_and_infinities() -> None:
    edges = [0.0, -0.0, -1.0, -2.0, -2.5, INF, -INF, NAN, 1e-30, 1e300, 1e-320]
    for dt in ("float32", "float64"):
        for name in ("lgamma", "digamma"):
            sm(lambda T, x, name=name: fn(T, name)(x), np.array(edges, dtype=dt))
        sm(lambda T, x: fn(T, "polygamma")(1, x), np.array(edges, dtype=dt))
        sm(lambda T, x: fn(T, "polygamma")(2, x), np.array(edges, dtype=dt))


def test_edges_of_the_other_kernels() -> None:
    sm(lambda T, x: fn(T, "erfinv")(x), np.array([1.0, -1.0, 1.5, -2.0, NAN, 0.9999999, -0.0]))
    sm(lambda T, x: fn(T, "erfinv")(x), np.array([1.0, -1.0, 0.99999, NAN], dtype="float32"))
    sm(lambda T, x: fn(T, "i0")(x), np.array([0.0, -0.0, 1000.0, INF, -30.0, NAN], dtype="float32"))
    for name in ("i0e", "i1", "i1e"):
        sm(lambda T, x, name=name: sp(T, name)(x), np.array([0.0, -0.0, 700.0, INF, -INF, NAN]))
    sm(lambda T, x: sp(T, "ndtri")(x), np.array([0.0, 1.0, -0.5, 1.5, NAN, 1e-300, 1 - 1e-12]))
    sm(lambda T, x: sp(T, "log_ndtr")(x), np.array([-INF, INF, NAN, -1e3, 40.0]))
    sm(lambda T, x: sp(T, "erfcx")(x), np.array([-INF, INF, NAN, -30.0, 1e8, 5e7]))
    sm(lambda T, x: sp(T, "entr")(x), np.array([0.0, -1.0, 2.0, NAN, INF, -0.0]))
    sm(lambda T, x: fn(T, "logit")(x), np.array([0.0, 1.0, 0.5, -1.0, 2.0, NAN]))
    sm(lambda T, x: fn(T, "erfc")(x), np.array([-INF, INF, NAN, 30.0, -0.0]))


@pytest.mark.parametrize("name", ["erfc", "erfinv", "lgamma", "digamma", "i0", "logit"])
@pytest.mark.parametrize("dtype", ["int64", "bool", "float16", "uint8"])
def test_integer_bool_and_half_inputs(name: str, dtype: str) -> None:
    sm(lambda T: fn(T, name)(T.tensor([1, 0, 2, 1], dtype=getattr(T, dtype))))


@pytest.mark.parametrize("name", ["i0e", "i1", "i1e", "entr", "ndtr", "ndtri", "log_ndtr", "erfcx"])
@pytest.mark.parametrize("dtype", ["int64", "bool", "float16"])
def test_special_integer_bool_and_half_inputs(name: str, dtype: str) -> None:
    call = lambda T: sp(T, name)(T.tensor([1, 0, 1], dtype=getattr(T, dtype)))  # noqa: E731
    if dtype == "float16" and name in ("ndtri", "log_ndtr", "erfcx"):  # no Half kernel on torch's cpu
        assert same_error(call)[0] == "NotImplementedError"
    else:
        sm(call)


def test_half_is_refused_by_name() -> None:
    for name in ("ndtri", "log_ndtr", "erfcx"):
        assert (
            same_error(lambda T, name=name: sp(T, name)(T.tensor([0.5], dtype=T.float16)))[0] == "NotImplementedError"
        )


@pytest.mark.parametrize("p", [1, 2, 3, 5])
def test_mvlgamma(p: int) -> None:
    chk(lambda T, x: fn(T, "mvlgamma")(x, p), np.array([3.1, 4.0, 7.5, 12.0]))
    chk(lambda T, x: sp(T, "multigammaln")(x, p), np.array([[3.1, 4.0], [7.5, 12.0]], dtype="float32"))
    sm(lambda T: fn(T, "mvlgamma")(T.tensor([3, 4]), p))


def test_mvlgamma_second_order_below_its_domain_and_errors() -> None:
    def f(T: Any) -> Any:
        x = T.tensor([2.2, 5.0], dtype=T.float64, requires_grad=True)
        y = meth(T, x, "mvlgamma", 3)
        (g,) = T.autograd.grad(y.sum(), x, create_graph=True)
        (gg,) = T.autograd.grad(g.sum(), x)
        return y, g.detach(), gg

    sm(f)
    sm(lambda T: fn(T, "mvlgamma")(T.tensor([1.0, 2.0]), 3))  # (torch 2.13 no longer checks the domain)
    same_error(lambda T: fn(T, "mvlgamma")(T.tensor([1.0, 2.0]), 0))
    same_error(lambda T: fn(T, "mvlgamma")(T.tensor([1.0, 2.0]), 1.5))


@pytest.mark.parametrize("eps", [None, 0.0, 0.1, 0.3, -1.0])
def test_logit_eps(eps: Any) -> None:
    chk(lambda T, x: fn(T, "logit")(x, eps), np.array([-0.5, 0.0, 0.05, 0.25, 0.5, 0.8, 0.95, 1.0, 1.5]))
    chk(lambda T, x: sp(T, "logit")(x, eps=eps), np.array([0.05, 0.25, 0.95], dtype="float32"))


def test_xlog1py() -> None:
    a = np.array([0.0, 1.0, 2.0, 0.0, -1.5, 0.0])
    b = np.array([-1.0, 0.5, 3.0, 2.0, 0.25, NAN])
    chk(lambda T, x, y: sp(T, "xlog1py")(x, y), a, b)
    chk(lambda T, x: sp(T, "xlog1py")(x, 2.0), a)
    chk(lambda T, x: sp(T, "xlog1py")(x, -1), a)
    chk(lambda T, y: sp(T, "xlog1py")(3, y), b)
    chk(lambda T, y: sp(T, "xlog1py")(0.0, y), b)
    chk(lambda T, x, y: sp(T, "xlog1py")(x, y), a.reshape(2, 3), b[:3].astype("float32"))  # broadcast, promote
    sm(lambda T: sp(T, "xlog1py")(T.tensor([1, 2]), T.tensor([3, 0])))
    sm(lambda T: sp(T, "xlog1py")(2, T.tensor([1, 2])))
    same_error(lambda T: sp(T, "xlog1py")(2, 3))


def test_xlog1py_second_order() -> None:
    def f(T: Any) -> Any:
        x = T.tensor([0.5, 1.0, 2.0], dtype=T.float64, requires_grad=True)
        y = T.tensor([0.25, 3.0, 1.5], dtype=T.float64, requires_grad=True)
        r = sp(T, "xlog1py")(x, y)
        gx, gy = T.autograd.grad(r.sum(), (x, y), create_graph=True)
        return r, gx.detach(), gy.detach(), T.autograd.grad((gx * gy).sum(), (x, y))

    sm(f)


# torch.special names that are the engine's existing functions: same values and nodes
ALIASES = [
    ("expit", lambda f, x: f(x)),
    ("exp2", lambda f, x: f(x)),
    ("expm1", lambda f, x: f(x)),
    ("log1p", lambda f, x: f(x)),
    ("erf", lambda f, x: f(x)),
    ("erfc", lambda f, x: f(x)),
    ("erfinv", lambda f, x: f(x * 0.3)),
    ("gammaln", lambda f, x: f(x)),
    ("digamma", lambda f, x: f(x)),
    ("psi", lambda f, x: f(x)),
    ("polygamma", lambda f, x: f(2, x)),
    ("multigammaln", lambda f, x: f(x + 2, 2)),
    ("i0", lambda f, x: f(x)),
    ("sinc", lambda f, x: f(x)),
    ("round", lambda f, x: f(x)),
    ("logsumexp", lambda f, x: f(x, 0)),
    ("softmax", lambda f, x: f(x, 0)),
    ("log_softmax", lambda f, x: f(x, 0)),
    ("xlogy", lambda f, x: f(x, x + 2)),
    ("logit", lambda f, x: f(x * 0.2 + 0.5)),
]


@pytest.mark.parametrize(("name", "call"), ALIASES, ids=[a[0] for a in ALIASES])
def test_special_aliases(name: str, call: Any) -> None:
    chk(lambda T, x: call(sp(T, name), x), np.array([0.3, 1.2, 2.5, -0.4], dtype="float32"))


def test_special_round_decimals_and_integers() -> None:
    chk(lambda T, x: sp(T, "round")(x, decimals=2), np.array([0.1234, -2.5678, 3.14159]))
    same_error(lambda T: sp(T, "round")(T.tensor([1, 2])))  # (special.round is round.decimals: no int kernel)


def test_special_softmax_dtype_and_missing_dim() -> None:
    chk(lambda T, x: sp(T, "softmax")(x, 1, dtype=T.float64), np.array([[0.3, 1.2], [2.5, -0.4]], "float32"))
    chk(lambda T, x: sp(T, "log_softmax")(x, -1, dtype=T.float64), np.array([[0.3, 1.2]], "float32"))
    for name in ("softmax", "log_softmax", "logsumexp"):
        same_error(lambda T, name=name: sp(T, name)(T.tensor([1.0])))  # dim is required
    same_error(lambda T: sp(T, "softmax")(T.tensor([1.0]), None))


@pytest.mark.parametrize("name", ["erfc", "erfinv", "lgamma", "digamma", "i0"])
def test_methods_and_inplace(name: str) -> None:
    def f(T: Any) -> Any:
        x = T.tensor([0.2, 0.45, 0.7], dtype=T.float64)
        y = meth(T, x, name)
        z = x.clone()
        r = meth(T, z, name + "_")
        return y, z, r is z

    sm(f)
    # in place on an integer tensor: torch refuses to cast the float result back
    same_error(lambda T: meth(T, T.tensor([1, 2]), name + "_"))


def test_inplace_with_arguments_and_graphs() -> None:
    def f(T: Any) -> Any:
        x = T.tensor([0.2, 0.45, 0.7], dtype=T.float64, requires_grad=True)
        a = x * 1
        meth(T, a, "polygamma_", 1)
        b = x * 2
        meth(T, b, "logit_", 0.3)
        c = x + 2
        meth(T, c, "mvlgamma_", 2)
        d = x * 1
        meth(T, d, "lgamma_")
        return a, b, c, d, T.autograd.grad((a + b + c + d).sum(), x)

    sm(f)


def test_out_arguments() -> None:
    def f(T: Any) -> Any:
        x = T.tensor([0.2, 0.45, 0.7])
        o1, o2, o3, o4 = T.empty(3), T.empty(3), T.empty(3), T.empty(3)
        fn(T, "lgamma")(x, out=o1)
        fn(T, "polygamma")(1, x, out=o2)
        fn(T, "logit")(x, 0.1, out=o3)
        sp(T, "xlog1py")(x, x, out=o4)
        return o1, o2, o3, o4

    sm(f)


ERRORS = [
    lambda T: fn(T, "erfc")(3.0),
    lambda T: fn(T, "lgamma")([1.0]),
    lambda T: sp(T, "i1")(2),
    lambda T: fn(T, "polygamma")(-1, T.tensor([1.0])),
    lambda T: fn(T, "polygamma")(1.5, T.tensor([1.0])),
    lambda T: fn(T, "logit")(T.tensor([0.3]), "a"),
    lambda T: sp(T, "ndtri")(T.tensor([0.5], dtype=T.float16)),
]


@pytest.mark.parametrize("call", ERRORS)
def test_errors(call: Any) -> None:
    same_error(call)


def test_node_names_of_composites() -> None:
    def f(T: Any) -> Any:
        x = T.tensor([0.3, 0.6], requires_grad=True)
        return [
            sp(T, "ndtr")(x).grad_fn.name(),
            sp(T, "ndtr")(x).grad_fn.next_functions[0][0].name(),
            sp(T, "xlog1py")(x, 2.0).grad_fn.name(),
            sp(T, "xlog1py")(2.0, x).grad_fn.name(),
            sp(T, "xlog1py")(x, x).grad_fn.name(),
            fn(T, "polygamma")(0, x).grad_fn.name(),
            fn(T, "mvlgamma")(x + 2, 2).grad_fn.name(),
        ]

    assert sm(f)[0] == "MulBackward1"


def test_tables_name_torch_functions() -> None:
    assert set(SP.TORCH) <= set(dir(torch))
    assert set(SP.SPECIAL) <= set(dir(torch.special))
    assert set(SP.METHODS) <= set(dir(torch.Tensor))
