"""interpolate(..., antialias=True) for 4-d float inputs, modes bilinear and bicubic: torch's separable
antialiased resampling (aten/src/ATen/native/cpu/UpSampleKernel.cpp, after PIL's): for each output index a
window of input indices [xmin, xmin + xsize) and normalised filter weights, widened by the scale when
downsampling, so every input pixel counts. The width is resampled first, then the height, each pass skipped
where that size is unchanged.

Weights are computed as torch computes them, in the tensor's dtype with its double-precision steps between
(`_compute_indices_min_size_weights_aa`); each output sums its window left to right, `t * w` then `+= t * w`,
and the backward adds `wx * wy * grad` into the input in torch's (output row, output column) order. torch's
build fuses multiply and add (engine/ops/fma.py) in the cubic filter's `p * x + q`, in the backward's
`+= w * grad`, and in the forward's sum for the taps its loop leaves after whole vector blocks (see _pass): what
makes these its bits."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from engine.memory_format import contiguous_format
from engine.ops.fma import fma
from engine.ops.memory_layout import elem_strides, relaid, suggest
from engine.ops.util import node_class, record
from engine.tensor import Tensor

_INTERP = {"bilinear": 2, "bicubic": 4}
_NODES = {"bilinear": "UpsampleBilinear2DAaBackward0", "bicubic": "UpsampleBicubic2DAaBackward0"}


def _linear(x: Any, f: Any) -> Any:
    x = abs(x)
    return f(1.0 - float(x)) if x < 1.0 else f(0.0)


def _cubic(x: Any, f: Any) -> Any:
    # HelperInterpCubic::aa_filter with Keys' a = -0.5 (PIL's), in the dtype; torch's build contracts each
    # `p * x + q` of cubic_convolution1/2 into one fused multiply-add
    a = f(-0.5)
    x = abs(x)
    if x < 1.0:
        return _fma(_fma(a + f(2), x, -(a + f(3))) * x, x, f(1))
    if x < 2.0:
        return _fma(_fma(_fma(a, x, -(f(5) * a)), x, f(8) * a), x, -(f(4) * a))
    return f(0.0)


def _fma(x: Any, y: Any, z: Any) -> Any:
    f = type(z)
    return f(fma(np.asarray(x, f), np.asarray(y, f), np.asarray(z, f))[()])


def _scale(in_size: int, out_size: int, align_corners: bool, scale: float | None, f: Any) -> Any:
    """area_pixel_compute_scale in the dtype."""
    if align_corners:
        return f(in_size - 1) / f(out_size - 1) if out_size > 1 else f(0)
    if scale is not None and scale > 0:
        return f(1.0 / scale)
    return f(in_size) / f(out_size)


def _weights(in_size: int, out_size: int, mode: str, align_corners: bool, scale: float | None, f: Any) -> tuple:
    """(xmin, xsize, weights[out, max_interp]) of one axis, as _compute_index_ranges_weights computes them."""
    interp = _INTERP[mode]
    filt = _linear if mode == "bilinear" else _cubic
    s = _scale(in_size, out_size, align_corners, scale, f)
    support = f((interp * 0.5) * float(s)) if s >= 1.0 else f(interp * 0.5)
    max_interp = int(math.ceil(support)) * 2 + 1
    invscale = f(1.0 / float(s)) if s >= 1.0 else f(1.0)
    xmin = np.zeros(out_size, np.int64)
    xsize = np.zeros(out_size, np.int64)
    w = np.zeros((out_size, max_interp), f)
    for i in range(out_size):
        center = f(float(s) * (i + 0.5))
        lo = max(int(float(center - support) + 0.5), 0)
        size = min(int(float(center + support) + 0.5), in_size) - lo
        size = min(max(size, 0), max_interp)
        total = f(0.0)
        row = []
        for j in range(size):
            arg = f((float(f(j + lo) - center) + 0.5) * float(invscale))
            wj = f(filt(arg, f))
            row.append(wj)
            total = f(total + wj)
        if total != 0.0:
            row = [f(v / total) for v in row]
        xmin[i], xsize[i] = lo, size
        w[i, :size] = row
    return xmin, xsize, w


def _pass(a: np.ndarray, axis: int, xmin: np.ndarray, xsize: np.ndarray, w: np.ndarray) -> np.ndarray:
    """One axis resampled: out[..., i] = a[..., xmin[i]] * w[i, 0], then += a[..., xmin[i] + j] * w[i, j]."""
    a = np.moveaxis(a, axis, -1)
    n = a.shape[-1]
    idx = np.minimum(xmin[:, None] + np.arange(w.shape[1])[None, :], n - 1)
    # torch's compiled loop over taps 1.. runs in blocks of a 16-byte vector's lanes with the products rounded
    # before each add (in order), and the remainder with each product fused into its add
    block = 16 // a.dtype.itemsize  # (four floats, two doubles)
    fused_from = 1 + (xsize - 1) // block * block
    acc = a[..., idx[:, 0]] * w[:, 0]
    for j in range(1, w.shape[1]):
        taps = a[..., idx[:, j]]
        fused = fma(taps, np.broadcast_to(w[:, j], taps.shape), acc)
        summed = np.where(j < fused_from, acc + taps * w[:, j], fused)
        acc = np.where(j < xsize, summed, acc)
    return np.ascontiguousarray(np.moveaxis(acc, -1, axis))


def _contributions(xmin: np.ndarray, xsize: np.ndarray, w: np.ndarray, in_size: int) -> tuple:
    """For each input index, the outputs whose window holds it, in output order: (out index, weight, valid),
    each of shape [in_size, most]."""
    lists: list[list] = [[] for _ in range(in_size)]
    for o in range(len(xmin)):
        for j in range(int(xsize[o])):
            lists[int(xmin[o]) + j].append((o, w[o, j]))
    most = max(1, max(len(c) for c in lists))
    outs = np.zeros((in_size, most), np.int64)
    wts = np.zeros((in_size, most), w.dtype)
    valid = np.zeros((in_size, most), bool)
    for i, c in enumerate(lists):
        for k, (o, wv) in enumerate(c):
            outs[i, k], wts[i, k], valid[i, k] = o, wv, True
    return outs, wts, valid


def _backward(g: np.ndarray, in_hw: tuple, ys: tuple, xs: tuple) -> np.ndarray:
    """cpu_upsample_genNd_backward_aa: grad_input[c, ymin + y, xmin + x] += wx[x] * wy[y] * g[c, oh, ow], for oh,
    then ow, in order (each input cell sums its terms in (oh, ow) order)."""
    ih, iw = in_hw
    oy, wy, vy = _contributions(*ys, ih)
    ox, wx, vx = _contributions(*xs, iw)
    acc = np.zeros(g.shape[:-2] + (ih, iw), g.dtype)
    for ky in range(oy.shape[1]):
        for kx in range(ox.shape[1]):
            valid = vy[:, ky][:, None] & vx[:, kx][None, :]
            if not valid.any():
                continue
            weight = wx[:, kx][None, :] * wy[:, ky][:, None]  # (wx[x] * wy[y], then times the gradient, fused)
            terms = g[..., oy[:, ky][:, None], ox[:, kx][None, :]]
            acc = np.where(valid, fma(np.broadcast_to(weight, terms.shape), terms, acc), acc)
    return acc


def _aa_bw(self: Any, grad: Tensor, in_hw: tuple, ys: tuple, xs: tuple) -> tuple:
    from engine.backend import host
    from engine.tensor import wrap

    g = np.ascontiguousarray(host(grad._data))
    r = _backward(g, in_hw, ys, xs)
    return (wrap(grad._dev.xp.asarray(r), grad._dev),)


_NODE_CLASSES = {mode: node_class(name, _aa_bw) for mode, name in _NODES.items()}


def check_dtype(input: Tensor, mode: str) -> None:  # noqa: A002
    """torch's kernels take float and double only (uint8 has a fixed-point path of its own, not reproduced)."""
    if mode not in _INTERP:  # (torch 2.13's lanczos: its filter is not reproduced here)
        raise NotImplementedError(f"the engine's interpolate has no antialiased {mode} mode")
    d = input._data
    if d.dtype not in (np.float32, np.float64) or getattr(d.dtype, "metadata", None):
        from engine.dtypes import FROM_NP

        if d.dtype == np.uint8:
            raise NotImplementedError(
                f"the engine's antialiased {mode} interpolate of a uint8 image is not torch's fixed-point one; "
                "interpolate image.float() and round"
            )
        name = "BFloat16" if getattr(d.dtype, "metadata", None) else FROM_NP[d.dtype].scalar_name()
        raise NotImplementedError(f"\"compute_index_ranges_weights\" not implemented for '{name}'")


def interpolate_aa(input: Tensor, out_size: list, scales: list, mode: str, align_corners: bool) -> Tensor:  # noqa: A002
    """The antialiased resize of a 4-d tensor to out_size (scales: the given scale factors, or None each)."""
    from engine.backend import host

    check_dtype(input, mode)
    d = input._data
    f = d.dtype.type
    a = np.asarray(host(d))
    ih, iw = a.shape[2:]
    oh, ow = out_size
    ys = _weights(ih, oh, mode, align_corners, scales[0], f)
    xs = _weights(iw, ow, mode, align_corners, scales[1], f)
    fmt = suggest(d.shape, elem_strides(d))  # (the output takes the input's suggested memory format)
    r = a.copy() if (ih, iw) == (oh, ow) else a
    if iw != ow:
        r = _pass(r, 3, *xs)
    if ih != oh:
        r = _pass(r, 2, *ys)
        if ow == 1 and (fmt is contiguous_format or a.shape[1] == 1):
            # torch's vertical pass assumes its inner loop runs along a row, where every element shares one
            # window; with a one-column output its loop runs down the column instead and each row repeats the
            # first (torch 2.13 gives interpolate(x, (4, 1), antialias=True) four equal rows): kept, as torch's
            r = np.broadcast_to(r[:, :, :1, :], r.shape)
    out = input._dev.xp.asarray(relaid(np, r, fmt))
    return record(_NODE_CLASSES[mode], out, input._dev, (input,), ((ih, iw), ys, xs), (None, None, None))
