"""Sparse COO gradients and functional forms (sparse21): nn.Embedding(sparse=True)/F.embedding(sparse=True) give the
weight torch's sparse gradient (printing, coalesce, to_dense, accumulation over backward calls, zero_grad), the
optimizers take it as torch's do (SGD updates, the others refuse with torch's message), and torch.<op>(sparse)
computes or refuses as torch 2.13 does; each compared with PyTorch as text or as its error (type and message)."""

from __future__ import annotations

import pytest
from helpers import RAISED, outcome

import engine

torch = pytest.importorskip("torch")


def _emb(T, n=5, d=3, **kw):  # noqa: ANN001, ANN003, ANN202
    T.manual_seed(0)
    return T.nn.Embedding(n, d, sparse=True, **kw)


def _grad_after(T, *batches, **kw):  # noqa: ANN001, ANN002, ANN003, ANN202
    e = _emb(T, **kw)
    for k, b in enumerate(batches):
        e(b if isinstance(b, T.Tensor) else T.tensor(b)).mul(k + 1).sum().backward()
    return e.weight.grad


def _trained(T, opt_fn, steps=2, batches=([[1, 2, 1], [4, 0, 1]], [3, 1])):  # noqa: ANN001, ANN202
    e = _emb(T)
    opt = opt_fn(T, e.parameters())
    for _ in range(steps):
        for b in batches:
            opt.zero_grad()
            (e(T.tensor(b)) ** 2).sum().backward()
            opt.step()
    return [repr(e.weight), repr(opt.state_dict()["state"])]


def _mixed(T, opt_fn):  # noqa: ANN001, ANN202
    """A dense layer around a sparse embedding: the dense parameters' updates, before and after the sparse one."""
    T.manual_seed(1)
    lin0 = T.nn.Linear(2, 3)
    e = T.nn.Embedding(4, 3, sparse=True)
    lin = T.nn.Linear(3, 1)
    opt = opt_fn(T, [*lin0.parameters(), e.weight, *lin.parameters()])
    for _ in range(2):
        opt.zero_grad()
        lin(e(T.tensor([1, 3, 1])) + lin0(T.ones(3, 2))).pow(2).sum().backward()
        opt.step()
    return [repr(p) for p in [*lin0.parameters(), e.weight, *lin.parameters()]]


CASES = {
    "grad_fn": lambda T: type(_emb(T)(T.tensor([1])).grad_fn).__name__,
    "weight grad": lambda T: repr(_grad_after(T, [[1, 2, 1], [4, 0, 1]])),
    "weight grad facts": lambda T: [
        (g := _grad_after(T, [[1, 2, 1], [4, 0, 1]])).is_sparse,
        g.is_coalesced(),
        repr(g.layout),
        g._nnz(),
        g.sparse_dim(),
        g.dense_dim(),
        repr(g.shape),
    ],
    "coalesce": lambda T: repr(_grad_after(T, [[1, 2, 1], [4, 0, 1]]).coalesce()),
    "to_dense": lambda T: repr(_grad_after(T, [[1, 2, 1], [4, 0, 1]]).to_dense()),
    "two backward calls, same rows": lambda T: repr(_grad_after(T, [[1, 2, 1], [4, 0, 1]], [[1, 2, 1], [4, 0, 1]])),
    "two backward calls, other rows": lambda T: repr(_grad_after(T, [3, 1], [0, 1, 4])),
    "three backward calls": lambda T: repr(_grad_after(T, [3], [0, 3], [2])),
    "padding_idx": lambda T: repr(_grad_after(T, [0, 1, 0, 2], n=4, d=2, padding_idx=0)),
    "padding_idx negative": lambda T: repr(_grad_after(T, [0, 3, 1], n=4, d=2, padding_idx=-1)),
    "empty batch": lambda T: repr(_grad_after(T, T.tensor([], dtype=T.long))),
    "float64": lambda T: repr(_grad_after(T, [[0, 2]], n=3, d=2, dtype=T.float64)),
    "module repr": lambda T: repr(_emb(T)),
    "F.embedding": lambda T: repr(_f_embedding_grad(T)),
    "sparse then dense grad": lambda T: repr(_sparse_then_dense(T)),
    "dense then sparse grad": lambda T: repr(_dense_then_sparse(T)),
    "used twice in one graph": lambda T: repr(_twice(T)),
    "used twice, other order": lambda T: repr(_twice(T, [2, 1], [4, 0, 2])),
    "two plain backward calls": lambda T: repr(_plain_twice(T, [1, 2], [2, 4])),
    "plain then scaled backward": lambda T: repr(_plain_twice(T, [1, 2], [2, 4], 2.0)),
    "plain backward calls past numel": lambda T: repr(_plain_twice(T, [1, 1, 1], [1, 1, 0], n=2)),
    "autograd.grad": lambda T: repr(_autograd_grad(T)),
    "zero_grad": lambda T: [repr(_zero_grad(T, True)), repr(_zero_grad(T, False))],
    "SGD": lambda T: _trained(T, lambda T, p: T.optim.SGD(p, lr=0.1)),
    "SGD momentum": lambda T: _trained(T, lambda T, p: T.optim.SGD(p, lr=0.1, momentum=0.9)),
    "SGD nesterov dampening": lambda T: _trained(
        T, lambda T, p: T.optim.SGD(p, lr=0.1, momentum=0.9, nesterov=True), 3
    ),
    "SGD dampening": lambda T: _trained(T, lambda T, p: T.optim.SGD(p, lr=0.05, momentum=0.5, dampening=0.3)),
    "SGD maximize": lambda T: _trained(T, lambda T, p: T.optim.SGD(p, lr=0.1, maximize=True)),
    "SGD mixed model": lambda T: _mixed(T, lambda T, p: T.optim.SGD(p, lr=0.1)),
    "SGD mixed model momentum": lambda T: _mixed(T, lambda T, p: T.optim.SGD(p, lr=0.1, momentum=0.9)),
}


def _f_embedding_grad(T):  # noqa: ANN001, ANN202
    w = T.ones(4, 2, requires_grad=True)
    T.nn.functional.embedding(T.tensor([2, 2, 0]), w, sparse=True).mul(T.tensor([1.5, -2.0])).sum().backward()
    return w.grad


def _sparse_then_dense(T):  # noqa: ANN001, ANN202
    w = T.ones(3, 2, requires_grad=True)
    T.nn.functional.embedding(T.tensor([1]), w, sparse=True).sum().backward()
    (w * 2).sum().backward()
    return w.grad


def _dense_then_sparse(T):  # noqa: ANN001, ANN202
    w = T.ones(3, 2, requires_grad=True)
    (w * 2).sum().backward()
    T.nn.functional.embedding(T.tensor([1]), w, sparse=True).sum().backward()
    return w.grad


def _twice(T, a=(1, 2), b=(2, 4)):  # noqa: ANN001, ANN202
    e = _emb(T)
    (e(T.tensor(a)).sum() + e(T.tensor(b)).mul(3).sum()).backward()
    return e.weight.grad


def _plain_twice(T, a, b, k=None, n=5):  # noqa: ANN001, ANN202
    """Gradients of sum() (expanded ones: values that are not contiguous, which torch's add concatenates)."""
    e = _emb(T, n=n)
    e(T.tensor(a)).sum().backward()
    (e(T.tensor(b)).sum() if k is None else e(T.tensor(b)).sum() * k).backward()
    return e.weight.grad


def _autograd_grad(T):  # noqa: ANN001, ANN202
    w = T.ones(3, 2, requires_grad=True)
    return T.autograd.grad(T.nn.functional.embedding(T.tensor([1, 0]), w, sparse=True).sum(), w)


def _zero_grad(T, set_to_none):  # noqa: ANN001, ANN202
    e = _emb(T)
    opt = T.optim.SGD(e.parameters(), lr=0.1)
    e(T.tensor([1, 3])).sum().backward()
    opt.zero_grad(set_to_none=set_to_none)
    return e.weight.grad


def _refusing(name):  # noqa: ANN001, ANN202
    return lambda T: _trained(T, lambda T, p: getattr(T.optim, name)(p))


ERRORS = {
    "scale_grad_by_freq": lambda T: _grad_after(T, [1, 1, 2], scale_grad_by_freq=True),
    "SGD weight_decay": lambda T: _trained(T, lambda T, p: T.optim.SGD(p, lr=0.1, weight_decay=0.1)),
    **{
        f"{name} refuses": _refusing(name)
        for name in ("Adam", "AdamW", "Adadelta", "Adafactor", "Adamax", "ASGD", "NAdam", "RAdam", "RMSprop", "Rprop")
    },
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
