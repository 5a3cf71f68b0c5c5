"""engine: tensors and reverse-mode autograd on numpy (cpu) or cupy (cuda), with torch's names,
so `import engine as torch` runs the PyTorch code it covers."""

from __future__ import annotations

import math as _math

import numpy as _np

# torch computes with IEEE semantics silently (overflow -> inf, 0/0 -> nan); so does the engine.
_np.seterr(all="ignore")

from engine import accelerator, amp, autograd, backends, cuda, fft, linalg, nn, return_types  # noqa: F401
from engine import methods as _methods  # noqa: F401  (binds ops onto Tensor)
from engine.amp.autocast_mode import (  # noqa: F401
    autocast,
    clear_autocast_cache,
    get_autocast_cpu_dtype,
    get_autocast_dtype,
    get_autocast_gpu_dtype,
    is_autocast_cache_enabled,
    is_autocast_cpu_enabled,
    is_autocast_enabled,
    set_autocast_cache_enabled,
    set_autocast_dtype,
    set_autocast_enabled,
)
from engine.autograd import is_anomaly_check_nan_enabled, is_anomaly_enabled, set_anomaly_enabled
from engine.backend import device, set_default_device
from engine.backends.cuda import get_float32_matmul_precision, set_float32_matmul_precision  # noqa: F401
from engine.creation import (
    arange,
    as_tensor,
    asarray,
    bernoulli,
    empty,
    empty_like,
    eye,
    from_numpy,
    full,
    full_like,
    linspace,
    logspace,
    multinomial,
    normal,
    ones,
    ones_like,
    rand,
    rand_like,
    randint,
    randint_like,
    randn,
    randn_like,
    randperm,
    range_,
    tensor,
    zeros,
    zeros_like,
)
from engine.dtypes import (
    bfloat16,
    complex64,
    complex128,
    dtype,
    float16,
    float32,
    float64,
    get_default_dtype,
    int8,
    int16,
    int32,
    int64,
    promote_types,
    set_default_dtype,
    uint8,
    uint16,
    uint32,
    uint64,
)
from engine.dtypes import (
    bool_ as bool,
)
from engine.grad_mode import (
    enable_grad,
    inference_mode,
    is_grad_enabled,
    is_inference_mode_enabled,
    no_grad,
    set_grad_enabled,
)
from engine.legacy import (
    BoolTensor,
    ByteTensor,
    CharTensor,
    DoubleTensor,
    FloatTensor,
    HalfTensor,
    IntTensor,
    LongTensor,
    ShortTensor,
    set_default_tensor_type,
)
from engine.ops.elementwise import (
    abs,
    acos,
    add,
    addcdiv,
    addcmul,
    allclose,
    argwhere,
    asin,
    atan,
    atan2,
    bitwise_and,
    bitwise_left_shift,
    bitwise_not,
    bitwise_or,
    bitwise_right_shift,
    bitwise_xor,
    ceil,
    clamp,
    clamp_max,
    clamp_min,
    clip,
    cos,
    cosh,
    div,
    divide,
    eq,
    equal,
    erf,
    exp,
    exp2,
    expm1,
    float_power,
    floor,
    floor_divide,
    fmod,
    frac,
    ge,
    greater,
    greater_equal,
    gt,
    isclose,
    isfinite,
    isinf,
    isnan,
    le,
    lerp,
    less,
    less_equal,
    log,
    log1p,
    log2,
    log10,
    logical_and,
    logical_not,
    logical_or,
    logical_xor,
    lt,
    maximum,
    minimum,
    mul,
    multiply,
    nan_to_num,
    ne,
    neg,
    nonzero,
    not_equal,
    positive,
    pow,
    reciprocal,
    relu,
    remainder,
    round,
    rsqrt,
    sigmoid,
    sign,
    sin,
    sinh,
    sqrt,
    square,
    sub,
    subtract,
    tan,
    tanh,
    true_divide,
    trunc,
    where,
)
from engine.ops.index import (
    cat,
    chunk,
    combinations,
    concat,
    concatenate,
    dsplit,
    gather,
    hsplit,
    hstack,
    index_add,
    index_select,
    masked_fill,
    masked_select,
    narrow,
    scatter,
    scatter_add,
    select,
    split,
    stack,
    take,
    tensor_split,
    unbind,
    vsplit,
    vstack,
)
from engine.ops.linalg import addmm, bmm, dot, inner, matmul, mm, mv, outer, trace
from engine.ops.shape import adjoint  # noqa: F401, E402
from engine.ops.unsafe_split import split_with_sizes, unsafe_chunk, unsafe_split, unsafe_split_with_sizes

ger = outer  # (torch.ger: the old name of outer; torch.row_stack: of vstack)
from engine.memory_format import (  # noqa: F401
    channels_last,
    channels_last_3d,
    contiguous_format,
    layout,
    memory_format,
    preserve_format,
    sparse_coo,
    strided,
)
from engine.ops.complex import (
    angle,
    complex,
    conj,
    conj_physical,
    imag,
    is_complex,
    is_conj,
    isreal,
    polar,
    real,
    resolve_conj,
    view_as_complex,
    view_as_real,
)
from engine.ops.index import row_stack  # noqa: E402
from engine.ops.reduce import (
    all,
    amax,
    amin,
    any,
    argsort,
    bincount,
    count_nonzero,
    log_softmax,
    logsumexp,
    mean,
    nansum,
    norm,
    softmax,
    sort,
    std,
    std_mean,
    sum,
    unique,
    unique_consecutive,
    var,
    var_mean,
)
from engine.ops.shape import (
    broadcast_to,
    clone,
    diag,
    flatten,
    flip,
    fliplr,
    flipud,
    meshgrid,
    moveaxis,
    movedim,
    permute,
    ravel,
    repeat_interleave,
    reshape,
    roll,
    squeeze,
    swapaxes,
    swapdims,
    t,
    tile,
    transpose,
    unflatten,
    unsqueeze,
)
from engine.printing import set_printoptions
from engine.process import (
    are_deterministic_algorithms_enabled,
    get_deterministic_debug_mode,
    get_num_interop_threads,
    get_num_threads,
    is_deterministic_algorithms_warn_only_enabled,
    set_deterministic_debug_mode,
    set_num_interop_threads,
    set_num_threads,
    use_deterministic_algorithms,
)
from engine.random import (
    Generator,
    default_generator,
    get_rng_state,
    initial_seed,
    manual_seed,
    seed,
    set_rng_state,
)
from engine.serialization import load, save
from engine.tensor import Size, Tensor, is_inference
from engine.typeinfo import finfo, iinfo
from engine.warn import is_warn_always_enabled, set_warn_always  # noqa: F401

float = float32  # noqa: A001
double = float64
cfloat = complex64
cdouble = complex128
half = float16
int = int32  # noqa: A001
long = int64
short = int16
uint8 = uint8
e = 2.718281828459045
pi = 3.141592653589793
inf = _math.inf
nan = _math.nan
__version__ = "2.13.0+engine"
newaxis = None  # (torch.newaxis, numpy's spelling of None in an index: x[:, torch.newaxis])
absolute = abs
negative = neg
arcsin, arccos, arctan, arctan2 = asin, acos, atan, atan2


def is_tensor(obj: object) -> bool:
    return isinstance(obj, Tensor)


def numel(input: Tensor) -> int:  # noqa: A002
    return input.numel()


def is_distributed(input: Tensor) -> bool:  # noqa: A002
    return input.is_distributed()


def is_floating_point(input: Tensor) -> bool:  # noqa: A002
    return input.is_floating_point()


def result_type(tensor1: object, tensor2: object) -> dtype:
    from engine.dtypes import from_np
    from engine.ops.util import result_np

    return from_np(result_np(tensor1, tensor2))


def detach(input: Tensor) -> Tensor:  # noqa: A002
    return input.detach()


def rsub(input: Tensor, other: object, alpha: object = 1) -> Tensor:  # noqa: A002
    return _methods.rsub(input, other * alpha if alpha != 1 else other)


def square_(input: Tensor) -> Tensor:  # noqa: A002
    return input.square_()


def zero_(input: Tensor) -> Tensor:  # noqa: A002
    return input.zero_()


def get_default_device() -> device:
    from engine.backend import DEFAULTS

    return DEFAULTS.device


# ---- the rest of torch's namespace: each module's table of functions ------------------------------------
from engine import compiler, signal, special  # noqa: E402, F401 - (signal's windows read torch.strided above)
from engine.compile import compile  # noqa: E402, F401
from engine.lowrank import TORCH as _LOWRANK  # noqa: E402
from engine.nn.module import typename  # noqa: E402, F401
from engine.nn.weight_norm_ops import _weight_norm, norm_except_dim  # noqa: E402, F401
from engine.ops.as_strided import TORCH as _AS_STRIDED  # noqa: E402
from engine.ops.composites import FUNCTIONS as _COMPOSITES  # noqa: E402
from engine.ops.diagonal import diag_embed, diagonal  # noqa: E402, F401
from engine.ops.einsum import einsum  # noqa: E402, F401
from engine.ops.elementwise_more import FUNCTIONS as _ELEMENTWISE_MORE  # noqa: E402
from engine.ops.histogram import TORCH as _HISTOGRAM  # noqa: E402
from engine.ops.index_put import TORCH as _INDEX_PUT  # noqa: E402
from engine.ops.index_reduce import TORCH as _INDEX_REDUCE  # noqa: E402
from engine.ops.index_write import index_copy, index_fill, masked_scatter  # noqa: E402, F401
from engine.ops.linalg_registry import TORCH as _LINALG_MORE  # noqa: E402
from engine.ops.order_stats import (  # noqa: E402, F401
    aminmax,
    argmax,
    argmin,
    cummax,
    cummin,
    cumprod,
    cumsum,
    frexp,
    kthvalue,
    logcumsumexp,
    median,
    mode,
    msort,
    nanmean,
    nanmedian,
    prod,
    topk,
    tril,
    triu,
)
from engine.ops.order_stats import max_ as max  # noqa: E402, F401
from engine.ops.order_stats import min_ as min  # noqa: E402, F401
from engine.ops.renorm import TORCH as _RENORM  # noqa: E402
from engine.ops.small_fns import FUNCTIONS as _SMALL_FNS  # noqa: E402
from engine.ops.special import TORCH as _SPECIAL_TORCH  # noqa: E402
from engine.ops.special_igamma import TORCH as _IGAMMA  # noqa: E402
from engine.ops.statistics import TORCH as _STATISTICS  # noqa: E402
from engine.random_counts import TORCH as _RANDOM_COUNTS  # noqa: E402
from engine.random_gamma import TORCH as _RANDOM_GAMMA  # noqa: E402
from engine.spectral import TORCH as _SPECTRAL  # noqa: E402
from engine.windows import FUNCTIONS as _WINDOWS  # noqa: E402

for _table in (
    _ELEMENTWISE_MORE,
    _COMPOSITES,
    _SPECIAL_TORCH,
    _STATISTICS,
    _LINALG_MORE,
    _WINDOWS,
    _HISTOGRAM,
    _RANDOM_COUNTS,
    _RANDOM_GAMMA,
    _IGAMMA,
    _INDEX_PUT,
    _INDEX_REDUCE,
    _RENORM,
    _SMALL_FNS,
    _SPECTRAL,
    _AS_STRIDED,
    _LOWRANK,
):
    globals().update(_table)
arcsinh, arccosh, arctanh = asinh, acosh, atanh  # noqa: F821 - bound just above from _ELEMENTWISE_MORE


def _numpy_names() -> None:
    """torch's functions take axis=/keepdims= for dim=/keepdim= (ops/util.numpy_names)."""
    from engine.ops.util import numpy_names

    python = {"norm", "split", "unique", "unique_consecutive"}  # (torch's, in Python: no numpy names there)
    g = globals()
    for name, value in list(g.items()):
        if (
            not name.startswith("_")
            and name not in python
            and callable(value)
            and getattr(value, "__module__", "").startswith("engine.")
        ):
            if not isinstance(value, type):
                g[name] = numpy_names(value, name)


_numpy_names()


# torch's top-level names that are torch.nn.functional's own functions (torch.conv2d is F.conv2d)
_NN_FUNCTIONS = frozenset(
    {"adaptive_avg_pool1d", "avg_pool1d", "celu_", "conv1d", "conv2d", "conv3d", "conv_transpose1d",
     "conv_transpose2d", "conv_transpose3d", "cosine_similarity", "hardshrink", "pairwise_distance", "pixel_shuffle",
     "pixel_unshuffle", "prelu", "selu_", "threshold_", "max_pool1d", "max_pool2d", "max_pool3d",
     "max_pool1d_with_indices", "selu", "celu", "bilinear", "pdist", "channel_shuffle",
     "native_channel_shuffle"}
)  # fmt: skip


def __getattr__(name: str) -> object:
    import importlib

    # (loaded on first use: most programs never need them)
    if name in ("optim", "utils", "distributions", "func", "testing", "version", "cpu", "sparse"):
        return importlib.import_module(f"engine.{name}")
    value = None
    if name == "sparse_coo_tensor":
        value = importlib.import_module("engine.sparse_tensor").sparse_coo_tensor
    elif name == "vmap":  # torch.vmap is torch.func.vmap
        value = importlib.import_module("engine.func").vmap
    elif name == "GradScaler":  # torch.GradScaler is torch.amp.GradScaler
        value = amp.GradScaler
    elif name in _NN_FUNCTIONS:
        value = getattr(nn.functional, name)
    elif name in ("UntypedStorage", "TypedStorage"):
        value = getattr(importlib.import_module("engine.storage"), name)
    elif name in ("convolution", "constant_pad_nd"):
        value = getattr(importlib.import_module("engine.nn.functional_conv"), name)
    elif name == "ctc_loss":  # (torch's own takes the reduction as its enum's int)
        value = importlib.import_module("engine.nn.ctc_loss").torch_ctc_loss
    elif name in ("rrelu", "rrelu_"):
        value = importlib.import_module("engine.nn.random_activations").TORCH_FUNCTIONS[name]
    elif name in ("grid_sampler", "affine_grid_generator"):
        value = importlib.import_module("engine.nn.grid_sample").TORCH_FUNCTIONS[name]
    elif name in ("layer_norm", "dropout"):
        value = getattr(nn.functional, "torch_" + name)
    elif name == "adaptive_max_pool1d":  # torch's top-level one always returns (values, indices)
        value = importlib.import_module("engine.nn.functional_pool").adaptive_max_pool1d_with_indices
    else:
        value = importlib.import_module("engine.nn.functional_norm").TORCH_FUNCTIONS.get(name)
    if value is not None:
        globals()[name] = value
        return value
    from engine.not_covered import not_covered

    raise not_covered("torch", name)


# torch's argument-parser TypeError when raw data (a list, an ndarray, a number) is passed where these take a
# tensor first (`torch.mean([loss1, loss2])`), instead of an error about the engine's internals; one isinstance
# test per call. Each name listed gives exactly that message in torch (checked against it in the tests).
_TENSOR_FIRST = (
    "sum mean max min abs exp log sqrt sigmoid tanh relu flatten reshape unsqueeze squeeze argmax argmin zeros_like "
    "ones_like rand_like randn_like empty_like allclose numel softmax log_softmax matmul mm bmm round transpose "
    "cumsum cumprod sin cos tan floor ceil neg sign square t permute sort argsort topk prod median mode logsumexp "
    "exp2 log2 log10 log1p expm1 isnan isinf isfinite nonzero diag trace tril triu flip roll chunk unbind "
    "count_nonzero amax amin dist cross outer inner dot mv kron clone detach rsqrt reciprocal erf trunc frac "
    "deg2rad rad2deg sinh cosh asin acos atan atanh asinh acosh diff cummax cummin logcumsumexp kthvalue "
    "masked_select take gather index_select swapaxes ravel fliplr flipud rot90 signbit nan_to_num logit"
).split()


def _install_arg_checks() -> None:
    from engine.nn.arg_checks import parser

    g = globals()
    for name in _TENSOR_FIRST:
        if name in g:
            g[name] = parser(g[name], name)


_install_arg_checks()

# torch's top-level in-place functions: torch.relu_(x) is x.relu_() (with the parser's check of the tensor)
_INPLACE_FUNCTIONS = (
    "abs_ acos_ acosh_ arccos_ arccosh_ arcsin_ arcsinh_ arctan_ arctanh_ asin_ asinh_ atan_ atanh_ ceil_ clamp_ "
    "clamp_max_ clamp_min_ clip_ cos_ cosh_ deg2rad_ detach_ erf_ erfc_ exp2_ exp_ expm1_ fill_ fix_ floor_ frac_ "
    "gcd_ i0_ lcm_ ldexp_ log10_ log1p_ log2_ log_ logit_ nan_to_num_ neg_ negative_ rad2deg_ reciprocal_ relu_ "
    "resize_as_ round_ rsqrt_ sigmoid_ sin_ sinc_ sinh_ sqrt_ tan_ tanh_ trunc_ xlogy_"
).split()


_CLAMP_OVERLOADS = ("(Tensor input, Tensor min = None, Tensor max = None)",
                    "(Tensor input, Number min = None, Number max = None)")  # fmt: skip
# the ones with two overloads: a non-tensor input gets the parser's invalid-combination message
_INPLACE_OVERLOADS = {
    "fill_": (("(Tensor input, Tensor value)", "(Tensor input, Number value)"), 2),
    "clamp_": (_CLAMP_OVERLOADS, 3),
    "clip_": (_CLAMP_OVERLOADS, 3),
    "clamp_min_": (("(Tensor input, Tensor min)", "(Tensor input, Number min)"), 2),
    "clamp_max_": (("(Tensor input, Tensor max)", "(Tensor input, Number max)"), 2),
}


def _overloaded(fn: object, name: str, overloads: tuple, n: int) -> object:
    import functools

    from engine.ops.util import invalid_combination

    @functools.wraps(fn)
    def checked(input: object, *args: object, **kwargs: object) -> object:  # noqa: A002
        if not isinstance(input, Tensor):  # (the parser marks the arguments when all of them were given)
            raise invalid_combination(name, (input, *args), overloads, len(args) + 1 == n)
        return fn(input, *args, **kwargs)

    return checked


def _install_inplace_functions() -> None:
    from engine.nn.arg_checks import parser

    g = globals()
    for name in _INPLACE_FUNCTIONS:
        if name not in g and hasattr(Tensor, name):
            fn = getattr(Tensor, name)
            g[name] = (
                _overloaded(fn, name, *_INPLACE_OVERLOADS[name]) if name in _INPLACE_OVERLOADS else parser(fn, name)
            )


_install_inplace_functions()

range = range_  # noqa: A001 - torch's name


def solve(*args: object, **kwargs: object) -> None:
    """torch.solve: removed from torch (1.9); its error says what to write instead."""
    raise RuntimeError(
        "This function was deprecated since version 1.9 and is now removed. `torch.solve` is deprecated in favor "
        "of `torch.linalg.solve`. `torch.linalg.solve` has its arguments reversed and does not return the LU "
        "factorization.\n\nTo get the LU factorization see `torch.lu`, which can be used with `torch.lu_solve` or "
        "`torch.lu_unpack`.\nX = torch.solve(B, A).solution should be replaced with:\nX = torch.linalg.solve(A, B)"
    )


def _install_complex_refusals() -> None:
    import sys

    from engine.ops.complex_refusals import install

    for namespace in (sys.modules[__name__], Tensor, special):
        install(namespace)


_install_complex_refusals()


def _name_made_functions() -> None:
    """A public function made by a factory (`_make_unary(...)` returns its inner `op`) is named as the name it is
    public under, so that print(torch.eq) or an argument error names eq, not `_cmp.<locals>.op`."""
    import types

    from engine.nn import functional as nn_functional

    for namespace in (globals(), vars(nn_functional), vars(linalg), vars(special), vars(fft)):
        for public, f in list(namespace.items()):
            if type(f) is types.FunctionType and not public.startswith("_") and "<locals>" in f.__qualname__:
                if f.__name__ not in namespace or namespace[f.__name__] is not f:
                    f.__name__ = public
                f.__qualname__ = f.__name__


_name_made_functions()
