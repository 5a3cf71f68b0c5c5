"""The `abc` facade: ABC and abstractmethod, the base-class pattern of learner code
(`class Layer(ABC): @abstractmethod def forward(self, x): ...`).

ABC's metaclass is tcli's own ABCType, not Python's ABCMeta (whose register, __subclasshook__ and instance
checks are machinery a script has no use for): it only records the abstract methods a class leaves
unimplemented in `__abstractmethods__`, which is what makes Python's object.__new__ refuse to build an
instance ("Can't instantiate abstract class ..."), word for word as CPython says it. abstractmethod marks only
a method a tsr class body made (a script function turned method): it sets no attribute on any other object.
"""

from __future__ import annotations

from typing import Any


class ABCType(type):
    def __new__(mcls, name: str, bases: tuple, ns: dict) -> Any:  # noqa: N804
        cls = super().__new__(mcls, name, bases, ns)
        abstracts = {key for key, value in ns.items() if getattr(value, "__isabstractmethod__", False) is True}
        for base in bases:
            for key in getattr(base, "__abstractmethods__", ()):
                if getattr(getattr(cls, key, None), "__isabstractmethod__", False) is True:
                    abstracts.add(key)
        cls.__abstractmethods__ = frozenset(abstracts)
        return cls


ABCType.__name__ = ABCType.__qualname__ = "ABCMeta"


class ABC(metaclass=ABCType):
    __slots__ = ()


ABC.__module__ = "abc"


def make(p: Any) -> dict[str, Any]:
    from tcli.prelude import _SCRIPT_METHODS

    def abstractmethod(funcobj: Any) -> Any:
        if funcobj not in _SCRIPT_METHODS:
            raise TypeError("abstractmethod in tsr decorates a method in a class body")
        funcobj.__isabstractmethod__ = True
        return funcobj

    p._handed_classes.add(ABC)
    p.add_class_base(ABC)
    return {"ABC": ABC, "abstractmethod": abstractmethod}
