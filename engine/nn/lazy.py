"""Lazy modules: LazyLinear, LazyConv1d/2d/3d, LazyConvTranspose1d/2d/3d and LazyBatchNorm1d/2d/3d, which learn
their input size from the first batch (as d2l.ai's models are written). As in torch, the parameters start as
UninitializedParameters, a forward pre-hook materializes them on the first call (drawing their seeded initial
values then), and the module becomes the ordinary class (`type(m)` is Linear afterwards, and it prints as one)."""

from __future__ import annotations

from itertools import chain
from typing import Any

from engine.creation import empty, tensor
from engine.dtypes import int64
from engine.grad_mode import no_grad
from engine.nn.conv_layers import Conv1d, Conv2d, Conv3d, ConvTranspose1d, ConvTranspose2d, ConvTranspose3d
from engine.nn.layers import Linear
from engine.nn.norm_layers import BatchNorm1d, BatchNorm2d, BatchNorm3d
from engine.nn.parameter import Parameter
from engine.tensor import Tensor

_SHAPE_ERROR = (
    "Can't access the shape of an uninitialized parameter or buffer. This error usually happens in `load_state_dict` "
    "when trying to load an uninitialized parameter into an initialized one. Call `forward` to initialize the "
    "parameters before accessing their attributes."
)


class _Uninitialized:
    """What UninitializedParameter and UninitializedBuffer share: no shape until materialize()."""

    __slots__ = ()
    cls_to_become: type = Tensor

    @property
    def shape(self) -> Any:
        raise RuntimeError(_SHAPE_ERROR)

    def size(self, dim: int | None = None) -> Any:
        raise RuntimeError(_SHAPE_ERROR)

    def dim(self) -> int:
        raise RuntimeError(_SHAPE_ERROR)

    def numel(self) -> int:
        raise RuntimeError(_SHAPE_ERROR)

    def __repr__(self) -> str:
        return f"<{type(self).__name__}>"

    def materialize(self, shape: Any, device: Any = None, dtype: Any = None) -> None:
        """Give it data of `shape` (uninitialized values) and make it the ordinary class."""
        made = empty(shape, device=device if device is not None else self._dev, dtype=dtype)  # type: ignore[attr-defined]
        self._data = made._data  # type: ignore[attr-defined]
        object.__setattr__(self, "__class__", type(self).cls_to_become)


class UninitializedParameter(_Uninitialized, Parameter):
    _torch_name = "torch.nn.parameter.UninitializedParameter"
    __slots__ = ()
    cls_to_become = Parameter

    def __new__(cls, requires_grad: bool = True, device: Any = None, dtype: Any = None) -> UninitializedParameter:
        return Parameter.__new__(cls, empty(0, device=device, dtype=dtype), requires_grad)  # type: ignore[return-value]


class UninitializedBuffer(_Uninitialized, Tensor):
    _torch_name = "torch.nn.parameter.UninitializedBuffer"
    __slots__ = ()

    def __new__(cls, requires_grad: bool = False, device: Any = None, dtype: Any = None) -> UninitializedBuffer:
        t = empty(0, device=device, dtype=dtype)
        t.__class__ = cls
        return t  # type: ignore[return-value]


class LazyModuleMixin:
    """Materializes a module's uninitialized parameters from its first input, then becomes cls_to_become."""

    cls_to_become: type | None = None

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[call-arg]
        self._initialize_hook = self.register_forward_pre_hook(self._infer_parameters, with_kwargs=True)  # type: ignore[attr-defined]

    def _save_to_state_dict(self, destination: dict, prefix: str, keep_vars: bool) -> None:
        # torch's override: an uninitialized parameter or buffer goes in as itself (prints <UninitializedParameter>;
        # detach() would refuse it), and no extra state is written
        for name, param in self._parameters.items():  # type: ignore[attr-defined]
            if param is not None:
                destination[prefix + name] = param if keep_vars or isinstance(param, _Uninitialized) else param.detach()
        for name, buf in self._buffers.items():  # type: ignore[attr-defined]
            if buf is not None and name not in self._non_persistent_buffers_set:  # type: ignore[attr-defined]
                destination[prefix + name] = buf if keep_vars or isinstance(buf, _Uninitialized) else buf.detach()

    def has_uninitialized_params(self) -> bool:
        values = chain(self._parameters.values(), self._buffers.values())  # type: ignore[attr-defined]
        return any(isinstance(v, _Uninitialized) for v in values)

    def initialize_parameters(self, *args: Any, **kwargs: Any) -> None:
        raise NotImplementedError(f"initialize_parameters is not implemented for {self.__class__.__name__}")

    @staticmethod
    def _infer_parameters(module: Any, args: tuple, kwargs: dict | None = None) -> None:
        module.initialize_parameters(*args, **(kwargs or {}))
        if module.has_uninitialized_params():
            raise RuntimeError(f"module {module._get_name()} has not been fully initialized")
        module._initialize_hook.remove()
        del module._initialize_hook
        become = type(module).cls_to_become  # (the class's: an instance attribute must not pick the class)
        if become is not None:
            object.__setattr__(module, "__class__", become)


class LazyLinear(LazyModuleMixin, Linear):
    """A Linear whose in_features is the last size of its first input."""

    _torch_name = "torch.nn.modules.linear.{name}"
    cls_to_become = Linear

    def __init__(self, out_features: int, bias: bool = True, device: Any = None, dtype: Any = None) -> None:
        super().__init__(0, 0, False)
        self.weight = UninitializedParameter(device=device, dtype=dtype)
        self.out_features = out_features
        if bias:
            self.bias = UninitializedParameter(device=device, dtype=dtype)

    def reset_parameters(self) -> None:
        if not self.has_uninitialized_params() and self.in_features != 0:
            super().reset_parameters()

    def initialize_parameters(self, input: Tensor) -> None:  # noqa: A002
        if self.has_uninitialized_params():
            with no_grad():
                self.in_features = input.shape[-1]
                self.weight.materialize((self.out_features, self.in_features))
                if self.bias is not None:
                    self.bias.materialize((self.out_features,))
                self.reset_parameters()


class _LazyConvMixin(LazyModuleMixin):
    def reset_parameters(self) -> None:
        if not self.has_uninitialized_params() and self.in_channels != 0:
            super().reset_parameters()  # type: ignore[misc]

    def _get_in_channels(self, input: Tensor) -> int:  # noqa: A002
        no_batch = len(self.kernel_size) + 1  # type: ignore[attr-defined]
        if input.dim() not in (no_batch, no_batch + 1):
            raise RuntimeError(
                f"Expected {no_batch}D (unbatched) or {no_batch + 1}D (batched) input to {self.__class__.__name__}, "
                f"but got input of size: {input.shape}"
            )
        return input.shape[1] if input.dim() == no_batch + 1 else input.shape[0]

    def initialize_parameters(self, input: Tensor, *args: Any, **kwargs: Any) -> None:  # noqa: A002
        if self.has_uninitialized_params():
            self.in_channels = self._get_in_channels(input)
            if self.in_channels % self.groups != 0:  # type: ignore[attr-defined]
                raise ValueError("in_channels must be divisible by groups")
            k, g = self.kernel_size, self.groups  # type: ignore[attr-defined]
            if self.transposed:  # type: ignore[attr-defined]
                self.weight.materialize((self.in_channels, self.out_channels // g, *k))  # type: ignore[attr-defined]
            else:
                self.weight.materialize((self.out_channels, self.in_channels // g, *k))  # type: ignore[attr-defined]
            if self.bias is not None:  # type: ignore[attr-defined]
                self.bias.materialize((self.out_channels,))  # type: ignore[attr-defined]
            self.reset_parameters()


def _lazy_conv(base: type, name: str) -> type:
    def __init__(self: Any, out_channels: int, kernel_size: Any, stride: Any = 1, padding: Any = 0,
                 dilation: Any = 1, groups: int = 1, bias: bool = True, padding_mode: str = "zeros",
                 device: Any = None, dtype: Any = None) -> None:  # fmt: skip
        super(cls, self).__init__(0, 0, kernel_size, stride, padding, dilation, groups, False, padding_mode)
        _uninitialized(self, out_channels, bias, device, dtype)

    cls = _lazy_class(base, name, __init__)
    return cls


def _lazy_conv_transpose(base: type, name: str) -> type:
    """A lazy transposed convolution: torch's argument order (output_padding, groups, bias, dilation)."""

    def __init__(self: Any, out_channels: int, kernel_size: Any, stride: Any = 1, padding: Any = 0,
                 output_padding: Any = 0, groups: int = 1, bias: bool = True, dilation: Any = 1,
                 padding_mode: str = "zeros", device: Any = None, dtype: Any = None) -> None:  # fmt: skip
        super(cls, self).__init__(0, 0, kernel_size, stride, padding, output_padding, groups, False, dilation,
                                  padding_mode)  # fmt: skip
        _uninitialized(self, out_channels, bias, device, dtype)

    cls = _lazy_class(base, name, __init__)
    return cls


def _uninitialized(module: Any, out_channels: int, bias: bool, device: Any, dtype: Any) -> None:
    """A lazy convolution's parameters before its first input: made with no bias, then given these."""
    module.weight = UninitializedParameter(device=device, dtype=dtype)
    module.out_channels = out_channels
    if bias:
        module.bias = UninitializedParameter(device=device, dtype=dtype)


def _lazy_class(base: type, name: str, init: Any) -> type:
    return type(name, (_LazyConvMixin, base), {"cls_to_become": base, "__init__": init, "__module__": __name__,
                                                "_torch_name": "torch.nn.modules.conv.{name}",
                                                "__doc__": f"A {base.__name__} whose in_channels comes from its "
                                                           "first input."})  # fmt: skip


LazyConv1d = _lazy_conv(Conv1d, "LazyConv1d")
LazyConv2d = _lazy_conv(Conv2d, "LazyConv2d")
LazyConv3d = _lazy_conv(Conv3d, "LazyConv3d")
LazyConvTranspose1d = _lazy_conv_transpose(ConvTranspose1d, "LazyConvTranspose1d")
LazyConvTranspose2d = _lazy_conv_transpose(ConvTranspose2d, "LazyConvTranspose2d")
LazyConvTranspose3d = _lazy_conv_transpose(ConvTranspose3d, "LazyConvTranspose3d")


class _LazyNormMixin(LazyModuleMixin):
    def __init__(self, eps: float = 1e-5, momentum: float | None = 0.1, affine: bool = True,
                 track_running_stats: bool = True, device: Any = None, dtype: Any = None) -> None:  # fmt: skip
        super().__init__(0, eps, momentum, False, False, device, dtype)
        self.affine = affine
        self.track_running_stats = track_running_stats
        if self.affine:
            self.weight = UninitializedParameter(device=device, dtype=dtype)
            self.bias = UninitializedParameter(device=device, dtype=dtype)
        if self.track_running_stats:
            self.running_mean = UninitializedBuffer(device=device, dtype=dtype)
            self.running_var = UninitializedBuffer(device=device, dtype=dtype)
            self.num_batches_tracked = tensor(0, dtype=int64, device=device)

    def reset_parameters(self) -> None:
        if not self.has_uninitialized_params() and self.num_features != 0:
            super().reset_parameters()  # type: ignore[misc]

    def initialize_parameters(self, input: Tensor) -> None:  # noqa: A002
        if self.has_uninitialized_params():
            self.num_features = input.shape[1]
            if self.affine:
                self.weight.materialize((self.num_features,))
                self.bias.materialize((self.num_features,))
            if self.track_running_stats:
                self.running_mean.materialize((self.num_features,))
                self.running_var.materialize((self.num_features,))
            self.reset_parameters()


class LazyBatchNorm1d(_LazyNormMixin, BatchNorm1d):
    """A BatchNorm1d whose num_features comes from its first input."""

    _torch_name = "torch.nn.modules.batchnorm.{name}"
    cls_to_become = BatchNorm1d


class LazyBatchNorm2d(_LazyNormMixin, BatchNorm2d):
    """A BatchNorm2d whose num_features comes from its first input."""

    _torch_name = "torch.nn.modules.batchnorm.{name}"
    cls_to_become = BatchNorm2d


class LazyBatchNorm3d(_LazyNormMixin, BatchNorm3d):
    """A BatchNorm3d whose num_features comes from its first input."""

    _torch_name = "torch.nn.modules.batchnorm.{name}"
    cls_to_become = BatchNorm3d
