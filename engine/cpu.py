"""torch.cpu: the cpu's counterpart of torch.cuda's device functions (`torch.cpu.is_available()`), and the
deprecated torch.cpu.amp."""

from __future__ import annotations


def is_available() -> bool:
    return True


def device_count() -> int:
    return 1


def current_device() -> str:
    return "cpu"


def set_device(device: object) -> None:  # noqa: A002 - (torch's: nothing to do, there is one cpu)
    pass


def synchronize(device: object = None) -> None:
    """Nothing runs asynchronously on the cpu."""


def is_initialized() -> bool:
    return True


def __getattr__(name: str) -> object:
    if name == "amp":
        import engine.amp.cpu_amp as amp

        return amp
    raise AttributeError(f"module 'torch.cpu' has no attribute '{name}'")
