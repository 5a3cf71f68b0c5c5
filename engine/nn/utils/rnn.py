"""torch.nn.utils.rnn: padding a batch of variable-length sequences (pad_sequence, unpad_sequence). Packed
sequences (PackedSequence, pack_padded_sequence) are not in the engine: an RNN here runs over the padded batch."""

from __future__ import annotations

from typing import Any

from engine.not_covered import not_covered
from engine.tensor import Tensor


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


def unpad_sequence(padded_sequences: Tensor, lengths: Any, batch_first: bool = False) -> list:
    """The sequences pad_sequence stacked, cut back to their lengths."""
    if not batch_first:
        padded_sequences = padded_sequences.transpose(0, 1)
    return [seq[: int(n)] for seq, n in zip(padded_sequences, lengths)]


def __getattr__(name: str) -> object:
    raise not_covered("torch.nn.utils.rnn", name)
