"""F.gelu (approximate='none') on a contiguous float32 cpu tensor of more than one element, to the bit: torch
hands that case to oneDNN (aten gelu_out_cpu's use_mkldnn), whose AVX512 eltwise injector computes erf(s/√2)
with a piecewise minimax polynomial in |s| (gelu_erf_minimax_approx_compute_vector_fwd): 25 degree-5
polynomials, picked by |s|'s exponent and its two leading mantissa bits, evaluated by FMA (Horner), then
gelu = s * (1 + ±P(|s|)) * 0.5. Elementwise, so the vector width does not matter. The coefficients are
oneDNN's table (as 32-bit patterns), laid out [degree][polynomial].

This is oneDNN's choice on an AVX512 cpu (its injector's is_avx512_); on an AVX2-only cpu oneDNN takes its
Abramowitz-Stegun path instead, which this does not emulate (engine/ops/cpu_capability.py, on main, can tell
the two apart when it is merged here)."""

from __future__ import annotations

from typing import Any

import numpy as np

from engine.ops.fma import fma

_POLYNOMIALS = (
    # degree 0
    (0xA6F2CB94, 0x32827792, 0x3381CC0C, 0x34523D4A, 0x351AC44D, 0x35F36D88, 0x36EE8229, 0x37B8A3BB, 0x3867A213,
     0x3940033B, 0x3A2A5A1D, 0x3AE35863, 0x3B7828F2, 0x3C08B14B, 0x3C515ED3, 0xBB503236, 0xBD8D8E5E, 0xBE8ABCD9,
     0xBF0C19A2, 0xBECCB328, 0x3E176CED, 0x3F470D99, 0x3F7ABB28, 0x3F800000, 0),
    # degree 1
    (0x3F4C422A, 0x3F4C421F, 0x3F4C4207, 0x3F4C41CB, 0x3F4C413B, 0x3F4C3FAD, 0x3F4C3A2F, 0x3F4C2D40, 0x3F4C146A,
     0x3F4BC341, 0x3F4AD08C, 0x3F48F8CF, 0x3F45FAC7, 0x3F404E07, 0x3F3B980F, 0x3F48DFF3, 0x3F78B21B, 0x3FBB0704,
     0x40019C32, 0x3FE536D6, 0x3F81331E, 0x3E6C8684, 0x3C98F936, 0, 0x3F800000),
    # degree 2
    (0xB62173F4, 0x3735E4CF, 0x37F2FF89, 0x388C23BE, 0x3917535C, 0x39AB2AB0, 0x3A60FADB, 0x3AF9B960, 0x3B6E5491,
     0x3C0A4EC5, 0x3CA5AA8C, 0x3D2138D9, 0x3D8737D4, 0x3DDFB660, 0x3E0F27AB, 0x3D94004B, 0xBE0EFDEB, 0xBF1D96C3,
     0xBF89DB58, 0xBF6D9897, 0xBEF69FB8, 0xBDC4F8A8, 0xBBDE6422, 0, 0),
    # degree 3
    (0xBE081A19, 0xBE084570, 0xBE08639B, 0xBE089837, 0xBE08F409, 0xBE09AB95, 0xBE0B66D0, 0xBE0E400A, 0xBE124DF8,
     0xBE1BDE02, 0xBE2F19C9, 0xBE4931BF, 0xBE685FBC, 0xBE89C95F, 0xBE96CBCA, 0xBE8044AA, 0xBE0550F2, 0x3DCFD6A1,
     0x3E94C826, 0x3E79345F, 0x3DECEC91, 0x3CA46568, 0x3AA1E00A, 0, 0),
    # degree 4
    (0xBA3D61DB, 0x39F097A3, 0x3A5845DC, 0x3AB1FA35, 0x3B0CEFB8, 0x3B653AB6, 0x3BCAE527, 0x3C221712, 0x3C6C5840,
     0x3CC0A703, 0x3D1DCC19, 0x3D63656D, 0x3D955907, 0x3DBF9910, 0x3DD53F69, 0x3DB7DCEF, 0x3D639EBE, 0xBA6EDE48,
     0xBD22BE69, 0xBD041CF1, 0xBC64F5AB, 0xBB097A32, 0xB8EBF380, 0, 0),
    # degree 5
    (0x3CB7D80C, 0x3C9B6050, 0x3C978D11, 0x3C92E850, 0x3C8D058B, 0x3C848454, 0x3C6CD623, 0x3C4C824B, 0x3C2A7935,
     0x3BE0B390, 0x3B0651AC, 0xBB232F53, 0xBBD42FA0, 0xBC2C5366, 0xBC492C9E, 0xBC2A7AA6, 0xBBD55D04, 0xBA823A76,
     0x3B102AA8, 0x3AE25A7E, 0x3A31F792, 0x38B84375, 0x3689BB5A, 0, 0),
)  # fmt: skip
_TABLE = np.array(_POLYNOMIALS, dtype=np.uint32).view(np.float32)
_IDX_BIAS = np.uint32(0xC21FFFFF)  # added to |s|'s bits: the index is then its top bits (shifted by 21)
_RBOUND = np.uint32(0x40B15CEE).view(np.float32)  # past it erf is ±1: polynomial 23 (the constant 1)


def gelu_erf_f32(s: Any) -> Any:
    """gelu(s) for a float32 array, as oneDNN's AVX512 kernel gives it."""
    pos = np.abs(s)
    idx = (pos.view(np.uint32) + _IDX_BIAS).view(np.int32) >> 21  # (arithmetic: denormals map below 1)
    idx = np.clip(idx, 1, 24)
    idx[pos > _RBOUND] = 23
    pol = _TABLE[5][idx]
    for degree in (4, 3, 2, 1, 0):
        pol = fma(pol, pos, _TABLE[degree][idx])
    # s's sign xored in, as oneDNN does (a NaN from inf's 0 * inf keeps the sign bit this leaves it)
    pol = (pol.view(np.uint32) ^ (s.view(np.uint32) & np.uint32(0x80000000))).view(np.float32)
    return (s * (pol + np.float32(1))) * np.float32(0.5)


# The backward (oneDNN's gelu_erf_compute_vector_bwd): Phi(s) + s * phi(s) with erf from Abramowitz and Stegun
# 7.1.26 and oneDNN's own exp, constants as 32-bit patterns.
_ONE_OVER_SQRT2 = np.uint32(0x3F3504F3).view(np.float32)
_ONE_OVER_SQRT_PI = np.uint32(0x3F106EBA).view(np.float32)
_AS_P = np.uint32(0x3EA7BA05).view(np.float32)  # 0.3275911
_AS_POL = np.array([0x3E827906, 0xBE91A98E, 0x3FB5F0E3, 0xBFBA00E3, 0x3F87DC22], np.uint32).view(np.float32)
_EXP_LO, _EXP_HI = np.array([0xC2AEAC50, 0x42B17218], np.uint32).view(np.float32)  # ln(FLT_MIN), ln(FLT_MAX)
_LOG2E, _LN2 = np.array([0x3FB8AA3B, 0x3F317218], np.uint32).view(np.float32)
_EXP_POL = np.array([0.00828929059, 0.0418978221, 0.166676521, 0.499991506, 0.999999701, 1.0], np.float32)


def _exp(x: Any) -> Any:
    """oneDNN's exp_compute_vector_fwd: exp(x) = 2 * 2^(n-1) * p(r), n = floor(x log2(e) + 1/2), r = x - n ln 2
    (fused), p of degree 5; below ln(FLT_MIN) the result is 0."""
    tiny = x < _EXP_LO
    # (vminps/vmaxps: a NaN x gives the bound, as x86 returns the second operand; np.minimum would keep it)
    x = np.where(x < _EXP_HI, x, _EXP_HI)
    x = np.where(x > _EXP_LO, x, _EXP_LO)
    n = np.floor(x * _LOG2E + np.float32(0.5))
    r = fma(-n, _LN2, x)
    scale = (((n - np.float32(1)).astype(np.int32) + 127).astype(np.uint32) << np.uint32(23)).view(np.float32)
    scale[tiny] = 0
    y = np.full_like(x, _EXP_POL[0])
    for c in _EXP_POL[1:]:
        y = fma(y, r, c)
    return (y * scale) * np.float32(2)


def gelu_erf_grad_f32(s: Any) -> Any:
    """d gelu / ds for a float32 array, as oneDNN's AVX512 backward kernel gives it (the caller multiplies by
    the incoming gradient)."""
    r = s * _ONE_OVER_SQRT2
    q = _exp(-(r * r))
    t = (r * _ONE_OVER_SQRT_PI) * q
    w = np.float32(1) / fma(np.full_like(r, _AS_P), np.abs(r), np.float32(1))
    pol = np.full_like(r, _AS_POL[4])
    for k in (3, 2, 1, 0):
        pol = fma(pol, w, _AS_POL[k])
    erf = fma((-q) * w, pol, np.float32(1))
    erf = (erf.view(np.uint32) ^ (r.view(np.uint32) & np.uint32(0x80000000))).view(np.float32)
    return fma(erf, np.float32(0.5), t + np.float32(0.5))
