"""The transforms of torch.distributions.transforms that apply other transforms to slices of a tensor:
CatTransform (consecutive slices of given lengths along a dim, joined as torch.cat joins) and StackTransform
(each index along a dim, joined as torch.stack joins)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import engine as torch
from engine.distributions import constraints
from engine.distributions.transform import Transform
from engine.distributions.utils import _sum_rightmost, lazy_property
from engine.tensor import Tensor

__all__ = ["CatTransform", "StackTransform"]


def _check_dim(t: Tensor, dim: int, what: str) -> None:
    if not (-t.dim() <= dim < t.dim()):
        raise AssertionError(f"dim {dim} out of range for {what} with {t.dim()} dimensions")


def _check_size(t: Tensor, dim: int, name: str, expected: int, what: str) -> None:
    if t.size(dim) != expected:
        raise AssertionError(f"{name}.size({dim}) = {t.size(dim)} must equal {what} {expected}")


class CatTransform(Transform):
    """The transforms of tseq applied to consecutive slices of dim (of the given lengths, 1 each by default),
    the results concatenated."""

    transforms: list[Transform]

    def __init__(
        self, tseq: Sequence[Transform], dim: int = 0, lengths: Sequence[int] | None = None, cache_size: int = 0
    ) -> None:
        if not all(isinstance(t, Transform) for t in tseq):
            raise AssertionError("All elements of tseq must be Transform instances")
        if cache_size:
            tseq = [t.with_cache(cache_size) for t in tseq]
        super().__init__(cache_size=cache_size)
        self.transforms = list(tseq)
        if lengths is None:
            lengths = [1] * len(self.transforms)
        self.lengths = list(lengths)
        if len(self.lengths) != len(self.transforms):
            raise AssertionError(f"lengths ({len(self.lengths)}) must match transforms ({len(self.transforms)})")
        self.dim = dim

    @lazy_property
    def event_dim(self) -> int:  # type: ignore[override]
        return max(t.event_dim for t in self.transforms)

    @lazy_property
    def length(self) -> int:
        return sum(self.lengths)

    def with_cache(self, cache_size: int = 1) -> Transform:
        if self._cache_size == cache_size:
            return self
        return CatTransform(self.transforms, self.dim, self.lengths, cache_size)

    def _map(self, z: Tensor, name: str, inverse: bool) -> Tensor:
        _check_dim(z, self.dim, "tensor")
        _check_size(z, self.dim, name, self.length, "length")
        slices = []
        start = 0
        for trans, length in zip(self.transforms, self.lengths):
            zslice = z.narrow(self.dim, start, length)
            slices.append(trans.inv(zslice) if inverse else trans(zslice))
            start = start + length
        return torch.cat(slices, dim=self.dim)

    def _call(self, x: Tensor) -> Tensor:
        return self._map(x, "x", False)

    def _inverse(self, y: Tensor) -> Tensor:
        return self._map(y, "y", True)

    def log_abs_det_jacobian(self, x: Tensor, y: Tensor) -> Any:
        for t, name in ((x, "x"), (y, "y")):
            _check_dim(t, self.dim, name)
            _check_size(t, self.dim, name, self.length, "length")
        logdetjacs = []
        start = 0
        for trans, length in zip(self.transforms, self.lengths):
            xslice = x.narrow(self.dim, start, length)
            yslice = y.narrow(self.dim, start, length)
            logdetjac = trans.log_abs_det_jacobian(xslice, yslice)
            if trans.event_dim < self.event_dim:
                logdetjac = _sum_rightmost(logdetjac, self.event_dim - trans.event_dim)
            logdetjacs.append(logdetjac)
            start = start + length
        # concatenated where dim is a batch dimension, summed where it falls inside the event
        dim = self.dim
        if dim >= 0:
            dim = dim - x.dim()
        dim = dim + self.event_dim
        if dim < 0:
            return torch.cat(logdetjacs, dim=dim)
        return sum(logdetjacs)

    @property
    def bijective(self) -> bool:  # type: ignore[override]
        return all(t.bijective for t in self.transforms)

    @constraints.dependent_property
    def domain(self) -> constraints.Constraint:  # type: ignore[override]
        return constraints.cat([t.domain for t in self.transforms], self.dim, self.lengths)

    @constraints.dependent_property
    def codomain(self) -> constraints.Constraint:  # type: ignore[override]
        return constraints.cat([t.codomain for t in self.transforms], self.dim, self.lengths)


class StackTransform(Transform):
    """The transforms of tseq applied to the slices at each index of dim, the results stacked."""

    transforms: list[Transform]

    def __init__(self, tseq: Sequence[Transform], dim: int = 0, cache_size: int = 0) -> None:
        if not all(isinstance(t, Transform) for t in tseq):
            raise AssertionError("All elements of tseq must be Transform instances")
        if cache_size:
            tseq = [t.with_cache(cache_size) for t in tseq]
        super().__init__(cache_size=cache_size)
        self.transforms = list(tseq)
        self.dim = dim

    def with_cache(self, cache_size: int = 1) -> Transform:
        if self._cache_size == cache_size:
            return self
        return StackTransform(self.transforms, self.dim, cache_size)

    def _slice(self, z: Tensor) -> list[Tensor]:
        return [z.select(self.dim, i) for i in range(z.size(self.dim))]

    def _map(self, z: Tensor, name: str, inverse: bool) -> Tensor:
        _check_dim(z, self.dim, "tensor")
        _check_size(z, self.dim, name, len(self.transforms), "len(transforms)")
        slices = [trans.inv(s) if inverse else trans(s) for s, trans in zip(self._slice(z), self.transforms)]
        return torch.stack(slices, dim=self.dim)

    def _call(self, x: Tensor) -> Tensor:
        return self._map(x, "x", False)

    def _inverse(self, y: Tensor) -> Tensor:
        return self._map(y, "y", True)

    def log_abs_det_jacobian(self, x: Tensor, y: Tensor) -> Tensor:
        for t, name in ((x, "x"), (y, "y")):
            _check_dim(t, self.dim, name)
            _check_size(t, self.dim, name, len(self.transforms), "len(transforms)")
        logdetjacs = [
            trans.log_abs_det_jacobian(xs, ys) for xs, ys, trans in zip(self._slice(x), self._slice(y), self.transforms)
        ]
        return torch.stack(logdetjacs, dim=self.dim)

    @property
    def bijective(self) -> bool:  # type: ignore[override]
        return all(t.bijective for t in self.transforms)

    @constraints.dependent_property
    def domain(self) -> constraints.Constraint:  # type: ignore[override]
        return constraints.stack([t.domain for t in self.transforms], self.dim)

    @constraints.dependent_property
    def codomain(self) -> constraints.Constraint:  # type: ignore[override]
        return constraints.stack([t.codomain for t in self.transforms], self.dim)
