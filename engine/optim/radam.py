"""torch.optim.RAdam (Adam with the variance rectification, optionally decoupled weight decay), as torch's
single-tensor implementation computes it."""

from __future__ import annotations

from typing import Any

from engine.optim import _kernels as K
from engine.optim.adadelta import default_device_steps
from engine.optim.adam import _decay_factor
from engine.optim.optimizer import SingleTensorOptimizer, bump, check_flags, scalar, scalar_dtype
from engine.tensor import Tensor


class RAdam(SingleTensorOptimizer):
    _torch_name = "torch.optim.radam.RAdam"
    _unsupported = ("foreach", "differentiable", "capturable")

    def __init__(
        self,
        params: Any,
        lr: float | Tensor = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0,
        decoupled_weight_decay: bool = False,
        *,
        foreach: bool | None = None,
        maximize: bool = False,
        capturable: bool = False,
        differentiable: bool = False,
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
            "maximize": maximize,
            "foreach": foreach,
            "capturable": capturable,
            "decoupled_weight_decay": decoupled_weight_decay,
            "differentiable": differentiable,
        }
        super().__init__(params, defaults)
        check_flags("RAdam", foreach=foreach, differentiable=differentiable, capturable=capturable)

    _group_defaults = (
        ("foreach", None),
        ("maximize", False),
        ("differentiable", False),
        ("decoupled_weight_decay", False),
        ("capturable", False),
    )

    def __setstate__(self, state: dict[str, Any]) -> None:
        super().__setstate__(state)
        default_device_steps(self)

    def _update(self, group: dict[str, Any]) -> None:
        from engine.creation import tensor, zeros_like

        beta1, beta2 = group["betas"]
        lr = group["lr"]
        eps = group["eps"]
        weight_decay = group["weight_decay"]
        decoupled = group["decoupled_weight_decay"]
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
                st["exp_avg_sq"] = zeros_like(p)
            exp_avg = st["exp_avg"]
            exp_avg_sq = st["exp_avg_sq"]
            step_t = st["step"]

            ga = K.neg(g._data) if maximize else g._data
            step_t._data += 1
            bump(step_t)
            step = step_t._data.item()
            pa = p._data
            if weight_decay != 0:
                if decoupled:
                    K.mul_(pa, _decay_factor(lr, weight_decay))
                    bump(p)
                else:
                    ga = K.add(ga, pa, weight_decay)
            ma, va = exp_avg._data, exp_avg_sq._data
            K.lerp_(ma, ga, 1 - beta1)
            bump(exp_avg)
            K.mul_(va, beta2)
            bump(exp_avg_sq)
            K.addcmul_(va, ga, ga, 1 - beta2)
            bump(exp_avg_sq)

            bias_correction1 = 1 - beta1**step
            bias_correction2 = 1 - beta2**step
            bias_corrected_exp_avg = K.div(ma, bias_correction1)
            rho_inf = 2 / (1 - beta2) - 1
            rho_t = rho_inf - 2 * step * (beta2**step) / bias_correction2
            update = K.mul(bias_corrected_exp_avg, scalar(lr))
            if rho_t > 5.0:
                exp_avg_sq_sqrt = K.sqrt(va)
                K.add_scalar_(exp_avg_sq_sqrt, eps)
                K.mul_t_(update, K.rdiv(bias_correction2**0.5, exp_avg_sq_sqrt))
                rect = ((rho_t - 4) * (rho_t - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho_t)) ** 0.5
                K.mul_(update, rect)
            K.add_(pa, update, -1.0)
            bump(p)
