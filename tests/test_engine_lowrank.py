"""torch.svd_lowrank / torch.pca_lowrank against PyTorch under the same seed: the engine draws torch's randn
stream for the random projection, so the singular values agree within float tolerance, and U and V agree up to
each column's sign (the SVD of the small projected matrix is numpy's LAPACK gesdd, torch's is MKL's: the two
choose opposite signs for some singular vectors of wide matrices). Sign-invariant results (the low-rank
reconstruction, the singular values) are compared with their gradients; torch's argument errors too."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from helpers import check, same_error

import engine

pytestmark = pytest.mark.usefixtures("device")


def matrix(shape: tuple, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    low = rng.standard_normal((*shape[:-1], 3)) @ rng.standard_normal((3, shape[-1]))  # (rank 3 plus noise)
    return (low + 0.01 * rng.standard_normal(shape)).astype("float32")


CASES = [
    ("pca_lowrank", (20, 8), {}),
    ("pca_lowrank", (8, 20), {"q": 3}),
    ("pca_lowrank", (2, 12, 6), {"q": 4, "niter": 4}),
    ("pca_lowrank", (20, 8), {"center": False, "niter": 0}),
    ("svd_lowrank", (16, 10), {"q": 5}),
    ("svd_lowrank", (10, 16), {"q": 3, "niter": 1}),
]


@pytest.mark.parametrize(("name", "shape", "kw"), CASES)
def test_factors_match_up_to_column_signs(name: str, shape: tuple, kw: dict) -> None:
    a = matrix(shape)
    out = []
    for T in (torch, engine):
        T.manual_seed(7)
        out.append([t.detach().cpu().numpy() for t in getattr(T, name)(T.tensor(a), **kw)])
    (tu, ts, tv), (eu, es, ev) = out
    np.testing.assert_allclose(es, ts, rtol=1e-4, atol=1e-4)
    for t, e in ((tu, eu), (tv, ev)):
        signs = np.sign((t * e).sum(-2, keepdims=True))
        np.testing.assert_allclose(e * signs, t, atol=2e-3)


@pytest.mark.parametrize(("name", "shape", "kw"), CASES)
def test_reconstruction_and_gradients(name: str, shape: tuple, kw: dict) -> None:
    q = kw.get("q", min(6, *shape[-2:]))

    def f(T: object, a: object) -> object:
        T.manual_seed(7)
        U, S, V = getattr(T, name)(a, **kw)
        top = slice(0, min(q, 3))  # (the rank-3 part: its directions are well separated from the noise)
        return (U[..., top] * S[..., None, top]) @ V[..., top].mH, S[..., top]

    check(f, matrix(shape), atol=2e-4, rtol=2e-4, grad_atol=5e-3, grad_rtol=5e-3, names=False)


def test_errors_match_torch() -> None:
    a = matrix((5, 4))
    same_error(lambda T, a: T.pca_lowrank(a, q=5), a)
    same_error(lambda T, a: T.pca_lowrank(a, q=-1), a)
    same_error(lambda T, a: T.pca_lowrank(a, niter=-1), a)
