"""torch.nn.functional.embedding_bag and nn.EmbeddingBag: the rows an index list names, reduced per bag (sum,
mean or max) without materialising the rows of every index.

The bags are runs of a 1-d index tensor cut at offsets (or the rows of a 2-d one); padding_idx entries take no
part (a mean counts only the others; an empty bag is zeros). The checks and messages are torch's, Python's
(torch/nn/functional.py) first, then the kernel's (EmbeddingBag.cpp). The result has one node,
EmbeddingBagBackward0, over the weight and per_sample_weights: each index's row gets its bag's gradient (scaled by
its sample weight, by 1/count for a mean, by 1/frequency under scale_grad_by_freq; for max only the chosen row),
and each sample weight gets the dot product of its bag's gradient with its row. sparse=True gives the same
gradient, dense (torch's is a sparse COO one there; F.embedding(sparse=True) gives the engine's sparse gradient)."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from engine.creation import arange, empty
from engine.nn import init
from engine.nn.functional import _record
from engine.nn.functional_more import _embedding_renorm
from engine.nn.module import Module
from engine.nn.parameter import Parameter
from engine.ops import elementwise as E
from engine.ops.index import index_add_new, scatter_add_new
from engine.ops.util import index_range
from engine.tensor import Tensor, wrap
from engine.warn import user_stacklevel

_MODES = {"sum": 0, "mean": 1, "max": 2}


def _index_arrays(indices: Tensor, offsets: Tensor) -> tuple:
    """indices and offsets in their promoted common dtype (torch's promoteIndicesAndOffsets), which must be int32
    or int64 (torch checks indices, so names them, after the promotion)."""
    from engine.dtypes import FROM_NP, promote_types

    common = promote_types(indices.dtype, offsets.dtype)
    if common.np not in (np.int64, np.int32):
        raise RuntimeError(
            "Expected tensor for argument #1 'indices' to have one of the following scalar types: Long, Int; but got "
            f"torch.{FROM_NP[common.np].legacy} instead (while checking arguments for embedding_bag)"
        )
    return indices._data.astype(common.np, copy=False), offsets._data.astype(common.np, copy=False)


def _bags(weight: Tensor, indices: Tensor, offsets: Tensor, mode: str, psw: Tensor | None,
          include_last_offset: bool, padding_idx: Any) -> tuple:  # fmt: skip
    """torch's check_arguments, then (index array, its bag per position, number of bags, padding mask)."""
    idx, off = _index_arrays(indices, offsets)
    if weight._data.dtype.kind != "f":
        raise RuntimeError(
            "Expected tensor for argument #1 'weight' to have one of the following scalar types: Half, BFloat16, "
            f"Float, Double; but got {weight.type()} instead (while checking arguments for embedding_bag)"
        )
    n = weight._data.shape[0]
    if padding_idx is not None:
        if not -n <= padding_idx < n:
            raise RuntimeError(
                f"padding_idx must be within the number of embeddings, -{n} through {n - 1}, but got {padding_idx}"
            )
        padding_idx = padding_idx + n if padding_idx < 0 else padding_idx
    if off.size:
        first, last = (int(v) for v in off[[0, -1]].tolist())
        if first != 0:
            legacy = "LongTensor" if off.dtype == np.int64 else "IntTensor"
            raise RuntimeError(
                "offsets[0] has to be 0, i.e., the first sequence in the mini-batch has to start from position 0. "
                f"However, got {first}\n[ torch.{legacy}{{}} ]"
            )
        if last > idx.shape[0]:
            raise RuntimeError(
                f"offsets[-1] can not be greater than input's length {idx.shape[0]} but got offsets[-1] of {last}"
            )
    if psw is not None and psw.dtype is not weight.dtype:
        raise RuntimeError(
            f"Expected tensor for argument #1 'weight' to have the same type as tensor for argument #1 "
            f"'per_sample_weights'; but type {weight.type()} does not equal {psw.type()} (while checking arguments "
            "for embedding_bag)"
        )
    if include_last_offset and off.shape[0] < 1:
        raise RuntimeError("include_last_offset: number of offset should be at least 1")
    xp = weight._dev.xp
    if idx.size:
        lo, hi = index_range(idx)
        if lo < 0 or hi >= n:
            bad = int(xp.argmax((idx < 0) | (idx >= n)))
            raise RuntimeError(
                f"Index {bad} of input takes value {int(idx[bad])} which is not in the valid range [0, {n})"
            )
    # include_last_offset: the last offset closes no bag of its own (the last bag runs to the input's end)
    count = off.shape[0] - 1 if include_last_offset else off.shape[0]
    bag = xp.searchsorted(off[:count], xp.arange(idx.shape[0]), side="right") - 1
    live = idx != padding_idx if padding_idx is not None else xp.ones(idx.shape, dtype=bool)
    return idx.astype(np.int64), bag.astype(np.int64), count, live


def _embedding_bag(weight: Tensor, indices: Tensor, offsets: Tensor, scale_grad_by_freq: bool, mode: str,
                   psw: Tensor | None, include_last_offset: bool, padding_idx: Any) -> Tensor:  # fmt: skip
    idx, bag, count, live = _bags(weight, indices, offsets, mode, psw, include_last_offset, padding_idx)
    xp = weight._dev.xp
    w = weight._data
    n, width = w.shape
    dt = w.dtype
    sel_idx, sel_bag = idx[live], bag[live]
    rows = w[sel_idx]
    scale = None
    if psw is not None:
        rows = rows * psw._data[live][:, None]
    out = xp.zeros((count, width), dtype=dt)
    chosen = None
    if mode == "max":
        out = xp.full((count, width), -np.inf, dtype=dt)
        _reduce_at(xp, "maximum", out, sel_bag, rows)
        filled = xp.zeros(count, dtype=bool)
        filled[sel_bag] = True
        out = xp.where(filled[:, None], out, 0).astype(dt)
        # the row each (bag, column) maximum came from: the first in the bag that reaches it
        m = sel_idx.shape[0]
        pos = xp.where(rows == out[sel_bag], xp.arange(m)[:, None], m)
        first = xp.full((count, width), m, dtype=np.int64)
        _reduce_at(xp, "minimum", first, sel_bag, pos)
        rows_of = sel_idx[xp.minimum(first, m - 1)] if m else xp.zeros((count, width), dtype=np.int64)
        chosen = (xp.where(first < m, rows_of, 0), first < m)
    else:
        _reduce_at(xp, "add", out, sel_bag, rows)
        if mode == "mean":
            sizes = xp.bincount(sel_bag, minlength=count)[:count]
            scale = (1 / xp.maximum(sizes, 1)).astype(dt)
            out = (out / xp.maximum(sizes, 1)[:, None].astype(dt)).astype(dt)
    freq = _frequencies(xp, idx, n) if scale_grad_by_freq and idx.size else None

    def backward(g: Tensor, *_: Any) -> tuple:
        gw = gp = None
        if mode == "max":  # each (bag, column) gradient to the row its maximum came from
            src, take = chosen
            flat = wrap((src * width + xp.arange(width)[None, :]).reshape(-1).astype(np.int64), g._dev)
            gflat = E.where(wrap(take.reshape(-1), g._dev), g.reshape(-1), 0.0)
            gw = scatter_add_new(gflat, 0, flat, (n * width,)).reshape(n, width)
        else:
            per = g.index_select(0, wrap(sel_bag, g._dev))
            if psw is not None:
                per = per * wrap(psw._data[live][:, None], g._dev)
            if scale is not None:
                per = per * wrap(scale[sel_bag][:, None], g._dev)
            if freq is not None:
                per = per * wrap((1.0 / freq[live]).astype(dt)[:, None], g._dev)
            gw = index_add_new(per, 0, wrap(sel_idx, g._dev), (n, width))
            if psw is not None:  # each sample weight: its bag's gradient dotted with its (fixed) row
                dots = (g.index_select(0, wrap(sel_bag, g._dev)) * wrap(w[sel_idx], g._dev)).sum(1)
                gp = index_add_new(dots, 0, wrap(xp.flatnonzero(live), g._dev), (idx.shape[0],))
        return gw, gp

    result = wrap(xp.ascontiguousarray(out), weight._dev)
    return _record("EmbeddingBagBackward0", result, (weight, psw), (), backward)


def _frequencies(xp: Any, idx: Any, n: int) -> Any:
    """The divisor torch's cpu kernel applies to each position's gradient under scale_grad_by_freq. It walks the
    sorted indices group by group (one group per distinct index) and, for the k-th group, reads the count of the
    value at position k of the sorted indices, not of the group's own value; the gradients are torch's only with
    that same reading."""
    counts = xp.bincount(idx, minlength=n)
    ordered = xp.sort(idx)
    group = xp.searchsorted(xp.unique(idx), idx)
    return counts[ordered[group]]


def _reduce_at(xp: Any, op: str, target: Any, at: Any, values: Any) -> None:
    """target[at] op= values with repeated indices combining: numpy's ufunc.at, cupyx's scatter on a GPU."""
    if xp is np:
        getattr(np, op).at(target, at, values)
    else:
        import cupyx

        getattr(cupyx, f"scatter_{op.replace('imum', '')}")(target, at, values)


def embedding_bag(input: Tensor, weight: Tensor, offsets: Tensor | None = None, max_norm: float | None = None,  # noqa: A002
                  norm_type: float = 2, scale_grad_by_freq: bool = False, mode: str = "mean", sparse: bool = False,
                  per_sample_weights: Tensor | None = None, include_last_offset: bool = False,
                  padding_idx: int | None = None) -> Tensor:  # fmt: skip
    if weight._data.dtype == np.int64 and input.is_floating_point():
        warnings.warn(
            "Argument order of nn.functional.embedding_bag was changed. Usage `embedding_bag(weight, input, ...)` is "
            "deprecated, and should now be `embedding_bag(input, weight, ...)`.",
            stacklevel=user_stacklevel(),
        )
        weight, input = input, weight  # noqa: A001
    if per_sample_weights is not None and input.size() != per_sample_weights.size():
        raise ValueError(
            f"embedding_bag: If per_sample_weights ({per_sample_weights.shape}) is not None, then it must have the "
            f"same shape as the input ({input.shape})"
        )
    if weight.dim() != 2:
        raise ValueError(f"weight has to be a 2D Tensor, but got Tensor of dimension {weight.dim()}")
    if input.dim() == 2:
        if offsets is not None:
            raise ValueError(
                "if input is 2D, then offsets has to be None, as input is treated is a mini-batch of fixed length "
                "sequences. However, found offsets of type <class 'torch.Tensor'>"
            )
        offsets = arange(0, input.numel(), input.size(1), dtype=input.dtype, device=input.device)
        include_last_offset = False
        input = input.reshape(-1)  # noqa: A001
        if per_sample_weights is not None:
            per_sample_weights = per_sample_weights.reshape(-1)
    elif input.dim() == 1:
        if offsets is None:
            raise ValueError("offsets has to be a 1D Tensor but got None")
        if offsets.dim() != 1:
            raise ValueError("offsets has to be a 1D Tensor")
    else:
        raise ValueError(f"input has to be 1D or 2D Tensor, but got Tensor of dimension {input.dim()}")
    if mode not in _MODES:
        raise ValueError("mode has to be one of sum, mean or max")
    if mode == "max":
        if scale_grad_by_freq:
            raise ValueError("max mode does not support scaling the gradient by the frequency")
        if sparse:
            raise ValueError("max mode does not support sparse weights")
    if max_norm is not None:
        _embedding_renorm(weight, input, max_norm, norm_type)
    if per_sample_weights is not None and mode != "sum":
        raise NotImplementedError(
            "embedding_bag: per_sample_weights was not None. per_sample_weights is only supported for mode='sum' "
            f"(got mode='{mode}'). Please open a feature request on GitHub."
        )
    return _embedding_bag(weight, input, offsets, scale_grad_by_freq, mode, per_sample_weights, include_last_offset,
                          padding_idx)  # fmt: skip


class EmbeddingBag(Module):
    _torch_name = "torch.nn.modules.sparse.{name}"

    def __init__(self, num_embeddings: int, embedding_dim: int, max_norm: float | None = None, norm_type: float = 2.0,
                 scale_grad_by_freq: bool = False, mode: str = "mean", sparse: bool = False,
                 _weight: Tensor | None = None, include_last_offset: bool = False, padding_idx: int | None = None,
                 device: Any = None, dtype: Any = None) -> None:  # fmt: skip
        super().__init__()
        self.num_embeddings = num_embeddings
        self.embedding_dim = embedding_dim
        self.max_norm = max_norm
        self.norm_type = norm_type
        self.scale_grad_by_freq = scale_grad_by_freq
        if padding_idx is not None:
            if padding_idx > 0:
                if padding_idx >= self.num_embeddings:
                    raise AssertionError("padding_idx must be within num_embeddings")
            elif padding_idx < 0:
                if padding_idx < -self.num_embeddings:
                    raise AssertionError("padding_idx must be within num_embeddings")
                padding_idx = self.num_embeddings + padding_idx
        self.padding_idx = padding_idx
        if _weight is None:
            self.weight = Parameter(empty((num_embeddings, embedding_dim), device=device, dtype=dtype))
            self.reset_parameters()
        else:
            if list(_weight.shape) != [num_embeddings, embedding_dim]:
                raise AssertionError("Shape of weight does not match num_embeddings and embedding_dim")
            self.weight = Parameter(_weight)
        self.mode = mode
        self.sparse = sparse
        self.include_last_offset = include_last_offset

    def reset_parameters(self) -> None:
        init.normal_(self.weight)
        if self.padding_idx is not None:
            from engine.grad_mode import no_grad

            with no_grad():
                self.weight[self.padding_idx].fill_(0)

    def forward(self, input: Tensor, offsets: Tensor | None = None,  # noqa: A002
                per_sample_weights: Tensor | None = None) -> Tensor:  # fmt: skip
        return embedding_bag(input, self.weight, offsets, self.max_norm, self.norm_type, self.scale_grad_by_freq,
                             self.mode, self.sparse, per_sample_weights, self.include_last_offset,
                             self.padding_idx)  # fmt: skip

    def extra_repr(self) -> str:
        s = f"{self.num_embeddings!r}, {self.embedding_dim!r}"
        if self.max_norm is not None:
            s += f", max_norm={self.max_norm!r}"
        if self.norm_type != 2:
            s += f", norm_type={self.norm_type!r}"
        if self.scale_grad_by_freq is not False:
            s += f", scale_grad_by_freq={self.scale_grad_by_freq!r}"
        s += f", mode={self.mode!r}"
        if self.padding_idx is not None:
            s += f", padding_idx={self.padding_idx!r}"
        return s

    @classmethod
    def from_pretrained(cls, embeddings: Tensor, freeze: bool = True, max_norm: float | None = None,
                        norm_type: float = 2.0, scale_grad_by_freq: bool = False, mode: str = "mean",
                        sparse: bool = False, include_last_offset: bool = False,
                        padding_idx: int | None = None) -> EmbeddingBag:  # fmt: skip
        if embeddings.dim() != 2:
            raise AssertionError("Embeddings parameter is expected to be 2-dimensional")
        rows, cols = embeddings.shape
        bag = cls(num_embeddings=rows, embedding_dim=cols, _weight=embeddings, max_norm=max_norm,
                  norm_type=norm_type, scale_grad_by_freq=scale_grad_by_freq, mode=mode, sparse=sparse,
                  include_last_offset=include_last_offset, padding_idx=padding_idx)  # fmt: skip
        bag.weight.requires_grad = not freeze
        return bag


FUNCTIONS = {"embedding_bag": embedding_bag}
__all__ = ["EmbeddingBag"]
