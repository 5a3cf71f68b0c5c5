"""torch.func's reverse-mode transforms: vjp, grad_and_value, grad and jacrev, following
torch/_functorch/eager_transforms.py step for step (the order of its checks decides which error a bad call raises).

Each differentiates with respect to its own stand-ins for the inputs (levels.Level), so inputs need not require
grad, results carry no graph unless they depend on something the caller can differentiate (an outer transform's
input, a tensor that requires grad), and grad(grad(f)) gives second derivatives. The backward passes keep a graph
only where a result can depend on something outside the level, since torch would unwrap the rest."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from engine.autograd_functional import _autograd_grad
from engine.creation import zeros_like
from engine.func.argnums import Argnums, replace_args, slice_argnums
from engine.func.basis import chunked_standard_basis
from engine.func.levels import Level
from engine.func.pytree import tree_flatten, tree_leaves, tree_map, tree_unflatten, treespec_pprint
from engine.grad_mode import enable_grad, is_grad_enabled
from engine.ops.index import cat, split
from engine.tensor import Tensor

__all__ = ["vjp", "grad", "grad_and_value", "jacrev"]


def _grads(outputs: Any, inputs: list, grad_outputs: Any, retain_graph: bool, create_graph: bool) -> tuple:
    """Gradients of outputs at inputs, zeros (not None) for an input they do not depend on."""
    got = _autograd_grad(tuple(outputs), tuple(inputs), grad_outputs, create_graph, retain_graph)
    return tuple(zeros_like(inp) if g is None else g for g, inp in zip(got, inputs))


def non_empty_tensor_output(output: list, api: str) -> None:
    if (len(output) == 1 and output[0] is None) or len(output) < 1:
        raise RuntimeError(f"{api}: Expected f to be a function that has non-empty output (got output = {output})")
    for o in output:
        if not isinstance(o, Tensor):
            raise RuntimeError(f"{api}: expected f(*primals) to return only tensors, got unsupported type {type(o)}")


def split_aux(output: Any, api: str) -> tuple[Any, Any]:
    if not (isinstance(output, tuple) and len(output) == 2):
        raise RuntimeError(f"{api}: output of function f should be a tuple: (output, aux) if has_aux is True")
    return output


def differentiable_args(level: Level, args: tuple, argnums: Argnums) -> tuple[tuple, Any]:
    """(args with the ones argnums picks replaced by their stand-ins, those stand-ins as argnums picks them)."""
    picked = slice_argnums(args, argnums, as_tuple=False)
    inner = tree_map(level.differentiable, picked)
    return replace_args(args, inner if isinstance(argnums, tuple) else (inner,), argnums), inner


def vjp(func: Callable, *primals: Any, has_aux: bool = False) -> tuple:
    """(func(*primals), vjp_fn[, aux]): vjp_fn(cotangents) is the vector-Jacobian product at primals, shaped as
    the primals; it may be called again (retain_graph=True by default)."""
    return _vjp_with_argnums(func, *primals, has_aux=has_aux)


def _vjp_with_argnums(func: Callable, *primals: Any, argnums: Argnums | None = None, has_aux: bool = False) -> tuple:
    level = Level()
    with enable_grad():
        if argnums is None:
            diff_primals = primals = tree_map(level.differentiable, primals)
        else:
            primals, diff_primals = differentiable_args(level, primals, argnums)
        primals_out = func(*primals)
        aux = None
        if has_aux:
            primals_out, aux = split_aux(primals_out, "vjp(f, *primals)")
            aux = level.unwrap_tree(aux)
        flat_out, out_spec = tree_flatten(primals_out)
        non_empty_tensor_output(flat_out, "vjp(f, *primals)")
        flat_diff, primals_spec = tree_flatten(diff_primals)
        results = tree_map(level.unwrap, primals_out)
        for out in flat_out:
            if not out.is_floating_point():
                raise RuntimeError(
                    f"vjp(f, ...): All outputs of f must be floating-point or complex Tensors, got Tensor with dtype "
                    f"{out.dtype}"
                )
    # Whether a gradient can depend on something outside the level. If not, no graph is built for it (it would be
    # unwrapped away); if so, the caller's graph, which here is the same graph, is never freed.
    outside = level.reaches_outside(flat_out)

    def wrapper(cotangents: Any, retain_graph: bool = True, create_graph: bool | None = None) -> Any:
        if create_graph is None:
            create_graph = is_grad_enabled()
        flat_cot, cot_spec = tree_flatten(cotangents)
        if out_spec != cot_spec:
            raise RuntimeError(
                "Expected pytree structure of cotangents to be the same as pytree structure of outputs to the "
                f"function. cotangents: {treespec_pprint(cot_spec)}, primal output: {treespec_pprint(out_spec)}"
            )
        if create_graph:
            create_graph = outside or any(isinstance(c, Tensor) and c.requires_grad for c in flat_cot)
        result = _grads(flat_out, flat_diff, tuple(flat_cot), retain_graph or outside, create_graph)
        return tree_unflatten([level.unwrap(g) for g in result], primals_spec)

    return (results, wrapper, aux) if has_aux else (results, wrapper)


def _grad_and_value(func: Callable, argnums: Argnums, has_aux: bool, args: tuple, kwargs: dict) -> tuple:
    level = Level()
    with enable_grad():
        args, diff_args = differentiable_args(level, args, argnums)
        output = func(*args, **kwargs)
        aux = None
        if has_aux:
            output, aux = split_aux(output, "grad_and_value(f)(*args)")
        if not isinstance(output, Tensor):
            raise RuntimeError(f"grad_and_value(f)(*args): Expected f(*args) to return a Tensor, got {type(output)}")
        if output.dim() != 0:
            raise RuntimeError(
                "grad_and_value(f)(*args): Expected f(*args) to return a scalar Tensor, got tensor with "
                f"{output.dim()} dims. Maybe you wanted to use the vjp or jacrev APIs instead?"
            )
        flat_diff, spec = tree_flatten(diff_args)
        # A gradient that cannot depend on anything outside the level would be unwrapped to a plain tensor, so it
        # needs no graph. The forward graph is kept: torch frees only this level's graph, while here the caller's
        # (the value's or aux's history, an outer transform's) is the same graph.
        grads = _grads((output,), flat_diff, None, True, level.reaches_outside((output,)))
        grad_input = tree_unflatten([level.unwrap(g) for g in grads], spec)
        output = level.unwrap(output)
        if has_aux:
            return grad_input, (output, level.unwrap_tree(aux))
        return grad_input, output


def grad_and_value(func: Callable, argnums: Argnums = 0, has_aux: bool = False) -> Callable:
    """A function returning (the gradient of func's scalar output at the argnums arguments, that output); with
    has_aux, func returns (output, aux) and the value is (output, aux)."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> tuple:
        return _grad_and_value(func, argnums, has_aux, args, kwargs)

    return wrapper


def grad(func: Callable, argnums: Argnums = 0, has_aux: bool = False) -> Callable:
    """A function returning the gradient of func's scalar output at the argnums arguments (a tuple of them for a
    tuple argnums); with has_aux, func returns (output, aux) and the result is (gradient, aux)."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        grads, value = _grad_and_value(func, argnums, has_aux, args, kwargs)
        return (grads, value[1]) if has_aux else grads

    return wrapper


def jacrev(func: Callable, argnums: Argnums = 0, *, has_aux: bool = False, chunk_size: int | None = None) -> Callable:
    """A function returning the Jacobian of func at the argnums arguments, one vjp per output element (vmapped
    over the rows of the identity, chunk_size rows at a time): for output i and input j a tensor of shape
    output_i.shape + input_j.shape, nested as the outputs and then as the argnums."""
    if not (chunk_size is None or chunk_size > 0):
        raise ValueError("jacrev: `chunk_size` should be greater than 0.")
    from engine.func.batching import vmap

    @functools.wraps(func)
    def wrapper_fn(*args: Any) -> Any:
        vjp_out = _vjp_with_argnums(func, *args, argnums=argnums, has_aux=has_aux)
        output, vjp_fn = vjp_out[:2]
        flat_output, output_spec = tree_flatten(output)
        numels = tuple(out.numel() for out in flat_output)
        flat_primals, primals_spec = tree_flatten(slice_argnums(args, argnums))
        chunks = []
        for flat_basis in chunked_standard_basis(flat_output, numels, chunk_size=chunk_size):
            if chunk_size == 1:
                basis = tree_unflatten([t.squeeze(0) for t in flat_basis], output_spec)
                chunks.append([t.unsqueeze(0) for t in tree_leaves(vjp_fn(basis))])
            else:
                chunks.append(tree_leaves(vmap(vjp_fn)(tree_unflatten(flat_basis, output_spec))))
        stacked = chunks[0] if len(chunks) == 1 else [cat([c[i] for c in chunks], 0) for i in range(len(flat_primals))]
        by_input = [
            tuple(s.view(out.shape + primal.shape) for s, out in zip(split(r, list(numels), dim=0), flat_output))
            for r, primal in zip(stacked, flat_primals)
        ]
        by_output = tuple(tree_unflatten(list(blocks), primals_spec) for blocks in zip(*by_input))
        if isinstance(argnums, int):
            by_output = tuple(blocks[0] for blocks in by_output)
        result = tree_unflatten(list(by_output), output_spec)
        return (result, vjp_out[2]) if has_aux else result

    return wrapper_fn
