"""torch.nn.Parameter: a leaf tensor that a Module registers when it is assigned as an attribute.

A Tensor subclass (so isinstance(p, torch.Tensor) holds and every method applies) that shares its argument's
memory and version counter, as torch's Tensor._make_subclass does with a detached alias. Ops on parameters
build plain Tensors (the engine's ops construct Tensor, as torch's _disabled_torch_function_impl gives);
ops that return their input (p.float() of a float32 p, in-place methods) return the parameter itself, as in
torch."""

from __future__ import annotations

from typing import Any

from engine.tensor import Tensor

_new = object.__new__


class Parameter(Tensor):
    _torch_name = "torch.nn.parameter.Parameter"
    __slots__ = ()

    def __new__(cls, data: Any = None, requires_grad: bool = True) -> Parameter:
        if data is None:
            from engine.creation import empty

            data = empty(0)
        elif not isinstance(data, Tensor):
            data.detach  # noqa: B018 - torch calls data.detach() first: Python's AttributeError, worded as torch's
            raise TypeError(f"a Parameter is made from a Tensor, not from {type(data).__name__}")
        if requires_grad.__class__ is not bool:
            raise TypeError(
                f"_make_subclass(): argument 'require_grad' (position 3) must be bool, not "
                f"{type(requires_grad).__name__}"
            )
        d = data._data  # (reading it runs a pending fused recipe: the parameter holds an array)
        if requires_grad and d.dtype.kind not in "fc":
            raise RuntimeError("Only Tensors of floating point and complex dtype can require gradients")
        p = _new(cls)
        p._data = d
        p._dev = data._dev
        p._rg = requires_grad
        p.grad_fn = None
        p._grad = None
        p._vc = data._vc  # a detached alias: in-place changes through either show in both _version
        p._base = None
        p._accum = None
        p._meta = None
        return p

    def __repr__(self, *, tensor_contents: Any = None) -> str:
        from engine.printing import format_tensor

        return "Parameter containing:\n" + format_tensor(self)

    def __format__(self, spec: str) -> str:
        # torch's Tensor.__format__ formats the item of a 0-dim tensor only when type(self) is Tensor
        if spec:
            raise TypeError("unsupported format string passed to Parameter.__format__")
        return str(self)

    def __deepcopy__(self, memo: dict) -> Parameter:
        # torch's: a new parameter of a clone of the values; the gradient is not copied
        r = memo.get(id(self))
        if r is None:
            r = memo[id(self)] = Parameter(self.data.clone(), self._rg)
        return r

    def __reduce_ex__(self, proto: int) -> Any:
        return (Parameter, (self.data, self._rg))
