"""Tensor: an array (numpy or cupy) plus what autograd needs. Operators and methods are bound from
engine/ops by engine/methods.py; this file holds storage, attributes and conversions only."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from engine import host as _host_rules
from engine.backend import CPU, host
from engine.dtypes import FROM_NP
from engine.dtypes import bfloat16 as _BFLOAT16
from engine.grad_mode import ENABLED, INFERENCE, InferenceVC
from engine.naming import TorchNamed
from engine.warn import user_stacklevel


class Size(tuple, metaclass=TorchNamed):
    _torch_name = "torch.Size"
    _c_type = True
    """torch.Size: a tuple that prints as torch.Size([2, 3])."""

    __slots__ = ()

    def __repr__(self) -> str:
        return f"torch.Size([{', '.join(str(int(d)) for d in self)}])"

    __str__ = __repr__

    def numel(self) -> int:
        n = 1
        for d in self:
            n *= d
        return n

    def __getitem__(self, i: Any) -> Any:
        r = tuple.__getitem__(self, i)
        return Size(r) if isinstance(i, slice) else r

    def __add__(self, other: Any) -> Size:
        if not isinstance(other, tuple):  # (torch.Size([2]) + [3])
            raise TypeError(f"can only concatenate tuple (not {type(other).__name__}) to torch.Size")
        return Size(tuple(self) + tuple(other))

    def __radd__(self, other: Any) -> Size:  # (1,) + size: Python asks the subclass first
        if not isinstance(other, tuple):
            return NotImplemented
        return Size(tuple(other) + tuple(self))

    def __mul__(self, n: Any) -> Size:
        return Size(tuple.__mul__(self, n))

    __rmul__ = __mul__


#: torch.Tensor's methods written in Python (torch/_tensor.py); every other method is a C builtin, which
#: Python's own messages name 'builtin_function_or_method' ("'builtin_function_or_method' object is not
#: subscriptable" for `x.size[0]`) where the engine's bound methods say 'method'
PYTHON_LEVEL_METHODS = frozenset(
    {
        "backward", "dim_order", "eig", "index", "is_shared", "istft", "lstsq", "lu", "module_load", "norm",
        "register_hook", "register_post_accumulate_grad_hook", "reinforce", "resize", "resize_as",
        "share_memory_", "solve", "split", "stft", "storage", "storage_type", "symeig", "to_sparse_coo",
        "unflatten", "unique", "unique_consecutive",
    }
)  # fmt: skip


#: torch's refusal of a batched tensor's value inside vmap (see engine/func/batching._batched)
_VMAP_ITEM = (
    "vmap: It looks like you're calling .item() on a Tensor. We don't support vmap over calling .item() on a Tensor, "
    "please try to rewrite what you're doing with other operations. If error is occurring somewhere inside PyTorch "
    "internals, please file a bug report."
)


#: engine/forward_ad's test of a tensor whose graph is a dual tensor's only (torch's requires no grad), once any is
FORWARD_AD: list = [None]


class Tensor(metaclass=TorchNamed):
    _torch_name = "torch.Tensor"
    __slots__ = (
        "_data",
        "_dev",
        "_rg",
        "grad_fn",
        "_grad",
        "_vc",  # the version counter, [count, site of the last change], shared by views (torch's _version)
        "_base",
        "_accum",
        "_meta",
        "_gv",  # GradView only: the version counter's value when grad_fn was last set
        "__weakref__",
    )
    # numpy scalars and arrays defer to the tensor's reflected operators (np.float64(2) * t is a tensor)
    __array_priority__ = 1000

    # torch.Tensor(...) legacy constructor: floats by default (torch.Tensor([1, 2]) -> float32)
    def __new__(cls, *args: Any, **kwargs: Any) -> Tensor:
        from engine.creation import legacy_tensor

        return legacy_tensor(*args, **kwargs)

    # ---- autograd attributes -------------------------------------------------------------
    @property
    def requires_grad(self) -> bool:
        return self._rg

    @requires_grad.setter
    def requires_grad(self, value: bool) -> None:
        if value.__class__ is not bool and not isinstance(value, np.bool_):
            raise RuntimeError("requires_grad must be a bool")
        if self._rg and FORWARD_AD[0] is not None and FORWARD_AD[0](self):  # (forward AD's graph: torch's a leaf)
            from engine.forward_ad import set_requires_grad

            set_requires_grad(self, bool(value))
            return
        if self.grad_fn is not None:
            raise RuntimeError(
                "you can only change requires_grad flags of leaf variables."
                if value
                else "you can only change requires_grad flags of leaf variables. If you want to use a computed "
                "variable in a subgraph that doesn't require differentiation use var_no_grad = var.detach()."
            )
        if value and self._data.dtype.kind not in "fc":
            raise RuntimeError("only Tensors of floating point and complex dtype can require gradients")
        if value and type(self._vc) is InferenceVC and not INFERENCE[0]:
            raise RuntimeError("Setting requires_grad=True on inference tensor outside InferenceMode is not allowed.")
        self._rg = bool(value)

    @property
    def is_leaf(self) -> bool:
        return self.grad_fn is None

    @property
    def grad(self) -> Tensor | None:
        g = self._grad
        if g is not None:  # (an optimizer reads every grad each step: no warning to consider)
            return g
        # (the raw slot: reading .grad never re-links a view's grad_fn, nor raises for one, as in torch)
        if (
            _GRAD_FN.__get__(self) is not None
            and not (self._meta and self._meta.get("retain"))
            and (FORWARD_AD[0] is None or not FORWARD_AD[0](self))  # (a dual tensor's graph: torch's is a leaf)
        ):
            warnings.warn(
                "The .grad attribute of a Tensor that is not a leaf Tensor is being accessed. Its .grad "
                "attribute won't be populated during autograd.backward(). If you indeed want the .grad "
                "field to be populated for a non-leaf Tensor, use .retain_grad() on the non-leaf Tensor. "
                "If you access the non-leaf Tensor by mistake, make sure you access the leaf Tensor "
                "instead. See github.com/pytorch/pytorch/pull/30531 for more information. (Triggered internally at "
                "/__w/pytorch/pytorch/build/aten/src/ATen/core/TensorBody.h:493.)",
                UserWarning,
                stacklevel=user_stacklevel(),
            )
        return self._grad

    @grad.setter
    def grad(self, value: Tensor | None) -> None:
        if value is not None:
            if not isinstance(value, Tensor):
                raise TypeError(
                    f"assigned grad expected to be a Tensor or None but got grad of type {type(value).__name__}"
                )
            if value._data.shape != self._data.shape:
                raise RuntimeError(
                    f"attempting to assign a gradient of size '{_dims(value._data.shape)}' to a tensor of "
                    f"size '{_dims(self._data.shape)}'. Please ensure that the gradient and the tensor are "
                    "the same size"
                )
            if value.dtype is not self.dtype:
                raise RuntimeError(
                    "attempting to assign a gradient with dtype "
                    f"'{FROM_NP[value._data.dtype].name_for_error()}' to a tensor with grad_dtype "
                    f"'{FROM_NP[self._data.dtype].scalar_name()}'. The gradient must match the tensor's grad_dtype "
                    "(defaults to the tensor's dtype). You can set the tensor's grad_dtype attribute with a specific "
                    "dtype, or None to allow any dtype. Set grad_dtype with caution. Diverging the dtypes of a tensor "
                    "and its gradient may break downstream systems that assume they match."
                )
        self._grad = value

    @grad.deleter
    def grad(self) -> None:
        self._grad = None

    # ---- metadata -------------------------------------------------------------------------
    @property
    def shape(self) -> Size:
        return Size(self._data.shape)

    def size(self, dim: int | None = None) -> Any:
        if dim is None:
            return Size(self._data.shape)
        from engine.ops.util import norm_dim

        return self._data.shape[norm_dim(dim, self._data.ndim)]

    @property
    def dtype(self):  # noqa: ANN201
        dt = self._data.dtype
        return FROM_NP[dt] if dt.metadata is None else _BFLOAT16  # (dtype_of, inlined: a hot property)

    @property
    def device(self):  # noqa: ANN201
        return self._dev

    @property
    def is_cuda(self) -> bool:
        return self._dev.type == "cuda"

    @property
    def is_cpu(self) -> bool:
        return self._dev.type == "cpu"

    @property
    def is_meta(self) -> bool:
        return self._dev.type == "meta"

    # the backends and layouts torch has and the engine never makes: always False, as on a plain torch tensor
    is_ipu = is_maia = is_mkldnn = is_mps = is_mtia = is_nested = is_quantized = property(lambda self: False)
    is_sparse_csr = is_vulkan = is_xla = is_xpu = property(lambda self: False)

    @property
    def ndim(self) -> int:
        return self._data.ndim

    def dim(self) -> int:
        return self._data.ndim

    ndimension = dim

    def numel(self) -> int:
        return int(self._data.size)

    nelement = numel

    def element_size(self) -> int:
        return self.dtype.itemsize  # (not the array's: bfloat16 is stored as float32)

    @property
    def itemsize(self) -> int:
        return self.dtype.itemsize

    @property
    def nbytes(self) -> int:
        return int(self._data.size) * self.dtype.itemsize

    def is_contiguous(self, memory_format: Any = None) -> bool:
        if memory_format is None:
            return bool(self._data.flags.c_contiguous) or self._dev.type == "meta"  # (meta: contiguous strides)
        from engine.ops.memory_layout import is_contiguous_as

        return is_contiguous_as(self, memory_format)

    def is_floating_point(self) -> bool:
        return self._data.dtype.kind == "f"

    def is_complex(self) -> bool:
        return self._data.dtype.kind == "c"

    def stride(self, dim: int | None = None) -> Any:
        isz = self._data.itemsize
        st = [s // isz for s in self._data.strides]
        shape = self._data.shape
        if self._dev.type == "meta":  # (its array's zero strides stand for torch's contiguous ones)
            from engine.meta import contiguous_strides

            st = list(contiguous_strides(shape))
        if self._data.size == 0 and not any(st):  # numpy's zeros for an empty array; torch's contiguous ones
            span = 1
            for i in range(len(st) - 1, -1, -1):
                st[i] = span
                span *= max(shape[i], 1)
        for i in range(len(st) - 1, -1, -1):
            if st[i] == 0 and shape[i] == 1:  # numpy's 0 for an inserted size-1 dim; torch's is the span after it
                st[i] = st[i + 1] * shape[i + 1] if i + 1 < len(st) else 1
        st = tuple(st)
        if dim is None:
            return st
        from engine.ops.util import norm_dim

        return st[norm_dim(dim, self._data.ndim)]

    def is_set_to(self, tensor: Tensor) -> bool:
        """Whether both tensors view the same memory with the same offset, sizes and strides."""
        if not isinstance(tensor, Tensor):
            raise TypeError(f"is_set_to(): argument 'tensor' (position 1) must be Tensor, not {type(tensor).__name__}")
        a, b = self._data, tensor._data
        return (
            a.shape == b.shape
            and a.strides == b.strides
            and a.dtype == b.dtype
            and self._dev == tensor._dev
            and self.data_ptr() == tensor.data_ptr()
        )

    def storage_offset(self) -> int:
        base = self._data.base
        if base is None:
            return 0
        if not isinstance(base, np.ndarray):  # cupy: device pointers (a bfloat16 array is an ndarray subclass)
            return int((self._data.data.ptr - base.data.ptr) // self._data.itemsize)
        return int(
            (self._data.__array_interface__["data"][0] - base.__array_interface__["data"][0]) // self._data.itemsize
        )

    def data_ptr(self) -> int:
        if self._dev.type == "meta":
            return 0
        return (
            int(self._data.__array_interface__["data"][0])
            if isinstance(self._data, np.ndarray)
            else int(self._data.data.ptr)
        )

    def untyped_storage(self) -> Any:
        """The memory under this tensor and every view of it, as bytes (torch.UntypedStorage)."""
        from engine.storage import untyped_storage

        return untyped_storage(self)

    def storage(self) -> Any:
        """That memory as elements of this tensor's dtype (torch.TypedStorage, deprecated in torch)."""
        from engine.storage import typed_storage

        return typed_storage(self)

    @property
    def _version(self) -> int:
        """torch's Tensor._version: how many in-place changes this memory has seen (shared by views)."""
        if type(self._vc) is InferenceVC:
            raise RuntimeError("Inference tensors do not track version counter.")
        return self._vc[0]

    def is_inference(self, *args: Any) -> bool:
        """Whether the tensor was made in inference mode (or is a view of one that was)."""
        if args:
            raise TypeError(f"TensorBase.is_inference() takes no arguments ({len(args)} given)")
        return type(self._vc) is InferenceVC

    # ---- conversions ----------------------------------------------------------------------
    def _host(self) -> np.ndarray:
        return host(self._data)

    def item(self, *args: Any, **kwargs: Any) -> Any:
        if args or kwargs:  # (a C method of no arguments: loss.item(0))
            if kwargs:
                raise TypeError("TensorBase.item() takes no keyword arguments")
            raise TypeError(f"TensorBase.item() takes no arguments ({len(args)} given)")
        if self._meta is not None and "vmapped" in self._meta:
            raise RuntimeError(_VMAP_ITEM)
        if self._data.size != 1:
            raise RuntimeError(f"a Tensor with {self._data.size} elements cannot be converted to Scalar")
        if self._dev.type == "meta":
            raise RuntimeError("Tensor.item() cannot be called on meta tensors")
        return host(self._data).reshape(()).item()

    def tolist(self, *args: Any, **kwargs: Any) -> Any:
        if kwargs:
            raise TypeError("TensorBase.tolist() takes no keyword arguments")
        if args:
            raise TypeError(f"TensorBase.tolist() takes no arguments ({len(args)} given)")
        if self._dev.type == "meta":
            from engine.meta import no_data

            raise no_data()
        return host(self._data).tolist()

    def numpy(self, *args: Any, force: bool = False) -> np.ndarray:
        if args:
            raise TypeError(f"numpy() takes 0 positional arguments but {len(args)} was given")
        if type(force) is not bool:
            raise TypeError(f"numpy(): argument 'force' must be bool, not {type(force).__name__}")
        if self._rg and not force and (FORWARD_AD[0] is None or not FORWARD_AD[0](self)):
            raise RuntimeError("Can't call numpy() on Tensor that requires grad. Use tensor.detach().numpy() instead.")
        if self._meta and self._meta.get("conj") and not force:
            raise RuntimeError(
                "Can't call numpy() on Tensor that has conjugate bit set. Use tensor.resolve_conj().numpy() instead."
            )
        if self._dev.type != "cpu" and not force:
            raise TypeError(
                f"can't convert {'meta' if self._dev.type == 'meta' else 'cuda:0'} device type tensor to numpy. "
                "Use Tensor.cpu() to copy the tensor to host memory first."
            )
        if self._data.dtype.metadata is not None:
            raise TypeError("Got unsupported ScalarType BFloat16")
        return host(self._data)

    def __array__(self, dtype: Any = None) -> np.ndarray:
        # torch's __array__ is numpy() (a tensor that requires grad is refused), and takes no copy=: numpy 2
        # warns of that (DeprecationWarning) at np.array(t) under torch, and so here
        a = self.numpy()
        return a if dtype is None else a.astype(dtype)

    def __array_wrap__(self, array: Any, context: Any = None, return_scalar: bool = False) -> Tensor:
        """A numpy ufunc's result over tensors (`tensor + ndarray` lands here through numpy) back as a cpu
        tensor, as torch wraps it: a bool result as uint8 (torch's workaround), a 0-dim one as a 0-dim tensor."""
        array = np.asarray(array)
        if array.dtype == np.bool_:
            array = array.astype(np.uint8)
        return wrap(array, CPU)

    def __len__(self) -> int:
        if self._data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self._data.shape[0]

    def __iter__(self):  # noqa: ANN204
        if self._data.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        if self._data.shape[0] > 4096:  # (a view per element, all at once)
            _host_rules.check_views(self._data.shape[0])
        return iter(self.unbind(0))

    def _scalar(self, what: str) -> Any:
        if self._meta is not None and "vmapped" in self._meta:
            raise RuntimeError(_VMAP_ITEM)
        if self._data.size != 1:
            raise ValueError("only one element tensors can be converted to Python scalars")
        if self._dev.type == "meta":
            raise RuntimeError("Tensor.item() cannot be called on meta tensors")
        return host(self._data).reshape(()).item()

    def __bool__(self) -> bool:
        if self._meta is not None and "vmapped" in self._meta:
            raise RuntimeError(
                "vmap: It looks like you're attempting to use a Tensor in some data-dependent control flow. We "
                "don't support that yet, please file an issue at https://github.com/pytorch/pytorch/issues ."
            )
        if self._data.size != 1:
            raise RuntimeError(
                "Boolean value of Tensor with more than one value is ambiguous"
                if self._data.size > 1
                else "Boolean value of Tensor with no values is ambiguous"
            )
        if self._dev.type == "meta":
            raise RuntimeError("Tensor.item() cannot be called on meta tensors")
        return bool(host(self._data).reshape(()).item())

    def __float__(self) -> float:
        if self._rg and ENABLED[0] and not _FLOAT_WARNED:
            # (torch warns once per process, TORCH_WARN_ONCE, and only with grad enabled)
            _FLOAT_WARNED.append(True)
            warnings.warn(
                "Converting a tensor with requires_grad=True to a scalar may lead to unexpected behavior.\n"
                "Consider using tensor.detach() first. (Triggered internally at "
                "/__w/pytorch/pytorch/torch/csrc/autograd/generated/python_variable_methods.cpp:822.)",
                UserWarning,
                stacklevel=user_stacklevel(),
            )
        return float(_real_value(self._scalar("float"), "double"))

    def __int__(self) -> int:
        return int(_real_value(self._scalar("int"), "int64_t"))

    def __index__(self) -> int:
        if self._data.dtype.kind not in "iub" or self._data.size != 1:
            raise TypeError("only integer tensors of a single element can be converted to an index")
        return int(self._scalar("index"))

    def __complex__(self) -> complex:
        return complex(self._scalar("complex"))

    def __format__(self, spec: str) -> str:
        if self._data.ndim == 0 and self._dev.type != "meta":
            return format(self.item(), spec)
        if spec:  # torch falls back to object.__format__, which takes no spec
            raise TypeError("unsupported format string passed to Tensor.__format__")
        return repr(self)

    def __hash__(self) -> int:
        return id(self)

    def __repr__(self, *, tensor_contents: Any = None) -> str:
        from engine.printing import format_tensor

        return format_tensor(self)

    def __reduce_ex__(self, proto: int) -> Any:
        from engine.creation import tensor

        return (tensor, (host(self._data), None, None, self._rg))

    def __deepcopy__(self, memo: dict) -> Tensor:
        """torch's: leaves only; a copy of the storage, made once per storage in one deepcopy (so copied views
        still share memory with each other), seen with the same offset, sizes and strides; the gradient too."""
        if self.grad_fn is not None:
            raise RuntimeError(_DEEPCOPY_NON_LEAF)
        key = id(self)
        if key in memo:
            return memo[key]
        d = self._data
        t = None
        if self._dev.type != "meta":
            from engine.ops.as_strided import _flat_storage, _root, _view

            try:
                flat, offset = _flat_storage(d)
            except RuntimeError:  # (a cupy strided view whose storage cannot be reached: its values alone)
                flat = None
            if flat is not None:
                skey = ("storage", id(_root(d)))
                copied = memo.get(skey)
                if copied is None:
                    copied = memo[skey] = flat.copy()
                    memo.setdefault(id(memo), []).append(flat)  # (keeps the root alive, so its id stays its own)
                strides = tuple(s // d.itemsize for s in d.strides)
                t = wrap(_view(copied, d.shape, strides, offset), self._dev)
        if t is None:
            t = wrap(d.copy(), self._dev)
        t._rg = self._rg
        if self._grad is not None:
            t._grad = self._grad.__deepcopy__(memo)
        memo[key] = t
        return t


_DEEPCOPY_NON_LEAF = (
    "Only Tensors created explicitly by the user (graph leaves) support the deepcopy protocol at the moment.  If "
    "you were attempting to deepcopy a module, this may be because of a torch.nn.utils.weight_norm usage, see "
    "https://github.com/pytorch/pytorch/pull/103001"
)


def _real_value(v: Any, ctype: str) -> Any:
    """A complex value as a real number, as torch's checked_convert allows it: only with no imaginary part."""
    if type(v) is complex:
        if v.imag:
            raise RuntimeError(f"value cannot be converted to type {ctype} without overflow")
        return v.real
    return v


def _dims(shape: tuple) -> str:
    return "[" + ", ".join(str(d) for d in shape) + "]"


_new = object.__new__


def _bf16_values(data: Any) -> Any:
    from engine.bf16 import to_bf16

    return to_bf16(data)


def wrap(data: Any, dev: Any = CPU) -> Tensor:
    """A fresh tensor around an array (the one constructor every op uses; kept minimal)."""
    if data.dtype.metadata is not None and type(data) is np.ndarray:
        data = _bf16_values(data)  # a result cast to bfloat16 by a plain astype: its values rounded here
    t = _new(Tensor)
    t._data = data
    t._dev = dev
    t._rg = False
    t.grad_fn = None
    t._grad = None
    t._vc = [0, None] if not INFERENCE[0] else InferenceVC((0, None))
    t._base = None
    t._accum = None
    t._meta = None
    return t


_NOARG: Any = object()


def is_inference(input: Any = _NOARG) -> bool:  # noqa: A002
    """torch.is_inference(input)."""
    if not isinstance(input, Tensor):
        if input is _NOARG:
            raise TypeError('is_inference() missing 1 required positional arguments: "input"')
        raise TypeError(f"is_inference(): argument 'input' (position 1) must be Tensor, not {type(input).__name__}")
    return type(input._vc) is InferenceVC


def wrap_any(data: Any, dev: Any = CPU) -> Tensor:
    """wrap() for results that may be scalars or foreign arrays (off the hot path)."""
    if type(data) is not np.ndarray and not hasattr(data, "__cuda_array_interface__"):
        data = dev.xp.asarray(data)
    return wrap(data, dev)


_FLOAT_WARNED: list = []


class GradView(Tensor):
    """A view recorded with grad (of a base that requires grad). When its memory changed in place through
    another alias since its grad_fn was recorded, reading grad_fn regenerates it from the base's current
    graph, as torch does lazily (AsStridedBackward0; engine/ops/view_regen.py). A subclass, so that plain
    tensors keep grad_fn as a bare slot on the hot path."""

    __slots__ = ()

    @property
    def grad_fn(self) -> Any:  # type: ignore[override]
        fn = _GRAD_FN.__get__(self)
        if self._gv != self._vc[0] and self._base is not None:
            if fn is not None:
                from engine.ops.view_regen import regenerate

                return regenerate(self, fn)
            meta = self._meta
            if meta and meta.get("nograd_view") and ENABLED[0]:
                raise RuntimeError(NOGRAD_VIEW_CHANGED)
        return fn

    @grad_fn.setter
    def grad_fn(self, node: Any) -> None:
        _GRAD_FN.__set__(self, node)
        self._gv = self._vc[0]


_GRAD_FN = Tensor.__dict__["grad_fn"]

NOGRAD_VIEW_CHANGED = (
    "A view was created in no_grad mode and its base or another view of its base has been modified inplace with "
    "grad mode enabled. Given that this use case is ambiguous and error-prone, it is forbidden. You can clarify "
    "your code by moving both the view and the inplace either both inside the no_grad block (if you don't want "
    "the inplace to be tracked) or both outside (if you want the inplace to be tracked)."
)


def view_of(data: Any, base: Tensor) -> Tensor:
    """A tensor that shares memory (and so the version counter) with base."""
    t = _new(GradView if base._rg else Tensor)  # (a view made under no_grad too: torch checks it on use)
    t._data = data
    t._dev = base._dev
    t._rg = False
    _GRAD_FN.__set__(t, None)
    t._grad = None
    t._vc = base._vc
    t._base = base if base._base is None else base._base
    t._accum = None
    t._meta = None
    t._gv = base._vc[0] if type(base._vc) is not InferenceVC else 0  # (reading an inference one means saving it)
    if base._rg and not ENABLED[0]:
        # torch: a view made under no_grad of a tensor that requires grad is a leaf that requires grad, which
        # gathers no gradient and may not be changed in place with grad on (ops/inplace.check_inplace)
        t._rg = True
        t._meta = {"nograd_view": True}
    return t
