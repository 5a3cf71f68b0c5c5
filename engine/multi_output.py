"""Ops with several differentiable outputs (split, chunk, unbind, ...) record one node, as torch does.

Every output's grad_fn is that one node, so `a.grad_fn is b.grad_fn` and a consumer's next_functions reads
(node, output_nr). The backward pass keys gradients by node, so each output also gets an `OutputPort`: a
hidden node, kept in the output tensor's `_accum` slot (a non-leaf has no AccumulateGrad to keep there), that
edges lead to. A port hands its gradient on tagged with its output's index; the shared node so receives a
`Grads` of every used output's gradient, summed per output, and runs once (a missing output's gradient is
zeros, as torch materializes it). Taking an edge costs one slot test more for a non-leaf operand only.

`connect` numbers the differentiable outputs (split, unbind); a node that numbers its outputs by position (a custom
Function's, convolution_backward's) makes its ports with `port`. `share` builds a `MultiNode`, which saves some of
its own outputs (std_mean's std, aminmax's min and max, a decomposition's factors) and re-wraps them with their
ports. A tensor hook on an output runs whenever the node runs, with None where that output got no gradient, as in
torch (across outputs, in the order the outputs' gradients complete rather than the order of registration).
"""

from __future__ import annotations

from typing import Any

from engine.autograd import FREED, BackwardTwiceError, Node, _Deferred, _Out, _version_error, next_seq
from engine.ops.util import edge_of
from engine.tensor import Tensor, wrap


class Grads:
    """The gradients of some outputs of one multi-output node (output index -> gradient), merged per output
    as they arrive (the backward pass adds what reaches a node, with grad mode on under create_graph)."""

    __slots__ = ("g",)

    def __init__(self, g: dict) -> None:
        self.g = g

    def __add__(self, other: Grads) -> Grads:
        merged = dict(self.g)
        for i, x in other.g.items():
            merged[i] = merged[i] + x if i in merged else x
        return Grads(merged)


class OutputPort(Node):
    """Where edges to output `_oi` of a multi-output node lead; never seen by scripts (next_functions shows
    the node it feeds, with the output index). A tensor hook on the output (register_hook, retain_grad) is
    kept here, so that it sees that output's gradient only."""

    _port = True

    def backward(self, g: Any, *_saved: Any) -> tuple:
        return (Grads({self._oi: g}),)

    def _add_tensor_prehook(self, fn: Any) -> None:
        Node._add_tensor_prehook(self, fn)
        node = self._next[0]
        hooked = node.__dict__.get("_hooked_ports")
        if hooked is None:  # (once per node: the node's first pre-hook, before any of the script's)
            hooked = node._hooked_ports = []
            if node._npre is None:
                node._npre = []
            node._npre.insert(0, _MissingOutputHooks(hooked))
        if self not in hooked:
            hooked.append(self)


class _MissingOutputHooks:
    """torch runs a tensor hook on an output of a multi-output node whenever the node runs, with None where
    that output got no gradient: this pre-hook of the node calls those (a retain_grad hook keeps nothing)."""

    __slots__ = ("ports",)

    def __init__(self, ports: list) -> None:
        self.ports = ports

    def __call__(self, grads: tuple) -> None:
        for p in self.ports:
            if grads[p._oi] is None and p._pre:
                for hook in list(p._pre):
                    if not getattr(hook, "_retain", False):
                        hook(None)


def connect(node: Node, outputs: Any) -> None:
    """Make `node` the grad_fn of each tensor in `outputs` (None where an output is not differentiable),
    each reached through its own port. As in torch, only the differentiable outputs are numbered: lu's L and
    U are outputs 0 and 1 of LinalgLuBackward0 (its P has no grad_fn)."""
    i = 0
    shapes = []
    for t in outputs:
        if t is None:
            continue
        shapes.append(t._data.shape)
        port = OutputPort()
        port._next = (node,)
        port._oi = i
        t._rg = True
        t.grad_fn = node
        t._accum = port
        i += 1
    node._nout = i
    node._oshapes = tuple(shapes)


def grads_of(g: Any, n: int) -> list:
    """The gradient of each of n outputs that a multi-output node received (None where one got none)."""
    if type(g) is not Grads:  # an edge taken without its port: which output it was is lost
        raise RuntimeError("internal error: a multi-output node got a gradient that names no output")
    d = g.g
    return [d.get(i) for i in range(n)]


def port(node: Node, oi: int) -> OutputPort:
    """A port to output `oi` of `node` (for a node that numbers its outputs itself: a custom Function's)."""
    p = OutputPort()
    p._next = (node,)
    p._oi = oi
    return p


class MultiNode(Node):
    """A node several outputs share that saves some of them (torch's LinalgSvdBackward0, StdMeanBackward0,
    AminmaxBackward0, ...), made by `share`. A saved output is re-wrapped with this node as grad_fn and its
    output's port, so create_graph differentiates through it too."""

    _ports: tuple = ()  # per output: its port, None for a non-differentiable one
    _diff: tuple | None = None  # the positions of the differentiable outputs, where some are not
    _owner: tuple = ()  # per saved item: the output it is, or -1

    def unpack(self) -> tuple:
        items = self._saved
        if items is FREED:
            raise BackwardTwiceError(self)
        if type(items) is _Deferred:
            items = items.fill(self)
        ports = self._ports
        for i, v in enumerate(self._vers):
            if v is not None and v[0][0] != v[1]:
                o = self._owner[i]
                nr = ports[o]._oi if o >= 0 and ports[o] is not None else 0
                raise _version_error(self, items[i], v[0], v[1], nr)
        return tuple(_peer_tensor(s, self, ports[o]) if o >= 0 else s for s, o in zip(items, self._owner))


def _peer_tensor(o: _Out, node: Node, port: Node | None) -> Tensor:
    if port is None:
        t = wrap(o.data, o.dev)
        t._vc = o.counter
        return t
    t = o.tensor(node)
    t._accum = port
    return t


def multi_class(name: str, backward: Any) -> type:
    """A MultiNode subclass named as torch's node, with backward(self, g, *keep, *saved outputs, *extra)."""
    return type(name, (MultiNode,), {"backward": backward})


def share(
    cls: type, ts: list, inputs: tuple, keep: tuple = (), extra: tuple = (), diff: tuple | None = None,
    meta: Any = None, save: tuple | None = None,
) -> None:  # fmt: skip
    """Give the outputs `ts` (diff[k] false: not differentiable) one `cls` node with edges to `inputs`; it saves
    (*keep, *the outputs at positions `save` (all by default), *extra), tensors in keep version-checked."""
    node = cls()
    node._seq = next_seq()
    node._next = tuple(edge_of(i) for i in inputs)
    first = next(t for k, t in enumerate(ts) if diff is None or diff[k])
    node._ctx = (first._data.shape, first._data.dtype)
    if meta is not None:
        node._meta = meta
    connect(node, [t if diff is None or diff[k] else None for k, t in enumerate(ts)])
    if diff is not None and not all(diff):
        node._diff = tuple(k for k, d in enumerate(diff) if d)
    pos = tuple(range(len(ts))) if save is None else save
    outs = tuple(_Out(ts[k]) for k in pos)
    node._owner = (-1,) * len(keep) + pos + (-1,) * len(extra)
    node._ports = tuple(t._accum if t.grad_fn is node else None for t in ts)
    node._saved = tuple(keep) + outs + tuple(extra)
    node._vers = (
        tuple((i._vc, i._vc[0]) if isinstance(i, Tensor) else None for i in keep)
        + tuple((o.counter, o.counter[0]) for o in outs)
        + (None,) * len(extra)
    )
    node._outs = True


def grads_by_position(node: Node, g: Any, n: int) -> list:
    """The gradients of a MultiNode's n outputs, by position (None for one that got none or is not
    differentiable)."""
    got = grads_of(g, node._nout)
    pos = node._diff
    if pos is None:
        return got
    out: list = [None] * n
    for p, x in zip(pos, got):
        out[p] = x
    return out
