"""conv2d's float32 cpu input gradient at a stride above 1 (and so conv_transpose2d's forward) as torch's oneDNN
sums it: its brgconv_strided kernel (brgemm_convolution_bwd_strided_t, avx512_core, oneDNN 3.12), measured bit for
bit against torch 2.13.

Each input position (image, row, column) is a sum of brgemm calls, each one fused multiply-add chain from 0 over
its taps (kernel row, then kernel column) and, within a tap, all the output channels in order; the calls' sums are
added in call order. Which taps share a call is the kernel's blocking:

    uneven width (width % stride_w != 0): exec_trans, one call for each block of kernel rows, all its columns;
    else exec_base, per block of input columns (iw_block) and stride sector: the kernel columns that reach past the
        gradient's edge for some column of the block each a call of their own, those before the ones that reach
        it everywhere (one call), those after last; each of these for each block of kernel rows, in order.

A block of kernel rows is all of them or stride_h of them (one tap row each); that and iw_block are what oneDNN's
cost model picks (brg_blocking_t: est_eff over the candidate blockings, in float32, with this machine's per-core
cache sizes and torch's thread count), ported here as it is. The few shapes the kernel skips for f32 (its list of
performance regressions, the MNIST DCGAN's 28 -> 14 -> 7 among them) run oneDNN's jit kernel, whose sums are those of
stride 1: for each block of 16 output channels one chain over every tap, the blocks added.

Taps that miss the gradient's strided grid (and oneDNN skips) are left out: each (row, column) stride sector of the
input is summed on its own with its own taps.
"""

from __future__ import annotations

import functools
import os
from typing import Any

import numpy as np

from engine.nn.conv_onednn import _Chain, _kernel_ok
from engine.ops import mkl
from engine.ops.cascade_sum import torch_threads

_F32 = np.dtype(np.float32)
f32 = np.float32
_BLOCK = 1 << 20  # floats of gathered taps materialised at once
_MAX_CHANNELS = 1024  # the channel counts measured each way


def _cdiv(a: int, b: int) -> int:
    return -(-a // b)


def _rnd_up(a: int, b: int) -> int:
    return _cdiv(a, b) * b


def _sat(lo: int, hi: int, v: int) -> int:
    return max(lo, min(hi, v))


# ---- oneDNN's blocking choice (jit_brgemm_conv_bwd_utils.cpp) ---------------------------------------------------

_CACHE: list = []


def _cache_sizes() -> tuple:
    """(L1, L2) data cache bytes per core as oneDNN reads them (cpuid; sysfs here), else its guesses."""
    if not _CACHE:
        sizes = {1: 32 * 1024, 2: 512 * 1024}
        base = "/sys/devices/system/cpu/cpu0/cache"
        try:
            for idx in sorted(os.listdir(base)):
                d = os.path.join(base, idx)
                if not idx.startswith("index"):
                    continue
                with open(os.path.join(d, "level")) as fh:
                    level = int(fh.read())
                with open(os.path.join(d, "type")) as fh:
                    kind = fh.read().strip()
                if level not in sizes or kind not in ("Data", "Unified"):
                    continue
                with open(os.path.join(d, "size")) as fh:
                    text = fh.read().strip()
                size = int(text[:-1]) * {"K": 1024, "M": 1 << 20}[text[-1]] if text[-1] in "KM" else int(text)
                with open(os.path.join(d, "shared_cpu_list")) as fh:
                    shared = fh.read().strip()
                cpus = 0
                for part in shared.split(","):
                    a, _, b = part.partition("-")
                    cpus += int(b or a) - int(a) + 1
                sizes[level] = size // max(1, cpus)
        except (OSError, ValueError, KeyError):
            pass
        _CACHE.append((sizes[1], sizes[2]))
    return _CACHE[0]


# shapes oneDNN skips for f32 ("implementation skipped due to low performance"): (ic, oc, ih, iw, oh, ow, k, s)
_REGRESSION = (
    (512, 1024, 8, 8, 4, 4, 4, 2),
    (1024, 2048, 4, 4, 2, 2, 4, 2),
    (64, 128, 513, 513, 256, 256, 3, 2),
    (32, 64, 1025, 1025, 512, 512, 3, 2),
    (128, 256, 257, 257, 128, 128, 3, 2),
    (256, 512, 49, 41, 23, 19, 5, 2),
    (64, 128, 14, 14, 7, 7, 4, 2),
    (1, 64, 28, 28, 14, 14, 4, 2),
)


def _regression(c: int, o: int, h: int, wd: int, oh: int, ow: int, k: tuple, s: tuple) -> bool:
    if (c, o, h, oh, wd, ow) in ((128, 256, 101, 49, 85, 41), (3, 128, 207, 101, 175, 85)):
        return True
    square = k[0] == k[1] and s[0] == s[1]
    return square and (c, o, h, wd, oh, ow, k[0], s[0]) in _REGRESSION


def _brgemm_ur(m: int, n: int, k: int, l1: int) -> int:
    """brgemm_blocking's bd_block for an f32 zmm kernel of m x n x k (no post-ops, beta 0)."""
    ldb = n // 16
    adj = max(1, 4 if ldb // 4 else ldb % 4)
    mbb = (32 - 1 - adj) // adj
    best, bd_block = f32(0), mbb
    for bd in range(mbb, 0, -1):
        eff = (f32(m) / f32(_rnd_up(m, bd))) * ((f32(adj) * bd) / f32((adj + bd) * mbb))
        if f32(4 * bd * k) <= f32(l1) and eff > best:
            bd_block, best = bd, eff
    return bd_block


_L1K, _L2K, _L3K, _MEMK = f32(1), f32(3), f32(15), f32(15)


def _io_k(loop: tuple, arr: tuple, pk: Any, bcast: bool, shared: bool, l1: int, l2: int) -> Any:
    n = f32(arr[1]) * f32(arr[2])
    if n < 1:
        return f32(0)
    if n == 1:
        return pk
    src, dst, wei = loop[0][0], loop[1][0], loop[2][0]
    amount = (src + wei + dst) * 4
    if bcast and src * 4 < l1:
        k = _L1K
    elif amount < l2:
        k = _L2K
    else:
        k = _L3K if shared else _MEMK
    return (pk + k * (n - f32(1))) / n


def _nd_jobs(b: dict, work: int, nthr: int, ndhwgc: bool) -> Any:
    """est_eff's job balance where there are fewer jobs than threads (its iterator stepped as it does)."""
    mb, ih, nb_sp, nb_ic, ic, ic_block, sp, sp_block = (
        b["mb"], b["ih"], b["nb_sp"], b["nb_ic"], b["ic"], b["ic_block"], b["sp"], b["sp_block"])  # fmt: skip
    dims_a = (mb, 1, ih, nb_sp, 1, nb_ic)  # n, idp, ihp, spb, g, icb
    dims_b = (mb, 1, nb_ic, 1, ih, nb_sp)  # n, g, icb, idp, ihp, spb
    total = mb * ih * nb_sp * nb_ic

    def unravel(x: int, dims: tuple) -> list:
        out = []
        for d in reversed(dims):
            out.append(x % d)
            x //= d
        return out[::-1]

    def ravel(c: list, dims: tuple) -> int:
        lin = 0
        for v, d in zip(c, dims):
            lin = lin * d + v
        return lin

    def to_b(c: list) -> list:
        return [c[0], c[4], c[5], c[1], c[2], c[3]]

    def from_b(c: list) -> list:
        return [c[0], c[3], c[4], c[5], c[1], c[2]]

    jobs = []
    for ithr in range(nthr):
        if ithr >= work:
            jobs.append(0)
            continue
        q, r = divmod(work, nthr)
        start = ithr * q + min(ithr, r)
        end = start + q + (ithr < r)
        cur = unravel(start, dims_a) if ndhwgc else from_b(unravel(start, dims_b))
        job = 0
        for _ in range(start, end):
            icb, spb = cur[5], cur[3]
            job += min(sp - spb * sp_block, sp_block) * min(ic - icb * ic_block, ic_block)
            cur = unravel((ravel(cur, dims_a) + 1) % total, dims_a)
            if ndhwgc:
                cur = unravel((ravel(cur, dims_a) + 1) % total, dims_a)
            else:
                cur = from_b(unravel((ravel(to_b(cur), dims_b) + 1) % total, dims_b))
        jobs.append(job)
    mx = max(jobs)
    return f32(1) if mx == 0 else f32(sum(jobs)) / f32(mx * nthr)


def _est_eff(b: dict, l1: int, l2: int) -> Any:
    """brg_blocking_t::est_eff (not 1x1), in float32 as oneDNN computes it."""
    mb, ic, oc, ih, kh, kw, sw, ow = (b[k] for k in ("mb", "ic", "oc", "ih", "kh", "kw", "sw", "ow"))
    ic_block, ur, sp_block, sp, nthr = b["ic_block"], b["ur"], b["sp_block"], b["sp"], b["nthr"]
    nb_ih, nb_sp, nb_ic, ih_block = b["nb_ih"], b["nb_sp"], b["nb_ic"], b["ih_block"]
    kh_block, nb_kh = b["kh_block"], b["nb_kh"]
    ndhwgc = b["ndhwgc"]
    icblock = ic_block // 16
    micro = (f32(icblock) * ur) / f32((ur + icblock) * 32)
    ur_eff = f32(sp_block) / f32(_rnd_up(sp_block, ur))
    koeff = f32(ur) * (f32(2) - min(f32(1.9), f32(ur) / f32(sp_block))) / f32(64)
    kk = f32(1) / f32(0.5)
    brgemm_eff = (kk - 1 + koeff) / kk
    sp_amount = nb_ih * nb_sp
    work = mb * nb_ic * sp_amount
    sp_eff = f32(sp) / f32(_rnd_up(sp, sp_block))
    ic_block_eff = f32(ic) / f32(_rnd_up(ic, ic_block))
    job = _cdiv(work, nthr)
    job_eff = _nd_jobs(b, work, nthr, ndhwgc) if job < nthr else f32(work) / f32(_rnd_up(work, nthr))

    def inp_w(out_w: int, ker_w: int) -> int:
        return min(ow, (out_w - 1) * min(ker_w, sw) + ker_w)

    def rnd_inp_simd(out_w: int, ker_w: int, voc: int) -> int:
        vsp = inp_w(out_w, ker_w)
        return _rnd_up(vsp * voc, 16) if (sw == 1 and voc >= oc) else vsp * _rnd_up(voc, 16)

    loops = []  # (src, dst, wei), each (itersize, repeatn, overlap)
    icbs = ic_block * oc
    loops.append(((inp_w(ur, kw) * 16, 1, 16), (0, 1, 1), (ic_block, 1, 1)))
    src_is = rnd_inp_simd(ur, kw, oc)
    loops.append(((src_is, 1, kw), (0, 1, 1), (icbs, 1, 1)))
    loops.append(((src_is, 1, 1), (0, 1, 1), (kw * icbs, 1, 1)))
    wei_is = kh_block * kw * icbs
    loops.append(((kh_block * src_is, 1, 1), (ur * ic_block, 1, 1), (wei_is, _cdiv(sp_block, ur), 1)))
    loops.append(((kh_block * rnd_inp_simd(sp_block, kw, oc), 1, 1), (sp_block * ic_block, nb_kh, 1), (wei_is, 1, 1)))
    loops.append(((kh * rnd_inp_simd(sp_block, kw, oc), 1, 1), (sp_block * ic_block, 1, 1), (kh * kw * icbs, 1, 1)))
    dim_ic = 1 if ndhwgc else sp_amount
    nb_ic_thr = min(nb_ic, _cdiv(job, dim_ic))
    nsimd_ic_thr = _cdiv(min(ic, nb_ic_thr * ic_block), 16)
    dim_sp = nb_ic if ndhwgc else 1
    nb_sp_thr = min(nb_sp, _cdiv(job, dim_sp))
    sp_thr = min(sp, nb_sp_thr * sp_block)
    nb_ih_thr = min(nb_ih, _cdiv(job, nb_sp * dim_sp))
    ih_thr = min(ih, nb_ih_thr * ih_block)
    nb_id_thr = min(1, _cdiv(job, nb_ih * nb_sp * dim_sp))
    id_thr = min(1, nb_id_thr)
    src_is = kh * rnd_inp_simd(sp_block, kw, oc)
    wei_op = kh * kw * icblock * oc
    if ndhwgc:
        wei_op = kh * kw * nsimd_ic_thr * oc
        loops.append(((src_is, nb_ic_thr, 1), (sp_block * ic_block, 1, 1), (kh * kw * ic_block * oc, 1, 1)))
    rnd_ic_for_sp = 16 * (nsimd_ic_thr if ndhwgc else icblock)
    loops.append(((src_is, 1, 1), (sp_block * rnd_ic_for_sp, 1, 1), (wei_op * 16, nb_sp_thr, 1)))
    src_is = kh * rnd_inp_simd(sp_thr, kw, oc)
    loops.append(((ih_block * src_is, 1, 1), (sp_thr * rnd_ic_for_sp, 1, 1), (wei_op * 16, nb_ih_thr, 1)))
    loops.append(((ih_thr * src_is, 1, 1), (ih_thr * sp_thr * rnd_ic_for_sp, 1, 1), (wei_op * 16, nb_id_thr, 1)))
    if not ndhwgc:
        loops.append(
            ((id_thr * ih_thr * src_is, nb_ic_thr, 1), (ic_block * id_thr * ih_thr * sp_thr, 1, 1),
             (kh * kw * ic_block * oc, 1, 1))
        )  # fmt: skip
    mb_thr = min(mb, _cdiv(job, sp_amount * nb_ic))
    loops.append(
        ((id_thr * ih_thr * src_is, 1, 1), (id_thr * ih_thr * sp_thr * nsimd_ic_thr * 16, 1, 1),
         (kh * kw * nsimd_ic_thr * 16 * oc, mb_thr, 1))
    )  # fmt: skip
    src_op = mb_thr * id_thr * ih_thr * sp_thr * kh * kw * oc
    dst_op = mb_thr * id_thr * ih_thr * sp_thr * nsimd_ic_thr
    wei_op = kh * kw * nsimd_ic_thr * oc
    loops.append(((src_op, 1, 1), (dst_op * 16, 1, 1), (wei_op * 16, 1, 1)))
    src_k = dst_k = wei_k = _MEMK
    src_rp = dst_rp = wei_rp = f32(1)
    for lp in reversed(loops):
        src_k = _io_k(lp, lp[0], src_k, True, not ndhwgc, l1, l2)
        dst_k = _io_k(lp, lp[1], dst_k, False, False, l1, l2)
        wei_k = _io_k(lp, lp[2], wei_k, False, ndhwgc, l1, l2)
        src_rp, dst_rp, wei_rp = src_rp * f32(lp[0][1]), dst_rp * f32(lp[1][1]), wei_rp * f32(lp[2][1])
    cost = src_k * (f32(src_op) * src_rp) + dst_k * (f32(dst_op) * dst_rp) + wei_k * (f32(wei_op) * wei_rp)
    cost = cost + f32(job * nb_kh)
    cache_eff = f32(mb * ih * sp * oc * ic) / (f32(nthr) * cost)
    return ic_block_eff * micro * sp_eff * job_eff * ur_eff * cache_eff * brgemm_eff


def blocking(x_shape: tuple, w_shape: tuple, stride: tuple, padding: tuple) -> tuple | None:
    """(kind, iw_block, kh_block) as oneDNN's brgconv_strided picks them for conv2d's input gradient (float32, groups
    1, no dilation): kind "trans" (exec_trans), "base" (exec_base), or "jit" for the shapes it skips; None at
    stride 1 or where not known."""
    return _blocking(tuple(x_shape), tuple(w_shape), tuple(stride), tuple(padding), torch_threads())


@functools.lru_cache(maxsize=256)
def _blocking(x_shape: tuple, w_shape: tuple, stride: tuple, padding: tuple, nthr: int) -> tuple | None:
    n, c, h, wd = x_shape
    o, _, kh, kw = w_shape
    (sh, sw), (ph, pw) = stride, padding
    oh, ow = (h + 2 * ph - kh) // sh + 1, (wd + 2 * pw - kw) // sw + 1
    if (sh, sw) == (1, 1):
        return None
    if _regression(c, o, h, wd, oh, ow, (kh, kw), (sh, sw)):  # (skipped: oneDNN's jit kernel instead)
        return "jit", wd, kh
    l1, l2 = _cache_sizes()
    uneven = wd % sw != 0
    r_pad, b_pad = (ow - 1) * sw + kw - wd - pw, (oh - 1) * sh + kh - h - ph
    ohp = oh + max(0, kh - 1 - ph) // sh + max(0, kh - 1 - b_pad) // sh
    owp = ow + max(0, kw - 1 - pw) // sw + max(0, kw - 1 - r_pad) // sw
    ndhwgc = uneven or not oh * ow < c * kh * kw
    sp = _rnd_up(wd, sw) if uneven else wd
    base = dict(mb=n, ic=c, oc=o, ih=h, kh=kh, kw=kw, sw=sw, ow=ow, nthr=nthr, sp=sp, ndhwgc=ndhwgc)
    best, best_eff, cur_eff = None, f32(0), f32(0)
    for icb in range(min(_cdiv(c, 16), 4), 0, -1):
        ic_block = icb * 16
        nb_ic = _cdiv(c, ic_block)
        rnd_ic = _rnd_up(c, 16)
        if ic_block == 64 and not (rnd_ic % 64 == 0 and rnd_ic * 4 < 768):
            continue
        if ic_block == 48 and not (rnd_ic % 48 == 0 and rnd_ic * 4 <= 1536 and oh * ow > 81 * sh * sw):
            continue
        max_thr = _sat(1, sp, int((f32(n * nb_ic * h * wd) + f32(0.9) * nthr - 1) / (f32(0.9) * nthr)))
        found, found_eff = None, cur_eff
        for khb in (kh, sh) if kh != 1 else (kh,):
            w_block = 2 * 4 * o * owp + 4 * wd * ic_block
            other = 4 * kh * kw * o * ic_block + 4 * 2 * 16 * ic_block
            l2_av = min(_cdiv(l2, 2), 0 if other > l2 else l2 - other)
            ih_block = _sat(1, h, l2_av // w_block) if ohp * w_block > l2_av else h
            thr_ic = _cdiv(nthr, n * _cdiv(c, ic_block))
            ih_block = min(ih_block, _cdiv(h, thr_ic))
            while (ih_block % sh != 0 or (h % sh == 0 and h % ih_block != 0)) and ih_block < h:
                ih_block += 1
            start = min(max_thr, wd)
            start_sp = _rnd_up(start, sw) if uneven else start
            prev = 0
            for ns in range(1, sp + 1):
                spb = _cdiv(sp, ns)
                if spb == prev or spb > start_sp or spb % sw != 0 or (not uneven and wd % spb != 0):
                    continue
                prev = spb
                m = _cdiv(spb, sw)
                ur = _brgemm_ur(m if m < spb else spb, ic_block if c >= ic_block else c % ic_block, o, l1)
                cand = dict(base, ic_block=ic_block, ur=ur, sp_block=spb, nb_ih=_cdiv(h, ih_block),
                            nb_sp=_cdiv(wd, spb), nb_ic=nb_ic, ih_block=ih_block, kh_block=khb,
                            nb_kh=_cdiv(kh, khb))  # fmt: skip
                eff = _est_eff(cand, l1, l2)
                if (eff > found_eff or found_eff == 0) and eff >= f32(0.00001):
                    found, found_eff = cand, eff
        if found is None:
            continue
        cur_eff = _est_eff(found, l1, l2)
        if cur_eff > best_eff:
            best, best_eff = found, cur_eff
    if best is None:  # (no blocking good enough: oneDNN's jit kernel instead, measured where the input is at least
        # a kernel each way)
        return ("jit", wd, kh) if h >= kh and wd >= kw else None
    return "trans" if uneven else "base", best["sp_block"], best["kh_block"]


# ---- the sums ---------------------------------------------------------------------------------------------------


def _kw_range(iw: int, iw_raw: int, block: int, sw: int, kw: int, pw: int, ow: int) -> tuple:
    """get_kw_range: (kw_s, kw_full_s, kw_full_f, kw_f) for the columns iw, iw + sw, .. of a block."""
    m = _cdiv(block, sw)
    kw_s = kfs = kff = kw_f = -1
    for j in range(kw):
        o0 = int((iw - j + pw) / sw)  # C's division, toward zero
        k = -o0 if o0 < 0 else 0
        s0 = iw + k
        if o0 + m - ow > 0:
            k += o0 + m - ow
        f0 = s0 + (m - k)
        s0 = min(s0, iw + m)
        width = min(max(f0, s0), iw + m) - s0
        if width > 0:
            if kw_s == -1:
                kw_s = j
            kw_f = j + 1
            if width == m:
                if kfs == -1:
                    kfs = j
                kff = j + 1
    if kw_f == -1:
        kw_s = kw_f = 0
    if kff == -1:
        kfs = kff = kw_f
    s = 0
    while (iw + pw - s) % sw:
        s += 1
    while kw_s % sw != s:
        kw_s += 1
    while kfs % sw != s:
        kfs += 1
    return kw_s, kfs, kff, kw_f


def _calls(kh: int, kh_block: int, sections: list) -> list:
    """The taps of each brgemm call, in call order: for each section of kernel columns (those past the left edge, the
    full ones, those past the right edge), for each block of kernel rows, for each group of columns in it."""
    rows = [list(range(kh))] if kh_block == kh else [[i] for i in range(kh)]
    return [[(i, j) for i in blk for j in grp] for sec in sections for blk in rows for grp in sec]


def conv2d_input_grad(g: Any, w: Any, x_shape: tuple, stride: tuple, padding: tuple) -> Any | None:
    """The input gradient of conv2d (groups 1, no dilation, a stride above 1) as torch's oneDNN sums it, or None where
    not known: its brgconv_strided kernel, or for the shapes that kernel skips its jit kernel (as at stride 1: for
    each block of 16 output channels one chain over all the taps, the blocks added)."""
    if stride == (1, 1) or not mkl.available() or not _kernel_ok(x_shape, w.shape, stride, padding, _MAX_CHANNELS):
        return None
    plan = blocking(x_shape, w.shape, stride, padding)
    if plan is None:
        return None
    kind, iw_block, kh_block = plan
    n, o, oh, ow = g.shape
    _, c, kh, kw = w.shape
    h, wd = x_shape[2:]
    (sh, sw), (ph, pw) = stride, padding
    # z[.., kh - 1 + ih + ph - i, kw - 1 + iw + pw - j] holds the output gradient that tap (i, j) of input (ih, iw)
    # reads (zeros between the strided rows and columns and beyond the edges)
    hz, wz = max(h + ph + kh - 1, (oh - 1) * sh + kh), max(wd + pw + kw - 1, (ow - 1) * sw + kw)
    z = np.zeros((o, n, hz, wz), _F32)
    rows, cols_ = slice(kh - 1, kh + (oh - 1) * sh, sh), slice(kw - 1, kw + (ow - 1) * sw, sw)
    z[:, :, rows, cols_] = g.transpose(1, 0, 2, 3)
    # the kept taps (below) read only z's rows and columns on the gradient's grid (kh - 1 and kw - 1 modulo the
    # stride): those alone, dense, so that each tap's window is copied in contiguous runs
    zd = np.ascontiguousarray(z[:, :, (kh - 1) % sh :: sh, (kw - 1) % sw :: sw])
    wt = w.transpose(1, 2, 3, 0)  # (c, kh, kw, o)
    out = np.zeros((n, c, h, wd), _F32)
    every = [(i, j) for i in range(kh) for j in range(kw)]
    if kind == "jit":
        groups = [(slice(0, wd, 1), [(every, o0, min(o, o0 + 16)) for o0 in range(0, o, 16)])]
    elif kind == "trans":  # all kernel columns in each call, for every column
        groups = [(slice(0, wd, 1), [(t, 0, o) for t in _calls(kh, kh_block, [[list(range(kw))]])])]
    else:
        groups = []
        for b0 in range(0, wd, iw_block):
            for s in range(min(sw, wd - b0)):
                kw_s, kfs, kff, kw_f = _kw_range(b0 + s, b0, iw_block, sw, kw, pw, ow)
                if not (kw_f > kw_s and kw_s < kw):
                    continue
                secs = [[[j] for j in range(kw_s, kfs, sw)], [list(range(kfs, kff, sw))] if kfs < kff else []]
                secs.append([[j] for j in range(kff, kw_f, sw)])
                calls = [(t, 0, o) for t in _calls(kh, kh_block, secs)]
                groups.append((slice(b0 + s, min(wd, b0 + iw_block), sw), calls))
    # each (row, column) stride sector on its own, with only the taps that reach the gradient's grid (the others
    # read zeros, which oneDNN skips: leaving them out changes no sum)
    for cols, calls in groups:
        sectors = [cols] if cols.step == sw else [slice(s, wd, sw) for s in range(min(sw, wd))]
        for csec in sectors:
            for rs in range(min(sh, h)):
                cs = csec.start
                kept = [([(i, j) for i, j in t if (rs + ph - i) % sh == 0 and (cs + pw - j) % sw == 0], o0, o1)
                        for t, o0, o1 in calls]  # fmt: skip
                _sum_calls(out, zd, wt, slice(rs, h, sh), csec, [t for t in kept if t[0]], (kh, kw), padding)
    return out


def _sum_calls(out: Any, zd: Any, wt: Any, rows: slice, cols: slice, calls: list, ks: tuple, padding: tuple) -> None:
    """out[:, :, rows, cols] as the calls' sums added in order, each one fused chain over its taps and channels (zd:
    the zero-spread gradient's rows and columns on the gradient's grid, which are all the taps read).

    The chains run over zd's whole grid, flattened: a tap's window is then one flat run of each channel's grid (its
    offset the tap's shift), copied whole; the sums at the grid positions past the windows are left out."""
    o, n, hd, wd_ = zd.shape
    c = wt.shape[0]
    (kh, kw), (ph, pw) = ks, padding
    nrow, ncol = len(range(*rows.indices(out.shape[2]))), len(range(*cols.indices(out.shape[3])))
    grid = hd * wd_
    zf = zd.reshape(o, n * grid)
    # z's row kh - 1 + ph - i + rows.start: for a kept tap a whole number of strides past kh - 1
    r0s = {i: (kh - 1) // rows.step + (ph - i + rows.start) // rows.step for i in range(kh)}
    c0s = {j: (kw - 1) // cols.step + (pw - j + cols.start) // cols.step for j in range(kw)}
    total = None
    for taps, o0, o1 in calls:
        a = np.ascontiguousarray(np.stack([wt[:, i, j, o0:o1] for i, j in taps], axis=1)).reshape(c, -1)
        k = a.shape[1]
        offs = [r0s[i] * wd_ + c0s[j] for i, j in taps]
        part = np.empty((c, n, nrow, ncol), _F32)
        per = max(1, _BLOCK // max(1, k * grid))
        for n0 in range(0, n, per):
            n1 = min(n, n0 + per)
            span = (n1 - n0) * grid - max(offs)  # (every window's last position lies below it)
            chain = _Chain(c, span, k)
            for t, off in enumerate(offs):
                b0 = n0 * grid + off
                chain.put(t * (o1 - o0), zf[o0:o1, b0 : b0 + span])
            chain.run(a)
            full = np.zeros((c, (n1 - n0) * grid), _F32)
            full[:, :span] = chain.result()
            part[:, n0:n1] = full.reshape(c, n1 - n0, hd, wd_)[:, :, :nrow, :ncol]
        total = part if total is None else total + part
    if total is not None:
        out[:, :, rows, cols] = total.transpose(1, 0, 2, 3)
