"""The forward-backward recursions of the CTC loss (Graves et al. 2006), as ATen's cpu kernels compute them
(aten/src/ATen/native/LossCTC.cpp): log_alpha forward, log_beta and the per-class sums of alpha*beta backward.

torch runs one sample at a time and, within a time step, one extended-target position s at a time; here each
time step is whole-array work over (batch, s), and the s loops torch runs in order (the log-sums of alpha*beta
that land on the same class) are a loop over s of whole-array work over (time, batch). Every value torch
computes is computed with its operations in its order: its three-way log-sum-exp with the max taken by `>`
tests (so a nan stays where torch's keeps it), its -inf guard, and the C library's exp and log
(engine/ops/libm.py; in float32 its double functions, rounded). Positions torch never computes (past a
sample's input or target length) hold values nothing reads."""

from __future__ import annotations

from typing import Any

import numpy as np

from engine.ops import libm

_NEGINF = -np.inf


def c_math(name: str, a: Any) -> Any:
    # (float32: the double function rounded, ~1 ulp off for one argument in a thousand; the float function
    # element by element would cost more than the whole recursion)
    return libm.c_math(name, a, exact32=False)


def _logsumexp3(xp: Any, a: Any, b: Any, c: Any) -> Any:
    """log(exp(a-m) + exp(b-m) + exp(c-m)) + m for m the max of the three found by `>` tests from a (0 where
    all are -inf, which cannot be subtracted), torch's arithmetic for one alpha or beta."""
    m = xp.where(b > a, b, a)
    m = xp.where(c > m, c, m)
    m = xp.where(m == _NEGINF, m.dtype.type(0), m)
    e = c_math("exp", xp.stack((a - m, b - m, c - m)))  # (one call: the summands' order is kept below)
    return c_math("log", e[0] + e[1] + e[2]) + m


class Alignment:
    """The extended targets of a batch: l' (N, S), blank at even s and the k-th label at s = 2k+1, and the
    per-sample lengths, shared by the forward and the backward recursion."""

    __slots__ = ("xp", "lprime", "il", "tl", "skip", "s_index", "t_end")

    def __init__(self, xp: Any, labels: Any, il: list, tl: list, blank: int) -> None:
        n, max_tl = len(il), max(tl, default=0)
        width = 2 * max_tl + 1
        lprime = xp.full((n, width), blank, dtype=np.int64)
        if max_tl:
            lprime[:, 1::2] = labels
        self.xp = xp
        self.lprime = lprime
        self.il = xp.asarray(np.asarray(il, dtype=np.int64))
        self.tl = xp.asarray(np.asarray(tl, dtype=np.int64))
        self.s_index = xp.arange(width)
        # alpha may also come from s-2 where l'[s-2] != l'[s] (two labels that differ)
        skip = xp.zeros((n, width), dtype=bool)
        skip[:, 2:] = lprime[:, 2:] != lprime[:, :-2]
        self.skip = skip
        self.t_end = max(il, default=0)  # (no sample reads a later time step)


def alpha(a: Alignment, lp: Any) -> tuple:
    """(nll (N,), log_alpha (T, N, S), lp at l' (T, N, S)) for log_probs lp (T, N, C)."""
    xp = a.xp
    n, width = a.lprime.shape
    dt = lp.dtype
    lpp = lp[:, xp.arange(n)[:, None], a.lprime]
    la = xp.full((lp.shape[0], n, width), _NEGINF, dtype=dt)
    la[0, :, 0] = lpp[0, :, 0]
    if width > 1:
        la[0, :, 1] = xp.where(a.tl > 0, lpp[0, :, 1], dt.type(_NEGINF))
    la2 = xp.full((n, width), _NEGINF, dtype=dt)
    la3 = xp.full((n, width), _NEGINF, dtype=dt)
    with np.errstate(invalid="ignore", over="ignore", divide="ignore"):
        for t in range(1, a.t_end):
            prev = la[t - 1]
            la2[:, 1:] = prev[:, :-1]
            la3[:, 2:] = xp.where(a.skip[:, 2:], prev[:, :-2], dt.type(_NEGINF))
            la[t] = _logsumexp3(xp, prev, la2, la3) + lpp[t]
        rows = xp.arange(n)
        last = la[xp.maximum(a.il - 1, 0), rows]  # (N, S): each sample's last time step
        l1 = last[rows, 2 * a.tl]
        l2 = last[rows, xp.maximum(2 * a.tl - 1, 0)]
        m = xp.where(l1 < l2, l2, l1)  # (std::max)
        m = xp.where(m == _NEGINF, dt.type(0), m)
        ll = c_math("log", c_math("exp", l1 - m) + c_math("exp", l2 - m)) + m
    nll = xp.where(a.tl == 0, -last[:, 0], -ll)
    # no input: the empty target's likelihood is 1 (nll -0.0, torch's -(0)), any other's 0
    nll = xp.where(a.il == 0, xp.where(a.tl == 0, dt.type(-0.0), dt.type(np.inf)), nll).astype(dt)
    return nll, la, lpp


def _beta(a: Alignment, lpp: Any) -> Any:
    """log_beta (T, N, S), -inf outside each sample's (input, extended target) range."""
    xp = a.xp
    n, width = a.lprime.shape
    dt = lpp.dtype
    rows = xp.arange(n)
    s, tl2 = a.s_index[None, :], (2 * a.tl)[:, None]
    in_target = s <= tl2
    # beta may also come from s+2 where l'[s+2] != l'[s]
    skip = xp.zeros((n, width), dtype=bool)
    skip[:, :-2] = a.skip[:, 2:] & (s[:, :-2] < tl2 - 1)
    # each sample's start, at its last time step: the final blank and the last label
    last_lpp = lpp[xp.maximum(a.il - 1, 0), rows]
    start = xp.where((s == tl2) | ((s == tl2 - 1) & (tl2 > 0)), last_lpp, dt.type(_NEGINF))
    lb = xp.full((lpp.shape[0], n, width), _NEGINF, dtype=dt)
    lb2 = xp.full((n, width), _NEGINF, dtype=dt)
    lb3 = xp.full((n, width), _NEGINF, dtype=dt)
    nxt = lb2.copy()
    with np.errstate(invalid="ignore", over="ignore", divide="ignore"):
        for t in range(a.t_end - 1, -1, -1):
            lb2[:, :-1] = xp.where(s[:, 1:] <= tl2, nxt[:, 1:], dt.type(_NEGINF))
            lb3[:, :-2] = xp.where(skip[:, :-2], nxt[:, 2:], dt.type(_NEGINF))
            step = xp.where(in_target, _logsumexp3(xp, nxt, lb2, lb3) + lpp[t], dt.type(_NEGINF))
            ends = (a.il - 1 == t)[:, None]
            inside = (a.il - 1 > t)[:, None]
            nxt = xp.where(ends, start, xp.where(inside, step, dt.type(_NEGINF)))
            lb[t] = nxt
    return lb


def grad(a: Alignment, lp: Any, nll: Any, la: Any, lpp: Any, gr: Any, zero_infinity: bool) -> Any:
    """d loss / d log_probs (T, N, C) for gr (N,) the gradient of each sample's nll: exp(lp) minus the sum
    over the s with l'[s] = c of exp(log_alpha + log_beta + nll - lp), times gr; 0 past a sample's input length
    and, with zero_infinity, for a sample whose loss is infinite."""
    xp = a.xp
    n, width = a.lprime.shape
    dt = lp.dtype
    t_max = lp.shape[0]
    ab = la + _beta(a, lpp)
    rows = xp.arange(n)
    t = xp.arange(t_max)[:, None]
    il1, tl2 = (a.il - 1)[None, :], 2 * a.tl[None, :]
    at_end, before_end = t == il1, t < il1
    coll = xp.full(lp.shape, _NEGINF, dtype=dt)
    with np.errstate(invalid="ignore", over="ignore", divide="ignore"):
        # torch's descending s: at the last step a plain store (s = 2tl, then 2tl-1), before it a log-add
        for s in range(width - 1, -1, -1):
            c = a.lprime[:, s]
            cur = coll[:, rows, c]
            lab = ab[:, :, s]
            mx = xp.where(cur < lab, lab, cur)
            added = c_math("log", c_math("exp", cur - mx) + c_math("exp", lab - mx)) + mx
            added = xp.where(cur == _NEGINF, lab, added)
            store = at_end & ((tl2 == s) | ((tl2 - 1 == s) & (tl2 > 0)))
            coll[:, rows, c] = xp.where(store, lab, xp.where(before_end & (s <= tl2), added, cur))
        nll3, gr3 = nll[None, :, None], gr[None, :, None]
        g = (c_math("exp", lp) - c_math("exp", coll + nll3 - lp)) * gr3
    keep = (t < a.il[None, :])[:, :, None]
    if zero_infinity:
        keep = keep & (nll != np.inf)[None, :, None]
    return xp.where(keep, g, dt.type(0)).astype(dt)
