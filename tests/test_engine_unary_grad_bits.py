"""Unary ops' gradients bit for bit with torch for a gradient that is not all ones (as inside any chain): each
backward groups its products as torch's derivatives.yaml formula does (rsqrt: -0.5 * grad * result.pow(3);
reciprocal: -grad * (result * result); erf: 2/sqrt(pi) * exp(-x^2) * grad; sinc: grad * ((..) / (x*x*pi)))."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import engine

OPS = ["rsqrt", "reciprocal", "erf", "sinc", "exp", "log", "sqrt", "tan", "asin", "acos", "atan", "sin", "cos",
       "log2", "log10", "log1p", "expm1", "sigmoid", "tanh", "erfc", "sinh", "cosh", "asinh", "atanh"]  # fmt: skip
POSITIVE = {"rsqrt", "log", "sqrt", "log2", "log10"}
UNIT = {"asin", "acos", "atanh"}


@pytest.mark.parametrize("name", OPS)
@pytest.mark.parametrize("dt", ["float32", "float64"])
def test_unary_value_and_grad_bits_match_torch(name: str, dt: str) -> None:
    rng = np.random.default_rng(9)
    x = (rng.standard_normal(2000) * 3).astype(np.float32)
    if name in POSITIVE:
        x = np.abs(x) + 0.01
    if name in UNIT:
        x = np.tanh(x) * 0.999
    w = rng.standard_normal(2000).astype(np.float32)
    out = []
    for m in (torch, engine):
        t = m.tensor(x).to(getattr(m, dt)).requires_grad_()
        y = getattr(m, name)(t)
        y.backward(m.tensor(w).to(getattr(m, dt)))
        out.append((y.detach().numpy().tobytes(), t.grad.numpy().tobytes()))
    assert out[0][0] == out[1][0], "value"
    assert out[0][1] == out[1][1], "grad"
