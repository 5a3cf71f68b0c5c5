"""api18: torch API that tutorials reach for and the engine lacked, checked against PyTorch: torch.cuda.amp and
torch.cpu.amp (deprecated autocast/GradScaler), torch.cpu, torch.version, nn.Buffer, nn.DataParallel,
utils.data.StackDataset, Tensor.pin_memory/share_memory_/is_pinned/is_shared, the in-place ldexp_/nextafter_/
igamma_/igammac_, new_empty_strided, nextafter's and ldexp's gradients, torch.newaxis and set_warn_always.
Each runs as a tsr script too (tcli's facade must reach the new names)."""

from __future__ import annotations

import contextlib
import io
import textwrap
import warnings

import pytest
import torch

import engine
from tcli.session import Session


def run_tsr(src: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    status = Session(stdout=out, stderr=err, color=False).run_source(textwrap.dedent(src), "prog.tsr")
    return status, out.getvalue(), err.getvalue()


def run_torch(src: str) -> str:
    out = io.StringIO()
    with contextlib.redirect_stdout(out), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        exec(compile(textwrap.dedent(src), "prog.py", "exec"), {})  # noqa: S102 - the oracle's own run
    return out.getvalue()


def same_as_torch(src: str) -> str:
    status, out, err = run_tsr(src)
    assert status == 0, err
    assert out == run_torch(src)
    return err


def error_of(fn, lib):  # noqa: ANN001, ANN201
    try:
        fn(lib)
    except Exception as e:  # noqa: BLE001
        return type(e).__name__, str(e)
    raise AssertionError("no error")


# ---- torch.cuda.amp / torch.cpu.amp / torch.cpu / torch.version ---------------------------------------------
AMP = """
import torch
from torch.cuda.amp import autocast, GradScaler
print(torch.version.cuda, torch.version.debug, torch.version.hip)
print(torch.cpu.is_available(), torch.cpu.device_count(), torch.cpu.current_device())
s = torch.cuda.amp.GradScaler()
print(s.is_enabled())
with torch.cpu.amp.autocast():
    a = torch.ones(2, 3) @ torch.ones(3, 2)
print(a.dtype)
with torch.cpu.amp.autocast(dtype=torch.float16):
    b = torch.ones(2, 3) @ torch.ones(3, 2)
print(b.dtype)
with torch.cuda.amp.autocast(enabled=False):
    c = torch.ones(2, 3) @ torch.ones(3, 2)
print(c.dtype)
s2 = torch.cpu.amp.GradScaler(init_scale=8.0)
print(s2.get_scale(), s2.is_enabled())
print(torch.GradScaler is torch.amp.GradScaler)
"""


def test_cuda_and_cpu_amp_spellings_run_as_torch_s() -> None:
    err = same_as_torch(AMP)
    # torch's deprecation warnings, at the script's lines
    assert (
        "prog.tsr:6:5: FutureWarning: `torch.cuda.amp.GradScaler(args...)` is deprecated. Please use "
        "`torch.amp.GradScaler('cuda', args...)` instead." in err
    )
    assert (
        "prog.tsr:8:6: FutureWarning: `torch.cpu.amp.autocast(args...)` is deprecated. Please use "
        "`torch.amp.autocast('cpu', args...)` instead." in err
    )
    assert "`torch.cuda.amp.autocast(args...)` is deprecated" in err
    assert "`torch.cpu.amp.GradScaler(args...)` is deprecated" in err


def test_legacy_amp_warnings_are_torch_s() -> None:
    for make in (
        lambda T: T.cuda.amp.autocast(enabled=False),
        lambda T: T.cpu.amp.autocast(),
        lambda T: T.cpu.amp.GradScaler(),
    ):
        got = []
        for T in (torch, engine):
            with warnings.catch_warnings(record=True) as w:
                warnings.simplefilter("always")
                make(T)
            got.append([(x.category, str(x.message)) for x in w if x.category is FutureWarning])
        assert got[0] == got[1] and got[0]


def test_legacy_amp_classes_print_as_torch_s() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for T in (torch, engine):
            assert repr(T.cpu.amp.autocast(enabled=False)).startswith("<torch.cpu.amp.autocast_mode.autocast object")
            assert repr(T.cpu.amp.GradScaler()).startswith("<torch.cpu.amp.grad_scaler.GradScaler object")


def test_torch_version_module() -> None:
    for name in ("cuda", "debug", "hip", "rocm", "git_version"):
        assert getattr(engine.version, name) == getattr(torch.version, name)
    status, out, err = run_tsr("import torch\nprint(torch.version.__version__ == torch.__version__)\n")
    assert (status, out) == (0, "True\n"), err


# ---- nn.Buffer -----------------------------------------------------------------------------------------------
BUFFER = """
import torch
import torch.nn as nn
class Causal(nn.Module):
    def __init__(self, n):
        super().__init__()
        self.mask = nn.Buffer(torch.tril(torch.ones(n, n)))
        self.scratch = nn.Buffer(torch.zeros(2), persistent=False)
        self.plain = torch.ones(1)
    def forward(self, x):
        return (x @ self.mask).sum()
m = Causal(3)
print(m.state_dict())
print([n for n, _ in m.named_buffers()])
print(isinstance(m.mask, nn.Buffer), isinstance(m.plain, nn.Buffer), isinstance(torch.ones(1), nn.Buffer))
print(type(nn.Buffer(torch.ones(2))), nn.Buffer(torch.ones(2)), nn.Buffer)
print(nn.Buffer(), nn.Buffer(torch.ones(2, requires_grad=True)))
x = torch.ones(2, 3, requires_grad=True)
m(x).backward()
print(x.grad)
m.mask = nn.Buffer(torch.eye(3))
print(m.mask, list(m.state_dict()))
m.double()
print(m.mask.dtype, m.scratch.dtype)
"""


def test_buffer_registers_on_assignment_as_torch() -> None:
    same_as_torch(BUFFER)


def test_buffer_errors_are_torch_s() -> None:
    def before_init(T):  # noqa: ANN001, ANN202
        class M(T.nn.Module):
            def __init__(self) -> None:
                self.b = T.nn.Buffer(T.ones(1))

        M()

    def over_parameter(T):  # noqa: ANN001, ANN202
        m = T.nn.Module()
        m.w = T.nn.Parameter(T.ones(1))
        m.w = T.nn.Buffer(T.ones(1))

    def over_attribute(T):  # noqa: ANN001, ANN202
        m = T.nn.Module()
        m.c = 5
        m.c = T.nn.Buffer(T.ones(1))

    for fn in (before_init, over_parameter, over_attribute):
        assert error_of(fn, engine) == error_of(fn, torch)


def test_buffer_is_a_detached_alias() -> None:
    for T in (torch, engine):
        x = T.ones(3)
        b = T.nn.Buffer(x)
        b.add_(1)
        assert x.tolist() == [2.0, 2.0, 2.0]
        assert b.is_leaf and not b.requires_grad


# ---- nn.DataParallel -------------------------------------------------------------------------------------
DATA_PARALLEL = """
import torch
import torch.nn as nn
torch.manual_seed(0)
net = nn.Sequential(nn.Linear(3, 2), nn.ReLU())
model = nn.DataParallel(net)
print(model)
print(model.device_ids, type(model), list(model.state_dict().keys()))
x = torch.randn(4, 3)
y = model(x)
print(y)
y.sum().backward()
print(net[0].weight.grad)
print(model.module is net, isinstance(model, nn.Module))
model2 = nn.parallel.DataParallel(nn.Linear(2, 2), device_ids=[0])
print(model2.device_ids)
try:
    nn.parallel.data_parallel(net, x)
except RuntimeError as e:
    print(e)
"""


@pytest.mark.skipif(engine.cuda.is_available(), reason="without a GPU, as torch's cpu build")
def test_data_parallel_without_a_gpu_wraps_its_module() -> None:
    same_as_torch(DATA_PARALLEL)


# ---- utils.data.StackDataset ---------------------------------------------------------------------------------
STACK = """
import torch
from torch.utils.data import StackDataset, TensorDataset, DataLoader
from torch.utils.data.dataset import StackDataset as S2
torch.manual_seed(0)
a = TensorDataset(torch.arange(6.).reshape(3, 2))
b = TensorDataset(torch.tensor([0, 1, 2]))
s = StackDataset(a, b)
print(len(s), s[1], S2 is StackDataset, type(s))
d = StackDataset(x=a, y=b)
print(d[2])
for batch in DataLoader(d, batch_size=2, shuffle=True):
    print(batch)
for batch in DataLoader(s, batch_size=2):
    print(batch)
for bad in [lambda: StackDataset(), lambda: StackDataset(a, y=b),
            lambda: StackDataset(a, TensorDataset(torch.zeros(2)))]:
    try:
        bad()
    except ValueError as e:
        print(e)
"""


def test_stack_dataset_as_torch() -> None:
    same_as_torch(STACK)


# ---- pin_memory / share_memory_ ------------------------------------------------------------------------------
SHARE = """
import torch
z = torch.ones(3)
print(z.is_shared(), z.is_pinned())
print(z.share_memory_() is z)
print(z.is_shared(), z[1:].is_shared(), z.view(3, 1).is_shared(), z.clone().is_shared())
m = torch.nn.Linear(2, 2)
m.share_memory()
print(all(p.is_shared() for p in m.parameters()))
"""


def test_share_memory_marks_the_storage() -> None:
    same_as_torch(SHARE)


@pytest.mark.skipif(engine.cuda.is_available(), reason="without a GPU, as torch's cpu build")
def test_pin_memory_without_a_gpu_is_torch_s_refusal() -> None:
    assert error_of(lambda T: T.ones(2).pin_memory(), engine) == error_of(lambda T: T.ones(2).pin_memory(), torch)


def test_pin_memory_with_a_gpu_gives_a_pinned_copy(monkeypatch: pytest.MonkeyPatch) -> None:
    import engine.backend

    monkeypatch.setattr(engine.backend, "cuda_available", lambda: True)
    x = engine.arange(3.0)
    p = x.pin_memory()
    assert p.is_pinned() and not x.is_pinned() and p.tolist() == x.tolist()
    assert p.pin_memory() is p
    p[0] = 5.0
    assert x[0].item() == 0.0


# ---- in-place forms, new_empty_strided, newaxis, warn_always ------------------------------------------------
INPLACE = """
import torch
x = torch.tensor([1., 2., 3.], requires_grad=True)
y = x * 1
y.ldexp_(torch.tensor([1, 2, 3]))
print(y)
y.sum().backward()
print(x.grad)
a = torch.tensor([1., 2., 3.]); print(a.igamma_(torch.tensor([0.5, 1., 2.])), a)
a = torch.tensor([1., 2., 3.]); print(a.igammac_(torch.tensor([0.5, 1., 2.])))
a = torch.tensor([1., 2., 3.]); print(a.nextafter_(torch.tensor([0., 3., 3.])) - torch.tensor([1., 2., 3.]))
a = torch.tensor([1., 2.]).double(); print(a.ldexp_(torch.tensor([1, -1])))
print(torch.ldexp_(torch.ones(2), torch.tensor([1, 2])))
x = torch.tensor([1., 2., 3.], requires_grad=True); y = x * 1
y.nextafter_(torch.zeros(3)); print(y.grad_fn.name())
y.sum().backward(); print(x.grad)
x = torch.tensor([1., 2., 3.], requires_grad=True); y = x * 1
y.igamma_(torch.ones(3)); print(y.grad_fn.name())
e = torch.ones(2, 3, dtype=torch.float64).new_empty_strided((2, 2), (1, 2)); print(e.shape, e.stride(), e.dtype)
e = torch.ones(2).new_empty_strided((3,), (2,), dtype=torch.int16); print(e.shape, e.stride(), e.dtype)
print(torch.newaxis, torch.arange(3)[:, torch.newaxis].shape)
print(torch.is_warn_always_enabled())
torch.set_warn_always(True)
print(torch.is_warn_always_enabled())
torch.set_warn_always(False)
"""


def test_inplace_forms_and_small_names_as_torch() -> None:
    same_as_torch(INPLACE)


@pytest.mark.parametrize("dtype", ["bool", "int32", "int64"])
def test_ldexp_inplace_refuses_integers_as_torch(dtype: str) -> None:
    def fn(T):  # noqa: ANN001, ANN202
        return T.ones(2, dtype=getattr(T, dtype)).ldexp_(T.ones(2, dtype=T.int32))

    assert error_of(fn, engine) == error_of(fn, torch)


def test_set_warn_always_refuses_a_non_bool_as_torch() -> None:
    assert error_of(lambda T: T.set_warn_always("a"), engine) == error_of(lambda T: T.set_warn_always("a"), torch)


# ---- gradients: nextafter, ldexp ------------------------------------------------------------------------
def _grads(T, dtype: str, other_shape: tuple, fn: str) -> tuple:  # noqa: ANN001
    import numpy as np

    rng = np.random.default_rng(0)
    x = T.tensor(rng.standard_normal(5), dtype=getattr(T, dtype), requires_grad=True)
    o = T.tensor(rng.standard_normal(other_shape), dtype=getattr(T, dtype), requires_grad=True)
    z = getattr(T, fn)(x, o)
    g = T.tensor(rng.standard_normal(tuple(z.shape)), dtype=getattr(T, dtype))
    z.backward(g)
    return z.tolist(), z.grad_fn.name(), x.grad.tolist(), o.grad.tolist()


@pytest.mark.parametrize("fn", ["nextafter", "ldexp"])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("other_shape", [(5,), (1,), (3, 1)])
def test_gradients_match_torch_bit_for_bit(fn: str, dtype: str, other_shape: tuple) -> None:
    assert _grads(engine, dtype, other_shape, fn) == _grads(torch, dtype, other_shape, fn)


def test_ldexp_saves_its_result_as_torch() -> None:
    def changed_result(T):  # noqa: ANN001, ANN202
        x = T.randn(3, requires_grad=True)
        z = T.ldexp(x, T.tensor([1, 2, 3]))
        z.mul_(2)
        z.sum().backward()

    def changed_input(T):  # noqa: ANN001, ANN202 - torch saves no input: changing it is no error
        x = T.randn(3, requires_grad=True)
        y = x * 1
        z = T.ldexp(y, T.randn(3, requires_grad=True))
        y.add_(1)
        z.sum().backward()
        return x.grad.tolist()

    assert error_of(changed_result, engine) == error_of(changed_result, torch)
    torch.manual_seed(0)
    engine.manual_seed(0)
    assert changed_input(engine) == changed_input(torch)


def test_help_knows_the_new_names() -> None:
    src = "import torch\nhelp(torch.nn.Buffer)\nhelp(torch.nn.DataParallel)\nhelp(torch.ones(1).pin_memory)\n"
    status, out, err = run_tsr(src)
    assert status == 0, err
    assert out.startswith("torch.nn.Buffer(data=None, *, persistent=True)\n")
    assert "torch.nn.DataParallel(module, device_ids=None, output_device=None, dim=0)\n" in out
    assert "Tensor.pin_memory() -> Tensor\n" in out


MODULE_COMPILE = """
import torch
m = torch.nn.Sequential(torch.nn.Linear(2, 3), torch.nn.ReLU())
print(m.compile())
y = m(torch.ones(4, 2))
print(y.grad_fn.name(), type(m))
print(m.compile(backend="eager", mode=None), m(torch.ones(4, 2)).grad_fn.name())
for kw in [dict(backend="nope"), dict(mode="fast"), dict(mode="default", options={})]:
    try:
        m.compile(**kw)
    except Exception as e:
        print(type(e).__name__, e)
print(list(m.state_dict()))
"""


def test_module_compile_in_place_as_torch() -> None:
    same_as_torch(MODULE_COMPILE)


# ---- nn.AdaptiveLogSoftmaxWithLoss --------------------------------------------------------------------------
ADAPTIVE = """import torch
import torch.nn as nn
torch.manual_seed(0)
asm = nn.AdaptiveLogSoftmaxWithLoss(8, 10, cutoffs=[3, 6], div_value=2.0)
print(asm)
x = torch.randn(5, 8, requires_grad=True)
t = torch.tensor([0, 4, 9, 2, 7])
out = asm(x, t)
print(out)
print(out.output.grad_fn.name(), out.loss.grad_fn.name())
out.loss.backward()
print(x.grad)
print(asm.head.weight.grad)
print(asm.tail[1][0].weight.grad)
print(asm.log_prob(x))
print(asm.predict(x))
one = asm(torch.randn(8), torch.tensor(5))
print(one)
single = asm(torch.randn(1, 8), torch.tensor([8]))
print(single.output.shape, single.loss)
for bad in [lambda: nn.AdaptiveLogSoftmaxWithLoss(8, 10, cutoffs=[]),
            lambda: nn.AdaptiveLogSoftmaxWithLoss(8, 10, cutoffs=[6, 3]),
            lambda: asm(x, torch.tensor([0, 1, 10, 2, 3])), lambda: asm(x, t[:3]),
            lambda: asm(x, t.view(5, 1)),
            lambda: asm(torch.randn(2, 2, 8), torch.tensor([1, 2]))]:
    try:
        bad()
    except Exception as e:
        print(type(e).__name__, e)
print(type(asm), list(asm.state_dict()))
a2 = nn.AdaptiveLogSoftmaxWithLoss(4, 5, cutoffs=[2], head_bias=True, dtype=torch.float64)
x2 = torch.randn(6, 4, dtype=torch.float64)
print(a2(x2, torch.tensor([0, 1, 2, 3, 4, 0])).loss, a2.predict(x2))
"""


def test_adaptive_log_softmax_as_torch() -> None:
    same_as_torch(ADAPTIVE)


# ---- optim.Muon ----------------------------------------------------------------------------------------------
MUON = """import torch
torch.manual_seed(0)
model = torch.nn.Sequential(torch.nn.Linear(6, 5, bias=False), torch.nn.Tanh(), torch.nn.Linear(5, 3, bias=False))
opt = torch.optim.Muon(model.parameters(), lr=0.02)
x = torch.randn(8, 6)
y = torch.randn(8, 3)
for step in range(5):
    opt.zero_grad()
    loss = torch.nn.functional.mse_loss(model(x), y)
    loss.backward()
    opt.step()
    print(repr(loss.item()))
print(model[0].weight)
print(opt.state_dict()["param_groups"])
print(list(opt.state[model[0].weight]))
opt2 = torch.optim.Muon([torch.nn.Parameter(torch.randn(4, 7, dtype=torch.float64))], nesterov=False,
                        adjust_lr_fn="match_rms_adamw", ns_steps=3)
p = opt2.param_groups[0]["params"][0]
p.grad = torch.randn(4, 7, dtype=torch.float64)
opt2.step(); print(p)
for bad in [lambda: torch.optim.Muon([torch.nn.Parameter(torch.randn(3))]),
            lambda: torch.optim.Muon(model.parameters(), lr=-1),
            lambda: torch.optim.Muon(model.parameters(), adjust_lr_fn="x"),
            lambda: torch.optim.Muon(model.parameters(), momentum=-1)]:
    try:
        bad()
    except Exception as e:
        print(type(e).__name__, e)
print(opt)
"""


def test_muon_trains_as_torch() -> None:
    same_as_torch(MUON)


def _muon_run(T, shape: tuple, dtype: str, steps: int = 3) -> tuple:  # noqa: ANN001
    import numpy as np

    rng = np.random.default_rng(1)
    p = T.nn.Parameter(T.tensor(rng.standard_normal(shape), dtype=getattr(T, dtype)))
    opt = T.optim.Muon([p], lr=0.05, weight_decay=0.01)
    for _ in range(steps):
        p.grad = T.tensor(rng.standard_normal(shape), dtype=getattr(T, dtype))
        opt.step()
    return p.detach().tolist(), opt.state[p]["momentum_buffer"].tolist()


@pytest.mark.parametrize(("shape", "dtype"), [((5, 3), "float32"), ((3, 5), "float32"), ((16, 16), "float32"),
                                             ((5, 3), "float64"), ((3, 5), "float64")])  # fmt: skip
def test_muon_steps_are_torch_s_bits_on_small_matrices(shape: tuple, dtype: str) -> None:
    assert _muon_run(engine, shape, dtype) == _muon_run(torch, shape, dtype)


def test_muon_on_larger_matrices_within_a_bfloat16_step() -> None:
    # (the Newton-Schulz products run in bfloat16: where the engine's bfloat16 gemm sums in another order than
    # torch's oneDNN kernel, a product can round to the neighbouring bfloat16, about 4e-3 relative)
    import numpy as np

    got, want = _muon_run(engine, (48, 64), "float32"), _muon_run(torch, (48, 64), "float32")
    assert np.allclose(got[0], want[0], atol=2e-3, rtol=0)
    assert got[1] == want[1]


# ---- the cuda half, on tests/fakecupy.py (a cupy emulator on numpy) in a subprocess ------------------------
FAKE_CUDA = """
import os, sys, warnings
sys.path.insert(0, {tests!r})
os.environ["TCLI_MKL"] = "0"
import fakecupy
fakecupy.install()
import engine as torch
warnings.simplefilter("ignore")
torch.manual_seed(0)
net = torch.nn.Sequential(torch.nn.Linear(3, 2), torch.nn.ReLU())
m = torch.nn.DataParallel(net)
print(m.device_ids, m.output_device, m.src_device_obj, net[0].weight.device)
x = torch.randn(4, 3)
y = m(x)
y.sum().backward()
print(y.device, y.grad_fn.name(), net[0].weight.grad.device, list(m.state_dict()))
print(torch.nn.parallel.data_parallel(net, x).device)
class Echo(torch.nn.Module):
    def forward(self, d, k=None):
        return str(d["a"].device), str(d["b"][0].device), d["b"][1], str(k.device)
print(torch.nn.DataParallel(Echo())({{"a": x, "b": (x, 3)}}, k=x))
xp = x.pin_memory()
print(xp.is_pinned(), x.is_pinned(), xp.to("cuda", non_blocking=True).device)
c = torch.ones(2, device="cuda")
print(c.is_shared(), c.share_memory_() is c, c.is_pinned())
try:
    c.pin_memory()
except RuntimeError as e:
    print(e)
with torch.cuda.amp.autocast():
    z = torch.ones(2, 3, device="cuda") @ torch.ones(3, 2, device="cuda")
print(z.dtype, torch.cuda.amp.GradScaler().is_enabled())
DataLoader, TensorDataset = torch.utils.data.DataLoader, torch.utils.data.TensorDataset
ds = TensorDataset(torch.arange(6.).reshape(3, 2), torch.arange(3))
print([(a.is_pinned(), b.is_pinned(), a.device) for a, b in DataLoader(ds, batch_size=2, pin_memory=True)])
print([d["x"].is_pinned() for d in DataLoader([{{"x": torch.ones(2)}}] * 2, batch_size=2, pin_memory=True)])
"""


def test_cuda_paths_on_the_emulator() -> None:
    import os
    import subprocess
    import sys
    from pathlib import Path

    tests = str(Path(__file__).resolve().parent)
    env = dict(os.environ, PYTHONPATH=str(Path(tests).parent))
    r = subprocess.run([sys.executable, "-c", FAKE_CUDA.format(tests=tests)], capture_output=True, text=True,
                       env=env, timeout=300)  # fmt: skip
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines() == [
        "[0] 0 cuda:0 cuda:0",
        "cuda:0 ReluBackward0 cuda:0 ['module.0.weight', 'module.0.bias']",
        "cuda:0",
        "('cuda:0', 'cuda:0', 3, 'cuda:0')",
        "True False cuda:0",
        "True True False",
        "cannot pin 'torch.cuda.FloatTensor' only dense CPU tensors can be pinned",
        "torch.float16 True",
        "[(True, True, device(type='cpu')), (True, True, device(type='cpu'))]",
        "[True]",
    ]


# ---- interpolate(antialias=True) -----------------------------------------------------------------------------
def _aa(T, shape: tuple, size, sf, mode: str, dtype: str, ac: bool, cl: bool, seed: int) -> tuple:  # noqa: ANN001
    import numpy as np

    rng = np.random.default_rng(seed)
    x = T.tensor(rng.standard_normal(shape), dtype=getattr(T, dtype))
    if cl:
        x = x.contiguous(memory_format=T.channels_last)
    x.requires_grad_(True)
    y = T.nn.functional.interpolate(x, size=size, scale_factor=sf, mode=mode, antialias=True, align_corners=ac)
    y.backward(T.tensor(rng.standard_normal(tuple(y.shape)), dtype=getattr(T, dtype)))
    return y.detach().tolist(), x.grad.tolist(), y.grad_fn.name(), y.stride(), x.grad.stride()


AA_CASES = [
    ((1, 2, 9, 11), (4, 5), None, False, False),  # windows of 3 to 5 taps
    ((2, 3, 32, 32), (7, 13), None, False, False),
    ((1, 1, 10, 10), (20, 15), None, False, False),  # upsampling
    ((1, 2, 17, 9), None, 0.37, False, False),  # a scale factor, passed to the kernel
    ((1, 1, 12, 12), (5, 5), None, True, False),  # align_corners: the scale (in - 1) / (out - 1)
    ((1, 1, 64, 48), (11, 47), None, False, False),  # windows past one vector block
    ((1, 5, 25, 24), (16, 43), None, False, True),  # channels_last in, channels_last out
    ((2, 3, 9, 11), (6, 1), None, False, False),  # one output column: torch repeats the first row
    ((1, 2, 2, 6), None, 0.5, False, False),
]


@pytest.mark.parametrize("mode", ["bilinear", "bicubic"])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize(("shape", "size", "sf", "ac", "cl"), AA_CASES)
def test_antialiased_interpolate_is_torch_s_bits(
    shape: tuple, size, sf, ac: bool, cl: bool, mode: str, dtype: str
) -> None:  # noqa: ANN001
    seed = len(shape) + shape[-1]
    assert _aa(engine, shape, size, sf, mode, dtype, ac, cl, seed) == _aa(
        torch, shape, size, sf, mode, dtype, ac, cl, seed
    )


def test_antialiased_interpolate_repeats_the_first_row_for_one_column_as_torch() -> None:
    for T in (torch, engine):
        y = T.nn.functional.interpolate(T.arange(9.0).reshape(1, 1, 9, 1), size=(4, 1), mode="bilinear", antialias=True)
        assert len(set(y.flatten().tolist())) == 1


@pytest.mark.parametrize("dtype", ["float16", "bfloat16", "int32"])
def test_antialiased_interpolate_refuses_dtypes_as_torch(dtype: str) -> None:
    def fn(T):  # noqa: ANN001, ANN202
        x = T.ones(1, 1, 4, 4, dtype=getattr(T, dtype))
        return T.nn.functional.interpolate(x, size=(2, 2), mode="bilinear", antialias=True)

    assert error_of(fn, engine) == error_of(fn, torch)


def test_antialiased_interpolate_argument_errors_as_torch() -> None:
    for kw in (dict(mode="nearest"), dict(mode="bilinear", size=(2,)), dict(mode="linear")):

        def fn(T, kw=kw):  # noqa: ANN001, ANN202
            x = T.ones(1, 1, 4, 4) if kw["mode"] != "linear" else T.ones(1, 1, 4)
            return T.nn.functional.interpolate(x, **{"size": (2, 2), **kw}, antialias=True)

        assert error_of(fn, engine) == error_of(fn, torch)


DEPRECATED_MODULES = """
import torch
import torch.nn as nn
torch.manual_seed(0)
crit = nn.NLLLoss2d(ignore_index=1)
x = torch.randn(2, 3, 4, 4).log_softmax(1).requires_grad_()
t = torch.randint(0, 3, (2, 4, 4))
loss = crit(x, t)
print(crit, loss, type(crit), isinstance(crit, nn.NLLLoss))
loss.backward()
print(x.grad.sum())
c = nn.Container(a=nn.Linear(2, 2), b=nn.ReLU())
print(c, type(c), list(c.state_dict()))
"""


def test_nllloss2d_and_container_as_torch() -> None:
    err = same_as_torch(DEPRECATED_MODULES)
    assert "prog.tsr:5:8: FutureWarning: `NLLLoss2d` has been deprecated. Please use `NLLLoss` instead" in err
    assert "prog.tsr:12:5: FutureWarning: `nn.Container` is deprecated." in err


# ---- torch.nn.attention: SDPBackend, sdpa_kernel; torch.backends.cuda's switches -------------------------------
SDPA_BACKENDS = """import torch, warnings
import torch.nn.functional as F
from torch.nn.attention import SDPBackend, sdpa_kernel
print(SDPBackend.MATH, repr(SDPBackend.MATH), int(SDPBackend.FLASH_ATTENTION), type(SDPBackend.MATH))
print(SDPBackend.MATH == SDPBackend.MATH, SDPBackend.MATH.name, SDPBackend.EFFICIENT_ATTENTION.value)
torch.manual_seed(0)
q = torch.randn(1, 2, 3, 4, requires_grad=True)
for b in [SDPBackend.MATH, SDPBackend.FLASH_ATTENTION, SDPBackend.EFFICIENT_ATTENTION, SDPBackend.CUDNN_ATTENTION,
          [SDPBackend.EFFICIENT_ATTENTION, SDPBackend.MATH], [SDPBackend.MATH, SDPBackend.FLASH_ATTENTION]]:
    try:
        with sdpa_kernel(b) as ctx:
            print(ctx, torch.backends.cuda.flash_sdp_enabled(), torch.backends.cuda.math_sdp_enabled(),
                  torch.backends.cuda.mem_efficient_sdp_enabled(), torch.backends.cuda.cudnn_sdp_enabled())
            out = F.scaled_dot_product_attention(q, q, q)
            print(out.grad_fn.name(), out)
    except Exception as e:
        print(type(e).__name__, e)
print(torch.backends.cuda.flash_sdp_enabled(), torch.backends.cuda.math_sdp_enabled())
try:
    with sdpa_kernel("math"):
        pass
except Exception as e:
    print(type(e).__name__, e)
with sdpa_kernel(SDPBackend.MATH):
    y = F.scaled_dot_product_attention(q, q, q, is_causal=True)
    y.sum().backward()
    print(y, q.grad)
torch.backends.cuda.enable_flash_sdp(False)
print(torch.backends.cuda.flash_sdp_enabled(), F.scaled_dot_product_attention(q, q, q).grad_fn.name())
torch.backends.cuda.enable_flash_sdp(True)
for n in ["enable_flash_sdp", "enable_mem_efficient_sdp", "enable_math_sdp", "enable_cudnn_sdp"]:
    try:
        getattr(torch.backends.cuda, n)("x")
    except Exception as e:
        print(n, type(e).__name__, e)
warnings.simplefilter("ignore")
with torch.backends.cuda.sdp_kernel(enable_flash=False) as k:
    print(k, torch.backends.cuda.flash_sdp_enabled(), F.scaled_dot_product_attention(q, q, q).grad_fn.name())
print(torch.backends.cuda.flash_sdp_enabled())
mha = torch.nn.MultiheadAttention(4, 2, batch_first=True)
with sdpa_kernel([]):
    try:
        print(mha(q[0], q[0], q[0], need_weights=False)[0].shape)
    except Exception as e:
        print(type(e).__name__, e)
"""


def test_sdpa_backends_as_torch() -> None:
    same_as_torch(SDPA_BACKENDS)


# ---- optim.Adafactor, and the vector norm's tail it reads ------------------------------------------------------
ADAFACTOR = """import torch
torch.manual_seed(0)
model = torch.nn.Sequential(torch.nn.Linear(6, 5), torch.nn.Tanh(), torch.nn.Linear(5, 3))
opt = torch.optim.Adafactor(model.parameters(), lr=0.05, weight_decay=0.01)
x = torch.randn(8, 6)
y = torch.randn(8, 3)
for step in range(6):
    opt.zero_grad()
    loss = torch.nn.functional.mse_loss(model(x), y)
    loss.backward()
    opt.step()
    print(repr(loss.item()))
print(model[0].weight.tolist())
print(model[2].bias.tolist())
print(opt.state_dict()["param_groups"])
print(sorted(opt.state[model[0].weight]), sorted(opt.state[model[0].bias]), opt.state[model[0].weight]["step"])
p = torch.nn.Parameter(torch.randn(2, 3, 4, dtype=torch.float64))
o2 = torch.optim.Adafactor([p], maximize=True, eps=(1e-20, 1e-3), d=2.0, beta2_decay=-0.5)
for _ in range(3):
    p.grad = torch.randn(2, 3, 4, dtype=torch.float64)
    o2.step()
print(p.tolist())
A = torch.optim.Adafactor
ps = list(model.parameters())
for bad in [lambda: A(ps, lr=-1), lambda: A(ps, beta2_decay=0.5), lambda: A(ps, eps=(-1, 1e-3)),
            lambda: A(ps, eps=(None, -1)), lambda: A(ps, d=0.5), lambda: A(ps, weight_decay=-1)]:
    try:
        bad()
    except Exception as e:
        print(type(e).__name__, e)
print(opt)
"""


def test_adafactor_trains_as_torch() -> None:
    same_as_torch(ADAFACTOR)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("n", [1, 2, 3, 5, 7, 9, 13, 17, 31, 33, 65, 257])
def test_vector_norm_over_the_last_dim_is_torch_s_bits(n: int, dtype: str) -> None:
    # (torch's loop after its 8-lane (4-lane for double) accumulators adds squares in blocks of four, the last
    # n % 4 by fused multiply-adds)
    import numpy as np

    g = np.random.default_rng(n).standard_normal((6, n)).astype(dtype)
    got = [engine.tensor(g).norm(dim=-1).tolist(), engine.tensor(g[0]).norm().item()]
    want = [torch.tensor(g).norm(dim=-1).tolist(), torch.tensor(g[0]).norm().item()]
    assert got == want


PIN_LOADER = """
import torch
from torch.utils.data import DataLoader, TensorDataset
ds = TensorDataset(torch.arange(6.).reshape(3, 2), torch.arange(3))
dl = DataLoader(ds, batch_size=2, pin_memory=True, pin_memory_device="cuda")
for x, y in dl:
    print(x, y, x.is_pinned())
print(dl.pin_memory, dl.pin_memory_device)
"""


@pytest.mark.skipif(engine.cuda.is_available(), reason="without a GPU, as torch's cpu build")
def test_data_loader_pin_memory_without_a_gpu_warns_as_torch() -> None:
    err = same_as_torch(PIN_LOADER)
    assert "prog.tsr:6:1: UserWarning: pin_memory_device is deprecated, the current accelerator will be used" in err
    assert (
        "prog.tsr:6:1: UserWarning: 'pin_memory' argument is set as true but no accelerator is found, then device "
        "pinned memory won't be used." in err
    )


# ---- Tensor.map_ ---------------------------------------------------------------------------------------------
MAP_ = """import torch
x = torch.tensor([1., 2., 3.]); y = torch.tensor([10., 20., 30.])
print(x.map_(y, lambda a, b: a * b + 1), x, x._version)
x = torch.tensor([[1, 2], [3, 4]]); print(x.map_(torch.tensor([1, 0]), lambda a, b: a - b))
b = torch.tensor([True, False]); print(b.map_(torch.tensor([True, True]), lambda a, c: a and c))
def f(a, b):
    return max(a, b)
print(torch.arange(4.).map_(torch.tensor(2.), f))
for g in [lambda: torch.ones(2, requires_grad=True).map_(torch.ones(2), lambda a, b: a),
          lambda: torch.ones(2).map_(torch.ones(3), lambda a, b: a),
          lambda: torch.ones(2).map_(torch.ones(2), lambda a, b: "x"),
          lambda: torch.ones(2).map_(2, lambda a, b: a),
          lambda: torch.ones(2, dtype=torch.int32).map_(torch.ones(2), lambda a, b: a + b),
          lambda: torch.ones(2).map_(torch.ones(2), 3),
          lambda: torch.ones(2, requires_grad=True).map_(2, lambda a, b: a),
          lambda: torch.ones(2, requires_grad=True).map_(torch.ones(2, dtype=torch.int64), lambda a, b: a)]:
    try:
        print(g())
    except Exception as e:
        print(type(e).__name__, e)
"""


def test_map_inplace_as_torch() -> None:
    same_as_torch(MAP_)
