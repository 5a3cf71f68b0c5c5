"""Rules a host that runs untrusted code narrows, process-wide (it assigns these names; the defaults are torch's).
Kept in a module of their own that loads with nothing else, so that the host can set them before the engine
modules that read them are imported."""

from __future__ import annotations

from typing import Any


def check_module_name_default(module: Any, name: str) -> None:
    pass


#: What a new parameter, buffer or submodule name must pass besides torch's own rules (a '.', an empty name, an
#: attribute that exists). A module's __getattr__ hands out what is registered under any name, so a host may
#: refuse names that could stand in for a field the engine or numpy reads (a tensor's `_data`) on an object
#: that is no tensor.
check_module_name = check_module_name_default


def charge_text_default(text: str) -> None:
    pass


#: Called with each piece of text a module's repr copies into its own (its extra_repr, each child's repr): a host
#: counts it against its limit on text. A module shared a hundred times in a Sequential is printed a hundred
#: times, so a repr can be far larger than anything the objects hold.
charge_text = charge_text_default


def check_views_default(count: int) -> None:
    pass


#: Called before the engine makes `count` tensors at once that the caller did not ask for by number (iterating a
#: tensor unbinds it, as torch does: a view object per element, about 250 bytes each, where the elements took 4):
#: a host checks that memory against its limit first.
check_views = check_views_default


def check_alloc_default(nbytes: int) -> None:
    pass


#: Called before the engine allocates `nbytes` that the size of its input does not bound (torch.load expanding a
#: tensor that overlaps itself on a small storage, the objects a checkpoint's pickle builds): a host checks that
#: memory against its limit first.
check_alloc = check_alloc_default
