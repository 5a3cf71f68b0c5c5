"""torch.optim.Adagrad (with lr decay, weight decay, an initial accumulator and maximize), as torch's
single-tensor implementation computes it. Its state is made when it is constructed, for every parameter."""

from __future__ import annotations

from typing import Any

from engine.optim import _kernels as K
from engine.optim.adam import lr_div
from engine.optim.optimizer import SingleTensorOptimizer, bump, check_flags, check_fused, scalar_dtype, tensor_steps
from engine.tensor import Tensor


def _init_state(p: Tensor, init_value: float) -> dict[str, Tensor]:
    from engine.creation import full_like, tensor

    # (step on the default device: torch.tensor(0.0, dtype=...) names none)
    return {"step": tensor(0.0, dtype=scalar_dtype()), "sum": full_like(p, init_value)}


class Adagrad(SingleTensorOptimizer):
    _torch_name = "torch.optim.adagrad.Adagrad"
    _unsupported = ("foreach", "fused", "differentiable")

    def __init__(
        self,
        params: Any,
        lr: float | Tensor = 1e-2,
        lr_decay: float = 0,
        weight_decay: float = 0,
        initial_accumulator_value: float = 0,
        eps: float = 1e-10,
        foreach: bool | None = None,
        *,
        maximize: bool = False,
        differentiable: bool = False,
        fused: bool | None = None,
    ) -> None:
        if isinstance(lr, Tensor) and lr.numel() != 1:
            raise ValueError("Tensor lr must be 1-element")
        if not 0.0 <= lr:
            raise ValueError(f"Invalid learning rate: {lr}")
        if not 0.0 <= lr_decay:
            raise ValueError(f"Invalid lr_decay value: {lr_decay}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        if not 0.0 <= initial_accumulator_value:
            raise ValueError(f"Invalid initial_accumulator_value value: {initial_accumulator_value}")
        if not 0.0 <= eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        defaults = {
            "lr": lr,
            "lr_decay": lr_decay,
            "eps": eps,
            "weight_decay": weight_decay,
            "initial_accumulator_value": initial_accumulator_value,
            "foreach": foreach,
            "maximize": maximize,
            "differentiable": differentiable,
            "fused": fused,
        }
        super().__init__(params, defaults)
        check_fused(fused, foreach, differentiable)
        check_flags("Adagrad", foreach=foreach, fused=fused, differentiable=differentiable)
        for group in self.param_groups:
            for p in group["params"]:
                self.state[p].update(_init_state(p, initial_accumulator_value))

    _group_defaults = (("foreach", None), ("maximize", False), ("differentiable", False), ("fused", None))

    def __setstate__(self, state: dict[str, Any]) -> None:
        super().__setstate__(state)
        from engine.creation import tensor

        tensor_steps(self, lambda v: tensor(v, dtype=scalar_dtype()))

    def _update(self, group: dict[str, Any]) -> None:
        lr = group["lr"]
        weight_decay = group["weight_decay"]
        lr_decay = group["lr_decay"]
        eps = group["eps"]
        maximize = group["maximize"]
        state = self.state
        for p in group["params"]:
            g = p._grad
            if g is None:
                continue
            st = state[p]
            if len(st) == 0:  # a parameter added by add_param_group after construction
                st.update(_init_state(p, self.defaults["initial_accumulator_value"]))
            state_sum = st["sum"]
            step_t = st["step"]

            step_t._data += 1
            bump(step_t)
            step = step_t._data.item()
            ga = K.neg(g._data) if maximize else g._data
            pa = p._data
            if weight_decay != 0:
                ga = K.add(ga, pa, weight_decay)
            clr = lr_div(lr, 1 + (step - 1) * lr_decay)
            sa = state_sum._data
            K.addcmul_(sa, ga, ga, 1)
            bump(state_sum)
            std = K.sqrt(sa)
            K.add_scalar_(std, eps)
            K.addcdiv_(pa, ga, std, -clr)
            bump(p)
