"""engine.ops.glibc_log: the C library's logf and log1pf emulated in numpy passes, element for element equal to
the library itself (ctypes) on wide samples, special values included."""

from __future__ import annotations

import numpy as np
import pytest

from engine.ops import glibc_log


@pytest.mark.parametrize("name", ["log", "log1p"])
def test_matches_the_c_library(name: str) -> None:
    fn = glibc_log.library(name)
    if fn is None:
        pytest.skip("no C math library to compare with")
    rng = np.random.default_rng(5)
    x = np.concatenate([
        rng.random(20000), -rng.random(20000) * 0.9999, np.exp(rng.uniform(-100, 85, 20000)),
        rng.random(5000) * 1e-8, -rng.random(5000) * 1e-8, rng.standard_normal(10000),
        np.array([0, -0.0, 1, -1, np.inf, -np.inf, np.nan, 1e-45, -1e-45, 2.0**-130, 0.41422, -0.2929]),
    ]).astype(np.float32)  # fmt: skip
    got = glibc_log.apply(name, x)
    ref = np.array([fn(v) for v in x.tolist()], np.float32)
    assert np.array_equal(got.view(np.int32), ref.view(np.int32))
    assert glibc_log.usable(name)
