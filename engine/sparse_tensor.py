"""Sparse COO tensors (torch.sparse_coo): torch.sparse_coo_tensor, dense.to_sparse(), and what a tutorial does with
them: coalesce, indices/values, to_dense, t/transpose, neg/abs and the elementwise ops torch runs on a sparse
tensor's values (VALUE_OPS), pow and dividing by a number, multiplying by a number, a dense tensor or a sparse one
(torch's intersection), adding sparse tensors (or a sparse one to a
dense one), sum (keepdim too), torch.sparse.sum, torch.sparse.mm/torch.mm with a dense matrix, and the sparse
gradient of embedding(sparse=True), with torch's printing, gradients and errors (the ops torch has no sparse kernel
for raise its dispatcher's NotImplementedError, its first sentences).

A SparseTensor is a Tensor (isinstance, printing as torch.Tensor) holding an int64 index array (sparse_dim, nnz),
a dense values tensor (nnz, *dense dims) without a graph of its own, its size and a coalesced flag; its own
requires_grad/grad_fn carry the graph. Its `_data` is a stand-in that refuses every use, so a dense op the engine
has no sparse version of fails with one clear NotImplementedError (never with numbers from the wrong layout); the
dense ops stay as they were, and the few torch functions that take a sparse operand (torch.mm, torch.matmul,
torch.add, torch.mul, torch.sub) turn to this module only when that refusal is raised."""

from __future__ import annotations

import weakref
from typing import Any

import numpy as np

from engine.grad_mode import ENABLED
from engine.ops.util import SparseOperand, edge_of, node_class
from engine.tensor import Size, Tensor, wrap

_new = object.__new__

COVERED = (
    "tcli's engine covers, for sparse COO tensors: torch.sparse_coo_tensor, to_sparse(), coalesce(), indices()/"
    "values(), to_dense(), t()/transpose(), neg/abs and the other elementwise ops torch runs on them (relu, sqrt, "
    "sin, tanh, floor, ...), pow and dividing by a number, multiplying by a number, a dense tensor or a sparse "
    "one, adding or subtracting sparse tensors (and a sparse tensor to a dense one), sum, torch.sparse.sum, "
    "torch.sparse.mm and torch.mm/@ with a dense matrix, embedding(sparse=True)'s gradient; call .to_dense() first "
    "for other operations"
)


def refusal(what: str = "this operation") -> SparseOperand:
    return SparseOperand(f"{what} is not supported for sparse tensors (layout torch.sparse_coo); {COVERED}")


class _Flags:
    c_contiguous = f_contiguous = False


class _Refusing:
    """A sparse tensor's `_data`: it knows its dtype (Tensor.dtype, requires_grad's check read it) and that it is
    not contiguous (autograd's first .grad of a leaf turns there to the sparse case), and refuses everything else,
    numpy's ufuncs and functions included."""

    __slots__ = ("dtype",)
    flags = _Flags()

    def __getattr__(self, name: str) -> Any:
        raise refusal()

    def __array_ufunc__(self, *args: Any, **kwargs: Any) -> Any:
        raise refusal()

    def __array_function__(self, *args: Any, **kwargs: Any) -> Any:
        raise refusal()

    def __array__(self, *args: Any, **kwargs: Any) -> Any:
        raise refusal()

    def _refuse(self, *args: Any) -> Any:
        raise refusal()

    __add__ = __radd__ = __sub__ = __rsub__ = __mul__ = __rmul__ = __truediv__ = __rtruediv__ = _refuse
    __matmul__ = __rmatmul__ = __pow__ = __neg__ = __abs__ = __getitem__ = __setitem__ = __iadd__ = _refuse
    __len__ = __iter__ = __float__ = __int__ = __index__ = _refuse


def _layout() -> Any:
    from engine.memory_format import sparse_coo

    return sparse_coo


def _make(ind: np.ndarray, vals: Tensor, size: tuple, coalesced: bool) -> SparseTensor:
    """A sparse tensor around an int64 index array (sparse_dim, nnz) and a values tensor (nnz, *dense dims)."""
    t = _new(SparseTensor)
    r = _new(_Refusing)
    r.dtype = vals._data.dtype
    t._data = r
    t._dev = vals._dev
    t._rg = False
    t.grad_fn = None
    t._grad = None
    t._vc = [0, None]
    t._base = None
    t._accum = None
    t._meta = None
    t._ind = ind
    t._vals = vals
    t._ssize = tuple(int(n) for n in size)
    t._coal = coalesced
    return t


def _record(t: Any, cls: type, inputs: tuple, backward_data: tuple) -> Any:
    """Give t a graph node of class `cls` over the inputs (those that need grad), when grad mode is on."""
    if not ENABLED[0] or not any(isinstance(i, Tensor) and i._rg for i in inputs):
        return t
    from engine.autograd import next_seq

    node = cls()
    node._seq = next_seq()
    node._next = tuple(edge_of(i) for i in inputs)
    node._saved = backward_data
    if isinstance(t, SparseTensor):
        node._ctx = (t._ssize, t._vals._data.dtype)
    else:
        node._ctx = (t._data.shape, t._data.dtype)
    t._rg = True
    t.grad_fn = node
    return t


# ---- array helpers -------------------------------------------------------------------------------------------


def _linear(ind: np.ndarray, size: tuple) -> np.ndarray:
    """Each column's row-major position over the sparse dims."""
    lin = np.zeros(ind.shape[1], dtype=np.int64)
    for d in range(ind.shape[0]):
        lin = lin * int(size[d]) + ind[d]
    return lin


def _coalesced_arrays(ind: np.ndarray, vals: np.ndarray, size: tuple) -> tuple:
    """torch's coalesce (on the cpu): the indices sorted as torch's sort orders them, the first value of each index
    copied and the repeated ones added to it in that order."""
    if ind.shape[1] < 2:
        return ind.copy(), vals.copy()
    from engine.ops.std_sort import sort_perm

    lin = _linear(ind, size)
    order = sort_perm(lin)
    lin_s = lin[order]
    starts = np.concatenate(([True], lin_s[1:] != lin_s[:-1]))
    first = np.flatnonzero(starts)
    out = np.ascontiguousarray(vals[order[first]])
    rest = np.flatnonzero(~starts)
    if rest.size:
        group = np.cumsum(starts) - 1
        at = np.logical_or.at if vals.dtype.kind == "b" else np.add.at
        at(out, group[rest], vals[order[rest]])
    return np.ascontiguousarray(ind[:, order[first]]), out


def _ranks(keys: np.ndarray) -> np.ndarray:
    """Each element's occurrence number among the equal keys before it (0 for the first)."""
    n = keys.shape[0]
    order = np.argsort(keys, kind="stable")
    sk = keys[order]
    idx = np.arange(n)
    starts = np.concatenate(([True], sk[1:] != sk[:-1])) if n else np.zeros(0, bool)
    ranks = np.empty(n, dtype=np.int64)
    ranks[order] = idx - np.maximum.accumulate(np.where(starts, idx, 0))
    return ranks


def _axpys(out: np.ndarray, at: np.ndarray, x: np.ndarray, a: Any) -> None:
    """out[at[i]] = a[i] * x[i] + out[at[i]] for each i in order, each multiply-add rounded once (torch's FMA);
    a repeated place takes its terms in their order (one vectorized step per occurrence)."""
    from engine.ops.fma import EXACT, fma

    if not at.size:
        return
    if out.dtype not in EXACT:
        np.add.at(out, at, x * a)
        return
    ranks = _ranks(at)
    for r in range(int(ranks.max()) + 1):
        sel = np.flatnonzero(ranks == r)
        y = a if not isinstance(a, np.ndarray) else np.ascontiguousarray(a[sel])
        out[at[sel]] = fma(np.ascontiguousarray(x[sel]), y, np.ascontiguousarray(out[at[sel]]))


def _addmm_rows(ind: np.ndarray, vals: np.ndarray, dense: np.ndarray, rows: int) -> np.ndarray:
    """torch's sparse x dense product on the cpu: for each entry in its order, out[row] += val * dense[col], an
    axpy whose multiply-add rounds once (as its FMA does)."""
    out = np.zeros((rows, dense.shape[1]), dtype=dense.dtype)
    _axpys(out, ind[0], dense[ind[1]], vals[:, None].astype(dense.dtype))
    return out


def _dense_mm(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """A dense product as the engine's torch.mm computes it (torch's bits)."""
    from engine.ops.linalg import mm as dense_mm

    return dense_mm(wrap(np.ascontiguousarray(a)), wrap(np.ascontiguousarray(b)))._data


def _dense_sum(v: np.ndarray, dim: Any = None) -> np.ndarray:
    """A dense sum as the engine's torch.sum computes it (torch's summation order)."""
    from engine.ops.reduce import sum as dense_sum

    t = wrap(np.ascontiguousarray(v))
    return (dense_sum(t) if dim is None else dense_sum(t, dim=dim))._data


def _dense_array(s: SparseTensor) -> np.ndarray:
    vals = s._vals._data
    out = np.zeros(s._ssize, dtype=vals.dtype)
    if s._ind.shape[1]:
        idx = tuple(s._ind)
        if vals.dtype.kind == "b":
            np.logical_or.at(out, idx, vals)
        else:
            np.add.at(out, idx, vals)
    return out


def _dense(g: Any) -> np.ndarray:
    return _dense_array(g) if isinstance(g, SparseTensor) else g._data


def _mask(gd: np.ndarray, s: SparseTensor) -> SparseTensor:
    """torch's sparse_mask of a dense gradient by s's coalesced indices (a sparse input's gradient)."""
    ind = s._ind if s._coal else _coalesced_arrays(s._ind, s._vals._data, s._ssize)[0]
    vals = gd[tuple(ind)] if ind.shape[1] else np.zeros((0,) + gd.shape[ind.shape[0] :], dtype=gd.dtype)
    return _make(ind, wrap(np.ascontiguousarray(vals), s._dev), s._ssize, True)


def _cpu_only(t: Tensor) -> None:
    """The engine's sparse tensors live on the cpu (their kernels are numpy's)."""
    if t._dev.type != "cpu":
        raise refusal(f"device '{t._dev}'")


def _dims(shape: tuple) -> str:
    return "[" + ", ".join(str(n) for n in shape) + "]"


# ---- creation ------------------------------------------------------------------------------------------------

_INVARIANTS_WARNING = (
    "Sparse invariant checks are implicitly disabled. Memory errors (e.g. SEGFAULT) will occur when operating on a "
    "sparse tensor which violates the invariants, but checks incur performance overhead. To silence this warning, "
    "explicitly opt in or out. See `torch.sparse.check_sparse_tensor_invariants.__doc__` for guidance.  (Triggered "
    "internally at /__w/pytorch/pytorch/aten/src/ATen/Context.cpp:816.)"
)


def _ctor_values_bw(self: Any, g: Any, ind: np.ndarray) -> tuple:
    gd = _dense(g)
    return (wrap(np.ascontiguousarray(gd[tuple(ind)]), g._dev),)


SparseCooTensorWithDimsAndTensorsBackward0 = node_class("SparseCooTensorWithDimsAndTensorsBackward0", _ctor_values_bw)


def sparse_coo_tensor(
    indices: Any, values: Any, size: Any = None, *, dtype: Any = None, device: Any = None, pin_memory: bool = False,
    requires_grad: bool = False, check_invariants: Any = None, is_coalesced: Any = None,
) -> SparseTensor:  # fmt: skip
    """torch.sparse_coo_tensor(indices, values, size=None, *, dtype, device, requires_grad)."""
    from engine.creation import tensor as make_tensor
    from engine.warn import warn_once

    if check_invariants is None:
        warn_once(_INVARIANTS_WARNING)
    it = indices if isinstance(indices, Tensor) else make_tensor(indices)
    if isinstance(it, SparseTensor):
        raise refusal("sparse indices")
    vt = values if isinstance(values, Tensor) else make_tensor(values, device=device)
    if isinstance(vt, SparseTensor):
        raise refusal("sparse values")
    if dtype is not None and vt.dtype is not dtype:
        vt = vt.to(dtype)
    if device is not None:
        vt = vt.to(device)
    _cpu_only(vt)
    ind = np.asarray(it._host())
    if ind.ndim != 2:
        raise RuntimeError(f"indices must be sparse_dim x nnz, but got: {_dims(ind.shape)}")
    ind = ind.astype(np.int64)
    if vt._data.ndim == 0:
        raise RuntimeError("values must have at least 1 dimension, but got 0")  # (as torch's check reads)
    sd, nnz = ind.shape
    if vt._data.shape[0] != nnz:
        raise RuntimeError(
            f"indices and values must have same nnz, but got nnz from indices: {nnz}, nnz from values: "
            f"{vt._data.shape[0]}"
        )
    dense_shape = tuple(vt._data.shape[1:])
    if size is None:
        sparse_shape = tuple(int(m) + 1 for m in ind.max(axis=1)) if nnz else (0,) * sd
        shape = sparse_shape + dense_shape
    else:
        shape = tuple(int(n) for n in (size if isinstance(size, (tuple, list)) else (size,)))
        if len(shape) != sd + len(dense_shape):
            raise RuntimeError(
                f"'len(size) == sparse_dim + dense_dim' is not satisfied: len(size) = {len(shape)}, sparse_dim = "
                f"{sd}, dense_dim = {len(dense_shape)}"
            )
    coalesced = bool(is_coalesced) if is_coalesced is not None else nnz < 2
    vals = wrap(np.ascontiguousarray(vt._host()), vt._dev)
    s = _make(np.ascontiguousarray(ind), vals, shape, coalesced)
    if requires_grad:
        s.requires_grad = True
    elif vt._rg:
        _record(s, SparseCooTensorWithDimsAndTensorsBackward0, (vt,), (ind,))
    return s


def _to_sparse_bw(self: Any, g: Any) -> tuple:
    return (wrap(_dense(g).copy(), g._dev),)


ToSparseBackward0 = node_class("ToSparseBackward0", _to_sparse_bw)
ToSparseBackward1 = node_class("ToSparseBackward1", _to_sparse_bw)


def to_sparse(self: Tensor, sparse_dim: Any = None, *, layout: Any = None, blocksize: Any = None,
              dense_dim: Any = None) -> SparseTensor:  # fmt: skip
    """dense.to_sparse() / to_sparse(sparse_dim) / to_sparse_coo(): the nonzero entries (or rows of entries)."""
    if layout is not None and layout is not _layout():
        raise refusal(f"to_sparse(layout={layout!r})")
    if isinstance(self, SparseTensor):
        if sparse_dim is not None and sparse_dim != self.sparse_dim():
            raise refusal("to_sparse with another sparse_dim")
        return self
    arr = self._data
    nd = arr.ndim
    if sparse_dim is None:
        sd = nd
    else:
        sd = int(sparse_dim)
        if nd == 0 or sd <= 0:
            if nd > 0:
                raise RuntimeError("dense_to_sparse: sparse_dim argument must be in >0 when self.dim()>0")
        if sd > nd:
            raise RuntimeError(f"dense_to_sparse: sparse_dim argument must be in [0,{nd}] range, but {sd} is given")
    _cpu_only(self)
    host_arr = np.asarray(self._host())
    if sd == nd:
        nz = host_arr != 0
    else:
        nz = (host_arr != 0).reshape(host_arr.shape[:sd] + (-1,)).any(axis=-1)
    ind = np.ascontiguousarray(np.stack(np.nonzero(nz)).astype(np.int64)) if sd else np.zeros((0, 1), np.int64)
    vals = host_arr[tuple(ind)] if sd else host_arr[None]
    s = _make(ind, wrap(np.ascontiguousarray(vals), self._dev), host_arr.shape, True)
    if sparse_dim is None:
        return _record(s, ToSparseBackward1, (self,), ())
    return _record(s, ToSparseBackward0, (self,), ())


# ---- the operations ------------------------------------------------------------------------------------------


def _to_dense_bw(self: Any, g: Any, s: SparseTensor) -> tuple:
    return (_mask(_dense(g), s),)


ToDenseBackward0 = node_class("ToDenseBackward0", _to_dense_bw)


def _coalesce_bw(self: Any, g: Any) -> tuple:
    return (g,)


CoalesceBackward0 = node_class("CoalesceBackward0", _coalesce_bw)


def _values_bw(self: Any, g: Any, s: SparseTensor) -> tuple:
    return (_make(s._ind, wrap(np.ascontiguousarray(g._data), g._dev), s._ssize, False),)


ValuesBackward0 = node_class("ValuesBackward0", _values_bw)


def _scaled(g: Any, f: Any) -> Any:
    return g * f


def _mul_bw(self: Any, g: Any, k: Any) -> tuple:
    return (_scaled(g, k),)


def _div_bw(self: Any, g: Any, k: Any) -> tuple:
    return (g / k,)


def _neg_bw(self: Any, g: Any) -> tuple:
    return (-g,)


def _t_bw(self: Any, g: Any, d0: int, d1: int) -> tuple:
    return (g.transpose(d0, d1),)


def _add_bw(self: Any, g: Any, alpha: Any) -> tuple:
    return (g, g if alpha == 1 else _scaled(g, alpha))


def _sub_bw(self: Any, g: Any, alpha: Any) -> tuple:
    return (g, -g if alpha == 1 else _scaled(g, -alpha))


def _sum_all_bw(self: Any, g: Any, s: SparseTensor) -> tuple:
    gd = _dense(g)
    return (_mask(np.broadcast_to(gd, s._ssize), s),)


def _sum_dense_bw(self: Any, g: Any, s: SparseTensor) -> tuple:
    return (wrap(np.ascontiguousarray(np.broadcast_to(_dense(g), s._ssize)), g._dev),)


def _sum_dims_refused_bw(self: Any, g: Any, s: SparseTensor, dims: tuple, keepdim: bool = False) -> tuple:
    if isinstance(g, SparseTensor):  # (torch expands the gradient: a sparse one refuses)
        raise RuntimeError("expand is unsupported for Sparse tensors")
    gd = g._data if keepdim else np.expand_dims(g._data, dims)  # (a dense result: its gradient expanded, dense)
    return (wrap(np.ascontiguousarray(np.broadcast_to(gd, s._ssize)), g._dev),)


def _sum_dims_bw(self: Any, g: Any, s: SparseTensor, dims: tuple, keepdim: bool = False) -> tuple:
    gd = np.expand_dims(_dense(g), dims)
    return (_mask(np.broadcast_to(gd, s._ssize), s),)


def _addmm_bw(self: Any, g: Any, s: SparseTensor, d: np.ndarray) -> tuple:
    gd = _dense(g)
    ga = _mask(_dense_mm(gd, d.T), s) if self._next[0] is not None else None
    gb = wrap(_addmm_rows(s._ind[::-1], s._vals._data, gd, s._ssize[1]), g._dev) if self._next[1] is not None else None
    return ga, gb


def _mm_sd_bw(self: Any, g: Any, s: SparseTensor, d: np.ndarray) -> tuple:
    gd = _dense(g)
    ga = wrap(_dense_mm(gd, d.T), g._dev) if self._next[0] is not None else None
    gb = wrap(_addmm_rows(s._ind[::-1], s._vals._data, gd, s._ssize[1]), g._dev) if self._next[1] is not None else None
    return ga, gb


def _mm_ds_bw(self: Any, g: Any, d: np.ndarray, s: SparseTensor) -> tuple:
    gd = _dense(g)
    ga = None
    if self._next[0] is not None:  # g @ s.t(), as (s @ g.t()).t()
        ga = wrap(np.ascontiguousarray(_addmm_rows(s._ind, s._vals._data, gd.T, s._ssize[0]).T), g._dev)
    gb = wrap(_dense_mm(d.T, gd), g._dev) if self._next[1] is not None else None
    return ga, gb


def _dense_add_bw(self: Any, g: Any, alpha: Any) -> tuple:
    return g, (g if alpha == 1 else g * alpha)


def _to_copy_bw(self: Any, g: Any, dtype: Any) -> tuple:
    if isinstance(g, SparseTensor):
        return (_make(g._ind, g._vals.to(dtype), g._ssize, g._coal),)
    return (g.to(dtype),)


ToCopyBackward0 = node_class("ToCopyBackward0", _to_copy_bw)
MulBackward0 = node_class("MulBackward0", _mul_bw)
DivBackward0 = node_class("DivBackward0", _div_bw)
NegBackward0 = node_class("NegBackward0", _neg_bw)
TBackward0 = node_class("TBackward0", _t_bw)
TransposeBackward0 = node_class("TransposeBackward0", _t_bw)
PermuteBackward0 = node_class("PermuteBackward0", _t_bw)
AddBackward0 = node_class("AddBackward0", _add_bw)
SubBackward0 = node_class("SubBackward0", _sub_bw)
SumBackward0 = node_class("SumBackward0", _sum_dense_bw)  # (x.sum(): a dense gradient, as torch's)
SumBackward1 = node_class("SumBackward1", _sum_dims_refused_bw)  # (x.sum(dim): torch's backward refuses)
SparseSumBackward0 = node_class("SparseSumBackward0", _sum_dims_bw)
SparseSumAllBackward0 = node_class("SumBackward0", _sum_all_bw)  # (torch.sparse.sum(x): a sparse gradient)
SparseAddmmBackward0 = node_class("SparseAddmmBackward0", _addmm_bw)
MmBackward0 = node_class("MmBackward0", _mm_sd_bw)
MmDenseSparseBackward0 = node_class("MmBackward0", _mm_ds_bw)
DenseAddBackward0 = node_class("AddBackward0", _dense_add_bw)


def _is_number(x: Any) -> bool:
    return isinstance(x, (int, float, bool, np.number, np.bool_)) and not isinstance(x, Tensor)


def _merge_add(a: SparseTensor, b: SparseTensor, alpha: Any) -> SparseTensor:
    """torch's add of two sparse tensors on the cpu: the two index lists merged as they stand (equal indices
    meeting in step are added), coalesced only when both are."""
    if a._ssize != b._ssize:
        raise RuntimeError(
            f"add: expected sizes of 'self' and 'other' to match, but {_dims(a._ssize)} != {_dims(b._ssize)}"
        )
    if a.sparse_dim() != b.sparse_dim() or a.dense_dim() != b.dense_dim():
        raise refusal("adding sparse tensors of different sparse dims")
    from engine.dtypes import promote_types

    rt = promote_types(a.dtype, b.dtype)
    av = a._vals.to(rt)._data
    bv = b._vals.to(rt)._data
    scaled = type(alpha) is not int or alpha != 1
    if b._ind.shape[1] == 0:
        return _make(a._ind.copy(), wrap(av.copy(), a._dev), a._ssize, a._coal)
    if a._ind.shape[1] == 0:
        if scaled:
            bv = (wrap(bv, b._dev) * alpha)._data  # (torch: mul(src, alpha))
        return _make(b._ind.copy(), wrap(np.ascontiguousarray(bv), b._dev), b._ssize, b._coal)
    if not (_contiguous(a._vals._data) and _contiguous(b._vals._data)):
        return _concat_add(a, b, av, bv, alpha, scaled)
    ta, tb = a._ind.T.tolist(), b._ind.T.tolist()
    na, nb = len(ta), len(tb)
    i = j = 0
    rows: list = []
    pick: list = []  # (index into a or -1, index into b or -1)
    while i < na or j < nb:
        if i >= na:
            cmp = -1
        elif j >= nb:
            cmp = 1
        else:
            cmp = 0 if ta[i] == tb[j] else (1 if ta[i] < tb[j] else -1)
        ia = ib = -1
        if cmp >= 0:
            rows.append(ta[i])
            ia = i
            i += 1
        if cmp <= 0:
            if cmp < 0:
                rows.append(tb[j])
            ib = j
            j += 1
        pick.append((ia, ib))
    out = np.zeros((len(pick),) + av.shape[1:], dtype=av.dtype)
    pa = np.array([p[0] for p in pick])
    pb = np.array([p[1] for p in pick])
    ma, mb = pa >= 0, pb >= 0
    out[ma] = out[ma] + av[pa[ma]]
    if scaled:  # (torch's axpy: out + alpha * b rounded once where it is an fma)
        from engine.ops.fma import EXACT, fma

        k = alpha.item() if isinstance(alpha, Tensor) else alpha
        if out.dtype in EXACT:
            out[mb] = fma(np.ascontiguousarray(bv[pb[mb]]), float(out.dtype.type(k)), np.ascontiguousarray(out[mb]))
        else:
            out[mb] = out[mb] + bv[pb[mb]] * k
    else:
        out[mb] = out[mb] + bv[pb[mb]]
    ind = np.ascontiguousarray(np.array(rows, dtype=np.int64).T.reshape(a._ind.shape[0], -1))
    return _make(ind, wrap(out, a._dev), a._ssize, a._coal and b._coal)


def _concat_add(a: SparseTensor, b: SparseTensor, av: np.ndarray, bv: np.ndarray, alpha: Any, scaled: bool) -> Any:
    """torch's add of sparse tensors where either one's values are not contiguous (an embedding's gradient from
    an expanded one): the indices and values put end to end (b's times alpha), coalesced only once there are
    more entries than elements."""
    if scaled:
        bv = (wrap(np.ascontiguousarray(bv), b._dev) * alpha)._data
    ind = np.ascontiguousarray(np.concatenate((a._ind, b._ind), axis=1))
    vals = np.ascontiguousarray(np.concatenate((av, bv), axis=0))
    if ind.shape[1] > a.numel():
        ind, vals = _coalesced_arrays(ind, vals, a._ssize)
        return _make(ind, wrap(vals, a._dev), a._ssize, True)
    return _make(ind, wrap(vals, a._dev), a._ssize, False)


def grad_copy(g: SparseTensor) -> SparseTensor:
    """A sparse gradient as AccumulateGrad stores it: the same arrays in a new tensor (torch's
    _sparse_coo_tensor_unsafe, which forgets that they were coalesced), or (values not contiguous) a clone."""
    if _contiguous(g._vals._data):
        return _make(g._ind, g._vals, g._ssize, False)
    return _make(g._ind.copy(), wrap(np.ascontiguousarray(g._vals._data), g._dev), g._ssize, g._coal)


def add(a: Any, b: Any, alpha: Any = 1, name: str = "add") -> Tensor:
    """a + alpha * b where a or b is sparse: sparse + sparse is sparse, dense + sparse dense."""
    if isinstance(a, SparseTensor) and isinstance(b, SparseTensor):
        r = _merge_add(a, b, -alpha if name == "sub" else alpha)
        cls = SubBackward0 if name == "sub" else AddBackward0
        return _record(r, cls, (a, b), (alpha,))
    if isinstance(a, SparseTensor) or _is_number(a):  # (a number is a dense operand to torch)
        if isinstance(b, Tensor) or _is_number(b):
            raise RuntimeError("add(sparse, dense) is not supported. Use add(dense, sparse) instead.")
        raise refusal(f"{name} with a {type(b).__name__}")
    if not isinstance(a, Tensor):
        raise refusal(f"{name} with a {type(a).__name__}")
    # dense + sparse: the dense values with the sparse ones added in, in index order (torch's add_out_dense_sparse)
    if tuple(a._data.shape) != b._ssize:
        raise RuntimeError(
            f"add: expected 'self' and 'other' to have same size, but self has size {_dims(a._data.shape)} while "
            f"other has size {_dims(b._ssize)} (FYI: dense-sparse addition does not currently support broadcasting)"
        )
    from engine.dtypes import promote_types

    rt = promote_types(a.dtype, b.dtype)
    out = a.to(rt)._data.copy()
    bv = b._vals.to(rt)._data
    k = alpha if name == "add" else -alpha
    if b._ind.shape[1]:  # each r[index] += alpha * value in turn
        flat = out.reshape((-1,) + bv.shape[1:]) if b.dense_dim() == 0 else None
        if flat is None:  # (hybrid: r[index] as a block of the dense dims)
            flat = out.reshape((-1,) + out.shape[b.sparse_dim() :])
        at = _linear(b._ind, b._ssize)
        kk = out.dtype.type(k) if out.dtype.kind in "fc" else k
        if type(k) is int and k == 1:
            np.add.at(flat, at, bv)
        elif (b._coal or b._ind.shape[1] == 1) and b.dense_dim() == 0:
            np.add.at(flat, at, bv * kk)  # (torch's coalesced kernel: the product rounded, then added)
        else:  # (its other kernels: an axpy, whose multiply-add rounds once)
            _axpys(flat, at, bv, float(kk) if out.dtype.kind == "f" else kk)
    r = wrap(out, a._dev)
    return _record(r, DenseAddBackward0, (a, b), (k,))


def mm(a: Any, b: Any, sparse_fn: bool = False) -> Tensor:
    """torch.sparse.mm (sparse_fn: SparseAddmmBackward0, a sparse gradient for the sparse operand) and
    torch.mm/matmul/@ (MmBackward0) with one sparse 2-d operand and a dense matrix."""
    if isinstance(a, SparseTensor) and not isinstance(b, SparseTensor) and isinstance(b, Tensor):
        if a.sparse_dim() != 2:
            raise RuntimeError(f"addmm: matrices expected, got {a.sparse_dim()}D tensor")
        if a.dense_dim() != 0:
            raise refusal("a matrix product with a hybrid sparse tensor")
        bd = b._data
        if bd.ndim != 2:
            raise RuntimeError(f"addmm: matrices expected, got {bd.ndim}D tensor")
        if bd.shape[0] != a._ssize[1]:
            raise RuntimeError(f"addmm: Argument #3 (dense): Expected dim 0 size {a._ssize[1]}, got {bd.shape[0]}")
        if b.dtype is not a.dtype:
            raise RuntimeError(f"expected scalar type {a.dtype.scalar_name()} but found {b.dtype.scalar_name()}")
        r = wrap(_addmm_rows(a._ind, a._vals._data, bd, a._ssize[0]), b._dev)
        return _record(r, SparseAddmmBackward0 if sparse_fn else MmBackward0, (a, b), (a, bd))
    if isinstance(b, SparseTensor) and not isinstance(a, SparseTensor) and isinstance(a, Tensor) and not sparse_fn:
        if b.dense_dim() != 0 or b.sparse_dim() != 2 or a._data.ndim != 2:
            raise refusal("this matrix product with a sparse tensor")
        ad = a._data
        if ad.shape[1] != b._ssize[0]:
            raise RuntimeError(
                f"mat1 and mat2 shapes cannot be multiplied ({ad.shape[0]}x{ad.shape[1]} and "
                f"{b._ssize[0]}x{b._ssize[1]})"
            )
        if b.dtype is not a.dtype:
            raise RuntimeError(f"expected scalar type {a.dtype.scalar_name()} but found {b.dtype.scalar_name()}")
        # (torch computes it as (b.t() @ a.t()).t())
        r = wrap(np.ascontiguousarray(_addmm_rows(b._ind[::-1], b._vals._data, ad.T, b._ssize[1]).T), a._dev)
        return _record(r, MmDenseSparseBackward0, (a, b), (ad, b))
    if not isinstance(a, Tensor) or not isinstance(b, Tensor):
        if sparse_fn:
            from engine.ops.linalg import tensor_args

            tensor_args("mm", a, b, "mat2")
    if sparse_fn and not isinstance(a, SparseTensor) and not isinstance(b, SparseTensor):
        from engine.ops.linalg import mm as dense_mm

        return dense_mm(a, b)
    raise refusal("a matrix product of two sparse tensors")


def sparse_sum(input: Any, dim: Any = None, dtype: Any = None) -> Tensor:  # noqa: A002
    """torch.sparse.sum: every element (a dense 0-d tensor) or over dims (a sparse tensor, or a dense one where
    only dense dims are left)."""
    s = input
    if not isinstance(s, SparseTensor):
        if isinstance(s, Tensor):
            raise RuntimeError("coalesce expected sparse coordinate tensor layout but got Strided")
        raise refusal(f"torch.sparse.sum of a {type(s).__name__}")
    if dtype is not None:
        s = s.to(dtype)
    if dim is None:
        r = wrap(_sum_all(s), s._dev)
        return _record(r, SparseSumAllBackward0, (s,), (s,))
    return _sum_dims(s, dim, SparseSumBackward0)


def _sum_all(s: SparseTensor) -> np.ndarray:
    """torch's sum of a sparse tensor: the coalesced values summed as a dense tensor is."""
    vals = s._vals._data if s._coal else _coalesced_arrays(s._ind, s._vals._data, s._ssize)[1]
    return _dense_sum(vals)


def _sum_dims(s: SparseTensor, dim: Any, cls: type, keepdim: bool = False) -> Tensor:
    from engine.ops.util import norm_dim

    n = len(s._ssize)
    dims = tuple(sorted({norm_dim(d, n) for d in (dim if isinstance(dim, (tuple, list)) else (dim,))}))
    if keepdim:  # torch: the sum, then each summed dim unsqueezed back in turn
        r = _sum_dims(s, dims, cls)
        node = r.grad_fn
        for d in dims:
            r = _unsqueezed(r, d)
        if node is not None:
            node._saved = (s, dims, True)
            r._rg, r.grad_fn = True, node
        return r
    sd = s.sparse_dim()
    sdims = [d for d in dims if d < sd]
    ddims = tuple(d - sd + 1 for d in dims if d >= sd)
    keep = [d for d in range(sd) if d not in sdims]
    vals = s._vals._data
    if ddims:
        vals = _dense_sum(vals, ddims)
    new_size = tuple(s._ssize[d] for d in range(n) if d not in dims)
    if len(sdims) == sd:  # every sparse dim summed: a dense result
        r = wrap(_dense_sum(vals, 0), s._dev)
        return _record(r, cls, (s,), (s, dims))
    # (torch: the kept indices as they stand, coalesced)
    ind, vals = _coalesced_arrays(s._ind[keep], vals, tuple(s._ssize[d] for d in keep))
    r = _make(ind, wrap(np.ascontiguousarray(vals), s._dev), new_size, True)
    return _record(r, cls, (s,), (s, dims))


def _unsqueezed(r: Tensor, d: int) -> Tensor:
    """r.unsqueeze(d) without a graph: a sparse tensor gets a sparse dim (index 0) up to its sparse dims, else a
    dense one; a dense tensor a dim of 1."""
    if not isinstance(r, SparseTensor):
        return wrap(np.expand_dims(r._data, d), r._dev)
    size = r._ssize[:d] + (1,) + r._ssize[d:]
    sd = r.sparse_dim()
    if d <= sd:
        ind = np.insert(r._ind, d, 0, axis=0)
        return _make(np.ascontiguousarray(ind), r._vals, size, r._coal)
    vals = wrap(np.expand_dims(r._vals._data, d - sd + 1), r._dev)
    return _make(r._ind, vals, size, r._coal)


# ---- the tensor type -----------------------------------------------------------------------------------------


class SparseTensor(Tensor):
    """A sparse COO tensor: prints and reads as torch's (see the module's note)."""

    __slots__ = ("_ind", "_vals", "_ssize", "_coal")

    def __new__(cls, *args: Any, **kwargs: Any) -> SparseTensor:
        raise refusal("constructing a sparse tensor this way")

    # ---- metadata
    @property
    def shape(self) -> Size:
        return Size(self._ssize)

    def size(self, dim: Any = None) -> Any:
        if dim is None:
            return Size(self._ssize)
        from engine.ops.util import norm_dim

        return self._ssize[norm_dim(dim, len(self._ssize))]

    @property
    def dtype(self) -> Any:
        return self._vals.dtype

    @property
    def ndim(self) -> int:
        return len(self._ssize)

    def dim(self) -> int:
        return len(self._ssize)

    ndimension = dim

    def numel(self) -> int:
        n = 1
        for d in self._ssize:
            n *= d
        return n

    nelement = numel

    @property
    def nbytes(self) -> int:
        raise refusal("nbytes")

    is_sparse = True

    @property
    def layout(self) -> Any:
        return _layout()

    def __len__(self) -> int:
        if not self._ssize:
            raise TypeError("len() of a 0-d tensor")
        return self._ssize[0]

    def is_contiguous(self, memory_format: Any = None) -> bool:
        return False

    def __repr__(self, *, tensor_contents: Any = None) -> str:
        from engine.printing import format_sparse

        return format_sparse(self)

    __str__ = __repr__

    def __format__(self, spec: str) -> str:
        return format(repr(self), spec)

    # ---- the sparse accessors
    def _nnz(self) -> int:
        return int(self._ind.shape[1])

    def sparse_dim(self) -> int:
        return int(self._ind.shape[0])

    def dense_dim(self) -> int:
        return len(self._ssize) - int(self._ind.shape[0])

    def is_coalesced(self) -> bool:
        return self._coal

    def _indices(self) -> Tensor:
        return wrap(self._ind)

    def _values(self) -> Tensor:
        return wrap(self._vals._data, self._dev)

    def indices(self) -> Tensor:
        if not self._coal:
            raise RuntimeError("Cannot get indices on an uncoalesced tensor, please call .coalesce() first")
        return wrap(self._ind)

    def values(self) -> Tensor:
        if not self._coal:
            raise RuntimeError("Cannot get values on an uncoalesced tensor, please call .coalesce() first")
        r = wrap(self._vals._data, self._dev)
        return _record(r, ValuesBackward0, (self,), (self,))

    def coalesce(self) -> SparseTensor:
        if self._coal:
            return self
        ind, vals = _coalesced_arrays(self._ind, self._vals._data, self._ssize)
        r = _make(ind, wrap(vals, self._dev), self._ssize, True)
        return _record(r, CoalesceBackward0, (self,), ())

    def to_dense(self, dtype: Any = None, *, masked_grad: Any = None) -> Tensor:
        r = wrap(_dense_array(self), self._dev)
        r = _record(r, ToDenseBackward0, (self,), (self,))
        return r if dtype is None else r.to(dtype)

    def to_sparse(self, *args: Any, **kwargs: Any) -> SparseTensor:
        return to_sparse(self, *args, **kwargs)

    to_sparse_coo = to_sparse

    # ---- autograd and copies
    def detach(self) -> SparseTensor:
        return _make(self._ind, self._vals, self._ssize, self._coal)

    @property
    def data(self) -> SparseTensor:
        return self.detach()

    def _refused(self, *args: Any, **kwargs: Any) -> Any:
        raise refusal()

    new_zeros = new_ones = new_empty = new_full = new_tensor = _refused

    def requires_grad_(self, requires_grad: bool = True) -> SparseTensor:
        self.requires_grad = requires_grad
        return self

    def zero_(self) -> SparseTensor:
        """torch's zero_ of a sparse tensor: no entries left (its sparse and dense dims kept), coalesced."""
        self._ind = np.zeros((self._ind.shape[0], 0), dtype=np.int64)
        self._vals = wrap(np.zeros((0,) + self._vals._data.shape[1:], dtype=self._vals._data.dtype), self._dev)
        self._coal = True
        self._vc[0] += 1
        return self

    def clone(self, *, memory_format: Any = None) -> SparseTensor:
        if self._rg:
            raise refusal("clone() of a sparse tensor that requires grad")
        return _make(self._ind.copy(), wrap(self._vals._data.copy(), self._dev), self._ssize, self._coal)

    def to(self, *args: Any, **kwargs: Any) -> SparseTensor:
        vals = self._vals.to(*args, **kwargs)
        _cpu_only(vals)
        if vals is self._vals:
            return self
        r = _make(self._ind, vals, self._ssize, self._coal)
        return _record(r, ToCopyBackward0, (self,), (self.dtype,))

    def double(self) -> SparseTensor:
        from engine.dtypes import float64

        return self.to(float64)

    def float(self) -> SparseTensor:
        from engine.dtypes import float32

        return self.to(float32)

    def cpu(self) -> SparseTensor:
        return self.to("cpu")

    def numpy(self, *, force: bool = False) -> Any:
        raise TypeError("can't convert Sparse layout tensor to numpy. Use Tensor.to_dense() first.")

    def tolist(self) -> Any:
        raise RuntimeError("Cannot access data pointer of Tensor that doesn't have storage")

    def item(self) -> Any:
        n = self.numel()
        if n != 1:
            raise RuntimeError(f"a Tensor with {n} elements cannot be converted to Scalar")
        return wrap(_dense_array(self), self._dev).item()

    def view(self, *args: Any, **kwargs: Any) -> Any:
        raise SparseOperand(
            "Could not run 'aten::view' with arguments from the 'SparseCPU' backend. This could be because the "
            "operator doesn't exist for this backend, or was omitted during the selective/custom build process (if "
            "using custom build). If you are a Facebook employee using PyTorch on mobile, please visit "
            "https://fburl.com/ptmfixes for possible resolutions."
        )

    def contiguous(self, memory_format: Any = None) -> Any:
        raise RuntimeError("unsupported memory format option Contiguous")

    def __bool__(self) -> bool:
        if self.numel() != 1:
            raise RuntimeError("Boolean value of Tensor with more than one value is ambiguous")
        return bool(self.item())

    @property
    def T(self) -> SparseTensor:  # noqa: N802 - torch's name
        if len(self._ssize) > 2:
            raise refusal("T of a sparse tensor of more than 2 dims")
        if len(self._ssize) < 2:
            return self
        return self._transposed(0, 1, PermuteBackward0)

    def reshape(self, *args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("reshape is not implemented for sparse tensors")

    # ---- arithmetic
    def t(self) -> SparseTensor:
        if len(self._ssize) > 2:
            raise RuntimeError(f"t() expects a tensor with <= 2 dimensions, but self is {len(self._ssize)}D")
        if len(self._ssize) < 2:
            return self
        return self._transposed(0, 1, TBackward0)

    def transpose(self, dim0: int, dim1: int) -> SparseTensor:
        from engine.ops.util import norm_dim

        n = len(self._ssize)
        d0, d1 = norm_dim(dim0, n), norm_dim(dim1, n)
        return self._transposed(d0, d1, TransposeBackward0)

    def _transposed(self, d0: int, d1: int, cls: type) -> SparseTensor:
        sd = self.sparse_dim()
        if (d0 < sd) != (d1 < sd):
            raise RuntimeError("transpose(): Cannot transpose a sparse dimension with a dense dimension")  # torch's
        size = list(self._ssize)
        size[d0], size[d1] = size[d1], size[d0]
        ind, vals = self._ind, self._vals
        if d0 < sd:
            ind = ind.copy()
            ind[[d0, d1]] = ind[[d1, d0]]
            coal = False if d0 != d1 else self._coal
        else:
            vals = wrap(np.ascontiguousarray(np.swapaxes(vals._data, d0 - sd + 1, d1 - sd + 1)), self._dev)
            coal = self._coal
        r = _make(ind, vals, tuple(size), coal)
        return _record(r, cls, (self,), (d0, d1))

    def neg(self) -> SparseTensor:
        r = _make(self._ind, -self._vals, self._ssize, self._coal)
        return _record(r, NegBackward0, (self,), ())

    __neg__ = negative = neg

    def abs(self) -> SparseTensor:
        from engine.ops.elementwise import abs as dense_abs

        return value_op("abs", self, dense_abs)  # (torch: the coalesced values' abs)

    __abs__ = absolute = abs

    def mul(self, other: Any) -> SparseTensor:
        if isinstance(other, Tensor) and not isinstance(other, SparseTensor) and other._data.ndim == 0:
            other = other.item() if not other._rg else other
        if isinstance(other, SparseTensor):
            return _mul_sparse(self, other)
        if isinstance(other, Tensor) and other._data.ndim:
            return _mul_dense(self, other)
        if not _is_number(other):
            raise refusal("multiplying a sparse tensor by a tensor")
        r = _make(self._ind, self._vals * other, self._ssize, self._coal)
        return _record(r, MulBackward0, (self,), (other,))

    __mul__ = __rmul__ = multiply = mul

    def div(self, other: Any) -> SparseTensor:
        if isinstance(other, Tensor):
            shape = other.shape
            if len(shape):
                raise RuntimeError(
                    f"Sparse division requires a scalar or zero-dim dense tensor divisor (got shape {_dims(shape)} "
                    "for divisor)"
                )
            if not other._rg:
                other = other.item()
        if not _is_number(other):
            raise refusal("dividing a sparse tensor by a tensor")
        r = _make(self._ind, self._vals / other, self._ssize, self._coal)
        return _record(r, DivBackward0, (self,), (other,))

    __truediv__ = divide = true_divide = div

    def add(self, other: Any, *, alpha: Any = 1) -> Tensor:
        return add(self, other, alpha)

    __add__ = add

    def __radd__(self, other: Any) -> Tensor:
        return add(other, self)

    def sub(self, other: Any, *, alpha: Any = 1) -> Tensor:
        return add(self, other, alpha, "sub")

    __sub__ = subtract = sub

    def __rsub__(self, other: Any) -> Tensor:
        return add(other, self, 1, "sub")

    def mm(self, mat2: Any) -> Tensor:
        return mm(self, mat2)

    matmul = __matmul__ = mm

    def __rmatmul__(self, other: Any) -> Tensor:
        return mm(other, self)

    def mean(self, *args: Any, **kwargs: Any) -> Any:
        raise not_run("aten::mean.dim")

    def norm(self, p: Any = "fro", dim: Any = None, keepdim: bool = False, dtype: Any = None) -> Tensor:
        """torch's norm_sparse: every element's (the coalesced values' norm), a dense 0-d tensor."""
        from engine.ops.util import norm_dim

        n = len(self._ssize)
        if dim is not None:
            dims = {norm_dim(d, n) for d in (dim if isinstance(dim, (tuple, list)) else (dim,))}
            if dims != set(range(n)):
                raise RuntimeError(
                    "norm_sparse currently only supports full reductions, so 'dim' must either be empty or contain "
                    "all dimensions of the input"
                )
        if dtype is not None:
            if p == "fro":
                raise ValueError("dtype argument is not supported in frobenius norm")
            raise RuntimeError("norm_sparse currently does not support 'dtype' argument")
        if keepdim:
            raise RuntimeError("norm_sparse currently does not support keepdim=True")
        from engine.ops.reduce import vector_norm

        vals = self._vals._data if self._coal else _coalesced_arrays(self._ind, self._vals._data, self._ssize)[1]
        r = vector_norm(wrap(np.ascontiguousarray(vals), self._dev), 2 if p in ("fro", None) else p)
        return _record(r, NormBackward1, (self,), ())

    def clamp(self, *args: Any, **kwargs: Any) -> Any:
        raise not_run("aten::clamp")

    def clamp_(self, *args: Any, **kwargs: Any) -> Any:
        raise not_run("aten::clamp_")

    def pow(self, exponent: Any) -> SparseTensor:
        if isinstance(exponent, Tensor):
            raise not_run("aten::pow.Tensor_Tensor")
        return pow_scalar(self, exponent)

    __pow__ = pow

    def __rpow__(self, other: Any) -> Any:
        raise not_run("aten::pow.Scalar")

    def sum(self, dim: Any = None, keepdim: bool = False, *, dtype: Any = None) -> Tensor:
        s = self if dtype is None else self.to(dtype)
        if dim is None and keepdim:  # (every dim, kept: torch's SumBackward1 over all of them)
            dim = tuple(range(len(s._ssize)))
        if dim is None:  # (torch: the values summed as they stand, not coalesced first)
            r = wrap(_dense_sum(s._vals._data), s._dev)
            return _record(r, SumBackward0, (s,), (s,))
        return _sum_dims(s, dim, SumBackward1, keepdim)


def torch_mm(a: Any, b: Any) -> Tensor:
    """torch.mm/torch.matmul/torch.smm's turn to this module: the dense op raised SparseOperand."""
    return mm(a, b)


def binary_fallback(name: str, a: Any, b: Any, alpha: Any = 1) -> Tensor:
    """torch.add/sub/mul with a sparse operand (the dense op raised SparseOperand)."""
    if name in ("add", "sub"):
        return add(a, b, alpha, name)
    if name == "mul":
        if isinstance(a, SparseTensor):
            return a.mul(b)
        if isinstance(b, SparseTensor):
            return b.mul(a)
    raise refusal(name)


# value arrays that torch's would hold as non-contiguous views (an embedding's gradient of an expanded one):
# torch's add of two sparse tensors puts them end to end instead of merging them (_concat_add)
_STRIDED: weakref.WeakValueDictionary = weakref.WeakValueDictionary()


def _contiguous(v: np.ndarray) -> bool:
    return v.flags.c_contiguous and _STRIDED.get(id(v)) is not v


def embedding_sparse_grad(g: Tensor, indices: Tensor, size: tuple, padding_idx: int, by_freq: bool) -> SparseTensor:
    """F.embedding(sparse=True)'s weight gradient (torch's embedding_sparse_backward): the looked-up rows as the
    indices, in their order and uncoalesced, the incoming gradient's rows as the values (padding_idx's left out)."""
    if by_freq:
        raise RuntimeError("embedding_backward: scale_grad_by_freq not supported with sparse gradients")
    if isinstance(g, SparseTensor):
        raise refusal("a sparse gradient into embedding's backward")
    _cpu_only(g)
    if g._rg:
        raise refusal("a second derivative through embedding(sparse=True)")
    flat = indices._data.reshape(-1).astype(np.int64)
    rows = g._data.reshape(-1, size[1])  # (a view where torch's reshape is one: the values' contiguity is torch's)
    if padding_idx >= 0:
        keep = flat != padding_idx
        flat, rows = flat[keep], rows[keep]
    elif rows.size > 1:
        from engine.ops.reduce import is_expanded

        if is_expanded(g._data):  # torch's values: a view of an expanded gradient, not contiguous
            _STRIDED[id(rows)] = rows
    if not rows.size:
        rows = np.zeros((0, size[1]), dtype=rows.dtype)
    return _make(np.ascontiguousarray(flat[None]), wrap(rows, g._dev), size, False)


# ---- torch.<op>(sparse): the functional forms (each dense op turns here when its sparse operand refuses) ---------

_NOT_RUN = (
    "Could not run '{}' with arguments from the '{}' backend. This could be because the operator doesn't "
    "exist for this backend, or was omitted during the selective/custom build process (if using custom build). If "
    "you are a Facebook employee using PyTorch on mobile, please visit https://fburl.com/ptmfixes for possible "
    "resolutions."
)


def not_run(op: str, backend: str = "SparseCPU") -> NotImplementedError:
    """torch's dispatcher error for an op with no SparseCPU kernel (its first sentences: the list of backends and
    registration sites after them is the build's own)."""
    return NotImplementedError(_NOT_RUN.format(op, backend))


_ADD_SD = "add(sparse, dense) is not supported. Use add(dense, sparse) instead."
_STRIDED_ONLY = "memory format option is only supported by strided tensors"


def _grad_refused(exc: type, msg: str) -> Any:
    def backward(self: Any, g: Any, s: SparseTensor, r: SparseTensor) -> tuple:
        raise exc(msg.format(_dims(s._ssize))) if exc is not NotImplementedError else not_run(msg)

    return backward


def _grad_masked(slope: Any, dense: str = "mask") -> Any:
    """g times the op's slope at the input's (coalesced) entries: a sparse gradient, as torch's. A dense g (a
    sum() of the result): the same (dense="mask"), the slope everywhere, a dense gradient (dense="dense"), or torch's
    error (dense: the op it fails in)."""

    def backward(self: Any, g: Any, s: SparseTensor, r: SparseTensor) -> tuple:
        if not isinstance(g, SparseTensor) and dense != "mask":
            if dense != "dense":
                raise not_run(dense, "CPU")
            with np.errstate(all="ignore"):
                return (wrap(np.ascontiguousarray(slope(g._data, _dense_array(s), _dense_array(r))), g._dev),)
        with np.errstate(all="ignore"):
            return (_mask(slope(_dense(g), _dense_array(s), _dense_array(r)), s),)

    return backward


def _grad_zero(self: Any, g: Any, s: SparseTensor, r: SparseTensor) -> tuple:
    if not isinstance(g, SparseTensor):  # (torch: zeros_like(grad), dense for a dense one)
        return (wrap(np.zeros_like(g._data), g._dev),)
    vals = np.zeros((0,) + s._vals._data.shape[1:], dtype=s._vals._data.dtype)
    return (_make(np.zeros((s.sparse_dim(), 0), np.int64), wrap(vals, s._dev), s._ssize, True),)


def _grad_same(self: Any, g: Any, s: SparseTensor, r: SparseTensor) -> tuple:
    return (g,)


def _grad_scaled(k: float) -> Any:
    def backward(self: Any, g: Any, s: SparseTensor, r: SparseTensor) -> tuple:
        return (g * k,)

    return backward


_ZERO = ("zero", _grad_zero)
# op -> (torch's node name, backward): the unary ops torch 2.13 runs on a sparse COO tensor (on its coalesced
# values: each keeps zero at zero), with what torch's backward does there (several of them raise)
VALUE_OPS = {
    "abs": ("AbsBackward0", _grad_masked(lambda g, x, y: g * np.sign(x))),
    "relu": ("ReluBackward0", _grad_masked(lambda g, x, y: g * (y > 0), "aten::_nnz")),
    "sign": ("SignBackward0", _grad_zero),
    "floor": ("FloorBackward0", _grad_zero),
    "ceil": ("CeilBackward0", _grad_zero),
    "round": ("RoundBackward0", _grad_zero),
    "trunc": ("TruncBackward0", _grad_zero),
    "fix": ("TruncBackward0", _grad_zero),
    "frac": ("FracBackward0", _grad_same),
    "log1p": ("Log1PBackward0", _grad_masked(lambda g, x, y: g / (x + 1), "dense")),
    "square": ("PowBackward0", _grad_masked(lambda g, x, y: g * (2 * x))),
    "deg2rad": ("Deg2RadBackward0", _grad_scaled(0.017453292519943295)),
    "rad2deg": ("Rad2DegBackward0", _grad_scaled(57.29577951308232)),
    "sqrt": (
        "SqrtBackward0",
        _grad_refused(
            RuntimeError,
            "Sparse division requires a scalar or zero-dim dense tensor divisor (got shape {} for divisor)",
        ),
    ),  # fmt: skip
    "sin": ("SinBackward0", _grad_refused(NotImplementedError, "aten::cos")),
    "sinh": ("SinhBackward0", _grad_refused(NotImplementedError, "aten::cosh")),
    "tanh": ("TanhBackward0", _grad_refused(NotImplementedError, "aten::tanh_backward")),
    "erf": ("ErfBackward0", _grad_refused(NotImplementedError, "aten::exp")),
    "erfinv": ("ErfinvBackward0", _grad_refused(NotImplementedError, "aten::exp")),
    "sgn": ("SgnBackward0", _grad_refused(NotImplementedError, "aten::_efficientzerotensor")),
    "nan_to_num": ("NanToNumBackward0", _grad_refused(NotImplementedError, "aten::ne.Scalar")),
    "expm1": ("Expm1Backward0", _grad_refused(RuntimeError, _ADD_SD)),
    "asin": ("AsinBackward0", _grad_refused(RuntimeError, _ADD_SD)),
    "atan": ("AtanBackward0", _grad_refused(RuntimeError, _ADD_SD)),
    "asinh": ("AsinhBackward0", _grad_refused(RuntimeError, _ADD_SD)),
    "tan": ("TanBackward0", _grad_refused(RuntimeError, _ADD_SD)),
    "atanh": ("AtanhBackward0", _grad_refused(RuntimeError, _STRIDED_ONLY)),
    # (bool results: no gradient)
    "signbit": None,
    "isnan": None,
    "isinf": None,
    "isposinf": None,
    "isneginf": None,
}
_NODES: dict = {}


def value_op(name: str, s: SparseTensor, dense_op: Any, *args: Any, **kwargs: Any) -> Tensor:
    """torch.<name>(s) for a sparse s: dense_op (the engine's op) over s's coalesced values, a coalesced sparse
    result; torch's dispatcher error for an op it has no sparse kernel for."""
    if name == "neg":
        return s.neg()
    if name not in VALUE_OPS:
        raise not_run(f"aten::{name}")
    spec = VALUE_OPS[name]
    ind, vals = (s._ind, s._vals._data) if s._coal else _coalesced_arrays(s._ind, s._vals._data, s._ssize)
    r = _make(ind, dense_op(wrap(vals, s._dev), *args, **kwargs), s._ssize, True)
    if spec is None:
        return r
    cls = _NODES.get(name)
    if cls is None:
        cls = _NODES[name] = node_class(spec[0], spec[1])
    return _record(r, cls, (s,), (s, r))


def _refused_out(out: Any) -> None:
    if out is not None:
        raise refusal("out= with a sparse tensor")


def unary(name: str, input: Any, dense_op: Any, out: Any = None, *args: Any, **kwargs: Any) -> Tensor:  # noqa: A002
    """A dense unary op's turn here (its operand refused): the sparse version, or the refusal again."""
    if not isinstance(input, SparseTensor):
        raise refusal(name)
    _refused_out(out)
    return value_op(name, input, dense_op, *args, **kwargs)


def pow_scalar(s: Any, exponent: Any, out: Any = None) -> SparseTensor:
    """torch.pow(sparse, number): the coalesced values raised (PowBackward0); zero would make it dense."""
    if not isinstance(s, SparseTensor):
        raise refusal("pow")
    _refused_out(out)
    if exponent == 0:
        raise RuntimeError("pow: cannot raise to zeroth power on sparse tensor; it would make the result tensor dense")
    from engine.ops.elementwise import pow as dense_pow

    k = exponent
    c = s.coalesce().detach()
    r = _make(c._ind, dense_pow(c._vals, k), s._ssize, True)
    cls = node_class("PowBackward0", _grad_masked(lambda g, x, y: g * (k * np.power(x, k - 1))))
    return _record(r, cls, (s,), (s, r))


def div_fallback(a: Any, b: Any) -> Tensor:
    """torch.div/true_divide(sparse, number) (the dense op raised SparseOperand)."""
    if isinstance(a, SparseTensor):
        return a.div(b)
    raise refusal("dividing by a sparse tensor")


def _norm_bw(self: Any, g: Any) -> tuple:
    raise refusal("the gradient of a sparse tensor's norm")


NormBackward1 = node_class("NormBackward1", _norm_bw)


def _mul_dense_bw(self: Any, g: Any, s: SparseTensor, d: Any) -> tuple:
    gd = _dense(g)
    ga = gb = None
    if self._next[0] is not None:  # (the dense factor at s's entries)
        ga = _mask(gd * np.broadcast_to(d._data, s._ssize), s)
    if self._next[1] is not None:  # (a sparse gradient for the dense factor: s's entries times the gradient's)
        if tuple(d._data.shape) != s._ssize:
            raise not_run("aten::view")
        gb = _mul_dense(s.detach(), wrap(np.ascontiguousarray(gd), g._dev))
    return ga, gb


MulDenseBackward0 = node_class("MulBackward0", _mul_dense_bw)


def _mul_dense(s: SparseTensor, d: Tensor) -> SparseTensor:
    """torch's sparse * dense (either order): s's entries (as they stand) times the dense tensor, broadcast to s's
    shape, at each entry's index."""
    from engine.ops.elementwise import mul as dense_mul

    _cpu_only(d)
    dd = d._data
    if dd.ndim > len(s._ssize):
        raise refusal("multiplying a sparse tensor by a dense one of more dims")
    try:
        b = np.broadcast_to(dd, s._ssize)
    except ValueError:
        for i in range(1, min(dd.ndim, len(s._ssize)) + 1):
            if dd.shape[-i] not in (1, s._ssize[-i]):
                raise RuntimeError(
                    f"The size of tensor a ({dd.shape[-i]}) must match the size of tensor b ({s._ssize[-i]}) at "
                    f"non-singleton dimension {len(s._ssize) - i}"
                ) from None
        raise
    at = b[tuple(s._ind)] if s._ind.shape[1] else np.zeros((0,) + b.shape[s.sparse_dim() :], dtype=dd.dtype)
    vals = dense_mul(wrap(s._vals._data, s._dev), wrap(np.ascontiguousarray(at), s._dev))
    r = _make(s._ind, vals, s._ssize, s._coal)
    return _record(r, MulDenseBackward0, (s, d), (s, d))


def _mul_sparse_bw(self: Any, g: Any, a: SparseTensor, b: SparseTensor) -> tuple:
    if not isinstance(g, SparseTensor):
        raise refusal("a dense gradient into a product of two sparse tensors")
    ga = _mul_sparse(g, b.detach()) if self._next[0] is not None else None  # (torch: grad * other, grad * self)
    gb = _mul_sparse(g, a.detach()) if self._next[1] is not None else None
    return ga, gb


MulSparseBackward0 = node_class("MulBackward0", _mul_sparse_bw)


def _mul_sparse(a: SparseTensor, b: SparseTensor) -> SparseTensor:
    """torch's sparse * sparse (its intersection kernel): one operand's entries (the uncoalesced one's; of two
    uncoalesced ones, the one with fewer entries, the second on a tie) times the other's coalesced value at each
    index (zero where it has none)."""
    from engine.ops.elementwise import mul as dense_mul

    if a._ssize != b._ssize or a.sparse_dim() != b.sparse_dim():
        raise RuntimeError(
            "sparse_binary_op_intersection_cpu(): expects sparse inputs with equal dimensionality, number of sparse "
            "dimensions, and shape of sparse dimensions"
        )
    if a._coal and not b._coal:
        it, look = b, a
    elif b._coal and not a._coal:
        it, look = a, b
    else:
        it, look = (b, a) if b._ind.shape[1] <= a._ind.shape[1] else (a, b)
    li, lv = look._ind, look._vals._data
    if not look._coal:
        li, lv = _coalesced_arrays(li, lv, look._ssize)
    lin_look = _linear(li, look._ssize)
    lin_it = _linear(it._ind, it._ssize)
    pos = np.searchsorted(lin_look, lin_it)
    pos_c = np.minimum(pos, max(lin_look.shape[0] - 1, 0))
    hit = (pos < lin_look.shape[0]) & (lin_look[pos_c] == lin_it) if lin_look.shape[0] else np.zeros(lin_it.shape, bool)
    other = np.zeros(it._vals._data.shape, dtype=lv.dtype)
    if hit.any():
        other[hit] = lv[pos_c[hit]]
    vals = dense_mul(wrap(it._vals._data, it._dev), wrap(other, it._dev))
    r = _make(it._ind, vals, it._ssize, it._coal)
    return _record(r, MulSparseBackward0, (a, b), (a, b))
