"""torch._standard_gamma and torch._sample_dirichlet on the cpu, draw for draw: ATen's serial kernels run
Marsaglia and Tsang's rejection sampler (Distributions.h's sample_gamma) per element in C order, its uniforms
53-bit draws from random64() and its normals at::normal_distribution<double>'s Box-Muller (whose second
value the generator keeps for the next call). Types follow the C++: alpha and the boosted alpha in the
tensor's scalar type, the rest in double. Gradients are torch's reparameterised ones (engine/gamma_grads.py):
_standard_gamma's node is StandardGammaBackward0; the Dirichlet's comes with the distribution."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from engine.backend import host
from engine.creation import _gen as creation_gen
from engine.gamma_grads import dirichlet_grad, standard_gamma_grad
from engine.ops.util import node_class, record, same_device
from engine.random import Generator, _gen, _scalar_normals, _unit53
from engine.tensor import Tensor, wrap

_F32 = np.float32
_C0331 = float(_F32(0.0331))  # (the C source's 0.0331f)
_THIRD = _F32(1) / _F32(3)  # (1.0f / 3.0f: a float, whatever the tensor's type)


def _sample_gamma(g: Generator, alpha: Any, st: type) -> float:
    """One Gamma(alpha, 1) draw (alpha of the scalar type st), as a double before the final rounding."""
    scale = 1.0
    if alpha < 1:  # boost alpha for a higher acceptance probability
        if alpha == 0:
            return 0.0
        scale *= math.pow(1 - float(_unit53(g, 1)[0]), float(st(1) / alpha))
        alpha = st(alpha + st(1))
    d = float(st(alpha - st(_THIRD)))
    c = 1.0 / math.sqrt(9.0 * d)
    while True:
        while True:
            x = float(_scalar_normals(g, 1, 0.0, 1.0)[0])
            y = 1.0 + c * x
            if not y <= 0:
                break
        v = y * y * y
        u = 1 - float(_unit53(g, 1)[0])
        xx = x * x
        if u < 1.0 - _C0331 * xx * xx:
            return scale * d * v
        if math.log(u) < 0.5 * xx + d * (1.0 - v + math.log(v)):
            return scale * d * v


def standard_gamma(gen: Generator | None, alpha: np.ndarray) -> np.ndarray:
    """One standard Gamma draw per element of alpha, in C order, at least the dtype's smallest normal."""
    g = _gen(gen)
    st = alpha.dtype.type
    tiny = np.finfo(alpha.dtype).tiny
    out = [max(tiny, st(_sample_gamma(g, st(a), st))) for a in np.ascontiguousarray(alpha).reshape(-1)]
    return np.array(out, dtype=alpha.dtype).reshape(alpha.shape)


def sample_dirichlet(gen: Generator | None, alpha: np.ndarray) -> np.ndarray:
    """Dirichlet draws over alpha's last dimension: double Gamma draws normalised by their sum, then rounded
    to alpha's dtype and kept inside [smallest normal, the float below 1]."""
    g = _gen(gen)
    gamma = np.array(
        [
            max(np.finfo(np.float64).tiny, _sample_gamma(g, float(a), float))
            for a in np.ascontiguousarray(alpha).reshape(-1)
        ],
        dtype=np.float64,
    ).reshape(alpha.shape)
    total = np.add.reduce(gamma, axis=-1, keepdims=True)  # (a row at a time in order, as torch's sum of a few)
    st = alpha.dtype.type
    ret = (gamma / total).astype(alpha.dtype)
    return np.clip(ret, np.finfo(alpha.dtype).tiny, np.nextafter(st(1), st(0)))


# -- tensor functions ------------------------------------------------------------------------------------------
def _standard_gamma_bw(self: Any, g: Tensor, alpha: Tensor, result: Tensor) -> tuple:
    return (g * standard_gamma_grad_tensor(alpha, result),)


StandardGammaBackward0 = node_class("StandardGammaBackward0", _standard_gamma_bw)


def _floating(t: Tensor, kernel: str) -> None:
    if t._data.dtype not in (np.float32, np.float64):
        raise NotImplementedError(f"\"{kernel}\" not implemented for '{t.dtype.scalar_name()}'")


def standard_gamma_tensor(input: Tensor, generator: Any = None) -> Tensor:  # noqa: A002
    """torch._standard_gamma: a Gamma(alpha, 1) draw per element, differentiable in alpha."""
    _floating(input, "gamma_cpu")
    draws = standard_gamma(creation_gen(generator, input._dev), host(input._data))
    out = record(StandardGammaBackward0, input._dev.xp.asarray(draws), input._dev, (input,))
    if out.grad_fn is not None:
        out.grad_fn._saved = (input, out.detach())
    return out


def standard_gamma_grad_tensor(input: Tensor, output: Tensor) -> Tensor:  # noqa: A002
    """torch._standard_gamma_grad: d sample / d alpha of Gamma(alpha, 1) samples."""
    dev = same_device((input, output))
    return wrap(dev.xp.asarray(standard_gamma_grad(host(input._data), host(output._data))), dev)


def sample_dirichlet_tensor(input: Tensor, generator: Any = None) -> Tensor:  # noqa: A002
    """torch._sample_dirichlet: a Dirichlet(alpha) draw per row of alpha's last dimension."""
    _floating(input, "dirichlet")
    return wrap(
        input._dev.xp.asarray(sample_dirichlet(creation_gen(generator, input._dev), host(input._data))), input._dev
    )


def dirichlet_grad_tensor(x: Tensor, alpha: Tensor, total: Tensor) -> Tensor:
    """torch._dirichlet_grad: the reparameterised gradient of Dirichlet samples x in alpha (total = alpha.sum(-1))."""
    dev = same_device((x, alpha, total))
    return wrap(dev.xp.asarray(dirichlet_grad(host(x._data), host(alpha._data), host(total._data))), dev)


TORCH = {
    "_standard_gamma": standard_gamma_tensor,
    "_standard_gamma_grad": standard_gamma_grad_tensor,
    "_sample_dirichlet": sample_dirichlet_tensor,
    "_dirichlet_grad": dirichlet_grad_tensor,
}
