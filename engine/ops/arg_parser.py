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
    ("method", "squeeze_"): ("()", "(int dim)", "(tuple of ints dim)"),
    ("method", "unsqueeze"): ("(int dim)",),
    ("method", "transpose"): ("(int dim0, int dim1)",),
    ("method", "permute"): ("(tuple of ints dims)",),
    ("method", "flatten"): ("(int start_dim = 0, int end_dim = -1)",),
    ("method", "reshape"): ("(tuple of ints shape)",),
    ("method", "expand"): ("(tuple of ints size, *, bool implicit = False)",),
    ("method", "repeat"): ("(tuple of ints repeats)",),
    ("method", "flip"): ("(tuple of ints dims)",),
    ("method", "roll"): ("(tuple of ints shifts, tuple of ints^ dims = None)",),
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
    ("method", "add"): ("(Tensor~ other, *, Number alpha = 1)", "hidden:(Number other, Number alpha = 1)",
                        "hidden:(Number alpha, Tensor other)"),
    ("method", "sub"): ("(Tensor~ other, *, Number alpha = 1)", "hidden:(Number other, Number alpha = 1)",
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
    # (generated from torch 2.13's own error texts, or its schemas where one signature is shown: api21)
    ("function", "abs"): ("(Tensor input, *, Tensor out = None)",),
    ("function", "neg"): ("(Tensor input, *, Tensor out = None)",),
    ("function", "exp"): ("(Tensor input, *, Tensor out = None)",),
    ("function", "log"): ("(Tensor input, *, Tensor out = None)",),
    ("function", "sqrt"): ("(Tensor input, *, Tensor out = None)",),
    ("function", "sin"): ("(Tensor input, *, Tensor out = None)",),
    ("function", "cos"): ("(Tensor input, *, Tensor out = None)",),
    ("function", "tanh"): ("(Tensor input, *, Tensor out = None)",),
    ("function", "sigmoid"): ("(Tensor input, *, Tensor out = None)",),
    ("function", "relu"): ("(Tensor input, *, Tensor out = None)",),
    ("function", "floor"): ("(Tensor input, *, Tensor out = None)",),
    ("function", "ceil"): ("(Tensor input, *, Tensor out = None)",),
    ("function", "round"): ("(Tensor input, *, Tensor out = None)",
                            "(Tensor input, *, int decimals, Tensor out = None)"),
    ("function", "sign"): ("(Tensor input, *, Tensor out = None)",),
    ("function", "reciprocal"): ("(Tensor input, *, Tensor out = None)",),
    ("function", "rsqrt"): ("(Tensor input, *, Tensor out = None)",),
    ("function", "log1p"): ("(Tensor input, *, Tensor out = None)",),
    ("function", "expm1"): ("(Tensor input, *, Tensor out = None)",),
    ("function", "square"): ("(Tensor input, *, Tensor out = None)",),
    ("function", "trunc"): ("(Tensor input, *, Tensor out = None)",),
    ("function", "frac"): ("(Tensor input, *, Tensor out = None)",),
    ("function", "isnan"): ("(Tensor input, *, Tensor out = None)",),
    ("function", "isfinite"): ("(Tensor input)",),
    ("function", "add"): ("(Tensor~ input, Tensor~ other, *, Number alpha = 1, Tensor out = None)",
                          "hidden:(Tensor~ input, Number alpha, Tensor~ other, *, Tensor out = None)"),
    ("function", "sub"): ("(Tensor~ input, Tensor~ other, *, Number alpha = 1, Tensor out = None)",
                          "hidden:(Tensor~ input, Number alpha, Tensor~ other, *, Tensor out = None)"),
    ("function", "mul"): ("(Tensor~ input, Tensor~ other, *, Tensor out = None)",),
    ("function", "div"): ("(Tensor~ input, Tensor~ other, *, Tensor out = None)",
                          "(Tensor~ input, Tensor~ other, *, str rounding_mode, Tensor out = None)",
                          "(Tensor~ input, Number other, *, str rounding_mode)"),
    ("function", "pow"): ("(Tensor input, Tensor exponent, *, Tensor out = None)",
                          "(Number self, Tensor exponent, *, Tensor out = None)",
                          "(Tensor input, Number exponent, *, Tensor out = None)"),
    ("function", "maximum"): ("(Tensor input, Tensor other, *, Tensor out = None)",),
    ("function", "minimum"): ("(Tensor input, Tensor other, *, Tensor out = None)",),
    ("function", "atan2"): ("(Tensor input, Tensor other, *, Tensor out = None)",),
    ("function", "fmod"): ("(Tensor input, Tensor other, *, Tensor out = None)",
                           "(Tensor input, Number other, *, Tensor out = None)"),
    ("function", "remainder"): ("(Tensor input, Tensor other, *, Tensor out = None)",
                                "(Number self, Tensor other)",
                                "(Tensor input, Number other, *, Tensor out = None)"),
    ("function", "eq"): ("(Tensor input, Tensor other, *, Tensor out = None)",
                         "(Tensor input, Number other, *, Tensor out = None)"),
    ("function", "ne"): ("(Tensor input, Tensor other, *, Tensor out = None)",
                         "(Tensor input, Number other, *, Tensor out = None)"),
    ("function", "lt"): ("(Tensor input, Tensor other, *, Tensor out = None)",
                         "(Tensor input, Number other, *, Tensor out = None)"),
    ("function", "le"): ("(Tensor input, Tensor other, *, Tensor out = None)",
                         "(Tensor input, Number other, *, Tensor out = None)"),
    ("function", "gt"): ("(Tensor input, Tensor other, *, Tensor out = None)",
                         "(Tensor input, Number other, *, Tensor out = None)"),
    ("function", "ge"): ("(Tensor input, Tensor other, *, Tensor out = None)",
                         "(Tensor input, Number other, *, Tensor out = None)"),
    ("function", "hypot"): ("(Tensor input, Tensor other, *, Tensor out = None)",),
    ("function", "logaddexp"): ("(Tensor input, Tensor other, *, Tensor out = None)",),
    ("function", "isclose"): ("(Tensor input, Tensor other, float rtol = 1e-05, float atol = 1e-08, "
                              "bool equal_nan = False)",),
    ("function", "allclose"): ("(Tensor input, Tensor other, float rtol = 1e-05, float atol = 1e-08, "
                               "bool equal_nan = False)",),
    ("function", "equal"): ("(Tensor input, Tensor other)",),
    ("function", "dist"): ("(Tensor input, Tensor other, Number p = 2, *, Tensor out = None)",),
    ("method", "mul"): ("(Tensor~ other)",),
    ("method", "div"): ("(Tensor~ other)",
                        "(Tensor~ other, *, str rounding_mode)",
                        "(Number other, *, str rounding_mode)"),
    ("method", "maximum"): ("(Tensor other)",),
    ("method", "minimum"): ("(Tensor other)",),
    ("method", "atan2"): ("(Tensor other)",),
    ("method", "fmod"): ("(Tensor other)",
                         "(Number other)"),
    ("method", "remainder"): ("(Tensor other)",
                              "(Number other)"),
    ("method", "eq"): ("(Tensor other)",
                       "(Number other)"),
    ("method", "ne"): ("(Tensor other)",
                       "(Number other)"),
    ("method", "lt"): ("(Tensor other)",
                       "(Number other)"),
    ("method", "le"): ("(Tensor other)",
                       "(Number other)"),
    ("method", "gt"): ("(Tensor other)",
                       "(Number other)"),
    ("method", "ge"): ("(Tensor other)",
                       "(Number other)"),
    ("method", "isclose"): ("(Tensor other, float rtol = 1e-05, float atol = 1e-08, bool equal_nan = False)",),
    ("method", "allclose"): ("(Tensor other, float rtol = 1e-05, float atol = 1e-08, bool equal_nan = False)",),
    ("method", "equal"): ("(Tensor other)",),
    ("method", "dist"): ("(Tensor other, Number p = 2)",),
    ("method", "add_"): ("(Tensor~ other, *, Number alpha = 1)", "hidden:(Number other, Number alpha = 1)",
                         "hidden:(Number alpha, Tensor other)"),
    ("method", "mul_"): ("(Tensor~ other)",),
    ("method", "sub_"): ("(Tensor~ other, *, Number alpha = 1)", "hidden:(Number other, Number alpha = 1)",
                         "hidden:(Number alpha, Tensor other)"),
    ("method", "div_"): ("(Tensor~ other)",
                         "(Tensor~ other, *, str rounding_mode)",
                         "(Number other, *, str rounding_mode)"),
    ("method", "copy_"): ("(Tensor~ other, bool non_blocking = False)",
                          "hidden:(Tensor~ other, bool non_blocking = False)"),
    ("method", "lerp"): ("(Tensor end, Tensor weight)",
                         "(Tensor end, Number weight)"),
    ("function", "lerp"): ("(Tensor input, Tensor end, Tensor weight, *, Tensor out = None)",
                           "(Tensor input, Tensor end, Number weight, *, Tensor out = None)"),
    ("function", "addcmul"): ("(Tensor input, Tensor tensor1, Tensor tensor2, *, Number value = 1, "
                              "Tensor out = None)",
                              "hidden:(Tensor input, Number value, Tensor tensor1, Tensor tensor2, *, "
                              "Tensor out = None)"),
    ("function", "addcdiv"): ("(Tensor input, Tensor tensor1, Tensor tensor2, *, Number value = 1, "
                              "Tensor out = None)",
                              "hidden:(Tensor input, Number value, Tensor tensor1, Tensor tensor2, *, "
                              "Tensor out = None)"),
    ("function", "clamp"): ("(Tensor input, Tensor min = None, Tensor max = None, *, Tensor out = None)",
                            "(Tensor input, Number min = None, Number max = None, *, Tensor out = None)"),
    ("method", "clamp"): ("(Tensor min = None, Tensor max = None)",
                          "(Number min = None, Number max = None)"),
    ("method", "clamp_"): ("(Tensor min = None, Tensor max = None)",
                           "(Number min = None, Number max = None)"),
    ("function", "clip"): ("(Tensor input, Tensor min = None, Tensor max = None, *, Tensor out = None)",
                           "(Tensor input, Number min = None, Number max = None, *, Tensor out = None)"),
    ("method", "clamp_min"): ("(Tensor min)",
                              "(Number min)"),
    ("method", "clamp_max"): ("(Tensor max)",
                              "(Number max)"),
    ("method", "fill_"): ("(Tensor value)",
                          "(Number value)"),
    ("method", "masked_fill_"): ("(Tensor mask, Tensor value)",
                                 "(Tensor mask, Number value)"),
    ("function", "masked_fill"): ("(Tensor input, Tensor mask, Tensor value)",
                                  "(Tensor input, Tensor mask, Number value)"),
    ("method", "masked_select"): ("(Tensor mask)",),
    ("function", "masked_select"): ("(Tensor input, Tensor mask, *, Tensor out = None)",),
    ("method", "masked_scatter"): ("(Tensor mask, Tensor source)",),
    ("method", "where"): ("(Tensor condition, Tensor other)",
                          "(Tensor condition, Number other)"),
    ("function", "prod"): ("(Tensor input, *, torch.dtype dtype = None)",
                           "(Tensor input, int dim, bool keepdim = False, *, torch.dtype dtype = None, "
                           "Tensor out = None)"),
    ("function", "argmin"): ("(Tensor input, int? dim = None, bool keepdim = False, *, Tensor out = None)",),
    ("function", "amax"): ("(Tensor input, tuple of ints dim = None, bool keepdim = False, *, "
                           "Tensor out = None)",),
    ("function", "amin"): ("(Tensor input, tuple of ints dim = None, bool keepdim = False, *, "
                           "Tensor out = None)",),
    ("function", "logsumexp"): ("(Tensor input, tuple of ints dim, bool keepdim = False, *, Tensor out = None)",),
    ("function", "std"): ("(Tensor input, tuple of ints dim, bool unbiased = True, bool keepdim = False, *, "
                          "Tensor out = None)",
                          "(Tensor input, tuple of ints dim = None, *, Number correction = None, "
                          "bool keepdim = False, Tensor out = None)",
                          "(Tensor input, bool unbiased = True)"),
    ("function", "var"): ("(Tensor input, tuple of ints dim, bool unbiased = True, bool keepdim = False, *, "
                          "Tensor out = None)",
                          "(Tensor input, tuple of ints dim = None, *, Number correction = None, "
                          "bool keepdim = False, Tensor out = None)",
                          "(Tensor input, bool unbiased = True)"),
    ("function", "normal"): ("(Tensor mean, Tensor std, *, torch.Generator generator = None, Tensor out = None)",
                             "(Tensor mean, float std = 1, *, torch.Generator generator = None, Tensor out = None)",
                             "(float mean, Tensor std, *, torch.Generator generator = None, Tensor out = None)",
                             "(float mean, float std, tuple of ints size, *, torch.Generator generator = None, "
                             "Tensor out = None, torch.dtype dtype = None, torch.layout layout = None, "
                             "torch.device device = None, bool pin_memory = False, bool requires_grad = False)"),
    ("function", "std_mean"): ("(Tensor input, tuple of ints dim, bool unbiased = True, bool keepdim = False)",
                               "(Tensor input, tuple of ints dim = None, *, Number correction = None, "
                               "bool keepdim = False)",
                               "(Tensor input, bool unbiased = True)"),
    ("function", "var_mean"): ("(Tensor input, tuple of ints dim, bool unbiased = True, bool keepdim = False)",
                               "(Tensor input, tuple of ints dim = None, *, Number correction = None, "
                               "bool keepdim = False)",
                               "(Tensor input, bool unbiased = True)"),
    ("function", "all"): ("(Tensor input, *, Tensor out = None)",
                          "(Tensor input, tuple of ints dim = None, bool keepdim = False, *, Tensor out = None)",
                          "(Tensor input, int dim, bool keepdim = False, *, Tensor out = None)"),
    ("function", "any"): ("(Tensor input, *, Tensor out = None)",
                          "(Tensor input, tuple of ints dim = None, bool keepdim = False, *, Tensor out = None)",
                          "(Tensor input, int dim, bool keepdim = False, *, Tensor out = None)"),
    ("function", "cumprod"): ("(Tensor input, int dim, *, torch.dtype dtype = None, Tensor out = None)",),
    ("function", "log_softmax"): ("(Tensor input, int dim, torch.dtype dtype = None)",),
    ("function", "count_nonzero"): ("(Tensor input, int dim = None)",
                                    "(Tensor input, tuple of ints dim)"),
    ("function", "nansum"): ("(Tensor input, tuple of ints? dim = None, bool keepdim = False, *, "
                             "torch.dtype dtype = None, Tensor out = None)",),
    ("method", "count_nonzero"): ("(int dim = None)",
                                  "(tuple of ints dim)"),
    ("method", "argsort"): ("(*, bool stable, int dim = -1, bool descending = False)",
                            "(int dim = -1, bool descending = False)"),
    ("function", "sort"): ("(Tensor input, *, bool stable, int dim = -1, bool descending = False, "
                           "tuple of Tensors out = None)",
                           "(Tensor input, int dim = -1, bool descending = False, *, "
                           "tuple of Tensors out = None)"),
    ("function", "gather"): ("(Tensor input, int dim, Tensor index, *, bool sparse_grad = False, "
                             "Tensor out = None)",),
    ("method", "scatter"): ("(int dim, Tensor index, Tensor src)",
                            "(int dim, Tensor index, Tensor src, *, str reduce)",
                            "(int dim, Tensor index, Number value)",
                            "(int dim, Tensor index, Number value, *, str reduce)"),
    ("function", "scatter"): ("(Tensor input, int dim, Tensor index, Tensor src, *, Tensor out = None)",
                              "(Tensor input, int dim, Tensor index, Tensor src, *, str reduce, "
                              "Tensor out = None)",
                              "(Tensor input, int dim, Tensor index, Number value, *, Tensor out = None)",
                              "(Tensor input, int dim, Tensor index, Number value, *, str reduce, "
                              "Tensor out = None)"),
    ("method", "scatter_"): ("(int dim, Tensor index, Tensor src)",
                             "(int dim, Tensor index, Tensor src, *, str reduce)",
                             "(int dim, Tensor index, Number value)",
                             "(int dim, Tensor index, Number value, *, str reduce)"),
    ("method", "scatter_add"): ("(int dim, Tensor index, Tensor src)",),
    ("function", "scatter_add"): ("(Tensor input, int dim, Tensor index, Tensor src, *, Tensor out = None)",),
    ("method", "scatter_add_"): ("(int dim, Tensor index, Tensor src)",),
    ("function", "index_select"): ("(Tensor input, int dim, Tensor index, *, Tensor out = None)",),
    ("method", "index_add"): ("(int dim, Tensor index, Tensor source, *, Number alpha = 1)",),
    ("method", "index_add_"): ("(int dim, Tensor index, Tensor source, *, Number alpha = 1)",),
    ("function", "index_add"): ("(Tensor input, int dim, Tensor index, Tensor source, *, Number alpha = 1, "
                                "Tensor out = None)",),
    ("method", "index_copy"): ("(int dim, Tensor index, Tensor source)",),
    ("method", "index_copy_"): ("(int dim, Tensor index, Tensor source)",),
    ("method", "index_fill"): ("(int dim, Tensor index, Tensor value)",
                               "(int dim, Tensor index, Number value)"),
    ("method", "index_fill_"): ("(int dim, Tensor index, Tensor value)",
                                "(int dim, Tensor index, Number value)"),
    ("method", "take"): ("(Tensor index)",),
    ("function", "take"): ("(Tensor input, Tensor index, *, Tensor out = None)",),
    ("method", "put_"): ("(Tensor index, Tensor source, bool accumulate = False)",),
    ("method", "put"): ("(Tensor index, Tensor source, bool accumulate = False)",),
    ("function", "narrow"): ("(Tensor input, int dim, Tensor start, int length)",
                             "(Tensor input, int dim, int start, int length)"),
    ("function", "mm"): ("(Tensor input, Tensor mat2, *, Tensor out = None)",
                         "(Tensor input, Tensor mat2, torch.dtype out_dtype, *, Tensor out = None)"),
    ("function", "bmm"): ("(Tensor input, Tensor mat2, *, Tensor out = None)",
                          "(Tensor input, Tensor mat2, torch.dtype out_dtype, *, Tensor out = None)"),
    ("function", "mv"): ("(Tensor input, Tensor vec, *, Tensor out = None)",),
    ("method", "mv"): ("(Tensor vec)",),
    ("function", "dot"): ("(Tensor input, Tensor tensor, *, Tensor out = None)",),
    ("method", "dot"): ("(Tensor tensor)",),
    ("function", "outer"): ("(Tensor input, Tensor vec2, *, Tensor out = None)",),
    ("function", "addmm"): ("(Tensor input, Tensor mat1, Tensor mat2, *, Number beta = 1, Number alpha = 1, "
                            "Tensor out = None)",
                            "(Tensor input, Tensor mat1, Tensor mat2, torch.dtype out_dtype, *, "
                            "Number beta = 1, Number alpha = 1, Tensor out = None)"),
    ("function", "cross"): ("(Tensor input, Tensor other, int? dim = None, *, Tensor out = None)",),
    ("method", "tensor_split"): ("(tuple of ints indices, int dim = 0)",
                                 "(Tensor tensor_indices_or_sections, int dim = 0)",
                                 "(int sections, int dim = 0)"),
    ("method", "view"): ("(torch.dtype dtype)",
                         "(tuple of ints size)"),
    ("function", "reshape"): ("(Tensor input, tuple of ints shape)",),
    ("function", "permute"): ("(Tensor input, tuple of ints dims)",),
    ("function", "unsqueeze"): ("(Tensor input, int dim)",),
    ("function", "squeeze"): ("(Tensor input)",
                              "(Tensor input, int dim)",
                              "(Tensor input, tuple of ints dim)"),
    ("function", "flip"): ("(Tensor input, tuple of ints dims, *, Tensor out = None)",),
    ("function", "roll"): ("(Tensor input, tuple of ints shifts, tuple of ints^ dims = None, *, "
                           "Tensor out = None)",),
    ("function", "tril"): ("(Tensor input, int diagonal = 0, *, Tensor out = None)",),
    ("method", "view_as"): ("(Tensor other)",),
    ("method", "expand_as"): ("(Tensor other)",),
    ("method", "reshape_as"): ("(Tensor other)",),
    ("method", "type_as"): ("(Tensor other)",),
    ("method", "unfold"): ("(int dimension, int size, int step)",),
    ("function", "broadcast_to"): ("(Tensor input, tuple of ints size)",),
    ("function", "argwhere"): ("(Tensor input)",),
    ("function", "nonzero"): ("(Tensor input, *, Tensor out = None)",),
    ("function", "diff"): ("(Tensor input, int n = 1, int dim = -1, Tensor prepend = None, "
                           "Tensor append = None, *, Tensor out = None)",),
    ("function", "bucketize"): ("(Tensor input, Tensor boundaries, *, bool out_int32 = False, "
                                "bool right = False, Tensor out = None)",
                                "(Number self, Tensor boundaries, *, bool out_int32 = False, "
                                "bool right = False)"),
    ("function", "searchsorted"): ("(Tensor sorted_sequence, Tensor input, *, bool out_int32 = False, "
                                   "bool right = False, str side = None, Tensor sorter = None, "
                                   "Tensor out = None)",
                                   "(Tensor sorted_sequence, Number self, *, bool out_int32 = False, "
                                   "bool right = False, str side = None, Tensor sorter = None, "
                                   "Tensor out = None)"),
    ("function", "histc"): ("(Tensor input, int bins = 100, Number min = 0, Number max = 0, *, "
                            "Tensor out = None)",),
    ("function", "chunk"): ("(Tensor input, int chunks, int dim = 0)",),
    ("function", "unbind"): ("(Tensor input, int dim = 0)",),
    ("method", "unbind"): ("(int dim = 0)",),
    ("function", "hstack"): ("(tuple of Tensors tensors, *, Tensor out = None)",),
    ("function", "vstack"): ("(tuple of Tensors tensors, *, Tensor out = None)",),
}  # fmt: skip


#: torch's `_VF` functions torch.split and Tensor.split (Python, in torch) call by position: the engine's split asks
#: refusal("_VF", ...) for their words
_VF_SIGNATURES: dict[str, tuple[str, ...]] = {
    "split": ("(Tensor input, int split_size, int dim = 0)",
              "(Tensor input, tuple of ints split_size, int dim = 0)"),
    "split_with_sizes": ("(Tensor input, tuple of ints split_sizes, int dim = 0)",),
}  # fmt: skip


#: torch.nn.functional's functions written in C: torch's signatures, as its errors print them
NN_SIGNATURES: dict[str, tuple[str, ...]] = {
    "linear": ("(Tensor input, Tensor weight, Tensor bias = None)",),
    "one_hot": ("(Tensor input, int num_classes = -1)",),
    "cosine_similarity": ("(Tensor x1, Tensor x2, int dim = 1, float eps = 1e-08)",),
}  # fmt: skip

#: the torch functions that torch.nn.functional's Python ones call (NN_FORWARD), for refusal("aten", name)
_ATEN_SIGNATURES: dict[str, tuple[str, ...]] = {
    "relu6": ("(Tensor input)",),
    "kl_div": ("(Tensor input, Tensor target, int reduction = 1, *, bool log_target = False)",),
    "embedding": ("(Tensor weight, Tensor indices, int padding_idx = -1, bool scale_grad_by_freq = False, "
                  "bool sparse = False)",),
    "layer_norm": ("(Tensor input, tuple of ints normalized_shape, Tensor weight = None, Tensor bias = None, "
                   "float eps = 1e-05, bool cudnn_enable = True)",),
    "pad": ('(Tensor input, tuple of ints pad, str mode = "constant", float value = None)',),
}  # fmt: skip

#: torch.nn.functional's functions written in Python, as torch's parser meets what they call: (kind, name, the F
#: parameters handed on by position, in order); a str: the attribute of input read first (`input.tanh()`), whose
#: absence is Python's AttributeError
NN_FORWARD: dict[str, tuple[str, str, tuple[str, ...]] | str] = {
    "tanh": "tanh", "sigmoid": "sigmoid", "normalize": "norm",
    "softmax": ("method", "softmax", ("dim",)), "log_softmax": ("method", "log_softmax", ("dim",)),
    "kl_div": ("aten", "kl_div", ("input", "target")),
    "embedding": ("aten", "embedding", ("weight", "input")),
    "layer_norm": ("aten", "layer_norm", ("input", "normalized_shape", "weight", "bias", "eps")),
    "pad": ("aten", "pad", ("input", "pad", "mode", "value")),
    "relu6": ("aten", "relu6", ("input",)),
}  # fmt: skip


def nn_refusal(name: str, params: tuple[str, ...], args: tuple, kwargs: dict) -> BaseException | None:
    """torch's parser error for torch.nn.functional.<name>(*args, **kwargs) (params: the F function's parameter
    names, in order), or None where its parser takes the arguments or the function is in neither table."""
    if name in NN_SIGNATURES:
        return refusal("nn", name, args, kwargs)
    forward = NN_FORWARD.get(name)
    if forward is None or not args:
        return None
    if isinstance(forward, str):
        if not isinstance(args[0], Tensor) and not hasattr(args[0], forward):
            return AttributeError(f"'{parser_type_name(args[0])}' object has no attribute '{forward}'")
        return None
    kind, target, names = forward
    given = dict(zip(params, args)) | kwargs
    if kind == "method":
        if not isinstance(args[0], Tensor):
            return AttributeError(f"'{parser_type_name(args[0])}' object has no attribute '{target}'")
    values = []
    for n in names:  # (the leading ones given: those after are the callee's defaults)
        if n not in given:
            break
        values.append(given[n])
    return refusal(kind, target, tuple(values), {})


#: torch's Tensor methods written in Python, which call the parsed one with every argument by position
_PYTHON_LEVEL = frozenset({("method", "unflatten")})


class _Param:
    __slots__ = ("type", "name", "optional", "none_ok", "kw_only", "numbers", "one_int")

    def __init__(self, text: str, kw_only: bool) -> None:
        head, _, default = text.partition(" = ")
        self.type, _, self.name = head.rpartition(" ")
        self.optional = bool(default)
        # marks torch's errors print without: "tuple of ints? dim" (`int[1]? dim`, None taken), "Tensor~ other"
        # (a Python number taken as a tensor: add's, sub's)
        self.none_ok = default == "None" or self.type.endswith("?")
        self.numbers = self.type.endswith("~")
        self.one_int = self.type.endswith("^")  # ("tuple of ints^ dims": torch's `int[1]`, one int taken)
        self.type = self.type.rstrip("?~^")
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


#: "tuple of ints" parameters that take one int as well (torch's `int[1]`: dims); a size takes one only as the
#: one positional argument (`torch.zeros(2)`)
_ONE_INT = frozenset({"dim", "shifts"})


_REAL = (int, float, np.number, np.bool_)
_NUMBER = (int, float, complex, np.number, np.bool_)


def _matches(p: _Param, v: Any, alone: bool) -> bool | None:
    """Whether torch's parser takes v for p (None: not judged here, taken); alone: p is the one positional."""
    tp = p.type
    if tp == "int":
        return _int_like(v)
    if tp == "tuple of ints":
        if isinstance(v, (tuple, list)):
            return all(_int_like(e) for e in v)
        return _int_like(v) and (alone or p.name in _ONE_INT or p.one_int)
    if tp == "Tensor":
        return isinstance(v, Tensor) or (p.numbers and isinstance(v, (int, float, complex, bool, np.number)))
    if tp == "tuple of Tensors":
        if isinstance(v, (tuple, list)):
            return None  # (an element that is no tensor: torch's "expected Tensor as element", the op's own)
        return False
    if tp in ("Number", "float"):  # (a tensor: only one of no dims that needs no grad)
        if isinstance(v, Tensor):
            return v.ndim == 0 and not v.requires_grad
        return isinstance(v, _REAL if tp == "float" else _NUMBER)
    if tp == "bool":
        return isinstance(v, (bool, np.bool_))
    if tp == "torch.dtype":
        return isinstance(v, DType)
    return None


def _bind(params: list[_Param], args: tuple, kwargs: dict) -> tuple[list, tuple] | None:
    """Each parameter's (param, value or _MISSING, given by position), in order, and the args as parsed (a size
    given as several ints is one); None where there are more positional arguments than parameters."""
    positional = [p for p in params if not p.kw_only]
    if _sized(params) and len(args) > 1 and _int_like(args[0]):
        args = (args,)  # (torch's varargs int list: only where the first is an int)
    if len(args) > len(positional):
        return None
    out = []
    for i, p in enumerate(params):
        if i < len(args) and not p.kw_only:
            out.append((p, args[i], True))
        else:
            out.append((p, kwargs.get(p.name, _MISSING), False))
    return out, args


_MISSING: Any = object()


def _sized(params: list[_Param]) -> bool:
    """Whether the one positional parameter is a required int list, which torch takes as several ints
    (x.view(2, 3)); torch stops at the first that is no int, whichever overload it was trying."""
    positional = [p for p in params if not p.kw_only]
    return len(positional) == 1 and positional[0].type == "tuple of ints" and not positional[0].optional


def _takes(params: list[_Param], args: tuple, kwargs: dict) -> bool:
    bound = _bind(params, args, kwargs)
    if bound is None:
        return False
    alone = sum(1 for p in params if not p.kw_only) == 1
    if len(bound[1]) == 1 and alone and params[0].type == "tuple of ints" and len(args) > 1:
        if not all(_int_like(a) for a in args):
            return False
    names = {p.name for p, _, by_position in bound[0] if not by_position}
    if any(k not in names for k in kwargs):
        return False
    for p, v, _ in bound[0]:
        if v is _MISSING:
            if not p.optional:
                return False
        elif not (v is None and p.none_ok) and _matches(p, v, alone) is False:
            return False
    return True


def _one_signature(fn: str, params: list[_Param], args: tuple, kwargs: dict) -> TypeError | None:
    """torch's error of the one signature that could take this many arguments (FunctionSignature::parse)."""
    positional = [p for p in params if not p.kw_only]
    alone = len(positional) == 1
    # (a size given as several arguments, one of them no int: torch reads them as one list only when the first is an
    # int; a list first is one argument of several, "takes 1 positional argument")
    if _sized(params) and len(args) > 1 and _int_like(args[0]):
        k = next((k for k, a in enumerate(args) if not _int_like(a)), None)
        if k == 0:  # (a first one no int: the parser takes the size as one argument, and the rest as too many)
            n = len(positional)
            return TypeError(f"{fn}() takes {n} positional argument{'s' if n != 1 else ''} but {len(args)} were given")
        if k is not None:
            return TypeError(
                f"{fn}(): argument '{positional[0].name}' failed to unpack the object at pos {k + 1} with error "
                f'"type must be tuple of ints,but got {parser_type_name(args[k])}"'
            )
    bound = _bind(params, args, kwargs)
    if bound is None:
        least = sum(1 for p in params if not p.optional)  # (torch's: keyword-only ones counted, "from 1 to 0")
        most = len(positional)
        count = (
            f"{most} positional argument{'s' if most != 1 else ''}"
            if least == most
            else f"from {least} to {most} positional arguments"
        )
        return TypeError(f"{fn}() takes {count} but {len(args)} {'was' if len(args) == 1 else 'were'} given")
    for i, (p, v, by_position) in enumerate(bound[0]):
        if v is _MISSING:
            if not p.optional:
                missing = [q.name for q, _, by_position in bound[0][i:] if not q.optional and not by_position]
                # (torch's plural is the other way round: "1 required positional arguments", "2 ... argument")
                plural = "s" if len(missing) == 1 else ""
                names = ", ".join(f'"{n}"' for n in missing)
                return TypeError(f"{fn}() missing {len(missing)} required positional argument{plural}: {names}")
            continue
        if v is None and p.none_ok:
            continue
        if _matches(p, v, alone) is False:
            where = f" (position {i + 1})" if by_position else ""
            if p.type == "tuple of ints" and isinstance(v, (tuple, list)):
                k = next(k for k, e in enumerate(v) if not _int_like(e))
                if k and p.name not in _ONE_INT:  # (a size, torch's SymInt list: its type test reads the first)
                    return TypeError(
                        f"{fn}(): argument '{p.name}' failed to unpack the object at pos {k + 1} with error "
                        f'"type must be tuple of ints,but got {parser_type_name(v[k])}"'
                    )
                return TypeError(
                    f"{fn}(): argument '{p.name}'{where} must be tuple of ints, but found element of type "
                    f"{parser_type_name(v[k])} at pos {k}"
                )
            return TypeError(f"{fn}(): argument '{p.name}'{where} must be {p.type}, not {parser_type_name(v)}")
    positional_names = {p.name for p, _, by_position in bound[0] if by_position}
    for k in kwargs:
        if k in positional_names:
            return TypeError(f"{fn}() got multiple values for argument '{k}'")
        if all(p.name != k for p in params):
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
    head = f"{fn}() received an invalid combination of arguments - "
    if len(signatures) == 1:  # (one shown, others hidden: add's)
        # (one option: torch reads the keywords by its crude names whatever the count: add(alpha=2.0)'s "alpha")
        pieces = [p.rpartition(" ")[2] for p in signatures[0][1:-1].split(", ")]
        start = max(len(pieces) - len(kwargs), 0)
        wrong = [k for k in kwargs if k not in pieces[start:]]
        if wrong:
            return TypeError(f"{head}got unrecognized keyword arguments: {', '.join(wrong)}")
        why = _why_not(signatures[0], args, kwargs)
        if why is not None and why[0] == "keywords":
            return TypeError(f"{head}got unrecognized keyword arguments: {why[1]}")
        marked = why[1] if why is not None else got
        return TypeError(f"{head}got {marked}, but expected {signatures[0]}")
    lines = [f"{head}got {got}, but expected one of:"]
    for sig in signatures:
        lines.append(f" * {sig}")
        why = _why_not(sig, args, kwargs)
        if why is None:
            continue
        if why[0] == "keywords":
            lines.append(f"      didn't match because some of the keywords were incorrect: {why[1]}")
        else:
            lines.append(f"      didn't match because some of the arguments have invalid types: {why[1]}")
    return TypeError("\n".join(lines) + "\n")


def _why_not(sig: str, args: tuple, kwargs: dict) -> tuple[str, str] | None:
    """("keywords", the unmatched ones) or ("types", the arguments with the mismatched marked), where torch's
    count of the signature's pieces is the number of arguments given; else None."""
    pieces = [(p.rpartition(" ")[0], p.rpartition(" ")[2]) for p in sig[1:-1].split(", ")]
    n = len(args) + len(kwargs)
    if len(pieces) != n:
        return None
    start = max(len(pieces) - len(kwargs), 0)
    wrong = [k for k in kwargs if all(pieces[i][1] != k for i in range(start, len(pieces)))]
    if wrong:
        return "keywords", ", ".join(wrong)
    if any(pieces[i][1] not in kwargs for i in range(len(args), n)):
        return None  # (torch's lookup of a keyword by its crude name fails there: no line, here)
    marks = []
    values = [*args, *(kwargs[pieces[i][1]] for i in range(len(args), n))]
    for i, v in enumerate(values):
        text = _arg_text(v)
        if i >= len(args):
            text = f"{pieces[i][1]}={text}"
        marks.append(text if _crude_match(pieces[i][0], v) else f"!{text}!")
    text = "".join(m + ", " for m in marks)  # (torch drops the last ", " only where an argument was positional)
    return "types", f"({text[:-2] if args else text})"


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
    table = (
        _VF_SIGNATURES.get(name) if kind == "_VF" else NN_SIGNATURES.get(name) if kind == "nn" else
        _ATEN_SIGNATURES.get(name) if kind == "aten" else SIGNATURES.get((kind, name))
    )  # fmt: skip
    if table is None:
        return None
    if (kind, name) in _PYTHON_LEVEL:  # (torch's Python method passes its arguments on by position)
        names = [p.name for p in _params(table[0])]
        where = f"Tensor.{name}()"
        if len(args) > len(names):
            return TypeError(f"{where} takes {len(names) + 1} positional arguments but {len(args) + 1} were given")
        for k in kwargs:
            if k not in names:
                return TypeError(f"{where} got an unexpected keyword argument '{k}'")
            if names.index(k) < len(args):
                return TypeError(f"{where} got multiple values for argument '{k}'")
        given = dict(zip(names, args)) | kwargs
        missing = [n for n in names if n not in given]
        if missing:
            quoted = [f"'{n}'" for n in missing]
            listed = quoted[0] if len(quoted) == 1 else ", ".join(quoted[:-1]) + f" and {quoted[-1]}"
            s = "s" if len(missing) > 1 else ""
            return TypeError(f"{where} missing {len(missing)} required positional argument{s}: {listed}")
        args, kwargs = tuple(given[n] for n in names), {}
    if any(_takes(_params(s.removeprefix("hidden:")), args, kwargs) for s in table):
        return None
    if len(args) > 1:
        for sig in table:
            found = _one_signature(name, _params(sig.removeprefix("hidden:")), args, {}) if _sized(
                _params(sig.removeprefix("hidden:"))) else None  # fmt: skip
            if found is not None and "failed to unpack" in str(found):
                return found
    signatures = tuple(
        s.replace("?", "").replace("~", "").replace("^", "") for s in table if not s.startswith("hidden:")
    )
    parsed = [_params(s) for s in table if not s.startswith("hidden:")]
    if len(table) == 1:
        return _one_signature(name, parsed[0], args, kwargs)
    n = len(args) + len(kwargs)
    plausible = [p for p in parsed if sum(1 for q in p if not q.optional) <= n <= len(p)]
    if len(plausible) == 1:
        return _one_signature(name, plausible[0], args, kwargs)
    return _invalid_combination(name, signatures, args, kwargs)
