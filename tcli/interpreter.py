"""The tsr interpreter: one visit_<Node> method per node type in policy.VISITED_NODES.

Each visit method reads its node once and returns a small closure that does that node's work; running a
program runs the closures. The tree is walked once per piece of code (a function body on its first call),
not on every execution, so a loop body costs about one closure call per node instead of a dispatch, field
reads and a call: per-op overhead is a product feature. Nothing is compiled or evaluated as Python; the
closures are fixed functions of this module, parameterised by the node's fields.

Expression closures take the current Frame and return a value. Statement closures take the Frame and
return None or a control signal (_BREAK, _CONTINUE, _RETURN with the value in `retval`), which blocks pass
up to the loop or call that consumes it, so control flow costs no exceptions.

Scopes follow Python and are decided while translating: the parser has computed each function's locals
(parser.Scope), so every name read or write is translated for where it lives (a local, a global, a free
variable of an enclosing function, a comprehension variable). Everything a script reaches beyond its own
values goes through the Prelude (builtins, attribute rules, imports, checked operators).
"""

from __future__ import annotations

import ast
import types
from collections.abc import Callable, Iterator
from itertools import islice
from typing import Any

from tcli import generators, policy
from tcli import prelude as prelude_module
from tcli.errors import (
    UNCATCHABLE,
    is_refusal,
    left_function,
    note_lookup,
    private_attribute_error,
    refusal,
    set_node,
    site_of,
    tag,
    tp_name,
)
from tcli.parser import Scope, is_wildcard, sequence_strategy
from tcli.prelude import (
    _CONTAINERS,
    _GATE_KINDS,
    _SCRIPT_METHODS,
    Checked,
    _is_script_class,
    check_own_name,
    exception_tag_message,
    refuse_array,
    register_script_class,
)
from tcli.script_dataclass import ANNOTATED

_MISSING: Any = object()
#: where a method's frame keeps its class and first argument, for super()
_CLASS_KEY, _SELF_KEY = "<class>", "<self>"
_BREAK: Any = object()
_CONTINUE: Any = object()
_RETURN: Any = object()
#: a tensor's attributes torch shows otherwise for a forward-AD dual tensor than the engine's graph says
AUTOGRAD_SHOWN = frozenset({"requires_grad", "grad_fn", "is_leaf"})
#: the errors a torch function may raise of its own where torch's argument parser refuses the arguments first
#: (and any TypeError of the engine's own: elementwise's NotOperand)
_PARSER_REFUSED = frozenset({TypeError, ValueError, AttributeError, IndexError, RuntimeError})
#: loop iterations between the periodic checks (deadline when no timer signal, process memory)
_TICK = 127

Code = Callable[[Any], Any]


class Frame:
    """One scope at run time: the module (scope None, vars is the globals dict), a call, or a comprehension."""

    __slots__ = ("vars", "scope", "parent", "is_comp")

    def __deepcopy__(self, memo: dict) -> Frame:  # (kept as itself, as the interpreter is)
        return self

    def __init__(self, vars: dict, scope: Scope | None, parent: Frame | None, is_comp: bool) -> None:
        self.vars = vars
        self.scope = scope
        self.parent = parent
        self.is_comp = is_comp


#: what prelude.admit_callable looks at: C functions that a call could run, or hand on to engine code
_GATED = types.BuiltinFunctionType


def _assigned_names(stmt: ast.stmt) -> list[str]:
    if type(stmt) is ast.AnnAssign:  # (a bare `name: type` too: checked like an assignment)
        return [stmt.target.id] if type(stmt.target) is ast.Name else []
    return [t.id for t in stmt.targets if type(t) is ast.Name] if type(stmt) is ast.Assign else []  # type: ignore[attr-defined]


class _Ctx:
    """The scope code is being translated for: "module", "function" or "comp" (a comprehension)."""

    __slots__ = ("kind", "scope", "parent", "qual", "class_names")

    def __init__(self, kind: str, scope: Scope | None, parent: _Ctx | None, qual: str) -> None:
        self.kind = kind
        self.scope = scope
        self.parent = parent
        self.qual = qual  # qualname prefix of functions defined here
        # in a class body: the names the body binds, read from the class being built first (`h = d * 4`,
        # `@c.setter`), as Python reads them from the class namespace; never seen by nested functions
        self.class_names: frozenset[str] = frozenset()


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

    __slots__ = (
        "name", "qualname", "node", "spec", "defaults", "kwdefaults", "closure", "interp", "owner", "__weakref__"
    )  # fmt: skip

    def __init__(self, name, qualname, node, spec, defaults, kwdefaults, closure, interp) -> None:
        self.owner: type | None = None  # the class of a method (for super())
        self.name = name
        self.qualname = qualname
        self.node = node
        self.spec = spec
        self.defaults = defaults
        self.kwdefaults = kwdefaults
        self.closure = closure
        self.interp = interp

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        # (called from outside the interpreter: what it returns to engine code passes the call gate, round 14)
        return self.interp.p.admit_value(self.interp.call_function(self, args, kwargs, None))

    def __repr__(self) -> str:
        return f"<function {self.qualname} at {id(self):#x}>"

    def __copy__(self) -> Function:
        return self  # (copy.deepcopy(model) keeps a model's hooks and methods, as Python copies functions)

    __array__ = refuse_array  # (numpy and torch never read a function as data)

    def __deepcopy__(self, memo: dict) -> Function:
        return self

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


class GeneratorFunction(Function):
    """A tsr function whose body yields: calling it binds the arguments and returns a generator that has not
    started (a distinct class, so ordinary calls pay nothing for generators)."""

    __slots__ = ()

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        local = _bind(self, args, kwargs)
        if self.owner is not None:
            local[_CLASS_KEY] = self.owner
            local[_SELF_KEY] = local.get(self.spec.positional[0]) if self.spec.positional else None
        frame = Frame(local, self.node.tsr_scope, self.closure, False)
        return generators.call(self.interp, self, frame)


# what Python's messages name them ("'function' object is not subscriptable"); the qualnames stay the classes'
Function.__name__ = GeneratorFunction.__name__ = "function"


class _SiteHolder:
    """Stands in for engine.autograd until the engine is imported (it only receives current_site)."""

    current_site: Any = None


def _fail(exc: BaseException, node: ast.AST) -> BaseException:
    set_node(exc, node)
    return exc


def _unbound(name: str) -> UnboundLocalError:
    return UnboundLocalError(f"cannot access local variable '{name}' where it is not associated with a value")


class Interpreter:
    def __init__(self, prelude: Any, limits: policy.Limits, globals_: dict | None = None) -> None:
        self.p = prelude
        self.limits = limits
        self.globals: dict[str, Any] = globals_ if globals_ is not None else {}
        self.builtins: dict[str, Any] = prelude.builtins
        self.module_frame = Frame(self.globals, None, None, False)
        #: the frame of the innermost running tsr function (for graph() to name local tensors)
        self.frame = self.module_frame
        self.depth = 0
        self.retval: Any = None
        self.handling: list[BaseException] = []
        #: receives `current_site` before every statement (engine.autograd once the engine is loaded)
        self.site_hook: Any = _SiteHolder()
        #: polled in loops when the timeout cannot use a timer signal (not the main thread)
        self.deadline: float | None = None
        #: whether a script is running under the session's limits (a dropped generator is closed only then)
        self.live = False
        self._rules: dict[type, Callable[[Any, str], Any]] = {}
        self._binops: dict[Callable, Callable] = prelude.binary_operators
        self._inplace: dict[Callable, Callable] = prelude.inplace_operators
        self._guards: dict[type, Callable] = prelude.call_guards
        self._managers: dict[type, tuple[Callable, Callable]] = {}
        #: the namespaces of the class statements running now, innermost last (what a class body's names read)
        self._class_ns: list[dict[str, Any]] = []
        self._module_ctx = _Ctx("module", None, None, "")
        self._ctx = self._module_ctx
        self._v: dict[type, Callable[[Any], Code]] = {
            getattr(ast, name): getattr(self, "visit_" + name) for name in policy.VISITED_NODES
        }

    # copy.deepcopy of a script's value may walk into the interpreter (an exception's node caches its code):
    # it is kept as itself, so no copy walks on into the session and no memo can hand its parts to a script
    def __deepcopy__(self, memo: dict) -> Interpreter:
        return self

    def __copy__(self) -> Interpreter:
        return self

    # ------------------------------------------------------------------------------------------------
    # entry points
    # ------------------------------------------------------------------------------------------------

    def run_module(self, tree: ast.Module) -> None:
        self.frame = self.module_frame
        self._compiled(tree, self._module_ctx)(self.module_frame)

    def eval_node(self, node: ast.expr) -> Any:
        """Evaluate an expression of the module (the REPL's trailing expression; :time re-evaluates it)."""
        self.frame = self.module_frame
        code = self._compiled(node, self._module_ctx)
        try:
            return code(self.module_frame)
        except BaseException as e:
            tag(e, node)
            raise

    def reset(self) -> None:
        """After a run that failed inside tsr functions: back to module level, nothing being handled."""
        self.frame = self.module_frame
        self.depth = 0
        self.handling.clear()

    def _compiled(self, node: ast.AST, ctx: _Ctx) -> Code:
        """The closure of a node, translated on first use and kept on the node."""
        cached = node.__dict__.get("tsr_code")
        if cached is not None and cached[0] is self:
            return cached[1]
        code = self.compile(node, ctx)
        node.tsr_code = (self, code)  # type: ignore[attr-defined]
        return code

    def compile(self, node: ast.AST, ctx: _Ctx | None = None) -> Code:
        if ctx is None:
            return self._v[node.__class__](node)
        saved = self._ctx
        self._ctx = ctx
        try:
            return self._v[node.__class__](node)
        finally:
            self._ctx = saved

    def _c(self, node: ast.AST) -> Code:
        return self._v[node.__class__](node)

    def tick(self) -> None:
        """Periodic checks from loops: the polled deadline and the process memory limit."""
        self.p.periodic_check(self.deadline)

    def block(self, body: list[ast.stmt]) -> Code:
        """A statement list: sets the engine's current site before each statement (for autograd hints) and
        tags errors with the statement that was running."""
        steps = tuple((self._c(s), s.tsr_site, s) for s in body)  # type: ignore[attr-defined]
        interp = self

        def block(f: Frame) -> Any:
            stmt = None
            try:
                for step in steps:
                    run, site, stmt = step
                    interp.site_hook.current_site = site
                    r = run(f)
                    if r is not None:
                        return r
            except BaseException as e:
                tag(e, stmt)  # type: ignore[arg-type]
                raise
            return None

        return block

    # ------------------------------------------------------------------------------------------------
    # names: translated for the scope they are read or written in
    # ------------------------------------------------------------------------------------------------

    def _where(self, name: str, ctx: _Ctx) -> str:
        """'module', 'local', 'global', 'nonlocal' or 'free' for a name used in ctx."""
        if ctx.kind == "module":
            return "module"
        scope = ctx.scope
        assert scope is not None
        if name in scope.global_names:
            return "global"
        if name in scope.nonlocal_names:
            return "nonlocal"
        if name in scope.local_names:
            return "local"
        return "free"

    def load(self, name: str, node: ast.AST) -> Code:
        code = self._load(name, node)
        if name not in self._ctx.class_names:
            return code
        stack = self._class_ns

        def load_class(f: Frame) -> Any:  # a name the class body bound before: the class namespace's value
            v = stack[-1].get(name, _MISSING) if stack else _MISSING
            return code(f) if v is _MISSING else v

        return load_class

    def _load(self, name: str, node: ast.AST) -> Code:
        where = self._where(name, self._ctx)
        g, b = self.globals, self.builtins
        comp = self._ctx.kind == "comp"

        def not_defined(f: Frame) -> NameError:
            err = NameError(f"name '{name}' is not defined")
            note_lookup(err, "name", name, f, g, b)  # (for the error's "Did you mean", if it is reported)
            return _fail(err, node)  # type: ignore[return-value]

        if where == "module":

            def load_module(f: Frame) -> Any:
                v = f.vars.get(name, _MISSING)
                if v is _MISSING:
                    v = b.get(name, _MISSING)
                    if v is _MISSING:
                        raise not_defined(f)
                return v

            return load_module
        if where == "global":

            def load_global(f: Frame) -> Any:
                v = g.get(name, _MISSING)
                if v is _MISSING:
                    v = b.get(name, _MISSING)
                    if v is _MISSING:
                        raise not_defined(f)
                return v

            return load_global
        if where == "local":

            def load_local(f: Frame) -> Any:
                v = f.vars.get(name, _MISSING)
                if v is _MISSING:
                    raise _fail(_unbound(name), node) if not comp else not_defined(f)
                return v

            return load_local

        def load_free(f: Frame) -> Any:  # an enclosing function's variable, else a global, else a builtin
            p = f.parent
            while p is not None and p.scope is not None:
                v = p.vars.get(name, _MISSING)
                if v is not _MISSING:
                    return v
                p = p.parent
            v = g.get(name, _MISSING)
            if v is _MISSING:
                v = b.get(name, _MISSING)
                if v is _MISSING:
                    raise not_defined(f)
            return v

        return load_free

    def store(self, name: str, ctx: _Ctx | None = None) -> Callable[[Frame, Any], None]:
        ctx = ctx or self._ctx
        where = self._where(name, ctx)
        g = self.globals
        if where in ("module", "local"):

            def store_here(f: Frame, value: Any) -> None:
                f.vars[name] = value

            return store_here
        if where == "global":

            def store_global(f: Frame, value: Any) -> None:
                g[name] = value

            return store_global
        if where == "nonlocal":

            def store_nonlocal(f: Frame, value: Any) -> None:
                _owner(f, name).vars[name] = value

            return store_nonlocal
        # a free name written in a comprehension (a walrus): it binds in the enclosing function or module
        outer = ctx.parent
        assert outer is not None
        up = self.store(name, outer)

        def store_outer(f: Frame, value: Any) -> None:
            while f.is_comp:
                f = f.parent  # type: ignore[assignment]
            up(f, value)

        return store_outer

    def delete(self, name: str, node: ast.AST) -> Code:
        where = self._where(name, self._ctx)

        def delete(f: Frame) -> None:
            target = self.module_frame if where == "global" else _owner(f, name) if where == "nonlocal" else f
            if name not in target.vars:
                if where == "local":
                    raise _fail(_unbound(name), node)
                raise _fail(NameError(f"name '{name}' is not defined"), node)
            del target.vars[name]

        return delete

    # ------------------------------------------------------------------------------------------------
    # assignment targets
    # ------------------------------------------------------------------------------------------------

    def target(self, node: ast.expr) -> Callable[[Frame, Any], None]:
        kind = node.__class__
        if kind is ast.Name:
            return self.store(node.id)  # type: ignore[attr-defined]
        if kind is ast.Tuple or kind is ast.List:
            return self._unpacker(node.elts, node)  # type: ignore[attr-defined]
        if kind is ast.Subscript:
            obj_c, key_c = self._c(node.value), self._c(node.slice)  # type: ignore[attr-defined]
            p = self.p
            gate, admit_value, ndarray = _GATE_KINDS, p.admit_value, prelude_module._NDARRAY

            def store_item(f: Frame, value: Any) -> None:
                obj = obj_c(f)
                key = key_c(f)
                # an item stored is handed on as an argument is (a list the engine holds: sched.lr_lambdas[0] = f),
                # and numpy reads what an array's item is set to as np.full reads its fill (round 14)
                if value.__class__ in gate:
                    admit_value(value)
                if obj.__class__ is ndarray[0]:
                    p.screen_numpy_call((key, value), {})
                elif key.__class__ is slice and obj.__class__ is list:  # (a[:] = itertools.count(): for ever in C)
                    value = p.bounded_list(value)
                try:
                    obj[key] = value
                except BaseException as e:
                    tag(e, node)
                    raise

            return store_item
        if kind is ast.Attribute:
            obj_c, name, p = self._c(node.value), node.attr, self.p  # type: ignore[attr-defined]

            def store_attribute(f: Frame, value: Any) -> None:
                obj = obj_c(f)
                try:
                    p.set_attribute(obj, name, value)
                except BaseException as e:
                    tag(e, node)
                    raise

            return store_attribute
        raise _fail(SyntaxError("starred assignment target must be in a list or tuple"), node)

    def _unpacker(self, elts: list[ast.expr], node: ast.AST) -> Callable[[Frame, Any], None]:
        n = len(elts)
        star = next((i for i, e in enumerate(elts) if type(e) is ast.Starred), None)
        stores = [self.target(e.value if type(e) is ast.Starred else e) for e in elts]  # type: ignore[attr-defined]
        bounded = self.p.bounded_list

        def unpack(f: Frame, value: Any) -> None:
            if type(value) is tuple and len(value) == n and star is None:
                items: Any = value
            else:
                try:
                    it = iter(value)
                except TypeError as e:
                    if getattr(type(value), "__iter__", None) is not None:  # (its own refusal: a 0-d tensor's)
                        raise _fail(e, node) from None
                    raise _fail(TypeError(f"cannot unpack non-iterable {tp_name(type(value))} object"), node) from None
                if star is None:
                    items = tuple(islice(it, n + 1))
                    if len(items) != n:
                        message = (
                            f"too many values to unpack (expected {n})"
                            if len(items) > n
                            else f"not enough values to unpack (expected {n}, got {len(items)})"
                        )
                        raise _fail(ValueError(message), node)
                else:
                    items = bounded(it)
                    if len(items) < n - 1:
                        raise _fail(
                            ValueError(f"not enough values to unpack (expected at least {n - 1}, got {len(items)})"),
                            node,
                        )
                    tail = len(items) - (n - 1 - star)
                    items = items[:star] + [items[star:tail]] + items[tail:]
            for store, v in zip(stores, items):
                store(f, v)

        return unpack

    # ------------------------------------------------------------------------------------------------
    # statements
    # ------------------------------------------------------------------------------------------------

    def visit_Module(self, node: ast.Module) -> Code:
        return self.block(node.body)

    def visit_Expr(self, node: ast.Expr) -> Code:
        value = self._c(node.value)

        def expr(f: Frame) -> None:
            value(f)

        return expr

    def visit_Assign(self, node: ast.Assign) -> Code:
        value = self._c(node.value)
        targets = node.targets
        if (
            len(targets) == 1
            and type(targets[0]) is ast.Name
            and self._where(targets[0].id, self._ctx) in ("module", "local")
        ):
            name = targets[0].id

            def assign_name(f: Frame) -> None:
                f.vars[name] = value(f)

            return assign_name
        stores = [self.target(t) for t in targets]

        def assign(f: Frame) -> None:
            v = value(f)
            for store in stores:
                store(f, v)

        return assign

    def visit_AnnAssign(self, node: ast.AnnAssign) -> Code:
        if node.value is None:
            return _nothing
        value, store = self._c(node.value), self.target(node.target)

        def ann_assign(f: Frame) -> None:
            store(f, value(f))

        return ann_assign

    def visit_AugAssign(self, node: ast.AugAssign) -> Code:
        op = self._inplace[node.tsr_op]  # type: ignore[attr-defined]
        value = self._c(node.value)
        target = node.target
        if type(target) is ast.Name:
            load, store = self.load(target.id, target), self.store(target.id)

            def aug_name(f: Frame) -> None:
                try:
                    store(f, op(load(f), value(f)))
                except BaseException as e:
                    tag(e, node)
                    raise

            return aug_name
        obj_c = self._c(target.value)  # type: ignore[attr-defined]
        p = self.p
        if type(target) is ast.Attribute:
            name = target.attr

            def aug_attribute(f: Frame) -> None:
                obj = obj_c(f)
                try:
                    current = self.get_attribute(obj, name)
                    p.set_attribute(obj, name, op(current, value(f)))
                except BaseException as e:
                    tag(e, node)
                    raise

            return aug_attribute
        key_c = self._c(target.slice)  # type: ignore[attr-defined]

        def aug_item(f: Frame) -> None:
            obj = obj_c(f)
            key = key_c(f)
            try:
                obj[key] = op(obj[key], value(f))
            except BaseException as e:
                tag(e, node)
                raise

        return aug_item

    def visit_If(self, node: ast.If) -> Code:
        test, body = self._c(node.test), self.block(node.body)
        orelse = self.block(node.orelse) if node.orelse else None

        def if_(f: Frame) -> Any:
            if test(f):
                return body(f)
            if orelse is not None:
                return orelse(f)
            return None

        return if_

    def visit_For(self, node: ast.For) -> Code:
        iterable, body = self._c(node.iter), self.block(node.body)
        orelse = self.block(node.orelse) if node.orelse else None
        target = node.target
        name = (
            target.id if type(target) is ast.Name and self._where(target.id, self._ctx) in ("module", "local") else None
        )
        store = None if name is not None else self.target(target)
        interp = self

        def for_(f: Frame) -> Any:
            values = iterable(f)
            try:
                it = iter(values)
            except TypeError as e:
                interp.p.builtin_method_names(e, values)
                tag(e, node.iter)
                raise
            vars_ = f.vars
            n = 0
            try:
                for item in it:
                    if name is not None:
                        vars_[name] = item
                    else:
                        store(f, item)  # type: ignore[misc]
                    r = body(f)
                    if r is not None:
                        if r is _BREAK:
                            return None
                        if r is not _CONTINUE:
                            return r
                    n += 1
                    if n & _TICK == 0:
                        interp.tick()
            except BaseException as e:  # (the body's errors are tagged already: this tags what next() raised)
                tag(e, node.iter)
                raise
            if orelse is not None:
                return orelse(f)
            return None

        return for_

    def visit_While(self, node: ast.While) -> Code:
        test, body = self._c(node.test), self.block(node.body)
        orelse = self.block(node.orelse) if node.orelse else None
        interp = self

        def while_(f: Frame) -> Any:
            n = 0
            while test(f):
                r = body(f)
                if r is not None:
                    if r is _BREAK:
                        return None
                    if r is not _CONTINUE:
                        return r
                n += 1
                if n & _TICK == 0:
                    interp.tick()
            if orelse is not None:
                return orelse(f)
            return None

        return while_

    def visit_Break(self, node: ast.Break) -> Code:
        return lambda f: _BREAK

    def visit_Continue(self, node: ast.Continue) -> Code:
        return lambda f: _CONTINUE

    def visit_Pass(self, node: ast.Pass) -> Code:
        return _nothing

    def visit_Return(self, node: ast.Return) -> Code:
        value = self._c(node.value) if node.value is not None else None
        interp = self

        def return_(f: Frame) -> Any:
            interp.retval = value(f) if value is not None else None
            return _RETURN

        return return_

    def visit_FunctionDef(self, node: ast.FunctionDef) -> Code:
        decorators = [self._c(d) for d in node.decorator_list]
        make = self._function_maker(node, node.name)
        store = self.store(node.name)
        interp = self

        def def_(f: Frame) -> None:
            decos = [d(f) for d in decorators]
            fn: Any = make(f)
            for deco in reversed(decos):
                fn = interp.call(deco, (fn,), None, node)
            store(f, fn)

        return def_

    def visit_ClassDef(self, node: ast.ClassDef) -> Code:
        """`class Net(nn.Module): ...` -> a real subclass of the base whose methods are tsr Functions. The base
        must be torch.nn.Module or torch.autograd.Function (or a script class), so every object a script
        builds from a class is a module or a custom op, shown to scripts as the engine's own objects are
        (policy.CLASS_SPECIAL_METHODS has the rest of the rules)."""
        outer = self._ctx
        # methods resolve names as functions defined beside the class do: the class body is no scope for them
        self._ctx = _Ctx(outer.kind, outer.scope, outer.parent, f"{outer.qual}{node.name}.")
        try:
            plain = getattr(node, "tsr_plain", False)
            base_c = (lambda f: object) if plain else self._c(node.bases[0])
            class_decos = [self._c(d) for d in node.decorator_list]
            # the annotated names, in order (`block_size: int = 1024`, `name: str`): @dataclass's fields
            annotated = tuple(s.target.id for s in node.body if type(s) is ast.AnnAssign)  # type: ignore[attr-defined]
            # the body's own names, read from the class namespace by its decorators and attribute values
            self._ctx.class_names = frozenset(
                n
                for stmt in node.body
                for n in ([stmt.name] if type(stmt) is ast.FunctionDef else _assigned_names(stmt))
            )
            body: list[tuple] = []  # in source order: ("def", stmt, make, decorators) / ("attr", names, value)
            doc = None
            for stmt in node.body:
                if type(stmt) is ast.FunctionDef:
                    decos = [self._c(d) for d in stmt.decorator_list]
                    body.append(("def", stmt, self._function_maker(stmt, stmt.name), decos))
                elif type(stmt) is ast.Assign:
                    body.append(("attr", [t.id for t in stmt.targets], self._c(stmt.value)))  # type: ignore[attr-defined]
                elif type(stmt) is ast.AnnAssign and stmt.value is not None:
                    body.append(("attr", [stmt.target.id], self._c(stmt.value)))  # type: ignore[attr-defined]
                elif type(stmt) is ast.Expr:
                    doc = stmt.value.value  # type: ignore[attr-defined]
        finally:
            self._ctx = outer
        store = self.store(node.name)
        interp, qualname = self, f"{outer.qual}{node.name}"

        def class_(f: Frame) -> None:
            base = base_c(f)
            if type(base).__module__ == "engine.utils.data" and type(base).__name__ == "_Alias":
                base = base.__origin__  # Sampler[int]: a subscripted engine class stands for the class
            if base is not object and not (
                isinstance(base, type)
                and (
                    issubclass(base, interp.p.class_bases())
                    or _is_script_class(base)
                    # `class ConfigError(ValueError)`: a script's own exception, from Python's
                    or (issubclass(base, Exception) and base.__module__ == "builtins")
                )
            ):
                what = f"'{tp_name(base)}'" if isinstance(base, type) else f"a '{tp_name(type(base))}' object"
                raise _fail(
                    TypeError(
                        f"tsr classes derive from {policy.CLASS_BASES_TEXT}, or a class defined in the script, "
                        f"not {what}"
                    ),
                    node.bases[0],
                )
            for stmt in node.body:  # (a class attribute or method posing as a tensor's or node's field)
                for n in [stmt.name] if type(stmt) is ast.FunctionDef else _assigned_names(stmt):
                    try:
                        check_own_name(n)
                        # a private name the engine's side uses (Module's _parameters, a pruning method's
                        # _tensor_name) is as much the engine's in a class body as on an instance (round 13)
                        if n[:1] == "_" and n not in policy.CLASS_SPECIAL_METHODS:
                            if n in policy.READABLE_UNDERSCORED or interp.p.engine_name(base, n):
                                raise private_attribute_error(n)
                        if n.startswith(policy.EXCEPTION_TAG_PREFIX) and issubclass(base, BaseException):
                            raise refusal(exception_tag_message(n))
                    except AttributeError as e:
                        raise _fail(e, stmt) from None
            ns: dict[str, Any] = {"__module__": "__main__", "__qualname__": qualname, "__doc__": doc,
                                  "__array__": refuse_array}  # fmt: skip
            made = []
            class_ns = interp._class_ns
            class_ns.append(ns)
            try:
                for kind, *item in body:
                    if kind == "def":
                        stmt, make, decos = item
                        fn = make(f)
                        made.append(fn)
                        value: Any = _method(fn)
                        if stmt.name in _TEXT_METHODS:
                            value = _text_method(value, interp.p)
                        for deco in reversed([d(f) for d in decos]):
                            value = interp.call(deco, (value,), None, stmt)
                        ns[stmt.name] = value
                        continue
                    names, value_c = item
                    v = value_c(f)
                    # a class attribute is stored where the engine calls it (forward = ...): the call gate, as
                    # for obj.attr = value (round 13), in the containers it is too (round 14)
                    if isinstance(v, type):
                        interp.p.admit_class(v)
                    else:
                        interp.p.admit_value(v)
                    for n in names:
                        # (an alias, __str__ = show: charged as a def'd __str__ is)
                        ns[n] = _text_method(v, interp.p) if n in _TEXT_METHODS and callable(v) else v
            finally:
                class_ns.pop()
            try:
                cls = type(base)(node.name, (base,), ns)
            except BaseException as e:
                tag(e, node)
                raise
            register_script_class(cls)
            for fn in made:
                fn.owner = cls
            ANNOTATED[cls] = annotated
            made_cls: Any = cls
            for deco in reversed([d(f) for d in class_decos]):  # (`@dataclass class A:` is `A = dataclass(A)`)
                made_cls = interp.call(deco, (made_cls,), None, node)
            store(f, made_cls)

        return class_

    def visit_Lambda(self, node: ast.Lambda) -> Code:
        return self._function_maker(node, "<lambda>")

    def _function_maker(self, node: ast.FunctionDef | ast.Lambda, name: str) -> Code:
        a = node.args
        defaults = [self._c(d) for d in a.defaults]
        kwdefaults = [(p.arg, self._c(d)) for p, d in zip(a.kwonlyargs, a.kw_defaults) if d is not None]
        spec = _ArgSpec(a, len(a.defaults))
        qualname = self._ctx.qual + name
        node.tsr_ctx = _Ctx("function", node.tsr_scope, self._ctx, qualname + ".<locals>.")  # type: ignore[attr-defined]
        interp = self
        kind = GeneratorFunction if getattr(node, "tsr_generator", False) else Function

        def make_function(f: Frame) -> Function:
            closure = f if f.scope is not None else interp.module_frame
            values = tuple(d(f) for d in defaults)
            kw = {k: d(f) for k, d in kwdefaults}
            return kind(name, qualname, node, spec, values, kw, closure, interp)

        return make_function

    def visit_With(self, node: ast.With) -> Code:
        items = [(self._c(i.context_expr), i.context_expr, self.target(i.optional_vars) if i.optional_vars else None)
                 for i in node.items]  # fmt: skip
        body = self.block(node.body)
        managers, protocol = self._managers, self.context_protocol

        def enter_item(f: Frame, i: int) -> Any:
            manager_c, expr, store = items[i]
            manager = manager_c(f)
            enter, exit_ = managers.get(type(manager)) or protocol(manager, expr)
            value = enter(manager)
            try:
                if store is not None:
                    store(f, value)
                r = enter_item(f, i + 1) if i + 1 < len(items) else body(f)
            except BaseException as e:
                # engine context managers get no traceback: nothing of the interpreter leaks through them
                if exit_(manager, type(e), e, None) and not isinstance(e, UNCATCHABLE):
                    return None
                raise
            exit_(manager, None, None, None)
            return r

        def with_(f: Frame) -> Any:
            return enter_item(f, 0)

        return with_

    def context_protocol(self, manager: Any, expr: ast.AST) -> tuple[Callable, Callable]:
        """A context manager's type's __enter__ and __exit__, found once per type."""
        cls = type(manager)
        enter, exit_ = getattr(cls, "__enter__", None), getattr(cls, "__exit__", None)
        if enter is None or exit_ is None:
            raise _fail(TypeError(f"'{tp_name(cls)}' object does not support the context manager protocol"), expr)
        if _is_script_class(cls):
            script_exit = exit_

            def exit_(manager: Any, typ: Any, value: Any, tb: Any) -> Any:
                # a script's __exit__ never sees the user's Ctrl-C or a timeout (its except clauses do not either)
                return False if isinstance(value, UNCATCHABLE) else script_exit(manager, typ, value, tb)

        protocol = self._managers[cls] = (enter, exit_)
        return protocol

    def visit_Assert(self, node: ast.Assert) -> Code:
        test = self._c(node.test)
        msg = self._c(node.msg) if node.msg is not None else None

        def assert_(f: Frame) -> None:
            if not test(f):
                raise AssertionError(msg(f)) if msg is not None else AssertionError

        return assert_

    def visit_Delete(self, node: ast.Delete) -> Code:
        deletes = [self._deleter(t) for t in node.targets]

        def delete(f: Frame) -> None:
            for d in deletes:
                d(f)

        return delete

    def _deleter(self, target: ast.expr) -> Code:
        kind = target.__class__
        if kind is ast.Name:
            return self.delete(target.id, target)  # type: ignore[attr-defined]
        if kind is ast.Tuple or kind is ast.List:
            parts = [self._deleter(t) for t in target.elts]  # type: ignore[attr-defined]

            def delete_all(f: Frame) -> None:
                for d in parts:
                    d(f)

            return delete_all
        obj_c = self._c(target.value)  # type: ignore[attr-defined]
        if kind is ast.Subscript:
            key_c = self._c(target.slice)  # type: ignore[attr-defined]

            def delete_item(f: Frame) -> None:
                obj = obj_c(f)
                del obj[key_c(f)]

            return delete_item
        name, p = target.attr, self.p  # type: ignore[attr-defined]
        return lambda f: p.delete_attribute(obj_c(f), name)

    def visit_Try(self, node: ast.Try) -> Code:
        body = self.block(node.body)
        orelse = self.block(node.orelse) if node.orelse else None
        final = self.block(node.finalbody) if node.finalbody else None
        handlers = self.handlers(node, self.block)
        interp = self

        def try_except(f: Frame) -> Any:
            try:
                r = body(f)
            except BaseException as e:
                handler = _handler_for(e, handlers, f)
                if handler is None:
                    raise
                _, _, store, unbind, handler_body = handler
                interp.handling.append(e)
                try:
                    if store is not None:
                        store(f, e)
                    return handler_body(f)
                finally:
                    interp.handling.pop()
                    if unbind is not None:
                        try:
                            unbind(f)
                        except NameError:
                            pass
            if r is None and orelse is not None:
                return orelse(f)
            return r

        if final is None:
            return try_except

        def try_finally(f: Frame) -> Any:
            try:
                r = try_except(f)
            finally:
                saved = interp.retval
                signal = final(f)
                if signal is not None:
                    # like Python: return/break/continue in finally replaces a pending exception or result
                    return signal  # noqa: B012
                interp.retval = saved
            return r

        return try_finally

    def handlers(self, node: ast.Try, block: Callable[[list[ast.stmt]], Code]) -> list[tuple]:
        """A try statement's except clauses: (type code, type node, name store, name delete, body)."""
        return [
            (self._c(h.type) if h.type is not None else None, h.type, self.store(h.name) if h.name else None,
             self.delete(h.name, h) if h.name else None, block(h.body))
            for h in node.handlers
        ]  # fmt: skip

    def visit_Raise(self, node: ast.Raise) -> Code:
        exc_c = self._c(node.exc) if node.exc is not None else None
        cause_c = self._c(node.cause) if node.cause is not None else None
        interp = self

        def raise_(f: Frame) -> None:
            if exc_c is None:
                if not interp.handling:
                    raise RuntimeError("No active exception to reraise")
                raise interp.handling[-1]
            exc = _exception(exc_c(f))
            if cause_c is not None:
                cause = cause_c(f)
                exc.__cause__ = None if cause is None else _exception(cause)
            set_node(exc, node)
            exc.__dict__.pop("tsr_stack", None)
            raise exc

        return raise_

    # -- match statements (CPython 3.11's semantics, read off ceval.c and compile.c) ------------------------

    def visit_Match(self, node: ast.Match) -> Code:
        select = self.match_selector(node)
        bodies = [self.block(c.body) for c in node.cases]

        def match(f: Frame) -> Any:
            i = select(f)
            return bodies[i](f) if i >= 0 else None

        return match

    def match_selector(self, node: ast.Match) -> Callable[[Frame], int]:
        """The case a match statement runs: evaluates the subject once, tries each case's pattern in order and
        returns the index of the first that matches and whose guard holds, else -1. A pattern's captures bind
        only when the whole pattern matched (before its guard is tested, so a failed guard leaves them bound), as
        in CPython. (tcli/generators.py runs the bodies of a generator's match statement.)"""
        subject_c = self._c(node.subject)
        cases = []
        for case in node.cases:
            names = {n for p in ast.walk(case.pattern) for n in _pattern_names(p)}
            stores = {n: self.store(n) for n in sorted(names)}
            guard = self._c(case.guard) if case.guard is not None else None
            cases.append((self._pattern(case.pattern), stores, guard, case.guard))

        def select(f: Frame) -> int:
            subject = subject_c(f)
            for i, (matches, stores, guard, guard_node) in enumerate(cases):
                bound: dict[str, Any] = {}
                if not matches(f, subject, bound):
                    continue
                for name, value in bound.items():
                    stores[name](f, value)
                if guard is None:
                    return i
                try:
                    if guard(f):
                        return i
                except BaseException as e:
                    tag(e, guard_node)
                    raise
            return -1

        return select

    def _pattern(self, node: ast.pattern) -> Callable[[Frame, Any, dict], bool]:
        """A pattern as a closure (frame, subject, captures) -> whether it matched; captures go into the dict."""
        kind = node.__class__
        if kind is ast.MatchAs:
            name = node.name  # type: ignore[attr-defined]
            if node.pattern is None:  # type: ignore[attr-defined]
                if name is None:
                    return _wildcard

                def capture(f: Frame, s: Any, b: dict) -> bool:
                    b[name] = s
                    return True

                return capture
            inner = self._pattern(node.pattern)  # type: ignore[attr-defined]

            def match_as(f: Frame, s: Any, b: dict) -> bool:
                if not inner(f, s, b):
                    return False
                b[name] = s
                return True

            return match_as
        if kind is ast.MatchValue:
            value_c = self._c(node.value)  # type: ignore[attr-defined]

            def match_value(f: Frame, s: Any, b: dict) -> bool:
                v = value_c(f)
                try:
                    return bool(s == v)
                except BaseException as e:
                    tag(e, node)
                    raise

            return match_value
        if kind is ast.MatchSingleton:
            constant = node.value  # type: ignore[attr-defined]
            return lambda f, s, b: s is constant
        if kind is ast.MatchOr:
            alternatives = [self._pattern(p) for p in node.patterns]  # type: ignore[attr-defined]

            def match_or(f: Frame, s: Any, b: dict) -> bool:
                for alternative in alternatives:
                    captured: dict[str, Any] = {}
                    if alternative(f, s, captured):
                        b.update(captured)
                        return True
                return False

            return match_or
        if kind is ast.MatchSequence:
            return self._sequence_pattern(node)  # type: ignore[arg-type]
        if kind is ast.MatchMapping:
            return self._mapping_pattern(node)  # type: ignore[arg-type]
        if kind is ast.MatchClass:
            return self._class_pattern(node)  # type: ignore[arg-type]
        raise _fail(SyntaxError(f"'{kind.__name__}' is not supported in tsr"), node)  # (MatchStar: in a sequence)

    def _sequence_pattern(self, node: ast.MatchSequence) -> Callable[[Frame, Any, dict], bool]:
        """`[a, b]`, `(n, c, h, w)`, `[first, *rest]`: subjects whose type is a sequence (list, tuple, torch.Size,
        range, deque; never str), of the right length, read by index where the star is a wildcard and by iterating
        otherwise (the star's list within the sequence limit)."""
        patterns = node.patterns
        size = len(patterns)
        star = next((i for i, p in enumerate(patterns) if type(p) is ast.MatchStar), -1)
        how = sequence_strategy(node)
        if how == "unpack":
            subs = [
                (_capture_list(p.name) if type(p) is ast.MatchStar else self._pattern(p))  # type: ignore[attr-defined]
                for p in patterns
            ]
        else:  # (index: the sub-patterns that read an item, at their index)
            subs = [(i, self._pattern(p)) for i, p in enumerate(patterns) if i != star and not is_wildcard(p)]  # type: ignore[misc]
        bounded = self.p.bounded_list

        def match_sequence(f: Frame, s: Any, b: dict) -> bool:
            if not type(s).__flags__ & _TPFLAGS_SEQUENCE:
                return False
            try:
                if star < 0:
                    if len(s) != size:
                        return False
                elif size > 1 and len(s) < size - 1:
                    return False
                if how == "none":
                    return True
                if how == "index":
                    for i, sub in subs:  # type: ignore[misc]
                        item = s[i] if i < star else s[len(s) - (size - i)]
                        if not sub(f, item, b):
                            return False
                    return True
                if star < 0:
                    items = s if type(s) is tuple or type(s) is list else tuple(islice(iter(s), size + 1))
                    if len(items) != size:
                        raise ValueError(
                            f"too many values to unpack (expected {size})"
                            if len(items) > size
                            else f"not enough values to unpack (expected {size}, got {len(items)})"
                        )
                else:
                    items = bounded(s)  # (the star's list: within the sequence limit, however long s says it is)
                    if len(items) < size - 1:
                        got = len(items)
                        raise ValueError(f"not enough values to unpack (expected at least {size - 1}, got {got})")
                    tail = len(items) - (size - 1 - star)
                    items = items[:star] + [items[star:tail]] + items[tail:]
            except BaseException as e:
                tag(e, node)
                raise
            for sub, item in zip(subs, items):
                if not sub(f, item, b):  # type: ignore[operator]
                    return False
            return True

        return match_sequence

    def _mapping_pattern(self, node: ast.MatchMapping) -> Callable[[Frame, Any, dict], bool]:
        """`{"op": "add", **rest}`: subjects whose type is a mapping (dict, OrderedDict, Counter, defaultdict), each
        key looked up with the subject's get (a defaultdict makes no entry); `**rest` is a dict of the others."""
        keys = [self._c(k) for k in node.keys]
        subs = [self._pattern(p) for p in node.patterns]
        rest, n = node.rest, len(node.keys)
        interp, check_length = self, self.p.check_length

        def match_mapping(f: Frame, s: Any, b: dict) -> bool:
            if not type(s).__flags__ & _TPFLAGS_MAPPING:
                return False
            if not n and rest is None:
                return True
            try:
                if n and len(s) < n:
                    return False
                values = []
                if n:
                    wanted = [k(f) for k in keys]
                    get = interp.get_attribute(s, "get")
                    seen: set = set()
                    for key in wanted:
                        if key in seen:
                            raise ValueError(f"mapping pattern checks duplicate key ({key!r})")
                        seen.add(key)
                        value = get(key, _MISSING)
                        if value is _MISSING:
                            return False
                        values.append(value)
            except BaseException as e:
                tag(e, node)
                raise
            for sub, value in zip(subs, values):
                if not sub(f, value, b):
                    return False
            if rest is not None:
                try:
                    check_length(len(s))
                    others: dict = {}
                    others.update(s)
                    for key in wanted if n else ():
                        del others[key]
                except BaseException as e:
                    tag(e, node)
                    raise
                b[rest] = others
            return True

        return match_mapping

    def _class_pattern(self, node: ast.MatchClass) -> Callable[[Frame, Any, dict], bool]:
        """`Point(x, y=0)`, `int(n)`: an isinstance test, then attributes, positional ones named by the class's
        __match_args__ (or the subject itself, for one positional pattern of int, str, float, bool, tuple, list,
        dict, set, frozenset), each read as a script's `obj.name` is (dunders refused, private names only the
        script's own), a missing one being no match."""
        cls_c = self._c(node.cls)
        n_positional = len(node.patterns)
        keywords = tuple(node.kwd_attrs)
        subs = [None if is_wildcard(p) else self._pattern(p) for p in (*node.patterns, *node.kwd_patterns)]
        real_class, read = self.p._real_class, self.match_attribute

        def match_class(f: Frame, s: Any, b: dict) -> bool:
            cls = real_class(cls_c(f))
            try:
                if not isinstance(cls, type):
                    raise TypeError("called match pattern must be a type")
                if not isinstance(s, cls):
                    return False
                values: list = []
                names: list = []
                if n_positional:
                    match_args = _class_match_args(cls)
                    match_self = False
                    if match_args is _MISSING:
                        match_args = ()
                        match_self = bool(cls.__flags__ & _TPFLAGS_MATCH_SELF)
                    elif type(match_args) is not tuple:
                        raise TypeError(
                            f"{tp_name(cls)}.__match_args__ must be a tuple (got {tp_name(type(match_args))})"
                        )
                    allowed = 1 if match_self else len(match_args)
                    if allowed < n_positional:
                        raise TypeError(
                            f"{tp_name(cls)}() accepts {allowed} positional sub-pattern{'' if allowed == 1 else 's'} "
                            f"({n_positional} given)"
                        )
                    if match_self:
                        values.append(s)
                    else:
                        for name in match_args[:n_positional]:
                            if type(name) is not str:
                                raise TypeError(f"__match_args__ elements must be strings (got {tp_name(type(name))})")
                            names.append(name)
                names += keywords
                seen: set = set()
                for name in names:
                    if name in seen:
                        raise TypeError(f"{tp_name(cls)}() got multiple sub-patterns for attribute {name!r}")
                    seen.add(name)
                    value = read(s, name)
                    if value is _MISSING:
                        return False
                    values.append(value)
            except BaseException as e:
                tag(e, node)
                raise
            for sub, value in zip(subs, values):
                if sub is not None and not sub(f, value, b):
                    return False
            return True

        return match_class

    def match_attribute(self, obj: Any, name: str) -> Any:
        """An attribute a class pattern reads (`case Point(x=0)`): what the script's `obj.name` gives, or _MISSING
        where obj has no such attribute (no match, as in Python). A name tsr refuses is refused as `obj.name` is,
        with its error: a dunder (but for the readable ones), another object's private name, a public name tsr
        leaves out of a type's attributes."""
        p = self.p
        if name[:1] == "_" and name not in p.dunders:
            if name[:2] == "__":
                raise private_attribute_error(name)
            engine = p.engine
            if not (name[:7] == "_saved_" and engine is not None and isinstance(obj, engine.autograd.Node)):
                p.check_private(obj, name)  # (a refusal is raised, as obj._name's is)
            try:
                return p.read_private(obj, name)
            except AttributeError:
                return _MISSING
        try:
            return self.get_attribute(obj, name)
        except AttributeError as e:
            if is_refusal(e):  # tsr refuses a name Python has: an error, as `obj.name` is, not "no match"
                raise
            return _MISSING

    def visit_Global(self, node: ast.Global) -> Code:
        return _nothing  # resolved while translating (parser.Scope)

    def visit_Nonlocal(self, node: ast.Nonlocal) -> Code:
        return _nothing

    def visit_Import(self, node: ast.Import) -> Code:
        steps = []
        for alias in node.names:
            bind = alias.asname or alias.name.split(".")[0]
            module = alias.name if alias.asname else alias.name.split(".")[0]
            steps.append((alias.name, module, self.store(bind), alias))
        p = self.p

        def import_(f: Frame) -> None:
            for full, module, store, alias in steps:
                try:
                    p.import_module(full)
                    store(f, p.import_module(module))
                except BaseException as e:
                    tag(e, alias if hasattr(alias, "lineno") else node)
                    raise

        return import_

    def visit_ImportFrom(self, node: ast.ImportFrom) -> Code:
        if node.module == "__future__":
            return _nothing
        names = [(a.name, self.store(a.asname or a.name)) for a in node.names]
        p = self.p

        def import_from(f: Frame) -> None:
            try:
                module = p.import_module(node.module or "")
                for name, store in names:
                    store(f, p.import_from(module, name))
            except BaseException as e:
                tag(e, node)
                raise

        return import_from

    # ------------------------------------------------------------------------------------------------
    # expressions
    # ------------------------------------------------------------------------------------------------

    def visit_Constant(self, node: ast.Constant) -> Code:
        value = node.value
        return lambda f: value

    def visit_Name(self, node: ast.Name) -> Code:
        return self.load(node.id, node)

    def visit_Attribute(self, node: ast.Attribute) -> Code:
        obj_c, name, rules, p = self._c(node.value), node.attr, self._rules, self.p
        sized = node.tsr_sized  # type: ignore[attr-defined]
        if node.tsr_private:  # type: ignore[attr-defined]

            def private_attribute(f: Frame) -> Any:
                obj = obj_c(f)
                try:
                    return p.read_private(obj, name)
                except BaseException as e:
                    tag(e, node)
                    raise

            return private_attribute

        if getattr(node, "tsr_super", False):

            def super_attribute(f: Frame) -> Any:
                obj = obj_c(f)
                try:
                    if not p.is_super(obj):
                        raise private_attribute_error(name)  # (`super` was rebound)
                    return p.attribute_rule(type(obj))(obj, name)
                except BaseException as e:
                    tag(e, node)
                    raise

            return super_attribute

        dunder = p.dunders.get(name)  # __name__, __version__: the dunders a script may read (read-only strings)
        if dunder is not None:

            def read_dunder(f: Frame) -> Any:
                try:
                    return dunder(obj_c(f))
                except BaseException as e:
                    tag(e, node)
                    raise

            return read_dunder

        if name in AUTOGRAD_SHOWN:  # (a tensor's requires_grad, grad_fn, is_leaf: as torch shows a dual tensor's)
            shown = p.autograd_attribute

            def autograd_attribute(f: Frame) -> Any:
                obj = obj_c(f)
                rule = rules.get(type(obj))
                if rule is None:
                    rule = rules[type(obj)] = p.attribute_rule(type(obj))
                try:
                    return shown(obj, name, rule(obj, name))
                except BaseException as e:
                    if e.__class__ is AttributeError:
                        note_lookup(e, "attribute", obj, name)
                    tag(e, node)
                    raise

            return autograd_attribute

        def attribute(f: Frame) -> Any:
            obj = obj_c(f)
            rule = rules.get(type(obj))
            if rule is None:
                rule = rules[type(obj)] = p.attribute_rule(type(obj))
            try:
                if sized:
                    return p.sized_attribute(obj, name, rule(obj, name))
                return rule(obj, name)
            except BaseException as e:
                if e.__class__ is AttributeError:
                    note_lookup(e, "attribute", obj, name)  # (for the error's "Did you mean", if it is reported)
                tag(e, node)
                raise

        return attribute

    def get_attribute(self, obj: Any, name: str) -> Any:
        """An attribute read as a script does it (for getattr/hasattr, augmented assignment, completion)."""
        dunder = self.p.dunders.get(name)
        if dunder is not None:
            return dunder(obj)
        if name.startswith("_"):
            return self.p.read_private(obj, name)
        rule = self._rules.get(type(obj))
        if rule is None:
            rule = self._rules[type(obj)] = self.p.attribute_rule(type(obj))
        if name in AUTOGRAD_SHOWN:
            return self.p.autograd_attribute(obj, name, rule(obj, name))
        return self.p.sized_attribute(obj, name, rule(obj, name))

    def visit_Subscript(self, node: ast.Subscript) -> Code:
        obj_c, key_c = self._c(node.value), self._c(node.slice)
        names = self.p.builtin_method_names
        p, made, made_value = self.p, self.p.made, self.p.made_value

        def subscript(f: Frame) -> Any:
            obj = None
            try:
                obj = obj_c(f)
                r = obj[key_c(f)]
            except BaseException as e:
                if e.__class__ is TypeError:
                    names(e, obj)
                tag(e, node)
                raise
            if r.__class__ is p.tensor_type:  # (advanced indexing: x[i[:, None], i[None, :]] is len(i)**2)
                made(r, node)
            elif r.__class__ in _SIZED_VALUES:  # (s[::-1] is a new string)
                made_value(r)
            return r

        return subscript

    def visit_Slice(self, node: ast.Slice) -> Code:
        parts = [self._c(x) if x is not None else None for x in (node.lower, node.upper, node.step)]
        lo, hi, st = parts

        def slice_(f: Frame) -> slice:
            return slice(
                lo(f) if lo is not None else None, hi(f) if hi is not None else None, st(f) if st is not None else None
            )

        return slice_

    def visit_BinOp(self, node: ast.BinOp) -> Code:
        left, right, op = self._c(node.left), self._c(node.right), self._binops[node.tsr_op]  # type: ignore[attr-defined]
        names = self.p.builtin_method_names

        def binop(f: Frame) -> Any:
            a = b = None
            try:
                a = left(f)
                b = right(f)
                return op(a, b)
            except BaseException as e:
                if e.__class__ is TypeError:
                    names(e, a, b)
                tag(e, node)
                raise

        return binop

    def visit_UnaryOp(self, node: ast.UnaryOp) -> Code:
        operand, op = self._c(node.operand), node.tsr_op  # type: ignore[attr-defined]

        def unaryop(f: Frame) -> Any:
            try:
                return op(operand(f))
            except BaseException as e:
                tag(e, node)
                raise

        return unaryop

    def visit_BoolOp(self, node: ast.BoolOp) -> Code:
        # the last operand is the result as it is: Python never tests its truth (`h or torch.zeros(2)`)
        *firsts, last = [self._c(v) for v in node.values]
        if node.op.__class__ is ast.And:

            def and_(f: Frame) -> Any:
                for value in firsts:
                    result = value(f)
                    if not result:
                        return result
                return last(f)

            return and_

        def or_(f: Frame) -> Any:
            for value in firsts:
                result = value(f)
                if result:
                    return result
            return last(f)

        return or_

    def visit_Compare(self, node: ast.Compare) -> Code:
        left, ops = self._c(node.left), node.tsr_ops  # type: ignore[attr-defined]
        rights = [self._c(c) for c in node.comparators]
        if len(ops) == 1:
            op, right = ops[0], rights[0]
            names = self.p.builtin_method_names

            def compare(f: Frame) -> Any:
                a = b = None
                try:
                    a = left(f)
                    b = right(f)
                    return op(a, b)
                except BaseException as e:
                    if e.__class__ is TypeError:
                        names(e, a, b)
                    tag(e, node)
                    raise

            return compare
        pairs = list(zip(ops, rights))

        def compare_chain(f: Frame) -> Any:
            try:
                a = left(f)
                result: Any = True
                for op, right in pairs:
                    b = right(f)
                    result = op(a, b)
                    if not result:
                        return result
                    a = b
                return result
            except BaseException as e:
                tag(e, node)
                raise

        return compare_chain

    def visit_IfExp(self, node: ast.IfExp) -> Code:
        test, body, orelse = self._c(node.test), self._c(node.body), self._c(node.orelse)
        return lambda f: body(f) if test(f) else orelse(f)

    def visit_NamedExpr(self, node: ast.NamedExpr) -> Code:
        value = self._c(node.value)
        store = self.store(node.target.id)  # in a comprehension it binds in the enclosing scope (see store)

        def named(f: Frame) -> Any:
            v = value(f)
            store(f, v)
            return v

        return named

    def visit_Starred(self, node: ast.Starred) -> Code:
        def starred(f: Frame) -> Any:
            raise _fail(SyntaxError("can't use starred expression here"), node)

        return starred

    # -- displays ---------------------------------------------------------------------------------------

    def _items(self, elts: list[ast.expr]) -> Code:
        parts = [(type(e) is ast.Starred, self._c(e.value if type(e) is ast.Starred else e), e) for e in elts]  # type: ignore[attr-defined]
        if not any(star for star, _, _ in parts):
            codes = [c for _, c, _ in parts]
            return lambda f: [c(f) for c in codes]
        p = self.p

        def items(f: Frame) -> list:
            out: list = []
            for star, code, e in parts:
                if star:
                    value = code(f)
                    try:
                        out += p.bounded_list(value)
                    except BaseException as err:
                        tag(err, e)
                        raise
                else:
                    out.append(code(f))
            p.check_length(len(out))
            return out

        return items

    def visit_List(self, node: ast.List) -> Code:
        return self._items(node.elts)

    def visit_Tuple(self, node: ast.Tuple) -> Code:
        elts = node.elts
        if len(elts) == 2 and not any(type(e) is ast.Starred for e in elts):
            a, b = self._c(elts[0]), self._c(elts[1])
            return lambda f: (a(f), b(f))
        items = self._items(elts)
        return lambda f: tuple(items(f))

    def visit_Set(self, node: ast.Set) -> Code:
        items = self._items(node.elts)
        return lambda f: set(items(f))

    def visit_Dict(self, node: ast.Dict) -> Code:
        parts = [(self._c(k) if k is not None else None, self._c(v), k, v) for k, v in zip(node.keys, node.values)]

        def dict_(f: Frame) -> dict:
            out: dict = {}
            for key_c, value_c, key_node, value_node in parts:
                if key_c is None:
                    mapping = value_c(f)
                    if not hasattr(type(mapping), "keys"):
                        raise _fail(TypeError(f"'{tp_name(type(mapping))}' object is not a mapping"), value_node)
                    out.update(mapping)
                else:
                    key = key_c(f)
                    try:
                        out[key] = value_c(f)
                    except TypeError as e:
                        tag(e, key_node)
                        raise
            return out

        return dict_

    def visit_JoinedStr(self, node: ast.JoinedStr) -> Code:
        parts = [self._c(v) for v in node.values]
        check, alloc = self.p.check_str_len, self.p.check_alloc

        def joined(f: Frame) -> str:
            out = []
            n = 0
            for part in parts:  # (each within the limit before the next: f"{s}{s}{s}" of one long s builds nothing)
                text = part(f)
                n += len(text)
                check(n)
                out.append(text)
            if n > 65536:
                alloc(n)  # (a new string each time: counted toward --max-memory as it comes)
            return "".join(out)

        return joined

    def visit_FormattedValue(self, node: ast.FormattedValue) -> Code:
        value = self._c(node.value)
        spec = self._c(node.format_spec) if node.format_spec is not None else None
        conversion, fmt = node.conversion, self.p.format_value

        def formatted(f: Frame) -> str:
            v = value(f)
            s = spec(f) if spec is not None else ""
            try:
                return fmt(v, s, conversion)
            except BaseException as e:
                tag(e, node)
                raise

        return formatted

    # -- comprehensions ---------------------------------------------------------------------------------

    def _comprehension(self, node: Any, elements: list[ast.expr]) -> tuple[Code, Any, Scope, list[Code]]:
        """Translate a comprehension: its first iterable in the enclosing scope (as Python does), the rest
        of its loops and its element(s) in a scope of its own."""
        gens = node.generators
        first = self._c(gens[0].iter)
        outer = self._ctx
        ctx = _Ctx("comp", node.tsr_scope, outer, outer.qual)
        saved = self._ctx
        self._ctx = ctx
        try:
            loops = []
            for i, g in enumerate(gens):
                next_iter = self._c(gens[i + 1].iter) if i + 1 < len(gens) else None
                loops.append((self.target(g.target), [self._c(c) for c in g.ifs], next_iter, g.iter))
            codes = [self._c(e) for e in elements]
        finally:
            self._ctx = saved
        return first, loops, node.tsr_scope, codes

    def _run_comp(self, f: Frame, loops: list, i: int, iterable: Any, emit: Callable[[Frame], None]) -> None:
        store, ifs, next_iter, iter_node = loops[i]
        last = i + 1 == len(loops)
        try:
            it = iter(iterable)
        except TypeError as e:
            self.p.builtin_method_names(e, iterable)
            tag(e, iter_node)
            raise
        n = 0
        for item in it:
            store(f, item)
            n += 1
            if n & _TICK == 0:
                self.tick()
            if ifs and not all(c(f) for c in ifs):
                continue
            if last:
                emit(f)
            else:
                self._run_comp(f, loops, i + 1, next_iter(f), emit)

    def visit_ListComp(self, node: ast.ListComp) -> Code:
        first, loops, scope, (elt,) = self._comprehension(node, [node.elt])
        run, check = self._run_comp, self.p.check_length

        def listcomp(f: Frame) -> list:
            out: list = []
            append = out.append
            run(Frame({}, scope, f, True), loops, 0, first(f), lambda cf: append(elt(cf)))
            check(len(out))
            return out

        return listcomp

    def visit_SetComp(self, node: ast.SetComp) -> Code:
        first, loops, scope, (elt,) = self._comprehension(node, [node.elt])
        run = self._run_comp

        def setcomp(f: Frame) -> set:
            out: set = set()
            add = out.add
            run(Frame({}, scope, f, True), loops, 0, first(f), lambda cf: add(elt(cf)))
            return out

        return setcomp

    def visit_DictComp(self, node: ast.DictComp) -> Code:
        first, loops, scope, (key, value) = self._comprehension(node, [node.key, node.value])
        run = self._run_comp

        def dictcomp(f: Frame) -> dict:
            out: dict = {}

            def emit(cf: Frame) -> None:
                k = key(cf)
                out[k] = value(cf)

            run(Frame({}, scope, f, True), loops, 0, first(f), emit)
            return out

        return dictcomp

    def visit_GeneratorExp(self, node: ast.GeneratorExp) -> Code:
        first, loops, scope, (elt,) = self._comprehension(node, [node.elt])

        def genexp(f: Frame) -> Iterator:
            return _lazy(self, loops, 0, first(f), Frame({}, scope, f, True), elt)

        return genexp

    # -- calls ------------------------------------------------------------------------------------------

    def visit_Call(self, node: ast.Call) -> Code:
        func = self._c(node.func)
        call_function, guards, names = self.call_function, self._guards, self.p.builtin_method_names
        missing_args = self.p.tensor_method_missing_args
        admit, admit_class = self.p.admit_callable, self.p.admit_class
        # a container handed to anything but a pure builtin (len, print) or a sized data function is walked for
        # the same gate: the engine calls what lists and dicts hold as it calls an argument (round 14)
        nested, pure, admit_nested = _CONTAINERS, self.p.pure_callables, self.p.admit_nested
        p, made, made_value = self.p, self.p.made, self.p.made_value
        refusal = self.p.parser_refusal
        called = node.func.attr if node.func.__class__ is ast.Attribute else None  # (x.sum(...): 'sum')
        if not node.tsr_simple:  # type: ignore[attr-defined]
            arguments = self._arguments(node)

            def call_general(f: Frame) -> Any:
                fn = func(f)
                args, kwargs = arguments(f, fn)
                if fn.__class__ is Function:
                    return call_function(fn, args, kwargs, node)
                if fn.__class__ is type:
                    fn = guards.get(fn) or admit_class(fn)
                elif fn.__class__ is _GATED:
                    admit(fn)
                for a in (*args, *kwargs.values()):  # (a function handed to the engine is called from there)
                    if a.__class__ is _GATED:
                        admit(a)
                    elif a.__class__ is type:  # (a class handed on is built there: the same rule)
                        admit_class(a)
                    elif a.__class__ in nested and id(fn) not in pure and fn.__class__ is not Checked:
                        admit_nested(a)
                try:
                    r = fn(*args, **kwargs)
                except BaseException as e:
                    if e.__class__ in _PARSER_REFUSED or isinstance(e, TypeError):
                        refused = refusal(e, fn, args, kwargs, called)
                        if refused is not None:
                            raise _fail(refused, node) from None
                    if e.__class__ is TypeError:
                        names(e, *args)
                        missing_args(e, fn, None, args, kwargs, called)
                    tag(e, node)
                    raise
                if r.__class__ is p.tensor_type:
                    made(r, node)
                elif r.__class__ in _SIZED_VALUES:
                    made_value(r)
                return r

            return call_general
        codes = [self._c(a) for a in node.args]
        if len(codes) == 0:

            def call0(f: Frame) -> Any:
                fn = func(f)
                if fn.__class__ is Function:
                    return call_function(fn, (), None, node)
                if fn.__class__ is type:
                    fn = guards.get(fn) or admit_class(fn)
                elif fn.__class__ is _GATED:
                    admit(fn)
                try:
                    r = fn()
                except BaseException as e:
                    if e.__class__ in _PARSER_REFUSED or isinstance(e, TypeError):  # (torch.mm(): its signatures)
                        refused = refusal(e, fn, (), None, called)
                        if refused is not None:
                            raise _fail(refused, node) from None
                    if e.__class__ is TypeError:
                        missing_args(e, fn, called)
                    tag(e, node)
                    raise
                if r.__class__ is p.tensor_type:
                    made(r, node)
                elif r.__class__ in _SIZED_VALUES:
                    made_value(r)
                return r

            return call0
        if len(codes) == 1:
            arg0 = codes[0]

            def call1(f: Frame) -> Any:
                fn = func(f)
                a = arg0(f)
                if fn.__class__ is Function:
                    return call_function(fn, (a,), None, node)
                if fn.__class__ is type:
                    fn = guards.get(fn) or admit_class(fn)
                elif fn.__class__ is _GATED:
                    admit(fn)
                if a.__class__ is _GATED:
                    admit(a)
                elif a.__class__ is type:  # (a class handed on is built there: the same rule)
                    admit_class(a)
                elif a.__class__ in nested and id(fn) not in pure and fn.__class__ is not Checked:
                    admit_nested(a)
                try:
                    r = fn(a)
                except BaseException as e:
                    if e.__class__ in _PARSER_REFUSED or isinstance(e, TypeError):
                        refused = refusal(e, fn, (a,), None, called)
                        if refused is not None:
                            raise _fail(refused, node) from None
                    if e.__class__ is TypeError:
                        names(e, a)
                        missing_args(e, fn, None, (a,), None, called)
                    tag(e, node)
                    raise
                if r.__class__ is p.tensor_type:
                    made(r, node)
                elif r.__class__ in _SIZED_VALUES:
                    made_value(r)
                return r

            return call1

        def call_n(f: Frame) -> Any:
            fn = func(f)
            args = tuple([c(f) for c in codes])
            if fn.__class__ is Function:
                return call_function(fn, args, None, node)
            if fn.__class__ is type:
                fn = guards.get(fn) or admit_class(fn)
            elif fn.__class__ is _GATED:
                admit(fn)
            for a in args:
                if a.__class__ is _GATED:
                    admit(a)
                elif a.__class__ is type:  # (a class handed on is built there: the same rule)
                    admit_class(a)
                elif a.__class__ in nested and id(fn) not in pure and fn.__class__ is not Checked:
                    admit_nested(a)
            try:
                r = fn(*args)
            except BaseException as e:
                if e.__class__ in _PARSER_REFUSED or isinstance(e, TypeError):
                    refused = refusal(e, fn, args, None, called)
                    if refused is not None:
                        raise _fail(refused, node) from None
                if e.__class__ is TypeError:
                    names(e, *args)
                    missing_args(e, fn, None, args, None, called)
                tag(e, node)
                raise
            if r.__class__ is p.tensor_type:
                made(r, node)
            elif r.__class__ in _SIZED_VALUES:
                made_value(r)
            return r

        return call_n

    def call(self, func: Any, args: tuple, kwargs: dict | None, node: ast.AST) -> Any:
        """Call a value as a script's call expression does (decorators use it)."""
        if func.__class__ is Function:
            return self.call_function(func, args, kwargs, node)
        if func.__class__ is type:
            func = self._guards.get(func) or self.p.admit_class(func)
        elif func.__class__ is _GATED:
            self.p.admit_callable(func)
        for a in (*args, *(kwargs or {}).values()):  # (a class handed on is built there: the same rule)
            self.p.admit_value(a)
        try:
            return func(*args, **(kwargs or {}))
        except BaseException as e:
            if node is not None:  # (no site here, operator.methodcaller's: the script's call that ran it tags it)
                tag(e, node)
            raise

    def _arguments(self, node: ast.Call) -> Callable[[Frame], tuple[tuple, dict]]:
        positional = [(type(a) is ast.Starred, self._c(a.value if type(a) is ast.Starred else a), a) for a in node.args]  # type: ignore[attr-defined]
        keywords = [(kw.arg, self._c(kw.value), kw.value) for kw in node.keywords]
        bounded = self.p.bounded_list

        def repeated(fn: Any, k: Any, value_node: ast.AST) -> BaseException:
            if fn.__class__ is Function:
                callee = f"__main__.{fn.qualname}"  # Python names a script's function by its module
            else:
                callee = str(getattr(fn, "__name__", tp_name(type(fn)))).lstrip("_")
            return _fail(TypeError(f"{callee}() got multiple values for keyword argument '{k}'"), value_node)

        def arguments(f: Frame, fn: Any = None) -> tuple[tuple, dict]:
            args: list = []
            for star, code, a in positional:
                if star:
                    value = code(f)
                    try:
                        args += bounded(value)
                    except TypeError:
                        raise _fail(
                            TypeError(f"argument after * must be an iterable, not {tp_name(type(value))}"), a
                        ) from None
                else:
                    args.append(code(f))
            kwargs: dict = {}
            for name, code, value_node in keywords:
                value = code(f)
                if name is None:
                    if not hasattr(type(value), "keys"):
                        raise _fail(
                            TypeError(f"argument after ** must be a mapping, not {tp_name(type(value))}"), value_node
                        )
                    for k in value.keys():
                        if type(k) is not str:
                            raise _fail(TypeError("keywords must be strings"), value_node)
                        if k in kwargs:
                            raise repeated(fn, k, value_node)
                        kwargs[k] = value[k]
                else:
                    if name in kwargs:  # (after a ** that gave it: a repeat in the source fails to parse)
                        raise repeated(fn, name, value_node)
                    kwargs[name] = value
            return tuple(args), kwargs

        return arguments

    def call_function(self, fn: Function, args: tuple, kwargs: dict | None, node: ast.AST | None) -> Any:
        if self.depth >= self.limits.max_call_depth:
            raise RecursionError(policy.RECURSION_MESSAGE)
        spec = fn.spec
        if not kwargs and spec.simple and len(args) == len(spec.positional):
            local = dict(zip(spec.positional, args))
        else:
            try:
                local = _bind(fn, args, kwargs or {})
            except TypeError as e:
                if node is not None:
                    tag(e, node)  # the caret goes under the call that passed the wrong arguments
                raise
        if fn.owner is not None:  # a method: what super() reads (keys no script name can spell)
            local[_CLASS_KEY] = fn.owner
            local[_SELF_KEY] = local.get(spec.positional[0]) if spec.positional else None
        fnode = fn.node
        code = fnode.__dict__.get("tsr_body")
        if code is None or code[0] is not self:
            body = fnode.body
            lam = type(fnode) is ast.Lambda
            code = fnode.tsr_body = (
                self,
                self.compile(body, fnode.tsr_ctx) if lam else self._function_body(fnode),
                site_of(body) if lam else None,  # a lambda's body is its own site (its warnings point there)
            )
        frame = Frame(local, fnode.tsr_scope, fn.closure, False)
        saved = self.frame
        hook = self.site_hook
        site = hook.current_site
        self.frame = frame
        self.depth += 1
        try:
            if code[2] is not None:
                hook.current_site = code[2]
            r = code[1](frame)
            if type(fnode) is ast.Lambda:
                return r
            if r is _RETURN:
                r = self.retval
                self.retval = None
                return r
            return None
        except BaseException as e:
            left_function(e, node)
            raise
        finally:
            self.frame = saved
            self.depth -= 1
            hook.current_site = site

    def _function_body(self, fnode: ast.FunctionDef) -> Code:
        saved = self._ctx
        self._ctx = fnode.tsr_ctx  # type: ignore[attr-defined]
        try:
            return self.block(fnode.body)
        finally:
            self._ctx = saved


def _method(fn: Function) -> Callable:
    """A tsr function as a method: a Python function (so that the class binds it to its instances) that runs
    the tsr one. Scripts see none of its attributes."""

    if isinstance(fn, GeneratorFunction):

        def method(*args: Any, **kwargs: Any) -> Any:
            return fn(*args, **kwargs)

    else:

        def method(*args: Any, **kwargs: Any) -> Any:
            # (what a method returns to engine code, checkpoint_sequential's functions[j], passes the call gate)
            return fn.interp.p.admit_value(fn.interp.call_function(fn, args, kwargs, None))

    method.__name__ = fn.name
    method.__qualname__ = fn.qualname
    _SCRIPT_METHODS.add(method)
    return method


#: what made_value counts when a call or subscript returns one (the result of s.upper(), s[::-1], sorted(x))
_SIZED_VALUES = frozenset({str, list, tuple})

#: methods whose text Python or the engine copies into a larger text (a list's repr, a module's): charged
#: (a module's extra_repr is charged by the engine's Module.__repr__, through engine.host.charge_text)
_TEXT_METHODS = frozenset({"__repr__", "__str__"})


def _text_method(method: Callable, prelude: Any) -> Callable:
    """A script's __repr__ or __str__: what it returns is charged to the text conversion that asked
    for it (Prelude.charge_text), so `print([obj] * 100)` of a 10M-character repr ends at the limit."""

    def text(*args: Any, **kwargs: Any) -> Any:
        r = method(*args, **kwargs)
        if type(r) is str:
            prelude.charge_text(r)
        return r

    text.__name__ = method.__name__
    text.__qualname__ = method.__qualname__
    return text


def super_of(frame: Frame | None) -> Any:
    """Zero-argument super() inside a method of a tsr class: the method's class and first argument."""
    while frame is not None and frame.scope is not None:
        cls = frame.vars.get(_CLASS_KEY)
        if cls is not None:
            obj = frame.vars.get(_SELF_KEY)
            if obj is None:
                raise RuntimeError("super(): no arguments")
            return super(cls, obj)
        frame = frame.parent
    raise RuntimeError("super(): no arguments")


def _nothing(f: Frame) -> None:
    return None


#: CPython's type flags that decide what structural patterns match (Include/object.h): a sequence pattern needs
#: Py_TPFLAGS_SEQUENCE (list, tuple, range, deque: not str or bytes), a mapping pattern Py_TPFLAGS_MAPPING, and
#: `case int(n):` binds the subject itself for the types with _Py_TPFLAGS_MATCH_SELF
_TPFLAGS_SEQUENCE, _TPFLAGS_MAPPING, _TPFLAGS_MATCH_SELF = 1 << 5, 1 << 6, 1 << 22


def _wildcard(f: Frame, s: Any, b: dict) -> bool:
    return True


def _capture_list(name: str | None) -> Callable[[Frame, Any, dict], bool]:
    """A sequence pattern's `*rest` (unpacked: its value is the list of the middle items)."""

    def star(f: Frame, s: Any, b: dict) -> bool:
        if name is not None:
            b[name] = s
        return True

    return star


def _pattern_names(node: ast.AST) -> list[str]:
    """The names one pattern node binds (not its sub-patterns')."""
    kind = type(node)
    if kind is ast.MatchAs or kind is ast.MatchStar:
        return [node.name] if node.name else []  # type: ignore[attr-defined]
    if kind is ast.MatchMapping:
        return [node.rest] if node.rest else []  # type: ignore[attr-defined]
    return []


def _class_match_args(cls: type) -> Any:
    """cls.__match_args__ (a class attribute, read as CPython reads it from the class), or _MISSING."""
    try:
        return cls.__match_args__  # type: ignore[attr-defined]
    except AttributeError:
        return _MISSING


def _owner(f: Frame, name: str) -> Frame:
    """The frame a `nonlocal` name lives in: the nearest enclosing function that binds it."""
    p = f.parent
    while p is not None and p.scope is not None:
        if name in p.scope.local_names and not p.is_comp:
            return p
        p = p.parent
    raise SyntaxError(f"no binding for nonlocal '{name}' found")


def _handler_for(e: BaseException, handlers: list[tuple], f: Frame) -> tuple | None:
    """The except clause that takes `e`, or None (never for the user's Ctrl-C or a timeout)."""
    if isinstance(e, UNCATCHABLE):
        return None
    for handler in handlers:
        if handler[0] is None or _matches(e, handler[0](f), handler[1]):
            return handler
    return None


def _matches(exc: BaseException, classes: Any, type_node: ast.AST) -> bool:
    for c in classes if isinstance(classes, tuple) else (classes,):
        if not (isinstance(c, type) and issubclass(c, BaseException)):
            raise _fail(TypeError("catching classes that do not inherit from BaseException is not allowed"), type_node)
    return isinstance(exc, classes)


def _exception(value: Any) -> BaseException:
    if isinstance(value, type) and issubclass(value, BaseException):
        value = value()
    if isinstance(value, UNCATCHABLE):  # a script cannot fake the user's Ctrl-C or a timeout
        raise TypeError(f"{tp_name(type(value))} cannot be raised in tsr (it means the user stopped the script)")
    if not isinstance(value, BaseException):
        raise TypeError("exceptions must derive from BaseException")
    return value


def _lazy(interp: Interpreter, loops: list, i: int, iterable: Any, f: Frame, elt: Code) -> Iterator:
    """A generator expression, run lazily in its own frame as its consumer asks for values."""
    store, ifs, next_iter, iter_node = loops[i]
    last = i + 1 == len(loops)
    try:
        it = iter(iterable)
    except TypeError as e:
        interp.p.builtin_method_names(e, iterable)
        tag(e, iter_node)
        raise
    for item in it:
        store(f, item)
        if ifs and not all(c(f) for c in ifs):
            continue
        if last:
            value = elt(f)
            if value.__class__ in _GATE_KINDS:  # (what a consumer, engine code too, gets: the call gate)
                interp.p.admit_value(value)
            yield value
        else:
            yield from _lazy(interp, loops, i + 1, next_iter(f), f, elt)


# a generator expression's generator shows as Python's does: <generator object <genexpr> at 0x...>
_lazy.__name__ = _lazy.__qualname__ = "<genexpr>"


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
    """The allowlist and the interpreter must describe the same language."""
    visitors = {name[len("visit_") :] for name in dir(cls) if name.startswith("visit_")}
    if visitors != set(policy.VISITED_NODES):
        missing = sorted(set(policy.VISITED_NODES) - visitors)
        extra = sorted(visitors - set(policy.VISITED_NODES))
        raise AssertionError(f"interpreter/policy mismatch: no visitor for {missing}, visitors not allowed {extra}")
    unknown = [n for n in policy.ALLOWED_NODES if not hasattr(ast, n)]
    if unknown:
        raise AssertionError(f"policy names unknown node types: {unknown}")


_check_visitors(Interpreter)
