"""`tcli run` on a tutorial's FFT of a noisy signal (torch.fft's rfft, rfftfreq, irfft, fft/ifft, fftshift)
with complex tensors (torch.complex, abs, angle, conj, view_as_real, a gradient through fft): its stdout is byte
for byte what PyTorch prints running the same file."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import run_tsr_and_python

PROGRAM = """\
import torch
import torch.fft
import math

torch.manual_seed(0)
fs = 64.0
t = torch.arange(64) / fs
signal = torch.sin(2 * math.pi * 5 * t) + 0.5 * torch.sin(2 * math.pi * 12 * t)
noisy = signal + 0.1 * torch.randn(64)

spectrum = torch.fft.rfft(noisy)
freqs = torch.fft.rfftfreq(64, d=1 / fs)
power = spectrum.abs() ** 2
top = power.topk(2).indices
print("peaks at", freqs[top].sort().values)
print(spectrum[:6])
print(spectrum.dtype, spectrum.shape)

# low-pass: keep bins below 8 Hz, back to the time domain
mask = freqs < 8
smooth = torch.fft.irfft(spectrum * mask, n=64)
print(smooth[:5])
print(torch.allclose(torch.fft.ifft(torch.fft.fft(noisy)).real, noisy, atol=1e-6))

z = torch.complex(torch.tensor([1.0, 2.0]), torch.tensor([0.5, -1.0]))
print(z, z.abs(), z.angle(), z.conj())
print(torch.view_as_real(z))
w = torch.randn(4, dtype=torch.cfloat, requires_grad=True)
loss = torch.fft.fft(w).abs().sum()
loss.backward()
print(w.grad)
print(torch.fft.fftshift(torch.fft.fftfreq(6)))
c = torch.zeros(2, dtype=torch.complex64)
c.real = torch.tensor([1.0, 2.0])
c.imag[1] = -3.0
print(c, torch.fft.hfftn(c.reshape(1, 2)), torch.fft.ihfft2(torch.tensor([[1.0, 2.0, 4.0], [3.0, -1.0, 0.5]])))
"""


def test_fft_program_prints_pytorchs_output(tmp_path: Path) -> None:
    pytest.importorskip("torch")
    script = tmp_path / "signal.tsr"
    script.write_text(PROGRAM)
    tsr, ref = run_tsr_and_python(script)
    assert (tsr.returncode, tsr.stderr) == (0, "")
    assert tsr.stdout == ref.stdout
