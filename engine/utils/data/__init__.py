"""torch.utils.data: datasets, samplers, default_collate and the single-process DataLoader.

What a training loop sees is torch's, number for number: the batches, their order under shuffle=True (each
epoch seeds a fresh generator from the global one with `random_()`, then takes torch.randperm, as torch's
RandomSampler does), and the global generator's state afterwards (each epoch also draws the loader's base seed
first, as torch's iterator does for its workers), so a dropout mask or an initialisation drawn after a loop
matches torch's. Workers (`num_workers > 0`) are accepted and the data loaded in this process: the batches are
the same, only the loading is not parallel.
"""

from __future__ import annotations

import collections.abc
import copy
import math
import warnings
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import numpy as np

import engine
from engine.naming import TorchNamed, object_repr
from engine.tensor import Tensor


class _DataType(TorchNamed):
    """The classes here print as torch's (`<class 'torch.utils.data.dataloader.DataLoader'>`); a class a script
    derives from them prints as Python prints it (`<class '__main__.MyData'>`), as under torch."""

    def __repr__(cls) -> str:
        if "_torch_name" in cls.__dict__:
            return f"<class '{cls._torch_name.format(name=cls.__name__)}'>"
        return type.__repr__(cls)


class _Alias:
    """Dataset[int], Sampler[int], DataLoader[...]: torch's classes are typing generics (Generic[T_co]), so a
    script may subscript one, as a base class too (`class MySampler(Sampler[int])` derives from Sampler)."""

    __slots__ = ("__origin__", "__args__")

    def __init__(self, origin: type, args: tuple) -> None:
        if not (isinstance(origin, type) and origin.__module__.startswith("engine.utils.data")):
            raise TypeError(f"{origin!r} is not one of torch.utils.data's generic classes")
        self.__origin__ = origin
        self.__args__ = args

    def __mro_entries__(self, bases: tuple) -> tuple:
        return (self.__origin__,)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.__origin__(*args, **kwargs)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, _Alias):
            return NotImplemented
        return self.__origin__ is other.__origin__ and self.__args__ == other.__args__

    def __hash__(self) -> int:
        return hash((self.__origin__, self.__args__))

    def __repr__(self) -> str:
        import typing

        origin = self.__origin__
        name = origin._torch_name.format(name=origin.__name__)
        args = ", ".join(typing._type_repr(a) for a in self.__args__)  # type: ignore[attr-defined]
        return f"{name}[{args or '()'}]"


def _class_getitem(cls: type, params: Any) -> _Alias:
    """Subscripting as typing.Generic[T_co] does: the generic classes take one type; the concrete ones (torch
    binds their parameter: TensorDataset, the samplers) and a script's subclasses are not generic."""
    if not cls.__dict__.get("_generic"):
        raise TypeError(f"{cls!r} is not a generic class")
    args = params if isinstance(params, tuple) else (params,)
    if cls.__dict__["_generic"] == "any":  # (torch's iterable datasets, Iterable too, take any number)
        return _Alias(cls, args)
    if len(args) > 1:
        raise TypeError(f"Too many arguments for {cls!r}; actual {len(args)}, expected 1")
    if not args:
        raise TypeError(f"Too few arguments for {cls!r}; actual 0, expected at least 1")
    return _Alias(cls, args)


_DATASET = "torch.utils.data.dataset.{name}"
_SAMPLER = "torch.utils.data.sampler.{name}"

__all__ = [
    "BatchSampler", "ConcatDataset", "DataLoader", "Dataset", "IterableDataset", "RandomSampler", "Sampler",
    "SequentialSampler", "StackDataset", "Subset", "SubsetRandomSampler", "TensorDataset", "WeightedRandomSampler",
    "ChainDataset", "WorkerInfo", "default_collate", "default_convert", "get_worker_info", "random_split",
]  # fmt: skip


# ---- datasets --------------------------------------------------------------------------------------------------
class Dataset(metaclass=_DataType):
    """A map-style dataset: subclasses define __getitem__ (and usually __len__)."""

    _torch_name = _DATASET
    _generic = True
    __class_getitem__ = classmethod(_class_getitem)
    __repr__ = object_repr  # (torch's module path in the default repr, for every class below too)

    def __getitem__(self, index: Any) -> Any:
        raise NotImplementedError("Subclasses of Dataset should implement __getitem__.")

    def __add__(self, other: Dataset) -> ConcatDataset:
        return ConcatDataset([self, other])


class IterableDataset(Dataset):
    """A dataset read by iterating it: subclasses define __iter__."""

    _torch_name = _DATASET
    _generic = "any"

    def __iter__(self) -> Iterator:
        raise NotImplementedError("Subclasses of IterableDataset should implement __iter__.")

    def __add__(self, other: Dataset) -> ChainDataset:  # type: ignore[override]
        return ChainDataset([self, other])


class ChainDataset(IterableDataset):
    """Iterable datasets one after the other."""

    _torch_name = _DATASET
    _generic = "any"

    def __init__(self, datasets: Any) -> None:
        self.datasets = datasets

    def __iter__(self) -> Iterator:
        for d in self.datasets:
            if not isinstance(d, IterableDataset):
                raise AssertionError("ChainDataset only supports IterableDataset")
            yield from d

    def __len__(self) -> int:
        total = 0
        for d in self.datasets:
            if not isinstance(d, IterableDataset):
                raise AssertionError("ChainDataset only supports IterableDataset")
            total += len(d)
        return total


class TensorDataset(Dataset):
    """Samples are the i-th rows of each tensor (all of one length along dim 0)."""

    _torch_name = _DATASET

    def __init__(self, *tensors: Tensor) -> None:
        if not all(tensors[0].size(0) == t.size(0) for t in tensors):
            raise AssertionError("Size mismatch between tensors")
        self.tensors = tensors

    def __getitem__(self, index: Any) -> tuple:
        return tuple(t[index] for t in self.tensors)

    def __len__(self) -> int:
        return self.tensors[0].size(0)


class Subset(Dataset):
    """The samples of `dataset` at `indices`."""

    _torch_name = _DATASET
    _generic = True

    def __init__(self, dataset: Any, indices: Sequence[int]) -> None:
        self.dataset = dataset
        self.indices = indices

    def __getitem__(self, idx: Any) -> Any:
        if isinstance(idx, list):
            return self.dataset[[self.indices[i] for i in idx]]
        return self.dataset[self.indices[idx]]

    def __len__(self) -> int:
        return len(self.indices)


class ConcatDataset(Dataset):
    """Several datasets one after the other."""

    _torch_name = _DATASET
    _generic = True

    def __init__(self, datasets: Any) -> None:
        self.datasets = list(datasets)
        if not self.datasets:
            raise AssertionError("datasets should not be an empty iterable")
        for d in self.datasets:
            if isinstance(d, IterableDataset):
                raise AssertionError("ConcatDataset does not support IterableDataset")
        self.cumulative_sizes = []
        total = 0
        for d in self.datasets:
            total += len(d)
            self.cumulative_sizes.append(total)

    def __len__(self) -> int:
        return self.cumulative_sizes[-1]

    def __getitem__(self, idx: int) -> Any:
        if idx < 0:
            if -idx > len(self):
                raise ValueError("absolute value of index should not exceed dataset length")
            idx = len(self) + idx
        k = next((i for i, c in enumerate(self.cumulative_sizes) if idx < c), len(self.cumulative_sizes))
        if k == len(self.cumulative_sizes):
            raise IndexError("list index out of range")
        return self.datasets[k][idx - (self.cumulative_sizes[k - 1] if k else 0)]


class StackDataset(Dataset):
    """Datasets side by side: sample i is the tuple (or, given by keyword, the dict) of each one's sample i."""

    _torch_name = _DATASET
    _generic = True

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        if args:
            if kwargs:
                raise ValueError(
                    "Supported either ``tuple``- (via ``args``) or"
                    "``dict``- (via ``kwargs``) like input/output, but both types are given."
                )
            self._length = len(args[0])
            if any(self._length != len(dataset) for dataset in args):
                raise ValueError("Size mismatch between datasets")
            self.datasets: Any = args
        elif kwargs:
            tmp = list(kwargs.values())
            self._length = len(tmp[0])
            if any(self._length != len(dataset) for dataset in tmp):
                raise ValueError("Size mismatch between datasets")
            self.datasets = kwargs
        else:
            raise ValueError("At least one dataset should be passed")

    def __getitem__(self, index: Any) -> Any:
        if isinstance(self.datasets, dict):
            return {k: dataset[index] for k, dataset in self.datasets.items()}
        return tuple(dataset[index] for dataset in self.datasets)

    def __len__(self) -> int:
        return self._length


def random_split(dataset: Any, lengths: Sequence[int | float], generator: Any = None) -> list[Subset]:
    """The dataset split at random into subsets of the given lengths (or fractions summing to 1), by one
    torch.randperm of its length."""
    n = len(dataset)
    if math.isclose(sum(lengths), 1) and sum(lengths) <= 1:
        sizes: list[int] = []
        for i, frac in enumerate(lengths):
            if frac < 0 or frac > 1:
                raise ValueError(f"Fraction at index {i} is not between 0 and 1")
            sizes.append(int(math.floor(n * frac)))
        for i in range(n - sum(sizes)):  # the remainder, one each, round-robin
            sizes[i % len(sizes)] += 1
        for i, size in enumerate(sizes):
            if size == 0:
                warnings.warn(f"Length of split at index {i} is 0. This might result in an empty dataset.",
                              stacklevel=2)  # fmt: skip
        lengths = sizes
    if sum(lengths) != n:
        raise ValueError("Sum of input lengths does not equal the length of the input dataset!")
    total = sum(lengths)
    if not isinstance(total, int):  # (torch passes its generator on: its parser lists both overloads)
        raise TypeError(
            f"randperm() received an invalid combination of arguments - got ({type(total).__name__}, "
            "generator=torch._C.Generator), but expected one of:\n"
            " * (int n, *, torch.Generator generator, Tensor out = None, torch.dtype dtype = None, torch.layout "
            "layout = None, torch.device device = None, bool pin_memory = False, bool requires_grad = False)\n"
            " * (int n, *, Tensor out = None, torch.dtype dtype = None, torch.layout layout = None, torch.device "
            "device = None, bool pin_memory = False, bool requires_grad = False)\n"
        )
    indices = engine.randperm(total, generator=generator).tolist()
    out, offset = [], 0
    for length in lengths:
        out.append(Subset(dataset, indices[offset : offset + length]))
        offset += length
    return out


# ---- samplers --------------------------------------------------------------------------------------------------
class Sampler(metaclass=_DataType):
    """Yields dataset indices; subclasses define __iter__ (and __len__). (torch 2.13's takes no constructor
    arguments: `super().__init__(data_source)` is object's TypeError there and here.)"""

    _torch_name = _SAMPLER
    _generic = True
    __class_getitem__ = classmethod(_class_getitem)
    __repr__ = object_repr

    def __iter__(self) -> Iterator:
        raise NotImplementedError


class SequentialSampler(Sampler):
    _torch_name = _SAMPLER

    def __init__(self, data_source: Any) -> None:
        self.data_source = data_source

    def __iter__(self) -> Iterator[int]:
        return iter(range(len(self.data_source)))

    def __len__(self) -> int:
        return len(self.data_source)


class RandomSampler(Sampler):
    """torch's: without a generator, each pass seeds a fresh one from the global generator; then randperm (or,
    with replacement, randint in blocks of 32)."""

    _torch_name = _SAMPLER

    def __init__(self, data_source: Any, replacement: bool = False, num_samples: int | None = None,
                 generator: Any = None) -> None:  # fmt: skip
        self.data_source = data_source
        self.replacement = replacement
        self._num_samples = num_samples
        self.generator = generator
        if not isinstance(replacement, bool):
            raise TypeError(f"replacement should be a boolean value, but got replacement={replacement}")
        if not isinstance(self.num_samples, int) or self.num_samples <= 0:
            raise ValueError(f"num_samples should be a positive integer value, but got num_samples={self.num_samples}")

    @property
    def num_samples(self) -> int:
        return len(self.data_source) if self._num_samples is None else self._num_samples

    def __iter__(self) -> Iterator[int]:
        n = len(self.data_source)
        if self.generator is None:
            seed = int(engine.empty((), dtype=engine.int64).random_().item())
            generator = engine.Generator()
            generator.manual_seed(seed)
        else:
            generator = self.generator
        if self.replacement:
            for _ in range(self.num_samples // 32):
                yield from engine.randint(high=n, size=(32,), dtype=engine.int64, generator=generator).tolist()
            yield from engine.randint(high=n, size=(self.num_samples % 32,), dtype=engine.int64,
                                      generator=generator).tolist()  # fmt: skip
        else:
            for _ in range(self.num_samples // n):
                yield from engine.randperm(n, generator=generator).tolist()
            yield from engine.randperm(n, generator=generator).tolist()[: self.num_samples % n]

    def __len__(self) -> int:
        return self.num_samples


class SubsetRandomSampler(Sampler):
    """The given indices in a random order (one randperm per pass)."""

    _torch_name = _SAMPLER

    def __init__(self, indices: Sequence[int], generator: Any = None) -> None:
        self.indices = indices
        self.generator = generator

    def __iter__(self) -> Iterator[int]:
        for i in engine.randperm(len(self.indices), generator=self.generator).tolist():
            yield self.indices[i]

    def __len__(self) -> int:
        return len(self.indices)


class WeightedRandomSampler(Sampler):
    """num_samples indices drawn with the given weights (torch.multinomial, with replacement by default)."""

    _torch_name = _SAMPLER

    def __init__(self, weights: Sequence[float], num_samples: int, replacement: bool = True,
                 generator: Any = None) -> None:  # fmt: skip
        if not isinstance(num_samples, int) or isinstance(num_samples, bool) or num_samples <= 0:
            raise ValueError(f"num_samples should be a positive integer value, but got num_samples={num_samples}")
        if not isinstance(replacement, bool):
            raise ValueError(f"replacement should be a boolean value, but got replacement={replacement}")
        w = engine.as_tensor(weights, dtype=engine.double)
        if len(w.shape) != 1:
            raise ValueError(f"weights should be a 1d sequence but given weights have shape {tuple(w.shape)}")
        self.weights = w
        self.num_samples = num_samples
        self.replacement = replacement
        self.generator = generator

    def __iter__(self) -> Iterator[int]:
        rand = engine.multinomial(self.weights, self.num_samples, self.replacement, generator=self.generator)
        yield from iter(rand.tolist())

    def __len__(self) -> int:
        return self.num_samples


class BatchSampler(Sampler):
    """Lists of batch_size indices from a sampler (the last one shorter unless drop_last)."""

    _torch_name = _SAMPLER

    def __init__(self, sampler: Any, batch_size: int, drop_last: bool) -> None:
        if not isinstance(batch_size, int) or isinstance(batch_size, bool) or batch_size <= 0:
            raise ValueError(f"batch_size should be a positive integer value, but got batch_size={batch_size}")
        if not isinstance(drop_last, bool):
            raise ValueError(f"drop_last should be a boolean value, but got drop_last={drop_last}")
        self.sampler = sampler
        self.batch_size = batch_size
        self.drop_last = drop_last

    def __iter__(self) -> Iterator[list[int]]:
        batch: list[int] = []
        for idx in self.sampler:
            batch.append(idx)
            if len(batch) == self.batch_size:
                yield batch
                batch = []
        if batch and not self.drop_last:
            yield batch

    def __len__(self) -> int:
        if self.drop_last:
            return len(self.sampler) // self.batch_size
        return (len(self.sampler) + self.batch_size - 1) // self.batch_size


# ---- collation -------------------------------------------------------------------------------------------------
_COLLATE_ERR = "default_collate: batch must contain tensors, numpy arrays, numbers, dicts or lists; found {}"


def default_collate(batch: list) -> Any:
    """torch's: tensors stacked along a new dim 0, numbers into a tensor (floats as float64), numpy arrays
    converted then stacked, and dicts, tuples and lists collated field by field."""
    elem = batch[0]
    if isinstance(elem, Tensor):
        return engine.stack(batch, 0)
    if isinstance(elem, np.ndarray) or isinstance(elem, np.generic) and not isinstance(elem, (np.str_, np.bytes_)):
        if isinstance(elem, np.ndarray) and elem.dtype.kind in "OSUa":
            raise TypeError(_COLLATE_ERR.format(elem.dtype))
        if isinstance(elem, np.ndarray):
            return default_collate([engine.as_tensor(b) for b in batch])
        return engine.as_tensor(np.array(batch))
    if isinstance(elem, bool) or isinstance(elem, int):
        return engine.tensor(batch)
    if isinstance(elem, float):
        return engine.tensor(batch, dtype=engine.float64)
    if isinstance(elem, (str, bytes)):
        return batch  # (as given: a field of tuple samples stays the tuple zip made)
    if isinstance(elem, collections.abc.Mapping):
        fields = {k: default_collate([d[k] for d in batch]) for k in elem}
        if isinstance(elem, collections.abc.MutableMapping):  # torch: a copy of the first sample, updated
            try:
                out = copy.copy(elem)
                out.update(fields)
                return out
            except TypeError:
                return fields
        try:
            return type(elem)(fields)
        except TypeError:
            return fields
    if isinstance(elem, tuple) and hasattr(elem, "_fields"):  # a namedtuple
        return type(elem)(*(default_collate(s) for s in zip(*batch)))
    if isinstance(elem, collections.abc.Sequence):
        it = iter(batch)
        size = len(next(it))
        if not all(len(e) == size for e in it):
            raise RuntimeError("each element in list of batch should be of equal size")
        fields = [default_collate(s) for s in zip(*batch)]  # (each a tuple, as zip makes it)
        if isinstance(elem, tuple):
            return fields
        try:
            return type(elem)(fields)
        except TypeError:
            return fields
    raise TypeError(_COLLATE_ERR.format(type(elem)))


def default_convert(data: Any) -> Any:
    """What a loader without batching does to each sample: numpy arrays and numbers of numpy become tensors."""
    if isinstance(data, np.ndarray) and data.dtype.kind not in "OSUa":
        return engine.as_tensor(data)
    if isinstance(data, np.generic):
        return engine.as_tensor(data)
    if isinstance(data, collections.abc.Mapping):
        return {k: default_convert(v) for k, v in data.items()}
    if isinstance(data, tuple) and hasattr(data, "_fields"):
        return type(data)(*(default_convert(d) for d in data))
    if isinstance(data, tuple):
        return [default_convert(d) for d in data]
    if isinstance(data, list):
        return [default_convert(d) for d in data]
    return data


# ---- the loader ------------------------------------------------------------------------------------------------
class DataLoader(metaclass=_DataType):
    """Batches of a dataset: torch.utils.data.DataLoader, loading in this process."""

    _torch_name = "torch.utils.data.dataloader.DataLoader"
    _generic = True
    __class_getitem__ = classmethod(_class_getitem)
    __repr__ = object_repr

    def __init__(self, dataset: Any, batch_size: int | None = 1, shuffle: bool | None = None, sampler: Any = None,
                 batch_sampler: Any = None, num_workers: int = 0, collate_fn: Callable | None = None,
                 pin_memory: bool = False, drop_last: bool = False, timeout: float = 0,
                 worker_init_fn: Callable | None = None, multiprocessing_context: Any = None, generator: Any = None,
                 *, prefetch_factor: int | None = None, persistent_workers: bool = False,
                 pin_memory_device: str = "", in_order: bool = True) -> None:  # fmt: skip
        if not isinstance(num_workers, int) or num_workers < 0:
            raise ValueError("num_workers option should be non-negative; use num_workers=0 to disable multiprocessing.")
        if timeout < 0:
            raise ValueError("timeout option should be non-negative")
        if num_workers == 0 and prefetch_factor is not None:
            raise ValueError(
                "prefetch_factor option could only be specified in multiprocessing.let num_workers > 0 to enable "
                "multiprocessing, otherwise set prefetch_factor to None."
            )
        if persistent_workers and num_workers == 0:
            raise ValueError("persistent_workers option needs num_workers > 0")
        self.dataset = dataset
        self.num_workers = num_workers
        self.prefetch_factor = prefetch_factor
        self.pin_memory = pin_memory
        self.pin_memory_device = pin_memory_device
        self.timeout = timeout
        self.worker_init_fn = worker_init_fn
        self.generator = generator
        self.persistent_workers = persistent_workers
        self._iterator: _LoaderIter | None = None
        iterable = isinstance(dataset, IterableDataset)
        if iterable:
            if shuffle not in (None, False):
                raise ValueError(f"DataLoader with IterableDataset: expected unspecified shuffle option, but got "
                                 f"shuffle={shuffle}")  # fmt: skip
            if sampler is not None:
                raise ValueError(f"DataLoader with IterableDataset: expected unspecified sampler option, but got "
                                 f"sampler={sampler}")  # fmt: skip
            if batch_sampler is not None:
                raise ValueError("DataLoader with IterableDataset: expected unspecified batch_sampler option, but got "
                                 f"batch_sampler={batch_sampler}")  # fmt: skip
        else:
            shuffle = bool(shuffle)
        if sampler is not None and shuffle:
            raise ValueError("sampler option is mutually exclusive with shuffle")
        if batch_sampler is not None:
            if batch_size != 1 or shuffle or sampler is not None or drop_last:
                raise ValueError(
                    "batch_sampler option is mutually exclusive with batch_size, shuffle, sampler, and drop_last"
                )
            batch_size = None
            drop_last = False
        elif batch_size is None and drop_last:
            raise ValueError("batch_size=None option disables auto-batching and is mutually exclusive with drop_last")
        if sampler is None:
            if iterable:
                sampler = _InfiniteConstantSampler()
            elif shuffle:
                sampler = RandomSampler(dataset, generator=generator)
            else:
                sampler = SequentialSampler(dataset)
        if batch_size is not None and batch_sampler is None:
            batch_sampler = BatchSampler(sampler, batch_size, drop_last)
        self.batch_size = batch_size
        self.drop_last = drop_last
        self.sampler = sampler
        self.batch_sampler = batch_sampler
        self._iterable = iterable
        if collate_fn is None:
            collate_fn = default_collate if batch_sampler is not None else default_convert
        self.collate_fn = collate_fn

    def __iter__(self) -> _LoaderIter:
        if self.persistent_workers and self.num_workers > 0:  # torch keeps the one iterator and its workers
            if self._iterator is None:
                self._iterator = _MultiProcessingDataLoaderIter(self)
            else:
                self._iterator._reset()
            return self._iterator
        return _MultiProcessingDataLoaderIter(self) if self.num_workers else _SingleProcessDataLoaderIter(self)

    def __len__(self) -> int:
        if self._iterable:
            n = len(self.dataset)
            if self.batch_size is not None:
                n = n // self.batch_size if self.drop_last else math.ceil(n / self.batch_size)
            return n
        return len(self.batch_sampler if self.batch_sampler is not None else self.sampler)


class _InfiniteConstantSampler(Sampler):
    _torch_name = "torch.utils.data.dataloader.{name}"

    def __iter__(self) -> Iterator[None]:
        while True:
            yield None


class WorkerInfo(metaclass=_DataType):
    """What get_worker_info() gives inside a worker: its id, the number of workers, its seed and the dataset."""

    _torch_name = "torch.utils.data._utils.worker.WorkerInfo"

    def __init__(self, id: int, num_workers: int, seed: int, dataset: Any) -> None:  # noqa: A002
        self.id = id
        self.num_workers = num_workers
        self.seed = seed
        self.dataset = dataset

    def __repr__(self) -> str:
        return f"WorkerInfo(id={self.id}, num_workers={self.num_workers}, seed={self.seed}, dataset={self.dataset})"


_WORKER: list = [None]  # the WorkerInfo of the worker whose code runs now (None: the main process)


def get_worker_info() -> WorkerInfo | None:
    """Inside a loader worker, that worker's WorkerInfo; None in the main process."""
    return _WORKER[0]


class _Worker:
    """One of torch's loader worker processes, emulated in this one: its own random stream (the global generator
    seeded base_seed + id, as torch's worker seeds it) and, for an iterable dataset, its own iterator."""

    def __init__(self, loader: DataLoader, wid: int, base_seed: int) -> None:
        self.loader = loader
        self.info = WorkerInfo(wid, loader.num_workers, base_seed + wid, loader.dataset)
        self.state = engine.Generator().manual_seed(base_seed + wid).get_state()
        self.data_iter: Any = None
        self.run(self._start)

    def _start(self) -> None:
        if self.loader.worker_init_fn is not None:
            self.loader.worker_init_fn(self.info.id)
        self.resume()

    def resume(self) -> None:
        if self.loader._iterable:
            self.data_iter = iter(self.loader.dataset)

    def run(self, fn: Callable, *args: Any) -> Any:
        """fn(*args) as this worker: its generator state and WorkerInfo in place, the main process's restored."""
        gen = engine.random.default_generator
        main = gen.get_state()
        gen.set_state(self.state)
        outer, _WORKER[0] = _WORKER[0], self.info
        try:
            return fn(*args)
        finally:
            _WORKER[0] = outer
            self.state = gen.get_state()
            gen.set_state(main)


def _pinned(data: Any) -> Any:
    """torch's _utils.pin_memory.pin_memory: the tensors of a batch copied to pinned memory, through mappings,
    tuples (named ones rebuilt as their type) and lists."""
    if isinstance(data, Tensor):
        return data.pin_memory()
    if isinstance(data, (str, bytes)):
        return data
    if isinstance(data, collections.abc.Mapping):
        if isinstance(data, collections.abc.MutableMapping):
            clone = copy.copy(data)
            clone.update({k: _pinned(v) for k, v in data.items()})
            return clone
        return {k: _pinned(v) for k, v in data.items()}
    if isinstance(data, tuple):
        items = [_pinned(v) for v in data]
        return type(data)(*items) if _is_namedtuple(data) else type(data)(items)
    if isinstance(data, list):
        return [_pinned(v) for v in data]
    return data


def _is_namedtuple(data: Any) -> bool:
    from engine.func.pytree import _is_namedtuple_class

    return _is_namedtuple_class(type(data))


class _LoaderIter(metaclass=_DataType):
    """One pass over a DataLoader, as torch's iterators make it. Made by iter(loader), which draws the base seed
    (one random_() of the loader's generator, or the global one) as torch's iterator does for its workers, so the
    random stream after a pass is torch's. With workers, batch k is fetched by worker k mod num_workers (by the
    ones still running, for an iterable dataset whose copies run out), each under its own seeded stream, and the
    first prefetch_factor * num_workers indices are taken at iter() time, as torch's prefetching takes them."""

    __repr__ = object_repr

    def __init__(self, loader: DataLoader) -> None:
        from engine.backend import cuda_available
        from engine.warn import user_stacklevel

        self._loader = loader
        if loader.pin_memory and loader.pin_memory_device:
            warnings.warn(
                "pin_memory_device is deprecated, the current accelerator will be used as the device,"
                f"ignore pin_memory_device='{loader.pin_memory_device}'.",
                stacklevel=user_stacklevel(),
            )
        if loader.pin_memory and not cuda_available():
            warnings.warn(
                "'pin_memory' argument is set as true but no accelerator is found, then device pinned memory won't "
                "be used.",
                stacklevel=user_stacklevel(),
            )
        self._pin = bool(loader.pin_memory) and cuda_available()  # (each batch then copied to pinned memory)
        self._index_iter = iter(self._index_sampler())
        base_seed = int(engine.empty((), dtype=engine.int64).random_(generator=loader.generator).item())
        self._workers = [_Worker(loader, w, base_seed) for w in range(loader.num_workers)]
        self._data_iter = iter(loader.dataset) if loader._iterable and not self._workers else None
        self._prime()

    def _index_sampler(self) -> Any:
        loader = self._loader
        return loader.batch_sampler if loader.batch_sampler is not None else loader.sampler

    def _prime(self) -> None:
        self._tasks: collections.deque = collections.deque()
        self._active = [True] * len(self._workers)
        self._next_worker = 0
        self._sampler_done = False
        for _ in range((self._loader.prefetch_factor or 2) * len(self._workers)):
            self._dispatch()

    def _reset(self) -> None:
        """A new pass for persistent workers: a new sampler pass, the workers (and their streams) kept."""
        self._index_iter = iter(self._index_sampler())
        for w in self._workers:
            w.run(w.resume)
        self._prime()

    def _dispatch(self) -> None:
        """The next index to the next worker still running, round-robin (torch's _try_put_index)."""
        if self._sampler_done:
            return
        n = len(self._workers)
        for _ in range(n):
            w = self._next_worker
            self._next_worker = (w + 1) % n
            if self._active[w]:
                break
        else:
            return
        try:
            index = next(self._index_iter)
        except StopIteration:
            self._sampler_done = True
            return
        self._tasks.append((w, index))

    def __iter__(self) -> _LoaderIter:
        return self

    def __next__(self) -> Any:
        data = self._next_batch()
        return _pinned(data) if self._pin else data

    def _next_batch(self) -> Any:
        if not self._workers:
            return self._fetch(next(self._index_iter), self._data_iter)
        while self._tasks:
            w, index = self._tasks.popleft()
            if not self._active[w]:
                continue  # (a task sent before its worker was known to have run out)
            worker = self._workers[w]
            try:
                data = worker.run(self._fetch, index, worker.data_iter)
            except StopIteration:
                self._active[w] = False
                self._dispatch()
                continue
            self._dispatch()
            return data
        raise StopIteration

    def _fetch(self, index: Any, data_iter: Any) -> Any:
        loader = self._loader
        if data_iter is not None:  # an IterableDataset: the next batch_size items
            if loader.batch_sampler is None:
                return loader.collate_fn(next(data_iter))
            items = []
            for _ in index:
                try:
                    items.append(next(data_iter))
                except StopIteration:
                    break
            if not items or (loader.drop_last and len(items) < len(index)):
                raise StopIteration
            return loader.collate_fn(items)
        if loader.batch_sampler is None:
            return loader.collate_fn(loader.dataset[index])
        return loader.collate_fn([loader.dataset[i] for i in index])

    def __len__(self) -> int:
        return len(self._loader)


class _SingleProcessDataLoaderIter(_LoaderIter):
    """iter(loader) with num_workers=0, under torch's class name."""

    _torch_name = "torch.utils.data.dataloader.{name}"


class _MultiProcessingDataLoaderIter(_LoaderIter):
    """iter(loader) with workers (run here in this process), under torch's class name."""

    _torch_name = "torch.utils.data.dataloader.{name}"
