"""Strided convolutions bit for bit with torch's oneDNN (exact mode): conv2d's input gradient at a stride above 1 as its
brgconv_strided kernel sums it (engine/nn/conv_onednn_strided.py: its blocking ported, both exec types, and the jit
kernel for the shapes it skips), so conv1d's and conv_transpose1d/2d's at a stride too (a transposed convolution's
forward is that input gradient). At torch's default thread count and at 1 and 4 (the blocking depends on them)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import engine
from engine.nn import conv_onednn, conv_onednn_strided
from engine.nn import functional as EF

pytestmark = pytest.mark.skipif(
    not conv_onednn.exact_here(), reason="oneDNN's orders measured with avx512_core kernels and MKL 2024.2 on AMD"
)

CONV_SHAPES = [  # N, C_in, C_out, H, W, kernel (h, w), stride (h, w), padding (h, w)
    (8, 3, 16, 32, 32, (3, 3), (2, 2), (1, 1)),  # a CIFAR-10 stem
    (8, 16, 32, 16, 16, (4, 4), (2, 2), (1, 1)),  # DCGAN discriminator
    (16, 3, 64, 64, 64, (4, 4), (2, 2), (1, 1)),
    (8, 1, 64, 28, 28, (4, 4), (2, 2), (1, 1)),  # MNIST DCGAN: shapes brgconv_strided skips (the jit kernel's sums)
    (4, 64, 128, 14, 14, (4, 4), (2, 2), (1, 1)),
    (4, 32, 64, 16, 16, (3, 3), (2, 2), (0, 0)),
    (2, 8, 16, 15, 13, (4, 4), (2, 2), (1, 1)),  # a width not a multiple of the stride: exec_trans
    (2, 8, 16, 15, 13, (3, 3), (2, 2), (0, 0)),
    (1, 16, 4, 10, 10, (6, 6), (2, 2), (2, 2)),  # one image: column blocks of 2 (iw_block < width)
    (4, 8, 256, 26, 6, (8, 8), (2, 2), (3, 3)),  # large kernel, many channels: a call per kernel row (kh_block)
    (2, 32, 256, 18, 14, (6, 6), (2, 2), (0, 0)),
    (8, 64, 256, 45, 36, (5, 5), (3, 3), (1, 1)),
    (2, 5, 7, 16, 12, (3, 5), (2, 3), (1, 2)),  # uneven kernel and stride
    (2, 17, 256, 6, 32, (5, 7), (4, 1), (3, 4)),
    (3, 17, 33, 6, 6, (4, 4), (2, 2), (1, 1)),
    (2, 8, 8, 24, 24, (7, 7), (2, 2), (3, 3)),
    (2, 8, 8, 32, 32, (5, 5), (4, 4), (2, 2)),
    (1, 1, 256, 7, 7, (7, 7), (2, 2), (1, 1)),  # no blocking efficient enough for brgconv_strided: the jit kernel
    (1, 1, 128, 7, 8, (6, 6), (3, 3), (0, 0)),
]


@pytest.fixture(params=[None, 1, 4], ids=["default-threads", "1-thread", "4-threads"])
def threads(request):
    before = torch.get_num_threads()
    if request.param is not None:
        torch.set_num_threads(request.param)
        engine.set_num_threads(request.param)
    yield
    torch.set_num_threads(before)
    engine.set_num_threads(before)


def _bits(a):
    return np.ascontiguousarray(a).view(np.uint32)


def _run(mod, fn, x, w, b, g, s, p):
    xs, ws, bs = (mod.tensor(a.copy(), requires_grad=True) for a in (x, w, b))
    y = getattr(TF if mod is torch else EF, fn)(xs, ws, bs, stride=s, padding=p)
    y.backward(mod.tensor(g))
    return [a.numpy() for a in (y.detach(), xs.grad, ws.grad, bs.grad)]


def _assert_same(ref, got):
    for name, r, e in zip(["output", "input grad", "weight grad", "bias grad"], ref, got):
        assert e.shape == r.shape
        np.testing.assert_array_equal(_bits(e), _bits(r), err_msg=name)


@pytest.mark.parametrize("shape", CONV_SHAPES, ids=str)
def test_conv2d_strided_gradients_bits(shape, threads):
    n, c, o, h, w, k, s, p = shape
    rs = np.random.RandomState(19)
    x = rs.randn(n, c, h, w).astype(np.float32)
    wt = (rs.randn(o, c, *k) * 0.2).astype(np.float32)
    b = rs.randn(o).astype(np.float32)
    oh, ow = (h + 2 * p[0] - k[0]) // s[0] + 1, (w + 2 * p[1] - k[1]) // s[1] + 1
    g = rs.randn(n, o, oh, ow).astype(np.float32)
    _assert_same(_run(torch, "conv2d", x, wt, b, g, s, p), _run(engine, "conv2d", x, wt, b, g, s, p))


DECONV_SHAPES = [  # N, C_in, C_out, H, W, kernel, stride, padding
    (16, 100, 64, 1, 1, 4, 1, 0),  # the DCGAN generator
    (16, 64, 32, 4, 4, 4, 2, 1),
    (16, 32, 3, 8, 8, 4, 2, 1),
    (8, 128, 64, 7, 7, 4, 2, 1),  # MNIST DCGAN generator
    (8, 64, 1, 14, 14, 4, 2, 1),  # (its forward: the jit kernel's sums)
    (4, 32, 16, 7, 7, 3, 2, 1),  # an odd output size: exec_trans
    (4, 16, 8, 5, 6, 3, 2, 0),
    (2, 8, 4, 5, 5, 5, 3, 1),
]


@pytest.mark.parametrize("shape", DECONV_SHAPES, ids=str)
def test_conv_transpose2d_strided_bits(shape, threads):
    n, ci, co, h, w, k, s, p = shape
    rs = np.random.RandomState(19)
    x = rs.randn(n, ci, h, w).astype(np.float32)
    wt = (rs.randn(ci, co, k, k) * 0.2).astype(np.float32)
    b = rs.randn(co).astype(np.float32)
    g = rs.randn(n, co, (h - 1) * s - 2 * p + k, (w - 1) * s - 2 * p + k).astype(np.float32)
    ref = _run(torch, "conv_transpose2d", x, wt, b, g, s, p)
    _assert_same(ref, _run(engine, "conv_transpose2d", x, wt, b, g, s, p))


@pytest.mark.parametrize(
    ("fn", "shape"),
    [("conv1d", (4, 16, 32, 50, 3, 2, 1)), ("conv1d", (8, 1, 16, 100, 5, 2, 2)), ("conv1d", (16, 40, 20, 30, 4, 2, 1)),
     ("conv_transpose1d", (4, 16, 32, 25, 4, 2, 1)), ("conv_transpose1d", (8, 3, 16, 10, 3, 2, 1)),
     ("conv_transpose1d", (2, 32, 4, 9, 4, 3, 0))],
    ids=str,
)  # fmt: skip
def test_conv1d_strided_bits(fn, shape):
    n, c, o, length, k, s, p = shape
    rs = np.random.RandomState(7)
    x = rs.randn(n, c, length).astype(np.float32)
    wt = rs.randn(*((c, o, k) if fn == "conv_transpose1d" else (o, c, k))).astype(np.float32)
    b = rs.randn(o).astype(np.float32)
    out = TF.conv_transpose1d(torch.tensor(x), torch.tensor(wt), stride=s, padding=p) if fn == "conv_transpose1d" else (
        TF.conv1d(torch.tensor(x), torch.tensor(wt), stride=s, padding=p))  # fmt: skip
    g = rs.randn(*out.shape).astype(np.float32)
    _assert_same(_run(torch, fn, x, wt, b, g, s, p), _run(engine, fn, x, wt, b, g, s, p))


def test_blocking_choices():
    """oneDNN's cost model picks: whole rows and all kernel rows for a typical shape, column blocks of 2 for one small
    image with a large kernel, a call per kernel row for a large kernel with many channels, exec_trans for an odd
    width, the jit kernel for a shape brgconv_strided skips, and nothing at stride 1."""
    blocking = conv_onednn_strided.blocking
    before = torch.get_num_threads()
    engine.set_num_threads(2)  # (the choices depend on the thread count: these are for 2)
    try:
        _check_choices(blocking)
    finally:
        engine.set_num_threads(before)


def _check_choices(blocking):
    assert blocking((8, 3, 32, 32), (16, 3, 3, 3), (2, 2), (1, 1)) == ("base", 32, 3)
    assert blocking((1, 16, 10, 10), (4, 16, 6, 6), (2, 2), (2, 2)) == ("base", 2, 6)
    assert blocking((4, 8, 26, 6), (256, 8, 8, 8), (2, 2), (3, 3)) == ("base", 6, 2)
    assert blocking((2, 8, 15, 13), (16, 8, 4, 4), (2, 2), (1, 1))[0] == "trans"
    assert blocking((8, 1, 28, 28), (64, 1, 4, 4), (2, 2), (1, 1))[0] == "jit"
    assert blocking((1, 1, 7, 7), (256, 1, 7, 7), (2, 2), (1, 1))[0] == "jit"
    assert blocking((1, 1, 2, 6), (100, 1, 6, 6), (2, 2), (2, 2)) is None  # (the jit kernel's sums not measured)
    assert blocking((8, 3, 32, 32), (16, 3, 3, 3), (1, 1), (1, 1)) is None


@pytest.mark.parametrize(
    "shape",
    [(16, 256, 512, 8, 8, 4, 2, 1), (2, 512, 1024, 8, 8, 4, 2, 1), (4, 512, 512, 8, 8, 3, 2, 1),
     (2, 1000, 300, 8, 8, 3, 2, 1)],
    ids=str,
)  # fmt: skip
def test_strided_input_grad_beyond_256_channels(shape):
    """Up to 1024 channels each way the strided input gradient is oneDNN's (the weight gradient there is not yet):
    conv2d's input gradient, and the forward of the DCGAN generator's 512 -> 256 transposed convolution."""
    n, c, o, h, w, k, s, p = shape
    rs = np.random.RandomState(3)
    x = rs.randn(n, c, h, w).astype(np.float32)
    wt = (rs.randn(o, c, k, k) * 0.1).astype(np.float32)
    oh, ow = (h + 2 * p - k) // s + 1, (w + 2 * p - k) // s + 1
    g = rs.randn(n, o, oh, ow).astype(np.float32)
    grads = []
    for mod, F in ((torch, TF), (engine, EF)):
        xs = mod.tensor(x.copy(), requires_grad=True)
        F.conv2d(xs, mod.tensor(wt), stride=s, padding=p).backward(mod.tensor(g))
        grads.append(xs.grad.numpy())
    np.testing.assert_array_equal(_bits(grads[1]), _bits(grads[0]))
    # the transposed convolution of g with the same weight: conv2d's input gradient as its forward
    ref = TF.conv_transpose2d(torch.tensor(g), torch.tensor(wt), stride=s, padding=p).numpy()
    got = EF.conv_transpose2d(engine.tensor(g), engine.tensor(wt), stride=s, padding=p).numpy()
    np.testing.assert_array_equal(_bits(got), _bits(ref))


def test_deconv_gradient_gates():
    """A strided conv_transpose2d's gradients through oneDNN's measured kernels only where torch runs them: g narrower
    than the kernel (oneDNN's gemm convolution for the input gradient) and padding past half the kernel (another
    bias reduction) keep the generic sums (as on main: following these kernels there made sums main got right
    wrong)."""
    from engine.nn import functional_conv as FC

    geo = FC._Geo((2, 2), (2, 2), (1, 1), True, (0, 0), 1)
    assert FC._deconv_grads_known(np.zeros((2, 16, 12, 2), np.float32), np.zeros((8, 16, 6, 6)), geo) == (
        False, True, True)  # fmt: skip
    geo = FC._Geo((3, 3), (3, 3), (1, 1), True, (0, 0), 1)
    assert FC._deconv_grads_known(np.zeros((8, 1, 5, 5), np.float32), np.zeros((1, 1, 5, 5)), geo)[2] is False
