"""Devices: each names an array module. cpu is numpy; cuda is cupy, imported on first use only,
so cpu work never pays for it. Op code is written once against `device.xp`. meta (shapes without data) runs on
numpy too: its tensors are made over zero-stride arrays (engine/meta.py), so their values take no memory and are
never shown."""

from __future__ import annotations

import re

import numpy as np

from engine.naming import TorchNamed

CUDA_HINT = (
    "install a CUDA build of cupy: pip install 'tcli[cuda13]' (CUDA 13) or 'tcli[cuda12]' (CUDA 12), "
    "and make sure an NVIDIA GPU and driver are present"
)


_DEVICE_STRING = re.compile(r"([a-zA-Z_]+)(?::([1-9]\d*|0))?")
_TORCH_ONLY_DEVICES = frozenset(
    {"ipu", "xpu", "mkldnn", "opengl", "opencl", "ideep", "hip", "ve", "fpga", "maia", "xla", "lazy", "vulkan", "mps",
     "hpu", "mtia", "privateuseone"}
)  # fmt: skip


class device(metaclass=TorchNamed):  # noqa: N801 - torch's spelling
    _torch_name = "torch.device"
    _c_type = True
    __slots__ = ("type", "index", "_xp")

    def __new__(cls, type: str | device, index: int | None = None) -> device:  # noqa: A002
        if isinstance(type, device):
            return type
        if not isinstance(type, str):
            return _device_of(type, index)
        if index is not None:
            if not isinstance(index, int) or isinstance(index, bool):
                raise TypeError(f"device(): argument 'index' (position 2) must be int, not {_tname(index)}")
            if index < 0:
                raise RuntimeError("Device index must not be negative")
        if not type:
            raise RuntimeError("Device string must not be empty")
        if _DEVICE_STRING.fullmatch(type) is None:  # (c10's Device(string) regex: 'float32', 'cuda:01' fail it)
            raise RuntimeError(f"Invalid device string: '{type}'")
        kind, _, idx = type.partition(":")
        if kind in _TORCH_ONLY_DEVICES:  # (a device torch knows: a scope note, not "expected one of ..., meta")
            e = RuntimeError(f"the '{kind}' device is not in tcli's engine, which has the cpu, cuda and meta devices")
            e.not_covered = True  # type: ignore[attr-defined]
            raise e
        if kind not in ("cpu", "cuda", "meta"):
            raise RuntimeError(
                "Expected one of cpu, cuda, ipu, xpu, mkldnn, opengl, opencl, ideep, hip, ve, fpga, maia, "
                f"xla, lazy, vulkan, mps, meta, hpu, mtia, privateuseone device type at start of device "
                f"string: {kind}"  # (torch names the type alone: 'gpu' of 'gpu:0')
            )
        if idx:
            if index is not None:  # (torch.device('cuda:0', 1))
                raise RuntimeError(
                    f"type (string) must not include an index because index was passed explicitly: {type}"
                )
            if not idx.isdigit():
                raise RuntimeError(f"Invalid device string: '{type}'")
            index = int(idx)
        key = (kind, index)  # (device("cuda") keeps no index, as torch's; tensors get the current one, cuda:0)
        cached = _CACHE.get(key)
        if cached is not None:
            return cached
        self = object.__new__(cls)
        self.type = kind
        self.index = index
        self._xp = None if kind == "cuda" else np  # (meta: shapes only, over numpy's zero-stride arrays)
        _CACHE[key] = self
        return self

    @property
    def xp(self):  # noqa: ANN201 - numpy or cupy
        xp = self._xp
        if xp is None:
            xp = self._xp = _cupy(self.index or 0)
        return xp

    def __repr__(self) -> str:
        if self.index is None:
            return f"device(type='{self.type}')"
        return f"device(type='{self.type}', index={self.index})"

    def __str__(self) -> str:
        return self.type if self.index is None else f"{self.type}:{self.index}"

    def __eq__(self, other: object) -> bool:
        # (a string is never equal, as in torch: compare with torch.device("cpu") or .type)
        return isinstance(other, device) and other.type == self.type and other.index == self.index

    def __hash__(self) -> int:
        return hash((self.type, self.index))

    def __enter__(self) -> device:
        """`with torch.device('meta'):` makes this the factories' default device until the block ends."""
        _ENTERED.append(DEFAULTS.device)
        set_default_device(self)
        return self

    def __exit__(self, *exc: object) -> None:
        DEFAULTS.device = _ENTERED.pop()


def _tname(x: object) -> str:
    return type(x).__name__


def _device_of(ordinal: object, index: object) -> device:
    """torch.device(i): the current accelerator's device i (torch 2.x), which here can only be cuda."""
    if not isinstance(ordinal, int) or isinstance(ordinal, bool):
        from engine.ops.util import parser_arg_text  # (a list shows its items' types: "list of [int]")

        t = _tname(ordinal)
        raise TypeError(
            f"device() received an invalid combination of arguments - got ({t}), but expected one of:\n"
            " * (torch.device device)\n"
            f"      didn't match because some of the arguments have invalid types: (!{parser_arg_text(ordinal)}!)\n"
            " * (str type, int index = -1)\n"
        )
    if index is not None:
        raise TypeError("device(): argument 'type' (position 1) must be str, not int")
    if ordinal < 0:
        raise RuntimeError("Device index must not be negative")
    if not cuda_available():
        raise RuntimeError("Cannot access accelerator device when none is available.")
    return device("cuda", ordinal)


_CACHE: dict = {}
CPU = device("cpu")
CURRENT = [0]  # the current cuda device's index (torch.cuda.set_device): where device("cuda") tensors go


def _cupy(index: int):  # noqa: ANN202
    try:
        import cupy
    except ImportError:
        # torch's CPU build's words (scripts catch AssertionError), with what is missing here as the note
        err = AssertionError("Torch not compiled with CUDA enabled")
        err.add_note(f"CUDA is not available: cupy is not installed; {CUDA_HINT}")
        raise err from None
    try:
        n = cupy.cuda.runtime.getDeviceCount()
    except Exception as e:  # cupy raises its own CUDARuntimeError types
        raise RuntimeError(f"CUDA is not available: {e}; {CUDA_HINT}") from None
    if index >= n:
        raise RuntimeError(f"CUDA error: invalid device ordinal (device cuda:{index} requested, {n} available)")
    return cupy


def to_device(d: object) -> device:
    if d is None:
        return DEFAULTS.device
    if not isinstance(d, device):
        d = device(d)
    return d if d.index is not None or d.type != "cuda" else device("cuda", CURRENT[0])


class _Defaults:
    __slots__ = ("device",)

    def __init__(self) -> None:
        self.device = CPU


DEFAULTS = _Defaults()
_ENTERED: list = []  # the default devices `with torch.device(...)` blocks replaced, innermost last


def set_default_device(d: object) -> None:
    DEFAULTS.device = CPU if d is None else to_device(d)


def cuda_available() -> bool:
    try:
        import cupy

        return cupy.cuda.runtime.getDeviceCount() > 0
    except Exception:  # no cupy, no driver, no device: all mean "not available"
        return False


def device_count() -> int:
    try:
        import cupy

        return int(cupy.cuda.runtime.getDeviceCount())
    except Exception:
        return 0


_ON_DEVICE: dict = {}


def on_device(f):  # noqa: ANN001, ANN201 - a numpy function -> cupy's
    """cupy's function of the same name as numpy's top-level `f`.

    Op code calls numpy's names. Given device arrays, numpy hands such a call on to cupy through its override
    protocol (__array_ufunc__/__array_function__), and cupy's side of it builds every argument's
    __cuda_array_interface__: microseconds per call, more than launching a small kernel. The hot paths call
    cupy's function directly instead."""
    g = _ON_DEVICE.get(f)
    if g is None:
        try:
            import cupy
        except ImportError:  # no device arrays here: what came is another array-like (a sparse tensor's stand-in,
            return f  # engine/sparse_tensor.py), which numpy's override protocol hands on to
        g = _ON_DEVICE[f] = getattr(cupy, f.__name__)
    return g


def for_array(f, arr):  # noqa: ANN001, ANN201
    """numpy's top-level `f` for a numpy array, cupy's (called directly, see on_device) for a device array."""
    return f if type(arr) is np.ndarray or isinstance(arr, _HOST) else on_device(f)


_HOST = (np.ndarray, np.generic, int, float, complex)


def host(arr):  # noqa: ANN001, ANN201
    """A numpy view/copy of an array that may live on the GPU (the one sync point printing uses)."""
    if type(arr) is np.ndarray:
        return arr
    get = getattr(arr, "get", None)
    return get() if get is not None else np.asarray(arr)


def array_device(arr) -> device:  # noqa: ANN001
    if isinstance(arr, np.ndarray):
        return CPU
    return device("cuda", int(arr.device.id))
