"""The multi-class margin losses of torch.nn.functional: multi_margin_loss, multilabel_margin_loss (single ATen cpu
kernels: one node each, MultiMarginLossBackward0 and MultilabelMarginLossBackward0, whose own backward torch does
not differentiate) and multilabel_soft_margin_loss (composed in Python by torch, and so here).

The kernels' arithmetic is followed: each sample's loss in the input's dtype, the batch sum accumulated in double
(at::acc_type on the cpu) and divided before the one rounding to the dtype."""

from __future__ import annotations

from typing import Any

import numpy as np

from engine.amp.policy import policy as autocast_policy
from engine.nn.functional import _record
from engine.nn.functional_more import (
    _apply_reduction,
    _legacy_reduction,
    _not_implemented,
    _reduction,
    _shape_text,
    logsigmoid,
)
from engine.ops.util import NotImplementedNode, index_range, record
from engine.tensor import Tensor, wrap


def _frames(input: Tensor, target: Tensor, fn: str) -> tuple:  # noqa: A002
    """(nframe, dim) of a vector or matrix input, after torch's shape check."""
    shape = input._data.shape
    nd = len(shape)
    if not ((nd == 2 and shape[1] != 0) or (nd == 1 and shape[0] != 0) or nd == 0):
        raise RuntimeError(
            f"Expected non-empty vector or matrix with optional 0-dim batch size, but got: {_shape_text(shape)}"
        )
    return (1, 1 if nd == 0 else shape[0]) if nd <= 1 else shape


def _long_target(target: Tensor) -> None:
    if target._data.dtype != np.int64:
        raise RuntimeError(f"expected scalar type Long but found {target.dtype.scalar_name()}")


def _no_double_backward(r: Any, g: Tensor, x: Tensor, op: str) -> Tensor:
    """A gradient torch computes with a kernel it has no derivative for: under create_graph its node is
    NotImplemented, raising when differentiated."""
    return record(NotImplementedNode, r, x._dev, (g, x), (f"aten::{op}",), (None,))


def _scale_by(g: Tensor, per_frame: Any, reduction: str, nframe: int) -> Any:
    """The kernel's last step: its unit gradient times grad_output (one value, or one per frame)."""
    gd = g._data
    if reduction == "none" and gd.ndim:
        return per_frame * gd.reshape((nframe, 1))
    return per_frame * gd.reshape(())


# ---- multi_margin_loss --------------------------------------------------------------------------------------------
@autocast_policy(cpu="fp32", cuda="fp32")
def multi_margin_loss(input: Tensor, target: Tensor, p: int = 1, margin: float = 1.0, weight: Tensor | None = None,  # noqa: A002
                      size_average: Any = None, reduce: Any = None, reduction: str = "mean") -> Tensor:  # fmt: skip
    """sum over classes i != y of max(0, margin - x[y] + x[i])^p (times weight[y]), over the number of classes."""
    red = _reduction(size_average, reduce, reduction)
    if p not in (1, 2):
        raise ValueError("only p == 1 and p == 2 supported")
    if weight is not None and weight.dim() != 1:
        raise ValueError("weight must be one-dimensional")
    nframe, dim = _frames(input, target, "multi_margin_loss")
    if not (target._data.ndim <= 1 and target._data.size == nframe):
        raise RuntimeError(
            "multi_margin_loss: target tensor should be 1-D with size equal to the number of input samples (batch "
            f"size). Expected target size [{nframe}], but got {_shape_text(target._data.shape)}. Input has shape "
            f"{_shape_text(input._data.shape)}."
        )
    if weight is not None and not (weight._data.ndim <= 1 and weight._data.size == dim):
        raise RuntimeError(f"inconsistent weight size, expected {dim} but got {_shape_text(weight._data.shape)}")
    _long_target(target)
    if weight is not None and weight.dtype is not input.dtype:
        raise RuntimeError(f"expected scalar type {input.dtype.scalar_name()} but found {weight.dtype.scalar_name()}")
    if input._data.dtype not in (np.float32, np.float64):
        raise _not_implemented("multi_margin_loss_cpu_kernel", input)
    xp = input._dev.xp
    dt = input._data.dtype
    x = input._data.reshape((nframe, dim))
    y = target._data.reshape(nframe)
    if nframe:
        lo, hi = index_range(y)
        if lo < 0 or hi >= dim:
            raise RuntimeError("target out of range")
    rows = xp.arange(nframe)
    z = (dt.type(margin) - x[rows, y][:, None] + x).astype(dt)
    on = (z > 0) & (xp.arange(dim)[None, :] != y[:, None])  # (the target's own class never counts)
    h = xp.where(on, z if p == 1 else z * z, 0).astype(dt)
    if weight is not None:
        h = h * weight._data[y][:, None]
    per = h.sum(1) / dt.type(dim)
    if red == "none" and input._data.ndim:
        out = per.astype(dt)
    else:
        total = per.astype(np.float64).sum()
        out = (total / nframe if red == "mean" else total).astype(dt)

    def backward(g: Tensor, x_: Tensor, y_: Tensor, w: Any) -> tuple:  # torch's multi_margin_loss_backward kernel
        unit = dt.type(1.0 / (nframe * dim) if red == "mean" else 1.0 / dim)
        gi = xp.where(on, unit if p == 1 else 2 * unit * z, 0).astype(dt)
        if w is not None:
            gi = gi * w._data[y][:, None]
        gi[rows, y] = dt.type(0) - gi.sum(1)  # the kernel's 0 - h1 - h2 ...: +0.0 where no class counts
        gi = _scale_by(g, gi, red, nframe).reshape(input._data.shape).astype(dt)
        return (_no_double_backward(gi, g, x_, "multi_margin_loss_backward"),)

    return _record("MultiMarginLossBackward0", wrap(xp.asarray(out), input._dev), (input,), (input, target, weight),
                   backward)  # fmt: skip


# ---- multilabel_margin_loss ------------------------------------------------------------------------------------
@autocast_policy(cpu="fp32", cuda="fp32")
def multilabel_margin_loss(input: Tensor, target: Tensor, size_average: Any = None, reduce: Any = None,  # noqa: A002
                           reduction: str = "mean") -> Tensor:  # fmt: skip
    """For each sample: the hinge 1 - x[j] + x[i] over its labels j (target's entries up to the first -1) and the
    classes i that are not labels, summed, over the number of classes."""
    red = _reduction(size_average, reduce, reduction)
    nframe, dim = _frames(input, target, "multilabel_margin_loss")
    shape, tshape = input._data.shape, target._data.shape
    ok = (len(tshape) <= 1 and target._data.size == dim) if len(shape) <= 1 else tshape == (nframe, dim)
    if not ok:
        raise RuntimeError(f"inconsistent target size: {_shape_text(tshape)} for input of size: {_shape_text(shape)}")
    _long_target(target)
    if input._data.dtype not in (np.float32, np.float64):
        raise _not_implemented("multilabel_margin_loss_forward_out_frame", input)
    xp = input._dev.xp
    dt = input._data.dtype
    x = input._data.reshape((nframe, dim))
    labels = target._data.reshape((nframe, dim))
    if labels.size:
        lo, hi = index_range(labels)
        if lo < -1 or hi >= dim:
            raise RuntimeError("argument #2 'target' is out of range")
    # the labels are a row's entries before its first -1; each marks its class as a target
    valid = xp.cumprod(labels >= 0, axis=1).astype(bool)
    idx = xp.where(valid, labels, 0)
    rows = xp.arange(nframe)[:, None]
    is_target = xp.zeros((nframe, dim), dtype=bool)
    is_target[xp.broadcast_to(rows, idx.shape)[valid], idx[valid]] = True
    z = (1 - x[rows, idx][:, :, None] + x[:, None, :]).astype(dt)  # (frame, label slot, class)
    on = valid[:, :, None] & ~is_target[:, None, :] & (z > 0)
    per = xp.where(on, z, 0).astype(np.float64).sum((1, 2)).astype(dt)  # (a double accumulator, one rounding)
    if red == "none":  # (a vector input's one loss is a scalar)
        out = (per / dt.type(dim)).astype(dt).reshape(() if input._data.ndim <= 1 else (nframe,))
    else:
        total = per.astype(np.float64).sum() / dim
        out = (total / nframe if red == "mean" and nframe else total).astype(dt)

    def backward(g: Tensor, x_: Tensor) -> tuple:  # torch's multilabel_margin_loss_backward kernel
        unit = dt.type(1.0 / (nframe * dim) if red == "mean" else 1.0 / dim)
        gi = on.sum(1).astype(dt) * unit  # + unit per (label, class) pair, at the class
        minus = on.sum(2).astype(dt) * unit  # - unit per pair, at the label's class
        for slot in range(dim):  # (labels may repeat: accumulate one slot at a time)
            gi[xp.arange(nframe), idx[:, slot]] -= minus[:, slot]
        gi = _scale_by(g, gi, red, nframe).reshape(input._data.shape).astype(dt)
        return (_no_double_backward(gi, g, x_, "multilabel_margin_loss_backward"),)

    return _record("MultilabelMarginLossBackward0", wrap(xp.asarray(out), input._dev), (input,), (input,), backward)


# ---- multilabel_soft_margin_loss ----------------------------------------------------------------------------------
def multilabel_soft_margin_loss(input: Tensor, target: Tensor, weight: Tensor | None = None,  # noqa: A002
                                size_average: Any = None, reduce: Any = None,
                                reduction: str = "mean") -> Tensor:  # fmt: skip
    """The mean over classes of the binary logistic loss, torch's composition (its reduction names are its own:
    'elementwise_mean' is not among them)."""
    if size_average is not None or reduce is not None:
        reduction = _legacy_reduction(size_average, reduce)
    loss = -(target * logsigmoid(input) + (1 - target) * logsigmoid(-input))
    if weight is not None:
        loss = loss * weight
    class_dim = input.dim() - 1
    loss = loss.sum(dim=class_dim) / input.size(class_dim)
    if reduction not in ("none", "mean", "sum"):
        raise ValueError(reduction + " is not valid")
    return _apply_reduction(loss, reduction)


FUNCTIONS = {
    "multi_margin_loss": multi_margin_loss,
    "multilabel_margin_loss": multilabel_margin_loss,
    "multilabel_soft_margin_loss": multilabel_soft_margin_loss,
}
