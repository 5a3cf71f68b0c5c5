"""float64 matrix products bit for bit with torch at 2 threads (this machine's and CI's default): a product of
13 or 25 columns, which MKL's two threads share as 12 or 24 columns and a lone last column, gives that column
the bits of the last column of a 2-column product (engine/ops/mkl.py: _gemm_column_split), also at k > 256 and
for 1 mod 4 rows (before: the whole product's column, wrong at k > 256). torch and the engine are both told the
thread count; each test restores both."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import torch
import torch.nn.functional as TF
from test_mkl_threads_mkl19 import _threads, restore_threads  # noqa: F401 (an autouse fixture)

import engine
import engine.nn.functional as EF

# (the thread counts set per test and restored after, as test_mkl_threads_mkl19 does them)


def _arrays(m: int, k: int, n: int, ta: int, tb: int, seed: int) -> tuple:
    rng = np.random.default_rng(seed)
    a = rng.standard_normal((k, m) if ta else (m, k))
    b = rng.standard_normal((n, k) if tb else (k, n))
    return a, b


def _view(M: Any, x: Any, t: int) -> Any:
    v = M.tensor(x)
    return v.t() if t else v


def _same(e: Any, t: Any) -> None:
    et, tt = e.detach().numpy(), t.detach().numpy()
    assert et.dtype == tt.dtype and et.shape == tt.shape
    assert np.array_equal(et.view(np.uint8), tt.view(np.uint8)), int((et != tt).sum())


SHAPES = [(m, k, n) for n in (13, 25) for m in (2, 3, 5, 6, 8, 9, 12, 23) for k in (2, 17, 256, 257, 300, 784, 1000)]


@pytest.mark.parametrize("m,k,n", SHAPES)
@pytest.mark.parametrize("ta,tb", [(0, 1), (0, 0), (1, 0)])
def test_mm_lone_last_column_two_threads(m: int, k: int, n: int, ta: int, tb: int) -> None:
    _threads(2)
    a, b = _arrays(m, k, n, ta, tb, m * 1000 + k + n)
    _same(_view(engine, a, ta).mm(_view(engine, b, tb)), _view(torch, a, ta).mm(_view(torch, b, tb)))


@pytest.mark.parametrize("m,k,n", [(6, 784, 25), (5, 300, 13), (9, 1000, 25), (12, 257, 13)])
def test_addmm_and_matmul_two_threads(m: int, k: int, n: int) -> None:
    _threads(2)
    a, b = _arrays(m, k, n, 0, 1, k)
    bias = np.random.default_rng(1).standard_normal(n)
    e = engine.addmm(engine.tensor(bias), engine.tensor(a), engine.tensor(b).t(), beta=0.5, alpha=2.0)
    t = torch.addmm(torch.tensor(bias), torch.tensor(a), torch.tensor(b).t(), beta=0.5, alpha=2.0)
    _same(e, t)
    _same(engine.tensor(a) @ engine.tensor(b).t(), torch.tensor(a) @ torch.tensor(b).t())


@pytest.mark.parametrize("m,k,n", [(6, 784, 25), (7, 400, 13), (10, 513, 25)])
def test_linear_forward_backward_two_threads(m: int, k: int, n: int) -> None:
    _threads(2)
    x, w = _arrays(m, k, n, 0, 0, 7)
    w = w.T.copy()  # (n, k)
    bias = np.random.default_rng(2).standard_normal(n)
    out = {}
    for M, F in ((torch, TF), (engine, EF)):
        xt, wt, bt = (M.tensor(v, requires_grad=True) for v in (x, w, bias))
        y = F.linear(xt, wt, bt)
        y.backward(M.tensor(np.random.default_rng(3).standard_normal((m, n))))
        out[M] = (y, xt.grad, wt.grad, bt.grad)
    for e, t in zip(out[engine], out[torch]):
        _same(e, t)


def test_one_thread_unchanged() -> None:
    _threads(1)
    for m, k, n in [(6, 784, 25), (5, 300, 13)]:
        a, b = _arrays(m, k, n, 0, 1, 0)
        _same(engine.tensor(a).mm(engine.tensor(b).t()), torch.tensor(a).mm(torch.tensor(b).t()))


# float64 on 3 or more threads: MKL lays its threads out as a grid (mkl._f64_grid: t's power-of-2 part to the
# columns where m <= 2n, else to the rows; each odd prime factor to the columns where a part has fewer rows than
# columns), column parts in 12-column blocks, row parts in 4-row blocks. Shapes mostly where the sequential
# product's bits differ.
SPLIT_SHAPES = [
    (3, 6, 100, 52),
    (3, 11, 600, 33),
    (3, 13, 784, 25),
    (3, 29, 100, 33),
    (3, 31, 257, 40),
    (3, 40, 64, 52),
    (3, 33, 100, 33),
    (3, 50, 200, 37),
    (4, 6, 100, 37),
    (4, 13, 300, 45),
    (4, 33, 100, 52),
    (4, 57, 100, 33),
    (4, 65, 100, 33),
    (4, 101, 100, 52),
    (4, 4, 419, 37),
    (4, 11, 861, 45),
    (5, 6, 100, 33),
    (5, 13, 100, 52),
    (5, 31, 100, 33),
    (5, 49, 100, 52),
    (5, 21, 500, 64),
    (4, 50, 678, 23),
    (5, 50, 678, 23),
    (6, 50, 678, 23),
    (5, 63, 407, 29),
    (6, 63, 407, 29),
    (6, 14, 32, 84),
    (6, 26, 26, 140),
    (6, 38, 35, 180),
    (6, 122, 47, 127),
    (6, 13, 62, 34),
    (6, 1, 365, 61),
    (8, 13, 100, 52),
    (8, 33, 100, 40),
    (8, 80, 300, 33),
    (8, 100, 200, 30),
]


@pytest.mark.parametrize("t,m,k,n", SPLIT_SHAPES)
@pytest.mark.parametrize("ta,tb", [(0, 1), (0, 0), (1, 0)])
def test_mm_thread_grid_three_or_more_threads(t: int, m: int, k: int, n: int, ta: int, tb: int) -> None:
    _threads(t)
    a, b = _arrays(m, k, n, ta, tb, m + k + n)
    _same(_view(engine, a, ta).mm(_view(engine, b, tb)), _view(torch, a, ta).mm(_view(torch, b, tb)))


@pytest.mark.parametrize("t", [3, 4, 5, 6, 8])
def test_linear_three_or_more_threads(t: int) -> None:
    _threads(t)
    m, k, n = 6, 300, 52
    x, w = _arrays(m, k, n, 0, 0, 11)
    w = w.T.copy()
    out = {}
    for M, F in ((torch, TF), (engine, EF)):
        xt, wt = M.tensor(x, requires_grad=True), M.tensor(w, requires_grad=True)
        y = F.linear(xt, wt)
        y.backward(M.tensor(np.random.default_rng(3).standard_normal((m, n))))
        out[M] = (y, xt.grad, wt.grad)
    for e, t_ in zip(out[engine], out[torch]):
        _same(e, t_)


@pytest.mark.parametrize(
    "t,m,k,n", [(3, 11, 600, 33), (4, 6, 100, 37), (4, 13, 300, 45), (5, 6, 100, 33), (2, 6, 784, 25)]
)
def test_single_item_bmm_and_batched_matmul(t: int, m: int, k: int, n: int) -> None:
    _threads(t)
    a, b = _arrays(m, k, n, 0, 0, m + k + n)
    _same(engine.tensor(a[None]).bmm(engine.tensor(b[None])), torch.tensor(a[None]).bmm(torch.tensor(b[None])))
    _same(engine.tensor(a[None]) @ engine.tensor(b), torch.tensor(a[None]) @ torch.tensor(b))


@pytest.mark.parametrize(
    "t,m,k,n",
    [(12, 7, 269, 39), (12, 27, 68, 31), (12, 82, 144, 27), (12, 25, 251, 52), (16, 26, 199, 40), (16, 38, 114, 44)],
)
def test_mm_thread_grid_twelve_and_sixteen_threads(t: int, m: int, k: int, n: int) -> None:
    _threads(t)
    a, b = _arrays(m, k, n, 0, 1, m + k + n)
    _same(engine.tensor(a).mm(engine.tensor(b).t()), torch.tensor(a).mm(torch.tensor(b).t()))
