"""torch.nn.utils.rnn: batches of variable-length sequences, padded (pad_sequence, unpad_sequence) or packed
(PackedSequence, pack_padded_sequence, pad_packed_sequence, pack_sequence, unpack_sequence, invert_permutation),
as torch/nn/utils/rnn.py and ATen's PackedSequence.cpp compute them. A packed batch holds the sequences' steps
time-major, each step only for the sequences still running (batch_sizes[t] of them, longest first); the
recurrent layers (engine/nn/rnn_layers.py) take and give one."""

from __future__ import annotations

from collections import namedtuple
from typing import Any

import numpy as np

from engine.naming import TorchNamed
from engine.tensor import Tensor

__all__ = [
    "PackedSequence",
    "invert_permutation",
    "pack_padded_sequence",
    "pad_packed_sequence",
    "pad_sequence",
    "unpad_sequence",
    "pack_sequence",
    "unpack_sequence",
]


def _bind(optional: Any, fn: Any) -> Any:
    return None if optional is None else fn(optional)


# torch's NamedTuple base of PackedSequence: its fields
PackedSequence_ = namedtuple("PackedSequence_", ["data", "batch_sizes", "sorted_indices", "unsorted_indices"])


class PackedSequence(PackedSequence_, metaclass=TorchNamed):
    """The data and batch_sizes of a packed batch of sequences (built by pack_padded_sequence or pack_sequence),
    with the permutation that sorted the sequences by length (sorted_indices) and its inverse."""

    _torch_name = "torch.nn.utils.rnn.{name}"
    __slots__ = ()

    def __new__(cls, data: Any, batch_sizes: Tensor | None = None, sorted_indices: Tensor | None = None,
                unsorted_indices: Tensor | None = None) -> PackedSequence:  # fmt: skip
        return super().__new__(cls, *_packed_sequence_init_args(data, batch_sizes, sorted_indices, unsorted_indices))

    def to(self, *args: Any, **kwargs: Any) -> PackedSequence:
        """data converted as Tensor.to converts it (self where nothing changes); the indices follow data's
        device, batch_sizes stays on the cpu."""
        data = self.data.to(*args, **kwargs)
        if data is self.data:
            return self
        sorted_indices = _bind(self.sorted_indices, lambda t: t.to(data.device))
        unsorted_indices = _bind(self.unsorted_indices, lambda t: t.to(data.device))
        return type(self)(data, self.batch_sizes, sorted_indices, unsorted_indices)

    def cuda(self, *args: Any, **kwargs: Any) -> PackedSequence:
        from engine.creation import tensor

        ex = tensor((), dtype=self.data.dtype, device=self.data.device).to(*args, **kwargs)
        if ex.is_cuda:
            return self.to(*args, **kwargs)
        kwargs["device"] = "cuda"
        return self.to(*args, **kwargs)

    def cpu(self, *args: Any, **kwargs: Any) -> PackedSequence:
        from engine.creation import tensor

        ex = tensor((), dtype=self.data.dtype, device=self.data.device).to(*args, **kwargs)
        if ex.device.type == "cpu":
            return self.to(*args, **kwargs)
        kwargs["device"] = "cpu"
        return self.to(*args, **kwargs)

    def double(self) -> PackedSequence:
        from engine.dtypes import float64

        return self.to(dtype=float64)

    def float(self) -> PackedSequence:
        from engine.dtypes import float32

        return self.to(dtype=float32)

    def half(self) -> PackedSequence:
        from engine.dtypes import float16

        return self.to(dtype=float16)

    def long(self) -> PackedSequence:
        from engine.dtypes import int64

        return self.to(dtype=int64)

    def int(self) -> PackedSequence:
        from engine.dtypes import int32

        return self.to(dtype=int32)

    def short(self) -> PackedSequence:
        from engine.dtypes import int16

        return self.to(dtype=int16)

    def char(self) -> PackedSequence:
        from engine.dtypes import int8

        return self.to(dtype=int8)

    def byte(self) -> PackedSequence:
        from engine.dtypes import uint8

        return self.to(dtype=uint8)

    @property
    def is_cuda(self) -> bool:
        return self.data.is_cuda


def _packed_sequence_init_args(data: Any, batch_sizes: Tensor | None, sorted_indices: Tensor | None,
                               unsorted_indices: Tensor | None) -> tuple:  # fmt: skip
    """torch's: unsorted_indices defaults to the inverse of sorted_indices; PackedSequence((data, batch_sizes))
    is accepted too."""
    if unsorted_indices is None:
        unsorted_indices = invert_permutation(sorted_indices)
    if batch_sizes is not None:
        if batch_sizes.device.type != "cpu":
            raise ValueError(
                "batch_sizes should always be on CPU. Instances of PackedSequence should never be created manually. "
                "They should be instantiated by functions like pack_sequence and pack_padded_sequences in "
                "nn.utils.rnn. https://pytorch.org/docs/stable/nn.html#torch.nn.utils.rnn.pack_sequence"
            )
        return data, batch_sizes, sorted_indices, unsorted_indices
    if not (isinstance(data, (list, tuple)) and len(data) == 2):
        raise AssertionError("Expected data to be a list or tuple of length 2")
    return data[0], data[1], sorted_indices, unsorted_indices


def invert_permutation(permutation: Tensor | None) -> Tensor | None:
    """The inverse of a permutation (a 1-d tensor of indices): out[permutation[i]] = i."""
    if permutation is None:
        return None
    from engine.creation import arange, empty_like

    output = empty_like(permutation)
    output.scatter_(0, permutation, arange(0, permutation.numel(), device=permutation.device))
    return output


# ---- packing -------------------------------------------------------------------------------------------------


def _pack_padded(input: Tensor, lengths: np.ndarray, batch_first: bool) -> tuple[Tensor, Tensor]:  # noqa: A002
    """ATen's _pack_padded_sequence: (data, batch_sizes) of a padded (T, B, *) batch (B, T, * when
    batch_first) whose lengths are sorted, longest first. The data is one gather of the input's rows (node
    PackPaddedSequenceBackward0: its backward puts the gradient back in place, zeros in the padding)."""
    from engine.creation import tensor
    from engine.nn.spatial import op_node
    from engine.ops.index import index_add_new

    if input.numel() <= 0:
        raise RuntimeError("Cannot pack empty tensors.")
    x = input.transpose(0, 1) if batch_first else input
    batch = x.size(1)
    if lengths.shape[0] != batch:
        raise RuntimeError(
            f"Expected `len(lengths)` to be equal to batch_size, but got {lengths.shape[0]} (batch_size={batch})"
        )
    if lengths[batch - 1] <= 0:
        raise RuntimeError(
            "Length of all samples has to be greater than 0, but found an element in 'lengths' that is <= 0"
        )
    if np.any(lengths[1:] > lengths[:-1]):
        raise RuntimeError(
            "`lengths` array must be sorted in decreasing order when `enforce_sorted` is True. You can pass "
            "`enforce_sorted=False` to pack_padded_sequence and/or pack_sequence to sidestep this requirement if "
            "you do not need ONNX exportability."
        )
    steps = int(lengths[0])
    # batch_sizes[t]: how many sequences are longer than t; the rows of step t are those sequences' (torch reads
    # only the steps the input has: a length past it counts in batch_sizes but adds no rows)
    batch_sizes = (lengths[None, :] > np.arange(steps)[:, None]).sum(1).astype(np.int64)
    rows_t = min(steps, x.size(0))
    rows = np.concatenate([t * batch + np.arange(batch_sizes[t]) for t in range(rows_t)]).astype(np.int64)
    shape = tuple(x.shape)
    flat_shape = (shape[0] * batch, *shape[2:])
    xp = x._dev.xp
    data = xp.ascontiguousarray(x._data.reshape(flat_shape)[xp.asarray(rows)])
    idx = tensor(rows, device=x.device)

    def backward(g: Tensor, _: Any) -> Tensor:
        if steps > shape[0]:  # (torch's backward writes each step's rows: one past the input is its error)
            from engine.nn.spatial import shape_text

            raise IndexError(
                f"select(): index {shape[0]} out of range for tensor of size {shape_text(shape)} at dimension 0"
            )
        grad = index_add_new(g, 0, idx, flat_shape).reshape(shape)
        return grad.transpose(0, 1) if batch_first else grad

    # (batch_sizes lives on the cpu, whatever the data's device)
    return op_node("PackPaddedSequenceBackward0", data, input, backward, keep=False), tensor(batch_sizes, device="cpu")


def _lengths_array(lengths: Any) -> np.ndarray:
    from engine.backend import host

    if isinstance(lengths, Tensor):
        return np.asarray(host(lengths._data)).astype(np.int64).reshape(-1)
    return np.asarray([int(v) for v in lengths], dtype=np.int64)


def pack_padded_sequence(input: Tensor, lengths: Any, batch_first: bool = False,
                         enforce_sorted: bool = True) -> PackedSequence:  # noqa: A002  # fmt: skip
    """A padded batch (T, B, *), or (B, T, *) with batch_first, of sequences of the given lengths, packed.
    enforce_sorted=False sorts the sequences by length first (sorted_indices records how)."""
    from engine.creation import tensor

    if enforce_sorted:
        sorted_indices = None
        lens = _lengths_array(lengths)
    else:
        if isinstance(lengths, Tensor):
            lens_t = lengths.to(dtype=_int64())
        else:
            lens_t = tensor(_lengths_array(lengths), device="cpu")
        lens_t, sorted_indices = lens_t.sort(descending=True)
        sorted_indices = sorted_indices.to(input.device)
        input = input.index_select(0 if batch_first else 1, sorted_indices)
        lens = _lengths_array(lens_t)
    data, batch_sizes = _pack_padded(input, lens, batch_first)
    return PackedSequence(data, batch_sizes, sorted_indices, None)


def _int64() -> Any:
    from engine.dtypes import int64

    return int64


def pad_packed_sequence(sequence: PackedSequence, batch_first: bool = False, padding_value: float = 0.0,
                        total_length: int | None = None) -> tuple[Tensor, Tensor]:  # fmt: skip
    """The inverse of pack_padded_sequence: (padded batch, lengths), in the sequences' original order, padded
    with padding_value to the longest length (or to total_length)."""
    max_seq_length = sequence.batch_sizes.size(0)
    if total_length is not None:
        if total_length < max_seq_length:
            raise ValueError(
                "Expected total_length to be at least the length of the longest sequence in input, but got "
                f"total_length={total_length} and max sequence length being {max_seq_length}"
            )
        max_seq_length = total_length
    padded, lengths = _pad_packed(sequence.data, sequence.batch_sizes, batch_first, padding_value, max_seq_length)
    unsorted_indices = sequence.unsorted_indices
    if unsorted_indices is not None:
        batch_dim = 0 if batch_first else 1
        return padded.index_select(batch_dim, unsorted_indices), lengths[unsorted_indices.cpu()]
    return padded, lengths


def _pad_packed(data: Tensor, batch_sizes: Tensor, batch_first: bool, padding_value: float,
                total_length: int) -> tuple[Tensor, Tensor]:  # fmt: skip
    """ATen's _pad_packed_sequence, op for op: a full tensor of padding_value, then each run of steps with the
    same batch size copied into it in one slice assignment (so the gradient flows through CopySlices)."""
    from engine.creation import full, tensor

    sizes = _lengths_array(batch_sizes)
    max_batch = int(sizes[0])
    out = full((total_length, max_batch, *data.shape[1:]), padding_value, dtype=data.dtype, device=data.device)
    lengths = np.empty(max_batch, dtype=np.int64)
    offset, prev_batch, prev_i = 0, max_batch, 0
    n = len(sizes)
    for i in range(n + 1):
        batch = int(sizes[i]) if i != n else 0
        if batch != prev_batch:
            count = prev_batch * (i - prev_i)
            block = data[offset : offset + count].view(i - prev_i, prev_batch, *data.shape[1:])
            out[prev_i:i, :prev_batch] = block
            offset += count
            prev_i = i
        lengths[batch:prev_batch] = i  # (the sequences that ended before step i)
        prev_batch = batch
    if batch_first:
        out = out.transpose(0, 1)
    return out, tensor(lengths, device="cpu")


def pack_sequence(sequences: list, enforce_sorted: bool = True) -> PackedSequence:
    """A list of sequences (each (L_i, *)) packed: pad_sequence, then pack_padded_sequence."""
    from engine.creation import as_tensor

    lengths = as_tensor([v.size(0) for v in sequences])
    return pack_padded_sequence(pad_sequence(sequences), lengths, enforce_sorted=enforce_sorted)


def unpack_sequence(packed_sequences: PackedSequence) -> list:
    """A packed batch back as the list of its sequences, in their original order."""
    padded_sequences, lengths = pad_packed_sequence(packed_sequences, batch_first=True)
    return unpad_sequence(padded_sequences, lengths, batch_first=True)


# ---- padding -------------------------------------------------------------------------------------------------


def pad_sequence(sequences: Any, batch_first: bool = False, padding_value: float = 0.0,
                 padding_side: str = "right") -> Tensor:  # fmt: skip
    """The sequences (each (L_i, *)) stacked into (L_max, B, *) or (B, L_max, *), padded with padding_value;
    written by slice assignment, so the gradient flows through CopySlices as in torch."""
    from engine.creation import full

    sequences = list(sequences)
    if not sequences:
        raise RuntimeError("received an empty list of sequences")
    if padding_side not in ("left", "right"):
        raise ValueError(f"Expected padding_side to be one of left or right, but got {padding_side}.")
    first = sequences[0]
    longest = max(s.shape[0] for s in sequences)
    trailing = tuple(first.shape[1:])
    shape = (len(sequences), longest, *trailing) if batch_first else (longest, len(sequences), *trailing)
    out = full(shape, padding_value, dtype=first.dtype, device=first.device)
    for i, s in enumerate(sequences):
        n = s.shape[0]
        rows = slice(longest - n, longest) if padding_side == "left" else slice(0, n)
        if batch_first:
            out[i, rows] = s
        else:
            out[rows, i] = s
    return out


def unpad_sequence(padded_sequences: Tensor, lengths: Tensor, batch_first: bool = False) -> list:
    """The sequences pad_sequence stacked, cut back to their lengths by a mask (IndexBackward0). As torch's,
    it transposes a sequence-first batch in place."""
    from engine.creation import arange

    unpadded_sequences = []
    if not batch_first:
        padded_sequences.transpose_(0, 1)
    max_length = padded_sequences.shape[1]
    idx = arange(max_length, device=lengths.device)
    for seq, length in zip(padded_sequences, lengths, strict=True):
        mask = idx < length
        # (torch moves a cpu mask to a cuda tensor's device itself; the engine's indexing wants it there, and
        # pad_packed_sequence's lengths are on the cpu)
        unpadded_sequences.append(seq[mask.to(seq.device)])
    return unpadded_sequences


def __getattr__(name: str) -> object:
    from engine.not_covered import not_covered

    raise not_covered("torch.nn.utils.rnn", name)
