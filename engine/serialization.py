"""torch.save / torch.load for tensors and containers of tensors.

torch.save writes PyTorch's own format (engine.pt_format), so PyTorch loads what the engine saves and the
engine loads PyTorch's checkpoints; a name ending in .npz gets a numpy archive instead. Loading never runs a
file's code (pt_format interprets the pickle against an allowlist). The host (tcli) decides which paths a
script may touch."""

from __future__ import annotations

import json
from collections import OrderedDict
from typing import Any

import numpy as np

from engine.tensor import Tensor, wrap


def _flatten(obj: Any, arrays: dict) -> Any:
    if isinstance(obj, Tensor):
        key = f"t{len(arrays)}"
        from engine.backend import host
        from engine.bf16 import plain

        data = host(obj._data)
        spec = {"__tensor__": key, "requires_grad": obj._rg}
        if data.dtype.metadata is not None:  # bfloat16: its float32 values (npz keeps no dtype metadata)
            data = np.asarray(plain(data)).view(np.float32)
            spec["bfloat16"] = True
        arrays[key] = data
        if type(obj).__name__ == "Parameter":
            spec["parameter"] = True
        return spec
    if isinstance(obj, dict):
        if all(type(k) is str for k in obj):
            return {"__dict__": {k: _flatten(v, arrays) for k, v in obj.items()}}
        # other keys (an optimizer's state is keyed by parameter index): pairs, each key flattened too
        return {"__items__": [[_flatten(k, arrays), _flatten(v, arrays)] for k, v in obj.items()]}
    if isinstance(obj, (list, tuple)):
        return {"__list__": [_flatten(v, arrays) for v in obj], "tuple": isinstance(obj, tuple)}
    if obj is None or isinstance(obj, (bool, int, float, str)):
        return {"__value__": obj}
    what = type(obj).__name__
    hint = " (save model.state_dict() instead)" if hasattr(obj, "state_dict") else ""
    raise TypeError(
        f"save: cannot save objects of type {what}{hint}; tensors, numbers, strings, "
        "lists, tuples and dicts of them are supported"
    )


def _unflatten(spec: Any, arrays: Any) -> Any:
    if "__tensor__" in spec:
        a = np.array(arrays[spec["__tensor__"]])
        if spec.get("bfloat16"):
            from engine.bf16 import to_bf16

            a = to_bf16(a)
        t = wrap(a)
        t._rg = bool(spec.get("requires_grad")) and t._data.dtype.kind == "f"
        if spec.get("parameter"):
            from engine.nn.parameter import Parameter

            return Parameter(t, t._rg)
        return t
    if "__dict__" in spec:
        return {k: _unflatten(v, arrays) for k, v in spec["__dict__"].items()}
    if "__items__" in spec:
        return {_unflatten(k, arrays): _unflatten(v, arrays) for k, v in spec["__items__"]}
    if "__list__" in spec:
        items = [_unflatten(v, arrays) for v in spec["__list__"]]
        return tuple(items) if spec.get("tuple") else items
    return spec["__value__"]


def save(obj: Any, f: Any, pickle_module: Any = None, pickle_protocol: int = 2,
         _use_new_zipfile_serialization: bool = True, _disable_byteorder_record: bool = False) -> None:  # fmt: skip
    if not (isinstance(f, str) and f.endswith(".npz")):
        from engine import pt_format

        pt_format.save(obj, f)
        return
    arrays: dict = {}
    spec = _flatten(obj, arrays)
    arrays["__spec__"] = np.frombuffer(json.dumps(spec).encode(), dtype=np.uint8)
    np.savez(f, **arrays)


def load(f: Any, map_location: Any = None, pickle_module: Any = None, *, weights_only: bool | None = None,
         mmap: bool | None = None, **pickle_load_args: Any) -> Any:  # fmt: skip
    """torch.load of a PyTorch checkpoint or of a numpy archive torch.save wrote. weights_only=False loads the
    same way: no file's code ever runs, whatever it asks."""
    import zipfile

    from engine import pt_format

    name = f if isinstance(f, str) else getattr(f, "name", "the file")
    try:
        with zipfile.ZipFile(f) as archive:
            prefix = pt_format.is_torch_archive(archive.namelist())
            if prefix is not None:
                return pt_format.load(archive, prefix, name, map_location)
    except zipfile.BadZipFile:
        raise pt_format.UnpicklingError(
            f"torch.load: {name} is not a PyTorch checkpoint: not a zip archive (files saved by PyTorch "
            "before 1.6, in the legacy format, are not read; load and save them again with a newer PyTorch)"
        ) from None
    z = np.load(f, allow_pickle=False)
    with z:
        if "__spec__" not in getattr(z, "files", ()):
            raise RuntimeError(
                f"torch.load: {name} is a zip archive but not a PyTorch checkpoint (no data.pkl record) nor an "
                "archive written by torch.save"
            )
        spec = json.loads(bytes(z["__spec__"]).decode())
        arrays = {k: z[k] for k in z.files if k != "__spec__"}
    obj = _unflatten(spec, arrays)
    if map_location is not None:
        from engine.backend import to_device

        dev = to_device(map_location)
        obj = _move(obj, dev)
    return obj


def _move(obj: Any, dev: Any, done: dict | None = None) -> Any:
    """obj with its tensors on dev; an object reached twice is moved once (a file's pickle may share one
    list many times over, which a walk without memory would visit exponentially often)."""
    if done is None:
        done = {}
    key = id(obj)
    if key in done:
        return done[key]
    if isinstance(obj, Tensor):
        r = obj.to(dev)
    elif isinstance(obj, dict):
        r = type(obj)() if type(obj) in (dict, OrderedDict) else {}
        if isinstance(obj, OrderedDict) and "_metadata" in vars(obj):  # a state_dict's module versions
            r._metadata = vars(obj)["_metadata"]
        done[key] = r
        for k, v in obj.items():
            r[k] = _move(v, dev, done)
        return r
    elif isinstance(obj, list):
        r = done[key] = []
        r.extend(_move(v, dev, done) for v in obj)
        return r
    elif isinstance(obj, tuple) and type(obj) is tuple:
        r = tuple(_move(v, dev, done) for v in obj)
    else:
        return obj
    done[key] = r
    return r
