"""Source text -> checked, annotated AST.

`ast.parse` does the parsing (user code is never compiled or evaluated); `check` then walks the tree once,
iteratively so no input can exhaust the stack, and

- refuses every node type outside policy.ALLOWED_NODES, private attribute names, bytes literals,
  relative and star imports, async comprehensions and source nested deeper than the limit;
- finds what Python's compiler would (return outside a function, break outside a loop, nonlocal at
  module level), since we never run the compiler;
- annotates nodes for the interpreter: `tsr_src` (the Source, for error positions) on every node,
  `tsr_site` on statements, the operator function on operator nodes, the scope of every function,
  lambda and comprehension, and whether a call is a plain positional call.
"""

from __future__ import annotations

import ast
import functools
import symtable

from tcli import policy
from tcli.errors import ScriptError, Site, Source, private_attribute_error, set_node, syntax_error

_ALLOWED = {getattr(ast, name) for name in policy.ALLOWED_NODES}
_YIELDS = (ast.Yield, ast.YieldFrom)


def _same(node: ast.AST, memo: dict) -> ast.AST:
    return node


_COMPREHENSIONS = (ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)
_LOOPS = (ast.For, ast.While)


class Scope:
    """Names of a function, lambda or comprehension scope, decided statically as Python does."""

    __slots__ = ("local_names", "global_names", "nonlocal_names", "special")

    def __init__(self, local_names: frozenset[str], global_names=frozenset(), nonlocal_names=frozenset()):
        self.local_names = local_names
        self.global_names = global_names
        self.nonlocal_names = nonlocal_names
        #: names whose stores do not go to the local dict
        self.special = global_names | nonlocal_names


def parse(text: str, filename: str = "<string>", max_nesting: int = 100, echo: str | None = None) -> ast.Module:
    """Parse and check a tsr program; raise ScriptError (a positioned SyntaxError) if it is not one.

    With `echo` (a REPL input), when the last statement is a block, each expression statement inside it
    (outside nested functions) becomes a call of the global `echo` with its value, so that the value is
    shown as Python's REPL shows it (`for i in range(3): i` shows 0, 1, 2)."""
    source = Source(text, filename)
    try:
        tree = ast.parse(text, filename=filename, mode="exec")
    except SyntaxError as e:
        raise _syntax_script_error(e, source) from None
    except (RecursionError, MemoryError):
        raise ScriptError(
            "SyntaxError",
            f"source is nested too deeply to parse (tsr allows {max_nesting} levels)",
            Site(filename, 1, 1, 2, source.line(1)),
        ) from None
    except ValueError as e:  # e.g. "source code string cannot contain null bytes"
        raise ScriptError("SyntaxError", str(e), Site(filename, 1, 1, 2, source.line(1))) from None
    if echo is not None and tree.body:
        _wrap_expressions(tree.body[-1], echo)
    try:
        _Checker(source, max_nesting).check(tree)
    except (SyntaxError, AttributeError) as e:
        raise ScriptError.from_exception(e) from None
    try:
        # Python's scope checks (duplicate parameters, global or nonlocal after use, a nonlocal with no
        # binding), found before anything runs as Python finds them; symtable analyses, it builds no code
        symtable.symtable(text, filename, "exec")
    except SyntaxError as e:
        raise _syntax_script_error(e, source) from None
    except (RecursionError, MemoryError, ValueError):
        pass  # (the checks above already refused anything too deep to analyse)
    return tree


def _wrap_expressions(stmt: ast.stmt, echo: str) -> None:
    """Expression statements in the blocks of `stmt` (not in functions or classes) -> `echo(value)`."""
    block = isinstance(getattr(stmt, "body", None), list) or type(stmt) is ast.Match  # (a match has cases)
    stack: list[ast.AST] = [stmt] if block else []
    while stack:
        node = stack.pop()
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)):
            continue
        for field in ("body", "orelse", "finalbody", "handlers", "cases"):
            for child in getattr(node, field, None) or ():
                if type(child) is ast.Expr:
                    value = child.value
                    child.value = ast.copy_location(
                        ast.Call(ast.copy_location(ast.Name(echo, ast.Load()), value), [value], []), value
                    )
                else:
                    stack.append(child)


def _syntax_script_error(e: SyntaxError, source: Source) -> ScriptError:
    line = e.lineno or 1
    col = e.offset or 1
    end = e.end_offset if (e.end_lineno in (None, line) and e.end_offset and e.end_offset > col) else col + 1
    text = source.line(line) or (e.text or "").rstrip("\n")
    return ScriptError(type(e).__name__, e.msg, Site(source.filename, line, col, end, text), exc=e)


class _Checker:
    def __init__(self, source: Source, max_nesting: int) -> None:
        self.source = source
        self.max_nesting = max_nesting

    def fail(self, message: str, node: ast.AST) -> SyntaxError:
        return syntax_error(message, node, self.source)

    def check(self, tree: ast.Module) -> None:
        src = self.source
        # (node, depth, in_function, in_loop)
        stack: list[tuple[ast.AST, int, bool, bool]] = [(tree, 0, False, False)]
        while stack:
            node, depth, in_func, in_loop = stack.pop()
            kind = type(node)
            if kind not in _ALLOWED:
                name = kind.__name__
                why = policy.REFUSED_SYNTAX.get(name, f"'{name}' is not supported in tsr")
                raise self.fail(why, node)
            if depth > self.max_nesting:
                raise self.fail(f"source is nested too deeply (tsr allows {self.max_nesting} levels)", node)
            node.tsr_src = src  # type: ignore[attr-defined]
            # copied as itself: an error keeps its node, and copy.deepcopy of the error must not copy (and hand a
            # memo the originals of) the interpreter's annotations on the tree
            node.__deepcopy__ = functools.partial(_same, node)  # type: ignore[attr-defined]
            annotate = _ANNOTATE.get(kind)
            if annotate is not None:
                annotate(self, node, in_func, in_loop)
            if isinstance(node, ast.stmt):
                node.tsr_site = src.site(node)  # type: ignore[attr-defined]
            child_depth = depth + 1
            if kind is ast.FunctionDef:
                stack += [(c, child_depth, True, False) for c in node.body]
                outer = [node.args, *node.decorator_list] + ([node.returns] if node.returns else [])
                stack += [(c, child_depth, in_func, in_loop) for c in outer]
            elif kind is ast.Lambda:
                stack += [(node.body, child_depth, True, False), (node.args, child_depth, in_func, in_loop)]
            elif kind in _LOOPS:
                stack += [(c, child_depth, in_func, True) for c in node.body]
                head = [node.test] if kind is ast.While else [node.target, node.iter]
                stack += [(c, child_depth, in_func, in_loop) for c in head + node.orelse]
            else:
                stack += [(c, child_depth, in_func, in_loop) for c in ast.iter_child_nodes(node)]

    # -- per-node checks and annotations ------------------------------------------------------------

    def attribute(self, node: ast.Attribute, *_: bool) -> None:
        readable = node.attr in policy.READABLE_UNDERSCORED and isinstance(node.ctx, ast.Load)
        if node.attr in policy.CLASS_SPECIAL_METHODS and isinstance(node.ctx, ast.Load):
            v = node.value  # super().__init__(...): the base class's constructor, the one dunder call allowed
            readable = type(v) is ast.Call and type(v.func) is ast.Name and v.func.id == "super"
        # a single leading underscore may name what a script's own class defined (self._cache, self._init_weights):
        # decided when it runs (Prelude.private_allowed); a dunder is refused here
        node.tsr_private = node.attr.startswith("_") and not readable  # type: ignore[attr-defined]
        # (the name `super` may be rebound: the interpreter checks that the object really is a super object)
        node.tsr_super = readable and node.attr in policy.CLASS_SPECIAL_METHODS  # type: ignore[attr-defined]
        if node.attr.startswith("__") and not readable:
            err = private_attribute_error(node.attr)
            set_node(err, node)
            raise err
        # methods whose allocation is checked before the call (torch.zeros is checked by its facade)
        node.tsr_sized = node.attr in policy.SIZED_METHODS  # type: ignore[attr-defined]

    def constant(self, node: ast.Constant, *_: bool) -> None:
        if not isinstance(node.value, policy.CONSTANT_TYPES):
            raise self.fail(f"{type(node.value).__name__} literals are not supported in tsr", node)

    def binop(self, node: ast.BinOp, *_: bool) -> None:
        node.tsr_op = policy.BINARY_OPERATORS[type(node.op).__name__]  # type: ignore[attr-defined]

    def augassign(self, node: ast.AugAssign, *_: bool) -> None:
        # keyed by the plain operator; the interpreter's table maps it to the checked in-place one
        node.tsr_op = policy.BINARY_OPERATORS[type(node.op).__name__]  # type: ignore[attr-defined]

    def unaryop(self, node: ast.UnaryOp, *_: bool) -> None:
        node.tsr_op = policy.UNARY_OPERATORS[type(node.op).__name__]  # type: ignore[attr-defined]

    def compare(self, node: ast.Compare, *_: bool) -> None:
        node.tsr_ops = tuple(policy.COMPARISONS[type(op).__name__] for op in node.ops)  # type: ignore

    def call(self, node: ast.Call, *_: bool) -> None:
        simple = not node.keywords and not any(type(a) is ast.Starred for a in node.args)
        node.tsr_simple = simple  # type: ignore[attr-defined]
        seen: set[str] = set()
        for kw in node.keywords:
            if kw.arg is not None:
                if kw.arg in seen:
                    raise self.fail(f"keyword argument repeated: {kw.arg}", kw)
                seen.add(kw.arg)

    def targets(self, node: ast.Assign | ast.For | ast.comprehension, *_: bool) -> None:
        """The checks Python's compiler makes of starred targets."""
        for target in node.targets if type(node) is ast.Assign else [node.target]:
            if type(target) is ast.Starred:
                raise self.fail("starred assignment target must be in a list or tuple", target)
            stack = [target]
            while stack:
                t = stack.pop()
                if type(t) in (ast.Tuple, ast.List):
                    if sum(type(e) is ast.Starred for e in t.elts) > 1:
                        raise self.fail("multiple starred expressions in assignment", t)
                    stack += [e.value if type(e) is ast.Starred else e for e in t.elts]

    def class_(self, node: ast.ClassDef, *_: bool) -> None:
        bases = node.bases
        plain = not bases or (len(bases) == 1 and type(bases[0]) is ast.Name and bases[0].id == "object")
        if plain and not node.keywords:
            # `class A:` / `class A(object):`: a plain object, held to the rules of every script class's instances
            node.tsr_plain = True  # type: ignore[attr-defined]
        elif len(node.bases) != 1 or node.keywords:
            raise self.fail(
                f"a tsr class has exactly one base class: {policy.CLASS_BASES_TEXT}, or a class defined in the "
                "script (no metaclass or other keywords)",
                node,
            )
        defined: set[str] = set()  # the names the body has bound to a method (def) so far
        for i, stmt in enumerate(node.body):
            kind = type(stmt)
            if kind is ast.FunctionDef:
                name = stmt.name
                defined.add(name)
                if name.startswith("__") and name not in policy.CLASS_SPECIAL_METHODS:
                    allowed = ", ".join(sorted(policy.CLASS_SPECIAL_METHODS))
                    raise self.fail(
                        f"method '{name}': of the special methods, tsr classes define {allowed} only",
                        stmt,
                    )
                stmt.tsr_method = True  # type: ignore[attr-defined]
            elif (kind is ast.Assign and all(type(t) is ast.Name for t in stmt.targets)) or (
                kind is ast.AnnAssign and type(stmt.target) is ast.Name
            ):
                # (`lr: float = 0.1` is `lr = 0.1`; a bare `lr: float` declares nothing tsr keeps)
                value = stmt.value
                for t in stmt.targets if kind is ast.Assign else [stmt.target]:
                    # `__rmul__ = __mul__`, `__str__ = show`: a special method tsr classes define, as a method the
                    # body defined before (no other value: what a def of that name could not be)
                    alias = type(value) is ast.Name and value.id in defined
                    special = t.id in policy.CLASS_SPECIAL_ATTRIBUTES and not alias  # (__match_args__ = (...))
                    if t.id.startswith("__") and not (alias and t.id in policy.CLASS_SPECIAL_METHODS) and not special:
                        # (a class attribute named __getattr__ would be Python's)
                        raise self.fail(f"class attribute '{t.id}': special names are Python's, not a script's", t)
                    if alias:
                        defined.add(t.id)
                    else:
                        defined.discard(t.id)
            elif kind is ast.Pass or (
                i == 0 and kind is ast.Expr and type(stmt.value) is ast.Constant and type(stmt.value.value) is str
            ):
                continue
            else:
                raise self.fail(
                    "a tsr class body holds methods (def), a docstring, pass and `name = value` (or "
                    "`name: type = value`) class attributes",
                    stmt,
                )

    def function(self, node: ast.FunctionDef | ast.Lambda, *_: bool) -> None:
        node.tsr_scope = _function_scope(node, self)  # type: ignore[attr-defined]
        if getattr(node, "tsr_generator", False) and type(node) is ast.Lambda:
            raise self.fail("a lambda cannot yield in tsr (write a def)", node)

    def statement_yield(self, node: ast.Expr | ast.Assign, *flags: bool) -> None:
        if type(node.value) in _YIELDS:
            node.value.tsr_placed = True  # type: ignore[attr-defined]
        if type(node) is ast.Assign:
            self.targets(node, *flags)

    def yield_(self, node: ast.Yield | ast.YieldFrom, in_func: bool, _loop: bool) -> None:
        if not in_func:
            raise self.fail(f"'{'yield from' if type(node) is ast.YieldFrom else 'yield'}' outside function", node)
        if not getattr(node, "tsr_placed", False):
            raise self.fail(
                "tsr runs yield as a statement (`yield x`, `yield from it`) or an assignment's value (`x = yield`)",
                node,
            )

    def comprehension_node(self, node: ast.expr, *_: bool) -> None:
        names: set[str] = set()
        for gen in node.generators:  # type: ignore[attr-defined]
            if gen.is_async:
                raise self.fail("async comprehensions are not supported in tsr", node)
            names |= _target_names(gen.target)
        node.tsr_scope = Scope(frozenset(names))  # type: ignore[attr-defined]

    def return_(self, node: ast.Return, in_func: bool, _loop: bool) -> None:
        if not in_func:
            raise self.fail("'return' outside function", node)

    def break_(self, node: ast.Break, _func: bool, in_loop: bool) -> None:
        if not in_loop:
            raise self.fail("'break' outside loop", node)

    def continue_(self, node: ast.Continue, _func: bool, in_loop: bool) -> None:
        if not in_loop:
            raise self.fail("'continue' not properly in loop", node)

    def nonlocal_(self, node: ast.Nonlocal, in_func: bool, _loop: bool) -> None:
        if not in_func:
            raise self.fail("nonlocal declaration not allowed at module level", node)

    def match(self, node: ast.Match, *_: bool) -> None:
        """The checks CPython's compiler makes of a match statement's patterns (ast.parse makes none of them), in
        its order and at the node it blames (the pattern it entered last), then tsr's own: a class pattern's
        keyword reads an attribute as `obj.name` does, so a dunder name is refused here as `obj.__dict__` is."""
        _PatternChecker(self).check(node)

    def import_from(self, node: ast.ImportFrom, *_: bool) -> None:
        if node.level:
            raise self.fail("relative imports are not supported in tsr", node)
        if any(a.name == "*" for a in node.names):
            raise self.fail("'from ... import *' is not supported in tsr; import the names you use", node)


_ANNOTATE = {
    ast.Attribute: _Checker.attribute,
    ast.Constant: _Checker.constant,
    ast.BinOp: _Checker.binop,
    ast.AugAssign: _Checker.augassign,
    ast.UnaryOp: _Checker.unaryop,
    ast.Compare: _Checker.compare,
    ast.Call: _Checker.call,
    ast.Assign: _Checker.statement_yield,
    ast.Expr: _Checker.statement_yield,
    ast.Yield: _Checker.yield_,
    ast.YieldFrom: _Checker.yield_,
    ast.For: _Checker.targets,
    ast.comprehension: _Checker.targets,
    ast.FunctionDef: _Checker.function,
    ast.ClassDef: _Checker.class_,
    ast.Lambda: _Checker.function,
    ast.ListComp: _Checker.comprehension_node,
    ast.SetComp: _Checker.comprehension_node,
    ast.DictComp: _Checker.comprehension_node,
    ast.GeneratorExp: _Checker.comprehension_node,
    ast.Return: _Checker.return_,
    ast.Break: _Checker.break_,
    ast.Continue: _Checker.continue_,
    ast.Nonlocal: _Checker.nonlocal_,
    ast.ImportFrom: _Checker.import_from,
    ast.Match: _Checker.match,
}


def is_wildcard(node: ast.pattern) -> bool:
    """`_`: a pattern that matches anything and binds nothing."""
    return type(node) is ast.MatchAs and node.pattern is None and node.name is None


def sequence_strategy(node: ast.MatchSequence) -> str:
    """How CPython reads a sequence pattern's items: "none" when every sub-pattern is a wildcard (`[_, *_]`: the
    length says it all), "index" when the star is a wildcard (`[first, *_, last]`: subject[0], subject[-1]), else
    "unpack" (iterating the subject, as `a, *rest = subject`)."""
    stars = [p for p in node.patterns if type(p) is ast.MatchStar]
    star_wildcard = bool(stars) and stars[0].name is None  # type: ignore[attr-defined]
    if all(is_wildcard(p) or (type(p) is ast.MatchStar and p.name is None) for p in node.patterns):
        return "none"
    return "index" if star_wildcard else "unpack"


def _folded(node: ast.expr) -> tuple[bool, object]:
    """A literal pattern's value as CPython's constant folding leaves it (`-1`, `1 + 2j`): (True, value), or
    (False, None) for what stays an expression (an attribute lookup, an f-string)."""
    kind = type(node)
    if kind is ast.Constant:
        return True, node.value  # type: ignore[attr-defined]
    if kind is ast.UnaryOp and type(node.op) is ast.USub:  # type: ignore[attr-defined]
        ok, v = _folded(node.operand)  # type: ignore[attr-defined]
        return (True, -v) if ok and isinstance(v, (int, float, complex)) else (False, None)  # type: ignore[operator]
    if kind is ast.BinOp and type(node.op) in (ast.Add, ast.Sub):  # type: ignore[attr-defined]
        (lok, lv), (rok, rv) = _folded(node.left), _folded(node.right)  # type: ignore[attr-defined]
        if lok and rok and isinstance(lv, (int, float, complex)) and isinstance(rv, (int, float, complex)):
            return True, (lv + rv if type(node.op) is ast.Add else lv - rv)  # type: ignore[attr-defined]
    return False, None


class _PatternChecker:
    """CPython 3.11's compiler_match/compiler_pattern checks: names stored once per pattern, alternatives binding
    the same names, irrefutable patterns only last, one star per sequence, literal mapping keys given once, class
    pattern keywords given once. An error is positioned at the pattern the compiler entered last, as CPython's."""

    def __init__(self, checker: _Checker) -> None:
        self.checker = checker
        self.loc: ast.AST | None = None
        self.stores: list[str] = []
        self.allow_irrefutable = False

    def fail(self, message: str, node: ast.AST | None = None) -> SyntaxError:
        return self.checker.fail(message, node if node is not None else self.loc)  # type: ignore[arg-type]

    def check(self, node: ast.Match) -> None:
        cases = node.cases
        for i, case in enumerate(cases):
            last = cases[-1]
            if i == len(cases) - 1 and len(cases) > 1 and type(last.pattern) is ast.MatchAs:
                p = last.pattern
                if p.pattern is None and p.name is None:  # a trailing `case _:`: nothing to check
                    continue
            self.stores = []
            self.allow_irrefutable = case.guard is not None or i == len(cases) - 1
            self.pattern(case.pattern)

    def store(self, name: str | None) -> None:
        if name is None:
            return
        if name == "__debug__":
            raise self.fail("cannot assign to __debug__")
        if name in self.stores:
            raise self.fail(f"multiple assignments to name {name!r} in pattern")
        self.stores.append(name)

    def sub(self, node: ast.pattern) -> None:
        saved = self.allow_irrefutable
        self.allow_irrefutable = True
        self.pattern(node)
        self.allow_irrefutable = saved

    def pattern(self, node: ast.pattern) -> None:
        self.loc = node
        kind = type(node)
        if kind is ast.MatchAs:
            if node.pattern is None:
                if not self.allow_irrefutable:
                    if node.name is not None:
                        raise self.fail(f"name capture {node.name!r} makes remaining patterns unreachable")
                    raise self.fail("wildcard makes remaining patterns unreachable")
            else:
                self.pattern(node.pattern)
            self.store(node.name)
        elif kind is ast.MatchValue:
            if type(node.value) is not ast.Attribute and not _folded(node.value)[0]:
                raise self.fail("patterns may only match literals and attribute lookups")
        elif kind is ast.MatchSequence:
            if sum(type(p) is ast.MatchStar for p in node.patterns) > 1:
                raise self.fail("multiple starred names in sequence pattern")
            how = sequence_strategy(node)
            for p in node.patterns:  # (wildcards read by index are skipped, as CPython compiles them)
                if how == "unpack" or (how == "index" and type(p) is not ast.MatchStar and not is_wildcard(p)):
                    self.sub(p)
        elif kind is ast.MatchStar:
            self.store(node.name)
        elif kind is ast.MatchMapping:
            seen: set = set()
            for key in node.keys:
                literal, value = _folded(key)
                if literal:
                    try:
                        dup = value in seen
                        seen.add(value)
                    except TypeError:
                        dup = False
                    if dup:
                        raise self.fail(f"mapping pattern checks duplicate key ({value!r})")
                elif type(key) is not ast.Attribute:
                    raise self.fail("mapping pattern keys may only match literals and attribute lookups")
            for p in node.patterns:
                self.sub(p)
            self.store(node.rest)
        elif kind is ast.MatchClass:
            attrs = node.kwd_attrs
            for i, attr in enumerate(attrs):
                if attr == "__debug__":  # (CPython blames a keyword's pattern: the name has no node)
                    raise self.fail("cannot assign to __debug__", node.kwd_patterns[i])
                for j in range(i + 1, len(attrs)):
                    if attrs[j] == attr:
                        raise self.fail(f"attribute name repeated in class pattern: {attr}", node.kwd_patterns[j])
            for attr, p in zip(attrs, node.kwd_patterns):
                # `case C(__dict__=d)` reads obj.__dict__: refused as that attribute is (Checker.attribute)
                if attr.startswith("__") and attr not in policy.READABLE_UNDERSCORED:
                    err = private_attribute_error(attr)
                    p.tsr_src = self.checker.source  # type: ignore[attr-defined]
                    set_node(err, p)
                    raise err
            for p in (*node.patterns, *node.kwd_patterns):
                if not is_wildcard(p):
                    self.sub(p)
        elif kind is ast.MatchOr:
            outer, allow = self.stores, self.allow_irrefutable
            control: list[str] | None = None
            n = len(node.patterns)
            for i, alt in enumerate(node.patterns):
                self.loc = alt
                self.stores = []
                self.allow_irrefutable = i == n - 1 and allow
                self.pattern(alt)
                if control is None:
                    control = self.stores
                elif sorted(self.stores) != sorted(control):
                    raise self.fail("alternative patterns bind different names")
            self.stores, self.allow_irrefutable = outer, allow
            for name in control or ():
                self.store(name)


def _target_names(target: ast.AST) -> set[str]:
    return {n.id for n in ast.walk(target) if type(n) is ast.Name}


def _function_scope(func: ast.FunctionDef | ast.Lambda, checker: _Checker) -> Scope:
    """Locals are the parameters and every name bound in the body outside nested scopes (walrus targets
    inside comprehensions included), minus the names declared global or nonlocal."""
    a = func.args
    params = [p.arg for p in a.posonlyargs + a.args + a.kwonlyargs]
    params += [p.arg for p in (a.vararg, a.kwarg) if p is not None]
    bound: set[str] = set()
    declared_global: set[str] = set()
    declared_nonlocal: set[str] = set()
    stack: list[ast.AST] = list(func.body) if isinstance(func.body, list) else [func.body]
    while stack:
        n = stack.pop()
        t = type(n)
        if t is ast.Name:
            if not isinstance(n.ctx, ast.Load):
                bound.add(n.id)
            continue
        if t is ast.Yield or t is ast.YieldFrom:
            func.tsr_generator = True  # type: ignore[union-attr]
        if t is ast.FunctionDef:
            bound.add(n.name)
            stack += n.decorator_list + n.args.defaults + [d for d in n.args.kw_defaults if d is not None]
            continue
        if t is ast.ClassDef:  # binds its name here; its methods are scopes of their own
            bound.add(n.name)
            stack += n.bases
            for item in n.body:
                if type(item) is ast.FunctionDef:
                    stack += item.decorator_list + item.args.defaults
                    stack += [d for d in item.args.kw_defaults if d is not None]
                elif type(item) is ast.Assign:
                    stack.append(item.value)  # (its targets bind in the class, not here)
            continue
        if t is ast.Lambda:
            stack += n.args.defaults + [d for d in n.args.kw_defaults if d is not None]
            continue
        if t in _COMPREHENSIONS:
            for gen in n.generators:
                stack.append(gen.iter)
                stack += gen.ifs
            stack += [n.key, n.value] if t is ast.DictComp else [n.elt]
            continue
        if t is ast.Import or t is ast.ImportFrom:
            bound |= {(al.asname or al.name).split(".")[0] for al in n.names}
        elif t is ast.ExceptHandler and n.name:
            bound.add(n.name)
        elif (t is ast.MatchAs or t is ast.MatchStar) and n.name:
            bound.add(n.name)  # (a pattern's captures are the function's locals, as an assignment's targets)
        elif t is ast.MatchMapping and n.rest:
            bound.add(n.rest)
        elif t is ast.Global:
            declared_global |= set(n.names)
        elif t is ast.Nonlocal:
            declared_nonlocal |= set(n.names)
        stack.extend(ast.iter_child_nodes(n))
    for name in declared_global & set(params):
        raise checker.fail(f"name '{name}' is parameter and global", func)
    for name in declared_nonlocal & set(params):
        raise checker.fail(f"name '{name}' is parameter and nonlocal", func)
    local = frozenset((bound | set(params)) - declared_global - declared_nonlocal)
    return Scope(local, frozenset(declared_global), frozenset(declared_nonlocal))


def is_complete(text: str) -> bool:
    """Whether an interactive input is finished (the REPL's multi-line detection), using ast.parse only.

    Incomplete: an open bracket or string, a block header with no body yet, a line ending in a
    backslash, or a block (a compound statement last) whose last line is indented, until a blank line
    is entered. An indented line that closes a bracket of a simple statement completes it.
    Errors elsewhere count as complete so that running the input reports them.
    """
    if not text.strip():
        return True
    stripped = text.rstrip()
    if stripped.endswith("\\"):
        return False
    try:
        tree = ast.parse(text)
    except SyntaxError as e:
        msg = e.msg or ""
        if "was never closed" in msg or "unexpected EOF" in msg or "unterminated triple-quoted" in msg:
            return False
        if msg.startswith("expected an indented block") and (e.lineno or 0) >= len(text.splitlines()):
            return False
        open_input = not text.endswith("\n\n")  # (an empty line ends any block, complete or not)
        if msg.startswith("expected 'except' or 'finally' block") and open_input:
            return False  # a try block being typed: its handlers come next
        if stripped.split("\n")[-1].lstrip().startswith("@") and open_input:
            return False  # a decorator: the def comes next
        if stripped.endswith(":") and not text.endswith("\n\n"):
            return False
        return True
    except (ValueError, RecursionError, MemoryError):
        return True
    # a block (a compound statement last) stays open while its last line is indented, until an empty
    # line; an indented line that only continues a simple statement (`x = [1,` / `    2]`) ends it
    last_stmt = tree.body[-1] if tree.body else None
    if last_stmt is None or not (isinstance(getattr(last_stmt, "body", None), list) or type(last_stmt) is ast.Match):
        return True
    lines = text.rstrip("\n").split("\n")
    last = lines[-1]
    if len(lines) > 1 and last[:1] in (" ", "\t") and not text.endswith("\n\n"):
        return False
    return True
