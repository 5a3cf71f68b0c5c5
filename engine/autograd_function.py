"""torch.autograd.Function: user-defined ops with their own forward and backward (static methods).

`MyOp.apply(*args)` runs `forward(ctx, *args)` without recording a graph, then gives the tensor outputs
one node, `MyOpBackward`, which is also the `ctx`: it keeps what `ctx.save_for_backward` saved (freed after
a backward, version-checked, as the engine's own nodes do) and any attribute forward set on it. On
backward the node calls `backward(ctx, *grads)` (with grad mode as create_graph asks, so a backward
written in tensor ops is itself differentiable) and checks its gradients as torch does: their count,
None for non-tensor inputs, shapes that sum back to the input's, dtypes cast to the input's.

A function with several outputs has one node for all of them, as in torch (engine/multi_output.py): each
output's grad_fn is that node, reached through a port that tags the output's gradient with its position, so
backward runs once with every output's gradient, zeros (or None) where an output got none.
"""

from __future__ import annotations

from typing import Any

from engine import autograd
from engine.autograd import Node, edge, next_seq, save_out
from engine.grad_mode import ENABLED, no_grad
from engine.multi_output import Grads as _Slots
from engine.multi_output import port
from engine.naming import TorchNamed, type_name
from engine.tensor import Tensor

#: engine/forward_ad's hook while a dual level is entered: (cls, ctx, args, output) -> None, gives the outputs of a
#: custom Function whose inputs carry tangents the tangents cls.jvp returns
FORWARD_AD: list = [None]


class FunctionCtx(metaclass=TorchNamed):
    """What forward and backward get as ctx (torch.autograd.function.FunctionCtx)."""

    _torch_name = "torch.autograd.function.{name}"

    def save_for_backward(self, *tensors: Any) -> None:
        for i, t in enumerate(tensors):
            if t is not None and not isinstance(t, Tensor):
                raise TypeError(
                    f"save_for_backward can only save variables, but argument {i} is of type {type_name(t)}"
                )
        self._to_save = tensors

    def save_for_forward(self, *tensors: Any) -> None:
        self._for_forward = tensors

    def mark_dirty(self, *args: Any) -> None:
        self._dirty = args

    def mark_non_differentiable(self, *args: Any) -> None:
        self._non_diff = args

    def set_materialize_grads(self, value: bool) -> None:
        self._materialize = bool(value)

    @property
    def saved_tensors(self) -> tuple:
        return self.unpack()

    saved_variables = saved_tensors


class BackwardCFunction(Node, FunctionCtx):
    """The node (and ctx) of one call of a custom Function: `_fn` is the Function class."""

    _torch_name = "torch.autograd.function.{name}"
    _fn: Any = None
    _materialize = True
    _to_save: tuple = ()
    _dirty: tuple = ()
    _non_diff: tuple = ()
    needs_input_grad: tuple = ()
    _saved_ports: tuple = ()  # per saved item: the port of the output it is, where the node has several

    def unpack(self) -> tuple:
        saved = Node.unpack(self)
        ports = self._saved_ports
        if ports:  # a saved output of a multi-output function: re-wrapped with its own port, as it was made
            for t, p in zip(saved, ports):
                if p is not None:
                    t._accum = p
        return saved

    def __repr__(self) -> str:
        return f"<torch.autograd.function.{type_name(self)} object at {id(self):#x}>"

    def backward(self, g: Any, *_saved: Any) -> tuple:
        outs = self._out_meta
        if type(g) is _Slots:
            grads = [g.g.get(i) for i in range(len(outs))]
        else:
            grads = [g]
        if self._materialize:  # (a non-tensor output gets None, as in torch)
            from engine.creation import zeros

            grads = [
                x if x is not None or m is None else zeros(m[0], dtype=m[1], device=m[2]) for x, m in zip(grads, outs)
            ]
        return _check_grads(self, self._fn.backward(self, *grads))


def _check_grads(node: BackwardCFunction, result: Any) -> tuple:
    """backward's result -> one gradient per tensor input (the node's edges), checked as torch checks it."""
    grads = result if isinstance(result, tuple) else (result,)
    args = node._arg_meta
    name = type_name(node)
    n = len(args)
    if len(grads) > n and all(x is None for x in grads[n:]):
        grads = grads[:n]  # (torch drops trailing Nones)
    if len(grads) != n:
        raise RuntimeError(
            f"function {name} returned an incorrect number of gradients (expected {n}, got {len(grads)})"
        )
    out = []
    for i, (gi, meta) in enumerate(zip(grads, args)):
        if meta is None:
            if gi is not None:
                raise RuntimeError(
                    f"function {name} returned a gradient different than None at position {i + 1}, but the "
                    "corresponding forward input was not a Variable"
                )
            continue
        if gi is not None:
            if not isinstance(gi, Tensor):
                raise RuntimeError(f"expected Variable or None (got {type_name(gi)})")
            shape = tuple(meta[0])
            got = tuple(gi.shape)
            if got != shape and not _expandable(shape, got):
                raise RuntimeError(
                    f"Function {name} returned an invalid gradient at index {i} - got {list(got)} but expected "
                    f"shape compatible with {list(shape)}"
                )
        out.append(gi)
    return tuple(out)


def _expandable(shape: tuple, to: tuple) -> bool:
    """Whether `shape` broadcasts to `to` (torch's is_expandable_to)."""
    if len(shape) > len(to):
        return False
    return all(a == b or a == 1 for a, b in zip(reversed(shape), reversed(to)))


class _FunctionMeta(TorchNamed):
    _torch_name = "torch.autograd.function.{name}"


class Function(metaclass=_FunctionMeta):
    """Subclass with static `forward(ctx, *args)` and `backward(ctx, *grads)`; call `YourOp.apply(*args)`.
    (Or torch 2's form: `forward(*args)` plus `setup_context(ctx, inputs, output)`.)"""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        import warnings

        warnings.warn(
            f"{type(self)!r} should not be instantiated. Methods on autograd functions are all static, so you "
            "should invoke them on the class itself. Instantiating an autograd function will raise an error in "
            "a future version of PyTorch.",
            DeprecationWarning,
            stacklevel=2,
        )

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        raise RuntimeError(
            "Legacy autograd function with non-static forward method is deprecated. Please use new-style autograd "
            "function with static forward method. (Example: "
            "https://pytorch.org/docs/stable/autograd.html#torch.autograd.Function)"
        )

    @staticmethod
    def forward(*args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError("You must implement the forward function for custom autograd.Function.")

    @staticmethod
    def setup_context(ctx: Any, inputs: tuple, output: Any) -> Any:
        raise NotImplementedError("setup_context is not implemented.")

    @staticmethod
    def backward(ctx: Any, *grad_outputs: Any) -> Any:
        raise NotImplementedError(
            "You must implement either the backward or vjp method for your custom autograd.Function to use it "
            "with backward mode AD."
        )

    vjp = backward

    @staticmethod
    def jvp(ctx: Any, *grad_inputs: Any) -> Any:
        raise NotImplementedError(
            "You must implement the jvp function for custom autograd.Function to use it with forward mode AD."
        )

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        name = f"{cls.__name__}Backward"
        # torch's cls._backward_cls: the node (and ctx) of one call, shared by all its outputs
        cls._backward_cls = TorchNamed(name, (BackwardCFunction,), {"_fn": cls, "__module__": __name__})
        cls._torch_name = f"{cls.__module__}.{{name}}"

    @classmethod
    def apply(cls, *args: Any, **kwargs: Any) -> Any:
        tensors = [a for a in args if isinstance(a, Tensor)]
        track = ENABLED[0] and any(t._rg for t in tensors)
        node = cls._backward_cls()
        node._seq = next_seq()
        node.needs_input_grad = tuple(isinstance(a, Tensor) and a._rg and track for a in args)
        new_style = cls.setup_context is not Function.setup_context
        with no_grad():
            if new_style:
                output = cls.forward(*args, **kwargs)
                cls.setup_context(node, args, output)
            else:
                output = cls.forward(node, *args, **kwargs)
        dirty = getattr(node, "_dirty", ())
        for t in dirty:
            if track and t._rg and t.grad_fn is None and t._base is None:
                raise RuntimeError("a leaf Variable that requires grad has been used in an in-place operation.")
            t._vc[0] += 1
            t._vc[1] = autograd.current_site
        if not track:  # a node that joins no graph: ctx.saved_tensors still reads what forward saved
            node._saved = node._to_save
            return output
        output = _connect(node, args, output, dirty)
        fwd = FORWARD_AD[0]
        if fwd is not None:  # (inside a dual level: the outputs' tangents, from cls.jvp)
            fwd(cls, node, args, output)
        return output


def _connect(node: BackwardCFunction, args: tuple, output: Any, dirty: tuple) -> Any:
    """Make `node` the grad_fn of the differentiable tensor outputs (copies of inputs returned unchanged)."""
    node._next = tuple(edge(a) if a._rg else None for a in args if isinstance(a, Tensor))
    node._arg_meta = tuple((a.shape, a._data.dtype) if isinstance(a, Tensor) else None for a in args)
    node._meta = tuple((tuple(a.shape), a._data.dtype) for a in args if isinstance(a, Tensor))
    single = not isinstance(output, tuple)
    outs = (output,) if single else output
    non_diff = {id(t) for t in getattr(node, "_non_diff", ())}
    dirty_ids = {id(t) for t in dirty}
    inputs = {id(a) for a in args if isinstance(a, Tensor)}
    multi = sum(1 for o in outs if isinstance(o, Tensor)) > 1 or not single
    result, out_meta = [], []
    for i, o in enumerate(outs):
        if not isinstance(o, Tensor):
            result.append(o)
            out_meta.append(None)
            continue
        out_meta.append((o.shape, o.dtype, o.device))
        nd = id(o) in non_diff
        if (id(o) in inputs or o._rg) and id(o) not in dirty_ids:
            # an input returned as is: a view of it (as in torch) gets the node, and may not be written in place
            src = o
            o = o.detach()
            if id(src) in inputs:
                o._base = src if src._base is None else src._base
                if not nd:
                    o._meta = {"custom_view": (node._fn.__name__, i)}
        if nd or o._data.dtype.kind not in "fc":
            o._rg = False
            result.append(o)
            continue
        if multi:  # (numbered by position, non-tensor outputs included: backward gets one gradient each)
            o._accum = port(node, i)
        o._rg = True
        o.grad_fn = node
        result.append(o)
    node._out_meta = tuple(out_meta)
    node._nout = len(out_meta)
    saved = getattr(node, "_to_save", ())
    if saved:
        by_id = {id(r): r for r in result if isinstance(r, Tensor)}
        items, vers, ports = [], [], []
        for t in saved:
            p = None
            if t is None:
                items.append(None)
                vers.append(None)
            elif id(t) in by_id and by_id[id(t)].grad_fn is node:
                o, v = save_out(node, t)  # an output: kept as its array (no node -> output -> node cycle)
                items.append(o)
                vers.append(v)
                if multi:
                    p = by_id[id(t)]._accum
            else:
                items.append(t)
                vers.append((t._vc, t._vc[0]))
            ports.append(p)
        node._saved = tuple(items)
        if multi and any(p is not None for p in ports):
            node._saved_ports = tuple(ports)
        node._vers = tuple(vers)
        del node._to_save
    else:
        node._saved = ()
    return result[0] if single else tuple(result)


def once_differentiable(fn: Any) -> Any:
    """torch.autograd.function.once_differentiable: backward runs without recording a graph."""
    import functools

    @functools.wraps(fn)
    def wrapper(ctx: Any, *args: Any) -> Any:
        with no_grad():
            return fn(ctx, *args)

    return wrapper
