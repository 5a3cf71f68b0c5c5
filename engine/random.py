"""torch's CPU random numbers, bit for bit: an mt19937 stream plus each of torch's sampling kernels.

The 32-bit stream comes from numpy's MT19937 bit generator put into the state torch's
``init_genrand`` seeding gives; every kernel below then consumes that stream the way ATen's CPU
kernels do (DistributionsHelper.h, TransformationHelper.h, native/cpu/DistributionTemplates.h,
TensorFactories.cpp), including the rounding of each float operation, so ``torch.manual_seed(0);
torch.rand(3)`` prints the same digits here as under PyTorch 2.13 on x86-64.

What is reproduced, and the limits:

* float32 ``randn``/``normal_`` with 16 or more elements runs torch's AVX2 Box-Muller kernel, whose
  log/sin/cos are Cephes polynomials (avx_mathfun.h) with the multiply-adds GCC fuses into FMAs.
  That kernel is what torch uses on every AVX2 or AVX-512 x86 CPU. torch on ARM or on x86 without
  AVX2 uses a scalar libm kernel instead; those builds differ from this one in the last bits.
* float64 Box-Muller calls the C library's ``log``/``sin``/``cos`` as torch does; the numpy path
  used for speed is checked against ``math`` (which calls the same libm) before first use and is
  replaced by per-element ``math`` calls where numpy's own SIMD versions differ.
* ``bernoulli_(p: float)`` follows the default kernel (one double uniform per element). Some older
  MKL builds of torch drew these from an MKL stream on Intel CPUs; 2.13 on this project's reference
  machine does not.
"""

from __future__ import annotations

import math
import os
import struct
import sys
import warnings
from fractions import Fraction
from typing import Any

import numpy as np

from engine.naming import TorchNamed
from engine.warn import user_stacklevel

__all__ = [
    "Generator",
    "default_generator",
    "manual_seed",
    "seed",
    "initial_seed",
    "get_rng_state",
    "set_rng_state",
    "uniform",
    "normal",
    "normal_tensor",
    "randint",
    "random_",
    "randperm",
    "bernoulli",
    "bernoulli_scalar",
]

_N = 624
_DEFAULT_SEED = 67280421310721  # what a fresh torch.Generator() reports as initial_seed()
_STATE_BYTES = 5056  # sizeof(CPUGeneratorImplState): torch.get_rng_state() has this many bytes
_U64 = np.uint64
_F32 = np.float32
_F64 = np.float64
_F16 = np.float16
_LITTLE = sys.byteorder == "little"

_SHAPE = tuple[int, ...]


#: run before every draw while set: torch.func.vmap(randomness="error") refuses random operations through it
DRAW_CHECK: list = [None]


def _init_key(seed: int) -> np.ndarray:
    # at::mt19937 seeds with init_genrand on the low 32 bits only; the full 64-bit seed is kept for
    # initial_seed() and the state bytes.
    s = seed & 0xFFFFFFFF
    key = [s]
    for j in range(1, _N):
        s = (1812433253 * (s ^ (s >> 30)) + j) & 0xFFFFFFFF
        key.append(s)
    return np.array(key, dtype=np.uint32)


def _raw_u32_integers(gen: np.random.Generator, n: int) -> np.ndarray:
    return gen.integers(0, 1 << 32, size=n, dtype=np.uint32)


def _raw_u32_bits(gen: np.random.Generator, n: int) -> np.ndarray:
    return gen.bit_generator.random_raw(n).astype(np.uint32)


def _pick_raw_u32():
    # Generator.integers over the full 32-bit range hands out the raw words and is faster than
    # random_raw(), which returns uint64; that is a numpy implementation detail, so it is used only
    # after checking it really yields the raw stream.
    a = np.random.Generator(np.random.MT19937(7))
    b = np.random.Generator(np.random.MT19937(7))
    if np.array_equal(_raw_u32_integers(a, 1000), _raw_u32_bits(b, 1000)):
        return _raw_u32_integers
    return _raw_u32_bits


_raw_u32 = _pick_raw_u32()


def _nondeterministic_seed() -> int:
    return int.from_bytes(os.urandom(8), "little")


def _check_seed(seed: object) -> int:
    s = int(seed)  # type: ignore[call-overload]
    if s < -(1 << 63) or s >= (1 << 64):
        raise ValueError("Overflow when unpacking long long")
    return s & 0xFFFFFFFFFFFFFFFF  # torch stores negative seeds as their two's complement


class Generator(metaclass=TorchNamed):
    _torch_name = "torch._C.Generator"
    _c_type = True
    """torch.Generator for the cpu: mt19937 state, the seed it came from, and the cached second
    sample of the scalar Box-Muller path (torch caches it in the generator too)."""

    def __init__(self, device: object = "cpu") -> None:
        self.device = device
        self._np = np.random.Generator(np.random.MT19937(0))
        self._seed = 0
        self._fresh = True
        self._next_normal: float | None = None
        self.manual_seed(_DEFAULT_SEED)

    def __repr__(self) -> str:
        return f"<torch._C.Generator object at {hex(id(self))}>"

    # -- seeding and state -------------------------------------------------------------------
    def manual_seed(self, seed: int) -> Generator:
        if type(seed) is bool or not isinstance(seed, (int, np.integer)):  # (torch.manual_seed takes int(seed) first)
            from engine.naming import type_name

            raise RuntimeError(f"manual_seed expected a long, but got {type_name(seed)}")
        s = _check_seed(seed)
        self._np.bit_generator.state = {
            "bit_generator": "MT19937",
            "state": {"key": _init_key(s), "pos": _N},
        }
        self._seed = s
        self._fresh = True
        self._next_normal = None
        return self

    def seed(self) -> int:
        s = _nondeterministic_seed()
        self.manual_seed(s)
        return s

    def initial_seed(self) -> int:
        return self._seed

    def get_state(self) -> Any:
        """The state as torch lays it out (CPUGeneratorImplState), so states move between both: a uint8
        tensor (torch.ByteTensor)."""
        from engine.tensor import wrap

        return wrap(self._state_bytes())

    def _state_bytes(self) -> np.ndarray:
        st = self._np.bit_generator.state["state"]
        pos = int(st["pos"])
        # at::mt19937 keeps (left, next) where numpy keeps pos; left == 1 means "twist before the
        # next draw", which numpy spells pos == 624. A freshly seeded torch engine has next == 0.
        if pos >= _N:
            left, nxt = 1, (0 if self._fresh else _N)
        else:
            left, nxt = _N + 1 - pos, pos
        buf = bytearray(_STATE_BYTES)
        struct.pack_into("<QiiQ", buf, 0, self._seed, left, 1, nxt)
        buf[24 : 24 + 8 * _N] = np.asarray(st["key"], dtype="<u8").tobytes()
        if self._next_normal is not None:
            struct.pack_into("<d", buf, 5024, self._next_normal)
            struct.pack_into("<i", buf, 5040, 1)
        return np.frombuffer(bytes(buf), dtype=np.uint8).copy()

    def set_state(self, new_state: object) -> Generator:
        from engine.backend import host
        from engine.tensor import Tensor

        if not isinstance(new_state, Tensor):
            tp = type(new_state)
            name = tp.__name__ if tp.__module__ == "builtins" else f"{tp.__module__}.{tp.__name__}"
            raise TypeError(f"expected a torch.ByteTensor, but got {name}")
        if new_state._data.dtype != np.uint8:
            raise TypeError("RNG state must be a torch.ByteTensor")
        raw = np.ascontiguousarray(host(new_state._data)).reshape(-1).tobytes()
        if len(raw) != _STATE_BYTES:
            raise RuntimeError(
                f"Expected a CPUGeneratorImplState of size {_STATE_BYTES} but found the input RNG "
                f"state size to be {len(raw)}"
            )
        seed_, left, seeded, nxt = struct.unpack_from("<QiiQ", raw, 0)
        nxt &= 0xFFFFFFFF
        if not (seeded and 0 < left <= _N and nxt <= _N):
            raise RuntimeError("Invalid mt19937 state")
        key = np.frombuffer(raw, dtype="<u8", count=_N, offset=24).astype(np.uint32)
        pos = _N if left == 1 else nxt
        self._np.bit_generator.state = {"bit_generator": "MT19937", "state": {"key": key, "pos": pos}}
        self._seed = seed_
        self._fresh = left == 1 and nxt == 0
        (valid,) = struct.unpack_from("<i", raw, 5040)
        self._next_normal = struct.unpack_from("<d", raw, 5024)[0] if valid else None
        return self

    # -- raw words -----------------------------------------------------------------------------
    def _u32(self, n: int) -> np.ndarray:
        """n words of at::mt19937's output, i.e. n calls of CPUGeneratorImpl::random()."""
        if DRAW_CHECK[0] is not None:
            DRAW_CHECK[0]()
        if n <= 0:
            return np.empty(0, dtype=np.uint32)
        self._fresh = False
        return _raw_u32(self._np, n)

    def _u64(self, n: int) -> np.ndarray:
        """n calls of random64(): the first 32-bit word is the high half."""
        w = self._u32(2 * n)
        if not _LITTLE:
            return (w[0::2].astype(_U64) << _U64(32)) | w[1::2]
        # a (hi, lo) pair read as a little-endian uint64 is lo << 32 | hi; rotate the halves back
        v = w.view(_U64)
        return (v << _U64(32)) | (v >> _U64(32))


def _gen(gen: Generator | None) -> Generator:
    return default_generator if gen is None else gen


def _numel(shape: _SHAPE) -> int:
    n = 1
    for s in shape:
        n *= int(s)
    return n


# -- exact floating-point helpers --------------------------------------------------------------
# torch's kernels are compiled with FMA contraction, so results differ from "multiply, round,
# add, round" in the last bit unless the fused operation is reproduced exactly.

_SPLIT = 134217729.0  # 2**27 + 1, Veltkamp's constant for splitting a double into two halves


def _fma64(a: np.ndarray, b: float, c: float) -> np.ndarray:
    """Correctly rounded a*b + c in float64 without a hardware FMA: the exact product comes from
    Dekker's two-product, and the final sum rounds once thanks to an intermediate round-to-odd
    (Boldo & Melquiond, "Emulation of FMA and correctly rounded sums", 2008)."""
    a = np.asarray(a, dtype=_F64)
    p = a * b
    t = _SPLIT * a
    ah = t - (t - a)
    al = a - ah
    tb = _SPLIT * b
    bh = tb - (tb - b)
    bl = b - bh
    e = ((ah * bh - p) + ah * bl + al * bh) + al * bl
    th = c + p
    z = th - c
    tl = (c - (th - z)) + (p - z)
    v = tl + e
    z = v - tl
    ve = (tl - (v - z)) + (e - z)
    fix = (ve != 0) & ((v.view(np.int64) & 1) == 0)
    if fix.any():
        v = np.where(fix, np.nextafter(v, np.where(ve > 0, np.inf, -np.inf)), v)
    r = th + v
    # the error terms above underflow for tiny products, and zeros need IEEE's sign rules
    odd = np.flatnonzero(np.abs(p) < 2.0**-900)
    if odd.size:
        r = np.array(r, dtype=_F64)
        r.reshape(-1)[odd] = [_fma_exact(x, b, c) for x in a.reshape(-1)[odd].tolist()]
    return r


def _fma_exact(a: float, b: float, c: float) -> float:
    exact = Fraction(a) * Fraction(b) + Fraction(c)
    if exact:
        return float(exact)  # rounds once, keeping the sign even when it underflows to zero
    prod_neg = math.copysign(1.0, a) * math.copysign(1.0, b) < 0
    if a * b == 0 and c == 0 and prod_neg and math.copysign(1.0, c) < 0:
        return -0.0
    return 0.0


def _fma32(a: np.ndarray, b: float, c: float) -> np.ndarray:
    """Correctly rounded float32 a*b + c. The product of two floats is exact in a double; the sum
    can round twice (to double, then to float), which only goes wrong when the double lands exactly
    halfway between two floats, so those few are nudged by the sign of the lost low part."""
    p = np.multiply(a, float(b), dtype=_F64)
    s = p + float(c)
    mid = np.flatnonzero((s.view(_U64) & _U64(0x1FFFFFFF)) == _U64(0x10000000))
    if mid.size:
        pm, sm = p[mid], s[mid]
        z = sm - pm
        err = (pm - (sm - z)) + (float(c) - z)
        s[mid] = np.where(err == 0, sm, np.nextafter(sm, np.where(err > 0, np.inf, -np.inf)))
    return s.astype(_F32)


def _probe_values(name: str) -> np.ndarray:
    rng = np.random.default_rng(20240607)
    if name == "log":
        return 1.0 - rng.integers(0, 1 << 53, 4096).astype(_F64) * 2.0**-53
    return rng.random(4096) * (2 * math.pi)


def _pick_libm(name: str):
    # torch's double kernels call the C library's log/sin/cos. math.* calls the same functions;
    # numpy has its own SIMD versions for some of them that differ in the last bit, but uses the C
    # library for strided input, so the fastest variant that agrees with math.* wins.
    npf = getattr(np, name)
    mf = getattr(math, name)
    probe = _probe_values(name)
    ref = np.array([mf(v) for v in probe.tolist()], dtype=_F64)
    candidates = (lambda x: npf(x[::-1])[::-1], npf)
    for cand in candidates:
        if np.array_equal(cand(probe).view(np.int64), ref.view(np.int64)):
            return cand
    vec = np.frompyfunc(mf, 1, 1)
    return lambda x: vec(x).astype(_F64)


_LIBM: dict = {}


def _libm(name: str, x: np.ndarray) -> np.ndarray:
    fn = _LIBM.get(name)
    if fn is None:
        fn = _LIBM[name] = _pick_libm(name)
    return fn(np.ascontiguousarray(x, dtype=_F64).reshape(-1)).reshape(np.shape(x))


# -- uniform -----------------------------------------------------------------------------------


def _unit24(g: Generator, n: int) -> np.ndarray:
    # uniform_real_distribution<float>: 24 low bits of one word, times 2**-24
    return (g._u32(n) & np.uint32(0xFFFFFF)).astype(_F32) * _F32(2.0**-24)


def _unit53(g: Generator, n: int) -> np.ndarray:
    # uniform_real_distribution<double>: 53 low bits of random64(), times 2**-53
    return (g._u64(n) & _U64((1 << 53) - 1)).astype(_F64) * 2.0**-53


_SCALAR_NAMES = {np.dtype(_F16): "Half", np.dtype(_F32): "Float", np.dtype(_F64): "Double"}


def _float_kind(dtype: np.dtype) -> np.dtype:
    if dtype not in (np.dtype(_F16), np.dtype(_F32), np.dtype(_F64)):
        from engine.dtypes import from_np

        # (torch's uniform_ checks its bounds in the tensor's dtype first, and has no such check but floating ones)
        raise NotImplementedError(f"\"check_uniform_bounds\" not implemented for '{from_np(dtype).scalar_name()}'")
    return dtype


def uniform(gen: Generator | None, shape: _SHAPE, dtype: object, low: float = 0.0, high: float = 1.0) -> np.ndarray:
    """torch.rand / rand_like / Tensor.uniform_(low, high)."""
    if np.dtype(dtype).kind == "c":  # torch fills a complex tensor as its view_as_real: two reals per element
        cdt = np.dtype(dtype)
        return uniform(gen, (*shape, 2), cdt.char.lower(), low, high).view(cdt)[..., 0]
    g = _gen(gen)
    dt = _float_kind(np.dtype(dtype))
    low, high = float(low), float(high)
    if not low <= high:
        raise RuntimeError(
            f"uniform_ expects to return a [from, to) range, but found from={_fmt(low)} > to={_fmt(high)}"
        )
    finfo = np.finfo(dt)
    for name, v in (("from", low), ("to", high)):
        if not float(finfo.min) <= v <= float(finfo.max):
            raise RuntimeError(f"{name} is out of bounds for {_TYPE_NAMES[dt]}")
    if high - low > float(finfo.max):
        raise RuntimeError(
            f"uniform_ expects to-from <= std::numeric_limits<{_SCALAR_NAMES[dt]}>::max(), but found "
            f"to={_fmt(high)} and from={_fmt(low)} which result in to-from to exceed the limit"
        )
    n = _numel(shape)
    if dt == np.dtype(_F64):
        x = _unit53(g, n)
        if (low, high) == (0.0, 1.0):
            return x.reshape(shape)  # x * 1 + 0 is x, and x < 1
        v = _fma64(x, high - low, low)
        to, frm = high, low
    else:
        # float16 works in float (opmath) and rounds once at the end, like float32 does
        x = _unit24(g, n)
        flo, fhi = _F32(low), _F32(high)
        if dt.metadata is not None:  # bfloat16: the float value rounded, then the same bound rule
            from engine.bf16 import round_bits

            v = round_bits(_fma32(x, _F32(fhi - flo), flo))
            to, frm = (float(e) for e in round_bits(np.array([high, low], np.float32)))
            return np.where(v == to, _F32(frm), v).reshape(shape)
        if (flo, fhi) == (0.0, 1.0):
            return x.astype(dt, copy=False).reshape(shape) if dt == np.dtype(_F32) else _rand_half(x, shape)
        v = _fma32(x, _F32(fhi - flo), flo).astype(dt, copy=False)
        to, frm = _cast_double(np.array([high, low]), dt).tolist()
    # the kernel returns `from` when rounding landed on the excluded upper bound
    return np.where(v == to, dt.type(frm), v).astype(dt, copy=False).reshape(shape)


def _rand_half(x: np.ndarray, shape: _SHAPE) -> np.ndarray:
    h = x.astype(_F16)
    h[h == 1] = 0  # values within half an fp16 ulp of 1 round up to the excluded bound
    return h.reshape(shape)


def _fmt(v: float) -> str:
    # how a double prints through a C++ ostream, which is what torch's messages use
    return f"{v:g}"


# -- normal ------------------------------------------------------------------------------------


def _scalar_normals(g: Generator, n: int, mean: float, std: float) -> np.ndarray:
    """at::normal_distribution<double>: Box-Muller on two double uniforms, the second result kept
    in the generator for the next call (shared across tensors until manual_seed)."""
    if DRAW_CHECK[0] is not None:  # (a kept value is drawn without the generator)
        DRAW_CHECK[0]()
    out = []
    for _ in range(n):
        if g._next_normal is not None:
            val = g._next_normal
            g._next_normal = None
        else:
            u1, u2 = _unit53(g, 2).tolist()
            r = math.sqrt(-2.0 * math.log1p(-u2))
            theta = 2.0 * math.pi * u1
            g._next_normal = r * math.sin(theta)
            val = r * math.cos(theta)
        out.append(val)
    return _fma64(np.array(out, dtype=_F64), std, mean)


# Constants of avx_mathfun.h (Cephes), rounded to float as the AVX code stores them.
_SQRTHF = _F32(0.707106781186547524)
_LOG_P = [
    float(_F32(v))
    for v in (
        7.0376836292e-2,
        -1.1514610310e-1,
        1.1676998740e-1,
        -1.2420140846e-1,
        1.4249322787e-1,
        -1.6668057665e-1,
        2.0000714765e-1,
        -2.4999993993e-1,
        3.3333331174e-1,
    )
]
_LOG_Q1 = _F32(-2.12194440e-4)
_LOG_Q2 = _F32(0.693359375)
_DP = [float(_F32(v)) for v in (-0.78515625, -2.4187564849853515625e-4, -3.77489497744594108e-8)]
_SIN_P = [float(_F32(v)) for v in (-1.9515295891e-4, 8.3321608736e-3, -1.6666654611e-1)]
_COS_P = [float(_F32(v)) for v in (2.443315711809948e-005, -1.388731625493765e-003, 4.166664568298827e-002)]
_FOPI = _F32(1.27323954473516)
_TWO_PI_F = _F32(2.0 * math.pi)
_CHUNK = 2048  # rows of 16 per pass: keeps the temporaries of the float32 kernel in cache


def _fmadd(acc: np.ndarray, mul: np.ndarray, add: float | np.ndarray, tmp: np.ndarray) -> None:
    """acc = fma(acc, mul, add) for a float32 acc, evaluated in double (tmp) and rounded once."""
    np.multiply(acc, mul, out=tmp, dtype=_F64)
    tmp += add
    np.copyto(acc, tmp, casting="same_kind")


def _to_f32(v: np.ndarray, buf: np.ndarray) -> None:
    # round a double array to float precision in place
    np.copyto(buf, v, casting="same_kind")
    np.copyto(v, buf)


def _log256(u: np.ndarray) -> np.ndarray:
    """avx_mathfun's log256_ps on u in (0, 1], with GCC's FMA contractions. Each fused step is
    evaluated in double, where the product is exact and (checked over all 2**24 inputs u can take)
    the sum is too, so one rounding to float reproduces the FMA."""
    bits = u.view(np.uint32)
    e = (bits >> np.uint32(23)).astype(_F32)
    m = ((bits & np.uint32(0x007FFFFF)) | np.uint32(0x3F000000)).view(_F32)
    small = m < _SQRTHF
    e -= _F32(126)
    np.subtract(e, _F32(1), out=e, where=small)
    # x + x - 1 and x - 1 are both exact, so the select needs no rounding care
    np.add(m, m, out=m, where=small)
    m -= _F32(1)
    x = m
    z = x * x
    x64 = x.astype(_F64)
    buf = np.empty(x.shape, _F32)
    y = np.full(x.shape, _LOG_P[0])
    for p in _LOG_P[1:]:
        y *= x64
        y += p
        _to_f32(y, buf)
    y *= x64
    _to_f32(y, buf)
    y *= z
    y += (e * _LOG_Q1).astype(_F64)
    np.copyto(buf, y, casting="same_kind")
    buf -= z * _F32(0.5)
    buf += x
    buf += e * _LOG_Q2
    return buf


def _sincos256(theta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """avx_mathfun's sincos256_ps for theta in [0, 2*pi), FMA-contracted like torch's build (the
    same exhaustive check as _log256 covers it)."""
    j = (theta * _FOPI).astype(np.int32)
    j += 1
    j &= ~1
    yj = j.astype(_F32)
    tmp = np.empty(theta.shape, _F64)
    x = theta.copy()
    for d in _DP:
        np.multiply(yj, d, out=tmp, dtype=_F64)
        tmp += x
        np.copyto(x, tmp, casting="same_kind")
    z = x * x
    z64 = z.astype(_F64)
    c = np.full(theta.shape, _F32(_COS_P[0]))
    _fmadd(c, z64, _COS_P[1], tmp)
    _fmadd(c, z64, _COS_P[2], tmp)
    c *= z
    _fmadd(c, z64, -(z * _F32(0.5)), tmp)
    c += _F32(1)
    s = np.full(theta.shape, _F32(_SIN_P[0]))
    _fmadd(s, z64, _SIN_P[1], tmp)
    _fmadd(s, z64, _SIN_P[2], tmp)
    s *= z
    _fmadd(s, x, x, tmp)
    swap = (j & 2) != 0
    sin = np.where(swap, c, s)
    cos = np.where(swap, s, c)
    sin.view(np.uint32)[...] ^= ((j & 4) << 29).astype(np.uint32)
    cos.view(np.uint32)[...] ^= (((~(j - 2)) & 4) << 29).astype(np.uint32)
    return sin, cos


def _box_muller_f32(blocks: np.ndarray, mean: float, std: float) -> np.ndarray:
    """NormalFill16<float> (AVX2) on rows of 16 uniforms: lanes 0-7 feed the log, 8-15 the angle."""
    out = np.empty_like(blocks)
    m32, s32 = _F32(mean), _F32(std)
    plain = m32 == 0 and math.copysign(1.0, mean) > 0 and s32 == 1
    for r0 in range(0, blocks.shape[0], _CHUNK):
        blk = blocks[r0 : r0 + _CHUNK]
        radius = np.sqrt(_log256((_F32(1) - blk[:, :8]).reshape(-1)) * _F32(-2))
        sin, cos = _sincos256((_TWO_PI_F * blk[:, 8:]).reshape(-1))
        n1 = radius * cos
        n2 = radius * sin
        if plain:
            # fma(n, 1, 0) == n + 0, which only turns -0 into +0
            n1 += _F32(0)
            n2 += _F32(0)
        else:
            n1 = _fma32(n1, s32, m32)
            n2 = _fma32(n2, s32, m32)
        out[r0 : r0 + _CHUNK, :8] = n1.reshape(-1, 8)
        out[r0 : r0 + _CHUNK, 8:] = n2.reshape(-1, 8)
    return out


def _box_muller_f64(blocks: np.ndarray, mean: float, std: float) -> np.ndarray:
    """NormalFill16<double>: libm log/cos/sin, then fma(radius * trig, std, mean)."""
    u1 = 1.0 - blocks[:, :8]
    theta = (2.0 * math.pi) * blocks[:, 8:]
    radius = np.sqrt(-2.0 * _libm("log", u1))
    n1 = radius * _libm("cos", theta)
    n2 = radius * _libm("sin", theta)
    out = np.empty_like(blocks)
    if mean == 0.0 and math.copysign(1.0, mean) > 0 and std == 1.0:
        out[:, :8] = n1 + 0.0
        out[:, 8:] = n2 + 0.0
    else:
        out[:, :8] = _fma64(n1, std, mean)
        out[:, 8:] = _fma64(n2, std, mean)
    return out


def _cast_double(v: np.ndarray, dt: np.dtype) -> np.ndarray:
    # c10::Half is only constructible from float, so a double reaches fp16 through float
    return v.astype(_F32).astype(_F16) if dt == np.dtype(_F16) else v.astype(dt)


def _normal_flat(g: Generator, n: int, dt: np.dtype, mean: float, std: float) -> np.ndarray:
    if n == 0:
        return np.empty(0, dtype=dt)
    if n < 16:
        return _cast_double(_scalar_normals(g, n, mean, std), dt)
    k, tail = divmod(n, 16)
    if dt == np.dtype(_F16) or dt.metadata is not None:
        # fp16 (and bfloat16) draws and transforms one block of 16 at a time in float; the last block, drawn
        # after the full ones, lands on the final 16 elements.
        blocks = _box_muller_f32(_unit24(g, 16 * (k + (tail > 0))).reshape(-1, 16), mean, std)
        out32 = np.empty(n, dtype=_F32)
        out32[: 16 * k] = blocks[:k].reshape(-1)
        if tail:
            out32[n - 16 :] = blocks[k]
        return out32 if dt.metadata is not None else out32.astype(_F16)  # (bfloat16: rounded by the caller)
    # float/double fill all n uniforms first, transform full blocks in place, then draw 16 more
    # for a block that overwrites the last 16 elements.
    unit = _unit24 if dt == np.dtype(_F32) else _unit53
    bm = _box_muller_f32 if dt == np.dtype(_F32) else _box_muller_f64
    data = unit(g, n)
    out = np.empty(n, dtype=dt)
    out[: 16 * k] = bm(data[: 16 * k].reshape(k, 16), mean, std).reshape(-1)
    if tail:
        out[n - 16 :] = bm(unit(g, 16).reshape(1, 16), mean, std).reshape(-1)
    return out


def normal(
    gen: Generator | None, shape: _SHAPE, dtype: object, mean: float = 0.0, std: float = 1.0, contiguous: bool = True
) -> np.ndarray:
    """torch.randn / randn_like / torch.normal(float, float, size) / Tensor.normal_(mean, std). A tensor that is
    not contiguous gets one Box-Muller draw per element whatever its size (torch's serial kernel), in the
    order of its memory."""
    g = _gen(gen)
    dt = np.dtype(dtype)
    if dt.kind == "c":
        # torch draws a complex tensor as its view_as_real: (..., 2) reals with std / sqrt(2) each
        real = normal(gen, (*shape, 2), dt.char.lower(), mean, float(std) / math.sqrt(2), contiguous)
        return real.view(dt)[..., 0]
    if dt not in (np.dtype(_F16), np.dtype(_F32), np.dtype(_F64)):
        from engine.dtypes import FROM_NP

        raise NotImplementedError(f"\"normal_kernel_cpu\" not implemented for '{FROM_NP[dt].scalar_name()}'")
    mean, std = float(mean), float(std)
    if not std >= 0.0:
        raise RuntimeError(f"normal expects std >= 0.0, but found std {_fmt(std)}")
    if not contiguous:
        return _cast_double(_scalar_normals(g, _numel(shape), mean, std), dt).reshape(shape)
    return _normal_flat(g, _numel(shape), dt, mean, std).reshape(shape)


def _inplace(out: np.ndarray, op, other: np.ndarray | float) -> np.ndarray:
    # torch's in-place ops compute in the promoted dtype and cast back to the output's dtype
    return op(out, other).astype(out.dtype, copy=False)


def normal_tensor(
    gen: Generator | None, mean: np.ndarray | float, std: np.ndarray | float, dtype: object
) -> np.ndarray:
    """torch.normal(mean, std) where either is a tensor. torch draws standard normals for the
    output shape and then scales: tensor std -> normal_(0, 1) * std + mean; float std ->
    normal_(0, std) + mean. The order of those roundings is part of the result."""
    g = _gen(gen)
    dt = np.dtype(dtype)
    mean_is_t = isinstance(mean, np.ndarray)
    std_is_t = isinstance(std, np.ndarray)
    if std_is_t:
        std_arr = np.asarray(std)
        if std_arr.size and not (std_arr >= 0).all():
            raise RuntimeError("normal expects all elements of std >= 0.0")
    if not std_is_t:
        s = float(std)  # type: ignore[arg-type]
        if not s >= 0.0:
            raise RuntimeError(f"normal expects std >= 0.0, but found std {_fmt(s)}")
        if not mean_is_t:
            raise TypeError("normal_tensor needs a tensor mean or std; use normal() for two floats")
        m_arr = np.asarray(mean)
        out = _normal_flat(g, m_arr.size, dt, 0.0, s).reshape(m_arr.shape)
        return _inplace(out, np.add, m_arr)
    if mean_is_t:
        m_arr = np.asarray(mean)
        shape = np.broadcast_shapes(m_arr.shape, std_arr.shape)
        out = _normal_flat(g, _numel(shape), dt, 0.0, 1.0).reshape(shape)
        out = _inplace(out, np.multiply, std_arr)
        return _inplace(out, np.add, m_arr)
    out = _normal_flat(g, std_arr.size, dt, 0.0, 1.0).reshape(std_arr.shape)
    out = _inplace(out, np.multiply, std_arr)
    # the float mean becomes a 0-dim tensor of the output's dtype before the add
    return _inplace(out, np.add, _cast_double(np.array(float(mean)), dt))  # type: ignore[arg-type]


# -- integers ----------------------------------------------------------------------------------

_TYPE_NAMES = {
    np.dtype(np.int64): "long int",
    np.dtype(np.int32): "int",
    np.dtype(np.int16): "short int",
    np.dtype(np.int8): "signed char",
    np.dtype(np.uint8): "unsigned char",
    np.dtype(np.bool_): "bool",
    np.dtype(_F16): "c10::Half",
    np.dtype(_F32): "float",
    np.dtype(_F64): "double",
}
_DIGITS = {np.dtype(_F16): 11, np.dtype(_F32): 24, np.dtype(_F64): 53}


def _cast_int64(v: np.ndarray, dt: np.dtype) -> np.ndarray:
    # static_cast<scalar_t>(int64_t): wraps for narrow ints, != 0 for bool; c10::Half goes via float
    if dt == np.dtype(_F16):
        return v.astype(_F32).astype(_F16)
    return v.astype(dt)


def _through(v: int, dt: np.dtype) -> int:
    """static_cast<int64_t>(static_cast<scalar_t>(v)) for a floating scalar_t."""
    f = _cast_int64(np.array([v], dtype=np.int64), dt)
    with np.errstate(invalid="ignore"):
        return int(f.astype(_F64).astype(np.int64)[0])


def _update_from(frm: int, dt: np.dtype) -> int:
    # torch moves `from` right until the cast to dtype cannot drop below it
    plus1 = _through(frm + 1, dt)
    if plus1 < frm:
        n = abs(frm + 1).bit_length() - 1
        frm = plus1 + (1 << (n - _DIGITS[dt] + 1))
    return frm


def _update_to(to: int, dt: np.dtype) -> int:
    # ...and `to` left until the cast cannot reach it
    minus1 = _through(to - 1, dt)
    if minus1 >= to:
        n = abs(to - 1).bit_length() - 1
        to = minus1 - (1 << (n - _DIGITS[dt] + 1))
    return to


def _check_from_to(frm: int, to_inc: int, dt: np.dtype) -> None:
    name = _TYPE_NAMES.get(dt, str(dt))
    if dt.kind == "f":
        lo, hi = float(np.finfo(dt).min), float(np.finfo(dt).max)
    elif dt == np.dtype(np.bool_):
        lo, hi = 0, 1
    else:
        lo, hi = int(np.iinfo(dt).min), int(np.iinfo(dt).max)
    for what, v in (("from", frm), ("to - 1", to_inc)):
        if not lo <= v <= hi:
            raise RuntimeError(f"{what} is out of bounds for {name}")
    if dt.kind == "f":
        d = _DIGITS[dt]
        for what, v in (("from", frm), ("to - 1", to_inc)):
            if v < -(1 << d) or v > (1 << d):
                warnings.warn(
                    f"{what} is out of bounds [-(2^{d}), 2^{d}]. Due to precision limitations {name} can "
                    "support discrete uniform distribution only within this range. This warning will "
                    "become an error in version 1.7 release, please fix the code in advance (Triggered internally "
                    "at /__w/pytorch/pytorch/aten/src/ATen/native/DistributionTemplates.h:111.)",
                    UserWarning,
                    stacklevel=user_stacklevel(),
                )


def exponential(gen: Generator | None, shape: _SHAPE, dtype: object, lambd: float = 1.0) -> np.ndarray:
    """torch's cpu exponential_: per element, in order, -1/lambda * log1p(-u) with u a 53-bit uniform from
    random64() (the C library's log1p), computed in double and rounded to dtype."""
    g = _gen(gen)
    u = _unit53(g, _numel(shape))
    v = (-1.0 / lambd) * _libm("log1p", -u)
    return v.astype(np.dtype(dtype), copy=False).reshape(shape)


def cauchy(gen: Generator | None, shape: _SHAPE, dtype: object, median: float = 0.0, sigma: float = 1.0) -> np.ndarray:
    """torch's cpu cauchy_: per element, in order, median + sigma * tan(pi * (u - 0.5)) with u a 53-bit uniform
    from random64() (the C library's tan), computed in double (the kernel's multiply-add fused) and rounded
    to dtype."""
    g = _gen(gen)
    u = _unit53(g, _numel(shape))
    t = np.frompyfunc(math.tan, 1, 1)(math.pi * (u - 0.5)).astype(_F64)
    v = t if (median, sigma) == (0.0, 1.0) else _fma64(t, float(sigma), float(median))
    return v.astype(np.dtype(dtype), copy=False).reshape(shape)


def _not_implemented(kernel: str, dt: np.dtype) -> NotImplementedError:
    from engine.dtypes import FROM_NP

    return NotImplementedError(f"\"{kernel}\" not implemented for '{FROM_NP[dt].scalar_name()}'")


def geometric(gen: Generator | None, shape: _SHAPE, dtype: object, p: float) -> np.ndarray:
    """torch's cpu geometric_: per element, in order, ceil(log(u) / log1p(-p)) with u a 53-bit uniform from
    random64(), in double, then cast to dtype as C++ casts (an integer dtype wraps what does not fit)."""
    dt = np.dtype(dtype)
    if dt.kind not in "iuf":
        raise _not_implemented("geometric_cpu", dt)
    u = _unit53(_gen(gen), _numel(shape))
    v = np.ceil(_libm("log", u) / math.log1p(-p))
    if dt.kind in "iu":  # (double to a narrow integer: to int64 first, then its low bits, as x86 code does)
        v = v.astype(np.int64).astype(dt)
    return _cast_double(v, dt).reshape(shape)


def log_normal(gen: Generator | None, shape: _SHAPE, dtype: object, mean: float, std: float) -> np.ndarray:
    """torch's cpu log_normal_: per element, in order, exp of one at::normal_distribution<double> draw (the
    Box-Muller pair's second value kept for the next), the C library's exp, rounded to dtype."""
    dt = np.dtype(dtype)
    if dt not in (np.dtype(_F16), np.dtype(_F32), np.dtype(_F64)):
        raise _not_implemented("log_normal_cpu", dt)
    z = _scalar_normals(_gen(gen), _numel(shape), float(mean), float(std))
    return _cast_double(_libm("exp", z), dt).reshape(shape)


def randint(gen: Generator | None, low: int, high: int, shape: _SHAPE, dtype: object) -> np.ndarray:
    """torch.randint / randint_like / Tensor.random_(low, high): random() % range + low, or
    random64() % range + low once the range reaches 2**28 (the modulo bias is torch's too)."""
    g = _gen(gen)
    dt = np.dtype(dtype)
    low, high = int(low), int(high)
    if low >= high:
        raise RuntimeError(f"random_ expects 'from' to be less than 'to', but got from={low} >= to={high}")
    if dt.kind == "f":
        low, high = _update_from(low, dt), _update_to(high, dt)
        if low >= high:
            raise RuntimeError(
                "random_ expects 'from' casted to dtype to be less than 'to' casted to dtype, but got "
                f"from={low} >= to={high}"
            )
    _check_from_to(low, high - 1, dt)
    rng = (high - low) & 0xFFFFFFFFFFFFFFFF
    n = _numel(shape)
    # public torch wheels switch to 64-bit draws at 2**28 for every dtype (DistributionsHelper.h)
    words = g._u64(n) if rng >= 1 << 28 else g._u32(n).astype(_U64)
    # uint64 arithmetic wraps like the C++ (val % range) + base
    v = (words % _U64(rng)) + _U64(low & 0xFFFFFFFFFFFFFFFF)
    return _cast_int64(v.view(np.int64), dt).reshape(shape)


def random_(gen: Generator | None, shape: _SHAPE, dtype: object) -> np.ndarray:
    """Tensor.random_() with no bounds: [0, 2**mantissa] for floats, [0, max] for integers."""
    g = _gen(gen)
    dt = np.dtype(dtype)
    n = _numel(shape)
    if dt == np.dtype(np.bool_):
        return (g._u32(n) & np.uint32(1)).astype(np.bool_).reshape(shape)
    if dt in (np.dtype(np.int64), np.dtype(_F64)):
        words = g._u64(n)
    else:
        words = g._u32(n).astype(_U64)
    if dt in _DIGITS:
        mod = (1 << _DIGITS[dt]) + 1
    else:
        mod = int(np.iinfo(dt).max) + 1
    return _cast_int64((words % _U64(mod)).view(np.int64), dt).reshape(shape)


def _fisher_yates(js: np.ndarray, n: int) -> np.ndarray:
    """Apply the swaps (i, js[i]) for i = 0, 1, ... in order, js[i] >= i.

    Swaps touching disjoint positions commute, so runs of them are applied as one fancy-indexed
    swap. A run ends where a swap's partner is a later step of the run, or where two swaps of the
    run share a partner; with random partners runs are about sqrt(n - i) long. The last few
    thousand steps, where runs get short, go through a plain loop (they only touch a[i:])."""
    a = np.arange(n, dtype=np.int64)
    steps = js.size
    s = 0
    while steps - s > 4096:
        e = s + max(1, int(math.sqrt(n - s)))
        idx = np.arange(s, e)
        part = js[s:e]
        later = (part > idx) & (part < e)
        cut = int(part[later].min()) if later.any() else e
        part = part[: cut - s]
        _, first = np.unique(part, return_index=True)
        if first.size < part.size:
            repeat = np.ones(part.size, dtype=bool)
            repeat[first] = False
            cut = s + int(np.argmax(repeat))
        idx = np.arange(s, cut)
        part = js[s:cut]
        a[idx], a[part] = a[part], a[idx].copy()
        s = cut
    rest = a[s:].tolist()
    for i, j in enumerate((js[s:] - s).tolist()):
        rest[i], rest[j] = rest[j], rest[i]
    a[s:] = rest
    return a


_RANDPERM_SMALL = 0xFFFFFFFF // 20  # below this torch keeps its original 32-bit shuffle


def randperm(gen: Generator | None, n: int, dtype: object = np.int64) -> np.ndarray:
    """torch.randperm on the cpu: a forward Fisher-Yates swap with random() % (n - i), or, for very
    large n, the inside-out shuffle with random64() % (i + 1)."""
    g = _gen(gen)
    dt = np.dtype(dtype)
    n = int(n)
    if n < 0:
        raise RuntimeError(f"Trying to create tensor with negative dimension {n}: [{n}]")
    if n < _RANDPERM_SMALL:
        steps = max(n - 1, 0)
        js = g._u32(steps).astype(np.int64) % np.arange(n, 1, -1, dtype=np.int64)
        js += np.arange(steps, dtype=np.int64)
        return _cast_int64(_fisher_yates(js, n), dt)
    else:
        zs = (g._u64(n) % np.arange(1, n + 1, dtype=_U64)).tolist()
        a = [0] * n
        for i, zi in enumerate(zs):
            a[i] = a[zi]
            a[zi] = i
    return _cast_int64(np.array(a, dtype=np.int64), dt)


# -- bernoulli ---------------------------------------------------------------------------------


def bernoulli(gen: Generator | None, p: np.ndarray, dtype: object) -> np.ndarray:
    """torch.bernoulli(p) / Tensor.bernoulli_(p_tensor): one uniform per element, 1 where it is
    below p. A double p draws a double uniform (random64); other p dtypes a float one (random())."""
    g = _gen(gen)
    dt = np.dtype(dtype)
    p = np.asarray(p)
    if p.size and not ((p >= 0) & (p <= 1)).all():
        raise RuntimeError(
            "Expected p_in >= 0 && p_in <= 1 to be true, but got false.  (Could this error message be "
            "improved?  If so, please report an enhancement request to PyTorch.)"
        )
    if p.dtype == np.dtype(_F64):
        hits = _unit53(g, p.size) < p.reshape(-1)
    else:
        hits = _unit24(g, p.size) < p.reshape(-1).astype(_F32)
    return hits.astype(dt).reshape(p.shape)


def bernoulli_scalar(gen: Generator | None, p: float, shape: _SHAPE, dtype: object) -> np.ndarray:
    """Tensor.bernoulli_(p: float), which torch.nn.functional.dropout uses with p = 1 - drop."""
    g = _gen(gen)
    p = float(p)
    if not 0.0 <= p <= 1.0:
        raise RuntimeError(f"bernoulli_ expects p to be in [0, 1], but got p={p}")
    return (_unit53(g, _numel(shape)) < p).astype(np.dtype(dtype)).reshape(shape)


# -- the default generator ---------------------------------------------------------------------

default_generator = Generator()
# torch seeds its default generator from the OS at startup; only torch.Generator() starts fixed.
default_generator.manual_seed(_nondeterministic_seed())


# cuda tensors draw from a stream of their own (torch keeps one generator per device); manual_seed seeds both
cuda_generator = Generator("cuda")


def manual_seed(seed: int) -> Generator:
    seed = int(seed)  # (torch/random.py's own conversion: a float or a numeric string is a seed)
    cuda_generator.manual_seed(seed)
    return default_generator.manual_seed(seed)


def seed() -> int:
    return default_generator.seed()


def initial_seed() -> int:
    return default_generator.initial_seed()


def get_rng_state() -> Any:
    return default_generator.get_state()


def set_rng_state(new_state: object) -> None:
    default_generator.set_state(new_state)


def _bf16_aware(fn: Any) -> Any:
    """fn drawing for bfloat16 as for float32, its draws rounded once (torch's bfloat16 fills round each float
    draw); a call for any other dtype goes straight through."""
    import functools

    from engine.bf16 import to_bf16

    @functools.wraps(fn)
    def draw(*args: Any, **kwargs: Any) -> Any:
        r = fn(*args, **kwargs)
        for a in (*args, *kwargs.values()):
            if isinstance(a, np.dtype) and a.metadata is not None:
                return to_bf16(r)
        return r

    return draw


for _name in ("uniform", "normal", "normal_tensor", "exponential", "cauchy", "randint", "random_", "randperm",
              "bernoulli", "bernoulli_scalar"):  # fmt: skip
    globals()[_name] = _bf16_aware(globals()[_name])
