"""torch.compile run eagerly (engine/compile.py) against torch's: the wrapper module and its state_dict, the one
CompiledFunctionBackward node and its inputs, gradients reaching parameters and captured leaves, the eager
backend, no_grad, the errors; and a script through `tcli run`. torch compiles with its "aot_eager" backend
here, which builds the same autograd node as the default one without generating C++."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from helpers import run_tsr_and_python

import engine


@pytest.fixture(autouse=True)
def distribution_checks_back_on() -> Any:
    """torch.compile turns the distributions' argument checks off for the process, in torch and in the engine
    (test_compile_turns_distribution_checks_off): the other tests' processes must get them back."""
    yield
    for T in (torch, engine):
        T.distributions.Distribution.set_default_validate_args(True)


def test_compile_turns_distribution_checks_off() -> None:
    """torch's first compile in a process turns the checks off (a later one does not again): so each library
    runs in a fresh process, as another test file may have compiled in this one."""
    import subprocess
    import sys

    src = (
        "import {0} as T\n"
        "T.distributions.Normal(0.0, 1.0)\n"
        "try:\n    T.distributions.Normal(0.0, -1.0)\nexcept ValueError:\n    print('checked')\n"
        "T.compile(T.nn.Linear(1, 1))\n"
        "T.distributions.Normal(0.0, -1.0)\nprint('unchecked')\n"
    )
    for name in ("torch", "engine"):
        run = subprocess.run([sys.executable, "-c", src.format(name)], capture_output=True, text=True)
        assert run.stdout == "checked\nunchecked\n", run.stderr


def model(T: Any) -> Any:
    T.manual_seed(0)
    m = T.nn.Sequential(T.nn.Linear(3, 4), T.nn.Tanh(), T.nn.Linear(4, 2), T.nn.BatchNorm1d(2))
    m.unused = T.nn.Linear(2, 2)
    return m


def edges(t: Any) -> list:
    """next_functions as names (None where an input needs no grad), sorted: torch orders a compiled graph's
    inputs as its tracer first met them, the engine its parameters, then its arguments, then other leaves."""
    return sorted(str(None if n is None else n.name()) for n, _ in t.grad_fn.next_functions)


def test_module_wrapper_and_its_graph() -> None:
    out = {}
    for T, backend in ((torch, "aot_eager"), (engine, "inductor")):
        m = model(T)
        cm = T.compile(m, backend=backend)
        x = T.linspace(-1, 1, 15).reshape(5, 3)
        y = cm(x)
        y.pow(2).sum().backward()
        out[T] = (
            repr(cm), type(cm).__name__, list(cm.state_dict()), [n for n, _ in cm.named_parameters()],
            cm._orig_mod is m, y.grad_fn.name(), edges(y),
            repr(y), [p.grad.numpy().round(5).tolist() for p in m.parameters()],
        )  # fmt: skip
    assert out[engine] == out[torch]


def test_function_with_a_captured_leaf() -> None:
    grads = {}
    for T in (torch, engine):
        T.manual_seed(1)
        w = T.randn(3, requires_grad=True)
        z = T.randn(2, 3, requires_grad=True)

        @T.compile(backend="aot_eager" if T is torch else "inductor")
        def f(x: Any, z: Any, w: Any = w) -> Any:
            return (x * w).sin().sum() + (z * z).sum()

        r = f(T.ones(2, 3), z)
        assert r.grad_fn.name() == "CompiledFunctionBackward"
        assert edges(r) == ["None", "torch::autograd::AccumulateGrad", "torch::autograd::AccumulateGrad"]
        r.backward()
        grads[T] = (w.grad.numpy().copy(), z.grad.numpy().copy(), f.__name__)
    np.testing.assert_allclose(grads[engine][0], grads[torch][0], rtol=1e-6)
    np.testing.assert_allclose(grads[engine][1], grads[torch][1], rtol=1e-6)
    assert grads[engine][2] == grads[torch][2] == "f"


def test_eager_backend_no_grad_and_non_tensor_results() -> None:
    for T in (torch, engine):
        x = T.ones(2, requires_grad=True)
        f = T.compile(lambda v: (v * 2, v.detach(), 3), backend="eager")
        a, b, c = f(x)
        assert a.grad_fn.name() == "MulBackward0" and b.grad_fn is None and c == 3
        g = T.compile(lambda v: (v * 2, v.detach()), backend="aot_eager" if T is torch else "inductor")
        a, b = g(x)
        assert a.grad_fn.name() == "CompiledFunctionBackward" and b.grad_fn is None
        with T.no_grad():
            assert g(x)[0].grad_fn is None
        assert T.compile(g, disable=True) is g
        assert T.compiler.is_compiling() is False


def test_backward_twice_and_double_backward_errors() -> None:
    res = {}
    for T in (torch, engine):
        x = T.tensor([0.5, -1.0, 2.0], requires_grad=True)
        f = T.compile(lambda v: (v**3).sum(), backend="aot_eager" if T is torch else "inductor")
        (g,) = T.autograd.grad(f(x), x, create_graph=True)
        out = [g.detach().numpy().tolist(), g.grad_fn.name(), g.requires_grad]
        with pytest.raises(RuntimeError) as info:
            g.sum().backward()
        out.append(str(info.value))
        y = f(x)
        y.backward()
        with pytest.raises(RuntimeError) as info:
            y.backward()
        out.append(str(info.value))
        y = f(x)
        y.backward(retain_graph=True)
        y.backward()
        out.append(x.grad.tolist())
        res[T] = out
    assert res[engine] == res[torch]


@pytest.mark.parametrize(
    "kwargs",
    [{"mode": "fast"}, {"backend": "nope"}, {"mode": "default", "options": {}}],
)
def test_errors(kwargs: dict) -> None:
    raised = []
    for T in (torch, engine):
        with pytest.raises(Exception) as info:
            T.compile(T.nn.Linear(1, 1), **kwargs)(T.ones(1, 1))
        raised.append((type(info.value).__name__, str(info.value)))
    assert raised[0] == raised[1]


SCRIPT = """\
import torch
import torch.nn as nn

torch.manual_seed(0)
model = nn.Sequential(nn.Linear(2, 8), nn.ReLU(), nn.Linear(8, 1))
compiled = torch.compile(model)
print(compiled)
opt = torch.optim.SGD(compiled.parameters(), lr=0.1)
x = torch.randn(16, 2)
y = x.sum(dim=1, keepdim=True)
for step in range(3):
    opt.zero_grad()
    out = compiled(x)
    loss = ((out - y) ** 2).mean()
    loss.backward()
    opt.step()
    print(step, loss)
print(out.grad_fn)
print(list(compiled._orig_mod.state_dict().keys()))
print(list(compiled.state_dict().keys()))


@torch.compile
def gelu(v):
    return 0.5 * v * (1 + torch.tanh(0.7978845608 * (v + 0.044715 * v**3)))


print(gelu(torch.linspace(-2, 2, 5)))
"""


def test_tcli_run_matches_torch(tmp_path: Path) -> None:
    script = tmp_path / "compiled.tsr"
    script.write_text(SCRIPT)
    tsr, ref = run_tsr_and_python(script)
    assert tsr.returncode == 0, tsr.stderr
    want = ref.stdout.replace("object at 0x", "@")
    got = tsr.stdout.replace("object at 0x", "@")
    strip = lambda s: [line.split("@")[0] for line in s.splitlines()]  # noqa: E731 - (addresses differ)
    assert strip(got) == strip(want)
