"""Type promotion against PyTorch: every dtype pair for + * / and comparisons (dimensioned and 0-dim
operands), tensors with Python and numpy scalars, integer true division, in-place result types and
the default dtype."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from helpers import DTYPES, check, make, same, same_error

import engine

# every test runs once per device: [cpu] and [cuda] (skipped without a GPU; see conftest.py)
pytestmark = pytest.mark.usefixtures("device")

OPS = {
    "add": lambda a, b: a + b,
    "mul": lambda a, b: a * b,
    "truediv": lambda a, b: a / b,
    "eq": lambda a, b: a == b,
    "lt": lambda a, b: a < b,
    "maximum": lambda a, b: engine.maximum(a, b) if isinstance(a, engine.Tensor) else torch.maximum(a, b),
}
KINDS = {"dim-dim": ((2, 3), (3,)), "0dim-dim": ((), (3,)), "dim-0dim": ((2, 3), ()), "0dim-0dim": ((), ())}


@pytest.mark.parametrize("kind", list(KINDS))
@pytest.mark.parametrize("op", list(OPS))
def test_promotion_table(op: str, kind: str) -> None:
    s1, s2 = KINDS[kind]
    fn = OPS[op]
    bad = []
    for d1 in DTYPES:
        for d2 in DTYPES:
            a, b = make(s1, d1, 1, 3, seed=1), make(s2, d2, 1, 3, seed=2)
            ta, tb = torch.tensor(a), torch.tensor(b)
            ea, eb = engine.tensor(a), engine.tensor(b)
            try:
                t = fn(ta, tb)
            except Exception as te:  # noqa: BLE001
                try:
                    fn(ea, eb)
                    bad.append((d1, d2, "engine did not raise", str(te)))
                except Exception as ee:  # noqa: BLE001
                    if str(ee) != str(te):
                        bad.append((d1, d2, str(ee), str(te)))
                continue
            e = fn(ea, eb)
            if str(e.dtype) != str(t.dtype) or tuple(e.shape) != tuple(t.shape):
                bad.append((d1, d2, str(e.dtype), str(t.dtype)))
            elif not np.allclose(e.cpu().numpy().astype(float), t.numpy().astype(float), rtol=2e-3, equal_nan=True):
                bad.append((d1, d2, "values", e.cpu().numpy(), t.numpy()))
    assert not bad, bad


def test_result_type_and_promote_types() -> None:
    bad = []
    for d1 in DTYPES:
        for d2 in DTYPES:
            t1, t2 = getattr(torch, d1), getattr(torch, d2)
            e1, e2 = getattr(engine, d1 if d1 != "bool" else "bool"), getattr(engine, d2)
            if str(engine.promote_types(e1, e2)) != str(torch.promote_types(t1, t2)):
                bad.append(("promote_types", d1, d2))
            for s1, s2 in KINDS.values():
                ta, tb = torch.zeros(s1, dtype=t1), torch.zeros(s2, dtype=t2)
                ea, eb = engine.zeros(s1, dtype=e1), engine.zeros(s2, dtype=e2)
                if str(engine.result_type(ea, eb)) != str(torch.result_type(ta, tb)):
                    bad.append(("result_type", d1, d2, s1, s2))
    assert not bad, bad


SCALARS = [
    True,
    False,
    0,
    1,
    3,
    -2,
    2.5,
    0.5,
    1e10,
    -1.0,
    np.int8(3),
    np.float64(1.5),
    np.bool_(True),
    np.int64(-3),
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("op", ["add", "mul", "truediv", "eq", "lt", "radd", "rmul", "rtruediv"])
def test_tensor_and_python_scalar(dtype: str, op: str) -> None:
    fns = {
        "add": lambda a, s: a + s, "mul": lambda a, s: a * s, "truediv": lambda a, s: a / s,
        "eq": lambda a, s: a == s, "lt": lambda a, s: a < s, "radd": lambda a, s: s + a,
        "rmul": lambda a, s: s * a, "rtruediv": lambda a, s: s / a,
    }  # fmt: skip
    fn = fns[op]
    for shape in ((2, 3), ()):
        x = make(shape, dtype, 1, 3)
        for s in SCALARS:
            check(lambda T, a, s=s: fn(a, s), x, grad=False, rtol=2e-3, atol=1e-3)


def test_int_true_division_is_float() -> None:
    check(
        lambda T: (T.tensor([1, 2, 3]) / T.tensor([2, 2, 2]), T.tensor([5]) / 2, 7 / T.tensor([2])),
        grad=False,
    )
    check(lambda T: (T.tensor([True]) / T.tensor([True]), T.tensor([3], dtype=T.uint8) / 2), grad=False)
    check(lambda T: (T.div(T.tensor([7, -7]), 2), T.true_divide(T.tensor([7]), T.tensor([2]))), grad=False)
    check(lambda T: T.tensor([7, -7]) // 2, grad=False)
    check(lambda T: T.div(T.tensor([7, -7]), 2, rounding_mode="trunc"), grad=False)


def test_inplace_result_types() -> None:
    check(lambda T: (lambda x: (x.add_(T.tensor([1], dtype=T.int64)), x))(T.zeros(2)), grad=False)
    check(lambda T: (lambda x: (x.mul_(2.5), x))(T.zeros(2, dtype=T.float16)), grad=False)
    check(lambda T: (lambda x: (x.add_(True), x))(T.tensor([1, 2])), grad=False)
    check(
        lambda T: (lambda x: (x.add_(T.tensor(5, dtype=T.int64)), x))(T.tensor([1, 2], dtype=T.int8)),
        grad=False,
    )
    same_error(lambda T: T.tensor([1, 2]).add_(1.5))
    same_error(lambda T: T.tensor([1, 2]).div_(2))
    same_error(lambda T: T.tensor([True]).add_(1))
    same_error(lambda T: T.tensor([1, 2], dtype=T.int32).mul_(T.tensor([1.0, 2.0])))


def test_creation_dtypes() -> None:
    same(
        lambda T: [
            T.tensor(x).dtype
            for x in (1, 1.0, True, [1, 2], [1.0, 2], [True, 1], [True, False], [[1], [2.5]], np.float32(1.5))
        ]
    )
    same(lambda T: [T.zeros(1).dtype, T.arange(3).dtype, T.arange(3.0).dtype, T.full((1,), 2).dtype,
                    T.full((1,), 2.0).dtype, T.full((1,), True).dtype, T.linspace(0, 1, 2).dtype,
                    T.eye(2).dtype, T.ones(2, dtype=T.int8).dtype])  # fmt: skip
    same(lambda T: [T.from_numpy(np.zeros(1, dtype=d)).dtype for d in ("int16", "uint8", "float16", "bool")])


@pytest.mark.parametrize("default", ["float64", "float16"])
def test_set_default_dtype(default: str) -> None:
    def fn(T: object) -> object:
        prev = T.get_default_dtype()
        T.set_default_dtype(getattr(T, default))
        try:
            return (
                T.get_default_dtype(), T.tensor([1.5]), T.zeros(2), T.arange(2.0), T.tensor([1, 2]) / 2,
                T.tensor([1]) + 0.5, T.linspace(0, 1, 3), T.ones(1, dtype=T.float32) + 1.5,
                T.tensor([1, 2]).float().dtype, T.tensor(True) * 1.5, T.full((2,), 1.0),
            )  # fmt: skip
        finally:
            T.set_default_dtype(prev)

    same(fn)
    assert engine.get_default_dtype() is engine.float32


def test_set_default_dtype_errors() -> None:
    same_error(lambda T: T.set_default_dtype(T.int32))
    same_error(lambda T: T.set_default_dtype(T.bool))


def test_dtype_attributes() -> None:
    for name in DTYPES:
        t, e = getattr(torch, name), getattr(engine, name)
        assert (str(e), repr(e), e.is_floating_point, e.is_signed, e.itemsize) == (
            str(t), repr(t), t.is_floating_point, t.is_signed, t.itemsize
        )  # fmt: skip
    same(lambda T: (T.float, T.double, T.half, T.int, T.long, T.short, T.uint8))


@pytest.mark.parametrize("dtype", DTYPES)
def test_casts(dtype: str) -> None:
    x = np.array([-2.7, -1.0, 0.0, 0.5, 1.5, 3.9, 200.0], dtype=np.float32)
    check(lambda T, a: a.to(getattr(T, dtype)), x, grad=False)
    check(lambda T, a: (a.int(), a.long(), a.bool(), a.half(), a.double(), a.byte(), a.char(), a.short()),
          make((2, 3), dtype, -3, 3), grad=False)  # fmt: skip
