"""A plain backward's raw mode (perf18): gradients flowing between nodes as bare arrays (autograd.run_backward,
each node's `_abw`) give torch's bits, and every place that needs a tensor (hooks, a node without an array
formula, a leaf's first .grad, errors for freed or modified graphs) still sees one."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pytest
import torch

import engine
from engine import autograd
from engine.ops import mkl

pytestmark = pytest.mark.skipif(not mkl.available(), reason="bit-exact kernels need MKL 2024.2 (the `exact` extra)")


def _data(shape: tuple, seed: int, dtype: Any = np.float32) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal(shape).astype(dtype)


def _bits(t: Any) -> bytes:
    return t.detach().numpy().tobytes()


def _mlp_steps(T: Any, steps: int, zero: str) -> list:
    x = T.tensor(_data((64, 32), 0))
    y = T.tensor(_data((64, 1), 1))
    params = [
        T.tensor(_data(s, i + 2) * 0.2, requires_grad=True) for i, s in enumerate([(32, 64), (64,), (64, 1), (1,)])
    ]
    w1, b1, w2, b2 = params
    out = []
    for _ in range(steps):
        h = (x @ w1 + b1).relu()
        d = h @ w2 + b2 - y
        loss = (d * d).mean()
        loss.backward()
        out.append(loss)
        out += [q.grad.clone() for q in params]
        with T.no_grad():
            for q in params:
                q -= 0.01 * q.grad
                if zero == "zero_":
                    q.grad.zero_()
                else:
                    q.grad = None
    return out + params


@pytest.mark.parametrize("zero", ["zero_", "none"])
def test_mlp_steps_bits(zero: str) -> None:
    want = _mlp_steps(torch, 3, zero)
    got = _mlp_steps(engine, 3, zero)
    assert [_bits(g) for g in got] == [_bits(w) for w in want]


def _module_steps(T: Any) -> list:
    T.manual_seed(0)
    nn = T.nn
    model = nn.Sequential(nn.Linear(32, 64), nn.ReLU(), nn.Linear(64, 1))
    with T.no_grad():
        for i, p in enumerate(model.parameters()):
            p.copy_(T.tensor(_data(tuple(p.shape), 10 + i) * 0.2))
    x = T.tensor(_data((64, 32), 0))
    y = T.tensor(_data((64, 1), 1))
    opt = T.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    out = []
    for _ in range(3):
        opt.zero_grad()
        loss = nn.MSELoss()(model(x), y)
        loss.backward()
        opt.step()
        out.append(loss)
        out += [p.grad.clone() for p in model.parameters()]
    return out + list(model.parameters())


def test_module_steps_bits() -> None:
    want = _module_steps(torch)
    got = _module_steps(engine)
    assert [_bits(g) for g in got] == [_bits(w) for w in want]


def _mixed(T: Any) -> list:
    a = T.tensor(_data((3, 4), 0, np.float64), requires_grad=True)
    b = T.tensor(_data((4,), 1, np.float64), requires_grad=True)
    s = T.tensor(_data((), 2, np.float64), requires_grad=True)
    t = T.tensor(_data((3, 4), 3, np.float64), requires_grad=True)
    c = (a - b) * (b - a)  # Sub's negated gradient, a broadcast input, a shared one
    d = (c.relu() - s) * s  # 0-dim operands
    e = T.nn.functional.mse_loss(d, t)  # the target's gradient too
    f = (a.t() @ a).sum() + e  # t(): a .T gradient; SumBackward has no array formula (tensors again)
    f.backward()
    return [f, a.grad, b.grad, s.grad, t.grad]


def test_mixed_nodes_bits() -> None:
    want = _mixed(torch)
    got = _mixed(engine)
    assert [_bits(g) for g in got] == [_bits(w) for w in want]


def test_scalar_chain() -> None:
    for T in (torch, engine):
        x = T.tensor(1.5, requires_grad=True)
        y = T.tensor(-2.0, requires_grad=True)
        z = (x * y - y) * x
        z.backward()
        if T is torch:
            want = (x.grad.item(), y.grad.item())
        else:
            assert (x.grad.item(), y.grad.item()) == want
            assert type(x.grad._data) is np.ndarray and x.grad.shape == ()


def test_add_gives_each_leaf_its_own_grad() -> None:
    # AddBackward hands one gradient to both inputs: the two .grads must not share memory
    a = engine.ones(3, requires_grad=True)
    b = engine.ones(3, requires_grad=True)
    ((a + b) * 2).backward(engine.ones(3))
    assert not np.shares_memory(a.grad._data, b.grad._data)
    a.grad.add_(1)
    assert b.grad.tolist() == [2.0, 2.0, 2.0]


def test_root_gradient_not_aliased() -> None:
    g = engine.ones(3)
    a = engine.zeros(3, requires_grad=True)
    b = engine.zeros(3, requires_grad=True)
    (a + b).backward(g)
    assert not np.shares_memory(a.grad._data, g._data) and not np.shares_memory(b.grad._data, g._data)


def test_hooks_see_tensors() -> None:
    def run(T: Any) -> tuple:
        seen: list = []
        x = T.tensor(_data((4, 3), 0), requires_grad=True)
        w = T.tensor(_data((3, 2), 1), requires_grad=True)
        h = x @ w
        h.register_hook(lambda g: seen.append(type(g).__name__) or g * 2)
        r = h.relu()
        r.retain_grad()
        m = r.mean()
        m.grad_fn.register_prehook(lambda gs: seen.append(type(gs[0]).__name__))
        m.backward()
        return seen, [x.grad, w.grad, r.grad]

    want_seen, want = run(torch)
    got_seen, got = run(engine)
    assert got_seen == want_seen == ["Tensor", "Tensor"]
    assert [_bits(g) for g in got] == [_bits(w) for w in want]


def test_leaf_hooks_and_grad_with_graph() -> None:
    def run(T: Any) -> list:
        x = T.tensor(_data((3,), 0), requires_grad=True)
        x.register_hook(lambda g: g * 3)
        y = T.tensor(_data((3,), 1), requires_grad=True)
        (x * y).sum().backward(create_graph=True)  # y.grad with a graph
        (x * y).mean().backward()  # raw mode adds into a .grad that has one
        return [x.grad, y.grad]

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # (backward(create_graph=True)'s reference-cycle warning, in both)
        want = run(torch)
        got = run(engine)
    assert [_bits(g) for g in got] == [_bits(w) for w in want]


def _errors(T: Any, case: str) -> str:
    a = T.tensor(_data((4, 4), 0), requires_grad=True)
    h = (a @ a).relu()
    loss = (h * h).mean()
    if case == "twice":
        loss.backward()
    else:
        with T.no_grad():
            h.mul_(2)  # relu's saved output, modified in place
    try:
        loss.backward()
    except RuntimeError as e:
        return str(e)
    return ""


@pytest.mark.parametrize("case", ["twice", "modified"])
def test_errors_as_torch(case: str) -> None:
    want = _errors(torch, case)
    assert want and _errors(engine, case) == want


def test_retain_graph_twice() -> None:
    def run(T: Any) -> list:
        w = T.tensor(_data((5, 3), 0), requires_grad=True)
        x = T.tensor(_data((2, 5), 1))
        loss = ((x @ w).relu() * 3).mean()
        loss.backward(retain_graph=True)
        loss.backward()
        return [w.grad]

    assert [_bits(g) for g in run(engine)] == [_bits(w) for w in run(torch)]


def test_float16_and_bfloat16_stay_tensors() -> None:
    for dt in ("float16", "bfloat16"):

        def run(T: Any, dt: str = dt) -> list:
            x = T.tensor(_data((4, 4), 0), requires_grad=True)
            y = x.to(getattr(T, dt))
            loss = ((y @ y).relu() * y - y).mean()
            loss.backward()
            return [x.grad]

        assert [_bits(g) for g in run(engine)] == [_bits(w) for w in run(torch)]


def test_raw_mode_runs() -> None:
    """The raw path is taken (gradients reach the leaves as arrays added in place), not only the tensor one."""
    calls: list = []
    orig = autograd._accumulate

    def spy(var: Any, g: Any, create_graph: bool) -> None:
        calls.append(var)
        orig(var, g, create_graph)

    w = engine.tensor(_data((3, 2), 0), requires_grad=True)
    x = engine.tensor(_data((4, 3), 1))
    (x @ w).relu().mean().backward()
    first = w.grad.clone()
    autograd._accumulate = spy
    try:
        (x @ w).relu().mean().backward()
    finally:
        autograd._accumulate = orig
    assert calls == [] and w.grad.tolist() == (first * 2).tolist()


def test_scalar_products_chain_bits() -> None:
    def run(T: Any) -> list:
        x = T.tensor(_data((16,), 0), requires_grad=True)
        y = x
        for _ in range(50):
            y = y * 1.0001 + 0.001
        (y * 0.5).sum().backward()
        z = T.tensor(2.0, dtype=T.float64, requires_grad=True)
        (z * 3.25 - 1.0).backward()  # a 0-dim gradient times a float
        return [y, x.grad, z.grad]

    assert [_bits(g) for g in run(engine)] == [_bits(w) for w in run(torch)]
