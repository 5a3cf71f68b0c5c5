"""Sparse COO gradients and functional forms (sparse21): nn.Embedding(sparse=True)/F.embedding(sparse=True) give the
weight torch's sparse gradient (printing, coalesce, to_dense, accumulation over backward calls, zero_grad), the
optimizers take it as torch's do (SGD updates, the others refuse with torch's message), and torch.<op>(sparse)
computes or refuses as torch 2.13 does; each compared with PyTorch as text or as its error (type and message)."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import RAISED, outcome, run_tsr_and_python

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


def _double(T, params):  # noqa: ANN001, ANN202
    p = next(iter(params))
    with T.no_grad():
        p.data = p.data.double()
    return p


def _emb_with_grad(T):  # noqa: ANN001, ANN202
    e = _emb(T)
    e(T.tensor([1, 2, 1])).pow(2).sum().backward()
    return e


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
    "SparseAdam": lambda T: _trained(T, lambda T, p: T.optim.SparseAdam(p, lr=0.1)),
    "SparseAdam 3 steps, betas, eps": lambda T: _trained(
        T, lambda T, p: T.optim.SparseAdam(p, lr=0.05, betas=(0.8, 0.9), eps=1e-6), 3
    ),
    "SparseAdam maximize": lambda T: _trained(T, lambda T, p: T.optim.SparseAdam(p, lr=0.1, maximize=True)),
    "SparseAdam float64": lambda T: _trained(T, lambda T, p: T.optim.SparseAdam([_double(T, p)], lr=0.1)),
    "SparseAdam repr, state_dict": lambda T: [
        repr(T.optim.SparseAdam(_emb(T).parameters())),
        str(T.optim.SparseAdam(_emb(T).parameters()).state_dict()),
    ],
    "Adagrad": lambda T: _trained(T, lambda T, p: T.optim.Adagrad(p, lr=0.1)),
    "Adagrad lr_decay, eps, initial_accumulator_value, maximize": lambda T: _trained(
        T,
        lambda T, p: T.optim.Adagrad(p, lr=0.2, lr_decay=0.1, eps=1e-6, initial_accumulator_value=0.5, maximize=True),
        3,
    ),
    "Adagrad mixed model": lambda T: _mixed(T, lambda T, p: T.optim.Adagrad(p, lr=0.1)),
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
    "Adagrad weight_decay": lambda T: _trained(T, lambda T, p: T.optim.Adagrad(p, weight_decay=0.1)),
    "SparseAdam dense grads": lambda T: _mixed(T, lambda T, p: T.optim.SparseAdam(p)),
    "SparseAdam sparse params": lambda T: T.optim.SparseAdam([T.zeros(2, 2).to_sparse().requires_grad_()]),
    "SparseAdam lr": lambda T: T.optim.SparseAdam(_emb(T).parameters(), lr=0.0),
    "SparseAdam beta": lambda T: T.optim.SparseAdam(_emb(T).parameters(), betas=(1.0, 0.9)),
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


# ---- torch.<op>(sparse) ---------------------------------------------------------------------------------------


def _u(T, rg=False):  # noqa: ANN001, ANN202
    """An uncoalesced sparse tensor ((1, 2) twice) with a negative value."""
    return T.sparse_coo_tensor([[1, 0, 1], [2, 0, 2]], T.tensor([0.3, -0.4, 0.5]), (2, 3), requires_grad=rg)


def _h(T, rg=False):  # noqa: ANN001, ANN202
    """A hybrid one (a dense dim of 2), (0, 1) twice."""
    return T.sparse_coo_tensor([[0, 1, 0], [1, 2, 1]], T.arange(6.0).reshape(3, 2) / 4 - 0.5, (2, 3, 2),
                               requires_grad=rg)  # fmt: skip


def _grad_of(T, fn, make=_u):  # noqa: ANN001, ANN202
    s = make(T, True)
    r = fn(T, s)
    r = r.to_dense() if r.is_sparse else r
    r.sum().backward()
    return s.grad


def _torch_op(n, make=_u):  # noqa: ANN001, ANN202
    return lambda T: getattr(T, n)(make(T))


def _method_op(n):  # noqa: ANN001, ANN202
    return lambda T: getattr(_u(T), n)()


def _grad_op(n):  # noqa: ANN001, ANN202
    return lambda T: _grad_of(T, lambda T, s: getattr(T, n)(s))


def _summed(n, sparse=False):  # noqa: ANN001, ANN202
    """torch.<n>(s) summed: by sum() (a dense gradient back into the op) or torch.sparse.sum (a sparse one)."""
    return lambda T, s: T.sparse.sum(getattr(T, n)(s)) if sparse else getattr(T, n)(s).sum()


SUPPORTED = ["abs", "relu", "sign", "floor", "ceil", "round", "trunc", "fix", "frac", "log1p", "square", "deg2rad",
             "rad2deg", "sqrt", "sin", "sinh", "tanh", "erf", "erfinv", "sgn", "nan_to_num", "expm1", "asin", "atan",
             "asinh", "tan", "atanh", "signbit", "isnan", "isinf", "isposinf", "isneginf"]  # fmt: skip
GRADS = ["abs", "relu", "sign", "floor", "ceil", "round", "trunc", "fix", "frac", "log1p", "square", "deg2rad",
         "rad2deg"]  # fmt: skip
UNSUPPORTED = ["exp", "cos", "log", "log2", "log10", "sigmoid", "rsqrt", "cosh", "acos", "reciprocal", "exp2",
               "acosh"]  # fmt: skip

OPS = {
    **{f"torch.{n}": _torch_op(n) for n in SUPPORTED},
    **{f"torch.{n} hybrid": _torch_op(n, _h) for n in SUPPORTED},
    **{f"Tensor.{n}": _method_op(n) for n in SUPPORTED if n != "fix"},
    **{f"torch.{n} grad": _grad_op(n) for n in GRADS},  # fmt: skip
    "grad_fn names": lambda T: [
        type(getattr(T, n)(_u(T, True)).grad_fn).__name__ for n in SUPPORTED if not n.startswith(("is", "signbit"))
    ],  # fmt: skip
    "int sqrt, sin, sign, floor": lambda T: [
        repr(getattr(T, n)(T.sparse_coo_tensor([[0, 1]], [-4, 9], (3,)))) for n in ("sqrt", "sin", "sign", "floor")
    ],
    "nan_to_num values": lambda T: repr(
        T.nan_to_num(T.sparse_coo_tensor([[0, 1, 2]], [float("nan"), float("inf"), -1.0]), nan=2.0, posinf=5.0)
    ),
    "F.relu": lambda T: repr(T.nn.functional.relu(_u(T))),
    "grads from a dense sum()": lambda T: [
        repr(_grad_of(T, _summed(n))) for n in ("abs", "floor", "frac", "log1p", "square", "deg2rad", "neg")
    ],
    "pow grad from a dense sum()": lambda T: repr(_grad_of(T, lambda T, s: T.pow(s, 3).sum())),
    "grads from torch.sparse.sum": lambda T: [
        repr(_grad_of(T, _summed(n, sparse=True))) for n in ("relu", "abs", "floor", "log1p")
    ],
    "embedding max_norm sparse": lambda T: [
        repr(_grad_after(T, [1, 2, 1], max_norm=1.0)),
        repr(_emb(T, max_norm=1.0).weight.grad),
    ],  # fmt: skip
    "abs grad hybrid": lambda T: repr(_grad_of(T, lambda T, s: T.abs(s), _h)),
    "relu grad hybrid": lambda T: repr(_grad_of(T, lambda T, s: T.relu(s), _h)),
    "neg": lambda T: [repr(T.neg(_u(T))), repr(T.negative(_u(T)))],
    "neg grad": lambda T: repr(_grad_of(T, lambda T, s: T.neg(s))),
    "pow": lambda T: [repr(T.pow(_u(T), 2)), repr(_u(T) ** 3), repr(_u(T).pow(-1)), repr(T.pow(_u(T), 2.5))],
    "pow grad": lambda T: [repr(_grad_of(T, lambda T, s: T.pow(s, 2))), repr(_grad_of(T, lambda T, s: s**3))],
    "pow grad_fn": lambda T: type(T.pow(_u(T, True), 2).grad_fn).__name__,
    "sum": lambda T: [repr(T.sum(_u(T))), repr(T.sum(_u(T), 0)), repr(T.sum(_u(T), dim=1)), repr(T.sum(_u(T), (0, 1)))],
    "sum dtype": lambda T: [repr(T.sum(_u(T), dtype=T.float64)), repr(T.sum(_u(T), 1, dtype=T.float64))],
    "sum int": lambda T: [
        repr(T.sparse_coo_tensor([[0, 1], [1, 2]], [1, 2], (2, 3)).sum()),
        repr(T.sum(T.sparse_coo_tensor([[0, 1], [1, 2]], [1, 2], (2, 3)), 0)),
    ],  # fmt: skip
    "sum keepdim": lambda T: [
        repr(_u(T).sum(0, keepdim=True)),
        repr(_u(T).sum(1, keepdim=True)),
        repr(_u(T).sum((0, 1), keepdim=True)),
        repr(_u(T).sum(dim=None, keepdim=True)),
        repr(T.sum(_u(T), 0, keepdim=True)),
    ],
    "sum keepdim hybrid": lambda T: [
        repr(_h(T).sum(2, keepdim=True)),
        repr(_h(T).sum(0, keepdim=True)),
        repr(_h(T).sum((0, 1), keepdim=True)),
        repr(_h(T).sum((0, 2), keepdim=True)),
        repr(_h(T).sum(dim=None, keepdim=True)),
    ],
    "sum dims hybrid": lambda T: [repr(_h(T).sum(-1)), repr(_h(T).sum((0, 1))), repr(_h(T).sum(1))],
    "sum grads, dense results": lambda T: [
        repr(_grad_of(T, lambda T, s: s.sum((0, 1)))),
        repr(_grad_of(T, lambda T, s: s.sum((0, 1)), _h)),
        repr(_grad_of(T, lambda T, s: s.sum((0, 1), keepdim=True), _h)),
        repr(_grad_of(T, lambda T, s: s.sum(dim=None, keepdim=True))),
        repr(_grad_of(T, lambda T, s: s.sum((0, 1, 2)), _h)),
    ],
    "sum keepdim grad_fn": lambda T: [
        type(_u(T, True).sum(0, keepdim=True).grad_fn).__name__,
        type(_u(T, True).sum(dim=None, keepdim=True).grad_fn).__name__,
    ],
    "t, transpose": lambda T: [repr(T.t(_u(T))), repr(T.transpose(_u(T), 0, 1)), repr(T.transpose(_h(T), 0, 1))],
    "t grad": lambda T: repr(_grad_of(T, lambda T, s: T.t(s))),
    "add, sub, mul, div": lambda T: [
        repr(T.add(_u(T), _u(T), alpha=2)),
        repr(T.sub(_u(T), _u(T))),
        repr(T.sub(T.ones(2, 3), _u(T))),
        repr(T.mul(_u(T), 2)),
        repr(T.mul(_u(T), T.tensor(2.0))),
        repr(T.div(_u(T), 2)),
        repr(T.true_divide(_u(T), 2)),
    ],
}


def _a(T, rg=False):  # noqa: ANN001, ANN202
    """Four entries, (1, 2) twice."""
    return T.sparse_coo_tensor([[1, 0, 1, 0], [2, 0, 2, 1]], T.tensor([0.3, -0.4, 0.5, 2.0]), (2, 3), requires_grad=rg)


def _c(T, rg=False):  # noqa: ANN001, ANN202
    return T.sparse_coo_tensor([[1, 0], [2, 0]], T.tensor([3.0, 4.0]), (2, 3), requires_grad=rg)


def _d(T, rg=False):  # noqa: ANN001, ANN202
    return T.arange(1.0, 7.0).reshape(2, 3).requires_grad_(rg)


def _facts(r):  # noqa: ANN001, ANN202
    return [repr(r), r.is_coalesced(), repr(r.dtype), type(r.grad_fn).__name__]


def _both_grads(T, x, y, fn):  # noqa: ANN001, ANN202
    r = fn(x, y)
    (r.to_dense() if r.is_sparse else r).sum().backward()
    return [repr(x.grad), repr(y.grad)]


MUL = {
    "sparse * dense": lambda T: _facts(_a(T, True) * _d(T)),
    "dense * sparse": lambda T: _facts(_d(T) * _a(T)),
    "torch.mul(dense, sparse)": lambda T: _facts(T.mul(_d(T), _a(T))),
    "coalesced * dense": lambda T: _facts(_a(T).coalesce() * _d(T)),
    "sparse * float64": lambda T: _facts(_a(T) * T.ones(2, 3, dtype=T.float64)),
    "int sparse * float": lambda T: _facts(T.sparse_coo_tensor([[0]], [2], (3,)) * T.tensor([1.5, 2, 3])),
    "hybrid * dense, * row": lambda T: [
        repr(_h(T) * T.arange(12.0).reshape(2, 3, 2)),
        repr(_h(T) * T.tensor([1.0, 10.0])),
    ],
    "sparse * broadcast": lambda T: [repr(_a(T) * T.tensor([1.0, 2.0, 3.0])), repr(_a(T) * T.ones(2, 1))],
    "sparse * sparse": lambda T: [_facts(_a(T) * _c(T)), _facts(_c(T) * _a(T)), _facts(_a(T) * _a(T))],
    "sparse * sparse, coalesced ones": lambda T: [
        _facts(_a(T).coalesce() * _c(T)),
        _facts(_a(T).coalesce() * _c(T).coalesce()),
        _facts(_a(T) * _c(T).coalesce()),
    ],
    "sparse * sparse, tie and missing": lambda T: [
        _facts(
            T.sparse_coo_tensor([[0, 1], [0, 0]], [2.0, 3.0], (2, 3))
            * T.sparse_coo_tensor([[1, 1], [2, 0]], [5.0, 7.0], (2, 3))
        ),
    ],  # fmt: skip
    "grad_fn": lambda T: [
        type((_a(T, True) * _c(T, True)).grad_fn).__name__,
        type((_d(T, True) * _a(T)).grad_fn).__name__,
    ],  # fmt: skip
    "sparse * dense grads": lambda T: _both_grads(T, _a(T, True), _d(T, True), lambda x, y: x * y),
    "dense * sparse grads": lambda T: _both_grads(T, _d(T, True), _a(T, True), lambda x, y: x * y),
    "sparse * sparse grads": lambda T: _both_grads(T, _a(T, True), _c(T, True), lambda x, y: x * y),
    "sparse * sparse grads, sparse.sum": lambda T: _both_grads(
        T, _a(T, True), _c(T, True), lambda x, y: T.sparse.sum(x * y)
    ),
    "leaf grad not coalesced": lambda T: [
        _grad_of(T, lambda T, s: s * 2).is_coalesced(),
        _grad_of(T, lambda T, s: s.coalesce()).is_coalesced(),
    ],  # fmt: skip
    "div by 0-d tensor": lambda T: repr(_a(T) / T.tensor(2.0)),
    "norm": lambda T: [
        repr(_u(T).norm()),
        repr(_u(T).norm(1)),
        repr(_u(T).norm(p=3)),
        repr(T.norm(_u(T))),
        repr(_u(T).norm(dim=(0, 1))),
        repr(_u(T).double().norm()),
        type(_u(T, True).norm().grad_fn).__name__,
    ],  # fmt: skip
    "embedding grad norm": lambda T: repr(_grad_after(T, [1, 2, 1]).norm()),
}

OP_ERRORS = {
    "sparse * hybrid": lambda T: _a(T) * _h(T),
    "sparse * dense sizes": lambda T: _a(T) * T.ones(3, 3),
    "sparse / dense": lambda T: _a(T) / _d(T),
    "norm dim": lambda T: _u(T).norm(dim=0),
    "norm fro dtype": lambda T: _u(T).norm(dtype=T.float64),
    "norm dtype": lambda T: _u(T).norm(2, dtype=T.float64),
    "norm keepdim": lambda T: _u(T).norm(dim=(0, 1), keepdim=True),
    "sparse / sparse": lambda T: _a(T) / _a(T),
    "pow 0": lambda T: T.pow(_u(T), 0),
    "neg bool": lambda T: T.neg(T.sparse_coo_tensor([[0, 1]], [True, False], (3,))),
    "sum dim grad": lambda T: _grad_of(T, lambda T, s: s.sum(0)),
    "sum keepdim grad": lambda T: _grad_of(T, lambda T, s: s.sum(0, keepdim=True)),
    "sparse.sum keepdim": lambda T: T.sparse.sum(_u(T), 0, keepdim=True),
    **{f"{n} grad": _grad_op(n) for n in ("sqrt", "expm1", "asin", "atan", "asinh", "tan", "atanh")},
}

# torch's dispatcher errors: NotImplementedError, "Could not run 'aten::<op>' with arguments from the 'SparseCPU'
# backend. ..." then a list of backends and build paths; the engine gives the first sentences (compared as a prefix)
NOT_RUN = {
    **{f"torch.{n}": _torch_op(n) for n in UNSUPPORTED},
    **{f"Tensor.{n}": _method_op(n) for n in UNSUPPORTED},
    **{f"{n} grad": _grad_op(n) for n in ("sin", "sinh", "tanh", "erf", "erfinv", "sgn", "nan_to_num")},
    "pow tensor exponent": lambda T: T.pow(_u(T), T.tensor(2.0)),
    "round decimals": lambda T: T.round(_u(T), decimals=1),
    "number ** sparse": lambda T: 2 ** _u(T),
    "mean": lambda T: _u(T).mean(),
    "clamp": lambda T: _u(T).clamp(min=0.0),
    "clamp_": lambda T: _u(T).clamp_(max=1.0),
    "clip_grad_norm_": lambda T: T.nn.utils.clip_grad_norm_(_emb_with_grad(T).parameters(), 0.5),
    "clip_grad_value_": lambda T: T.nn.utils.clip_grad_value_(_emb_with_grad(T).parameters(), 0.1),
    "relu grad from a dense sum()": lambda T: _grad_of(T, _summed("relu")),
    "sparse * broadcast dense grad": lambda T: _both_grads(
        T, _a(T, True), T.ones(3, requires_grad=True), lambda x, y: x * y
    ),
}


@pytest.mark.parametrize("name", OPS)
def test_ops_match_torch(name: str) -> None:
    fn = OPS[name]
    want = _text(torch, fn)
    assert not (isinstance(want, tuple) and want[0] == RAISED), want
    assert _text(engine, fn) == want


@pytest.mark.parametrize("name", MUL)
def test_products_match_torch(name: str) -> None:
    fn = MUL[name]
    want = _text(torch, fn)
    assert not (isinstance(want, tuple) and want[0] == RAISED), want
    assert _text(engine, fn) == want


@pytest.mark.parametrize("name", OP_ERRORS)
def test_op_errors_match_torch(name: str) -> None:
    fn = OP_ERRORS[name]
    want = outcome(fn, torch)
    assert isinstance(want, tuple) and want[0] == RAISED, want
    assert outcome(fn, engine) == want


@pytest.mark.parametrize("name", NOT_RUN)
def test_unsupported_ops_raise_torchs_dispatcher_error(name: str) -> None:
    fn = NOT_RUN[name]
    want = outcome(fn, torch)
    got = outcome(fn, engine)
    assert want[:2] == got[:2] == (RAISED, "NotImplementedError"), (want, got)
    assert got[2].startswith("Could not run 'aten::"), got
    assert want[2].startswith(got[2]), (want, got)


PROGRAM = """\
import torch
torch.manual_seed(0)
emb = torch.nn.Embedding(5, 3, sparse=True)
opt = torch.optim.SGD(emb.parameters(), lr=0.1, momentum=0.9)
x = torch.tensor([[1, 2, 1], [4, 0, 1]])
for step in range(2):
    opt.zero_grad()
    loss = emb(x).pow(2).sum()
    loss.backward()
    g = emb.weight.grad
    print(g.is_sparse, g.is_coalesced(), g)
    print(g.coalesce(), g.to_dense())
    opt.step()
print(emb.weight)
adam = torch.optim.SparseAdam(emb.parameters(), lr=0.1)
emb(torch.tensor([3, 1, 3])).sum().backward()
adam.step()
print(emb.weight.data)
try:
    torch.optim.Adam(emb.parameters()).step()
except RuntimeError as e:
    print("RuntimeError:", e)
s = torch.sparse_coo_tensor([[1, 0, 1], [2, 0, 2]], torch.tensor([0.3, -0.4, 0.5]), (2, 3))
print(torch.relu(s), torch.sqrt(s.abs()), torch.pow(s, 2))
print(s.sum(0, keepdim=True), torch.sum(s, 1), s * torch.ones(2, 3))
try:
    torch.exp(s)
except NotImplementedError as e:
    print(str(e)[:60])
"""


def test_tcli_run_prints_pytorchs_output(tmp_path: Path) -> None:
    script = tmp_path / "sparse21.tsr"
    script.write_text(PROGRAM)
    tsr, ref = run_tsr_and_python(script)
    assert tsr.returncode == 0, tsr.stderr
    assert tsr.stdout == ref.stdout
