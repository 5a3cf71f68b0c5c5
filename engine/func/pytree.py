"""The part of torch.utils._pytree that torch.func's transforms use: containers flattened to their leaves and a
TreeSpec that rebuilds them. torch.func's messages print TreeSpecs (vmap's in_dims and out_dims checks, jvp's
structure check), so the spec's repr, its equality and the prefix matching of in_dims/out_dims are torch's.

Nodes: tuple, list, dict, namedtuple, OrderedDict, defaultdict, deque, torch.Size (rebuilt as a plain tuple, as
torch registers it) and the torch.return_types pairs; anything else, None included, is a leaf."""

from __future__ import annotations

from collections import OrderedDict, defaultdict, deque, namedtuple
from collections.abc import Callable
from typing import Any

from engine.tensor import Size


def _is_namedtuple_class(cls: type) -> bool:
    fields = getattr(cls, "_fields", None)
    return (
        issubclass(cls, tuple)
        and isinstance(fields, tuple)
        and all(type(f) is str for f in fields)
        and callable(getattr(cls, "_make", None))
        and callable(getattr(cls, "_asdict", None))
    )


def _is_return_type(cls: type) -> bool:
    return issubclass(cls, tuple) and str(getattr(cls, "_torch_name", "")).startswith("torch.return_types.")


def _node_type(tree: Any) -> Any:
    """The registry key of tree's node type, or None for a leaf."""
    tp = type(tree)
    if tp in _NODES:
        return tp
    if _is_namedtuple_class(tp):
        return namedtuple
    if _is_return_type(tp):
        return tp
    return None


def _dict_flatten(d: dict) -> tuple[list, Any]:
    return list(d.values()), list(d.keys())


# type -> (flatten: node -> (children, context), unflatten: (children, context) -> node)
_NODES: dict[Any, tuple[Callable, Callable]] = {
    tuple: (lambda t: (list(t), None), lambda c, _: tuple(c)),
    list: (lambda t: (list(t), None), lambda c, _: list(c)),
    dict: (_dict_flatten, lambda c, keys: dict(zip(keys, c))),
    namedtuple: (lambda t: (list(t), type(t)), lambda c, cls: cls(*c)),
    OrderedDict: (_dict_flatten, lambda c, keys: OrderedDict(zip(keys, c))),
    defaultdict: (
        lambda d: (list(d.values()), [d.default_factory, list(d.keys())]),
        lambda c, ctx: defaultdict(ctx[0], zip(ctx[1], c)),
    ),
    deque: (lambda d: (list(d), d.maxlen), lambda c, maxlen: deque(c, maxlen=maxlen)),
    Size: (lambda t: (list(t), None), lambda c, _: tuple(c)),
}
_BUILTIN = frozenset({tuple, list, dict, namedtuple, OrderedDict, defaultdict, deque})
_DICTS = frozenset({dict, OrderedDict, defaultdict})


def _flatten_fn(node_type: Any) -> Callable:
    entry = _NODES.get(node_type)
    return entry[0] if entry is not None else lambda t: (list(t), None)


def _unflatten_fn(node_type: Any) -> Callable:
    entry = _NODES.get(node_type)
    return entry[1] if entry is not None else lambda c, _: tuple.__new__(node_type, c)


class TreeSpec:
    """The structure of a pytree: the root's node type, its context (dict keys, a namedtuple's class) and one
    spec per child; the leaf spec prints as *."""

    __slots__ = ("type", "context", "children", "num_leaves")

    def __init__(self, node_type: Any, context: Any, children: list[TreeSpec]) -> None:
        self.type = node_type
        self.context = context
        self.children = children
        self.num_leaves = 1 if node_type is None else sum(c.num_leaves for c in children)

    def is_leaf(self) -> bool:
        return self.type is None

    def __eq__(self, other: object) -> bool:
        if self is other:
            return True
        if not isinstance(other, TreeSpec):
            return NotImplemented
        return str(self.type) == str(other.type) and self.context == other.context and self.children == other.children

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self, indent: int = 0) -> str:
        if self.type is None:
            return "*"
        body = ""
        if self.children:
            indent += 2
            body = self.children[0].__repr__(indent) + ("," if len(self.children) > 1 else "")
            body += ",".join("\n" + " " * indent + c.__repr__(indent) for c in self.children[1:])
        # (the engine's torch classes are named torch.Size & co; torch prints the bare class name)
        return f"TreeSpec({self.type.__name__.rpartition('.')[2]}, {self.context}, [{body}])"

    def unflatten(self, leaves: Any) -> Any:
        leaves = list(leaves)
        if len(leaves) != self.num_leaves:
            raise ValueError(
                f"treespec.unflatten(leaves): `leaves` has length {len(leaves)} but the spec refers to a pytree "
                f"that holds {self.num_leaves} items ({self})."
            )
        if self.type is None:
            return leaves[0]
        children, start = [], 0
        for child in self.children:
            children.append(child.unflatten(leaves[start : start + child.num_leaves]))
            start += child.num_leaves
        return _unflatten_fn(self.type)(children, self.context)

    def flatten_up_to(self, tree: Any) -> list:
        """tree's subtrees at this spec's leaves; ValueError where tree's structure differs above them."""
        out: list = []
        self._up_to(tree, out)
        return out

    def _up_to(self, node: Any, out: list) -> None:
        if self.type is None:
            out.append(node)
            return
        node_type = _node_type(node)
        if self.type not in _BUILTIN:
            if node_type != self.type:
                raise ValueError(f"Type mismatch; expected {self.type!r}, but got {node_type!r}.")
            children, context = _flatten_fn(node_type)(node)
            if len(children) != len(self.children):
                raise ValueError(
                    f"Node arity mismatch; expected {len(self.children)}, but got {len(children)}."
                )  # fmt: skip
            if context != self.context:
                raise ValueError(f"Node context mismatch for custom node type {self.type!r}.")
        else:
            dicts = self.type in _DICTS and node_type in _DICTS
            if not dicts and node_type != self.type:
                raise ValueError(f"Node type mismatch; expected {self.type!r}, but got {node_type!r}.")
            if len(node) != len(self.children):
                raise ValueError(f"Node arity mismatch; expected {len(self.children)}, but got {len(node)}.")
            if dicts:
                keys = self.context if self.type is not defaultdict else self.context[1]
                if set(node) != set(keys):
                    missing, extra = set(keys) - set(node), set(node) - set(keys)
                    message = (f"; missing key(s): {missing}" if missing else "") + (
                        f"; extra key(s): {extra}" if extra else ""
                    )
                    raise ValueError(f"Node keys mismatch{message}.")
                children = [node[k] for k in keys]
            else:
                children, context = _flatten_fn(node_type)(node)
                if node_type is not deque and context != self.context:
                    raise ValueError(
                        f"Node context mismatch for node type {self.type!r}; expected {self.context!r}, but got "
                        f"{context!r}."
                    )
        for child_spec, child in zip(self.children, children):
            child_spec._up_to(child, out)


LEAF = TreeSpec(None, None, [])


def tree_flatten(tree: Any) -> tuple[list, TreeSpec]:
    leaves: list = []

    def walk(node: Any) -> TreeSpec:
        node_type = _node_type(node)
        if node_type is None:
            leaves.append(node)
            return LEAF
        children, context = _flatten_fn(node_type)(node)
        return TreeSpec(node_type, context, [walk(c) for c in children])

    return leaves, walk(tree)


def tree_unflatten(leaves: Any, spec: TreeSpec) -> Any:
    return spec.unflatten(leaves)


def tree_leaves(tree: Any) -> list:
    return tree_flatten(tree)[0]


def tree_map(fn: Callable, tree: Any) -> Any:
    leaves, spec = tree_flatten(tree)
    return spec.unflatten([fn(x) for x in leaves])


def broadcast_to_and_flatten(prefix: Any, spec: TreeSpec) -> list | None:
    """prefix's leaves, each repeated over the leaves of the subtree it covers in a tree of structure spec
    (vmap's in_dims=(0, None) over ((a, b), c)); None where prefix is not a prefix of that structure."""
    full = spec.unflatten([0] * spec.num_leaves)
    leaves, prefix_spec = tree_flatten(prefix)
    try:
        subtrees = prefix_spec.flatten_up_to(full)
    except ValueError:
        return None
    out: list = []
    for leaf, sub in zip(leaves, subtrees):
        out.extend([leaf] * tree_flatten(sub)[1].num_leaves)
    return out


class _Star:
    def __repr__(self) -> str:
        return "*"


def treespec_pprint(spec: TreeSpec) -> str:
    """The structure written as the container it describes, with * for each leaf: ((*, *), [*])."""
    return repr(spec.unflatten([_Star()] * spec.num_leaves))
