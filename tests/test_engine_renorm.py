"""torch.renorm / Tensor.renorm / renorm_ against PyTorch: values bit for bit where torch's factor
maxnorm / (norm + 1e-7) applies, dtypes, RenormBackward0 gradients (gradcheck), and torch's errors."""

from __future__ import annotations

import numpy as np
import pytest
from helpers import check, same, same_error
from hypothesis import given, settings
from hypothesis import strategies as st

import engine
from engine.autograd import gradcheck, gradgradcheck

pytestmark = pytest.mark.usefixtures("device")


@settings(max_examples=30, deadline=None)
@given(
    shape=st.sampled_from([(3, 4), (2, 3, 2), (1, 5), (4, 1, 3)]),
    p=st.sampled_from([1, 2, 3, 0.5, float("inf")]),
    dim=st.integers(-2, 1),
    maxnorm=st.sampled_from([0.0, 0.5, 2.0, 5.5, 100.0]),
    seed=st.integers(0, 2**16),
)
def test_renorm_random_shapes_values_and_grads(shape: tuple, p: float, dim: int, maxnorm: float, seed: int) -> None:
    x = np.random.default_rng(seed).standard_normal(shape).astype(np.float32) * 3
    check(lambda T, x: T.renorm(x, p, dim, maxnorm) * 2, x)


@pytest.mark.parametrize("dtype", ["float64", "float16", "complex64"])
def test_renorm_dtypes(dtype: str) -> None:
    def fn(T: object) -> object:
        x = (T.arange(12.0).reshape(3, 4) - 5).to(getattr(T, dtype))
        return x.renorm(2, 0, 5), T.renorm(x, 1, 1, 5.5), x.renorm(p=3, dim=-1, maxnorm=T.tensor(1.0))

    same(fn)


def test_renorm_in_place_out_and_empty() -> None:
    def fn(T: object) -> object:
        x = (T.arange(12.0).reshape(3, 4) - 5).requires_grad_()
        y = x * 1
        y.renorm_(2, 1, 3.0)
        o = T.empty(3, 4)
        T.renorm(x.detach(), 2, 0, 4, out=o)
        (y * T.arange(12.0).reshape(3, 4)).sum().backward()
        return y, o, x.grad, T.ones(0, 2).renorm(2, 0, 1)

    same(fn)


def test_renorm_gradcheck() -> None:
    x = engine.randn(3, 4, dtype=engine.float64, requires_grad=True)
    for p in (1.5, 2, float("inf")):
        assert gradcheck(lambda x, p=p: engine.renorm(x, p, 0, 1.0), (x,))
    assert gradgradcheck(lambda x: x.renorm(2, 1, 0.7), (x,))


ERRORS = {
    "p_zero": lambda T: T.ones(3, 2).renorm(0, 1, 1),
    "p_negative": lambda T: T.renorm(T.ones(3, 2), -1, 1, 1),
    "maxnorm": lambda T: T.renorm(T.ones(3, 2), 2, 0, -1),
    "one_dim": lambda T: T.renorm(T.ones(3), 2, 0, 1),
    "dim_range": lambda T: T.ones(3, 2).renorm(2, 2, 1),
    "dim_float": lambda T: T.ones(3, 2).renorm(2, 0.5, 1),
    "dim_float_function": lambda T: T.renorm(T.ones(3, 2), 2, 0.5, 1),
    "long": lambda T: T.renorm(T.ones(3, 2, dtype=T.int64), 2, 0, 1),
    "leaf": lambda T: T.ones(3, 2, requires_grad=True).renorm_(2, 0, 1),
}


@pytest.mark.parametrize("name", list(ERRORS))
def test_renorm_errors(name: str) -> None:
    same_error(ERRORS[name])
