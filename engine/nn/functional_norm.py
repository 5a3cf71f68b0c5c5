"""torch.nn.functional's normalisation layers and channel dropout: batch_norm, instance_norm, group_norm,
rms_norm, local_response_norm, dropout1d/2d/3d, alpha_dropout and feature_alpha_dropout.

Where torch runs one ATen kernel the result carries that kernel's node (NativeBatchNormBackward0,
NativeGroupNormBackward0), recorded with functional's `_record`; its backward is computed on the arrays when
no graph is wanted (the training-loop path) and written in engine ops under create_graph, with the statistics
recomputed from the input inside the graph, so second derivatives are right. Where torch composes
(instance_norm, rms_norm, local_response_norm, the dropouts) the same engine ops are composed in the same
order, so grad_fns and roundings are torch's.

On the cpu (numpy) batch_norm, group_norm and layer_norm are torch's kernels to the bit, forward and
backward, float32 and float64, because the last bit shows in printed digits and a BatchNorm's bias
gradient is nothing but round-off: nn/batch_norm_cpu.py, nn/group_norm_cpu.py and nn/layer_norm_cpu.py
emulate the kernels (their thread chunks, vector lanes and FMA contractions, ops/norm_vec.py), and
_rowwise_moments is torch's Welford cascade for group and layer norm's statistics. Elsewhere (cuda,
float16) the statistics are float64 sums rounded once, within a rounding of torch's.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np

from engine.grad_mode import ENABLED, no_grad
from engine.nn import batch_norm_cpu as _bn_cpu
from engine.nn import functional as _functional
from engine.nn import group_norm_cpu as _gn_cpu
from engine.nn.functional_more import _add_scalar, _not_implemented, _shape_text
from engine.ops.cascade_sum import dim_sum as _dim_sum
from engine.ops.norm_vec import VEC_BYTES as _VEC_BYTES
from engine.ops.norm_vec import fmadd as _fmadd
from engine.ops.norm_vec import has_fma as _has_fma
from engine.ops.norm_vec import sum64 as _sum64
from engine.ops.reduce import is_expanded as _is_expanded
from engine.tensor import Tensor, wrap
from engine.warn import user_stacklevel

# (not `from engine.nn.functional import _record`: a from-import asks functional for __path__, and its
# module __getattr__ then imports every lazy module, this one and the convolution one included)
_record = _functional._record

_F16 = np.dtype(np.float16)
_F32 = np.dtype(np.float32)
_F64 = np.dtype(np.float64)
_C_NAMES = {_F16: "c10::Half", _F32: "float", _F64: "double"}

# ---- shared helpers ------------------------------------------------------------------------------------


def _channel_shape(ndim: int, c: int) -> tuple:
    return (1, c) + (1,) * (ndim - 2)


def _reduce_axes(ndim: int) -> tuple:
    return (0, *range(2, ndim))


def _verify_batch_size(size: Any) -> None:
    """torch.nn.functional._verify_batch_size: training needs more than one value per channel."""
    size_prods = size[0]
    for i in range(len(size) - 2):
        size_prods *= size[i + 2]
    if size_prods == 1:
        raise ValueError(f"Expected more than 1 value per channel when training, got input size {size}")


def _verify_spatial_size(size: Any) -> None:
    size_prods = 1
    for i in range(2, len(size)):
        size_prods *= size[i]
    if size_prods == 1:
        raise ValueError(f"Expected more than 1 spatial element when training, got input size {size}")


def _check_mixed(input: Tensor, *params: Tensor | None) -> bool:  # noqa: A002
    """ATen's cpu mixed-dtype rule (mixed_data_type.h): parameters of another dtype than the input must all
    be float32, and then the input must be float16 (computed in float32). True when the types are mixed."""
    defined = [p for p in params if p is not None]
    if not defined or defined[0]._data.dtype == input._data.dtype:
        return False
    if any(p._data.dtype != _F32 for p in defined):
        raise RuntimeError("mixed dtype (CPU): expect parameter to have scalar type of Float")
    if input._data.dtype != _F16:
        raise RuntimeError("mixed dtype (CPU): all inputs must share same datatype.")
    return True


def _floats(t: Tensor, kernel: str) -> None:
    if t._data.dtype not in (_F16, _F32, _F64):
        raise _not_implemented(kernel, t)


def _compute_dtype(d: Any) -> Any:
    """The dtype a kernel computes in: float16 in float32 (torch's opmath type), others as they are."""
    return _F32 if d == _F16 else d


def _arr(t: Tensor | None, dtype: Any) -> Any:
    if t is None:
        return None
    a = t._data
    return a if a.dtype == dtype else a.astype(dtype)


def _is_np(a: Any) -> bool:
    return type(a) is np.ndarray


# ---- batch_norm ----------------------------------------------------------------------------------------


def _channels_last(a: Any) -> bool:
    """A 4-d or 5-d array laid out channels-last (NHWC / NDHWC), as a permuted contiguous block."""
    return a.ndim in (4, 5) and not a.flags.c_contiguous and a.transpose(0, *range(2, a.ndim), 1).flags.c_contiguous


def _batch_stats(a: Any, xp: Any) -> tuple:
    """Per-channel (mean, sum of squared deviations) of a contiguous or channels-last (N, C, *) float32/float64
    array, as torch's batch_norm_cpu_collect_stats computes them (bit for bit on numpy: nn/batch_norm_cpu.py),
    the mean rounded to a's dtype before the deviations are taken."""
    n_batch, c = a.shape[0], a.shape[1]
    if _is_np(a):
        if not a.flags.c_contiguous:
            return _bn_cpu.rows_stats(_rows(a))
        if a.size == n_batch * c:  # image size 1: torch's channels-last kernel
            return _bn_cpu.rows_stats(a.reshape(n_batch, c))
        return _bn_cpu.plane_stats(a.reshape(n_batch, c, -1))
    x3 = a.reshape(n_batch, c, -1)
    mean = (x3.sum(axis=(0, 2), dtype=_F64) / (a.size // c)).astype(a.dtype)
    d = x3 - mean[:, None]
    d *= d
    return mean, d.sum(axis=(0, 2), dtype=_F64).astype(a.dtype)


def _rows(a: np.ndarray) -> np.ndarray:
    """A channels-last (N, C, *) array as its (N * H * W, C) rows (a view)."""
    return a.transpose(0, *range(2, a.ndim), 1).reshape(-1, a.shape[1])


def _from_rows(rows: np.ndarray, shape: tuple) -> np.ndarray:
    """_rows's inverse: (N * H * W, C) rows as a channels-last array of shape (N, C, *)."""
    nd = len(shape)
    return rows.reshape(shape[0], *shape[2:], shape[1]).transpose(0, nd - 1, *range(1, nd - 1))


def _affine(a: Any, mean: Any, invstd: Any, w: Any, b: Any, shape: tuple, strided: bool) -> Any:
    """y = x * alpha + beta per channel, alpha = invstd * weight and beta = bias - mean * alpha, as torch's
    kernel rounds them (FMAs for beta and y: nn/batch_norm_cpu.py). strided: the input was neither
    contiguous nor channels-last, where torch's element-wise fallback computes
    ((x - mean) * invstd) * weight + bias."""
    if strided:
        y = (a - mean.reshape(shape)) * invstd.reshape(shape)
        if w is not None:
            y *= w.reshape(shape)
        if b is not None:
            y += b.reshape(shape)
        return y
    if _is_np(a):
        return _bn_cpu.affine(a, mean, invstd, w, b, shape)
    alpha = invstd if w is None else invstd * w
    beta = -(mean * alpha) if b is None else b - mean * alpha
    return a * alpha.reshape(shape) + beta.reshape(shape)


def _strided_stats(a: Any, xp: Any, mean: Any, rm: Tensor | None, rv: Tensor | None, momentum: float,
                   eps: float) -> tuple:  # fmt: skip
    """torch's batch_norm statistics for an input neither contiguous nor channels-last: the mean as at::mean
    computes it (given), the squared deviations summed in float64, and the running statistics updated in
    float64 (with momentum a double). (mean, invstd) in a's dtype."""
    dt = a.dtype
    c = a.shape[1]
    count = a.size // c
    m64 = mean.astype(_F64)
    d = a.astype(_F64) - m64.reshape(_channel_shape(a.ndim, c))
    d *= d
    var_sum = d.sum(axis=_reduce_axes(a.ndim))
    invstd = (1.0 / xp.sqrt(var_sum / count + eps)).astype(dt)
    if rm is not None:
        rm._data[...] = (momentum * m64 + (1 - momentum) * rm._data.astype(_F64)).astype(rm._data.dtype)
    if rv is not None:
        unbiased = var_sum / (count - 1)
        rv._data[...] = (momentum * unbiased + (1 - momentum) * rv._data.astype(_F64)).astype(rv._data.dtype)
    return mean.astype(dt), invstd


def _bn_arrays(a: Any, xp: Any, w: Any, b: Any, rm: Tensor | None, rv: Tensor | None, training: bool,
               momentum: float, eps: float, strided: bool, strided_mean: Any) -> tuple:  # fmt: skip
    """The forward on arrays in the compute dtype: (output, mean, invstd), with the running statistics
    updated in place when training (torch's kernel writes them without moving their version counters).
    strided: the input was neither contiguous nor channels-last (a is its contiguous copy); strided_mean,
    when training, its mean as torch's fallback path takes it."""
    dt = a.dtype
    c = a.shape[1]
    shape = _channel_shape(a.ndim, c)
    if training and strided:
        mean, invstd = _strided_stats(a, xp, strided_mean, rm, rv, momentum, eps)
    elif training:
        count = a.size // c
        mean, var_sum = _batch_stats(a, xp)
        # torch: the biased variance as a float, then 1 / sqrt(var + eps) in double, stored as a float
        invstd = (1.0 / xp.sqrt((var_sum / dt.type(count)).astype(_F64) + eps)).astype(dt)
        with np.errstate(divide="ignore", invalid="ignore"):
            if rm is not None:
                pdt = rm._data.dtype
                m = pdt.type(momentum)
                rm._data[...] = m * mean.astype(pdt) + (pdt.type(1) - m) * rm._data
            if rv is not None:
                pdt = rv._data.dtype
                m = pdt.type(momentum)
                unbiased = (var_sum.astype(pdt) / pdt.type(count - 1)).astype(_F64)
                rv._data[...] = (_F64.type(m) * unbiased + ((pdt.type(1) - m) * rv._data).astype(_F64)).astype(pdt)
    else:
        mean = rm._data.astype(dt)
        invstd = 1 / xp.sqrt(rv._data.astype(dt) + dt.type(eps))
    return _affine(a, mean, invstd, w, b, shape, strided), mean, invstd


def _bn_empty(input: Tensor, weight: Tensor | None, bias: Tensor | None) -> Tensor:  # noqa: A002
    """ATen's batch_norm of an empty input: a clone, times weight[0], plus bias[0], so the graph still
    reaches the parameters."""
    out = input.clone()
    if weight is not None:
        out = out * weight[0]
    if bias is not None:
        out = out + bias[0]
    return out


def _check_features(name: str, expected: int, t: Tensor) -> None:
    if t.numel() != expected:
        raise RuntimeError(f"{name} should contain {expected} elements not {t.numel()}")


def _batch_norm(input: Tensor, weight: Tensor | None, bias: Tensor | None, running_mean: Tensor | None,
                running_var: Tensor | None, training: bool, momentum: float, eps: float) -> Tensor:  # noqa: A002  # fmt: skip
    """torch.batch_norm (ATen's _batch_norm_impl_index and the cpu native_batch_norm), checks in its order."""
    nd = input.dim()
    if nd == 0:
        raise RuntimeError(
            "SmallVector unable to grow. Requested capacity (18446744073709551615) is larger than maximum value "
            "for size type (4294967295)"
        )
    c = input.shape[1] if nd > 1 else 0
    if input.numel() == 0 and nd > 1:
        return _bn_empty(input, weight, bias)
    for name, t in (("running_mean", running_mean), ("running_var", running_var)):
        if t is not None:
            _check_features(name, c, t)
        elif not training:
            raise RuntimeError(f"{name} must be defined in evaluation mode")
    for name, t in (("weight", weight), ("bias", bias)):
        if t is not None:
            _check_features(name, c, t)
    if nd == 1:
        raise IndexError("Dimension out of range (expected to be in range of [-1, 0], but got 1)")
    for t in (running_mean, running_var):
        if t is not None and t.dim() != 1:
            raise RuntimeError(f"TensorAccessor expected 1 dims but tensor has {t.dim()}")
    _floats(input, "batch_norm")
    _check_mixed(input, weight, bias, running_mean, running_var)
    xd = input._data
    xp = input._dev.xp
    dt = _compute_dtype(xd.dtype)
    a = xd if xd.dtype == dt else xd.astype(dt)
    # torch's output keeps a contiguous or channels-last input's layout; any other is computed contiguous,
    # with the statistics of torch's fallback path, whose mean is at::mean's (engine ops take its order)
    strided = not a.flags.c_contiguous and not _channels_last(a)
    strided_mean = None
    if strided:
        if training:
            with no_grad():
                x_ = input.detach() if xd.dtype == dt else input.detach().float()
                strided_mean = x_.mean(_reduce_axes(nd))._data
        a = xp.ascontiguousarray(a)
    w, b = _arr(weight, dt), _arr(bias, dt)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        out, mean, invstd = _bn_arrays(a, xp, w, b, running_mean, running_var, training, momentum, eps, strided,
                                       strided_mean)  # fmt: skip
    if out.dtype != xd.dtype:
        out = out.astype(xd.dtype)
    if not _is_np(out) and out.flags.c_contiguous and _channels_last(a):
        # (cupy's ufuncs write C order whatever their operands' layout, numpy's follow it): channels-last back
        last = (0, *range(2, nd), 1)
        out = xp.ascontiguousarray(out.transpose(last)).transpose(0, nd - 1, *range(1, nd - 1))
    out = wrap(out, input._dev)
    if not ENABLED[0] or not any(t is not None and t._rg for t in (input, weight, bias)):
        return out

    def backward(g: Tensor, x: Tensor, w: Any, rm: Any, rv: Any) -> tuple:
        if ENABLED[0]:  # create_graph: engine ops, the statistics recomputed from x inside the graph
            return _bn_backward_graph(g, x, w, rm, rv, training, eps, bias)
        if not training and rv is not None:  # torch's eval backward: 1/sqrt(var + eps) in double, then rounded
            xp_ = rv._dev.xp
            inv = (1.0 / xp_.sqrt(rv._data.astype(_F64) + eps)).astype(mean.dtype)
            return _bn_backward_arrays(g, x, w, mean, inv, training, bias)
        return _bn_backward_arrays(g, x, w, mean, invstd, training, bias)

    # torch saves the input, the weight and the running statistics (checked for in-place changes), not the bias
    return _record("NativeBatchNormBackward0", out, (input, weight, bias), (input, weight, running_mean, running_var),
                   backward)  # fmt: skip


def _bn_backward_arrays(g: Tensor, x: Tensor, w: Tensor | None, mean: Any, invstd: Any, training: bool,
                        bias: Tensor | None) -> tuple:  # fmt: skip
    """torch's batch_norm_backward_cpu on the arrays: per channel the gradient's sum and its dot product with
    x - mean, then dx = ((dy - sum/M) - (x - mean) * dotp * invstd^2 / M) * invstd * w in training,
    dy * invstd * w in eval. With x and dy both contiguous or both channels-last, torch's vectorized kernels
    (nn/batch_norm_cpu.py); otherwise its element-wise fallback."""
    dt = mean.dtype
    gd, xd = g._data, x._data
    gd = gd if gd.dtype == dt else gd.astype(dt)
    xd = xd if xd.dtype == dt else xd.astype(dt)
    need_w = w is not None and w._rg
    need_b = bias is not None and bias._rg
    wd = None if w is None else _arr(w, dt)
    if _is_np(xd) and not _is_expanded(g._data):  # (torch's sum gradient is an expanded view)
        if xd.flags.c_contiguous and gd.flags.c_contiguous:
            n, c = xd.shape[0], xd.shape[1]
            if xd.size == n * c:
                gx, dotp, total = _bn_cpu.rows_backward(gd.reshape(n, c), xd.reshape(n, c), mean, invstd, wd,
                                                        training, x._rg)  # fmt: skip
                gw, gx = dotp * invstd, None if gx is None else gx.reshape(xd.shape)
            else:
                gx, gw, total = _bn_cpu.plane_backward(gd.reshape(n, c, -1), xd.reshape(n, c, -1), mean, invstd, wd,
                                                       training, x._rg)  # fmt: skip
                gx = None if gx is None else gx.reshape(xd.shape)
            return _bn_grads(gx, gw if need_w else None, total if need_b else None, x)
        if _channels_last(xd) and _channels_last(gd):
            gx, dotp, total = _bn_cpu.rows_backward(_rows(gd), _rows(xd), mean, invstd, wd, training, x._rg)
            gx = None if gx is None else _from_rows(gx, xd.shape)
            return _bn_grads(gx, dotp * invstd if need_w else None, total if need_b else None, x)
    return _bn_backward_fallback(gd, xd, wd, mean, invstd, training, x, need_w, need_b)


def _bn_grads(gx: Any, gw: Any, gb: Any, x: Tensor) -> tuple:
    return tuple(None if a is None else wrap(a, x._dev) for a in (gx, gw, gb))


def _bn_backward_fallback(gd: Any, xd: Any, wd: Any, mean: Any, invstd: Any, training: bool, x: Tensor,
                          need_w: bool, need_b: bool) -> tuple:  # fmt: skip
    """batch_norm_backward_cpu_template's element-wise path (dy or x in another layout, e.g. the expanded
    gradient of a sum): the gradient's sum as at::sum takes it, the dot product in double element by element
    (each product rounded), the rest without FMAs. (On cupy, float64 sums.)"""
    dt = mean.dtype
    nd, c = xd.ndim, xd.shape[1]
    axes, shape = _reduce_axes(nd), _channel_shape(nd, c)
    count = xd.size // c
    xc = xd - mean.reshape(shape)
    total = None
    if training or need_b:
        total = _dim_sum(gd, axes) if _is_np(gd) else None
        total = gd.sum(axis=axes, dtype=_F64).astype(dt) if total is None else total
    dotp = None
    if training or need_w:
        prod = xc * gd
        if _is_np(prod):  # (the logical order: N, then the spatial dims, per channel)
            dotp = _sum64(np.moveaxis(prod, 1, -1).reshape(-1, c))
        else:
            dotp = prod.sum(axis=axes, dtype=_F64)
    gx = None
    if x._rg:
        if training:
            k = dotp.astype(dt) * invstd * invstd / dt.type(count)
            xc *= k.reshape(shape)  # (in place: x - mean is not needed again)
            gx = gd - (total / dt.type(count)).reshape(shape)
            gx -= xc
            gx *= invstd.reshape(shape)
        else:
            gx = gd * invstd.reshape(shape)
        if wd is not None:
            gx *= wd.reshape(shape)
    return _bn_grads(gx, (dotp * invstd).astype(dt) if need_w else None, total if need_b else None, x)


def _bn_backward_graph(g: Tensor, x: Tensor, w: Tensor | None, rm: Tensor | None, rv: Tensor | None,
                       training: bool, eps: float, bias: Tensor | None) -> tuple:  # fmt: skip
    nd, c = x.dim(), x.shape[1]
    axes, shape = _reduce_axes(nd), _channel_shape(nd, c)
    if training:
        mu = x.mean(axes, keepdim=True)
        xc = x - mu
        rstd = ((xc * xc).mean(axes, keepdim=True) + eps).rsqrt()
    else:
        xc = x - rm.detach().to(x.dtype).reshape(shape)
        rstd = (rv.detach().to(x.dtype) + eps).rsqrt().reshape(shape)
    xhat = xc * rstd
    gx = gw = gb = None
    if x.requires_grad:
        gh = g if w is None else g * w.reshape(shape)
        if training:
            gx = rstd * (gh - gh.mean(axes, keepdim=True) - xhat * (gh * xhat).mean(axes, keepdim=True))
        else:
            gx = gh * rstd
    if w is not None and w.requires_grad:
        gw = (g * xhat).sum(axes)
    if bias is not None and bias.requires_grad:
        gb = g.sum(axes)
    return gx, gw, gb


def torch_batch_norm(input: Tensor, weight: Tensor | None, bias: Tensor | None, running_mean: Tensor | None,
                     running_var: Tensor | None, training: bool, momentum: float, eps: float,
                     cudnn_enabled: bool = True) -> Tensor:  # noqa: A002  # fmt: skip
    """torch.batch_norm (the ATen function F.batch_norm calls; its argument order)."""
    if momentum is None or eps is None:
        which, pos = ("momentum", 7) if momentum is None else ("eps", 8)
        raise TypeError(f"batch_norm(): argument '{which}' (position {pos}) must be float, not NoneType")
    return _batch_norm(input, weight, bias, running_mean, running_var, training, momentum, eps)


def batch_norm(input: Tensor, running_mean: Tensor | None, running_var: Tensor | None,
               weight: Tensor | None = None, bias: Tensor | None = None, training: bool = False,
               momentum: float = 0.1, eps: float = 1e-5) -> Tensor:  # noqa: A002  # fmt: skip
    if training:
        _verify_batch_size(input.size())
    if training and eps <= 0.0:
        raise ValueError(f"batch_norm eps must be positive during training, but got {eps}")
    elif eps < 0.0:
        raise ValueError(f"batch_norm eps must be non-negative, but got {eps}")
    return torch_batch_norm(input, weight, bias, running_mean, running_var, training, momentum, eps)


# ---- instance_norm -------------------------------------------------------------------------------------


def torch_instance_norm(input: Tensor, weight: Tensor | None, bias: Tensor | None, running_mean: Tensor | None,
                        running_var: Tensor | None, use_input_stats: bool, momentum: float, eps: float,
                        cudnn_enabled: bool = True) -> Tensor:  # noqa: A002  # fmt: skip
    """ATen's instance_norm: a batch_norm of the input viewed as one sample of N*C channels, the parameters and
    running statistics repeated N times; the updated statistics are averaged back over the batch."""
    if not use_input_stats and (running_mean is None or running_var is None):
        raise RuntimeError("Expected running_mean and running_var to be defined when use_input_stats is false")
    shape = list(input.shape)
    b, c = shape[0], shape[1]
    view = [1, b * c, *shape[2:]]
    weight_, bias_ = (None if t is None else t.repeat(b) for t in (weight, bias))
    rm_, rv_ = (None if t is None else t.repeat(b) for t in (running_mean, running_var))
    out = _batch_norm(input.contiguous().view(view), weight_, bias_, rm_, rv_, use_input_stats, momentum, eps)
    if use_input_stats:  # (torch copies the averaged statistics back only when it updated them)
        with no_grad():
            for t, t_ in ((running_mean, rm_), (running_var, rv_)):
                if t is not None:
                    t.copy_(t_.view(b, c).mean(0, False))
    return out.view(shape)


def instance_norm(input: Tensor, running_mean: Tensor | None = None, running_var: Tensor | None = None,
                  weight: Tensor | None = None, bias: Tensor | None = None, use_input_stats: bool = True,
                  momentum: float = 0.1, eps: float = 1e-5) -> Tensor:  # noqa: A002  # fmt: skip
    if use_input_stats:
        _verify_spatial_size(input.size())
    return torch_instance_norm(input, weight, bias, running_mean, running_var, use_input_stats, momentum, eps)


# ---- group_norm ----------------------------------------------------------------------------------------


def _check_group_norm_inputs(input: Tensor, weight: Tensor | None, bias: Tensor | None, c: int, groups: int) -> None:  # noqa: A002
    if groups <= 0:
        raise RuntimeError(f"Expected num groups to be greater than 0, got {groups}")
    if c % groups:
        raise RuntimeError(
            "Expected number of channels in input to be divisible by num_groups, but got input of shape "
            f"{_shape_text(input.shape)} and num_groups={groups}"
        )
    for name, t in (("weight", weight), ("bias", bias)):
        if t is not None and (t.dim() != 1 or t.numel() != c):
            # (torch's bias message shows the weight's shape, [0] when there is no weight)
            shown = _shape_text(t.shape if name == "weight" else (weight.shape if weight is not None else [0]))
            raise RuntimeError(
                f"Expected {name} to be a vector of size equal to the number of channels in input, but got {name} "
                f"of shape {shown} and input of shape {_shape_text(input.shape)}"
            )


def _merge_moments(ca: Any, m1a: Any, m2a: Any, cb: Any, m1b: Any, m2b: Any) -> tuple:
    """torch's AddMomentsVec (moments_utils.h), vectorised over items: the Welford moments (count, mean, M2) of
    B merged into A's. Counts are int arrays (K,), moments (rows, K, lanes)."""
    dt = m1a.dtype
    n = ca + cb
    c = (cb.astype(dt) / n.astype(dt))[:, None]
    delta = m1b - m1a
    m2_tmp = m2a + m2b
    cd = c * delta
    m0d = delta * ca.astype(dt)[:, None]
    return n, m1a + cd, _fmadd(m0d, cd, m2_tmp)


def _welford(block: np.ndarray) -> tuple:
    """The Welford moments (m1, m2) of each (row, chunk, lane) of a (rows, chunks, size, lanes) block over
    its `size` vectors: d = v - m1, m1 += d / (j + 1), m2 += d * (v - m1), the updates FMAs in torch's
    build."""
    rows, k, size, lanes = block.shape
    dt = block.dtype
    one = dt.type
    m1 = np.zeros((rows, k, lanes), dt)
    m2 = np.zeros((rows, k, lanes), dt)
    if dt != _F32 or not _has_fma():
        for j in range(size):
            v = block[:, :, j]
            d = v - m1
            m1 = _fmadd(d, one(1) / one(j + 1), m1)
            m2 = _fmadd(d, v - m1, m2)
        return m1, m2
    # m1's chain step by step, each step's d and m1 kept; then every step's d * (v - m1) at once, and m2's
    # chain over those products. Mixed float32/float64 ufunc calls are slow (buffered casts): the products and
    # sums run on float64 arrays, the roundings are assignments.
    steps = np.moveaxis(block, 2, 0).copy()  # (each step's vectors contiguous: 8-float rows are slow to loop)
    ds, m1s = np.empty_like(steps), np.empty_like(steps)
    m1_64, t = np.zeros(m1.shape, _F64), np.empty(m1.shape, _F64)
    for j in range(size):
        np.subtract(steps[j], m1, out=ds[j])
        t[...] = ds[j]
        t *= float(one(1) / one(j + 1))
        t += m1_64
        m1 = m1s[j]
        m1[...] = t
        m1_64[...] = m1
    np.subtract(steps, m1s, out=steps)
    prods = np.multiply(ds, steps, dtype=_F64)  # (exact)
    m2_64 = t
    m2_64[...] = 0
    for j in range(size):
        m2_64 += prods[j]
        m2[...] = m2_64
        m2_64[...] = m2
    return m1.copy(), m2


def _rowwise_moments(x: np.ndarray) -> tuple:
    """(mean, biased variance) of each row of a float32 or float64 (rows, L) numpy array, bit for bit as
    torch's RowwiseMoments (aten/src/ATen/native/cpu/moments_utils.h, its AVX2 build: the norm kernels have no
    AVX512 one) computes them for group_norm and layer_norm: one 32-byte vector's lanes (8 floats, 4 doubles),
    each a Welford over chunks of 16 vectors (FMA updates), the chunks merged as a binary cascade, the tail
    elements by a scalar Welford, then the lanes merged into it one by one. Every step runs on all rows (and
    all chunks) at once."""
    rows, length = x.shape
    dt = x.dtype
    one = dt.type
    lanes = _VEC_BYTES // dt.itemsize
    n = length // lanes
    m = -(-n // 16)
    depth = 0 if m <= 1 else (m - 1).bit_length()
    top = max(depth, 1) - 1
    # each chunk's Welford: the full chunks together, then the partial one
    m1s, m2s, counts = [], [], []
    x8 = x[:, : n * lanes].reshape(rows, n, lanes)
    full = n // 16
    for start, size, k in ((0, 16, full), (full * 16, n - full * 16, 1)):
        if not k or not size:
            continue
        m1, m2 = _welford(x8[:, start : start + k * size].reshape(rows, k, size, lanes))
        m1s.append(m1)
        m2s.append(m2)
        counts += [size] * k
    stack: dict = {}  # torch's stack of partial merges: level -> (counts, m1, m2)
    if counts:
        cnt, m1, m2 = np.array(counts, np.int64), np.concatenate(m1s, 1), np.concatenate(m2s, 1)
        for level in range(top + 1):
            if level == top and cnt.size <= 1:
                break
            if cnt.size % 2:  # an unpaired block stays at its level until the end
                stack[level] = (cnt[-1:], m1[:, -1:], m2[:, -1:])
                cnt, m1, m2 = cnt[:-1], m1[:, :-1], m2[:, :-1]
            if not cnt.size:
                break
            cnt, m1, m2 = _merge_moments(cnt[0::2], m1[:, 0::2], m2[:, 0::2], cnt[1::2], m1[:, 1::2], m2[:, 1::2])
        if cnt.size:
            stack[top] = (cnt, m1, m2)
    acc = stack.get(0)
    for level in range(1, depth):  # the levels merged into level 0's, lowest first
        if level in stack:
            acc = stack[level] if acc is None else _merge_moments(*acc, *stack[level])
    lane_m1 = acc[1][:, 0] if acc is not None else np.zeros((rows, lanes), dt)
    lane_m2 = acc[2][:, 0] if acc is not None else np.zeros((rows, lanes), dt)
    # the tail: torch's scalar Welford (no FMAs there), then the lanes merged in (AddMoments, with FMAs)
    m0 = 0
    mean = np.zeros(rows, dt)
    m2 = np.zeros(rows, dt)
    for k in range(n * lanes, length):
        v = x[:, k]
        d = v - mean
        m0 += 1
        mean = mean + d / one(m0)
        m2 = m2 + d * (v - mean)
    for lane in range(lanes):
        total = m0 + n
        c = one(0) if total == 0 else one(n) / one(total)
        d = lane_m1[:, lane] - mean
        mean = _fmadd(c, d, mean)
        m2 = m2 + _fmadd(d * d * c, one(m0), lane_m2[:, lane])
        m0 = total
    return mean, m2 / one(length)


def _group_stats(a: Any, xp: Any, n: int, groups: int, inner: int, exact: bool) -> tuple:
    """Per (sample, group) mean and biased variance: torch's RowwiseMoments for float32/64 on the cpu (exact),
    else float64 moments rounded to a's dtype (within a rounding of torch's)."""
    rows = a.reshape(n * groups, inner)
    if exact and inner:
        return _rowwise_moments(np.ascontiguousarray(rows))
    m64 = rows.mean(axis=1, dtype=_F64)
    d = rows - m64.astype(a.dtype)[:, None] if a.dtype == _F64 else rows.astype(_F64) - m64[:, None]
    var = (d * d).mean(axis=1)
    return m64.astype(a.dtype), var.astype(a.dtype)


def torch_group_norm(input: Tensor, num_groups: int, weight: Tensor | None = None, bias: Tensor | None = None,
                     eps: float = 1e-5, cudnn_enabled: bool = True) -> Tensor:  # noqa: A002  # fmt: skip
    """torch.group_norm: one native_group_norm kernel (NativeGroupNormBackward0)."""
    shape = tuple(input.shape)
    n, c = shape[0], shape[1]
    _check_group_norm_inputs(input, weight, bias, c, num_groups)
    _check_mixed(input, weight, bias)
    _floats(input, "GroupNormKernelImpl")
    xd = input._data
    xp = input._dev.xp
    dt = _compute_dtype(xd.dtype)
    a = xd if xd.dtype == dt else xd.astype(dt)
    a = a if a.flags.c_contiguous else xp.ascontiguousarray(a)
    d = c // num_groups
    hw = math.prod(shape[2:])
    w, b = _arr(weight, dt), _arr(bias, dt)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        exact = _is_np(a) and xd.dtype in (_F32, _F64)  # (float16 runs a 16-lane variant: not emulated)
        mean, var = _group_stats(a, xp, n, num_groups, d * hw, exact)
        rstd = (1.0 / xp.sqrt(xp.maximum(var, 0).astype(_F64) + eps)).astype(dt)
        x4 = a.reshape(n, num_groups, d, hw)
        m4, r4 = mean.reshape(n, num_groups, 1, 1), rstd.reshape(n, num_groups, 1, 1)
        if w is None and b is None:  # torch's kernel: (x - mean) * rstd
            out = (x4 - m4) * r4
        else:
            bshape = (1, num_groups, d, 1)
            scale = xp.broadcast_to(r4, (n, num_groups, d, 1)) if w is None else r4 * w.reshape(bshape)
            if exact:  # torch's build: FMAs for the shift and for y
                shift = (
                    -(scale * m4) if b is None else _fmadd(-scale, m4, np.broadcast_to(b.reshape(bshape), scale.shape))
                )
                out = _fmadd(x4, scale, shift)
            else:
                shift = -(scale * m4) if b is None else b.reshape(bshape) - scale * m4
                out = x4 * scale + shift
    out = out.reshape(shape)
    if out.dtype != xd.dtype:
        out = out.astype(xd.dtype)
    out = wrap(out, input._dev)
    if not ENABLED[0] or not any(t is not None and t._rg for t in (input, weight, bias)):
        return out

    def backward(g: Tensor, x: Tensor, w: Any) -> tuple:
        if w is None and bias is not None and bias._rg:  # (torch's backward fails so for a bias without weight)
            raise RuntimeError("tensor does not have a device")
        if ENABLED[0]:
            return _gn_backward_graph(g, x, w, bias, num_groups, eps)
        return _gn_backward_arrays(g, x, w, bias, num_groups, mean, rstd)

    return _record("NativeGroupNormBackward0", out, (input, weight, bias), (input, weight), backward)


def _gn_backward_arrays(g: Tensor, x: Tensor, w: Tensor | None, bias: Tensor | None, groups: int, mean: Any,
                        rstd: Any) -> tuple:  # fmt: skip
    """group_norm's backward on the arrays: torch's cpu kernel for a contiguous float32/float64 numpy input
    (nn/group_norm_cpu.py), else float64 sums."""
    dt = mean.dtype
    shape = x._data.shape
    xd = x._data
    if _is_np(xd) and xd.dtype == dt and xd.flags.c_contiguous and xd.size:
        n, c = shape[0], shape[1]
        gd = np.ascontiguousarray(g._data, dtype=dt).reshape(n, c, -1)
        need = (x._rg, w is not None and w._rg, bias is not None and bias._rg)
        grads = _gn_cpu.backward(gd, xd.reshape(n, c, -1), mean.reshape(n, groups), rstd.reshape(n, groups),
                                 _arr(w, dt), groups, *need)  # fmt: skip
        return tuple(None if a is None else wrap(a.reshape(s), x._dev) for a, s in zip(grads, (shape, (c,), (c,))))
    n, c = shape[0], shape[1]
    d = c // groups
    hw = math.prod(shape[2:])
    gd = _arr(g, dt).reshape(n, groups, d, hw)
    xhat = (_arr(x, dt).reshape(n, groups, d, hw) - mean.reshape(n, groups, 1, 1)) * rstd.reshape(n, groups, 1, 1)
    gx = gw = gb = None
    if x._rg:
        gh = gd if w is None else gd * _arr(w, dt).reshape(1, groups, d, 1)
        m = gh[0, 0].size if gh.size else 1
        s1 = gh.sum(axis=(2, 3), keepdims=True, dtype=_F64) / m
        s2 = (gh * xhat).sum(axis=(2, 3), keepdims=True, dtype=_F64) / m
        gx = (gh - s1.astype(dt) - xhat * s2.astype(dt)) * rstd.reshape(n, groups, 1, 1)
        gx = wrap(gx.reshape(shape), x._dev)
    if w is not None and w._rg:
        gw = wrap((gd * xhat).sum(axis=(0, 3), dtype=_F64).astype(dt).reshape(c), x._dev)
    if bias is not None and bias._rg:
        gb = wrap(gd.sum(axis=(0, 3), dtype=_F64).astype(dt).reshape(c), x._dev)
    return gx, gw, gb


def _gn_backward_graph(g: Tensor, x: Tensor, w: Tensor | None, bias: Tensor | None, groups: int, eps: float) -> tuple:
    shape = tuple(x.shape)
    n, c = shape[0], shape[1]
    d = c // groups
    hw = math.prod(shape[2:])
    xg = x.reshape(n, groups, d * hw)
    xc = xg - xg.mean(2, keepdim=True)
    rstd = ((xc * xc).mean(2, keepdim=True) + eps).rsqrt()
    xhat = (xc * rstd).reshape(n, groups, d, hw)
    g4 = g.reshape(n, groups, d, hw)
    gx = gw = gb = None
    if x.requires_grad:
        gh = g4 if w is None else g4 * w.reshape(1, groups, d, 1)
        r4 = rstd.reshape(n, groups, 1, 1)
        gx = r4 * (gh - gh.mean((2, 3), keepdim=True) - xhat * (gh * xhat).mean((2, 3), keepdim=True))
        gx = gx.reshape(shape)
    if w is not None and w.requires_grad:
        gw = (g4 * xhat).sum((0, 3)).reshape(c)
    if bias is not None and bias.requires_grad:
        gb = g4.sum((0, 3)).reshape(c)
    return gx, gw, gb


def group_norm(input: Tensor, num_groups: int, weight: Tensor | None = None, bias: Tensor | None = None,
               eps: float = 1e-5) -> Tensor:  # noqa: A002  # fmt: skip
    if input.dim() < 2:
        raise RuntimeError(f"Expected at least 2 dimensions for input tensor but received {input.dim()}")
    _verify_batch_size([input.size(0) * input.size(1) // num_groups, num_groups] + list(input.size()[2:]))
    return torch_group_norm(input, num_groups, weight, bias, eps)


# ---- rms_norm ------------------------------------------------------------------------------------------

_RMS_WARNED: list = []


def _check_rms_norm_inputs(input: Tensor, normalized_shape: Any, weight: Tensor | None) -> list:  # noqa: A002
    if isinstance(normalized_shape, int):  # torch's argument parser takes a sequence only
        raise TypeError(
            "rms_norm(): argument 'normalized_shape' (position 2) must be tuple of ints, not "
            f"{type(normalized_shape).__name__}"
        )
    shape = [int(n) for n in normalized_shape]
    if not shape:
        raise RuntimeError(
            "Expected normalized_shape to be at least 1-dimensional, i.e., containing at least one element, but got "
            "normalized_shape = []"
        )
    if weight is not None and list(weight.shape) != shape:
        raise RuntimeError(
            f"Expected weight to be of same shape as normalized_shape, but got weight of shape "
            f"{_shape_text(weight.shape)} and normalized_shape = {_shape_text(shape)}"
        )
    ishape = list(input.shape)
    k = len(shape)
    if len(ishape) < k or ishape[len(ishape) - k :] != shape:
        raise RuntimeError(
            f"Given normalized_shape={_shape_text(shape)}, expected input with shape [*{', '.join(map(str, shape))}], "
            f"but got input of size{_shape_text(ishape)}"
        )
    return shape


def rms_norm(input: Tensor, normalized_shape: Any, weight: Tensor | None = None, eps: float | None = None) -> Tensor:  # noqa: A002
    """torch 2.13's composite rms_norm, op for op: x upcast to its opmath dtype, x * rsqrt(mean(x^2) + eps),
    times the weight, cast back to the input's dtype."""
    shape = _check_rms_norm_inputs(input, normalized_shape, weight)
    xdt = input._data.dtype
    if weight is not None and weight._data.dtype != xdt and not _RMS_WARNED:  # (TORCH_WARN_ONCE)
        _RMS_WARNED.append(True)
        warnings.warn(
            f"Mismatch dtype between input and weight: input dtype = {_C_NAMES.get(xdt, xdt.name)}, weight dtype = "
            f"{_C_NAMES.get(weight._data.dtype, weight._data.dtype.name)}, Cannot dispatch to fused implementation. "
            "(Triggered internally at /__w/pytorch/pytorch/aten/src/ATen/native/layer_norm.cpp:346.)",
            UserWarning,
            stacklevel=user_stacklevel(),
        )
    _floats(input, "rms_norm")
    from engine.dtypes import float32

    up = input.to(float32) if xdt == _F16 else input
    op_dt = _compute_dtype(xdt)
    if eps is None:
        eps_val = float(np.finfo(op_dt).eps)
    else:
        eps_val = float(xdt.type(eps))  # (torch holds eps as the input's scalar type)
    dims = tuple(range(input.dim() - 1, input.dim() - 1 - len(shape), -1))
    rsq = _add_scalar(up.pow(2).mean(dims, keepdim=True), eps_val).rsqrt()
    result = up.mul(rsq)
    if weight is not None:
        result = result.mul(weight)
    return result if result._data.dtype == xdt else result.to(input.dtype)


# ---- local_response_norm -------------------------------------------------------------------------------


def _pad_dim2(x: Tensor, before: int, after: int) -> Tensor:
    """F.pad(x, (0, 0, ..., before, after)) on dim 2, zeros: one ConstantPadNdBackward0 node."""
    d = x._data
    xp = x._dev.xp
    widths = [(0, 0)] * d.ndim
    widths[2] = (before, after)
    out = wrap(xp.pad(d, widths), x._dev)
    n = d.shape[2]

    def backward(g: Tensor) -> tuple:
        return (g.narrow(2, before, n),)

    return _record("ConstantPadNdBackward0", out, (x,), (), backward)


def _window_mean(x: Tensor, size: int, name: str) -> Tensor:
    """avg_pool2d/3d with kernel (size, 1[, 1]) and stride 1 over dim 2 of a padded input: each output the sum
    of `size` consecutive inputs in order, divided by size (torch's cpu kernel)."""
    d = x._data
    n_out = d.shape[2] - size + 1
    acc = d[:, :, 0:n_out].copy()
    for k in range(1, size):
        acc += d[:, :, k : k + n_out]
    acc /= d.dtype.type(size)
    out = wrap(acc, x._dev)

    def backward(g: Tensor) -> tuple:  # each input gets 1/size of the gradient of every window it is in
        padded = _pad_dim2(g, size - 1, size - 1)
        total = padded.narrow(2, 0, n_out + size - 1)
        for k in range(1, size):
            total = total + padded.narrow(2, k, n_out + size - 1)
        return (total / size,)

    return _record(name, out, (x,), (), backward)


def local_response_norm(input: Tensor, size: int, alpha: float = 1e-4, beta: float = 0.75, k: float = 1.0) -> Tensor:  # noqa: A002
    """torch's Python composite: the squares averaged over a window of `size` channels (zero-padded), then
    input / (k + alpha * average) ** beta."""
    dim = input.dim()
    if dim < 3:
        raise ValueError(f"Expected 3D or higher dimensionality                          input (got {dim} dimensions)")
    if input.numel() == 0:
        return input
    div = input.mul(input)
    if dim == 3:
        div = div.unsqueeze(1)
        div = _pad_dim2(div, size // 2, (size - 1) // 2)
        div = _window_mean(div, size, "AvgPool2DBackward0").squeeze(1)
    else:
        sizes = input.size()
        div = div.view(sizes[0], 1, sizes[1], sizes[2], -1)
        div = _pad_dim2(div, size // 2, (size - 1) // 2)
        div = _window_mean(div, size, "AvgPool3DBackward0").squeeze(1)
        div = div.view(sizes)
    div = div.mul(alpha).add(k).pow(beta)
    return input / div


# ---- channel dropout -----------------------------------------------------------------------------------


def _check_p(p: float) -> None:
    if p < 0.0 or p > 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")


_ALPHA = 1.7580993408473766  # -SELU's negative saturation value (scale * alpha)


def _dropout_impl(input: Tensor, p: float, train: bool, feature: bool, alpha: bool, inplace: bool) -> Tensor:  # noqa: A002
    """ATen's _dropout_impl: noise of the input's shape (or (N, C, 1, ...) for feature dropout) drawn with
    bernoulli_(1 - p), then scaled by 1 / (1 - p), or for alpha dropout turned into the scale and shift that
    keep a SELU network's mean and variance."""
    if p == 0 or not train or input.numel() == 0:
        return input
    from engine.creation import zeros

    if p == 1:
        z = zeros((), dtype=input.dtype, device=input.device)
        return input.mul_(z) if inplace else input * z
    if feature:
        if input.dim() < 2:
            raise RuntimeError("Feature dropout requires at least 2 dimensions in the input")
        sizes = (input.shape[0], input.shape[1]) + (1,) * (input.dim() - 2)
    else:
        sizes = tuple(input.shape)
    with no_grad():
        noise = input.new_empty(sizes)
        noise.bernoulli_(1 - p)
        if alpha:
            a = 1.0 / math.sqrt((_ALPHA * _ALPHA * p + 1) * (1 - p))
            b = noise.add(-1).mul_(_ALPHA * a).add_(_ALPHA * a * p)
            noise.mul_(a)
        else:
            noise.div_(1 - p)
    out = input.mul_(noise) if inplace else input * noise
    return out.add_(b) if alpha else out


def feature_dropout(input: Tensor, p: float, train: bool) -> Tensor:  # noqa: A002
    return _dropout_impl(input, p, train, True, False, False)


def feature_dropout_(input: Tensor, p: float, train: bool) -> Tensor:  # noqa: A002
    return _dropout_impl(input, p, train, True, False, True)


def torch_alpha_dropout(input: Tensor, p: float, train: bool) -> Tensor:  # noqa: A002
    return _dropout_impl(input, p, train, False, True, False)


def alpha_dropout_(input: Tensor, p: float, train: bool) -> Tensor:  # noqa: A002
    return _dropout_impl(input, p, train, False, True, True)


def torch_feature_alpha_dropout(input: Tensor, p: float, train: bool) -> Tensor:  # noqa: A002
    return _dropout_impl(input, p, train, True, True, False)


def feature_alpha_dropout_(input: Tensor, p: float, train: bool) -> Tensor:  # noqa: A002
    return _dropout_impl(input, p, train, True, True, True)


def dropout1d(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:  # noqa: A002
    _check_p(p)
    inp_dim = input.dim()
    if inp_dim not in (2, 3):
        raise RuntimeError(
            f"dropout1d: Expected 2D or 3D input, but received a {inp_dim}D input. Note that dropout1d exists to "
            "provide channel-wise dropout on inputs with 1 spatial dimension, a channel dimension, and an optional "
            "batch dimension (i.e. 2D or 3D inputs)."
        )
    is_batched = inp_dim == 3
    if not is_batched:
        input = input.unsqueeze_(0) if inplace else input.unsqueeze(0)  # noqa: A001
    result = _dropout_impl(input, p, training, True, False, inplace)
    if not is_batched:
        result = result.squeeze_(0) if inplace else result.squeeze(0)
    return result


def _deprecated_dim_warning(name: str, inp_dim: int, spatial: int) -> None:
    warnings.warn(
        f"{name}: Received a {inp_dim}-D input to {name}, which is deprecated and will result in an error in a "
        f"future release. To retain the behavior and silence this warning, please use dropout instead. Note that "
        f"{name} exists to provide channel-wise dropout on inputs with {spatial} spatial dimensions, a channel "
        f"dimension, and an optional batch dimension (i.e. {spatial + 1}D or {spatial + 2}D inputs).",
        UserWarning,
        stacklevel=user_stacklevel(),
    )


def dropout2d(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:  # noqa: A002
    _check_p(p)
    inp_dim = input.dim()
    if inp_dim not in (3, 4):
        _deprecated_dim_warning("dropout2d", inp_dim, 2)
    if inp_dim == 3:
        warnings.warn(
            "dropout2d: Received a 3D input to dropout2d and assuming that channel-wise 1D dropout behavior is "
            "desired - input is interpreted as shape (N, C, L), where C is the channel dim. This behavior will "
            "change in a future release to interpret the input as one without a batch dimension, i.e. shape "
            "(C, H, W). To maintain the 1D channel-wise dropout behavior, please switch to using dropout1d instead.",
            UserWarning,
            stacklevel=user_stacklevel(),
        )
    return _dropout_impl(input, p, training, True, False, inplace)


def dropout3d(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:  # noqa: A002
    _check_p(p)
    inp_dim = input.dim()
    if inp_dim not in (4, 5):
        _deprecated_dim_warning("dropout3d", inp_dim, 3)
    is_batched = inp_dim == 5
    if not is_batched:
        input = input.unsqueeze_(0) if inplace else input.unsqueeze(0)  # noqa: A001
    result = _dropout_impl(input, p, training, True, False, inplace)
    if not is_batched:
        result = result.squeeze_(0) if inplace else result.squeeze(0)
    return result


def alpha_dropout(input: Tensor, p: float = 0.5, training: bool = False, inplace: bool = False) -> Tensor:  # noqa: A002
    _check_p(p)
    return _dropout_impl(input, p, training, False, True, inplace)


def feature_alpha_dropout(input: Tensor, p: float = 0.5, training: bool = False, inplace: bool = False) -> Tensor:  # noqa: A002
    _check_p(p)
    return _dropout_impl(input, p, training, True, True, inplace)


FUNCTIONS: dict[str, Callable] = {
    "batch_norm": batch_norm,
    "instance_norm": instance_norm,
    "group_norm": group_norm,
    "rms_norm": rms_norm,
    "local_response_norm": local_response_norm,
    "dropout1d": dropout1d,
    "dropout2d": dropout2d,
    "dropout3d": dropout3d,
    "alpha_dropout": alpha_dropout,
    "feature_alpha_dropout": feature_alpha_dropout,
}

# torch's top-level functions of the same family (torch.batch_norm, ...), for engine/__init__ to bind
TORCH_FUNCTIONS: dict[str, Callable] = {
    "batch_norm": torch_batch_norm,
    "instance_norm": torch_instance_norm,
    "group_norm": torch_group_norm,
    "rms_norm": rms_norm,
    "feature_dropout": feature_dropout,
    "feature_dropout_": feature_dropout_,
    "alpha_dropout": torch_alpha_dropout,
    "alpha_dropout_": alpha_dropout_,
    "feature_alpha_dropout": torch_feature_alpha_dropout,
    "feature_alpha_dropout_": feature_alpha_dropout_,
}


# ---- torch's errors for raw data passed in (engine/nn/arg_checks.py) -------------------------------------------
def _install_arg_checks() -> None:
    from engine.nn import arg_checks

    globals()["alpha_dropout"] = FUNCTIONS["alpha_dropout"] = arg_checks.parser(alpha_dropout, "alpha_dropout")


_install_arg_checks()
