"""The engine's cuda half without a GPU: tests/fakecupy.py (a cupy emulator on numpy, as strict as cupy about
mixing host and device arrays) stands in for cupy. Here: the emulator's own strictness, and a representative
part of the engine suite's cuda half run under it in a subprocess (TCLI_FAKE_CUPY=1, see conftest.py), so a
numpy array slipping into a cuda code path fails on CI, not first on a lent GPU. The whole cuda half:
`TCLI_FAKE_CUPY=1 python -m pytest tests/test_engine_*.py -k cuda`."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import fakecupy
import numpy as np
import pytest

cp = fakecupy._MODULE  # the emulator's `cupy` namespace, used here without installing it
ROOT = Path(__file__).resolve().parent.parent
UNSUPPORTED = "Unsupported type <class 'numpy.ndarray'>"


def test_refuses_host_arrays_like_cupy() -> None:
    a = cp.arange(6, dtype=np.float32).reshape(2, 3)
    assert not isinstance(a, np.ndarray) and isinstance(a, cp.ndarray)
    for bad in (
        lambda: a + np.ones(3, np.float32),
        lambda: np.ones(3, np.float32) * a,
        lambda: a + np.array(1.0),  # 0-d numpy arrays too
        lambda: cp.where(np.array([True, False, True]), a, 0),
        lambda: cp.concatenate([a, np.ones((1, 3))]),
        lambda: np.maximum(a, np.zeros(3)),
    ):
        with pytest.raises(TypeError, match=UNSUPPORTED):
            bad()
    for implicit in (lambda: np.asarray(a), lambda: np.array(a), lambda: np.lib.stride_tricks.as_strided(a)):
        with pytest.raises(TypeError, match="Implicit conversion to a NumPy array is not allowed"):
            implicit()
    assert not hasattr(a, "__array_interface__") and hasattr(a, "__cuda_array_interface__")
    assert not hasattr(a.flags, "writeable") and not hasattr(cp, "errstate")
    with pytest.raises(TypeError):
        cp.indices((2, 3), sparse=True)


def test_accepts_what_cupy_accepts() -> None:
    a = cp.arange(6, dtype=np.float32).reshape(2, 3)
    assert float((a * 2 + np.float32(1) - 1.5).sum()) == 27.0  # Python and numpy scalars
    assert type(a.sum()) is cp.ndarray and a.sum().ndim == 0  # reductions stay on the device
    assert np.exp(a).dtype == np.float32 and type(np.exp(a)) is cp.ndarray  # numpy functions dispatch
    assert a[np.array([1, 0])].shape == (2, 3) and a[[0, 1], [2, 2]].shape == (2,)  # host index arrays copy over
    assert type(cp.asarray(np.ones(2))) is cp.ndarray and type(cp.asnumpy(a)) is np.ndarray  # explicit transfers
    c = cp.zeros(3)
    assert type(a.get()) is np.ndarray and c.base is None and c[1:][1:].base is c  # views name their owner
    b = cp.broadcast_to(cp.zeros(3), (2, 3))
    b[0, 0] = 5  # cupy's broadcast views are writeable
    with pytest.raises(ValueError, match="non-scalar numpy.ndarray cannot be used for fill"):
        a[0] = np.ones(3, np.float32)
    a[[0]] = np.ones((1, 3), np.float32)  # advanced assignment copies a host value over


def test_engine_cuda_half_under_the_emulator() -> None:
    env = {**os.environ, "TCLI_FAKE_CUPY": "1", "PYTHONDONTWRITEBYTECODE": "1"}
    files = ["tests/test_engine_coverage.py", "tests/test_engine_autograd.py", "tests/test_engine_views.py"]
    files += ["tests/test_engine_cuda_hotpaths.py", "tests/test_engine_cuda_fusion.py"]  # emulator-only checks
    cmd = [sys.executable, "-m", "pytest", *files, "-k", "cuda", "-q", "-p", "no:cacheprovider", "-p", "no:warnings"]
    cmd += ["--tb=short", "-x", "-o", "addopts="]
    r = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    tail = r.stdout[-6000:] + r.stderr[-2000:]
    assert r.returncode == 0, tail
    assert " passed" in r.stdout and "no GPU/cupy" not in r.stdout, tail
