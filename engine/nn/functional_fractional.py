"""torch.nn.functional's fractional max pooling (Graham's pseudo-random windows), 2-d and 3-d.

torch draws one sample in [0, 1) per plane and spatial dim (`torch.rand(n, C, nd)`, so a seeded run draws
torch's numbers) unless `_random_samples` is given; each dim's window starts are ATen's generate_intervals,
computed in the input's dtype as the kernel computes them:
start[i] = int((i + u) * alpha) - int(u * alpha), alpha = (in - k) / (out - 1), and the last start is in - k.
The 2-d kernel reads a plane's samples as (W, H), the 3-d one as (T, H, W). Each window keeps its first maximum
in row-major order (a nan wins); indices are flat positions in the input plane, and the backward scatters by
them (FractionalMaxPool2DBackward0, FractionalMaxPool3DBackward0)."""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np

from engine.nn.spatial import not_for, shape_text, with_indices
from engine.tensor import Tensor


def _tuple(v: Any, nd: int) -> tuple:
    return tuple(v) if isinstance(v, (tuple, list)) else (v,) * nd


def _starts(u: Any, size: int, out: int, k: int, dt: Any) -> Any:
    """ATen's generate_intervals for every plane at once: u (planes,) -> starts (planes, out)."""
    seq = np.empty((u.shape[0], out), dtype=np.int64)
    if out > 1:
        alpha = dt.type(size - k) / dt.type(out - 1)
        i = np.arange(out - 1, dtype=dt)[None, :]
        uu = u[:, None].astype(dt)
        with np.errstate(invalid="ignore", over="ignore"):
            seq[:, :-1] = ((i + uu) * alpha).astype(dt).astype(np.int64) - (uu * alpha).astype(dt).astype(np.int64)
    if out > 0:
        seq[:, -1] = size - k
    return seq


def _fractional(nd: int, input: Tensor, kernel_size: Any, output_size: Any, output_ratio: Any,  # noqa: A002
                return_indices: bool, _random_samples: Any) -> Any:  # fmt: skip
    fname = f"fractional_max_pool{nd}d"
    if output_size is None and output_ratio is None:
        raise ValueError(f"{fname} requires specifying either an output_size or an output_ratio")
    shape = tuple(input._data.shape)
    if output_size is None:
        if nd == 2 and len(output_ratio) > 2:  # (torch's 2-d check: len() of a float ratio is its TypeError)
            raise ValueError(f"{fname} requires output_ratio to either be a single Int or tuple of Ints.")
        ratio = _tuple(output_ratio, nd)
        output_size = [int(shape[-nd + i] * ratio[i]) for i in range(nd)]
    if _random_samples is None:
        from engine.creation import rand

        n_batch = 1 if input.dim() == nd + 1 else shape[0]
        _random_samples = rand(n_batch, input.size(-nd - 1), nd, dtype=input.dtype, device=input.device)
    k = _tuple(kernel_size, nd)
    o = _tuple(output_size, nd)
    if len(k) != nd:
        raise RuntimeError(f"{fname}: kernel_size must either be a single int, or a tuple of {nd} ints")
    if len(o) != nd:
        raise RuntimeError(f"{fname}: output_size must either be a single int, or a tuple of {nd} ints")
    if input.dim() not in (nd + 1, nd + 2):
        raise RuntimeError(f"{fname}(): Expected {nd + 1}D or {nd + 2}D tensor, but got: {shape_text(shape)}")
    if any(s <= 0 for s in shape[1:]):
        raise RuntimeError(
            f"{fname}(): Expected input to have non-zero size for non-batch dimensions, but got "
            f"{shape_text(shape)} with dimension {[i for i, s in enumerate(shape) if s <= 0][0]} being empty"
        )
    names = ("height", "width") if nd == 2 else ("time", "height", "width")
    for name, oo, kk, ii in zip(names, o, k, shape[-nd:]):
        if oo + kk - 1 > ii or (nd == 3 and oo + kk - 1 == ii):  # (the 3-d kernel's check is strict)
            raise RuntimeError(
                f"{fname}{'()' if nd == 2 else '_out()'}: pool {name} {kk} too large relative to input {name} {ii}"
            )
    not_for(f"{fname}_out_frame", input, "f")
    a = input._data
    batched = a if a.ndim == nd + 2 else a[None]
    n, c = batched.shape[:2]
    sizes = batched.shape[2:]
    host = np.asarray(_random_samples._data if isinstance(_random_samples, Tensor) else _random_samples)
    if host.ndim != 3 or host.shape[0] < n or host.shape[1] < c or host.shape[2] < nd:
        raise RuntimeError(f"{fname}(): expected _random_samples of shape {shape_text((n, c, nd))}, but got "
                           f"{shape_text(host.shape)}")  # fmt: skip
    host = host[:n, :c]
    dt = host.dtype if host.dtype.kind == "f" else np.dtype(np.float32)
    u = host.reshape(n * c, -1)
    order = (1, 0) if nd == 2 else (0, 1, 2)  # which sample each spatial dim (H, W or T, H, W) reads
    starts = [_starts(u[:, order[d]], sizes[d], o[d], k[d], dt) for d in range(nd)]
    xp = input._dev.xp
    planes = xp.asarray(batched.reshape(n * c, -1))
    strides = [int(np.prod(sizes[d + 1 :])) for d in range(nd)]
    # per output cell: its window's first flat position, broadcast over (planes, *o)
    base = np.zeros((n * c, *o), dtype=np.int64)
    for d in range(nd):
        shp = [n * c] + [1] * nd
        shp[1 + d] = o[d]
        base = base + starts[d].reshape(shp) * strides[d]
    rows = np.arange(n * c).reshape([n * c] + [1] * nd)
    best = xp.full((n * c, *o), -np.inf, dtype=a.dtype)
    idx = xp.asarray(base)
    for offs in itertools.product(*(range(kk) for kk in k)):
        flat = base + sum(j * s for j, s in zip(offs, strides))
        v = planes[xp.asarray(rows), xp.asarray(flat)]
        upd = (v > best) | xp.isnan(v)
        best = xp.where(upd, v, best)
        idx = xp.where(upd, xp.asarray(flat), idx)
    out = best.reshape((n, c, *o))
    idx = xp.ascontiguousarray(idx.reshape((n, c, *o)))
    if a.ndim == nd + 1:
        out, idx = out[0], idx[0]
    r = with_indices(f"FractionalMaxPool{nd}DBackward0", input, xp.ascontiguousarray(out), idx, nd, False)
    return r if return_indices else r[0]


def fractional_max_pool2d(input: Tensor, kernel_size: Any, output_size: Any = None, output_ratio: Any = None,  # noqa: A002
                          return_indices: bool = False, _random_samples: Any = None) -> Any:  # fmt: skip
    return _fractional(2, input, kernel_size, output_size, output_ratio, return_indices, _random_samples)


def fractional_max_pool3d(input: Tensor, kernel_size: Any, output_size: Any = None, output_ratio: Any = None,  # noqa: A002
                          return_indices: bool = False, _random_samples: Any = None) -> Any:  # fmt: skip
    return _fractional(3, input, kernel_size, output_size, output_ratio, return_indices, _random_samples)


def fractional_max_pool2d_with_indices(input: Tensor, kernel_size: Any, output_size: Any = None,  # noqa: A002
                                       output_ratio: Any = None, return_indices: bool = False,
                                       _random_samples: Any = None) -> Any:  # fmt: skip
    return _fractional(2, input, kernel_size, output_size, output_ratio, True, _random_samples)


def fractional_max_pool3d_with_indices(input: Tensor, kernel_size: Any, output_size: Any = None,  # noqa: A002
                                       output_ratio: Any = None, return_indices: bool = False,
                                       _random_samples: Any = None) -> Any:  # fmt: skip
    return _fractional(3, input, kernel_size, output_size, output_ratio, True, _random_samples)


FUNCTIONS = {
    "fractional_max_pool2d": fractional_max_pool2d,
    "fractional_max_pool3d": fractional_max_pool3d,
    "fractional_max_pool2d_with_indices": fractional_max_pool2d_with_indices,
    "fractional_max_pool3d_with_indices": fractional_max_pool3d_with_indices,
}
