"""torch.fft against PyTorch: every transform over n/s, dim and the three norms, real and complex inputs of both
precisions (values within float tolerance: pocketfft and torch's MKL round differently), result dtypes, shapes
and grad_fn names, gradients (torch's FftC2C/R2C/C2R backward formulas, rfft's onesided halving included),
printed results, the helpers (fftfreq, rfftfreq, fftshift, ifftshift) and torch's errors."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from helpers import check, same, same_error
from hypothesis import given, settings
from hypothesis import strategies as st

import engine

pytestmark = pytest.mark.usefixtures("device")

NORMS = [None, "backward", "ortho", "forward"]
# pocketfft and MKL agree to a few float32 ulps of the spectrum's scale
TOL = {"float32": 2e-5, "float64": 1e-12, "complex64": 2e-5, "complex128": 1e-12}


def data(shape: tuple, dtype: str, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(shape)
    if dtype.startswith("complex"):
        x = x + 1j * rng.standard_normal(shape)
    return x.astype(dtype)


def fft_check(fn: object, x: np.ndarray) -> None:
    tol = TOL[str(x.dtype)]
    check(fn, x, atol=tol * 10, rtol=tol, grad_atol=tol * 100, grad_rtol=tol * 10)


ONE_D = {
    "fft": ("real", "complex"),
    "ifft": ("real", "complex"),
    "rfft": ("real",),
    "ihfft": ("real",),
    "irfft": ("complex",),
    "hfft": ("complex",),
}


@settings(max_examples=60, deadline=None)
@given(
    name=st.sampled_from(list(ONE_D)),
    complex_in=st.booleans(),
    double=st.booleans(),
    shape=st.sampled_from([(7,), (8,), (3, 5), (4, 6), (2, 3, 4), (1,)]),
    n=st.sampled_from([None, 1, 3, 4, 9, 16]),
    dim=st.sampled_from([-1, 0]),
    norm=st.sampled_from(NORMS),
)
def test_one_dimensional(name: str, complex_in: bool, double: bool, shape: tuple, n: int, dim: int, norm: str) -> None:
    kind = "complex" if complex_in else "real"
    if kind not in ONE_D[name]:
        kind = ONE_D[name][0]
    dtype = {"real": "float64" if double else "float32", "complex": "complex128" if double else "complex64"}[kind]
    if name in ("irfft", "hfft") and n is None and shape[dim] == 1:
        n = 2  # (the default 2 * (1 - 1) = 0 points is torch's error, tested below)
    fft_check(lambda T, x: getattr(T.fft, name)(x, n=n, dim=dim, norm=norm), data(shape, dtype, seed=len(shape)))


ND = ["fftn", "ifftn", "rfftn", "irfftn", "fft2", "ifft2", "rfft2", "irfft2", "hfftn", "hfft2", "ihfftn", "ihfft2"]


@settings(max_examples=60, deadline=None)
@given(
    name=st.sampled_from(ND),
    double=st.booleans(),
    shape=st.sampled_from([(4, 6), (3, 5), (2, 3, 4), (5, 2, 2)]),
    args=st.sampled_from([{}, {"s": (3, 8)}, {"dim": (0,)}, {"dim": (-1, 0)}, {"s": (2, -1), "dim": (1, 0)}]),
    norm=st.sampled_from(NORMS),
)
def test_n_dimensional(name: str, double: bool, shape: tuple, args: dict, norm: str) -> None:
    real_in = name.startswith(("rfft", "ihfft"))
    dtype = ("float64" if double else "float32") if real_in else ("complex128" if double else "complex64")
    if name.endswith("2") and "dim" in args and len(args["dim"]) != 2:
        args = {}
    fft_check(lambda T, x: getattr(T.fft, name)(x, norm=norm, **args), data(shape, dtype, seed=3))


def test_real_inputs_of_complex_transforms_and_integers() -> None:
    fft_check(lambda T, x: (T.fft.fftn(x), T.fft.ifft2(x), T.fft.fft(x, dim=0)), data((4, 5), "float32"))
    same(lambda T: (T.fft.fft(T.arange(6)), T.fft.rfft(T.tensor([1, 0, 0, 0])), T.fft.fftn(T.tensor(2.0))))
    same(lambda T: (T.fft.fft(T.ones(3)).is_conj(), T.fft.ifft(T.ones(3)).is_conj(), T.fft.ihfft(T.ones(4))))
    same(lambda T: (T.fft.ihfftn(T.ones(3, 4)).is_conj(), T.fft.ihfftn(T.ones(3, 4), dim=0).is_conj()))
    fft_check(lambda T, x: (T.fft.hfftn(x), T.fft.hfft2(x, s=(2, 5))), data((3, 4), "float64"))


def test_second_order() -> None:
    def fn(T: object, x: object) -> object:
        y = T.fft.rfft(x * x)
        (g,) = T.autograd.grad(y.abs().sum(), x, create_graph=True)
        (gg,) = T.autograd.grad(g.sum(), x)
        return g, gg

    same(fn, data((6,), "float64"))


def test_helpers() -> None:
    same(
        lambda T: (
            T.fft.fftfreq(5),
            T.fft.fftfreq(8, d=0.1),
            T.fft.fftfreq(4, dtype=T.float64),
            T.fft.rfftfreq(7, 2.0),
            T.fft.rfftfreq(1),
            T.fft.fftshift(T.fft.fftfreq(7)),
            T.fft.ifftshift(T.fft.fftshift(T.fft.fftfreq(6))),
            T.fft.fftshift(T.arange(12).reshape(3, 4)),
            T.fft.ifftshift(T.arange(12).reshape(3, 4), dim=1),
            T.fft.fftshift(T.arange(10).reshape(2, 5), dim=(-1,)),
            T.fft.fftfreq(3, requires_grad=True),
        )  # fmt: skip
    )
    check(lambda T, x: T.fft.fftshift(x), data((3, 4), "float32"))


def test_printed_spectrum() -> None:
    def fn(T: object) -> str:
        t = T.arange(8.0, device="cpu")  # (the text under test, not the device suffix)
        half = T.fft.rfft(T.tensor([1.0, 0.0, -1.0, 0.0], device="cpu"))
        return repr(T.fft.fft(t)) + repr(half) + repr(T.fft.fftfreq(8, device="cpu"))

    same(fn)


ERRORS = [
    lambda T: T.fft.fft(T.ones(4), norm="bad"),
    lambda T: T.fft.rfft(T.ones(4, dtype=T.cfloat)),
    lambda T: T.fft.ihfft(T.ones(4, dtype=T.cfloat)),
    lambda T: T.fft.rfftn(T.ones(4, dtype=T.cfloat)),
    lambda T: T.fft.fft(T.ones(4), n=0),
    lambda T: T.fft.irfft(T.ones(4, dtype=T.cfloat), n=0),
    lambda T: T.fft.irfft(T.ones(1, dtype=T.cfloat)),
    lambda T: T.fft.fft(T.ones(4), dim=2),
    lambda T: T.fft.fft2(T.ones(4)),
    lambda T: T.fft.fft(T.ones(2, dtype=T.float16)),
    lambda T: T.fft.fftn(T.ones(4), s=(2, 3)),
    lambda T: T.fft.fftn(T.ones(2, 4), s=(2, 3), dim=(0,)),
    lambda T: T.fft.fftn(T.ones(2, 4), dim=(0, 0)),
    lambda T: T.fft.fft(T.tensor(1.0)),
    lambda T: T.fft.fftn(T.ones(3), s=(0,)),
    lambda T: T.fft.ihfftn(T.ones(3, 4, dtype=T.cfloat)),
    lambda T: T.fft.ihfft2(T.ones(3)),
    lambda T: T.fft.hfftn(T.ones(3, 4, dtype=T.cfloat), s=(0,)),
]


@pytest.mark.parametrize("i", range(len(ERRORS)))
def test_errors(i: int) -> None:
    same_error(ERRORS[i])


def test_rfft_backward_halving_matches_torch_exactly_in_double() -> None:
    x = np.linspace(-1, 1, 10)
    grads = []
    for T in (torch, engine):
        t = T.tensor(x, requires_grad=True)
        w = T.tensor(np.arange(6) + 1j * np.arange(6)[::-1].copy())
        (T.fft.rfft(t) * w).real.sum().backward()
        grads.append(t.grad.cpu().numpy())
    np.testing.assert_allclose(grads[0], grads[1], atol=1e-12, rtol=1e-12)


GRADCHECKED = [
    lambda T, x: T.fft.fft(x, n=5, norm="ortho"),
    lambda T, x: T.fft.ifft(x, n=3),
    lambda T, x: T.fft.irfft(x, n=6, norm="forward"),
    lambda T, x: T.fft.hfft(x),
    lambda T, x: T.fft.fftn(x.reshape(2, 2), s=(3, 2)),
    lambda T, x: T.fft.irfftn(x.reshape(2, 2), s=(2, 3)),
    lambda T, x: T.fft.hfft2(x.reshape(2, 2)),
    lambda T, x: T.fft.rfft(x.real, n=7),
    lambda T, x: T.fft.ihfftn(x.imag.reshape(2, 2)),
]


@pytest.mark.parametrize("i", range(len(GRADCHECKED)))
def test_gradcheck(i: int) -> None:
    z = data((4,), "complex128", seed=30)
    for T in (torch, engine):
        assert T.autograd.gradcheck(lambda x, T=T: GRADCHECKED[i](T, x), (T.tensor(z, requires_grad=True),))


OUT_FORMS = [
    ("fft", "float32", "complex64"), ("ifft", "complex64", "complex64"), ("rfft", "float32", "complex64"),
    ("irfft", "complex64", "float32"), ("hfft", "complex64", "float32"), ("ihfft", "float32", "complex64"),
    ("fftn", "float32", "complex64"), ("ifftn", "complex64", "complex64"), ("fft2", "float64", "complex128"),
    ("ifft2", "complex64", "complex64"), ("rfftn", "float32", "complex64"), ("rfft2", "float32", "complex64"),
    ("irfftn", "complex64", "float32"), ("irfft2", "complex64", "float32"), ("hfftn", "complex64", "float32"),
    ("hfft2", "complex64", "float32"), ("ihfftn", "float32", "complex64"), ("ihfft2", "float32", "complex64"),
]  # fmt: skip


@pytest.mark.parametrize("name,src,dst", OUT_FORMS)
def test_out_keyword(name: str, src: str, dst: str) -> None:
    x = data((3, 4), src, seed=40)

    def fn(T: object, x: object) -> object:
        out = T.empty(0, dtype=getattr(T, dst))
        r = getattr(T.fft, name)(x, out=out)
        return r is out, out

    if name == "ihfft":  # (torch's conj_physical_out leaves a NotImplemented node on out; the engine no node)
        same(fn, x)
    else:
        fft_check(fn, x)
    wrong = "float32" if dst.startswith("complex") else "complex64"
    same_error(lambda T: getattr(T.fft, name)(T.tensor(x), out=T.empty(0, dtype=getattr(T, wrong))))
