"""Storages (x.untyped_storage(), the deprecated x.storage()) against torch: the memory a tensor and its views
share, its printed form, reads and writes through it, and torch's errors."""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import pytest
import torch

import engine

pytestmark = pytest.mark.usefixtures("device")

# each builds a tensor (maybe a view) from its torch module; the storage under it is compared
VIEWS: dict[str, Callable[[Any], Any]] = {
    "plain": lambda T: T.tensor([1.0, 2.5, 3.0]),
    "slice": lambda T: T.arange(10.0)[3:7],
    "transpose": lambda T: T.arange(12.0).reshape(3, 4).t(),
    "column": lambda T: T.arange(12).reshape(3, 4)[:, 1],
    "step": lambda T: T.arange(12, dtype=T.int32)[::3],
    "contiguous copy": lambda T: T.arange(12.0).reshape(3, 4).t().contiguous(),
    "bool": lambda T: T.tensor([True, False, True]),
    "float64": lambda T: T.tensor([1.5, 2.0, 1e10], dtype=T.float64),
    "float16": lambda T: T.tensor([1.0, -2.0], dtype=T.float16),
    "empty": lambda T: T.zeros(0),
    "expanded": lambda T: T.tensor([[1.0], [2.0]]).expand(2, 3),
    "reinterpreted": lambda T: T.arange(4, dtype=T.int32).view(T.float32)[1:],
}


def _both(build: Callable[[Any], Any]) -> tuple[Any, Any]:
    return build(torch), build(engine)


def _storage_facts(x: Any) -> list:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        s, t = x.untyped_storage(), x.storage()
        return [
            str(s).replace("cuda:0", "cpu"), str(t).replace("cuda:0", "cpu"), s.size(), len(s), s.nbytes(),
            t.size(), t.nbytes(), t.element_size(), repr(t.dtype), s.tolist(), t.tolist(), x.storage_offset(),
            x.stride(), s[0] if len(s) else None, t[-1] if len(t) else None,
        ]  # fmt: skip


@pytest.mark.parametrize("name", VIEWS)
def test_storage_matches_torch(name: str) -> None:
    a, b = _both(VIEWS[name])
    assert _storage_facts(b) == _storage_facts(a)


def test_views_share_one_storage_and_writes_show_through() -> None:
    for T in (torch, engine):
        x = T.arange(6.0).reshape(2, 3)
        y = x.t()[1:]
        assert y.untyped_storage().data_ptr() == x.untyped_storage().data_ptr() == x.data_ptr()
        assert y.untyped_storage().data_ptr() != x.clone().untyped_storage().data_ptr()
    results = []
    for T in (torch, engine):
        x = T.arange(6.0).reshape(2, 3)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            x.t().storage()[4] = 9.5
        s = x[1].untyped_storage()
        s[1] = 300  # (the low byte is stored)
        results.append((x.cpu().tolist(), s[1], s[0:2].tolist(), type(s.fill_(0)).__name__, x.cpu().tolist()))
    assert results[1] == results[0]


@pytest.mark.parametrize(
    "action",
    [
        lambda s, t: s[100],
        lambda s, t: t[-100],
        lambda s, t: s["a"],
        lambda s, t: t[1.5],
        lambda s, t: t[0:2],
        lambda s, t: t.__setitem__(0, "a"),
    ],
)
def test_storage_errors_match_torch(action: Callable) -> None:
    errors = []
    for T in (torch, engine):
        x = T.tensor([1.0, 2.5, 3.0])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            s, t = x.untyped_storage(), x.storage()
        with pytest.raises(Exception) as info:
            action(s, t)
        errors.append((type(info.value).__name__, str(info.value)))
    assert errors[1] == errors[0]


def test_typed_storage_warns_as_torch_does() -> None:
    import engine.storage
    import engine.warn

    engine.warn._WARNED_ONCE.discard(engine.storage._TYPED_DEPRECATED)
    with pytest.warns(UserWarning, match=r"^TypedStorage is deprecated\. It will be removed") as caught:
        engine.ones(2).storage()
        engine.ones(2).storage()  # (once per process, as torch's)
    assert len(caught) == 1 and caught[0].filename == __file__
    assert repr(engine.UntypedStorage) == repr(torch.UntypedStorage)
    assert isinstance(engine.ones(1).untyped_storage(), engine.UntypedStorage)


def _storage_methods(T: Any) -> list:
    # (on the cpu for both: a cuda storage names itself torch.cuda.FloatStorage)
    x = T.arange(6.0, device="cpu")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        s, u = x.storage(), x.untyped_storage()
        c = s.clone()
        c[1] = -1.0  # (a clone owns new memory)
        facts = [x.cpu().tolist(), c.tolist(), type(c).__name__, type(u.clone()).__name__, u.clone().size()]
        facts += [c.copy_(T.ones(6, device="cpu").storage()).tolist(), x.cpu().tolist()]
        u.copy_(T.full((6,), 2.0, device="cpu").untyped_storage())  # (byte for byte into x's memory)
        facts += [x.cpu().tolist(), s.type(), u.type(), T.ones(2, dtype=T.int64, device="cpu").storage().type()]
        for conv in ("float", "double", "half", "long", "int", "short", "char", "byte", "bool"):
            d = getattr(s, conv)()
            facts += [type(d).__name__, repr(d.dtype), d.tolist()]
        facts += [u.int().tolist()[:8], s.is_shared(), u.is_shared(), s.is_pinned(), s.is_sparse, s.resizable()]
        facts += [s.cpu().data_ptr() == s.data_ptr(), u.cpu() is u, s.get_device() if x.is_cpu else "-"]
        y = x.view(2, 3)
        facts += [
            x.is_set_to(x),
            x.is_set_to(x.detach()),
            x.is_set_to(y),
            x[1:].is_set_to(x),
            y.is_set_to(y.view(2, 3)),
        ]
    return facts


def test_storage_methods_match_torch() -> None:
    assert _storage_methods(engine) == _storage_methods(torch)


@pytest.mark.parametrize("action", [lambda s: s.copy_(s.untyped()[0:12]), lambda s: s.copy_(5)])
def test_storage_copy_errors_match_torch(action: Callable) -> None:
    errors = []
    for T in (torch, engine):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            s = T.arange(6.0).storage()
        with pytest.raises(Exception) as info:
            action(s)
        errors.append((type(info.value).__name__, str(info.value)))
    assert errors[1] == errors[0]
