"""torch.optim.RMSprop (with momentum, centering, weight decay and maximize), as torch's single-tensor
implementation computes it."""

from __future__ import annotations

from typing import Any

from engine.optim import _kernels as K
from engine.optim.optimizer import SingleTensorOptimizer, bump, check_flags, scalar, scalar_dtype, tensor_steps
from engine.tensor import Tensor


class RMSprop(SingleTensorOptimizer):
    _torch_name = "torch.optim.rmsprop.RMSprop"
    _unsupported = ("foreach", "differentiable", "capturable")

    def __init__(
        self,
        params: Any,
        lr: float | Tensor = 1e-2,
        alpha: float = 0.99,
        eps: float = 1e-8,
        weight_decay: float = 0,
        momentum: float = 0,
        centered: bool = False,
        capturable: bool = False,
        foreach: bool | None = None,
        maximize: bool = False,
        differentiable: bool = False,
    ) -> None:
        if isinstance(lr, Tensor) and lr.numel() != 1:
            raise ValueError("Tensor lr must be 1-element")
        if not 0.0 <= lr:
            raise ValueError(f"Invalid learning rate: {lr}")
        if not 0.0 <= eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        if not 0.0 <= momentum:
            raise ValueError(f"Invalid momentum value: {momentum}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        if not 0.0 <= alpha:
            raise ValueError(f"Invalid alpha value: {alpha}")
        defaults = {
            "lr": lr,
            "momentum": momentum,
            "alpha": alpha,
            "eps": eps,
            "centered": centered,
            "weight_decay": weight_decay,
            "capturable": capturable,
            "foreach": foreach,
            "maximize": maximize,
            "differentiable": differentiable,
        }
        super().__init__(params, defaults)
        check_flags("RMSprop", foreach=foreach, differentiable=differentiable, capturable=capturable)

    _group_defaults = (
        ("momentum", 0),
        ("centered", False),
        ("foreach", None),
        ("maximize", False),
        ("differentiable", False),
        ("capturable", False),
    )

    def __setstate__(self, state: dict[str, Any]) -> None:
        super().__setstate__(state)
        from engine.creation import tensor

        tensor_steps(self, lambda v: tensor(v, dtype=scalar_dtype()))

    def _update(self, group: dict[str, Any]) -> None:
        from engine.creation import zeros, zeros_like

        lr = scalar(group["lr"])
        alpha = group["alpha"]
        eps = group["eps"]
        weight_decay = group["weight_decay"]
        momentum = group["momentum"]
        centered = group["centered"]
        maximize = group["maximize"]
        state = self.state
        for p in group["params"]:
            g = p._grad
            if g is None:
                continue
            st = state[p]
            if len(st) == 0:
                # (on the default device: torch.zeros((), dtype=...) names none)
                st["step"] = zeros((), dtype=scalar_dtype())
                st["square_avg"] = zeros_like(p)
                if momentum > 0:
                    st["momentum_buffer"] = zeros_like(p)
                if centered:
                    st["grad_avg"] = zeros_like(p)
            square_avg = st["square_avg"]
            buf = st["momentum_buffer"] if momentum > 0 else None
            grad_avg = st["grad_avg"] if centered else None
            step_t = st["step"]

            ga = K.neg(g._data) if maximize else g._data
            step_t._data += 1
            bump(step_t)
            pa = p._data
            if weight_decay != 0:
                ga = K.add(ga, pa, weight_decay)
            sa = square_avg._data
            K.mul_(sa, alpha)
            bump(square_avg)
            K.addcmul_(sa, ga, ga, 1 - alpha)
            bump(square_avg)
            if grad_avg is not None:
                gv = grad_avg._data
                K.lerp_(gv, ga, 1 - alpha)
                bump(grad_avg)
                avg = K.addcmul(sa, gv, gv, -1)
                avg = K.sqrt(avg)
            else:
                avg = K.sqrt(sa)
            K.add_scalar_(avg, eps)
            if buf is not None:
                ba = buf._data
                K.mul_(ba, momentum)
                bump(buf)
                K.addcdiv_(ba, ga, avg, 1)
                bump(buf)
                K.add_(pa, ba, -lr)
            else:
                K.addcdiv_(pa, ga, avg, -lr)
            bump(p)
