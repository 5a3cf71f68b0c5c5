"""Printing differences found by the print17 differential fuzzer (engine vs torch), each pinned against torch."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch

import engine


def _both(fn):
    """fn(lib) run with torch and with the engine: its result, or the raised error's type and message."""
    out = []
    for lib in (torch, engine):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                out.append(fn(lib))
            except Exception as e:  # noqa: BLE001 - the error itself is what is compared
                out.append((type(e).__name__, str(e)))
    return out


@pytest.mark.parametrize(
    "make",
    [
        lambda t: t.max(t.ones(2, 3), 1),
        lambda t: t.sort(t.ones(3)),
        lambda t: t.aminmax(t.ones(3)),
        lambda t: t.linalg.qr(t.eye(2)),
        lambda t: t.histogram(t.ones(3), 2),
    ],
)
def test_return_type_attribute_error_names_torch_return_types(make):
    # Python's message names a structseq by its tp_name, torch.return_types.<name>; __name__ stays short
    def go(t):
        r = make(t)
        names = (type(r).__name__, type(r).__qualname__, repr(type(r)))
        try:
            r.no_such_field  # noqa: B018
        except AttributeError as e:
            return names, str(e)

    a, b = _both(go)
    assert a == b


def test_lazy_module_state_dict_keeps_uninitialized_parameters():
    def go(t):
        return [
            str(t.nn.LazyLinear(3).state_dict()),
            repr(t.nn.LazyBatchNorm1d().state_dict()),
            repr(t.nn.LazyConv2d(4, 3).state_dict(keep_vars=True)),
        ]

    a, b = _both(go)
    assert a == b
    assert "<UninitializedParameter>" in a[0]


def test_layout_prints_as_torch_strided():
    # torch.strided is a torch.layout object, not a string: repr has no quotes
    def go(t):
        x = t.ones(2)
        return [
            repr(t.strided),
            str(x.layout),
            repr(x.layout),
            repr([x.layout]),
            repr(type(t.strided)),
            x.layout == t.strided,
            x.layout is t.strided,
            f"{t.strided}",
        ]

    a, b = _both(go)
    assert a == b


_V = -8.511718603416506  # a double whose float32 rounding sits on a float16 midpoint: rounding twice differs


@pytest.mark.parametrize(
    "make",
    [
        lambda t: t.tensor([_V, 1e300, 65519.99, 0.1], dtype=t.float16),
        lambda t: t.tensor(_V, dtype=t.float16),
        lambda t: t.tensor([_V], dtype=t.float64).half(),
        lambda t: t.tensor([[_V]], dtype=t.float64).to(t.float16),
        lambda t: t.tensor([_V + 1j], dtype=t.complex128).real.to(t.float16),
        lambda t: t.tensor(np.array([_V]), dtype=t.float16),
        lambda t: t.full((2,), _V, dtype=t.float16),
        lambda t: t.zeros(2, dtype=t.float16).fill_(_V),
        lambda t: t.zeros(2, dtype=t.float16).copy_(t.tensor([_V, _V], dtype=t.float64)),
        lambda t: _setitem(t.zeros(3, dtype=t.float16), 0, _V),
        lambda t: _setitem(t.zeros(3, dtype=t.float16), slice(1, None), t.tensor([_V, _V], dtype=t.float64)),
        lambda t: t.zeros(2, dtype=t.float16) + _V,
        lambda t: _V - t.zeros(2, dtype=t.float16),
        lambda t: t.zeros(2, dtype=t.float16).add_(_V),
        lambda t: t.zeros(2, dtype=t.float16).sub_(-_V),
        lambda t: t.ones(2, dtype=t.float16).mul_(_V),
    ],
)
def test_double_to_float16_rounds_through_float32(make):
    # c10::Half is constructed from a float, so torch rounds a double to float32 first (the printed values
    # showed it: tensor(-8.5156) where the engine printed -8.5078)
    a, b = _both(lambda t: (repr(make(t)), make(t).tolist()))
    assert a == b


def _setitem(x, idx, v):
    x[idx] = v
    return x


_BUILTIN_MISUSE = """\
import torch
for f in [lambda: repr(1, 2), lambda: ascii(1, 2), lambda: repr(), lambda: repr(obj=1), lambda: ascii(),
          lambda: print(1, foo=2), lambda: format(1, "d", 3), lambda: format(), lambda: format(1, format_spec="d")]:
    try:
        f()
    except TypeError as e:
        print(e)
print(repr(torch.tensor([1.5])), ascii("a\\u00e9"), format(torch.tensor(2.5), ".2f"), format(3))
"""


def test_tsr_repr_ascii_format_print_argument_errors_are_pythons():
    import contextlib
    import io

    from tcli.session import Session

    out, err = io.StringIO(), io.StringIO()
    assert Session(stdout=out, stderr=err, color=False).run_source(_BUILTIN_MISUSE, "prog.tsr") == 0
    expected = io.StringIO()
    with contextlib.redirect_stdout(expected):
        exec(_BUILTIN_MISUSE, {})  # noqa: S102 - the test's own fixed source, run by Python with real torch
    assert out.getvalue() == expected.getvalue()


@pytest.mark.parametrize("dtype", ["float32", "float64", "float16", "bfloat16", "complex64"])
def test_cumsum_of_negative_zero_prints_zero(dtype):
    # torch's running total starts at +0.0, so -0.0 + (+0.0) prints as 0., not -0.
    def go(t):
        x = t.tensor([[-0.0, -0.0], [-0.0, 1.0]], dtype=getattr(t, dtype))
        return [repr(x.cumsum(0)), repr(x.cumsum(1)), repr(t.tensor(-0.0).cumsum(0))]

    a, b = _both(go)
    assert a == b


def test_complex_data_under_bfloat16_default_dtype():
    # torch has no complex twin of bfloat16: tensor() of complex data with no dtype= refuses it
    def go(t):
        t.set_default_dtype(t.bfloat16)
        try:
            out = []
            for f in (lambda: t.tensor([1.0, 1j]), lambda: t.tensor(1j), lambda: t.tensor([1j], dtype=t.complex64)):
                try:
                    out.append(repr(f()))
                except RuntimeError as e:
                    out.append(str(e))
            out.append(repr(t.tensor([1.5, 2.0])))
            return out
        finally:
            t.set_default_dtype(t.float32)

    a, b = _both(go)
    assert a == b


@pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
def test_low_precision_softmax_over_a_leading_dim(dtype):
    # torch's other-dim kernel rounds each exp it computes one by one to the tensor's dtype before dividing by
    # the float sum (those in its vector runs stay float): the fuzzer saw tensor([[0.1025, 0.2666], ...]) printed
    # by torch where the engine printed 0.2664
    rng = np.random.default_rng(5)
    vals = rng.standard_normal((40, 4, 3)) * 2
    wide = rng.standard_normal((3, 2, 100)) * 2  # (inner rows of 100: vector runs and one-by-one tails)

    def go(t):
        x = t.tensor(vals, dtype=getattr(t, dtype))
        w = t.tensor(wide, dtype=getattr(t, dtype))
        out = [x.softmax(d).float().tolist() for d in (0, 1)] + [repr(x[:4, :2, 0].softmax(0))]
        return out + [w.softmax(d).float().tolist() for d in (0, 1)]

    a, b = _both(go)
    assert a == b


@pytest.mark.parametrize(
    "make",
    [
        lambda t: t.linspace(-1e5, 1e5, 3, dtype=t.float16),
        lambda t: t.linspace(0, 1e39, 3),
        lambda t: t.linspace(0, 300, 3, dtype=t.uint8),
        lambda t: t.linspace(0, 1e10, 3, dtype=t.int32),
        lambda t: t.logspace(0, 1e5, 3, dtype=t.float16),
        lambda t: t.linspace(0, 3e38, 3, dtype=t.bfloat16),
        lambda t: t.linspace(0, 1e39, 3, dtype=t.bfloat16),
        lambda t: t.linspace(float("inf"), 1, 2, dtype=t.float16),
        lambda t: t.linspace(-2, 3, 4, dtype=t.float16),
        lambda t: t.linspace(-1e10, 1e10, 1, dtype=t.float16),  # (one step: start, cast unchecked)
        lambda t: t.linspace(-1e10, 1e10, 0, dtype=t.float16),
    ],
)
def test_linspace_bounds_beyond_the_dtype_raise(make):
    # the fuzzer printed tensor([nan, nan, ...]) where torch refuses the bounds (default dtype float16)
    a, b = _both(lambda t: repr(make(t)))
    assert a == b


def test_bfloat16_expand_is_a_stride_0_view():
    # the fuzzer's t.expand(...).view(-1) printed a bfloat16 tensor where torch refuses the view
    def go(t):
        e = t.tensor([[1.5, 2.5]], dtype=t.bfloat16).expand(3, 2)
        out = [e.stride(), e.is_contiguous(), repr(e), repr(e.reshape(-1)), (e * 2).stride(), repr(e.sum(0))]
        try:
            e.view(-1)
        except RuntimeError as err:
            out.append(str(err))
        return out

    a, b = _both(go)
    assert a == b


@pytest.mark.parametrize(
    "view",
    ["t[..., ::2]", "t[..., :1]", "t[..., None]", "t.diagonal()", "t.unfold(1, 2, 1)", "t.as_strided((2,), (2,))"],
)
def test_bfloat16_views_keep_their_dtype_through_reductions(view):
    # the fuzzer printed t[..., ::2].max() as tensor(254803968., grad_fn=...) with no dtype=torch.bfloat16: the
    # Ellipsis/diagonal/unfold/as_strided views had dropped the engine's bfloat16 array class
    def go(t):
        x = t.tensor([[1.5, 2.5, 3.0], [3.5, 4.5, -1.0], [0.5, 7.0, 2.0]], dtype=t.bfloat16)
        v = eval(view, {"t": x})  # noqa: S307 - the test's own fixed expressions
        return [v.stride(), repr(v.max()), repr(v.sum()), repr(v.amin()), repr(v * 2)]

    a, b = _both(go)
    assert a == b


@pytest.mark.parametrize("idx", ["0", "(slice(None), slice(0, 2))", "(slice(0, 1),)", "(0, 0)", "...", "slice(None)"])
@pytest.mark.parametrize("val", ["2.5", "torch.ones(1)", "torch.ones(3)"])
def test_setitem_into_a_self_overlapping_slice(idx, val):
    # torch copies into the indexed view, and copy_ refuses a destination whose elements alias each other
    def go(t):
        x = t.zeros(2, 1).expand(2, 3)
        try:
            x[eval(idx)] = eval(val, {"torch": t})  # noqa: S307 - the test's own fixed expressions
        except RuntimeError as e:
            return str(e)
        return x.tolist()

    a, b = _both(go)
    assert a == b


@pytest.mark.parametrize(
    "make",
    [
        lambda t: t.tensor([-1.0], dtype=t.uint8),
        lambda t: t.tensor([255.5, 1.0], dtype=t.uint8),
        lambda t: t.tensor([[-0.5]], dtype=t.uint8),
        lambda t: t.tensor([1.0, -1], dtype=t.uint8),
        lambda t: t.tensor([2.7, 255.0, -0.0], dtype=t.uint8),
        lambda t: t.tensor([1 + 0j], dtype=t.int64),
        lambda t: t.tensor([1 + 0j], dtype=t.uint8),
        lambda t: t.tensor([1 + 0j], dtype=t.float16),
        lambda t: t.tensor([1 + 1j, 0j], dtype=t.bool),
    ],
)
def test_tensor_data_conversions_checked_as_torch(make):
    # (the fuzzer built uint8 tensors from [-1.0, ...] where torch refuses them)
    a, b = _both(lambda t: repr(make(t)))
    assert a == b


@pytest.mark.parametrize("dtype", ["int64", "int32", "bool"])
def test_softmax_of_integers_names_torchs_kernel(dtype):
    def go(t):
        x = t.ones(2, 3, dtype=getattr(t, dtype))
        out = []
        column = t.ones(2, 1, dtype=getattr(t, dtype))
        for f in (
            lambda: x.softmax(0),
            lambda: x.softmax(-1),
            lambda: x.log_softmax(0),
            lambda: x.log_softmax(1),
            lambda: column.softmax(0),
            lambda: t.ones(2, 3).softmax(0, dtype=t.int64),
        ):
            try:
                out.append(repr(f()))
            except NotImplementedError as e:
                out.append(str(e))
        return out

    a, b = _both(go)
    assert a == b


@pytest.mark.parametrize("dtype", ["complex64", "complex128"])
@pytest.mark.parametrize("n", [3, 8, 9, 17])
def test_complex_neg_zero_signs(dtype, n):
    # torch's vector blocks compute 0 - x (a zero part prints +0.j), its scalar tail -x (-0.j): the fuzzer saw
    # tensor([[-1.5000+0.j, ...], ..., [..., -2.0000-0.j]]) from torch where the engine printed -0.j throughout
    def go(t):
        x = t.complex(t.arange(n, dtype=t.float64) % 3, t.zeros(n, dtype=t.float64)).to(getattr(t, dtype))
        y = x.clone().requires_grad_()
        (-y).backward(t.ones_like(y))  # (neg's backward is grad.neg(): the same zero signs)
        rows = [repr(x.expand(2, n).neg()), repr(x.expand(2, n)[:, 1:].neg())]  # (each row its own vector loop)
        return [repr(-x), repr(x.neg()), repr(x.reshape(1, n).t().neg()), repr(x[::2].neg()), repr(y.grad)] + rows

    a, b = _both(go)
    assert a == b


@pytest.mark.parametrize(
    "call",
    ["b.topk(1)", "torch.topk(b.flatten(), 2)", "b.median()", "b.median(0)", "b[:0, 0].median()"],
)
def test_bool_topk_and_median_refused(call):
    def go(t):
        b = t.tensor([[True, False], [False, True]])
        try:
            return repr(eval(call, {"b": b, "torch": t}))  # noqa: S307 - the test's own fixed expressions
        except (RuntimeError, NotImplementedError) as e:
            return type(e).__name__, str(e)

    a, b = _both(go)
    assert a == b


@pytest.mark.parametrize("view", ["t", "t.T", "t.t()[::2]", "t[:, ::2]", "t.expand(2, 3, 3).permute(2, 1, 0)"])
def test_bfloat16_prod_of_all_runs_in_memory_order(view):
    # the running bfloat16 product rounds after each step, so its order shows (torch walks memory order)
    def go(t):
        x = t.tensor([[1.5, 2.5, 3.0], [3.5, 4.5, -1.0], [0.5, 7.0, 2.0]], dtype=t.bfloat16) * 1.3
        w = eval(view, {"t": x})  # noqa: S307 - the test's own fixed expressions
        return [repr(w.prod()), repr(w.prod(0)), repr(w.prod(-1))]

    a, b = _both(go)
    assert a == b


@pytest.mark.parametrize("dtype", ["complex64", "float32", "bfloat16"])
def test_invert_of_a_non_integer_tensor(dtype):
    def go(t):
        try:
            return repr(~t.ones(2, dtype=getattr(t, dtype)))
        except TypeError as e:
            return str(e)

    a, b = _both(go)
    assert a == b
