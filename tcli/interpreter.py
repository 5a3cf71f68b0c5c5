"""The tree-walking interpreter of tsr: one visit_<Node> method per node type in policy.VISITED_NODES.

Expression visitors return values; statement visitors return None, or a control signal (_BREAK,
_CONTINUE, _RETURN with the value in `self.retval`) that `exec_body` passes up to the loop or call that
consumes it, so control flow costs no exceptions. Dispatch goes through one dict of node type -> bound
method built at construction. Everything a script can reach beyond its own values goes through the
Prelude (builtins, attribute rules, imports, checked operators), so this file holds the language and
prelude.py/policy.py hold what it may touch.

Scopes follow Python: a function's locals are decided statically by the parser (parser.Scope); a name
is looked up in the local dict, then enclosing function frames, then globals, then the prelude builtins.
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Iterator
from itertools import islice
from typing import Any

from tcli import policy
from tcli.errors import UNCATCHABLE, add_call, tag
from tcli.parser import Scope

_MISSING: Any = object()
_Name = ast.Name
_BREAK: Any = object()
_CONTINUE: Any = object()
_RETURN: Any = object()
#: loop iterations between the periodic checks (deadline when no timer signal, process memory)
_TICK = 127


class Frame:
    """One scope: the module (scope None, vars is the globals dict), a call, or a comprehension."""

    __slots__ = ("vars", "scope", "parent", "is_comp", "qual")

    def __init__(self, vars: dict, scope: Scope | None, parent: Frame | None, is_comp: bool, qual: str) -> None:
        self.vars = vars
        self.scope = scope
        self.parent = parent
        self.is_comp = is_comp
        self.qual = qual


class _ArgSpec:
    """A function's parameters, precomputed once per def/lambda node."""

    __slots__ = ("positional", "posonly", "n_required", "kwonly", "vararg", "kwarg", "simple", "keywordable")

    def __init__(self, a: ast.arguments, n_defaults: int) -> None:
        self.posonly = tuple(p.arg for p in a.posonlyargs)
        self.positional = self.posonly + tuple(p.arg for p in a.args)
        self.n_required = len(self.positional) - n_defaults
        self.kwonly = tuple(p.arg for p in a.kwonlyargs)
        self.vararg = a.vararg.arg if a.vararg else None
        self.kwarg = a.kwarg.arg if a.kwarg else None
        self.simple = not (self.kwonly or self.vararg or self.kwarg)
        self.keywordable = frozenset(self.positional[len(self.posonly) :] + self.kwonly)


class Function:
    """A function defined in tsr. Not a Python function: it has no code object, globals or closure cells
    a script could reach (scripts see no attributes of it at all). Engine code may call it like any
    callable (hooks, decorators), which re-enters the interpreter."""

    __slots__ = ("name", "qualname", "node", "spec", "defaults", "kwdefaults", "closure", "interp", "__weakref__")

    def __init__(self, name, qualname, node, spec, defaults, kwdefaults, closure, interp) -> None:
        self.name = name
        self.qualname = qualname
        self.node = node
        self.spec = spec
        self.defaults = defaults
        self.kwdefaults = kwdefaults
        self.closure = closure
        self.interp = interp

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.interp.call_function(self, args, kwargs, None)

    def __repr__(self) -> str:
        return f"<function {self.qualname} at {id(self):#x}>"

    # read by functools.wraps in engine decorators such as torch.no_grad(); unreachable from scripts
    @property
    def __name__(self) -> str:  # type: ignore[override]
        return self.name

    @property
    def __doc__(self) -> str | None:  # type: ignore[override]
        body = getattr(self.node, "body", None)
        if isinstance(body, list) and body and type(body[0]) is ast.Expr:
            value = body[0].value
            if type(value) is ast.Constant and type(value.value) is str:
                return value.value
        return None


class _SiteHolder:
    """Stands in for engine.autograd until the engine is imported (it only receives current_site)."""

    current_site: Any = None


class Interpreter:
    def __init__(self, prelude: Any, limits: policy.Limits, globals_: dict | None = None) -> None:
        self.p = prelude
        self.limits = limits
        self.globals: dict[str, Any] = globals_ if globals_ is not None else {}
        self.builtins: dict[str, Any] = prelude.builtins
        self.module_frame = Frame(self.globals, None, None, False, "")
        self.frame = self.module_frame
        self.depth = 0
        self.retval: Any = None
        self.handling: list[BaseException] = []
        #: receives `current_site` before every statement (engine.autograd once the engine is loaded)
        self.site_hook: Any = _SiteHolder()
        #: polled in loops when the timeout cannot use a timer signal (not the main thread)
        self.deadline: float | None = None
        self._rules: dict[type, Callable[[Any, str], Any]] = {}
        self._binops: dict[Callable, Callable] = prelude.binary_operators
        self._inplace: dict[Callable, Callable] = prelude.inplace_operators
        self._guards: dict[type, Callable] = prelude.call_guards
        self._managers: dict[type, tuple[Callable, Callable]] = {}
        self._v: dict[type, Callable[[Any], Any]] = {
            getattr(ast, name): getattr(self, "visit_" + name) for name in policy.VISITED_NODES
        }

    # ------------------------------------------------------------------------------------------------
    # entry points
    # ------------------------------------------------------------------------------------------------

    def run_module(self, tree: ast.Module) -> None:
        self.frame = self.module_frame
        self.exec_body(tree.body)

    def eval_node(self, node: ast.expr) -> Any:
        self.frame = self.module_frame
        try:
            return self._v[node.__class__](node)
        except BaseException as e:
            tag(e, node)
            raise

    def exec_body(self, body: list[ast.stmt]) -> Any:
        v = self._v
        stmt = None
        try:
            for stmt in body:
                # read each time: the hook becomes engine.autograd when a statement imports torch
                self.site_hook.current_site = stmt.tsr_site  # type: ignore[attr-defined]
                r = v[stmt.__class__](stmt)
                if r is not None:
                    return r
        except BaseException as e:
            tag(e, stmt)
            raise
        return None

    def tick(self) -> None:
        """Periodic checks from loops: the polled deadline and the process memory limit."""
        self.p.periodic_check(self.deadline)

    # ------------------------------------------------------------------------------------------------
    # names
    # ------------------------------------------------------------------------------------------------

    def load_name(self, name: str) -> Any:
        f = self.frame
        v = f.vars.get(name, _MISSING)
        if v is not _MISSING:
            return v
        scope = f.scope
        if scope is not None:
            if name in scope.global_names:
                f = self.module_frame
            elif name in scope.local_names and not f.is_comp:
                raise UnboundLocalError(
                    f"cannot access local variable '{name}' where it is not associated with a value"
                )
            p = f.parent
            while p is not None and p.scope is not None:
                v = p.vars.get(name, _MISSING)
                if v is not _MISSING:
                    return v
                p = p.parent
            v = self.globals.get(name, _MISSING)
            if v is not _MISSING:
                return v
        v = self.builtins.get(name, _MISSING)
        if v is not _MISSING:
            return v
        raise NameError(f"name '{name}' is not defined")

    def store_name(self, name: str, value: Any) -> None:
        f = self.frame
        scope = f.scope
        if scope is None or name not in scope.special:
            f.vars[name] = value
        else:
            self._owner_of(name, f).vars[name] = value

    def delete_name(self, name: str) -> None:
        f = self.frame
        if f.scope is not None and name in f.scope.special:
            f = self._owner_of(name, f)
        if name not in f.vars:
            if f.scope is not None and name in f.scope.local_names:
                raise UnboundLocalError(
                    f"cannot access local variable '{name}' where it is not associated with a value"
                )
            raise NameError(f"name '{name}' is not defined")
        del f.vars[name]

    def _owner_of(self, name: str, f: Frame) -> Frame:
        """The frame a `global`/`nonlocal` name lives in."""
        assert f.scope is not None
        if name in f.scope.global_names:
            return self.module_frame
        p = f.parent
        while p is not None and p.scope is not None:
            if name in p.scope.local_names and not p.is_comp:
                return p
            p = p.parent
        raise SyntaxError(f"no binding for nonlocal '{name}' found")

    # ------------------------------------------------------------------------------------------------
    # assignment targets
    # ------------------------------------------------------------------------------------------------

    def assign(self, target: ast.expr, value: Any) -> None:
        kind = target.__class__
        if kind is ast.Name:
            self.store_name(target.id, value)  # type: ignore[attr-defined]
        elif kind is ast.Tuple or kind is ast.List:
            self._unpack(target.elts, value, target)  # type: ignore[attr-defined]
        elif kind is ast.Subscript:
            obj = self._v[target.value.__class__](target.value)  # type: ignore[attr-defined]
            key = self._v[target.slice.__class__](target.slice)  # type: ignore[attr-defined]
            try:
                obj[key] = value
            except BaseException as e:
                tag(e, target)
                raise
        elif kind is ast.Attribute:
            obj = self._v[target.value.__class__](target.value)  # type: ignore[attr-defined]
            try:
                self.p.set_attribute(obj, target.attr, value)  # type: ignore[attr-defined]
            except BaseException as e:
                tag(e, target)
                raise
        else:  # Starred outside a tuple, which the parser already rejects
            raise SyntaxError("starred assignment target must be in a list or tuple")

    def _unpack(self, elts: list[ast.expr], value: Any, target: ast.AST) -> None:
        n = len(elts)
        if type(value) is tuple and len(value) == n and not any(type(e) is ast.Starred for e in elts):
            items: Any = value
        else:
            try:
                it = iter(value)
            except TypeError:
                raise TypeError(f"cannot unpack non-iterable {type(value).__name__} object") from None
            star = [i for i, e in enumerate(elts) if type(e) is ast.Starred]
            if not star:
                items = tuple(islice(it, n + 1))
                if len(items) > n:
                    raise ValueError(f"too many values to unpack (expected {n})")
                if len(items) < n:
                    raise ValueError(f"not enough values to unpack (expected {n}, got {len(items)})")
            else:
                s = star[0]
                items = self.p.bounded_list(it)
                if len(items) < n - 1:
                    raise ValueError(f"not enough values to unpack (expected at least {n - 1}, got {len(items)})")
                tail = len(items) - (n - 1 - s)
                items = items[:s] + [items[s:tail]] + items[tail:]
                elts = [e.value if type(e) is ast.Starred else e for e in elts]  # type: ignore[attr-defined]
        for t, v in zip(elts, items):
            self.assign(t, v)

    # ------------------------------------------------------------------------------------------------
    # statements
    # ------------------------------------------------------------------------------------------------

    def visit_Module(self, node: ast.Module) -> Any:
        return self.exec_body(node.body)

    def visit_Expr(self, node: ast.Expr) -> None:
        self._v[node.value.__class__](node.value)

    def visit_Assign(self, node: ast.Assign) -> None:
        value = self._v[node.value.__class__](node.value)
        for target in node.targets:
            if target.__class__ is ast.Name:
                f = self.frame
                if f.scope is None or target.id not in f.scope.special:  # type: ignore[attr-defined]
                    f.vars[target.id] = value  # type: ignore[attr-defined]
                else:
                    self.store_name(target.id, value)  # type: ignore[attr-defined]
            else:
                self.assign(target, value)

    def visit_AnnAssign(self, node: ast.AnnAssign) -> None:
        if node.value is not None:
            self.assign(node.target, self._v[node.value.__class__](node.value))

    def visit_AugAssign(self, node: ast.AugAssign) -> None:
        target = node.target
        op = self._inplace[node.tsr_op]  # type: ignore[attr-defined]
        kind = target.__class__
        try:
            if kind is ast.Name:
                name = target.id  # type: ignore[attr-defined]
                f = self.frame
                current = f.vars.get(name, _MISSING)
                if current is _MISSING:
                    current = self.load_name(name)
                value = self._v[node.value.__class__](node.value)
                if f.scope is None or name not in f.scope.special:
                    f.vars[name] = op(current, value)
                else:
                    self.store_name(name, op(current, value))
            elif kind is ast.Attribute:
                obj = self._v[target.value.__class__](target.value)  # type: ignore[attr-defined]
                current = self.get_attribute(obj, target.attr)  # type: ignore[attr-defined]
                value = self._v[node.value.__class__](node.value)
                self.p.set_attribute(obj, target.attr, op(current, value))  # type: ignore[attr-defined]
            else:
                obj = self._v[target.value.__class__](target.value)  # type: ignore[attr-defined]
                key = self._v[target.slice.__class__](target.slice)  # type: ignore[attr-defined]
                value = self._v[node.value.__class__](node.value)
                obj[key] = op(obj[key], value)
        except BaseException as e:
            tag(e, node)
            raise

    def visit_If(self, node: ast.If) -> Any:
        if self._v[node.test.__class__](node.test):
            return self.exec_body(node.body)
        if node.orelse:
            return self.exec_body(node.orelse)
        return None

    def visit_For(self, node: ast.For) -> Any:
        iterable = self._v[node.iter.__class__](node.iter)
        try:
            it = iter(iterable)
        except TypeError as e:
            tag(e, node.iter)
            raise
        target = node.target
        body = node.body
        exec_body = self.exec_body
        simple = target.__class__ is ast.Name and (
            self.frame.scope is None or target.id not in self.frame.scope.special
        )  # type: ignore[attr-defined]
        vars_ = self.frame.vars
        name = target.id if simple else None  # type: ignore[attr-defined]
        n = 0
        for item in it:
            if simple:
                vars_[name] = item
            else:
                self.assign(target, item)
            r = exec_body(body)
            if r is not None:
                if r is _BREAK:
                    return None
                if r is not _CONTINUE:
                    return r
            n += 1
            if n & _TICK == 0:
                self.tick()
        if node.orelse:
            return exec_body(node.orelse)
        return None

    def visit_While(self, node: ast.While) -> Any:
        test = node.test
        ev = self._v[test.__class__]
        body = node.body
        exec_body = self.exec_body
        n = 0
        while ev(test):
            r = exec_body(body)
            if r is not None:
                if r is _BREAK:
                    return None
                if r is not _CONTINUE:
                    return r
            n += 1
            if n & _TICK == 0:
                self.tick()
        if node.orelse:
            return exec_body(node.orelse)
        return None

    def visit_Break(self, node: ast.Break) -> Any:
        return _BREAK

    def visit_Continue(self, node: ast.Continue) -> Any:
        return _CONTINUE

    def visit_Pass(self, node: ast.Pass) -> None:
        return None

    def visit_Return(self, node: ast.Return) -> Any:
        self.retval = None if node.value is None else self._v[node.value.__class__](node.value)
        return _RETURN

    def visit_FunctionDef(self, node: ast.FunctionDef) -> None:
        decorators = [self._v[d.__class__](d) for d in node.decorator_list]
        fn: Any = self._make_function(node, node.name)
        for deco in reversed(decorators):
            fn = self.call(deco, (fn,), None, node)
        self.store_name(node.name, fn)

    def visit_Lambda(self, node: ast.Lambda) -> Function:
        return self._make_function(node, "<lambda>")

    def _make_function(self, node: ast.FunctionDef | ast.Lambda, name: str) -> Function:
        a = node.args
        defaults = tuple(self._v[d.__class__](d) for d in a.defaults)
        kwdefaults = {p.arg: self._v[d.__class__](d) for p, d in zip(a.kwonlyargs, a.kw_defaults) if d is not None}
        spec = node.__dict__.get("tsr_spec")
        if spec is None:
            spec = node.tsr_spec = _ArgSpec(a, len(a.defaults))  # type: ignore[attr-defined]
        closure = self.frame if self.frame.scope is not None else self.module_frame
        return Function(name, self.frame.qual + name, node, spec, defaults, kwdefaults, closure, self)

    def visit_With(self, node: ast.With) -> Any:
        return self._with(node.items, 0, node.body)

    def _with(self, items: list[ast.withitem], i: int, body: list[ast.stmt]) -> Any:
        item = items[i]
        expr = item.context_expr
        manager = self._v[expr.__class__](expr)
        cls = type(manager)
        protocol = self._managers.get(cls)
        if protocol is None:
            enter, exit_ = getattr(cls, "__enter__", None), getattr(cls, "__exit__", None)
            if enter is None or exit_ is None:
                err = TypeError(f"'{cls.__name__}' object does not support the context manager protocol")
                tag(err, expr)
                raise err
            protocol = self._managers[cls] = (enter, exit_)
        enter, exit_ = protocol
        value = enter(manager)
        try:
            if item.optional_vars is not None:
                self.assign(item.optional_vars, value)
            r = self._with(items, i + 1, body) if i + 1 < len(items) else self.exec_body(body)
        except BaseException as e:
            # engine context managers get no traceback: nothing of the interpreter leaks through them
            if exit_(manager, type(e), e, None) and not isinstance(e, UNCATCHABLE):
                return None
            raise
        exit_(manager, None, None, None)
        return r

    def visit_Assert(self, node: ast.Assert) -> None:
        if not self._v[node.test.__class__](node.test):
            if node.msg is None:
                raise AssertionError
            raise AssertionError(self._v[node.msg.__class__](node.msg))

    def visit_Delete(self, node: ast.Delete) -> None:
        for target in node.targets:
            self._delete(target)

    def _delete(self, target: ast.expr) -> None:
        kind = target.__class__
        if kind is ast.Name:
            self.delete_name(target.id)  # type: ignore[attr-defined]
        elif kind is ast.Tuple or kind is ast.List:
            for t in target.elts:  # type: ignore[attr-defined]
                self._delete(t)
        elif kind is ast.Subscript:
            obj = self._v[target.value.__class__](target.value)  # type: ignore[attr-defined]
            key = self._v[target.slice.__class__](target.slice)  # type: ignore[attr-defined]
            del obj[key]
        else:
            obj = self._v[target.value.__class__](target.value)  # type: ignore[attr-defined]
            self.p.delete_attribute(obj, target.attr)  # type: ignore[attr-defined]

    def visit_Try(self, node: ast.Try) -> Any:
        if not node.finalbody:
            return self._try_except(node)
        try:
            r = self._try_except(node)
        finally:
            saved = self.retval
            f = self.exec_body(node.finalbody)
            if f is not None:
                # like Python: return/break/continue in finally replaces a pending exception or result
                return f  # noqa: B012
            self.retval = saved
        return r

    def _try_except(self, node: ast.Try) -> Any:
        try:
            r = self.exec_body(node.body)
        except BaseException as e:
            if not node.handlers or isinstance(e, UNCATCHABLE):
                raise
            for handler in node.handlers:
                if handler.type is None or self._matches(e, handler.type):
                    break
            else:
                raise
            return self._handle(handler, e)
        if r is None and node.orelse:
            return self.exec_body(node.orelse)
        return r

    def _matches(self, exc: BaseException, type_node: ast.expr) -> bool:
        classes = self._v[type_node.__class__](type_node)
        check = classes if isinstance(classes, tuple) else (classes,)
        for c in check:
            if not (isinstance(c, type) and issubclass(c, BaseException)):
                err = TypeError("catching classes that do not inherit from BaseException is not allowed")
                tag(err, type_node)
                raise err
        return isinstance(exc, classes)

    def _handle(self, handler: ast.ExceptHandler, exc: BaseException) -> Any:
        self.handling.append(exc)
        try:
            if handler.name:
                self.store_name(handler.name, exc)
            return self.exec_body(handler.body)
        finally:
            self.handling.pop()
            if handler.name:
                try:
                    self.delete_name(handler.name)
                except NameError:
                    pass

    def visit_Raise(self, node: ast.Raise) -> None:
        if node.exc is None:
            if not self.handling:
                raise RuntimeError("No active exception to reraise")
            raise self.handling[-1]
        exc = self._exception(self._v[node.exc.__class__](node.exc))
        if node.cause is not None:
            cause = self._v[node.cause.__class__](node.cause)
            exc.__cause__ = None if cause is None else self._exception(cause)
        exc.tsr_node = node  # type: ignore[attr-defined]
        exc.__dict__.pop("tsr_stack", None)
        raise exc

    @staticmethod
    def _exception(value: Any) -> BaseException:
        if isinstance(value, type) and issubclass(value, BaseException):
            value = value()
        if not isinstance(value, BaseException) or isinstance(value, UNCATCHABLE):
            raise TypeError("exceptions must derive from BaseException")
        return value

    def visit_Global(self, node: ast.Global) -> None:
        return None  # resolved statically (parser.Scope)

    def visit_Nonlocal(self, node: ast.Nonlocal) -> None:
        return None

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            try:
                module = self.p.import_module(alias.name)
                if alias.asname:
                    self.store_name(alias.asname, module)
                else:
                    top = alias.name.split(".")[0]
                    self.store_name(top, self.p.import_module(top))
            except BaseException as e:
                tag(e, alias if hasattr(alias, "lineno") else node)
                raise

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        if node.module == "__future__":
            return
        try:
            module = self.p.import_module(node.module or "")
            for alias in node.names:
                value = self.p.import_from(module, alias.name)
                self.store_name(alias.asname or alias.name, value)
        except BaseException as e:
            tag(e, node)
            raise

    # ------------------------------------------------------------------------------------------------
    # expressions
    # ------------------------------------------------------------------------------------------------

    def visit_Constant(self, node: ast.Constant) -> Any:
        return node.value

    def visit_Name(self, node: ast.Name) -> Any:
        v = self.frame.vars.get(node.id, _MISSING)
        if v is not _MISSING:
            return v
        try:
            return self.load_name(node.id)
        except NameError as e:
            tag(e, node)
            raise

    def visit_Attribute(self, node: ast.Attribute) -> Any:
        n = node.value
        obj = self.frame.vars.get(n.id, _MISSING) if n.__class__ is _Name else _MISSING  # type: ignore[attr-defined]
        if obj is _MISSING:
            obj = self._v[n.__class__](n)
        rule = self._rules.get(type(obj))
        if rule is None:
            rule = self._rules[type(obj)] = self.p.attribute_rule(type(obj))
        try:
            if node.tsr_sized:  # type: ignore[attr-defined]
                return self.p.sized_attribute(obj, node.attr, rule(obj, node.attr))
            return rule(obj, node.attr)
        except BaseException as e:
            tag(e, node)
            raise

    def get_attribute(self, obj: Any, name: str) -> Any:
        """An attribute read as a script does it (for getattr/hasattr, augmented assignment, completion)."""
        rule = self._rules.get(type(obj))
        if rule is None:
            rule = self._rules[type(obj)] = self.p.attribute_rule(type(obj))
        return self.p.sized_attribute(obj, name, rule(obj, name))

    def visit_Subscript(self, node: ast.Subscript) -> Any:
        obj = self._v[node.value.__class__](node.value)
        key = self._v[node.slice.__class__](node.slice)
        try:
            return obj[key]
        except BaseException as e:
            tag(e, node)
            raise

    def visit_Slice(self, node: ast.Slice) -> slice:
        v = self._v
        lo = None if node.lower is None else v[node.lower.__class__](node.lower)
        hi = None if node.upper is None else v[node.upper.__class__](node.upper)
        st = None if node.step is None else v[node.step.__class__](node.step)
        return slice(lo, hi, st)

    def visit_BinOp(self, node: ast.BinOp) -> Any:
        # operands that are names are read inline: they are most operands, and a call costs more than the read
        vars_ = self.frame.vars
        n = node.left
        left = vars_.get(n.id, _MISSING) if n.__class__ is _Name else _MISSING  # type: ignore[attr-defined]
        if left is _MISSING:
            left = self._v[n.__class__](n)
        n = node.right
        right = vars_.get(n.id, _MISSING) if n.__class__ is _Name else _MISSING  # type: ignore[attr-defined]
        if right is _MISSING:
            right = self._v[n.__class__](n)
        try:
            return self._binops[node.tsr_op](left, right)  # type: ignore[attr-defined]
        except BaseException as e:
            tag(e, node)
            raise

    def visit_UnaryOp(self, node: ast.UnaryOp) -> Any:
        operand = self._v[node.operand.__class__](node.operand)
        try:
            return node.tsr_op(operand)  # type: ignore[attr-defined]
        except BaseException as e:
            tag(e, node)
            raise

    def visit_BoolOp(self, node: ast.BoolOp) -> Any:
        v = self._v
        values = node.values
        is_and = node.op.__class__ is ast.And
        result = None
        for expr in values:
            result = v[expr.__class__](expr)
            if is_and:
                if not result:
                    return result
            elif result:
                return result
        return result

    def visit_Compare(self, node: ast.Compare) -> Any:
        v = self._v
        left = v[node.left.__class__](node.left)
        ops = node.tsr_ops  # type: ignore[attr-defined]
        try:
            if len(ops) == 1:
                right = v[node.comparators[0].__class__](node.comparators[0])
                return ops[0](left, right)
            result: Any = True
            for op, comp in zip(ops, node.comparators):
                right = v[comp.__class__](comp)
                result = op(left, right)
                if not result:
                    return result
                left = right
            return result
        except BaseException as e:
            tag(e, node)
            raise

    def visit_IfExp(self, node: ast.IfExp) -> Any:
        v = self._v
        if v[node.test.__class__](node.test):
            return v[node.body.__class__](node.body)
        return v[node.orelse.__class__](node.orelse)

    def visit_NamedExpr(self, node: ast.NamedExpr) -> Any:
        value = self._v[node.value.__class__](node.value)
        saved = self.frame
        f = saved
        while f.is_comp:  # a walrus in a comprehension binds in the enclosing scope
            f = f.parent  # type: ignore[assignment]
        self.frame = f
        try:
            self.store_name(node.target.id, value)
        finally:
            self.frame = saved
        return value

    def visit_Starred(self, node: ast.Starred) -> Any:
        raise SyntaxError("can't use starred expression here")

    # -- displays ---------------------------------------------------------------------------------------

    def _items(self, elts: list[ast.expr]) -> list:
        v = self._v
        out = []
        for e in elts:
            if e.__class__ is ast.Starred:
                inner = v[e.value.__class__](e.value)  # type: ignore[attr-defined]
                try:
                    out += self.p.bounded_list(inner)
                except BaseException as err:
                    tag(err, e)
                    raise
            else:
                out.append(v[e.__class__](e))
        self.p.check_length(len(out))
        return out

    def visit_List(self, node: ast.List) -> list:
        return self._items(node.elts)

    def visit_Tuple(self, node: ast.Tuple) -> tuple:
        elts = node.elts
        if len(elts) == 2 and elts[0].__class__ is not ast.Starred and elts[1].__class__ is not ast.Starred:
            v = self._v
            return (v[elts[0].__class__](elts[0]), v[elts[1].__class__](elts[1]))
        return tuple(self._items(elts))

    def visit_Set(self, node: ast.Set) -> set:
        return set(self._items(node.elts))

    def visit_Dict(self, node: ast.Dict) -> dict:
        v = self._v
        out: dict = {}
        for k, val in zip(node.keys, node.values):
            if k is None:
                mapping = v[val.__class__](val)
                if not hasattr(type(mapping), "keys"):
                    err = TypeError(f"'{type(mapping).__name__}' object is not a mapping")
                    tag(err, val)
                    raise err
                out.update(mapping)
            else:
                key = v[k.__class__](k)
                try:
                    out[key] = v[val.__class__](val)
                except TypeError as e:
                    tag(e, k)
                    raise
        return out

    def visit_JoinedStr(self, node: ast.JoinedStr) -> str:
        v = self._v
        parts = []
        for value in node.values:
            parts.append(v[value.__class__](value))
        out = "".join(parts)
        self.p.check_str_len(len(out))
        return out

    def visit_FormattedValue(self, node: ast.FormattedValue) -> str:
        v = self._v
        value = v[node.value.__class__](node.value)
        spec = "" if node.format_spec is None else v[node.format_spec.__class__](node.format_spec)
        try:
            return self.p.format_value(value, spec, node.conversion)
        except BaseException as e:
            tag(e, node)
            raise

    # -- comprehensions ---------------------------------------------------------------------------------

    def _comprehension(self, node: Any, emit: Callable[[], None]) -> None:
        """Run the generators of a comprehension in a scope of its own, calling emit for every match.
        The first iterable is evaluated in the enclosing scope, as in Python."""
        gens = node.generators
        first = self._v[gens[0].iter.__class__](gens[0].iter)
        saved = self.frame
        self.frame = Frame({}, node.tsr_scope, saved, True, saved.qual)
        try:
            self._comp_loop(gens, 0, first, emit)
        finally:
            self.frame = saved

    def _comp_loop(self, gens: list[ast.comprehension], i: int, iterable: Any, emit: Callable[[], None]) -> None:
        gen = gens[i]
        v = self._v
        target, ifs, last = gen.target, gen.ifs, i + 1 == len(gens)
        simple = target.__class__ is ast.Name
        vars_ = self.frame.vars
        try:
            it = iter(iterable)
        except TypeError as e:
            tag(e, gen.iter)
            raise
        n = 0
        for item in it:
            if simple:
                vars_[target.id] = item  # type: ignore[attr-defined]
            else:
                self.assign(target, item)
            n += 1
            if n & _TICK == 0:
                self.tick()
            if ifs and not all(v[c.__class__](c) for c in ifs):
                continue
            if last:
                emit()
            else:
                nxt = gens[i + 1].iter
                self._comp_loop(gens, i + 1, v[nxt.__class__](nxt), emit)

    def visit_ListComp(self, node: ast.ListComp) -> list:
        out: list = []
        elt, ev = node.elt, self._v[node.elt.__class__]
        append = out.append
        self._comprehension(node, lambda: append(ev(elt)))
        self.p.check_length(len(out))
        return out

    def visit_SetComp(self, node: ast.SetComp) -> set:
        out: set = set()
        elt, ev = node.elt, self._v[node.elt.__class__]
        add = out.add
        self._comprehension(node, lambda: add(ev(elt)))
        return out

    def visit_DictComp(self, node: ast.DictComp) -> dict:
        out: dict = {}
        k, kv = node.key, self._v[node.key.__class__]
        val, vv = node.value, self._v[node.value.__class__]

        def emit() -> None:
            key = kv(k)
            out[key] = vv(val)

        self._comprehension(node, emit)
        return out

    def visit_GeneratorExp(self, node: ast.GeneratorExp) -> Iterator:
        gens = node.generators
        first = self._v[gens[0].iter.__class__](gens[0].iter)
        return self._lazy(node, Frame({}, node.tsr_scope, self.frame, True, self.frame.qual), first)

    def _lazy(self, node: ast.GeneratorExp, frame: Frame, first: Any) -> Iterator:
        """A generator expression, evaluated lazily. Each step runs in the expression's own frame and
        hands the consumer's frame back before yielding (the consumer may be anywhere by then)."""
        pending: list = []
        elt, ev = node.elt, self._v[node.elt.__class__]

        def emit() -> None:
            pending.append(ev(elt))

        inner = _steps(self, node.generators, 0, first, emit, pending)
        while True:
            caller = self.frame
            self.frame = frame
            try:
                item = next(inner)
            except StopIteration:
                self.frame = caller
                return
            except BaseException:
                self.frame = caller
                raise
            self.frame = caller
            yield item

    # -- calls ------------------------------------------------------------------------------------------

    def visit_Call(self, node: ast.Call) -> Any:
        v = self._v
        func = v[node.func.__class__](node.func)
        kwargs = None
        if node.tsr_simple:  # type: ignore[attr-defined]
            args = node.args
            n = len(args)
            if n == 0:
                a: tuple = ()
            elif n == 1:
                a = (v[args[0].__class__](args[0]),)
            elif n == 2:
                a = (v[args[0].__class__](args[0]), v[args[1].__class__](args[1]))
            else:
                a = tuple([v[x.__class__](x) for x in args])
        else:
            a, kwargs = self._call_arguments(node)
        if func.__class__ is Function:
            return self.call_function(func, a, kwargs, node)
        if func.__class__ is type:
            func = self._guards.get(func, func)
        try:
            if kwargs:
                return func(*a, **kwargs)
            return func(*a)
        except BaseException as e:
            tag(e, node)
            raise

    def call(self, func: Any, args: tuple, kwargs: dict | None, node: ast.AST) -> Any:
        """Call a value as a script's call expression does (decorators use it)."""
        if func.__class__ is Function:
            return self.call_function(func, args, kwargs, node)
        if func.__class__ is type:
            func = self._guards.get(func, func)
        try:
            return func(*args, **(kwargs or {}))
        except BaseException as e:
            tag(e, node)
            raise

    def _call_arguments(self, node: ast.Call) -> tuple[tuple, dict]:
        v = self._v
        args: list = []
        for x in node.args:
            if x.__class__ is ast.Starred:
                value = v[x.value.__class__](x.value)  # type: ignore[attr-defined]
                try:
                    args += self.p.bounded_list(value)
                except TypeError:
                    err = TypeError(f"argument after * must be an iterable, not {type(value).__name__}")
                    tag(err, x)
                    raise err from None
            else:
                args.append(v[x.__class__](x))
        kwargs: dict = {}
        for kw in node.keywords:
            value = v[kw.value.__class__](kw.value)
            if kw.arg is None:
                if not hasattr(type(value), "keys"):
                    err = TypeError(f"argument after ** must be a mapping, not {type(value).__name__}")
                    tag(err, kw.value)
                    raise err
                for k in value.keys():
                    if k in kwargs:
                        err = TypeError(f"got multiple values for keyword argument '{k}'")
                        tag(err, kw.value)
                        raise err
                    kwargs[k] = value[k]
            else:
                if kw.arg in kwargs:
                    err = SyntaxError(f"keyword argument repeated: {kw.arg}")
                    tag(err, kw.value)
                    raise err
                kwargs[kw.arg] = value
        return tuple(args), kwargs

    def call_function(self, fn: Function, args: tuple, kwargs: dict | None, node: ast.AST | None) -> Any:
        if self.depth >= self.limits.max_call_depth:
            raise RecursionError(
                f"maximum recursion depth exceeded (tsr allows {self.limits.max_call_depth} nested calls)"
            )
        spec = fn.spec
        if not kwargs and spec.simple and len(args) == len(spec.positional):
            local = dict(zip(spec.positional, args))
        else:
            local = _bind(fn, args, kwargs or {})
        fnode = fn.node
        saved = self.frame
        hook = self.site_hook
        site = hook.current_site
        self.frame = Frame(local, fnode.tsr_scope, fn.closure, False, fn.qualname + ".<locals>.")
        self.depth += 1
        try:
            if fnode.__class__ is ast.Lambda:
                body = fnode.body
                return self._v[body.__class__](body)
            if self.exec_body(fnode.body) is _RETURN:
                r = self.retval
                self.retval = None
                return r
            return None
        except BaseException as e:
            if node is not None:
                add_call(e, node)
            raise
        finally:
            self.frame = saved
            self.depth -= 1
            hook.current_site = site


def _steps(interp: Interpreter, gens, i, iterable, emit, pending) -> Iterator:
    """The loops of a generator expression as a Python generator: yields each value `emit` made."""
    gen = gens[i]
    v = interp._v
    last = i + 1 == len(gens)
    try:
        it = iter(iterable)
    except TypeError as e:
        tag(e, gen.iter)
        raise
    for item in it:
        interp.assign(gen.target, item)
        if gen.ifs and not all(v[c.__class__](c) for c in gen.ifs):
            continue
        if last:
            emit()
            yield pending.pop()
        else:
            nxt = gens[i + 1].iter
            yield from _steps(interp, gens, i + 1, v[nxt.__class__](nxt), emit, pending)


def _bind(fn: Function, args: tuple, kwargs: dict) -> dict:
    """Python's argument binding, with Python's error messages."""
    spec = fn.spec
    name = fn.qualname
    params = spec.positional
    n_params = len(params)
    local: dict = {}
    if len(args) > n_params:
        if spec.vararg is None:
            raise _too_many(fn, len(args), sum(1 for k in kwargs if k in spec.kwonly))
        local[spec.vararg] = tuple(args[n_params:])
        args = args[:n_params]
    elif spec.vararg is not None:
        local[spec.vararg] = ()
    for p, a in zip(params, args):
        local[p] = a
    extra: dict | None = {} if spec.kwarg is not None else None
    for k, val in kwargs.items():
        if k in spec.keywordable:
            if k in local:
                raise TypeError(f"{name}() got multiple values for argument '{k}'")
            local[k] = val
        elif extra is not None:
            extra[k] = val
        elif k in spec.posonly:
            raise TypeError(f"{name}() got some positional-only arguments passed as keyword arguments: '{k}'")
        else:
            raise TypeError(f"{name}() got an unexpected keyword argument '{k}'")
    missing = []
    for i, p in enumerate(params):
        if p not in local:
            if i >= spec.n_required:
                local[p] = fn.defaults[i - spec.n_required]
            else:
                missing.append(p)
    if missing:
        raise TypeError(f"{name}() missing {len(missing)} required positional argument{_s(missing)}: {_names(missing)}")
    missing = []
    for p in spec.kwonly:
        if p not in local:
            if p in fn.kwdefaults:
                local[p] = fn.kwdefaults[p]
            else:
                missing.append(p)
    if missing:
        raise TypeError(
            f"{name}() missing {len(missing)} required keyword-only argument{_s(missing)}: {_names(missing)}"
        )
    if extra is not None:
        local[spec.kwarg] = extra
    return local


def _too_many(fn: Function, given: int, kwonly_given: int) -> TypeError:
    """CPython's message for too many positional arguments."""
    spec = fn.spec
    n = len(spec.positional)
    sig = f"from {spec.n_required} to {n}" if spec.n_required < n else str(n)
    extra = ""
    if kwonly_given:
        extra = (
            f" positional argument{'s' if given != 1 else ''} "
            f"(and {kwonly_given} keyword-only argument{'s' if kwonly_given != 1 else ''})"
        )
    was = "was" if given == 1 and not kwonly_given else "were"
    return TypeError(
        f"{fn.qualname}() takes {sig} positional argument{'' if n == 1 else 's'} but {given}{extra} {was} given"
    )


def _s(items: list) -> str:
    return "" if len(items) == 1 else "s"


def _names(items: list[str]) -> str:
    quoted = [f"'{x}'" for x in items]
    if len(quoted) == 1:
        return quoted[0]
    if len(quoted) == 2:
        return f"{quoted[0]} and {quoted[1]}"
    return ", ".join(quoted[:-1]) + f", and {quoted[-1]}"


def _check_visitors(cls: type) -> None:
    """The allowlist and the visitor must describe the same language."""
    visitors = {name[len("visit_") :] for name in dir(cls) if name.startswith("visit_")}
    if visitors != set(policy.VISITED_NODES):
        missing = sorted(set(policy.VISITED_NODES) - visitors)
        extra = sorted(visitors - set(policy.VISITED_NODES))
        raise AssertionError(f"interpreter/policy mismatch: no visitor for {missing}, visitors not allowed {extra}")
    unknown = [n for n in policy.ALLOWED_NODES if not hasattr(ast, n)]
    if unknown:
        raise AssertionError(f"policy names unknown node types: {unknown}")


_check_visitors(Interpreter)
