"""The order backward runs nodes in, against PyTorch: of the nodes whose gradients are complete, torch runs the one
created last first, and a gradient several nodes feed is summed in that order, so its last bits (and what a
training loop prints at full precision) depend on it. Random graphs that reuse tensors, an RNN whose input
layer feeds every step, and the order saved-tensor hooks see."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import engine
from engine import autograd as A
from engine.ops import mkl

pytestmark = pytest.mark.skipif(not mkl.available(), reason="bit-exact kernels need MKL 2024.2 (the `exact` extra)")

OPS = ("mul", "add", "sub", "sin", "exp", "tanh", "sum_mul")


def _program(T: Any, steps: list, init: list) -> tuple:
    leaves = [T.tensor(v, requires_grad=True) for v in init]
    vals = list(leaves)
    for op, i, j in steps:
        a, b = vals[i % len(vals)], vals[j % len(vals)]
        if op == "mul":
            v = a * b
        elif op == "add":
            v = a + b
        elif op == "sub":
            v = a - b * 0.5
        elif op == "sin":
            v = a.sin()
        elif op == "exp":
            v = (a * 0.25).exp()
        elif op == "tanh":
            v = a.tanh()
        else:
            v = (a * b).sum() * a
        vals.append(v)
    loss = sum(v.sum() for v in vals[len(init) :][::2]) + vals[-1].pow(2).sum()
    loss.backward()
    return tuple(leaf.grad for leaf in leaves)


@settings(max_examples=80, deadline=None)
@given(
    steps=st.lists(st.tuples(st.sampled_from(OPS), st.integers(0, 50), st.integers(0, 50)), min_size=2, max_size=14),
    seed=st.integers(0, 2**16),
)
def test_random_graphs_sum_gradients_in_torch_order(steps: list, seed: int) -> None:
    rng = np.random.default_rng(seed)
    init = [rng.standard_normal(5).astype(np.float32) for _ in range(3)]
    want = _program(torch, steps, init)
    got = _program(engine, steps, init)
    for w, g in zip(want, got):
        assert (w is None) == (g is None)
        if w is not None:
            assert g.numpy().tobytes() == w.numpy().tobytes()


def _rnn(T: Any) -> tuple:
    rng = np.random.default_rng(0)
    T.manual_seed(0)
    i2h, h2h, h2o = T.nn.Linear(16, 32), T.nn.Linear(32, 32), T.nn.Linear(32, 3)
    h = T.zeros(1, 32)
    for _ in range(7):  # (the classification RNN of PyTorch's char-RNN tutorial: i2h feeds every step)
        h = T.tanh(i2h(T.tensor(rng.standard_normal((1, 16)).astype(np.float32))) + h2h(h))
    T.nn.functional.nll_loss(T.log_softmax(h2o(h), 1), T.tensor([1])).backward()
    return i2h.bias.grad, i2h.weight.grad, h2h.bias.grad, h2h.weight.grad


def test_rnn_input_layer_gradient_bits() -> None:
    for w, g in zip(_rnn(torch), _rnn(engine)):
        assert g.numpy().tobytes() == w.numpy().tobytes()


def test_ready_order_is_creation_order_among_ready_nodes() -> None:
    a = engine.tensor([1.0, 2.0], requires_grad=True)
    b = engine.tensor([3.0, 0.5], requires_grad=True)
    s = a.sin()
    m = b.softmax(0)  # created after s: its backward runs first once the product's has run
    y = s * m
    names = [n.name() for n in A._collect([y.grad_fn], None)]
    assert names.index("SoftmaxBackward0") < names.index("SinBackward0")
    # a node numbered before its input (a view rebuilt lazily after the write's node was made) still runs first
    x = a * 1
    x[0].mul_(2)
    x[:, None][1] += 3
    x.sum().backward()
    assert a.grad.tolist() == [2.0, 1.0]
