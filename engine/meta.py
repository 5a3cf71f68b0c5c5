"""The meta device (torch.device('meta')): tensors with a shape and dtype and no data, for building a model
without its memory (`nn.Linear(4096, 4096, device='meta')`, then `to_empty`). A meta tensor holds a numpy array
whose strides are all 0 over one element, so it costs one element however large it is; ops run on it as on
any array (their results keep the meta device) and nothing ever reads its values: printing shows `...`, and
item(), tolist(), numpy() and copies off the device raise torch's errors. Random fills and factories on meta
draw nothing from the global generators, as torch's meta kernels do. Not as torch: an op's result is computed
over the placeholder values, so it takes memory while it lives (the parameters made on meta take none); a
meta view's storage_offset() reads 0; a recurrent layer's graph names the engine's fused node where torch's
meta path records a stack of per-step ones."""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.lib.stride_tricks import as_strided


def meta_array(shape: tuple, dtype: Any) -> np.ndarray:
    """A writable array of `shape` over a single element (in-place ops write it; no one reads it)."""
    return as_strided(np.zeros(1, dtype=dtype), tuple(shape), (0,) * len(shape), writeable=True)


def contiguous_strides(shape: tuple) -> tuple:
    """The strides torch gives a meta tensor: contiguous ones."""
    st, span = [], 1
    for size in reversed(shape):
        st.append(span)
        span *= max(size, 1)
    return tuple(reversed(st))


def no_data() -> NotImplementedError:
    return NotImplementedError("Cannot copy out of meta tensor; no data!")
