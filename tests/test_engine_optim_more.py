"""engine.optim's other optimizers against torch.optim (the oracle, on the cpu): Adadelta, Adamax, NAdam, RAdam,
Rprop, ASGD and LBFGS, with test_engine_optim's machinery: the same parameters and fixed gradients go to both
libraries for several steps, and parameters, state (with version counters), state_dict, param_groups and repr
must then be bit-identical (with IEEE's square root in torch for the optimizers that take one: see
test_engine_optim's `ieee_sqrt`); constructor errors raise torch's exceptions with torch's messages.

LBFGS computes with reductions (dot products, sums) whose order of summation is BLAS's in torch: it is compared
to tolerance on real problems, its state's layout exactly."""

from __future__ import annotations

import itertools
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from test_engine_optim import (
    SHAPES,
    _ieee_sqrt,
    _ieee_sqrt_,
    assert_same_optimizer,
    compare,
    cpu_repr,
    grads,
    host,
    ieee_sqrt,  # noqa: F401 - a fixture
    optim_tensor,
    p1,
    params,
    same_error,
    train,
)

import engine
import engine.optim

torch = pytest.importorskip("torch")

pytestmark = pytest.mark.usefixtures("device")

QA = Path("/work/qa_train/progs")


# ---- each optimizer over its options ----------------------------------------------------------------------
ADADELTA_OPTIONS = [
    dict(rho=r, weight_decay=w, maximize=x) for r, w, x in itertools.product((0.9, 0.5), (0, 0.1), (False, True))
]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("opts", ADADELTA_OPTIONS, ids=str)
def test_adadelta(opts: dict, dtype: str, ieee_sqrt: None) -> None:  # noqa: F811
    compare(lambda O, ps: O.Adadelta(ps, lr=0.5, eps=1e-5, **opts), dtype=dtype)


ADAMAX_OPTIONS = [
    dict(betas=b, weight_decay=w, maximize=x)
    for b, w, x in itertools.product(((0.9, 0.999), (0.5, 0.8)), (0, 0.1), (False, True))
]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("opts", ADAMAX_OPTIONS, ids=str)
def test_adamax(opts: dict, dtype: str) -> None:
    compare(lambda O, ps: O.Adamax(ps, lr=0.01, eps=1e-3, **opts), dtype=dtype)


NADAM_OPTIONS = [
    dict(weight_decay=w, decoupled_weight_decay=d, momentum_decay=m, maximize=x)
    for w, d, m, x in itertools.product((0, 0.1), (False, True), (4e-3, 0.3), (False, True))
]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("opts", NADAM_OPTIONS, ids=str)
def test_nadam(opts: dict, dtype: str, ieee_sqrt: None) -> None:  # noqa: F811
    compare(lambda O, ps: O.NAdam(ps, lr=0.01, betas=(0.8, 0.95), eps=1e-6, **opts), dtype=dtype)


RADAM_OPTIONS = [
    dict(betas=b, weight_decay=w, decoupled_weight_decay=d, maximize=x)
    for b, w, d, x in itertools.product(((0.8, 0.95), (0.9, 0.5)), (0, 0.1), (False, True), (False, True))
]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("opts", RADAM_OPTIONS, ids=str)
def test_radam(opts: dict, dtype: str, ieee_sqrt: None) -> None:  # noqa: F811
    # (betas[1]=0.95 rectifies from the 6th step on: 10 steps take both branches)
    compare(lambda O, ps: O.RAdam(ps, lr=0.01, eps=1e-6, **opts), dtype=dtype, steps=10)


RPROP_OPTIONS = [
    dict(etas=e, step_sizes=s, maximize=x)
    for e, s, x in itertools.product(((0.5, 1.2), (0.3, 3.0)), ((1e-6, 50), (1e-3, 0.05)), (False, True))
]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("opts", RPROP_OPTIONS, ids=str)
def test_rprop(opts: dict, dtype: str) -> None:
    compare(lambda O, ps: O.Rprop(ps, lr=0.01, **opts), dtype=dtype, steps=8)


def test_rprop_signs_of_zero_and_nan() -> None:
    """Gradients of 0, -0.0, NaN and ones whose product with the previous underflows to 0 (sign 0: step size
    kept)."""
    res = {}
    for lib in (torch, engine):
        p = lib.tensor([1.0, -0.0, 0.0, 2.0, 3.0, 4.0], requires_grad=True)
        opt = lib.optim.Rprop([p], lr=0.5)
        for g in ([1e-30, -0.0, 0.0, float("nan"), 1.0, -1.0], [1e-30, 0.0, -0.0, 1.0, -1.0, -1.0]):
            p.grad = lib.tensor(g)
            opt.step()
        res[lib] = (opt, [p])
    assert_same_optimizer(res[engine][0], res[torch][0], res[engine][1], res[torch][1])


ASGD_OPTIONS = [
    dict(lambd=la, alpha=a, t0=t, weight_decay=w, maximize=x)
    for la, a, t, w, x in itertools.product((1e-4, 0.5), (0.75, 2.0), (1e6, 2.0), (0, 0.1), (False, True))
]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("opts", ASGD_OPTIONS, ids=str)
def test_asgd(opts: dict, dtype: str) -> None:
    # (t0=2: the average starts at the 3rd step)
    compare(lambda O, ps: O.ASGD(ps, lr=0.05, **opts), dtype=dtype, steps=7)


MAKERS = {
    "Adadelta": lambda O, ps: O.Adadelta(ps, lr=0.9, weight_decay=0.01),
    "Adamax": lambda O, ps: O.Adamax(ps, lr=0.01, weight_decay=0.01, maximize=True),
    "NAdam": lambda O, ps: O.NAdam(ps, lr=0.01, weight_decay=0.01),
    "RAdam": lambda O, ps: O.RAdam(ps, lr=0.01, betas=(0.9, 0.9), weight_decay=0.01),
    "RAdamW": lambda O, ps: O.RAdam(ps, lr=0.01, betas=(0.5, 0.6), weight_decay=0.1, decoupled_weight_decay=True),
    "Rprop": lambda O, ps: O.Rprop(ps, lr=0.02, etas=(0.4, 1.5), step_sizes=(1e-4, 1.0)),
    "ASGD": lambda O, ps: O.ASGD(ps, lr=0.05, lambd=0.01, t0=1, weight_decay=0.01),
    "NAdamW": lambda O, ps: O.NAdam(ps, lr=0.01, weight_decay=0.1, decoupled_weight_decay=True, momentum_decay=0.1),
}
SQRT_FREE = {"Adamax", "Rprop", "ASGD"}  # the optimizers that take no square root: exact against stock torch


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name", list(MAKERS))
def test_large_parameters(name: str, dtype: str, ieee_sqrt: None) -> None:  # noqa: F811
    compare(MAKERS[name], shapes=[(64, 65), (4099,)], dtype=dtype, steps=4, skip=False)


@pytest.mark.parametrize("name", list(MAKERS))
def test_close_to_stock_torch(name: str) -> None:
    """Against torch's own (MKL) square root: within float32's rounding, and exact without a square root."""
    shapes, steps = [(64, 65), (130,)], 6
    to, tps = train(torch, MAKERS[name], shapes, "float32", steps=steps)
    eo, eps = train(engine, MAKERS[name], shapes, "float32", steps=steps)
    for e, t in zip(eps, tps):
        if name in SQRT_FREE:
            assert_same_optimizer(eo, to, eps, tps)
        np.testing.assert_allclose(host(e), host(t), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("name", list(MAKERS))
def test_param_groups_and_lr_changes(name: str, ieee_sqrt: None) -> None:  # noqa: F811
    """Two groups (the second with its own lr), one added by add_param_group, and lr changed between steps."""
    res = {}
    for lib in (torch, engine):
        ps = params(lib, SHAPES, "float32", 4)
        opt = MAKERS[name](lib.optim, ps[:2])
        opt.add_param_group({"params": ps[2:], "lr": 0.003})
        for k, row in enumerate(grads(SHAPES, "float32", 5, 4)):
            opt.param_groups[0]["lr"] = [0.1, 0.01, 0.5, 0.02, 0.0][k]
            for p, g in zip(ps, row):
                p.grad = None if g is None else lib.tensor(g)
            opt.step()
        res[lib] = (opt, ps)
    assert_same_optimizer(res[engine][0], res[torch][0], res[engine][1], res[torch][1])


@pytest.mark.parametrize("name", list(MAKERS))
def test_tensor_lr(name: str, ieee_sqrt: None) -> None:  # noqa: F811
    def make(O: Any, ps: list) -> Any:
        opt = MAKERS[name](O, ps)
        for g in opt.param_groups:
            g["lr"] = optim_tensor(O, 0.0123)
        return opt

    compare(make)


@pytest.mark.parametrize("name", list(MAKERS))
def test_load_state_dict_then_continue(name: str, ieee_sqrt: None) -> None:  # noqa: F811
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


@pytest.mark.parametrize("name", list(MAKERS))
def test_float64_default_dtype(name: str, ieee_sqrt: None) -> None:  # noqa: F811
    """The state's scalar tensors are float64 under a float64 default dtype (float32 parameters)."""
    res = {}
    for lib in (torch, engine):
        prev = lib.get_default_dtype()
        lib.set_default_dtype(lib.float64)
        try:
            res[lib] = train(lib, MAKERS[name], SHAPES, "float32", steps=4)
        finally:
            lib.set_default_dtype(prev)
    assert_same_optimizer(res[engine][0], res[torch][0], res[engine][1], res[torch][1])


REPRS = [
    lambda O, ps: O.Adadelta(ps),
    lambda O, ps: O.Adadelta([{"params": ps[:1]}, {"params": ps[1:], "rho": 0.5}], lr=0.1, maximize=True),
    lambda O, ps: O.Adamax(ps),
    lambda O, ps: O.Adamax(ps, lr=optim_tensor(O, 0.5), betas=(0.5, 0.6), eps=1e-3, weight_decay=0.1),
    lambda O, ps: O.NAdam(ps),
    lambda O, ps: O.RAdam(ps),
    lambda O, ps: O.Rprop(ps),
    lambda O, ps: O.ASGD(ps),
    lambda O, ps: O.ASGD(ps, lr=optim_tensor(O, 0.1), lambd=0.5, alpha=1, t0=3, weight_decay=1e-3, maximize=True),
    lambda O, ps: O.Rprop(ps, lr=optim_tensor(O, 0.1), etas=(0.1, 2), step_sizes=(0, 1), maximize=True),
    lambda O, ps: O.RAdam(ps, lr=optim_tensor(O, 0.1), decoupled_weight_decay=True, weight_decay=0.5),
    lambda O, ps: O.NAdam(ps, lr=0.1, momentum_decay=0.1, decoupled_weight_decay=True, maximize=True),
]


@pytest.mark.parametrize("make", REPRS)
def test_repr_and_param_group_keys(make: Callable) -> None:
    to = make(torch.optim, params(torch, SHAPES, "float32", 0))
    eo = make(engine.optim, params(engine, SHAPES, "float32", 0))
    assert cpu_repr(repr(eo)) == repr(to)
    assert [list(g) for g in eo.param_groups] == [list(g) for g in to.param_groups]
    assert repr(type(eo)) == repr(type(to))
    assert cpu_repr(repr(eo.state_dict())) == repr(to.state_dict())


@pytest.mark.parametrize("name", ["Adadelta", "Adamax", "NAdam", "RAdam", "Rprop", "ASGD"])
def test_class_names(name: str) -> None:
    assert repr(getattr(engine.optim, name)) == repr(getattr(torch.optim, name))
    assert name in engine.optim.__all__


ERRORS = {
    "adadelta lr": lambda lib: lib.optim.Adadelta([p1(lib)], lr=-1.0),
    "adadelta rho": lambda lib: lib.optim.Adadelta([p1(lib)], rho=1.5),
    "adadelta eps": lambda lib: lib.optim.Adadelta([p1(lib)], eps=-1.0),
    "adadelta weight_decay": lambda lib: lib.optim.Adadelta([p1(lib)], weight_decay=-1.0),
    "adadelta tensor lr": lambda lib: lib.optim.Adadelta([p1(lib)], lr=lib.ones(2)),
    "adamax lr": lambda lib: lib.optim.Adamax([p1(lib)], lr=-1.0),
    "adamax eps": lambda lib: lib.optim.Adamax([p1(lib)], eps=-1.0),
    "adamax beta0": lambda lib: lib.optim.Adamax([p1(lib)], betas=(1.0, 0.9)),
    "adamax beta1": lambda lib: lib.optim.Adamax([p1(lib)], betas=(0.9, 1.0)),
    "adamax weight_decay": lambda lib: lib.optim.Adamax([p1(lib)], weight_decay=-1.0),
    "adamax tensor lr": lambda lib: lib.optim.Adamax([p1(lib)], lr=lib.ones(2)),
    "nadam lr": lambda lib: lib.optim.NAdam([p1(lib)], lr=-1.0),
    "nadam eps": lambda lib: lib.optim.NAdam([p1(lib)], eps=-1.0),
    "nadam beta0": lambda lib: lib.optim.NAdam([p1(lib)], betas=(-0.1, 0.9)),
    "nadam beta1": lambda lib: lib.optim.NAdam([p1(lib)], betas=(0.9, 1.5)),
    "nadam weight_decay": lambda lib: lib.optim.NAdam([p1(lib)], weight_decay=-1.0),
    "nadam momentum_decay": lambda lib: lib.optim.NAdam([p1(lib)], momentum_decay=-1.0),
    "nadam tensor lr": lambda lib: lib.optim.NAdam([p1(lib)], lr=lib.ones(2)),
    "radam lr": lambda lib: lib.optim.RAdam([p1(lib)], lr=-1.0),
    "radam eps": lambda lib: lib.optim.RAdam([p1(lib)], eps=-1.0),
    "radam beta0": lambda lib: lib.optim.RAdam([p1(lib)], betas=(1.0, 0.9)),
    "radam beta1": lambda lib: lib.optim.RAdam([p1(lib)], betas=(0.9, -1.0)),
    "radam weight_decay": lambda lib: lib.optim.RAdam([p1(lib)], weight_decay=-1.0),
    "radam tensor lr": lambda lib: lib.optim.RAdam([p1(lib)], lr=lib.ones(2)),
    "rprop lr": lambda lib: lib.optim.Rprop([p1(lib)], lr=-1.0),
    "rprop etaminus": lambda lib: lib.optim.Rprop([p1(lib)], etas=(1.0, 1.2)),
    "rprop etaplus": lambda lib: lib.optim.Rprop([p1(lib)], etas=(0.5, 1.0)),
    "rprop etas zero": lambda lib: lib.optim.Rprop([p1(lib)], etas=(0, 2)),
    "rprop tensor lr": lambda lib: lib.optim.Rprop([p1(lib)], lr=lib.ones(2)),
    "asgd lr": lambda lib: lib.optim.ASGD([p1(lib)], lr=-1.0),
    "asgd weight_decay": lambda lib: lib.optim.ASGD([p1(lib)], weight_decay=-1.0),
    "asgd tensor lr": lambda lib: lib.optim.ASGD([p1(lib)], lr=lib.ones(2)),
}


@pytest.mark.parametrize("name", list(ERRORS))
def test_errors(name: str) -> None:
    same_error(ERRORS[name])


@pytest.mark.parametrize(
    "make",
    [
        lambda O, ps: O.Adadelta(ps, foreach=True),
        lambda O, ps: O.Adadelta(ps, capturable=True),
        lambda O, ps: O.Adamax(ps, differentiable=True),
        lambda O, ps: O.NAdam(ps, foreach=True),
        lambda O, ps: O.RAdam(ps, capturable=True),
        lambda O, ps: O.Rprop(ps, foreach=True),
        lambda O, ps: O.ASGD(ps, capturable=True),
    ],
)
def test_other_implementations_are_not_covered(make: Callable) -> None:
    with pytest.raises(NotImplementedError, match=r"=True selects one of torch's other implementations"):
        make(engine.optim, [p1(engine)])


def test_float16_parameters_are_close() -> None:
    for name, make in MAKERS.items():
        out = {}
        for lib in (torch, engine):
            _, ps = train(lib, make, [(3, 4), (5,)], "float16", steps=4)
            out[lib] = [host(p).astype("float64") for p in ps]
        for e, t in zip(out[engine], out[torch]):
            np.testing.assert_allclose(e, t, rtol=2e-3, atol=2e-3, err_msg=name)


# ---- the QA pass's programs ----------------------------------------------------------------------------
def _run_tsr(path: Path) -> str:
    import subprocess
    import sys

    root = Path(__file__).resolve().parent.parent
    env = {"PYTHONPATH": str(root), "PATH": "/usr/bin:/bin"}
    r = subprocess.run(
        [sys.executable, "-m", "tcli", "run", str(path)], capture_output=True, text=True, cwd=root, env=env
    )
    return r.stdout + r.stderr


def _run_py(path: Path) -> str:
    import subprocess
    import sys

    r = subprocess.run([sys.executable, str(path)], capture_output=True, text=True)
    return r.stdout + r.stderr


QA_PROGS = ["o12_adadelta", "o13_adamax", "o14_nadam", "o15_radam", "o16_asgd", "o17_rprop"]


@pytest.mark.parametrize("prog", QA_PROGS)
def test_qa_programs(prog: str, device: str) -> None:
    if device != "cpu":
        pytest.skip("the programs run on the cpu")
    if not (QA / f"{prog}.tsr").exists():
        pytest.skip("the QA programs are not on this machine")
    with warnings.catch_warnings():
        got, want = _run_tsr(QA / f"{prog}.tsr"), _run_py(QA / f"{prog}.py")
    # (nn.Linear's forward rounds as the engine's matmul does, which is not always MKL's to the last bit: the
    # losses' full reprs can differ in their last digits; everything printed to fewer digits must not)
    assert _strip_full_floats(got) == _strip_full_floats(want)


def _strip_full_floats(text: str) -> str:
    import re

    return re.sub(r"\b(-?\d+\.\d{9,})\b", lambda m: f"{float(m.group(1)):.6g}", text)


_ = (_ieee_sqrt, _ieee_sqrt_)
