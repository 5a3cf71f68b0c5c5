"""What a tsr script may do, in one file: the syntax it may use, the names and attributes it may reach,
the modules it may import, and every resource limit.

The sandbox is an allowlist. A node type, attribute, module or builtin that is not named here is refused,
so a new Python release that adds syntax or methods widens nothing. The parser checks the tree against the
node sets below, the interpreter asserts at import time that it has exactly one visit method per executed
node, and every attribute lookup goes through `attribute_rule`.
"""

from __future__ import annotations

import operator
import os
from dataclasses import dataclass

# ---------------------------------------------------------------------------------------------------------
# Syntax
# ---------------------------------------------------------------------------------------------------------

STATEMENTS = frozenset(
    {
        "Expr", "Assign", "AugAssign", "AnnAssign", "If", "For", "While", "Break", "Continue", "FunctionDef",
        "Return", "With", "Assert", "Pass", "Delete", "Try", "Raise", "Global", "Nonlocal", "Import",
        "ImportFrom", "ClassDef", "Match",
    }
)  # fmt: skip

EXPRESSIONS = frozenset(
    {
        "Constant", "JoinedStr", "FormattedValue", "List", "Tuple", "Dict", "Set", "ListComp", "SetComp",
        "DictComp", "GeneratorExp", "IfExp", "BoolOp", "BinOp", "UnaryOp", "Compare", "Call", "Attribute",
        "Subscript", "Slice", "Starred", "Name", "Lambda", "NamedExpr",
    }
)  # fmt: skip

#: Node types the interpreter executes, each through its own visit_<Name> method.
VISITED_NODES = STATEMENTS | EXPRESSIONS | {"Module"}

#: Node types that are only read by the visit method of their parent (named here for the reviewer).
PART_NODES = {
    "arguments": "FunctionDef, Lambda",
    "arg": "FunctionDef, Lambda",
    "keyword": "Call",
    "comprehension": "ListComp, SetComp, DictComp, GeneratorExp",
    "alias": "Import, ImportFrom",
    "ExceptHandler": "Try",
    "withitem": "With",
    # structural pattern matching: a match statement's cases and their patterns, compiled by visit_Match
    "match_case": "Match",
    "MatchValue": "Match", "MatchSingleton": "Match", "MatchSequence": "Match", "MatchStar": "Match",
    "MatchMapping": "Match", "MatchClass": "Match", "MatchAs": "Match", "MatchOr": "Match",
    # a yield is a whole statement's value (`yield x`, `x = yield`, `yield from it`), run by tcli/generators.py
    "Yield": "Expr, Assign (in a generator function)",
    "YieldFrom": "Expr, Assign (in a generator function)",
    "Load": "expression context",
    "Store": "expression context",
    "Del": "expression context",
}  # fmt: skip

BINARY_OPERATORS = {
    "Add": operator.add, "Sub": operator.sub, "Mult": operator.mul, "MatMult": operator.matmul,
    "Div": operator.truediv, "FloorDiv": operator.floordiv, "Mod": operator.mod, "Pow": operator.pow,
    "LShift": operator.lshift, "RShift": operator.rshift, "BitOr": operator.or_, "BitXor": operator.xor,
    "BitAnd": operator.and_,
}  # fmt: skip

#: Augmented assignment uses the in-place protocol, so `w -= lr * w.grad` is in-place on tensors.
INPLACE_OPERATORS = {
    "Add": operator.iadd, "Sub": operator.isub, "Mult": operator.imul, "MatMult": operator.imatmul,
    "Div": operator.itruediv, "FloorDiv": operator.ifloordiv, "Mod": operator.imod, "Pow": operator.ipow,
    "LShift": operator.ilshift, "RShift": operator.irshift, "BitOr": operator.ior, "BitXor": operator.ixor,
    "BitAnd": operator.iand,
}  # fmt: skip

UNARY_OPERATORS = {
    "UAdd": operator.pos,
    "USub": operator.neg,
    "Invert": operator.invert,
    "Not": operator.not_,
}

_MATERIAL = (list, tuple, set, frozenset, dict, str)


def contains(item: object, container: object) -> bool:
    """`item in container` without an unbounded C-level scan (which no timeout could stop): a float in a
    huge range is decided arithmetically, and an iterator is scanned in blocks."""
    kind = type(container)
    if kind in _MATERIAL:
        return item in container  # type: ignore[operator]
    if kind is range:
        if type(item) is float:
            return item.is_integer() and int(item) in container  # type: ignore[operator]
        if type(item) is not int and type(item) is not bool and len(container) > 1 << 16:  # type: ignore[arg-type]
            return _scan(item, container)
        return item in container  # type: ignore[operator]
    if hasattr(kind, "__contains__"):
        return item in container  # type: ignore[operator]
    try:
        iterator = iter(container)  # type: ignore[call-overload]
    except TypeError:
        raise TypeError(f"argument of type '{kind.__name__}' is not iterable") from None
    return _scan(item, iterator)


def _scan(item: object, iterable: object) -> bool:
    # item by item (a Python loop, so timer signals are handled), stopping at the first match as `in` does
    for x in iterable:  # type: ignore[attr-defined]
        if x is item or x == item:
            return True
    return False


COMPARISONS = {
    "Eq": operator.eq, "NotEq": operator.ne, "Lt": operator.lt, "LtE": operator.le, "Gt": operator.gt,
    "GtE": operator.ge, "Is": operator.is_, "IsNot": operator.is_not,
    "In": contains, "NotIn": lambda a, b: not contains(a, b),
}  # fmt: skip

BOOLEAN_OPERATORS = frozenset({"And", "Or"})

#: Every node type a tree may contain.
ALLOWED_NODES = (
    VISITED_NODES | frozenset(PART_NODES) | frozenset(BINARY_OPERATORS) | frozenset(UNARY_OPERATORS)
    | frozenset(COMPARISONS) | BOOLEAN_OPERATORS
)  # fmt: skip

#: Classes: `class Name(Base):` with one base, torch.nn.Module, torch.autograd.Function, torch.utils.data's
#: Dataset or Sampler (and the other CLASS_BASES_TEXT), a class the script defined, or none (`class A:`, a
#: plain object: the data-holding classes of tutorials, micrograd's Value). The base is checked when the
#: statement runs. The body holds methods, a docstring, `pass` and `name = value` class attributes. Of the
#: special methods only these may be defined, and super() gives only them and public names. Each is one that
#: Python itself calls for an operator, a builtin or a protocol (__enter__/__exit__: the with statement, whose
#: __exit__ never sees the exceptions that end a run, errors.UNCATCHABLE), and runs as the script's code under its
#: limits; the ones that would reach into attribute lookup, object creation, finalization or class building
#: (__getattr__, __getattribute__, __new__, __del__, __init_subclass__, __class_getitem__, __set_name__,
#: descriptors, __reduce__, __index__/__int__/__float__ that numpy and the engine call) are not among them.
CLASS_SPECIAL_METHODS = frozenset({
    "__init__", "__post_init__", "__len__", "__getitem__", "__setitem__", "__iter__", "__next__", "__contains__",
    "__call__", "__enter__", "__exit__",
    "__repr__", "__str__", "__bool__", "__eq__", "__ne__", "__lt__", "__le__", "__gt__", "__ge__", "__hash__",
    "__add__", "__radd__", "__sub__", "__rsub__", "__mul__", "__rmul__", "__truediv__", "__rtruediv__",
    "__floordiv__", "__rfloordiv__", "__mod__", "__rmod__", "__pow__", "__rpow__", "__matmul__", "__rmatmul__",
    "__neg__", "__pos__", "__abs__", "__iadd__", "__isub__", "__imul__", "__itruediv__",
})  # fmt: skip
#: Special class attributes a script's class may set (`__match_args__ = ("x", "y")`: the attributes positional
#: sub-patterns of `case Point(x, y):` read, each through the attribute rules as `obj.x` is); a tuple of strings.
CLASS_SPECIAL_ATTRIBUTES = frozenset({"__match_args__"})
#: What a script's class may derive from (a subclass of one of these counts too), as the errors name them.
CLASS_BASES_TEXT = (
    "torch.nn.Module, torch.autograd.Function, torch.utils.data.Dataset or Sampler, torch.optim.Optimizer, "
    "torch.optim.lr_scheduler.LRScheduler, torch.nn.utils.prune.BasePruningMethod, enum.Enum, enum.IntEnum, "
    "abc.ABC or an exception class (Exception, ValueError ...)"
)
#: The attribute names tcli keeps its bookkeeping in on an exception (errors.tag: where it was raised, the calls it
#: left, the type name to report): a script's own exception class may neither define nor read nor set them.
EXCEPTION_TAG_PREFIX = "tsr_"
#: (Which classes a script defined is kept in a registry the class statement fills, prelude._SCRIPT_CLASSES:
#: never a mark in the class namespace, which a dict a script builds could fake.)

#: Literal values a script may write (no bytes: nothing in tsr consumes them).
CONSTANT_TYPES = (int, float, complex, str, bool, type(None), type(Ellipsis))

#: Why a construct is refused, for the error message; anything else reads "'<Node>' is not supported".
REFUSED_SYNTAX = {
    "AsyncFunctionDef": "async functions are not supported in tsr",
    "AsyncFor": "async for is not supported in tsr",
    "AsyncWith": "async with is not supported in tsr",
    "Await": "await is not supported in tsr",
    "TryStar": "except* is not supported in tsr",
}

# ---------------------------------------------------------------------------------------------------------
# Names
# ---------------------------------------------------------------------------------------------------------

#: The builtins a script sees (implemented in prelude.py; the unsafe ones are replaced by checked versions).
BUILTIN_FUNCTIONS = frozenset(
    {
        "print", "range", "len", "enumerate", "zip", "map", "filter", "list", "tuple", "dict", "set",
        "frozenset", "int", "float", "bool", "str", "complex", "repr", "ascii", "abs", "min", "max", "sum", "round",
        "sorted", "reversed", "any", "all", "isinstance", "issubclass", "hasattr", "getattr", "setattr", "delattr",
        "id", "divmod", "pow",
        "iter", "next", "slice", "format", "callable", "chr", "ord", "hex", "oct", "bin", "hash", "type",
        "super", "staticmethod", "classmethod", "property", "exit", "quit",
    }
)  # fmt: skip

#: Exception classes a script may raise and catch; engine errors keep torch's (builtin) types.
BUILTIN_EXCEPTIONS = frozenset(
    {
        "BaseException", "Exception", "ArithmeticError", "AssertionError", "AttributeError", "ImportError",
        "IndexError", "KeyError", "LookupError", "MemoryError", "ModuleNotFoundError", "NameError",
        "NotImplementedError", "OverflowError", "RecursionError", "RuntimeError", "StopIteration",
        "TypeError", "UnboundLocalError", "ValueError", "ZeroDivisionError", "FloatingPointError",
        # what torch.save/load and --timeout raise, and the warning classes (torch's warnings are UserWarnings)
        "OSError", "IOError", "PermissionError", "FileNotFoundError", "FileExistsError", "IsADirectoryError",
        "TimeoutError", "EOFError", "UnicodeError", "Warning", "UserWarning", "DeprecationWarning",
        "RuntimeWarning", "FutureWarning",
        # nameable so that `except KeyboardInterrupt:` is no NameError; Ctrl-C itself always stops the script
        "KeyboardInterrupt",
    }
)  # fmt: skip

#: The attributes starting with '_' scripts may read, read-only: strings (type(e).__name__, torch.__version__),
#: a tensor's version counter (t._version, which torch's in-place errors talk about) and x.__class__ (what
#: the tsr type() gives: a class only where a script may hold one, else a name that cannot be called), and what
#: the pruning tutorial prints: a module's forward pre-hooks (a copy of the dict) and a pruning method's
#: _tensor_name (a string), a sparse tensor's _indices()/_values()/_nnz() (as learners' notes call them), the
#: module torch.compile wrapped (compiled._orig_mod, to save its state_dict), and an
#: exception's __cause__ (what `raise ... from e` set: None or an exception, whose args only a script reads).
READABLE_UNDERSCORED = frozenset({"__name__", "__version__", "_version", "__class__", "_forward_pre_hooks",
                                  "_tensor_name", "_orig_mod", "__cause__",
                                  "_indices", "_values", "_nnz"})  # fmt: skip

#: tcli's own builtins.
TCLI_BUILTINS = frozenset({"graph", "show", "argv", "help"})
#: Python builtins tsr leaves out, with what a script does instead: the hint under their NameError.
_NO_CODE_FROM_TEXT = "tsr never runs text as code; write the code itself (json.loads reads data from text)"
_NO_NAMESPACES = "scripts cannot reach namespaces as dicts; keep the values in a dict of your own"
_NO_BYTES = "tsr has no byte strings; a tensor of dtype torch.uint8 holds bytes"
REFUSED_BUILTINS = {
    "open": (
        "scripts cannot open files; torch.save and torch.load save and load tensors and state dicts (in the "
        "working directory, or in a directory given with --allow-path DIR)"
    ),
    "eval": _NO_CODE_FROM_TEXT,
    "exec": _NO_CODE_FROM_TEXT,
    "compile": _NO_CODE_FROM_TEXT,
    "__import__": "write an import statement (`import math`); tsr(5), IMPORTS, lists the modules a script can import",
    "input": (
        "a script cannot read the terminal; pass values as arguments (`tcli run train.tsr 0.1`: sys.argv[1] is "
        "'0.1'), or try them in `tcli repl`"
    ),
    "globals": _NO_NAMESPACES,
    "locals": _NO_NAMESPACES,
    "vars": _NO_NAMESPACES,
    "dir": "help(obj) describes an object, and in `tcli repl` Tab completes its attributes",
    "breakpoint": "tsr has no debugger; print() the values, or run the lines one by one in `tcli repl`",
    "memoryview": _NO_BYTES,
    "bytes": _NO_BYTES,
    "bytearray": _NO_BYTES,
    "SystemExit": "end the script with sys.exit(code), or exit(code)",
}
#: Python's builtin constants besides True/False/None (an operator method returns NotImplemented to decline)
BUILTIN_CONSTANTS = frozenset({"NotImplemented", "Ellipsis"})

# ---------------------------------------------------------------------------------------------------------
# Imports
# ---------------------------------------------------------------------------------------------------------

#: Modules `import` accepts. "torch" is the engine; the others are the facades built in prelude.py.
TORCH = "torch"
#: torch.distributions' modules, importable one by one (`from torch.distributions.normal import Normal`)
DISTRIBUTIONS_MODULES = (
    "bernoulli", "beta", "binomial", "categorical", "cauchy", "chi2", "continuous_bernoulli", "dirichlet",
    "distribution", "exp_family", "exponential", "fishersnedecor", "gamma", "generalized_pareto", "geometric",
    "gumbel", "half_cauchy", "half_normal", "independent", "inverse_gamma", "kumaraswamy", "laplace",
    "lkj_cholesky", "log_normal", "logistic_normal", "lowrank_multivariate_normal", "mixture_same_family",
    "multinomial", "multivariate_normal", "negative_binomial", "normal", "one_hot_categorical", "pareto",
    "poisson", "relaxed_bernoulli", "relaxed_categorical", "studentT", "transformed_distribution", "uniform",
    "von_mises", "weibull", "wishart",
)  # fmt: skip
#: Engine submodules a script may import or reach as attributes (those the engine has; the rest, such as
#: the backend, dtypes or ops internals, stay out of reach).
TORCH_SUBMODULES = frozenset(
    {"nn", "nn.functional", "nn.init", "nn.utils", "nn.utils.rnn", "nn.utils.parametrize",
     "nn.utils.parametrizations", "nn.utils.stateless", "nn.utils.prune", "nn.utils.fusion", "optim",
     "optim.lr_scheduler",
     "optim.swa_utils",
     "autograd", "autograd.function", "autograd.functional", "autograd.graph", "autograd.forward_ad", "linalg",
     "random", "cuda",
     "special", "utils",
     "utils.data", "utils.data.dataloader", "utils.data.sampler", "utils.data.dataset", "utils.checkpoint",
     "distributions", "distributions.constraints", "distributions.transforms", "distributions.kl",
     "distributions.utils", "distributions.constraint_registry", "func", "testing", "accelerator", "backends",
     "backends.cuda", "backends.cudnn", "backends.mps", "fft", "signal", "signal.windows", "amp",
     "amp.autocast_mode", "amp.grad_scaler", "compiler", "cuda.amp", "cpu", "cpu.amp", "version",
     "nn.parallel", "nn.attention", "return_types", "sparse"}
    | {f"distributions.{m}" for m in DISTRIBUTIONS_MODULES}
)  # fmt: skip
#: The settings a script may assign on a torch module or settings object (seeding boilerplate:
#: `torch.backends.cudnn.deterministic = True`); each is a plain flag the engine only stores.
SETTABLE_FLAGS = {
    "torch.backends.cudnn": frozenset({"enabled", "deterministic", "benchmark", "allow_tf32"}),
    "torch.backends.cuda.matmul": frozenset(
        {"allow_tf32", "allow_fp16_reduced_precision_reduction", "allow_bf16_reduced_precision_reduction"}
    ),
}
#: The engine module behind a torch submodule, where its name is not engine.<the same path>.
ENGINE_MODULES = {
    "autograd.function": "engine.autograd_function",
    "autograd.functional": "engine.autograd_functional",
    "autograd.graph": "engine.autograd_graph",
    "autograd.forward_ad": "engine.forward_ad",
    "distributions.studentT": "engine.distributions.student_t",
    "cuda.amp": "engine.amp.cuda_amp",
    "cpu.amp": "engine.amp.cpu_amp",
}
#: The default floating dtypes a session may start with or switch to (--dtype, :dtype): torch.set_default_dtype's.
DEFAULT_DTYPES = ("float32", "float64", "float16", "bfloat16")
FACADE_MODULES = frozenset({
    "math", "numpy", "numpy.random", "random", "collections", "copy", "warnings", "time", "typing", "functools",
    "itertools", "string", "statistics", "dataclasses", "sys", "operator", "heapq", "bisect", "contextlib", "abc",
    "enum", "json", "pprint", "io",
})  # fmt: skip
#: `dataclasses`: tcli's own @dataclass (tcli/script_dataclass.py), which builds __init__, __repr__ and __eq__
#: without writing source text; field, asdict, astuple, is_dataclass and MISSING.
DATACLASSES_NAMES = frozenset({"dataclass", "field", "asdict", "astuple", "is_dataclass", "MISSING"})

#: `time`: clocks for timing a training loop, and sleep (interrupted by --timeout and Ctrl-C like any step).
TIME_NAMES = frozenset({"time", "perf_counter", "perf_counter_ns", "monotonic", "process_time", "time_ns", "sleep"})
#: `typing`: the names type hints use. tsr never evaluates an annotation, so these matter only where a script
#: uses them as values (a type alias `Batch = Tuple[Tensor, Tensor]`, cast, TypeVar). Not NamedTuple or
#: TypedDict, which build classes.
TYPING_NAMES = frozenset({
    "Any", "Callable", "Dict", "Iterable", "Iterator", "List", "Literal", "Mapping", "Optional", "Sequence", "Set",
    "FrozenSet", "Tuple", "Type", "TypeVar", "Union", "Generator", "DefaultDict", "OrderedDict", "Counter",
    "Final", "ClassVar", "cast", "TYPE_CHECKING",
})  # fmt: skip
#: `functools`: reduce (its function runs as tsr code under the call gate), partial, the caches (their
#: entries count against memory as a dict would), tsr's own wraps (a script function takes another's name) and
#: total_ordering (on a script's own class only).
FUNCTOOLS_NAMES = frozenset({"reduce", "partial", "lru_cache", "cache", "cmp_to_key", "wraps", "total_ordering"})
#: `itertools`: lazy iterators; whatever materializes them (list, sorted, tuple) is bounded by the sequence
#: limit as for any iterator.
ITERTOOLS_NAMES = frozenset({
    "accumulate", "chain", "combinations", "combinations_with_replacement", "compress", "count", "cycle",
    "dropwhile", "filterfalse", "groupby", "islice", "pairwise", "permutations", "product", "repeat", "starmap",
    "takewhile", "zip_longest",
})  # fmt: skip
#: `string`: its constants.
STRING_NAMES = frozenset({
    "ascii_letters", "ascii_lowercase", "ascii_uppercase", "digits", "hexdigits", "octdigits", "punctuation",
    "printable", "whitespace",
})  # fmt: skip
#: `statistics`: the summaries of a list of numbers (pure Python: every step can be interrupted).
STATISTICS_NAMES = frozenset({"mean", "fmean", "median", "mode", "stdev", "pstdev", "variance", "pvariance"})

#: `operator`: the operators as functions (each the checked one tsr's own `a * b` runs, so operator.mul("a", 10**9)
#: is refused as "a" * 10**9 is), and tcli's own itemgetter, attrgetter and methodcaller (tcli/stdlib_operator.py),
#: which read items and attributes as a script's `x[k]` and getattr(x, name) do. Not countOf/indexOf (they loop
#: over any iterator in C) or call.
OPERATOR_NAMES = frozenset({
    "abs", "add", "and_", "concat", "contains", "eq", "floordiv", "ge", "getitem", "gt", "index", "inv", "invert",
    "is_", "is_not", "le", "lshift", "lt", "matmul", "mod", "mul", "ne", "neg", "not_", "or_", "pos", "pow",
    "rshift", "setitem", "delitem", "sub", "truediv", "truth", "xor", "itemgetter", "attrgetter", "methodcaller",
})  # fmt: skip
#: `heapq` and `bisect`: C functions on a list the script already holds (O(log n) steps, heapify O(n)); nlargest,
#: nsmallest and merge read their iterables within the sequence limit first; key functions run as tsr code.
HEAPQ_NAMES = frozenset({"heappush", "heappop", "heapify", "heappushpop", "heapreplace", "nlargest", "nsmallest",
                         "merge"})  # fmt: skip
BISECT_NAMES = frozenset({"bisect", "bisect_left", "bisect_right", "insort", "insort_left", "insort_right"})
#: `contextlib`: contextmanager over a tsr generator function, nullcontext and suppress (tcli/stdlib_contextlib.py).
CONTEXTLIB_NAMES = frozenset({"contextmanager", "nullcontext", "suppress"})
#: `abc`: ABC (a base a script's class may derive from) and abstractmethod (tcli/stdlib_abc.py).
ABC_NAMES = frozenset({"ABC", "abstractmethod"})
#: `enum`: Enum and IntEnum (bases for a script's class, with tcli's own metaclass), auto, unique
#: (tcli/stdlib_enum.py).
ENUM_NAMES = frozenset({"Enum", "IntEnum", "auto", "unique"})
#: `json`: dumps and loads of text (no dump/load: tsr touches files only through torch.save/load). dumps measures
#: what it will write before writing it and counts what it writes against the string limit; loads refuses input
#: nested deeper than Python's encoder would read (tcli/stdlib_json.py).
JSON_NAMES = frozenset({"dumps", "loads", "JSONDecodeError"})
#: `io`: tcli's BytesIO, an in-memory file torch.save writes and torch.load reads (tcli/stdlib_io.py): a script
#: seeks, tells and measures it but never reads its bytes.
IO_NAMES = frozenset({"BytesIO"})
#: What a script reads of that BytesIO, and of what its getbuffer() returns (the size only).
BYTESIO_ATTRIBUTES = frozenset({"seek", "tell", "seekable", "getbuffer", "truncate", "close", "closed"})
BUFFER_ATTRIBUTES = frozenset({"nbytes"})
#: `pprint`: pprint, pformat and pp to the script's output, counted against the string limit (tcli/stdlib_pprint.py).
PPRINT_NAMES = frozenset({"pprint", "pformat", "pp"})
#: How deep json.dumps/loads nest containers (Python's recursion limit of 1000 is where CPython's json stops).
JSON_MAX_DEPTH = 990

#: Names of the `math` facade: the whole module is pure computation; the few that can build huge
#: integers (factorial, comb, perm, prod) go through a size check in prelude.py.
MATH_NAMES = frozenset(
    {
        "acos", "acosh", "asin", "asinh", "atan", "atan2", "atanh", "cbrt", "ceil", "comb", "copysign", "cos",
        "cosh", "degrees", "dist", "e", "erf", "erfc", "exp", "exp2", "expm1", "fabs", "factorial", "floor",
        "fmod", "frexp", "fsum", "gamma", "gcd", "hypot", "inf", "isclose", "isfinite", "isinf", "isnan",
        "isqrt", "lcm", "ldexp", "lgamma", "log", "log10", "log1p", "log2", "modf", "nan", "nextafter",
        "perm", "pi", "pow", "prod", "radians", "remainder", "sin", "sinh", "sqrt", "tan", "tanh", "tau",
        "trunc", "ulp",
    }
)  # fmt: skip

#: numpy's elementwise functions and reductions that tutorials use beside torch (`np.add(n, 1, out=n)` shows
#: that t.numpy() shares memory): each result is no larger than its operands broadcast together (checked
#: first, prelude's "np_ufunc" rule); the functions are handed out wrapped (Checked), so a ufunc's own methods
#: (outer, at, reduce) are out of reach.
NUMPY_COMPUTE = frozenset(
    {
        "add", "subtract", "multiply", "divide", "true_divide", "power", "maximum", "minimum", "negative",
        "abs", "absolute", "exp", "log", "sqrt", "square", "sin", "cos", "tanh", "sign", "floor", "ceil",
        "isclose", "sum", "mean", "max", "min", "argmax", "argmin", "std", "var", "prod", "all", "any",
        "allclose", "array_equal",
    }
)  # fmt: skip
#: The `numpy` facade: array creation, dtypes and NUMPY_COMPUTE. Nothing here reads or writes files, maps
#: memory or reinterprets buffers (no load/save/memmap/frombuffer/ctypeslib/lib). Sized creators are checked
#: against the memory limit before they allocate (prelude.SIZE_RULES).
NUMPY_NAMES = frozenset(
    {
        "array", "asarray", "zeros", "ones", "empty", "full", "zeros_like", "ones_like", "empty_like",
        "full_like", "arange", "linspace", "logspace", "eye", "identity",
        "float16", "float32", "float64", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64",
        "bool_", "complex64", "complex128", "pi", "e", "inf", "nan", "newaxis", "ndarray", "dtype",
    }
) | NUMPY_COMPUTE  # fmt: skip
#: Python's `random`: seeded pseudo-random numbers and the generator's state (to save and restore), nothing else (no
#: SystemRandom, which reads the OS's entropy; no getrandbits, which builds integers of any size). sample/choices
#: are checked against the sequence limit.
RANDOM_NAMES = frozenset(
    {
        "seed", "random", "uniform", "randint", "randrange", "choice", "choices", "shuffle", "sample", "gauss",
        "normalvariate", "expovariate", "betavariate", "triangular", "lognormvariate", "vonmisesvariate",
        "getstate", "setstate", "Random",
    }
)  # fmt: skip
#: `collections`: the mappings PyTorch code builds (nn.Sequential(OrderedDict(...))) and deque (a replay memory);
#: the real classes, so isinstance works, built through checked constructors (call_guards); namedtuple is tcli's
#: own (tcli/script_namedtuple.py: Python's eval()s the source of its __new__).
COLLECTIONS_NAMES = frozenset({"OrderedDict", "defaultdict", "Counter", "deque", "namedtuple"})
#: File names torch.save may write in tsr (checkpoint suffixes people use with PyTorch). With the other rules
#: in prelude._check_save_target (no hidden names, no overwriting what is not an archive), a script cannot
#: plant its bytes where a shell, an editor or Python would read them.
SAVE_EXTENSIONS = (".pt", ".pth", ".ckpt", ".tar", ".bin", ".npz", ".pkl", ".pickle", ".model", ".weights")

#: `warnings`: scripts silence or promote warnings (`warnings.filterwarnings("ignore")` tops many notebooks) and
#: warn; the filters are the run's own (the session restores them). Not showwarning or the registry.
WARNINGS_NAMES = frozenset({"filterwarnings", "simplefilter", "resetwarnings", "warn", "catch_warnings"})

#: `copy`: copy.deepcopy(model) keeps a best model; tsr functions are copied as themselves.
COPY_NAMES = frozenset({"copy", "deepcopy"})
NUMPY_RANDOM_NAMES = frozenset(
    {
        "seed", "rand", "randn", "randint", "random", "random_sample", "uniform", "normal", "standard_normal",
        "choice", "permutation", "shuffle", "default_rng",
    }
)  # fmt: skip

# ---------------------------------------------------------------------------------------------------------
# Attributes
# ---------------------------------------------------------------------------------------------------------
# Names starting with "_" are refused everywhere (the parser refuses them in source, getattr/hasattr at run
# time). Beyond that each reachable type has a rule:
#   engine types (tensors, dtypes, devices, autograd nodes, torch.Size ...): every public attribute
#   module facades: the names listed above / the engine's public API (prelude.ModuleFacade)
#   plain values: the methods listed in PLAIN_ATTRIBUTES, no others
#   everything else (functions, iterators, generators, frames, classes of plain values ...): nothing

_SEQ = frozenset({"count", "index"})
_NUM = frozenset({"real", "imag", "conjugate"})
_INT = _NUM | {"bit_length", "bit_count", "numerator", "denominator", "as_integer_ratio", "is_integer"}
_SET = frozenset(
    {
        "add", "clear", "copy", "difference", "difference_update", "discard", "intersection",
        "intersection_update", "isdisjoint", "issubset", "issuperset", "pop", "remove",
        "symmetric_difference", "symmetric_difference_update", "union", "update",
    }
)  # fmt: skip

#: Public attributes of plain values, by type name. str.format is replaced by a formatter that refuses
#: attribute and item access in fields; format_map, translate/maketrans and encode are left out.
PLAIN_ATTRIBUTES: dict[str, frozenset[str]] = {
    "str": frozenset(
        {
            "capitalize", "casefold", "center", "count", "endswith", "expandtabs", "find", "format", "index",
            "isalnum", "isalpha", "isascii", "isdecimal", "isdigit", "isidentifier", "islower", "isnumeric",
            "isprintable", "isspace", "istitle", "isupper", "join", "ljust", "lower", "lstrip", "partition",
            "removeprefix", "removesuffix", "replace", "rfind", "rindex", "rjust", "rpartition", "rsplit",
            "rstrip", "split", "splitlines", "startswith", "strip", "swapcase", "title", "upper", "zfill",
        }
    ),
    "list": frozenset(
        {"append", "clear", "copy", "count", "extend", "index", "insert", "pop", "remove", "reverse", "sort"}
    ),
    "tuple": _SEQ,
    "dict": frozenset(
        {"clear", "copy", "fromkeys", "get", "items", "keys", "pop", "popitem", "setdefault", "update", "values"}
    ),
    "set": _SET,
    "frozenset": frozenset(
        {"copy", "difference", "intersection", "isdisjoint", "issubset", "issuperset", "symmetric_difference", "union"}
    ),
    "int": _INT,
    "bool": _INT,
    "float": _NUM | {"as_integer_ratio", "is_integer", "hex", "fromhex"},
    "complex": _NUM,
    "range": frozenset({"start", "stop", "step"}),
    "slice": frozenset({"start", "stop", "step", "indices"}),
    "OrderedDict": frozenset(
        {"clear", "copy", "fromkeys", "get", "items", "keys", "pop", "popitem", "setdefault", "update", "values",
         "move_to_end"}
    ),
    "Counter": frozenset(
        {"clear", "copy", "get", "items", "keys", "pop", "popitem", "setdefault", "update", "values", "most_common",
         "elements", "total", "subtract"}
    ),  # fmt: skip
    "generator": frozenset({"send", "throw", "close"}),
    # `@c.setter` in a class body: a copy of the property with another function (what property(...) builds)
    "property": frozenset({"getter", "setter", "deleter"}),
    # a generator of its own (random.Random(seed)): the module's functions as its methods, sample/choices checked
    "Random": frozenset({
        "seed", "random", "uniform", "randint", "randrange", "choice", "choices", "shuffle", "sample", "gauss",
        "normalvariate", "expovariate", "betavariate", "triangular", "lognormvariate", "vonmisesvariate",
        "getstate", "setstate",
    }),
    # (extend and extendleft read their iterable within the sequence limit first: prelude's overrides)
    "deque": frozenset({
        "append", "appendleft", "clear", "copy", "count", "extend", "extendleft", "index", "insert", "maxlen", "pop",
        "popleft", "remove", "reverse", "rotate",
    }),
    "dict_keys": frozenset({"isdisjoint"}),
    "dict_items": frozenset({"isdisjoint"}),
    "dict_values": frozenset(),
}  # fmt: skip

#: Public attributes of engine classes that scripts do not see (by module and qualname): a device's array module
#: is the raw numpy (or cupy) module, which no script may hold.
HIDDEN_ENGINE_ATTRIBUTES = {
    ("engine.backend", "device"): frozenset({"xp"}),
    # (weak references to a module's private hook tables: a script could plant any value to be called)
    ("engine.nn.module", "RemovableHandle"): frozenset({"hooks_dict_ref", "extra_dict_ref"}),
}

#: Names of engine modules that scripts do not see, by torch submodule: engine machinery with no use in a
#: script (lazy_property builds descriptors that store onto whatever object they are read from).
#: (keyed by submodule, for it and every module below it: the modules of torch.distributions import it too)
HIDDEN_TORCH_NAMES = {"distributions": frozenset({"lazy_property"})}


#: Methods of every autograd node (grad_fn) that scripts do not see: the engine's own way of running a node
#: with saved values it is handed (torch's nodes have no such methods). `grad_fn(g)` stays, with its checks.
HIDDEN_NODE_ATTRIBUTES = frozenset({"apply", "backward", "unpack", "release"})

#: Private names the engine reads as the fields of its tensors and autograd nodes (tensor slots, node fields,
#: what custom Functions' nodes carry): a script's object may not have an attribute of these names, or it
#: could pose as a tensor or a node to engine code (a fake `_data` reached numpy's as_strided). Kept complete
#: by tests/test_security.py, which reads them off the engine.
ENGINE_FIELDS = frozenset(
    {
        "_data", "_dev", "_rg", "_grad", "_vc", "_base", "_accum", "_meta", "_gv", "_next", "_saved", "_vers",
        "_site", "_pre", "_npre", "_post", "_ctx", "_outs", "_nfreed", "_oi", "_fwd", "_dirty", "_non_diff",
        "_to_save", "_out_meta", "_arr", "_dtype", "_nout", "_port", "_oshapes", "_seq", "_abw", "_fwd_hidden",
        "_fwd_barrier", "_plain", "_ind", "_vals", "_ssize", "_coal",
    }
)  # fmt: skip

#: Exceptions expose their arguments only (not traceback, context, or AttributeError.obj).
#: (`value` is what a generator returned, on the StopIteration that ends it)
EXCEPTION_ATTRIBUTES = frozenset({"args", "value"})

#: numpy arrays from `np.array(...)` or `tensor.numpy()` (which shares memory, as in torch): computation
#: and inspection only. Left out: tofile/dump/dumps/tobytes, ctypes, data, base, view, setflags, resize,
#: getfield/setfield, byteswap, put, flat.
NDARRAY_ATTRIBUTES = frozenset(
    {
        "T", "all", "any", "argmax", "argmin", "argsort", "astype", "clip", "copy", "cumprod", "cumsum",
        "diagonal", "dot", "dtype", "fill", "flatten", "item", "itemsize", "max", "mean", "min", "nbytes",
        "ndim", "nonzero", "prod", "ravel", "real", "imag", "repeat", "reshape", "round", "shape", "size",
        "sort", "squeeze", "std", "strides", "sum", "swapaxes", "take", "tolist", "trace", "transpose", "var",
    }
)  # fmt: skip
NUMPY_SCALAR_ATTRIBUTES = frozenset(
    {"item", "tolist", "dtype", "shape", "ndim", "real", "imag", "is_integer", "astype", "round"}
)
NUMPY_DTYPE_ATTRIBUTES = frozenset({"name", "itemsize", "kind", "char", "str"})
NUMPY_GENERATOR_ATTRIBUTES = frozenset(
    {"random", "integers", "normal", "uniform", "standard_normal", "choice", "permutation", "shuffle"}
)

#: Attributes a script may assign or delete on tensors (`x.grad = None`). Public attributes of nn.Module
#: objects are assignable too (`self.fc = nn.Linear(2, 3)` in a class's __init__: Module.__setattr__ files
#: parameters and submodules), and of a custom Function's ctx (`ctx.k = k`). Everything else, Python
#: modules above all, is read-only. (.real/.imag copy values into a complex tensor, as torch's setters do.)
TENSOR_SETTABLE = frozenset({"grad", "requires_grad", "data", "real", "imag"})

# ---------------------------------------------------------------------------------------------------------
# Allocation checks
# ---------------------------------------------------------------------------------------------------------
# Functions whose result size follows from their arguments are checked against the memory limit before
# they run (rules implemented in prelude.SIZE_RULES). An element counts the bytes of the dtype it will have:
# dtype= when given, the tensor's or array's own for methods, torch's default dtype for the floating
# creators below, and 8 bytes (int64/float64, an upper bound) otherwise.
# Tensor and array operators (+ * @ ...) check their broadcast result size the same way. torch.save and
# torch.load are replaced by versions that only touch paths under the working directory or --allow-path;
# the engine reads PyTorch's pickles with its own allowlisting interpreter (engine/pt_format.py).

_BROADCAST = (
    "add", "sub", "subtract", "mul", "multiply", "div", "divide", "true_divide", "floor_divide", "remainder",
    "fmod", "pow", "maximum", "minimum", "atan2", "eq", "ne", "lt", "le", "gt", "ge", "logical_and",
    "logical_or", "logical_xor", "hypot", "copysign", "addcmul", "addcdiv", "lerp",
)  # fmt: skip

TORCH_SIZE_RULES: dict[str, str] = {
    "zeros": "size", "ones": "size", "empty": "size", "rand": "size", "randn": "size", "full": "full",
    "randint": "randint", "normal": "normal", "arange": "arange", "range": "arange", "linspace": "steps",
    "logspace": "steps", "eye": "eye", "randperm": "count", "tensor": "data", "as_tensor": "data",
    "where": "broadcast", "matmul": "matmul", "mm": "matmul", "bmm": "matmul", "outer": "outer",
    "ger": "outer", "cartesian_prod": "product", "kron": "product",
    # views whose size is free (a copy of one is that size), and copies sized by a count
    "as_strided": "second_size", "broadcast_to": "second_size", "tile": "torch_tile",
    "repeat_interleave": "torch_interleave",
    # the Python objects a call makes: a tensor per piece
    "unbind": "torch_unbind", "split": "torch_split", "chunk": "torch_sections", "tensor_split": "torch_sections",
    "hsplit": "torch_sections", "vsplit": "torch_sections", "dsplit": "torch_sections",
    **dict.fromkeys(_BROADCAST, "broadcast"),
}  # fmt: skip

#: torch creators whose result has the default floating dtype (float32 unless --dtype float64) without dtype=.
TORCH_FLOATING_CREATORS = frozenset({"zeros", "ones", "empty", "rand", "randn", "linspace", "logspace", "eye"})

TENSOR_METHOD_SIZE_RULES: dict[str, str] = {
    "repeat": "repeat", "expand": "expand", "broadcast_to": "expand", "new_zeros": "size",
    "new_ones": "size", "new_empty": "size", "new_full": "full", "matmul": "matmul", "mm": "matmul",
    "bmm": "matmul", "outer": "outer", "tile": "repeat", "repeat_interleave": "interleave",
    # (resize_ grows a tensor's storage, on the meta device too; as_strided's view is any size)
    "resize_": "size", "resize_as_": "like", "as_strided": "first_size",
    # the Python objects a call makes: a number per element (tolist), a tensor per piece (a million views of one
    # element each take 250 MB where their tensor took 4 MB)
    "tolist": "pylist", "unbind": "unbind", "split": "split", "unsafe_split": "split", "split_with_sizes": "split",
    "chunk": "sections", "unsafe_chunk": "sections", "tensor_split": "sections", "hsplit": "sections",
    "vsplit": "sections", "dsplit": "sections",
    **dict.fromkeys(_BROADCAST, "broadcast"),
}  # fmt: skip

NUMPY_SIZE_RULES: dict[str, str] = {
    "array": "np_data", "asarray": "np_data", "zeros": "np_size", "ones": "np_size", "empty": "np_size", "full": "full",
    "zeros_like": "np_like", "ones_like": "np_like", "empty_like": "np_like",
    "full_like": "np_like",
    "arange": "arange", "linspace": "np_steps", "logspace": "np_steps", "eye": "eye", "identity": "eye",
    "rand": "size", "randn": "size", "random": "np_random0", "random_sample": "np_random0",
    "standard_normal": "np_random0", "choice": "np_random1", "randint": "np_random2", "uniform": "np_random2",
    "normal": "np_random2", "integers": "np_random2", "permutation": "count",
    **dict.fromkeys(NUMPY_COMPUTE, "np_ufunc"),
}  # fmt: skip
NDARRAY_SIZE_RULES: dict[str, str] = {"repeat": "np_repeat", "astype": "astype", "tolist": "pylist"}
#: the methods that tell a tensor's (or storage's) address: a script sees it moved by the session's key
ADDRESS_METHODS = frozenset({"data_ptr", "const_data_ptr"})
#: Methods read through prelude.sized_attribute: the sized ones, and data_ptr (the address a script sees is
#: moved by a per-session key, as id() is).
SIZED_METHODS = frozenset(TENSOR_METHOD_SIZE_RULES) | frozenset(NDARRAY_SIZE_RULES) | ADDRESS_METHODS

# ---------------------------------------------------------------------------------------------------------
# Limits
# ---------------------------------------------------------------------------------------------------------


def physical_memory() -> int:
    """The machine's physical memory (8 GiB where that cannot be read)."""
    try:
        return os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return 8 << 30


def default_max_memory() -> int:
    """Half the machine's physical memory."""
    return physical_memory() // 2


@dataclass
class Limits:
    """Resource limits of one session; every one of them produces a clean error, never a crash."""

    #: integer results may have at most this many bits (checked before **, *, << compute them)
    max_int_bits: int = 100_000
    #: strings may have at most this many characters (checked before *, join, replace, padding, format), and so
    #: may the text one conversion (print, str, repr, format, an f-string field, %, an error's message) takes from
    #: a script's __repr__/__str__, a dataclass's repr or a module's repr, counted once per occurrence
    max_str_len: int = 10_000_000
    #: lists/tuples/sets/dicts built in one step may have at most this many items
    max_seq_len: int = 10_000_000
    #: widths and precisions in format specs
    max_format_width: int = 10_000
    #: nested calls of tsr functions: Python's own (its recursion limit of 1000 frames, the module's one of them);
    #: each call costs several of the interpreter's Python frames, which Session.running makes room for
    max_call_depth: int = 999
    #: nesting of the source (blocks, brackets, operators)
    max_nesting: int = 100
    #: bytes a tensor or array allocation may bring the process to (checked before allocating)
    max_memory: int = 0
    #: seconds a run may take (None: no limit)
    timeout: float | None = None

    def __post_init__(self) -> None:
        if self.max_memory <= 0:
            self.max_memory = default_max_memory()


#: Python's message where a script's calls nest deeper than max_call_depth
RECURSION_MESSAGE = "maximum recursion depth exceeded"
#: the C stack a run's main thread may grow to (its soft limit raised to this for the run, where the hard limit
#: allows): the interpreter's Python frames for max_call_depth calls, each of which may re-enter the C eval loop
#: (a sort key, a module's forward, a __repr__), with room to spare; the kernel leaves at least 128 MiB for it
RUN_STACK_BYTES = 64 << 20

#: the largest --max-memory
MAX_SIZE = 1 << 50

_UNITS = {"": 1, "b": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40}


def parse_size(text: str) -> int:
    """'512M', '2G', '1.5GiB', '1000000' -> bytes (binary units)."""
    s = text.strip().lower().removesuffix("ib").removesuffix("b")
    unit = s[-1:] if s[-1:] in _UNITS else ""
    number = s[: len(s) - len(unit)]
    try:
        value = float(number) * _UNITS[unit]
    except ValueError:
        raise ValueError(f"invalid size {text!r} (examples: 512M, 2G, 1000000)") from None
    if not value > 0:  # nan too
        raise ValueError(f"invalid size {text!r}: must be positive")
    if value > MAX_SIZE:  # inf too; the address-space cap must fit the kernel's 64 bits
        raise ValueError(f"invalid size {text!r}: at most {human_size(MAX_SIZE)}")
    return int(value)


def human_size(n: float) -> str:
    for unit in ("bytes", "KiB", "MiB", "GiB", "TiB", "PiB"):
        if abs(n) < 1024 or unit == "PiB":
            return f"{n:.0f} {unit}" if unit == "bytes" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} PiB"
