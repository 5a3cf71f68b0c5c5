"""Raw data (a list, a numpy array, a number) fed to a layer or to torch.nn.functional: the engine raises what
torch raises, type and message, never an error about its own internals. torch answers from its C++ argument
parser (a TypeError naming the op, or conv's list of overloads) or from Python code that reads an attribute
first (an AttributeError); engine/nn/arg_checks.py and functional_conv._conv_args_error say the same."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import torch
from helpers import RAISED, outcome

import engine

L = [[1.0, 2.0]]
ARR = np.ones((1, 1, 3, 3), dtype=np.float32)


def _layer(name: str, *args: Any, **kw: Any) -> Any:
    return lambda T: getattr(T.nn, name)(*args, **kw)


LOSSES = ["BCELoss", "BCEWithLogitsLoss", "HingeEmbeddingLoss", "HuberLoss", "KLDivLoss", "L1Loss", "MSELoss",
          "NLLLoss", "PoissonNLLLoss", "SmoothL1Loss", "SoftMarginLoss", "CrossEntropyLoss"]  # fmt: skip
LAYERS = {
    **{
        n: _layer(n)
        for n in (
            "ReLU",
            "Sigmoid",
            "Tanh",
            "GELU",
            "SiLU",
            "ELU",
            "LeakyReLU",
            "Softplus",
            "Hardtanh",
            "ReLU6",
            "Mish",
            "PReLU",
            "Softsign",
            "Tanhshrink",
            "Hardswish",
            "Hardsigmoid",
            "LogSigmoid",
            "CELU",
            "SELU",
            "Softshrink",
            "Hardshrink",
            "Flatten",
            "Dropout",
            "AlphaDropout",
            "GLU",
        )
    },  # fmt: skip
    "Softmax": _layer("Softmax", 0),
    "LogSoftmax": _layer("LogSoftmax", 0),
    "Threshold": _layer("Threshold", 0.1, 0.0),
    **{
        n: _layer(n, 1)
        for n in (
            "MaxPool1d",
            "MaxPool2d",
            "AvgPool1d",
            "AvgPool2d",
            "AdaptiveAvgPool1d",
            "AdaptiveAvgPool2d",
            "AdaptiveMaxPool1d",
            "AdaptiveMaxPool2d",
            "PixelShuffle",
            "ZeroPad2d",
            "ReflectionPad1d",
            "ReplicationPad1d",
        )
    },  # fmt: skip
    "ConstantPad1d": _layer("ConstantPad1d", 1, 0.0),
    "Upsample": _layer("Upsample", scale_factor=2),
    "Conv1d": _layer("Conv1d", 1, 1, 3),
    "Conv2d": _layer("Conv2d", 1, 1, 3),
    "Conv2d_same_nobias": _layer("Conv2d", 1, 1, 3, padding="same", bias=False),
    "ConvTranspose1d": _layer("ConvTranspose1d", 1, 1, 3),
    "ConvTranspose2d": _layer("ConvTranspose2d", 1, 1, 3),
    "Linear": _layer("Linear", 2, 2),
    "Embedding": _layer("Embedding", 3, 2),
    "LayerNorm": _layer("LayerNorm", 2),
    "BatchNorm1d": _layer("BatchNorm1d", 2),
}


def same(fn: Any) -> tuple:
    t, e = outcome(fn, torch), outcome(fn, engine)
    assert isinstance(t, tuple) and t[:1] == (RAISED,), f"torch did not raise: {t!r}"
    assert e == t, f"\nengine: {e}\ntorch:  {t}"
    return t


@pytest.mark.parametrize("name", LOSSES)
def test_losses_given_lists(name: str) -> None:
    same(lambda T: getattr(T.nn, name)()(L, L))


@pytest.mark.parametrize("name", list(LAYERS))
@pytest.mark.parametrize("data", ["list", "numpy", "number"], ids=str)
def test_layers_given_raw_data(name: str, data: str) -> None:
    x = {"list": L, "numpy": ARR, "number": 3}[data]
    if data != "list" and name in ("Softmax", "LogSoftmax", "AdaptiveAvgPool2d", "AdaptiveMaxPool2d"):
        pytest.skip("torch calls a method of the argument here: a numpy array has another error of its own")
    same(lambda T: LAYERS[name](T)(x))


def test_conv_overload_lists() -> None:
    """conv1d/conv2d list their overloads; with all seven arguments given (as a layer passes them) each says
    which arguments its parser refused; fewer given, the overloads alone."""
    msg = same(lambda T: T.nn.Conv2d(1, 1, 3)(L))[2]
    assert "didn't match because some of the arguments have invalid types: (!list of [list]!, !Parameter!" in msg
    w = np.ones((1, 1, 3, 3), dtype=np.float32)
    # (trailing arguments at their defaults read as not given: an explicit F.conv2d(x, w, None) is described as
    # F.conv2d(x, w), the one place this differs from torch's parser, which sees the call itself)
    for args in ((), (None, 2), (None, 1, 1)):
        same(lambda T, args=args: T.nn.functional.conv2d(L, T.tensor(w), *args))
    same(lambda T: T.conv2d([1.0, 2.0], T.tensor(w)))
    same(lambda T: T.nn.functional.conv1d(3, T.ones(1, 1, 3)))


def test_tensors_still_pass_through() -> None:
    """The checks stand aside for tensors: the functions compute as before."""
    for T in (torch, engine):
        x = T.tensor([[-1.0, 0.5, 2.0]])
        assert T.nn.functional.hardtanh(x).tolist() == [[-1.0, 0.5, 1.0]]
        assert T.nn.functional.mse_loss(x, x * 0).item() == pytest.approx(1.75)
        assert T.nn.functional.softmax(x, 1).sum().item() == pytest.approx(1.0)


TOP_LEVEL = ["mean", "sum", "exp", "sigmoid", "flatten", "argmax", "zeros_like", "numel", "sqrt", "abs", "cumprod"]


@pytest.mark.parametrize("name", TOP_LEVEL)
@pytest.mark.parametrize("data", ["list", "numpy", "number"], ids=str)
def test_top_level_functions_given_raw_data(name: str, data: str) -> None:
    """`torch.mean([loss1, loss2])` and the like: the argument parser's TypeError (engine/__init__'s list)."""
    x = {"list": [1.0, 2.0], "numpy": np.ones(2), "number": 3.0}[data]
    same(lambda T: getattr(T, name)(x))


def test_sequences_of_tensors_and_loss_targets() -> None:
    for call in (
        lambda T: T.cat([T.ones(2), np.zeros(2)]),
        lambda T: T.stack([T.ones(2), [1.0, 2.0]]),
        lambda T: T.cat((T.ones(1), 3)),
        lambda T: T.nn.CrossEntropyLoss()(T.ones(4, 3), np.array([0, 1, 2, 1])),
        lambda T: T.nn.functional.cross_entropy(T.ones(4, 3), [0, 1, 2, 1]),
        lambda T: T.nn.functional.nll_loss(T.ones(4, 3), np.array([0, 1, 2, 1])),
        lambda T: T.nn.MSELoss()(T.ones(3), np.ones(3)),
        lambda T: T.nn.L1Loss()(T.ones(3), np.ones(3)),
        lambda T: T.nn.BCELoss()(T.ones(3) / 2, np.ones(3)),
        lambda T: T.tensor([T.tensor([1.0, 2.0]), T.tensor([3.0, 4.0])]),
        lambda T: T.tensor([T.tensor([1.0, 2.0]), 3.0]),
    ):
        same(call)


def test_tensor_with_ndarray_operands_and_tensors_in_lists() -> None:
    """tensor op ndarray goes through numpy and comes back as a float64 (or the ndarray's dtype) cpu tensor, as
    torch's __array_wrap__ makes it; one-element tensors inside a list are numbers."""

    def f(T: Any) -> Any:
        t, a = T.tensor([1.0, 2.0]), np.array([1.0, 2.0])
        with_ndarray = [t + a, t - a, t * np.array(3), t / a, t @ a, t**a, T.tensor([1, 2]) + np.array([1, 2])]
        in_lists = [T.tensor([T.tensor([1.0]), T.tensor([2.0])]), T.tensor([T.tensor(1.0), T.tensor(2)]),
                    T.tensor([[T.tensor(1.0)], [T.tensor(2.0)]])]  # fmt: skip
        return [(str(r.dtype), r.tolist(), type(r).__name__) for r in with_ndarray + in_lists]

    t, e = outcome(f, torch), outcome(f, engine)
    assert e == t


def test_random__from_to_none() -> None:
    def f(T: Any) -> Any:
        T.manual_seed(0)
        return [T.empty(3).random_(2, None).tolist(), T.empty(3).random_(0, None).tolist(),
                T.empty(3, dtype=T.long).random_(-(2**63), None).tolist(),
                T.empty(3, dtype=T.int32).random_(5, None).tolist(),
                T.empty(2, dtype=T.uint8).random_(200, None).tolist(), T.rand(1).tolist()]  # fmt: skip

    assert outcome(f, engine) == outcome(f, torch)


def test_float_sizes_are_torchs_unpack_error() -> None:
    for call in (
        lambda T: T.empty((3, 2.0)),
        lambda T: T.zeros(2, 3.5),
        lambda T: T.nn.Linear(6 / 2, 2),
        lambda T: T.ones(6).view(2, 3.0),
        lambda T: T.ones(6).reshape(2, 3.0),
        lambda T: T.ones(6).expand(2, 3.0),
        lambda T: T.ones(6).view(2, None),
    ):
        same(call)
    assert tuple(engine.empty(3, True).shape) == tuple(torch.empty(3, True).shape)  # (a bool is an int there)


def test_cross_entropy_check_order() -> None:
    """Same shapes make the target class probabilities (a Long one is torch's error, as argmax output gives);
    a 2-d target of another shape fails on its rank before its dtype."""
    for call in (
        lambda T: T.nn.CrossEntropyLoss()(T.tensor([1, 2, 0, 1]), T.tensor([1, 0, 2, 1])),
        lambda T: T.nn.CrossEntropyLoss()(T.ones(4, 3), T.ones(4, 2)),
        lambda T: T.nn.CrossEntropyLoss()(T.ones(4, 3), T.ones(4)),
    ):
        same(call)


def test_torch_range_and_removed_solve() -> None:
    import warnings

    def f(T: Any) -> Any:
        with warnings.catch_warnings(record=True) as ws:
            warnings.simplefilter("always")
            r = [T.range(1, 4), T.range(0, 1, 0.25), T.range(1, 4, dtype=T.int64), T.range(0, 0.9, 0.3),
                 T.range(5, 1, -2)]  # fmt: skip
        return [(str(t.dtype), t.tolist()) for t in r], [str(w.message) for w in ws]

    assert outcome(f, engine) == outcome(f, torch)
    same(lambda T: T.solve(T.ones(2, 2), T.ones(2, 2)))
    same(lambda T: T.range(1, 4, 0))


def test_tensor_data_errors_and_factory_checks() -> None:
    for call in (
        lambda T: T.tensor(None),
        lambda T: T.tensor({1: 2}),
        lambda T: T.tensor([[1, 2], 3]),
        lambda T: T.tensor([1, [2, 3]]),
        lambda T: T.tensor([1.0, [2, 3]]),
        lambda T: T.tensor([[1], [2, 3]]),
        lambda T: T.tensor([[1.0, 2.0], T.tensor([3.0])]),
        lambda T: T.eye(-1),
        lambda T: T.eye(3, -2),
        lambda T: T.ones(2).new_zeros(-1),
        lambda T: T.zeros(-1),
        lambda T: T.outer(T.ones(2), T.ones(2, 2)),
    ):
        same(call)
    for data in ([], [[], []], [True, 2], [T_ for T_ in (1, 2.5)], ((1, 2), (3, 4))):
        t, e = torch.tensor(data), engine.tensor(data)
        assert (str(e.dtype), e.tolist()) == (str(t.dtype), t.tolist())


def test_tensor_data_from_ranges_arrays_and_numpy_scalars() -> None:
    """torch.tensor walks any sequence (a range, a list of numpy arrays) and promotes every leaf's own dtype:
    numpy scalars and tensors keep theirs, so [1.5, np.float64(2)] is float64 (QA round 12)."""
    i16 = np.array([1, 2], dtype=np.int16)
    for data in (
        range(5), range(0), [range(3), range(3)], [[1, 2], range(2)], [np.array([1.5, 2.0]), np.array([3.0, 4.0])],
        [i16, [3, 4]], [i16], [1.5, np.float64(2)], [np.int32(1), 2], [np.int32(1), np.int8(2)], [np.int8(1), True],
        [np.float16(1), 2], [np.float16(1), 2.0], [np.complex64(1), 1.0], [np.uint8(3), -1],
    ):  # fmt: skip
        t, e = torch.tensor(data), engine.tensor(data)
        assert (str(e.dtype), e.tolist()) == (str(t.dtype), t.tolist()), data
    for mk in (
        lambda T: [T.tensor(1.0, dtype=T.float16), 1], lambda T: [T.tensor(1, dtype=T.int32), 2],
        lambda T: [T.tensor(1.0, dtype=T.float64), 2.0], lambda T: [T.tensor(1.0, dtype=T.bfloat16), 1],
        lambda T: [T.tensor(1, dtype=T.uint8), np.int8(1)],
    ):  # fmt: skip
        t, e = torch.tensor(mk(torch)), engine.tensor(mk(engine))
        assert (str(e.dtype), e.tolist()) == (str(t.dtype), t.tolist())
    for mk in (lambda T: T.tensor(range(2, 10, 3), dtype=T.float32), lambda T: T.FloatTensor(range(3)),
               lambda T: T.as_tensor(range(3))):  # fmt: skip
        t, e = mk(torch), mk(engine)
        assert (str(e.dtype), e.tolist()) == (str(t.dtype), t.tolist())
    # a list of tensors of several elements: read as numbers, through __index__ for an integer result
    for dt in (None, "float32"):
        for mk in (lambda T: [T.tensor([1, 2]), T.tensor([3, 4])], lambda T: [T.tensor([1.0, 2.0])]):
            same(lambda T, mk=mk, dt=dt: T.tensor(mk(T), dtype=None if dt is None else getattr(T, dt)))


def test_tensor_from_a_list_of_arrays_warns_once() -> None:
    import warnings

    for T in (torch, engine):
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            T.tensor([np.array([1.0]), np.array([2.0])])
        got = [str(x.message) for x in w]
        if T is torch:
            want = got
        else:
            assert got == want or (not got and "numpy.ndarrays" in " ".join(want))  # (once per process)


def test_randint_without_a_size_tuple() -> None:
    """torch.randint(0, 10, 5), the common slip: torch's parser lists the four overloads."""
    for call in (lambda T: T.randint(0, 10, 5), lambda T: T.randint(0, 10, (2,), 3), lambda T: T.randint(5)):
        same(call)
    for T in (torch, engine):
        assert tuple(T.randint(0, 10, (3,)).shape) == (3,) and tuple(T.randint(10, (2, 2)).shape) == (2, 2)


def test_size_arguments_mixing_ints_and_tuples() -> None:
    for call in (
        lambda T: T.randn(2, (3,)),
        lambda T: T.zeros(2, [3]),
        lambda T: T.ones((2,), 3),
        lambda T: T.Tensor(2, 3.5),
    ):
        same(call)
