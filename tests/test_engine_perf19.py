"""perf19's shortcuts give torch's bits and torch's graphs: F.linear's addmm past addmm's checks and decorators
(linalg.linear_addmm), the optimizers' float32 `add_(alpha=)` as an in-place fma (fma.fma32_), and the raw
backward's freeing of saved tensors (autograd.run_backward)."""

from __future__ import annotations

from fractions import Fraction
from typing import Any

import numpy as np
import pytest
import torch
import torch.nn.utils.parametrizations
import torch.nn.utils.parametrize
import torch.nn.utils.prune

import engine
from engine.ops import fma, linalg, mkl

pytestmark = pytest.mark.skipif(not mkl.available(), reason="bit-exact kernels need MKL 2024.2 (the `exact` extra)")


def _data(shape: tuple, seed: int, dtype: Any = np.float32) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal(shape).astype(dtype)


def _bits(t: Any) -> bytes:
    return t.detach().numpy().tobytes()


def _chain(fn: Any) -> list:
    """The graph under fn as (name, depth) pairs, depth first."""
    out: list = []

    def walk(n: Any, depth: int) -> None:
        if n is None:
            out.append(("None", depth))
            return
        out.append((type(n).__name__.replace("torch::autograd::", ""), depth))
        for m, _ in n.next_functions:
            walk(m, depth + 1)

    walk(fn, 0)
    return out


def _names(chain: list) -> list:
    return [(n.split(".")[-1], d) for n, d in chain]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("input_grad", [False, True])
def test_linear_matches_torch_values_grads_and_graph(dtype: Any, input_grad: bool) -> None:
    x, w, b = _data((16, 7), 0, dtype), _data((5, 7), 1, dtype), _data((5,), 2, dtype)
    res = {}
    for T in (torch, engine):
        xt = T.tensor(x, requires_grad=input_grad)
        wt = T.nn.Parameter(T.tensor(w))
        bt = T.nn.Parameter(T.tensor(b))
        out = T.nn.functional.linear(xt, wt, bt)
        graph = _names(_chain(out.grad_fn))
        (out * out).sum().backward()
        grads = [_bits(t.grad) for t in (wt, bt) + ((xt,) if input_grad else ())]
        res[T.__name__] = (_bits(out), out.dtype.itemsize if hasattr(out.dtype, "itemsize") else None, graph, grads)
    e, t = res["engine"], res["torch"]
    assert e[0] == t[0]
    assert e[2] == t[2]
    assert e[3] == t[3]


def test_linear_takes_the_short_path_only_where_addmm_could_not_fail() -> None:
    x = engine.tensor(_data((4, 3), 0))
    w = engine.nn.Parameter(engine.tensor(_data((2, 3), 1)))
    b = engine.nn.Parameter(engine.tensor(_data((2,), 2)))
    r = linalg.linear_addmm(b, x, w)
    assert r is not None and type(r.grad_fn).__name__ == "AddmmBackward0"
    assert linalg.linear_addmm(b, x, engine.nn.Parameter(engine.tensor(_data((2, 4), 1)))) is None  # sizes
    assert linalg.linear_addmm(b, x.double(), w) is None  # dtypes
    assert linalg.linear_addmm(b, x, engine.nn.Parameter(engine.tensor(_data((3, 2, 3), 1)))) is None  # ranks
    assert linalg.linear_addmm(engine.tensor(_data((4, 2), 2)), x, w) is None  # a 2-D bias: addmm's expand
    assert linalg.linear_addmm(b.half(), x.half(), w.half()) is None


@pytest.mark.parametrize(
    "shapes",
    [((4, 3), (2, 4), (2,)), ((4, 3), (2, 3), (3,)), ((4, 3), (2, 3), (4, 2))],
    ids=["inner-size", "bias-size", "bias-2d"],
)
def test_linear_errors_and_broadcasts_as_torch(shapes: tuple) -> None:
    xs, ws, bs = shapes
    got = {}
    for T in (torch, engine):
        args = [T.tensor(_data(s, i)) for i, s in enumerate(shapes)]
        try:
            got[T.__name__] = ("ok", _bits(T.nn.functional.linear(*args)))
        except RuntimeError as e:
            got[T.__name__] = ("error", str(e))
    assert got["engine"] == got["torch"]


def test_linear_dtype_mismatch_message_as_torch() -> None:
    msgs = []
    for T in (torch, engine):
        with pytest.raises(RuntimeError) as e:
            T.nn.functional.linear(
                T.tensor(_data((4, 3), 0)), T.tensor(_data((2, 3), 1)).double(), T.tensor(_data((2,), 2))
            )
        msgs.append(str(e.value))
    assert msgs[0] == msgs[1]


def _fma32_exact(x: np.ndarray, y: float, z: np.ndarray) -> np.ndarray:
    """RN32(x * y + z) elementwise from exact rationals: of the float32 values next to the float64 estimate, the
    nearest, ties to the even one."""
    res = []
    for a, c in zip(x.ravel().tolist(), z.ravel().tolist()):
        exact = Fraction(a) * Fraction(y) + Fraction(c)
        if exact == 0:
            res.append(np.float32(a * y + c))  # (an exact zero's sign: IEEE's, as the float64 sum gives it)
            continue
        near = np.float32(float(exact))
        cands = [np.nextafter(near, np.float32(-np.inf)), near, np.nextafter(near, np.float32(np.inf))]
        res.append(min(cands, key=lambda v: (abs(Fraction(float(v)) - exact), int(v.view(np.uint32)) & 1)))
    return np.array(res, np.float32).reshape(x.shape)


@pytest.mark.parametrize("n", [1, 3, 64, 2048])
def test_fma32_in_place_is_the_correctly_rounded_fma(n: int) -> None:
    rng = np.random.default_rng(n)
    doubled = 0
    for trial in range(12):
        x = (rng.standard_normal(n) * 2.0 ** rng.integers(-30, 4, n)).astype(np.float32)
        z = (rng.standard_normal(n) * 2.0 ** rng.integers(-4, 4, n)).astype(np.float32)
        y = float(np.float32(rng.choice([-0.0123, 0.3, -1e-3, 0.5, 2.0**-20, -3.0])))
        if trial % 2:
            # x * y = 2^-24 - 2^-70: added to a float32 z in [1, 2) with an odd last bit, the float64 sum lands
            # exactly halfway between z and the next float32 (a double rounding would go up); the fma keeps z
            x = np.full(n, 1 + 2.0**-23, np.float32)
            y = 2.0**-24 * (1 - 2.0**-23)
            z = (1 + (2 * rng.integers(0, 2**20, n) + 1) * 2.0**-23).astype(np.float32)
        want = _fma32_exact(x, y, z)
        ref = z.copy()
        fma.fma(x, y, ref, out=ref)
        got = z.copy()
        fma.fma32_(x, y, got)
        assert got.tobytes() == want.tobytes() == ref.tobytes()
        doubled += int(np.count_nonzero(got != (x.astype(np.float64) * y + z.astype(np.float64)).astype(np.float32)))
    assert doubled  # (double roundings were met, and resolved)


@pytest.mark.parametrize("momentum", [0.0, 0.9])
def test_sgd_steps_match_torch_for_every_parameter_shape(momentum: float) -> None:
    shapes = [(), (1,), (64,), (1, 64), (64, 32)]
    res = {}
    for T in (torch, engine):
        ps = [T.nn.Parameter(T.tensor(_data(s, i))) for i, s in enumerate(shapes)]
        opt = T.optim.SGD(ps, lr=0.0123, momentum=momentum, dampening=0.1 if momentum else 0.0)
        for k in range(4):
            opt.zero_grad()
            loss = sum(((p * T.tensor(_data(s, 10 + k + i))) ** 2).sum() for i, (p, s) in enumerate(zip(ps, shapes)))
            loss.backward()
            opt.step()
        res[T.__name__] = [_bits(p) for p in ps]
    assert res["engine"] == res["torch"]


def test_freed_and_reusable_graphs_after_a_raw_backward_as_torch() -> None:
    got = {}
    for T in (torch, engine):
        x = T.tensor(_data((3, 4), 0), requires_grad=True)
        out = []
        y = x.mean()  # saves no tensor: runs again
        y.backward()
        y.backward()
        out.append(_bits(x.grad))
        z = (x * x).sum()  # saves x: freed by the first backward
        z.backward()
        try:
            z.backward()
            out.append("ran")
        except RuntimeError as e:
            out.append(str(e).split(".")[0])
        out.append(_bits(x.grad))
        got[T.__name__] = out
    assert got["engine"] == got["torch"]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_matmul_operator_on_matrices_as_torch(dtype: Any) -> None:
    got = {}
    for T in (torch, engine):
        a = T.tensor(_data((9, 5), 0, dtype), requires_grad=True)
        b = T.tensor(_data((5, 3), 1, dtype), requires_grad=True)
        c = T.tensor(_data((3, 5), 2, dtype))
        r = a @ b
        r2 = a @ c.t()  # (a column-major operand)
        graph = _names(_chain(r.grad_fn)) + _names(_chain(r2.grad_fn))
        ((r * r).sum() + r2.sum()).backward()
        got[T.__name__] = (_bits(r), _bits(r2), graph, _bits(a.grad), _bits(b.grad))
    assert got["engine"] == got["torch"]


@pytest.mark.parametrize(
    "sa,sb,db",
    [
        ((4, 3), (2, 5), np.float32),
        ((4, 3), (3, 2), np.float64),
        ((3,), (3, 2), np.float32),
        ((2, 4, 3), (3, 2), np.float32),
    ],
    ids=["sizes", "dtypes", "vector", "batch"],
)
def test_matmul_operator_elsewhere_takes_matmul(sa: tuple, sb: tuple, db: Any) -> None:
    got = {}
    for T in (torch, engine):
        a, b = T.tensor(_data(sa, 0)), T.tensor(_data(sb, 1, db))
        try:
            got[T.__name__] = ("ok", _bits(a @ b))
        except RuntimeError as e:
            got[T.__name__] = ("error", str(e))
    assert got["engine"] == got["torch"]


def test_matmul_operator_under_autocast_as_torch() -> None:
    got = {}
    for T in (torch, engine):
        a, b = T.tensor(_data((4, 3), 0)), T.tensor(_data((3, 2), 1))
        with T.autocast("cpu", dtype=T.bfloat16):
            r = a @ b
        got[T.__name__] = (str(r.dtype), r.float().detach().numpy().tobytes())
    assert got["engine"] == got["torch"]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", [(64, 1), (3, 5), (7,), (2, 3, 4)])
def test_full_mean_as_torch(dtype: Any, shape: tuple) -> None:
    got = {}
    for T in (torch, engine):
        x = T.tensor(_data(shape, 3, dtype) * 100, requires_grad=True)
        m = x.mean()
        m2 = T.mean(x * x)
        (m + m2).backward()
        got[T.__name__] = (_bits(m), _bits(m2), str(m.dtype), type(m.grad_fn).__name__, _bits(x.grad))
        with T.no_grad():
            got[T.__name__] += (_bits(x.mean()), x.mean().requires_grad)
    assert got["engine"] == got["torch"]


def test_square_of_a_tensor_backward_as_torch() -> None:
    got = {}
    for T in (torch, engine):
        x = T.tensor(_data((64, 1), 4) * 3, requires_grad=True)
        w = T.tensor(_data((64, 1), 5), requires_grad=True)
        d = x * w - 0.25
        (d * d).mean().backward()
        y = T.tensor(_data((5,), 6), requires_grad=True)
        (y * y).sum().backward()
        got[T.__name__] = (_bits(x.grad), _bits(w.grad), _bits(y.grad))
    assert got["engine"] == got["torch"]


def _linear_cases(T: Any) -> list:
    """Linear modules whose weight or bias is found somewhere other than _parameters, or is None."""
    torch_like = T.nn
    T.manual_seed(0)
    plain = torch_like.Linear(6, 4)
    nobias = torch_like.Linear(6, 4, bias=False)
    pruned = torch_like.Linear(6, 4)
    torch_like.utils.prune.l1_unstructured(pruned, "weight", amount=0.5)  # weight: an instance attribute
    normed = torch_like.utils.parametrizations.weight_norm(torch_like.Linear(6, 4))  # weight: a property
    ortho = torch_like.utils.parametrize

    class Doubled(T.nn.Module):
        def forward(self, w: Any) -> Any:
            return w * 2

    para = torch_like.Linear(6, 4)
    ortho.register_parametrization(para, "bias", Doubled())

    class Sub(torch_like.Linear):  # (a user's subclass: the plain lookup)
        def forward(self, x: Any) -> Any:
            return super().forward(x) + 1

    sub = Sub(6, 4)
    return [plain, nobias, pruned, normed, para, sub]


def test_linear_modules_read_their_weight_where_python_finds_it() -> None:
    got = {}
    for T in (torch, engine):
        x = T.tensor(_data((5, 6), 7), requires_grad=True)
        outs = []
        for m in _linear_cases(T):
            y = m(x)
            y.pow(2).sum().backward()
            outs.append((_bits(y), type(y.grad_fn).__name__))
        got[T.__name__] = (outs, _bits(x.grad))
    assert got["engine"] == got["torch"]


def test_first_grads_of_a_module_step_as_torch_and_unshared() -> None:
    """A bias's first .grad (a summed gradient, reshaped) becomes the .grad without a copy where nothing else
    holds it; values, and independence from anything a hook kept, as torch."""
    got = {}
    for T in (torch, engine):
        T.manual_seed(0)
        model = T.nn.Sequential(T.nn.Linear(6, 5), T.nn.ReLU(), T.nn.Linear(5, 1))
        x, y = T.tensor(_data((8, 6), 1)), T.tensor(_data((8, 1), 2))
        kept: list = []
        model[2].bias.register_hook(kept.append)
        outs = []
        for _ in range(2):
            for p in model.parameters():
                p.grad = None
            T.nn.functional.mse_loss(model(x), y).backward()
            outs.append([_bits(p.grad) for p in model.parameters()])
        with T.no_grad():
            for p in model.parameters():
                p.grad.mul_(3)  # a .grad changed in place: the hook's tensor must not see it
        outs.append([_bits(k) for k in kept])
        got[T.__name__] = outs
    assert got["engine"] == got["torch"]
