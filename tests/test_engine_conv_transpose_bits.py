"""conv_transpose1d/2d (stride 1, batch > 1) bit for bit with torch's oneDNN deconvolution: its forward is
conv2d's backward-data chain, its gradients conv2d's forward and weight-gradient chains with the roles swapped,
and its bias gradient per image then across images for up to 3 channels, else one sum in order."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import engine
from engine.nn import conv_onednn

CASES = [(2, (2, 3, 4, 5, 3, 0)), (2, (4, 16, 8, 7, 3, 1)), (2, (8, 32, 3, 6, 4, 0)), (2, (16, 20, 12, 8, 3, 1)),
         (2, (3, 6, 2, 12, 5, 2)), (1, (4, 8, 6, 20, 5, 2)), (1, (2, 3, 2, 9, 3, 0))]  # fmt: skip


@pytest.mark.skipif(not conv_onednn.exact_here(), reason="oneDNN's orders are reproduced on this kind of CPU only")
@pytest.mark.parametrize(("nd", "geometry"), CASES)
def test_conv_transpose_bits(nd: int, geometry: tuple) -> None:
    n, ci, co, h, k, p = geometry
    rng = np.random.default_rng(5)
    x = rng.standard_normal((n, ci) + (h,) * nd).astype(np.float32)
    w = rng.standard_normal((ci, co) + (k,) * nd).astype(np.float32)
    b = rng.standard_normal(co).astype(np.float32)
    out = []
    for m in (torch, engine):
        xs, ws, bs = (m.tensor(a).requires_grad_() for a in (x, w, b))
        y = getattr(m.nn.functional, f"conv_transpose{nd}d")(xs, ws, bs, padding=p)
        y.backward(m.tensor(np.random.default_rng(1).standard_normal(tuple(y.shape)).astype(np.float32)))
        out.append([t.numpy().tobytes() for t in (y.detach(), xs.grad, ws.grad, bs.grad)])
    assert out[0] == out[1]
