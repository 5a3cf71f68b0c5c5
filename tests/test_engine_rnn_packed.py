"""torch.nn.utils.rnn's packed sequences (engine/nn/utils/rnn.py) and the recurrent layers over them
(engine/nn/rnn_layers.py) against torch: PackedSequence's fields, repr and methods; pack_padded_sequence
(enforce_sorted, batch_first, torch's errors), pad_packed_sequence (total_length, padding_value), pack_sequence,
unpack_sequence, unpad_sequence and invert_permutation, values and gradients; RNN, LSTM and GRU taking a
PackedSequence and giving one, h_n taken at each sequence's length, with gradients of the data, the initial
states and every parameter as torch's, on fixed and random (hypothesis) batches; gradcheck in float64. The
engine side runs on each device of the `device` fixture."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import helpers
import numpy as np
import pytest
from helpers import check, computed, cpu_text, make
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_engine_conv import _run

import engine
from engine.autograd import gradcheck, gradgradcheck

torch = pytest.importorskip("torch")

pytestmark = pytest.mark.usefixtures("device")

FAST = settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck))


def U(T: Any) -> Any:
    return T.nn.utils.rnn


def same_text(fn: Callable) -> str:
    """fn(lib) gives the same text in both libraries (or raises the same error)."""
    t, e = _run(fn, torch), _run(fn, engine)
    e = cpu_text(e) if isinstance(e, str) else e
    assert e == t, f"\nengine: {e}\ntorch:  {t}"
    return t


def _fields(p: Any) -> list:
    """A packed batch's fields to compare; batch_sizes as a list (it stays on the cpu, whatever the data's
    device: test_batch_sizes_and_lengths_stay_on_the_cpu)."""
    return [p.data, p.batch_sizes.tolist(), p.sorted_indices, p.unsorted_indices]


# ---- packing and padding -----------------------------------------------------------------------------------
def test_packed_sequence_type_repr_and_fields() -> None:
    def fn(T: Any) -> str:  # (on the cpu: batch_sizes must be there, and is_cuda and cpu() tell the device)
        T.set_default_device("cpu")
        x = T.arange(12.0).reshape(4, 3, 1).requires_grad_()
        p = U(T).pack_padded_sequence(x, [4, 2, 1])
        q = U(T).pack_padded_sequence(x, T.tensor([2, 4, 1]), enforce_sorted=False)
        lines = [repr(p), str(q), str(type(p)), str(p._fields), str(len(p)), p.data.grad_fn.name()]
        lines += [str(p.batch_sizes.dtype), str(p.batch_sizes.device), str(q.data.grad_fn.next_functions[0][0].name())]
        d, bs, si, ui = q
        lines += [str(d.shape), str(bs), str(si), str(ui), str(p.is_cuda), str(p.cpu() is p), str(p.to(T.float32) is p)]
        lines += [repr(p.double()), str(p.long().data.dtype), str(p.half().data.dtype), str(p.int().data.dtype)]
        lines += [str(U(T).PackedSequence(T.ones(3), T.tensor([2, 1]))),
                  str(U(T).PackedSequence(T.ones(3), T.tensor([2, 1]), T.tensor([1, 0]))),
                  str(U(T).PackedSequence((T.ones(3), T.tensor([2, 1]))))]  # fmt: skip
        lines += [str(U(T).invert_permutation(T.tensor([2, 0, 3, 1]))), str(U(T).invert_permutation(None))]
        return "\n".join(lines)

    try:
        same_text(fn)
    finally:
        engine.set_default_device(helpers.DEVICE)
        torch.set_default_device("cpu")


@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("sort", [True, False])
def test_pack_and_pad_values_and_gradients(batch_first: bool, sort: bool) -> None:
    lengths = [5, 3, 3, 1] if sort else [3, 5, 1, 3]
    x = make((4, 5, 2) if batch_first else (5, 4, 2), seed=2)

    def fn(T: Any, x: Any) -> list:
        p = U(T).pack_padded_sequence(x, lengths, batch_first=batch_first, enforce_sorted=sort)
        padded, lens = U(T).pad_packed_sequence(p, batch_first=batch_first)
        padded2, _ = U(T).pad_packed_sequence(p, batch_first, -1.5, total_length=7)
        return [*_fields(p), padded, lens.tolist(), padded2]

    computed(fn, x)
    computed(fn, make(x.shape, "float64", seed=3))
    computed(fn, make(x.shape, "int64", seed=3), grad=False)


def test_pack_sequence_unpack_and_unpad() -> None:
    def fn(T: Any, a: Any, b: Any, c: Any) -> list:
        p = U(T).pack_sequence([a, b, c])
        q = U(T).pack_sequence([b, a, c], enforce_sorted=False)
        padded = U(T).pad_sequence([a, b, c], batch_first=True)
        return [*_fields(p), *_fields(q), *U(T).unpack_sequence(q), *U(T).unpad_sequence(padded, T.tensor([4, 2, 1]),
                                                                                       batch_first=True)]  # fmt: skip

    computed(fn, make((4, 3), seed=1), make((2, 3), seed=2), make((1, 3), seed=3))

    def in_place(T: Any) -> list:  # (torch's unpad_sequence transposes a sequence-first batch in place)
        padded = U(T).pad_sequence([T.ones(3).requires_grad_(), T.ones(2)])
        parts = U(T).unpad_sequence(padded, T.tensor([3, 2]))
        return [str(padded.shape), *[str(v) for v in parts]]

    assert [cpu_text(s) for s in in_place(engine)] == in_place(torch)


def _pack_error_cases() -> list:
    x = lambda T: T.arange(12.0).reshape(4, 3, 1)  # noqa: E731
    return [
        lambda T: U(T).pack_padded_sequence(x(T), [2, 4, 1]),
        lambda T: U(T).pack_padded_sequence(x(T), [4, 2]),
        lambda T: U(T).pack_padded_sequence(x(T), [4, 2, 0]),
        lambda T: U(T).pack_padded_sequence(T.zeros(0, 3), [1, 1, 1]),
        lambda T: U(T).pack_padded_sequence(T.arange(4.0), [4]),
        lambda T: U(T).pack_sequence([T.ones(1), T.ones(2)]),
        lambda T: U(T).pad_packed_sequence(U(T).pack_padded_sequence(x(T), [4, 2, 1]), total_length=3),
        lambda T: U(T).PackedSequence(T.ones(3)),
        lambda T: U(T).pad_sequence([]),
        lambda T: U(T).unpad_sequence(T.ones(3, 2), T.tensor([3, 2, 1])),
        lambda T: U(T).no_such_function,
    ]


@pytest.mark.parametrize("i", range(len(_pack_error_cases())))
def test_pack_errors(i: int) -> None:
    t = same_text(_pack_error_cases()[i])
    assert t[:1] == ("raised",), f"torch did not raise: {t}"


def test_batch_sizes_and_lengths_stay_on_the_cpu() -> None:
    x = engine.tensor(make((4, 3, 2)))
    p = engine.nn.utils.rnn.pack_padded_sequence(x, [2, 4, 1], enforce_sorted=False)
    padded, lengths = engine.nn.utils.rnn.pad_packed_sequence(p)
    assert p.batch_sizes.device.type == lengths.device.type == "cpu"
    assert p.data.device.type == p.sorted_indices.device.type == padded.device.type == helpers.DEVICE
    assert [t.device.type for t in engine.nn.utils.rnn.unpack_sequence(p)] == [helpers.DEVICE] * 3


def test_lengths_past_the_input_and_float_lengths() -> None:
    """torch reads no step past the input (a length of 5 over 4 steps counts in batch_sizes only), and takes
    float lengths as their integer part."""
    x = make((4, 3, 2))
    computed(lambda T, x: _fields(U(T).pack_padded_sequence(x, [5, 2, 1])), x, grad=False)

    def backward(T: Any) -> None:  # (torch's backward then indexes the step past the input: its IndexError)
        U(T).pack_padded_sequence(T.tensor(x, requires_grad=True), [5, 2, 1]).data.sum().backward()

    assert same_text(backward)[:2] == ("raised", "IndexError")
    computed(lambda T, x: _fields(U(T).pack_padded_sequence(x, T.tensor([4.0, 2.5, 1.0]))), x)
    computed(lambda T, x: _fields(U(T).pack_padded_sequence(x, T.tensor([2, 4, 1], dtype=T.int32),
                                                           enforce_sorted=False)), x)  # fmt: skip


def test_pack_pad_double_backward_and_gradcheck() -> None:
    x = engine.tensor(make((5, 3, 2), "float64"), requires_grad=True)
    R = engine.nn.utils.rnn

    def round_trip(x: engine.Tensor) -> engine.Tensor:
        p = R.pack_padded_sequence(x, [2, 5, 3], enforce_sorted=False)
        return R.pad_packed_sequence(p, batch_first=True, padding_value=0.5, total_length=6)[0] * p.data.sum()

    assert gradcheck(round_trip, (x,))
    assert gradgradcheck(round_trip, (x,))


# ---- recurrent layers over packed batches --------------------------------------------------------------------
def _layer(nn: Any, mode: str, *args: Any, **kw: Any) -> Any:
    return {"RNN": nn.RNN, "RNN_RELU": lambda *a, **k: nn.RNN(*a, nonlinearity="relu", **k), "LSTM": nn.LSTM,
            "GRU": nn.GRU}[mode](*args, **kw)  # fmt: skip


def packed_run(T: Any, mode: str, kw: dict, xa: np.ndarray, lengths: list, sort: bool, hx: Any = None,
               seed: int = 0) -> dict:  # fmt: skip
    """Packed output and hidden states of a seeded layer, then the gradients of the data, the initial states and
    every parameter after backward of a weighted sum of all of them."""
    T.manual_seed(seed)
    m = _layer(T.nn, mode, xa.shape[-1], 4, dtype=getattr(T, str(xa.dtype)), **kw)
    x = T.tensor(xa, requires_grad=True)
    p = U(T).pack_padded_sequence(x, lengths, batch_first=kw.get("batch_first", False), enforce_sorted=sort)
    states = None if hx is None else tuple(T.tensor(h, requires_grad=True) for h in hx)
    out, h = m(p, None if states is None else states if mode == "LSTM" else states[0])
    flat = [out.data, *(h if isinstance(h, tuple) else (h,))]
    rng = np.random.default_rng(7)
    loss = sum((r * T.tensor(rng.standard_normal(tuple(r.shape)).astype(xa.dtype))).sum() for r in flat)
    loss.backward()
    padded, lens = U(T).pad_packed_sequence(out, batch_first=kw.get("batch_first", False))
    leaves = [x, *(states or ())]
    return {
        "out": [*_fields(out), *(h if isinstance(h, tuple) else (h,)), padded, lens.tolist()],
        "grad": [v.grad for v in leaves] + [q.grad for q in m.parameters()],
        "names": [type(out).__name__, out.data.grad_fn.name(), flat[1].grad_fn.name()],
    }


def assert_run(e: dict, t: dict) -> None:
    assert e["names"] == t["names"]
    helpers.assert_same(e["out"], t["out"])
    dtype = str(t["grad"][0].dtype).removeprefix("torch.")
    helpers.assert_same(e["grad"], t["grad"], *helpers.GRAD_TOL[dtype])


CONFIGS = [
    dict(),
    dict(num_layers=2),
    dict(bidirectional=True),
    dict(num_layers=2, bidirectional=True, bias=False),
    dict(batch_first=True, bidirectional=True),
]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("kw", CONFIGS, ids=range(len(CONFIGS)))
@pytest.mark.parametrize("mode", ["RNN", "RNN_RELU", "LSTM", "GRU"])
def test_layers_over_packed_batches(mode: str, kw: dict, dtype: str) -> None:
    shape = (4, 6, 3) if kw.get("batch_first") else (6, 4, 3)
    xa = make(shape, dtype, -1, 1, seed=1)
    for lengths, sort in (([6, 4, 4, 1], True), ([2, 6, 1, 5], False)):
        assert_run(packed_run(engine, mode, kw, xa, lengths, sort), packed_run(torch, mode, kw, xa, lengths, sort))


@pytest.mark.parametrize("mode", ["RNN", "LSTM", "GRU"])
def test_initial_states_are_permuted_with_the_batch(mode: str) -> None:
    """A given hx is in the sequences' original order: sorted with them going in, unsorted coming out."""
    xa = make((5, 3, 2), "float64", -1, 1, seed=4)
    dirs_layers = 4  # (2 layers, bidirectional)
    hx = [make((dirs_layers, 3, 4), "float64", -1, 1, seed=s) for s in (5, 6)]
    kw = dict(num_layers=2, bidirectional=True)
    for sort, lengths in ((False, [2, 5, 3]), (True, [5, 3, 2])):
        t = packed_run(torch, mode, kw, xa, lengths, sort, hx)
        assert_run(packed_run(engine, mode, kw, xa, lengths, sort, hx), t)


def test_lstm_with_projections_and_dropout_in_training() -> None:
    xa = make((5, 3, 2), "float32", -1, 1, seed=4)
    for kw in (dict(proj_size=2, num_layers=2, bidirectional=True), dict(num_layers=3, dropout=0.5)):
        for mode in ("LSTM", "GRU") if "dropout" in kw else ("LSTM",):
            t = packed_run(torch, mode, kw, xa, [2, 5, 3], False, seed=3)
            assert_run(packed_run(engine, mode, kw, xa, [2, 5, 3], False, seed=3), t)


def test_h_n_is_each_sequences_state_at_its_length() -> None:
    """h_n of a packed batch is each sequence's own run's last output (the forward direction)."""
    engine.manual_seed(0)
    m = engine.nn.GRU(2, 3, dtype=engine.float64)
    x = engine.tensor(make((6, 3, 2), "float64"))
    lengths = [3, 6, 2]
    _, h = m(engine.nn.utils.rnn.pack_padded_sequence(x, lengths, enforce_sorted=False))
    for b, n in enumerate(lengths):
        out, _ = m(x[:n, b])  # (one unbatched sequence)
        np.testing.assert_allclose(h[0, b].detach().cpu().numpy(), out[-1].detach().cpu().numpy(), rtol=1e-12)


@given(
    mode=st.sampled_from(["RNN", "LSTM", "GRU"]), batch=st.integers(1, 4), steps=st.integers(1, 5),
    layers=st.integers(1, 2), bidirectional=st.booleans(), data=st.data(),
)  # fmt: skip
@FAST
def test_random_packed_batches(mode: str, batch: int, steps: int, layers: int, bidirectional: bool, data: Any) -> None:
    lengths = data.draw(st.lists(st.integers(1, steps), min_size=batch, max_size=batch))
    lengths[data.draw(st.integers(0, batch - 1))] = steps  # (the padded batch is as long as its longest)
    xa = make((steps, batch, 2), "float64", -1, 1, seed=steps * 10 + batch)
    kw = dict(num_layers=layers, bidirectional=bidirectional)
    assert_run(packed_run(engine, mode, kw, xa, lengths, False), packed_run(torch, mode, kw, xa, lengths, False))


def test_gradcheck_packed_lstm_and_gru() -> None:
    R = engine.nn.utils.rnn
    x = engine.tensor(make((4, 3, 2), "float64", -1, 1), requires_grad=True)
    for mode in ("LSTM", "GRU"):
        engine.manual_seed(0)
        m = _layer(engine.nn, mode, 2, 3, bidirectional=True, dtype=engine.float64)

        def fn(x: engine.Tensor, m: Any = m) -> engine.Tensor:
            out, h = m(R.pack_padded_sequence(x, [2, 4, 1], enforce_sorted=False))
            return out.data.sum() + (h[0] if isinstance(h, tuple) else h).pow(2).sum()

        assert gradcheck(fn, (x,))


def test_packed_errors_and_checks() -> None:
    def cases(T: Any) -> list:
        T.manual_seed(0)
        x = T.randn(4, 3, 2)
        p = U(T).pack_padded_sequence(x, [4, 2, 1])
        out = []
        for mode in ("RNN", "GRU", "LSTM"):
            m = _layer(T.nn, mode, 2, 5)
            for f in (lambda m=m: m(U(T).pack_padded_sequence(T.randn(4, 3, 3), [4, 2, 1])),
                      lambda m=m, mode=mode: m(p, (T.zeros(1, 2, 5),) * 2 if mode == "LSTM" else T.zeros(1, 2, 5)),
                      lambda m=m, mode=mode: m(p, (T.zeros(1, 3, 4),) * 2 if mode == "LSTM" else T.zeros(1, 3, 4)),
                      lambda m=m: m(U(T).pack_padded_sequence(x.double(), [4, 2, 1])),
                      lambda m=m, mode=mode: m(p, (T.zeros(3, 5),) * 2 if mode == "LSTM" else T.zeros(3, 5)),
                      ):  # fmt: skip
                try:
                    f()
                    out.append("no error")
                except (RuntimeError, ValueError, IndexError) as e:
                    out.append(f"{type(e).__name__}: {e}")
        return out

    assert [cpu_text(s) for s in cases(engine)] == cases(torch)


def test_packed_char_model_trains_like_torch() -> None:
    """Embedding -> packed bidirectional LSTM -> Linear on each sequence's final state, cross-entropy, three
    Adam steps over a batch of differently long sequences."""
    tokens = np.random.default_rng(3).integers(1, 9, size=(6, 4))
    lengths = [3, 6, 1, 4]
    target = np.array([0, 1, 1, 0])

    def fn(T: Any) -> list:
        T.manual_seed(1)
        emb, lstm, head = T.nn.Embedding(9, 3, padding_idx=0), T.nn.LSTM(3, 5, bidirectional=True), T.nn.Linear(10, 2)
        params = [*emb.parameters(), *lstm.parameters(), *head.parameters()]
        opt = T.optim.Adam(params, lr=0.05)
        out: list = []
        for _ in range(3):
            opt.zero_grad()
            packed = U(T).pack_padded_sequence(emb(T.tensor(tokens)), lengths, enforce_sorted=False)
            _, (h, _) = lstm(packed)
            loss = T.nn.functional.cross_entropy(head(T.cat([h[0], h[1]], 1)), T.tensor(target))
            loss.backward()
            opt.step()
            out += [loss, [q.grad for q in params]]
        return [*out, params]

    helpers.assert_same(fn(engine), fn(torch), 1e-5, 1e-4)


def test_names_are_in_the_namespace() -> None:
    R = engine.nn.utils.rnn
    for name in ("PackedSequence", "pack_padded_sequence", "pad_packed_sequence", "pack_sequence",
                 "unpack_sequence", "invert_permutation", "pad_sequence", "unpad_sequence"):  # fmt: skip
        assert name in R.__all__ and getattr(R, name) is getattr(R, name), name
    check(lambda T, a: U(T).pad_sequence([a, a[:2]]), make((3, 2)))
