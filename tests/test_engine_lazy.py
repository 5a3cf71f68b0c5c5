"""Lazy modules against torch: reprs before and after the first call, the class they become, the shape error of
an uninitialized parameter, seeded initialisation drawn at the first call, training through an optimizer made
before it, and torch's errors."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import torch

import engine

pytestmark = pytest.mark.usefixtures("device")


def _close(a: Any, b: Any) -> None:
    if isinstance(a, float) or isinstance(a, list) and a and isinstance(a[0], (float, list)):
        np.testing.assert_allclose(np.array(b, dtype=float), np.array(a, dtype=float), rtol=1e-5, atol=1e-6)
    else:
        assert a == b, f"\nengine: {b}\ntorch:  {a}"


def _run(T: Any) -> list:
    T.manual_seed(0)
    out: list = []
    m = T.nn.LazyLinear(3)
    out += [str(m), repr(m.weight), type(m).__name__]
    try:
        m.weight.shape  # noqa: B018
    except RuntimeError as e:
        out.append(str(e))
    y = m(T.ones(2, 5))
    out += [str(m), type(m).__name__, list(m.weight.shape), y.tolist()]
    net = T.nn.Sequential(T.nn.LazyLinear(4), T.nn.ReLU(), T.nn.LazyLinear(1))
    opt = T.optim.SGD(net.parameters(), lr=0.1)  # (made before the parameters exist, as d2l's code does)
    out.append(str(net))
    net(T.ones(3, 2)).sum().backward()
    opt.step()
    out += [str(net)] + [p.tolist() for p in net.parameters()]
    out.append(str(T.nn.LazyConv2d(4, 3)) + str(T.nn.LazyBatchNorm2d()))
    c = T.nn.LazyConv2d(4, 3, padding=1)
    co = c(T.ones(1, 2, 5, 5))
    out += [str(c), list(co.shape), c.weight.sum().item()]
    b = T.nn.LazyBatchNorm1d()
    b(T.randn(3, 4))
    out += [str(b), b.running_mean.tolist()]
    c3, b3 = T.nn.LazyConv3d(3, 2, stride=(1, 2, 1)), T.nn.LazyBatchNorm3d()
    y3 = b3(c3(T.ones(2, 2, 3, 4, 3)))
    out += [str(c3), str(b3), list(y3.shape), c3.weight.sum().item(), b3.running_mean.tolist()]
    out.append(T.rand(1).tolist())
    return out


def test_lazy_modules_are_torchs() -> None:
    t, e = _run(torch), _run(engine)
    assert len(t) == len(e)
    for a, b in zip(t, e):
        _close(a, b)


def test_lazy_errors() -> None:
    for T in (torch, engine):
        with pytest.raises(ValueError, match="in_channels must be divisible by groups"):
            T.nn.LazyConv1d(2, 3, groups=2)(T.ones(1, 3, 5))
    msgs = []
    for T in (torch, engine):
        try:
            T.nn.LazyConv2d(2, 3)(T.ones(5))
        except RuntimeError as e:
            msgs.append(str(e))
    assert msgs[0] == msgs[1]


def _run_transposed(T: Any) -> list:
    T.manual_seed(0)
    m = T.nn.LazyConvTranspose3d(4, 2, stride=2, padding=1, output_padding=1, groups=2, dilation=2)
    out: list = [str(m), repr(m.weight)]
    y = m(T.ones(1, 2, 3, 3, 2))
    out += [str(m), type(m).__name__, list(m.weight.shape), list(y.shape), m.weight.sum().item(), y.sum().item()]
    m2 = T.nn.LazyConvTranspose2d(3, 3, bias=False)
    out += [list(m2(T.ones(2, 5, 4), output_size=None).shape), str(m2)]
    m1 = T.nn.LazyConvTranspose1d(2, 3)
    opt = T.optim.SGD(m1.parameters(), lr=0.1)
    m1(T.ones(1, 3, 4)).sum().backward()
    opt.step()
    out += [str(m1), m1.weight.tolist(), m1.bias.tolist()]
    for make in (lambda: T.nn.LazyConvTranspose3d(2, 3, groups=2)(T.ones(1, 3, 2, 2, 2)),
                 lambda: T.nn.LazyConvTranspose3d(2, 3)(T.ones(2, 2)),
                 lambda: T.nn.LazyConvTranspose2d(2, 3, padding_mode="reflect")):  # fmt: skip
        try:
            make()
        except (RuntimeError, ValueError) as e:
            out.append((type(e).__name__, str(e)))
    return out


def test_lazy_transposed_convolutions_are_torchs() -> None:
    """LazyConvTranspose1d/2d/3d: reprs, the ConvTranspose they become, seeded weights drawn at the first call
    (in_channels first in their shape), a step of an optimizer made before, and torch's errors."""
    t, e = _run_transposed(torch), _run_transposed(engine)
    assert len(t) == len(e)
    for a, b in zip(t, e):
        _close(a, b)
