"""torch.func's forward-mode transforms: jvp, jacfwd, hessian and linearize, with torch's checks and result layout
(torch/_functorch/eager_transforms.py).

The engine has no forward-mode AD, so a Jacobian-vector product is computed in reverse mode by the double-backward
trick (autograd_functional's, which torch.autograd.functional.jvp uses too): the gradient of the outputs at the
inputs, taken for grad_outputs u that require grad, is linear in u; differentiating it with respect to u, seeded
with the tangents, gives J v. The values are forward mode's; an output that does not depend on the inputs gets a
zero tangent (strict=True refuses it), as in torch."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from engine.autograd_functional import _autograd_grad, _linearized
from engine.creation import zeros_like
from engine.func.argnums import Argnums, replace_args, slice_argnums
from engine.func.basis import chunked_standard_basis
from engine.func.levels import Level
from engine.func.pytree import tree_flatten, tree_unflatten
from engine.func.reverse import jacrev, non_empty_tensor_output, split_aux
from engine.grad_mode import enable_grad
from engine.ops.index import split
from engine.ops.shape import alias
from engine.tensor import Tensor

__all__ = ["jvp", "jacfwd", "hessian", "linearize"]

_JVP = "jvp(f, primals, tangents)"


def _tensors(elts: list, argname: str) -> None:
    if not elts:
        raise RuntimeError(f"{_JVP}: Expected {argname} to contain at least one Tensor.")
    for e in elts:
        if not isinstance(e, Tensor):
            raise RuntimeError(f"{_JVP}: Expected {argname} to only contain Tensors, got {type(e)}")


def _check_dual(primal: Tensor, tangent: Tensor) -> None:
    """forward_ad.make_dual's checks of a (primal, tangent) pair."""
    if not primal.is_floating_point():
        raise ValueError(f"Expected primal to be floating point or complex, but got: {primal.dtype}")
    if not tangent.is_floating_point():
        raise ValueError(f"Expected tangent to be floating point or complex, but got: {tangent.dtype}")
    if primal.shape != tangent.shape:
        raise RuntimeError(
            "Trying to set a forward gradient that has a different size than that of the original Tensor, this is "
            f"not supported. Tensor is of size {list(primal.shape)} while the given forward gradient is of size "
            f"{list(tangent.shape)}."
        )


def _not_in_dual_level() -> None:
    """torch's jvp enters a forward-AD level of its own: inside torch.autograd.forward_ad's, its error."""
    from engine import forward_ad

    if forward_ad._current_level >= 0:
        raise RuntimeError("Nested forward mode AD is not supported at the moment")


def jvp(func: Callable, primals: Any, tangents: Any, *, strict: bool = False, has_aux: bool = False) -> tuple:
    """(func(*primals), the Jacobian-vector product with tangents[, aux]), shaped as func's output."""
    return jvp_with_argnums(func, primals, tangents, None, strict=strict, has_aux=has_aux)


def jvp_with_argnums(
    func: Callable, primals: Any, tangents: Any, argnums: Argnums | None, *, strict: bool = False, has_aux: bool
) -> tuple:
    if not isinstance(primals, tuple):
        raise RuntimeError(f"{_JVP}: Expected primals to be a tuple. E.g. it should be valid to call f(*primals).")
    diff_args = primals if argnums is None else slice_argnums(primals, argnums)
    flat_primals, primals_spec = tree_flatten(diff_args)
    flat_tangents, tangents_spec = tree_flatten(tangents)
    if primals_spec != tangents_spec:
        raise RuntimeError(
            f"{_JVP}: Expected primals and tangents to have the same python structure. For example, if primals is "
            f"a tuple of 3 tensors, tangents also must be. Got primals with structure {primals_spec} and tangents "
            f"with structure {tangents_spec}"
        )
    _tensors(flat_primals, "primals")
    _tensors(flat_tangents, "tangents")
    _not_in_dual_level()
    level = Level()
    with enable_grad():
        for p, t in zip(flat_primals, flat_tangents):
            _check_dual(p, t)
        inner = [level.differentiable(p) for p in flat_primals]
        duals = tree_unflatten(inner, primals_spec)
        if argnums is not None:
            duals = replace_args(primals, duals, argnums)
        result = func(*duals)
        aux = None
        if has_aux:
            result, aux = split_aux(result, _JVP)
            aux = level.unwrap_tree(aux)
        flat_out, spec = tree_flatten(result)
        non_empty_tensor_output(flat_out, _JVP)
        tangents_out = _tangents(level, flat_out, inner, flat_tangents)
        for i, t in enumerate(tangents_out):
            if t is None:
                if strict:
                    raise RuntimeError(
                        "jvp(f, primals, tangents, strict=True): The output of f is independent of the inputs. "
                        "This is not allowed with strict=True."
                    )
                tangents_out[i] = zeros_like(flat_out[i])
        # (torch's primal outputs are aliases of the dual tensors: AliasBackward0 over a graph the caller has)
        primals_out = [level.unwrap(o) for o in flat_out]
        primals_out = tree_unflatten([alias(o) if o.requires_grad else o for o in primals_out], spec)
        tangents_out = tree_unflatten([level.unwrap(t) for t in tangents_out], spec)
    return (primals_out, tangents_out, aux) if has_aux else (primals_out, tangents_out)


def _tangents(level: Level, outputs: list, inputs: list, tangents: list) -> list:
    """J v for each output by the double-backward trick; None for an output that does not depend on the inputs."""
    diff = [i for i, out in enumerate(outputs) if out.requires_grad]
    found: list = [None] * len(outputs)
    if not diff:
        return found
    dummies, grad_inputs = _linearized(tuple(outputs[i] for i in diff), tuple(inputs))
    for d in dummies:
        level.new_leaf(d)
    # a graph is built only where the result can depend on something outside the level (else it is unwrapped)
    needs_graph = any(t.requires_grad for t in tangents) or level.reaches_outside(
        [g for g in grad_inputs if g is not None]
    )
    jv = _autograd_grad(grad_inputs, dummies, tuple(tangents), needs_graph, True)
    for i, t in zip(diff, jv):
        found[i] = t
    return found


def jacfwd(func: Callable, argnums: Argnums = 0, has_aux: bool = False, *, randomness: str = "error") -> Callable:
    """A function returning the Jacobian of func at the argnums arguments, one jvp per input element (vmapped
    over the rows of the identity): laid out as jacrev's."""
    from engine.func.batching import vmap

    @functools.wraps(func)
    def wrapper_fn(*args: Any) -> Any:
        primals = args if argnums is None else slice_argnums(args, argnums)
        flat_primals, primals_spec = tree_flatten(primals)
        numels = tuple(p.numel() for p in flat_primals)
        basis = tree_unflatten(list(next(chunked_standard_basis(flat_primals, numels))), primals_spec)

        def push_jvp(basis: Any) -> Any:
            output = jvp_with_argnums(func, args, basis, argnums, has_aux=has_aux)
            return (output[1], output[2]) if has_aux else output[1]

        results = vmap(push_jvp, randomness=randomness)(basis)
        aux = None
        if has_aux:
            results, aux = results
            flat_aux, aux_spec = tree_flatten(aux)
            aux = tree_unflatten([value[0] for value in flat_aux], aux_spec)
        jac_outs, spec = tree_flatten(results)
        jac_outs_ins = tuple(
            tree_unflatten(
                [
                    _unflatten_last(block, primal.shape)
                    for primal, block in zip(flat_primals, split(jac_out.movedim(0, -1), list(numels), dim=-1))
                ],
                primals_spec,
            )
            for jac_out in jac_outs
        )
        if isinstance(argnums, int):
            jac_outs_ins = tuple(jac_ins[0] for jac_ins in jac_outs_ins)
        result = tree_unflatten(list(jac_outs_ins), spec)
        return (result, aux) if has_aux else result

    return wrapper_fn


def _unflatten_last(t: Tensor, shape: tuple) -> Tensor:
    return t.squeeze(-1) if len(shape) == 0 else t.unflatten(-1, shape)


def hessian(func: Callable, argnums: Argnums = 0) -> Callable:
    """A function returning the Hessian of func's scalar output at the argnums arguments: jacfwd of jacrev."""
    return jacfwd(jacrev(func, argnums), argnums)


def linearize(func: Callable, *primals: Any) -> tuple:
    """(func(*primals), jvp_fn): jvp_fn(*tangents) is the Jacobian-vector product at primals. As torch traces
    func once for jvp_fn, the function is run once more here and linearized (the double-backward trick's first
    half); each jvp_fn call then only runs the backward from that graph, seeded with the tangents."""
    _not_in_dual_level()
    output = func(*primals)
    flat_primals, primals_spec = tree_flatten(primals)
    meta = [(p.shape, p.device, p.dtype) for p in flat_primals]
    with enable_grad():
        inner = [p.detach().requires_grad_(p.is_floating_point()) for p in flat_primals]
        flat_out, output_spec = tree_flatten(func(*tree_unflatten(inner, primals_spec)))
        diff = [i for i, o in enumerate(flat_out) if isinstance(o, Tensor) and o.requires_grad]
        dummies, grad_inputs = _linearized(tuple(flat_out[i] for i in diff), tuple(inner)) if diff else ((), ())

    def jvp_fn(*tangents: Any) -> Any:
        flat_tangents, tangents_spec = tree_flatten(tangents)
        if tangents_spec != primals_spec:
            raise RuntimeError(
                f"Expected the tangents {tangents_spec} to have the same argspec as the primals {primals_spec}"
            )
        for i, (t, (shape, device, dtype)) in enumerate(zip(flat_tangents, meta)):
            for what, got, want in (("shape", t.shape, shape), ("device", t.device, device),
                                    ("dtype", t.dtype, dtype)):  # fmt: skip
                if got != want:
                    raise RuntimeError(
                        f"tangent:{i} with {what} {got} in flattened pytree doesn't match the {what} {want} of the "
                        "corresponding primal."
                    )
        out = [zeros_like(o).detach() if isinstance(o, Tensor) else o for o in flat_out]
        if diff:
            with enable_grad():
                jv = _autograd_grad(grad_inputs, dummies, tuple(flat_tangents), False, True)
            for i, t in zip(diff, jv):
                if t is not None:
                    out[i] = t.detach()
        return tree_unflatten(out, output_spec)

    return output, jvp_fn
