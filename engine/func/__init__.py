"""torch.func: composable function transforms. grad, grad_and_value, vjp and jacrev differentiate in reverse
mode; jvp, jacfwd, hessian and linearize give forward mode's results (computed by the double-backward trick);
vmap maps a function over a batch dimension by running it once per element; functional_call runs a module with
given parameters and buffers. They nest as torch's do: vmap(grad(f)) gives per-sample gradients, grad(grad(f))
second derivatives."""

from __future__ import annotations

from engine.func.batching import vmap
from engine.func.forward import hessian, jacfwd, jvp, linearize
from engine.func.reverse import grad, grad_and_value, jacrev, vjp
from engine.func.stateless import functional_call, stack_module_state

__all__ = [
    "grad",
    "grad_and_value",
    "vmap",
    "hessian",
    "jacfwd",
    "jacrev",
    "jvp",
    "linearize",
    "vjp",
    "functional_call",
    "stack_module_state",
]


def __getattr__(name: str) -> object:
    from engine.not_covered import not_covered

    raise not_covered("torch.func", name)
