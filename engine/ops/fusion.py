"""Elementwise chains on a device, run as one kernel.

On a GPU every array op is a kernel launch and a full pass over memory: `tanh(2 * sigmoid(exp(x*y + z) * 0.5) - 1)`
op by op reads and writes each element eight times where one pass would do. So on a device, when no graph is
recorded, a float op over large tensors returns a *pending* tensor: a recipe (the op and its operands) instead of
an array. Fusable ops on a pending tensor extend its recipe; anything else that reads its data (printing, a
reduction, indexing, .item(), a matmul) first runs the recipe as one generated cupy ElementwiseKernel (cached
per recipe and dtype) and the tensor becomes an ordinary one, for good.

What stays exactly as op by op:
- the numbers: each op is computed in the tensor's dtype, in the same order and the same form (c / x is
  reciprocal(x) * c, as torch computes it), with + - * written as round-to-nearest intrinsics that the compiler
  never contracts into a fused multiply-add, so a chain gives the bits its ops give one at a time;
- what a recipe reads: it holds its inputs' arrays, so whatever writes into an existing array (in-place ops,
  index assignment, out=, backward's gradient accumulation) first runs every pending recipe (`flush`);
- failures: a kernel that fails to build or run is remembered in ERRORS and its recipe runs op by op, so a
  toolchain problem costs speed, never an answer.

Kernel text is made only from the fixed op table below and generated names (in0, c0, ...): numbers from a
script travel as kernel arguments, never as source, so nothing a script does can write CUDA code.

cpu tensors never take this path: numpy has no launches to save, and pending tensors are made only from device
arrays.
"""

from __future__ import annotations

import math
import os
import warnings
import weakref
from typing import Any

import numpy as np

from engine.backend import on_device
from engine.dtypes import FROM_NP
from engine.grad_mode import ENABLED, INFERENCE, InferenceVC
from engine.ops import cuda_vec
from engine.ops.memory_layout import laid_out_as_inputs
from engine.tensor import Size, Tensor


# Fewer elements than this and a chain's kernel launches cost less than the recipe's bookkeeping and one more
# kernel to compile; TCLI_FUSE_MIN_NUMEL=0 fuses everything (the tests run the cuda half that way).
def _min_numel() -> int:
    raw = os.environ.get("TCLI_FUSE_MIN_NUMEL", "")
    try:
        return max(0, int(raw)) if raw.strip() else 1 << 16
    except ValueError:
        warnings.warn(f"TCLI_FUSE_MIN_NUMEL={raw!r} is not a whole number of elements; using 65536", stacklevel=2)
        return 1 << 16


MIN_NUMEL = _min_numel()
MAX_NODES = 32  # a longer recipe is run and continued from its result (kernels stay small, compile fast)
# each new recipe shape costs a kernel compile (cached on disk by cupy); past this many in one process, new
# shapes run op by op, so a script that keeps making new ones never spends its time compiling
MAX_KERNELS = 256
ERRORS: list = []  # (kernel source, error) for kernels that could not be built or run

_SLOT = Tensor.__dict__["_data"]  # the storage slot under Pending's forcing property
# id -> weakref of each pending tensor (not a WeakSet: that compares tensors with ==, which is elementwise)
_LIVE: dict = {}
_CTYPE = {np.dtype(np.float32): "float", np.dtype(np.float64): "double"}
_NEW = object.__new__

# op -> C expression over its operands; the same op's numpy name runs it op by op
_C = {
    "add": "tcli_add({0}, {1})",
    "subtract": "tcli_sub({0}, {1})",
    "multiply": "tcli_mul({0}, {1})",
    "divide": "({0} / {1})",
    "reciprocal": "(1 / {0})",
    "power": "pow({0}, {1})",
    "negative": "(-{0})",
    "exp": "exp({0})",
    "log": "log({0})",
    "sqrt": "sqrt({0})",
    "tanh": "tanh({0})",
    "sin": "sin({0})",
    "cos": "cos({0})",
    "sigmoid": "tcli_sigmoid({0})",
}
UNARY = frozenset(("negative", "exp", "log", "sqrt", "tanh", "sin", "cos", "sigmoid", "reciprocal"))
# + - * as intrinsics: `a * b + c` in plain C may compile to one fma (rounded once), where the ops one by one
# round twice. Library calls (exp, ...) compile with the default flags, as cupy's own ufuncs do.
_PREAMBLE = """
__device__ float tcli_add(float a, float b) { return __fadd_rn(a, b); }
__device__ double tcli_add(double a, double b) { return __dadd_rn(a, b); }
__device__ float tcli_sub(float a, float b) { return __fsub_rn(a, b); }
__device__ double tcli_sub(double a, double b) { return __dsub_rn(a, b); }
__device__ float tcli_mul(float a, float b) { return __fmul_rn(a, b); }
__device__ double tcli_mul(double a, double b) { return __dmul_rn(a, b); }
__device__ float tcli_sigmoid(float x) { return 1.0f / (1.0f + exp(-x)); }
__device__ double tcli_sigmoid(double x) { return 1.0 / (1.0 + exp(-x)); }
"""


class Expr:
    """One op of a recipe: operands are Exprs, device arrays (the recipe's inputs) or Python numbers."""

    __slots__ = ("op", "args", "shape", "dtype", "nodes")

    def __init__(self, op: str, args: tuple, shape: tuple, dtype: Any, nodes: int) -> None:
        self.op, self.args, self.shape, self.dtype, self.nodes = op, args, shape, dtype, nodes


class Pending(Tensor):
    """A device tensor whose data is still a recipe; reading `_data` runs it and makes this a plain Tensor."""

    __slots__ = ()

    @property
    def _data(self) -> Any:  # type: ignore[override]
        _LIVE.pop(id(self), None)  # (a recipe that raises is not retried by every later flush)
        arr = run(_SLOT.__get__(self))
        _SLOT.__set__(self, arr)
        self.__class__ = Tensor
        return arr

    # metadata without running the recipe (tcli's size checks read these before every operator)
    @property
    def shape(self) -> Any:
        return Size(_SLOT.__get__(self).shape)

    def size(self, dim: int | None = None) -> Any:
        shape = _SLOT.__get__(self).shape
        if dim is None:
            return Size(shape)
        from engine.ops.util import norm_dim

        return shape[norm_dim(dim, len(shape))]

    @property
    def dtype(self) -> Any:
        return FROM_NP[_SLOT.__get__(self).dtype]

    @property
    def ndim(self) -> int:
        return len(_SLOT.__get__(self).shape)

    def dim(self) -> int:
        return len(_SLOT.__get__(self).shape)

    def numel(self) -> int:
        return math.prod(_SLOT.__get__(self).shape)

    @_data.setter
    def _data(self, value: Any) -> None:
        _SLOT.__set__(self, value)
        self.__class__ = Tensor
        _LIVE.pop(id(self), None)


def flush() -> None:
    """Run every pending recipe: called before anything writes into an existing array."""
    while _LIVE:
        for key, ref in list(_LIVE.items()):
            t = ref()
            if type(t) is Pending:
                t._data  # noqa: B018 - the read runs the recipe
            _LIVE.pop(key, None)


def live_inputs() -> list:
    """The arrays pending recipes read (for tests that check nothing writes into them)."""
    out: list = []

    def walk(e: Any) -> None:
        if type(e) is Expr:
            for a in e.args:
                walk(a)
        elif not isinstance(e, (int, float)):
            out.append(e)

    for ref in list(_LIVE.values()):
        t = ref()
        if type(t) is Pending:
            walk(_SLOT.__get__(t))
    return out


# ---- building recipes ---------------------------------------------------------------------------------------
def _operand(v: Any, dev: Any, dtype: Any) -> Any:
    """v as a recipe operand on `dev` in `dtype`, or None where it cannot join the recipe."""
    tv = type(v)
    if tv is Pending:
        if v._dev is not dev:
            return None
        e = _SLOT.__get__(v)
        if e.dtype is not dtype:
            return None
        return e if e.nodes < MAX_NODES else v._data
    if tv is Tensor:
        if v._dev is not dev or (v._rg and ENABLED[0]):
            return None
        d = v._data
        return d if d.dtype is dtype else None
    if tv is float or tv is int:
        try:
            dtype.type(v)
        except OverflowError:  # the op itself raises it, at the op
            return None
        return v
    return None


def _shape(x: Any) -> tuple:
    return () if isinstance(x, (int, float)) else x.shape


def _size(v: Any) -> int:
    tv = type(v)
    if tv is Pending:
        return math.prod(_SLOT.__get__(v).shape)
    if tv is Tensor:
        return v._data.size
    return 1


def make(op: str, a: Tensor, b: Any = None, reflected: bool = False) -> Tensor | None:
    """`op` over tensor a (and b: a tensor or a Python number; `b op a` when reflected) as a pending tensor, or
    None when it is not fusable here: a cpu tensor, a graph to record, a non-float or mixed dtype, a small
    result."""
    dev = a._dev
    if dev.type == "cpu" or (ENABLED[0] and (a._rg or (isinstance(b, Tensor) and b._rg))):
        return None
    if _size(a) * _size(b) < MIN_NUMEL:  # (an upper bound of the result's size)
        return None
    dtype = _SLOT.__get__(a).dtype if type(a) is Pending else a._data.dtype
    if dtype not in _CTYPE:
        return None
    x = _operand(a, dev, dtype)
    if x is None:
        return None
    if op in UNARY:
        args: tuple = (x,)
        shape = _shape(x)
    else:
        y = _operand(b, dev, dtype)
        if y is None:
            return None
        args = (y, x) if reflected else (x, y)
        sx, sy = _shape(x), _shape(y)
        if sx == sy or not sy:
            shape = sx
        elif not sx:
            shape = sy
        else:
            try:
                shape = np.broadcast_shapes(sx, sy)
            except ValueError:
                return None  # the op-by-op path raises torch's error
        if math.prod(shape) < MIN_NUMEL:
            return None
    nodes = 1 + sum(e.nodes for e in args if type(e) is Expr)
    # (tensor.wrap's fields, set here: wrap would take the recipe for an array)
    t = _NEW(Pending)
    _SLOT.__set__(t, Expr(op, args, shape, dtype, nodes))
    t._dev = dev
    t._rg = False
    t.grad_fn = None
    t._grad = None
    t._vc = [0, None] if not INFERENCE[0] else InferenceVC((0, None))
    t._base = None
    t._accum = None
    t._meta = None
    key = id(t)
    _LIVE[key] = weakref.ref(t, lambda r, k=key: _LIVE.pop(k) if _LIVE.get(k) is r else None)
    return t


def _binary_method(name: str, op: str, reflected: bool = False) -> Any:
    forward = name.replace("__r", "__", 1)

    def method(self: Tensor, other: Any) -> Any:
        if reflected and op == "divide" and type(other) in (int, float):
            # torch's c / x is reciprocal(x) * c, which rounds otherwise than c / x would
            r = make("reciprocal", self)
            t = make("multiply", r, other) if r is not None else None
        else:
            t = make(op, self, other, reflected)
        if t is not None:
            return t
        if reflected and isinstance(other, Tensor):  # `other op self` for two tensors: the forward op's rules
            return getattr(Tensor, forward)(other, self)
        return getattr(Tensor, name)(self, other)

    method.__name__ = name
    return method


def _pow(self: Tensor, exponent: Any) -> Any:
    # as the op-by-op pow does: x**2 is x*x and x**0.5 is sqrt(x), which C's pow need not round alike
    te = type(exponent)
    if (te is int or te is float) and exponent == 2:
        t = make("multiply", self, self)
    elif te is float and exponent == 0.5:
        t = make("sqrt", self)
    else:
        t = make("power", self, exponent)
    return t if t is not None else Tensor.__pow__(self, exponent)


def _neg(self: Tensor) -> Any:
    t = make("negative", self)
    return t if t is not None else Tensor.__neg__(self)


# A pending tensor's operators extend its recipe. (Python asks the right operand first when its type is a
# subclass that overrides the reflected method, so `x + pending` lands here too.)
for _name, _op in (("add", "add"), ("sub", "subtract"), ("mul", "multiply"), ("truediv", "divide")):
    setattr(Pending, f"__{_name}__", _binary_method(f"__{_name}__", _op))
    setattr(Pending, f"__r{_name}__", _binary_method(f"__r{_name}__", _op, reflected=True))
Pending.__pow__ = _pow  # type: ignore[method-assign]
Pending.__neg__ = _neg  # type: ignore[method-assign]


# ---- running recipes ----------------------------------------------------------------------------------------
_KERNELS: dict = {}
_FAILED: set = set()


def source(e: Expr) -> tuple[str, list, list]:
    """The C expression of a recipe, its input arrays (in0, in1, ...) and its numbers (c0, c1, ...)."""
    ins: list = []
    seen: dict = {}
    consts: list = []

    def walk(x: Any) -> str:
        if type(x) is Expr:
            return _C[x.op].format(*(walk(a) for a in x.args))
        if isinstance(x, (int, float)):
            consts.append(x)
            return f"c{len(consts) - 1}"
        i = seen.get(id(x))
        if i is None:
            i = seen[id(x)] = len(ins)
            ins.append(x)
        return f"in{i}"

    return walk(e), ins, consts


def run(e: Expr) -> Any:
    body, ins, consts = source(e)
    dt = e.dtype
    key = (body, dt.name, len(ins), len(consts))
    if key not in _FAILED and (key in _KERNELS or len(_KERNELS) < MAX_KERNELS):
        r = cuda_vec.run(body, ins, consts, dt, e.shape, _PREAMBLE)
        if r is not None:
            return laid_out_as_inputs(r, ins)
        try:
            k = _KERNELS.get(key)
            if k is None:
                import cupy

                params = ", ".join(
                    [f"{dt.name} in{i}" for i in range(len(ins))] + [f"{dt.name} c{j}" for j in range(len(consts))]
                )
                k = _KERNELS[key] = cupy.ElementwiseKernel(
                    params, f"{dt.name} out0", f"out0 = {body}", f"tcli_fused_{len(_KERNELS)}", preamble=_PREAMBLE
                )  # fmt: skip
            r = k(*ins, *(dt.type(c) for c in consts))
            if r.shape == e.shape and r.dtype == dt:
                return laid_out_as_inputs(r, ins)
            raise RuntimeError(f"kernel gave {r.dtype}{r.shape}, expected {dt}{e.shape}")
        except Exception as err:  # noqa: BLE001 - any build or launch failure: run the recipe op by op
            if type(err).__name__ == "OutOfMemoryError":
                raise  # the device is full, not the kernel wrong: op by op would need more memory still
            _FAILED.add(key)
            _KERNELS.pop(key, None)
            ERRORS.append((f"out0 = {body} [{dt.name}]", f"{type(err).__name__}: {err}"))
    return eager(e)


def eager(e: Any) -> Any:
    """The recipe op by op, as the ops themselves compute it."""
    if type(e) is not Expr:
        return e
    args = [eager(a) for a in e.args]
    if e.op == "sigmoid":
        from engine.ops.elementwise import _sigmoid

        return _sigmoid(args[0])
    return on_device(getattr(np, e.op))(*args)
