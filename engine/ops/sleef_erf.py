"""erf as torch's vectorized cpu kernels compute it, bit for bit, on numpy arrays (AVX512 build with FMA):

- `erf64`: Sleef_erfd8_u10 (xerf_u1 in src/libm/sleefsimddp.c, dd.h's FMA variants): Vectorized<double>::erf(),
  the vector half of torch's float64 gelu (approximate='none') forward and backward kernels. For |x| <= 2.5,
  1 - 1 / (1 + x P(x))^16 with P's last three coefficients as double-double numbers and the power by four
  double-double squarings; for 2.5 < |x| < 6, 1 - exp(Q(x)) (expk of a double-double Q); 1 from 6 on, and
  2/sqrt(pi) x below 1e-8.
- `erf32_vec`: Vectorized<float>::erf() (aten's vec512_float.h, not SLEEF): Abramowitz and Stegun's 7.1.26,
  1 - t (p1 + t (p2 + ...)) exp(-x^2) with t = 1 / (1 + p |x|), in float with fmadd instructions and SLEEF's
  expf, the sign put back by xor.

Every vmla/fmadd is an exact fused multiply-add (engine/ops/fma.py's emulation).
"""

from __future__ import annotations

import numpy as np

from engine.ops import sleef
from engine.ops import sleef_pow as P
from engine.ops.fma import chunked
from engine.ops.sleef_log1p import _dadd_d_d2
from engine.ops.sleef_more import _rec

F32 = np.dtype(np.float32)
F64 = np.dtype(np.float64)

# POLY21's coefficients (c20 .. c0): the first set for |x| <= 2.5, the second beyond
_ERF_A = (
    -0.2083271002525222097e-14, +0.7151909970790897009e-13, -0.1162238220110999364e-11, +0.1186474230821585259e-10,
    -0.8499973178354613440e-10, +0.4507647462598841629e-9, -0.1808044474288848915e-8, +0.5435081826716212389e-8,
    -0.1143939895758628484e-7, +0.1215442362680889243e-7, +0.1669878756181250355e-7, -0.9808074602255194288e-7,
    +0.1389000557865837204e-6, +0.2945514529987331866e-6, -0.1842918273003998283e-5, +0.3417987836115362136e-5,
    +0.3860236356493129101e-5, -0.3309403072749947546e-4, +0.1060862922597579532e-3, +0.2323253155213076174e-3,
    +0.1490149719145544729e-3,
)  # fmt: skip
_ERF_B = (
    -0.4024015130752621932e-18, +0.3847193332817048172e-16, -0.1749316241455644088e-14, +0.5029618322872872715e-13,
    -0.1025221466851463164e-11, +0.1573695559331945583e-10, -0.1884658558040203709e-9, +0.1798167853032159309e-8,
    -0.1380745342355033142e-7, +0.8525705726469103499e-7, -0.4160448058101303405e-6, +0.1517272660008588485e-5,
    -0.3341634127317201697e-5, -0.2515023395879724513e-5, +0.6539731269664907554e-4, -0.3551065097428388658e-3,
    +0.1210736097958368864e-2, -0.2605566912579998680e-2, +0.1252823202436093193e-2, +0.1820191395263313222e-1,
    -0.1021557155453465954e+0,
)  # fmt: skip
# poly4dd's double-double coefficients c2, c1, c0 for the two ranges
_DD_A = ((0.0092877958392275604405, 7.9287559463961107493e-19), (0.042275531758784692937, 1.3785226620501016138e-19),
         (0.07052369794346953491, 9.5846628070792092842e-19))  # fmt: skip
_DD_B = ((-0.63691044383641748361, -2.4249477526539431839e-17), (-1.1282926061803961737, -6.2970338860410996505e-17),
         (-1.2261313785184804967e-05, -5.5329707514490107044e-22))  # fmt: skip


def _poly21(x: np.ndarray, x2: np.ndarray, x4: np.ndarray, x8: np.ndarray, x16: np.ndarray, c: tuple) -> np.ndarray:
    """estrin.h's POLY21: MLA(x16, POLY5(x, x2, x4, c20 .. c16), POLY16(x, x2, x4, x8, c15 .. c0))."""
    f = P._fma64
    hi5 = f(x4, np.full_like(x, c[0]), P._poly4(x, x2, *c[1:5]))
    lo16 = f(x8, P._poly8(x, x2, x4, c[5:13]), P._poly8(x, x2, x4, c[13:]))
    return f(x16, hi5, lo16)


def _poly2dd(x: np.ndarray, c1x: np.ndarray, c1y: np.ndarray, c0: tuple) -> tuple:
    """ddmla(x, c1, c0) = ddadd_vd2_vd2_vd2(c0, ddmul_vd2_vd2_vd(c1, x))."""
    mx, my = P._dmul_d2d(c1x, c1y, x)
    return P._dfadd_f2f2(np.full_like(x, c0[0]), np.full_like(x, c0[1]), mx, my)


def _poly4dd(x: np.ndarray, t: np.ndarray, dd: tuple) -> tuple:
    """poly4dd(x, t, c2, c1, c0): ddmla(x * x, poly2dd(x, t, c2), poly2dd_b(x, c1, c0))."""
    ax, ay = _poly2dd(x, t, np.zeros_like(x), dd[0])
    bx, by = _poly2dd(x, np.full_like(x, dd[1][0]), np.full_like(x, dd[1][1]), dd[2])
    mx, my = P._dmul_d2d(ax, ay, x * x)
    return P._dfadd_f2f2(bx, by, mx, my)


def _erf64(a: np.ndarray) -> np.ndarray:
    with np.errstate(all="ignore"):
        ax = np.abs(a)
        x = np.where(ax < 6.0, ax, 0.0)  # (6 and beyond give 1, NaN is put back below)
        x2 = x * x
        x4 = x2 * x2
        x8 = x4 * x4
        x16 = x8 * x8
        small = x <= 2.5
        t = _poly21(x, x2, x4, x8, x16, _ERF_A)
        tx, ty = _poly4dd(x, t, _DD_A)
        mx, my = P._dmul_d2d(tx, ty, x)
        sx, sy = _dadd_d_d2(1.0, mx, my)
        for _ in range(4):
            sx, sy = P._dsqu(sx, sy)
        sx, sy = _rec(sx, sy)
        if not small.all():
            big = np.flatnonzero(~small)
            xb = x[big]
            xb2 = x2[big]
            xb4 = x4[big]
            tb = _poly21(xb, xb2, xb4, x8[big], x16[big], _ERF_B)
            bx, by = _poly4dd(xb, tb, _DD_B)
            sx[big] = P._expk(bx, by)
            sy[big] = 0.0
        sx, sy = P._dfadd2_f2f(sx, sy, -1.0)
        z = -(sx + sy)
        z = np.where(ax < 1e-8, ax * 1.12837916709551262756245475959, z)
        z[ax >= 6.0] = 1.0  # (infinity included)
        z[a == 0] = 0.0
        nan = np.isnan(a)
        if np.count_nonzero(nan):
            z[nan] = a[nan]
        return np.copysign(z, a)


def erf64(a: np.ndarray) -> np.ndarray:
    """Sleef_erfd8_u10 (xerf_u1, FMA build) of a float64 array, a new array."""
    return chunked(_erf64, np.asarray(a, dtype=F64))


# Vectorized<float>::erf's constants (vec512_float.h)
_P = np.float32(0.3275911)
_A = tuple(np.float32(v) for v in (1.061405429, -1.453152027, 1.421413741, -0.284496736, 0.254829592))  # p5 .. p1
_ONE = np.float32(1.0)
_SIGN = np.uint32(0x80000000)


def erf32_vec(x: np.ndarray) -> np.ndarray:
    """Vectorized<float>::erf() of a float32 array (AVX512 build), a new array."""
    x = np.asarray(x, dtype=F32)
    with np.errstate(all="ignore"):
        t = _ONE / P._fma(_P, np.abs(x), _ONE)
        r = P._fma(_A[0], t, _A[1])
        for c in _A[2:]:
            r = P._fma(r, t, c)
        e = sleef.expf(-(x * x))
        y = P._fma(-e * t, r, _ONE)
    return (y.view(np.uint32) ^ (x.view(np.uint32) & _SIGN)).view(F32)
