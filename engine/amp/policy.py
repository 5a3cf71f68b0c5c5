"""Autocast's state and its per-op casting rule (torch's autocast dispatch key, as a decorator on the ops it
lists). An op in an autocast list runs, while autocast is on for its inputs' device, on inputs cast to the
autocast dtype ("lower"), to float32 ("fp32") or to the widest float type among them ("promote"); inside it
autocast is off, as torch excludes its key while the op runs, so the ops an op is made of are not cast again.
With autocast off anywhere the decorator costs one list read."""

from __future__ import annotations

import functools
from typing import Any

#: device type -> [enabled, dtype name, cache enabled]; dtypes are kept by name so this module imports nothing
STATE: dict = {"cpu": [False, "bfloat16", True], "cuda": [False, "float16", True]}
#: how many device types have autocast on now (0: every listed op runs as it is)
ACTIVE = [0]
#: autocast contexts entered and not left (the cast cache is cleared when the last one exits)
NESTING = [0]
#: float32 leaves that require grad, cast once per autocast region (torch's cached_cast): id -> (leaf, cast)
CACHE: dict = {}


def policy(cpu: str | None = None, cuda: str | None = None) -> Any:
    """The decorator for an op in torch's autocast lists: its policy on cpu and on cuda tensors."""
    rules = {"cpu": cpu, "cuda": cuda}

    def wrap(fn: Any) -> Any:
        @functools.wraps(fn)
        def op(*args: Any, **kwargs: Any) -> Any:
            if not ACTIVE[0]:
                return fn(*args, **kwargs)
            return _autocast_call(fn, rules, args, kwargs)

        return op

    return wrap


def _first_device(args: Any) -> Any:
    from engine.tensor import Tensor

    for a in args:
        if isinstance(a, Tensor):
            return a._dev.type
        if isinstance(a, (list, tuple)):
            d = _first_device(a)
            if d is not None:
                return d
    return None


def _autocast_call(fn: Any, rules: dict, args: tuple, kwargs: dict) -> Any:
    import engine.dtypes as D

    dev = _first_device((*args, *kwargs.values()))
    rule = rules.get(dev) if dev is not None else None
    state = STATE.get(dev)
    if rule is None or not state[0]:
        return fn(*args, **kwargs)
    if rule == "lower":
        target = getattr(D, state[1])
    elif rule == "fp32":
        target = D.float32
    else:
        target = _widest(args, kwargs, dev)
    if target is not None:
        args = tuple(_cast(a, target, dev, state[2] and rule == "lower") for a in args)
        kwargs = {k: _cast(v, target, dev, False) for k, v in kwargs.items()}
    ACTIVE[0], saved = 0, ACTIVE[0]
    try:
        return fn(*args, **kwargs)
    finally:
        ACTIVE[0] = saved


def _eligible(t: Any, dev: str) -> bool:
    from engine.tensor import Tensor

    # (torch casts floating tensors of the autocast device, never float64 ones)
    return isinstance(t, Tensor) and t._dev.type == dev and t.is_floating_point() and t.dtype.name != "float64"


def _widest(args: tuple, kwargs: dict, dev: str) -> Any:
    import engine.dtypes as D

    found = None
    for a in _flat((*args, *kwargs.values())):
        if _eligible(a, dev):
            found = a.dtype if found is None else D.promote_types(found, a.dtype)
    return found


def _flat(items: Any) -> Any:
    for a in items:
        if isinstance(a, (list, tuple)):
            yield from _flat(a)
        else:
            yield a


def _cast(a: Any, target: Any, dev: str, cache: bool) -> Any:
    if isinstance(a, (list, tuple)):
        return type(a)(_cast(e, target, dev, cache) for e in a)
    if not _eligible(a, dev) or a.dtype is target:
        return a
    if cache and a.is_leaf and a.requires_grad and a.dtype.name == "float32" and a._base is None:
        hit = CACHE.get(id(a))
        if hit is not None and hit[0] is a:
            return hit[1]
        r = a.to(target)
        CACHE[id(a)] = (a, r)
        return r
    return a.to(target)
