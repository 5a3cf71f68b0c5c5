"""torch.nn.functional's convolutions (1-d, 2-d and 3-d), padding, fold/unfold, pixel shuffle and interpolation
(pooling is engine/nn/functional_pool.py).

Each op runs as torch's one ATen kernel: the forward is array code on the device's xp (numpy or cupy), the
result carries torch's node (ConvolutionBackward0, ReflectionPad2DBackward0, ...), and the backward is written
with the same engine-level primitives, so a plain backward stays in array code while create_graph=True builds a
graph that can be differentiated again (torch's double-backward nodes: ConvolutionBackwardBackward0, ...).

Convolution, over any number of spatial dims: im2col (a strided window view of the padded input, copied once
into columns) and one batched matmul; the input gradient (= a transposed convolution) is matmul then col2im (a
loop over kernel offsets, each one strided add); the weight gradient is a batched matmul of the output
gradient with the columns. In exact mode (MKL loaded) a float32 conv2d that torch runs through oneDNN adds its
products in oneDNN's orders instead (engine/nn/conv_onednn.py; the forward of up to 16 channels and 160
products a sum: _onednn_conv; the input gradient at a stride, and so a strided transposed convolution's forward:
engine/nn/conv_onednn_strided.py; a kernel that covers the whole input: oneDNN's inner product, conv_onednn.ip_*),
and a float64 conv2d, or a float32 one torch runs natively (one small image), in torch's slow_conv2d's
(engine/nn/conv_native.py).
"""

from __future__ import annotations

import functools
import itertools
import math
import warnings
from collections.abc import Callable
from operator import ge, mul
from typing import Any, NamedTuple

import numpy as np

from engine.amp.policy import policy as autocast_policy
from engine.autograd import Node, next_seq
from engine.bf16 import plain, round_bits, to_bf16
from engine.dtypes import FROM_NP, bfloat16
from engine.grad_mode import ENABLED
from engine.multi_output import grads_of, port
from engine.naming import type_name
from engine.nn import conv_native, conv_onednn, conv_onednn_strided
from engine.nn import functional as _functional
from engine.nn.spatial import cpp_name, grad_node, not_for, op_node, pad_nd, run_in, shape_text, strided
from engine.ops import mkl
from engine.ops.memory_layout import follow_channels_last
from engine.ops.util import edge_of, node_class, parser_arg_text, parser_type_name, record
from engine.ops.util import saved as saved_versions
from engine.tensor import Tensor, wrap
from engine.warn import user_stacklevel

# ---- convolution: argument checks (torch's order and texts) ---------------------------------------------


class _Geo(NamedTuple):
    """A convolution's geometry: one value per spatial dim in each tuple."""

    stride: tuple
    padding: tuple
    dilation: tuple
    transposed: bool
    output_padding: tuple
    groups: int


def _int_list(value: Any, name: str, nd: int, fname: str) -> list:
    """Python's argument parser for an `IntArrayRef[nd]`: one int stands for nd of them."""
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        return [int(value)] * nd
    if isinstance(value, Tensor):
        value = value.tolist()
    if isinstance(value, (tuple, list)) and all(
        isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in value
    ):
        return [int(v) for v in value]
    raise TypeError(f"{fname}(): argument '{name}' must be tuple of ints, not {type_name(value)}")


def _expand(values: list, name: str, k: int) -> tuple:
    """ATen's expand_param_if_needed: one value for every spatial dim, or exactly one per dim."""
    if len(values) == 1:
        return tuple(values) * k
    if len(values) != k:
        raise RuntimeError(
            f"expected {name} to be a single integer value or a list of {k} values to match the convolution "
            f"dimensions, but got {name}={shape_text(values)}"
        )
    return tuple(values)


def _batchify(input: Tensor, nd: int, fname: str) -> tuple[Tensor, bool]:  # noqa: A002
    dim = input.dim()
    if dim not in (nd + 1, nd + 2):
        raise RuntimeError(
            f"Expected {nd + 1}D (unbatched) or {nd + 2}D (batched) input to {fname}, but got input of size: "
            f"{shape_text(input.shape)}"
        )
    return (input, True) if dim == nd + 2 else (input.unsqueeze(0), False)


_SAME_WARNED = [False]


def _slow_kernel_params(k: int, *params: tuple) -> tuple:
    """The parameters as the slow kernels' messages print them: a 1-d op is the 2-d kernel over a height of 1
    (stride and dilation 1, no output padding), named by height/width (and depth for 3-d)."""
    if k == 1:
        params = tuple((fill, *p) for fill, p in zip((1, 1, 0), params))
    names = ("depth", "height", "width")[-len(params[0]) :]
    return names, params


def _conv_checks(x: Tensor, w: Tensor, b: Tensor | None, stride: list, padding: list, dilation: list,
                 transposed: bool, output_padding: list, groups: int) -> _Geo:  # fmt: skip
    """at::_convolution's checks (check_shape_forward and the kernels'), in torch's order; the geometry."""
    wshape = w._data.shape
    k = len(wshape) - 2
    if k <= 0:
        raise RuntimeError("weight should have at least three dimensions")
    if groups <= 0:
        raise RuntimeError("non-positive groups is not supported")
    st = _expand(stride, "stride", k)
    pd = _expand(padding, "padding", k)
    dl = _expand(dilation, "dilation", k)
    op = _expand(output_padding, "output_padding", k)
    # (min over the per-dim tuples: these checks run on every call)
    if min(pd) < 0:
        raise RuntimeError("negative padding is not supported")
    if min(op) < 0:
        raise RuntimeError("negative output_padding is not supported")
    if min(st) <= 0:
        raise RuntimeError("non-positive stride is not supported")
    if min(dl) < 0:
        raise RuntimeError("dilation should be greater than zero")
    xshape = x._data.shape
    if len(wshape) != len(xshape):
        raise RuntimeError(
            f"Expected {len(wshape)}-dimensional input for {len(wshape)}-dimensional weight {shape_text(wshape)}, "
            f"but got {len(xshape)}-dimensional input of size {shape_text(xshape)} instead"
        )
    if wshape[0] < groups:
        raise RuntimeError(
            f"Given groups={groups}, expected weight to be at least {groups} at dimension 0, but got weight of size "
            f"{shape_text(wshape)} instead"
        )
    if wshape[0] % groups:
        raise RuntimeError(
            f"Given groups={groups}, expected weight to be divisible by {groups} at dimension 0, but got weight of "
            f"size [{shape_text(wshape)}] instead"
        )
    bshape = None if b is None else b._data.shape
    if not transposed:
        if xshape[1] != wshape[1] * groups:
            raise RuntimeError(
                f"Given groups={groups}, weight of size {shape_text(wshape)}, expected input{shape_text(xshape)} "
                f"to have {wshape[1] * groups} channels, but got {xshape[1]} channels instead"
            )
        if bshape is not None and (len(bshape) != 1 or bshape[0] != wshape[0]):
            raise RuntimeError(
                f"Given weight of size {shape_text(wshape)}, expected bias to be 1-dimensional with {wshape[0]} "
                f"elements, but got bias of size {shape_text(bshape)} instead"
            )
        sizes = [z + 2 * p for z, p in zip(xshape[2:], pd)]
        kernel = [d * (z - 1) + 1 for d, z in zip(dl, wshape[2:])]
        if not all(map(ge, sizes, kernel)):
            raise RuntimeError(
                f"Calculated padded input size per channel: ({' x '.join(map(str, sizes))}). Kernel size: "
                f"({' x '.join(map(str, kernel))}). Kernel size can't be greater than actual input size"
            )
        if min(dl) == 0:
            raise RuntimeError("non-positive dilation is not supported")
    else:
        if xshape[1] != wshape[0]:
            raise RuntimeError(
                f"Given transposed=1, weight of size {shape_text(wshape)}, expected input{shape_text(xshape)} to "
                f"have {wshape[0]} channels, but got {xshape[1]} channels instead"
            )
        if bshape is not None and (len(bshape) != 1 or bshape[0] != wshape[1] * groups):
            raise RuntimeError(
                f"Given transposed=1, weight of size {shape_text(wshape)}, expected bias to be 1-dimensional with "
                f"{wshape[1] * groups} elements, but got bias of size {shape_text(bshape)} instead"
            )
        # (the slow kernels' shape checks: dilation, then output padding)
        names, (s2, d2, o2) = _slow_kernel_params(k, st, dl, op)
        if min(dl) == 0:
            listed = ", ".join(f"dilation_{n}: {v}" for n, v in zip(names, d2))
            raise RuntimeError(f"dilation should be greater than zero, but got {listed}")
        if not all(o2[i] < s2[i] or o2[i] < d2[i] for i in range(len(s2))):
            listed = " ".join(f"{what}_{n}: {v}" for what, vals in (("output_padding", o2), ("stride", s2),
                              ("dilation", d2)) for n, v in zip(names, vals))  # fmt: skip
            raise RuntimeError(f"output padding must be smaller than either stride or dilation, but got {listed}")
    if x.dtype is not w.dtype:
        if x._dev.type == "cpu" and not _mkldnn_picked(x, w, stride, dilation, groups):  # (the native kernels)
            raise RuntimeError(f"expected scalar type {x.dtype.scalar_name()} but found {w.dtype.scalar_name()}")
        # (oneDNN's check names a bfloat16 cpu tensor by its legacy type name)
        shown = ["CPUBFloat16Type" if t._dev.type == "cpu" and t.dtype is bfloat16 else t.type() for t in (x, w)]
        raise RuntimeError(
            f"Input type ({shown[0]}) and weight type ({shown[1]}) should be the same or input should be a MKLDNN "
            "tensor and weight is a dense tensor"
        )
    dt = x._data.dtype
    # (the slow kernels: a transposed one takes the floating types and int64, the others all but bool)
    if dt == np.bool_ or (transposed and dt.kind != "f" and dt != np.int64):
        if k == 3:
            name = "slow_conv_transpose3d_out_cpu" if transposed else "compute_columns3d"
        else:
            name = "slow_conv_transpose2d_out_cpu" if transposed else "slow_conv2d_cpu"
        raise NotImplementedError(f"\"{name}\" not implemented for '{x.dtype.scalar_name()}'")
    if transposed:
        out = [(xshape[i + 2] - 1) * st[i] - 2 * pd[i] + dl[i] * (wshape[i + 2] - 1) + op[i] + 1 for i in range(k)]
        if any(o < 1 for o in out):
            ins = [xshape[i + 2] for i in range(k)]
            if k == 1:
                ins, out = [1, *ins], [1, *out]
            raise RuntimeError(
                f"Given input size per channel: ({' x '.join(map(str, ins))}). Calculated output size per channel: "
                f"({' x '.join(map(str, out))}). Output size is too small"
            )
    return _Geo(st, pd, dl, transposed, op, groups)


# ---- convolution: array kernels ------------------------------------------------------------------------


def _im2col(xp: Any, x: Any, ks: tuple, geo: _Geo, os: tuple) -> Any:
    """x (N, C, *S) as columns (N, G, C/G * prod(ks), prod(os)): each output position's window, copied once."""
    xp_ = pad_nd(xp, x, geo.padding, geo.padding)
    n, c = x.shape[:2]
    s = xp_.strides
    sp = s[2:]
    win = strided(xp, xp_, (n, c, *ks, *os), (*s[:2], *map(mul, sp, geo.dilation), *map(mul, sp, geo.stride)))
    g = geo.groups
    return win.reshape(n, g, (c // g) * math.prod(ks), math.prod(os))


@functools.lru_cache(maxsize=128)
def _col2im_plan(sizes: tuple, ks: tuple, st: tuple, pd: tuple, dl: tuple, os: tuple) -> tuple:
    """The padded image's size (it must hold every window, also those a transposed conv's output_padding leaves
    out), each kernel offset's strided slice of it (row-major, as the columns hold them), and the crop back to
    the image (None where nothing is cropped). Computed once per geometry."""
    padded = tuple(max(z + 2 * p, (o - 1) * s + (k - 1) * d + 1) for z, p, o, s, k, d in zip(sizes, pd, os, st, ks, dl))
    per_dim = [[slice(j * d, j * d + (o - 1) * s + 1, s) for j in range(k)] for k, d, o, s in zip(ks, dl, os, st)]
    lead = (slice(None), slice(None))
    at = tuple(lead + sl for sl in itertools.product(*per_dim))
    crop = None if padded == sizes else lead + tuple(slice(p, p + z) for p, z in zip(pd, sizes))
    return padded, at, crop


def _col2im(xp: Any, cols: Any, shape: tuple, ks: tuple, geo: _Geo, os: tuple) -> Any:
    """The adjoint of _im2col: columns (N, C * prod(ks), prod(os)) summed back into an (N, C, *S) image. One
    strided add per kernel offset (windows overlap, so one strided view cannot take them all at once)."""
    n, c = shape[:2]
    padded, offsets, crop = _col2im_plan(tuple(shape[2:]), ks, geo.stride, geo.padding, geo.dilation, os)
    img = xp.zeros((n, c, *padded), dtype=cols.dtype)
    cols = cols.reshape(n, c, len(offsets), *os)
    for i, at in enumerate(offsets):
        img[at] += cols[:, :, i]
    return img if crop is None else xp.ascontiguousarray(img[crop])


def _out_size(n: int, k: int, s: int, p: int, d: int) -> int:
    return (n + 2 * p - d * (k - 1) - 1) // s + 1


def _conv_fwd(xp: Any, x: Any, w: Any, geo: _Geo, out_sizes: tuple | None = None) -> Any:
    """The convolution of x (N, C, *S) with w (O, C/G, *K): (N, O, *OS). out_sizes: the output size where it is
    known (a transposed convolution's input gradient: with output_padding >= stride, allowed when it is below
    the dilation, the formula would give one more row)."""
    wshape = w.shape
    ks = wshape[2:]
    if out_sizes is None:
        out_sizes = tuple(map(_out_size, x.shape[2:], ks, geo.stride, geo.padding, geo.dilation))
    o, g = wshape[0], geo.groups
    cols = _im2col(xp, x, ks, geo, out_sizes)
    out = xp.matmul(w.reshape(g, o // g, cols.shape[2]), cols)  # (N, G, O/G, L): contiguous, in NC.. order
    return out.reshape(x.shape[0], o, *out_sizes)


def _conv_input(xp: Any, gy: Any, w: Any, geo: _Geo, shape: tuple) -> Any:
    """The adjoint of _conv_fwd in its input (the input gradient, and the transposed convolution): gy
    (N, O, *OS) with w (O, C/G, *K) into an image of `shape` (N, C, *S)."""
    n, o, *os = gy.shape
    _, cg, *ks = w.shape
    g = geo.groups
    kk = cg * math.prod(ks)
    wm = xp.ascontiguousarray(w.reshape(g, o // g, kk).transpose(0, 2, 1))  # (small; BLAS wants it so)
    cols = xp.matmul(wm, gy.reshape(n, g, o // g, math.prod(os)))  # (N, G, C/G * prod(K), L)
    return _col2im(xp, cols, shape, tuple(ks), geo, tuple(os))


def _conv_weight(xp: Any, x: Any, gy: Any, wshape: tuple, geo: _Geo) -> Any:
    """The adjoint of _conv_fwd in its weight (the weight gradient): sum over the batch and positions of gy
    times the input's columns, (O, C/G, *K)."""
    n, o = gy.shape[:2]
    os = gy.shape[2:]
    g = geo.groups
    cols = _im2col(xp, x, tuple(wshape[2:]), geo, os)  # (N, G, K, L)
    # (N, G, K, O/G): measured faster than gy @ cols^T, whose transposed operand is the larger one
    gw = xp.matmul(cols, gy.reshape(n, g, o // g, cols.shape[3]).transpose(0, 1, 3, 2))
    return xp.ascontiguousarray(gw.sum(axis=0).transpose(0, 2, 1)).reshape(wshape)


def _transposed_shape(x: Any, w: Any, geo: _Geo) -> tuple:
    """A transposed convolution's output shape (N, C_out, *S) from its input and weight."""
    _, cg, *ks = w.shape
    sizes = ((z - 1) * s - 2 * p + d * (k - 1) + op + 1
             for z, s, p, d, k, op in zip(x.shape[2:], geo.stride, geo.padding, geo.dilation, ks,
                                          geo.output_padding))  # fmt: skip
    return (x.shape[0], cg * geo.groups, *sizes)


_F32 = np.dtype(np.float32)
_F64 = np.dtype(np.float64)


def _mkldnn_picked(x: Tensor, w: Tensor, st: Any, dl: Any, groups: int) -> bool:
    """Whether torch's cpu convolution hands x to oneDNN (aten's ConvParams::use_mkldnn, for the error a weight
    of another dtype meets there): a bfloat16 input always; a float32 one unless it is a single small image
    under a kernel of 3 or less (a 3-d input counts as (N, C, 1, L), as torch views it)."""
    if x.dtype is bfloat16:
        return True
    if x._data.dtype != _F32:
        return False
    xs, ws = x._data.shape, w._data.shape
    if len(xs) == 3:
        xs, ws = (xs[0], xs[1], 1, xs[2]), (*ws[:2], 1, ws[2])
    kh, kw = ws[-2], ws[-1]
    from engine.process import get_num_threads

    strided, dilated = any(v != 1 for v in st), any(v != 1 for v in dl)
    if not (strided or dilated or xs[0] >= 16 or kw != 1 or kh != 1 or get_num_threads() > 1):
        return False
    return groups > 1 or (kw > 3 and kh > 3) or xs[0] > 1 or xs[0] * xs[1] * xs[2] * xs[3] > 20480


def _onednn_used(x: Any, w: Any, geo: _Geo) -> bool:
    """Whether torch's cpu conv2d of float32 x with w runs oneDNN (its use_mkldnn: groups 1, and not a
    3x3-or-smaller kernel on one small image), without dilation, in exact mode (MKL loaded)."""
    if type(x) is not np.ndarray or x.dtype != _F32 or w.dtype != _F32 or x.ndim != 4 or geo.transposed:
        return False
    n, c, h, wd = x.shape
    _, _, kh, kw = w.shape
    if geo.groups != 1 or geo.dilation != (1, 1) or kh * kw == 1:
        return False
    if n == 1 and (kh <= 3 or kw <= 3) and c * h * wd <= 20480:  # (torch's native kernel instead)
        return False
    return x.flags.c_contiguous and x.size > 0 and w.size > 0 and conv_onednn.exact_here()


def _onednn_chain(x: Any, w: Any, geo: _Geo) -> bool:
    """Whether torch's cpu conv2d of x with w runs oneDNN (its use_mkldnn: groups 1, and not a 3x3-or-smaller
    kernel on one small image) with at most 16 input channels, where its float32 sums were measured to be one
    fused multiply-add chain in (kernel row, kernel column, channel) order from 0 (with padding below the kernel
    size, no dilation), and where MKL's sgemm computes that very chain (at most 160 products a sum). Exact mode
    only (MKL loaded)."""
    if type(x) is not np.ndarray or x.dtype != _F32 or w.dtype != _F32 or x.ndim != 4 or geo.transposed:
        return False
    n, c, h, wd = x.shape
    _, _, kh, kw = w.shape
    if geo.groups != 1 or c > 16 or c * kh * kw > 160 or geo.dilation != (1, 1) or kh * kw == 1:
        return False
    if geo.padding[0] >= kh or geo.padding[1] >= kw:
        return False
    if n == 1 and (kh <= 3 or kw <= 3) and c * h * wd <= 20480:  # (torch's native kernel instead)
        return False
    return x.flags.c_contiguous and x.size > 0 and w.size > 0 and conv_onednn.exact_here()


_MIN_ROWS, _MIN_COLS = 4, 256  # MKL's sgemm measured as the plain chain from these sizes up (its kernels for
# fewer output channels or positions add in another order): smaller products are padded with zeros to them


def _onednn_conv(x: Any, w: Any, geo: _Geo) -> Any:
    """_conv_fwd as oneDNN sums (see _onednn_chain): the columns in (kernel row, column, channel) order and one
    MKL product, whose sums are the fused chain."""
    n, c = x.shape[:2]
    o, _, kh, kw = w.shape
    oh, ow = map(_out_size, x.shape[2:], (kh, kw), geo.stride, geo.padding, geo.dilation)
    xp_ = pad_nd(np, x, geo.padding, geo.padding)
    sn, sc, sh, sw = xp_.strides
    win = strided(np, xp_, (kh, kw, c, n, oh, ow), (sh, sw, sc, sn, sh * geo.stride[0], sw * geo.stride[1]))
    k, cols = kh * kw * c, n * oh * ow
    if cols < _MIN_COLS:
        m = np.zeros((k, _MIN_COLS), _F32)
        m[:, :cols] = win.reshape(k, cols)
    else:
        m = np.ascontiguousarray(win).reshape(k, cols)
    wr = np.zeros((max(o, _MIN_ROWS), k), _F32)
    wr[:o] = w.transpose(0, 2, 3, 1).reshape(o, k)
    out = mkl.gemm(wr, m, threaded=False)[:o, :cols].reshape(o, n, oh, ow)  # (the sequential kernel's sums)
    return np.ascontiguousarray(out.transpose(1, 0, 2, 3))


def _as_2d(x: Any, w: Any, geo: _Geo) -> tuple | None:
    """A conv1d (or conv_transpose1d) as torch runs it (view1d_as_2d): the input and weight with a height of 1 and
    the geometry to match, where that 2-d convolution is oneDNN's or torch's native one whose sums are reproduced;
    else None."""
    if x.ndim != 3 or type(x) is not np.ndarray or x.dtype not in (_F32, _F64):
        return None
    t = geo.transposed
    geo2 = _Geo((1, *geo.stride), (0, *geo.padding), (1, *geo.dilation), t, (0, *geo.output_padding), geo.groups)
    x4, w4 = x[:, :, None, :], w[:, :, None, :]
    if not t and conv_native.applies(x4, w4, geo2.stride, geo2.padding, geo2.dilation, geo2.groups):
        return x4, w4, geo2
    if x.dtype != _F32:
        return None
    return (x4, w4, geo2) if (_onednn_transposed if t else _onednn_used)(x4, w4, geo2) else None


def _onednn_transposed(x: Any, w: Any, geo: _Geo) -> bool:
    """Whether torch's conv_transpose2d of float32 x with w runs oneDNN's deconvolution where its sums are
    reproduced: no dilation or output padding, groups 1 (its forward is conv2d's backward-data sums, at a stride
    those of oneDNN's brgconv_strided kernel; its input gradient conv2d's forward, its weight gradient conv2d's with
    the roles swapped)."""
    if type(x) is not np.ndarray or x.dtype != _F32 or w.dtype != _F32 or x.ndim != 4 or not geo.transposed:
        return False
    if geo.dilation != (1, 1) or geo.output_padding != (0, 0) or geo.groups != 1:
        return False
    n, c, h, wd = x.shape
    kh, kw = w.shape[2:]
    if kh * kw == 1 or (n == 1 and (kh <= 3 or kw <= 3) and c * h * wd <= 20480):  # (torch's native kernel)
        return False
    return x.flags.c_contiguous and x.size > 0 and w.size > 0 and conv_onednn.exact_here()


def _ip_case(x: Any, w: Any, geo: _Geo) -> bool:
    """Whether torch's oneDNN runs this float32 conv2d (or conv_transpose2d) as an inner product (the kernel covers
    the whole input, or a transposed one's whole output from a 1x1 input: conv_onednn.ip_applies)."""
    if geo.transposed:
        if not _onednn_transposed(x, w, geo) or geo.stride != (1, 1) or geo.padding != (0, 0):
            return False
        n, ci = x.shape[:2]
        return x.shape[2:] == (1, 1) and conv_onednn.ip_applies((n, w.shape[1], *w.shape[2:]), w.shape, (1, 1), (0, 0))
    return _onednn_used(x, w, geo) and conv_onednn.ip_applies(x.shape, w.shape, geo.stride, geo.padding)


def _deconv_grads_known(g: Any, w: Any, geo: _Geo) -> tuple:
    """Which of conv_transpose2d's (input, weight, bias) gradients are oneDNN's measured kernels: at stride 1 all; at
    a stride the input gradient (conv2d's forward of g) where g is at least a kernel each way (else oneDNN's gemm
    convolution), the weight gradient where conv2d_weight_grad knows its kernel, the bias gradient where the padding
    is at most half the kernel (else another bias reduction)."""
    if geo.stride == (1, 1):
        return True, True, True
    kh, kw = w.shape[2:]
    (ph, pw), (h, wd) = geo.padding, g.shape[2:]
    return h >= kh and wd >= kw, True, ph <= kh // 2 and pw <= kw // 2


def _deconv_bias_grad(g: Any) -> Any:
    """oneDNN's deconvolution bias gradient: up to 3 channels each image's sum, then the images' in order; more
    channels, one sum over (image, row, column) in order (measured against torch)."""
    n, co = g.shape[:2]
    gc = np.ascontiguousarray(g.transpose(1, 0, 2, 3)).reshape(co, n, -1)
    if co <= 3:
        return np.add.accumulate(np.add.accumulate(gc, axis=2)[:, :, -1], axis=1)[:, -1]
    return np.add.accumulate(gc.reshape(co, -1), axis=1)[:, -1]


def _convolution_arr(x: Any, w: Any, b: Any, geo: _Geo, xp: Any) -> Any:
    if (as2d := _as_2d(x, w, geo)) is not None:
        return _convolution_arr(*as2d[:2], b, as2d[2], xp)[:, :, 0, :]
    if b is not None and x.dtype.metadata is not None:  # bfloat16: the bias joins the float32 sums, rounded once
        return to_bf16(_convolution_arr(plain(x), plain(w), plain(b), geo, xp), xp)
    if b is not None and x.dtype == np.float16 and not geo.transposed and isinstance(x, np.ndarray):  # (and half)
        f32 = np.float32
        return _convolution_arr(x.astype(f32), w.astype(f32), b.astype(f32), geo, xp).astype(np.float16)
    if _ip_case(x, w, geo) and (b is None or b.dtype == _F32):  # oneDNN's inner product
        x = np.ascontiguousarray(x)
        fwd = conv_onednn.ip_deconv_forward if geo.transposed else conv_onednn.ip_forward
        out = fwd(x, w, b)
        if out is not None:
            return out
    if not geo.transposed and conv_native.applies(x, w, geo.stride, geo.padding, geo.dilation, geo.groups):
        if b is None or b.dtype == x.dtype:  # torch's native kernel (the bias first, the product added to it)
            return conv_native.forward(x, w, b, geo.stride, geo.padding)
    if geo.transposed:
        shape = _transposed_shape(x, w, geo)
        out = None
        if _onednn_transposed(x, w, geo):
            x = np.ascontiguousarray(x)
            if geo.stride == (1, 1):
                out = conv_onednn.conv2d_input_grad(x, w, shape, geo.stride, geo.padding)
            else:
                out = conv_onednn_strided.conv2d_input_grad(x, w, shape, geo.stride, geo.padding)
        if out is None:
            out = run_in(xp, lambda a, k: _conv_input(xp, a, k, geo, shape), x.dtype, x, w)
    elif _onednn_chain(x, w, geo):  # (the bias is added last, as oneDNN does)
        out = _onednn_conv(x, w, geo)
    elif _onednn_used(x, w, geo) and (b is None or b.dtype == _F32):  # oneDNN's sums where their order is known
        out = conv_onednn.conv2d_forward(x, w, b, geo.stride, geo.padding)
        if out is not None:
            return out
        out = run_in(xp, lambda a, k: _conv_fwd(xp, a, k, geo), x.dtype, x, w)
    else:
        out = run_in(xp, lambda a, k: _conv_fwd(xp, a, k, geo), x.dtype, x, w)
    if b is not None:
        out += b.reshape(1, -1, *(1,) * (out.ndim - 2))
    return out


def _convolution_backward_arr(g: Any, x: Any, w: Any, geo: _Geo, mask: tuple, xp: Any) -> tuple:
    if (as2d := _as_2d(x, w, geo)) is not None:
        gx, gw, gb = _convolution_backward_arr(g[:, :, None, :], *as2d, mask, xp)
        return (None if gx is None else gx[:, :, 0, :]), (None if gw is None else gw[:, :, 0, :]), gb
    gx = gw = gb = None
    ip = _ip_case(x, w, geo) and g.dtype == _F32
    if ip:  # oneDNN's inner product
        g, x = np.ascontiguousarray(g), np.ascontiguousarray(x)
        if geo.transposed:  # conv2d's forward and weight sums with the roles swapped
            if mask[0]:
                gx = conv_onednn.ip_forward(g, w, None)
            if mask[1]:
                gw = conv_onednn.ip_weight_grad(g, x)
            if mask[2]:  # each image's sum, then the images' in order (measured)
                gc = g.reshape(*g.shape[:2], -1)
                gb = np.add.accumulate(np.add.accumulate(gc, axis=2)[:, :, -1], axis=0)[-1]
        else:
            if mask[0]:
                gx = conv_onednn.ip_input_grad(g, w)
            if mask[1]:
                gw = conv_onednn.ip_weight_grad(x, g)
            if mask[2]:
                gb = conv_onednn.ip_bias_grad(g)
    elif geo.transposed and _onednn_transposed(x, w, geo) and g.dtype == _F32:  # conv2d's kernels, roles swapped
        g = np.ascontiguousarray(g)
        known = _deconv_grads_known(g, w, geo)
        if mask[0] and known[0]:
            gx = conv_onednn.conv2d_forward(g, w, None, geo.stride, geo.padding)
        if mask[1] and known[1]:
            got = conv_onednn.conv2d_weight_grad(g, np.ascontiguousarray(x), w.shape, geo.stride, geo.padding, False)
            gw = None if got is None else got[0]
        if mask[2] and known[2]:
            gb = _deconv_bias_grad(g)
    if geo.transposed:  # out = conv_input(x, w): its input gradient is the convolution of g
        if mask[0] and gx is None:
            gx = run_in(xp, lambda a, k: _conv_fwd(xp, a, k, geo, x.shape[2:]), g.dtype, g, w)
        if mask[1] and gw is None:
            gw = run_in(xp, lambda a, b: _conv_weight(xp, a, b, w.shape, geo), g.dtype, g, x)
    elif conv_native.applies(x, w, geo.stride, geo.padding, geo.dilation, geo.groups) and g.dtype == x.dtype:
        if mask[0]:
            cols = conv_native.input_grad_columns(g, w)
            gx = _col2im(np, cols, x.shape, tuple(w.shape[2:]), geo, tuple(g.shape[2:]))
        if mask[1]:
            gw = conv_native.weight_grad(np.ascontiguousarray(x), g, w.shape, geo.stride, geo.padding)
        if mask[2]:
            gb = conv_native.bias_grad(g)
    else:
        if not ip and _onednn_used(x, w, geo) and g.dtype == _F32:  # oneDNN's sums where their orders are known
            g = np.ascontiguousarray(g)
            if mask[0]:  # (a strided one: oneDNN's brgconv_strided kernel, its own order)
                grad_input = (conv_onednn if geo.stride == (1, 1) else conv_onednn_strided).conv2d_input_grad
                gx = grad_input(g, w, x.shape, geo.stride, geo.padding)
            if mask[1]:
                got = conv_onednn.conv2d_weight_grad(x, g, w.shape, geo.stride, geo.padding, mask[2])
                if got is not None:
                    gw, gb = got
            elif mask[2]:
                gb = conv_onednn.conv2d_bias_grad(x.shape, g, w.shape, geo.stride, geo.padding)
        if mask[0] and gx is None:
            gx = run_in(xp, lambda a, k: _conv_input(xp, a, k, geo, x.shape), g.dtype, g, w)
        if mask[1] and gw is None:
            gw = run_in(xp, lambda a, b: _conv_weight(xp, a, b, w.shape, geo), g.dtype, x, g)
    if mask[2] and gb is None:
        gb = g.sum(axis=(0, *range(2, g.ndim)))
    return gx, gw, gb


# ---- convolution: the graph ----------------------------------------------------------------------------


def _conv_bw(self: Node, g: Tensor, x: Tensor, w: Tensor, geo: _Geo) -> tuple:
    n = self._next
    return _convolution_backward(g, x, w, geo, (n[0] is not None, n[1] is not None, n[2] is not None))


ConvolutionBackward0 = node_class("ConvolutionBackward0", _conv_bw)


def _convolution(x: Tensor, w: Tensor, b: Tensor | None, geo: _Geo) -> Tensor:
    """aten::convolution on checked arguments: one ConvolutionBackward0 node with edges (input, weight, bias)."""
    out = _convolution_arr(x._data, w._data, None if b is None else b._data, geo, x._dev.xp)
    r = record(ConvolutionBackward0, out, x._dev, (x, w, b), (x, w, geo), (*saved_versions(x, w), None))
    follow_channels_last((x, w), r)
    return r


def _conv_bwbw_one(n: tuple, k: int, gg: Tensor, g: Tensor, x: Tensor, w: Tensor, geo: _Geo) -> tuple:
    """torch's _convolution_double_backward for one output k (gx, gw or gb) of convolution_backward: the
    gradients for (grad_output, input, weight), in convolution and convolution_backward (so it can go on)."""
    dg = dx = dw = None
    if k == 0:  # gx is linear in g and in w
        if n[0] is not None:
            dg = _convolution(gg, w, None, geo)
        if n[2] is not None:
            dw = _convolution_backward(g, gg, w, geo, (False, True, False))[1]
    elif k == 1:  # gw is linear in g and in x
        if n[0] is not None:
            dg = _convolution(x, gg, None, geo)
        if n[1] is not None:
            dx = _convolution_backward(g, x, gg, geo, (True, False, False))[0]
    elif n[0] is not None:  # gb: g summed over all but the channels
        shape = (1, -1) + (1,) * (g.dim() - 2)
        dg = gg.reshape(shape).expand(g.shape)
    return dg, dx, dw


def _conv_bwbw(self: Node, ggs: Any, g: Tensor, x: Tensor, w: Tensor, geo: _Geo) -> tuple:
    """torch's _convolution_double_backward: the outputs' gradients (ggI, ggW, ggb) that arrived, each one's terms
    added in torch's order (ggO = conv(ggI, w) + conv(x, ggW) + ggb)."""
    total: list = [None, None, None]
    for k, gg in enumerate(grads_of(ggs, 3)):
        if gg is not None:
            for i, d in enumerate(_conv_bwbw_one(self._next, k, gg, g, x, w, geo)):
                if d is not None:
                    total[i] = d if total[i] is None else total[i] + d
    return tuple(total)


class ConvolutionBackwardBackward0(Node):
    """The one node of convolution_backward's three outputs (grad_input, grad_weight, grad_bias), as torch's:
    outputs 0, 1 and 2 by position (one that was not asked for is an output that gets no gradient), each
    reached through its port (engine/multi_output.py); edges (grad_output, input, weight)."""

    backward = _conv_bwbw


def _convolution_backward(g: Tensor, x: Tensor, w: Tensor, geo: _Geo, mask: tuple) -> tuple:
    """aten::convolution_backward: (grad_input, grad_weight, grad_bias), each only where mask asks for it.
    Under grad mode (create_graph) each result gets a ConvolutionBackwardBackward0 node."""
    arrays = _convolution_backward_arr(g._data, x._data, w._data, geo, mask, g._dev.xp)
    outs = tuple(None if a is None else wrap(a, g._dev) for a in arrays)
    if ENABLED[0] and (g._rg or x._rg or w._rg):
        node = ConvolutionBackwardBackward0()
        node._seq = next_seq()
        node._next = (edge_of(g), edge_of(x), edge_of(w))
        node._saved, node._vers = (g, x, w, geo), (*saved_versions(g, x, w), None)
        first = next(t for t in outs if t is not None)
        node._ctx = (first._data.shape, first._data.dtype)
        node._nout = 3
        node._oshapes = tuple(() if t is None else t._data.shape for t in outs)
        for k, t in enumerate(outs):
            if t is not None:
                t._accum = port(node, k)
                t._rg = True
                t.grad_fn = node
    return outs


# ---- convolution: the functions ------------------------------------------------------------------------


def _same_padding(x: Tensor, w: Tensor, stride: list, dilation: list, nd: int) -> tuple[Tensor, list]:
    """torch's padding='same' (_convolution_mode): symmetric padding of d * (k - 1) / 2 where it is even; an
    odd total gets its extra element on the right by an explicit zero pad of the input (ConstantPadNdBackward0)."""
    k = w.dim() - 2
    st = _expand(stride, "stride", max(k, 1))
    dl = _expand(dilation, "dilation", max(k, 1))
    if any(s != 1 for s in st):
        raise RuntimeError("padding='same' is not supported for strided convolutions")
    left, extra = [], [0] * (2 * k)
    for i in range(k):
        total = dl[i] * (w._data.shape[i + 2] - 1)
        lo = total // 2
        left.append(lo)
        if total - lo != lo:
            extra[2 * (k - 1 - i) + 1] = total - 2 * lo
    if any(extra):
        if not _SAME_WARNED[0]:
            _SAME_WARNED[0] = True
            warnings.warn(
                "Using padding='same' with even kernel lengths and odd dilation may require a zero-padded copy of "
                "the input be created (Triggered internally at /__w/pytorch/pytorch/aten/src/ATen/native/"
                "Convolution.cpp:1101.)",
                UserWarning,
                stacklevel=user_stacklevel(),
            )
        x = pad(x, extra)
    return x, left


_CONV_OVERLOADS = (
    "(Tensor input, Tensor weight, Tensor bias = None, tuple of ints stride = 1, tuple of ints padding = 0, "
    "tuple of ints dilation = 1, int groups = 1)",
    '(Tensor input, Tensor weight, Tensor bias = None, tuple of ints stride = 1, str padding = "valid", '
    "tuple of ints dilation = 1, int groups = 1)",
)


def _conv_args_error(fname: str, args: tuple) -> TypeError:
    """torch's TypeError for conv1d/conv2d called with a non-tensor: the overloads, and where all seven arguments
    were given (as a module passes them), each one's description, marked where its parser's plain type test
    fails (all but an exact Tensor). Trailing arguments still at their defaults count as not given."""
    defaults = (None, 1, 0, 1, 1)
    n = len(args)
    # (a module passes stride, padding and dilation as tuples or a padding string, and so all seven: those count
    # as given; otherwise the trailing ones at their defaults are taken as left out)
    if not any(isinstance(a, (tuple, list, str)) for a in args[3:6]):
        while n > 2 and (
            args[n - 1] is defaults[n - 3] or (type(args[n - 1]) is int and args[n - 1] == defaults[n - 3])
        ):
            n -= 1
    given = args[:n]
    got = ", ".join(parser_type_name(a) for a in given)
    lines = [f"{fname}() received an invalid combination of arguments - got ({got}), but expected one of:"]
    marks = ", ".join(parser_arg_text(a) if type(a) is Tensor else f"!{parser_arg_text(a)}!" for a in given)
    for o in _CONV_OVERLOADS:
        lines.append(f" * {o}")
        if n == 7:
            lines.append(f"      didn't match because some of the arguments have invalid types: ({marks})")
    return TypeError("\n".join(lines) + "\n")


@autocast_policy(cpu="lower", cuda="lower")
def _conv(fname: str, nd: int, input: Tensor, weight: Tensor, bias: Tensor | None, stride: Any, padding: Any,
          dilation: Any, groups: int, transposed: bool = False, output_padding: Any = 0) -> Tensor:  # noqa: A002  # fmt: skip
    if not isinstance(input, Tensor) or not isinstance(weight, Tensor) or not (bias is None or
                                                                                isinstance(bias, Tensor)):  # fmt: skip
        if transposed:
            bad, name, pos = next((v, k, i + 1) for i, (k, v) in enumerate((("input", input), ("weight", weight),
                                  ("bias", bias))) if not isinstance(v, Tensor))  # fmt: skip
            _functional.tensor_arg(fname, bad, name, pos)
        raise _conv_args_error(fname, (input, weight, bias, stride, padding, dilation, groups))
    if bias is not None and bias.dtype is not input.dtype and not (transposed and weight.dtype is not input.dtype):
        # (a transposed one checks the weight's type first)
        raise RuntimeError(f"Input type ({cpp_name(input)}) and bias type ({cpp_name(bias)}) should be the same")
    x, batched = _batchify(input, nd, fname)
    st = _int_list(stride, "stride", nd, fname)
    dl = _int_list(dilation, "dilation", nd, fname)
    if isinstance(padding, str) and not transposed:
        if padding == "valid":
            pd = [0]
        elif padding == "same":
            if groups <= 0:
                raise RuntimeError("non-positive groups is not supported")
            x, pd = _same_padding(x, weight, st, dl, nd)
        else:
            raise RuntimeError(f"Invalid padding string: '{padding}'")
    else:
        pd = _int_list(padding, "padding", nd, fname)
    op = _int_list(output_padding, "output_padding", nd, fname) if transposed else [0]
    geo = _conv_checks(x, weight, bias, st, pd, dl, transposed, op, int(groups))
    out = _convolution(x, weight, bias, geo)
    return out if batched else out.squeeze(0)


def conv1d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride: Any = 1, padding: Any = 0,
           dilation: Any = 1, groups: int = 1) -> Tensor:  # noqa: A002  # fmt: skip
    return _conv("conv1d", 1, input, weight, bias, stride, padding, dilation, groups)


def conv2d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride: Any = 1, padding: Any = 0,
           dilation: Any = 1, groups: int = 1) -> Tensor:  # noqa: A002  # fmt: skip
    return _conv("conv2d", 2, input, weight, bias, stride, padding, dilation, groups)


def conv3d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride: Any = 1, padding: Any = 0,
           dilation: Any = 1, groups: int = 1) -> Tensor:  # noqa: A002  # fmt: skip
    return _conv("conv3d", 3, input, weight, bias, stride, padding, dilation, groups)


@autocast_policy(cpu="lower", cuda="lower")
def conv_transpose1d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride: Any = 1, padding: Any = 0,
                     output_padding: Any = 0, groups: int = 1, dilation: Any = 1) -> Tensor:  # noqa: A002  # fmt: skip
    return _conv("conv_transpose1d", 1, input, weight, bias, stride, padding, dilation, groups, True, output_padding)


@autocast_policy(cpu="lower", cuda="lower")
def conv_transpose2d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride: Any = 1, padding: Any = 0,
                     output_padding: Any = 0, groups: int = 1, dilation: Any = 1) -> Tensor:  # noqa: A002  # fmt: skip
    return _conv("conv_transpose2d", 2, input, weight, bias, stride, padding, dilation, groups, True, output_padding)


@autocast_policy(cpu="lower", cuda="lower")
def conv_transpose3d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride: Any = 1, padding: Any = 0,
                     output_padding: Any = 0, groups: int = 1, dilation: Any = 1) -> Tensor:  # noqa: A002  # fmt: skip
    return _conv("conv_transpose3d", 3, input, weight, bias, stride, padding, dilation, groups, True, output_padding)


def convolution(input: Tensor, weight: Tensor, bias: Tensor | None, stride: Any, padding: Any, dilation: Any,
                transposed: bool, output_padding: Any, groups: int) -> Tensor:  # noqa: A002  # fmt: skip
    """torch.convolution (aten::convolution): a batched input, every argument explicit."""
    nd = max(weight.dim() - 2, 1)
    name = "convolution"
    st, pd = _int_list(stride, "stride", nd, name), _int_list(padding, "padding", nd, name)
    dl, op = _int_list(dilation, "dilation", nd, name), _int_list(output_padding, "output_padding", nd, name)
    geo = _conv_checks(input, weight, bias, st, pd, dl, bool(transposed), op, int(groups))
    return _convolution(input, weight, bias, geo)


# ---- padding -------------------------------------------------------------------------------------------


def _pad_list(pad: Any) -> list:
    if isinstance(pad, Tensor):
        pad = pad.tolist()
    out = []
    for i, v in enumerate(pad):
        if not isinstance(v, (int, np.integer)) or isinstance(v, bool):
            raise TypeError(
                "pad(): argument 'pad' (position 2) must be tuple of ints, but found element of type "
                f"{type_name(v)} at pos {i}"
            )
        out.append(int(v))
    return out


def _constant_pad_nd(x: Tensor, pad: list, value: Any) -> Tensor:
    """aten::constant_pad_nd: negative pads crop (torch narrows first), positive ones add `value`; one
    ConstantPadNdBackward0 node, whose backward is constant_pad_nd of the gradient with the pads negated."""
    from engine.ops.util import scalar_to

    shape = x._data.shape
    nd = len(shape)
    if len(pad) % 2:
        raise RuntimeError(f"Length of pad must be even but instead it equals {len(pad)}")
    k = len(pad) // 2
    if nd < k:
        raise RuntimeError(
            f"Length of pad should be no more than twice the number of dimensions of the input. Pad length is "
            f"{len(pad)}while the input has {nd}dimensions."
        )
    src = [slice(None)] * nd
    sizes = list(shape)
    for i in range(nd - k, nd):
        lo, hi = pad[2 * (nd - i - 1)], pad[2 * (nd - i - 1) + 1]
        start = -lo if lo < 0 else 0
        length = sizes[i] - start + (hi if hi < 0 else 0)
        if lo < 0 and sizes[i] + lo < 0 or length < 0:
            raise RuntimeError("narrow(): length must be non-negative.")
        src[i] = slice(start, start + length)
        sizes[i] = length
    new_shape = list(shape[: nd - k])
    dst = [slice(None)] * (nd - k)
    for i in range(nd - k, nd):
        lo, hi = pad[2 * (nd - i - 1)], pad[2 * (nd - i - 1) + 1]
        n = shape[i] + lo + hi
        if n < 0 or (n == 0 and (lo > 0 or hi > 0)):
            raise RuntimeError(
                f"The input size {shape[i]}, plus negative padding {lo} and {hi} resulted in a negative output "
                f"size, which is invalid. Check dimension {i} of your input."
            )
        new_shape.append(n)
        dst.append(slice(max(lo, 0), max(lo, 0) + sizes[i]))
    d = x._data
    xp = x._dev.xp
    fill = scalar_to(0 if value is None else value, d.dtype)
    out = xp.full(tuple(new_shape), fill, dtype=d.dtype)
    out[tuple(dst)] = d[tuple(src)]
    neg = [-p for p in pad]
    return op_node("ConstantPadNdBackward0", out, x, lambda g, x: _constant_pad_nd(g, neg, 0), False)


def constant_pad_nd(input: Tensor, pad: Any, value: float = 0) -> Tensor:  # noqa: A002
    """torch.constant_pad_nd."""
    return _constant_pad_nd(input, _pad_list(pad), value)


def _pad_index(size: int, lo: int, hi: int, mode: str) -> np.ndarray:
    """For each output position along one dim, the input position it copies (reflect: mirrored without the
    edge; replicate: the edge repeated)."""
    i = np.arange(-lo, size + hi, dtype=np.int64)
    if mode == "reflect":
        i = np.abs(i)
        return np.where(i >= size, 2 * (size - 1) - i, i)
    return np.clip(i, 0, size - 1)


def _index_pad(x: Tensor, pad: list, mode: str, name: str) -> Tensor:
    """reflection_pad{1,2,3}d / replication_pad{1,2,3}d on checked arguments: a gather by per-dim index arrays
    (broadcast against each other); the backward adds the gradient back at those indices (and differentiates to
    the same pad of gg)."""
    xp = x._dev.xp
    shape = x._data.shape
    k = len(pad) // 2
    # (pad lists the last dim first)
    idx = [_pad_index(shape[-k + i], pad[2 * (k - 1 - i)], pad[2 * (k - 1 - i) + 1], mode) for i in range(k)]
    lay = [a.reshape([-1 if j == i else 1 for j in range(k)]) for i, a in enumerate(idx)]
    out = x._data[(Ellipsis, *map(xp.asarray, lay))]
    step = [math.prod(shape[len(shape) - k + i + 1 :]) for i in range(k)]
    flat = sum(a * w for a, w in zip(lay, step)).reshape(-1)

    def backward(g: Tensor, x: Tensor) -> Tensor:
        from engine.ops.util import add_at

        gd = g._data
        planes = math.prod(shape[:-k])
        gx = g._dev.xp.zeros((planes, math.prod(shape[-k:])), dtype=gd.dtype)
        add_at(g._dev.xp, gx, (slice(None), g._dev.xp.asarray(flat)), gd.reshape(planes, -1))
        return grad_node(name[:-1] + "Backward0", gx.reshape(shape), g, x, lambda gg: _index_pad(gg, pad, mode, name))

    return op_node(name, xp.ascontiguousarray(out), x, backward)


def _check_valid_input(x: Tensor, dim: int) -> None:
    shape = x._data.shape
    nd = len(shape)
    ok = all(n != 0 for n in shape[1:]) if nd == dim + 2 else all(n != 0 for n in shape)
    if not ok:
        raise RuntimeError(
            f"Expected {dim + 1}D or {dim + 2}D (batch mode) tensor with possibly 0 batch size and other non-zero "
            f"dimensions for input, but got: {shape_text(shape)}"
        )


def _too_small(shape: tuple, pad: list, mode: str) -> None:
    """The kernels' check that some padded dim keeps an element (all of them for 1-d), in their texts."""
    k = len(pad) // 2
    ins = list(shape[-k:])
    outs = [n + pad[2 * (k - 1 - i)] + pad[2 * (k - 1 - i) + 1] for i, n in enumerate(ins)]
    if max(outs) >= 1:
        return
    if k == 1:
        raise RuntimeError(f"input (W: {ins[0]}) is too small. Calculated output W: {outs[0]}")
    if k == 2:
        gap = " " if mode == "replicate" else ""
        raise RuntimeError(
            f"input (H: {ins[0]}, W: {ins[1]}{gap}) is too small. Calculated output H: {outs[0]} W: {outs[1]}"
        )
    raise RuntimeError(
        f"input (D: {ins[0]} H: {ins[1]}, W: {ins[2]}) is too small. Calculated output D: {outs[0]} H: {outs[1]} "
        f"W: {outs[2]}"
    )


def _mode_pad(x: Tensor, pad: list, mode: str) -> Tensor:
    """reflect and replicate padding over the last 1, 2 or 3 dims: torch's checks in its order, then the
    gather (ReflectionPad{k}DBackward0 / ReplicationPad{k}DBackward0)."""
    k = len(pad) // 2
    _check_valid_input(x, k)
    shape = x._data.shape
    nd = len(shape)
    if mode == "reflect":  # (each padding must be below its dim's size: argument #4 is W's, #6 H's, #8 D's)
        for i in range(k):
            n, lo, hi = shape[nd - 1 - i], pad[2 * i], pad[2 * i + 1]
            if not (lo < n and hi < n):
                raise RuntimeError(
                    f"Argument #{4 + 2 * i}: Padding size should be less than the corresponding input dimension, but "
                    f"got: padding ({lo}, {hi}) at dimension {nd - 1 - i} of input {shape_text(shape)}"
                )
    _too_small(shape, pad, mode)
    kernel = ("reflection" if mode == "reflect" else "replication") + f"_pad{k}d"
    not_for(kernel, x, "fiu")
    name = ("ReflectionPad" if mode == "reflect" else "ReplicationPad") + f"{k}DBackward0"
    return _index_pad(x, pad, mode, name)


def _circular_pad(x: Tensor, pad: list) -> Tensor:
    """at::_pad_circular, op for op (an empty tensor, the input copied into its middle, then each side copied
    from the opposite one), so the graph is torch's CopySlices chain."""
    shape = x._data.shape
    nd, k = len(shape), len(pad) // 2
    lead = nd - k
    if lead not in (1, 2):
        raise RuntimeError(
            f"Invalid padding size, expected 1 or 2 non-padded dimensions, which would be equivalent to padding of "
            f"length {(nd - 1) * 2} or {(nd - 2) * 2} respectively but got {len(pad)}"
        )
    out_shape = list(shape)
    for i in range(k):
        lo, hi = pad[2 * (k - i - 1)], pad[2 * (k - i - 1) + 1]
        size = shape[lead + i]
        out_shape[lead + i] = size + lo + hi
        if not (lo <= size and hi <= size):
            raise RuntimeError("Padding value causes wrapping around more than once.")
        if out_shape[lead + i] < 0:
            raise RuntimeError("Negative padding value is resulting in an empty dimension")
    out = x.new_empty(tuple(out_shape))
    dst: list = [slice(None)] * nd
    src: list = [slice(None)] * nd
    for i in range(k):
        dim = nd - i - 1
        lo, hi = pad[2 * i], pad[2 * i + 1]
        dst[dim] = slice(max(lo, 0), out_shape[dim] - max(hi, 0))
        src[dim] = slice(max(-lo, 0), shape[dim] - max(-hi, 0))
    # (through a view and copy_, as torch: CopySlices also where the middle is the whole output)
    out[tuple(dst)].copy_(x[tuple(src)])
    for i in range(k):
        dim = nd - i - 1
        lo, hi = pad[2 * i], pad[2 * i + 1]
        at = [slice(None)] * dim
        if lo > 0:
            start = out_shape[dim] - lo - max(hi, 0)
            out[(*at, slice(0, lo))] = out[(*at, slice(start, start + lo))]
        if hi > 0:
            out[(*at, slice(out_shape[dim] - hi, out_shape[dim]))] = out[(*at, slice(max(lo, 0), max(lo, 0) + hi))]
    return out


_PAD_SIZES = (
    "Supported combinations for non-constant padding:\n"
    "  - 2D or 3D input: padding size = 2 (pads last dimension)\n"
    "  - 3D or 4D input: padding size = 4 (pads last 2 dimensions)\n"
    "  - 4D or 5D input: padding size = 6 (pads last 3 dimensions)"
)


def pad(input: Tensor, pad: Any, mode: str = "constant", value: float | None = None) -> Tensor:  # noqa: A002
    """torch.nn.functional.pad (at::pad): pad is (left, right) of the last dim, then of the one before, ..."""
    if isinstance(pad, np.ndarray):  # (torch's parser refuses it: tcli words it so)
        raise TypeError("pad(): argument 'pad' must be tuple of ints, not numpy.ndarray")
    p = _pad_list(pad)
    nd = input.dim()
    if len(p) % 2:
        raise RuntimeError("Padding length must be divisible by 2")
    if len(p) > nd * 2:
        raise RuntimeError(
            "Padding length should be less than or equal to two times the input dimension but got padding length "
            f"{len(p)} and input of dimension {nd}"
        )
    if mode not in ("constant", "reflect", "replicate", "circular"):
        raise NotImplementedError(f"Unrecognised padding mode {mode}")
    if mode == "constant":
        return _constant_pad_nd(input, p, value)
    if value is not None and value != 0:
        raise RuntimeError(f'Padding mode "{mode}" doesn\'t take in value argument')
    k = len(p) // 2
    if k in (1, 2, 3) and nd in (k + 1, k + 2):
        return _circular_pad(input, p) if mode == "circular" else _mode_pad(input, p, mode)
    raise NotImplementedError(f"Padding size {len(p)} is not supported for {nd}D input tensor.\n{_PAD_SIZES}")


# ---- unfold / fold (im2col / col2im) -------------------------------------------------------------------


def _pair(v: Any, name: str) -> tuple:
    vals = [int(v)] * 2 if isinstance(v, (int, np.integer)) else [int(a) for a in v]
    if len(vals) != 2:
        raise RuntimeError(f"It is expected {name} equals to 2, but got size {len(vals)}")
    return tuple(vals)


def _block_geo(d: tuple, p: tuple, s: tuple) -> _Geo:
    """unfold's / fold's sliding blocks as a convolution geometry (im2col and col2im are shared with conv)."""
    return _Geo(s, p, d, False, (0, 0), 1)


def _im2col_prim(x: Tensor, k: tuple, d: tuple, p: tuple, s: tuple) -> Tensor:
    xd = x._data
    x4 = xd.reshape(1, *xd.shape) if xd.ndim == 3 else xd
    oh = _out_size(x4.shape[2], k[0], s[0], p[0], d[0])
    ow = _out_size(x4.shape[3], k[1], s[1], p[1], d[1])
    cols = _im2col(x._dev.xp, x4, k, _block_geo(d, p, s), (oh, ow))
    cols = cols.reshape(x4.shape[0], -1, oh * ow)
    if xd.ndim == 3:
        cols = cols[0]
    size = xd.shape[-2:]
    return op_node("Im2ColBackward0", cols, x, lambda g, x: fold(g, size, k, d, p, s), False)


def unfold(input: Tensor, kernel_size: Any, dilation: Any = 1, padding: Any = 0, stride: Any = 1) -> Tensor:  # noqa: A002
    _functional.tensor_arg("im2col", input)
    k, d, p, s = (_pair(kernel_size, "kernel_size"), _pair(dilation, "dilation"), _pair(padding, "padding"),
                  _pair(stride, "stride"))  # fmt: skip
    if k[0] <= 0 or k[1] <= 0:
        raise RuntimeError(
            f"kernel size should be greater than zero, but got kernel_height: {k[0]} kernel_width: {k[1]}"
        )
    if d[0] <= 0 or d[1] <= 0:
        raise RuntimeError(
            f"dilation should be greater than zero, but got dilation_height: {d[0]} dilation_width: {d[1]}"
        )
    if p[0] < 0 or p[1] < 0:
        raise RuntimeError(f"padding should be non-negative, but got pad_height: {p[0]} pad_width: {p[1]}")
    if s[0] <= 0 or s[1] <= 0:
        raise RuntimeError(f"stride should be greater than zero, but got stride_height: {s[0]} stride_width: {s[1]}")
    shape = input._data.shape
    nd = len(shape)
    from engine.ops.util import norm_dim

    norm_dim(2, nd)  # (torch reads input.size(2) first: a 2-d input is its "Dimension out of range")
    valid = shape[1] != 0 and shape[2] != 0
    if not ((nd == 3 and shape[0] and valid) or (nd == 4 and valid and shape[3] != 0)):
        raise RuntimeError(
            "Expected 3D or 4D (batch mode) tensor input with possible 0 batch size and non-zero dimensions, but "
            f"got: {shape_text(shape)}"
        )
    h, w = shape[-2:]
    oh = (h + 2 * p[0] - (d[0] * (k[0] - 1) + 1)) // s[0] + 1
    ow = (w + 2 * p[1] - (d[1] * (k[1] - 1) + 1)) // s[1] + 1
    if oh < 1 or ow < 1:
        raise RuntimeError(
            f"Given input with spatial size ({h}, {h}), kernel_size=({k[0]}, {k[1]}), dilation=({d[0]}, {d[1]}), "
            f"padding=({p[0]}, {p[1]}), calculated shape of the array of sliding blocks as ({oh}, {ow}), but its "
            "components must be at least one."
        )
    return _im2col_prim(input, k, d, p, s)


def fold(input: Tensor, output_size: Any, kernel_size: Any, dilation: Any = 1, padding: Any = 0,
         stride: Any = 1) -> Tensor:  # noqa: A002  # fmt: skip
    _functional.tensor_arg("col2im", input)
    o, k, d, p, s = (_pair(output_size, "output_size"), _pair(kernel_size, "kernel_size"), _pair(dilation, "dilation"),
                     _pair(padding, "padding"), _pair(stride, "stride"))  # fmt: skip
    if k[0] <= 0 or k[1] <= 0:
        raise RuntimeError(
            f"kernel size should be greater than zero, but got kernel_height: {k[0]} kernel_width: {k[1]}"
        )
    if s[0] <= 0 or s[1] <= 0:
        raise RuntimeError(f"stride should be greater than zero, but got stride_height: {s[0]} stride_width: {s[1]}")
    if d[0] <= 0 or d[1] <= 0:
        raise RuntimeError(
            f"dilation should be greater than zero, but got dilation_height: {d[0]} dilation_width: {d[1]}"
        )
    if p[0] < 0 or p[1] < 0:
        raise RuntimeError(f"padding should be non-negative, but got pad_height: {p[0]} pad_width: {p[1]}")
    shape = input._data.shape
    nd = len(shape)
    if not ((nd == 2 and shape[0] != 0 and shape[1] != 0) or (nd == 3 and shape[1] != 0 and shape[2] != 0)):
        raise RuntimeError(
            "Expected 2D or 3D (batch mode) tensor for input with possibly 0 batch size and non-zero dimensions for "
            f"input, but got: {shape_text(shape)}"
        )
    planes, length = shape[-2], shape[-1]
    if planes % (k[0] * k[1]):
        raise RuntimeError(
            "Expected size of input's dimension 1 to be divisible by the product of kernel_size, but got "
            f"input.size(1)={planes} and kernel_size=({k[0]}, {k[1]})."
        )
    bh = (o[0] + 2 * p[0] - d[0] * (k[0] - 1) - 1) // s[0] + 1
    bw = (o[1] + 2 * p[1] - d[1] * (k[1] - 1) - 1) // s[1] + 1
    where = (f"Given output_size=({o[0]}, {o[1]}), kernel_size=({k[0]}, {k[1]}), dilation=({d[0]}, {d[1]}), "
             f"padding=({p[0]}, {p[1]}), stride=({s[0]}, {s[1]}), ")  # fmt: skip
    if length != bh * bw:
        raise RuntimeError(
            f"{where}expected size of input's dimension 2 to match the calculated number of sliding blocks {bh} * "
            f"{bw} = {bh * bw}, but got input.size(2)={length}."
        )
    if bh < 1 or bw < 1:
        raise RuntimeError(
            f"{where}calculated shape of the array of sliding blocks as ({bh}, {bw}), which is too small (non-positive)"
        )
    return _col2im_prim(input, o, k, d, p, s)


def _col2im_prim(x: Tensor, o: tuple, k: tuple, d: tuple, p: tuple, s: tuple) -> Tensor:
    xd = x._data
    x3 = xd.reshape(1, *xd.shape) if xd.ndim == 2 else xd
    n, ck = x3.shape[:2]
    c = ck // (k[0] * k[1])
    bh = (o[0] + 2 * p[0] - d[0] * (k[0] - 1) - 1) // s[0] + 1
    bw = (o[1] + 2 * p[1] - d[1] * (k[1] - 1) - 1) // s[1] + 1
    xp = x._dev.xp
    img = run_in(xp, lambda a: _col2im(xp, a, (n, c, o[0], o[1]), k, _block_geo(d, p, s), (bh, bw)), xd.dtype, x3)
    if xd.ndim == 2:
        img = img[0]
    return op_node("Col2ImBackward0", img, x, lambda g, x: unfold(g, k, d, p, s), False)


# ---- pixel shuffle -------------------------------------------------------------------------------------


def _shuffle(x: Tensor, r: int, up: bool) -> Tensor:
    shape = x._data.shape
    lead = shape[:-3]
    c, h, w = shape[-3:]
    d = x._data
    if up:
        oc = c // (r * r)
        a = d.reshape(*lead, oc, r, r, h, w)
        n = len(lead)
        a = a.transpose(*range(n), n, n + 3, n + 1, n + 4, n + 2).reshape(*lead, oc, h * r, w * r)
    else:
        oh, ow = h // r, w // r
        a = d.reshape(*lead, c, oh, r, ow, r)
        n = len(lead)
        a = a.transpose(*range(n), n, n + 2, n + 4, n + 1, n + 3).reshape(*lead, c * r * r, oh, ow)
    out = x._dev.xp.ascontiguousarray(a)
    if up:
        return op_node("PixelShuffleBackward0", out, x, lambda g, x: _shuffle(g, r, False), False)
    return op_node("PixelUnshuffleBackward0", out, x, lambda g, x: _shuffle(g, r, True), False)


def pixel_shuffle(input: Tensor, upscale_factor: int) -> Tensor:  # noqa: A002
    nd = input.dim()
    if nd < 3:
        raise RuntimeError(
            f"pixel_shuffle expects input to have at least 3 dimensions, but got input with {nd} dimension(s)"
        )
    r = int(upscale_factor)
    if r <= 0:
        raise RuntimeError(f"pixel_shuffle expects a positive upscale_factor, but got {r}")
    c = input._data.shape[-3]
    if c % (r * r):
        raise RuntimeError(
            "pixel_shuffle expects its input's 'channel' dimension to be divisible by the square of upscale_factor, "
            f"but input.size(-3)={c} is not divisible by {r * r}"
        )
    return _shuffle(input, r, True)


def pixel_unshuffle(input: Tensor, downscale_factor: int) -> Tensor:  # noqa: A002
    nd = input.dim()
    if nd < 3:
        raise RuntimeError(
            f"pixel_unshuffle expects input to have at least 3 dimensions, but got input with {nd} dimension(s)"
        )
    r = int(downscale_factor)
    if r <= 0:
        raise RuntimeError(f"pixel_unshuffle expects a positive downscale_factor, but got {r}")
    h, w = input._data.shape[-2:]
    if h % r:
        raise RuntimeError(
            f"pixel_unshuffle expects height to be divisible by downscale_factor, but input.size(-2)={h} is not "
            f"divisible by {r}"
        )
    if w % r:
        raise RuntimeError(
            f"pixel_unshuffle expects width to be divisible by downscale_factor, but input.size(-1)={w} is not "
            f"divisible by {r}"
        )
    return _shuffle(input, r, False)


# ---- interpolation (nearest, linear / bilinear) --------------------------------------------------------


_CUBIC_A = -0.75  # torch's bicubic kernel parameter


def _cubic_weights(t: Any, ct: Any) -> list:
    """torch's get_cubic_upsample_coefficients: the four weights of the taps at -1, 0, 1, 2 for offset t."""
    from engine.ops.fma import fma

    a = ct(_CUBIC_A)

    def c(v: float) -> Any:
        return np.full(t.shape, v, dtype=ct)

    # each `p * x + q` is one fused multiply-add, as the AVX2 build of torch's kernel contracts it
    def conv1(x: Any) -> Any:  # |x| <= 1: ((A + 2) x - (A + 3)) x x + 1
        return fma(fma(c(a + ct(2)), x, c(-(a + ct(3)))) * x, x, c(1.0))

    def conv2(x: Any) -> Any:  # 1 < |x| < 2: ((A x - 5A) x + 8A) x - 4A
        return fma(fma(fma(c(a), x, c(-ct(5) * a)), x, c(ct(8) * a)), x, c(-ct(4) * a))

    x2 = ct(1) - t
    return [conv2(t + ct(1)).astype(ct), conv1(t).astype(ct), conv1(x2).astype(ct), conv2(x2 + ct(1)).astype(ct)]


def _axis_taps(
    size: int, out: int, mode: str, align_corners: bool, scale: float | None, ct: Any, channels_last: bool = False
) -> tuple:
    """Per output position along one dim: the input positions it reads (one array per tap) and their weights
    (None for the nearest modes), computed in the kernel's precision `ct` as torch's cpu kernels do.
    `channels_last`: as torch's channels-last kernels index, whose mode 'nearest' copies a dim of unchanged size
    and halves the index of a doubled one whatever the scale factor says (as every nearest backward does too).
    The source position's whole part is taken as floorf does it, of the position rounded to float
    (guard_index_and_lambda), so a double a hair under a whole number counts as that number."""
    from engine.ops.fma import fma

    o = np.arange(out)
    if mode in ("nearest", "nearest-exact"):
        if channels_last and mode == "nearest" and out in (size, 2 * size):
            return [o if out == size else o >> 1], None
        s = np.float32(1.0 / scale) if scale is not None and scale > 0 else np.float32(size) / np.float32(out)
        if mode == "nearest":  # nearest_neighbor_compute_source_index: floorf(dst * scale), in float
            src = np.floor(o.astype(np.float32) * s)
        else:  # ..._exact: floorf((dst + 0.5) * scale), the product in double
            src = np.floor(((o + 0.5) * np.float64(s)).astype(np.float32))
        return [np.minimum(src.astype(np.int64), size - 1)], None
    if mode != "bicubic" and out == size:  # compute_source_index_and_lambda copies a dim of unchanged size
        return [o, o], [np.ones(out, dtype=ct), np.zeros(out, dtype=ct)]
    if align_corners:
        s = ct(size - 1) / ct(out - 1) if out > 1 else ct(0)
        src = s * o.astype(ct)
    else:
        s = ct(1.0 / scale) if scale is not None and scale > 0 else ct(size) / ct(out)
        # scale * (dst + 0.5) - 0.5 is one fused multiply-add in torch's cpu kernels (its AVX2 build contracts it)
        src = fma(np.full(out, s, dtype=ct), o.astype(ct) + ct(0.5), np.full(out, -0.5, dtype=ct))
        if mode != "bicubic":  # (cubic sources may lie before the first input)
            src = np.maximum(src, ct(0))
    i0 = np.minimum(np.floor(src.astype(np.float32)).astype(np.int64), size - 1)
    t = np.clip(src - i0.astype(ct), ct(0), ct(1)).astype(ct)
    if mode == "bicubic":
        idx = [np.clip(i0 + k, 0, size - 1) for k in (-1, 0, 1, 2)]  # (reads past an edge repeat the edge)
        return idx, _cubic_weights(t, ct)
    return [i0, i0 + (i0 < size - 1)], [(ct(1) - t).astype(ct), t]


_FMA = (np.dtype(np.float32), np.dtype(np.float64))


def _interp_arr(xp: Any, x: Any, taps: list) -> Any:
    """x's last len(taps) dims resampled (the last first): out = w0 * x[i0] + w1 * x[i1] + ... along each."""
    from engine.ops.fma import fma

    nd = x.ndim
    for k, (idx, ws) in enumerate(reversed(taps)):
        ax = nd - 1 - k
        at = (slice(None),) * ax
        if ws is None:
            x = x[(*at, xp.asarray(idx[0]))]
            continue
        shape = (-1,) + (1,) * k
        if len(idx) == 2:
            # torch's two-tap kernel is `t0 * w0 + t1 * w1`, which its AVX2 build contracts to fma(t0, w0, t1 * w1)
            acc = x[(*at, xp.asarray(idx[1]))] * xp.asarray(ws[1]).reshape(shape)
            idx, ws = idx[:1], ws[:1]
        else:
            # x0 * w0, then + x_j * w_j each as one fused multiply-add: torch's kernel accumulates `output += t * w`,
            # which its AVX2 build contracts
            acc = x[(*at, xp.asarray(idx[0]))] * xp.asarray(ws[0]).reshape(shape)
            idx, ws = idx[1:], ws[1:]
        for i, w in zip(idx, ws):
            term = x[(*at, xp.asarray(i))]
            wv = xp.asarray(w).reshape(shape)
            acc = fma(term, wv, acc) if acc.dtype in _FMA else acc + term * wv
        x = acc
    return x


def _half_weights(ws: list, ct: Any, low: Any = None) -> list:
    """Weights as torch's generic kernel stores them for a float16 input: each rounded to half, and a linear
    tap's 1 - lambda computed in half from the rounded lambda. `low`: another rounding (bfloat16's), on float32
    values."""
    if low is not None:
        return [low(np.asarray(w, np.float32)).astype(ct) for w in ws]
    h = [w.astype(np.float16) for w in ws]
    if len(h) == 2:
        h[0] = np.float16(1) - h[1]
    return [w.astype(ct) for w in h]


def _channels_last_dense(a: Any) -> bool:
    """torch's is_contiguous(memory_format=channels_last[_3d]) of an (N, C, *spatial) array: channels fastest,
    then the spatial dims from the last, then the batch, dims of size 1 not counting."""
    expected = 1
    for d in (1, *range(a.ndim - 1, 1, -1), 0):
        if a.shape[d] != 1:
            if a.strides[d] != expected * a.itemsize:
                return False
            expected *= a.shape[d]
    return True


def _corners_channels_last(xp: Any, x: Any, taps: list) -> Any:
    """torch's channels-last linear kernel (a small 2-d image takes it, and a channels-last input of more than 3
    channels): not separable, but all 2**k corners at once, each weighted by the product of its per-dim weights.
    It runs over the channels 256 bits at a time, `v0 * w0 + (v1 * w1 + (... + (vn-2 * wn-2 + vn-1 * wn-1)))`
    contracted from the right (the innermost sum fusing its second product), and the channels left over one at
    a time, `v0 * w0 + v1 * w1 + ...` contracted from the left."""
    from engine.ops.fma import fma

    k = len(taps)
    shape = x.shape[:-k] + tuple(idx[0].size for idx, _ in taps)
    terms = []
    for choice in itertools.product((0, 1), repeat=k):
        index, w = [], None
        for d, c in enumerate(choice):
            view = [1] * k
            view[d] = -1
            idx, ws = taps[d]
            index.append(xp.asarray(idx[c]).reshape(view))
            w = ws[c].reshape(view) if w is None else w * ws[c].reshape(view)
        terms.append((x[(Ellipsis, *index)], xp.broadcast_to(xp.asarray(w), shape)))
    out = fma(terms[0][0], terms[0][1], terms[1][0] * terms[1][1])
    for v, w in terms[2:]:
        out = fma(v, w, out)
    vectors = x.shape[1] - x.shape[1] % (32 // x.dtype.itemsize)
    if vectors:
        at = (slice(None), slice(0, vectors))
        acc = fma(terms[-1][0][at], terms[-1][1][at], terms[-2][0][at] * terms[-2][1][at])
        for v, w in reversed(terms[:-2]):
            acc = fma(v[at], w[at], acc)
        out[at] = acc
    return out


# The ordered backward's fused multiply-adds are emulated (engine/ops/fma.py), several times the separable
# adjoint's cost: past this many (plane, contribution) pairs, or this many contributions to one input position
# (one loop step each), the last bit is not worth it and the separable adjoint runs (equal to rounding).
_ORDERED_WORK = 1 << 20
_ORDERED_RANKS = 4096


def _interp_bw_ordered(xp: Any, g: Any, shape: tuple, taps: list) -> Any:
    """torch's nearest and linear backward kernels: per plane, output by output (row-major) and corner by corner
    within one, `acc[corner] += weight * grad` (a fused multiply-add; the weight the product of the per-dim
    ones, outer dim first), so each input position sums its contributions in torch's order. None where that
    order would take too many steps."""
    from engine.ops.fma import fma
    from engine.ops.util import add_at

    k = len(taps)
    outs, ins = g.shape[-k:], shape[-k:]
    planes, m = math.prod(g.shape[:-k]), math.prod(outs)
    targets, weights = [], []
    for choice in itertools.product(*(range(len(idx)) for idx, _ in taps)):
        flat, w = 0, None
        for d, c in enumerate(choice):
            idx, ws = taps[d]
            view = [1] * k
            view[d] = -1
            flat = flat * ins[d] + idx[c].reshape(view)
            if ws is not None:
                w = ws[c].reshape(view) if w is None else w * ws[c].reshape(view)
        targets.append(np.broadcast_to(flat, outs).reshape(-1))
        if w is not None:
            weights.append(np.broadcast_to(w, outs).reshape(-1))
    corners = len(targets)
    target = np.stack(targets, axis=1).reshape(-1)  # (output-major, corner-minor)
    if not weights:  # nearest: plain sums, which ufunc.at adds in index order
        acc = xp.zeros((planes, math.prod(ins)), dtype=g.dtype)
        grads = xp.repeat(g.reshape(planes, m), corners, axis=1)
        add_at(xp, acc, (xp.arange(planes)[:, None], xp.asarray(target)[None, :]), grads)
        return acc.reshape(shape)
    weight = np.stack(weights, axis=1).reshape(-1)
    order = np.argsort(target, kind="stable")
    ranked = target[order]
    starts = np.flatnonzero(np.r_[True, ranked[1:] != ranked[:-1]])
    rank = np.arange(ranked.size) - np.repeat(starts, np.diff(np.r_[starts, ranked.size]))
    if rank.size and rank.max() >= _ORDERED_RANKS:
        return None
    # (positions first, planes last: each step reads and writes whole rows)
    grads = xp.repeat(g.reshape(planes, m).T, corners, axis=0)
    acc = xp.zeros((math.prod(ins), planes), dtype=g.dtype)
    for r in range(int(rank.max()) + 1 if rank.size else 0):
        sel = order[rank == r]  # (at most one contribution per position at each rank)
        t = xp.asarray(target[sel])
        w = xp.broadcast_to(xp.asarray(weight[sel])[:, None], (sel.size, planes))
        acc[t] = fma(w, grads[xp.asarray(sel)], acc[t])
    return xp.ascontiguousarray(acc.T).reshape(shape)


def _interp_bw_arr(xp: Any, g: Any, shape: tuple, taps: list) -> Any:
    """The adjoint of _interp_arr: each output's gradient added back into the positions it read (in torch's
    order for nearest and linear; bicubic's separably)."""
    from engine.ops.util import add_at

    linear = taps[0][1] is not None
    if len(taps[0][0]) <= 2 and g.dtype in _FMA and not (linear and g.size * 2 ** len(taps) > _ORDERED_WORK):
        ordered = _interp_bw_ordered(xp, g, shape, taps)
        if ordered is not None:
            return ordered
    nd = g.ndim
    for k, (idx, ws) in enumerate(taps):
        ax = nd - len(taps) + k
        at = (slice(None),) * ax
        tshape = list(g.shape)
        tshape[ax] = shape[ax]
        acc = xp.zeros(tuple(tshape), dtype=g.dtype)
        if ws is None:
            add_at(xp, acc, (*at, xp.asarray(idx[0])), g)
        else:
            wshape = (-1,) + (1,) * (nd - 1 - ax)
            for i, w in zip(idx, ws):
                add_at(xp, acc, (*at, xp.asarray(i)), g * xp.asarray(w).reshape(wshape))
        g = acc
    return g


_UPSAMPLE_NAMES = {
    ("nearest", 1): "UpsampleNearest1DBackward0",
    ("nearest", 2): "UpsampleNearest2DBackward0",
    ("nearest-exact", 1): "UpsampleNearestExact1DBackward0",
    ("nearest-exact", 2): "UpsampleNearestExact2DBackward0",
    ("bicubic", 2): "UpsampleBicubic2DBackward0",
    ("linear", 1): "UpsampleLinear1DBackward0",
    ("bilinear", 2): "UpsampleBilinear2DBackward0",
    ("nearest", 3): "UpsampleNearest3DBackward0",
    ("nearest-exact", 3): "UpsampleNearestExact3DBackward0",
    ("trilinear", 3): "UpsampleTrilinear3DBackward0",
}


def _upsample(x: Tensor, sizes: list, scales: list, mode: str, align_corners: bool) -> Tensor:
    d = x._data
    xp = x._dev.xp
    ct = np.float64 if d.dtype == np.float64 else np.float32
    k = len(sizes)
    # torch's channels-last kernels take a channels-last input of more than 3 channels, and (bicubic aside) a 2-d
    # image whose output is small (height + width <= 128)
    cl = (
        mode != "bicubic"
        and k > 1
        and ((d.shape[1] > 3 and _channels_last_dense(d)) or (k == 2 and sizes[0] + sizes[1] <= 128))
    )

    def taps_of(cl: bool) -> list:
        return [_axis_taps(d.shape[-k + i], sizes[i], mode, align_corners, scales[i], ct, cl) for i in range(k)]

    taps = taps_of(cl)
    if d.dtype.kind == "f":
        # (past _ORDERED_WORK outputs the emulated fused multiply-adds of the four-corner form cost several times
        # the separable passes, which agree to rounding)
        corners = cl and taps[0][1] is not None and math.prod(d.shape[:-k]) * math.prod(sizes) <= _ORDERED_WORK
        kernel = _corners_channels_last if corners else _interp_arr
        fw = taps
        if d.dtype == np.float16 and not cl:  # (the generic kernel keeps its weights in the input's dtype)
            fw = [(idx, ws and _half_weights(ws, ct)) for idx, ws in taps]
        elif d.dtype.metadata is not None and mode == "bicubic" and not cl:  # (bfloat16 likewise, for bicubic)
            fw = [(idx, ws and _half_weights(ws, ct, lambda w: round_bits(w))) for idx, ws in taps]
        out = run_in(xp, lambda a: kernel(xp, a, fw), d.dtype, d)
    else:
        out = _interp_arr(xp, d, taps)
    name = _UPSAMPLE_NAMES[mode, k]
    shape = d.shape

    def backward(g: Tensor, x: Tensor) -> Tensor:
        bw_taps = taps if cl or mode != "nearest" else taps_of(True)  # (as every nearest backward indexes)
        gx = run_in(g._dev.xp, lambda a: _interp_bw_arr(g._dev.xp, a, shape, bw_taps), g._data.dtype, g._data)
        return grad_node(
            name[:-1] + "Backward0", gx, g, None, lambda gg: _upsample(gg, sizes, scales, mode, align_corners)
        )

    return op_node(name, xp.ascontiguousarray(out), x, backward, False)


_COVERED = frozenset({("nearest", 3), ("nearest", 4), ("nearest", 5), ("nearest-exact", 3), ("nearest-exact", 4),
                      ("nearest-exact", 5), ("linear", 3), ("bilinear", 4), ("bicubic", 4), ("trilinear", 5),
                      ("area", 3), ("area", 4), ("area", 5)})  # fmt: skip

# the kernel torch's NotImplementedError names for an integer input (the channels-last one for a 4-d image)
_INT_KERNELS = {("nearest", 3): "compute_indices_weights_nearest", ("linear", 3): "compute_indices_weights_linear",
                ("nearest", 4): "upsample_nearest2d_channels_last", ("nearest-exact", 3):
                "compute_indices_weights_nearest", ("nearest-exact", 4): "upsample_nearest2d_channels_last",
                ("bicubic", 4): "compute_indices_weights_cubic", ("bilinear", 4): "upsample_bilinear2d_channels_last",
                ("nearest", 5): "compute_indices_weights_nearest", ("nearest-exact", 5):
                "compute_indices_weights_nearest", ("trilinear", 5): "compute_indices_weights_linear"}  # fmt: skip


def interpolate(input: Tensor, size: Any = None, scale_factor: Any = None, mode: str = "nearest",
                align_corners: bool | None = None, recompute_scale_factor: bool | None = None,
                antialias: bool = False) -> Tensor:  # noqa: A002  # fmt: skip
    """torch.nn.functional.interpolate for modes nearest, nearest-exact and area (3-d to 5-d input), linear (3-d),
    bilinear and bicubic (4-d) and trilinear (5-d)."""
    if mode in ("nearest", "area", "nearest-exact"):
        if align_corners is not None:
            raise ValueError(
                "align_corners option can only be set with the interpolating modes: linear | bilinear | bicubic | "
                "trilinear"
            )
    elif align_corners is None:
        align_corners = False
    dim = input.dim() - 2
    spatial = list(input._data.shape[2:])
    if size is not None and scale_factor is not None:
        raise ValueError("only one of size or scale_factor should be defined")
    if size is not None:
        scales = None
        if isinstance(size, (list, tuple)):
            if len(size) != dim:
                raise ValueError(
                    f"Input and output must have the same number of spatial dimensions, but got input with spatial "
                    f"dimensions of {spatial} and output size of {size}. Please provide input tensor in (N, C, d1, "
                    "d2, ...,dK) format and output size in (o1, o2, ...,oK) format."
                )
            if not all(isinstance(v, (int, np.integer)) for v in size):
                raise TypeError(
                    "expected size to be one of int or Tuple[int] or Tuple[int, int] or Tuple[int, int, int], but "
                    f"got size with types {[type(v) for v in size]}"
                )
            out_size = [int(v) for v in size]
        else:
            out_size = [int(size)] * dim
    elif scale_factor is not None:
        out_size = None
        if isinstance(scale_factor, (list, tuple)):
            if len(scale_factor) != dim:
                raise ValueError(
                    f"Input and scale_factor must have the same number of spatial dimensions, but got input with "
                    f"spatial dimensions of {spatial} and scale_factor of shape {scale_factor}. Please provide input "
                    "tensor in (N, C, d1, d2, ...,dK) format and scale_factor in (s1, s2, ...,sK) format."
                )
            scales = [float(s) for s in scale_factor]
        else:
            scales = [float(scale_factor)] * dim
    else:
        raise ValueError("either size or scale_factor should be defined")
    if recompute_scale_factor and size is not None:
        raise ValueError("recompute_scale_factor is not meaningful with an explicit size.")
    if recompute_scale_factor:
        out_size = [math.floor(float(spatial[i]) * scales[i]) for i in range(dim)]
        scales = None
    if antialias and not (mode in ("bilinear", "bicubic", "lanczos") and input.dim() == 4):
        raise ValueError(
            "Anti-alias option is restricted to bilinear, bicubic, and lanczos modes and requires a 4-D tensor as input"
        )
    key = (mode, input.dim())
    needs = {"linear": 3, "bilinear": 4, "trilinear": 5}
    if mode in needs and input.dim() in (3, 4, 5) and input.dim() != needs[mode]:
        raise NotImplementedError(f"Got {input.dim()}D input, but {mode} mode needs {needs[mode]}D input")
    if mode == "lanczos" and input.dim() == 4 and not antialias:
        raise ValueError("Lanczos mode requires antialias=True")
    if key not in _COVERED:
        raise NotImplementedError(
            f"Input Error: Only 3D, 4D and 5D input Tensors supported (got {input.dim()}D) for the modes: nearest | "
            f"linear | bilinear | bicubic | trilinear | lanczos | area | nearest-exact (got {mode})"
        )
    if out_size is None:
        out_size = [int(spatial[i] * scales[i]) for i in range(dim)]
        scales_k = scales
    else:
        scales_k = [None] * dim
    if mode == "area":  # torch: an adaptive average pool to the output size
        from engine.nn import functional_pool as P

        return (P.adaptive_avg_pool1d, P.adaptive_avg_pool2d, P.adaptive_avg_pool3d)[dim - 1](input, out_size)
    dt = input._data.dtype
    if antialias:
        from engine.nn.interpolate_aa import check_dtype

        check_dtype(input, mode)
    elif dt.kind in "iub" and not (dt == np.uint8 and mode in ("nearest", "nearest-exact")):
        if dt == np.uint8 and mode in ("bilinear", "bicubic"):
            # torch rounds each of two separable passes in fixed point; not reproduced, so no answer rather than
            # one that is off by one in a pixel of six
            raise NotImplementedError(
                f"the engine's {mode} interpolate of a uint8 image is not torch's fixed-point one; "
                "interpolate image.float() and round, or use mode='nearest'"
            )
        kernel = _INT_KERNELS[key]
        raise NotImplementedError(f"\"{kernel}\" not implemented for '{FROM_NP[dt].scalar_name()}'")
    shape = input._data.shape
    if input.numel() == 0 and not int(np.prod(shape[1:])):
        raise RuntimeError(f"Non-empty {dim + 2}D data tensor expected but got a tensor with sizes {shape_text(shape)}")
    if any(n <= 0 for n in spatial) or any(n <= 0 for n in out_size):
        axes = ("D", "H", "W")[-dim:]
        given = ", ".join(f"{a}: {n}" for a, n in zip(axes, spatial))
        wanted = ", ".join(f"{a}: {n}" for a, n in zip(axes, out_size))
        # (torch's 1-d message has an "and" the others lack)
        raise RuntimeError(
            f"Input and output sizes should be greater than 0, but got input ({given}){' and' * (dim == 1)} "
            f"output ({wanted})"
        )
    if antialias:
        from engine.nn.interpolate_aa import interpolate_aa

        return interpolate_aa(input, out_size, scales_k, mode, bool(align_corners))
    return _upsample(input, out_size, scales_k, mode, bool(align_corners))


def _deprecated_upsample(what: str) -> None:
    warnings.warn(
        f"`nn.functional.{what}` is deprecated. Use `nn.functional.interpolate` instead.",
        UserWarning,
        stacklevel=user_stacklevel(),
    )


def upsample(input: Tensor, size: Any = None, scale_factor: Any = None, mode: str = "nearest",
             align_corners: bool | None = None) -> Tensor:  # noqa: A002  # fmt: skip
    _deprecated_upsample("upsample")
    return interpolate(input, size, scale_factor, mode, align_corners)


def upsample_nearest(input: Tensor, size: Any = None, scale_factor: Any = None) -> Tensor:  # noqa: A002
    _deprecated_upsample("upsample_nearest")
    return interpolate(input, size, scale_factor, mode="nearest")


def upsample_bilinear(input: Tensor, size: Any = None, scale_factor: Any = None) -> Tensor:  # noqa: A002
    _deprecated_upsample("upsample_bilinear")
    return interpolate(input, size, scale_factor, mode="bilinear", align_corners=True)


FUNCTIONS: dict[str, Callable] = {
    "conv1d": conv1d,
    "conv2d": conv2d,
    "conv3d": conv3d,
    "conv_transpose1d": conv_transpose1d,
    "conv_transpose2d": conv_transpose2d,
    "conv_transpose3d": conv_transpose3d,
    "pad": pad,
    "unfold": unfold,
    "fold": fold,
    "pixel_shuffle": pixel_shuffle,
    "pixel_unshuffle": pixel_unshuffle,
    "interpolate": interpolate,
    "upsample": upsample,
    "upsample_nearest": upsample_nearest,
    "upsample_bilinear": upsample_bilinear,
}


# ---- torch's errors for raw data passed in (engine/nn/arg_checks.py) -------------------------------------------
def _install_arg_checks() -> None:
    from engine.nn import arg_checks

    g = globals()
    for name in ("pixel_shuffle", "pad"):
        g[name] = FUNCTIONS[name] = arg_checks.parser(g[name], name)


_install_arg_checks()
