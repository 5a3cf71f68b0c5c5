"""conv2d's float32 cpu gradients (input, weight, bias) and its forward beyond 16 input channels as torch's oneDNN
sums them (exact mode, MKL loaded): bit for bit against torch, at torch's default thread count and at 1 and 4."""

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

GRAD_SHAPES = [  # N, C_in, C_out, H, W, kernel, stride, padding
    (4, 3, 6, 32, 32, 5, 1, 0),  # the CIFAR-10 tutorial
    (4, 6, 16, 14, 14, 5, 1, 0),
    (64, 1, 6, 28, 28, 5, 1, 2),  # LeNet on MNIST
    (64, 6, 16, 14, 14, 5, 1, 0),
    (64, 1, 32, 28, 28, 3, 1, 0),  # the MNIST example
    (8, 32, 64, 26, 26, 3, 1, 0),
    (16, 3, 16, 32, 32, 3, 1, 1),
    (8, 3, 16, 32, 32, 3, 2, 1),  # (strided: the input gradient is oneDNN's brgconv_strided kernel, conv19)
    (4, 16, 32, 16, 16, 3, 1, 1),
    (8, 16, 32, 8, 8, 3, 1, 1),  # few output rows: whole images a thread, the bias reducer's own split
    (64, 6, 24, 6, 6, 3, 1, 0),
    (5, 3, 16, 12, 12, 3, 1, 0),  # an odd batch split by image rows
    (7, 6, 8, 20, 20, 5, 1, 2),
    (3, 32, 20, 20, 17, 4, 1, 1),
    (16, 10, 20, 11, 13, 2, 2, 1),
    (4, 128, 64, 8, 8, 3, 1, 1),  # more channels: blocks of 16 each way, the threads split by channel blocks
    (2, 100, 200, 9, 9, 3, 1, 1),
    (4, 16, 16, 12, 12, 3, 1, 2),  # padding past half the kernel: the weight gradient is the avx2 kernel's
    (8, 3, 6, 14, 14, 5, 1, 3),
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


def _grads(mod, x, w, b, g, s, p):
    xs, ws, bs = (mod.tensor(a.copy(), requires_grad=True) for a in (x, w, b))
    f = TF.conv2d if mod is torch else EF.conv2d
    y = f(xs, ws, bs, stride=s, padding=p)
    y.backward(mod.tensor(g))
    return y.detach().numpy(), xs.grad.numpy(), ws.grad.numpy(), bs.grad.numpy()


def _bits(a):
    return np.ascontiguousarray(a).view(np.uint32)


@pytest.mark.parametrize("shape", GRAD_SHAPES, ids=str)
def test_conv2d_gradients_bits_match_torch(shape, threads):
    n, c, o, h, w, k, s, p = shape
    rs = np.random.RandomState(18)
    x = rs.randn(n, c, h, w).astype(np.float32)
    wt = (rs.randn(o, c, k, k) * 0.2).astype(np.float32)
    b = rs.randn(o).astype(np.float32)
    oh, ow = (h + 2 * p - k) // s + 1, (w + 2 * p - k) // s + 1
    g = rs.randn(n, o, oh, ow).astype(np.float32)
    ref = _grads(torch, x, wt, b, g, s, p)
    got = _grads(engine, x, wt, b, g, s, p)
    for i, (r, e) in enumerate(zip(ref, got)):
        assert e.shape == r.shape
        np.testing.assert_array_equal(_bits(e), _bits(r), err_msg=["output", "input", "weight", "bias"][i])


FORWARD_SHAPES = [  # N, C_in, C_out, H, W, kernel, stride, padding: more than 16 channels or 160 products a sum
    (8, 32, 64, 26, 26, 3, 1, 0),
    (4, 17, 20, 15, 12, 4, 2, 1),
    (3, 64, 32, 12, 10, 5, 1, 2),
    (4, 16, 8, 14, 14, 5, 1, 0),
    (2, 8, 16, 13, 11, 7, 1, 3),
    (16, 48, 6, 9, 16, 5, 1, 3),
    (4, 256, 128, 6, 6, 3, 1, 1),
]


@pytest.mark.parametrize("shape", FORWARD_SHAPES, ids=str)
@pytest.mark.parametrize("bias", [True, False])
def test_conv2d_forward_many_channels_bits_match_torch(shape, bias):
    n, c, o, h, w, k, s, p = shape
    rs = np.random.RandomState(8)
    x = rs.randn(n, c, h, w).astype(np.float32)
    wt = (rs.randn(o, c, k, k) * 0.2).astype(np.float32)
    b = (rs.randn(o) * 3).astype(np.float32) if bias else None  # (added to the first block of 16 channels)
    ref = TF.conv2d(torch.from_numpy(x), torch.from_numpy(wt), None if b is None else torch.from_numpy(b), stride=s,
                    padding=p).numpy()  # fmt: skip
    got = EF.conv2d(engine.tensor(x), engine.tensor(wt), None if b is None else engine.tensor(b), stride=s, padding=p)
    np.testing.assert_array_equal(_bits(got.numpy()), _bits(ref))


def _lenet(mod):
    # (16 classes: a 10-wide last layer's weight gradient, a 10x84 product, is split over 2 threads by torch's MKL,
    # which the engine's sequential MKL does not follow yet)
    nn = mod.nn
    return nn.Sequential(
        nn.Conv2d(1, 6, 5, padding=2), nn.Sigmoid(), nn.AvgPool2d(2, 2), nn.Conv2d(6, 16, 5), nn.Sigmoid(),
        nn.AvgPool2d(2, 2), nn.Flatten(), nn.Linear(400, 120), nn.Sigmoid(), nn.Linear(120, 84), nn.Sigmoid(),
        nn.Linear(84, 16),
    )  # fmt: skip


def test_lenet_training_steps_match_torch():
    torch.manual_seed(0)
    tn, en = _lenet(torch), _lenet(engine)
    for tp, ep in zip(tn.parameters(), en.parameters()):
        ep.data = engine.tensor(tp.detach().numpy().copy())
    rs = np.random.RandomState(1)
    x = rs.rand(32, 1, 28, 28).astype(np.float32)
    y = rs.randint(0, 16, 32)
    topt = torch.optim.SGD(tn.parameters(), lr=0.9)
    eopt = engine.optim.SGD(en.parameters(), lr=0.9)
    for _ in range(3):
        for net, opt, mod in ((tn, topt, torch), (en, eopt, engine)):
            opt.zero_grad()
            mod.nn.functional.cross_entropy(net(mod.tensor(x)), mod.tensor(y)).backward()
            opt.step()
    for (name, tp), ep in zip(tn.named_parameters(), en.parameters()):
        np.testing.assert_array_equal(_bits(ep.detach().numpy()), _bits(tp.detach().numpy()), err_msg=name)


@pytest.mark.parametrize(
    "shape", [(64, 1, 6, 28, 28, 5, 1, 2), (8, 16, 32, 8, 8, 3, 1, 1), (4, 6, 16, 14, 14, 5, 1, 0)]
)
def test_conv2d_bias_grad_with_frozen_weight_bits_match_torch(shape):
    n, c, o, h, w, k, s, p = shape
    rs = np.random.RandomState(5)
    x = rs.randn(n, c, h, w).astype(np.float32)
    wt = (rs.randn(o, c, k, k) * 0.2).astype(np.float32)
    b = rs.randn(o).astype(np.float32)
    oh, ow = (h + 2 * p - k) // s + 1, (w + 2 * p - k) // s + 1
    g = rs.randn(n, o, oh, ow).astype(np.float32)
    grads = []
    for mod, f in ((torch, TF.conv2d), (engine, EF.conv2d)):
        bs = mod.tensor(b.copy(), requires_grad=True)
        f(mod.tensor(x), mod.tensor(wt), bs, stride=s, padding=p).backward(mod.tensor(g))
        grads.append(bs.grad.numpy())
    np.testing.assert_array_equal(_bits(grads[1]), _bits(grads[0]))
