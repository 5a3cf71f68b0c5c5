"""torch's cpu group_norm backward for contiguous input (aten/src/ATen/native/cpu/group_norm_kernel.cpp:
ComputeInternalGradients, GroupNormInputBackward, GammaBackward, BetaBackward), rounding for rounding, on
float32 and float64 numpy arrays.

Per (sample, channel): ds = sum(dy * x) and db = sum(dy) over the image by vec's reduce loops (here
map2_reduce_all's tail is found contracted for double only). Per (sample, group): the channels' ds * gamma
and db * gamma accumulated in vector lanes with FMAs, the lanes added in order from 0, the rest of the
channels added with FMAs; then c2 = (db * mean - ds) * rstd^3 / (D * HxW), c3 = -c2 * mean - db * rstd /
(D * HxW), and dx = rstd * gamma * dy + c2 * x + c3. grad_gamma adds (ds - db * mean) * rstd over the
samples, grad_beta db. Which products GCC fuses into FMAs was found against torch. The vector loops are
ops/norm_vec.py's.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from engine.ops.cascade_sum import _seq
from engine.ops.norm_vec import VEC_BYTES, fma_steps, fmadd, map2_reduce_all, reduce_all


def _lanes_from_zero(acc: np.ndarray) -> np.ndarray:
    """std::accumulate over the last axis (a vector's lanes), from 0."""
    return _seq(acc, acc.ndim - 1) + 0


def _group_dots(v: np.ndarray, gamma: np.ndarray) -> np.ndarray:
    """CalcDsDb and its tail: sum over each group's D channels of v * gamma, (N, G, D) -> (N, G)."""
    n, groups, d = v.shape
    lanes = VEC_BYTES // v.dtype.itemsize
    body = d // lanes * lanes
    acc = np.zeros((n, groups, lanes), v.dtype)
    for j in range(0, body, lanes):  # (D / lanes steps, each over every sample and group)
        acc = fmadd(v[..., j : j + lanes], np.broadcast_to(gamma[:, j : j + lanes], acc.shape), acc)
    total = _lanes_from_zero(acc)
    for j in range(body, d):
        total = fmadd(v[..., j], np.broadcast_to(gamma[:, j], total.shape), total)
    return total


def backward(dy: np.ndarray, x: np.ndarray, mean: np.ndarray, rstd: np.ndarray, gamma: Any, groups: int,
             need_x: bool, need_gamma: bool, need_beta: bool) -> tuple:  # fmt: skip
    """(grad_input (N, C, HxW), grad_gamma (C,), grad_beta (C,)), each None where not needed, for contiguous
    (N, C, HxW) dy and x; mean and rstd (N, G) as the forward saved them; gamma (C,) or None."""
    n, c, hw = x.shape
    dt = x.dtype
    d = c // groups
    ds = map2_reduce_all(dy, x, fused_tail=dt == np.float64)  # (N, C)
    db = reduce_all(dy)
    gx = gg = gb = None
    if need_x:
        gam = np.ones(c, dt) if gamma is None else gamma
        g2 = gam.reshape(groups, d)
        # (ds and db stacked: one pass of the steps over both)
        ds_val, db_val = np.split(_group_dots(np.concatenate((ds, db)).reshape(2 * n, groups, d), g2), 2)
        s = np.asarray(dt.type(1) / dt.type(d * hw))
        c2 = fmadd(db_val, mean, -ds_val) * rstd * rstd * rstd * s
        c3 = fmadd(-(db_val * rstd), np.broadcast_to(s, c2.shape), -c2 * mean)
        c1 = (rstd[:, :, None] * g2).reshape(n, c, 1)
        per_channel = (n, groups, d, 1)
        c2x = (np.broadcast_to(c2[:, :, None, None], per_channel).reshape(n, c, 1)) * x
        gx = fmadd(np.broadcast_to(c1, x.shape), dy, c2x)
        gx += np.broadcast_to(c3[:, :, None, None], per_channel).reshape(n, c, 1)
    if need_gamma:
        m_c, r_c = np.repeat(mean, d, axis=1), np.repeat(rstd, d, axis=1)  # (N, C)
        # (ds - db * mean) for every sample at once, then its products with rstd added sample after sample
        gg = fma_steps(fmadd(-db, m_c, ds), r_c, np.zeros(c, dt))
    if need_beta:
        gb = _seq(db, 0) + 0
    return gx, gg, gb
