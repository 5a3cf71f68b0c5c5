"""bfloat16 storage. Neither numpy nor cupy has the type, so a bfloat16 tensor holds a float32 array whose values
are always bfloat16 values: a BF16Array, an ndarray subclass whose dtype is float32 tagged with metadata.

torch's CPU bfloat16 kernels load bfloat16, compute in float32 and round the result once, so rounding each
numpy result that comes out of a bfloat16 operation gives torch's values. numpy hands every ufunc and array
function over such arrays to the hooks here, so the rounding sits in one place and plain float32 arrays never
reach it (their hot path is untouched). The metadata tag also marks a plain array cast to bfloat16 on the way
into an op (an integer operand promoted to bfloat16), so that operand counts as bfloat16 too."""

from __future__ import annotations

from typing import Any

import numpy as np

#: float32 as numpy sees it, tagged: the `.np` of torch.bfloat16 (equal to float32 and hashing alike)
BF16_NP = np.dtype(np.float32, metadata={"bf16": True})
_F32 = np.dtype(np.float32)
_NAN_BITS = 0x7FC00000  # torch rounds every nan to the one quiet nan, sign dropped (c10::round_to_nearest_even)


def round_bits(a: Any, xp: Any = np) -> Any:
    """float32 values rounded to the nearest bfloat16 (ties to even), as a plain float32 array: the bits of the
    upper half after adding 0x7FFF plus the lowest kept bit."""
    a = xp.asarray(a, dtype=_F32)
    u = a.view(xp.uint32)
    r = (u + ((u >> 16) & 1) + 0x7FFF) & 0xFFFF0000
    r = xp.where(a != a, xp.uint32(_NAN_BITS), r)
    return r.view(xp.float32)


def array_module(a: Any) -> Any:
    """numpy for a host array, cupy for a device one."""
    if isinstance(a, (np.ndarray, np.generic)):
        return np
    import cupy

    return cupy


def bf16_cpu_only() -> RuntimeError:
    """The error for bfloat16 on cuda: cupy has no bfloat16, and float32 values there would not be rounded."""
    e = RuntimeError("bfloat16 tensors are cpu-only in tcli's engine (cupy has no bfloat16); use float16 or "
                     "float32 on cuda")  # fmt: skip
    e.not_covered = True  # type: ignore[attr-defined]
    return e


def is_bf16(a: Any) -> bool:
    """Whether an array holds bfloat16 values (a BF16Array, or a plain array cast to the tagged dtype)."""
    dt = getattr(a, "dtype", None)
    return dt is not None and dt.metadata is not None and "bf16" in dt.metadata


def to_bf16(a: Any, xp: Any = np) -> BF16Array:
    """Any real array as a BF16Array: its values rounded to bfloat16."""
    return _tag(round_bits(a, xp))


def to_bf16_vec(a: Any, xp: Any = np) -> BF16Array:
    """to_bf16 as torch's vectorized store rounds (cvtfp32_bf16): a nan becomes 0xFFFF, all ones, not the scalar
    conversion's one quiet nan; for kernels that map a vector function over every element."""
    a = xp.asarray(a, dtype=_F32)
    r = round_bits(a, xp)
    return _tag(xp.where(a != a, xp.uint32(0xFFFF0000).view(xp.float32), r))


#: whether this process has made a bfloat16 array yet: until it has, fused ops (see whole) skip their bookkeeping
SEEN = [False]


def _tag(r: Any) -> Any:
    SEEN[0] = True
    if type(r) is not np.ndarray:  # a device array: tagged by dtype only
        return r.view(BF16_NP) if hasattr(r, "view") else r
    return r.view(BF16_NP).view(BF16Array)


def plain(a: Any) -> Any:
    """The float32 values of a bfloat16 array as a plain float32 array (shares memory)."""
    if isinstance(a, BF16Array):
        return a.view(np.ndarray).view(_F32)
    return a


def _strip(x: Any) -> Any:
    """Operands as plain float32 arrays: untagged too, so that no kernel meets the tag (a kernel that caches by
    dtype would otherwise hand bfloat16's tagged arrays to float32 calls: the tag compares equal to float32)."""
    if isinstance(x, np.ndarray) and x.dtype.metadata is not None:
        return x.view(np.ndarray).view(_F32)
    if type(x) in (list, tuple):
        return type(x)(_strip(e) for e in x)
    return x


def _wants_bf16(args: Any) -> bool:
    """Whether a float32 result of these operands is bfloat16, by torch's result_type: a dimensioned operand
    decides over a 0-dim one; bfloat16 with float16 or float32 gives float32 (the engine casts a float16
    operand to float32 first, and an integer one to the tagged dtype, so only the tag is asked here)."""
    bf_dim = bf_zero = other_dim = other_zero = False
    stack = list(args)
    while stack:
        x = stack.pop()
        if type(x) in (list, tuple):
            stack.extend(x)
            continue
        dt = getattr(x, "dtype", None)
        if dt is None or not isinstance(x, np.ndarray) or dt.kind != "f":
            continue
        if is_bf16(x):
            if x.ndim:
                bf_dim = True
            else:
                bf_zero = True
        elif x.ndim:
            other_dim = True
        else:
            other_zero = True
    if bf_dim:
        return not other_dim
    return bf_zero and not other_dim and not other_zero


def _finish(r: Any, bf: bool) -> Any:
    if isinstance(r, tuple):
        return tuple(_finish(e, bf) for e in r)
    if isinstance(r, np.ndarray) and r.dtype == _F32:
        # (numpy carries the tag over from tagged operands; a float32 result that is not bfloat16 drops it)
        if not bf:
            return r.view(_F32)
        return to_bf16(r) if not _DEFER[0] else r.view(BF16_NP).view(BF16Array)
    if bf and isinstance(r, np.float32):
        return _finish(np.asarray(r), bf)
    return r


#: nesting depth of ops that torch computes in float32 as one kernel (see whole): inside one, bfloat16 results
#: keep their float32 values, and the op's outputs are rounded once at its end
_DEFER = [0]


def whole(fn: Any) -> Any:
    """fn as one reduced-precision kernel: its bfloat16 intermediates stay float32 and its bfloat16 outputs are
    rounded once when it returns, as torch's fused CPU kernels (softmax, mean, var, layer_norm, gelu) do. A
    float32 call pays one list read until the process makes a bfloat16 array, then a counter and one type test
    per output."""
    import functools

    @functools.wraps(fn)
    def run(*args: Any, **kwargs: Any) -> Any:
        if not SEEN[0]:  # (no bfloat16 array exists: nothing to defer or round)
            return fn(*args, **kwargs)
        _DEFER[0] += 1
        try:
            r = fn(*args, **kwargs)
        finally:
            _DEFER[0] -= 1
        if not _DEFER[0]:
            for t in r if isinstance(r, tuple) else (r,):
                d = getattr(t, "_data", None)
                if d is not None and d.dtype.metadata is not None:
                    # in place: what the op saved for its backward holds the same array
                    v = d.view(np.ndarray).view(_F32)
                    v[...] = round_bits(v, array_module(d))
                    if type(d) is np.ndarray:
                        t._data = d.view(BF16Array)
        return r

    return run


_WRITERS = frozenset({np.copyto, np.put, np.putmask, np.place, np.put_along_axis})


def apply(fn: Any, *arrays: Any) -> Any:
    """fn over the float32 values of its operands, its result rounded once if bfloat16 (torch's reduced-precision
    kernels: load, compute in float32, store): for the engine's own kernels, which expect plain arrays."""
    return _finish(fn(*_strip(arrays)), _wants_bf16(arrays))


def stepwise(a: Any, axis: int | None, ufunc: Any) -> Any:
    """ufunc's reduction of a bfloat16 array along axis (None: all of it) in order, rounding after each step:
    torch's bfloat16 prod, whose running product stays bfloat16."""
    # (all of it: in memory order, as torch's TensorIterator walks a transposed or permuted input)
    v = plain(a).ravel(order="K") if axis is None else np.moveaxis(plain(a), axis, 0)
    if v.shape[0] == 0:
        return to_bf16(np.full(v.shape[1:], ufunc.identity, _F32))
    r = v[0].copy()
    for row in v[1:]:
        r = round_bits(ufunc(r, row))
    return to_bf16(r)


class BF16Array(np.ndarray):
    """A float32 ndarray of bfloat16 values; see the module docstring."""

    __array_priority__ = 20.0

    def __array_ufunc__(self, ufunc: Any, method: str, *inputs: Any, **kwargs: Any) -> Any:
        out = kwargs.get("out")
        if out is not None:
            kwargs["out"] = _strip(out)
        r = getattr(ufunc, method)(*_strip(inputs), **kwargs)
        dt = kwargs.get("dtype")
        if dt is not None and np.dtype(dt).metadata is None:  # (sum(dtype=torch.float32) of bfloat16)
            return _finish(r, False)
        if out is not None:
            for o in out:
                if is_bf16(o):
                    plain(o)[...] = round_bits(plain(o))
            return out[0] if len(out) == 1 else out
        if method == "at":
            return r
        return _finish(r, _wants_bf16(inputs))

    def __array_function__(self, func: Any, types: Any, args: tuple, kwargs: dict) -> Any:
        r = func(*_strip(args), **{k: _strip(v) for k, v in kwargs.items()})
        if func in _WRITERS and args and isinstance(args[0], BF16Array):  # values written into a bfloat16 array
            dst = plain(args[0])
            dst[...] = round_bits(dst)
            return r
        return _finish(r, _wants_bf16(args) or _wants_bf16(tuple(kwargs.values())))

    def __getitem__(self, key: Any) -> Any:
        r = super().__getitem__(key)
        if isinstance(r, np.generic):  # one element: a 0-dim bfloat16 array, not a float32 scalar
            return np.asarray(r).view(BF16_NP).view(BF16Array)
        return r

    def __setitem__(self, key: Any, value: Any) -> None:
        if not isinstance(value, BF16Array):
            value = round_bits(np.asarray(value, dtype=_F32))
        self.view(np.ndarray)[key] = value

    def astype(self, dtype: Any, *args: Any, **kwargs: Any) -> Any:
        """The tagged dtype keeps the array bfloat16; any other (plain float32 too) is a plain array of its values."""
        r = self.view(np.ndarray).astype(dtype, *args, **kwargs)
        if r.dtype.metadata is not None:
            return _tag(r)
        return r.view(_F32) if r.dtype == _F32 else r

    def __reduce__(self) -> Any:
        return (to_bf16, (plain(self).copy(),))

    def item(self, *args: Any) -> Any:
        return self.view(np.ndarray).item(*args)

    def tolist(self) -> Any:
        return self.view(np.ndarray).tolist()
