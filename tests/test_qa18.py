"""Differences from PyTorch found by QA round 18 (a differential sweep of whole learner programs on tensor
creation, indexing, views, promotion, autograd errors, custom Functions, hooks, printing and the training
utilities; each program run by `tcli run` and by Python with PyTorch, stdout compared byte for byte)."""

from __future__ import annotations

import warnings

import pytest
import torch
from test_lang_torch import run_torch, run_tsr

import engine


def same_as_torch(src: str) -> str:
    status, out, err = run_tsr(src)
    assert status == 0, err
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert out == run_torch(src)
    return out


def _outcome(fn, lib):
    try:
        r = fn(lib)
    except Exception as e:  # noqa: BLE001 - the error itself is compared
        return type(e).__name__, str(e)
    return tuple(r.shape), r.tolist(), str(r.dtype).replace("engine.", "torch.")


# ---- type(node).__name__ of a custom Function's node ----------------------------------------------------------


def test_custom_function_node_type_name_is_the_short_name():
    # type(y.grad_fn).__name__ is 'MyReLUBackward' (its repr names torch.autograd.function.MyReLUBackward)
    out = same_as_torch(
        """
        import torch
        class MyReLU(torch.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                ctx.save_for_backward(x)
                return x.clamp(min=0)
            @staticmethod
            def backward(ctx, g):
                x, = ctx.saved_tensors
                return g * (x > 0)
        y = MyReLU.apply(torch.tensor([-1., 2.], requires_grad=True))
        print(type(y.grad_fn).__name__, type(y.grad_fn), y.grad_fn.__class__.__name__)
        print(type((y * 2).grad_fn).__name__, type((y * 2).grad_fn))
        """
    )
    assert out.startswith("MyReLUBackward <class 'torch.autograd.function.MyReLUBackward'> MyReLUBackward\n")


# ---- indexing: several Ellipses, str entries, float lists -----------------------------------------------------


@pytest.mark.parametrize(
    "index",
    [
        (Ellipsis, 0, Ellipsis),
        (Ellipsis, Ellipsis),
        (0, Ellipsis, Ellipsis),
        (Ellipsis, 1, 2, 3, Ellipsis),
        (Ellipsis, None, Ellipsis),
        "a",
        ("a",),
        [1.5],
        [[1.7, 0.2]],
        ([1.9, 0.0], 1),
        [1, "a"],
    ],
)
def test_index_forms_match_torch(index):
    def get(lib):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return lib.arange(24).reshape(2, 3, 4)[index]

    assert _outcome(get, engine) == _outcome(get, torch)


@pytest.mark.parametrize("index", [(Ellipsis, 1, Ellipsis), [0.5], ([1.2], Ellipsis, Ellipsis)])
def test_index_write_forms_match_torch(index):
    def put(lib):
        x = lib.zeros(2, 3)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            x[index] = 5
        return x

    assert _outcome(put, engine) == _outcome(put, torch)


# ---- a Python int base out of an integer tensor's range: cast as C casts it ------------------------------------


@pytest.mark.parametrize("base", [-1, -2, 300, -129, 1000])
@pytest.mark.parametrize("dtype", ["uint8", "int8", "int16"])
def test_rpow_int_base_wraps_into_the_dtype(base, dtype):
    def rpow(lib):
        return base ** lib.tensor([3, 1, 0, 2], dtype=getattr(lib, dtype))

    assert _outcome(rpow, engine) == _outcome(rpow, torch)
