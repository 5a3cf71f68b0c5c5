"""Recurrent layers bit for bit against torch 2.13 on the cpu (float32, torch's default two threads): the float32
LSTM as torch's oneDNN computes it (engine/nn/lstm_onednn.py: training and inference kernels, forward and
backward), LSTMCell loops, GRU and GRUCell (in-place gates as ATen's cells) and RNN. Outputs, final states and
the gradients of the input and every parameter, for random incoming gradients, must be torch.equal."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pytest

import engine
from engine.nn import lstm_onednn
from engine.nn.conv_onednn import exact_here

torch = pytest.importorskip("torch")

pytestmark = pytest.mark.skipif(
    not exact_here(), reason="oneDNN's and MKL's orders measured on avx512 with the exact extra only"
)


def _run(lib: Any, cls: str, args: tuple, kw: dict, shape: tuple, grad: bool, cell: bool, with_state: bool) -> dict:
    lib.manual_seed(0)
    m = getattr(lib.nn, cls)(*args, **kw)
    rng = np.random.default_rng(1)
    x = lib.tensor(rng.standard_normal(shape).astype(np.float32), requires_grad=grad)
    outs = []
    with lib.enable_grad() if grad else lib.no_grad():
        if cell:
            h = None
            for t in range(shape[0]):
                h = m(x[t], h)
                outs.extend(h if isinstance(h, tuple) else [h])
        else:
            state = None
            if with_state:
                dirs = 2 if kw.get("bidirectional") else 1
                batch = shape[0] if kw.get("batch_first") else shape[1]
                hs = (args[2] if len(args) > 2 else 1) * dirs, batch, args[1]
                state = lib.tensor(rng.standard_normal(hs).astype(np.float32))
                if cls == "LSTM":
                    state = (state, lib.tensor(rng.standard_normal(hs).astype(np.float32)))
            o, hn = m(x) if state is None else m(x, state)
            outs = [o, *(hn if isinstance(hn, tuple) else [hn])]
    res = {f"out{i}": t.detach().numpy() for i, t in enumerate(outs)}
    if grad:
        gs = [lib.tensor(rng.standard_normal(tuple(t.shape)).astype(np.float32)) for t in outs]
        lib.autograd.backward(outs, gs)
        res["x.grad"] = x.grad.numpy()
        for n, p in m.named_parameters():
            res[n + ".grad"] = p.grad.numpy()
    return res


def _same(cls: str, args: tuple, kw: dict | None = None, shape: tuple = (5, 3, 10), grad: bool = True,
          cell: bool = False, with_state: bool = False, skip: tuple = ()) -> None:  # fmt: skip
    kw = kw or {}
    t = _run(torch, cls, args, kw, shape, grad, cell, with_state)
    e = _run(engine, cls, args, kw, shape, grad, cell, with_state)
    assert list(t) == list(e)
    bad = {k: int((t[k] != e[k]).sum()) for k in t if k not in skip and not np.array_equal(t[k], e[k])}
    assert not bad, f"{cls}{args}{kw}: elements that differ from torch: {bad}"


LSTMS = [
    ((10, 20, 2), {}, (5, 3, 10)),
    ((10, 20), {"bidirectional": True}, (5, 3, 10)),
    ((10, 16, 2), {"bidirectional": True}, (6, 4, 10)),
    ((4, 32), {"batch_first": True}, (64, 30, 4)),
    ((8, 8, 3), {}, (7, 2, 8)),  # input_size == hidden_size: inference merges the two products
    ((10, 20), {"bias": False}, (5, 3, 10)),
    ((40, 64), {}, (7, 4, 40)),
    ((500, 24), {}, (3, 2, 500)),  # K over 384: oneDNN's gemm blocks
    ((6, 12, 2), {"bidirectional": True, "batch_first": True}, (16, 60, 6)),  # dW over 384 (step, batch) pairs
]


@pytest.mark.parametrize(("args", "kw", "shape"), LSTMS)
def test_lstm_training_forward_and_backward(args: tuple, kw: dict, shape: tuple) -> None:
    _same("LSTM", args, kw, shape)


@pytest.mark.parametrize(("args", "kw", "shape"), LSTMS[:5])
def test_lstm_with_initial_states(args: tuple, kw: dict, shape: tuple) -> None:
    _same("LSTM", args, kw, shape, with_state=True)


@pytest.mark.parametrize(("args", "kw", "shape"), LSTMS)
def test_lstm_inference_forward(args: tuple, kw: dict, shape: tuple) -> None:
    _same("LSTM", args, kw, shape, grad=False)


@pytest.mark.parametrize(
    ("args", "kw", "shape"),
    [
        ((1, 32), {"batch_first": True}, (64, 30, 1)),  # dx by the gemv kernel, dW_ih split over two threads
        ((1, 5), {}, (7, 3, 1)),  # a gemv tail (K = 20)
        ((8, 64), {}, (5, 1, 8)),  # a batch of one: one-column products, dh's K (256) split over two threads
        ((10, 20, 2), {"bidirectional": True}, (6, 1, 10)),
        ((16, 16, 2), {}, (4, 1, 16)),  # input_size == hidden_size: inference's products apart for one sequence
        ((16, 16), {}, (1, 1, 16)),
        ((1, 150), {"batch_first": True}, (1, 9, 1)),  # both, and a gemv block of 512
        ((1, 4), {}, (51, 10, 1)),  # dW_ih: 16 rows x 510 products, under 8192: one thread
        ((1, 4), {}, (8, 64, 1)),  # 16 x 512: K split over the two threads
        ((3, 1, 2), {"bidirectional": True}, (9, 4, 3)),  # one unit: dh by the gemv kernel
    ],
)
def test_lstm_one_feature_and_batch_of_one(args: tuple, kw: dict, shape: tuple) -> None:
    _same("LSTM", args, kw, shape)
    _same("LSTM", args, kw, shape, grad=False)


def test_lstm_with_projections_native_path() -> None:
    with warnings.catch_warnings():  # (torch's and the engine's warn once per process)
        warnings.simplefilter("ignore")
        _same("LSTM", (10, 20), {"proj_size": 5}, (5, 3, 10))


@pytest.mark.parametrize("cls", ["LSTMCell", "GRUCell", "RNNCell"])
def test_cell_loops(cls: str) -> None:
    _same(cls, (10, 20), shape=(5, 3, 10), cell=True)
    _same(cls, (10, 20), shape=(5, 3, 10), cell=True, grad=False)


@pytest.mark.parametrize("cls", ["GRU", "RNN"])
@pytest.mark.parametrize(("args", "kw", "shape"), LSTMS[:4])
def test_gru_and_rnn(cls: str, args: tuple, kw: dict, shape: tuple) -> None:
    _same(cls, args, kw, shape)
    _same(cls, args, kw, shape, grad=False)


def test_inplace_sigmoid_on_strided_piece_with_grad() -> None:
    # an in-place op under autograd computes on a copy of the view: the copy keeps the view's strides, so the
    # kernel splits rows into vectors and a scalar tail as torch's does on the view
    rng = np.random.default_rng(3)
    data = (rng.standard_normal((3, 60)) * 4).astype(np.float32)
    res = []
    for lib in (torch, engine):
        a = lib.tensor(data, requires_grad=True)
        b = a * 1
        piece = b.unsafe_chunk(3, 1)[0]
        piece.sigmoid_()
        piece.backward(lib.ones_like(piece))
        res.append((piece.detach().numpy(), a.grad.numpy()))
    assert np.array_equal(res[0][0], res[1][0]) and np.array_equal(res[0][1], res[1][1])


def test_onednn_functions_against_torch_workspace() -> None:
    # the jit injector's logistic and tanh, read back from the gates oneDNN keeps in its workspace (zero
    # weights: the gates are the bias)
    hid = 2048
    rng = np.random.default_rng(0)
    n = 4 * hid // 2
    wide = rng.uniform(-12, 12, n)
    small = rng.standard_normal(n) * 10.0 ** rng.uniform(-5, 1, n)
    bias = np.concatenate([wide, small]).astype(np.float32)
    rng.shuffle(bias)
    x = torch.zeros(1, 1, 3)
    w_ih, w_hh = torch.zeros(4 * hid, 3), torch.zeros(4 * hid, hid)
    h0, c0 = torch.zeros(1, 1, hid), torch.zeros(1, 1, hid)
    with torch.enable_grad():
        *_, ws = torch.ops.aten.mkldnn_rnn_layer(x, w_ih, w_hh, torch.tensor(bias), torch.zeros(4 * hid), h0, c0,
                                                 False, [], 2, hid, 1, True, False, False, True)  # fmt: skip
    gates = ws.view(torch.float32).numpy()[: 4 * hid]
    mine = np.concatenate([lstm_onednn.logistic(bias[: 2 * hid]), lstm_onednn.tanh(bias[2 * hid : 3 * hid]),
                           lstm_onednn.logistic(bias[3 * hid :])])  # fmt: skip
    assert np.array_equal(mine, gates)


@pytest.mark.parametrize("which", ["h", "c", "o", "oc"])
def test_lstm_states_with_grad_and_partial_losses(which: str) -> None:
    # initial states that require grad, and losses that reach only some of the layer's outputs (the others'
    # gradients are zeros in oneDNN's backward)
    def run(lib: Any) -> dict:
        lib.manual_seed(0)
        m = lib.nn.LSTM(6, 12, 2, bidirectional=True)
        rng = np.random.default_rng(1)
        x = lib.tensor(rng.standard_normal((5, 3, 6)).astype(np.float32), requires_grad=True)
        h0 = lib.tensor(rng.standard_normal((4, 3, 12)).astype(np.float32), requires_grad=True)
        c0 = lib.tensor(rng.standard_normal((4, 3, 12)).astype(np.float32), requires_grad=True)
        o, (h, c) = m(x, (h0, c0))
        loss = {"h": lambda: (h * h).sum(), "c": lambda: c.sum(), "o": lambda: o[-1].sum(),
                "oc": lambda: o.mean() + c[1].sum()}[which]()  # fmt: skip
        loss.backward()
        res = {"loss": loss.detach().numpy(), "x": x.grad.numpy(), "h0": h0.grad.numpy(), "c0": c0.grad.numpy()}
        res.update({n: p.grad.numpy() for n, p in m.named_parameters()})
        return res

    t, e = run(torch), run(engine)
    assert {k: int((t[k] != e[k]).sum()) for k in t if not np.array_equal(t[k], e[k])} == {}


def test_lstm_regressor_training_steps() -> None:
    # a one-feature series regressor trained with Adam: every loss and the final weights bit for bit
    def run(lib: Any) -> tuple:
        lib.manual_seed(0)
        lstm, head = lib.nn.LSTM(1, 16, batch_first=True), lib.nn.Linear(16, 1)
        params = [*lstm.parameters(), *head.parameters()]
        opt = lib.optim.Adam(params, lr=0.01)
        rng = np.random.default_rng(2)
        x = lib.tensor(rng.standard_normal((8, 12, 1)).astype(np.float32))
        y = lib.tensor(rng.standard_normal((8, 1)).astype(np.float32))
        losses = []
        for _ in range(6):
            opt.zero_grad()
            out, _ = lstm(x)
            loss = lib.nn.functional.mse_loss(head(out[:, -1]), y)
            loss.backward()
            opt.step()
            losses.append(loss.item())
        return losses, [p.detach().numpy() for p in params]

    (tl, tp), (el, ep) = run(torch), run(engine)
    assert tl == el
    assert all(np.array_equal(a, b) for a, b in zip(tp, ep))


def test_lstm_one_thread() -> None:
    # with one thread oneDNN shares no one-column product out: one chain
    before = (torch.get_num_threads(), engine.get_num_threads())
    torch.set_num_threads(1)
    engine.set_num_threads(1)
    try:
        _same("LSTM", (1, 32), {"batch_first": True}, (64, 30, 1))
        _same("LSTM", (8, 64), {}, (5, 1, 8))
    finally:
        torch.set_num_threads(before[0])
        engine.set_num_threads(before[1])


@pytest.mark.parametrize("bias", [True, False])
def test_lstm_double_backward(bias: bool) -> None:
    # create_graph: torch's mkldnn_rnn_layer_differentiable_backward, op for op; second-order gradients too
    def run(lib: Any) -> list:
        lib.manual_seed(0)
        m = lib.nn.LSTM(4, 6, 2, bidirectional=True, bias=bias)
        x = lib.tensor(np.random.default_rng(1).standard_normal((3, 2, 4)).astype(np.float32), requires_grad=True)
        o, (_, c) = m(x)
        (o.sum() + c.sum()).backward(create_graph=True)
        s = (m.weight_hh_l0.grad**2).sum() + (x.grad**2).sum()
        if bias:
            s = s + (m.bias_ih_l0.grad * m.bias_hh_l1_reverse.grad).sum()
        g2 = lib.autograd.grad(s, [x, m.weight_ih_l1, m.weight_hh_l0_reverse])
        return [x.grad.detach().numpy(), *(t.detach().numpy() for t in g2)]

    assert all(np.array_equal(a, b) for a, b in zip(run(torch), run(engine)))
