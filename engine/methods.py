"""Binds the op functions onto Tensor as methods and operators, in one table, so tensor.py stays
about storage and every op is defined once in engine/ops."""

from __future__ import annotations

import types
from typing import Any

import numpy as np

from engine import autograd
from engine import memory_flags as MEMORY_FLAGS
from engine import spectral as SPECTRAL
from engine.autograd import next_seq
from engine.backend import device as _device
from engine.backend import for_array, to_device
from engine.bf16 import round_bits
from engine.dtypes import (
    ALL_TYPES,
    DEFAULT,
    bfloat16,
    bool_,
    float16,
    float32,
    float64,
    int8,
    int16,
    int32,
    int64,
    no_uint_kernel,
    to_dtype,
    uint8,
)
from engine.dtypes import dtype as dtype_type
from engine.grad_mode import ENABLED
from engine.memory_format import memory_format as memory_format_type
from engine.memory_format import strided as _STRIDED
from engine.naming import type_name
from engine.nn import functional as _FM
from engine.ops import as_strided as AS
from engine.ops import complex as CX  # noqa: E402, I001
from engine.ops import composites as CP
from engine.ops import diagonal as DG
from engine.ops import elementwise as E
from engine.ops import elementwise_more as EM
from engine.ops import histogram as HIST
from engine.ops import index as I  # noqa: E741
from engine.ops import index_put as IP
from engine.ops import index_reduce as IRED
from engine.ops import index_write as IW
from engine.ops import inplace as P
from engine.ops import linalg as L
from engine.ops import linalg_more as LMORE_SVD
from engine.ops import linalg_registry as LMORE
from engine.ops import order_stats as OS
from engine.ops import reduce as R
from engine.ops import renorm as RN
from engine.ops import shape as S
from engine.ops import small_fns as SMALL
from engine.ops import special as SPF
from engine.ops import special_igamma as IGAM
from engine.ops import statistics as STA
from engine.ops import unsafe_split as US
from engine.ops.util import bad_keywords, edge_of, invalid_combination, named_code, node_class, numpy_names
from engine.tensor import PYTHON_LEVEL_METHODS, Size, Tensor, view_of, wrap
from engine.warn import user_stacklevel


# ---- operators whose reflected forms need their own node -----------------------------------------------
def _rsub_bw(self: Any, g: Tensor) -> tuple:
    return (-g,)


RsubBackward1 = node_class("RsubBackward1", _rsub_bw)


def rsub(self: Tensor, other: Any) -> Any:
    try:
        E._sub_check(self, other)
        ad, b = E.prep(self, other)
    except E.NotOperand:
        return NotImplemented
    no_uint_kernel("add_stub", ad.dtype)
    if type(b) is float and ad.dtype.char == "e":  # (the double reaches c10::Half through float)
        b = np.float16(np.float32(b))
    elif type(b) is float and ad.dtype.metadata is not None:  # (bfloat16: the scalar a BFloat16 too)
        b = float(round_bits(np.float32(b)))
    r = for_array(np.subtract, ad)(b, ad)
    if type(r) is not np.ndarray:
        r = self._dev.xp.asarray(r)
    t = wrap(r, self._dev)
    if ENABLED[0] and self._rg:
        node = RsubBackward1()
        node._seq = next_seq()
        node._next = (edge_of(self),)
        node._ctx = (r.shape, r.dtype)
        t._rg = True
        t.grad_fn = node
    return t


def rtruediv(self: Tensor, other: Any) -> Any:
    if not isinstance(other, (int, float, bool, np.generic)):
        return NotImplemented
    return E.mul(E.reciprocal(self), other)


def _scalar_tensor(s: Any, like: Tensor) -> Tensor:
    from engine.ops.util import result_np

    return wrap(like._dev.xp.asarray(np.asarray(s).astype(result_np(s, like))), like._dev)  # ints wrap as torch


def _rlshift(self: Tensor, other: Any) -> Any:
    if not isinstance(other, (int, bool)):
        return NotImplemented
    return E.bitwise_left_shift(_scalar_tensor(other, self), self)


def _rrshift(self: Tensor, other: Any) -> Any:
    if not isinstance(other, (int, bool)):
        return NotImplemented
    return E.bitwise_right_shift(_scalar_tensor(other, self), self)


def rfloordiv(self: Tensor, other: Any) -> Any:
    if not isinstance(other, (int, float, bool)):
        return NotImplemented
    r = E.floor_divide(_scalar_tensor(other, self), self)
    if r.grad_fn is not None:
        E._one_edge(r.grad_fn, 1)
    return r


def rmod(self: Tensor, other: Any) -> Any:
    if not isinstance(other, (int, float, bool)):
        return NotImplemented
    return E.remainder(other, self)


def _pow_operator(self: Tensor, exponent: Any) -> Any:
    """`tensor ** x`: an ndarray exponent is numpy's to handle (its result comes back wrapped as a tensor, as
    torch's __array_wrap__ does), not an error."""
    if type(exponent) is np.ndarray:
        return NotImplemented
    return E.pow(self, exponent)


def rpow(self: Tensor, other: Any) -> Any:
    return E._rpow(self, other)


def _matmul_op(self: Tensor, other: Any) -> Any:
    # the operator leaves a non-tensor to Python, whose TypeError names both operands (torch.matmul names one)
    return L.matmul_operator(self, other) if isinstance(other, Tensor) else NotImplemented


def rmatmul(self: Tensor, other: Any) -> Any:
    return L.matmul(other, self) if isinstance(other, Tensor) else NotImplemented


def _op(fn: Any, sym: str) -> Any:
    def method(self: Tensor, other: Any) -> Any:
        return fn(self, other)

    return method


def _inplace_op(fn: Any) -> Any:
    def method(self: Tensor, other: Any) -> Tensor:
        return fn(self, other)

    return method


def _idiv(self: Tensor, other: Any) -> Tensor:
    return P.div_(self, other)


def _ifloordiv(self: Tensor, other: Any) -> Tensor:
    return P.apply(self, E.floor_divide, other)


def _imod(self: Tensor, other: Any) -> Tensor:
    return P.apply(self, E.remainder, other)


def _eq(self: Tensor, other: Any) -> Any:
    r = E._eq(self, other)
    return False if r is NotImplemented else r


def _ne(self: Tensor, other: Any) -> Any:
    r = E._ne(self, other)
    return True if r is NotImplemented else r


# ---- conversions ------------------------------------------------------------------------------------------
_TO_OVERLOADS = (
    "(torch.device device = None, torch.dtype dtype = None, bool non_blocking = False, bool copy = False, *, "
    "torch.memory_format memory_format = None)",
    "(torch.dtype dtype, bool non_blocking = False, bool copy = False, *, torch.memory_format memory_format = None)",
    "(Tensor tensor, bool non_blocking = False, bool copy = False, *, torch.memory_format memory_format = None)",
)


def _to_kind(a: Any) -> str | None:
    """How torch's parser reads a positional argument of to(): 'd'evice, 't'ype, 'T'ensor, 'b'ool, 'n'one."""
    if a is None:
        return "n"
    if type(a) is bool:
        return "b"
    if isinstance(a, (str, int, _device)):
        return "d"
    if isinstance(a, Tensor):
        return "T"
    if isinstance(a, dtype_type) or a in (float, int, bool, complex):
        return "t"
    return None


def _bad_to_keywords(kwargs: dict) -> bool:
    """Whether to()'s parser refuses a keyword: one it has not, or a dtype= or device= of another type."""
    for k, v in kwargs.items():
        if v is None:
            continue
        if k == "dtype":
            if _to_kind(v) != "t":
                return True
        elif k == "device":
            if _to_kind(v) != "d":
                return True
        elif k not in ("non_blocking", "copy", "memory_format"):
            return True
    return False


def _check_to_args(args: tuple, kwargs: dict) -> None:
    """torch's parser for to(): one of its three signatures must take the arguments (x.to(torch.float32,
    torch.float64) matches none); anything it reads otherwise is left to the conversion below."""
    kinds = "".join(k or "?" for k in map(_to_kind, args))
    if "?" in kinds or _bad_to_keywords(kwargs):  # (x.to(np.float32), x.to(dtype="float32"), x.to(foo=1))
        raise invalid_combination("to", args, _TO_OVERLOADS, False, kwargs=kwargs)
    flags = [kwargs[k] for k in ("non_blocking", "copy") if k in kwargs]
    ok = all(type(f) is bool for f in flags) and (
        (len(kinds) <= 4 and all(k in allowed for k, allowed in zip(kinds, ("dn", "tn", "b", "b"))))
        or (kinds[:1] in ("t", "T") and len(kinds) <= 3 and all(k == "b" for k in kinds[1:]))
    )
    if not ok:
        shown = {k: v for k, v in kwargs.items() if k in ("non_blocking", "copy", "dtype", "device")}
        raise invalid_combination("to", args, _TO_OVERLOADS, False, kwargs=shown)


def to(self: Tensor, *args: Any, **kwargs: Any) -> Tensor:
    if args or kwargs:
        _check_to_args(args, kwargs)
    if "memory_format" in kwargs:
        from engine.ops.memory_layout import check_to_format

        check_to_format(args, kwargs)
    dtype = kwargs.pop("dtype", None)
    device = kwargs.pop("device", None)
    copy = kwargs.pop("copy", False)
    kwargs.pop("non_blocking", None)
    memory_format = kwargs.pop("memory_format", None)
    kinds = [_to_kind(a) for a in args]
    if kinds and kinds[0] != "d" and "b" in kinds[1:3]:  # to(dtype, non_blocking, copy): the bools are flags
        if len(args) > 2:
            copy = args[2]
        args = args[:1]
    elif len(kinds) > 2 and kinds[0] in "dn" and kinds[2] == "b":  # to(device, dtype, non_blocking, copy)
        if len(args) > 3:
            copy = args[3]
        args = args[:2]
    for a in args:
        if isinstance(a, Tensor):
            dtype, device = a.dtype, a._dev
        elif isinstance(a, (str, int, _device)):  # (a string is a device: x.to("float") fails as in torch)
            device = a
        elif a is not None:
            dtype = a
    np_dtype = to_dtype(dtype).np if dtype is not None else self._data.dtype
    dev = to_device(device) if device is not None else None
    return S.cast(self, np_dtype, dev, copy, memory_format)


def _caster(dt: Any, name: str) -> Any:
    """x.float() and the like: torch's parser takes memory_format= alone, by keyword."""

    def method(self: Tensor, *args: Any, **kwargs: Any) -> Tensor:
        if args:
            n = len(args)
            raise TypeError(f"{name}() takes 0 positional arguments but {n} {'was' if n == 1 else 'were'} given")
        for k, v in kwargs.items():
            if k != "memory_format":
                raise TypeError(f"{name}() got an unexpected keyword argument '{k}'")
            if v is not None and not isinstance(v, memory_format_type):
                raise TypeError(f"{name}(): argument 'memory_format' must be torch.memory_format, not {type_name(v)}")
        return S.cast(self, dt.np, None)

    method.__name__ = method.__qualname__ = name
    return method


def type_(self: Tensor, dtype: Any = None, non_blocking: bool = False) -> Any:
    if dtype is None:
        prefix = "torch.cuda." if self._dev.type == "cuda" else "torch."
        return prefix + self.dtype.legacy
    if isinstance(dtype, str):
        name = dtype.rsplit(".", 1)[-1]
        for d in ALL_TYPES:
            if d.legacy == name and dtype in (f"torch.{name}", f"torch.cuda.{name}"):
                dtype = d
                break
        else:
            raise ValueError(f"invalid type: {dtype!r}")
    else:
        from engine.legacy import tensortype

        if isinstance(dtype, tensortype):  # t.type(torch.IntTensor): the legacy type's dtype
            dtype = dtype._dtype
        elif not isinstance(dtype, dtype_type):
            if isinstance(dtype, type):  # (t.type(np.float32), t.type(float): no tensor type of torch's)
                # (named by its C tp_name: a class written in Python by its name, a C one with its module)
                mod, name = dtype.__module__, dtype.__name__
                heap = dtype.__flags__ & 512  # (Py_TPFLAGS_HEAPTYPE)
                raise ValueError(f"invalid type: '{name if heap or mod == 'builtins' else f'{mod}.{name}'}'")
            raise TypeError("dtype must be a type, str, or dtype object")  # (t.type(3): torch's parser's words)
    return S.cast(self, to_dtype(dtype).np, None)


def type_as(self: Tensor, other: Tensor) -> Tensor:
    if not isinstance(other, Tensor):
        S._other_tensor("type_as", other)
    return S.cast(self, other._data.dtype, other._dev)


def cpu(self: Tensor, memory_format: Any = None) -> Tensor:
    return S.cast(self, self._data.dtype, to_device("cpu"))


def cuda(self: Tensor, device: Any = None, non_blocking: bool = False, memory_format: Any = None) -> Tensor:
    dev = to_device("cuda" if device is None else device)  # (an int: the accelerator's device, which is cuda)
    return S.cast(self, self._data.dtype, dev)


_AUTOGRAD = autograd.__dict__


# ---- autograd methods --------------------------------------------------------------------------------------
def backward(self: Tensor, gradient: Any = None, retain_graph: Any = None, create_graph: bool = False,
             inputs: Any = None) -> None:  # fmt: skip
    fn = self.grad_fn
    if fn is not None and self._accum is not None:  # (an output of a multi-output op: its port)
        fn = autograd.output_edge(self, fn)
    if gradient is None and inputs is None and not create_graph and fn is not None and self._data.size == 1:
        if self._data.dtype.kind == "f":  # loss.backward() of a float scalar: straight to the one pass
            ag = _AUTOGRAD  # (its namespace: the module's __getattr__ keeps autograd.<name> from being read quickly)
            if ag["FORWARD_AD"][0] is not None and ag["FORWARD_AD"][0]((self,)):  # (engine/forward_ad)
                retain_graph = True  # (the tangents are read from the graph later)
            ag["run_backward"]([fn], [ag["implicit_grad"](self)], bool(retain_graph), False)
            return
    autograd.backward(self, gradient, retain_graph, create_graph, inputs=inputs)


def retain_grad(self: Tensor) -> None:
    if self.grad_fn is None:
        if not self._rg:
            raise RuntimeError("can't retain_grad on Tensor that has requires_grad=False")
        return
    meta = self._meta if self._meta is not None else {}
    if meta.get("retain"):
        return
    meta["retain"] = True
    self._meta = meta
    import weakref

    ref = weakref.ref(self)

    def hook(g: Tensor) -> None:
        t = ref()
        if t is None:
            return
        if t._grad is None:
            t._grad = g.detach().clone() if not g._rg else g
        else:
            t._grad = t._grad + g.detach()

    hook._retain = True  # type: ignore[attr-defined]
    autograd.edge(self)._add_tensor_prehook(hook)  # (an output of a multi-output op: its port's)


@property
def output_nr(self: Tensor) -> int:
    """Which output of its grad_fn this tensor is (0 for a leaf)."""
    fn = self.grad_fn
    if fn is None:
        return 0
    return autograd.output_edge(self, fn)._oi if self._accum is not None else fn._oi


def to_dense(self: Tensor, dtype: Any = None, *, masked_grad: Any = None) -> Tensor:
    """A strided tensor is already dense: itself (or a copy in another dtype), as torch returns it."""
    return self if dtype is None or to_dtype(dtype).np == self._data.dtype else self.to(dtype)


@property
def retains_grad(self: Tensor) -> bool:
    return bool(self._meta and self._meta.get("retain"))


class RemovableHandle:
    """What register_hook returns (torch.utils.hooks.RemovableHandle, printed as torch prints it)."""

    __slots__ = ("_hooks", "_fn")  # (private: the tensor's hook list, where any value planted would be called)

    def __init__(self, hooks: list, fn: Any) -> None:
        self._hooks, self._fn = hooks, fn

    def remove(self) -> None:
        if self._fn in self._hooks:
            self._hooks.remove(self._fn)

    def __enter__(self) -> RemovableHandle:
        return self

    def __exit__(self, *exc: object) -> None:
        self.remove()

    def __repr__(self) -> str:
        return f"<torch.utils.hooks.RemovableHandle object at {id(self):#x}>"


def register_hook(self: Tensor, hook: Any) -> RemovableHandle:
    if not self._rg:
        raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
    if self.grad_fn is not None:
        node = autograd.edge(self)  # (an output of a multi-output op: its port, which sees its gradient only)
        node._add_tensor_prehook(hook)
        pre = node._pre
        for i, h in enumerate(pre[:-1]):
            if getattr(h, "_retain", False):  # torch runs the retain_grad hook after all others
                pre.insert(i, pre.pop())
                break
        return RemovableHandle(pre, hook)
    meta = self._meta if self._meta is not None else {}
    meta.setdefault("hooks", []).append(hook)
    self._meta = meta
    return RemovableHandle(meta["hooks"], hook)


def register_post_accumulate_grad_hook(self: Tensor, hook: Any) -> RemovableHandle:
    """hook(tensor) after backward has accumulated this leaf's .grad (torch's optimizer-in-backward pattern);
    autograd.grad, which accumulates nothing, does not run it."""
    if not self._rg:
        raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
    if self.grad_fn is not None:
        raise RuntimeError("post accumulate grad hooks cannot be registered on non-leaf tensors")
    meta = self._meta if self._meta is not None else {}
    meta.setdefault("post_accumulate", []).append(hook)
    self._meta = meta
    return RemovableHandle(meta["post_accumulate"], hook)


def _data_get(self: Tensor) -> Tensor:
    t = wrap(self._data, self._dev)  # shares memory, not the version counter (torch's .data)
    return t


def _data_set(self: Tensor, value: Tensor) -> None:
    if not isinstance(value, Tensor):
        raise TypeError(f"data must be a Tensor, not {type(value).__name__}")
    if self._rg and value._data.dtype.kind != "f":
        raise RuntimeError("data set to a tensor that requires gradients must be floating point or complex dtype")
    self._data = value._data
    self._dev = value._dev


def _new_factory(fn_name: str) -> Any:
    def method(self: Tensor, *size: Any, dtype: Any = None, device: Any = None, requires_grad: bool = False,
               **kw: Any) -> Tensor:  # fmt: skip
        from engine import creation

        creation._dtype_arg("new_" + fn_name, dtype)  # (a name, numpy's dtype: torch's parser's refusal)
        dtype = dtype if dtype is not None else self.dtype
        device = device if device is not None else self._dev
        # the keyword forms: new_zeros(size=...), new_full(size=..., fill_value=...), new_tensor(data=...)
        if fn_name == "tensor":
            data = kw.pop("data") if "data" in kw and not size else size[0]
            if not isinstance(data, Tensor):
                return creation.tensor(data, dtype=dtype, device=device, requires_grad=requires_grad)
            import warnings

            warnings.warn(  # (torch.tensor's warning, naming this method)
                "To copy construct from a tensor, it is recommended to use sourceTensor.detach().clone() or "
                "sourceTensor.detach().clone().requires_grad_(True), rather than tensor.new_tensor(sourceTensor).",
                UserWarning,
                stacklevel=user_stacklevel(),
            )
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                return creation.tensor(data, dtype=dtype, device=device, requires_grad=requires_grad)
        if "size" in kw and (not size or fn_name == "full" and len(size) == 1 and "fill_value" not in kw):
            size = (kw.pop("size"), *size)
        if fn_name == "full":
            if "fill_value" in kw:
                size = (*size, kw.pop("fill_value"))
            if len(size) != 2:
                raise TypeError('new_full() missing 1 required positional arguments: "fill_value"')
            return creation.full(size[0], size[1], dtype=dtype, device=device, requires_grad=requires_grad)
        # (torch.zeros has its own message for a negative size; new_zeros has empty's, which _size gives)
        size = creation._size(size, "new_" + fn_name)
        # (as one tuple: new_ones(()) is a 0-dim tensor, which unpacked sizes could not say)
        return getattr(creation, fn_name)(tuple(size), dtype=dtype, device=device, requires_grad=requires_grad, **kw)

    return method


def _where_method(self: Tensor, condition: Tensor, y: Any) -> Tensor:
    return E.where(condition, self, y)


def _bounds_method(name: str, impl: Any) -> Any:
    """Tensor.clamp/clip(_): torch's method-form argument check first (its message names the method)."""

    def method(self: Tensor, *args: Any, **kwargs: Any) -> Tensor:
        E.check_clamp_args(name, True, args, kwargs)
        return impl(self, *args, **kwargs)

    method.__name__ = name
    return method


_CLAMP, _CLIP = _bounds_method("clamp", E.clamp), _bounds_method("clip", E.clamp)
_CLAMP_, _CLIP_ = _bounds_method("clamp_", P.clamp_), _bounds_method("clip_", P.clamp_)


def _counted_from_self(fn: Any, name: str) -> Any:
    """fn as a method whose parser errors number the arguments as torch's method parser does: from the first
    after self (torch.gather(x, 0, [0]) names 'index' position 3, x.gather(0, [0]) position 2)."""

    def method(self: Tensor, *args: Any, **kwargs: Any) -> Any:
        try:
            return fn(self, *args, **kwargs)
        except TypeError as e:
            m = e.args[0] if len(e.args) == 1 else None
            if type(m) is str and m.startswith(f"{name}(): argument ") and " (position " in m:
                head, _, rest = m.partition(" (position ")
                n, _, tail = rest.partition(")")
                if n.isdigit():
                    e.args = (f"{head} (position {int(n) - 1}){tail}",)
            raise

    method.__name__ = method.__qualname__ = name
    method.__wrapped__ = fn  # type: ignore[attr-defined]
    return method


_INDEX_SELECT = _counted_from_self(I.index_select, "index_select")
_GATHER = _counted_from_self(I.gather, "gather")


def _operand(name: str, arg: str, v: Any) -> None:
    """A product's operand given to its method, refused when not a tensor as torch's parser refuses it."""
    if not isinstance(v, Tensor):
        raise TypeError(f"{name}(): argument '{arg}' (position 1) must be Tensor, not {type_name(v)}")


# (each its own function: a call missing the operand names it as torch does, "mm() missing ... "mat2"")
def _matmul_method(self: Tensor, other: Any, **kwargs: Any) -> Tensor:
    _operand("matmul", "other", other)
    return L.matmul(self, other, **kwargs)


def _mm_method(self: Tensor, mat2: Any, **kwargs: Any) -> Tensor:
    _operand("mm", "mat2", mat2)
    return L.mm(self, mat2, **kwargs)


def _bmm_method(self: Tensor, mat2: Any, **kwargs: Any) -> Tensor:
    _operand("bmm", "mat2", mat2)
    return L.bmm(self, mat2, **kwargs)


def _mv_method(self: Tensor, vec: Any, **kwargs: Any) -> Tensor:
    _operand("mv", "vec", vec)
    return L.mv(self, vec, **kwargs)


def _dot_method(self: Tensor, tensor: Any, **kwargs: Any) -> Tensor:
    _operand("dot", "tensor", tensor)
    return L.dot(self, tensor, **kwargs)


def _outer_method(self: Tensor, vec2: Any) -> Tensor:
    _operand("outer", "vec2", vec2)
    return L.outer(self, vec2)


def _ger_method(self: Tensor, vec2: Any) -> Tensor:
    _operand("ger", "vec2", vec2)
    return L.outer(self, vec2)


for _f, _n in ((_matmul_method, "matmul"), (_mm_method, "mm"), (_bmm_method, "bmm"), (_mv_method, "mv"),
               (_dot_method, "dot"), (_outer_method, "outer"), (_ger_method, "ger")):  # fmt: skip
    _f.__name__ = _f.__qualname__ = _n


def _keepdim_arg(name: str, args: tuple, kwargs: dict) -> None:
    """torch's parser: keepdim is a bool (an int, a numpy bool or a tensor is refused), named by its position
    when it was given by position."""
    if len(args) > 1:
        k, where = args[1], " (position 2)"
    elif "keepdim" in kwargs:
        k, where = kwargs["keepdim"], ""
    else:
        return
    if type(k) is not bool and k is not R.NOKEEP:
        raise TypeError(f"{name}(): argument 'keepdim'{where} must be bool, not {type_name(k)}")


def _sum_method(self: Tensor, *args: Any, **kwargs: Any) -> Tensor:
    _keepdim_arg("sum", args, kwargs)
    return _sum_call(self, *args, **kwargs)


def _sum_call(self: Tensor, dim: Any = R.NODIM, keepdim: Any = R.NOKEEP, dtype: Any = None) -> Tensor:
    return R.sum(self, dim, keepdim, dtype=dtype, _method=True)


def _mean_method(self: Tensor, *args: Any, **kwargs: Any) -> Tensor:
    _keepdim_arg("mean", args, kwargs)
    return _mean_call(self, *args, **kwargs)


def _mean_call(self: Tensor, dim: Any = R.NODIM, keepdim: Any = R.NOKEEP, dtype: Any = None) -> Tensor:
    return R.mean(self, dim, keepdim, dtype=dtype, _method=True)


for _f, _n in ((_sum_method, "sum"), (_sum_call, "sum"), (_mean_method, "mean"), (_mean_call, "mean")):
    named_code(_f, _n)
# (numpy_names reads the signature through __wrapped__: x.sum(axis=0, keepdims=True))
_sum_method.__wrapped__ = _sum_call  # type: ignore[attr-defined]
_mean_method.__wrapped__ = _mean_call  # type: ignore[attr-defined]


def _round_method(name: str, impl: Any) -> Any:
    """x.round(2), numpy's spelling: torch's parser, whose signatures take no positional argument, says so in its
    own words ("takes from 1 to 0 positional arguments")."""

    def method(self: Tensor, *args: Any, **kwargs: Any) -> Tensor:
        if len(args) == 1 and not kwargs:
            raise TypeError(f"{name}() takes from 1 to 0 positional arguments but 1 were given")
        return impl(self, *args, **kwargs)

    named_code(method, name)
    return method


_VARSTD_OVERLOADS = (
    "(tuple of ints dim, bool unbiased = True, bool keepdim = False)",
    "(tuple of ints dim = None, *, Number correction = None, bool keepdim = False)",
    "(bool unbiased = True)",
)


def _varstd_method(name: str, impl: Any) -> Any:
    """x.std / x.var: torch's parser refuses unbiased and correction together (x.std(unbiased=False,
    correction=0)), listing its signatures; everything else is impl's."""

    def method(self: Tensor, *args: Any, **kwargs: Any) -> Tensor:
        if "correction" in kwargs and ("unbiased" in kwargs or len(args) > 1 or args and type(args[0]) is bool):
            raise bad_keywords(name, args, kwargs, _VARSTD_OVERLOADS)
        return impl(self, *args, **kwargs)

    named_code(method, name)
    method.__wrapped__ = impl  # type: ignore[attr-defined]  # (numpy_names reads impl's signature)
    return method


_STD_METHOD, _VAR_METHOD = _varstd_method("std", R.std), _varstd_method("var", R.var)


def _bernoulli_method(self: Tensor, p: Any = None, *, generator: Any = None) -> Tensor:
    from engine.creation import bernoulli

    return bernoulli(self, p, generator=generator)


def _bool_invert(self: Tensor) -> Tensor:
    if self._data.dtype.kind in "fc":
        raise TypeError("~ (operator.invert) is only implemented on integer and Boolean-type tensors")
    if self._data.dtype.kind == "b":
        return wrap(np.logical_not(self._data), self._dev)
    return E.bitwise_not(self)


def _multinomial_method(self: Tensor, num_samples: int, replacement: bool = False, *, generator: Any = None) -> Tensor:
    from engine.creation import multinomial

    return multinomial(self, num_samples, replacement, generator=generator)


def _contains(self: Tensor, element: Any) -> bool:
    if not isinstance(element, (Tensor, int, float, bool)):
        raise RuntimeError(f"Tensor.__contains__ only supports Tensor or scalar, but you passed in a {type(element)}.")
    return bool((self == element).any())


def _size_alias(self: Tensor) -> Any:
    return self.shape


METHODS: dict[str, Any] = {
    # arithmetic operators
    "__add__": E._add, "__radd__": E._add, "__sub__": E._sub, "__rsub__": rsub, "__mul__": E._mul,
    "__rmul__": E._mul, "__truediv__": E._div, "__rtruediv__": rtruediv, "__floordiv__": E.floor_divide,
    "__rfloordiv__": rfloordiv, "__mod__": E.remainder, "__rmod__": rmod, "__pow__": _pow_operator, "__rpow__": rpow,
    "__matmul__": _matmul_op, "__rmatmul__": rmatmul, "__neg__": E.neg, "__pos__": E.positive, "__abs__": E.abs,
    "__invert__": _bool_invert, "__and__": E.bitwise_and, "__or__": E.bitwise_or, "__xor__": E.bitwise_xor,
    "__rand__": E.bitwise_and, "__ror__": E.bitwise_or, "__rxor__": E.bitwise_xor,
    "__lshift__": E.bitwise_left_shift, "__rshift__": E.bitwise_right_shift, "__rlshift__": _rlshift,
    "__rrshift__": _rrshift, "bitwise_left_shift": E.bitwise_left_shift, "bitwise_right_shift": E.bitwise_right_shift,
    "__iadd__": P.add_, "__isub__": P.sub_, "__imul__": P.mul_, "__itruediv__": _idiv, "__ifloordiv__": _ifloordiv,
    "__imod__": _imod, "__ipow__": P.pow_,
    "__eq__": _eq, "__ne__": _ne, "__lt__": E._lt, "__le__": E._le, "__gt__": E._gt, "__ge__": E._ge,
    "__getitem__": I.getitem, "__setitem__": I.setitem, "__contains__": _contains,
    # named math
    "add": E.add, "sub": E.sub, "subtract": E.sub, "mul": E.mul, "multiply": E.mul, "div": E.div,
    "divide": E.div, "true_divide": E.div, "floor_divide": E.floor_divide, "remainder": E.remainder,
    "fmod": E.fmod, "pow": E.pow, "float_power": E.float_power, "atan2": E.atan2, "arctan2": E.atan2,
    "maximum": E.maximum, "minimum": E.minimum, "clamp": _CLAMP, "clip": _CLIP, "clamp_min": E.clamp_min,
    "clamp_max": E.clamp_max, "addcmul": E.addcmul, "addcdiv": E.addcdiv, "lerp": E.lerp, "round": E.round,
    **E.LOGICAL_METHODS, "bitwise_not": E.bitwise_not, "bitwise_and": E.bitwise_and,
    "bitwise_or": E.bitwise_or, "bitwise_xor": E.bitwise_xor, "isnan": E.isnan, "isinf": E.isinf,
    "isfinite": E.isfinite, "nan_to_num": E.nan_to_num, "where": _where_method, "nonzero": E.nonzero,
    "argwhere": E.argwhere, "positive": E.positive,
    "eq": E.eq, "ne": E.ne, "lt": E.lt, "le": E.le, "gt": E.gt, "ge": E.ge, "greater": E.gt,
    "greater_equal": E.ge, "less": E.lt, "less_equal": E.le, "not_equal": E.ne, "equal": E.equal,
    "allclose": E.allclose, "isclose": E.isclose,
    # reductions
    "sum": _sum_method, "mean": _mean_method, "nansum": R.nansum, "prod": OS.prod_method, "max": OS.max_method,
    "min": OS.min_method, "amax": R.amax, "amin": R.amin, "argmax": OS.argmax_method, "argmin": OS.argmin_method,
    "std": _STD_METHOD, "var": _VAR_METHOD, "norm": R.norm, "cumsum": OS.cumsum_method, "cumprod": OS.cumprod_method,
    "logsumexp": R.logsumexp, "softmax": R.softmax,
    "log_softmax": R.log_softmax, "all": R.all, "any": R.any, "count_nonzero": R.count_nonzero, "sort": R.sort,
    "argsort": R.argsort, "topk": OS.topk_method, "median": OS.median_method,
    # shape
    "reshape": S.reshape, "view": S.view, "view_as": S.view_as, "reshape_as": S.reshape_as, "flatten": S.flatten,
    "unflatten": S.unflatten, "ravel": S.ravel, "transpose": S.transpose, "swapaxes": S.transpose,
    "swapdims": S.transpose, "t": S.t, "permute": S.permute, "movedim": S.movedim_method, "moveaxis": S.moveaxis_method,
    "adjoint": S.adjoint, "squeeze": S.squeeze_method, "unsqueeze": S.unsqueeze, "expand": S.expand,
    "expand_as": S.expand_as,
    "broadcast_to": S.broadcast_to, "repeat": S.repeat, "repeat_interleave": S.repeat_interleave_method, "flip": S.flip,
    "tile": S.tile, "diag": S.diag,
    "fliplr": S.fliplr, "flipud": S.flipud, "roll": S.roll, "clone": S.clone, "contiguous": S.contiguous,
    "detach": S.detach,
    # indexing / joining
    "index_select": _INDEX_SELECT, "masked_select": I.masked_select, "masked_fill": I.masked_fill,
    "gather": _GATHER, "scatter": I.scatter, "scatter_add": I.scatter_add, "index_add": I.index_add,
    "take": I.take, "chunk": I.chunk, "split": I.split, "tensor_split": I.tensor_split, "unbind": I.unbind,
    "split_with_sizes": US.split_with_sizes, "unsafe_split": US.unsafe_split, "unsafe_chunk": US.unsafe_chunk,
    "unsafe_split_with_sizes": US.unsafe_split_with_sizes,
    "narrow": I.narrow, "select": I.select, "tril": OS.tril_method, "triu": OS.triu_method,
    # linear algebra
    "matmul": _matmul_method, "mm": _mm_method, "bmm": _bmm_method, "mv": _mv_method, "dot": _dot_method,
    "inner": L.inner, "outer": _outer_method, "ger": _ger_method, "addmm": L.addmm,
    # in-place
    "add_": P.add_, "sub_": P.sub_, "subtract_": P.sub_, "mul_": P.mul_, "multiply_": P.mul_, "div_": P.div_,
    "divide_": P.div_, "pow_": P.pow_, "clamp_": _CLAMP_, "clip_": _CLIP_, "addcmul_": P.addcmul_,
    "addcdiv_": P.addcdiv_, "scatter_": P.scatter_, "scatter_add_": P.scatter_add_, "clamp_min_": P.clamp_min_,
    "clamp_max_": P.clamp_max_, "lerp_": P.lerp_, "trace": L.trace, "unique": R.unique, "bincount": R.bincount,
    "masked_fill_": P.masked_fill_, "zero_": P.zero_, "fill_": P.fill_, "copy_": P.copy_, "apply_": P.apply_,
    "requires_grad_": P.requires_grad_, "detach_": P.detach_, "uniform_": P.uniform_, "normal_": P.normal_,
    "exponential_": P.exponential_, "cauchy_": P.cauchy_, "random_": P.random_, "geometric_": P.geometric_,
    "log_normal_": P.log_normal_,
    # conversions & autograd
    "to": to, "type": type_, "type_as": type_as, "cpu": cpu, "cuda": cuda, "backward": backward,
    "retain_grad": retain_grad, "register_hook": register_hook, "bernoulli": _bernoulli_method,
    "register_post_accumulate_grad_hook": register_post_accumulate_grad_hook,
    "bernoulli_": P.bernoulli_, "floor_divide_": _ifloordiv,
    "new_zeros": _new_factory("zeros"), "new_ones": _new_factory("ones"), "new_empty": _new_factory("empty"),
    "new_full": _new_factory("full"), "new_tensor": _new_factory("tensor"),
    "float": _caster(float32, "float"), "double": _caster(float64, "double"), "half": _caster(float16, "half"),
    "int": _caster(int32, "int"), "bfloat16": _caster(bfloat16, "bfloat16"), "long": _caster(int64, "long"),
    "short": _caster(int16, "short"), "char": _caster(int8, "char"), "byte": _caster(uint8, "byte"),
    "bool": _caster(bool_, "bool"),
}  # fmt: skip

for _name, _fn in E._UNARY_FNS.items():
    METHODS.setdefault(_name, _fn)
    METHODS.setdefault(_name + "_", P.unary_(_name))
# in-place forms of functions with operands: x.f_(*args) stores f(x, *args) in x (torch's casting rule)
for _name, _fn in (("remainder", E.remainder), ("fmod", E.fmod), ("atan2", E.atan2), ("arctan2", E.atan2),
                   ("bitwise_and", E.bitwise_and), ("bitwise_or", E.bitwise_or),
                   ("bitwise_xor", E.bitwise_xor), ("bitwise_not", E.bitwise_not), ("nan_to_num", E.nan_to_num),
                   ("round", E.round), ("eq", E.eq), ("ne", E.ne), ("lt", E.lt), ("le", E.le), ("gt", E.gt),
                   ("ge", E.ge), ("greater", E.gt), ("greater_equal", E.ge), ("less", E.lt), ("less_equal", E.le),
                   ("not_equal", E.ne), ("hypot", EM.hypot), ("copysign", EM.copysign), ("xlogy", EM.xlogy),
                   ("index_add", I.index_add), ("index_fill", IW.index_fill), ("index_copy", IW.index_copy),
                   ("masked_scatter", IW.masked_scatter)):  # fmt: skip
    METHODS.setdefault(_name, _fn)
    METHODS.setdefault(_name + "_", P.inplace_of(_fn, _name))
for _name, _fn in E.LOGICAL_INPLACE.items():
    METHODS[_name + "_"] = P.inplace_of(_fn, _name)
METHODS["round"], METHODS["round_"] = _round_method("round", E.round), _round_method("round_", METHODS["round_"])
METHODS["float_power_"] = P.float_power_
METHODS.update(resize_=P.resize_, resize_as_=P.resize_as_)
METHODS.update(
    unique_consecutive=R.unique_consecutive_method,
    hsplit=I.hsplit_method,
    vsplit=I.vsplit_method,
    dsplit=I.dsplit_method,
)
# in-place forms torch has beside the out-of-place methods above: x.f_(*args) stores f(x, *args) in x
METHODS.update(cumsum_=P.cumsum_, cumprod_=P.cumprod_)
for _name, _fn in (("tril", I.tril), ("triu", I.triu), ("true_divide", E.div), ("addmm", L.addmm)):
    METHODS.setdefault(_name + "_", P.inplace_of(_fn, _name))
METHODS.setdefault("bitwise_left_shift_", P.inplace_of(E.bitwise_left_shift, "bitwise_left_shift"))
METHODS.setdefault("bitwise_right_shift_", P.inplace_of(E.bitwise_right_shift, "bitwise_right_shift"))
METHODS.setdefault("multinomial", _multinomial_method)
METHODS.update(t_=P.t_, transpose_=P.transpose_, swapdims_=P.transpose_, swapaxes_=P.transpose_, squeeze_=P.squeeze_,
               unsqueeze_=P.unsqueeze_)  # fmt: skip
METHODS.update(diagonal=DG.diagonal, diag_embed=DG.diag_embed, fill_diagonal_=DG.fill_diagonal_, unfold=DG.unfold)


def _new_legacy(self: Tensor, *args: Any, **kwargs: Any) -> Tensor:
    """Tensor.new (legacy): x.new(2, 3) an uninitialised tensor of x's dtype and device, x.new() an empty one,
    x.new([1, 2]) one from data."""
    from engine import creation

    dtype = kwargs.pop("dtype", None) or self.dtype
    device = kwargs.pop("device", None) or self._dev
    if len(args) == 1 and not isinstance(args[0], int) and not _is_size(args[0]):
        return creation.tensor(args[0], dtype=dtype, device=device)
    size = args[0] if len(args) == 1 and _is_size(args[0]) else args or (0,)
    return creation.empty(tuple(size), dtype=dtype, device=device)  # (one tuple: x.new(Size([])) is 0-dim)


def _is_size(x: Any) -> bool:
    return isinstance(x, Size) or (isinstance(x, tuple) and all(isinstance(n, int) for n in x) and len(x) > 0)


METHODS["new"] = _new_legacy


def _split_method(self: Tensor, split_size: Any = I._UNSET, dim: Any = 0) -> tuple:
    """Tensor.split (a Python method in torch, so Python's own message for a missing split_size)."""
    if split_size is I._UNSET:
        raise TypeError("Tensor.split() missing 1 required positional argument: 'split_size'")
    return I.split(self, split_size, dim)


METHODS["split"] = _split_method
METHODS.update(IP.METHODS)
METHODS.update(RN.METHODS)
METHODS.update(SMALL.METHODS)
METHODS.update(svd=LMORE_SVD.torch_svd, qr=LMORE_SVD.torch_qr, cholesky=LMORE_SVD.torch_cholesky)
METHODS.update(SPECTRAL.METHODS)
METHODS.update(AS.METHODS)
for _name, _fn in CP.METHODS.items():
    METHODS.setdefault(_name, _fn)
METHODS.update(
    cummax=OS.cummax_method,
    cummin=OS.cummin_method,
    mode=OS.mode_method,
    kthvalue=OS.kthvalue_method,
    aminmax=OS.aminmax_method,
    frexp=OS.frexp_method,
    nanmedian=OS.nanmedian_method,
    nanmean=OS.nanmean_method,
    msort=OS.msort,
    logcumsumexp=OS.logcumsumexp_method,
)
for _name, _fn in EM.FUNCTIONS.items():
    METHODS.setdefault(_name, _fn)
    if _name in EM.FNS:  # (the unary ones have in-place forms: x.asinh_())
        METHODS.setdefault(_name + "_", P.unary_fn_(_fn, _name))
# torch defines no derivative for asinh_/acosh_/atanh_: their nodes are {Op}Backward1 that refuse backward
for _name in ("asinh", "acosh", "atanh"):
    METHODS[_name + "_"] = P.inplace_not_differentiable(METHODS[_name + "_"], _name)
METHODS["arcsinh"], METHODS["arccosh"], METHODS["arctanh"] = EM.FNS["asinh"], EM.FNS["acosh"], EM.FNS["atanh"]
METHODS["negative"] = E.neg
METHODS["absolute"] = E.abs
METHODS["arcsin"], METHODS["arccos"], METHODS["arctan"] = (
    E._UNARY_FNS["asin"],
    E._UNARY_FNS["acos"],
    E._UNARY_FNS["atan"],
)

for _name, _fn in {
    **SPF.METHODS,
    **STA.METHODS,
    **LMORE.METHODS,
    **HIST.METHODS,
    **IGAM.METHODS,
    **IRED.METHODS,
}.items():
    METHODS.setdefault(_name, _fn)


def _ldexp_(self: Tensor, other: Any) -> Tensor:
    if self._data.dtype.kind not in "fc":  # (torch's ldexp_ multiplies in place by 2**other: a floating result)
        raise RuntimeError(f"ldexp can't be cast to the desired output type {self.dtype.scalar_name()}")
    return _LDEXP_INPLACE(self, other)


def _new_empty_strided(self: Tensor, size: Any, stride: Any, *, dtype: Any = None, device: Any = None,
                       requires_grad: bool = False, **kw: Any) -> Tensor:  # fmt: skip
    """x.new_empty_strided(size, stride): torch.empty_strided with x's dtype and device unless given."""
    dtype = self.dtype if dtype is None else dtype
    device = self._dev if device is None else device
    return SMALL.empty_strided(size, stride, dtype=dtype, device=device, requires_grad=requires_grad, **kw)


# in-place forms of the functions in small_fns / special_igamma (x.ldexp_(e) stores ldexp(x, e) in x)
for _name in ("nextafter", "igamma", "igammac"):
    METHODS.setdefault(_name + "_", P.inplace_of(METHODS[_name], _name))
_LDEXP_INPLACE = P.inplace_of(METHODS["ldexp"], "ldexp")
METHODS.update(MEMORY_FLAGS.METHODS)
METHODS["ldexp_"] = _ldexp_
METHODS["new_empty_strided"] = _new_empty_strided
METHODS["map_"] = P.map_
METHODS.setdefault("hardshrink", _FM.hardshrink)
METHODS.setdefault("prelu", _FM.prelu)

for _alias, _name in (("absolute_", "abs_"), ("negative_", "neg_"), ("arccos_", "acos_"), ("arcsin_", "asin_"),
                      ("arctan_", "atan_"), ("arccosh_", "acosh_"), ("arcsinh_", "asinh_"),
                      ("arctanh_", "atanh_")):  # fmt: skip
    METHODS.setdefault(_alias, METHODS[_name])
for _name, _fn in METHODS.items():
    # (torch's Python methods, x.norm, have no numpy names: Python's unexpected-keyword error)
    _numpy = not isinstance(_fn, property) and _name not in PYTHON_LEVEL_METHODS
    setattr(Tensor, _name, numpy_names(_fn, _name) if _numpy else _fn)


def _python_method(fn: Any, name: str) -> Any:
    """A copy of fn named as torch's Python method is in Python's own argument errors ("Tensor.norm() got an
    unexpected keyword argument 'keepdims'")."""
    code = fn.__code__
    if hasattr(code, "co_qualname"):
        code = code.replace(co_qualname=f"Tensor.{name}")
    new = types.FunctionType(code, fn.__globals__, fn.__name__, fn.__defaults__, fn.__closure__)
    new.__kwdefaults__, new.__doc__, new.__qualname__ = fn.__kwdefaults__, fn.__doc__, f"Tensor.{name}"
    new.__dict__.update(fn.__dict__)
    return new


Tensor.norm = _python_method(R.norm.__wrapped__, "norm")  # (without torch.norm's out=, which the method lacks)
Tensor.split = _python_method(_split_method, "split")
Tensor.unique = _python_method(R.unique, "unique")

Tensor.T = property(S.T)
Tensor.mT = property(S.mT)
Tensor.mH = property(S.mH)
Tensor.H = property(S.H)
Tensor.data = property(_data_get, _data_set)
Tensor.retains_grad = retains_grad
Tensor.to_dense = to_dense
Tensor.output_nr = output_nr
Tensor.is_sparse = False
Tensor.layout = property(lambda self: _STRIDED)

del DEFAULT, view_of

# complex numbers: .real/.imag are views (assigning to one copies into the complex tensor, as torch's setters do)
Tensor.real = property(CX.real, lambda self, v: CX.real(self).copy_(v))
Tensor.imag = property(CX.imag, lambda self, v: CX.imag(self).copy_(v))
for _name in ("conj", "conj_physical", "resolve_conj", "is_conj", "angle", "isreal"):
    setattr(Tensor, _name, getattr(CX, _name))


def _conj_physical_(self: Tensor) -> Tensor:
    """x.conj_physical_(): the conjugate written into x (a real tensor is its own conjugate: left as it is)."""
    if self._data.dtype.kind != "c":
        return self
    return P.apply(self, CX.conj_physical)


def is_distributed(self: Tensor) -> bool:
    """torch's is_distributed: False for every tensor (no distributed storage here, as in torch today)."""
    return False


Tensor.conj_physical_ = named_code(_conj_physical_, "conj_physical_")
Tensor.is_distributed = is_distributed
# (the same address as data_ptr: tcli moves both by the session's key)
Tensor.const_data_ptr = Tensor.data_ptr


# sparse COO tensors (engine/sparse_tensor.py): a dense tensor's way there and back
def _to_sparse(self: Tensor, *args: Any, **kwargs: Any) -> Any:
    from engine.sparse_tensor import to_sparse

    return to_sparse(self, *args, **kwargs)


Tensor.to_sparse = named_code(_to_sparse, "to_sparse")
Tensor.to_sparse_coo = named_code(_to_sparse, "to_sparse_coo")
