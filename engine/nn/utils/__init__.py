"""torch.nn.utils: gradient clipping (clip_grad_norm_, clip_grad_value_, get_total_norm, clip_grads_with_norm_)
and parameters_to_vector / vector_to_parameters, as torch 2.13 computes them (torch/nn/utils/clip_grad.py,
convert_parameters.py): the total norm is the norm of the per-tensor norms, stacked in torch's order (grouped
by device and dtype), and gradients are scaled by min(max_norm / (total + 1e-6), 1) as a tensor, so the
returned norm and the clipped gradients carry torch's roundings. foreach is accepted (torch allows it on the
cpu and cuda alike); the per-tensor loop computes what torch's foreach kernels compute. The rest of
torch.nn.utils lives beside it: rnn (padded and packed sequences), parametrize and parametrizations, the legacy
weight_norm and spectral_norm hooks, the batch-norm fusions, skip_init, stateless.functional_call, prune and the
convolution weights' memory-format conversions."""

from __future__ import annotations

import functools
import types
import warnings
from collections.abc import Callable, Iterable
from typing import Any

from engine.grad_mode import no_grad
from engine.tensor import Tensor
from engine.warn import user_stacklevel

__all__ = [
    "clip_grad_norm",
    "clip_grad_norm_",
    "clip_grad_value_",
    "clip_grads_with_norm_",
    "get_total_norm",
    "parameters_to_vector",
    "vector_to_parameters",
]


def _no_grad(func: Callable) -> Callable:
    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        with no_grad():
            return func(*args, **kwargs)

    return wrapper


def _group_by_device_and_dtype(tensors: list) -> dict:
    """torch's _group_tensors_by_device_and_dtype: lists per (device, dtype), in order of first appearance."""
    groups: dict = {}
    for t in tensors:
        groups.setdefault((t.device, t.dtype), []).append(t)
    return groups


@_no_grad
def get_total_norm(tensors: Tensor | Iterable[Tensor], norm_type: float = 2.0, error_if_nonfinite: bool = False,
                   foreach: bool | None = None) -> Tensor:  # fmt: skip
    """The norm of the tensors' norms (torch.nn.utils.get_total_norm)."""
    import engine
    from engine.ops.reduce import vector_norm

    tensors = [tensors] if isinstance(tensors, Tensor) else list(tensors)
    norm_type = float(norm_type)
    if len(tensors) == 0:
        return engine.tensor(0.0)
    first_device = tensors[0].device
    norms = []
    try:
        for group in _group_by_device_and_dtype(tensors).values():
            norms.extend(vector_norm(g, norm_type) for g in group)
    except NotImplementedError:
        if any(t.is_sparse for t in tensors):  # (a sparse gradient: torch's dispatcher error, engine/sparse_tensor.py)
            from engine.sparse_tensor import not_run

            raise not_run("aten::linalg_vector_norm") from None
        raise
    total_norm = vector_norm(engine.stack([n.to(first_device) for n in norms]), norm_type)
    if error_if_nonfinite and bool(total_norm.isnan() | total_norm.isinf()):
        raise RuntimeError(
            f"The total norm of order {norm_type} for gradients from `parameters` is non-finite, so it cannot be "
            "clipped. To disable this error and scale the gradients by the non-finite norm anyway, set "
            "`error_if_nonfinite=False`"
        )
    return total_norm


@_no_grad
def clip_grads_with_norm_(parameters: Tensor | Iterable[Tensor], max_norm: float, total_norm: Tensor,
                          foreach: bool | None = None) -> None:  # fmt: skip
    """Scale the parameters' gradients in place by min(max_norm / (total_norm + 1e-6), 1)."""
    import engine

    if isinstance(parameters, Tensor):
        parameters = [parameters]
    grads = [p.grad for p in parameters if p.grad is not None]
    max_norm = float(max_norm)
    if len(grads) == 0:
        return
    clip_coef = max_norm / (total_norm + 1e-6)
    clip_coef_clamped = engine.clamp(clip_coef, max=1.0)
    for (device, _), group in _group_by_device_and_dtype(grads).items():
        coef = clip_coef_clamped.to(device)
        for g in group:
            g.mul_(coef)


@_no_grad
def clip_grad_norm_(parameters: Tensor | Iterable[Tensor], max_norm: float, norm_type: float = 2.0,
                    error_if_nonfinite: bool = False, foreach: bool | None = None) -> Tensor:  # fmt: skip
    """Clip the gradients' total norm to max_norm, in place; returns the total norm before clipping."""
    if isinstance(parameters, Tensor):
        parameters = [parameters]
    else:
        is_generator = isinstance(parameters, types.GeneratorType)
        parameters = list(parameters)
        if is_generator and len(parameters) == 0:
            warnings.warn(
                "`parameters` is an empty generator, no gradient clipping will occur.",
                UserWarning,
                stacklevel=user_stacklevel(),
            )
    grads = [p.grad for p in parameters if p.grad is not None]
    total_norm = get_total_norm(grads, norm_type, error_if_nonfinite, foreach)
    clip_grads_with_norm_(parameters, max_norm, total_norm, foreach)
    return total_norm


def clip_grad_norm(parameters: Tensor | Iterable[Tensor], max_norm: float, norm_type: float = 2.0,
                   error_if_nonfinite: bool = False, foreach: bool | None = None) -> Tensor:  # fmt: skip
    warnings.warn(
        "`torch.nn.utils.clip_grad_norm` is now deprecated in favor of `torch.nn.utils.clip_grad_norm_`.",
        FutureWarning,
        stacklevel=user_stacklevel(),
    )
    return clip_grad_norm_(parameters, max_norm, norm_type, error_if_nonfinite, foreach)


@_no_grad
def clip_grad_value_(parameters: Tensor | Iterable[Tensor], clip_value: float, foreach: bool | None = None) -> None:
    """Clamp every gradient to [-clip_value, clip_value], in place."""
    if isinstance(parameters, Tensor):
        parameters = [parameters]
    clip_value = float(clip_value)
    grads = [p.grad for p in parameters if p.grad is not None]
    if not grads:  # (torch's grouping of the gradients by device and dtype refuses an empty list, foreach or not)
        raise RuntimeError(
            "Expected !nested_tensorlist[0].empty() to be true, but got false.  (Could this error message be "
            "improved?  If so, please report an enhancement request to PyTorch.)"
        )
    for group in _group_by_device_and_dtype(grads).values():
        for g in group:
            try:
                g.clamp_(min=-clip_value, max=clip_value)
            except NotImplementedError:
                if g.is_sparse:  # (torch's dispatcher error: engine/sparse_tensor.py)
                    from engine.sparse_tensor import not_run

                    raise not_run("aten::clamp_min_") from None
                raise


def _check_param_device(param: Tensor, old_param_device: int | None) -> int:
    """torch's device check: -1 for the cpu, the index for cuda; two different ones are an error."""
    dev = param.device
    here = (dev.index or 0) if dev.type == "cuda" else -1
    if old_param_device is None:
        return here
    if here != old_param_device:
        raise TypeError("Found two parameters on different devices, this is currently not supported.")
    return old_param_device


def parameters_to_vector(parameters: Iterable[Tensor]) -> Tensor:
    """The parameters flattened and concatenated into one vector (differentiable: CatBackward0)."""
    import engine

    param_device = None
    vec = []
    for param in parameters:
        param_device = _check_param_device(param, param_device)
        vec.append(param.view(-1))
    return engine.cat(vec)


def vector_to_parameters(vec: Tensor, parameters: Iterable[Tensor]) -> None:
    """Slices of vec become the parameters' data, in order."""
    if not isinstance(vec, Tensor):
        from engine.nn.module import typename

        raise TypeError(f"expected torch.Tensor, but got: {typename(vec)}")
    param_device = None
    pointer = 0
    for param in parameters:
        param_device = _check_param_device(param, param_device)
        num_param = param.numel()
        param.data = vec[pointer : pointer + num_param].view_as(param).data
        pointer += num_param


# (prune is torch.nn.utils.prune, left out of __all__ as torch leaves it)
from engine.nn.utils import parametrizations, parametrize, prune, stateless  # noqa: E402, F401
from engine.nn.utils.fusion import (  # noqa: E402
    fuse_conv_bn_eval,
    fuse_conv_bn_weights,
    fuse_linear_bn_eval,
    fuse_linear_bn_weights,
)
from engine.nn.utils.init import skip_init  # noqa: E402
from engine.nn.utils.memory_format import (  # noqa: E402
    convert_conv2d_weight_memory_format,
    convert_conv3d_weight_memory_format,
)
from engine.nn.utils.spectral_norm import remove_spectral_norm, spectral_norm  # noqa: E402
from engine.nn.utils.weight_norm import remove_weight_norm, weight_norm  # noqa: E402

__all__ += [
    "convert_conv2d_weight_memory_format",
    "convert_conv3d_weight_memory_format",
    "fuse_conv_bn_eval",
    "fuse_conv_bn_weights",
    "fuse_linear_bn_eval",
    "fuse_linear_bn_weights",
    "parametrizations",
    "parametrize",
    "remove_spectral_norm",
    "remove_weight_norm",
    "rnn",
    "skip_init",
    "spectral_norm",
    "stateless",
    "weight_norm",
]


def __getattr__(name: str) -> Any:
    if name == "rnn":  # (loaded on first use)
        import importlib

        return importlib.import_module("engine.nn.utils.rnn")
    raise AttributeError(f"module 'torch.nn.utils' has no attribute '{name}'")
