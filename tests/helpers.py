"""Differential testing against PyTorch (the oracle), in the style of tinygrad's `helper_test_op`.

`check(fn, *args)` runs `fn(torch, *torch_args)` and `fn(engine, *engine_args)` on the same data and
asserts the results agree: values, dtype, shape, requires_grad and grad_fn name of every tensor in the
result (tuples and torch.return_types included), and then the gradients of every input that requires
grad, after one backward pass with the same random grad_output in both. If torch raises, the engine
must raise an exception of the same type name with the same message.

DEVICE is the device the engine side runs on (set by the `device` fixture in conftest.py, which also makes
it the engine's default device); torch always runs on the cpu, and engine results are compared after
`.cpu()`.
"""

from __future__ import annotations

import math
import os
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch

import engine

DTYPES = ["bool", "uint8", "int8", "int16", "int32", "int64", "float16", "float32", "float64"]
FLOATS = ["float16", "float32", "float64"]
INTS = ["uint8", "int8", "int16", "int32", "int64"]

# (atol, rtol) of forward values and of gradients, per floating dtype
TOL = {"float16": (2e-3, 2e-3), "float32": (1e-5, 1e-5), "float64": (1e-10, 1e-9)}
TOL |= {"complex64": TOL["float32"], "complex128": TOL["float64"]}
DEVICE = "cpu"

GRAD_TOL = {"float16": (1e-2, 1e-2), "float32": (1e-4, 1e-4), "float64": (1e-9, 1e-8)}
GRAD_TOL |= {"complex64": GRAD_TOL["float32"], "complex128": GRAD_TOL["float64"]}


def make(shape: tuple, dtype: str = "float32", low: float = -3.0, high: float = 3.0, seed: int = 0) -> np.ndarray:
    """Random data of a torch dtype name; integers uniform in [low, high], bools fair coins."""
    rng = np.random.default_rng(seed)
    if dtype == "bool":
        return np.asarray(rng.random(shape) < 0.5)
    if dtype in INTS:
        lo = max(int(math.ceil(low)), int(np.iinfo(dtype).min))
        hi = min(int(math.floor(high)), int(np.iinfo(dtype).max))
        return np.asarray(rng.integers(lo, hi + 1, size=shape)).astype(dtype)
    return np.asarray(rng.random(shape) * (high - low) + low).astype(dtype)


class Arg:
    """An argument passed as a tensor that does not require grad (indices, masks, ...)."""

    def __init__(self, value: Any) -> None:
        self.value = value


def _to(lib: Any, v: Any, grad: bool) -> Any:
    if isinstance(v, Arg):
        return _to(lib, v.value, False)
    if isinstance(v, np.ndarray):
        t = lib.tensor(v.copy())
        if grad and v.dtype.kind in "fc":
            t.requires_grad_()
        return t
    if isinstance(v, list) and v and all(isinstance(x, (np.ndarray, Arg)) for x in v):
        return [_to(lib, x, grad) for x in v]
    return v


def _leaves(args: list) -> list:
    out: list = []
    for a in args:
        if isinstance(a, list):
            out += _leaves(a)
        elif isinstance(a, (torch.Tensor, engine.Tensor)) and a.requires_grad:
            out.append(a)
    return out


def _flat(args: list) -> list:
    return [x for a in args for x in (_flat(a) if isinstance(a, list) else [a])]


def _tensors(x: Any) -> list:
    if isinstance(x, (torch.Tensor, engine.Tensor)):
        return [x]
    if isinstance(x, (tuple, list)):
        return [t for v in x for t in _tensors(v)]
    return []


def graph(t: Any, depth: int = 8) -> str:
    """A tensor's autograd graph as nested node names: MulBackward0(AccumulateGrad, None)."""
    fn = t.grad_fn if hasattr(t, "grad_fn") else t
    if fn is None:
        return "None"
    name = fn.name().replace("torch::autograd::", "")
    if depth == 0 or not fn.next_functions:
        return name
    return name + "(" + ", ".join(graph(n, depth - 1) for n, _ in fn.next_functions) + ")"


RAISED = "raised"


def outcome(fn: Callable, T: Any) -> Any:
    """fn(T), or (RAISED, type name, message) when it raises (warnings silenced): what the module-level tests
    (nn modules, normalisation, recurrent layers) compare between torch and the engine."""
    import warnings

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return fn(T)
    except Exception as e:  # noqa: BLE001 - the point is to compare whatever is raised
        return (RAISED, type(e).__name__, str(e))


def computed(fn: Callable, *args: Any, **kw: Any) -> Any:
    """check() for a case that must compute values: check passes when both libraries raise the same error, so
    here torch raising fails the test (a case that compares nothing cannot pass)."""
    out = check(fn, *args, **kw)
    assert out is not None, "torch raised: nothing was compared"
    return out


def same(fn: Callable, *args: Any) -> Any:
    """fn(lib, *args) must return equal results (tensors compared as by check, no gradients)."""
    return check(fn, *args, grad=False)


def same_error(fn: Callable, *args: Any) -> tuple[str, str]:
    """Both libraries must raise: same exception type name and message. Returns (type, message)."""
    errs = []
    for lib in (torch, engine):
        try:
            fn(lib, *[_to(lib, a, False) for a in args])
        except Exception as e:  # noqa: BLE001 - the point is to compare whatever is raised
            errs.append((type(e).__name__, str(e) if lib is torch else cpu_text(str(e))))
        else:
            errs.append(None)
    assert errs[0] is not None, "torch did not raise"
    assert errs[1] is not None, f"engine did not raise; torch raised {errs[0]}"
    assert errs[1] == errs[0], f"\nengine: {errs[1]}\ntorch:  {errs[0]}"
    return errs[0]


def assert_same(
    e: Any,
    t: Any,
    atol: float | None = None,
    rtol: float | None = None,
    where: str = "out",
    names: bool = True,
) -> None:
    """Recursively compare an engine result with torch's."""
    if isinstance(t, torch.Tensor):
        assert isinstance(e, engine.Tensor), f"{where}: engine returned {type(e).__name__}, torch a Tensor"
        assert str(e.dtype) == str(t.dtype), f"{where}: dtype {e.dtype} != torch {t.dtype}"
        assert tuple(e.shape) == tuple(t.shape), f"{where}: shape {tuple(e.shape)} != torch {tuple(t.shape)}"
        assert e.requires_grad == t.requires_grad, f"{where}: requires_grad {e.requires_grad} != {t.requires_grad}"
        tn = t.grad_fn.name() if t.grad_fn is not None else None
        en = e.grad_fn.name() if e.grad_fn is not None else None
        assert en == tn or (not names and (en is None) == (tn is None)), f"{where}: grad_fn {en} != torch {tn}"
        ev = e.detach().cpu().resolve_conj().numpy()
        tv = t.detach().resolve_conj().numpy()
        if tv.dtype.kind in "fc":
            a, r = TOL[str(t.dtype).removeprefix("torch.")]
            a, r = atol if atol is not None else a, rtol if rtol is not None else r
            wide = np.complex128 if tv.dtype.kind == "c" else np.float64
            np.testing.assert_allclose(ev.astype(wide), tv.astype(wide), atol=a, rtol=r,
                                       equal_nan=True, err_msg=where)  # fmt: skip
        else:
            np.testing.assert_array_equal(ev, tv, err_msg=where)
        return
    if isinstance(t, torch.Size):
        assert tuple(e) == tuple(t) and type(e) is engine.Size, f"{where}: {e!r} != {t!r}"
        return
    if isinstance(t, tuple) and hasattr(t, "_fields") or type(t).__module__ == "torch.return_types":
        assert type(e).__name__ == type(t).__name__, f"{where}: {type(e).__name__} != {type(t).__name__}"
        assert_same(e.values, t.values, atol, rtol, where + ".values", names)
        assert_same(e.indices, t.indices, atol, rtol, where + ".indices", names)
        return
    if isinstance(t, (tuple, list)):
        assert isinstance(e, (tuple, list)), f"{where}: engine returned {type(e).__name__}, torch {type(t).__name__}"
        assert type(e) is type(t), f"{where}: {type(e).__name__} != {type(t).__name__}"
        assert len(e) == len(t), f"{where}: length {len(e)} != {len(t)}"
        for i, (x, y) in enumerate(zip(e, t)):
            assert_same(x, y, atol, rtol, f"{where}[{i}]", names)
        return
    if isinstance(t, torch.dtype):
        assert str(e) == str(t), f"{where}: {e} != {t}"
        return
    assert type(e) is type(t), f"{where}: {type(e).__name__} {e!r} != torch {type(t).__name__} {t!r}"
    if isinstance(t, float) and math.isnan(t):
        assert math.isnan(e), f"{where}: {e} != nan"
    elif isinstance(t, float):
        assert math.isclose(e, t, rel_tol=1e-6, abs_tol=1e-9), f"{where}: {e} != {t}"
    else:
        if isinstance(e, str):
            e = cpu_text(e)
        assert e == t, f"{where}: {e!r} != torch {t!r}"


def cpu_text(s: str) -> str:
    """Text the engine printed on DEVICE as torch prints it on the cpu (the oracle's device)."""
    if DEVICE == "cpu":
        return s
    s = s.replace(f", device='{DEVICE}:0'", "").replace(f"torch.{DEVICE}.", "torch.")
    return re.sub(r"\bCUDA(\w*Type)\b", r"CPU\1", s)  # (CUDABoolType, CUDAComplexFloatType, ...)


def check(
    fn: Callable, *args: Any, grad: bool = True, atol: float | None = None, rtol: float | None = None,
    grad_atol: float | None = None, grad_rtol: float | None = None, seed: int = 1, names: bool = True,
) -> Any:  # fmt: skip
    """Run fn(lib, *args) in torch and in the engine, compare results and input gradients.

    args: numpy arrays become tensors (float ones require grad when grad=True); Arg(...) wraps one that
    must not require grad; lists of arrays become lists of tensors; anything else passes through.
    names=False skips the grad_fn name check (only whether there is one), for graphs of backward passes.
    Returns torch's result (or None when both raised the same error)."""
    targs = [_to(torch, a, grad) for a in args]
    eargs = [_to(engine, a, grad) for a in args]
    try:
        tout = fn(torch, *targs)
    except Exception as te:  # noqa: BLE001
        try:
            fn(engine, *eargs)
        except Exception as ee:  # noqa: BLE001
            assert (type(ee).__name__, str(ee)) == (type(te).__name__, str(te)), (
                f"\nengine: {type(ee).__name__}: {ee}\ntorch:  {type(te).__name__}: {te}"
            )
            return None
        raise AssertionError(f"engine did not raise; torch raised {type(te).__name__}: {te}") from None
    eout = fn(engine, *eargs)
    assert_same(eout, tout, atol, rtol, names=names)
    if DEVICE != "cpu" and any(isinstance(a, engine.Tensor) for a in _flat(eargs)):
        for i, t in enumerate(_tensors(eout)):
            assert t.device.type == DEVICE, f"out[{i}] is on {t.device}, its inputs on {DEVICE}"
    if not grad:
        return tout
    touts = [t for t in _tensors(tout) if t.requires_grad]
    eouts = [t for t in _tensors(eout) if t.requires_grad]
    tleaves, eleaves = _leaves(targs), _leaves(eargs)
    if not touts or not tleaves:
        return tout
    rng = np.random.default_rng(seed)
    tg, eg = [], []
    for t in touts:
        g = rng.random(tuple(t.shape)) * 2 - 1
        if t.dtype.is_complex:
            g = g + 1j * (rng.random(tuple(t.shape)) * 2 - 1)
        g = g.astype(str(t.dtype).removeprefix("torch."))
        tg.append(torch.tensor(g))
        eg.append(engine.tensor(g))
    try:
        torch.autograd.backward(touts, tg)
    except RuntimeError as te:
        try:
            engine.autograd.backward(eouts, eg)
        except RuntimeError as ee:
            assert cpu_text(str(ee)) == str(te), f"backward error\nengine: {ee}\ntorch:  {te}"
            return tout
        raise AssertionError(f"engine backward did not raise; torch raised {te}") from None
    engine.autograd.backward(eouts, eg)
    for i, (el, tl) in enumerate(zip(eleaves, tleaves)):
        if tl.grad is None:
            assert el.grad is None, f"grad of input {i}: engine has one, torch None"
            continue
        assert el.grad is not None, f"grad of input {i}: engine None"
        assert el.grad.device == el.device, f"grad of input {i} is on {el.grad.device}, the input on {el.device}"
        name = str(tl.dtype).removeprefix("torch.")
        a, r = GRAD_TOL[name]
        a, r = grad_atol if grad_atol is not None else a, grad_rtol if grad_rtol is not None else r
        assert_same(el.grad, tl.grad, a, r, where=f"grad of input {i}")
    return tout


def run_tsr_and_python(script: Path) -> tuple[subprocess.CompletedProcess, subprocess.CompletedProcess]:
    """The script run by `tcli run` and by Python with PyTorch (plain output, no colour): (tcli's, torch's).
    PyTorch's own run must succeed; what tcli's must show is each test's to say."""
    env = dict(os.environ, NO_COLOR="1", TERM="dumb")
    tsr = subprocess.run([sys.executable, "-m", "tcli", "run", str(script)], capture_output=True, text=True, env=env,
                         timeout=120)  # fmt: skip
    ref = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, env=env, timeout=120)
    assert ref.returncode == 0, ref.stderr
    return tsr, ref


def train_losses(T: Any, model: Any, x: Any, y: Any, opt: Any, steps: int = 20) -> list:
    """The reprs of an MSE training loop's losses, step by step: equal lists mean the same arithmetic."""
    losses = []
    for _ in range(steps):
        opt.zero_grad()
        loss = T.nn.functional.mse_loss(model(x), y)
        loss.backward()
        opt.step()
        losses.append(repr(loss.item()))
    return losses
