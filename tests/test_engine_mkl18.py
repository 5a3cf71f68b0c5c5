"""float32 matrix products at torch's default thread count, bit for bit: torch's MKL on two threads computes a
product of 5-11 rows (not a multiple of 4) from 17 columns (12 with k >= 17) as its whole 4-row blocks and its
last rows apart (engine/ops/mkl.py: _small_split, _gemm_tail_split), where one thread (the sequential library)
gives other last bits. Compared with real torch at its default thread count, which the engine reads the same
way (skipped where that count is not 1 or 2: more threads split otherwise, not reproduced)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import engine
import engine.nn.functional as EF
from engine import process
from engine.ops import mkl
from engine.ops.cascade_sum import torch_threads


@pytest.fixture(autouse=True)
def default_threads() -> Any:
    """torch and the engine at their default thread counts (another test file may have set one)."""
    before, intra, threads = torch.get_num_threads(), process._INTRA_SET[:], process._THREADS[:]
    process._INTRA_SET[:] = []
    torch.set_num_threads(torch_threads())
    if not mkl.available() or torch_threads() not in (1, 2):
        pytest.skip("needs MKL 2024.2 and torch's default thread count 1 or 2")
    yield
    torch.set_num_threads(before)
    process._INTRA_SET[:] = intra
    process._THREADS[:] = threads


def _operands(M: Any, m: int, k: int, n: int, ta: int, tb: int, seed: int) -> tuple:
    rng = np.random.default_rng(seed)
    a = rng.standard_normal((k, m) if ta else (m, k)).astype(np.float32)
    b = rng.standard_normal((n, k) if tb else (k, n)).astype(np.float32)
    x, y = M.tensor(a), M.tensor(b)
    return (x.t() if ta else x), (y.t() if tb else y)


def _same(e: Any, t: Any) -> None:
    et, tt = e.detach().numpy(), t.detach().numpy()
    assert et.dtype == tt.dtype and et.shape == tt.shape
    assert np.array_equal(et.view(np.int32), tt.view(np.int32)), int((et != tt).sum())


SHAPES = [(5, 18, 13), (5, 40, 13), (6, 8, 17), (7, 16, 16), (7, 17, 12), (9, 5, 30), (10, 100, 100), (11, 230, 219)]
SHAPES += [(13, 18, 5), (5, 6, 13), (5, 4, 40), (5, 16, 16), (6, 16, 12), (12, 30, 40), (13, 30, 40), (64, 64, 64)]


@pytest.mark.parametrize("layout", [(0, 0), (0, 1), (1, 0), (1, 1)])
@pytest.mark.parametrize("shape", SHAPES)
def test_mm_at_default_threads(shape: tuple, layout: tuple) -> None:
    m, k, n = shape
    ta, te = _operands(torch, m, k, n, *layout, seed=m * k + n), _operands(engine, m, k, n, *layout, seed=m * k + n)
    _same(te[0].mm(te[1]), ta[0].mm(ta[1]))
    _same(te[0] @ te[1], ta[0] @ ta[1])


@pytest.mark.parametrize("alpha,beta", [(1, 1), (1, 0.5), (0.7, 1), (0.3, 0.9), (2, 0)])
@pytest.mark.parametrize("layout", [(0, 0), (0, 1), (1, 0), (1, 1)])
def test_addmm_at_default_threads(alpha: float, beta: float, layout: tuple) -> None:
    for m, k, n in [(5, 83, 80), (9, 40, 45), (6, 20, 19), (11, 30, 33)]:
        rng = np.random.default_rng(m + k)
        c = rng.standard_normal((m, n)).astype(np.float32)
        (a, b), (x, y) = _operands(torch, m, k, n, *layout, seed=n), _operands(engine, m, k, n, *layout, seed=n)
        want = torch.addmm(torch.tensor(c), a, b, beta=beta, alpha=alpha)
        _same(engine.addmm(engine.tensor(c), x, y, beta=beta, alpha=alpha), want)


def test_linear_and_its_gradients_at_default_threads() -> None:
    """nn.Linear's products (x @ W^T, a column-major second operand) for a batch of 5 and 9: forward and both
    gradients."""
    for batch in (5, 9, 10):
        rng = np.random.default_rng(batch)
        xs, ws, bs = (rng.standard_normal(s).astype(np.float32) for s in ((batch, 24), (40, 24), (40,)))
        outs = []
        for M, F in ((torch, TF), (engine, EF)):
            x, w, b = (M.tensor(v, requires_grad=True) for v in (xs, ws, bs))
            y = F.linear(x, w, b)
            (y * M.tensor(np.linspace(-1, 1, y.numel(), dtype=np.float32).reshape(y.shape))).sum().backward()
            outs.append([y, x.grad, w.grad, b.grad])
        for t, e in zip(*outs):
            _same(e, t)


def test_random_small_products_at_default_threads() -> None:
    rng = np.random.default_rng(18)
    for i in range(150):
        m, k, n = int(rng.integers(1, 16)), int(rng.integers(1, 300)), int(rng.integers(1, 300))
        layout = tuple(int(v) for v in rng.integers(0, 2, 2))
        (a, b), (x, y) = _operands(torch, m, k, n, *layout, seed=i), _operands(engine, m, k, n, *layout, seed=i)
        _same(x.mm(y), a.mm(b))


def test_one_thread_set_by_the_script_computes_sequentially() -> None:
    """set_num_threads(1) in the script: torch's MKL does not split, nor does the engine."""
    torch.set_num_threads(1)
    engine.set_num_threads(1)
    for layout in [(0, 0), (0, 1), (1, 1)]:
        (a, b), (x, y) = _operands(torch, 5, 18, 13, *layout, seed=1), _operands(engine, 5, 18, 13, *layout, seed=1)
        _same(x.mm(y), a.mm(b))
