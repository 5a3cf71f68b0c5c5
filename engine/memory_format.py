"""torch.memory_format and its four values (torch.contiguous_format, channels_last, channels_last_3d,
preserve_format): names a tensor's element order in memory; and torch.layout, whose one value here is torch.strided
(every engine tensor is dense). The engine's arrays carry real strides, so a
channels-last tensor is an array whose channel dim is the fastest (see engine/ops/memory_layout.py)."""

from __future__ import annotations

from engine.naming import TorchNamed


class memory_format(metaclass=TorchNamed):  # noqa: N801  (torch's name)
    _torch_name = "torch.memory_format"
    _c_type = True
    __slots__ = ("_name",)

    def __new__(cls, *args: object, **kwargs: object) -> memory_format:
        raise TypeError("cannot create 'torch.memory_format' instances")

    @classmethod
    def _make(cls, name: str) -> memory_format:
        self = object.__new__(cls)
        object.__setattr__(self, "_name", name)
        return self

    def __repr__(self) -> str:
        return f"torch.{self._name}"

    def __reduce__(self) -> str:
        return self._name  # (pickles as the module-level name)


contiguous_format = memory_format._make("contiguous_format")
channels_last = memory_format._make("channels_last")
channels_last_3d = memory_format._make("channels_last_3d")
preserve_format = memory_format._make("preserve_format")


class layout(metaclass=TorchNamed):  # noqa: N801  (torch's name)
    """torch.layout: prints as `torch.strided` (torch's sparse and jagged layouts are not in the engine)."""

    _torch_name = "torch.layout"
    _c_type = True
    __slots__ = ("_name",)

    def __new__(cls, *args: object, **kwargs: object) -> layout:
        raise TypeError("cannot create 'torch.layout' instances")

    @classmethod
    def _make(cls, name: str) -> layout:
        self = object.__new__(cls)
        object.__setattr__(self, "_name", name)
        return self

    def __repr__(self) -> str:
        return f"torch.{self._name}"

    def __reduce__(self) -> str:
        return self._name  # (pickles as the module-level name)


strided = layout._make("strided")
