"""Losses and activations that torch runs as single ops: each must print torch's grad_fn name
(tensor(0.71, grad_fn=<MseLossBackward0>)), give torch's value and gradients (first and second order), and
raise torch's errors. Oracle: PyTorch on the cpu; the engine on each device of the `device` fixture."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pytest

import engine

torch = pytest.importorskip("torch")

rng = np.random.default_rng(0)
X = rng.standard_normal((4, 3)).astype(np.float32)
P = (1 / (1 + np.exp(-X))).astype(np.float32)
T = rng.random((4, 3)).astype(np.float32)
CLS, CLS_IGNORED = np.array([0, 2, 1, 2]), np.array([0, -100, 1, 2])
W = np.array([1.0, 2.0, 0.5], np.float32)
X3, CLS3 = rng.standard_normal((2, 3, 4)).astype(np.float32), rng.integers(0, 3, (2, 4))

CASES: dict[str, tuple] = {  # name: (function, input, positional args, keyword args, targets need grad)
    "mse": ("mse_loss", X, (T,), {}, False),
    "mse_sum_target_grad": ("mse_loss", X, (T,), {"reduction": "sum"}, True),
    "mse_none": ("mse_loss", X, (T,), {"reduction": "none"}, False),
    "bce": ("binary_cross_entropy", P, (T,), {}, False),
    "bce_weight_sum": ("binary_cross_entropy", P, (T, W), {"reduction": "sum"}, False),
    "bce_logits": ("binary_cross_entropy_with_logits", X, (T,), {}, True),
    "bce_logits_pos_weight": ("binary_cross_entropy_with_logits", X, (T,), {"pos_weight": W}, True),
    "nll": ("nll_loss", X, (CLS,), {}, False),
    "nll_ignored_sum": ("nll_loss", X, (CLS_IGNORED,), {"reduction": "sum"}, False),
    "ce": ("cross_entropy", X, (CLS,), {}, False),
    "ce_weight_ignored": ("cross_entropy", X, (CLS_IGNORED,), {"weight": W}, False),
    "ce_none": ("cross_entropy", X, (CLS,), {"reduction": "none"}, False),
    "ce_1d": ("cross_entropy", X[0], (np.array(1),), {}, False),
    "ce_3d": ("cross_entropy", X3, (CLS3,), {}, False),
    "ce_probabilities": ("cross_entropy", X, (T / T.sum(1, keepdims=True),), {}, False),
    "gelu": ("gelu", X, (), {}, False),
    "gelu_tanh": ("gelu", X, (), {"approximate": "tanh"}, False),
    "leaky_relu": ("leaky_relu", X, (0.2,), {}, False),
    "elu": ("elu", X, (), {}, False),
}


def _run(mod: Any, case: tuple) -> tuple:
    fname, x, args, kw, target_grad = case
    conv = [mod.tensor(a) if isinstance(a, np.ndarray) else a for a in args]
    if target_grad:
        for a in conv:
            if isinstance(a, mod.Tensor) and a.dtype.is_floating_point:
                a.requires_grad_()
    kw = {k: mod.tensor(v) if isinstance(v, np.ndarray) else v for k, v in kw.items()}
    xt = mod.tensor(x, requires_grad=True)
    out = getattr(mod.nn.functional, fname)(xt, *conv, **kw)
    out.backward(mod.ones_like(out) * 0.7)
    grads = [xt.grad] + [a.grad for a in conv if isinstance(a, mod.Tensor) and a.grad is not None]
    return out, [g.detach().cpu().numpy() for g in grads]


@pytest.mark.parametrize("name", list(CASES))
def test_value_grad_fn_and_gradients_match_torch(device: str, name: str) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t_out, t_grads = _run(torch, CASES[name])
        e_out, e_grads = _run(engine, CASES[name])
    assert e_out.grad_fn.name() == t_out.grad_fn.name()
    assert repr(e_out.grad_fn).split(" ")[0] == repr(t_out.grad_fn).split(" ")[0]
    np.testing.assert_allclose(e_out.detach().cpu().numpy(), t_out.detach().numpy(), rtol=1e-5, atol=1e-6)
    assert len(e_grads) == len(t_grads)
    for e, t in zip(e_grads, t_grads):
        np.testing.assert_allclose(e, t, rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize(
    "f",
    [
        lambda F, m, x, y: F.mse_loss(x, y),
        lambda F, m, x, y: F.gelu(x).sum(),
        lambda F, m, x, y: F.gelu(x, approximate="tanh").sum(),
        lambda F, m, x, y: F.elu(x).sum(),
        lambda F, m, x, y: F.leaky_relu(x).sum(),
        lambda F, m, x, y: F.binary_cross_entropy_with_logits(x, y / 2),
        lambda F, m, x, y: F.binary_cross_entropy(x.sigmoid(), y / 2),
        lambda F, m, x, y: F.cross_entropy(x[None], m.tensor([2])),
    ],
)
def test_second_derivatives_match_torch(device: str, f: Any) -> None:
    out = []
    for mod in (torch, engine):
        x = mod.tensor([0.3, -1.2, 2.0], requires_grad=True)
        y = mod.tensor([1.0, 0.0, 2.0])
        (g,) = mod.autograd.grad(f(mod.nn.functional, mod, x, y), x, create_graph=True)
        (gg,) = mod.autograd.grad((g * g).sum(), x)
        out.append(gg.detach().cpu().numpy())
    np.testing.assert_allclose(out[1], out[0], rtol=1e-4, atol=1e-6)


ERRORS = [
    lambda m, F: F.cross_entropy(m.ones(2, 3), m.tensor([0, 3])),
    lambda m, F: F.cross_entropy(m.ones(2, 3), m.tensor([0.0, 1.0])),
    lambda m, F: F.nll_loss(m.ones(2, 3), m.tensor([-1, 1])),
    lambda m, F: F.nll_loss(m.ones(2, 3), m.tensor([0, 1, 1])),
    lambda m, F: F.nll_loss(m.ones(2, 3), m.tensor([0, 1]), weight=m.tensor([1.0, 2.0])),
    lambda m, F: F.mse_loss(m.ones(2, 3), m.ones(4)),
    lambda m, F: F.binary_cross_entropy_with_logits(m.ones(4, 1), m.ones(4)),
    lambda m, F: F.mse_loss(m.ones(2), m.ones(2), reduction="avg"),
    lambda m, F: F.gelu(m.ones(2), approximate="x"),
    # spatial (N, C, d...) input: nll_loss_nd's target-shape checks, then nll_loss2d's (4-d input goes there as is)
    lambda m, F: F.cross_entropy(m.zeros(2, 3, 4), m.zeros(2, 3, dtype=m.long)),
    lambda m, F: F.cross_entropy(m.zeros(2, 3, 4), m.zeros(2, 4, 1, dtype=m.long)),
    lambda m, F: F.nll_loss(m.zeros(2, 3, 4), m.zeros(2, dtype=m.long)),
    lambda m, F: F.nll_loss(m.zeros(2, 3, 4), m.zeros(3, 4, dtype=m.long)),
    lambda m, F: F.nll_loss(m.zeros(2, 3, 4), m.zeros(2, 4)),
    lambda m, F: F.cross_entropy(m.zeros(2, 3, 4, 5), m.zeros(2, 4, dtype=m.long)),
    lambda m, F: F.cross_entropy(m.zeros(2, 3, 4, 5), m.zeros(2, 4, dtype=m.float)),
    lambda m, F: F.nll_loss(m.zeros(2, 3, 4, 5), m.zeros(2, 5, 4, dtype=m.long)),
    lambda m, F: F.nll_loss(m.zeros(2, 3, 4, 5, 6), m.zeros(2, 4, 5, 7, dtype=m.long)),
    lambda m, F: F.nll_loss(m.zeros(2, 3, 4), m.zeros(2, 4, dtype=m.long), weight=m.ones(2)),
    lambda m, F: F.nll_loss(m.zeros(()), m.zeros((), dtype=m.long)),
]


@pytest.mark.parametrize("i", range(len(ERRORS)))
def test_errors_match_torch(device: str, i: int) -> None:
    got = []
    for mod in (torch, engine):
        with warnings.catch_warnings(), pytest.raises(Exception) as e:
            warnings.simplefilter("ignore")
            ERRORS[i](mod, mod.nn.functional)
        got.append((type(e.value).__name__, str(e.value)))
    assert got[1] == got[0]


def test_spatial_weight_of_c_elements_in_any_shape() -> None:
    # torch's nll_loss2d kernel only counts the weight's elements
    got = [
        str(m.nn.functional.nll_loss(-m.arange(24.0).reshape(2, 3, 4), m.tensor([[0, 1, 2, 1]] * 2), weight=w))
        for m, w in ((torch, torch.tensor([[1.0], [2.0], [3.0]])), (engine, engine.tensor([[1.0], [2.0], [3.0]])))
    ]
    assert got[1] == got[0]


def test_all_ignored_targets_give_nan_and_a_size_mismatch_warns(device: str) -> None:
    F = engine.nn.functional
    assert F.cross_entropy(engine.ones(2, 3), engine.tensor([-100, -100])).isnan().item()
    with pytest.warns(UserWarning, match=r"Using a target size \(torch.Size\(\[4\]\)\) that is different"):
        F.mse_loss(engine.ones(4, 1), engine.ones(4))


def test_cross_entropy_with_label_smoothing_is_torchs_composite() -> None:
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(9)
    xs = rng.standard_normal((4, 5)).astype(np.float32)
    probs = rng.random((4, 5)).astype(np.float32)

    def run(m):  # noqa: ANN001, ANN202
        F = m.nn.functional  # noqa: N806
        out = []
        for kw in (dict(label_smoothing=0.1), dict(label_smoothing=0.2, reduction="sum"),
                   dict(label_smoothing=0.3, reduction="none"), dict(label_smoothing=0.1, ignore_index=4)):  # fmt: skip
            x = m.tensor(xs, requires_grad=True)
            loss = F.cross_entropy(x, m.tensor([1, 0, 4, 2]), **kw)
            loss.sum().backward()
            out += [str(loss), str(x.grad), type(loss.grad_fn).__name__]
        x = m.tensor(xs, requires_grad=True)
        out.append(str(F.cross_entropy(x, m.tensor(probs), label_smoothing=0.1)))
        try:
            F.cross_entropy(x, m.tensor([1, 0, 4, 2]), label_smoothing=1.5)
        except RuntimeError as e:
            out.append(str(e))
        return out

    assert run(engine) == run(torch)


@pytest.mark.parametrize("scale", [0.01, 1.0, 3.0, 10.0])
def test_gelu_float32_is_torchs_to_the_bit(scale: float) -> None:
    # a contiguous float32 tensor goes to oneDNN's minimax erf (engine/nn/gelu_onednn.py); one element to
    # aten's scalar erf formula
    x = (np.random.default_rng(int(scale * 100)).standard_normal(4096) * scale).astype(np.float32)
    x[:6] = [np.inf, -np.inf, np.nan, -0.0, 5.55, -1e-45]
    for data in (x, x[:1]):
        want = torch.nn.functional.gelu(torch.from_numpy(data)).numpy()
        got = engine.nn.functional.gelu(engine.tensor(data)).numpy()
        np.testing.assert_array_equal(got.view(np.uint8), want.view(np.uint8))
    assert str(engine.nn.functional.gelu(engine.tensor([-3.0, 3.0]))) == "tensor([-0.0041,  2.9959])"
    # and its backward is oneDNN's too (first order)
    g = np.random.default_rng(7).standard_normal(x.shape).astype(np.float32)
    grads = []
    for T in (torch, engine):
        t = T.tensor(x, requires_grad=True)
        T.nn.functional.gelu(t).backward(T.tensor(g))
        grads.append(t.grad.numpy())
    np.testing.assert_array_equal(grads[1].view(np.uint8), grads[0].view(np.uint8))
