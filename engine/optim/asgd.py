"""torch.optim.ASGD (averaged stochastic gradient descent), as torch's single-tensor implementation computes it.
Its state's step, eta and mu are 0-dim tensors on the parameter's device, of the step's dtype."""

from __future__ import annotations

from typing import Any

import numpy as np

from engine.optim import _kernels as K
from engine.optim.nadam import lr_num
from engine.optim.optimizer import SingleTensorOptimizer, bump, check_flags, scalar, scalar_dtype
from engine.tensor import Tensor


def _as_default_dtype(value: Any) -> Any:
    """torch.as_tensor(value) for a Python float: the value rounded to the default dtype (an array); a Tensor
    lr's arithmetic gives a numpy scalar of its own dtype, which as_tensor keeps."""
    if isinstance(value, np.generic):
        return np.asarray(value)
    from engine.dtypes import get_default_dtype

    return np.asarray(value, dtype=get_default_dtype().np)


class ASGD(SingleTensorOptimizer):
    _torch_name = "torch.optim.asgd.ASGD"
    _unsupported = ("foreach", "differentiable", "capturable")

    def __init__(
        self,
        params: Any,
        lr: float | Tensor = 1e-2,
        lambd: float = 1e-4,
        alpha: float = 0.75,
        t0: float = 1e6,
        weight_decay: float = 0,
        foreach: bool | None = None,
        maximize: bool = False,
        differentiable: bool = False,
        capturable: bool = False,
    ) -> None:
        if isinstance(lr, Tensor) and lr.numel() != 1:
            raise ValueError("Tensor lr must be 1-element")
        if not 0.0 <= lr:
            raise ValueError(f"Invalid learning rate: {lr}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        defaults = {
            "lr": lr,
            "lambd": lambd,
            "alpha": alpha,
            "t0": t0,
            "weight_decay": weight_decay,
            "foreach": foreach,
            "maximize": maximize,
            "differentiable": differentiable,
            "capturable": capturable,
        }
        super().__init__(params, defaults)
        check_flags("ASGD", foreach=foreach, differentiable=differentiable, capturable=capturable)

    _group_defaults = (("foreach", None), ("maximize", False), ("differentiable", False), ("capturable", False))

    def __setstate__(self, state: dict[str, Any]) -> None:
        super().__setstate__(state)
        from engine.creation import tensor

        for group in self.param_groups:
            for p in group["params"]:
                p_state = self.state.get(p, [])
                if len(p_state) != 0:
                    if not isinstance(p_state["step"], Tensor):
                        p_state["step"] = tensor(float(p_state["step"]), dtype=scalar_dtype(), device=p.device)
                    for key in ("eta", "mu"):
                        if not isinstance(p_state[key], Tensor):
                            p_state[key] = tensor(p_state[key], dtype=scalar_dtype(), device=p.device)

    def _update(self, group: dict[str, Any]) -> None:
        from engine.creation import ones, tensor, zeros, zeros_like

        lr = group["lr"]
        lrn = lr_num(lr)
        lambd = group["lambd"]
        alpha = group["alpha"]
        t0 = group["t0"]
        weight_decay = group["weight_decay"]
        maximize = group["maximize"]
        state = self.state
        for p in group["params"]:
            g = p._grad
            if g is None:
                continue
            st = state[p]
            if len(st) == 0:
                sd = scalar_dtype()
                st["step"] = zeros((), device=p.device, dtype=sd)
                st["eta"] = tensor(scalar(lr), device=p.device, dtype=sd)
                st["mu"] = ones((), device=p.device, dtype=sd)
                st["ax"] = zeros_like(p)
            mu = st["mu"]
            ax = st["ax"]
            eta = st["eta"]
            step_t = st["step"]

            ga = K.neg(g._data) if maximize else g._data
            step_t._data += 1
            bump(step_t)
            pa = p._data
            if weight_decay != 0:
                ga = K.add(ga, pa, weight_decay)
            eta_value = eta._data.item()
            K.mul_(pa, 1 - lambd * eta_value)
            bump(p)
            K.add_(pa, ga, -eta_value)
            bump(p)
            xa = ax._data
            mu_value = mu._data.item()
            if mu_value != 1:
                d = K.arr(pa - xa)
                K.mul_(d, mu_value)
                xa += d
            else:
                xa[...] = pa
            bump(ax)
            step = step_t._data.item()
            eta._data[...] = _as_default_dtype(lrn / ((1 + lambd * lrn * step) ** alpha))
            bump(eta)
            mu._data[...] = _as_default_dtype(1 / max(1, step - t0))
            bump(mu)
