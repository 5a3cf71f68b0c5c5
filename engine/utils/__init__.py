"""torch.utils: data loading (torch.utils.data) and activation checkpointing (torch.utils.checkpoint), each loaded
on first use."""

from __future__ import annotations


def __getattr__(name: str) -> object:
    if name in ("data", "checkpoint"):
        import importlib

        return importlib.import_module(f"engine.utils.{name}")
    from engine.not_covered import not_covered

    raise not_covered("torch.utils", name)
