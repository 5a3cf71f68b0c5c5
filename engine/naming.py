"""How engine classes print: as torch's (`type(x)` is `<class 'torch.Tensor'>`, a grad_fn's class is
`<class 'MulBackward0'>`), so that scripts printing types match PyTorch's output. Only the class's repr
changes (and, for a C type, __name__ drops its dotted prefix as in torch); its module stays the engine's own."""

from __future__ import annotations

_TYPE_NAME = type.__dict__["__name__"]


class TorchNamed(type):
    """Metaclass: a class prints as `<class '{_torch_name}'>`, with {name} replaced by the class's own name
    (subclasses inherit the pattern: every autograd node class prints as its bare name, as in torch)."""

    _torch_name = "{name}"

    def __init__(cls, name: str, bases: tuple, ns: dict) -> None:
        type.__init__(cls, name, bases, ns)  # (not super(): tensortype is both an instance and a subclass)
        if ns.get("_c_type"):
            # one of torch's C types: Python's own messages name it by its full tp_name ("'torch.Size' object
            # is not callable", "must be torch.dtype, not torch.Size"), while its __name__ is the part after
            # the last dot (the property below): a heap type's tp_name is what type's own __name__ stores
            _TYPE_NAME.__set__(cls, cls._torch_name.format(name=name))

    @property
    def __name__(cls) -> str:  # type: ignore[override]
        name = _TYPE_NAME.__get__(cls)
        return name.rpartition(".")[2] if cls.__dict__.get("_c_type") else name

    @__name__.setter
    def __name__(cls, value: str) -> None:
        _TYPE_NAME.__set__(cls, value)

    def __repr__(cls) -> str:
        return f"<class '{cls._torch_name.format(name=cls.__name__)}'>"


class TorchModuleNamed(type):
    """Metaclass: a class prints as `<class 'torch.{module}.{name}'>`, its engine module read as torch's
    (engine.distributions.normal.Normal is torch.distributions.normal.Normal); a class may name its torch
    module in `_torch_module` where the engine splits one of torch's modules into several."""

    def __repr__(cls) -> str:
        mod = cls.__module__
        if mod.startswith("engine."):
            mod = getattr(cls, "_torch_module", None) or "torch." + mod[len("engine.") :]
        return f"<class '{mod}.{cls.__qualname__}'>"


def object_repr(self: object) -> str:
    """object.__repr__ as torch's objects print (`<torch.utils.data.dataloader.DataLoader object at 0x...>`):
    an engine class with its own _torch_name shows that path; any other class, a script's subclass included,
    prints as Python prints it. The class's __module__ stays the engine's (tsr's sandbox reads it)."""
    cls = type(self)
    name = cls.__dict__.get("_torch_name")
    if name is None:
        return object.__repr__(self)
    return f"<{name.format(name=cls.__name__)} object at {id(self):#x}>"


class _Result(tuple, metaclass=TorchNamed):
    """torch.return_types.X: a named tuple of tensors that prints as torch prints it."""

    _torch_name = "torch.return_types.{name}"
    _name = "result"
    _names: tuple = ()
    __slots__ = ()

    def __new__(cls, *items: object) -> _Result:
        return tuple.__new__(cls, items)

    def __repr__(self) -> str:
        body = ",\n".join(f"{f}={v!r}" for f, v in zip(self._names, self))
        return f"torch.return_types.{self._name}(\n{body})"

    __str__ = __repr__


def result_type(name: str, *fields: str) -> type:
    """The torch.return_types class `name` with these fields (slogdet: sign, logabsdet; aminmax: min, max)."""
    import operator

    # (_c_type: a structseq's tp_name is the dotted torch.return_types.<name>, which Python's messages print)
    ns: dict = {"__slots__": (), "_name": name, "_names": fields, "__qualname__": name, "_c_type": True}
    for i, f in enumerate(fields):
        ns[f] = property(operator.itemgetter(i))
    return type(name, (_Result,), ns)


def type_name(x: object) -> str:
    """The name of x's class as Python's own messages print it (its tp_name): `torch.Size` for torch's C
    types, whose __name__ is the short `Size`; any other class's __name__."""
    return _TYPE_NAME.__get__(type(x))
