"""torch.save / torch.load for tensors and containers of tensors, as numpy .npz archives.

Only arrays and plain containers are written (never pickled objects), so loading a file cannot run
code. The host (tcli) decides which paths a script may touch."""

from __future__ import annotations

import json
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


def save(obj: Any, f: Any) -> None:
    arrays: dict = {}
    spec = _flatten(obj, arrays)
    arrays["__spec__"] = np.frombuffer(json.dumps(spec).encode(), dtype=np.uint8)
    if isinstance(f, str) and not f.endswith(".npz"):
        with open(f, "wb") as fh:
            np.savez(fh, **arrays)
        return
    np.savez(f, **arrays)


def load(f: Any, map_location: Any = None, weights_only: bool = True) -> Any:
    name = f if isinstance(f, str) else getattr(f, "name", "the file")
    try:
        z = np.load(f, allow_pickle=False)
    except (FileNotFoundError, PermissionError, IsADirectoryError):
        raise
    except (ValueError, OSError):  # not a zip or npy file at all (numpy's text would suggest unpickling it)
        raise RuntimeError(f"{name} is not a file written by this engine's torch.save") from None
    with z:
        if "__spec__" not in getattr(z, "files", ()):
            pickled = any(k.endswith("data.pkl") or k.endswith("data") for k in getattr(z, "files", ()))
            what = "a PyTorch checkpoint (pickle)" if pickled else "not a file written by this engine's torch.save"
            raise RuntimeError(
                f"{name} is {what}; the engine reads only its own torch.save files (numpy archives) and never "
                "unpickles, since a pickle can run code"
            )
        spec = json.loads(bytes(z["__spec__"]).decode())
        arrays = {k: z[k] for k in z.files if k != "__spec__"}
    obj = _unflatten(spec, arrays)
    if map_location is not None:
        from engine.backend import to_device

        dev = to_device(map_location)
        obj = _move(obj, dev)
    return obj


def _move(obj: Any, dev: Any) -> Any:
    if isinstance(obj, Tensor):
        return obj.to(dev)
    if isinstance(obj, dict):
        return {k: _move(v, dev) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_move(v, dev) for v in obj]
    if isinstance(obj, tuple):
        return tuple(_move(v, dev) for v in obj)
    return obj
