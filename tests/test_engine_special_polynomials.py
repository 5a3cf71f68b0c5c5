"""torch.special's orthogonal polynomials (chebyshev_polynomial_t/u/v/w and their shifted_ forms,
hermite_polynomial_h/he, laguerre_polynomial_l, legendre_polynomial_p) and the Hurwitz zeta against torch: the
same bits on the cpu in float32 and float64 over grids of x (end points, inside and outside the interval, large,
infinite) and degrees (negative, small, past the closed-form and Hermite limits, fractional, nan and infinite);
the (tensor, number) overloads, dtype promotion, broadcasting, out=, torch's argument errors, and zeta's
derivative (q's, and the NotImplementedError for x's)."""

from __future__ import annotations

import helpers
import numpy as np
import pytest
import torch
from helpers import Arg, check, computed, graph, same, same_error

import engine

pytestmark = pytest.mark.usefixtures("device")

POLYNOMIALS = [
    *(f"chebyshev_polynomial_{k}" for k in "tuvw"),
    *(f"shifted_chebyshev_polynomial_{k}" for k in "tuvw"),
    "hermite_polynomial_h",
    "hermite_polynomial_he",
    "laguerre_polynomial_l",
    "legendre_polynomial_p",
]
# fmt: skip
NAN_X_SAFE = ("hermite_polynomial_h", "hermite_polynomial_he")  # (elsewhere torch returns an uninitialised value)


def assert_same_bits(got: np.ndarray, want: np.ndarray) -> None:
    if helpers.DEVICE == "cpu":
        bits = np.int32 if got.dtype == np.float32 else np.int64  # (bits: -0.0 is not 0.0)
        wrong = ~((got.view(bits) == want.view(bits)) | (np.isnan(got) & np.isnan(want)))
        assert not wrong.any(), f"{wrong.sum()} differ, first at {np.nonzero(wrong)[0][:5]}"
    else:  # (a device has its own cos/sin/acos: an ulp of acos is n ulps of cos(n acos x) in the closed forms)
        f32 = got.dtype == np.float32
        np.testing.assert_allclose(got, want, rtol=1e-3 if f32 else 1e-9, atol=1e-3 if f32 else 1e-9)


def polynomial_grid(nan_x: bool) -> tuple:
    rng = np.random.default_rng(3)
    xs = np.concatenate(
        [
            np.linspace(-2.5, 2.5, 201),
            [0.0, -0.0, 1.0, -1.0, 0.5, 1.0000001, 0.9999999, 1e10, -1e10, np.inf, -np.inf],
            rng.standard_normal(60) * 3,
        ]
    )
    if nan_x:
        xs = np.append(xs, np.nan)
    ns = np.array([-3, -1, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 13, 2.7, -0.5, 50, 129, 200, 513, np.nan, np.inf,
                   -np.inf, 1e30])  # fmt: skip
    x, n = np.meshgrid(xs, ns)
    return x.ravel(), n.ravel()


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name", POLYNOMIALS)
def test_polynomials_bit_for_bit(name: str, dtype: str) -> None:
    x, n = polynomial_grid(name in NAN_X_SAFE)
    x, n = x.astype(dtype), n.astype(dtype)
    want = getattr(torch.special, name)(torch.tensor(x), torch.tensor(n)).numpy()
    got = getattr(engine.special, name)(engine.tensor(x), engine.tensor(n)).cpu().numpy()
    assert got.dtype == want.dtype
    assert_same_bits(got, want)


@pytest.mark.parametrize("name", POLYNOMIALS)
def test_polynomial_overloads_and_promotion(name: str) -> None:
    x = np.array([[-0.75], [0.2], [1.5]])

    def fn(T: object, case: int) -> object:
        f = getattr(T.special, name)
        if case == 0:
            return f(T.tensor(x, dtype=T.float32), 4), f(0.3, T.tensor([0, 3, 9])), f(T.tensor(x), T.tensor([2, 11]))
        if case == 1:  # integer x: the default float dtype; a float64 0-dim degree does not promote a float32 x
            return f(T.tensor([0, 1, 2]), T.tensor(3)), f(
                T.tensor([0.5], dtype=T.float32), T.tensor(3.0, dtype=T.float64)
            )
        out = T.empty(2)
        return f(T.tensor([0.5, 2.0]), 5, out=out), out

    for case in range(3):
        computed(lambda T, case=case: fn(T, case))
    for bad in (lambda f, T: f(0.5, 3), lambda f, T: f([0.5], 3), lambda f, T: f(T.ones(2, 3), T.ones(4, 1)),
                lambda f, T: f(T.ones(2).half(), 3), lambda f, T: f(T.ones(2), "3")):  # fmt: skip
        same_error(lambda T, bad=bad: bad(getattr(T.special, name), T))


def test_polynomials_never_require_grad() -> None:
    assert same(lambda T: T.special.legendre_polynomial_p(T.ones(2, requires_grad=True), 3).requires_grad) is False
    same_error(lambda T: T.special.chebyshev_polynomial_t(T.ones(2, requires_grad=True), 3).sum().backward())


def test_high_degree_outside_the_interval_stops_at_nan() -> None:
    """torch's loops stop once the value turns nan (after overflow), so a huge degree costs little there."""
    computed(lambda T: T.special.chebyshev_polynomial_t(T.tensor([3.0, -2.0]), T.tensor([10.0**9, 10.0**8])))


# ---- zeta --------------------------------------------------------------------------------------------------------
def zeta_grid() -> tuple:
    xs = np.concatenate([np.linspace(0.5, 12, 47), [1.0, 2.0, 3.0, 1.0000001, 50.0, np.inf, np.nan, -1.0]])
    qs = np.concatenate([np.linspace(-12.25, 15, 56), [0.0, -1.0, -2.0, -0.5, 1e-3, 1e6, np.inf, -np.inf, np.nan]])
    x, q = np.meshgrid(xs, qs)
    return x.ravel(), q.ravel()


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_zeta_bit_for_bit(dtype: str) -> None:
    x, q = (v.astype(dtype) for v in zeta_grid())
    want = torch.special.zeta(torch.tensor(x), torch.tensor(q)).numpy()
    got = engine.special.zeta(engine.tensor(x), engine.tensor(q)).cpu().numpy()
    assert got.dtype == want.dtype
    assert_same_bits(got, want)


def test_zeta_overloads_and_errors() -> None:
    computed(lambda T: (T.special.zeta(2, T.tensor([1.0, 3.5])), T.special.zeta(T.tensor([2.0, 4.0]), 2.5),
                        T.special.zeta(T.tensor([2, 3]), T.tensor([[1], [2]]))))  # fmt: skip
    computed(lambda T: (lambda out: (T.special.zeta(T.tensor([3.0]), 1.0, out=out), out))(T.empty(1)))
    for bad in (lambda T: T.special.zeta(2, 3), lambda T: T.special.zeta(T.ones(2).half(), 2.0),
                lambda T: T.special.zeta(T.ones(3), T.ones(2)),
                lambda T: T.special.zeta(T.ones(2), T.ones(2, requires_grad=True), out=T.empty(2))):  # fmt: skip
        same_error(bad)


@pytest.mark.parametrize("case", ["tensors", "number x", "number q"])
def test_zeta_derivative(case: str) -> None:
    """torch differentiates zeta in q only (-x zeta(x + 1, q)); x's derivative raises NotImplementedError."""
    x, q = np.array([2.0, 3.5, 5.0]), np.array([[1.5], [4.0]])
    if case == "tensors":  # (only q requires grad: the gradient comes back summed over the broadcast)
        check(lambda T, x, q: T.special.zeta(x, q), Arg(x), q)
        same_error(lambda T: T.special.zeta(T.tensor(x, requires_grad=True), T.tensor(q)).sum().backward())
    elif case == "number x":
        check(lambda T, q: T.special.zeta(2.5, q), q)
    else:
        node = same(lambda T: graph(T.special.zeta(T.tensor(x, requires_grad=True), 2.0)))
        assert node == "SpecialZetaBackward2(AccumulateGrad)"
        same_error(lambda T: T.special.zeta(T.tensor(x, requires_grad=True), 2.0).sum().backward())
