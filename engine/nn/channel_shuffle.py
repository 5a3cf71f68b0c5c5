"""torch.nn.functional.channel_shuffle (torch.channel_shuffle) and nn.ChannelShuffle: the channels split into
groups and interleaved, one node (ChannelShuffleBackward0) whose backward is the inverse shuffle."""

from __future__ import annotations

from engine.nn.functional import tensor_arg
from engine.nn.functional_more import _shape_text
from engine.nn.module import Module
from engine.ops.util import node_class, record
from engine.tensor import Tensor

ChannelShuffleBackward0 = node_class(
    "ChannelShuffleBackward0", lambda self, g, groups: (channel_shuffle(g, g._data.shape[1] // groups),)
)


def channel_shuffle(input: Tensor, groups: int) -> Tensor:  # noqa: A002
    tensor_arg("channel_shuffle", input)
    d = input._data
    if d.ndim <= 2:
        raise RuntimeError(
            f"channel_shuffle expects input with > 2 dims, but got input with sizes {_shape_text(d.shape)}"
        )
    if groups <= 0:
        raise RuntimeError(f"Number of groups to divide channels in must be positive. Value of groups:{groups}")
    c = d.shape[1]
    if c % groups:
        raise RuntimeError(f"Number of channels must be divisible by groups. Got {c} channels and {groups} groups.")
    n, rest = d.shape[0], d.shape[2:]
    out = input._dev.xp.ascontiguousarray(d.reshape((n, groups, c // groups) + rest).swapaxes(1, 2)).reshape(d.shape)
    return record(ChannelShuffleBackward0, out, input._dev, (input,), (groups,), (None,))


def native_channel_shuffle(input: Tensor, groups: int) -> Tensor:  # noqa: A002
    """torch's native_channel_shuffle: channel_shuffle's values, without a derivative (NotImplemented)."""
    from engine.ops.util import NotImplementedNode

    with_grad = channel_shuffle(input, groups)
    return record(NotImplementedNode, with_grad._data, input._dev, (input,), ("aten::native_channel_shuffle",),
                  (None,))  # fmt: skip


class ChannelShuffle(Module):
    _torch_name = "torch.nn.modules.channelshuffle.{name}"

    def __init__(self, groups: int) -> None:
        super().__init__()
        self.groups = groups

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return channel_shuffle(input, self.groups)

    def extra_repr(self) -> str:
        return f"groups={self.groups}"


FUNCTIONS = {"channel_shuffle": channel_shuffle, "native_channel_shuffle": native_channel_shuffle}
__all__ = ["ChannelShuffle"]
