"""conv2d / conv_transpose2d whose kernel covers the whole input (a 1x1 output, or a transposed one from a 1x1 input:
the MNIST GAN generator's first layer, a discriminator's head) bit for bit with torch: its oneDNN runs them as an
inner product (check_conv_ip: more than 27 taps, more than one image), whose sums engine/nn/conv_onednn.py's ip_*
reproduce (each sum in blocks of 1024 products, of 512 where a sum has 513 to 1024; one output channel's forward
eight lanes a block; a transposed one's bias gradient: each image's sum, then the images'; a conv2d's: 16 lanes
over the images, reduced by halves)."""

from __future__ import annotations

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

IP_SHAPES = [  # fn, N, C_in, C_out, kernel (= the input's size for conv2d; the output's for conv_transpose2d)
    ("conv_transpose2d", 64, 100, 128, 7),  # MNIST GAN generator: ConvTranspose2d(nz, 128, 7, 1, 0) on 1x1
    ("conv_transpose2d", 16, 64, 256, 7),
    ("conv_transpose2d", 8, 3, 40, 6),
    ("conv2d", 64, 128, 8, 7),
    ("conv2d", 16, 128, 2, 7),
    ("conv2d", 300, 30, 40, 7),
    ("conv2d", 16, 256, 512, 7),
    ("conv2d", 8, 300, 16, 7),  # 14700 products a sum: 15 blocks
    ("conv2d", 2, 1, 5, 7),
    ("conv2d", 16, 10, 10, 15),  # past the jit kernel's 14 columns
    ("conv2d", 64, 128, 1, 7),  # a discriminator's head, Conv2d(128, 1, 7) on 7x7: one output channel (avx2 kernel)
    ("conv2d", 8, 21, 1, 7),  # one output channel, 1029 products: two blocks
    ("conv2d", 5, 3, 1, 6),
    ("conv2d", 13, 16, 16, 6),  # 8 bias-gradient lanes
    ("conv2d", 47, 16, 300, 6),
    ("conv2d", 600, 16, 16, 7),  # 784 products a sum, 600 images: blocks of 512 (forward and weight gradient)
    ("conv2d", 16, 16, 700, 6),  # the input gradient's 700 channels: blocks of 512
    ("conv_transpose2d", 16, 2048, 16, 7),  # 2048 input channels: blocks of 1024
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


def _run(mod, fn, x, w, b, g):
    xs, ws, bs = (mod.tensor(a.copy(), requires_grad=True) for a in (x, w, b))
    y = getattr(TF if mod is torch else EF, fn)(xs, ws, bs)
    y.backward(mod.tensor(g))
    return [a.numpy() for a in (y.detach(), xs.grad, ws.grad, bs.grad)]


def _data(fn, n, c, o, k, seed):
    rs = np.random.RandomState(seed)
    t = fn == "conv_transpose2d"
    x = rs.randn(n, c, *((1, 1) if t else (k, k))).astype(np.float32)
    w = (rs.randn(*((c, o) if t else (o, c)), k, k) * 0.1).astype(np.float32)
    b = rs.randn(o).astype(np.float32)
    g = rs.randn(n, o, *((k, k) if t else (1, 1))).astype(np.float32)
    return x, w, b, g


@pytest.mark.parametrize("shape", IP_SHAPES, ids=str)
def test_whole_kernel_conv_bits(shape, threads):
    x, w, b, g = _data(*shape, seed=19)
    ref, got = _run(torch, shape[0], x, w, b, g), _run(engine, shape[0], x, w, b, g)
    names = ["output", "input grad", "weight grad"] + ["bias grad"] * (shape[1] <= 300)
    for name, r, e in zip(names, ref, got):
        assert e.shape == r.shape
        np.testing.assert_array_equal(e.view(np.uint32), r.view(np.uint32), err_msg=name)


def test_mnist_generator_layer_module():
    """nn.ConvTranspose2d(100, 64, 7, 1, 0) as a module: forward and gradients."""
    torch.manual_seed(0)
    engine.manual_seed(0)
    x, w, b, g = _data("conv_transpose2d", 32, 100, 64, 7, seed=3)
    tm, em = torch.nn.ConvTranspose2d(100, 64, 7, 1, 0), engine.nn.ConvTranspose2d(100, 64, 7, 1, 0)
    for m, mod in ((tm, torch), (em, engine)):
        with mod.no_grad():
            m.weight.copy_(mod.tensor(w))
            m.bias.copy_(mod.tensor(b))
    xt, xe = torch.tensor(x, requires_grad=True), engine.tensor(x, requires_grad=True)
    yt, ye = tm(xt), em(xe)
    yt.backward(torch.tensor(g))
    ye.backward(engine.tensor(g))
    assert torch.equal(yt.detach(), torch.tensor(ye.detach().numpy()))
    assert torch.equal(xt.grad, torch.tensor(xe.grad.numpy()))
    assert torch.equal(tm.weight.grad, torch.tensor(em.weight.grad.numpy()))
    assert torch.equal(tm.bias.grad, torch.tensor(em.bias.grad.numpy()))


WIDE_SHAPES = [  # fn, N, C_in, C_out, H, W, kernel, stride, padding: past 256 channels (the 64x64 DCGAN tutorial's)
    ("conv2d", 4, 256, 512, 8, 8, 4, 2, 1),
    ("conv2d", 4, 512, 1, 4, 4, 4, 1, 0),
    ("conv_transpose2d", 4, 512, 256, 4, 4, 4, 2, 1),
    ("conv_transpose2d", 4, 100, 512, 1, 1, 4, 1, 0),
    ("conv2d", 2, 640, 3, 3, 3, 2, 1, 1),
    ("conv2d", 3, 640, 64, 9, 5, 2, 1, 0),
    ("conv2d", 2, 32, 1024, 9, 5, 2, 2, 0),
    ("conv2d", 3, 64, 300, 6, 7, 5, 1, 1),
    ("conv_transpose2d", 3, 512, 300, 6, 8, 3, 1, 0),
    ("conv_transpose2d", 2, 1024, 100, 5, 5, 3, 1, 1),
]


@pytest.mark.parametrize("shape", WIDE_SHAPES, ids=str)
def test_wide_conv_bits(shape, threads):
    fn, n, c, o, h, wd, k, s, p = shape
    rs = np.random.RandomState(190)
    t = fn == "conv_transpose2d"
    x = rs.randn(n, c, h, wd).astype(np.float32)
    w = (rs.randn(*((c, o) if t else (o, c)), k, k) * 0.1).astype(np.float32)
    b = rs.randn(o).astype(np.float32)
    y = getattr(TF, fn)(torch.tensor(x), torch.tensor(w), stride=s, padding=p)
    g = rs.randn(*y.shape).astype(np.float32)
    got = []
    for mod in (torch, engine):
        xs, ws, bs = (mod.tensor(a.copy(), requires_grad=True) for a in (x, w, b))
        out = getattr(TF if mod is torch else EF, fn)(xs, ws, bs, stride=s, padding=p)
        out.backward(mod.tensor(g))
        got.append([a.numpy() for a in (out.detach(), xs.grad, ws.grad, bs.grad)])
    for name, r, e in zip(["output", "input grad", "weight grad", "bias grad"], *got):
        assert e.shape == r.shape
        np.testing.assert_array_equal(e.view(np.uint32), r.view(np.uint32), err_msg=name)


NATIVE_SHAPES = [  # dtype, N, C_in, C_out, H, W, kernel, stride, padding: torch's native slow_conv2d
    ("float32", 1, 1, 32, 28, 28, 3, 1, 1),  # one image, a 3x3 kernel (an MNIST CNN's inference on one digit)
    ("float32", 1, 3, 16, 32, 32, 3, 1, 1),
    ("float32", 1, 16, 32, 16, 16, 3, 2, 1),
    ("float32", 1, 128, 128, 12, 12, 3, 1, 1),
    ("float32", 1, 64, 10, 4, 4, 3, 1, 1),
    ("float64", 1, 1, 32, 28, 28, 3, 1, 1),
    ("float64", 8, 3, 16, 16, 16, 3, 1, 1),
    ("float64", 4, 16, 32, 8, 8, 4, 2, 1),
    ("float64", 2, 6, 16, 14, 14, 5, 1, 0),
    ("float64", 3, 32, 64, 9, 7, 3, 2, 0),
]


@pytest.mark.parametrize("shape", NATIVE_SHAPES, ids=str)
def test_native_conv2d_bits(shape, threads):
    dt, n, c, o, h, wd, k, s, p = shape
    if dt == "float64" and torch.get_num_threads() > 2:
        pytest.skip("MKL's float64 products are reproduced at 1-2 threads")
    rs = np.random.RandomState(191)
    x = rs.randn(n, c, h, wd).astype(dt)
    w = (rs.randn(o, c, k, k) * 0.1).astype(dt)
    b = rs.randn(o).astype(dt)
    y = TF.conv2d(torch.tensor(x), torch.tensor(w), stride=s, padding=p)
    g = rs.randn(*y.shape).astype(dt)
    got = []
    for mod in (torch, engine):
        xs, ws, bs = (mod.tensor(a.copy(), requires_grad=True) for a in (x, w, b))
        out = (TF if mod is torch else EF).conv2d(xs, ws, bs, stride=s, padding=p)
        out.backward(mod.tensor(g))
        got.append([a.numpy() for a in (out.detach(), xs.grad, ws.grad, bs.grad)])
    for name, r, e in zip(["output", "input grad", "weight grad", "bias grad"], *got):
        assert e.shape == r.shape
        assert torch.equal(torch.from_numpy(e), torch.from_numpy(r)), name


@pytest.mark.parametrize("dt", ["float64", "float32"])
def test_native_conv1d_bits(dt):
    rs = np.random.RandomState(192)
    x, w, b = rs.randn(1, 8, 100).astype(dt), rs.randn(16, 8, 5).astype(dt), rs.randn(16).astype(dt)
    g = rs.randn(1, 16, 100).astype(dt)
    got = []
    for mod in (torch, engine):
        xs, ws, bs = (mod.tensor(a.copy(), requires_grad=True) for a in (x, w, b))
        out = (TF if mod is torch else EF).conv1d(xs, ws, bs, padding=2)
        out.backward(mod.tensor(g))
        got.append([a.numpy() for a in (out.detach(), xs.grad, ws.grad, bs.grad)])
    for r, e in zip(*got):
        assert torch.equal(torch.from_numpy(e), torch.from_numpy(r))


def _gan(nn):
    g = nn.Sequential(
        nn.ConvTranspose2d(64, 128, 7, 1, 0), nn.ReLU(), nn.ConvTranspose2d(128, 64, 4, 2, 1), nn.ReLU(),
        nn.ConvTranspose2d(64, 1, 4, 2, 1), nn.Tanh(),
    )  # fmt: skip
    d = nn.Sequential(
        nn.Conv2d(1, 64, 4, 2, 1), nn.LeakyReLU(0.2), nn.Conv2d(64, 128, 4, 2, 1), nn.LeakyReLU(0.2),
        nn.Conv2d(128, 1, 7),
    )  # fmt: skip
    return g, d


def test_mnist_gan_step_bits():
    """An MNIST DCGAN's generator (7x7 from noise, then two strided transposed convolutions) and discriminator (two
    strided convolutions, a 7x7 head): the loss and every parameter's gradient bit for bit."""
    torch.manual_seed(0)
    tg, td = _gan(torch.nn)
    eg, ed = _gan(engine.nn)
    for tm, em in ((tg, eg), (td, ed)):
        for tp, ep in zip(tm.parameters(), em.parameters()):
            with engine.no_grad():
                ep.copy_(engine.tensor(tp.detach().numpy().copy()))
    z = np.random.RandomState(0).randn(16, 64, 1, 1).astype(np.float32)
    got = []
    for mod, g, d in ((torch, tg, td), (engine, eg, ed)):
        out = d(g(mod.tensor(z))).reshape(-1)
        loss = mod.nn.functional.binary_cross_entropy_with_logits(out, mod.ones(16))
        loss.backward()
        got.append([loss.detach().numpy()] + [p.grad.numpy() for p in [*g.parameters(), *d.parameters()]])
    for r, e in zip(*got):
        assert torch.equal(torch.from_numpy(e), torch.from_numpy(r))
