"""torch.cuda: availability and synchronisation, answered without importing cupy unless asked."""

from __future__ import annotations

from engine.backend import cuda_available
from engine.backend import device_count as _count


def is_available() -> bool:
    return cuda_available()


def device_count() -> int:
    return _count()


def current_device() -> int:
    return 0


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

    CUDA_GENERATOR.manual_seed(seed)


def manual_seed_all(seed: int) -> None:
    manual_seed(seed)


def is_initialized() -> bool:
    return False
