"""Reverse-mode autograd: graph nodes, the one topological backward pass, autograd.grad.

Every differentiable op records a Node subclass named as torch names it (MulBackward0, ...), whose
`backward(g, *saved)` is written in engine ops, so running it with grad mode on (create_graph=True)
builds a differentiable graph of the backward itself. Broadcasting and dtype casts are undone in one
place (`_fit`) for every op, from the input metadata the op recorded only when it broadcast or cast.
"""

from __future__ import annotations

import itertools
import re
import sys
import weakref
from collections.abc import Sequence
from typing import Any

import numpy as np

from engine import grad_mode  # noqa: F401 - torch.autograd.grad_mode
from engine.backend import CPU
from engine.grad_mode import (  # noqa: F401 - torch.autograd's own names for them
    ENABLED,
    enable_grad,
    inference_mode,
    is_inference_mode_enabled,
    no_grad,
    set_grad_enabled,
)
from engine.naming import TorchNamed, type_name
from engine.ops import fusion
from engine.ops.cascade_sum import dim_sum
from engine.tensor import Tensor, wrap
from engine.warn import user_stacklevel

# Set by a host (tcli's interpreter) before each statement; recorded when a graph is freed and when
# an in-place op bumps a version counter, so errors can point at the line that caused them.
current_site: Any = None

FREED = object()

FREED_MSG = (
    "Trying to backward through the graph a second time (or directly access saved tensors after they "
    "have already been freed). Saved intermediate values of the graph are freed when you call .backward() "
    "or autograd.grad(). Specify retain_graph=True if you need to backward through the graph a second time "
    "or if you need to access saved tensors after calling backward."
)


def BackwardTwiceError(node: Node) -> RuntimeError:  # noqa: N802 - reads as the error it builds
    """torch's RuntimeError for backward through a freed graph; `freed_site` says where it was freed.
    A plain RuntimeError (not a subclass) so tracebacks and `type_name(e)` read as torch's."""
    e = RuntimeError(FREED_MSG)
    e.node = node
    e.freed_site = node._site
    return e


def VersionError(msg: str, site: Any) -> RuntimeError:  # noqa: N802
    """torch's RuntimeError for a saved tensor modified in place; `modified_site` says where."""
    e = RuntimeError(msg)
    e.modified_site = site
    return e


#: whether any node ever got a hook (_pre, _npre or _post, set by the methods below and nowhere else): until one
#: does, backward does not read a node's hook fields (class defaults, which Python reads slowly)
HOOKED = [False]


class Node(metaclass=TorchNamed):
    """A backward function. `_next` holds the input nodes (None where an input needs no grad).

    Deliberately without __slots__: every op creates a node, and class-level defaults let an op set
    only the fields it uses (measured: 2.5x cheaper to build than a slotted node with an __init__)."""

    _next: tuple = ()
    _saved: Any = ()  # what backward receives, or FREED once a backward without retain_graph ran
    _vers: tuple = ()  # (version counter, version at save) per saved item, None for non-tensors
    _meta: Any = None  # (shape, dtype) per input that was broadcast or cast, for _fit
    _site: Any = None  # current_site when the saved values were freed
    _pre: Any = None  # tensor hooks run on the incoming gradient (Tensor.register_hook, retain_grad)
    _npre: Any = None  # the node's own pre-hooks (grad_fn.register_prehook), on a tuple of gradients
    _post: Any = None  # the node's post-hooks (grad_fn.register_hook): (grad_inputs, grad_outputs)
    _ctx: Any = None  # (output shape, output dtype), for describe()
    _outs: bool = False  # some saved item is an _Out (the op's own output), re-wrapped on unpack
    _nfreed: int = 0  # saved arrays without a version record that a backward freed (for describe())
    _oi: int = 0  # which output of a multi-output op this node (or port) stands for
    _nout: int = 1  # how many outputs share this node (engine/multi_output.py)
    _port: bool = False  # an OutputPort: an edge to output _oi of the node it feeds (engine/multi_output.py)
    _oshapes: tuple = ()  # a multi-output node's output shapes, for describe()
    _plain: bool = False  # the class saves only shapes, dims and numbers: nothing a backward frees (a sum's, a mean's)
    _seq: int = 0  # creation order (torch's sequence_nr), set where ops build nodes; 0: not recorded
    # the formula on raw arrays for a plain backward (no graph built, no targets): _abw(grad array, *saved)
    # returns a gradient array (or None) per input, or None where it cannot (then `backward` runs on tensors);
    # it must compute exactly what `backward` computes with grad mode off (see run_backward)
    _abw: Any = None

    def name(self) -> str:
        return type_name(self)

    # (No __getattr__: a class with one reads every attribute through it, which CPython cannot specialize, and
    # a node's fields are read on every op and every backward step; torch's SavedVariable fields are
    # properties instead, installed below.)

    def __dir__(self) -> list:
        # (the _saved_* properties are Node's, every node's class has them: list only those this node has)
        names = super().__dir__()
        return [n for n in names if n[:7] != "_saved_" or n not in SAVED_FIELDS or hasattr(self, n)]

    @property
    def next_functions(self) -> tuple:
        # (node, output index), as torch's edges: a port shows the multi-output node it feeds
        return tuple((None, 0) if n is None else (n._next[0], n._oi) if n._port else (n, n._oi) for n in self._next)

    @property
    def metadata(self) -> dict:
        return {}

    def register_hook(self, fn: Any) -> Any:
        """torch's Node.register_hook: fn(grad_inputs, grad_outputs), both tuples, after this node ran; it may
        return a tuple that replaces grad_inputs (the gradients sent on to the node's inputs)."""
        from engine.methods import RemovableHandle

        if self._post is None:
            self._post = []
        HOOKED[0] = True
        self._post.append(fn)
        return RemovableHandle(self._post, fn)

    def register_prehook(self, fn: Any) -> Any:
        """torch's Node.register_prehook: fn(grad_outputs) with a tuple, before this node runs; it may return
        a tuple that replaces it."""
        from engine.methods import RemovableHandle

        if self._npre is None:
            self._npre = []
        HOOKED[0] = True
        self._npre.append(fn)
        return RemovableHandle(self._npre, fn)

    def _add_tensor_prehook(self, fn: Any) -> None:
        """A Tensor.register_hook/retain_grad hook: fn(grad) with the tensor's gradient."""
        if self._pre is None:
            self._pre = []
        HOOKED[0] = True
        self._pre.append(fn)

    def __repr__(self) -> str:
        return f"<{type_name(self)} object at {id(self):#x}>"

    def __call__(self, *grads: Any) -> Any:
        """grad_fn(g): the node run on a gradient by hand, checked first (its kernels trust their inputs)."""
        from engine.tensor import Tensor

        n = self._nout
        if len(grads) != n:
            raise TypeError(f"expected {n} arguments, got {len(grads)} instead")
        if n > 1:  # one gradient per output, None for an output that got none
            from engine.multi_output import Grads

            for i, g in enumerate(grads):
                if g is not None and not isinstance(g, Tensor):
                    raise TypeError(f"argument {i} is not a Variable")
            if all(g is None for g in grads):
                return None  # (no gradient to run on, as torch answers)
            out = self.apply(Grads({i: g for i, g in enumerate(grads) if g is not None}))
            return out[0] if len(out) == 1 else out
        g = grads[0]
        if not isinstance(g, Tensor):
            raise TypeError("argument 0 is not a Variable")
        ctx = self._ctx
        if ctx is not None and tuple(g._data.shape) != tuple(ctx[0]):
            raise RuntimeError(
                f"{type_name(self)} expects a gradient of its output's size [{', '.join(map(str, ctx[0]))}], "
                f"got [{', '.join(map(str, g._data.shape))}]"
            )
        out = self.apply(g)
        return out[0] if len(out) == 1 else out

    def unpack(self) -> tuple:
        """The saved values for backward, after checking none was freed or modified in place.
        (run_backward inlines this check; keep the two in step.)"""
        saved = self._saved
        if saved is FREED:
            raise BackwardTwiceError(self)
        if type(saved) is _Deferred:
            saved = saved.fill(self)
        for i, v in enumerate(self._vers):
            if v is not None and v[0][0] != v[1]:
                raise _version_error(self, saved[i], v[0], v[1])
        if self._outs:
            return tuple([s.tensor(self) if type(s) is _Out else s for s in saved])
        return saved

    def apply(self, g: Any) -> tuple:
        return self.backward(g, *self.unpack())

    def backward(self, g: Any, *saved: Any) -> tuple:  # pragma: no cover - every op overrides it
        raise NotImplementedError

    def release(self) -> None:
        # Only saved tensors are freed (torch's SavedVariables): a node that kept just shapes or dims
        # can run again, as torch's can.
        if self._saved and self._saved is not FREED and _holds_tensors(self):
            self._nfreed = _saved_count(self)
            self._saved = FREED
            self._site = current_site


def _holds_tensors(node: Node) -> bool:
    for v in node._vers:
        if v is not None:
            return True
    return _saved_count(node) > 0


def _is_array(x: Any) -> bool:
    return hasattr(x, "__array_interface__") or hasattr(x, "__cuda_array_interface__")


def _saved_count(node: Node) -> int:
    """How many tensors (or arrays) a node keeps for backward; what freeing it releases."""
    # (loops, not generators: this runs after every node that saved no version record, a mean's among them)
    vers = node._vers
    n = 0
    for v in vers:
        if v is not None:
            n += 1
    saved = node._saved
    if saved is FREED:
        return n or node._nfreed
    nv = len(vers)
    for i, x in enumerate(saved):
        tx = type(x)
        if tx in _PLAIN or (i < nv and vers[i] is not None):
            continue
        if n and i < nv and hasattr(x, "_data"):
            continue  # kept beside the tracked ones but not saved for a gradient (a * c keeps a for c's)
        if tx is tuple:  # shapes and dims mostly: ints
            for y in x:
                if type(y) not in _PLAIN and _is_array(y):
                    n += 1
        elif tx is _Out or hasattr(x, "_data") or _is_array(x):
            n += 1
    return n


_PLAIN = frozenset((int, float, bool, str, type(None)))


class _Out:
    """A saved output: kept as its array, re-wrapped on unpack with this node as grad_fn (as torch
    does), so a node never holds its own output tensor and no reference cycle forms."""

    __slots__ = ("data", "dev", "counter")

    def __init__(self, t: Any) -> None:
        self.data = t._data
        self.dev = t._dev
        self.counter = t._vc

    def tensor(self, node: Node) -> Any:
        t = wrap(self.data, self.dev)
        t._rg = True
        t.grad_fn = node
        t._vc = self.counter
        return t


def save_out(node: Node, t: Any) -> tuple:
    """The (saved item, version record) pair for an op's output."""
    c = t._vc
    node._outs = True
    o = _new_out(_Out)  # (no __init__ call: this runs for every relu, exp, sigmoid, ...)
    o.data = t._data
    o.dev = t._dev
    o.counter = c
    return o, (c, c[0])


_new_out = object.__new__


class _Deferred(tuple):
    """Saved values dropped after forward, to be recomputed (torch.utils.checkpoint): an empty tuple, so the node
    counts no saved tensors, whose `fill(node)` puts the recomputed ones back into the node and returns them.
    A node holding one has `_outs` set, so that backward reaches it through `unpack`."""

    fill: Any

    def __new__(cls, fill: Any) -> _Deferred:
        d = tuple.__new__(cls)
        d.fill = fill
        return d


def raw_saved(node: Node) -> Any:
    """The node's saved tuple as the op stored it, also while saved_tensors_hooks hold it packed."""
    s = node._saved
    raw = getattr(s, "raw", None) if type(s) is _Deferred else None
    return s if raw is None else tuple(v for v, _ in raw)


#: the backward pass running now: its id (0 outside any), whether it computes gradients for given inputs only
#: (autograd.grad, backward(inputs=...)), and the callbacks to run when it ends (None for none)
GRAPH_TASK: list = [0, False, None]
_task_ids = itertools.count(1)
#: the next node's sequence number: `node._seq = next_seq()` where an op builds its node. torch's engine runs,
#: of the nodes whose gradients are complete, the one created last first, and a gradient that several nodes
#: feed is summed in that order: its last bits follow it (an RNN's shared bias).
next_seq = itertools.count(1).__next__


def _queue_callback(fn: Any) -> None:
    """Run fn() when the running backward pass ends (torch's Variable._execution_engine.queue_callback)."""
    if GRAPH_TASK[2] is None:
        GRAPH_TASK[2] = []
    GRAPH_TASK[2].append(fn)


def _is_checkpoint_valid() -> bool:
    """Whether a backward pass may run inside the current one (reentrant checkpointing): not inside
    autograd.grad or backward(inputs=...), whose gradients it would not reach."""
    return not GRAPH_TASK[1]


def _short(name: str) -> str:
    # torch's short node names: MulBackward0 -> Mul, PowBackward2 -> Pow2 (only a 0 is dropped)
    return re.sub(r"Backward(\d*)$", lambda m: "" if m.group(1) in ("", "0") else m.group(1), name)


def _version_error(node: Node, s: Any, counter: list, expected: int, output_nr: int = 0) -> RuntimeError:
    if type(s) is _Out:
        shape, legacy = s.data.shape, _legacy(s.data)
        owner = f", which is output {output_nr} of {_short(node.name())},"
    else:
        shape, legacy = s._data.shape, _legacy(s._data)
        fn = s.grad_fn
        # torch regenerates the grad_fn of a view whose memory changed in place as AsStridedBackward0
        name = "AsStrided" if s._base is not None and s._rg else (_short(fn.name()) if fn is not None else "")
        owner = f", which is output 0 of {name}," if fn is not None else ""
    dims = ", ".join(str(d) for d in shape)
    msg = (
        "one of the variables needed for gradient computation has been modified by an inplace operation: "
        f"[{legacy} [{dims}]]{owner} is at version {counter[0]}; expected version {expected} instead. "
        "Hint: enable anomaly detection to find the operation that failed to compute its gradient, with "
        "torch.autograd.set_detect_anomaly(True, check_nan=False)."
    )
    return VersionError(msg, counter[1] if len(counter) > 1 else None)


def _legacy(arr: Any) -> str:
    from engine.dtypes import FROM_NP

    if arr.dtype == bool:  # (torch names a bool tensor by its C type here)
        return "CPUBoolType" if type(arr) is _ndarray else "CUDABoolType"
    return "torch." + FROM_NP[arr.dtype].legacy


#: torch's SavedVariable field names a node may have (grad_fn._saved_self, _saved_result, ...): each one a
#: property of Node, read from the node's saved tuple by engine.autograd_graph.saved_field (its _FIELDS table
#: names which ones a node has); AttributeError, as for any missing attribute, on a node without it
SAVED_FIELDS = frozenset(
    "_saved_" + f
    for f in (
        "self", "other", "exponent", "result", "tensor", "mat2", "min", "max", "dim", "keepdim", "correction",
        "self_sym_sizes", "self_sym_numel", "result0",
    )
)  # fmt: skip


def _saved_property(name: str) -> property:
    def get(self: Node) -> Any:
        from engine.autograd_graph import saved_field

        return saved_field(self, name)

    get.__name__ = name
    return property(get)


for _name in SAVED_FIELDS:
    setattr(Node, _name, _saved_property(_name))
del _name


class AccumulateGrad(Node):
    """The sink of a leaf: adds incoming gradients into `variable.grad`.

    The leaf holds its AccumulateGrad strongly and the node holds the leaf weakly, so no reference
    cycle forms and a leaf keeps one node for life (ops reuse it without allocating)."""

    def name(self) -> str:
        return "torch::autograd::AccumulateGrad"

    @property
    def variable(self) -> Any:
        return self._var()


def accumulator(t: Any) -> AccumulateGrad | None:
    """t's AccumulateGrad (made once); None for a view made under no_grad, which requires grad in torch
    but has no gradient edge (ops that use it record None there)."""
    node = t._accum
    if node is None:
        meta = t._meta
        if meta is not None and meta.get("nograd_view"):
            return None
        node = AccumulateGrad()
        node._seq = next_seq()
        node._var = weakref.ref(t)
        t._accum = node
    return node


def edge(t: Any) -> Node | None:
    fn = t.grad_fn
    if fn is not None:
        return fn if t._accum is None else output_edge(t, fn)
    if t.requires_grad:
        return accumulator(t)
    return None


def output_edge(t: Any, fn: Node) -> Node:
    """The edge to t's grad_fn: the port of t's output where fn has several (engine/multi_output.py). Only
    asked for a non-leaf whose `_accum` is set; a port left there after an in-place op gave t another
    grad_fn (or an old AccumulateGrad) no longer feeds fn and is passed over."""
    p = t._accum
    return p if p._port and p._next[0] is fn else fn


_FIT_DIMS: dict = {}  # (grad shape, input shape) -> dims to sum over; a model has few distinct pairs
_ndarray = np.ndarray
_add_reduce = np.add.reduce
_dim_sum = dim_sum


def _fit(g: Any, meta: tuple) -> Any:
    """Undo broadcasting (sum over expanded dims) and dtype promotion for one input's gradient."""
    shape, np_dtype = meta
    gd = g._data
    try:
        gs = gd.shape
    except NotImplementedError:  # a sparse gradient (embedding(sparse=True), engine/sparse_tensor.py): as it is
        return g
    if gs != shape:
        dims = _FIT_DIMS.get((gs, shape))
        if dims is None:
            lead = len(gs) - len(shape)
            dims = tuple(range(lead)) + tuple(i + lead for i, n in enumerate(shape) if n == 1 and gs[i + lead] != 1)
            if len(_FIT_DIMS) < 1024:
                _FIT_DIMS[(gs, shape)] = dims
        if not ENABLED[0]:
            # No graph to build: stay in the array library (this runs for every broadcast bias).
            if not dims:
                r = gd
            elif type(gd) is _ndarray:
                # torch's summation order (a bias gradient's last bits are what a training loop prints), numpy's
                # where that order is not known
                r = _dim_sum(gd, dims)
                if r is None:
                    r = _add_reduce(gd, axis=dims)  # (ndarray.sum goes through a Python helper first)
            else:
                r = gd.sum(axis=dims)
            r = r.reshape(shape)
            if r.dtype is not np_dtype and (
                r.dtype != np_dtype or (r.dtype.metadata is None) is not (np_dtype.metadata is None)
            ):
                # a real input's gradient from a complex one is its real part (torch's handle_r_to_c)
                r = (r.real if r.dtype.kind == "c" and np_dtype.kind != "c" else r).astype(np_dtype)
            return wrap(r, g._dev)
        if dims:
            g = g.sum(dim=dims, keepdim=True)
        g = g.reshape(shape)
    if g._data.dtype != np_dtype or (g._data.dtype.metadata is None) is not (np_dtype.metadata is None):
        from engine.dtypes import from_np

        if g._data.dtype.kind == "c" and np_dtype.kind != "c":
            g = g.real
        g = g.to(from_np(np_dtype))
    return g


def _collect(roots: Sequence[Node], targets: dict | None) -> list:
    """Nodes reachable from roots in topological order (each node before the nodes it feeds into).
    With targets, only nodes on a path to a target are kept."""
    order: list = []
    seen: set = {None}  # (None: no edge, so one test per edge)
    needed: dict = {}
    done, mark = order.append, seen.add  # (bound once: this walk runs for every backward)
    sinks = targets is None  # a sink (AccumulateGrad) goes straight to the order unless targets are tested
    stack: list = []
    push, pop = stack.append, stack.pop
    for root in roots:
        if root in seen:
            continue
        mark(root)
        # depth first, the node being walked and its edges' iterator kept in locals (its callers on the stack)
        node, it = root, iter(root._next)
        while True:
            for nxt in it:
                if nxt not in seen:
                    mark(nxt)
                    if sinks and not nxt._next:
                        done(nxt)
                        continue
                    push((node, it))
                    node, it = nxt, iter(nxt._next)
                    break
            else:
                done(node)
                if targets is not None:
                    needed[node] = node in targets or any(n is not None and needed.get(n, False) for n in node._next)
                if not stack:
                    break
                node, it = pop()
    order.reverse()
    if targets is not None:
        order = [n for n in order if needed[n]]  # (torch's engine queues none of the others)
    return _ready_order(order, roots) if len(order) > 2 else order


def _ready_order(order: list, roots: Sequence[Node] = ()) -> list:
    """A topological order turned into the one torch's engine runs: of the nodes whose consumers have all run,
    the one created last (highest sequence number) first, and an AccumulateGrad as soon as it is ready. Creation
    order is itself topological, so sorting by it is that order; a node numbered before one of its inputs (an edge
    read after the number was drawn, a lazily rebuilt view) or built without a number ranks just after its latest
    input, which keeps every node ahead of its inputs. AccumulateGrads that are ready together run in the order
    torch's ready queue (a std::priority_queue, where they tie) pops them: replayed when a leaf has hooks that
    would see it."""
    last = _INF
    for node in order:  # (most graphs: the walk's order is already that one; its sinks stay where they are)
        if type(node) is not AccumulateGrad:
            s = node._seq
            if s >= last or not s:
                break
            last = s
        elif HOOKED[0] or (var := node._var()) is not None and var._meta is not None:  # (else: not _observed)
            if _observed(node):
                break
    else:
        return order
    rank: dict = {}
    feeds: dict = {}  # sink -> how many edges still lead into it
    for node in reversed(order):  # (inputs before the nodes they feed)
        if type(node) is AccumulateGrad:
            feeds[node] = 0
            continue
        r = node._seq
        for n in node._next:
            if n is not None:
                if n in feeds:
                    feeds[n] += 1
                else:
                    q = rank.get(n)
                    if q is not None and q >= r:
                        r = q + 0.5
        rank[node] = r
    if any(_observed(n) for n in feeds):
        for n in feeds:
            rank[n] = _INF
        return _queue_order(order, rank, roots)
    body = sorted(rank, key=rank.__getitem__, reverse=True)
    if not feeds:
        return body
    out = [n for n, k in feeds.items() if not k]  # (a root that is a leaf: ready from the start)
    for node in body:
        out.append(node)
        for n in node._next:
            if n in feeds:
                k = feeds[n] - 1
                feeds[n] = k
                if not k:
                    out.append(n)
    return out


_INF = float("inf")


def _observed(sink: AccumulateGrad) -> bool:
    """Whether hooks would see when this AccumulateGrad runs (its own, or its leaf's tensor hooks)."""
    if HOOKED[0] and (sink._pre is not None or sink._npre is not None or sink._post is not None):
        return True
    var = sink._var()
    meta = var._meta if var is not None else None
    return meta is not None and bool(meta.get("hooks") or meta.get("post_accumulate"))


def _queue_order(order: list, rank: dict, roots: Sequence[Node]) -> list:
    """The order torch's ReadyQueue pops `order`'s nodes in: libstdc++'s push_heap/pop_heap replayed with
    torch's CompareNodeTaskTime (a lower `rank` waits), a node pushed once its last consumer ran, each consumer
    pushing its ready inputs in edge order; several roots hang off one GraphRoot that pushes them in turn."""
    deps: dict = {}
    for node in order:
        for n in node._next:
            if n is not None and n in rank:
                deps[n] = deps.get(n, 0) + 1
    heap: list = []

    def sift_up(hole: int, v: Node) -> None:
        pv = rank[v]
        parent = (hole - 1) // 2
        while hole > 0 and rank[heap[parent]] < pv:
            heap[hole] = heap[parent]
            hole = parent
            parent = (hole - 1) // 2
        heap[hole] = v

    def push(v: Node) -> None:
        heap.append(v)
        sift_up(len(heap) - 1, v)

    def pop() -> Node:
        top = heap[0]
        v = heap.pop()
        n = len(heap)
        if n:
            hole = child = 0
            while child < (n - 1) // 2:
                child = 2 * (child + 1)
                if rank[heap[child]] < rank[heap[child - 1]]:
                    child -= 1
                heap[hole] = heap[child]
                hole = child
            if not n & 1 and child == (n - 2) // 2:
                child = 2 * (child + 1)
                heap[hole] = heap[child - 1]
                hole = child - 1
            sift_up(hole, v)
        return top

    rs = [r for r in roots if r is not None and r in rank]
    if len(rs) == 1:
        push(rs[0])
    else:
        for r in rs:
            deps[r] = deps.get(r, 0) + 1
        for r in rs:
            k = deps[r] - 1
            deps[r] = k
            if not k:
                push(r)
    out = []
    while heap:
        node = pop()
        out.append(node)
        for n in node._next:
            if n is not None and n in rank:
                k = deps[n] - 1
                deps[n] = k
                if not k:
                    push(n)
    return out


#: > 0 while torch.func.vmap runs its function for all but the last batch element: torch runs it once, on the
#: whole batch, so a backward inside (autograd.grad of a captured graph) frees that graph once, after the batch.
KEEP_GRAPHS = [0]


def run_backward(
    roots: Sequence[Node], grads: Sequence[Any], retain_graph: bool, create_graph: bool,
    targets: dict | None = None, stop_at_targets: bool = False, into_leaves: bool = False,
) -> dict:  # fmt: skip
    """The one backward pass. With `targets` (node -> key), gradients reaching those nodes are
    returned instead of being accumulated into leaves' .grad (autograd.grad); with into_leaves too
    (backward(inputs=...)), a target leaf's gradient is accumulated where its AccumulateGrad runs, as torch's
    does (its hooks run once, in the pass's order)."""
    if fusion._LIVE:  # pending fused recipes may read a .grad this pass accumulates into
        fusion.flush()
    retain_graph = retain_graph or KEEP_GRAPHS[0] > 0
    order = _collect(roots, targets)
    pending: dict = {}
    for node, g in zip(roots, grads):
        if node is None:
            continue
        pending[node] = pending[node] + g if node in pending else g
    captured: dict = {}
    tg = targets if targets is not None else _NO_TARGETS
    # autograd.grad stops at a non-leaf target unless a node past it leads to another target: the graph
    # beyond is neither run nor freed, so it can still be backpropagated through later (as in torch)
    on_path = set(order) if targets is not None and stop_at_targets else None
    site = current_site
    prev = ENABLED[0]
    ENABLED[0] = create_graph
    prev_task = GRAPH_TASK[:]
    GRAPH_TASK[:] = (next(_task_ids), targets is not None, None)
    # Raw mode (a plain backward: no graph, no targets, no anomaly checks): gradients flow between nodes with an
    # array formula (`_abw`) as bare cpu ndarrays of float32/float64, wrapped into tensors only where a hook, a
    # node without one, or a leaf's first .grad needs a tensor (an op's dispatch and wrapping cost more than the
    # arithmetic on a small layer's gradient). The numbers are the same: each _abw is its node's no-graph path.
    raw = not create_graph and targets is None
    try:
        for node in order:
            g = pending.pop(node, None)
            if g is None:
                continue
            if raw and (not HOOKED[0] or (node._pre is None and node._npre is None)) and not ANOMALY[0]:
                tg_ = type(g)
                if tg_ is not _ndarray and node._abw is not None and tg_ is Tensor and g._dev is _CPU:
                    gd = g._data  # a tensor gradient (the root's, a tensor formula's) entering an array formula
                    if type(gd) is _ndarray and (gd.dtype is _F32 or gd.dtype is _F64):
                        g, tg_ = gd, _ndarray
                if tg_ is _ndarray:
                    if type(node) is AccumulateGrad:
                        var = node._var()
                        if var is not None:
                            cur = var._grad
                            if cur is not None and var._meta is None and var._rg and not cur._rg:
                                # (as _accumulate: an in-place add into the existing .grad)
                                if fusion._LIVE:
                                    fusion.flush()
                                d = cur._data
                                d += g
                                cur._vc[0] += 1
                            else:
                                t = wrap(g)
                                g = None  # (so that the new tensor is the array's only holder: _accumulate's test)
                                _accumulate(var, t, False)
                        continue
                    abw = node._abw
                    saved = node._saved
                    if (
                        abw is not None and (not HOOKED[0] or node._post is None) and saved is not FREED
                        and type(saved) is not _Deferred
                    ):  # fmt: skip
                        vers = node._vers
                        tracked = False  # (whether a saved tensor has a version record: freeing needs no count)
                        for v in vers:
                            if v is not None:
                                tracked = True
                                if v[0][0] != v[1]:
                                    node.unpack()  # raises torch's error for the modified tensor
                        in_grads = abw(g, *saved)
                        if in_grads is not None:
                            meta = node._meta
                            i = 0
                            for nxt in node._next:
                                if nxt is not None:
                                    gi = in_grads[i]
                                    if gi is not None:
                                        if meta is not None and meta[i] is not None:
                                            gi = _fit_raw(gi, meta[i])
                                        held = pending.get(nxt)
                                        pending[nxt] = gi if held is None else _add_raw(held, gi)
                                i += 1
                            in_grads = gi = g = held = None
                            if not retain_graph and saved:
                                if tracked:
                                    node._saved = FREED
                                    node._site = site
                                elif not node._plain:
                                    n = _saved_count(node)
                                    if n:
                                        node._nfreed = n
                                        node._saved = FREED
                                        node._site = site
                            continue
            if raw and type(g) is _ndarray:
                g = wrap(g)  # on to the tensor path (hooks, a node without an array formula)
            if node._pre is not None:
                for hook in node._pre:
                    r = hook(g)
                    if r is not None:
                        g = hook_result(hook, g, r)
            if node._npre is not None:
                g = _node_prehooks(node, g)
            if type(node) is AccumulateGrad:
                if node in tg and not into_leaves:
                    var = node._var()
                    meta = var._meta if var is not None else None
                    if meta is not None and meta.get("hooks"):  # a leaf's own hooks see captured grads too
                        for hook in meta["hooks"]:
                            r = hook(g)
                            if r is not None:
                                g = hook_result(hook, g, r)
                    captured[tg[node]] = g
                else:
                    var = node._var()
                    if var is not None:
                        _accumulate(var, g, create_graph)
                continue
            if node in tg:
                captured[tg[node]] = g
                if on_path is not None and not any(n in on_path for n in node._next if n is not None):
                    continue
            saved = node._saved
            if saved is FREED or node._outs:
                saved = node.unpack()
            else:
                for v in node._vers:
                    if v is not None and v[0][0] != v[1]:
                        node.unpack()  # raises torch's error for the modified tensor
            if ANOMALY[0]:
                try:
                    in_grads = node.backward(g, *saved)
                except Exception as e:
                    _anomaly_error(node)
                    if getattr(e, "forward_site", None) is None:
                        try:
                            e.forward_site = getattr(node, "_fwd", None)  # type: ignore[attr-defined]
                        except AttributeError:
                            pass
                    raise
                if ANOMALY[1]:
                    _check_nan(node, in_grads)
            else:
                in_grads = node.backward(g, *saved)
            meta = node._meta
            if node._post is not None:
                in_grads, meta = _node_posthooks(node, in_grads, g), None
            for i, nxt in enumerate(node._next):
                if nxt is not None:
                    gi = in_grads[i]
                    if gi is not None:
                        if meta is not None and meta[i] is not None:
                            gi = _fit(gi, meta[i])
                        if nxt in pending:
                            pending[nxt] = pending[nxt] + gi if create_graph else _add_raw(pending[nxt], gi)
                        else:
                            pending[nxt] = gi
            in_grads = gi = None  # so that a gradient's only holder is `pending` (see _accumulate)
            if not retain_graph and saved:
                # Only saved tensors are freed (torch's SavedVariables); a node that kept just shapes
                # can run again. A version record marks a saved tensor.
                for v in node._vers:
                    if v is not None:
                        node._saved = FREED
                        node._site = site
                        break
                else:
                    n = 0 if node._plain else _saved_count(node)
                    if n:
                        node._nfreed = n
                        node._saved = FREED
                        node._site = site
    finally:
        ENABLED[0] = prev
        callbacks = GRAPH_TASK[2]
        GRAPH_TASK[:] = prev_task
        if callbacks is not None:
            for fn in callbacks:
                fn()
    return captured


def _fit_raw(gd: Any, meta: tuple) -> Any:
    """_fit for a raw gradient array (run_backward's raw mode): the summed array, or the tensor _fit gives where
    a cast is needed."""
    shape, np_dtype = meta
    if gd.dtype is not np_dtype:
        return _fit(wrap(gd), meta)
    gs = gd.shape
    if gs == shape:
        return gd
    dims = _FIT_DIMS.get((gs, shape))
    if dims is None:
        lead = len(gs) - len(shape)
        dims = tuple(range(lead)) + tuple(i + lead for i, n in enumerate(shape) if n == 1 and gs[i + lead] != 1)
        if len(_FIT_DIMS) < 1024:
            _FIT_DIMS[(gs, shape)] = dims
    if not dims:
        return gd.reshape(shape)
    r = _dim_sum(gd, dims)
    if r is None:
        r = _add_reduce(gd, axis=dims)
    if r.shape != shape:  # (not a view where the sum has the shape already: a fresh array can become a .grad)
        r = r.reshape(shape)
    if type(r) is not _ndarray:
        r = np.asarray(r)
    return r if r.dtype is np_dtype else _fit(wrap(gd), meta)


def _add_raw(a: Any, b: Any) -> Any:
    """Two gradients of one input summed in raw mode (either may be a tensor), as _add_plain sums them."""
    if type(a) is _ndarray and type(b) is _ndarray and a.dtype is b.dtype:
        try:
            r = _np_add(a, b)
        except ValueError:
            r = None
        if r is not None:
            return r if type(r) is _ndarray else np.asarray(r)
    return _add_plain(wrap(a) if type(a) is _ndarray else a, wrap(b) if type(b) is _ndarray else b)


_CPU = CPU
_F32 = np.dtype(np.float32)
_F64 = np.dtype(np.float64)


def plain_op(ufunc: Any, a: Any, b: Any) -> Any:
    """ufunc(a, b) for two tensors of one dtype on the cpu, computed as the op computes it but without its
    checks and graph: for backward formulas when no graph is built (an op's own Python costs more than the
    arithmetic on a layer's gradient). None where the op must decide (promotion, devices, subclasses,
    shapes that do not broadcast)."""
    if type(a) is Tensor and type(b) is Tensor:
        ad, bd = a._data, b._data
        if type(ad) is _ndarray and type(bd) is _ndarray and ad.dtype is bd.dtype:
            try:
                r = ufunc(ad, bd)
            except ValueError:
                return None
            return wrap(r if type(r) is _ndarray else np.asarray(r), a._dev)  # (0-dim operands give a scalar)
    return None


def _add_plain(a: Any, b: Any) -> Any:
    """a + b for two gradients of one input when no graph is built (a shared input, as in d * d)."""
    r = plain_op(_np_add, a, b)
    if r is None:  # (after a sparse gradient, torch's InputBuffer adds the new one first: engine/sparse_tensor.py)
        return b + a if getattr(a, "is_sparse", False) is True else a + b  # (Grads of a multi-output node: none)
    return r


_np_add = np.add


def apply_fitted(node: Node, g: Any) -> list:
    """node's gradients for its inputs, cast and unbroadcast as run_backward does (for a node run inside
    another: CopySlices runs the write it wraps); None where an input needs none."""
    grads = node.apply(g)
    meta = node._meta
    out = []
    for i, nxt in enumerate(node._next):
        gi = grads[i] if nxt is not None else None
        if gi is not None and meta is not None and meta[i] is not None:
            gi = _fit(gi, meta[i])
        out.append(gi)
    return out


_NO_TARGETS: dict = {}


def _grad_outputs(node: Node, g: Any) -> tuple:
    """The gradients a node received, one per output: a multi-output custom Function's node gets them
    gathered per output index (engine.multi_output.Grads), None for outputs that got none."""
    from engine.multi_output import Grads

    if type(g) is Grads:
        return tuple(g.g.get(i) for i in range(node._nout))
    return (g,)


def _node_prehooks(node: Node, g: Any) -> Any:
    from engine.multi_output import Grads

    grads = _grad_outputs(node, g)
    for hook in list(node._npre):
        r = hook(grads)
        if r is not None:
            if not isinstance(r, tuple) or len(r) != len(grads):
                raise RuntimeError(f"hook '{getattr(hook, '__name__', 'hook')}' has returned an incorrect number of "
                                   f"values (got {len(r) if isinstance(r, tuple) else 1}, but expected "
                                   f"{len(grads)})")  # fmt: skip
            grads = tuple(
                hook_result(hook, old, new) if new is not None and old is not None else new
                for old, new in zip(grads, r)
            )
    if len(grads) == 1 and type(g) is not Grads:
        return grads[0] if grads[0] is not None else g
    return Grads({i: x for i, x in enumerate(grads) if x is not None})


def _node_posthooks(node: Node, in_grads: Any, g: Any) -> list:
    """Run grad_fn.register_hook hooks on the gradients for the node's inputs (fitted to the inputs' shapes
    and dtypes first, as torch hands them over); the result is already fitted."""
    meta = node._meta
    fitted = []
    i = 0
    for nxt in node._next:
        gi = in_grads[i] if nxt is not None else None
        if gi is not None and meta is not None and meta[i] is not None:
            gi = _fit(gi, meta[i])
        fitted.append(gi)
        i += 1
    grad_outputs = _grad_outputs(node, g)
    for hook in list(node._post):
        r = hook(tuple(fitted), grad_outputs)
        if r is not None:
            if not isinstance(r, tuple) or len(r) != len(fitted):
                raise RuntimeError(f"hook '{getattr(hook, '__name__', 'hook')}' has returned an incorrect number of "
                                   f"values (got {len(r) if isinstance(r, tuple) else 1}, but expected "
                                   f"{len(fitted)})")  # fmt: skip
            # each replacement checked as a tensor hook's is: a wrong size would reach the next node's kernels
            fitted = [_posthook_grad(hook, old, new) for old, new in zip(fitted, r)]
    return fitted


def _posthook_grad(hook: Any, old: Any, new: Any) -> Any:
    if new is None:
        return None
    if old is None:
        raise RuntimeError("can't replace a None gradient with a non-None value")
    return hook_result(hook, old, new)


def hook_result(hook: Any, g: Any, r: Any) -> Any:
    """What a gradient hook returned, checked as torch checks it: same type, device and size as the gradient."""
    from engine.tensor import Tensor

    name = getattr(hook, "__name__", None) or getattr(hook, "name", None) or type_name(hook)
    if not isinstance(r, Tensor):
        raise TypeError(f"expected Variable, but hook returned '{type_name(r)}'")
    if r.dtype is not g.dtype or r._dev is not g._dev:
        was, got = g.type(), r.type()
        raise RuntimeError(f"hook '{name}' has changed the type of value (was {was} got {got})")
    if r._data.shape != g._data.shape:
        raise RuntimeError(f"hook '{name}' has changed the size of value")
    return r


_refcount = sys.getrefcount


def _ref_counts(g: Any) -> tuple:
    gd = g._data
    return _refcount(g), _refcount(gd)


def _calibrate_ownership() -> tuple:
    """The reference counts _accumulate sees for a gradient held by nobody but run_backward's frame,
    measured through the same call shape (so interpreter versions that count differently agree)."""

    class _G:
        __slots__ = ("_data",)

    def accumulate(var: Any, g: Any, create_graph: bool) -> tuple:
        return _ref_counts(g)

    g = _G()
    g._data = np.zeros(1)
    return accumulate(None, g, False)


_OWN_T, _OWN_A = _calibrate_ownership()


def _sole_view(gd: Any) -> bool:
    """Whether gd is a view of a whole array that nothing else holds (a reshaped fresh result: a bias's summed
    gradient): then gd owns that memory as much as an array without a base does."""
    base = gd.base
    return type(base) is _ndarray and base.nbytes == gd.nbytes and _refcount(base) <= _OWN_BASE


def _calibrate_base() -> int:
    """The reference count _sole_view sees for the base of a view that nothing else holds (measured through the
    same steps: a local, the view's .base, getrefcount's argument)."""

    def refs(gd: Any) -> int:
        base = gd.base
        return _refcount(base)

    return refs(np.zeros(2).reshape(1, 2))


_OWN_BASE = _calibrate_base()


def _laid_out_as(vd: Any, gd: Any, xp: Any) -> Any:
    """A first .grad for a leaf that is not C-contiguous: torch's layout contract gives it the leaf's strides
    where the leaf is one dense block (a channels-last or transposed parameter), else C order."""
    from engine.creation import preserved

    out = preserved(vd, xp, gd.dtype)
    out[...] = gd
    return out


def _accumulate(var: Any, g: Any, create_graph: bool) -> None:
    if not var._rg:  # (detach_() or requires_grad_(False) after the graph was built: torch stores nothing)
        return
    meta = var._meta
    if meta is not None and meta.get("nograd_view"):
        return  # torch's view made under no_grad: a leaf that gathers no gradient
    if meta is not None and meta.get("hooks"):
        for hook in meta["hooks"]:
            r = hook(g)
            if r is not None:
                g = hook_result(hook, g, r)
    cur = var._grad  # var is a leaf: no non-leaf .grad warning to check
    if cur is None:
        if create_graph:
            # torch copies the incoming grad into a fresh tensor (CopyBackwards when it has a graph)
            from engine.ops.inplace import copy_

            var.grad = copy_(wrap(g._dev.xp.empty_like(g._data), g._dev), g)
        elif not var._data.flags.c_contiguous:
            if var.is_sparse:  # a sparse leaf (engine/sparse_tensor.py): its gradient as it comes, sparse or dense
                if g.is_sparse:
                    from engine.sparse_tensor import grad_copy

                    var._grad = grad_copy(g)
                else:
                    var._grad = wrap(g._data.copy(), g._dev)
            else:
                var._grad = wrap(_laid_out_as(var._data, g._data, g._dev.xp), g._dev)
        else:
            nt, na = _ref_counts(g)
            gd = g._data
            try:
                if (
                    nt <= _OWN_T and na <= _OWN_A and g._base is None and (gd.base is None or _sole_view(gd))
                    and gd.flags.c_contiguous
                ):  # fmt: skip
                    # Nobody else can see this gradient (torch's use_count test): it becomes .grad as is,
                    # without a copy. A shared one (AddBackward hands one tensor to both inputs, a hook or
                    # the caller kept it) is copied, since users update grads in place.
                    var._grad = g
                else:
                    var._grad = wrap(gd.copy(), g._dev)
            except NotImplementedError:  # a sparse gradient of a dense leaf (embedding(sparse=True)): kept sparse
                from engine.sparse_tensor import grad_copy

                var._grad = grad_copy(g)
    elif create_graph:
        var.grad = cur + g
    elif cur._rg:  # a grad with a graph (from create_graph=True): torch adds in place, keeping its grad_fn
        cur._data = cur._data + g._data
        cur._vc[0] += 1
    else:
        if fusion._LIVE:  # a hook may have made a pending recipe that reads this .grad
            fusion.flush()
        d = cur._data
        try:
            d += g._data
        except (
            NotImplementedError
        ):  # a sparse .grad or gradient (engine/sparse_tensor.py): added out of place, as torch
            var._grad = g + cur if cur.is_sparse and not g.is_sparse else cur + g
        cur._vc[0] += 1
    if meta is not None and meta.get("post_accumulate"):
        for hook in meta["post_accumulate"]:
            r = hook(var)
            if r is not None:
                if not isinstance(r, Tensor):
                    raise TypeError(f"expected Variable, but hook returned '{type(r).__name__}'")
                raise RuntimeError("Tensor post accumulate grad hooks should return None.")


def _as_tuple(x: Any) -> tuple:
    if isinstance(x, (list, tuple)):
        return tuple(x)
    return (x,)


def implicit_grad(out: Any) -> Any:
    """The gradient backward() starts from for a one-element output: a one of its dtype and shape."""
    od, xp = out._data, out._dev.xp
    # (a 0-dim one from array() is several times quicker than ones(()), a Python-level function)
    return wrap(xp.array(1, dtype=od.dtype) if not od.ndim else xp.ones(od.shape, dtype=od.dtype), out._dev)


def _grads_tuple(grads: Any, n: int) -> tuple | None:
    """torch's _tensor_or_tensors_to_tuple, then its count check: a tensor, or an iterable of tensors/None."""
    from engine.tensor import Tensor

    if grads is None:
        return None
    grads = (grads,) if isinstance(grads, Tensor) else tuple(grads)  # (a float: "not iterable", as torch)
    grads = grads[:n]  # (torch zips outputs with gradients: extra gradients are ignored)
    for g in grads:
        if g is not None and not isinstance(g, Tensor):
            raise TypeError(f"gradients can be either Tensors or None, but got {type_name(g)}")
    if len(grads) != n:
        raise RuntimeError(f"got {n} tensors and {len(grads)} gradients")
    return grads


def _root_grads(outputs: tuple, grad_outputs: tuple | None, fn_name: str) -> list:
    from engine.tensor import Tensor

    grads = []
    for i, out in enumerate(outputs):
        if not isinstance(out, Tensor):
            raise TypeError(f"{fn_name}: expected Tensor outputs, got {type_name(out)}")
        g = grad_outputs[i] if grad_outputs is not None and i < len(grad_outputs) else None
        if not out.requires_grad:
            raise RuntimeError(f"element {i} of tensors does not require grad and does not have a grad_fn")
        if g is None:
            if out._data.size != 1:
                raise RuntimeError("grad can be implicitly created only for scalar outputs")
            if out._data.dtype.kind != "f":
                raise RuntimeError(f"grad can be implicitly created only for real scalar outputs but got {out.dtype}")
            g = implicit_grad(out)
        else:
            if g._data.shape != out._data.shape:
                dims = ", ".join(str(d) for d in out._data.shape)
                gdims = ", ".join(str(d) for d in g._data.shape)
                raise RuntimeError(
                    f"Mismatch in shape: grad_output[{i}] has a shape of torch.Size([{gdims}]) and output[{i}] "
                    f"has a shape of torch.Size([{dims}])."
                )
            if g.dtype is not out.dtype:  # torch casts a grad_output to its output's dtype
                g = wrap(g._data.astype(out._data.dtype), g._dev) if not g._rg else g.to(out.dtype)
        grads.append(g)
    return grads


#: engine/forward_ad's check of backward()'s and grad()'s outputs (and inputs), set while a dual level is entered or a
#: dual tensor hides a graph: True where the pass must keep the graph
FORWARD_AD: list = [None]


def backward(
    tensors: Any, grad_tensors: Any = None, retain_graph: bool | None = None, create_graph: bool = False,
    grad_variables: Any = None, inputs: Any = None,
) -> None:  # fmt: skip
    """torch.autograd.backward: accumulate d(tensors)/d(leaves) into the leaves' .grad."""
    if inputs is not None and not isinstance(inputs, Tensor) and len(inputs) == 0:
        raise RuntimeError("`inputs` argument to `backward()` cannot be empty.")
    outs = _as_tuple(tensors)
    if grad_tensors is None:
        grad_tensors = grad_variables
    gts = _grads_tuple(grad_tensors, len(outs))
    if retain_graph is None:
        retain_graph = create_graph
    if FORWARD_AD[0] is not None and FORWARD_AD[0](outs):  # (forward AD: a dual tensor's graph is torch's to
        retain_graph = True  # refuse, and the tangents are read from the graph later)
    grads = _root_grads(outs, gts, "backward")
    if create_graph and not _CYCLE_WARNED:
        _warn_cycle()
    roots = [edge(o) for o in outs]
    if inputs is not None:
        ins = _as_tuple(inputs)
        targets = {edge(t): i for i, t in enumerate(ins)}
        got = run_backward(roots, grads, retain_graph, create_graph, targets, into_leaves=True)
        for i, t in enumerate(ins):  # (leaves were accumulated in the pass)
            if i in got and not (t.grad_fn is not None and t._meta and t._meta.get("retain")):
                _accumulate(t, got[i], create_graph)  # (a retain_grad hook has already stored a non-leaf's)
        return
    run_backward(roots, grads, retain_graph, create_graph)


_CYCLE_WARNED = False


def _warn_cycle() -> None:
    """torch warns once per process (TORCH_WARN_ONCE) when backward() accumulates a graph into .grad."""
    global _CYCLE_WARNED
    _CYCLE_WARNED = True
    import warnings

    warnings.warn(
        "Using backward() with create_graph=True will create a reference cycle between the parameter and its "
        "gradient which can cause a memory leak. We recommend using autograd.grad when creating the graph to "
        "avoid this. If you have to use this function, make sure to reset the .grad fields of your parameters "
        "to None after use to break the cycle and avoid the leak. (Triggered internally at "
        "/__w/pytorch/pytorch/torch/csrc/autograd/engine.cpp:1307.)",
        UserWarning,
        stacklevel=user_stacklevel(),
    )


def grad(
    outputs: Any, inputs: Any, grad_outputs: Any = None, retain_graph: bool | None = None,
    create_graph: bool = False, only_inputs: bool = True, allow_unused: bool | None = None,
    is_grads_batched: bool = False, materialize_grads: bool = False,
) -> tuple:  # fmt: skip
    """torch.autograd.grad: the gradients of outputs w.r.t. inputs, returned rather than accumulated."""
    if FORWARD_AD[0] is not None and FORWARD_AD[0](_as_tuple(outputs), _as_tuple(inputs)):  # (forward AD: a
        retain_graph = True  # dual tensor's graph is torch's to refuse, and the tangents are read from it later)
    return grad_of(outputs, inputs, grad_outputs, retain_graph, create_graph, only_inputs, allow_unused,
                   is_grads_batched, materialize_grads)  # fmt: skip


def grad_of(
    outputs: Any, inputs: Any, grad_outputs: Any = None, retain_graph: bool | None = None,
    create_graph: bool = False, only_inputs: bool = True, allow_unused: bool | None = None,
    is_grads_batched: bool = False, materialize_grads: bool = False,
) -> tuple:  # fmt: skip
    """grad() as the engine's own transforms call it (torch.func, autograd.functional): no check of forward AD's
    graphs, which their passes go through."""
    outs = _as_tuple(outputs)
    ins = _as_tuple(inputs)
    if not ins:
        raise RuntimeError("`inputs` argument to `grad()` cannot be empty.")
    gos = _grads_tuple(grad_outputs, len(outs))
    if retain_graph is None:
        retain_graph = create_graph
    if allow_unused is None:
        allow_unused = materialize_grads
    if is_grads_batched:
        return _grad_batched(outs, ins, gos, retain_graph, create_graph, allow_unused, materialize_grads)
    grads = _root_grads(outs, gos, "grad")  # torch checks the outputs before the inputs
    for t in ins:
        if not t.requires_grad:
            raise RuntimeError("One of the differentiated Tensors does not require grad")
    roots = [edge(o) for o in outs]
    targets: dict = {}
    for i, t in enumerate(ins):
        targets.setdefault(edge(t), i)
    got = run_backward(roots, grads, retain_graph, create_graph, targets, stop_at_targets=True)
    result = []
    for i, t in enumerate(ins):
        g = got.get(targets[edge(t)])
        if g is None:
            if not allow_unused:
                raise RuntimeError(
                    f"The differentiated Tensor at index {i} appears to not have been used in the graph. "
                    "Set allow_unused=True if this is the desired behavior."
                )
            if materialize_grads:
                from engine.creation import zeros_like

                g = zeros_like(t)
        elif not create_graph and g.requires_grad:
            g = g.detach()
        result.append(g)
    return tuple(result)


def _grad_batched(outs: tuple, ins: tuple, gos: tuple | None, retain_graph: bool, create_graph: bool,
                  allow_unused: bool, materialize_grads: bool) -> tuple:  # fmt: skip
    """grad(..., is_grads_batched=True): dim 0 of each grad_output is a batch of vectors, one vector-Jacobian
    product each, stacked (torch vmaps one backward over the batch; here one backward pass per vector, the graph
    kept until the last)."""
    from engine.ops.index import stack
    from engine.tensor import Tensor

    if gos is not None:
        for i, (o, g) in enumerate(zip(outs, gos)):
            if isinstance(g, Tensor) and isinstance(o, Tensor) and tuple(g.shape[1:]) != tuple(o.shape):
                # (torch names the shape of grad_output[0] less its first dim: its own slip, kept)
                shown = ", ".join(str(d) for d in g.shape[2:])
                dims = ", ".join(str(d) for d in o.shape)
                raise RuntimeError(
                    "If `is_grads_batched=True`, we interpret the first dimension of each grad_output as the batch "
                    "dimension. The sizes of the remaining dimensions are expected to match the shape of "
                    f"corresponding output, but a mismatch was detected: grad_output[{i}] has a shape of "
                    f"torch.Size([{shown}]) and output[{i}] has a shape of torch.Size([{dims}]). If you only want "
                    "some tensors in `grad_output` to be considered batched, consider using vmap."
                )
    batch = next((g.shape[0] for g in gos or () if isinstance(g, Tensor)), None)
    if batch is None:
        raise RuntimeError("vmap: Expected at least one Tensor to vmap over")
    per = []
    for b in range(batch):
        vectors = tuple(None if g is None else g[b] for g in gos)
        per.append(grad(outs, ins, vectors, retain_graph or b < batch - 1, create_graph, allow_unused=allow_unused))
    result = []
    for i, t in enumerate(ins):
        got = [p[i] for p in per]
        if got and got[0] is not None:
            result.append(stack(got))
        elif materialize_grads:
            from engine.creation import zeros_like

            result.append(zeros_like(t))
        else:
            result.append(None)
    return tuple(result)


class NodeInfo:
    """What tcli's graph view shows about a node. `outputs`: the shape of each output of a node that several
    outputs share (split's, unbind's), () for a node of one output."""

    __slots__ = ("name", "shape", "dtype", "saved", "freed", "outputs")

    def __init__(
        self, name: str, shape: tuple | None, dtype: Any, saved: int, freed: bool, outputs: tuple = ()
    ) -> None:
        self.name, self.shape, self.dtype, self.saved, self.freed = name, shape, dtype, saved, freed
        self.outputs = outputs

    def __repr__(self) -> str:
        return f"NodeInfo({self.name}, shape={self.shape}, saved={self.saved}, freed={self.freed})"


def describe(node: Node) -> NodeInfo:
    from engine.dtypes import FROM_NP, from_np

    if type(node) is AccumulateGrad:
        v = node._var()
        if v is None:
            return NodeInfo("AccumulateGrad", None, None, 0, False)
        return NodeInfo("AccumulateGrad", tuple(v._data.shape), v.dtype, 0, False)
    ctx = node._ctx
    shape = dtype = None
    if ctx is not None:
        shape, npdt = ctx
        dtype = from_np(npdt) if npdt in FROM_NP else None
    outputs = tuple(tuple(s) for s in node._oshapes) if node._nout > 1 else ()
    return NodeInfo(node.name(), shape, dtype, _saved_count(node), node._saved is FREED, outputs)


def gradcheck(*args: Any, **kwargs: Any) -> bool:
    from engine.gradcheck import gradcheck as _gc

    return _gc(*args, **kwargs)


def gradgradcheck(*args: Any, **kwargs: Any) -> bool:
    from engine.gradcheck import gradgradcheck as _ggc

    return _ggc(*args, **kwargs)


#: anomaly mode: (enabled, check_nan). While it is on, every node records where its forward ran (Node.__init__
#: is set only then: nodes otherwise cost no call to build).
ANOMALY = [False, True]


def _anomaly_node_init(self: Node) -> None:
    site = current_site
    if site is None:  # plain Python (import engine as torch): the caller's stack, as torch records it
        import traceback

        from engine.warn import _ENGINE

        frames = [f for f in traceback.extract_stack()[:-1] if not f.filename.startswith(_ENGINE)]
        site = traceback.format_list(frames)
    self._fwd = site


#: callbacks that see every node made while they are on the list (torch.utils.checkpoint records the nodes of a
#: checkpointed forward); like anomaly mode, they set Node.__init__ only while there are any
NODE_WATCHERS: list = []


def _watched_node_init(self: Node) -> None:
    if ANOMALY[0]:
        _anomaly_node_init(self)
    for watch in NODE_WATCHERS:
        watch(self)


def _sync_node_init() -> None:
    if NODE_WATCHERS:
        Node.__init__ = _watched_node_init  # type: ignore[assignment,method-assign]
    elif ANOMALY[0]:
        Node.__init__ = _anomaly_node_init  # type: ignore[assignment,method-assign]
    elif "__init__" in Node.__dict__:
        del Node.__init__


class _watch_nodes:  # noqa: N801 - reads as the context it is
    """Within it, fn(node) is called for every node made, in the order they are made."""

    def __init__(self, fn: Any) -> None:
        self.fn = fn

    def __enter__(self) -> None:
        NODE_WATCHERS.append(self.fn)
        _sync_node_init()

    def __exit__(self, *exc: object) -> None:
        NODE_WATCHERS.remove(self.fn)
        _sync_node_init()


def set_anomaly_enabled(enabled: bool, check_nan: bool = True) -> None:
    ANOMALY[0], ANOMALY[1] = bool(enabled), bool(check_nan)
    _sync_node_init()


def is_anomaly_enabled() -> bool:
    return ANOMALY[0]


def is_anomaly_check_nan_enabled() -> bool:
    return ANOMALY[1]


class detect_anomaly:  # noqa: N801 - torch's name
    """Context manager (and decorator): backward checks each function's results for nan and, when one fails,
    warns with where its forward ran."""

    def __init__(self, check_nan: bool = True) -> None:
        self.prev = ANOMALY[0]
        self.check_nan = check_nan
        self.prev_check_nan = ANOMALY[1]
        import warnings

        warnings.warn(
            "Anomaly Detection has been enabled. This mode will increase the runtime and should only be enabled "
            "for debugging.",
            UserWarning,
            stacklevel=user_stacklevel(),
        )

    def __enter__(self) -> None:
        set_anomaly_enabled(True, self.check_nan)

    def __exit__(self, *exc: object) -> None:
        set_anomaly_enabled(self.prev, self.prev_check_nan)

    def __call__(self, fn: Any) -> Any:
        import functools

        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with self.__class__(self.check_nan):
                return fn(*args, **kwargs)

        return wrapper


class set_detect_anomaly:  # noqa: N801 - torch's name
    """Turns anomaly mode on or off when made; as a context manager, restores the previous mode at the end."""

    def __init__(self, mode: bool, check_nan: bool = True) -> None:
        self.prev = ANOMALY[0]
        self.prev_check_nan = ANOMALY[1]
        set_anomaly_enabled(mode, check_nan)

    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> None:
        set_anomaly_enabled(self.prev, self.prev_check_nan)


def _forward_trace(node: Node) -> str:
    """Where a node's forward ran, as torch's anomaly warning shows the forward call's stack."""
    site = getattr(node, "_fwd", None)
    if site is None:
        return ""
    if isinstance(site, list):
        return "".join(site)
    return f'  File "{site.filename}", line {site.line}, in <module>\n    {site.text.strip()}\n'


def _anomaly_error(node: Node) -> None:
    """torch's warning for a failing node in anomaly mode, before its error is raised."""
    import warnings

    warnings.warn(
        f"Error detected in {node.name()}. Traceback of forward call that caused the error:\n{_forward_trace(node)}"
        " (Triggered internally at /__w/pytorch/pytorch/torch/csrc/autograd/python_anomaly_mode.cpp:122.)",
        UserWarning,
        stacklevel=user_stacklevel(),
    )


def _check_nan(node: Node, in_grads: Any) -> None:
    for i, gi in enumerate(in_grads):
        if gi is not None and hasattr(gi, "_data") and gi._data.dtype.kind in "fc":
            xp = gi._dev.xp
            if bool(xp.isnan(gi._data).any()):
                _anomaly_error(node)
                e = RuntimeError(f"Function '{node.name()}' returned nan values in its {i}th output.")
                e.forward_site = getattr(node, "_fwd", None)  # type: ignore[attr-defined]
                raise e


class _VariableMeta(TorchNamed):
    def __instancecheck__(cls, other: Any) -> bool:
        from engine.tensor import Tensor

        return isinstance(other, Tensor)


class Variable(metaclass=_VariableMeta):
    """torch.autograd.Variable, from before Tensor and Variable merged (old tutorials use it): a tensor that
    shares data's memory, with requires_grad set; every tensor is an instance."""

    _torch_name = "torch.autograd.variable.Variable"

    def __new__(cls, data: Any = None, requires_grad: bool = False, volatile: bool = False) -> Any:  # noqa: ANN401
        from engine.tensor import Tensor, view_of

        if not isinstance(data, Tensor):
            raise TypeError(f"Variable data has to be a tensor, but got {type_name(data)}")
        if volatile:
            import warnings

            warnings.warn(
                "volatile was removed and now has no effect. Use `with torch.no_grad():` instead.",
                UserWarning,
                stacklevel=user_stacklevel(),
            )
        prev = ENABLED[0]
        ENABLED[0] = False
        try:
            t = view_of(data._data, data)
        finally:
            ENABLED[0] = prev
        t._base = None  # a new leaf over the same memory (not a differentiable view)
        t._rg = False
        t._meta = None
        if requires_grad:
            t.requires_grad_(requires_grad)
        return t


def __getattr__(name: str) -> object:
    if name in ("Function", "FunctionCtx", "once_differentiable", "function"):
        # custom Functions load on first use (torch.autograd.function is the module itself)
        from engine import autograd_function

        return autograd_function if name == "function" else getattr(autograd_function, name)
    if name == "functional":  # (torch.autograd.functional: loaded on first use)
        from engine import autograd_functional

        return autograd_functional
    if name == "forward_ad":  # (torch.autograd.forward_ad: dual tensors)
        from engine import forward_ad

        return forward_ad
    if name == "graph":  # (torch.autograd.graph: saved tensors and their hooks)
        from engine import autograd_graph

        return autograd_graph
    from engine.not_covered import not_covered

    raise not_covered("torch.autograd", name)
