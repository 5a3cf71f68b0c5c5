"""torch.nn.functional: activations, losses and linear, built from engine primitives."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from engine.amp.policy import policy as autocast_policy
from engine.backend import for_array, host
from engine.bf16 import BF16Array, plain, round_bits, to_bf16, whole
from engine.grad_mode import ENABLED, no_grad
from engine.nn.arg_checks import parser_error
from engine.ops import activation_cpu, glibc_log
from engine.ops import elementwise as E
from engine.ops import reduce as R
from engine.ops.cpu_capability import cpu_capability
from engine.ops.index import scatter_add_new
from engine.ops.libm import c_math
from engine.ops.linalg import addmm, linear_addmm, matmul
from engine.ops.util import index_range, node_class, record
from engine.ops.util import saved as saved_versions
from engine.tensor import Tensor, wrap
from engine.warn import user_stacklevel


def tensor_arg(fn: str, x: Any, name: str = "input", pos: int = 1) -> None:
    """torch's argument-parser TypeError for a list or an array where a function takes a tensor (a numpy batch
    passed straight into a model)."""
    if not isinstance(x, Tensor):
        raise parser_error(fn, name, pos, x)


def relu(input: Tensor, inplace: bool = False) -> Tensor:  # noqa: A002
    tensor_arg("relu", input)
    return input.relu_() if inplace else E.relu(input)


def relu_(input: Tensor) -> Tensor:  # noqa: A002
    """F.relu_ (torch.relu_)."""
    tensor_arg("relu_", input)
    return input.relu_()


sigmoid = E.sigmoid
tanh = E.tanh


def _implicit_dim(name: str, dim: Any) -> Any:
    if dim is None:
        import warnings

        warnings.warn(
            f"Implicit dimension choice for {name} has been deprecated. Change the call to include dim=X as an "
            "argument.",
            UserWarning,
            stacklevel=user_stacklevel(),
        )
    return dim  # None: the legacy choice, made by the op (0 for 0-, 1- and 3-d input, else 1)


def softmax(input: Tensor, dim: Any = None, _stacklevel: int = 3, dtype: Any = None) -> Tensor:  # noqa: A002
    return R._softmax_impl(input, _implicit_dim("softmax", dim), dtype, False, " (position 1)")


def log_softmax(input: Tensor, dim: Any = None, _stacklevel: int = 3, dtype: Any = None) -> Tensor:  # noqa: A002
    return R._softmax_impl(input, _implicit_dim("log_softmax", dim), dtype, True, " (position 1)")


def silu(input: Tensor, inplace: bool = False) -> Tensor:  # noqa: A002
    return input.silu_() if inplace else E.silu(input)


softplus_ = E.softplus


softplus = E.softplus


def _record(name: str, out: Tensor, inputs: tuple, saved: tuple, backward: Any) -> Tensor:
    """Record `out` (computed without a graph) as one node named as torch names the op's backward: torch runs
    these ops as single kernels, so a printed loss reads grad_fn=<MseLossBackward0>, not the last step of a
    composite. `backward(g, *saved)`, written in engine ops (so create_graph works through it), returns one
    gradient per input, None where an input needs none; broadcast inputs get theirs summed back."""
    cls = _NODES.get(name)
    if cls is None:
        cls = _NODES[name] = node_class(name, _run_backward)
        cls._abw = _run_abw
    t = record(cls, out._data, out._dev, inputs, (backward, *saved), (None, *saved_versions(*saved)))
    if t.grad_fn is not None:
        t.grad_fn._meta = tuple((i._data.shape, i._data.dtype) if isinstance(i, Tensor) else None for i in inputs)
    return t


_NODES: dict = {}


def _run_backward(self: Any, g: Tensor, backward: Any, *saved: Any) -> tuple:
    return backward(g, *saved)


def _run_abw(self: Any, g: Any, backward: Any, *saved: Any) -> tuple | None:
    """A _record'ed node on a raw gradient array (autograd.run_backward's raw mode), where its backward has
    an array twin (`backward.raw`, returning None where it does not apply)."""
    raw = getattr(backward, "raw", None)
    return None if raw is None else raw(g, *saved)


def _detached(*ts: Any) -> tuple:
    return tuple(t.detach() if isinstance(t, Tensor) else t for t in ts)


def _not_differentiable(fn: str, **args: Any) -> None:
    """torch's check_no_requires_grad: an argument the op has no derivative for (a loss's weight) may not
    require grad while grad mode is on."""
    if ENABLED[0]:
        for name, t in args.items():
            if isinstance(t, Tensor) and t._rg:
                raise RuntimeError(
                    f"The function '{fn}' is not differentiable with respect to argument '{name}'. This input "
                    "cannot have requires_grad True."
                )


def leaky_relu(input: Tensor, negative_slope: float = 0.01, inplace: bool = False) -> Tensor:  # noqa: A002
    tensor_arg("leaky_relu", input)
    if inplace:  # torch's leaky_relu_: the leaf and version rules, x's graph rewritten
        from engine.ops.inplace import apply

        return apply(input, lambda a: _leaky_relu(a, negative_slope, "LeakyReluBackward1"))
    return _leaky_relu(input, negative_slope, "LeakyReluBackward0")


def leaky_relu_(input: Tensor, negative_slope: float = 0.01) -> Tensor:  # noqa: A002
    """F.leaky_relu_ (torch._C._nn.leaky_relu_)."""
    tensor_arg("leaky_relu_", input)
    return leaky_relu(input, negative_slope, inplace=True)


def _leaky_relu(input: Tensor, negative_slope: float, name: str) -> Tensor:  # noqa: A002
    (x,) = _detached(input)
    with no_grad():
        out = E.where(x > 0, x, x * negative_slope)

    def backward(g: Tensor, x: Tensor) -> tuple:
        return (leaky_relu_backward(g, x, negative_slope),)

    return _record(name, out, (input,), (input,), backward)


def _leaky_grad(g: Any, x: Any, slope: float) -> Any:
    return for_array(np.where, x)(x > 0, g, g * g.dtype.type(slope))


# torch's leaky_relu_backward as a primitive: under create_graph its node links to x too (with a zero
# gradient), so a second derivative through leaky_relu is zero, not an error
leaky_relu_backward = E._grad_op(
    "LeakyReluBackwardBackward0",
    _leaky_grad,
    lambda gg, g, x, slope: leaky_relu_backward(gg, x, slope),
    lambda gg, g, x, slope: E._zeros_of(x),
)


def elu(input: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:  # noqa: A002
    (x,) = _detached(input)
    with no_grad():
        out = E.where(x > 0, x, (x.exp() - 1) * alpha)

    def backward(g: Tensor, x: Tensor) -> tuple:  # from the input, so that a second derivative reaches it
        return (E.where(x > 0, g, g * (x.exp() * alpha)),)

    return _record("EluBackward0", out, (input,), (input,), backward)


def _onednn_gelu(d: Any) -> bool:
    """Whether torch computes this gelu with oneDNN (aten's use_mkldnn): a contiguous float32 cpu tensor of
    more than one element. Other tensors take aten's own kernels, left here to the erf formula."""
    return type(d) is np.ndarray and d.dtype == np.float32 and d.size > 1 and d.flags.c_contiguous


def _onednn_gelu_bf16(d: Any) -> bool:
    """Whether torch computes this bfloat16 gelu with oneDNN (use_mkldnn: a contiguous cpu tensor of more than
    one element, on a cpu with AVX512 (mkldnn_bf16_device_check), exact mode): its float32 kernel on the
    values, rounded once."""
    return (
        type(d) is BF16Array and d.size > 1 and d.flags.c_contiguous and activation_cpu.reduced_usable(d)
        and cpu_capability() == "avx512"
    )  # fmt: skip


@whole
def gelu(input: Tensor, approximate: str = "none") -> Tensor:  # noqa: A002
    tensor_arg("gelu", input)
    if approximate not in ("none", "tanh"):
        raise RuntimeError("approximate argument must be either none or tanh.")
    if input._data.dtype.kind != "f":
        raise NotImplementedError(f"\"GeluKernelImpl\" not implemented for '{input.dtype.scalar_name()}'")
    (x,) = _detached(input)
    with no_grad():
        xd = x._data
        if approximate == "tanh" and activation_cpu.exact_usable(xd):  # torch's kernel (SLEEF's tanh)
            out = wrap(activation_cpu.gelu_tanh(xd), x._dev)
        elif activation_cpu.reduced_usable(xd) and (approximate == "tanh" or not _onednn_gelu_bf16(xd)):
            # (float16/bfloat16: the kernel's float branch)
            fn = activation_cpu.gelu_tanh if approximate == "tanh" else activation_cpu.gelu_erf
            out = wrap(activation_cpu.reduced(fn, xd), x._dev)
        elif _onednn_gelu_bf16(xd):
            from engine.nn.gelu_onednn import gelu_erf_f32

            out = wrap(to_bf16(gelu_erf_f32(plain(xd))), x._dev)
        elif approximate == "tanh":
            out = 0.5 * x * (1 + E.tanh(0.7978845608028654 * (x + 0.044715 * x**3)))
        elif _onednn_gelu(x._data):
            from engine.nn.gelu_onednn import gelu_erf_f32

            out = wrap(gelu_erf_f32(x._data), x._dev)
        elif activation_cpu.exact_usable(x._data):  # torch's own kernel (SLEEF's erf for float64)
            out = wrap(activation_cpu.gelu_erf(x._data), x._dev)
        else:
            out = 0.5 * x * (1 + E.erf(x * 0.7071067811865476))

    @whole  # (one kernel in torch: bfloat16 rounds once)
    def backward(g: Tensor, x: Tensor) -> tuple:
        gd, xd = g._data, x._data
        kernel = (
            not (ENABLED[0] and (g._rg or x._rg))  # (a graph of the gradient needs the formula's ops)
            and activation_cpu.exact_usable(xd)
            and type(gd) is np.ndarray
            and gd.dtype == xd.dtype
            and gd.shape == xd.shape
        )
        if not (ENABLED[0] and (g._rg or x._rg)) and type(gd) is type(xd) and gd.shape == xd.shape:
            if approximate == "none" and _onednn_gelu_bf16(xd):  # (oneDNN's backward: in float32, rounded once)
                from engine.nn.gelu_onednn import gelu_erf_grad_f32

                return (wrap(to_bf16(gelu_erf_grad_f32(plain(xd)) * plain(gd)), g._dev),)
            if activation_cpu.reduced_usable(xd) and gd.dtype == xd.dtype:  # (the kernel's float branch)
                fn = activation_cpu.gelu_tanh_backward if approximate == "tanh" else activation_cpu.gelu_erf_backward
                return (wrap(activation_cpu.reduced(fn, gd, xd), g._dev),)
        if kernel and approximate == "tanh":  # torch's GeluBackwardKernelImpl (SLEEF's tanh)
            return (wrap(activation_cpu.gelu_tanh_backward(gd, xd), g._dev),)
        if kernel and not _onednn_gelu(xd):  # ... (approximate='none': SLEEF's erf and exp for float64)
            return (wrap(activation_cpu.gelu_erf_backward(gd, xd), g._dev),)
        if approximate == "tanh":
            inner = 0.7978845608028654 * (x + 0.044715 * x**3)
            t = E.tanh(inner)
            d = 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * 0.7978845608028654 * (1 + 3 * 0.044715 * x * x)
        elif not ENABLED[0] and _onednn_gelu(x._data) and g._data.dtype == np.float32:
            # (first-order backward of oneDNN's forward: its backward kernel, on the arrays)
            from engine.nn.gelu_onednn import gelu_erf_grad_f32

            return (wrap(gelu_erf_grad_f32(x._data) * g._data, g._dev),)
        else:  # Phi(x) + x * phi(x)
            d = 0.5 * (1 + E.erf(x * 0.7071067811865476)) + x * (-0.5 * x * x).exp() * 0.3989422804014327
        return (g * d,)

    return _record("GeluBackward0", out, (input,), (input,), backward)


@autocast_policy(cpu="lower", cuda="lower")
@whole
def linear(input: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:  # noqa: A002
    """torch's paths (aten linear): a 2-D input with bias is one addmm; a contiguous input of other ranks is
    flattened to 2-D for it (ViewBackward0 on top); otherwise matmul, then the bias added."""
    tensor_arg("linear", input)
    if bias is not None and not isinstance(bias, Tensor):  # (torch's parser refuses it: tcli words it so)
        raise TypeError(f"linear(): argument 'bias' must be Tensor, not {type(bias).__name__}")
    if bias is not None and isinstance(input, Tensor) and isinstance(bias, Tensor):
        d = input._data
        if d.ndim == 2:
            if isinstance(weight, Tensor):
                r = linear_addmm(bias, input, weight)  # (the common case, past addmm's checks and decorators)
                if r is not None:
                    return r
            return addmm(bias, input, weight.t())
        if d.ndim >= 1 and d.flags.c_contiguous and (d.ndim == 3 or bias._data.ndim == 1):
            lead = d.shape[:-1]
            rows = 1
            for n in lead:
                rows *= n
            r = addmm(bias, input.reshape(rows, d.shape[-1]), weight.t())
            return r.view(*lead, r._data.shape[1])
    if isinstance(weight, Tensor) and (input._data.ndim == 0 or weight._data.ndim == 0):
        raise RuntimeError(
            f"both arguments to linear need to be at least 1D, but they are {input._data.ndim}D and "
            f"{weight._data.ndim}D"
        )
    out = matmul(input, weight.t())
    return out + bias if bias is not None else out


def _elementwise_mean(reduction: str) -> str:
    """torch's _Reduction.get_enum: the deprecated 'elementwise_mean' warns and means 'mean'."""
    if reduction == "elementwise_mean":
        warnings.warn("reduction='elementwise_mean' is deprecated. Please use reduction='mean' instead.",
                      UserWarning, stacklevel=user_stacklevel())  # fmt: skip
        return "mean"
    return reduction


def _reduce(loss: Tensor, reduction: str) -> Tensor:
    if reduction == "elementwise_mean":
        reduction = _elementwise_mean(reduction)
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    if reduction == "none":
        return loss
    raise ValueError(f"{reduction} is not a valid value for reduction")


def _reduced(loss: Tensor, reduction: str) -> tuple[Tensor, float]:
    """The reduced loss and the factor each element's gradient is scaled by (1/n for a mean)."""
    if reduction == "elementwise_mean":
        reduction = _elementwise_mean(reduction)
    if reduction == "mean":
        return loss.mean(), 1.0 / max(loss.numel(), 1)
    if reduction == "sum":
        return loss.sum(), 1.0
    if reduction == "none":
        return loss, 1.0
    raise ValueError(f"{reduction} is not a valid value for reduction")


def _weighted_mean(grad: Tensor | None, w: Tensor | None, reduction: str) -> Tensor | None:
    """A loss gradient times the weight, then divided by the element count for a mean, as torch's backward
    functions finish (grad_input.mul_(weight); grad_input.div_(numel))."""
    if grad is None:
        return None
    if w is not None:
        grad = grad * w
    return grad / grad.numel() if reduction == "mean" else grad


def _scaled(g: Tensor, reduction: str, k: float) -> Tensor:
    return g if reduction == "none" else g * k


_NP_NAMES = {"b": "Bool", "B": "Byte", "b1": "Bool", "h": "Short", "i": "Int", "l": "Long", "q": "Long", "?": "Bool"}


def _size_warning(input: Tensor, target: Tensor) -> None:
    if target.shape != input.shape:
        import warnings

        warnings.warn(
            f"Using a target size ({target.shape}) that is different to the input size ({input.shape}). This will "
            "likely lead to incorrect results due to broadcasting. Please ensure they have the same size.",
            UserWarning,
            stacklevel=user_stacklevel(),
        )


@autocast_policy(cpu="fp32", cuda="fp32")
def mse_loss(input: Tensor, target: Tensor, size_average: Any = None, reduce: Any = None,
             reduction: str = "mean") -> Tensor:  # noqa: A002  # fmt: skip
    reduction = _legacy(size_average, reduce, reduction)
    xd, td = input._data, target._data
    if xd.shape != td.shape:
        _size_warning(input, target)
    if xd.dtype.kind != "f" or td.dtype.kind != "f":
        kind = np.result_type(xd.dtype, td.dtype)
        if kind.kind != "f":
            raise NotImplementedError(f"\"mse_cpu\" not implemented for '{_NP_NAMES.get(kind.char, kind.name)}'")
    with no_grad():
        if xd.ndim and xd.dtype == td.dtype and xd.shape == td.shape and input._dev is target._dev:
            d = xd - td  # (the common case on arrays: no promotion or broadcasting to decide)
            out, k = _reduced(wrap(d * d, input._dev), reduction)
        else:
            x, t = _detached(input, target)
            d = x - t
            out, k = _reduced(d * d, reduction)
    need_x, need_t = input.requires_grad, target.requires_grad

    alpha = 2.0 * k  # torch's norm: 2 / numel for a mean, else 2

    def backward(g: Tensor, x: Tensor, t: Tensor) -> tuple:
        # torch's mse_loss_backward, alpha * (x - t) * grad in that order (the target's is its own formula,
        # with the operands swapped: 0. where x == t, not -0.); each only where it is needed
        return ((x - t) * alpha * g if need_x else None, (t - x) * alpha * g if need_t else None)

    def raw(g: Any, x: Tensor, t: Tensor) -> tuple | None:  # (the same ops on float32/float64 cpu arrays)
        xd, td = x._data, t._data
        dt = g.dtype
        if type(xd) is not _ndarray or type(td) is not _ndarray or xd.dtype is not dt or td.dtype is not dt:
            return None
        if xd.shape != td.shape or not xd.ndim:
            return None
        return (_np_mul(_np_mul(_np_sub(xd, td), alpha), g) if need_x else None,
                _np_mul(_np_mul(_np_sub(td, xd), alpha), g) if need_t else None)  # fmt: skip

    backward.raw = raw
    return _record("MseLossBackward0", out, (input, target), (input, target), backward)


_np_mul = np.multiply
_ndarray = np.ndarray
_np_sub = np.subtract


@autocast_policy(cpu="fp32", cuda="fp32")
def l1_loss(input: Tensor, target: Tensor, size_average: Any = None, reduce: Any = None,
            reduction: str = "mean") -> Tensor:  # noqa: A002  # fmt: skip
    _size_warning(input, target)
    return _reduce((input - target).abs(), _legacy(size_average, reduce, reduction))


def _legacy(size_average: Any, reduce: Any, reduction: str) -> str:
    """The reduction, or the one the deprecated size_average/reduce flags ask for (with torch's warning)."""
    if size_average is None and reduce is None:
        return reduction
    from engine.nn.functional_more import _legacy_reduction

    return _legacy_reduction(size_average, reduce)


@autocast_policy(cpu="fp32")
def binary_cross_entropy(input: Tensor, target: Tensor, weight: Tensor | None = None, size_average: Any = None,
                         reduce: Any = None, reduction: str = "mean") -> Tensor:  # noqa: A002  # fmt: skip
    reduction = _legacy(size_average, reduce, reduction)
    if target.shape != input.shape:  # (torch: an error here, where mse_loss only warns)
        raise ValueError(
            f"Using a target size ({target.shape}) that is different to the input size ({input.shape}) is "
            "deprecated. Please ensure they have the same size."
        )
    if target.dtype is not input.dtype:
        raise RuntimeError(f"Found dtype {target.dtype.scalar_name()} but expected {input.dtype.scalar_name()}")
    _not_differentiable("binary_cross_entropy", weight=weight)
    x, t, w = _detached(input, target, weight)
    for what, v in (("input", x), ("target", t)):
        if v.numel() and not bool(((v >= 0) & (v <= 1)).all()):  # (nan fails this too, as in torch)
            raise RuntimeError(f"all elements of {what} should be between 0 and 1")
    with no_grad():
        # torch's kernel: (t - 1) * max(log1p(-x), -100) - t * max(log(x), -100), the logs clamped so that p = 0
        # or 1 gives a finite loss
        lx, l1 = _bce_logs(x)
        loss = (t - 1) * l1.clamp(min=-100) - t * lx.clamp(min=-100)
        if w is not None:
            loss = loss * w
        out, k = _reduced(loss, reduction)

    def backward(g: Tensor, x: Tensor, t: Tensor, w: Any) -> tuple:
        # torch's binary_cross_entropy_backward kernel, then weight and mean in place; the target's gradient is
        # binary_cross_entropy_target_backward's -logit(x) * grad
        gx = g * (x - t) / ((1 - x) * x).clamp(min=1e-12) if x.requires_grad else None
        gt = -x.logit() * g if t.requires_grad else None
        return _weighted_mean(gx, w, reduction), _weighted_mean(gt, w, reduction)

    # (torch's node has edges for input and target only: it has no derivative for the weight)
    return _record("BinaryCrossEntropyBackward0", out, (input, target), (input, target, weight), backward)


def _bce_logs(x: Tensor) -> tuple:
    """std::log(x) and std::log1p(-x) as binary_cross_entropy's scalar kernel takes them: the C library's float
    or double functions."""
    d = x._data
    if type(d) is np.ndarray and d.dtype == np.float32:
        lx, l1 = glibc_log.apply("log", d), glibc_log.apply("log1p", -d)
        if lx is not None and l1 is not None:
            return wrap(lx, x._dev), wrap(l1, x._dev)
    elif type(d) is np.ndarray and d.dtype == np.float64:
        return wrap(c_math("log", d), x._dev), wrap(c_math("log1p", -d), x._dev)
    return x.log(), (-x).log1p()


@autocast_policy(cpu="fp32", cuda="fp32")
def binary_cross_entropy_with_logits(input: Tensor, target: Tensor, weight: Tensor | None = None,
                                     size_average: Any = None, reduce: Any = None, reduction: str = "mean",
                                     pos_weight: Tensor | None = None) -> Tensor:  # noqa: A002  # fmt: skip
    reduction = _legacy(size_average, reduce, reduction)
    if target.shape != input.shape:
        raise ValueError(f"Target size ({target.shape}) must be the same as input size ({input.shape})")
    if target._data.dtype.kind != "f" and input._data.dtype.kind == "f":
        raise RuntimeError(
            f"result type {input.dtype.scalar_name()} can't be cast to the desired output type "
            f"{target.dtype.scalar_name()}"
        )
    _not_differentiable("binary_cross_entropy_with_logits", weight=weight, pos_weight=pos_weight)
    x, t, w, pw = _detached(input, target, weight, pos_weight)
    from engine.nn.functional_more import logsigmoid

    with no_grad():
        # torch's formula: (1 - t) * x - log_sigmoid(x), log_sigmoid scaled by (pw - 1) * t + 1 first
        ls = logsigmoid(x)
        if pw is not None:
            ls = ls * ((pw - 1) * t + 1)
        loss = (1 - t) * x - ls
        if w is not None:
            loss = loss * w
        out, k = _reduced(loss, reduction)

    def backward(g: Tensor, x: Tensor, t: Tensor, w: Any, pw: Any) -> tuple:
        # torch's binary_cross_entropy_with_logits_backward and its _target_backward (FunctionsManual.cpp)
        gx = gt = None
        if x.requires_grad:
            if pw is None:
                gx = (x.sigmoid() - t) * g
            else:
                pt = pw * t
                gx = ((pt + 1 - t) * x.sigmoid() - pt) * g
        if t.requires_grad:
            gt = -x * g if pw is None else (logsigmoid(-x) - logsigmoid(x) * pw) * g
        return _weighted_mean(gx, w, reduction), _weighted_mean(gt, w, reduction)

    return _record(
        "BinaryCrossEntropyWithLogitsBackward0", out, (input, target), (input, target, weight, pos_weight), backward
    )


def _sizes(shape: tuple) -> str:
    return f"[{', '.join(map(str, shape))}]"


def _spatial_target_check(xs: tuple, ts: tuple, weight: Tensor | None) -> None:
    """torch's checks for (N, C, d1, ...) input: 4-d input goes straight to its nll_loss2d kernel, any other
    rank is first compared with the target and then viewed as 4-d (so the weight message is nll_loss2d's)."""
    if len(xs) == 4:
        if len(ts) != 3:
            raise RuntimeError(
                f"only batches of spatial targets supported (3D tensors) but got targets of dimension: {len(ts)}"
            )
    elif tuple(ts[1:]) != tuple(xs[2:]):
        raise RuntimeError(f"Expected target size {_sizes((xs[0], *xs[2:]))}, got {_sizes(ts)}")
    if weight is not None and weight.numel() != xs[1]:
        raise RuntimeError("weight tensor should be defined either for all or no classes")
    if len(xs) == 4 and (xs[0], xs[2], xs[3]) != tuple(ts):
        raise RuntimeError(f"size mismatch (got input: {_sizes(xs)} , target: {_sizes(ts)}")


@autocast_policy(cpu="fp32", cuda="fp32")
def nll_loss(input: Tensor, target: Tensor, weight: Tensor | None = None, size_average: Any = None,
             ignore_index: int = -100, reduce: Any = None, reduction: str = "mean") -> Tensor:  # noqa: A002  # fmt: skip
    reduction = _elementwise_mean(_legacy(size_average, reduce, reduction))
    if reduction not in ("mean", "sum", "none"):
        raise ValueError(f"{reduction} is not a valid value for reduction")
    # torch's shape checks (nll_loss_nd, then its 1d/2d or spatial kernel) come before its dtype check
    if input.dim() == 0:
        raise ValueError("Expected 1 or more dimensions (got 0)")
    n, nt = input.shape[0], target.shape[0] if target.dim() else None
    if input.dim() > 1 and nt is not None and n != nt:
        raise ValueError(f"Expected input batch_size ({n}) to match target batch_size ({nt}).")
    if input.dim() <= 2 and target.dim() > 1:
        raise RuntimeError("0D or 1D target tensor expected, multi-target not supported")
    if input.dim() > 2:
        _spatial_target_check(input.shape, target.shape, weight)
    _not_differentiable("nll_loss2d_forward" if input.dim() > 2 else "nll_loss_forward", weight=weight)
    if target._data.dtype not in (np.int64, np.uint8):
        raise RuntimeError(f"expected target dtype to be Long or Byte, but got {target.dtype.scalar_name()}")
    if not input.dtype.is_floating_point:  # (torch's kernels dispatch on floating types only)
        frame = "nll_loss2d_forward_out_frame" if input.dim() > 2 else "nll_loss_out_frame"
        raise NotImplementedError(f"\"{frame}\" not implemented for '{input.dtype.scalar_name()}'")
    one = input.dim() == 1
    if one and target.dim() == 1 and target.numel() != 1:
        raise ValueError(f"For 1D input, 1D target must have size 1, but got target size: {target.numel()}")
    x, t, w = _detached(input.unsqueeze(0) if one else input, target.reshape(1) if one else target, weight)
    if x.dim() < 1 or x.shape[0] != t.shape[0]:
        raise ValueError(f"Expected input batch_size ({x.shape[0]}) to match target batch_size ({t.shape[0]}).")
    n_cls = x.shape[1]
    if w is not None and input.dim() > 2:
        w = w.reshape(-1)  # (the spatial kernel reads any weight of C elements as a flat array)
    elif w is not None and (w.dim() != 1 or w.numel() != n_cls):
        raise RuntimeError(
            f"weight tensor should be defined either for all {n_cls} classes or no classes but got weight tensor "
            f"of shape: [{', '.join(map(str, w.shape))}]"
        )
    if w is not None and w.dtype is not x.dtype:  # (the kernel reads the weight as the input's type)
        raise RuntimeError(f"expected scalar type {x.dtype.scalar_name()} but found {w.dtype.scalar_name()}")
    t = t.long()
    keep = t != ignore_index
    safe = E.where(keep, t, 0)
    if safe.numel():
        lo, hi = index_range(safe._data)
        if lo < 0 or hi >= n_cls:
            raise IndexError(f"Target {lo if lo < 0 else hi} is out of bounds.")
    with no_grad():
        idx = safe.unsqueeze(1)
        wt = keep.to(x.dtype) if w is None else w[safe] * keep
        # the targets were checked above: take the values straight from the array (gather would check again,
        # and on a GPU each check is a read-back)
        xd = x._data
        picked = wrap(for_array(np.take_along_axis, xd)(xd, idx._data, axis=1), x._dev)
        loss = -picked.squeeze(1) * wt
        if reduction == "none":
            out = loss.squeeze(0) if one else loss
        elif x._dev.type != "cpu":  # (cuda's kernel reduces in its own order; no read-back for the cpu's)
            out = loss.sum() if reduction == "sum" else loss.sum() / wt.sum()
        else:  # torch's cpu cascade of partial sums in the input's dtype (engine/nn/nll_cascade.py)
            from engine.creation import tensor
            from engine.nn.nll_cascade import nll_reduce

            flat = lambda a: np.asarray(host(a._data)).reshape(-1)  # noqa: E731
            bf16 = xd.dtype.metadata is not None  # (held in float32, rounded after every operation)
            rnd = round_bits if bf16 else lambda a: a
            v = nll_reduce(flat(picked), None if w is None else flat(wt), flat(keep), reduction == "mean", rnd)
            out = tensor(np.asarray(v, np.float32) if bf16 else v, dtype=x.dtype, device=x._dev)

    @whole  # (one kernel in torch: bfloat16 rounds once)
    def backward(g: Tensor, x: Tensor, idx: Tensor, wt: Tensor) -> tuple:
        if reduction == "none":
            gi = g.unsqueeze(0) if one else g
        elif reduction == "sum":
            gi = g
        else:
            gi = g / wt.sum()
        # torch's kernel skips ignored targets: they get 0 even when every target is ignored (a 0/0 mean)
        vals = E.where(keep, -(gi * wt), 0.0).unsqueeze(1)
        gx = scatter_add_new(vals, 1, idx, x.shape)
        return ((gx.squeeze(0) if one else gx),)

    name = "NllLoss2DBackward0" if input.dim() > 2 else "NllLossBackward0"  # torch's 2d kernel takes N-d input
    # only the input is differentiable (torch has no derivative for target or weight): one next function
    return _record(name, out, (input,), (x, idx, wt), backward)


@autocast_policy(cpu="fp32")
def cross_entropy(input: Tensor, target: Tensor, weight: Tensor | None = None, size_average: Any = None,
                  ignore_index: int = -100, reduce: Any = None, reduction: str = "mean",
                  label_smoothing: float = 0.0) -> Tensor:  # noqa: A002  # fmt: skip
    tensor_arg("cross_entropy_loss", input)
    reduction = _legacy(size_average, reduce, reduction)
    if not 0.0 <= label_smoothing <= 1.0:
        raise RuntimeError(f"label_smoothing must be between 0.0 and 1.0. Got: {label_smoothing:g}")
    class_dim = 1 if input.dim() > 1 else 0
    n_classes = input.shape[class_dim]
    probs = target.shape == input.shape  # (same shapes: torch takes the target as class probabilities)
    if probs and target._data.dtype.kind != "f":
        raise RuntimeError(
            f"Expected floating point type for target with class probabilities, got {target.dtype.scalar_name()}"
        )
    if label_smoothing > 0 and probs:  # torch smooths probability targets first
        target = target * (1 - label_smoothing) + label_smoothing / n_classes
    logp = R.log_softmax(input, class_dim)
    if label_smoothing > 0 and not probs:
        return _smoothed_nll(logp, target, weight, ignore_index, reduction, label_smoothing, class_dim, n_classes)
    if probs:  # class probabilities: torch's cross_entropy_loss_prob_target, op for op
        prod = logp * target if weight is None else logp * target * weight.reshape(-1, *[1] * (input.dim() - 2))
        if reduction == "none":
            return -prod.sum(class_dim)
        if reduction == "sum":
            return -prod.sum()
        if reduction != "mean":
            raise ValueError(f"{reduction} is not a valid value for reduction")
        # divided by the number of class-probability vectors, an integer Scalar: DivBackward1
        total, n = -prod.sum(), input.numel() // n_classes if n_classes else 0
        with no_grad():
            out = total.detach() / n if n else total.detach().fill_(float("nan"))
        return _record("DivBackward1", out, (total,), (), lambda g: (g / n,))
    return nll_loss(logp, target, weight, ignore_index=ignore_index, reduction=reduction)


def _smoothed_nll(logp: Tensor, target: Tensor, weight: Any, ignore_index: int, reduction: str, ls: float,
                  class_dim: int, n_classes: int) -> Tensor:  # fmt: skip
    """torch's cross_entropy_loss_label_smoothing, op for op: (1 - ls) * nll + ls / C * the loss against a
    uniform target (so grad_fn and roundings are torch's)."""
    nll = nll_loss(logp, target, weight, ignore_index=ignore_index, reduction=reduction)
    ignore = target == ignore_index
    if weight is not None:
        shape = [1] * logp.dim()
        shape[class_dim] = n_classes
        smooth = -(logp * weight.view(*shape)).sum(class_dim)
    else:
        smooth = -logp.sum(class_dim)
    smooth.masked_fill_(ignore, 0.0)
    if reduction == "mean":
        if weight is not None:
            ret = smooth.sum() / weight.gather(0, target.masked_select(~ignore).flatten()).sum()
        else:
            ret = smooth.sum() / (~ignore).sum()
    elif reduction == "sum":
        ret = smooth.sum()
    else:
        ret = smooth
    return E.mul_scalar(nll, 1 - ls) + E.mul_scalar(ret, ls / n_classes)


def one_hot(tensor: Tensor, num_classes: int = -1) -> Tensor:
    import numpy as np

    from engine.tensor import wrap

    d = tensor._data
    if d.dtype != np.int64:
        raise RuntimeError("one_hot is only applicable to index tensor of type LongTensor.")
    if d.size:
        lo, hi = index_range(d)
        if lo < 0:
            raise RuntimeError("Class values must be non-negative.")
    elif num_classes < 0:
        raise RuntimeError("Can not infer total number of classes from empty tensor.")
    n = hi + 1 if num_classes < 0 else num_classes
    if d.size and hi >= n:
        raise RuntimeError("Class values must be smaller than num_classes.")
    return wrap(tensor._dev.xp.eye(n, dtype=np.int64)[d], tensor._dev)


def normalize(input: Tensor, p: float = 2.0, dim: int = 1, eps: float = 1e-12) -> Tensor:  # noqa: A002
    return input / R.norm(input, p, dim, keepdim=True).clamp_min(eps).expand_as(input)


def dropout(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:  # noqa: A002
    tensor_arg("dropout", input)
    if p < 0.0 or p > 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
    if not training or p == 0:
        return input
    from engine.creation import empty_like, zeros

    if p == 1:
        return input * zeros((), dtype=input.dtype, device=input.device)
    # torch's order: a bernoulli_(1 - p) mask scaled by 1 / (1 - p), then one multiply (MulBackward0)
    with no_grad():
        noise = empty_like(input).bernoulli_(1 - p)
        noise.div_(1 - p)
    return input.mul_(noise) if inplace else input * noise


from engine.nn.functional_more import FUNCTIONS as _MORE  # noqa: E402

globals().update(_MORE)
from engine.ops.util import numpy_names as _numpy_names  # noqa: E402

# (torch's C builtins among them take numpy's axis=/keepdims= as its parser does: F.cosine_similarity(a, b, axis=0))
cosine_similarity = _numpy_names(cosine_similarity, "cosine_similarity")  # noqa: F821 - bound by the update above
pairwise_distance = _numpy_names(pairwise_distance, "pairwise_distance")  # noqa: F821


def torch_layer_norm(input: Tensor, normalized_shape: Any, weight: Tensor | None = None, bias: Tensor | None = None,
                     eps: float = 1e-5, cudnn_enable: bool = True) -> Tensor:  # noqa: A002  # fmt: skip
    """torch.layer_norm (the top-level one takes a cudnn flag too)."""
    return _MORE["layer_norm"](input, normalized_shape, weight, bias, eps)


def torch_dropout(input: Tensor, p: float, train: bool) -> Tensor:  # noqa: A002
    """torch.dropout: train is required."""
    return dropout(input, p, train)


# modules whose FUNCTIONS add more of torch.nn.functional (convolution, pooling, normalisation, padding, the
# multi-class margin losses, ctc), loaded on first use
_MODULES = (
    "engine.nn.functional_conv", "engine.nn.functional_pool", "engine.nn.functional_norm", "engine.nn.attention",
    "engine.nn.functional_margin", "engine.nn.bilinear", "engine.nn.pdist", "engine.nn.channel_shuffle",
    "engine.nn.embedding_bag", "engine.nn.ctc_loss", "engine.nn.grid_sample", "engine.nn.random_activations",
    "engine.nn.functional_fractional",
)  # fmt: skip


def __getattr__(name: str) -> object:
    import importlib

    if name.startswith("__"):  # (import machinery asks for __path__ and the like: not a torch name)
        raise AttributeError(name)
    for where in _MODULES:
        try:
            module = importlib.import_module(where)
        except ModuleNotFoundError as e:
            if e.name != where:  # (a module that is there but fails to import is a bug to see)
                raise
            continue
        fn = module.FUNCTIONS.get(name)
        if fn is not None:
            globals()[name] = fn
            return fn
    from engine.not_covered import not_covered

    raise not_covered("torch.nn.functional", name)


# ---- torch's errors for raw data passed in (engine/nn/arg_checks.py) -------------------------------------------
def _install_arg_checks() -> None:
    from engine.nn import arg_checks

    g = globals()
    for name in ("silu", "softplus"):
        g[name] = arg_checks.parser(g[name], name)
    g["nll_loss"] = arg_checks.parser(g["nll_loss"], "nll_loss_nd", ("input", "target"))
    g["cross_entropy"] = arg_checks.parser(g["cross_entropy"], "cross_entropy_loss", ("input", "target"))
    for name in ("softmax", "log_softmax"):
        g[name] = arg_checks.attribute(g[name], name)
    for name in ("mse_loss", "l1_loss", "binary_cross_entropy", "binary_cross_entropy_with_logits"):
        g[name] = arg_checks.attribute(g[name], "size", (1, 0))  # (target.size() is read first)


_install_arg_checks()
