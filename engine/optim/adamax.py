"""torch.optim.Adamax (Adam with the infinity norm), as torch's single-tensor implementation computes it."""

from __future__ import annotations

from typing import Any

from engine.optim import _kernels as K
from engine.optim.adadelta import default_device_steps
from engine.optim.adam import lr_div
from engine.optim.optimizer import SingleTensorOptimizer, bump, check_flags, scalar_dtype
from engine.tensor import Tensor


class Adamax(SingleTensorOptimizer):
    _torch_name = "torch.optim.adamax.Adamax"
    _unsupported = ("foreach", "differentiable", "capturable")

    def __init__(
        self,
        params: Any,
        lr: float | Tensor = 2e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0,
        foreach: bool | None = None,
        *,
        maximize: bool = False,
        differentiable: bool = False,
        capturable: bool = False,
    ) -> None:
        if isinstance(lr, Tensor) and lr.numel() != 1:
            raise ValueError("Tensor lr must be 1-element")
        if not 0.0 <= lr:
            raise ValueError(f"Invalid learning rate: {lr}")
        if not 0.0 <= eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        if not 0.0 <= betas[0] < 1.0:
            raise ValueError(f"Invalid beta parameter at index 0: {betas[0]}")
        if not 0.0 <= betas[1] < 1.0:
            raise ValueError(f"Invalid beta parameter at index 1: {betas[1]}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        defaults = {
            "lr": lr,
            "betas": betas,
            "eps": eps,
            "weight_decay": weight_decay,
            "foreach": foreach,
            "maximize": maximize,
            "differentiable": differentiable,
            "capturable": capturable,
        }
        super().__init__(params, defaults)
        check_flags("Adamax", foreach=foreach, differentiable=differentiable, capturable=capturable)

    _group_defaults = (("foreach", None), ("maximize", False), ("differentiable", False), ("capturable", False))

    def __setstate__(self, state: dict[str, Any]) -> None:
        super().__setstate__(state)
        default_device_steps(self)

    def _update(self, group: dict[str, Any]) -> None:
        from engine.creation import tensor, zeros_like

        beta1, beta2 = group["betas"]
        lr = group["lr"]
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
                st["step"] = tensor(0.0, dtype=scalar_dtype())
                st["exp_avg"] = zeros_like(p)
                st["exp_inf"] = zeros_like(p)
            exp_avg = st["exp_avg"]
            exp_inf = st["exp_inf"]
            step_t = st["step"]

            ga = K.neg(g._data) if maximize else g._data
            step_t._data += 1
            bump(step_t)
            pa = p._data
            if weight_decay != 0:
                ga = K.add(ga, pa, weight_decay)
            ma, ia = exp_avg._data, exp_inf._data
            K.lerp_(ma, ga, 1 - beta1)
            bump(exp_avg)
            K.mul_(ia, beta2)
            bump(exp_inf)
            norm = K.abs_(ga)
            K.add_scalar_(norm, eps)
            K.maximum_(ia, norm)
            bump(exp_inf)
            bias_correction = 1 - beta1 ** step_t._data.item()
            clr = lr_div(lr, bias_correction)
            K.addcdiv_(pa, ma, ia, -clr)
            bump(p)
