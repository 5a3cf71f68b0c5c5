"""float32 and float64 log1p and expm1 on cpu in exact mode, bit for bit against torch: its kernels run SLEEF's
log1p / expm1 (engine/ops/sleef_log1p.py) on every element, contiguous or strided, tail included; and the
backward formulas grad / (x + 1) and grad * (result + 1)."""

import numpy as np
import pytest
import torch

import engine
from engine.ops import cpu_capability, mkl, sleef_log1p

pytestmark = [
    pytest.mark.skipif(not mkl.available(), reason="exact mode off: the exact extra's MKL is not installed"),
    pytest.mark.skipif(
        not cpu_capability.has_fma(cpu_capability.kernel_build(True)), reason="torch's DEFAULT build: no FMA"
    ),
]

_DT = {np.float32: torch.float32, np.float64: torch.float64}


def _special(dt):
    f = np.finfo(dt)
    v = [0.0, -0.0, 1.0, -1.0, -1.5, -2.0, -1e30, np.inf, -np.inf, np.nan, 1e-30, -1e-30, f.tiny, -f.tiny,
         f.smallest_subnormal, -f.smallest_subnormal, f.tiny / 4, -f.tiny / 4, f.max, -f.max, f.max / 3,
         f.eps, -f.eps, 0.5, -0.5, 88.72, 88.73, 89.0, -16.6, -16.7, -17.0, 709.78, 709.79, -36.7, -36.8,
         -0.9999999, 1e37, 1e38, 2e38, 1e306, 1e307, 2e307, 1e308, 100.0, -100.0]  # fmt: skip
    with np.errstate(over="ignore"):
        return np.array(v, dtype=dt)


def _bits_equal(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    u = np.uint32 if a.dtype == np.float32 else np.uint64
    return (a.view(u) == b.view(u)) | (np.isnan(a) & np.isnan(b))


def _check(name: str, x: np.ndarray) -> None:
    t = getattr(torch, name)(torch.from_numpy(x)).numpy()
    e = getattr(engine, name)(engine.tensor(x)).numpy()
    assert e.dtype == t.dtype and e.shape == t.shape
    ok = _bits_equal(t, e)
    bad = np.flatnonzero(~ok.reshape(-1))
    assert not bad.size, [(x.reshape(-1)[i], t.reshape(-1)[i], e.reshape(-1)[i]) for i in bad[:5]]


def _inputs(dt, n: int, seed: int) -> list:
    rng = np.random.default_rng(seed)
    bits = rng.integers(0, 2**63, n, dtype=np.int64)
    if dt == np.float32:
        bits = (bits >> 32).astype(np.uint32).view(np.int32).view(np.float32)  # every float32 pattern
    else:
        bits = bits.view(np.float64) * np.where(rng.random(n) < 0.5, 1, -1)
    return [
        (rng.standard_normal(n) * 4).astype(dt),
        (np.abs(rng.standard_normal(n)) * 10 - 0.999).astype(dt),
        ((rng.random(n) * 2 - 1) * 1e-4).astype(dt),
        (rng.random(n) * 200 - 100).astype(dt),
        bits,
    ]


@pytest.mark.parametrize("name", ["log1p", "expm1"])
@pytest.mark.parametrize("dt", [np.float32, np.float64])
@pytest.mark.parametrize("n", [1, 31, 32, 33, 100, 2000, 40000])
def test_contiguous_sizes(name, dt, n):
    for x in _inputs(dt, n, n):
        _check(name, x)


@pytest.mark.parametrize("name", ["log1p", "expm1"])
@pytest.mark.parametrize("dt", [np.float32, np.float64])
def test_special_values(name, dt):
    s = _special(dt)
    _check(name, s)  # (a short tensor)
    _check(name, np.tile(s, 3))  # (past two vectors: the vectorized blocks)
    for v in s:
        _check(name, np.array(v, dtype=dt))  # (0-dim)


@pytest.mark.parametrize("name", ["log1p", "expm1"])
@pytest.mark.parametrize("dt", [np.float32, np.float64])
def test_non_contiguous(name, dt):
    rng = np.random.default_rng(3)
    x = (rng.standard_normal((70, 90)) * 3).astype(dt)
    views = [
        lambda a: a.t(),
        lambda a: a[:, ::3],
        lambda a: a[::2, 5:40],
    ]
    tx, ex = torch.from_numpy(x), engine.tensor(x)
    for v in views:
        t, e = getattr(torch, name)(v(tx)), getattr(engine, name)(v(ex))
        assert t.stride() == e.stride()
        assert _bits_equal(t.numpy(), e.numpy()).all()
    # an expanded input (stride 0): values only (every unary op lays this output out otherwise than torch)
    t, e = getattr(torch, name)(tx[:1].expand(40, 90)), getattr(engine, name)(ex[:1].expand(40, 90))
    assert _bits_equal(t.numpy(), np.ascontiguousarray(e.numpy())).all()
    big = (rng.standard_normal(90001) * 3).astype(dt)
    t = getattr(torch, name)(torch.from_numpy(big)[::2])
    e = getattr(engine, name)(engine.tensor(big)[::2])
    assert _bits_equal(t.numpy(), e.numpy()).all()


@pytest.mark.parametrize("name", ["log1p", "expm1"])
@pytest.mark.parametrize("dt", [np.float32, np.float64])
def test_inplace_and_method(name, dt):
    x = (np.random.default_rng(5).standard_normal(77) * 2).astype(dt)
    t = torch.from_numpy(x.copy())
    e = engine.tensor(x.copy())
    getattr(t, name + "_")()
    getattr(e, name + "_")()
    assert _bits_equal(t.numpy(), e.numpy()).all()
    assert _bits_equal(getattr(torch.from_numpy(x), name)().numpy(), getattr(engine.tensor(x), name)().numpy()).all()


@pytest.mark.parametrize("name", ["log1p", "expm1"])
@pytest.mark.parametrize("dt", [np.float32, np.float64])
def test_gradients(name, dt):
    rng = np.random.default_rng(7)
    x = (rng.standard_normal(1000) * 2).astype(dt)
    if name == "log1p":
        x = np.abs(x) - 0.9
    g = rng.standard_normal(1000).astype(dt)
    tx = torch.from_numpy(x).requires_grad_()
    ex = engine.tensor(x, requires_grad=True)
    ty, ey = getattr(torch, name)(tx), getattr(engine, name)(ex)
    assert _bits_equal(ty.detach().numpy(), ey.detach().numpy()).all()
    ty.backward(torch.from_numpy(g))
    ey.backward(engine.tensor(g))
    assert _bits_equal(tx.grad.numpy(), ex.grad.numpy()).all()


def test_matches_sleef_port_directly():
    # the vector functions alone, over every float32 exponent and the float64 range edges
    rng = np.random.default_rng(11)
    x32 = (rng.integers(0, 2**32, 32768, dtype=np.uint64).astype(np.uint32)).view(np.float32)
    for f, name in ((sleef_log1p.log1pf, "log1p"), (sleef_log1p.expm1f, "expm1")):
        assert _bits_equal(getattr(torch, name)(torch.from_numpy(x32)).numpy(), f(x32)).all()
    x64 = np.exp(rng.random(4096) * 1410 - 705)
    x64 = np.concatenate([x64, -x64 * 1e-300, np.exp(rng.random(4096) * 3 + 706.9)])
    for f, name in ((sleef_log1p.log1p64, "log1p"), (sleef_log1p.expm1_64, "expm1")):
        assert _bits_equal(getattr(torch, name)(torch.from_numpy(x64)).numpy(), f(x64)).all()


def test_other_dtypes_unchanged():
    # float16 and bfloat16 keep their paths (numpy in float32, rounded); complex too
    x = engine.tensor([0.5, -0.25, 3.0], dtype=engine.float16)
    assert engine.log1p(x).dtype == engine.float16
    z = engine.tensor([0.5 + 1j], dtype=engine.complex64)
    assert engine.expm1(z).dtype == engine.complex64
