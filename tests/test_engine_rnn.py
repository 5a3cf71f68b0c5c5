"""engine.nn's recurrent layers (engine/nn/rnn_layers.py: RNN, LSTM, GRU and their cells) against torch.nn (the
oracle, on the cpu). After manual_seed(s) a layer built in both libraries has bit-identical parameters; reprs,
parameter names and errors (type and text) match exactly; outputs, hidden states and their grad_fn names match,
values within helpers.TOL, and the gradients of the input, the initial states and every parameter within
helpers.GRAD_TOL. The engine side runs on each device of the `device` fixture."""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from typing import Any

import helpers
import numpy as np
import pytest
from helpers import RAISED, cpu_text, graph
from helpers import outcome as run

import engine
from engine.nn import rnn_layers as R

torch = pytest.importorskip("torch")

pytestmark = pytest.mark.usefixtures("device")

FLOATS = ["float32", "float64"]


def nn(T: Any) -> Any:
    return T.nn


# ---- comparing the two libraries -----------------------------------------------------------------------
def assert_equal(e: Any, t: Any, tol: dict | None = None, where: str = "out") -> None:
    """An engine result against torch's: tensors by dtype, shape, requires_grad, grad_fn name and values (bit for
    bit without tol, else within tol[dtype]), text as torch prints it on the cpu, containers item by item."""
    if isinstance(t, torch.Tensor):
        assert isinstance(e, engine.Tensor), f"{where}: engine gave {type(e).__name__}, torch a tensor"
        assert str(e.dtype) == str(t.dtype) and tuple(e.shape) == tuple(t.shape), f"{where}: {e!r} != {t!r}"
        assert e.requires_grad == t.requires_grad, f"{where}: requires_grad {e.requires_grad}"
        en, tn = (x.grad_fn.name() if x.grad_fn is not None else None for x in (e, t))
        assert en == tn, f"{where}: grad_fn {en} != torch {tn}"
        ev, tv = e.detach().cpu().numpy(), t.detach().numpy()
        if tol is None or tv.dtype.kind != "f":
            np.testing.assert_array_equal(ev, tv, err_msg=where)
        else:
            a, r = tol[str(t.dtype).removeprefix("torch.")]
            np.testing.assert_allclose(ev, tv, atol=a, rtol=r, err_msg=where)
    elif isinstance(t, str):
        assert isinstance(e, str), f"{where}: {e!r} != {t!r}"
        e = cpu_text(e)
        assert e == t, f"{where}:\nengine:\n{e}\ntorch:\n{t}"
    elif isinstance(t, dict):
        assert list(e) == list(t), f"{where}: keys {list(e)} != {list(t)}"
        for k in t:
            assert_equal(e[k], t[k], tol, f"{where}[{k!r}]")
    elif isinstance(t, (list, tuple)):
        assert isinstance(e, (list, tuple)) and len(e) == len(t), f"{where}: {e!r} != {t!r}"
        for i, (x, y) in enumerate(zip(e, t)):
            assert_equal(x, y, tol, f"{where}[{i}]")
    elif isinstance(t, float):
        assert isinstance(e, float) and (e == t or math.isclose(e, t, rel_tol=1e-12)), f"{where}: {e} != {t}"
    else:
        assert type(e) is type(t) and e == t, f"{where}: {e!r} != torch {t!r}"


def same(fn: Callable) -> Any:
    """fn(T) gives the same result in both libraries, bit for bit (or raises the same error)."""
    t, e = run(fn, torch), run(fn, engine)
    assert_equal(e, t)
    return t


def same_error(fn: Callable) -> tuple:
    t = same(fn)
    assert isinstance(t, tuple) and t[:1] == (RAISED,), f"torch did not raise: {t!r}"
    return t


def computed(fn: Callable) -> Any:
    """fn(T) -> {"out": forward results, "grad": gradients, ...}: "out" within helpers.TOL, "grad" within
    helpers.GRAD_TOL, anything else exactly. torch must not raise."""
    t, e = run(fn, torch), run(fn, engine)
    assert isinstance(t, dict), f"torch raised {t}"
    assert isinstance(e, dict), f"engine raised {e}"
    assert list(e) == list(t)
    for k in t:
        tol = {"out": helpers.TOL, "grad": helpers.GRAD_TOL}.get(k)
        assert_equal(e[k], t[k], tol, k)
    return t


def arr(*shape: int, seed: int = 0, dtype: str = "float32") -> np.ndarray:
    return np.random.default_rng(seed).standard_normal(shape).astype(dtype)


def seeded(T: Any, build: Callable, seed: int = 0) -> Any:
    T.manual_seed(seed)
    return build(nn(T))


def forward_backward(T: Any, m: Any, x: Any, hx: Any = None) -> dict:
    """Outputs and hidden states of m, then the gradients of the input, the initial states and every parameter
    after backward of a weighted sum of all of them."""
    out = m(x) if hx is None else m(x, hx)
    results = list(out) if isinstance(out, tuple) else [out]
    flat = [r for v in results for r in (v if isinstance(v, tuple) else (v,))]
    loss = sum((r * T.tensor(arr(*r.shape, seed=10 + k, dtype=str(r.dtype)[6:]))).sum() for k, r in enumerate(flat))
    loss.backward()
    leaves = [x] + ([] if hx is None else list(hx) if isinstance(hx, tuple) else [hx])
    return {
        "out": results,
        "grad": [v.grad for v in leaves] + [p.grad for p in m.parameters()],
        "names": [n for n, _ in m.named_parameters()],
    }


# ---- construction: seeded init, names, reprs ----------------------------------------------------------------
BUILDS = [
    lambda nn: nn.RNN(3, 4),
    lambda nn: nn.RNN(3, 4, 2, "relu", bias=False, bidirectional=True),
    lambda nn: nn.LSTM(3, 4),
    lambda nn: nn.LSTM(3, 4, num_layers=2, batch_first=True, bidirectional=True, dropout=0.25),
    lambda nn: nn.LSTM(3, 5, num_layers=2, proj_size=2, bidirectional=True),
    lambda nn: nn.LSTM(3, 4, bias=False, dtype=torch.float64 if nn is torch.nn else engine.float64),
    lambda nn: nn.GRU(3, 4, num_layers=3, bidirectional=True),
    lambda nn: nn.GRU(3, 4, bias=False, batch_first=True),
    lambda nn: nn.RNNCell(3, 4),
    lambda nn: nn.RNNCell(3, 4, False, "relu"),
    lambda nn: nn.LSTMCell(3, 4),
    lambda nn: nn.LSTMCell(3, 4, bias=False),
    lambda nn: nn.GRUCell(3, 4, dtype=torch.float64 if nn is torch.nn else engine.float64),
]


@pytest.mark.parametrize("k", range(len(BUILDS)))
def test_seeded_init_names_and_repr(k: int) -> None:
    def fn(T: Any) -> Any:
        m = seeded(T, BUILDS[k], seed=k)
        draws_after = T.rand(3)  # (the generator moved on by as many draws as torch's)
        state = m.state_dict()
        return [repr(m), str(type(m)), list(m.named_parameters()), list(state), draws_after,
                [p.requires_grad for p in m.parameters()]]  # fmt: skip

    same(fn)


def test_reprs_and_attributes() -> None:
    def fn(T: Any) -> Any:
        n = nn(T)
        mods = [n.RNN(3, 4, 2, "relu", dropout=0.5), n.LSTM(3, 4, bidirectional=1),
                n.LSTM(3, 4, proj_size=2, dropout=0.2, num_layers=2, batch_first=True, bias=False),
                n.GRU(10, 20, 2, batch_first=True), n.RNNCell(3, 4, False, "relu"), n.GRUCell(3, 4, bias=False),
                n.LSTMCell(3, 4), n.Sequential(n.LSTM(2, 3), n.Linear(3, 1))]  # fmt: skip
        m = mods[2]
        attrs = [m.mode, m.input_size, m.hidden_size, m.num_layers, m.bias, m.batch_first, m.dropout,
                 m.bidirectional, m.proj_size, m._flat_weights_names, m._all_weights,
                 [[tuple(w.shape) for w in ws] for ws in m.all_weights], m.flatten_parameters(),
                 mods[0].nonlinearity, mods[4].nonlinearity]  # fmt: skip
        return [repr(x) for x in mods] + attrs

    same(fn)


def test_flat_weights_follow_reassignment_and_conversion() -> None:
    def fn(T: Any) -> Any:
        m = seeded(T, lambda nn: nn.GRU(2, 3))
        w = T.nn.Parameter(T.ones(9, 3))
        m.weight_hh_l0 = w
        same_obj = m._flat_weights[1] is w and m.all_weights[0][1] is w
        m.double()
        out, h = m(T.ones(4, 1, 2, dtype=T.float64))
        return [same_obj, [str(x.dtype) for x in m._flat_weights], out, h]

    t, e = run(fn, torch), run(fn, engine)
    assert_equal(e, t, helpers.TOL)


def test_dropout_warning_and_oneDNN_projection_warning() -> None:  # noqa: N802
    def fn(T: Any) -> Any:
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            nn(T).GRU(3, 4, dropout=0.3)
        return [(x.category.__name__, str(x.message)) for x in w]

    same(fn)
    # torch warns once per process that projections leave oneDNN (the engine's flag, reset to see it)
    R._PROJ_WARNED.clear()
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        m = R.LSTM(3, 4, proj_size=2)
        m(engine.ones(2, 1, 3))
        m(engine.ones(2, 1, 3))
    assert [str(x.message) for x in w] == [
        "LSTM with projections is not supported with oneDNN. Using default implementation. (Triggered "
        "internally at /__w/pytorch/pytorch/aten/src/ATen/native/RNN.cpp:1512.)"
    ]


# ---- forward and backward ----------------------------------------------------------------------------------
COMBOS = [
    {},
    {"num_layers": 2},
    {"bidirectional": True},
    {"num_layers": 2, "bidirectional": True, "batch_first": True},
    {"batch_first": True, "bias": False},
    {"num_layers": 2, "bias": False, "bidirectional": True},
]
MODES = ["RNN", "RNN_RELU", "GRU", "LSTM"]


def _layer(nn: Any, mode: str, *args: Any, **kw: Any) -> Any:
    if mode == "RNN_RELU":
        return nn.RNN(*args, nonlinearity="relu", **kw)
    return getattr(nn, mode)(*args, **kw)


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("mode", MODES)
def test_layers_forward_backward(mode: str, dtype: str) -> None:
    """Every option in turn, each with a batched and an unbatched input, h0 given to one of them."""
    for i, kw in enumerate(COMBOS):
        dirs = 2 if kw.get("bidirectional") else 1
        layers = kw.get("num_layers", 1)
        for batched, given in ((True, i % 2 == 0), (False, i % 2 == 1)):
            seq, batch = 5, 2
            x_shape = ((batch, seq, 3) if kw.get("batch_first") else (seq, batch, 3)) if batched else (seq, 3)
            h_shape = (layers * dirs, batch, 4) if batched else (layers * dirs, 4)

            def fn(T: Any, kw: dict = kw, x_shape: tuple = x_shape, h_shape: tuple = h_shape,
                   given: bool = given) -> dict:  # fmt: skip
                m = seeded(T, lambda nn: _layer(nn, mode, 3, 4, dtype=getattr(T, dtype), **kw))
                x = T.tensor(arr(*x_shape, seed=1, dtype=dtype), requires_grad=True)
                hx = None
                if given:
                    hs = [T.tensor(arr(*h_shape, seed=s, dtype=dtype), requires_grad=True) for s in (2, 3)]
                    hx = tuple(hs) if mode == "LSTM" else hs[0]
                return forward_backward(T, m, x, hx)

            computed(fn)


@pytest.mark.parametrize("dtype", FLOATS)
def test_lstm_with_projections(dtype: str) -> None:
    def fn(T: Any) -> dict:
        m = seeded(T, lambda nn: nn.LSTM(3, 5, num_layers=2, proj_size=2, bidirectional=True,
                                         dtype=getattr(T, dtype)))  # fmt: skip
        x = T.tensor(arr(4, 2, 3, seed=1, dtype=dtype), requires_grad=True)
        hx = (T.tensor(arr(4, 2, 2, seed=2, dtype=dtype), requires_grad=True),
              T.tensor(arr(4, 2, 5, seed=3, dtype=dtype), requires_grad=True))  # fmt: skip
        r = forward_backward(T, m, x, hx)
        r["out"] += list(m(x[:, 0]))  # unbatched, zero states
        return r

    computed(fn)


@pytest.mark.parametrize("mode", ["RNN", "GRU", "LSTM"])
def test_dropout_between_layers_train_and_eval(mode: str) -> None:
    """torch's seeded masks between layers in training (none after the last), none in eval."""
    for training in (True, False):

        def fn(T: Any, training: bool = training) -> dict:
            m = seeded(T, lambda nn: getattr(nn, mode)(3, 4, num_layers=3, dropout=0.5, bidirectional=True))
            m.train(training)
            x = T.tensor(arr(6, 3, 3, seed=1), requires_grad=True)
            T.manual_seed(7)
            r = forward_backward(T, m, x)
            r["after"] = T.rand(2)  # (as many draws as torch's)
            return r

        computed(fn)


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("cell", ["RNNCell", "RNNCell_relu", "LSTMCell", "GRUCell"])
def test_cells_forward_backward(cell: str, dtype: str) -> None:
    for bias in (True, False):
        for batched, given in ((True, True), (True, False), (False, True), (False, False)):

            def fn(T: Any, bias: bool = bias, batched: bool = batched, given: bool = given) -> dict:
                def build(nn: Any) -> Any:
                    if cell == "RNNCell_relu":
                        return nn.RNNCell(3, 4, bias, "relu", dtype=getattr(T, dtype))
                    return getattr(nn, cell)(3, 4, bias=bias, dtype=getattr(T, dtype))

                m = seeded(T, build)
                x = T.tensor(arr(*((2, 3) if batched else (3,)), seed=1, dtype=dtype), requires_grad=True)
                hx = None
                if given:
                    shape = (2, 4) if batched else (4,)
                    hs = [T.tensor(arr(*shape, seed=s, dtype=dtype), requires_grad=True) for s in (2, 3)]
                    hx = tuple(hs) if cell == "LSTMCell" else hs[0]
                return forward_backward(T, m, x, hx)

            computed(fn)


def test_cell_loop_matches_layer_and_graphs() -> None:
    """Deeper graphs: the node names below the outputs, as torch records them."""

    def fn(T: Any) -> Any:
        n = nn(T)
        T.manual_seed(0)
        x = T.tensor(arr(3, 2, 3, seed=1, dtype="float64"), requires_grad=True)
        h0 = T.tensor(arr(1, 2, 4, seed=2, dtype="float64"), requires_grad=True)
        cells = [n.RNNCell(3, 4).double(), n.LSTMCell(3, 4).double(), n.GRUCell(3, 4).double()]
        layers = [n.GRU(3, 4).double(), n.LSTM(3, 4, batch_first=True).double(), n.LSTM(3, 4),
                  n.RNN(3, 4, bidirectional=True, nonlinearity="relu").double()]  # fmt: skip
        hy, cy = cells[1](x[0])
        outs = [graph(cells[0](x[0]), 4), graph(hy, 4), graph(cy, 4), graph(cells[2](x[0]), 4)]
        g_out, g_h = layers[0](x, h0)
        outs += [graph(g_out, 4), graph(g_h, 4)]
        lo, (lh, lc) = layers[1](x, (h0, h0))
        outs += [graph(lo, 3), graph(lh, 3), graph(lc, 3)]
        fo, (fh, fc) = layers[2](x.float(), (h0.float(), h0.float()))
        outs += [graph(fo, 3), graph(fh, 3), graph(fc, 2), [i for _, i in fh.grad_fn.next_functions]]
        ro, rh = layers[3](x)
        outs += [graph(ro, 3), graph(rh, 3)]
        return outs

    same(fn)


def test_float32_lstm_runs_as_onednn_layers() -> None:
    """torch's float32 LSTM: one MkldnnRnnLayerBackward0 per layer and direction, with edges to (input, w_ih,
    w_hh, b_ih, b_hh, hx, cx); the engine's gives the same graph and the same gradients."""

    def fn(T: Any) -> Any:
        m = seeded(T, lambda nn: nn.LSTM(3, 4, num_layers=2, bidirectional=True, bias=False))
        x = T.tensor(arr(5, 2, 3, seed=1), requires_grad=True)
        c0 = T.tensor(arr(4, 2, 4, seed=2), requires_grad=True)
        out, (h, c) = m(x, (T.zeros(4, 2, 4), c0))
        names = [graph(out, 3), graph(h, 3), graph(c, 2), repr(out).split("grad_fn=")[1], out.grad_fn.name()]
        (out.sum() + h.sum() * 2).backward(retain_graph=True)
        grads = [x.grad, c0.grad] + [p.grad for p in m.parameters()]
        c.sum().backward()  # (only the cell state's gradient this time)
        return {"names": names, "grad": grads + [x.grad, c0.grad] + [p.grad for p in m.parameters()]}

    computed(fn)


def test_float32_lstm_double_backward_and_graph_errors() -> None:
    def twice(T: Any) -> Any:
        m = seeded(T, lambda nn: nn.LSTM(3, 4))
        out, _ = m(T.ones(2, 1, 3))
        out.sum().backward()
        out.sum().backward()

    same_error(twice)

    def modified(T: Any) -> Any:
        m = seeded(T, lambda nn: nn.LSTM(3, 4))
        out, _ = m(T.ones(2, 1, 3, requires_grad=True))
        with T.no_grad():
            m.weight_hh_l0.mul_(2)
        out.sum().backward()

    same_error(modified)

    def output_changed(T: Any, bidirectional: bool) -> Any:
        m = seeded(T, lambda nn: nn.LSTM(3, 4, bidirectional=bidirectional))
        x = T.tensor(arr(2, 1, 3, seed=1), requires_grad=True)
        out, (h, _) = m(x)
        out.add_(1)  # (the layer's own output is saved; a concatenation of two is not)
        h.mul_(2)
        (out.sum() + h.sum()).backward()
        return {"out": [out, h], "grad": [x.grad]}

    same_error(lambda T: output_changed(T, False))
    computed(lambda T: output_changed(T, True))

    def second_order(T: Any) -> dict:
        m = seeded(T, lambda nn: nn.LSTM(3, 4, bidirectional=True))
        x = T.tensor(arr(5, 2, 3, seed=1), requires_grad=True)
        h0 = T.tensor(arr(2, 2, 4, seed=2), requires_grad=True)
        out, (h, c) = m(x * 2, (h0, h0 * 0.5))
        gs = T.autograd.grad((out * out).sum() + h.sum() + c.sum(), [x, h0, *m.parameters()], create_graph=True)
        sum((g * g).sum() for g in gs).backward()
        return {"out": list(gs), "grad": [x.grad, h0.grad] + [p.grad for p in m.parameters()]}

    t, e = run(second_order, torch), run(second_order, engine)
    assert isinstance(t, dict) and isinstance(e, dict), (t, e)
    # (values only: the gradients' own graphs are built differently from torch's differentiable backward)
    atol, rtol = helpers.GRAD_TOL["float32"]
    for k in ("out", "grad"):
        assert len(e[k]) == len(t[k])
        for i, (a, b) in enumerate(zip(e[k], t[k])):
            np.testing.assert_allclose(a.detach().cpu().numpy(), b.detach().numpy(), atol=atol, rtol=rtol,
                                       err_msg=f"{k}[{i}]")  # fmt: skip


def test_no_grad_and_inputs_without_grad() -> None:
    def fn(T: Any) -> dict:
        m = seeded(T, lambda nn: nn.LSTM(3, 4, num_layers=2))
        g = seeded(T, lambda nn: nn.GRU(3, 4))
        x = T.tensor(arr(4, 2, 3, seed=1))
        with T.no_grad():
            a = m(x)
        m.requires_grad_(False)
        b = m(x)
        c = g(x.double().float())
        return {"out": [a, b, c]}

    computed(fn)


def test_empty_batch_and_sequence() -> None:
    def fn(T: Any) -> dict:
        out = []
        for mode in ("LSTM", "GRU"):
            m = seeded(T, lambda nn, mode=mode: getattr(nn, mode)(3, 4, num_layers=2))
            out.append(m(T.ones(3, 0, 3)))
        return {"out": out}

    computed(fn)
    same_error(lambda T: seeded(T, lambda nn: nn.LSTM(3, 4))(T.ones(0, 2, 3)))
    same_error(lambda T: seeded(T, lambda nn: nn.GRU(3, 4))(T.ones(0, 2, 3)))


# ---- gradcheck (float64) ------------------------------------------------------------------------------------
def _with_params(m: Any, names: list) -> Callable:
    """A function of (input, *states, *weights) running m with those weights (gradcheck varies them too)."""

    def run_with(fn: Callable) -> Callable:
        def f(*args: Any) -> Any:
            m._parameters.update(zip(names, args[len(args) - len(names) :]))
            return fn(*args[: len(args) - len(names)])

        return f

    return run_with


def test_gradcheck_lstm_cell_and_gru() -> None:
    from engine.autograd import gradcheck, gradgradcheck

    engine.manual_seed(0)
    cell = R.LSTMCell(3, 4).double()
    names = [n for n, _ in cell.named_parameters()]
    params = [p.detach().clone().requires_grad_() for p in cell.parameters()]
    x = engine.tensor(arr(2, 3, seed=1, dtype="float64"), requires_grad=True)
    h = engine.tensor(arr(2, 4, seed=2, dtype="float64"), requires_grad=True)
    c = engine.tensor(arr(2, 4, seed=3, dtype="float64"), requires_grad=True)
    f = _with_params(cell, names)(lambda x, h, c: cell(x, (h, c)))
    assert gradcheck(f, (x, h, c, *params))
    assert gradgradcheck(f, (x, h, c, *params))

    gru = R.GRU(3, 2, num_layers=2, bidirectional=True, dtype=engine.float64)
    names = [n for n, _ in gru.named_parameters()]
    params = [p.detach().clone().requires_grad_() for p in gru.parameters()]
    xs = engine.tensor(arr(3, 2, 3, seed=4, dtype="float64"), requires_grad=True)
    h0 = engine.tensor(arr(4, 2, 2, seed=5, dtype="float64"), requires_grad=True)
    assert gradcheck(_with_params(gru, names)(lambda x, h: gru(x, h)), (xs, h0, *params))


def test_gradcheck_onednn_lstm_layer_backward() -> None:
    """The float32 LSTM's own backward (through time, in one node), checked in float64 by calling it directly,
    forward and reversed, first and second order."""
    from engine.autograd import gradcheck, gradgradcheck

    ts = [arr(4, 2, 3, seed=1), arr(8, 3, seed=2), arr(8, 2, seed=3), arr(8, seed=4), arr(8, seed=5),
          arr(2, 2, seed=6), arr(2, 2, seed=7)]  # fmt: skip
    args = [engine.tensor(a.astype("float64") * 0.5, requires_grad=True) for a in ts]
    for reverse in (False, True):
        assert gradcheck(lambda *a, reverse=reverse: R._mkldnn_lstm_layer(*a, reverse), args)
    assert gradgradcheck(lambda *a: R._mkldnn_lstm_layer(*a, True), args)


# ---- a char-RNN trained with Adam -------------------------------------------------------------------------------
@pytest.mark.parametrize("mode", ["LSTM", "GRU"])
def test_char_rnn_training_with_adam(mode: str) -> None:
    text = "hello world, hello rnn"
    chars = sorted(set(text))
    ids = np.array([chars.index(ch) for ch in text], dtype=np.int64)
    seqs = np.stack([ids[i : i + 8] for i in range(0, 12, 3)])  # (4, 8)
    targets = np.stack([ids[i + 1 : i + 9] for i in range(0, 12, 3)])

    def fn(T: Any) -> dict:
        n = nn(T)
        T.manual_seed(0)
        emb, rnn, head = n.Embedding(len(chars), 6), getattr(n, mode)(6, 12, batch_first=True), n.Linear(12, len(chars))
        params = [*emb.parameters(), *rnn.parameters(), *head.parameters()]
        opt = T.optim.Adam(params, lr=0.02)
        x, y = T.tensor(seqs), T.tensor(targets)
        losses = []
        for _ in range(12):
            opt.zero_grad()
            out, _ = rnn(emb(x))
            loss = T.nn.functional.cross_entropy(head(out).reshape(-1, len(chars)), y.reshape(-1))
            loss.backward()
            opt.step()
            losses.append(round(loss.item(), 4))
        return {"losses": losses, "params": [np.round(p.detach().cpu().numpy(), 4).tolist() for p in params]}

    t, e = run(fn, torch), run(fn, engine)
    assert isinstance(t, dict) and isinstance(e, dict), (t, e)
    assert e["losses"] == t["losses"]
    assert t["losses"][-1] < t["losses"][0] - 0.5  # (it learned)
    for a, b in zip(e["params"], t["params"]):
        np.testing.assert_allclose(a, b, atol=1.01e-4)


# ---- errors (type and text) ------------------------------------------------------------------------------------
ERRORS = [
    lambda T, n: n.RNN(3, 4, nonlinearity="gelu"),
    lambda T, n: n.GRU(3, 4, proj_size=2),
    lambda T, n: n.RNN(3, 4, proj_size=2),
    lambda T, n: n.LSTM(3, 4, proj_size=4),
    lambda T, n: n.LSTM(3, 4, proj_size=-1),
    lambda T, n: n.LSTM(3, 4, dropout=1.5),
    lambda T, n: n.LSTM(3, 4, dropout=True),
    lambda T, n: n.LSTM(3, 4, bias=1),
    lambda T, n: n.LSTM(3, 4, batch_first=1),
    lambda T, n: n.LSTM(3.0, 4),
    lambda T, n: n.LSTM(0, 4),
    lambda T, n: n.LSTM(3, 0),
    lambda T, n: n.LSTM(3, 4, 0),
    lambda T, n: n.GRU(3, "4"),
    lambda T, n: n.GRU(3, 4)(T.ones(2, 2, 5)),
    lambda T, n: n.LSTM(3, 4, batch_first=True)(T.ones(2, 2, 5)),
    lambda T, n: n.GRU(3, 4)(T.ones(2, 2, 3, dtype=T.float64)),
    lambda T, n: n.GRU(3, 4)(T.ones(2, 2, 2, 5)),
    lambda T, n: n.LSTM(3, 4)(T.ones(2, 2, 2, 5)),
    lambda T, n: n.RNN(3, 4)(T.ones(5)),
    lambda T, n: n.GRU(3, 4)(T.ones(2, 2, 3), T.ones(1, 3, 4)),
    lambda T, n: n.RNN(3, 4, bidirectional=True)(T.ones(2, 2, 3), T.ones(1, 2, 4)),
    lambda T, n: n.GRU(3, 4)(T.ones(2, 2, 3), T.ones(3, 4)),
    lambda T, n: n.GRU(3, 4)(T.ones(2, 3), T.ones(1, 1, 4)),
    lambda T, n: n.LSTM(3, 4)(T.ones(2, 2, 3), (T.ones(1, 3, 4), T.ones(1, 2, 4))),
    lambda T, n: n.LSTM(3, 4)(T.ones(2, 2, 3), (T.ones(1, 2, 4), T.ones(1, 2, 5))),
    lambda T, n: n.LSTM(3, 4, proj_size=2)(T.ones(2, 2, 3), (T.ones(1, 2, 4), T.ones(1, 2, 4))),
    lambda T, n: n.LSTM(3, 4)(T.ones(2, 2, 3), (T.ones(2, 4), T.ones(1, 2, 5))),
    lambda T, n: n.LSTM(3, 4)(T.ones(2, 3), (T.ones(1, 2, 4), T.ones(1, 2, 5))),
    lambda T, n: n.LSTM(3, 4)(T.ones(2, 2, 3), (T.ones(1, 2, 4, dtype=T.float64), T.ones(1, 2, 4))),
    lambda T, n: n.GRU(3, 4)(T.ones(2, 2, 3), T.ones(1, 2, 4, dtype=T.float64)),
    lambda T, n: n.LSTMCell(3, 4)(T.ones(2, 5)),
    lambda T, n: n.LSTMCell(3, 4)(T.ones(2, 3), (T.ones(3, 4), T.ones(2, 4))),
    lambda T, n: n.LSTMCell(3, 4)(T.ones(2, 3), (T.ones(2, 4), T.ones(2, 5))),
    lambda T, n: n.LSTMCell(3, 4)(T.ones(2, 3), (T.ones(2, 4),)),
    lambda T, n: n.LSTMCell(3, 4)(T.ones(2, 3), (T.ones(2, 4), T.ones(2, 2, 4))),
    lambda T, n: n.LSTMCell(3, 4)(T.ones(2, 3, 1)),
    lambda T, n: n.GRUCell(3, 4)(T.ones(2, 3), T.ones(2, 5)),
    lambda T, n: n.GRUCell(3, 4)(T.ones(2, 3, 3)),
    lambda T, n: n.GRUCell(3, 4)(T.ones(2, 3), T.ones(2, 4, dtype=T.float64)),
    lambda T, n: n.RNNCell(3, 4)(T.ones(2, 3), T.ones(2, 3, 4)),
    lambda T, n: n.RNNCell(3, 4)(T.ones(3), T.ones(2, 4)),
    lambda T, n: n.RNNCell(3, 4)(T.ones(2, 3), T.ones(4)),
    lambda T, n: n.RNNCell(3, 4)(T.ones(2, 3, dtype=T.float64)),
    lambda T, n: n.RNNCell(3, 4, nonlinearity="gelu")(T.ones(2, 3)),
]


@pytest.mark.parametrize("k", range(len(ERRORS)))
def test_errors(k: int) -> None:
    same_error(lambda T: ERRORS[k](T, nn(T)))


def test_wired_into_engine_nn() -> None:
    """Once engine/nn/__init__.py lists engine.nn.rnn_layers in _LAYER_MODULES, engine.nn.LSTM is this one."""
    import engine.nn

    if "engine.nn.rnn_layers" not in engine.nn._LAYER_MODULES:
        pytest.skip("engine.nn.rnn_layers is not in engine.nn._LAYER_MODULES yet")
    assert all(getattr(engine.nn, name) is getattr(R, name) for name in R.__all__)
