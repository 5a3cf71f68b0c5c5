"""torch.UntypedStorage and torch.TypedStorage: the memory under a tensor and its views, as a flat run of bytes
(or of elements of one dtype). Learners print `x.storage()` next to `x.storage_offset()` and `x.stride()` to
see what a view is, and compare `untyped_storage().data_ptr()` to see that two tensors share memory.

A storage here is the array that owns the tensor's memory (numpy keeps that owner as `.base`), seen flat: reads
and writes go through that array, so they show in every tensor over it, as in torch."""

from __future__ import annotations

from typing import Any

from engine.naming import TorchNamed, type_name
from engine.warn import warn_once

_TYPED_DEPRECATED = (
    "TypedStorage is deprecated. It will be removed in the future and UntypedStorage will be the only storage "
    "class. This should only matter to you if you are using storages directly.  To access UntypedStorage "
    "directly, use tensor.untyped_storage() instead of tensor.storage()"
)


def _owner(data: Any) -> Any:
    """The array owning `data`'s memory, flat in memory order (a copy only where no flat view exists: memory
    that is not one contiguous block, which the engine does not make)."""
    base = data.base if data.base is not None else data
    if type(base) is not type(data):  # (memory owned by a buffer object rather than an array)
        base = data
    if not (base.flags.c_contiguous or base.flags.f_contiguous):
        return data.ravel()
    return base.ravel(order="K")


class _Storage(metaclass=TorchNamed):
    """What both storages share: a flat array over the memory (`_arr`) and the device it lies on."""

    _torch_name = "torch.storage.{name}"
    __slots__ = ("_arr", "_dev")

    @property
    def device(self) -> Any:
        return self._dev

    @property
    def is_cuda(self) -> bool:
        return self._dev.type == "cuda"

    def size(self) -> int:
        return int(self._arr.size)

    def __len__(self) -> int:
        return int(self._arr.size)

    def nbytes(self) -> int:
        return int(self._arr.nbytes)

    def data_ptr(self) -> int:
        a = self._arr
        return int(a.__array_interface__["data"][0]) if hasattr(a, "__array_interface__") else int(a.data.ptr)

    def fill_(self, value: Any) -> Any:
        self._arr[...] = value
        return self

    def tolist(self) -> list:
        from engine.backend import host

        return host(self._arr).tolist()

    def __iter__(self) -> Any:
        return iter(self.tolist())

    def get_device(self) -> int | None:
        """The cuda device's index; None on the cpu (torch's storage answer, where a tensor's is -1)."""
        return self._dev.index or 0 if self._dev.type == "cuda" else None

    def is_shared(self) -> bool:
        return False  # (no storage here is ever moved to shared memory)

    def is_pinned(self) -> bool:
        return False

    @property
    def is_sparse(self) -> bool:
        return False

    def resizable(self) -> bool:
        return True

    def copy_(self, source: Any, non_blocking: bool | None = None) -> Any:
        """Copy source's bytes over these (torch copies storages byte for byte, whatever their dtypes)."""
        if not isinstance(source, _Storage):
            raise TypeError(f"copy_(): argument 'src' (position 1) must be torch.Storage, not {type_name(source)}")
        mine, theirs = _bytes(self._arr), _bytes(source._arr)
        if mine.size != theirs.size:
            raise RuntimeError(f"size does not match, self was {mine.size} bytes but src was {theirs.size} bytes")
        if source._dev != self._dev:
            from engine.backend import host

            theirs = host(theirs) if self._dev.type == "cpu" else self._dev.xp.asarray(theirs)
        mine[...] = theirs
        return self

    def _converted(self, dtype: Any) -> TypedStorage:
        """A new storage holding these elements converted to dtype (torch's storage.float(), .long(), ...)."""
        return _typed(self._arr.astype(dtype.np), dtype, self._dev)

    def float(self) -> TypedStorage:
        return self._converted(_dtypes().float32)

    def double(self) -> TypedStorage:
        return self._converted(_dtypes().float64)

    def half(self) -> TypedStorage:
        return self._converted(_dtypes().float16)

    def long(self) -> TypedStorage:
        return self._converted(_dtypes().int64)

    def int(self) -> TypedStorage:
        return self._converted(_dtypes().int32)

    def short(self) -> TypedStorage:
        return self._converted(_dtypes().int16)

    def char(self) -> TypedStorage:
        return self._converted(_dtypes().int8)

    def byte(self) -> TypedStorage:
        return self._converted(_dtypes().uint8)

    def bool(self) -> TypedStorage:
        return self._converted(_dtypes().bool_)


class UntypedStorage(_Storage):
    """The bytes under a tensor (torch.UntypedStorage): indexing gives and takes ints 0..255."""

    __slots__ = ()

    def __init__(self, *args: Any, device: Any = None) -> None:
        """torch.UntypedStorage(), (size) or (sequence of ints): bytes of the script's own (zeros for a size)."""
        import numpy as np

        values = _constructor_values("torch.UntypedStorage()", args, int)
        dev = _device(device)
        flat = np.zeros(values, np.uint8) if type(values) is int else np.array([v & 0xFF for v in values], np.uint8)
        self._arr = flat if dev.type == "cpu" else dev.xp.asarray(flat)
        self._dev = dev

    def element_size(self) -> int:
        return 1

    def __getitem__(self, i: Any) -> Any:
        if type(i) is slice:  # a storage over part of the bytes, sharing them
            return _untyped(self._arr[i], self._dev)
        if not hasattr(i, "__index__"):
            raise TypeError(f"can't index a torch.UntypedStorage with {type_name(i)}")
        return int(self._arr[_index(i, self.size())])

    def __setitem__(self, i: Any, value: int) -> None:
        if not hasattr(i, "__index__"):
            raise TypeError(f"can't index a torch.UntypedStorage with {type_name(i)}")
        self._arr[_index(i, self.size())] = int(value) & 0xFF  # (torch stores the low byte)

    def untyped(self) -> UntypedStorage:
        return self

    def clone(self) -> UntypedStorage:
        return _untyped(self._arr.copy(), self._dev)

    def cpu(self) -> UntypedStorage:
        return self if self._dev.type == "cpu" else _untyped(_host_copy(self._arr), _cpu())

    def type(self) -> str:
        return "torch.storage.UntypedStorage"

    def __repr__(self) -> str:
        return _text(self.tolist(), f"[torch.storage.UntypedStorage(device={self._dev}) of size {self.size()}]")


class TypedStorage(_Storage):
    """torch.TypedStorage (what the deprecated `tensor.storage()` gives): the same memory as elements of the
    tensor's dtype; indexing gives and takes Python numbers."""

    __slots__ = ("_dtype",)

    def __init__(self, *args: Any, dtype: Any = None, device: Any = None) -> None:
        """torch.TypedStorage(), (size) or (sequence of numbers), of dtype (the default dtype if None)."""
        import numpy as np

        warn_once(_TYPED_DEPRECATED)
        values = _constructor_values("torch.TypedStorage()", args, (int, float, bool))
        dt = _dtypes().get_default_dtype() if dtype is None else dtype
        if not isinstance(dt, _dtypes().dtype):
            raise TypeError(f"TypedStorage(): argument 'dtype' must be torch.dtype, not {type_name(dt)}")
        dev = _device(device)
        flat = np.zeros(values, dt.np) if type(values) is int else np.array(values, dt.np)
        self._arr = flat if dev.type == "cpu" else dev.xp.asarray(flat)
        self._dtype = dt
        self._dev = dev

    @property
    def dtype(self) -> Any:
        return self._dtype

    def element_size(self) -> int:
        return self._dtype.itemsize

    def __getitem__(self, i: Any) -> Any:
        return self._arr[self._position(i)].item()

    def __setitem__(self, i: Any, value: Any) -> None:
        if type(value) not in (int, float, bool) and not hasattr(value, "__float__"):
            raise TypeError(f"can't assign a {type_name(value)} to a torch.{self._dtype.legacy}")
        self._arr[self._position(i)] = value

    def _position(self, i: Any) -> int:
        if type(i) is slice:
            raise RuntimeError("slices are only supported in UntypedStorage.__getitem__")
        if not hasattr(i, "__index__"):
            raise RuntimeError(f"can't index a <class 'torch.storage.TypedStorage'> with {type(i)!r}")
        return _index(i, self.size())

    def untyped(self) -> UntypedStorage:
        return _untyped(self._arr, self._dev)

    def clone(self) -> TypedStorage:
        return _typed(self._arr.copy(), self._dtype, self._dev)

    def cpu(self) -> TypedStorage:
        arr = self._arr if self._dev.type == "cpu" else _host_copy(self._arr)
        return _typed(arr, self._dtype, _cpu())

    def type(self) -> str:
        """The legacy class name, 'torch.FloatStorage' for float32 (torch.cuda.FloatStorage on a GPU)."""
        where = "torch.cuda." if self._dev.type == "cuda" else "torch."
        return f"{where}{self._dtype.scalar_name()}Storage"

    def __repr__(self) -> str:
        info = f"[torch.storage.TypedStorage(dtype={self._dtype}, device={self._dev}) of size {self.size()}]"
        return _text(self.tolist(), info)


def _untyped(flat: Any, device: Any) -> UntypedStorage:
    """The storage over an engine array's memory (the constructor takes only what torch's does)."""
    s = object.__new__(UntypedStorage)
    s._arr = _bytes(flat)
    s._dev = device
    return s


def _typed(flat: Any, dtype: Any, device: Any) -> TypedStorage:
    raw = _bytes(flat)
    s = object.__new__(TypedStorage)
    s._arr = raw[: raw.size - raw.size % dtype.itemsize].view(dtype.np)
    s._dtype = dtype
    s._dev = device
    return s


def _constructor_values(what: str, args: tuple, kinds: Any) -> Any:
    """A storage constructor's one argument as torch reads it: nothing (size 0), a size, or a sequence of
    numbers; anything else is refused with torch's message."""
    if len(args) > 1:
        raise TypeError(f"{what} takes at most 1 positional argument ({len(args)} given)")
    if not args:
        return 0
    arg = args[0]
    if type(arg) is int:
        if arg < 0:
            raise RuntimeError(f"{what[:-2]}: size cannot be negative")
        return arg
    if type(arg) not in (list, tuple, str):
        raise RuntimeError(f"{what}: Expected a sequence type, but got {type_name(arg)}")
    for v in arg:
        if type(v) not in (kinds if isinstance(kinds, tuple) else (kinds,)):
            raise RuntimeError(
                f"{what}: tried to construct a storage from a sequence ({type(arg).__name__}), but one of the "
                f"items was of type {type_name(v)} instead of {'int' if kinds is int else 'float'}"
            )
    return list(arg)


def _device(device: Any) -> Any:
    from engine.backend import to_device

    return _cpu() if device is None else to_device(device)


def _bytes(arr: Any) -> Any:
    import numpy as np

    return arr.view(np.uint8) if arr.dtype != np.uint8 else arr


def _host_copy(arr: Any) -> Any:
    from engine.backend import host

    return host(arr).copy()


def _cpu() -> Any:
    from engine.backend import CPU

    return CPU


def _dtypes() -> Any:
    from engine import dtypes

    return dtypes


def _index(i: Any, n: int) -> int:
    i = i.__index__()
    if not -n <= i < n:
        raise IndexError(f"index {i} out of range for storage of size {n}")
    return i + n if i < 0 else i


def _text(values: list, info: str) -> str:
    """torch's storage __str__: one value per line, each after a space, then the summary line."""
    return " " + "\n ".join(str(v) for v in values) + "\n" + info


def untyped_storage(tensor: Any) -> UntypedStorage:
    return _untyped(_owner(tensor._data), tensor._dev)


def typed_storage(tensor: Any) -> TypedStorage:
    warn_once(_TYPED_DEPRECATED)
    return _typed(_owner(tensor._data), tensor.dtype, tensor._dev)
