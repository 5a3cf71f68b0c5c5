"""foreach=True: torch's multi-tensor optimizers give the for-loop's bits on the cpu, so the engine takes the flag
and runs its one implementation (ASGD, whose foreach arithmetic differs, keeps the refusal)."""

from __future__ import annotations

import pytest

import engine as E

torch = pytest.importorskip("torch")

CASES = [
    ("SGD", {"lr": 0.1, "momentum": 0.9, "nesterov": True, "weight_decay": 0.01}),
    ("Adam", {"lr": 0.01, "amsgrad": True}),
    ("AdamW", {"lr": 0.01}),
    ("RMSprop", {"lr": 0.01, "momentum": 0.9, "centered": True}),
    ("Adagrad", {"lr": 0.1}),
    ("NAdam", {}),
    ("RAdam", {}),
    ("Adamax", {}),
    ("Adadelta", {}),
    ("Rprop", {}),
]


def _train(lib, name: str, kw: dict) -> str:
    lib.manual_seed(0)
    ps = [lib.nn.Parameter(lib.randn(5, 7)), lib.nn.Parameter(lib.randn(3))]
    opt = getattr(lib.optim, name)(ps, foreach=True, **kw)
    for _ in range(4):
        opt.zero_grad()
        sum((p.sin() * p).sum() for p in ps).backward()
        opt.step()
    return repr([p.detach().numpy().tobytes() for p in ps]) + str(opt.state_dict()["param_groups"][0]["foreach"])


@pytest.mark.parametrize("name, kw", CASES, ids=[c[0] for c in CASES])
def test_foreach_gives_torch_s_bits(name: str, kw: dict) -> None:
    assert _train(E, name, kw) == _train(torch, name, kw)


def test_asgd_foreach_is_still_refused() -> None:
    with pytest.raises(NotImplementedError, match="foreach=True selects one of torch's other implementations"):
        E.optim.ASGD([E.nn.Parameter(E.ones(2))], foreach=True)
