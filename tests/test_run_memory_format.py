"""`tcli run` on a channels-last program (torch.channels_last, Module.to(memory_format=...), strides after
convolution and pooling, convert_conv2d_weight_memory_format, the rank error): stdout is PyTorch's."""

from __future__ import annotations

from pathlib import Path

from helpers import run_tsr_and_python

PROGRAM = """\
import torch
import torch.nn as nn

torch.manual_seed(0)
print(torch.channels_last, torch.contiguous_format, torch.preserve_format, torch.channels_last_3d)
x = torch.randn(2, 3, 8, 8).to(memory_format=torch.channels_last)
print(x.stride(), x.is_contiguous(), x.is_contiguous(memory_format=torch.channels_last))
model = nn.Sequential(nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4), nn.ReLU(), nn.MaxPool2d(2))
model = model.to(memory_format=torch.channels_last)
y = model(x)
print(y.stride(), y.sum())
y.sum().backward()
print(model[0].weight.grad.stride())
print(torch.empty(2, 3, 4, 5, memory_format=torch.channels_last).stride())
print(torch.zeros_like(x, memory_format=torch.contiguous_format).stride(), torch.ones_like(x).stride())
nn.utils.convert_conv2d_weight_memory_format(model, torch.contiguous_format)
print(model[0].weight.stride())
print(x.contiguous().stride(), x.contiguous(memory_format=torch.channels_last) is x)
try:
    torch.randn(3, 4).contiguous(memory_format=torch.channels_last)
except RuntimeError as e:
    print(e)
"""


def test_channels_last_program_prints_pytorchs_output(tmp_path: Path) -> None:
    script = tmp_path / "channels_last.tsr"
    script.write_text(PROGRAM)
    tsr, ref = run_tsr_and_python(script)
    assert tsr.returncode == 0, tsr.stderr
    assert tsr.stdout == ref.stdout
