"""torch.nn's recurrent layers: RNN, LSTM, GRU and their cells (torch/nn/modules/rnn.py), computed step by step
as ATen's cpu kernels compute them (aten/src/ATen/native/RNN.cpp), so values, graphs and grad_fn names follow
torch's cpu results.

What the cpu kernels do, and so what this does:
- RNN, GRU, and LSTM in float64 (or with projections): per layer and direction, the input projection for all
  steps at once (linear over the sequence, then unbind), then per step `linear(h, w_hh, b_hh) + that step's
  projection` and the cell's gate arithmetic (LSTM: chunk(4) as i, f, g, o; GRU: r, z, n with
  n = tanh(i_n + r * h_n) and h' = (h - n) * z + n), outputs stacked, directions concatenated, dropout (torch's
  seeded masks, F.dropout) between layers, h_n stacked. Every op records torch's node, so the graph is torch's.
- LSTM in float32 without projections runs on oneDNN in torch (mkldnn_rnn_layer): one MkldnnRnnLayerBackward0
  node per layer and direction, whose outputs are the layer's output, h and c. The engine computes the same
  steps without recording them and gives the three outputs one such node, whose backward runs the LSTM's
  backward through time in one pass. On numpy arrays where oneDNN's orders were measured (lstm_onednn.py:
  avx512, the exact extra) both are oneDNN's arithmetic, bit for bit; elsewhere the same formulas with the
  engine's ops (the gate derivatives and the weight gradients as a few large matmuls). With create_graph the
  backward is ATen's mkldnn_rnn_layer_differentiable_backward op for op (its aten formulas, recorded).
- The cells work in place on their gates' pieces as ATen's do (a GRU's sigmoid_ on a strided piece rounds as
  there: cpu_kernel_vec splits each row into vectors and a scalar tail).

- A PackedSequence (engine/nn/utils/rnn.py) runs through ATen's PackedLayer, for every mode and dtype: one
  input projection of all the data, then per step the cell over the sequences still running (batch_sizes[t] of
  them), each sequence's final state set aside as it ends (the reverse direction runs the steps backwards,
  sequences joining as they start), so h_n holds each sequence's state at its own length.

Only the cpu path exists here (the oracle's): on a cuda tensor the engine still computes what torch's cpu
kernels compute, with the array library of the tensors' device.
"""

from __future__ import annotations

import math
import numbers
import warnings
from typing import Any

import numpy as np

from engine.autograd import Node, next_seq, save_out
from engine.creation import empty, zeros
from engine.dtypes import float16, float32
from engine.grad_mode import ENABLED, no_grad
from engine.multi_output import connect, grads_of
from engine.nn import functional as F
from engine.nn import init, lstm_onednn
from engine.nn.module import Module
from engine.nn.parameter import Parameter
from engine.ops.index import cat, stack
from engine.ops.linalg import matmul
from engine.ops.unsafe_split import unsafe_chunk
from engine.ops.util import edge_of, saved
from engine.tensor import Tensor, wrap
from engine.warn import user_stacklevel

__all__ = ["RNNBase", "RNN", "LSTM", "GRU", "RNNCellBase", "RNNCell", "LSTMCell", "GRUCell"]

_RNN = "torch.nn.modules.rnn.{name}"
_SEQ_LEN_MSG = "Expected sequence length to be larger than 0 in RNN"


# ---- graph pieces torch has and the engine's ops do not ------------------------------------------------
def _unsafe_chunk(t: Tensor, n: int) -> tuple:
    # (the cells split their gates as torch's do: one UnsafeSplitBackward0 for all of them)
    return unsafe_chunk(t, n, 1)


class _MkldnnLayerNode(Node):
    """The shared node of one oneDNN LSTM layer (MkldnnRnnLayerBackward0): edges to (input, w_ih, w_hh, b_ih,
    b_hh, hx, cx); saved: those inputs and, per step in the order the steps ran, the gates' sigmoid (for i, f,
    o), g's tanh, the cell states and their tanh, and the hidden states."""

    _reverse = False
    _exact = False  # saved: oneDNN's activated gates, cell states, their tanh and hidden states (lstm_onednn.py)

    def backward(self, grads: Any, x: Tensor, w_ih: Tensor, w_hh: Tensor, b_ih: Tensor | None,
                 b_hh: Tensor | None, hx: Tensor, cx: Tensor, *kept: Tensor) -> tuple:  # fmt: skip
        g_out, g_hy, g_cy = grads_of(grads, 3)
        needed = [n is not None for n in self._next]
        if self._exact and not ENABLED[0]:
            return _exact_layer_backward(g_out, g_hy, g_cy, x, w_ih, w_hh, hx, cx, kept, self._reverse, needed)
        if ENABLED[0]:  # create_graph: torch's differentiable backward, its ops recorded
            return _differentiable_backward(g_out, g_hy, g_cy, x, w_ih, w_hh, b_ih, b_hh, hx, cx, self._reverse,
                                            needed)  # fmt: skip
        with no_grad():
            return tuple(_lstm_layer_backward(g_out, g_hy, g_cy, x, w_ih, w_hh, hx, cx, *kept, self._reverse,
                                              needed))  # fmt: skip


_MkldnnLayerNode.__name__ = _MkldnnLayerNode.__qualname__ = "MkldnnRnnLayerBackward0"


def _differentiable_backward(g_out: Any, g_hy: Any, g_cy: Any, x: Tensor, w_ih: Tensor, w_hh: Tensor,
                             b_ih: Tensor | None, b_hh: Tensor | None, hx: Tensor, cx: Tensor, reverse: bool,
                             needed: list) -> tuple:  # fmt: skip
    """ATen's mkldnn_rnn_layer_differentiable_backward, op for op: the steps again with aten ops (gates as
    linear(x) + linear(h) in place, sigmoid_/tanh_ on the chunks), then per step last to first the gate
    derivatives as its formulas write them and the products, the weight and bias gradients summed in place."""
    steps = x.shape[0]
    if b_ih is None:
        b_ih = zeros(w_ih.shape[0], dtype=w_ih.dtype, device=w_ih.device)
        b_hh = zeros(w_ih.shape[0], dtype=w_ih.dtype, device=w_ih.device)
    gates: list = [None] * steps
    states = [(hx, cx)]
    h, c = hx, cx
    for seq in range(1, steps + 1):
        xi = steps - seq if reverse else seq - 1
        gate = F.linear(x[xi], w_ih, b_ih).add_(F.linear(h, w_hh, b_hh))
        ci, cf, cg, co = _unsafe_chunk(gate, 4)
        gates[xi] = (ci.sigmoid_(), cf.sigmoid_(), cg.tanh_(), co.sigmoid_())
        i, f, g, o = gates[xi]
        c = (f * c).add(i * g)
        h = o * c.tanh()
        states.append((h, c))
    grad_output = g_out if g_out is not None else zeros(steps, *hx.shape, dtype=x.dtype, device=x.device)
    grad_hy = g_hy if g_hy is not None else zeros(hx.shape, dtype=hx.dtype, device=hx.device)
    grad_cy = g_cy if g_cy is not None else zeros(cx.shape, dtype=cx.dtype, device=cx.device)
    layer_dx: list = [None] * steps
    db = d_wx = d_wh = dprev_h = dprev_c = None
    for seq in range(steps - 1, -1, -1):
        xi = steps - seq - 1 if reverse else seq
        i, f, g, o = gates[xi]
        cy = states[seq + 1][1]
        h_prev, c_prev = states[seq]
        new_grad_hy = grad_output[xi].add(grad_hy)
        d1 = grad_cy.add(new_grad_hy * o * (1 - cy.tanh() * cy.tanh()))
        dgp, dip, dprev_c, dfp = d1 * i, d1 * g, d1 * f, d1 * c_prev
        dop = new_grad_hy * cy.tanh()
        do_ = dop * o * (1 - o)
        dg = dgp * (1 - g * g)
        df = dfp * f * (1 - f)
        di = dip * i * (1 - i)
        da = cat([di, df, dg, do_], 1)
        db_ = da.sum(0)
        layer_dx[xi] = matmul(da, w_ih).unsqueeze(0)
        dprev_h = matmul(da, w_hh)
        dwx_ = matmul(da.transpose(0, 1), x[xi])
        dwh_ = matmul(da.transpose(0, 1), h_prev)
        if seq == steps - 1:
            db, d_wx, d_wh = db_, dwx_, dwh_
        else:
            db += db_
            d_wx += dwx_
            d_wh += dwh_
        grad_hy, grad_cy = dprev_h, dprev_c
    vals = (cat(layer_dx, 0), d_wx, d_wh, db, db, dprev_h, dprev_c)
    return tuple(v if need else None for v, need in zip(vals, needed))


def _lstm_steps(x: Tensor, w_ih: Tensor, w_hh: Tensor, b_ih: Tensor | None, b_hh: Tensor | None, hx: Tensor,
                cx: Tensor, reverse: bool, keep: bool) -> tuple:  # fmt: skip
    """The steps of one LSTM layer and direction, in the order they run: (hidden states, and with keep the
    sigmoid of the gates, tanh of the g gate, cell states and their tanh, as lists; the last h and c)."""
    steps = F.linear(x, w_ih, b_ih).unbind(0)
    if reverse:
        steps = steps[::-1]
    h, c = hx, cx
    sigs: list = []
    gs: list = []
    cs: list = []
    tcs: list = []
    hs: list = []
    for pre in steps:
        gates = F.linear(h, w_hh, b_hh) + pre
        sig = gates.sigmoid()  # (one op for i, f and o; g's block unused)
        i, f, _, o = sig.chunk(4, 1)
        g = gates.chunk(4, 1)[2].tanh()
        c = f * c + i * g
        tc = c.tanh()
        h = o * tc
        if keep:
            sigs.append(sig)
            gs.append(g)
            cs.append(c)
            tcs.append(tc)
        hs.append(h)
    return hs, sigs, gs, cs, tcs, h, c


def _lstm_layer_backward(g_out: Any, g_hy: Any, g_cy: Any, x: Tensor, w_ih: Tensor, w_hh: Tensor, hx: Tensor,
                         cx: Tensor, sigs: Tensor, gs: Tensor, cs: Tensor, tcs: Tensor, hs: Tensor, reverse: bool,
                         needed: list) -> list:  # fmt: skip
    """Backward through time of one LSTM layer. Per step: dh += the output's gradient;
    dc += dh * o * (1 - tanh(c)^2); the gates' gradient is [dc * g * i', dc * c_prev * f', dc * i * (1 - g^2),
    dh * tanh(c) * o'] (s' = s * (1 - s)); dc *= f; dh = gates' gradient @ w_hh. What does not depend on dh or
    dc is computed for all steps at once before the loop, the weight gradients after it (a few large matmuls)."""
    steps, _, four_h = sigs.shape
    hid = four_h // 4
    c_prev = cat([cx.unsqueeze(0), cs[:-1]], 0) if steps > 1 else cx.unsqueeze(0)
    i_, f_, _, o_ = sigs.chunk(4, 2)
    di, df, _, do = (sigs * (1 - sigs)).chunk(4, 2)
    coef = cat([gs * di, c_prev * df, i_ * (1 - gs * gs), tcs * do], 2).unbind(0)
    to_c = (o_ * (1 - tcs * tcs)).unbind(0)
    forget = f_.unbind(0)
    if g_out is not None:
        g_steps = (g_out.flip(0) if reverse else g_out).unbind(0)  # (the steps ran last to first: follow them)
    dh = g_hy if g_hy is not None else zeros(hx.shape, dtype=hx.dtype, device=hx.device)
    dc = g_cy if g_cy is not None else zeros(cx.shape, dtype=cx.dtype, device=cx.device)
    d_gates = [None] * steps
    for k in range(steps - 1, -1, -1):
        if g_out is not None:
            dh = dh + g_steps[k]
        dc = dc + dh * to_c[k]
        dg = cat([dc, dc, dc, dh], 1) * coef[k]
        d_gates[k] = dg
        dc = dc * forget[k]
        dh = dg.mm(w_hh)
    dg_all = stack(d_gates, 0)  # (steps, batch, 4 * hidden), in the order the steps ran
    flat = dg_all.reshape(-1, four_h)
    dg_time = dg_all.flip(0) if reverse else dg_all
    flat_time = dg_time.reshape(-1, four_h)
    result: list = [None] * 7
    if needed[0]:
        result[0] = matmul(dg_time, w_ih)
    if needed[1]:
        result[1] = flat_time.t().mm(x.reshape(-1, x.shape[-1]))
    if needed[2]:
        h_prev = cat([hx.unsqueeze(0), hs[:-1]], 0) if steps > 1 else hx.unsqueeze(0)
        result[2] = flat.t().mm(h_prev.reshape(-1, hid))
    if needed[3] or needed[4]:
        db = flat.sum(0)
        result[3] = db if needed[3] else None
        result[4] = (db.clone() if needed[3] else db) if needed[4] else None  # (two gradients, two tensors)
    result[5] = dh if needed[5] else None
    result[6] = dc if needed[6] else None
    return result


def _exact_layer_backward(g_out: Any, g_hy: Any, g_cy: Any, x: Tensor, w_ih: Tensor, w_hh: Tensor, hx: Tensor,
                          cx: Tensor, kept: tuple, reverse: bool, needed: list) -> list:  # fmt: skip
    """The layer's backward as oneDNN's (lstm_onednn.backward): the seven gradients, None where not needed."""
    gates, cs, tcs, hs = (t._data for t in kept)
    g_out, g_hy, g_cy = (None if g is None else g._data for g in (g_out, g_hy, g_cy))
    dx, dw_ih, dw_hh, db, dh, dc = lstm_onednn.backward(g_out, g_hy, g_cy, x._data, w_ih._data, w_hh._data,
                                                        hx._data, cx._data, hs, gates, cs, tcs, reverse)  # fmt: skip
    vals = (dx, dw_ih, dw_hh, db, db.copy(), dh, dc)  # (b_ih and b_hh: one gradient, two tensors)
    return [wrap(v, x._dev) if need else None for v, need in zip(vals, needed)]


def _exact_steps(x: Tensor, w_ih: Tensor, w_hh: Tensor, b_ih: Tensor | None, b_hh: Tensor | None, hx: Tensor,
                 cx: Tensor, reverse: bool) -> tuple | None:  # fmt: skip
    """(hidden states, gates, cell states, their tanh) of the layer as oneDNN computes them, each (steps, batch,
    ...) in the order the steps ran, as arrays; None where lstm_onednn does not apply."""
    arrays = [t._data for t in (x, w_ih, w_hh, hx, cx)]
    biases = [t._data for t in (b_ih, b_hh) if t is not None]
    if not lstm_onednn.usable(*arrays, *biases):
        return None
    xd, wi, wh, h0, c0 = arrays
    bias = biases[0] + biases[1] if biases else np.zeros(wi.shape[0], np.float32)
    # oneDNN's training kernel whenever grad mode is on (torch's mkldnn_rnn_layer asks GradMode), else inference
    return lstm_onednn.forward(np.ascontiguousarray(xd), wi, wh, bias, h0, c0, reverse, ENABLED[0])


def _mkldnn_lstm_layer(x: Tensor, w_ih: Tensor, w_hh: Tensor, b_ih: Tensor | None, b_hh: Tensor | None,
                       hx: Tensor, cx: Tensor, reverse: bool) -> tuple:  # fmt: skip
    """One layer and direction of torch's oneDNN LSTM: (output, h, c), one MkldnnRnnLayerBackward0 node."""
    inputs = (x, w_ih, w_hh, b_ih, b_hh, hx, cx)
    track = ENABLED[0] and any(t is not None and t.requires_grad for t in inputs)
    exact = _exact_steps(x, w_ih, w_hh, b_ih, b_hh, hx, cx, reverse)
    if exact is not None:
        hs_a, gates_a, cs_a, tcs_a = exact
        dev = x._dev
        h_all = wrap(hs_a, dev)
        out = wrap(np.ascontiguousarray(hs_a[::-1]), dev) if reverse else h_all
        h, c = wrap(hs_a[-1].copy(), dev), wrap(cs_a[-1].copy(), dev)
    else:
        with no_grad():
            hs, sigs, gs, cs, tcs, h, c = _lstm_steps(x, w_ih, w_hh, b_ih, b_hh, hx, cx, reverse, track)
            h_all = stack(hs, 0)
            out = h_all.flip(0) if reverse else h_all
    if not track:
        return out, h, c
    node = _MkldnnLayerNode()
    node._seq = next_seq()
    node._reverse = reverse
    node._next = tuple(edge_of(t) for t in inputs)
    node._ctx = (out._data.shape, out._data.dtype)
    # (fresh tensors: the saved ones hold no node, so no cycle forms); one node for the three, as torch's
    results = [wrap(t._data, t._dev) for t in (out, h, c)]
    connect(node, results)
    if exact is not None:
        node._exact = True
        items = (*inputs, wrap(gates_a, dev), wrap(cs_a, dev), wrap(tcs_a, dev))
    else:
        items = (*inputs, stack(sigs, 0), stack(gs, 0), stack(cs, 0), stack(tcs, 0))
    vers = saved(*items)
    if reverse:
        items, vers = (*items, h_all), (*vers, *saved(h_all))
    else:  # the output itself: saved as torch saves it, so changing it in place fails the backward as there
        kept, ver = save_out(node, results[0])
        items, vers = (*items, kept), (*vers, ver)
    node._saved = items
    node._vers = vers
    return tuple(results)


# ---- the cells, as ATen's SimpleCell, LSTMCell and GRUCell (cpu) ---------------------------------------
def _lstm_cell(gates: Tensor, c: Tensor, w_hr: Tensor | None) -> tuple:
    """(h', c') from gates = linear(h, w_hh, b_hh) + linear(x, w_ih, b_ih), as ATen's LSTMCell."""
    i, f, g, o = _unsafe_chunk(gates, 4)
    i, f, g, o = i.sigmoid(), f.sigmoid(), g.tanh(), o.sigmoid()
    cy = f * c + i * g
    hy = o * cy.tanh()
    if w_hr is not None:
        hy = matmul(hy, w_hr.t())
    return hy, cy


def _gru_cell(x_gates: Tensor, h: Tensor, w_hh: Tensor, b_hh: Tensor | None) -> Tensor:
    ir, iz, in_ = _unsafe_chunk(x_gates, 3)
    hr, hz, hn = _unsafe_chunk(F.linear(h, w_hh, b_hh), 3)
    # in place, as ATen's GRUCell: the sigmoids then run on the gates' strided pieces, whose rows cpu_kernel_vec
    # splits into vectors and a scalar tail (another split than a fresh contiguous sum's: other bits there)
    r = hr.add_(ir).sigmoid_()
    z = hz.add_(iz).sigmoid_()
    n = in_.add(hn.mul_(r)).tanh_()
    return (h - n).mul_(z).add_(n)


def _step(mode: str, s: Tensor, hidden: Any, params: tuple) -> Any:
    """One step of a cell whose input projection `s` (linear(x, w_ih, b_ih)) is already computed, as ATen's
    cpu cells take it: the new hidden state ((h, c) for an LSTM)."""
    _, w_hh, _, b_hh, w_hr = params
    if mode == "LSTM":
        h, c = hidden
        return _lstm_cell(F.linear(h, w_hh, b_hh) + s, c, w_hr)
    if mode == "GRU":
        return _gru_cell(s, hidden, w_hh, b_hh)
    y = F.linear(hidden, w_hh, b_hh) + s
    return y.relu() if mode == "RNN_RELU" else y.tanh()


def _native_layer(mode: str, x: Tensor, hidden: Any, params: tuple, reverse: bool) -> tuple:
    """ATen's FullLayer on the cpu: the input projection for every step in one linear, then the steps."""
    w_ih, _, b_ih, _, _ = params
    if x.shape[0] == 0:
        raise RuntimeError(_SEQ_LEN_MSG)
    steps = F.linear(x, w_ih, b_ih).unbind(0)
    if reverse:
        steps = steps[::-1]
    outs = []
    for s in steps:
        hidden = _step(mode, s, hidden, params)
        outs.append(hidden[0] if mode == "LSTM" else hidden)
    if reverse:
        outs.reverse()
    return stack(outs, 0), hidden


# ---- packed sequences: ATen's PackedLayer and ReversedPackedLayer ------------------------------------------
def _hidden_slice(hidden: Any, start: int, end: int) -> Any:
    """Rows start..end of a hidden state (of h and of c for an LSTM): the sequences still running."""
    if isinstance(hidden, tuple):
        return tuple(h.narrow(0, start, end - start) for h in hidden)
    return hidden.narrow(0, start, end - start)


def _hidden_concat(hiddens: list) -> Any:
    if isinstance(hiddens[0], tuple):
        return tuple(cat([h[k] for h in hiddens], 0) for k in range(len(hiddens[0])))
    return cat(hiddens, 0)


def _packed_layer(mode: str, data: Tensor, sizes: list, hidden: Any, params: tuple, reverse: bool) -> tuple:
    """One layer and direction over a packed batch: step t runs the first sizes[t] sequences (the longest
    first). Forward, a sequence's final state is set aside as the batch shrinks past it; in reverse the steps
    run last to first and the batch grows, each sequence joining with its initial state. (output data, final
    hidden state, in the batch's order)."""
    w_ih, _, b_ih, _, _ = params
    steps = F.linear(data, w_ih, b_ih)
    outs = []
    if not reverse:
        offset, last, finals = 0, sizes[0], []
        for n in sizes:
            step_in = steps.narrow(0, offset, n)
            offset += n
            if n < last:
                finals.append(_hidden_slice(hidden, n, last))
                hidden = _hidden_slice(hidden, 0, n)
            last = n
            hidden = _step(mode, step_in, hidden, params)
            outs.append(hidden[0] if mode == "LSTM" else hidden)
        finals.append(hidden)
        finals.reverse()
        return cat(outs, 0), _hidden_concat(finals)
    initial = hidden
    offset, last = data.size(0), sizes[-1]
    hidden = _hidden_slice(initial, 0, last)
    for n in reversed(sizes):
        if n > last:
            hidden = _hidden_concat([hidden, _hidden_slice(initial, last, n)])
        step_in = steps.narrow(0, offset - n, n)
        offset -= n
        last = n
        hidden = _step(mode, step_in, hidden, params)
        outs.append(hidden[0] if mode == "LSTM" else hidden)
    outs.reverse()
    return cat(outs, 0), hidden


# ---- the modules -------------------------------------------------------------------------------------------
class RNNBase(Module):
    _torch_name = _RNN

    def __init__(self, mode: str, input_size: int, hidden_size: int, num_layers: int = 1, bias: bool = True,
                 batch_first: bool = False, dropout: float = 0.0, bidirectional: bool = False, proj_size: int = 0,
                 device: Any = None, dtype: Any = None) -> None:  # fmt: skip
        super().__init__()
        self.mode = mode
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.bias = bias
        self.batch_first = batch_first
        self.dropout = float(dropout)
        self.bidirectional = bidirectional
        self.proj_size = proj_size
        num_directions = 2 if bidirectional else 1
        if not isinstance(dropout, numbers.Number) or not 0 <= dropout <= 1 or isinstance(dropout, bool):
            raise ValueError(
                "dropout should be a number in range [0, 1] representing the probability of an element being zeroed"
            )
        if dropout > 0 and num_layers == 1:
            warnings.warn(
                "dropout option adds dropout after all but last recurrent layer, so non-zero dropout expects "
                f"num_layers greater than 1, but got dropout={dropout} and num_layers={num_layers}",
                stacklevel=user_stacklevel(),
            )
        if not isinstance(bias, bool):
            raise TypeError(f"bias should be of type bool, got: {type(bias).__name__}")
        if not isinstance(batch_first, bool):
            raise TypeError(f"batch_first should be of type bool, got: {type(batch_first).__name__}")
        if not isinstance(input_size, int):
            raise TypeError(f"input_size should be of type int, got: {type(input_size).__name__}")
        if input_size <= 0:
            raise ValueError("input_size must be greater than zero")
        if not isinstance(hidden_size, int):
            raise TypeError(f"hidden_size should be of type int, got: {type(hidden_size).__name__}")
        if hidden_size <= 0:
            raise ValueError("hidden_size must be greater than zero")
        if num_layers <= 0:
            raise ValueError("num_layers must be greater than zero")
        if proj_size < 0:
            raise ValueError("proj_size should be a positive integer or zero to disable projections")
        if proj_size >= hidden_size:
            raise ValueError("proj_size has to be smaller than hidden_size")
        gate_size = {"LSTM": 4, "GRU": 3, "RNN_TANH": 1, "RNN_RELU": 1}.get(mode)
        if gate_size is None:
            raise ValueError("Unrecognized RNN mode: " + mode)
        gate_size *= hidden_size

        self._flat_weights_names: list = []
        self._all_weights: list = []
        real_hidden_size = proj_size if proj_size > 0 else hidden_size
        for layer in range(num_layers):
            for direction in range(num_directions):
                layer_input_size = input_size if layer == 0 else real_hidden_size * num_directions
                params = [
                    Parameter(empty((gate_size, layer_input_size), device=device, dtype=dtype)),
                    Parameter(empty((gate_size, real_hidden_size), device=device, dtype=dtype)),
                ]
                names = ["weight_ih_l{}{}", "weight_hh_l{}{}"]
                if bias:
                    params += [Parameter(empty(gate_size, device=device, dtype=dtype)) for _ in range(2)]
                    names += ["bias_ih_l{}{}", "bias_hh_l{}{}"]
                if proj_size > 0:
                    params.append(Parameter(empty((proj_size, hidden_size), device=device, dtype=dtype)))
                    names.append("weight_hr_l{}{}")
                suffix = "_reverse" if direction == 1 else ""
                names = [n.format(layer, suffix) for n in names]
                for name, param in zip(names, params):
                    setattr(self, name, param)
                self._flat_weights_names.extend(names)
                self._all_weights.append(names)
        self._init_flat_weights()
        self.reset_parameters()

    def _init_flat_weights(self) -> None:
        self._flat_weights = [getattr(self, wn) if hasattr(self, wn) else None for wn in self._flat_weights_names]
        self.flatten_parameters()

    def __setattr__(self, attr: str, value: Any) -> None:
        # keep _flat_weights in step when a weight is reassigned (self.weight_ih_l0 = ...), as torch does
        if "_flat_weights" in self.__dict__ and attr in self._flat_weights_names:
            self._flat_weights[self._flat_weights_names.index(attr)] = value
        super().__setattr__(attr, value)

    def flatten_parameters(self) -> None:
        """A no-op, as torch's is off cuDNN: the engine keeps each weight as its own tensor."""

    def _apply(self, fn: Any, recurse: bool = True) -> Module:
        ret = super()._apply(fn, recurse)
        self._init_flat_weights()
        return ret

    def reset_parameters(self) -> None:
        stdv = 1.0 / math.sqrt(self.hidden_size) if self.hidden_size > 0 else 0
        for weight in self.parameters():
            init.uniform_(weight, -stdv, stdv)

    @property
    def all_weights(self) -> list:
        return [[getattr(self, weight) for weight in weights] for weights in self._all_weights]

    # ---- checks (torch's texts) ---------------------------------------------------------------------------
    def check_input(self, input: Tensor, batch_sizes: Any) -> None:  # noqa: A002
        w_dtype = self._flat_weights[0].dtype
        if input.dtype != w_dtype:
            raise ValueError(
                f"RNN input dtype ({input.dtype}) does not match weight dtype ({w_dtype}). "
                f"Convert input: input.to({w_dtype}), or convert model: model.to({input.dtype})"
            )
        expected_input_dim = 2 if batch_sizes is not None else 3
        if input.dim() != expected_input_dim:
            raise RuntimeError(f"input must have {expected_input_dim} dimensions, got {input.dim()}")
        if self.input_size != input.size(-1):
            raise RuntimeError(
                f"input.size(-1) must be equal to input_size. Expected {self.input_size}, got {input.size(-1)}"
            )

    def get_expected_hidden_size(self, input: Tensor, batch_sizes: Any) -> tuple[int, int, int]:  # noqa: A002
        if batch_sizes is not None:
            mini_batch = int(batch_sizes[0])
        else:
            mini_batch = input.size(0) if self.batch_first else input.size(1)
        num_directions = 2 if self.bidirectional else 1
        size = self.proj_size if self.proj_size > 0 else self.hidden_size
        return (self.num_layers * num_directions, mini_batch, size)

    def check_hidden_size(self, hx: Tensor, expected_hidden_size: tuple,
                          msg: str = "Expected hidden size {}, got {}") -> None:  # fmt: skip
        if tuple(hx.size()) != tuple(expected_hidden_size):
            raise RuntimeError(msg.format(expected_hidden_size, list(hx.size())))

    def check_forward_args(self, input: Tensor, hidden: Tensor, batch_sizes: Any) -> None:  # noqa: A002
        self.check_input(input, batch_sizes)
        self.check_hidden_size(hidden, self.get_expected_hidden_size(input, batch_sizes))

    def permute_hidden(self, hx: Any, permutation: Any) -> Any:
        if permutation is None:
            return hx
        return hx.index_select(1, permutation)

    def extra_repr(self) -> str:
        s = "{input_size}, {hidden_size}"
        if self.proj_size != 0:
            s += ", proj_size={proj_size}"
        if self.num_layers != 1:
            s += ", num_layers={num_layers}"
        if self.bias is not True:
            s += ", bias={bias}"
        if self.batch_first is not False:
            s += ", batch_first={batch_first}"
        if self.dropout != 0:
            s += ", dropout={dropout}"
        if self.bidirectional is not False:
            s += ", bidirectional={bidirectional}"
        return s.format(**self.__dict__)

    # ---- the computation (ATen's rnn_tanh / rnn_relu / gru / lstm on the cpu) ------------------------------
    def _layer_params(self, index: int) -> tuple:
        names = self._all_weights[index]
        ws = [getattr(self, n) for n in names]
        w_ih, w_hh = ws[0], ws[1]
        b_ih, b_hh = (ws[2], ws[3]) if self.bias else (None, None)
        w_hr = ws[-1] if self.proj_size > 0 else None
        return w_ih, w_hh, b_ih, b_hh, w_hr

    def _run(self, input: Tensor, hx: Tensor, cx: Tensor | None) -> tuple:  # noqa: A002
        """(output, h_n, c_n) for a 3-d input (seq first or batch first) and full hidden states."""
        dirs = 2 if self.bidirectional else 1
        # ATen's use_mkldnn: an LSTM over a non-empty float32 input (projections warn and fall back)
        mkldnn = cx is not None and input.dtype == float32 and input.numel() != 0
        if mkldnn and self.proj_size > 0:
            _warn_projections()
            mkldnn = False
        if mkldnn:
            for t in (hx, cx):
                if t.dtype not in (float32, float16):
                    raise RuntimeError("get_mkldnn_dtype: unsupported data type")
            x = input.transpose(0, 1) if self.batch_first else input
            x = x.contiguous()
        else:
            x = input.transpose(0, 1) if self.batch_first else input
            hiddens = hx.unbind(0) if cx is None else list(zip(hx.unbind(0), cx.unbind(0)))
        final = []
        train = self.training and self.dropout != 0
        for layer in range(self.num_layers):
            outs = []
            for direction in range(dirs):
                index = layer * dirs + direction
                params = self._layer_params(index)
                if mkldnn:
                    out, h, c = _mkldnn_lstm_layer(x, *params[:4], hx[index], cx[index], direction == 1)
                    final.append((h, c))
                else:
                    out, h = _native_layer(self.mode, x, hiddens[index], params, direction == 1)
                    final.append(h)
                outs.append(out)
            x = outs[0] if dirs == 1 else cat(outs, outs[0].dim() - 1)
            if train and layer < self.num_layers - 1:
                x = F.dropout(x, self.dropout, True)
        if cx is None:
            return x, stack(final, 0), None
        return x, stack([h for h, _ in final], 0), stack([c for _, c in final], 0)

    def _run_packed(self, data: Tensor, batch_sizes: Tensor, hx: Tensor, cx: Tensor | None) -> tuple:
        """(output data, h_n, c_n) over a packed batch: ATen's PackedLayer stack on the cpu (no oneDNN layer:
        torch's packed LSTM runs its native cells too), dropout on the data between layers."""
        from engine.backend import host

        sizes = [int(n) for n in host(batch_sizes._data).reshape(-1)]
        dirs = 2 if self.bidirectional else 1
        hiddens = hx.unbind(0) if cx is None else list(zip(hx.unbind(0), cx.unbind(0)))
        final = []
        x = data
        train = self.training and self.dropout != 0
        for layer in range(self.num_layers):
            outs = []
            for direction in range(dirs):
                index = layer * dirs + direction
                out, h = _packed_layer(self.mode, x, sizes, hiddens[index], self._layer_params(index), direction == 1)
                final.append(h)
                outs.append(out)
            x = outs[0] if dirs == 1 else cat(outs, -1)
            if train and layer < self.num_layers - 1:
                x = F.dropout(x, self.dropout, True)
        if cx is None:
            return x, stack(final, 0), None
        return x, stack([h for h, _ in final], 0), stack([c for _, c in final], 0)


_PROJ_WARNED: list = []


def _warn_projections() -> None:
    if not _PROJ_WARNED:  # TORCH_WARN_ONCE: once per process
        _PROJ_WARNED.append(True)
        warnings.warn(
            "LSTM with projections is not supported with oneDNN. Using default implementation. (Triggered "
            "internally at /__w/pytorch/pytorch/aten/src/ATen/native/RNN.cpp:1512.)",
            UserWarning,
            stacklevel=user_stacklevel(),
        )


def _zeros_hidden(input: Tensor, layers: int, batch: int, size: int) -> Tensor:  # noqa: A002
    return zeros(layers, batch, size, dtype=input.dtype, device=input.device)


class RNN(RNNBase):
    _torch_name = _RNN

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        if "proj_size" in kwargs:
            raise ValueError("proj_size argument is only supported for LSTM, not RNN or GRU")
        if len(args) > 3:
            self.nonlinearity = args[3]
            args = args[:3] + args[4:]
        else:
            self.nonlinearity = kwargs.pop("nonlinearity", "tanh")
        if self.nonlinearity == "tanh":
            mode = "RNN_TANH"
        elif self.nonlinearity == "relu":
            mode = "RNN_RELU"
        else:
            raise ValueError(f"Unknown nonlinearity '{self.nonlinearity}'. Select from 'tanh' or 'relu'.")
        super().__init__(mode, *args, **kwargs)

    def forward(self, input: Tensor, hx: Tensor | None = None) -> tuple:  # noqa: A002
        return _one_hidden_forward(self, "RNN", input, hx, " tensor")


class GRU(RNNBase):
    _torch_name = _RNN

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        if "proj_size" in kwargs:
            raise ValueError("proj_size argument is only supported for LSTM, not RNN or GRU")
        super().__init__("GRU", *args, **kwargs)

    def forward(self, input: Tensor, hx: Tensor | None = None) -> tuple:  # noqa: A002
        return _one_hidden_forward(self, "GRU", input, hx, "")


def _one_hidden_forward(self: RNNBase, name: str, input: Any, hx: Tensor | None, what: str) -> tuple:  # noqa: A002
    """RNN.forward and GRU.forward (torch's code): a padded batch, or a PackedSequence (then a packed output,
    the hidden state in the sequences' original order)."""
    from engine.nn.utils.rnn import PackedSequence

    dirs = 2 if self.bidirectional else 1
    if isinstance(input, PackedSequence):
        data, batch_sizes, sorted_indices, unsorted_indices = input
        if hx is None:
            hx = _zeros_hidden(data, self.num_layers * dirs, int(batch_sizes[0]), self.hidden_size)
        else:
            hx = self.permute_hidden(hx, sorted_indices)
        self.check_forward_args(data, hx, batch_sizes)
        output, hidden, _ = self._run_packed(data, batch_sizes, hx, None)
        return PackedSequence(output, batch_sizes, sorted_indices, unsorted_indices), self.permute_hidden(
            hidden, unsorted_indices
        )
    if input.dim() not in (2, 3):
        raise ValueError(f"{name}: Expected input to be 2D or 3D, got {input.dim()}D{what} instead")
    is_batched = input.dim() == 3
    batch_dim = 0 if self.batch_first else 1
    if not is_batched:
        input = input.unsqueeze(batch_dim)
        if hx is not None:
            if hx.dim() != 2:
                raise RuntimeError(f"For unbatched 2-D input, hx should also be 2-D but got {hx.dim()}-D tensor")
            hx = hx.unsqueeze(1)
    elif hx is not None and hx.dim() != 3:
        raise RuntimeError(f"For batched 3-D input, hx should also be 3-D but got {hx.dim()}-D tensor")
    if hx is None:
        batch = input.size(0) if self.batch_first else input.size(1)
        hx = _zeros_hidden(input, self.num_layers * dirs, batch, self.hidden_size)
    self.check_forward_args(input, hx, None)
    output, hidden, _ = self._run(input, hx, None)
    if self.batch_first:
        output = output.transpose_(0, 1)  # (ATen transposes its result in place: TransposeBackward1)
    if not is_batched:
        output = output.squeeze(batch_dim)
        hidden = hidden.squeeze(1)
    return output, hidden


class LSTM(RNNBase):
    _torch_name = _RNN

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__("LSTM", *args, **kwargs)

    def get_expected_cell_size(self, input: Tensor, batch_sizes: Any) -> tuple[int, int, int]:  # noqa: A002
        if batch_sizes is not None:
            mini_batch = int(batch_sizes[0])
        else:
            mini_batch = input.size(0) if self.batch_first else input.size(1)
        return (self.num_layers * (2 if self.bidirectional else 1), mini_batch, self.hidden_size)

    def check_forward_args(self, input: Tensor, hidden: Any, batch_sizes: Any) -> None:  # noqa: A002
        self.check_input(input, batch_sizes)
        self.check_hidden_size(hidden[0], self.get_expected_hidden_size(input, batch_sizes),
                               "Expected hidden[0] size {}, got {}")  # fmt: skip
        self.check_hidden_size(hidden[1], self.get_expected_cell_size(input, batch_sizes),
                               "Expected hidden[1] size {}, got {}")  # fmt: skip

    def permute_hidden(self, hx: Any, permutation: Any) -> Any:
        if permutation is None:
            return hx
        return hx[0].index_select(1, permutation), hx[1].index_select(1, permutation)

    def forward(self, input: Any, hx: tuple | None = None) -> tuple:  # noqa: A002
        from engine.nn.utils.rnn import PackedSequence

        if isinstance(input, PackedSequence):  # (torch checks nothing here: its ops' own errors show)
            data, batch_sizes, sorted_indices, unsorted_indices = input
            if hx is None:
                layers, batch = self.num_layers * (2 if self.bidirectional else 1), int(batch_sizes[0])
                hx = (_zeros_hidden(data, layers, batch, self.proj_size if self.proj_size > 0 else self.hidden_size),
                      _zeros_hidden(data, layers, batch, self.hidden_size))  # fmt: skip
            else:
                hx = self.permute_hidden(hx, sorted_indices)
            if len(hx) != 2:
                raise RuntimeError("lstm expects two hidden states")
            hx[0].size(2)  # (ATen reads the states' last size first: a 2-d one is its IndexError)
            output, h_n, c_n = self._run_packed(data, batch_sizes, hx[0], hx[1])
            packed = PackedSequence(output, batch_sizes, sorted_indices, unsorted_indices)
            return packed, self.permute_hidden((h_n, c_n), unsorted_indices)
        if input.dim() not in (2, 3):
            raise ValueError(f"LSTM: Expected input to be 2D or 3D, got {input.dim()}D instead")
        is_batched = input.dim() == 3
        batch_dim = 0 if self.batch_first else 1
        if not is_batched:
            input = input.unsqueeze(batch_dim)
        if hx is None:
            batch = input.size(0) if self.batch_first else input.size(1)
            layers = self.num_layers * (2 if self.bidirectional else 1)
            real_hidden_size = self.proj_size if self.proj_size > 0 else self.hidden_size
            hx = (_zeros_hidden(input, layers, batch, real_hidden_size),
                  _zeros_hidden(input, layers, batch, self.hidden_size))  # fmt: skip
        else:
            if is_batched:
                if hx[0].dim() != 3 or hx[1].dim() != 3:
                    raise RuntimeError(
                        "For batched 3-D input, hx and cx should also be 3-D but got "
                        f"({hx[0].dim()}-D, {hx[1].dim()}-D) tensors"
                    )
            else:
                if hx[0].dim() != 2 or hx[1].dim() != 2:
                    raise RuntimeError(
                        "For unbatched 2-D input, hx and cx should also be 2-D but got "
                        f"({hx[0].dim()}-D, {hx[1].dim()}-D) tensors"
                    )
                hx = (hx[0].unsqueeze(1), hx[1].unsqueeze(1))
        self.check_forward_args(input, hx, None)
        output, h_n, c_n = self._run(input, hx[0], hx[1])
        if self.batch_first:
            output = output.transpose(0, 1)  # (ATen's lstm transposes out of place: TransposeBackward0)
        if not is_batched:
            output = output.squeeze(batch_dim)
            h_n, c_n = h_n.squeeze(1), c_n.squeeze(1)
        return output, (h_n, c_n)


# ---- cells ----------------------------------------------------------------------------------------------
class RNNCellBase(Module):
    _torch_name = _RNN

    def __init__(self, input_size: int, hidden_size: int, bias: bool, num_chunks: int, device: Any = None,
                 dtype: Any = None) -> None:  # fmt: skip
        super().__init__()
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.bias = bias
        self.weight_ih = Parameter(empty((num_chunks * hidden_size, input_size), device=device, dtype=dtype))
        self.weight_hh = Parameter(empty((num_chunks * hidden_size, hidden_size), device=device, dtype=dtype))
        if bias:
            self.bias_ih = Parameter(empty(num_chunks * hidden_size, device=device, dtype=dtype))
            self.bias_hh = Parameter(empty(num_chunks * hidden_size, device=device, dtype=dtype))
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)
        self.reset_parameters()

    def extra_repr(self) -> str:
        s = "{input_size}, {hidden_size}"
        if "bias" in self.__dict__ and self.bias is not True:
            s += ", bias={bias}"
        if "nonlinearity" in self.__dict__ and self.nonlinearity != "tanh":
            s += ", nonlinearity={nonlinearity}"
        return s.format(**self.__dict__)

    def reset_parameters(self) -> None:
        stdv = 1.0 / math.sqrt(self.hidden_size) if self.hidden_size > 0 else 0
        for weight in self.parameters():
            init.uniform_(weight, -stdv, stdv)

    def _batched(self, name: str, input: Tensor) -> tuple[Tensor, bool]:  # noqa: A002
        if input.dim() not in (1, 2):
            raise ValueError(f"{name}: Expected input to be 1D or 2D, got {input.dim()}D instead")
        is_batched = input.dim() == 2
        return (input if is_batched else input.unsqueeze(0)), is_batched

    def _zeros(self, input: Tensor) -> Tensor:  # noqa: A002
        return zeros(input.size(0), self.hidden_size, dtype=input.dtype, device=input.device)

    def _check(self, input: Tensor, hxs: tuple) -> None:  # noqa: A002
        """ATen's check_rnn_cell_forward_input and check_rnn_cell_forward_hidden."""
        if input.size(1) != self.weight_ih.size(1):
            raise RuntimeError(
                f"input has inconsistent input_size: got {input.size(1)} expected {self.weight_ih.size(1)}"
            )
        hidden_size = self.weight_hh.size(1)
        for label, hx in enumerate(hxs):
            if input.size(0) != hx.size(0):
                raise RuntimeError(
                    f"Input batch size {input.size(0)} doesn't match hidden{label} batch size {hx.size(0)}"
                )
            if hx.size(1) != hidden_size:
                raise RuntimeError(
                    f"hidden{label} has inconsistent hidden_size: got {hx.size(1)}, expected {hidden_size}"
                )


class RNNCell(RNNCellBase):
    _torch_name = _RNN

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, nonlinearity: str = "tanh",
                 device: Any = None, dtype: Any = None) -> None:  # fmt: skip
        super().__init__(input_size, hidden_size, bias, num_chunks=1, device=device, dtype=dtype)
        self.nonlinearity = nonlinearity

    def forward(self, input: Tensor, hx: Tensor | None = None) -> Tensor:  # noqa: A002
        if input.dim() not in (1, 2):
            raise ValueError(f"RNNCell: Expected input to be 1D or 2D, got {input.dim()}D instead")
        if hx is not None and hx.dim() not in (1, 2):
            raise ValueError(f"RNNCell: Expected hidden to be 1D or 2D, got {hx.dim()}D instead")
        input, is_batched = self._batched("RNNCell", input)
        hx = self._zeros(input) if hx is None else (hx if is_batched else hx.unsqueeze(0))
        if self.nonlinearity not in ("tanh", "relu"):
            raise RuntimeError(f"Unknown nonlinearity: {self.nonlinearity}")
        self._check(input, (hx,))
        y = F.linear(hx, self.weight_hh, self.bias_hh) + F.linear(input, self.weight_ih, self.bias_ih)
        ret = y.tanh() if self.nonlinearity == "tanh" else y.relu()
        return ret if is_batched else ret.squeeze(0)


class LSTMCell(RNNCellBase):
    _torch_name = _RNN

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, device: Any = None,
                 dtype: Any = None) -> None:  # fmt: skip
        super().__init__(input_size, hidden_size, bias, num_chunks=4, device=device, dtype=dtype)

    def forward(self, input: Tensor, hx: tuple | None = None) -> tuple:  # noqa: A002
        if input.dim() not in (1, 2):
            raise ValueError(f"LSTMCell: Expected input to be 1D or 2D, got {input.dim()}D instead")
        if hx is not None:
            for idx, value in enumerate(hx):
                if value.dim() not in (1, 2):
                    raise ValueError(f"LSTMCell: Expected hx[{idx}] to be 1D or 2D, got {value.dim()}D instead")
        input, is_batched = self._batched("LSTMCell", input)
        if hx is None:
            z = self._zeros(input)
            hx = (z, z)
        else:
            hx = (hx[0].unsqueeze(0), hx[1].unsqueeze(0)) if not is_batched else hx
        if len(hx) != 2:
            raise RuntimeError("lstm_cell expects two hidden states")
        self._check(input, tuple(hx))
        gates = F.linear(hx[0], self.weight_hh, self.bias_hh) + F.linear(input, self.weight_ih, self.bias_ih)
        hy, cy = _lstm_cell(gates, hx[1], None)
        return (hy, cy) if is_batched else (hy.squeeze(0), cy.squeeze(0))


class GRUCell(RNNCellBase):
    _torch_name = _RNN

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, device: Any = None,
                 dtype: Any = None) -> None:  # fmt: skip
        super().__init__(input_size, hidden_size, bias, num_chunks=3, device=device, dtype=dtype)

    def forward(self, input: Tensor, hx: Tensor | None = None) -> Tensor:  # noqa: A002
        if input.dim() not in (1, 2):
            raise ValueError(f"GRUCell: Expected input to be 1D or 2D, got {input.dim()}D instead")
        if hx is not None and hx.dim() not in (1, 2):
            raise ValueError(f"GRUCell: Expected hidden to be 1D or 2D, got {hx.dim()}D instead")
        input, is_batched = self._batched("GRUCell", input)
        hx = self._zeros(input) if hx is None else (hx if is_batched else hx.unsqueeze(0))
        self._check(input, (hx,))
        ret = _gru_cell(F.linear(input, self.weight_ih, self.bias_ih), hx, self.weight_hh, self.bias_hh)
        return ret if is_batched else ret.squeeze(0)
