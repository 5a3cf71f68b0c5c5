"""Complex tensors (complex64/complex128) against PyTorch: dtypes and promotion, creation (randn's draws under a
seed included), views that share memory (view_as_real/view_as_complex, .real/.imag), conj, printing byte for
byte, elementwise math and products with their gradients (torch's conjugate Wirtinger convention), and the
errors torch raises for what has no complex kernel."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from helpers import check, same, same_error
from hypothesis import given, settings
from hypothesis import strategies as st

import engine

pytestmark = pytest.mark.usefixtures("device")

DT = ["complex64", "complex128"]
ALL = ["bool", "uint8", "int8", "int16", "int32", "int64", "float16", "float32", "float64", "complex64", "complex128"]


def cz(shape: tuple, dtype: str = "complex64", seed: int = 0, scale: float = 2.0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return np.asarray((rng.standard_normal(shape) + 1j * rng.standard_normal(shape)) * scale).astype(dtype)


# ---- dtypes and promotion ----------------------------------------------------------------------------------
def test_dtype_attributes() -> None:
    for name in ("complex64", "complex128", "cfloat", "cdouble"):
        e, t = getattr(engine, name), getattr(torch, name)
        assert repr(e) == repr(t)
        assert (e.is_complex, e.is_floating_point, e.is_signed, e.itemsize) == (
            t.is_complex,
            t.is_floating_point,
            t.is_signed,
            t.itemsize,
        )
        assert repr(e.to_real()) == repr(t.to_real())
    assert repr(engine.float64.to_complex()) == repr(torch.float64.to_complex())


@pytest.mark.parametrize("a", ALL)
def test_promote_types_with_complex(a: str) -> None:
    for b in DT:
        e = engine.promote_types(getattr(engine, a), getattr(engine, b))
        t = torch.promote_types(getattr(torch, a), getattr(torch, b))
        assert repr(e) == repr(t), (a, b)


@pytest.mark.parametrize("dtype", ["int64", "int32", "bool", "float32", "float64", "complex64", "complex128"])
def test_result_type_with_python_complex_and_zero_dim(dtype: str) -> None:
    def fn(T: object) -> object:
        x = T.ones(3, dtype=getattr(T, dtype))
        return (
            (x + 1j).dtype,
            (x * T.tensor(2j)).dtype,
            (x * T.tensor(2j, dtype=T.complex128)).dtype,
            T.result_type(x, 1j),
            (T.tensor(1j) + x).dtype,
        )

    same(fn)


def test_python_complex_scalars_follow_the_default_dtype() -> None:
    def fn(T: object) -> object:
        T.set_default_dtype(T.float64)
        try:
            return T.tensor([1 + 2j]).dtype, (T.ones(2, dtype=T.int64) + 1j).dtype, T.full((1,), 1j).dtype
        finally:
            T.set_default_dtype(T.float32)

    same(fn)


# ---- creation ------------------------------------------------------------------------------------------------
def test_creation() -> None:
    def fn(T: object) -> object:
        return (
            T.tensor([1 + 2j, 3, -4.5j]),
            T.tensor([[1, 2j], [0.5, True]], dtype=T.complex128),
            T.zeros(2, 3, dtype=T.cfloat),
            T.ones(2, dtype=T.cdouble),
            T.full((2,), 1 - 1j),
            T.tensor(np.array([1j, 2], dtype=np.complex64)),
            T.ones(3).to(T.complex64),
            T.arange(3) * 1j,
        )

    same(fn)


@pytest.mark.parametrize("n", [1, 7, 8, 9, 16, 40])
@pytest.mark.parametrize("dtype", DT)
def test_randn_draws_match_torch(n: int, dtype: str) -> None:
    def fn(T: object) -> object:
        T.manual_seed(7)
        a = T.randn(n, dtype=getattr(T, dtype))
        b = T.randn(2, n, dtype=getattr(T, dtype))
        return a, b, T.randn(3)  # (and the generator is where torch leaves it)

    same(fn)


def test_complex_and_polar() -> None:
    re, im = np.array([1.0, -2.0, 0.0], np.float32), np.array([0.5, 3.0, -0.0], np.float32)
    check(lambda T, a, b: T.complex(a, b), re, im)
    check(lambda T, a, b: T.polar(a.abs(), b), re, im)
    check(lambda T, a, b: T.complex(a, b[:1]), re.astype(np.float64), im.astype(np.float64))


def test_complex_errors() -> None:
    same_error(lambda T: T.complex(T.ones(2), T.ones(2, dtype=T.float64)))
    same_error(lambda T: T.complex(T.ones(2, dtype=T.long), T.ones(2, dtype=T.long)))
    same_error(lambda T: T.polar(T.ones(2), T.ones(2, dtype=T.float64)))
    same_error(lambda T: T.tensor([1j], dtype=T.float32))
    same_error(lambda T: T.view_as_real(T.ones(2)))
    same_error(lambda T: T.view_as_complex(T.ones(3)))
    same_error(lambda T: T.view_as_complex(T.ones(2, 2, dtype=T.long)))
    same_error(lambda T: T.view_as_real(T.ones(2, dtype=T.cfloat).conj()))
    same_error(lambda T: T.ones(2).imag)


# ---- views -------------------------------------------------------------------------------------------------
def test_views_share_memory() -> None:
    def fn(T: object) -> object:
        z = T.tensor([1 + 2j, 3 - 4j])
        r = T.view_as_real(z)
        r[0, 1] = 9.0
        z.real[1] = -7.0
        z.imag.mul_(2)
        c = T.view_as_complex(r)
        c[0] = 5j
        z.real = T.tensor([1.5, 2.5])
        return z, r, c, z.real, z.imag, z.real.stride(), z.imag.storage_offset()

    same(fn)


def test_conj_bit() -> None:
    def fn(T: object) -> object:
        z = T.tensor([1 + 2j, 3 - 4j])
        c = z.conj()
        x = T.ones(2)
        return (
            c, c.is_conj(), z.is_conj(), c.resolve_conj().is_conj(), c.conj().is_conj(), T.conj_physical(z),
            T.conj_physical(z).is_conj(), x.conj() is x, x.conj().is_conj(), T.is_complex(z), x.is_complex(),
            z.is_floating_point(), z.angle(), T.tensor([-1.0, 0.0, 2.0]).angle(), z.sgn(), z.abs(),
        )  # fmt: skip

    same(fn)


# ---- printing ------------------------------------------------------------------------------------------------
PARTS = st.one_of(
    st.sampled_from([0.0, -0.0, 1.0, -1.0, 0.5, 100.0, 1e-5, 1e8, 1.5e10, 12345.678, float("nan"), float("inf")]),
    st.floats(-1e4, 1e4, allow_nan=False, width=32),
    st.floats(-0.0010000000474974513, 0.0010000000474974513, allow_nan=False, width=32),
)


@settings(max_examples=150, deadline=None)
@given(
    re=st.lists(PARTS, min_size=1, max_size=7),
    im=st.lists(PARTS, min_size=7, max_size=7),
    dtype=st.sampled_from(DT),
    shape=st.sampled_from(["flat", "col", "scalar"]),
)
def test_repr_matches_torch(re: list, im: list, dtype: str, shape: str) -> None:
    vals = [complex(a, b) for a, b in zip(re, im)]
    if shape == "scalar":
        vals = vals[0]

    def fn(T: object) -> str:
        t = T.tensor(vals, dtype=getattr(T, dtype))
        if shape == "col":
            t = t.reshape(-1, 1)
        return repr(t.cpu())  # (the text, not the device suffix, is under test)

    same(fn)


@pytest.mark.parametrize(
    "opts", [{}, {"sci_mode": True}, {"sci_mode": False}, {"precision": 2}, {"edgeitems": 1, "threshold": 5}]
)
def test_repr_options_and_summaries(opts: dict) -> None:
    def fn(T: object) -> str:
        T.set_printoptions(**opts)
        try:
            big = (T.arange(2000.0).reshape(100, 20) * (1 - 0.5j)).cpu()
            small = T.tensor([1.25 + 1e-6j, -3 - 4j, 1e5j]).cpu()
            return repr(small) + repr(big) + repr(big[:3, :4].to(T.complex128))
        finally:
            T.set_printoptions(profile="default")

    same(fn)


def test_repr_grad_and_conj() -> None:
    def fn(T: object) -> str:
        z = T.tensor([1 + 2j, -0.5j], requires_grad=True, device="cpu")
        return repr(z) + repr(z * 2) + repr(z.conj()) + repr(T.tensor([], dtype=T.cfloat)) + str(z.detach()[0])

    same(fn)


# ---- math and gradients -------------------------------------------------------------------------------------
UNARY = ["exp", "log", "sqrt", "sin", "cos", "tanh", "sigmoid", "reciprocal", "neg", "abs", "angle", "sgn",
         "square", "rsqrt", "tan", "sinh", "cosh", "expm1", "log1p", "log2", "log10", "exp2", "asin", "atan",
         "conj", "conj_physical"]  # fmt: skip


@pytest.mark.parametrize("name", UNARY)
@pytest.mark.parametrize("dtype", DT)
def test_unary_values_and_grads(name: str, dtype: str) -> None:
    check(lambda T, z: getattr(T, name)(z), cz((5,), dtype, seed=1, scale=0.8))


BINARY = {
    "add": lambda a, b: a + b,
    "sub": lambda a, b: a - b,
    "mul": lambda a, b: a * b,
    "div": lambda a, b: a / b,
    "pow": lambda a, b: a**b,
    "eq": lambda a, b: a == b,
    "ne": lambda a, b: a != b,
}


@pytest.mark.parametrize("op", list(BINARY))
@pytest.mark.parametrize("other", ["complex64", "complex128", "float32", "float64", "int64", "scalar"])
def test_binary_values_and_grads(op: str, other: str) -> None:
    a = cz((2, 3), seed=2)
    if other == "scalar":
        check(lambda T, x: (BINARY[op](x, 1.5 - 0.5j), BINARY[op](x, 2), BINARY[op](x, 0.5)), a)
        return
    b = cz((3,), other, seed=3) if other.startswith("complex") else np.arange(1, 4).astype(other)
    check(lambda T, x, y: (BINARY[op](x, y), BINARY[op](y, x)), a, b)


def test_reductions_and_shapes() -> None:
    check(
        lambda T, z: (
            z.sum(),
            z.sum(0),
            z.mean(),
            z.mean(1),
            z.prod(),
            z.prod(1),
            z.cumsum(1),
            z.cumprod(0),
            z.var(),
            z.std(1),
            z.norm(),
            z.reshape(3, 2),
            z.t(),
            z[1],
            z[:, ::2],
            T.cat([z, z.real * 1j]),
            T.stack([z, z]),
            z.flip(0),
            T.where(z.real > 0, z, 0),
            z.mT,
            z.mH,
            z.sum().abs(),
        ),  # fmt: skip
        cz((2, 3), seed=4),
    )


def test_products() -> None:
    a, b = cz((2, 3), seed=5), cz((3, 4), seed=6)
    check(lambda T, x, y: (x @ y, x.mm(y), T.matmul(x, y[:, 0]), T.einsum("ij,jk->ik", x, y)), a, b)
    check(lambda T, x, y: (T.dot(x, y), T.vdot(x, y), T.outer(x, y)), cz((3,), seed=7), cz((3,), seed=8))
    check(lambda T, x, y: T.bmm(x, y), cz((2, 2, 3), "complex128", seed=9), cz((2, 3, 2), "complex128", seed=10))
    check(lambda T, x, y: x @ y, cz((2, 3), seed=11), np.ones((3, 2), np.float32))


def test_views_backward() -> None:
    check(
        lambda T, z, r: (
            T.view_as_real(z) * 2,
            z.real,
            z.imag,
            T.view_as_complex(T.stack([r, r * r], -1)) * z,
            T.complex(r, r.exp()),
            T.polar(r.exp(), r) * z,
            (z.conj() * z).real,
        ),  # fmt: skip
        cz((3,), seed=12),
        np.array([0.5, -1.0, 2.0], np.float32),
    )


def test_abs_sum_backward_is_z_over_abs() -> None:
    z = engine.tensor([3 + 4j, -1j, 0j], requires_grad=True)
    z.abs().sum().backward()
    assert z.grad.tolist() == [(0.6000000238418579 + 0.800000011920929j), -1j, 0j]


def test_backward_of_complex_scalar_is_an_error() -> None:
    same_error(lambda T: T.tensor(1 + 1j, requires_grad=True).mul(2).backward())
    same_error(lambda T: T.tensor([1 + 1j], requires_grad=True).sum().backward())


# ---- what torch has no complex kernel for ---------------------------------------------------------------------
REFUSED = [
    lambda T, z: z < 1, lambda T, z: z >= z, lambda T, z: T.ones(2) > z, lambda T, z: z.max(), lambda T, z: z.min(),
    lambda T, z: z.max(0), lambda T, z: z.amax(), lambda T, z: z.argmax(), lambda T, z: z.argmin(0),
    lambda T, z: z.sort(), lambda T, z: z.argsort(), lambda T, z: z.topk(1), lambda T, z: z.clamp(0, 1),
    lambda T, z: z.clamp(min=0), lambda T, z: T.maximum(z, z), lambda T, z: T.minimum(z, z), lambda T, z: z.relu(),
    lambda T, z: z.sign(), lambda T, z: z.floor(), lambda T, z: z.ceil(), lambda T, z: z.trunc(),
    lambda T, z: z.frac(), lambda T, z: z.erf(), lambda T, z: z.round(), lambda T, z: z // 2, lambda T, z: z % 2,
]  # fmt: skip


@pytest.mark.parametrize("i", range(len(REFUSED)))
def test_refused_ops(i: int) -> None:
    same_error(REFUSED[i], cz((2,), seed=15))


def test_casting_to_real_takes_the_real_part() -> None:
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        same(lambda T: (T.tensor([1.5 + 2j, -3j]).float(), T.tensor([2.7 - 1j]).long(), T.tensor([1j]).to(T.float64)))


def test_in_place_and_writes() -> None:
    def fn(T: object) -> object:
        z = T.tensor([1 + 2j, 3])
        z.mul_(1j).add_(1j)
        z.exp_().sqrt_()
        x = T.tensor([1.0, 2.0])
        c = T.tensor([1 + 2j, 3]).copy_(x)
        f = T.tensor([1 + 2j, 3]).fill_(2j)
        z[0] = 5j
        return z, c, f, x.add(1j), T.tensor([1 + 2j, 0]).nonzero(), T.tensor([1 + 2j, 0]).bool()

    same(fn)
    same_error(lambda T: T.tensor([1.0, 2.0]).add_(1j))
    same_error(lambda T: T.tensor([1.0, 3.0]).__setitem__(0, 5j))


def test_more_ops() -> None:
    check(
        lambda T, z, w: (
            T.logsumexp(z, 0),
            z.lerp(w, 0.25),
            z.lerp(w, 0.75),
            z.addcmul(w, w),
            T.trace(z.reshape(2, 2)),
            T.isreal(z),
            z.isreal(),
            T.nn.functional.linear(z.reshape(2, 2), w.reshape(2, 2)),
        ),  # fmt: skip
        cz((4,), seed=16),
        cz((4,), seed=17),
    )
    same_error(lambda T: T.tensor([1 + 2j, 3]).unique())


@pytest.mark.parametrize("dtype", DT)
def test_rand_draws_match_torch(dtype: str) -> None:
    def fn(T: object) -> object:
        T.manual_seed(3)
        return T.rand(3, dtype=getattr(T, dtype)), T.rand(2, 10, dtype=getattr(T, dtype)), T.rand(2)

    same(fn)


def test_complex_linear_algebra_is_named_as_not_covered() -> None:
    with pytest.raises(NotImplementedError, match="linalg.inv: complex matrices are not covered by tcli's engine"):
        engine.linalg.inv(engine.eye(2, dtype=engine.cfloat))


GRADCHECKED = [
    lambda T, a, b: (a * b.exp() / (a + 3)).abs(),
    lambda T, a, b: a * b.conj() + a.sin() - b.sqrt(),
    lambda T, a, b: (a @ b.reshape(3, 1), T.view_as_real(a).sum(-1), a.angle() + b.sgn().real),
    lambda T, a, b: (T.polar(a.abs(), b.real), T.complex(a.imag, b.real) ** 2, a.var(), a.prod()),
]


@pytest.mark.parametrize("i", range(len(GRADCHECKED)))
def test_gradcheck_complex_functions(i: int) -> None:
    a, b = cz((3,), "complex128", seed=20), cz((3,), "complex128", seed=21)
    for T in (torch, engine):
        args = (T.tensor(a, requires_grad=True), T.tensor(b, requires_grad=True))
        assert T.autograd.gradcheck(lambda x, y, T=T: GRADCHECKED[i](T, x, y), args)


def test_gradcheck_fails_a_wrong_complex_gradient(monkeypatch: pytest.MonkeyPatch) -> None:
    from engine.ops import complex as C

    z = engine.tensor(cz((3,), "complex128", seed=22), requires_grad=True)
    assert engine.autograd.gradcheck(lambda a: a.conj() * 2, (z,))
    monkeypatch.setattr(C.ConjBackward0, "backward", lambda self, g: (g,))  # (the conjugate forgotten)
    assert not engine.autograd.gradcheck(lambda a: a.conj() * 2, (z,), raise_exception=False)


def test_python_numbers_from_complex_tensors() -> None:
    same(lambda T: (float(T.tensor(1 + 0j)), int(T.tensor(2 + 0j)), complex(T.tensor(1.5)), f"{T.tensor(1 + 2j)}"))
    same(lambda T: (T.tensor(1 + 2j).item(), T.tensor([1j, 2]).tolist(), bool(T.tensor(1j))))
    same(lambda T: (repr(T.finfo(T.complex64)), T.finfo(T.complex128).bits, T.finfo(T.cfloat).eps))
    same_error(lambda T: float(T.tensor(1 + 2j)))
    same_error(lambda T: int(T.tensor(1 + 2j)))


NO_COMPLEX_KERNEL = [
    "deg2rad", "rad2deg", "signbit", "isposinf", "isneginf", "nansum", "nanmean", "logit", "erfinv", "erfc", "i0",
    "lgamma", "digamma", "special.i0e", "special.i1", "special.ndtri", "special.entr", "special.gammaln",
    "special.psi", "cummax", "cummin", "kthvalue", "median", "nanmedian", "mode", "aminmax", "fmax", "fmin",
    "xlogy", "atan2", "copysign", "fmod", "bitwise_and", "special.xlog1py",
]  # fmt: skip
_TAKES_DIM = {"cummax": 0, "cummin": 0, "kthvalue": 1}  # (a dim, or kthvalue's k)
_BINARY = {"fmax", "fmin", "xlogy", "atan2", "copysign", "fmod", "bitwise_and", "special.xlog1py"}


@pytest.mark.parametrize("name", NO_COMPLEX_KERNEL)
def test_functions_without_complex_kernels(name: str) -> None:
    def fn(T: object) -> object:
        f = T
        for part in name.split("."):
            f = getattr(f, part)
        z = T.tensor([1 + 2j, 0.5])
        return f(z, _TAKES_DIM[name]) if name in _TAKES_DIM else f(z, z) if name in _BINARY else f(z)

    same_error(fn)
    if "." not in name and name not in _BINARY | {"nanmean"}:  # the method form too
        args = (_TAKES_DIM[name],) if name in _TAKES_DIM else ()
        same_error(lambda T: getattr(T.tensor([1 + 2j, 0.5]), name)(*args))


def test_acosh_and_float_power() -> None:
    check(lambda T, z: (z.acosh(), T.float_power(z, 2), T.float_power(z.real, 0.5j)), cz((4,), seed=23, scale=0.7))


def test_a_real_inputs_gradient_takes_the_real_part_silently() -> None:
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # (torch's handle_r_to_c: no "discards the imaginary part" warning)
        check(lambda T, x: (x.to(T.cfloat) * (1 + 2j), T.fft.fftn(x), x * T.tensor(1j)), np.ones(3, np.float32))


OPERANDS = ["complex64", "complex128", "float32", "float64", "int64"]
SHAPES = [((3,), (3,)), ((2, 3), (3,)), ((2, 1), (1, 4)), ((), (2, 2)), ((4, 1, 2), (3, 1))]


@settings(max_examples=80, deadline=None)
@given(
    op=st.sampled_from(["+", "-", "*", "/", "**", "==", "!="]),
    a=st.sampled_from(OPERANDS),
    b=st.sampled_from(OPERANDS),
    shapes=st.sampled_from(SHAPES),
    seed=st.integers(0, 2**16),
)
def test_binary_ops_over_dtypes_and_broadcasting(op: str, a: str, b: str, shapes: tuple, seed: int) -> None:
    if not (a.startswith("complex") or b.startswith("complex")):
        a = "complex64"

    def make_operand(dtype: str, shape: tuple, s: int) -> np.ndarray:
        if dtype == "int64":
            return np.random.default_rng(s).integers(1, 4, size=shape)
        return cz(shape, dtype, seed=s, scale=0.8) if dtype.startswith("complex") else cz(shape, "complex128", s).real

    x = np.asarray(make_operand(a, shapes[0], seed)).astype(a)  # (0-dim: an array, so a tensor, not a scalar)
    y = np.asarray(make_operand(b, shapes[1], seed + 1)).astype(b)
    check(lambda T, p, q: eval(f"p {op} q"), x, y, atol=1e-4, rtol=1e-4, grad_atol=1e-3, grad_rtol=1e-3)


def test_numpy_of_a_conjugate_view_is_refused() -> None:
    same_error(lambda T: T.tensor([1 + 2j]).conj().numpy())
    same(lambda T: T.tensor([1 + 2j]).conj().resolve_conj().cpu().numpy().tolist())


@pytest.mark.parametrize("e", [0.5, 7, -3, 2.5, 1.5j, 1, "tensor", "real tensor"])
def test_complex_pow_rounds_as_torch(e: object) -> None:
    """torch takes a real exponent through exp(e * log(z)) where numpy multiplies out integer powers: bit for bit."""
    z, w = cz((200,), seed=24), cz((200,), seed=25)
    got = []
    for T in (torch, engine):
        if e == "tensor":
            r = T.tensor(z) ** T.tensor(w)
        elif e == "real tensor":
            r = T.tensor(z) ** T.tensor(w.real.round())
        else:
            r = T.tensor(z) ** e
        got.append(r.cpu().numpy())
    np.testing.assert_array_equal(got[1], got[0])
