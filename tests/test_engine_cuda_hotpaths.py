"""What the engine's cuda paths cost beyond their kernels, counted under the cupy emulator (tests/fakecupy.py):

- device-to-host reads (each a synchronisation that stalls the GPU queue) and host-to-device copies: none in a
  training step or in creating filled tensors; PyTorch syncs only at .item(), printing, .tolist() and
  boolean-mask results, and so does the engine, save one read per index bounds check (see index_range);
- numpy calls handed to cupy through numpy's override protocol (__array_ufunc__/__array_function__), which cost
  microseconds each on cupy: none on the hot paths, which call cupy's functions directly.

These counters exist only in the emulator, so the module runs only under TCLI_FAKE_CUPY=1; CI runs it that way
from tests/test_engine_fakecuda.py.
"""

from __future__ import annotations

import collections
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest

pytestmark = pytest.mark.skipif(
    os.environ.get("TCLI_FAKE_CUPY") != "1", reason="counts the cupy emulator's events: run with TCLI_FAKE_CUPY=1"
)

if os.environ.get("TCLI_FAKE_CUPY") == "1":
    import fakecupy

    import engine as torch
    import engine.nn.functional as F


@contextmanager
def dispatches() -> Iterator[collections.Counter]:
    """Count numpy calls that reach the emulator through numpy's override protocol, by function name."""
    nd = fakecupy.ndarray
    seen: collections.Counter = collections.Counter()
    uf, fn = nd.__array_ufunc__, nd.__array_function__

    def on_ufunc(self: Any, u: Any, method: str, *a: Any, **k: Any) -> Any:
        seen[u.__name__] += 1
        return uf(self, u, method, *a, **k)

    def on_function(self: Any, func: Any, types: Any, a: Any, k: Any) -> Any:
        seen[func.__name__] += 1
        return fn(self, func, types, a, k)

    nd.__array_ufunc__, nd.__array_function__ = on_ufunc, on_function
    try:
        yield seen
    finally:
        nd.__array_ufunc__, nd.__array_function__ = uf, fn


def _mlp() -> tuple[Callable[[], Any], list]:
    torch.manual_seed(0)
    x = torch.randn(16, 8, device="cuda")
    target = torch.randint(0, 4, (16,), device="cuda")
    y = torch.randn(16, 4, device="cuda")
    w1 = (torch.randn(8, 32, device="cuda") * 0.3).requires_grad_()
    b1 = torch.zeros(32, device="cuda", requires_grad=True)
    w2 = (torch.randn(32, 4, device="cuda") * 0.3).requires_grad_()
    params = [w1, b1, w2]

    def step(loss_kind: str = "mse") -> Any:
        h = (x @ w1 + b1).relu()
        out = h @ w2
        loss = F.cross_entropy(out, target) if loss_kind == "ce" else ((out - y) ** 2).mean()
        loss.backward()
        with torch.no_grad():
            for p in params:
                p -= 0.1 * p.grad
                p.grad = None
        return loss

    return step, params


def test_training_step_never_synchronises() -> None:
    step, params = _mlp()
    step()  # first-use work (cached device functions) is not what is measured
    with fakecupy.transfers() as log, dispatches() as seen:
        losses = [step() for _ in range(3)]
    assert log == [], log
    assert not seen, dict(seen)
    first, last = (float(v) for v in (losses[0], losses[-1]))  # the reads happen here, after the steps
    assert last < first  # and it trained


def test_cross_entropy_step_reads_back_once_for_its_bounds_check() -> None:
    step, _ = _mlp()
    step("ce")
    with fakecupy.transfers() as log, dispatches() as seen:
        step("ce")
    assert [kind for kind, _ in log] == ["get"], log  # index_range: min and max of the targets in one read
    assert not seen, dict(seen)


HOT_OPS: dict[str, Callable[[Any, Any], Any]] = {
    "add": lambda a, b: a + b,
    "sub_scalar": lambda a, b: a - 1.5,
    "rsub": lambda a, b: 2 - a,
    "mul": lambda a, b: a * b,
    "div": lambda a, b: a / b,
    "pow": lambda a, b: a**2,
    "sqrt": lambda a, b: a.abs().sqrt(),
    "neg_exp_log": lambda a, b: (-a).exp().log(),
    "tanh": lambda a, b: a.tanh(),
    "relu": lambda a, b: a.relu(),
    "clamp": lambda a, b: a.clamp(-0.5, 0.5),
    "sign": lambda a, b: a.sign() * a,
    "maximum": lambda a, b: torch.maximum(a, b),
    "where": lambda a, b: torch.where(a > b, a, b),
    "sum_mean": lambda a, b: a.sum(1) + a.mean(),
    "max_dim": lambda a, b: a.max(1).values,
    "softmax": lambda a, b: a.softmax(1),
    "log_softmax": lambda a, b: a.log_softmax(1),
    "mm": lambda a, b: a @ b.t(),
    "views": lambda a, b: a.t().reshape(-1)[2:] * 1,
    "cat": lambda a, b: torch.cat([a, b], 1),
    "gelu": lambda a, b: F.gelu(a),
}


@pytest.mark.parametrize("name", list(HOT_OPS))
def test_op_forward_and_backward_stay_on_the_device(name: str) -> None:
    a = torch.randn(4, 6, device="cuda", requires_grad=True)
    b = torch.randn(4, 6, device="cuda", requires_grad=True)
    HOT_OPS[name](a, b).sum().backward()  # warm
    with fakecupy.transfers() as log, dispatches() as seen:
        out = HOT_OPS[name](a, b)
        out.sum().backward()
    assert log == [], log
    assert not seen, dict(seen)
    assert a.grad is not None and a.grad.device.type == "cuda"


@pytest.mark.parametrize(
    "make",
    [
        lambda: torch.zeros(3, 4, device="cuda"),
        lambda: torch.ones(5, device="cuda", dtype=torch.float64),
        lambda: torch.full((2, 2), 7.0, device="cuda"),
        lambda: torch.empty(3, device="cuda"),
        lambda: torch.eye(3, device="cuda"),
        lambda: torch.arange(10, device="cuda"),
        lambda: torch.arange(0.0, 1.0, 0.25, device="cuda"),
        lambda: torch.zeros_like(torch.zeros(2, device="cuda")),
        lambda: torch.full_like(torch.zeros(2, device="cuda"), 3),
    ],
    ids=["zeros", "ones", "full", "empty", "eye", "arange_int", "arange_float", "zeros_like", "full_like"],
)
def test_filled_tensors_are_made_on_the_device(make: Callable[[], Any]) -> None:
    with fakecupy.transfers() as log:
        t = make()
    assert log == [], log
    assert isinstance(t._data, fakecupy.ndarray)


def test_reads_happen_where_torch_syncs() -> None:
    t = torch.arange(6.0, device="cuda")
    for read, kinds in [
        (lambda: t.sum().item(), {"get", "item"}),
        (lambda: t.tolist(), {"get", "tolist"}),
        (lambda: str(t), {"get"}),
        (lambda: t[t > 2], {"boolean mask"}),
    ]:
        with fakecupy.transfers() as log:
            read()
        assert log and {k for k, _ in log} <= kinds, (kinds, log)
    assert sys.modules["cupy"] is fakecupy._MODULE
