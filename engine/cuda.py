"""torch.cuda: availability and synchronisation, answered without importing cupy unless asked."""

from __future__ import annotations

from engine.backend import CURRENT, cuda_available
from engine.backend import device_count as _count


def is_available() -> bool:
    return cuda_available()


def device_count() -> int:
    return _count()


def current_device() -> int:
    return CURRENT[0]


def set_device(device: object) -> None:  # noqa: A002
    """Make a GPU the current one: where cuda tensors with no index go, and where cupy allocates."""
    from engine.backend import _cupy, to_device

    i = device if isinstance(device, int) else to_device(device).index
    if i < 0:  # (torch: a negative index leaves the current device as it is)
        return
    cupy = _cupy(i)  # (checks the index: "invalid device ordinal")
    cupy.cuda.Device(i).use()
    CURRENT[0] = i


def synchronize(device: object = None) -> None:
    """Wait for all work on the GPU, fused elementwise chains not yet read included (engine/ops/fusion.py)."""
    from engine.ops.fusion import flush

    flush()
    if cuda_available():
        import cupy

        cupy.cuda.Device().synchronize()


def get_device_name(device: object = None) -> str:
    import cupy

    props = cupy.cuda.runtime.getDeviceProperties(0)
    name = props["name"]
    return name.decode() if isinstance(name, bytes) else str(name)


def manual_seed(seed: int) -> None:
    """Seed the generator cuda tensors draw from (engine.creation.CUDA_GENERATOR)."""
    from engine.creation import CUDA_GENERATOR

    CUDA_GENERATOR.manual_seed(int(seed))  # (torch.cuda.manual_seed converts as torch.manual_seed does)


def manual_seed_all(seed: int) -> None:
    manual_seed(seed)


def is_initialized() -> bool:
    return False


def __getattr__(name: str) -> object:
    if name == "amp":  # (the deprecated torch.cuda.amp, loaded on first use)
        import engine.amp.cuda_amp as amp

        return amp
    raise AttributeError(f"module 'torch.cuda' has no attribute '{name}'")
