"""torch.utils.checkpoint: trade compute for memory by running a function's forward again in backward.

use_reentrant=True is torch's CheckpointFunction: a custom autograd Function whose forward runs the function
without a graph and whose backward runs it again with one, then a backward pass of its own through it (which
also fills the .grad of parameters the function uses). use_reentrant=False keeps the ordinary graph but drops
what its nodes saved: the nodes made while the function ran are recorded in order, their saved tensors replaced
by a marker, and when backward first unpacks one the function runs again, its nodes (made in the same order)
handing their saved tensors to the original ones. As torch's, the rerun runs once per backward pass, replays the
random state forward started from (preserve_rng_state: dropout draws the same mask twice), and stops as soon as
it has what backward needs (early_stop): when the call that made the last node with saved tensors returns, so a
print after it in the function runs once, as with torch. A checkpoint inside another's function reruns after it.
"""

from __future__ import annotations

import contextlib
import sys
import warnings
import weakref
from collections.abc import Callable, Iterator
from typing import Any

from engine import autograd, random
from engine.autograd import FREED, GRAPH_TASK, AccumulateGrad, _Deferred, _holds_tensors, _Out, _saved_count
from engine.autograd_function import Function
from engine.grad_mode import ENABLED, enable_grad, no_grad
from engine.nn import Sequential
from engine.tensor import Tensor, wrap
from engine.warn import _ENGINE, user_stacklevel

__all__ = [
    "checkpoint", "checkpoint_sequential", "CheckpointError", "CheckpointFunction", "check_backward_validity",
    "detach_variable", "noop_context_fn", "set_checkpoint_early_stop", "set_checkpoint_debug_enabled",
]  # fmt: skip


class CheckpointError(RuntimeError):
    """A recomputation that did not save what the original forward saved."""


_DEBUG_TIP = """
Tip: To see a more detailed error message, either pass `debug=True` to
`torch.utils.checkpoint.checkpoint(...)` or wrap the code block
with `with torch.utils.checkpoint.set_checkpoint_debug_enabled(True):` to
enable checkpoint\u2011debug mode globally.

If this error occurs under torch.compile with automatic_dynamic_shapes enabled,
it may be because the recomputation selected a different compiled graph than the
forward pass (e.g., a dynamic graph instead of the original static graph).
To fix this, either:
  - Use torch._dynamo.mark_dynamic() to explicitly mark varying dimensions as
    dynamic upfront, avoiding the static-to-dynamic transition.
  - Call torch._C._dynamo.eval_frame._set_lru_cache(False) to disable LRU cache
    reordering, which can change which graph is checked first between forward
    and recompute.
See https://github.com/pytorch/pytorch/issues/166926 for more details and
workaround examples.
"""

# set_checkpoint_early_stop / set_checkpoint_debug_enabled: None where the checkpoint call's own argument decides
_EARLY_STOP: list = [None]
_DEBUG: list = [None]


@contextlib.contextmanager
def set_checkpoint_early_stop(enable: bool) -> Iterator[None]:
    """Whether non-reentrant checkpoints made inside stop their recomputation once it has what backward needs."""
    prev = _EARLY_STOP[0]
    _EARLY_STOP[0] = enable
    try:
        yield
    finally:
        _EARLY_STOP[0] = prev


@contextlib.contextmanager
def set_checkpoint_debug_enabled(enabled: bool | None) -> Iterator[None]:
    """Overrides the `debug` argument of the checkpoints made inside (None: each call's own)."""
    prev = _DEBUG[0]
    _DEBUG[0] = enabled
    try:
        yield
    finally:
        _DEBUG[0] = prev


def detach_variable(inputs: tuple) -> tuple:
    """The tensors of a tuple detached, each keeping its requires_grad (other values as they are)."""
    if not isinstance(inputs, tuple):
        raise RuntimeError(f"Only tuple of tensors is supported. Got Unsupported input type: {type(inputs).__name__}")
    out = []
    for inp in inputs:
        if isinstance(inp, Tensor):
            x = inp.detach()
            x.requires_grad = inp.requires_grad
            inp = x
        out.append(inp)
    return tuple(out)


def check_backward_validity(inputs: Any) -> None:
    if not any(inp.requires_grad for inp in inputs if isinstance(inp, Tensor)):
        warnings.warn(
            "None of the inputs have requires_grad=True. Gradients will be None", stacklevel=user_stacklevel()
        )


def noop_context_fn() -> tuple:
    return contextlib.nullcontext(), contextlib.nullcontext()


def _tensors(args: Any) -> Iterator[Tensor]:
    for a in args:
        if isinstance(a, Tensor):
            yield a
        elif isinstance(a, (list, tuple)):
            yield from _tensors(a)
        elif isinstance(a, dict):
            yield from _tensors(a.values())


class _RngState:
    """The random state a checkpointed forward started from: the cpu generator's, and the cuda generator's where
    an argument lives on cuda (torch saves the states of the arguments' devices)."""

    def __init__(self, args: tuple) -> None:
        self.cpu = random.default_generator.get_state()
        on_cuda = any(t.device.type == "cuda" for t in _tensors(args))
        self.cuda = random.cuda_generator.get_state() if on_cuda else None

    @contextlib.contextmanager
    def replayed(self) -> Iterator[None]:
        """The recomputation draws what forward drew; afterwards the streams go on as if it had not run
        (torch.random.fork_rng)."""
        gens = [(random.default_generator, self.cpu)]
        if self.cuda is not None:
            gens.append((random.cuda_generator, self.cuda))
        now = [g.get_state() for g, _ in gens]
        for g, state in gens:
            g.set_state(state)
        try:
            yield
        finally:
            for (g, _), state in zip(gens, now):
                g.set_state(state)


class CheckpointFunction(Function):
    """use_reentrant=True: forward without a graph, backward reruns the function and backpropagates through it."""

    @staticmethod
    def forward(ctx: Any, run_function: Callable, preserve_rng_state: bool, *args: Any) -> Any:
        check_backward_validity(args)
        ctx.run_function = run_function
        ctx.preserve_rng_state = preserve_rng_state
        if preserve_rng_state:
            ctx._rng_state = _RngState(args)
        ctx.inputs = []
        ctx.tensor_indices = []
        tensor_inputs = []
        for i, arg in enumerate(args):
            if isinstance(arg, Tensor):
                tensor_inputs.append(arg)
                ctx.tensor_indices.append(i)
                ctx.inputs.append(None)
            else:
                ctx.inputs.append(arg)
        ctx.save_for_backward(*tensor_inputs)
        with no_grad():
            return run_function(*args)

    @staticmethod
    def backward(ctx: Any, *args: Any) -> tuple:
        if not autograd._is_checkpoint_valid():
            raise RuntimeError(
                "When use_reentrant=True, torch.utils.checkpoint is incompatible with .grad() or passing an `inputs` "
                "parameter to .backward(). To resolve this error, you can either set use_reentrant=False, or call "
                ".backward() without passing the `inputs` argument."
            )
        inputs = list(ctx.inputs)
        for i, t in zip(ctx.tensor_indices, ctx.saved_tensors):
            inputs[i] = t
        replay = ctx._rng_state.replayed() if ctx.preserve_rng_state else contextlib.nullcontext()
        with replay:
            detached_inputs = detach_variable(tuple(inputs))
            with enable_grad():
                outputs = ctx.run_function(*detached_inputs)
        if isinstance(outputs, Tensor):
            outputs = (outputs,)
        outputs_with_grad, args_with_grad = [], []
        for out, g in zip(outputs, args):
            if isinstance(out, Tensor) and out.requires_grad:
                outputs_with_grad.append(out)
                args_with_grad.append(g)
        if not outputs_with_grad:
            raise RuntimeError("none of output has requires_grad=True, this checkpoint() is not necessary")
        autograd.backward(outputs_with_grad, args_with_grad)
        grads = tuple(inp.grad if isinstance(inp, Tensor) else None for inp in detached_inputs)
        return (None, None, *grads)


CheckpointFunction._torch_name = "torch.utils.checkpoint.{name}"


class _StopRecomputation(Exception):  # noqa: N818 - torch's is an Exception too (a script's `except` sees it alike)
    pass


def _meta(item: Any) -> dict | None:
    """What determinism_check="default" compares of a saved tensor: shape, dtype, device."""
    if type(item) is _Out:
        item = wrap(item.data, item.dev)
    if not isinstance(item, Tensor):
        return None
    return {"shape": item.shape, "dtype": item.dtype, "device": item.device}


def _stop_when_call_returns(base: Any) -> Any:
    """Early stop: the node just made is the last one whose saved tensors backward needs. torch stops inside the
    call that saves them; this stops when that call (the outermost engine call the checkpointed function made)
    returns, so none of the function's own code after it runs again either. Returns the profiler it displaced."""
    f = sys._getframe(1)
    while (up := f.f_back) is not None and up is not base and up.f_code.co_filename.startswith(_ENGINE):
        f = up
    displaced = sys.getprofile()

    def profile(frame: Any, event: str, arg: Any) -> None:
        if event == "return" and frame is f:
            sys.setprofile(displaced)
            raise _StopRecomputation

    sys.setprofile(profile)
    return displaced


#: the non-reentrant checkpoints whose function is running, innermost last: (frame, whether it is the rerun)
_ACTIVE: list = []


class _Frame:
    """One non-reentrant checkpoint: the types of the nodes its forward made, in order, the nodes whose saved
    tensors it dropped (weakly: they hold the frame through their marker), and how to run the function again.

    A checkpoint made inside another's forward is its child: torch saves the child's inputs through the parent,
    so the child's rerun first needs the parent's, and the parent's rerun may stop as the child is made again."""

    def __init__(
        self, fn: Callable, args: tuple, kwargs: dict, rng: _RngState | None, recompute_context: Any,
        early_stop: bool, check_meta: bool, parent: _Frame | None,
    ) -> None:  # fmt: skip
        self.fn, self.args, self.kwargs, self.rng = fn, args, kwargs, rng
        self.recompute_context = recompute_context
        self.early_stop = early_stop
        self.check_meta = check_meta
        self.parent = parent
        self.nodes: list = []  # the forward's nodes while it runs; their types afterwards
        self.children: list = []  # per child checkpoint: how many nodes the forward had made before it
        self.dropped: list = []  # (index, weakref to the node, metadata of its saved tensors)
        self.n_saved = 0
        self.marker = _Deferred(self.fill)
        self.task = 0  # the backward pass the dropped nodes hold the rerun's tensors for
        self.rerun_children = 0  # children made so far by the running rerun
        self.stop_child: int | None = None  # the child whose making ends the running rerun

    def record(self, node: autograd.Node) -> None:
        if type(node) is not AccumulateGrad:  # (a leaf's, made on its first use: the rerun would not make it)
            self.nodes.append(node)

    def drop_saved(self) -> None:
        for i, node in enumerate(self.nodes):
            saved = node._saved
            if saved and saved is not FREED and _holds_tensors(node):
                self.dropped.append((i, weakref.ref(node), [_meta(s) for s in saved] if self.check_meta else None))
                self.n_saved += _saved_count(node)
                node._saved, node._vers, node._outs = self.marker, (), True
        self.nodes = [type(n) for n in self.nodes]

    def child_made(self) -> None:
        """A checkpoint inside this one's rerun is being made; the rerun ends there if it was the last thing that
        saved tensors."""
        k = self.rerun_children
        self.rerun_children += 1
        if k == self.stop_child:
            raise _StopRecomputation

    def fill(self, node: autograd.Node) -> tuple:
        """Backward unpacked a dropped node: rerun the function, give every dropped node its saved tensors back."""
        self.rerun()
        return node._saved

    def rerun(self) -> None:
        """Once per backward pass (the tensors are dropped again when it ends, so another pass reruns too)."""
        task = GRAPH_TASK[0]
        if task and self.task == task:
            return
        if self.parent is not None:
            self.parent.rerun()
        self._recompute()
        self.task = task
        if task:
            autograd._queue_callback(self._drop_again)

    def _recompute(self) -> None:
        made: list = []
        need = self.dropped[-1][0] + 1 if self.dropped else 0
        # early stop: at the making of the last child if nothing saved after it, else once node `need` exists
        last_child = self.children and self.children[-1] >= need
        self.stop_child = len(self.children) - 1 if self.early_stop and last_child else None
        stop = need if self.early_stop and not last_child else None
        self.rerun_children = 0
        here = sys._getframe()
        profiling: list = []

        def watch(node: autograd.Node) -> None:
            if type(node) is AccumulateGrad:
                return
            made.append(node)
            if stop is not None and len(made) >= stop:
                if len(made) > stop:
                    raise _StopRecomputation
                profiling.append(_stop_when_call_returns(here))

        replay = self.rng.replayed() if self.rng is not None else contextlib.nullcontext()
        _ACTIVE.append((self, True))
        try:
            with replay, enable_grad(), autograd._watch_nodes(watch), self.recompute_context:
                try:
                    self.fn(*self.args, **self.kwargs)
                except _StopRecomputation:
                    pass
        finally:
            _ACTIVE.pop()
            if profiling:
                sys.setprofile(profiling[0])
        self._hand_over(made, need)

    def _hand_over(self, made: list, need: int) -> None:
        same = len(made) >= need and [type(n) for n in made[:need]] == self.nodes[:need]
        n_rec = sum(_saved_count(n) for n in (made[:need] if self.early_stop else made))
        if not same or (not self.early_stop and n_rec != self.n_saved):
            if not self.early_stop and n_rec > self.n_saved:  # (an early stop never gets that far)
                raise CheckpointError(
                    "torch.utils.checkpoint: trying to save more tensors during recomputation than during the "
                    f"original forward pass.\n{_DEBUG_TIP}"
                )
            raise CheckpointError(
                "torch.utils.checkpoint: A different number of tensors was saved during the original forward and "
                f"recomputation.\nNumber of tensors saved during forward: {self.n_saved}\nNumber of tensors saved "
                f"during recomputation: {n_rec}.\n{_DEBUG_TIP}"
            )
        if self.check_meta:
            self._check_meta(made)
        for i, ref, _ in self.dropped:
            node = ref()
            if node is not None and type(node._saved) is _Deferred:  # (not one a backward has freed)
                new = made[i]
                node._saved, node._vers = new._saved, new._vers

    def _check_meta(self, made: list) -> None:
        diffs = []
        pos = 0
        for i, _, metas in self.dropped:
            for want, item in zip(metas, made[i]._saved):
                if want is None:
                    continue
                got = _meta(item)
                if got != want:
                    diffs.append(f"tensor at position {pos}:\nsaved metadata: {want}\nrecomputed metadata: {got}\n")
                pos += 1
        if diffs:
            raise CheckpointError(
                "torch.utils.checkpoint: Recomputed values for the following tensors have different metadata than "
                f"during the forward pass.\n{''.join(diffs)}.\n{_DEBUG_TIP}"
            )

    def _drop_again(self) -> None:
        for _, ref, _ in self.dropped:
            node = ref()
            if node is not None and node._saved is not FREED:
                node._saved, node._vers = self.marker, ()


_DETERMINISM_CHECKS = ("default", "none")


def _checkpoint_without_reentrant(
    function: Callable, preserve: bool, context_fn: Callable, determinism_check: str, debug: bool,
    early_stop: bool, args: tuple, kwargs: dict,
) -> Any:  # fmt: skip
    if (_DEBUG[0] if _DEBUG[0] is not None else debug) and context_fn is not noop_context_fn:
        raise ValueError("debug=True is incompatible with non-default context_fn")
    if determinism_check not in _DETERMINISM_CHECKS:
        raise ValueError(f"determinism_check should be one of {list(_DETERMINISM_CHECKS)}, but got {determinism_check}")
    forward_context, recompute_context = context_fn()
    if not ENABLED[0]:  # no graph, nothing saved: nothing to recompute
        return function(*args, **kwargs)
    parent = None
    if _ACTIVE:
        outer, rerun = _ACTIVE[-1]
        if rerun:
            outer.child_made()
        else:
            parent = outer
            outer.children.append(len(outer.nodes))
    frame = _Frame(
        function, args, kwargs, _RngState(args) if preserve else None, recompute_context,
        _EARLY_STOP[0] if _EARLY_STOP[0] is not None else early_stop, determinism_check == "default", parent,
    )  # fmt: skip
    finished = False
    _ACTIVE.append((frame, False))
    try:
        with autograd._watch_nodes(frame.record), forward_context:
            ret = function(*args, **kwargs)
            finished = True
    finally:
        _ACTIVE.pop()
    if not finished:
        raise RuntimeError(
            "torch.utils.checkpoint: the forward context provided by context_fn suppressed an exception raised "
            "during the checkpointed forward. This is not supported because checkpoint cannot return a value for a "
            "failed forward."
        )
    frame.drop_saved()
    return ret


def checkpoint(
    function: Callable, *args: Any, use_reentrant: bool | None = None, context_fn: Callable = noop_context_fn,
    determinism_check: str = "default", debug: bool = False, early_stop: bool = True, **kwargs: Any,
) -> Any:  # fmt: skip
    """function(*args), with the activations inside it recomputed in backward instead of kept."""
    if use_reentrant is None:
        warnings.warn(
            "torch.utils.checkpoint: the use_reentrant parameter should be passed explicitly. Starting in PyTorch "
            "2.9, calling checkpoint without use_reentrant will raise an exception. use_reentrant=False is "
            "recommended, but if you need to preserve the current default behavior, you can pass "
            "use_reentrant=True. Refer to docs for more details on the differences between the two variants.",
            stacklevel=user_stacklevel(),
        )
        use_reentrant = True
    preserve = kwargs.pop("preserve_rng_state", True)
    if kwargs and use_reentrant:
        raise ValueError("Unexpected keyword arguments: " + ",".join(kwargs))
    if use_reentrant:
        if context_fn is not noop_context_fn or debug is not False:
            raise ValueError("Passing `context_fn` or `debug` is only supported when use_reentrant=False.")
        return CheckpointFunction.apply(function, preserve, *args)
    return _checkpoint_without_reentrant(
        function, preserve, context_fn, determinism_check, debug, early_stop, args, kwargs
    )


def checkpoint_sequential(
    functions: Any,
    segments: int,
    input: Any,
    use_reentrant: bool | None = None,
    **kwargs: Any,  # noqa: A002
) -> Any:
    """Run a sequence of functions (or an nn.Sequential) in `segments` checkpointed pieces; the last runs plainly."""
    if use_reentrant is None:
        warnings.warn(
            "torch.utils.checkpoint.checkpoint_sequential: the use_reentrant parameter should be passed explicitly. "
            "In version 2.9 we will raise an exception if use_reentrant is not passed. use_reentrant=False is "
            "recommended, but if you need to preserve the current default behavior, you can pass "
            "use_reentrant=True. Refer to docs for more details on the differences between the two variants.",
            stacklevel=user_stacklevel(),
        )
        use_reentrant = True
    preserve = kwargs.pop("preserve_rng_state", True)
    if kwargs:
        raise ValueError("Unexpected keyword arguments: " + ",".join(kwargs))

    def run_function(start: int, end: int, functions: Any) -> Callable:
        def forward(input: Any) -> Any:  # noqa: A002
            for j in range(start, end + 1):
                input = functions[j](input)
            return input

        return forward

    if isinstance(functions, Sequential):
        functions = list(functions.children())
    segment_size = len(functions) // segments
    end = -1
    for start in range(0, segment_size * (segments - 1), segment_size):
        end = start + segment_size - 1
        input = checkpoint(
            run_function(start, end, functions), input, use_reentrant=use_reentrant, preserve_rng_state=preserve
        )
    return run_function(end + 1, len(functions) - 1, functions)(input)


def __getattr__(name: str) -> object:
    from engine.not_covered import not_covered

    raise not_covered("torch.utils.checkpoint", name)
