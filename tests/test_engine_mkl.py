"""engine/ops/mkl.py against torch: with the `mkl` wheel installed (the `exact` and `test` extras), matrix
products (mm, matmul, addmm/F.linear, mv, dot, bmm and batched matmul) and their gradients, and the unary
functions torch computes with VML, are torch's bits; so is a small MLP's training, loss by loss. (Products as
torch computes them on one thread.)"""

from __future__ import annotations

import os
import subprocess
import sys
from typing import Any

import numpy as np
import pytest
import torch
import torch.nn.functional as TF
from helpers import train_losses

import engine
import engine.nn.functional as EF
from engine.ops import mkl

pytestmark = pytest.mark.skipif(
    not mkl.available(), reason="MKL 2024.2 (pip install mkl==2024.2.0, the `exact` extra) is not installed"
)

DTYPES = [torch.float32, torch.float64]


@pytest.fixture(autouse=True)
def torch_on_one_thread() -> Any:
    """torch and the engine both told to use one thread: the engine's MKL runs sequentially, which is torch's
    arithmetic on one thread; torch's default threads split large products differently (engine/ops/mkl.py's
    note; tests/test_engine_mkl18.py compares at the default count)."""
    from engine import process

    before, intra, threads = torch.get_num_threads(), process._INTRA_SET[:], process._THREADS[:]
    torch.set_num_threads(1)
    engine.set_num_threads(1)
    yield
    torch.set_num_threads(before)
    process._INTRA_SET[:] = intra
    process._THREADS[:] = threads


def same_bits(e: Any, t: Any) -> bool:
    """Equal in every bit, nan payloads aside; shapes and strides must agree too."""
    a, b = np.ascontiguousarray(e.detach().numpy()), np.ascontiguousarray(t.detach().numpy())
    assert a.shape == b.shape and a.dtype == b.dtype
    nan = np.isnan(a) & np.isnan(b)
    ia, ib = a.view(f"i{a.itemsize}"), b.view(f"i{b.itemsize}")
    return bool(((ia == ib) | nan).all())


def pair(*shape: int, seed: int, dtype: Any = torch.float32) -> tuple:
    t = torch.randn(*shape, generator=torch.Generator().manual_seed(seed), dtype=dtype)
    return t, engine.tensor(t.numpy().copy())


def layouts(t: torch.Tensor, e: Any) -> list:
    """The same matrix as a contiguous array, a transposed contiguous one, a padded row view and a strided
    view: each reaches BLAS with other flags or leading dimensions (or as torch's contiguous copy)."""
    # (a fresh transposed copy: torch's contiguous() keeps odd strides on a size-1 dim, numpy's copy does not,
    # and BLAS picks its kernel by them)
    tt = torch.empty(t.shape[::-1], dtype=t.dtype).copy_(t.t())
    et = engine.tensor(tt.numpy().copy())
    tp = torch.zeros(t.shape[0], t.shape[1] + 3, dtype=t.dtype)
    tp[:, : t.shape[1]] = t
    ep = engine.tensor(tp.numpy().copy())
    ts = torch.zeros(t.shape[0] * 2, t.shape[1] * 2, dtype=t.dtype)
    ts[::2, ::2] = t
    es = engine.tensor(ts.numpy().copy())
    return [
        (t, e),
        (tt.t(), et.t()),
        (tp[:, : t.shape[1]], ep[:, : t.shape[1]]),
        (ts[::2, ::2], es[::2, ::2]),
    ]


def shapes(seed: int, count: int) -> list:
    rng = np.random.default_rng(seed)
    out = [(1, 1, 1), (1, 7, 1), (5, 1, 9), (300, 300, 1), (1, 300, 300)]
    out += [tuple(int(v) for v in rng.integers(1, 301, 3)) for _ in range(count)]
    return out


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("m,k,n", shapes(0, 25))
def test_mm_every_layout(m: int, k: int, n: int, dtype: Any) -> None:
    ta, ea = pair(m, k, seed=m * 7 + k, dtype=dtype)
    tb, eb = pair(k, n, seed=n * 5 + k, dtype=dtype)
    for la in layouts(ta, ea):
        for lb in layouts(tb, eb):
            assert same_bits(la[1] @ lb[1], la[0] @ lb[0])


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("m,k,n", shapes(1, 15))
def test_linear_forward_and_gradients(m: int, k: int, n: int, dtype: Any) -> None:
    tx, ex = pair(m, k, seed=1, dtype=dtype)
    tw, ew = pair(n, k, seed=2, dtype=dtype)
    tb, eb = pair(n, seed=3, dtype=dtype)
    tg, eg = pair(m, n, seed=4, dtype=dtype)
    for t in (tx, tw, tb, ex, ew, eb):
        t.requires_grad_(True)
    to, eo = TF.linear(tx, tw, tb), EF.linear(ex, ew, eb)
    assert same_bits(eo, to)
    (to * tg).sum().backward()
    (eo * eg).sum().backward()
    for e, t in ((ex, tx), (ew, tw), (eb, tb)):
        assert same_bits(e.grad, t.grad)


@pytest.mark.parametrize("alpha,beta", [(1, 1), (0.5, 2.0), (1, 0), (-3, 0.25)])
def test_addmm_scalars(alpha: float, beta: float) -> None:
    ti, ei = pair(37, 29, seed=5)
    ta, ea = pair(37, 50, seed=6)
    tb, eb = pair(50, 29, seed=7)
    assert same_bits(engine.addmm(ei, ea, eb, alpha=alpha, beta=beta), torch.addmm(ti, ta, tb, alpha=alpha, beta=beta))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("m,k", [(1, 1), (1, 50), (50, 1), (64, 63), (300, 7), (7, 300), (129, 257)])
def test_mv_dot_and_vector_products(m: int, k: int, dtype: Any) -> None:
    ta, ea = pair(m, k, seed=8, dtype=dtype)
    tv, ev = pair(k, seed=9, dtype=dtype)
    tu, eu = pair(m, seed=10, dtype=dtype)
    for la in layouts(ta, ea):
        assert same_bits(engine.mv(la[1], ev), torch.mv(la[0], tv))
        assert same_bits(eu @ la[1], tu @ la[0])
    assert same_bits(engine.dot(ev, ev), torch.dot(tv, tv))
    h = 2 * (k // 2)
    assert same_bits(engine.dot(ev[:h:2], ev[1:h:2]), torch.dot(tv[:h:2], tv[1:h:2]))


@pytest.mark.parametrize("grad", [False, True])
def test_batch_times_matrix_folds(grad: bool) -> None:
    tx, ex = pair(3, 17, 40, seed=11)
    tw, ew = pair(40, 23, seed=12)
    tv, ev = pair(40, seed=13)
    if grad:
        tw.requires_grad_(True)
        ew.requires_grad_(True)
    assert same_bits(ex @ ew, tx @ tw)
    assert same_bits(ex @ ev, tx @ tv)


def batch_layouts(t: torch.Tensor, e: Any) -> list:
    """A batch as it is, with each item transposed, and strided (torch multiplies those item by item)."""
    tt = torch.empty(t.shape[0], t.shape[2], t.shape[1], dtype=t.dtype).copy_(t.transpose(1, 2))
    ts = torch.zeros(t.shape[0], t.shape[1], t.shape[2] * 2, dtype=t.dtype)
    ts[:, :, ::2] = t
    return [
        (t, e),
        (tt.transpose(1, 2), engine.tensor(tt.numpy().copy()).transpose(1, 2)),
        (ts[:, :, ::2], engine.tensor(ts.numpy().copy())[:, :, ::2]),
    ]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("b,m,k,n", [(3, 4, 5, 6), (2, 1, 7, 1), (1, 30, 40, 20), (5, 17, 33, 9), (4, 64, 3, 64)])
def test_bmm_and_batched_matmul(b: int, m: int, k: int, n: int, dtype: Any) -> None:
    """Below 400 multiply-adds per item torch adds in k order, above it MKL's batched gemm."""
    ta, ea = pair(b, m, k, seed=17, dtype=dtype)
    tb, eb = pair(b, k, n, seed=18, dtype=dtype)
    for la in batch_layouts(ta, ea):
        for lb in batch_layouts(tb, eb):
            assert same_bits(engine.bmm(la[1], lb[1]), torch.bmm(la[0], lb[0]))
    t4, e4 = pair(2, b, m, k, seed=19, dtype=dtype)
    u4, f4 = pair(2, b, k, n, seed=20, dtype=dtype)
    for t in (t4, u4, e4, f4):
        t.requires_grad_(True)
    to, eo = t4 @ u4, e4 @ f4
    assert same_bits(eo, to)
    tg, eg = pair(*to.shape, seed=21, dtype=dtype)
    (to * tg).sum().backward()
    (eo * eg).sum().backward()
    assert same_bits(e4.grad, t4.grad) and same_bits(f4.grad, u4.grad)


def test_numpy_blas_alone_differs() -> None:
    """What MKL buys: numpy's own product and exp differ from torch's on these inputs."""
    ta, _ = pair(64, 100, seed=14)
    tb, _ = pair(100, 64, seed=15)
    assert (ta.numpy() @ tb.numpy() != (ta @ tb).numpy()).any()
    assert (np.exp(ta.numpy()) != torch.exp(ta).numpy()).any()


def _train(T: Any, optimizer: str) -> list:
    T.manual_seed(0)
    x, y = T.randn(64, 32), T.randn(64, 1)
    model = T.nn.Sequential(T.nn.Linear(32, 64), T.nn.Tanh(), T.nn.Linear(64, 1))
    opt = T.optim.SGD(model.parameters(), lr=0.05) if optimizer == "sgd" else T.optim.Adam(model.parameters())
    return train_losses(T, model, x, y, opt)


@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
def test_mlp_training_losses_match(optimizer: str) -> None:
    assert _train(engine, optimizer) == _train(torch, optimizer)


EDGES = [0.0, -0.0, float("inf"), -float("inf"), float("nan"), 1.0, -1.0, 1e-45, -1e-45, 1e-40, 1e-310, -1e-310]
EDGES += [0.5, 2.0, 88.7, 89.0, -104.0, 710.0, -746.0, 1e30, -1e30, 3.4e38, 0.9999999, 1.0000001]


def unary_inputs(dtype: Any) -> torch.Tensor:
    g = torch.Generator().manual_seed(16)
    parts = [torch.randn(4000, generator=g, dtype=dtype) * s for s in (1, 0.01, 10, 1e4)]
    parts += [torch.rand(4000, generator=g, dtype=dtype) * 2 - 1, torch.tensor(EDGES, dtype=dtype)]
    return torch.cat(parts)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", sorted(mkl.VML_FUNCTIONS))
def test_vml_unary(name: str, dtype: Any) -> None:
    tx = unary_inputs(dtype)
    ex = engine.tensor(tx.numpy().copy())
    n = 20000
    cases = [(tx, ex), (tx[::3], ex[::3]), (tx[:n].reshape(100, 200).t(), ex[:n].reshape(100, 200).t())]
    for t, e in cases:
        tr, er = getattr(torch, name)(t), getattr(engine, name)(e)
        assert same_bits(er, tr), name
        assert er.stride() == tr.stride()
    t1, e1 = tx[:100].clone(), ex[:100].clone()
    getattr(t1, name + "_")()
    getattr(e1, name + "_")()
    assert same_bits(e1, t1)


def test_loads_lazily_and_switches_off() -> None:
    code = (
        "import engine; from engine.ops import mkl; assert not mkl._STATE, 'loaded at import'; print(mkl.available())"
    )
    for flag, want in (("1", "True"), ("0", "False")):
        env = dict(os.environ, TCLI_MKL=flag)
        out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
        assert out.stdout.strip() == want


@pytest.mark.parametrize("workers", [2, 3])
@pytest.mark.parametrize("dtype", DTYPES)
def test_products_split_over_threads_keep_every_bit(workers: int, dtype: Any, monkeypatch: Any) -> None:
    """A large product is shared out by row blocks (mkl._PAR_GEMM_MIN); each block's rows come out as in the
    whole product on one thread, torch's, including the rows left after the last whole block."""
    from concurrent.futures import ThreadPoolExecutor

    pool = ThreadPoolExecutor(workers)
    monkeypatch.setattr(mkl, "_POOL", [pool])
    rng = np.random.default_rng(workers)
    try:
        for m, k, n in [(65, 2000, 40), (97, 700, 33), (129, 1000, 70), (257, 300, 301), (1000, 64, 64)]:
            assert m * k * n >= mkl._PAR_GEMM_MIN
            k = int(k + rng.integers(0, 5))
            ta, ea = pair(m, k, seed=m, dtype=dtype)
            tb, eb = pair(k, n, seed=n, dtype=dtype)
            tc, ec = pair(m, n, seed=k, dtype=dtype)
            for la in layouts(ta, ea)[:2]:
                for lb in layouts(tb, eb)[:2]:
                    assert same_bits(la[1] @ lb[1], la[0] @ lb[0]), (m, k, n)
            assert same_bits(
                engine.addmm(ec, ea, eb, beta=0.5, alpha=2.0), torch.addmm(tc, ta, tb, beta=0.5, alpha=2.0)
            )
    finally:
        pool.shutdown()


@pytest.mark.parametrize("workers", [2, 3])
def test_vml_split_over_threads(workers: int, monkeypatch: Any) -> None:
    from concurrent.futures import ThreadPoolExecutor

    pool = ThreadPoolExecutor(workers)
    monkeypatch.setattr(mkl, "_POOL", [pool])
    try:
        tx = torch.randn(mkl._PAR_VML_MIN * 3 + 17, generator=torch.Generator().manual_seed(3))
        ex = engine.tensor(tx.numpy().copy())
        for name in ("exp", "tanh", "log"):
            assert same_bits(getattr(engine, name)(ex), getattr(torch, name)(tx)), name
    finally:
        pool.shutdown()


def test_read_only_and_strided_operands() -> None:
    """Arrays numpy exports no writable buffer for (a broadcast view) reach MKL by their address."""
    tr, er = pair(1, 64, seed=5)
    tb, eb = pair(64, 48, seed=6)
    te, ee = tr.expand(40, 64), er.expand(40, 64)
    assert not ee.numpy().flags.writeable
    assert same_bits(ee @ eb, te @ tb)
    assert same_bits(engine.exp(ee), torch.exp(te))
