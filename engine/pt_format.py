"""PyTorch's checkpoint format, so that files move both ways between this engine and PyTorch: a zip archive of
a pickle (`<name>/data.pkl`) whose tensors point at raw storages (`<name>/data/<key>`).

Writing emits the few pickle opcodes plain data needs (dicts, lists, tuples, numbers, strings, tensors) and
names only the globals PyTorch's own files name. Reading never uses pickle's machinery: a small interpreter
of the opcodes PyTorch writes builds plain containers and tensors, and a GLOBAL is looked up in an allowlist
of builders (as torch.load(weights_only=True) does), so a file can name no other function, let alone call it.
"""

from __future__ import annotations

import os
import struct
import zipfile
from collections import OrderedDict
from pickle import UnpicklingError  # torch.load's error for a pickle it refuses (the class only: nothing unpickles)
from typing import Any

import numpy as np

from engine import dtypes
from engine import host as _host_rules
from engine.meta import contiguous_strides
from engine.tensor import Size, Tensor, wrap

_STORAGE_OF = {d: d.legacy.replace("Tensor", "Storage") for d in dtypes.ALL_TYPES}
_DTYPE_OF_STORAGE = {name: d for d, name in _STORAGE_OF.items()}
_ALIGN = 64  # torch aligns each storage's bytes in the archive (its mmap loading relies on it)


# --------------------------------------------------------------------------------------------------- writing
class _Pickler:
    """Protocol-2 opcodes for the data torch.save writes; storages are collected for the archive."""

    def __init__(self) -> None:
        self.out = bytearray(b"\x80\x02")
        self.storages: list = []  # (key, bytes)
        self._roots: dict = {}  # id of a storage's array -> (key, size, the array, kept alive while writing)
        self._active: set = set()

    def global_(self, module: str, name: str) -> None:
        self.out += b"c" + f"{module}\n{name}\n".encode()

    def dump(self, obj: Any) -> None:
        w = self.out
        if obj is None:
            w += b"N"
        elif obj is True or obj is False:
            w += b"\x88" if obj else b"\x89"
        elif type(obj) is int or (isinstance(obj, int) and not isinstance(obj, bool)):
            self.int_(int(obj))
        elif isinstance(obj, float):
            w += b"G" + struct.pack(">d", obj)
        elif isinstance(obj, str):
            b = obj.encode("utf-8", "surrogatepass")
            w += b"X" + struct.pack("<I", len(b)) + b
        elif isinstance(obj, complex):
            self.global_("__builtin__", "complex")
            self.dump((obj.real, obj.imag))
            w += b"R"
        elif isinstance(obj, Tensor):
            self.tensor(obj)
        elif isinstance(obj, dtypes.dtype):
            self.global_("torch", obj.name)
        elif type(obj).__name__ == "device" and hasattr(obj, "type"):
            self.global_("torch", "device")
            self.dump((str(obj),))
            w += b"R"
        else:
            self.container(obj)

    def int_(self, v: int) -> None:
        w = self.out
        if 0 <= v < 256:
            w += b"K" + bytes((v,))
        elif 0 <= v < 65536:
            w += b"M" + struct.pack("<H", v)
        elif -(2**31) <= v < 2**31:
            w += b"J" + struct.pack("<i", v)
        else:
            b = v.to_bytes((v.bit_length() + 8) // 8, "little", signed=True)
            if len(b) > 255:
                raise OverflowError("torch.save: an int this large cannot be saved")
            w += b"\x8a" + bytes((len(b),)) + b

    def container(self, obj: Any) -> None:
        if id(obj) in self._active:
            raise ValueError("torch.save: a container holds itself; it cannot be saved")
        w = self.out
        self._active.add(id(obj))
        if isinstance(obj, dict):
            if isinstance(obj, OrderedDict):
                self.global_("collections", "OrderedDict")
                w += b")R"
            else:
                w += b"}"
            if obj:
                w += b"("
                for k, v in obj.items():
                    self.dump(k)
                    self.dump(v)
                w += b"u"
            # (only an OrderedDict's own attribute: the data a state_dict carries, dumped as data)
            meta = vars(obj).get("_metadata") if isinstance(obj, OrderedDict) else None
            if isinstance(meta, dict):  # a state_dict's module versions, which load_state_dict reads
                w += b"}X" + struct.pack("<I", 9) + b"_metadata"
                self.dump(meta)
                w += b"sb"
        elif isinstance(obj, (list, tuple)):
            size = isinstance(obj, Size)
            if size:
                self.global_("torch", "Size")
            if isinstance(obj, list):
                w += b"]"
                if obj:
                    w += b"("
                    for v in obj:
                        self.dump(v)
                    w += b"e"
            elif not obj:
                w += b")"
            else:
                short = len(obj) <= 3
                if not short:
                    w += b"("
                for v in obj:
                    self.dump(v)
                w += b"\x84\x85\x86\x87"[len(obj) : len(obj) + 1] if short else b"t"
            if size:
                w += b"\x85R"
        else:
            self._active.discard(id(obj))
            what = type(obj).__name__
            hint = " (save model.state_dict() instead)" if hasattr(obj, "state_dict") else ""
            raise TypeError(
                f"save: cannot save objects of type {what}{hint}; tensors, numbers, strings, "
                "lists, tuples and dicts of them are supported"
            )
        self._active.discard(id(obj))

    def storage_of(self, t: Tensor) -> tuple:
        """(key, storage size, offset, sizes, strides) of t's record: as torch writes it, the whole storage under
        t, once per storage (t and t[1:] saved together share one record, t[1:] at offset 1); a copy of t's own
        values where its storage cannot be reached (a cupy strided view)."""
        from engine.backend import host
        from engine.ops.as_strided import _flat_storage, _root

        data = t._data
        shape = tuple(data.shape)
        flat = None
        if data.size and t.device.type != "meta":
            try:
                flat, offset = _flat_storage(data)
            except RuntimeError:
                flat = None
        if flat is not None and (flat.dtype != data.dtype or any(st < 0 for st in data.strides)):
            flat = None  # (x.real of a complex storage, a reversed view: t's own values, as a copy)
        if flat is not None:
            root = _root(data)
            known = self._roots.get(id(root))
            if known is None:
                key = self.record(flat, t.dtype is dtypes.bfloat16)
                known = self._roots[id(root)] = (key, int(flat.size), root)
            return known[0], known[1], int(offset), shape, tuple(s // data.itemsize for s in data.strides)
        data = np.asarray(host(data))
        if not data.flags.c_contiguous:
            data = data.copy(order="C")  # (np.ascontiguousarray would make a 0-d tensor 1-d)
        strides = tuple(s // data.itemsize for s in data.strides) if data.size else contiguous_strides(shape)
        return self.record(data.reshape(-1), t.dtype is dtypes.bfloat16), int(data.size), 0, shape, strides

    def record(self, flat: Any, bf16: bool) -> str:
        """A storage record of these values (bfloat16 as its upper 16 bits, as torch stores it)."""
        from engine.backend import host

        data = np.asarray(host(flat))
        if bf16:  # stored as float32 holding bfloat16 values: the upper halves are the bits
            data = (data.view(np.uint32) >> 16).astype(np.uint16)
        key = str(len(self.storages))
        self.storages.append((key, data.tobytes()))
        return key

    def tensor(self, t: Tensor) -> None:
        from engine.nn.parameter import Parameter

        param = isinstance(t, Parameter)
        if param:
            self.global_("torch._utils", "_rebuild_parameter")
        d = t.dtype
        if d not in _STORAGE_OF:
            raise TypeError(f"save: tensors of dtype {d} cannot be saved in PyTorch's format")
        key, numel, offset, shape, strides = self.storage_of(t)
        loc = "cpu" if t.device.type == "cpu" else f"cuda:{t.device.index or 0}"
        self.global_("torch._utils", "_rebuild_tensor_v2")
        self.out += b"(("
        self.dump("storage")
        self.global_("torch", _STORAGE_OF[d])
        self.dump(key)
        self.dump(loc)
        self.int_(numel)
        self.out += b"tQ"
        self.int_(offset)
        self.dump(shape)
        self.dump(strides)
        self.dump(bool(t._rg) and not param)
        self.global_("collections", "OrderedDict")
        self.out += b")RtR"
        if param:
            self.dump(bool(t._rg))
            self.global_("collections", "OrderedDict")
            self.out += b")R\x87R"


def save(obj: Any, f: Any) -> None:
    """Write obj as torch.save does (zip archive, protocol-2 pickle, one raw record per storage)."""
    p = _Pickler()
    p.dump(obj)
    p.out += b"."
    base = os.path.splitext(os.path.basename(f))[0] if isinstance(f, (str, os.PathLike)) else "archive"
    base = "".join(c if c.isalnum() or c in "_-" else "_" for c in str(base)) or "archive"
    records = [("data.pkl", bytes(p.out)), (".format_version", b"1"), (".storage_alignment", b"64"),
               ("byteorder", b"little")]  # fmt: skip
    records += [(f"data/{k}", b) for k, b in p.storages]
    records += [("version", b"3")]
    own = not hasattr(f, "write")
    fh = open(f, "wb") if own else f
    try:
        with zipfile.ZipFile(fh, "w", zipfile.ZIP_STORED) as z:
            for name, payload in records:
                info = zipfile.ZipInfo(f"{base}/{name}", date_time=(1980, 1, 1, 0, 0, 0))
                if name.startswith("data/"):
                    # pad the local header's extra field (id "FB", as torch's writer) to align the bytes
                    start = z.fp.tell()
                    header = 30 + len(info.filename.encode()) + 4
                    pad = (-(start + header)) % _ALIGN
                    info.extra = b"FB" + struct.pack("<H", pad) + b"Z" * pad
                z.writestr(info, payload)
    finally:
        if own:
            fh.close()


# --------------------------------------------------------------------------------------------------- reading
def is_torch_archive(names: list) -> str | None:
    """The record prefix (`<name>/`) of a PyTorch archive from its member names, or None."""
    for n in names:
        if n.endswith("data.pkl") and n.count("/") == 1:
            return n[: -len("data.pkl")]
    return None


class _StorageType:
    __slots__ = ("dtype",)

    def __init__(self, d: Any) -> None:
        self.dtype = d


def _check_layout(numel: int, offset: int, size: tuple, stride: tuple) -> None:
    if not all(type(v) is int and v >= 0 for v in (offset, *size, *stride)) or len(size) != len(stride):
        raise UnpicklingError("torch.load: a tensor's size, stride or offset in the file is malformed")
    if all(size):
        last = offset + sum((n - 1) * s for n, s in zip(size, stride))
        if last >= numel:
            raise UnpicklingError(
                f"torch.load: a tensor of size {list(size)} reaches element {last} of a storage of {numel}"
            )


def _apart(size: tuple, stride: tuple) -> bool:
    """Whether no two elements of a tensor of these sizes and strides share a place in memory (each dim's stride
    passes the span of the dims of smaller strides), so a view of the storage can be written safely."""
    span = 0
    for n, st in sorted(((n, st) for n, st in zip(size, stride) if n > 1), key=lambda d: d[1]):
        if st <= span:
            return False
        span += (n - 1) * st
    return True


def _rebuild_tensor(storage: Any, offset: int, size: Any, stride: Any, requires_grad: Any = False,
                    hooks: Any = None, metadata: Any = None) -> Tensor:  # fmt: skip
    if not isinstance(storage, _Storage):
        raise UnpicklingError("torch.load: a tensor in the file does not point at a storage")
    size, stride = tuple(size), tuple(stride)
    _check_layout(storage.numel, offset, size, stride)
    count = 1
    for n in size:
        count *= n
    if count > max(storage.numel, 1 << 20):  # (strides of 0 over a small storage: copying would multiply it)
        raise UnpicklingError(
            f"torch.load: a tensor of {count} elements overlaps itself on a storage of {storage.numel}; tsr "
            "does not expand such tensors while loading (save a contiguous copy in PyTorch)"
        )
    arr = storage.array
    isz = arr.itemsize
    if storage.dtype is not dtypes.bfloat16 and _apart(size, stride):
        # torch's: a view of the loaded storage, so tensors saved over one storage (t and t[1:]) share it again
        from engine.ops.as_strided import _view

        t = wrap(_view(arr, size, stride, offset))
        t._rg = bool(requires_grad) and storage.dtype.is_floating_point
        return t
    if not (offset == 0 and count == arr.size and storage.dtype is not dtypes.bfloat16):
        # a copy (or a bfloat16 widening): a tensor may overlap itself on a small storage, so what it takes is
        # not bounded by the file's size (a thousand tensors of a million elements over one 8-byte record)
        _host_rules.check_alloc(count * max(isz, 4) * (3 if storage.dtype is dtypes.bfloat16 else 1))
    view = np.lib.stride_tricks.as_strided(arr[offset:], size, tuple(s * isz for s in stride))
    if storage.dtype is dtypes.bfloat16:
        from engine.bf16 import to_bf16

        view = to_bf16((view.astype(np.uint32) << 16).view(np.float32))
    elif not (offset == 0 and view.size == arr.size and view.flags.c_contiguous):
        view = view.copy()  # a part of a storage: its own copy (an overlapping view could not be written safely)
    t = wrap(view)
    t._rg = bool(requires_grad) and storage.dtype.is_floating_point
    return t


def _rebuild_parameter(data: Any, requires_grad: Any, hooks: Any = None, state: Any = None) -> Any:
    from engine.nn.parameter import Parameter

    if not isinstance(data, Tensor):
        raise UnpicklingError("torch.load: a parameter in the file holds no tensor")
    return Parameter(data, bool(requires_grad))


def _from_type(func: Any, new_type: Any, args: Any, state: Any) -> Any:
    if not any(func is c for c in _CALLABLE) or not isinstance(args, tuple) or new_type not in (Tensor, _PARAMETER[0]):
        raise UnpicklingError("torch.load: the file rebuilds a tensor subclass this engine does not know")
    return func(*args)


def _bytes(text: Any, encoding: str = "latin1") -> bytes:
    if type(text) is not str or encoding not in ("latin1", "latin-1"):
        raise UnpicklingError("torch.load: malformed bytes in the file")
    return text.encode("latin1")


def _device(*args: Any) -> Any:
    from engine.backend import device

    return device(*args)


_PARAMETER: list = [None]


def _size(t: Any = ()) -> Size:
    return Size(t)


def _globals() -> dict:
    from engine.nn.parameter import Parameter

    _PARAMETER[0] = Parameter
    table: dict = {
        ("collections", "OrderedDict"): OrderedDict,
        ("torch._utils", "_rebuild_tensor_v2"): _rebuild_tensor,
        ("torch._utils", "_rebuild_parameter"): _rebuild_parameter,
        ("torch._utils", "_rebuild_parameter_with_state"): _rebuild_parameter,
        ("torch._tensor", "_rebuild_from_type_v2"): _from_type,
        ("torch", "Tensor"): Tensor,
        ("torch.nn.parameter", "Parameter"): Parameter,
        ("torch", "Size"): _size,
        ("torch", "device"): _device,
        ("_codecs", "encode"): _bytes,
    }
    for module in ("builtins", "__builtin__"):  # (protocol 2 names builtins as Python 2 did)
        for cls in (complex, set, frozenset):
            table[(module, cls.__name__)] = cls
    for name, d in _DTYPE_OF_STORAGE.items():
        table[("torch", name)] = _StorageType(d)
    for d in dtypes.ALL_TYPES:
        table[("torch", d.name)] = d
    return table


_GLOBALS: dict = {}
_CALLABLE = (_rebuild_tensor, _rebuild_parameter, _from_type, _size, _device, complex, set, frozenset, _bytes,
             OrderedDict)  # fmt: skip


class _Storage:
    __slots__ = ("array", "dtype", "numel")

    def __init__(self, array: Any, d: Any) -> None:
        self.array, self.dtype, self.numel = array, d, array.size


_MARK = object()


def _unpickle(data: bytes, storage: Any, name: str) -> Any:
    """Interpret PyTorch's pickle opcodes over data; storage(key, storage_type, numel) reads one storage."""
    if not _GLOBALS:
        _GLOBALS.update(_globals())
    stack: list = []
    marks: list = []
    memo: dict = {}
    pos, end = 0, len(data)
    # hashing a tuple walks all of it, a shared part once per time it is reached: ten levels of DUP+TUPLE2 hash
    # 2**10 items, eighty would never finish (in C, holding the interpreter). A key's walk is counted against
    # a budget for the whole file, as it would be hashed
    budget = [(1 << 20) + 16 * end]
    ops = 0

    def take(n: int) -> bytes:
        nonlocal pos
        if pos + n > end:
            raise UnpicklingError(f"torch.load: {name} ends in the middle of its pickle")
        b = data[pos : pos + n]
        pos += n
        return b

    def line() -> str:
        nonlocal pos
        nl = data.find(b"\n", pos)
        if nl < 0:
            raise UnpicklingError(f"torch.load: {name} ends in the middle of its pickle")
        s = data[pos:nl].decode("utf-8")
        pos = nl + 1
        return s

    def pop_mark() -> list:
        if not marks:
            raise UnpicklingError(f"torch.load: {name} has a malformed pickle")
        m = marks.pop()
        items = stack[m:]
        del stack[m:]
        return items

    def find(module: str, qual: str) -> Any:
        g = _GLOBALS.get((module, qual))
        if g is None:
            raise UnpicklingError(
                f"torch.load: {name} holds a pickled `{module}.{qual}`, which is not plain data. tsr loads "
                "tensors, numbers, strings and containers of them (what torch.load(weights_only=True) loads) and "
                "never runs a file's code; in PyTorch, save the model's state_dict() rather than the model."
            )
        return g

    def call(fn: Any, args: Any) -> Any:
        if not any(fn is c for c in _CALLABLE):
            raise UnpicklingError(f"torch.load: {name} calls something that is not a known builder")
        if not isinstance(args, tuple):
            raise UnpicklingError(f"torch.load: {name} has a malformed pickle")
        if fn in (set, frozenset, OrderedDict) and args and isinstance(args[0], (list, tuple)):
            for item in args[0]:  # (the items these hash: counted as the pickle's own keys are)
                _key(item[0] if fn is OrderedDict and isinstance(item, tuple) and item else item, budget)
        try:
            return fn(*args)
        except UnpicklingError:
            raise
        except (TypeError, ValueError) as e:
            raise UnpicklingError(f"torch.load: {name} has a malformed pickle ({e})") from None

    try:
        while True:
            if pos >= end:
                raise UnpicklingError(f"torch.load: {name} ends in the middle of its pickle")
            op = data[pos]
            pos += 1
            ops += 1
            if not ops & 0xFFF:  # each op may make an object (a dict, 64 bytes, from one byte of the file)
                _host_rules.check_alloc(0x1000 * 64)
            if op == 0x80:  # PROTO
                take(1)
            elif op == 0x95:  # FRAME
                take(8)
            elif op == 0x2E:  # STOP
                return stack.pop()
            elif op == 0x28:  # MARK
                marks.append(len(stack))
            elif op == 0x7D:  # EMPTY_DICT
                stack.append({})
            elif op == 0x5D:  # EMPTY_LIST
                stack.append([])
            elif op == 0x29:  # EMPTY_TUPLE
                stack.append(())
            elif op == 0x8F:  # EMPTY_SET
                stack.append(set())
            elif op == 0x4E:  # NONE
                stack.append(None)
            elif op == 0x88:
                stack.append(True)
            elif op == 0x89:
                stack.append(False)
            elif op == 0x4B:  # BININT1
                stack.append(take(1)[0])
            elif op == 0x4D:  # BININT2
                stack.append(struct.unpack("<H", take(2))[0])
            elif op == 0x4A:  # BININT
                stack.append(struct.unpack("<i", take(4))[0])
            elif op == 0x8A:  # LONG1
                stack.append(int.from_bytes(take(take(1)[0]), "little", signed=True))
            elif op == 0x47:  # BINFLOAT
                stack.append(struct.unpack(">d", take(8))[0])
            elif op == 0x58:  # BINUNICODE
                stack.append(take(struct.unpack("<I", take(4))[0]).decode("utf-8", "surrogatepass"))
            elif op == 0x8C:  # SHORT_BINUNICODE
                stack.append(take(take(1)[0]).decode("utf-8", "surrogatepass"))
            elif op == 0x42:  # BINBYTES
                stack.append(take(struct.unpack("<I", take(4))[0]))
            elif op == 0x43:  # SHORT_BINBYTES
                stack.append(take(take(1)[0]))
            elif op == 0x71:  # BINPUT
                memo[take(1)[0]] = stack[-1]
            elif op == 0x72:  # LONG_BINPUT
                memo[struct.unpack("<I", take(4))[0]] = stack[-1]
            elif op == 0x94:  # MEMOIZE
                memo[len(memo)] = stack[-1]
            elif op == 0x68:  # BINGET
                stack.append(memo[take(1)[0]])
            elif op == 0x6A:  # LONG_BINGET
                stack.append(memo[struct.unpack("<I", take(4))[0]])
            elif op == 0x74:  # TUPLE
                stack.append(tuple(pop_mark()))
            elif op in (0x85, 0x86, 0x87):  # TUPLE1..3
                n = op - 0x84
                if len(stack) < n:
                    raise UnpicklingError(f"torch.load: {name} has a malformed pickle")
                items = tuple(stack[-n:])
                del stack[-n:]
                stack.append(items)
            elif op == 0x61:  # APPEND
                v = stack.pop()
                _as(stack[-1], list).append(v)
            elif op == 0x65:  # APPENDS
                items = pop_mark()
                _as(stack[-1], list).extend(items)
            elif op == 0x73:  # SETITEM
                v, k = stack.pop(), stack.pop()
                _as(stack[-1], dict)[_key(k, budget)] = v
            elif op == 0x75:  # SETITEMS
                items = pop_mark()
                d = _as(stack[-1], dict)
                for i in range(0, len(items) - 1, 2):
                    d[_key(items[i], budget)] = items[i + 1]
            elif op == 0x90:  # ADDITEMS
                items = pop_mark()
                _as(stack[-1], set).update(_key(k, budget) for k in items)
            elif op == 0x91:  # FROZENSET
                stack.append(frozenset(_key(k, budget) for k in pop_mark()))
            elif op == 0x63:  # GLOBAL
                module = line()
                stack.append(find(module, line()))
            elif op == 0x93:  # STACK_GLOBAL
                qual, module = stack.pop(), stack.pop()
                if type(module) is not str or type(qual) is not str:  # (str() of a shared tuple could be endless)
                    raise UnpicklingError(f"torch.load: {name} has a malformed pickle")
                stack.append(find(module, qual))
            elif op == 0x52:  # REDUCE
                args = stack.pop()
                stack[-1] = call(stack[-1], args)
            elif op == 0x81:  # NEWOBJ
                args = stack.pop()
                stack[-1] = call(stack[-1], args)
            elif op == 0x62:  # BUILD
                state = stack.pop()
                target = stack[-1]
                if isinstance(target, OrderedDict) and isinstance(state, dict) and set(state) <= {"_metadata"}:
                    if "_metadata" in state:
                        target._metadata = state["_metadata"]
                elif not (isinstance(target, Tensor) and not state):
                    raise UnpicklingError(f"torch.load: {name} sets the state of an object it may not")
            elif op == 0x51:  # BINPERSID
                pid = stack.pop()
                if not (isinstance(pid, tuple) and len(pid) == 5 and pid[0] == "storage"):
                    raise UnpicklingError(f"torch.load: {name} refers to a record it does not describe")
                _, stype, key, _location, numel = pid
                if not isinstance(stype, _StorageType) or type(key) is not str or type(numel) is not int:
                    raise UnpicklingError(f"torch.load: {name} refers to a storage of an unknown type")
                stack.append(storage(key, stype.dtype, numel, _location))
            elif op == 0x30:  # POP
                stack.pop()
            elif op == 0x31:  # POP_MARK
                pop_mark()
            elif op == 0x32:  # DUP
                stack.append(stack[-1])
            else:
                raise UnpicklingError(
                    f"torch.load: {name} uses pickle opcode {bytes((op,))!r}, which PyTorch's files do not use"
                )
    except (IndexError, KeyError, struct.error, UnicodeDecodeError):
        raise UnpicklingError(f"torch.load: {name} has a malformed pickle") from None


def _as(obj: Any, kind: type) -> Any:
    if not isinstance(obj, kind):
        raise UnpicklingError(f"torch.load: the pickle adds items to a {type(obj).__name__}")
    return obj


def _key(k: Any, budget: list) -> Any:
    if type(k) is tuple:
        todo = [k]
        while todo:
            t = todo.pop()
            budget[0] -= len(t) + 1
            if budget[0] < 0:
                raise UnpicklingError("torch.load: the pickle's keys are too large to hash (tuples shared too often)")
            todo.extend(v for v in t if type(v) is tuple)
    try:
        hash(k)
    except TypeError:
        raise UnpicklingError("torch.load: the pickle uses an unhashable dict key") from None
    return k


def load(z: zipfile.ZipFile, prefix: str, name: str, map_location: Any) -> Any:
    """torch.load of an open PyTorch archive: tensors land on their saved device unless map_location says."""
    members = set(z.namelist())
    order = "little"
    if f"{prefix}byteorder" in members:
        order = _read(z, f"{prefix}byteorder").decode(errors="replace").strip()
    storages: dict = {}
    moves: list = []

    def storage(key: str, d: Any, numel: int, location: Any) -> _Storage:
        s = storages.get(key)
        if s is None:
            record = f"{prefix}data/{key}"
            if record not in members:
                raise UnpicklingError(f"torch.load: {name} lacks the record {record}")
            raw = _read(z, record)
            npd = np.dtype(np.uint16) if d is dtypes.bfloat16 else d.np
            if order == "big":
                npd = npd.newbyteorder(">")
            if len(raw) < numel * npd.itemsize:
                raise UnpicklingError(f"torch.load: {name}'s record {record} is shorter than its storage")
            arr = np.frombuffer(bytearray(raw[: numel * npd.itemsize]), npd)
            if order == "big":
                arr = arr.astype(npd.newbyteorder("<"))
            s = storages[key] = _Storage(arr, d)
            moves.append(location)
        return s

    obj = _unpickle(_read(z, f"{prefix}data.pkl"), storage, name)
    target = _target(map_location, moves)
    if target is not None:
        from engine.serialization import _move

        obj = _move(obj, target)
    return obj


def _read(z: zipfile.ZipFile, member: str) -> bytes:
    """A member's bytes, decompressing no more than its header declares (what the host charged for the file):
    ZipFile.read inflates a member whole before cutting it to its declared size, gigabytes from a few MB."""
    info = z.getinfo(member)
    with z.open(info) as fh:
        return fh.read(info.file_size)


def _target(map_location: Any, locations: list) -> Any:
    """The device the loaded tensors go to: map_location's, else the one they were saved on (cuda needs cuda)."""
    from engine.backend import to_device

    if map_location is not None:
        if isinstance(map_location, dict):
            mapped = {map_location.get(loc, loc) for loc in locations}
            if len(mapped) > 1:
                raise ValueError("torch.load: map_location maps the file's tensors to more than one device")
            return to_device(next(iter(mapped))) if mapped else None
        if callable(map_location) and not isinstance(map_location, str):
            raise TypeError("torch.load: map_location as a function is not supported; give a device")
        return to_device(map_location)
    on_cuda = sorted({str(loc) for loc in locations if str(loc).startswith("cuda")})
    if not on_cuda:
        return None
    from engine import cuda

    if not cuda.is_available():
        raise RuntimeError(
            "Attempting to deserialize object on a CUDA device but torch.cuda.is_available() is False. If you "
            "are running on a CPU-only machine, please use torch.load with map_location=torch.device('cpu') to "
            "map your storages to the CPU."
        )
    return to_device(on_cuda[0])
