"""torch.autograd.graph: what autograd saves for backward, seen and hooked as torch shows it.

- `node._saved_self`, `_saved_other`, `_saved_result`, ... (torch's SavedVariable fields, named after the
  arguments in its derivatives.yaml): read from the node's saved tuple through a table of field names, so the
  autograd mechanics notes' `y.grad_fn._saved_self` runs.
- `saved_tensors_hooks(pack, unpack)`: while one is active, every tensor a node saves is handed to `pack`
  at once, and what `pack` returned to `unpack` when backward needs it. The node classes carry a plain
  `_saved` attribute; only while hooks are active does Node get a property that packs on assignment, so ops
  pay nothing otherwise. Packed items reach backward through the `_Deferred` path checkpoint uses.
"""

from __future__ import annotations

from typing import Any

from engine.autograd import FREED, BackwardTwiceError, Node, _Deferred, _Out
from engine.naming import type_name
from engine.tensor import Tensor

__all__ = ["Node", "disable_saved_tensors_hooks", "save_on_cpu", "saved_tensors_hooks"]

# ---- the saved fields ------------------------------------------------------------------------------------

_SELF_OTHER = ("self", "other")
#: node name -> the torch field name of each item of the node's saved tuple (None: not a torch field)
_FIELDS: dict[str, tuple] = {
    "MulBackward0": _SELF_OTHER,
    "DivBackward0": _SELF_OTHER,
    "PowBackward0": ("self", "exponent"),
    "PowBackward1": ("self", "exponent", "result"),
    "DotBackward0": ("self", "tensor"),
    "MmBackward0": ("self", "mat2"),
    "MaxBackward1": ("self", "result"),
    "MinBackward1": ("self", "result"),
    "SoftmaxBackward0": ("result", "dim"),
    "LogSoftmaxBackward0": ("result", "dim"),
    "ClampBackward1": ("self", "min", "max"),
    "SumBackward0": ("self_sym_sizes",),
    "MeanBackward0": ("self_sym_sizes", None, None, "self_sym_numel"),
    "StdMeanBackward0": ("self", "result0", "dim", "keepdim", "correction"),
    "VarMeanBackward0": ("self", "dim", "keepdim", "correction"),
    "AminmaxBackward0": ("self", "min", "max", "dim", "keepdim"),
    "FrexpBackward0": ("exponent",),
}


#: the order torch's node saves (and so packs and unpacks) its items in, where not the saved tuple's
_PACK_ORDER: dict[str, tuple] = {"MulBackward0": (1, 0), "DivBackward0": (1, 0), "PowBackward1": (1, 0, 2)}


def _fields(node: Node) -> tuple:
    names = _FIELDS.get(type_name(node))
    if names is not None:
        return names
    saved = node.__dict__.get("_saved", ())
    if saved is FREED or type(saved) is _Deferred:  # (a freed unary node: its kind from the version record)
        vers = node._vers
        return ("self", None) if len(vers) == 2 and vers[0] is not None else (None, "result")
    if len(saved) == 2 and saved[1] is None and isinstance(saved[0], Tensor):  # a unary op that saved its input
        return ("self", None)
    if len(saved) == 2 and saved[0] is None and type(saved[1]) is _Out:  # ... or its output
        return (None, "result")
    return ()


def saved_field(node: Node, name: str) -> Any:
    """`node._saved_<field>`: the tensor (or number, sizes, dim) torch's node saved under that name; torch's
    error once a backward freed it; AttributeError for a field the node does not have."""
    field = name[len("_saved_") :]
    names = _fields(node)
    if field not in names:
        raise AttributeError(f"'{type_name(node)}' object has no attribute '{name}'")
    i = names.index(field)
    if node._saved is FREED:
        raise BackwardTwiceError(node)
    vers = node._vers
    if i < len(vers) and vers[i] is None and isinstance(node._saved[i], (Tensor, _Out)):
        return None  # an operand torch did not save (only the other input's gradient needed it)
    value = node.unpack()[i]
    if field == "other" and type(value) in (int, float, complex):  # a number operand: torch's wrapped scalar
        from engine.creation import tensor
        from engine.dtypes import complex128, float64, int64

        return tensor(value, dtype={int: int64, float: float64, complex: complex128}[type(value)])
    if value is None or isinstance(value, (Tensor, int, float, complex)):
        return value
    if type(value) is tuple and all(type(v) is int for v in value):  # sizes
        return value
    # (an op whose fast path saved something else, an array or an engine view: not a field torch shows)
    raise AttributeError(f"'{type_name(node)}' object has no attribute '{name}'")


# ---- saved tensors hooks ---------------------------------------------------------------------------------

#: the active (pack, unpack) pairs, innermost last; and the message of an active disable_saved_tensors_hooks
_HOOKS: list = []
_DISABLED: list = []


class _Packed:
    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        self.value = value


def _get_saved(node: Node) -> Any:
    return node.__dict__.get("_saved", ())


def _set_saved(node: Node, value: Any) -> None:
    d = node.__dict__
    if type(value) is not tuple or not value or not _HOOKS:
        d["_saved"] = value
        return
    pack, unpack = _HOOKS[-1]
    vers = d.get("_vers")
    # (an op that records its version checks first says which operands torch saves: a * 3 keeps only 3)
    known = vers if vers is not None and len(vers) == len(value) else None
    items = list(value)
    order = [i for i in _PACK_ORDER.get(type_name(node), ()) if i < len(value)] or range(len(value))
    packed = []
    before = d.get("_saved")  # (an op that saves its operands first and its output after: each packed once)
    old = before.raw if type(before) is _Deferred and hasattr(before, "raw") else ()
    for i in order:
        s = value[i]
        if i < len(old) and old[i][0] is s:
            items[i] = old[i][1]
            if type(items[i]) is _Packed:
                packed.append(i)
            continue
        if type(s) is _Out:
            s = s.tensor(node)
        elif not isinstance(s, Tensor) or (known is not None and known[i] is None):
            continue
        items[i] = _Packed(pack(s))
        packed.append(i)
    if not packed:
        d["_saved"] = value
        return

    def fill(n: Node) -> tuple:
        out = list(items)
        for i in packed:  # (in the order they were packed, as torch unpacks them)
            r = unpack(items[i].value)
            if not isinstance(r, Tensor):
                raise TypeError(
                    f"Output of saved tensor unpack_hook expected to be a Tensor but got result of type {type_name(r)}"
                )
            out[i] = r
        n.__dict__["_saved"] = saved = tuple(out)  # (freed by the backward that used it, as any saved tuple)
        return saved

    deferred = _Deferred(fill)
    deferred.raw = [(v, items[i]) for i, v in enumerate(value)]  # type: ignore[attr-defined]
    d["_saved"] = deferred
    node._outs = True  # (so that backward reaches the items through unpack)


_PROPERTY = property(_get_saved, _set_saved)


def _push(pack: Any, unpack: Any) -> None:
    if _DISABLED:
        raise RuntimeError(_DISABLED[-1])
    if not _HOOKS:
        Node._saved = _PROPERTY  # type: ignore[assignment]
    _HOOKS.append((pack, unpack))


def _pop() -> None:
    _HOOKS.pop()
    if not _HOOKS:
        Node._saved = ()


class saved_tensors_hooks:  # noqa: N801 - torch's name
    """torch.autograd.graph.saved_tensors_hooks(pack_hook, unpack_hook): a context in which every tensor saved
    for backward goes through pack_hook when saved and unpack_hook when backward needs it."""

    def __init__(self, pack_hook: Any, unpack_hook: Any) -> None:
        self.pack_hook = pack_hook
        self.unpack_hook = unpack_hook

    def __enter__(self) -> None:
        _push(self.pack_hook, self.unpack_hook)

    def __exit__(self, *exc: object) -> None:
        _pop()


class save_on_cpu(saved_tensors_hooks):  # noqa: N801
    """torch.autograd.graph.save_on_cpu: saved tensors kept on the cpu, moved back to their device for
    backward (on the cpu itself, the tensors as they are)."""

    def __init__(self, pin_memory: bool = False, device_type: str = "cuda") -> None:
        def pack(t: Tensor) -> tuple:
            return (t.device, t.cpu())

        def unpack(packed: tuple) -> Tensor:
            device, t = packed
            return t.to(device, non_blocking=pin_memory)

        super().__init__(pack, unpack)


class disable_saved_tensors_hooks:  # noqa: N801
    """torch.autograd.graph.disable_saved_tensors_hooks(error_message): saved_tensors_hooks raise
    RuntimeError(error_message) inside it."""

    def __init__(self, error_message: str) -> None:
        self.error_message = error_message

    def __enter__(self) -> None:
        _DISABLED.append(self.error_message)

    def __exit__(self, *exc: object) -> None:
        _DISABLED.pop()
