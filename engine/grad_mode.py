"""Grad mode: whether ops record the graph. One mutable cell read by every op (a list index is the
cheapest global read in CPython), with torch's context managers/decorators around it."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

ENABLED = [True]
#: inference mode: tensors made while it is on are inference tensors (their version counter an InferenceVC)
INFERENCE = [False]


SAVED_INFERENCE = (
    "Inference tensors cannot be saved for backward. Please do not use Tensors created in inference mode in "
    "computation tracked by autograd. To work around this, you can make a clone to get a normal tensor and use it "
    "in autograd, or use `torch.no_grad()` instead of `torch.inference_mode()`."
)
INPLACE_INFERENCE = (
    "Inplace update to inference tensor outside InferenceMode is not allowed.You can make a clone to get a normal "
    "tensor before doing inplace update.See https://github.com/pytorch/rfcs/pull/17 for more details."
)


class InferenceVC(list):
    """An inference tensor's version counter ([count, site] like any other, shared by its views): torch keeps
    none, so Tensor._version refuses to read it and is_inference() tests for it. An op that saves a tensor for
    backward reads its version (`t._vc[0]`): for an inference tensor, while the graph is recorded, that is
    torch's error (in-place writes are refused before, in inplace.check_inplace)."""

    __slots__ = ()

    def __getitem__(self, i: Any) -> Any:
        if ENABLED[0] and not INFERENCE[0]:
            raise RuntimeError(SAVED_INFERENCE)
        return list.__getitem__(self, i)


def is_inference_mode_enabled() -> bool:
    return INFERENCE[0]


def is_grad_enabled() -> bool:
    return ENABLED[0]


class _ModeType(type):
    # Printed as torch prints them (`torch.no_grad` in a REPL); __module__ stays engine's own.
    def __repr__(cls) -> str:
        return f"<class 'torch.autograd.grad_mode.{cls.__name__}'>"


# Python names the metaclass in "'...' object does not support the context manager protocol" (`with
# torch.no_grad:` without the call); torch's classes are plain types
_ModeType.__name__ = _ModeType.__qualname__ = "type"


class _Mode(metaclass=_ModeType):
    """Base for no_grad/enable_grad/set_grad_enabled: a context manager and a decorator."""

    mode = True

    def __repr__(self) -> str:
        return f"<torch.autograd.grad_mode.{type(self).__name__} object at {id(self):#x}>"

    def __enter__(self) -> None:
        self.prev = ENABLED[0]
        ENABLED[0] = self.mode

    def __exit__(self, *exc: object) -> None:
        ENABLED[0] = self.prev

    def __call__(self, fn: Callable) -> Callable:
        mode = self.mode

        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            prev = ENABLED[0]
            ENABLED[0] = mode
            try:
                return fn(*args, **kwargs)
            finally:
                ENABLED[0] = prev

        return wrapper

    def clone(self) -> _Mode:
        return type(self)()


class _NoParamMode(_Mode):
    """A mode that also decorates without parentheses (`@torch.no_grad`), as torch's do."""

    def __new__(cls, orig_func: Callable | None = None) -> Any:
        if orig_func is None:
            return super().__new__(cls)
        return cls()(orig_func)


class no_grad(_NoParamMode):  # noqa: N801 - torch's spelling
    mode = False


class enable_grad(_NoParamMode):  # noqa: N801
    mode = True


class set_grad_enabled(_Mode):  # noqa: N801
    def __init__(self, mode: bool) -> None:
        self.mode = bool(mode)
        # torch applies the mode at construction so `torch.set_grad_enabled(False)` works as a call.
        self.prev = ENABLED[0]
        ENABLED[0] = self.mode

    def __enter__(self) -> None:
        ENABLED[0] = self.mode

    def __call__(self, fn: Callable) -> Callable:
        ENABLED[0] = self.prev  # as a decorator it changes the mode only inside the function (torch's __call__)
        return super().__call__(fn)

    def clone(self) -> set_grad_enabled:
        return set_grad_enabled(self.mode)

    def __repr__(self) -> str:
        return f"torch.autograd.grad_mode.set_grad_enabled(mode={self.mode})"


class inference_mode(_Mode):  # noqa: N801
    def __init__(self, mode: bool = True) -> None:
        self.mode = not mode

    def __enter__(self) -> None:
        self.prev = ENABLED[0], INFERENCE[0]
        ENABLED[0] = self.mode
        INFERENCE[0] = not self.mode

    def __exit__(self, *exc: object) -> None:
        ENABLED[0], INFERENCE[0] = self.prev

    def __call__(self, fn: Callable) -> Callable:
        mode = self.mode

        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            prev = ENABLED[0], INFERENCE[0]
            ENABLED[0], INFERENCE[0] = mode, not mode
            try:
                return fn(*args, **kwargs)
            finally:
                ENABLED[0], INFERENCE[0] = prev

        return wrapper
