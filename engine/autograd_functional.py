"""torch.autograd.functional: jacobian, hessian, vjp, jvp, hvp and vhp of a function of tensors.

Each follows torch's own recipe step for step (torch/autograd/functional.py), since what a learner sees depends
on it: which autograd.grad calls run (so which grad_fn a create_graph=True result shows), the order of the checks
(so which error a bad call raises first), how results nest for tuple inputs and outputs. jvp and hvp use the
double-backward trick, as torch's do. vectorize=True gives the same values row by row (torch batches the rows
with vmap, one autograd.grad call); forward mode is computed in reverse mode where torch allows it, which gives
the same Jacobian.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from engine.autograd import edge
from engine.autograd import grad_of as _grad
from engine.creation import zeros_like
from engine.grad_mode import ENABLED, enable_grad, set_grad_enabled
from engine.ops.index import cat, stack
from engine.tensor import Tensor

__all__ = ["vjp", "jvp", "jacobian", "hessian", "hvp", "vhp"]


def _as_tuple(inp: Any, arg_name: str, fn_name: str) -> tuple[bool, tuple]:
    """(whether inp was a tuple, inp as a tuple of tensors), with torch's TypeError for anything else."""
    is_tuple = isinstance(inp, tuple)
    items = inp if is_tuple else (inp,)
    for i, el in enumerate(items):
        if not isinstance(el, Tensor):
            where = f"the value at index {i}" if is_tuple else f"the given {arg_name}"
            raise TypeError(
                f"The {arg_name} given to {fn_name} must be either a Tensor or a tuple of Tensors but {where} has "
                f"type {type(el)}."
            )
    return is_tuple, items


def _tuple_postprocess(res: Any, to_unpack: bool | tuple[bool, bool]) -> Any:
    """Undo _as_tuple's wrapping: one level per flag that is False (outputs, then inputs for a pair)."""
    if isinstance(to_unpack, tuple):
        if not to_unpack[1]:
            res = tuple(el[0] for el in res)
        if not to_unpack[0]:
            res = res[0]
    elif not to_unpack:
        res = res[0]
    return res


def _grad_preprocess(inputs: tuple, create_graph: bool, need_graph: bool) -> tuple:
    # Always new tensor objects, so the function's result can be told apart from the same tensors captured by the
    # function itself; with create_graph, a view keeps the way back to the caller's tensors.
    return tuple(
        inp.view_as(inp) if create_graph and inp.requires_grad else inp.detach().requires_grad_(need_graph)
        for inp in inputs
    )


def _grad_postprocess(inputs: tuple, create_graph: bool) -> tuple:
    # results carry no history unless the caller asked for it
    if isinstance(inputs[0], Tensor):
        return inputs if create_graph else tuple(inp.detach() for inp in inputs)
    return tuple(_grad_postprocess(inp, create_graph) for inp in inputs)


def _validate_v(v: tuple, other: tuple, is_other_tuple: bool) -> None:
    if len(other) != len(v):
        if is_other_tuple:
            raise RuntimeError(f"v is a tuple of invalid length: should be {len(other)} but got {len(v)}.")
        raise RuntimeError("The given v should contain a single Tensor.")
    for idx, (el_v, el_other) in enumerate(zip(v, other)):
        if el_v.size() != el_other.size():
            prepend = f"Entry {idx} in " if is_other_tuple else ""
            raise RuntimeError(f"{prepend}v has invalid size: should be {el_other.size()} but got {el_v.size()}.")


_NOT_REQUIRING = {
    "hessian": "The hessian of the user-provided function with respect to input {i} is independent of the input. "
    "This is not allowed in strict mode. You should ensure that your function is thrice differentiable and that "
    "the hessian depends on the inputs.",
    "jacobian": "While computing the hessian, found that the jacobian of the user-provided function with respect "
    "to input {i} is independent of the input. This is not allowed in strict mode. You should ensure that your "
    "function is twice differentiable and that the jacobian depends on the inputs (this would be violated by a "
    "linear function for example).",
    "grad_inputs": "The gradient with respect to input {i} is independent of the inputs of the user-provided "
    "function. This is not allowed in strict mode.",
    "outputs": "Output {i} of the user-provided function does not require gradients. The outputs must be computed "
    "in a differentiable manner from the input when running in strict mode.",
}


def _check_requires_grad(inputs: tuple, input_type: str, strict: bool) -> None:
    """strict mode's errors for a result that cannot depend on the inputs."""
    if not strict:
        return
    for i, inp in enumerate(inputs):
        if inp is None:  # (only gradients are None)
            raise RuntimeError(
                f"The output of the user-provided function is independent of input {i}. This is not allowed in "
                "strict mode."
            )
        if not inp.requires_grad:
            raise RuntimeError(_NOT_REQUIRING[input_type].format(i=i))


def _autograd_grad(
    outputs: tuple, inputs: tuple, grad_outputs: tuple | None = None, create_graph: bool = False,
    retain_graph: bool | None = None,
) -> tuple:  # fmt: skip
    """autograd.grad over the outputs that require grad (None per input when none does; None for unused inputs)."""
    if grad_outputs is None:
        grad_outputs = (None,) * len(outputs)
    kept = [(out, g) for out, g in zip(outputs, grad_outputs) if out is not None and out.requires_grad]
    if not kept:
        return (None,) * len(inputs)
    return _grad(
        tuple(o for o, _ in kept), inputs, tuple(g for _, g in kept), allow_unused=True, create_graph=create_graph,
        retain_graph=retain_graph,
    )  # fmt: skip


def _linearized(outputs: tuple, inputs: tuple) -> tuple[tuple, tuple]:
    """The first half of the double-backward trick that gives forward mode in reverse mode: grad_outputs that
    require grad, and the gradients at the inputs, linear in them (so a backward from those gradients to the
    grad_outputs, seeded with v, is J v). Their value never reaches a result, so they are zeros (no inf or nan)."""
    grad_outputs = tuple(zeros_like(out, requires_grad=True) for out in outputs)
    return grad_outputs, _autograd_grad(outputs, inputs, grad_outputs, create_graph=True)


_NONE_MESSAGES = {
    "back": "The output of the user-provided function is independent of input {i}. This is not allowed in strict mode.",
    "back_trick": "The gradient with respect to the input is independent of entry {i} in the grad_outputs when "
    "using the double backward trick to compute forward mode gradients. This is not allowed in strict mode.",
    "double_back": "The jacobian of the user-provided function is independent of input {i}. This is not allowed "
    "in strict mode.",
    "double_back_trick": "The hessian of the user-provided function is independent of entry {i} in the "
    "grad_jacobian. This is not allowed in strict mode as it prevents from using the double backward trick to "
    "replace forward mode AD.",
}


def _fill_in_zeros(grads: tuple, refs: tuple, strict: bool, create_graph: bool, stage: str) -> tuple:
    """Zeros (of refs[i]'s shape) for the gradients that are None, or strict mode's error for the stage."""
    res = []
    for i, grads_i in enumerate(grads):
        if grads_i is None:
            if strict:
                raise RuntimeError(_NONE_MESSAGES[stage].format(i=i))
            grads_i = zeros_like(refs[i])
        elif strict and create_graph and not grads_i.requires_grad:
            what = "hessian" if "double" in stage else "jacobian"
            raise RuntimeError(
                f"The {what} of the user-provided function is independent of input {i}. This is not allowed in "
                "strict mode when create_graph=True."
            )
        res.append(grads_i)
    return tuple(res)


def _call(func: Callable, inputs: tuple, fn_name: str, strict: bool) -> tuple[bool, tuple]:
    outputs = func(*inputs)
    is_outputs_tuple, outputs = _as_tuple(outputs, "outputs of the user-provided function", fn_name)
    _check_requires_grad(outputs, "outputs", strict)
    return is_outputs_tuple, outputs


def _prepare_v(v: Any, fn_name: str, create_graph: bool, other: tuple, is_other_tuple: bool, none_msg: str) -> Any:
    """v as a tuple of detached tensors checked against `other`; None only where `other` is one element."""
    if v is not None:
        _, v = _as_tuple(v, "v", fn_name)
        v = _grad_preprocess(v, create_graph=create_graph, need_graph=False)
        _validate_v(v, other, is_other_tuple)
    elif len(other) != 1 or other[0].nelement() != 1:
        raise RuntimeError(none_msg)
    return v


_V_NONE_OUTPUT = (
    "The vector v can only be None if the user-provided function returns a single Tensor with a single element."
)
_V_NONE_INPUT = (
    "The vector v can only be None if the input to the user-provided function is a single Tensor with a single element."
)


def vjp(func: Callable, inputs: Any, v: Any = None, create_graph: bool = False, strict: bool = False) -> tuple:
    """(func(inputs), v^T J): the vector-Jacobian product at inputs, shaped as the inputs."""
    with enable_grad():
        is_inputs_tuple, inputs = _as_tuple(inputs, "inputs", "vjp")
        inputs = _grad_preprocess(inputs, create_graph=create_graph, need_graph=True)
        is_outputs_tuple, outputs = _call(func, inputs, "vjp", strict)
        v = _prepare_v(v, "vjp", create_graph, outputs, is_outputs_tuple, _V_NONE_OUTPUT)
    with set_grad_enabled(True if create_graph else ENABLED[0]):
        grad_res = _autograd_grad(outputs, inputs, v, create_graph=create_graph)
        res = _fill_in_zeros(grad_res, inputs, strict, create_graph, "back")
    outputs = _grad_postprocess(outputs, create_graph)
    res = _grad_postprocess(res, create_graph)
    return _tuple_postprocess(outputs, is_outputs_tuple), _tuple_postprocess(res, is_inputs_tuple)


def jvp(func: Callable, inputs: Any, v: Any = None, create_graph: bool = False, strict: bool = False) -> tuple:
    """(func(inputs), J v): the Jacobian-vector product, shaped as the outputs (by the double-backward trick)."""
    with enable_grad():
        is_inputs_tuple, inputs = _as_tuple(inputs, "inputs", "jvp")
        inputs = _grad_preprocess(inputs, create_graph=create_graph, need_graph=True)
        v = _prepare_v(v, "jvp", create_graph, inputs, is_inputs_tuple, _V_NONE_INPUT)
        is_outputs_tuple, outputs = _call(func, inputs, "jvp", strict)
        grad_outputs, grad_inputs = _linearized(outputs, inputs)
        _check_requires_grad(grad_inputs, "grad_inputs", strict)
    with set_grad_enabled(True if create_graph else ENABLED[0]):
        grad_res = _autograd_grad(grad_inputs, grad_outputs, v, create_graph=create_graph)
        res = _fill_in_zeros(grad_res, outputs, strict, create_graph, "back_trick")
    outputs = _grad_postprocess(outputs, create_graph)
    res = _grad_postprocess(res, create_graph)
    return _tuple_postprocess(outputs, is_outputs_tuple), _tuple_postprocess(res, is_outputs_tuple)


_FORWARD_NEEDS_VECTORIZE = (
    "Computing Jacobian using forward-AD or forward-over-reverse Hessian is"
    "only implemented for `vectorize=True`."  # (torch's message has no space there)
)


def jacobian(
    func: Callable, inputs: Any, create_graph: bool = False, strict: bool = False, vectorize: bool = False,
    strategy: str = "reverse-mode",
) -> Any:  # fmt: skip
    """The Jacobian of func at inputs: for output i and input j, a tensor of shape output_i.shape + input_j.shape
    (a tensor for one input and one output, a tuple per tuple level otherwise)."""
    return _jacobian(func, inputs, create_graph, strict, vectorize, strategy, False)


def _jacobian(
    func: Callable, inputs: Any, create_graph: bool, strict: bool, vectorize: bool, strategy: str,
    forward_over_reverse: bool,
) -> Any:  # fmt: skip
    if strategy not in ("forward-mode", "reverse-mode"):
        raise AssertionError(
            'Expected strategy to be either "forward-mode" or "reverse-mode". Hint: If your function has more '
            'outputs than inputs, "forward-mode" tends to be more performant. Otherwise, prefer to use '
            '"reverse-mode".'
        )
    if strategy == "forward-mode":
        if create_graph:
            raise NotImplementedError(
                'torch.autograd.functional.jacobian: `create_graph=True` and `strategy="forward-mode"` are not '
                'supported together (yet). Please either set `create_graph=False` or `strategy="reverse-mode"`.'
            )
        if strict:
            raise RuntimeError(
                'torch.autograd.functional.jacobian: `strict=True` and `strategy="forward-mode"` are not '
                'supported together (yet). Please either set `strict=False` or `strategy="reverse-mode"`.'
            )
        is_inputs_tuple, inputs = _as_tuple(inputs, "inputs", "jacobian")
        if not vectorize:
            raise NotImplementedError(_FORWARD_NEEDS_VECTORIZE)
        return _jacobian_forward(func, inputs, is_inputs_tuple, forward_over_reverse)
    with enable_grad():
        is_inputs_tuple, inputs = _as_tuple(inputs, "inputs", "jacobian")
        inputs = _grad_preprocess(inputs, create_graph=create_graph, need_graph=True)
        is_outputs_tuple, outputs = _call(func, inputs, "jacobian", strict)
        if vectorize:
            if strict:
                raise RuntimeError(
                    "torch.autograd.functional.jacobian: `strict=True` and `vectorized=True` are not supported "
                    "together. Please either set `strict=False` or `vectorize=False`."
                )
            jac = _jacobian_batched(outputs, inputs, create_graph)
        else:
            jac = tuple(_jacobian_rows(out, i, inputs, create_graph, strict) for i, out in enumerate(outputs))
        jac = _grad_postprocess(jac, create_graph)
        return _tuple_postprocess(jac, (is_outputs_tuple, is_inputs_tuple))


def _jacobian_rows(out: Tensor, i: int, inputs: tuple, create_graph: bool, strict: bool) -> tuple:
    """d out / d input_j for every input, one autograd.grad call per element of out (torch's loop)."""
    rows: tuple[list, ...] = tuple([] for _ in inputs)
    flat = out.reshape(-1)
    for k in range(out.nelement()):
        vj = _autograd_grad((flat[k],), inputs, retain_graph=True, create_graph=create_graph)
        for j, (row, vj_el, inp) in enumerate(zip(rows, vj, inputs)):
            if vj_el is not None:
                if strict and create_graph and not vj_el.requires_grad:
                    raise RuntimeError(
                        f"The jacobian of the user-provided function is independent of input {i}. This is not "
                        "allowed in strict mode when create_graph=True."
                    )
                row.append(vj_el)
            else:
                if strict:
                    raise RuntimeError(
                        f"Output {i} of the user-provided function is independent of input {j}. This is not "
                        "allowed in strict mode."
                    )
                row.append(zeros_like(inp))
    return tuple(stack(row, dim=0).view(out.size() + inp.size()) for row, inp in zip(rows, inputs))


def _jacobian_batched(outputs: tuple, inputs: tuple, create_graph: bool) -> tuple:
    """vectorize=True: torch's one batched autograd.grad over all outputs, seeded with the rows of an identity split
    across the outputs, here one row at a time. Each row runs backward through every output (zeros where the row
    is not the output's), so a block is None only where no output reaches the input, as in torch."""
    numels = tuple(out.nelement() for out in outputs)
    total = sum(numels)
    if not total:  # (vmap over an empty batch of rows)
        raise IndexError("index 0 is out of bounds for dimension 0 with size 0")
    flat = tuple(out.reshape(-1) for out in outputs)
    basis = []
    start = 0
    for out, n in zip(outputs, numels):
        chunk = out.new_zeros(total, n)
        chunk.diagonal(start).fill_(1)
        basis.append(chunk)
        start -= n
    rows: list[list] = [[] for _ in inputs]
    for k in range(total):
        vj = _autograd_grad(flat, inputs, tuple(b[k] for b in basis), create_graph=create_graph, retain_graph=True)
        for row, vj_el in zip(rows, vj):
            row.append(vj_el)
    by_input = []
    for row, inp in zip(rows, inputs):
        if not row or row[0] is None:
            block = zeros_like(inp).expand((total, *inp.shape))
        else:
            block = stack(row, dim=0)
        by_input.append([jac.view(out.shape + inp.shape) for jac, out in zip(block.split(numels, dim=0), outputs)])
    return tuple(zip(*by_input))


def _jacobian_forward(func: Callable, inputs: tuple, is_inputs_tuple: bool, forward_over_reverse: bool) -> Any:
    """strategy="forward-mode" (vectorize=True): the same Jacobian, built in reverse mode and laid out as forward
    mode's. There one tangent per output carries every input's columns; it keeps a graph where it depends on an
    input that requires grad (always inside hessian, which makes the inputs require grad), and then each of its
    blocks ends as torch's, a reshape of a permuted split of it. The blocks come in lists, as torch's do."""
    track = forward_over_reverse or any(inp.requires_grad for inp in inputs)
    numels = [inp.nelement() for inp in inputs]
    jac = []
    with enable_grad():
        given = inputs
        inputs = _grad_preprocess(inputs, create_graph=track, need_graph=True)
        # the inputs a tangent's graph may hang from: those that require grad (inside hessian, all of them)
        sources = {edge(p) for p, g in zip(inputs, given) if forward_over_reverse or g.requires_grad}
        # (torch checks these outputs with no function name)
        is_outputs_tuple, outputs = _as_tuple(func(*inputs), "outputs", "None")
        for i, out in enumerate(outputs):
            blocks = _jacobian_rows(out, i, inputs, track, False)
            if not any(b.requires_grad and _reaches(b, sources) for b in blocks):
                jac.append([b.detach() for b in blocks])
                continue
            n_out = out.nelement()
            tangent = cat([b.reshape(n_out, n) for b, n in zip(blocks, numels)], dim=1).t().contiguous()
            row = []
            for t, inp in zip(tangent.split(numels, dim=0), inputs):
                t = t.view(inp.nelement(), *out.shape)
                row.append(t.permute(*range(1, t.ndim), 0).reshape(out.shape + inp.shape))
            jac.append(row)
    return _tuple_postprocess(jac, (is_outputs_tuple, is_inputs_tuple))


def _reaches(t: Tensor, nodes: set) -> bool:
    """Whether t's graph leads to one of nodes."""
    seen: set = set()
    stack = [t.grad_fn]
    while stack:
        node = stack.pop()
        if node is None or node in seen:
            continue
        if node in nodes:
            return True
        seen.add(node)
        stack.extend(node._next)
    return False


def hessian(
    func: Callable, inputs: Any, create_graph: bool = False, strict: bool = False, vectorize: bool = False,
    outer_jacobian_strategy: str = "reverse-mode",
) -> Any:  # fmt: skip
    """The Hessian of a scalar function: the Jacobian of its gradient (a tuple of tuples for tuple inputs)."""
    is_inputs_tuple, inputs = _as_tuple(inputs, "inputs", "hessian")
    if outer_jacobian_strategy not in ("forward-mode", "reverse-mode"):
        raise AssertionError('Expected strategy to be either "forward-mode" or "reverse-mode".')

    def ensure_single_output_function(*inp: Tensor) -> Tensor:
        out = func(*inp)
        is_out_tuple, t_out = _as_tuple(out, "outputs of the user-provided function", "hessian")
        _check_requires_grad(t_out, "outputs", strict)
        if is_out_tuple or not isinstance(out, Tensor):
            raise RuntimeError("The function given to hessian should return a single Tensor")
        if out.nelement() != 1:
            raise RuntimeError("The Tensor returned by the function given to hessian should contain a single element")
        return out.squeeze()

    def jac_func(*inp: Tensor) -> Any:
        jac = jacobian(ensure_single_output_function, inp, create_graph=True)
        _check_requires_grad(jac, "jacobian", strict)
        return jac

    forward = outer_jacobian_strategy == "forward-mode"
    res = _jacobian(jac_func, inputs, create_graph, strict, vectorize, outer_jacobian_strategy, forward)
    return _tuple_postprocess(res, (is_inputs_tuple, is_inputs_tuple))


def _scalar_function_grad(func: Callable, inputs: Any, v: Any, create_graph: bool, strict: bool, name: str) -> tuple:
    """The common start of vhp and hvp: inputs and v checked, the scalar output and its gradient (with a graph)."""
    is_inputs_tuple, inputs = _as_tuple(inputs, "inputs", name)
    inputs = _grad_preprocess(inputs, create_graph=create_graph, need_graph=True)
    v = _prepare_v(v, name, create_graph, inputs, is_inputs_tuple, _V_NONE_INPUT)
    is_outputs_tuple, outputs = _call(func, inputs, name, strict)
    if is_outputs_tuple or not isinstance(outputs[0], Tensor):
        raise RuntimeError(f"The function given to {name} should return a single Tensor")
    if outputs[0].nelement() != 1:
        raise RuntimeError(f"The Tensor returned by the function given to {name} should contain a single element")
    jac = _autograd_grad(outputs, inputs, create_graph=True)
    _check_requires_grad(jac, "jacobian", strict)
    return is_inputs_tuple, inputs, v, is_outputs_tuple, outputs, jac


def vhp(func: Callable, inputs: Any, v: Any = None, create_graph: bool = False, strict: bool = False) -> tuple:
    """(func(inputs), v^T H) for a scalar function."""
    with enable_grad():
        is_inputs_tuple, inputs, v, is_outputs_tuple, outputs, jac = _scalar_function_grad(
            func, inputs, v, create_graph, strict, "vhp"
        )
    with set_grad_enabled(True if create_graph else ENABLED[0]):
        grad_res = _autograd_grad(jac, inputs, v, create_graph=create_graph)
        res = _fill_in_zeros(grad_res, inputs, strict, create_graph, "double_back")
    outputs = _grad_postprocess(outputs, create_graph)
    res = _grad_postprocess(res, create_graph)
    return _tuple_postprocess(outputs, is_outputs_tuple), _tuple_postprocess(res, is_inputs_tuple)


def hvp(func: Callable, inputs: Any, v: Any = None, create_graph: bool = False, strict: bool = False) -> tuple:
    """(func(inputs), H v) for a scalar function (by the double-backward trick, as torch computes it)."""
    with enable_grad():
        is_inputs_tuple, inputs, v, is_outputs_tuple, outputs, jac = _scalar_function_grad(
            func, inputs, v, create_graph, strict, "hvp"
        )
        grad_jac = tuple(zeros_like(inp, requires_grad=True) for inp in inputs)  # (jac holds None for unused ones)
        double_back = _autograd_grad(jac, inputs, grad_jac, create_graph=True)
        _check_requires_grad(jac, "hessian", strict)
    with set_grad_enabled(True if create_graph else ENABLED[0]):
        grad_res = _autograd_grad(double_back, grad_jac, v, create_graph=create_graph)
        res = _fill_in_zeros(grad_res, inputs, strict, create_graph, "double_back_trick")
    outputs = _grad_postprocess(outputs, create_graph)
    res = _grad_postprocess(res, create_graph)
    return _tuple_postprocess(outputs, is_outputs_tuple), _tuple_postprocess(res, is_inputs_tuple)
