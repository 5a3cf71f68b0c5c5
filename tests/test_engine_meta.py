"""The meta device against PyTorch: tensors with shapes and no data (printed as `tensor(..., device='meta',
size=...)`), ops that carry shapes, dtypes and graphs, modules built or moved there, and torch's errors for
reading values. Random factories and fills on meta leave the global generator as torch leaves it."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import torch
from helpers import RAISED, outcome, run_tsr_and_python

import engine

CASES: dict[str, Callable[[Any], Any]] = {
    "empty": lambda T: T.empty(3, 4, device="meta"),
    "zeros 0-dim": lambda T: T.zeros((), device="meta"),
    "ones requires_grad": lambda T: T.ones(2, device="meta", requires_grad=True),
    "double": lambda T: T.empty(3, 4, device="meta").double(),
    "long": lambda T: T.empty(3, device="meta").long(),
    "tensor": lambda T: T.tensor([1.0, 2.0], device="meta"),
    "arange": lambda T: T.arange(5, device="meta"),
    "full": lambda T: T.full((2, 3), 7.0, device="meta"),
    "randn": lambda T: T.randn(3, 4, device="meta", requires_grad=True),
    "graph": lambda T: (T.randn(3, 4, device="meta", requires_grad=True) * 2).sum(),
    "matmul": lambda T: T.empty(3, 4, device="meta") @ T.empty(4, 5, device="meta"),
    "index": lambda T: T.empty(3, 4, device="meta")[0],
    "compare": lambda T: T.empty(3, 4, device="meta").sum() > 0,
    "cat": lambda T: T.cat([T.empty(3, 4, device="meta")] * 2),
    "argmax": lambda T: T.empty(3, 4, device="meta").argmax(1),
    "relu": lambda T: T.nn.functional.relu(T.empty(3, 4, device="meta")),
    "to meta": lambda T: T.ones(2, 3).to("meta"),
    "to meta float64": lambda T: T.ones(2, 3).to("meta", T.float64),
    "empty_like": lambda T: T.empty_like(T.empty(3, 4, device="meta")),
    "empty_like to meta": lambda T: T.empty_like(T.ones(2), device="meta"),
    "zeros_like": lambda T: T.zeros_like(T.ones(2, 2), device="meta"),
    "new_zeros": lambda T: T.empty(1, device="meta").new_zeros(3),
    "clone": lambda T: T.empty(2, device="meta").clone(),
    "add_": lambda T: T.empty(2, device="meta").add_(1),
    "device": lambda T: (T.device("meta"), repr(T.device("meta")), str(T.device("meta"))),
    "facts": lambda T: [
        (t.is_meta, t.device.type, t.stride(), t.is_contiguous(), t.data_ptr() == 0, t.shape)
        for t in (T.empty(2, 3, device="meta"), T.ones(2))
    ],  # fmt: skip
    "item": lambda T: T.ones(1, device="meta").item(),
    "item of many": lambda T: T.ones(3, device="meta").item(),
    "bool": lambda T: bool(T.ones(1, device="meta")),
    "float": lambda T: float(T.ones(1, device="meta")),
    "int": lambda T: int(T.ones(1, device="meta")),
    "format": lambda T: f"{T.ones((), device='meta'):.2f}",
    "tolist": lambda T: T.ones(2, device="meta").tolist(),
    "numpy": lambda T: T.ones(2, device="meta").numpy(),
    "cpu": lambda T: T.ones(2, device="meta").cpu(),
    "to cpu": lambda T: T.ones(2, device="meta").to("cpu"),
    "fill_diagonal_": lambda T: T.empty(7, 3, device="meta").fill_diagonal_(1.0, wrap=True),
    "diagonal": lambda T: T.empty(4, 4, device="meta").diagonal(),
    "unfold": lambda T: T.empty(4, 4, device="meta").unfold(0, 2, 1),
    "conv2d": lambda T: T.nn.functional.conv2d(T.empty(1, 2, 6, 6, device="meta"), T.empty(3, 2, 3, 3, device="meta")),
    "max_pool2d": lambda T: T.nn.functional.max_pool2d(T.empty(1, 2, 6, 6, device="meta"), 2),
    "interpolate": lambda T: T.nn.functional.interpolate(T.empty(1, 2, 6, 6, device="meta"), scale_factor=2),
    "resize_": lambda T: T.empty(2, device="meta").resize_(10),
    "expand": lambda T: T.empty(1, 4, device="meta").expand(3, 4).contiguous(),
    "scatter": lambda T: T.empty(4, 4, device="meta").scatter(0, T.zeros(1, 4, dtype=T.long, device="meta"), 1.0),
    "sort": lambda T: T.empty(4, 4, device="meta").sort(),
    "embedding": lambda T: T.nn.functional.embedding(
        T.zeros(3, dtype=T.long, device="meta"), T.empty(4, 4, device="meta")
    ),  # fmt: skip
    "layer_norm": lambda T: T.nn.functional.layer_norm(T.empty(4, 4, device="meta"), (4,)),
    "meta + cpu": lambda T: T.ones(2, device="meta") + T.ones(2),
    "cpu + meta": lambda T: T.ones(2) + T.ones(2, device="meta"),
}


def _shown(r: Any) -> Any:
    if isinstance(r, tuple) and r and r[0] == RAISED:
        return r
    return repr(r)


@pytest.mark.parametrize("name", CASES)
def test_meta_tensors_match_torch(name: str) -> None:
    got = [_shown(outcome(CASES[name], T)) for T in (torch, engine)]
    assert got[1] == got[0]


def test_backward_on_meta() -> None:
    got = []
    for T in (torch, engine):
        x = T.randn(3, 4, device="meta", requires_grad=True)
        (x * 2).sum().backward()
        got.append(repr(x.grad))
    assert got[1] == got[0]


def _seeded_draws(T: Any) -> list:
    T.manual_seed(0)
    a = T.rand(3)
    T.manual_seed(0)
    lin = T.nn.Linear(3, 4, device="meta")
    T.randn(5, device="meta")
    T.empty(3, device="meta").uniform_()
    b = T.rand(3)
    return [a, b, repr(lin.weight), repr(lin.bias), repr(lin)]


def test_meta_draws_nothing_from_the_generator() -> None:
    t, e = _seeded_draws(torch), _seeded_draws(engine)
    assert e[2:] == t[2:]
    assert e[0].tolist() == t[0].tolist() == e[1].tolist() == t[1].tolist()


def _model(T: Any) -> list:
    nn = T.nn
    T.manual_seed(0)
    net = nn.Sequential(nn.Conv2d(3, 8, 3), nn.ReLU(), nn.Flatten(), nn.Linear(8 * 30 * 30, 10)).to("meta")
    out = net(T.empty(2, 3, 32, 32, device="meta"))
    facts = [repr(out), sum(p.numel() for p in net.parameters()), net[0].weight.stride()]
    facts.append(repr(net.state_dict()["3.bias"]))
    net.to_empty(device="cpu")
    facts.append([(p.device.type, tuple(p.shape)) for p in net.parameters()])
    T.manual_seed(1)
    for m in net.modules():
        if hasattr(m, "reset_parameters"):
            m.reset_parameters()
    facts.append(net(T.ones(1, 3, 32, 32)).tolist()[0])
    return facts


def test_a_model_built_on_meta_then_materialized() -> None:
    t, e = _model(torch), _model(engine)
    assert e[:5] == t[:5]
    assert e[5] == pytest.approx(t[5], rel=1e-5, abs=1e-6)


PROGRAM = """\
import torch
import torch.nn as nn

torch.manual_seed(0)
big = nn.Linear(4096, 4096, device="meta")
print(big.weight)
print(sum(p.numel() for p in big.parameters()))
x = torch.empty(8, 4096, device="meta")
print(big(x).shape, big(x))
with torch.device("meta"):
    model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 2))
print(model[0].weight.is_meta, model[0].weight.device, torch.ones(1).device)
model.to_empty(device="cpu")
for m in model.modules():
    if isinstance(m, nn.Linear):
        m.reset_parameters()
print(model(torch.ones(1, 4)))
try:
    torch.ones(1, device="meta").item()
except RuntimeError as e:
    print(e)
print(torch.rand(2))
"""


def test_meta_program_prints_pytorchs_output(tmp_path: Path) -> None:
    script = tmp_path / "meta.tsr"
    script.write_text(PROGRAM)
    tsr, ref = run_tsr_and_python(script)
    assert tsr.returncode == 0, tsr.stderr
    assert tsr.stdout == ref.stdout
