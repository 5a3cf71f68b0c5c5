"""Printing differences found by the print17 differential fuzzer (engine vs torch), each pinned against torch."""

from __future__ import annotations

import warnings

import pytest
import torch

import engine


def _both(fn):
    """fn(lib) run with torch and with the engine: its result, or the raised error's type and message."""
    out = []
    for lib in (torch, engine):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                out.append(fn(lib))
            except Exception as e:  # noqa: BLE001 - the error itself is what is compared
                out.append((type(e).__name__, str(e)))
    return out


@pytest.mark.parametrize(
    "make",
    [
        lambda t: t.max(t.ones(2, 3), 1),
        lambda t: t.sort(t.ones(3)),
        lambda t: t.aminmax(t.ones(3)),
        lambda t: t.linalg.qr(t.eye(2)),
        lambda t: t.histogram(t.ones(3), 2),
    ],
)
def test_return_type_attribute_error_names_torch_return_types(make):
    # Python's message names a structseq by its tp_name, torch.return_types.<name>; __name__ stays short
    def go(t):
        r = make(t)
        names = (type(r).__name__, type(r).__qualname__, repr(type(r)))
        try:
            r.no_such_field
        except AttributeError as e:
            return names, str(e)

    a, b = _both(go)
    assert a == b


def test_lazy_module_state_dict_keeps_uninitialized_parameters():
    def go(t):
        return [
            str(t.nn.LazyLinear(3).state_dict()),
            repr(t.nn.LazyBatchNorm1d().state_dict()),
            repr(t.nn.LazyConv2d(4, 3).state_dict(keep_vars=True)),
        ]

    a, b = _both(go)
    assert a == b
    assert "<UninitializedParameter>" in a[0]


def test_layout_prints_as_torch_strided():
    # torch.strided is a torch.layout object, not a string: repr has no quotes
    def go(t):
        x = t.ones(2)
        return [
            repr(t.strided),
            str(x.layout),
            repr(x.layout),
            repr([x.layout]),
            repr(type(t.strided)),
            x.layout == t.strided,
            x.layout is t.strided,
            f"{t.strided}",
        ]

    a, b = _both(go)
    assert a == b
