"""Generator functions: a tsr function whose body yields runs as a Python generator.

The interpreter's statement closures run a statement to its end and return a control signal; a generator
must stop in the middle of a statement and resume there. So a generator function's body is translated a
second way, here: each statement that contains a `yield` becomes a Python generator function of the frame
(`yield from` chains them, so suspension and resumption, send(), throw() and close() are Python's own), and
every other statement keeps its ordinary closure. No thread, no second interpreter loop: a yield costs one
Python generator switch per enclosing statement.

The parser allows `yield` where it is a whole statement's value (`yield x`, `x = yield y`, `yield from it`),
which is where tutorial code writes it, so only Expr and Assign statements yield themselves and only the
compound statements (if, for, while, with, try, match) contain them.
"""

from __future__ import annotations

import ast
import time
from collections.abc import Callable, Generator
from typing import Any

from tcli import policy
from tcli.errors import UNCATCHABLE, TsrTimeout, tag

#: statements that may hold a yield in their bodies; a yield itself sits in an Expr or Assign
_COMPOUND = (ast.If, ast.For, ast.While, ast.With, ast.Try, ast.Match)
_SCOPES = (ast.FunctionDef, ast.Lambda, ast.ClassDef)

GenCode = Callable[[Any], Generator]


def yields(node: ast.AST) -> bool:
    """Whether a statement yields when it runs (a nested function's or class's yields are its own)."""
    stack = [node]
    while stack:
        n = stack.pop()
        if type(n) is ast.Yield or type(n) is ast.YieldFrom:
            return True
        stack += [c for c in ast.iter_child_nodes(n) if not isinstance(c, _SCOPES)]
    return False


class Translator:
    """Translates the statements of one generator function; ordinary statements go to the interpreter."""

    def __init__(self, interp: Any) -> None:
        from tcli.interpreter import _BREAK, _CONTINUE, _handler_for

        self.i = interp
        self.BREAK, self.CONTINUE, self.handler_for = _BREAK, _CONTINUE, _handler_for

    def block(self, body: list[ast.stmt]) -> GenCode:
        """A statement list as a generator of the frame; its return value is the control signal."""
        i = self.i
        steps = tuple(
            (self.statement(s), None, s.tsr_site, s) if yields(s) else (None, i.compile(s), s.tsr_site, s)  # type: ignore[attr-defined]
            for s in body
        )
        hook = i.site_hook

        def block(f: Any) -> Generator:
            stmt = None
            try:
                for step in steps:
                    gen, run, site, stmt = step
                    hook.current_site = site
                    r = (yield from gen(f)) if gen is not None else run(f)
                    if r is not None:
                        return r
            except BaseException as e:
                tag(e, stmt)
                raise
            return None

        return block

    def statement(self, node: ast.stmt) -> GenCode:
        kind = type(node)
        if kind is ast.Expr or kind is ast.Assign:
            return self.yield_statement(node)  # type: ignore[arg-type]
        if kind is ast.If:
            return self.if_(node)  # type: ignore[arg-type]
        if kind is ast.For:
            return self.for_(node)  # type: ignore[arg-type]
        if kind is ast.While:
            return self.while_(node)  # type: ignore[arg-type]
        if kind is ast.With:
            return self.with_(node)  # type: ignore[arg-type]
        if kind is ast.Match:
            return self.match_(node)  # type: ignore[arg-type]
        assert kind is ast.Try, kind  # the parser lets a yield stand nowhere else
        return self.try_(node)  # type: ignore[arg-type]

    def match_(self, node: ast.Match) -> GenCode:
        select = self.i.match_selector(node)  # (the subject, patterns and guards hold no yield)
        bodies = [self.block(c.body) for c in node.cases]

        def match_(f: Any) -> Generator:
            i = select(f)
            return (yield from bodies[i](f)) if i >= 0 else None

        return match_

    def yield_statement(self, node: ast.Expr | ast.Assign) -> GenCode:
        y = node.value
        i = self.i
        value = i.compile(y.value) if y.value is not None else None  # type: ignore[attr-defined]
        stores = [i.target(t) for t in node.targets] if type(node) is ast.Assign else []
        if type(y) is ast.YieldFrom:

            def yield_from(f: Any) -> Generator:
                try:
                    it = iter(value(f))  # type: ignore[misc]
                except TypeError as e:
                    tag(e, y)
                    raise
                sent = yield from it
                for store in stores:
                    store(f, sent)

            return yield_from

        def yield_(f: Any) -> Generator:
            sent = yield (value(f) if value is not None else None)
            for store in stores:
                store(f, sent)

        return yield_

    def if_(self, node: ast.If) -> GenCode:
        test, body = self.i.compile(node.test), self.block(node.body)
        orelse = self.block(node.orelse) if node.orelse else None

        def if_(f: Any) -> Generator:
            if test(f):
                return (yield from body(f))
            if orelse is not None:
                return (yield from orelse(f))
            return None

        return if_

    def for_(self, node: ast.For) -> GenCode:
        i = self.i
        iterable, body, store = i.compile(node.iter), self.block(node.body), i.target(node.target)
        orelse = self.block(node.orelse) if node.orelse else None
        BREAK, CONTINUE = self.BREAK, self.CONTINUE

        def for_(f: Any) -> Generator:
            try:
                it = iter(iterable(f))
            except TypeError as e:
                tag(e, node.iter)
                raise
            n = 0
            for item in it:
                store(f, item)
                r = yield from body(f)
                if r is not None:
                    if r is BREAK:
                        return None
                    if r is not CONTINUE:
                        return r
                n += 1
                if n & 127 == 0:
                    i.tick()
            if orelse is not None:
                return (yield from orelse(f))
            return None

        return for_

    def while_(self, node: ast.While) -> GenCode:
        i = self.i
        test, body = i.compile(node.test), self.block(node.body)
        orelse = self.block(node.orelse) if node.orelse else None
        BREAK, CONTINUE = self.BREAK, self.CONTINUE

        def while_(f: Any) -> Generator:
            n = 0
            while test(f):
                r = yield from body(f)
                if r is not None:
                    if r is BREAK:
                        return None
                    if r is not CONTINUE:
                        return r
                n += 1
                if n & 127 == 0:
                    i.tick()
            if orelse is not None:
                return (yield from orelse(f))
            return None

        return while_

    def with_(self, node: ast.With) -> GenCode:
        i = self.i
        items = [(i.compile(w.context_expr), w.context_expr, i.target(w.optional_vars) if w.optional_vars else None)
                 for w in node.items]  # fmt: skip
        body = self.block(node.body)
        managers, protocol = i._managers, i.context_protocol

        def enter_item(f: Any, k: int) -> Generator:
            manager_c, expr, store = items[k]
            manager = manager_c(f)
            enter, exit_ = managers.get(type(manager)) or protocol(manager, expr)
            value = enter(manager)
            try:
                if store is not None:
                    store(f, value)
                r = yield from (enter_item(f, k + 1) if k + 1 < len(items) else body(f))
            except BaseException as e:
                if exit_(manager, type(e), e, None) and not isinstance(e, UNCATCHABLE):
                    return None
                raise
            exit_(manager, None, None, None)
            return r

        def with_(f: Any) -> Generator:
            return (yield from enter_item(f, 0))

        return with_

    def try_(self, node: ast.Try) -> GenCode:
        i, handler_for = self.i, self.handler_for
        body = self.block(node.body)
        orelse = self.block(node.orelse) if node.orelse else None
        final = self.block(node.finalbody) if node.finalbody else None
        handlers = i.handlers(node, self.block)

        def try_except(f: Any) -> Generator:
            try:
                r = yield from body(f)
            except BaseException as e:
                # (no script code outside a run: a generator Python closes as it collects it, after the run or
                # at the REPL's :reset, skips its except clauses and finally blocks, sec15)
                handler = handler_for(e, handlers, f) if i.live else None
                if handler is None:
                    raise
                _, _, store, unbind, handler_body = handler
                i.handling.append(e)
                try:
                    if store is not None:
                        store(f, e)
                    return (yield from handler_body(f))
                finally:
                    i.handling.pop()
                    if unbind is not None:
                        try:
                            unbind(f)
                        except NameError:
                            pass
            if r is None and orelse is not None:
                return (yield from orelse(f))
            return r

        if final is None:
            return try_except

        def try_finally(f: Any) -> Generator:
            try:
                r = yield from try_except(f)
            finally:
                if i.live:  # (see try_except: collected outside a run, the exception closing it goes on)
                    saved = i.retval
                    signal = yield from final(f)
                    if signal is not None:
                        return signal  # noqa: B012
                    i.retval = saved
            return r

        return try_finally


def _run(body: GenCode, frame: Any, interp: Any, RETURN: Any) -> Generator:
    """The Python generator behind a tsr one: the body, then its `return` value as StopIteration's."""
    r = yield from body(frame)
    if r is RETURN:
        r, interp.retval = interp.retval, None
        return r
    return None


class TsrGenerator:
    """What calling a tsr generator function returns. While it runs, the interpreter's current frame is the
    generator's own (for super() and graph()) and it counts as one call deep. Scripts see send, throw and
    close (policy.PLAIN_ATTRIBUTES["generator"]), nothing of the Python generator inside."""

    __slots__ = ("_gen", "_interp", "_frame", "_name", "__weakref__")

    def __init__(self, body: GenCode, frame: Any, interp: Any, name: str, RETURN: Any) -> None:
        self._gen = _run(body, frame, interp, RETURN)
        self._interp = interp
        self._frame = frame
        self._name = name

    def __iter__(self) -> TsrGenerator:
        return self

    def __next__(self) -> Any:
        return self._resume(self._gen.send, None)

    def send(self, value: Any) -> Any:
        return self._resume(self._gen.send, value)

    def throw(self, exc: Any) -> Any:
        from tcli.interpreter import _exception  # (the checks of `raise`: no faked Ctrl-C or timeout)

        return self._resume(self._gen.throw, _exception(exc))

    def close(self) -> None:
        self._resume(lambda _: self._gen.close(), None)

    def _resume(self, step: Callable[[Any], Any], arg: Any) -> Any:
        interp = self._interp
        if interp.depth >= interp.limits.max_call_depth:
            raise RecursionError(policy.RECURSION_MESSAGE)
        saved, site = interp.frame, interp.site_hook.current_site
        interp.frame = self._frame
        interp.depth += 1
        try:
            # (what it yields to its consumer, engine code too, passes the call gate, round 14)
            return interp.p.admit_value(step(arg))
        finally:
            interp.frame = saved
            interp.depth -= 1
            interp.site_hook.current_site = site

    def __del__(self) -> None:
        # Python closes a dropped generator so that its finally blocks and with-exits run (a `with
        # torch.no_grad():` around a yield restores grad mode). Only while a script runs under its limits:
        # a generator collected later (at exit, between REPL inputs) is dropped without running script code.
        interp = getattr(self, "_interp", None)
        if interp is None or not interp.live or self._gen.gi_frame is None:
            return
        try:
            self.close()
        except TsrTimeout:  # (__del__ cannot raise: the script's next loop step reports the timeout)
            interp.deadline = time.monotonic() - 1
        except BaseException:  # noqa: S110 - as in Python, an error closing a dropped generator is ignored
            pass

    def __repr__(self) -> str:
        return f"<generator object {self._name} at {id(self):#x}>"

    # Python's generators cannot be copied (nor may a copy walk into the interpreter behind this one)
    def __deepcopy__(self, memo: dict) -> Any:
        raise TypeError("cannot pickle 'generator' object")

    def __copy__(self) -> Any:
        raise TypeError("cannot pickle 'generator' object")

    def __reduce_ex__(self, protocol: Any) -> Any:
        raise TypeError("cannot pickle 'generator' object")


# Python's name for it, in messages such as "'generator' object is not subscriptable"
TsrGenerator.__name__ = TsrGenerator.__qualname__ = "generator"


def call(interp: Any, fn: Any, frame: Any) -> TsrGenerator:
    """A call of a generator function: the body does not start until the first next()."""
    from tcli.interpreter import _RETURN

    fnode = fn.node
    code = fnode.__dict__.get("tsr_gen_body")
    if code is None or code[0] is not interp:
        saved = interp._ctx
        interp._ctx = fnode.tsr_ctx
        try:
            body = Translator(interp).block(fnode.body)
        finally:
            interp._ctx = saved
        code = fnode.tsr_gen_body = (interp, body)
    return TsrGenerator(code[1], frame, interp, fn.qualname, _RETURN)
