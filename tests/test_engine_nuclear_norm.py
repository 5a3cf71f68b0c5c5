"""The nuclear and spectral matrix norms against PyTorch: torch.nuclear_norm (with torch's deprecation
warnings), torch.norm(x, p='nuc'), Tensor.norm, linalg.matrix_norm and linalg.norm with ord 'nuc', 2 and -2,
over dim/keepdim/dtype; gradients through the singular values (gradcheck) and torch's errors."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from helpers import check, same_error
from hypothesis import given, settings
from hypothesis import strategies as st

import engine
from engine.autograd import gradcheck, gradgradcheck

pytestmark = pytest.mark.usefixtures("device")

FORMS = {
    "nuclear_norm": lambda T, x, dim, keepdim: T.nuclear_norm(x, dim, keepdim),
    "norm_nuc": lambda T, x, dim, keepdim: T.norm(x, p="nuc", dim=dim, keepdim=keepdim),
    "method_nuc": lambda T, x, dim, keepdim: x.norm("nuc", dim, keepdim),
    "matrix_norm_nuc": lambda T, x, dim, keepdim: T.linalg.matrix_norm(x, "nuc", dim, keepdim),
    "linalg_norm_nuc": lambda T, x, dim, keepdim: T.linalg.norm(x, "nuc", dim, keepdim),
    "matrix_norm_2": lambda T, x, dim, keepdim: T.linalg.matrix_norm(x, 2, dim, keepdim),
    "linalg_norm_-2": lambda T, x, dim, keepdim: T.linalg.norm(x, -2, dim, keepdim),
}


@settings(max_examples=40, deadline=None)
@given(
    form=st.sampled_from(sorted(FORMS)),
    shape=st.sampled_from([(3, 4), (2, 3, 2), (4, 2, 3), (1, 3)]),
    dims=st.sampled_from([(0, 1), (-1, -2), (1, 0)]),
    keepdim=st.booleans(),
    seed=st.integers(0, 2**16),
)
def test_nuclear_and_spectral_norms_values_and_grads(
    form: str, shape: tuple, dims: tuple, keepdim: bool, seed: int
) -> None:
    x = np.random.default_rng(seed).standard_normal(shape)  # (float64: distinct singular values, stable gradients)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        check(lambda T, x: FORMS[form](T, x, dims, keepdim) * 2, x)


def test_defaults_and_dtype() -> None:
    x = np.random.default_rng(3).standard_normal((2, 3, 4)).astype(np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        check(lambda T, x: (T.nuclear_norm(x), T.nuclear_norm(x, keepdim=True)), x)
        check(lambda T, x: T.norm(x[0], p="nuc", keepdim=True), x)
        check(lambda T, x: T.norm(x, p="nuc", dim=(0, 2), dtype=T.float64), x)
        check(lambda T, x: T.norm(x, p="nuc", dim=(2, 1), out=T.empty(2)), np.asarray(x), grad=False)


def test_nuclear_norm_warns_once_per_overload() -> None:
    from engine.warn import _WARNED_ONCE

    _WARNED_ONCE.difference_update({m for m in _WARNED_ONCE if m.startswith("at::nuclear_norm")})
    x = engine.randn(3, 3)
    with pytest.warns(UserWarning, match=r"at::nuclear_norm is deprecated .*LinearAlgebra.cpp:3229"):
        engine.nuclear_norm(x)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        engine.nuclear_norm(x, dim=(0, 1))
    with pytest.warns(UserWarning, match=r"LinearAlgebra.cpp:3217"):
        engine.nuclear_norm(x, out=engine.empty(()))
    with pytest.warns(UserWarning, match=r"LinearAlgebra.cpp:3241"):
        engine.nuclear_norm(x, (0, 1), out=engine.empty(()))


def test_gradcheck() -> None:
    x = engine.randn(2, 3, 4, dtype=engine.float64, requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert gradcheck(lambda x: engine.nuclear_norm(x, (1, 2)), (x,))
    assert gradcheck(lambda x: engine.norm(x, p="nuc", dim=(0, 2)), (x,))
    assert gradcheck(lambda x: engine.linalg.matrix_norm(x, -2), (x,))
    assert gradgradcheck(lambda x: engine.linalg.norm(x[0], "nuc"), (x,))


ERRORS = {
    "norm_3d_no_dim": lambda T: T.norm(T.ones(2, 3, 4), p="nuc"),
    "norm_int_dim": lambda T: T.norm(T.ones(2, 3, 4), p="nuc", dim=0),
    "same_dims": lambda T: T.nuclear_norm(T.ones(2, 3, 4), dim=(1, 1)),
    "one_dim": lambda T: T.nuclear_norm(T.ones(2, 3, 4), dim=(1,)),
    "long": lambda T: T.nuclear_norm(T.ones(2, 3, dtype=T.int64)),
    "narrowing_dtype": lambda T: T.norm(T.ones(2, 3, dtype=T.float64), p="nuc", dtype=T.float32),
    "vector": lambda T: T.nuclear_norm(T.ones(3)),
}


@pytest.mark.parametrize("name", list(ERRORS))
@pytest.mark.filterwarnings("ignore:at::nuclear_norm is deprecated")
def test_errors(name: str) -> None:
    same_error(ERRORS[name])
