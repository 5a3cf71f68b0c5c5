"""torch.distributions on the engine: distributions with torch's parameters, validation, reprs and sampling
(the same random numbers as torch's under torch.manual_seed: each draws through the primitives torch's own
source calls, in its order), with log_prob, entropy, cdf and the rest built from engine ops, so gradients
flow through rsample and log_prob; transforms, TransformedDistribution and kl_divergence with torch's
registered pairs."""

from __future__ import annotations

from engine.distributions import constraints, transforms  # noqa: F401  (torch.distributions.constraints)
from engine.distributions.bernoulli import Bernoulli
from engine.distributions.beta import Beta
from engine.distributions.binomial import Binomial
from engine.distributions.categorical import Categorical
from engine.distributions.cauchy import Cauchy
from engine.distributions.chi2 import Chi2
from engine.distributions.constraint_registry import biject_to, transform_to
from engine.distributions.continuous_bernoulli import ContinuousBernoulli
from engine.distributions.dirichlet import Dirichlet
from engine.distributions.distribution import Distribution
from engine.distributions.exp_family import ExponentialFamily
from engine.distributions.exponential import Exponential
from engine.distributions.fishersnedecor import FisherSnedecor
from engine.distributions.gamma import Gamma
from engine.distributions.generalized_pareto import GeneralizedPareto
from engine.distributions.geometric import Geometric
from engine.distributions.gumbel import Gumbel
from engine.distributions.half_cauchy import HalfCauchy
from engine.distributions.half_normal import HalfNormal
from engine.distributions.independent import Independent
from engine.distributions.inverse_gamma import InverseGamma
from engine.distributions.kl import kl_divergence, register_kl
from engine.distributions.kumaraswamy import Kumaraswamy
from engine.distributions.laplace import Laplace
from engine.distributions.lkj_cholesky import LKJCholesky
from engine.distributions.log_normal import LogNormal
from engine.distributions.logistic_normal import LogisticNormal
from engine.distributions.lowrank_multivariate_normal import LowRankMultivariateNormal
from engine.distributions.mixture_same_family import MixtureSameFamily
from engine.distributions.multinomial import Multinomial
from engine.distributions.multivariate_normal import MultivariateNormal
from engine.distributions.negative_binomial import NegativeBinomial
from engine.distributions.normal import Normal
from engine.distributions.one_hot_categorical import OneHotCategorical, OneHotCategoricalStraightThrough
from engine.distributions.pareto import Pareto
from engine.distributions.poisson import Poisson
from engine.distributions.relaxed_bernoulli import RelaxedBernoulli
from engine.distributions.relaxed_categorical import RelaxedOneHotCategorical
from engine.distributions.student_t import StudentT
from engine.distributions.transformed_distribution import TransformedDistribution
from engine.distributions.transforms import *  # noqa: F403
from engine.distributions.uniform import Uniform
from engine.distributions.von_mises import VonMises
from engine.distributions.weibull import Weibull
from engine.distributions.wishart import Wishart

__all__ = [
    "Beta",
    "Chi2",
    "Dirichlet",
    "FisherSnedecor",
    "Gamma",
    "InverseGamma",
    "LKJCholesky",
    "NegativeBinomial",
    "StudentT",
    "Wishart",
    "Bernoulli",
    "Binomial",
    "Categorical",
    "Cauchy",
    "ContinuousBernoulli",
    "Distribution",
    "Exponential",
    "ExponentialFamily",
    "GeneralizedPareto",
    "Geometric",
    "Gumbel",
    "HalfCauchy",
    "HalfNormal",
    "Independent",
    "Kumaraswamy",
    "Laplace",
    "LogNormal",
    "LogisticNormal",
    "LowRankMultivariateNormal",
    "MixtureSameFamily",
    "Multinomial",
    "MultivariateNormal",
    "Normal",
    "OneHotCategorical",
    "OneHotCategoricalStraightThrough",
    "Pareto",
    "RelaxedBernoulli",
    "RelaxedOneHotCategorical",
    "Poisson",
    "Uniform",
    "VonMises",
    "Weibull",
    "TransformedDistribution",
    "biject_to",
    "kl_divergence",
    "register_kl",
    "transform_to",
]
__all__.extend(transforms.__all__)


def __getattr__(name: str) -> object:
    from engine.not_covered import not_covered

    raise not_covered("torch.distributions", name)


def _restore_defaults() -> None:
    """The process-wide state programs can change, back to its start: argument validation on, and the KL and
    constraint registries without what programs registered."""
    from engine.distributions.constraint_registry import restore_registries
    from engine.distributions.kl import restore_registry

    Distribution.set_default_validate_args(True)
    restore_registry()
    restore_registries()
