"""Sparse COO tensors (engine/sparse_tensor.py, torch.sparse): creation, the sparse accessors, the covered arithmetic,
torch.sparse.sum/mm, gradients (sparse ones included) and printing, each compared with PyTorch as text (what a
script prints: repr, values, grads) or as its error (type and message); `tcli run` of a script printing sparse
tensors gives PyTorch's stdout byte for byte."""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest
from helpers import RAISED, outcome, run_tsr_and_python

import engine

torch = pytest.importorskip("torch")


def _i(T):  # noqa: ANN001, ANN202
    return T.tensor([[1, 0, 1], [2, 0, 2]])  # (1, 2) twice: an uncoalesced tensor


def _s(T, **kw):  # noqa: ANN001, ANN003, ANN202
    return T.sparse_coo_tensor(_i(T), T.tensor([3.0, 4.0, 5.0]), (2, 3), **kw)


def _plain(T):  # noqa: ANN001, ANN202
    return T.sparse_coo_tensor(T.tensor([[0, 1, 1], [2, 0, 2]]), T.tensor([3.0, 4.0, 5.0]), (2, 3))


CASES = {
    "basic": lambda T: repr(_plain(T)),
    "uncoalesced": lambda T: repr(_s(T)),
    "inferred size": lambda T: repr(T.sparse_coo_tensor(_i(T), T.tensor([3.0, 4.0, 5.0]))),
    "lists, float64": lambda T: repr(T.sparse_coo_tensor([[0, 0], [1, 1]], [1, 2], dtype=T.float64)),
    "int64 values": lambda T: repr(T.sparse_coo_tensor([[0, 0], [1, 1]], [1, 2])),
    "int32 values": lambda T: repr(T.sparse_coo_tensor(_i(T), T.tensor([1, 2, 3], dtype=T.int32), (2, 3))),
    "int32 to_dense": lambda T: repr(T.sparse_coo_tensor(_i(T), T.tensor([1, 2, 3], dtype=T.int32)).to_dense()),
    "empty": lambda T: repr(T.sparse_coo_tensor(T.empty(2, 0, dtype=T.long), T.empty(0), (2, 3))),
    "empty inferred": lambda T: repr(T.sparse_coo_tensor(T.empty(2, 0, dtype=T.long), T.empty(0))),
    "hybrid": lambda T: repr(T.sparse_coo_tensor([[0, 1]], [[1.0, 2.0], [3, 4]])),
    "hybrid to_dense": lambda T: repr(T.sparse_coo_tensor([[0, 1]], [[1.0, 2.0], [3, 4]], (3, 2)).to_dense()),
    "hybrid 3-d": lambda T: repr(T.sparse_coo_tensor(_i(T), T.ones(3, 2))),
    "1-d": lambda T: repr(T.sparse_coo_tensor([[0, 1]], [1.5, 2.0], (4,))),
    "requires_grad": lambda T: repr(_s(T, requires_grad=True)),
    "long grad_fn wraps": lambda T: repr(
        T.sparse_coo_tensor(_i(T), T.tensor([3.0, 4.0, 5.0], requires_grad=True), (2, 3))
    ),
    "float64 grad_fn": lambda T: repr(_s(T, requires_grad=True).to_dense().double().to_sparse()),
    "long values": lambda T: repr(T.arange(40.0).reshape(4, 10).to_sparse()),
    "summarized values": lambda T: repr(T.arange(1.0, 1201.0).to_sparse()),
    "attributes": lambda T: [
        repr(_s(T).layout),
        _s(T).is_sparse,
        _s(T)._nnz(),
        _s(T).sparse_dim(),
        _s(T).dense_dim(),
        repr(_s(T).shape),
        repr(_s(T).size()),
        _s(T).size(1),
        repr(_s(T).dtype),
        repr(_s(T).device),
        _s(T).ndim,
        _s(T).dim(),
        len(_s(T)),
        _s(T).numel(),
        isinstance(_s(T), T.Tensor),
        repr(type(_s(T))),
        T.ones(2).is_sparse,
        repr(T.ones(2).layout),
        repr(T.sparse_coo),
        _s(T).is_leaf,
        _s(T).requires_grad,
        _s(T).grad,
    ],
    "is_coalesced": lambda T: [
        _s(T).is_coalesced(),
        _s(T).coalesce().is_coalesced(),
        (_s(T) * 2).coalesce().t().is_coalesced(),
        T.sparse_coo_tensor([[0]], [1.0], (2,)).is_coalesced(),
        T.sparse_coo_tensor(T.empty(1, 0, dtype=T.long), T.empty(0), (2,)).is_coalesced(),
        T.tensor([[0.0, 2.0], [3.0, 0.0]]).to_sparse().is_coalesced(),
        T.sparse.sum(_s(T), 0).is_coalesced(),
        (_s(T).coalesce() + _s(T).coalesce()).is_coalesced(),
        (_s(T) + _s(T)).is_coalesced(),
    ],
    "_indices/_values": lambda T: [repr(_s(T)._indices()), repr(_s(T)._values())],
    "coalesce": lambda T: repr(_s(T).coalesce()),
    "coalesced indices/values": lambda T: [repr(_s(T).coalesce().indices()), repr(_s(T).coalesce().values())],
    "coalesce repeated float64": lambda T: repr(
        T.sparse_coo_tensor([[0, 1, 1]], [1, 2, 3], (3,), dtype=T.float64).coalesce()
    ),
    "to_dense": lambda T: repr(_s(T).to_dense()),
    "to_sparse": lambda T: repr(T.tensor([[0.0, 2.0], [3.0, 0.0]]).to_sparse()),
    "to_sparse(1)": lambda T: repr(T.tensor([[0.0, 1.0], [2.0, 0.0], [0.0, 0.0]]).to_sparse(1)),
    "to_sparse zeros": lambda T: repr(T.zeros(2, 3).to_sparse()),
    "to_sparse int": lambda T: repr(T.tensor([0, 5, 0, 7]).to_sparse()),
    "to_sparse of sparse": lambda T: repr(_s(T).to_sparse()),
    "dense to_dense": lambda T: repr(T.ones(2).to_dense()),
    "t": lambda T: repr(_s(T).t()),
    "transpose": lambda T: repr(_s(T).transpose(0, 1)),
    "neg": lambda T: repr(-_s(T)) + repr(_s(T).neg()),
    "abs": lambda T: repr(T.sparse_coo_tensor([[0, 1]], [-1.5, 2.0]).abs()),
    "mul": lambda T: [repr(_s(T) * 2), repr(2 * _s(T)), repr(_s(T) * 2.5), repr(T.mul(_s(T), 2)), repr(_s(T).mul(3))],
    "mul int by float": lambda T: repr(T.sparse_coo_tensor(_i(T), T.tensor([1, 2, 3]), (2, 3)) * 1.5),
    "div": lambda T: [repr(_s(T) / 2), repr(T.sparse_coo_tensor(_i(T), T.tensor([1, 2, 3]), (2, 3)) / 2)],
    "add same": lambda T: repr(_s(T) + _s(T)),
    "add merge": lambda T: repr(
        T.sparse_coo_tensor([[0, 1], [1, 0]], [1.5, 2.0], (2, 2)) + T.sparse_coo_tensor([[0], [0]], [1.0], (2, 2))
    ),
    "add coalesced": lambda T: repr(_s(T).coalesce() + T.sparse_coo_tensor([[0, 1], [1, 2]], [1.0, 2.0], (2, 3))),
    "add alpha": lambda T: repr(_s(T).add(_s(T), alpha=2)) + repr(T.add(_s(T), _s(T))),
    "add empty": lambda T: repr(_s(T) + T.sparse_coo_tensor(T.empty(2, 0, dtype=T.long), T.empty(0), (2, 3))),
    "sub": lambda T: repr(_s(T) - _s(T)) + repr(_s(T).sub(_s(T))),
    "dense + sparse": lambda T: repr(T.ones(2, 3) + _s(T)) + repr(T.add(T.ones(2, 3), _s(T), alpha=2)),
    "dense - sparse": lambda T: repr(T.ones(2, 3) - _s(T)),
    "sum": lambda T: [repr(_s(T).sum()), repr(_s(T).sum(0)), repr(_s(T).sum(1))],
    "sparse.sum": lambda T: [
        repr(T.sparse.sum(_s(T))),
        repr(T.sparse.sum(_s(T), dim=0)),
        repr(T.sparse.sum(_s(T), dim=1)),
        repr(T.sparse.sum(_s(T), dim=(0, 1))),
    ],
    "sparse.sum hybrid": lambda T: [
        repr(T.sparse.sum(T.sparse_coo_tensor([[0, 1]], [[1.0, 2.0], [3, 4]]), dim=1)),
        repr(T.sparse.sum(T.sparse_coo_tensor([[0, 1]], [[1.0, 2.0], [3, 4]]), dim=0)),
    ],
    "sparse.mm": lambda T: repr(T.sparse.mm(_s(T), T.arange(6.0).reshape(3, 2))),
    "mm": lambda T: [
        repr(T.mm(_s(T), T.arange(6.0).reshape(3, 2))),
        repr(_s(T) @ T.ones(3, 2)),
        repr(T.matmul(_s(T), T.ones(3, 2))),
        repr(_s(T).mm(T.ones(3, 2))),
    ],
    "dense @ sparse": lambda T: [repr(T.ones(2, 2) @ _s(T)), repr(T.mm(T.arange(4.0).reshape(2, 2), _s(T)))],
    "T": lambda T: [repr(_s(T).T), repr(_s(T, requires_grad=True).T), repr(T.sparse_coo_tensor([[0]], [1.0]).T)],
    "bool of one": lambda T: bool(T.sparse_coo_tensor([[0]], [1.0], (1,))),
    "detach, data": lambda T: [repr(_s(T, requires_grad=True).detach()), repr(_s(T, requires_grad=True).data)],
    "to float64": lambda T: [repr(_s(T).double()), repr(_s(T).to(T.float64)), repr(_s(T).float())],
}

ERRORS = {
    "indices uncoalesced": lambda T: _s(T).indices(),
    "values uncoalesced": lambda T: _s(T).values(),
    "reshape": lambda T: _s(T).reshape(6),
    "add(sparse, dense)": lambda T: _s(T) + T.ones(2, 3),
    "sub(sparse, dense)": lambda T: _s(T) - T.ones(2, 3),
    "add sizes": lambda T: (
        T.sparse_coo_tensor([[0, 1], [1, 0]], [1.5, 2.0], (2, 2)) + T.sparse_coo_tensor([[0], [0]], [1.0], (2, 3))
    ),
    "dense + sparse sizes": lambda T: T.ones(2, 2) + _s(T),
    "nnz mismatch": lambda T: T.sparse_coo_tensor(_i(T), T.tensor([1.0, 2.0]), (2, 3)),
    "size length": lambda T: T.sparse_coo_tensor([[0, 1], [1, 0]], [1.5, 2.0], (2,)),
    "1-d indices": lambda T: T.sparse_coo_tensor([0, 1], [1.0, 2.0]),
    "numpy": lambda T: _s(T).numpy(),
    "item": lambda T: _s(T).item(),
    "tolist": lambda T: _s(T).tolist(),
    "sparse.mm sizes": lambda T: T.sparse.mm(_s(T), T.ones(2, 2)),
    "mm sizes": lambda T: T.mm(_s(T), T.ones(2, 2)),
    "mm dtypes": lambda T: T.mm(_s(T), T.ones(3, 2, dtype=T.float64)),
    "mm 1-d": lambda T: T.sparse_coo_tensor([[0, 1]], [[1.0, 2.0], [3, 4]]) @ T.ones(2, 2),
    "to_sparse(2) of 1-d": lambda T: T.zeros(2).to_sparse(2),
    "to_sparse(0)": lambda T: T.zeros(2, 3).to_sparse(0),
    "sparse.sum dim": lambda T: T.sparse.sum(_s(T), dim=2),
    "sparse.sum of dense": lambda T: T.sparse.sum(T.ones(2)),
    "sparse + number": lambda T: _s(T) + 1,
    "number + sparse": lambda T: 1 + _s(T),
    "add(sparse, number)": lambda T: _s(T).add(2),
    "contiguous": lambda T: _s(T).contiguous(),
    "bool": lambda T: bool(_s(T)),
}


def _text(T, fn):  # noqa: ANN001, ANN202
    r = outcome(fn, T)
    return r if isinstance(r, tuple) and r[:1] == (RAISED,) else str(r)


@pytest.mark.parametrize("name", CASES)
def test_values_and_printing_match_torch(name: str) -> None:
    fn = CASES[name]
    want = _text(torch, fn)
    assert not (isinstance(want, tuple) and want[0] == RAISED), want
    assert _text(engine, fn) == want


@pytest.mark.parametrize("name", ERRORS)
def test_errors_match_torch(name: str) -> None:
    fn = ERRORS[name]
    want = outcome(fn, torch)
    assert isinstance(want, tuple) and want[0] == RAISED, want
    assert outcome(fn, engine) == want


def test_view_refuses_with_torchs_first_sentences() -> None:
    got = outcome(lambda T: _s(T).view(6), engine)
    want = outcome(lambda T: _s(T).view(6), torch)
    assert got[1] == want[1] == "NotImplementedError"
    assert want[2].startswith(got[2])


@pytest.mark.parametrize(
    "op",
    [  # (exp, mean: torch's dispatcher error; relu, ** 2, * a tensor: covered; in tests/test_sparse_sparse21.py)
        lambda s: s[0],
        lambda s: s.max(),
        lambda s: engine.cat([s, s]),
        lambda s: s.unsqueeze(0),
        lambda s: engine.mm(s, s.t()),
        lambda s: s.new_zeros(2),
        lambda s: engine.zeros_like(s),
        lambda s: s.clone().requires_grad_().clone(),
        lambda s: s.stride(),
    ],
)
def test_uncovered_ops_refuse_clearly(op) -> None:  # noqa: ANN001
    """What the engine has no sparse version of raises one clear NotImplementedError (never dense numbers)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        s = _s(engine)
    with pytest.raises(NotImplementedError, match="not supported for sparse tensors") as info:
        op(s)
    assert type(info.value).__name__ == "NotImplementedError"


# ---- gradients -------------------------------------------------------------------------------------------------


def _grad_values_ctor(T):  # noqa: ANN001, ANN202
    v = T.tensor([3.0, 4.0, 5.0], requires_grad=True)
    s = T.sparse_coo_tensor(_i(T), v, (2, 3))
    d = s.to_dense()
    out = [repr(d)]
    d.sum().backward()
    out.append(repr(v.grad))
    v.grad = None
    w = T.tensor([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]], requires_grad=True)
    y = T.sparse.mm(T.sparse_coo_tensor(_i(T), v, (2, 3)), w)
    (y * T.tensor([[1.0, 2.0], [3.0, 4.0]])).sum().backward()
    out += [repr(y), repr(w.grad), repr(v.grad)]
    return out


def _grad_sparse_leaf(T):  # noqa: ANN001, ANN202
    L = _s(T, requires_grad=True)
    w = T.tensor([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]], requires_grad=True)
    out = []
    y = T.sparse.mm(L, w)
    y.sum().backward()
    out += [repr(L.grad), L.grad.is_coalesced(), repr(w.grad)]
    L.grad = None
    y = T.mm(L, w)
    y.sum().backward()
    out += [repr(y), repr(L.grad)]  # (torch.mm: a dense gradient for the sparse operand)
    L.grad = None
    L.to_dense().pow(2).sum().backward()
    out.append(repr(L.grad))
    T.sparse.mm(L, w).sum().backward()  # (accumulated: two sparse gradients added)
    out.append(repr(L.grad))
    return out


def _grad_through(T, fn):  # noqa: ANN001, ANN202
    L = _s(T, requires_grad=True)
    r = fn(T, L)
    r.backward()
    return [repr(r), repr(L.grad)]


GRADS = {
    "values through constructor and sparse.mm": _grad_values_ctor,
    "sparse leaf": _grad_sparse_leaf,
    "mul": lambda T: _grad_through(T, lambda T, L: (L * 2).to_dense().sum()),
    "div": lambda T: _grad_through(T, lambda T, L: (L / 4).to_dense().sum()),
    "sparse.sum": lambda T: _grad_through(T, lambda T, L: T.sparse.sum(L)),
    "sparse.sum dim": lambda T: _grad_through(T, lambda T, L: T.sparse.sum(L, dim=1).to_dense().sum()),
    "sum": lambda T: _grad_through(T, lambda T, L: L.sum()),
    "sum dim": lambda T: _grad_through(T, lambda T, L: (L.sum(0).to_dense() * T.tensor([1.0, 2.0, 3.0])).sum()),
    "add": lambda T: _grad_through(T, lambda T, L: (L + L).to_dense().sum()),
    "sub alpha": lambda T: _grad_through(T, lambda T, L: L.sub(L * 3, alpha=2).to_dense().pow(2).sum()),
    "t": lambda T: _grad_through(T, lambda T, L: L.t().to_dense()[0].sum()),
    "abs neg": lambda T: _grad_through(T, lambda T, L: L.abs().neg().to_dense().sum()),
    "coalesce values": lambda T: _grad_through(T, lambda T, L: (L.coalesce().values() * T.tensor([1.0, 5.0])).sum()),
    "dense + sparse": lambda T: _grad_through(T, lambda T, L: (T.ones(2, 3) + L).sum()),
    "dense @ sparse": lambda T: _grad_through(T, lambda T, L: (T.arange(4.0).reshape(2, 2) @ L).sum()),
    "to_sparse of dense": lambda T: _to_sparse_grad(T),
    "double": lambda T: _grad_through(T, lambda T, L: L.double().to_dense().sum()),
    "double repr": lambda T: [repr(_s(T, requires_grad=True).double())],
}


def _to_sparse_grad(T):  # noqa: ANN001, ANN202
    a = T.tensor([[0.0, 2.0], [3.0, 0.0]], requires_grad=True)
    sp = a.to_sparse()
    (sp * 3).to_dense().sum().backward()
    b = T.tensor([[0.0, 2.0], [3.0, 0.0]], requires_grad=True)
    sp1 = b.to_sparse(1)
    (sp1.to_dense() * T.tensor([[1.0, 2.0], [3.0, 4.0]])).sum().backward()
    return [repr(sp), repr(a.grad), repr(sp1), repr(b.grad)]


@pytest.mark.parametrize("name", GRADS)
def test_gradients_match_torch(name: str) -> None:
    fn = GRADS[name]
    want = _text(torch, fn)
    # (x.sum(dim).backward() on a sparse x: torch's backward refuses, "expand is unsupported for Sparse tensors")
    assert (isinstance(want, tuple) and want[0] == RAISED) == (name == "sum dim"), want
    assert _text(engine, fn) == want


def test_torch_sparse_names_and_not_covered() -> None:
    import engine.sparse_tensor  # noqa: F401 - (the module's name must not hide the layout's)

    assert isinstance(engine.sparse_coo, engine.layout)
    assert repr(engine.sparse_coo) == "torch.sparse_coo"
    with pytest.raises(AttributeError, match="torch.sparse.softmax is not in tcli's engine"):
        engine.sparse.softmax  # noqa: B018


def test_dense_hot_paths_untouched_by_sparse() -> None:
    """The dense ops still take their own path (no sparse module import on dense arithmetic)."""
    a, b = engine.ones(2, 2), engine.ones(2, 2)
    assert repr(engine.mm(a, b) + engine.add(a, b) * engine.mul(a, 2)) == repr(
        torch.mm(torch.ones(2, 2), torch.ones(2, 2)) + torch.add(torch.ones(2, 2), torch.ones(2, 2)) * 2
    )


# ---- tcli run ----------------------------------------------------------------------------------------------------

PROGRAM = """\
import torch

i = torch.tensor([[0, 1, 1], [2, 0, 2]])
v = torch.tensor([3.0, 4.0, 5.0], requires_grad=True)
s = torch.sparse_coo_tensor(i, v, (2, 3))
print(s)
print(s.layout, s.is_sparse, s.is_coalesced(), s._nnz(), s.sparse_dim(), s.dense_dim())
print(s._indices(), s._values())
d = s.to_dense()
print(d)
d.sum().backward()
print(v.grad)
w = torch.ones(3, 2, requires_grad=True)
L = torch.sparse_coo_tensor(i, torch.tensor([1.0, 2.0, 3.0]), size=(2, 3), requires_grad=True)
y = torch.sparse.mm(L, w)
print(y)
y.sum().backward()
print(L.grad)
print(w.grad)
print(torch.sparse.sum(L.detach(), dim=1))
print(L.detach().coalesce().indices(), (L.detach() * 2 + L.detach()).t())
x = torch.tensor([[0.0, 1.5], [0.0, 0.0]]).to_sparse()
print(x, x.shape, x.dtype)
print(torch.ones(2, 2) + x)
try:
    s.indices()
except RuntimeError as e:
    print("RuntimeError:", e)
"""


def test_tcli_run_prints_pytorchs_output(tmp_path: Path) -> None:
    script = tmp_path / "sparse.tsr"
    script.write_text(PROGRAM)
    tsr, ref = run_tsr_and_python(script)
    assert tsr.returncode == 0, tsr.stderr
    assert tsr.stdout == ref.stdout
    assert "UserWarning: Sparse invariant checks are implicitly disabled" in tsr.stderr


# ---- torch's bits ------------------------------------------------------------------------------------------------


def _bits_outcomes(T, seed: int, dt: str) -> dict:  # noqa: ANN001
    """Random sparse tensors with repeated indices (many more than 16 entries at times: torch's unstable sort
    orders the sums of a coalesce), through the covered arithmetic and its gradients."""
    import numpy as np

    rng = np.random.default_rng(seed)
    nnz, m, k, n = int(rng.integers(1, 120)), 6, 7, 3
    ind = np.stack([rng.integers(0, m, nnz), rng.integers(0, k, nnz)]).tolist()
    val, hv = rng.standard_normal(nnz).tolist(), rng.standard_normal((nnz, 2)).tolist()
    dd, ee, ff = (rng.standard_normal(s).tolist() for s in ((k, n), (m, k), (n, m)))
    tdt = getattr(T, dt)
    v = T.tensor(val, dtype=tdt, requires_grad=True)
    s = T.sparse_coo_tensor(T.tensor(ind), v, (m, k))
    d = T.tensor(dd, dtype=tdt, requires_grad=True)
    f = T.tensor(ff, dtype=tdt, requires_grad=True)
    e = T.tensor(ee, dtype=tdt)
    y = T.sparse.mm(s, d)
    (y * y).sum().backward()
    out = {"spmm": y, "d.grad": d.grad, "v.grad": v.grad}
    v.grad = None
    y2 = T.mm(f, T.sparse_coo_tensor(T.tensor(ind), v, (m, k)))
    (y2 * y2).sum().backward()
    out.update({"dense@sparse": y2, "f.grad": f.grad, "v.grad2": v.grad})
    sd = s.detach()
    hs = T.sparse_coo_tensor(T.tensor(ind[:1]), T.tensor(hv, dtype=tdt), (m, 2))
    out.update({
        "coalesce": sd.coalesce()._values(), "to_dense": sd.to_dense(), "mm": T.mm(sd, e.t()),
        "sub alpha": sd.sub(sd * 0.7, alpha=0.3).coalesce()._values(), "dense+sparse": T.add(e, sd, alpha=1.5),
        "dense+coalesced": T.add(e, sd.coalesce(), alpha=1.5), "sparse.sum": T.sparse.sum(sd),
        "sparse.sum 1": T.sparse.sum(sd, 1).to_dense(), "sum": sd.sum(), "hybrid sum 0": T.sparse.sum(hs, 0),
        "hybrid sum 1": T.sparse.sum(hs, 1).to_dense(), "hybrid coalesce": hs.coalesce()._values(),
    })  # fmt: skip
    return {key: t.detach().tolist() for key, t in out.items()}


@pytest.mark.parametrize("seed", range(6))
def test_bits_match_torch(seed: int) -> None:
    dt = "float64" if seed % 3 == 2 else "float32"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        want, got = _bits_outcomes(torch, seed, dt), _bits_outcomes(engine, seed, dt)
    for key in want:
        assert got[key] == want[key], key


def test_sort_order_is_torchs() -> None:
    """The order the coalesce sums repeated indices in: torch's cpu sort (std::sort below 32768 elements)."""
    import numpy as np

    from engine.ops.std_sort import sort_perm

    rng = np.random.default_rng(0)
    for n in (3, 16, 17, 40, 333, 2000, 40000):
        keys = rng.integers(0, max(2, n // 3), n)
        assert sort_perm(keys).tolist() == torch.tensor(keys).sort(0)[1].tolist(), n
