"""torch.optim.NAdam (Adam with Nesterov momentum, its momentum decay and optionally decoupled weight decay), as
torch's single-tensor implementation computes it. state['mu_product'] is the 0-dim product of the momentum
coefficients so far, a tensor of the step's dtype as torch keeps it."""

from __future__ import annotations

from typing import Any

from engine.optim import _kernels as K
from engine.optim.adam import _decay_factor
from engine.optim.optimizer import SingleTensorOptimizer, bump, check_flags, scalar_dtype
from engine.tensor import Tensor


def lr_num(lr: Any) -> Any:
    """lr as the number torch's Python arithmetic on it sees: a float, or for a Tensor lr a numpy scalar of its
    dtype (numpy's scalars, like a 0-dim tensor with Python numbers, compute in their own dtype)."""
    if isinstance(lr, Tensor):
        return lr._data.dtype.type(lr.item())
    return lr


class NAdam(SingleTensorOptimizer):
    _torch_name = "torch.optim.nadam.NAdam"
    _unsupported = ("foreach", "differentiable", "capturable")

    def __init__(
        self,
        params: Any,
        lr: float | Tensor = 2e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0,
        momentum_decay: float = 4e-3,
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
        if not 0.0 <= momentum_decay:
            raise ValueError(f"Invalid momentum_decay value: {momentum_decay}")
        defaults = {
            "lr": lr,
            "betas": betas,
            "eps": eps,
            "weight_decay": weight_decay,
            "momentum_decay": momentum_decay,
            "decoupled_weight_decay": decoupled_weight_decay,
            "maximize": maximize,
            "foreach": foreach,
            "capturable": capturable,
            "differentiable": differentiable,
        }
        super().__init__(params, defaults)
        check_flags("NAdam", foreach=foreach, differentiable=differentiable, capturable=capturable)

    _group_defaults = (
        ("maximize", False),
        ("foreach", None),
        ("capturable", False),
        ("differentiable", False),
        ("decoupled_weight_decay", False),
    )

    def __setstate__(self, state: dict[str, Any]) -> None:
        super().__setstate__(state)
        from engine.creation import tensor

        for group in self.param_groups:
            for p in group["params"]:
                p_state = self.state.get(p, [])
                if len(p_state) != 0:
                    if not isinstance(p_state["step"], Tensor):
                        p_state["step"] = tensor(float(p_state["step"]), dtype=scalar_dtype())
                    if not isinstance(p_state["mu_product"], Tensor):
                        p_state["mu_product"] = tensor(p_state["mu_product"], dtype=scalar_dtype())

    def _update(self, group: dict[str, Any]) -> None:
        from engine.creation import tensor, zeros_like

        beta1, beta2 = group["betas"]
        lr = group["lr"]
        lrn = lr_num(lr)
        eps = group["eps"]
        weight_decay = group["weight_decay"]
        momentum_decay = group["momentum_decay"]
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
                st["mu_product"] = tensor(1.0, dtype=scalar_dtype())
                st["exp_avg"] = zeros_like(p)
                st["exp_avg_sq"] = zeros_like(p)
            exp_avg = st["exp_avg"]
            exp_avg_sq = st["exp_avg_sq"]
            mu_product = st["mu_product"]
            step_t = st["step"]

            ga = K.neg(g._data) if maximize else g._data
            step_t._data += 1
            bump(step_t)
            step = step_t._data.item()
            bias_correction2 = 1 - beta2**step
            pa = p._data
            if weight_decay != 0:
                if decoupled:
                    K.mul_(pa, _decay_factor(lr, weight_decay))
                    bump(p)
                else:
                    ga = K.add(ga, pa, weight_decay)
            mu = beta1 * (1.0 - 0.5 * (0.96 ** (step * momentum_decay)))
            mu_next = beta1 * (1.0 - 0.5 * (0.96 ** ((step + 1) * momentum_decay)))
            K.mul_(mu_product._data, mu)
            bump(mu_product)
            ma, va = exp_avg._data, exp_avg_sq._data
            K.lerp_(ma, ga, 1 - beta1)
            bump(exp_avg)
            K.mul_(va, beta2)
            bump(exp_avg_sq)
            K.addcmul_(va, ga, ga, 1 - beta2)
            bump(exp_avg_sq)
            denom = K.sqrt(K.div(va, bias_correction2))
            mp = mu_product._data.item()
            mu_product_next = mp * mu_next
            K.add_scalar_(denom, eps)
            K.addcdiv_(pa, ga, denom, float(-lrn * (1.0 - mu) / (1.0 - mp)))
            bump(p)
            K.addcdiv_(pa, ma, denom, float((-lrn * mu_next) / (1.0 - mu_product_next)))
            bump(p)
