"""torch.distributions' kl_divergence (every pair torch registers, dispatch and its errors), transforms
(values, inverses, log-det-Jacobians, shapes, reprs, caching) and TransformedDistribution, biject_to and
transform_to, against PyTorch."""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np
import pytest
import torch
from helpers import check, same, same_error

import engine

pytestmark = pytest.mark.usefixtures("device")

_R = np.random.default_rng(1)


def _pos(n: int = 3) -> np.ndarray:
    return (_R.random(n) * 2 + 0.5).astype(np.float32)


def _real(n: int = 3) -> np.ndarray:
    return _R.standard_normal(n).astype(np.float32)


def _prob(n: int = 3) -> np.ndarray:
    return (_R.random(n) * 0.8 + 0.1).astype(np.float32)


# one member of every family kl_divergence knows, on three batch elements
FAMILIES: dict[str, tuple[Any, list]] = {
    "Bernoulli": (lambda D, T, p: D.Bernoulli(p), [_prob()]),
    "Beta": (lambda D, T, a, b: D.Beta(a, b), [_pos(), _pos()]),
    "Binomial": (lambda D, T, p: D.Binomial(5, p), [_prob()]),
    "Categorical": (lambda D, T, p: D.Categorical(p.reshape(3, 1).expand(3, 2) * T.tensor([1.0, 2.0])), [_prob()]),
    "Cauchy": (lambda D, T, a, b: D.Cauchy(a, b), [_real(), _pos()]),
    # (away from 1/2, where its formulas cancel catastrophically in float32)
    "ContinuousBernoulli": (lambda D, T, p: D.ContinuousBernoulli(p), [np.array([0.2, 0.3, 0.85], np.float32)]),
    "Dirichlet": (lambda D, T, a: D.Dirichlet(a.reshape(3, 1).expand(3, 2) + T.tensor([0.0, 1.0])), [_pos()]),
    "Exponential": (lambda D, T, r: D.Exponential(r), [_pos()]),
    "Gamma": (lambda D, T, a, b: D.Gamma(a, b), [_pos(), _pos()]),
    "Geometric": (lambda D, T, p: D.Geometric(p), [_prob()]),
    "Gumbel": (lambda D, T, a, b: D.Gumbel(a, b), [_real(), _pos()]),
    "HalfNormal": (lambda D, T, b: D.HalfNormal(b), [_pos()]),
    "Independent": (lambda D, T, a, b: D.Independent(D.Normal(a, b), 1), [_real(), _pos()]),
    "Laplace": (lambda D, T, a, b: D.Laplace(a, b), [_real(), _pos()]),
    "LogNormal": (lambda D, T, a, b: D.LogNormal(a, b), [_real(), _pos()]),
    "LowRankMultivariateNormal": (
        lambda D, T, m, d: D.LowRankMultivariateNormal(m, m.reshape(3, 1) * 0.3, d),
        [_real(), _pos()],
    ),  # fmt: skip
    "MultivariateNormal": (lambda D, T, m, d: D.MultivariateNormal(m, scale_tril=T.diag(d)), [_real(), _pos()]),
    "Normal": (lambda D, T, a, b: D.Normal(a, b), [_real(), _pos()]),
    "OneHotCategorical": (
        lambda D, T, p: D.OneHotCategorical(p.reshape(3, 1).expand(3, 2) * T.tensor([1.0, 3.0])),
        [_prob()],
    ),  # fmt: skip
    "Pareto": (lambda D, T, a, b: D.Pareto(a, b + 2), [_pos(), _pos()]),
    "Poisson": (lambda D, T, r: D.Poisson(r), [_pos()]),
    "Uniform": (lambda D, T, a: D.Uniform(a, a + 1.5), [_real()]),
    "UniformUnit": (lambda D, T, a: D.Uniform(a * 0.1 + 0.3, a * 0.1 + 0.6), [_prob()]),
    "Chi2": (lambda D, T, a: D.Chi2(a), [_pos()]),
    "Weibull": (lambda D, T, a, b: D.Weibull(a, b), [_pos(), _pos()]),
}


@pytest.mark.parametrize(("p", "q"), list(itertools.product(FAMILIES, FAMILIES)))
def test_kl_divergence_matches_torch(p: str, q: str) -> None:
    """Every pair: torch's value and gradients to both distributions' parameters, or its error (an unregistered
    pair, a cross exponential-family KL, Binomials of different total counts ...)."""
    bp, pp = FAMILIES[p]
    bq, pq = FAMILIES[q]

    def fn(lib: Any, *ps: Any) -> Any:
        D = lib.distributions  # noqa: N806
        return D.kl_divergence(bp(D, lib, *ps[: len(pp)]), bq(D, lib, *ps[len(pp) :]))

    with np.errstate(all="ignore"):
        check(fn, *pp, *pq, atol=1e-4, rtol=1e-4, grad_atol=1e-3, grad_rtol=1e-3)


def test_register_kl_overrides_and_dispatch_to_subclasses() -> None:
    D = engine.distributions  # noqa: N806
    calls = []

    @D.register_kl(D.Normal, D.Normal)
    def _mine(p: Any, q: Any) -> Any:
        calls.append((p, q))
        return p.loc * 0

    try:
        n = D.Normal(engine.zeros(2), engine.ones(2))
        assert D.kl_divergence(n, n).tolist() == [0.0, 0.0] and calls
    finally:
        from engine.distributions import kl_same_family

        D.register_kl(D.Normal, D.Normal)(kl_same_family._kl_normal_normal)
    # Chi2 is a Gamma: its KL is Gamma's; HalfNormal and LogNormal are TransformedDistributions
    same(lambda lib: lib.distributions.kl_divergence(lib.distributions.Chi2(3.0), lib.distributions.Gamma(2.0, 0.5)))
    same_error(
        lambda lib: lib.distributions.kl_divergence(
            lib.distributions.LogNormal(0.0, 1.0), lib.distributions.HalfNormal(1.0)
        )
    )


# ---- transforms ---------------------------------------------------------------------------------------------------
def _transforms(T: Any, D: Any) -> dict[str, Any]:
    t = D.transforms
    return {
        "Exp": t.ExpTransform(),
        "Power": t.PowerTransform(T.tensor(2.5)),
        "Sigmoid": t.SigmoidTransform(),
        "Softplus": t.SoftplusTransform(),
        "Tanh": t.TanhTransform(),
        "Abs": t.AbsTransform(),
        "Affine": t.AffineTransform(1.5, -2.0),
        "AffineTensor": t.AffineTransform(T.tensor([0.5, 1.0, -1.0, 2.0]), T.tensor([2.0, -0.5, 1.0, 3.0])),
        "AffineEvent": t.AffineTransform(0.0, T.tensor([2.0, 1.0, 3.0, 0.5]), event_dim=1),
        "Compose": t.ComposeTransform([t.ExpTransform(), t.AffineTransform(1.0, 2.0)]),
        "Inverse": t.ExpTransform().inv,
        "Independent": t.IndependentTransform(t.SigmoidTransform(), 1),
        "Reshape": t.ReshapeTransform((4,), (2, 2)),
        "Softmax": t.SoftmaxTransform(),
        "StickBreaking": t.StickBreakingTransform(),
        "LowerCholesky": t.LowerCholeskyTransform(),
        "PositiveDefinite": t.PositiveDefiniteTransform(),
        "CorrCholesky": t.CorrCholeskyTransform(),
        "Cat": t.CatTransform([t.ExpTransform(), t.identity_transform], 0, [1, 1]),
        "Stack": t.StackTransform([t.ExpTransform(), t.SigmoidTransform()], 0),
        "CDF": t.CumulativeDistributionTransform(D.Normal(0.0, 1.0)),
        "Cached": t.ExpTransform(cache_size=1),
    }


_INPUTS = {"LowerCholesky": (2, 2), "PositiveDefinite": (2, 2), "CorrCholesky": (3, 6), "Cat": (2, 3),
           "Stack": (2, 3)}  # fmt: skip
_NAMES = list(_transforms(torch, torch.distributions))


@pytest.mark.parametrize("name", _NAMES)
def test_transform_matches_torch(name: str) -> None:
    shape = _INPUTS.get(name, (3, 4))
    x = (_R.standard_normal(shape) * 0.7).astype(np.float32)
    if name == "Power":
        x = np.abs(x) + 0.1

    def fn(lib: Any, v: Any) -> Any:
        t = _transforms(lib, lib.distributions)[name]
        y = t(v)
        out = [y, repr(t), repr(t.domain), repr(t.codomain), t.bijective, t.forward_shape(v.shape)]
        out.append(t.inverse_shape(y.shape))
        if t.bijective or name in ("Abs", "Softmax"):
            out.append(t.inv(y))
        if name not in ("Abs", "Softmax", "LowerCholesky", "PositiveDefinite"):
            out.append(t.log_abs_det_jacobian(v, y))
        for attr in ("sign", "event_dim"):
            try:
                s = getattr(t, attr)
            except (NotImplementedError, ValueError) as e:
                s = (type(e).__name__, str(e))
            out.append(s if not isinstance(s, lib.Tensor) or s.dim() else s)
        return out

    with np.errstate(all="ignore"):
        check(fn, x, atol=1e-4, rtol=1e-4, grad_atol=1e-3, grad_rtol=1e-3)


def test_transform_cache_and_equality() -> None:
    t = engine.distributions.transforms
    e = t.ExpTransform(cache_size=1)
    x = engine.randn(3)
    y = e(x)
    assert e(x) is y and e.inv(y) is x and e.inv.inv is e
    assert t.ExpTransform() == t.ExpTransform() and t.ExpTransform() != t.SigmoidTransform()
    assert t.AffineTransform(1.0, 2.0) == t.AffineTransform(1.0, 2.0) != t.AffineTransform(1.0, 3.0)
    with pytest.raises(TypeError, match="unhashable"):
        hash(t.ExpTransform())  # (as torch's: __eq__ without __hash__)
    same_error(lambda lib: lib.distributions.transforms.ExpTransform(cache_size=2))
    same_error(lambda lib: lib.distributions.transforms.AffineTransform(0.0, 1.0).with_cache(1) and
               lib.distributions.transforms.CumulativeDistributionTransform(None).domain)  # fmt: skip
    same(lambda lib: repr(lib.distributions.transforms.AffineTransform(0.0, 1.0).with_cache(1)))


def test_transformed_distribution() -> None:
    def fn(lib: Any, a: Any, b: Any) -> Any:
        D = lib.distributions  # noqa: N806
        t = D.transforms
        base = D.Normal(a, b)
        logistic = D.TransformedDistribution(D.Uniform(0.0, 1.0), [t.SigmoidTransform().inv, t.AffineTransform(a, b)])
        d = D.TransformedDistribution(base, [t.ExpTransform(), t.AffineTransform(1.0, -2.0)])
        lib.manual_seed(0)
        x = d.rsample((2,))
        return [
            x,
            d.log_prob(x),
            d.cdf(x),
            d.icdf(lib.full_like(a, 0.3)),
            repr(d.support),
            d.batch_shape,
            logistic.log_prob(a),
            logistic.sample((2,)),
            repr(D.TransformedDistribution(base, []).support),
            d.expand((2, 3)).batch_shape,
            D.TransformedDistribution(base, t.StickBreakingTransform()).event_shape,
        ]

    check(fn, _real(), _pos(), atol=1e-4, rtol=1e-4, grad_atol=1e-3, grad_rtol=1e-3)
    same_error(lambda lib: lib.distributions.TransformedDistribution(lib.distributions.Normal(0.0, 1.0), [1]))
    same_error(
        lambda lib: lib.distributions.TransformedDistribution(
            lib.distributions.Normal(0.0, 1.0), lib.distributions.transforms.StickBreakingTransform()
        )
    )


@pytest.mark.parametrize("which", ["biject_to", "transform_to"])
def test_constraint_registry(which: str) -> None:
    def fn(lib: Any, x: Any) -> Any:
        D = lib.distributions  # noqa: N806
        c = D.constraints
        reg = getattr(D, which)
        out = []
        for con in (c.real, c.positive, c.greater_than(1.0), c.less_than(2.0), c.interval(-1.0, 3.0),
                    c.unit_interval, c.simplex, c.independent(c.positive, 1), c.corr_cholesky,
                    c.cat([c.real, c.positive], 0, [2, 2]), c.stack([c.positive, c.unit_interval] * 2, 0),
                    c.lower_cholesky, c.positive_definite):  # fmt: skip
            try:
                t = reg(con)
            except NotImplementedError as e:
                out.append(str(e))
                continue
            out.append(repr(t))
            if con not in (c.corr_cholesky, c.lower_cholesky, c.positive_definite):
                out.append(t(x))
        return out

    check(fn, _real(4), atol=1e-5, rtol=1e-5)
    same_error(lambda lib: getattr(lib.distributions, which).register(3, lambda c: c))
