"""The `io` facade: BytesIO, an in-memory file for torch.save and torch.load (a state_dict round trip without a
file, or the size of a checkpoint: `buf.tell()`, `buf.getbuffer().nbytes`).

A script holds tcli's BytesIO, not Python's: it can seek, tell and measure the buffer, and torch.save/torch.load
read and write it (tcli/prelude.py), but it never gets the bytes themselves (tsr has no byte strings) nor a
memoryview into them. What a save writes counts against --max-memory as any allocation does.
"""

from __future__ import annotations

import io
from typing import Any


class _Buffer:
    """What getbuffer() gives a script: the buffer's size only (no view of its bytes)."""

    __slots__ = ("nbytes",)

    def __init__(self, nbytes: int) -> None:
        self.nbytes = nbytes

    def __len__(self) -> int:
        return self.nbytes

    def __repr__(self) -> str:
        return f"<memory of {self.nbytes} bytes>"


class BytesIO:
    __slots__ = ("_file",)

    def __init__(self, initial_bytes: Any = None) -> None:
        if initial_bytes is not None:
            raise TypeError("BytesIO in tsr starts empty (tsr has no byte strings); torch.save writes into it")
        self._file = io.BytesIO()

    def seek(self, offset: int, whence: int = 0) -> int:
        return self._file.seek(offset, whence)

    def tell(self) -> int:
        return self._file.tell()

    def seekable(self) -> bool:
        return True

    def getbuffer(self) -> _Buffer:
        return _Buffer(self._file.getbuffer().nbytes)

    def truncate(self, size: int | None = None) -> int:
        return self._file.truncate(size)

    def close(self) -> None:
        self._file.close()

    @property
    def closed(self) -> bool:
        return self._file.closed

    def __enter__(self) -> BytesIO:
        return self

    def __exit__(self, *exc: Any) -> None:
        self._file.close()


BytesIO.__module__ = "_io"
_Buffer.__module__ = "builtins"


def file_of(f: Any) -> Any:
    """The Python file behind a script's BytesIO (for torch.save/torch.load), or None for anything else."""
    return f._file if type(f) is BytesIO else None


def make(p: Any) -> dict[str, Any]:
    p._handed_classes.add(BytesIO)
    return {"BytesIO": BytesIO}
