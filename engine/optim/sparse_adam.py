"""torch.optim.SparseAdam: Adam's moments and update on the rows a sparse gradient names (nn.Embedding(sparse=True)),
as torch's _functional.sparse_adam computes them in the parameter's dtype."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from engine.optim.optimizer import SingleTensorOptimizer, bump
from engine.tensor import Tensor


class SparseAdam(SingleTensorOptimizer):
    _torch_name = "torch.optim.sparse_adam.SparseAdam"

    def __init__(
        self,
        params: Any,
        lr: float | Tensor = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        maximize: bool = False,
    ) -> None:
        if isinstance(lr, Tensor) and lr.numel() != 1:
            raise ValueError("Tensor lr must be 1-element")
        if not 0.0 < lr:
            raise ValueError(f"Invalid learning rate: {lr}")
        if not 0.0 < eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        if not 0.0 <= betas[0] < 1.0:
            raise ValueError(f"Invalid beta parameter at index 0: {betas[0]}")
        if not 0.0 <= betas[1] < 1.0:
            raise ValueError(f"Invalid beta parameter at index 1: {betas[1]}")
        super().__init__(params, {"lr": lr, "betas": betas, "eps": eps, "maximize": maximize})
        sparse, cplx = [], []
        for i, group in enumerate(self.param_groups):
            for j, p in enumerate(group["params"]):
                if p.is_sparse:
                    sparse.append([i, j])
                if p.is_complex():
                    cplx.append([i, j])
        if sparse:
            raise ValueError(f"Sparse params at indices {sparse}: SparseAdam requires dense parameter tensors")
        if cplx:
            raise ValueError(f"Complex params at indices {cplx}: SparseAdam does not support complex parameters")

    def _update(self, group: dict[str, Any]) -> None:
        from engine.creation import zeros_like
        from engine.sparse_tensor import _coalesced_arrays

        todo = []
        for p in group["params"]:  # (torch checks and counts every parameter's step before updating any)
            g = p._grad
            if g is None:
                continue
            if not g.is_sparse:
                raise RuntimeError("SparseAdam does not support dense gradients, please consider Adam instead")
            st = self.state[p]
            if len(st) == 0:
                st["step"] = 0
                st["exp_avg"] = zeros_like(p)
                st["exp_avg_sq"] = zeros_like(p)
            st["step"] += 1
            todo.append((p, g, st))
        beta1, beta2 = group["betas"]
        eps = group["eps"]
        lr = group["lr"].item() if isinstance(group["lr"], Tensor) else group["lr"]
        for p, g, st in todo:
            if group["maximize"]:
                g = -g
            ind, gv = (g._ind, g._vals._data) if g._coal else _coalesced_arrays(g._ind, g._vals._data, g._ssize)
            if not gv.size:
                continue
            at = tuple(ind)
            m, v, w = st["exp_avg"]._data, st["exp_avg_sq"]._data, p._data
            dt = w.dtype.type
            old_m = m[at]
            upd_m = (gv - old_m) * dt(1 - beta1)
            m[at] += upd_m
            old_v = v[at]
            upd_v = (gv * gv - old_v) * dt(1 - beta2)
            v[at] += upd_v
            numer = upd_m + old_m
            denom = np.sqrt(upd_v + old_v) + dt(eps)
            step = st["step"]
            step_size = lr * math.sqrt(1 - beta2**step) / (1 - beta1**step)
            w[at] += (numer / denom) * dt(-step_size)
            for t in (st["exp_avg"], st["exp_avg_sq"], p):
                bump(t)
