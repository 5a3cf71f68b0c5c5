"""F.interpolate of 5-d input (volumes: nearest, nearest-exact, trilinear, area) and nn.Upsample over them,
against torch, the oracle: values bit for bit on random shapes, scales and sizes (hypothesis), gradients,
gradcheck in float64, grad_fn names, and torch's errors (an empty area output's backward too). Also the index
rules the 1-d to 3-d kernels share: a dim of unchanged size is copied, and mode 'nearest' backward (and a small
2-d image's forward) halves the index of a doubled dim whatever the scale factor says. The engine side runs on
each device of the `device` fixture."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from helpers import check, computed, make, same_error
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import engine
from engine.autograd import gradcheck, gradgradcheck
from engine.nn import functional_conv as FC

torch = pytest.importorskip("torch")

pytestmark = pytest.mark.usefixtures("device")

FAST = settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
MODES = ["nearest", "nearest-exact", "trilinear", "area"]


def _F(T: Any) -> Any:
    return T.nn.functional


@st.composite
def _case(draw: Any) -> tuple:
    shape = (draw(st.integers(1, 2)), draw(st.integers(1, 2))) + tuple(draw(st.integers(1, 5)) for _ in range(3))
    mode = draw(st.sampled_from(MODES))
    kw: dict = {}
    if draw(st.booleans()):
        kw["size"] = tuple(draw(st.integers(1, 8)) for _ in range(3))
    else:
        factor = st.sampled_from([0.5, 0.7, 1.0, 1.2, 1.5, 1.7, 1.9, 2.0, 2.2, 3.0])
        kw["scale_factor"] = draw(factor) if draw(st.booleans()) else tuple(draw(factor) for _ in range(3))
        if draw(st.booleans()):
            kw["recompute_scale_factor"] = True
    if mode == "trilinear":
        kw["align_corners"] = draw(st.booleans())
    return shape, mode, kw, draw(st.sampled_from(["float32", "float64"]))


@FAST
@given(_case())
def test_random_volumes_values_exact_and_gradients(case: tuple) -> None:
    """Values bit for bit (torch's generic N-d kernel: the last dim first, two taps as one fused multiply-add),
    and so are nearest's and trilinear's gradients (added output by output, corner by corner, as torch's backward
    kernels do); area's to rounding; a size that rounds to 0 is torch's error."""
    shape, mode, kw, dt = case
    exact = {} if mode == "area" else {"grad_atol": 0, "grad_rtol": 0}
    check(lambda T, x: _F(T).interpolate(x, mode=mode, **kw), make(shape, dt), atol=0, rtol=0, **exact)


@pytest.mark.parametrize("mode", ["nearest", "nearest-exact", "trilinear"])
def test_float16_and_uint8_volumes(mode: str) -> None:
    computed(lambda T, x: _F(T).interpolate(x, scale_factor=1.5, mode=mode), make((1, 2, 3, 4, 2), "float16"),
             grad=False)  # fmt: skip
    check(lambda T, x: _F(T).interpolate(x, scale_factor=1.5, mode=mode), make((1, 2, 3, 4, 2), "uint8", 0, 255),
          grad=False)  # fmt: skip


def test_gradcheck_and_double_backward_of_volumes() -> None:
    x = engine.randn(1, 2, 3, 2, 4, dtype=engine.float64, requires_grad=True)
    for kw in (dict(mode="trilinear", size=(4, 3, 5)), dict(mode="trilinear", scale_factor=1.5, align_corners=True),
               dict(mode="nearest", scale_factor=(2.0, 1.5, 0.7)), dict(mode="nearest-exact", size=(5, 3, 2)),
               dict(mode="area", size=(2, 3, 3))):  # fmt: skip
        assert gradcheck(lambda x, kw=kw: engine.nn.functional.interpolate(x, **kw), (x,))
        assert gradgradcheck(lambda x, kw=kw: engine.nn.functional.interpolate(x, **kw), (x,))


def test_upsample_modules_over_volumes() -> None:
    x = make((2, 2, 3, 4, 3))
    for mod in (lambda nn: nn.Upsample(scale_factor=2, mode="trilinear"),
                lambda nn: nn.Upsample(size=(4, 5, 6), mode="trilinear", align_corners=True),
                lambda nn: nn.Upsample(scale_factor=(1.5, 2.0, 0.5)),
                lambda nn: nn.Upsample(scale_factor=1.7, mode="nearest-exact",
                                       recompute_scale_factor=True)):  # fmt: skip
        computed(lambda T, x, mod=mod: mod(T.nn)(x), x)
        assert repr(mod(engine.nn)) == repr(mod(torch.nn))


@pytest.mark.parametrize("factor", [1.2, 2.2])
@pytest.mark.parametrize("mode", ["trilinear", "nearest"])
def test_unchanged_dims_are_copied_and_nearest_backward_halves_doubled_dims(mode: str, factor: float) -> None:
    """torch copies a dim whose size is unchanged (scale 1.2 of 3 is 3: no interpolation), and its nearest
    backward maps output i of a doubled dim to input i >> 1 although the forward used floor(i / 2.2)."""
    x = np.array([1.0, 10.0, 100.0]).reshape(1, 1, 1, 1, 3)
    computed(lambda T, x: _F(T).interpolate(x, scale_factor=(1.0, 1.0, factor), mode=mode), x)
    computed(lambda T, x: _F(T).interpolate(x[0], scale_factor=(1.0, factor), mode="nearest"), x)
    computed(lambda T, x: _F(T).interpolate(x[0, 0], scale_factor=factor, mode="nearest"), x)
    computed(lambda T, x: _F(T).interpolate(x, scale_factor=factor, mode="trilinear", align_corners=True), x)


def test_area_to_an_empty_volume() -> None:
    for size in ((0, 2, 2), (2, 0, 1)):
        computed(lambda T, x, size=size: _F(T).interpolate(x, size=size, mode="area"), make((1, 2, 3, 4, 2)),
                 grad=False)  # fmt: skip
    computed(lambda T, x: _F(T).adaptive_avg_pool2d(x, (0, 2)), make((1, 2, 3, 4)), grad=False)


@pytest.mark.parametrize("mode", ["nearest", "nearest-exact", "trilinear"])
@pytest.mark.parametrize("dtype", ["int64", "int32", "bool"])
def test_integer_volumes_are_torchs_error(mode: str, dtype: str) -> None:
    check(lambda T, a: _F(T).interpolate(a, scale_factor=2, mode=mode), make((1, 1, 2, 2, 2), dtype, 0, 5),
          grad=False)  # fmt: skip


def test_volume_errors() -> None:
    x = lambda T: T.ones(1, 1, 2, 2, 2)  # noqa: E731
    for fn in (lambda T: _F(T).interpolate(x(T), size=0), lambda T: _F(T).interpolate(x(T), size=(0, 2, 2)),
               lambda T: _F(T).interpolate(x(T), size=(2, 2), mode="trilinear"),
               lambda T: _F(T).interpolate(x(T), scale_factor=(2, 2)),
               lambda T: _F(T).interpolate(x(T), scale_factor=2, mode="bilinear"),
               lambda T: _F(T).interpolate(x(T), scale_factor=2, mode="bicubic"),
               lambda T: _F(T).interpolate(x(T), scale_factor=2, align_corners=True),
               lambda T: _F(T).interpolate(x(T), scale_factor=2, mode="trilinear", antialias=True),
               lambda T: _F(T).interpolate(T.ones(1, 0, 2, 2, 2), size=3),
               lambda T: _F(T).interpolate(T.ones(1, 1, 2, 2), size=0),
               lambda T: _F(T).interpolate(T.ones(1, 1, 2), size=0, mode="linear")):  # fmt: skip
        same_error(fn)
    computed(lambda T: _F(T).interpolate(T.ones(0, 1, 2, 2, 2), size=3, mode="trilinear"))


@FAST
@given(st.integers(1, 17), st.integers(1, 6), st.integers(1, 6), st.integers(1, 8), st.integers(1, 8),
       st.booleans(), st.sampled_from(["float32", "float64", "float16"]), st.integers(0, 70))  # fmt: skip
def test_bilinear_images_are_torchs_bits(c: int, h: int, w: int, oh: int, ow: int, align: bool, dt: str,
                                         big: int) -> None:  # fmt: skip
    """A small output (height + width <= 128) takes torch's channels-last kernel (four corners at once, its
    vector lanes over the channels contracted otherwise than the channels left over), a large one the generic
    separable kernel (float16 with its weights kept in half): values bit for bit either way (but a small float16
    image's, to a half ulp), and the gradients too where each input pixel gets fewer than _ORDERED_RANKS of them
    (past that the backward is separable)."""
    tol = 2e-3 if dt == "float16" and oh + ow + 2 * big <= 128 else 0
    exact = {"grad_atol": 0, "grad_rtol": 0} if (oh + big) * (ow + big) * 4 < FC._ORDERED_RANKS else {}
    check(lambda T, x: _F(T).interpolate(x, size=(oh + big, ow + big), mode="bilinear", align_corners=align),
          make((1, c, h, w), dt), atol=tol, rtol=tol, grad=dt != "float16", **exact)  # fmt: skip


@pytest.mark.parametrize("mode,shape", [("linear", (1, 2, 5)), ("trilinear", (1, 2, 3, 2, 4))])
def test_float16_linear_modes_are_torchs_bits(mode: str, shape: tuple) -> None:
    for kw in ({"scale_factor": 1.7}, {"scale_factor": 2.5, "align_corners": True}):
        check(lambda T, x, kw=kw: _F(T).interpolate(x, mode=mode, **kw), make(shape, "float16"), atol=0, rtol=0,
              grad=False)  # fmt: skip


@pytest.mark.parametrize("c", [4, 5, 8, 9, 17])
@pytest.mark.parametrize("dt", ["float32", "float64"])
def test_channels_last_inputs_take_torchs_channels_last_kernel(c: int, dt: str) -> None:
    """A single pixel (or voxel) of more than 3 channels is channels-last contiguous too, and torch upsamples it
    with its channels-last kernel whatever the output size: the engine's values are its bits."""
    for shape, size, mode in (((2, c, 1, 1, 1), (3, 5, 4), "trilinear"), ((2, c, 1, 1), (70, 75), "bilinear")):
        for align in (False, True):
            kw = {"size": size, "mode": mode, "align_corners": align}
            check(lambda T, x, kw=kw: _F(T).interpolate(x, **kw), make(shape, dt), atol=0, rtol=0)
