"""How engine classes print: as torch's (`type(x)` is `<class 'torch.Tensor'>`, a grad_fn's class is
`<class 'MulBackward0'>`), so that scripts printing types match PyTorch's output. Only the class's repr
changes; its module and name stay the engine's own."""

from __future__ import annotations


class TorchNamed(type):
    """Metaclass: a class prints as `<class '{_torch_name}'>`, with {name} replaced by the class's own name
    (subclasses inherit the pattern: every autograd node class prints as its bare name, as in torch)."""

    _torch_name = "{name}"

    def __repr__(cls) -> str:
        return f"<class '{cls._torch_name.format(name=cls.__name__)}'>"
