"""torch.optim.Adam and torch.optim.AdamW (Adam with decoupled weight decay), as torch's single-tensor
implementation computes them. state['step'] is a 0-dim float32 tensor on the cpu (float64 when that is the
default dtype), as torch keeps it when neither capturable nor fused."""

from __future__ import annotations

from typing import Any

import numpy as np

from engine.backend import CPU
from engine.optim import _kernels as K
from engine.optim.optimizer import SingleTensorOptimizer, bump, check_flags, check_fused, scalar_dtype, tensor_steps
from engine.tensor import Tensor, wrap


def _to_scalar(x: Any) -> Any:
    if isinstance(x, Tensor) and x.dim() != 0:
        return x.squeeze()
    return x


def lr_div(lr: Any, x: float) -> float:
    """lr / x as torch computes it: in Python floats for a number; for a Tensor lr, in the tensor's dtype (a
    0-dim tensor op with a Python number computes in the tensor's dtype)."""
    if isinstance(lr, Tensor):
        t = lr._data.dtype.type
        return float(t(lr.item()) / t(x))
    return lr / x


def _decay_factor(lr: Any, weight_decay: float) -> float:
    """1 - lr * weight_decay, as lr_div computes."""
    if isinstance(lr, Tensor):
        t = lr._data.dtype.type
        return float(t(1) - t(lr.item()) * t(weight_decay))
    return 1 - lr * weight_decay


class Adam(SingleTensorOptimizer):
    _torch_name = "torch.optim.adam.Adam"
    _unsupported = ("foreach", "fused", "differentiable", "capturable")

    def __init__(
        self,
        params: Any,
        lr: float | Tensor = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0,
        amsgrad: bool = False,
        *,
        foreach: bool | None = None,
        maximize: bool = False,
        capturable: bool = False,
        differentiable: bool = False,
        fused: bool | None = None,
        decoupled_weight_decay: bool = False,
    ) -> None:
        if isinstance(lr, Tensor):
            if foreach and not capturable:
                raise ValueError("lr as a Tensor is not supported for capturable=False and foreach=True")
            if lr.numel() != 1:
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
        if not (
            (isinstance(betas[0], float) and isinstance(betas[1], float))
            or (isinstance(betas[0], Tensor) and isinstance(betas[1], Tensor))
        ):
            raise ValueError("betas must be either both floats or both Tensors")
        for i in (0, 1):
            if isinstance(betas[i], Tensor):
                if not capturable and foreach:
                    raise ValueError(f"betas[{i}] as a Tensor is not supported for capturable=False and foreach=True")
                if betas[i].numel() != 1:
                    raise ValueError(f"Tensor betas[{i}] must be 1-element")
        betas = tuple(map(_to_scalar, betas))
        defaults = {
            "lr": lr,
            "betas": betas,
            "eps": eps,
            "weight_decay": weight_decay,
            "amsgrad": amsgrad,
            "maximize": maximize,
            "foreach": foreach,
            "capturable": capturable,
            "differentiable": differentiable,
            "fused": fused,
            "decoupled_weight_decay": decoupled_weight_decay,
        }
        super().__init__(params, defaults)
        check_fused(fused, foreach, differentiable)
        name = type(self).__name__
        check_flags(name, foreach=foreach, fused=fused, differentiable=differentiable, capturable=capturable)
        if isinstance(betas[0], Tensor):
            raise NotImplementedError(f"{name}: Tensor betas (not in this engine); pass betas as two floats")

    _group_defaults = (
        ("amsgrad", False),
        ("maximize", False),
        ("foreach", None),
        ("capturable", False),
        ("differentiable", False),
        ("decoupled_weight_decay", False),
        ("fused", None),
    )

    def __setstate__(self, state: dict[str, Any]) -> None:
        super().__setstate__(state)
        tensor_steps(self, _step_tensor)

    def _update(self, group: dict[str, Any]) -> None:
        beta1, beta2 = group["betas"]
        lr = group["lr"]
        weight_decay = group["weight_decay"]
        eps = group["eps"]
        amsgrad = group["amsgrad"]
        maximize = group["maximize"]
        decoupled = group["decoupled_weight_decay"]
        state = self.state
        for p in group["params"]:
            g = p._grad
            if g is None:
                continue
            st = state[p]
            if len(st) == 0:
                st["step"] = _step_tensor(0.0)
                st["exp_avg"] = _zeros_like(p)
                st["exp_avg_sq"] = _zeros_like(p)
                if amsgrad:
                    st["max_exp_avg_sq"] = _zeros_like(p)
            exp_avg = st["exp_avg"]
            exp_avg_sq = st["exp_avg_sq"]
            max_exp_avg_sq = st["max_exp_avg_sq"] if amsgrad else None
            step_t = st["step"]

            step_t._data += 1
            bump(step_t)
            pa = p._data
            ga = K.neg(g._data) if maximize else g._data
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

            step = step_t._data.item()
            bias_correction1 = 1 - beta1**step
            bias_correction2 = 1 - beta2**step
            step_size = lr_div(lr, bias_correction1)
            bias_correction2_sqrt = bias_correction2**0.5
            if max_exp_avg_sq is not None:
                xa = max_exp_avg_sq._data
                K.xp_of(xa).maximum(xa, va, out=xa)
                bump(max_exp_avg_sq)
                denom = K.sqrt(xa)
            else:
                denom = K.sqrt(va)
            K.div_(denom, bias_correction2_sqrt)
            K.add_scalar_(denom, eps)
            K.addcdiv_(pa, ma, denom, -step_size)
            bump(p)


def _step_tensor(value: float) -> Tensor:
    """torch.tensor(value, dtype=_get_scalar_dtype(), device='cpu')."""
    return wrap(np.array(value, dtype=scalar_dtype().np), CPU)


def _zeros_like(p: Tensor) -> Tensor:
    from engine.creation import zeros_like

    return zeros_like(p)


class AdamW(Adam):
    _torch_name = "torch.optim.adamw.AdamW"

    def __init__(
        self,
        params: Any,
        lr: float | Tensor = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 1e-2,
        amsgrad: bool = False,
        *,
        maximize: bool = False,
        foreach: bool | None = None,
        capturable: bool = False,
        differentiable: bool = False,
        fused: bool | None = None,
    ) -> None:
        super().__init__(
            params,
            lr,
            betas,
            eps,
            weight_decay,
            amsgrad,
            foreach=foreach,
            maximize=maximize,
            capturable=capturable,
            differentiable=differentiable,
            fused=fused,
            decoupled_weight_decay=True,
        )

    def __setstate__(self, state: dict[str, Any]) -> None:
        # AdamW always decouples its weight decay, whatever a loaded state says
        super().__setstate__(state)
        for group in self.param_groups:
            group["decoupled_weight_decay"] = True
