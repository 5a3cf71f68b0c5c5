"""gradcheck and gradgradcheck (engine.autograd) in float64 for every differentiable op, and the
checker itself against torch.autograd.gradcheck: same verdicts, same error messages."""

from __future__ import annotations

import warnings

import helpers
import numpy as np
import pytest
import torch
from helpers import make

import engine
from engine.autograd import gradcheck, gradgradcheck
from engine.gradcheck import GradcheckError

# every test runs once per device: [cpu] and [cuda] (skipped without a GPU; see conftest.py)
pytestmark = pytest.mark.usefixtures("device")


def _t(shape: tuple, low: float = -2.0, high: float = 2.0, seed: int = 0) -> engine.Tensor:
    return engine.tensor(make(shape, "float64", low, high, seed=seed), requires_grad=True)


def _away_from_zero(shape: tuple, seed: int = 0) -> engine.Tensor:
    a = make(shape, "float64", 0.3, 2.0, seed=seed) * np.where(make(shape, "bool", seed=seed + 7), 1, -1)
    return engine.tensor(a, requires_grad=True)


def _distinct(shape: tuple, seed: int = 0) -> engine.Tensor:
    """Values far apart (no ties, no kinks within eps): a shuffled grid."""
    n = int(np.prod(shape)) if shape else 1
    a = np.random.default_rng(seed).permutation(n).astype(np.float64) * 0.37 - n * 0.15
    return engine.tensor(a.reshape(shape), requires_grad=True)


POS = (0.3, 2.0)
UNARY = {
    "exp": None, "expm1": None, "log": POS, "log1p": (-0.5, 2.0), "log2": POS, "log10": POS, "sqrt": POS,
    "rsqrt": POS, "square": None, "reciprocal": POS, "sin": None, "cos": None, "tan": (-1.0, 1.0),
    "tanh": None,
    "sigmoid": None, "neg": None, "sign": None, "floor": None, "ceil": None, "round": None,
}  # fmt: skip


@pytest.mark.parametrize("name", list(UNARY))
def test_unary(name: str) -> None:
    dom = UNARY[name]
    x = _t((2, 3), *dom) if dom else _t((2, 3))
    if name in ("floor", "ceil", "round", "sign"):
        x = _away_from_zero((2, 3))  # away from the jumps
        x = engine.tensor(x.detach().cpu().numpy() + 0.25, requires_grad=True)
    fn = getattr(engine, name)
    assert gradcheck(fn, (x,))
    assert gradgradcheck(fn, (x,))


@pytest.mark.parametrize("name", ["relu", "abs"])
def test_kinked_unary(name: str) -> None:
    x = _away_from_zero((2, 3))
    assert gradcheck(getattr(engine, name), (x,))
    assert gradgradcheck(getattr(engine, name), (x,))


BINARY = {
    "add": lambda a, b: a + b,
    "sub": lambda a, b: a - b,
    "mul": lambda a, b: a * b,
    "div": lambda a, b: a / b,
    "pow": lambda a, b: a**b,
    "atan2": lambda a, b: engine.atan2(a, b),
    "maximum": lambda a, b: engine.maximum(a, b),
    "minimum": lambda a, b: engine.minimum(a, b),
    "add_alpha": lambda a, b: engine.add(a, b, alpha=2.5),
    "sub_alpha": lambda a, b: engine.sub(a, b, alpha=-1.5),
    "remainder": lambda a, b: a % b,
    "fmod": lambda a, b: engine.fmod(a, b),
    "fmod_scalar": lambda a, b: engine.fmod(a, 0.7) + b,
    "div_floor": lambda a, b: engine.div(a, b, rounding_mode="floor"),
    "div_trunc": lambda a, b: engine.div(a, b, rounding_mode="trunc"),
    "rsub_scalar": lambda a, b: 2.5 - a + b,
    "rdiv_scalar": lambda a, b: 2.0 / a + b,
    "rpow_scalar": lambda a, b: 1.7**a * b,
    "pow_scalar": lambda a, b: a**3 + b**0.5,
}


@pytest.mark.parametrize("name", list(BINARY))
@pytest.mark.parametrize("shapes", [((2, 3), (2, 3)), ((2, 3), (3,)), ((1, 3), (2, 1)), ((), (2,))], ids=str)
def test_binary(name: str, shapes: tuple) -> None:
    s1, s2 = shapes
    if name in ("pow", "rpow_scalar", "pow_scalar", "div", "rdiv_scalar"):
        a, b = _t(s1, *POS, seed=1), _t(s2, *POS, seed=2)
    elif name in ("maximum", "minimum"):
        a, b = _distinct(s1, 1), engine.tensor(_distinct(s2, 2).detach().cpu().numpy() + 0.11, requires_grad=True)
    elif name in ("remainder", "div_floor", "div_trunc", "fmod", "fmod_scalar"):
        a, b = _t(s1, 0.1, 0.9, seed=1), _t(s2, 1.5, 2.5, seed=2)  # away from the jumps
    else:
        a, b = _t(s1, seed=1), _t(s2, seed=2)
    assert gradcheck(BINARY[name], (a, b))
    assert gradgradcheck(BINARY[name], (a, b))


TERNARY = {
    "addcmul": lambda a, b, c: engine.addcmul(a, b, c, value=0.5),
    "addcdiv": lambda a, b, c: engine.addcdiv(a, b, c, value=-2),
    "clamp_tensors": lambda a, b, c: engine.clamp(a, b - 1.0, c + 1.0),
    "where": lambda a, b, c: engine.where(c > 1.2, a, b),
}


@pytest.mark.parametrize("name", list(TERNARY))
def test_ternary(name: str) -> None:
    a, b, c = _distinct((2, 3), 1), _t((3,), seed=2), _t((2, 1), *POS, seed=3)
    assert gradcheck(TERNARY[name], (a, b, c))
    assert gradgradcheck(TERNARY[name], (a, b, c))


def test_clamp_scalar_bounds() -> None:
    x = _distinct((3, 4))
    for lo, hi in ((-1.0, 1.0), (None, 0.5), (-0.5, None)):
        assert gradcheck(lambda a, lo=lo, hi=hi: engine.clamp(a, lo, hi), (x,))
        assert gradgradcheck(lambda a, lo=lo, hi=hi: a.clamp(lo, hi), (x,))


MATMUL = [((3,), (3,)), ((2, 3), (3,)), ((3,), (3, 2)), ((2, 3), (3, 2)), ((2, 2, 3), (2, 3, 2)),
          ((2, 2, 3), (3,)),
          ((3,), (2, 3, 2)), ((2, 3), (2, 3, 2)), ((2, 1, 2, 3), (2, 3, 1))]  # fmt: skip


@pytest.mark.parametrize("s1,s2", MATMUL, ids=str)
def test_matmul(s1: tuple, s2: tuple) -> None:
    a, b = _t(s1, seed=1), _t(s2, seed=2)
    assert gradcheck(engine.matmul, (a, b))
    assert gradgradcheck(lambda x, y: x @ y, (a, b))


def test_mm_mv_dot_bmm() -> None:
    for fn, s1, s2 in ((engine.mm, (2, 3), (3, 2)), (engine.mv, (2, 3), (3,)), (engine.dot, (3,), (3,)),
                       (engine.bmm, (2, 2, 3), (2, 3, 2))):  # fmt: skip
        a, b = _t(s1, seed=1), _t(s2, seed=2)
        assert gradcheck(fn, (a, b))
        assert gradgradcheck(fn, (a, b))


REDUCE = {
    "sum": lambda x: x.sum(),
    "sum_dim": lambda x: x.sum(1, keepdim=True),
    "sum_dims": lambda x: x.sum((0, 2)),
    "mean": lambda x: x.mean(),
    "mean_dim": lambda x: x.mean(-1),
    "prod": lambda x: x.prod(),
    "prod_dim": lambda x: x.prod(1),
    "max": lambda x: x.max(),
    "max_dim": lambda x: x.max(1).values,
    "min_dim": lambda x: x.min(dim=0, keepdim=True)[0],
    "amax": lambda x: x.amax((0, 1)),
    "std": lambda x: x.std(),
    "std_dim": lambda x: x.std(1, correction=0),
    "var": lambda x: x.var(),
    "var_dim": lambda x: x.var((0, 2), keepdim=True),
    "norm": lambda x: x.norm(),
    "norm1": lambda x: x.norm(1),
    "norm3_dim": lambda x: x.norm(3, dim=1),
    "cumsum": lambda x: x.cumsum(1),
    "cumprod": lambda x: x.cumprod(2),
    "logsumexp": lambda x: x.logsumexp(1),
    "softmax": lambda x: x.softmax(1),
    "log_softmax": lambda x: x.log_softmax(-1),
    "sort": lambda x: x.sort(1).values,
    "sort_desc": lambda x: x.sort(0, descending=True).values,
    "topk": lambda x: x.topk(2, dim=2).values,
}


@pytest.mark.parametrize("name", list(REDUCE))
def test_reductions(name: str) -> None:
    x = _distinct((2, 3, 4)) if name.startswith(("max", "min", "amax", "sort", "topk", "norm1")) else _t((2, 3, 4))
    if name.startswith("prod") or name == "cumprod":
        x = _t((2, 3, 4), 0.5, 1.5)
    assert gradcheck(REDUCE[name], (x,))
    assert gradgradcheck(REDUCE[name], (x,))


SHAPE = {
    "reshape": lambda x: x.reshape(4, 6),
    "view": lambda x: x.view(-1),
    "flatten": lambda x: x.flatten(1),
    "transpose": lambda x: x.transpose(0, 2),
    "t": lambda x: x[0].t(),
    "T": lambda x: x[0].T,
    "permute": lambda x: x.permute(2, 0, 1),
    "squeeze": lambda x: x[:, :1].squeeze(1),
    "unsqueeze": lambda x: x.unsqueeze(1),
    "expand": lambda x: x[:, :1].expand(2, 5, 4),
    "repeat": lambda x: x.repeat(2, 1, 2),
    "contiguous": lambda x: x.transpose(0, 1).contiguous(),
    "clone": lambda x: x.clone(),
    "slice": lambda x: x[1:, ::2, -2:],
    "select": lambda x: x[1, 2],
    "none_ellipsis": lambda x: x[None, ..., 1],
    "int_index": lambda x: x[[0, 1, 1], [2, 0, 2]],
    "bool_index": lambda x: x[x > 0],
    "index_select": lambda x: x.index_select(1, engine.tensor([2, 0, 2])),
    "masked_select": lambda x: x.masked_select(x < 0.5),
    "masked_fill": lambda x: x.masked_fill(x > 0, 3.0),
    "gather": lambda x: x.gather(2, engine.tensor([[[0, 3]] * 3] * 2)),
    "cat": lambda x: engine.cat([x, x * 2], 1),
    "stack": lambda x: engine.stack([x, x.exp()], 0),
    "chunk": lambda x: x.chunk(2, 2)[1],
    "split_int": lambda x: x.split(2, 1)[1],
    "split_list": lambda x: x.split([1, 3], 2)[1],
    "unbind": lambda x: x.unbind(1)[2],
    "narrow": lambda x: x.narrow(2, 1, 2),
    "scatter_src": lambda x: x.scatter(2, engine.tensor([[[1, 3]] * 3] * 2), x[..., :2] * 3),
    "scatter_value": lambda x: x.scatter(1, engine.tensor([[[0, 2, 1, 0]], [[2, 1, 0, 1]]]), value=0.5),
    "nan_to_num": lambda x: engine.nan_to_num(x / x.abs().clamp_min(0.5)),
    "diag_of_matrix": lambda x: engine.diag(x[0], 1),
    "diag_of_vector": lambda x: engine.diag(x[0, 0], -1),
    "clamp_min": lambda x: x.clamp_min(0.1),
    "clamp_max": lambda x: x.clamp_max(-0.1),
}


@pytest.mark.parametrize("name", list(SHAPE))
def test_shape_and_index(name: str) -> None:
    x = _away_from_zero((2, 3, 4))
    assert gradcheck(SHAPE[name], (x,))
    assert gradgradcheck(SHAPE[name], (x,))


def test_dtype_round_trip() -> None:
    # float32 in the middle: finite differences need a larger eps and tolerance (as in torch)
    x = _away_from_zero((2, 3))
    assert gradcheck(lambda a: a.float().double() * 2, (x,), eps=1e-3, atol=1e-3)
    assert gradgradcheck(lambda a: (a.float() ** 2).double(), (x,), eps=1e-3, atol=1e-2, rtol=1e-2)


INPLACE = {
    "mul_": lambda x, y: x.clone().mul_(y),
    "add_alpha_": lambda x, y: x.clone().add_(y, alpha=2),
    "sub_": lambda x, y: (x.exp() * 1).sub_(y),
    "div_": lambda x, y: x.clone().div_(y + 3),
    "clamp_": lambda x, y: (x * 1).clamp_(-0.5, 0.7),
    "zero_": lambda x, y: (x * 1).zero_() + y,
    "fill_": lambda x, y: (x * 1).fill_(2.0) * y,
    "copy_": lambda x, y: (x * 1).copy_(y) * x,
    "iadd": lambda x, y: _iadd(x * 1, y),
    "setitem": lambda x, y: _setitem(x.clone(), y),
    "view_inplace": lambda x, y: _view_inplace(x.clone(), y),
}


def _iadd(a: engine.Tensor, b: engine.Tensor) -> engine.Tensor:
    a += b
    a *= b
    a /= 2
    a -= b
    return a


def _setitem(a: engine.Tensor, b: engine.Tensor) -> engine.Tensor:
    a[0] = b * 2
    a[1, 1:] = b[:2]
    return a


def _view_inplace(a: engine.Tensor, b: engine.Tensor) -> engine.Tensor:
    a[1].mul_(b)
    a.view(-1)[:2].add_(1)
    return a


@pytest.mark.parametrize("name", list(INPLACE))
def test_inplace(name: str) -> None:
    x, y = _distinct((2, 3)), _t((3,), seed=5)
    assert gradcheck(INPLACE[name], (x, y))
    assert gradgradcheck(INPLACE[name], (x, y))


def test_multiple_outputs_and_non_float_outputs() -> None:
    x = _distinct((3, 4))
    assert gradcheck(lambda a: (a.max(1).values, a.max(1).indices, a * 2), (x,))
    assert gradgradcheck(lambda a: (a.sin(), a.cos()), (x,))


# ---- the checker itself, against torch's ------------------------------------------------------------------
def _both(fn_maker: object, *shapes: tuple, **kw: object) -> list:
    """Run gradcheck on fn_maker(lib) in torch and the engine with the same float64 data; return
    (result or (error type, message)) for each."""
    out = []
    for lib, gc in ((torch, torch.autograd.gradcheck), (engine, gradcheck)):
        args = tuple(lib.tensor(make(s, "float64", 0.3, 2.0, seed=i), requires_grad=True) for i, s in enumerate(shapes))
        try:
            out.append(gc(fn_maker(lib), args, **kw))
        except Exception as e:  # noqa: BLE001
            out.append((type(e).__name__, helpers.cpu_text(str(e)) if lib is engine else str(e)))
    return out


def _wrong_grad(lib: object) -> object:
    def f(a: object, b: object) -> object:
        y = a * b
        y.register_hook(lambda g: g * 2)  # analytical gradient twice the true one
        return y.sin()

    return f


def test_mismatch_message_equals_torch() -> None:
    t, e = _both(_wrong_grad, (2,), (2,))
    assert e == t
    assert t[0] == "GradcheckError" and t[1].startswith("Jacobian mismatch for output 0 with respect to input 0,\n")


def test_mismatch_second_input_and_output() -> None:
    def maker(lib: object) -> object:
        def f(a: object, b: object) -> object:
            c = b * 1
            c.register_hook(lambda g: g * 3)
            return a.exp(), (c * c).sum(0)

        return f

    t, e = _both(maker, (2, 2), (2, 3))
    assert e == t
    assert "Jacobian mismatch for output 1 with respect to input 1" in t[1]


def test_raise_exception_false_and_passing_verdicts() -> None:
    assert _both(_wrong_grad, (2,), (2,), raise_exception=False) == [False, False]
    assert _both(lambda lib: lambda a, b: (a * b).exp(), (2, 3), (3,)) == [True, True]
    assert _both(lambda lib: lambda a: a.max(0), (3, 2)) == [True, True]


def test_gradgradcheck_detects_wrong_second_derivative() -> None:
    def maker(lib: object) -> object:
        def f(a: object) -> object:
            y = a * a
            y.register_hook(lambda g: g * a.detach())  # first derivative ok at the data? no: wrong everywhere
            return y

        return f

    res = []
    for lib, ggc in ((torch, torch.autograd.gradgradcheck), (engine, gradgradcheck)):
        a = lib.tensor([0.5, 1.5], dtype=lib.float64, requires_grad=True)
        res.append(ggc(maker(lib), (a,), (lib.tensor([1.0, -0.5], dtype=lib.float64, requires_grad=True),),
                       raise_exception=False))  # fmt: skip
    assert res == [False, False]
    ok = []
    for lib, ggc in ((torch, torch.autograd.gradgradcheck), (engine, gradgradcheck)):
        a = lib.tensor([0.5, 1.5], dtype=lib.float64, requires_grad=True)
        ok.append(ggc(lambda x: x**3, (a,)))
    assert ok == [True, True]


def test_input_errors_equal_torch() -> None:
    for lib, gc in ((torch, torch.autograd.gradcheck), (engine, gradcheck)):
        with pytest.raises(ValueError, match="at least one input tensor to require gradient"):
            gc(lambda a: a * 2, (lib.ones(2, dtype=lib.float64),))
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            gc(lambda a: a * 2, (lib.ones(2, requires_grad=True),), raise_exception=False)
        assert any("is not a double precision floating point" in str(x.message) for x in w)


def test_gradcheck_error_type() -> None:
    assert issubclass(GradcheckError, RuntimeError)
    with pytest.raises(GradcheckError) as info:
        gradcheck(_wrong_grad(engine), (_t((2,)), _t((2,), seed=3)))
    assert type(info.value).__name__ == "GradcheckError"
