"""SLEEF's expf/logf emulation and the kernels routed through it (softmax, log_softmax, sigmoid, silu,
cross_entropy), bit for bit against torch's cpu kernels."""

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import engine
import engine.nn.functional as EF
from engine.ops import activation_cpu, cpu_capability, mkl, sleef, softmax_cpu

pytestmark = [
    pytest.mark.skipif(
        cpu_capability.cpu_capability() != torch.backends.cpu.get_cpu_capability().lower(),
        reason="torch runs another kernel build here",
    ),
    pytest.mark.skipif(not mkl.available(), reason="exact mode off: the exact extra's MKL is not installed"),
]


def _same(a: np.ndarray, b: np.ndarray) -> bool:
    a, b = np.asarray(a), np.asarray(b)
    assert a.shape == b.shape and a.dtype == b.dtype
    return bool(np.all((a.view(np.int32) == b.view(np.int32)) | (np.isnan(a) & np.isnan(b))))


@pytest.fixture(autouse=True)
def _threads():
    # the kernels split work as torch's threads do: run both with the same count
    engine.set_num_threads(torch.get_num_threads())


def _torch_expf(x: np.ndarray) -> np.ndarray:
    """Sleef_expf16_u10 as torch runs it: _log_softmax_backward_data with a one-hot grad returns
    0 - exp(y) * 1 for the other columns (all through vec::map2, so all vector code)."""
    n = x.size
    rows = -(-n // 15)
    flat = np.zeros(rows * 15, np.float32)
    flat[:n] = x
    y = np.zeros((rows, 16), np.float32)
    y[:, 1:] = flat.reshape(rows, 15)
    g = np.zeros((rows, 16), np.float32)
    g[:, 0] = 1
    gi = torch._log_softmax_backward_data(torch.from_numpy(g), torch.from_numpy(y), 1, torch.float32).numpy()
    return (np.float32(0) - gi[:, 1:]).reshape(-1)[:n]  # (0 - (0 - e) gives +0 back for e == 0)


def test_expf_random_bits_and_edges():
    rng = np.random.default_rng(7)
    bits = rng.integers(0, 2**32, 500_000, dtype=np.uint64).astype(np.uint32).view(np.float32)
    edges = np.array(
        [0, -0.0, np.inf, -np.inf, np.nan, 100, 100.00001, -104, -104.00001, 88.72283, 88.7228394, -87.33654,
         -103.97208, -103.2789, 1e-45, -1e-45, 1e-38, 3.4e38, -3.4e38, 0.34657359, -0.34657359],
        np.float32,
    )  # fmt: skip
    around = np.float32(-104) + np.arange(-3000, 3000, dtype=np.float32) * np.float32(1e-5)
    steps = np.arange(-300_000, 300_000, dtype=np.float32) * np.float32(0.3465736e-3)
    wide = (rng.random(300_000) * 220 - 110).astype(np.float32)
    for x in (bits, edges, around, steps, wide):
        assert _same(sleef.expf(x), _torch_expf(x))


def test_expf_double_rounding_fallback_and_chunks():
    # inputs whose float64 sums land exactly halfway between two float32 values (expf recomputes them with
    # expf_exact), spread over an array longer than expf's pieces, next to -104/100 edges and NaN
    ties = np.array([-1283457024, 1006632960, 1050878401], np.int32).view(np.float32)
    rng = np.random.default_rng(8)
    x = (rng.standard_normal(3 * sleef._CHUNK + 5) * 30).astype(np.float32)
    x[[0, sleef._CHUNK - 1, sleef._CHUNK, 2 * sleef._CHUNK + 7, -1]] = [ties[0], ties[1], ties[2], -104.5, np.nan]
    x[5:8] = ties
    assert _same(sleef.expf(x), sleef.expf_exact(x))
    assert _same(sleef.expf(x), _torch_expf(x))
    assert _same(sleef.expf(ties), _torch_expf(ties))
    for n in (0, 1, 4, 31):
        y = x[5 : 5 + n].copy()
        assert _same(sleef.expf(y), _torch_expf(y))


def test_logf_matches_step_by_step():
    # logf's fast path against logf_exact (the step-by-step emulation the log_softmax tests check against
    # torch): every mantissa in two binades, inputs whose last fma may round twice, the binade edges of
    # vgetexp(d / 0.75) and vgetmant, and the inputs logf hands to logf_exact
    mant = (np.float32(1.0).view(np.int32) + np.arange(0, 1 << 23, 7, dtype=np.int32)).view(np.float32)
    ties = np.array([1040187440, 1040187712, 1040189184, 1040190977, 1040278492, 1040314816], np.int32)
    edges = np.array(
        [1, 1.5, 0.75, 1.4999999, 0.74999994, 3.4e38, 2.55e38, 2.56e38, 1.1754944e-38, 2, 4, 0.5, 1e-40, 0,
         -1, np.inf, np.nan], np.float32,
    )  # fmt: skip
    rng = np.random.default_rng(9)
    wide = np.abs(rng.integers(0, 2**32, 300_000, dtype=np.uint64).astype(np.uint32).view(np.float32))
    for x in (mant, mant * np.float32(3.0), ties.view(np.float32), edges[:-5], edges, wide, wide[np.isfinite(wide)]):
        assert _same(sleef.logf(x), sleef.logf_exact(x))


@pytest.mark.parametrize(
    "shape,dim",
    [((5,), 0), ((4, 16), 1), ((64, 10), 1), ((64, 50), -1), ((3, 17), 1), ((2, 33), 1), ((2, 1000), 1),
     ((64, 10), 0), ((10, 64), 0), ((4, 5, 37), 1), ((2, 3, 4, 5), 1), ((3, 8, 21), 0), ((2, 40, 100), 1),
     ((300, 200), 0), ((8, 3, 2000), 1), ((1,), 0), ((6, 1), 1), ((6, 1), 0), ((0, 5), 1), ((5, 0), 0),
     ((40, 3, 21), 1), ((50, 7, 40), 1), ((33, 2, 16), 1)],
)  # fmt: skip
@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
def test_softmax_kernels(shape, dim, name):
    x = (np.random.default_rng(len(shape) * 31 + shape[0]).standard_normal(shape) * 3).astype(np.float32)
    t = getattr(TF, name)(torch.from_numpy(x), dim).numpy()
    e = getattr(EF, name)(engine.tensor(x), dim).numpy()
    assert _same(e, t)


@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
def test_softmax_noncontiguous_scalar_and_edges(name):
    rng = np.random.default_rng(3)
    x = (rng.standard_normal((20, 37)) * 4).astype(np.float32)
    x[0, 3] = np.inf
    x[1, :] = -np.inf
    x[2, 5] = np.nan
    x[3, :] = 1e30
    for tview, eview, dim in [
        (torch.from_numpy(x).T, engine.tensor(x).T, 1),
        (torch.from_numpy(x)[:, ::3], engine.tensor(x)[:, ::3], 1),
        (torch.from_numpy(x)[::2], engine.tensor(x)[::2], 0),
        (torch.tensor(1.5), engine.tensor(1.5), 0),
    ]:
        assert _same(getattr(EF, name)(eview, dim).numpy(), getattr(TF, name)(tview, dim).numpy())


@pytest.mark.parametrize("shape", [(4,), (37,), (64, 10), (3, 50), (1000, 37), (70000,), (0,), (1,)])
@pytest.mark.parametrize("name", ["sigmoid", "silu"])
def test_sigmoid_silu(shape, name):
    x = (np.random.default_rng(sum(shape)).standard_normal(shape) * 5).astype(np.float32)
    tf = torch.sigmoid if name == "sigmoid" else TF.silu
    ef = (lambda a: a.sigmoid()) if name == "sigmoid" else EF.silu
    assert _same(ef(engine.tensor(x)).numpy(), tf(torch.from_numpy(x)).numpy())
    if x.ndim == 2:  # transposed (dense) and sliced (one run a row) inputs
        assert _same(ef(engine.tensor(x).T).numpy(), tf(torch.from_numpy(x).T).numpy())
        assert _same(ef(engine.tensor(x)[:, 1:]).numpy(), tf(torch.from_numpy(x)[:, 1:]).numpy())
        assert _same(ef(engine.tensor(x)[:, ::2]).numpy(), tf(torch.from_numpy(x)[:, ::2]).numpy())


def test_sigmoid_edges():
    x = np.array([0, -0.0, np.inf, -np.inf, np.nan, 88.7, -88.7, 104, -104, 1e-30, 3e38, -3e38] * 3, np.float32)
    assert _same(engine.tensor(x).sigmoid().numpy(), torch.from_numpy(x).sigmoid().numpy())
    assert _same(EF.silu(engine.tensor(x)).numpy(), TF.silu(torch.from_numpy(x)).numpy())


def test_cross_entropy_forward():
    rng = np.random.default_rng(11)
    x = (rng.standard_normal((64, 50)) * 2).astype(np.float32)
    lab = rng.integers(0, 50, 64)
    t = TF.cross_entropy(torch.from_numpy(x), torch.from_numpy(lab), reduction="none").numpy()
    e = EF.cross_entropy(engine.tensor(x), engine.tensor(lab), reduction="none").numpy()
    assert _same(e, t)


@pytest.mark.parametrize("shape,dim", [((64, 10), 1), ((8, 37), 1), ((10, 64), 0), ((4, 5, 37), 1), ((3, 40), -1)])
@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
def test_softmax_gradients(shape, dim, name):
    rng = np.random.default_rng(shape[0] * 7 + shape[-1])
    x = rng.standard_normal(shape).astype(np.float32)
    g = rng.standard_normal(shape).astype(np.float32)
    tx, ex = torch.tensor(x, requires_grad=True), engine.tensor(x, requires_grad=True)
    getattr(TF, name)(tx, dim).backward(torch.from_numpy(g))
    getattr(EF, name)(ex, dim).backward(engine.tensor(g))
    assert _same(ex.grad.numpy(), tx.grad.numpy())


def test_cross_entropy_gradient():
    rng = np.random.default_rng(12)
    x = rng.standard_normal((32, 37)).astype(np.float32)
    lab = rng.integers(0, 37, 32)
    tx, ex = torch.tensor(x, requires_grad=True), engine.tensor(x, requires_grad=True)
    TF.cross_entropy(tx, torch.from_numpy(lab)).backward()
    EF.cross_entropy(ex, engine.tensor(lab)).backward()
    assert _same(ex.grad.numpy(), tx.grad.numpy())


@pytest.mark.parametrize("shape", [(4,), (37,), (64, 10), (3, 50), (1000, 37), (70000,)])
def test_silu_gradient(shape):
    # torch's silu_backward kernel: SLEEF's exp in vectors, the C library's in the tails, 1 + x * (1 - s)
    # contracted into an fma; contiguous, transposed and sliced inputs
    rng = np.random.default_rng(sum(shape) + 1)
    x = (rng.standard_normal(shape) * 5).astype(np.float32)
    g = rng.standard_normal(shape).astype(np.float32)
    views = [lambda a: a, lambda a: a[..., 1:], lambda a: a[..., ::2]] + ([lambda a: a.T] if len(shape) == 2 else [])
    for view in views:
        tx, ex = torch.tensor(x, requires_grad=True), engine.tensor(x, requires_grad=True)
        TF.silu(view(tx)).backward(view(torch.from_numpy(g)))
        EF.silu(view(ex)).backward(view(engine.tensor(g)))
        assert _same(ex.grad.numpy(), tx.grad.numpy())


def test_silu_double_backward():
    # create_graph keeps the gradient's formula (its own graph), to torch's values
    x = np.random.default_rng(2).standard_normal((8, 40)).astype(np.float32)
    tx, ex = torch.tensor(x, requires_grad=True), engine.tensor(x, requires_grad=True)
    (tg,) = torch.autograd.grad(TF.silu(tx).sum(), tx, create_graph=True)
    (eg,) = engine.autograd.grad(EF.silu(ex).sum(), ex, create_graph=True)
    tg.sum().backward()
    eg.sum().backward()
    np.testing.assert_allclose(eg.detach().numpy(), tg.detach().numpy(), rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(ex.grad.numpy(), tx.grad.numpy(), rtol=1e-5, atol=1e-6)


def test_backward_fma_helpers_against_exact_fma():
    # softmax_cpu's float64 fmas against engine.ops.fma, on random values, on exact sums lying halfway
    # between two float32 values (the cast rounds them to even, as the fma) and on inexact ones whose float64
    # sum lands there (a double rounding: the fallback path)
    from engine.ops import softmax_cpu
    from engine.ops.fma import fma

    rng = np.random.default_rng(4)
    a = rng.standard_normal((6, 40)).astype(np.float32)
    b = rng.standard_normal((6, 1)).astype(np.float32)
    c = rng.standard_normal((6, 40)).astype(np.float32)
    a[0, :3], b[0], c[0, :3] = 1.5, 2.0**-24, 1.0  # 1 - 1.5 * 2^-24: exactly a float32 midpoint
    twice_a = np.array([1065693044, 1072746156, 1069547292], np.int32).view(np.float32)
    twice_b = np.array([867731032, 860626184, 864026776], np.int32).view(np.float32)  # 1 - a * b: near one
    a2, b2, c2 = a.copy(), b.copy(), c.copy()
    a2[1, :3], b2[1], c2[1, :3] = twice_a, twice_b[0], 1.0
    a2[2, :3], b2[2], c2[2, :3] = twice_a[1], twice_b[1], 1.0
    for aa, bb, cc in ((a[1:], b[1:], c[1:]), (a, b, c), (a2, b2, c2)):
        want = fma(-aa, np.ascontiguousarray(np.broadcast_to(bb, aa.shape)), cc)
        assert _same(softmax_cpu._fnma(aa, bb, cc), want)
    g3 = rng.standard_normal((3, 9, 20)).astype(np.float32)
    y3 = rng.standard_normal((3, 9, 20)).astype(np.float32)
    for case in range(3):
        if case == 1:  # exact ties all down the column
            g3[0, :, 0], y3[0, :, 0] = 1.5, -(2.0**-24)
            g3[0, 0, 0], y3[0, 0, 0] = 1.0, 1.0
        if case == 2:  # one double rounding: 1 - a * b
            g3[1, 0, 1], y3[1, 0, 1] = 1.0, 1.0
            g3[1, 1, 1], y3[1, 1, 1] = twice_a[0], -twice_b[0]
        want = g3[:, 0] * y3[:, 0]
        for k in range(1, 9):
            want = fma(g3[:, k], y3[:, k], want)
        assert _same(softmax_cpu._dot_down(g3, y3), want)


def test_kernels_only_in_exact_mode(monkeypatch):
    # without the exact extra (or with TCLI_MKL=0) the formulas run: fast, within an ulp or two of torch
    x = np.linspace(-5, 5, 40, dtype=np.float32).reshape(4, 10)
    assert activation_cpu.usable(x) and softmax_cpu.usable(x)
    monkeypatch.setattr(mkl, "_STATE", [None])
    assert not activation_cpu.usable(x) and not softmax_cpu.usable(x)
    got = engine.tensor(x).softmax(1).numpy()
    np.testing.assert_allclose(got, torch.tensor(x).softmax(1).numpy(), rtol=2e-7, atol=0)
    got = engine.tensor(x).sigmoid().numpy()
    np.testing.assert_allclose(got, torch.tensor(x).sigmoid().numpy(), rtol=3e-7, atol=0)
