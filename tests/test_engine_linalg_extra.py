"""torch.linalg's LU family, triangular solvers, _ex forms, matrix_exp, matrix_rank, cond, vander, tensorinv,
tensorsolve and householder_product, and torch's older lu / lu_unpack / lu_solve / triangular_solve /
cholesky_solve / cholesky_inverse, against torch (the oracle, PyTorch 2.13 on the cpu): values, dtypes, grad_fn
names, first- and second-order gradients, gradcheck, the recorded graphs of the composites, torch's errors and the
values torch leaves for singular inputs in the _ex forms."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import torch
from helpers import Arg, computed, graph, same, same_error
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import engine
from engine.autograd import gradcheck, gradgradcheck

pytestmark = [pytest.mark.usefixtures("device"), pytest.mark.filterwarnings("ignore::UserWarning")]

DTS = ["float32", "float64"]
ok = computed


def rnd(shape: tuple, dtype: str = "float64", seed: int = 0, shift: float = 0.0) -> np.ndarray:
    """Gaussian data; square matrices get shift * I added (well-conditioned factors and solves)."""
    a = np.random.default_rng(seed).standard_normal(shape)
    if shift and len(shape) >= 2 and shape[-1] == shape[-2]:
        a = a + shift * np.eye(shape[-1])
    return a.astype(dtype)


def spd(shape: tuple, dtype: str = "float64", seed: int = 0) -> np.ndarray:
    a = np.random.default_rng(seed).standard_normal(shape)
    return (a @ np.swapaxes(a, -1, -2) + shape[-1] * np.eye(shape[-1])).astype(dtype)


def same_graph(fn: Any, *arrays: np.ndarray) -> None:
    graphs = []
    for T in (torch, engine):
        ts = [T.tensor(a, requires_grad=True) for a in arrays]
        graphs.append(graph(fn(T, *ts), depth=16))
    assert graphs[1] == graphs[0]


def _second(build: Any) -> Any:
    """fn for check: gradients with create_graph, then the gradient of a function of them."""

    def fn(T: Any, *xs: Any) -> Any:
        xs = [x.requires_grad_() for x in xs]
        y = build(T, *xs)
        ys = y if isinstance(y, tuple) else (y,)
        gs = T.autograd.grad(sum((t * t).sum() for t in ys), xs, create_graph=True)
        ggs = T.autograd.grad(sum((g * g.sin()).sum() for g in gs), xs)
        return tuple(gs) + tuple(ggs)

    return fn


# ---- LU ----------------------------------------------------------------------------------------------------------
SHAPES = [(3, 3), (2, 4, 4), (3, 5), (2, 5, 3), (1, 1), (0, 3), (2, 0, 0)]


@pytest.mark.parametrize("dt", DTS)
@pytest.mark.parametrize("shape", SHAPES)
def test_lu_factorizations(dt: str, shape: tuple) -> None:
    A = rnd(shape, dt, seed=1)
    ok(lambda T, a: tuple(T.linalg.lu_factor(a)), A)
    ok(lambda T, a: tuple(T.linalg.lu_factor_ex(a)), A)
    ok(lambda T, a: tuple(T.linalg.lu(a)), A)
    ok(lambda T, a: tuple(T.lu_unpack(*T.linalg.lu_factor(a))), A)
    ok(lambda T, a: T.lu(a), A)
    ok(lambda T, a: tuple(T.lu(a, get_infos=True)), A)
    ok(lambda T, a: a.lu(get_infos=True), A)


def test_lu_pivots_and_layout_are_lapacks() -> None:
    """Pivots (1-based int32) and the packed factor equal MKL's bit for bit on these inputs; the factor is
    column-major as LAPACK leaves it."""
    A = rnd((3, 6, 6), seed=2)
    t = torch.linalg.lu_factor(torch.tensor(A))
    e = engine.linalg.lu_factor(engine.tensor(A))
    assert np.array_equal(e.pivots.cpu().numpy(), t.pivots.numpy()) and e.pivots.dtype == engine.int32
    np.testing.assert_allclose(e.LU.cpu().numpy(), t.LU.numpy(), rtol=1e-13, atol=1e-13)
    assert e.LU.stride() == t.LU.stride()


def test_lu_return_types_print_as_torchs() -> None:
    A = rnd((2, 2), "float32", seed=3)
    for name in ("lu_factor", "lu_factor_ex", "lu"):
        text = same(lambda T, a, n=name: repr(getattr(T.linalg, n)(a)), A)
        assert text.startswith(f"torch.return_types.linalg_{name}(\n")
    assert same(lambda T, a: repr(T.lu_unpack(*T.linalg.lu_factor(a))), A).startswith("torch.return_types.lu_unpack(")
    assert same(lambda T, a: repr(T.lu(a, get_infos=True)), A).startswith("torch.return_types._lu_with_info(")
    assert same(lambda T, a: type(T.lu(a)).__name__ + type(a.lu()).__name__, A) == "tupletuple"


SINGULAR = {
    "zeros": np.zeros((3, 3)),
    "rank1": np.array([[1.0, 2.0], [2.0, 4.0]]),
    "third_pivot": np.array([[1.0, 2.0, 3.0], [2.0, 4.0, 6.0], [1.0, 1.0, 1.0]]),
    "batch_element_1": np.stack([np.eye(3), np.array([[1.0, 2.0, 3.0], [2.0, 4.0, 6.0], [1.0, 1.0, 1.0]])]),
}


@pytest.mark.parametrize("name", list(SINGULAR))
def test_singular_lu(name: str) -> None:
    """lu_factor raises torch's RuntimeError naming U's zero diagonal; lu_factor_ex and torch.lu return the factor
    and info; check_errors=True raises under lu_factor_ex's name."""
    A = SINGULAR[name]
    kind, msg = same_error(lambda T, a: T.linalg.lu_factor(a), A)
    assert kind == "RuntimeError" and "is zero and using it on lu_solve" in msg
    same_error(lambda T, a: T.linalg.lu_factor_ex(a, check_errors=True), A)
    ok(lambda T, a: tuple(T.linalg.lu_factor_ex(a)), Arg(A))
    ok(lambda T, a: tuple(T.linalg.lu(a)), Arg(A))
    ok(lambda T, a: tuple(T.lu(a, get_infos=True)), Arg(A))


@pytest.mark.parametrize("dt", DTS)
@pytest.mark.parametrize("left", [True, False])
@pytest.mark.parametrize("adjoint", [False, True])
def test_lu_solve(dt: str, left: bool, adjoint: bool) -> None:
    A, B = rnd((2, 4, 4), dt, seed=4, shift=2), rnd((2, 4, 3), dt, seed=5)
    if not left:
        B = np.ascontiguousarray(np.swapaxes(B, -1, -2))

    def fn(T: Any, a: Any, b: Any) -> Any:
        LU, piv = T.linalg.lu_factor(a)
        return T.linalg.lu_solve(LU, piv, b, left=left, adjoint=adjoint)

    ok(fn, A, B)
    ok(fn, Arg(A), B)
    ok(fn, A[0], B if left else B[:1])  # one matrix for a batch of right-hand sides


def test_torch_lu_solve_and_method() -> None:
    A, B = rnd((2, 3, 3), seed=6, shift=2), rnd((2, 3, 2), seed=7)
    ok(lambda T, a, b: T.lu_solve(b, *T.linalg.lu_factor(a)), A, B)
    ok(lambda T, a, b: b.lu_solve(*a.lu()), A, B)


LU_ERRORS = {
    "factor_1d": lambda T: T.linalg.lu_factor(T.ones(3)),
    "lu_1d": lambda T: T.linalg.lu(T.ones(3)),
    "torch_lu_1d": lambda T: T.lu(T.ones(3)),
    "factor_int": lambda T: T.linalg.lu_factor(T.ones(3, 3, dtype=T.int64)),
    "factor_half": lambda T: T.linalg.lu_factor(T.ones(3, 3, dtype=T.float16)),
    "factor_list": lambda T: T.linalg.lu_factor([[1.0]]),
    "solve_dtype": lambda T: T.linalg.lu_solve(*T.linalg.lu_factor(T.eye(3)), T.ones(3, 2, dtype=T.float64)),
    "solve_pivots_dtype": lambda T: T.linalg.lu_solve(T.eye(3), T.ones(3, dtype=T.int64), T.ones(3, 2)),
    "solve_shape": lambda T: T.linalg.lu_solve(*T.linalg.lu_factor(T.eye(3)), T.ones(4, 2)),
    "solve_shape_right": lambda T: T.linalg.lu_solve(*T.linalg.lu_factor(T.eye(3)), T.ones(2, 4), left=False),
    "solve_vector": lambda T: T.linalg.lu_solve(*T.linalg.lu_factor(T.eye(3)), T.ones(3)),
    "solve_rect": lambda T: T.linalg.lu_solve(T.ones(3, 4), T.ones(3, dtype=T.int32), T.ones(3, 2)),
    "solve_npivots": lambda T: T.linalg.lu_solve(T.eye(3), T.ones(2, dtype=T.int32), T.ones(3, 2)),
    "solve_pivot_batch": lambda T: T.linalg.lu_solve(T.eye(3).expand(2, 3, 3), T.ones(3, dtype=T.int32), T.ones(3, 2)),
    "solve_broadcast": lambda T: T.linalg.lu_solve(
        T.eye(3).expand(4, 3, 3), T.ones(4, 3, dtype=T.int32), T.ones(2, 3, 2)
    ),
    "solve_int": lambda T: T.linalg.lu_solve(T.eye(3).int(), T.ones(3, dtype=T.int32), T.ones(3, 2).int()),
    "solve_half": lambda T: T.linalg.lu_solve(T.eye(3).half(), T.ones(3, dtype=T.int32), T.ones(3, 2).half()),
    "solve_pivot_low": lambda T: T.linalg.lu_solve(T.eye(3), T.tensor([0, 1, 1], dtype=T.int32), T.ones(3, 2)),
    "solve_pivot_high": lambda T: T.linalg.lu_solve(T.eye(3), T.tensor([5, 1, 1], dtype=T.int32), T.ones(3, 2)),
    "unpack_1d": lambda T: T.lu_unpack(T.ones(3), T.ones(3, dtype=T.int32)),
    "unpack_pivots_dtype": lambda T: T.lu_unpack(T.eye(3), T.ones(3, dtype=T.int64)),
    "unpack_pivot_range": lambda T: T.lu_unpack(T.eye(3), T.tensor([4, 1, 1], dtype=T.int32)),
    "unpack_list": lambda T: T.lu_unpack([1.0], T.ones(1, dtype=T.int32)),
}


@pytest.mark.parametrize("name", list(LU_ERRORS))
def test_lu_errors(name: str) -> None:
    same_error(LU_ERRORS[name])


def test_lu_unpack_partial() -> None:
    A = rnd((3, 3), seed=8)
    ok(lambda T, a: tuple(T.lu_unpack(*T.linalg.lu_factor(a), unpack_data=False)), A)
    ok(lambda T, a: tuple(T.lu_unpack(*T.linalg.lu_factor(a), unpack_pivots=False)), A)
    ok(lambda T, a: tuple(T.lu_unpack(a.int(), T.linalg.lu_factor(a)[1])), Arg(A))


def test_lu_without_pivoting_is_gpu_only() -> None:
    if engine.get_default_device().type == "cpu":
        same_error(lambda T: T.linalg.lu_factor(T.eye(3), pivot=False))
        same_error(lambda T: T.linalg.lu(T.eye(3), pivot=False))
        return
    A = rnd((2, 3, 3), seed=9, shift=3)  # (torch's cpu refuses it: checked against the definition instead)
    P, L, U = engine.linalg.lu(engine.tensor(A), pivot=False)
    assert P.numel() == 0
    np.testing.assert_allclose((L @ U).cpu().numpy(), A, atol=1e-12)


_DEPRECATED = """
import json, warnings
import {lib} as T
a = T.tensor([[2.0, 1.0], [1.0, 3.0]])
with warnings.catch_warnings(record=True) as got:
    warnings.simplefilter("always")
    for _ in range(2):  # (each warns once per process)
        T.lu(a)
        LU, piv = T.linalg.lu_factor(a)
        T.lu_solve(a, LU, piv)
        T.triangular_solve(a, a.triu())
print(json.dumps([[w.category.__name__, str(w.message)] for w in got]))
"""


def test_deprecation_warnings_once() -> None:
    """torch.lu, torch.lu_solve and torch.triangular_solve warn once per process, with torch's texts (each
    library in a fresh process: torch's once-only warnings cannot be reset)."""
    import json
    import os
    import subprocess
    import sys

    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
    runs = [
        subprocess.run([sys.executable, "-c", _DEPRECATED.format(lib=lib)], capture_output=True, text=True, env=env)
        for lib in ("torch", "engine")
    ]
    got = [json.loads(r.stdout) for r in runs]
    assert got[1] == got[0] and len(got[0]) == 3


# ---- triangular solvers --------------------------------------------------------------------------------------
@pytest.mark.parametrize("dt", DTS)
@pytest.mark.parametrize("upper", [True, False])
@pytest.mark.parametrize("left", [True, False])
@pytest.mark.parametrize("unit", [False, True])
def test_solve_triangular(dt: str, upper: bool, left: bool, unit: bool) -> None:
    A, B = rnd((2, 4, 4), dt, seed=11, shift=4), rnd((2, 4, 3), dt, seed=12)
    B = B if left else np.ascontiguousarray(np.swapaxes(B, -1, -2))

    def fn(T: Any, a: Any, b: Any) -> Any:
        return T.linalg.solve_triangular(a, b, upper=upper, left=left, unitriangular=unit)

    ok(fn, A, B)
    ok(fn, A[0], B)  # A broadcast over B's batch
    ok(fn, A[:1], B[0])  # B broadcast over A's


def test_solve_triangular_casts_b_and_divides_by_zero() -> None:
    A, B = rnd((3, 3), "float32", seed=13, shift=3), rnd((3, 2), "float64", seed=14)
    ok(lambda T, a, b: T.linalg.solve_triangular(a, b, upper=True), A, B)
    ok(lambda T, a, b: T.linalg.solve_triangular(a, b, upper=True), A.astype("float64"), B.astype("float32"))
    ok(lambda T, a, b: T.linalg.solve_triangular(a, b, upper=True), Arg(np.zeros((2, 2))), Arg(np.ones((2, 1))))
    ok(lambda T, a, b: T.linalg.solve_triangular(a, b, upper=True, unitriangular=True), np.zeros((2, 2)), B[:2])


@pytest.mark.parametrize("upper", [True, False])
@pytest.mark.parametrize("transpose", [False, True])
@pytest.mark.parametrize("unit", [False, True])
def test_triangular_solve(upper: bool, transpose: bool, unit: bool) -> None:
    A, B = rnd((2, 4, 4), seed=15, shift=4), rnd((2, 4, 3), seed=16)
    ok(lambda T, b, a: tuple(T.triangular_solve(b, a, upper, transpose, unit)), B, A)
    ok(lambda T, b, a: tuple(b.triangular_solve(a, upper=upper, transpose=transpose)), B[0], A)  # broadcast


@pytest.mark.parametrize("dt", DTS)
@pytest.mark.parametrize("upper", [False, True])
def test_cholesky_solve_and_inverse(dt: str, upper: bool) -> None:
    L = np.linalg.cholesky(spd((2, 4, 4), seed=17))
    F = (np.swapaxes(L, -1, -2) if upper else L).astype(dt)
    B = rnd((2, 4, 3), dt, seed=18)
    ok(lambda T, b, f: T.cholesky_solve(b, f, upper), B, F)
    ok(lambda T, b, f: b.cholesky_solve(f, upper=upper), B[0], F)
    ok(lambda T, f: T.cholesky_inverse(f, upper), F)
    ok(lambda T, f: f.cholesky_inverse(upper=upper), F[0])


TRI_ERRORS = {
    "st_no_upper": lambda T: T.linalg.solve_triangular(T.eye(3), T.ones(3, 2)),
    "st_int": lambda T: T.linalg.solve_triangular(T.eye(3).int(), T.ones(3, 2), upper=True),
    "st_half": lambda T: T.linalg.solve_triangular(T.eye(3).half(), T.ones(3, 2).half(), upper=True),
    "st_b_1d": lambda T: T.linalg.solve_triangular(T.eye(3), T.ones(3), upper=True),
    "st_a_1d": lambda T: T.linalg.solve_triangular(T.ones(3), T.ones(3, 2), upper=True),
    "st_rect": lambda T: T.linalg.solve_triangular(T.ones(3, 4), T.ones(3, 2), upper=True),
    "st_shape": lambda T: T.linalg.solve_triangular(T.eye(3), T.ones(4, 2), upper=True),
    "st_shape_right": lambda T: T.linalg.solve_triangular(T.eye(3), T.ones(4, 2), upper=True, left=False),
    "st_batch": lambda T: T.linalg.solve_triangular(T.eye(3).expand(2, 3, 3), T.ones(4, 3, 2), upper=True),
    "st_list": lambda T: T.linalg.solve_triangular(T.eye(3), [1.0], upper=True),
    "ts_dtype": lambda T: T.triangular_solve(T.ones(3, 2, dtype=T.float64), T.eye(3)),
    "ts_b_1d": lambda T: T.triangular_solve(T.ones(3), T.eye(3)),
    "ts_a_1d": lambda T: T.triangular_solve(T.ones(3, 2), T.ones(3)),
    "ts_rect": lambda T: T.triangular_solve(T.ones(3, 2), T.ones(3, 4)),
    "ts_shape": lambda T: T.triangular_solve(T.ones(4, 2), T.eye(3)),
    "ts_batch": lambda T: T.triangular_solve(T.ones(4, 3, 2), T.eye(3).expand(2, 3, 3)),
    "ts_int": lambda T: T.triangular_solve(T.ones(3, 2).int(), T.eye(3).int()),
    "cs_dtype": lambda T: T.cholesky_solve(T.ones(3, 2, dtype=T.float64), T.eye(3)),
    "cs_b_1d": lambda T: T.cholesky_solve(T.ones(3), T.eye(3)),
    "cs_u_1d": lambda T: T.cholesky_solve(T.ones(3, 2), T.ones(3)),
    "cs_rect": lambda T: T.cholesky_solve(T.ones(3, 2), T.ones(3, 4)),
    "cs_shape": lambda T: T.cholesky_solve(T.ones(4, 2), T.eye(3)),
    "cs_half": lambda T: T.cholesky_solve(T.ones(3, 2).half(), T.eye(3).half()),
    "ci_1d": lambda T: T.cholesky_inverse(T.ones(3)),
    "ci_rect": lambda T: T.cholesky_inverse(T.ones(3, 4)),
    "ci_int": lambda T: T.cholesky_inverse(T.eye(3).int()),
    "ci_singular": lambda T: T.cholesky_inverse(T.zeros(2, 2)),
    "ci_singular_batch": lambda T: T.cholesky_inverse(T.stack([T.eye(2), T.tensor([[1.0, 0.0], [2.0, 0.0]])])),
}


@pytest.mark.parametrize("name", list(TRI_ERRORS))
def test_triangular_errors(name: str) -> None:
    same_error(TRI_ERRORS[name])


def test_cholesky_solve_of_a_singular_factor() -> None:
    ok(lambda T, b, f: T.cholesky_solve(b, f), Arg(np.ones((2, 1))), Arg(np.zeros((2, 2))))


# ---- _ex forms -------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("dt", DTS)
def test_ex_forms(dt: str) -> None:
    A, B = rnd((2, 3, 3), dt, seed=19, shift=2), rnd((2, 3, 2), dt, seed=20)
    ok(lambda T, a: tuple(T.linalg.inv_ex(a)), A)
    ok(lambda T, a, b: tuple(T.linalg.solve_ex(a, b)), A, B)
    ok(lambda T, a, b: tuple(T.linalg.solve_ex(a, b.mT, left=False)), A, B)
    ok(lambda T, a, b: tuple(T.linalg.solve_ex(a, b[..., 0])), A, B)
    ok(lambda T, a, b: tuple(T.linalg.solve_ex(a, b)), A[0], rnd((4, 3, 2), dt, seed=21))
    ok(lambda T, a: tuple(T.linalg.cholesky_ex(a)), spd((2, 3, 3), dt, seed=22))
    ok(lambda T, a: tuple(T.linalg.cholesky_ex(a, upper=True)), spd((2, 3, 3), dt, seed=22))
    ok(lambda T, a: tuple(T.linalg.inv_ex(a)), np.zeros((2, 0, 0), dt))
    ok(lambda T, a: tuple(T.linalg.cholesky_ex(a)), np.zeros((2, 0, 0), dt))


NOT_PD = np.array(
    [[[4.0, 2.0, 1.0], [2.0, -3.0, 0.0], [1.0, 0.0, 5.0]], [[4.0, 2.0, 1.0], [2.0, 5.0, 0.0], [1.0, 0.0, -5.0]],
     [[-4.0, 2.0, 1.0], [2.0, -3.0, 0.0], [1.0, 0.0, 5.0]], [[4.0, 2.0, 1.0], [2.0, 5.0, 0.0], [1.0, 0.0, 5.0]]]
)  # fmt: skip


@pytest.mark.parametrize("dt", DTS)
def test_ex_forms_report_failures(dt: str) -> None:
    """info and the values LAPACK leaves (potf2's partial factor, getrs's inf and nan), or with check_errors
    torch's _LinAlgError under the _ex function's name."""
    bad = NOT_PD.astype(dt)
    ok(lambda T, a: tuple(T.linalg.cholesky_ex(a)), Arg(bad))
    ok(lambda T, a: tuple(T.linalg.cholesky_ex(a, upper=True)), Arg(bad))
    kind, _ = same_error(lambda T, a: T.linalg.cholesky_ex(a, check_errors=True), bad)
    assert kind == "_LinAlgError"
    same_error(lambda T, a: T.linalg.cholesky(a), bad)
    for A in SINGULAR.values():
        A = A.astype(dt)
        ok(lambda T, a: tuple(T.linalg.inv_ex(a)), Arg(A))
        ok(lambda T, a: tuple(T.linalg.solve_ex(a, T.ones(a.shape[:-1], dtype=a.dtype))), Arg(A))
        same_error(lambda T, a: T.linalg.inv_ex(a, check_errors=True), A)
        same_error(lambda T, a: T.linalg.solve_ex(a, T.ones(a.shape[:-1], dtype=a.dtype), check_errors=True), A)
    # a singular A over a broadcast batch: the error names A's own batch element
    same_error(lambda T, a: T.linalg.solve(a, T.ones(4, 2, 3, 1, dtype=a.dtype)), SINGULAR["batch_element_1"])


def test_ex_form_errors() -> None:
    for name in ("inv_ex", "cholesky_ex"):
        same_error(lambda T, n=name: getattr(T.linalg, n)(T.ones(3)))
        same_error(lambda T, n=name: getattr(T.linalg, n)(T.ones(3, 4)))
        same_error(lambda T, n=name: getattr(T.linalg, n)(T.ones(3, 3, dtype=T.int32)))
        same_error(lambda T, n=name: getattr(T.linalg, n)(T.ones(3, 3, dtype=T.float16)))
        same_error(lambda T, n=name: getattr(T.linalg, n)([[1.0]]))
    same_error(lambda T: T.linalg.solve_ex(T.eye(3), T.ones(3, dtype=T.float64)))
    same_error(lambda T: T.linalg.solve_ex(T.eye(3).int(), T.ones(3).int()))


# ---- matrix_exp ----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("dt", DTS)
@pytest.mark.parametrize("scale", [1e-9, 1e-5, 1e-3, 0.02, 0.1, 0.4, 1.0, 2.5, 8.0])
def test_matrix_exp_each_degree(dt: str, scale: float) -> None:
    """Norms that pick each of torch's Taylor degrees and the scaling and squaring."""
    A = (rnd((4, 4), seed=23) * scale / 4).astype(dt)
    ok(lambda T, a: T.linalg.matrix_exp(a), A)


@pytest.mark.parametrize("dt", DTS)
def test_matrix_exp_batches_and_aliases(dt: str) -> None:
    A = (rnd((3, 2, 3, 3), seed=24) * np.array([1e-3, 0.5, 4.0])[:, None, None, None]).astype(dt)
    ok(lambda T, a: T.linalg.matrix_exp(a), A)
    ok(lambda T, a: T.matrix_exp(a), A[0])
    ok(lambda T, a: a.matrix_exp(), A[1, 0])
    ok(lambda T, a: T.linalg.matrix_exp(a), rnd((2, 1, 1), dt, seed=25))
    ok(lambda T, a: T.linalg.matrix_exp(a), np.zeros((2, 0, 0), dt))
    ok(lambda T, a: T.linalg.matrix_exp(a), np.full((3, 3), np.nan, dt))


def test_matrix_exp_errors_and_half() -> None:
    same_error(lambda T: T.linalg.matrix_exp(T.ones(3)))
    same_error(lambda T: T.linalg.matrix_exp(T.ones(3, 4)))
    same_error(lambda T: T.matrix_exp(T.ones(3, 3, dtype=T.int32)))
    same_error(lambda T: T.linalg.matrix_exp([[1.0]]))
    # float16: torch's kernel returns nan here; the engine rounds the float32 result
    A = rnd((3, 3), seed=26)
    e = engine.linalg.matrix_exp(engine.tensor(A).half())
    assert e.dtype == engine.float16
    expect = torch.linalg.matrix_exp(torch.tensor(A)).numpy()
    np.testing.assert_allclose(e.float().cpu().numpy(), expect, rtol=2e-3, atol=2e-3)


# ---- matrix_rank / cond / vander / tensorinv / tensorsolve -----------------------------------------------------------
LOW_RANK = np.diag([1.0, 2.0, 1e-9, 0.0]) @ rnd((4, 4), seed=27)


@pytest.mark.parametrize(
    "kw", [{}, {"hermitian": True}, {"atol": 0.5}, {"rtol": 0.3}, {"atol": 0.5, "rtol": 0.1}, {"tol": 0.8}]
)
def test_matrix_rank(kw: dict) -> None:
    for A in (rnd((2, 4, 4), seed=28), LOW_RANK, LOW_RANK.astype("float32")):
        ok(lambda T, a: T.linalg.matrix_rank(a + a.mT if kw.get("hermitian") else a, **kw), Arg(A))
    ok(lambda T, a: T.linalg.matrix_rank(a, atol=T.tensor([0.5, 3.0], dtype=T.float64)), Arg(rnd((2, 4, 4), seed=28)))
    ok(lambda T, a: T.linalg.matrix_rank(a), Arg(rnd((3, 5), seed=29)))
    ok(lambda T, a: T.linalg.matrix_rank(a), Arg(np.zeros((2, 0, 3))))


def test_matrix_rank_errors() -> None:
    same_error(lambda T: T.linalg.matrix_rank(T.eye(3), 0.5, atol=0.1))
    same_error(lambda T: T.linalg.matrix_rank(T.ones(3)))
    same_error(lambda T: T.linalg.matrix_rank(T.ones(3, 3, dtype=T.int32)))
    same_error(lambda T: T.linalg.matrix_rank(T.ones(3, 5), hermitian=True))
    same_error(lambda T: T.linalg.matrix_rank(T.full((3, 3), float("nan"))))


ORDS = [None, 2, -2, "fro", "nuc", 1, -1, float("inf"), -float("inf"), 1.0]


@pytest.mark.parametrize("p", ORDS + [3, "abc", 0.5])
def test_cond(p: Any) -> None:
    A = rnd((2, 4, 4), seed=30)
    ok(lambda T, a: T.linalg.cond(a, p), A) if p in ORDS else same_error(lambda T, a: T.linalg.cond(a, p), A)
    for B in (rnd((3, 5), seed=31), np.stack([np.ones((3, 3)), np.eye(3)]), np.zeros((2, 0, 0))):
        computed_or_error = ok if p in (None, 2, -2) or B.shape[-1] == B.shape[-2] else same_error
        if p not in ORDS:
            computed_or_error = same_error
        computed_or_error(lambda T, b: T.linalg.cond(b, p), Arg(B))
    if p in ORDS:
        same_graph(lambda T, a: T.linalg.cond(a, p), A)


def test_cond_errors() -> None:
    same_error(lambda T: T.linalg.cond(T.ones(3)))
    same_error(lambda T: T.linalg.cond(T.ones(3, 3, dtype=T.int64), "fro"))
    same_error(lambda T: T.linalg.cond(T.ones(3, 3, dtype=T.int64)))
    same_error(lambda T: T.linalg.cond(T.ones(3, 3, dtype=T.float16), 1))


VANDER = [
    np.arange(1.0, 5.0), rnd((2, 3), seed=32), np.array(2.0), np.array([1, 2, 3]), np.array([1, 2], np.int8),
    np.array([1, 2], np.uint8), np.array([True, False]), np.array([1.0, 2.0], np.float16), np.zeros(0),
]  # fmt: skip


@pytest.mark.parametrize("i", range(len(VANDER)))
def test_vander(i: int) -> None:
    x = VANDER[i]
    check_or_error = ok if x.dtype != bool and x.dtype != np.float16 and x.size > 1 else same_error
    check_or_error(lambda T, a: T.linalg.vander(a), x)
    (ok if x.dtype != bool and x.dtype != np.float16 else same_error)(lambda T, a: T.linalg.vander(a, N=5), x)
    same_error(lambda T, a: T.linalg.vander(a, N=1), x)
    if x.dtype.kind == "f" and x.ndim and x.dtype != np.float16:
        same_graph(lambda T, a: T.linalg.vander(a, N=4), x)


def test_tensorinv_and_tensorsolve() -> None:
    A4 = rnd((4, 6, 8, 3), seed=33)
    ok(lambda T, a: T.linalg.tensorinv(a, ind=2), A4)
    ok(lambda T, a: T.linalg.tensorinv(a, ind=1), rnd((24, 4, 6), seed=34))
    same_graph(lambda T, a: T.linalg.tensorinv(a, ind=2), A4)
    for ind in (0, -1, 1, 5):
        same_error(lambda T, a, i=ind: T.linalg.tensorinv(a, ind=i), A4)
    same_error(lambda T, a: T.linalg.tensorinv(a), np.zeros((2, 2, 4)))
    same_error(lambda T, a: T.linalg.tensorinv(a.long()), np.ones((2, 2, 4)))
    A, B = rnd((2, 3, 6), seed=35), rnd((2, 3), seed=36)
    ok(lambda T, a, b: T.linalg.tensorsolve(a, b), A, B)
    ok(lambda T, a, b: T.linalg.tensorsolve(a, b, dims=(0,)), rnd((6, 2, 3), seed=37), B)
    ok(lambda T, a, b: T.linalg.tensorsolve(a, b, dims=(0, 2)), rnd((2, 3, 3, 2), seed=38), rnd((3, 2), seed=39))
    same_graph(lambda T, a, b: T.linalg.tensorsolve(a, b), A, B)
    same_graph(lambda T, a, b: T.linalg.tensorsolve(a, b, dims=(0,)), rnd((6, 2, 3), seed=37), B)
    same_error(lambda T, a, b: T.linalg.tensorsolve(a, b), rnd((2, 3, 5), seed=40), B)
    same_error(lambda T, a, b: T.linalg.tensorsolve(a, b), np.zeros((2, 3, 6)), B)
    same_error(lambda T, a, b: T.linalg.tensorsolve(a, b.double()), A.astype("float32"), B)


def test_linalg_cross() -> None:
    a, b = rnd((4, 3), seed=41), rnd((4, 3), seed=42)
    ok(lambda T, x, y: T.linalg.cross(x, y), a, b)
    ok(lambda T, x, y: T.linalg.cross(x, y, dim=0), rnd((3, 4), seed=43), rnd((3, 1), seed=44))
    ok(lambda T, x, y: T.linalg.cross(x, y, out=T.empty(4, 3, dtype=T.float64)), Arg(a), Arg(b))
    same_error(lambda T, x, y: T.linalg.cross(x, y), rnd((4, 2)), rnd((4, 2)))
    same_error(lambda T, x, y: T.linalg.cross(x.float(), y), a, b)


# ---- householder_product ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("shape,k", [((4, 3), 2), ((4, 3), 3), ((2, 5, 3), 3), ((3, 3), 3), ((4, 3), 0), ((5, 1), 1)])
def test_householder_product(shape: tuple, k: int) -> None:
    a = rnd(shape, seed=45)
    t = np.random.default_rng(46).random(shape[:-2] + (k,)) + 0.2
    ok(lambda T, x, y: T.linalg.householder_product(x, y), a, t)
    ok(lambda T, x, y: T.orgqr(x, y), a, t)
    ok(lambda T, x, y: x.orgqr(y), a, t)


def test_householder_product_of_geqrf() -> None:
    q, tau = torch.geqrf(torch.tensor(rnd((5, 3), seed=47)))
    ok(lambda T, x, y: T.linalg.householder_product(x, y), q.numpy(), tau.numpy())


@pytest.mark.parametrize(("shape", "dtype"), [((5, 3), "float64"), ((3, 5), "float32"), ((2, 4, 4), "float64"),
                                            ((0, 3), "float32")])  # fmt: skip
def test_geqrf(shape: tuple, dtype: str) -> None:
    """torch.geqrf: the compact QR (R above the diagonal, the reflectors below, their taus), which
    householder_product turns into Q; not differentiable, as in torch."""
    same(lambda T, x: tuple(T.geqrf(x)), rnd(shape, dtype, seed=48))
    same(lambda T, x: T.linalg.householder_product(*x.geqrf()), rnd(shape, dtype, seed=49)) if shape[-2] >= shape[
        -1
    ] else None
    same_error(lambda T: T.geqrf(T.ones(3)))
    same_error(lambda T: T.geqrf(T.ones(3, 3, dtype=T.int64)))
    same_error(lambda T: T.geqrf(T.ones(3, 3, requires_grad=True)).a.sum().backward())


HOUSEHOLDER_ERRORS = {
    "1d": lambda T: T.linalg.householder_product(T.ones(3), T.ones(1)),
    "wide": lambda T: T.linalg.householder_product(T.ones(3, 4), T.ones(2)),
    "tau_long": lambda T: T.linalg.householder_product(T.ones(4, 3), T.ones(4)),
    "tau_batch": lambda T: T.linalg.householder_product(T.ones(2, 4, 3), T.ones(3, 2)),
    "tau_ndim": lambda T: T.linalg.householder_product(T.ones(2, 4, 3), T.ones(2)),
    "dtype": lambda T: T.linalg.householder_product(T.ones(4, 3), T.ones(2, dtype=T.float64)),
    "int": lambda T: T.linalg.householder_product(T.ones(4, 3, dtype=T.int32), T.ones(2, dtype=T.int32)),
    "tau_0d": lambda T: T.linalg.householder_product(T.ones(4, 3), T.tensor(1.0)),
}


@pytest.mark.parametrize("name", list(HOUSEHOLDER_ERRORS))
def test_householder_errors(name: str) -> None:
    same_error(HOUSEHOLDER_ERRORS[name])


# ---- gradcheck and second order ---------------------------------------------------------------------------------
GRADCHECK = {
    "lu_factor": (lambda a: engine.linalg.lu_factor(a)[0], [(2, 3, 3)]),
    "lu_factor_wide": (lambda a: engine.linalg.lu_factor(a)[0], [(3, 5)]),
    "lu_factor_tall": (lambda a: engine.linalg.lu_factor(a)[0], [(5, 3)]),
    "lu": (lambda a: tuple(engine.linalg.lu(a))[1:], [(2, 3, 3)]),
    "lu_wide": (lambda a: tuple(engine.linalg.lu(a))[1:], [(3, 5)]),
    "lu_tall": (lambda a: tuple(engine.linalg.lu(a))[1:], [(5, 3)]),
    "lu_unpack": (lambda a: tuple(engine.lu_unpack(a, engine.linalg.lu_factor(a.detach())[1]))[1:], [(2, 3, 3)]),
    "lu_solve": (lambda a, b: engine.linalg.lu_solve(*engine.linalg.lu_factor(a), b), [(2, 3, 3), (2, 3, 2)]),
    "lu_solve_adjoint": (
        lambda a, b: engine.linalg.lu_solve(*engine.linalg.lu_factor(a), b, adjoint=True),
        [(2, 3, 3), (2, 3, 2)],
    ),
    "lu_solve_right": (
        lambda a, b: engine.linalg.lu_solve(*engine.linalg.lu_factor(a), b, left=False),
        [(2, 3, 3), (2, 2, 3)],
    ),
    "solve_triangular": (lambda a, b: engine.linalg.solve_triangular(a, b, upper=True), [(2, 3, 3), (2, 3, 2)]),
    "solve_triangular_unit_right": (
        lambda a, b: engine.linalg.solve_triangular(a, b, upper=False, left=False, unitriangular=True),
        [(2, 3, 3), (2, 2, 3)],
    ),
    "triangular_solve": (lambda b, a: tuple(engine.triangular_solve(b, a, False, True)), [(2, 3, 2), (2, 3, 3)]),
    "cholesky_solve": (lambda b, f: engine.cholesky_solve(b, f.tril()), [(2, 3, 2), "chol"]),
    "cholesky_inverse_upper": (lambda f: engine.cholesky_inverse(f.tril().mT, True), ["chol"]),
    "matrix_exp": (lambda a: engine.linalg.matrix_exp(a), [(2, 3, 3)]),
    "matrix_exp_small": (lambda a: engine.linalg.matrix_exp(a * 0.01), [(3, 3)]),
    "householder_product": (lambda a, t: engine.linalg.householder_product(a, t), [(2, 5, 3), "tau"]),
    "inv_ex": (lambda a: engine.linalg.inv_ex(a)[0], [(2, 3, 3)]),
    "tensorinv": (lambda a: engine.linalg.tensorinv(a, ind=1), [(6, 2, 3)]),
}


def _gradcheck_inputs(shapes: list) -> tuple:
    out = []
    for i, s in enumerate(shapes):
        if s == "chol":
            a = np.linalg.cholesky(spd((2, 3, 3), seed=50))
        elif s == "tau":
            a = np.random.default_rng(51).random((2, 2)) + 0.2
        else:
            a = rnd(s, seed=52 + i, shift=2.0)
        out.append(engine.tensor(a, requires_grad=True))
    return tuple(out)


@pytest.mark.parametrize("name", list(GRADCHECK))
def test_gradcheck(name: str) -> None:
    fn, shapes = GRADCHECK[name]
    inputs = _gradcheck_inputs(shapes)
    assert gradcheck(fn, inputs)
    assert gradgradcheck(fn, inputs)


SECOND = {
    "lu_factor": (lambda T, a: T.linalg.lu_factor(a)[0], [(2, 3, 3)]),
    "lu": (lambda T, a: tuple(T.linalg.lu(a))[1:], [(3, 4)]),
    "lu_solve": (lambda T, a, b: T.linalg.lu_solve(*T.linalg.lu_factor(a), b), [(3, 3), (3, 2)]),
    "solve_triangular": (lambda T, a, b: T.linalg.solve_triangular(a, b, upper=False), [(3, 3), (3, 2)]),
    "cholesky_solve": (lambda T, b, a: T.cholesky_solve(b, a.tril()), [(3, 2), (3, 3)]),
    "cholesky_inverse": (lambda T, a: T.cholesky_inverse(a.tril()), [(3, 3)]),
    "matrix_exp": (lambda T, a: T.linalg.matrix_exp(a), [(3, 3)]),
    "householder_product": (lambda T, a, t: T.linalg.householder_product(a, t.abs()), [(4, 3), (2,)]),
}


@pytest.mark.parametrize("name", list(SECOND))
def test_second_order(name: str) -> None:
    build, shapes = SECOND[name]
    arrays = [rnd(s, seed=60 + i, shift=2.0) for i, s in enumerate(shapes)]
    ok(_second(build), *arrays, grad=False, atol=1e-8, rtol=1e-7, names=False)


# ---- property: any matrix, the same factorization ------------------------------------------------------------------
@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    m=st.integers(1, 6),
    n=st.integers(1, 6),
    batch=st.sampled_from([(), (2,), (2, 1)]),
    seed=st.integers(0, 2**16),
    zero_rows=st.integers(0, 2),
)
def test_lu_factor_ex_matches_torch(m: int, n: int, batch: tuple, seed: int, zero_rows: int) -> None:
    """Any shape, including rank-deficient matrices with exact zero pivots: torch's pivots, info and factor, and
    solve_triangular with its upper factor."""
    A = rnd(batch + (m, n), seed=seed)
    A[..., : min(zero_rows, m), :] = 0.0
    ok(lambda T, a: tuple(T.linalg.lu_factor_ex(a)), Arg(A), atol=1e-9, rtol=1e-9)
    if zero_rows and m > 1:  # (a zero on U's diagonal: the substitution's inf and nan depend on the order of sums)
        return
    k = min(m, n)
    B = rnd(batch + (k, 2), seed=seed + 1)
    ok(lambda T, a, b: T.linalg.solve_triangular(T.linalg.lu_factor_ex(a)[0][..., :k, :k], b, upper=True), Arg(A), B,
       atol=1e-6, rtol=1e-6)  # fmt: skip
