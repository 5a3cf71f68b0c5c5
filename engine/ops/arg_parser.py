"""torch's argument parser, for its errors only: where an op refused its arguments with an error of its own (a dim
that is a string reaches `norm_dim`), `refusal` says whether torch's parser would have refused them before the op
ran, and with which words (torch/csrc/utils/python_arg_parser.cpp and invalid_arguments.cpp): one signature, or
one that takes that many arguments, names the argument ("sum(): argument 'keepdim' (position 2) must be bool, not
str"); several list every signature ("sum() received an invalid combination of arguments - got (dim=str, ), but
expected one of: ..."). Called off the hot path, by whoever catches the op's error (tcli's calls); the ops
themselves check nothing more.

SIGNATURES holds torch's signatures, as its errors print them, of the common functions and Tensor methods (the
hidden ones, Dimname overloads and deprecated forms, left out as torch leaves them out of its errors)."""

from __future__ import annotations

from typing import Any

import numpy as np

from engine.dtypes import dtype as DType  # noqa: N812
from engine.ops.util import parser_type_name
from engine.tensor import Tensor

_FACTORY = (
    "*, Tensor out = None, torch.dtype dtype = None, torch.layout layout = None, torch.device device = None, "
    "bool pin_memory = False, bool requires_grad = False"
)
_NEW = (
    "*, torch.dtype dtype = None, torch.layout layout = None, torch.device device = None, bool pin_memory = False, "
    "bool requires_grad = False"
)

#: (method or function, name) -> torch's signatures, in its order
SIGNATURES: dict[tuple[str, str], tuple[str, ...]] = {
    ("method", "sum"): ("(*, torch.dtype dtype = None)",
                        "(tuple of ints? dim, bool keepdim = False, *, torch.dtype dtype = None)"),
    ("method", "mean"): ("(*, torch.dtype dtype = None)",
                         "(tuple of ints? dim, bool keepdim = False, *, torch.dtype dtype = None)"),
    ("method", "nansum"): ("(tuple of ints dim = None, bool keepdim = False, *, torch.dtype dtype = None)",),
    ("method", "prod"): ("(*, torch.dtype dtype = None)",
                         "(int dim, bool keepdim = False, *, torch.dtype dtype = None)"),
    ("method", "max"): ("()", "(Tensor other)", "(int dim, bool keepdim = False)"),
    ("method", "min"): ("()", "(Tensor other)", "(int dim, bool keepdim = False)"),
    ("method", "median"): ("()", "(int dim, bool keepdim = False)"),
    ("method", "all"): ("()", "(tuple of ints dim = None, bool keepdim = False)", "(int dim, bool keepdim = False)"),
    ("method", "any"): ("()", "(tuple of ints dim = None, bool keepdim = False)", "(int dim, bool keepdim = False)"),
    ("method", "std"): ("(tuple of ints? dim, bool unbiased = True, bool keepdim = False)",
                        "(tuple of ints dim = None, *, Number correction = None, bool keepdim = False)",
                        "(bool unbiased = True)"),
    ("method", "var"): ("(tuple of ints? dim, bool unbiased = True, bool keepdim = False)",
                        "(tuple of ints dim = None, *, Number correction = None, bool keepdim = False)",
                        "(bool unbiased = True)"),
    ("method", "amax"): ("(tuple of ints dim = None, bool keepdim = False)",),
    ("method", "amin"): ("(tuple of ints dim = None, bool keepdim = False)",),
    ("method", "logsumexp"): ("(tuple of ints dim, bool keepdim = False)",),
    ("method", "argmax"): ("(int dim = None, bool keepdim = False)",),
    ("method", "argmin"): ("(int dim = None, bool keepdim = False)",),
    ("method", "mode"): ("(int dim = -1, bool keepdim = False)",),
    ("method", "kthvalue"): ("(int k, int dim = -1, bool keepdim = False)",),
    ("method", "topk"): ("(int k, int dim = -1, bool largest = True, bool sorted = True)",),
    ("method", "sort"): ("(*, bool stable, int dim = -1, bool descending = False)",
                         "(int dim = -1, bool descending = False)"),
    ("method", "cumsum"): ("(int dim, *, torch.dtype dtype = None)",),
    ("method", "cumprod"): ("(int dim, *, torch.dtype dtype = None)",),
    ("method", "softmax"): ("(int dim, torch.dtype dtype = None)",),
    ("method", "log_softmax"): ("(int dim, torch.dtype dtype = None)",),
    ("method", "squeeze"): ("()", "(int dim)", "(tuple of ints dim)"),
    ("method", "unsqueeze"): ("(int dim)",),
    ("method", "transpose"): ("(int dim0, int dim1)",),
    ("method", "permute"): ("(tuple of ints dims)",),
    ("method", "flatten"): ("(int start_dim = 0, int end_dim = -1)",),
    ("method", "reshape"): ("(tuple of ints shape)",),
    ("method", "expand"): ("(tuple of ints size, *, bool implicit = False)",),
    ("method", "repeat"): ("(tuple of ints repeats)",),
    ("method", "flip"): ("(tuple of ints dims)",),
    ("method", "roll"): ("(tuple of ints shifts, tuple of ints dims = None)",),
    ("method", "movedim"): ("(int source, int destination)", "(tuple of ints source, tuple of ints destination)"),
    ("method", "index_select"): ("(int dim, Tensor index)",),
    ("method", "gather"): ("(int dim, Tensor index, *, bool sparse_grad = False)",),
    ("method", "narrow"): ("(int dim, Tensor start, int length)", "(int dim, int start, int length)"),
    ("method", "select"): ("(int dim, int index)",),
    ("method", "chunk"): ("(int chunks, int dim = 0)",),
    ("method", "diagonal"): ("(int offset = 0, int dim1 = 0, int dim2 = 1)",),
    ("method", "tril"): ("(int diagonal = 0)",),
    ("method", "triu"): ("(int diagonal = 0)",),
    ("method", "masked_fill"): ("(Tensor mask, Tensor value)", "(Tensor mask, Number value)"),
    ("method", "pow"): ("(Tensor exponent)", "(Number exponent)"),
    ("method", "mm"): ("(Tensor mat2)",),
    ("method", "add"): ("(Tensor other, *, Number alpha = 1)", "hidden:(Number other, Number alpha = 1)",
                        "hidden:(Number alpha, Tensor other)"),
    ("method", "sub"): ("(Tensor other, *, Number alpha = 1)", "hidden:(Number other, Number alpha = 1)",
                        "hidden:(Number alpha, Tensor other)"),
    ("method", "unflatten"): ("(int dim, tuple of ints sizes)",),
    ("method", "matmul"): ("(Tensor other)",),
    ("method", "new_zeros"): (f"(tuple of ints size, {_NEW})",),
    ("method", "new_ones"): (f"(tuple of ints size, {_NEW})",),
    ("function", "sum"): ("(Tensor input, *, torch.dtype dtype = None)",
                          "(Tensor input, tuple of ints? dim, bool keepdim = False, *, torch.dtype dtype = None, "
                          "Tensor out = None)"),
    ("function", "mean"): ("(Tensor input, *, torch.dtype dtype = None, Tensor out = None)",
                           "(Tensor input, tuple of ints? dim, bool keepdim = False, *, torch.dtype dtype = None, "
                           "Tensor out = None)"),
    ("function", "max"): ("(Tensor input, *, Tensor out = None)", "(Tensor input, Tensor other, *, Tensor out = None)",
                          "(Tensor input, int dim, bool keepdim = False, *, tuple of Tensors out = None)"),
    ("function", "min"): ("(Tensor input, *, Tensor out = None)", "(Tensor input, Tensor other, *, Tensor out = None)",
                          "(Tensor input, int dim, bool keepdim = False, *, tuple of Tensors out = None)"),
    ("function", "zeros"): (f"(tuple of ints size, {_FACTORY})",),
    ("function", "ones"): (f"(tuple of ints size, {_FACTORY})",),
    ("function", "empty"): (f"(tuple of ints size, {_FACTORY})",),
    ("function", "full"): (f"(tuple of ints size, Number fill_value, {_FACTORY})",),
    ("function", "eye"): (f"(int n, {_FACTORY})", f"(int n, int m, {_FACTORY})"),
    ("function", "cat"): ("(tuple of Tensors tensors, int dim = 0, *, Tensor out = None)",),
    ("function", "stack"): ("(tuple of Tensors tensors, int dim = 0, *, Tensor out = None)",),
    ("function", "softmax"): ("(Tensor input, int dim, torch.dtype dtype = None)",),
    ("function", "transpose"): ("(Tensor input, int dim0, int dim1)",),
    ("function", "flatten"): ("(Tensor input, int start_dim = 0, int end_dim = -1)",),
    ("function", "argmax"): ("(Tensor input, int dim = None, bool keepdim = False, *, Tensor out = None)",),
    ("function", "cumsum"): ("(Tensor input, int dim, *, torch.dtype dtype = None, Tensor out = None)",),
    ("function", "matmul"): ("(Tensor input, Tensor other, *, Tensor out = None)",),
    ("function", "linspace"): tuple(f"({a} start, {b} end, int steps, {_FACTORY})" for a, b in (
        ("Tensor", "Tensor"), ("Number", "Tensor"), ("Tensor", "Number"), ("Number", "Number"))),
    ("function", "where"): ("(Tensor condition)",
                            "(Tensor condition, Tensor input, Tensor other, *, Tensor out = None)",
                            "(Tensor condition, Number self, Tensor other)",
                            "(Tensor condition, Tensor input, Number other)",
                            "(Tensor condition, Number self, Number other)"),
}  # fmt: skip


class _Param:
    __slots__ = ("type", "name", "optional", "none_ok", "kw_only")

    def __init__(self, text: str, kw_only: bool) -> None:
        head, _, default = text.partition(" = ")
        self.type, _, self.name = head.rpartition(" ")
        self.optional = bool(default)
        # ("tuple of ints? dim": torch's `int[1]? dim`, which its errors print without the mark)
        self.none_ok = default == "None" or self.type.endswith("?")
        self.type = self.type.rstrip("?")
        self.kw_only = kw_only


def _params(signature: str) -> list[_Param]:
    out, kw_only = [], False
    for piece in signature[1:-1].split(", "):
        if piece == "*":
            kw_only = True
        elif piece:
            out.append(_Param(piece, kw_only))
    return out


def _int_like(v: Any) -> bool:
    if isinstance(v, Tensor):
        return v.ndim == 0 and not v.is_floating_point() and not v.is_complex()
    return isinstance(v, (int, np.integer))


def _matches(tp: str, v: Any) -> bool | None:
    """Whether torch's parser takes v as a tp (None: a type this table does not judge, taken)."""
    if tp == "int":
        return _int_like(v)
    if tp == "tuple of ints":
        if isinstance(v, (tuple, list)):
            return all(_int_like(e) for e in v) or None  # (a bad element: torch's other message, not judged)
        return _int_like(v) or isinstance(v, Tensor)
    if tp == "Tensor":
        return isinstance(v, Tensor)
    if tp == "tuple of Tensors":
        return isinstance(v, (tuple, list)) and all(isinstance(e, Tensor) for e in v)
    if tp == "Number":
        return isinstance(v, (int, float, complex, np.number, np.bool_, Tensor))
    if tp == "bool":
        return isinstance(v, (bool, np.bool_))
    if tp == "torch.dtype":
        return isinstance(v, DType)
    return None


def _takes(params: list[_Param], args: tuple, kwargs: dict) -> bool:
    positional = [p for p in params if not p.kw_only]
    if len(positional) == 1 and positional[0].type == "tuple of ints" and len(args) > 1:
        if not all(_int_like(a) for a in args):
            return False
        args = (args,)
    if len(args) > len(positional):
        return False
    names = {p.name for p in params}
    if any(k not in names for k in kwargs):
        return False
    for i, p in enumerate(params):
        given = i < len(args) and not p.kw_only
        if given and p.name in kwargs:
            return False
        if not given and p.name not in kwargs:
            if not p.optional:
                return False
            continue
        v = args[i] if given else kwargs[p.name]
        if v is None and p.none_ok:
            continue
        if _matches(p.type, v) is False:
            return False
    return True


def _one_signature(fn: str, params: list[_Param], args: tuple, kwargs: dict) -> TypeError | None:
    """torch's error of the one signature that could take this many arguments (FunctionSignature::parse)."""
    positional = [p for p in params if not p.kw_only]
    varargs = len(positional) == 1 and positional[0].type == "tuple of ints" and len(args) > 1
    if varargs:
        return None  # (an element of a size given as arguments: torch's "but found element" message, not here)
    if len(args) > len(positional):
        least = sum(1 for p in positional if not p.optional)
        most = len(positional)
        count = (
            f"{most} positional argument{'s' if most != 1 else ''}"
            if least == most
            else (f"from {least} to {most} positional arguments")
        )
        return TypeError(f"{fn}() takes {count} but {len(args)} {'was' if len(args) == 1 else 'were'} given")
    for i, p in enumerate(params):
        given = i < len(args) and not p.kw_only
        if not given and p.name not in kwargs:
            if not p.optional:
                return TypeError(f'{fn}() missing 1 required positional arguments: "{p.name}"')
            continue
        v = args[i] if given else kwargs[p.name]
        if v is None and p.none_ok:
            continue
        if _matches(p.type, v) is False:
            where = f" (position {i + 1})" if given else ""
            return TypeError(f"{fn}(): argument '{p.name}'{where} must be {p.type}, not {parser_type_name(v)}")
    names = {p.name for p in params}
    for k in kwargs:
        if k not in names:
            return TypeError(f"{fn}() got an unexpected keyword argument '{k}'")
    return None


def _arg_text(v: Any) -> str:
    if isinstance(v, (tuple, list)):
        inner = ", ".join(parser_type_name(e) for e in v)
        return (
            f"{type(v).__name__} of ({inner}{',' if len(v) == 1 else ''})"
            if isinstance(v, tuple)
            else (f"list of [{inner}]")
        )
    return parser_type_name(v)


def _invalid_combination(fn: str, signatures: tuple[str, ...], args: tuple, kwargs: dict) -> TypeError:
    """torch's format_invalid_args: its crude reading of each signature (split at ', ', the last word of a piece
    taken for its name, `*` a piece too) decides which get a line saying why they did not match."""
    got = "".join(f"{parser_type_name(a)}, " for a in args) + "".join(
        f"{k}={parser_type_name(v)}, " for k, v in kwargs.items()
    )
    got = f"({got[:-2] if args else got})"
    lines = [f"{fn}() received an invalid combination of arguments - got {got}, but expected one of:"]
    n = len(args) + len(kwargs)
    for sig in signatures:
        lines.append(f" * {sig}")
        pieces = [(p.rpartition(" ")[0], p.rpartition(" ")[2]) for p in sig[1:-1].split(", ")]
        if len(pieces) != n:
            continue
        start = max(len(pieces) - len(kwargs), 0)
        wrong = [k for k in kwargs if all(pieces[i][1] != k for i in range(start, len(pieces)))]
        if wrong:
            lines.append(f"      didn't match because some of the keywords were incorrect: {', '.join(wrong)}")
            continue
        if any(pieces[i][1] not in kwargs for i in range(len(args), n)):
            continue  # (torch's lookup of a keyword by its crude name fails there: no line, here)
        marks = []
        values = [*args, *(kwargs[pieces[i][1]] for i in range(len(args), n))]
        for i, v in enumerate(values):
            text = _arg_text(v)
            if i >= len(args):
                text = f"{pieces[i][1]}={text}"
            marks.append(text if _crude_match(pieces[i][0], v) else f"!{text}!")
        lines.append(f"      didn't match because some of the arguments have invalid types: ({', '.join(marks)})")
    return TypeError("\n".join(lines) + "\n")


def _crude_match(tp: str, v: Any) -> bool:
    """invalid_arguments.cpp's own type test: the Python type's name against the signature's type word."""
    name = parser_type_name(v)
    if tp == "float":
        return name in ("float", "int")
    if tp == "int":
        return name == "int"
    return name == tp


def refusal(kind: str, name: str, args: tuple, kwargs: dict) -> TypeError | None:
    """torch's parser error for `name(*args, **kwargs)` (kind "method": a Tensor method, self not in args;
    "function": torch.<name>), or None where its parser takes the arguments or the function is not in the table."""
    table = SIGNATURES.get((kind, name))
    if table is None:
        return None
    if any(_takes(_params(s.removeprefix("hidden:")), args, kwargs) for s in table):
        return None
    signatures = tuple(s.replace("?", "") for s in table if not s.startswith("hidden:"))  # (as torch prints them)
    parsed = [_params(s) for s in table if not s.startswith("hidden:")]
    if len(table) == 1:
        return _one_signature(name, parsed[0], args, kwargs)
    n = len(args) + len(kwargs)
    plausible = [p for p in parsed if sum(1 for q in p if not q.optional) <= n <= len(p)]
    if len(plausible) == 1:
        return _one_signature(name, plausible[0], args, kwargs)
    return _invalid_combination(name, signatures, args, kwargs)
