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
    if name != "SGD":
        from engine.sparse_tensor import refusal

        raise refusal(f"torch.optim.{name} with sparse gradients") from None
    for p in params[first:]:
        if p._grad is None:
            continue
        if p._grad.is_sparse:
            _sgd_sparse(opt, group, p)
        else:
            opt._update({**group, "params": [p]})


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
