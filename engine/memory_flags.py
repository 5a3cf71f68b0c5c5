"""Tensor.pin_memory, share_memory_ and the is_pinned/is_shared questions: what data-loading code calls
(nanoGPT's `x.pin_memory().to(device, non_blocking=True)`, a Hogwild model's `share_memory()`).

The engine keeps every cpu tensor in ordinary process memory and runs in one process, so neither call changes
where values live; each marks the storage (the array owning the memory) so the questions answer as torch's
would: after share_memory_, every view of that storage is shared; pin_memory gives a pinned copy. A cuda
tensor's memory counts as shared (torch: CUDA storages are always shareable)."""

from __future__ import annotations

import weakref
from typing import Any

from engine.ops.as_strided import _root
from engine.tensor import Tensor

# id(storage array) -> a weak reference to it, per mark (keyed by id: the arrays may not be hashable)
_SHARED: dict[int, Any] = {}
_PINNED: dict[int, Any] = {}


def _mark(table: dict, t: Tensor) -> None:
    root = _root(t._data)
    key = id(root)
    try:
        table[key] = weakref.ref(root, lambda _ref, k=key: table.pop(k, None))
    except TypeError:  # (an array type without weak references: kept for the process)
        table[key] = lambda r=root: r


def _marked(table: dict, t: Tensor) -> bool:
    root = _root(t._data)
    ref = table.get(id(root))
    return ref is not None and ref() is root


def is_shared(self: Tensor) -> bool:
    return self._dev.type == "cuda" or _marked(_SHARED, self)


def share_memory_(self: Tensor) -> Tensor:
    """Moves the storage to shared memory (torch); here it is marked so (one process has nothing to share with)."""
    if self._dev.type == "cpu":
        _mark(_SHARED, self)
    return self


def is_pinned(self: Tensor, device: Any = None) -> bool:
    return self._dev.type == "cpu" and _marked(_PINNED, self)


def pin_memory(self: Tensor, device: Any = None) -> Tensor:
    """A copy of a cpu tensor in page-locked memory, for faster copies to the GPU: torch's refusal without a
    GPU, the tensor itself where it is pinned already."""
    from engine.backend import cuda_available

    if self._dev.type != "cpu":
        raise RuntimeError(f"cannot pin '{self.type()}' only dense CPU tensors can be pinned")
    if not cuda_available():
        raise RuntimeError("Cannot access accelerator device when none is available.")
    if is_pinned(self):
        return self
    r = self.clone()
    _mark(_PINNED, r)
    return r


METHODS = {"is_shared": is_shared, "share_memory_": share_memory_, "is_pinned": is_pinned, "pin_memory": pin_memory}
