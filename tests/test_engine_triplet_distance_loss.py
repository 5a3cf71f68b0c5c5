"""F.triplet_margin_with_distance_loss / nn.TripletMarginWithDistanceLoss against PyTorch: the default distance
(pairwise_distance), a script's own distance (a lambda, a module such as CosineSimilarity turned into a
distance), swap, each reduction, 1-d and batched inputs, values, gradients, grad_fn names, the module's repr
and torch's errors."""

from __future__ import annotations

import numpy as np
import pytest
from helpers import check, same, same_error

pytestmark = pytest.mark.usefixtures("device")


def triplet(shape: tuple, seed: int = 0) -> list:
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(shape).astype("float32") for _ in range(3)]


def cosine_distance(T: object) -> object:
    return lambda x, y: 1.0 - T.nn.functional.cosine_similarity(x, y)


DISTANCES = {
    "default": lambda T: None,
    "l1": lambda T: lambda x, y: (x - y).abs().sum(-1),
    "cosine": cosine_distance,
    "module": lambda T: T.nn.PairwiseDistance(p=1.5),
}


@pytest.mark.parametrize("dist", list(DISTANCES))
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("swap", [False, True])
@pytest.mark.parametrize("shape", [(5, 4), (4,)])
def test_values_and_gradients(dist: str, reduction: str, swap: bool, shape: tuple) -> None:
    def f(T: object, a: object, p: object, n: object) -> object:
        kw = {"distance_function": DISTANCES[dist](T), "margin": 0.7, "swap": swap, "reduction": reduction}
        fn = T.nn.functional.triplet_margin_with_distance_loss(a, p, n, **kw)
        mod = T.nn.TripletMarginWithDistanceLoss(**kw)(a, p, n)
        return fn, mod

    check(f, *triplet(shape))


def test_repr() -> None:
    same(lambda T: repr(T.nn.TripletMarginWithDistanceLoss()))
    same(lambda T: repr(T.nn.TripletMarginWithDistanceLoss(distance_function=T.nn.CosineSimilarity(), swap=True)))
    same(lambda T: str(T.nn.TripletMarginWithDistanceLoss(margin=2.0, reduction="sum").margin))


ERRORS = [
    lambda T, a, p, n: T.nn.functional.triplet_margin_with_distance_loss(a, p, n, reduction="avg"),
    lambda T, a, p, n: T.nn.functional.triplet_margin_with_distance_loss(a, p, n, margin=0),
    lambda T, a, p, n: T.nn.functional.triplet_margin_with_distance_loss(a, p, n[0]),
    lambda T, a, p, n: T.nn.TripletMarginWithDistanceLoss(margin=-1.0),
    lambda T, a, p, n: T.nn.TripletMarginWithDistanceLoss(reduction="avg")(a, p, n),
    lambda T, a, p, n: T.nn.TripletMarginWithDistanceLoss(0.5),
    lambda T, a, p, n: T.nn.functional.triplet_margin_with_distance_loss(a, p, n, lambda x, y: x),
    lambda T, a, p, n: T.nn.functional.triplet_margin_with_distance_loss(a, p[:, :2], n),
]


@pytest.mark.parametrize("case", range(len(ERRORS)))
def test_errors_match_torch(case: int) -> None:
    same_error(ERRORS[case], *triplet((3, 4)))
