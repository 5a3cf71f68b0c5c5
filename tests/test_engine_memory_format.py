"""Memory formats against PyTorch: torch.channels_last and friends, contiguous/is_contiguous/clone/to with
memory_format, the factories that take one, Module.to(memory_format=...), and the strides torch reports after
the ops that keep a channels-last layout (elementwise ops, convolution, pooling), with values and gradients
unchanged. (Not matched, see engine/ops/memory_layout.py: a channels-last tensor plus a contiguous one comes
out contiguous here, channels-last in torch.)"""

from __future__ import annotations

import pickle
from collections.abc import Callable
from typing import Any

import pytest
import torch
from helpers import assert_same, same_error

import engine

pytestmark = pytest.mark.usefixtures("device")


def test_formats_are_torchs_objects() -> None:
    for T in (torch, engine):
        names = ["contiguous_format", "channels_last", "channels_last_3d", "preserve_format"]
        assert [repr(getattr(T, n)) for n in names] == [f"torch.{n}" for n in names]
        assert str(T.channels_last) == "torch.channels_last"
        assert repr(type(T.channels_last)) == "<class 'torch.memory_format'>"
        assert T.channels_last == T.channels_last and T.channels_last != T.contiguous_format
    assert pickle.loads(pickle.dumps(engine.channels_last)) is engine.channels_last
    same_error(lambda T: type(T.channels_last)())


def _cl(T: Any, shape: tuple = (2, 3, 4, 5), fmt: str = "channels_last") -> Any:
    T.manual_seed(0)
    return T.randn(*shape).contiguous(memory_format=getattr(T, fmt))


# each: fn(T, x) with x a (2, 3, 4, 5) tensor that requires grad; result compared with strides
CONVERSIONS: dict[str, Callable[[Any, Any], Any]] = {
    "contiguous cl": lambda T, x: x.contiguous(memory_format=T.channels_last),
    "contiguous cl twice": lambda T, x: x.contiguous(memory_format=T.channels_last).contiguous(
        memory_format=T.channels_last
    ),
    "contiguous back": lambda T, x: x.contiguous(memory_format=T.channels_last).contiguous(),
    "contiguous contiguous_format": lambda T, x: x.contiguous(memory_format=T.contiguous_format),
    "contiguous preserve": lambda T, x: x.contiguous(memory_format=T.preserve_format),
    "to cl": lambda T, x: x.to(memory_format=T.channels_last),
    "to float64 cl": lambda T, x: x.to(T.float64, memory_format=T.channels_last),
    "to preserve": lambda T, x: x.contiguous(memory_format=T.channels_last).to(memory_format=T.preserve_format),
    "to contiguous": lambda T, x: x.contiguous(memory_format=T.channels_last).to(memory_format=T.contiguous_format),
    "transposed to contiguous": lambda T, x: x.transpose(2, 3).to(memory_format=T.contiguous_format),
    "clone cl": lambda T, x: x.clone(memory_format=T.channels_last),
    "clone preserve": lambda T, x: x.contiguous(memory_format=T.channels_last).clone(),
    "clone contiguous": lambda T, x: x.contiguous(memory_format=T.channels_last).clone(
        memory_format=T.contiguous_format
    ),
    "permuted cl": lambda T, x: x.permute(0, 2, 3, 1).contiguous().permute(0, 3, 1, 2),
    "size-1 channels": lambda T, x: x[:, :1].contiguous(memory_format=T.channels_last),
    "size-1 spatial": lambda T, x: x[:, :, :1, :1].contiguous(memory_format=T.channels_last),
    "cl 3d": lambda T, x: x.unsqueeze(2).contiguous(memory_format=T.channels_last_3d),
    "to cl 3d": lambda T, x: x.unsqueeze(2).to(memory_format=T.channels_last_3d),
}


@pytest.mark.parametrize("name", CONVERSIONS)
def test_conversions_match_torch(name: str) -> None:
    def fn(T: Any, x: Any) -> Any:
        r = CONVERSIONS[name](T, x)
        facts = [r.stride(), r.is_contiguous()]
        facts += [r.is_contiguous(memory_format=f) for f in (T.channels_last, T.channels_last_3d, T.preserve_format)]
        return r, facts, r is x

    results = []
    for T in (torch, engine):
        T.manual_seed(0)
        x = T.randn(2, 3, 4, 5, requires_grad=True)
        r, facts, is_x = fn(T, x)
        (r * T.arange(r.numel(), dtype=r.dtype).reshape(r.shape)).sum().backward()
        results.append((r, facts, is_x, r.grad_fn.name() if r.grad_fn else None, x.grad))
    (r_t, *rest_t), (r_e, *rest_e) = results
    assert_same(r_e, r_t)
    assert rest_e[:3] == rest_t[:3]
    assert_same(rest_e[3], rest_t[3], where="x.grad")


@pytest.mark.parametrize(
    "fn",
    [
        lambda T: T.randn(3, 4).contiguous(memory_format=T.channels_last),
        lambda T: T.randn(2, 3, 4, 5).contiguous(memory_format=T.channels_last_3d),
        lambda T: (
            T.randn(2, 3, 4, 5).contiguous(memory_format=T.channels_last).contiguous(memory_format=T.preserve_format)
        ),
        lambda T: T.randn(2, 3, 4, 5).contiguous(memory_format="x"),
        lambda T: T.randn(2, 3, 4, 5).is_contiguous(memory_format=3),
        lambda T: T.randn(2, 3, 4, 5).clone(memory_format="x"),
        lambda T: T.randn(3, 4).clone(memory_format=T.channels_last),
        lambda T: T.randn(3, 4).to(memory_format=T.channels_last),
        lambda T: T.randn(3, 4).to(memory_format="x"),
        lambda T: T.randn(3, 4).to(T.float64, memory_format="x"),
        lambda T: T.nn.Linear(2, 2).to(memory_format="x"),
        lambda T: T.empty(2, 3, memory_format=T.channels_last),
        lambda T: T.empty(2, 3, 4, 5, memory_format=T.preserve_format),
        lambda T: T.empty(2, 3, 4, 5, 6, memory_format=T.channels_last),
        lambda T: T.empty(2, memory_format=1),
        lambda T: T.zeros_like(T.ones(2, 3), memory_format=T.channels_last),
        lambda T: T.zeros_like(T.ones(2, 3), memory_format="a"),
        lambda T: T.nn.Conv3d(1, 1, 1).to(memory_format=T.channels_last),
    ],
)
def test_format_errors_match_torch(fn: Callable) -> None:
    same_error(fn)


FACTORIES: dict[str, Callable[[Any], Any]] = {
    "empty cl": lambda T: T.empty(2, 3, 4, 5, memory_format=T.channels_last),
    "empty cl3d": lambda T: T.empty(2, 3, 4, 5, 6, memory_format=T.channels_last_3d),
    "empty contiguous": lambda T: T.empty(2, 3, memory_format=T.contiguous_format),
    "empty cl size-1": lambda T: T.empty(2, 3, 1, 1, memory_format=T.channels_last),
    "zeros_like preserve": lambda T: T.zeros_like(_cl(T)),
    "zeros_like cl": lambda T: T.zeros_like(T.ones(2, 3, 4, 5), memory_format=T.channels_last),
    "ones_like contiguous": lambda T: T.ones_like(_cl(T), memory_format=T.contiguous_format),
    "empty_like cl": lambda T: T.empty_like(T.ones(2, 3, 4, 5), memory_format=T.channels_last),
    "full_like cl": lambda T: T.full_like(T.ones(2, 3, 4, 5), 2.5, memory_format=T.channels_last),
    "rand_like cl": lambda T: T.rand_like(T.ones(2, 3, 4, 5), memory_format=T.channels_last),
    "randn_like preserve": lambda T: T.randn_like(_cl(T)),
    "randn_like contiguous": lambda T: T.randn_like(_cl(T), memory_format=T.contiguous_format),
}


@pytest.mark.parametrize("name", FACTORIES)
def test_factories_lay_out_as_torch(name: str) -> None:
    def fn(T: Any) -> Any:
        T.manual_seed(3)
        r = FACTORIES[name](T)
        return r, r.stride()

    t, e = fn(torch), fn(engine)
    assert e[1] == t[1]
    if not name.startswith("empty"):  # (torch's empty memory is not defined)
        assert_same(e[0], t[0])


# ops on a channels-last x (and a contiguous c): the result's strides are torch's
OPS: dict[str, Callable[[Any, Any, Any], Any]] = {
    "exp": lambda T, x, c: x.exp(),
    "relu": lambda T, x, c: x.relu(),
    "neg": lambda T, x, c: -x,
    "gelu": lambda T, x, c: T.nn.functional.gelu(x),
    "silu": lambda T, x, c: T.nn.functional.silu(x),
    "mul scalar": lambda T, x, c: x * 2,
    "add self": lambda T, x, c: x + x,
    "contiguous + cl": lambda T, x, c: c + x,
    "broadcast channel": lambda T, x, c: x * T.ones(3, 1, 1),
    "broadcast width": lambda T, x, c: x + T.ones(5),
    "where": lambda T, x, c: T.where(x > 0, x, 0.0),
    "compare": lambda T, x, c: x > 0,
    "double": lambda T, x, c: x.double(),
    "clone": lambda T, x, c: x.clone(),
    "conv2d": lambda T, x, c: T.nn.functional.conv2d(x, T.ones(4, 3, 3, 3), T.ones(4)),
    "conv2d cl weight": lambda T, x, c: T.nn.functional.conv2d(
        c, T.ones(4, 3, 3, 3).contiguous(memory_format=T.channels_last)
    ),
    "conv2d padded": lambda T, x, c: T.nn.functional.conv2d(x, T.ones(6, 3, 1, 1), padding=1),
    "conv2d contiguous": lambda T, x, c: T.nn.functional.conv2d(c, T.ones(4, 3, 3, 3)),
    "max_pool2d": lambda T, x, c: T.nn.functional.max_pool2d(x, 2),
    "avg_pool2d": lambda T, x, c: T.nn.functional.avg_pool2d(x, 2),
    "adaptive_avg_pool2d": lambda T, x, c: T.nn.functional.adaptive_avg_pool2d(x, 2),
    "batch_norm": lambda T, x, c: T.nn.functional.batch_norm(x, None, None, training=True),
    "sum": lambda T, x, c: x.sum(1),
    "flatten": lambda T, x, c: x.flatten(1),
    "cat": lambda T, x, c: T.cat([x, x], 1),
    "dropout": lambda T, x, c: T.nn.functional.dropout(x, 0.5),
}


@pytest.mark.parametrize("name", OPS)
def test_ops_keep_torchs_layout(name: str) -> None:
    results = []
    for T in (torch, engine):
        T.manual_seed(0)
        c = T.randn(2, 3, 4, 5, requires_grad=True)
        x = c.detach().contiguous(memory_format=T.channels_last).requires_grad_()
        r = OPS[name](T, x, c)
        results.append((r, r.stride(), r.is_contiguous(memory_format=T.channels_last)))
        if r.requires_grad:
            r.float().sum().backward()
            grads = [g for g in (x.grad, c.grad) if g is not None]
            results[-1] += (grads, [g.stride() for g in grads])
    t, e = results
    assert_same(e[0], t[0], atol=1e-5, rtol=1e-5)
    assert e[1:3] == t[1:3]
    if len(t) > 3:
        assert_same(e[3], t[3], atol=1e-5, rtol=1e-5, where="grads")
        assert e[4] == t[4], "grad strides"


def test_module_to_channels_last() -> None:
    results = []
    for T in (torch, engine):
        T.manual_seed(0)
        m = T.nn.Sequential(T.nn.Conv2d(3, 4, 3), T.nn.BatchNorm2d(4), T.nn.ReLU(), T.nn.Flatten(),
                            T.nn.Linear(4 * 2 * 3, 2))  # fmt: skip
        m = m.to(memory_format=T.channels_last)
        x = T.randn(2, 3, 4, 5).to(memory_format=T.channels_last)
        feats = m[:3](x)
        out = m(x)
        out.sum().backward()
        w = m[0].weight
        results.append(([p.stride() for p in m.parameters()], feats.stride(), out, w.grad, w.grad.stride()))
        m.to(T.float64, memory_format=T.contiguous_format)
        results[-1] += (m[0].weight.stride(), m[0].weight.dtype == T.float64)
    t, e = results
    assert e[0] == t[0] and e[1] == t[1]
    assert_same(e[2], t[2], atol=1e-5, rtol=1e-5)
    assert_same(e[3], t[3], atol=1e-5, rtol=1e-5)
    assert e[4:] == t[4:]


def test_printing_is_unchanged() -> None:
    for T in (torch, engine):
        T.manual_seed(0)
        x = T.randn(1, 2, 2, 3)
        assert repr(x.contiguous(memory_format=T.channels_last)) == repr(x)
    assert str(_cl(engine).cpu()) == str(_cl(torch))


@pytest.mark.parametrize("nd", [2, 3])
def test_convert_conv_weight_memory_format(nd: int) -> None:
    results = []
    for T in (torch, engine):
        T.manual_seed(0)
        conv, convt = getattr(T.nn, f"Conv{nd}d"), getattr(T.nn, f"ConvTranspose{nd}d")
        m = T.nn.Sequential(conv(2, 3, 1), T.nn.Sequential(convt(3, 2, 1)), T.nn.Linear(2, 2))
        fmt = T.channels_last if nd == 2 else T.channels_last_3d
        r = getattr(T.nn.utils, f"convert_conv{nd}d_weight_memory_format")(m, fmt)
        results.append((r is m, [p.stride() for p in m.parameters()], type(m[0].weight).__name__))
    assert results[1] == results[0]


def test_a_channels_last_clone_is_a_copy() -> None:
    for T in (torch, engine):
        w = T.zeros(3, 2, 1, 1)
        c = w.clone(memory_format=T.channels_last)
        c += 1
        assert w.sum().item() == 0 and c.stride() == (2, 1, 2, 2)
