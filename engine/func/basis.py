"""The standard basis jacrev and jacfwd push through vjp or jvp: one row per element of the given tensors, split
among them (torch's _chunked_standard_basis_for_, so chunk_size=k gives the same rows, k at a time)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from engine.tensor import Tensor


def chunk_sizes(total: int, chunk_size: int) -> list[int]:
    sizes = [chunk_size] * (total // chunk_size)
    if total % chunk_size:
        sizes.append(total % chunk_size)
    return sizes


def chunked_standard_basis(
    tensors: Sequence[Tensor], numels: Sequence[int], chunk_size: int | None = None
) -> Iterator[tuple[Tensor, ...]]:
    """Chunks of rows of the identity of size sum(numels), each chunk cut into one block per tensor and shaped
    (rows, *tensor.shape)."""
    total = sum(numels)
    if chunk_size and chunk_size < total:
        sizes = chunk_sizes(total, chunk_size)
    else:
        chunk_size, sizes = total, [total]
    starts, start = [], 0
    for n in numels:
        starts.append(start)
        start -= n
    for k, rows in enumerate(sizes):
        chunks = tuple(t.new_zeros(rows, n) for t, n in zip(tensors, numels))
        for chunk, diag_start in zip(chunks, starts):
            chunk.diagonal(diag_start + k * chunk_size).fill_(1)
        yield tuple(chunk.view(rows, *t.shape) for chunk, t in zip(chunks, tensors))
