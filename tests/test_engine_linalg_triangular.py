"""engine/ops/linalg_triangular.py and engine/ops/special_igamma.py against PyTorch: linalg.solve_triangular
(upper/lower, left/right, unit diagonal, batches that broadcast), linalg.cholesky_ex (info and LAPACK's partial
factor where the matrix is not positive-definite), cholesky_inverse and cholesky_solve, with first and second
derivatives and torch's errors; special.gammainc/gammaincc (torch.igamma/igammac) with the edges of their
domain and their derivative."""

from __future__ import annotations

import itertools
import math
from typing import Any

import numpy as np
import pytest
from helpers import check, same, same_error

pytestmark = pytest.mark.usefixtures("device")

_R = np.random.default_rng(5)


def _tril(*batch: int, n: int = 4, dtype: str = "float64") -> np.ndarray:
    a = _R.standard_normal((*batch, n, n))
    return np.linalg.cholesky(a @ np.swapaxes(a, -1, -2) + n * np.eye(n)).astype(dtype)


@pytest.mark.parametrize(("upper", "left", "unit"), list(itertools.product([False, True], repeat=3)))
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_solve_triangular(upper: bool, left: bool, unit: bool, dtype: str) -> None:
    L = _tril(2, dtype=dtype)  # noqa: N806
    B = _R.standard_normal((4, 3) if left else (3, 4)).astype(dtype)  # noqa: N806

    def fn(lib: Any, a: Any, b: Any) -> Any:
        m = a.mT if upper else a
        return lib.linalg.solve_triangular(m, b, upper=upper, left=left, unitriangular=unit)

    tol = 1e-4 if dtype == "float32" else None
    check(fn, L, B, atol=tol, rtol=tol, grad_atol=tol and 1e-3, grad_rtol=tol and 1e-3)


def test_solve_triangular_second_order_and_errors() -> None:
    def fn(lib: Any, a: Any, b: Any) -> Any:
        x = lib.linalg.solve_triangular(a, b, upper=False)
        (g,) = lib.autograd.grad((x * x).sum(), a, create_graph=True)
        return g

    check(fn, _tril(), _R.standard_normal((4, 2)), names=False)
    for args in (((3, 3), (2, 4)), ((3, 3), (3,)), ((2, 3), (2, 3)), ((2, 3, 3), (4, 3, 1))):
        same_error(lambda lib, a=args: lib.linalg.solve_triangular(lib.ones(a[0]), lib.ones(a[1]), upper=False))
    same_error(lambda lib: lib.linalg.solve_triangular(lib.ones(3, 3, dtype=lib.int32), lib.ones(3, 1), upper=True))
    same_error(lambda lib: lib.linalg.solve_triangular(lib.ones(3, 3), 1, upper=True))
    check(lambda lib, b: lib.linalg.solve_triangular(lib.zeros(3, 3), b, upper=True), np.ones((3, 1)), grad=False)


def test_cholesky_ex() -> None:
    a = np.array(
        [[[4.0, 2, 1], [2, 1, 3], [1, 3, 2]], [[4.0, 2, 1], [2, 5, 3], [1, 3, 6]], [[-1.0, 0, 0], [0, 1, 0], [0, 0, 1]]]
    )
    for upper in (False, True):
        check(lambda lib, m, u=upper: list(lib.linalg.cholesky_ex(m, upper=u)), a)
        check(lambda lib, m, u=upper: list(lib.linalg.cholesky_ex(m[1], upper=u)), a)
    same(lambda lib: repr(lib.linalg.cholesky_ex(lib.tensor(a[:2]))))
    same_error(lambda lib: lib.linalg.cholesky_ex(lib.tensor(a[:1]), check_errors=True))
    same_error(lambda lib: lib.linalg.cholesky_ex(lib.ones(2, 3)))


@pytest.mark.parametrize("upper", [False, True])
def test_cholesky_inverse_and_solve(upper: bool) -> None:
    L = _tril(2)  # noqa: N806

    def inv(lib: Any, m: Any) -> Any:
        f = m.mT if upper else m
        return lib.cholesky_inverse(f, upper), f.cholesky_inverse(upper)

    def solve(lib: Any, b: Any, m: Any) -> Any:
        return lib.cholesky_solve(b, m.mT if upper else m, upper)

    check(inv, L)
    check(solve, _R.standard_normal((4, 3)), L)
    same_error(lambda lib: lib.cholesky_solve(lib.ones(2, 2), lib.ones(3, 3)))
    same_error(lambda lib: lib.cholesky_solve(lib.ones(2), lib.ones(2, 2)))
    same_error(lambda lib: lib.cholesky_solve(lib.ones(2, 2, dtype=lib.float64), lib.ones(2, 2)))


_A = [0.5, 2.0, 30.0, 0.0, 1.0, -1.0, math.inf, 3.0, 1e-3, 500.0, 4.0, 0.2, 70.0, math.nan]
_X = [0.3, 2.5, 29.0, 1.0, 0.0, 1.0, 2.0, math.inf, 1e-4, 510.0, 40.0, 0.2, 60.0, 1.0]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_gammainc(dtype: str) -> None:
    a = np.concatenate([_R.random(30) * 5, _R.random(30) * 100, _A]).astype(dtype)
    x = np.concatenate([_R.random(30) * 5, _R.random(30) * 100, _X]).astype(dtype)
    # (torch's float32 kernel computes in float; both agree with the exact value to its precision)
    tol = 1e-5 if dtype == "float32" else 1e-8
    for name in ("gammainc", "gammaincc"):
        check(lambda lib, u, v, n=name: getattr(lib.special, n)(u.detach(), v), a, x, atol=tol, rtol=tol)
    check(lambda lib, u, v: (lib.igamma(u, v), lib.igammac(u, v), u.igamma(v), u.igammac(v)), a, x, grad=False,
          atol=tol, rtol=tol)  # fmt: skip
    same_error(lambda lib: lib.special.gammainc(lib.tensor([1, 2]), lib.tensor([1, 2])))

    def grad_in_a(lib: Any, u: Any, v: Any) -> Any:
        return lib.autograd.grad(lib.special.gammaincc(u, v).sum(), u)

    same_error(grad_in_a, a[:3], x[:3])
