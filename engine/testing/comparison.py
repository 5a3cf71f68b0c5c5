"""torch.testing.assert_close: the inputs are walked as torch walks them (sequences by index, mappings by sorted
key) down to pairs of leaves; each leaf pair is None, booleans, Python/numpy numbers or tensor-likes, compared with
the per-dtype default tolerances. Every pair is compared and the first failure raised, with its item path."""

from __future__ import annotations

import abc
import cmath
import collections.abc
import contextlib
import warnings
from collections.abc import Callable
from typing import Any, NoReturn

import numpy as np

import engine
from engine.testing.mismatch import ErrorMeta, scalar_mismatch_msg, tensor_mismatch_msg
from engine.warn import user_stacklevel

#: (rtol, atol) per dtype; a dtype not listed (integers, bool) is compared exactly.
_PRECISIONS = {engine.float16: (0.001, 1e-5), engine.float32: (1.3e-6, 1e-5), engine.float64: (1e-7, 1e-7)}
# Python's complex is torch's complex128, whose tolerances are float64's.
_NUMBER_PRECISIONS = {int: (0.0, 0.0), float: (1e-7, 1e-7), complex: (1e-7, 1e-7)}
_ALLCLOSE_PRECISIONS = {engine.float16: (0.001, 0.001), engine.float32: (0.0001, 1e-5), engine.float64: (1e-5, 1e-8)}

_NOT_A_USER_ERROR = (
    "If you are a user and see this message during normal operation please file an issue at "
    "https://github.com/pytorch/pytorch/issues. If you are a developer and working on the comparison functions, "
)


def _path(id: tuple[Any, ...]) -> str:  # noqa: A002
    return "".join(str([item]) for item in id)


def _tolerances(precisions: list[tuple[float, float]], rtol: float | None, atol: float | None,
                id: tuple[Any, ...]) -> tuple[float, float]:  # noqa: A002  # fmt: skip
    """The given tolerances, or the loosest defaults of the inputs' dtypes when both are omitted."""
    if (rtol is None) ^ (atol is None):
        raise ErrorMeta(ValueError, "Both 'rtol' and 'atol' must be either specified or omitted, "
                        f"but got no {'rtol' if rtol is None else 'atol'}.", id=id)  # fmt: skip
    if rtol is not None:
        return rtol, atol  # type: ignore[return-value]
    rtols, atols = zip(*precisions, strict=True)
    return max(rtols), max(atols)


class _Unsupported(Exception):
    """A pair type that cannot take the inputs: the next one is tried."""


class _Pair(abc.ABC):
    """Two leaves to compare; `compare` raises ErrorMeta on a mismatch."""

    options: tuple[str, ...] = ()

    def __init__(self, actual: Any, expected: Any, id: tuple[Any, ...]) -> None:  # noqa: A002
        self.actual, self.expected, self.id = actual, expected, id

    def fail(self, msg: str) -> NoReturn:
        raise ErrorMeta(AssertionError, msg, id=self.id)

    @abc.abstractmethod
    def compare(self) -> None: ...

    def __repr__(self) -> str:
        # (only shown when comparing raised something unexpected)
        fields = [("id", self.id), ("actual", self.actual), ("expected", self.expected)]
        fields += [(name, getattr(self, name)) for name in self.options]
        return "\n".join((f"{type(self).__name__}(", *(f"    {k}={v!s}," for k, v in fields), ")"))


class NonePair(_Pair):
    def __init__(self, actual: Any, expected: Any, *, id: tuple[Any, ...] = (), **_: Any) -> None:  # noqa: A002
        if not (actual is None or expected is None):
            raise _Unsupported
        super().__init__(actual, expected, id)

    def compare(self) -> None:
        if not (self.actual is None and self.expected is None):
            self.fail(f"None mismatch: {self.actual} is not {self.expected}")


class BooleanPair(_Pair):
    def __init__(self, actual: Any, expected: Any, *, id: tuple[Any, ...] = (), **_: Any) -> None:  # noqa: A002
        if not (isinstance(actual, bool | np.bool_) and isinstance(expected, bool | np.bool_)):
            raise _Unsupported
        super().__init__(bool(actual), bool(expected), id)

    def compare(self) -> None:
        if self.actual is not self.expected:
            self.fail(f"Booleans mismatch: {self.actual} is not {self.expected}")


class NumberPair(_Pair):
    options = ("rtol", "atol", "equal_nan", "check_dtype")

    def __init__(self, actual: Any, expected: Any, *, id: tuple[Any, ...] = (), rtol: float | None = None,
                 atol: float | None = None, equal_nan: bool = False, check_dtype: bool = False,
                 **_: Any) -> None:  # noqa: A002  # fmt: skip
        kinds = (int, float, complex, np.number)
        if not (isinstance(actual, kinds) and isinstance(expected, kinds)):
            raise _Unsupported
        actual, expected = (v.item() if isinstance(v, np.number) else v for v in (actual, expected))
        super().__init__(actual, expected, id)
        # (a bool against a number has no precision: a KeyError, reported as torch reports it)
        precisions = [_NUMBER_PRECISIONS[type(v)] for v in (actual, expected)]
        self.rtol, self.atol = _tolerances(precisions, rtol, atol, id)
        self.equal_nan, self.check_dtype = equal_nan, check_dtype

    def compare(self) -> None:
        actual, expected = self.actual, self.expected
        if self.check_dtype and type(actual) is not type(expected):
            self.fail(f"The (d)types do not match: {type(actual)} != {type(expected)}.")
        if actual == expected or (self.equal_nan and cmath.isnan(actual) and cmath.isnan(expected)):
            return
        abs_diff = abs(actual - expected)
        if cmath.isfinite(abs_diff) and abs_diff <= self.atol + self.rtol * abs(expected):
            return
        self.fail(scalar_mismatch_msg(actual, expected, rtol=self.rtol, atol=self.atol))


class TensorLikePair(_Pair):
    options = ("rtol", "atol", "equal_nan", "check_device", "check_dtype", "check_layout", "check_stride")

    def __init__(self, actual: Any, expected: Any, *, id: tuple[Any, ...] = (), allow_subclasses: bool = True,
                 rtol: float | None = None, atol: float | None = None, equal_nan: bool = False,
                 check_device: bool = True, check_dtype: bool = True, check_layout: bool = True,
                 check_stride: bool = False, **_: Any) -> None:  # noqa: A002  # fmt: skip
        related = isinstance(actual, type(expected)) or isinstance(expected, type(actual))
        if not related or (not allow_subclasses and type(actual) is not type(expected)):
            raise _Unsupported
        actual, expected = (self._to_tensor(v) for v in (actual, expected))
        super().__init__(actual, expected, id)
        precisions = [_PRECISIONS.get(t.dtype, (0.0, 0.0)) for t in (actual, expected)]
        self.rtol, self.atol = _tolerances(precisions, rtol, atol, id)
        self.equal_nan, self.check_device, self.check_dtype = equal_nan, check_device, check_dtype
        self.check_layout, self.check_stride = check_layout, check_stride

    @staticmethod
    def _to_tensor(tensor_like: Any) -> engine.Tensor:
        if isinstance(tensor_like, engine.Tensor):
            return tensor_like
        try:
            return engine.as_tensor(tensor_like)
        except Exception:
            raise _Unsupported from None

    def compare(self) -> None:
        actual, expected = self.actual, self.expected
        self._compare_attributes(actual, expected)
        if actual.device != expected.device:
            actual, expected = actual.cpu(), expected.cpu()
        if actual.dtype != expected.dtype:
            dtype = engine.promote_types(actual.dtype, expected.dtype)
            actual, expected = actual.to(dtype), expected.to(dtype)
        self._compare_values(actual, expected)

    def _compare_attributes(self, actual: engine.Tensor, expected: engine.Tensor) -> None:
        def mismatch(attribute: str, a: Any, e: Any) -> NoReturn:
            self.fail(f"The values for attribute '{attribute}' do not match: {a} != {e}.")

        if actual.shape != expected.shape:
            mismatch("shape", actual.shape, expected.shape)
        if actual.layout != expected.layout:
            if self.check_layout:
                mismatch("layout", actual.layout, expected.layout)
        elif self.check_stride and actual.stride() != expected.stride():
            mismatch("stride()", actual.stride(), expected.stride())
        if self.check_device and actual.device != expected.device:
            mismatch("device", actual.device, expected.device)
        if self.check_dtype and actual.dtype != expected.dtype:
            mismatch("dtype", actual.dtype, expected.dtype)

    def _compare_values(self, actual: engine.Tensor, expected: engine.Tensor) -> None:
        rtol, atol = self.rtol, self.atol
        matches = engine.isclose(actual, expected, rtol=rtol, atol=atol, equal_nan=self.equal_nan)
        if engine.all(matches):
            return
        if actual.dim() == 0:
            self.fail(scalar_mismatch_msg(actual.item(), expected.item(), rtol=rtol, atol=atol))
        self.fail(tensor_mismatch_msg(actual, expected, matches, rtol=rtol, atol=atol))


_PAIR_TYPES = (NonePair, BooleanPair, NumberPair, TensorLikePair)


def _is_sequence(value: Any) -> bool:
    return isinstance(value, collections.abc.Sequence) and not isinstance(value, str)


def _originate_pairs(actual: Any, expected: Any, id: tuple[Any, ...], options: dict[str, Any]) -> list[_Pair]:  # noqa: A002
    """The leaf pairs of two (possibly nested) inputs, in torch's order; a structural mismatch is an ErrorMeta."""
    if _is_sequence(actual) and _is_sequence(expected):
        if len(actual) != len(expected):
            raise ErrorMeta(AssertionError, f"The length of the sequences mismatch: {len(actual)} != {len(expected)}",
                            id=id)  # fmt: skip
        return [p for i in range(len(actual)) for p in _originate_pairs(actual[i], expected[i], (*id, i), options)]
    if isinstance(actual, collections.abc.Mapping) and isinstance(expected, collections.abc.Mapping):
        actual_keys, expected_keys = set(actual.keys()), set(expected.keys())
        if actual_keys != expected_keys:
            missing, additional = sorted(expected_keys - actual_keys), sorted(actual_keys - expected_keys)
            raise ErrorMeta(AssertionError, "The keys of the mappings do not match:\n"
                            f"Missing keys in the actual mapping: {missing}\n"
                            f"Additional keys in the actual mapping: {additional}", id=id)  # fmt: skip
        keys: Any = actual_keys
        with contextlib.suppress(Exception):  # (keys that do not sort are walked in set order)
            keys = sorted(keys)
        return [p for k in keys for p in _originate_pairs(actual[k], expected[k], (*id, k), options)]
    for pair_type in _PAIR_TYPES:
        try:
            return [pair_type(actual, expected, id=id, **options)]
        except _Unsupported:
            continue
        except ErrorMeta:
            raise
        except Exception as error:
            raise RuntimeError(
                f"Originating a {pair_type.__name__}() at item {_path(id)} with\n\n{type(actual).__name__}(): "
                f"{actual}\n\nand\n\n{type(expected).__name__}(): {expected}\n\nresulted in the unexpected exception "
                f"above. {_NOT_A_USER_ERROR}please except the previous error and raise an expressive `ErrorMeta` "
                "instead."
            ) from error
    raise ErrorMeta(TypeError, f"No comparison pair was able to handle inputs of type {type(actual)} and "
                    f"{type(expected)}.", id=id)  # fmt: skip


def assert_close(actual: Any, expected: Any, *, allow_subclasses: bool = True, rtol: float | None = None,
                 atol: float | None = None, equal_nan: bool = False, check_device: bool = True,
                 check_dtype: bool = True, check_layout: bool = True, check_stride: bool = False,
                 msg: str | Callable[[str], str] | None = None) -> None:  # fmt: skip
    """Raise AssertionError (or the error of a malformed call) unless `actual` and `expected` are close."""
    __tracebackhide__ = True
    options = {"allow_subclasses": allow_subclasses, "rtol": rtol, "atol": atol, "equal_nan": equal_nan,
               "check_device": check_device, "check_dtype": check_dtype, "check_layout": check_layout,
               "check_stride": check_stride}  # fmt: skip
    try:
        pairs = _originate_pairs(actual, expected, (), options)
    except ErrorMeta as meta:  # (a structural failure keeps its own message whatever `msg` is)
        raise meta.to_error() from None
    failures = []
    for pair in pairs:
        try:
            pair.compare()
        except ErrorMeta as meta:
            failures.append(meta)
        except Exception as error:
            raise RuntimeError(
                f"Comparing\n\n{pair}\n\nresulted in the unexpected exception above. {_NOT_A_USER_ERROR}"
                "please except the previous error and raise an expressive `ErrorMeta` instead."
            ) from error
    if failures:
        raise failures[0].to_error(msg)


def assert_allclose(actual: Any, expected: Any, rtol: float | None = None, atol: float | None = None,
                    equal_nan: bool = True, msg: str = "") -> None:  # fmt: skip
    """The deprecated comparison: non-tensors become tensors (`expected` in `actual`'s dtype), dtypes may differ,
    NaNs are equal by default, and the default tolerances are looser than assert_close's."""
    warnings.warn(
        "`torch.testing.assert_allclose()` is deprecated since 1.12 and will be removed in a future release. Please "
        "use `torch.testing.assert_close()` instead. You can find detailed upgrade instructions in "
        "https://github.com/pytorch/pytorch/issues/61844.",
        FutureWarning,
        stacklevel=user_stacklevel(),
    )
    if not isinstance(actual, engine.Tensor):
        actual = engine.tensor(actual)
    if not isinstance(expected, engine.Tensor):
        expected = engine.tensor(expected, dtype=actual.dtype)
    if rtol is None and atol is None:
        precisions = [_ALLCLOSE_PRECISIONS.get(t.dtype, (0.0, 0.0)) for t in (actual, expected)]
        rtol, atol = _tolerances(precisions, None, None, ())
    assert_close(actual, expected, rtol=rtol, atol=atol, equal_nan=equal_nan, check_device=True, check_dtype=False,
                 check_stride=False, msg=msg or None)  # fmt: skip
