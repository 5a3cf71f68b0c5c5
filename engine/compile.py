"""torch.compile, run eagerly: the same results, and the same autograd graph shape as torch's.

torch.compile traces a function or module and runs generated code for it; the engine runs it as written, which
is what torch's own `backend="eager"` does, so a tutorial's compiled model trains and prints as under torch.
With torch's compiling backends ("inductor", the default, and "aot_eager") a differentiable result's grad_fn is
one `CompiledFunctionBackward` node whose inputs are the leaves and inputs it depends on: built here over the
eager graph, whose backward it runs. (Generated kernels may round some results differently from eager ones in
the last bit; the engine keeps eager's.)
"""

from __future__ import annotations

import functools
from typing import Any

from engine import autograd
from engine.autograd import AccumulateGrad, Node, edge, next_seq
from engine.grad_mode import ENABLED
from engine.nn.module import Module
from engine.tensor import Tensor

_MODES = ("default", "lite", "reduce-overhead", "max-autotune-no-cudagraphs", "max-autotune")
_BACKENDS = ("inductor", "eager", "aot_eager", "cudagraphs")
_GRAPH_BACKENDS = ("inductor", "aot_eager", "cudagraphs")  # (those that give results one compiled node)


class InvalidBackend(RuntimeError):
    _torch_name = "torch._dynamo.exc.{name}"


class CompiledFunctionBackward(Node):
    """The one node of a compiled graph: its backward is the eager graph's, from its output (saved, so freed by
    a backward that does not retain the graph, as torch frees the compiled graph's) to its inputs."""

    _torch_name = "torch.autograd.function.{name}"

    def __repr__(self) -> str:
        return f"<torch.autograd.function.CompiledFunctionBackward object at {id(self):#x}>"

    def backward(self, g: Any, out: Any) -> tuple:
        inputs = self._inputs
        wanted = [t for t in inputs if t is not None and t.requires_grad]
        grads = autograd.grad(out, wanted, g, retain_graph=True, allow_unused=True)
        if ENABLED[0]:  # create_graph: the gradients are differentiable no further, as under torch's compile
            grads = [_no_double_backward(t) for t in grads]
        it = iter(grads)
        return tuple(next(it) if t is not None and t.requires_grad else None for t in inputs)


class CompiledFunctionBackwardBackward(Node):
    _torch_name = "torch.autograd.function.{name}"

    def __repr__(self) -> str:
        return f"<torch.autograd.function.CompiledFunctionBackwardBackward object at {id(self):#x}>"

    def backward(self, g: Any, *_saved: Any) -> tuple:
        raise RuntimeError("torch.compile with aot_autograd does not currently support double backward")


def _no_double_backward(t: Any) -> Any:
    if t is None:
        return None
    t = t.detach()
    t._rg = True
    t.grad_fn = CompiledFunctionBackwardBackward()
    return t


def _inputs(out: Tensor, given: list) -> list:
    """The compiled graph's inputs, as torch lifts them: the given tensors (a module's parameters and buffers,
    then the call's tensor arguments), then every other leaf requiring grad that the eager graph reaches from
    `out` without passing through a given tensor (a tensor the function reads from outside: torch puts it where
    the function first reads it)."""
    stops = {id(t.grad_fn) for t in given if t.grad_fn is not None}
    found: dict = {id(t): t for t in given}
    reached: set = set()
    seen: set = set()
    stack = [out.grad_fn]
    while stack:
        node = stack.pop()
        if node is None or id(node) in seen:
            continue
        seen.add(id(node))
        if id(node) in stops:
            reached.add(id(node))
            continue
        if type(node) is AccumulateGrad:
            var = node._var()
            if var is not None:
                found.setdefault(id(var), var)
                reached.add(id(var))
            continue
        stack.extend(reversed(node._next))
    # (a parameter the function never used is no input of torch's graph; one without grad cannot be told apart)
    return [t for t in found.values() if not t._rg or id(t) in reached or id(t.grad_fn) in reached]


def _regraph(result: Any, given: list) -> Any:
    """result with each differentiable tensor given its own CompiledFunctionBackward over the eager graph."""
    if isinstance(result, (tuple, list)):
        items = [_regraph(r, given) for r in result]
        return type(result)(items) if type(result) in (tuple, list) else type(result)(*items)
    if isinstance(result, dict):
        return {k: _regraph(v, given) for k, v in result.items()}
    if not isinstance(result, Tensor) or result.grad_fn is None:
        return result
    node = CompiledFunctionBackward()
    node._seq = next_seq()
    inputs = _inputs(result, given)
    node._saved = (result,)
    node._inputs = inputs
    node._next = tuple(edge(t) for t in inputs)
    node._ctx = (result.shape, result.dtype)
    out = result.detach()
    out._rg = True
    out.grad_fn = node
    return out


def _run(fn: Any, backend: str, args: tuple, kwargs: dict, lifted: list) -> Any:
    result = fn(*args, **kwargs)
    if backend not in _GRAPH_BACKENDS or not ENABLED[0]:
        return result
    given = lifted + [a for a in list(args) + list(kwargs.values()) if isinstance(a, Tensor)]
    return _regraph(result, given)


class OptimizedModule(Module):
    """What torch.compile returns for a module: the module as `_orig_mod`, its attributes reachable through."""

    _torch_name = "torch._dynamo.eval_frame.{name}"

    def __init__(self, mod: Module, backend: str) -> None:
        super().__init__()
        self._modules["_orig_mod"] = mod  # (the engine's own name: past a host's rule on registered names)
        self.__dict__["_backend"] = backend

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        mod = self._modules["_orig_mod"]
        lifted = [p for _, p in mod.named_parameters()] + [b for _, b in mod.named_buffers()]
        return _run(mod, self.__dict__["_backend"], args, kwargs, lifted)

    def __getattr__(self, name: str) -> Any:
        try:
            return super().__getattr__(name)
        except AttributeError:
            return getattr(self._modules["_orig_mod"], name)


def _check(backend: Any, mode: Any, options: Any) -> str:
    if mode is not None and options is not None:
        raise RuntimeError("Either mode or options can be specified, but both can't be specified at the same time.")
    if mode is not None and mode not in _MODES:
        raise RuntimeError(f"Unrecognized mode={mode}, should be one of: {', '.join(_MODES)}")
    if callable(backend):  # a backend function of the user's: it would see the graph; the engine runs eagerly
        return "eager"
    if backend not in _BACKENDS:
        raise InvalidBackend(
            f"Invalid backend: {backend!r}, see `torch._dynamo.list_backends()` for available backends."
        )
    return backend


def compile(  # noqa: A001 - torch's name
    model: Any = None, *, fullgraph: bool = False, dynamic: Any = None, backend: Any = "inductor",
    mode: Any = None, options: Any = None, disable: bool = False,
) -> Any:  # fmt: skip
    """torch.compile(model) for a module or function, or @torch.compile(...) as a decorator."""
    kind = _check(backend, mode, options)
    # (torch's first compile patches torch for its tracer, which turns the distributions' argument checks off
    # for the rest of the process: Normal(0., -1.) no longer raises; the engine does as torch does)
    from engine.distributions.distribution import Distribution

    Distribution.set_default_validate_args(False)
    if model is None:
        return lambda m: compile(m, fullgraph=fullgraph, dynamic=dynamic, backend=backend, mode=mode,
                                 options=options, disable=disable)  # fmt: skip
    if not callable(model):
        raise RuntimeError("torch.compile() expects a Callable or a Module")
    if disable:
        return model
    if isinstance(model, Module):
        return OptimizedModule(model, kind)

    @functools.wraps(model)
    def compiled(*args: Any, **kwargs: Any) -> Any:
        return _run(model, kind, args, kwargs, [])

    name = getattr(model, "__name__", None)
    if isinstance(name, str):  # (a function object without a __qualname__ of its own: tsr's)
        compiled.__qualname__ = getattr(model, "__qualname__", name)
    return compiled
