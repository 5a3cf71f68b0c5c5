"""scaled_dot_product_attention and nn.MultiheadAttention against torch: values and gradients (to rounding:
torch's cpu flash kernel uses a fast exp), node names, masks (boolean, additive, causal, key padding, fully
masked rows), dropout (torch's mask, drawn from the seeded stream), seeded initialisation, reprs, batch_first,
kdim/vdim, add_bias_kv and add_zero_attn; gradcheck to second order in float64."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import torch
from helpers import RAISED, check, make, outcome

import engine
from engine.autograd import gradcheck, gradgradcheck

pytestmark = pytest.mark.usefixtures("device")


def _sdpa(T: Any) -> Any:
    return T.nn.functional.scaled_dot_product_attention


def test_sdpa_values_gradients_and_node() -> None:
    q, k, v = make((2, 3, 4, 8), seed=1), make((2, 3, 5, 8), seed=2), make((2, 3, 5, 8), seed=3)
    check(lambda T, a, b, c: _sdpa(T)(a, b, c), q, k, v, atol=1e-5, rtol=1e-4)
    check(lambda T, a, b, c: _sdpa(T)(a, b, c, scale=0.3), q, k, v, atol=1e-5, rtol=1e-4)
    check(lambda T, a: _sdpa(T)(a, a, a, is_causal=True), q, atol=1e-5, rtol=1e-4)
    keep = np.random.default_rng(0).random((4, 5)) > 0.3
    check(lambda T, a, b, c: _sdpa(T)(a, b, c, attn_mask=T.tensor(keep)), q, k, v, atol=1e-5, rtol=1e-4)
    add = make((4, 5), seed=4)
    check(lambda T, a, b, c: _sdpa(T)(a, b, c, attn_mask=T.tensor(add)), q, k, v, atol=1e-5, rtol=1e-4)
    unbatched = make((4, 8), seed=5)
    check(lambda T, a: _sdpa(T)(a, a, a), unbatched, atol=1e-5, rtol=1e-4)  # 2-d and 3-d: the math path
    check(lambda T, a: _sdpa(T)(a, a, a), make((2, 4, 8), seed=6), atol=1e-5, rtol=1e-4)


def test_sdpa_fully_masked_row_gives_zeros() -> None:
    q = make((1, 1, 2, 3), seed=6)
    mask = np.array([[False, False], [True, True]])
    check(lambda T, a: _sdpa(T)(a, a, a, attn_mask=T.tensor(mask)), q, atol=1e-6, rtol=1e-5)


def test_sdpa_dropout_is_the_math_path_with_torchs_mask() -> None:
    def f(T: Any) -> Any:
        T.manual_seed(3)
        q = T.randn(1, 2, 3, 4, requires_grad=True)
        o = _sdpa(T)(q, q, q, dropout_p=0.4)
        o.sum().backward()
        return o.grad_fn.name(), o.detach().cpu().numpy().round(5).tolist(), q.grad.cpu().numpy().round(5).tolist()

    assert outcome(f, engine) == outcome(f, torch)


def test_sdpa_errors() -> None:
    for call in (
        lambda T: _sdpa(T)(T.ones(2, 3), T.ones(2, 3, dtype=T.float64), T.ones(2, 3)),
        lambda T: _sdpa(T)(T.ones(3), T.ones(3), T.ones(3)),
        lambda T: _sdpa(T)([[1.0]], T.ones(2, 3), T.ones(2, 3)),
    ):
        t, e = outcome(call, torch), outcome(call, engine)
        assert t[0] == RAISED and e == t, (e, t)


def test_sdpa_gradcheck_second_order() -> None:
    rng = np.random.default_rng(7)
    q, k, v = (engine.tensor(rng.standard_normal((1, 2, 3, 4)), requires_grad=True) for _ in range(3))
    mask = engine.tensor(rng.random((3, 3)) > 0.2)

    def f(a: Any, b: Any, c: Any) -> Any:
        return _sdpa(engine)(a, b, c, attn_mask=mask)

    assert gradcheck(f, (q, k, v))
    (gq,) = engine.autograd.grad(f(q, k, v).sum(), q, create_graph=True)
    if gq.grad_fn.name() != "NotImplemented":  # (not torch's cpu flash kernel: a device, or no exact mode)
        assert gradgradcheck(f, (q, k, v))
        return
    # torch's cpu flash kernel has no derivative of its own backward: a second order is its error, as in torch
    with pytest.raises(RuntimeError, match="derivative for aten::_scaled_dot_product_flash_attention_for_cpu_backward"):
        gradgradcheck(f, (q, k, v))
    tq = torch.tensor(q.detach().numpy(), requires_grad=True)
    ty = torch.nn.functional.scaled_dot_product_attention(tq, tq, tq, attn_mask=torch.tensor(mask.numpy()))
    (tg,) = torch.autograd.grad(ty.sum(), tq, create_graph=True)
    with pytest.raises(RuntimeError, match="derivative for aten::_scaled_dot_product_flash_attention_for_cpu_backward"):
        tg.sum().backward()


def _mha_run(T: Any, **kw: Any) -> list:
    T.manual_seed(0)
    args = dict(kw)
    fwd = args.pop("fwd", {})
    mha = T.nn.MultiheadAttention(8, 2, **args)
    bf = args.get("batch_first", False)
    shape_q, shape_k = ((3, 5, 8), (3, 4, args.get("kdim", 8))) if bf else ((5, 3, 8), (4, 3, args.get("kdim", 8)))
    x = T.randn(*shape_q)
    key = T.randn(*shape_k)
    value = T.randn(*shape_k[:-1], args.get("vdim", 8)) if "vdim" in args else key
    if fwd.pop("self", False):
        key = value = x
    if "key_padding_mask" in fwd:
        fwd["key_padding_mask"] = T.tensor(fwd["key_padding_mask"])
    if "attn_mask" in fwd:
        fwd["attn_mask"] = T.tensor(fwd["attn_mask"])
    out, w = mha(x, key, value, **fwd)
    out.sum().backward()
    grads = {n: p.grad for n, p in mha.named_parameters()}
    return [str(mha), sorted(grads), out, w, [(n, g) for n, g in sorted(grads.items())],
            out.grad_fn.name(), None if w is None else w.grad_fn.name()]  # fmt: skip


def _close(a: Any, b: Any) -> None:
    if isinstance(a, torch.Tensor):
        np.testing.assert_allclose(b.detach().cpu().numpy(), a.detach().numpy(), atol=1e-5, rtol=1e-4)
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b)
        for x, y in zip(a, b):
            _close(x, y)
    else:
        assert a == b, (a, b)


KPM = [[False] * 4, [False, False, False, True], [False, True, True, True]]
CASES = {
    "self": {"fwd": {"self": True}},
    "cross": {},
    "no_weights": {"fwd": {"self": True, "need_weights": False}},
    "per_head": {"fwd": {"average_attn_weights": False}},
    "padding": {"fwd": {"key_padding_mask": KPM}},
    "padding_no_weights": {"fwd": {"key_padding_mask": KPM, "need_weights": False}},
    "bool_mask": {"fwd": {"attn_mask": np.tril(np.ones((5, 4), dtype=bool), -1).tolist()}},
    "float_mask": {"fwd": {"attn_mask": ((np.arange(20).reshape(5, 4) % 3 == 0) * -1e9).astype(np.float32)}},
    "batch_first": {"batch_first": True},
    "kdim_vdim": {"kdim": 6, "vdim": 7},
    "bias_kv_zero_attn": {"add_bias_kv": True, "add_zero_attn": True},
    "no_bias": {"bias": False},
    "dropout": {"dropout": 0.3},
}


@pytest.mark.parametrize("name", list(CASES))
def test_multihead_attention_is_torchs(name: str) -> None:
    kw = {k: (dict(v) if isinstance(v, dict) else v) for k, v in CASES[name].items()}
    t = _mha_run(torch, **kw)
    kw = {k: (dict(v) if isinstance(v, dict) else v) for k, v in CASES[name].items()}
    e = _mha_run(engine, **kw)
    _close(t, e)


def test_multihead_attention_errors() -> None:
    for call in (
        lambda T: T.nn.MultiheadAttention(8, 3),
        lambda T: T.nn.MultiheadAttention(0, 2),
        lambda T: T.nn.MultiheadAttention(8, 2)(T.ones(2, 3, 8), T.ones(2, 8), T.ones(2, 8)),
        lambda T: T.nn.MultiheadAttention(8, 2)(T.ones(4, 8), T.ones(4, 8), T.ones(4, 8), attn_mask=T.ones(3, 3)),
        lambda T: T.nn.MultiheadAttention(8, 2)(
            T.ones(4, 1, 8), T.ones(4, 1, 8), T.ones(4, 1, 8), attn_mask=T.ones(4, 4, dtype=T.int64)
        ),  # fmt: skip
    ):
        t, e = outcome(call, torch), outcome(call, engine)
        assert t[0] == RAISED and e == t, (e, t)
