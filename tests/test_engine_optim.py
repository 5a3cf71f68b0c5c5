"""engine.optim against torch.optim (the oracle, on the cpu): SGD, Adam, AdamW, RMSprop and Adagrad over every
combination of their options, parameter groups, zero_grad, closures, state_dict/load_state_dict, reprs and
errors, and the learning-rate schedulers.

The same parameters and the same fixed gradients go to both libraries for several steps; parameters, every
state tensor and every version counter must then be bit-identical. torch's cpu square root (MKL's) is not
correctly rounded (1 value in ~100 is an ulp off IEEE's), so for the optimizers that divide by one the
`ieee_sqrt` fixture gives torch IEEE's square root, which makes the rest of their arithmetic comparable bit
for bit; test_sqrt_optimizers_close_to_stock_torch bounds the difference from stock torch. With the `mkl` wheel
installed the engine's square root is MKL's too (engine/ops/mkl.py), and the fixture leaves torch's alone.

The engine side runs on each device of the `device` fixture; results are compared after `.cpu()`."""

from __future__ import annotations

import itertools
import math
import subprocess
import sys
import warnings
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import engine
import engine.optim
from engine.ops import mkl

torch = pytest.importorskip("torch")

pytestmark = pytest.mark.usefixtures("device")

ROOT = Path(__file__).resolve().parent.parent
FAST = settings(max_examples=20, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
SHAPES = [(3, 4), (37,), (), (2, 1, 5)]  # a 0-dim parameter, and sizes past a vector register's width


def optim(lib: Any) -> Any:
    return lib.optim


# ---- comparing the two libraries -----------------------------------------------------------------------
def host(t: Any) -> np.ndarray:
    return t.detach().cpu().numpy() if isinstance(t, engine.Tensor) else t.detach().numpy()


def assert_bits(e: Any, t: Any, where: str) -> None:
    """Same dtype, shape and bits (so -0.0 differs from 0.0, and NaNs match NaNs)."""
    assert isinstance(e, engine.Tensor), f"{where}: engine gave {type(e).__name__}"
    assert str(e.dtype) == str(t.dtype), f"{where}: dtype {e.dtype} != torch {t.dtype}"
    ev, tv = host(e), host(t)
    assert ev.shape == tv.shape, f"{where}: shape {ev.shape} != {tv.shape}"
    if tv.dtype.kind == "f":
        ui = np.dtype(f"u{tv.dtype.itemsize}")
        bad = np.nonzero(ev.reshape(-1).view(ui) != tv.reshape(-1).view(ui))[0]
        first = bad[:5]
        assert bad.size == 0, (
            f"{where}: {bad.size} of {tv.size} differ, at {first}: {ev.flat[first]} != {tv.flat[first]}"
        )
    else:
        np.testing.assert_array_equal(ev, tv, err_msg=where)


def assert_tree(e: Any, t: Any, where: str = "out") -> None:
    """Containers item by item (dicts in key order), tensors bit for bit, anything else by type and ==."""
    if isinstance(t, torch.Tensor):
        assert_bits(e, t, where)
        assert e.requires_grad == t.requires_grad, f"{where}: requires_grad"
    elif isinstance(t, dict):
        assert type(e) is type(t), f"{where}: {type(e).__name__} != {type(t).__name__}"
        assert list(e.keys()) == list(t.keys()), f"{where}: keys {list(e.keys())} != {list(t.keys())}"
        for k in t:
            assert_tree(e[k], t[k], f"{where}[{k!r}]")
    elif isinstance(t, (list, tuple)):
        assert type(e) is type(t) and len(e) == len(t), f"{where}: {e!r} != {t!r}"
        for i, (x, y) in enumerate(zip(e, t)):
            assert_tree(x, y, f"{where}[{i}]")
    else:
        assert type(e) is type(t), f"{where}: {type(e).__name__} {e!r} != torch {type(t).__name__} {t!r}"
        assert e == t or (isinstance(t, float) and math.isnan(t) and math.isnan(e)), f"{where}: {e!r} != {t!r}"


def cpu_repr(s: str) -> str:
    import helpers

    return helpers.cpu_text(s)


def assert_same_optimizer(eo: Any, to: Any, eps: list, tps: list) -> None:
    """Parameters (values and versions), state, state_dict, param_groups and repr."""
    for i, (e, t) in enumerate(zip(eps, tps)):
        assert_bits(e, t, f"param {i}")
        assert e._version == t._version, f"param {i}: version {e._version} != torch {t._version}"
    assert type(eo.state) is defaultdict
    assert len(eo.state) == len(to.state)
    for i, (e, t) in enumerate(zip(eps, tps)):
        assert (e in eo.state) == (t in to.state), f"param {i}: state present"
        if t in to.state:
            assert_tree(eo.state[e], to.state[t], f"state[{i}]")
            for k, tv in to.state[t].items():
                if isinstance(tv, torch.Tensor):
                    assert eo.state[e][k]._version == tv._version, f"state[{i}][{k!r}]: version"
    assert_tree(eo.state_dict(), to.state_dict(), "state_dict()")
    for g, (eg, tg) in enumerate(zip(eo.param_groups, to.param_groups)):
        assert list(eg.keys()) == list(tg.keys()), f"group {g} keys"
    assert cpu_repr(repr(eo)) == repr(to)


def params(lib: Any, shapes: list, dtype: str, seed: int) -> list:
    rng = np.random.default_rng(seed)
    return [lib.tensor((rng.standard_normal(s) * 2).astype(dtype), requires_grad=True) for s in shapes]


def grads(shapes: list, dtype: str, steps: int, seed: int, skip: bool = True) -> list:
    """steps lists of gradients (numpy), of mixed magnitudes; with skip, parameter 1 has none on step 2."""
    rng = np.random.default_rng(seed + 1000)
    out = []
    for k in range(steps):
        row = []
        for i, s in enumerate(shapes):
            if skip and k == 2 and i == 1 % len(shapes):
                row.append(None)
            else:
                scale = 10.0 ** rng.integers(-3, 2)
                row.append((rng.standard_normal(s) * scale).astype(dtype))
        out.append(row)
    return out


def train(
    lib: Any, make: Callable, shapes: list, dtype: str, steps: int = 6, seed: int = 0, skip: bool = True
) -> tuple:
    ps = params(lib, shapes, dtype, seed)
    opt = make(optim(lib), ps)
    for row in grads(shapes, dtype, steps, seed, skip):
        for p, g in zip(ps, row):
            p.grad = None if g is None else lib.tensor(g)
        opt.step()
    return opt, ps


def compare(make: Callable, shapes: list = SHAPES, dtype: str = "float32", **kw: Any) -> None:
    to, tps = train(torch, make, shapes, dtype, **kw)
    eo, eps = train(engine, make, shapes, dtype, **kw)
    assert_same_optimizer(eo, to, eps, tps)


@pytest.fixture
def ieee_sqrt(monkeypatch: pytest.MonkeyPatch) -> None:
    """torch with IEEE's (correctly rounded) square root instead of MKL's, for the tensors optimizers use."""

    monkeypatch.setattr(torch.Tensor, "sqrt", _ieee_sqrt)
    monkeypatch.setattr(torch.Tensor, "sqrt_", _ieee_sqrt_)


_TORCH_SQRT, _TORCH_SQRT_ = torch.Tensor.sqrt, torch.Tensor.sqrt_


def _engine_sqrt_is_mkls() -> bool:
    """Whether the engine side (on the `device` fixture's default device) takes MKL's square root, as torch."""
    return mkl.available() and engine.get_default_device().type == "cpu"


def _ieee_sqrt(self: Any) -> Any:
    if _engine_sqrt_is_mkls():
        return _TORCH_SQRT(self)
    return torch.from_numpy(np.asarray(np.sqrt(self.detach().numpy())))


def _ieee_sqrt_(self: Any) -> Any:
    if _engine_sqrt_is_mkls():
        return _TORCH_SQRT_(self)
    with torch.no_grad():
        return self.copy_(_ieee_sqrt(self))


# ---- each optimizer over its options ----------------------------------------------------------------------
SGD_OPTIONS = [
    dict(momentum=m, dampening=d, nesterov=n, weight_decay=w, maximize=x)
    for m, d, n, w, x in itertools.product((0, 0.9), (0, 0.3), (False, True), (0, 0.01), (False, True))
    if not n or (m > 0 and d == 0)
]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("opts", SGD_OPTIONS, ids=str)
def test_sgd(opts: dict, dtype: str) -> None:
    compare(lambda O, ps: O.SGD(ps, lr=0.0123, **opts), dtype=dtype)


ADAM_OPTIONS = [
    dict(amsgrad=a, weight_decay=w, maximize=x) for a, w, x in itertools.product((False, True), (0, 0.1), (False, True))
]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("opts", ADAM_OPTIONS, ids=str)
@pytest.mark.parametrize("cls", ["Adam", "AdamW"])
def test_adam(cls: str, opts: dict, dtype: str, ieee_sqrt: None) -> None:
    compare(lambda O, ps: getattr(O, cls)(ps, lr=0.01, betas=(0.8, 0.95), eps=1e-6, **opts), dtype=dtype)


RMSPROP_OPTIONS = [
    dict(centered=c, momentum=m, weight_decay=w, maximize=x)
    for c, m, w, x in itertools.product((False, True), (0, 0.5), (0, 0.1), (False, True))
]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("opts", RMSPROP_OPTIONS, ids=str)
def test_rmsprop(opts: dict, dtype: str, ieee_sqrt: None) -> None:
    compare(lambda O, ps: O.RMSprop(ps, lr=0.01, alpha=0.9, **opts), dtype=dtype)


ADAGRAD_OPTIONS = [
    dict(lr_decay=d, weight_decay=w, initial_accumulator_value=i, maximize=x)
    for d, w, i, x in itertools.product((0, 0.1), (0, 0.1), (0, 0.5), (False, True))
]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("opts", ADAGRAD_OPTIONS, ids=str)
def test_adagrad(opts: dict, dtype: str, ieee_sqrt: None) -> None:
    compare(lambda O, ps: O.Adagrad(ps, lr=0.1, **opts), dtype=dtype)


MAKERS = {
    "SGD": lambda O, ps: O.SGD(ps, lr=0.05, momentum=0.9, nesterov=True, weight_decay=0.01),
    "Adam": lambda O, ps: O.Adam(ps, lr=0.01, amsgrad=True, weight_decay=0.01),
    "AdamW": lambda O, ps: O.AdamW(ps, lr=0.01),
    "RMSprop": lambda O, ps: O.RMSprop(ps, lr=0.01, momentum=0.9, centered=True),
    "Adagrad": lambda O, ps: O.Adagrad(ps, lr=0.1, lr_decay=0.01),
}


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name", list(MAKERS))
def test_large_parameters(name: str, dtype: str, ieee_sqrt: None) -> None:
    # thousands of elements: any element whose rounding differs from torch's kernels shows up
    compare(MAKERS[name], shapes=[(64, 65), (4099,)], dtype=dtype, steps=4, skip=False)


@pytest.mark.parametrize("name", list(MAKERS))
def test_sqrt_optimizers_close_to_stock_torch(name: str) -> None:
    """Against torch's own (MKL) square root: within float32's rounding of the values that went in, and
    exact for SGD, which takes none."""
    shapes, steps = [(64, 65), (130,)], 6
    to, tps = train(torch, MAKERS[name], shapes, "float32", steps=steps)
    eo, eps = train(engine, MAKERS[name], shapes, "float32", steps=steps)
    for e, t in zip(eps, tps):
        ev, tv = host(e), host(t)
        if name == "SGD":
            assert_bits(e, t, "param")
        np.testing.assert_allclose(ev, tv, rtol=1e-6, atol=1e-6)


@FAST
@given(
    shapes=st.lists(st.lists(st.integers(0, 6), max_size=3).map(tuple), min_size=1, max_size=4),
    dtype=st.sampled_from(["float32", "float64"]),
    name=st.sampled_from(["SGD", "Adam", "AdamW", "RMSprop", "Adagrad"]),
    lr=st.sampled_from([1e-3, 0.1, 1.7]),
    wd=st.sampled_from([0, 1e-4, 0.5]),
    maximize=st.booleans(),
    seed=st.integers(0, 1000),
)
def test_random_problems(shapes: list, dtype: str, name: str, lr: float, wd: float, maximize: bool, seed: int) -> None:
    opts = {
        "SGD": dict(momentum=0.5, dampening=0.1),
        "Adam": dict(amsgrad=seed % 2 == 0),
        "AdamW": dict(betas=(0.5, 0.75)),
        "RMSprop": dict(centered=seed % 2 == 0, momentum=0.25),
        "Adagrad": dict(lr_decay=0.5, initial_accumulator_value=0.25),
    }[name]
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(torch.Tensor, "sqrt", _ieee_sqrt)
        mp.setattr(torch.Tensor, "sqrt_", _ieee_sqrt_)
        compare(
            lambda O, ps: getattr(O, name)(ps, lr=lr, weight_decay=wd, maximize=maximize, **opts),
            shapes,
            dtype,
            seed=seed,
        )


# ---- groups, lr changes, zero_grad, closures ----------------------------------------------------------------
def test_param_groups_with_their_own_options(ieee_sqrt: None) -> None:
    def make(O: Any, ps: list) -> Any:
        return O.Adam([{"params": ps[:2], "lr": 0.1, "amsgrad": True}, {"params": ps[2:]}], lr=0.01, betas=(0.5, 0.9))

    compare(make)

    def make_sgd(O: Any, ps: list) -> Any:
        opt = O.SGD(ps[:1], lr=0.1)
        opt.add_param_group({"params": ps[1:], "momentum": 0.5})
        return opt

    compare(make_sgd)


def test_adagrad_parameter_added_later(ieee_sqrt: None) -> None:
    def make(O: Any, ps: list) -> Any:
        opt = O.Adagrad(ps[:1], lr=0.1, initial_accumulator_value=0.5)
        opt.add_param_group({"params": ps[1:], "initial_accumulator_value": 3.0})  # (state from the defaults')
        return opt

    compare(make)


def test_lr_set_by_hand_is_used_by_the_next_step() -> None:
    res = {}
    for lib in (torch, engine):
        ps = params(lib, SHAPES, "float32", 3)
        opt = lib.optim.SGD(ps, lr=0.1, momentum=0.5)
        for k, row in enumerate(grads(SHAPES, "float32", 5, 3)):
            opt.param_groups[0]["lr"] = [0.1, 0.01, 0.5, 2.0, 0.0][k]
            for p, g in zip(ps, row):
                p.grad = None if g is None else lib.tensor(g)
            opt.step()
        res[lib] = (opt, ps)
    assert_same_optimizer(res[engine][0], res[torch][0], res[engine][1], res[torch][1])


def test_tensor_lr() -> None:
    for make in (
        lambda O, ps: O.SGD(ps, lr=optim_tensor(O, 0.1), momentum=0.5),
        lambda O, ps: O.Adam(ps, lr=optim_tensor(O, 0.01), weight_decay=0.1, decoupled_weight_decay=True),
        lambda O, ps: O.Adagrad(ps, lr=optim_tensor(O, 0.1), lr_decay=0.3),
        lambda O, ps: O.RMSprop(ps, lr=optim_tensor(O, 0.01), momentum=0.3),
    ):
        with pytest.MonkeyPatch.context() as mp:
            mp.setattr(torch.Tensor, "sqrt", _ieee_sqrt)
            compare(make)


def optim_tensor(O: Any, value: float) -> Any:
    lib = torch if O is torch.optim else engine
    return lib.tensor(value)


def test_quadratic_with_closure() -> None:
    """A real loss through autograd, stepped with a closure: the closure runs with grad enabled, the step
    returns its loss, and grad mode is restored afterwards."""
    res = {}
    for lib in (torch, engine):
        rng = np.random.default_rng(5)
        w = lib.tensor(rng.standard_normal((4, 3)).astype("float32"), requires_grad=True)
        target = lib.tensor(rng.standard_normal((4, 3)).astype("float32"))
        opt = lib.optim.SGD([w], lr=0.1, momentum=0.9)
        modes: list = []
        losses = []
        closure = _closure(lib, opt, w, target, modes)

        with lib.no_grad():
            first = opt.step(closure)
            after = lib.is_grad_enabled()
        for _ in range(10):
            losses.append(opt.step(closure).item())
        assert modes == [True] * 11 and after is False and lib.is_grad_enabled()
        assert opt.step() is None
        res[lib] = (opt, [w], first, losses)
    assert_same_optimizer(res[engine][0], res[torch][0], res[engine][1], res[torch][1])
    assert_bits(res[engine][2], res[torch][2], "first loss")
    import helpers

    if helpers.DEVICE == "cpu":
        assert res[engine][3] == res[torch][3]
    else:  # (a device sums in another order: the losses, not the parameters, may differ in the last bit)
        np.testing.assert_allclose(res[engine][3], res[torch][3], rtol=1e-6)


def _closure(lib: Any, opt: Any, w: Any, target: Any, modes: list) -> Callable:
    def closure() -> Any:
        modes.append(lib.is_grad_enabled())
        opt.zero_grad()
        loss = ((w - target) ** 2).sum()
        loss.backward()
        return loss

    return closure


@pytest.mark.parametrize("set_to_none", [True, False])
def test_zero_grad(set_to_none: bool) -> None:
    out = {}
    for lib in (torch, engine):
        a = lib.ones(3, requires_grad=True)
        b = lib.ones(2, requires_grad=True)
        c = lib.ones(2, requires_grad=True)
        (a * 2).sum().backward()
        b.grad = lib.ones(2, requires_grad=True) * 3  # a grad with a graph
        opt = lib.optim.SGD([a, b, c], lr=0.1)
        ga = a.grad
        opt.zero_grad(set_to_none=set_to_none)
        out[lib] = (a.grad, b.grad, c.grad, ga is a.grad, b.grad is not None and b.grad.grad_fn is None)
    e, t = out[engine], out[torch]
    assert e[3:] == t[3:]
    for x, y in zip(e[:3], t[:3]):
        assert (x is None) == (y is None)
        if y is not None:
            assert_bits(x, y, "grad")
            assert x.requires_grad == y.requires_grad


def test_step_writes_are_seen_by_autograd() -> None:
    """The update bumps the version counter as torch's in-place ops do: a graph that saved the parameter fails."""
    msgs = []
    for lib in (torch, engine):
        w = lib.tensor([1.0, 2.0, 3.0], requires_grad=True)
        y = (w * w).sum()
        w.grad = lib.ones(3)
        opt = lib.optim.Adam([w])
        opt.step()
        with pytest.raises(RuntimeError) as info:
            y.backward()
        msgs.append(str(info.value))
    assert msgs[0] == msgs[1]


def test_named_parameters_and_state_dict_names() -> None:
    def make(O: Any, ps: list) -> Any:
        return O.SGD([(f"p{i}", p) for i, p in enumerate(ps)], lr=0.1, momentum=0.9)

    compare(make)


# ---- state_dict ------------------------------------------------------------------------------------------
def test_state_dict_is_the_state_itself() -> None:
    for lib in (torch, engine):
        ps = params(lib, SHAPES, "float32", 0)
        opt = lib.optim.SGD(ps, lr=0.1, momentum=0.9)
        for p in ps:
            p.grad = lib.ones_like(p)
        opt.step()
        sd = opt.state_dict()
        assert sd["state"][0] is opt.state[ps[0]]  # the same dicts (not copies), in both
        assert sd["param_groups"][0] is not opt.param_groups[0]
        assert sd["param_groups"][0]["params"] == [0, 1, 2, 3]


@pytest.mark.parametrize("name", list(MAKERS))
def test_load_state_dict_then_continue(name: str, ieee_sqrt: None) -> None:
    """A new optimizer that loads another's state_dict continues exactly as the first would."""
    res = {}
    for lib in (torch, engine):
        ps = params(lib, SHAPES, "float32", 1)
        steps = grads(SHAPES, "float32", 6, 1)
        opt = MAKERS[name](lib.optim, ps)
        for row in steps[:3]:
            for p, g in zip(ps, row):
                p.grad = None if g is None else lib.tensor(g)
            opt.step()
        sd = opt.state_dict()
        opt2 = MAKERS[name](lib.optim, ps)
        opt2.param_groups[0]["lr"] = 123.0  # overwritten by the load
        opt2.load_state_dict(sd)
        shared = [opt2.state[ps[0]][k] is v for k, v in opt.state[ps[0]].items()]
        for row in steps[3:]:
            for p, g in zip(ps, row):
                p.grad = None if g is None else lib.tensor(g)
            opt2.step()
        res[lib] = (opt2, ps, shared)
    assert_same_optimizer(res[engine][0], res[torch][0], res[engine][1], res[torch][1])
    assert res[engine][2] == res[torch][2]


def test_load_state_dict_errors() -> None:
    def groups(lib: Any) -> Any:
        a, b = lib.ones(2, requires_grad=True), lib.ones(2, requires_grad=True)
        one = lib.optim.SGD([a, b], lr=0.1)
        two = lib.optim.SGD([{"params": [a]}, {"params": [b]}], lr=0.1)
        return one, two

    def wrong_groups(lib: Any) -> None:
        one, two = groups(lib)
        one.load_state_dict(two.state_dict())

    def wrong_size(lib: Any) -> None:
        one, _ = groups(lib)
        small = lib.optim.SGD([lib.ones(1, requires_grad=True)], lr=0.1)
        one.load_state_dict(small.state_dict())

    same_error(wrong_groups)
    same_error(wrong_size)


# ---- reprs ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "make",
    [
        lambda O, ps: O.SGD(ps),
        lambda O, ps: O.SGD(ps, lr=1, momentum=0.9, nesterov=True, weight_decay=1e-4),
        lambda O, ps: O.Adam(ps),
        lambda O, ps: O.AdamW(ps, betas=(0.5, 0.99), eps=1e-6, amsgrad=True),
        lambda O, ps: O.RMSprop(ps, centered=True),
        lambda O, ps: O.Adagrad(ps, lr_decay=0.1),
        lambda O, ps: O.Adam([{"params": ps[:1]}, {"params": ps[1:], "lr": 0.5, "betas": (0.1, 0.2)}]),
        lambda O, ps: O.SGD(ps, lr=optim_tensor(O, 0.25)),
    ],
)
def test_repr_and_param_group_keys(make: Callable) -> None:
    to = make(torch.optim, params(torch, SHAPES, "float32", 0))
    eo = make(engine.optim, params(engine, SHAPES, "float32", 0))
    assert cpu_repr(repr(eo)) == repr(to)
    assert [list(g) for g in eo.param_groups] == [list(g) for g in to.param_groups]
    assert repr(type(eo)) == repr(type(to))
    sched = {lib: lib.optim.lr_scheduler.ExponentialLR(o, 0.5) for lib, o in ((torch, to), (engine, eo))}
    assert cpu_repr(repr(eo)) == repr(to)  # now with initial_lr
    assert repr(type(sched[engine])) == repr(type(sched[torch]))


def test_class_names() -> None:
    for name in ("Optimizer", "SGD", "Adam", "AdamW", "RMSprop", "Adagrad"):
        assert repr(getattr(engine.optim, name)) == repr(getattr(torch.optim, name))

    class Mine(engine.optim.SGD):
        pass

    assert repr(Mine).endswith(".Mine'>") and "torch.optim" not in repr(Mine)


# ---- errors ----------------------------------------------------------------------------------------------
def same_error(fn: Callable) -> None:
    errs = []
    for lib in (torch, engine):
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                fn(lib)
        except Exception as e:  # noqa: BLE001 - the point is to compare whatever is raised
            errs.append((type(e).__name__, cpu_repr(str(e))))
        else:
            errs.append(None)
    assert errs[0] is not None, "torch did not raise"
    assert errs[1] == errs[0], f"\nengine: {errs[1]}\ntorch:  {errs[0]}"


def p1(lib: Any) -> Any:
    return lib.ones(2, requires_grad=True)


ERRORS = {
    "bare tensor": lambda lib: lib.optim.SGD(p1(lib), lr=0.1),
    "bare double tensor": lambda lib: lib.optim.Adam(lib.ones(2, dtype=lib.float64)),
    "empty": lambda lib: lib.optim.SGD([], lr=0.1),
    "empty generator": lambda lib: lib.optim.Adam(iter([])),
    "non-leaf": lambda lib: lib.optim.SGD([p1(lib) * 2], lr=0.1),
    "not a tensor": lambda lib: lib.optim.SGD([p1(lib), 3], lr=0.1),
    "a list inside": lambda lib: lib.optim.SGD([[p1(lib)]], lr=0.1),
    "not iterable": lambda lib: lib.optim.SGD(5, lr=0.1),
    "a set": lambda lib: lib.optim.SGD([{"params": {p1(lib)}}], lr=0.1),
    "group not a dict": lambda lib: lib.optim.SGD([p1(lib)]).add_param_group([p1(lib)]),
    "group without params": lambda lib: lib.optim.SGD([p1(lib)]).add_param_group({"lr": 0.1}),
    "in two groups": lambda lib: (lambda p: lib.optim.SGD([{"params": [p]}, {"params": [p]}]))(p1(lib)),
    "names missing": lambda lib: lib.optim.SGD([("a", p1(lib)), p1(lib)]),
    "names in one group": lambda lib: lib.optim.SGD([{"params": [("a", p1(lib))]}, {"params": [p1(lib)]}]),
    "sgd lr": lambda lib: lib.optim.SGD([p1(lib)], lr=-0.5),
    "sgd momentum": lambda lib: lib.optim.SGD([p1(lib)], momentum=-1),
    "sgd weight_decay": lambda lib: lib.optim.SGD([p1(lib)], weight_decay=-1e-3),
    "sgd nesterov": lambda lib: lib.optim.SGD([p1(lib)], lr=0.1, nesterov=True),
    "sgd nesterov dampening": lambda lib: lib.optim.SGD([p1(lib)], momentum=0.9, dampening=0.1, nesterov=True),
    "sgd tensor lr": lambda lib: lib.optim.SGD([p1(lib)], lr=lib.ones(2)),
    "sgd fused differentiable": lambda lib: lib.optim.SGD([p1(lib)], fused=True, differentiable=True),
    "adam lr": lambda lib: lib.optim.Adam([p1(lib)], lr=-1.0),
    "adam eps": lambda lib: lib.optim.Adam([p1(lib)], eps=-1.0),
    "adam beta0": lambda lib: lib.optim.Adam([p1(lib)], betas=(1.0, 0.9)),
    "adam beta1": lambda lib: lib.optim.Adam([p1(lib)], betas=(0.9, -0.1)),
    "adam weight_decay": lambda lib: lib.optim.AdamW([p1(lib)], weight_decay=-1.0),
    "adam int betas": lambda lib: lib.optim.Adam([p1(lib)], betas=(0, 0.9)),
    "adam tensor lr": lambda lib: lib.optim.Adam([p1(lib)], lr=lib.ones(3)),
    "adam fused foreach": lambda lib: lib.optim.Adam([p1(lib)], fused=True, foreach=True),
    "rmsprop lr": lambda lib: lib.optim.RMSprop([p1(lib)], lr=-1.0),
    "rmsprop eps": lambda lib: lib.optim.RMSprop([p1(lib)], eps=-1.0),
    "rmsprop momentum": lambda lib: lib.optim.RMSprop([p1(lib)], momentum=-1.0),
    "rmsprop weight_decay": lambda lib: lib.optim.RMSprop([p1(lib)], weight_decay=-1.0),
    "rmsprop alpha": lambda lib: lib.optim.RMSprop([p1(lib)], alpha=-1.0),
    "adagrad lr": lambda lib: lib.optim.Adagrad([p1(lib)], lr=-1.0),
    "adagrad lr_decay": lambda lib: lib.optim.Adagrad([p1(lib)], lr_decay=-1.0),
    "adagrad weight_decay": lambda lib: lib.optim.Adagrad([p1(lib)], weight_decay=-1.0),
    "adagrad initial": lambda lib: lib.optim.Adagrad([p1(lib)], initial_accumulator_value=-1.0),
    "adagrad eps": lambda lib: lib.optim.Adagrad([p1(lib)], eps=-1.0),
    "base step": lambda lib: lib.optim.Optimizer([p1(lib)], {}).step(),
    "amsgrad switched on": lambda lib: _amsgrad_on(lib),
}


def _amsgrad_on(lib: Any) -> None:
    p = p1(lib)
    opt = lib.optim.Adam([p])
    p.grad = lib.ones(2)
    opt.step()
    opt.param_groups[0]["amsgrad"] = True
    opt.step()


@pytest.mark.parametrize("name", list(ERRORS))
def test_errors(name: str) -> None:
    same_error(ERRORS[name])


def test_duplicate_parameter_warns() -> None:
    msgs = []
    for lib in (torch, engine):
        p = p1(lib)
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            opt = lib.optim.SGD([p, p], lr=0.1)
        msgs.append([str(x.message) for x in w if x.category is UserWarning])
        assert len(opt.param_groups[0]["params"]) == 2
    assert msgs[0] == msgs[1] and len(msgs[0]) == 1


@pytest.mark.parametrize(
    "make",
    [
        lambda O, ps: O.SGD(ps, fused=True),
        lambda O, ps: O.Adam(ps, differentiable=True),
        lambda O, ps: O.AdamW(ps, capturable=True),
        lambda O, ps: O.RMSprop(ps, differentiable=True),
        lambda O, ps: O.Adagrad(ps, fused=True),
    ],
)
def test_other_implementations_are_not_covered(make: Callable) -> None:
    with pytest.raises(NotImplementedError, match=r"=True selects one of torch's other implementations"):
        make(engine.optim, [p1(engine)])
    opt = engine.optim.SGD([p1(engine)])
    opt.param_groups[0]["differentiable"] = True  # (a group can ask for it too)
    opt.param_groups[0]["params"][0].grad = engine.ones(2)
    with pytest.raises(NotImplementedError, match="differentiable=True"):
        opt.step()


# ---- learning-rate schedulers -------------------------------------------------------------------------------
class Halve:
    """A callable object (its __dict__ is what LambdaLR's state_dict keeps)."""

    def __init__(self) -> None:
        self.base = 0.5

    def __call__(self, epoch: int) -> float:
        return self.base**epoch


SCHEDULERS = {
    "StepLR": lambda S, o: S.StepLR(o, step_size=3, gamma=0.5),
    "MultiStepLR": lambda S, o: S.MultiStepLR(o, milestones=[2, 5, 5, 9], gamma=0.3),
    "ExponentialLR": lambda S, o: S.ExponentialLR(o, gamma=0.9),
    "LambdaLR": lambda S, o: S.LambdaLR(o, lambda e: 1.0 / (e + 1)),
    "LambdaLR per group": lambda S, o: S.LambdaLR(o, [lambda e: 0.9**e, Halve()]),
    "MultiplicativeLR": lambda S, o: S.MultiplicativeLR(o, lambda e: 0.95),
    "CosineAnnealingLR": lambda S, o: S.CosineAnnealingLR(o, T_max=4, eta_min=1e-3),
    "LinearLR": lambda S, o: S.LinearLR(o, start_factor=0.25, end_factor=0.75, total_iters=6),
    "LinearLR defaults": lambda S, o: S.LinearLR(o),
    "ConstantLR": lambda S, o: S.ConstantLR(o, factor=0.5, total_iters=3),
    "PolynomialLR": lambda S, o: S.PolynomialLR(o, total_iters=8, power=2.0),
}


def two_groups(lib: Any) -> Any:
    ps = params(lib, [(3,), (2,)], "float32", 0)
    return lib.optim.SGD([{"params": ps[:1]}, {"params": ps[1:], "lr": 0.5}], lr=0.1, momentum=0.9), ps


@pytest.mark.parametrize("name", list(SCHEDULERS))
def test_scheduler_sequence(name: str) -> None:
    out = {}
    for lib in (torch, engine):
        opt, ps = two_groups(lib)
        sched = SCHEDULERS[name](lib.optim.lr_scheduler, opt)
        seq = [sched.get_last_lr()]
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # the right order warns about nothing
            for _ in range(14):
                for p in ps:
                    p.grad = lib.ones_like(p)
                opt.step()
                sched.step()
                seq.append(sched.get_last_lr())
        sd = sched.state_dict()
        out[lib] = (seq, [g["lr"] for g in opt.param_groups], sd, opt, ps)
    e, t = out[engine], out[torch]
    assert_tree(e[0], t[0], "get_last_lr() sequence")
    assert_tree(e[1], t[1], "lrs")
    assert_tree(e[2], t[2], "scheduler state_dict")
    assert_same_optimizer(e[3], t[3], e[4], t[4])


@pytest.mark.parametrize(
    "name", ["StepLR", "MultiStepLR", "ExponentialLR", "CosineAnnealingLR", "LinearLR", "PolynomialLR"]
)
def test_scheduler_closed_form_with_epoch(name: str) -> None:
    out = {}
    for lib in (torch, engine):
        opt, _ = two_groups(lib)
        sched = SCHEDULERS[name](lib.optim.lr_scheduler, opt)
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            seq = []
            for epoch in (3, 7, 1, 12):
                sched.step(epoch)
                seq.append(sched.get_last_lr())
        out[lib] = (seq, [str(x.message) for x in w])
    assert_tree(out[engine][0], out[torch][0])
    assert out[engine][1] == out[torch][1]


def test_scheduler_state_dict_round_trip() -> None:
    out = {}
    for lib in (torch, engine):
        opt, _ = two_groups(lib)
        S = lib.optim.lr_scheduler
        a = S.LambdaLR(opt, [lambda e: 0.9**e, Halve()])
        for _ in range(3):
            opt.step()
            a.step()
        sd = a.state_dict()
        opt2, _ = two_groups(lib)
        halve = Halve()
        b = S.LambdaLR(opt2, [lambda e: 1.0, halve])
        halve.base = 0.1
        b.load_state_dict(sd)
        out[lib] = (sd, halve.base, b.last_epoch, b.get_last_lr(), sorted(sd))
    assert_tree(out[engine], out[torch])


def test_scheduler_with_tensor_lr() -> None:
    out = {}
    for lib in (torch, engine):
        ps = params(lib, [(3,)], "float32", 0)
        opt = lib.optim.SGD(ps, lr=lib.tensor(0.5))
        sched = lib.optim.lr_scheduler.ExponentialLR(opt, gamma=0.5)
        lr = opt.param_groups[0]["lr"]
        for _ in range(3):
            ps[0].grad = lib.ones(3)
            opt.step()
            sched.step()
        out[lib] = (sched.get_last_lr(), opt.param_groups[0]["lr"] is lr, opt.param_groups[0]["lr"], ps)
    assert_tree(out[engine][:3], out[torch][:3])
    assert_bits(out[engine][3][0], out[torch][3][0], "param")


def test_reduce_lr_on_plateau() -> None:
    metrics = [1.0, 0.9, 0.95, 0.97, 0.91, 0.99, 0.85, 0.86, 0.87, 0.88, 0.89, 0.9, 0.8, 0.81, 0.82, 0.83]
    for kw in (
        dict(patience=2, factor=0.5),
        dict(mode="max", patience=1, threshold=0.01, threshold_mode="abs", cooldown=2, min_lr=[0.01, 0.2]),
        dict(patience=0, factor=0.1, min_lr=0.004, eps=1e-3),
    ):
        out = {}
        for lib in (torch, engine):
            opt, _ = two_groups(lib)
            sched = lib.optim.lr_scheduler.ReduceLROnPlateau(opt, **kw)
            seq = []
            for m in metrics:
                sched.step(lib.tensor(m))
                seq.append((sched.get_last_lr(), sched.num_bad_epochs, sched.cooldown_counter, sched.best))
            out[lib] = (seq, sched.state_dict())
        assert_tree(out[engine], out[torch])


SCHEDULER_ERRORS = {
    "not an optimizer": lambda lib: lib.optim.lr_scheduler.StepLR(object(), 2),
    "plateau not an optimizer": lambda lib: lib.optim.lr_scheduler.ReduceLROnPlateau([1]),
    "lambdas count": lambda lib: lib.optim.lr_scheduler.LambdaLR(two_groups(lib)[0], [lambda e: 1.0]),
    "multiplicative not callable": lambda lib: lib.optim.lr_scheduler.MultiplicativeLR(two_groups(lib)[0], 3),
    "constant factor": lambda lib: lib.optim.lr_scheduler.ConstantLR(two_groups(lib)[0], factor=2.0),
    "linear start": lambda lib: lib.optim.lr_scheduler.LinearLR(two_groups(lib)[0], start_factor=0.0),
    "linear end": lambda lib: lib.optim.lr_scheduler.LinearLR(two_groups(lib)[0], end_factor=1.5),
    "plateau factor": lambda lib: lib.optim.lr_scheduler.ReduceLROnPlateau(two_groups(lib)[0], factor=1.0),
    "plateau mode": lambda lib: lib.optim.lr_scheduler.ReduceLROnPlateau(two_groups(lib)[0], mode="up"),
    "plateau threshold mode": lambda lib: lib.optim.lr_scheduler.ReduceLROnPlateau(
        two_groups(lib)[0], threshold_mode="x"
    ),
    "plateau min_lrs": lambda lib: lib.optim.lr_scheduler.ReduceLROnPlateau(two_groups(lib)[0], min_lr=[0.1]),
    "resume without initial_lr": lambda lib: lib.optim.lr_scheduler.StepLR(two_groups(lib)[0], 2, last_epoch=3),
    "base get_lr": lambda lib: lib.optim.lr_scheduler.LRScheduler(two_groups(lib)[0]),
}


@pytest.mark.parametrize("name", list(SCHEDULER_ERRORS))
def test_scheduler_errors(name: str) -> None:
    same_error(SCHEDULER_ERRORS[name])


def test_scheduler_warnings() -> None:
    def before(lib: Any) -> None:
        opt, _ = two_groups(lib)
        sched = lib.optim.lr_scheduler.StepLR(opt, 2)
        sched.step()  # before any optimizer.step()

    def get_lr(lib: Any) -> None:
        opt, _ = two_groups(lib)
        lib.optim.lr_scheduler.StepLR(opt, 2).get_lr()

    def overridden(lib: Any) -> None:
        opt, _ = two_groups(lib)
        sched = lib.optim.lr_scheduler.StepLR(opt, 2)
        opt.step = lambda closure=None: None
        sched.step()

    for fn in (before, get_lr, overridden):
        msgs = []
        for lib in (torch, engine):
            with warnings.catch_warnings(record=True) as w:
                warnings.simplefilter("always")
                fn(lib)
            msgs.append([(x.category.__name__, str(x.message)) for x in w])
        assert msgs[0] == msgs[1] and msgs[0], fn.__name__


def test_scheduler_wraps_step_once() -> None:
    opt, _ = two_groups(engine)
    S = engine.optim.lr_scheduler
    S.StepLR(opt, 2)
    wrapped = opt.step
    S.ExponentialLR(opt, 0.5)
    assert opt.step is wrapped and wrapped._wrapped_by_lr_sched
    assert not hasattr(opt, "_opt_called")
    opt.step()
    assert opt._opt_called is True


# ---- dtypes the engine does not round as torch does --------------------------------------------------------
def test_float16_parameters_are_close() -> None:
    make = lambda O, ps: O.SGD(ps, lr=0.1, momentum=0.9)  # noqa: E731
    to, tps = train(torch, make, SHAPES, "float16")
    eo, eps = train(engine, make, SHAPES, "float16")
    for e, t in zip(eps, tps):
        assert str(e.dtype) == "torch.float16"
        np.testing.assert_allclose(host(e).astype(np.float32), host(t).astype(np.float32), rtol=2e-3, atol=2e-3)


# ---- the package --------------------------------------------------------------------------------------------
def test_import_engine_does_not_import_optim() -> None:
    code = "import sys, engine; assert 'engine.optim' not in sys.modules; import engine.optim; print('ok')"
    r = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert r.stdout.strip() == "ok", r.stderr


# ---- the fused multiply-add emulation on the inputs where it is hardest ----------------------------------------
def test_fused_multiply_add_near_ties() -> None:
    """Products whose exact value sits at (or a hair off) the halfway point between two results, where a
    product rounded first, or a float32 sum rounded through float64, rounds the wrong way: against torch's
    addcmul (one fused multiply-add), through the kernels the optimizers use."""
    from engine.optim import _kernels as K

    rng = np.random.default_rng(0)
    n = 50000
    for dtype, bits, tiny in (("float32", 12, (2.0**-40, 2.0**-70)), ("float64", 27, (2.0**-80, 2.0**-120))):
        a, b = rng.integers(-(2**bits), 2**bits, (2, n))
        x = (1 + a * 2.0**-bits).astype(dtype)
        y = (1 + b * 2.0**-bits).astype(dtype)
        z = rng.choice([tiny[0], -tiny[0], tiny[1], -tiny[1], 0.0], n) - rng.choice([0.0, 1.0, 2.0], n) * (
            dtype == "float64"
        )
        z = z.astype(dtype)
        want = torch.addcmul(torch.tensor(z), torch.tensor(x), torch.tensor(y)).numpy()
        naive = (x.astype(np.float64) * y + z).astype(dtype) if dtype == "float32" else x * y + z
        assert (naive != want).sum() > 100  # (the inputs do make rounding twice go wrong)
        # (on the test's device: a device array takes the kernels' unconditional path)
        got, ex, ey = (engine.tensor(v) for v in (z, x, y))
        K.addcmul_(got._data, ex._data, ey._data, 1.0)
        np.testing.assert_array_equal(host(got), want)
        got = engine.tensor(z)
        K.add_(got._data, ex._data, float(y[0]))  # a.add_(b, alpha=s): fma(b, s, a)
        np.testing.assert_array_equal(host(got), torch.tensor(z).add_(torch.tensor(x), alpha=float(y[0])).numpy())


def test_step_counter_dtype_follows_the_default_dtype() -> None:
    out = {}
    for lib in (torch, engine):
        prev = lib.get_default_dtype()
        lib.set_default_dtype(lib.float64)
        try:
            ps = params(lib, [(3,)], "float32", 0)
            opts = [lib.optim.Adam(ps), lib.optim.RMSprop(ps), lib.optim.Adagrad(ps)]
            ps[0].grad = lib.ones(3, dtype=lib.float32)
            for o in opts:
                o.step()
            out[lib] = [o.state[ps[0]]["step"] for o in opts]
        finally:
            lib.set_default_dtype(prev)
    assert_tree(out[engine], out[torch])


def test_deepcopy() -> None:
    import copy

    out = {}
    for lib in (torch, engine):
        ps = params(lib, SHAPES, "float32", 0)
        opt = lib.optim.SGD(ps, lr=0.1, momentum=0.9)
        for p in ps:
            p.grad = lib.ones_like(p)
        opt.step()
        twin = copy.deepcopy(opt)
        out[lib] = (twin.state_dict(), repr(twin), twin.param_groups[0]["params"][0] is ps[0])
    assert_tree(out[engine][0], out[torch][0])
    assert cpu_repr(out[engine][1]) == out[torch][1] and out[engine][2] == out[torch][2]


def test_user_subclass() -> None:
    """An optimizer written by subclassing Optimizer, as tutorials do (its step runs the library's ops)."""
    out = {}
    for lib in (torch, engine):

        class PlainSGD(lib.optim.Optimizer):
            def __init__(self, params: Any, lr: float = 0.01) -> None:
                super().__init__(params, {"lr": lr})

            @lib.no_grad()
            def step(self, closure: Any = None) -> Any:
                for group in self.param_groups:
                    for p in group["params"]:
                        if p.grad is not None:
                            self.state[p]["seen"] = self.state[p].get("seen", 0) + 1
                            p.sub_(group["lr"] * p.grad)  # (a product, then a difference: both round alike)

        ps = params(lib, SHAPES, "float32", 0)
        opt = PlainSGD(ps, lr=0.1)
        sched = lib.optim.lr_scheduler.StepLR(opt, 1, gamma=0.5)
        for row in grads(SHAPES, "float32", 4, 0):
            for p, g in zip(ps, row):
                p.grad = None if g is None else lib.tensor(g)
            opt.step()
            sched.step()
        out[lib] = (opt, ps, repr(type(opt)).rsplit(".", 1)[-1])
    assert_same_optimizer(out[engine][0], out[torch][0], out[engine][1], out[torch][1])
    assert out[engine][2] == out[torch][2] == "PlainSGD'>"


def test_host_narrows_what_counts_as_a_stateful_callable() -> None:
    """A host (tcli) narrows which callables state_dict keeps the __dict__ of: others are saved as None, as torch
    saves a Python lambda, and load_state_dict leaves them alone."""
    S = engine.optim.lr_scheduler

    class ScriptFunction:
        __slots__ = ()

        def __call__(self, epoch: int) -> float:
            return 0.5

    opt, _ = two_groups(engine)
    sched = S.LambdaLR(opt, ScriptFunction())
    with pytest.raises(AttributeError):
        sched.state_dict()
    S._stateful = lambda fn: not isinstance(fn, ScriptFunction)
    try:
        assert sched.state_dict()["lr_lambdas"] == [None, None]
        sched.load_state_dict(sched.state_dict())
    finally:
        S._stateful = S._stateful_default
    with pytest.raises(KeyError, match="unexpected key in a scheduler's state_dict: '_new'"):
        sched.load_state_dict({"lr_lambdas": [None, None], "_new": 1})


# ---- the schedulers that drive others, cycle the lr or restart it ---------------------------------------------
def adam_two_groups(lib: Any) -> Any:
    ps = params(lib, [(3,), (2,)], "float32", 0)
    return lib.optim.Adam([{"params": ps[:1]}, {"params": ps[1:], "lr": 0.5}], lr=0.1, betas=(0.9, 0.99)), ps


class Scale:
    """A callable object as CyclicLR's scale_fn (its __dict__ is what state_dict keeps)."""

    def __init__(self) -> None:
        self.base = 0.8

    def __call__(self, x: float) -> float:
        return self.base**x


MORE_SCHEDULERS = {
    "SequentialLR": lambda S, o: S.SequentialLR(
        o, [S.LinearLR(o, start_factor=0.1, total_iters=5), S.CosineAnnealingLR(o, T_max=10, eta_min=1e-3)], [5]
    ),
    "SequentialLR three": lambda S, o: S.SequentialLR(
        o, [S.ConstantLR(o, factor=0.3, total_iters=4), S.ExponentialLR(o, 0.9), S.StepLR(o, 3, 0.5)], [4, 12]
    ),
    "ChainedScheduler": lambda S, o: S.ChainedScheduler(
        [S.ConstantLR(o, factor=0.5, total_iters=4), S.ExponentialLR(o, gamma=0.9)]
    ),
    "ChainedScheduler with optimizer": lambda S, o: S.ChainedScheduler(
        [S.LinearLR(o, start_factor=0.2, total_iters=6), S.CosineAnnealingLR(o, T_max=7)], optimizer=o
    ),
    "CyclicLR": lambda S, o: S.CyclicLR(o, base_lr=0.01, max_lr=0.1, step_size_up=4),
    "CyclicLR triangular2": lambda S, o: S.CyclicLR(
        o, base_lr=[0.01, 0.02], max_lr=[0.1, 0.3], step_size_up=3, step_size_down=5, mode="triangular2"
    ),
    "CyclicLR exp_range": lambda S, o: S.CyclicLR(
        o, 0.01, 0.1, step_size_up=5, mode="exp_range", gamma=0.97, base_momentum=0.7, max_momentum=0.95
    ),
    "CyclicLR scale_fn": lambda S, o: S.CyclicLR(o, 0.01, 0.1, step_size_up=3, scale_fn=Scale()),
    "CyclicLR scale_fn iterations": lambda S, o: S.CyclicLR(
        o, 0.01, 0.1, step_size_up=3, scale_fn=lambda x: 0.99**x, scale_mode="iterations"
    ),
    "CyclicLR no momentum": lambda S, o: S.CyclicLR(o, 0.01, 0.1, step_size_up=6, cycle_momentum=False),
    "CosineAnnealingWarmRestarts": lambda S, o: S.CosineAnnealingWarmRestarts(o, T_0=3, T_mult=2, eta_min=1e-3),
    "CosineAnnealingWarmRestarts T_mult=1": lambda S, o: S.CosineAnnealingWarmRestarts(o, T_0=4),
    "OneCycleLR": lambda S, o: S.OneCycleLR(o, max_lr=0.1, total_steps=30),
    "OneCycleLR epochs": lambda S, o: S.OneCycleLR(
        o, max_lr=[0.1, 0.4], epochs=5, steps_per_epoch=6, pct_start=0.25, anneal_strategy="linear"
    ),
    "OneCycleLR three_phase": lambda S, o: S.OneCycleLR(
        o, max_lr=0.2, total_steps=30, three_phase=True, div_factor=10.0, final_div_factor=100.0
    ),
    "OneCycleLR three_phase linear": lambda S, o: S.OneCycleLR(
        o, 0.2, total_steps=30, three_phase=True, anneal_strategy="linear", base_momentum=[0.8, 0.7]
    ),
    "OneCycleLR no momentum": lambda S, o: S.OneCycleLR(o, 0.1, total_steps=30, cycle_momentum=False),
}


@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
@pytest.mark.parametrize("name", list(MORE_SCHEDULERS))
def test_more_scheduler_sequences(name: str, optimizer: str, ieee_sqrt: None) -> None:
    """30 steps (OneCycleLR's total_steps less its initial one): each get_last_lr() and each group's momentum
    (SGD) or betas (Adam), then the state_dict and the parameters (Adam's square root as IEEE's: MKL's differs
    in the last bit on some processors, AVX-512 ones among them)."""
    out = {}
    for lib in (torch, engine):
        opt, ps = (two_groups if optimizer == "sgd" else adam_two_groups)(lib)
        key = "momentum" if optimizer == "sgd" else "betas"
        sched = MORE_SCHEDULERS[name](lib.optim.lr_scheduler, opt)
        seq = [(sched.get_last_lr(), [g[key] for g in opt.param_groups])]
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # the right order warns about nothing
            for _ in range(29):
                for p in ps:
                    p.grad = lib.ones_like(p)
                opt.step()
                sched.step()
                seq.append((sched.get_last_lr(), [g[key] for g in opt.param_groups]))
        out[lib] = (seq, [dict(g, params=None) for g in opt.param_groups], sched.state_dict(), opt, ps)
    e, t = out[engine], out[torch]
    assert e[0] == t[0]  # plain floats: exactly equal
    assert_tree(e[0], t[0], "get_last_lr() and momentum sequence")
    assert_tree(e[1], t[1], "param_groups")
    assert_tree(e[2], t[2], "scheduler state_dict")
    assert_same_optimizer(e[3], t[3], e[4], t[4])
    assert repr(type(MORE_SCHEDULERS[name](engine.optim.lr_scheduler, two_groups(engine)[0]))) == repr(
        type(MORE_SCHEDULERS[name](torch.optim.lr_scheduler, two_groups(torch)[0]))
    )


def test_cosine_warm_restarts_fractional_epochs() -> None:
    out = {}
    for lib in (torch, engine):
        opt, _ = two_groups(lib)
        sched = lib.optim.lr_scheduler.CosineAnnealingWarmRestarts(opt, T_0=2, T_mult=2, eta_min=0.01)
        seq = []
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # (no optimizer.step() here)
            for epoch in range(8):
                for i in range(4):
                    sched.step(epoch + i / 4)
                    seq.append((sched.get_last_lr(), sched.T_cur, sched.T_i, sched.last_epoch))
            for epoch in (26, None, 3.5, None, 0, 13.25):  # jumping around, then plain steps in between
                sched.step(epoch)
                seq.append((sched.get_last_lr(), sched.T_cur, sched.T_i, sched.last_epoch))
        out[lib] = (seq, sched.state_dict())
    assert out[engine][0] == out[torch][0]
    assert_tree(out[engine], out[torch])


def test_more_scheduler_state_dict_round_trip() -> None:
    out = {}
    for lib in (torch, engine):
        S = lib.optim.lr_scheduler
        opt, _ = two_groups(lib)
        a = S.CyclicLR(opt, 0.01, 0.1, step_size_up=3, scale_fn=Scale())
        a._scale_fn_custom.base = 0.5
        seq = MORE_SCHEDULERS["SequentialLR"](S, opt)
        for _ in range(7):
            opt.step()
            a.step()
            seq.step()
        sd_a, sd_seq = a.state_dict(), seq.state_dict()
        opt2, _ = two_groups(lib)
        b = S.CyclicLR(opt2, 0.01, 0.1, step_size_up=3, scale_fn=Scale())
        b.load_state_dict(sd_a)
        seq2 = MORE_SCHEDULERS["SequentialLR"](S, opt2)
        seq2.load_state_dict(sd_seq)
        opt2.step()
        b.step()
        seq2.step()
        out[lib] = (sd_a, sd_seq, b._scale_fn_custom.base, b.get_last_lr(), seq2.get_last_lr(), sorted(sd_seq))
    assert_tree(out[engine], out[torch])


MORE_SCHEDULER_ERRORS = {
    "onecycle past total_steps": lambda lib: [
        s.step() for s in [lib.optim.lr_scheduler.OneCycleLR(two_groups(lib)[0], 0.1, total_steps=5)] for _ in range(6)
    ],
    "onecycle anneal_strategy": lambda lib: lib.optim.lr_scheduler.OneCycleLR(
        two_groups(lib)[0], 0.1, total_steps=5, anneal_strategy="exp"
    ),
    "onecycle no total": lambda lib: lib.optim.lr_scheduler.OneCycleLR(two_groups(lib)[0], 0.1, epochs=3),
    "onecycle total_steps": lambda lib: lib.optim.lr_scheduler.OneCycleLR(two_groups(lib)[0], 0.1, total_steps=0),
    "onecycle epochs": lambda lib: lib.optim.lr_scheduler.OneCycleLR(
        two_groups(lib)[0], 0.1, epochs=2.0, steps_per_epoch=3
    ),
    "onecycle pct_start": lambda lib: lib.optim.lr_scheduler.OneCycleLR(
        two_groups(lib)[0], 0.1, total_steps=5, pct_start=1
    ),
    "onecycle max_lr count": lambda lib: lib.optim.lr_scheduler.OneCycleLR(two_groups(lib)[0], [0.1], total_steps=5),
    "onecycle no momentum": lambda lib: lib.optim.lr_scheduler.OneCycleLR(
        lib.optim.Adagrad([p1(lib)]), 0.1, total_steps=5
    ),
    "cyclic mode": lambda lib: lib.optim.lr_scheduler.CyclicLR(two_groups(lib)[0], 0.01, 0.1, mode="sine"),
    "cyclic not an optimizer": lambda lib: lib.optim.lr_scheduler.CyclicLR([1], 0.01, 0.1),
    "cyclic no momentum": lambda lib: lib.optim.lr_scheduler.CyclicLR(lib.optim.Adagrad([p1(lib)]), 0.01, 0.1),
    "cyclic base_momentum count": lambda lib: lib.optim.lr_scheduler.CyclicLR(
        two_groups(lib)[0], 0.01, 0.1, base_momentum=[0.8, 0.8, 0.8]
    ),
    "warm restarts T_0": lambda lib: lib.optim.lr_scheduler.CosineAnnealingWarmRestarts(two_groups(lib)[0], 0),
    "warm restarts T_mult": lambda lib: lib.optim.lr_scheduler.CosineAnnealingWarmRestarts(
        two_groups(lib)[0], 2, T_mult=1.5
    ),
    "warm restarts eta_min": lambda lib: lib.optim.lr_scheduler.CosineAnnealingWarmRestarts(
        two_groups(lib)[0], 2, eta_min="0"
    ),
    "warm restarts negative epoch": lambda lib: lib.optim.lr_scheduler.CosineAnnealingWarmRestarts(
        two_groups(lib)[0], 2
    ).step(-1),
    "sequential empty": lambda lib: lib.optim.lr_scheduler.SequentialLR(two_groups(lib)[0], [], []),
    "sequential milestones": lambda lib: (
        lambda S, o: S.SequentialLR(o, [S.StepLR(o, 2), S.ExponentialLR(o, 0.9)], [2, 4])
    )(lib.optim.lr_scheduler, two_groups(lib)[0]),
    "sequential plateau": lambda lib: (lambda S, o: S.SequentialLR(o, [S.StepLR(o, 2), S.ReduceLROnPlateau(o)], [2]))(
        lib.optim.lr_scheduler, two_groups(lib)[0]
    ),
    "sequential not a scheduler": lambda lib: lib.optim.lr_scheduler.SequentialLR(two_groups(lib)[0], [3], []),
    "chained empty": lambda lib: lib.optim.lr_scheduler.ChainedScheduler([]),
    "chained plateau": lambda lib: (lambda S, o: S.ChainedScheduler([S.StepLR(o, 2), S.ReduceLROnPlateau(o)]))(
        lib.optim.lr_scheduler, two_groups(lib)[0]
    ),
}


@pytest.mark.parametrize("name", list(MORE_SCHEDULER_ERRORS))
def test_more_scheduler_errors(name: str) -> None:
    same_error(MORE_SCHEDULER_ERRORS[name])


def test_more_scheduler_class_names() -> None:
    for name in ("SequentialLR", "ChainedScheduler", "CyclicLR", "CosineAnnealingWarmRestarts", "OneCycleLR"):
        assert name in engine.optim.lr_scheduler.__all__
        assert repr(getattr(engine.optim.lr_scheduler, name)) == repr(getattr(torch.optim.lr_scheduler, name))
