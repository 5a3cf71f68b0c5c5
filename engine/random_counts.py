"""torch.poisson and torch.binomial on the cpu, draw for draw: ATen's serial kernels run one rejection
sampler per element in C order (Distributions.cpp's sample_poisson, Distributions.h's sample_binomial with
btrs and binomial_inversion), each draw a 53-bit uniform from random64(). The arithmetic follows the C++
types: binomial works in the tensor's scalar type (float32 for float tensors, rounded after each operation)
where the C++ does, and in double where it promotes. Python's math functions call the same C library for
log, exp, sqrt, log1p and floor; lgamma is CPython's own, so a Poisson draw of rate >= 10 could differ from
torch's only where its acceptance test ties to the last bit."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from engine.backend import host
from engine.creation import _gen as creation_gen
from engine.creation import zeros_like
from engine.ops.util import NotImplementedNode, node_class, record, same_device
from engine.random import Generator, _gen, _unit53
from engine.tensor import Tensor

_F32 = np.float32


def _uniform(g: Generator) -> float:
    return float(_unit53(g, 1)[0])


def _poisson_one(g: Generator, lam: float) -> int:
    if not lam >= 0:
        raise RuntimeError("invalid Poisson rate, expected rate to be non-negative")
    if lam >= 10:  # transformed rejection (Hoermann, 1993)
        slam = math.sqrt(lam)
        loglam = math.log(lam)
        b = 0.931 + 2.53 * slam
        a = -0.059 + 0.02483 * b
        invalpha = 1.1239 + 1.1328 / (b - 3.4)
        vr = 0.9277 - 3.6224 / (b - 2)
        while True:
            u = _uniform(g) - 0.5
            v = _uniform(g)
            us = 0.5 - abs(u)
            k = math.floor((2 * a / us + b) * u + lam + 0.43)
            if us >= 0.07 and v <= vr:
                return k
            if k < 0 or (us < 0.013 and v > us):
                continue
            if (math.log(v) + math.log(invalpha) - math.log(a / (us * us) + b)) <= (
                -lam + k * loglam - math.lgamma(k + 1.0)
            ):
                return k
    if lam == 0:
        return 0
    # multiplication of uniforms (Knuth)
    enlam = math.exp(-lam)
    x = 0
    prod = 1.0
    while True:
        prod *= _uniform(g)
        if prod > enlam:
            x += 1
        else:
            return x


def poisson(gen: Generator | None, lam: np.ndarray) -> np.ndarray:
    """One Poisson draw per rate, in C order, as torch's poisson_cpu draws them."""
    g = _gen(gen)
    flat = np.ascontiguousarray(lam).reshape(-1)
    out = np.array([_poisson_one(g, float(v)) for v in flat.tolist()], dtype=np.float64)
    return out.astype(lam.dtype).reshape(lam.shape)


# -- binomial --------------------------------------------------------------------------------------------------
_TAIL = (0.0810614667953272, 0.0413406959554092, 0.0276779256849983, 0.02079067210376509,
         0.0166446911898211, 0.0138761288230707, 0.0118967099458917, 0.0104112652619720,
         0.00925546218271273, 0.00833056343336287)  # fmt: skip


def _stirling_tail(k: float) -> float:
    if k <= 9:
        return _TAIL[int(k)]
    kp1sq = (k + 1) * (k + 1)
    return (1.0 / 12 - (1.0 / 360 - 1.0 / 1260 / kp1sq) / kp1sq) / (k + 1)


def _btrs(g: Generator, count: Any, prob: Any, st: type) -> Any:
    """Transformed rejection with squeeze (Hormann's BTRS as TensorFlow adapted it); count, prob and k are of
    the scalar type st, everything else double."""
    one = st(1)
    stddev = float(np.sqrt(count * prob * (one - prob)))
    b = 1.15 + 2.53 * stddev
    a = -0.0873 + 0.0248 * b + 0.01 * float(prob)
    c = float(count * prob) + 0.5
    v_r = 0.92 - 4.2 / b
    r = float(prob / (one - prob))
    alpha = (2.83 + 5.1 / b) * stddev
    m = float(np.floor((count + one) * prob))
    while True:
        u = _uniform(g) - 0.5
        v = _uniform(g)
        us = 0.5 - abs(u)
        k = st(math.floor((2 * a / us + b) * u + c))
        if k < 0 or k > count:
            continue
        if us >= 0.07 and v <= v_r:
            return k
        v = math.log(v * alpha / (a / (us * us) + b))
        n, kd = float(count), float(k)
        upperbound = (
            (m + 0.5) * math.log((m + 1) / (r * (n - m + 1)))
            + float(count + one) * math.log((n - m + 1) / float(count - k + one))
            + (kd + 0.5) * math.log(r * float(count - k + one) / float(k + one))
            + _stirling_tail(m)
            + _stirling_tail(n - m)
            - _stirling_tail(kd)
            - _stirling_tail(float(count - k))
        )
        if v <= upperbound:
            return k


def _inversion(g: Generator, count: Any, prob: Any, st: type) -> Any:
    """The number of geometric waiting times that fit in count trials."""
    logprob = float(st(math.log1p(-float(prob))))  # (log1p of the scalar type, correctly rounded)
    geom_sum = 0.0
    num_geom = st(0)
    while True:
        geom = math.ceil(math.log(_uniform(g)) / logprob)
        geom_sum += geom
        if geom_sum > float(count):
            return num_geom
        num_geom = st(num_geom + 1)


def _binomial_one(g: Generator, count: Any, prob: Any, st: type) -> Any:
    if count <= 0.0 or prob <= 0.0:
        return st(0)
    if prob >= 1.0:
        return count
    if prob <= 0.5:
        if float(count * prob) >= 10.0:
            return _btrs(g, count, prob, st)
        return _inversion(g, count, prob, st)
    if prob > 0.5:
        qprob = st(1.0 - float(prob))
        if float(count * qprob) >= 10.0:
            return st(count - _btrs(g, count, qprob, st))
        return st(count - _inversion(g, count, qprob, st))
    return st(math.nan)


def binomial(gen: Generator | None, count: np.ndarray, prob: np.ndarray) -> np.ndarray:
    """One Binomial(count, prob) draw per element of the broadcast shape, in C order, as binomial_cpu draws."""
    g = _gen(gen)
    st = count.dtype.type
    c, p = np.broadcast_arrays(count, prob)
    out = [_binomial_one(g, cv, pv, st) for cv, pv in zip(c.reshape(-1), p.reshape(-1))]
    return np.array(out, dtype=count.dtype).reshape(c.shape)


# -- torch.poisson / torch.binomial -----------------------------------------------------------------------------
def _poisson_bw(self: Any, g: Tensor) -> tuple:
    return (zeros_like(g),)


PoissonBackward0 = node_class("PoissonBackward0", _poisson_bw)


def poisson_tensor(input: Tensor, generator: Any = None) -> Tensor:  # noqa: A002
    """torch.poisson: a Poisson(rate) draw per element of input (its gradient is zero, as torch's)."""
    d = input._data
    if d.dtype.kind != "f":
        raise NotImplementedError(f"\"poisson_cpu\" not implemented for '{input.dtype.scalar_name()}'")
    draws = poisson(creation_gen(generator, input._dev), host(d))
    return record(PoissonBackward0, input._dev.xp.asarray(draws), input._dev, (input,))


def binomial_tensor(count: Tensor, prob: Tensor, generator: Any = None) -> Tensor:
    """torch.binomial: a Binomial(count, prob) draw per element of their broadcast shape (float32 or float64,
    the same for both; torch has no derivative for it)."""
    cd, pd = count._data, prob._data
    if cd.dtype.kind != "f":
        raise ValueError(f"binomial only supports floating-point dtypes for count, got: {count.dtype.scalar_name()}")
    if pd.dtype.kind != "f":
        raise ValueError(f"binomial only supports floating-point dtypes for prob, got: {prob.dtype.scalar_name()}")
    if cd.dtype != pd.dtype:
        raise RuntimeError(f"Found dtype {prob.dtype.scalar_name()} but expected {count.dtype.scalar_name()}")
    if cd.dtype == np.float16:
        raise NotImplementedError("\"binomial_cpu\" not implemented for 'Half'")
    dev = same_device((count, prob))
    draws = binomial(creation_gen(generator, dev), host(cd), host(pd))
    return record(NotImplementedNode, dev.xp.asarray(draws), dev, (count, prob), ("aten::binomial",), (None,))


TORCH = {"poisson": poisson_tensor, "binomial": binomial_tensor}
