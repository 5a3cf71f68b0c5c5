"""F.grid_sample (4-d and 5-d input; bilinear, nearest, bicubic; zeros, border, reflection padding;
align_corners) and F.affine_grid (2-d and 3-d) against torch, the oracle: values (bilinear and nearest bit for bit,
bicubic to rounding), gradients to the input and the grid, grad_fn names, gradcheck and gradgradcheck in
float64, warnings and torch's errors, and the Spatial Transformer Network tutorial's model training a few steps.
The engine side runs on each device of the `device` fixture."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pytest
from helpers import check, computed, make, same_error
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import engine
from engine.autograd import gradcheck, gradgradcheck

torch = pytest.importorskip("torch")

pytestmark = pytest.mark.usefixtures("device")

FAST = settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck))
PADDINGS = ["zeros", "border", "reflection"]


def _F(T: Any) -> Any:
    return T.nn.functional


def _grid(shape: tuple, dtype: str, seed: int, reach: float = 1.3) -> np.ndarray:
    """Grid coordinates in [-reach, reach]: some fall outside the input, where the padding decides."""
    return (np.random.default_rng(seed).random(shape) * 2 * reach - reach).astype(dtype)


@st.composite
def _case(draw: Any) -> tuple:
    nd = draw(st.sampled_from([2, 3]))
    mode = draw(st.sampled_from(["bilinear", "nearest"] + (["bicubic"] if nd == 2 else [])))
    shape = (draw(st.integers(1, 2)), draw(st.integers(1, 3))) + tuple(draw(st.integers(1, 5)) for _ in range(nd))
    gshape = (shape[0],) + tuple(draw(st.integers(1, 4)) for _ in range(nd)) + (nd,)
    return (shape, gshape, mode, draw(st.sampled_from(PADDINGS)), draw(st.booleans()),
            draw(st.sampled_from(["float32", "float64"])), draw(st.integers(0, 99)))  # fmt: skip


@FAST
@given(_case())
def test_random_samples_values_and_gradients(case: tuple) -> None:
    """Bilinear and nearest values and gradients are torch's bits (its 2-d kernel's fused multiply-adds and
    256-bit chunks, its 3-d kernel's plain sums in its order); bicubic to rounding."""
    shape, gshape, mode, padding, align, dt, seed = case
    exact = {} if mode == "bicubic" else {"atol": 0, "rtol": 0, "grad_atol": 0, "grad_rtol": 0}
    computed(lambda T, x, g: _F(T).grid_sample(x, g, mode=mode, padding_mode=padding, align_corners=align),
             make(shape, dt, seed=seed), _grid(gshape, dt, seed), **exact)  # fmt: skip


@pytest.mark.parametrize("padding", PADDINGS)
@pytest.mark.parametrize("mode,nd", [("bilinear", 2), ("nearest", 2), ("bicubic", 2), ("bilinear", 3),
                                     ("nearest", 3)])  # fmt: skip
def test_gradcheck_and_gradgradcheck(mode: str, nd: int, padding: str) -> None:
    rng = np.random.default_rng(0)
    for align in (False, True):
        x = engine.tensor(rng.standard_normal((1, 2) + (3,) * nd), requires_grad=True)
        g = engine.tensor(rng.random((1,) + (2,) * nd + (nd,)) * 2.2 - 1.1, requires_grad=mode != "nearest")

        def f(x: engine.Tensor, g: engine.Tensor, align: bool = align) -> engine.Tensor:
            return engine.nn.functional.grid_sample(x, g, mode=mode, padding_mode=padding, align_corners=align)

        assert gradcheck(f, (x, g))
        assert gradgradcheck(f, (x, g))


def test_double_backward_values() -> None:
    """create_graph=True: the gradients differentiate again, to torch's values."""

    def fn(T: Any, x: Any, g: Any) -> Any:
        y = _F(T).grid_sample(x, g, padding_mode="reflection", align_corners=False)
        gx, gg = T.autograd.grad((y * y).sum(), (x, g), create_graph=True)
        return [gx, gg, T.autograd.grad((gx * gx).sum() + (gg * gg).sum(), (x, g))]

    check(fn, make((2, 2, 4, 3), "float64"), _grid((2, 3, 2, 2), "float64", 1), grad=False, names=False)


@pytest.mark.parametrize("padding", PADDINGS)
@pytest.mark.parametrize("mode,nd", [("bilinear", 2), ("nearest", 2), ("bicubic", 2), ("bilinear", 3)])
def test_float16_samples_are_torchs_half_arithmetic(mode: str, nd: int, padding: str) -> None:
    """float16 runs torch's scalar kernel with every operation rounded to half: its bits."""
    check(lambda T, x, g: _F(T).grid_sample(x, g, mode=mode, padding_mode=padding, align_corners=False),
          make((1, 2) + (4,) * nd, "float16"), _grid((1,) + (3,) * nd + (nd,), "float16", 2), atol=0, rtol=0,
          grad=False)  # fmt: skip


def test_enum_form_and_empty_channels() -> None:
    computed(lambda T, x, g: T.grid_sampler(x, g, 0, 2, False), make((1, 2, 4, 5)), _grid((1, 3, 2, 2), "float32", 3))
    computed(lambda T, x, g: _F(T).grid_sample(x, g, mode="nearest", align_corners=False),
             make((2, 0, 4, 5)), _grid((2, 3, 2, 2), "float32", 4))  # fmt: skip


def test_default_align_corners_warns() -> None:
    x, g = engine.ones(1, 1, 2, 2), engine.zeros(1, 1, 1, 2)
    for call in (lambda: engine.nn.functional.grid_sample(x, g), lambda: engine.nn.functional.affine_grid(
            engine.eye(2, 3)[None], (1, 1, 2, 2))):  # fmt: skip
        with pytest.warns(UserWarning, match="Default grid_sample and affine_grid behavior has changed"):
            call()


def test_grid_sample_errors() -> None:
    x4, g4 = (lambda T: T.ones(2, 3, 4, 5)), (lambda T: T.zeros(2, 3, 2, 2))
    x5, g5 = (lambda T: T.ones(2, 3, 4, 5, 2)), (lambda T: T.zeros(2, 3, 2, 2, 3))

    def gs(x: Any, g: Any, **kw: Any) -> Any:
        return lambda T: _F(T).grid_sample(x(T), g(T), **{"align_corners": False, **kw})

    for fn in (gs(x4, g4, mode="foo"), gs(x4, g4, padding_mode="foo"), gs(x4, lambda T: g4(T)[:1]),
               gs(x4, lambda T: T.zeros(2, 3, 2, 3)), gs(x4, lambda T: g4(T).double()),
               gs(lambda T: x4(T).double(), g4), gs(lambda T: x4(T).long(), g4), gs(x4, lambda T: g4(T).long()),
               gs(lambda T: x4(T)[0], lambda T: g4(T)[0]), gs(x4, lambda T: g4(T)[..., None]),
               gs(x5, g5, mode="bicubic"), gs(lambda T: T.ones(2, 3, 0, 5), g4), gs(lambda T: x5(T).long(), g5),
               gs(lambda T: x5(T)[:, :, :0], g5), gs(x5, lambda T: g5(T)[..., :2]), gs(x5, lambda T: g5(T)[0]),
               gs(lambda T: x4(T).half(), g4), gs(lambda T: T.ones(2, 3, 4), lambda T: T.zeros(2, 3, 1))):  # fmt: skip
        same_error(fn)


# ---- affine_grid -------------------------------------------------------------------------------------------
@pytest.mark.parametrize("align", [False, True])
@pytest.mark.parametrize("size,theta", [((2, 3, 4, 5), (2, 2, 3)), ((2, 1, 3, 4, 5), (2, 3, 4)),
                                        ((1, 1, 1, 4), (1, 2, 3)), ((1, 2, 1, 1, 3), (1, 3, 4)),
                                        ((3, 1, 6, 2), (3, 2, 3))])  # fmt: skip
def test_affine_grid_values_exact_and_gradients(size: tuple, theta: tuple, align: bool) -> None:
    for dt in ("float32", "float64"):
        computed(lambda T, t: _F(T).affine_grid(t, size, align_corners=align), make(theta, dt), atol=0, rtol=0)
    t = engine.tensor(make(theta, "float64"), requires_grad=True)
    assert gradcheck(lambda t: engine.nn.functional.affine_grid(t, size, align_corners=align), (t,))
    assert gradgradcheck(lambda t: engine.nn.functional.affine_grid(t, size, align_corners=align), (t,))


def test_affine_grid_sizes_and_errors() -> None:
    computed(lambda T, t: _F(T).affine_grid(t, T.Size([2, 3, 4, 5]), align_corners=False), make((2, 2, 3)))
    computed(lambda T, t: _F(T).affine_grid(t, [2, 3, 4, 5], align_corners=True), make((2, 2, 3), "float16"),
             grad=False, atol=1e-3)  # fmt: skip
    computed(lambda T, t: T.affine_grid_generator(t, [2, 3, 4, 5], False), make((2, 2, 3)))
    th = lambda T, *s: T.ones(*s)  # noqa: E731
    for fn in (lambda T: _F(T).affine_grid(th(T, 2, 2, 3).long(), (2, 3, 4, 5), align_corners=False),
               lambda T: _F(T).affine_grid(th(T, 2, 3, 3), (2, 3, 4, 5), align_corners=False),
               lambda T: _F(T).affine_grid(th(T, 2, 2, 3), (2, 3, 4, 5, 6), align_corners=False),
               lambda T: _F(T).affine_grid(th(T, 2, 3, 4), [2, 3, 4, 5], align_corners=False),
               lambda T: _F(T).affine_grid(th(T, 2, 2, 3), (2, 3, 4), align_corners=False),
               lambda T: _F(T).affine_grid(th(T, 2, 2, 3), (2, 3, 0, 5), align_corners=False),
               lambda T: _F(T).affine_grid(th(T, 2, 2, 3), (0, 3, 4, 5), align_corners=False),
               lambda T: _F(T).affine_grid(th(T, 2, 2, 3), (3, 3, 4, 5), align_corners=False),
               lambda T: _F(T).affine_grid(th(T, 2, 3, 4), (3, 3, 4, 5, 2), align_corners=False)):  # fmt: skip
        same_error(fn)
    with pytest.warns(UserWarning, match="affine_grid behavior has changed for unit-size grids"):
        engine.nn.functional.affine_grid(engine.ones(2, 2, 3), (2, 3, 1, 5), align_corners=True)


# ---- the Spatial Transformer Network tutorial --------------------------------------------------------------
def _stn(T: Any) -> Any:
    nn, F = T.nn, T.nn.functional

    class Net(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.conv1 = nn.Conv2d(1, 10, kernel_size=5)
            self.conv2 = nn.Conv2d(10, 20, kernel_size=5)
            self.conv2_drop = nn.Dropout2d()
            self.fc1 = nn.Linear(320, 50)
            self.fc2 = nn.Linear(50, 10)
            self.localization = nn.Sequential(
                nn.Conv2d(1, 8, kernel_size=7), nn.MaxPool2d(2, stride=2), nn.ReLU(True),
                nn.Conv2d(8, 10, kernel_size=5), nn.MaxPool2d(2, stride=2), nn.ReLU(True),
            )  # fmt: skip
            self.fc_loc = nn.Sequential(nn.Linear(10 * 3 * 3, 32), nn.ReLU(True), nn.Linear(32, 3 * 2))
            self.fc_loc[2].weight.data.zero_()
            self.fc_loc[2].bias.data.copy_(T.tensor([1, 0, 0, 0, 1, 0], dtype=T.float))

        def stn(self, x: Any) -> Any:
            xs = self.localization(x).view(-1, 10 * 3 * 3)
            theta = self.fc_loc(xs).view(-1, 2, 3)
            grid = F.affine_grid(theta, x.size())
            return F.grid_sample(x, grid)

        def forward(self, x: Any) -> Any:
            x = self.stn(x)
            x = F.relu(F.max_pool2d(self.conv1(x), 2))
            x = F.relu(F.max_pool2d(self.conv2_drop(self.conv2(x)), 2))
            x = F.relu(self.fc1(x.view(-1, 320)))
            x = F.dropout(x, training=self.training)
            return F.log_softmax(self.fc2(x), dim=1)

    return Net()


def test_spatial_transformer_tutorial_trains_as_torch() -> None:
    """The tutorial's Net (localization + fc_loc regressing theta, affine_grid, grid_sample) takes torch's
    training steps under the same seed: losses, the regressed transform and its gradient to rounding."""

    def run(T: Any) -> list:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            T.manual_seed(0)
            model = _stn(T)
            opt = T.optim.SGD(model.parameters(), lr=0.01)
            data, target = T.randn(4, 1, 28, 28), T.tensor([1, 7, 3, 0])
            out = []
            for _ in range(3):
                opt.zero_grad()
                loss = T.nn.functional.nll_loss(model(data), target)
                loss.backward()
                opt.step()
                out.append(loss.item())
            grad = model.fc_loc[2].bias.grad
            names = model.stn(data).grad_fn.name()
            return [*out, *model.fc_loc[2].bias.tolist(), *grad.tolist(), names]

    got, want = run(engine), run(torch)
    assert got[-1] == want[-1] == "GridSampler2DBackward0"
    # (convolutions and grid_sample round differently from torch's: the last bits of step 1 grow to about 2e-6 on
    # the 1e-2 bias gradients by step 3, whichever way the exact softmax kernels leave the first bits)
    np.testing.assert_allclose(got[:-1], want[:-1], rtol=1e-5, atol=5e-6)
