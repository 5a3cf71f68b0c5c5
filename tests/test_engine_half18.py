"""float16 and bfloat16 unary ops and activations on cpu, values and gradients bit for bit with torch (bfloat16 is
what torch.autocast("cpu") computes in). torch's kernels for the reduced types mostly load to float, compute and
round once, walking blocks of two Vectorized<Half> (64 elements) with SLEEF's functions and the C library's on
the tail; some round after every step (sigmoid_backward's Half kernel, logit's x / (1 - x), rsqrt's scalar tail),
bfloat16 gelu goes to oneDNN, and an add's Python scalar becomes a BFloat16 first. Exact mode only (the kernels'
emulations); nans compare equal whatever their payload."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import engine
from engine.ops import mkl

pytestmark = pytest.mark.skipif(not mkl.available(), reason="exact mode off: the exact extra's MKL is not installed")

DTYPES = ["float16", "bfloat16"]
ACTIVATIONS = ["sigmoid", "silu", "gelu", "gelu_tanh", "elu", "selu", "celu", "mish", "hardswish", "hardsigmoid",
               "logsigmoid", "softplus", "leaky_relu"]  # fmt: skip
UNARY = ["rsqrt", "erf", "erfinv", "digamma", "lgamma", "asin", "acos", "asinh", "acosh", "deg2rad", "rad2deg",
         "reciprocal", "sinc", "log1p", "exp", "tanh", "sqrt", "logit", "log10"]  # fmt: skip
POSITIVE = {"rsqrt", "sqrt", "lgamma", "digamma", "log10"}
UNIT = {"asin", "acos", "erfinv"}


def _fn(m: object, name: str) -> object:
    if name == "gelu_tanh":
        return lambda t: m.nn.functional.gelu(t, approximate="tanh")
    for mod in (m, m.nn.functional, m.special):
        if hasattr(mod, name):
            return getattr(mod, name)
    raise AttributeError(name)


def _inputs(name: str, n: int, seed: int) -> tuple:
    rng = np.random.default_rng(seed)
    x = (rng.standard_normal(n) * 3).astype(np.float32)
    if name in POSITIVE:
        x = np.abs(x) + 0.01
    if name == "acosh":
        x = np.abs(x) + 1
    if name in UNIT:
        x = np.tanh(x) * 0.999
    if name == "logit":
        x = 1 / (1 + np.exp(-x))
    return x, rng.standard_normal(n).astype(np.float32)


def _same(a: np.ndarray, b: np.ndarray) -> bool:
    a, b = np.asarray(a, np.float32), np.asarray(b, np.float32)
    both_nan = np.isnan(a) & np.isnan(b)
    return bool(np.all((a.view(np.uint32) == b.view(np.uint32)) | both_nan))


def _run(name: str, dt: str, x: np.ndarray, w: np.ndarray, transpose: bool = False) -> list:
    out = []
    for m in (torch, engine):
        t = m.tensor(x).to(getattr(m, dt))
        if transpose:
            t = t.reshape(-1, 50).t()
        t.requires_grad_()
        y = _fn(m, name)(t)
        g = m.tensor(w).to(getattr(m, dt)).reshape(y.shape)
        y.backward(g)
        out.append((y.detach().float().numpy(), t.grad.float().numpy()))
    return out


@pytest.mark.parametrize("n", [3000, 70])  # (70: one block of 64 and a scalar tail; 3000: a tail of 56)
@pytest.mark.parametrize("name", ACTIVATIONS + UNARY)
@pytest.mark.parametrize("dt", DTYPES)
def test_value_and_grad_bits_match_torch(dt: str, name: str, n: int) -> None:
    x, w = _inputs(name, n, 18)
    (tv, tg), (ev, eg) = _run(name, dt, x, w)
    assert _same(tv, ev), "value"
    assert _same(tg, eg), "grad"


@pytest.mark.parametrize("name", ["gelu", "gelu_tanh", "silu", "elu", "mish", "logit", "rsqrt", "sigmoid"])
@pytest.mark.parametrize("dt", DTYPES)
def test_strided_input_bits_match_torch(dt: str, name: str) -> None:
    """A transposed input: torch's iterator walks it in memory order (gelu and logit leave their dense-only
    kernels, oneDNN and LogitMKLKernel)."""
    x, w = _inputs(name, 3000, 7)
    (tv, tg), (ev, eg) = _run(name, dt, x, w, transpose=True)
    assert _same(tv, ev), "value"
    assert _same(tg, eg), "grad"


@pytest.mark.parametrize("eps", [1e-3, 0.3, -1.0])
@pytest.mark.parametrize("dt", DTYPES + ["float32"])
def test_logit_eps_bounds_match_torch(dt: str, eps: float) -> None:
    """logit's backward bounds are the kernel's: eps in the dtype and 1 - eps in its arithmetic (bfloat16's
    1 - 0.001 is 1)."""
    x = np.linspace(0, 1, 301, dtype=np.float32)
    out = []
    for m in (torch, engine):
        t = m.tensor(x).to(getattr(m, dt)).requires_grad_()
        y = m.logit(t, eps)
        y.backward(m.ones_like(y))
        out.append((y.detach().float().numpy(), t.grad.float().numpy()))
    assert _same(out[0][0], out[1][0])
    assert _same(out[0][1], out[1][1])


SCALAR_EXPRS = ["t + 0.01", "t - 0.01", "0.01 + t", "0.01 - t", "t.add(0.01)", "t.sub(0.3)",
                "t.add(0.01, alpha=3)", "t.sub(t[:1], alpha=0.1)", "t.clone().add_(0.01)", "t.clone().sub_(0.01)",
                "t * 0.01", "t / 0.01"]  # fmt: skip


@pytest.mark.parametrize("expr", SCALAR_EXPRS)
def test_bfloat16_add_scalar_is_a_bfloat16_first(expr: str) -> None:
    """torch's add/sub casts a Python float to the tensor's bfloat16 before adding in float (x + 0.01 lands on
    the other side of a tie otherwise); mul and div keep the float."""
    x = np.random.default_rng(0).standard_normal(5000).astype(np.float32)
    out = [eval(expr, {"t": m.tensor(x).to(m.bfloat16)}).float().numpy() for m in (torch, engine)]  # noqa: S307
    assert _same(out[0], out[1])


def test_float32_results_unchanged_by_reduced_blocks() -> None:
    """The reduced kernels' block width is scoped to them: a float32 silu right after a float16 one keeps its own
    split (blocks of 32) and torch's bits."""
    x = (np.random.default_rng(1).standard_normal(3000) * 3).astype(np.float32)
    engine.nn.functional.silu(engine.tensor(x).half())
    e = engine.nn.functional.silu(engine.tensor(x)).numpy()
    t = torch.nn.functional.silu(torch.tensor(x)).numpy()
    assert e.tobytes() == t.tobytes()


ALPHA_EXPRS = ["a.add(b, alpha=0.1)", "a.sub(b, alpha=0.37)", "a.add(0.01, alpha=0.1)",
               "a.clone().add_(b, alpha=-0.001)", "torch.add(a, b[:1], alpha=0.3)", "a.add(b, alpha=3)"]  # fmt: skip


@pytest.mark.parametrize("expr", ALPHA_EXPRS)
@pytest.mark.parametrize("dt", DTYPES)
def test_add_with_alpha_bits_match_torch(dt: str, expr: str) -> None:
    """add/sub with alpha: alpha in the dtype, fmadd in float on the vector blocks, the dtype's stepwise
    arithmetic on the scalar tail (an optimizer's p.add_(grad, alpha=-lr) on half parameters)."""
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((2, 5000)).astype(np.float32)
    out = []
    for m in (torch, engine):
        a, b = m.tensor(x).to(getattr(m, dt)), m.tensor(y).to(getattr(m, dt))
        out.append(eval(expr, {"a": a, "b": b, "torch": m}).float().numpy())  # noqa: S307
    assert _same(out[0], out[1])


@pytest.mark.parametrize("e", [3, 2, -0.5, 0.5, -1, -2, 1.5])
@pytest.mark.parametrize("n", [3000, 70, 7])
@pytest.mark.parametrize("dt", DTYPES)
def test_pow_scalar_bits_match_torch(dt: str, n: int, e: float) -> None:
    """bfloat16's pow(-0.5) is torch's rsqrt kernel (its AVX512 build here: one rounding on the vector blocks,
    two on the tail)."""
    x = (np.random.default_rng(1).standard_normal(n) * 3).astype(np.float32)
    out = [m.tensor(x).to(getattr(m, dt)).abs().pow(e).float().numpy() for m in (torch, engine)]
    assert _same(out[0], out[1])


@pytest.mark.parametrize("shape", [(2, 1000), (16, 16, 16), (8, 130), (3, 4, 33), (64, 10), (5, 9), (4, 7)])
@pytest.mark.parametrize("dt", DTYPES)
def test_softmax_lastdim_bits_match_torch(dt: str, shape: tuple) -> None:
    """The reduced-float last-dim softmax: exp and sum in float (SLEEF over whole vectors, std::exp on the rest,
    added after the lanes are reduced), times 1 / sum, rounded once."""
    rng = np.random.default_rng(5)
    for _ in range(3):
        x = (rng.standard_normal(shape) * 2).astype(np.float32)
        out = [m.tensor(x).to(getattr(m, dt)).softmax(-1).float().numpy() for m in (torch, engine)]
        assert _same(out[0], out[1])


@pytest.mark.parametrize("name", ["log1p", "erf"])
@pytest.mark.parametrize("dt", DTYPES)
def test_mapped_kernels_nan_bits_match_torch(dt: str, name: str) -> None:
    """log1p and erf map their float function over every element (vml): float16 keeps SLEEF's all-ones nan of
    log1p below -1, and bfloat16's vectorized store writes every nan as 0xFFFF."""
    x = np.array([-2.0, 0.5, -3.0, -1.0, -0.0, 2.5] * 20, np.float32)
    out = [getattr(m, name)(m.tensor(x).to(getattr(m, dt))).float().numpy() for m in (torch, engine)]
    assert out[0].tobytes() == out[1].tobytes()


MORE = {
    "softshrink": lambda m, t: m.nn.functional.softshrink(t, 0.3),
    "hardshrink": lambda m, t: m.nn.functional.hardshrink(t, 0.3),
    "glu": lambda m, t: m.nn.functional.glu(t.reshape(-1, 100), -1),
    "elu_inplace": lambda m, t: m.nn.functional.elu(t * 1, inplace=True),
    "selu_inplace": lambda m, t: m.nn.functional.selu(t * 1, inplace=True),
    "celu_inplace": lambda m, t: m.nn.functional.celu(t * 1, alpha=1.7, inplace=True),
    "silu_inplace": lambda m, t: m.nn.functional.silu(t * 1, inplace=True),
    "mish_inplace": lambda m, t: m.nn.functional.mish(t * 1, inplace=True),
    "hardswish_inplace": lambda m, t: m.nn.functional.hardswish(t * 1, inplace=True),
    "elu_alpha": lambda m, t: m.nn.functional.elu(t, alpha=0.7),
    "gelu_module": lambda m, t: m.nn.GELU()(t * 2 + 1),
    "logsigmoid_strided": lambda m, t: m.nn.functional.logsigmoid(t.reshape(60, 50).t()),
    "hardsigmoid_strided": lambda m, t: m.nn.functional.hardsigmoid(t.reshape(60, 50).t()),
}


@pytest.mark.parametrize("name", list(MORE))
@pytest.mark.parametrize("dt", [*DTYPES, "float32"])
def test_more_activations_bits_match_torch(dt: str, name: str) -> None:
    """softshrink's vector code gives +0.0 in its dead zone (its tail x * 0 keeps -0.0), hardshrink compares with
    lambd in the dtype, glu's backward is (1 - s) * s * a * g, elu_'s backward reads the forward's own result."""
    rng = np.random.default_rng(11)
    x = (rng.standard_normal(3000) * 3).astype(np.float32)
    w = rng.standard_normal(3000).astype(np.float32)
    out = []
    for m in (torch, engine):
        t = m.tensor(x).to(getattr(m, dt)).requires_grad_()
        y = MORE[name](m, t)
        y.backward(m.tensor(w[: y.numel()]).to(getattr(m, dt)).reshape(y.shape))
        out.append((y.detach().float().numpy(), t.grad.float().numpy()))
    assert _same(out[0][0], out[1][0]), "value"
    assert _same(out[0][1], out[1][1]), "grad"


@pytest.mark.parametrize("case", ["empty", "0d", "expand", "sliced"])
@pytest.mark.parametrize("name", ["sigmoid", "silu", "gelu", "elu", "mish", "hardswish", "logsigmoid", "rsqrt", "erf",
                                  "erfinv", "log1p", "log10", "logit", "softshrink", "digamma"])  # fmt: skip
@pytest.mark.parametrize("dt", DTYPES)
def test_layouts_bits_match_torch(dt: str, name: str, case: str) -> None:
    """Empty and 0-dim tensors, an expanded input (a stride-0 inner dim: torch's iterator splats it, each row its
    own blocks and tail) and a sliced one (strided: all scalar), forward and backward."""
    outs = []
    for m in (torch, engine):
        d = getattr(m, dt)
        if case == "empty":
            t = m.zeros(0, 3, dtype=d)
        elif case == "0d":
            t = m.tensor(0.37, dtype=d)
        elif case == "expand":
            t = m.tensor([[0.3], [0.6], [-0.2]], dtype=d).expand(3, 100)
        else:
            t = m.tensor(np.linspace(0.01, 0.99, 2000, dtype=np.float32).reshape(20, 100), dtype=d)[:, ::3]
        if case != "expand":
            t = t.clone().requires_grad_()
        y = _fn(m, name)(t)
        g = None
        if t.requires_grad and y.numel():
            y.backward(m.ones_like(y) * 0.7)
            g = t.grad.float().numpy()
        outs.append((y.detach().float().numpy(), g))
    (tv, tg), (ev, eg) = outs
    assert tv.shape == ev.shape and _same(tv, ev)
    assert (tg is None and eg is None) or _same(tg, eg)


@pytest.mark.parametrize("dt", DTYPES)
def test_log10_every_positive_half_matches_torch(dt: str) -> None:
    """log10 maps SLEEF's log10f over every element (vml): every positive float16 value (and its bfloat16
    rounding), zero, inf, -1 and -inf (x86's default nan; other negatives' nan payloads are not emulated)."""
    h = np.arange(0, 0x7C01, dtype=np.uint16).view(np.float16).astype(np.float32)
    x = np.concatenate([[-1.0, -np.inf], h]).astype(np.float32)  # (nans in whole vectors: their bits)
    out = [m.log10(m.tensor(x).to(getattr(m, dt))).float().numpy() for m in (torch, engine)]
    assert out[0].tobytes() == out[1].tobytes()
