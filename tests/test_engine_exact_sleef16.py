"""torch's cpu bits in exact mode for kernels whose vector code calls SLEEF (Vectorized<T>::exp, log1p, expm1,
...): softplus, elu/selu/celu, logsigmoid, float64 sigmoid/silu and softmax/log_softmax. Each compared
bitwise with torch on random inputs big enough for the vector path (and its scalar tails), small ones (all
scalar) and strided ones."""

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import engine
import engine.nn.functional as EF
from engine.ops import cpu_capability, mkl

pytestmark = [
    pytest.mark.skipif(not mkl.available(), reason="exact mode off: the exact extra's MKL is not installed"),
    pytest.mark.skipif(
        not cpu_capability.has_fma(cpu_capability.kernel_build(True)), reason="torch's DEFAULT build: no FMA"
    ),
]

DTYPES = [np.float32, np.float64]


def _bits_equal(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    u = np.uint32 if a.dtype == np.float32 else np.uint64
    return (a.view(u) == b.view(u)) | (np.isnan(a) & np.isnan(b))


def _check(tf, ef, *xs) -> None:
    t = tf(*[torch.from_numpy(np.ascontiguousarray(x)) for x in xs]).numpy()
    e = ef(*[engine.tensor(np.ascontiguousarray(x)) for x in xs]).numpy()
    assert e.dtype == t.dtype and e.shape == t.shape
    ok = _bits_equal(t, e)
    bad = np.flatnonzero(~ok.reshape(-1))
    assert not bad.size, (bad.size, [(t.reshape(-1)[i], e.reshape(-1)[i]) for i in bad[:5]])


def _inputs(dt, scale: float, seed: int = 0) -> list:
    """A big input (vector blocks, each thread chunk's scalar tail), a small one (scalar only), a 2-d one."""
    rng = np.random.default_rng(seed)
    return [
        (rng.standard_normal(50_003) * scale).astype(dt),
        (rng.standard_normal(7) * scale).astype(dt),
        (rng.standard_normal((37, 29)) * scale).astype(dt),
    ]


def _special(dt) -> np.ndarray:
    v = [0.0, -0.0, 1.0, -1.0, 20.0, 20.5, -20.0, 30.0, -30.0, 88.0, 89.0, -104.0, -110.0, 700.0, 710.0, -740.0,
         -800.0, np.inf, -np.inf, np.nan, 1e-30, -1e-30, 1e-300, -1e-300, 1e30, -1e30]  # fmt: skip
    with np.errstate(over="ignore"):
        return np.array(v * 3, dtype=dt)


_ACTS = {
    "softplus": (lambda m, x: m.softplus(x), 6.0),
    "softplus_beta": (lambda m, x: m.softplus(x, beta=0.7, threshold=5.0), 8.0),
    "elu": (lambda m, x: m.elu(x), 3.0),
    "elu_alpha": (lambda m, x: m.elu(x, alpha=0.3), 3.0),
    "selu": (lambda m, x: m.selu(x), 3.0),
    "celu": (lambda m, x: m.celu(x, alpha=0.7), 3.0),
    "logsigmoid": (lambda m, x: m.logsigmoid(x), 6.0),
    "sigmoid": (lambda m, x: m.sigmoid(x), 6.0),
    "silu": (lambda m, x: m.silu(x), 6.0),
    "mish": (lambda m, x: m.mish(x), 6.0),
}

_UNARY = {  # torch function: input scale (cpu_kernel_vec with SLEEF's function in the vector code)
    "sinh": 4.0,
    "cosh": 30.0,
    "exp2": 40.0,
    "atanh": 0.4,
}


@pytest.mark.parametrize("dt", DTYPES)
@pytest.mark.parametrize("name", list(_ACTS))
def test_activation_bits(name, dt) -> None:
    f, scale = _ACTS[name]
    for x in _inputs(dt, scale) + [_special(dt)]:
        _check(lambda a: f(TF, a), lambda a: f(EF, a), x)


@pytest.mark.parametrize("dt", DTYPES)
@pytest.mark.parametrize("name", list(_UNARY))
def test_unary_bits(name, dt) -> None:
    f = getattr(torch, name)
    g = getattr(engine, name)
    for x in _inputs(dt, _UNARY[name]) + [_special(dt)]:
        _check(f, g, x)


@pytest.mark.parametrize("dt", DTYPES)
@pytest.mark.parametrize("name", ["softplus", "elu", "logsigmoid", "mish"])
def test_activation_strided(name, dt) -> None:
    f, scale = _ACTS[name]
    x = (np.random.default_rng(3).standard_normal((300, 200)) * scale).astype(dt)
    t = f(TF, torch.from_numpy(x).t()).numpy()
    e = f(EF, engine.tensor(x).t()).numpy()
    assert _bits_equal(t, e).all()


@pytest.mark.parametrize("log", [False, True])
@pytest.mark.parametrize("dim", [-1, 0, 1])
@pytest.mark.parametrize("shape", [(1000, 100), (40, 13, 21), (5, 3)])
def test_softmax_float64_bits(shape, dim, log) -> None:
    if dim >= len(shape) or -dim > len(shape):
        return
    x = np.random.default_rng(1).standard_normal(shape) * 4
    tf = TF.log_softmax if log else TF.softmax
    ef = EF.log_softmax if log else EF.softmax
    _check(lambda a: tf(a, dim=dim), lambda a: ef(a, dim=dim), x)


@pytest.mark.parametrize("dt", DTYPES)
def test_atan2_bits(dt) -> None:
    rng = np.random.default_rng(5)
    for n in (50_003, 7, 333):
        y = (rng.standard_normal(n) * 3).astype(dt)
        x = (rng.standard_normal(n) * 3).astype(dt)
        _check(torch.atan2, engine.atan2, y, x)
    sp = _special(dt)
    y, x = np.meshgrid(sp, sp)  # every pair of special values, inf/0/nan/huge/tiny
    _check(torch.atan2, engine.atan2, y.reshape(-1), x.reshape(-1))
    # broadcast (a row against a column) and a transposed operand
    a = (rng.standard_normal((40, 1)) * 2).astype(dt)
    b = (rng.standard_normal((1, 70)) * 2).astype(dt)
    _check(torch.atan2, engine.atan2, a, b)
    m = (rng.standard_normal((60, 50)) * 2).astype(dt)
    k = (rng.standard_normal((50, 60)) * 2).astype(dt)
    t = torch.atan2(torch.from_numpy(m).t(), torch.from_numpy(k)).numpy()
    e = engine.atan2(engine.tensor(m).t(), engine.tensor(k)).numpy()
    assert _bits_equal(t, e).all()


@pytest.mark.parametrize("dt", DTYPES)
@pytest.mark.parametrize("eps", [None, 1e-3, -1.0, 0.3])
def test_logit_bits(dt, eps) -> None:
    """A dense input goes through LogitMKLKernel (VML's Ln), any other through cpu_kernel_vec (SLEEF's log on
    the vector blocks of each row, std::log on the rest)."""
    rng = np.random.default_rng(7)
    x = rng.random((300, 203)).astype(dt)
    x[0, :6] = [0.0, 1.0, np.nan, -0.5, 1.5, 0.5]
    views = [
        lambda m, a: a,
        lambda m, a: a.t(),  # (dense: coalesced to one run)
        lambda m, a: a[:, :150],  # rows of 150 with gaps: vector blocks and tails
        lambda m, a: a[:, ::2],  # no two adjacent elements: all scalar
        lambda m, a: a[:, 1:],
    ]
    for v in views:
        t = torch.logit(v(torch, torch.from_numpy(x)), eps).numpy()
        e = engine.logit(v(engine, engine.tensor(x)), eps).numpy()
        assert t.shape == e.shape and _bits_equal(t, e).all()


@pytest.mark.parametrize("dt", DTYPES)
def test_digamma_bits(dt) -> None:
    """torch's calc_digamma in the input's dtype on every element: glibc's log(f), polevl's steps fused,
    the reflection through double; near the root at 1.4616 the cancellation shows every rounding."""
    rng = np.random.default_rng(11)
    xs = [
        (rng.random(20_000) * 40 - 10).astype(dt),
        (rng.random(20_000) * 3e-4 + 1.4615).astype(dt),
        (rng.random(20_000) * 0.04 - 1.58).astype(dt),
        np.array([0.0, -0.0, -1.0, -2.0, np.inf, -np.inf, np.nan, 10.0, 1e-30, -1e-30, 1e20, -1e20, 0.5], dt),
    ]
    for x in xs:
        _check(torch.digamma, engine.digamma, x)
        _check(torch.special.psi, engine.special.psi, x)


@pytest.mark.parametrize("dt", DTYPES)
def test_lgamma_bits(dt) -> None:
    """vml::vlgamma maps SLEEF's lgamma (gammak / logk2 in double-float arithmetic, sinpik for the reflection)
    over every element."""
    rng = np.random.default_rng(13)
    xs = [
        (rng.random(20_000) * 40 - 10).astype(dt),
        (rng.random(20_000) * 6 - 3).astype(dt),
        (rng.random(5_000) * 1e6).astype(dt),
        (rng.random(5_000) * 2e-3 - 1e-3).astype(dt),
        np.array(
            [
                0.0,
                -0.0,
                -1.0,
                -2.0,
                np.inf,
                -np.inf,
                np.nan,
                1.0,
                2.0,
                0.5,
                -0.5,
                1e-30,
                -1e-30,
                1e30,
                1e38,
                171.5,
                3e38,
                -1e30,
            ],
            dt,
        ),  # fmt: skip
    ]
    for x in xs:
        _check(torch.lgamma, engine.lgamma, x)
    x = (rng.random((60, 50)) * 20 - 5).astype(dt)
    t = torch.lgamma(torch.from_numpy(x).t()).numpy()
    e = engine.lgamma(engine.tensor(x).t()).numpy()
    assert _bits_equal(t, e).all()


_BACKWARD = {
    "softplus": lambda F, x: F.softplus(x),
    "softplus_beta": lambda F, x: F.softplus(x, beta=0.5, threshold=3.0),
    "logsigmoid": lambda F, x: F.logsigmoid(x),
    "silu": lambda F, x: F.silu(x),
    "mish": lambda F, x: F.mish(x),
    "elu": lambda F, x: F.elu(x),
    "elu_alpha": lambda F, x: F.elu(x, alpha=0.3),
    "selu": lambda F, x: F.selu(x),
    "celu": lambda F, x: F.celu(x, alpha=0.7),
    "gelu_tanh": lambda F, x: F.gelu(x, approximate="tanh"),
}


@pytest.mark.parametrize("dt", DTYPES)
@pytest.mark.parametrize("name", list(_BACKWARD))
def test_activation_backward_bits(name, dt) -> None:
    """x.grad through torch's backward kernels (softplus_backward, elu_backward: SLEEF's exp in the vector
    blocks; log_sigmoid_backward: the forward's SLEEF buffer exp(-|x|); mish_backward: SLEEF's exp, log1p
    and tanh, both products fused; gelu_backward (tanh): SLEEF's tanh, three products fused; silu_backward in
    float64 as in float32)."""
    f = _BACKWARD[name]
    rng = np.random.default_rng(17)
    for n in (50_003, 7):
        a = (rng.standard_normal(n) * 5).astype(dt)
        a[:3] = [0.0, -0.0, 1e-30]
        g = rng.standard_normal(n).astype(dt)
        xt = torch.tensor(a, requires_grad=True)
        f(TF, xt).backward(torch.from_numpy(g))
        xe = engine.tensor(a, requires_grad=True)
        f(EF, xe).backward(engine.tensor(g))
        assert _bits_equal(xt.grad.numpy(), xe.grad.numpy()).all()


@pytest.mark.parametrize("log", [False, True])
@pytest.mark.parametrize(("shape", "dim"), [((1000, 100), -1), ((40, 13, 21), 1), ((40, 13, 21), 0), ((3000, 5), -1)])
def test_softmax_float64_backward_bits(shape, dim, log) -> None:
    rng = np.random.default_rng(19)
    a = rng.standard_normal(shape) * 3
    g = rng.standard_normal(shape)
    xt = torch.tensor(a, requires_grad=True)
    (TF.log_softmax if log else TF.softmax)(xt, dim=dim).backward(torch.from_numpy(g))
    xe = engine.tensor(a, requires_grad=True)
    (EF.log_softmax if log else EF.softmax)(xe, dim=dim).backward(engine.tensor(g))
    assert _bits_equal(xt.grad.numpy(), xe.grad.numpy()).all()


@pytest.mark.parametrize("dt", DTYPES)
def test_bce_with_logits_bits(dt) -> None:
    """binary_cross_entropy_with_logits: torch's (1 - t) * x - log_sigmoid(x) (log_sigmoid scaled by
    (pos_weight - 1) * t + 1), its log_sigmoid SLEEF's on every element."""
    rng = np.random.default_rng(23)
    x = (rng.standard_normal((500, 40)) * 4).astype(dt)
    t = (rng.random((500, 40)) > 0.4).astype(dt)
    pw = (rng.random(40) * 3).astype(dt)
    w = rng.random(40).astype(dt)
    for kw in ({}, {"pos_weight": pw}, {"weight": w}, {"pos_weight": pw, "weight": w}):
        for red in ("none", "sum", "mean"):
            tk = {k: torch.from_numpy(v) for k, v in kw.items()}
            ek = {k: engine.tensor(v) for k, v in kw.items()}
            ref = TF.binary_cross_entropy_with_logits(torch.from_numpy(x), torch.from_numpy(t), reduction=red, **tk)
            got = EF.binary_cross_entropy_with_logits(engine.tensor(x), engine.tensor(t), reduction=red, **ek)
            assert _bits_equal(np.asarray(ref.numpy()), np.asarray(got.numpy())).all(), (kw.keys(), red)


@pytest.mark.parametrize("dt", DTYPES)
def test_glu_bits(dt) -> None:
    """glu's kernel over the two halves: a * (1 / (1 + exp(-b))), SLEEF's exp in the vector blocks of each
    half's rows, std::exp on the rest."""
    rng = np.random.default_rng(29)
    for shape, dim in (((50000, 2), -1), ((300, 200), -1), ((300, 200), 0), ((30, 20, 50), 1), ((7, 6), -1)):
        a = (rng.standard_normal(shape) * 4).astype(dt)
        _check(lambda x, d=dim: TF.glu(x, d), lambda x, d=dim: EF.glu(x, d), a)


@pytest.mark.parametrize("dt", DTYPES)
def test_gelu_tanh_bits(dt) -> None:
    """gelu(approximate='tanh'): SLEEF's tanh in the vector blocks, kKappa * x^3 fused, and the kernel's own
    grain (numel / threads above 16384 elements) deciding where each thread's scalar tail falls."""
    rng = np.random.default_rng(31)
    for n in (100_003, 20_001, 5_003, 7):
        a = (rng.standard_normal(n) * 3).astype(dt)
        _check(lambda x: TF.gelu(x, approximate="tanh"), lambda x: EF.gelu(x, approximate="tanh"), a)
    m = (rng.standard_normal((300, 200)) * 3).astype(dt)
    t = TF.gelu(torch.from_numpy(m).t(), approximate="tanh").numpy()
    e = EF.gelu(engine.tensor(m).t(), approximate="tanh").numpy()
    assert _bits_equal(t, e).all()


@pytest.mark.parametrize("name", ["lgamma", "digamma"])
def test_map_results_keep_torch_layout(name) -> None:
    """lgamma and digamma (SLEEF / calc_digamma on every element) lay out a transposed or expanded input's
    result as TensorIterator does."""
    x = np.random.default_rng(37).random((30, 20)).astype(np.float32) + 0.1
    for v in (lambda m: m.t(), lambda m: m[:, ::2], lambda m: m[:1].expand(5, 20)):
        t = getattr(torch, name)(v(torch.from_numpy(x)))
        e = getattr(engine, name)(v(engine.tensor(x)))
        assert t.stride() == e.stride() and _bits_equal(t.numpy(), e.numpy()).all()


@pytest.mark.parametrize("dt", DTYPES)
def test_xlogy_kl_div_bits(dt) -> None:
    """xlogy's kernel is a plain cpu_kernel: x * std::log(y) (logf for float32) on every element; kl_div
    (log_target=False) is xlogy(target, target) - target * input."""
    rng = np.random.default_rng(41)
    a = np.log(rng.random((300, 50))).astype(dt)
    b = rng.random((300, 50)).astype(dt)
    b[0, :5] = [0.0, np.inf, np.nan, -1.0, 1.0]
    _check(torch.xlogy, engine.xlogy, b, b * 2)
    _check(torch.xlogy, engine.xlogy, b, b[:1])
    _check(lambda x: torch.xlogy(x, 3.0), lambda x: engine.xlogy(x, 3.0), b)
    _check(lambda x, y: TF.kl_div(x, y, reduction="none"), lambda x, y: EF.kl_div(x, y, reduction="none"), a, b)


@pytest.mark.parametrize("dt", DTYPES)
def test_entr_bits(dt) -> None:
    """special.entr's plain cpu_kernel: -x * std::log(x) above 0 (logf for float32)."""
    rng = np.random.default_rng(43)
    x = (rng.standard_normal(20_000) * 3).astype(dt)
    x[:6] = [0.0, -0.0, np.nan, np.inf, 1e-30, 1.0]
    _check(torch.special.entr, engine.special.entr, x)


_ZERO_D = {
    "softplus": lambda m, F, x: F.softplus(x),
    "mish": lambda m, F, x: F.mish(x),
    "logsigmoid": lambda m, F, x: F.logsigmoid(x),
    "sigmoid": lambda m, F, x: m.sigmoid(x),
    "silu": lambda m, F, x: F.silu(x),
    "sinh": lambda m, F, x: m.sinh(x),
    "lgamma": lambda m, F, x: m.lgamma(x),
    "digamma": lambda m, F, x: m.digamma(x),
    "logit": lambda m, F, x: m.logit(x.abs() / 10),
    "atan2": lambda m, F, x: m.atan2(x, x * 0 + 0.7),
    "gelu_tanh": lambda m, F, x: F.gelu(x, approximate="tanh"),
    "xlogy": lambda m, F, x: m.xlogy(x, x.abs()),
}


@pytest.mark.parametrize("dt", DTYPES)
@pytest.mark.parametrize("name", list(_ZERO_D))
def test_zero_dim_bits(name, dt) -> None:
    """A 0-d tensor is one element: the scalar loop of a cpu_kernel_vec (the C library), or SLEEF for the
    kernels that run it on every element (logsigmoid, lgamma), VML for logit."""
    f = _ZERO_D[name]
    for v in (np.random.default_rng(47).standard_normal(300) * 3).astype(dt):
        t = f(torch, TF, torch.tensor(v)).numpy()
        e = f(engine, EF, engine.tensor(v)).numpy()
        assert e.shape == () and _bits_equal(np.asarray(t), np.asarray(e)).all(), (v, t, e)
