"""torch.nn.functional's convolutions, pooling, padding, fold/unfold, pixel shuffle and interpolation.

Each op runs as torch's one ATen kernel: the forward is array code on the device's xp (numpy or cupy), the
result carries torch's node (ConvolutionBackward0, MaxPool2DWithIndicesBackward0, ReflectionPad2DBackward0,
...), and the backward is written with the same engine-level primitives, so a plain backward stays in array
code while create_graph=True builds a graph that can be differentiated again (torch's double-backward nodes:
ConvolutionBackwardBackward0, MaxPool2DWithIndicesBackwardBackward0, ...).

Convolution: im2col (a strided window view of the padded input, copied once into columns) and one batched
matmul; the input gradient (= a transposed convolution) is matmul then col2im (a loop over kernel offsets,
each one strided add); the weight gradient is a batched matmul of the output gradient with the columns.
1-d ops run as 2-d ones over a height of 1 (array reshapes, no graph nodes).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from typing import Any, NamedTuple

import numpy as np

from engine.autograd import Node
from engine.dtypes import FROM_NP
from engine.grad_mode import ENABLED
from engine.nn import functional as _functional
from engine.ops.util import edge_of, node_class, parser_arg_text, parser_type_name, record
from engine.ops.util import saved as saved_versions
from engine.tensor import Tensor, wrap
from engine.warn import user_stacklevel

# torch's C++ type names, as its dtype-mismatch errors print them (caffe2::TypeMeta::name)
_CPP_NAMES = {"float32": "float", "float64": "double", "float16": "c10::Half", "int64": "long int", "int32": "int",
              "int16": "short int", "int8": "signed char", "uint8": "unsigned char", "bool": "bool"}  # fmt: skip


def _shape_text(shape: Any) -> str:
    return "[" + ", ".join(str(int(n)) for n in shape) + "]"


def _cpp_name(t: Tensor) -> str:
    return _CPP_NAMES.get(t._data.dtype.name, t._data.dtype.name)


def _strided(xp: Any, a: Any, shape: tuple, strides: tuple) -> Any:
    """A strided view of a (numpy's and cupy's as_strided): the windows im2col and pooling read. On the host
    every window must lie inside a's memory (a geometry taken from a wrong-sized gradient would read past it)."""
    if type(a) is np.ndarray:
        _inside(a, shape, strides)
    elif not hasattr(a, "__cuda_array_interface__"):
        raise TypeError(f"expected an array, got {type(a).__name__}")
    return xp.lib.stride_tricks.as_strided(a, shape, strides)


def _inside(a: np.ndarray, shape: tuple, strides: tuple) -> None:
    if a.dtype.kind == "O":
        raise TypeError("convolution and pooling take numeric tensors")
    if any(n == 0 for n in shape):
        return
    lo, hi = np.lib.array_utils.byte_bounds(a)
    ptr = a.__array_interface__["data"][0]
    reach = sum((n - 1) * s for n, s in zip(shape, strides) if s > 0)
    back = sum((n - 1) * s for n, s in zip(shape, strides) if s < 0)
    if ptr + back < lo or ptr + reach + a.itemsize > hi:
        raise RuntimeError(
            f"internal error: a window of shape {list(shape)} would read outside its input of shape {list(a.shape)}"
        )


def _as4d(a: Any, nd: int) -> Any:
    """(N, C, L) as (N, C, 1, L): 1-d ops run as 2-d ones over a height of 1."""
    return a.reshape(a.shape[0], a.shape[1], 1, a.shape[2]) if nd == 1 else a


def _from4d(a: Any, nd: int) -> Any:
    return a.reshape(a.shape[0], a.shape[1], a.shape[3]) if nd == 1 else a


def _pad4d(xp: Any, a: Any, top: int, bottom: int, left: int, right: int, value: Any = 0) -> Any:
    """a (N, C, H, W) with rows and columns of `value` around it (one allocation and one copy)."""
    if not (top or bottom or left or right):
        return a
    n, c, h, w = a.shape
    out = xp.full((n, c, h + top + bottom, w + left + right), value, dtype=a.dtype)
    out[:, :, top : top + h, left : left + w] = a
    return out


# ---- convolution: argument checks (torch's order and texts) ---------------------------------------------


class _Geo(NamedTuple):
    """A convolution's geometry, in 2-d form (a 1-d op has height parameters (1, 0, 1, 0))."""

    nd: int
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
    raise TypeError(f"{fname}(): argument '{name}' must be tuple of ints, not {type(value).__name__}")


def _expand(values: list, name: str, k: int) -> tuple:
    """ATen's expand_param_if_needed: one value for every spatial dim, or exactly one per dim."""
    if len(values) == 1:
        return tuple(values) * k
    if len(values) != k:
        raise RuntimeError(
            f"expected {name} to be a single integer value or a list of {k} values to match the convolution "
            f"dimensions, but got {name}={_shape_text(values)}"
        )
    return tuple(values)


def _batchify(input: Tensor, nd: int, fname: str) -> tuple[Tensor, bool]:  # noqa: A002
    dim = input.dim()
    if dim not in (nd + 1, nd + 2):
        raise RuntimeError(
            f"Expected {nd + 1}D (unbatched) or {nd + 2}D (batched) input to {fname}, but got input of size: "
            f"{_shape_text(input.shape)}"
        )
    return (input, True) if dim == nd + 2 else (input.unsqueeze(0), False)


_SAME_WARNED = [False]


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
    if any(p < 0 for p in pd):
        raise RuntimeError("negative padding is not supported")
    if any(p < 0 for p in op):
        raise RuntimeError("negative output_padding is not supported")
    if any(s <= 0 for s in st):
        raise RuntimeError("non-positive stride is not supported")
    if any(d < 0 for d in dl):
        raise RuntimeError("dilation should be greater than zero")
    xshape = x._data.shape
    if len(wshape) != len(xshape):
        raise RuntimeError(
            f"Expected {len(wshape)}-dimensional input for {len(wshape)}-dimensional weight {_shape_text(wshape)}, "
            f"but got {len(xshape)}-dimensional input of size {_shape_text(xshape)} instead"
        )
    if wshape[0] < groups:
        raise RuntimeError(
            f"Given groups={groups}, expected weight to be at least {groups} at dimension 0, but got weight of size "
            f"{_shape_text(wshape)} instead"
        )
    if wshape[0] % groups:
        raise RuntimeError(
            f"Given groups={groups}, expected weight to be divisible by {groups} at dimension 0, but got weight of "
            f"size [{_shape_text(wshape)}] instead"
        )
    bshape = None if b is None else b._data.shape
    if not transposed:
        if xshape[1] != wshape[1] * groups:
            raise RuntimeError(
                f"Given groups={groups}, weight of size {_shape_text(wshape)}, expected input{_shape_text(xshape)} "
                f"to have {wshape[1] * groups} channels, but got {xshape[1]} channels instead"
            )
        if bshape is not None and (len(bshape) != 1 or bshape[0] != wshape[0]):
            raise RuntimeError(
                f"Given weight of size {_shape_text(wshape)}, expected bias to be 1-dimensional with {wshape[0]} "
                f"elements, but got bias of size {_shape_text(bshape)} instead"
            )
        sizes = [xshape[i + 2] + 2 * pd[i] for i in range(k)]
        kernel = [dl[i] * (wshape[i + 2] - 1) + 1 for i in range(k)]
        if any(s < kk for s, kk in zip(sizes, kernel)):
            raise RuntimeError(
                f"Calculated padded input size per channel: ({' x '.join(map(str, sizes))}). Kernel size: "
                f"({' x '.join(map(str, kernel))}). Kernel size can't be greater than actual input size"
            )
        if any(d == 0 for d in dl):
            raise RuntimeError("non-positive dilation is not supported")
    else:
        if xshape[1] != wshape[0]:
            raise RuntimeError(
                f"Given transposed=1, weight of size {_shape_text(wshape)}, expected input{_shape_text(xshape)} to "
                f"have {wshape[0]} channels, but got {xshape[1]} channels instead"
            )
        if bshape is not None and (len(bshape) != 1 or bshape[0] != wshape[1] * groups):
            raise RuntimeError(
                f"Given transposed=1, weight of size {_shape_text(wshape)}, expected bias to be 1-dimensional with "
                f"{wshape[1] * groups} elements, but got bias of size {_shape_text(bshape)} instead"
            )
        # (the slow kernels' checks, on 2-d parameters: a 1-d op's height is (1, 0, 1, 0))
        s2, d2, o2 = ((1, *st), (1, *dl), (0, *op)) if k == 1 else (st, dl, op)
        if not all(o2[i] < s2[i] or o2[i] < d2[i] for i in range(len(s2))):
            raise RuntimeError(
                f"output padding must be smaller than either stride or dilation, but got output_padding_height: "
                f"{o2[0]} output_padding_width: {o2[1]} stride_height: {s2[0]} stride_width: {s2[1]} "
                f"dilation_height: {d2[0]} dilation_width: {d2[1]}"
            )
        if any(d == 0 for d in dl):
            raise RuntimeError(
                f"dilation should be greater than zero, but got dilation_height: {d2[0]}, dilation_width: {d2[1]}"
            )
    if x._data.dtype != w._data.dtype:
        raise RuntimeError(
            f"Input type ({x.type()}) and weight type ({w.type()}) should be the same or input should be a MKLDNN "
            "tensor and weight is a dense tensor"
        )
    if x._data.dtype == np.bool_:
        name = "slow_conv_transpose2d_out_cpu" if transposed else "slow_conv2d_cpu"
        raise NotImplementedError(f"\"{name}\" not implemented for 'Bool'")
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
    if k == 1:
        return _Geo(1, (1, st[0]), (0, pd[0]), (1, dl[0]), transposed, (0, op[0]), groups)
    if k != 2:
        raise NotImplementedError("the engine's convolutions are 1-d and 2-d")
    return _Geo(2, st, pd, dl, transposed, op, groups)


# ---- convolution: array kernels ------------------------------------------------------------------------


def _compute_dtype(a: Any) -> Any:
    # float16 is computed in float32 and rounded once (torch's cpu kernels accumulate half in float)
    return np.float32 if a.dtype == np.float16 else a.dtype


def _im2col(xp: Any, x: Any, kh: int, kw: int, geo: _Geo, oh: int, ow: int) -> Any:
    """x (N, C, H, W) as columns (N, G, C/G * kh * kw, oh * ow): each output position's window, copied once."""
    (sh, sw), (ph, pw), (dh, dw) = geo.stride, geo.padding, geo.dilation
    xp_ = _pad4d(xp, x, ph, ph, pw, pw)
    n, c = x.shape[:2]
    s = xp_.strides
    win = _strided(xp, xp_, (n, c, kh, kw, oh, ow), (s[0], s[1], s[2] * dh, s[3] * dw, s[2] * sh, s[3] * sw))
    g = geo.groups
    return win.reshape(n, g, (c // g) * kh * kw, oh * ow)


def _col2im(xp: Any, cols: Any, shape: tuple, kh: int, kw: int, geo: _Geo, oh: int, ow: int) -> Any:
    """The adjoint of _im2col: columns (N, C * kh * kw, oh * ow) summed back into an (N, C, H, W) image. One
    strided add per kernel offset (windows overlap, so one strided view cannot take them all at once)."""
    (sh, sw), (ph, pw), (dh, dw) = geo.stride, geo.padding, geo.dilation
    n, c, h, w = shape
    # the padded image must hold every window, also those a transposed conv's output_padding leaves out
    hp = max(h + 2 * ph, (oh - 1) * sh + (kh - 1) * dh + 1)
    wp = max(w + 2 * pw, (ow - 1) * sw + (kw - 1) * dw + 1)
    img = xp.zeros((n, c, hp, wp), dtype=cols.dtype)
    cols = cols.reshape(n, c, kh, kw, oh, ow)
    he, we = (oh - 1) * sh + 1, (ow - 1) * sw + 1
    for i in range(kh):
        for j in range(kw):
            img[:, :, i * dh : i * dh + he : sh, j * dw : j * dw + we : sw] += cols[:, :, i, j]
    if hp == h and wp == w:
        return img
    return xp.ascontiguousarray(img[:, :, ph : ph + h, pw : pw + w])


def _out_size(n: int, k: int, s: int, p: int, d: int) -> int:
    return (n + 2 * p - d * (k - 1) - 1) // s + 1


def _conv_fwd(xp: Any, x: Any, w: Any, geo: _Geo, out_hw: tuple | None = None) -> Any:
    """The convolution of x (N, C, H, W) with w (O, C/G, kh, kw): (N, O, OH, OW). out_hw: the output size where
    it is known (a transposed convolution's input gradient: with output_padding >= stride, allowed when it is
    below the dilation, the formula would give one more row)."""
    n, _, h, wd = x.shape
    o, cg, kh, kw = w.shape
    if out_hw is None:
        oh = _out_size(h, kh, geo.stride[0], geo.padding[0], geo.dilation[0])
        ow = _out_size(wd, kw, geo.stride[1], geo.padding[1], geo.dilation[1])
    else:
        oh, ow = out_hw
    g = geo.groups
    cols = _im2col(xp, x, kh, kw, geo, oh, ow)
    out = xp.matmul(w.reshape(g, o // g, cg * kh * kw), cols)  # (N, G, O/G, L): contiguous, in NCHW order
    return out.reshape(n, o, oh, ow)


def _conv_input(xp: Any, gy: Any, w: Any, geo: _Geo, shape: tuple) -> Any:
    """The adjoint of _conv_fwd in its input (the input gradient, and the transposed convolution): gy
    (N, O, OH, OW) with w (O, C/G, kh, kw) into an image of `shape` (N, C, H, W)."""
    n, o, oh, ow = gy.shape
    _, cg, kh, kw = w.shape
    g = geo.groups
    wm = xp.ascontiguousarray(w.reshape(g, o // g, cg * kh * kw).transpose(0, 2, 1))  # (small; BLAS wants it so)
    cols = xp.matmul(wm, gy.reshape(n, g, o // g, oh * ow))  # (N, G, C/G * kh * kw, L)
    return _col2im(xp, cols, shape, kh, kw, geo, oh, ow)


def _conv_weight(xp: Any, x: Any, gy: Any, wshape: tuple, geo: _Geo) -> Any:
    """The adjoint of _conv_fwd in its weight (the weight gradient): sum over the batch and positions of gy
    times the input's columns, (O, C/G, kh, kw)."""
    n, o, oh, ow = gy.shape
    _, cg, kh, kw = wshape
    g = geo.groups
    cols = _im2col(xp, x, kh, kw, geo, oh, ow)  # (N, G, K, L)
    # (N, G, K, O/G): measured faster than gy @ cols^T, whose transposed operand is the larger one
    gw = xp.matmul(cols, gy.reshape(n, g, o // g, oh * ow).transpose(0, 1, 3, 2))
    return xp.ascontiguousarray(gw.sum(axis=0).transpose(0, 2, 1)).reshape(wshape)


def _transposed_shape(x: Any, w: Any, geo: _Geo) -> tuple:
    """A transposed convolution's output shape (N, C_out, H, W) from its input and weight (4-d forms)."""
    n, _, h, wd = x.shape
    _, cg, kh, kw = w.shape
    (sh, sw), (ph, pw), (dh, dw), (oph, opw) = geo.stride, geo.padding, geo.dilation, geo.output_padding
    return (n, cg * geo.groups, (h - 1) * sh - 2 * ph + dh * (kh - 1) + oph + 1,
            (wd - 1) * sw - 2 * pw + dw * (kw - 1) + opw + 1)  # fmt: skip


def _run(xp: Any, fn: Callable, dtype: Any, *arrays: Any) -> Any:
    """fn on the arrays in their compute dtype (float16 in float32), the result in `dtype`."""
    ct = _compute_dtype(arrays[0])
    r = fn(*(a.astype(ct) if a.dtype != ct else a for a in arrays))
    return r.astype(dtype) if r.dtype != dtype else r


def _convolution_arr(x: Any, w: Any, b: Any, geo: _Geo, xp: Any) -> Any:
    nd = geo.nd
    x4, w4 = _as4d(x, nd), _as4d(w, nd)
    if geo.transposed:
        shape = _transposed_shape(x4, w4, geo)
        out = _run(xp, lambda a, k: _conv_input(xp, a, k, geo, shape), x.dtype, x4, w4)
    else:
        out = _run(xp, lambda a, k: _conv_fwd(xp, a, k, geo), x.dtype, x4, w4)
    if b is not None:
        out += b.reshape(1, -1, 1, 1)
    return _from4d(out, nd)


def _convolution_backward_arr(g: Any, x: Any, w: Any, geo: _Geo, mask: tuple, xp: Any) -> tuple:
    nd = geo.nd
    g4, x4, w4 = _as4d(g, nd), _as4d(x, nd), _as4d(w, nd)
    gx = gw = gb = None
    if geo.transposed:  # out = conv_input(x, w): its input gradient is the convolution of g
        if mask[0]:
            gx = _run(xp, lambda a, k: _conv_fwd(xp, a, k, geo, x4.shape[2:]), g.dtype, g4, w4)
        if mask[1]:
            gw = _run(xp, lambda a, b: _conv_weight(xp, a, b, w4.shape, geo), g.dtype, g4, x4)
    else:
        if mask[0]:
            gx = _run(xp, lambda a, k: _conv_input(xp, a, k, geo, x4.shape), g.dtype, g4, w4)
        if mask[1]:
            gw = _run(xp, lambda a, b: _conv_weight(xp, a, b, w4.shape, geo), g.dtype, x4, g4)
    if mask[2]:
        gb = g4.sum(axis=(0, 2, 3))
    return (None if gx is None else _from4d(gx, nd), None if gw is None else gw.reshape(w.shape), gb)


# ---- convolution: the graph ----------------------------------------------------------------------------


def _conv_bw(self: Node, g: Tensor, x: Tensor, w: Tensor, geo: _Geo) -> tuple:
    n = self._next
    return _convolution_backward(g, x, w, geo, (n[0] is not None, n[1] is not None, n[2] is not None))


ConvolutionBackward0 = node_class("ConvolutionBackward0", _conv_bw)


def _convolution(x: Tensor, w: Tensor, b: Tensor | None, geo: _Geo) -> Tensor:
    """aten::convolution on checked arguments: one ConvolutionBackward0 node with edges (input, weight, bias)."""
    out = _convolution_arr(x._data, w._data, None if b is None else b._data, geo, x._dev.xp)
    return record(ConvolutionBackward0, out, x._dev, (x, w, b), (x, w, geo), (*saved_versions(x, w), None))


def _conv_bwbw(self: Node, gg: Tensor, g: Tensor, x: Tensor, w: Tensor, geo: _Geo) -> tuple:
    """torch's _convolution_double_backward, for the one output (gx, gw or gb) this node made: the gradients
    for (grad_output, input, weight), in convolution and convolution_backward (so it can go on)."""
    n, k = self._next, self._k
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


class ConvolutionBackwardBackward0(Node):
    """One output of convolution_backward: torch has one node for the three, each tensor here has its own,
    with the same edges (grad_output, input, weight) and its output number."""

    _k = 0

    backward = _conv_bwbw


def _convolution_backward(g: Tensor, x: Tensor, w: Tensor, geo: _Geo, mask: tuple) -> tuple:
    """aten::convolution_backward: (grad_input, grad_weight, grad_bias), each only where mask asks for it.
    Under grad mode (create_graph) each result gets a ConvolutionBackwardBackward0 node."""
    arrays = _convolution_backward_arr(g._data, x._data, w._data, geo, mask, g._dev.xp)
    outs = tuple(None if a is None else wrap(a, g._dev) for a in arrays)
    if ENABLED[0] and (g._rg or x._rg or w._rg):
        edges = (edge_of(g), edge_of(x), edge_of(w))
        saved, vers = (g, x, w, geo), (*saved_versions(g, x, w), None)
        for k, t in enumerate(outs):
            if t is None:
                continue
            node = ConvolutionBackwardBackward0()
            node._next, node._k, node._oi = edges, k, k
            node._saved, node._vers = saved, vers
            node._ctx = (t._data.shape, t._data.dtype)
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


def _conv(fname: str, nd: int, input: Tensor, weight: Tensor, bias: Tensor | None, stride: Any, padding: Any,
          dilation: Any, groups: int, transposed: bool = False, output_padding: Any = 0) -> Tensor:  # noqa: A002  # fmt: skip
    if not isinstance(input, Tensor) or not isinstance(weight, Tensor) or not (bias is None or
                                                                                isinstance(bias, Tensor)):  # fmt: skip
        if transposed:
            bad, name, pos = next((v, k, i + 1) for i, (k, v) in enumerate((("input", input), ("weight", weight),
                                  ("bias", bias))) if not isinstance(v, Tensor))  # fmt: skip
            _functional.tensor_arg(fname, bad, name, pos)
        raise _conv_args_error(fname, (input, weight, bias, stride, padding, dilation, groups))
    if bias is not None and bias._data.dtype != input._data.dtype:
        raise RuntimeError(f"Input type ({_cpp_name(input)}) and bias type ({_cpp_name(bias)}) should be the same")
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


def conv_transpose1d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride: Any = 1, padding: Any = 0,
                     output_padding: Any = 0, groups: int = 1, dilation: Any = 1) -> Tensor:  # noqa: A002  # fmt: skip
    return _conv("conv_transpose1d", 1, input, weight, bias, stride, padding, dilation, groups, True, output_padding)


def conv_transpose2d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride: Any = 1, padding: Any = 0,
                     output_padding: Any = 0, groups: int = 1, dilation: Any = 1) -> Tensor:  # noqa: A002  # fmt: skip
    return _conv("conv_transpose2d", 2, input, weight, bias, stride, padding, dilation, groups, True, output_padding)


def convolution(input: Tensor, weight: Tensor, bias: Tensor | None, stride: Any, padding: Any, dilation: Any,
                transposed: bool, output_padding: Any, groups: int) -> Tensor:  # noqa: A002  # fmt: skip
    """torch.convolution (aten::convolution): a batched input, every argument explicit."""
    nd = max(weight.dim() - 2, 1)
    name = "convolution"
    st, pd = _int_list(stride, "stride", nd, name), _int_list(padding, "padding", nd, name)
    dl, op = _int_list(dilation, "dilation", nd, name), _int_list(output_padding, "output_padding", nd, name)
    geo = _conv_checks(input, weight, bias, st, pd, dl, bool(transposed), op, int(groups))
    return _convolution(input, weight, bias, geo)


# ---- pooling: arguments, shapes and checks (ATen's pooling_output_shape and pool2d_shape_check) ----------


def _ctrunc(a: int, b: int) -> int:
    """C++'s integer division, toward zero."""
    q = abs(a) // abs(b)
    return q if (a >= 0) == (b > 0) else -q


def _pool_out(size: int, k: int, p: int, s: int, d: int, ceil: bool) -> int:
    """ATen's pooling_output_shape: the output length, with its checks; in ceil mode the last window must
    start inside the input or its left padding."""
    if s == 0:
        raise RuntimeError("stride should not be zero")
    if p < 0:
        raise RuntimeError(f"pad must be non-negative, but got pad: {p}")
    if p > _ctrunc((k - 1) * d + 1, 2):
        raise RuntimeError(
            f"pad should be at most half of effective kernel size, but got pad={p}, kernel_size={k} and dilation={d}"
        )
    out = (size + 2 * p - d * (k - 1) - 1 + (s - 1 if ceil else 0)) // s + 1
    if ceil and (out - 1) * s >= size + p:
        out -= 1
    return out


def _ints(value: Any, message: str, sizes: tuple = (1, 2)) -> list:
    """An int or a sequence of ints of an allowed length (torch's `IntArrayRef` pooling arguments)."""
    if value is None:
        return []
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        return [int(value)]
    vals = [int(v) for v in value]
    if len(vals) not in sizes:
        raise RuntimeError(message)
    return vals


def _pool_params(fname: str, kernel_size: Any, stride: Any, padding: Any, dilation: Any = 1) -> tuple:
    """(kh, kw, sh, sw, ph, pw, dh, dw) of max_pool2d's / avg_pool2d's arguments, with their messages."""
    k = _ints(kernel_size, f"{fname}: kernel_size must either be a single int, or a tuple of two ints")
    st = _ints(stride, f"{fname}: stride must either be omitted, a single int, or a tuple of two ints", (0, 1, 2))
    pd = _ints(padding, f"{fname}: padding must either be a single int, or a tuple of two ints")
    dl = _ints(dilation, f"{fname}: dilation must be either a single int, or a tuple of two ints")
    kh, kw = k[0], k[-1]
    sh, sw = (kh, kw) if not st else (st[0], st[-1])
    return kh, kw, sh, sw, pd[0], pd[-1], dl[0], dl[-1]


def _pool2d_shape_check(x: Tensor, kh: int, kw: int, sh: int, sw: int, ph: int, pw: int, dh: int, dw: int,
                        oh: int, ow: int) -> None:  # fmt: skip
    if kh <= 0 or kw <= 0:
        raise RuntimeError(f"kernel size should be greater than zero, but got kH: {kh} kW: {kw}")
    if sh <= 0 or sw <= 0:
        raise RuntimeError(f"stride should be greater than zero, but got dH: {sh} dW: {sw}")
    if dh <= 0 or dw <= 0:
        raise RuntimeError(f"dilation should be greater than zero, but got dilationH: {dh} dilationW: {dw}")
    shape = x._data.shape
    nd = len(shape)
    valid = shape[1] != 0 and shape[2] != 0
    if not ((nd == 3 and shape[0] != 0 and valid) or (nd == 4 and valid and shape[3] != 0)):
        raise RuntimeError(
            "Expected 3D or 4D (batch mode) tensor with optional 0 dim batch size for input, but got:"
            + _shape_text(shape)
        )
    if kw // 2 < pw or kh // 2 < ph:
        raise RuntimeError(
            f"pad should be smaller than or equal to half of kernel size, but got padW = {pw}, padH = {ph}, "
            f"kW = {kw}, kH = {kh}"
        )
    if ow < 1 or oh < 1:
        c, h, w = shape[-3:]
        raise RuntimeError(
            f"Given input size: ({c}x{h}x{w}). Calculated output size: ({c}x{oh}x{ow}). Output size is too small"
        )


def _not_for(kernel: str, t: Tensor, kinds: str) -> None:
    """torch's dispatch error for a dtype its kernel does not take."""
    if t._data.dtype.kind not in kinds:
        raise NotImplementedError(f"\"{kernel}\" not implemented for '{t.dtype.scalar_name()}'")


def _check_dim_range(fname: str, t: Tensor, lo: int, hi: int) -> None:
    """ATen's checkDimRange (hi exclusive)."""
    if not lo <= t.dim() < hi:
        raise RuntimeError(
            f"Expected {lo} to {hi - 1} dimensions, but got {t.dim()}-dimensional tensor for argument #1 'self' "
            f"(while checking arguments for {fname})"
        )


def _check1d(fname: str, name: str, value: Any) -> int:
    vals = [int(value)] if isinstance(value, (int, np.integer)) else [int(v) for v in value]
    if len(vals) != 1:
        raise RuntimeError(f"{fname}() argument '{name}' should contain one int (got {len(vals)})")
    return vals[0]


def _planes(d: Any) -> Any:
    """A 3-d (C, H, W) array as (1, C, H, W): the kernels run on batches."""
    return d.reshape(1, *d.shape) if d.ndim == 3 else d


def _low(dtype: Any) -> Any:
    """What padding holds for a max: below every value (torch starts each window's max from it)."""
    return -np.inf if dtype.kind == "f" else np.iinfo(dtype).min


# ---- pooling: the graph --------------------------------------------------------------------------------


def _linear_bw(self: Node, gg: Tensor, fn: Callable) -> tuple:
    # (torch's derivative of these backward ops for their `self` input is zeros_like(self))
    if len(self._next) == 1:
        return (fn(gg),)
    x = self._x
    return fn(gg), wrap(x._dev.xp.zeros(x._data.shape, dtype=x._data.dtype), x._dev)


_BW_NODES: dict = {}


def _grad_node(name: str, out: Any, g: Tensor, x: Tensor | None, fn: Callable) -> Tensor:
    """A pooling backward's result (`out`, an array) as torch's <Op>BackwardBackward0: edges (grad_output,
    input), or grad_output alone where x is None; linear in grad_output, whose gradient fn(gg) is the forward
    op (or a gather) of gg."""
    cls = _BW_NODES.get(name)
    if cls is None:
        cls = _BW_NODES[name] = node_class(name, _linear_bw)
    t = wrap(out, g._dev)
    if not (ENABLED[0] and (g._rg or (x is not None and x._rg))):
        return t
    node = cls()
    node._next = (edge_of(g),) if x is None else (edge_of(g), edge_of(x))
    node._x = x
    node._saved, node._vers = (fn,), (None,)
    node._ctx = (out.shape, out.dtype)
    t._rg = True
    t.grad_fn = node
    return t


def _pool_node(name: str, out: Any, x: Tensor, backward: Callable, keep: bool = True) -> Tensor:
    """A pooling result with torch's node `name` (edge: the input); backward(g, x) gives the input's gradient.
    keep: torch's node saves the input (so modifying it in place afterwards is an error at backward); where it
    keeps only sizes, backward gets None for x."""
    cls = _BW_NODES.get(name)
    if cls is None:
        cls = _BW_NODES[name] = node_class(name, lambda self, g, x, fn: (fn(g, x),))
    if keep:
        return record(cls, out, x._dev, (x,), (x, backward), (*saved_versions(x), None))
    return record(cls, out, x._dev, (x,), (None, backward), (None, None))


def _scatter(xp: Any, g: Any, idx: Any, shape: tuple, unique: bool) -> Any:
    """g's values added into zeros of `shape` (N?, C, H, W) at the flat per-plane positions idx (max pooling's
    backward). unique: no position is picked twice (non-overlapping windows), so a plain write does."""
    planes = int(np.prod(shape[:-2]))
    hw = shape[-2] * shape[-1]
    out = xp.zeros(planes * hw, dtype=g.dtype)
    flat = (xp.arange(planes, dtype=np.int64).reshape(planes, 1) * hw + idx.reshape(planes, -1)).reshape(-1)
    if unique:
        out[flat] = g.reshape(-1)
    else:
        from engine.ops.util import add_at

        add_at(xp, out, flat, g.reshape(-1))
    return out.reshape(shape)


def _gather(gg: Tensor, idx: Any, out_shape: tuple) -> Tensor:
    """The adjoint of _scatter, in engine ops (so that it can be differentiated again): gg at the indices."""
    shape = gg._data.shape
    planes = int(np.prod(shape[:-2]))
    it = wrap(idx.reshape(planes, -1), gg._dev)
    return gg.reshape(planes, shape[-2] * shape[-1]).gather(1, it).reshape(out_shape)


def _with_indices(name: str, x: Tensor, out: Any, idx: Any, unique: bool) -> tuple:
    """(values, indices) of a max pooling: values carry `name`; its backward scatters by the indices, and that
    scatter's own gradient gathers (torch's <name>Backward0 under create_graph)."""
    xshape = x._data.shape
    oshape = out.shape

    def backward(g: Tensor, x: Tensor) -> Tensor:
        gx = _scatter(g._dev.xp, g._data, idx, xshape, unique)
        return _grad_node(name[:-1] + "Backward0", gx, g, x, lambda gg: _gather(gg, idx, oshape))

    return _pool_node(name, out, x, backward), wrap(idx, x._dev)


# ---- max pooling ---------------------------------------------------------------------------------------


def _max_pool_arr(xp: Any, x: Any, kh: int, kw: int, sh: int, sw: int, ph: int, pw: int, dh: int, dw: int,
                  oh: int, ow: int) -> tuple:  # fmt: skip
    """torch's cpu max pooling: each window's first maximum in window order (a nan wins, the last nan), the
    padding never picked; the index is the flat position in the input plane (from the window's first valid
    element when every value is the lowest). One vectorised step per kernel offset."""
    n, c, h, w = x.shape
    low = _low(x.dtype)
    bottom = max(0, (oh - 1) * sh + (kh - 1) * dh + 1 - h - ph)
    right = max(0, (ow - 1) * sw + (kw - 1) * dw + 1 - w - pw)
    xpd = _pad4d(xp, x, ph, bottom, pw, right, low)
    rows = xp.arange(oh, dtype=np.int64) * sh - ph
    cols = xp.arange(ow, dtype=np.int64) * sw - pw
    r0 = xp.where(rows < 0, rows + (-rows + dh - 1) // dh * dh, rows)
    c0 = xp.where(cols < 0, cols + (-cols + dw - 1) // dw * dw, cols)
    best = xp.full((n, c, oh, ow), low, dtype=x.dtype)
    idx = xp.broadcast_to(r0.reshape(oh, 1) * w + c0.reshape(1, ow), (n, c, oh, ow))
    he, we = (oh - 1) * sh + 1, (ow - 1) * sw + 1
    isfloat = x.dtype.kind == "f"
    for i in range(kh):
        for j in range(kw):
            v = xpd[:, :, i * dh : i * dh + he : sh, j * dw : j * dw + we : sw]
            upd = v > best
            if isfloat:
                upd |= xp.isnan(v)
            best = xp.where(upd, v, best)
            idx = xp.where(upd, (rows + i * dh).reshape(oh, 1) * w + (cols + j * dw).reshape(1, ow), idx)
    return best, xp.ascontiguousarray(idx)


def _max_pool2d_with_indices(input: Tensor, kernel_size: Any, stride: Any, padding: Any, dilation: Any,
                             ceil_mode: bool) -> tuple:  # noqa: A002  # fmt: skip
    kh, kw, sh, sw, ph, pw, dh, dw = _pool_params("max_pool2d", kernel_size, stride, padding, dilation)
    if input.dim() not in (3, 4):
        raise RuntimeError("non-empty 3D or 4D (batch mode) tensor expected for input")
    h, w = input._data.shape[-2:]
    oh = _pool_out(h, kh, ph, sh, dh, ceil_mode)
    ow = _pool_out(w, kw, pw, sw, dw, ceil_mode)
    _pool2d_shape_check(input, kh, kw, sh, sw, ph, pw, dh, dw, oh, ow)
    _not_for("max_pool2d", input, "fiu")
    d = input._data
    out, idx = _max_pool_arr(input._dev.xp, _planes(d), kh, kw, sh, sw, ph, pw, dh, dw, oh, ow)
    if d.ndim == 3:
        out, idx = out[0], idx[0]
    unique = sh >= (kh - 1) * dh + 1 and sw >= (kw - 1) * dw + 1
    return _with_indices("MaxPool2DWithIndicesBackward0", input, out, idx, unique)


def max_pool2d(input: Tensor, kernel_size: Any, stride: Any = None, padding: Any = 0, dilation: Any = 1,
               ceil_mode: bool = False, return_indices: bool = False) -> Any:  # noqa: A002  # fmt: skip
    _functional.tensor_arg("max_pool2d", input)
    out, idx = _max_pool2d_with_indices(input, kernel_size, stride, padding, dilation, ceil_mode)
    return (out, idx) if return_indices else out


def _check_max_pool1d(input: Tensor, kernel_size: Any, stride: Any, padding: Any, dilation: Any,
                      ceil_mode: bool) -> None:  # noqa: A002  # fmt: skip
    """at::max_pool1d's own checks (F.max_pool1d without indices)."""
    shape = input._data.shape
    nd = len(shape)
    if not ((nd == 2 and shape[0] != 0 and shape[1] != 0) or (nd == 3 and shape[1] != 0 and shape[2] != 0)):
        raise RuntimeError(
            "max_pool1d: Expected 2D or 3D (batch mode) tensor with optional 0 dim batch size for input, but got:"
            + _shape_text(shape)
        )
    k = _ints(kernel_size, "", (0, 1, 2, 3, 4))
    st = _ints(stride, "", (0, 1, 2, 3, 4))
    pd = _ints(padding, "", (0, 1, 2, 3, 4))
    dl = _ints(dilation, "", (0, 1, 2, 3, 4))
    if len(k) != 1:
        raise RuntimeError(
            f"max_pool1d() kernel_size must be an int, list of ints or tuple of ints of size 1 but got size {len(k)}"
        )
    if len(st) > 1:
        raise RuntimeError(
            f"max_pool1d() stride must be None, an int, list of ints, or tuple of ints of size 1 but got size {len(st)}"
        )
    if len(pd) != 1:
        raise RuntimeError(
            f"max_pool1d() padding must be an int, list of ints, or tuple of ints of size 1 but got size {len(pd)}"
        )
    if len(dl) != 1:
        raise RuntimeError(
            f"max_pool1d() dilation must be an int, list of ints or tuple of ints of size 1 but got size {len(dl)}"
        )
    s = st[0] if st else k[0]
    if k[0] <= 0:
        raise RuntimeError(f"max_pool1d() kernel_size must be greater than zero, but got {k[0]}")
    if s <= 0:
        raise RuntimeError(f"max_pool1d() stride must be greater than zero, but got {s}")
    if pd[0] < 0:
        raise RuntimeError(f"max_pool1d() padding must be non-negative, but got {pd[0]}")
    if pd[0] > k[0] // 2:
        raise RuntimeError(
            f"max_pool1d() padding should be at most half of kernel size, but got padding={pd[0]} and "
            f"kernel_size={k[0]}"
        )
    if dl[0] <= 0:
        raise RuntimeError(f"max_pool1d() dilation must be greater than zero, but got {dl[0]}")
    ow = _pool_out(shape[-1], k[0], pd[0], s, dl[0], ceil_mode)
    if ow <= 0:
        raise RuntimeError(f"max_pool1d() Invalid computed output size: {ow}")


def max_pool1d(input: Tensor, kernel_size: Any, stride: Any = None, padding: Any = 0, dilation: Any = 1,
               ceil_mode: bool = False, return_indices: bool = False) -> Any:  # noqa: A002  # fmt: skip
    _functional.tensor_arg("max_pool1d", input)
    if not return_indices:
        _check_max_pool1d(input, kernel_size, stride, padding, dilation, ceil_mode)
    # at::max_pool1d_with_indices: max_pool2d over a height of 1 (UnsqueezeBackward0 below, SqueezeBackward1 on top)
    _check_dim_range("max_pool1d", input, 2, 4)
    k = _check1d("max_pool1d", "kernel_size", kernel_size)
    s = k if stride is None or (not isinstance(stride, int) and len(stride) == 0) else stride
    s = _check1d("max_pool1d", "stride", s)
    p = _check1d("max_pool1d", "padding", padding)
    d = _check1d("max_pool1d", "dilation", dilation)
    out, idx = _max_pool2d_with_indices(input.unsqueeze(-2), (1, k), (1, s), (0, p), (1, d), ceil_mode)
    out = out.squeeze(-2)
    return (out, idx.squeeze(-2)) if return_indices else out


# ---- average pooling -----------------------------------------------------------------------------------


def _avg_divisor(xp: Any, size: int, k: int, s: int, p: int, out: int) -> tuple:
    """Per output position along one dim: the window's length within the padded input, and within the input."""
    start = xp.arange(out, dtype=np.int64) * s - p
    end = xp.minimum(start + k, size + p)
    return end - start, xp.minimum(end, size) - xp.maximum(start, 0)


def _avg_geometry(xp: Any, shape: tuple, prm: tuple) -> tuple:
    """(1 / divisor per output position, bottom and right padding for ceil mode), torch's avg_pool2d divisor:
    divisor_override, else the window's size within the padded input (count_include_pad), else its count of
    input elements; a window entirely in padding gives 0."""
    kh, kw, sh, sw, ph, pw, oh, ow, ceil, cip, div = prm
    h, w = shape[-2:]
    pool_h, valid_h = _avg_divisor(xp, h, kh, sh, ph, oh)
    pool_w, valid_w = _avg_divisor(xp, w, kw, sw, pw, ow)
    if div is not None:
        d = xp.full((oh, ow), div, dtype=np.int64)
    elif cip:
        d = pool_h.reshape(oh, 1) * pool_w.reshape(1, ow)
    else:
        d = valid_h.reshape(oh, 1) * valid_w.reshape(1, ow)
    empty = (valid_h.reshape(oh, 1) <= 0) | (valid_w.reshape(1, ow) <= 0)
    d = xp.where(empty | (d == 0), 1, d)
    bottom = max(0, (oh - 1) * sh + kh - h - ph)
    right = max(0, (ow - 1) * sw + kw - w - pw)
    return d, empty, bottom, right


def _avg_pool_arr(xp: Any, x: Any, prm: tuple) -> Any:
    kh, kw, sh, sw, ph, pw, oh, ow = prm[:8]
    d, empty, bottom, right = _avg_geometry(xp, x.shape, prm)
    isfloat = x.dtype.kind == "f"
    ct = _compute_dtype(x) if isfloat else np.int64
    xpd = _pad4d(xp, x, ph, bottom, pw, right, 0)
    he, we = (oh - 1) * sh + 1, (ow - 1) * sw + 1
    acc = xp.zeros((x.shape[0], x.shape[1], oh, ow), dtype=ct)
    for i in range(kh):  # (in window order, as torch's kernel adds)
        for j in range(kw):
            acc += xpd[:, :, i : i + he : sh, j : j + we : sw]
    if isfloat:
        out = acc / d.astype(ct)
    else:  # C++'s integer division, toward zero
        out = xp.abs(acc) // d * xp.sign(acc)
    if prm[10] is not None or not prm[9]:
        out = xp.where(empty, 0, out)
    return out.astype(x.dtype) if out.dtype != x.dtype else out


def _avg_pool_bw_arr(xp: Any, g: Any, shape: tuple, prm: tuple) -> Any:
    """The adjoint of _avg_pool_arr: each output's gradient / divisor added over its window's input elements."""
    kh, kw, sh, sw, ph, pw, oh, ow = prm[:8]
    d, empty, bottom, right = _avg_geometry(xp, shape, prm)
    ct = _compute_dtype(g)
    gd = g.astype(ct) / d.astype(ct)
    if prm[10] is not None or not prm[9]:
        gd = xp.where(empty, 0, gd)
    n, c, h, w = shape
    img = xp.zeros((n, c, h + ph + bottom, w + pw + right), dtype=ct)
    he, we = (oh - 1) * sh + 1, (ow - 1) * sw + 1
    for i in range(kh):
        for j in range(kw):
            img[:, :, i : i + he : sh, j : j + we : sw] += gd
    out = xp.ascontiguousarray(img[:, :, ph : ph + h, pw : pw + w])
    return out.astype(g.dtype) if out.dtype != g.dtype else out


def _avg_pool2d_prim(x: Tensor, prm: tuple) -> Tensor:
    """avg_pool2d on checked arguments: AvgPool2DBackward0; its backward's node AvgPool2DBackwardBackward0
    differentiates to avg_pool2d of the incoming gradient."""
    d = x._data
    xp = x._dev.xp
    out = _avg_pool_arr(xp, _planes(d), prm)
    if d.ndim == 3:
        out = out[0]

    def backward(g: Tensor, x: Tensor) -> Tensor:
        gx = _avg_pool_bw_arr(g._dev.xp, _planes(g._data), _planes(x._data).shape, prm)
        if x._data.ndim == 3:
            gx = gx[0]
        return _grad_node("AvgPool2DBackwardBackward0", gx, g, x, lambda gg: _avg_pool2d_prim(gg, prm))

    return _pool_node("AvgPool2DBackward0", out, x, backward)


def avg_pool2d(input: Tensor, kernel_size: Any, stride: Any = None, padding: Any = 0, ceil_mode: bool = False,
               count_include_pad: bool = True, divisor_override: int | None = None) -> Tensor:  # noqa: A002  # fmt: skip
    kh, kw, sh, sw, ph, pw, _, _ = _pool_params("avg_pool2d", kernel_size, stride, padding)
    if divisor_override is not None and divisor_override == 0:
        raise RuntimeError("divisor must be not zero")
    from engine.ops.util import norm_dim

    norm_dim(-3, input.dim())  # (torch reads input.size(-3): a 2-d input is its "Dimension out of range")
    h, w = input._data.shape[-2:]
    oh = _pool_out(h, kh, ph, sh, 1, ceil_mode)
    ow = _pool_out(w, kw, pw, sw, 1, ceil_mode)
    _pool2d_shape_check(input, kh, kw, sh, sw, ph, pw, 1, 1, oh, ow)
    _not_for("avg_pool2d", input, "fiu")
    if input._data.dtype.kind in "iu" and input._data.dtype != np.int64:  # torch's kernel takes int64 only
        raise NotImplementedError(f"\"avg_pool2d\" not implemented for '{input.dtype.scalar_name()}'")
    prm = (kh, kw, sh, sw, ph, pw, oh, ow, ceil_mode, bool(count_include_pad), divisor_override)
    return _avg_pool2d_prim(input, prm)


def avg_pool1d(input: Tensor, kernel_size: Any, stride: Any = None, padding: Any = 0, ceil_mode: bool = False,
               count_include_pad: bool = True) -> Tensor:  # noqa: A002  # fmt: skip
    if stride is None or (not isinstance(stride, int) and len(stride) == 0):
        stride = kernel_size
    _check_dim_range("avg_pool1d", input, 2, 4)
    k = _check1d("avg_pool1d", "kernel_size", kernel_size)
    s = _check1d("avg_pool1d", "stride", stride)
    p = _check1d("avg_pool1d", "padding", padding)
    return avg_pool2d(input.unsqueeze(-2), (1, k), (1, s), (0, p), ceil_mode, count_include_pad).squeeze(-2)


def _lp_pool(input: Tensor, norm_type: float, kernel_size: Any, stride: Any, ceil_mode: bool, nd: int) -> Tensor:  # noqa: A002
    """torch's Python composite: (sign(avg) * relu(|avg|) * kernel area) ** (1 / p) of avg_pool(x ** p)."""
    from engine.ops import elementwise as E

    if nd == 1:
        area = kernel_size if isinstance(kernel_size, int) else kernel_size[0]
        out = avg_pool1d(input.pow(norm_type), kernel_size, stride if stride is not None else kernel_size, 0,
                         ceil_mode)  # fmt: skip
    else:
        ks = (kernel_size, kernel_size) if isinstance(kernel_size, int) else tuple(kernel_size)
        area = ks[0] * ks[1]
        out = avg_pool2d(input.pow(norm_type), kernel_size, stride, 0, ceil_mode)
    return (E.sign(out) * E.relu(E.abs(out))).mul(area).pow(1.0 / norm_type)


def lp_pool1d(input: Tensor, norm_type: float, kernel_size: int, stride: Any = None,
              ceil_mode: bool = False) -> Tensor:  # noqa: A002  # fmt: skip
    return _lp_pool(input, norm_type, kernel_size, stride, ceil_mode, 1)


def lp_pool2d(input: Tensor, norm_type: float, kernel_size: Any, stride: Any = None,
              ceil_mode: bool = False) -> Tensor:  # noqa: A002  # fmt: skip
    return _lp_pool(input, norm_type, kernel_size, stride, ceil_mode, 2)


# ---- adaptive pooling ----------------------------------------------------------------------------------


def _adaptive_bounds(size: int, out: int) -> tuple:
    """torch's adaptive windows along one dim: [floor(o * size / out), ceil((o + 1) * size / out))."""
    o = np.arange(out, dtype=np.int64)
    return (o * size) // out, ((o + 1) * size + out - 1) // out


def _adaptive_matrix(xp: Any, size: int, out: int, dtype: Any) -> Any:
    """The (out, size) matrix of adaptive average pooling along one dim: 1 / window length over each window."""
    start, end = _adaptive_bounds(size, out)
    i = np.arange(size)
    m = (i[None, :] >= start[:, None]) & (i[None, :] < end[:, None])
    return xp.asarray((m / np.maximum(end - start, 1)[:, None]).astype(dtype))


def _adaptive_avg_arr(xp: Any, x: Any, oh: int, ow: int) -> Any:
    """torch's cpu adaptive average pool: each window summed element by element in row-major order from 0, then
    divided by its height and then by its width (so the average of whole numbers prints as torch's). All
    windows at once: one step per offset inside the largest window, windows already done left as they are."""

    def fn(a: Any) -> Any:
        h, w = a.shape[-2], a.shape[-1]
        sh, eh = _adaptive_bounds(h, oh)
        sw, ew = _adaptive_bounds(w, ow)
        kh, kw = eh - sh, ew - sw
        acc = xp.zeros((*a.shape[:-2], oh, ow), dtype=a.dtype)
        for r in range(int(kh.max())):
            rows = np.minimum(sh + r, h - 1)
            band = a[..., rows, :]  # (..., oh, w)
            for c in range(int(kw.max())):
                cols = np.minimum(sw + c, w - 1)
                term = band[..., :, cols]  # (..., oh, ow)
                live = xp.asarray((r < kh)[:, None] & (c < kw)[None, :])
                acc = xp.where(live, acc + term, acc)
        return acc / xp.asarray(kh.astype(a.dtype))[:, None] / xp.asarray(kw.astype(a.dtype))[None, :]

    return _run(xp, fn, x.dtype, x)


def _adaptive_avg_bw_arr(xp: Any, g: Any, shape: tuple) -> Any:
    def fn(a: Any) -> Any:
        ah = _adaptive_matrix(xp, shape[-2], a.shape[-2], a.dtype)
        aw = _adaptive_matrix(xp, shape[-1], a.shape[-1], a.dtype)
        return xp.matmul(ah.T, xp.matmul(a, aw))

    return _run(xp, fn, g.dtype, g)


def _adaptive_avg_prim(x: Tensor, oh: int, ow: int) -> Tensor:
    out = _adaptive_avg_arr(x._dev.xp, x._data, oh, ow)

    def backward(g: Tensor, x: Tensor) -> Tensor:
        gx = _adaptive_avg_bw_arr(g._dev.xp, g._data, x._data.shape)
        return _grad_node("AdaptiveAvgPool2DBackwardBackward0", gx, g, x, lambda gg: _adaptive_avg_prim(gg, oh, ow))

    return _pool_node("AdaptiveAvgPool2DBackward0", out, x, backward)


def _output_size(output_size: Any, shape: tuple) -> Any:
    """torch's _list_with_default: None in output_size takes the input's size."""
    if isinstance(output_size, (int, np.integer)):
        return int(output_size)
    out = list(output_size)
    if len(shape) <= len(out):
        raise ValueError(f"Input dimension should be at least {len(out) + 1}")
    return [d if v is None else int(v) for v, d in zip(out, shape[len(shape) - len(out) :])]


def adaptive_avg_pool2d(input: Tensor, output_size: Any) -> Tensor:  # noqa: A002
    size = _output_size(output_size, input._data.shape)
    size = [size, size] if isinstance(size, int) else size
    if len(size) != 2:
        raise RuntimeError("adaptive_avg_pool2d: output_size must be 2")
    oh, ow = size
    if oh < 0 or ow < 0:
        raise RuntimeError(
            "adaptive_avg_pool2d: elements of output_size must be greater than or equal to 0 but received "
            f"{{{oh}, {ow}}}"
        )
    if oh == 1 and ow == 1:  # torch: a mean over the last two dims (MeanBackward1)
        return input.mean((-1, -2), keepdim=True)
    shape = input._data.shape
    if len(shape) not in (3, 4):
        raise RuntimeError(f"adaptive_avg_pool2d(): Expected 3D or 4D tensor, but got {_shape_text(shape)}")
    for i in (-2, -1):
        if shape[i] <= 0:
            raise RuntimeError(
                "adaptive_avg_pool2d(): Expected input to have non-zero size for non-batch dimensions, but input "
                f"has sizes {_shape_text(shape)} with dimension {i + len(shape)} being empty"
            )
    _not_for("adaptive_avg_pool2d", input, "f")
    return _adaptive_avg_prim(input, oh, ow)


def adaptive_avg_pool1d(input: Tensor, output_size: Any) -> Tensor:  # noqa: A002
    _check_dim_range("adaptive_avg_pool1d", input, 2, 4)
    o = _check1d("adaptive_avg_pool1d", "output_size", output_size)
    return adaptive_avg_pool2d(input.unsqueeze(-2), (1, o)).squeeze(-2)


def _adaptive_max_arr(xp: Any, x: Any, oh: int, ow: int) -> tuple:
    """torch's adaptive max: per window the first maximum (a nan wins, the last nan), one vectorised step per
    offset into the largest window; positions past a smaller window's end are masked out."""
    n, c, h, w = x.shape
    sh_, eh = _adaptive_bounds(h, oh)
    sw_, ew = _adaptive_bounds(w, ow)
    best = xp.full((n, c, oh, ow), _low(x.dtype), dtype=x.dtype)
    idx = xp.asarray(np.broadcast_to(sh_[:, None] * w + sw_[None, :], (n, c, oh, ow)))
    isfloat = x.dtype.kind == "f"
    for i in range(int((eh - sh_).max(initial=0))):
        rows = np.minimum(sh_ + i, h - 1)
        vr = (sh_ + i) < eh
        for j in range(int((ew - sw_).max(initial=0))):
            cols = np.minimum(sw_ + j, w - 1)
            valid = xp.asarray(vr[:, None] & ((sw_ + j) < ew)[None, :])
            v = x[:, :, xp.asarray(rows)[:, None], xp.asarray(cols)[None, :]]
            upd = v > best
            if isfloat:
                upd |= xp.isnan(v)
            upd &= valid
            best = xp.where(upd, v, best)
            idx = xp.where(upd, xp.asarray(rows[:, None] * w + cols[None, :]), idx)
    return best, idx


def adaptive_max_pool2d(input: Tensor, output_size: Any, return_indices: bool = False) -> Any:  # noqa: A002
    size = _output_size(output_size, input._data.shape)
    shape = input._data.shape
    nd = len(shape)
    if nd not in (3, 4):
        raise RuntimeError(f"adaptive_max_pool2d(): Expected 3D or 4D tensor, but got: {_shape_text(shape)}")
    for i in range(1, nd):
        if shape[i] <= 0:
            raise RuntimeError(
                "adaptive_max_pool2d(): Expected input to have non-zero size for non-batch dimensions, but input "
                f"has sizes {_shape_text(shape)} with dimension {i} being empty"
            )
    size = [size, size] if isinstance(size, int) else size
    if len(size) != 2:
        raise RuntimeError("adaptive_max_pool2d(): internal error: output_size.size() must be 2")
    _not_for("adaptive_max_pool2d", input, "f")
    oh, ow = size
    d = input._data
    out, idx = _adaptive_max_arr(input._dev.xp, _planes(d), oh, ow)
    if d.ndim == 3:
        out, idx = out[0], idx[0]
    r = _with_indices("AdaptiveMaxPool2DBackward0", input, out, idx, False)
    return r if return_indices else r[0]


def adaptive_max_pool1d(input: Tensor, output_size: Any, return_indices: bool = False) -> Any:  # noqa: A002
    _check_dim_range("adaptive_max_pool1d", input, 2, 4)
    o = _check1d("adaptive_max_pool1d", "output_size", output_size)
    out, idx = adaptive_max_pool2d(input.unsqueeze(-2), (1, o), True)
    out = out.squeeze(-2)
    return (out, idx.squeeze(-2)) if return_indices else out


# ---- padding -------------------------------------------------------------------------------------------


def _pad_list(pad: Any) -> list:
    if isinstance(pad, Tensor):
        pad = pad.tolist()
    out = []
    for i, v in enumerate(pad):
        if not isinstance(v, (int, np.integer)) or isinstance(v, bool):
            raise TypeError(
                "pad(): argument 'pad' (position 2) must be tuple of ints, but found element of type "
                f"{type(v).__name__} at pos {i}"
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
    return _pool_node("ConstantPadNdBackward0", out, x, lambda g, x: _constant_pad_nd(g, neg, 0), False)


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
    """reflection_pad{1,2}d / replication_pad{1,2}d on checked arguments: a gather by per-dim index arrays;
    the backward adds the gradient back at those indices (and differentiates to the same pad of gg)."""
    xp = x._dev.xp
    shape = x._data.shape
    k = len(pad) // 2
    idx = [_pad_index(shape[-1], pad[0], pad[1], mode)]
    if k == 2:
        idx.insert(0, _pad_index(shape[-2], pad[2], pad[3], mode))
    if k == 1:
        out = x._data[..., xp.asarray(idx[0])]
    else:
        out = x._data[..., xp.asarray(idx[0])[:, None], xp.asarray(idx[1])[None, :]]
    flat = idx[0] if k == 1 else (idx[0][:, None] * shape[-1] + idx[1][None, :]).reshape(-1)

    def backward(g: Tensor, x: Tensor) -> Tensor:
        from engine.ops.util import add_at

        gd = g._data
        planes = int(np.prod(shape[:-k]))
        gx = g._dev.xp.zeros((planes, int(np.prod(shape[-k:]))), dtype=gd.dtype)
        add_at(g._dev.xp, gx, (slice(None), g._dev.xp.asarray(flat)), gd.reshape(planes, -1))
        return _grad_node(name[:-1] + "Backward0", gx.reshape(shape), g, x, lambda gg: _index_pad(gg, pad, mode, name))

    return _pool_node(name, xp.ascontiguousarray(out), x, backward)


def _check_valid_input(x: Tensor, dim: int) -> None:
    shape = x._data.shape
    nd = len(shape)
    ok = all(n != 0 for n in shape[1:]) if nd == dim + 2 else all(n != 0 for n in shape)
    if not ok:
        raise RuntimeError(
            f"Expected {dim + 1}D or {dim + 2}D (batch mode) tensor with possibly 0 batch size and other non-zero "
            f"dimensions for input, but got: {_shape_text(shape)}"
        )


def _reflect_pad(x: Tensor, pad: list) -> Tensor:
    _check_valid_input(x, len(pad) // 2)
    shape = x._data.shape
    nd = len(shape)
    w = shape[-1]
    if not (pad[0] < w and pad[1] < w):
        raise RuntimeError(
            f"Argument #4: Padding size should be less than the corresponding input dimension, but got: padding "
            f"({pad[0]}, {pad[1]}) at dimension {nd - 1} of input {_shape_text(shape)}"
        )
    if len(pad) == 2:
        if w + pad[0] + pad[1] < 1:
            raise RuntimeError(f"input (W: {w}) is too small. Calculated output W: {w + pad[0] + pad[1]}")
        return _index_pad(x, pad, "reflect", "ReflectionPad1DBackward0")
    h = shape[-2]
    if not (pad[2] < h and pad[3] < h):
        raise RuntimeError(
            f"Argument #6: Padding size should be less than the corresponding input dimension, but got: padding "
            f"({pad[2]}, {pad[3]}) at dimension {nd - 2} of input {_shape_text(shape)}"
        )
    oh, ow = h + pad[2] + pad[3], w + pad[0] + pad[1]
    if oh < 1 and ow < 1:
        raise RuntimeError(f"input (H: {h}, W: {w}) is too small. Calculated output H: {oh} W: {ow}")
    return _index_pad(x, pad, "reflect", "ReflectionPad2DBackward0")


def _replicate_pad(x: Tensor, pad: list) -> Tensor:
    _check_valid_input(x, len(pad) // 2)
    shape = x._data.shape
    w = shape[-1]
    ow = w + pad[0] + pad[1]
    if len(pad) == 2:
        if ow < 1:
            raise RuntimeError(f"input (W: {w}) is too small. Calculated output W: {ow}")
        return _index_pad(x, pad, "replicate", "ReplicationPad1DBackward0")
    h = shape[-2]
    oh = h + pad[2] + pad[3]
    if ow < 1 and oh < 1:
        raise RuntimeError(f"input (H: {h}, W: {w} ) is too small. Calculated output H: {oh} W: {ow}")
    return _index_pad(x, pad, "replicate", "ReplicationPad2DBackward0")


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
    out[tuple(dst)] = x[tuple(src)]
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
    if k in (1, 2) and nd in (k + 1, k + 2):
        if mode == "reflect":
            return _reflect_pad(input, p)
        if mode == "replicate":
            return _replicate_pad(input, p)
        return _circular_pad(input, p)
    if k == 3 and nd in (4, 5):
        raise NotImplementedError("the engine's reflect, replicate and circular padding cover 1-d and 2-d")
    raise NotImplementedError(f"Padding size {len(p)} is not supported for {nd}D input tensor.\n{_PAD_SIZES}")


# ---- unfold / fold (im2col / col2im) -------------------------------------------------------------------


def _pair(v: Any, name: str) -> tuple:
    vals = [int(v)] * 2 if isinstance(v, (int, np.integer)) else [int(a) for a in v]
    if len(vals) != 2:
        raise RuntimeError(f"It is expected {name} equals to 2, but got size {len(vals)}")
    return tuple(vals)


def _block_geo(d: tuple, p: tuple, s: tuple) -> _Geo:
    """unfold's / fold's sliding blocks as a convolution geometry (im2col and col2im are shared with conv)."""
    return _Geo(2, s, p, d, False, (0, 0), 1)


def _im2col_prim(x: Tensor, k: tuple, d: tuple, p: tuple, s: tuple) -> Tensor:
    xd = x._data
    x4 = _planes(xd)
    oh = _out_size(x4.shape[2], k[0], s[0], p[0], d[0])
    ow = _out_size(x4.shape[3], k[1], s[1], p[1], d[1])
    cols = _im2col(x._dev.xp, x4, k[0], k[1], _block_geo(d, p, s), oh, ow)
    cols = cols.reshape(x4.shape[0], -1, oh * ow)
    if xd.ndim == 3:
        cols = cols[0]
    size = xd.shape[-2:]
    return _pool_node("Im2ColBackward0", cols, x, lambda g, x: fold(g, size, k, d, p, s), False)


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
            f"got: {_shape_text(shape)}"
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
            f"input, but got: {_shape_text(shape)}"
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
    img = _run(xp, lambda a: _col2im(xp, a, (n, c, o[0], o[1]), k[0], k[1], _block_geo(d, p, s), bh, bw),
               xd.dtype, x3)  # fmt: skip
    if xd.ndim == 2:
        img = img[0]
    return _pool_node("Col2ImBackward0", img, x, lambda g, x: unfold(g, k, d, p, s), False)


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
        return _pool_node("PixelShuffleBackward0", out, x, lambda g, x: _shuffle(g, r, False), False)
    return _pool_node("PixelUnshuffleBackward0", out, x, lambda g, x: _shuffle(g, r, True), False)


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


def _axis_taps(size: int, out: int, mode: str, align_corners: bool, scale: float | None, ct: Any) -> tuple:
    """Per output position along one dim: the input positions it reads (one array per tap) and their weights
    (None for the nearest modes), computed in the kernel's precision `ct` as torch's cpu kernels do."""
    from engine.ops.fma import fma

    o = np.arange(out)
    if mode in ("nearest", "nearest-exact"):
        s = np.float32(1.0 / scale) if scale is not None and scale > 0 else np.float32(size) / np.float32(out)
        if mode == "nearest":  # nearest_neighbor_compute_source_index: floorf(dst * scale), in float
            src = np.floor(o.astype(np.float32) * s)
        else:  # ..._exact: floorf((dst + 0.5) * scale), the product in double
            src = np.floor(((o + 0.5) * np.float64(s)).astype(np.float32))
        return [np.minimum(src.astype(np.int64), size - 1)], None
    if align_corners:
        s = ct(size - 1) / ct(out - 1) if out > 1 else ct(0)
        src = s * o.astype(ct)
    else:
        s = ct(1.0 / scale) if scale is not None and scale > 0 else ct(size) / ct(out)
        # scale * (dst + 0.5) - 0.5 is one fused multiply-add in torch's cpu kernels (its AVX2 build contracts it)
        src = fma(np.full(out, s, dtype=ct), o.astype(ct) + ct(0.5), np.full(out, -0.5, dtype=ct))
        if mode != "bicubic":  # (cubic sources may lie before the first input)
            src = np.maximum(src, ct(0))
    if mode == "bicubic":
        i0 = np.floor(src).astype(np.int64)
        t = (src - i0.astype(ct)).astype(ct)
        idx = [np.clip(i0 + k, 0, size - 1) for k in (-1, 0, 1, 2)]  # (reads past an edge repeat the edge)
        return idx, _cubic_weights(t, ct)
    i0 = src.astype(np.int64)
    i1 = i0 + (i0 < size - 1)
    l1 = (src - i0.astype(ct)).astype(ct)
    return [i0, i1], [(ct(1) - l1).astype(ct), l1]


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
        # x0 * w0, then + x_j * w_j each as one fused multiply-add: torch's kernel accumulates `output += t * w`,
        # which its AVX2 build contracts
        acc = x[(*at, xp.asarray(idx[0]))] * xp.asarray(ws[0]).reshape(shape)
        for i, w in zip(idx[1:], ws[1:]):
            term = x[(*at, xp.asarray(i))]
            wv = xp.asarray(w).reshape(shape)
            acc = fma(term, wv, acc) if acc.dtype in _FMA else acc + term * wv
        x = acc
    return x


def _interp_bw_arr(xp: Any, g: Any, shape: tuple, taps: list) -> Any:
    """The adjoint of _interp_arr: each output's gradient added back into the positions it read."""
    from engine.ops.util import add_at

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
}


def _upsample(x: Tensor, sizes: list, scales: list, mode: str, align_corners: bool) -> Tensor:
    d = x._data
    xp = x._dev.xp
    ct = np.float64 if d.dtype == np.float64 else np.float32
    k = len(sizes)
    taps = [_axis_taps(d.shape[-k + i], sizes[i], mode, align_corners, scales[i], ct) for i in range(k)]
    out = _run(xp, lambda a: _interp_arr(xp, a, taps), d.dtype, d) if d.dtype.kind == "f" else _interp_arr(xp, d, taps)
    name = _UPSAMPLE_NAMES[mode, k]
    shape = d.shape

    def backward(g: Tensor, x: Tensor) -> Tensor:
        gx = _run(g._dev.xp, lambda a: _interp_bw_arr(g._dev.xp, a, shape, taps), g._data.dtype, g._data)
        return _grad_node(
            name[:-1] + "Backward0", gx, g, None, lambda gg: _upsample(gg, sizes, scales, mode, align_corners)
        )

    return _pool_node(name, xp.ascontiguousarray(out), x, backward, False)


def interpolate(input: Tensor, size: Any = None, scale_factor: Any = None, mode: str = "nearest",
                align_corners: bool | None = None, recompute_scale_factor: bool | None = None,
                antialias: bool = False) -> Tensor:  # noqa: A002  # fmt: skip
    """torch.nn.functional.interpolate for modes nearest and area (3-d and 4-d input), linear (3-d) and bilinear
    (4-d)."""
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
    if antialias and not (mode in ("bilinear", "bicubic") and input.dim() == 4):
        raise ValueError(
            "Anti-alias option is restricted to bilinear and bicubic modes and requires a 4-D tensor as input"
        )
    key = (mode, input.dim())
    needs = {"linear": 3, "bilinear": 4, "trilinear": 5}
    if mode in needs and input.dim() in (3, 4, 5) and input.dim() != needs[mode]:
        raise NotImplementedError(f"Got {input.dim()}D input, but {mode} mode needs {needs[mode]}D input")
    if mode == "lanczos" and input.dim() == 4 and not antialias:
        raise ValueError("Lanczos mode requires antialias=True")
    covered = (("nearest", 3), ("nearest", 4), ("nearest-exact", 3), ("nearest-exact", 4), ("linear", 3),
               ("bilinear", 4), ("bicubic", 4), ("area", 3), ("area", 4))  # fmt: skip
    if key not in covered:
        if input.dim() == 5 and mode in ("nearest", "trilinear", "area", "nearest-exact"):
            raise NotImplementedError(
                f"the engine's interpolate covers 3-d and 4-d input (1-d and 2-d images); got 5-d ({mode})"
            )
        raise NotImplementedError(
            f"Input Error: Only 3D, 4D and 5D input Tensors supported (got {input.dim()}D) for the modes: nearest | "
            f"linear | bilinear | bicubic | trilinear | lanczos | area | nearest-exact (got {mode})"
        )
    if antialias:
        raise NotImplementedError("the engine's interpolate has no antialias")
    if out_size is None:
        out_size = [int(spatial[i] * scales[i]) for i in range(dim)]
        scales_k = scales
    else:
        scales_k = [None] * dim
    if mode == "area":  # torch: an adaptive average pool to the output size
        return adaptive_avg_pool1d(input, out_size) if dim == 1 else adaptive_avg_pool2d(input, out_size)
    dt = input._data.dtype
    if dt.kind in "iub" and not (dt == np.uint8 and mode in ("nearest", "nearest-exact")):
        if dt == np.uint8 and mode in ("bilinear", "bicubic"):
            # torch rounds each of two separable passes in fixed point; not reproduced, so no answer rather than
            # one that is off by one in a pixel of six
            raise NotImplementedError(
                f"the engine's {mode} interpolate of a uint8 image is not torch's fixed-point one; "
                "interpolate image.float() and round, or use mode='nearest'"
            )
        kernel = {("nearest", 3): "compute_indices_weights_nearest", ("linear", 3): "compute_indices_weights_linear",
                  ("nearest", 4): "upsample_nearest2d_channels_last", ("nearest-exact", 3):
                  "compute_indices_weights_nearest", ("nearest-exact", 4): "upsample_nearest2d_channels_last",
                  ("bicubic", 4): "compute_indices_weights_cubic",
                  ("bilinear", 4): "upsample_bilinear2d_channels_last"}[key]  # fmt: skip
        raise NotImplementedError(f"\"{kernel}\" not implemented for '{FROM_NP[dt].scalar_name()}'")
    shape = input._data.shape
    if input.numel() == 0 and not int(np.prod(shape[1:])):
        raise RuntimeError(
            f"Non-empty {dim + 2}D data tensor expected but got a tensor with sizes {_shape_text(shape)}"
        )
    if any(n <= 0 for n in spatial) or any(n <= 0 for n in out_size):
        if dim == 1:
            raise RuntimeError(
                f"Input and output sizes should be greater than 0, but got input (W: {spatial[0]}) and output (W: "
                f"{out_size[0]})"
            )
        raise RuntimeError(
            f"Input and output sizes should be greater than 0, but got input (H: {spatial[0]}, W: {spatial[1]}) "
            f"output (H: {out_size[0]}, W: {out_size[1]})"
        )
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


def max_pool1d_with_indices(input: Tensor, kernel_size: Any, stride: Any = None, padding: Any = 0,
                            dilation: Any = 1, ceil_mode: bool = False, return_indices: bool = False) -> tuple:  # noqa: A002  # fmt: skip
    return max_pool1d(input, kernel_size, stride, padding, dilation, ceil_mode, True)


def max_pool2d_with_indices(input: Tensor, kernel_size: Any, stride: Any = None, padding: Any = 0,
                            dilation: Any = 1, ceil_mode: bool = False, return_indices: bool = False) -> tuple:  # noqa: A002  # fmt: skip
    return max_pool2d(input, kernel_size, stride, padding, dilation, ceil_mode, True)


def adaptive_max_pool1d_with_indices(input: Tensor, output_size: Any, return_indices: bool = False) -> tuple:  # noqa: A002
    return adaptive_max_pool1d(input, output_size, True)


def adaptive_max_pool2d_with_indices(input: Tensor, output_size: Any, return_indices: bool = False) -> tuple:  # noqa: A002
    return adaptive_max_pool2d(input, output_size, True)


def _unpool_output_size(input: Tensor, kernel: tuple, stride: tuple, padding: tuple, output_size: Any) -> list:  # noqa: A002
    """torch's nn.functional._unpool_output_size: the default size, or output_size checked against it."""
    shape = input._data.shape
    n = len(kernel)
    default = [(shape[-n + d] - 1) * stride[d] + kernel[d] - 2 * padding[d] for d in range(n)]
    if output_size is None:
        return default
    given = output_size
    if len(output_size) == n + 2:
        output_size = output_size[2:]
    if len(output_size) != n:
        raise ValueError(
            f"output_size should be a sequence containing {n} or {n + 2} elements, but it has a length of "
            f"'{len(output_size)}'"
        )
    for d in range(n):
        lo, hi = default[d] - stride[d], default[d] + stride[d]
        if not lo < output_size[d] < hi:
            raise ValueError(f'invalid output_size "{given}" (dim {d} must be between {lo} and {hi})')
    return [int(v) for v in output_size]


def _max_unpool2d_prim(input: Tensor, indices: Tensor, oh: int, ow: int) -> Tensor:  # noqa: A002
    """Each value written at its index in its (oh, ow) plane, zeros elsewhere (MaxUnpool2DBackward0); the
    gradient is the output's gradient gathered back at the indices."""
    xp, d, idx = input._dev.xp, input._data, indices._data
    lead = d.shape[:-2]
    flat_idx = idx.reshape(*lead, -1)
    size = oh * ow
    if flat_idx.size:
        bad = (flat_idx < 0) | (flat_idx >= size)
        if bool(bad.any()):  # (torch's serial loop reports the last bad index it met)
            from engine.backend import host

            flat = host(flat_idx).reshape(-1)
            last = int(flat[int(np.flatnonzero(host(bad).reshape(-1))[-1])])
            raise RuntimeError(f"Found an invalid max index: {last} (output volumes are of size {oh}x{ow})")
    planes = int(np.prod(lead)) if lead else 1
    out = xp.zeros((planes, size), dtype=d.dtype)
    rows = xp.arange(planes)[:, None]
    out[rows, flat_idx.reshape(planes, -1)] = d.reshape(planes, -1)
    out = out.reshape(*lead, oh, ow)

    def backward(g: Tensor, x: Tensor) -> Tensor:
        return g.reshape(*lead, size).gather(-1, indices.reshape(*lead, -1)).reshape(d.shape)

    return _pool_node("MaxUnpool2DBackward0", out, input, backward, keep=False)


def max_unpool2d(input: Tensor, indices: Tensor, kernel_size: Any, stride: Any = None, padding: Any = 0,
                 output_size: Any = None) -> Tensor:  # noqa: A002  # fmt: skip
    """The inverse of max_pool2d(return_indices=True): each value back at the position it was taken from."""
    _functional.tensor_arg("max_unpool2d", input)
    kernel = _pair(kernel_size, "kernel_size")
    step = _pair(stride, "stride") if stride is not None else kernel
    pad = _pair(padding, "padding")
    oh, ow = _unpool_output_size(input, kernel, step, pad, output_size)
    if indices._data.dtype != np.int64:
        raise RuntimeError(f"elements in indices should be type int64 but got: {indices.dtype.scalar_name()}")
    if indices._data.shape != input._data.shape:
        raise RuntimeError(
            f"Expected shape of indices to be same as that of the input tensor ({_shape_text(input._data.shape)}) "
            f"but got indices tensor with shape: {_shape_text(indices._data.shape)}"
        )
    return _max_unpool2d_prim(input, indices, oh, ow)


def max_unpool1d(input: Tensor, indices: Tensor, kernel_size: Any, stride: Any = None, padding: Any = 0,
                 output_size: Any = None) -> Tensor:  # noqa: A002  # fmt: skip
    """torch's: max_unpool2d over a width of 1 (unsqueezed, then squeezed)."""
    _functional.tensor_arg("max_unpool1d", input)
    kernel = _one(kernel_size)
    step = _one(stride) if stride is not None else kernel
    pad = _one(padding)
    (ol,) = _unpool_output_size(input, kernel, step, pad, output_size)
    return max_unpool2d(input.unsqueeze(-1), indices.unsqueeze(-1), (kernel[0], 1), (step[0], 1), (pad[0], 0),
                        (ol, 1)).squeeze(-1)  # fmt: skip


def _one(v: Any) -> tuple:
    return tuple(v) if isinstance(v, (tuple, list)) else (int(v),)


FUNCTIONS: dict[str, Callable] = {
    "max_unpool1d": max_unpool1d,
    "max_unpool2d": max_unpool2d,
    "conv1d": conv1d,
    "conv2d": conv2d,
    "conv_transpose1d": conv_transpose1d,
    "conv_transpose2d": conv_transpose2d,
    "max_pool1d": max_pool1d,
    "max_pool2d": max_pool2d,
    "avg_pool1d": avg_pool1d,
    "avg_pool2d": avg_pool2d,
    "lp_pool1d": lp_pool1d,
    "lp_pool2d": lp_pool2d,
    "adaptive_avg_pool1d": adaptive_avg_pool1d,
    "adaptive_avg_pool2d": adaptive_avg_pool2d,
    "adaptive_max_pool1d": adaptive_max_pool1d,
    "adaptive_max_pool2d": adaptive_max_pool2d,
    "max_pool1d_with_indices": max_pool1d_with_indices,
    "max_pool2d_with_indices": max_pool2d_with_indices,
    "adaptive_max_pool1d_with_indices": adaptive_max_pool1d_with_indices,
    "adaptive_max_pool2d_with_indices": adaptive_max_pool2d_with_indices,
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
    for name in ("avg_pool1d", "avg_pool2d", "adaptive_avg_pool1d", "adaptive_max_pool1d", "pixel_shuffle", "pad"):
        g[name] = FUNCTIONS[name] = arg_checks.parser(g[name], name)
    for name in ("adaptive_avg_pool2d", "adaptive_max_pool2d"):
        g[name] = FUNCTIONS[name] = arg_checks.attribute(g[name], "size")


_install_arg_checks()
