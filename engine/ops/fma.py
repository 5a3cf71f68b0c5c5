"""Fused multiply-add, x * y + z rounded once, as torch's cpu kernels compute `add(alpha=)`, `addcmul` and
`lerp` (its vectorized loops use FMA instructions, and so does their scalar tail). numpy has no fma, so:

- float32: the product of two float32 values is exact in float64, so a float64 multiply and add gives the sum
  rounded once to float64; rounding that to float32 is the fma's result except when the float64 sum lands
  exactly halfway between two float32 values while the exact sum did not (a double rounding), which
  `_fma32` detects and resolves from the sum's exact error.
- float64: Boldo and Melquiond's emulation (IEEE Trans. Computers 57(4), 2008): the exact product as a sum of
  two doubles (Dekker's product, Veltkamp's split), the exact sum with the addend (Knuth's TwoSum), and the
  two error terms added with rounding to odd, so the last addition rounds once, correctly.

Works on numpy and cupy arrays alike.
"""

from __future__ import annotations

import math
from itertools import repeat
from typing import Any

import numpy as np

F32 = np.dtype(np.float32)
F64 = np.dtype(np.float64)
EXACT = (F32, F64)  # the dtypes fma computes

_LOW29 = np.uint64((1 << 29) - 1)  # the float64 mantissa bits below float32's precision
_HALF29 = np.uint64(1 << 28)  # ... holding exactly half a float32 ulp: a tie when rounded to float32
_SPLIT = 134217729.0  # 2**27 + 1, Veltkamp's splitting constant for float64


CHUNK = 16384  # elements a pass of the numpy emulations works on: whole-size temporaries past this cost more in
# malloc's fresh pages (mmap'd, or the heap trimmed and grown again) than the work itself


def chunked(fn: Any, *arrays: np.ndarray) -> np.ndarray:
    """fn over same-shaped numpy arrays (C order) in CHUNK-sized pieces, a new C-contiguous array of their
    shape (fn maps 1-d arrays elementwise)."""
    shape = arrays[0].shape
    xs = [np.ascontiguousarray(a).reshape(-1) for a in arrays]
    n = xs[0].size
    if n <= CHUNK:
        return fn(*xs).reshape(shape)
    r = None
    for b in range(0, n, CHUNK):
        piece = fn(*(x[b : b + CHUNK] for x in xs))
        if r is None:
            r = np.empty(n, piece.dtype)
        r[b : b + CHUNK] = piece
    return r.reshape(shape)


def arr(x: Any) -> Any:
    """x as an array: numpy's operations on 0-dim arrays return scalars, which in-place ops cannot update."""
    return np.asarray(x) if isinstance(x, np.generic) else x


def xp_of(a: Any) -> Any:
    return np if isinstance(a, np.ndarray) or isinstance(a, np.generic) else _cupy_of(a)


def _cupy_of(a: Any) -> Any:
    try:
        import cupy  # only reached for device arrays, so cupy is imported already
    except ImportError:  # not a device array: a sparse tensor's stand-in refuses here (engine/sparse_tensor.py)
        a.__cuda_array_interface__  # noqa: B018
        raise

    return cupy


def store(dst: Any, src: Any) -> None:
    """dst's values become src's (same shape; a float64 src is rounded to a float32 dst)."""
    if type(dst) is np.ndarray:
        np.copyto(dst, src)
    else:
        dst[...] = src


def fma(x: Any, y: Any, z: Any, out: Any = None) -> Any:
    """RN(x * y + z) in z's dtype (float32 or float64): a new array, or written into out (which may be z).
    x and z are arrays; y is an array or a Python float that holds a value of the dtype (the caller rounds
    torch's scalar to it first)."""
    if type(y) is float and (y == 1.0 or y == -1.0):
        r = z + x if y == 1.0 else z - x  # an exact product: one rounding already
    elif z.dtype == F32:
        r = _fma32(x, y, z)  # (float64, exactly representable in float32)
    else:
        r = _fma64(x, y, z)
    if out is None:
        return arr(r.astype(z.dtype, copy=False))
    store(out, r)
    return out


def fma32_(x: np.ndarray, y: float, z: np.ndarray) -> None:
    """z = RN(x * y + z) in place, for float32 numpy arrays x and z of one shape (not 0-dim) and a Python float y
    that holds a float32 value other than 1 and -1: fma(x, y, z, out=z) with fewer steps (an optimizer's update,
    every parameter every step). The float64 sum is _fma32's; a double rounding sends the work to it."""
    r = _multiply(x, y, dtype=F64)  # exact
    _add(r, z, out=r)  # rounded once, to float64
    if r.size == 1:  # (a one-element parameter, a one-output layer's bias: its bits as a Python int)
        tie = (r.view(_U64).item() & 0x1FFFFFFF) == 0x10000000
    else:
        tie = _count_nonzero(_equal(_bitwise_and(r.view(_U64), _LOW29), _HALF29))
    if tie:
        r = _fma32(x, y, z)
    _copyto(z, r)


_multiply, _add, _equal, _bitwise_and = np.multiply, np.add, np.equal, np.bitwise_and
_count_nonzero, _copyto = np.count_nonzero, np.copyto
_U64 = np.uint64


def _fma32(x: Any, y: Any, z: Any) -> Any:
    xp = xp_of(z)
    p = xp.multiply(x, y, dtype=F64)  # exact: 24 + 24 significant bits
    r = p + z  # rounded once, to float64
    tie = (r.view(np.uint64) & _LOW29) == _HALF29
    if xp is np and not np.count_nonzero(tie):  # (faster than tie.any() on small arrays)
        return r
    # r sits halfway between two float32 values: the exact sum's error says which way it must round
    if xp is np and r.ndim:  # (on those elements only: exact ties are common, double roundings rare)
        i = np.nonzero(tie)
        rr, pp = r[i], np.broadcast_to(p, r.shape)[i]
        zz = np.broadcast_to(z, r.shape)[i].astype(F64)
        bb = rr - pp
        err = (pp - (rr - bb)) + (zz - bb)
        r[i] = np.where(err != 0, np.nextafter(rr, np.copysign(np.inf, err)), rr)
        return r
    z64 = z.astype(F64)
    bb = r - p
    err = (p - (r - bb)) + (z64 - bb)
    nudge = tie & (err != 0)
    return xp.where(nudge, xp.nextafter(r, xp.copysign(xp.inf, err)), r)


def _split(a: Any) -> tuple:
    """Veltkamp's split of a (an array or a Python float): hi + lo == a, each with at most 26 significant bits."""
    c = a * _SPLIT
    hi = c - (c - a)
    return hi, a - hi


_CONST_SPLITS: dict = {}  # Python float -> its split as 0-d arrays (numpy takes those faster than floats)


def split_const(y: float) -> tuple:
    """_split of the Python float y (not 0 or NaN), as 0-d float64 arrays, computed once per value."""
    s = _CONST_SPLITS.get(y)
    if s is None:
        if len(_CONST_SPLITS) > 4096:  # (a bound: callers pass a few dozen SLEEF constants)
            _CONST_SPLITS.clear()
        hi, lo = _split(y)
        s = _CONST_SPLITS[y] = (np.array(y), np.array(hi), np.array(lo))
    return s


_SMALL = 12  # up to this many elements, _fma64 computes with Python integers (numpy's per-call cost dominates)
_EXP_LIMIT = 400  # ... for operands within 2^-400 .. 2^400 in magnitude, where the array emulation is exact too
_M53 = 9007199254740992.0  # 2^53


def _fma64_small(x: list, y: Any, z: list) -> list | None:
    """RN64(x * y + z) of Python floats (y a list or a repeat of one float) with integers: x * y + z exactly
    as an integer times a power of two, then one correctly rounded conversion (CPython's int to float and
    int / int round to nearest even); a zero product gives z, a zero z the float product. None when an operand
    is not finite or outside 2^+-400, or a result is 0 (the sign of a zero sum): the array emulation computes
    those. Within these bounds the emulation is exact, so every result here is also its result."""
    out = []
    frexp = math.frexp
    lim = _EXP_LIMIT
    try:
        for a, b, c in zip(x, y, z):
            ma, ea = frexp(a)
            mb, eb = frexp(b)
            mc, ec = frexp(c)
            na, nb, nc = int(ma * _M53), int(mb * _M53), int(mc * _M53)  # (inf, NaN: raise)
            if not (-lim < ea < lim and -lim < eb < lim and -lim < ec < lim):
                return None
            if not (na and nb):
                if not nc:
                    return None
                out.append(c)
                continue
            if not nc:
                out.append(a * b)
                continue
            n = na * nb
            k = ea + eb - 106
            kc = ec - 53
            if k >= kc:
                n = (n << (k - kc)) + nc
                k = kc
            else:
                n += nc << (kc - k)
            if not n:
                return None
            out.append(float(n << k) if k >= 0 else n / (1 << -k))
    except (OverflowError, ValueError):  # (inf, NaN)
        return None
    return out


def _like(y: Any, x: np.ndarray) -> bool:
    """Whether y is a C-contiguous float64 numpy array of x's shape."""
    return type(y) is np.ndarray and y.dtype == F64 and y.shape == x.shape and y.flags.c_contiguous


def _same_layout(x: Any, y: Any, z: Any) -> bool:
    """Whether x and z are C-contiguous float64 numpy arrays of one shape and y is one too or a Python float:
    the operands _fma64 takes through its small and chunked paths (their results keep that layout)."""
    return (
        type(x) is np.ndarray
        and x.dtype == F64
        and x.flags.c_contiguous
        and _like(z, x)
        and (type(y) is float or _like(y, x))
    )


def fma64_small(x: Any, y: Any, z: Any) -> Any:
    """_fma64_small over numpy operands (as _same_layout takes them) of up to _SMALL elements: the result
    array, or None where it declines (the caller then runs the array emulation)."""
    if x.size > _SMALL or not _same_layout(x, y, z):
        return None
    r = _fma64_small(x.ravel().tolist(), repeat(y) if type(y) is float else y.ravel().tolist(), z.ravel().tolist())
    return None if r is None else np.array(r, F64).reshape(x.shape)


def _fma64(x: Any, y: Any, z: Any) -> Any:
    """RN64(x * y + z) for finite float64 values away from overflow (x an array, y an array or a Python float,
    z an array or a 0-d array broadcasting to the product's shape). In-place steps where the operand is a
    fresh array; C-contiguous numpy operands of one shape through _fma64_small when small, in chunks when
    large."""
    xp = xp_of(x)
    f64 = xp is np and x.dtype == F64  # (numpy float64 operands: a float32 x meets y as numpy's rules say)
    if f64 and x.size <= _SMALL:
        r = fma64_small(x, y, z)
        if r is not None:
            return r
    elif f64 and x.size > CHUNK and _same_layout(x, y, z):
        if type(y) is float:
            return chunked(lambda a, c: _fma64(a, y, c), x, z)
        return chunked(_fma64, x, y, z)
    if xp is np and not (x.ndim or np.ndim(y) or np.ndim(z)):  # (0-d operands give numpy scalars: in 1-d)
        return _fma64(x.reshape(1), y if type(y) is float else np.reshape(y, 1), np.reshape(z, 1)).reshape(())
    if type(y) is float:
        # (zeros and NaN split as Python floats: 0.0 == -0.0 would share a cache entry, NaN would miss it)
        y, yh, yl = split_const(y) if f64 and y and y == y else (y, *_split(y))
    else:
        yh, yl = _split(y)
    xh, xl = _split(x)
    p = x * y
    e = xh * yh  # Dekker's product: x * y == p + e exactly
    e -= p
    e += xh * yl
    e += xl * yh
    e += xl * yl
    th = z + p  # Knuth's TwoSum: z + p == th + tl exactly
    bb = th - z
    tl = z - (th - bb)
    tl += p - bb
    v = tl + e  # TwoSum again: tl + e == v + err exactly
    bb = v - tl
    err = tl - (v - bb)
    err += e - bb
    # round tl + e to odd: an inexact v with an even last bit moves to its odd neighbour, toward err. On the
    # bits (sign and magnitude, magnitudes ordered as integers) that is +1 when err has v's sign, else -1;
    # v is not 0 there (tl + e rounds to 0 only when it is 0). (np.nextafter is ten times slower.)
    vb = v.view(np.int64)
    fix = (err != 0) & ((vb & 1) == 0)
    if xp is not np or np.count_nonzero(fix):
        down = fix & (xp.signbit(v) ^ xp.signbit(err))
        v = (vb + fix - 2 * down).view(np.float64)
    return xp.add(th, v, out=v)  # (th first: of two NaNs, x86 keeps the first operand's)
