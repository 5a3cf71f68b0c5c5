"""Ops with several differentiable outputs (split, chunk, unbind, ...) record one node, as torch does.

Every output's grad_fn is that one node, so `a.grad_fn is b.grad_fn` and a consumer's next_functions reads
(node, output_nr). The backward pass keys gradients by node, so each output also gets an `OutputPort`: a
hidden node, kept in the output tensor's `_accum` slot (a non-leaf has no AccumulateGrad to keep there), that
edges lead to. A port hands its gradient on tagged with its output's index; the shared node so receives a
`Grads` of every used output's gradient, summed per output, and runs once (a missing output's gradient is
zeros, as torch materializes it). Taking an edge costs one slot test more for a non-leaf operand only.
"""

from __future__ import annotations

from typing import Any

from engine.autograd import Node


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
