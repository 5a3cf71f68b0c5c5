"""torch.nn.functional.grid_sample (torch.grid_sampler) over 4-d and 5-d input, and affine_grid
(torch.affine_grid_generator): the Spatial Transformer Network's sampler.

Each output position reads the input at the grid's coordinates ([-1, 1] across the input, unnormalized to pixel
positions as align_corners says), padded as padding_mode says: zeros outside, the border repeated, or the
coordinate reflected back inside. The arithmetic is torch's cpu kernels': the 2-d one is vectorized
(aten/src/ATen/native/cpu/GridSamplerKernel.cpp: corner weights from the distances to the cell's sides,
`nw * v_nw + ne * v_ne + ...` contracted into fused multiply-adds, reflection by a truncated count of double
flips), the 3-d one scalar (native/GridSampler.cpp: weights from the far corner's position, the corners added
one by one, reflection by fmod, non-finite coordinates sent to -100). float16 takes the scalar kernel in
half arithmetic.

The gradients are the kernels' backward (grid_sampler_2d_backward): the input's is each output's gradient
scattered back with the weights it was read with, the grid's is the weights' derivative against the values
read, times the unnormalization's (and padding's) derivative. Under create_graph they are taken through the
same sampling written with engine ops (`_sampled`), so that they can be differentiated again.
"""

from __future__ import annotations

import itertools
import math
import warnings
from typing import Any

import numpy as np

from engine.amp.policy import policy as autocast_policy
from engine.grad_mode import ENABLED, enable_grad
from engine.nn.spatial import shape_text
from engine.ops.fma import fma
from engine.ops.util import add_at, node_class, record
from engine.ops.util import saved as saved_versions
from engine.tensor import Tensor, wrap
from engine.warn import user_stacklevel

_MODES = {"bilinear": 0, "nearest": 1, "bicubic": 2}
_PADDINGS = {"zeros": 0, "border": 1, "reflection": 2}
_A = -0.75  # the cubic convolution's parameter, as in torch's bicubic modes
_ALIGN_WARNING = (
    "Default grid_sample and affine_grid behavior has changed to align_corners=False since 1.3.0. Please specify "
    "align_corners=True if the old behavior is desired. See the documentation of grid_sample for details."
)


# ---- coordinates --------------------------------------------------------------------------------------------


def _unnormalize(xp: Any, c: Any, size: int, align: bool, vectorized: bool = True) -> Any:
    """[-1, 1] to pixel positions: [0, size - 1] (align_corners) or [-0.5, size - 0.5]. The vectorized kernel
    (built with FMA) computes the latter as one fused multiply-add; the scalar one (built without) does not."""
    ct = c.dtype.type
    if align:
        return (c + ct(1)) * ct((size - 1) / 2)
    if not vectorized:
        return ((c + ct(1)) * ct(size) - ct(1)) / ct(2)
    return fma(c + ct(1), xp.full(c.shape, size / 2, dtype=c.dtype), xp.full(c.shape, -0.5, dtype=c.dtype))


def _clip(xp: Any, c: Any, size: int, vectorized: bool) -> tuple:
    """The coordinate clipped to [0, size - 1], and where its derivative is 1 (strictly inside). The scalar
    kernel's std::min(max, std::max(c, 0)) takes a nan to the far edge; the vectorized one keeps it."""
    ct = c.dtype.type
    hi = ct(size - 1)
    out = xp.minimum(xp.maximum(c, ct(0)), hi) if vectorized else xp.where(xp.isnan(c), hi, xp.clip(c, 0, hi))
    return out, (c > 0) & (c < hi)


def _reflect(xp: Any, c: Any, size: int, align: bool, vectorized: bool) -> tuple:
    """The coordinate reflected into [low, low + span] (low 0 and span size - 1 with align_corners, else -0.5
    and size), and the reflection's derivative (+1 or -1)."""
    ct = c.dtype.type
    low, span = (0.0, size - 1) if align else (-0.5, size)
    if align and size <= 1:
        return xp.zeros_like(c), xp.zeros_like(c)
    shifted = c - ct(low)
    a = xp.abs(shifted)
    if vectorized:  # a count of double flips, truncated; one more flip where past the far edge
        twice = ct(2 * span)
        flips = xp.trunc(a / twice)
        extra = fma(-flips, xp.full(a.shape, twice, dtype=a.dtype), a)
        other = twice - extra
        more = extra > other
        out = xp.where(more, other, extra) + ct(low)
        sign = xp.where(more ^ (shifted < 0), ct(-1), ct(1))
    else:  # fmod, and the parity of floor(a / span)
        extra = xp.fmod(a, ct(span))
        odd = xp.floor(a / ct(span)) % 2 == 1
        out = xp.where(odd, ct(span) - extra, extra) + ct(low)
        sign = xp.where(odd ^ (shifted < 0), ct(-1), ct(1))
    return out, sign


def _pad(xp: Any, c: Any, size: int, padding: int, align: bool, vectorized: bool) -> tuple:
    """Pixel coordinates after padding, and the padding's derivative."""
    if padding == 0:
        return c, None
    sign = None
    if padding == 2:
        c, sign = _reflect(xp, c, size, align, vectorized)
    c, inside = _clip(xp, c, size, vectorized)
    ct = c.dtype.type
    mult = inside.astype(c.dtype) if sign is None else xp.where(inside, sign, ct(0))
    return c, mult


def _source(xp: Any, g: Any, sizes: tuple, padding: int, align: bool, vectorized: bool) -> tuple:
    """Per spatial dim (x first, as the grid's last axis holds them): the pixel coordinate and d coordinate /
    d grid."""
    coords, mults = [], []
    for d, size in enumerate(sizes):
        u = _unnormalize(xp, g[..., d], size, align, vectorized)
        c, m = _pad(xp, u, size, padding, align, vectorized)
        if not vectorized:  # safe_downgrade_to_int_range: a coordinate no int holds reads nothing
            c = xp.where(xp.isfinite(c) & (xp.abs(c) < 2.0**31), c, c.dtype.type(-100))
        coords.append(c)
        scale = (size - 1) / 2 if align else size / 2
        mults.append(xp.full(c.shape, scale, dtype=c.dtype) if m is None else m * c.dtype.type(scale))
    return coords, mults


def _to_int(xp: Any, c: Any) -> Any:
    """A float index as an int, as cvttps/static_cast give it; a nan or one out of range becomes INT_MIN
    (then out of bounds)."""
    ok = xp.isfinite(c) & (xp.abs(c) < 2.0**31)
    return xp.where(ok, xp.where(ok, c, 0).astype(np.int64), -(2**31))


# ---- the taps each output reads -----------------------------------------------------------------------------


def _linear_taps(xp: Any, coords: list, sizes: tuple, vectorized: bool) -> list:
    """Bilinear / trilinear: per corner (the last dim's offset varying fastest, the kernels' order), the
    per-dim index and (low, high) distance parts of its weight."""
    parts = []
    for c in coords:
        fl = xp.floor(c)
        w = c - fl
        # the vectorized kernel's near-side distance is 1 - w; the scalar one's (floor + 1) - c
        near = c.dtype.type(1) - w if vectorized else (fl + c.dtype.type(1)) - c
        parts.append((_to_int(xp, fl), near, w))
    taps = []
    for bits in itertools.product((0, 1), repeat=len(coords)):  # (outer dim first: z, y, x)
        idx = [parts[d][0] + b for d, b in zip(range(len(coords) - 1, -1, -1), bits)]
        sel = [parts[d][2] if b else parts[d][1] for d, b in zip(range(len(coords) - 1, -1, -1), bits)]
        taps.append((idx[::-1], sel[::-1], bits[::-1]))  # (back to x first)
    return taps


def _weight(parts: list, vectorized: bool) -> Any:
    """A corner's weight: the vectorized kernel multiplies the y part by the x part, the scalar one x * y * z."""
    if vectorized:
        return parts[1] * parts[0]
    w = parts[0]
    for p in parts[1:]:
        w = w * p
    return w


def _cubic(xp: Any, t: Any) -> list:
    """The four cubic convolution weights for offset t in [0, 1). (torch's vectorized bicubic is matched to
    rounding, not bit for bit: these contractions come closest.)"""
    ct = t.dtype.type

    def near(x: Any) -> Any:  # |x| <= 1: ((A + 2) x - (A + 3)) x x + 1
        full = xp.full(t.shape, 1.0, dtype=t.dtype)
        if t.dtype == np.float16:  # (the scalar kernel, in half arithmetic)
            return ((ct(_A + 2) * x - ct(_A + 3)) * x) * x + ct(1)
        return fma(fma(full * ct(_A + 2), x, full * ct(-(_A + 3))) * x, x, full)

    def far(x: Any) -> Any:  # 1 < |x| < 2: ((A x - 5A) x + 8A) x - 4A
        return ((ct(_A) * x - ct(5 * _A)) * x + ct(8 * _A)) * x - ct(4 * _A)

    return [far(t + ct(1)), near(t), near(ct(1) - t), far(ct(2) - t)]


def _cubic_grad(xp: Any, t: Any) -> list:
    """d weight / d t of the four cubic weights."""
    ct = t.dtype.type
    a = ct(_A)
    x0, x1, x2, x3 = ct(-1) - t, -t, ct(1) - t, ct(2) - t
    return [
        (ct(-3) * a * x0 - ct(10) * a) * x0 - ct(8) * a,
        (ct(-3) * (a + ct(2)) * x1 - ct(2) * (a + ct(3))) * x1,
        (ct(3) * (a + ct(2)) * x2 - ct(2) * (a + ct(3))) * x2,
        (ct(3) * a * x3 - ct(10) * a) * x3 + ct(8) * a,
    ]


class _Geometry:
    """What forward and backward share for one call: the input's spatial sizes and the grid's positions as
    flat indices with their masks and weights."""

    def __init__(self, xp: Any, shape: tuple, g: Any, mode: int, padding: int, align: bool) -> None:
        self.xp, self.shape, self.mode, self.padding, self.align = xp, shape, mode, padding, align
        nd = len(shape) - 2
        self.sizes = tuple(reversed(shape[2:]))  # (W, H[, D]): the grid's coordinate order
        # float16 takes the scalar fallback kernel, in half arithmetic (each operation rounded to half)
        self.vectorized = nd == 2 and g.dtype != np.float16
        if mode == 2:  # bicubic: the padding applies to each tap, not to the coordinate
            self.coords = [_unnormalize(xp, g[..., d], s, align, self.vectorized) for d, s in enumerate(self.sizes)]
            self.mults = [xp.full(c.shape, (s - 1) / 2 if align else s / 2, dtype=c.dtype)
                          for c, s in zip(self.coords, self.sizes)]  # fmt: skip
        else:
            self.coords, self.mults = _source(xp, g, self.sizes, padding, align, self.vectorized)

    def flat(self, idx: list) -> tuple:
        """Per-batch flat spatial positions of a tap and whether it lies inside (out-of-bounds taps read 0)."""
        xp = self.xp
        inside = None
        pos = None
        stride = 1
        for i, s in zip(idx, self.sizes):
            ok = (i > -1) & (i < s)
            inside = ok if inside is None else inside & ok
            term = xp.where(ok, i, 0) * stride
            pos = term if pos is None else pos + term
            stride *= s
        return pos, inside

    def taps(self) -> list:
        """Nearest's and bilinear's (flat position, inside, weight) per tap, in the kernel's order."""
        xp = self.xp
        if self.mode == 1:
            pos, inside = self.flat([_to_int(xp, xp.rint(c)) for c in self.coords])
            return [(pos, inside, None)]
        out = []
        for idx, parts, _ in _linear_taps(xp, self.coords, self.sizes, self.vectorized):
            pos, inside = self.flat(idx)
            out.append((pos, inside, _weight(parts, self.vectorized)))
        return out

    def cubic_taps(self) -> list:
        """Bicubic's 16 taps (rows of four along x): each padded as padding_mode says, with the x and y
        weights and their derivatives."""
        xp = self.xp
        (x, y), (sw, sh) = self.coords, self.sizes
        fx, fy = xp.floor(x), xp.floor(y)
        cx, cy = _cubic(xp, x - fx), _cubic(xp, y - fy)
        gx, gy = _cubic_grad(xp, x - fx), _cubic_grad(xp, y - fy)
        out = []
        for j in range(4):
            for i in range(4):
                tx, _ = _pad(xp, fx + x.dtype.type(i - 1), sw, self.padding, self.align, self.vectorized)
                ty, _ = _pad(xp, fy + y.dtype.type(j - 1), sh, self.padding, self.align, self.vectorized)
                pos, inside = self.flat([_to_int(xp, tx), _to_int(xp, ty)])
                out.append((pos, inside, cx[i], cy[j], gx[i], gy[j]))
        return out


def _gather(xp: Any, planes: Any, pos: Any, inside: Any) -> Any:
    """planes (N, C, P) read at pos (N, *out) -> (N, C, *out), 0 where not inside."""
    n, c, _ = planes.shape
    flat = pos.reshape(n, 1, -1)
    v = xp.take_along_axis(planes, xp.broadcast_to(flat, (n, c, flat.shape[-1])), axis=2)
    v = v.reshape((n, c) + pos.shape[1:])
    return xp.where(inside[:, None], v, v.dtype.type(0))


def _forward(geo: _Geometry, a: Any) -> Any:
    xp = geo.xp
    planes = a.reshape(a.shape[0], a.shape[1], -1)
    if geo.mode == 2:  # rows along x, then the rows along y
        cubic = geo.cubic_taps()
        rows = []
        for j in range(4):
            row = [(_gather(xp, planes, p, ins), cx[:, None]) for p, ins, cx, _, _, _ in cubic[4 * j : 4 * j + 4]]
            rows.append(sum(v * w for v, w in row))
        return sum(r * cubic[4 * j][3][:, None] for j, r in enumerate(rows))
    taps = geo.taps()
    if geo.mode == 1:
        pos, inside, _ = taps[0]
        return _gather(xp, planes, pos, inside)
    vals = [(_gather(xp, planes, pos, inside), w[:, None]) for pos, inside, w in taps]
    acc = vals[0][0] * vals[0][1]
    for v, w in vals[1:]:
        if geo.vectorized:  # `v0 * w0 + v1 * w1 + ...` contracted: fma(v1, w1, v0 * w0), then each fused on
            acc = fma(v, xp.broadcast_to(w, v.shape), acc)
        else:  # the scalar kernel (built without FMA): out = 0; out += v * w per corner
            acc = acc + v * w
    return acc


def _bilinear_grid_grad(xp: Any, coords: list, vals: list, go: Any) -> list:
    """The 2-d vectorized kernel's grid gradient, channel by channel:
    gx += ((ne - nw) * s + (se - sw) * n) * gOut, gy += ((sw - nw) * e + (se - ne) * w) * gOut, contracted."""
    (x, y), (nw, ne, sw, se) = coords, vals
    wd = x - xp.floor(x)
    nd_ = y - xp.floor(y)
    e, s = wd.dtype.type(1) - wd, nd_.dtype.type(1) - nd_
    gx, gy = xp.zeros_like(x), xp.zeros_like(y)
    for c in range(go.shape[1]):
        g = go[:, c]
        dx = fma(se[:, c] - sw[:, c], nd_, (ne[:, c] - nw[:, c]) * s)
        dy = fma(se[:, c] - ne[:, c], wd, (sw[:, c] - nw[:, c]) * e)
        gx, gy = fma(dx, g, gx), fma(dy, g, gy)
    return [gx, gy]


def _scatter(xp: Any, gin: Any, taps: list, lanes: int) -> None:
    """Each tap's (flat position, inside, contribution (N, C, *out)) added into gin (N, C, P) in the kernel's
    order, which decides the rounding where taps meet: chunk by chunk of `lanes` output positions (the
    vectorized kernel's width; 1 for the scalar kernel, which goes position by position), tap by tap within a
    chunk. Taps outside add -0.0 at position 0, which changes nothing."""
    n, c = gin.shape[:2]
    count = len(taps)
    m = math.prod(taps[0][0].shape[1:])
    chunks = -(-m // lanes)
    pad = chunks * lanes - m
    where = xp.stack([xp.where(inside, pos, 0).reshape(n, m) for pos, inside, _ in taps])  # (T, N, M)
    vals = xp.stack([xp.where(inside[:, None], v, v.dtype.type(-0.0)).reshape(n, c, m) for _, inside, v in taps])
    if pad:
        where = xp.concatenate([where, xp.zeros((count, n, pad), dtype=where.dtype)], axis=2)
        vals = xp.concatenate([vals, xp.full((count, n, c, pad), -0.0, dtype=vals.dtype)], axis=3)
    where = where.reshape(count, n, 1, chunks, lanes).transpose(1, 2, 3, 0, 4)
    vals = vals.reshape(count, n, c, chunks, lanes).transpose(1, 2, 3, 0, 4).reshape(n, c, -1)
    where = xp.broadcast_to(where, (n, c, chunks, count, lanes)).reshape(n, c, -1)
    rows = xp.broadcast_to(xp.arange(n)[:, None, None], where.shape)
    chans = xp.broadcast_to(xp.arange(c)[None, :, None], where.shape)
    add_at(xp, gin, (rows, chans, where), vals)


def _backward(geo: _Geometry, a: Any, go: Any, need_input: bool) -> tuple:
    """(grad_input, grad_grid) as arrays, in the input's dtype."""
    xp = geo.xp
    n, c = a.shape[:2]
    planes = a.reshape(n, c, -1)
    nd = len(geo.sizes)
    # (torch's vectorized kernel runs 256 bits at a time: its AVX2 build)
    lanes = 32 // a.dtype.itemsize if geo.vectorized else 1
    scattered: list = []
    ggrid = [xp.zeros(geo.coords[0].shape, dtype=a.dtype) for _ in range(nd)]
    if geo.mode == 1:
        pos, inside, _ = geo.taps()[0]
        scattered.append((pos, inside, go))
    elif geo.mode == 0:
        vals, corners = [], []
        for idx, parts, bits in _linear_taps(xp, geo.coords, geo.sizes, geo.vectorized):
            pos, inside = geo.flat(idx)
            scattered.append((pos, inside, go * _weight(parts, geo.vectorized)[:, None]))
            vals.append(_gather(xp, planes, pos, inside))
            corners.append((parts, bits))
        if geo.vectorized:
            ggrid = _bilinear_grid_grad(xp, geo.coords, vals, go)
        else:  # channel by channel, corner by corner: g_d -+= value * (the other dims' parts) * gOut
            for ch in range(c):
                g = go[:, ch]
                for v, (parts, bits) in zip(vals, corners):
                    for d in range(nd):
                        term = v[:, ch]
                        for e in range(nd):
                            if e != d:
                                term = term * parts[e]
                        term = term * g
                        ggrid[d] = ggrid[d] + term if bits[d] else ggrid[d] - term
    else:
        taps = geo.cubic_taps()
        for k in range(16):  # (the kernel adds column by column: x offset outer, y offset inner)
            pos, inside, cx, cy, dx, dy = taps[4 * (k % 4) + k // 4]
            scattered.append((pos, inside, go * cx[:, None] * cy[:, None]))
            v = (_gather(xp, planes, pos, inside) * go).sum(axis=1)
            ggrid[0] = ggrid[0] - v * dx * cy
            ggrid[1] = ggrid[1] - v * dy * cx
    gin = None
    if need_input:
        gin = xp.zeros_like(planes)
        if scattered[0][0].size:
            _scatter(xp, gin, scattered, lanes)
        gin = gin.reshape(a.shape)
    gg = xp.stack([g * m for g, m in zip(ggrid, geo.mults)], axis=-1)
    return gin, gg


# ---- the same sampling in engine ops (for create_graph) -----------------------------------------------------


def _sampled(input: Tensor, grid: Tensor, geo: _Geometry) -> Tensor:  # noqa: A002
    """grid_sample's value as engine ops on input and grid (the taps' positions fixed, their weights and the
    coordinates' padding taken through the grid), so that its gradients can be differentiated again."""
    from engine.ops.index import stack

    n, c = input.shape[0], input.shape[1]
    planes = input.reshape(n, c, -1)
    coords = []
    for d, size in enumerate(geo.sizes):
        u = (grid[..., d] + 1) * ((size - 1) / 2) if geo.align else (grid[..., d] + 1) * (size / 2) - 0.5
        if geo.mode != 2 and geo.padding:
            if geo.padding == 2 and not (geo.align and size <= 1):
                low, span = (0.0, size - 1) if geo.align else (-0.5, size)
                e = (u - low).abs().remainder(2 * span)
                u = stack([e, 2 * span - e]).min(0).values + low
            u = u.clamp(0, size - 1)
        coords.append(u)

    def read(pos: Any, inside: Any) -> Tensor:
        idx = wrap(geo.xp.broadcast_to(pos.reshape(n, 1, -1), (n, c, pos[0].size)).copy(), input._dev)
        v = planes.gather(2, idx).reshape((n, c) + pos.shape[1:])
        return v * wrap(inside[:, None].astype(input._data.dtype), input._dev)

    if geo.mode == 1:
        pos, inside, _ = geo.taps()[0]
        return read(pos, inside)
    total = None
    if geo.mode == 0:
        xp = geo.xp
        floors = [wrap(xp.floor(c), input._dev) for c in geo.coords]
        for idx, _, bits in _linear_taps(xp, geo.coords, geo.sizes, geo.vectorized):
            pos, inside = geo.flat(idx)
            w = None
            for u, f, b in zip(coords, floors, bits):
                part = (u - f) if b else (1 - (u - f))
                w = part if w is None else w * part
            term = read(pos, inside) * w.unsqueeze(1)
            total = term if total is None else total + term
        return total
    (x, y), t = coords, []
    for u, f in (
        (x, wrap(geo.xp.floor(geo.coords[0]), input._dev)),
        (y, wrap(geo.xp.floor(geo.coords[1]), input._dev)),
    ):
        s = u - f
        t.append(
            [_cubic_t(s + 1, far=True), _cubic_t(s, far=False), _cubic_t(1 - s, far=False), _cubic_t(2 - s, far=True)]
        )
    for k, (pos, inside, *_rest) in enumerate(geo.cubic_taps()):
        j, i = divmod(k, 4)
        term = read(pos, inside) * (t[0][i] * t[1][j]).unsqueeze(1)
        total = term if total is None else total + term
    return total


def _cubic_t(x: Tensor, far: bool) -> Tensor:
    if far:
        return ((_A * x - 5 * _A) * x + 8 * _A) * x - 4 * _A
    return ((_A + 2) * x - (_A + 3)) * x * x + 1


# ---- grid_sample ------------------------------------------------------------------------------------------


def _check(input: Tensor, grid: Tensor, mode: int) -> None:  # noqa: A002
    """torch's check_grid_sampler_common, then the 2-d or 3-d kernel's checks, dispatch and dtype checks."""
    s, gs = input._data.shape, grid._data.shape
    if s[0] != gs[0]:
        raise RuntimeError(
            "grid_sampler(): expected grid and input to have same batch size, but got input with sizes "
            f"{shape_text(s)} and grid with sizes {shape_text(gs)}"
        )
    if gs[-1] != len(s) - 2:
        raise RuntimeError(
            f"grid_sampler(): expected grid to have size {len(s) - 2} in last dimension, but got grid with sizes "
            f"{shape_text(gs)}"
        )
    for i in range(2, len(s)):
        if s[i] <= 0:
            raise RuntimeError(
                "grid_sampler(): expected input to have non-empty spatial dimensions, but input has sizes "
                f"{shape_text(s)} with dimension {i} being empty"
            )
    two = len(s) == 4
    if not two and not (len(s) == 5 and len(gs) == 5):
        raise RuntimeError(
            "grid_sampler(): expected 5D input and grid with same number of dimensions, but got input with sizes "
            f"{shape_text(s)} and grid with sizes {shape_text(gs)}"
        )
    if two and len(gs) != 4:
        raise RuntimeError(
            "grid_sampler(): expected 4D input and grid with same number of dimensions, but got input with sizes "
            f"{shape_text(s)} and grid with sizes {shape_text(gs)}"
        )
    if not two and mode == 2:
        raise RuntimeError("grid_sampler(): bicubic interpolation only supports 4D input")
    if input._data.dtype.kind != "f":
        kernel = "grid_sampler_2d_cpu_kernel_impl" if two else "grid_sampler3d_cpu"
        raise NotImplementedError(f"\"{kernel}\" not implemented for '{input.dtype.scalar_name()}'")
    if grid.dtype != input.dtype:
        raise RuntimeError(f"expected scalar type {input.dtype.scalar_name()} but found {grid.dtype.scalar_name()}")


def grid_sampler(input: Tensor, grid: Tensor, interpolation_mode: int, padding_mode: int,  # noqa: A002
                 align_corners: bool) -> Tensor:  # fmt: skip
    """torch.grid_sampler: the enum form grid_sample calls."""
    _check(input, grid, interpolation_mode)
    xp = input._dev.xp
    dtype = input._data.dtype
    a, g = input._data, grid._data
    geo = _Geometry(xp, a.shape, g, interpolation_mode, padding_mode, bool(align_corners))
    n, c = a.shape[:2]
    if n * c and g.size:
        out = _forward(geo, a)
    else:
        out = xp.zeros((n, c) + g.shape[1:-1], dtype=dtype)
    nd = len(a.shape) - 2

    def backward(self: Any, go: Tensor, x: Tensor, gr: Tensor) -> tuple:
        need_x, need_g = self._next[0] is not None, self._next[1] is not None
        if ENABLED[0] and (go._rg or x._rg or gr._rg):  # create_graph: through engine ops
            from engine.autograd import grad

            with enable_grad():
                value = _sampled(x, gr, geo)
            wanted = [t for t, need in ((x, need_x), (gr, need_g)) if need]
            got = iter(grad(value, wanted, go, create_graph=True, allow_unused=True))
            return tuple(next(got) if need else None for need in (need_x, need_g))
        dev = go._dev
        if not (a.size and g.size):
            return (wrap(xp.zeros_like(input._data), dev) if need_x else None), wrap(xp.zeros_like(grid._data), dev)
        gin, gg = _backward(geo, a, go._data.astype(dtype, copy=False), need_x)
        return (wrap(gin.astype(dtype), dev) if need_x else None), wrap(gg.astype(dtype), dev)

    cls = _NODES.get(nd)
    if cls is None:
        cls = _NODES[nd] = node_class(f"GridSampler{nd}DBackward0", lambda self, go, x, gr, bw: bw(self, go, x, gr))
    return record(cls, xp.ascontiguousarray(out.astype(dtype, copy=False)), input._dev, (input, grid),
                  (input, grid, backward), (*saved_versions(input, grid), None))  # fmt: skip


_NODES: dict = {}


@autocast_policy(cpu="fp32", cuda="promote")
def grid_sample(input: Tensor, grid: Tensor, mode: str = "bilinear", padding_mode: str = "zeros",  # noqa: A002
                align_corners: bool | None = None) -> Tensor:  # fmt: skip
    if mode not in _MODES:
        raise ValueError(
            f"nn.functional.grid_sample(): expected mode to be 'bilinear', 'nearest' or 'bicubic', but got: '{mode}'"
        )
    if padding_mode not in _PADDINGS:
        raise ValueError(
            "nn.functional.grid_sample(): expected padding_mode to be 'zeros', 'border', or 'reflection', but got: "
            f"'{padding_mode}'"
        )
    if align_corners is None:
        warnings.warn(_ALIGN_WARNING, UserWarning, stacklevel=user_stacklevel())
        align_corners = False
    return grid_sampler(input, grid, _MODES[mode], _PADDINGS[padding_mode], align_corners)


# ---- affine_grid ------------------------------------------------------------------------------------------


def _base_grid(theta: Tensor, sizes: list, align: bool) -> Tensor:
    """torch's make_base_grid_4D / 5D: (*sizes, k + 1) of linspace(-1, 1) per dim (x last-varying), then 1;
    without align_corners each linspace is scaled by (n - 1) / n, as `range * (n - 1) / n`."""
    from engine.creation import linspace, ones, tensor

    k = len(sizes)
    cols = []
    for d, n in enumerate(reversed(sizes)):  # x (the last size) first
        if n <= 1:
            r = tensor(0.0, dtype=theta.dtype, device=theta.device)
        else:
            r = linspace(-1, 1, n, dtype=theta.dtype, device=theta.device)
            if not align:
                r = r * (n - 1) / n
        view = [1] * k
        view[k - 1 - d] = -1 if n > 1 else 1
        cols.append(r.reshape(view).expand(*sizes))
    cols.append(ones(*sizes, dtype=theta.dtype, device=theta.device))
    from engine.ops.index import stack

    return stack(cols, -1)


def _affine_grid_backward(self: Any, g: Tensor, base: Tensor, n: int) -> tuple:
    """torch's affine_grid_generator backward: (base^T @ grad) transposed, batched."""
    k1 = base.shape[-1]
    flat = base.reshape(1, -1, k1).expand(n, -1, k1)
    return (flat.transpose(1, 2).bmm(g.reshape(n, -1, k1 - 1)).transpose(1, 2),)


_AffineGrid = node_class("AffineGridGeneratorBackward0", _affine_grid_backward)


def affine_grid_generator(theta: Tensor, size: Any, align_corners: bool) -> Tensor:
    """torch.affine_grid_generator: the base grid times theta transposed. torch's bmm of this k + 1 wide inner
    dim sums the products left to right, unfused, as done here."""
    from engine.grad_mode import no_grad

    size = [int(v) for v in size]
    if len(size) not in (4, 5):
        raise RuntimeError("AffineGridGenerator needs 4d (spatial) or 5d (volumetric) inputs.")
    n, sizes = size[0], size[2:]
    if theta._data.shape[0] != n:
        raise RuntimeError(
            f"Expected size for first two dimensions of batch2 tensor to be: [{n}, {len(sizes) + 1}] but got: "
            f"[{theta._data.shape[0]}, {len(sizes) + 1}]."
        )
    with no_grad():
        base = _base_grid(theta, sizes, bool(align_corners))
    b, t = base._data, theta._data
    lead = (n,) + (1,) * len(sizes)
    out = None
    for j in range(b.shape[-1]):
        term = b[None, ..., j, None] * t[:, :, j].reshape(*lead, -1)
        out = term if out is None else out + term
    out = theta._dev.xp.ascontiguousarray(out.astype(t.dtype, copy=False))
    return record(_AffineGrid, out, theta._dev, (theta,), (base, n), (None, None))


def affine_grid(theta: Tensor, size: Any, align_corners: bool | None = None) -> Tensor:
    if align_corners is None:
        warnings.warn(_ALIGN_WARNING, UserWarning, stacklevel=user_stacklevel())
        align_corners = False
    if not theta.is_floating_point():
        raise ValueError(f"Expected theta to have floating point type, but got {theta.dtype}")
    shown = theta.shape
    if len(size) == 4:
        if theta.dim() != 3 or theta.shape[-2] != 2 or theta.shape[-1] != 3:
            raise ValueError(f"Expected a batch of 2D affine matrices of shape Nx2x3 for size {size}. Got {shown}.")
        spatial = size[-2:]
    elif len(size) == 5:
        if theta.dim() != 3 or theta.shape[-2] != 3 or theta.shape[-1] != 4:
            raise ValueError(f"Expected a batch of 3D affine matrices of shape Nx3x4 for size {size}. Got {shown}.")
        spatial = size[-3:]
    else:
        raise NotImplementedError(
            "affine_grid only supports 4D and 5D sizes, for 2D and 3D affine transforms, respectively. "
            f"Got size {size}."
        )
    if align_corners and min(spatial) == 1:
        warnings.warn(
            "Since version 1.3.0, affine_grid behavior has changed for unit-size grids when align_corners=True. "
            "This is not an intended use case of affine_grid. See the documentation of affine_grid for details.",
            UserWarning,
            stacklevel=user_stacklevel(),
        )
    elif min(size) <= 0:
        raise ValueError(f"Expected non-zero, positive output size. Got {size}")
    return affine_grid_generator(theta, size, align_corners)


FUNCTIONS = {"grid_sample": grid_sample, "affine_grid": affine_grid}
TORCH_FUNCTIONS = {"grid_sampler": grid_sampler, "affine_grid_generator": affine_grid_generator}
