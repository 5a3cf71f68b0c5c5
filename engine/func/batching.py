"""torch.func.vmap (and torch.vmap): func mapped over a dimension of its inputs.

torch runs func once on batched tensors through per-op batching rules; the engine has none, so func runs once per
batch element, on that element's slices, and each output is stacked along its out_dim. For a pure function that is
exactly torch's result. The argument checks and their messages are torch's (torch/_functorch/vmap.py), as are the
output checks a loop can make: non-tensor outputs, out_dims that do not fit the outputs, and an output that differs
across the batch returned with out_dim None (torch's BatchedTensor error; one that is equal throughout is taken as
unbatched). randomness="error" refuses random operations through engine.random's draw check; "same" replays the
generators' state for every element; "different" draws for each element in turn, so the numbers differ from
torch's one batched draw. chunk_size is checked and otherwise changes nothing here: elements already run one at a
time. Output graphs end in a stack (StackBackward0) where torch's end in func's last op.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from engine import autograd
from engine import random as rnd
from engine.func.pytree import TreeSpec, broadcast_to_and_flatten, tree_flatten, tree_unflatten
from engine.ops.elementwise import equal
from engine.ops.index import stack
from engine.tensor import Tensor

__all__ = ["vmap"]

#: the randomness of each vmap running now, innermost last
_RUNNING: list[str] = []


def _refuse_random() -> None:
    raise RuntimeError(
        "vmap: called random operation while in randomness error mode. Please either use the 'same' or "
        "'different' randomness flags on vmap or perform the randomness operation out of vmap"
    )


@contextmanager
def _randomness(mode: str) -> Iterator[None]:
    _RUNNING.append(mode)
    rnd.DRAW_CHECK[0] = _refuse_random if "error" in _RUNNING else None
    try:
        yield
    finally:
        _RUNNING.pop()
        rnd.DRAW_CHECK[0] = _refuse_random if "error" in _RUNNING else None


def _check_randomness_arg(randomness: str) -> None:
    if randomness not in ("error", "different", "same"):
        raise RuntimeError(
            f"Only allowed values for randomness are 'error', 'different', or 'same'. Got {randomness}"
        )  # fmt: skip


def _get_name(func: Any) -> str:
    if hasattr(func, "__name__"):
        return func.__name__
    if isinstance(func, functools.partial):
        return f"functools.partial({_get_name(func.func)}, ...)"
    return repr(func)


def _check_out_dims(out_dims: Any, func: Callable) -> None:
    """out_dims is an int or a pytree of ints and Nones."""
    if isinstance(out_dims, int):
        return
    for x in tree_flatten(out_dims)[0]:
        if x is not None and not isinstance(x, int):
            raise ValueError(
                f"vmap({_get_name(func)}, ..., out_dims={out_dims}): `out_dims` must be an int, None or a python "
                "collection of ints representing where in the outputs the vmapped dimension should appear."
            )


def _process_inputs(in_dims: Any, args: tuple, func: Callable) -> tuple[int, list, list, TreeSpec]:
    """(batch size, in_dim per flattened argument (non-negative or None), the flattened arguments, their spec)."""
    head = f"vmap({_get_name(func)}, in_dims={in_dims}, ...)(<inputs>)"
    if not isinstance(in_dims, (int, tuple)):
        raise ValueError(
            f"{head}: expected `in_dims` to be int or a (potentially nested) tuple matching the structure of "
            f"inputs, got: {type(in_dims)}."
        )
    if not args:
        raise ValueError(
            f"vmap({_get_name(func)})(<inputs>): got no inputs. Maybe you forgot to add inputs, or you are trying "
            "to vmap over a function with no inputs. The latter is unsupported."
        )
    flat_args, args_spec = tree_flatten(args)
    flat_in_dims = broadcast_to_and_flatten(in_dims, args_spec)
    if flat_in_dims is None:
        raise ValueError(
            f"{head}: in_dims is not compatible with the structure of `inputs`. in_dims has structure "
            f"{tree_flatten(in_dims)[1]} but inputs has structure {args_spec}."
        )
    for i, (arg, in_dim) in enumerate(zip(flat_args, flat_in_dims)):
        if not isinstance(in_dim, int) and in_dim is not None:
            raise ValueError(
                f"{head}: Got in_dim={in_dim} for an input but in_dim must be either an integer dimension or None."
            )
        if isinstance(in_dim, int) and not isinstance(arg, Tensor):
            raise ValueError(
                f"{head}: Got in_dim={in_dim} for an input but the input is of type {type(arg)}. We cannot vmap over "
                "non-Tensor arguments, please use None as the respective in_dim"
            )
        if in_dim is not None and not -arg.dim() <= in_dim < arg.dim():
            raise ValueError(
                f"{head}: Got in_dim={in_dim} for some input, but that input is a Tensor of dimensionality "
                f"{arg.dim()} so expected in_dim to satisfy -{arg.dim()} <= in_dim < {arg.dim()}."
            )
        if in_dim is not None and in_dim < 0:
            flat_in_dims[i] = in_dim % arg.dim()
    sizes = [arg.size(d) for d, arg in zip(flat_in_dims, flat_args) if d is not None]
    if not sizes:
        raise ValueError("vmap: Expected at least one Tensor to vmap over")
    if any(s != sizes[0] for s in sizes):
        raise ValueError(
            "vmap: Expected all tensors to have the same size in the mapped dimension, got sizes "
            f"{sizes} for the mapped dimension"
        )
    return sizes[0], flat_in_dims, flat_args, args_spec


def _element(flat_args: list, flat_in_dims: list, i: int | None) -> list:
    """The arguments for batch element i; for None (an empty batch) zeros of an element's shape, so that func
    still runs once to give the outputs' shapes, as torch's one call over the empty batch does."""
    if i is None:
        return [
            a if d is None else a.new_zeros(a.shape[:d] + a.shape[d + 1 :]) for a, d in zip(flat_args, flat_in_dims)
        ]
    return [a if d is None else _batched(a.select(d, i)) for a, d in zip(flat_args, flat_in_dims)]


def _batched(t: Tensor) -> Tensor:
    """An element of a batched argument, marked so that reading it as a Python number is refused as torch's
    BatchedTensor refuses it (t.item(), float(t), `if t > 0`: tensors computed from it are not marked)."""
    if t._meta is None:
        t._meta = {"vmapped": True}
    else:
        t._meta["vmapped"] = True
    return t


def _generator_states() -> list:
    return [(g, g.get_state()) for g in (rnd.default_generator, rnd.cuda_generator)]


def _run(func: Callable, batch_size: int, flat_in_dims: list, flat_args: list, args_spec: TreeSpec,
         randomness: str, kwargs: dict) -> list:  # fmt: skip
    """func's output for each batch element (one output, made from zeros, for an empty batch)."""
    states = _generator_states() if randomness == "same" else None
    outputs = []
    with _randomness(randomness):
        for i in range(batch_size) if batch_size else (None,):
            if states is not None and outputs:  # every element draws what the first one drew
                for g, state in states:
                    g.set_state(state)
            args = tree_unflatten(_element(flat_args, flat_in_dims, i), args_spec)
            last = i is None or i == batch_size - 1
            if not last:  # (graphs a backward inside frees stay for the next element: see KEEP_GRAPHS)
                autograd.KEEP_GRAPHS[0] += 1
            try:
                outputs.append(func(*args, **kwargs))
            finally:
                if not last:
                    autograd.KEEP_GRAPHS[0] -= 1
    return outputs


def _flat_out_dims(output: Any, out_spec: TreeSpec, out_dims: Any, func: Callable) -> list:
    flat = None
    if isinstance(output, Tensor):
        if isinstance(out_dims, int) or out_dims is None:
            flat = [out_dims]
        elif isinstance(out_dims, tuple) and len(out_dims) == 1:
            flat = list(out_dims)
    else:
        flat = broadcast_to_and_flatten(out_dims, out_spec)
    if flat is None:
        raise ValueError(
            f"vmap({_get_name(func)}, ..., out_dims={out_dims})(<inputs>): out_dims is not compatible with the "
            f"structure of `outputs`. out_dims has structure {tree_flatten(out_dims)[1]} but outputs has structure "
            f"{out_spec}."
        )
    return flat


def _varies(values: list) -> bool:
    first = values[0]
    return any(
        v is not first and (not isinstance(v, Tensor) or v.shape != first.shape or not equal(v, first))
        for v in values[1:]
    )


_RENAMED: dict = {}


def _name_as_elements(stacked: Tensor, values: list) -> None:
    """The stack's node named as each element's last op (ReluBackward0): torch runs the function once over the
    batch, so its output's grad_fn is that op's. The node still stacks, and its edges lead to each element's."""
    node = stacked.grad_fn
    if node is None:
        return
    names = {type(v.grad_fn).__name__ if v.grad_fn is not None else None for v in values}
    if len(names) != 1 or None in names:
        return
    name = names.pop()
    key = (type(node), name)
    cls = _RENAMED.get(key)
    if cls is None:
        cls = _RENAMED[key] = type(type(node))(name, (type(node),), {"__module__": type(node).__module__})
    node.__class__ = cls


def _combine(outputs: list, out_dims: Any, empty: bool, func: Callable) -> Any:
    """The per-element outputs stacked along their out_dims, with torch's checks of each output in order."""
    name = _get_name(func)
    flat0, out_spec = tree_flatten(outputs[0])
    flat_out_dims = _flat_out_dims(outputs[0], out_spec, out_dims, func)
    per_element = [flat0]
    for out in outputs[1:]:
        flat, spec = tree_flatten(out)
        if spec != out_spec:
            raise RuntimeError(
                f"vmap({name}, ...): `{name}` returned outputs of different structures for different batch "
                f"elements: {out_spec} and {spec}"
            )
        per_element.append(flat)
    result = []
    for k, out_dim in enumerate(flat_out_dims):
        values = [flat[k] for flat in per_element]
        if out_dim is None:
            if isinstance(values[0], Tensor) and _varies(values):
                raise ValueError(f"vmap({name}, ...): `{name}` can not return a BatchedTensor when out_dim is None")
            result.append(values[0])
            continue
        for v in values:
            if not isinstance(v, Tensor):
                raise ValueError(
                    f"vmap({name}, ...): `{name}` must only return Tensors, got type {type(v)}. Did you mean to set "
                    "out_dims= to None for output?"
                )
        stacked = stack(values, dim=out_dim)
        _name_as_elements(stacked, values)
        result.append(stacked.narrow(out_dim, 0, 0) if empty else stacked)
    return tree_unflatten(result, out_spec)


def vmap(
    func: Callable, in_dims: Any = 0, out_dims: Any = 0, randomness: str = "error", *, chunk_size: int | None = None
) -> Callable:
    """func mapped over dimension in_dims of its inputs (None: passed whole to every element; a tuple: per
    argument, nested as the arguments), its outputs stacked along out_dims."""
    _check_randomness_arg(randomness)
    if not (chunk_size is None or chunk_size > 0):
        raise ValueError(f"vmap: chunk_size should be None or greater than 0. (got {chunk_size})")

    @functools.wraps(func)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        _check_out_dims(out_dims, func)
        batch_size, flat_in_dims, flat_args, args_spec = _process_inputs(in_dims, args, func)
        outputs = _run(func, batch_size, flat_in_dims, flat_args, args_spec, randomness, kwargs)
        return _combine(outputs, out_dims, batch_size == 0, func)

    return wrapped
