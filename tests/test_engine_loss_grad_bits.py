"""Loss and ternary-op gradients bit for bit with torch when the incoming gradient is not 1 (a loss scaled or
summed with another): each backward groups its arithmetic as torch's kernel or FunctionsManual formula does,
and kl_div records its two halves in the order torch's C++ composite does."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch

import engine

RNG = np.random.default_rng(12)
A, B, C = (RNG.standard_normal((8, 13)).astype(np.float32) for _ in range(3))
W = RNG.random((8, 13)).astype(np.float32)


def grads(mod: object, fn: object, *arrays: np.ndarray, scale: float = 0.7) -> list:
    ts = [mod.tensor(a).requires_grad_() for a in arrays]  # type: ignore[attr-defined]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        y = fn(mod, *ts)  # type: ignore[operator]
    y.backward(mod.ones_like(y) * scale)  # type: ignore[attr-defined]
    return [y.detach().numpy().tobytes()] + [t.grad.numpy().tobytes() for t in ts]


def same(fn: object, *arrays: np.ndarray) -> None:
    for scale in (0.7, 1.0, -3.0):
        assert grads(engine, fn, *arrays, scale=scale) == grads(torch, fn, *arrays, scale=scale), scale


@pytest.mark.parametrize("op", ["addcmul", "addcdiv"])
@pytest.mark.parametrize("value", [0.3, 1, -2.5])
def test_addcmul_addcdiv_grads(op: str, value: float) -> None:
    same(lambda m, a, b, c: getattr(m, op)(a, b, c, value=value), A, B, C)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("loss", ["smooth_l1_loss", "huber_loss"])
def test_smooth_l1_and_huber_grads(loss: str, reduction: str) -> None:
    same(lambda m, a, b: getattr(m.nn.functional, loss)(a, b, reduction=reduction), A, B)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("weighted", [False, True])
def test_binary_cross_entropy_grads(reduction: str, weighted: bool) -> None:
    def fn(m: object, a: object, b: object) -> object:
        w = m.tensor(W) if weighted else None  # type: ignore[attr-defined]
        return m.nn.functional.binary_cross_entropy(a.sigmoid(), b.sigmoid(), weight=w, reduction=reduction)  # type: ignore[attr-defined]

    same(fn, A, B)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize(("weighted", "pos"), [(False, False), (True, False), (False, True), (True, True)])
def test_binary_cross_entropy_with_logits_grads(reduction: str, weighted: bool, pos: bool) -> None:
    def fn(m: object, a: object, b: object) -> object:
        w = m.tensor(W) if weighted else None  # type: ignore[attr-defined]
        pw = m.tensor(W[0] * 3) if pos else None  # type: ignore[attr-defined]
        return m.nn.functional.binary_cross_entropy_with_logits(  # type: ignore[attr-defined]
            a, b.sigmoid(), weight=w, pos_weight=pw, reduction=reduction
        )

    same(fn, A, B)


@pytest.mark.parametrize("reduction", ["batchmean", "sum", "none", "mean"])
@pytest.mark.parametrize("log_target", [False, True])
def test_kl_div_grads(reduction: str, log_target: bool) -> None:
    def fn(m: object, a: object, b: object) -> object:
        t = b.log_softmax(1) if log_target else b.softmax(1)
        return m.nn.functional.kl_div(a.log_softmax(1), t, reduction=reduction, log_target=log_target)  # type: ignore[attr-defined]

    same(fn, A, B)


@pytest.mark.parametrize("dt", ["float32", "float64"])
@pytest.mark.parametrize("reduction", ["mean", "none", "sum"])
def test_binary_cross_entropy_value_bits(dt: str, reduction: str) -> None:
    """torch's kernel takes the C library's log and log1p of each probability: a binary classifier's printed
    loss matched torch's in 44 of 50 batches before."""
    rng = np.random.default_rng(13)
    for _ in range(20):
        p = rng.standard_normal((64, 1)).astype(dt)
        y = (rng.random((64, 1)) > 0.5).astype(dt)
        out = [
            m.nn.functional.binary_cross_entropy(m.tensor(p).sigmoid(), m.tensor(y), reduction=reduction)  # type: ignore[attr-defined]
            .numpy()
            .tobytes()
            for m in (torch, engine)
        ]
        assert out[0] == out[1]
