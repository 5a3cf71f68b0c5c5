"""perf17: the small-MLP step's per-op fast paths give the general paths' bits.

mkl.product (gemm's arguments looked up by layout) against mkl.gemm over layouts: row- and column-major,
padded rows, read-only arrays, single rows, columns and inner sizes; and against torch's mm."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import torch

import engine
from engine.ops import mkl

needs_mkl = pytest.mark.skipif(not mkl.available(), reason="MKL 2024.2 (the `exact` extra) is not installed")


def _matrix(rng: Any, rows: int, cols: int, layout: int, dt: Any) -> np.ndarray:
    x = rng.standard_normal((rows, cols + 3)).astype(dt)[:, :cols] if layout == 2 else rng.standard_normal((rows, cols))
    x = x.astype(dt)
    if layout == 1:
        x = np.asfortranarray(x)
    if layout == 3:
        x.flags.writeable = False
    return x


@needs_mkl
@pytest.mark.parametrize("dt", [np.float32, np.float64])
def test_product_is_gemm_bit_for_bit(dt: Any) -> None:
    rng = np.random.default_rng(17)
    for m in (1, 2, 17, 64):
        for k in (1, 3, 64):
            for n in (1, 2, 65):
                for la in range(4):
                    for lb in range(4):
                        a, b = _matrix(rng, m, k, la, dt), _matrix(rng, k, n, lb, dt)
                        for x, y in ((a, b), (b.T, a.T)):
                            want = mkl.gemm(x, y)
                            for _ in range(2):  # planned, then from the plan
                                got = mkl.product(x, y)
                                assert got.shape == want.shape and got.flags.c_contiguous
                                assert got.tobytes() == want.tobytes(), (m, k, n, la, lb)


@needs_mkl
def test_product_declines_what_mkl_does_not_take(monkeypatch: Any) -> None:
    a = np.ones((3, 3), np.float32)
    assert mkl.product(a, a.astype(np.float64)) is None
    assert mkl.product(a.astype(np.int64), a.astype(np.int64)) is None
    assert mkl.product(np.ones((3, 3), np.float16), np.ones((3, 3), np.float16)) is None
    monkeypatch.setattr(mkl, "_STATE", [None])  # MKL not loaded: the caller's fallback
    assert mkl.product(a, a) is None


@needs_mkl
def test_mlp_layer_products_match_torch() -> None:
    rng = np.random.default_rng(3)
    x, w = rng.standard_normal((64, 32), dtype=np.float32), rng.standard_normal((32, 64), dtype=np.float32)
    g = rng.standard_normal((64, 64), dtype=np.float32)
    before = torch.get_num_threads()
    torch.set_num_threads(1)  # (the engine's MKL is torch's arithmetic on one thread)
    try:
        _compare_products(x, w, g)
    finally:
        torch.set_num_threads(before)


def _compare_products(x: Any, w: Any, g: Any) -> None:
    for a, b in ((x, w), (x.T, g), (g, w.T), (g[:, :1], w[:1])):
        e = (engine.tensor(np.ascontiguousarray(a)) @ engine.tensor(np.ascontiguousarray(b))).numpy()
        t = (torch.tensor(np.ascontiguousarray(a)) @ torch.tensor(np.ascontiguousarray(b))).numpy()
        assert e.tobytes() == t.tobytes()
        e = engine.tensor(a.T.copy()).T.mm(engine.tensor(b)).numpy()  # a transposed view goes through as one
        t = torch.tensor(a.T.copy()).T.mm(torch.tensor(b)).numpy()
        assert e.tobytes() == t.tobytes()


@pytest.mark.parametrize("perm", [(1, 0), (2, 0, 1), (1, 2, 0), (0, 2, 1), (-1, 0, 1), (3, 1, 0, 2)])
def test_permute_inverse_and_gradients_match_torch(perm: tuple) -> None:
    """permute's inverse (its backward) from a sort in Python instead of numpy's argsort."""
    shape = (2, 3, 4, 5)[: len(perm)]
    x = np.arange(np.prod(shape), dtype=np.float32).reshape(shape)
    e, t = engine.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    ep, tp = e.permute(*perm), t.permute(*perm)
    assert type(ep.grad_fn).__name__ == type(tp.grad_fn).__name__ == "PermuteBackward0"
    assert ep.shape == tp.shape and ep.stride() == tp.stride()
    w = np.random.default_rng(0).standard_normal(tuple(tp.shape)).astype(np.float32)
    (ep * engine.tensor(w)).sum().backward()
    (tp * torch.tensor(w)).sum().backward()
    assert np.array_equal(e.grad.numpy(), t.grad.numpy())


def test_T_is_a_permute_with_torch_gradient_and_inplace_replay() -> None:
    x = np.arange(12, dtype=np.float32).reshape(3, 4)
    e, t = engine.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    ea, ta = e * 1, t * 1
    eT, tT = ea.T, ta.T
    assert type(eT.grad_fn).__name__ == type(tT.grad_fn).__name__
    eT.mul_(2)  # an in-place write through the view rewrites the base's graph
    tT.mul_(2)
    (ea * engine.tensor(x)).sum().backward()
    (ta * torch.tensor(x)).sum().backward()
    assert np.array_equal(e.grad.numpy(), t.grad.numpy())
    assert np.array_equal(ea.detach().numpy(), ta.detach().numpy())
    with pytest.raises(RuntimeError, match="duplicate dims"):
        engine.tensor(x).permute(1, 1)
    with pytest.raises(RuntimeError, match="duplicate dims"):
        torch.tensor(x).permute(1, 1)


@needs_mkl
@pytest.mark.parametrize("beta", [0.0, 1.0, 0.5])
def test_product_into_a_bias_is_gemm_bit_for_bit(beta: float) -> None:
    """addmm's call: the result holds the broadcast bias, then one gemm with beta."""
    rng = np.random.default_rng(5)
    for m, k, n in ((64, 32, 64), (64, 64, 1), (1, 8, 5), (3, 1, 4)):
        for la in range(4):
            a, b = _matrix(rng, m, k, la, np.float32), _matrix(rng, n, k, 0, np.float32).T  # (F.linear's weight.t())
            bias = rng.standard_normal(n).astype(np.float32)
            want, got = np.empty((m, n), np.float32), np.empty((m, n), np.float32)
            want[...] = bias
            got[...] = bias
            assert mkl.product(a, b, got, beta) is got
            assert got.tobytes() == mkl.gemm(a, b, want, 1.0, beta).tobytes()
    # a result laid out otherwise (a row block with padding) goes to gemm with its own leading dimension
    a, b = rng.standard_normal((4, 3)).astype(np.float32), rng.standard_normal((3, 5)).astype(np.float32)
    want, got = np.ones((4, 8), np.float32), np.ones((4, 8), np.float32)
    mkl.product(a, b, got[:, :5], beta)
    mkl.gemm(a, b, want[:, :5], 1.0, beta)
    assert got.tobytes() == want.tobytes()


@needs_mkl
def test_linear_forward_and_backward_match_torch() -> None:
    rng = np.random.default_rng(9)
    x = rng.standard_normal((64, 32), dtype=np.float32)
    w = rng.standard_normal((64, 32), dtype=np.float32) / 6
    b = rng.standard_normal(64, dtype=np.float32)
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        ew, eb = engine.tensor(w, requires_grad=True), engine.tensor(b, requires_grad=True)
        tw, tb = torch.tensor(w, requires_grad=True), torch.tensor(b, requires_grad=True)
        e = engine.nn.functional.linear(engine.tensor(x), ew, eb)
        t = torch.nn.functional.linear(torch.tensor(x), tw, tb)
        assert e.detach().numpy().tobytes() == t.detach().numpy().tobytes()
        (e * e).mean().backward()
        (t * t).mean().backward()
        assert ew.grad.numpy().tobytes() == tw.grad.numpy().tobytes()
        assert eb.grad.numpy().tobytes() == tb.grad.numpy().tobytes()
    finally:
        torch.set_num_threads(before)
