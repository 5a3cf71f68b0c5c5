"""`tcli run` on the Spatial Transformer Network tutorial's model (localization + fc_loc regressing an affine
theta, F.affine_grid, F.grid_sample) training two steps, a grid and its warp with theta's gradient, and the
upsampling of a volume: its stdout is byte for byte what PyTorch prints running the same file."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import run_tsr_and_python

PROGRAM = """\
import warnings
import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.optim as optim

warnings.filterwarnings("ignore", category=UserWarning)


class Net(nn.Module):
    def __init__(self):
        super(Net, self).__init__()
        self.conv1 = nn.Conv2d(1, 10, kernel_size=5)
        self.conv2 = nn.Conv2d(10, 20, kernel_size=5)
        self.conv2_drop = nn.Dropout2d()
        self.fc1 = nn.Linear(320, 50)
        self.fc2 = nn.Linear(50, 10)
        self.localization = nn.Sequential(
            nn.Conv2d(1, 8, kernel_size=7),
            nn.MaxPool2d(2, stride=2),
            nn.ReLU(True),
            nn.Conv2d(8, 10, kernel_size=5),
            nn.MaxPool2d(2, stride=2),
            nn.ReLU(True)
        )
        self.fc_loc = nn.Sequential(
            nn.Linear(10 * 3 * 3, 32),
            nn.ReLU(True),
            nn.Linear(32, 3 * 2)
        )
        self.fc_loc[2].weight.data.zero_()
        self.fc_loc[2].bias.data.copy_(torch.tensor([1, 0, 0, 0, 1, 0], dtype=torch.float))

    def stn(self, x):
        xs = self.localization(x)
        xs = xs.view(-1, 10 * 3 * 3)
        theta = self.fc_loc(xs)
        theta = theta.view(-1, 2, 3)
        grid = F.affine_grid(theta, x.size())
        x = F.grid_sample(x, grid)
        return x

    def forward(self, x):
        x = self.stn(x)
        x = F.relu(F.max_pool2d(self.conv1(x), 2))
        x = F.relu(F.max_pool2d(self.conv2_drop(self.conv2(x)), 2))
        x = x.view(-1, 320)
        x = F.relu(self.fc1(x))
        x = F.dropout(x, training=self.training)
        x = self.fc2(x)
        return F.log_softmax(x, dim=1)


torch.manual_seed(0)
model = Net()
optimizer = optim.SGD(model.parameters(), lr=0.01)
data = torch.randn(4, 1, 28, 28)
target = torch.tensor([1, 7, 3, 0])
for step in range(2):
    optimizer.zero_grad()
    output = model(data)
    loss = F.nll_loss(output, target)
    loss.backward()
    optimizer.step()
    print(step, round(loss.item(), 4))
print(model.fc_loc[2].bias)
print(model.stn(data).grad_fn.name())

theta = torch.tensor([[[0.9, -0.2, 0.1], [0.3, 1.1, -0.2]]], requires_grad=True)
grid = F.affine_grid(theta, (1, 1, 3, 4), align_corners=False)
print(grid)
image = torch.arange(12.0).reshape(1, 1, 3, 4)
warped = F.grid_sample(image, grid, mode="bilinear", padding_mode="reflection", align_corners=False)
print(warped)
warped.sum().backward()
print(theta.grad)

volume = torch.arange(8.0).reshape(1, 1, 2, 2, 2)
print(F.interpolate(volume, scale_factor=1.5, mode="trilinear", align_corners=False))
print(nn.Upsample(size=(3, 3, 2), mode="nearest")(volume).shape)
"""


def test_tsr_program_prints_pytorchs_output(tmp_path: Path) -> None:
    pytest.importorskip("torch")
    script = tmp_path / "stn.tsr"
    script.write_text(PROGRAM)
    tsr, ref = run_tsr_and_python(script)
    assert (tsr.returncode, tsr.stderr) == (0, "")
    assert tsr.stdout == ref.stdout
