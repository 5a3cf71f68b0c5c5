"""torch's statistics and tensor utilities (engine/ops/statistics.py) against PyTorch: quantile/nanquantile in
every interpolation, cov/corrcoef with weights, histc, cdist in both of its algorithms, block_diag, vander,
the trapezoid rules, take_along_dim, scatter_reduce, gcd/lcm, the broadcasting helpers and predicates: values,
node names, gradients (second order where the backward is differentiable), torch's errors and warnings."""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np
import pytest
import torch
from helpers import computed, same_error

from engine.ops import statistics as ST

pytestmark = pytest.mark.usefixtures("device")

NAN = math.nan


chk = computed  # (helpers.check, where torch must not raise)


def sm(*args: Any) -> Any:
    return chk(*args, grad=False)


def fn(T: Any, name: str) -> Any:
    """torch.NAME or the engine's (the module's TORCH table: engine/__init__.py binds it as torch.NAME)."""
    return getattr(torch, name) if T is torch else ST.TORCH[name]


def meth(T: Any, x: Any, name: str, *args: Any, **kw: Any) -> Any:
    """x.NAME(...) as a Tensor method (the METHODS table until engine/methods.py binds it)."""
    return getattr(x, name)(*args, **kw) if T is torch else ST.METHODS[name](x, *args, **kw)


X = np.array([[0.3, 0.6, 0.1, 0.9], [0.2, 0.5, 0.8, 0.4], [1.0, 2.0, 3.0, -1.0]])
XN = X.copy()
XN[1, 2] = NAN
XN2 = np.full((2, 3), NAN)
XN2[0, 1] = 1.5
INTERP = ["linear", "lower", "higher", "midpoint", "nearest"]


# ---- quantile ---------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["quantile", "nanquantile"])
@pytest.mark.parametrize("interpolation", INTERP)
def test_quantile_forms(name: str, interpolation: str) -> None:
    q2 = np.array([0.0, 0.25, 0.6, 1.0])
    for dt in ("float32", "float64"):
        x = X.astype(dt)
        chk(lambda T, a: fn(T, name)(a, 0.35, interpolation=interpolation), x)
        chk(lambda T, a, q: fn(T, name)(a, q, dim=1, interpolation=interpolation), x, q2.astype(dt))
        chk(lambda T, a, q: fn(T, name)(a, q, dim=0, keepdim=True, interpolation=interpolation), x, q2.astype(dt))
        chk(lambda T, a, q: fn(T, name)(a, q, keepdim=True, interpolation=interpolation), x, q2.astype(dt))
        chk(lambda T, a: fn(T, name)(a, 0.5, dim=-2, keepdim=True, interpolation=interpolation), x)
        chk(lambda T, a: fn(T, name)(a[0], 0.9, dim=0, interpolation=interpolation), x)


@pytest.mark.parametrize("name", ["quantile", "nanquantile"])
@pytest.mark.parametrize("interpolation", INTERP)
def test_quantile_with_nan(name: str, interpolation: str) -> None:
    q = np.array([0.1, 0.5, 0.75])
    sm(lambda T, a, qq: fn(T, name)(a, qq, dim=1, interpolation=interpolation), XN, q)
    sm(lambda T, a: fn(T, name)(a, 0.5, interpolation=interpolation), XN)
    sm(lambda T, a: fn(T, name)(a, 0.4, dim=1, interpolation=interpolation), XN2)
    sm(lambda T, a: fn(T, name)(a, 0.4, dim=0, interpolation=interpolation), XN2)


def test_quantile_shapes_0d_and_empty_q() -> None:
    sm(lambda T: fn(T, "quantile")(T.tensor(2.0), 0.3, dim=0, keepdim=True))
    sm(lambda T: fn(T, "quantile")(T.tensor(2.0), T.tensor([0.3, 0.7])))
    sm(lambda T, a: fn(T, "quantile")(a, T.tensor(0.5, dtype=T.float64), dim=0), X)
    sm(lambda T, a: fn(T, "quantile")(a, T.tensor([], dtype=T.float64), dim=0), X)
    sm(lambda T, a: meth(T, a, "quantile", 0.5, 1, True), X)
    sm(lambda T, a: meth(T, a, "nanquantile", q=0.25, dim=0), XN)
    sm(lambda T, a: fn(T, "quantile")(a, True), X)  # (a bool q is the number 1)


def test_quantile_second_order() -> None:
    """The gradient of quantile is linear in the incoming gradient: differentiate it with respect to that."""

    def f(T: Any, interpolation: str) -> Any:
        x = T.tensor(X, requires_grad=True)
        q = T.tensor([0.3, 0.8], dtype=T.float64)
        y = fn(T, "quantile")(x, q, dim=1, interpolation=interpolation)
        v = T.ones_like(y).mul(T.tensor([[1.5], [-0.5]], dtype=T.float64)).requires_grad_()
        (g,) = T.autograd.grad(y, x, v, create_graph=True)
        w = T.linspace(0.5, 2.0, 12, dtype=T.float64).reshape(3, 4)
        (gv,) = T.autograd.grad((g * w).sum(), v)
        return y, g.detach(), gv

    for interpolation in INTERP:
        sm(f, interpolation)


def test_quantile_out() -> None:
    def f(T: Any) -> Any:
        o = T.empty(3)
        r = fn(T, "quantile")(T.tensor(X, dtype=T.float32), 0.5, dim=1, out=o)
        return o, r is o

    sm(f)


QUANTILE_ERRORS = [
    lambda T: fn(T, "quantile")(T.tensor([]), 0.5),
    lambda T: fn(T, "quantile")(T.ones(3, 4), T.tensor([[0.5]])),
    lambda T: fn(T, "quantile")(T.tensor([1, 2, 3]), 0.5),
    lambda T: fn(T, "nanquantile")(T.tensor([1, 2]), 0.5),
    lambda T: fn(T, "quantile")(T.ones(3, 4), T.tensor([0.5], dtype=T.float64)),
    lambda T: fn(T, "quantile")(T.ones(3, 4), 1.5),
    lambda T: fn(T, "nanquantile")(T.ones(3, 4), -0.25),
    lambda T: fn(T, "quantile")(T.ones(3, 4), T.tensor([0.5, 1.5])),
    lambda T: fn(T, "quantile")(T.ones(3, 4), 0.5, interpolation="foo"),
    lambda T: fn(T, "nanquantile")(T.ones(3, 4), 0.5, interpolation="cubic"),
    lambda T: fn(T, "quantile")(T.ones(3, 4), 0.5, dim=2),
    lambda T: fn(T, "quantile")(T.ones(3, 4), [0.1, 0.5]),
]


@pytest.mark.parametrize("call", QUANTILE_ERRORS)
def test_quantile_errors(call: Any) -> None:
    same_error(call)


# ---- cov / corrcoef ---------------------------------------------------------------------------------------------
def test_cov() -> None:
    fw = np.array([1, 2, 1, 3])
    aw = np.array([0.5, 1.0, 2.0, 1.0])
    for dt in ("float32", "float64"):
        x = X.astype(dt)
        chk(lambda T, a: fn(T, "cov")(a), x)
        chk(lambda T, a: meth(T, a, "cov", correction=0), x)
        chk(lambda T, a: fn(T, "cov")(a[0]), x)
        chk(lambda T, a: fn(T, "cov")(a, fweights=T.tensor(fw)), x)
        chk(lambda T, a, w: fn(T, "cov")(a, aweights=w), x, aw.astype(dt))
        chk(lambda T, a, w: fn(T, "cov")(a, correction=2, fweights=T.tensor(fw), aweights=w), x, aw.astype(dt))
        chk(lambda T, a, w: fn(T, "cov")(a, correction=0, fweights=T.tensor(fw), aweights=w), x, aw.astype(dt))
    sm(lambda T: fn(T, "cov")(T.tensor([[1, 2, 4], [3, 1, 0]])))
    sm(lambda T, a: fn(T, "cov")(a.half()), X)


def test_cov_degrees_of_freedom_warning() -> None:
    for lib in (torch, None):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            if lib is torch:
                r = torch.cov(torch.tensor(X)[:, :1])
            else:
                import engine

                r = ST.cov(engine.tensor(X)[:, :1])
        msgs = [str(w.message).split(" (Triggered")[0] for w in caught]
        assert msgs == [
            "cov(): degrees of freedom is <= 0. Correction should be strictly less than the number of observations."
        ], msgs
        assert bool(r.isnan().all())


COV_ERRORS = [
    lambda T: fn(T, "cov")(T.zeros(2, 2, 2)),
    lambda T: fn(T, "cov")(T.zeros(2, 2, dtype=T.bool)),
    lambda T: fn(T, "cov")(T.ones(3, 4), fweights=T.tensor([1.0, 2, 1, 1])),
    lambda T: fn(T, "cov")(T.ones(3, 4), fweights=T.tensor([1, -2, 1, 1])),
    lambda T: fn(T, "cov")(T.ones(3, 4), fweights=T.tensor([1, 2, 1])),
    lambda T: fn(T, "cov")(T.ones(3, 4), fweights=T.tensor([[1, 2, 1, 1]])),
    lambda T: fn(T, "cov")(T.ones(3, 4), aweights=T.tensor([1, 2, 1, 1])),
    lambda T: fn(T, "cov")(T.ones(3, 4), aweights=T.tensor([1.0, -2, 1, 1])),
    lambda T: fn(T, "cov")(T.ones(3, 4), aweights=T.tensor([[1.0, 2, 1, 1]])),
    lambda T: fn(T, "cov")(T.ones(3, 4), aweights=T.tensor([0.0, 0, 0, 0])),
    lambda T: fn(T, "corrcoef")(T.zeros(2, 2, 2)),
]


@pytest.mark.parametrize("call", COV_ERRORS)
def test_cov_errors(call: Any) -> None:
    same_error(call)


def test_corrcoef() -> None:
    for dt in ("float32", "float64"):
        chk(lambda T, a: fn(T, "corrcoef")(a), X.astype(dt))
        chk(lambda T, a: meth(T, a, "corrcoef"), X.astype(dt))
        chk(lambda T, a: fn(T, "corrcoef")(a[0]), X.astype(dt))
    sm(lambda T: fn(T, "corrcoef")(T.tensor([[1, 2, 4], [3, 1, 0], [2, 2, 2]])))


def test_cov_second_order() -> None:
    def f(T: Any) -> Any:
        x = T.tensor(X, requires_grad=True)
        y = fn(T, "corrcoef")(x) + fn(T, "cov")(x, aweights=T.tensor([0.5, 1.0, 2.0, 1.0], dtype=T.float64))
        w = T.linspace(0.5, 2.0, 9, dtype=T.float64).reshape(3, 3)
        (g,) = T.autograd.grad((y * w).sum(), x, create_graph=True)
        (gg,) = T.autograd.grad((g * g).sum(), x)
        return y, g.detach(), gg

    sm(f)


# ---- histc ------------------------------------------------------------------------------------------------------
def test_histc() -> None:
    rng = np.random.default_rng(3)
    data = rng.normal(size=(50,)).astype("float32")
    sm(lambda T, a: fn(T, "histc")(a, 10), data)
    sm(lambda T, a: fn(T, "histc")(a, 7, min=-1, max=1.5), data)
    sm(lambda T, a: fn(T, "histc")(a.double(), 5, min=0, max=1), X)
    sm(lambda T, a: meth(T, a, "histc", bins=4), X)
    sm(lambda T, a: fn(T, "histc")(a.half(), 3), X)
    sm(lambda T: fn(T, "histc")(T.tensor([1.0, NAN, 3.0, 0.5]), 4, min=0, max=2))
    sm(lambda T: fn(T, "histc")(T.tensor([1.0, 1.0]), 4))  # one value: the range widened by 1 on each side
    sm(lambda T: fn(T, "histc")(T.tensor([1.0, 3.0]), 4, min=2, max=2))  # min == max: the data's range
    sm(lambda T: fn(T, "histc")(T.tensor([]), 4))
    sm(lambda T: fn(T, "histc")(T.tensor([0.0, 0.25, 0.5, 0.75, 1.0]), 4, min=0, max=1))  # edges
    sm(lambda T, a: fn(T, "histc")(a, 4), X)  # (with grad: the counts do not require it)


HISTC_ERRORS = [
    lambda T: fn(T, "histc")(T.tensor([1, 2, 3]), 3),
    lambda T: fn(T, "histc")(T.ones(3), 0),
    lambda T: fn(T, "histc")(T.ones(3), -1),
    lambda T: fn(T, "histc")(T.ones(3), 4, min=3, max=1),
    lambda T: fn(T, "histc")(T.tensor([1.0, math.inf]), 4),
    lambda T: fn(T, "histc")(T.tensor([1.0, NAN]), 4),
]


@pytest.mark.parametrize("call", HISTC_ERRORS)
def test_histc_errors(call: Any) -> None:
    same_error(call)


# ---- cdist ------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("p", [0.0, 0.5, 1.0, 1.5, 2.0, 3.0, math.inf])
def test_cdist_direct(p: float) -> None:
    b = X[:2] * 1.7 + 0.1
    chk(lambda T, x1, x2: fn(T, "cdist")(x1, x2, p=p), X, b)
    chk(lambda T, x1, x2: fn(T, "cdist")(x1, x2, p=p), X.astype("float32"), b.astype("float32"))
    x3 = np.stack([X, X * 0.5])
    chk(lambda T, x1, x2: fn(T, "cdist")(x1, x2, p=p, compute_mode="donot_use_mm_for_euclid_dist"), x3, b[None])
    chk(lambda T, x1, x2: fn(T, "cdist")(x1, x2, p=p), X, X)  # zero distances on the diagonal


def test_cdist_matrix_product_form() -> None:
    rng = np.random.default_rng(0)
    a, b = rng.random((30, 3)), rng.random((27, 3))
    chk(lambda T, x1, x2: fn(T, "cdist")(x1, x2), a, b)  # more than 25 rows: the matrix product
    chk(lambda T, x1, x2: fn(T, "cdist")(x1, x2), a.astype("float32"), b.astype("float32"), atol=1e-4)
    chk(lambda T, x1, x2: fn(T, "cdist")(x1, x2, compute_mode="use_mm_for_euclid_dist"), X, X[:2] * 2)
    chk(lambda T, x1, x2: fn(T, "cdist")(x1, x2, compute_mode="donot_use_mm_for_euclid_dist"), a, b)
    a4, b3 = rng.random((2, 1, 4, 3)), rng.random((5, 3, 3))
    chk(lambda T, x1, x2: fn(T, "cdist")(x1, x2), a4, b3)
    chk(lambda T, x1, x2: fn(T, "cdist")(x1, x2, compute_mode="use_mm_for_euclid_dist"), a4, b3)
    chk(lambda T, x1, x2: fn(T, "cdist")(x1, x2, compute_mode="use_mm_for_euclid_dist"), a4[:1], b3[:1])


def test_cdist_second_order_through_the_matrix_product() -> None:
    def f(T: Any) -> Any:
        x1 = T.tensor(X, requires_grad=True)
        x2 = T.tensor(X[:2] * 2 + 0.5, requires_grad=True)
        y = fn(T, "cdist")(x1, x2, compute_mode="use_mm_for_euclid_dist")
        g1, g2 = T.autograd.grad(y.sum(), (x1, x2), create_graph=True)
        return y, g1.detach(), T.autograd.grad((g1 * g1).sum() + g2.sum(), (x1, x2))

    sm(f)


CDIST_ERRORS = [
    lambda T: fn(T, "cdist")(T.ones(4), T.ones(3, 4)),
    lambda T: fn(T, "cdist")(T.ones(3, 4), T.ones(4)),
    lambda T: fn(T, "cdist")(T.ones(3, 4), T.ones(3, 2)),
    lambda T: fn(T, "cdist")(T.tensor([[1, 2]]), T.tensor([[1, 2]])),
    lambda T: fn(T, "cdist")(T.ones(3, 4), T.ones(3, 4), p=-1),
    lambda T: fn(T, "cdist")(T.ones(3, 4), T.ones(3, 4), compute_mode="foo"),
    lambda T: fn(T, "cdist")(T.ones(3, 4), T.ones(3, 4, dtype=T.float64)),
]


@pytest.mark.parametrize("call", CDIST_ERRORS)
def test_cdist_errors(call: Any) -> None:
    same_error(call)


# ---- block_diag / vander ------------------------------------------------------------------------------------------
def test_block_diag() -> None:
    chk(lambda T, a, b, c: fn(T, "block_diag")(a, b, c), X, X[0], np.array(2.5))
    chk(lambda T, a, b: fn(T, "block_diag")(a, b), X.astype("float32"), X[:2, :3])  # float32 and float64
    sm(lambda T: fn(T, "block_diag")(T.tensor([1, 2]), T.tensor(3.0), T.tensor([[True]])))
    sm(lambda T: fn(T, "block_diag")(T.tensor([1], dtype=T.int8), T.tensor([2], dtype=T.uint8)))
    sm(lambda T: fn(T, "block_diag")())
    sm(lambda T: fn(T, "block_diag")(T.ones(0, 2), T.ones(2, 0)))
    same_error(lambda T: fn(T, "block_diag")(T.ones(2, 2), T.zeros(1, 1, 1)))
    same_error(lambda T: fn(T, "block_diag")([T.ones(2)]))


def test_vander() -> None:
    sm(lambda T, x: fn(T, "vander")(x), X[0])
    sm(lambda T, x: fn(T, "vander")(x, N=3, increasing=True), X[0].astype("float32"))
    sm(lambda T, x: fn(T, "vander")(x, N=6), X[2])
    sm(lambda T, x: fn(T, "vander")(x.half(), 3), X[0])
    sm(lambda T: fn(T, "vander")(T.tensor([2, 3], dtype=T.int8)))
    sm(lambda T: fn(T, "vander")(T.tensor([True, False])))
    for n in (0, 1):
        chk(lambda T, x, n=n: fn(T, "vander")(x, N=n), X[0])  # (a constant: no graph)


def test_vander_backward_fails_as_torchs() -> None:
    # torch's vander overwrites what its cumprod saved: every backward through it fails on the version check
    for n, inc in ((None, False), (3, True), (2, False)):
        chk(lambda T, x, n=n, inc=inc: fn(T, "vander")(x, N=n, increasing=inc), X[0])
        chk(lambda T, x, n=n, inc=inc: fn(T, "vander")(x, N=n, increasing=inc), X[0].astype("float32"))


VANDER_ERRORS = [
    lambda T: fn(T, "vander")(T.ones(2, 2)),
    lambda T: fn(T, "vander")(T.ones(3), N=-1),
]


@pytest.mark.parametrize("call", VANDER_ERRORS)
def test_vander_errors(call: Any) -> None:
    same_error(call)


# ---- trapezoid / trapz / cumulative_trapezoid ---------------------------------------------------------------------
T_X = np.array([0.0, 0.5, 2.0, 3.0])


@pytest.mark.parametrize("name", ["trapezoid", "trapz", "cumulative_trapezoid"])
def test_trapezoid_rules(name: str) -> None:
    for dt in ("float32", "float64"):
        y = X.astype(dt)
        chk(lambda T, a: fn(T, name)(a), y)
        chk(lambda T, a: fn(T, name)(a, dx=0.5, dim=0), y)
        chk(lambda T, a: fn(T, name)(a, dx=3), y)
        chk(lambda T, a, t: fn(T, name)(a, t), y, T_X.astype(dt))
        chk(lambda T, a, t: fn(T, name)(a, t, dim=0), y, X[:, 0].astype(dt))
        chk(lambda T, a, t: fn(T, name)(a, t, dim=0), y, (X * 2).astype(dt))  # x of y's shape
        chk(lambda T, a, t: fn(T, name)(a, t), y, np.stack([T_X, T_X * 2, T_X + 1]).astype(dt)[:1])
    sm(lambda T: fn(T, name)(T.tensor([1, 2, 4])))
    sm(lambda T: fn(T, name)(T.tensor([1, 2, 4]), T.tensor([0, 1, 3])))
    sm(lambda T: fn(T, name)(T.zeros(3, 0)))
    sm(lambda T: fn(T, name)(T.ones(3, 1)))


TRAPEZOID_ERRORS = [
    lambda T, n: fn(T, n)(T.ones(3, 4), T.ones(4), dx=1.0),
    lambda T, n: fn(T, n)(T.tensor([True, False])),
    lambda T, n: fn(T, n)(T.ones(3, 4), T.tensor([True, False, True, True])),
    lambda T, n: fn(T, n)(T.ones(3, 4), T.tensor([1.0, 2.0])),
    lambda T, n: fn(T, n)(T.ones(3, 4), T.ones(2, 4)),
    lambda T, n: fn(T, n)(T.tensor(1.0)),
    lambda T, n: fn(T, n)(T.ones(3, 4), dim=2),
]


def test_trapezoid_bool_dx() -> None:
    same_error(lambda T: fn(T, "trapezoid")(T.ones(3, 4), dx=True))
    same_error(lambda T: fn(T, "cumulative_trapezoid")(T.ones(3, 4), dx=True))
    sm(lambda T: fn(T, "trapz")(T.ones(3, 4), dx=True))  # (trapz's dx is a float: True is 1.0)


@pytest.mark.parametrize("name", ["trapezoid", "trapz", "cumulative_trapezoid"])
@pytest.mark.parametrize("call", TRAPEZOID_ERRORS)
def test_trapezoid_errors(call: Any, name: str) -> None:
    same_error(call, name)


# ---- take_along_dim -----------------------------------------------------------------------------------------------
def test_take_along_dim() -> None:
    chk(lambda T, x: fn(T, "take_along_dim")(x, T.tensor([[0], [1], [2]]), dim=1), X)
    chk(lambda T, x: fn(T, "take_along_dim")(x, T.tensor([[0, 3]]), dim=1), X)  # indices broadcast
    chk(lambda T, x: fn(T, "take_along_dim")(x[:1], T.tensor([[2, 0], [1, 1], [3, 0]]), dim=1), X)  # input bcast
    chk(lambda T, x: fn(T, "take_along_dim")(x, T.tensor([0, 5, 5, 11])), X)  # flat
    chk(lambda T, x: meth(T, x, "take_along_dim", T.tensor([0, 5], dtype=T.int32)), X)
    chk(lambda T, x: fn(T, "take_along_dim")(x, x.argsort(dim=-1), dim=-1), X)


TAD_ERRORS = [
    lambda T: fn(T, "take_along_dim")(T.ones(3, 4), T.tensor([0]), dim=1),
    lambda T: fn(T, "take_along_dim")(T.ones(3, 4), T.tensor([[0]], dtype=T.int32), dim=1),
    lambda T: fn(T, "take_along_dim")(T.ones(3, 4), T.zeros(2, 1, dtype=T.long), dim=1),
]


@pytest.mark.parametrize("call", TAD_ERRORS)
def test_take_along_dim_errors(call: Any) -> None:
    same_error(call)


# ---- scatter_reduce -------------------------------------------------------------------------------------------------
I_SMALL = np.array([[0, 0, 1], [1, 1, 1], [0, 2, 2]])
I_FULL = np.array([[0, 0, 1, 3], [1, 1, 1, 0], [0, 2, 2, 2]])
SRC = np.array([[0.5, 2.0, 0.0, 1.5], [3.0, 0.0, -1.0, 0.0], [1.0, -0.5, 4.0, 0.0]])


@pytest.mark.parametrize("reduce", ["sum", "prod", "mean", "amax", "amin", "max", "min"])
@pytest.mark.parametrize("include_self", [True, False])
def test_scatter_reduce(reduce: str, include_self: bool) -> None:
    kw = {"include_self": include_self}
    chk(lambda T, x, s: fn(T, "scatter_reduce")(x, 1, T.tensor(I_FULL), s, reduce, **kw), X, SRC)
    chk(lambda T, x, s: fn(T, "scatter_reduce")(x, 0, T.tensor(I_FULL[:2] % 3), s, reduce, **kw), X, SRC[:2])
    # an index smaller than src: torch's prod backward fails on the shapes, the others gather
    chk(lambda T, x, s: fn(T, "scatter_reduce")(x, 1, T.tensor(I_SMALL), s, reduce, **kw), X, SRC)
    chk(lambda T, x, s: meth(T, x, "scatter_reduce", -1, T.tensor(I_FULL), s, reduce, **kw), X.astype("f4"),
        SRC.astype("f4"))  # fmt: skip
    ties = np.ones((3, 4))
    chk(lambda T, x, s: fn(T, "scatter_reduce")(x, 1, T.tensor(I_FULL), s, reduce, **kw), ties, ties)
    sm(lambda T: fn(T, "scatter_reduce")(T.tensor([[1, 2, 3]]), 1, T.tensor([[0, 0, 0]]),
                                         T.tensor([[4, -5, 8]]), reduce, **kw))  # fmt: skip
    chk(lambda T, x, s: fn(T, "scatter_reduce")(x, 1, T.tensor(I_FULL, dtype=T.int32), s, reduce, **kw), X, SRC)


def test_scatter_reduce_inplace_and_second_order() -> None:
    def f(T: Any) -> Any:
        x = T.tensor(X, requires_grad=True)
        s = T.tensor(SRC, requires_grad=True)
        a = x * 1
        meth(T, a, "scatter_reduce_", 1, T.tensor(I_FULL), s, "amax", include_self=False)
        b = fn(T, "scatter_reduce")(x, 1, T.tensor(I_FULL), s * s, "mean")
        gx, gs = T.autograd.grad((a * b).sum(), (x, s), create_graph=True)
        return a, b, gx.detach(), T.autograd.grad((gx * gs.sum()).sum(), (x, s), allow_unused=True)

    sm(f)


SR_ERRORS = [
    lambda T: fn(T, "scatter_reduce")(T.ones(3, 4), 1, T.tensor([[0]]), T.ones(3, 4), "add"),
    lambda T: fn(T, "scatter_reduce")(T.ones(3, 4), 1, T.tensor([[0]], dtype=T.int16), T.ones(3, 4), "sum"),
    lambda T: fn(T, "scatter_reduce")(T.ones(3, 4), 1, T.tensor([[0.0]]), T.ones(3, 4), "sum"),
    lambda T: fn(T, "scatter_reduce")(T.ones(3, 4), 1, T.tensor([[0]]), T.ones(3, 4, dtype=T.float64), "sum"),
    lambda T: fn(T, "scatter_reduce")(T.ones(3, 4), 1, T.tensor([[4]]), T.ones(3, 4), "sum"),
    lambda T: fn(T, "scatter_reduce")(T.ones(3, 4), 1, T.tensor([[-1]]), T.ones(3, 4), "sum"),
    lambda T: fn(T, "scatter_reduce")(T.ones(3, 4), 1, T.tensor([0]), T.ones(3, 4), "sum"),
    lambda T: fn(T, "scatter_reduce")(T.ones(3, 4), 1, T.zeros(4, 4, dtype=T.long), T.ones(3, 4), "sum"),
    lambda T: fn(T, "scatter_reduce")(T.ones(3, 4), 1, T.zeros(2, 2, dtype=T.long), T.ones(1, 4), "sum"),
    lambda T: fn(T, "scatter_reduce")(T.ones(3, 4), 1, T.tensor([[0]]), T.ones(3, 4)),
]


@pytest.mark.parametrize("call", SR_ERRORS)
def test_scatter_reduce_errors(call: Any) -> None:
    same_error(call)


# ---- gcd / lcm ----------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["gcd", "lcm"])
def test_gcd_lcm(name: str) -> None:
    a, b = [12, -18, 0, 7, 0, 25], [8, 12, 0, -14, 5, -10]
    sm(lambda T: fn(T, name)(T.tensor(a), T.tensor(b)))
    sm(lambda T: fn(T, name)(T.tensor(a, dtype=T.int32), T.tensor(b, dtype=T.int8)))
    sm(lambda T: fn(T, name)(T.tensor([4, 9], dtype=T.uint8), T.tensor([6, 3], dtype=T.int8)))
    sm(lambda T: fn(T, name)(T.tensor([[4], [9]]), T.tensor([6, 3, 0])))
    sm(lambda T: fn(T, name)(T.tensor([-(2**63)]), T.tensor([1])))

    def inplace(T: Any) -> Any:
        x = T.tensor([4, 6, 10])
        r = meth(T, x, name + "_", T.tensor([6]))
        return x, r is x, meth(T, T.tensor([3, 5]), name, T.tensor([9, 25]))

    sm(inplace)
    same_error(lambda T: fn(T, name)(T.ones(2), T.ones(2)))
    same_error(lambda T: fn(T, name)(T.tensor([True]), T.tensor([True])))
    same_error(lambda T: fn(T, name)(T.tensor([4]), 2))
    same_error(lambda T: fn(T, name)(T.tensor([4, 1]), T.tensor([1, 2, 3])))


# ---- heaviside --------------------------------------------------------------------------------------------------
def test_heaviside() -> None:
    x = [-1.5, 0.0, 2.0, float("nan"), -0.0, float("inf")]
    sm(lambda T: fn(T, "heaviside")(T.tensor(x), T.tensor([0.5])))
    sm(lambda T: fn(T, "heaviside")(T.tensor(x, dtype=T.float64), T.tensor(7.0, dtype=T.float64)))
    sm(lambda T: fn(T, "heaviside")(T.tensor([1, 0, -2]), T.tensor([5])))
    sm(lambda T: fn(T, "heaviside")(T.tensor([True, False]), T.tensor([True])))
    sm(lambda T: fn(T, "heaviside")(T.tensor([[0.0], [3.0]]), T.tensor([0.25, 0.75])))

    def inplace(T: Any) -> Any:
        y = T.tensor([1.0, 0.0, -3.0])
        return y, meth(T, y, "heaviside_", T.tensor([3.0])) is y

    sm(inplace)
    same_error(lambda T: fn(T, "heaviside")(T.tensor([1.0]), T.tensor([1])))
    same_error(lambda T: fn(T, "heaviside")(T.ones(2), 0.5))
    same_error(lambda T: fn(T, "heaviside")(T.ones(2, 3), T.ones(2)))
    # no derivative in torch: the node says so when backward reaches it
    same_error(lambda T: fn(T, "heaviside")(T.ones(2, requires_grad=True), T.ones(1)).sum().backward())


# ---- broadcasting helpers and predicates --------------------------------------------------------------------------
def test_broadcast_tensors() -> None:
    chk(lambda T, a, b: fn(T, "broadcast_tensors")(a, b[:1], T.tensor(1.0)), X, X)
    chk(lambda T, a, b: fn(T, "broadcast_tensors")(a[:, :1], b[0]), X, X)
    sm(lambda T: fn(T, "broadcast_tensors")())
    same_error(lambda T: fn(T, "broadcast_tensors")(T.ones(3, 4), T.zeros(2)))
    same_error(lambda T: fn(T, "broadcast_tensors")([T.ones(3, 4), T.zeros(4)]))


def test_broadcast_shapes() -> None:
    sm(lambda T: [fn(T, "broadcast_shapes")((3, 1), (4,), ()), fn(T, "broadcast_shapes")(2, (3, 1)),
                  fn(T, "broadcast_shapes")(), fn(T, "broadcast_shapes")([3, 1], T.Size([2])),
                  fn(T, "broadcast_shapes")((0,), (1, 1))])  # fmt: skip
    same_error(lambda T: fn(T, "broadcast_shapes")((3, 2), (4,)))
    same_error(lambda T: fn(T, "broadcast_shapes")([3, 1], [2, 4], (5, 4)))
    same_error(lambda T: fn(T, "broadcast_shapes")((-1,), (3,)))
    same_error(lambda T: fn(T, "broadcast_shapes")("ab"))


def test_predicates() -> None:
    sm(lambda T: [fn(T, "is_nonzero")(T.tensor(v)) for v in ([0.0], 1, NAN, [False], [[3]])])
    sm(lambda T: [meth(T, T.tensor([0]), "is_nonzero"), meth(T, T.ones(2, 3), "is_same_size", T.ones(2, 3))])
    sm(lambda T, x: (fn(T, "is_same_size")(x, x.T), fn(T, "is_same_size")(x, x * 2)), X)
    dts = ("bool", "uint8", "int8", "int32", "int64", "float16", "float32", "float64")
    sm(lambda T: [fn(T, "can_cast")(getattr(T, a), getattr(T, b)) for a in dts for b in dts])
    for call in (
        lambda T: fn(T, "is_nonzero")(T.tensor([1, 2])),
        lambda T: fn(T, "is_nonzero")(T.tensor([])),
        lambda T: fn(T, "is_nonzero")([1]),
        lambda T: fn(T, "is_same_size")(T.ones(2), 3),
        lambda T: fn(T, "can_cast")(T.float32, "a"),
        lambda T: fn(T, "can_cast")(T.ones(2), T.float32),
    ):
        same_error(call)


def test_tables_name_torch_functions() -> None:
    assert set(ST.TORCH) <= set(dir(torch))
    assert set(ST.METHODS) <= set(dir(torch.Tensor))
