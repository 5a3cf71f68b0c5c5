"""torch.optim.Rprop (resilient backpropagation: a step size per element, grown or shrunk by the sign of the
gradient's change), as torch's single-tensor implementation computes it."""

from __future__ import annotations

from typing import Any

from engine.optim import _kernels as K
from engine.optim.adadelta import default_device_steps
from engine.optim.optimizer import SingleTensorOptimizer, bump, check_flags, scalar, scalar_dtype
from engine.tensor import Tensor


def _sign(a: Any) -> Any:
    """torch's sign: (0 < a) - (a < 0) in a's dtype, so -0.0 and NaN give 0."""
    return (a > 0).astype(a.dtype) - (a < 0).astype(a.dtype)


class Rprop(SingleTensorOptimizer):
    _torch_name = "torch.optim.rprop.Rprop"
    _unsupported = ("foreach", "differentiable", "capturable")

    def __init__(
        self,
        params: Any,
        lr: float | Tensor = 1e-2,
        etas: tuple[float, float] = (0.5, 1.2),
        step_sizes: tuple[float, float] = (1e-6, 50),
        *,
        capturable: bool = False,
        foreach: bool | None = None,
        maximize: bool = False,
        differentiable: bool = False,
    ) -> None:
        if isinstance(lr, Tensor) and lr.numel() != 1:
            raise ValueError("Tensor lr must be 1-element")
        if not 0.0 <= lr:
            raise ValueError(f"Invalid learning rate: {lr}")
        if not 0.0 < etas[0] < 1.0 < etas[1]:
            raise ValueError(f"Invalid eta values: {etas[0]}, {etas[1]}")
        defaults = {
            "lr": lr,
            "etas": etas,
            "step_sizes": step_sizes,
            "foreach": foreach,
            "maximize": maximize,
            "differentiable": differentiable,
            "capturable": capturable,
        }
        super().__init__(params, defaults)
        check_flags("Rprop", foreach=foreach, differentiable=differentiable, capturable=capturable)

    _group_defaults = (("foreach", None), ("maximize", False), ("differentiable", False), ("capturable", False))

    def __setstate__(self, state: dict[str, Any]) -> None:
        super().__setstate__(state)
        default_device_steps(self)

    def _update(self, group: dict[str, Any]) -> None:
        from engine.creation import full_like, zeros, zeros_like

        etaminus, etaplus = group["etas"]
        step_size_min, step_size_max = group["step_sizes"]
        maximize = group["maximize"]
        state = self.state
        for p in group["params"]:
            g = p._grad
            if g is None:
                continue
            st = state[p]
            if len(st) == 0:
                st["step"] = zeros((), dtype=scalar_dtype())
                st["prev"] = zeros_like(p)
                st["step_size"] = full_like(g, scalar(group["lr"]))
            prev = st["prev"]
            step_size = st["step_size"]
            step_t = st["step"]

            ga = K.neg(g._data) if maximize else g._data
            step_t._data += 1
            bump(step_t)
            pa, va, sa = p._data, prev._data, step_size._data
            xp = K.xp_of(pa)
            t = pa.dtype.type
            sign = _sign(ga * va)
            sign = xp.where(sign > 0, t(etaplus), xp.where(sign < 0, t(etaminus), t(1))).astype(pa.dtype)
            sa *= sign
            bump(step_size)
            xp.clip(sa, t(step_size_min), t(step_size_max), out=sa)
            bump(step_size)
            ga = ga.copy()
            ga[sign == t(etaminus)] = 0
            K.addcmul_(pa, _sign(ga), sa, -1)
            bump(p)
            va[...] = ga
            bump(prev)
