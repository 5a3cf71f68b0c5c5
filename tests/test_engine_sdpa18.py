"""F.scaled_dot_product_attention on the cpu in exact mode, bit for bit against torch's flash attention kernel
(engine/ops/flash_attention_cpu.py): outputs and the gradients of query, key and value, float32 and float64,
over nanoGPT-sized shapes (sequence lengths across the kernel's 32/64-query blocks and 16-lane vectors, head
sizes 8 to 64), causal or not, boolean and additive masks (2-d and 4-d), fully masked rows, cross attention,
more than one 512-key block, (B, T, H, D) views as nanoGPT makes them, and nn.MultiheadAttention."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import torch

import engine
from engine.ops import cpu_capability, mkl

pytestmark = [
    pytest.mark.skipif(not mkl.available(), reason="exact mode off: the exact extra's MKL is not installed"),
    pytest.mark.skipif(cpu_capability.cpu_capability() == "default", reason="torch's DEFAULT build: no exp_u20"),
]


_FLASH = "ScaledDotProductFlashAttentionForCpuBackward0"


def _mismatches(a: Any, b: Any) -> int:
    a, b = np.ascontiguousarray(a), np.ascontiguousarray(b)
    assert a.dtype == b.dtype and a.shape == b.shape
    u = np.uint32 if a.dtype == np.float32 else np.uint64
    return int(np.count_nonzero(a.view(u) != b.view(u)))


def _run(lib: Any, arrays: list, fn: Any, grad: np.ndarray) -> tuple:
    """fn(lib, *tensors) and the gradients of its first three inputs (query, key, value; a mask needs none) for
    the output gradient `grad`."""
    ts = [lib.from_numpy(a.copy()).clone() for a in arrays]  # (torch's own, 64-byte aligned, storage)
    for t in ts[:3]:
        t.requires_grad_()
    out = fn(lib, *ts)
    name = type(out.grad_fn).__name__ if lib is torch else out.grad_fn.name()
    out.backward(lib.from_numpy(grad.copy()).clone())
    return [out.detach().numpy()] + [t.grad.numpy() for t in ts[:3]], name


def _compare(arrays: list, fn: Any, out_shape: tuple, node: str = _FLASH) -> list:
    grad = np.random.default_rng(9).standard_normal(out_shape).astype(arrays[0].dtype)
    want, want_name = _run(torch, arrays, fn, grad)
    got, got_name = _run(engine, arrays, fn, grad)
    assert got_name == want_name == node
    return [_mismatches(a, b) for a, b in zip(want, got)]


def _qkv(shape: tuple, dt: Any, seed: int, kv_len: int | None = None) -> list:
    r = np.random.default_rng(seed)
    kv = shape[:2] + (kv_len or shape[2], shape[3])
    return [r.standard_normal(shape).astype(dt), r.standard_normal(kv).astype(dt), r.standard_normal(kv).astype(dt)]


def _sdpa(lib: Any, *args: Any, **kw: Any) -> Any:
    return lib.nn.functional.scaled_dot_product_attention(*args, **kw)


@pytest.mark.parametrize("dt", [np.float32, np.float64])
@pytest.mark.parametrize("T", [1, 7, 16, 17, 33, 100, 192, 256])
@pytest.mark.parametrize("D", [8, 33, 64])
def test_no_mask_and_causal_bits(dt: Any, T: int, D: int) -> None:
    shape = (2, 3, T, D)
    arrays = _qkv(shape, dt, T * 100 + D)
    assert _compare(arrays, lambda L, q, k, v: _sdpa(L, q, k, v), shape) == [0, 0, 0, 0]
    assert _compare(arrays, lambda L, q, k, v: _sdpa(L, q, k, v, is_causal=True), shape) == [0, 0, 0, 0]


@pytest.mark.parametrize("dt", [np.float32, np.float64])
@pytest.mark.parametrize("T, D", [(7, 8), (33, 40), (47, 33), (200, 64)])
def test_masks_bits(dt: Any, T: int, D: int) -> None:
    shape = (2, 3, T, D)
    arrays = _qkv(shape, dt, T + D)
    r = np.random.default_rng(T)
    keep = r.random((T, T)) < 0.7
    keep[:, 0] = True
    keep[T // 2] = False  # (a row that sees nothing: zeros, and no nan in the gradients)
    bias = r.standard_normal((2, 1, T, T)).astype(dt)
    pad = r.random((2, 1, 1, T)) < 0.8
    pad[..., 0] = True
    for mask in (keep, bias, pad, bias[0, 0]):
        got = _compare(arrays + [mask], lambda L, q, k, v, m: _sdpa(L, q, k, v, attn_mask=m), shape)
        assert got == [0, 0, 0, 0]


def test_scale_cross_attention_and_several_key_blocks() -> None:
    shape = (2, 2, 20, 24)
    arrays = _qkv(shape, np.float32, 1, kv_len=37)
    assert _compare(arrays, lambda L, q, k, v: _sdpa(L, q, k, v, scale=0.3), shape) == [0, 0, 0, 0]
    assert _compare(arrays, lambda L, q, k, v: _sdpa(L, q, k, v, is_causal=True), shape) == [0, 0, 0, 0]
    # 530 keys: two 512-key blocks (the running max and sum rescaled), the scalar exp on the tail's last keys
    for dt in (np.float32, np.float64):
        shape = (1, 2, 530, 8)
        arrays = _qkv(shape, dt, 5)
        assert _compare(arrays, lambda L, q, k, v: _sdpa(L, q, k, v), shape) == [0, 0, 0, 0]
        assert _compare(arrays, lambda L, q, k, v: _sdpa(L, q, k, v, is_causal=True), shape) == [0, 0, 0, 0]


@pytest.mark.parametrize("dt, B, H, Hk, T, D, causal", [(np.float32, 2, 6, 2, 200, 16, True),
                                                        (np.float32, 2, 8, 2, 33, 40, False),
                                                        (np.float64, 2, 6, 3, 70, 33, True)])  # fmt: skip
def test_grouped_query_attention(dt: Any, B: int, H: int, Hk: int, T: int, D: int, causal: bool) -> None:
    """enable_gqa: the kernel shares key heads itself (its graph reaches the keys directly), and a key head's
    gradients gather its query heads' one after the other."""
    r = np.random.default_rng(T)
    arrays = [r.standard_normal(shape).astype(dt) for shape in ((B, H, T, D), (B, Hk, T, D), (B, Hk, T, D))]
    got = _compare(arrays, lambda L, q, k, v: _sdpa(L, q, k, v, is_causal=causal, enable_gqa=True), (B, H, T, D))
    assert got == [0, 0, 0, 0]


def test_nanogpt_views() -> None:
    """nanoGPT's block: q, k, v split from one projection and viewed (B, T, H, D) -> (B, H, T, D)."""
    B, T, H, D = 2, 64, 4, 16
    x = np.random.default_rng(3).standard_normal((B, T, 3 * H * D)).astype(np.float32)

    def attend(L: Any, a: Any) -> Any:
        q, k, v = (t.view(B, T, H, D).transpose(1, 2) for t in a.split(H * D, dim=2))
        return _sdpa(L, q, k, v, is_causal=True).transpose(1, 2).contiguous().view(B, T, H * D)

    assert _compare([x], attend, (B, T, H * D), node="ViewBackward0") == [0, 0]


@pytest.mark.parametrize("need_weights", [False, True])
def test_multihead_attention(need_weights: bool) -> None:
    """nn.MultiheadAttention goes through the kernel when it is not asked for the weights."""
    x = np.random.default_rng(1).standard_normal((2, 10, 32)).astype(np.float32)
    causal = np.triu(np.ones((10, 10), bool), 1)
    results = []
    for lib in (torch, engine):
        lib.manual_seed(0)
        mha = lib.nn.MultiheadAttention(32, 4, batch_first=True)
        t = lib.from_numpy(x.copy()).clone().requires_grad_()
        out, _ = mha(t, t, t, attn_mask=lib.from_numpy(causal.copy()), need_weights=need_weights)
        out.sum().backward()
        results.append([out.detach().numpy(), t.grad.numpy(), mha.in_proj_weight.grad.numpy()])
    assert [_mismatches(a, b) for a, b in zip(*results)] == [0, 0, 0]


def test_no_grad_and_create_graph() -> None:
    q, k, v = (engine.from_numpy(a) for a in _qkv((2, 2, 9, 8), np.float32, 2))
    with engine.no_grad():
        out = _sdpa(engine, q, k, v)
    assert out.grad_fn is None
    tq, tk, tv = (torch.from_numpy(a.numpy()).clone() for a in (q, k, v))
    assert _mismatches(out.numpy(), _sdpa(torch, tq, tk, tv).numpy()) == 0
    # a second derivative: the graph of the formula (torch's flash backward has none; its first derivative is kept)
    q.requires_grad_()
    (g,) = engine.autograd.grad(_sdpa(engine, q, k, v).sum(), q, create_graph=True)
    assert g.requires_grad
    tq.requires_grad_()
    (tg,) = torch.autograd.grad(_sdpa(torch, tq, tk, tv).sum(), tq)
    np.testing.assert_allclose(g.detach().numpy(), tg.numpy(), rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("train", [True, False])
def test_transformer_encoder_layer(train: bool) -> None:
    """A causal nn.TransformerEncoderLayer (the tutorials' language model block), training and eval."""
    x = np.random.default_rng(1).standard_normal((2, 10, 32)).astype(np.float32)
    results = []
    for lib in (torch, engine):
        lib.manual_seed(0)
        layer = lib.nn.TransformerEncoderLayer(32, 4, dim_feedforward=64, dropout=0.0, batch_first=True)
        layer.train(train)
        t = lib.from_numpy(x.copy()).clone().requires_grad_(train)
        out = layer(t, src_mask=lib.nn.Transformer.generate_square_subsequent_mask(10), is_causal=True)
        if train:
            out.sum().backward()
        results.append([out.detach().numpy()] + ([t.grad.numpy()] if train else []))
    assert [_mismatches(a, b) for a, b in zip(*results)] == [0] * len(results[0])
