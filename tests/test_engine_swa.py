"""torch.optim.swa_utils against torch: AveragedModel's averages through a training loop (SWA, EMA, per-tensor and
list averaging functions, with and without buffers), its forward, state_dict and repr; update_bn's statistics;
SWALR's learning rates step by step for each annealing strategy, its state_dict round trip; and the errors."""

from __future__ import annotations

import warnings
from typing import Any

import pytest
from helpers import computed, same, same_error

import engine

pytestmark = [pytest.mark.usefixtures("device"), pytest.mark.filterwarnings("ignore::UserWarning")]


def _model(T: Any) -> Any:
    T.manual_seed(0)
    return T.nn.Sequential(T.nn.Linear(3, 4), T.nn.BatchNorm1d(4), T.nn.ReLU(), T.nn.Linear(4, 2))


AVERAGES = {
    "swa": lambda T: {},
    "swa_buffers": lambda T: {"use_buffers": True},
    "swa_fn": lambda T: {"avg_fn": T.optim.swa_utils.get_swa_avg_fn()},
    "swa_multi": lambda T: {"multi_avg_fn": T.optim.swa_utils.get_swa_multi_avg_fn()},
    "ema_fn": lambda T: {"avg_fn": T.optim.swa_utils.get_ema_avg_fn(0.8)},
    "ema_multi": lambda T: {"multi_avg_fn": T.optim.swa_utils.get_ema_multi_avg_fn(0.9)},
    "ema_multi_buffers": lambda T: {"multi_avg_fn": T.optim.swa_utils.get_ema_multi_avg_fn(0.9), "use_buffers": True},
}


@pytest.mark.parametrize("name", list(AVERAGES))
def test_averaged_model_through_training(name: str) -> None:
    def run(T: Any) -> Any:
        model = _model(T)
        swa = T.optim.swa_utils.AveragedModel(model, **AVERAGES[name](T))
        opt = T.optim.SGD(model.parameters(), lr=0.1)
        seen = []
        for _ in range(4):
            loss = model(T.randn(5, 3)).pow(2).mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
            swa.update_parameters(model)
            seen.append([p.detach().clone() for p in swa.parameters()] + [b.clone() for b in swa.buffers()])
        return seen, swa(T.ones(2, 3)), list(swa.state_dict()), repr(swa), repr(type(swa))

    if name == "swa_buffers" and engine.get_default_device().type == "cuda":
        # torch's GPU path averages with foreach kernels, whose addcdiv refuses the integer num_batches_tracked
        # buffer (its cpu path, the oracle here, divides per tensor instead)
        with pytest.raises(RuntimeError, match="Integer division with addcdiv is no longer supported"):
            run(engine)
        return
    computed(run, grad=False)


def test_averaged_model_errors() -> None:
    def both(T: Any) -> Any:
        utils = T.optim.swa_utils
        return utils.AveragedModel(_model(T), avg_fn=utils.get_ema_avg_fn(), multi_avg_fn=utils.get_ema_multi_avg_fn())

    same_error(both)
    same_error(lambda T: T.optim.swa_utils.get_ema_avg_fn(1.5))
    same_error(lambda T: T.optim.swa_utils.get_ema_multi_avg_fn(-0.1))


def test_update_bn() -> None:
    def run(T: Any) -> Any:
        model = _model(T)
        data = [T.randn(4, 3) for _ in range(3)]
        model.eval()
        T.optim.swa_utils.update_bn(data, model)
        first = [b.clone() for b in model.buffers()] + [model.training, model[1].momentum]
        T.optim.swa_utils.update_bn([(d, 0) for d in data], model)  # (a batch's first element is the input)
        return first + [b.clone() for b in model.buffers()]

    computed(run, grad=False)
    # (no BatchNorm: nothing to do, nothing changes)
    computed(lambda T: (T.optim.swa_utils.update_bn([T.ones(2, 3)], m := T.nn.Linear(3, 2)), m.training), grad=False)


def _schedule(T: Any, **kw: Any) -> Any:
    opt = T.optim.SGD([{"params": [T.nn.Parameter(T.ones(2))]}, {"params": [T.nn.Parameter(T.ones(1))], "lr": 0.3}],
                      lr=1.0)  # fmt: skip
    sched = T.optim.swa_utils.SWALR(opt, **kw)
    lrs = [sched.get_last_lr()]
    for _ in range(14):
        opt.step()
        sched.step()
        lrs.append(sched.get_last_lr())
    state = sched.state_dict()
    return lrs, sorted(state), state["_anneal_strategy"], repr(type(sched))


@pytest.mark.parametrize(
    "kw",
    [
        {"swa_lr": 0.05},
        {"swa_lr": 0.05, "anneal_strategy": "linear"},
        {"swa_lr": [0.05, 0.2], "anneal_epochs": 3},
        {"swa_lr": 0.05, "anneal_epochs": 0},
        {"swa_lr": 0.5, "anneal_epochs": 1, "anneal_strategy": "linear"},
    ],
)
def test_swalr_schedule(kw: dict) -> None:
    assert same(lambda T: _schedule(T, **kw))


def test_swalr_state_round_trip_and_errors() -> None:
    def resume(T: Any) -> Any:
        opt = T.optim.SGD([T.nn.Parameter(T.ones(1))], lr=1.0)
        sched = T.optim.swa_utils.SWALR(opt, swa_lr=0.1, anneal_strategy="linear", anneal_epochs=5)
        for _ in range(2):
            opt.step()
            sched.step()
        again = T.optim.swa_utils.SWALR(opt, swa_lr=0.1)
        again.load_state_dict(sched.state_dict())
        lrs = []
        for _ in range(3):
            opt.step()
            again.step()
            lrs.append(again.get_last_lr())
        return lrs, again._anneal_strategy

    assert same(resume)

    def swalr(**kw: Any) -> Any:
        return lambda T: T.optim.swa_utils.SWALR(T.optim.SGD([T.nn.Parameter(T.ones(1))], lr=1.0), **kw)

    for kw in ({"anneal_strategy": "exp"}, {"anneal_epochs": -1}, {"anneal_epochs": 1.5}):
        same_error(swalr(swa_lr=0.1, **kw))
    same_error(swalr(swa_lr=[0.1, 0.2]))


def test_swalr_get_lr_outside_step_warns() -> None:
    import torch

    import engine

    texts = []
    for T in (torch, engine):
        sched = T.optim.swa_utils.SWALR(T.optim.SGD([T.nn.Parameter(T.ones(1))], lr=1.0), swa_lr=0.1)
        with warnings.catch_warnings(record=True) as got:
            warnings.simplefilter("always")
            sched.get_lr()
        texts.append([str(w.message) for w in got])
    assert texts[1] == texts[0] and len(texts[0]) == 1
