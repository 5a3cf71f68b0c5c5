"""engine/ops/fma.py's float64 fma on its fast paths: small arrays with Python integers (_fma64_small), large
ones in chunks, the rest in place. Each must give the correctly rounded x * y + z (checked against exact
rational arithmetic) and the array emulation's bits; and the SLEEF kernels built on it, at the sizes that take
these paths, stay bit for bit with torch."""

from fractions import Fraction
from itertools import repeat

import numpy as np
import pytest
import torch

import engine
import engine.nn.functional as F
from engine.ops import cpu_capability, fma, mkl


def _exact(a: float, b: float, c: float) -> float:
    """RN64(a * b + c) of finite floats: exact rationals, one correctly rounded conversion."""
    r = Fraction(a) * Fraction(b) + Fraction(c)
    return float(r) if r else a * b + c


def _operands(n: int, seed: int) -> tuple:
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(n) * np.exp2(rng.integers(-40, 40, n))
    y = rng.standard_normal(n) * np.exp2(rng.integers(-40, 40, n))
    p = x * y
    kind = rng.integers(0, 4, n)
    z = np.where(kind == 0, rng.standard_normal(n), -p)  # cancellation
    z = np.where(kind == 2, -p * (1 + 2.0**-50), z)
    z = np.where(kind == 3, np.spacing(p) * 2.0**20 + 0.5 * np.spacing(p), z)  # near halfway points
    # short mantissas: exact ties between doubles are frequent
    x[::3] = np.round(x[::3] * 64) / 64
    y[::3] = np.round(y[::3] * 256) / 256
    return x, y, z


def test_small_integer_path_is_the_correctly_rounded_fma():
    x, y, z = _operands(4000, 1)
    got = [fma._fma64_small([a], [b], [c]) for a, b, c in zip(x.tolist(), y.tolist(), z.tolist())]
    done = 0
    for a, b, c, r in zip(x.tolist(), y.tolist(), z.tolist(), got):
        if r is not None:
            done += 1
            assert np.float64(r[0]).view(np.int64) == np.float64(_exact(a, b, c)).view(np.int64), (a, b, c)
    assert done > 3000  # (the rest: zero sums, zero operands' products, handed to the array emulation)
    # a constant y as the SLEEF polynomials pass it
    r = fma._fma64_small(x[:50].tolist(), repeat(0.1666666666666666574), z[:50].tolist())
    assert r == [_exact(a, 0.1666666666666666574, c) for a, c in zip(x[:50].tolist(), z[:50].tolist())]


def test_small_integer_path_declines_what_it_cannot_sign_or_bound():
    assert fma._fma64_small([1.5], [2.0], [-3.0]) is None  # an exact zero: its sign is the emulation's
    assert fma._fma64_small([0.0], [2.0], [0.0]) is None
    assert fma._fma64_small([np.inf], [2.0], [1.0]) is None
    assert fma._fma64_small([np.nan], [2.0], [1.0]) is None
    assert fma._fma64_small([1e-300], [2.0], [1.0]) is None  # outside 2^+-400
    assert fma._fma64_small([0.0], [2.0], [-3.0]) == [-3.0]
    assert fma._fma64_small([3.0], [0.1], [0.0]) == [3.0 * 0.1]


@pytest.mark.parametrize("n", [1, 4, 12, 13, 100, 16384, 16385, 40000])
def test_fma64_paths_agree_with_exact_arithmetic(n):
    x, y, z = _operands(n, n)
    with np.errstate(all="ignore"):
        for yy in (y, 0.7, -1e-5):
            r = fma._fma64(x, yy, z)
            assert r.dtype == np.float64 and r.shape == x.shape and r.flags.c_contiguous
            ys = y if type(yy) is not float else np.full(n, yy)
            idx = range(n) if n <= 100 else np.random.default_rng(n).integers(0, n, 300)
            for i in idx:
                want = _exact(float(x[i]), float(ys[i]), float(z[i]))
                if want != 0:
                    assert r[i] == want, (x[i], ys[i], z[i])
    # 0-d operands, a 0-d z broadcast, and a transposed (non-C) operand keep numpy's shapes and layouts
    assert fma._fma64(np.array(0.3), 0.7, np.array(0.1)).shape == ()
    m = x[: (n // 2) * 2].reshape(2, -1) if n > 1 else x.reshape(1, 1)
    assert fma._fma64(m.T, m.T, m.T).strides == (m.T * m.T).strides


def test_small_path_is_taken_for_small_float64_inputs(monkeypatch):
    calls = []
    orig = fma._fma64_small

    def spy(*a):
        r = orig(*a)
        calls.append(r is not None)
        return r

    monkeypatch.setattr(fma, "_fma64_small", spy)
    fma._fma64(np.array([0.5, 1.5, -2.0, 3.0]), 0.25, np.array([1.0, 2.0, 3.0, 4.0]))
    assert calls == [True]


_exact_mode = pytest.mark.skipif(
    not (mkl.available() and cpu_capability.has_fma(cpu_capability.kernel_build(True))),
    reason="exact mode off (no MKL) or torch's DEFAULT build (no FMA)",
)

_OPS = {
    "sigmoid": (lambda t: t.sigmoid(), lambda t: t.sigmoid()),
    "silu": (F.silu, torch.nn.functional.silu),
    "softmax": (lambda t: t.softmax(-1), lambda t: t.softmax(-1)),
    "log_softmax": (lambda t: t.log_softmax(-1), lambda t: t.log_softmax(-1)),
    "logsigmoid": (F.logsigmoid, torch.nn.functional.logsigmoid),
    "softplus": (F.softplus, torch.nn.functional.softplus),
    "elu": (F.elu, torch.nn.functional.elu),
    "mish": (F.mish, torch.nn.functional.mish),
    "log1p": (lambda t: t.log1p(), lambda t: t.log1p()),
    "expm1": (lambda t: t.expm1(), lambda t: t.expm1()),
    "pow": (lambda t: t.abs().pow(1.7), lambda t: t.abs().pow(1.7)),
    "lgamma": (lambda t: t.lgamma(), lambda t: t.lgamma()),
}


@_exact_mode
@pytest.mark.parametrize("n", [1, 4, 12, 13, 40000])
@pytest.mark.parametrize("dt", [np.float32, np.float64])
@pytest.mark.parametrize("name", list(_OPS))
def test_kernels_bit_for_bit_with_torch_at_the_fast_paths_sizes(name, dt, n):
    if name == "lgamma" and n == 40000 and dt == np.float64:
        n = 5000  # (lgamma's float64 emulation is the slowest; 5000 still takes the chunked fmas' path)
    rng = np.random.default_rng(n)
    x = (rng.standard_normal(n) * 4).astype(dt)
    x[: min(n, 3)] = np.array([0.0, -1.0, 2.5], dt)[: min(n, 3)]
    ours, theirs = _OPS[name]
    a = engine.tensor(x, requires_grad=True)
    b = torch.tensor(x, requires_grad=True)
    ya, yb = ours(a), theirs(b)
    assert ya.detach().numpy().tobytes() == yb.detach().numpy().tobytes()
    if name not in ("log1p", "expm1", "pow", "lgamma"):  # (backward kernels: the fmas of silu/mish/softmax's)
        g = np.cos(np.arange(n)).astype(dt)
        ya.backward(engine.tensor(g))
        yb.backward(torch.tensor(g))
        assert a.grad.numpy().tobytes() == b.grad.numpy().tobytes()


@pytest.mark.parametrize("n", [1, 4, 12, 13, 50])
def test_product_error_small_and_array_paths(n):
    from engine.ops import sleef_pow

    x, y, _ = _operands(n, 100 + n)
    for yy in (y, 0.1666666666666666574):
        ys = y if type(yy) is not float else np.full(n, yy)
        r = sleef_pow._prod_err64(x, yy, x * yy)
        want = [float(Fraction(a) * Fraction(b) - Fraction(a * b)) for a, b in zip(x.tolist(), ys.tolist())]
        assert r.tolist() == want


def test_signed_zero_constants_keep_their_sign():
    x = np.array([1.0, -2.0] * 20)
    z = np.full(40, -0.0)
    for y in (0.0, -0.0, 0.0):  # (one cached split for both zeros would give one of them the other's sign)
        for n in (40, 4):
            want = fma._fma64(x[:n], np.full(n, y), z[:n])  # (an array y: no constant's cache)
            assert fma._fma64(x[:n], y, z[:n]).tobytes() == want.tobytes()
