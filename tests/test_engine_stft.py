"""torch.stft / torch.istft against PyTorch: framing, center padding in each pad_mode, windows shorter than
n_fft, normalization, onesided and two-sided spectra, real and complex signals, 1-d and batched input, the
real-view return, istft's length/center trimming and overlap-add, gradients into the signal and the window,
grad_fn names, and torch's argument errors (which quote the call). Values agree within a few float ulps of the
spectrum's scale: the engine's FFT is pocketfft, torch's MKL; the framing, window and overlap-add around it
add in torch's order."""

from __future__ import annotations

import numpy as np
import pytest
from helpers import check, same_error

pytestmark = [pytest.mark.usefixtures("device"), pytest.mark.filterwarnings("ignore")]

# pocketfft and MKL round the same transform a few ulps apart (measured: <= 4 float32 ulps of |X|max)
TOL = {"float32": 2e-6, "float64": 1e-14}


def signal(shape: tuple, dtype: str = "float32", seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(shape)
    if dtype.startswith("complex"):
        x = x + 1j * rng.standard_normal(shape)
    return x.astype(dtype)


def close(fn: object, *args: np.ndarray) -> None:
    real = "float64" if any(a.dtype in (np.float64, np.complex128) for a in args) else "float32"
    t = TOL[real] * 8  # (the spectrum of 16 unit-variance samples is O(4): absolute error scales with it)
    check(fn, *args, atol=t, rtol=t, grad_atol=t * 4, grad_rtol=t * 4)


STFT_CASES = [
    {},
    {"hop_length": 3},
    {"hop_length": 16},
    {"win_length": 10},
    {"normalized": True},
    {"onesided": False},
    {"center": False},
    {"center": False, "win_length": 10, "align_to_window": True},
    {"pad_mode": "constant"},
    {"pad_mode": "replicate"},
    {"pad_mode": "circular"},
    {"return_complex": False},
]


@pytest.mark.parametrize("kw", STFT_CASES, ids=lambda kw: ",".join(f"{k}={v}" for k, v in kw.items()) or "default")
@pytest.mark.parametrize("windowed", [True, False])
def test_stft_of_a_real_signal(kw: dict, windowed: bool) -> None:
    kw = {"return_complex": True} | kw
    wl = kw.get("win_length", 16)
    x = signal((64,))
    if windowed:
        w = np.hanning(wl + 1)[:-1].astype("float32") + 0.1
        close(lambda T, x, w: T.stft(x, 16, window=w, **kw), x, w)
    else:
        close(lambda T, x: T.stft(x, 16, **kw), x)


@pytest.mark.parametrize("dtype", ["float64", "complex64", "complex128"])
def test_stft_batched_and_complex(dtype: str) -> None:
    x = signal((3, 40), dtype)
    w = np.hamming(8).astype("float32")
    close(lambda T, x, w: T.stft(x, 8, hop_length=2, window=w, return_complex=True), x, w)
    close(lambda T, x: x.stft(8, pad_mode="reflect", onesided=False, return_complex=True), x)


def test_stft_complex_window_on_a_real_signal() -> None:
    x = signal((30,))
    w = signal((8,), "complex64", seed=1)
    close(lambda T, x, w: T.stft(x, 8, window=w), x, w)  # (return_complex follows the window)


ISTFT_CASES = [
    {},
    {"hop_length": 3},
    {"hop_length": 2},
    {"win_length": 10},
    {"normalized": True},
    {"center": False},
    {"length": 50},
    {"length": 90},
    {"onesided": False},
    {"onesided": False, "return_complex": True},
]


@pytest.mark.parametrize("kw", ISTFT_CASES, ids=lambda kw: ",".join(f"{k}={v}" for k, v in kw.items()) or "default")
def test_istft_inverts_stft(kw: dict) -> None:
    wl = kw.get("win_length", 16)
    fwd = {k: v for k, v in kw.items() if k in ("hop_length", "win_length", "normalized", "center", "onesided")}
    w = (np.hanning(wl + 1)[:-1] + 0.1).astype("float32")

    def f(T: object, x: object, w: object) -> object:
        spec = T.stft(x, 16, window=w, return_complex=True, **fwd)
        return T.istft(spec, 16, window=w, **kw)

    close(f, signal((64,)), w)


def test_istft_of_a_batched_double_spectrum() -> None:
    spec = signal((2, 9, 7), "complex128")
    close(lambda T, s: T.istft(s, 16, hop_length=4, window=T.hann_window(16, dtype=T.float64)), spec)
    close(lambda T, s: s.istft(16, hop_length=4, window=T.ones(16, dtype=T.float64)), spec)
    close(lambda T, s: T.istft(s.conj(), 16, hop_length=4, window=T.ones(16, dtype=T.float64)), spec)


def x20(T: object) -> object:
    return T.tensor(signal((20,)))


def spec(T: object) -> object:
    return T.stft(x20(T), 8, window=T.hann_window(8), return_complex=True)


ERRORS = [
    lambda T: T.stft(x20(T), 8),
    lambda T: T.stft(x20(T), 30, window=T.hann_window(30), center=False, return_complex=True),
    lambda T: T.stft(x20(T), 30, win_length=5, center=False, return_complex=True),
    lambda T: T.stft(x20(T), 8, hop_length=0, window=T.hann_window(8), return_complex=True),
    lambda T: T.stft(x20(T), 8, win_length=9, window=T.hann_window(8), return_complex=True),
    lambda T: T.stft(x20(T), 8, win_length=6, window=T.hann_window(8), return_complex=True),
    lambda T: T.stft(x20(T).to(T.complex64), 8, window=T.hann_window(8), onesided=True, return_complex=True),
    lambda T: T.stft(x20(T).long(), 8, window=T.hann_window(8), return_complex=True),
    lambda T: T.stft(x20(T).reshape(2, 2, 5), 4, window=T.hann_window(4), return_complex=True),
    lambda T: T.stft(x20(T).to(T.complex128).reshape(2, 2, 5), 4, window=T.hann_window(4)),
    lambda T: T.stft(T.tensor(1.0), 4, window=T.hann_window(4), return_complex=True),
    lambda T: T.stft(x20(T), 8, window=T.hann_window(8), align_to_window=True, return_complex=True),
    lambda T: T.stft(x20(T), 8, window=T.hann_window(8), pad_mode="bogus", return_complex=True),
    lambda T: T.stft(x20(T), 0, window=T.hann_window(8), return_complex=True),
    lambda T: T.stft(x20(T), 8, window=T.hann_window(8).to(T.complex128), onesided=True),
    lambda T: T.istft(T.view_as_real(spec(T)), 8, window=T.hann_window(8)),
    lambda T: T.istft(spec(T), 8, window=T.hann_window(8), center=False),
    lambda T: T.istft(spec(T), 8, window=T.hann_window(8), hop_length=8),
    lambda T: T.istft(spec(T), 8, window=T.zeros(8)),
    lambda T: T.istft(spec(T), 8, window=T.hann_window(8), onesided=False),
    lambda T: T.istft(spec(T), 10, window=T.hann_window(10)),
    lambda T: T.istft(spec(T), 8, window=T.hann_window(8), hop_length=9),
    lambda T: T.istft(spec(T), 8, window=T.hann_window(8), win_length=9),
    lambda T: T.istft(spec(T), 8, window=T.hann_window(6)),
    lambda T: T.istft(spec(T), 8, window=T.hann_window(8), return_complex=True),
    lambda T: T.istft(spec(T)[None, None], 8, window=T.hann_window(8)),
    lambda T: T.istft(spec(T)[:0], 8, window=T.hann_window(8)),
    lambda T: T.istft(spec(T), 8, window=T.hann_window(8).to(T.complex128)),
]


@pytest.mark.parametrize("case", range(len(ERRORS)))
def test_errors_match_torch(case: int) -> None:
    same_error(ERRORS[case])


def test_warnings_are_torchs(tmp_path: object) -> None:
    """The deprecation and missing-window warnings (torch's TORCH_WARN_ONCE: once per process, so each side
    runs in a fresh interpreter)."""
    import os
    import subprocess
    import sys

    code = (
        "import warnings, {lib} as T\n"
        "warnings.simplefilter('always')\n"
        "with warnings.catch_warnings(record=True) as w:\n"
        "    warnings.simplefilter('always')\n"
        "    x = T.arange(20.0)\n"
        "    T.stft(x, 8, return_complex=False); T.stft(x, 8, return_complex=False)\n"
        "    s = T.stft(x, 8, return_complex=True); T.istft(s, 8); T.istft(s, 8, window=T.ones(8), length=30)\n"
        "for m in w: print(type(m.message).__name__, str(m.message).split(' (Triggered internally')[0])\n"
    )
    out = []
    for lib in ("torch", "engine"):
        env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
        r = subprocess.run([sys.executable, "-c", code.format(lib=lib)], capture_output=True, text=True, env=env)
        assert r.returncode == 0, r.stderr
        out.append(r.stdout)
    assert out[0].count("UserWarning") == 4
    assert out[1] == out[0]


def test_overlap_add_sums_in_torchs_order() -> None:
    """istft's overlap-add is unfold's backward: each sample sums its frames first to last from zero, as torch's
    kernel does, so with 4+ overlapping frames the float32 sums are torch's to the bit."""
    x = (signal((70,)) * np.logspace(-3, 3, 70)).astype("float32")
    check(lambda T, x: x.unfold(0, 16, 3) * 1, x, atol=0, rtol=0, grad_atol=0, grad_rtol=0)
