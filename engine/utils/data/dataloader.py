"""torch.utils.data.dataloader: the loader and its collation, under the module path older code imports from."""

from engine.utils.data import DataLoader, default_collate, default_convert, get_worker_info

__all__ = ["DataLoader", "default_collate", "default_convert", "get_worker_info"]
