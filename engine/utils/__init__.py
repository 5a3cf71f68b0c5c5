"""torch.utils: the data-loading part (torch.utils.data), loaded on first use."""

from __future__ import annotations


def __getattr__(name: str) -> object:
    if name == "data":
        import importlib

        return importlib.import_module("engine.utils.data")
    from engine.not_covered import not_covered

    raise not_covered("torch.utils", name)
