"""Backward against PyTorch, bit for bit and hook for hook (order17): the order leaves' AccumulateGrads run in when
several are ready at once (torch's ready queue is a heap where they tie), backward(inputs=...) accumulating a leaf
where its node runs (its hooks once), the grouping of tanh's double backward and of norm's backward, and
set_num_threads reaching the kernels that split rows over torch's threads (layer_norm's weight gradient)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import torch

import engine
from engine import process
from engine.ops import mkl

pytestmark = pytest.mark.skipif(not mkl.available(), reason="bit-exact kernels need MKL 2024.2 (the `exact` extra)")


def _data(shape: tuple, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal(shape).astype(np.float32)


def _same(want: Any, got: Any) -> None:
    assert got.detach().numpy().tobytes() == want.detach().numpy().tobytes()


def _leaf_hooks(T: Any, n: int, inputs: bool) -> tuple:
    log: list = []
    leaves = [T.tensor(_data((2,), i), requires_grad=True) for i in range(n)]
    for i, leaf in enumerate(leaves):
        leaf.register_hook(lambda g, i=i: log.append(f"hook{i}"))
        leaf.register_post_accumulate_grad_hook(lambda p, i=i: log.append(f"post{i}"))
    c = T.cat(leaves)  # one node whose n leaves become ready together
    d = c.sin() * c
    loss = (d * leaves[-1].repeat(n)).sum() + leaves[0].exp().sum()
    loss.backward(inputs=leaves[::2] if inputs else None)
    return log, [leaf.grad for leaf in leaves]


@pytest.mark.parametrize("n", [2, 3, 4, 5, 7])
@pytest.mark.parametrize("inputs", [False, True])
def test_leaves_ready_together_run_in_torchs_heap_order(n: int, inputs: bool) -> None:
    want_log, want = _leaf_hooks(torch, n, inputs)
    got_log, got = _leaf_hooks(engine, n, inputs)
    assert got_log == want_log  # (4 leaves: 0, 2, 1, 3 in torch: the heap's ties)
    for w, g in zip(want, got):
        assert (w is None) == (g is None)
        if w is not None:
            _same(w, g)


def _node_hooks(T: Any) -> list:
    log: list = []
    a = T.tensor(_data((3,), 1), requires_grad=True)
    b = T.tensor(_data((3,), 2), requires_grad=True)
    c = a * b
    d, e = c.sin(), c.exp()
    c.grad_fn.register_hook(lambda gi, go: log.append("c_node"))
    c.grad_fn.register_prehook(lambda go: log.append("c_pre"))
    e.grad_fn.register_prehook(lambda go: log.append("e_pre"))
    c.register_hook(lambda g: log.append("c"))
    a.register_hook(lambda g: log.append("a"))
    a.register_post_accumulate_grad_hook(lambda p: log.append("a_post"))
    b.register_post_accumulate_grad_hook(lambda p: log.append("b_post"))
    (d * e + a).sum().backward()
    return log


def test_hooks_of_a_products_leaves_in_torch_order() -> None:
    assert _node_hooks(engine) == _node_hooks(torch)  # a before b once the product's node has run


def _backward_inputs(T: Any) -> tuple:
    log: list = []
    a = T.tensor(_data((4,), 3), requires_grad=True)
    b = T.tensor(_data((4,), 4), requires_grad=True)
    a.register_hook(lambda g: log.append("a"))
    a.register_post_accumulate_grad_hook(lambda p: log.append("a_post"))
    c = a * b
    c.register_hook(lambda g: log.append("c"))
    (c.sin() * a).sum().backward(inputs=[a, b])
    return log, a.grad, b.grad


def test_backward_inputs_runs_a_leafs_hooks_once() -> None:
    want_log, *want = _backward_inputs(torch)
    got_log, *got = _backward_inputs(engine)
    assert got_log == want_log
    for w, g in zip(want, got):
        _same(w, g)


def _double_backward(T: Any) -> list:
    T.manual_seed(0)
    l1, l2 = T.nn.Linear(4, 8), T.nn.Linear(8, 1)
    x = T.tensor(_data((6, 4), 82), requires_grad=True)
    (gx,) = T.autograd.grad(l2(T.tanh(l1(x))).sum(), x, create_graph=True)
    (gx.norm(dim=1) - 1).pow(2).mean().backward()  # (a gradient penalty)
    return [l1.weight.grad, l1.bias.grad, l2.weight.grad, x.grad]


def test_gradient_penalty_double_backward_bits() -> None:
    # tanh_backward's gradient for the output is grad * (-2 * output * grad_output), grouped so
    for w, g in zip(_double_backward(torch), _double_backward(engine)):
        _same(w, g)


@pytest.mark.parametrize("p", [2, 1, 0.5, float("inf")])
def test_norm_backward_bits(p: float) -> None:
    def run(T: Any) -> Any:
        x = T.tensor(_data((6, 4), 82), requires_grad=True)
        y = T.linalg.vector_norm(x, ord=p, dim=1)
        (y * T.tensor(_data((6,), 83))).sum().backward()
        return x.grad

    _same(run(torch), run(engine))  # p=2: grad * (self / norm), not self * (grad / norm)


def test_set_num_threads_reaches_layer_norm_weight_gradient() -> None:
    def run(T: Any) -> list:
        T.manual_seed(0)
        m = T.nn.LayerNorm(8)
        x = T.tensor(_data((2, 5, 8), 1), requires_grad=True)
        (m(x) * T.tensor(_data((2, 5, 8), 2))).sum().backward()
        return [m.weight.grad, m.bias.grad, x.grad]

    prev_torch, prev = torch.get_num_threads(), process._INTRA_SET[:]
    prev_threads = process._THREADS[:]
    try:
        torch.set_num_threads(1)
        engine.set_num_threads(1)
        for w, g in zip(run(torch), run(engine)):
            _same(w, g)
    finally:
        torch.set_num_threads(prev_torch)
        process._INTRA_SET[:] = prev
        process._THREADS[:] = prev_threads
