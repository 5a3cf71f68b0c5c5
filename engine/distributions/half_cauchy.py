"""torch.distributions.HalfCauchy: |X| of a zero-centred Cauchy."""

from __future__ import annotations

import math
from typing import Any

import engine as torch
from engine.distributions.cauchy import Cauchy
from engine.distributions.half_normal import _Folded
from engine.distributions.pointwise_transforms import AbsTransform
from engine.tensor import Tensor

__all__ = ["HalfCauchy"]


class HalfCauchy(_Folded):
    """|X| with X ~ Cauchy(0, scale)."""

    def __init__(self, scale: Any, validate_args: bool | None = None) -> None:
        base_dist = Cauchy(0, scale, validate_args=False)
        super().__init__(base_dist, AbsTransform(), validate_args=validate_args)

    def expand(self, batch_shape: Any, _instance: Any = None) -> HalfCauchy:
        new = self._get_checked_instance(HalfCauchy, _instance)
        return super().expand(batch_shape, _instance=new)  # type: ignore[return-value]

    @property
    def mean(self) -> Tensor:
        return torch.full(self._extended_shape(), math.inf, dtype=self.scale.dtype, device=self.scale.device)

    @property
    def variance(self) -> Tensor:
        return self.base_dist.variance

    def log_prob(self, value: Tensor) -> Tensor:
        if self._validate_args:
            self._validate_sample(value)
        value = torch.as_tensor(value, dtype=self.base_dist.scale.dtype, device=self.base_dist.scale.device)
        return self._folded_log_prob(value)
