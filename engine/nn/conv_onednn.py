"""conv2d's float32 cpu gradients as torch's oneDNN sums them (exact mode: MKL loaded), for the geometries where
torch's backward runs oneDNN's jit kernels (avx512_core; avx2 for the weight gradient of 4-15 input channels) and
their orders were measured bit for bit against torch 2.13 (oneDNN 3.12).

    input gradient   (stride 1) for each block of 16 output channels one fused multiply-add chain from 0 in (kernel
                     row, kernel column, output channel) order, the blocks' sums added in order (jit bwd_data); at a
                     stride oneDNN's brgconv_strided kernel instead: conv_onednn_strided.py
    weight gradient  the positions (image, output row, output column) split over torch's threads as oneDNN's
                     balance picks (a contiguous range of images, or of image rows, for each), one fused chain per
                     thread in that order from 0, the threads' partial sums then added in thread order
    bias gradient    the same split (the image-row harness), or the bias reducer's own split over images; plain
                     float32 adds in position order per thread, then the partial sums in thread order

A fused chain of any length is MKL's sgemm in pieces: MKL adds at most 160 products of an output as one plain
chain (measured for 4 or more rows and 16 or more columns), so each piece after the first carries the running
sums in as an identity block ahead of its products (1 * carry is exact, 0 * carry adds nothing).
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np

from engine.ops import mkl
from engine.ops.cascade_sum import torch_threads
from engine.ops.cpu_capability import _cpu_flags, mkl_order_known
from engine.ops.fma import fma

_F32 = np.dtype(np.float32)
_KMAX = 160  # products MKL's sgemm adds as one fused chain
_ROWS = 32  # output rows a chained product carries at once (each carried row costs one of the 160)
_MIN_ROWS, _MIN_COLS = 4, 16  # MKL's sgemm is the plain chain from these sizes up
_MAX_CHANNELS = 1024  # the channel counts measured
_BLOCK = 1 << 20  # floats of columns materialised at once (a few MB: the pieces stay in cache)


_HERE: list = []  # exact_here()'s answer, found on first use


def exact_here() -> bool:
    """Whether these orders hold on this machine: measured where torch's oneDNN runs its avx512_core kernels (no
    ONEDNN_MAX_CPU_ISA cap) and MKL 2024.2 its kernels for an AMD cpu (mkl_order_known), with MKL loaded."""
    if not _HERE:
        isa = os.environ.get("ONEDNN_MAX_CPU_ISA") or os.environ.get("DNNL_MAX_CPU_ISA")
        avx512 = {"avx512f", "avx512bw", "avx512vl", "avx512dq"} <= _cpu_flags()
        _HERE.append(avx512 and not isa and mkl_order_known())
    return _HERE[0] and mkl.available()


def _cdiv(a: int, b: int) -> int:
    return -(-a // b)


def _balance211(n: int, team: int) -> list[tuple[int, int]]:
    """oneDNN's balance211: n items over team threads, the first n % team of them one item more."""
    q, r = divmod(n, team)
    out, s = [], 0
    for t in range(team):
        e = s + q + (t < r)
        out.append((s, e))
        s = e
    return out


class _Chain:
    """Fused-chain sums of a (r, K) @ b (K, cols): acc = fl(acc + a_k * b_k) in k order, from 0 or from carried
    sums. b's rows are put into slabs of (carry rows, up to 160 - carry rows of b) first; each slab is then one
    MKL product whose output is the next slab's carry rows."""

    def __init__(self, r: int, cols: int, k: int) -> None:
        self.r, self.cols, self.k = r, cols, k
        self.rp = rp = max(min(r, _ROWS), _MIN_ROWS)
        self.groups = [(g, min(r, g + rp)) for g in range(0, r, rp)]
        self.cp = cp = max(cols, _MIN_COLS)
        self.step = step = _KMAX - rp
        self.nchunks = _cdiv(k, step)
        self.slab = np.empty((self.nchunks, rp + step, cp), _F32)
        if cp > cols:
            self.slab[:, :, cols:] = 0
        self.accs = [np.zeros((rp, cp), _F32) for _ in self.groups]

    def put(self, k0: int, block: Any) -> None:
        """b's rows k0.. (block: (m, ...) with cols elements a row)."""
        m = block.shape[0]
        rest = block.shape[1:]
        step, rp = self.step, self.rp
        done = 0
        while done < m:
            j, r0 = divmod(k0 + done, step)
            n = min(m - done, step - r0)
            dst = self.slab[j, rp + r0 : rp + r0 + n]
            src = block[done : done + n]
            if self.cp == self.cols:
                dst.reshape((n, *rest))[...] = src
            else:
                dst[:, : self.cols] = src.reshape(n, self.cols)
            done += n

    def put_rows(self, b: Any) -> None:
        """All of b (K, cols) at once."""
        step, rp, k = self.step, self.rp, self.k
        full = k // step
        if full:
            self.slab[:full, rp:, : self.cols] = b[: full * step].reshape(full, step, self.cols)
        if k > full * step:
            self.slab[full, rp : rp + k - full * step, : self.cols] = b[full * step :]

    def run(self, a: Any) -> None:
        """The chain over the put rows, continuing each row group's carried sums."""
        rp, step, k, slab, nch = self.rp, self.step, self.k, self.slab, self.nchunks
        eye = np.eye(rp, dtype=_F32)
        for i, (g0, g1) in enumerate(self.groups):
            am = np.zeros((nch, rp, rp + step), _F32)
            am[:, :, :rp] = eye
            ag = np.zeros((g1 - g0, nch * step), _F32)
            ag[:, :k] = a[g0:g1]
            am[:, : g1 - g0, rp:] = ag.reshape(g1 - g0, nch, step).transpose(1, 0, 2)
            slab[0, :rp] = self.accs[i]
            last = np.empty((rp, self.cp), _F32)
            mkl.gemm_chain(am, slab, self.cp, rp, [rp + min(step, k - j * step) for j in range(nch)], last)
            self.accs[i] = last

    def result(self) -> Any:
        parts = [acc[: g1 - g0, : self.cols] for acc, (g0, g1) in zip(self.accs, self.groups)]
        return parts[0] if len(parts) == 1 else np.concatenate(parts)


def _chain(a: Any, b: Any) -> Any:
    """a (r, K) @ b (K, cols) as one fused chain in k order from 0."""
    ch = _Chain(a.shape[0], b.shape[1], a.shape[1])
    ch.put_rows(b)
    ch.run(a)
    return ch.result()


def _in_parallel(f: Any, ranges: list, work: int) -> list:
    """[f(*r) for r in ranges], the ranges after the first on MKL's worker threads where the work is big enough
    (each range's chain is independent; ctypes lets go of the GIL in MKL)."""
    pool = mkl._threads() if len(ranges) > 1 and work >= mkl._PAR_GEMM_MIN else None
    if pool is None:
        return [f(*r) for r in ranges]
    futures = [pool.submit(f, *r) for r in ranges[1:]]
    return [f(*ranges[0])] + [fut.result() for fut in futures]


def _kernel_ok(x_shape: tuple, w_shape: tuple, stride: tuple, padding: tuple, channels: int = _MAX_CHANNELS) -> bool:
    """The geometries whose orders were measured: padding below the kernel size, at most 1024 channels each way (or
    channels), kernels up to 14 wide (oneDNN's jit limit)."""
    n, c, h, w = x_shape
    o, _, kh, kw = w_shape
    if padding[0] >= kh or padding[1] >= kw or c > channels or o > channels or kw > 14:
        return False
    return n * c * h * w > 0 and o > 0


# ---- input gradient -------------------------------------------------------------------------------------------


def conv2d_input_grad(g: Any, w: Any, x_shape: tuple, stride: tuple, padding: tuple) -> Any | None:
    """The input gradient of conv2d (groups 1, no dilation, stride 1) as oneDNN's jit bwd_data sums it, or None
    where not known (a strided one runs oneDNN's brgemm kernel, in another order)."""
    if stride != (1, 1) or not _kernel_ok(x_shape, w.shape, stride, padding) or not mkl.available():
        return None
    n, o, oh, ow = g.shape
    _, c, kh, kw = w.shape
    h, wd = x_shape[2:]
    ph, pw = padding
    # z[.., kh - 1 + ih - i, ..] holds the output gradient that tap (i, j) of input row ih reads (zeros elsewhere)
    z = np.zeros((n, o, h + kh - 1, wd + kw - 1), _F32)
    z[:, :, kh - 1 - ph : kh - 1 - ph + oh, kw - 1 - pw : kw - 1 - pw + ow] = g
    wt = w.transpose(1, 2, 3, 0)  # (c, kh, kw, o)
    out = np.empty((n, c, h, wd), _F32)
    for o0 in range(0, o, 16):  # each block of 16 output channels one chain, added to the blocks before it
        o1 = min(o, o0 + 16)
        a = np.ascontiguousarray(wt[..., o0:o1]).reshape(c, -1)
        k = a.shape[1]
        per = max(1, _BLOCK // max(1, k * h * wd))
        for n0 in range(0, n, per):
            n1 = min(n, n0 + per)
            chain = _Chain(c, (n1 - n0) * h * wd, k)
            for i in range(kh):
                for j in range(kw):
                    tap = z[n0:n1, o0:o1, kh - 1 - i : kh - 1 - i + h, kw - 1 - j : kw - 1 - j + wd]
                    chain.put((i * kw + j) * (o1 - o0), tap.transpose(1, 0, 2, 3))
            chain.run(a)
            part = chain.result().reshape(c, n1 - n0, h, wd).transpose(1, 0, 2, 3)
            if o0 == 0:
                out[n0:n1] = part
            else:
                out[n0:n1] += part
    return out


# ---- weight and bias gradients: oneDNN's thread split ------------------------------------------------------------


def _reducer_split(nthr: int, job_size: int, njobs: int, red: int, max_buffer: int) -> int:
    """oneDNN's reduce_balancer_t::balance: how many threads share one job's reduction."""
    min_per = max(1, njobs // nthr)
    max_per = max(1, max_buffer // (nthr * job_size))
    ngroups = min(njobs // min_per, nthr)
    per_group = min(nthr // ngroups, red)
    ub = njobs * job_size * red
    for c in range(min_per, njobs):
        cg = min(njobs // c, nthr)
        cpg = min(nthr // cg, red)
        cub = _cdiv(njobs, cg)
        if cpg > 1 and cub > max_per:
            continue
        cost = job_size * cub * (_cdiv(red, cpg) + (cpg != 1))
        if cost < ub:
            per_group, ub = cpg, cost
    return per_group


def _avx512_nthr_mb(mb: int, nb_ic: int, ic_block: int, nb_oc: int, ih: int, iw: int, oh: int, ow: int, kh: int,
                    kw: int, sh: int, sw: int, two_d: bool, nthreads: int) -> int:  # fmt: skip
    """jit_avx512_common_conv_bwd_weights_kernel_f32::balance: the threads the reduction is split over."""
    ih_r, oh_r = (ih, oh) if two_d else (1, 1)
    ih_n, oh_n = (1, 1) if two_d else (ih, oh)
    nthr_oh = max(1, oh_r // 9)

    def mem(nm: int, no: int, ni: int) -> int:
        src = _cdiv(mb * ih_r, nm) * _cdiv(nb_ic, ni) * ic_block * ih_n * iw // sh // sw
        dst = _cdiv(mb * oh_r, nm) * _cdiv(nb_oc, no) * 16 * oh_n * ow
        return src + dst + 8 * _cdiv(nb_oc, no) * _cdiv(nb_ic, ni) * kh * kw * ic_block * 16

    def comp(nm: int, no: int, ni: int) -> int:
        return _cdiv(mb * oh_r, nm) * _cdiv(nb_oc, no) * _cdiv(nb_ic, ni)

    def candidates() -> Any:
        for nm in range(1, min(nthreads, mb * nthr_oh) + 1):
            par = nthreads // nm
            for no in range(1, min(par, nb_oc) + 1):
                yield nm, no, min(par // no, nb_ic)

    best, best_mem = (1, 1, 1), mem(1, 1, 1)
    for cand in candidates():
        m = mem(*cand)
        if m <= best_mem:
            best, best_mem = cand, m
    best_comp = comp(*best)
    for cand in candidates():
        cc = comp(*cand)
        if (cc <= best_comp and mem(*cand) < 1.1 * best_mem) or 4 * cc <= 3 * best_comp:
            best, best_comp = cand, cc
    nm = best[0]
    if nthreads // 2 < nm < nthreads:
        nm = min(mb * nthr_oh, nthreads)
    return nm


def _weight_plan(x_shape: tuple, w_shape: tuple, os: tuple, stride: tuple, padding: tuple) -> tuple | None:
    """(rows per image (the weight split's unit: 1 = whole images, oh = image rows), the weight gradient's thread
    ranges over those units, the bias gradient's (unit, ranges)); None where oneDNN's choice is not known."""
    n, c, h, wd = x_shape
    o, _, kh, kw = w_shape
    oh, ow = os
    (sh, sw), (ph, pw) = stride, padding
    nthr = torch_threads()
    b_pad = max(0, (oh - 1) * sh + kh - h - ph)
    r_pad = max(0, (ow - 1) * sw + kw - wd - pw)
    avx512_pads = ph <= kh // 2 and b_pad <= kh // 2 and r_pad < kw
    if (c in (1, 2, 3) or c >= 16) and avx512_pads:  # jit:avx512_core (a first convolution: 1-3 channels unblocked)
        first = c < 16
        nb_ic, ic_block = (1, c) if first else (_cdiv(c, 16), 16)
        nb_oc = _cdiv(o, 16)
        two_d = oh > 9
        nm = _avx512_nthr_mb(n, nb_ic, ic_block, nb_oc, h, wd, oh, ow, kh, kw, sh, sw, two_d, nthr)
        unit = oh if two_d else 1
        wparts = _balance211(n * unit, nm)
        if two_d:
            return unit, wparts, (unit, wparts)
        per = _reducer_split(nthr, 16, nb_oc, n, nthr * 3 * 5 * 5 * 16 * 16)
        return unit, wparts, (1, _balance211(n, per))
    # jit:avx2 (8-channel blocks; also where the avx512 kernel takes no such padding), within its bounds (else
    # oneDNN's gemm convolution)
    if not (ph < kh and b_pad < kh and pw < kw and r_pad < kw and kh <= h and kw < 14):
        return None
    nb_oc, nb_ic = _cdiv(o, 8), _cdiv(c, 8)
    per_w = _reducer_split(nthr, kh * kw * 64, nb_oc * nb_ic, n, 1 << 21)
    per_b = _reducer_split(nthr, 8, nb_oc, n, 1 << 21)
    return 1, _balance211(n, per_w), (1, _balance211(n, per_b))


def _bias_sums(g: Any, pos: list) -> Any:
    """The bias gradient: for each thread's positions (ranges over (image, row, column)) plain float32 adds in
    order, the threads' sums then added in order."""
    n, o = g.shape[:2]
    gt = g.reshape(n, o, -1).transpose(1, 0, 2).reshape(o, -1)
    gb = None
    for p0, p1 in pos:
        part = np.cumsum(gt[:, p0:p1], axis=1, dtype=_F32)[:, -1]
        gb = part if gb is None else gb + part
    return np.ascontiguousarray(gb)


def conv2d_bias_grad(x_shape: tuple, g: Any, w_shape: tuple, stride: tuple, padding: tuple) -> Any | None:
    """The bias gradient alone (a frozen weight), as oneDNN's bwd_weights sums it, or None where not known."""
    if not _kernel_ok(x_shape, w_shape, stride, padding):
        return None
    oh, ow = g.shape[2:]
    plan = _weight_plan(x_shape, w_shape, (oh, ow), stride, padding)
    if plan is None:
        return None
    _, _, (bunit, bparts) = plan
    return _bias_sums(g, [(s * oh * ow // bunit, e * oh * ow // bunit) for s, e in bparts if s < e])


def conv2d_weight_grad(x: Any, g: Any, w_shape: tuple, stride: tuple, padding: tuple, bias: bool) -> tuple | None:
    """(weight gradient, bias gradient or None) of conv2d (groups 1, no dilation) as oneDNN's bwd_weights, or None
    where not known."""
    if not _kernel_ok(x.shape, w_shape, stride, padding) or not mkl.available():
        return None
    n, c, h, wd = x.shape
    o, _, kh, kw = w_shape
    oh, ow = g.shape[2:]
    plan = _weight_plan(x.shape, w_shape, (oh, ow), stride, padding)
    if plan is None:
        return None
    unit, wparts, (bunit, bparts) = plan
    (sh, sw), (ph, pw) = stride, padding
    xp = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw))) if ph or pw else x
    sn, sc, s_h, s_w = xp.strides
    kk = c * kh * kw
    ohw = oh * ow
    pos = [(s * ohw // unit, e * ohw // unit) for s, e in wparts if s < e]  # each thread's positions
    bpos = [(s * ohw // bunit, e * ohw // bunit) for s, e in bparts if s < e]
    fold = bias and bpos == pos  # the bias sums ride along as products with 1 (fl(acc + g * 1) is acc + g)
    kr = kk + fold
    # (rows o, columns c*kh*kw) or its transpose, whichever MKL pads less
    by_oc = max(min(o, _ROWS), _MIN_ROWS) * _cdiv(o, _ROWS) * max(kr, _MIN_COLS) <= max(
        min(kr, _ROWS), _MIN_ROWS
    ) * _cdiv(kr, _ROWS) * max(o, _MIN_COLS)
    gt = np.ascontiguousarray(g.transpose(1, 0, 2, 3)).reshape(o, n * ohw)
    per = max(1, _BLOCK // max(1, ohw * kr))  # images whose columns are materialised at once

    def part(p0: int, p1: int) -> Any:
        acc = None
        for i0 in range(p0 // ohw, _cdiv(p1, ohw), per):
            i1 = min(n, i0 + per)
            q0, q1 = max(p0, i0 * ohw), min(p1, i1 * ohw)
            win = np.lib.stride_tricks.as_strided(
                xp[i0:], (c, kh, kw, i1 - i0, oh, ow), (sc, s_h, s_w, sn, s_h * sh, s_w * sw)
            )
            cols = np.empty((kr, i1 - i0, oh, ow), _F32)  # (c*kh*kw [+ a row of ones], positions)
            cols[:kk].reshape(c, kh, kw, i1 - i0, oh, ow)[...] = win
            if fold:
                cols[kk] = 1
            cols = cols.reshape(kr, -1)[:, q0 - i0 * ohw : q1 - i0 * ohw]
            ch = _Chain(o, kr, q1 - q0) if by_oc else _Chain(kr, o, q1 - q0)
            if acc is not None:
                ch.accs = acc
            if by_oc:
                ch.put_rows(cols.T)
                ch.run(gt[:, q0:q1])
            else:
                ch.put_rows(gt[:, q0:q1].T)
                ch.run(cols)
            acc = ch.accs
        return ch.result() if by_oc else ch.result().T

    parts = _in_parallel(part, pos, (n * ohw) * kr * o)
    total = parts[0]
    for p in parts[1:]:
        total = total + p
    gw = np.ascontiguousarray(total[:, :kk]).reshape(w_shape)
    gb = None
    if fold:
        gb = np.ascontiguousarray(total[:, kk])
    elif bias:
        gb = _bias_sums(g, bpos)
    return gw, gb


# ---- forward ----------------------------------------------------------------------------------------------------


def conv2d_forward(x: Any, w: Any, b: Any, stride: tuple, padding: tuple) -> Any | None:
    """conv2d (groups 1, no dilation) as oneDNN's jit forward sums it: for each block of 16 input channels one fused
    chain from 0 in (kernel row, kernel column, channel) order; the bias (b, or None) added to the first block's
    sums, the later blocks' sums added in order. None where not known."""
    if not _kernel_ok(x.shape, w.shape, stride, padding) or not mkl.available():
        return None
    n, c, h, wd = x.shape
    o, _, kh, kw = w.shape
    (sh, sw), (ph, pw) = stride, padding
    oh, ow = (h + 2 * ph - kh) // sh + 1, (wd + 2 * pw - kw) // sw + 1
    xp = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw))) if ph or pw else x
    sn, sc, s_h, s_w = xp.strides
    wt = w.transpose(0, 2, 3, 1)  # (o, kh, kw, c)
    out = np.empty((o, n, oh, ow), _F32)
    for c0 in range(0, c, 16):
        c1 = min(c, c0 + 16)
        a = np.ascontiguousarray(wt[..., c0:c1]).reshape(o, -1)
        k = a.shape[1]
        per = max(1, _BLOCK // max(1, k * oh * ow))
        for n0 in range(0, n, per):
            n1 = min(n, n0 + per)
            base = xp[n0:n1, c0:c1]
            win = np.lib.stride_tricks.as_strided(
                base, (kh, kw, c1 - c0, n1 - n0, oh, ow), (s_h, s_w, sc, sn, s_h * sh, s_w * sw)
            )
            chain = _Chain(o, (n1 - n0) * oh * ow, k)
            for i in range(kh):
                for j in range(kw):
                    chain.put((i * kw + j) * (c1 - c0), win[i, j])
            chain.run(a)
            part = chain.result().reshape(o, n1 - n0, oh, ow)
            if c0 == 0:
                out[:, n0:n1] = part if b is None else part + b.reshape(o, 1, 1, 1)
            else:
                out[:, n0:n1] += part
    return np.ascontiguousarray(out.transpose(1, 0, 2, 3))


# ---- a kernel that covers the whole input: oneDNN's convolution as an inner product -------------------------------

_IP_KS = 27  # oneDNN's check_conv_ip: more kernel taps than this (and more than one image) run as an inner product
_IP_MAX = 19600  # forward sums measured as one thread's at 2 and 4 threads (longer ones are split over threads; at
# 1 thread measured up to 49000)
_IP_BWD_MAX = 2048  # the input gradient's sums measured up to this many output channels


def ip_applies(x_shape: tuple, w_shape: tuple, stride: tuple, padding: tuple) -> bool:
    """Whether oneDNN runs this conv2d (groups 1, no dilation) as an inner product (ip:any, its brgemm matmul): the
    kernel covers the whole unpadded input (a 1x1 output) at stride 1, more than 27 taps, more than one image (its
    check_conv_ip)."""
    n, c, h, wd = x_shape
    o, _, kh, kw = w_shape
    if stride != (1, 1) or padding != (0, 0) or (kh, kw) != (h, wd) or kh * kw <= _IP_KS or n < 2:
        return False
    return c * kh * kw > 0 and o > 0 and mkl.available()


def _ip_rows(a: Any) -> Any:
    """(N, C, KH, KW) as (N, KH*KW*C): the channels-last order the inner product reduces in."""
    return np.ascontiguousarray(a.transpose(0, 2, 3, 1)).reshape(a.shape[0], -1)


def _blocked_chain(a: Any, b: Any) -> Any:
    """a (r, K) @ b (K, cols) as oneDNN's brgemm matmul sums it: per block of K one fused chain from 0, the blocks'
    sums added in order; blocks of 512 where K is 513 to 1024, else of 1024 (measured: forward, backward data and
    weights alike)."""
    k = a.shape[1]
    block = 512 if 512 < k <= 1024 else 1024
    out = None
    for k0 in range(0, k, block):
        part = _chain(a[:, k0 : k0 + block], b[k0 : k0 + block])
        out = part if out is None else out + part
    return out


def ip_forward(x: Any, w: Any, b: Any) -> Any | None:
    """conv2d's forward as oneDNN's inner product sums it: _blocked_chain over (kernel row, column, channel), the bias
    (b, or None) added last; (N, O, 1, 1). One output channel runs an avx2 kernel instead (_ip_forward_one). None
    past the measured sizes."""
    n, o = x.shape[0], w.shape[0]
    if x[0].size > _IP_MAX and torch_threads() > 1:  # (longer sums split over threads: not known)
        return None
    xr, wr = _ip_rows(x), _ip_rows(w)
    if o == 1:
        return _ip_forward_one(xr, wr[0], b).reshape(n, 1, 1, 1)
    out = _blocked_chain(wr, xr.T)
    if b is not None:
        out = out + b.reshape(o, 1)
    return np.ascontiguousarray(out.T).reshape(n, o, 1, 1)


def _ip_forward_one(xr: Any, wr: Any, b: Any) -> Any:
    """One output channel (oneDNN's avx2 matmul kernel, measured): per block of 1024 products eight fused chains from
    0, lane l taking the products l, l + 8, ...; lanes l and l + 4 added, then (0 + 1) + (2 + 3); the blocks' sums
    added in order, the bias last."""
    n, k = xr.shape
    out = None
    for k0 in range(0, k, 1024):
        m = min(k, k0 + 1024) - k0
        mp = _cdiv(m, 8) * 8
        xs, ws = np.zeros((n, mp), _F32), np.zeros(mp, _F32)  # (zero products add nothing)
        xs[:, :m], ws[:m] = xr[:, k0 : k0 + m], wr[k0 : k0 + m]
        acc = np.zeros((n, 8), _F32)
        for j in range(0, mp, 8):
            fma(xs[:, j : j + 8], ws[j : j + 8], acc, out=acc)
        v = acc[:, :4] + acc[:, 4:]
        part = (v[:, 0] + v[:, 1]) + (v[:, 2] + v[:, 3])
        out = part if out is None else out + part
    return out if b is None else out + b[0]


def ip_input_grad(g: Any, w: Any) -> Any | None:
    """The input gradient of ip_forward's convolution: _blocked_chain over the output channels; (N, C, KH, KW)."""
    n, o = g.shape[:2]
    _, c, kh, kw = w.shape
    if o > _IP_BWD_MAX:
        return None
    gx = _blocked_chain(np.ascontiguousarray(g.reshape(n, o)), _ip_rows(w))
    return gx.reshape(n, kh, kw, c).transpose(0, 3, 1, 2).copy()


def ip_deconv_forward(x: Any, w: Any, b: Any) -> Any | None:
    """conv_transpose2d of a 1x1 input x (N, CI, 1, 1) with w (CI, CO, KH, KW) as oneDNN's inner product sums it: the
    input gradient of ip_forward's convolution, the bias (b, or None) added last; None past the measured sizes."""
    n, ci = x.shape[:2]
    co, kh, kw = w.shape[1:]
    if ci > _IP_BWD_MAX:
        return None
    out = _blocked_chain(np.ascontiguousarray(x.reshape(n, ci)), w.reshape(ci, -1)).reshape(n, co, kh, kw)
    return out if b is None else out + b.reshape(1, co, 1, 1)


def ip_weight_grad(x: Any, g: Any) -> Any | None:
    """The weight gradient of ip_forward's convolution: _blocked_chain over the images (measured up to 1024 of them:
    2048 sum otherwise); (O, C, KH, KW)."""
    n, c, kh, kw = x.shape
    o = g.shape[1]
    if n > 1024:
        return None
    gw = _blocked_chain(np.ascontiguousarray(g.reshape(n, o).T), _ip_rows(x))
    return gw.reshape(o, kh, kw, c).transpose(0, 3, 1, 2).copy()


def ip_bias_grad(g: Any) -> Any | None:
    """The bias gradient of ip_forward's convolution as oneDNN sums it (measured up to 300 images): the images dealt
    round to 16 lanes (8 below 16 images), each lane's sum from 0 in order, the lanes' halves added (lane i + lane
    i + 8, then i + 4) down to four, then (0 + 1) + (2 + 3). None past 300 images."""
    n, o = g.shape[:2]
    if n > 300:
        return None
    lanes = 8 if n < 16 else 16
    gr = g.reshape(n, o)
    acc = np.zeros((lanes, o), _F32)
    for r0 in range(0, n, lanes):
        part = gr[r0 : r0 + lanes]
        acc[: part.shape[0]] += part
    while acc.shape[0] > 4:
        h = acc.shape[0] // 2
        acc = acc[:h] + acc[h:]
    return (acc[0] + acc[1]) + (acc[2] + acc[3])
