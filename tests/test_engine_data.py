"""torch.utils.data against torch: datasets, samplers, default_collate and DataLoader give torch's batches in
torch's order, and leave the global random stream where torch leaves it (each pass draws the loader's base seed,
then, shuffling without a generator, the sampler's seed), so what a script draws after a training loop matches."""

from __future__ import annotations

from collections import namedtuple
from typing import Any

import numpy as np
import pytest
import torch
from helpers import RAISED, outcome

import engine


def _plain(x: Any) -> Any:
    """A result as plain Python (tensors as (dtype, list)), comparable across the two libraries."""
    if isinstance(x, (torch.Tensor, engine.Tensor)):
        return (str(x.dtype).removeprefix("torch."), x.tolist())
    if isinstance(x, dict):
        return {k: _plain(v) for k, v in x.items()}
    if isinstance(x, tuple) and hasattr(x, "_fields"):
        return (type(x).__name__, *(_plain(v) for v in x))
    if isinstance(x, (list, tuple)):
        return type(x)(_plain(v) for v in x)
    return x


def same(fn: Any) -> Any:
    t, e = _plain(outcome(fn, torch)), _plain(outcome(fn, engine))
    assert e == t, f"\nengine: {e}\ntorch:  {t}"
    return t


def _data(T: Any) -> Any:
    return T.utils.data


def test_shuffled_epochs_and_the_stream_after() -> None:
    def f(T: Any) -> Any:
        T.manual_seed(0)
        ds = _data(T).TensorDataset(T.arange(22.0).reshape(11, 2), T.arange(11))
        dl = _data(T).DataLoader(ds, batch_size=4, shuffle=True)
        out = [[yb.tolist() for _, yb in dl] for _ in range(3)]
        return out, len(dl), T.rand(3)

    same(f)


@pytest.mark.parametrize("kw", [{}, {"drop_last": True}, {"batch_size": 5}, {"batch_size": None},
                                {"shuffle": True, "generator": "g"}, {"sampler": "subset"},
                                {"shuffle": True, "batch_size": 3, "drop_last": True}])  # fmt: skip
def test_loader_options(kw: dict) -> None:
    def f(T: Any) -> Any:
        T.manual_seed(1)
        args = dict(kw)
        if args.get("generator") == "g":
            args["generator"] = T.Generator().manual_seed(7)
        if args.get("sampler") == "subset":
            args["sampler"] = _data(T).SubsetRandomSampler([1, 3, 5, 7])
        args.setdefault("batch_size", 2)
        ds = _data(T).TensorDataset(T.arange(9) * 10)
        dl = _data(T).DataLoader(ds, **args)
        return [b for b in dl], len(dl), T.randint(0, 100, (2,))

    same(f)


def test_random_split_lengths_and_fractions() -> None:
    def f(T: Any) -> Any:
        T.manual_seed(2)
        ds = list(range(10))
        a = [list(s) for s in _data(T).random_split(ds, [3, 7])]
        b = [s.indices for s in _data(T).random_split(ds, [0.5, 0.3, 0.2])]
        c = [s.indices for s in _data(T).random_split(ds, [0.34, 0.33, 0.33], generator=T.Generator().manual_seed(4))]
        return a, b, c, T.rand(1)

    same(f)
    same(lambda T: _data(T).random_split(list(range(5)), [2, 2]))


def test_default_collate_shapes() -> None:
    Point = namedtuple("Point", "x y")
    batches = [
        [1, 2, 3], [1.5, 2.5], [True, False], ["a", "b"],
        [np.array([1.0, 2.0]), np.array([3.0, 4.0])], [np.float32(1.5), np.float32(2.5)],
        [{"a": 1, "b": (2.0, [3])}, {"a": 4, "b": (5.0, [6])}], [Point(1, 2.0), Point(3, 4.0)],
        [(1, 2), (3, 4)], [[1, 2], [3, 4]],
    ]  # fmt: skip
    for batch in batches:
        same(lambda T, batch=batch: _data(T).default_collate(batch))
    same(lambda T: _data(T).default_collate([T.ones(2), T.zeros(2)]))
    same(lambda T: _data(T).default_collate([[1, 2], [3]]))  # unequal sizes: torch's RuntimeError
    same(lambda T: _data(T).default_collate([object(), object()])[:0])


def test_samplers_with_replacement_and_batches() -> None:
    def f(T: Any) -> Any:
        T.manual_seed(3)
        r = list(_data(T).RandomSampler(range(6), replacement=True, num_samples=70))
        b = list(_data(T).BatchSampler(_data(T).SequentialSampler(range(7)), 3, False))
        c = list(_data(T).BatchSampler(range(7), 3, True))
        return r, b, c, T.rand(1)

    same(f)


def test_errors_are_torchs() -> None:
    ds = list(range(4))
    for call in (
        lambda T: _data(T).DataLoader(ds, shuffle=True, sampler=[0, 1]),
        lambda T: _data(T).DataLoader(ds, batch_sampler=[[0]], batch_size=2),
        lambda T: _data(T).DataLoader(ds, batch_size=None, drop_last=True),
        lambda T: _data(T).DataLoader(ds, num_workers=-1),
        lambda T: _data(T).BatchSampler(range(3), 0, False),
        lambda T: _data(T).RandomSampler(range(3), num_samples=0),
        lambda T: _data(T).TensorDataset(T.ones(2), T.ones(3)),
        lambda T: _data(T).Dataset()[0],
        lambda T: _data(T).random_split(ds, [1, 2]),
    ):
        r = same(call)
        assert r[0] == RAISED


def test_concat_and_subset() -> None:
    def f(T: Any) -> Any:
        a = _data(T).TensorDataset(T.arange(3))
        b = _data(T).TensorDataset(T.arange(10, 14))
        c = a + b
        s = _data(T).Subset(c, [6, 0, 3])
        return len(c), [c[i] for i in (0, 2, 3, 6, -1)], [s[i] for i in range(3)], len(s)

    same(f)


def test_weighted_random_sampler() -> None:
    def f(T: Any) -> Any:
        T.manual_seed(5)
        s = _data(T).WeightedRandomSampler([0.1, 0.9, 0.4, 0.7], 10)
        no_repeat = list(_data(T).WeightedRandomSampler([1, 2, 3], 3, replacement=False))
        ds = _data(T).TensorDataset(T.arange(4))
        return list(s), no_repeat, [b[0] for b in _data(T).DataLoader(ds, batch_size=3, sampler=s)], T.rand(1)

    same(f)
    same(lambda T: _data(T).WeightedRandomSampler([[1.0, 2.0]], 2))
    same(lambda T: _data(T).WeightedRandomSampler([1.0, 2.0], 0))


def test_class_names_and_module_paths() -> None:
    """The classes print as torch's, and the module paths older code imports from exist."""
    for name in ("DataLoader", "Dataset", "TensorDataset", "RandomSampler", "BatchSampler", "Subset",
                 "WeightedRandomSampler", "IterableDataset", "ChainDataset", "ConcatDataset", "Sampler"):  # fmt: skip
        assert repr(getattr(engine.utils.data, name)) == repr(getattr(torch.utils.data, name)), name
    for name in ("MultiheadAttention", "LazyLinear", "LazyConv2d", "LazyBatchNorm1d", "Transformer",
                 "TransformerEncoderLayer"):  # fmt: skip
        assert repr(getattr(engine.nn, name)) == repr(getattr(torch.nn, name)), name
    from engine.utils.data.dataloader import default_collate
    from engine.utils.data.dataset import TensorDataset
    from engine.utils.data.sampler import RandomSampler

    assert default_collate is engine.utils.data.default_collate
    assert TensorDataset is engine.utils.data.TensorDataset and RandomSampler is engine.utils.data.RandomSampler
