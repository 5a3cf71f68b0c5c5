"""torch's cpu layer_norm backward (aten/src/ATen/native/cpu/layer_norm_kernel.cpp, layer_norm_backward_frame),
rounding for rounding, on the (M, N) rows of a float32 or float64 numpy array.

Per row: ds = sum(dy * x * gamma) and db = sum(dy * gamma) by vec's map_reduce_all loops, then
b = (db * mean - ds) * rstd^3 / N and c = -b * mean - db * rstd / N in scalar code, and
dx = rstd * dy * gamma + b * x + c element-wise; GCC contracts `db * mean - ds`, `-b * mean - ...` and the
`+ b * x` into FMAs (found against torch). grad_gamma and grad_beta accumulate per thread chunk of rows,
`dgamma + dy * (rstd * x - rstd * mean)` with two FMAs, then the threads' buffers are added in the input's
dtype. The vector loops are ops/norm_vec.py's.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from engine.ops.cascade_sum import _seq
from engine.ops.norm_vec import chunk_fma0, chunk_sum0, fmadd, map2_reduce_all, reduce_all, thread_split


def _threads_total(buf: np.ndarray, nt: int, n: int) -> np.ndarray:
    """The threads' (nt * N,) buffers added in order in their own dtype (torch's opmath is the dtype here)."""
    return _seq(buf.reshape(nt, n), 0) + 0


def backward(dy: np.ndarray, x: np.ndarray, mean: np.ndarray, rstd: np.ndarray, gamma: Any, need_x: bool,
             need_gamma: bool, need_beta: bool) -> tuple:  # fmt: skip
    """(grad_input, grad_gamma, grad_beta) of (M, N) rows, each None where not needed; mean and rstd (M,)
    as the forward saved them, gamma (N,) or None."""
    m, n = x.shape
    dt = x.dtype
    a, mu = rstd[:, None], mean[:, None]
    gx = gg = gb = None
    if need_x:
        if gamma is None:
            ds, db = map2_reduce_all(dy, x), reduce_all(dy)
            ady = a * dy
        else:
            gb_ = np.broadcast_to(gamma, x.shape)
            ds, db = map2_reduce_all(dy * x, gb_), map2_reduce_all(dy, gb_)
            ady = a * dy * gamma
        scale = dt.type(1) / dt.type(n)
        b = fmadd(db, mean, -ds) * rstd * rstd * rstd * scale
        c = fmadd(-b, mean, -(db * rstd * scale))
        gx = fmadd(b[:, None], x, ady)
        gx += c[:, None]
    if need_gamma or need_beta:
        nt, ch = thread_split(m)
        if need_gamma:
            xhat = fmadd(np.broadcast_to(a, x.shape), x, -a * mu)  # (rstd * x + (-rstd * mean))
            gg = _threads_total(chunk_fma0(dy, xhat, nt, ch), nt, n)
        if need_beta:
            gb = _threads_total(chunk_sum0(dy, nt, ch), nt, n)
    return gx, gg, gb
