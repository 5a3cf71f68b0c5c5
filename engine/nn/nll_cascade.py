"""torch's nll_loss reduction for bfloat16 on the cpu (nll_loss_out_frame): the losses and weights summed in a
cascade of eight partial sums held in bfloat16, each partial sum rounded after every addition, then the mean.
(float32 keeps the engine's own summation, which already agrees with torch there.)"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from engine.bf16 import round_bits

_LEVELS = 8


def _bf(x: float) -> float:
    return float(round_bits(np.array(x, np.float32)))


def nll_reduce(picked: Any, weights: Any, keep: Any, mean: bool, weighted: bool) -> float:
    """The reduced loss: picked are the inputs at the targets, weights the targets' weights (host float32 arrays
    of bfloat16 values), keep marks targets that are not ignore_index."""
    n = len(picked)
    power = max(4, math.ceil(math.log2(n)) // _LEVELS if n > 1 else 0)
    mask = (1 << power) - 1
    loss = [0.0] * _LEVELS
    wsum = [0.0] * _LEVELS
    ignored = 0
    for b in range(n):
        if not keep[b]:
            ignored += 1
            continue
        w = float(weights[b])
        wsum[0] = _bf(wsum[0] + w)
        loss[0] = _bf(loss[0] - _bf(float(picked[b]) * w))
        for j in range(_LEVELS - 1):
            if b & (mask << (j * power)):
                break
            wsum[j + 1] = _bf(wsum[j + 1] + wsum[j])
            loss[j + 1] = _bf(loss[j + 1] + loss[j])
            wsum[j] = loss[j] = 0.0
    total = 0.0
    for v in loss:
        total = _bf(total + v)
    if not mean:
        return total
    if weighted:
        tw = 0.0
        for v in wsum:
            tw = _bf(tw + v)
    else:
        tw = _bf(float(n - ignored))
    return _bf(total / tw) if tw else float("nan")
