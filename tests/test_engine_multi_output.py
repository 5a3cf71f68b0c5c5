"""Ops with several differentiable outputs record one node shared by all of them, as torch does (split, chunk,
unbind, the unsafe forms, the linalg decompositions): grad_fn identity, names, output_nr, next_functions,
gradients when only some outputs are used, second order, hooks, autograd.grad, retain_graph, and tcli's graph
view, all against PyTorch."""

from __future__ import annotations

import io
import textwrap
from typing import Any

import numpy as np
import pytest
import torch
from helpers import check, make, same_error

import engine
from tcli.session import Session

pytestmark = pytest.mark.usefixtures("device")

X = make((4, 6, 2), seed=3)

SPLITS = {
    "unbind": lambda T, x: x.unbind(),
    "unbind_dim1": lambda T, x: T.unbind(x, 1),
    "split": lambda T, x: x.split(3),
    "split_uneven_dim1": lambda T, x: T.split(x, 4, 1),
    "split_sizes": lambda T, x: x.split([1, 3]),
    "split_with_sizes": lambda T, x: T.split_with_sizes(x, [3, 1]),
    "split_with_sizes_method": lambda T, x: x.split_with_sizes([2, 2], 0),
    "chunk": lambda T, x: x.chunk(3, 1),
    "chunk_empty": lambda T, x: T.zeros(0, 3, requires_grad=True).chunk(2),
    "tensor_split": lambda T, x: x.tensor_split(3),
    "tensor_split_indices": lambda T, x: x.tensor_split([1, 3], 1),
    "hsplit": lambda T, x: x.hsplit(2),
    "vsplit": lambda T, x: T.vsplit(x, 2),
    "dsplit": lambda T, x: x.dsplit(2),
    "unsafe_split": lambda T, x: T.unsafe_split(x, 3),
    "unsafe_chunk": lambda T, x: x.unsafe_chunk(2, 1),
    "unsafe_split_with_sizes": lambda T, x: T.unsafe_split_with_sizes(x, [1, 3]),
}

A = make((4, 4), seed=5)
B = make((4, 2), seed=6)

DECOMPOSITIONS = {
    "eigh": lambda T, a: T.linalg.eigh(a @ a.mT),
    "svd": lambda T, a: T.linalg.svd(a),
    "svd_reduced": lambda T, a: T.linalg.svd(a, full_matrices=False),
    "qr": lambda T, a: T.linalg.qr(a),
    "slogdet": lambda T, a: T.linalg.slogdet(a),
    "eig": lambda T, a: T.linalg.eig(a),
    "lu": lambda T, a: T.linalg.lu(a),
    "lu_factor": lambda T, a: T.linalg.lu_factor(a),
    "lu_unpack": lambda T, a: T.lu_unpack(*T.linalg.lu_factor(a)),
    "lstsq": lambda T, a: T.linalg.lstsq(a, a[:, :2], driver="gelsd"),
    "triangular_solve": lambda T, a: T.triangular_solve(a[:, :2], a),
    "max": lambda T, a: T.max(a, 0),
    "sort": lambda T, a: a.sort(),
    "topk": lambda T, a: a.topk(2),
}


def signature(outs: Any) -> list:
    """Per output: its grad_fn's name, which distinct node it is (by first appearance), and its output_nr."""
    nodes: list = []
    sig = []
    for o in outs:
        fn = o.grad_fn
        if fn is None:
            sig.append((None, None, o.output_nr))
            continue
        k = next((i for i, n in enumerate(nodes) if n is fn), None)
        if k is None:
            nodes.append(fn)
            k = len(nodes) - 1
        sig.append((fn.name(), k, o.output_nr))
    return sig


def both(fn: Any, *arrays: np.ndarray) -> tuple:
    return tuple(fn(T, *[T.tensor(a, requires_grad=True) for a in arrays]) for T in (torch, engine))


@pytest.mark.parametrize("op", SPLITS)
def test_split_outputs_share_torchs_node(op: str) -> None:
    t, e = both(SPLITS[op], X)
    assert signature(e) == signature(t)


@pytest.mark.parametrize("op", DECOMPOSITIONS)
def test_decomposition_outputs_share_torchs_node(op: str) -> None:
    t, e = both(DECOMPOSITIONS[op], A)
    assert signature(e) == signature(t)


def test_the_repro_unbind_outputs_are_one_node_and_next_functions_number_them() -> None:
    t, e = both(lambda T, x: x.unbind(), X[:2])
    assert e[0].grad_fn is e[1].grad_fn
    for a, b in (t, e):
        nf = (a + b).grad_fn.next_functions
        assert nf[0][0] is nf[1][0] is a.grad_fn
        assert [(n.name(), i) for n, i in nf] == [("UnbindBackward0", 0), ("UnbindBackward0", 1)]
    assert repr(e[1]).endswith("grad_fn=<UnbindBackward0>)") and repr(t[1]).endswith("grad_fn=<UnbindBackward0>)")


@pytest.mark.parametrize("op", SPLITS)
@pytest.mark.parametrize("which", ["first", "last", "all"])
def test_split_gradients_when_some_outputs_are_used(op: str, which: str) -> None:
    def fn(T: Any, x: Any) -> Any:
        outs = SPLITS[op](T, x)
        if which == "all":
            return outs
        return outs[0 if which == "first" else -1] * 2

    check(fn, X)


def test_each_output_used_several_times_accumulates_per_output() -> None:
    def fn(T: Any, x: Any) -> Any:
        a, b, c = x.split([1, 2, 1])
        return (a * b[:1] + a.exp() + c * 3).sum() + (b * b).sum()

    check(fn, X)


@pytest.mark.parametrize("op", [k for k in DECOMPOSITIONS if k not in ("eigh", "eig", "svd", "svd_reduced")])
def test_decomposition_gradients(op: str) -> None:
    check(lambda T, a: tuple(DECOMPOSITIONS[op](T, a)), A, grad_atol=1e-4, grad_rtol=1e-4)


@pytest.mark.parametrize(
    "fn",
    [
        # (eigenvector and singular-vector signs are a gauge: the losses use gauge-free combinations)
        lambda T, a: T.linalg.eigh(a @ a.mT)[0] * 2,
        lambda T, a: (lambda L, V: (V * L.unsqueeze(-2)) @ V.mT)(*T.linalg.eigh(a @ a.mT)),
        lambda T, a: (lambda U, S, Vh: (U * S) @ Vh + S.sum())(*T.linalg.svd(a, full_matrices=False)),
        lambda T, a: T.linalg.svd(a)[1],
        lambda T, a: T.linalg.slogdet(a)[1] + T.linalg.slogdet(a)[0],
        lambda T, a: (lambda P, L, U: L.sum() * 2 + (U * U).sum())(*T.lu_unpack(*T.linalg.lu_factor(a))),
        lambda T, a, b: (lambda s: s[0].sum() + s[1].sum())(T.linalg.lstsq(a, b, driver="gelsd")),
        lambda T, a, b: (lambda s: (s[0] * s[0]).sum() + s[1].sum())(T.triangular_solve(b, a)),
    ],
)
def test_decomposition_gradients_through_several_outputs(fn: Any) -> None:
    args = (A, B) if fn.__code__.co_argcount == 3 else (A,)
    check(fn, *args, grad_atol=1e-4, grad_rtol=1e-4)


@pytest.mark.parametrize(
    "fn",
    [
        lambda T, x: T.autograd.grad(
            (lambda a, b, c: (a * b).sum() + c.pow(3).sum())(*(x * x).unbind(1)), x, create_graph=True
        )[0],  # fmt: skip
        lambda T, x: T.autograd.grad(
            (lambda a, b: (a.exp() * 2).sum() + (b * b).sum())(*x.split([3, 1])), x, create_graph=True
        )[0],  # fmt: skip
        lambda T, x: T.autograd.grad((lambda a, b: (a * a).sum())(*x.chunk(2, 1)), x, create_graph=True)[0],
    ],
)
def test_second_order_through_a_shared_node(fn: Any) -> None:
    check(fn, X[:, :3, 0])  # values, grad_fn names of the first-order graph, and the second-order gradients


def _backward_twice(T: Any, x: Any, retain: bool) -> Any:
    a, b = x.exp().split(2)
    loss = (a * b).sum()
    loss.backward(retain_graph=retain)
    loss.backward()
    return x.grad


def test_backward_through_a_freed_graph_a_second_time_raises() -> None:
    same_error(lambda T, x: _backward_twice(T, x, False), X)


def test_retain_graph_lets_a_shared_node_run_twice() -> None:
    t, e = both(lambda T, x: _backward_twice(T, x, True), X)
    np.testing.assert_allclose(e.cpu().numpy(), t.numpy(), rtol=1e-6)


def test_split_alone_saves_no_tensor_so_a_second_backward_runs() -> None:
    def fn(T: Any, x: Any) -> Any:
        a, b = x.split(2)
        loss = (a + b).sum()
        loss.backward()
        loss.backward()
        return x.grad

    t, e = both(fn, X)
    np.testing.assert_array_equal(e.cpu().numpy(), t.numpy())


def _hooks(T: Any, x: Any) -> list:
    """What tensor hooks on outputs and the shared node's own pre- and post-hooks see, and the grad."""
    log: list = []
    a, b, c = x.unbind()
    a.register_hook(lambda g: log.append(("a", g.tolist())))
    b.register_hook(lambda g: g * 10)
    fn = a.grad_fn
    fn.register_prehook(lambda go: log.append(("pre", [None if g is None else g.tolist() for g in go])))
    fn.register_hook(lambda gi, go: log.append(("post", [g.tolist() for g in gi], [g is None for g in go])))
    (a * 2 + b).sum().backward()
    log.append(("grad", x.grad.tolist()))
    return log


def test_hooks_see_each_outputs_gradient_and_the_nodes_tuple() -> None:
    t, e = both(_hooks, X[:3, :2, 0])
    assert e == t


def test_retain_grad_on_an_output_keeps_that_outputs_gradient() -> None:
    def fn(T: Any, x: Any) -> list:
        a, b = x.split(2)
        a.retain_grad()
        b.retain_grad()
        (a * 3).sum().backward()
        return [a.grad.tolist(), b.grad, x.grad.tolist()]

    t, e = both(fn, X)
    assert e == t


def test_autograd_grad_with_respect_to_outputs_and_the_input() -> None:
    def fn(T: Any, x: Any) -> list:
        a, b = x.split([1, 3])
        ga, gb = T.autograd.grad((a * b).sum(), [a, b], retain_graph=True)
        (unused,) = T.autograd.grad(b.sum(), a, allow_unused=True)
        (gx,) = T.autograd.grad(a.sum() * 2, x)
        return [ga.tolist(), gb.tolist(), unused, gx.tolist()]

    t, e = both(fn, X)
    assert e == t


def test_calling_a_shared_node_takes_one_gradient_per_output() -> None:
    def fn(T: Any, x: Any) -> list:
        fn = x.unbind()[0].grad_fn
        return [fn(T.ones(6, 2), None, None, T.ones(6, 2)).tolist(), fn(None, None, None, None)]

    t, e = both(fn, X)
    assert e == t
    same_error(lambda T, x: x.unbind()[0].grad_fn(T.ones(6, 2)), X)


def test_a_saved_output_modified_in_place_is_named_by_its_output_number() -> None:
    def fn(T: Any, a: Any) -> None:
        Q, R = T.linalg.qr(a.requires_grad_())
        R.mul_(2)
        (Q.sum() + R.sum()).backward()

    _, msg = same_error(fn, A)
    assert "output 1 of LinalgQr" in msg


def test_split_outputs_still_refuse_in_place_writes_and_unsafe_ones_do_not() -> None:
    same_error(lambda T, x: (x.requires_grad_() * 1).split(2)[1].mul_(2), X)

    def unsafe(T: Any, x: Any) -> list:
        y = x * 1
        a, b = T.unsafe_split(y, 2)
        a.mul_(2)
        (a.sum() + b.sum()).backward()
        return [a.grad_fn.name(), [(n.name() if n else None, i) for n, i in a.grad_fn.next_functions],
                y.tolist(), x.grad.tolist()]  # fmt: skip

    t, e = both(unsafe, X)
    assert e == t


def test_an_output_modified_in_place_leads_its_consumers_to_the_right_output() -> None:
    def fn(T: Any, a: Any) -> Any:
        L, V = T.linalg.eigh(a @ a.mT)
        S = T.linalg.svd(a)[1]
        S.mul_(3)  # (svd saves S: backward through it then raises, as in torch)
        return L * 2

    check(fn, A, grad_atol=1e-4, grad_rtol=1e-4)


# ---- tcli: scripts and the graph view ------------------------------------------------------------------


def run_tsr(src: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    status = Session(stdout=out, stderr=err, color=False).run_source(textwrap.dedent(src), "<test>")
    return status, out.getvalue(), err.getvalue()


def test_a_script_sees_one_node_as_torch_does() -> None:
    src = """
        import torch
        x = torch.arange(6.0).reshape(3, 2).requires_grad_()
        a, b, c = x.unbind()
        p, q = torch.unsafe_chunk(x, 2, 1)
        print(a.grad_fn is b.grad_fn, a.output_nr, c.output_nr, q.output_nr, q)
        print([(n.name(), i) for n, i in (a + c).grad_fn.next_functions])
        print(a)
        (a * b + c).sum().backward()
        print(x.grad)
    """
    status, out, err = run_tsr(src)
    assert (status, err) == (0, "")
    ref = io.StringIO()
    import contextlib

    with contextlib.redirect_stdout(ref):
        exec(textwrap.dedent(src), {"__name__": "__main__"})  # noqa: S102 - the test's own program, in torch
    assert out == ref.getvalue()


def test_graph_draws_a_shared_node_once_and_names_each_output() -> None:
    status, out, err = run_tsr(
        """
        import torch
        x = torch.arange(6.0).reshape(3, 2).requires_grad_()
        a, b, c = x.unbind()
        y = a * b + c
        graph(y)
        p, q = x.split([1, 2])
        graph(q)
        """
    )
    assert (status, err) == (0, "")
    assert out.splitlines() == [
        "y = AddBackward0  shape=(2,)",
        "├── MulBackward0  shape=(2,)  saved=2",
        "│   ├── a = UnbindBackward0  output 0 of 3  shape=(2,)",
        "│   │   │ x  torch::autograd::AccumulateGrad  shape=(3, 2)  requires_grad",
        "│   └── b = UnbindBackward0  output 1 of 3  (shown above)",
        "└── c = UnbindBackward0  output 2 of 3  (shown above)",
        "q = SplitWithSizesBackward0  output 1 of 2  shape=(2, 2)",
        "│ x  torch::autograd::AccumulateGrad  shape=(3, 2)  requires_grad",
    ]
    assert out.count("UnbindBackward0") == 3 and out.count("x  torch::autograd::AccumulateGrad") == 2
