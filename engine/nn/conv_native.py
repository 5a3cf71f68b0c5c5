"""conv2d on the cpu where torch runs its native kernel (slow_conv2d: float64 always; float32 where its use_mkldnn
says no, one small image with a kernel at most 3 wide or high), as that kernel sums: per image the columns
(im2col, rows in (channel, kernel row, kernel column) order) and one BLAS product, here MKL's in torch's call.

    forward          out (O, L) = weight (O, K) @ columns (K, L), the output filled with the bias first and the
                     product added to it (beta 1); images in a parallel loop (MKL on one thread inside it, all of
                     torch's threads for one image)
    input gradient   columns = weight^T @ grad (the same loop), then col2im: the kernel offsets added in (row,
                     column) order from zeros
    weight gradient  grad (O, L) @ columns^T, accumulated image after image (beta 1), MKL on torch's threads
    bias gradient    torch's sum over (image, row, column)

Measured bit for bit against torch 2.13 (MKL 2024.2)."""

from __future__ import annotations

from typing import Any

import numpy as np

from engine.ops import mkl
from engine.ops.cascade_sum import dim_sum

_NATIVE_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))


def applies(x: Any, w: Any, stride: tuple, padding: tuple, dilation: tuple, groups: int) -> bool:
    """Whether torch's native slow_conv2d runs this 2-d convolution (numpy float32 or float64, groups 1, no
    dilation, contiguous) and its sums are reproduced here."""
    if type(x) is not np.ndarray or x.ndim != 4 or x.dtype not in _NATIVE_DTYPES or w.dtype != x.dtype:
        return False
    if groups != 1 or dilation != (1, 1) or x.size == 0 or w.size == 0 or x.dtype.metadata is not None:
        return False
    if not (x.flags.c_contiguous and w.flags.c_contiguous and mkl.available()):  # (channels last: another order)
        return False
    if x.dtype == _NATIVE_DTYPES[0]:  # float32: where torch's use_mkldnn says no (one small image, a small kernel)
        n, c, h, wd = x.shape
        kh, kw = w.shape[2:]
        return n == 1 and (kh <= 3 or kw <= 3) and c * h * wd <= 20480
    return True


def _columns(x: Any, ks: tuple, stride: tuple, padding: tuple, os: tuple) -> Any:
    """(N, C * KH * KW, OH * OW): each output position's window (zeros in the padding)."""
    (ph, pw), (sh, sw) = padding, stride
    xp = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw))) if ph or pw else x
    n, c = x.shape[:2]
    s = xp.strides
    win = np.lib.stride_tricks.as_strided(xp, (n, c, *ks, *os), (s[0], s[1], s[2], s[3], s[2] * sh, s[3] * sw))
    return np.ascontiguousarray(win).reshape(n, c * ks[0] * ks[1], os[0] * os[1])


def forward(x: Any, w: Any, b: Any, stride: tuple, padding: tuple) -> Any:
    n = x.shape[0]
    o, _, kh, kw = w.shape
    oh = (x.shape[2] + 2 * padding[0] - kh) // stride[0] + 1
    ow = (x.shape[3] + 2 * padding[1] - kw) // stride[1] + 1
    cols = _columns(x, (kh, kw), stride, padding, (oh, ow))
    w2 = np.ascontiguousarray(w).reshape(o, -1)
    out = np.empty((n, o, oh * ow), x.dtype)
    for t in range(n):
        if b is not None:
            out[t] = b.astype(x.dtype, copy=False).reshape(o, 1)
        mkl.gemm(w2, cols[t], c=out[t], beta=0.0 if b is None else 1.0, threaded=n == 1)
    return out.reshape(n, o, oh, ow)


def input_grad_columns(g: Any, w: Any) -> Any:
    """The input gradient's columns (N, C * KH * KW, OH * OW): weight^T @ grad per image (col2im follows)."""
    n, o = g.shape[:2]
    w2 = np.ascontiguousarray(w).reshape(o, -1)
    g2 = np.ascontiguousarray(g).reshape(n, o, -1)
    return np.stack([mkl.gemm(w2.T, g2[t], threaded=n == 1) for t in range(n)])


def weight_grad(x: Any, g: Any, w_shape: tuple, stride: tuple, padding: tuple) -> Any:
    n, o = g.shape[:2]
    cols = _columns(x, tuple(w_shape[2:]), stride, padding, tuple(g.shape[2:]))
    g2 = np.ascontiguousarray(g).reshape(n, o, -1)
    gw = np.zeros((o, cols.shape[1]), g.dtype)
    for t in range(n):
        mkl.gemm(g2[t], cols[t].T, c=gw, beta=1.0)
    return gw.reshape(w_shape)


def bias_grad(g: Any) -> Any:
    gb = dim_sum(np.ascontiguousarray(g), (0, 2, 3))
    return g.sum(axis=(0, 2, 3)) if gb is None else gb
