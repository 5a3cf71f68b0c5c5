"""Differences from PyTorch found by QA round 12 (learners' programs: makemore, tutorials' training loops), each
compared bit for bit with PyTorch 2.13 on the cpu: a one-ulp gap in a gradient grows over a training loop into a
different printed loss."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import engine


def _bits(e: engine.Tensor, t: torch.Tensor) -> None:
    np.testing.assert_array_equal(e.detach().numpy(), t.detach().numpy())


def test_div_divisor_grad_rounds_as_torch() -> None:
    # torch's div_tensor_other_backward: -grad * ((self / other) / other), not -grad * self / (other * other)
    a = [1.3, 2.7, 0.3, 5.1, 7.7, 1e-3]
    b = [0.7, 3.3, 1.9, 2.2, 0.1, 3.0]
    g = [0.9, -1.1, 2.3, 0.4, 1.7, 0.6]
    grads = []
    for T in (torch, engine):
        x, y = T.tensor(a, requires_grad=True), T.tensor(b, requires_grad=True)
        (x / y).backward(T.tensor(g))
        grads.append((x.grad, y.grad))
    _bits(grads[1][0], grads[0][0])
    _bits(grads[1][1], grads[0][1])


def _nll(T: object, x: np.ndarray, t: np.ndarray, w: np.ndarray | None, red: str, dt: str) -> float:
    xx = T.tensor(x).to(getattr(T, dt))
    ww = None if w is None else T.tensor(w).to(getattr(T, dt))
    return T.nn.functional.nll_loss(xx, T.tensor(t), weight=ww, reduction=red).float().item()


@pytest.mark.parametrize("dt", ["float32", "float64", "float16", "bfloat16"])
@pytest.mark.parametrize("n,spatial", [(1, False), (17, False), (40, False), (4097, False), (33, True)])
@pytest.mark.parametrize("weighted", [False, True])
def test_nll_loss_reduces_in_torch_cascade(dt: str, n: int, spatial: bool, weighted: bool) -> None:
    # nll_loss_out_frame (and nll_loss2d's) sum the picked losses in eight cascaded partial sums, skipping
    # ignored targets; a plain float32 sum of 40 log-probabilities already differs from it in the last bit
    rng = np.random.default_rng(n)
    shape = (n, 5, 2, 3) if spatial else (n, 5)
    x = rng.standard_normal(shape) * 3 - 2
    t = rng.integers(0, 5, (n, 2, 3) if spatial else n)
    t = np.where(rng.random(t.shape) < 0.2, -100, t)
    w = rng.random(5) + 0.1 if weighted else None
    for red in ("mean", "sum"):
        want, got = _nll(torch, x, t, w, red, dt), _nll(engine, x, t, w, red, dt)
        assert got == want or (want != want and got != got), (red, got, want)


def test_np_array_of_a_tensor_is_its_numpy() -> None:
    # torch's Tensor.__array__ is numpy(): np.array(t) refuses a tensor that requires grad, as t.numpy() does
    for T in (torch, engine):
        t = T.tensor([1.0, 2.0], requires_grad=True)
        try:
            np.array(t)
        except RuntimeError as e:
            msg = str(e)
        else:
            msg = None
        if T is torch:
            want = msg
        else:
            assert msg == want
        np.testing.assert_array_equal(np.array(t.detach(), dtype=np.float64), [1.0, 2.0])


def test_np_array_warns_as_under_torch() -> None:
    # numpy 2 warns that torch's __array__ takes no copy keyword, at np.array(t) (not np.asarray(t))
    import warnings

    seen = []
    for T in (torch, engine):
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            np.array(T.tensor([1.0]))
            np.asarray(T.tensor([1.0]))
        seen.append([(x.category, str(x.message)) for x in w])
    assert seen[1] == seen[0] and seen[0]
