"""torch.accelerator: the device-agnostic face of the current accelerator, which in tcli's engine is cuda
(through cupy) when a GPU is there, and none otherwise (the "Learn the Basics" tutorials start with
`torch.accelerator.current_accelerator().type if torch.accelerator.is_available() else "cpu"`)."""

from __future__ import annotations

from engine import cuda
from engine.backend import device

__all__ = [
    "current_accelerator",
    "current_device_idx",
    "current_device_index",
    "device_count",
    "device_index",
    "is_available",
    "set_device_idx",
    "set_device_index",
    "synchronize",
]


def _check() -> None:
    if not cuda.is_available():
        raise RuntimeError("Cannot access accelerator device when none is available.")


def _index(d: object) -> int | None:
    """A device argument as an index (torch takes an int, a cuda device or its string; None: the current)."""
    if d is None or isinstance(d, int):
        return d
    d = device(d) if isinstance(d, str) else d
    if not isinstance(d, device) or d.type != "cuda":
        raise ValueError(f"{d} doesn't match the current accelerator cuda.")
    return d.index


def is_available() -> bool:
    return cuda.is_available()


def current_accelerator(check_available: bool = False) -> device | None:
    """device('cuda') (with no index, as torch's) when the engine can reach a GPU, else None."""
    return device("cuda") if cuda.is_available() else None


def device_count() -> int:
    return cuda.device_count()


def current_device_index() -> int:
    _check()
    return cuda.current_device()


def set_device_index(device: object, /) -> None:  # noqa: A002
    _check()
    i = _index(device)
    if i is not None:
        cuda.set_device(i)


def synchronize(device: object = None, /) -> None:  # noqa: A002
    _check()
    _index(device)
    cuda.synchronize()


class device_index:  # noqa: N801 - torch's spelling
    """Makes `device` (an index; None: no change) the current device inside the block, then restores it."""

    def __init__(self, device: int | None, /) -> None:  # noqa: A002
        self.idx = device
        self.prev_idx = -1

    def __enter__(self) -> None:
        if self.idx is not None:
            _check()
            self.prev_idx = cuda.current_device()
            cuda.set_device(self.idx)

    def __exit__(self, *exc_info: object) -> None:
        if self.idx is not None:
            cuda.set_device(self.prev_idx)


current_device_idx = current_device_index  # (torch's older names, kept as aliases)
set_device_idx = set_device_index
