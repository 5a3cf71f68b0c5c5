"""Small functions learners reach for that torch builds from other ops: diagflat, scalar_tensor, unravel_index,
gradient, ldexp, nextafter, fill, sum_to_size, and the trivial queries is_signed, get_device, is_neg.
Each follows torch's own composition (so grad_fn is the node torch shows) or records torch's node."""

from __future__ import annotations

import itertools
import math
import operator
from typing import Any

import numpy as np

from engine.dtypes import from_np, get_default_dtype, int64
from engine.ops.util import NoGrad, node_class, norm_dim, record
from engine.tensor import Size, Tensor, wrap


# ---- diagflat ------------------------------------------------------------------------------------------
def diagflat(input: Tensor, offset: int = 0) -> Tensor:  # noqa: A002
    """torch.diagflat: input.contiguous().view(-1).diag(offset)."""
    return input.contiguous().view(-1).diag(offset)


# ---- scalar_tensor -------------------------------------------------------------------------------------
def scalar_tensor(s: Any, *, dtype: Any = None, layout: Any = None, device: Any = None, pin_memory: Any = None,
                  requires_grad: bool = False) -> Tensor:  # fmt: skip
    """torch.scalar_tensor: a 0-dim tensor of the default dtype (not of the value's type) unless told."""
    from engine.creation import full

    if isinstance(s, Tensor):
        s = s.item()
    return full((), s, dtype=dtype or get_default_dtype(), device=device, requires_grad=requires_grad)


# ---- unravel_index -------------------------------------------------------------------------------------
def unravel_index(indices: Tensor, shape: Any) -> tuple:
    """torch.unravel_index: flat indices as a tuple of coordinate tensors (torch.functional's composition)."""
    from engine.creation import tensor

    if indices.dtype.is_complex or indices.dtype.is_floating_point or indices.dtype.name == "bool":
        raise TypeError(f"expected 'indices' to be integer dtype, but got {indices.dtype}")
    if isinstance(shape, bool) or not isinstance(shape, (int, list, tuple, Size)):
        raise TypeError(f"expected 'shape' to be int or sequence of ints, but got {type(shape)}")
    if isinstance(shape, int):
        shape = (shape,)
    for d in shape:
        if not isinstance(d, int) or isinstance(d, bool):
            raise TypeError(f"expected 'shape' sequence to only contain ints, but got {type(d)}")
    shape = tuple(shape)
    if not all(d >= 0 for d in shape):
        raise ValueError(f"'shape' cannot have negative values, but got {shape}")
    coefs = list(reversed(list(itertools.accumulate(reversed(shape[1:] + (1,)), func=operator.mul))))
    dev = indices.device
    r = indices.unsqueeze(-1).floor_divide(tensor(coefs, device=dev, dtype=int64)) % tensor(
        shape, device=dev, dtype=int64
    )
    return r.unbind(-1)


# ---- gradient ------------------------------------------------------------------------------------------
def gradient(input: Tensor, *, spacing: Any = 1, dim: Any = None, edge_order: int = 1) -> tuple:  # noqa: A002
    """torch.gradient: central differences inside, one-sided (edge_order 1 or 2) at the ends, per dim; spacing a
    scalar, one scalar per dim, or one coordinate tensor per dim (ATen's gradient_helper / _float)."""
    from engine.ops.index import cat

    nd = input.dim()
    if dim is None:
        dims = list(range(nd))
    elif isinstance(dim, int):
        dims = [norm_dim(dim, nd)]
    else:
        dims = [norm_dim(d, nd) for d in dim]
        for i, d in enumerate(dims):
            if d in dims[:i]:
                raise RuntimeError(f"dim {d} appears multiple times in the list of dims")
    if isinstance(spacing, (list, tuple)):
        sp = list(spacing)
        if len(sp) != len(dims):
            raise RuntimeError(
                "torch.gradient expected spacing to be unspecified, a scalar, or it's spacing and dim arguments "
                f"to have the same length, but got a spacing argument of length {len(sp)} and a dim argument of "
                f"length {len(dims)}."
            )
    else:
        sp = [spacing] * len(dims)
    if edge_order not in (1, 2):
        raise RuntimeError("torch.gradient only supports edge_order=1 and edge_order=2.")
    for d in dims:
        if input.shape[d] < edge_order + 1:
            raise RuntimeError("torch.gradient expected each dimension size to be at least edge_order+1")
    out = []
    for d, h in zip(dims, sp):

        def sl(a: int | None, b: int | None, d: int = d) -> Tensor:
            idx = [slice(None)] * nd
            idx[d] = slice(a, b)
            return input[tuple(idx)]

        if isinstance(h, Tensor) and h.dim() > 0:  # coordinates: a non-uniform grid
            shp = [1] * nd
            shp[d] = -1
            ax = h.reshape(shp)
            n = h.shape[0]

            def c(a: int | None, b: int | None, ax: Tensor = ax, d: int = d) -> Tensor:
                idx = [slice(None)] * nd
                idx[d] = slice(a, b)
                return ax[tuple(idx)]

            dx1 = c(1, n - 1) - c(0, n - 2)
            dx2 = c(2, None) - c(1, n - 1)
            a = -dx2 / (dx1 * (dx1 + dx2))
            b = (dx2 - dx1) / (dx1 * dx2)
            cc = dx1 / (dx2 * (dx1 + dx2))
            center = a * sl(0, -2) + b * sl(1, -1) + cc * sl(2, None)
            if edge_order == 1:
                prepend = (sl(1, 2) - sl(0, 1)) / (c(1, 2) - c(0, 1))
                append = (sl(-1, None) - sl(-2, -1)) / (c(-1, None) - c(-2, -1))
            else:
                raise RuntimeError("torch.gradient: edge_order=2 with coordinate spacing is not covered")
            out.append(cat([prepend, center, append], d))
            continue
        if isinstance(h, Tensor):
            h = h.item()
        center = (sl(2, None) - sl(0, -2)) / h
        if edge_order == 1:
            prepend = (sl(1, 2) - sl(0, 1)) / h
            append = (sl(-1, None) - sl(-2, -1)) / h
        else:
            prepend = (-1.5 * sl(0, 1) + 2 * sl(1, 2) - 0.5 * sl(2, 3)) / h
            append = (0.5 * sl(-3, -2) - 2 * sl(-2, -1) + 1.5 * sl(-1, None)) / h
        out.append(cat([prepend, center / 2, append], d))
    return tuple(out)


# ---- ldexp / nextafter (frexp: ops/order_stats.py, with the multi-output ops) -------------------------------
def _ldexp_bw(self: Any, g: Tensor, other: Tensor, result: Any, shape: tuple) -> tuple:
    from engine.ops.elementwise import pow
    from engine.ops.shape import sum_to

    # derivatives.yaml's grad * pow(2, other): an integer power for an integer `other` (2**-1 is 0 there),
    # summed back to input's shape where `other` broadcast it; a floating `other` gets grad * result * log(2)
    g_other = sum_to(g * result * math.log(2.0), tuple(other._data.shape)) if other._rg else None
    return (sum_to(g * pow(2, other), shape), g_other)


LdexpBackward0 = node_class("LdexpBackward0", _ldexp_bw)


def ldexp(input: Tensor, other: Tensor) -> Tensor:  # noqa: A002
    """torch.ldexp: input * 2**other (a float result for integer inputs)."""
    from engine.ops.elementwise import mul, pow

    with NoGrad():
        if input._data.dtype.kind == "f" and other._data.dtype.kind in "biu":  # (torch's ldexp_cpu_exp kernel)
            if other._data.dtype.kind == "b":
                raise NotImplementedError("\"ldexp_cpu_exp\" not implemented for 'Bool'")
            wide = input.double() if input._data.dtype == np.float64 else input.float()
            r = mul(wide, pow(2.0, other).to(wide.dtype)).to(input.dtype)  # (input's dtype: 2**n is exact)
        else:
            r = mul(input, pow(2.0, other))
    t = record(LdexpBackward0, r._data, input._dev, (input, other), (other, None, tuple(input._data.shape)))
    if t.grad_fn is not None:  # (torch saves the result, for other's gradient: changed in place, an error)
        from engine.autograd import save_out

        s, v = save_out(t.grad_fn, t)
        t.grad_fn._saved = (other, s, tuple(input._data.shape))
        t.grad_fn._vers = (None, v, None)
    return t


def _nextafter_bw(self: Any, g: Tensor, shape: tuple, other_shape: Any) -> tuple:
    from engine.creation import zeros
    from engine.ops.shape import sum_to

    # derivatives.yaml: self: grad, other: zeros (the step is taken as having slope one)
    return (sum_to(g, shape), None if other_shape is None else zeros(other_shape, dtype=g.dtype, device=g.device))


NextafterBackward0 = node_class("NextafterBackward0", _nextafter_bw)


def nextafter(input: Tensor, other: Tensor) -> Tensor:  # noqa: A002
    """torch.nextafter: the next representable float after input toward other (floating dtypes only)."""
    r = _nextafter(input, other)
    if isinstance(input, Tensor) and (input._rg or isinstance(other, Tensor) and other._rg):
        shape = tuple(other._data.shape) if isinstance(other, Tensor) else None
        saved = (tuple(input._data.shape), shape)
        return record(NextafterBackward0, r._data, r._dev, (input, other), saved, (None, None))
    return r


def _nextafter(input: Tensor, other: Tensor) -> Tensor:  # noqa: A002
    from engine.ops.util import result_np

    dt = result_np(input, other)
    if dt.kind != "f":
        raise NotImplementedError(f"\"nextafter_cpu\" not implemented for '{from_np(dt).legacy.replace('Tensor', '')}'")
    xp = input._dev.xp
    a = input._data.astype(dt) if isinstance(input, Tensor) else dt.type(input)
    b = other._data.astype(dt) if isinstance(other, Tensor) else dt.type(other)
    if dt.metadata is not None:  # bfloat16 (stored as float32): step its own 16 bits
        return wrap(_nextafter_bf16(xp, xp.asarray(a, np.float32), xp.asarray(b, np.float32)).astype(dt), input._dev)
    return wrap(xp.asarray(xp.nextafter(a, b)).astype(dt), input._dev)


def _nextafter_bf16(xp: Any, a: Any, b: Any) -> Any:
    """nextafter in bfloat16 (the high 16 bits of a float32): one step of the 16-bit pattern toward b."""
    a, b = xp.broadcast_arrays(a, b)
    bits = (a.view(np.uint32) >> 16).astype(np.int64)
    up = (b > a) == (a > 0)  # (away from zero: the pattern grows)
    stepped = xp.where(up, bits + 1, bits - 1)
    tiny = xp.where(b > a, 0x0001, 0x8001)  # (from zero: the smallest subnormal toward b)
    stepped = xp.where(a == 0, tiny, stepped)
    r = (stepped.astype(np.uint32) << 16).view(np.float32)
    r = xp.where(a == b, b, r)
    return xp.where(xp.isnan(a) | xp.isnan(b), np.float32(np.nan), r)


# ---- fill (out of place) -------------------------------------------------------------------------------
FillBackward0 = node_class("FillBackward0", lambda self, g: (g.new_zeros(g.shape),))


def fill(input: Tensor, value: Any) -> Tensor:  # noqa: A002
    """torch.fill: a tensor like input, every element value (cast to input's dtype)."""
    with NoGrad():
        r = input.clone().fill_(value)
    return record(FillBackward0, r._data, input._dev, (input,))


# ---- sum_to_size ---------------------------------------------------------------------------------------
def sum_to_size(self: Tensor, *size: Any) -> Tensor:
    """Tensor.sum_to_size: sum over the dimensions broadcasting would expand to reach self's shape (at::sum_to)."""
    if len(size) == 1 and isinstance(size[0], (list, tuple, Size)):
        size = tuple(size[0])
    shape = tuple(int(s) for s in size)
    sizes = tuple(self.shape)
    ok = len(shape) <= len(sizes) and all(s == t or s == 1 for s, t in zip(reversed(shape), reversed(sizes)))
    if not ok:
        raise RuntimeError(
            f"size {{[{', '.join(map(str, shape))}]}} is not expandable to size {{[{', '.join(map(str, sizes))}]}}."
        )
    lead = len(sizes) - len(shape)
    dims = list(range(lead)) + [i for i in range(lead, len(sizes)) if shape[i - lead] == 1 and sizes[i] != 1]
    r = self
    if dims:
        r = r.sum(dims, keepdim=True)
    if lead > 0:
        r = r.view(shape)
    return r


# ---- queries -------------------------------------------------------------------------------------------
def is_signed(input: Tensor) -> bool:  # noqa: A002
    return input.dtype.is_signed


def get_device(input: Tensor) -> int:  # noqa: A002
    d = input.device
    return -1 if d.type == "cpu" else (d.index or 0)


def is_neg(input: Tensor) -> bool:  # noqa: A002
    return False


def resolve_neg(input: Tensor) -> Tensor:  # noqa: A002
    return input


def _false(self: Tensor, *args: Any) -> bool:
    return False


def _complex_caster(name: str) -> Any:
    from engine.dtypes import complex64, complex128

    dt = complex64 if name == "cfloat" else complex128

    def method(self: Tensor, memory_format: Any = None) -> Tensor:
        return self.to(dt)

    method.__name__ = name
    return method


FUNCTIONS = {
    "diagflat": diagflat, "scalar_tensor": scalar_tensor, "unravel_index": unravel_index, "gradient": gradient,
    "ldexp": ldexp, "nextafter": nextafter, "fill": fill, "is_signed": is_signed,
    "get_device": get_device, "is_neg": is_neg, "resolve_neg": resolve_neg,
}  # fmt: skip
METHODS = {
    "diagflat": diagflat, "ldexp": ldexp, "nextafter": nextafter, "sum_to_size": sum_to_size,
    "is_signed": is_signed, "get_device": get_device, "is_neg": is_neg, "resolve_neg": resolve_neg,
    "cfloat": _complex_caster("cfloat"),
    "cdouble": _complex_caster("cdouble"),
}  # fmt: skip


# ---- removed from torch (1.9): their errors say what to write instead (torch/_linalg_utils.py) ------------
def matrix_rank(input: Tensor, tol: Any = None, symmetric: bool = False, *, out: Any = None) -> Tensor:  # noqa: A002
    raise RuntimeError(
        "This function was deprecated since version 1.9 and is now removed.\n"
        "Please use the `torch.linalg.matrix_rank` function instead. "
        "The parameter 'symmetric' was renamed in `torch.linalg.matrix_rank()` to 'hermitian'."
    )


def lstsq(input: Tensor, A: Tensor, *, out: Any = None) -> tuple:  # noqa: A002, N803
    raise RuntimeError(
        "This function was deprecated since version 1.9 and is now removed. "
        "`torch.lstsq` is deprecated in favor of `torch.linalg.lstsq`.\n"
        "`torch.linalg.lstsq` has reversed arguments and does not return the QR decomposition in "
        "the returned tuple (although it returns other information about the problem).\n\n"
        "To get the QR decomposition consider using `torch.linalg.qr`.\n\n"
        "The returned solution in `torch.lstsq` stored the residuals of the solution in the "
        "last m - n columns of the returned value whenever m > n. In torch.linalg.lstsq, "
        "the residuals are in the field 'residuals' of the returned named tuple.\n\n"
        "The unpacking of the solution, as in\n"
        "X, _ = torch.lstsq(B, A).solution[:A.size(1)]\n"
        "should be replaced with:\n"
        "X = torch.linalg.lstsq(A, B).solution"
    )


def symeig(input: Tensor, eigenvectors: bool = False, upper: bool = True, *, out: Any = None) -> tuple:  # noqa: A002
    raise RuntimeError(
        "This function was deprecated since version 1.9 and is now removed. "
        "The default behavior has changed from using the upper triangular portion of the matrix by default "
        "to using the lower triangular portion.\n\n"
        "L, _ = torch.symeig(A, upper=upper) "
        "should be replaced with:\n"
        "L = torch.linalg.eigvalsh(A, UPLO='U' if upper else 'L')\n\n"
        "and\n\n"
        "L, V = torch.symeig(A, eigenvectors=True) "
        "should be replaced with:\n"
        "L, V = torch.linalg.eigh(A, UPLO='U' if upper else 'L')"
    )


def eig(self: Tensor, eigenvectors: bool = False, *, e: Any = None, v: Any = None) -> tuple:
    raise RuntimeError(
        "This function was deprecated since version 1.9 and is now removed. "
        "`torch.linalg.eig` returns complex tensors of dtype `cfloat` or `cdouble` rather than real tensors "
        "mimicking complex tensors.\n\n"
        "L, _ = torch.eig(A) "
        "should be replaced with:\n"
        "L_complex = torch.linalg.eigvals(A)\n\n"
        "and\n\n"
        "L, V = torch.eig(A, eigenvectors=True) "
        "should be replaced with:\n"
        "L_complex, V_complex = torch.linalg.eig(A)"
    )


def _solve_method(self: Tensor, other: Tensor) -> Any:
    import engine

    return engine.solve(self, other)


FUNCTIONS.update(matrix_rank=matrix_rank, lstsq=lstsq, symeig=symeig, eig=eig)
METHODS.update(lstsq=lstsq, symeig=symeig, eig=eig, solve=_solve_method)


# ---- select_scatter / slice_scatter / diagonal_scatter ------------------------------------------------------
def _scatter_into(input: Tensor, src: Tensor, node: type, part: Any, args: tuple) -> Tensor:  # noqa: A002
    """A copy of input with src written over part(copy) (a select, slice or diagonal view of it)."""
    with NoGrad():
        out = input.clone()
        view = part(out)
        if tuple(view.shape) != tuple(src.shape):
            raise RuntimeError(
                "expected src to have a size equal to the slice of self. src size = "
                f"[{', '.join(map(str, src.shape))}], slice size = [{', '.join(map(str, view.shape))}]"
            )
        view.copy_(src)
    return record(node, out._data, input._dev, (input, src), args, (None,) * len(args))


def _select_part(dim: int, index: int) -> Any:
    return lambda t: t.select(dim, index)


def _slice_part(dim: int, start: Any, end: Any, step: int) -> Any:
    def part(t: Tensor) -> Tensor:
        idx = [slice(None)] * t.dim()
        idx[norm_dim(dim, t.dim())] = slice(start, end, step)
        return t[tuple(idx)]

    return part


def _diagonal_part(offset: int, dim1: int, dim2: int) -> Any:
    return lambda t: t.diagonal(offset, dim1, dim2)


def _scatter_bw(part_of: Any, again: Any) -> Any:
    def backward(self: Any, g: Tensor, *args: Any) -> tuple:
        part = part_of(*args)
        gs = part(g)
        return (again(g, g.new_zeros(gs.shape), *args), gs)

    return backward


def select_scatter(input: Tensor, src: Tensor, dim: int, index: int) -> Tensor:  # noqa: A002
    """torch.select_scatter: input with src embedded at input.select(dim, index)."""
    return _scatter_into(input, src, SelectScatterBackward0, _select_part(dim, index), (dim, index))


def slice_scatter(input: Tensor, src: Tensor, dim: int = 0, start: Any = None, end: Any = None,  # noqa: A002
                  step: int = 1) -> Tensor:  # fmt: skip
    """torch.slice_scatter: input with src embedded at input[..., start:end:step, ...] along dim."""
    args = (dim, start, end, step)
    return _scatter_into(input, src, SliceScatterBackward0, _slice_part(*args), args)


def diagonal_scatter(input: Tensor, src: Tensor, offset: int = 0, dim1: int = 0, dim2: int = 1) -> Tensor:  # noqa: A002
    """torch.diagonal_scatter: input with src embedded on input.diagonal(offset, dim1, dim2)."""
    args = (offset, dim1, dim2)
    return _scatter_into(input, src, DiagonalScatterBackward0, _diagonal_part(*args), args)


SelectScatterBackward0 = node_class("SelectScatterBackward0", _scatter_bw(_select_part, select_scatter))
SliceScatterBackward0 = node_class("SliceScatterBackward0", _scatter_bw(_slice_part, slice_scatter))
DiagonalScatterBackward0 = node_class("DiagonalScatterBackward0", _scatter_bw(_diagonal_part, diagonal_scatter))


def empty_strided(size: Any, stride: Any, *, dtype: Any = None, layout: Any = None, device: Any = None,
                  requires_grad: bool = False, pin_memory: bool = False) -> Tensor:  # fmt: skip
    """torch.empty_strided: an uninitialised tensor of the given size and strides (over a storage just large
    enough for them)."""
    from engine.creation import empty

    size, stride = tuple(int(s) for s in size), tuple(int(s) for s in stride)
    if len(size) != len(stride):
        raise RuntimeError(
            f"mismatch in length of strides and shape, got size {len(size)} and stride {len(stride)}"
        )  # fmt: skip
    n = 0 if 0 in size else 1 + sum((s - 1) * st for s, st in zip(size, stride))
    with NoGrad():
        r = empty(n, dtype=dtype, device=device).as_strided(size, stride)
    return r.requires_grad_() if requires_grad else r


FUNCTIONS.update(select_scatter=select_scatter, slice_scatter=slice_scatter, diagonal_scatter=diagonal_scatter,
                 empty_strided=empty_strided)  # fmt: skip
METHODS.update(select_scatter=select_scatter, slice_scatter=slice_scatter, diagonal_scatter=diagonal_scatter)
