"""engine/nn/functional_more.py against torch.nn.functional (the oracle, on the cpu): values in float32 and
float64, the grad_fn torch shows (one kernel node, or the top of torch's composite, whose whole graph is
compared with graph()), first derivatives of every differentiable input, second derivatives for some, in-place
forms, warnings and torch's error texts. The engine side runs on each device of the `device` fixture."""

from __future__ import annotations

import ast
import inspect
import os
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from helpers import Arg, computed, cpu_text, graph, same, same_error

import engine
from engine.nn import functional_more as M

torch = pytest.importorskip("torch")

pytestmark = pytest.mark.usefixtures("device")


def F(T: Any) -> Any:  # noqa: N802 - reads as torch's F
    """The implementation under test for the library `T`: torch's own, or the engine's new module."""
    return torch.nn.functional if T is torch else M


def ok(fn: Callable, *args: Any, **kw: Any) -> Any:
    """check(), which must not pass by both sides raising the same error: values are expected here."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # (size-mismatch and legacy-argument warnings: tested on their own)
        return computed(fn, *args, **kw)


rng = np.random.default_rng(0)
# boundary values of every piecewise activation (-3/3, -1/1, +-0.5, 0, 6), large ones, and random ones
X = np.array(
    [[-4, -3, -2.5, -1, -0.5, -0.25], [0, 0.25, 0.5, 1, 2.5, 3], [4, 6, 7, 25, -25, 0.1],
     [0.3, -0.7, 1.2, -1.9, 0.05, 2.2]],
)  # fmt: skip
A = rng.standard_normal((5, 6))
B = rng.standard_normal((5, 6))
C = rng.standard_normal((5, 6))
SIGN = np.array([1.0, -1.0, 1.0, 1.0, -1.0])
DTYPES = ["float32", "float64"]

# ---- activations ---------------------------------------------------------------------------------------

ACTIVATIONS: dict[str, tuple[str, dict]] = {
    "hardtanh": ("hardtanh", {}),
    "hardtanh_bounds": ("hardtanh", {"min_val": -0.5, "max_val": 2.5}),
    "relu6": ("relu6", {}),
    "logsigmoid": ("logsigmoid", {}),
    "softmin": ("softmin", {"dim": 1}),
    "softmin_dim0": ("softmin", {"dim": 0}),
    "softsign": ("softsign", {}),
    "selu": ("selu", {}),
    "celu": ("celu", {}),
    "celu_alpha": ("celu", {"alpha": 0.7}),
    "mish": ("mish", {}),
    "hardswish": ("hardswish", {}),
    "hardsigmoid": ("hardsigmoid", {}),
    "glu": ("glu", {}),
    "glu_dim0": ("glu", {"dim": 0}),
    "threshold": ("threshold", {"threshold": 0.1, "value": 20.0}),
    "threshold_negative": ("threshold", {"threshold": -1.0, "value": -7.5}),
    "tanhshrink": ("tanhshrink", {}),
    "softshrink": ("softshrink", {}),
    "softshrink_lambd": ("softshrink", {"lambd": 1.0}),
    "softshrink_zero": ("softshrink", {"lambd": 0.0}),
    "hardshrink": ("hardshrink", {}),
    "hardshrink_lambd": ("hardshrink", {"lambd": 2.5}),
}


@pytest.mark.parametrize("dtype", [*DTYPES, "float16"])  # (float16: computed in float32, rounded once)
@pytest.mark.parametrize("case", list(ACTIVATIONS))
def test_activation_values_node_and_gradient(case: str, dtype: str) -> None:
    name, kw = ACTIVATIONS[case]
    ok(lambda T, x: getattr(F(T), name)(x, **kw), X.astype(dtype))


@pytest.mark.parametrize(
    "name", ["hardtanh", "relu6", "logsigmoid", "selu", "celu", "mish", "hardswish", "hardsigmoid", "softshrink"]
)
def test_activation_of_a_0_dim_tensor(name: str) -> None:
    ok(lambda T, x: getattr(F(T), name)(x), np.array(-0.75))


def test_activation_on_nan_and_infinities() -> None:
    v = np.array([np.nan, np.inf, -np.inf, -0.0])
    for name in ("hardtanh", "relu6", "logsigmoid", "selu", "mish", "hardswish", "hardsigmoid", "hardshrink",
                 "softshrink", "softsign"):  # fmt: skip
        ok(lambda T, x, name=name: getattr(F(T), name)(x), v, grad=False)
    ok(lambda T, x: F(T).threshold(x, 0.5, -2.0), v, grad=False)


@pytest.mark.parametrize("dtype", ["int64", "int32", "uint8"])
def test_integer_inputs_keep_their_dtype_with_bounds_in_it(dtype: str) -> None:
    x = np.arange(-3, 9).astype(dtype) if dtype != "uint8" else np.arange(0, 9).astype(dtype)
    ok(lambda T, x: F(T).hardtanh(x, -0.5, 4.7), x)  # (-0.5 is 0 as an integer: allowed for uint8 too)
    ok(lambda T, x: F(T).relu6(x), x)
    ok(lambda T, x: F(T).threshold(x, 2.5, 10.5), x)
    ok(lambda T, x: F(T).threshold(x, 2.9, 1.7), x)
    ok(lambda T, x: F(T).softsign(x), x)
    if dtype == "uint8":
        same_error(lambda T: F(T).hardtanh(T.tensor(x), -1.5, 1.7))
    else:
        ok(lambda T, x: F(T).hardtanh(x, -1.5, 1.7), x)
        ok(lambda T, x: F(T).threshold(x, 2.9, -1.7), x)


def test_softmin_with_dtype_casts_first_and_with_the_same_dtype_does_not() -> None:
    def fn(T: Any, x: Any) -> Any:
        a = F(T).softmin(x, 1, dtype=T.float64)
        b = F(T).softmin(x, 1, dtype=T.float32)
        return a, b, graph(a), graph(b)

    ok(fn, X.astype("float32"))


def test_softmin_without_dim_warns_and_takes_the_legacy_dim() -> None:
    arrays = [rng.standard_normal(shape) for shape in ((4,), (3, 4), (2, 3, 4), (2, 2, 3, 4))]

    def fn(T: Any) -> Any:
        out = []
        for a in arrays:
            x = T.tensor(a)
            with warnings.catch_warnings(record=True) as w:
                warnings.simplefilter("always")
                y = F(T).softmin(x)
            out += [y, [(type(m.message).__name__, str(m.message), os.path.basename(m.filename)) for m in w]]
        return out

    same(fn)


INPLACE: dict[str, Callable] = {
    "hardtanh": lambda F, y: F.hardtanh(y, -0.5, 2.0, inplace=True),
    "hardtanh_": lambda F, y: F.hardtanh_(y, -0.5, 2.0),
    "relu6": lambda F, y: F.relu6(y, inplace=True),
    "selu": lambda F, y: F.selu(y, inplace=True),
    "selu_": lambda F, y: F.selu_(y),
    "celu": lambda F, y: F.celu(y, 0.7, inplace=True),
    "celu_": lambda F, y: F.celu_(y, 0.7),
    "mish": lambda F, y: F.mish(y, inplace=True),
    "hardswish": lambda F, y: F.hardswish(y, inplace=True),
    "hardsigmoid": lambda F, y: F.hardsigmoid(y, inplace=True),
    "threshold": lambda F, y: F.threshold(y, 0.1, 20.0, inplace=True),
    "threshold_": lambda F, y: F.threshold_(y, 0.1, 20.0),
}


@pytest.mark.parametrize("name", list(INPLACE))
def test_inplace_forms_write_the_input_and_take_its_graph(name: str) -> None:
    def fn(T: Any, x: Any) -> Any:
        y = x * 1
        r = INPLACE[name](F(T), y)
        return r, r is y, y._version

    ok(fn, X.astype("float64"))


@pytest.mark.parametrize("name", list(INPLACE))
def test_inplace_forms_refuse_a_leaf_that_requires_grad(name: str) -> None:
    same_error(lambda T: INPLACE[name](F(T), T.tensor(X, requires_grad=True)))


def test_inplace_forms_without_grad() -> None:
    def fn(T: Any, x: Any) -> Any:
        y = x.clone()
        F(T).hardtanh(y, inplace=True)
        z = x.clone()
        F(T).threshold_(z, 0.0, 5.0)
        return y, z, y._version

    ok(fn, Arg(X))


PRELU: dict[str, tuple] = {
    "channels": (rng.standard_normal((3, 4, 5)), np.array([0.1, -0.2, 0.3, 0.25])),
    "one_weight": (A, np.array([0.25])),
    "0_dim_weight": (A, np.array(0.2)),
    "1_dim_input": (A[0], np.array([0.3])),
    "1_dim_input_0_dim_weight": (A[0], np.array(0.3)),
    "2_dim": (A, rng.standard_normal(6)),
    "0_dim_input": (np.array(-1.5), np.array(0.3)),
}


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("case", list(PRELU))
def test_prelu(case: str, dtype: str) -> None:
    x, w = PRELU[case]
    xz = x.astype(dtype)
    if xz.ndim:
        xz.reshape(-1)[::3] = 0  # the kink: x == 0 takes the weight's branch
    ok(lambda T, x, w: (F(T).prelu(x, w), graph(F(T).prelu(x, w))), xz, w.astype(dtype))


# ---- layers --------------------------------------------------------------------------------------------

LAYER_NORM: dict[str, tuple] = {
    "last_dim": (A, [6], True, True),
    "no_affine": (A, (6,), False, False),
    "weight_only": (A, [6], True, False),
    "bias_only": (A, [6], False, True),
    "two_dims": (rng.standard_normal((2, 3, 4)) * 3 + 1, [3, 4], True, True),
    "all_dims": (rng.standard_normal((3, 4)), [3, 4], True, False),
    "1_dim": (A[0], [6], True, True),
}


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("case", list(LAYER_NORM))
def test_layer_norm(case: str, dtype: str) -> None:
    x, shape, has_w, has_b = LAYER_NORM[case]
    w = (rng.standard_normal(shape) + 1).astype(dtype) if has_w else None
    b = rng.standard_normal(shape).astype(dtype) if has_b else None

    def fn(T: Any, x: Any, w: Any, b: Any) -> Any:
        y = F(T).layer_norm(x, shape, w, b)
        return y, graph(y)

    ok(fn, x.astype(dtype), w, b)


def test_layer_norm_takes_a_size_and_eps() -> None:
    ok(lambda T, x: F(T).layer_norm(x, x.shape[1:], eps=0.5), A)
    ok(lambda T, x: F(T).layer_norm(x, x.shape[1:], eps=0.0), A)


EMB_W = rng.standard_normal((5, 3))
EMBEDDING: dict[str, tuple] = {
    "2_dim_indices": (np.array([[0, 2, 4], [4, 3, 0]]), {}),
    "1_dim_indices": (np.array([1, 1, 3]), {}),
    "0_dim_index": (np.array(2), {}),
    "int32_indices": (np.array([[0, 4], [4, 4]], np.int32), {}),
    "padding_idx": (np.array([[0, 2, 2], [1, 2, 3]]), {"padding_idx": 2}),
    "negative_padding_idx": (np.array([[0, 4, 4], [1, 2, 3]]), {"padding_idx": -1}),
    "padding_idx_0": (np.array([[0, 4, 0], [1, 2, 3]]), {"padding_idx": 0}),
    "scale_grad_by_freq": (np.array([[0, 2, 2], [2, 4, 0]]), {"scale_grad_by_freq": True}),
    "scale_and_padding": (np.array([[0, 2, 2], [2, 4, 0]]), {"scale_grad_by_freq": True, "padding_idx": 0}),
    "empty": (np.zeros((0, 2), np.int64), {}),
}


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("case", list(EMBEDDING))
def test_embedding(case: str, dtype: str) -> None:
    idx, kw = EMBEDDING[case]
    ok(lambda T, i, w: F(T).embedding(i, w, **kw), Arg(idx), EMB_W.astype(dtype))


def test_embedding_of_an_integer_weight() -> None:
    ok(lambda T, i, w: F(T).embedding(i, w), Arg(np.array([[1, 0]])), Arg(np.arange(6).reshape(3, 2)))


@pytest.mark.parametrize("norm_type", [2.0, 1.0, 3.0])
def test_embedding_max_norm_renormalises_the_rows_it_reads_in_place(norm_type: float) -> None:
    def fn(T: Any, i: Any, w: Any) -> Any:
        w = w * 1  # (a non-leaf: torch renormalises it in place through a detached alias)
        v0 = w._version
        y = F(T).embedding(i, w, max_norm=1.2, norm_type=norm_type)
        return y, w, w._version > v0

    ok(fn, Arg(np.array([[0, 2, 2], [4, 4, -1 + 5]])), EMB_W * 2, grad_atol=1e-4)


def test_embedding_sparse_gives_torchs_gradient_values_dense() -> None:
    out = []
    for lib, mod in ((torch, torch.nn.functional), (engine, M)):
        w = lib.tensor(EMB_W, requires_grad=True)
        y = mod.embedding(lib.tensor([[0, 2, 2]]), w, sparse=True)
        (y * lib.tensor(np.arange(9.0).reshape(1, 3, 3))).sum().backward()
        g = w.grad.to_dense()  # (sparse in torch; the engine's too on the cpu, dense on cuda)
        out.append((y.grad_fn.name(), g.detach().cpu().numpy()))
    assert out[0][0] == out[1][0]
    np.testing.assert_allclose(out[1][1], out[0][1])


# ---- distances -----------------------------------------------------------------------------------------

COSINE: dict[str, tuple] = {
    "rows": (A, B, {}),
    "dim0": (A, B, {"dim": 0}),
    "dim-1_eps": (A, B, {"dim": -1, "eps": 1e-3}),
    "broadcast": (A, B[0], {}),
    "broadcast_both": (A[:, None, :], B[None, :3, :], {"dim": 2}),
    "1_dim": (A[0], B[0], {"dim": 0}),
    "zero_vector": (np.vstack([A[:2], np.zeros((1, 6))]), B[:3], {}),
}


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("case", list(COSINE))
def test_cosine_similarity(case: str, dtype: str) -> None:
    a, b, kw = COSINE[case]

    def fn(T: Any, a: Any, b: Any) -> Any:
        y = F(T).cosine_similarity(a, b, **kw)
        return y, graph(y)

    ok(fn, a.astype(dtype), b.astype(dtype))


def test_cosine_similarity_of_mixed_dtypes() -> None:
    ok(lambda T, a, b: F(T).cosine_similarity(a, b), A.astype("float32"), B)
    ok(lambda T, a, b: (F(T).cosine_similarity(a, b), graph(F(T).cosine_similarity(a, b))), A, Arg(np.arange(6)))
    ok(lambda T, a, b: F(T).cosine_similarity(a, b, 0), Arg(np.arange(6)), A[0].astype("float32"))


PAIRWISE: dict[str, tuple] = {
    "p2": (A, B, {}),
    "p1": (A, B, {"p": 1.0}),
    "p3_keepdim": (A, B, {"p": 3.0, "keepdim": True}),
    "p_inf": (A, B, {"p": float("inf")}),
    "eps": (A, A, {"eps": 0.1}),
    "broadcast": (A, B[0], {}),
    "1_dim": (A[0], B[0], {}),
    "3_dim": (rng.standard_normal((2, 3, 4)), rng.standard_normal((3, 4)), {}),
}


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("case", list(PAIRWISE))
def test_pairwise_distance(case: str, dtype: str) -> None:
    a, b, kw = PAIRWISE[case]

    def fn(T: Any, a: Any, b: Any) -> Any:
        y = F(T).pairwise_distance(a, b, **kw)
        return y, graph(y)

    ok(fn, a.astype(dtype), b.astype(dtype))


def test_pairwise_distance_of_integers() -> None:
    ok(lambda T, a, b: F(T).pairwise_distance(a, b), Arg(np.arange(6).reshape(2, 3)), Arg(np.ones((2, 3), np.int64)))


# ---- losses --------------------------------------------------------------------------------------------

P_LOG = np.log(np.abs(A) / np.abs(A).sum(1, keepdims=True))  # log-probabilities
Q = np.abs(B) / np.abs(B).sum(1, keepdims=True)
Q0 = Q.copy()
Q0[0, :2] = 0.0  # zero targets: xlogy(0, 0) = 0
POS = np.abs(A) + 0.1
COUNTS = np.array([[0, 1, 2, 3, 4, 7]] * 5, dtype=np.float64)
VAR = np.abs(C) + 0.2

LOSSES: dict[str, tuple] = {  # name: (function, positional arrays, keyword arguments)
    "smooth_l1": ("smooth_l1_loss", (A, B), {}),
    "smooth_l1_sum": ("smooth_l1_loss", (A, B), {"reduction": "sum"}),
    "smooth_l1_none_beta": ("smooth_l1_loss", (A, B), {"reduction": "none", "beta": 0.5}),
    "smooth_l1_beta0": ("smooth_l1_loss", (A, B), {"beta": 0.0}),
    "smooth_l1_beta0_none": ("smooth_l1_loss", (A, B), {"beta": 0.0, "reduction": "none"}),
    "smooth_l1_broadcast": ("smooth_l1_loss", (A, B[0]), {}),
    "smooth_l1_legacy": ("smooth_l1_loss", (A, B), {"size_average": False}),
    "smooth_l1_elementwise_mean": ("smooth_l1_loss", (A, B), {"reduction": "elementwise_mean"}),
    "smooth_l1_kinks": (
        "smooth_l1_loss",
        (np.array([0.0, 1.0, -1.0, 2.0, 0.5]), np.array([1.0, 0.0, 0.0, 1.0, 1.0])),
        {"reduction": "sum"},
    ),  # fmt: skip
    "huber": ("huber_loss", (A, B), {}),
    "huber_delta_sum": ("huber_loss", (A, B), {"reduction": "sum", "delta": 0.4}),
    "huber_none": ("huber_loss", (A, B), {"reduction": "none", "delta": 2.0}),
    "huber_weight": ("huber_loss", (A, B), {"weight": VAR}),
    "huber_weight_sum": ("huber_loss", (A, B), {"weight": VAR, "reduction": "sum"}),
    "huber_weight_none": ("huber_loss", (A, B), {"weight": VAR, "reduction": "none"}),
    "huber_broadcast": ("huber_loss", (A, B[:1]), {"delta": 0.5}),
    "kl_batchmean": ("kl_div", (P_LOG, Q), {"reduction": "batchmean"}),
    "kl_mean": ("kl_div", (P_LOG, Q), {}),
    "kl_sum_zero_targets": ("kl_div", (P_LOG, Arg(Q0)), {"reduction": "sum"}),
    "kl_none": ("kl_div", (P_LOG, Q), {"reduction": "none"}),
    "kl_log_target": ("kl_div", (P_LOG, np.log(Q)), {"reduction": "batchmean", "log_target": True}),
    "kl_legacy_batchmean": ("kl_div", (P_LOG, Q), {"size_average": False, "reduction": "batchmean"}),
    "kl_legacy": ("kl_div", (P_LOG, Q), {"reduce": False}),
    "kl_0_dim_batchmean": ("kl_div", (np.array(-0.5), np.array(0.3)), {"reduction": "batchmean"}),
    "margin_ranking": ("margin_ranking_loss", (A[:, 0], B[:, 0], SIGN), {}),
    "margin_ranking_margin_none": (
        "margin_ranking_loss",
        (A[:, 0], B[:, 0], SIGN),
        {"margin": 0.5, "reduction": "none"},
    ),  # fmt: skip
    "margin_ranking_legacy": ("margin_ranking_loss", (A, B, np.sign(C)), {"reduce": True, "size_average": False}),
    "hinge": ("hinge_embedding_loss", (A, np.sign(B)), {}),
    "hinge_margin_sum": ("hinge_embedding_loss", (A, np.sign(B)), {"margin": 0.3, "reduction": "sum"}),
    "hinge_other_targets": ("hinge_embedding_loss", (A, np.round(B)), {"reduction": "none"}),
    "soft_margin": ("soft_margin_loss", (A, Arg(np.sign(B))), {}),
    "soft_margin_sum": ("soft_margin_loss", (A * 40, Arg(np.sign(B))), {"reduction": "sum"}),
    "soft_margin_none_broadcast": ("soft_margin_loss", (A, Arg(np.sign(B[0]))), {"reduction": "none"}),
    "poisson": ("poisson_nll_loss", (A, COUNTS), {}),
    "poisson_not_log": ("poisson_nll_loss", (POS, COUNTS), {"log_input": False}),
    "poisson_full_sum": ("poisson_nll_loss", (A, COUNTS), {"full": True, "reduction": "sum"}),
    "poisson_full_not_log_none": (
        "poisson_nll_loss",
        (POS, COUNTS),
        {"full": True, "log_input": False, "reduction": "none", "eps": 0.1},
    ),  # fmt: skip
    "gaussian": ("gaussian_nll_loss", (A, B, VAR), {}),
    "gaussian_full_sum": ("gaussian_nll_loss", (A, B, VAR), {"full": True, "reduction": "sum"}),
    "gaussian_homoscedastic": ("gaussian_nll_loss", (A, B, VAR[:, 0]), {"reduction": "none"}),
    "gaussian_one_column": ("gaussian_nll_loss", (A, B, VAR[:, :1]), {}),
    "gaussian_float_var": ("gaussian_nll_loss", (A, B, 0.7), {}),
    "gaussian_eps_clamps": ("gaussian_nll_loss", (A, B, VAR * 0.01), {"eps": 0.005}),
    "cosine_embedding": ("cosine_embedding_loss", (A, B, SIGN), {}),
    "cosine_embedding_margin_sum": ("cosine_embedding_loss", (A, B, SIGN), {"margin": 0.2, "reduction": "sum"}),
    "cosine_embedding_1_dim": ("cosine_embedding_loss", (A[0], B[0], np.array(-1.0)), {"margin": -0.5}),
    "cosine_embedding_none": (
        "cosine_embedding_loss",
        (A, B, np.array([1.0, -1.0, 0.0, 1.0, -1.0])),
        {"reduction": "none"},
    ),  # fmt: skip
    "triplet": ("triplet_margin_loss", (A, B, C), {}),
    "triplet_swap_p1_sum": ("triplet_margin_loss", (A, B, C), {"swap": True, "p": 1, "reduction": "sum"}),
    "triplet_margin_none": ("triplet_margin_loss", (A, B, C), {"margin": 3.0, "eps": 0.0, "reduction": "none"}),
    "triplet_1_dim": ("triplet_margin_loss", (A[0], B[0], C[0]), {"margin": 4.0}),
}


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("case", list(LOSSES))
def test_loss_values_nodes_and_gradients(case: str, dtype: str) -> None:
    name, args, kw = LOSSES[case]

    def cast(a: Any) -> Any:
        if isinstance(a, Arg):
            return Arg(a.value.astype(dtype))
        return a.astype(dtype) if isinstance(a, np.ndarray) else a

    def fn(T: Any, *args: Any) -> Any:
        kws = {k: T.tensor(v.astype(dtype)) if isinstance(v, np.ndarray) else v for k, v in kw.items()}
        y = getattr(F(T), name)(*args, **kws)
        return y, graph(y, 30)

    ok(fn, *[cast(a) for a in args])


def test_losses_of_mixed_dtypes() -> None:
    a32 = A.astype("float32")
    ok(lambda T, a, b: F(T).smooth_l1_loss(a, b), a32, B)
    ok(lambda T, a, b: F(T).smooth_l1_loss(a, b), Arg(np.arange(5)), B[:, 0].astype("float32"))
    ok(lambda T, a, b: F(T).huber_loss(a, b, reduction="none"), a32, B)  # (huber keeps the input's dtype)
    ok(lambda T, a, b: F(T).huber_loss(a, b), B, a32)
    ok(lambda T, a, b: F(T).huber_loss(a, b), B[:, 0].astype("float32"), Arg(np.arange(5)))
    ok(lambda T, a, b: F(T).kl_div(a, b, reduction="sum"), P_LOG.astype("float32"), Q)
    ok(lambda T, a, b: F(T).soft_margin_loss(a, b), a32, Arg(np.sign(B)))


def test_losses_of_integers() -> None:
    i = np.arange(5)
    t = np.array([1, -1, 1, -1, 1])
    ok(lambda T, a, b, t: F(T).margin_ranking_loss(a, b, t, reduction="none"), Arg(i), Arg(i[::-1].copy()), Arg(t))
    ok(lambda T, a, t: F(T).hinge_embedding_loss(a, t, reduction="sum"), Arg(i), Arg(t))
    ok(lambda T, a, b: F(T).poisson_nll_loss(a, b), Arg(i), Arg(i))
    ok(lambda T, a, b, t: F(T).cosine_embedding_loss(a, b, t), Arg(np.arange(6).reshape(2, 3)),
       Arg(np.ones((2, 3), np.int64)), Arg(np.array([1, -1])))  # fmt: skip
    ok(lambda T, a, b: F(T).smooth_l1_loss(a, b, beta=0.0, reduction="sum"), Arg(i), Arg(t))


def test_huber_loss_weight_gets_its_gradient() -> None:
    ok(lambda T, a, b, w: F(T).huber_loss(a, b, weight=w, delta=0.3), A, B, VAR)


def test_soft_margin_loss_takes_a_target_that_requires_grad_under_no_grad() -> None:
    def fn(T: Any, x: Any, t: Any) -> Any:
        with T.no_grad():
            return F(T).soft_margin_loss(x, t.requires_grad_())

    ok(fn, Arg(A), Arg(np.sign(B)))


# ---- second derivatives --------------------------------------------------------------------------------

SECOND: dict[str, tuple] = {  # name: (function of (F, inputs...), input arrays)
    "logsigmoid": (lambda F, x: F.logsigmoid(x), (X,)),
    "layer_norm": (lambda F, x, w, b: F.layer_norm(x, [6], w, b), (A, C[0] + 1, B[0])),
    "layer_norm_two_dims": (lambda F, x, w: F.layer_norm(x, [2, 3], w), (A.reshape(5, 2, 3), C[0].reshape(2, 3))),
    "smooth_l1": (lambda F, x, t: F.smooth_l1_loss(x, t, beta=0.7), (A, B)),
    "smooth_l1_none": (lambda F, x, t: F.smooth_l1_loss(x, t, reduction="none"), (A, B)),
    "cosine_similarity": (lambda F, a, b: F.cosine_similarity(a, b), (A, B)),
    "cosine_similarity_broadcast": (lambda F, a, b: F.cosine_similarity(a, b, dim=-1), (A, B[0])),
    "pairwise_distance": (lambda F, a, b: F.pairwise_distance(a, b), (A, B)),
    "pairwise_distance_p3": (lambda F, a, b: F.pairwise_distance(a, b, p=3), (A, B)),
    "huber": (lambda F, x, t: F.huber_loss(x, t, delta=0.5), (A, B)),
    "soft_margin": (lambda F, x: F.soft_margin_loss(x, F_SIGN(x)), (A,)),
    "selu": (lambda F, x: F.selu(x), (X,)),
    "celu": (lambda F, x: F.celu(x, 0.5), (X,)),
    "mish": (lambda F, x: F.mish(x), (X,)),
    "hardswish": (lambda F, x: F.hardswish(x), (X,)),
    "glu": (lambda F, x: F.glu(x), (X,)),
    "prelu": (lambda F, x, w: F.prelu(x, w), (A, C[0])),
    "embedding": (lambda F, w: F.embedding(F_INDEX(w), w, padding_idx=1), (A,)),
    "hardtanh": (lambda F, x: F.hardtanh(x), (X,)),
    "threshold": (lambda F, x: F.threshold(x, 0.1, 2.0), (X,)),
    "softshrink": (lambda F, x: F.softshrink(x), (X,)),
    "hardshrink": (lambda F, x: F.hardshrink(x), (X,)),
}


def F_SIGN(x: Any) -> Any:  # noqa: N802
    return (x.detach() > 0).to(x.dtype) * 2 - 1


def F_INDEX(w: Any) -> Any:  # noqa: N802
    return (w.detach()[:3, :2].abs() * 3).long().clamp(max=4)


@pytest.mark.parametrize("case", list(SECOND))
def test_second_derivatives(case: str) -> None:
    f, arrays = SECOND[case]

    def fn(T: Any) -> Any:
        xs = [T.tensor(a, requires_grad=True) for a in arrays]
        y = f(F(T), *xs)
        w = T.tensor(np.linspace(0.5, 2.0, y.numel()).reshape(tuple(y.shape)))
        gs = T.autograd.grad((y * w).sum(), xs, create_graph=True)
        # a different weighting per input (with one, the gradients of a - b would cancel in the sum)
        s = sum(
            (g * T.tensor(np.linspace(-1.0, 1.5 + i, g.numel()).reshape(tuple(g.shape)))).sum()
            for i, g in enumerate(gs)
        )
        ggs = T.autograd.grad(s, xs, allow_unused=True, materialize_grads=True)
        return y, [g.detach() for g in gs], list(ggs)

    same(fn)


@pytest.mark.parametrize(
    "f",
    [
        lambda F, x: F.hardtanh(x, -0.5, 2.0),
        lambda F, x: F.relu6(x),
        lambda F, x: F.threshold(x, 0.1, 20.0),
        lambda F, x: F.softshrink(x, 0.3),
        lambda F, x: F.hardshrink(x, 0.3),
        lambda F, x: F.hardsigmoid(x),
    ],
)
def test_piecewise_linear_double_backward_nodes(f: Callable) -> None:
    def fn(T: Any) -> Any:
        x = T.tensor(X, requires_grad=True)
        (g,) = T.autograd.grad(f(F(T), x).sum(), x, create_graph=True)
        return g.detach(), g.grad_fn.name(), type(g.grad_fn).__name__, repr(g.grad_fn).split(" ")[0]

    same(fn)


def test_hardsigmoid_has_no_double_backward_in_torch() -> None:
    def fn(T: Any) -> Any:
        x = T.tensor(X, requires_grad=True)
        (g,) = T.autograd.grad(F(T).hardsigmoid(x).sum(), x, create_graph=True)
        g.sum().backward()

    assert same_error(fn) == ("RuntimeError", "derivative for aten::hardsigmoid_backward is not implemented")


# ---- warnings ------------------------------------------------------------------------------------------


def _warnings_of(f: Callable) -> list:
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        f()
    return [(m.category.__name__, str(m.message), os.path.basename(m.filename)) for m in w]


HERE = os.path.basename(__file__)


WARNS: dict[str, Callable] = {
    "kl_mean": lambda F, T: F.kl_div(T.zeros(2, 3), T.ones(2, 3)),
    "kl_batchmean_quiet": lambda F, T: F.kl_div(T.zeros(2, 3), T.ones(2, 3), reduction="batchmean"),
    "kl_legacy": lambda F, T: F.kl_div(T.zeros(2, 3), T.ones(2, 3), size_average=False),
    "smooth_l1_size": lambda F, T: F.smooth_l1_loss(T.zeros(2, 3), T.ones(3)),
    "smooth_l1_legacy": lambda F, T: F.smooth_l1_loss(T.zeros(2, 3), T.ones(2, 3), reduce=False),
    "huber_size": lambda F, T: F.huber_loss(T.zeros(2, 3), T.ones(1, 3)),
    "elementwise_mean": lambda F, T: F.huber_loss(T.zeros(2, 3), T.ones(2, 3), reduction="elementwise_mean"),
    "margin_legacy": lambda F, T: F.margin_ranking_loss(T.zeros(3), T.ones(3), T.ones(3), size_average=True),
    "poisson_legacy": lambda F, T: F.poisson_nll_loss(T.zeros(3), T.ones(3), reduce=False),
    "triplet_legacy": lambda F, T: F.triplet_margin_loss(
        T.zeros(2, 3), T.ones(2, 3), T.ones(2, 3), reduce=False, size_average=False
    ),  # fmt: skip
}


@pytest.mark.parametrize("case", list(WARNS))
def test_warnings_match_torch(case: str) -> None:
    theirs, ours = (_warnings_of(lambda T=T: WARNS[case](F(T), T)) for T in (torch, engine))
    assert [w[:2] for w in ours] == [w[:2] for w in theirs]
    assert theirs or case.endswith("quiet")
    # the engine's warnings point at the user's line; torch's legacy-reduction helpers point into torch's own
    # _reduction.py/functional.py (a stacklevel of 2 from a helper), the others at the user's line too
    assert all(w[2] == HERE for w in ours)


# ---- errors --------------------------------------------------------------------------------------------

ERRORS: dict[str, Callable] = {
    "hardtanh_bounds": lambda F, T: F.hardtanh(T.ones(3), 2.0, 1.0),
    "hardtanh_bool": lambda F, T: F.hardtanh(T.tensor([True])),
    "relu6_bool": lambda F, T: F.relu6(T.tensor([True])),
    "logsigmoid_long": lambda F, T: F.logsigmoid(T.arange(3)),
    "softmin_long": lambda F, T: F.softmin(T.arange(3), 0),
    "softsign_bool": lambda F, T: F.softsign(T.tensor([True])),
    "tanhshrink_bool": lambda F, T: F.tanhshrink(T.tensor([True])),
    "selu_long": lambda F, T: F.selu(T.arange(3)),
    "celu_long": lambda F, T: F.celu(T.arange(3)),
    "celu_alpha_0": lambda F, T: F.celu(T.ones(3), 0.0),
    "mish_long": lambda F, T: F.mish(T.arange(3)),
    "hardswish_long": lambda F, T: F.hardswish(T.arange(3)),
    "hardsigmoid_long": lambda F, T: F.hardsigmoid(T.arange(3)),
    "glu_scalar": lambda F, T: F.glu(T.tensor(1.0)),
    "glu_odd": lambda F, T: F.glu(T.ones(3, 5)),
    "glu_odd_dim0": lambda F, T: F.glu(T.ones(3, 4), 0),
    "glu_long": lambda F, T: F.glu(T.arange(6)),
    "glu_dim": lambda F, T: F.glu(T.ones(4, 6), 3),
    "threshold_bool": lambda F, T: F.threshold(T.tensor([True]), 0, 1),
    "softshrink_negative": lambda F, T: F.softshrink(T.ones(3), -1.0),
    "softshrink_negative_double": lambda F, T: F.softshrink(T.ones(3, dtype=T.float64), -0.25),
    "softshrink_long": lambda F, T: F.softshrink(T.arange(3)),
    "hardshrink_long": lambda F, T: F.hardshrink(T.arange(3)),
    "prelu_channels": lambda F, T: F.prelu(T.ones(4, 6), T.ones(5)),
    "prelu_dtypes": lambda F, T: F.prelu(T.ones(4, 6), T.ones(6, dtype=T.float64)),
    "prelu_2_dim_weight": lambda F, T: F.prelu(T.ones(4, 6), T.ones(2, 3)),
    "prelu_0_dim_input": lambda F, T: F.prelu(T.tensor(1.0), T.ones(3)),
    "prelu_1_dim_input": lambda F, T: F.prelu(T.ones(5), T.ones(5)),
    "prelu_long": lambda F, T: F.prelu(T.arange(6), T.tensor([1])),
    "layer_norm_shape": lambda F, T: F.layer_norm(T.ones(4, 6), (5,)),
    "layer_norm_longer_shape": lambda F, T: F.layer_norm(T.ones(4, 6), [3, 4, 6]),
    "layer_norm_weight": lambda F, T: F.layer_norm(T.ones(4, 6), (6,), T.ones(5)),
    "layer_norm_bias": lambda F, T: F.layer_norm(T.ones(4, 6), (6,), None, T.ones(2, 3)),
    "layer_norm_empty_shape": lambda F, T: F.layer_norm(T.ones(4, 6), ()),
    "layer_norm_int_shape": lambda F, T: F.layer_norm(T.ones(4, 6), 6),
    "layer_norm_long": lambda F, T: F.layer_norm(T.arange(6).reshape(2, 3), (3,)),
    "layer_norm_double_weight": lambda F, T: F.layer_norm(T.ones(4, 6), (6,), T.ones(6, dtype=T.float64)),
    "layer_norm_float_weight": lambda F, T: F.layer_norm(T.ones(4, 6, dtype=T.float64), (6,), T.ones(6)),
    "embedding_out_of_range": lambda F, T: F.embedding(T.tensor([0, 4]), T.ones(4, 6)),
    "embedding_negative": lambda F, T: F.embedding(T.tensor([0, -1]), T.ones(4, 6)),
    "embedding_1_dim_weight": lambda F, T: F.embedding(T.tensor([0, 1]), T.ones(5)),
    "embedding_padding": lambda F, T: F.embedding(T.tensor([0, 1]), T.ones(4, 6), padding_idx=4),
    "embedding_negative_padding": lambda F, T: F.embedding(T.tensor([0, 1]), T.ones(4, 6), padding_idx=-5),
    "cosine_long": lambda F, T: F.cosine_similarity(T.arange(6), T.arange(6), 0),
    "cosine_broadcast": lambda F, T: F.cosine_similarity(T.ones(4, 6), T.ones(3, 6)),
    "cosine_dim": lambda F, T: F.cosine_similarity(T.ones(4, 6), T.ones(4, 6), 2),
    "pairwise_broadcast": lambda F, T: F.pairwise_distance(T.ones(4, 6), T.ones(3, 6)),
    "pairwise_bool": lambda F, T: F.pairwise_distance(T.ones(2, dtype=T.bool), T.ones(2, dtype=T.bool)),
    "smooth_l1_beta": lambda F, T: F.smooth_l1_loss(T.ones(3), T.ones(3), beta=-1.0),
    "smooth_l1_long": lambda F, T: F.smooth_l1_loss(T.arange(3), T.arange(3)),
    "smooth_l1_reduction": lambda F, T: F.smooth_l1_loss(T.ones(3), T.ones(3), reduction="avg"),
    "smooth_l1_beta0_reduction": lambda F, T: F.smooth_l1_loss(T.ones(3), T.ones(3), reduction="avg", beta=0.0),
    "smooth_l1_broadcast": lambda F, T: F.smooth_l1_loss(T.ones(4, 6), T.ones(4, 2)),
    "smooth_l1_beta0_long_mean": lambda F, T: F.smooth_l1_loss(T.arange(3), T.arange(3), beta=0.0),
    "huber_delta": lambda F, T: F.huber_loss(T.ones(3), T.ones(3), delta=-1.0),
    "huber_delta_0": lambda F, T: F.huber_loss(T.ones(3), T.ones(3), delta=0.0),
    "huber_long": lambda F, T: F.huber_loss(T.arange(3), T.arange(3)),
    "huber_long_input": lambda F, T: F.huber_loss(T.arange(3), T.ones(3)),
    "huber_weight_size": lambda F, T: F.huber_loss(T.ones(4, 6), T.ones(4, 6), weight=T.ones(6)),
    "huber_weight_reduction": lambda F, T: F.huber_loss(
        T.ones(4, 6), T.ones(4, 6), weight=T.ones(4, 6), reduction="x"
    ),  # fmt: skip
    "huber_reduction": lambda F, T: F.huber_loss(T.ones(3), T.ones(3), reduction="x"),
    "kl_long": lambda F, T: F.kl_div(T.arange(3), T.arange(3), reduction="sum"),
    "kl_reduction": lambda F, T: F.kl_div(T.ones(3), T.ones(3), reduction="avg"),
    "margin_ranking_dims": lambda F, T: F.margin_ranking_loss(T.ones(4, 6), T.ones(6), T.ones(4, 6)),
    "margin_ranking_reduction": lambda F, T: F.margin_ranking_loss(T.ones(3), T.ones(3), T.ones(3), reduction="x"),
    "hinge_long_mean": lambda F, T: F.hinge_embedding_loss(T.arange(3), T.arange(3)),
    "hinge_reduction": lambda F, T: F.hinge_embedding_loss(T.ones(3), T.ones(3), reduction="x"),
    "soft_margin_reduction": lambda F, T: F.soft_margin_loss(T.ones(3), T.ones(3), reduction="x"),
    "soft_margin_long": lambda F, T: F.soft_margin_loss(T.arange(3), T.arange(3)),
    "soft_margin_long_double": lambda F, T: F.soft_margin_loss(T.arange(3), T.ones(3, dtype=T.float64)),
    "soft_margin_bool": lambda F, T: F.soft_margin_loss(T.tensor([True]), T.ones(1)),
    "soft_margin_larger_target": lambda F, T: F.soft_margin_loss(T.ones(4), T.ones(3, 4)),
    "soft_margin_broadcast": lambda F, T: F.soft_margin_loss(T.ones(3), T.ones(4)),
    "soft_margin_target_grad": lambda F, T: F.soft_margin_loss(T.ones(3), T.ones(3, requires_grad=True)),
    "poisson_reduction": lambda F, T: F.poisson_nll_loss(T.ones(3), T.ones(3), reduction="x"),
    "gaussian_negative_var": lambda F, T: F.gaussian_nll_loss(T.ones(3), T.ones(3), -T.ones(3)),
    "gaussian_negative_float": lambda F, T: F.gaussian_nll_loss(T.ones(3), T.ones(3), -1.0),
    "gaussian_var_size": lambda F, T: F.gaussian_nll_loss(T.ones(4, 6), T.ones(4, 6), T.ones(3)),
    "gaussian_var_two_dims_differ": lambda F, T: F.gaussian_nll_loss(T.ones(4, 6), T.ones(4, 6), T.ones(1, 1)),
    "gaussian_int_var": lambda F, T: F.gaussian_nll_loss(T.ones(3), T.ones(3), 1),
    "gaussian_none_var": lambda F, T: F.gaussian_nll_loss(T.ones(3), T.ones(3), None),
    "gaussian_reduction": lambda F, T: F.gaussian_nll_loss(T.ones(3), T.ones(3), T.ones(3), reduction="x"),
    "cosine_embedding_2_dim_target": lambda F, T: F.cosine_embedding_loss(T.ones(4, 6), T.ones(4, 6), T.ones(4, 6)),
    "cosine_embedding_1_dim_target": lambda F, T: F.cosine_embedding_loss(T.ones(6), T.ones(6), T.ones(4)),
    "cosine_embedding_0_dim_target": lambda F, T: F.cosine_embedding_loss(T.ones(4, 6), T.ones(4, 6), T.tensor(1.0)),
    "cosine_embedding_reduction": lambda F, T: F.cosine_embedding_loss(
        T.ones(2, 3), T.ones(2, 3), T.ones(2), reduction="x"
    ),  # fmt: skip
    "triplet_margin": lambda F, T: F.triplet_margin_loss(T.ones(2, 3), T.ones(2, 3), T.ones(2, 3), margin=0.0),
    "triplet_dims": lambda F, T: F.triplet_margin_loss(T.ones(2, 3), T.ones(2, 3), T.ones(3)),
    "triplet_reduction": lambda F, T: F.triplet_margin_loss(T.ones(2, 3), T.ones(2, 3), T.ones(2, 3), reduction="x"),
}


@pytest.mark.parametrize("case", list(ERRORS))
def test_errors_match_torch(case: str) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        same_error(lambda T: ERRORS[case](F(T), T))


@pytest.mark.parametrize(
    "f",
    [
        lambda F, T: F.embedding(T.tensor([0.0, 1.0]), T.ones(4, 6)),
        lambda F, T: F.embedding(T.tensor([0, 1], dtype=T.int16), T.ones(4, 6)),
        lambda F, T: F.embedding(T.tensor([True]), T.ones(4, 6)),
        lambda F, T: F.embedding(T.tensor([0.0, 1.0]), T.ones(4, 6), max_norm=1.0),
        lambda F, T: F.embedding(T.tensor([0, 1]), T.ones(6), max_norm=1.0),
        lambda F, T: F.embedding(T.tensor([0, 9]), T.ones(4, 6), max_norm=1.0),
    ],
)
def test_embedding_index_errors_name_the_tensor_type(f: Callable) -> None:
    # (on a cuda device torch names the type torch.cuda.FloatTensor: compared as the cpu oracle shows it)
    errs = []
    for T in (torch, engine):
        with pytest.raises(Exception) as e:
            f(F(T), T)
        errs.append((type(e.value).__name__, cpu_text(str(e.value)).replace("CUDABoolType", "CPUBoolType")))
    assert errs[1] == errs[0]


# ---- the module's surface ------------------------------------------------------------------------------


def _torch_params(fn: Callable) -> list:
    """(name, default) of torch's parameters: from its signature, or for a C function from its docstring's
    first line (`softshrink(input, lambd=0.5) -> Tensor`)."""
    try:
        sig = inspect.signature(fn)
    except (TypeError, ValueError):
        call = ast.parse(fn.__doc__.strip().splitlines()[0].split("->")[0].strip(), mode="eval").body
        assert isinstance(call, ast.Call)
        return [(a.id, inspect.Parameter.empty) for a in call.args] + [
            (k.arg, ast.literal_eval(k.value)) for k in call.keywords
        ]
    return [(p.name, p.default) for p in sig.parameters.values()]


@pytest.mark.parametrize("name", list(M.FUNCTIONS))
def test_signatures_match_torch(name: str) -> None:
    assert M.FUNCTIONS[name] is getattr(M, name)
    theirs = _torch_params(getattr(torch.nn.functional, name))
    ours = [(p.name, p.default) for p in inspect.signature(M.FUNCTIONS[name]).parameters.values()]
    assert ours == theirs


def test_printed_results_match_torch() -> None:
    def fn(T: Any) -> Any:
        a = T.tensor(A[:2].astype("float32"), requires_grad=True)
        b = T.tensor(B[:2].astype("float32"))
        # wide lines: on a cuda device the device suffix would otherwise push grad_fn onto a line of its own,
        # which the comparison with the cpu oracle's text cannot undo
        T.set_printoptions(linewidth=200)
        try:
            return [
                str(F(T).smooth_l1_loss(a, b)),
                str(F(T).hardtanh(a[0])),
                str(F(T).layer_norm(a, [6])),
                str(F(T).cosine_similarity(a, b)),
                str(F(T).kl_div(a, b.abs(), reduction="batchmean")),
                str(F(T).embedding(T.tensor([1, 0]), a)),
                str(F(T).prelu(a, T.tensor([0.25]))),
            ]
        finally:
            T.set_printoptions(profile="default")

    same(fn)
