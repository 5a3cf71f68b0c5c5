"""conv1d as torch runs it, a conv2d of height 1 (view1d_as_2d) through oneDNN: values and all three gradients
bit for bit with torch wherever the 2-d oneDNN path is reproduced (stride-1 input gradients; batch > 1)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import engine
from engine.nn import conv_onednn

SHAPES = [(2, 3, 4, 20, 3, 1, 1), (8, 1, 16, 100, 5, 1, 2), (4, 16, 32, 50, 3, 1, 0), (16, 40, 20, 30, 3, 1, 1),
          (4, 3, 6, 9, 3, 1, 0)]  # fmt: skip


@pytest.mark.skipif(not conv_onednn.exact_here(), reason="oneDNN's orders are reproduced on this kind of CPU only")
@pytest.mark.parametrize(("n", "c", "o", "length", "k", "s", "p"), SHAPES)
def test_conv1d_bits(n: int, c: int, o: int, length: int, k: int, s: int, p: int) -> None:
    rng = np.random.default_rng(7)
    x = rng.standard_normal((n, c, length)).astype(np.float32)
    w = rng.standard_normal((o, c, k)).astype(np.float32)
    b = rng.standard_normal(o).astype(np.float32)
    out = []
    for m in (torch, engine):
        xs, ws, bs = (m.tensor(a).requires_grad_() for a in (x, w, b))
        y = m.nn.functional.conv1d(xs, ws, bs, stride=s, padding=p)
        y.backward(m.tensor(np.random.default_rng(1).standard_normal(tuple(y.shape)).astype(np.float32)))
        out.append([t.numpy().tobytes() for t in (y.detach(), xs.grad, ws.grad, bs.grad)])
    assert out[0] == out[1]
