"""float32 matrix products bit for bit with torch at 3 or more threads (a user's machine: torch's default is its
physical cores): torch's MKL lays its threads out as a grid over the result (engine/ops/mkl.py: _thread_grid),
each block a sequential gemm, and blocks narrower than MKL's kernel blocks round otherwise than the whole product.
torch and the engine are both told the thread count (set_num_threads; the split follows the count, not the
cores, so it is checked here on any machine); each test restores both. Also: the engine's default thread count
is torch's (MKL's rule: MKL_NUM_THREADS, OMP_NUM_THREADS, the physical cores, MKL_DYNAMIC)."""

from __future__ import annotations

import os
import subprocess
import sys
from typing import Any

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import engine
import engine.nn.functional as EF
from engine import process
from engine.ops import mkl

THREADS = [3, 4, 5, 6, 8, 12, 16, 23]


@pytest.fixture(autouse=True)
def restore_threads() -> Any:
    if not mkl.available():
        pytest.skip("needs MKL 2024.2 (the `exact` extra)")
    before, intra, threads = torch.get_num_threads(), process._INTRA_SET[:], process._THREADS[:]
    yield
    torch.set_num_threads(before)
    process._INTRA_SET[:] = intra
    process._THREADS[:] = threads


def _threads(t: int) -> None:
    torch.set_num_threads(t)
    engine.set_num_threads(t)


def _operands(M: Any, m: int, k: int, n: int, ta: int, tb: int, seed: int) -> tuple:
    rng = np.random.default_rng(seed)
    a = rng.standard_normal((k, m) if ta else (m, k)).astype(np.float32)
    b = rng.standard_normal((n, k) if tb else (k, n)).astype(np.float32)
    x, y = M.tensor(a), M.tensor(b)
    return (x.t() if ta else x), (y.t() if tb else y)


def _same(e: Any, t: Any) -> None:
    et, tt = e.detach().numpy(), t.detach().numpy()
    assert et.dtype == tt.dtype and et.shape == tt.shape
    assert np.array_equal(et.view(np.uint8), tt.view(np.uint8)), int((et != tt).sum())


def _unreproduced(m: int, k: int, n: int, ta: int, tb: int, t: int) -> bool:
    """A lone last column of a column-major b against row-major a rows, k not a multiple of 4 (mkl._gemm_grid)."""
    if not tb or ta or k % 4 == 0 or not mkl._threaded(m, n, k, True):
        return False
    parts = mkl._grid_parts(m, n, t)
    return parts is not None and parts[1][-1] - parts[1][-2] == 1


@pytest.mark.parametrize("t", THREADS)
def test_linear_and_its_gradients(t: int) -> None:
    """nn.Linear's three products (x @ W^T, grad_out @ W, grad_out^T @ x) for layer sizes whose thread grid
    has a narrow last part: out features past a multiple of 16, batches past a multiple of 4."""
    _threads(t)
    for batch, fin, fout in [(5, 24, 40), (10, 50, 20), (32, 100, 50), (7, 256, 20), (64, 20, 100), (3, 100, 250)]:
        rng = np.random.default_rng(batch * fout)
        xs, ws, bs = (rng.standard_normal(s).astype(np.float32) for s in ((batch, fin), (fout, fin), (fout,)))
        outs = []
        for M, F in ((torch, TF), (engine, EF)):
            x, w, b = (M.tensor(v, requires_grad=True) for v in (xs, ws, bs))
            y = F.linear(x, w, b)
            (y * M.tensor(np.linspace(-1, 1, y.numel(), dtype=np.float32).reshape(y.shape))).sum().backward()
            outs.append([y, x.grad, w.grad, b.grad])
        for tt, e in zip(*outs):
            _same(e, tt)


SHAPES = [(16, 10, 20), (50, 64, 20), (64, 50, 100), (8, 16, 36), (256, 256, 68), (20, 10, 50), (64, 56, 145)]
SHAPES += [(11, 10, 97), (10, 77, 81), (6, 45, 171), (9, 91, 195), (5, 57, 100), (25, 39, 96), (2, 17, 218)]
SHAPES += [(3, 74, 294), (3, 70, 29), (2, 76, 27), (97, 10, 17), (17, 5, 14), (17, 6, 12), (101, 2, 20)]
SHAPES += [(256, 3, 100), (8, 2, 101), (14, 15, 113), (65, 158, 17), (64, 60, 145), (300, 40, 130)]


@pytest.mark.parametrize("layout", [(0, 0), (0, 1), (1, 0), (1, 1)])
@pytest.mark.parametrize("t", THREADS)
def test_mm_and_addmm(t: int, layout: tuple) -> None:
    _threads(t)
    for m, k, n in SHAPES:
        if _unreproduced(m, k, n, *layout, t):
            continue
        (a, b), (x, y) = _operands(torch, m, k, n, *layout, m + n), _operands(engine, m, k, n, *layout, m + n)
        _same(x.mm(y), a.mm(b))
        c = np.random.default_rng(k).standard_normal(n).astype(np.float32)
        _same(engine.addmm(engine.tensor(c), x, y), torch.addmm(torch.tensor(c), a, b))
        want = torch.addmm(torch.tensor(c), a, b, beta=0.5, alpha=0.7)
        _same(engine.addmm(engine.tensor(c), x, y, beta=0.5, alpha=0.7), want)


@pytest.mark.parametrize("t", [3, 5, 8, 16])
def test_random_products(t: int) -> None:
    _threads(t)
    rng = np.random.default_rng(t)
    for i in range(150):
        m, k, n = (int(v) for v in np.exp(rng.uniform(0, np.log(400), 3)))
        layout = tuple(int(v) for v in rng.integers(0, 2, 2))
        if _unreproduced(m, k, n, *layout, t):
            continue
        (a, b), (x, y) = _operands(torch, m, k, n, *layout, i), _operands(engine, m, k, n, *layout, i)
        _same(x.mm(y), a.mm(b))
        _same(x @ y, a @ b)


@pytest.mark.parametrize("t", [4, 8, 16])
def test_bmm_of_one_item(t: int) -> None:
    """bmm/matmul of a single item is mm's threaded gemm. (MKL's gemm_batch shares its threads over a batch's
    items in its own way, not reproduced: the batches here are ones where that gives each item's sequential
    bits.)"""
    _threads(t)
    rng = np.random.default_rng(t)
    for bs, m, k, n in [(1, 16, 10, 20), (1, 9, 91, 195), (1, 3, 70, 29), (3, 16, 10, 20), (1, 64, 56, 145)]:
        xs = [rng.standard_normal(s).astype(np.float32) for s in ((bs, m, k), (bs, k, n))]
        (a, b), (x, y) = (torch.tensor(v) for v in xs), (engine.tensor(v) for v in xs)
        _same(x.bmm(y), a.bmm(b))
        _same(x @ y, a @ b)


def test_small_mlp_trains_as_torch_on_six_threads() -> None:
    """A small MLP's losses, step by step, at 6 threads (a 20-unit hidden layer and a batch of 10 split)."""
    _threads(6)
    losses = []
    for M, F in ((torch, TF), (engine, EF)):
        M.manual_seed(0)
        model = M.nn.Sequential(M.nn.Linear(30, 20), M.nn.Tanh(), M.nn.Linear(20, 3))
        opt = M.optim.SGD(model.parameters(), lr=0.1)
        g = np.random.default_rng(0)
        x, yt = M.tensor(g.standard_normal((10, 30)).astype(np.float32)), M.tensor(g.integers(0, 3, 10))
        run = []
        for _ in range(5):
            opt.zero_grad()
            loss = F.cross_entropy(model(x), yt)
            loss.backward()
            opt.step()
            run.append(loss.item())
        losses.append(run)
    assert losses[0] == losses[1]


@pytest.mark.parametrize(
    "env",
    [
        {},
        {"OMP_NUM_THREADS": "1"},
        {"OMP_NUM_THREADS": "64"},
        {"MKL_NUM_THREADS": "1", "OMP_NUM_THREADS": "64"},
        {"OMP_NUM_THREADS": "1,2"},
        {"OMP_NUM_THREADS": "0"},
        {"MKL_NUM_THREADS": "abc", "OMP_NUM_THREADS": "1"},
        {"MKL_DYNAMIC": "FALSE", "MKL_NUM_THREADS": "5"},
        {"MKL_DYNAMIC": "0", "OMP_NUM_THREADS": "5"},
    ],
)
def test_default_thread_count_is_torchs(env: dict) -> None:
    """torch's default is MKL's max threads: MKL_NUM_THREADS, else OMP_NUM_THREADS, else the physical cores, no
    more than those cores unless MKL_DYNAMIC=false; the engine's get_num_threads agrees (fresh processes)."""
    full = {k: v for k, v in os.environ.items() if k not in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "MKL_DYNAMIC")}
    full.update(env)
    code = "import torch, engine; print(torch.get_num_threads(), engine.get_num_threads())"
    out = subprocess.run([sys.executable, "-c", code], env=full, capture_output=True, text=True, check=True)
    want, got = out.stdout.split()
    assert got == want
