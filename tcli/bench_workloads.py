"""The workloads `tcli bench` times: one computation per class, written out three ways side by side.

* ``tensor(T, device, inputs, p)`` writes the computation once against a torch-like module ``T``: the same
  code runs on the engine (``T = engine``) and on PyTorch (``T = torch``).
* ``floor(xp, inputs, p)`` does the same arithmetic by hand in numpy or cupy (``xp``), gradients included,
  in the same dtype: the cost of the array library alone, which the engine can approach but not beat.
* ``inputs(p, rng)`` draws the inputs once as numpy arrays: all three variants start from identical numbers.

Each builder returns a *step*: a zero-argument callable doing one iteration and returning a tuple of results
(outputs, gradients or updated parameters). The bench calls each step once and compares the results before it
times anything, because a benchmark of a wrong computation is worthless.

The workload ``tsr_loop`` is the exception: its engine variant is a tsr script run by `tcli.session.Session`,
and its floor is the same loop written in Python on the engine, so its engine/floor ratio is the interpreter's
overhead.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from types import ModuleType
from typing import Any, ClassVar

import numpy as np

SIZES = ("small", "medium", "large")

Step = Callable[[], tuple]
Params = dict[str, Any]


@dataclass(frozen=True)
class Target:
    """A speed goal: engine time / `against` time must be at most `max_ratio` on `device` at `sizes`."""

    against: str  # "floor" or "torch"
    max_ratio: float
    device: str
    sizes: tuple[str, ...] = SIZES

    def applies(self, device: str, size: str) -> bool:
        return self.device == device and size in self.sizes

    def describe(self) -> str:
        return f"<={self.max_ratio:g}x {self.against}"


def to_numpy(x: Any) -> np.ndarray:
    """Host numpy copy of any variant's result: a torch/engine tensor, a cupy or numpy array, a scalar."""
    if hasattr(x, "detach"):  # torch and engine tensors
        return np.asarray(x.detach().cpu().numpy())
    if hasattr(x, "get") and not isinstance(x, np.ndarray):  # cupy arrays
        return np.asarray(x.get())
    return np.asarray(x)


class _Math:
    """The floor's exp, sigmoid, tanh and matrix product: the calls the engine itself makes on this array
    module. With the `exact` extra the engine computes these on cpu as torch does (MKL's products and VML
    functions, engine/ops/mkl.py; torch's SLEEF sigmoid kernel, engine/ops/activation_cpu.py), slower than
    numpy's own in exchange for torch's bits, and the floor does too: it measures the array library's cost,
    which the engine can approach, not a cheaper arithmetic that the engine chose not to do."""

    def __init__(self, xp: ModuleType) -> None:
        self.exp, self.tanh, self.mm = xp.exp, xp.tanh, xp.matmul
        self.sigmoid = self._sigmoid
        if xp is np:
            from engine.ops import activation_cpu, mkl

            if mkl.available():
                self.exp = lambda a: mkl.vml("exp", a)
                self.tanh = lambda a: mkl.vml("tanh", a)
                self.mm = mkl.gemm
                self.sigmoid = activation_cpu.sigmoid

    def _sigmoid(self, t: Any) -> Any:
        t = self.exp(-t)
        t = 1 + t
        return 1 / t


def _tensor(T: ModuleType, arr: np.ndarray, device: str, requires_grad: bool = False) -> Any:
    return T.tensor(arr, device=device, requires_grad=requires_grad)


class Workload:
    """Base class; subclasses register themselves in WORKLOADS in definition order."""

    name: ClassVar[str]
    description: ClassVar[str]
    # float32 results computed in different orders (BLAS kernels, pairwise sums) differ in the last bits.
    rtol: ClassVar[float] = 1e-4
    atol: ClassVar[float] = 1e-5
    # Throughput unit ("GB/s", "GFLOP/s") or None when time per call is the only meaningful figure.
    unit: ClassVar[str | None] = None
    targets: ClassVar[tuple[Target, ...]] = ()
    # The engine's result must carry requires_grad=True, or the bench would time the untracked path.
    grad_tracked: ClassVar[bool] = False
    _sizes: ClassVar[dict[str, Params]]

    def __init_subclass__(cls, **kw: Any) -> None:
        super().__init_subclass__(**kw)
        if "name" in cls.__dict__:
            WORKLOADS[cls.name] = cls()

    def params(self, size: str) -> Params:
        return dict(self._sizes[size])

    def shape(self, p: Params) -> str:
        """The problem size in a few characters, for the table."""
        return " ".join(f"{k}={v}" for k, v in p.items())

    def work(self, p: Params) -> float:
        """Bytes moved or floating-point operations per call, in the unit's base (B or FLOP)."""
        return 0.0

    def inputs(self, p: Params, rng: np.random.Generator) -> dict[str, np.ndarray]:
        raise NotImplementedError

    def tensor(self, T: ModuleType, device: str, inputs: dict[str, np.ndarray], p: Params) -> Step:
        raise NotImplementedError

    def floor(self, xp: ModuleType, inputs: dict[str, Any], p: Params) -> Step:
        raise NotImplementedError

    def build(self, variant: str, ctx: Any, inputs: dict[str, np.ndarray], p: Params) -> Step:
        """The step for one variant; `ctx` has .device, .engine, .torch and .xp (numpy or cupy)."""
        if variant == "floor":
            return self.floor(ctx.xp, {k: ctx.xp.asarray(v) for k, v in inputs.items()}, p)
        step = self.tensor(getattr(ctx, variant), ctx.device, inputs, p)
        if variant == "engine" and ctx.device != "cpu":
            return _launched(step)
        return step

    def comparable(self, results: list[np.ndarray], inputs: dict[str, np.ndarray]) -> list[np.ndarray]:
        """The numbers the correctness check compares, from one step's results (host numpy arrays)."""
        return results


WORKLOADS: dict[str, Workload] = {}


def _launched(step: Step) -> Step:
    """The engine's step with its fused elementwise chains launched before it returns: on a device the engine
    defers a chain until its result is read (engine/ops/fusion.py), where torch launches each op as it goes;
    timed without this, a chain would cost nothing on the GPU timeline."""
    from engine.ops.fusion import flush

    def launched() -> tuple:
        out = step()
        flush()
        return out

    return launched


def _randn(rng: np.random.Generator, *shape: int) -> np.ndarray:
    return rng.standard_normal(shape, dtype=np.float32)


class TinyAdd(Workload):
    name = "tiny_add"
    description = "a + b on 4-element float32 tensors, no grad tracking: per-op dispatch cost"
    _sizes = {s: {"n": 4} for s in SIZES}

    def shape(self, p: Params) -> str:
        return f"{p['n']} f32"

    def inputs(self, p: Params, rng: np.random.Generator) -> dict[str, np.ndarray]:
        return {"a": _randn(rng, p["n"]), "b": _randn(rng, p["n"])}

    def tensor(self, T: ModuleType, device: str, inputs: dict[str, np.ndarray], p: Params) -> Step:
        a = _tensor(T, inputs["a"], device, requires_grad=self.grad_tracked)
        b = _tensor(T, inputs["b"], device)

        def step() -> tuple:
            return (a + b,)

        return step

    def floor(self, xp: ModuleType, inputs: dict[str, Any], p: Params) -> Step:
        a, b = inputs["a"], inputs["b"]

        def step() -> tuple:
            return (a + b,)

        return step


class TinyAddGrad(TinyAdd):
    name = "tiny_add_grad"
    description = "a + b on 4-element float32 tensors, a requires_grad: dispatch plus graph recording"
    grad_tracked = True
    targets = (Target("torch", 0.8, "cpu"), Target("torch", 1.3, "cuda"))


class Elementwise(Workload):
    name = "elementwise"
    description = "tanh(2*sigmoid(exp(x*y+z)*0.5)-1) on large float32 tensors: memory-bound op chain"
    rtol = 1e-4
    # torch's vectorized float32 exp/sigmoid/tanh differ from numpy's by up to ~5e-5 on a few of 4M O(1)
    # outputs (seen on this machine); a wrong computation is off by far more
    atol = 1e-4
    unit = "GB/s"
    _sizes = {"small": {"n": 1 << 16}, "medium": {"n": 1 << 22}, "large": {"n": 1 << 24}}
    targets = (Target("floor", 1.15, "cpu", ("medium", "large")),)

    def shape(self, p: Params) -> str:
        return f"{_count(p['n'])} f32"

    def work(self, p: Params) -> float:
        # Effective bytes: three inputs read once and one output written once, as a fused kernel would.
        return 4.0 * 4 * p["n"]

    def inputs(self, p: Params, rng: np.random.Generator) -> dict[str, np.ndarray]:
        return {k: _randn(rng, p["n"]) for k in "xyz"}

    def tensor(self, T: ModuleType, device: str, inputs: dict[str, np.ndarray], p: Params) -> Step:
        x, y, z = (_tensor(T, inputs[k], device) for k in "xyz")

        def step() -> tuple:
            s = ((x * y + z).exp() * 0.5).sigmoid()
            return ((s * 2 - 1).tanh(),)

        return step

    def floor(self, xp: ModuleType, inputs: dict[str, Any], p: Params) -> Step:
        x, y, z = inputs["x"], inputs["y"], inputs["z"]
        m = _Math(xp)

        def step() -> tuple:
            # One statement per op, as the engine and torch run them: in a nested expression numpy would
            # reuse temporaries in place ("elision"), which on large arrays measured slower here, and a
            # floor must be the fast way (the sigmoid too, in _Math). Python scalars keep float32 (NEP 50), as
            # they do in torch.
            t = x * y
            t = t + z
            t = m.exp(t)
            t = t * 0.5
            t = m.sigmoid(t)
            t = t * 2
            t = t - 1
            return (m.tanh(t),)

        return step


class Reduction(Workload):
    name = "reduction"
    description = "x.sum(dim=1) and x.mean(dim=0) of a large float32 matrix"
    rtol = 1e-4
    atol = 1e-3  # sums of thousands of terms, accumulated in different orders
    unit = "GB/s"
    _sizes = {"small": {"rows": 256, "cols": 256}, "medium": {"rows": 2048, "cols": 2048}}
    _sizes["large"] = {"rows": 4096, "cols": 4096}
    targets = (Target("floor", 1.15, "cpu", ("medium", "large")),)

    def shape(self, p: Params) -> str:
        return f"{p['rows']}x{p['cols']} f32"

    def work(self, p: Params) -> float:
        return 2.0 * 4 * p["rows"] * p["cols"]  # each reduction reads the matrix once

    def inputs(self, p: Params, rng: np.random.Generator) -> dict[str, np.ndarray]:
        return {"x": _randn(rng, p["rows"], p["cols"])}

    def tensor(self, T: ModuleType, device: str, inputs: dict[str, np.ndarray], p: Params) -> Step:
        x = _tensor(T, inputs["x"], device)

        def step() -> tuple:
            return (x.sum(dim=1), x.mean(dim=0))

        return step

    def floor(self, xp: ModuleType, inputs: dict[str, Any], p: Params) -> Step:
        x = inputs["x"]

        def step() -> tuple:
            return (x.sum(axis=1), x.mean(axis=0))

        return step


class Matmul(Workload):
    name = "matmul"
    description = "c = a @ b, c.sum().backward(): one forward and two backward matmuls"
    rtol = 1e-3
    atol = 1e-3
    unit = "GFLOP/s"
    _sizes = {"small": {"n": 128}, "medium": {"n": 512}, "large": {"n": 1024}}
    targets = (Target("floor", 1.15, "cpu", ("medium", "large")),)

    def shape(self, p: Params) -> str:
        return f"{p['n']}x{p['n']} f32"

    def work(self, p: Params) -> float:
        return 3 * 2.0 * p["n"] ** 3

    def inputs(self, p: Params, rng: np.random.Generator) -> dict[str, np.ndarray]:
        return {"a": _randn(rng, p["n"], p["n"]), "b": _randn(rng, p["n"], p["n"])}

    def tensor(self, T: ModuleType, device: str, inputs: dict[str, np.ndarray], p: Params) -> Step:
        a = _tensor(T, inputs["a"], device, requires_grad=True)
        b = _tensor(T, inputs["b"], device, requires_grad=True)

        def step() -> tuple:
            # Fresh gradients each call, as optimizer.zero_grad(set_to_none=True) leaves them: the floor
            # does not accumulate either.
            a.grad = None
            b.grad = None
            c = a @ b
            c.sum().backward()
            return (c, a.grad, b.grad)

        return step

    def floor(self, xp: ModuleType, inputs: dict[str, Any], p: Params) -> Step:
        a, b = inputs["a"], inputs["b"]
        mm = _Math(xp).mm

        def step() -> tuple:
            c = mm(a, b)
            c.sum()
            g = xp.ones_like(c)  # d(sum)/dc
            return (c, mm(g, b.T), mm(a.T, g))

        return step


class _MLP(Workload):
    """One SGD step of a two-layer ReLU MLP, MSE loss: forward, backward, update under no_grad, zero grads."""

    lr: ClassVar[float] = 0.01
    unit = "GFLOP/s"
    rtol = 1e-3
    atol = 1e-5

    def shape(self, p: Params) -> str:
        return f"{p['batch']}x{p['inp']}->{p['hidden']}->{p['out']}"

    def work(self, p: Params) -> float:
        fwd = 2.0 * p["batch"] * (p["inp"] * p["hidden"] + p["hidden"] * p["out"])
        return 3 * fwd  # backward costs about two forwards (grad of input and of weight)

    def inputs(self, p: Params, rng: np.random.Generator) -> dict[str, np.ndarray]:
        b, i, h, o = p["batch"], p["inp"], p["hidden"], p["out"]
        return {
            "x": _randn(rng, b, i),
            "y": _randn(rng, b, o),
            "w1": _randn(rng, i, h) / np.float32(math.sqrt(i)),
            "b1": _randn(rng, h) * np.float32(0.1),
            "w2": _randn(rng, h, o) / np.float32(math.sqrt(h)),
            "b2": _randn(rng, o) * np.float32(0.1),
        }

    def tensor(self, T: ModuleType, device: str, inputs: dict[str, np.ndarray], p: Params) -> Step:
        x = _tensor(T, inputs["x"], device)
        y = _tensor(T, inputs["y"], device)
        params = [_tensor(T, inputs[k], device, requires_grad=True) for k in ("w1", "b1", "w2", "b2")]
        w1, b1, w2, b2 = params
        lr = self.lr

        def step() -> tuple:
            h = (x @ w1 + b1).relu()
            d = h @ w2 + b2 - y
            loss = (d * d).mean()
            loss.backward()
            with T.no_grad():
                for q in params:
                    q -= lr * q.grad
                    q.grad.zero_()
            return (loss, *params)

        return step

    def floor(self, xp: ModuleType, inputs: dict[str, Any], p: Params) -> Step:
        x, y = inputs["x"], inputs["y"]
        # Copies: the step updates its parameters in place, and the inputs are shared by the variants.
        params = [inputs[k].copy() for k in ("w1", "b1", "w2", "b2")]
        w1, b1, w2, b2 = params
        lr = self.lr
        mm = _Math(xp).mm

        def step() -> tuple:
            pre = mm(x, w1) + b1
            h = xp.maximum(pre, 0)
            d = mm(h, w2) + b2 - y
            loss = (d * d).mean()
            gd = d * (2.0 / d.size)
            gw2 = mm(h.T, gd)
            gb2 = gd.sum(axis=0)
            gh = mm(gd, w2.T) * (pre > 0)
            gw1 = mm(x.T, gh)
            gb1 = gh.sum(axis=0)
            for q, g in zip(params, (gw1, gb1, gw2, gb2)):
                q -= lr * g
            return (loss, *params)

        return step

    def comparable(self, results: list[np.ndarray], inputs: dict[str, np.ndarray]) -> list[np.ndarray]:
        # An SGD step moves the weights by only lr*grad, which hides inside the tolerance on the weights;
        # compare the gradients the step applied instead.
        loss, *after = results
        grads = [(q - inputs[k]) / -self.lr for q, k in zip(after, ("w1", "b1", "w2", "b2"))]
        return [loss, *grads]


class MLPSmall(_MLP):
    name = "mlp_small"
    description = "SGD step of a 64x32->64->1 ReLU MLP, MSE loss: overhead-bound training step"
    _sizes = {s: {"batch": 64, "inp": 32, "hidden": 64, "out": 1} for s in SIZES}
    targets = (Target("torch", 0.9, "cpu"),)


class MLPModule(_MLP):
    """The small MLP's step as a tutorial writes it: nn.Sequential, nn.MSELoss and optim.SGD."""

    name = "mlp_module"
    description = "SGD step of the 64x32->64->1 MLP written with nn.Sequential, nn.MSELoss and optim.SGD"
    _sizes = MLPSmall._sizes

    def tensor(self, T: ModuleType, device: str, inputs: dict[str, np.ndarray], p: Params) -> Step:
        nn = T.nn
        model = nn.Sequential(nn.Linear(p["inp"], p["hidden"]), nn.ReLU(), nn.Linear(p["hidden"], p["out"]))
        model = model.to(device)
        first, last = model[0], model[2]
        with T.no_grad():  # the workload's weights (a Linear keeps its weight as out x in)
            for q, k in ((first.weight, "w1"), (first.bias, "b1"), (last.weight, "w2"), (last.bias, "b2")):
                q.copy_(_tensor(T, np.ascontiguousarray(inputs[k].T), device))
        x = _tensor(T, inputs["x"], device)
        y = _tensor(T, inputs["y"], device)
        loss_fn = nn.MSELoss()
        opt = T.optim.SGD(model.parameters(), lr=self.lr)

        def step() -> tuple:
            opt.zero_grad()
            loss = loss_fn(model(x), y)
            loss.backward()
            opt.step()
            return (loss, first.weight.T, first.bias, last.weight.T, last.bias)

        return step


class MLPLarge(_MLP):
    name = "mlp_large"
    description = "SGD step of a wide ReLU MLP, MSE loss: matmul-bound training step"
    _sizes = {
        "small": {"batch": 128, "inp": 256, "hidden": 256, "out": 1},
        "medium": {"batch": 512, "inp": 1024, "hidden": 1024, "out": 1},
        "large": {"batch": 1024, "inp": 4096, "hidden": 4096, "out": 1},  # issue 6's 4096x4096 GPU target
    }
    targets = (Target("torch", 1.1, "cuda", ("medium", "large")),)


class DeepGraph(Workload):
    name = "deep_graph"
    description = "1000 chained ops (x = x*1.0001 + 0.001, 500 times) on 16 elements, then backward"
    _sizes = {s: {"ops": 1000, "n": 16} for s in SIZES}

    def shape(self, p: Params) -> str:
        return f"{p['ops']} ops, {p['n']} f32"

    def inputs(self, p: Params, rng: np.random.Generator) -> dict[str, np.ndarray]:
        return {"x": _randn(rng, p["n"])}

    def tensor(self, T: ModuleType, device: str, inputs: dict[str, np.ndarray], p: Params) -> Step:
        x = _tensor(T, inputs["x"], device, requires_grad=True)
        rounds = p["ops"] // 2

        def step() -> tuple:
            x.grad = None
            y = x
            for _ in range(rounds):
                y = y * 1.0001 + 0.001
            y.sum().backward()
            return (y, x.grad)

        return step

    def floor(self, xp: ModuleType, inputs: dict[str, Any], p: Params) -> Step:
        x = inputs["x"]
        rounds = p["ops"] // 2

        def step() -> tuple:
            y = x
            for _ in range(rounds):
                y = y * 1.0001 + 0.001
            y.sum()
            g = xp.ones_like(x)
            for _ in range(rounds):  # the adds pass the gradient through; each mul scales it
                g = g * 1.0001
            return (y, g)

        return step


# The tsr program of tsr_loop. Its data and initial parameters arrive as globals (x, y, params, steps, lr) so
# that all three variants start from the same numbers; `TsrLoop.tensor` is the same loop in Python.
TSR_SCRIPT = """\
import torch

w1, b1, w2, b2 = params
for step in range(steps):
    h = (x @ w1 + b1).relu()
    d = h @ w2 + b2 - y
    loss = (d * d).mean()
    loss.backward()
    with torch.no_grad():
        for p in params:
            p -= lr * p.grad
            p.grad.zero_()
"""


class TsrLoop(_MLP):
    name = "tsr_loop"
    description = "a tsr script training the 64x32->64->1 MLP, run by the interpreter; floor: same loop in Python"
    unit = None
    _sizes = {
        "small": {"batch": 64, "inp": 32, "hidden": 64, "out": 1, "steps": 10},
        "medium": {"batch": 64, "inp": 32, "hidden": 64, "out": 1, "steps": 50},
        "large": {"batch": 64, "inp": 32, "hidden": 64, "out": 1, "steps": 200},
    }
    targets = tuple(Target("floor", 1.3, d) for d in ("cpu", "cuda"))

    def shape(self, p: Params) -> str:
        return f"{p['steps']} steps of {super().shape(p)}"

    def tensor(self, T: ModuleType, device: str, inputs: dict[str, np.ndarray], p: Params) -> Step:
        x = _tensor(T, inputs["x"], device)
        y = _tensor(T, inputs["y"], device)
        lr, steps = self.lr, p["steps"]

        def step() -> tuple:
            params = [_tensor(T, inputs[k], device, requires_grad=True) for k in ("w1", "b1", "w2", "b2")]
            w1, b1, w2, b2 = params
            for _ in range(steps):
                h = (x @ w1 + b1).relu()
                d = h @ w2 + b2 - y
                loss = (d * d).mean()
                loss.backward()
                with T.no_grad():
                    for q in params:
                        q -= lr * q.grad
                        q.grad.zero_()
            return (loss, *params)

        return step

    def interpreted(self, engine: ModuleType, device: str, inputs: dict[str, np.ndarray], p: Params) -> Step:
        """TSR_SCRIPT run by a tcli Session on the engine."""
        import io

        from tcli.session import Session

        err = io.StringIO()
        session = Session(stdout=io.StringIO(), stderr=err, device=device)
        g = session.globals
        g.update(x=_tensor(engine, inputs["x"], device), y=_tensor(engine, inputs["y"], device))
        g.update(steps=p["steps"], lr=self.lr)

        def step() -> tuple:
            g["params"] = [_tensor(engine, inputs[k], device, requires_grad=True) for k in ("w1", "b1", "w2", "b2")]
            if session.run_source(TSR_SCRIPT, "<tsr_loop>") != 0:
                raise RuntimeError(f"the tsr script failed: {err.getvalue().strip()}")
            return (g["loss"], *g["params"])

        return step

    def build(self, variant: str, ctx: Any, inputs: dict[str, np.ndarray], p: Params) -> Step:
        if variant == "engine":
            return self.interpreted(ctx.engine, ctx.device, inputs, p)
        # The floor is the same loop written in Python on the engine: the ratio is the interpreter's overhead.
        return self.tensor(ctx.engine if variant == "floor" else ctx.torch, ctx.device, inputs, p)

    def comparable(self, results: list[np.ndarray], inputs: dict[str, np.ndarray]) -> list[np.ndarray]:
        return results  # many steps move the weights far enough to compare them directly


def _count(n: int) -> str:
    for shift, suffix in ((20, "M"), (10, "K")):
        if n >= 1 << shift and n % (1 << shift) == 0:
            return f"{n >> shift}{suffix}"
    return str(n)
