"""torch.autograd.forward_ad: dual tensors (a primal and its tangent) inside a dual_level, and the Jacobian-vector
products that come out of a function of them (torch/autograd/forward_ad.py's API, messages and namedtuple).

The engine has no per-op forward derivatives, so tangents are computed lazily, where they are read (unpack_dual,
printing), by the double-backward trick torch.func.jvp uses here (engine/func/forward.py): the graph a dual tensor
records in reverse mode, differentiated once with grad_outputs that require grad and once more with respect to
them, seeded with the tangents, gives J v. The ops themselves are untouched (no check on their hot path).

A dual tensor made from a primal that does not require grad is a fresh leaf that records a graph without torch
showing one: its AccumulateGrad is marked hidden, and printing leaves out grad_fn and requires_grad for a tensor
whose graph reaches only hidden leaves (format_tensor asks `visible`). Where torch's primal requires grad, the dual
tensor is a view of it (ViewBackward0, as in torch), and the graph is the caller's own.

Such a tensor behaves as torch's, a leaf that does not require grad: backward() and autograd.grad() refuse its graph
(_check_backward), requires_grad_() makes it a leaf that requires grad (set_requires_grad), and while a level is
entered backward keeps the graphs it runs through, which tangents are read from later.

Known differences from torch: `.requires_grad`, `.grad_fn` and `.is_leaf` of a dual tensor or a result of one whose
primal did not require grad, read in Python code, say True, a node and False where torch says False, None and True
(a tsr script reads torch's through shown_attribute; the engine's own code needs the graph); an op torch has no
forward formula for raises NotImplementedError when its tangent is read (unpack_dual, printing) rather than when it
runs (NO_FORWARD lists the ones known); ops run under no_grad() record nothing, so their results carry no tangent
(torch's forward AD runs there too); a tangent's own graph is the double backward's (a sum's tangent shows
ViewBackward0 where torch shows SumBackward0), and autograd.grad()'s results inside a level carry no tangent.
"""

from __future__ import annotations

import weakref
from typing import Any, NamedTuple

from engine import autograd_function
from engine.autograd import FORWARD_AD as BACKWARD_HOOK
from engine.autograd import AccumulateGrad, accumulator
from engine.grad_mode import enable_grad, no_grad
from engine.naming import TorchNamed
from engine.ops.shape import _record
from engine.ops.util import node_class
from engine.tensor import FORWARD_AD as NUMPY_HOOK
from engine.tensor import Tensor, view_of, wrap

__all__ = ["UnpackedDualTensor", "enter_dual_level", "exit_dual_level", "make_dual", "unpack_dual", "dual_level"]

_current_level = -1
# this level's dual tensors, in the order made: (dual tensor, its tangent, the tensor a tangent is differentiated
# with respect to, that tensor's node, the dual tensor's grad_fn then). A dual tensor made from a primal that does
# not require grad is a non-leaf over a hidden leaf (so that in-place ops on it are recorded as on any computed
# tensor), differentiated at the leaf.
_duals: list[tuple[Tensor, Tensor, Tensor, Any, Any]] = []
# whether a hidden leaf's node is alive (printing walks graphs only then), and how many are
_ANY_HIDDEN = [False]
_LIVE_HIDDEN = [0]

# backward nodes of ops torch has no forward-mode formula for -> the op name torch's error gives
NO_FORWARD = {
    "GridSampler2DBackward0": "grid_sampler_2d",
    "GridSampler3DBackward0": "grid_sampler_3d",
    "CtcLossBackward0": "_ctc_loss",
    "EmbeddingBagBackward0": "_embedding_bag",
    "CdistBackward0": "_cdist_forward",
    "MultiMarginLossBackward0": "multi_margin_loss",
    "MultilabelMarginLossBackward0": "multilabel_margin_loss_forward",
    "Unique2Backward0": "_unique2",
    "IndexReduceBackward0": "index_reduce",
    "MkldnnRnnLayerBackward0": "mkldnn_rnn_layer",
    "ScaledDotProductFlashAttentionForCpuBackward0": "_scaled_dot_product_flash_attention_for_cpu",
}

_NO_FORWARD_MSG = (
    "Trying to use forward AD with {} that does not support it because it has not been implemented yet.\n"
    "Please file an issue to PyTorch at https://github.com/pytorch/pytorch/issues/new?template=feature-request.yml "
    "so that we can prioritize its implementation or submit a PR adding the implementation to derivatives.yaml"
)


class _Unpacked(NamedTuple):
    primal: Tensor
    tangent: Tensor | None


class UnpackedDualTensor(_Unpacked, metaclass=TorchNamed):
    r"""Namedtuple returned by :func:`unpack_dual` containing the primal and tangent components of the dual tensor."""

    __slots__ = ()
    _torch_name = "torch.autograd.forward_ad.UnpackedDualTensor"


def enter_dual_level() -> int:
    """Enter a new forward grad level (only one at a time, as in torch)."""
    global _current_level
    if _current_level >= 0:
        raise RuntimeError("Nested forward mode AD is not supported at the moment")
    _current_level = 0
    from engine import printing

    printing.FORWARD_AD[0] = _printed
    autograd_function.FORWARD_AD[0] = _function_jvp
    BACKWARD_HOOK[0] = _check_backward
    return _current_level


def exit_dual_level(*, level: int | None = None) -> None:
    """Exit the forward grad level: every tangent of it is deleted."""
    global _current_level
    if level is None:
        level = _current_level
    if level != _current_level:
        raise RuntimeError(
            "Trying to exit a forward AD level that was not the last one that was created. This is not supported."
        )
    for d, _, src, _, _ in _duals:
        if src is not d and d is not None:
            d.grad_fn = None  # (the dual tensor is its plain primal again)
            d._rg = False
    _duals.clear()
    autograd_function.FORWARD_AD[0] = None
    _current_level = level - 1
    _maybe_unhook()


class dual_level:  # noqa: N801 - torch's name
    """Context manager for forward AD: make and unpack dual tensors inside it."""

    def __enter__(self) -> int:
        return enter_dual_level()

    def __exit__(self, *exc: Any) -> None:
        exit_dual_level()

    def __call__(self, fn: Any) -> Any:
        import functools

        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with dual_level():
                return fn(*args, **kwargs)

        return wrapper


def make_dual(tensor: Tensor, tangent: Tensor, *, level: int | None = None) -> Tensor:
    """A new tensor aliased to `tensor` carrying `tangent` (as-is when laid out as `tensor`, else a copy)."""
    if level is None:
        level = _current_level
    if level < 0:
        raise RuntimeError(
            "Trying to create a dual Tensor for forward AD but no level exists, make sure to enter_dual_level() first."
        )
    if not (tensor.is_floating_point() or tensor.is_complex()):
        raise ValueError(f"Expected primal to be floating point or complex, but got: {tensor.dtype}")
    if not (tangent.is_floating_point() or tangent.is_complex()):
        raise ValueError(f"Expected tangent to be floating point or complex, but got: {tangent.dtype}")
    if tensor.shape != tangent.shape:
        raise RuntimeError(
            "Trying to set a forward gradient that has a different size than that of the original Tensor, this is "
            f"not supported. Tensor is of size {list(tensor.shape)} while the given forward gradient is of size "
            f"{list(tangent.shape)}."
        )
    if tangent.stride() != tensor.stride():
        with no_grad():
            tangent = tensor.new_empty(tensor.shape, dtype=tangent.dtype).copy_(tangent)
    if tensor.requires_grad:
        with enable_grad():
            dual = tensor.view_as(tensor)
        src = dual
    else:
        src = tensor.detach()
        src._rg = True
        _hide(accumulator(src))
        with enable_grad():  # (the same memory as tensor's, as torch's dual tensor is an alias of it)
            dual = _record(wrap(tensor._data, tensor._dev), _HiddenDual, src, ())
    _duals.append((dual, tangent, src, _edge(src), dual.grad_fn))
    return dual


_HiddenDual = node_class("AliasBackward0", lambda self, g: (g,))


def _edge(t: Tensor) -> Any:
    return t.grad_fn if t.grad_fn is not None else t._accum


def _hide(node: Any) -> None:
    """node (a hidden leaf's AccumulateGrad) marked: while any such node lives, printing, backward() and numpy() ask
    whether a graph is one torch has (once the last is gone, they are back to their plain paths)."""
    node._fwd_hidden = True
    _LIVE_HIDDEN[0] += 1
    weakref.finalize(node, _hidden_gone)
    _ANY_HIDDEN[0] = True
    BACKWARD_HOOK[0] = _check_backward
    NUMPY_HOOK[0] = _hidden


def _hidden_gone() -> None:
    _LIVE_HIDDEN[0] -= 1
    _maybe_unhook()


def _maybe_unhook() -> None:
    if _LIVE_HIDDEN[0] == 0 and _current_level < 0:
        _ANY_HIDDEN[0] = False
        BACKWARD_HOOK[0] = NUMPY_HOOK[0] = None
        from engine import printing

        printing.FORWARD_AD[0] = None


def _hidden(t: Tensor) -> bool:
    return not visible(t)


#: what torch reads for a tensor whose graph is a dual tensor's only (torch's shows none)
_SHOWN_PLAIN = {"requires_grad": False, "grad_fn": None, "is_leaf": True}


def shown_attribute(t: Any, name: str, value: Any) -> Any:
    """value, t's `requires_grad`, `grad_fn` or `is_leaf` as the engine has it, as torch would show it: a dual
    tensor made from a primal that does not require grad, and a result of ops on such tensors alone, require no
    grad in torch (their graph is the engine's way to their tangents). For a script's reads (tcli); the engine's
    own code keeps reading the graph it records."""
    if not _ANY_HIDDEN[0] or not isinstance(t, Tensor) or not t._rg or visible(t):
        return value
    return _SHOWN_PLAIN[name]


def set_requires_grad(t: Tensor, value: bool) -> Tensor:
    """t.requires_grad_(value) (or the setter) of a tensor whose graph torch does not have: torch's is a leaf that
    does not require grad, so False changes nothing and True makes it a leaf that requires grad, its tangent kept
    (tensors computed from it before still reach the dual tensor's hidden leaf, and their tangents)."""
    if not value:
        return t
    tan = tangent_of(t)
    for i, entry in enumerate(_duals):
        if entry[0] is t:  # (no more this tensor's: exit_dual_level leaves the leaf it is now alone)
            _duals[i] = (None, *entry[1:])
    t.grad_fn = None
    if t._accum is not None and not isinstance(t._accum, AccumulateGrad):
        t._accum = None
    if tan is not None:
        _duals.append((t, tan, t, accumulator(t), None))
    return t


def _check_backward(outputs: tuple, inputs: tuple = ()) -> bool:
    """backward() or autograd.grad() of a result whose graph torch does not have (it reaches only dual tensors'
    hidden leaves), or grad() with respect to such a tensor (the engine's own passes call grad_of). True
    while a dual level has dual tensors: the pass keeps the graph, which the tangents are read from later (torch
    computed them as the ops ran)."""
    for i, out in enumerate(outputs):
        if isinstance(out, Tensor) and out._rg and not visible(out):
            raise RuntimeError(f"element {i} of tensors does not require grad and does not have a grad_fn")
    for t in inputs:
        if isinstance(t, Tensor) and t._rg and not visible(t):
            raise RuntimeError("One of the differentiated Tensors does not require grad")
    return _current_level >= 0 and bool(_duals)


def unpack_dual(tensor: Any, *, level: int | None = None) -> UnpackedDualTensor:
    """(primal, tangent) of a dual tensor: tangent is None for a tensor that carries none at this level."""
    if level is None:
        level = _current_level
    if level < 0 or not isinstance(tensor, Tensor):
        return UnpackedDualTensor(tensor, None)
    t = tangent_of(tensor)
    if t is None:
        return UnpackedDualTensor(tensor, None)
    return UnpackedDualTensor(_plain(tensor), t)


def _plain(t: Tensor) -> Tensor:
    """t's primal: detached where torch shows no graph, else an alias (torch's Identity node) whose node ends the
    tangent's search (torch's primal is not a dual tensor of the level, though it keeps its graph)."""
    if not visible(t):
        return t.detach()
    with enable_grad():
        out = _record(view_of(t._data.view(), t), _Identity, t, ())
    out.grad_fn._fwd_barrier = True
    return out


_Identity = node_class("Identity", lambda self, g: (g,))


# ---- tangents ---------------------------------------------------------------------------------------------------


def _graph_nodes(t: Tensor, barriers: bool = False) -> list:
    """The nodes t's graph reaches (t's own AccumulateGrad for a leaf); with barriers, not past the aliases
    unpack_dual returns."""
    start = t.grad_fn if t.grad_fn is not None else accumulator(t)
    seen: set = set()
    out = []
    stack = [start]
    while stack:
        node = stack.pop()
        if node is None or node in seen:
            continue
        seen.add(node)
        out.append(node)
        if not isinstance(node, AccumulateGrad) and not (barriers and getattr(node, "_fwd_barrier", False)):
            stack.extend(node._next)
    return out


def visible(t: Tensor) -> bool:
    """Whether torch would show t's graph: it requires grad and reaches a leaf that is not a hidden dual leaf."""
    if not t._rg:
        return False
    if not _ANY_HIDDEN[0]:
        return True
    for node in _graph_nodes(t):
        if isinstance(node, AccumulateGrad) and not getattr(node, "_fwd_hidden", False):
            return True
    return False


def tangent_of(t: Tensor) -> Tensor | None:
    """t's tangent at the current level, or None when t does not depend on a dual tensor of it."""
    if _current_level < 0 or not t._rg or not _duals:
        return None
    for d, tan, _, _, fn in _duals:
        if d is t and d.grad_fn is fn:  # (not since changed in place)
            return tan
    nodes = set(_graph_nodes(t, barriers=True))
    for node in nodes:
        name = type(node).__name__
        if name in NO_FORWARD:
            raise NotImplementedError(_NO_FORWARD_MSG.format(NO_FORWARD[name]))
    used = [(src, tan) for _, tan, src, node, _ in _duals if node in nodes]
    if not used:
        return None
    if not (t.is_floating_point() or t.is_complex()):
        return None
    from engine.autograd_functional import _autograd_grad, _linearized
    from engine.creation import zeros_like
    from engine.dtypes import promote_types

    with enable_grad():
        dummies, grads = _linearized((t,), tuple(d for d, _ in used))
        kept = [(g, tan) for g, (_, tan) in zip(grads, used) if g is not None]
        jv = (None,)
        if kept:
            needs_graph = any(tan.requires_grad for _, tan in kept) or visible(t)
            jv = _autograd_grad(
                tuple(g for g, _ in kept), dummies, tuple(tan for _, tan in kept), needs_graph, needs_graph
            )
    out = jv[0]
    if out is None:
        return zeros_like(t).detach()
    wanted = t.dtype
    for _, tan in used:  # (a tangent of another dtype than its primal's carries it through, as torch's formulas do)
        wanted = promote_types(wanted, tan.dtype)
    if wanted is not out.dtype:
        out = out.to(wanted)
    if not (out.requires_grad and visible(out)):
        return out.detach()
    if out.grad_fn is not None:
        out.grad_fn._fwd_barrier = True  # (the tangent keeps its graph, as torch's formulas' results do)
    return out


def _printed(t: Tensor) -> tuple[bool, Tensor | None]:
    """For printing: (whether to show grad_fn / requires_grad, the tangent to show or None)."""
    if not t._rg:
        return False, None
    return visible(t), tangent_of(t)


def _function_jvp(cls: type, ctx: Any, args: tuple, output: Any) -> None:
    """A custom Function's outputs as dual tensors: the tangents its jvp(ctx, *input tangents) returns (zeros for
    a tensor input without one, as torch materializes them); the search for a later tangent stops at its node."""
    tangents = [tangent_of(a) if isinstance(a, Tensor) else None for a in args]
    if all(t is None for t in tangents):
        return
    from engine.creation import zeros_like

    tangents = [zeros_like(a) if t is None and isinstance(a, Tensor) else t for a, t in zip(args, tangents)]
    with enable_grad():
        found = cls.jvp(ctx, *tangents)
    outs = output if isinstance(output, tuple) else (output,)
    found = found if isinstance(found, tuple) else (found,)
    for o, tan in zip(outs, found):
        if isinstance(o, Tensor) and isinstance(tan, Tensor) and o.grad_fn is ctx:
            if tan.requires_grad and visible(tan):
                if tan.grad_fn is not None:
                    tan.grad_fn._fwd_barrier = True
            elif tan.requires_grad:
                tan = tan.detach()
            _duals.append((o, tan, o, ctx, ctx))
    ctx._fwd_barrier = True
