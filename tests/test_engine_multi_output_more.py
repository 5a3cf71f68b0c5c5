"""More ops whose outputs share one autograd node, as in torch (engine/multi_output.py): std_mean, var_mean,
aminmax, frexp and the (values, indices) ops, custom autograd.Functions with several outputs, the double backward
of a convolution (ConvolutionBackwardBackward0) and the oneDNN LSTM layer (MkldnnRnnLayerBackward0). Against
PyTorch: node identity, names, output numbers, next_functions, reprs, gradients through one output, another and
both, retain_graph, second order, and hooks on the shared node. Runs per device (the `device` fixture)."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pytest
import torch
from helpers import check, make, same_error

import engine

pytestmark = pytest.mark.usefixtures("device")

X = make((3, 4), seed=11)
TIES = np.array([[1.0, 3.0, 3.0, -2.0], [0.5, 0.5, 0.5, 0.5], [-1.0, 2.0, -1.0, 2.0]], dtype=np.float32)

OPS = {
    "std_mean": lambda T, x: T.std_mean(x),
    "std_mean_dim": lambda T, x: T.std_mean(x, 1),
    "std_mean_keepdim_correction": lambda T, x: T.std_mean(x, 0, keepdim=True, correction=0),
    "var_mean": lambda T, x: T.var_mean(x),
    "var_mean_dims": lambda T, x: T.var_mean(x, (0, 1), unbiased=False),
    "var_mean_method_dim": lambda T, x: T.var_mean(x, -1, keepdim=True),
    "aminmax": lambda T, x: T.aminmax(x),
    "aminmax_dim": lambda T, x: T.aminmax(x, dim=1),
    "aminmax_method_keepdim": lambda T, x: x.aminmax(dim=0, keepdim=True),
    "frexp": lambda T, x: T.frexp(x),
    "frexp_method": lambda T, x: x.frexp(),
    "sort": lambda T, x: T.sort(x, 1),
    "sort_stable": lambda T, x: x.sort(stable=True, descending=True),
    "topk": lambda T, x: x.topk(2),
    "kthvalue": lambda T, x: T.kthvalue(x, 2, 0),
    "mode": lambda T, x: x.mode(1),
    "median_dim": lambda T, x: x.median(0),
    "nanmedian_dim": lambda T, x: T.nanmedian(x, 1),
    "max_dim": lambda T, x: T.max(x, 0),
    "min_dim": lambda T, x: x.min(1, keepdim=True),
    "cummax": lambda T, x: T.cummax(x, 1),
}
TWO_DIFF = [k for k in OPS if k.startswith(("std_mean", "var_mean", "aminmax"))]


def signature(outs: Any) -> list:
    """Per output: its grad_fn's name, which distinct node it is (by first appearance), its output_nr."""
    nodes: list = []
    sig = []
    for o in outs:
        fn = o.grad_fn
        if fn is None:
            sig.append((None, None, o.output_nr, o.requires_grad))
            continue
        k = next((i for i, n in enumerate(nodes) if n is fn), None)
        if k is None:
            nodes.append(fn)
            k = len(nodes) - 1
        sig.append((fn.name(), k, o.output_nr, o.requires_grad))
    return sig


def edges(fn: Any) -> list:
    return [(None if n is None else n.name(), i) for n, i in fn.next_functions]


def both(fn: Any, *arrays: np.ndarray) -> tuple:
    return tuple(fn(T, *[T.tensor(a, requires_grad=True) for a in arrays]) for T in (torch, engine))


def _cpu_repr(e: Any) -> str:
    return repr(e).replace(", device='cuda:0'", "")


@pytest.mark.parametrize("op", OPS)
def test_outputs_share_torchs_node(op: str) -> None:
    t, e = both(OPS[op], X)
    assert signature(e) == signature(t)
    assert e[0].grad_fn is not None and edges(e[0].grad_fn) == edges(t[0].grad_fn)
    assert type(e).__name__ == type(t).__name__
    if op in TWO_DIFF:
        assert e[0].grad_fn is e[1].grad_fn
        # a consumer of both outputs reaches the one node twice, by output number
        for a, b in (t, e):
            nf = (a.sum() * b.sum()).grad_fn.next_functions
            assert [(n.name(), n.next_functions[0][1]) for n, _ in nf] == [("SumBackward0", 0), ("SumBackward0", 1)]
            assert nf[0][0].next_functions[0][0] is nf[1][0].next_functions[0][0] is a.grad_fn
    else:
        assert e[1].grad_fn is None and not e[1].requires_grad


@pytest.mark.parametrize("op", ["std_mean_dim", "var_mean", "aminmax_dim", "frexp", "max_dim", "sort"])
def test_reprs_name_the_shared_node(op: str) -> None:
    import helpers

    if helpers.DEVICE != "cpu":
        pytest.skip("a cuda tensor's repr wraps its line differently")
    t, e = both(OPS[op], X)
    assert _cpu_repr(e) == repr(t)


@pytest.mark.parametrize("op", OPS)
@pytest.mark.parametrize("which", ["first", "second", "all"])
@pytest.mark.parametrize("data", ["random", "ties"])
def test_gradients_through_some_outputs(op: str, which: str, data: str) -> None:
    if which == "second" and op not in TWO_DIFF:
        pytest.skip("one differentiable output")
    if data == "ties" and op not in ("aminmax", "aminmax_dim", "aminmax_method_keepdim", "max_dim", "median_dim"):
        pytest.skip("ties matter to the even-split formulas only")

    def fn(T: Any, x: Any) -> Any:
        outs = OPS[op](T, x)
        if which == "all":
            return tuple(outs)
        return outs[0 if which == "first" else 1] * 3

    check(fn, TIES if data == "ties" else X, grad_atol=1e-6, grad_rtol=1e-5)


@pytest.mark.parametrize(
    "fn",
    [
        lambda T, x: (lambda s, m: (s * m).sum() + (s * s).sum())(*T.std_mean(x, 1)),
        lambda T, x: (lambda v, m: (v.exp() * m).sum())(*T.var_mean(x, 0, keepdim=True)),
        lambda T, x: (lambda lo, hi: (lo * hi).sum() + lo.sum())(*T.aminmax(x, dim=1)),
        lambda T, x: (lambda lo, hi: lo * hi)(*T.aminmax(x)),
        lambda T, x: (lambda m, e: (m * m * e).sum())(*T.frexp(x)),
        lambda T, x: (lambda v, i: (v * v).sum())(*T.max(x, 1)),
        lambda T, x: (lambda v, i: (v.pow(3)).sum())(*x.sort(0)),
    ],
)
def test_second_order_through_the_shared_node(fn: Any) -> None:
    check(lambda T, x: T.autograd.grad(fn(T, x), x, create_graph=True)[0], X, grad_atol=1e-5, grad_rtol=1e-5)


def _twice(T: Any, x: Any, retain: bool, op: str) -> Any:
    a, b = OPS[op](T, x * 1)[:2]
    loss = a.sum() * 2 + (b.sum() if b.requires_grad else 0)
    loss.backward(retain_graph=retain)
    a.sum().backward()
    return x.grad


@pytest.mark.parametrize("op", ["std_mean_dim", "var_mean", "aminmax_dim", "frexp", "max_dim"])
def test_retain_graph_and_a_freed_graph(op: str) -> None:
    same_error(lambda T, x: _twice(T, x.requires_grad_(), False, op), X)
    t, e = both(lambda T, x: _twice(T, x, True, op), X)
    np.testing.assert_allclose(e.cpu().numpy(), t.numpy(), rtol=1e-6, atol=1e-7)


def _hooks(T: Any, x: Any, op: str, use: str) -> list:
    """What tensor hooks on the outputs and the shared node's own pre- and post-hooks see, and the grad."""
    log: list = []
    outs = OPS[op](T, x)
    a, b = outs[0], outs[1]
    a.register_hook(lambda g: log.append(("a", None if g is None else g.tolist())))
    if b.requires_grad:
        # (torch runs it whenever the node runs: with None where b got no gradient)
        b.register_hook(lambda g: log.append(("b", g is None)) or (None if g is None else g * 10))
        b.retain_grad()
    fn = a.grad_fn

    def pre(go: tuple) -> None:
        log.append(("pre", [None if g is None else g.tolist() for g in go]))

    fn.register_prehook(pre)
    fn.register_hook(lambda gi, go: log.append(("post", [g.tolist() for g in gi], [g is None for g in go])))
    loss = (a * 2).sum() if use == "first" or not b.requires_grad else b.sum() if use == "second" else (a + b).sum()
    loss.backward()
    log.append(("grad", x.grad.tolist(), None if not b.requires_grad or b.grad is None else b.grad.tolist()))
    return log


@pytest.mark.parametrize("op", ["std_mean_dim", "var_mean_method_dim", "aminmax_dim", "frexp", "sort"])
@pytest.mark.parametrize("use", ["first", "second", "both"])
def test_hooks_on_the_shared_node(op: str, use: str) -> None:
    if use == "second" and op not in TWO_DIFF:
        pytest.skip("one differentiable output")
    t, e = both(lambda T, x: _hooks(T, x, op, use), X)
    # (the outputs' tensor hooks run before the node's own, each output's in its order; across outputs the engine
    # runs them in the order the outputs' gradients complete, torch in the order they were registered)
    tensor_hooks = ("a", "b")
    assert sorted(str(x) for x in e if x[0] in tensor_hooks) == sorted(str(x) for x in t if x[0] in tensor_hooks)
    assert [x for x in e if x[0] not in tensor_hooks] == [x for x in t if x[0] not in tensor_hooks]
    assert [x[0] for x in e].index("pre") == [x[0] for x in t].index("pre")


def test_a_prehook_may_replace_one_outputs_gradient() -> None:
    def fn(T: Any, x: Any) -> list:
        s, m = T.std_mean(x, 0)
        s.grad_fn.register_prehook(lambda go: (go[0], go[1] * 0 if go[1] is not None else None))
        (s.sum() + m.sum()).backward()
        return x.grad.tolist()

    t, e = both(fn, X)
    np.testing.assert_allclose(e, t, rtol=1e-6)


def test_saved_fields_and_calling_the_node() -> None:
    def fn(T: Any, x: Any) -> list:
        s, m = T.std_mean(x, 1, correction=0)
        v, _ = T.var_mean(x)
        lo, hi = T.aminmax(x, dim=0)
        mt, ex = T.frexp(x)
        f = s.grad_fn
        return [
            f._saved_self.tolist(), f._saved_result0.tolist(), f._saved_dim, f._saved_keepdim, f._saved_correction,
            v.grad_fn._saved_correction, v.grad_fn._saved_dim,
            lo.grad_fn._saved_min.tolist(), lo.grad_fn._saved_max.tolist(), lo.grad_fn._saved_keepdim,
            mt.grad_fn._saved_exponent.tolist(), str(mt.grad_fn._saved_exponent.dtype),
            f(T.ones(3), None).tolist(), f(None, T.ones(3)).tolist(), f(None, None),
        ]  # fmt: skip

    t, e = both(fn, X)
    np.testing.assert_equal(e, t)
    same_error(lambda T, x: T.std_mean(x.requires_grad_())[0].grad_fn(T.ones(())), X)


def test_autograd_grad_with_respect_to_the_outputs() -> None:
    def fn(T: Any, x: Any) -> list:
        s, m = T.std_mean(x, 1)
        gs, gm = T.autograd.grad((s * m).sum(), [s, m], retain_graph=True)
        (unused,) = T.autograd.grad(m.sum(), s, allow_unused=True)
        (gx,) = T.autograd.grad(s.sum(), x)
        return [gs.tolist(), gm.tolist(), unused, gx.tolist()]

    t, e = both(fn, X)
    np.testing.assert_allclose(e[0], t[0], rtol=1e-6)
    np.testing.assert_allclose(e[3], t[3], rtol=1e-5)
    assert e[2] is t[2] is None


def test_an_output_saved_by_the_node_modified_in_place_fails_its_backward() -> None:
    def fn(T: Any, x: Any) -> Any:
        s, m = T.std_mean(x.requires_grad_(), 1)
        s.mul_(2)
        s.sum().backward()

    same_error(fn, X)

    def mean_is_not_saved(T: Any, x: Any) -> list:
        s, m = T.std_mean(x, 1)
        m.add_(1)
        (s.sum() + m.sum()).backward()
        return x.grad.tolist()

    t, e = both(mean_is_not_saved, X)
    np.testing.assert_allclose(e, t, rtol=1e-6)


def test_degrees_of_freedom_warnings_name_the_op() -> None:
    for T in (torch, engine):
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            T.std_mean(T.ones(1, requires_grad=True))
            T.var_mean(T.ones(1))
        assert [str(x.message).split("(")[0] for x in w] == ["std_mean", "var_mean"]


# ---- frexp -----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", ["float16", "bfloat16", "float32", "float64"])
def test_frexp_values_and_dtypes(dtype: str) -> None:
    import helpers

    if helpers.DEVICE != "cpu" and dtype == "bfloat16":
        pytest.skip("bfloat16 is cpu-only in the engine")
    vals = [0.0, -3.5, float("inf"), float("nan"), 1e-40, -0.0, 6.0, 0.75, -1e30]

    def fn(T: Any) -> Any:
        return T.frexp(T.tensor(vals, dtype=getattr(T, dtype)))

    t, e = fn(torch), fn(engine)
    assert _cpu_repr(e) == repr(t)


def test_frexp_out_and_errors() -> None:
    def out(T: Any) -> Any:
        o = (T.empty(2), T.empty(2, dtype=T.int32))
        r = T.frexp(T.tensor([1.0, 5.0]), out=o)
        return type(r).__name__, r.mantissa is o[0], repr(r)

    t, e = out(torch), out(engine)
    assert (e[0], e[1], e[2].replace(", device='cuda:0'", "")) == t
    same_error(lambda T, x: T.frexp(x), np.array([1, 2]))


# ---- custom autograd.Function ----------------------------------------------------------------------------
class _Fns:
    """Per library: a Function with outputs (a, a number, b, c), c marked non-differentiable, b saved."""

    def __init__(self, T: Any, materialize: bool) -> None:
        log: list = []
        self.log = log

        class Three(T.autograd.Function):
            @staticmethod
            def forward(ctx: Any, x: Any) -> Any:
                ctx.set_materialize_grads(materialize)
                a, b, c = x * 2, x.exp(), x.argmax()
                ctx.mark_non_differentiable(c)
                ctx.save_for_backward(x, b)
                return a, 5, b, c

            @staticmethod
            def backward(ctx: Any, ga: Any, gn: Any, gb: Any, gc: Any) -> Any:
                x, b = ctx.saved_tensors
                log.append([None if g is None else g.tolist() for g in (ga, gb, gc)] + [gn])
                r = None
                if ga is not None:
                    r = ga * 2
                if gb is not None:
                    r = gb * b if r is None else r + gb * b
                return r

        self.fn = Three


@pytest.mark.parametrize("materialize", [True, False])
@pytest.mark.parametrize("use", ["a", "b", "both", "second_order"])
def test_custom_function_outputs_share_one_node(materialize: bool, use: str) -> None:
    def fn(T: Any, x: Any) -> list:
        f = _Fns(T, materialize)
        a, n, b, c = f.fn.apply(x)
        node = a.grad_fn
        info = [signature([a, b, c]), node is b.grad_fn, c.grad_fn, node.name(), edges(node)]
        info.append([(k.name(), i) for k, i in (a + b).grad_fn.next_functions])
        info.append(_cpu_repr(b))
        node.register_prehook(lambda go: f.log.append(("pre", [None if g is None else g.tolist() for g in go])))
        node.register_hook(lambda gi, go: f.log.append(("post", [g.tolist() for g in gi])))
        if use == "second_order":
            (gx,) = T.autograd.grad((a * b).sum(), x, create_graph=True)
            gx.sum().backward()
            info.append(gx.tolist())
        else:
            loss = a.sum() if use == "a" else b.sum() if use == "b" else (a * b).sum()
            loss.backward()
        info.append(x.grad.tolist())
        return info + f.log

    t, e = both(fn, np.array([0.5, -1.0, 2.0], dtype=np.float32))
    assert e[:7] == t[:7]
    _close(e[7:], t[7:])


def _close(e: Any, t: Any) -> None:
    """Equal structure, None, ints and strings; floats to float32 precision."""
    if isinstance(t, (list, tuple)):
        assert isinstance(e, (list, tuple)) and len(e) == len(t), (e, t)
        for x, y in zip(e, t):
            _close(x, y)
    elif isinstance(t, float):
        assert isinstance(e, float) and np.isclose(e, t, rtol=1e-6, atol=1e-7), (e, t)
    else:
        assert e == t, (e, t)


def test_custom_function_outputs_retain_grad_and_autograd_grad() -> None:
    def fn(T: Any, x: Any) -> list:
        f = _Fns(T, True)
        a, _, b, _ = f.fn.apply(x)
        a.retain_grad()
        b.retain_grad()
        ga, gb = T.autograd.grad((a * b).sum(), [a, b], retain_graph=True)
        (a * 3).sum().backward()
        return [ga.tolist(), gb.tolist(), a.grad.tolist(), None if b.grad is None else b.grad.tolist(), x.grad.tolist()]

    t, e = both(fn, np.array([0.5, -1.0, 2.0], dtype=np.float32))
    _close(e, t)


def test_custom_function_single_tensor_in_a_tuple_and_retain_graph() -> None:
    def fn(T: Any, x: Any) -> list:
        class One(T.autograd.Function):
            @staticmethod
            def forward(ctx: Any, x: Any) -> Any:
                return (x * 3,)

            @staticmethod
            def backward(ctx: Any, g: Any) -> Any:
                return g * 3

        (y,) = One.apply(x)
        y.sum().backward(retain_graph=True)
        y.sum().backward()
        return [y.grad_fn.name(), y.output_nr, edges(y.grad_fn), x.grad.tolist()]

    t, e = both(fn, np.array([1.0, 2.0], dtype=np.float32))
    assert e == t


# ---- convolution double backward -------------------------------------------------------------------------
W = make((4, 3, 3, 3), "float64", seed=12)
B = make((4,), "float64", seed=13)
XC = make((2, 3, 5, 5), "float64", seed=14)  # (float64: the second-order sums cancel)


def _conv_grads(T: Any, x: Any, w: Any, b: Any, bias: bool) -> tuple:
    y = T.nn.functional.conv2d(x, w, b if bias else None)
    ins = (x, w, b) if bias else (x, w)
    return T.autograd.grad(y.pow(2).sum(), ins, create_graph=True)


@pytest.mark.parametrize("bias", [True, False])
def test_conv_double_backward_is_one_node(bias: bool) -> None:
    def fn(T: Any, x: Any, w: Any, b: Any) -> list:
        gs = _conv_grads(T, x, w, b, bias)
        log: list = []
        gs[0].grad_fn.register_prehook(lambda go: log.append([None if g is None else tuple(g.shape) for g in go]))
        total = gs[0].sum() + gs[1].pow(2).sum()
        (total + gs[2].sum() if bias else total).backward()
        return [signature(gs), edges(gs[0].grad_fn), edges((gs[0].sum() + gs[1].sum()).grad_fn), log]

    t, e = both(fn, XC, W, B)
    assert e == t


@pytest.mark.parametrize("use", ["gx", "gw", "gb", "all"])
def test_conv_second_order_gradients(use: str) -> None:
    def fn(T: Any, x: Any, w: Any, b: Any) -> Any:
        gx, gw, gb = _conv_grads(T, x, w, b, True)
        return {"gx": gx.pow(2), "gw": gw * 3, "gb": gb.exp(), "all": (gx * 2, gw, gb)}[use]

    check(fn, XC, W, B, grad_atol=1e-6, grad_rtol=1e-7, atol=1e-6, rtol=1e-7, names=False)


# ---- the oneDNN LSTM layer -------------------------------------------------------------------------------
@pytest.mark.parametrize("use", ["out", "h", "c", "all"])
def test_lstm_layer_outputs_share_one_node(use: str) -> None:
    import helpers

    if helpers.DEVICE != "cpu":
        pytest.skip("MkldnnRnnLayerBackward0 is the cpu's node")

    def fn(T: Any, x: Any) -> list:
        T.manual_seed(0)
        m = T.nn.LSTM(3, 4)
        out, (h, c) = m(x)
        layer = out.grad_fn
        hn, cn = h.grad_fn.next_functions[0][0], c.grad_fn.next_functions[0][0]
        info = [layer.name(), hn is layer, cn is layer, h.grad_fn.next_functions[0][1], c.grad_fn.next_functions[0][1]]
        log: list = []
        layer.register_prehook(lambda go: log.append([g is None for g in go]))
        loss = {"out": out.sum(), "h": h.sum(), "c": c.pow(2).sum(), "all": out.sum() + h.sum() + c.sum()}[use]
        loss.backward()
        return [info, log, x.grad.numpy().round(5).tolist(), m.weight_hh_l0.grad.numpy().round(5).tolist()]

    t, e = both(fn, make((5, 2, 3), seed=15))
    assert e[:2] == t[:2]
    np.testing.assert_allclose(e[2], t[2], atol=2e-5)
    np.testing.assert_allclose(e[3], t[3], atol=2e-5)
