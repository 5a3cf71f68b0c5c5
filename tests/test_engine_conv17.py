"""conv2d's float32 cpu forward as torch's oneDNN computes it (exact mode, MKL loaded): with at most 16 input
channels, one fused multiply-add chain in (kernel row, kernel column, channel) order, the bias added last."""

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import engine
from engine.nn import conv_onednn
from engine.nn import functional as EF

pytestmark = pytest.mark.skipif(
    not conv_onednn.exact_here(), reason="oneDNN's orders measured with avx512_core kernels and MKL 2024.2 on AMD"
)

SHAPES = [  # N, C_in, C_out, H, W, kernel, stride, padding, bias
    (64, 1, 6, 28, 28, 5, 1, 0, True),  # LeNet on MNIST
    (64, 6, 16, 12, 12, 5, 1, 0, True),
    (4, 3, 6, 32, 32, 5, 1, 0, True),  # the CIFAR-10 tutorial
    (4, 6, 16, 14, 14, 5, 1, 0, True),
    (64, 1, 32, 28, 28, 3, 1, 0, True),  # the MNIST example's first layer
    (16, 3, 16, 32, 32, 3, 1, 1, False),
    (8, 3, 16, 32, 32, 3, 2, 1, True),
    (4, 16, 32, 16, 16, 3, 1, 1, True),
    (2, 16, 8, 20, 18, 3, 2, 2, False),
    (1, 3, 6, 32, 32, 5, 1, 2, True),
    (16, 8, 64, 15, 17, 4, 3, 1, True),
]


@pytest.mark.parametrize("shape", SHAPES)
def test_conv2d_forward_bits_match_torch(shape):
    n, c, o, h, w, k, s, p, has_bias = shape
    rs = np.random.RandomState(17)
    x = rs.randn(n, c, h, w).astype(np.float32)
    wt = (rs.randn(o, c, k, k) * 0.2).astype(np.float32)
    b = rs.randn(o).astype(np.float32) if has_bias else None
    ref = TF.conv2d(torch.from_numpy(x), torch.from_numpy(wt), None if b is None else torch.from_numpy(b), stride=s,
                    padding=p).numpy()  # fmt: skip
    got = EF.conv2d(engine.tensor(x), engine.tensor(wt), None if b is None else engine.tensor(b), stride=s, padding=p)
    assert got.shape == tuple(ref.shape)
    np.testing.assert_array_equal(got.numpy().view(np.uint32), ref.view(np.uint32))


def test_lenet_module_forward_and_loss_match_torch():
    rs = np.random.RandomState(3)
    x = rs.randn(64, 1, 28, 28).astype(np.float32)
    tm = torch.nn.Conv2d(1, 6, 5)
    em = engine.nn.Conv2d(1, 6, 5)
    em.weight.data = engine.tensor(tm.weight.detach().numpy().copy())
    em.bias.data = engine.tensor(tm.bias.detach().numpy().copy())
    ref = tm(torch.from_numpy(x))
    got = em(engine.tensor(x))
    np.testing.assert_array_equal(got.detach().numpy().view(np.uint32), ref.detach().numpy().view(np.uint32))
    assert got.square().mean().item() == ref.square().mean().item()
