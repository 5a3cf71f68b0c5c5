"""engine/ops/linalg_more.py against torch (the oracle, PyTorch 2.13 on the cpu): determinants, inverses and
solvers, matrix_power, the fused products (addmv, addr, baddbmm, addbmm), vdot, tensordot, multi_dot, chain_matmul,
torch.linalg's decompositions (cholesky, qr, eigh, svd), pinv, lstsq and the matrix norms. Values, dtypes, grad_fn
names, first-order gradients, second order where torch differentiates twice, and torch's errors.

Eigenvectors and singular vectors are unique up to sign only, and the sign LAPACK picks differs between MKL (torch)
and OpenBLAS (numpy) or cuSOLVER: those tests compare what does not depend on it (values, |V|, reconstructions and
the gradients of sign-free functions of the factors)."""

from __future__ import annotations

import warnings
from typing import Any

import helpers
import numpy as np
import pytest
import torch
from helpers import Arg, computed, graph, make, same, same_error

import engine
import engine.ops.linalg_more as LM

pytestmark = pytest.mark.usefixtures("device")

DTS = ["float32", "float64"]
INF = float("inf")


def lib(T: Any, name: str) -> Any:
    return getattr(torch, name) if T is torch else LM.TORCH[name]


def la(T: Any, name: str) -> Any:
    return getattr(torch.linalg, name) if T is torch else LM.LINALG[name]


def meth(T: Any, x: Any, name: str, *args: Any, **kw: Any) -> Any:
    return getattr(x, name)(*args, **kw) if T is torch else LM.METHODS[name](x, *args, **kw)


ok = computed  # (a case that must compute)


def wc(shape: tuple, dtype: str = "float64", seed: int = 0) -> np.ndarray:
    """Well-conditioned data: a square matrix gets n * I added, so inverses and solves stay accurate in float32."""
    a = np.random.default_rng(seed).standard_normal(shape)
    if len(shape) >= 2 and shape[-1] == shape[-2]:
        a = a + shape[-1] * np.eye(shape[-1])
    return a.astype(dtype)


def spd(shape: tuple, dtype: str = "float64", seed: int = 0) -> np.ndarray:
    a = np.random.default_rng(seed).standard_normal(shape)
    return (a @ np.swapaxes(a, -1, -2) + shape[-1] * np.eye(shape[-1])).astype(dtype)


def sym(shape: tuple, dtype: str = "float64", seed: int = 0) -> np.ndarray:
    a = np.random.default_rng(seed).standard_normal(shape)
    return (a + np.swapaxes(a, -1, -2)).astype(dtype)


def full_graph(fn: Any, *arrays: np.ndarray, depth: int = 32) -> None:
    """The whole recorded graph, node for node, is torch's."""
    graphs = []
    for T in (torch, engine):
        ts = [T.tensor(a, requires_grad=True) for a in arrays]
        graphs.append(graph(fn(T, *ts), depth=depth))
    assert graphs[1] == graphs[0]


# ---- det / logdet / slogdet ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("dt", DTS)
@pytest.mark.parametrize("shape", [(1, 1), (3, 3), (2, 3, 3), (2, 1, 4, 4)])
def test_det_family_values_and_grads(dt: str, shape: tuple) -> None:
    A = wc(shape, dt)
    ok(lambda T, a: lib(T, "det")(a), A)
    ok(lambda T, a: la(T, "det")(a), A)
    ok(lambda T, a: lib(T, "logdet")(a), A)
    ok(lambda T, a: tuple(lib(T, "slogdet")(a)), A)
    ok(lambda T, a: tuple(la(T, "slogdet")(a)), A)
    ok(lambda T, a: meth(T, a, "det"), A)
    ok(lambda T, a: meth(T, a, "logdet"), A)
    ok(lambda T, a: tuple(meth(T, a, "slogdet")), A)


def test_det_of_general_matrices() -> None:
    # random matrices without the diagonal shift: negative determinants, pivoting in the LU
    A = make((3, 4, 4), "float64", seed=3)
    ok(lambda T, a: lib(T, "det")(a), A)
    ok(lambda T, a: tuple(lib(T, "slogdet")(a)), A)
    ok(lambda T, a: lib(T, "logdet")(a), A)  # nan where the determinant is negative (and a zero gradient there)


def test_det_singular() -> None:
    # an exact zero pivot: det 0, slogdet (0, -inf), logdet -inf; det's plain backward is torch's (zero here)
    S = np.array([[1.0, 2.0, 3.0], [2.0, 4.0, 6.0], [1.0, 1.0, 1.0]])
    Z = np.array([[1.0, 2.0], [0.0, 0.0]])
    ok(lambda T, a: lib(T, "det")(a), Z)
    ok(lambda T, a: lib(T, "det")(a), np.stack([Z, np.eye(2)]))
    ok(lambda T, a: tuple(lib(T, "slogdet")(a)), Arg(Z))
    ok(lambda T, a: lib(T, "logdet")(a), Arg(Z))
    ok(lambda T, a: lib(T, "det")(a), Arg(S), atol=1e-12)


def test_slogdet_sign_alone_has_no_gradient() -> None:
    def fn(T: Any, a: Any) -> Any:
        a.requires_grad_()
        sign, logabs = lib(T, "slogdet")(a)
        sign.sum().backward()
        return a.grad is None, sign.requires_grad, sign.grad_fn.name()

    assert same(fn, wc((3, 3))) == (True, True, "LinalgSlogdetBackward0")


def test_det_empty() -> None:
    ok(lambda T, a: lib(T, "det")(a), np.zeros((0, 0)))
    ok(lambda T, a: lib(T, "det")(a), np.zeros((0, 2, 2)))
    ok(lambda T, a: tuple(lib(T, "slogdet")(a)), np.zeros((0, 0)))
    ok(lambda T, a: lib(T, "logdet")(a), np.zeros((2, 0, 0)))


def test_slogdet_return_type_prints_as_torchs() -> None:
    A = wc((2, 2))
    assert same(lambda T, a: repr(lib(T, "slogdet")(a)), A).startswith("torch.return_types.slogdet(\nsign=")
    assert same(lambda T, a: repr(la(T, "slogdet")(a)), A).startswith("torch.return_types.linalg_slogdet(\nsign=")
    assert same(lambda T, a: repr(type(la(T, "slogdet")(a))), A) == "<class 'torch.return_types.linalg_slogdet'>"
    ok(lambda T, a: (lib(T, "slogdet")(a).sign, lib(T, "slogdet")(a).logabsdet), A)
    # (float32: no dtype in the text, which a device's suffix would wrap onto another line)
    with_grad = same(lambda T, a: str(lib(T, "slogdet")(a.requires_grad_())), A.astype(np.float32))
    assert "grad_fn=<LinalgSlogdetBackward0>" in with_grad


# ---- inverse / solve ----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("dt", DTS)
@pytest.mark.parametrize("shape", [(3, 3), (2, 3, 3), (2, 2, 1, 1)])
def test_inverse_values_and_grads(dt: str, shape: tuple) -> None:
    A = wc(shape, dt)
    ok(lambda T, a: lib(T, "inverse")(a), A)
    ok(lambda T, a: la(T, "inv")(a), A)
    ok(lambda T, a: meth(T, a, "inverse"), A)
    ok(lambda T, a: lib(T, "inverse")(a), make(shape, dt, seed=4), atol=1e-3, rtol=1e-3)  # pivoting


def test_inverse_empty() -> None:
    ok(lambda T, a: la(T, "inv")(a), np.zeros((0, 0)))
    ok(lambda T, a: la(T, "inv")(a), np.zeros((0, 2, 2)))


SINGULAR = {
    "rank1": np.array([[1.0, 2.0], [2.0, 4.0]]),
    "third_pivot": np.array([[1.0, 2.0, 3.0], [2.0, 4.0, 6.0], [1.0, 1.0, 1.0]]),
    "zeros": np.zeros((3, 3)),
    "zero_first_column": np.array([[0.0, 1.0, 2.0], [0.0, 3.0, 4.0], [0.0, 5.0, 7.0]]),
    "zero_last_row": np.array([[2.0, 1.0, 1.0], [1.0, 3.0, 2.0], [0.0, 0.0, 0.0]]),
    "batch_element_1": np.stack([np.eye(3), np.array([[1.0, 2.0, 3.0], [2.0, 4.0, 6.0], [1.0, 1.0, 1.0]])]),
    "batch_2x2": np.stack([np.eye(2), np.eye(2), np.eye(2), np.zeros((2, 2))]).reshape(2, 2, 2, 2),
}


@pytest.mark.parametrize("name", list(SINGULAR))
@pytest.mark.parametrize("dt", DTS)
def test_singular_errors(name: str, dt: str) -> None:
    """torch's _LinAlgError, with the failing pivot and batch element LAPACK reports."""
    A = SINGULAR[name].astype(dt)
    kind, msg = same_error(lambda T, a: la(T, "inv")(a), A)
    assert kind == "_LinAlgError" and "is singular" in msg
    same_error(lambda T, a: lib(T, "inverse")(a), A)
    same_error(lambda T, a: lib(T, "matrix_power")(a, -2), A)
    same_error(lambda T, a: la(T, "solve")(a, T.ones(A.shape[:-1], dtype=a.dtype)), A)
    same_error(lambda T, a: la(T, "solve")(a, T.ones(A.shape[-1], 2, dtype=a.dtype)), A)


def test_linalg_error_type() -> None:
    def fn(T: Any) -> Any:
        try:
            la(T, "inv")(T.zeros(2, 2))
        except la(T, "LinAlgError") as e:
            return isinstance(e, RuntimeError), repr(type(e))
        return None

    assert same(fn) == (True, "<class 'torch._C._LinAlgError'>")


@pytest.mark.parametrize("dt", DTS)
def test_solve_values_and_grads(dt: str) -> None:
    A, Ab = wc((3, 3), dt), wc((2, 3, 3), dt, 1)
    ok(lambda T, a, b: la(T, "solve")(a, b), A, wc((3, 2), dt, 2))  # matrix right-hand side
    ok(lambda T, a, b: la(T, "solve")(a, b), A, wc((3,), dt, 2))  # a vector
    ok(lambda T, a, b: la(T, "solve")(a, b), Ab, wc((2, 3), dt, 2))  # a batch of vectors (B.shape == A.shape[:-1])
    ok(lambda T, a, b: la(T, "solve")(a, b), Ab, wc((3,), dt, 2))  # one vector for the batch
    ok(lambda T, a, b: la(T, "solve")(a, b), A, wc((2, 3, 4), dt, 2))  # A broadcast over B's batch
    ok(lambda T, a, b: la(T, "solve")(a, b), Ab, wc((3, 4), dt, 2))  # B broadcast over A's batch
    ok(lambda T, a, b: la(T, "solve")(a, b), wc((2, 1, 3, 3), dt, 3), wc((4, 3, 1), dt, 2))
    ok(lambda T, a, b: la(T, "solve")(a, b, left=False), Ab, wc((2, 4, 3), dt, 2))  # X A = B
    ok(lambda T, a, b: la(T, "solve")(a, b), A, Arg(wc((3, 2), dt, 2)))  # only A requires grad
    ok(lambda T, a, b: la(T, "solve")(a, b), Arg(A), wc((3, 2), dt, 2))  # only B


def test_solve_errors() -> None:
    f = np.eye(3, dtype=np.float32)
    same_error(lambda T, a: la(T, "solve")(a, T.ones(2)), f)
    same_error(lambda T, a: la(T, "solve")(a, T.ones(2, 2)), f)
    same_error(lambda T, a: la(T, "solve")(a, T.ones(3, dtype=T.float64)), f)
    same_error(lambda T, a: la(T, "solve")(a, T.tensor(1.0)), f)
    same_error(lambda T, a: la(T, "solve")(a, T.ones(3), left=False), f)
    same_error(lambda T, a: la(T, "solve")(a, T.ones(3, 2), left=False), f)
    same_error(lambda T, a: la(T, "solve")(a, T.ones(3, 3, 4)), np.ones((2, 3, 3), np.float32))
    same_error(lambda T, a: la(T, "solve")(a, a), np.ones((2, 3)))
    same_error(lambda T, a: la(T, "solve")(a, [1.0, 2.0]), np.eye(2))
    same_error(lambda T: la(T, "inv")([[1.0]]))
    same_error(lambda T: lib(T, "det")([[1.0]]))


# ---- second order ---------------------------------------------------------------------------------------------
def _second(build: Any) -> Any:
    """fn for check: the gradient taken with create_graph, then the gradient of a function of it."""

    def fn(T: Any, *xs: Any) -> Any:
        xs = [x.requires_grad_() for x in xs]
        y = build(T, *xs)
        gs = T.autograd.grad((y * y).sum(), xs, create_graph=True)
        ggs = T.autograd.grad(sum((g * g.sin()).sum() for g in gs), xs)
        return tuple(gs) + tuple(ggs)

    return fn


SECOND = {
    "det": (lambda T, a: lib(T, "det")(a), [(2, 3, 3)]),
    "det_singular": (lambda T, a: lib(T, "det")(a * T.tensor([1.0, 1.0, 0.0]).unsqueeze(-1)), [(3, 3)]),
    "inv": (lambda T, a: la(T, "inv")(a), [(2, 3, 3)]),
    "solve": (lambda T, a, b: la(T, "solve")(a, b), [(2, 3, 3), (2, 3, 2)]),
    "solve_vector": (lambda T, a, b: la(T, "solve")(a, b), [(3, 3), (3,)]),
    "solve_right": (lambda T, a, b: la(T, "solve")(a, b, left=False), [(3, 3), (2, 3)]),
    "slogdet": (lambda T, a: lib(T, "slogdet")(a)[1], [(2, 3, 3)]),
    "logdet": (lambda T, a: lib(T, "logdet")(a @ a.mT), [(3, 3)]),
    "matrix_power": (lambda T, a: lib(T, "matrix_power")(a, -3), [(3, 3)]),
    "cholesky": (lambda T, a: la(T, "cholesky")(a @ a.mT), [(3, 3)]),
    "pinv": (lambda T, a: la(T, "pinv")(a), [(4, 3)]),
    "svdvals": (lambda T, a: la(T, "svdvals")(a), [(2, 4, 3)]),
    "eigvalsh": (lambda T, a: la(T, "eigvalsh")(a + a.mT), [(3, 3)]),
    "qr_r": (lambda T, a: la(T, "qr")(a)[1], [(4, 3)]),
    "nuclear_norm": (lambda T, a: la(T, "matrix_norm")(a, "nuc"), [(3, 4)]),
    "addmv": (lambda T, i, m, v: lib(T, "addmv")(i, m, v, beta=2, alpha=3) ** 2, [(2,), (2, 3), (3,)]),
    "baddbmm": (lambda T, i, m, v: lib(T, "baddbmm")(i, m, v, alpha=0.5) ** 2, [(2, 2, 4), (2, 2, 3), (2, 3, 4)]),
    "tensordot": (lambda T, a, b: lib(T, "tensordot")(a, b, dims=([1, 2], [1, 0])) ** 2, [(2, 3, 4), (4, 3, 2)]),
}


@pytest.mark.parametrize("name", list(SECOND))
def test_second_order(name: str) -> None:
    build, shapes = SECOND[name]
    arrays = [wc(s, "float64", seed=i) for i, s in enumerate(shapes)]
    # (names=False: the nodes inside torch's backward formulas, LinalgSolveTriangularBackward0 & co, are not
    # compared; the values of both orders are)
    ok(_second(build), *arrays, grad=False, atol=1e-8, rtol=1e-7, names=False)


# ---- matrix_power ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("n", list(range(-5, 9)))
def test_matrix_power(n: int) -> None:
    A = wc((3, 3), "float64") / 3
    ok(lambda T, a: lib(T, "matrix_power")(a, n), A)
    ok(lambda T, a: la(T, "matrix_power")(a, n), wc((2, 3, 3), "float64", 1) / 3)
    ok(lambda T, a: meth(T, a, "matrix_power", n), A)
    # torch's order of products (and its clone / copy for n = 1 / 0), node for node
    full_graph(lambda T, a: lib(T, "matrix_power")(a, n), A)


def test_matrix_power_dtypes() -> None:
    ok(lambda T, a: lib(T, "matrix_power")(a, 3), make((2, 2), "int64"))
    ok(lambda T, a: lib(T, "matrix_power")(a, 0), make((2, 2), "bool"))
    ok(lambda T, a: lib(T, "matrix_power")(a, 2), make((2, 2), "float16"))
    ok(lambda T, a: lib(T, "matrix_power")(a, 4), np.zeros((0, 0), np.float32))
    same_error(lambda T, a: lib(T, "matrix_power")(a, 2), make((2, 2), "bool"))
    same_error(lambda T, a: lib(T, "matrix_power")(a, -1), make((2, 2), "int64"))
    same_error(lambda T, a: lib(T, "matrix_power")(a, 2.0), wc((2, 2)))
    same_error(lambda T, a: lib(T, "matrix_power")(a, True), wc((2, 2)))


# ---- products: vdot, vecdot, tensordot, multi_dot, chain_matmul ----------------------------------------------------
def test_vdot_and_vecdot() -> None:
    ok(lambda T, a, b: lib(T, "vdot")(a, b), make((4,)), make((4,), seed=1))
    ok(lambda T, a, b: meth(T, a, "vdot", b), make((4,), "float64"), make((4,), "float64", seed=1))
    ok(lambda T, a, b: lib(T, "vdot")(a, b), Arg(make((4,), "int64")), Arg(make((4,), "int64", seed=1)))
    ok(lambda T, a, b: la(T, "vecdot")(a, b), make((2, 3)), make((3,), seed=1))
    ok(lambda T, a, b: la(T, "vecdot")(a, b, dim=0), make((3, 4)), make((3, 1), seed=1))
    ok(lambda T, a, b: la(T, "vecdot")(a, b), make((2, 3), "float16"), make((2, 3), "float16", seed=1))
    ok(lambda T, a: la(T, "diagonal")(a, offset=1), make((2, 3, 4)))
    ok(lambda T, a: la(T, "diagonal")(a, dim1=0, dim2=2), make((2, 3, 4)))
    ok(lambda T, a, b: la(T, "matmul")(a, b), make((2, 3, 4)), make((4, 2), seed=1))


def test_vdot_vecdot_errors() -> None:
    same_error(lambda T, a: lib(T, "vdot")(a, a), make((2, 3)))
    same_error(lambda T: lib(T, "vdot")(T.ones(3), T.ones(3, dtype=T.float64)))
    same_error(lambda T: lib(T, "vdot")(T.ones(3), T.ones(2)))
    same_error(lambda T: lib(T, "vdot")(T.ones(3, dtype=T.bool), T.ones(3, dtype=T.bool)))
    same_error(lambda T, a: la(T, "vecdot")(a, a), make((2, 2), "int64"))
    same_error(lambda T: la(T, "vecdot")(T.ones(3), T.ones(3, dtype=T.float64)))
    same_error(lambda T: la(T, "vecdot")(T.ones(2, 3), T.ones(2)))
    same_error(lambda T: la(T, "diagonal")(T.ones(3)))


TENSORDOT = {
    "int_2": (2, [(2, 3, 4), (3, 4, 5)]),
    "int_1": (1, [(2, 3, 4), (4, 5)]),
    "int_0": (0, [(2, 3), (4,)]),
    "lists": (([1, 2], [2, 1]), [(2, 3, 4), (5, 4, 3)]),  # b's dims permuted: a copy (UnsafeView over Clone)
    "lists_negative": (([-1, 0], [0, -1]), [(2, 3, 4), (4, 5, 2)]),
    "broadcast_dim": (([1], [0]), [(2, 3), (1, 4)]),  # a size-1 dim is summed first
    "broadcast_dim_a": (([1], [0]), [(2, 1), (3, 4)]),
    "ints": ([[0], [1]], [(3, 2), (4, 3)]),
}


@pytest.mark.parametrize("name", list(TENSORDOT))
def test_tensordot(name: str) -> None:
    dims, shapes = TENSORDOT[name]
    arrays = [make(s, seed=i) for i, s in enumerate(shapes)]
    ok(lambda T, a, b: lib(T, "tensordot")(a, b, dims=dims), *arrays)
    full_graph(lambda T, a, b: lib(T, "tensordot")(a, b, dims=dims), *arrays)


def test_tensordot_dims_tensor_and_ints() -> None:
    ok(lambda T, a, b: lib(T, "tensordot")(a, b, dims=T.tensor(1)), make((2, 3)), make((3, 4), seed=1))
    ok(lambda T, a, b: lib(T, "tensordot")(a, b, dims=T.tensor([[1], [0]])), make((2, 3)), make((3, 4), seed=1))
    ok(lambda T, a, b: lib(T, "tensordot")(a, b, 1), Arg(make((2, 3), "int64")), Arg(make((3, 4), "int64", seed=1)))


def test_tensordot_errors() -> None:
    r = make((2, 3))
    same_error(lambda T, a: lib(T, "tensordot")(a, a, dims=1), r)
    same_error(lambda T, a: lib(T, "tensordot")(a, a, dims=-1), r)
    same_error(lambda T, a: lib(T, "tensordot")(a, a.t(), dims=3), r)
    same_error(lambda T, a: lib(T, "tensordot")(a, a.double().t(), dims=1), r)
    same_error(lambda T, a: lib(T, "tensordot")(a, a, dims=([0], [0, 1])), r)
    same_error(lambda T, a: lib(T, "tensordot")(a, a, dims="x"), r)
    same_error(lambda T, a: lib(T, "tensordot")(a, a, dims=([0, 0], [0, 0])), make((2, 2)))
    same_error(lambda T, a: lib(T, "tensordot")(a, a, dims=([5], [0])), make((2, 2)))
    same_error(lambda T, a: lib(T, "tensordot")(a, a.t(), dims=(1, 0)), r)
    same_error(lambda T, a: lib(T, "tensordot")(a, a.t(), dims=([1], 0)), r)


MULTI_DOT = {
    "two": [(2, 3), (3, 4)],
    "three_left_first": [(2, 3), (3, 4), (4, 5)],
    "three_right_first": [(5, 4), (4, 3), (3, 2)],
    "four_chain_order": [(3, 8), (8, 2), (2, 5), (5, 1)],
    "five": [(2, 7), (7, 3), (3, 9), (9, 1), (1, 4)],
    "vectors": [(3,), (3, 4), (4,)],
    "vector_first": [(3,), (3, 4), (4, 2)],
    "vector_last": [(2, 3), (3,)],
    "dot": [(3,), (3,)],
}


@pytest.mark.parametrize("name", list(MULTI_DOT))
def test_multi_dot(name: str) -> None:
    arrays = [make(s, "float64", seed=i) for i, s in enumerate(MULTI_DOT[name])]
    ok(lambda T, *ms: la(T, "multi_dot")(list(ms)), *arrays)
    full_graph(lambda T, *ms: la(T, "multi_dot")(ms), *arrays)


def test_multi_dot_errors() -> None:
    r = make((2, 3))
    same_error(lambda T, a: la(T, "multi_dot")([a]), r)
    same_error(lambda T, a: la(T, "multi_dot")([a, a]), r)
    same_error(lambda T, a: la(T, "multi_dot")([a, T.ones(3, 2, 2)]), r)
    same_error(lambda T, a: la(T, "multi_dot")([T.ones(1, 2, 3), T.ones(3)]), r)
    same_error(lambda T, a: la(T, "multi_dot")([a, T.ones(3), T.ones(3)]), r)
    same_error(lambda T, a: la(T, "multi_dot")([a, T.ones(3, dtype=T.float64)]), r)
    same_error(lambda T: la(T, "multi_dot")([]))


def test_chain_matmul() -> None:
    arrays = [make(s, "float64", seed=i) for i, s in enumerate([(2, 3), (3, 4), (4, 5)])]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ok(lambda T, *ms: lib(T, "chain_matmul")(*ms), *arrays)
        ok(lambda T, a: lib(T, "chain_matmul")(a), arrays[0])  # one matrix: a clone
        full_graph(lambda T, *ms: lib(T, "chain_matmul")(*ms), *arrays)
        same_error(lambda T, a: lib(T, "chain_matmul")(T.ones(3), a), arrays[0])
        same_error(lambda T: lib(T, "chain_matmul")())


def test_chain_matmul_warns_once() -> None:
    from engine import warn

    warn._WARNED_ONCE.clear()
    a = engine.ones(2, 2)
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        LM.TORCH["chain_matmul"](a, a)
        LM.TORCH["chain_matmul"](a, a)
    assert [str(x.message) for x in w] == [
        "torch.chain_matmul is deprecated and will be removed in a future PyTorch release. Use torch.linalg.multi_dot "
        "instead, which accepts a list of two or more tensors rather than multiple parameters. (Triggered internally "
        "at /__w/pytorch/pytorch/aten/src/ATen/native/LinearAlgebra.cpp:1102.)"
    ]
    assert w[0].category is UserWarning and w[0].filename == __file__


# ---- addmv / addr / baddbmm / addbmm -----------------------------------------------------------------------------
FUSED = {
    "addmv": ("addmv", [(2,), (2, 3), (3,)]),
    "addmv_scalar_bias": ("addmv", [(), (2, 3), (3,)]),
    "addmv_one_bias": ("addmv", [(1,), (2, 3), (3,)]),
    "addr": ("addr", [(2, 3), (2,), (3,)]),
    "addr_row_bias": ("addr", [(3,), (2,), (3,)]),
    "addr_scalar_bias": ("addr", [(), (2,), (3,)]),
    "baddbmm": ("baddbmm", [(2, 2, 4), (2, 2, 3), (2, 3, 4)]),
    "baddbmm_broadcast_bias": ("baddbmm", [(2, 1), (3, 2, 4), (3, 4, 5)]),
    "addbmm": ("addbmm", [(2, 4), (3, 2, 3), (3, 3, 4)]),
    "addbmm_row_bias": ("addbmm", [(4,), (3, 2, 3), (3, 3, 4)]),
}


@pytest.mark.parametrize("scalars", [{}, {"beta": 0.5, "alpha": 2}, {"beta": 0}, {"alpha": 0}])
@pytest.mark.parametrize("name", list(FUSED))
def test_fused_products(name: str, scalars: dict) -> None:
    op, shapes = FUSED[name]
    for dt in DTS:
        arrays = [make(s, dt, seed=i) for i, s in enumerate(shapes)]
        ok(lambda T, i, a, b: lib(T, op)(i, a, b, **scalars), *arrays)
        ok(lambda T, i, a, b: meth(T, i, op, a, b, **scalars), *arrays)


@pytest.mark.parametrize("op", ["addmv", "addr", "baddbmm", "addbmm"])
def test_fused_products_ignore_bias_for_beta_zero(op: str) -> None:
    shapes = next(s for n, s in FUSED.values() if n == op)
    bias = np.full(shapes[0], np.nan, np.float32)
    out = ok(lambda T, i, a, b: lib(T, op)(i, a, b, beta=0), bias, make(shapes[1], seed=1), make(shapes[2], seed=2))
    assert not out.isnan().any()


@pytest.mark.parametrize("op", ["addmv", "addr", "baddbmm", "addbmm"])
def test_fused_products_inplace(op: str) -> None:
    shapes = next(s for n, s in FUSED.values() if n == op)
    out_shape = {"addmv": (2,), "addr": (2, 3), "baddbmm": (2, 2, 4), "addbmm": (2, 4)}[op]

    def fn(T: Any, i: Any, a: Any, b: Any) -> Any:
        x = i * 1  # (a non-leaf, written in place)
        r = meth(T, x, op + "_", a, b, beta=0.5, alpha=2)
        return r is x, x

    ok(fn, make(out_shape), make(shapes[1], seed=1), make(shapes[2], seed=2))


def test_fused_products_integers() -> None:
    i22, i2 = Arg(make((2, 2), "int64")), Arg(make((2,), "int64", seed=1))
    ok(lambda T, i, m, v: lib(T, "addmv")(i, m, v, beta=3, alpha=2.5), i2, i22, i2)  # alpha truncated to 2
    ok(lambda T, i, a, b: lib(T, "addr")(i, a, b, beta=2, alpha=3), i22, i2, i2)
    ok(
        lambda T, i, a, b: lib(T, "addr")(i, a, b),
        Arg(make((2, 2), "bool")),
        Arg(make((2,), "bool")),
        Arg(make((2,), "bool", seed=1)),
    )
    ok(
        lambda T, i, a, b: lib(T, "addr")(i, a, b, beta=False),
        Arg(make((2, 2), "bool")),
        Arg(make((2,), "bool")),
        Arg(make((2,), "bool")),
    )
    ok(lambda T, i, a, b: lib(T, "addr")(i, a, b), i22, Arg(make((2,), "float32")), i2)  # promoted to float32
    b3 = Arg(make((1, 2, 2), "int64"))
    ok(lambda T, i, a, b: lib(T, "baddbmm")(i, a, b, beta=1.5, alpha=2.5), b3, b3, b3)
    ok(lambda T, i, a, b: lib(T, "addbmm")(i, a, b, alpha=2.5), i22, b3, b3)
    ok(lambda T, i, a, b: lib(T, "addbmm")(i, a, b, beta=2), make((2, 2)), make((0, 2, 3)), make((0, 3, 2)))


FUSED_ERRORS = {
    "addmv_size": lambda T: lib(T, "addmv")(T.ones(3), T.ones(2, 3), T.ones(2)),
    "addmv_3d": lambda T: lib(T, "addmv")(T.ones(2), T.ones(2, 2, 3), T.ones(3)),
    "addmv_2d_bias": lambda T: lib(T, "addmv")(T.ones(2, 2), T.ones(2, 3), T.ones(3)),
    "addmv_scalar_bias_size": lambda T: lib(T, "addmv")(T.tensor(1.0), T.ones(2, 3), T.ones(2)),
    "addmv_dtype": lambda T: lib(T, "addmv")(T.ones(2, dtype=T.float64), T.ones(2, 3), T.ones(3)),
    "addmv_bool": lambda T: lib(T, "addmv")(
        T.ones(2, dtype=T.bool), T.ones(2, 2, dtype=T.bool), T.ones(2, dtype=T.bool)
    ),
    "addr_bias": lambda T: lib(T, "addr")(T.ones(2, 3), T.ones(3), T.ones(3)),
    "addr_2d": lambda T: lib(T, "addr")(T.ones(2, 3), T.ones(2, 1), T.ones(3)),
    "addr_2d_vec2": lambda T: lib(T, "addr")(T.ones(2, 3), T.ones(2), T.ones(3, 1)),
    "addr_3d_bias": lambda T: lib(T, "addr")(T.ones(1, 2, 3), T.ones(2), T.ones(3)),
    "addr_int_float_beta": lambda T: lib(T, "addr")(
        T.ones(2, 2, dtype=T.long), T.ones(2, dtype=T.long), T.ones(2, dtype=T.long), beta=2.5
    ),
    "addr_bool_float_alpha": lambda T: lib(T, "addr")(
        T.ones(2, 2, dtype=T.bool), T.ones(2, dtype=T.bool), T.ones(2, dtype=T.bool), alpha=0.5
    ),
    "baddbmm_sizes": lambda T: lib(T, "baddbmm")(T.ones(2, 3, 3), T.ones(2, 3, 4), T.ones(2, 3, 3)),
    "baddbmm_bool": lambda T: lib(T, "baddbmm")(*(T.ones(1, 2, 2, dtype=T.bool),) * 3),
    "baddbmm_dtype": lambda T: lib(T, "baddbmm")(T.ones(1, 2, 2), T.ones(1, 2, 2, dtype=T.float64), T.ones(1, 2, 2)),
    "baddbmm_2d_batch1": lambda T: lib(T, "baddbmm")(T.ones(2, 2), T.ones(2, 2), T.ones(1, 2, 2)),
    "baddbmm_2d_batch2": lambda T: lib(T, "baddbmm")(T.ones(2, 2), T.ones(1, 2, 2), T.ones(2, 2)),
    "baddbmm_4d_bias": lambda T: lib(T, "baddbmm")(T.ones(1, 1, 2, 2), T.ones(1, 2, 2), T.ones(1, 2, 2)),
    "baddbmm_bias": lambda T: lib(T, "baddbmm")(T.ones(3, 2, 2), T.ones(1, 2, 2), T.ones(1, 2, 2)),
    "baddbmm_batches": lambda T: lib(T, "baddbmm")(T.ones(2, 2), T.ones(1, 2, 2), T.ones(3, 2, 2)),
    "addbmm_sizes": lambda T: lib(T, "addbmm")(T.ones(3, 3), T.ones(2, 3, 4), T.ones(2, 3, 3)),
    "addbmm_bool": lambda T: lib(T, "addbmm")(T.ones(2, 2, dtype=T.bool), *(T.ones(1, 2, 2, dtype=T.bool),) * 2),
    "addbmm_dtype": lambda T: lib(T, "addbmm")(T.ones(2, 2), T.ones(1, 2, 2, dtype=T.float64), T.ones(1, 2, 2)),
    "addbmm_bias_dtype": lambda T: lib(T, "addbmm")(T.ones(2, 2, dtype=T.float64), T.ones(1, 2, 2), T.ones(1, 2, 2)),
    "addbmm_batches": lambda T: lib(T, "addbmm")(T.ones(2, 2), T.ones(1, 2, 2), T.ones(3, 2, 2)),
    "addbmm_bias": lambda T: lib(T, "addbmm")(T.ones(3, 2), T.ones(1, 2, 2), T.ones(1, 2, 2)),
    "addbmm_1d_batch1": lambda T: lib(T, "addbmm")(T.ones(2, 2), T.ones(2), T.ones(1, 2, 2)),
    "addbmm_2d_batch2": lambda T: lib(T, "addbmm")(T.ones(2, 2), T.ones(1, 2, 2), T.ones(2, 2)),
}


@pytest.mark.parametrize("name", list(FUSED_ERRORS))
def test_fused_product_errors(name: str) -> None:
    same_error(FUSED_ERRORS[name])


# ---- matrix norms ------------------------------------------------------------------------------------------------
ORDS = ["fro", "nuc", 1, -1, 2, -2, INF, -INF]


@pytest.mark.parametrize("ord", ORDS)
@pytest.mark.parametrize("dt", DTS)
def test_matrix_norm(ord: Any, dt: str) -> None:  # noqa: A002
    W = make((2, 4, 3), dt, seed=9)
    ok(lambda T, a: la(T, "matrix_norm")(a, ord), W)
    ok(lambda T, a: la(T, "matrix_norm")(a, ord, dim=(2, 0)), W)
    ok(lambda T, a: la(T, "matrix_norm")(a, ord, dim=(0, -1), keepdim=True), W)
    ok(lambda T, a: la(T, "norm")(a, ord), W[0])
    ok(lambda T, a: la(T, "norm")(a, ord, dim=(1, 2), keepdim=True), W)


def test_norm_vector_paths_and_dtype() -> None:
    W = make((2, 4, 3), seed=9)
    ok(lambda T, a: la(T, "norm")(a), W)  # ord None: the 2-norm of everything
    ok(lambda T, a: la(T, "norm")(a, dim=(1, 2)), W)
    ok(lambda T, a: la(T, "norm")(a, 3, dim=1), W)
    ok(lambda T, a: la(T, "norm")(a, 2), W[0, 0])
    ok(lambda T, a: la(T, "norm")(a, dtype=T.float64), W)
    ok(lambda T, a: la(T, "norm")(a, 2, dtype=T.float64), W[0])
    ok(lambda T, a: la(T, "matrix_norm")(a, 1, dtype=T.float64), W)
    ok(lambda T, a: la(T, "matrix_norm")(a, "fro"), make((2, 3), "float16"))
    ok(lambda T, a: la(T, "matrix_norm")(a, INF), make((2, 3), "float16"))


def test_matrix_norm_empty() -> None:
    for o in ("fro", "nuc", 1, 2, INF):
        ok(lambda T, a, o=o: la(T, "matrix_norm")(a, o), np.zeros((0, 3), np.float32))
    ok(lambda T, a: la(T, "matrix_norm")(a, 2), np.zeros((0, 2, 2), np.float32))
    ok(lambda T, a: la(T, "matrix_norm")(a, 2, keepdim=True), np.zeros((2, 0, 3), np.float32))
    ok(lambda T, a: la(T, "matrix_norm")(a, INF, keepdim=True), np.zeros((2, 0, 3), np.float32))
    ok(lambda T, a: la(T, "matrix_norm")(a, 1), np.zeros((3, 0), np.float32))
    same_error(lambda T, a: la(T, "matrix_norm")(a, -INF), np.zeros((0, 3), np.float32))
    same_error(lambda T, a: la(T, "matrix_norm")(a, -2), np.zeros((0, 3), np.float32))
    same_error(lambda T, a: la(T, "matrix_norm")(a, -1), np.zeros((3, 0), np.float32))


NORM_ERRORS = {
    "order_3": lambda T: la(T, "matrix_norm")(T.ones(2, 3), 3),
    "order_half": lambda T: la(T, "matrix_norm")(T.ones(2, 3), 0.5),
    "order_str": lambda T: la(T, "matrix_norm")(T.ones(2, 3), "foo"),
    "order_3_int": lambda T: la(T, "matrix_norm")(T.ones(2, 3, dtype=T.long), 3),
    "same_dims": lambda T: la(T, "matrix_norm")(T.ones(2, 3, 4), dim=(1, 1)),
    "same_dims_wrapped": lambda T: la(T, "matrix_norm")(T.ones(3, 3), dim=(1, -1)),
    "three_dims": lambda T: la(T, "matrix_norm")(T.ones(2, 3, 4), dim=(0, 1, 2)),
    "dim_range": lambda T: la(T, "matrix_norm")(T.ones(2, 3, 4), dim=(0, 5)),
    "dtype_int": lambda T: la(T, "matrix_norm")(T.ones(2, 3), dtype=T.int64),
    "dtype_narrowing": lambda T: la(T, "matrix_norm")(T.ones(2, 3, dtype=T.float64), dtype=T.float32),
    "half_2": lambda T: la(T, "matrix_norm")(T.ones(2, 3, dtype=T.half), 2),
    "half_nuc": lambda T: la(T, "matrix_norm")(T.ones(2, 3, dtype=T.half), "nuc"),
    "norm_3d_ord": lambda T: la(T, "norm")(T.ones(2, 3, 4), 2),
    "norm_3d_fro": lambda T: la(T, "norm")(T.ones(2, 3, 4), "fro"),
    "norm_three_dims": lambda T: la(T, "norm")(T.ones(2, 3, 4), dim=(0, 1, 2)),
    "norm_fro_one_dim": lambda T: la(T, "norm")(T.ones(2, 3, 4), "fro", dim=1),
    "norm_vector_fro": lambda T: la(T, "norm")(T.ones(3), "fro"),
    "norm_vector_nuc": lambda T: la(T, "norm")(T.ones(3), "nuc"),
    "norm_matrix_3": lambda T: la(T, "norm")(T.ones(3, 3), 3),
    "norm_int": lambda T: la(T, "norm")(T.ones(3, dtype=T.long)),
}


@pytest.mark.parametrize("name", list(NORM_ERRORS))
def test_norm_errors(name: str) -> None:
    same_error(NORM_ERRORS[name])


# ---- cholesky / qr / eigh / svd ----------------------------------------------------------------------------------
@pytest.mark.parametrize("dt", DTS)
@pytest.mark.parametrize("upper", [False, True])
def test_cholesky(dt: str, upper: bool) -> None:
    ok(lambda T, a: la(T, "cholesky")(a, upper=upper), spd((3, 3), dt))
    ok(lambda T, a: la(T, "cholesky")(a, upper=upper), spd((2, 4, 4), dt, 1))
    ok(lambda T, a: la(T, "cholesky")(a @ a.mT, upper=upper), wc((3, 3), dt, 2))
    # one triangle is read (the lower, the upper for upper=True); the gradient is torch's symmetric one
    ok(lambda T, a: la(T, "cholesky")(a, upper=upper), wc((3, 3), dt, 3))


def test_cholesky_errors() -> None:
    S = np.array([[1.0, 2.0, 3.0], [2.0, 4.0, 6.0], [1.0, 1.0, 1.0]])
    for a in (S, -np.eye(3), np.stack([np.eye(3), -np.eye(3)]), np.array([[4.0, 1.0], [100.0, 3.0]])):
        kind, msg = same_error(lambda T, x: la(T, "cholesky")(x), a)
        assert kind == "_LinAlgError" and "positive-definite" in msg
    same_error(lambda T, x: la(T, "cholesky")(x, upper=True), np.array([[4.0, 100.0], [1.0, 3.0]]))
    ok(lambda T, x: la(T, "cholesky")(x), np.zeros((0, 2, 2)))


@pytest.mark.parametrize("dt", DTS)
@pytest.mark.parametrize("shape", [(4, 3), (3, 3), (3, 5), (2, 5, 2), (2, 2, 4)])
def test_qr(dt: str, shape: tuple) -> None:
    A = make(shape, dt, seed=4)
    ok(lambda T, a: tuple(la(T, "qr")(a)), A, atol=1e-4, grad_atol=1e-3, grad_rtol=1e-3)
    complete = ok(lambda T, a: tuple(la(T, "qr")(a, mode="complete")), A, grad=shape[-2] <= shape[-1],
                  atol=1e-4, grad_atol=1e-3, grad_rtol=1e-3)  # fmt: skip
    assert complete[0].shape[-1] == shape[-2]
    ok(lambda T, a: tuple(la(T, "qr")(a, mode="r")), A, grad=False, atol=1e-4)


def test_qr_backward_errors() -> None:
    """Both outputs have the node, and its backward refuses mode='r' and a tall complete Q."""
    for mode, shape in (("r", (3, 3)), ("complete", (4, 3))):
        errors = []
        for T in (torch, engine):
            a = T.tensor(make(shape, "float64"), requires_grad=True)
            Q, R = la(T, "qr")(a, mode=mode)
            assert (Q.grad_fn.name(), R.grad_fn.name()) == ("LinalgQrBackward0", "LinalgQrBackward0")
            with pytest.raises(RuntimeError) as e:
                R.sum().backward()
            errors.append(str(e.value))
        assert errors[1] == errors[0]


def test_qr_return_type_and_errors() -> None:
    A = make((3, 2))
    assert same(lambda T, a: repr(type(la(T, "qr")(a))), A) == "<class 'torch.return_types.linalg_qr'>"
    ok(lambda T, a: (la(T, "qr")(a).Q, la(T, "qr")(a).R), A, grad=False)
    same_error(lambda T, a: la(T, "qr")(a, mode="bad"), A)
    same_error(lambda T, a: la(T, "qr")(a, mode="R"), A)
    for shape in [(0, 0), (2, 0), (0, 2), (0, 2, 2)]:
        ok(lambda T, a: tuple(la(T, "qr")(a)), np.zeros(shape))


def _eigh_invariants(T: Any, res: Any) -> tuple:
    L, V = res
    return L, V * V, (V * L.unsqueeze(-2)) @ V.mT


@pytest.mark.parametrize("dt", DTS)
@pytest.mark.parametrize("uplo", ["L", "U", "l"])
def test_eigh(dt: str, uplo: str) -> None:
    A = make((2, 4, 4), dt, seed=5)  # not symmetric: only the triangle UPLO names is read
    tol = {"atol": 1e-4, "rtol": 1e-4, "grad_atol": 1e-3, "grad_rtol": 1e-3} if dt == "float32" else {}
    ok(lambda T, a: _eigh_invariants(T, la(T, "eigh")(a, UPLO=uplo)), A, **tol)
    ok(lambda T, a: la(T, "eigvalsh")(a, UPLO=uplo), A, **tol)
    ok(lambda T, a: la(T, "eigvalsh")(a, uplo), Arg(A), **tol)  # no grad: values alone
    ok(lambda T, a: la(T, "eigh")(a + a.mT)[0], sym((3, 3), dt, 6), **tol)


def test_eigh_return_type_and_errors() -> None:
    A = sym((2, 2))
    assert same(lambda T, a: repr(type(la(T, "eigh")(a))), A) == "<class 'torch.return_types.linalg_eigh'>"
    assert same(lambda T, a: la(T, "eigh")(a.requires_grad_()).eigenvectors.grad_fn.name(), A) == "LinalgEighBackward0"
    ok(lambda T, a: la(T, "eigh")(a).eigenvalues, A)
    same_error(lambda T, a: la(T, "eigh")(a, UPLO="X"), A)
    same_error(lambda T, a: la(T, "eigh")(a, UPLO="LL"), A)
    same_error(lambda T, a: la(T, "eigvalsh")(a), np.ones((2, 3)))
    for shape in [(0, 0), (0, 2, 2)]:
        ok(lambda T, a: tuple(la(T, "eigh")(a)), np.zeros(shape))


def _svd_invariants(T: Any, res: Any) -> tuple:
    U, S, Vh = res
    k = S.shape[-1]
    Uk, Vk = U[..., :, :k], Vh[..., :k, :]
    return S, Uk * Uk, Vk * Vk, (Uk * S.unsqueeze(-2)) @ Vk


@pytest.mark.parametrize("dt", DTS)
@pytest.mark.parametrize("shape", [(4, 3), (3, 3), (3, 5), (2, 5, 2), (2, 2, 4)])
@pytest.mark.parametrize("full", [False, True])
def test_svd(dt: str, shape: tuple, full: bool) -> None:
    A = make(shape, dt, seed=6)
    tol = {"atol": 1e-4, "rtol": 1e-4, "grad_atol": 1e-3, "grad_rtol": 1e-3} if dt == "float32" else {}
    ok(lambda T, a: _svd_invariants(T, la(T, "svd")(a, full_matrices=full)), A, **tol)
    ok(lambda T, a: la(T, "svdvals")(a), A, **tol)
    ok(lambda T, a: la(T, "svd")(a, full)[1], A, **tol)
    # the extra columns of a full U / rows of a full Vh are orthonormal: U^T U = I
    ok(lambda T, a: (lambda r: r.U.mT @ r.U)(la(T, "svd")(a, full_matrices=full)), Arg(A), **tol)


def test_svd_return_type_and_errors() -> None:
    A = make((3, 2))
    assert same(lambda T, a: repr(type(la(T, "svd")(a))), A) == "<class 'torch.return_types.linalg_svd'>"
    ok(lambda T, a: la(T, "svd")(a).S, A)
    nodes = same(lambda T, a: tuple(x.grad_fn.name() for x in la(T, "svd")(a.requires_grad_())), A)
    assert nodes == ("LinalgSvdBackward0",) * 3
    if helpers.DEVICE == "cpu":  # (torch takes driver= for cuSOLVER; the oracle's cpu refuses it)
        same_error(lambda T, a: la(T, "svd")(a, driver="gesvd"), A)
    for shape in [(0, 0), (2, 0), (0, 2), (0, 2, 2)]:
        ok(lambda T, a: la(T, "svdvals")(a), np.zeros(shape))
        ok(lambda T, a: tuple(la(T, "svd")(a, full_matrices=False)), Arg(np.zeros(shape)))


# ---- pinv / lstsq --------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("dt", DTS)
@pytest.mark.parametrize("shape", [(4, 3), (3, 3), (3, 5), (2, 5, 2), (2, 2, 4)])
def test_pinv(dt: str, shape: tuple) -> None:
    A = make(shape, dt, seed=7)
    tol = {"atol": 1e-4, "rtol": 1e-4, "grad_atol": 1e-3, "grad_rtol": 1e-3} if dt == "float32" else {}
    ok(lambda T, a: la(T, "pinv")(a), A, **tol)
    ok(lambda T, a: lib(T, "pinverse")(a), A, **tol)
    ok(lambda T, a: meth(T, a, "pinverse"), A, **tol)


def test_pinv_tolerances() -> None:
    A = np.diag([4.0, 1.0, 1e-3])
    ok(lambda T, a: la(T, "pinv")(a, rtol=1e-2), A)  # the smallest singular value dropped
    ok(lambda T, a: la(T, "pinv")(a, atol=0.5), A)
    ok(lambda T, a: la(T, "pinv")(a, atol=0.5, rtol=0.5), A)
    ok(lambda T, a: la(T, "pinv")(a, rcond=0.5), A)
    ok(lambda T, a: la(T, "pinv")(a, atol=T.tensor([0.5, 2.0], dtype=T.float64)), np.stack([A, A]))
    ok(lambda T, a: la(T, "pinv")(a + a.mT, hermitian=True), make((3, 3), "float64"))
    ok(lambda T, a: la(T, "pinv")(a, hermitian=True, atol=0.5), np.diag([-4.0, 1.0, 0.1]))
    ok(lambda T, a: la(T, "pinv")(a), np.ones((3, 3)), atol=1e-8)  # rank 1
    ok(lambda T, a: lib(T, "pinverse")(a, rcond=1e-2), A)
    for shape in [(0, 0), (2, 0), (0, 2), (0, 2, 2)]:
        ok(lambda T, a: la(T, "pinv")(a), np.zeros(shape))
    for dt in ("int64", "float16", "bool"):
        same_error(lambda T, a: la(T, "pinv")(a), make((2, 2), dt))
    same_error(lambda T, a: la(T, "pinv")(a), make((3,)))


@pytest.mark.parametrize("driver", [None, "gelsy", "gelsd", "gelss", "gels"])
@pytest.mark.parametrize("dt", DTS)
def test_lstsq(driver: Any, dt: str) -> None:
    tol = {"atol": 1e-4, "rtol": 1e-4, "grad_atol": 1e-3, "grad_rtol": 1e-3} if dt == "float32" else {}
    cases = [
        ((5, 3), (5, 2)),  # tall: residuals for gels/gelsd/gelss
        ((5, 3), (5,)),  # a vector right-hand side
        ((2, 5, 3), (2, 5)),
        ((2, 5, 3), (1, 5, 2)),  # B broadcast over A's batch
        ((1, 5, 3), (2, 5, 2)),  # A broadcast over B's: rank and singular_values keep A's batch shape
        ((2, 1, 5, 3), (1, 3, 5, 2)),
        ((3, 3), (3, 2)),
    ]
    if driver != "gels":  # (gels assumes full rank; torch's wide gels is the minimum-norm solution too, but via QR)
        cases.append(((3, 5), (3, 2)))
    for sa, sb in cases:
        ok(lambda T, a, b: tuple(la(T, "lstsq")(a, b, driver=driver)), make(sa, dt, seed=1), make(sb, dt, seed=2),
           **tol)  # fmt: skip


def test_lstsq_rank_deficient_and_rcond() -> None:
    A = np.ones((4, 3))
    B = make((4, 2), "float64", seed=2)
    for driver in ("gelsy", "gelsd", "gelss"):
        ok(lambda T, a, b, d=driver: tuple(la(T, "lstsq")(a, b, driver=d)), Arg(A), Arg(B), atol=1e-7)
    # the docstring's rank-deficient A broadcast against B: rank is A's (tensor([2])), not one per broadcast batch
    A1 = np.array([[[1.0, 2, 3], [0, 0, 0], [0, 1, 1]]])
    for driver in ("gelsy", "gelsd", "gelss"):
        ok(lambda T, a, b, d=driver: la(T, "lstsq")(a, b, driver=d)[2:], Arg(A1), Arg(np.ones((2, 3, 3))))
    D = np.diag([4.0, 1.0, 1e-3])
    ok(lambda T, a, b: tuple(la(T, "lstsq")(a, b, rcond=1e-2, driver="gelsd")), Arg(D), Arg(make((3, 2), "float64")))


def test_lstsq_return_type_and_errors() -> None:
    A, B = make((4, 3)), make((4, 2), seed=1)
    assert same(lambda T, a, b: repr(type(la(T, "lstsq")(a, b))), A, B) == "<class 'torch.return_types.linalg_lstsq'>"
    ok(lambda T, a, b: la(T, "lstsq")(a, b).solution, A, B)
    ok(lambda T, a, b: la(T, "lstsq")(a, b, driver="gelsd").residuals, A, B)
    errors = {
        "1d": lambda T: la(T, "lstsq")(T.ones(3), T.ones(3)),
        "0d_rhs": lambda T: la(T, "lstsq")(T.ones(4, 3), T.tensor(1.0)),
        "ranks": lambda T: la(T, "lstsq")(T.ones(4, 3), T.ones(2, 2, 4, 2)),
        "vector_rows": lambda T: la(T, "lstsq")(T.ones(4, 3), T.ones(3)),
        "rows": lambda T: la(T, "lstsq")(T.ones(4, 3), T.ones(3, 2)),
        "batch": lambda T: la(T, "lstsq")(T.ones(2, 4, 3), T.ones(3, 4, 2)),
        "vector_batch": lambda T: la(T, "lstsq")(T.ones(2, 5, 3), T.ones(5, 2)),
        "driver": lambda T: la(T, "lstsq")(T.ones(4, 3), T.ones(4, 2), driver="foo"),
        "dtype": lambda T: la(T, "lstsq")(T.ones(4, 3), T.ones(4, 2, dtype=T.float64)),
        "int": lambda T: la(T, "lstsq")(T.ones(4, 3, dtype=T.long), T.ones(4, 2, dtype=T.long)),
        "half": lambda T: la(T, "lstsq")(T.ones(4, 3, dtype=T.half), T.ones(4, 2, dtype=T.half)),
    }
    for fn in errors.values():
        same_error(fn)


# ---- dtype and shape checks, per op, in torch's order ----------------------------------------------------------------
CHECK_INPUTS = {
    "i64": make((2, 2), "int64"),
    "bool": make((2, 2), "bool"),
    "half": np.eye(2, dtype=np.float16),
    "i64_1d": make((3,), "int64"),
    "i64_2x3": make((2, 3), "int64"),
    "half_2x3": make((2, 3), "float16"),
    "f_2x3": make((2, 3)),
    "f_0d": np.array(1.0, np.float32),
    "half_1d": make((3,), "float16"),
}
CHECK_OPS = {
    "det": lambda T, a: lib(T, "det")(a),
    "linalg_det": lambda T, a: la(T, "det")(a),
    "logdet": lambda T, a: lib(T, "logdet")(a),
    "slogdet": lambda T, a: tuple(lib(T, "slogdet")(a)),
    "inverse": lambda T, a: lib(T, "inverse")(a),
    "inv": lambda T, a: la(T, "inv")(a),
    "matrix_power_2": lambda T, a: lib(T, "matrix_power")(a, 2),
    "matrix_power_-1": lambda T, a: lib(T, "matrix_power")(a, -1),
    "matrix_power_0": lambda T, a: la(T, "matrix_power")(a, 0),
    "solve": lambda T, a: la(T, "solve")(a, a),
    "cholesky": lambda T, a: la(T, "cholesky")(a),
    "qr": lambda T, a: tuple(la(T, "qr")(a)),
    "eigh": lambda T, a: tuple(la(T, "eigh")(a)),
    "eigvalsh": lambda T, a: la(T, "eigvalsh")(a),
    "svdvals": lambda T, a: la(T, "svdvals")(a),
    "svd": lambda T, a: la(T, "svd")(a)[1],
    "pinv": lambda T, a: la(T, "pinv")(a),
    "lstsq": lambda T, a: la(T, "lstsq")(a, a)[0],
    "matrix_norm": lambda T, a: la(T, "matrix_norm")(a),
    "matrix_norm_2": lambda T, a: la(T, "matrix_norm")(a, 2),
    "matrix_norm_1": lambda T, a: la(T, "matrix_norm")(a, 1),
    "matrix_norm_nuc": lambda T, a: la(T, "matrix_norm")(a, "nuc"),
}
# the inputs torch computes with; every other pair is an error
CHECK_OK = {
    "matrix_power_2": {"i64", "half"},
    "matrix_power_0": {"i64", "bool", "half"},
    "qr": {"f_2x3"},
    "svdvals": {"f_2x3"},
    "svd": {"f_2x3"},
    "pinv": {"f_2x3"},
    "lstsq": {"f_2x3"},
    "matrix_norm": {"half", "half_2x3", "f_2x3"},
    "matrix_norm_1": {"half", "half_2x3", "f_2x3"},
    "matrix_norm_2": {"f_2x3"},
    "matrix_norm_nuc": {"f_2x3"},
}


@pytest.mark.parametrize("op", list(CHECK_OPS))
def test_input_checks(op: str) -> None:
    fn = CHECK_OPS[op]
    for case, a in CHECK_INPUTS.items():
        if case in CHECK_OK.get(op, ()):
            ok(fn, Arg(a), atol=1e-3)
        else:
            same_error(fn, a)


# ---- out= ----------------------------------------------------------------------------------------------------------
OUTS = {
    "linalg_det": lambda T, a, o: la(T, "det")(a, out=o),
    "inverse": lambda T, a, o: lib(T, "inverse")(a, out=o),
    "inv": lambda T, a, o: la(T, "inv")(a, out=o),
    "solve": lambda T, a, o: la(T, "solve")(a, a[..., 0], out=o),
    "matrix_power": lambda T, a, o: la(T, "matrix_power")(a, 3, out=o),
    "cholesky": lambda T, a, o: la(T, "cholesky")(a @ a.mT, out=o),
    "pinv": lambda T, a, o: la(T, "pinv")(a, out=o),
    "svdvals": lambda T, a, o: la(T, "svdvals")(a, out=o),
    "eigvalsh": lambda T, a, o: la(T, "eigvalsh")(a, out=o),
    "matrix_norm": lambda T, a, o: la(T, "matrix_norm")(a, 1, out=o),
    "norm": lambda T, a, o: la(T, "norm")(a, out=o),
    "vecdot": lambda T, a, o: la(T, "vecdot")(a, a, out=o),
    "multi_dot": lambda T, a, o: la(T, "multi_dot")([a[0], a[1]], out=o),
    "tensordot": lambda T, a, o: lib(T, "tensordot")(a[0], a[1], 1, out=o),
    "addmv": lambda T, a, o: lib(T, "addmv")(a[0, 0], a[0], a[1, 1], out=o),
    "vdot": lambda T, a, o: lib(T, "vdot")(a[0, 0], a[1, 1], out=o),
}


@pytest.mark.parametrize("name", list(OUTS))
def test_out(name: str) -> None:
    def fn(T: Any, a: Any) -> Any:
        o = T.empty(0, dtype=a.dtype)
        r = OUTS[name](T, a, o)
        return r is o, o

    assert ok(fn, Arg(wc((2, 3, 3))))[0] is True
    same_error(lambda T, a: lib(T, "det")(a, out=a), wc((2, 2)))  # (torch.det has no out=)


def test_methods_return_types() -> None:
    A = wc((2, 2))
    assert same(lambda T, a: type(meth(T, a, "slogdet")).__name__, A) == "slogdet"
    assert same(lambda T, a: meth(T, a.requires_grad_(), "inverse").grad_fn.name(), A) == "LinalgInvExBackward0"


def test_legacy_svd_qr_ger_row_stack_and_conjugate_transposes() -> None:
    def fn(T: object) -> object:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            A = T.tensor([[4.0, 1.0], [1.0, 3.0], [0.0, 2.0]], dtype=T.float64, requires_grad=True)
            U, S, V = T.svd(A)
            full = T.svd(A, some=False)
            none = T.svd(A, compute_uv=False)
            (U.sum() + S.sum() + V.sum()).backward()
            Q, R = T.qr(A)
            x = T.ones(2, 3, requires_grad=True)
            return (U.abs(), S, V.abs(), full.U.shape, full.V.shape, tuple(none), A.grad.shape, Q.abs(), R.abs(),
                    T.qr(A, some=False).Q.shape, T.ger(T.ones(2), T.arange(3.0)), T.row_stack([T.ones(2), T.zeros(2)]),
                    x.mH, x.H, x.adjoint(), T.adjoint(x), T.tensor(1.0).H, T.tensor(1.0).mH)  # fmt: skip

    same(fn)


@pytest.mark.parametrize(
    "fn",
    [lambda T: T.ones(3).H, lambda T: T.ones(2, 2, 2).H, lambda T: T.ones(3).mH, lambda T: T.ones(3).adjoint()],
)
def test_conjugate_transpose_errors(fn: object) -> None:
    same_error(fn)
