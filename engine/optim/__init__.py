"""torch.optim: the optimizers in __all__ over leaf tensors (or parameter-group dicts), with torch's parameter
groups, state_dict, learning-rate schedulers (`torch.optim.lr_scheduler`) and weight averaging
(`torch.optim.swa_utils`).

Each step runs the algorithm torch runs on the cpu by default (the single-tensor, for-loop implementation)
and rounds as torch's cpu kernels do (engine/optim/_kernels.py), so parameters and state match torch's
bit for bit, square roots aside (see _kernels)."""

from __future__ import annotations

from engine.optim import lr_scheduler, swa_utils
from engine.optim.adadelta import Adadelta
from engine.optim.adafactor import Adafactor
from engine.optim.adagrad import Adagrad
from engine.optim.adam import Adam, AdamW
from engine.optim.adamax import Adamax
from engine.optim.asgd import ASGD
from engine.optim.lbfgs import LBFGS
from engine.optim.muon import Muon
from engine.optim.nadam import NAdam
from engine.optim.optimizer import Optimizer
from engine.optim.radam import RAdam
from engine.optim.rmsprop import RMSprop
from engine.optim.rprop import Rprop
from engine.optim.sgd import SGD
from engine.optim.sparse_adam import SparseAdam

__all__ = [
    "ASGD",
    "SGD",
    "SparseAdam",
    "Adadelta",
    "Adafactor",
    "Adagrad",
    "Adam",
    "AdamW",
    "Adamax",
    "LBFGS",
    "Muon",
    "NAdam",
    "Optimizer",
    "RAdam",
    "RMSprop",
    "Rprop",
    "lr_scheduler",
    "swa_utils",
]


def __getattr__(name: str) -> object:
    from engine.not_covered import not_covered

    raise not_covered("torch.optim", name)
