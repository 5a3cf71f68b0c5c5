"""torch.optim.SGD: stochastic gradient descent with momentum, dampening, Nesterov momentum, weight decay and
maximize, as torch's single-tensor implementation computes it."""

from __future__ import annotations

from typing import Any

from engine.optim import _kernels as K
from engine.optim.optimizer import SingleTensorOptimizer, bump, check_flags, scalar
from engine.tensor import Tensor, wrap


class SGD(SingleTensorOptimizer):
    _torch_name = "torch.optim.sgd.SGD"
    _unsupported = ("foreach", "fused", "differentiable")

    def __init__(
        self,
        params: Any,
        lr: float | Tensor = 1e-3,
        momentum: float = 0,
        dampening: float = 0,
        weight_decay: float | Tensor = 0,
        nesterov: bool = False,
        *,
        maximize: bool = False,
        foreach: bool | None = None,
        differentiable: bool = False,
        fused: bool | None = None,
    ) -> None:
        if isinstance(lr, Tensor) and lr.numel() != 1:
            raise ValueError("Tensor lr must be 1-element")
        if lr < 0.0:
            raise ValueError(f"Invalid learning rate: {lr}")
        if momentum < 0.0:
            raise ValueError(f"Invalid momentum value: {momentum}")
        if weight_decay < 0.0:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        defaults = {
            "lr": lr,
            "momentum": momentum,
            "dampening": dampening,
            "weight_decay": weight_decay,
            "nesterov": nesterov,
            "maximize": maximize,
            "foreach": foreach,
            "differentiable": differentiable,
            "fused": fused,
        }
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")
        super().__init__(params, defaults)
        if fused:
            if differentiable:
                raise RuntimeError("`fused` does not support `differentiable`")
            if foreach:
                raise RuntimeError("`fused` and `foreach` cannot be `True` together.")
        check_flags("SGD", foreach=foreach, fused=fused, differentiable=differentiable)

    _group_defaults = (
        ("nesterov", False),
        ("maximize", False),
        ("foreach", None),
        ("differentiable", False),
        ("fused", False),
    )

    def _update(self, group: dict[str, Any]) -> None:
        lr = scalar(group["lr"])
        momentum = group["momentum"]
        dampening = group["dampening"]
        weight_decay = scalar(group["weight_decay"])
        nesterov = group["nesterov"]
        maximize = group["maximize"]
        state = self.state
        for p in group["params"]:
            g = p._grad
            if g is None:
                continue
            pa = p._data
            ga = g._data
            fresh = False  # whether ga is a temporary of this step (else it is p.grad's own array)
            if maximize:
                ga, fresh = K.neg(ga), True
            if weight_decay != 0:
                ga, fresh = K.add(ga, pa, weight_decay), True
            if momentum != 0:
                st = state[p]
                buf = st.get("momentum_buffer")
                if buf is None:
                    buf = wrap(ga if fresh else ga.copy(), p._dev)  # torch: grad.detach().clone()
                    st["momentum_buffer"] = buf
                else:
                    ba = buf._data
                    K.mul_(ba, momentum)
                    bump(buf)
                    K.add_(ba, ga, 1 - dampening)
                    bump(buf)
                ga = K.add(ga, buf._data, momentum) if nesterov else buf._data
            K.add_(pa, ga, -lr)
            bump(p)
