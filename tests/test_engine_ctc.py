"""F.ctc_loss, torch.ctc_loss and nn.CTCLoss against torch: values and gradients over random batches (padded
and concatenated targets, lengths as tensors or lists, unbatched input, blank, reduction, zero_infinity,
impossible alignments), float64 values and gradients bit for bit, the graph torch builds (CtcLossBackward0
under where/div/mean/sum/squeeze), gradcheck, the double backward torch refuses, and torch's errors."""

from __future__ import annotations

from typing import Any

import helpers
import numpy as np
import pytest
import torch
from helpers import Arg, computed, graph, same, same_error
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import engine
from engine.autograd import gradcheck

pytestmark = [pytest.mark.usefixtures("device"), pytest.mark.filterwarnings("ignore::UserWarning")]


def log_probs(shape: tuple, dtype: str = "float64", seed: int = 0) -> np.ndarray:
    x = np.random.default_rng(seed).standard_normal(shape)
    return (x - np.log(np.exp(x).sum(-1, keepdims=True))).astype(dtype)


def F(T: Any) -> Any:  # noqa: N802
    return T.nn.functional


REDUCTIONS = ["none", "sum", "mean"]


@st.composite
def batches(draw: Any) -> dict:
    t = draw(st.integers(1, 9))
    n = draw(st.integers(1, 4))
    c = draw(st.integers(2, 6))
    s = draw(st.integers(0, 5))
    seed = draw(st.integers(0, 2**16))
    rng = np.random.default_rng(seed)
    tl = rng.integers(0, s + 1, n)
    labels = rng.integers(0, c, (n, s))
    if draw(st.booleans()):  # (repeated labels need a blank between them: the skip rule)
        labels[:, 1:] = labels[:, :1]
    concatenated = draw(st.booleans())
    targets = np.concatenate([labels[b, : tl[b]] for b in range(n)]) if concatenated else labels
    return {
        "lp": log_probs((t, n, c), draw(st.sampled_from(["float32", "float64"])), seed),
        "targets": targets.astype(np.int64),
        "il": rng.integers(0, t + 1, n),
        "tl": tl,
        "blank": draw(st.integers(0, c - 1)),
        "reduction": draw(st.sampled_from(["none", "sum", "mean"])),
        "zero_infinity": draw(st.booleans()),
        "lists": draw(st.booleans()),
    }


@settings(max_examples=80, deadline=None, suppress_health_check=list(HealthCheck))
@given(batches())
def test_ctc_loss_matches_torch(b: dict) -> None:
    kw = {"blank": b["blank"], "reduction": b["reduction"], "zero_infinity": b["zero_infinity"]}
    if b["lists"]:
        il, tl = b["il"].tolist(), tuple(b["tl"].tolist())
        computed(lambda T, lp, tg: F(T).ctc_loss(lp, tg, il, tl, **kw), b["lp"], Arg(b["targets"]))
    else:
        computed(lambda T, lp, tg, il, tl: F(T).ctc_loss(lp, tg, il, tl, **kw), b["lp"], Arg(b["targets"]),
                 Arg(b["il"]), Arg(b["tl"]))  # fmt: skip


def _value_and_grad(T: Any, lp: np.ndarray, targets: np.ndarray, il: list, tl: list, **kw: Any) -> tuple:
    x = T.tensor(lp).requires_grad_()
    loss = F(T).ctc_loss(x, T.tensor(targets), il, tl, **kw)
    loss.backward(T.ones_like(loss))
    return loss.detach().cpu().numpy(), x.grad.cpu().numpy()


@pytest.mark.parametrize("zero_infinity", [False, True])
def test_ctc_loss_float64_bit_for_bit(zero_infinity: bool) -> None:
    """torch's operations in torch's order, with the C library's exp and log: the same bits in float64 on the
    cpu."""
    lp = log_probs((12, 4, 6), seed=3)
    targets = np.array([[1, 2, 2, 3, 5], [4, 4, 4, 0, 0], [2, 1, 2, 1, 2], [5, 5, 5, 5, 5]])
    il, tl = [12, 9, 10, 6], [5, 3, 5, 5]  # (the last cannot align: an infinite loss)
    for reduction in ("none", "sum", "mean"):
        kw = {"reduction": reduction, "zero_infinity": zero_infinity}
        want = _value_and_grad(torch, lp, targets, il, tl, **kw)
        got = _value_and_grad(engine, lp, targets, il, tl, **kw)
        for w, g in zip(want, got):
            if helpers.DEVICE == "cpu":
                np.testing.assert_array_equal(g, w)
            else:  # (a device's exp and log are its own)
                np.testing.assert_allclose(g, w, rtol=1e-13, atol=1e-15)


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_ctc_loss_unbatched(reduction: str) -> None:
    lp = log_probs((7, 5))
    computed(lambda T, x, tg: F(T).ctc_loss(x, tg, T.tensor(7), T.tensor(3), reduction=reduction), lp,
             Arg(np.array([1, 3, 3])))  # fmt: skip
    computed(lambda T, x, tg: F(T).ctc_loss(x, tg, [6], [2], reduction=reduction), lp, Arg(np.array([4, 2])))
    computed(lambda T, x, tg: F(T).ctc_loss(x, tg, T.tensor([5]), T.tensor([0]), blank=4), lp,
             Arg(np.zeros(0, dtype=np.int64)))  # fmt: skip


def test_ctc_loss_target_and_length_dtypes() -> None:
    lp = log_probs((6, 2, 4))
    for tdt, ldt in (("int32", "int16"), ("float32", "uint8"), ("int64", "int8")):
        computed(lambda T, x, tg, il, tl: F(T).ctc_loss(x, tg, il, tl), lp, Arg(np.array([[1, 2], [3, 1]]).astype(tdt)),
                 Arg(np.array([6, 5]).astype(ldt)), Arg(np.array([2, 1]).astype(ldt)))  # fmt: skip
    computed(lambda T, x, tg: F(T).ctc_loss(x, tg, [6, np.int64(5)], [T.tensor(2), 1]), lp,
             Arg(np.array([[1, 2], [3, 1]])))  # fmt: skip


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("zi", [False, True])
def test_ctc_loss_impossible_and_empty(reduction: str, zi: bool) -> None:
    """An alignment longer than the input has an infinite loss (nan gradients unless zero_infinity); no input
    gives -0.0 for an empty target and inf otherwise."""
    lp = log_probs((4, 3, 3))
    tg = Arg(np.array([[1, 1, 1], [1, 2, 1], [2, 2, 0]]))
    computed(lambda T, x, tg: F(T).ctc_loss(x, tg, [4, 2, 0], [3, 3, 0], reduction=reduction, zero_infinity=zi),
             lp, tg)  # fmt: skip
    computed(lambda T, x, tg: F(T).ctc_loss(x, tg, [0, 0, 0], [0, 1, 0], reduction="none"), lp, tg)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("zi", [False, True])
def test_ctc_loss_graph(reduction: str, zi: bool) -> None:
    lp = log_probs((5, 2, 4))
    tg = np.array([[1, 2], [3, 3]])
    assert same(lambda T, x: graph(F(T).ctc_loss(x.requires_grad_(), T.tensor(tg), T.tensor([5, 4]),
                                                 T.tensor([2, 2]), reduction=reduction, zero_infinity=zi)),
                lp)  # fmt: skip
    assert same(lambda T, x: graph(F(T).ctc_loss(x.requires_grad_(), T.tensor([1]), [5], [1], reduction="none")),
                lp[:, 0])  # fmt: skip


LP = log_probs((5, 2, 4))
TG = Arg(np.array([[1, 2], [3, 3]]))
IL, TL = Arg(np.array([5, 4])), Arg(np.array([2, 1]))


@pytest.mark.parametrize("red", [0, 1, 2, 7])  # (an int outside the enum is no reduction)
def test_torch_ctc_loss_reduction_enum(red: int) -> None:
    computed(lambda T, x, tg, il, tl: T.ctc_loss(x, tg, il, tl, 1, red, True), LP, TG, IL, TL)


@pytest.mark.parametrize("kw", [{}, {"blank": 3, "reduction": "sum", "zero_infinity": True}, {"reduction": "none"}])
def test_ctc_loss_module(kw: dict) -> None:
    computed(lambda T, x, tg, il, tl: T.nn.CTCLoss(**kw)(x, tg, il, tl), LP, TG, IL, TL)


def test_ctc_loss_keywords_repr_and_legacy_reduction() -> None:
    lp, tg, il, tl = LP, TG, IL, TL
    computed(lambda T, x, tg: T.ctc_loss(x, tg, input_lengths=[5, 3], target_lengths=[1, 2], reduction=2), lp, tg)
    assert same(lambda T: repr(T.nn.CTCLoss(blank=2, zero_infinity=True))) == "CTCLoss()"
    assert same(lambda T: (T.nn.CTCLoss(blank=2).blank, T.nn.CTCLoss(reduction="sum").reduction))
    computed(lambda T, x, tg, il, tl: F(T).ctc_loss(x, tg, il, tl, reduction="elementwise_mean"), lp, tg, il, tl)


def test_ctc_loss_gradcheck() -> None:
    """torch's gradient is exp(log_probs) minus the alignment posteriors: the derivative through log_softmax
    (its log_probs are taken to be normalised), so the check differentiates logits."""
    logits = engine.tensor(np.random.default_rng(5).standard_normal((6, 3, 4)), requires_grad=True)
    tg = engine.tensor([[1, 2, 2], [3, 1, 0], [2, 3, 1]])

    def fn(x: Any) -> Any:
        return engine.nn.functional.ctc_loss(x.log_softmax(2), tg, [6, 5, 6], [3, 2, 2], reduction="none")

    assert gradcheck(fn, (logits,))
    assert gradcheck(lambda x: engine.nn.functional.ctc_loss(x.log_softmax(2), tg, [6, 4, 3], [2, 0, 1], blank=3),
                     (logits,))  # fmt: skip


def test_ctc_loss_double_backward_and_inplace() -> None:
    lp = log_probs((5, 2, 4))
    tg = Arg(np.array([[1, 2], [3, 3]]))

    def twice(T: Any, tg: Any) -> Any:
        x = T.tensor(lp, requires_grad=True)
        (g,) = T.autograd.grad(F(T).ctc_loss(x, tg, [5, 5], [2, 2]), x, create_graph=True)
        assert graph(g).startswith("NotImplemented(")
        g.sum().backward()

    assert same_error(twice, tg) == ("RuntimeError", "derivative for aten::_ctc_loss_backward is not implemented")

    def modified(T: Any, x: Any, tg: Any, what: str) -> Any:
        y = x * 1
        loss = F(T).ctc_loss(y, tg, [5, 5], [2, 2])
        (y if what == "log_probs" else tg).add_(1)  # (torch saves both: either change is caught)
        loss.backward()

    for what in ("log_probs", "targets"):
        same_error(lambda T, tg, what=what: modified(T, T.tensor(lp, requires_grad=True), tg, what), tg)


ERRORS = {
    "half": lambda T, x, tg: F(T).ctc_loss(x.half(), tg, [5, 5], [2, 2]),
    "long": lambda T, x, tg: F(T).ctc_loss(x.long(), tg, [5, 5], [2, 2]),
    "empty": lambda T, x, tg: F(T).ctc_loss(x[:, :0], tg[:0], [], []),
    "4d": lambda T, x, tg: F(T).ctc_loss(x[None], tg, [5, 5], [2, 2]),
    "1d": lambda T, x, tg: F(T).ctc_loss(x[0, 0], tg, [5, 5], [2, 2]),
    "0d": lambda T, x, tg: F(T).ctc_loss(x[0, 0, 0], tg, [5, 5], [2, 2]),
    "targets 3d": lambda T, x, tg: F(T).ctc_loss(x, tg[None], [5, 5], [2, 2]),
    "targets 0d": lambda T, x, tg: F(T).ctc_loss(x, tg[0, 0], [5, 5], [2, 2]),
    "blank high": lambda T, x, tg: F(T).ctc_loss(x, tg, [5, 5], [2, 2], blank=4),
    "blank negative": lambda T, x, tg: F(T).ctc_loss(x, tg, [5, 5], [2, 2], blank=-1),
    "input_lengths size": lambda T, x, tg: F(T).ctc_loss(x, tg, [5], [2, 2]),
    "target_lengths size": lambda T, x, tg: F(T).ctc_loss(x, tg, T.tensor([5, 5]), T.tensor([2])),
    "target length negative": lambda T, x, tg: F(T).ctc_loss(x, tg, [5, 5], [2, -1]),
    "padded rows": lambda T, x, tg: F(T).ctc_loss(x, tg[:1], [5, 5], [2, 2]),
    "padded width": lambda T, x, tg: F(T).ctc_loss(x, tg, [5, 5], [3, 2]),
    "concatenated size": lambda T, x, tg: F(T).ctc_loss(x, tg.flatten(), [5, 5], [2, 1]),
    "input length high": lambda T, x, tg: F(T).ctc_loss(x, tg, [6, 5], [2, 2]),
    "input length negative": lambda T, x, tg: F(T).ctc_loss(x, tg, [5, -2], [2, 2]),
    "float lengths": lambda T, x, tg: F(T).ctc_loss(x, tg, T.tensor([5.0, 5.0]), T.tensor([2, 2])),
    "bool lengths": lambda T, x, tg: F(T).ctc_loss(x, tg, T.tensor([5, 5]), T.tensor([True, True])),
    "mixed lengths": lambda T, x, tg: F(T).ctc_loss(x, tg, T.tensor([5, 5]), [2, 2]),
    "int lengths": lambda T, x, tg: F(T).ctc_loss(x, tg, 5, 2),
    "float in list": lambda T, x, tg: F(T).ctc_loss(x, tg, (5.0, 5), [2, 2]),
    "bool in list": lambda T, x, tg: F(T).ctc_loss(x, tg, (True, 5), [2, 2]),
    "float blank": lambda T, x, tg: F(T).ctc_loss(x, tg, T.tensor([5, 5]), T.tensor([2, 2]), blank=1.5),
    "list targets": lambda T, x, tg: F(T).ctc_loss(x, [1, 2], [5, 5], [1, 1]),
    "reduction": lambda T, x, tg: F(T).ctc_loss(x, tg, [5, 5], [2, 2], reduction="avg"),
}


@pytest.mark.parametrize("case", list(ERRORS))
def test_ctc_loss_errors(case: str) -> None:
    same_error(ERRORS[case], log_probs((5, 2, 4), "float32"), np.array([[1, 2], [3, 3]]))


def test_ctc_loss_out_of_range_label_is_refused() -> None:
    """torch reads past the class dimension (undefined); the engine names the label instead."""
    x = engine.tensor(log_probs((5, 2, 4)))
    with pytest.raises(IndexError, match="target label 4 is out of range for 4 classes"):
        engine.nn.functional.ctc_loss(x, engine.tensor([[1, 4], [3, 3]]), [5, 5], [2, 2])
    # (a label past a row's length is padding, never read)
    assert engine.nn.functional.ctc_loss(x, engine.tensor([[1, -9], [3, 3]]), [5, 5], [1, 2]).isfinite()
