"""Differences a sweep of learner-style torch.nn snippets found against PyTorch (qa16a): each test runs the same
code in torch and in the engine and compares printed values (repr, so -0.0 and dtype show), gradients and error
messages."""

from __future__ import annotations

from typing import Any

import pytest
import torch

import engine


def both(fn: Any) -> tuple:
    """fn(torch) and fn(engine), each seeded with manual_seed(0) first."""
    torch.manual_seed(0)
    t = fn(torch)
    engine.manual_seed(0)
    e = fn(engine)
    return t, e


def error_of(fn: Any, lib: Any) -> tuple:
    lib.manual_seed(0)
    try:
        fn(lib)
    except Exception as e:  # noqa: BLE001
        return type(e).__name__, str(e)
    return None


def same_error(fn: Any) -> None:
    t = error_of(fn, torch)
    assert t is not None
    assert error_of(fn, engine) == t


# ---- MultiMarginLoss: the target's gradient is 0 - h1 - h2 ..., +0.0 where no class is within the margin ----
def test_multi_margin_grad_zero_sign() -> None:
    def fn(lib: Any) -> str:
        x = lib.tensor([[3.0, -1.0, 0.5], [0.1, 0.2, 0.4]], requires_grad=True)
        w = lib.tensor([1.0, 2.0, 0.5])
        loss = lib.nn.MultiMarginLoss(margin=0.5, weight=w)(x, lib.tensor([0, 2]))
        loss.backward()
        return repr(loss) + repr(x.grad)

    t, e = both(fn)
    assert "[ 0.0000" in t
    assert e == t


# ---- FractionalMaxPool2d/3d: torch's seeded samples, windows, indices, gradients, reprs and errors ----------------
def test_fractional_max_pool2d_module_seeded() -> None:
    def fn(lib: Any) -> str:
        x = lib.randn(2, 3, 9, 7, requires_grad=True)
        m = lib.nn.FractionalMaxPool2d(3, output_size=(4, 3))
        y = m(x)
        (y * lib.arange(12.0).reshape(4, 3)).sum().backward()
        return repr(m) + repr(y) + repr(x.grad) + y.grad_fn.name()

    t, e = both(fn)
    assert e == t


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_fractional_max_pool_functional_indices(dtype: str) -> None:
    def fn(lib: Any) -> str:
        dt = getattr(lib, dtype)
        x = lib.randn(3, 10, 11, dtype=dt)
        o, i = lib.nn.functional.fractional_max_pool2d(x, (2, 3), output_ratio=(0.5, 0.4), return_indices=True)
        x3 = lib.randn(1, 2, 6, 5, 7, dtype=dt)
        o3, i3 = lib.nn.FractionalMaxPool3d(2, output_ratio=(0.5, 0.5, 0.5), return_indices=True)(x3)
        s = lib.tensor([[[0.3, 0.9]]], dtype=dt)
        fixed = lib.nn.functional.fractional_max_pool2d(lib.arange(64.0, dtype=dt).reshape(1, 1, 8, 8), 2, 5,
                                                        _random_samples=s)  # fmt: skip
        return repr(o) + repr(i) + repr(o3) + repr(i3) + repr(fixed) + repr(o3.grad_fn)[:0]

    t, e = both(fn)
    assert e == t


@pytest.mark.parametrize(
    "code",
    [
        lambda lib: lib.nn.FractionalMaxPool2d(2),
        lambda lib: lib.nn.FractionalMaxPool2d(2, output_size=2, output_ratio=0.5),
        lambda lib: lib.nn.FractionalMaxPool3d(2, output_ratio=1.5),
        lambda lib: lib.nn.FractionalMaxPool2d(4, output_size=4)(lib.randn(1, 1, 6, 6)),
        lambda lib: lib.nn.functional.fractional_max_pool3d(lib.randn(1, 1, 4, 4, 4), 3, output_size=2),
        lambda lib: lib.nn.functional.fractional_max_pool2d(lib.randn(1, 1, 4, 4), 2, output_ratio=0.5),
        lambda lib: lib.nn.functional.fractional_max_pool2d(lib.randn(4, 4), 2, output_size=1),
    ],
)
def test_fractional_max_pool_errors(code: Any) -> None:
    same_error(code)


# ---- TransformerEncoder in eval without grad: torch's nested-tensor path leaves zeros at padded positions --------
def test_transformer_encoder_nested_path_zeros_padding() -> None:
    def fn(lib: Any) -> list:
        layer = lib.nn.TransformerEncoderLayer(d_model=4, nhead=2, dim_feedforward=8, batch_first=True)
        enc = lib.nn.TransformerEncoder(layer, num_layers=2, norm=lib.nn.LayerNorm(4))
        x = lib.randn(2, 3, 4)
        pad = lib.tensor([[False, False, True], [False, False, False]])
        gap = lib.tensor([[False, True, False], [False, False, False]])  # (not left-aligned: no nested path)
        enc.eval()
        with lib.no_grad():
            outs = [enc(x, src_key_padding_mask=pad), enc(x, src_key_padding_mask=gap),
                    enc.layers[0](x, src_key_padding_mask=pad)]  # fmt: skip
        outs.append(enc(x, src_key_padding_mask=pad).detach())  # (grad enabled: no nested path)
        enc.train()
        with lib.no_grad():
            outs.append(enc(x, src_key_padding_mask=pad))
        return [o.numpy() for o in outs]

    t, e = both(fn)
    if not (t[0][0, 2] == t[0][0, 2][0]).all():  # (the norm of a zero row: its bias)
        # seen once in a full xdist run and never alone: some torch state another test left turned the path off
        pytest.skip("torch did not take its nested-tensor path in this process (global state from another test)")
    for a, b in zip(t, e):
        assert a.shape == b.shape
        assert abs(a - b).max() < 1e-5


def test_functional_names_as_torch() -> None:
    assert engine.nn.functional.logsigmoid.__name__ == torch.nn.functional.logsigmoid.__name__ == "log_sigmoid"
    assert engine.nn.functional.threshold.__name__ == torch.nn.functional.threshold.__name__


# ---- float16 addmm (a half nn.Linear on the cpu): bias + product in float, rounded once, as torch's cpu gemm ------
def test_half_linear_rounds_once() -> None:
    def fn(lib: Any) -> str:
        x = lib.randn(3, 4).half()
        lin = lib.nn.Linear(4, 2).half()
        big = lib.nn.Linear(64, 8).half()
        a = lib.addmm(lib.randn(3, 2).half(), lib.randn(3, 5).half(), lib.randn(5, 2).half(), beta=0.5, alpha=2)
        return repr(lin(x)) + repr(big(lib.randn(5, 64).half())) + repr(a)

    t, e = both(fn)
    assert "-0.0076" in t  # (rounding the product to half before adding the bias gives -0.0077)
    assert e == t


def test_half_conv_bias_rounds_once() -> None:
    def fn(lib: Any) -> str:
        c = lib.nn.Conv2d(2, 3, 3).half()
        x = lib.randn(1, 2, 5, 5).half()
        x2 = lib.randn(2, 4, 9, 9).half()
        outs = [c(x)]
        for m in (lib.nn.Conv2d(4, 6, 3, padding=1, stride=2), lib.nn.Conv2d(4, 4, 3, groups=2, dilation=2)):
            outs.append(m.half()(x2))
        outs.append(lib.nn.Conv1d(4, 3, 2).half()(x2[:, :, 0]))
        return "".join(repr(o) for o in outs)

    t, e = both(fn)
    assert e == t
