"""torch.nn.utils.prune against PyTorch: on seeded models both libraries prune the same entries (the random
methods draw what torch draws), leave the same parameters, buffers, hooks and state_dict keys, compute the same
pruned tensors and forward outputs, and raise the same errors. Then `tcli run` on PyTorch's Pruning Tutorial:
stdout is what PyTorch prints, object addresses aside."""

from __future__ import annotations

import io
import re
import textwrap
from pathlib import Path
from typing import Any

import pytest
import torch
import torch.nn.utils.prune  # noqa: F401  (torch loads it on import only)
from helpers import assert_same, run_tsr_and_python, same_error

import engine
from tcli import policy
from tcli.session import Session

_ADDRESS = re.compile(r" at 0x[0-9a-f]+>")


def _lenet(T: Any) -> Any:
    nn = T.nn

    class LeNet(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.conv1 = nn.Conv2d(1, 6, 3)
            self.conv2 = nn.Conv2d(6, 16, 3)
            self.fc1 = nn.Linear(16 * 5 * 5, 120)
            self.fc2 = nn.Linear(120, 84)
            self.fc3 = nn.Linear(84, 10)

        def forward(self, x: Any) -> Any:
            F = T.nn.functional
            x = F.max_pool2d(F.relu(self.conv1(x)), (2, 2))
            x = F.max_pool2d(F.relu(self.conv2(x)), 2)
            x = x.flatten(start_dim=1)
            return self.fc3(F.relu(self.fc2(F.relu(self.fc1(x)))))

    T.manual_seed(0)
    return LeNet()


def _state(T: Any, model: Any) -> dict:
    """What pruning changes, in a form both libraries compare: names, masks, pruned tensors and an output."""
    x = T.randn(2, 1, 28, 28, generator=T.Generator().manual_seed(1))
    return {
        "params": [n for n, _ in model.named_parameters()],
        "buffers": dict(model.named_buffers()),
        "keys": list(model.state_dict().keys()),
        "weights": {n: m.weight for n, m in model.named_children()},
        "hooks": {n: [type(h).__name__ for h in m._forward_pre_hooks.values()] for n, m in model.named_children()},
        "pruned": T.nn.utils.prune.is_pruned(model),
        "out": model(x),
    }


def _both(fn: Any) -> None:
    """fn(T, model) then the state, equal in torch and the engine."""
    got = []
    for T in (torch, engine):
        model = _lenet(T)
        fn(T, model)
        got.append(_state(T, model))
    t, e = got
    assert e["params"] == t["params"]
    assert e["keys"] == t["keys"]
    assert e["hooks"] == t["hooks"]
    assert e["pruned"] == t["pruned"]
    assert list(e["buffers"]) == list(t["buffers"])
    for k in t["buffers"]:
        assert_same(e["buffers"][k], t["buffers"][k], where=k)
    for k in t["weights"]:
        assert_same(e["weights"][k], t["weights"][k], where=k)
    assert_same(e["out"], t["out"], atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("seed", [0, 1, 7])
@pytest.mark.parametrize("amount", [0.3, 5, 0.0])
def test_random_unstructured_picks_torchs_entries(seed: int, amount: Any) -> None:
    def fn(T: Any, model: Any) -> None:
        T.manual_seed(seed)
        T.nn.utils.prune.random_unstructured(model.conv1, "weight", amount=amount)
        T.nn.utils.prune.random_unstructured(model.fc1, "weight", amount=amount)

    _both(fn)


@pytest.mark.parametrize("seed", [0, 3])
def test_structured_and_iterative_pruning(seed: int) -> None:
    def fn(T: Any, model: Any) -> None:
        prune = T.nn.utils.prune
        T.manual_seed(seed)
        prune.random_unstructured(model.conv1, name="weight", amount=0.3)
        prune.l1_unstructured(model.conv1, name="bias", amount=3)
        prune.ln_structured(model.conv1, name="weight", amount=0.5, n=2, dim=0)
        prune.ln_structured(model.conv2, name="weight", amount=4, n=1, dim=1)
        prune.random_structured(model.fc2, "weight", amount=0.3, dim=1)
        prune.random_structured(model.fc2, "weight", amount=0.25, dim=0)
        prune.l1_unstructured(model.fc2, "weight", amount=100)
        prune.ln_structured(model.fc1, "weight", amount=10, n=float("inf"), dim=-1)
        prune.identity(model.fc3, "bias")

    _both(fn)


def test_global_unstructured_custom_from_mask_and_remove() -> None:
    def fn(T: Any, model: Any) -> None:
        prune = T.nn.utils.prune
        pairs = [(model.conv1, "weight"), (model.conv2, "weight"), (model.fc1, "weight"), (model.fc3, "bias")]
        prune.l1_unstructured(model.conv2, "weight", amount=0.1)
        scores = {(model.fc3, "bias"): T.arange(10.0)}
        prune.global_unstructured(pairs, pruning_method=prune.L1Unstructured, importance_scores=scores, amount=0.2)
        prune.global_unstructured(pairs[:2], pruning_method=prune.RandomUnstructured, amount=30)
        prune.custom_from_mask(model.fc2, "bias", mask=T.arange(84) % 3 != 0)
        prune.remove(model.conv1, "weight")
        prune.remove(model.fc2, "bias")

    _both(fn)


def test_l1_ties_pick_torchs_entries() -> None:
    def fn(T: Any, model: Any) -> None:
        with T.no_grad():
            model.fc1.weight.copy_((model.fc1.weight * 20).round() / 20)  # many equal magnitudes
            model.fc3.bias.zero_()
        T.nn.utils.prune.l1_unstructured(model.fc1, "weight", amount=0.5)
        T.nn.utils.prune.l1_unstructured(model.fc3, "bias", amount=4)

    _both(fn)


def test_pruned_tensors_train_through_the_mask() -> None:
    grads = []
    for T in (torch, engine):
        model = _lenet(T)
        T.nn.utils.prune.l1_unstructured(model.fc3, "weight", amount=0.5)
        model(T.ones(1, 1, 28, 28)).sum().backward()
        grads.append((model.fc3.weight_orig.grad, model.fc3.weight.grad_fn.name()))
    assert grads[1][1] == grads[0][1]
    assert_same(grads[1][0], grads[0][0])


def test_method_prune_and_container() -> None:
    def fn(T: Any) -> Any:
        prune = T.nn.utils.prune
        t = T.arange(12.0).reshape(3, 4) - 5
        a = prune.L1Unstructured(amount=4).prune(t)
        b = prune.LnStructured(amount=1, n=2, dim=0).prune(t, importance_scores=-t)
        c = prune.CustomFromMask(T.eye(3, 4)).prune(t, default_mask=T.ones(3, 4))
        m = T.nn.Linear(4, 3)
        prune.l1_unstructured(m, "weight", 2)
        prune.random_structured(m, "weight", 1, dim=0)
        hook = next(iter(m._forward_pre_hooks.values()))
        return a, b, c, len(hook), [type(h).__name__ for h in hook], type(hook[0]).__name__, hook._tensor_name

    t, e = fn(torch), fn(engine)
    assert e[3:] == t[3:]
    for x, y in zip(e[:3], t[:3], strict=True):
        assert_same(x, y)


def test_classes_and_hooks_print_as_torchs() -> None:
    for T in (torch, engine):
        prune = T.nn.utils.prune
        m = T.nn.Linear(2, 2)
        prune.random_unstructured(m, "weight", 1)
        text = _ADDRESS.sub(" at ADDR>", repr(m._forward_pre_hooks))
        assert re.fullmatch(r"OrderedDict\(\[\(\d+, <torch.nn.utils.prune.RandomUnstructured object at ADDR>\)\]\)",
                            text), text  # fmt: skip
        assert repr(prune.LnStructured) == "<class 'torch.nn.utils.prune.LnStructured'>"


@pytest.mark.parametrize(
    "case",
    [
        lambda T, m: T.nn.utils.prune.random_unstructured(m, "weight", amount=1.5),
        lambda T, m: T.nn.utils.prune.random_unstructured(m, "weight", amount=-1),
        lambda T, m: T.nn.utils.prune.random_unstructured(m, "weight", amount="a"),
        lambda T, m: T.nn.utils.prune.l1_unstructured(m, "bias", amount=9),
        lambda T, m: T.nn.utils.prune.ln_structured(m, "bias", amount=1, n=2, dim=0),
        lambda T, m: T.nn.utils.prune.ln_structured(m, "weight", amount=1, n=2, dim=2),
        lambda T, m: T.nn.utils.prune.random_structured(m, "weight", amount=1, dim=5),
        lambda T, m: T.nn.utils.prune.l1_unstructured(m, "weight", 1, importance_scores=T.ones(3)),
        lambda T, m: T.nn.utils.prune.remove(m, "weight"),
        lambda T, m: T.nn.utils.prune.custom_from_mask(m, "bias", mask=T.ones(2)),
        lambda T, m: T.nn.utils.prune.global_unstructured([(m, "weight")], T.nn.utils.prune.LnStructured,
                                                          amount=1, n=2, dim=0),
        lambda T, m: T.nn.utils.prune.global_unstructured(5, T.nn.utils.prune.L1Unstructured, amount=1),
        lambda T, m: T.nn.utils.prune.global_unstructured([(m, "weight")], T.nn.utils.prune.L1Unstructured,
                                                          importance_scores=[], amount=1),
        lambda T, m: T.nn.utils.prune.PruningContainer(T.nn.utils.prune.Identity()).add_pruning_method(3),
    ],
)  # fmt: skip
def test_errors_match_torchs(case: Any) -> None:
    def fn(T: Any) -> None:
        T.manual_seed(0)
        m = T.nn.Linear(3, 4)
        case(T, m)

    same_error(fn)


def test_a_failed_first_pruning_leaves_the_parameter() -> None:
    for T in (torch, engine):
        m = T.nn.Linear(3, 4)
        with pytest.raises(ValueError, match="should be smaller"):
            T.nn.utils.prune.l1_unstructured(m, "bias", amount=9)
        assert [n for n, _ in m.named_parameters()] == ["weight", "bias"]


PROGRAM = '''\
import torch
import torch.nn.utils.prune  # noqa: F401  (torch loads it on import only)
from torch import nn
import torch.nn.utils.prune as prune
import torch.nn.functional as F

torch.manual_seed(0)
device = torch.device("cuda" if torch.cuda.is_available() else "cpu")


class LeNet(nn.Module):
    def __init__(self):
        super(LeNet, self).__init__()
        self.conv1 = nn.Conv2d(1, 6, 3)
        self.conv2 = nn.Conv2d(6, 16, 3)
        self.fc1 = nn.Linear(16 * 5 * 5, 120)
        self.fc2 = nn.Linear(120, 84)
        self.fc3 = nn.Linear(84, 10)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.conv1(x)), (2, 2))
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)
        x = x.flatten(start_dim=1)
        x = F.relu(self.fc1(x))
        x = F.relu(self.fc2(x))
        x = self.fc3(x)
        return x


model = LeNet().to(device=device)
module = model.conv1
print(list(module.named_parameters()))
print(list(module.named_buffers()))
prune.random_unstructured(module, name="weight", amount=0.3)
print(list(module.named_parameters()))
print(list(module.named_buffers()))
print(module.weight)
print(module._forward_pre_hooks)
prune.l1_unstructured(module, name="bias", amount=3)
print(list(module.named_parameters()))
print(list(module.named_buffers()))
print(module.bias)
print(module._forward_pre_hooks)
prune.ln_structured(module, name="weight", amount=0.5, n=2, dim=0)
print(module.weight)
for hook in module._forward_pre_hooks.values():
    if hook._tensor_name == "weight":  # select out the correct hook
        break

print(list(hook))
print(model.state_dict().keys())
print(list(module.named_parameters()))
print(list(module.named_buffers()))
print(module.weight)
prune.remove(module, 'weight')
print(list(module.named_parameters()))
print(list(module.named_buffers()))

new_model = LeNet()
for name, module in new_model.named_modules():
    if isinstance(module, torch.nn.Conv2d):
        prune.l1_unstructured(module, name='weight', amount=0.2)
    elif isinstance(module, torch.nn.Linear):
        prune.l1_unstructured(module, name='weight', amount=0.4)

print(dict(new_model.named_buffers()).keys())

model = LeNet()
parameters_to_prune = (
    (model.conv1, 'weight'),
    (model.conv2, 'weight'),
    (model.fc1, 'weight'),
    (model.fc2, 'weight'),
    (model.fc3, 'weight'),
)
prune.global_unstructured(
    parameters_to_prune,
    pruning_method=prune.L1Unstructured,
    amount=0.2,
)
print(
    "Sparsity in conv1.weight: {:.2f}%".format(
        100. * float(torch.sum(model.conv1.weight == 0))
        / float(model.conv1.weight.nelement())
    )
)
print(
    "Global sparsity: {:.2f}%".format(
        100. * float(
            torch.sum(model.conv1.weight == 0)
            + torch.sum(model.conv2.weight == 0)
            + torch.sum(model.fc1.weight == 0)
            + torch.sum(model.fc2.weight == 0)
            + torch.sum(model.fc3.weight == 0)
        )
        / float(
            model.conv1.weight.nelement()
            + model.conv2.weight.nelement()
            + model.fc1.weight.nelement()
            + model.fc2.weight.nelement()
            + model.fc3.weight.nelement()
        )
    )
)


class FooBarPruningMethod(prune.BasePruningMethod):
    """Prune every other entry in a tensor
    """
    PRUNING_TYPE = 'unstructured'

    def compute_mask(self, t, default_mask):
        mask = default_mask.clone()
        mask.flatten()[::2] = 0
        return mask


def foobar_unstructured(module, name):
    FooBarPruningMethod.apply(module, name)
    return module


model = LeNet()
foobar_unstructured(model.fc3, name='bias')
print(model.fc3.bias_mask)
foobar_unstructured(model.fc3, name='bias')
print(model.fc3.bias, model.fc3._forward_pre_hooks)
print(model(torch.ones(1, 1, 28, 28)))
'''


def test_pruning_tutorial_prints_pytorchs_output(tmp_path: Path) -> None:
    script = tmp_path / "pruning.tsr"
    script.write_text(PROGRAM)
    tsr, ref = run_tsr_and_python(script)
    assert tsr.returncode == 0, tsr.stderr
    assert "<torch.nn.utils.prune.PruningContainer object at 0x" in tsr.stdout
    assert _ADDRESS.sub(">", tsr.stdout) == _ADDRESS.sub(">", ref.stdout)


def _run(src: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    session = Session(stdout=out, stderr=err, color=False, limits=policy.Limits())
    status = session.run_source(textwrap.dedent(src), "<test>")
    return status, out.getvalue(), err.getvalue()


def test_hooks_a_script_reads_are_a_copy() -> None:
    status, out, err = _run(
        """
        import torch
        import torch.nn.utils.prune as prune
        m = torch.nn.Linear(2, 2)
        prune.identity(m, "weight")
        hooks = m._forward_pre_hooks
        hooks.clear()
        print(prune.is_pruned(m), len(m._forward_pre_hooks))
        """
    )
    assert (status, err) == (0, ""), err
    assert out == "True 1\n"


@pytest.mark.parametrize(
    ("src", "error"),
    [
        ("m._forward_pre_hooks = {}", "AttributeError"),
        ("m._forward_hooks", "AttributeError"),
        ("torch.nn.Linear(2, 2)._tensor_name", "AttributeError"),
        ("next(iter(m._forward_pre_hooks.values()))._tensor_name = 'bias'", "AttributeError"),
    ],
)
def test_private_names_stay_private(src: str, error: str) -> None:
    status, _, err = _run(
        f"import torch\nimport torch.nn.utils.prune as prune\nm = torch.nn.Linear(2, 2)\n"
        f"prune.identity(m, 'weight')\n{src}\n"
    )
    assert status == 1
    assert f": {error}" in err.splitlines()[0], err
