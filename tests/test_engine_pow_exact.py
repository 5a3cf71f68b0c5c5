"""float32 and float64 pow on cpu in exact mode, bit for bit against torch's kernels: SLEEF's pow in the
vectorized runs of cpu_kernel_vec, the C library's powf (float32 tensor ** tensor) or pow in the rest."""

import math

import numpy as np
import pytest
import torch

import engine
from engine.ops import cpu_capability, glibc_powf, mkl, sleef_pow

pytestmark = [
    pytest.mark.skipif(
        cpu_capability.cpu_capability() != torch.backends.cpu.get_cpu_capability().lower(),
        reason="torch runs another kernel build here",
    ),
    pytest.mark.skipif(not mkl.available(), reason="exact mode off: the exact extra's MKL is not installed"),
    pytest.mark.skipif(
        not cpu_capability.has_fma(cpu_capability.kernel_build(True)), reason="torch's DEFAULT build: no FMA"
    ),
]

_SPECIAL = np.array(
    [0, -0.0, 1, -1, np.inf, -np.inf, np.nan, 2, -2, 0.5, -0.5, 1e-45, -1e-45, 1e-40, 3e38, -3e38, 7.5, -7.5],
    np.float32,
)
_EXPS = np.concatenate([_SPECIAL, [3, -3, 1.5, -2.5, 1e30, -1e30, 1e-30, 2**24 + 2, 2**25, 0.1]]).astype(np.float32)


@pytest.fixture(autouse=True)
def _threads():
    # the kernels split work as torch's threads do: run both with the same count
    engine.set_num_threads(torch.get_num_threads())


def _same(t: torch.Tensor, e: engine.Tensor) -> None:
    a, b = t.detach().numpy(), e.detach().numpy()
    assert a.shape == b.shape and a.dtype == b.dtype
    assert a.strides == b.strides
    ints = np.int32 if a.dtype == np.float32 else np.int64
    bad = a.view(ints) != b.view(ints)
    bad &= ~(np.isnan(a) & np.isnan(b))
    assert not bad.any(), f"{bad.sum()} of {bad.size} differ, first at {np.argwhere(bad)[0]}"


def _pair(a: np.ndarray) -> tuple:
    return torch.from_numpy(a.copy()), engine.tensor(a.copy())


@pytest.mark.parametrize("dt", [np.float32, np.float64])
@pytest.mark.parametrize("n", [1, 15, 16, 31, 32, 33, 100, 2000, 40000])
def test_contiguous_sizes(n, dt):
    rng = np.random.default_rng(n)
    a = (rng.random(n) * 4).astype(dt)
    b = (rng.standard_normal(n) * 3).astype(dt)
    (ta, ea), (tb, eb) = _pair(a), _pair(b)
    _same(ta.pow(tb), ea.pow(eb))
    _same(ta**tb, ea**eb)
    for e in (1.5, 4, 5, 0.1, -3.7, 2.5):
        _same(ta**e, ea**e)
        _same(torch.pow(ta, e), engine.pow(ea, e))


@pytest.mark.parametrize("dt", ["float32", "float64"])
def test_tutorial_polynomial(dt):
    x = torch.linspace(-math.pi, math.pi, 2000, dtype=getattr(torch, dt))
    ex = engine.linspace(-math.pi, math.pi, 2000, dtype=getattr(engine, dt))
    _same(x, ex)
    _same(x.unsqueeze(-1).pow(torch.tensor([1, 2, 3])), ex.unsqueeze(-1).pow(engine.tensor([1, 2, 3])))
    for e in (4, 5, 1.5):
        _same(x**e, ex**e)


@pytest.mark.parametrize(
    "sa, sb",
    [
        ((64, 70), (70,)),
        ((64, 70), (64, 1)),
        ((64, 1), (70,)),
        ((3, 40000), (40000,)),
        ((40000, 3), (3,)),
        ((5, 1, 40), (1, 6, 40)),
    ],
)
@pytest.mark.parametrize("dt", [np.float32, np.float64])
def test_broadcast(sa, sb, dt):
    rng = np.random.default_rng(7)
    a = (rng.standard_normal(sa) * 3).astype(dt)
    b = rng.integers(-4, 5, sb).astype(dt)
    b.reshape(-1)[::3] += 0.5
    (ta, ea), (tb, eb) = _pair(a), _pair(b)
    _same(ta.pow(tb), ea.pow(eb))
    _same(ta.abs().pow(tb), ea.abs().pow(eb))
    _same(tb.abs().pow(ta), eb.abs().pow(ea))


@pytest.mark.parametrize("dt", [np.float32, np.float64])
def test_non_contiguous(dt):
    rng = np.random.default_rng(8)
    a = (rng.random((64, 70)) * 3).astype(dt)
    b = (rng.standard_normal((64, 70))).astype(dt)
    (ta, ea), (tb, eb) = _pair(a), _pair(b)
    _same(ta.t().pow(tb.t()), ea.t().pow(eb.t()))  # one layout: vectorized in memory order
    _same(ta.t().pow(tb.t().contiguous()), ea.t().pow(eb.t().contiguous()))  # mixed: scalar runs
    _same(ta.t().contiguous().pow(tb.t()), ea.t().contiguous().pow(eb.t()))
    _same(ta[:, ::2].pow(tb[:, 1::2]), ea[:, ::2].pow(eb[:, 1::2]))
    _same(ta[:, ::2] ** 2.5, ea[:, ::2] ** 2.5)
    _same(ta.t() ** 2.5, ea.t() ** 2.5)
    _same(ta[:, :40] ** 1.7, ea[:, :40] ** 1.7)


@pytest.mark.parametrize("dt", [np.float32, np.float64])
def test_scalar_operands(dt):
    rng = np.random.default_rng(9)
    a = (rng.standard_normal(1000) * 2).astype(dt)
    ta, ea = _pair(a)
    _same(ta.abs().pow(torch.tensor(1.7)), ea.abs().pow(engine.tensor(1.7)))  # 0-dim exponent
    _same(torch.tensor(1.7).pow(ta), engine.tensor(1.7).pow(ea))  # 0-dim base
    _same(2**ta, 2**ea)  # a number base: torch's tensor-tensor kernel
    _same(1.5**ta, 1.5**ea)
    _same(torch.pow(0.3, ta), engine.pow(0.3, ea))
    _same(torch.tensor(2.5) ** 1.3, engine.tensor(2.5) ** 1.3)  # 0-dim: the scalar function
    _same(torch.tensor(2.5).pow(torch.tensor(1.3)), engine.tensor(2.5).pow(engine.tensor(1.3)))


@pytest.mark.parametrize("dt", [np.float32, np.float64])
def test_special_values(dt):
    p, q = np.meshgrid(_SPECIAL.astype(dt), _EXPS.astype(dt))
    p, q = p.ravel(), q.ravel()
    (tp, ep), (tq, eq) = _pair(p), _pair(q)
    _same(tp.pow(tq), ep.pow(eq))  # vectorized runs and the tail
    _same(tp[:, None].pow(tq[:3]), ep[:, None].pow(eq[:3]))  # runs of 3: all the C library's
    for e in (1.5, 3.5, -2.5, 1e30, -1e30, 1e-30, 7, -7, math.inf, -math.inf, math.nan):
        _same(tp**e, ep**e)


def test_negative_bases_and_wide_ranges():
    rng = np.random.default_rng(10)
    n = 5000
    a = (rng.standard_normal(n) * 10).astype(np.float32)
    b = rng.integers(-12, 12, n).astype(np.float32)
    b[::4] += 0.25
    (ta, ea), (tb, eb) = _pair(a), _pair(b)
    _same(ta.pow(tb), ea.pow(eb))
    _same(ta[::2].pow(tb[::2]), ea[::2].pow(eb[::2]))
    a = np.exp(rng.uniform(-100, 88, n)).astype(np.float32)  # subnormal to huge bases
    b = (rng.standard_normal(n) * 30).astype(np.float32)  # overflows and underflows
    (ta, ea), (tb, eb) = _pair(a), _pair(b)
    _same(ta.pow(tb), ea.pow(eb))
    _same(ta[::3].pow(tb[::3]), ea[::3].pow(eb[::3]))
    a = (1 + rng.standard_normal(n) * 1e-6).astype(np.float32)  # near 1 to huge exponents
    b = (rng.standard_normal(n) * 1e7).astype(np.float32)
    (ta, ea), (tb, eb) = _pair(a), _pair(b)
    _same(ta.pow(tb), ea.pow(eb))
    _same(ta[::3].pow(tb[::3]), ea[::3].pow(eb[::3]))
    a = rng.integers(1, 2**23, n).astype(np.uint32).view(np.float32)  # subnormals
    ta, ea = _pair(a)
    _same(ta**0.3, ea**0.3)
    _same(ta[::2] ** 0.3, ea[::2] ** 0.3)
    _same(ta.pow(tb.abs() * 1e-7), ea.pow(eb.abs() * 1e-7))


def test_float64_random_bits():
    rng = np.random.default_rng(14)
    n = 4000
    sign = np.where(rng.random(n) < 0.5, -1.0, 1.0)
    a = rng.integers(0, 2**63, n).view(np.float64) * sign
    b = rng.integers(0, 2**63, n).view(np.float64) * sign[::-1]
    (ta, ea), (tb, eb) = _pair(a), _pair(b)
    _same(ta.pow(tb), ea.pow(eb))
    _same(ta[::2].pow(tb[::2]), ea[::2].pow(eb[::2]))
    c = rng.standard_normal(n) * 50
    (tc, ec) = _pair(c)
    _same(tc.abs().pow(tb.clamp(-1e3, 1e3)), ec.abs().pow(eb.clamp(-1e3, 1e3)))


def test_inplace():
    rng = np.random.default_rng(15)
    a = (rng.random((40, 50)) * 3).astype(np.float32)
    b = (rng.standard_normal(50)).astype(np.float32)
    (ta, ea), (tb, eb) = _pair(a), _pair(b)
    ta.pow_(tb)
    ea.pow_(eb)
    _same(ta, ea)
    ta[:, ::2].pow_(1.7)
    ea[:, ::2].pow_(1.7)
    _same(ta, ea)
    ta **= 2.5
    ea **= 2.5
    _same(ta, ea)


def test_random_bits_against_the_kernels():
    rng = np.random.default_rng(11)
    n = 20000
    a = rng.integers(0, 2**32, n, dtype=np.uint64).astype(np.uint32).view(np.float32)
    b = rng.integers(0, 2**32, n, dtype=np.uint64).astype(np.uint32).view(np.float32)
    ref = torch.from_numpy(a).pow(torch.from_numpy(b)).numpy()  # (2000 and more: vectorized but for the tail)
    got = sleef_pow.powf(a, b)
    same = (ref.view(np.int32) == got.view(np.int32)) | (np.isnan(ref) & np.isnan(got))
    assert same[: n - n % 32].all()
    lib = glibc_powf.library()
    if lib is not None:
        assert glibc_powf.usable()
        sl = slice(0, 3000)
        want = np.array([lib(u, v) for u, v in zip(a[sl].tolist(), b[sl].tolist())], np.float32)
        got = glibc_powf.powf(a[sl], b[sl])
        assert ((want.view(np.int32) == got.view(np.int32)) | (np.isnan(want) & np.isnan(got))).all()


@pytest.mark.parametrize("threads", [1, 3])
def test_thread_chunks(threads):
    rng = np.random.default_rng(12)
    a = (rng.random(70001) * 4).astype(np.float32)
    b = (rng.standard_normal(70001)).astype(np.float32)
    (ta, ea), (tb, eb) = _pair(a), _pair(b)
    old = torch.get_num_threads()
    torch.set_num_threads(threads)
    engine.set_num_threads(threads)
    try:
        _same(ta.pow(tb), ea.pow(eb))
        _same(ta**2.7, ea**2.7)
        _same(ta[:, None].pow(tb[:5]), ea[:, None].pow(eb[:5]))
    finally:
        torch.set_num_threads(old)
        engine.set_num_threads(old)


@pytest.mark.parametrize("dt", [np.float32, np.float64])
def test_gradients(dt):
    rng = np.random.default_rng(13)
    a = (rng.random(300) * 3 + 0.1).astype(dt)
    b = (rng.standard_normal(300)).astype(dt)
    g = (rng.standard_normal(300)).astype(dt)
    ta, tb = torch.tensor(a, requires_grad=True), torch.tensor(b, requires_grad=True)
    ea, eb = engine.tensor(a, requires_grad=True), engine.tensor(b, requires_grad=True)
    tg, eg = torch.from_numpy(g), engine.tensor(g)
    ta.pow(tb).backward(tg)
    ea.pow(eb).backward(eg)
    _same(ta.grad, ea.grad)
    _same(tb.grad, eb.grad)
    for e in (2.5, 4, -1.5):
        ta.grad = None
        ea.grad = None
        (ta**e).backward(tg)
        (ea**e).backward(eg)
        _same(ta.grad, ea.grad)
    tb.grad = None
    eb.grad = None
    (2.0**tb).backward(tg)
    (2.0**eb).backward(eg)
    _same(tb.grad, eb.grad)


def test_layouts_and_empty():
    x, ex = torch.linspace(0, 3, 100), engine.linspace(0, 3, 100)
    _same(x.expand(3, 100) ** x.expand(3, 100), ex.expand(3, 100) ** ex.expand(3, 100))
    _same(x.reshape(10, 10).t() ** x[:10], ex.reshape(10, 10).t() ** ex[:10])
    _same(x.reshape(10, 10).t() ** x[:10, None], ex.reshape(10, 10).t() ** ex[:10, None])
    _same(torch.zeros(0, 3).pow(torch.ones(3)), engine.zeros(0, 3).pow(engine.ones(3)))
    _same(torch.zeros(3, 0).t().pow(torch.ones(3)), engine.zeros(3, 0).t().pow(engine.ones(3)))
    _same(torch.zeros(0) ** 1.5, engine.zeros(0) ** 1.5)
    _same(torch.arange(50) ** 1.5, engine.arange(50) ** 1.5)  # (an integer base: float32 result)
    _same(torch.arange(50).pow(x[:50]), engine.arange(50).pow(ex[:50]))
    _same(torch.float_power(x, 1.7), engine.float_power(ex, 1.7))
