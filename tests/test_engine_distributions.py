"""torch.distributions on the engine (engine/distributions/) against PyTorch: for every distribution, seeded
samples (bit for bit where torch's own draws reach the sample through exact arithmetic), rsample and log_prob
with their parameter gradients, mean/variance/stddev/mode/entropy/cdf/icdf/enumerate_support, reprs, shapes
and expand; argument and sample validation with torch's messages; property tests on random parameters."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
import torch
from helpers import check, computed, same, same_error
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import engine

pytestmark = pytest.mark.usefixtures("device")

_R = np.random.default_rng(0)


def pos(*s: int) -> np.ndarray:
    return (_R.random(s) * 2 + 0.2).astype(np.float32)


def real(*s: int) -> np.ndarray:
    return _R.standard_normal(s).astype(np.float32)


def prob(*s: int) -> np.ndarray:
    return (_R.random(s) * 0.9 + 0.05).astype(np.float32)


def simplex(*s: int) -> np.ndarray:
    p = _R.random(s) + 0.1
    return (p / p.sum(-1, keepdims=True)).astype(np.float32)


def spd(n: int) -> np.ndarray:
    a = _R.standard_normal((n, n))
    return (a @ a.T + n * np.eye(n)).astype(np.float32)


def tril(n: int) -> np.ndarray:
    return np.linalg.cholesky(spd(n)).astype(np.float32)


# name -> (builder(D, T, *tensors), parameters). A builder gets the library's torch.distributions and torch.
CASES: dict[str, tuple[Callable, list]] = {
    "Normal": (lambda D, T, a, b: D.Normal(a, b), [real(3), pos(3)]),
    "NormalScalars": (lambda D, T: D.Normal(0.5, 2.0), []),
    "Bernoulli": (lambda D, T, p: D.Bernoulli(p), [prob(4)]),
    "BernoulliLogits": (lambda D, T, lg: D.Bernoulli(logits=lg), [real(2, 3)]),
    "Categorical": (lambda D, T, p: D.Categorical(p), [simplex(2, 4)]),
    "CategoricalLogits": (lambda D, T, lg: D.Categorical(logits=lg), [real(5)]),
    "Uniform": (lambda D, T, a: D.Uniform(a, a + 2), [real(3)]),
    "Exponential": (lambda D, T, r: D.Exponential(r), [pos(4)]),
    "Laplace": (lambda D, T, a, b: D.Laplace(a, b), [real(3), pos(3)]),
    "OneHotCategorical": (lambda D, T, p: D.OneHotCategorical(p), [simplex(3)]),
    "OneHotCategoricalStraightThrough": (lambda D, T, p: D.OneHotCategoricalStraightThrough(p), [simplex(2, 3)]),
    "Independent": (lambda D, T, a, b: D.Independent(D.Normal(a, b), 1), [real(2, 3), pos(2, 3)]),
    "MultivariateNormal": (lambda D, T, m, c: D.MultivariateNormal(m, covariance_matrix=c), [real(3), spd(3)]),
    "MultivariateNormalTril": (lambda D, T, m, c: D.MultivariateNormal(m, scale_tril=c), [real(2, 3), tril(3)]),
    "MultivariateNormalPrecision": (lambda D, T, m, c: D.MultivariateNormal(m, precision_matrix=c), [real(3), spd(3)]),
    "LowRankMultivariateNormal": (
        lambda D, T, m, w, d: D.LowRankMultivariateNormal(m, w, d),
        [real(3), real(3, 2), pos(3)],
    ),  # fmt: skip
    "LogNormal": (lambda D, T, a, b: D.LogNormal(a, b), [real(3), pos(3)]),
    "Binomial": (lambda D, T, p: D.Binomial(10, p), [prob(5)]),
    "BinomialLogits": (lambda D, T, lg: D.Binomial(T.tensor([3.0, 50.0, 200.0]), logits=lg), [real(3)]),
    "Poisson": (lambda D, T, r: D.Poisson(r * 5), [pos(6)]),
    "Geometric": (lambda D, T, p: D.Geometric(p), [prob(4)]),
    "Cauchy": (lambda D, T, a, b: D.Cauchy(a, b), [real(3), pos(3)]),
    "HalfCauchy": (lambda D, T, b: D.HalfCauchy(b), [pos(3)]),
    "HalfNormal": (lambda D, T, b: D.HalfNormal(b), [pos(3)]),
    "Gumbel": (lambda D, T, a, b: D.Gumbel(a, b), [real(3), pos(3)]),
    "Pareto": (lambda D, T, a, b: D.Pareto(a, b + 2), [pos(3), pos(3)]),
    "Weibull": (lambda D, T, a, b: D.Weibull(a, b), [pos(3), pos(3)]),
    "LogisticNormal": (lambda D, T, a, b: D.LogisticNormal(a, b), [real(3), pos(3)]),
    "Kumaraswamy": (lambda D, T, a, b: D.Kumaraswamy(a, b), [pos(3), pos(3)]),
    "GeneralizedPareto": (lambda D, T, a, b, c: D.GeneralizedPareto(a, b, c), [real(3), pos(3), real(3) * 0.3]),
    "Multinomial": (lambda D, T, p: D.Multinomial(7, p), [simplex(2, 3)]),
    "RelaxedBernoulli": (lambda D, T, t, p: D.RelaxedBernoulli(t, p), [pos(1), prob(3)]),
    "RelaxedOneHotCategorical": (lambda D, T, t, p: D.RelaxedOneHotCategorical(t, p), [pos(1), simplex(2, 3)]),
    "ContinuousBernoulli": (lambda D, T, p: D.ContinuousBernoulli(p), [np.array([0.1, 0.3, 0.8], np.float32)]),
    "MixtureSameFamily": (
        lambda D, T, p, a, b: D.MixtureSameFamily(D.Categorical(p), D.Normal(a, b)),
        [simplex(3), real(3), pos(3)],
    ),  # fmt: skip
    "VonMises": (lambda D, T, a, b: D.VonMises(a, b), [real(3), pos(3)]),
    "Gamma": (lambda D, T, a, b: D.Gamma(a, b), [pos(4), pos(4)]),
    "GammaSmallShape": (lambda D, T, a: D.Gamma(a * 0.2, 1.0), [pos(4)]),
    "Chi2": (lambda D, T, a: D.Chi2(a * 3), [pos(3)]),
    "Beta": (lambda D, T, a, b: D.Beta(a, b), [pos(3), pos(3)]),
    "BetaScalars": (lambda D, T: D.Beta(2.0, 3.0), []),
    "Dirichlet": (lambda D, T, a: D.Dirichlet(a), [pos(2, 4)]),
    "StudentT": (lambda D, T, df, a, b: D.StudentT(df * 3, a, b), [pos(3), real(3), pos(3)]),
    "FisherSnedecor": (lambda D, T, a, b: D.FisherSnedecor(a * 3, b * 5), [pos(3), pos(3)]),
    "InverseGamma": (lambda D, T, a, b: D.InverseGamma(a + 2, b), [pos(3), pos(3)]),
    "NegativeBinomial": (lambda D, T, n, p: D.NegativeBinomial(n * 3, p), [pos(4), prob(4)]),
    "LKJCholesky": (lambda D, T, c: D.LKJCholesky(3, c), [pos(2)]),
    "Wishart": (lambda D, T, c: D.Wishart(T.tensor(4.0), covariance_matrix=c), [spd(3)]),
}

# Samples equal to torch's bit for bit: the draws reach them through torch's sampling primitives and exact
# arithmetic (elsewhere they pass through transcendental functions, whose last bit can differ).
EXACT = ["Normal", "NormalScalars", "Bernoulli", "BernoulliLogits", "Categorical", "CategoricalLogits", "Uniform",
         "Exponential", "OneHotCategorical", "Independent", "MultivariateNormalTril", "Binomial", "BinomialLogits",
         "Poisson", "Geometric", "Cauchy", "HalfCauchy", "HalfNormal", "Multinomial", "MixtureSameFamily",
         "VonMises", "Gamma", "GammaSmallShape", "Chi2", "Dirichlet", "NegativeBinomial"]  # fmt: skip

# ill-conditioned formulas (ContinuousBernoulli's variance near p = 1/2 subtracts nearly equal logs)
TOLERANCES = {"ContinuousBernoulli": 1e-3, "Wishart": 1e-4, "FisherSnedecor": 1e-4, "LKJCholesky": 1e-4}


def build(lib: Any, name: str, params: tuple) -> Any:
    return CASES[name][0](lib.distributions, lib, *params)


def _seeded(lib: Any, seed: int, fn: Callable) -> Any:
    lib.manual_seed(seed)
    return fn()


def _icdf(lib: Any, d: Any) -> Any:
    lib.manual_seed(5)
    return d.icdf(lib.rand(d.batch_shape))


METHODS: dict[str, Callable] = {
    "sample": lambda lib, d: _seeded(lib, 3, lambda: d.sample((3, 2))),
    "rsample": lambda lib, d: _seeded(lib, 3, lambda: d.rsample((2,))),
    "mean": lambda lib, d: d.mean,
    "variance": lambda lib, d: d.variance,
    "stddev": lambda lib, d: d.stddev,
    "mode": lambda lib, d: d.mode,
    "entropy": lambda lib, d: d.entropy(),
    "perplexity": lambda lib, d: d.perplexity(),
    "log_prob": lambda lib, d: d.log_prob(_seeded(lib, 4, lambda: d.sample((2,)))),
    "cdf": lambda lib, d: d.cdf(_seeded(lib, 4, lambda: d.sample((2,)))),
    "icdf": _icdf,
    "enumerate_support": lambda lib, d: d.enumerate_support(),
    "enumerate_support_unexpanded": lambda lib, d: d.enumerate_support(expand=False),
}


@pytest.mark.parametrize("method", list(METHODS))
@pytest.mark.parametrize("name", list(CASES))
def test_method_matches_torch(name: str, method: str) -> None:
    """Values, dtypes, shapes and grad_fn names, then the gradients to the parameters after one backward pass
    (rsample, log_prob, entropy ...); or the same error (a method torch does not implement)."""
    tol = TOLERANCES.get(name)
    with np.errstate(all="ignore"):
        check(lambda lib, *ps: METHODS[method](lib, build(lib, name, ps)), *CASES[name][1], atol=tol, rtol=tol,
              grad_atol=tol and 10 * tol, grad_rtol=tol and 10 * tol)  # fmt: skip


@pytest.mark.parametrize("name", EXACT)
def test_samples_are_torchs_bit_for_bit(name: str) -> None:
    out = []
    for lib in (torch, engine):
        d = build(lib, name, tuple(lib.tensor(p) for p in CASES[name][1]))
        lib.manual_seed(11)
        out.append(np.asarray(d.sample((4, 3)).cpu().numpy()))
        if d.has_rsample:
            out.append(np.asarray(d.rsample((2,)).detach().cpu().numpy()))
        out.append(np.asarray(lib.rand(3).cpu().numpy()))  # (the stream continues where torch's does)
    half = len(out) // 2
    for t, e in zip(out[:half], out[half:]):
        assert t.dtype == e.dtype and t.shape == e.shape
        np.testing.assert_array_equal(e, t)


@pytest.mark.parametrize("name", list(CASES))
def test_repr_shapes_support_and_expand(name: str) -> None:
    def fn(lib: Any, *ps: Any) -> Any:
        d = build(lib, name, ps)
        out = [repr(d), d.batch_shape, d.event_shape, d.has_rsample, d.has_enumerate_support]
        try:
            out.append(repr(d.support))
        except NotImplementedError as e:
            out.append(str(e))
        big = d.expand((2,) + tuple(d.batch_shape))
        out += [repr(big), big.batch_shape, big.event_shape]
        lib.manual_seed(2)
        out.append(big.sample())
        return out

    same(fn, *CASES[name][1])


def test_float64_parameters() -> None:
    """float64 parameters give float64 samples and values, torch's bit for bit."""

    def samples(lib: Any, a: Any, b: Any) -> Any:
        d = lib.distributions
        lib.manual_seed(0)
        return d.Normal(a, b).sample((3,)), d.Gamma(b, a.abs() + 1).sample((2,)), d.Poisson(b * 4).sample((5,))

    def values(lib: Any, a: Any, b: Any) -> Any:
        d = lib.distributions
        return d.Normal(a, b).log_prob(a), d.Gamma(b, a.abs() + 1).entropy(), d.Poisson(b * 4).log_prob(b.floor())

    r = _R.standard_normal(3)
    out = check(samples, r, np.abs(r) + 0.5, atol=0, rtol=0, grad=False)
    assert out[0].dtype == torch.float64
    computed(values, r, np.abs(r) + 0.5)


# ---- validation --------------------------------------------------------------------------------------------------
ERRORS: list[tuple[str, Callable, list]] = [
    ("negative scale", lambda D, T, a: D.Normal(a, -a.abs()), [real(2)]),
    ("nan loc", lambda D, T, a: D.Normal(a * float("nan"), 1.0), [real(2)]),
    ("probs above 1", lambda D, T, p: D.Bernoulli(p + 1), [prob(3)]),
    ("both probs and logits", lambda D, T, p: D.Bernoulli(p, logits=p), [prob(3)]),
    ("neither probs nor logits", lambda D, T, p: D.Categorical(), [prob(3)]),
    ("0-dim probs", lambda D, T, p: D.Categorical(p[0]), [prob(3)]),
    ("probs off the simplex", lambda D, T, p: D.OneHotCategorical(p * T.tensor([1.0, -1.0, 1.0])), [simplex(3)]),
    ("uniform low above high", lambda D, T, a: D.Uniform(a + 1, a), [real(2)]),
    ("geometric probs 0", lambda D, T, p: D.Geometric(p * 0), [prob(2)]),
    ("mvn not positive definite", lambda D, T, m: D.MultivariateNormal(m, -T.eye(2)), [real(2)]),
    ("mvn scale_tril not triangular", lambda D, T, m: D.MultivariateNormal(m, scale_tril=T.ones(2, 2)), [real(2)]),
    ("mvn two matrices", lambda D, T, m: D.MultivariateNormal(m, T.eye(2), scale_tril=T.eye(2)), [real(2)]),
    ("mvn 0-dim loc", lambda D, T, m: D.MultivariateNormal(m[0], T.eye(2)), [real(2)]),
    ("independent too many dims", lambda D, T, a: D.Independent(D.Normal(a, 1.0), 2), [real(2)]),
    ("binomial count not integer", lambda D, T, p: D.Binomial(2.5, p), [prob(2)]),
    ("non-number parameter", lambda D, T, a: D.Normal("a", 1.0), [real(2)]),
    ("gamma negative rate", lambda D, T, a: D.Gamma(a.abs(), -1.0), [real(2)]),
    ("dirichlet 0-dim", lambda D, T, a: D.Dirichlet(a[0].abs()), [real(2)]),
    ("wishart small df", lambda D, T, c: D.Wishart(T.tensor(1.0), covariance_matrix=c), [spd(3)]),
    ("lkj dim 1", lambda D, T, c: D.LKJCholesky(1, c), [pos(1)]),
    ("log_prob outside the support", lambda D, T, a: D.Exponential(a.abs() + 1).log_prob(-a.abs() - 1), [real(2)]),
    ("log_prob of a number", lambda D, T, a: D.Normal(a, 1.0).log_prob(1.0), [real(2)]),
    ("log_prob event shape", lambda D, T, m: D.MultivariateNormal(m, T.eye(2)).log_prob(T.ones(3)), [real(2)]),
    ("log_prob not broadcastable", lambda D, T, a: D.Normal(a, 1.0).log_prob(T.ones(3)), [real(2)]),
    ("categorical value out of range", lambda D, T, p: D.Categorical(p).log_prob(T.tensor(5)), [simplex(3)]),
    ("bernoulli value not 0/1", lambda D, T, p: D.Bernoulli(p).log_prob(T.full((3,), 0.5)), [prob(3)]),
    ("no mode", lambda D, T, p: D.Multinomial(3, p).mode, [simplex(3)]),
    ("no cdf", lambda D, T, p: D.Bernoulli(p).cdf(T.ones(3)), [prob(3)]),
    ("no enumerate_support", lambda D, T, a: D.Gumbel(a, 1.0).enumerate_support(), [real(2)]),
    ("kl not registered", lambda D, T, a: D.kl_divergence(D.Normal(a, 1.0), D.Bernoulli(0.5)), [real(2)]),
    ("kl inhomogeneous binomial entropy", lambda D, T, p: D.Binomial(T.tensor([2.0, 3.0]), p).entropy(), [prob(2)]),
    ("transforms not a list", lambda D, T, a: D.TransformedDistribution(D.Normal(a, 1.0), 3), [real(2)]),
    ("sample_n", lambda D, T, a: D.Normal(a, 1.0).sample_n(2).shape, [real(2)]),
]


@pytest.mark.parametrize("case", ERRORS, ids=[c[0] for c in ERRORS])
def test_errors_match_torch(case: tuple) -> None:
    _, fn, params = case
    if case[0] == "sample_n":  # (deprecated, not an error: a FutureWarning and the samples' shape)
        with pytest.warns(FutureWarning, match="sample_n"):
            same(lambda lib, *ps: fn(lib.distributions, lib, *ps), *params)
        return
    same_error(lambda lib, *ps: fn(lib.distributions, lib, *ps), *params)


def test_validation_message_names_the_parameter_and_values() -> None:
    kind, msg = same_error(lambda lib, s: lib.distributions.Normal(lib.zeros(2), s), np.array([1.0, -1.0], np.float32))
    assert kind == "ValueError"
    assert msg.startswith("Expected parameter scale (Tensor of shape (2,)) of distribution Normal(loc: torch.Size")
    assert (
        "to satisfy the constraint GreaterThan(lower_bound=0.0), but found invalid values:\ntensor([ 1., -1.])" in msg
    )


def test_validate_args_off() -> None:
    def fn(lib: Any, s: Any) -> Any:
        d = lib.distributions.Normal(lib.zeros(2), s, validate_args=False)
        return d.log_prob(lib.ones(2)), repr(d)

    same(fn, np.array([1.0, -1.0], np.float32))
    engine.distributions.Distribution.set_default_validate_args(False)
    try:
        assert engine.distributions.Normal(0.0, -1.0).scale.item() == -1.0
    finally:
        engine.distributions.Distribution.set_default_validate_args(True)
    with pytest.raises(ValueError):
        engine.distributions.Normal(0.0, -1.0)


# ---- gradients --------------------------------------------------------------------------------------------------
def test_reparameterised_vae_step() -> None:
    """The VAE tutorial's step: q(z|x) = Normal(mu, exp(log_sigma)), z = q.rsample(), the loss of a decoder's
    log-likelihood plus KL(q || N(0, 1)); the parameter gradients are torch's."""

    def fn(lib: Any, w: Any, x: Any) -> Any:
        lib.manual_seed(0)
        h = x @ w
        mu, log_sigma = h[:, :2], h[:, 2:]
        q = lib.distributions.Normal(mu, log_sigma.exp())
        p = lib.distributions.Normal(lib.zeros_like(mu), lib.ones_like(mu))
        z = q.rsample()
        recon = lib.distributions.Bernoulli(logits=z @ w[:2]).log_prob((x > 0).float()).sum(-1)
        kl = lib.distributions.kl_divergence(q, p).sum(-1)
        return (kl - recon).mean()

    check(fn, real(3, 4) * 0.3, real(5, 3))


def test_reinforce_step() -> None:
    """REINFORCE with a Categorical policy: sample actions, -log_prob * return, and its gradient."""

    def fn(lib: Any, w: Any, s: Any) -> Any:
        lib.manual_seed(1)
        pi = lib.distributions.Categorical(logits=s @ w)
        a = pi.sample()
        ret = (a.float() - 1.0) * 2.0
        return -(pi.log_prob(a) * ret).sum() - 0.01 * pi.entropy().sum()

    check(fn, real(4, 3), real(6, 4))


def test_gamma_and_dirichlet_rsample_gradients() -> None:
    def fn(lib: Any, a: Any, b: Any, c: Any) -> Any:
        lib.manual_seed(9)
        d = lib.distributions
        return d.Gamma(a, b).rsample((3,)), d.Dirichlet(c).rsample((2,)), d.Beta(a, b).rsample()

    check(fn, pos(4) * 3, pos(4), pos(2, 3) * 4, grad_atol=1e-3, grad_rtol=1e-3)


# ---- property tests ---------------------------------------------------------------------------------------------
SETTINGS = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
floats = st.floats(-5, 5, allow_nan=False, width=32)
positive = st.floats(0.0625, 8, width=32)


@SETTINGS
@given(
    loc=st.lists(floats, min_size=1, max_size=4),
    scale=positive,
    x=floats,
    seed=st.integers(0, 2**32 - 1),
)
def test_location_scale_families(loc: list, scale: float, x: float, seed: int) -> None:
    loc_a = np.array(loc, np.float32)
    for name in ("Normal", "Laplace", "Cauchy", "Gumbel", "LogNormal", "StudentT"):

        def fn(lib: Any, m: Any, name: str = name) -> Any:
            d = lib.distributions
            dist = d.StudentT(scale + 1, m, scale) if name == "StudentT" else getattr(d, name)(m, scale)
            v = lib.full_like(m, abs(x) + 0.1 if name == "LogNormal" else x)
            lib.manual_seed(seed)
            return dist.log_prob(v), dist.sample((2,))

        check(fn, loc_a, atol=1e-4, rtol=1e-4, grad_atol=1e-3, grad_rtol=1e-3)


@SETTINGS
@given(
    probs=st.lists(st.floats(0.015625, 1, width=32), min_size=2, max_size=5),
    batch=st.integers(1, 3),
    n=st.integers(1, 6),
    seed=st.integers(0, 2**32 - 1),
)
def test_discrete_families(probs: list, batch: int, n: int, seed: int) -> None:
    p = np.tile(np.array(probs, np.float32), (batch, 1))

    def fn(lib: Any, pr: Any) -> Any:
        d = lib.distributions
        lib.manual_seed(seed)
        cat = d.Categorical(pr)
        a = cat.sample((n,))
        b = d.Bernoulli(pr / pr.sum(-1, keepdim=True))
        s = b.sample()
        bi = d.Binomial(n, probs=pr / pr.sum(-1, keepdim=True))
        k = bi.sample()
        return a, cat.log_prob(a), cat.entropy(), s, b.log_prob(s), k, bi.log_prob(k), d.Poisson(pr * 20).sample()

    check(fn, p, atol=1e-5, rtol=1e-5)


@SETTINGS
@given(alpha=st.lists(st.floats(0.015625, 30, width=32), min_size=1, max_size=4), seed=st.integers(0, 2**32 - 1))
def test_gamma_family_samples(alpha: list, seed: int) -> None:
    a = np.array(alpha, np.float32)

    def fn(lib: Any, c: Any) -> Any:
        d = lib.distributions
        lib.manual_seed(seed)
        return d.Gamma(c, 1.5).sample((3,)), d.Dirichlet(c.expand(2, -1)).sample(), d.Chi2(c).sample()

    out = [np.concatenate([t.reshape(-1).cpu().numpy() for t in fn(lib, lib.tensor(a))]) for lib in (torch, engine)]
    np.testing.assert_array_equal(out[1], out[0])
    check(lambda lib, c: lib.distributions.Beta(c, c + 1).log_prob(lib.full_like(c, 0.3)), a, atol=1e-4, rtol=1e-4)


def test_constraint_reprs() -> None:
    def fn(lib: Any) -> Any:
        c = lib.distributions.constraints
        return [repr(x) for x in (
            c.real, c.positive, c.nonnegative, c.unit_interval, c.simplex, c.real_vector, c.boolean, c.one_hot,
            c.positive_definite, c.lower_cholesky, c.corr_cholesky, c.nonnegative_integer, c.positive_integer,
            c.integer_interval(0, 3), c.interval(-1.0, 2.0), c.half_open_interval(0.0, 1.0), c.greater_than(2.0),
            c.less_than(1.5), c.greater_than_eq(0), c.independent(c.positive, 2), c.cat([c.real, c.positive]),
            c.stack([c.real, c.positive], 1), c.dependent, c.multinomial(3), c.square, c.symmetric,
            c.positive_semidefinite, c.lower_triangular, c.MixtureSameFamilyConstraint(c.real),
        )] + [c.is_dependent(c.dependent), c.simplex.event_dim, c.boolean.is_discrete]  # fmt: skip

    same(fn)


def test_constraint_checks() -> None:
    def fn(lib: Any, x: Any) -> Any:
        c = lib.distributions.constraints
        m = x.reshape(2, 2)
        return [
            k.check(v)
            for k, v in (
                (c.positive, x), (c.unit_interval, x), (c.simplex, x.abs() / x.abs().sum()), (c.real_vector, x),
                (c.integer_interval(0, 2), x.round()), (c.lower_cholesky, m.tril()), (c.positive_definite, m @ m.mT),
                (c.symmetric, m), (c.corr_cholesky, m), (c.cat([c.real, c.positive], 0, [1, 3]), x),
                (c.stack([c.real, c.positive], 0), m),
            )
        ]  # fmt: skip

    same(fn, np.array([0.5, -1.0, 2.0, 0.25], np.float32))


SCALAR_PARAMETERS = [
    lambda D, T: D.Exponential(2.0),
    lambda D, T: D.Laplace(0.0, 1.0),
    lambda D, T: D.Cauchy(0.0, 1.0),
    lambda D, T: D.Geometric(0.3),
    lambda D, T: D.Poisson(3.0),
    lambda D, T: D.Gamma(2.0, 1.0),
    lambda D, T: D.Uniform(0.0, 1.0),
    lambda D, T: D.Bernoulli(0.3),
    lambda D, T: D.Beta(2.0, 3.0),
    lambda D, T: D.StudentT(3.0),
    lambda D, T: D.LogNormal(0.0, 1.0),
    lambda D, T: D.HalfNormal(1.0),
    lambda D, T: D.Gumbel(0.0, 1.0),
    lambda D, T: D.Weibull(1.0, 2.0),
    lambda D, T: D.Pareto(1.0, 2.0),
    lambda D, T: D.Binomial(10, T.tensor(0.3)),
    lambda D, T: D.NegativeBinomial(3.0, T.tensor(0.4)),
    lambda D, T: D.VonMises(0.0, 1.0),
    lambda D, T: D.Chi2(3.0),
    lambda D, T: D.FisherSnedecor(3.0, 5.0),
    lambda D, T: D.Kumaraswamy(2.0, 3.0),
    lambda D, T: D.ContinuousBernoulli(0.3),
    lambda D, T: D.RelaxedBernoulli(T.tensor(0.5), 0.3),
    lambda D, T: D.GeneralizedPareto(0.0, 1.0, 0.2),
    lambda D, T: D.InverseGamma(3.0, 2.0),
    lambda D, T: D.HalfCauchy(1.0),
]


@pytest.mark.parametrize("i", range(len(SCALAR_PARAMETERS)))
def test_number_parameters(i: int) -> None:
    """Numbers as parameters: 0-dim tensors of the default dtype, an empty batch shape, torch's repr."""

    def fn(lib: Any) -> Any:
        d = SCALAR_PARAMETERS[i](lib.distributions, lib)
        lib.manual_seed(0)
        s = d.sample()
        return [repr(d), s, d.sample((2,)), d.log_prob(s), d.batch_shape]

    same(fn)
