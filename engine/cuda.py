"""torch.cuda: availability, synchronisation, device facts and memory counters, answered without importing cupy
unless asked. Without cupy each call does what torch's CPU build does: counters read 0, questions about a device
raise its `AssertionError: Torch not compiled with CUDA enabled` (with what to install as the note)."""

from __future__ import annotations

from engine.backend import CURRENT, cuda_available
from engine.backend import device_count as _count


def is_available() -> bool:
    return cuda_available()


def device_count() -> int:
    return _count()


def _init(device: object = None) -> tuple:
    """(cupy, the device's index): torch's lazy CUDA init, which is where a CPU build refuses."""
    from engine.backend import _cupy, to_device

    i = CURRENT[0] if device is None else device if isinstance(device, int) else to_device(device).index
    return _cupy(i), i


def current_device() -> int:
    _init()
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

    cupy, i = _init(device)
    flush()
    cupy.cuda.Device(i).synchronize()


class _CudaDeviceProperties:
    """What torch.cuda.get_device_properties tells: the GPU's name, compute capability, memory and SM count."""

    __slots__ = ("name", "major", "minor", "total_memory", "multi_processor_count", "L2_cache_size")

    def __init__(self, props: dict) -> None:
        name = props["name"]
        self.name = name.decode() if isinstance(name, bytes) else str(name)
        self.major, self.minor = int(props["major"]), int(props["minor"])
        self.total_memory = int(props["totalGlobalMem"])
        self.multi_processor_count = int(props["multiProcessorCount"])
        self.L2_cache_size = int(props.get("l2CacheSize", 0))

    def __repr__(self) -> str:
        return (
            f"_CudaDeviceProperties(name='{self.name}', major={self.major}, minor={self.minor}, "
            f"total_memory={self.total_memory // (1024 * 1024)}MB, "
            f"multi_processor_count={self.multi_processor_count}, "
            f"L2_cache_size={self.L2_cache_size // (1024 * 1024)}MB)"
        )


def get_device_properties(device: object = None) -> _CudaDeviceProperties:
    cupy, i = _init(device)
    return _CudaDeviceProperties(cupy.cuda.runtime.getDeviceProperties(i))


def get_device_name(device: object = None) -> str:
    return get_device_properties(device).name


def get_device_capability(device: object = None) -> tuple[int, int]:
    p = get_device_properties(device)
    return p.major, p.minor


def mem_get_info(device: object = None) -> tuple[int, int]:
    """(free, total) bytes of the GPU, as the driver counts them."""
    cupy, i = _init(device)
    with cupy.cuda.Device(i):
        free, total = cupy.cuda.runtime.memGetInfo()
    return int(free), int(total)


def _pool():  # noqa: ANN202 - cupy's memory pool, or None where cuda was never used (torch's counters read 0)
    import sys

    cupy = sys.modules.get("cupy")
    return cupy.get_default_memory_pool() if cupy is not None and cuda_available() else None


def memory_allocated(device: object = None) -> int:
    """Bytes held by live cuda tensors (cupy's pool's used bytes)."""
    pool = _pool()
    return 0 if pool is None else int(pool.used_bytes())


def memory_reserved(device: object = None) -> int:
    """Bytes the caching allocator holds from the driver, used or cached (cupy's pool's total)."""
    pool = _pool()
    return 0 if pool is None else int(pool.total_bytes())


def empty_cache() -> None:
    """Give the cached, unused GPU memory back to the driver."""
    pool = _pool()
    if pool is not None:
        pool.free_all_blocks()


def is_bf16_supported(including_emulation: bool = True) -> bool:
    if not cuda_available():
        return False
    return including_emulation or get_device_capability()[0] >= 8


def get_arch_list() -> list[str]:
    return []  # (no kernels are compiled ahead for any architecture: cupy compiles them on first use)


class device:  # noqa: N801 - torch's spelling
    """`with torch.cuda.device(i):` makes GPU i the current one inside the block."""

    def __init__(self, device: object) -> None:  # noqa: A002
        from engine.backend import to_device

        self.idx = device if isinstance(device, int) or device is None else to_device(device).index
        self.prev_idx = -1

    def __enter__(self) -> None:
        if self.idx is None or self.idx < 0:
            return
        if not cuda_available():
            raise RuntimeError("PyTorch was compiled without CUDA support")
        self.prev_idx = CURRENT[0]
        set_device(self.idx)

    def __exit__(self, *exc_info: object) -> None:
        if self.prev_idx >= 0:
            set_device(self.prev_idx)


class Event:
    """A point in a GPU stream, for timing: `start.record(); ...; end.record(); end.synchronize();
    start.elapsed_time(end)` in milliseconds."""

    def __init__(self, enable_timing: bool = False, blocking: bool = False, interprocess: bool = False) -> None:
        if not cuda_available():
            raise RuntimeError("Tried to instantiate dummy base class Event")
        import cupy

        self._event = cupy.cuda.Event(block=blocking, disable_timing=not enable_timing, interprocess=interprocess)

    def record(self, stream: object = None) -> None:
        from engine.ops.fusion import flush

        flush()  # (work fused but not yet launched belongs before the mark)
        self._event.record()

    def synchronize(self) -> None:
        self._event.synchronize()

    def query(self) -> bool:
        return bool(self._event.done)

    def elapsed_time(self, end_event: Event) -> float:
        import cupy

        return float(cupy.cuda.get_elapsed_time(self._event, end_event._event))


def manual_seed(seed: int) -> None:
    """Seed the generator cuda tensors draw from (engine.creation.CUDA_GENERATOR)."""
    from engine.creation import CUDA_GENERATOR

    CUDA_GENERATOR.manual_seed(int(seed))  # (torch.cuda.manual_seed converts as torch.manual_seed does)


def manual_seed_all(seed: int) -> None:
    manual_seed(seed)


def initial_seed() -> int:
    from engine.creation import CUDA_GENERATOR

    _init()
    return CUDA_GENERATOR.initial_seed()


def seed() -> None:
    """Seed cuda tensors' generator from a nondeterministic source (torch: nothing happens without CUDA)."""
    if cuda_available():
        from engine.creation import CUDA_GENERATOR

        CUDA_GENERATOR.seed()


seed_all = seed


def is_initialized() -> bool:
    return False


def __getattr__(name: str) -> object:
    if name == "amp":  # (the deprecated torch.cuda.amp, loaded on first use)
        import engine.amp.cuda_amp as amp

        return amp
    raise AttributeError(f"module 'torch.cuda' has no attribute '{name}'")
