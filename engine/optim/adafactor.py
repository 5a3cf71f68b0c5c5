"""torch.optim.Adafactor (torch 2.5+): Adam's second moment kept as row and column means for matrices (memory
sublinear in the parameter's size), a relative step size and update clipping, as torch's single-tensor step
computes it (torch/optim/_adafactor.py), op for op on the engine's tensors."""

from __future__ import annotations

from typing import Any

from engine.optim.optimizer import SingleTensorOptimizer, scalar_dtype
from engine.tensor import Tensor


class Adafactor(SingleTensorOptimizer):
    _torch_name = "torch.optim.Adafactor"
    _unsupported = ("foreach",)

    def __init__(
        self,
        params: Any,
        lr: float | Tensor = 1e-2,
        beta2_decay: float = -0.8,
        eps: tuple[float | None, float] = (None, 1e-3),
        d: float = 1.0,
        weight_decay: float = 0.0,
        *,
        foreach: bool | None = None,
        maximize: bool = False,
    ) -> None:
        if isinstance(lr, Tensor) and lr.numel() != 1:
            raise ValueError("Tensor lr must be 1-element")
        if not 0.0 <= lr:
            raise ValueError(f"Learning rate should be >= 0 but is: {lr}")
        if not 0.0 >= beta2_decay:
            raise ValueError(f"beta2_decay should be <= 0 but is: {beta2_decay}")
        if eps[0] is not None and not 0.0 <= eps[0]:
            raise ValueError(f"epsilon1 should be >= 0 but is: {eps[0]}")
        if not 0.0 <= eps[1]:
            raise ValueError(f"epsilon2 should be >= 0 but is: {eps[1]}")
        if not 1.0 <= d:
            raise ValueError(f"Clipping threshold d should be >= 1 but is: {d}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"weight_decay should be >= 0 but is: {weight_decay}")
        defaults = {
            "lr": lr,
            "beta2_decay": beta2_decay,
            "eps": eps,
            "d": d,
            "weight_decay": weight_decay,
            "foreach": foreach,
            "maximize": maximize,
        }
        super().__init__(params, defaults)

    _group_defaults = (("foreach", None),)

    def _update(self, group: dict[str, Any]) -> None:
        from engine.creation import tensor, zeros_like
        from engine.typeinfo import finfo

        lr = group["lr"]
        lr = lr.item() if isinstance(lr, Tensor) else lr
        eps1, eps2 = group["eps"]
        d, beta2_decay, weight_decay = group["d"], group["beta2_decay"], group["weight_decay"]
        for param in group["params"]:
            g = param._grad
            if g is None:
                continue
            if param.is_complex():
                raise RuntimeError("Adafactor does not support complex parameters")
            state = self.state[param]
            if len(state) == 0:
                state["step"] = tensor(0.0, dtype=scalar_dtype())
                if g.dim() > 1:
                    row_shape = list(g.shape)
                    row_shape[-1] = 1
                    state["row_var"] = g.new_zeros(row_shape)
                    col_shape = list(g.shape)
                    col_shape[-2] = 1
                    state["col_var"] = g.new_zeros(col_shape)
                else:
                    state["variance"] = zeros_like(g)
            grad = -g if group["maximize"] else g
            step_t = state["step"]
            if eps1 is None:
                eps1 = finfo(param.dtype).eps
            step_t += 1
            step_float = step_t.item()
            one_minus_beta2_t = step_float**beta2_decay
            rho_t = min(lr, 1 / (step_float**0.5))
            alpha = max(eps2, param.norm(2).item() / (param.numel() ** 0.5)) * rho_t
            if weight_decay != 0:
                param.mul_(1 - lr * weight_decay)
            if grad.dim() > 1:
                row_var, col_var = state["row_var"], state["col_var"]
                row_mean = grad.norm(dim=-1, keepdim=True).square_().div_(grad.size(-1))
                row_var.lerp_(row_mean, one_minus_beta2_t)
                col_mean = grad.norm(dim=-2, keepdim=True).square_().div_(grad.size(-2))
                col_var.lerp_(col_mean, one_minus_beta2_t)
                var_estimate = row_var @ col_var
                var_estimate.div_(row_var.mean(dim=-2, keepdim=True).clamp_(min=eps1))
            else:
                variance = state["variance"]
                grad_squared = grad * grad
                variance.lerp_(grad_squared, one_minus_beta2_t)
                var_estimate = variance.clone()
            update = var_estimate.clamp_(min=eps1 * eps1).rsqrt_()
            update.mul_(grad)
            denom = max(1.0, update.norm(2).item() / ((update.numel() ** 0.5) * d))
            param.add_(update, alpha=-alpha / denom)
