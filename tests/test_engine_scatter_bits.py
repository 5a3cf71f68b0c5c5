"""index_add and scatter_add bit for bit with torch's cpu kernels: sources are added onto the input in index
order (a repeated index sums onto what the earlier ones left, not the sources first), alpha fused on a matrix;
and nll_loss refuses a weight that requires grad, as torch's autograd wrapper does."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import engine

IDX = np.array([0, 2, 1, 2, 4, 2, 0])


@pytest.mark.parametrize("dt", ["float32", "float64"])
@pytest.mark.parametrize(
    ("shape", "dim", "alpha"),
    [((6, 13), 0, 1), ((6, 13), 0, 0.3), ((13, 6), 1, 1), ((13, 6), 1, 0.3), ((9,), 0, 1), ((9,), 0, 0.3),
     ((6, 4, 5), 0, 0.7), ((4, 6, 5), 1, 0.7)],
)  # fmt: skip
def test_index_add_bits(dt: str, shape: tuple, dim: int, alpha: float) -> None:
    rng = np.random.default_rng(5)
    x = rng.standard_normal(shape).astype(dt)
    ss = list(shape)
    ss[dim] = len(IDX)
    s = rng.standard_normal(ss).astype(dt)
    r = [
        m.index_add(m.tensor(x), dim, m.tensor(IDX), m.tensor(s), alpha=alpha).numpy().tobytes()
        for m in (torch, engine)
    ]
    assert r[0] == r[1]


@pytest.mark.parametrize("dt", ["float32", "float64"])
@pytest.mark.parametrize(
    ("shape", "dim", "ishape"),
    [((6, 13), 1, (6, 7)), ((6, 13), 0, (9, 13)), ((5,), 0, (8,)), ((4, 5, 6), 2, (4, 5, 9))],
)
def test_scatter_add_bits(dt: str, shape: tuple, dim: int, ishape: tuple) -> None:
    rng = np.random.default_rng(6)
    x = (rng.standard_normal(shape) * 3).astype(dt)
    idx = rng.integers(0, shape[dim], ishape)
    s = (rng.standard_normal(ishape) * 3).astype(dt)
    r = [m.scatter_add(m.tensor(x), dim, m.tensor(idx), m.tensor(s)).numpy().tobytes() for m in (torch, engine)]
    assert r[0] == r[1]
    r = [m.tensor(x).scatter_add_(dim, m.tensor(idx), m.tensor(s)).numpy().tobytes() for m in (torch, engine)]
    assert r[0] == r[1]


@pytest.mark.parametrize("shape", [(6, 13), (2, 13, 3, 3)])
def test_nll_loss_weight_requiring_grad_is_refused(shape: tuple) -> None:
    errors = []
    for m in (torch, engine):
        w = m.ones(13, requires_grad=True)
        target = m.zeros((shape[0], *shape[2:]), dtype=m.long)
        try:
            m.nn.functional.cross_entropy(m.randn(*shape), target, weight=w * 2)
        except RuntimeError as e:
            errors.append(str(e))
    assert len(errors) == 2 and errors[0] == errors[1]


@pytest.mark.parametrize("dt", ["float16", "bfloat16"])
@pytest.mark.parametrize("dim", [0, 1])
def test_half_scatter_add_and_index_add_sum_in_float(dt: str, dim: int) -> None:
    """torch's cpu kernels keep a float16/bfloat16 scatter_add's and index_add's sums in float, rounding once."""
    rng = np.random.default_rng(8)
    x = (rng.standard_normal((6, 13)) * 3).astype(np.float32)
    n = x.shape[dim]
    idx = rng.integers(0, n, (9, 13) if dim == 0 else (6, 9))
    s = (rng.standard_normal(idx.shape) * 3).astype(np.float32)
    r = [
        m.scatter_add(m.tensor(x).to(getattr(m, dt)), dim, m.tensor(idx), m.tensor(s).to(getattr(m, dt)))
        .float()
        .numpy()
        .tobytes()
        for m in (torch, engine)
    ]
    assert r[0] == r[1]
    i1 = np.array([0, 2, 1, 2, 4, 2, 0]) % n
    src = (rng.standard_normal((7, 13) if dim == 0 else (6, 7)) * 3).astype(np.float32)
    r = [
        m.index_add(m.tensor(x).to(getattr(m, dt)), dim, m.tensor(i1), m.tensor(src).to(getattr(m, dt)))
        .float()
        .numpy()
        .tobytes()
        for m in (torch, engine)
    ]
    assert r[0] == r[1]
