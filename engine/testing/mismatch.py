"""The failure messages of torch.testing's comparisons, worded and computed as torch's: the differences a tensor
message reports are taken in the compared dtype (float32 stays float32) and shown as Python floats."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import engine

Identifier = str | Callable[[str], str] | None


class ErrorMeta(Exception):
    """A failure found while comparing: the exception type and message to raise, and the item path it occurred at
    (keys and indices into the compared containers)."""

    def __init__(self, type: type[Exception], msg: str, *, id: tuple[Any, ...] = ()) -> None:  # noqa: A002
        super().__init__(msg)
        self.type = type
        self.msg = msg
        self.id = id

    def to_error(self, msg: str | Callable[[str], str] | None = None) -> Exception:
        """The user-facing exception; a str `msg` replaces the whole message, a callable one rewrites it."""
        if isinstance(msg, str):
            return self.type(msg)
        generated = self.msg
        if self.id:
            generated += f"\n\nThe failure occurred for item {''.join(str([item]) for item in self.id)}"
        return self.type(msg(generated) if callable(msg) else generated)


def _identify(default: str, identifier: Identifier) -> str:
    if identifier is None:
        return default
    return identifier(default) if callable(identifier) else identifier


def mismatch_msg(*, default_identifier: str, identifier: Identifier = None, extra: str | None = None,
                 abs_diff: float, abs_diff_idx: tuple[int, ...] | None = None, atol: float, rel_diff: float,
                 rel_diff_idx: tuple[int, ...] | None = None, rtol: float) -> str:  # fmt: skip
    """The numeric mismatch message: header, `extra` (counts or values), then the absolute and relative
    differences, with the tolerances unless both are zero (an equality check)."""
    equality = rtol == 0 and atol == 0

    def diff_line(kind: str, diff: float, idx: tuple[int, ...] | None, tol: float) -> str:
        line = (
            f"{kind.title()} difference: {diff}"
            if idx is None
            else f"Greatest {kind} difference: {diff} at index {idx}"
        )
        return line + ("" if equality else f" (up to {tol} allowed)") + "\n"

    msg = f"{_identify(default_identifier, identifier)} are not {'equal' if equality else 'close'}!\n\n"
    if extra:
        msg += f"{extra.strip()}\n"
    msg += diff_line("absolute", abs_diff, abs_diff_idx, atol)
    msg += diff_line("relative", rel_diff, rel_diff_idx, rtol)
    return msg.strip()


def scalar_mismatch_msg(actual: complex, expected: complex, *, rtol: float, atol: float,
                        identifier: Identifier = None) -> str:  # fmt: skip
    """The message for two scalars: Python arithmetic on the values themselves."""
    abs_diff = abs(actual - expected)
    rel_diff = float("inf") if expected == 0 else abs_diff / abs(expected)
    return mismatch_msg(default_identifier="Scalars", identifier=identifier,
                        extra=f"Expected {expected} but got {actual}.", abs_diff=abs_diff, atol=atol,
                        rel_diff=rel_diff, rtol=rtol)  # fmt: skip


def _unravel(flat_index: int, shape: tuple[int, ...]) -> tuple[int, ...]:
    index = []
    for size in reversed(shape):
        flat_index, mod = divmod(flat_index, size)
        index.append(mod)
    return tuple(reversed(index))


def tensor_mismatch_msg(actual: engine.Tensor, expected: engine.Tensor, matches: engine.Tensor, *, rtol: float,
                        atol: float, identifier: Identifier = None) -> str:  # fmt: skip
    """The message for two tensors: how many elements mismatch, and the greatest differences among them with the
    first index each occurs at (integers are compared as int64, so differences cannot wrap in a narrow type)."""
    numel = matches.numel()
    mismatches = numel - int(engine.sum(matches))
    extra = f"Mismatched elements: {mismatches} / {numel} ({mismatches / numel:.1%})"
    actual_flat, expected_flat, matches_flat = actual.flatten(), expected.flatten(), matches.flatten()
    if not actual.dtype.is_floating_point:
        actual_flat, expected_flat = actual_flat.to(engine.int64), expected_flat.to(engine.int64)
    abs_diff = engine.abs(actual_flat - expected_flat)
    abs_diff[matches_flat] = 0
    max_abs, max_abs_at = engine.max(abs_diff, 0)
    rel_diff = abs_diff / engine.abs(expected_flat)
    rel_diff[matches_flat] = 0
    max_rel, max_rel_at = engine.max(rel_diff, 0)
    shape = tuple(matches.shape)
    return mismatch_msg(default_identifier="Tensor-likes", identifier=identifier, extra=extra,
                        abs_diff=max_abs.item(), abs_diff_idx=_unravel(int(max_abs_at), shape), atol=atol,
                        rel_diff=max_rel.item(), rel_diff_idx=_unravel(int(max_rel_at), shape), rtol=rtol)  # fmt: skip
