"""torch.fft: discrete Fourier transforms, built as torch builds them (aten/src/ATen/native/SpectralOps.cpp) on
three primitives with torch's backward formulas: complex-to-complex, real-to-complex (onesided or full) and
complex-to-real. The array work is the device's own FFT (numpy.fft, cupy.fft); inputs are resized to n/s by
slicing and zero padding, each with its own node, as torch does."""

from __future__ import annotations

import functools
from typing import Any

from engine.dtypes import DEFAULT, FROM_NP
from engine.ops.shape import _record
from engine.ops.util import node_class, norm_dim
from engine.tensor import Tensor, wrap

# torch's fft_norm_mode: the scale applied, as numpy's norm= names it for a forward and an inverse transform
NONE, BY_ROOT_N, BY_N = 0, 1, 2
_FWD = {NONE: "backward", BY_ROOT_N: "ortho", BY_N: "forward"}
_INV = {NONE: "forward", BY_ROOT_N: "ortho", BY_N: "backward"}


def _norm_mode(norm: str | None, forward: bool) -> int:
    if norm is None or norm == "backward":
        return NONE if forward else BY_N
    if norm == "forward":
        return BY_N if forward else NONE
    if norm == "ortho":
        return BY_ROOT_N
    raise RuntimeError(f'Invalid normalization mode: "{norm}"')


# ---- the three primitives ----------------------------------------------------------------------------------
def _c2c_bw(self: Any, g: Tensor, dims: tuple, mode: int, forward: bool) -> tuple:
    return (_c2c(g, dims, mode, not forward),)  # (the adjoint: the other direction, the same scale)


def _r2c_bw(self: Any, g: Tensor, dims: tuple, mode: int, onesided: bool, full: int) -> tuple:
    if onesided and g._data.shape[dims[-1]] < full:
        # the dropped half of the spectrum had no gradient: zeros, then the full inverse
        shape = list(g._data.shape)
        shape[dims[-1]] = full - shape[dims[-1]]
        from engine.ops.index import cat

        g = cat([g, _zeros(g, tuple(shape))], dims[-1])
    return (_c2c(g, dims, mode, False).real,)


def _c2r_bw(self: Any, g: Tensor, dims: tuple, mode: int) -> tuple:
    gi = _r2c(g, dims, mode, True)
    last = dims[-1]
    doubled = g._data.shape[last] - gi._data.shape[last]
    if doubled > 0:  # the bins that stand for two (conjugate) bins of the full spectrum count twice
        xp = g._dev.xp
        w = xp.ones(gi._data.shape[last], dtype=g._data.dtype)
        w[1 : 1 + doubled] = 2
        shape = [1] * gi._data.ndim
        shape[last] = -1
        gi = gi * wrap(w.reshape(shape), g._dev)
    return (gi,)


FftC2CBackward0 = node_class("FftC2CBackward0", _c2c_bw)
FftR2CBackward0 = node_class("FftR2CBackward0", _r2c_bw)
FftC2RBackward0 = node_class("FftC2RBackward0", _c2r_bw)


def _zeros(like: Tensor, shape: tuple) -> Tensor:
    return wrap(like._dev.xp.zeros(shape, dtype=like._data.dtype), like._dev)


def _c2c(x: Tensor, dims: tuple, mode: int, forward: bool) -> Tensor:
    d = x._data
    fft = x._dev.xp.fft
    r = fft.fftn(d, axes=dims, norm=_FWD[mode]) if forward else fft.ifftn(d, axes=dims, norm=_INV[mode])
    return _record(wrap(r.astype(d.dtype, copy=False), x._dev), FftC2CBackward0, x, (dims, mode, forward))


def _r2c(x: Tensor, dims: tuple, mode: int, onesided: bool) -> Tensor:
    d = x._data
    fft = x._dev.xp.fft
    r = fft.rfftn(d, axes=dims, norm=_FWD[mode]).astype(FROM_NP[d.dtype].to_complex().np, copy=False)
    if not onesided:
        r = _fill_conjugate_symmetry(x._dev.xp, r, dims, d.shape[dims[-1]])
    return _record(wrap(r, x._dev), FftR2CBackward0, x, (dims, mode, onesided, d.shape[dims[-1]]))


def _fill_conjugate_symmetry(xp: Any, half: Any, dims: tuple, n: int) -> Any:
    """The full spectrum of real data from its onesided half, as torch's _fft_fill_with_conjugate_symmetry_ makes
    it: bin k past the half is the conjugate of bin -k (so a zero imaginary part there comes out as -0)."""
    h = half.shape[dims[-1]]
    mirror = half
    for a in dims[:-1]:  # index -i mod size along the other transformed dims
        mirror = xp.roll(xp.flip(mirror, axis=a), 1, axis=a)
    last = dims[-1]
    idx = [slice(None)] * half.ndim
    idx[last] = slice(n - h, 0, -1)
    return xp.concatenate([half, xp.conj(mirror[tuple(idx)])], axis=last)


def _c2r(x: Tensor, dims: tuple, mode: int, last: int) -> Tensor:
    d = x._data
    s = [d.shape[a] for a in dims[:-1]] + [last]
    r = x._dev.xp.fft.irfftn(d, s=s, axes=dims, norm=_INV[mode])
    return _record(wrap(r.astype(d.real.dtype, copy=False), x._dev), FftC2RBackward0, x, (dims, mode))


# ---- argument handling as SpectralOps.cpp does it -----------------------------------------------------------
def _promote(x: Tensor, require_complex: bool) -> Tensor:
    dt = FROM_NP[x._data.dtype]
    if dt.is_complex:
        return x
    if not dt.is_floating_point:
        dt = DEFAULT.float
    if dt.name not in ("float32", "float64"):
        raise RuntimeError(f"Unsupported dtype {dt.scalar_name()}")
    if require_complex:
        dt = dt.to_complex()
    return x if x._data.dtype == dt.np else x.to(dt)


def _resize(x: Tensor, dims: tuple, sizes: tuple) -> Tensor:
    """Each transformed dim sliced down or zero padded up to its size (torch's resize_fft_input)."""
    pads = [0] * (2 * x._data.ndim)
    padded = False
    for a, n in zip(dims, sizes):
        have = x._data.shape[a]
        if have < n:
            pads[len(pads) - 2 * a - 1] = n - have
            padded = True
        elif have > n:
            x = x.narrow(a, 0, n)
    if not padded:
        return x
    from engine.nn.functional import pad

    while pads and pads[-1] == 0 and pads[-2] == 0:  # (torch's pad list covers the trailing dims only)
        del pads[-2:]
    return pad(x, tuple(pads))


def _check_n(n: int) -> None:
    if n < 1:
        raise RuntimeError(f"Invalid number of data points ({n}) specified")


def _shape_and_dims(x: Tensor, s: Any, dim: Any) -> tuple[tuple, tuple]:
    """torch's canonicalize_fft_shape_and_dim_args: the dims to transform and their sizes."""
    ndim = x._data.ndim
    sizes = x._data.shape
    dims: tuple | None = None
    if dim is not None:
        dims = tuple(norm_dim(d, ndim) for d in ([dim] if isinstance(dim, int) else dim))
        if len(set(dims)) != len(dims):
            raise RuntimeError("FFT dims must be unique")
    if s is not None:
        s = [s] if isinstance(s, int) else list(s)
        if dims is not None and len(dims) != len(s):
            raise RuntimeError("When given, dim and shape arguments must have the same length")
        if len(s) > ndim:
            raise RuntimeError(f"Got shape with {len(s)} values but input tensor only has {ndim} dimensions.")
        if dims is None:
            dims = tuple(range(ndim - len(s), ndim))
        shape = tuple(sizes[a] if n == -1 else int(n) for a, n in zip(dims, s))
    elif dims is None:
        dims, shape = tuple(range(ndim)), tuple(sizes)
    else:
        shape = tuple(sizes[a] for a in dims)
    for n in shape:
        _check_n(n)
    return shape, dims


def _tensor(x: Any, fn: str) -> Tensor:
    if not isinstance(x, Tensor):
        raise TypeError(f"fft_{fn}(): argument 'input' (position 1) must be Tensor, not {type(x).__name__}")
    return x


# ---- one-dimensional transforms ------------------------------------------------------------------------------
def _one(x: Tensor, n: int | None, dim: int) -> tuple[Tensor, int, int]:
    """The dim and the number of points along it (n, or the dim's length)."""
    a = _dim(x, dim)
    size = n if n is not None else x._data.shape[a]
    _check_n(size)
    return x, a, size


def _dim(x: Tensor, dim: int) -> int:
    if not x._data.ndim:  # (torch wraps dims here without taking a 0-dim tensor as one element)
        raise IndexError(f"Dimension specified as {dim} but tensor has no dimensions")
    return norm_dim(dim, x._data.ndim)


def _c2c_1d(x: Tensor, n: int | None, dim: int, norm: str | None, forward: bool) -> Tensor:
    x, a, size = _one(x, n, dim)
    if n is not None:
        x = _resize(x, (a,), (size,))
    return _c2c(x, (a,), _norm_mode(norm, forward), forward)


def _r2c_1d(name: str, x: Tensor, n: int | None, dim: int, norm: str | None, forward: bool, onesided: bool) -> Tensor:
    if x._data.dtype.kind == "c":
        raise RuntimeError(f"{name} expects a real input tensor, but got {x.dtype.scalar_name()}")
    x = _promote(x, False)
    x, a, size = _one(x, n, dim)
    if n is not None:
        x = _resize(x, (a,), (size,))
    r = _r2c(x, (a,), _norm_mode(norm, forward), onesided)
    return r if forward else r.conj()  # (an inverse transform of real data: the forward one, conjugated)


def _c2r_1d(x: Tensor, n: int | None, dim: int, norm: str | None, forward: bool) -> Tensor:
    x = _promote(x, True)
    a = _dim(x, dim)
    last = n if n is not None else 2 * (x._data.shape[a] - 1)
    _check_n(last)
    if n is not None:
        x = _resize(x, (a,), (last // 2 + 1,))
    if forward:
        x = x.conj()
    return _c2r(x, (a,), _norm_mode(norm, forward), last)


def fft(input: Tensor, n: int | None = None, dim: int = -1, norm: str | None = None) -> Tensor:  # noqa: A002
    x = _tensor(input, "fft")
    if x._data.dtype.kind == "c":
        return _c2c_1d(x, n, dim, norm, True)
    return _r2c_1d("fft", x, n, dim, norm, True, False)


def ifft(input: Tensor, n: int | None = None, dim: int = -1, norm: str | None = None) -> Tensor:  # noqa: A002
    x = _tensor(input, "ifft")
    if x._data.dtype.kind == "c":
        return _c2c_1d(x, n, dim, norm, False)
    return _r2c_1d("ifft", x, n, dim, norm, False, False)


def rfft(input: Tensor, n: int | None = None, dim: int = -1, norm: str | None = None) -> Tensor:  # noqa: A002
    return _r2c_1d("rfft", _tensor(input, "rfft"), n, dim, norm, True, True)


def ihfft(input: Tensor, n: int | None = None, dim: int = -1, norm: str | None = None) -> Tensor:  # noqa: A002
    return _r2c_1d("ihfft", _tensor(input, "ihfft"), n, dim, norm, False, True)


def irfft(input: Tensor, n: int | None = None, dim: int = -1, norm: str | None = None) -> Tensor:  # noqa: A002
    return _c2r_1d(_tensor(input, "irfft"), n, dim, norm, False)


def hfft(input: Tensor, n: int | None = None, dim: int = -1, norm: str | None = None) -> Tensor:  # noqa: A002
    return _c2r_1d(_tensor(input, "hfft"), n, dim, norm, True)


# ---- n-dimensional transforms ----------------------------------------------------------------------------------
def _c2c_nd(x: Tensor, s: Any, dim: Any, norm: str | None, forward: bool) -> Tensor:
    shape, dims = _shape_and_dims(x, s, dim)
    x = _resize(_promote(x, True), dims, shape)
    return _c2c(x, dims, _norm_mode(norm, forward), forward)


def fftn(input: Tensor, s: Any = None, dim: Any = None, norm: str | None = None) -> Tensor:  # noqa: A002
    return _c2c_nd(_tensor(input, "fftn"), s, dim, norm, True)


def ifftn(input: Tensor, s: Any = None, dim: Any = None, norm: str | None = None) -> Tensor:  # noqa: A002
    return _c2c_nd(_tensor(input, "ifftn"), s, dim, norm, False)


def fft2(input: Tensor, s: Any = None, dim: Any = (-2, -1), norm: str | None = None) -> Tensor:  # noqa: A002
    return _c2c_nd(_tensor(input, "fft2"), s, dim, norm, True)


def ifft2(input: Tensor, s: Any = None, dim: Any = (-2, -1), norm: str | None = None) -> Tensor:  # noqa: A002
    return _c2c_nd(_tensor(input, "ifft2"), s, dim, norm, False)


def _rfftn(name: str, x: Tensor, s: Any, dim: Any, norm: str | None) -> Tensor:
    if x._data.dtype.kind == "c":
        raise RuntimeError(f"{name} expects a real-valued input tensor, but got {x.dtype.scalar_name()}")
    shape, dims = _shape_and_dims(x, s, dim)
    if not shape:
        raise RuntimeError(f"{name} must transform at least one axis")
    x = _resize(_promote(x, False), dims, shape)
    return _r2c(x, dims, _norm_mode(norm, True), True)


def _c2r_args(name: str, x: Tensor, s: Any, dim: Any) -> tuple[Tensor, tuple, int]:
    """torch's canonicalize_fft_c2r_shape_and_dim_args: the input resized, the dims, the last dim's output size."""
    shape, dims = _shape_and_dims(x, s, dim)
    if not shape:
        raise RuntimeError(f"{name} must transform at least one axis")
    given = None if s is None else ([s] if isinstance(s, int) else list(s))
    last = given[-1] if given and given[-1] != -1 else 2 * (x._data.shape[dims[-1]] - 1)
    _check_n(last)
    shape = (*shape[:-1], last // 2 + 1)
    return _resize(_promote(x, True), dims, shape), dims, last


def _irfftn(name: str, x: Tensor, s: Any, dim: Any, norm: str | None) -> Tensor:
    x, dims, last = _c2r_args(name, x, s, dim)
    return _c2r(x, dims, _norm_mode(norm, False), last)


def _hfftn(x: Tensor, s: Any, dim: Any, norm: str | None) -> Tensor:
    # the leading dims by a forward c2c, the last by a c2r of the conjugate (torch's order)
    x, dims, last = _c2r_args("hfftn", x, s, dim)
    mode = _norm_mode(norm, True)
    if len(dims) > 1:
        x = _c2c(x, dims[:-1], mode, True)
    return _c2r(x.conj(), dims[-1:], mode, last)


def _ihfftn(x: Tensor, s: Any, dim: Any, norm: str | None) -> Tensor:
    if x._data.dtype.kind == "c":
        raise RuntimeError(f"Only supports floating-point dtypes, but found: {x.dtype.scalar_name()}")
    shape, dims = _shape_and_dims(x, s, dim)
    if not shape:
        raise RuntimeError("ihfftn must transform at least one axis")
    x = _resize(_promote(x, False), dims, shape)
    mode = _norm_mode(norm, False)
    half = _r2c(x, dims[-1:], mode, True)
    if len(dims) == 1:
        return half.conj()
    return _c2c(half.conj_physical(), dims[:-1], mode, False)


def rfftn(input: Tensor, s: Any = None, dim: Any = None, norm: str | None = None) -> Tensor:  # noqa: A002
    return _rfftn("rfftn", _tensor(input, "rfftn"), s, dim, norm)


def rfft2(input: Tensor, s: Any = None, dim: Any = (-2, -1), norm: str | None = None) -> Tensor:  # noqa: A002
    return _rfftn("rfftn", _tensor(input, "rfft2"), s, dim, norm)


def irfftn(input: Tensor, s: Any = None, dim: Any = None, norm: str | None = None) -> Tensor:  # noqa: A002
    return _irfftn("irfftn", _tensor(input, "irfftn"), s, dim, norm)


def irfft2(input: Tensor, s: Any = None, dim: Any = (-2, -1), norm: str | None = None) -> Tensor:  # noqa: A002
    return _irfftn("irfftn", _tensor(input, "irfft2"), s, dim, norm)


def hfftn(input: Tensor, s: Any = None, dim: Any = None, norm: str | None = None) -> Tensor:  # noqa: A002
    return _hfftn(_tensor(input, "hfftn"), s, dim, norm)


def hfft2(input: Tensor, s: Any = None, dim: Any = (-2, -1), norm: str | None = None) -> Tensor:  # noqa: A002
    return _hfftn(_tensor(input, "hfft2"), s, dim, norm)


def ihfftn(input: Tensor, s: Any = None, dim: Any = None, norm: str | None = None) -> Tensor:  # noqa: A002
    return _ihfftn(_tensor(input, "ihfftn"), s, dim, norm)


def ihfft2(input: Tensor, s: Any = None, dim: Any = (-2, -1), norm: str | None = None) -> Tensor:  # noqa: A002
    return _ihfftn(_tensor(input, "ihfft2"), s, dim, norm)


# ---- helpers ---------------------------------------------------------------------------------------------------
def fftfreq(
    n: int, d: float = 1.0, *, dtype: Any = None, device: Any = None, requires_grad: bool = False, **kw: Any
) -> Tensor:
    """The sample frequencies [0, 1, ..., -(n // 2), ..., -1] / (d * n), scaled in the dtype as torch's mul_."""
    from engine.creation import arange

    t = arange(n, dtype=dtype if dtype is not None else DEFAULT.float, device=device)
    xp = t._dev.xp
    k = xp.arange(n)
    k = xp.where(k < (n + 1) // 2, k, k - n).astype(t._data.dtype)
    t._data = k * t._data.dtype.type(1.0 / (n * d))
    return t.requires_grad_(requires_grad)


def rfftfreq(
    n: int, d: float = 1.0, *, dtype: Any = None, device: Any = None, requires_grad: bool = False, **kw: Any
) -> Tensor:
    from engine.creation import arange

    t = arange(n // 2 + 1, dtype=dtype if dtype is not None else DEFAULT.float, device=device)
    t._data = t._data * t._data.dtype.type(1.0 / (n * d))
    return t.requires_grad_(requires_grad)


def _shift(x: Tensor, dim: Any, inverse: bool) -> Tensor:
    ndim = x._data.ndim
    if dim is None:
        dims = tuple(range(ndim))
    else:
        dims = tuple(norm_dim(a, ndim) for a in ([dim] if isinstance(dim, int) else dim))
    shifts = [(x._data.shape[a] + inverse) // 2 for a in dims]
    return x.roll(shifts, dims)


def fftshift(input: Tensor, dim: Any = None) -> Tensor:  # noqa: A002
    return _shift(input, dim, False)


def ifftshift(input: Tensor, dim: Any = None) -> Tensor:  # noqa: A002
    return _shift(input, dim, True)


# ---- out= ------------------------------------------------------------------------------------------------------
def _out_form(fn: Any, name: str, complex_out: bool) -> Any:
    """fn with torch's out=: a complex (or, for the c2r transforms, a real) out tensor takes the result."""

    @functools.wraps(fn)
    def transform(*args: Any, out: Tensor | None = None, **kwargs: Any) -> Tensor:
        if out is not None and isinstance(out, Tensor) and (out._data.dtype.kind == "c") != complex_out:
            want = "complex" if complex_out else "floating point"
            raise RuntimeError(f"{name} expects a {want} output tensor, but got {out.dtype.scalar_name()}")
        r = fn(*args, **kwargs)
        if out is None:
            return r
        from engine.grad_mode import ENABLED
        from engine.ops.inplace import write_out

        op = _OUT_KERNELS.get(type(r.grad_fn))
        if op is None:  # (an inverse of real data: torch writes its conjugate with conj_physical_out)
            return write_out(out, r.resolve_conj(), diff=False)
        if ENABLED[0] and (out._rg or r._rg):
            raise RuntimeError(
                f"{op}(): functions with out=... arguments don't support automatic differentiation, but one of the "
                "arguments requires grad."
            )
        return write_out(out, r)

    return transform


# the kernel each primitive is in torch, as out='s autograd error names it
_OUT_KERNELS = {FftC2CBackward0: "_fft_c2c", FftR2CBackward0: "_fft_r2c", FftC2RBackward0: "_fft_c2r", type(None): ""}

# (the name each one's out= error gives: the 2-d forms are the n-d ones underneath)
for _name, _shown, _complex in (
    ("fft", "fft", True), ("ifft", "ifft", True), ("rfft", "rfft", True), ("ihfft", "ihfft", True),
    ("irfft", "irfft", False), ("hfft", "hfft", False), ("fftn", "fftn", True), ("ifftn", "fftn", True),
    ("fft2", "fftn", True), ("ifft2", "fftn", True), ("rfftn", "rfftn", True), ("rfft2", "rfftn", True),
    ("irfftn", "irfftn", False), ("irfft2", "irfftn", False), ("hfftn", "hfftn", False), ("hfft2", "hfftn", False),
    ("ihfftn", "ihfftn", True), ("ihfft2", "ihfftn", True),
):  # fmt: skip
    globals()[_name] = _out_form(globals()[_name], _shown, _complex)
