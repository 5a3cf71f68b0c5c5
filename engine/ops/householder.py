"""torch.linalg.householder_product (torch.orgqr): the first n columns of H_1 H_2 ... H_k, H_i = I - tau_i v_i v_i^T,
v_i the i-th column of the input below its diagonal with a one on it (the reflectors geqrf leaves behind).

The forward applies the reflectors to I's first n columns from the last to the first, as LAPACK's orgqr does. The
backward is torch's householder_product_backward (FunctionsManual.cpp): it walks the reflectors once, keeping
K_i = H_i+ Q_grad^T H_i- up to date with one reflector's inverse (another reflector, H(sigma_i)) on each side, in
engine ops, so it differentiates again."""

from __future__ import annotations

from typing import Any

import numpy as np

from engine.amp.policy import policy as autocast_policy
from engine.naming import result_type
from engine.ops import lapack
from engine.ops.index import cat
from engine.ops.linalg import matmul
from engine.ops.linalg_more import _SELF, _multi_class, _out, _record, _record_multi, _tensor
from engine.ops.util import node_class, same_device
from engine.tensor import Tensor, wrap

_FN = "torch.linalg.householder_product"


def _reflect(v: Tensor, t: Tensor, K: Tensor, left: bool) -> Tensor:
    """(I - t v v^T) K for left, K (I - t v v^T) otherwise; v (..., m, 1), t (..., 1)."""
    tu = t.unsqueeze(-1)
    if left:
        return K - (tu * v) * matmul(v.mT, K)
    return K - matmul(K, tu * v) * v.mT


def _householder_bw(self: Any, grad: Tensor, input: Tensor, tau: Tensor, Q: Tensor) -> tuple:  # noqa: A002, N803
    if input._data.size == 0 or tau._data.size == 0:
        return None, None
    m, n = input._data.shape[-2:]
    k = tau._data.shape[-1]
    xp = input._dev.xp
    V = input.tril(-1) + wrap(xp.eye(m, n, dtype=input._data.dtype), input._dev)  # (ones on the diagonal)
    Vk = V.narrow(-1, 0, k)
    sigma = tau / (tau * (Vk * Vk).sum(-2) - 1.0)  # H(sigma_i) is H(tau_i)'s inverse
    K = matmul(Q, grad.mT)
    K = _reflect(V.narrow(-1, 0, 1), sigma.narrow(-1, 0, 1), K, True)
    v_grads, tau_grads = [], []
    for i in range(k):
        v_i, t_i = V.narrow(-1, i, 1), tau.narrow(-1, i, 1)
        v = v_i.narrow(-2, i, m - i)
        vK = matmul(v.mT, K.narrow(-2, i, m - i))
        Kv = matmul(K.narrow(-1, i, m - i), v)
        tu = t_i.unsqueeze(-1)
        v_grads.append(((-tu * vK).squeeze(-2) - (tu * Kv).squeeze(-1)).unsqueeze(-1))
        tau_grads.append((-matmul(vK.narrow(-1, i, m - i), v)).squeeze(-1))
        if i != k - 1:  # K <- H_{i+1}^-1 K H_i
            K = _reflect(V.narrow(-1, i + 1, 1), sigma.narrow(-1, i + 1, 1), K, True)
            K = _reflect(v_i, t_i, K, False)
    if k < n:  # the columns no reflector uses get no gradient
        v_grads.append(wrap(xp.zeros(input._data.shape[:-1] + (n - k,), dtype=input._data.dtype), input._dev))
    n_ = self._next
    g_input = cat(v_grads, -1).tril(-1) if n_[0] is not None else None
    g_tau = cat(tau_grads, -1) if n_[1] is not None else None
    return g_input, g_tau


LinalgHouseholderProductBackward0 = node_class("LinalgHouseholderProductBackward0", _householder_bw)


def _arrays(xp: Any, a: Any, tau: Any) -> Any:
    m, n = a.shape[-2:]
    V = xp.tril(a, -1) + xp.eye(m, n, dtype=a.dtype)
    Q = xp.broadcast_to(xp.eye(m, n, dtype=a.dtype), a.shape).copy()
    for i in range(tau.shape[-1] - 1, -1, -1):
        v = V[..., :, i : i + 1]
        Q = Q - (tau[..., i, None, None] * v) @ (v.swapaxes(-1, -2) @ Q)
    return lapack.colmajor(xp, Q.astype(a.dtype, copy=False))


@autocast_policy(cpu="fp32")
def householder_product(input: Tensor, tau: Tensor, *, out: Any = None) -> Tensor:  # noqa: A002
    _tensor(input, "linalg_householder_product", "input", 1)
    _tensor(tau, "linalg_householder_product", "tau", 2)
    a, t = input._data, tau._data
    if a.ndim < 2:
        raise RuntimeError(f"{_FN}: input must have at least 2 dimensions.")
    if a.shape[-2] < a.shape[-1]:
        raise RuntimeError(f"{_FN}: input.shape[-2] must be greater than or equal to input.shape[-1]")
    if t.ndim == 0:
        raise IndexError("Dimension specified as -1 but tensor has no dimensions")
    k = t.shape[-1]
    if a.shape[-1] < k:
        raise RuntimeError(f"{_FN}: input.shape[-1] must be greater than or equal to tau.shape[-1]")
    if a.ndim - t.ndim != 1:
        raise RuntimeError(
            f"{_FN}: Expected tau to have one dimension less than input, but got tau.ndim equal to {t.ndim} and "
            f"input.ndim is equal to {a.ndim}"
        )
    if a.ndim > 2 and t.shape[:-1] != a.shape[:-2]:
        raise RuntimeError(
            f"{_FN}: Expected batch dimensions of tau to be equal to input.shape[:-2], but got "
            f"[{', '.join(map(str, t.shape[:-1]))}]"
        )
    if t.dtype != a.dtype:
        raise RuntimeError(
            f"{_FN}: tau dtype {tau.dtype.scalar_name()} does not match input dtype {input.dtype.scalar_name()}"
        )
    same_device((input, tau))
    if a.dtype not in (np.float32, np.float64):
        raise NotImplementedError(f"\"orgqr_cpu\" not implemented for '{input.dtype.scalar_name()}'")
    r = _arrays(input._dev.xp, a, t)
    return _out(out, _record(LinalgHouseholderProductBackward0, r, input._dev, (input, tau), (input, tau, _SELF)))


def orgqr(input: Tensor, input2: Tensor) -> Tensor:  # noqa: A002
    """torch.orgqr: householder_product under its LAPACK name."""
    _tensor(input, "orgqr", "input", 1)
    _tensor(input2, "orgqr", "input2", 2)
    return householder_product(input, input2)


# ---- geqrf: the reflectors householder_product takes ------------------------------------------------------------
geqrf_type = result_type("geqrf", "a", "tau")


def _geqrf_bw(self: Any, g: Tensor, *saved: Any) -> tuple:
    raise NotImplementedError("the derivative for 'geqrf' is not implemented.")


GeqrfBackward0 = _multi_class("GeqrfBackward0", _geqrf_bw)


def geqrf(input: Tensor) -> Any:  # noqa: A002
    """LAPACK's QR in compact form (torch.geqrf): R above the diagonal of `a`, the Householder vectors below it
    (unit diagonal implied), and their scales `tau`; `a` column-major, as LAPACK leaves it."""
    _tensor(input, "geqrf", "input", 1)
    d = input._data
    if d.ndim < 2:
        raise RuntimeError("torch.geqrf: input must have at least 2 dimensions.")
    if d.dtype not in (np.float32, np.float64):
        raise NotImplementedError(f"\"geqrf_cpu\" not implemented for '{input.dtype.scalar_name()}'")
    xp = input._dev.xp
    m, n = d.shape[-2], d.shape[-1]
    if d.size == 0:
        h, tau = xp.zeros(d.shape[:-2] + (n, m), d.dtype), xp.zeros(d.shape[:-2] + (min(m, n),), d.dtype)
    else:
        h, tau = xp.linalg.qr(d, mode="raw")  # (h: the transpose of LAPACK's column-major result)
    a = xp.ascontiguousarray(h.astype(d.dtype, copy=False)).swapaxes(-1, -2)
    return geqrf_type(*_record_multi(GeqrfBackward0, [a, tau.astype(d.dtype, copy=False)], input._dev, (input,)))


RETURN_TYPES = {"geqrf": geqrf_type}
TORCH = {"orgqr": orgqr, "geqrf": geqrf}
LINALG = {"householder_product": householder_product}
METHODS = {"orgqr": orgqr, "geqrf": geqrf}
