"""torch's cpu flash attention kernel (aten/src/ATen/native/cpu/FlashAttentionKernel.cpp), bit for bit, on numpy
float32/float64 arrays: what F.scaled_dot_product_attention runs on the cpu for 4-d inputs without dropout
(ScaledDotProductFlashAttentionForCpuBackward0), forward and backward.

Forward, for each (batch, head) and block of qSplitSize queries (32 below 192 queries, 64 below 768, else 256),
over blocks of kvSplitSize = 512 keys (one block for up to 512 keys):
- qk = q @ k^T by MKL's gemm (column-major, k transposed, as cpublas::gemm passes it); causal: -inf right of
  the diagonal; scaled: qk * scale, or with a mask fma(qk, scale, mask) (GCC contracts the vector and the
  scalar loop of _scale_attn_mask_fusion_kernel); a boolean mask reaches the kernel as 0 / -inf;
- the row max (with the running max of the earlier blocks); exp(qk - max) by Vectorized::exp_u20 (AVX512 and
  AVX2 builds: a degree-5 polynomial after a 2^n reduction, its own approximation, not SLEEF's) over whole
  vectors, summed per lane in order and the lanes then halved pairwise, and on the row's last size % lanes
  elements by the C library's exp in double (the scalar loop's unqualified exp), rounded, added in order after
  the lanes;
- sum = fma(exp(old max - max), old sum, block sum), the accumulator scaled by exp(old max - max) past the
  first block; dst (+)= p @ v by gemm; finally out = dst * (1 / sum) and lse = max + logf(sum) (a row with
  every key masked: zeros, lse 0).
Backward, per (batch, head), q block and kv block: dsum = rowsum(dout * out) (vec::map2_reduce_all: lanes in
order, not fused, then halved; under one vector in order); attn = exp(gemm(alpha=scale) + mask - lse) by
SLEEF's expf; dv += attn^T @ dout; dattn = attn * (dout @ v^T - dsum); dq += scale * dattn @ k;
dk += scale * dattn^T @ q, each product one MKL gemm with beta 1 accumulating over the q blocks. With
grouped-query attention (enable_gqa) query head h reads key head h // group, and a key head's dk and dv gather
its query heads' products one head after the other.
torch splits the (batch, head[, q block]) work over its threads; each piece's arithmetic is its own, so the
thread count changes no bits, but for one thing: MKL rounds some products differently with their operands'
alignment, so each operand sits where torch's would modulo 64 bytes (each thread's slice of the kernel's
scratch buffer included). Not followed: with a single work item (batch * heads == 1 in the backward) torch
runs the kernel outside its thread pool and its MKL may share a product over threads (seen once, float64,
530 keys of size 8: a few last bits).

float64: the same with 8 lanes, SLEEF's exp for exp_u20 (the double build has no approximation of its own),
the C library's exp and log, and vec_reduce_all adding the lanes in order.
"""

from __future__ import annotations

import ctypes
from typing import Any

import numpy as np

from engine.ops import mkl, sleef, sleef_more
from engine.ops.cascade_sum import _seq
from engine.ops.cpu_capability import cpu_capability
from engine.ops.cpu_loops import parallel_chunks
from engine.ops.fma import _fma32, fma
from engine.ops.libm import c_math

_F32, _F64 = np.dtype(np.float32), np.dtype(np.float64)
_COL, _N, _T = 102, 111, 112
_U32 = np.uint32


def usable(q: Any, k: Any, v: Any, mask: Any, gqa: bool = False) -> bool:
    """Whether the kernel computes these arrays: numpy float32 (float64 where SLEEF's float64 exp is emulated),
    one dtype (the mask's too), MKL loaded, the AVX2 or AVX512 build; same batch and head size, and the same
    head count (with gqa: the query's a multiple of the key's)."""
    d = q.dtype
    if d is _F64:
        if not sleef_more.usable_fma():
            return False
    elif d is not _F32:
        return False
    for x in (q, k, v) if mask is None else (q, k, v, mask):
        if type(x) is not np.ndarray or x.dtype is not d:
            return False
    if q.ndim != 4 or k.shape != v.shape or q.shape[0] != k.shape[0] or q.shape[3] != k.shape[3]:
        return False
    if q.shape[1] != k.shape[1] and not (gqa and k.shape[1] and q.shape[1] % k.shape[1] == 0):
        return False
    if q.size == 0 or k.shape[2] == 0:
        return False
    return cpu_capability() != "default" and mkl.available()


def _lanes(dt: Any) -> int:
    return (64 if cpu_capability() == "avx512" else 32) // dt.itemsize


def _splits(n_q: int) -> int:
    return 256 if n_q >= 768 else 64 if n_q >= 192 else 32


_KV_SPLIT = 512


# ---- MKL gemm over the (batch*head) items ---------------------------------------------------------------------
# MKL's kernels can round differently with their operands' alignment (seen in float64 on an odd head size), so
# every operand sits where torch's would, modulo 64 bytes (torch's allocator aligns to 64): inputs in their own
# dense layout, gradients of the output and the gradients in (batch, seq, head, dim) layout (the kernel's
# transposes), and each work item's scratch matrices where its thread's slice of the kernel's buffer puts them.
_ALIGN = 64


def _aligned(nbytes: int, residue: int = 0) -> tuple:
    """(buffer, byte offset) of nbytes whose start lies at `residue` modulo 64."""
    buf = np.empty(nbytes + 2 * _ALIGN, np.uint8)
    return buf, (residue - buf.ctypes.data) % _ALIGN


def _dense_copy(x: np.ndarray, order: tuple | None = None) -> np.ndarray:
    """x copied into a 64-byte-aligned buffer laid out densely in x's own stride order (or `order`, outermost
    axis first), with x's shape."""
    if order is None:
        order = tuple(sorted(range(x.ndim), key=lambda d: (-abs(x.strides[d]), d)))
        if order[-1] != x.ndim - 1:
            order = tuple(range(x.ndim))
    shape = tuple(x.shape[d] for d in order)
    buf, off = _aligned(x.size * x.itemsize)
    y = np.ndarray(shape, x.dtype, buffer=buf, offset=off)
    np.copyto(y, x.transpose(order))
    return y.transpose(np.argsort(order))


def _items(x: np.ndarray, heads: int) -> np.ndarray:
    """The byte addresses of the (batch, query head) matrices of a 4-d array (a flat array over batch*heads):
    query head h reads head h // (heads / x's heads) (grouped-query attention)."""
    head = np.arange(heads) // (heads // x.shape[1])
    return (x.ctypes.data + np.arange(x.shape[0])[:, None] * x.strides[0] + head[None, :] * x.strides[1]).reshape(-1)


def _scratch(groups: list, rows: int, cols: int, dt: Any) -> list:
    """Per thread's group of items (lo, hi, residue): a (hi - lo, rows, cols) array whose items are dense and
    start at `residue` modulo 64, as the kernel's per-thread buffer places them."""
    isz = dt.itemsize
    stride = -(-rows * cols * isz // _ALIGN) * _ALIGN
    parts = []
    for lo, hi, residue in groups:
        buf, off = _aligned((hi - lo) * stride, residue)
        parts.append(np.ndarray((hi - lo, rows, cols), dt, buffer=buf, offset=off, strides=(stride, cols * isz, isz)))
    return parts


def _addresses(parts: list) -> np.ndarray:
    return np.concatenate([p.ctypes.data + np.arange(p.shape[0]) * p.strides[0] for p in parts])


def _gather(parts: list) -> np.ndarray:
    return parts[0].copy() if len(parts) == 1 else np.concatenate(parts)


def _scatter(parts: list, x: np.ndarray) -> None:
    lo = 0
    for p in parts:
        np.copyto(p, x[lo : lo + p.shape[0]])
        lo += p.shape[0]


def _groups(n_items: int, first: int, step: int, per_thread_bytes: int, offset_bytes: int) -> list:
    """The (lo, hi, residue) groups of the items first, first + step, ... (n_items of them) of a parallel_for
    over n_items * step pieces, by the thread that torch gives each: its buffer slice's residue plus
    offset_bytes."""
    chunks = parallel_chunks(n_items * step, 1)
    groups = []
    for t, (b, e) in enumerate(chunks):
        lo = max(0, -(-(b - first) // step))
        hi = min(n_items, -(-(e - first) // step))
        if lo < hi:
            groups.append((lo, hi, (t * per_thread_bytes + offset_bytes) % _ALIGN))
    return groups


_PAR_MIN = 1 << 20  # multiply-adds of one call's items: below this, handing them to threads costs more than it saves


def _gemms(ta: int, tb: int, m: int, n: int, k: int, alpha: float, a: np.ndarray, lda: int, b: np.ndarray,
           ldb: int, beta: float, c: np.ndarray, ldc: int, dt: Any) -> None:  # fmt: skip
    """cpublas::gemm (column-major) once per item, a, b and c the items' byte addresses (each item's c its own):
    shared out over the cores, as torch's threads share the items, when there is enough work."""
    f = mkl._fn("gemm", dt)
    real = ctypes.c_float if dt is _F32 else ctypes.c_double
    al, be = real(alpha), real(beta)
    vp = ctypes.c_void_p
    items = list(zip(a.tolist(), b.tolist(), c.tolist()))

    def run(part: list) -> None:
        for pa, pb, pc in part:
            f(_COL, ta, tb, m, n, k, al, vp(pa), lda, vp(pb), ldb, be, vp(pc), ldc)

    if len(items) > 1 and m * n * k * len(items) >= _PAR_MIN and (pool := mkl._threads()) is not None:
        step = -(-len(items) // pool._max_workers)
        mkl._run_split(pool, [(run, (items[i : i + step],)) for i in range(0, len(items), step)])
    else:
        run(items)


# ---- Vectorized<float>::exp_u20 ---------------------------------------------------------------------------------
def _c32(bits: int) -> float:
    return float(np.array(bits, _U32).view(_F32))


_LOG2E, _LN2 = _c32(0x3FB8AA3B), _c32(0x3F317218)
_LN_MIN, _LN_MAX = np.array(_c32(0xC2AEAC50), _F32), np.array(_c32(0x42B17218), _F32)
_P = tuple(float(np.float32(c)) for c in (0.999999701, 0.499991506, 0.166676521, 0.0418978221, 0.00828929059))
# the first two Horner steps land in one binade for every reduced argument (|r| <= ln2/2 and a little): [2^-5,
# 2^-4) and [2^-3, 2^-2), so RN32 there rounds to a fixed grid, which float64 does in one step (M + x rounds
# x to M's ulp, ties to even on the grid as float32's; sleef.py uses the same trick)
_M1, _M2 = 1.5 * 2.0 ** (52 - 28), 1.5 * 2.0 ** (52 - 26)
_LOW29 = np.array((1 << 29) - 1, np.uint64)
_HALF29 = np.array(1 << 28, np.uint64)
_CHUNK = 16384


def _fma_tie(p: np.ndarray, c: Any, x: np.ndarray, y: Any) -> np.ndarray:
    """RN32(x * y + c) from p = x * y (float64, exact) and c (float64 holding float32 values): the float64 sum,
    with the rare sums lying halfway between two float32 values (a possible double rounding) redone exactly."""
    r = p + c
    tie = (r.view(np.uint64) & _LOW29) == _HALF29
    out = r.astype(_F32)
    if np.count_nonzero(tie):
        i = np.flatnonzero(tie)
        cc = np.broadcast_to(c, r.shape)[i].astype(_F32)
        yy = y if np.ndim(y) == 0 else np.broadcast_to(y, r.shape)[i].astype(_F32)
        out[i] = np.asarray(_fma32(x[i], yy, cc), _F64).astype(_F32)
    return out


def _exp_u20_chunk(x: np.ndarray) -> np.ndarray:
    less = x < _LN_MIN
    src = np.fmin(x, _LN_MAX)  # (_mm512_min_ps(x, max): a NaN x gives max)
    np.fmax(src, _LN_MIN, out=src)
    s64 = src.astype(_F64)
    fx = np.floor(_fma_tie(s64 * _LOG2E, 0.5, src, _LOG2E))  # floor(fma(x, log2e, 0.5))
    fx64 = fx.astype(_F64)
    # fnmadd(fx, ln2, x): exact in float64 (fx != 0 only for |x| > 0.34, whose last bit is 2^-25 or above)
    r = (s64 - fx64 * _LN2).astype(_F32)
    r64 = r.astype(_F64)
    u = (r64 * _P[4] + (_M1 + _P[3])) - _M1
    u = (r64 * u + (_M2 + _P[2])) - _M2
    u32 = _fma_tie(r64 * u, _P[1], r, u.astype(_F32))
    u32 = _fma_tie(r64 * u32.astype(_F64), _P[0], r, u32)
    u32 = _fma_tie(r64 * u32.astype(_F64), 1.0, r, u32)
    e = fx.astype(np.int32) + 126  # 2^(fx - 1) by its exponent bits; 0 (the float 0) at fx = -126
    p2 = (e.astype(_U32) << _U32(23)).view(_F32)
    p2[less] = 0
    u32 *= p2
    u32 *= np.float32(2)
    return u32


def exp_u20(x: np.ndarray) -> np.ndarray:
    """Vectorized<float>::exp_u20 (AVX512/AVX2) of a float32 array."""
    flat = np.ascontiguousarray(x, _F32).reshape(-1)
    out = np.empty_like(flat)
    for b in range(0, flat.size, _CHUNK):
        out[b : b + _CHUNK] = _exp_u20_chunk(flat[b : b + _CHUNK])
    return out.reshape(np.shape(x))


def _vec_exp(z: np.ndarray) -> np.ndarray:
    return exp_u20(z) if z.dtype is _F32 else sleef_more.exp64(z)


def _c_exp(z: np.ndarray) -> np.ndarray:
    return c_math("exp", np.ascontiguousarray(z))


def _tail_exp(z: np.ndarray) -> np.ndarray:
    return c_math("exp", np.ascontiguousarray(z), exact32=False)


def _halve(acc: np.ndarray) -> np.ndarray:
    """vec_reduce_all(+) of lane accumulators (last axis): float's shuffles add halves pairwise; double's
    generic loop adds the lanes in order."""
    if acc.dtype is _F64:
        return _seq(acc, acc.ndim - 1)
    while acc.shape[-1] > 1:
        h = acc.shape[-1] // 2
        acc = acc[..., :h] + acc[..., h:]
    return acc[..., 0]


# ---- forward ------------------------------------------------------------------------------------------------------
def _causal_fill(x: np.ndarray, m: int, n: int, value: float) -> None:
    """Fill x (items, q block rows, kv block cols) right of each query's diagonal."""
    rows, cols = x.shape[1], x.shape[2]
    keep = (np.arange(cols)[None, :] + n) <= (np.arange(rows)[:, None] + m)
    if not keep.all():
        np.copyto(x, value, where=~keep[None])


def _mask_block(m4: np.ndarray, m: int, qb: int, n: int, kb: int) -> np.ndarray:
    """The mask's (batch*head, qb, kb) block at query m and key n, a fresh array."""
    blk = m4[:, :, m : m + qb, n : n + kb]
    return np.ascontiguousarray(blk).reshape(-1, qb, kb)


def _operand(x: np.ndarray, heads: int, order: tuple | None = None) -> tuple:
    """(aligned dense copy, its (batch, query head) matrices' addresses, row stride in bytes, in items)."""
    y = _dense_copy(x, order)
    return y, _items(y, heads), y.strides[2], y.strides[2] // y.itemsize


def forward(q: np.ndarray, k: np.ndarray, v: np.ndarray, mask: np.ndarray | None, causal: bool,
            scale: float) -> tuple:  # fmt: skip
    """(out, lse) for q (B, H, Lq, E), k and v (B, H, Lk, E), mask None or broadcastable to (B, H, Lq, Lk) in
    q's dtype (a boolean mask made 0 / -inf already)."""
    B, H, n_q, E = q.shape
    n_k = k.shape[2]
    dt = q.dtype
    typ, isz = dt.type, dt.itemsize
    BH = B * H
    q_, qa, qrow, ldq = _operand(q, H)  # (the copies stay referenced: the gemms read them by address)
    k_, ka, krow, ldk = _operand(k, H)
    v_, va, vrow, ldv = _operand(v, H)
    m4 = None if mask is None else np.broadcast_to(mask, (B, H, n_q, n_k))  # (a view: blocks copied in turn)
    finite = mask is None or bool(np.isfinite(mask).all())
    qs, ks = min(_splits(n_q), n_q), min(_KV_SPLIT, n_k)
    q_slices = -(-n_q // qs)
    per_thread = (qs * ks + 2 * qs + qs * E) * isz
    L = _lanes(dt)
    sc = typ(scale)
    out = np.empty((BH, n_q, E), dt)
    lse = np.empty((BH, n_q), dt)
    inf = typ(np.inf)
    for mi, m in enumerate(range(0, n_q, qs)):
        qb = min(qs, n_q - m)
        qk_groups = _groups(BH, mi, q_slices, per_thread, 0)
        dst_parts = _scratch(_groups(BH, mi, q_slices, per_thread, (qs * ks + 2 * qs) * isz), qb, E, dt)
        dst_at = _addresses(dst_parts)
        mx = np.full((BH, qb), -inf, dt)
        sm = np.zeros((BH, qb), dt)
        num_keys = min(m + qb, n_k) if causal else n_k
        for n in range(0, num_keys, ks):
            kb = min(ks, n_k - n)
            qk_parts = _scratch(qk_groups, qb, kb, dt)
            qk_at = _addresses(qk_parts)
            _gemms(_T, _N, kb, qb, E, 1.0, ka + n * krow, ldk, qa + m * qrow, ldq, 0.0, qk_at, kb, dt)
            qk = _gather(qk_parts)
            if causal and num_keys - n <= ks:
                _causal_fill(qk, m, n, -inf)
            if m4 is not None:
                mk = _mask_block(m4, m, qb, n, kb)
                if dt is _F32 or (finite and not causal):
                    qk = fma(qk, float(sc), mk)
                else:  # (float64's emulated fma makes nan of infinities: there the sum is the plain one)
                    inf_at = ~(np.isfinite(mk) & np.isfinite(qk))
                    fused = fma(np.where(inf_at, typ(0), qk), float(sc), np.where(inf_at, typ(0), mk))
                    qk *= sc
                    qk += mk
                    qk = np.where(inf_at, qk, fused)
            else:
                qk *= sc
            tmax = np.maximum(mx, qk.max(axis=2))
            live = tmax != -inf
            every = bool(live.all())
            z = qk - tmax[..., None]
            full = kb - kb % L
            e = np.empty_like(z)
            if full:
                e[..., :full] = _vec_exp(z[..., :full])
                s = _halve(_seq(e[..., :full].reshape(BH, qb, full // L, L), 2))
            else:
                s = np.zeros((BH, qb), dt)
            if full < kb:
                e[..., full:] = _tail_exp(z[..., full:])
                for i in range(full, kb):
                    s += e[..., i]
            d = mx - tmax
            if not every:
                d[~live] = 0  # (-inf - -inf: no nan through exp; those rows keep their sums)
            et = _c_exp(d)
            new_sum = fma(et, sm, s)
            if not every:
                e[~live] = 0
                new_sum = np.where(live, new_sum, sm)
                tmax = np.where(live, tmax, mx)
            if n > 0:
                factor = (et if every else np.where(live, et, typ(1)))[..., None]
                lo = 0
                for part in dst_parts:
                    part *= factor[lo : lo + part.shape[0]]
                    lo += part.shape[0]
            sm, mx = new_sum, tmax
            _scatter(qk_parts, e)
            _gemms(_N, _N, E, qb, kb, 1.0, va + n * vrow, ldv, qk_at, kb, 0.0 if n == 0 else 1.0, dst_at, E, dt)
        mx[mx == -inf] = 0
        sm[sm == 0] = 1
        rec = typ(1) / sm
        np.multiply(_gather(dst_parts), rec[..., None], out=out[:, m : m + qb])
        lse[:, m : m + qb] = mx + c_math("log", sm)
    return out.reshape(B, H, n_q, E), lse.reshape(B, H, n_q)


# ---- backward -----------------------------------------------------------------------------------------------------
def _row_dot(g: np.ndarray, o: np.ndarray, L: int) -> np.ndarray:
    """vec::map2_reduce_all(x * y, x + y) along the last axis (products and sums rounded apart)."""
    p = g * o
    E = p.shape[-1]
    if E < L:
        return _seq(p, p.ndim - 1)
    full = E - E % L
    acc = _seq(p[..., :full].reshape(p.shape[:-1] + (full // L, L)), p.ndim - 1)
    if full < E:
        acc[..., : E - full] += p[..., full:]
    return _halve(acc)


_BTHD = (0, 2, 1, 3)  # the kernel's (batch, seq, head, dim) layout of the output's gradient and the gradients


def backward(g: np.ndarray, q: np.ndarray, k: np.ndarray, v: np.ndarray, out: np.ndarray, lse: np.ndarray,
             mask: np.ndarray | None, causal: bool, scale: float) -> tuple:  # fmt: skip
    """(dq, dk, dv) for the gradient g of forward's out (shapes as forward's)."""
    B, H, n_q, E = q.shape
    n_k = k.shape[2]
    dt = q.dtype
    typ, isz = dt.type, dt.itemsize
    BH = B * H
    q_, qa, qrow, ldq = _operand(q, H)  # (the copies stay referenced: the gemms read them by address)
    k_, ka, krow, ldk = _operand(k, H)
    v_, va, vrow, ldv = _operand(v, H)
    g_, ga_, grow, ldg = _operand(np.asarray(g, dt), H, _BTHD)
    grads = [_operand(np.zeros(x.shape, dt), H, _BTHD) for x in (q, k, v)]
    (dq, dqa, dqrow, lddq), (dk, dka, dkrow, lddk), (dv, dva, dvrow, lddv) = grads
    l2 = lse.reshape(BH, n_q)
    m4 = None if mask is None else np.broadcast_to(mask, (B, H, n_q, n_k))  # (a view: blocks copied in turn)
    qs, ks = min(_splits(n_q), n_q), min(_KV_SPLIT, n_k)
    L = _lanes(dt)
    sc = float(typ(scale))
    per_thread = 2 * qs * ks * isz
    attn_groups = _groups(BH, 0, 1, per_thread, 0)
    grad_groups = _groups(BH, 0, 1, per_thread, qs * ks * isz)
    dsum_all = _row_dot(np.asarray(g, dt).reshape(BH, n_q, E), np.asarray(out, dt).reshape(BH, n_q, E), L)
    exp = sleef.expf if dt is _F32 else sleef_more.exp64
    # grouped-query attention: a key head's gradients gather its query heads' in turn, each over all its blocks
    group = H // k.shape[1]
    for r in range(group):
        sel = np.arange(BH).reshape(-1, group)[:, r]
        _backward_items(sel, qs, ks, n_q, n_k, E, dt, causal, sc, exp, m4, l2, dsum_all, attn_groups, grad_groups,
                        (qa, qrow, ldq), (ka, krow, ldk), (va, vrow, ldv), (ga_, grow, ldg), (dqa, dqrow, lddq),
                        (dka, dkrow, lddk), (dva, dvrow, lddv))  # fmt: skip
    return np.ascontiguousarray(dq), np.ascontiguousarray(dk), np.ascontiguousarray(dv)


def _backward_items(sel: np.ndarray, qs: int, ks: int, n_q: int, n_k: int, E: int, dt: Any, causal: bool,
                    sc: float, exp: Any, m4: Any, l2: np.ndarray, dsum_all: np.ndarray, attn_groups: list,
                    grad_groups: list, *operands: tuple) -> None:  # fmt: skip
    """The backward kernel's blocks for the (batch, query head) items `sel`."""
    (qa, qrow, ldq), (ka, krow, ldk), (va, vrow, ldv), (ga_, grow, ldg) = operands[:4]
    (dqa, dqrow, lddq), (dka, dkrow, lddk), (dva, dvrow, lddv) = operands[4:]
    typ = dt.type
    qa, ka, va, ga_, dqa, dka, dva = (a[sel] for a in (qa, ka, va, ga_, dqa, dka, dva))
    picked = len(sel) != len(l2)
    if picked:
        l2, dsum_all = l2[sel], dsum_all[sel]
        attn_groups = grad_groups = [(0, len(sel), 0)]
    for m in range(0, n_q, qs):
        qb = min(qs, n_q - m)
        dsum = dsum_all[:, m : m + qb, None]
        num_keys = min(m + qb, n_k) if causal else n_k
        for n in range(0, num_keys, ks):
            kb = min(ks, n_k - n)
            attn_parts = _scratch(attn_groups, qb, kb, dt)
            attn_at = _addresses(attn_parts)
            _gemms(_T, _N, kb, qb, E, sc, ka + n * krow, ldk, qa + m * qrow, ldq, 0.0, attn_at, kb, dt)
            attn = _gather(attn_parts)
            if m4 is not None:
                mk = _mask_block(m4, m, qb, n, kb)
                attn += mk[sel] if picked else mk
            attn -= l2[:, m : m + qb, None]
            attn = exp(attn)
            if causal and num_keys - n <= ks:
                _causal_fill(attn, m, n, typ(0))
            _scatter(attn_parts, attn)
            _gemms(_N, _T, E, kb, qb, 1.0, ga_ + m * grow, ldg, attn_at, kb, 1.0, dva + n * dvrow, lddv, dt)
            grad_parts = _scratch(grad_groups, qb, kb, dt)
            grad_at = _addresses(grad_parts)
            _gemms(_T, _N, kb, qb, E, 1.0, va + n * vrow, ldv, ga_ + m * grow, ldg, 0.0, grad_at, kb, dt)
            ga = _gather(grad_parts)
            ga -= dsum
            ga *= attn
            _scatter(grad_parts, ga)
            _gemms(_N, _N, E, qb, kb, sc, ka + n * krow, ldk, grad_at, kb, 1.0, dqa + m * dqrow, lddq, dt)
            _gemms(_N, _T, E, kb, qb, sc, qa + m * qrow, ldq, grad_at, kb, 1.0, dka + n * dkrow, lddk, dt)
