"""torch.testing against torch: assert_close passes and fails on the same inputs with the same exception type and
message text (item paths, attribute mismatches, mismatch counts, the greatest differences digit for digit and
their indices), the deprecated assert_allclose with its warning, and make_tensor's values under manual_seed. Then
a tsr script that catches assert_close's errors prints what torch prints."""

from __future__ import annotations

import collections
import textwrap
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from helpers import run_tsr_and_python
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import engine

LIBS = (torch, engine)


def outcome(call: Callable[[Any], Any], lib: Any) -> Any:
    """What call(lib) did: "passed", or the exception's type name and message; warnings recorded too."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            call(lib)
            result: Any = "passed"
        except Exception as e:  # noqa: BLE001 - the point is to compare whatever is raised
            result = (type(e).__name__, str(e))
    return result, [(w.category.__name__, str(w.message)) for w in caught]


def same_outcome(call: Callable[[Any], Any]) -> Any:
    expected, got = (outcome(call, lib) for lib in LIBS)
    assert got == expected, f"\nengine: {got}\ntorch:  {expected}"
    return expected[0]


def close(make: Callable[[Any], tuple[Any, Any]], **kw: Any) -> Callable[[Any], Any]:
    """A call of assert_close on make(lib)'s pair with `kw` (a kw value may be a function of lib too)."""
    return lambda T: T.testing.assert_close(*make(T), **kw)


def t(*args: Any, **kw: Any) -> Callable[[Any], Any]:
    """A tensor to build in either library (dtype given by name)."""
    dtype = kw.pop("dtype", None)
    return lambda T: T.tensor(*args, dtype=getattr(T, dtype) if dtype else None, **kw)


def pair(a: Any, e: Any) -> Callable[[Any], tuple[Any, Any]]:
    def build(v: Any, T: Any) -> Any:
        if callable(v) and not isinstance(v, type):
            return v(T)
        if isinstance(v, list):
            return [build(x, T) for x in v]
        if isinstance(v, tuple):
            return tuple(build(x, T) for x in v)
        if isinstance(v, dict):
            return type(v)((k, build(x, T)) for k, x in v.items())
        return v

    return lambda T: (build(a, T), build(e, T))


NAN, INF = float("nan"), float("inf")
FAILING = [
    (pair(t([1.0, 2.0, 3.0]), t([1.0, 4.0, 5.0])), {}),
    (pair(t([1.0, 2.0, 3.0]), t([1.0, 4.0, 5.0])), {"msg": "custom"}),
    (pair(t([1.0, 2.0, 3.0]), t([1.0, 4.0, 5.0])), {"msg": lambda m: f"Header\n\n{m}\n\nFooter"}),
    (pair(t([1.0, 2.0]), t([1, 2])), {}),
    (pair(t([1.0, 2.0]), t([1, 3])), {"check_dtype": False}),
    (pair(t([1.0, 2.0]), t([1.0, 2.0], dtype="float64")), {}),
    (pair(t([1.0, 2.1]), t([1.0, 2.1], dtype="float64")), {"check_dtype": False, "rtol": 0, "atol": 0}),
    (pair(t([1.0, 2.0]), t([1.0, 2.0, 3.0])), {}),
    (pair(t([[1.0, 2.0]]), t([1.0, 2.0])), {}),
    (pair(t(1.0), t(2.0)), {}),
    (pair(t(NAN), t(NAN)), {}),
    (pair(t(3), t(4)), {}),
    (pair(t(3.0, dtype="float16"), t(3.01, dtype="float16")), {}),
    (pair(1e-9, 1e-10), {"rtol": 0, "atol": 0}),
    (pair(1.0, 1), {}),
    (pair(1, 2), {}),
    (pair(0.0, 1e-3), {}),
    (pair(1.5, 0.0), {}),
    (pair(NAN, 1.0), {}),
    (pair(INF, -INF), {}),
    (pair(1 + 2j, 1 + 3j), {}),
    (pair(True, 1), {}),
    (pair(True, False), {}),
    (pair(np.bool_(True), False), {}),
    (pair(None, 1), {}),
    (pair(1, None), {}),
    (pair([t([1.0]), 2.0], (t([1.0]), 2.5)), {}),
    (pair([1, 2], [1, 2, 3]), {}),
    (pair([[1, 2], [3]], [[1, 2], [3, 4]]), {}),
    (pair({"a": 1, "b": 2}, {"a": 1, "c": 2}), {}),
    (pair({"a": 1, "b": 2}, {"a": 1, "c": 2}), {"msg": "custom"}),
    (pair([{"a": t([1.0, 2.0])}], [{"a": t([1.0, 2.5])}]), {}),
    (pair([{"a": t([1.0, 2.0])}], [{"a": t([1.0, 2.5])}]), {"msg": lambda m: "<" + m + ">"}),
    (pair([{"a": t([1.0, 2.0])}], [{"a": t([1.0, 2.5])}]), {"msg": "plain"}),
    (pair([1.0, 2.0, 3.0], [1.5, 2.0, 3.5]), {}),
    (pair(collections.OrderedDict(b=1.0, a=2.0), {"a": 2.0, "b": 1.5}), {}),
    (pair({1: 1.0, "x": 2.0}, {1: 1.5, "x": 2.0}), {}),
    (pair(t([1.0, 2.0]), [1.0, 2.0]), {}),
    (pair(t([1.0, 2.0]), 1.0), {}),
    (pair(1.0, t(1.0)), {}),
    (pair(np.array([1.0, 2.0]), np.array([1.0, 2.1])), {}),
    (pair(np.array([1, 2]), np.array([1, 3])), {}),
    (pair(np.array([1, 2], dtype=np.int32), np.array([1, 2])), {}),
    (pair(np.array([1.0, 2.0]), t([1.0, 2.0], dtype="float64")), {}),
    (pair(np.float32(1.0), np.float32(1.5)), {}),
    (pair(np.int64(1), 2), {}),
    (pair(t([[1, 2], [3, 4]]), t([[1, 2], [3, 0]])), {}),
    (pair(t([[1, 2], [3, 4]], dtype="uint8"), t([[1, 9], [3, 0]], dtype="uint8")), {}),
    (pair(t([[1, 2], [3, 4]], dtype="int8"), t([[1, -128], [3, 127]], dtype="int8")), {}),
    (pair(t([5, 2]), t([1, 3])), {"rtol": 0.5, "atol": 1}),
    (pair(t([True, False]), t([True, True])), {}),
    (pair(t([1.0, 2.0]), t([1.0, 2.0])), {"rtol": 1e-3}),
    (pair(t([1.0, 2.0]), t([1.0, 2.0])), {"atol": 1e-3}),
    (pair(1.0, 1.0), {"atol": 1e-3}),
    (pair(t([1.0, 2.0], dtype="float16"), t([1.0, 2.01], dtype="float16")), {}),
    (pair(t([1.0, 2.0], dtype="float64"), t([1.0, 2.000001], dtype="float64")), {}),
    (pair(t([1.0, 0.0]), t([1.0, 1e-3])), {"rtol": 0, "atol": 1e-4}),
    (pair(t([1.0, 5.0]), t([0.0, 1e-3])), {}),
    (pair(t([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]), t([[1.0, 2.5, 3.0], [4.0, 5.0, 6.5]])), {}),
    (pair(t([[[1.0, 2.0]], [[3.0, 4.0]]]), t([[[1.0, 2.0]], [[3.5, 4.0]]])), {}),
    (
        pair(lambda T: T.tensor([[1.0, 5.0], [2, 3]]).t(), lambda T: T.tensor([[1.0, 5.0], [2, 3]]).t().contiguous()),
        {"check_stride": True},
    ),  # fmt: skip
    (pair(lambda T: T.nn.Parameter(T.tensor([1.0, 2.0])), t([1.0, 2.0])), {"allow_subclasses": False}),
    (pair(lambda T: T.nn.Parameter(T.tensor([1.0, 2.0])), t([1.0, 2.5])), {}),
    (pair("a", "a"), {}),
    (pair(object, object), {}),
    (pair(t([INF, 1.0]), t([-INF, 1.0])), {}),
    (pair(t([NAN, 1.0, 3.0]), t([1.0, NAN, 3.5])), {}),
    (pair(t([NAN, 1.0, 3.0]), t([NAN, NAN, 3.5])), {"equal_nan": True}),
    (pair(t([1.0, 2.0]), t([1.0, 2.0])), {"rtol": 0.1, "atol": None}),
    (pair(t([1.0, 2.0]), t([1.0, 2.5])), {"rtol": 0.1, "atol": 0.01}),
    (pair(t([0.0, 0.0]), t([0.0, 0.1])), {"rtol": 0.1, "atol": 0}),
    (pair({"w": [t([1.0]), t([2.0, 3.0])], "b": 4.0}, {"w": [t([1.0]), t([2.0, 3.1])], "b": 4.5}), {}),
    (pair(lambda T: T.tensor([1.0, 2.0], requires_grad=True) * 2, t([2.0, 4.5])), {}),
    (pair(t(1.0), t([1.0])), {}),
    (pair(t(1), t(1.5)), {"check_dtype": False}),
    (pair(t(True), t(False)), {}),
    (pair(t([1, 200], dtype="uint8"), t([1, -56], dtype="int8")), {"check_dtype": False}),
    (pair(t([1, 20]), t([1, 22])), {"rtol": 0.05, "atol": 0}),
    (pair(t([1, 20]), t([1, 23])), {"rtol": 0, "atol": 2}),
    (pair(t([1.5, 2.0], dtype="float64"), t([1, 2])), {"check_dtype": False}),
    (pair(lambda T: T.zeros(0, 3), lambda T: T.zeros(3, 0)), {}),
    (pair(lambda T: T.arange(12.0).reshape(3, 4).t()[1:, ::2], lambda T: T.ones(4, 3)[1:, ::2]), {}),
    (pair(lambda T: T.tensor(np.arange(2000) % 7), lambda T: T.tensor(np.arange(2000) % 5)), {}),
    (pair([1, [2, {"k": (3, 4.0)}]], [1, [2, {"k": (3, 4.5)}]]), {}),
    (pair({(1, 2): 1.0, (0, 5): 2.0}, {(0, 5): 2.0, (1, 2): 1.5}), {}),
    (pair(range(3), [0, 1, 3]), {}),
    (pair({"a": 1}, [1]), {}),
    (pair(np.array(1.0), np.array(1.5)), {}),
    (pair(np.array([1, 2]), [1, 2]), {}),
    (pair(np.array(["a"]), np.array(["a"])), {}),
    (pair(np.float64(1.0), 1.5), {}),
    (pair(t([1.0]), t([2.0])), {"msg": 5}),
    (pair(1, 2), {"msg": lambda m: m.upper()}),
]
PASSING = [
    (pair(t([1.0, 2.0, 3.0]), t([1.0, 2.0, 3.0])), {}),
    (pair(t(NAN), t(NAN)), {"equal_nan": True}),
    (pair(NAN, NAN), {"equal_nan": True}),
    (pair(1.0, 1), {"check_dtype": False}),
    (pair(None, None), {}),
    (pair(True, np.bool_(True)), {}),
    (pair([t([1.0]), 2.0, np.array(3.0)], (t([1.0]), 2.0, np.array(3.0))), {}),
    (pair({"a": 1, "b": t([1.0])}, collections.OrderedDict(b=t([1.0]), a=1)), {}),
    (pair(lambda T: T.nn.Parameter(T.tensor([1.0, 2.0])), t([1.0, 2.0])), {}),
    (pair(t([1.0, 2.0]), t([1, 2])), {"check_dtype": False}),
    (pair(t([1.0, 2.0]), t([1.0, 2.0000001])), {}),
    (pair(t([1.0, 2.0]), t([1.0, 2.1])), {"rtol": 0.1, "atol": 0}),
    (pair(t([INF, -INF]), t([INF, -INF])), {}),
    (pair(lambda T: T.tensor([[1.0, 5.0], [2, 3]]).t(), lambda T: T.tensor([[1.0, 5.0], [2, 3]]).t().contiguous()), {}),
    (pair(np.float64(1.0), 1.0 + 1e-9), {}),
    (pair(t([], dtype="float32"), t([], dtype="float32")), {}),
    (pair([], ()), {}),
    (pair(b"ab", b"ab"), {}),
    (pair(range(3), [0, 1, 2]), {}),
    (pair(t([1, 20]), t([1, 22])), {"rtol": 0.1, "atol": 0}),
    (pair(t([1.0]), t([2.0])), {"atol": 1, "rtol": 0}),
    (pair(t([1.0, 2.0], dtype="float64"), t([1, 2])), {"check_dtype": False}),
]


@pytest.mark.parametrize(("make", "kw"), FAILING, ids=[str(i) for i in range(len(FAILING))])
def test_assert_close_failures_match_torch(device: str, make: Callable, kw: dict) -> None:
    assert same_outcome(close(make, **kw)) != "passed"


@pytest.mark.parametrize(("make", "kw"), PASSING, ids=[str(i) for i in range(len(PASSING))])
def test_assert_close_passes_match_torch(device: str, make: Callable, kw: dict) -> None:
    assert same_outcome(close(make, **kw)) == "passed"


@pytest.mark.parametrize(
    ("a", "e", "kw"),
    [([1.0, 2.0], [1.0, 2.0001], {}), ([1.0, 2.0], [1.0, 2.1], {}), ([1.0, NAN], [1.0, NAN], {}),
     ([1.0, NAN], [1.0, NAN], {"equal_nan": False}), (t([1, 2]), [1.0, 2.5], {}), (t([1.0, 2.0]), [1.0, 2.5], {}),
     (t([1.0, 2.0], dtype="float64"), t([1.0, 2.00001]), {}), (t([1.0]), [1.5], {"msg": "mine"}),
     (t([1.0]), [1.5], {"rtol": 0.1}), (3, 3.5, {"rtol": 0.2, "atol": 0})],
)  # fmt: skip
def test_assert_allclose_matches_torch(a: Any, e: Any, kw: dict) -> None:
    same_outcome(lambda T: T.testing.assert_allclose(*pair(a, e)(T), **kw))


def test_device_mismatch(device: str) -> None:
    """Tensors on two devices: torch's attribute message, or (check_device=False) both compared on the cpu.
    (torch, the oracle, has only the cpu: its messages for cuda tensors are written out here.)"""
    if device == "cpu":
        pytest.skip("needs a second device")
    a, e = engine.tensor([1.0, 2.0]), engine.tensor([1.0, 2.5], device="cpu")
    with pytest.raises(AssertionError) as raised:
        engine.testing.assert_close(a, e)
    assert str(raised.value) == "The values for attribute 'device' do not match: cuda:0 != cpu."
    with pytest.raises(AssertionError) as raised:
        engine.testing.assert_close(a, e, check_device=False)
    assert (
        str(raised.value)
        == outcome(lambda T: T.testing.assert_close(T.tensor([1.0, 2.0]), T.tensor([1.0, 2.5])), torch)[0][1]
    )
    engine.testing.assert_close(a, a.cpu(), check_device=False)


# ---- drawn near-equal tensors: the tolerance boundary, the differences' digits, their indices ----------------

DTYPES = {"float32": np.float32, "float64": np.float64, "float16": np.float16, "int64": np.int64,
          "int32": np.int32, "uint8": np.uint8, "bool": np.bool_}  # fmt: skip


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.integers(0, 5), min_size=0, max_size=3).map(tuple), st.integers(0, 2**32 - 1),
       st.sampled_from(sorted(DTYPES)), st.sampled_from(sorted(DTYPES)),
       st.sampled_from([1e-7, 1e-6, 1e-4, 1e-2, 1.0]),
       st.sampled_from([None, (0, 0), (1e-3, 1e-5), (0.0, 1e-2), (0.05, 0.0)]), st.booleans(),
       st.booleans())  # fmt: skip
@pytest.mark.usefixtures("device")
def test_drawn_near_equal_tensors_match_torch(shape: tuple, seed: int, dtype: str, other: str, scale: float,
                                              tols: tuple | None, equal_nan: bool, specials: bool) -> None:  # fmt: skip
    rng = np.random.default_rng(seed)
    base = rng.standard_normal(shape) * 10.0 ** rng.integers(-3, 4)
    near = base * (1 + rng.standard_normal(shape) * scale) + rng.standard_normal(shape) * scale * 1e-3
    if specials and base.size:
        picks = rng.integers(0, base.size, size=3)
        base.flat[picks[0]], near.flat[picks[1]], near.flat[picks[2]] = np.nan, np.inf, base.flat[picks[2]]
    if not np.issubdtype(DTYPES[dtype], np.floating):
        base, near = np.nan_to_num(base * 4), np.nan_to_num(near * 4)
    a = base.astype(DTYPES[dtype]) if dtype != "bool" else base > 0
    e = near.astype(DTYPES[other]) if other != "bool" else near > 0
    kw: dict[str, Any] = {"equal_nan": equal_nan, "check_dtype": dtype == other}
    if tols is not None:
        kw["rtol"], kw["atol"] = tols
    with np.errstate(all="ignore"):
        same_outcome(lambda T: T.testing.assert_close(T.tensor(a), T.tensor(e), **kw))


@settings(max_examples=100, deadline=None)
@given(st.floats(allow_nan=True, allow_infinity=True) | st.integers(-(2**40), 2**40),
       st.floats(-1e-6, 1e-6), st.sampled_from([None, (0, 0), (1e-3, 1e-5)]), st.booleans())  # fmt: skip
def test_drawn_scalars_match_torch(x: float, delta: float, tols: tuple | None, equal_nan: bool) -> None:
    kw: dict[str, Any] = {"equal_nan": equal_nan, "check_dtype": False}
    if tols is not None:
        kw["rtol"], kw["atol"] = tols
    y = x * (1 + delta) if isinstance(x, float) else x + round(delta * 1e6)
    same_outcome(lambda T: T.testing.assert_close(x, y, **kw))
    same_outcome(lambda T: T.testing.assert_close(T.tensor(float(x)), T.tensor(float(y)), **kw))


# ---- make_tensor ------------------------------------------------------------------------------------------------


def _drawn(T: Any, shape: Any, dtype: str, kw: dict) -> Any:
    T.manual_seed(kw.pop("seed", 0))
    x = T.testing.make_tensor(*shape, dtype=getattr(T, dtype), device="cpu", **kw)
    return repr(x), x.dtype, x.shape, x.stride(), x.requires_grad, x.is_contiguous(), x.detach().tolist()


@pytest.mark.parametrize(
    ("shape", "dtype", "kw"),
    [((2, 3), "float32", {}), (((2, 3),), "float64", {}), (([4],), "float16", {}), ((5,), "int64", {}),
     ((5,), "int32", {}), ((3, 3), "int16", {}), ((6,), "int8", {}), ((6,), "uint8", {}), ((7,), "bool", {}),
     ((), "float32", {}), ((0, 3), "float32", {}), ((3, 4), "float32", {"low": -1, "high": 1}),
     ((3, 4), "float64", {"noncontiguous": True}), ((1,), "float64", {"noncontiguous": True}),
     ((3, 4), "int64", {"low": 0, "high": 3, "noncontiguous": True}), ((20,), "int64", {"low": -1, "high": 2,
     "exclude_zero": True}), ((20,), "uint8", {"low": 0, "high": 2, "exclude_zero": True}),
     ((20,), "bool", {"exclude_zero": True}), ((6,), "float16", {"low": 0, "high": 0.01, "exclude_zero": True}),
     ((4,), "float32", {"requires_grad": True}), ((4,), "float32", {"low": -3.4e38, "high": 3.4e38}),
     ((4,), "float16", {"low": -1e9, "high": 1e9}), ((5,), "int32", {"low": 1.5, "high": 4.2}),
     ((5,), "int8", {"low": -500, "high": 300}), ((5,), "uint8", {"low": -5, "high": 3}),
     ((5,), "int64", {"low": 2**62}), ((4,), "float32", {"low": 2.0, "high": 2.0}), ((3,), "float32", {"low": NAN}),
     ((3,), "float32", {"low": 3, "high": 2}), ((3,), "int8", {"low": 300, "high": 400}),
     ((3,), "int32", {"requires_grad": True}), ((3,), "float32", {"noncontiguous": True, "memory_format": 1}),
     ((2, 3), "float32", {"seed": 7})],
)  # fmt: skip
def test_make_tensor_matches_torch(shape: tuple, dtype: str, kw: dict) -> None:
    expected, got = (outcome(lambda T: _drawn(T, shape, dtype, dict(kw)), T) for T in LIBS)
    assert got == expected


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(0, 6), max_size=3), st.sampled_from(sorted(DTYPES)), st.integers(0, 2**31),
       st.booleans(), st.booleans())  # fmt: skip
def test_drawn_make_tensor_matches_torch(
    shape: list, dtype: str, seed: int, noncontiguous: bool, exclude_zero: bool
) -> None:
    kw = {"seed": seed, "noncontiguous": noncontiguous, "exclude_zero": exclude_zero}
    expected, got = (outcome(lambda T: _drawn(T, shape, dtype, dict(kw)), T) for T in LIBS)
    assert got == expected


# ---- the module in tsr --------------------------------------------------------------------------------------------

SCRIPT = """\
import torch
import torch.testing
from torch.testing import assert_close, make_tensor


def check(actual, expected, **kw):
    try:
        assert_close(actual, expected, **kw)
        print("close")
    except AssertionError as e:
        print("AssertionError:", e)
    except (TypeError, ValueError) as e:
        print(type(e).__name__ + ":", e)


check(torch.tensor([1.0, 2.0, 3.0]), torch.tensor([1.0, 2.0, 3.0]))
check(torch.tensor([1.0, 2.0, 3.0]), torch.tensor([1.0, 4.0, 5.0]))
check(torch.tensor([1.0, 2.0]), torch.tensor([1, 2]))
check([torch.tensor(1.0), {"w": torch.tensor([0.5, 0.25])}], [torch.tensor(1.0), {"w": torch.tensor([0.5, 0.3])}])
check(1.0, 1)
check(torch.tensor([1.0]), torch.tensor([1.5]), msg=lambda m: "checking weights\\n" + m)
check(torch.tensor([1.0]), torch.tensor([1.5]), rtol=0.1)
check({"a": 1}, {"b": 1})
check(torch.tensor([1.0]), [1.0])
torch.manual_seed(0)
x = make_tensor(2, 3, dtype=torch.float32, device="cpu")
print(x)
print(make_tensor((4,), dtype=torch.int64, device="cpu", low=0, high=5))
torch.testing.assert_close(x, x.clone())
print(torch.testing.assert_close(x * 1.0000001, x))
"""


def test_tsr_script_prints_torchs_output(tmp_path: Path) -> None:
    script = tmp_path / "testing.tsr"
    script.write_text(textwrap.dedent(SCRIPT))
    tsr, ref = run_tsr_and_python(script)
    assert tsr.returncode == 0, tsr.stderr
    assert "Tensor-likes are not close!" in ref.stdout
    assert tsr.stdout == ref.stdout
