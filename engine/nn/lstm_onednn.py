"""A float32 LSTM layer on the cpu as torch's oneDNN computes it (mkldnn_rnn_layer and its backward), bit for bit,
where the orders were measured against torch 2.13 (oneDNN 3.12, avx512_core kernels, two threads).

Forward, training (grad mode on: oneDNN's reference RNN with its jit post-gemm kernel):
    gates_t = (W_ih x_t + W_hh h_{t-1}) + (b_ih + b_hh)
        each product oneDNN's gemm: the K sums in blocks (K itself up to 384; else 384 while at least 768 are
        left, then the rest in two halves, the first the larger), each block one fused multiply-add chain in k
        order from 0, the blocks' sums added in order; W_hh h_{t-1}'s blocks added to W_ih x_t's sum
    i, f, o = logistic(gates), g = tanh(gates)   (the jit eltwise injector's, below)
    c_t = fma(i, g, c_{t-1} * f), h_t = o * tanh(c_t)
Forward, inference (grad mode off: oneDNN's brgemm RNN): the same, but each product one chain over all of K, and
where input_size == hidden_size the two products are one chain (x_t's terms, then h_{t-1}'s), but for a batch of
one over several steps.

The injector's functions (jit_uni_eltwise_injector): exp(x) = 2 * (p(r) * 2^(n-1)) with n = floor(x * log2(e)
+ 0.5), r = fma(-n, ln2, x) and p a degree-5 polynomial by fma; logistic(x) = e / (e + 1) with e = exp(-|x|),
1 - that for positive x; tanh(|x|) a degree-6 polynomial by fma on one of 32 intervals (picked by the bits of
|x|), x itself below 0x39ddb3d7, 1 from 0x41102cb3, the sign put back.

Backward (oneDNN's reference RNN backward, the steps last to first):
    dH = dy_t + dh,  dC = dc + ((1 - tanh(c_t)^2 fused) * dH) * o
    do = ((o - o*o fused) * dH) * tanh(c_t),  di = ((i - i*i) * dC) * g,  df = ((f - f*f) * dC) * c_{t-1},
    dg = (1 - g*g) * (i * dC),  dc = dC * f,  dh = W_hh^T dG (gemm over 4H)
    dx = W_ih^T dG for all steps at once; dW_ih = dG^T x over all (step, batch) pairs in the order the steps
    ran; dW_hh = dG^T h_{t-1} likewise, but for the forward direction the steps after the first in one product
    and the first step's (from h0) onto it; db = the dG rows added one by one, the steps last to first (one
    gradient for b_ih and b_hh).

oneDNN's gemm (its no-copy driver) has two more forms, by shape:
- one output column (oneDNN's n = 1: a batch of one, or the weight gradient of a one-feature input or a
  one-unit layer): the sums run on from C in one chain, but from 256 products and 8192 multiply-adds (up to
  1000 rows) torch's two threads take half of K each, the second's chain added at the end (one thread: no
  split);
- one output row (m = 1: dx of a one-feature input, dh of a one-unit layer): the jit avx gemv_t kernel, 8 lanes
  each chaining every 8th product, summed by its horizontal adds, in blocks of 512 (`gemv_t`).
Measured exact on random layers and modules (hidden 1-256, input 1-500, batch 1-100, 1-40 steps, 1-3 layers,
either direction, training and inference) but a one-unit layer (hidden_size 1) with a batch of one, whose
products' kernels still add otherwise. (create_graph's differentiable backward is ATen's formulas:
rnn_layers._differentiable_backward.)
"""

from __future__ import annotations

from typing import Any

import numpy as np

from engine.ops.cascade_sum import torch_threads
from engine.ops.fma import fma

_F32 = np.dtype(np.float32)
_KB = 384  # oneDNN gemm's K block (avx512)
# a one-column product: K shared out over min(threads, K // _N1_KB, rows * K // _N1_WORK) threads, up to _N1_MMAX
# rows (measured with one and two threads; more threads share out small products otherwise)
_N1_KB, _N1_MMAX, _N1_WORK = 128, 1000, 4096


def _bits(*hs: int) -> np.ndarray:
    return np.array(hs, np.uint32).view(np.float32)


_LN_MIN, _LN_MAX, _LOG2E, _LN2 = _bits(0xC2AEAC50, 0x42B17218, 0x3FB8AA3B, 0x3F317218)
_EXP_POL = _bits(0x3F7FFFFB, 0x3EFFFEE3, 0x3E2AAD40, 0x3D2B9D0D, 0x3C07CFCE)  # p1..p5 (p0 = 1)
_TANH_BITS = (  # oneDNN's tanh_pol_table: [degree][interval]
    (0x00000000, 0x39BFFFFF, 0x39FFFFFF, 0x3A3FFFFE, 0x3A7FFFFB, 0x3ABFFFF7, 0x3AFFFFEB, 0x3B3FFFDC, 0x3B7FFFAB,
     0x3BBFFF70, 0x3BFFFEAB, 0x3C3FFDC0, 0x3C7FFAAB, 0x3CBFF701, 0x3CFFEAAD, 0x3D3FDC08, 0x3D7FAACD, 0x3DBF7081,
     0x3DFEACC9, 0x3E3DC7FD, 0x3E7ACBF5, 0x3EB77A9F, 0x3EEC9A9F, 0x3F22991F, 0x3F42F7D6, 0x3F67B7CC, 0x3F76CA83,
     0x3F7EBBE9, 0x3F7FD40C, 0x3F7FFF32, 0x3F7FFFFC, 0x3F800000),
    (0x3F800000, 0x3F800018, 0x3F7FFFE8, 0x3F7FFFDA, 0x3F7FFFDC, 0x3F7FFFDC, 0x3F7FFFAC, 0x3F7FFF70, 0x3F7FFEEC,
     0x3F7FFDC0, 0x3F7FFBED, 0x3F7FF704, 0x3F7FEFF5, 0x3F7FDBCA, 0x3F7FBFFF, 0x3F7F7041, 0x3F7F009B, 0x3F7DC36C,
     0x3F7C0AA8, 0x3F7734B8, 0x3F70A4DE, 0x3F5F1FD8, 0x3F495493, 0x3F18B9EC, 0x3ED706CB, 0x3E390B06, 0x3D90B11F,
     0x3C21A053, 0x3AAF7FDB, 0x37CCC1A3, 0x355C6733, 0x00000000),
    (0x00000000, 0xBE4E0FF1, 0x3D25B1B1, 0x3D6B6DAB, 0x3C9FB1D5, 0xBABFF06F, 0x3C07B3F6, 0xBB3FC1BC, 0x3A9F5921,
     0xBBBF06F2, 0xBBB0F402, 0xBC47DB9E, 0xBC73D5E7, 0xBCA25BDA, 0xBCFCA780, 0xBD40E07C, 0xBD7DAB03, 0xBDBE4A0F,
     0xBDFB14A5, 0xBE36CC8D, 0xBE6BD102, 0xBE9FE7C5, 0xBEBA0F10, 0xBEC206A8, 0xBEA3C388, 0xBE277D62, 0xBD8B7960,
     0xBC209F49, 0xBAAD44CA, 0xB7C6EEAC, 0xB663AA41, 0x00000000),
    (0x00000000, 0x45B3AE96, 0xC414EB20, 0xC450E02E, 0xC3152B4E, 0xBEAD2F56, 0xC2162E02, 0xBEB4BD5A, 0xC11A59A4,
     0xBED2F507, 0xC020D32C, 0x3DD0F506, 0xBF2A75E2, 0xBFF950E3, 0xBED47334, 0xBE809B8C, 0xBEB64532, 0xBE961A5B,
     0xBE9B63AC, 0xBEA0D4B2, 0xBE828A77, 0xBE378612, 0xBDC20908, 0x3D2D3957, 0x3DD46E89, 0x3DB3F629, 0x3D2C5E7B,
     0x3BD20403, 0x3A59DFAE, 0x3770AF45, 0x372CC014, 0x00000000),
    (0x00000000, 0xCC981A1B, 0x4A7EDD3D, 0x4AB1007C, 0x48FEDD9C, 0x41A557B5, 0x477EE32A, 0x422557F5, 0x45FF3CE4,
     0x42A55641, 0x446E0867, 0xC33DC19A, 0x42915214, 0x43AF4FAD, 0x4110FE88, 0xC1099B75, 0x3FC8A8DC, 0xBFBEAEF5,
     0xBE365AAD, 0x3F4D9652, 0x3DDFA08F, 0x3E34E9B8, 0x3E2D07A6, 0x3DC63567, 0x3CDAEB78, 0xBCD17537, 0xBC92829C,
     0xBB43AB99, 0xB9B471DD, 0xB6BAAD5A, 0xB78BAFC7, 0x00000000),
    (0x00000000, 0x52F688D5, 0xD0505C72, 0xD08F98E3, 0xCE505CC9, 0xC7162B8A, 0xCC5061D6, 0xC7162BDF, 0xCA50B37F,
     0xC7162A3A, 0xC8422086, 0x471A714E, 0xC5ECE1F1, 0xC70E3D90, 0xC3EBA94A, 0x43E0C424, 0xC21F4552, 0x42217CC8,
     0x405E7DC4, 0xC10DD401, 0x3E96B602, 0xBD1A6D2F, 0xBD393883, 0xBD674682, 0xBD310016, 0xB961E269, 0x3BA32495,
     0x3A7680D5, 0x38B3173C, 0x35A9DEEA, 0x375C3F2A, 0x00000000),
    (0x00000000, 0xD8995ED1, 0x558285EA, 0x55B2CD69, 0x53028625, 0x4BC9991F, 0x5082898A, 0x4B4999B3, 0x4E02C07C,
     0x4AC99764, 0x4B72C822, 0xCA40C0E1, 0x489413E4, 0x49B12224, 0x46134C4E, 0xC60C2D57, 0x43C83910, 0xC3C872D1,
     0xC186BC9E, 0x42325BC3, 0xBF2FFA4A, 0x3D9A203C, 0xBC545A43, 0xBAE08FEE, 0x3C80225D, 0x3B1FD1DF, 0xBA36B9D1,
     0xB91DE544, 0xB71F100F, 0xB408E2ED, 0xB685FEC8, 0x00000000),
)  # fmt: skip
_TANH = np.array(_TANH_BITS, np.uint32).view(np.float32)
_LIN_UB, _SAT_LB = _bits(0x39DDB3D7, 0x41102CB3)
_ONE = np.float32(1.0)


def _exp(x: np.ndarray) -> np.ndarray:
    """exp_compute_vector_fwd."""
    under = x < _LN_MIN
    x = np.maximum(np.minimum(x, _LN_MAX), _LN_MIN)
    n = np.floor(x * _LOG2E + np.float32(0.5))
    r = fma(-n, np.full_like(n, _LN2), x)
    scale = ((np.rint(n - _ONE).astype(np.int32) + 127) << 23).view(_F32)
    scale[under] = 0
    p = np.full_like(x, _EXP_POL[4])
    for c in (_EXP_POL[3], _EXP_POL[2], _EXP_POL[1], _EXP_POL[0], _ONE):
        p = fma(p, r, np.full_like(x, c))
    return (p * scale) * np.float32(2)


def logistic(x: np.ndarray) -> np.ndarray:
    """logistic_compute_vector_fwd."""
    e = _exp(-np.abs(x))
    y = e / (e + _ONE)
    return np.where(np.signbit(x), y, _ONE - y)


def tanh(x: np.ndarray) -> np.ndarray:
    """tanh_compute_vector_fwd."""
    a = np.abs(x)
    ab = a.view(np.uint32)
    idx = (((ab - np.uint32(0x39800000)) & np.uint32(0xFFC00000)) >> np.uint32(22)) & np.uint32(31)
    r = a - (ab & np.uint32(0xFFC00000)).view(_F32)
    p = _TANH[6][idx]
    for d in (5, 4, 3, 2, 1, 0):
        p = fma(p, r, _TANH[d][idx])
    y = np.where(a < _LIN_UB, a, np.where(a < _SAT_LB, p, _ONE))
    return (y.view(np.uint32) ^ (x.view(np.uint32) & np.uint32(0x80000000))).view(_F32)


# ---- products ----------------------------------------------------------------------------------------------
def _k_blocks(k: int) -> list:
    """oneDNN gemm's K blocks: (start, end) pairs."""
    out, s = [], 0
    while s < k:
        n = k - s
        if n >= 2 * _KB:
            n = _KB
        elif n > _KB:
            n = (n + 1) // 2
        out.append((s, s + n))
        s += n
    return out


def chain(a: np.ndarray, b: np.ndarray, c: np.ndarray | None = None) -> np.ndarray:
    """a (r, K) @ b (K, cols), each sum one fused multiply-add chain in k order from 0, or from c."""
    from engine.nn.conv_onednn import _Chain

    r, k = a.shape
    if k == 0:
        return np.zeros((r, b.shape[1]), _F32) if c is None else c.copy()
    ch = _Chain(r, b.shape[1], k)
    ch.put_rows(np.ascontiguousarray(b))
    if c is not None:
        for acc, (g0, g1) in zip(ch.accs, ch.groups):
            acc[: g1 - g0, : ch.cols] = c[g0:g1]
    ch.run(np.ascontiguousarray(a))
    return ch.result()


def gemm(a: np.ndarray, b: np.ndarray, c: np.ndarray | None = None) -> np.ndarray:
    """oneDNN's gemm, a (r, K) @ b (K, cols) (+ c): the K blocks' chains added to c (or to the first) in order.
    r is oneDNN's n (the product's columns there); with one row the sums run on from c in one chain."""
    if a.shape[0] == 1:
        k = a.shape[1]
        m = b.shape[1]
        parts = min(torch_threads(), k // _N1_KB, m * k // _N1_WORK)
        if m <= _N1_MMAX and parts > 1:  # K shared out over threads, their sums added in order
            step = -(-k // parts)
            out = chain(a[:, :step], b[:step], c)
            for s in range(step, k, step):
                out = out + chain(a[:, s : s + step], b[s : s + step])
            return out
        return chain(a, b, c)
    for s, e in _k_blocks(a.shape[1]):
        p = chain(a[:, s:e], b[s:e])
        c = p if c is None else c + p
    return c


def _reduce8(acc: np.ndarray) -> np.ndarray:
    """The gemv kernel's horizontal sum of 8 lanes (vhaddps, vperm2f128, vaddps, vhaddps)."""
    a = [acc[:, i] for i in range(8)]
    return ((a[0] + a[1]) + (a[4] + a[5])) + ((a[2] + a[3]) + (a[6] + a[7]))


def gemv_t(a: np.ndarray, x: np.ndarray) -> np.ndarray:
    """oneDNN's product of a one-row matrix x (K,) by a (r, K) (its jit avx gemv_t kernel, x copied in blocks
    of 512): per block, 8 lanes each one fused chain over its k (k = lane mod 8) in 16-wide steps, summed as
    the kernel's horizontal add, then the leftover 8, 4, 2, 1 each summed alike; every sum added to y."""
    r, k = a.shape
    y = np.zeros(r, _F32)
    for b0 in range(0, k, 512):
        b1 = min(k, b0 + 512)
        main = b0 + (b1 - b0) // 16 * 16
        if main > b0:
            acc = np.zeros((r, 8), _F32)
            for k0 in range(b0, main, 8):
                acc = fma(a[:, k0 : k0 + 8], np.broadcast_to(x[k0 : k0 + 8], (r, 8)).copy(), acc)
            y = y + _reduce8(acc)
        k0 = main
        for ux in (8, 4, 2, 1):
            if (b1 - main) & ux:
                acc = np.zeros((r, 8), _F32)
                acc[:, :ux] = a[:, k0 : k0 + ux] * x[k0 : k0 + ux]
                y = y + _reduce8(acc)
                k0 += ux
    return y


# ---- the layer ---------------------------------------------------------------------------------------------
def usable(*arrays: Any) -> bool:
    """Whether this computes the layer: numpy float32 arrays, on a machine where the orders were measured."""
    from engine.nn.conv_onednn import exact_here

    return all(type(a) is np.ndarray and a.dtype == _F32 for a in arrays) and exact_here()


def forward(x: np.ndarray, w_ih: np.ndarray, w_hh: np.ndarray, bias: np.ndarray, h: np.ndarray, c: np.ndarray,
            reverse: bool, train: bool) -> tuple:  # fmt: skip
    """One layer and direction: x (T, B, I), the weights, bias = b_ih + b_hh (rounded), h and c (B, H).
    (hs, gates, cs, tcs): (T, B, H), (T, B, 4H) activated (i, f, g, o), (T, B, H) and their tanh, each in the
    order the steps ran."""
    steps, batch, isz = x.shape
    hid = w_hh.shape[1]
    merged = not train and isz == hid and (batch > 1 or steps == 1)
    wt_ih = np.ascontiguousarray(w_ih.T)
    wt_hh = np.ascontiguousarray(w_hh.T)
    if merged:
        wt_all = np.concatenate([wt_ih, wt_hh])
        xs = x[::-1] if reverse else x
    else:
        flat = x.reshape(-1, isz)
        lay = (gemm(flat, wt_ih) if train else chain(flat, wt_ih)).reshape(steps, batch, -1)
        if reverse:
            lay = lay[::-1]
    hs = np.empty((steps, batch, hid), _F32)
    cs = np.empty((steps, batch, hid), _F32)
    tcs = np.empty((steps, batch, hid), _F32)
    gates = np.empty((steps, batch, 4 * hid), _F32)
    for t in range(steps):
        if merged:
            pre = chain(np.concatenate([xs[t], h], 1), wt_all)
        elif train:
            pre = gemm(h, wt_hh, lay[t])
        else:
            pre = lay[t] + chain(h, wt_hh)
        pre += bias
        g = gates[t]
        g[:, : 2 * hid] = logistic(pre[:, : 2 * hid])
        g[:, 2 * hid : 3 * hid] = tanh(pre[:, 2 * hid : 3 * hid])
        g[:, 3 * hid :] = logistic(pre[:, 3 * hid :])
        i, f, gg, o = g[:, :hid], g[:, hid : 2 * hid], g[:, 2 * hid : 3 * hid], g[:, 3 * hid :]
        c = fma(i, gg, c * f)
        tc = tcs[t] = tanh(c)
        h = tc * o
        cs[t] = c
        hs[t] = h
    return hs, gates, cs, tcs


def backward(g_out: np.ndarray | None, g_hy: np.ndarray | None, g_cy: np.ndarray | None, x: np.ndarray,
             w_ih: np.ndarray, w_hh: np.ndarray, h0: np.ndarray, c0: np.ndarray, hs: np.ndarray, gates: np.ndarray,
             cs: np.ndarray, tcs: np.ndarray | None, reverse: bool) -> tuple:  # fmt: skip
    """(dx, dW_ih, dW_hh, db, dh0, dc0) of one layer and direction; hs, gates, cs, tcs as forward gave them (the
    order the steps ran; tcs None: computed again, as oneDNN does); g_out in time order; a missing gradient is
    zeros, as torch fills it."""
    steps, batch, isz = x.shape
    hid = w_hh.shape[1]
    one = np.ones((batch, hid), _F32)
    dh = np.zeros((batch, hid), _F32) if g_hy is None else g_hy
    dc = np.zeros((batch, hid), _F32) if g_cy is None else g_cy
    if g_out is None:
        g_out = np.zeros((steps, batch, hid), _F32)
    elif reverse:
        g_out = g_out[::-1]
    d_gates = np.empty((steps, batch, 4 * hid), _F32)
    db = np.zeros(4 * hid, _F32)
    for t in range(steps - 1, -1, -1):
        g = gates[t]
        i, f, gg, o = g[:, :hid], g[:, hid : 2 * hid], g[:, 2 * hid : 3 * hid], g[:, 3 * hid :]
        c_prev = cs[t - 1] if t else c0
        tc = tanh(cs[t]) if tcs is None else tcs[t]
        d_h = g_out[t] + dh
        d_c = dc + (fma(-tc, tc, one) * d_h) * o
        dg = d_gates[t]
        dg[:, :hid] = (fma(-i, i, i) * d_c) * gg
        dg[:, hid : 2 * hid] = (fma(-f, f, f) * d_c) * c_prev
        dg[:, 2 * hid : 3 * hid] = fma(-gg, gg, one) * (i * d_c)
        dg[:, 3 * hid :] = (fma(-o, o, o) * d_h) * tc
        dc = d_c * f
        dh = gemv_t(dg, w_hh[:, 0].copy())[:, None] if hid == 1 else gemm(dg, w_hh)
        db = np.add.accumulate(np.concatenate([db[None], dg]), 0)[-1]  # (one row after another)
    flat = d_gates.reshape(-1, 4 * hid)  # (the steps in the order they ran, as the products take them)
    xs = x[::-1] if reverse else x
    if isz == 1:  # oneDNN's product with one row goes to its gemv kernel
        dx = gemv_t(flat, np.ascontiguousarray(w_ih[:, 0])).reshape(steps, batch, 1)
    else:
        dx = gemm(flat, w_ih).reshape(steps, batch, isz)
    if reverse:
        dx = dx[::-1]
    # (the weight gradients as oneDNN's (4H x size) products, whose columns are the weights' inputs: computed
    # transposed, so that gemm's rows are those columns)
    dw_ih = gemm(np.ascontiguousarray(xs.reshape(-1, isz).T), flat).T
    h_prev = hs[:-1].reshape(-1, hid)
    if reverse:  # one product over every step
        dw_hh = gemm(np.ascontiguousarray(np.concatenate([h0, h_prev]).T), flat).T
    else:  # the steps after the first in one product, then the first's (from h0) onto it
        rest = gemm(np.ascontiguousarray(h_prev.T), flat[batch:]) if steps > 1 else None
        dw_hh = gemm(np.ascontiguousarray(h0.T), d_gates[0], rest).T
    return dx, np.ascontiguousarray(dw_ih), np.ascontiguousarray(dw_hh), db, dh, dc
