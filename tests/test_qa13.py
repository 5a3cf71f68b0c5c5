"""Differences from PyTorch found by QA round 13 (a differential sweep of tutorial-style snippets: each run as a
tsr script and by Python with PyTorch, stdout compared byte for byte, errors by type and message)."""

from __future__ import annotations

import contextlib
import io
import textwrap
import warnings

import numpy as np
import pytest
import torch

import engine
from tcli.session import Session
from tests.helpers import check, same, same_error


def run_tsr(src: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    status = Session(stdout=out, stderr=err, color=False).run_source(textwrap.dedent(src), "<test>")
    return status, out.getvalue(), err.getvalue()


def run_torch(src: str) -> str:
    """The reference: Python with PyTorch running the same (test-authored) snippet."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        exec(compile(textwrap.dedent(src), "<reference>", "exec"), {"__name__": "__main__"})
    return out.getvalue()


def assert_snippet(src: str) -> None:
    status, out, err = run_tsr(src)
    assert status == 0, err
    assert out == run_torch(src)


# ---- small functions a learner reaches for, missing before -----------------------------------------------
SNIPPETS = {
    "diagflat": """
        import torch
        print(torch.diagflat(torch.tensor([1, 2])), torch.tensor([[1., 2.]]).diagflat())
        print(torch.diagflat(torch.tensor([1, 2]), -1))
        x = torch.tensor([[1., 2.]], requires_grad=True)
        y = torch.diagflat(x, 1)
        print(y)
        y.sum().backward()
        print(x.grad)
    """,
    "scalar_tensor": """
        import torch
        print(torch.scalar_tensor(3), torch.scalar_tensor(True), torch.scalar_tensor(2, dtype=torch.int64))
        print(torch.scalar_tensor(1.5, requires_grad=True), torch.scalar_tensor(2).dtype)
    """,
    "unravel_index": """
        import torch
        print(torch.unravel_index(torch.tensor(5), (2, 3)), torch.unravel_index(torch.tensor([0, 4]), (2, 3)))
        x = torch.tensor([[1., 9.], [3., 4.]])
        print(torch.unravel_index(x.argmax(), x.shape), torch.unravel_index(torch.tensor([[1234], [5678]]), (100, 100)))
        print(torch.unravel_index(torch.tensor(4), 5))
    """,
    "queries": """
        import torch
        print(torch.ones(1).is_signed(), torch.ones(1, dtype=torch.uint8).is_signed())
        print(torch.is_signed(torch.ones(1, dtype=torch.bool)))
        print(torch.ones(2).get_device(), torch.get_device(torch.ones(1)))
        print(torch.ones(2).is_neg(), torch.ones(2).resolve_neg())
        print(torch.ones(2).is_pinned(), torch.ones(2).is_shared(), torch.typename(torch.ones(1)), torch.typename(3))
        print(torch.typename(torch.ones(1, dtype=torch.int64)), torch.typename(torch.nn.Linear(1, 1)))
        print(torch.ones(2).cfloat(), torch.ones(2).cdouble(), torch.ones(1, dtype=torch.float64).cfloat().dtype)
    """,
    "gradient": """
        import torch
        x = torch.tensor([1., 4., 9., 16.], requires_grad=True)
        print(torch.gradient(x), torch.gradient(x, edge_order=2), torch.gradient(torch.tensor([1, 4, 9, 16])))
        m = torch.tensor([[1., 2., 4.], [2., 5., 9.]])
        print(torch.gradient(m), torch.gradient(m, dim=1), torch.gradient(m, spacing=[2., 3.]))
        print(torch.gradient(m, spacing=2.), torch.gradient(m, dim=-1, edge_order=2), torch.gradient(torch.ones(2)))
        print(torch.gradient(m, spacing=[torch.tensor([0., 1.]), torch.tensor([0., 1., 3.])]))
        torch.gradient(x)[0].sum().backward()
        print(x.grad)
    """,
    "frexp_ldexp_nextafter": """
        import torch
        print(torch.frexp(torch.tensor([8., 0.3, -5., 0., float('inf')])))
        print(torch.frexp(torch.tensor([1.], dtype=torch.float64)).exponent.dtype, torch.tensor([3.]).frexp())
        print(torch.ldexp(torch.tensor([1., 2.]), torch.tensor([2, 3])))
        print(torch.ldexp(torch.tensor([1, 2]), torch.tensor([2, 3])))
        x = torch.tensor([1., 3.], requires_grad=True)
        y = torch.ldexp(x, torch.tensor([2, -1]))
        print(y)
        y.sum().backward()
        print(x.grad)
        print(torch.nextafter(torch.tensor([1.0]), torch.tensor([2.0])) - 1)
        print(torch.tensor([1.0], dtype=torch.float64).nextafter(torch.tensor([0.], dtype=torch.float64)) - 1)
    """,
    "fill_sum_to_size": """
        import torch
        print(torch.fill(torch.ones(2, requires_grad=True), 3.), torch.fill(torch.ones(2), torch.tensor(2.)))
        print(torch.fill(torch.ones(2, dtype=torch.int64), 2.7))
        x = torch.ones(2, 3, requires_grad=True)
        print(x.sum_to_size(1, 3), x.sum_to_size((2, 1)), x.sum_to_size(3), x.sum_to_size(2, 3) is x)
    """,
    "svd_qr_methods": """
        import torch
        a = torch.tensor([[3., 1.], [1., 3.]])
        U, S, V = a.svd()
        print(S)
        Q, R = a.qr()
        print(R.abs())
        x = torch.tensor([[1., 2., 3.]])
        print(torch.index_put_(torch.zeros(3), (torch.tensor([1]),), torch.tensor(5.)))
    """,
}


@pytest.mark.parametrize("name", list(SNIPPETS))
def test_snippet_prints_as_torch(name: str) -> None:
    assert_snippet(SNIPPETS[name])


def test_new_functions_errors_as_torch() -> None:
    same_error(lambda T: T.unravel_index(T.tensor([1.0]), (2,)))
    same_error(lambda T: T.unravel_index(T.tensor([1]), (-1, 2)))
    same_error(lambda T: T.unravel_index(T.tensor([1]), (2.0,)))
    same_error(lambda T: T.gradient(T.ones(3, 3), edge_order=3))
    same_error(lambda T: T.gradient(T.ones(3, 3), dim=(0, 0)))
    same_error(lambda T: T.gradient(T.ones(1)))
    same_error(lambda T: T.gradient(T.ones(2), edge_order=2))
    same_error(lambda T: T.frexp(T.tensor([1])))
    same_error(lambda T: T.nextafter(T.tensor([1]), T.tensor([2])))
    same_error(lambda T: T.ones(2, 3).sum_to_size(3, 3))


def test_new_functions_values_and_grads() -> None:
    rng = np.random.default_rng(0)
    a = rng.standard_normal((4, 5)).astype(np.float32)
    for kw in ({}, {"edge_order": 2}, {"dim": 1, "spacing": 0.5}, {"spacing": [2.0, 3.0]}):
        check(lambda T, x, kw=kw: T.gradient(x, **kw), a)
    check(lambda T, x: T.diagflat(x, 2), a[:2])
    check(lambda T, x: x.sum_to_size(1, 5), a)
    check(lambda T, x: x.sum_to_size(5), a)
    check(lambda T, x: T.ldexp(x, T.tensor([[1, -2, 0, 3, 4]])), a)
    check(lambda T, x: T.fill(x, 0.5), a)
    same(lambda T, x: T.frexp(x).mantissa, a)
    same(lambda T, x: T.frexp(x).exponent, a)
    same(lambda T: T.nextafter(T.tensor([0.0, 1.0, -1.0]), T.tensor([1.0, 0.0, -2.0])))
    same(lambda T: [t.is_contiguous() for t in T.unravel_index(T.tensor([3, 5]), (2, 3))])
    assert engine.frexp(engine.tensor([3.0])).__class__.__name__ == torch.frexp(torch.tensor([3.0])).__class__.__name__


# ---- legacy constructors older tutorials use -----------------------------------------------------------------
def test_legacy_tensor_of_a_size_is_a_shape() -> None:
    for T in (torch, engine):
        assert tuple(T.Tensor(T.Size([2, 3])).shape) == (2, 3)
        assert tuple(T.Tensor(T.Size([])).shape) == ()


def test_legacy_tensor_of_a_tensor_is_its_alias() -> None:
    # torch.Tensor(t) is t.alias(): t's dtype (not float), its storage, AliasBackward0 over a tensor needing grad
    same(lambda T: T.Tensor(T.tensor([1, 2])))
    check(lambda T, x: T.Tensor(x * 2), np.array([1.0, 2.0], dtype=np.float32))
    for T in (torch, engine):
        x = T.ones(2, 3).t()
        y = T.Tensor(x)
        y[0, 0] = 5
        assert x[0, 0].item() == 5 and y.stride() == x.stride() and y is not x


def test_set_default_tensor_type() -> None:
    out = []
    try:
        for T in (torch, engine):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                T.set_default_tensor_type("torch.DoubleTensor")
                got = [str(T.tensor([1.5]).dtype), str(T.Tensor([1]).dtype), str(T.get_default_dtype())]
                T.set_default_tensor_type(T.HalfTensor)
                got.append(str(T.zeros(1).dtype))
                for bad in (T.LongTensor, T.float64, "float"):
                    try:
                        T.set_default_tensor_type(bad)
                    except Exception as e:  # noqa: BLE001
                        got.append(f"{type(e).__name__}: {e}")
            out.append(got)
    finally:
        torch.set_default_dtype(torch.float32)
        engine.set_default_dtype(engine.float32)
    assert out[1] == out[0]


def test_set_default_tensor_type_warns_as_torch() -> None:
    from engine import warn

    warn._WARNED_ONCE.clear()  # (a warning once per process: an earlier test may have shown it)
    status, out, err = run_tsr(
        """
        import torch
        torch.set_default_tensor_type(torch.DoubleTensor)
        print(torch.tensor([1.5]))
        """
    )
    engine.set_default_dtype(engine.float32)
    assert status == 0 and out == "tensor([1.5000])\n"  # (float64 is the default now: no dtype=)
    assert "UserWarning: torch.set_default_tensor_type() is deprecated as of PyTorch 2.1" in err


# ---- functions torch removed (1.9) or deprecated, which older tutorials still call ---------------------------
@pytest.mark.parametrize(
    "call",
    [
        lambda T: T.eig(T.eye(2)),
        lambda T: T.eye(2).eig(eigenvectors=True),
        lambda T: T.symeig(T.eye(2), eigenvectors=True),
        lambda T: T.eye(2).symeig(),
        lambda T: T.lstsq(T.eye(2), T.eye(2)),
        lambda T: T.eye(2).lstsq(T.eye(2)),
        lambda T: T.matrix_rank(T.eye(2)),
        lambda T: T.eye(2).solve(T.eye(2)),
    ],
)
def test_removed_linalg_functions_say_what_to_use(call: object) -> None:
    same_error(call)


def test_deprecated_cholesky() -> None:
    a = np.array([[4.0, 2.0], [2.0, 3.0]], dtype=np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        check(lambda T, x: T.cholesky(x), a)
        check(lambda T, x: x.cholesky(upper=True), a)
        same_error(lambda T: T.cholesky(T.tensor([[1.0, 2.0], [2.0, 1.0]])))
        same_error(lambda T: T.cholesky(T.ones(2, 3)))
        same_error(lambda T: T.ones(2, 2, dtype=T.int64).cholesky())
    from engine import warn

    warn._WARNED_ONCE.clear()
    status, out, err = run_tsr(
        """
        import torch
        print(torch.cholesky(torch.tensor([[4., 2.], [2., 3.]])))
        """
    )
    assert status == 0 and out == "tensor([[2.0000, 0.0000],\n        [1.0000, 1.4142]])\n"
    assert "UserWarning: torch.cholesky is deprecated in favor of torch.linalg.cholesky" in err


def test_scatter_family_values_grads_errors() -> None:
    rng = np.random.default_rng(1)
    a = rng.standard_normal((3, 4)).astype(np.float32)
    check(lambda T, x, s: T.select_scatter(x, s, 0, 1), a, a[0])
    check(lambda T, x, s: x.select_scatter(s, 1, -1), a, a[:, 0])
    check(lambda T, x, s: T.slice_scatter(x, s, 1, 0, 4, 2), a, a[:, :2])
    check(lambda T, x, s: T.slice_scatter(x, s, start=1), a, a[:2])
    check(lambda T, x, s: T.diagonal_scatter(x, s, 1), a, a[0, :3])
    check(lambda T, x, s: x.diagonal_scatter(s), a, a[0, :3])
    same(lambda T: T.select_scatter(T.zeros(2, 3), T.ones(3, dtype=T.int64), 0, 1))
    same_error(lambda T: T.select_scatter(T.zeros(2, 3), T.ones(2), 0, 1))
    same_error(lambda T: T.slice_scatter(T.zeros(4), T.ones(3), start=2))
    same_error(lambda T: T.diagonal_scatter(T.zeros(2, 2), T.ones(3)))
    same_error(lambda T: T.select_scatter(T.zeros(2, 3), T.ones(3), 0, 5))
    for T in (torch, engine):
        e = T.empty_strided((2, 3), (1, 2), dtype=T.int64)
        assert e.stride() == (1, 2) and e.shape == (2, 3) and e.dtype == T.int64


# ---- the errors a learner hits, as torch words them --------------------------------------------------------------
@pytest.mark.parametrize(
    "call",
    [
        lambda T: T.ones(2).to("float32"),  # (a dtype's name where a device goes: c10's device-string regex fails)
        lambda T: T.device("cuda:01"),
        lambda T: T.device("cpu:"),
        lambda T: T.device(""),
        lambda T: T.ones(2).to("float"),
        lambda T: T.ones(2).mean(dtype=T.int64),
        lambda T: T.ones(2, dtype=T.int64).mean(dtype=T.int32),
        lambda T: T.ones(2, dtype=T.int64).mean(),
        lambda T: T.stack(T.ones(2), T.ones(2)),
        lambda T: T.tensor([1], dtype="float32"),
        lambda T: T.zeros(2, dtype="float32"),
        lambda T: T.ones(2, dtype="float32"),
        lambda T: T.empty(2, dtype="int32"),
        lambda T: T.full((2,), 1, dtype="float32"),
        lambda T: T.as_tensor([1], dtype="float32"),
        lambda T: T.zeros_like(T.ones(2), dtype="int64"),
        lambda T: T.ones(2).new_zeros(2, dtype="int64"),
        lambda T: T.reshape(T.ones(2)),
        lambda T: T.ones(2).reshape(),
        lambda T: T.split(T.ones(2)),
        lambda T: T.ones(2).split(),
    ],
)
def test_learner_errors_as_torch(call: object) -> None:
    same_error(call)


def test_python_dtypes_still_accepted() -> None:
    same(lambda T: (T.ones(2, dtype=float), T.ones(2, dtype=int), T.tensor([1], dtype=bool), T.zeros(1, dtype=complex)))


@pytest.mark.parametrize(
    "line",
    [
        "x.transpose()",
        "x.transpose(0)",
        "x.unsqueeze()",
        "x.gather(0)",
        "x.index_select(0)",
        "x.mm()",  # (a sized method, checked before it runs)
        "x.matmul()",
        "x.expand()",
        "x.repeat()",
        "x.softmax()",
        "x.chunk()",
    ],
)
def test_tensor_method_missing_arguments_as_torch(line: str) -> None:
    # torch's argument parser: 'transpose() missing 2 required positional argument: "dim0", "dim1"' (its plural)
    src = f"import torch\nx = torch.ones(2, 2)\n{line}\n"
    status, out, err = run_tsr(src)
    try:
        run_torch(src)
    except TypeError as e:
        want = f"TypeError: {e}"
    else:
        raise AssertionError("torch did not raise")
    assert status == 1 and want in err, err


def test_user_function_missing_arguments_keep_pythons_message() -> None:
    status, out, err = run_tsr("def f(a, b):\n    return a\nf(1)\n")
    assert status == 1 and "TypeError: f() missing 1 required positional argument: 'b'" in err


@pytest.mark.parametrize(
    "data,dtype",
    [
        ("[T.tensor(1.5)]", "int64"),
        ("[T.tensor(1)]", "float32"),
        ("[T.tensor(True)]", "int64"),
        ("[T.tensor(1.5)]", "bool"),
        ("[T.tensor(2)]", "bool"),
        ("[T.tensor(1.5)]", "complex64"),
        ("[2, T.tensor(1.5)]", "int32"),
        ("[T.tensor(1.5, dtype=T.float64)]", "uint8"),
        ("[T.tensor(3, dtype=T.int32)]", "int8"),
    ],
)
def test_tensor_of_one_element_tensors_as_torch(data: str, dtype: str) -> None:
    # torch stores an integer or bool element through __index__ (a float tensor refuses it), a float one through
    # __float__
    fn = eval(f"lambda T: T.tensor({data}, dtype=T.{dtype})")  # noqa: S307 - test-authored literals
    check(fn, grad=False)


def test_tensor_of_grad_tensors_warns_as_torch() -> None:
    src = """
        import torch
        x = torch.tensor(1.0, requires_grad=True)
        print(torch.tensor([x, x * 2]))
    """
    import sys

    # (torch warns once per process: an earlier test may have shown it)
    sys.modules["engine.tensor"]._FLOAT_WARNED.clear()
    status, out, err = run_tsr(src)
    assert status == 0 and out == run_torch(src)
    assert "UserWarning: Converting a tensor with requires_grad=True to a scalar" in err


@pytest.mark.parametrize("bound", ["T.tensor(1.5)", "T.tensor(2)", "T.tensor([2])", "T.tensor(True)", "1.5"])
def test_slice_bounds_read_through_index(bound: str) -> None:
    fn = eval(f"lambda T: T.arange(10)[{bound}:]")  # noqa: S307 - test-authored literals
    check(fn, grad=False)


def test_list_index_warning_says_where_torch_raised_it() -> None:
    status, out, err = run_tsr("import torch\nx = torch.arange(24).view(2, 3, 4)\nprint(x[[[0, 1]]].shape)\n")
    assert status == 0
    assert "result either in an error or a different result (Triggered internally at /__w/pytorch/pytorch/" in err


# ---- last-bit agreement of the functions torch computes with the C library ------------------------------------
def _bits_equal(e: engine.Tensor, t: torch.Tensor) -> None:
    a, b = np.ascontiguousarray(e.detach().numpy()), np.ascontiguousarray(t.detach().numpy())
    np.testing.assert_array_equal(a.view(np.uint8), b.view(np.uint8))


@pytest.mark.parametrize("dt", ["float32", "float64"])
@pytest.mark.parametrize("name", ["sinh", "cosh", "exp2", "atanh", "asinh", "acosh"])
def test_small_tensors_round_as_torchs_scalar_loop(name: str, dt: str) -> None:
    # a tensor shorter than two vectors is all cpu_kernel_vec's scalar loop: std::sinh (sinhf) on each element,
    # which numpy's own loops miss in the last bit for some arguments (x.sinh().item() printed it)
    rng = np.random.default_rng(5)
    for n in (1, 3, 7, 15):
        x = rng.random(n) * 4 - 2
        x = np.abs(x) + 1 if name == "acosh" else (x / 2.1 if name == "atanh" else x)
        x = x.astype(dt)
        _bits_equal(getattr(engine.tensor(x), name)(), getattr(torch.tensor(x), name)())
    _bits_equal(getattr(engine.tensor(x[0]), name)(), getattr(torch.tensor(x[0]), name)())  # (0-dim)


@pytest.mark.parametrize("dt", ["float32", "float64"])
@pytest.mark.parametrize("name", ["asinh", "acosh"])
def test_asinh_acosh_are_the_c_library_everywhere(name: str, dt: str) -> None:
    # torch's kernels for these have no vector function: std::asinh on every element, at any size and layout
    rng = np.random.default_rng(6)
    x = rng.random((40, 50)) * 6 - 3
    x = (np.abs(x) + 1 if name == "acosh" else x).astype(dt)
    te, tt = engine.tensor(x), torch.tensor(x)
    _bits_equal(getattr(te, name)(), getattr(tt, name)())
    _bits_equal(getattr(te.t(), name)(), getattr(tt.t(), name)())
    src = f"import torch\nx = torch.tensor({x[0, :5].tolist()}, dtype=torch.{dt})\nprint(x.{name}().tolist())\n"
    assert_snippet(src)


@pytest.mark.parametrize("dt", ["float32", "float64"])
def test_pow_scalar_small_tensors_bit_for_bit(dt: str) -> None:
    # torch's pow(tensor, number): on the scalar loop's elements std::pow(base, exponent) with the exponent a
    # double, so a float32 base's power is the double pow rounded once (not powf): x ** 1.7 printed with .item()
    rng = np.random.default_rng(8)
    for n in (1, 7, 15):
        x = (rng.random(n) * 4).astype(dt)
        for e in (2.5, 0.3, -1.5, 1.7, 4, 0.25, 1 / 3):
            _bits_equal(engine.tensor(x) ** e, torch.tensor(x) ** e)
    _bits_equal(engine.tensor(x[0]) ** 1.7, torch.tensor(x[0]) ** 1.7)  # (0-dim)
    _bits_equal(engine.tensor(x).reshape(3, 5).t() ** 1.7, torch.tensor(x).reshape(3, 5).t() ** 1.7)


@pytest.mark.parametrize("dt", ["float32", "float64"])
@pytest.mark.parametrize(
    "name,kw",
    [("softplus", {}), ("softplus", {"beta": 2.0}), ("elu", {}), ("elu", {"alpha": 0.5}), ("selu", {}),
     ("celu", {"alpha": 1.5}), ("mish", {}), ("silu", {})],
)  # fmt: skip
def test_activations_small_tensors_bit_for_bit(name: str, kw: dict, dt: str) -> None:
    # their scalar loops use the C library (std::log1p(std::exp(x)), std::expm1, ...), which numpy's loops miss
    # in the last bit for some arguments
    rng = np.random.default_rng(9)
    for n in (1, 7, 15):
        x = (rng.random(n) * 8 - 4).astype(dt)
        te, tt = engine.tensor(x), torch.tensor(x)
        _bits_equal(getattr(engine.nn.functional, name)(te, **kw), getattr(torch.nn.functional, name)(tt, **kw))
    if name != "softplus":  # (the in-place forms, where torch has one)
        fn = {"elu": "elu_", "selu": "selu_", "celu": "celu_", "mish": "mish", "silu": "silu"}[name]
        a, b = engine.tensor(x), torch.tensor(x)
        getattr(engine.nn.functional, fn)(a, **({**kw, "inplace": True} if fn in ("mish", "silu") else kw))
        getattr(torch.nn.functional, fn)(b, **({**kw, "inplace": True} if fn in ("mish", "silu") else kw))
        _bits_equal(a, b)


@pytest.mark.parametrize("dt", ["float32", "float64"])
def test_atan2_small_tensors_bit_for_bit(dt: str) -> None:
    rng = np.random.default_rng(10)
    for n in (1, 7, 15):
        x, y = (rng.random((2, n)) * 8 - 4).astype(dt)
        _bits_equal(engine.atan2(engine.tensor(x), engine.tensor(y)), torch.atan2(torch.tensor(x), torch.tensor(y)))
    x, y = rng.random((3, 1)).astype(dt), rng.random((1, 4)).astype(dt)  # (broadcast)
    _bits_equal(engine.tensor(x).atan2(engine.tensor(y)), torch.tensor(x).atan2(torch.tensor(y)))
    check(lambda T, a, b: T.atan2(a, b), x, y)  # (values and gradients)
