"""Matrix products: matmul and its torch-named special cases (dot, mv, mm, bmm, batched)."""

from __future__ import annotations

from typing import Any

import numpy as np

from engine.amp.policy import ACTIVE as _AUTOCAST
from engine.amp.policy import policy as autocast_policy
from engine.autograd import accumulator, next_seq, output_edge
from engine.bf16 import whole
from engine.dtypes import FROM_NP, UINTS_NP
from engine.grad_mode import ENABLED
from engine.naming import type_name
from engine.ops import gemm_order, mkl
from engine.ops.shape import t as _t
from engine.ops.util import SparseOperand, edge_of, holomorphic, mixed_device, node_class, record, with_out
from engine.tensor import Tensor, wrap


def _product(ad: Any, bd: Any) -> Any:
    """ad @ bd for matrices, as _mm computes it: torch's own MKL call where MKL is installed (engine/ops/mkl.py).
    Without it, an outer product (inner size 1, a one-output layer's input gradient) is the elementwise
    product, which keeps a zero's sign as torch's gemm does (BLAS adds each product to a zero, so 0 * -1 came
    out 0., not -0.) and costs a fraction of a BLAS call; small float32 products add in MKL's order
    (gemm_order)."""
    r = mkl.product(ad, bd)
    if r is not None:
        return r
    return ad * bd if ad.shape[1] == 1 and ad.dtype.kind == "f" else gemm_order.mm(ad, bd)


def _col_major(d: Any) -> bool:
    """torch's test for a column-major matrix in its mm backward: strides (1, rows)."""
    return d.strides[0] == d.itemsize and d.strides[1] == d.shape[0] * d.itemsize


def _mm_grads(gd: Any, ad: Any, bd: Any, need_a: bool, need_b: bool) -> tuple:
    """The arrays torch's mm_mat1_backward and mm_mat2_backward compute for C = A @ B: a column-major operand
    (a weight's .t() in F.linear) gets its gradient as the transpose of the transposed product, which sums
    in that product's order."""
    ga = gb = None
    if need_a:
        ga = _product(bd, gd.T).T if _col_major(ad) else _product(gd, bd.T)
    if need_b:
        gb = _product(gd.T, ad).T if _col_major(bd) else _product(ad.T, gd)
    return ga, gb


def _mm_grad_nodes(g: Tensor, a: Tensor, b: Tensor, need_a: bool, need_b: bool) -> tuple:
    """_mm_grads with the graph recorded (create_graph): torch's same products, so the same nodes."""
    ga = gb = None
    if need_a:
        ga = b.mm(g.t()).t() if _col_major(a._data) else g.mm(b.t())
    if need_b:
        gb = g.t().mm(a).t() if _col_major(b._data) else a.t().mm(g)
    return ga, gb


def _mm_bw(self: Any, g: Tensor, a: Tensor, b: Tensor) -> tuple:
    n = self._next
    if not ENABLED[0]:  # plain backward (no create_graph): the same products on the arrays, no graph to build
        dev = g._dev
        ga, gb = _mm_grads(g._data, a._data, b._data, n[0] is not None, n[1] is not None)
        return (wrap(ga, dev) if ga is not None else None, wrap(gb, dev) if gb is not None else None)
    return _mm_grad_nodes(g, a, b, n[0] is not None, n[1] is not None)


def _dot_bw(self: Any, g: Tensor, a: Tensor, b: Tensor) -> tuple:
    n = self._next
    return (g * b if n[0] is not None else None, g * a if n[1] is not None else None)


def _mv_bw(self: Any, g: Tensor, a: Tensor, v: Tensor) -> tuple:
    n = self._next
    return (
        g.unsqueeze(1) * v.unsqueeze(0) if n[0] is not None else None,
        a.t().mv(g) if n[1] is not None else None,
    )


def _bmm_bw(self: Any, g: Tensor, a: Tensor, b: Tensor) -> tuple:
    n = self._next
    # torch's grad.bmm(mat2^T) and self^T.bmm(grad): bmm's own kernel (below 400 multiply-adds its k-ordered loop)
    prod = bmm if g._data.ndim == 3 and a._data.ndim == 3 and b._data.ndim == 3 else matmul
    return (
        prod(g, b.transpose(-1, -2)) if n[0] is not None else None,
        prod(a.transpose(-1, -2), g) if n[1] is not None else None,
    )


MmBackward0 = node_class("MmBackward0", holomorphic(_mm_bw))


def _mm_abw(self: Any, g: Any, a: Tensor, b: Tensor) -> tuple | None:
    """_mm_bw's plain products on a raw gradient array (autograd.run_backward's raw mode)."""
    ad, bd = a._data, b._data
    if type(ad) is not _ndarray or type(bd) is not _ndarray:
        return None
    n = self._next
    return _mm_grads(g, ad, bd, n[0] is not None, n[1] is not None)


MmBackward0._abw = _mm_abw
DotBackward0 = node_class("DotBackward0", holomorphic(_dot_bw))
MvBackward0 = node_class("MvBackward0", holomorphic(_mv_bw))
BmmBackward0 = node_class("BmmBackward0", holomorphic(_bmm_bw))


def tensor_args(fn: str, a: Any, b: Any, second: str) -> None:
    """torch's parser error for a function's operand that is not a tensor (torch.mm(x, [1]))."""
    for name, pos, v in (("input", 1, a), (second, 2, b)):
        if not isinstance(v, Tensor):
            raise TypeError(f"{fn}(): argument '{name}' (position {pos}) must be Tensor, not {type_name(v)}")


def _prep(a: Tensor, b: Tensor, fn: str = "matmul", second: str = "other", batched: bool = False) -> tuple:
    if not isinstance(a, Tensor) or not isinstance(b, Tensor):
        tensor_args(fn, a, b, second)
    if a._dev is not b._dev:
        raise mixed_device(a, b)
    ad, bd = a._data, b._data
    if ad.dtype != bd.dtype or (ad.dtype.metadata is None) is not (
        bd.dtype.metadata is None
    ):  # (metadata: bfloat16 or float32)
        # torch's message comes from the kernel that matmul picks for these ranks
        if ad.ndim == 1 and bd.ndim == 1:
            raise RuntimeError(
                "dot : expected both vectors to have same dtype, but found "
                f"{a.dtype.scalar_name()} and {b.dtype.scalar_name()}"
            )
        if ad.ndim == 2 and bd.ndim == 1:
            raise RuntimeError(
                f"addmv input tensors must have the same dtype, but got {b.dtype.scalar_name()}, "
                f"{a.dtype.scalar_name()}, and {b.dtype.scalar_name()}"
            )
        if batched:  # (bmm's kernel, and matmul's of a batch of right-hand matrices, which it hands to bmm)
            raise RuntimeError(f"expected scalar type {a.dtype.scalar_name()} but found {b.dtype.scalar_name()}")
        raise RuntimeError(
            f"expected m1 and m2 to have the same dtype, but got: {a.dtype.name_for_error()} != "
            f"{b.dtype.name_for_error()}"
        )
    return ad, bd


def _no_bool(ad: Any, kernel: str) -> None:
    """torch has no product kernel for bool, nor for its shell unsigned types (uint16, uint32, uint64)."""
    if ad.dtype.kind == "b" or ad.dtype in UINTS_NP:
        raise NotImplementedError(f"\"{kernel}\" not implemented for '{FROM_NP[ad.dtype].scalar_name()}'")


def _write_out(out: Any, r: Tensor) -> Tensor:
    from engine.ops.inplace import write_out

    return write_out(out, r)


def _finish(cls: type, r: Any, a: Tensor, b: Tensor, meta: Any = None) -> Tensor:
    if type(r) is not _ndarray and not hasattr(r, "__cuda_array_interface__"):
        r = a._dev.xp.asarray(r)
    t = wrap(r, a._dev)
    if ENABLED[0] and (a._rg or b._rg):
        node = cls()
        node._seq = next_seq()
        ea = a.grad_fn
        if ea is None:
            if a._rg:
                ea = a._accum or accumulator(a)
        elif a._accum is not None:  # (an output of a multi-output op: its port)
            ea = output_edge(a, ea)
        eb = b.grad_fn
        if eb is None:
            if b._rg:
                eb = b._accum or accumulator(b)
        elif b._accum is not None:
            eb = output_edge(b, eb)
        node._next = (ea, eb)
        node._saved = (a, b)
        # each operand is saved for the other's gradient only (torch's should_compute_output), so only then
        # is an in-place change to it an error
        node._vers = ((a._vc, a._vc[0]) if b._rg else None, (b._vc, b._vc[0]) if a._rg else None)
        if meta is not None:
            node._meta = meta
        node._ctx = (r.shape, r.dtype)
        t._rg = True
        t.grad_fn = node
    return t


@autocast_policy(cpu="lower", cuda="lower")
def mm(input: Tensor, mat2: Tensor, *, out: Any = None) -> Tensor:  # noqa: A002
    if out is not None:
        return _write_out(out, mm(input, mat2))
    try:
        ad, bd = _prep(input, mat2, "mm", "mat2")
        return _mm(input, mat2, ad, bd)
    except SparseOperand:  # a sparse operand (engine/sparse_tensor.py)
        from engine.sparse_tensor import mm as sparse_mm

        return sparse_mm(input, mat2)


def _mm(input: Tensor, mat2: Tensor, ad: Any, bd: Any) -> Tensor:  # noqa: A002
    if ad.dtype.kind in "bu":
        _no_bool(ad, "addmm_impl_cpu_")
    if ad.ndim != 2:
        raise RuntimeError("self must be a matrix")
    if bd.ndim != 2:
        raise RuntimeError("mat2 must be a matrix")
    if ad.shape[1] != bd.shape[0]:
        raise RuntimeError(
            f"mat1 and mat2 shapes cannot be multiplied ({ad.shape[0]}x{ad.shape[1]} and {bd.shape[0]}x{bd.shape[1]})"
        )
    # (BLAS adds an outer product's terms to a zero, so 0 * -1 would come out 0., not torch's -0.: _product)
    return _finish(MmBackward0, _product(ad, bd), input, mat2)


@with_out
def dot(input: Tensor, other: Tensor) -> Tensor:  # noqa: A002
    ad, bd = _prep(input, other, "dot", "tensor")
    if ad.dtype.kind in "bu":
        _no_bool(ad, "dot")
    if ad.ndim != 1 or bd.ndim != 1:
        raise RuntimeError(f"1D tensors expected, but got {ad.ndim}D and {bd.ndim}D tensors")
    if ad.shape[0] != bd.shape[0]:
        raise RuntimeError(
            f"inconsistent tensor size, expected tensor [{ad.shape[0]}] and src [{bd.shape[0]}] to have the same "
            f"number of elements, but got {ad.shape[0]} and {bd.shape[0]} elements respectively"
        )
    return _finish(DotBackward0, mkl.dot(ad, bd) if mkl.usable(ad, bd) else np.dot(ad, bd), input, other)


def inner(input: Tensor, other: Tensor, *, out: Tensor | None = None) -> Tensor:  # noqa: A002
    """torch.inner: a 0-d operand multiplies; otherwise the last dims contract (torch's tensordot, so a
    ViewBackward0 over an mm, or over a dot for two vectors)."""
    for name, pos, t in (("input", 1, input), ("other", 2, other)):
        if not isinstance(t, Tensor):
            raise TypeError(f"inner(): argument '{name}' (position {pos}) must be Tensor, not {type_name(t)}")
    ad, bd = input._data, other._data
    if ad.ndim == 0 or bd.ndim == 0:
        from engine.ops.elementwise import mul

        r = mul(input, other)
    else:
        if ad.shape[-1] != bd.shape[-1]:
            raise RuntimeError(
                "inner() the last dimension must match on both input tensors but got shapes "
                f"[{', '.join(map(str, ad.shape))}] and [{', '.join(map(str, bd.shape))}]"
            )
        from engine.ops.linalg_more import _tensordot

        r = _tensordot(input, other, [-1], [-1])
    if out is None:
        return r
    from engine.ops.inplace import write_out

    return write_out(out, r)


@autocast_policy(cuda="lower")
@with_out
def mv(input: Tensor, vec: Tensor) -> Tensor:  # noqa: A002
    ad, bd = _prep(input, vec, "mv", "vec")
    if ad.dtype.kind in "bu":
        _no_bool(ad, "addmv_impl_cpu")
    if ad.ndim != 2 or bd.ndim != 1:
        raise RuntimeError(f"vector + matrix @ vector expected, got 1, {ad.ndim}, {bd.ndim}")
    if ad.shape[1] != bd.shape[0]:
        raise RuntimeError(
            f"size mismatch, got input ({ad.shape[0]}), mat ({ad.shape[0]}x{ad.shape[1]}), vec ({bd.shape[0]})"
        )
    return _finish(MvBackward0, mkl.gemv(ad, bd) if mkl.usable(ad, bd) else gemm_order.mv(ad, bd), input, vec)


@autocast_policy(cpu="lower", cuda="lower")
@with_out
def bmm(input: Tensor, mat2: Tensor) -> Tensor:  # noqa: A002
    ad, bd = _prep(input, mat2, "bmm", "mat2", True)
    if ad.dtype.kind in "bu":
        _no_bool(ad, "bmm")
    if ad.ndim != 3:
        raise RuntimeError("batch1 must be a 3D tensor")
    if bd.ndim != 3:
        raise RuntimeError("batch2 must be a 3D tensor")
    if ad.shape[0] != bd.shape[0] or ad.shape[2] != bd.shape[1]:
        raise RuntimeError(
            f"Expected size for first two dimensions of batch2 tensor to be: [{ad.shape[0]}, {ad.shape[2]}] but "
            f"got: [{bd.shape[0]}, {bd.shape[1]}]."
        )
    return _finish(BmmBackward0, mkl.bmm(ad, bd) if mkl.usable(ad, bd) else ad @ bd, input, mat2)


@autocast_policy(cpu="lower", cuda="lower")
def matmul(input: Tensor, other: Tensor, *, out: Any = None) -> Tensor:  # noqa: A002
    if out is not None:
        return _write_out(out, matmul(input, other))
    try:
        ad, bd = _prep(input, other, batched=isinstance(other, Tensor) and other._data.ndim >= 3)
        na, nb = ad.ndim, bd.ndim
    except SparseOperand:  # a sparse operand (engine/sparse_tensor.py)
        from engine.sparse_tensor import mm as sparse_mm

        return sparse_mm(input, other)
    if na == 0 or nb == 0:
        raise RuntimeError(f"both arguments to matmul need to be at least 1D, but they are {na}D and {nb}D")
    if na == 2 and nb == 2:
        return _mm(input, other, ad, bd)
    if na == 1 and nb == 1:
        return dot(input, other)
    if na == 2 and nb == 1:
        return mv(input, other)
    if na == 1 and nb == 2:
        if ad.shape[0] != bd.shape[0]:
            raise RuntimeError(
                f"mat1 and mat2 shapes cannot be multiplied (1x{ad.shape[0]} and {bd.shape[0]}x{bd.shape[1]})"
            )
        r = mm(input.unsqueeze(0), other)
        from engine.ops.shape import SqueezeBackward4, _record, view_of

        return _record(view_of(r._data.reshape(r._data.shape[1:]), r), SqueezeBackward4, r, (r._data.shape,))
    # batched: broadcast batch dims; 1-D operands are promoted and the added dim removed after
    if ad.dtype.kind in "bu":  # torch's kernel for the batched product, as it folds it
        _no_bool(ad, ("addmm_impl_cpu_" if nb == 2 else "addmv_impl_cpu") if na >= 3 and nb <= 2 else "bmm")
    a_ = ad.reshape((1,) + ad.shape) if na == 1 else ad
    b_ = bd.reshape(bd.shape + (1,)) if nb == 1 else bd
    folds = na >= 3 and nb <= 2  # torch folds the batch into one mm/mv: no batch broadcasting
    if a_.shape[-1] != b_.shape[-2] and folds:
        raise RuntimeError(_mismatch(ad.shape, bd.shape, False))
    try:
        np.broadcast_shapes(a_.shape[:-2], b_.shape[:-2])
    except ValueError:
        from engine.ops.index import _bcast_msg

        raise RuntimeError(_bcast_msg(a_.shape[:-2], b_.shape[:-2])) from None
    if a_.shape[-1] != b_.shape[-2]:
        raise RuntimeError(_mismatch(ad.shape, bd.shape, ENABLED[0] and input._rg))
    if ENABLED[0] and (input._rg or other._rg):
        return _matmul_traced(input, other)
    # the values alone, computed as torch's should_fold picks: a matrix or vector times a batch folds
    # (transposed) when the small operand requires grad, a vector times a batch also when the batch folds as a
    # view; otherwise one bmm over the batch (a 3-D operand with batch size 1 that requires grad is a matrix)
    b_eff = bd[0] if na >= 3 and nb == 3 and na >= nb and bd.shape[0] == 1 else bd
    a_eff = ad[0] if na == 3 and nb == 3 and ad.shape[0] == 1 and b_eff is bd else ad
    small_rg = input._rg and a_eff.ndim <= 2
    if not mkl.usable(ad, bd) or not (ad.size and bd.size):
        r = a_ @ b_
    elif folds or b_eff.ndim == 2:
        r = _folded_product(ad, b_eff)
    elif a_eff.ndim <= 2 and (small_rg or (na == 1 and _folds_as_view(np.swapaxes(bd, -1, -2)))):
        r = _folded_product_t(a_eff, bd)
    else:
        r = _bmm_product(a_, b_)
    if nb == 1:
        r = r.reshape(r.shape[:-1])
    if na == 1:
        r = r.reshape(r.shape[:-2] + r.shape[-1:])
    return _finish(BmmBackward0, r, input, other)  # (records nothing: a graph is _matmul_traced's)


def _should_fold(input: Tensor, other: Tensor) -> bool:  # noqa: A002
    """torch's should_fold (grad recording, no out=): a batch times a matrix or vector (either way round) is
    folded into one mm/mv when the small operand requires grad, or when the batch folds as a view."""
    na, nb = input._data.ndim, other._data.ndim
    larger = na >= nb
    d1, d2 = (na, nb) if larger else (nb, na)
    if not (d1 >= 3 and d2 <= 2):
        return False
    if (other if larger else input)._rg:
        return True
    if na == 2:
        return False
    t1 = input._data if larger else np.swapaxes(other._data, -1, -2)
    return _folds_as_view(t1)


def _unsafe_view(r: Tensor, shape: tuple) -> Tensor:
    from engine.ops.shape import UnsafeViewBackward0, _record

    return _record(wrap(r._data.reshape(shape), r._dev), UnsafeViewBackward0, r, (r._data.shape,))


def _matmul_traced(input: Tensor, other: Tensor) -> Tensor:  # noqa: A002
    """A batched matmul that records a graph, built as torch's _matmul_impl builds it from mm/mv/bmm and
    views (so its grad_fn and next_functions are torch's: UnsafeViewBackward0 over BmmBackward0 over
    ViewBackward0 over ExpandBackward0 ...); its gradients are those ops' own."""
    na, nb = input._data.ndim, other._data.ndim
    if _should_fold(input, other):
        transpose = nb > na
        t1 = other.mT if transpose else input
        t2 = (input.t() if na == 2 else input) if transpose else other
        s1 = t1._data.shape
        out_shape = s1[:-1]
        rows = 1
        for n in out_shape:
            rows *= n
        t1f = t1.reshape(rows, s1[-1])
        if t2._data.ndim == 2:
            out = _unsafe_view(mm(t1f, t2), out_shape + (t2._data.shape[1],))
            return out.mT.contiguous() if transpose else out
        return _unsafe_view(mv(t1f, t2), out_shape)
    sa, sb = input._data.shape, other._data.shape
    if na == 3 and nb == 3 and sa[0] != sb[0]:  # (a batch of one that requires grad: a matrix)
        if sa[0] == 1 and input._rg:
            return _matmul_traced(input.squeeze(0), other)
        if sb[0] == 1 and other._rg:
            return _matmul_traced(input, other.squeeze(0))
    n = sa[-2] if na > 1 else 1
    m1 = sa[-1]
    m2 = sb[-2] if nb > 1 else sb[0]
    p = sb[-1] if nb > 1 else 1
    batch = np.broadcast_shapes(sa[: max(na - 2, 0)], sb[: max(nb - 2, 0)])
    bs = 1
    for k in batch:
        bs *= k
    t1e = input.expand(*batch, n, m1).reshape(bs, n, m1)
    if nb == 1:
        t2e = other.expand(*batch, m2).reshape(bs, m2).unsqueeze(2)
    else:
        t2e = other.expand(*batch, m2, p).reshape(bs, m2, p)
    out_shape = tuple(batch) + ((n,) if na > 1 else ()) + ((p,) if nb > 1 else ())
    r = bmm(t1e, t2e)
    return _unsafe_view(r.squeeze(-1) if nb == 1 else r, out_shape)


def matmul_operator(a: Tensor, b: Tensor) -> Tensor:
    """`a @ b` for two tensors: matmul, where two float32 or float64 matrices of one dtype on one device, with
    autocast off, go straight to mm's product (matmul's checks and dispatch have nothing to decide there)."""
    ad, bd = a._data, b._data
    dt = ad.dtype
    if (
        (dt is _F32 or dt is _F64) and bd.dtype is dt and ad.ndim == 2 and bd.ndim == 2 and a._dev is b._dev
        and not _AUTOCAST[0] and ad.shape[1] == bd.shape[0]
    ):  # fmt: skip
        return _finish(MmBackward0, _product(ad, bd), a, b)
    return matmul(a, b)


def _folds_as_view(t: Any) -> bool:
    """should_fold's test that t.view(-1, t.size(-1)) needs no copy: the leading dims step evenly."""
    st, sh = t.strides, t.shape
    return t.size == 0 or all(st[i] == st[i + 1] * sh[i + 1] for i in range(t.ndim - 2))


def _bmm_product(a_: Any, b_: Any) -> Any:
    """A batched product that torch does not fold: both operands expanded to the broadcast batch, the batch
    dims flattened into one, one bmm (matmul's last branch)."""
    batch = np.broadcast_shapes(a_.shape[:-2], b_.shape[:-2])
    bs = int(np.prod(batch))
    a3 = np.broadcast_to(a_, batch + a_.shape[-2:]).reshape((bs,) + a_.shape[-2:])
    b3 = np.broadcast_to(b_, batch + b_.shape[-2:]).reshape((bs,) + b_.shape[-2:])
    return mkl.bmm(a3, b3).reshape(batch + (a_.shape[-2], b_.shape[-1]))


def _folded_product_t(ad: Any, bd: Any) -> Any:
    """A matrix or vector times a batch folded as torch folds it: (B^T folded to rows) @ A^T, transposed
    back and made contiguous (a vector: B^T's rows times it, no transpose)."""
    t1 = np.swapaxes(bd, -1, -2)
    t1f = t1.reshape(-1, t1.shape[-1])
    if ad.ndim == 1:
        return mkl.gemv(t1f, ad).reshape(t1.shape[:-2] + (1, t1.shape[-2]))  # (the 1-D operand's row, removed later)
    r = _product(t1f, ad.T).reshape(t1.shape[:-1] + (ad.shape[0],))
    return np.ascontiguousarray(np.swapaxes(r, -1, -2))


def _folded_product(ad: Any, bd: Any) -> Any:
    """A batch times a matrix or vector as torch computes it: one product over the batch's rows."""
    a2 = ad.reshape(-1, ad.shape[-1])
    r = _product(a2, bd) if bd.ndim == 2 else mkl.gemv(a2, bd)
    return r.reshape(ad.shape[:-1] + (r.shape[-1] if bd.ndim == 2 else 1,))


def _mismatch(sa: tuple, sb: tuple, small_needs_grad: bool) -> str:
    """torch's message for a batched matmul whose inner sizes differ: from mm/mv when it folds the batch
    into a matrix (a batch times a matrix or vector; a matrix or vector times a batch only when that
    small operand requires grad, folding the transposed batch), else from bmm."""
    na, nb = len(sa), len(sb)
    if na >= 3 and nb <= 2:
        p, k = int(np.prod(sa[:-1])), sa[-1]
        if nb == 2:
            return f"mat1 and mat2 shapes cannot be multiplied ({p}x{k} and {sb[0]}x{sb[1]})"
        return f"size mismatch, got input ({p}), mat ({p}x{k}), vec ({sb[0]})"
    if nb >= 3 and na <= 2 and small_needs_grad:
        p, k = int(np.prod(sb[:-2])) * sb[-1], sb[-2]
        if na == 2:
            return f"mat1 and mat2 shapes cannot be multiplied ({p}x{k} and {sa[1]}x{sa[0]})"
        return f"size mismatch, got input ({p}), mat ({p}x{k}), vec ({sa[0]})"
    ba = sa[:-2] if na > 2 else ()
    bb = sb[:-2] if nb > 2 else ()
    n = int(np.prod(np.broadcast_shapes(ba, bb)))
    k1, k2 = sa[-1], (sb[-2] if nb > 1 else sb[0])
    return f"Expected size for first two dimensions of batch2 tensor to be: [{n}, {k1}] but got: [{n}, {k2}]."


def outer(input: Tensor, vec2: Tensor) -> Tensor:  # noqa: A002
    if not isinstance(input, Tensor) or not isinstance(vec2, Tensor):
        tensor_args("outer", input, vec2, "vec2")
    for name, v in (("self", input), ("vec2", vec2)):
        if v.dim() != 1:
            raise RuntimeError(f"outer: Expected 1-D argument {name}, but got {v.dim()}-D")
    return input.reshape(-1, 1) * vec2  # (torch's composite: MulBackward0 over ViewBackward0)


ger = outer


def _addmm_bw(self: Any, g: Tensor, m1: Tensor, m2: Tensor, beta: Any, alpha: Any) -> tuple:
    n = self._next
    gi = g1 = g2 = None
    if not ENABLED[0]:  # plain backward: the products on the arrays (autograd._fit sums the bias's rows)
        gd, dev = g._data, g._dev
        if n[0] is not None:
            gi = g if beta == 1 else wrap(gd * beta, dev)
        d1, d2 = _mm_grads(gd, m1._data, m2._data, n[1] is not None, n[2] is not None)
        if d1 is not None:
            g1 = wrap(d1 if alpha == 1 else d1 * alpha, dev)
        if d2 is not None:
            g2 = wrap(d2 if alpha == 1 else d2 * alpha, dev)
        return gi, g1, g2
    from engine.ops.elementwise import mul_scalar  # (torch's maybe_multiply: a Scalar product, MulBackward1)

    if n[0] is not None:
        gi = g if beta == 1 else mul_scalar(g, beta)
    g1, g2 = _mm_grad_nodes(g, m1, m2, n[1] is not None, n[2] is not None)
    if alpha != 1:
        g1 = mul_scalar(g1, alpha) if g1 is not None else None
        g2 = mul_scalar(g2, alpha) if g2 is not None else None
    return gi, g1, g2


AddmmBackward0 = node_class("AddmmBackward0", holomorphic(_addmm_bw))


def _addmm_abw(self: Any, g: Any, m1: Tensor, m2: Tensor, beta: Any, alpha: Any) -> tuple | None:
    """_addmm_bw's plain path on a raw gradient array (autograd.run_backward's raw mode)."""
    ad, bd = m1._data, m2._data
    if type(ad) is not _ndarray or type(bd) is not _ndarray:
        return None
    n = self._next
    gi = None
    if n[0] is not None:
        gi = g if beta == 1 else g * beta
    d1, d2 = _mm_grads(g, ad, bd, n[1] is not None, n[2] is not None)
    if alpha != 1:
        d1 = d1 * alpha if d1 is not None else None
        d2 = d2 * alpha if d2 is not None else None
    return gi, d1, d2


AddmmBackward0._abw = _addmm_abw


def addmm_dtypes(input: Tensor, mat1: Tensor, mat2: Tensor) -> None:  # noqa: A002
    """torch's addmm kernel checks, in its order (baddbmm runs them per batch)."""
    di, d1, d2 = input._data.dtype, mat1._data.dtype, mat2._data.dtype
    untagged = d2.metadata is None  # (bfloat16's storage dtype equals float32's: its tag tells them apart)
    if di != d2 or (di.metadata is None) is not untagged:
        raise RuntimeError(
            f"self and mat2 must have the same dtype, but got {input.dtype.scalar_name()} and "
            f"{mat2.dtype.scalar_name()}"
        )
    if d1 != d2 or (d1.metadata is None) is not untagged:
        raise RuntimeError(
            f"mat1 and mat2 must have the same dtype, but got {mat1.dtype.scalar_name()} and {mat2.dtype.scalar_name()}"
        )
    _no_bool(mat1._data, "addmm_impl_cpu_")


@autocast_policy(cpu="lower", cuda="lower")
@with_out
@whole
def addmm(input: Tensor, mat1: Tensor, mat2: Tensor, *, beta: Any = 1, alpha: Any = 1) -> Tensor:  # noqa: A002
    """beta * input + alpha * (mat1 @ mat2) as one node (torch's AddmmBackward0; F.linear's node)."""
    from engine.ops.shape import expand

    for name, t in (("input", input), ("mat1", mat1), ("mat2", mat2)):
        if not isinstance(t, Tensor):
            raise TypeError(f"addmm(): argument '{name}' must be Tensor, not {type_name(t)}")
    if input._dev is not mat2._dev or mat1._dev is not mat2._dev:
        raise mixed_device(input if input._dev is not mat2._dev else mat1, mat2)
    di, d1, d2 = input._data, mat1._data, mat2._data
    addmm_dtypes(input, mat1, mat2)
    for name, d in (("mat1", d1), ("mat2", d2)):
        if d.ndim != 2:
            raise RuntimeError(f"{name} must be a matrix, got {d.ndim}-D tensor")
    if d1.shape[1] != d2.shape[0]:
        raise RuntimeError(
            f"mat1 and mat2 shapes cannot be multiplied ({d1.shape[0]}x{d1.shape[1]} and {d2.shape[0]}x{d2.shape[1]})"
        )
    shape = (d1.shape[0], d2.shape[1])
    # (a bias row broadcasts over the rows as it is: F.linear's case, without the generic expand's parsing)
    if di.shape != shape and not (di.ndim == 1 and di.shape[0] == shape[1]):
        prev = ENABLED[0]
        ENABLED[0] = False
        try:
            di = expand(input, shape)._data  # torch's expand error for a bias that does not fit
        finally:
            ENABLED[0] = prev
    return _addmm(input, mat1, mat2, di, d1, d2, shape, beta, alpha)


def linear_addmm(bias: Tensor, input: Tensor, weight: Tensor) -> Tensor | None:  # noqa: A002
    """F.linear's addmm(bias, input, weight.t()) where none of addmm's checks can fail and no decorator has
    anything to do: a 2-D input, a 2-D weight and a 1-D bias, float32 or float64 numpy arrays of one dtype on
    one device, sizes that fit, MKL loaded (F.linear's own decorators ran already); None otherwise."""
    d1, w, di = input._data, weight._data, bias._data
    dt = d1.dtype
    if (dt is _F32 or dt is _F64) and w.dtype is dt and di.dtype is dt and type(d1) is _ndarray:
        m, k = d1.shape if d1.ndim == 2 else (0, -1)
        n = w.shape[0]
        if (
            w.shape == (n, k) and di.shape == (n,) and type(w) is _ndarray and type(di) is _ndarray
            and input._dev is weight._dev and bias._dev is weight._dev and (_MKL[0] if _MKL else mkl.lib()) is not None
        ):  # fmt: skip
            mat2 = _t(weight)
            return _addmm(bias, input, mat2, di, d1, mat2._data, (m, n), 1, 1, True)
    return None


_F32 = np.dtype(np.float32)
_F64 = np.dtype(np.float64)
_ndarray = np.ndarray
# (numpy's module __getattr__ keeps np.<name> from being read quickly: bound once)
_np_empty = np.empty
_MKL = mkl._STATE


def _addmm(input: Tensor, mat1: Tensor, mat2: Tensor, di: Any, d1: Any, d2: Any, shape: tuple, beta: Any,  # noqa: A002
           alpha: Any, usable: bool = False) -> Tensor:  # fmt: skip
    """addmm's product and node, its arguments checked (di: the bias's array, broadcast where it must be; usable:
    MKL takes d1 and d2, and alpha and beta are 1)."""
    if usable or (mkl.usable(d1, d2) and isinstance(alpha, (int, float)) and isinstance(beta, (int, float))):
        # torch's addmm_impl_cpu_: the result holds the broadcast bias, then one gemm with alpha and beta
        r = _np_empty(shape, d2.dtype)
        if beta != 0:
            r[...] = di
        r = mkl.product(d1, d2, r, beta) if alpha == 1 else mkl.gemm(d1, d2, r, alpha, beta)
    elif d2.dtype == np.float16 and beta != 0 and isinstance(d2, np.ndarray):
        # torch's cpu half gemm: each dot product in float, then beta * c + alpha * dot in float, rounded once
        f32 = np.float32
        r = (d1.astype(f32) @ d2.astype(f32)) * f32(alpha) + di.astype(f32) * f32(beta)
    else:
        r = gemm_order.mm(d1, d2)  # (the bias is added after the product, as MKL's beta does)
        if alpha != 1:
            r = r * alpha
        if beta != 0:  # (beta=0 ignores input, nan and inf included)
            r = r + (di if beta == 1 else di * beta)
    if r.dtype != d2.dtype:
        r = r.astype(d2.dtype)
    t = wrap(r, mat2._dev)
    if ENABLED[0] and (input._rg or mat1._rg or mat2._rg):
        node = AddmmBackward0()
        node._seq = next_seq()
        ei = edge_of(input)
        node._next = (ei, edge_of(mat1), edge_of(mat2))
        node._saved = (mat1, mat2, beta, alpha)
        node._vers = (
            (mat1._vc, mat1._vc[0]) if mat2._rg else None,
            (mat2._vc, mat2._vc[0]) if mat1._rg else None,
            None,
            None,
        )
        if ei is not None and input._data.shape != shape:
            node._meta = ((input._data.shape, di.dtype), None, None)
        node._ctx = (shape, r.dtype)
        t._rg = True
        t.grad_fn = node
    return t


def _trace_bw(self: Any, g: Tensor, shape: tuple) -> tuple:
    from engine.creation import eye

    return (g * eye(*shape, dtype=g.dtype, device=g.device),)


TraceBackward0 = node_class("TraceBackward0", _trace_bw)


@autocast_policy(cpu="fp32")
def trace(input: Tensor) -> Tensor:  # noqa: A002
    """The sum of a matrix's diagonal, added in order in a double (int64 for integers), as torch's kernel."""
    d = input._data
    if d.ndim != 2:
        raise RuntimeError(f"trace: expected a matrix, but got tensor with dim {d.ndim}")
    if d.dtype.kind == "b":
        raise NotImplementedError("\"trace\" not implemented for 'Bool'")
    diag = d.diagonal()
    if d.dtype.kind in "fc":
        acc = diag.astype(np.complex128 if d.dtype.kind == "c" else np.float64)
        r = (acc.cumsum()[-1] if diag.size else acc.sum()).astype(d.dtype)  # (in order, from 0)
    else:
        r = diag.astype(np.int64).sum()
    return record(TraceBackward0, r, input._dev, (input,), (d.shape,), (None,))
