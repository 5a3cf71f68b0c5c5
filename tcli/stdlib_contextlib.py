"""The `contextlib` facade: contextmanager (over a tsr generator function), nullcontext and suppress.

@contextmanager wraps a script's generator function; the manager it makes drives the tsr generator
(tcli/generators.py) with next() and throw() as Python's _GeneratorContextManager does, so the generator's code
runs as the script's, under its limits. The exceptions that end a run (--timeout, Ctrl-C: errors.UNCATCHABLE)
are never thrown into a script's generator, and no manager here can swallow them (the with statement lets
none be suppressed).
"""

from __future__ import annotations

from typing import Any

from tcli.errors import UNCATCHABLE


class _GeneratorContextManager:
    __slots__ = ("gen",)

    def __init__(self, gen: Any) -> None:
        self.gen = gen

    def __enter__(self) -> Any:
        try:
            return next(self.gen)
        except StopIteration:
            raise RuntimeError("generator didn't yield") from None

    def __exit__(self, typ: Any, value: Any, traceback: Any) -> bool:
        if typ is None:
            try:
                next(self.gen)
            except StopIteration:
                return False
            try:
                raise RuntimeError("generator didn't stop")
            finally:
                self.gen.close()
        if isinstance(value, UNCATCHABLE):
            return False
        if value is None:
            value = typ()
        try:
            self.gen.throw(value)
        except StopIteration as exc:
            return exc is not value
        except RuntimeError as exc:
            if exc is value:
                return False
            if isinstance(value, StopIteration) and exc.__cause__ is value:
                return False
            raise
        except BaseException as exc:
            if exc is not value:
                raise
            return False
        try:
            raise RuntimeError("generator didn't stop after throw()")
        finally:
            self.gen.close()


class nullcontext:  # noqa: N801
    __slots__ = ("enter_result",)

    def __init__(self, enter_result: Any = None) -> None:
        self.enter_result = enter_result

    def __enter__(self) -> Any:
        return self.enter_result

    def __exit__(self, *excinfo: Any) -> None:
        pass


class suppress:  # noqa: N801
    __slots__ = ("exceptions",)

    def __init__(self, *exceptions: Any) -> None:
        self.exceptions = exceptions

    def __enter__(self) -> None:
        pass

    def __exit__(self, exctype: Any, excinst: Any, exctb: Any) -> bool:
        if exctype is None or isinstance(excinst, UNCATCHABLE):
            return False
        return issubclass(exctype, self.exceptions)


for _cls in (_GeneratorContextManager, nullcontext, suppress):
    _cls.__module__ = "contextlib"


def make(p: Any) -> dict[str, Any]:
    def contextmanager(func: Any) -> Any:
        if not callable(func):
            raise TypeError(f"contextmanager in tsr decorates a generator function, not a '{type(func).__name__}'")

        def helper(*args: Any, **kwargs: Any) -> Any:
            return _GeneratorContextManager(func(*args, **kwargs))

        helper.__name__ = helper.__qualname__ = p.name_of(func)
        return helper

    p._handed_classes.update((nullcontext, suppress))
    return {"contextmanager": contextmanager, "nullcontext": nullcontext, "suppress": suppress}
