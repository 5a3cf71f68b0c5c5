"""tsr with the engine: PyTorch programs print what PyTorch prints; imports, grad modes, tensor
attributes, in-place updates and tcli's graph()/show()."""

from __future__ import annotations

import contextlib
import io
import re
import textwrap

import pytest

from tcli.session import Session


def run_tsr(src: str, **options: object) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    session = Session(stdout=out, stderr=err, color=False, **options)  # type: ignore[arg-type]
    status = session.run_source(textwrap.dedent(src), "<test>")
    return status, out.getvalue(), err.getvalue()


def run_torch(src: str) -> str:
    """The reference: real PyTorch running the same (test-authored) program."""
    torch = pytest.importorskip("torch")
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(textwrap.dedent(src), "<reference>", "exec"), {"__name__": "__main__", "torch": torch})
    return out.getvalue()


NUM = re.compile(r"[-+]?(?:\d+\.\d*|\.\d+|\d+)(?:e[-+]?\d+)?")


def same_output(got: str, want: str) -> bool:
    """Equal text, numbers equal to print precision (the corpus's rule)."""
    if got == want:
        return True
    if NUM.sub("#", got) != NUM.sub("#", want):
        return False
    return all(
        abs(float(g) - float(w)) <= 1e-4 + 1e-3 * abs(float(w)) for g, w in zip(NUM.findall(got), NUM.findall(want))
    )


PROGRAMS = {
    "types_print_as_torch_names": """
        import torch
        x = torch.ones(2, requires_grad=True)
        y = x * 2
        for v in (x, x.shape, x.dtype, x.device, y.grad_fn, torch.max(torch.ones(2, 2), 1), torch.Generator(),
                  y.grad_fn.next_functions[0][0]):
            print(type(v))
        print(type(x) is torch.Tensor, type(y) == torch.Tensor, isinstance(y, torch.Tensor), torch.float32)
        try:
            torch.ones(2) + torch.ones(3)
        except RuntimeError as e:
            print(type(e).__name__, e)
        def f(v):
            return v
        print(type(y.grad_fn).__name__, type(x).__name__, f.__name__, torch.relu.__name__, getattr(type(x), "__name__"))
        # torch's C types: a short __name__, while Python's own messages print the dotted tp_name
        for v in (x.shape, x.dtype, x.device, torch.finfo(torch.float32), torch.iinfo(torch.int8), torch.Generator()):
            print(type(v).__name__, type(v))
        try:
            a, b = x.device
        except TypeError as e:
            print(e)
    """,
    "import_forms": """
        import torch
        import torch.nn.functional as F
        from torch import tensor, nn
        from torch.nn import functional
        import math
        import torch.autograd
        x = tensor([-1.0, 0.5, 2.0])
        print(F.relu(x), functional.relu(x), nn.functional.relu(x), torch.autograd.grad is not None)
        print(math.sqrt(2.0), math.pi, math.floor(2.7), math.isclose(0.1 + 0.2, 0.3))
    """,
    "grad_modes": """
        import torch
        x = torch.tensor([1.0, 2.0], requires_grad=True)
        with torch.no_grad():
            y = x * 2
        with torch.enable_grad():
            z = x * 2
        with torch.set_grad_enabled(False):
            w = x * 3
        print(y.requires_grad, z.requires_grad, w.requires_grad, torch.is_grad_enabled())
        @torch.no_grad()
        def frozen(t):
            return t * 2
        print(frozen(x).requires_grad)
    """,
    "attributes_and_inplace": """
        import torch
        w = torch.tensor([1.0, 2.0], requires_grad=True)
        (w * w).sum().backward()
        print(w.grad)
        w.grad = None
        print(w.grad, w.is_leaf, w.requires_grad, w.shape, w.dtype, w.device)
        with torch.no_grad():
            w -= 0.5
            w *= 2
        print(w)
        t = torch.arange(6.0).reshape(2, 3)
        t[0, 1] = 10
        t[1] += 1
        print(t, t.T.shape, t[:, 1:], t[..., 0], t[None].shape)
        d = w.detach()
        d.requires_grad = True
        print(d.requires_grad)
    """,
    "training_loop": """
        import torch
        torch.manual_seed(0)
        x = torch.linspace(-1, 1, 10).unsqueeze(1)
        y = 2 * x - 1
        w = torch.zeros(1, 1, requires_grad=True)
        b = torch.zeros(1, requires_grad=True)
        for step in range(30):
            loss = ((x @ w + b - y) ** 2).mean()
            loss.backward()
            with torch.no_grad():
                w -= 0.3 * w.grad
                b -= 0.3 * b.grad
            w.grad.zero_()
            b.grad.zero_()
        print(round(w.item(), 3), round(b.item(), 3), round(loss.item(), 5))
    """,
    "autograd_functions": """
        import torch
        x = torch.tensor([3.0], requires_grad=True)
        y = x ** 3
        (g,) = torch.autograd.grad(y, x, create_graph=True)
        (g2,) = torch.autograd.grad(g, x)
        print(g, g2)
        a = torch.tensor([1.0, 2.0], requires_grad=True)
        b = (a * 2).sum()
        b.backward(retain_graph=True)
        b.backward()
        print(a.grad, b.grad_fn.name(), [n for n, _ in b.grad_fn.next_functions][0].name())
    """,
    "autograd_functional_and_checkpoint": """
        import torch
        import torch.utils.checkpoint
        from torch.autograd.functional import jacobian
        x = torch.tensor([0.5, -1.0, 2.0])
        print(torch.autograd.functional.hessian(lambda t: (t.sin() * t).sum(), x, create_graph=True))
        print(jacobian(lambda a, b: (a * b, a.exp()), (x, x)))
        for bad in (lambda t: [t], lambda t: 3.0, lambda t: (t, None)):
            try:
                jacobian(bad, x)
            except TypeError as e:
                print(e)
        try:
            torch.autograd.functional.hvp(lambda t: t * 2, x, x, strict=True)
        except RuntimeError as e:
            print(e)
        calls = []
        def f(t):
            calls.append(len(calls))
            return torch.tanh(t) * t
        w = x.clone().requires_grad_()
        y = torch.utils.checkpoint.checkpoint(f, w, use_reentrant=False)
        y.sum().backward()
        print(y, w.grad, calls, type(torch.utils.checkpoint.CheckpointError("e")).__name__)
    """,
    "torch_func": """
        import torch
        import torch.func
        from torch.func import grad, vmap, functional_call, jacrev
        x = torch.tensor([0.5, -1.0, 2.0])
        print(torch.func.grad(lambda t: (t ** 3).sum())(x), torch.vmap is vmap, vmap(torch.dot)(x[:, None], x[:, None]))
        print(grad(grad(lambda t: t.sin()))(torch.tensor(1.0)), jacrev(lambda a, b: a * b, argnums=(0, 1))(x, x)[1])
        layer = torch.nn.Linear(3, 1)
        w = {"weight": torch.ones(1, 3), "bias": torch.zeros(1)}
        print(functional_call(layer, w, (x,)), layer.weight.shape, torch.func.grad_and_value(
            lambda p, s: functional_call(layer, p, (s,)).sum())(w, x))
        def per_example(p, s):
            return functional_call(layer, p, (s,)).sum()
        g = vmap(grad(per_example), in_dims=(None, 0))(w, torch.stack([x, 2 * x]))
        print(sorted(g), g["weight"])
        for bad in (lambda: grad(lambda t: t)(x), lambda: vmap(lambda t: t.sum(), in_dims=(0, 0))(x),
                    lambda: vmap(lambda t: t + torch.rand(()))(x)):
            try:
                bad()
            except (RuntimeError, ValueError) as e:
                print(type(e).__name__, e)
    """,
    # the "Learn the Basics" device line and the usual seeding boilerplate (backend flags are stored settings)
    "accelerator_and_backend_flags": """
        import random
        import numpy as np
        import torch
        import torch.backends.cudnn as cudnn
        from torch import accelerator

        device = torch.accelerator.current_accelerator().type if torch.accelerator.is_available() else "cpu"
        print(f"Using {device} device")
        print(accelerator.device_count(), accelerator.current_accelerator())
        print(torch.backends.mps.is_available(), torch.backends.mps.is_built())

        def seed_everything(seed):
            random.seed(seed)
            np.random.seed(seed)
            torch.manual_seed(seed)
            torch.cuda.manual_seed_all(seed)
            torch.backends.cudnn.deterministic = True
            torch.backends.cudnn.benchmark = False

        seed_everything(42)
        print(torch.backends.cudnn.deterministic, torch.backends.cudnn.benchmark, cudnn.deterministic)
        print(torch.backends.cudnn.enabled)
        print(torch.rand(2))
        print(torch.get_float32_matmul_precision(), torch.backends.cuda.matmul.allow_tf32)
        torch.set_float32_matmul_precision("high")
        print(torch.get_float32_matmul_precision(), torch.backends.cuda.matmul.allow_tf32)
        torch.set_float32_matmul_precision("highest")
        for f in (accelerator.current_device_index, accelerator.synchronize):
            try:
                f()
            except RuntimeError as e:
                print(e)
    """,
    "bfloat16": """
        import torch
        x = torch.tensor([1.0, 2.0, 3.14159, 1e-3], dtype=torch.bfloat16)
        print(x, x.dtype, x.element_size(), x.is_floating_point(), torch.finfo(torch.bfloat16))
        print(x * 1000, x.float(), (x + 1).dtype, (x + torch.ones(4)).dtype, x.sum(), x.mean())
        try:
            x.numpy()
        except TypeError as e:
            print(type(e).__name__, e)
        torch.manual_seed(0)
        model = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.ReLU(), torch.nn.Linear(8, 1)).bfloat16()
        opt = torch.optim.SGD(model.parameters(), lr=0.1)
        data = torch.randn(16, 4, dtype=torch.bfloat16)
        for step in range(3):
            loss = (model(data) - 1).pow(2).mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
            print(step, loss, model[0].weight.grad.dtype)
    """,
    "autocast_and_grad_scaler": """
        import torch
        torch.manual_seed(0)
        model = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.ReLU(), torch.nn.Linear(8, 2))
        opt = torch.optim.SGD(model.parameters(), lr=0.1)
        scaler = torch.amp.GradScaler("cpu", init_scale=1024.0, growth_interval=2)
        x, y = torch.randn(8, 4), torch.randint(0, 2, (8,))
        for step in range(4):
            opt.zero_grad()
            with torch.autocast(device_type="cpu", dtype=torch.bfloat16):
                logits = model(x)
                loss = torch.nn.functional.cross_entropy(logits, y)
            print(step, logits.dtype, loss.dtype, torch.is_autocast_enabled("cpu"))
            scaler.scale(loss).backward()
            scaler.step(opt)
            scaler.update()
            print(scaler.get_scale(), model[0].weight.grad.dtype, torch.is_autocast_enabled("cpu"))
        print(scaler.state_dict())

        @torch.autocast("cpu")
        def f(a, b):
            return a @ b

        print(f(torch.ones(2, 2), torch.ones(2, 2)), torch.get_autocast_dtype("cpu"))
    """,
    "tensors_in_containers": """
        import torch
        ts = [torch.tensor(float(i)) for i in range(3)]
        print(ts, {"sum": sum(ts)}, max(ts), sorted(ts, reverse=True)[0], [t.item() for t in ts if t > 0])
        print(f"{ts[1].item():.2f} {torch.tensor(2.5)}", "{}".format(torch.ones(2)))
        print(torch.tensor([1, 2]).tolist(), len(torch.zeros(4, 2)), list(torch.arange(3)))
    """,
}


@pytest.mark.parametrize("name", sorted(PROGRAMS))
def test_program_prints_what_torch_prints(name: str) -> None:
    src = PROGRAMS[name]
    status, out, err = run_tsr(src)
    assert (status, err) == (0, "")
    want = run_torch(src)
    assert same_output(out, want), f"\n--- tsr\n{out}\n--- torch\n{want}"


def test_backend_flags_are_settable_on_torch_modules() -> None:
    # (not compared with torch: its legacy TF32 switches change process-wide state the other tests read)
    status, out, err = run_tsr("""
        import torch
        torch.backends.cuda.matmul.allow_tf32 = True
        print(torch.backends.cuda.matmul.allow_tf32, torch.get_float32_matmul_precision())
        torch.backends.cuda.matmul.allow_tf32 = False
        torch.backends.cudnn.allow_tf32 = False
        print(torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32)
        torch.backends.cudnn.allow_tf32 = True
    """)
    assert (status, out, err) == (0, "True high\nFalse False\n", "")


def test_only_the_backend_flags_are_settable_on_torch_modules() -> None:
    for line in ("torch.backends.cudnn.foo = 1", "torch.backends.cuda.matmul.foo = 1", "torch.backends.mps.x = 1"):
        status, _, err = run_tsr(f"import torch\n{line}\n")
        assert status == 1 and "AttributeError" in err, err


def test_torch_errors_keep_type_and_text_and_can_be_caught() -> None:
    src = """
        import torch
        x = torch.tensor([1.0, 2.0], requires_grad=True)
        try:
            (x * 2).backward()
        except RuntimeError as e:
            print("caught:", e)
        try:
            torch.zeros(2, 3).view(4)
        except RuntimeError as e:
            print("shape:", e)
    """
    status, out, err = run_tsr(src)
    assert (status, err) == (0, "")
    assert out == run_torch(src)


def test_tensor_methods_are_builtins_in_python_messages() -> None:
    """torch's tensor methods are C builtins: `x.size[0]` names a 'builtin_function_or_method' (the engine's are
    bound methods, 'method', as torch's own Python-level ones such as backward stay)."""
    src = """
        import torch
        x = torch.ones(2)
        for f in (lambda: x.size[0], lambda: x.size + 1, lambda: len(x.numel), lambda: int(x.size),
                  lambda: x.mean > 0, lambda: x.shape.numel[0], lambda: x.backward[0], lambda: x.shape(),
                  lambda: [i for i in x.size], lambda: float(x.item), lambda: x.repeat[0]):
            try:
                f()
            except TypeError as e:
                print(e)
        try:
            for i in x.tolist:
                pass
        except TypeError as e:
            print(e)
    """
    status, out, err = run_tsr(src)
    assert (status, err) == (0, "")
    assert out == run_torch(src)
    assert out.count("'builtin_function_or_method'") == 10


def test_seed_dtype_and_argv_options() -> None:
    src = "import torch\nprint(torch.rand(2), torch.ones(1).dtype, argv)\n"
    _, a, _ = run_tsr(src, seed=3, dtype="float64", argv=["s.tsr", "x"])
    _, b, _ = run_tsr(src, seed=3, dtype="float64", argv=["s.tsr", "x"])
    assert a == b and "torch.float64" in a and "['s.tsr', 'x']" in a


def test_graph_prints_a_tree_with_leaf_names_and_grads() -> None:
    src = """
        import torch
        w = torch.tensor([1.0], requires_grad=True)
        x = torch.tensor([2.0], requires_grad=True)
        y = torch.mul(torch.add(w, x), torch.add(w, 1))
        graph(y)
        y.backward()
        graph(y)
        graph(w)
        graph(torch.ones(2))
    """
    status, out, err = run_tsr(src)
    assert (status, err) == (0, "")
    lines = out.splitlines()
    assert lines[0].startswith("y = MulBackward0") and "shape=(1,)" in lines[0]
    assert lines[1].startswith("├── AddBackward0")
    assert re.match(r"│   ├── w  \S*AccumulateGrad  shape=\(1,\)  requires_grad$", lines[2])
    assert "(shown above)" in out
    after = lines[len(lines) // 2 - 1 :]
    assert any("grad=tensor([5.])" in line for line in after)
    assert any("(freed by backward)" in line for line in after)
    assert "w: leaf tensor" in out and "no autograd graph (requires_grad=False)" in out


def test_show_prints_summary_and_values() -> None:
    status, out, _ = run_tsr(
        "import torch\nshow(torch.tensor([[1.0, float('nan')], [3.0, float('inf')]], requires_grad=True))\n"
    )
    assert status == 0
    head, stats, *values = out.splitlines()
    assert head == "tensor  shape=(2, 2)  dtype=torch.float32  device=cpu  requires_grad=True"
    assert stats == "min=1  max=3  mean=2  std=1.414  nan=1  inf=1"
    assert values[0].startswith("tensor([[1., nan],")
    # a sample std needs two finite values
    status, out, _ = run_tsr("import torch\nshow(torch.tensor([1., float('nan'), float('inf')]))\n")
    assert out.splitlines()[1] == "min=1  max=1  mean=1  std=-  nan=1  inf=1"


def test_graph_and_show_use_rich_on_a_terminal() -> None:
    out = io.StringIO()
    session = Session(stdout=out, stderr=io.StringIO(), color=True)
    assert session.run_source("import torch\nshow(torch.ones(2))\n") == 0
    assert "\x1b[" in out.getvalue()  # styled


def test_tensor_numpy_is_a_restricted_array() -> None:
    status, out, err = run_tsr(
        """
        import torch
        a = torch.arange(4.0).numpy()
        print(a.shape, a.dtype, a.sum(), a.tolist())
        a.tofile("x")
        """
    )
    assert status == 1 and "(4,) float32 6.0 [0.0, 1.0, 2.0, 3.0]" in out
    assert "AttributeError: 'ndarray' object attribute 'tofile' is not available in tsr" in err


def test_numpy_facade_creation_subset() -> None:
    status, out, err = run_tsr(
        """
        import numpy as np
        import torch
        np.random.seed(0)
        a = np.array([[1, 2], [3, 4]], dtype=np.float32)
        print(np.zeros(2), np.arange(3), np.linspace(0, 1, 3), np.eye(2).shape, a.T.tolist())
        print(np.random.rand(2).shape, torch.tensor(a) * 2, np.pi > 3, np.float64(1.5).item())
        """
    )
    assert (status, err) == (0, ""), err
    assert "[0. 0.] [0 1 2] [0.  0.5 1. ]" in out and "tensor([[2., 4.],\n        [6., 8.]])" in out


def test_save_and_load_in_working_directory(tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    status, out, err = run_tsr(
        """
        import torch
        torch.save({"w": torch.ones(2), "step": 3}, "ckpt.pt")
        state = torch.load("ckpt.pt")
        print(state["w"], state["step"])
        """
    )
    assert (status, err) == (0, "")
    assert out == "tensor([1., 1.]) 3\n"
    assert (tmp_path / "ckpt.pt").exists()


def test_missing_pytorch_modules_are_named_as_missing_not_forbidden() -> None:
    status, out, err = run_tsr("import torch.jit\n")
    assert status == 1 and "ModuleNotFoundError: No module named 'torch.jit' in tcli's engine" in err
    status, out, err = run_tsr("import torch.ops\n")  # an engine internal stays forbidden
    assert status == 1 and "ModuleNotFoundError: tsr cannot import 'torch.ops'; it can import torch (and" in err


def test_scope_notes_for_torch_names_the_engine_lacks() -> None:
    """A torch name outside the engine (nn.CrossMapLRN2d, torch.onnx, linalg.ldl_factor) says so and
    names what is covered, rather than reading as a typo; a name torch lacks too keeps Python's message."""
    status, _, err = run_tsr("import torch\nimport torch.nn as nn\nlayer = nn.CrossMapLRN2d(3)\n")
    assert status == 1
    assert "AttributeError: torch.nn.CrossMapLRN2d is not in tcli's engine; it covers tensors, " in err
    assert "write other layers as a Module whose forward uses tensor ops" in err
    _, _, err = run_tsr("import torch\nprint(torch.onnx)\n")
    assert "torch.onnx is not in tcli's engine" in err
    _, _, err = run_tsr("import torch\nprint(torch.sparse.softmax)\n")  # (torch.sparse has sum and mm)
    assert "AttributeError: torch.sparse.softmax is not in tcli's engine" in err
    _, _, err = run_tsr("import torch\nprint(torch.linalg.ldl_factor)\n")
    assert "AttributeError: torch.linalg.ldl_factor is not in tcli's engine" in err
    _, _, err = run_tsr("from torch.utils import tensorboard\n")
    assert "ImportError: torch.utils.tensorboard is not in tcli's engine" in err
    status, out, err = run_tsr(
        "import torch\nfrom torch.nn.utils import prune\n"
        "print(prune.is_pruned(prune.identity(torch.nn.Linear(1, 1), 'bias')))\n"
    )
    assert (status, out) == (0, "True\n"), err
    _, _, err = run_tsr("import torch\nprint(torch.nn.foo)\n")
    assert "AttributeError: module 'torch.nn' has no attribute 'foo'" in err
    _, _, err = run_tsr("from torch.func import functionalize\n")
    assert "ImportError: torch.func.functionalize is not in tcli's engine" in err


def test_version_counter_is_readable_not_writable() -> None:
    src = "import torch\nx = torch.ones(2)\nv = x[:1]\nx.add_(1)\nv.mul_(2)\nprint(x._version, v._version)\n"
    status, out, _ = run_tsr(src)
    assert (status, out) == (0, "2 2\n")
    status, _, err = run_tsr("import torch\nx = torch.ones(2)\nx._version = 3\n")
    assert status == 1 and "access to attribute '_version' is not allowed" in err
    _, _, err = run_tsr("print([1]._version)\n")
    assert "access to attribute '_version' is not allowed" in err


def test_graph_names_leaves_kept_in_lists_and_dicts() -> None:
    status, out, _ = run_tsr(
        "import torch\nparams = {'w': torch.ones(2, requires_grad=True)}\nps = [torch.ones(2, requires_grad=True)]\n"
        "graph((params['w'] * ps[0]).sum())\n"
    )
    assert status == 0
    assert "params['w']  torch::autograd::AccumulateGrad" in out and "ps[0]  torch::autograd::AccumulateGrad" in out


def test_anomaly_mode_error_points_at_the_forward_line() -> None:
    src = """
        import torch
        x = torch.tensor([0.0, 1.0], requires_grad=True)
        with torch.autograd.detect_anomaly():
            y = torch.sqrt(x) * 0
            y.sum().backward()
    """
    status, out, err = run_tsr(src)
    assert status == 1
    assert "<test>:6:5: RuntimeError: Function 'SqrtBackward0' returned nan values in its 0th output." in err
    assert "hint: the op whose gradient is nan ran at <test>:5:5" in err
    assert '  File "<test>", line 5, in <module>\n    y = torch.sqrt(x) * 0\n' in err
