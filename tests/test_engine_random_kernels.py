"""The sampling kernels ported from ATen for torch.distributions, against PyTorch: torch.poisson, torch.binomial,
torch._standard_gamma, torch._sample_dirichlet and Tensor.cauchy_ give torch's numbers bit for bit under
torch.manual_seed (over rates and parameters that reach every branch of the rejection samplers, in float32 and
float64), with torch's reparameterised gradients (_standard_gamma_grad, _dirichlet_grad), nodes and errors."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from helpers import check, same, same_error
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import engine

pytestmark = pytest.mark.usefixtures("device")

DTYPES = ["float32", "float64"]
# rates on both sides of the Poisson sampler's switch at 10, and 0
RATES = np.array([0.0, 1e-3, 0.5, 3.0, 9.99, 10.0, 30.0, 1000.0, 1e6])
# counts and probabilities reaching BTRS, inversion, both sides of 1/2 and the edges
COUNTS = np.array([0.0, 1.0, 5.0, 10.0, 30.0, 100.0, 1000.0, 50.0, 7.0, 1e5, 20.0, 3.0])
PROBS = np.array([0.5, 0.3, 0.9, 0.99, 0.05, 0.2, 0.7, 0.5, 0.0, 0.37, 1.0, 0.6])
# Gamma shapes below 1 (boosted), at 1, above, large, tiny and 0
ALPHAS = np.array([0.0, 1e-3, 0.1, 0.5, 0.99, 1.0, 1.5, 3.0, 10.0, 100.0])


def _seeded(lib: Any, fn: Any) -> Any:
    lib.manual_seed(2024)
    out = fn()
    return out, lib.rand(2, dtype=out.dtype)  # (and the stream continues where torch's does)


def _exact(fn: Any, *arrays: np.ndarray) -> None:
    check(fn, *arrays, grad=False, atol=0, rtol=0)


@pytest.mark.parametrize("dtype", DTYPES)
def test_poisson(dtype: str) -> None:
    _exact(lambda lib, r: _seeded(lib, lambda: lib.poisson(r.repeat(30))), RATES.astype(dtype))


@pytest.mark.parametrize("dtype", DTYPES)
def test_binomial(dtype: str) -> None:
    _exact(
        lambda lib, c, p: _seeded(lib, lambda: lib.binomial(c.repeat(20), p.repeat(20))),
        COUNTS.astype(dtype),
        PROBS.astype(dtype),
    )
    # broadcasting counts against probabilities, a nan probability
    _exact(
        lambda lib, c, p: _seeded(lib, lambda: lib.binomial(c.reshape(-1, 1), p)),
        COUNTS[:4].astype(dtype),
        np.array([0.25, 0.75, np.nan], dtype),
    )


@pytest.mark.parametrize("dtype", DTYPES)
def test_standard_gamma_and_its_gradient(dtype: str) -> None:
    _exact(lambda lib, a: _seeded(lib, lambda: lib._standard_gamma(a.repeat(20))), ALPHAS.astype(dtype))

    def fn(lib: Any, a: Any) -> Any:
        lib.manual_seed(7)
        return lib._standard_gamma(a)

    check(fn, (ALPHAS[1:] + 0.05).astype(dtype), grad_atol=1e-4, grad_rtol=1e-4)


@pytest.mark.parametrize("dtype", DTYPES)
def test_sample_dirichlet(dtype: str) -> None:
    alpha = np.array([[0.5, 1.0, 2.0], [3.0, 0.1, 7.0], [0.01, 0.02, 0.03], [30.0, 40.0, 0.5]], dtype)
    _exact(lambda lib, a: _seeded(lib, lambda: lib._sample_dirichlet(a.repeat(5, 1))), alpha)


@pytest.mark.parametrize("dtype", DTYPES)
def test_reparameterised_gradient_kernels(dtype: str) -> None:
    """_standard_gamma_grad and _dirichlet_grad over every branch: small x, large alpha near and off the mean,
    the rational approximation; x near 0 and 1 for the Beta marginals."""
    x = np.array([0.05, 0.3, 0.7, 0.95, 0.5, 0.01], dtype)
    for alpha in (0.3, 2.0, 9.0, 50.0):
        a = np.full_like(x, alpha)
        check(lambda lib, a, v: lib._standard_gamma_grad(a, v), a, x * 3 * alpha, grad=False, atol=1e-5, rtol=1e-5)
        check(lambda lib, v, a: lib._dirichlet_grad(v, a, a * 2.3), x, a, grad=False, atol=1e-5, rtol=1e-4)


@pytest.mark.parametrize("dtype", ["float32", "float64", "float16"])
def test_cauchy_(dtype: str) -> None:
    def fn(lib: Any) -> Any:
        lib.manual_seed(3)
        a = lib.empty(40, dtype=getattr(lib, dtype)).cauchy_()
        b = lib.empty(3, 4, dtype=getattr(lib, dtype)).t().cauchy_(-2.0, 7.0)
        return a, b, lib.rand(2)

    same(fn)


def test_errors_and_nodes() -> None:
    same_error(lambda lib: lib.poisson(lib.tensor([1, 2])))
    same_error(lambda lib: lib.poisson(lib.tensor([-1.0])))
    same_error(lambda lib: lib.binomial(lib.tensor([5.0]), lib.tensor([0.5], dtype=lib.float64)))
    same_error(lambda lib: lib.binomial(lib.tensor([5]), lib.tensor([1])))
    same_error(lambda lib: lib.empty(3, dtype=lib.int64).cauchy_())
    same_error(lambda lib: lib.empty(3).cauchy_(0.0, -1.0))

    def nodes(lib: Any, r: Any) -> Any:
        lib.manual_seed(0)
        return lib.poisson(r), lib._standard_gamma(r), lib.zeros(3, requires_grad=True).clone().cauchy_()

    check(nodes, np.array([1.0, 20.0, 3.0], np.float32))
    p = engine.tensor([0.3, 0.9], requires_grad=True)
    y = engine.binomial(engine.tensor([5.0, 100.0]), p)
    assert type(y.grad_fn).__name__ == "NotImplemented"
    with pytest.raises(RuntimeError, match="derivative for aten::binomial is not implemented"):
        y.sum().backward()


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    rate=st.floats(0, 200, width=32),
    count=st.integers(0, 500),
    p=st.floats(0, 1, width=32),
    alpha=st.floats(0, 50, width=32),
    seed=st.integers(0, 2**32 - 1),
)
def test_samplers_on_random_parameters(rate: float, count: int, p: float, alpha: float, seed: int) -> None:
    def fn(lib: Any) -> Any:
        lib.manual_seed(seed)
        return (
            lib.poisson(lib.full((5,), rate)),
            lib.binomial(lib.full((5,), float(count)), lib.full((5,), p)),
            lib._standard_gamma(lib.full((5,), alpha)),
            lib.randn(3),
        )

    check(lambda lib: fn(lib), grad=False, atol=0, rtol=0)
