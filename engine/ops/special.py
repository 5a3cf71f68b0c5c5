"""torch's special functions: erfc, erfinv, lgamma, digamma, polygamma, mvlgamma, logit, the modified Bessel
functions i0/i0e/i1/i1e, ndtr/ndtri/log_ndtr, erfcx, entr, xlog1py, and the torch.special namespace (aliases of
these and of existing engine functions). Each records the node torch records, with torch's backward formula
written in engine ops (so second derivatives work).

There is no scipy: the kernels are vectorised ports of the algorithms torch's cpu kernels use (aten's Math.h:
the Cephes digamma/trigamma/zeta/i0/i1/ndtri, the erfinv rational approximation with two Newton steps), written
against the array module of the input (numpy or cupy) so they run on either device. Most compute in float64 and
round once to the input's dtype (torch's float32 kernels compute in float, so float32 results can differ from
torch's in the last bits); trigamma, logit and entr compute in the input's own precision, as torch's do, where
that decides the value (near trigamma's poles). lgamma and erfc use the C library's (Python's math module) on the
host, as torch's cpu kernels call std::lgamma/std::erfc; on a device they use cupyx.scipy.special where cupy has
it, else they compute on the host and move the result back (the cupy emulator the tests use has no gammaln/erfc)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from engine.backend import host
from engine.bf16 import round_bits
from engine.grad_mode import ENABLED
from engine.naming import type_name
from engine.ops import elementwise as E
from engine.ops import elementwise_more as EM
from engine.ops import inplace as P
from engine.ops import mkl, sleef, sleef_more
from engine.ops import reduce as R
from engine.ops.cpu_loops import dense_copy, kernel_vec, map_flat, reduced_blocks
from engine.ops.elementwise import binary, div_scalar, mul_scalar, where
from engine.ops.fma import fma
from engine.ops.libm import c_elementwise, c_math, c_pow
from engine.ops.util import node_class, record, result_np
from engine.ops.util import saved as saved_vers
from engine.tensor import Tensor, wrap

_F64 = np.float64
_F32 = np.dtype(np.float32)
_SQRT_PI = math.sqrt(math.pi)
_SQRT_2PI = math.sqrt(2 * math.pi)


# ---- array helpers ------------------------------------------------------------------------------------------
def _is_host(a: Any) -> bool:
    return isinstance(a, (np.ndarray, np.generic))


def _xp(a: Any) -> Any:
    """numpy for a host array, cupy (or the tests' emulator of it) for a device array."""
    if _is_host(a):
        return np
    try:
        import cupy
    except ImportError:  # not a device array: a sparse tensor's stand-in refuses here (engine/sparse_tensor.py)
        a.__cuda_array_interface__  # noqa: B018
        raise
    return cupy


def _pymap(f: Any, a: np.ndarray) -> np.ndarray:
    """A Python float function over a float64 host array (a list map: far cheaper than np.vectorize)."""
    return map_flat(lambda x: np.fromiter(map(f, x.tolist()), dtype=_F64, count=x.size), a)


def _device_fn(name: str) -> Any:
    try:
        from cupyx.scipy import special as cs
    except ImportError:
        return None
    return getattr(cs, name, None)


def _libm(cupy_name: str, pyfn: Any, inf_gives: float | None = None) -> Any:
    """A kernel from a C-library function: mapped over the host array (as torch's cpu kernel calls it), cupy's
    kernel on a device, or, where cupy has none, computed on the host and moved back. inf_gives: the value the
    C library gives at +-inf, where cupy's kernel does otherwise (its gammaln(-inf) is -inf, std::lgamma's +inf)."""

    def kernel(a: Any) -> Any:
        if _is_host(a):
            return _pymap(pyfn, a.astype(_F64) if 0 not in a.strides else dense_copy(a, _F64)).astype(a.dtype)
        dev = _device_fn(cupy_name)
        if dev is not None:
            r = dev(a.astype(_F64))
            if inf_gives is not None:
                r = _xp(a).where(_xp(a).isinf(a), inf_gives, r)
            return r.astype(a.dtype)
        return _xp(a).asarray(_pymap(pyfn, host(a).astype(_F64))).astype(a.dtype)

    return kernel


def _in_f64(core: Any) -> Any:
    """A float64 kernel core(x, xp) applied to an array of any float dtype, rounded once to that dtype."""

    def kernel(a: Any) -> Any:
        xp = _xp(a)
        if xp is np and 0 in a.strides and a.size > 1:  # expanded: cast in torch's layout, not numpy's K order
            r = core(dense_copy(a, _F64), xp)
        else:
            r = core(xp.asarray(a, dtype=_F64), xp)
        return xp.asarray(r).astype(a.dtype)

    return kernel


def _polevl(x: Any, coef: tuple) -> Any:
    """coef[0] x^n + ... + coef[n] by Horner's rule (Cephes' polevl)."""
    r = _xp(x).full_like(x, coef[0])  # (not x * 0 + c: an infinite x would make it nan)
    for c in coef[1:]:
        r = r * x + c
    return r


def _chbevl(x: Any, coef: tuple) -> Any:
    """The Chebyshev series of Cephes' chbevl (coefficients highest order first)."""
    xp = _xp(x)
    b0 = xp.full_like(x, coef[0])
    b1 = xp.zeros_like(x)
    b2 = b1
    for c in coef[1:]:
        b2 = b1
        b1 = b0
        b0 = x * b1 - b2 + c
    return 0.5 * (b0 - b2)


# ---- erfc / erfinv --------------------------------------------------------------------------------------------
def _erfc_py(v: float) -> float:
    return math.erfc(v)


_erfc = _libm("erfc", _erfc_py)

_ERFINV_A = (0.886226899, -1.645349621, 0.914624893, -0.140543331)
_ERFINV_B = (-2.118377725, 1.442710462, -0.329097515, 0.012229801)
_ERFINV_C = (-1.970840454, -1.624906493, 3.429567803, 1.641345311)
_ERFINV_D = (3.543889200, 1.637067800)


def _erfinv_core(y: Any, xp: Any) -> Any:
    # torch's calc_erfinv: a rational approximation (central range |y| <= 0.7, tail beyond), then two Newton
    # steps on erf(x) = y
    ay = xp.abs(y)
    z = y * y
    a, b = _ERFINV_A, _ERFINV_B
    num = ((a[3] * z + a[2]) * z + a[1]) * z + a[0]
    dem = (((b[3] * z + b[2]) * z + b[1]) * z + b[0]) * z + 1.0
    central = y * num / dem
    c, d = _ERFINV_C, _ERFINV_D
    zt = xp.sqrt(-xp.log((1.0 - xp.minimum(ay, 1.0)) / 2.0))
    num_t = ((c[3] * zt + c[2]) * zt + c[1]) * zt + c[0]
    dem_t = (d[1] * zt + d[0]) * zt + 1.0
    tail = xp.copysign(num_t, y) / dem_t
    x = xp.where(ay <= 0.7, central, tail)
    k = 2.0 / _SQRT_PI
    for _ in range(2):
        x = x - (E._erf(x) - y) / (k * xp.exp(-x * x))
    x = xp.where(ay == 1.0, xp.copysign(xp.asarray(math.inf), y), x)
    return xp.where(ay > 1.0, math.nan, x)


_erfinv64 = _in_f64(_erfinv_core)
_ONE32 = np.ones(1, np.float32)
_ERFINV_F32 = tuple(tuple(np.float32(c) for c in k) for k in (_ERFINV_A, _ERFINV_B, _ERFINV_C, _ERFINV_D))


def _erfinv(a: Any) -> Any:
    if a.dtype == np.float16 and type(a) is np.ndarray and sleef_more.usable(_ONE32):
        return _erfinv_f32(a.astype(np.float32).reshape(-1)).astype(np.float16).reshape(a.shape)
    return _erfinv64(a)


def _erfinv_f32(y: np.ndarray) -> np.ndarray:
    """torch's calc_erfinv in float (its Half kernel maps the float function over the values), with the C
    library's logf, erff and expf (exact mode)."""
    f = np.float32
    a, b, c, d = _ERFINV_F32
    with np.errstate(all="ignore"):
        ay = np.abs(y)
        z = y * y
        num = ((a[3] * z + a[2]) * z + a[1]) * z + a[0]
        dem = (((b[3] * z + b[2]) * z + b[1]) * z + b[0]) * z + f(1)
        central = y * num / dem
        zt = np.sqrt(-c_math("log", (f(1) - np.minimum(ay, f(1))) / f(2)))
        num_t = ((c[3] * zt + c[2]) * zt + c[1]) * zt + c[0]
        dem_t = (d[1] * zt + d[0]) * zt + f(1)
        x = np.where(ay <= f(0.7), central, np.copysign(num_t, y) / dem_t)
        k = f(2.0) / f(math.sqrt(math.pi))
        for _ in range(2):
            erf = c_elementwise("erf", x)
            if erf is None:
                return _erfinv64(y)
            x = x - (erf - y) / (k * c_math("exp", -x * x))
        x = np.where(ay == f(1), np.copysign(f(np.inf), y), x)
        return np.where(ay > f(1), f(np.nan), x)


# ---- lgamma / digamma / trigamma / polygamma -----------------------------------------------------------------
def _lgamma_py(v: float) -> float:
    try:
        return math.lgamma(v)
    except (ValueError, OverflowError):  # the poles (0, -1, -2, ...) and overflow: +inf, as std::lgamma
        return math.inf


_lgamma_c = _libm("gammaln", _lgamma_py, inf_gives=math.inf)


def _lgamma(a: Any) -> Any:
    """torch's lgamma kernel (vml::vlgamma, a vec::map: SLEEF's lgamma on every element) in exact mode,
    std::lgamma per element otherwise."""
    if sleef_more.usable(a):
        return map_flat(sleef_more.lgamma, a)  # (the result in TensorIterator's layout)
    return _lgamma_c(a)


_PSI_10 = 2.25175258906672110764
_DIGAMMA_A = (
    8.33333333333333333333e-2,
    -2.10927960927960927961e-2,
    7.57575757575757575758e-3,
    -4.16666666666666666667e-3,
    3.96825396825396825397e-3,
    -8.33333333333333333333e-3,
    8.33333333333333333333e-2,
)


def _digamma_core(x: Any, xp: Any) -> Any:
    # torch's calc_digamma (Cephes): reflection for negative x, the recurrence psi(x) = psi(x + 1) - 1/x up to
    # x >= 10, then the asymptotic series; exactly 10 at the end (integers 1..10) takes the tabulated psi(10)
    neg = x < 0
    frac = x - xp.trunc(x)  # modf's fractional part: tan(pi * frac) is more accurate than tan(pi * x)
    refl = math.pi / xp.tan(math.pi * frac)
    z = xp.where(neg, 1.0 - x, x)
    res = xp.zeros_like(x)
    for _ in range(10):  # z > 0 here, so ten steps reach 10
        step = z < 10
        res = res - xp.where(step, 1.0 / z, 0.0)
        z = xp.where(step, z + 1.0, z)
    zz = 1.0 / (z * z)
    y = xp.where(z < 1e17, zz * _polevl(zz, _DIGAMMA_A), 0.0)
    val = xp.where(z == 10, res + _PSI_10, res + xp.log(z) - 0.5 / z - y)
    val = xp.where(neg, val - refl, val)
    val = xp.where(neg & (x == xp.trunc(x)), math.nan, val)  # the poles at negative integers
    return xp.where(x == 0, xp.copysign(xp.asarray(math.inf), -x), val)  # +-0: -+inf


_digamma_f64 = _in_f64(_digamma_core)


def _digamma_c(a: np.ndarray) -> np.ndarray:
    """torch's calc_digamma on every element (its cpu kernel is a plain cpu_kernel) of a float32/float64 numpy
    array, in the array's dtype as torch computes it: the recurrence and the series rounded in that dtype,
    the C library's log (logf), the reflection's pi / tan(pi * frac(x)) in double, then rounded."""
    dt = a.dtype.type
    one = dt(1)
    x = np.ascontiguousarray(a).reshape(-1)
    with np.errstate(all="ignore"):
        neg = x < 0
        z = np.where(neg, one - x, x)  # digamma(1 - x) for the reflection
        res = np.zeros_like(z)
        step = z < 10
        while np.count_nonzero(step):  # (at most ten rounds: z > 0 here, or 0, nan)
            res = np.where(step, res - one / z, res)
            z = np.where(step, z + one, z)
            step = z < 10
        zz = one / (z * z)
        p = np.zeros_like(z)
        for c in _DIGAMMA_A:  # polevl from 0, each step an fma (GCC contracts it in torch's FMA builds)
            p = fma(p, zz, np.full_like(z, dt(c)))
        y = np.where(z < dt(1e17), zz * p, dt(0))
        val = np.where(z == 10, res + dt(_PSI_10), ((res + c_math("log", z)) - dt(0.5) / z) - y)
        if np.count_nonzero(neg):
            xd = x[neg].astype(_F64)
            frac = xd - np.trunc(xd)  # modf's fractional part
            refl = (math.pi / c_math("tan", math.pi * frac)).astype(a.dtype)
            val[neg] = val[neg] - refl
            val[neg & (x == np.trunc(x))] = np.nan  # the poles at negative integers (-inf too)
        zero = x == 0
        if np.count_nonzero(zero):
            val[zero] = np.copysign(dt(np.inf), -x[zero])
    return val.reshape(a.shape)


def _digamma(a: Any) -> Any:
    if a.dtype == np.float16 and type(a) is np.ndarray and sleef_more.usable(_ONE32):
        return map_flat(_digamma_c, a.astype(np.float32)).astype(np.float16)  # (Half: calc_digamma in float)
    if sleef_more.usable(a):  # exact mode: torch's kernel in the input's dtype, its result in TensorIterator's layout
        return map_flat(_digamma_c, a)
    return _digamma_f64(a)


def _trigamma_exact(x: np.ndarray) -> np.ndarray:
    """torch's trigamma (Math.h) on each element of a 1-d float32/float64 array, in its dtype: the C library's
    sin (sinf), the series' products fused into their sums as GCC contracts them."""
    ft = x.dtype.type
    one, pi = ft(1), ft(math.pi)
    with np.errstate(all="ignore"):
        low = x < ft(0.5)
        res = np.zeros_like(x)
        z = x
        if np.count_nonzero(low):
            s = c_math("sin", pi * x[low])
            res[low] = -((pi * pi) / (s * s))
            z = np.where(low, one - x, x)
        for _ in range(6):
            res = res + one / (z * z)
            z = z + one
        ixx = one / (z * z)
        p = fma(-ixx, np.full_like(x, one / ft(42)), np.full_like(x, one / ft(30)))
        p = fma(-ixx, p, np.full_like(x, one / ft(6)))
        p = fma(ixx, p, one + one / (ft(2) * z))
        res = res + p / z
        return np.where(low, -res, res)


def _trigamma(a: Any) -> Any:
    """torch's trigamma: reflection below 0.5, six recurrence steps, then four terms of the asymptotic series. Its
    float version computes in float (half too): near the poles sin(pi x) in float decides the value, so float32
    and float16 inputs are computed in float32 here, not in float64. Exact mode: _trigamma_exact."""
    if sleef_more.usable(a):
        return map_flat(_trigamma_exact, a)
    xp = _xp(a)
    ft = np.float64 if a.dtype == np.float64 else np.float32
    x = a.astype(ft)
    one, pi = ft(1), ft(math.pi)
    low = x < 0.5
    s = xp.sin(pi * x)
    res = xp.where(low, -(pi * pi) / (s * s), ft(0))
    z = xp.where(low, one - x, x)
    for _ in range(6):
        res = res + one / (z * z)
        z = z + one
    ixx = one / (z * z)
    res = res + (one + one / (ft(2) * z) + ixx * (ft(1 / 6) - ixx * (ft(1 / 30) - ixx * ft(1 / 42)))) / z
    return xp.asarray(xp.where(low, -res, res)).astype(a.dtype)


_MACHEP = 1.11022302462515654042e-16
_ZETA_A = (
    12.0,
    -720.0,
    30240.0,
    -1209600.0,
    47900160.0,
    -1.8924375803183791606e9,
    7.47242496e10,
    -2.950130727918164224e12,
    1.1646782814350067249e14,
    -4.5979787224074726105e15,
    1.8152105401943546773e17,
    -7.1661652561756670113e18,
)


def _zeta_tail(xs: float, s: Any, a: Any, b: Any, done: Any, xp: Any) -> Any:
    """Cephes zeta's Euler-Maclaurin tail after the direct sum stopped at a (last term b), for the elements not
    yet done; each stops where Cephes' loop would."""
    w = a
    s = xp.where(done, s, s + b * w / (xs - 1.0) - 0.5 * b)
    av, k = 1.0, 0.0
    for i in range(12):
        av *= xs + k
        b = b / w
        t = av * b / _ZETA_A[i]
        s = xp.where(done, s, s + t)
        done = done | (xp.abs(t / s) < _MACHEP)
        k += 1.0
        av *= xs + k
        b = b / w
        k += 1.0
    return s


def _zeta_core(xs: float, q: Any, xp: Any) -> Any:
    """The Hurwitz zeta function zeta(xs, q) for a number xs > 1 (Cephes' zeta, as torch's): a direct sum until
    the terms are past 9, then the Euler-Maclaurin tail. Each element stops where Cephes' loop would."""
    s = q ** (-xs)
    a = q * 1.0
    b = xp.zeros_like(q)
    done = xp.zeros(q.shape, dtype=bool)
    qmin = float(host(xp.min(xp.where(xp.isfinite(q), q, 9.0)))) if q.size else 9.0
    steps = max(9, int(math.ceil(9.0 - qmin)) + 1)  # Cephes: at least 9 terms, and on until a > 9
    for i in range(steps):
        go = ~done & ((i < 9) | (a <= 9.0))
        a = xp.where(go, a + 1.0, a)
        b = xp.where(go, a ** (-xs), b)
        s = xp.where(go, s + b, s)
        done = done | (go & (-_MACHEP * s < b) & (b < _MACHEP * s))
    s = _zeta_tail(xs, s, a, b, done, xp)
    pole = (q <= 0) & (q == xp.floor(q))
    return xp.where(pole, math.inf, s)


def _zeta_exact(xs: float, q: np.ndarray) -> np.ndarray:
    """torch's zeta(xs, q) (Math.h, Cephes) on each element of a 1-d float32/float64 array, in double as torch's
    cpu kernels accumulate (the first power, pow(q, -x) of the input's dtype, is powf for float32): the C
    library's pow (engine/ops/libm.py's c_pow), each element's direct sum running only while its own loop would
    (a far negative q runs long: the others are not carried along), then the Euler-Maclaurin tail; a float64
    result."""
    s = c_pow(q, np.full_like(q, -xs)).astype(_F64)
    q = q.astype(_F64)
    nx = np.full_like(q, -xs)
    pole = (q <= 0) & (q == np.floor(q))  # (torch returns inf there before its loops: -inf too)
    with np.errstate(all="ignore"):
        a = q.copy()
        b = np.zeros_like(q)
        conv = pole.copy()
        idx = np.flatnonzero(~pole)
        i = 0
        while idx.size:
            idx = idx[(i < 9) | (a[idx] <= 9.0)]
            if not idx.size:
                break
            i += 1
            a[idx] += 1.0
            bi = c_pow(a[idx], nx[idx])
            b[idx] = bi
            si = s[idx] + bi
            s[idx] = si
            stop = (-_MACHEP * si < bi) & (bi < _MACHEP * si)
            conv[idx[stop]] = True
            idx = idx[~stop]
        done = conv
        s = _zeta_tail(xs, s, a, b, done, np)
    return np.where(pole, math.inf, s)


def _polygamma_exact(n: int, a: np.ndarray) -> np.ndarray:
    """torch's calc_polygamma for n >= 2 on a float32/float64 array: (+-1) * exp(lgamma(n + 1)) * zeta(n + 1, x)
    in the input's dtype (expf(lgammaf(...)) for float32), zeta accumulated in double and rounded to it."""
    ft = a.dtype.type
    sign = ft(1.0 if n % 2 else -1.0)
    lg = c_elementwise("lgamma", np.array([n + 1.0], a.dtype))  # (the C library's: Python's math.lgamma is
    e = c_elementwise("exp", lg) if lg is not None else None  # its own, and differs in the last bit)
    gam = ft(math.exp(math.lgamma(n + 1.0))) if e is None else e[0]
    z = map_flat(lambda v: _zeta_exact(float(n + 1), v), a).astype(a.dtype)
    return (sign * gam) * z


def _polygamma_kernel(n: int) -> Any:
    if n == 0:
        return _digamma
    if n == 1:
        return _trigamma
    # torch's calc_polygamma: (-1)^(n+1) n! zeta(n + 1, x), n! as exp(lgamma(n + 1))
    factor = (1.0 if n % 2 else -1.0) * math.exp(math.lgamma(n + 1.0))
    fallback = _in_f64(lambda x, xp: factor * _zeta_core(float(n + 1), x, xp))

    def kernel(a: Any) -> Any:
        if sleef_more.usable(a):
            return _polygamma_exact(n, a)
        return fallback(a)

    return kernel


# ---- Bessel i0 / i0e / i1 / i1e ------------------------------------------------------------------------------
_I0_A = (
    -4.41534164647933937950e-18, 3.33079451882223809783e-17, -2.43127984654795469359e-16, 1.71539128555513303061e-15,
    -1.16853328779934516808e-14, 7.67618549860493561688e-14, -4.85644678311192946090e-13, 2.95505266312963983461e-12,
    -1.72682629144155570723e-11, 9.67580903537323691224e-11, -5.18979560163526290666e-10, 2.65982372468238665035e-9,
    -1.30002500998624804212e-8, 6.04699502254191894932e-8, -2.67079385394061173391e-7, 1.11738753912010371815e-6,
    -4.41673835845875056359e-6, 1.64484480707288970893e-5, -5.75419501008210370398e-5, 1.88502885095841655729e-4,
    -5.76375574538582365885e-4, 1.63947561694133579842e-3, -4.32430999505057594430e-3, 1.05464603945949983183e-2,
    -2.37374148058994688156e-2, 4.93052842396707084878e-2, -9.49010970480476444210e-2, 1.71620901522208775349e-1,
    -3.04682672343198398683e-1, 6.76795274409476084995e-1,
)  # fmt: skip
_I0_B = (
    -7.23318048787475395456e-18, -4.83050448594418207126e-18, 4.46562142029675999901e-17, 3.46122286769746109310e-17,
    -2.82762398051658348494e-16, -3.42548561967721913462e-16, 1.77256013305652638360e-15, 3.81168066935262242075e-15,
    -9.55484669882830764870e-15, -4.15056934728722208663e-14, 1.54008621752140982691e-14, 3.85277838274214270114e-13,
    7.18012445138366623367e-13, -1.79417853150680611778e-12, -1.32158118404477131188e-11, -3.14991652796324136454e-11,
    1.18891471078464383424e-11, 4.94060238822496958910e-10, 3.39623202570838634515e-9, 2.26666899049817806459e-8,
    2.04891858946906374183e-7, 2.89137052083475648297e-6, 6.88975834691682398426e-5, 3.36911647825569408990e-3,
    8.04490411014108831608e-1,
)  # fmt: skip
_I1_A = (
    2.77791411276104639959e-18, -2.11142121435816608115e-17, 1.55363195773620046921e-16, -1.10559694773538630805e-15,
    7.60068429473540693410e-15, -5.04218550472791168711e-14, 3.22379336594557470981e-13, -1.98397439776494371520e-12,
    1.17361862988909016308e-11, -6.66348972350202774223e-11, 3.62559028155211703701e-10, -1.88724975172282928790e-9,
    9.38153738649577178388e-9, -4.44505912879632808065e-8, 2.00329475355213526229e-7, -8.56872026469545474066e-7,
    3.47025130813767847674e-6, -1.32731636560394358279e-5, 4.78156510755005422638e-5, -1.61760815825896745588e-4,
    5.12285956168575772895e-4, -1.51357245063125314899e-3, 4.15642294431288815669e-3, -1.05640848946261981558e-2,
    2.47264490306265168283e-2, -5.29459812080949914269e-2, 1.02643658689847095384e-1, -1.76416518357834055153e-1,
    2.52587186443633654823e-1,
)  # fmt: skip
_I1_B = (
    7.51729631084210481353e-18, 4.41434832307170791151e-18, -4.65030536848935832153e-17, -3.20952592199342395980e-17,
    2.96262899764595013876e-16, 3.30820231092092828324e-16, -1.88035477551078244854e-15, -3.81440307243700780478e-15,
    1.04202769841288027642e-14, 4.27244001671195135429e-14, -2.10154184277266431302e-14, -4.08355111109219731823e-13,
    -7.19855177624590851209e-13, 2.03562854414708950722e-12, 1.41258074366137813316e-11, 3.25260358301548823856e-11,
    -1.89749581235054123450e-11, -5.58974346219658380687e-10, -3.83538038596423702205e-9, -2.63146884688951950684e-8,
    -2.51223623787020892529e-7, -3.88256480887769039346e-6, -1.10588938762623716291e-4, -9.76109749136146840777e-3,
    7.78576235018280120474e-1,
)  # fmt: skip


def _bessel_exact(x: np.ndarray, ca: tuple, cb: tuple, scaled: bool, odd: bool) -> np.ndarray:
    """calc_i0/i0e/i1/i1e (Math.h) on each element of a 1-d float32/float64 array, in its dtype (torch's kernels
    call them on every element: cpu_kernel, or vec::map over Vectorized<T>::i0, itself a map of calc_i0): chbevl
    over the series of [0, 8] (ca) or the one beyond (cb), the C library's exp (expf), a correctly rounded sqrt.

    chbevl runs b0 = y * b1 - b2 + c with the product fused into the subtraction, as GCC contracts it; where it
    unrolls the loop (it peels loops of up to 16 rounds: float32's i1/i1e series) the first round's
    y * c0 - 0.0 + c1 folds into one fma(y, c0, c1). Both series run in one loop over every element, the shorter
    one padded in front with zeros (which leaves its rounds as they were): half the numpy calls of two loops."""
    ft = x.dtype.type
    n = max(len(ca), len(cb))
    pa, pb = (0.0,) * (n - len(ca)) + ca, (0.0,) * (n - len(cb)) + cb
    fuse = (0, n - len(cb)) if odd and x.dtype == _F32 else ()  # (the rounds where the short series start)
    ax = np.abs(x)
    with np.errstate(all="ignore"):
        inside = ax <= ft(8)
        nan = np.isnan(x)
        y = np.where(inside, ax / ft(2) - ft(2), ft(32) / ax - ft(2))
        y[nan] = ft(0)
        all_in = bool(inside.all())
        mixed = bool(inside.any()) and not all_in

        def coef(i: int) -> Any:
            if mixed:
                return np.where(inside, ft(pa[i]), ft(pb[i]))
            return np.full_like(y, ft(pa[i] if all_in else pb[i]))

        b0 = coef(0)
        b1 = np.zeros_like(y)
        b2 = b1
        for i in range(1, n):
            b2, b1 = b1, b0
            c = coef(i)
            if i - 1 in fuse:  # (round 0 of the long series; the short one's first round, or its padding)
                fused = fma(y, b1, c)
                b0 = fma(y, b1, -b2)
                b0 += c
                if i - 1 == 0 and (not mixed or n == len(cb)):
                    b0 = fused
                else:
                    b0 = np.where(inside if i - 1 == 0 else ~inside, fused, b0)
            else:
                b0 = fma(y, b1, -b2)
                b0 += c
        r = ft(0.5) * (b0 - b2)
        if not scaled:
            e = c_math("exp", ax)
            r = np.where(inside, e * ax * r, e * r) if odd else e * r
        elif odd:
            r = np.where(inside, r * ax, r)
        r = np.where(inside, r, r / np.sqrt(ax))
        if np.count_nonzero(nan):
            r[nan] = x[nan]
    return np.where(x < ft(0), -r, r) if odd else r


def _bessel(a_coef: tuple, b_coef: tuple, scaled: bool, odd: bool) -> Any:
    """i0/i0e/i1/i1e (Cephes, as torch): a Chebyshev series on [0, 8] and one in 1/x beyond, times exp(|x|)
    unless scaled; the order-1 functions are odd. torch's float kernels of i1/i1e use shortened series (the
    last 17 and 7 coefficients): float32/float16 inputs take those too. Exact mode: torch's own arithmetic
    (_bessel_exact); otherwise in float64, rounded once."""

    def kernel(a: Any) -> Any:
        short = odd and a.dtype != np.float64
        ca, cb = (a_coef[-17:], b_coef[-7:]) if short else (a_coef, b_coef)
        if sleef_more.usable(a):
            return map_flat(lambda v: _bessel_exact(v, ca, cb, scaled, odd), a)

        def core(x: Any, xp: Any) -> Any:
            ax = xp.abs(x)
            lo = _chbevl(ax / 2.0 - 2.0, ca)
            hi = _chbevl(32.0 / ax - 2.0, cb) / xp.sqrt(ax)
            if odd:
                lo = lo * ax
            r = xp.where(ax <= 8.0, lo, hi)
            if not scaled:
                r = xp.exp(ax) * r
            return xp.where(x < 0, -r, r) if odd else r

        return _in_f64(core)(a)

    return kernel


_i0 = _bessel(_I0_A, _I0_B, False, False)
_i0e = _bessel(_I0_A, _I0_B, True, False)
_i1 = _bessel(_I1_A, _I1_B, False, True)
_i1e = _bessel(_I1_A, _I1_B, True, True)

# ---- ndtri / erfcx / log_ndtr ----------------------------------------------------------------------------------
_NDTRI_P0 = (-5.99633501014107895267e1, 9.80010754185999661536e1, -5.66762857469070293439e1,
             1.39312609387279679503e1, -1.23916583867381258016e0)  # fmt: skip
_NDTRI_Q0 = (1.0, 1.95448858338141759834e0, 4.67627912898881538453e0, 8.63602421390890590575e1,
             -2.25462687854119370527e2, 2.00260212380060660359e2, -8.20372256168333339912e1,
             1.59056225126211695515e1, -1.18331621121330003142e0)  # fmt: skip
_NDTRI_P1 = (4.05544892305962419923e0, 3.15251094599893866154e1, 5.71628192246421288162e1,
             4.40805073893200834700e1, 1.46849561928858024014e1, 2.18663306850790267539e0,
             -1.40256079171354495875e-1, -3.50424626827848203418e-2, -8.57456785154685413611e-4)  # fmt: skip
_NDTRI_Q1 = (1.0, 1.57799883256466749731e1, 4.53907635128879210584e1, 4.13172038254672030440e1,
             1.50425385692907503408e1, 2.50464946208309415979e0, -1.42182922854787788574e-1,
             -3.80806407691578277194e-2, -9.33259480895457427372e-4)  # fmt: skip
_NDTRI_P2 = (3.23774891776946035970e0, 6.91522889068984211695e0, 3.93881025292474443415e0,
             1.33303460815807542389e0, 2.01485389549179081538e-1, 1.23716634817820021358e-2,
             3.01581553508235416007e-4, 2.65806974686737550832e-6, 6.23974539184983293730e-9)  # fmt: skip
_NDTRI_Q2 = (1.0, 6.02427039364742014255e0, 3.67983563856160859403e0, 1.37702099489081330271e0,
             2.16236993594496635890e-1, 1.34204006088543189037e-2, 3.28014464682127739104e-4,
             2.89247864745380683936e-6, 6.79019408009981274425e-9)  # fmt: skip
_EXP_M2 = 0.13533528323661269189  # exp(-2)


def _ndtri_core(y0: Any, xp: Any) -> Any:
    # Cephes' ndtri (torch's calc_ndtri): a rational function around the middle, two in sqrt(-2 log y) outside
    upper = y0 > 1.0 - _EXP_M2
    y = xp.where(upper, 1.0 - y0, y0)
    ym = y - 0.5
    y2 = ym * ym
    mid = (ym + ym * (y2 * _polevl(y2, _NDTRI_P0) / _polevl(y2, _NDTRI_Q0))) * _SQRT_2PI
    yt = xp.where(y > 0, y, 0.5)  # (the tail formulas only where they apply: no log(0) warnings elsewhere)
    x = xp.sqrt(-2.0 * xp.log(yt))
    x0 = x - xp.log(x) / x
    z = 1.0 / x
    x1 = xp.where(x < 8.0, z * _polevl(z, _NDTRI_P1) / _polevl(z, _NDTRI_Q1),
                  z * _polevl(z, _NDTRI_P2) / _polevl(z, _NDTRI_Q2))  # fmt: skip
    tail = x0 - x1
    tail = xp.where(upper, tail, -tail)
    r = xp.where(y > _EXP_M2, mid, tail)
    r = xp.where(y0 == 0, -math.inf, r)
    r = xp.where(y0 == 1, math.inf, r)
    return xp.where((y0 < 0) | (y0 > 1) | xp.isnan(y0), math.nan, r)


_ndtri = _in_f64(_ndtri_core)


def _erfcx_core(x: Any, xp: Any) -> Any:
    """exp(x^2) erfc(x). torch uses Johnson's Faddeeva-package tables; without them: exp(x^2) erfc(x) while
    erfc(x) is a normal float (x < 26, relative error below 1e-13), the continued fraction of erfc beyond, and
    2 exp(x^2) - erfcx(-x) for negative x, with torch's cut-offs there."""
    ax = xp.abs(x)
    small = ax < 26.0
    e = _erfc(xp.where(small, ax, 0.0))
    direct = xp.exp(xp.where(small, ax * ax, 0.0)) * e
    big = xp.where(small, 26.0, ax)
    cf = xp.zeros_like(big)
    for k in range(60, 0, -1):  # erfc(x) exp(x^2) sqrt(pi) = 1/(x + (1/2)/(x + 1/(x + (3/2)/(x + ...))))
        cf = (k / 2.0) / (big + cf)
    cf = 1.0 / (big + cf) / _SQRT_PI
    pos = xp.where(small, direct, cf)
    pos = xp.where(ax > 5e7, (1.0 / _SQRT_PI) / xp.where(ax > 0, ax, 1.0), pos)  # torch's one-term expansion
    ex2 = xp.exp(xp.where(ax < 26.7, x * x, 0.0))
    neg = xp.where(x < -6.1, 2.0 * ex2, 2.0 * ex2 - pos)
    neg = xp.where(x < -26.7, math.inf, neg)
    r = xp.where(x >= 0, pos, neg)
    return xp.where(xp.isnan(x), x, r)


_erfcx = _in_f64(_erfcx_core)


def _log_ndtr_core(x: Any, xp: Any) -> Any:
    # torch's calc_log_ndtr: log(erfcx(-t) / 2) - t^2 below -1 (t = x / sqrt 2), log1p(-erfc(t) / 2) above
    t = x * math.sqrt(0.5)
    low = x < -1.0
    tl = xp.where(low, t, -1.0)
    lower = xp.log(_erfcx_core(-tl, xp) / 2.0) - tl * tl
    upper = xp.log1p(-_erfc(xp.where(low, 0.0, t)) / 2.0)
    return xp.where(low, lower, upper)


_log_ndtr = _in_f64(_log_ndtr_core)


def _entr(a: Any) -> Any:
    # torch's kernel: nan stays, -x log x above 0, 0 at 0, -inf below (in the input's own dtype; half in float)
    xp = _xp(a)
    x = a.astype(np.float32) if a.dtype == np.float16 else a
    pos = xp.where(x > 0, x, x.dtype.type(1))
    lg = c_math("log", pos) if sleef_more.usable(pos) else xp.log(pos)  # (exact mode: std::log, as torch's kernel)
    r = xp.where(x > 0, -x * lg, xp.where(x == 0, 0, -math.inf))
    r = xp.where(xp.isnan(x), x, r)
    return xp.asarray(r).astype(a.dtype)


# ---- the unary ops, with torch's nodes and backward formulas ---------------------------------------------------
def _i1_bw(g: Tensor, x: Tensor, y: Tensor) -> Tensor:
    # torch's i1_backward: at |x| <= the dtype's epsilon the limit 0.5 (the formula would divide by 0 there)
    eps = float(np.finfo(x._data.dtype).eps)
    not_tiny = x.abs() > eps
    safe = where(not_tiny, x, eps)
    gradx = FNS["i0"](safe) - y * safe.reciprocal()
    return g * where(not_tiny, gradx, 0.5)


def _i1e_bw(g: Tensor, x: Tensor, y: Tensor) -> Tensor:
    eps = float(np.finfo(x._data.dtype).eps)
    not_tiny = x.abs() > eps
    safe = where(not_tiny, x, eps)
    gradx = FNS["i0e"](safe) - y * (safe.sgn() + safe.reciprocal())
    return g * where(not_tiny, gradx, 0.5)


def _add_scalar_bw(self: Any, g: Tensor) -> tuple:
    return (g, None)


# add(Tensor, Scalar) as torch's own formulas and composites call it (1 + erf(...)): AddBackward1
_add_scalar = binary(np.add, node_class("AddBackward1", _add_scalar_bw), save=False)


def _log_ndtr_bw(g: Tensor, x: Tensor, y: Tensor) -> Tensor:
    # torch: grad / sqrt(2 pi) * (result + self.pow(2) / 2).neg().exp()
    return div_scalar(g, _SQRT_2PI) * (-(y + div_scalar(x.pow(2), 2))).exp()


# (name, kernel, node name, backward(g, x, y), saves, refuses half): rows as elementwise.UNARY's
UNARY_SPECIAL = [
    ("erfc", _erfc, "ErfcBackward0", lambda g, x, y: mul_scalar((-x.pow(2)).exp(), -2 / _SQRT_PI) * g, "x", False),
    ("erfinv", _erfinv, "ErfinvBackward0",
     lambda g, x, y: mul_scalar(FNS["erfinv"](x).pow(2).exp(), 0.5 * _SQRT_PI) * g, "x", False),
    ("lgamma", _lgamma, "LgammaBackward0", lambda g, x, y: g * FNS["digamma"](x), "x", False),
    ("digamma", _digamma, "DigammaBackward0", lambda g, x, y: g * polygamma(1, x), "x", False),
    ("i0", _i0, "I0Backward0", lambda g, x, y: g * FNS["i1"](x), "x", False),
    ("i0e", _i0e, "SpecialI0EBackward0", lambda g, x, y: g * (FNS["i1e"](x) - x.sgn() * y), "xy", False),
    ("i1", _i1, "SpecialI1Backward0", _i1_bw, "xy", False),
    ("i1e", _i1e, "SpecialI1EBackward0", _i1e_bw, "xy", False),
    ("ndtri", _ndtri, "SpecialNdtriBackward0",
     lambda g, x, y: mul_scalar(g, _SQRT_2PI) * div_scalar(y.square(), 2).exp(), "y", True),
    ("log_ndtr", _log_ndtr, "SpecialLogNdtrBackward0", _log_ndtr_bw, "xy", True),
    ("erfcx", _erfcx, "SpecialErfcxBackward0",
     lambda g, x, y: (mul_scalar(x * y, 2.0) - 2 / _SQRT_PI) * g, "xy", True),
    ("entr", _entr, "SpecialEntrBackward0", lambda g, x, y: g * -_add_scalar(x.log(), 1), "x", False),
]  # fmt: skip


def _unary(name: str, kernel: Any, node: str, bw: Any, saves: str, no_half: bool) -> Any:
    inner = E._make_unary(kernel, node, bw, saves, "float", name)

    pname = name if name in ("erfc", "erfinv", "lgamma", "digamma", "i0") else "special_" + name  # (parser's)

    def op(input: Tensor, *, out: Tensor | None = None) -> Tensor:  # noqa: A002
        input = E._tensor_arg(input, pname)
        if no_half and input._data.dtype == np.float16:  # torch has no Half kernel for these on the cpu
            raise NotImplementedError(f"\"{name}_cpu\" not implemented for 'Half'")
        return inner(input, out=out)

    op.__name__ = name
    return op


FNS = {row[0]: _unary(*row) for row in UNARY_SPECIAL}
erfc, erfinv, lgamma, digamma, i0 = FNS["erfc"], FNS["erfinv"], FNS["lgamma"], FNS["digamma"], FNS["i0"]


# ---- polygamma -----------------------------------------------------------------------------------------------
def _polygamma_bw(self: Any, g: Tensor, n: int, x: Tensor) -> tuple:
    return (g * polygamma(n + 1, x),)


PolygammaBackward0 = node_class("PolygammaBackward0", _polygamma_bw)
PolygammaBackward1 = node_class("PolygammaBackward1", _polygamma_bw)  # (polygamma_, in place)


def _polygamma(n: Any, input: Any, cls: type, out: Tensor | None = None) -> Tensor:  # noqa: A002
    if not isinstance(n, int) or isinstance(n, bool):
        raise TypeError(f"polygamma(): argument 'n' (position 1) must be int, not {type_name(n)}")
    input = E._tensor_arg(input, "polygamma", "input")
    if n < 0:
        raise RuntimeError("polygamma(n, x) does not support negative n.")
    d = input._data
    if d.dtype.kind != "f":
        d = d.astype(E.DEFAULT.float.np)
    r = _polygamma_kernel(n)(d)
    t = record(cls, r, input._dev, (input,), (n, input), saved_vers(None, input))
    return E._out(t, out)


def polygamma(n: int, input: Tensor, *, out: Tensor | None = None) -> Tensor:  # noqa: A002
    """The n-th derivative of digamma (n = 0 is digamma itself, recorded as polygamma, as torch does)."""
    return _polygamma(n, input, PolygammaBackward0, out)


def _polygamma_method(self: Tensor, n: int) -> Tensor:
    return polygamma(n, self)


def _polygamma_(self: Tensor, n: int) -> Tensor:
    return P.apply(self, lambda x: _polygamma(n, x, PolygammaBackward1))


# ---- mvlgamma ------------------------------------------------------------------------------------------------
def _mvl_args(x: Tensor, p: int) -> Tensor:
    """x[..., None] + (-(p-1)/2, ..., -1/2, 0), as torch's arange(-p/2 + 1/2, 1/2, 1/2) + self.unsqueeze(-1)."""
    from engine.creation import arange

    dt = x.dtype if x._data.dtype.kind == "f" else E.DEFAULT.float
    steps = arange(-p * 0.5 + 0.5, 0.5, 0.5, dtype=dt, device=x.device)
    return x.unsqueeze(-1) + steps


def _mvlgamma_bw(self: Any, g: Tensor, x: Tensor, p: int) -> tuple:
    return (g * FNS["digamma"](_mvl_args(x, p)).sum(-1),)  # torch's mvlgamma_backward


MvlgammaBackward0 = node_class("MvlgammaBackward0", _mvlgamma_bw)


def mvlgamma(input: Tensor, p: int, *, out: Tensor | None = None) -> Tensor:  # noqa: A002
    """The multivariate log-gamma function: sum_j lgamma(x - j/2) + p(p-1)/4 log(pi)."""
    input = E._tensor_arg(input, "mvlgamma")
    if not isinstance(p, int) or isinstance(p, bool):
        raise TypeError(f"mvlgamma(): argument 'p' (position 2) must be int, not {type_name(p)}")
    if p < 1:
        raise RuntimeError("p has to be greater than or equal to 1")
    prev = ENABLED[0]
    ENABLED[0] = False
    try:
        args = _mvl_args(input, p)
        r = FNS["lgamma"](args).sum(-1) + (p * (p - 1)) * math.log(math.pi) * 0.25
    finally:
        ENABLED[0] = prev
    t = record(MvlgammaBackward0, r._data, input._dev, (input,), (input, p), saved_vers(input, None))
    return E._out(t, out)


def _mvlgamma_method(self: Tensor, p: int) -> Tensor:
    return mvlgamma(self, p)


# ---- logit ---------------------------------------------------------------------------------------------------
def _logit_bw(self: Any, g: Tensor, x: Tensor, eps: Any) -> tuple:
    # torch's logit_backward: nan outside [0, 1] without eps, 0 outside [eps, 1 - eps] with it
    if eps is None or eps < 0:
        outside, fill = (x < 0) | (x > 1), math.nan
    else:  # (the kernel's bounds: lo = eps in the dtype, hi = 1 - lo in its arithmetic)
        lo, hi = _logit_bounds(x._data, eps)
        outside, fill = (x < lo) | (x > hi), 0.0
    return (where(outside, fill, g / (x * (1 - x))),)


def _logit_bounds(d: Any, eps: float) -> tuple:
    """torch's logit_backward bounds as Python floats: scalar_t(eps) and scalar_t(1) - that, in d's dtype
    (bfloat16 rounding the difference too: 1 - 0.001 is 1 there)."""
    if d.dtype.kind != "f":
        return eps, 1 - eps
    if d.dtype.metadata is not None:
        lo = round_bits(np.float32(eps))
        return float(lo), float(round_bits(np.float32(1) - lo))
    lo = d.dtype.type(eps)
    return float(lo), float(d.dtype.type(1) - lo)


LogitBackward0 = node_class("LogitBackward0", _logit_bw)


def _dense(a: Any) -> bool:
    """Whether a's elements fill its memory without gaps in some order of its dims (TensorIterator then
    coalesces it to one contiguous run): C, Fortran or permuted contiguity."""
    if type(a) is not np.ndarray:
        return False
    if a.flags.c_contiguous or a.flags.f_contiguous:
        return True
    step = a.itemsize
    for st, n in sorted((abs(st), n) for st, n in zip(a.strides, a.shape) if n != 1):
        if st != step:
            return False
        step *= n
    return True


def _logit_vec(x: np.ndarray) -> np.ndarray:
    """logit's vector function: (x / (1 - x)).log(), SLEEF's log (x == 1 gives log(inf) = inf)."""
    one = x.dtype.type(1)
    with np.errstate(all="ignore"):
        q = x / (one - x)
    return sleef.logf(q) if x.dtype == _F32 else sleef_more.log64(q)


def _logit_half(h: np.ndarray, dense: bool) -> np.ndarray:
    """torch's logit for float16 (exact mode), h clamped: x / (1 - x) in c10::Half arithmetic (each step
    rounded; inf at 1), then the log in float, rounded once: a dense input's LogitMKLKernel maps SLEEF's log over
    every element, another's cpu_kernel_vec (no AVX512 variant) takes std::log on its scalar tail."""
    one = np.float16(1)
    with np.errstate(all="ignore"):
        q = np.where(h == one, np.float16(np.inf), h / (one - h)).astype(np.float32)
        if dense:
            return sleef.logf(q).astype(np.float16)
        with reduced_blocks(avx512=False):
            return kernel_vec(q, sleef.logf, lambda v: c_math("log", v)).astype(np.float16)


def _logit_scalar(x: np.ndarray) -> np.ndarray:
    """logit's scalar function: x == 1 ? inf : std::log(x / (1 - x))."""
    one = x.dtype.type(1)
    with np.errstate(all="ignore"):
        q = x / (one - x)
        r = c_elementwise("log", q)
        if r is None:
            r = np.log(q)
    return np.where(x == one, x.dtype.type(np.inf), r)


def logit(input: Tensor, eps: float | None = None, *, out: Tensor | None = None) -> Tensor:  # noqa: A002
    """log(x / (1 - x)), with x first clamped to [eps, 1 - eps] when eps is given (and not negative)."""
    input = E._tensor_arg(input, "logit")
    if eps is not None and (not isinstance(eps, (int, float)) or isinstance(eps, bool)):
        raise TypeError(f"logit(): argument 'eps' (position 2) must be float, not {type_name(eps)}")
    d = input._data
    if d.dtype.kind != "f":
        d = d.astype(E.DEFAULT.float.np)
    xp = _xp(d)
    a = d.astype(np.float32) if d.dtype == np.float16 else d  # (half computes in float, as torch's)
    strided = a  # (the input's layout picks torch's kernel below)

    def clamp(a: Any) -> Any:
        if eps is not None and eps >= 0:
            lo = a.dtype.type(eps)
            hi = a.dtype.type(1) - lo  # (torch: scalar_t(1) - eps, eps in the dtype first)
            a = xp.where(a < lo, lo, xp.where(a > hi, hi, a))  # (nan stays nan: no comparison holds)
        return a

    if d.dtype == np.float16 and sleef_more.usable(a):
        r = _logit_half(clamp(d), _dense(d))
    elif sleef_more.usable(a) and not _dense(a):
        # exact mode, an input the iterator cannot run contiguously: cpu_kernel_vec, SLEEF's log on its vector
        # blocks, std::log on the rest
        r = kernel_vec(strided, lambda v: _logit_vec(clamp(v)), lambda v: _logit_scalar(clamp(v)))
    elif sleef_more.usable(a):
        # LogitMKLKernel (at::hasMKL() and a contiguous iterator): x / (1 - x) (inf at 1), then VML's Ln
        a = clamp(a)
        one = a.dtype.type(1)
        with np.errstate(all="ignore"):
            q = np.where(a == one, a.dtype.type(np.inf), a / (one - a))
        r = mkl.vml("log", q)
    else:
        a = clamp(a)
        r = xp.where(a == 1, math.inf, xp.log(a / (1 - a)))
    r = xp.asarray(r).astype(d.dtype)
    t = record(LogitBackward0, r, input._dev, (input,), (input, eps), saved_vers(input, None))
    return E._out(t, out)


# ---- xlog1py -------------------------------------------------------------------------------------------------
def _xlog1py_arrays(a: Any, b: Any) -> Any:
    # torch's kernel: nan where y is nan, 0 where x is 0, else x * log1p(y)
    if not hasattr(b, "dtype") or b.ndim == 0 and type(b) is not type(a):  # a number: in a's dtype, as torch's
        b = a.dtype.type(b)
    xp = _xp(a) if hasattr(a, "dtype") and not isinstance(a, np.generic) else np
    r = a * xp.log1p(b)
    r = xp.where(a == 0, 0, r)
    return xp.where(xp.isnan(b), math.nan, r).astype(r.dtype, copy=False)


def _xlog1py_bw(self: Any, g: Tensor, a: Tensor, b: Any) -> tuple:
    n = self._next
    ga = gb = None
    if n[0] is not None:
        ga = xlog1py(g, b)  # torch: special_xlog1py(grad, other).masked_fill((self == 0) & (other <= -1), 0)
        mask = (a == 0) & (b <= -1) if isinstance(b, Tensor) else (a == 0) if b <= -1 else None
        if mask is not None:
            ga = ga.masked_fill(mask, 0.0)
    if len(n) > 1 and n[1] is not None and isinstance(b, Tensor):
        gb = g * a / _add_scalar(b, 1)
    return ga, gb


_xlog1py_t = binary(_xlog1py_arrays, node_class("SpecialXlog1PyBackward0", _xlog1py_bw), floatify=True)
_xlog1py_self = binary(_xlog1py_arrays, node_class("SpecialXlog1PyBackward1", _xlog1py_bw), floatify=True)
_xlog1py_other = binary(_xlog1py_arrays, node_class("SpecialXlog1PyBackward2", _xlog1py_bw), floatify=True)

_XLOG1PY_SIG = (
    "special_xlog1py() received an invalid combination of arguments - got ({}, {}), but expected one of:\n"
    " * (Tensor input, Tensor other, *, Tensor out = None)\n"
    " * (Number self, Tensor other, *, Tensor out = None)\n"
    " * (Tensor input, Number other, *, Tensor out = None)\n"
)


def xlog1py(input: Any, other: Any, *, out: Tensor | None = None) -> Tensor:  # noqa: A002
    """input * log1p(other), 0 where input is 0 (unless other is nan)."""
    it, ot = isinstance(input, Tensor), isinstance(other, Tensor)
    numbers = (int, float, bool)
    if not (it or isinstance(input, numbers)) or not (ot or isinstance(other, numbers)) or not (it or ot):
        raise TypeError(_XLOG1PY_SIG.format(E._tn(input), E._tn(other)))
    if not it:  # the self_scalar overload: the number as a 0-dim tensor of the result's dtype
        a = wrap(other._dev.xp.asarray(input, dtype=result_np(input, other)), other._dev)
        return E._out(_xlog1py_self(a, other), out)
    op = _xlog1py_t if ot else _xlog1py_other
    return E._out(E._check(op(input, other), "xlog1py", input, other), out)


# ---- ndtr: torch's composite (1 + erf(x / sqrt 2)) * 0.5 --------------------------------------------------------
def ndtr(input: Tensor, *, out: Tensor | None = None) -> Tensor:  # noqa: A002
    input = E._tensor_arg(input, "special_ndtr")
    r = mul_scalar(_add_scalar(E.erf(mul_scalar(input, math.sqrt(0.5))), 1), 0.5)
    return E._out(r, out)


# ---- torch.special's own spellings ----------------------------------------------------------------------------
def _special_round(input: Tensor, *, decimals: int = 0, out: Tensor | None = None) -> Tensor:  # noqa: A002
    input = E._tensor_arg(input, "special_round")
    if decimals == 0 and input._data.dtype.kind != "f":  # (round.decimals with 0 runs the plain kernel's check)
        raise NotImplementedError(f"\"round_vml_cpu\" not implemented for '{input.dtype.scalar_name()}'")
    return E.round(input, decimals=decimals, out=out)  # (torch.special.round is round.decimals: RoundBackward1)


_NO_DIM: Any = object()


def _dim_required(name: str, dim: Any) -> None:
    if dim is _NO_DIM:
        raise TypeError(f'special_{name}() missing 1 required positional arguments: "dim"')
    if dim is None:
        kind = "tuple of ints" if name == "logsumexp" else "int"
        raise TypeError(f"special_{name}(): argument 'dim' (position 2) must be {kind}, not NoneType")


def _special_softmax(input: Tensor, dim: Any = _NO_DIM, dtype: Any = None) -> Tensor:  # noqa: A002
    _dim_required("softmax", dim)
    return R.softmax(input, dim, dtype=dtype)


def _special_log_softmax(input: Tensor, dim: Any = _NO_DIM, *, dtype: Any = None) -> Tensor:  # noqa: A002
    _dim_required("log_softmax", dim)
    return R.log_softmax(input, dim, dtype=dtype)


def _special_logsumexp(input: Tensor, dim: Any = _NO_DIM, keepdim: bool = False) -> Tensor:  # noqa: A002
    _dim_required("logsumexp", dim)
    return R.logsumexp(input, dim, keepdim)


def _logit_(self: Tensor, eps: float | None = None) -> Tensor:
    return P.apply(self, lambda x: logit(x, eps))


TORCH = {
    "erfc": erfc,
    "erfinv": erfinv,
    "lgamma": lgamma,
    "digamma": digamma,
    "polygamma": polygamma,
    "mvlgamma": mvlgamma,
    "logit": logit,
    "i0": i0,
}

METHODS = {
    **{name: FNS[name] for name in ("erfc", "erfinv", "lgamma", "digamma", "i0")},
    **{name + "_": P.unary_fn_(FNS[name], name) for name in ("erfc", "erfinv", "lgamma", "digamma", "i0")},
    "polygamma": _polygamma_method,
    "polygamma_": _polygamma_,
    "mvlgamma": _mvlgamma_method,
    "mvlgamma_": P.inplace_of(_mvlgamma_method, "mvlgamma"),
    "logit": logit,
    "logit_": _logit_,
}

_U = E._UNARY_FNS
SPECIAL = {
    "expit": _U["sigmoid"],
    "exp2": _U["exp2"],
    "expm1": _U["expm1"],
    "log1p": _U["log1p"],
    "logsumexp": _special_logsumexp,
    "erf": _U["erf"],
    "erfc": erfc,
    "erfcx": FNS["erfcx"],
    "erfinv": erfinv,
    "gammaln": lgamma,
    "digamma": digamma,
    "psi": digamma,
    "polygamma": polygamma,
    "multigammaln": mvlgamma,
    "xlogy": EM.xlogy,
    "xlog1py": xlog1py,
    "entr": FNS["entr"],
    "sinc": EM.FNS["sinc"],
    "round": _special_round,
    "softmax": _special_softmax,
    "log_softmax": _special_log_softmax,
    "ndtr": ndtr,
    "ndtri": FNS["ndtri"],
    "log_ndtr": FNS["log_ndtr"],
    "i0": i0,
    "i0e": FNS["i0e"],
    "i1": FNS["i1"],
    "i1e": FNS["i1e"],
    "logit": logit,
}
