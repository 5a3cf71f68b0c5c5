"""`tcli run` on a spectrogram program (torch.stft with a Hann window, its magnitude in dB, the peak bin per
frame, istft's reconstruction, stft as a method on a batch) and a script's as_strided refusal: stdout byte for
byte what PyTorch prints running the same file."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import run_tsr_and_python

SPECTROGRAM = """\
import torch
import math

torch.manual_seed(0)
sr = 800
t = torch.arange(400) / sr
chirp = torch.sin(2 * math.pi * (50 + 150 * t) * t) + 0.05 * torch.randn(400)
window = torch.hann_window(64)
spec = torch.stft(chirp, n_fft=64, hop_length=32, window=window, return_complex=True)
print(spec.shape, spec.dtype)
power = spec.abs() ** 2
db = 10 * torch.log10(power + 1e-10)
print(db[:4, :5].round(decimals=2))
peaks = power.argmax(dim=0)
print("peak bins", peaks)
print("peak Hz", (peaks * sr / 64).tolist()[:6])
back = torch.istft(spec, n_fft=64, hop_length=32, window=window, length=400)
print("max reconstruction error below 1e-5:", bool((back - chirp).abs().max() < 1e-5))
batch = torch.stack([chirp, chirp.flip(0)])
print(batch.stft(64, hop_length=64, window=window, center=False, return_complex=True).shape)
print(torch.stft(chirp[:16], 8, window=torch.ones(8), normalized=True, return_complex=True).real.round(decimals=3))
"""

AS_STRIDED = """\
import torch

x = torch.arange(12.0)
print(x.as_strided((3, 3), (3, 1), 2))
tail = x[8:]
for size, stride, offset in [((8,), (1,), None), ((2, 2), (1, 1 << 40), 0), ((3,), (-1,), 4), ((1,), (1,), 12)]:
    try:
        print(tail.as_strided(size, stride, offset))
    except RuntimeError as e:
        print("refused:", e)
w = x.as_strided((2, 2), (1, 2), 8)
w.zero_()
print(x, x._version)
"""


@pytest.mark.parametrize("program", [SPECTROGRAM, AS_STRIDED], ids=["spectrogram", "as_strided"])
def test_program_prints_pytorchs_output(tmp_path: Path, program: str) -> None:
    pytest.importorskip("torch")
    script = tmp_path / "prog.tsr"
    script.write_text(program)
    tsr, ref = run_tsr_and_python(script)
    assert (tsr.returncode, tsr.stderr) == (0, "")
    assert tsr.stdout == ref.stdout
