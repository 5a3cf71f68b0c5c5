"""A transform's level: torch.func's grad, vjp and jvp differentiate with respect to their own copies of the inputs,
and what they return holds no graph back to those copies (torch unwraps it from the level), only to what the caller
could differentiate already.

torch gives every transform its own autograd level. The engine has one graph, so a level is the set of fresh
leaves the transform made: an input that does not require grad becomes a new leaf that does (sharing its data);
one that requires grad (an input of an outer transform, or of the caller's own graph) becomes an alias of itself
(a view whose backward passes the gradient through), so the outer graph runs through it. A result whose graph
reaches only this level's leaves is detached on the way out; one that reaches any other leaf keeps its graph, as
torch's keeps its outer-level history.
"""

from __future__ import annotations

from typing import Any

from engine.autograd import AccumulateGrad, accumulator
from engine.func.pytree import tree_map
from engine.grad_mode import is_grad_enabled
from engine.ops.shape import alias
from engine.tensor import Tensor


class Level:
    __slots__ = ("leaves", "inputs", "outer_grad")

    def __init__(self) -> None:
        self.leaves: set = set()  # the AccumulateGrad nodes of the leaves made here
        self.inputs: dict[int, tuple[Tensor, Any]] = {}  # id(stand-in) -> (stand-in, the caller's tensor)
        # grad mode is per level in torch: under the caller's no_grad nothing outside records the transform's work
        self.outer_grad = is_grad_enabled()

    def differentiable(self, x: Any) -> Tensor:
        """x's stand-in inside the transform: a tensor that requires grad and shares x's data."""
        if not isinstance(x, Tensor):
            raise ValueError(f"Thing passed to transform API must be Tensor, got {type(x)}")
        if x.requires_grad:
            inner = alias(x)
        else:
            inner = x.detach().requires_grad_()
            self.leaves.add(accumulator(inner))
        self.inputs[id(inner)] = (inner, x)
        return inner

    def new_leaf(self, t: Tensor) -> Tensor:
        """t (a tensor of this transform's own, such as jvp's dummy cotangents) made a leaf of this level."""
        t.requires_grad_()
        self.leaves.add(accumulator(t))
        return t

    def reaches_outside(self, tensors: Any) -> bool:
        """Whether a graph of these tensors leads to a leaf this level did not make (under a caller's no_grad,
        never: the caller records none of it)."""
        if not self.outer_grad:
            return False
        seen: set = set()
        stack = [t.grad_fn if t.grad_fn is not None else accumulator(t) for t in tensors if t.requires_grad]
        while stack:
            node = stack.pop()
            if node is None or node in seen:
                continue
            seen.add(node)
            if isinstance(node, AccumulateGrad):
                if node not in self.leaves:
                    return True
            else:
                stack.extend(node._next)
        return False

    def unwrap(self, t: Tensor) -> Tensor:
        """t as the caller sees it: the caller's own tensor for an input's stand-in, else t without the part of
        its graph that lies inside this level (the whole graph, detached, when nothing else is reached)."""
        entry = self.inputs.get(id(t))
        if entry is not None and entry[0] is t:
            return entry[1]
        if t.requires_grad and not self.reaches_outside((t,)):
            return t.detach()
        return t

    def unwrap_tree(self, tree: Any) -> Any:
        """unwrap over the leaves of a pytree of tensors (has_aux's aux), with torch's error for other leaves."""

        def one(x: Any) -> Any:
            if not isinstance(x, Tensor):
                raise RuntimeError(f"Expected tensors, got unsupported type {type(x)}")
            return self.unwrap(x)

        return tree_map(one, tree)
