"""torch.distributions.ExponentialFamily: entropy from the log normalizer's gradient (a Bregman divergence),
for the exponential-family distributions that do not give their own."""

from __future__ import annotations

from typing import Any

import engine as torch
from engine.distributions.distribution import Distribution
from engine.tensor import Tensor

__all__ = ["ExponentialFamily"]


class ExponentialFamily(Distribution):
    """Distributions with density exp(<t(x), theta> - F(theta) + k(x)): subclasses give the natural
    parameters theta, the log normalizer F and the expected carrier measure E[k(x)]."""

    @property
    def _natural_params(self) -> tuple[Tensor, ...]:
        raise NotImplementedError

    def _log_normalizer(self, *natural_params: Tensor) -> Tensor:
        raise NotImplementedError

    @property
    def _mean_carrier_measure(self) -> float:
        raise NotImplementedError

    def entropy(self) -> Any:
        """The entropy, F(theta) - <theta, grad F(theta)> - E[k(x)], differentiable in the parameters."""
        result: Any = -self._mean_carrier_measure
        nparams = [p.detach().requires_grad_() for p in self._natural_params]
        lg_normal = self._log_normalizer(*nparams)
        gradients = torch.autograd.grad(lg_normal.sum(), nparams, create_graph=True)
        result += lg_normal
        for np_, g in zip(nparams, gradients):
            result -= (np_ * g).reshape(self._batch_shape + (-1,)).sum(-1)
        return result
