"""engine.printing against torch's own repr: the same numpy data printed both ways must match exactly."""

from __future__ import annotations

import ast
import contextlib
import math
from collections.abc import Iterator

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine import dtypes as edt
from engine import printing
from engine.printing import format_size, format_tensor, get_printoptions, printoptions, set_printoptions

DTYPES = ["bool", "uint8", "int8", "int16", "int32", "int64", "float16", "float32", "float64"]
FLOATS = ["float16", "float32", "float64"]


class FakeDtype:
    def __init__(self, name: str) -> None:
        self.name = name
        self.is_floating_point = name.startswith("float")
        self.itemsize = np.dtype(name).itemsize

    def __str__(self) -> str:
        return "torch." + self.name


class FakeDevice:
    def __init__(self, kind: str = "cpu", index: int | None = None) -> None:
        self.type = kind
        self.index = index

    def __str__(self) -> str:
        return self.type if self.index is None else f"{self.type}:{self.index}"


class FakeGradFn:
    def __init__(self, name: str) -> None:
        self._name = name

    def name(self) -> str:
        return self._name


class FakeTensor:
    """The duck-typed contract format_tensor relies on; the real engine Tensor provides the same."""

    def __init__(
        self,
        data: np.ndarray,
        device: FakeDevice | None = None,
        requires_grad: bool = False,
        grad_fn: str | None = None,
    ) -> None:
        self._data = data
        self.dtype = FakeDtype(data.dtype.name)
        self.device = device or FakeDevice()
        self.requires_grad = requires_grad or grad_fn is not None
        self.grad_fn = FakeGradFn(grad_fn) if grad_fn else None
        self.is_leaf = grad_fn is None

    def _host(self) -> np.ndarray:
        return self._data


@contextlib.contextmanager
def both_options(**kwargs: object) -> Iterator[None]:
    set_printoptions(**kwargs)
    torch.set_printoptions(**kwargs)
    try:
        yield
    finally:
        set_printoptions(profile="default")
        torch.set_printoptions(profile="default")


@contextlib.contextmanager
def both_default_dtype(name: str) -> Iterator[None]:
    old_engine, old_torch = edt.get_default_dtype(), torch.get_default_dtype()
    edt.set_default_dtype(getattr(edt, name))
    torch.set_default_dtype(getattr(torch, name))
    try:
        yield
    finally:
        edt.set_default_dtype(old_engine)
        torch.set_default_dtype(old_torch)


def torch_repr(data: np.ndarray, requires_grad: bool = False, grad_fn: bool = False) -> str:
    t = torch.from_numpy(data.copy())
    if requires_grad or grad_fn:
        t.requires_grad_(True)
    if grad_fn:
        t = t * 1  # exact for every float value (incl. -0., nan, inf), and gives MulBackward0
    return repr(t)


def check(data: np.ndarray, requires_grad: bool = False, grad_fn: bool = False) -> None:
    expected = torch_repr(data, requires_grad, grad_fn)
    fake = FakeTensor(data, requires_grad=requires_grad, grad_fn="MulBackward0" if grad_fn else None)
    got = format_tensor(fake)
    assert got == expected, f"\n--- ours ---\n{got}\n--- torch ---\n{expected}"


@pytest.fixture(autouse=True)
def _restore_defaults() -> Iterator[None]:
    yield
    set_printoptions(profile="default")
    torch.set_printoptions(profile="default")


# ---------------------------------------------------------------- explicit cases


def f32(x: object) -> np.ndarray:
    return np.array(x, dtype=np.float32)


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (f32([1e-5, 1.0, 100.0]), "tensor([1.0000e-05, 1.0000e+00, 1.0000e+02])"),
        (f32([1.0, 2.0, 3.0]), "tensor([1., 2., 3.])"),
        (f32(3.5), "tensor(3.5000)"),
        (f32([math.inf, math.nan, -1.0]), "tensor([inf, nan, -1.])"),
        (np.zeros((2, 0), np.float32), "tensor([], size=(2, 0))"),
        (np.array([1.5, 2.0], np.float64), "tensor([1.5000, 2.0000], dtype=torch.float64)"),
        (np.array([True, False]), "tensor([ True, False])"),
        (np.array([], np.int64), "tensor([], dtype=torch.int64)"),
        (np.array(7), "tensor(7)"),
    ],
)
def test_known_strings(data: np.ndarray, expected: str) -> None:
    assert torch_repr(data) == expected  # guards the test's own expectations
    assert format_tensor(FakeTensor(data)) == expected


@pytest.mark.parametrize(
    "data",
    [
        f32([123456789.0, 1.0]),
        np.arange(2000, dtype=np.float32),
        np.arange(12).reshape(3, 4) * 1000,
        np.arange(12, dtype=np.float32).reshape(3, 4) * 1000,
        f32([0.0, 0.0]),
        f32([-0.0, 1.0]),
        f32([0.0, math.nan]),
        f32([1.0, -math.inf]),
        f32([math.nan]),
        f32(math.nan),
        f32(-0.0),
        f32([1e-4, 1.0]),
        f32([1e8, 1.0]),
        f32([1.1e8]),
        f32([0.1, 100.1]),
        np.array([1e-300, 1e300], np.float64),
        np.array([1e-320, 1.0], np.float64),
        np.array([65504.0, 1e-3], np.float16),
        np.array([0.1, 0.2, 0.3], np.float16),
        np.arange(100, dtype=np.float64).reshape(10, 10) / 7,
        np.arange(3000, dtype=np.int64).reshape(10, 300),
        np.arange(2 * 3 * 400, dtype=np.float32).reshape(2, 3, 400),
        np.arange(5 * 7 * 11 * 3, dtype=np.int32).reshape(5, 7, 11, 3),
        np.zeros((0,), np.float32),
        np.zeros((0, 3), np.bool_),
        np.zeros((2, 0, 4), np.float64),
        np.zeros((3, 0), np.uint8),
        np.array([255, 0], np.uint8),
        np.array([-128, 127], np.int8),
        np.array([np.iinfo(np.int64).min, 5], np.int64),
        np.ones((40, 40), np.bool_),
        np.linspace(-1, 1, 50, dtype=np.float32),
    ],
)
def test_explicit_against_torch(data: np.ndarray) -> None:
    check(data)


def test_grad_suffixes() -> None:
    check(f32([1.0, 2.0]), requires_grad=True)
    check(f32([1.0, 2.0]), grad_fn=True)
    check(f32(2.0), grad_fn=True)
    check(np.arange(30, dtype=np.float64).reshape(3, 10) / 3, grad_fn=True)
    # Long last lines push suffixes onto their own lines.
    check(np.arange(11, dtype=np.float64) / 3, grad_fn=True)
    check(np.zeros((0, 2), np.float16), requires_grad=True)


def test_device_suffix() -> None:
    cuda = FakeDevice("cuda", 0)
    assert format_tensor(FakeTensor(f32([1.0, 2.0]), device=cuda)) == "tensor([1., 2.], device='cuda:0')"
    got = format_tensor(FakeTensor(np.array([1.5], np.float64), device=cuda, grad_fn="AddBackward0"))
    assert got == "tensor([1.5000], device='cuda:0', dtype=torch.float64, grad_fn=<AddBackward0>)"
    assert format_tensor(FakeTensor(np.zeros((2, 0), np.int64), device=cuda)) == (
        "tensor([], device='cuda:0', size=(2, 0), dtype=torch.int64)"
    )


class _PosingDevice(FakeDevice):
    """Not the default device (like cuda), yet named 'cpu' like the tensor torch prints."""

    def __init__(self) -> None:
        super().__init__("cuda", 0)

    def __str__(self) -> str:
        return "cpu"


@pytest.mark.parametrize("n", [1, 7, 8, 9, 10, 30])
@pytest.mark.parametrize("grad", [None, "requires_grad", "grad_fn"])
def test_device_suffix_wrapping(monkeypatch: pytest.MonkeyPatch, n: int, grad: str | None) -> None:
    # torch here has no GPU; telling it the default device is cuda makes it print "device='cpu'" on
    # every tensor, which exercises the same suffix wrapping as a cuda tensor's "device='cuda:0'".
    monkeypatch.setattr(torch._C, "_get_default_device", lambda: "cuda")
    data = np.arange(n, dtype=np.float64) / 3
    expected = torch_repr(data, requires_grad=grad == "requires_grad", grad_fn=grad == "grad_fn")
    assert "device='cpu'" in expected
    fake = FakeTensor(
        data,
        device=_PosingDevice(),
        requires_grad=grad == "requires_grad",
        grad_fn="MulBackward0" if grad == "grad_fn" else None,
    )
    assert format_tensor(fake) == expected


def test_default_dtype_float64() -> None:
    with both_default_dtype("float64"):
        check(np.array([1.5, 2.0], np.float64))
        check(f32([1.5, 2.0]))
        check(np.zeros((0,), np.float64))
        check(np.zeros((0,), np.float32))
        check(np.array([1, 2], np.int64))


def test_printoptions_profiles() -> None:
    data = np.arange(2000, dtype=np.float32) / 3
    for profile in ("short", "full", "default"):
        with both_options(profile=profile):
            assert get_printoptions() == {k: getattr(torch._tensor_str.PRINT_OPTS, k) for k in get_printoptions()}
            check(data)
            check(data.reshape(40, 50))


def test_set_printoptions_resets_sci_mode_like_torch() -> None:
    set_printoptions(sci_mode=True)
    set_printoptions(precision=3)
    assert get_printoptions()["sci_mode"] is None
    assert get_printoptions()["precision"] == 3


def test_printoptions_context_manager() -> None:
    with printoptions(precision=1, sci_mode=False):
        assert format_tensor(FakeTensor(f32([1e-5, 1.25]))) == "tensor([0.0, 1.2])"
    assert get_printoptions() == {
        "precision": 4,
        "threshold": 1000,
        "edgeitems": 3,
        "linewidth": 80,
        "sci_mode": None,
    }


@pytest.mark.parametrize(
    "opts",
    [
        {"edgeitems": 0},
        {"edgeitems": 0, "threshold": 3},
        {"threshold": 5, "edgeitems": 1},
        {"sci_mode": True},
        {"sci_mode": False},
        {"precision": 0},
        {"precision": 10},
        {"linewidth": 10},
    ],
)
def test_options_on_fixed_data(opts: dict) -> None:
    with both_options(**opts):
        for data in (
            np.arange(10, dtype=np.float32) / 4,
            np.arange(24, dtype=np.int16).reshape(2, 3, 4),
            f32([[1e-6, 5.0], [math.nan, -math.inf]]),
            f32([0.0, 0.0]),
            f32(2.0),
            np.array([True, False, True]),
        ):
            check(data)


def test_format_size() -> None:
    for shape in [(), (2, 3), (0,), (1, 0, 5)]:
        assert format_size(shape) == repr(torch.Size(shape))


def test_engine_does_not_import_torch() -> None:
    tree = ast.parse(open(printing.__file__, encoding="utf-8").read())
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            imported.add(node.module.split(".")[0])
    assert not imported & {"torch", "tcli", "rich", "click"}


# ---------------------------------------------------------------- hypothesis-driven differential tests


def _shape(draw: st.DrawFn) -> tuple[int, ...]:
    kind = draw(st.sampled_from(["small", "small", "small", "big", "wide", "empty"]))
    if kind == "small":
        ndim = draw(st.integers(0, 4))
        return tuple(draw(st.integers(1, 5)) for _ in range(ndim))
    if kind == "big":
        # over the default threshold of 1000, so summarization kicks in
        return draw(st.sampled_from([(1001,), (1500,), (40, 30), (3, 20, 20), (7, 1, 200), (2, 2, 2, 130), (1, 1001)]))
    if kind == "wide":
        return draw(st.sampled_from([(30,), (3, 25), (2, 2, 40), (100,)]))
    ndim = draw(st.integers(1, 4))
    dims = [draw(st.integers(0, 3)) for _ in range(ndim)]
    dims[draw(st.integers(0, ndim - 1))] = 0
    return tuple(dims)


def _float_values(rng: np.random.Generator, kind: str, n: int) -> np.ndarray:
    if kind == "ints":
        vals = rng.integers(-1000, 1000, n).astype(np.float64)
    elif kind == "big_ints":
        vals = rng.integers(-(10**12), 10**12, n).astype(np.float64)
    elif kind == "unit":
        vals = rng.uniform(-1, 1, n)
    elif kind == "moderate":
        vals = rng.uniform(-100, 100, n)
    else:  # "magnitudes": log-uniform over many decades, forcing scientific notation
        lo, hi = sorted(rng.uniform(-15, 15, 2))
        vals = 10.0 ** rng.uniform(lo, hi, n) * rng.choice([-1.0, 1.0], n)
    return vals


@st.composite
def arrays(draw: st.DrawFn, dtypes: list[str] = DTYPES) -> np.ndarray:
    dtype = draw(st.sampled_from(dtypes))
    shape = _shape(draw)
    n = math.prod(shape)
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    if dtype == "bool":
        return (rng.random(n) < draw(st.sampled_from([0.0, 0.5, 1.0]))).reshape(shape)
    if dtype.startswith(("int", "uint")):
        info = np.iinfo(dtype)
        if draw(st.booleans()):
            vals = rng.integers(max(info.min, -20), min(info.max, 20), n, endpoint=True)
        else:
            vals = rng.integers(info.min, info.max, n, endpoint=True)
        return vals.astype(dtype).reshape(shape)
    kind = draw(st.sampled_from(["ints", "big_ints", "unit", "moderate", "magnitudes"]))
    vals = _float_values(rng, kind, n)
    specials = draw(st.sampled_from([0.0, 0.0, 0.1, 0.5]))
    if specials and n:
        mask = rng.random(n) < specials
        vals[mask] = rng.choice([math.nan, math.inf, -math.inf, 0.0, -0.0], int(mask.sum()))
    with np.errstate(over="ignore"):
        return vals.astype(dtype).reshape(shape)


OPTIONS = st.sampled_from(
    [
        {},
        {},
        {"precision": 2},
        {"precision": 0},
        {"precision": 7},
        {"threshold": 10},
        {"threshold": 10, "edgeitems": 1},
        {"threshold": 20, "edgeitems": 5},
        {"edgeitems": 0},
        {"linewidth": 30},
        {"linewidth": 120},
        {"sci_mode": True},
        {"sci_mode": False},
        {"profile": "short"},
        {"profile": "full"},
        {"profile": "short", "sci_mode": True, "linewidth": 50},
    ]
)

FAST = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FAST
@given(data=arrays())
def test_random_default_options(data: np.ndarray) -> None:
    check(data)


@FAST
@given(data=arrays(), opts=OPTIONS)
def test_random_with_printoptions(data: np.ndarray, opts: dict) -> None:
    with both_options(**opts):
        check(data)


@settings(max_examples=150, deadline=None)
@given(data=arrays(FLOATS), grad=st.sampled_from(["requires_grad", "grad_fn"]), opts=OPTIONS)
def test_random_grad_suffixes(data: np.ndarray, grad: str, opts: dict) -> None:
    with both_options(**opts):
        check(data, requires_grad=grad == "requires_grad", grad_fn=grad == "grad_fn")


@settings(max_examples=100, deadline=None)
@given(data=arrays())
def test_random_default_dtype_float64(data: np.ndarray) -> None:
    with both_default_dtype("float64"):
        check(data)
