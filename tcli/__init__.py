"""tcli: a terminal for tensors and autograd, running PyTorch code on its own engine."""

__version__ = "0.1.0"
