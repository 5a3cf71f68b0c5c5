"""torch.linalg.eig / eigvals against PyTorch: complex results and dtypes, eigenvalues in torch's order,
eigenvectors equal up to the unit factor per column that separates LAPACK builds, gradients of phase-invariant
losses (LinalgEigBackward0), complex inputs, torch's errors."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from helpers import check, same, same_error
from hypothesis import given, settings
from hypothesis import strategies as st

import engine
from engine.autograd import gradcheck, gradgradcheck

pytestmark = pytest.mark.usefixtures("device")


def _same_up_to_phase(ev: np.ndarray, tv: np.ndarray, tol: float) -> None:
    """Columns equal up to a unit complex factor each (geev's phase is fixed up to sign, per LAPACK build)."""
    inner = (tv.conj() * ev).sum(-2, keepdims=True)
    phase = inner / np.abs(inner)
    np.testing.assert_allclose(ev, tv * phase, atol=tol, rtol=tol)


@settings(max_examples=40, deadline=None)
@given(
    n=st.integers(1, 6),
    batch=st.sampled_from([(), (2,), (2, 1)]),
    double=st.booleans(),
    seed=st.integers(0, 2**16),
)
def test_eig_values_vectors_and_eigvals(n: int, batch: tuple, double: bool, seed: int) -> None:
    dt = np.float64 if double else np.float32
    a = np.random.default_rng(seed).standard_normal((*batch, n, n)).astype(dt)
    tol = 1e-9 if double else 2e-4
    tL, tV = torch.linalg.eig(torch.from_numpy(a))
    eL, eV = engine.linalg.eig(engine.tensor(a))
    assert str(eL.dtype) == str(tL.dtype) and str(eV.dtype) == str(tV.dtype)
    assert type(engine.linalg.eig(engine.tensor(a))).__name__ == "linalg_eig"
    ew = engine.linalg.eigvals(engine.tensor(a)).cpu().numpy()
    tw = torch.linalg.eigvals(torch.from_numpy(a)).numpy()
    if double:
        np.testing.assert_allclose(eL.cpu().numpy(), tL.numpy(), atol=tol, rtol=tol)
        _same_up_to_phase(eV.cpu().numpy(), tV.numpy(), tol * 10)
        np.testing.assert_allclose(ew, tw, atol=tol, rtol=tol)
    else:  # (single-precision geev of another LAPACK build may converge to the eigenvalues in another order)
        key = lambda w: np.sort_complex(np.round(w, 3))  # noqa: E731
        np.testing.assert_allclose(key(eL.cpu().numpy()), key(tL.numpy()), atol=2e-3)
        np.testing.assert_allclose(key(ew), key(tw), atol=2e-3)
    # (A V = V diag(L))
    av = engine.tensor(a).to(eV.dtype) @ eV
    np.testing.assert_allclose(av.cpu().numpy(), (eV * eL.unsqueeze(-2)).cpu().numpy(), atol=tol * 100)


@settings(max_examples=25, deadline=None)
@given(n=st.integers(1, 5), seed=st.integers(0, 2**16))
def test_gradients_of_phase_invariant_losses(n: int, seed: int) -> None:
    a = np.random.default_rng(seed).standard_normal((n, n))

    def fn(T: object, a: object) -> object:
        L, V = T.linalg.eig(a)
        return L.real, L.imag**2, V.abs(), T.linalg.eigvals(a).abs()

    check(fn, a, names=False, grad_atol=1e-6, grad_rtol=1e-5)


def test_nodes_and_complex_input() -> None:
    def fn(T: object) -> object:
        x = T.tensor([[1.0, 2.0, 0.0], [-1.0, 0.5, 3.0], [0.2, 0.1, -2.0]], requires_grad=True)
        L, V = T.linalg.eig(x)
        y = T.tensor([[1.0, 2.0], [-1.0, 0.5]], dtype=T.complex128, requires_grad=True)
        Ly = T.linalg.eig(y).eigenvalues
        Ly.abs().sum().backward()
        return L.grad_fn.name(), V.grad_fn.name(), T.linalg.eigvals(x).grad_fn.name(), Ly, y.grad

    same(fn)


def test_gradcheck() -> None:
    x = engine.tensor(np.random.default_rng(4).standard_normal((3, 4, 4)), requires_grad=True)
    assert gradcheck(lambda x: engine.linalg.eigvals(x).real, (x,))
    assert gradcheck(lambda x: engine.linalg.eig(x)[1].abs(), (x,))


def test_empty_and_non_finite() -> None:
    same(
        lambda T: (tuple(T.linalg.eig(T.ones(2, 0, 0))), T.linalg.eigvals(T.tensor([[1.0, float("inf")], [0.0, 1.0]])))
    )
    same(lambda T: T.linalg.eigvals(T.eye(2, dtype=T.complex64)))


ERRORS = {
    "non_square": lambda T: T.linalg.eig(T.ones(2, 3)),
    "eigvals_non_square": lambda T: T.linalg.eigvals(T.ones(2, 3)),
    "vector": lambda T: T.linalg.eig(T.ones(2)),
    "eigvals_vector": lambda T: T.linalg.eigvals(T.ones(3)),
    "long": lambda T: T.linalg.eig(T.ones(2, 2, dtype=T.long)),
    "bool": lambda T: T.linalg.eigvals(T.ones(2, 2, dtype=T.bool)),
    "list": lambda T: T.linalg.eig([[1.0]]),
    "eigvals_list": lambda T: T.linalg.eigvals([[1.0]]),
    "nan": lambda T: T.linalg.eig(T.tensor([[1.0, float("nan")], [0.0, 1.0]])),
    "phase": lambda T: T.linalg.eig(T.tensor([[1.0, 2.0], [-1.0, 0.5]], requires_grad=True))[1].sum().abs().backward(),
}


@pytest.mark.parametrize("name", list(ERRORS))
def test_errors(name: str) -> None:
    same_error(ERRORS[name])


@pytest.mark.filterwarnings("ignore:ComplexHalf support is experimental")
def test_half_error() -> None:
    same_error(lambda T: T.linalg.eig(T.ones(2, 2, dtype=T.half)))


def test_second_derivatives() -> None:
    a = np.random.default_rng(7).standard_normal((4, 4))

    def fn(T: object, a: object) -> object:
        L, V = T.linalg.eig(a)
        (g,) = T.autograd.grad((L.imag**2).sum() + V.abs().sum(), a, create_graph=True)
        return (g**2).sum()

    check(fn, a, names=False, grad_atol=1e-6, grad_rtol=1e-5)
    x = engine.tensor(a, requires_grad=True)
    assert gradgradcheck(lambda x: engine.linalg.eigvals(x).real, (x,))
    assert gradgradcheck(lambda x: engine.linalg.eig(x)[1].abs(), (x,))
