"""torch's cpu bits in exact mode for F.gelu(approximate='none') (SLEEF's erf for float64, aten's own
Vectorized<float>::erf), special.i0/i0e/i1/i1e (Cephes' chbevl in the input's dtype, as GCC contracts and
unrolls it), polygamma(1, x) (trigamma, digamma's backward), polygamma(n >= 2, x) and kl_div with
log_target=True, forward and backward, compared bitwise with torch on random inputs over each function's ranges
(vector blocks and scalar tails, strided and single-element tensors, special values)."""

import warnings

import numpy as np
import pytest
import torch

import engine
from engine.ops import cpu_capability, mkl

pytestmark = [
    pytest.mark.skipif(not mkl.available(), reason="exact mode off: the exact extra's MKL is not installed"),
    pytest.mark.skipif(
        not cpu_capability.has_fma(cpu_capability.kernel_build(True)), reason="torch's DEFAULT build: no FMA"
    ),
]

DTYPES = [np.float32, np.float64]
_SPECIAL = [0.0, -0.0, 1e-30, -1e-30, 1e-9, 2.5, -2.5, 5.999, 6.0, 8.0, -8.0, 8.0001, 30.0, -40.0, 90.0, 700.0,
            720.0, -1.0, -2.0, 0.5, np.inf, -np.inf, np.nan]  # fmt: skip


def _mismatches(a: np.ndarray, b: np.ndarray) -> int:
    assert a.dtype == b.dtype and a.shape == b.shape
    u = np.uint32 if a.dtype == np.float32 else np.uint64
    return int(np.count_nonzero((a.view(u) != b.view(u)) & ~(np.isnan(a) & np.isnan(b))))


def _inputs(dt, seed: int) -> np.ndarray:
    """Normal values, log-uniform magnitudes from 1e-8 to 1e2 of either sign, uniform ones on [-30, 30], and
    the special values: 20k elements (vector blocks and each thread chunk's scalar tail)."""
    rng = np.random.default_rng(seed)
    parts = [
        rng.standard_normal(7000) * 4,
        np.exp(rng.uniform(np.log(1e-8), np.log(1e2), 7000)) * rng.choice([-1.0, 1.0], 7000),
        rng.uniform(-30, 30, 6000 - len(_SPECIAL)),
        np.array(_SPECIAL),
    ]
    with np.errstate(over="ignore"):
        return np.concatenate(parts).astype(dt)


def _compare(fn, xs: list, grad: bool = True) -> None:
    """fn(module, *tensors) in torch and the engine: the value and every input's gradient (for a random
    upstream gradient), bit for bit."""
    tx = [torch.from_numpy(x.copy()).requires_grad_(grad) for x in xs]
    ex = [engine.tensor(x.copy(), requires_grad=grad) for x in xs]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t, e = fn(torch, *tx), fn(engine, *ex)
    assert _mismatches(t.detach().numpy(), e.detach().numpy()) == 0
    if not grad:
        return
    g = np.random.default_rng(1).standard_normal(tuple(t.shape)).astype(xs[0].dtype)
    t.backward(torch.from_numpy(g))
    e.backward(engine.tensor(g))
    for a, b in zip(tx, ex):
        assert _mismatches(a.grad.numpy(), b.grad.numpy()) == 0


_GELU_LAYOUTS = {
    "contiguous": lambda x: x,
    "strided": lambda x: x[::2],  # (every element scalar: std::erf)
    "rows": lambda x: x[:19992].reshape(-1, 49)[:, :40],  # (runs of 40: vector blocks and scalar tails)
    "one": lambda x: x[:1],
    "small": lambda x: x[:7],
}


@pytest.mark.parametrize("dt", DTYPES)
@pytest.mark.parametrize("layout", list(_GELU_LAYOUTS))
def test_gelu_erf_bits(dt, layout):
    view = _GELU_LAYOUTS[layout]
    _compare(lambda m, x: m.nn.functional.gelu(view(x)), [_inputs(dt, 2)])


def test_gelu_erf_float64_deep_tail():
    # exp(-x^2 / 2) subnormal and cdf 0: the gradient is x * pdf, not an emulated fma
    x = np.linspace(-39.0, -37.0, 4001)
    _compare(lambda m, x: m.nn.functional.gelu(x), [x])


def test_gelu_erf_float64_sleef_erf_ranges():
    # around SLEEF's 2.5 and 6 switch points and 1e-8
    x = np.concatenate([np.linspace(2.4, 2.6, 3001), np.linspace(5.9 * 2**0.5, 6.1 * 2**0.5, 3001),
                        np.linspace(-1e-7, 1e-7, 3001), np.linspace(-4, 4, 3001)])  # fmt: skip
    _compare(lambda m, x: m.nn.functional.gelu(x), [x])


@pytest.mark.parametrize("dt", DTYPES)
@pytest.mark.parametrize("name", ["i0", "i0e", "i1", "i1e"])
def test_bessel_bits(dt, name):
    _compare(lambda m, x: getattr(m.special, name)(x), [_inputs(dt, 3)])


@pytest.mark.parametrize("dt", DTYPES)
@pytest.mark.parametrize("name", ["i0", "i0e", "i1", "i1e"])
def test_bessel_small_and_transposed(dt, name):
    rng = np.random.default_rng(4)
    for x in (np.array([0.5, -3.0, 9.0, 20.0], dt), np.array([7.5], dt), (rng.standard_normal((9, 6)) * 6).astype(dt)):
        _compare(lambda m, x: getattr(m.special, name)(x), [x])
    x = (rng.standard_normal((9, 6)) * 6).astype(dt)
    _compare(lambda m, x: getattr(m.special, name)(x.t()), [x])


@pytest.mark.parametrize("dt", DTYPES)
def test_i1_backward_tiny_threshold(dt):
    # torch's i1_backward/i1e_backward take the limit 0.5 at |x| <= epsilon, the formula above it
    eps = float(np.finfo(dt).eps)
    x = np.array([0.0, -0.0, eps, -eps, eps * 1.5, eps * 5, eps * 20, -eps * 20, 1e-6], dt)
    for name in ("i1", "i1e"):
        _compare(lambda m, x, name=name: getattr(m.special, name)(x), [x])


@pytest.mark.parametrize("dt", DTYPES)
def test_trigamma_bits(dt):
    rng = np.random.default_rng(5)
    x = np.concatenate([_inputs(dt, 6), rng.uniform(-10, 30, 5000).astype(dt), -np.arange(1, 6, dtype=dt)])
    _compare(lambda m, x: m.polygamma(1, x), [x])  # (its backward: polygamma(2, x))
    _compare(lambda m, x: m.digamma(x), [x[x > 0.5]])  # digamma's backward is trigamma


@pytest.mark.parametrize("dt", DTYPES)
def test_polygamma_n_bits(dt):
    # calc_polygamma: exp(lgamma(n + 1)) from the C library, zeta in double with powf's first term for float32
    rng = np.random.default_rng(8)
    x = np.concatenate([_inputs(dt, 9)[:8000], rng.uniform(-300, 30, 3000).astype(dt), -np.arange(0, 4, dtype=dt)])
    for n in (2, 3, 5):
        _compare(lambda m, x, n=n: m.polygamma(n, x), [x], grad=False)


@pytest.mark.parametrize("dt", DTYPES)
@pytest.mark.parametrize("reduction", ["none", "sum", "mean", "batchmean"])
def test_kl_div_log_target_bits(dt, reduction):
    rng = np.random.default_rng(7)
    x, y = (rng.standard_normal((64, 100)) * 3).astype(dt), (rng.standard_normal((64, 100)) * 3).astype(dt)

    def f(m, a, b):
        out = m.nn.functional.kl_div(m.log_softmax(a, -1), m.log_softmax(b, -1), reduction=reduction,
                                     log_target=True)  # fmt: skip
        return out * 1.0 if out.dim() else out.reshape(1)

    _compare(f, [x, y])
    _compare(lambda m, a, b: m.nn.functional.kl_div(a, b, reduction="none", log_target=True), [x, y])
