"""torch.nn.functional's multi-class margin losses (multi_margin_loss, multilabel_margin_loss,
multilabel_soft_margin_loss and their modules), bilinear / nn.Bilinear, pdist, channel_shuffle / nn.ChannelShuffle
and embedding_bag / nn.EmbeddingBag against torch: values, dtypes, grad_fn names, gradients, gradcheck, the
double backward torch refuses, module init under manual_seed, reprs and torch's errors."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import torch
from helpers import Arg, computed, cpu_text, same, same_error
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import engine
from engine.autograd import gradcheck, gradgradcheck

pytestmark = [pytest.mark.usefixtures("device"), pytest.mark.filterwarnings("ignore::UserWarning")]

ok = computed
DTS = ["float32", "float64"]
REDUCTIONS = ["mean", "sum", "none"]


def rnd(shape: tuple, dtype: str = "float64", seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal(shape).astype(dtype)


def F(T: Any) -> Any:  # noqa: N802
    return T.nn.functional


# ---- multi_margin_loss ------------------------------------------------------------------------------------------
X = rnd((5, 4), seed=1)
Y = np.array([1, 0, 3, 2, 3])


@pytest.mark.parametrize("dt", DTS)
@pytest.mark.parametrize("p", [1, 2])
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_multi_margin_loss(dt: str, p: int, reduction: str) -> None:
    w = np.random.default_rng(2).random(4).astype(dt)
    ok(lambda T, x, y: F(T).multi_margin_loss(x, y, p=p, margin=0.7, reduction=reduction), X.astype(dt), Arg(Y))
    ok(lambda T, x, y, w: F(T).multi_margin_loss(x, y, p=p, weight=w, reduction=reduction), X.astype(dt), Arg(Y),
       Arg(w))  # fmt: skip
    ok(lambda T, x, y, w: T.nn.MultiMarginLoss(p=p, weight=w, reduction=reduction)(x, y), X.astype(dt), Arg(Y), Arg(w))


def test_multi_margin_loss_vectors_and_legacy_flags() -> None:
    ok(lambda T, x: F(T).multi_margin_loss(x, T.tensor(2)), X[0])
    ok(lambda T, x: F(T).multi_margin_loss(x, T.tensor([2]), reduction="none"), X[0])
    ok(lambda T, x: F(T).multi_margin_loss(x, T.tensor(0)), np.array(1.0))
    ok(lambda T, x, y: F(T).multi_margin_loss(x, y, size_average=False), X, Arg(Y))
    ok(lambda T, x, y: F(T).multi_margin_loss(x, y, reduction="elementwise_mean"), X, Arg(Y))


MULTI_MARGIN_ERRORS = {
    "3d": lambda T: F(T).multi_margin_loss(T.ones(2, 3, 4), T.tensor([1, 0, 2])),
    "no_classes": lambda T: F(T).multi_margin_loss(T.ones(3, 0), T.tensor([1, 0, 2])),
    "p3": lambda T: F(T).multi_margin_loss(T.ones(3, 4), T.tensor([1, 0, 2]), p=3),
    "target_high": lambda T: F(T).multi_margin_loss(T.ones(3, 4), T.tensor([1, 0, 4])),
    "target_negative": lambda T: F(T).multi_margin_loss(T.ones(3, 4), T.tensor([1, 0, -1])),
    "target_size": lambda T: F(T).multi_margin_loss(T.ones(3, 4), T.tensor([1, 0])),
    "target_2d": lambda T: F(T).multi_margin_loss(T.ones(3, 4), T.tensor([[1, 0, 2]])),
    "target_float": lambda T: F(T).multi_margin_loss(T.ones(3, 4), T.tensor([1.0, 0.0, 2.0])),
    "target_int32": lambda T: F(T).multi_margin_loss(T.ones(3, 4), T.tensor([1, 0, 2], dtype=T.int32)),
    "weight_size": lambda T: F(T).multi_margin_loss(T.ones(3, 4), T.tensor([1, 0, 2]), weight=T.ones(3)),
    "weight_2d": lambda T: F(T).multi_margin_loss(T.ones(3, 4), T.tensor([1, 0, 2]), weight=T.ones(1, 4)),
    "weight_dtype": lambda T: F(T).multi_margin_loss(T.ones(3, 4), T.tensor([1, 0, 2]), weight=T.ones(4).double()),
    "int_input": lambda T: F(T).multi_margin_loss(T.ones(3, 4, dtype=T.int64), T.tensor([1, 0, 2])),
    "half_input": lambda T: F(T).multi_margin_loss(T.ones(3, 4, dtype=T.float16), T.tensor([1, 0, 2])),
    "reduction": lambda T: F(T).multi_margin_loss(T.ones(3, 4), T.tensor([1, 0, 2]), reduction="foo"),
    "module_p": lambda T: T.nn.MultiMarginLoss(p=3),
    "module_weight": lambda T: T.nn.MultiMarginLoss(weight=T.ones(2, 2)),
}


@pytest.mark.parametrize("name", list(MULTI_MARGIN_ERRORS))
def test_multi_margin_loss_errors(name: str) -> None:
    same_error(MULTI_MARGIN_ERRORS[name])


# ---- multilabel_margin_loss ---------------------------------------------------------------------------------
LABELS = np.array([[3, 0, -1, 1], [0, 1, 2, 3], [-1, 0, 0, 0], [1, 1, -1, 2], [2, -1, 3, 0]])


@pytest.mark.parametrize("dt", DTS)
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_multilabel_margin_loss(dt: str, reduction: str) -> None:
    ok(lambda T, x, y: F(T).multilabel_margin_loss(x, y, reduction=reduction), X.astype(dt), Arg(LABELS))
    ok(lambda T, x, y: T.nn.MultiLabelMarginLoss(reduction=reduction)(x, y), (X * 0.2).astype(dt), Arg(LABELS))
    ok(lambda T, x, y: F(T).multilabel_margin_loss(x, y, reduction=reduction), X[0].astype(dt), Arg(LABELS[0]))


MULTILABEL_ERRORS = {
    "target_size": lambda T: F(T).multilabel_margin_loss(T.ones(3, 4), T.zeros(2, 4, dtype=T.int64)),
    "target_high": lambda T: F(T).multilabel_margin_loss(T.ones(3, 4), T.full((3, 4), 4)),
    "target_low": lambda T: F(T).multilabel_margin_loss(T.ones(3, 4), T.full((3, 4), -2)),
    "target_float": lambda T: F(T).multilabel_margin_loss(T.ones(3, 4), T.zeros(3, 4)),
    "int_input": lambda T: F(T).multilabel_margin_loss(T.ones(3, 4, dtype=T.int64), T.zeros(3, 4, dtype=T.int64)),
    "3d": lambda T: F(T).multilabel_margin_loss(T.ones(2, 3, 4), T.zeros(2, 3, 4, dtype=T.int64)),
    "reduction": lambda T: F(T).multilabel_margin_loss(T.ones(3, 4), T.zeros(3, 4, dtype=T.int64), reduction="foo"),
}


@pytest.mark.parametrize("name", list(MULTILABEL_ERRORS))
def test_multilabel_margin_loss_errors(name: str) -> None:
    same_error(MULTILABEL_ERRORS[name])


def test_margin_losses_have_no_double_backward() -> None:
    """torch defines no derivative for these kernels' backward: the gradient's node is NotImplemented."""

    def second(loss: Any, target: Any) -> Any:
        def fn(T: Any, x: Any) -> Any:
            x.requires_grad_()
            (g,) = T.autograd.grad(loss(T)(x * 1.0, target(T)), x, create_graph=True)
            return T.autograd.grad(g.sum(), x)

        return fn

    for loss, target, x in ((F(engine).multi_margin_loss, Y, X), (F(engine).multilabel_margin_loss, LABELS, X * 0.2)):
        name = loss.__name__
        _, msg = same_error(second(lambda T, n=name: getattr(F(T), n), lambda T, t=target: T.tensor(t)), x)
        assert msg == f"derivative for aten::{name}_backward is not implemented"


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_multilabel_soft_margin_loss(reduction: str) -> None:
    target = (np.random.default_rng(3).random((5, 4)) > 0.5).astype("float64")
    w = np.random.default_rng(4).random(4)
    ok(lambda T, x, y: F(T).multilabel_soft_margin_loss(x, y, reduction=reduction), X, target)
    ok(lambda T, x, y, w: F(T).multilabel_soft_margin_loss(x, y, weight=w, reduction=reduction), X, target, w)
    ok(lambda T, x, y, w: T.nn.MultiLabelSoftMarginLoss(weight=w, reduction=reduction)(x, y), X, target, Arg(w))
    ok(lambda T, x, y: F(T).multilabel_soft_margin_loss(x, y), rnd((2, 3, 4), seed=5), Arg(target[:3]))
    same_error(lambda T, x, y: F(T).multilabel_soft_margin_loss(x, y, reduction="elementwise_mean"), X, target)
    ok(lambda T, x, y: F(T).multilabel_soft_margin_loss(x, y, size_average=False), X, target)


def test_loss_module_reprs_and_state() -> None:
    assert same(lambda T: repr(T.nn.MultiMarginLoss(p=2, weight=T.ones(4)))) == "MultiMarginLoss()"
    assert same(lambda T: [repr(T.nn.MultiLabelMarginLoss()), repr(T.nn.MultiLabelSoftMarginLoss())])
    assert same(lambda T: list(T.nn.MultiMarginLoss(weight=T.ones(4)).state_dict())) == ["weight"]
    assert same(lambda T: list(T.nn.MultiLabelSoftMarginLoss(weight=T.ones(4)).state_dict())) == ["weight"]


# ---- bilinear -------------------------------------------------------------------------------------------------
def test_bilinear() -> None:
    x1, x2, w, b = rnd((3, 2), seed=6), rnd((3, 4), seed=7), rnd((5, 2, 4), seed=8), rnd(5, seed=9)
    ok(lambda T, a, c, w, b: F(T).bilinear(a, c, w, b), x1, x2, w, b)
    ok(lambda T, a, c, w: F(T).bilinear(a, c, w), x1, x2, w)
    ok(lambda T, a, c, w: T.bilinear(a, c, w), rnd((2, 3, 2), seed=10), rnd((2, 3, 4), seed=11), w)
    ok(lambda T, a, c, w: T.bilinear(a, c, w), x1[0], x2[0], w)
    ok(lambda T: F(T).bilinear(T.ones(3, 2).int(), T.ones(3, 4).int(), T.ones(5, 2, 4).int()))
    inputs = tuple(engine.tensor(v, requires_grad=True) for v in (x1, x2, w, b))
    assert gradcheck(engine.nn.functional.bilinear, inputs)
    assert gradgradcheck(engine.nn.functional.bilinear, inputs)


def test_bilinear_module() -> None:
    def fn(T: Any) -> Any:
        T.manual_seed(3)
        m = T.nn.Bilinear(2, 4, 5)
        return repr(m), m.weight, m.bias, m(T.ones(3, 2), T.ones(3, 4)), list(m.state_dict())

    ok(fn)
    ok(lambda T: (T.manual_seed(3), T.nn.Bilinear(2, 4, 5, bias=False).weight)[1])
    assert same(lambda T: T.nn.Bilinear(2, 4, 5, bias=False).bias is None)


BILINEAR_ERRORS = {
    "dtype": lambda T: F(T).bilinear(T.ones(3, 2), T.ones(3, 4), T.ones(5, 2, 4).double()),
    "bias_dtype": lambda T: F(T).bilinear(T.ones(3, 2), T.ones(3, 4), T.ones(5, 2, 4), T.ones(5).double()),
    "batch": lambda T: F(T).bilinear(T.ones(3, 2), T.ones(2, 4), T.ones(5, 2, 4)),
    "input1": lambda T: F(T).bilinear(T.ones(3, 3), T.ones(3, 4), T.ones(5, 2, 4)),
    "input2": lambda T: F(T).bilinear(T.ones(3, 2), T.ones(3, 3), T.ones(5, 2, 4)),
    "bias": lambda T: F(T).bilinear(T.ones(3, 2), T.ones(3, 4), T.ones(5, 2, 4), T.ones(4)),
    "dims": lambda T: F(T).bilinear(T.ones(3, 2), T.ones(3, 1, 4), T.ones(5, 2, 4)),
    "list": lambda T: F(T).bilinear([1.0], T.ones(3, 4), T.ones(5, 2, 4)),
}


@pytest.mark.parametrize("name", list(BILINEAR_ERRORS))
def test_bilinear_errors(name: str) -> None:
    same_error(BILINEAR_ERRORS[name])


# ---- pdist ------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("p", [0, 0.5, 1, 1.5, 2, 3, float("inf")])
def test_pdist(p: float) -> None:
    ok(lambda T, x: F(T).pdist(x, p), rnd((5, 3), seed=12))
    ok(lambda T, x: T.pdist(x, p), np.array([[1.0, 2.0], [1.0, 2.0], [0.0, 2.0], [3.0, -1.0]]))  # a zero distance
    ok(lambda T, x: T.pdist(x, p), rnd((4, 3), "float32", seed=13))
    if p:
        x = engine.tensor(rnd((5, 3), seed=14), requires_grad=True)
        assert gradcheck(lambda t: engine.pdist(t, p), (x,))


def test_pdist_edges_and_errors() -> None:
    ok(lambda T, x: T.pdist(x), rnd((1, 3)))
    ok(lambda T, x: T.pdist(x), rnd((3, 0)))
    same_error(lambda T: T.pdist(T.ones(3)))
    same_error(lambda T: T.pdist(T.ones(3, 3).long()))
    same_error(lambda T: T.pdist(T.ones(3, 3).half()))
    same_error(lambda T: T.pdist(T.ones(3, 3), -1))

    def second(T: Any, x: Any) -> Any:
        x.requires_grad_()
        (g,) = T.autograd.grad(T.pdist(x).sum(), x, create_graph=True)
        return T.autograd.grad(g.sum(), x)

    kind, _ = same_error(second, np.array([[1.0, 2.0], [3.0, 1.0], [0.0, 0.0]]))
    assert kind == "NotImplementedError"


# ---- channel_shuffle ----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("shape,groups", [((1, 4, 3), 2), ((2, 6, 3, 2), 3), ((2, 6, 2), 6), ((2, 6, 2), 1)])
def test_channel_shuffle(shape: tuple, groups: int) -> None:
    ok(lambda T, x: F(T).channel_shuffle(x, groups), rnd(shape, seed=15))
    ok(lambda T, x: T.nn.ChannelShuffle(groups)(x), rnd(shape, seed=15))
    x = engine.tensor(rnd(shape, seed=16), requires_grad=True)
    assert gradcheck(lambda t: engine.nn.functional.channel_shuffle(t, groups), (x,))
    assert gradgradcheck(lambda t: engine.nn.functional.channel_shuffle(t, groups), (x,))


def test_native_channel_shuffle_has_no_derivative() -> None:
    """torch's native_channel_shuffle: the same values, a NotImplemented node that refuses a backward."""
    ok(lambda T: (F(T).native_channel_shuffle(T.arange(8.0).view(1, 8, 1, 1), 4), T.native_channel_shuffle(
        T.arange(12.0).view(1, 4, 3), 2)))  # fmt: skip
    same_error(lambda T: T.native_channel_shuffle(T.ones(1, 8, 1, requires_grad=True), 2).sum().backward())
    assert same(lambda T: type(T.native_channel_shuffle(T.ones(1, 4, 1, requires_grad=True), 2).grad_fn).__name__)
    same_error(lambda T: T.native_channel_shuffle(T.ones(1, 8, 1), 3))


def test_channel_shuffle_ints_repr_errors() -> None:
    ok(lambda T: T.channel_shuffle(T.arange(12).reshape(1, 4, 3), 2))
    assert same(lambda T: repr(T.nn.ChannelShuffle(2))) == "ChannelShuffle(groups=2)"
    same_error(lambda T: F(T).channel_shuffle(T.ones(3, 4), 2))
    same_error(lambda T: F(T).channel_shuffle(T.ones(1, 4, 3), 0))
    same_error(lambda T: F(T).channel_shuffle(T.ones(1, 4, 3), 3))


# ---- embedding_bag ----------------------------------------------------------------------------------------------
W = rnd((10, 3), seed=17)
IDX = np.array([1, 2, 4, 5, 4, 3, 2, 9])
OFF = np.array([0, 4])


@pytest.mark.parametrize("mode", ["sum", "mean", "max"])
def test_embedding_bag_modes(mode: str) -> None:
    ok(lambda T, w: F(T).embedding_bag(T.tensor(IDX), w, T.tensor(OFF), mode=mode), W)
    ok(lambda T, w: F(T).embedding_bag(T.tensor(IDX.reshape(2, 4)), w, mode=mode), W)
    ok(lambda T, w: F(T).embedding_bag(T.tensor(IDX), w, T.tensor([0, 4, 4, 8]), mode=mode), W)  # empty bags
    ok(lambda T, w: F(T).embedding_bag(T.tensor(IDX), w, T.tensor([0, 4, 6]), include_last_offset=True, mode=mode), W)
    for pad in (4, -6):
        ok(lambda T, w, p=pad: F(T).embedding_bag(T.tensor(IDX), w, T.tensor(OFF), padding_idx=p, mode=mode), W)
    ok(lambda T, w: F(T).embedding_bag(T.tensor([4, 4, 1]), w, T.tensor([0, 2]), padding_idx=4, mode=mode), W)
    ok(lambda T, w: F(T).embedding_bag(T.tensor(IDX).int(), w, T.tensor(OFF), mode=mode), W)
    ok(lambda T, w: F(T).embedding_bag(T.tensor(IDX), w, T.tensor(OFF), mode=mode), W.astype("float32"))
    if mode != "max":  # (torch's kernel divides by the count its sorted walk reads: see engine/nn/embedding_bag.py)
        ok(lambda T, w: F(T).embedding_bag(T.tensor(IDX), w, T.tensor(OFF), mode=mode, scale_grad_by_freq=True), W)
    w = engine.tensor(W, requires_grad=True)
    assert gradcheck(lambda t: engine.nn.functional.embedding_bag(engine.tensor(IDX), t, engine.tensor(OFF),
                                                                  mode=mode), (w,))  # fmt: skip


def test_embedding_bag_per_sample_weights_and_renorm() -> None:
    p = np.random.default_rng(18).random(8)

    def fn(T: Any, w: Any, p: Any, **kw: Any) -> Any:
        return F(T).embedding_bag(T.tensor(IDX), w, T.tensor(OFF), mode="sum", per_sample_weights=p, **kw)

    ok(fn, W, p)
    ok(lambda T, w, p: fn(T, w, p, padding_idx=2), W, p)
    ok(lambda T, w, p: F(T).embedding_bag(T.tensor(IDX.reshape(2, 4)), w, mode="sum", per_sample_weights=p), W,
       p.reshape(2, 4))  # fmt: skip
    ok(
        lambda T, w: F(T).embedding_bag(T.tensor([1, 1, 2]), w, T.tensor([0]), mode="max"),
        np.array([[0.0, 1.0], [2.0, 2.0], [2.0, 1.0]]),
    )  # (ties: the first row reaching the maximum)
    ok(lambda T, w: (F(T).embedding_bag(T.tensor(IDX), w, T.tensor(OFF), max_norm=1.0), w), Arg(W.copy()))
    ins = (engine.tensor(W, requires_grad=True), engine.tensor(p, requires_grad=True))
    assert gradcheck(lambda w, q: fn(engine, w, q), ins)


def _eb(T: Any, idx: Any, w: Any, off: Any = None, **kw: Any) -> Any:
    return F(T).embedding_bag(idx, w, off, **kw)


EMBEDDING_BAG_ERRORS = {
    "first_offset": lambda T: _eb(T, T.tensor(IDX), T.ones(10, 3), T.tensor([1, 4])),
    "first_offset_int32": lambda T: _eb(T, T.tensor(IDX).int(), T.ones(10, 3), T.tensor([1, 4]).int()),
    "last_offset": lambda T: _eb(T, T.tensor(IDX), T.ones(10, 3), T.tensor([0, 9])),
    "index_high": lambda T: _eb(T, T.tensor([1, 10]), T.ones(10, 3), T.tensor([0])),
    "index_negative": lambda T: _eb(T, T.tensor([1, -1]), T.ones(10, 3), T.tensor([0])),
    "index_float": lambda T: _eb(T, T.tensor([1.0, 2.0]), T.ones(10, 3), T.tensor([0])),
    "offsets_float": lambda T: _eb(T, T.tensor(IDX), T.ones(10, 3), T.tensor([0.0, 4.0])),
    "padding_high": lambda T: _eb(T, T.tensor(IDX), T.ones(10, 3), T.tensor(OFF), padding_idx=10),
    "padding_low": lambda T: _eb(T, T.tensor(IDX), T.ones(10, 3), T.tensor(OFF), padding_idx=-11),
    "weights_with_mean": lambda T: _eb(T, T.tensor(IDX), T.ones(10, 3), T.tensor(OFF), per_sample_weights=T.ones(8)),
    "weights_shape": lambda T: _eb(T, T.tensor(IDX), T.ones(10, 3), T.tensor(OFF), mode="sum",
                                   per_sample_weights=T.ones(7)),
    "weights_dtype": lambda T: _eb(T, T.tensor(IDX), T.ones(10, 3), T.tensor(OFF), mode="sum",
                                   per_sample_weights=T.ones(8).double()),
    "mode": lambda T: _eb(T, T.tensor(IDX), T.ones(10, 3), T.tensor(OFF), mode="min"),
    "offsets_with_2d": lambda T: _eb(T, T.tensor(IDX).reshape(2, 4), T.ones(10, 3), T.tensor(OFF)),
    "no_offsets": lambda T: _eb(T, T.tensor(IDX), T.ones(10, 3)),
    "offsets_2d": lambda T: _eb(T, T.tensor(IDX), T.ones(10, 3), T.tensor(OFF).reshape(1, 2)),
    "input_3d": lambda T: _eb(T, T.tensor(IDX).reshape(2, 2, 2), T.ones(10, 3)),
    "weight_1d": lambda T: _eb(T, T.tensor(IDX), T.ones(10), T.tensor(OFF)),
    "max_freq": lambda T: _eb(T, T.tensor(IDX), T.ones(10, 3), T.tensor(OFF), mode="max", scale_grad_by_freq=True),
    "max_sparse": lambda T: _eb(T, T.tensor(IDX), T.ones(10, 3), T.tensor(OFF), mode="max", sparse=True),
    "weight_int": lambda T: _eb(T, T.tensor(IDX), T.ones(10, 3, dtype=T.int32), T.tensor(OFF)),
    "module_padding": lambda T: T.nn.EmbeddingBag(5, 2, padding_idx=5),
}  # fmt: skip


@pytest.mark.parametrize("name", list(EMBEDDING_BAG_ERRORS))
def test_embedding_bag_errors(name: str) -> None:
    # (on a cuda device torch names the type torch.cuda.IntTensor: compared as the cpu oracle shows it)
    errs = []
    for T in (torch, engine):
        with pytest.raises(Exception) as e:
            EMBEDDING_BAG_ERRORS[name](T)
        errs.append((type(e.value).__name__, cpu_text(str(e.value))))
    assert errs[1] == errs[0]


def test_embedding_bag_module() -> None:
    assert same(lambda T: repr(T.nn.EmbeddingBag(10, 3))) == "EmbeddingBag(10, 3, mode='mean')"
    same(lambda T: repr(T.nn.EmbeddingBag(10, 3, max_norm=1.0, norm_type=1.0, scale_grad_by_freq=True, mode="sum",
                                          padding_idx=2)))  # fmt: skip
    ok(lambda T: (T.manual_seed(0), T.nn.EmbeddingBag(5, 2, padding_idx=1).weight)[1])
    ok(lambda T: (T.manual_seed(0), T.nn.EmbeddingBag(10, 3, mode="max")(T.tensor(IDX), T.tensor(OFF)))[1])
    assert same(lambda T: T.nn.EmbeddingBag(5, 2, padding_idx=-2).padding_idx) == 3

    def pretrained(T: Any) -> Any:
        m = T.nn.EmbeddingBag.from_pretrained(T.arange(8.0).reshape(4, 2), mode="sum")
        return repr(m), m.weight.requires_grad, m(T.tensor([[0, 1], [2, 3]]))

    ok(pretrained)
    # weight and input swapped: torch's deprecation warning, then the call as meant
    ok(lambda T: F(T).embedding_bag(T.arange(30.0).reshape(10, 3), T.tensor(IDX), T.tensor(OFF)))


@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    n=st.integers(1, 12),
    lengths=st.lists(st.integers(0, 4), min_size=1, max_size=5),
    mode=st.sampled_from(["sum", "mean", "max"]),
    pad=st.sampled_from([None, 0]),
    seed=st.integers(0, 2**16),
)
def test_embedding_bag_random_bags(n: int, lengths: list, mode: str, pad: Any, seed: int) -> None:
    """Random bags (empty ones included) over random rows: values and the weight's gradient."""
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, n, size=sum(lengths))
    off = np.concatenate([[0], np.cumsum(lengths)[:-1]]).astype(np.int64)
    w = rng.standard_normal((n, 3))
    ok(lambda T, w: F(T).embedding_bag(T.tensor(idx), w, T.tensor(off), mode=mode, padding_idx=pad), w)
