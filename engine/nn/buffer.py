"""torch.nn.Buffer (torch 2.5+): marks a tensor to be registered as a module's buffer when it is assigned as an
attribute (`self.mask = nn.Buffer(torch.tril(torch.ones(T, T)))`), as nn.Parameter marks a parameter.

As in torch, nn.Buffer(t) is no new kind of tensor: it returns a plain detached alias of t (printing as a
tensor, `type()` torch.Tensor), remembered as a buffer, persistent or not; `isinstance(x, nn.Buffer)` asks for
that mark. Module.__setattr__ registers a marked tensor with register_buffer and its persistence."""

from __future__ import annotations

import weakref
from typing import Any

from engine.naming import TorchNamed
from engine.tensor import Tensor

# id(tensor) -> (a weak reference to it, persistent), for the tensors nn.Buffer marked (torch's `_is_buffer` and
# `persistent` attributes; the engine's tensors have fixed slots, so the mark lives here and goes with the
# tensor). Keyed by id: a WeakKeyDictionary would compare tensors with ==, which is elementwise.
_MARKED: dict[int, tuple] = {}


def mark(t: Tensor, persistent: bool) -> None:
    key = id(t)
    _MARKED[key] = (weakref.ref(t, lambda _ref, k=key: _MARKED.pop(k, None)), persistent)


def persistence(value: Any) -> bool | None:
    """True or False where nn.Buffer marked `value` (persistent or not), else None."""
    entry = _MARKED.get(id(value))
    return entry[1] if entry is not None and entry[0]() is value else None


class _BufferMeta(TorchNamed):
    def __instancecheck__(cls, instance: Any) -> bool:
        return isinstance(instance, Tensor) and persistence(instance) is not None


class Buffer(Tensor, metaclass=_BufferMeta):
    _torch_name = "torch.nn.parameter.Buffer"
    __slots__ = ()

    def __new__(cls, data: Any = None, *, persistent: bool = True) -> Tensor:  # type: ignore[misc]
        if data is None:
            from engine.creation import empty

            data = empty(0)
        t = data.detach().requires_grad_(data.requires_grad)
        mark(t, persistent)
        return t
