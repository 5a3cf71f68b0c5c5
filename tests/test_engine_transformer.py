"""nn.Transformer and its encoder/decoder layers and stacks against torch: seeded initialisation, reprs and
parameter names, post- and pre-norm, relu/gelu, causal masks (recognised as causal), key padding, dropout drawn
from the seeded stream, batch_first, gradients, and the encoder stack's nested-tensor warning."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pytest
import torch
from helpers import RAISED, outcome

import engine

pytestmark = pytest.mark.usefixtures("device")


def _close(a: Any, b: Any) -> None:
    if isinstance(a, torch.Tensor):
        assert isinstance(b, engine.Tensor), (a, b)
        np.testing.assert_allclose(b.detach().cpu().numpy(), a.detach().numpy(), atol=2e-5, rtol=1e-4)
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b), (a, b)
        for x, y in zip(a, b):
            _close(x, y)
    else:
        assert a == b, f"\nengine: {b}\ntorch:  {a}"


def _encoder(T: Any, **kw: Any) -> list:
    T.manual_seed(0)
    fwd = kw.pop("fwd", {})
    with warnings.catch_warnings(record=True) as ws:
        warnings.simplefilter("always")
        layer = T.nn.TransformerEncoderLayer(d_model=8, nhead=2, dim_feedforward=16, **kw)
        enc = T.nn.TransformerEncoder(layer, num_layers=2, norm=T.nn.LayerNorm(8))
    bf = kw.get("batch_first", False)
    x = T.randn(3, 5, 8) if bf else T.randn(5, 3, 8)
    if fwd.get("causal"):
        fwd = {"mask": T.nn.Transformer.generate_square_subsequent_mask(5)}
    if fwd.get("padding"):
        fwd = {"src_key_padding_mask": T.tensor([[False] * 5, [False] * 4 + [True], [False] * 2 + [True] * 3])}
    y = enc(x, **fwd)
    y.sum().backward()
    grads = [(n, p.grad) for n, p in enc.named_parameters()]
    return [[str(w.message) for w in ws], str(enc), y, y.grad_fn.name(), grads, T.rand(2)]


ENCODERS = {
    "default": {},
    "no_dropout": {"dropout": 0.0},
    "causal": {"fwd": {"causal": True}},
    "padding": {"fwd": {"padding": True}, "dropout": 0.0},
    "norm_first_gelu": {"norm_first": True, "activation": "gelu"},
    "batch_first": {"batch_first": True, "dropout": 0.0},
    "no_bias": {"bias": False, "dropout": 0.0},
}


@pytest.mark.parametrize("name", list(ENCODERS))
def test_encoder_stack_is_torchs(name: str) -> None:
    _close(_encoder(torch, **dict(ENCODERS[name])), _encoder(engine, **dict(ENCODERS[name])))


def _full(T: Any, **kw: Any) -> list:
    T.manual_seed(1)
    tr = T.nn.Transformer(d_model=8, nhead=2, num_encoder_layers=1, num_decoder_layers=2, dim_feedforward=16, **kw)
    bf = kw.get("batch_first", False)
    src, tgt = (T.randn(2, 5, 8), T.randn(2, 4, 8)) if bf else (T.randn(5, 2, 8), T.randn(4, 2, 8))
    out = tr(src, tgt, tgt_mask=T.nn.Transformer.generate_square_subsequent_mask(4))
    out.mean().backward()
    return [str(tr), out, out.grad_fn.name(), [(n, p.grad) for n, p in tr.named_parameters()], T.rand(1)]


@pytest.mark.parametrize("kw", [{}, {"batch_first": True, "norm_first": True}, {"dropout": 0.0}], ids=str)
def test_transformer_is_torchs(kw: dict) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        _close(_full(torch, **kw), _full(engine, **kw))


def test_masks_and_errors() -> None:
    _close(torch.nn.Transformer.generate_square_subsequent_mask(3),
           engine.nn.Transformer.generate_square_subsequent_mask(3))  # fmt: skip
    for call in (
        lambda T: T.nn.TransformerEncoderLayer(8, 2, activation="tanh"),
        lambda T: T.nn.Transformer(d_model=8, nhead=2, num_encoder_layers=1, num_decoder_layers=1)(
            T.ones(3, 2, 8), T.ones(3, 4, 8)
        ),  # fmt: skip
        lambda T: T.nn.Transformer(d_model=8, nhead=2, num_encoder_layers=1, num_decoder_layers=1)(
            T.ones(3, 2, 6), T.ones(3, 2, 6)
        ),  # fmt: skip
        lambda T: T.nn.TransformerEncoderLayer(8, 3),
    ):
        t, e = outcome(call, torch), outcome(call, engine)
        assert t[0] == RAISED and e == t, (e, t)
