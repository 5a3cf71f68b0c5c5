"""perf20's backward bookkeeping against PyTorch: a node's saved fields as properties (Node has no __getattr__),
hooks still run once backward stopped reading nodes' hook fields until a hook exists (autograd.HOOKED), sums'
and means' nodes that free nothing (their graph runs again, as torch's), and the graph walk's order unchanged."""

from __future__ import annotations

import os
import random
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch

import engine
from engine import autograd
from engine.autograd import AccumulateGrad, _collect

ROOT = Path(__file__).resolve().parents[1]


def _both(fn: Any) -> tuple:
    return fn(torch), fn(engine)


def _error(fn: Any) -> str:
    try:
        fn()
    except AttributeError as e:
        return str(e)
    return "no error"


# ---- saved fields ----------------------------------------------------------------------------------------
def test_node_reads_its_fields_without_getattr() -> None:
    assert "__getattr__" not in vars(autograd.Node)
    assert not any("__getattr__" in vars(c) for c in type(engine.ones(1, requires_grad=True) * 2).__mro__)

    def graph(T: Any) -> tuple:
        a = T.tensor([1.0, 2.0], requires_grad=True)
        b = T.tensor([3.0, 4.0], requires_grad=True)
        y = (a * b).sum()
        return y.grad_fn, y.grad_fn.next_functions[0][0], a

    for want, got in zip(*[graph(T) for T in (torch, engine)]):
        if isinstance(want, torch.Tensor):
            continue
        for name in ("foo", "_saved_bogus", "_saved_self", "_saved_other", "_saved_self_sym_sizes"):
            w = _error(lambda n=name, o=want: getattr(o, n))
            g = _error(lambda n=name, o=got: getattr(o, n))
            if w == "no error":
                wv, gv = getattr(want, name), getattr(got, name)
                if isinstance(wv, torch.Tensor):
                    assert gv.tolist() == wv.tolist()
                else:
                    assert tuple(gv) == tuple(wv)
            else:
                assert g == w
    (_, mul, _), (_, emul, _) = graph(torch), graph(engine)
    acc = emul.next_functions[0][0]
    assert type(acc) is AccumulateGrad
    assert _error(lambda: acc.foo) == _error(lambda: mul.next_functions[0][0].foo)
    assert not hasattr(acc, "_saved_self")


def test_saved_field_properties_cover_the_table() -> None:
    from engine import autograd_graph

    names = {"_saved_" + f for fields in autograd_graph._FIELDS.values() for f in fields if f}
    assert names | {"_saved_self", "_saved_result"} <= autograd.SAVED_FIELDS


def test_dir_lists_only_the_fields_a_node_has() -> None:
    a = engine.tensor([1.0, 2.0], requires_grad=True)
    mul = (a * a).grad_fn
    s = a.sum().grad_fn
    assert {"_saved_self", "_saved_other"} <= set(dir(mul))
    assert "_saved_result" not in dir(mul)
    assert "_saved_self_sym_sizes" in dir(s) and "_saved_self" not in dir(s)
    assert not [n for n in dir(a.sum().grad_fn.next_functions[0][0]) if n.startswith("_saved_")]


# ---- hooks -----------------------------------------------------------------------------------------------
_HOOK_SCRIPT = textwrap.dedent(
    """
    import engine as T
    from engine import autograd

    def run():
        w = T.tensor([1.0, -2.0, 3.0], requires_grad=True)
        b = T.tensor([0.5], requires_grad=True)
        y = (w * w + b).relu()
        return w, b, y, y.sum()

    w, b, y, loss = run()
    loss.backward()
    print(autograd.HOOKED[0], w.grad.tolist(), b.grad.tolist())
    log = []
    for kind in ("tensor", "prehook", "posthook", "retain", "leaf", "accumulate"):
        w, b, y, loss = run()
        if kind == "tensor":
            y.register_hook(lambda g: g * 2)
        elif kind == "prehook":
            y.grad_fn.register_prehook(lambda gs: (gs[0] * 3,))
        elif kind == "posthook":
            y.grad_fn.register_hook(lambda gi, go: (gi[0] * 5,))
        elif kind == "retain":
            y.retain_grad()
        elif kind == "leaf":
            w.register_hook(lambda g: log.append(("leaf", g.tolist())))
        else:
            y.grad_fn.next_functions[0][0].next_functions[1][0].register_prehook(
                lambda gs: log.append(("acc", gs[0].tolist())))
        loss.backward()
        print(kind, autograd.HOOKED[0], w.grad.tolist(), b.grad.tolist(), y.grad.tolist() if kind == "retain" else "")
    print(log)
    """
)


def test_hooks_run_once_one_exists() -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    want = subprocess.run(
        [sys.executable, "-c", _HOOK_SCRIPT.replace("import engine as T", "import torch as T").replace(
            "from engine import autograd", "class autograd: HOOKED = [None]")],
        capture_output=True, text=True, env=env, check=True,
    ).stdout.splitlines()  # fmt: skip
    got = subprocess.run(
        [sys.executable, "-c", _HOOK_SCRIPT], capture_output=True, text=True, env=env, check=True
    ).stdout.splitlines()
    assert got[0].startswith("False ")  # a plain backward before any hook: none registered
    assert all(line.split()[1] == "True" for line in got[1:-1])
    strip = [line.split(" ", 2)[-1] if i and i < len(got) - 1 else line.split(" ", 1)[-1] for i, line in enumerate(got)]
    assert strip == [
        line.split(" ", 2)[-1] if i and i < len(want) - 1 else line.split(" ", 1)[-1] for i, line in enumerate(want)
    ]


# ---- nodes that free nothing -----------------------------------------------------------------------------
@pytest.mark.parametrize(
    "fn",
    [
        lambda T, x: x.sum(),
        lambda T, x: x.mean(),
        lambda T, x: x.sum(dim=1).sum(),
        lambda T, x: x.mean(dim=0).mean(),
        lambda T, x: (x.sum() * 2).mean(),
    ],
)
def test_sum_and_mean_graphs_run_twice_as_torchs(fn: Any) -> None:
    data = np.arange(6, dtype=np.float32).reshape(2, 3)

    def run(T: Any) -> Any:
        x = T.tensor(data, requires_grad=True)
        y = fn(T, x)
        y.backward()
        try:
            y.backward()
        except RuntimeError as e:
            return str(e)[:40]
        return x.grad.tolist()

    assert run(engine) == run(torch)


def test_a_product_under_a_mean_still_frees_its_graph() -> None:
    def run(T: Any) -> str:
        x = T.tensor([1.0, 2.0], requires_grad=True)
        y = (x * x).mean()
        y.backward()
        try:
            y.backward()
        except RuntimeError as e:
            return str(e)[:60]
        return "ran"

    assert run(engine) == run(torch) != "ran"


# ---- the graph walk's order ------------------------------------------------------------------------------
def _collect_before(roots: Any, targets: Any) -> list:
    """perf19's _collect, the order the new walk must keep."""
    order: list = []
    seen: set = set()
    needed: dict = {}
    sinks = targets is None
    for root in roots:
        if root is None or root in seen:
            continue
        seen.add(root)
        stack = [(root, iter(root._next))]
        while stack:
            node, it = stack[-1]
            for nxt in it:
                if nxt is not None and nxt not in seen:
                    seen.add(nxt)
                    if sinks and not nxt._next:
                        order.append(nxt)
                        continue
                    stack.append((nxt, iter(nxt._next)))
                    break
            else:
                stack.pop()
                order.append(node)
                if targets is not None:
                    needed[node] = node in targets or any(n is not None and needed.get(n, False) for n in node._next)
    order.reverse()
    if targets is not None:
        order = [n for n in order if needed[n]]
    return autograd._ready_order(order, roots) if len(order) > 2 else order


@pytest.mark.parametrize("seed", range(12))
def test_walk_order_as_before(seed: int) -> None:
    rng = random.Random(seed)
    leaves = [engine.tensor([float(i + 1), 2.0], requires_grad=True) for i in range(rng.randint(1, 4))]
    pool = list(leaves) + [engine.tensor([1.0, 1.0])]
    for _ in range(rng.randint(2, 14)):
        a, b = rng.choice(pool), rng.choice(pool)
        op = rng.choice(("add", "mul", "sub", "relu", "sum"))
        if op == "relu":
            pool.append(a.relu())
        elif op == "sum":
            pool.append(a.sum() * b)
        else:
            pool.append(getattr(a, op)(b))
    outs = [t for t in pool[-3:] if t.grad_fn is not None]
    roots = [t.grad_fn for t in outs] + [None]
    assert _collect(roots, None) == _collect_before(roots, None)
    targets = {leaf._accum: i for i, leaf in enumerate(leaves) if leaf._accum is not None}
    assert _collect(roots, targets) == _collect_before(roots, targets)


def test_a_deep_chain_walks_and_matches_torch() -> None:
    def run(T: Any) -> list:
        x = T.tensor([0.5, -1.5, 2.0], requires_grad=True)
        y = x
        for _ in range(1500):  # (deeper than Python's recursion limit: the walk keeps its own stack)
            y = y * 1.0001 + 0.001
        y.sum().backward()
        return x.grad.tolist()

    assert run(engine) == run(torch)
