"""torch.memory_format and its four values (torch.contiguous_format, channels_last, channels_last_3d,
preserve_format): names a tensor's element order in memory; and torch.layout, whose values here are torch.strided
(a dense tensor's) and torch.sparse_coo. The engine's arrays carry real strides, so a
channels-last tensor is an array whose channel dim is the fastest (see engine/ops/memory_layout.py)."""

from __future__ import annotations

from engine.naming import TorchNamed


class _Constant(metaclass=TorchNamed):
    """One of torch's enum-like C types (torch.memory_format, torch.layout): a few named instances, printed as
    `torch.<name>`, that scripts cannot create."""

    __slots__ = ("_name",)

    def __new__(cls, *args: object, **kwargs: object) -> _Constant:
        raise TypeError(f"cannot create '{cls._torch_name}' instances")

    @classmethod
    def _make(cls, name: str) -> _Constant:
        self = object.__new__(cls)
        object.__setattr__(self, "_name", name)
        return self

    def __repr__(self) -> str:
        return f"torch.{self._name}"

    def __reduce__(self) -> str:
        return self._name  # (pickles as the module-level name)


class memory_format(_Constant):  # noqa: N801  (torch's name)
    _torch_name = "torch.memory_format"
    _c_type = True
    __slots__ = ()


contiguous_format = memory_format._make("contiguous_format")
channels_last = memory_format._make("channels_last")
channels_last_3d = memory_format._make("channels_last_3d")
preserve_format = memory_format._make("preserve_format")


class layout(_Constant):  # noqa: N801  (torch's name)
    """torch.layout: `torch.strided` (dense tensors) or `torch.sparse_coo` (engine/sparse_tensor.py); torch's compressed
    sparse and jagged layouts are not in the engine."""

    _torch_name = "torch.layout"
    _c_type = True
    __slots__ = ()


strided = layout._make("strided")
sparse_coo = layout._make("sparse_coo")
