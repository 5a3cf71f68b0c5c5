"""The `device` fixture: the engine's differential tests run once per device (issue 6).

A test (or a whole module, through `pytestmark = pytest.mark.usefixtures("device")`) that uses it runs as
`[cpu]` and `[cuda]`. For the run it makes that device the engine's default device, so every tensor the
test's engine side creates (the helpers' converted arguments, `T.ones(...)` inside a lambda, grad_outputs)
lives there, while torch, the oracle, stays on the cpu; results are compared after `.cpu()`. The cuda runs
are skipped, with the reason shown at the end of the run, where there is no GPU or no cupy (as on CI).

TCLI_FAKE_CUPY=1 runs the cuda half without a GPU: tests/fakecupy.py, a cupy emulator on numpy that is as
strict as cupy about mixing numpy and cupy arrays, is installed as `cupy`/`cupyx` before the engine first
uses cuda (e.g. `TCLI_FAKE_CUPY=1 python -m pytest tests/test_engine_*.py -k cuda`). Numerics stay numpy's,
so it finds device-mixing bugs, not GPU numerics; tests/test_engine_fakecuda.py runs a subset of it in CI.
"""

from __future__ import annotations

import functools
import os

import pytest

if os.environ.get("TCLI_FAKE_CUPY") == "1":
    # (the emulated device computes with numpy's math and tests compare it with the cpu's bits, so the cpu keeps
    # numpy's too rather than MKL's: engine/ops/mkl.py)
    os.environ["TCLI_MKL"] = "0"
    import fakecupy

    fakecupy.install()

import engine  # noqa: E402

if os.environ.get("TCLI_FAKE_CUPY") == "1":
    import numpy as np

    from engine.ops import fusion

    def _guard(target: np.ndarray) -> None:
        """Nothing may write into an array a pending fused recipe still reads (see engine/ops/fusion.py)."""
        for arr in fusion.live_inputs():
            if np.may_share_memory(target, arr._a):
                raise AssertionError("a write into the input of a pending fused recipe, which would change its result")

    fakecupy.WRITE_GUARD = _guard

CUDA_SKIP = "cuda: no GPU/cupy on this machine (engine.cuda.is_available() is False)"


@functools.cache
def _cuda_available() -> bool:
    return bool(engine.cuda.is_available())


@pytest.fixture(params=["cpu", "cuda"])
def device(request: pytest.FixtureRequest) -> object:
    name = request.param
    if name == "cuda" and not _cuda_available():
        pytest.skip(CUDA_SKIP)
    if name == "cuda" and os.environ.get("TCLI_FAKE_CUPY") == "1":
        fakecupy.check_tensor_arrays()
    import helpers

    previous = engine.get_default_device()
    engine.set_default_device(name)
    helpers.DEVICE = name
    try:
        yield name
    finally:
        engine.set_default_device(previous)
        helpers.DEVICE = "cpu"


def pytest_terminal_summary(terminalreporter: object, exitstatus: int, config: pytest.Config) -> None:
    # -q hides skip reasons; say once, visibly, why the cuda half of the engine suite did not run
    skipped = terminalreporter.stats.get("skipped", [])  # type: ignore[attr-defined]
    n = sum(1 for r in skipped if CUDA_SKIP in str(getattr(r, "longrepr", "")))
    if n:
        terminalreporter.write_line(f"{n} tests skipped: {CUDA_SKIP}")  # type: ignore[attr-defined]
