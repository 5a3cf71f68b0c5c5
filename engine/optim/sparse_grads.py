"""Optimizer steps over sparse COO gradients (nn.Embedding(sparse=True), engine/sparse_tensor.py): SGD's update as
torch's (its sparse ops), and torch's error from the optimizers that refuse them. The dense loops never look:
a sparse .grad refuses the first array op on it, and SingleTensorOptimizer.step turns here then."""

from __future__ import annotations

from typing import Any

from engine.optim.optimizer import bump
from engine.tensor import Tensor, wrap

# torch's messages (each optimizer's _init_group)
REFUSED = {
    "Adam": "Adam does not support sparse gradients, please consider SparseAdam instead",
    "AdamW": "Adam does not support sparse gradients, please consider SparseAdam instead",
    "Adadelta": "Adadelta does not support sparse gradients",
    "Adafactor": "Adafactor does not support sparse gradients",
    "Adamax": "Adamax does not support sparse gradients",
    "ASGD": "ASGD does not support sparse gradients",
    "Muon": "Muon does not support sparse gradients",
    "NAdam": "NAdam does not support sparse gradients",
    "RAdam": "RAdam does not support sparse gradients",
    "RMSprop": "RMSprop does not support sparse gradients",
    "Rprop": "Rprop does not support sparse gradients",
}


def _engine_name(opt: Any) -> str:
    for cls in type(opt).__mro__:
        if cls.__module__.startswith("engine.optim"):
            return cls.__name__
    return type(opt).__name__


def sparse_update(opt: Any, group: dict, exc: BaseException) -> None:
    """The rest of a group's update, from its first parameter with a sparse gradient (the dense loop updated the
    ones before it and stopped there); exc again where no gradient is sparse."""
    params = group["params"]
    first = next((i for i, p in enumerate(params) if p._grad is not None and p._grad.is_sparse), None)
    if first is None:
        raise exc
    name = _engine_name(opt)
    if name in REFUSED:
        raise RuntimeError(REFUSED[name]) from None
    if name not in ("SGD", "Adagrad"):
        from engine.sparse_tensor import refusal

        raise refusal(f"torch.optim.{name} with sparse gradients") from None
    for k, p in enumerate(params[first:]):
        if p._grad is None:
            continue
        if not p._grad.is_sparse:
            opt._update({**group, "params": [p]})
        elif name == "SGD":
            _sgd_sparse(opt, group, p)
        else:  # (the dense loop counted the first one's step before it stopped)
            _adagrad_sparse(opt, group, p, counted=k == 0)


def add_into(p: Tensor, s: Any, alpha: Any = 1) -> None:
    """p.add_(s, alpha=alpha) of a dense tensor and a sparse one, in place (torch's add_out_dense_sparse)."""
    from engine.sparse_tensor import add

    r = add(wrap(p._data, p._dev), s, alpha)
    p._data[...] = r._data
    bump(p)


def _sgd_sparse(opt: Any, group: dict, p: Tensor) -> None:
    """torch's _single_tensor_sgd for one parameter whose gradient is sparse."""
    from engine.optim.optimizer import scalar

    grad = p._grad
    if group["maximize"]:
        grad = -grad
    wd = scalar(group["weight_decay"])
    if wd != 0:
        grad = grad.add(p, alpha=wd)  # (torch's add(sparse, dense) error)
    momentum = group["momentum"]
    if momentum != 0:
        st = opt.state[p]
        buf = st.get("momentum_buffer")
        if buf is None:
            buf = grad.detach().clone()
        else:
            buf = (buf * momentum).add(grad, alpha=1 - group["dampening"])
        st["momentum_buffer"] = buf
        grad = grad.add(buf, alpha=momentum) if group["nesterov"] else buf
    add_into(p, grad, -scalar(group["lr"]))


def _adagrad_sparse(opt: Any, group: dict, p: Tensor, counted: bool) -> None:
    """torch's _single_tensor_adagrad for one parameter whose gradient is sparse: the squared coalesced gradient
    added into the sum, the update at the gradient's rows."""
    import numpy as np

    from engine.optim.adam import lr_div
    from engine.sparse_tensor import _INVARIANTS_WARNING, _coalesced_arrays, _make
    from engine.warn import warn_once

    st = opt.state[p]
    if len(st) == 0:
        from engine.optim.adagrad import _init_state

        st.update(_init_state(p, opt.defaults["initial_accumulator_value"]))
    step_t = st["step"]
    if not counted:
        step_t._data += 1
        bump(step_t)
    step = step_t._data.item()
    grad = -p._grad if group["maximize"] else p._grad
    if group["weight_decay"] != 0:
        raise RuntimeError("weight_decay option is not compatible with sparse gradients")
    clr = lr_div(group["lr"], 1 + (step - 1) * group["lr_decay"])
    ind, gv = (grad._ind, grad._vals._data) if grad._coal else _coalesced_arrays(grad._ind, grad._vals._data,
                                                                                 grad._ssize)  # fmt: skip
    warn_once(_INVARIANTS_WARNING)  # (torch builds its sparse updates with torch.sparse_coo_tensor)
    at = tuple(ind)
    sa = st["sum"]._data
    sa[at] += gv * gv
    bump(st["sum"])
    std = np.sqrt(sa[at]) + sa.dtype.type(group["eps"])
    add_into(p, _make(ind, wrap(gv / std, p._dev), grad._ssize, True), -clr)
