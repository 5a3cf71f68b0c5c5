"""torch.optim.Adadelta (with weight decay and maximize), as torch's single-tensor implementation computes it."""

from __future__ import annotations

from typing import Any

from engine.optim import _kernels as K
from engine.optim.optimizer import SingleTensorOptimizer, bump, check_flags, scalar, scalar_dtype, tensor_steps
from engine.tensor import Tensor


def default_device_steps(opt: Any) -> None:
    """An unpickled state's plain-number 'step' as torch.tensor(step, dtype=_get_scalar_dtype())."""
    from engine.creation import tensor

    tensor_steps(opt, lambda v: tensor(v, dtype=scalar_dtype()))


class Adadelta(SingleTensorOptimizer):
    _torch_name = "torch.optim.adadelta.Adadelta"
    _unsupported = ("foreach", "differentiable", "capturable")

    def __init__(
        self,
        params: Any,
        lr: float | Tensor = 1.0,
        rho: float = 0.9,
        eps: float = 1e-6,
        weight_decay: float = 0,
        foreach: bool | None = None,
        *,
        capturable: bool = False,
        maximize: bool = False,
        differentiable: bool = False,
    ) -> None:
        if isinstance(lr, Tensor) and lr.numel() != 1:
            raise ValueError("Tensor lr must be 1-element")
        if not 0.0 <= lr:
            raise ValueError(f"Invalid learning rate: {lr}")
        if not 0.0 <= rho <= 1.0:
            raise ValueError(f"Invalid rho value: {rho}")
        if not 0.0 <= eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        defaults = {
            "lr": lr,
            "rho": rho,
            "eps": eps,
            "weight_decay": weight_decay,
            "maximize": maximize,
            "capturable": capturable,
            "foreach": foreach,
            "differentiable": differentiable,
        }
        super().__init__(params, defaults)
        check_flags("Adadelta", foreach=foreach, differentiable=differentiable, capturable=capturable)

    _group_defaults = (("foreach", None), ("maximize", False), ("differentiable", False), ("capturable", False))

    def __setstate__(self, state: dict[str, Any]) -> None:
        super().__setstate__(state)
        default_device_steps(self)

    def _update(self, group: dict[str, Any]) -> None:
        from engine.creation import zeros, zeros_like

        lr = scalar(group["lr"])
        rho = group["rho"]
        eps = group["eps"]
        weight_decay = group["weight_decay"]
        maximize = group["maximize"]
        state = self.state
        for p in group["params"]:
            g = p._grad
            if g is None:
                continue
            st = state[p]
            if len(st) == 0:
                st["step"] = zeros((), dtype=scalar_dtype())
                st["square_avg"] = zeros_like(p)
                st["acc_delta"] = zeros_like(p)
            square_avg = st["square_avg"]
            acc_delta = st["acc_delta"]
            step_t = st["step"]

            step_t._data += 1
            bump(step_t)
            pa = p._data
            ga = K.neg(g._data) if maximize else g._data
            if weight_decay != 0:
                ga = K.add(ga, pa, weight_decay)
            sa, da = square_avg._data, acc_delta._data
            K.mul_(sa, rho)
            bump(square_avg)
            K.addcmul_(sa, ga, ga, 1 - rho)
            bump(square_avg)
            std = K.add_scalar(sa, eps)
            std = K.sqrt(std)
            delta = K.sqrt(K.add_scalar(da, eps))
            K.div_t_(delta, std)
            K.mul_t_(delta, ga)
            K.mul_(da, rho)
            bump(acc_delta)
            K.addcmul_(da, delta, delta, 1 - rho)
            bump(acc_delta)
            K.add_(pa, delta, -lr)
            bump(p)
