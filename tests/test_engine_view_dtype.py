"""x.view(dtype) and fill_'s argument check, against PyTorch 2.13: the bytes reinterpreted (bfloat16 included,
which the engine stores as float32), torch's checks of size, strides and offset, and the result's autograd
state (view.dtype is not differentiable)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
import torch

import engine


def _outcome(f: Callable[[Any], Any], T: Any) -> tuple:
    try:
        r = f(T)
    except Exception as e:  # noqa: BLE001 - the error is the result being compared
        return ("error", type(e).__name__, str(e))
    raw = r.reshape(-1).contiguous().view(T.uint8).numpy().tobytes()
    return ("value", str(r.dtype), tuple(r.shape), raw)


_NAN = float("nan")
CASES = {
    "0-dim same size": lambda T: T.tensor(1.0).view(T.int32),
    "0-dim other size": lambda T: T.tensor(1.0).view(T.int16),
    "upsizing stride(0)": lambda T: T.ones(4, 3, dtype=T.int16)[:, :2].view(T.float32),
    "upsizing offset": lambda T: T.ones(6, dtype=T.int16)[1:5].view(T.float32),
    "upsizing size(-1)": lambda T: T.ones(3, dtype=T.int16).view(T.float32),
    "downsizing stride(-1)": lambda T: T.ones(4, 4, dtype=T.int16)[:, ::2].view(T.int8),
    "upsizing rows": lambda T: T.arange(12, dtype=T.int16).view(3, 4)[::2].view(T.float32),
    "float to bf16": lambda T: T.tensor([1.5, -2, 3e38, _NAN]).view(T.bfloat16),
    "float to bf16 to int16": lambda T: T.tensor([1.5, -2, 3e38, _NAN]).view(T.bfloat16).view(T.int16),
    "bf16 to uint8": lambda T: T.tensor([1.5, -2, 0.1, float("inf")], dtype=T.bfloat16).view(T.uint8),
    "bf16 to int16": lambda T: T.tensor([1.5, -2, 0.1, -0.0], dtype=T.bfloat16).view(T.int16),
    "bf16 to float16": lambda T: T.tensor([1.5, -2, 0.1, 7.0], dtype=T.bfloat16).view(T.float16),
    "bf16 to float32": lambda T: T.tensor([1.5, -2, 0.1, 7.0], dtype=T.bfloat16).view(T.float32),
    "bf16 to complex64": lambda T: T.tensor([1.5, -2, 0.1, 7.0], dtype=T.bfloat16).view(T.complex64),
    "bf16 to int64 (size)": lambda T: T.tensor([1.5, -2, 0.1, 7.0], dtype=T.bfloat16).view(T.int64),
    "bf16 offset": lambda T: T.tensor([1.5, -2, 0.1, 7.0, 1.0], dtype=T.bfloat16)[1:].view(T.float32),
    "bf16 transposed": lambda T: T.ones(2, 2, dtype=T.bfloat16).t().view(T.int8),
    "bf16 0-dim": lambda T: T.tensor(1.0, dtype=T.bfloat16).view(T.int16),
    "bf16 0-dim other size": lambda T: T.tensor(1.0, dtype=T.bfloat16).view(T.int8),
    "int16 to bf16": lambda T: T.tensor([1, 2, -32768, 32767], dtype=T.int16).view(T.bfloat16),
    "uint8 to bf16": lambda T: T.arange(4, dtype=T.uint8).view(T.bfloat16),
    "complex to float": lambda T: T.tensor([1 + 2j]).view(T.float32),
    "not a dtype": lambda T: T.ones(2).view("float"),
}


@pytest.mark.parametrize("name", list(CASES))
def test_view_dtype_matches_torch(name: str) -> None:
    f = CASES[name]
    assert _outcome(f, engine) == _outcome(f, torch)


def test_bf16_view_values_print_as_torch() -> None:
    x = [1.5, -2.0, 3e38, _NAN]
    assert str(engine.tensor(x).view(engine.bfloat16)) == str(torch.tensor(x).view(torch.bfloat16))


def test_view_dtype_is_not_differentiable_but_shares_the_version_counter() -> None:
    got = []
    for T in (torch, engine):
        x = T.ones(2, requires_grad=True)
        y = x.view(T.float32)
        state = [y.requires_grad, y.is_leaf, y.grad_fn is None, y._version]
        y.add_(1)  # a non-differentiable alias: torch lets it change the leaf's memory
        state += [x._version, y._version, x.tolist()]
        with T.no_grad():
            z = (x * 2).view(T.int32)
            state += [z.requires_grad, z.is_leaf]
        got.append(state)
    assert got[0] == got[1]
    assert got[0][:4] == [False, True, True, 0]


@pytest.mark.parametrize(
    "value", [range(3), [1, 2, 3], "a", None, np.float32(2.5), np.int64(3), True, 2.7, 1 + 2j], ids=repr
)
@pytest.mark.parametrize("dtype", ["float32", "int32", "complex64"])
def test_fill_takes_one_number_as_torch(value: Any, dtype: str) -> None:
    out = []
    for T in (torch, engine):
        y = T.zeros(3, dtype=getattr(T, dtype))
        try:
            out.append(y.fill_(value).tolist())
        except Exception as e:  # noqa: BLE001
            out.append((type(e).__name__, str(e)))
    assert out[0] == out[1]
