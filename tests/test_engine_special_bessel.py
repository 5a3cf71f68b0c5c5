"""torch.special's Bessel and Airy functions (bessel_j0/j1/y0/y1, modified_bessel_i0/i1/k0/k1,
scaled_modified_bessel_k0/k1, airy_ai, spherical_bessel_j0) against torch: the same bits on the cpu in float32
and float64 over dense grids with the branch points, zeros, negatives, large values, infinities and nan;
integer inputs, the Half kernel torch lacks, out=, the result that never requires grad, and argument errors."""

from __future__ import annotations

import helpers
import numpy as np
import pytest
import torch
from helpers import computed, same, same_error

import engine

pytestmark = pytest.mark.usefixtures("device")

NAMES = ["airy_ai", "bessel_j0", "bessel_j1", "bessel_y0", "bessel_y1", "modified_bessel_i0", "modified_bessel_i1",
         "modified_bessel_k0", "modified_bessel_k1", "scaled_modified_bessel_k0", "scaled_modified_bessel_k1",
         "spherical_bessel_j0"]  # fmt: skip
EDGES = [0.0, -0.0, 1e-5, 0.5, 2.0, 2.09, -2.09, 5.0, -5.0, 8.0, -8.0, 8.3203353, 103.892, 200.0, 1e30, -1e30,
         np.inf, -np.inf, np.nan]  # fmt: skip


def grid() -> np.ndarray:
    rng = np.random.default_rng(7)
    return np.concatenate([np.linspace(-30, 30, 6001), rng.standard_normal(1000) * 4, np.exp(rng.uniform(-20, 6, 1000)),
                           -np.exp(rng.uniform(-20, 6, 500)), EDGES])  # fmt: skip


def assert_same_bits(got: np.ndarray, want: np.ndarray) -> None:
    """Equal bits on the cpu (nan as nan); a device has its own sin/cos/exp/log, so there: close."""
    if helpers.DEVICE == "cpu":
        bits = np.int32 if got.dtype == np.float32 else np.int64  # (bits: -0.0 is not 0.0)
        wrong = ~((got.view(bits) == want.view(bits)) | (np.isnan(got) & np.isnan(want)))
        assert not wrong.any(), f"{wrong.sum()} differ, first at {np.nonzero(wrong)[0][:5]}"
    else:
        np.testing.assert_allclose(got, want, rtol=1e-5 if got.dtype == np.float32 else 1e-12, atol=1e-30)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name", NAMES)
def test_values_bit_for_bit(name: str, dtype: str) -> None:
    x = grid().astype(dtype)
    want = getattr(torch.special, name)(torch.tensor(x)).numpy()
    got = getattr(engine.special, name)(engine.tensor(x)).cpu().numpy()
    assert got.dtype == want.dtype
    assert_same_bits(got, want)


@pytest.mark.parametrize("name", NAMES)
def test_dtypes_out_and_grad(name: str) -> None:
    def fn(T: object, kind: str) -> object:
        f = getattr(T.special, name)
        if kind == "int":
            return f(T.tensor([0, 1, 3, -2]))
        if kind == "bool":
            return f(T.tensor([True, False]))
        if kind == "out":  # (no derivative: an out that requires grad is written, as torch writes it)
            out, out_rg = T.empty(3, dtype=T.float64), T.empty(2, requires_grad=True)
            return f(T.tensor([0.5, 1.5, 2.5], dtype=T.float64), out=out), out, f(T.ones(2), out=out_rg)
        x = T.tensor([0.25, 3.0], requires_grad=True)
        return f(x), f(x * 2)  # (torch has no derivative: the results do not require grad)

    for kind in ("int", "bool", "out", "grad"):
        computed(lambda T, kind=kind: fn(T, kind))
    same_error(lambda T: getattr(T.special, name)(T.tensor([1.0]).half()))
    same_error(lambda T: getattr(T.special, name)([1.0]))


def test_no_derivative() -> None:
    same_error(lambda T: T.special.bessel_j0(T.tensor([0.5], requires_grad=True)).sum().backward())
    assert same(lambda T: T.special.airy_ai(T.tensor([[1.0, -3.0], [0.0, 9.0]])).requires_grad) is False
