"""The reparameterised gradients of torch's Gamma and Dirichlet samples (ATen's Distributions.h:
standard_gamma_grad_one, dirichlet_grad_one and the digamma they use), per element on the host: d x / d alpha
of a sample x of Gamma(alpha) or of a Dirichlet's Beta marginal, from series, saddle-point and rational
approximations. Arithmetic runs in double where the C++ does and in the tensor's scalar type (float32 for
float tensors) where it does; the C library's float functions are taken as their double results rounded."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

_F32 = np.float32
_PSI_10 = 2.25175258906672110764
_DIGAMMA_A = (8.33333333333333333333e-2, -2.10927960927960927961e-2, 7.57575757575757575758e-3,
              -4.16666666666666666667e-3, 3.96825396825396825397e-3, -8.33333333333333333333e-3,
              8.33333333333333333333e-2)  # fmt: skip


_D = np.float64
_log, _pow, _exp, _sqrt = np.log, np.power, np.exp, np.sqrt  # (on float64 scalars: C's inf and nan, no raising)


def _f(v: float) -> float:
    """A C float literal (0.9f) as the double it promotes to."""
    return float(_F32(v))


def _polevl(x: float, coef: tuple[float, ...]) -> float:
    result = 0.0
    for c in coef:
        result = result * x + c
    return result


def digamma_one(x: Any, st: type = float) -> Any:
    """Cephes' digamma as ATen's digamma_one<st, double>: x and the steps on it in st, the sum in double."""
    x = st(x)
    if x == 0:
        return st(math.inf)
    additional = 0.0
    if x < 0:
        if x == math.floor(x):
            return st(math.inf)
        additional = float(-st(math.pi) / st(math.tan(float(st(math.pi) * x))))
        x = st(1 - x)
    result = 0.0
    while x < 10:
        result -= float(st(1) / x)
        x = st(x + 1)
    if x == 10:
        return st(result + _PSI_10 + additional)
    y = 0.0
    if float(x) < _f(1.0e17):
        z = 1.0 / float(x * x)
        y = z * _polevl(z, _DIGAMMA_A)
    return st(result + float(st(math.log(float(x)))) - float(st(0.5) / x) - y + additional)


_COEF_UV = (
    (0.16009398, -0.094634809, 0.025146376, -0.0030648343, 1, 0.32668115, 0.10406089, 0.0014179084),
    (0.53487893, 0.1298071, 0.065735949, -0.0015649758, 0.16639465, 0.020070113, -0.0035938915, -0.00058392623),
    (0.040121004, -0.0065914022, -0.0026286047, -0.0013441777, 0.017050642, -0.0021309326, 0.00085092367,
     -1.5247877e-07),
)  # fmt: skip


def standard_gamma_grad_one(alpha: float, x: float) -> float:
    """-(d/d alpha cdf(x; alpha)) / pdf(x; alpha) for a sample x of Gamma(alpha, 1), in double."""
    x, alpha = _D(x), _D(alpha)
    if x < _f(0.8):  # Taylor series for small x
        numer = 1.0
        denom = alpha
        series1 = numer / denom
        series2 = numer / (denom * denom)
        for i in range(1, 6):
            numer *= -x / i
            denom += 1
            series1 += numer / denom
            series2 += numer / (denom * denom)
        pow_x_alpha = _pow(x, alpha)
        gamma_pdf = _pow(x, alpha - 1) * _exp(-x)
        gamma_cdf = pow_x_alpha * series1
        gamma_cdf_alpha = (_log(x) - digamma_one(float(alpha))) * gamma_cdf - pow_x_alpha * series2
        result = -gamma_cdf_alpha / gamma_pdf
        return 0.0 if math.isnan(result) else float(result)
    if alpha > _f(8.0):  # Rice saddle point expansion for large alpha
        if _f(0.9) * alpha <= x <= _f(1.1) * alpha:
            numer_1 = 1 + 24 * alpha * (1 + 12 * alpha)
            numer_2 = 1440 * (alpha * alpha) + 6 * x * (53 - 120 * x) - 65 * x * x / alpha + alpha * (107 + 3600 * x)
            denom = 1244160 * (alpha * alpha) * (alpha * alpha)
            return float(numer_1 * numer_2 / denom)
        denom = _sqrt(8 * alpha)
        term2 = denom / (alpha - x)
        term3 = _pow(x - alpha - alpha * _log(x / alpha), -1.5)
        term23 = term2 - term3 if x < alpha else term2 + term3
        term1 = _log(x / alpha) * term23 - _sqrt(2 / alpha) * (alpha + x) / ((alpha - x) * (alpha - x))
        stirling = 1 + 1 / (12 * alpha) * (1 + 1 / (24 * alpha))
        numer = x * term1
        return float(-stirling * numer / denom)
    # a bivariate rational approximation
    u = _log(x / alpha)
    v = _log(alpha)
    coef_v = [_COEF_UV[0][i] + u * (_COEF_UV[1][i] + u * _COEF_UV[2][i]) for i in range(8)]
    p = coef_v[0] + v * (coef_v[1] + v * (coef_v[2] + v * coef_v[3]))
    q = coef_v[4] + v * (coef_v[5] + v * (coef_v[6] + v * coef_v[7]))
    return float(_exp(p / q))


def standard_gamma_grad(alpha: np.ndarray, x: np.ndarray) -> np.ndarray:
    """torch._standard_gamma_grad over broadcast arrays, rounded to their dtype."""
    a, v = np.broadcast_arrays(alpha, x)
    out = [standard_gamma_grad_one(float(ai), float(xi)) for ai, xi in zip(a.reshape(-1), v.reshape(-1))]
    return np.array(out, dtype=np.float64).astype(alpha.dtype).reshape(a.shape)


# ---- Dirichlet -------------------------------------------------------------------------------------------------
def _beta_grad_alpha_small(x: Any, alpha: Any, beta: Any, st: type) -> Any:
    """d x / d alpha of a Beta(alpha, beta) sample near 0 (Taylor), in st."""
    one = st(1)
    factor = st(digamma_one(alpha, st) - digamma_one(st(alpha + beta), st) - st(math.log(float(x))))
    numer = one
    series = st(numer / alpha * (factor + one / alpha))
    for i in range(1, 11):
        ci = st(i)
        numer = st(numer * ((ci - beta) * x / ci))
        denom = st(alpha + ci)
        series = st(series + numer / denom * (factor + one / denom))
    result = st(x * st(math.pow(float(one - x), float(-beta))) * series)
    return st(0) if math.isnan(result) else result


def _beta_grad_beta_small(x: Any, alpha: Any, beta: Any, st: type) -> Any:
    """d x / d beta of a Beta(alpha, beta) sample near 0 (Taylor), in st."""
    factor = st(digamma_one(st(alpha + beta), st) - digamma_one(beta, st))
    numer, betas, dbetas, series = st(1), st(1), st(0), st(factor / alpha)
    for i in range(1, 9):
        ci = st(i)
        numer = st(numer * (-x / ci))
        dbetas = st(dbetas * (beta - ci) + betas)
        betas = st(betas * (beta - ci))
        series = st(series + numer / (alpha + ci) * (dbetas + factor * betas))
    result = st(-st(math.pow(float(st(1) - x), float(st(1) - beta))) * series)
    return st(0) if math.isnan(result) else result


def _beta_grad_alpha_mid(x: float, alpha: float, beta: float) -> float:
    """d x / d alpha of a Beta sample for large alpha and beta (Rice saddle point), in double."""
    total = alpha + beta
    mean = alpha / total
    std = math.sqrt(alpha * beta / (total + 1)) / total
    if mean - 0.1 * std <= x <= mean + 0.1 * std:  # (off the singularity at the mean)
        inner = (453 + 1620 * beta * (1 - x) - 455 * x) * beta + alpha * (8 * (1 - x) * (135 * beta - 11))
        poly = 47 * x * (beta * beta) * (beta * beta) + alpha * (
            (43 + 20 * (16 + 27 * beta) * x) * (beta * beta) * beta
            + alpha * (3 * (59 + 180 * beta - 90 * x) * (beta * beta) + alpha * inner)
        )
        prefactor_num = (1 + 12 * alpha) * (1 + 12 * beta) / (total * total)
        prefactor_den = 12960 * alpha * alpha * alpha * beta * beta * (1 + 12 * total)
        return prefactor_num / (1 - x) * poly / prefactor_den
    prefactor = -x / math.sqrt(2 * alpha * beta / total)
    stirling = (
        (1 + 1 / (12 * alpha) + 1 / (288 * alpha * alpha))
        * (1 + 1 / (12 * beta) + 1 / (288 * beta * beta))
        / (1 + 1 / (12 * total) + 1 / (288 * total * total))
    )
    term1_num = 2 * (alpha * alpha) * (x - 1) + alpha * beta * (x - 1) - x * (beta * beta)
    axbx = alpha * (x - 1) + beta * x
    term1_den = math.sqrt(2 * alpha / beta) * math.pow(total, _f(1.5)) * axbx * axbx
    term1 = term1_num / term1_den
    term2 = _f(0.5) * math.log(alpha / (total * x))
    term3_num = math.sqrt(8 * alpha * beta / total)
    term3_den = beta * x + alpha * (x - 1)
    term3 = term3_num / term3_den
    term4_base = beta * math.log(beta / (total * (1 - x))) + alpha * math.log(alpha / (total * x))
    term4 = math.pow(term4_base, _f(-1.5))
    term1234 = term1 + term2 * (term3 + (term4 if x < mean else -term4))
    return stirling * prefactor * term1234


_DIRICHLET_C = (
    (((1.003668233, -0.01061107488, -0.0657888334, 0.01201642863),
      (0.6336835991, -0.3557432599, 0.05486251648, -0.001465281033),
      (-0.03276231906, 0.004474107445, 0.002429354597, -0.0001557569013)),
     ((0.221950385, -0.3187676331, 0.01799915743, 0.01074823814),
      (-0.2951249643, 0.06219954479, 0.01535556598, 0.001550077057),
      (0.02155310298, 0.004170831599, 0.001292462449, 6.976601077e-05)),
     ((-0.05980841433, 0.008441916499, 0.01085618172, 0.002319392565),
      (0.02911413504, 0.01400243777, -0.002721828457, 0.000751041181),
      (0.005900514878, -0.001936558688, -9.495446725e-06, 5.385558597e-05))),
    (((1, -0.02924021934, -0.04438342661, 0.007285809825),
      (0.6357567472, -0.3473456711, 0.05454656494, -0.002407477521),
      (-0.03301322327, 0.004845219414, 0.00231480583, -0.0002307248149)),
     ((0.5925320577, -0.1757678135, 0.01505928619, 0.000564515273),
      (0.1014815858, -0.06589186703, 0.01272886114, -0.0007316646956),
      (-0.007258481865, 0.001096195486, 0.0003934994223, -4.12701925e-05)),
     ((0.06469649321, -0.0236701437, 0.002902096474, -5.896963079e-05),
      (0.001925008108, -0.002869809258, 0.0008000589141, -6.063713228e-05),
      (-0.0003477407336, 6.959756487e-05, 1.097287507e-05, -1.650964693e-06))),
)  # fmt: skip


def dirichlet_grad_one(x: Any, alpha: Any, total: Any, st: type) -> Any:
    """The scaled reparameterised gradient -(d/d alpha cdf(x; alpha, beta)) / pdf(x; alpha, beta) / (1 - x) of a
    Beta(alpha, total - alpha) sample x (the Dirichlet's marginals), in st where ATen computes in scalar_t."""
    x_, alpha_, total_ = float(x), float(alpha), float(total)
    beta = st(total - alpha)
    beta_ = total_ - alpha_
    boundary = st(total * x * (1 - x))
    if x <= 0.5 and boundary < 2.5:  # x near 0
        return _beta_grad_alpha_small(x, alpha, beta, st)
    if x >= 0.5 and boundary < 0.75:  # x near 1
        return st(-_beta_grad_beta_small(st(1 - x), beta, alpha, st))
    if alpha > 6 and beta > 6:
        return st(_beta_grad_alpha_mid(x_, alpha_, beta_))
    # a rational correction to an analytic approximation
    u = math.log(x_)
    a = math.log(alpha_) - u
    b = math.log(total_) - a
    pow_u = (1.0, u, u * u)
    pow_a = (1.0, a, a * a)
    p = 0.0
    q = 0.0
    c = _DIRICHLET_C
    for i in range(3):
        for j in range(3):
            ua = pow_u[i] * pow_a[j]
            p += ua * (c[0][i][j][0] + b * (c[0][i][j][1] + b * (c[0][i][j][2] + b * c[0][i][j][3])))
            q += ua * (c[1][i][j][0] + b * (c[1][i][j][1] + b * (c[1][i][j][2] + b * c[1][i][j][3])))
    # (digamma_one<scalar_t> takes its double argument as a scalar_t, and the difference stays one)
    approx = x_ * float(st(digamma_one(st(total_), st) - digamma_one(st(alpha_), st))) / beta_
    return st(p / q * approx)


def dirichlet_grad(x: np.ndarray, alpha: np.ndarray, total: np.ndarray) -> np.ndarray:
    """torch._dirichlet_grad over broadcast arrays of one float dtype."""
    st = x.dtype.type
    xs, al, to = np.broadcast_arrays(x, alpha, total)
    out = [
        dirichlet_grad_one(st(a), st(b), st(c), st) for a, b, c in zip(xs.reshape(-1), al.reshape(-1), to.reshape(-1))
    ]
    return np.array(out, dtype=x.dtype).reshape(xs.shape)
