"""torch.nn.functional.ctc_loss and torch.ctc_loss: the connectionist temporal classification loss, as ATen's
ctc_loss composes it (aten/src/ATen/native/LossCTC.cpp). An unbatched (T, C) input is unsqueezed to (T, 1, C);
the per-sample negative log likelihood is one node, CtcLossBackward0 (the recursions are in ctc_alpha_beta.py),
whose own backward torch does not differentiate; zero_infinity, the reduction (mean: each loss over its target
length clamped at 1, then the batch mean) and the unbatched squeeze are ordinary ops after it, so the graph
and the roundings are torch's. The lengths are tensors or sequences of ints (torch's two overloads, with its
argument parser's error when neither fits); errors come in torch's order with its texts."""

from __future__ import annotations

from typing import Any

import numpy as np

from engine.amp.policy import policy as autocast_policy
from engine.backend import host
from engine.dtypes import int64
from engine.nn.ctc_alpha_beta import Alignment, alpha, grad
from engine.nn.functional import _record
from engine.nn.functional_margin import _no_double_backward
from engine.nn.functional_more import _not_implemented, _reduction_enum
from engine.ops import elementwise as E
from engine.ops.util import _int_like, index_range, invalid_combination
from engine.tensor import Tensor, wrap

_CHECKED = " (while checking arguments for ctc_loss_allocate_outputs)"
_REDUCTIONS = {"none": 0, "mean": 1, "sum": 2}  # (torch's Reduction enum)
_OVERLOADS = tuple(
    f"(Tensor log_probs, Tensor targets, {kind} input_lengths, {kind} target_lengths, int blank = 0, "
    "int reduction = at::Reduction::Mean, bool zero_infinity = False)"
    for kind in ("tuple of ints", "Tensor")
)


@autocast_policy(cpu="fp32")
def ctc_loss(log_probs: Tensor, targets: Tensor, input_lengths: Any, target_lengths: Any, blank: int = 0,
             reduction: str = "mean", zero_infinity: bool = False) -> Tensor:  # fmt: skip
    """F.ctc_loss: the reduction's name checked (torch's _Reduction.get_enum), then torch.ctc_loss."""
    red = _REDUCTIONS[_reduction_enum(reduction)]
    return torch_ctc_loss(log_probs, targets, input_lengths, target_lengths, blank, red, zero_infinity)


def _is_int_list(v: Any) -> bool:
    return isinstance(v, (tuple, list)) and all(_int_like(x, True) for x in v)


_ARG_TESTS = {
    "Tensor": lambda v: isinstance(v, Tensor),
    "tuple of ints": _is_int_list,
    "int": lambda v: _int_like(v, True),
    "bool": lambda v: isinstance(v, (bool, np.bool_)),
}
_KINDS = (
    ("Tensor", "Tensor", "tuple of ints", "tuple of ints", "int", "int", "bool"),
    ("Tensor", "Tensor", "Tensor", "Tensor", "int", "int", "bool"),
)


def _overload(args: tuple) -> int:
    """Which of torch.ctc_loss's signatures takes the arguments, else its parser's error."""
    misses = []
    for i, kinds in enumerate(_KINDS):
        first = next((k for k, (kind, v) in enumerate(zip(kinds, args)) if not _ARG_TESTS[kind](v)), None)
        if first is None:
            return i
        misses.append(first)
    raise invalid_combination("ctc_loss", args, _OVERLOADS, True, marks_from=tuple(misses))


def _lengths(v: Any, name: str, as_tensor: bool) -> list:
    if not as_tensor:
        return [int(x) for x in v]
    if v._data.dtype.kind not in "iu":
        raise RuntimeError(f"{name} must be integral")
    return host(v._data).astype(np.int64).reshape(-1).tolist()


def torch_ctc_loss(log_probs: Tensor, targets: Tensor, input_lengths: Any, target_lengths: Any, blank: int = 0,
                   reduction: int = 1, zero_infinity: bool = False) -> Tensor:  # fmt: skip
    """torch.ctc_loss (reduction as torch's enum: 0 none, 1 mean, 2 sum, any other none)."""
    tensors = _overload((log_probs, targets, input_lengths, target_lengths, blank, reduction, zero_infinity)) == 1
    il = _lengths(input_lengths, "input_lengths", tensors)
    tl = _lengths(target_lengths, "target_lengths", tensors)
    batched = log_probs.dim() == 3
    lp = log_probs if batched else log_probs.unsqueeze(1)
    res = _ctc_nll(lp, targets.to(device=lp.device, dtype=int64), il, tl, int(blank), bool(zero_infinity))
    if zero_infinity:
        res = E.where(res == np.inf, wrap(lp._dev.xp.zeros((), dtype=res._data.dtype), lp._dev), res)
    if reduction == 1:
        clamped = np.maximum(np.asarray(tl, dtype=np.int64), 1).astype(res._data.dtype)
        return (res / wrap(lp._dev.xp.asarray(clamped), lp._dev)).mean()
    if reduction == 2:
        return res.sum()
    return res if batched else res.squeeze(0)


def _check_shapes(lp: Tensor, targets: Tensor, il: list, tl: list, blank: int) -> None:
    """ctc_loss_cpu's checks, in its order (ctc_loss_allocate_outputs)."""
    if lp._data.dtype not in (np.float32, np.float64):
        raise _not_implemented("ctc_loss_cpu", lp)
    if lp._data.size == 0:
        raise RuntimeError("log_probs tensor must not be empty")
    if lp._data.ndim != 3:
        raise RuntimeError(
            f"Expected 3-dimensional tensor, but got {lp._data.ndim}-dimensional tensor for argument #1 'log_probs'"
            + _CHECKED
        )
    tshape = targets._data.shape
    if not 1 <= len(tshape) <= 2:
        raise RuntimeError(
            f"Expected 1 to 2 dimensions, but got {len(tshape)}-dimensional tensor for argument #2 'targets'" + _CHECKED
        )
    t_max, n, c = lp._data.shape
    if not 0 <= blank < c:
        raise RuntimeError("blank must be in label range")
    for name, lengths in (("input_lengths", il), ("target_lengths", tl)):
        if len(lengths) != n:
            raise RuntimeError(f"{name} must be of size batch_size")
    for v in tl:
        if v < 0:
            raise RuntimeError(f"Expected target_lengths to have value at least 0, but got value {v}{_CHECKED}")
    want = sum(tl) if len(tshape) == 1 else n
    if tshape[0] != want:
        raise RuntimeError(
            f"Expected tensor to have size {want} at dimension 0, but got size {tshape[0]} for argument #2 'targets'"
            + _CHECKED
        )
    if len(tshape) == 2 and tshape[1] < max(tl):
        raise RuntimeError(
            f"Expected tensor to have size at least {max(tl)} at dimension 1, but got size {tshape[1]} for argument "
            f"#2 'targets'{_CHECKED}"
        )
    for v in il:
        if v < 0:
            raise RuntimeError(f"Expected input_lengths to have value at least 0, but got value {v}{_CHECKED}")
        if v > t_max:
            raise RuntimeError(f"Expected input_lengths to have value at most {t_max}, but got value {v}{_CHECKED}")


def _labels(xp: Any, targets: Tensor, tl: list, classes: int) -> Any:
    """The labels as (N, max target length), each row's tail past its length 0: rows of a padded (N, S)
    target, or the consecutive runs of a concatenated one."""
    n, width = len(tl), max(tl, default=0)
    flat = targets._data.reshape(-1)
    if not width:
        return xp.zeros((n, 0), dtype=np.int64)
    k = np.arange(width)[None, :]
    lengths = np.asarray(tl, dtype=np.int64)[:, None]
    starts = (np.cumsum(lengths) - lengths[:, 0])[:, None] if targets._data.ndim == 1 else np.arange(n)[:, None]
    if targets._data.ndim == 2:
        starts = starts * targets._data.shape[1]
    inside = k < lengths
    labels = xp.where(xp.asarray(inside), flat[xp.asarray(np.where(inside, starts + k, 0))], 0)
    if labels.size:
        lo, hi = index_range(labels)
        # (torch reads whatever memory an out-of-range label addresses: refused here rather than guessed at)
        if lo < 0 or hi >= classes:
            raise IndexError(f"ctc_loss: target label {lo if lo < 0 else hi} is out of range for {classes} classes")
    return labels


def _ctc_nll(lp: Tensor, targets: Tensor, il: list, tl: list, blank: int, zero_infinity: bool) -> Tensor:
    """aten::_ctc_loss's first output, each sample's negative log likelihood, as one CtcLossBackward0 node."""
    _check_shapes(lp, targets, il, tl, blank)
    xp = lp._dev.xp
    align = Alignment(xp, _labels(xp, targets, tl, lp._data.shape[2]), il, tl, blank)
    nll, la, lpp = alpha(align, lp._data)

    def backward(g: Tensor, lp_: Tensor, targets_: Tensor) -> tuple:
        gi = grad(align, lp_._data, nll, la, lpp, g._data, zero_infinity)
        return (_no_double_backward(gi, g, lp_, "_ctc_loss_backward"),)

    return _record("CtcLossBackward0", wrap(nll, lp._dev), (lp,), (lp, targets), backward)


FUNCTIONS = {"ctc_loss": ctc_loss}
