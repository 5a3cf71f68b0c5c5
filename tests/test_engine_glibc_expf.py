"""engine/ops/glibc_expf.py: the C library's expf in numpy passes, element for element the library's own."""

import numpy as np
import pytest

from engine.ops import glibc_expf
from engine.ops.libm import _float_function, c_math

_FN = _float_function("exp")
pytestmark = pytest.mark.skipif(_FN is None or not glibc_expf.usable(), reason="another C library here")


def _library(x: np.ndarray) -> np.ndarray:
    return np.fromiter(map(_FN, x.ravel().tolist()), np.float32, count=x.size).reshape(x.shape)


def _same(a: np.ndarray, b: np.ndarray) -> bool:
    return bool(np.all((a.view(np.int32) == b.view(np.int32)) | (np.isnan(a) & np.isnan(b))))


@pytest.mark.parametrize("scale", [1e-6, 0.01, 1, 3, 20, 60])
def test_matches_library(scale):
    x = (np.random.default_rng(int(scale * 1000)).standard_normal(200_000) * scale).astype(np.float32)
    assert _same(glibc_expf.expf(x, _FN), _library(x))


def test_edges_bits_and_c_math():
    rng = np.random.default_rng(5)
    bits = rng.integers(0, 2**32, 100_000, dtype=np.uint64).astype(np.uint32).view(np.float32)
    edges = np.array(
        [0, -0.0, np.inf, -np.inf, np.nan, 87, -87, 88.72283, 88.7228394, -103.97208, -104, 1e-45, -1e-45,
         0.34657359, -0.34657359, 0.0108304, 3.4e38, -3.4e38], np.float32,
    )  # fmt: skip
    halves = (np.arange(-5000, 5000, dtype=np.float32) + np.float32(0.5)) * np.float32(np.log(2) / 32)
    for x in (bits, edges, halves, np.tile(edges, 3).reshape(6, 9).T):
        assert _same(glibc_expf.expf(np.ascontiguousarray(x), _FN), _library(x))
        assert _same(c_math("exp", x), _library(x))
