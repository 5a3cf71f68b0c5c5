"""torch.accelerator and torch.backends against PyTorch: with no accelerator (this cpu build of torch is the
oracle), and, on a GPU or the cupy emulator, cuda as the current accelerator."""

from __future__ import annotations

import warnings

import pytest
import torch

import engine


def _outcome(f: object) -> object:
    try:
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            r = f()  # type: ignore[operator]
        return repr(r), [str(x.message) for x in w]
    except Exception as e:  # noqa: BLE001 - the type and text are what is compared
        return type(e).__name__, str(e)


def _ctx(T: object, i: object) -> None:
    with T.accelerator.device_index(i):  # type: ignore[attr-defined]
        pass


NO_ACCELERATOR = {
    "is_available": lambda T: T.accelerator.is_available(),
    "current_accelerator": lambda T: T.accelerator.current_accelerator(),
    "current_accelerator_checked": lambda T: T.accelerator.current_accelerator(check_available=True),
    "device_count": lambda T: T.accelerator.device_count(),
    "current_device_index": lambda T: T.accelerator.current_device_index(),
    "current_device_idx": lambda T: T.accelerator.current_device_idx(),
    "set_device_index": lambda T: T.accelerator.set_device_index(0),
    "synchronize": lambda T: T.accelerator.synchronize(),
    "device_index": lambda T: _ctx(T, 0),
    "device_index_none": lambda T: _ctx(T, None),
    "learn_the_basics_device": lambda T: (
        T.accelerator.current_accelerator().type if T.accelerator.is_available() else "cpu"
    ),
    "mps": lambda T: (T.backends.mps.is_available(), T.backends.mps.is_built()),
    "cudnn_defaults": lambda T: (T.backends.cudnn.enabled, T.backends.cudnn.deterministic, T.backends.cudnn.benchmark),
    "cudnn_available": lambda T: (T.backends.cudnn.is_available(), T.backends.cudnn.version()),
    "cuda_built": lambda T: T.backends.cuda.is_built(),
    "matmul_default": lambda T: (T.get_float32_matmul_precision(), T.backends.cuda.matmul.allow_tf32),
    "matmul_precision_bad": lambda T: T.set_float32_matmul_precision("low"),
}


def _cuda_ctx(T: object) -> None:
    with T.cuda.device(0):  # type: ignore[attr-defined]
        pass


#: torch.cuda without a GPU: torch's CPU build reads its memory counters as 0 and refuses device questions
NO_CUDA = {
    "synchronize": lambda T: T.cuda.synchronize(),
    "synchronize_str": lambda T: T.cuda.synchronize("cuda:0"),
    "current_device": lambda T: T.cuda.current_device(),
    "get_device_name": lambda T: T.cuda.get_device_name(),
    "get_device_name_0": lambda T: T.cuda.get_device_name(0),
    "get_device_properties": lambda T: T.cuda.get_device_properties(0),
    "get_device_capability": lambda T: T.cuda.get_device_capability(),
    "mem_get_info": lambda T: T.cuda.mem_get_info(),
    "memory_allocated": lambda T: T.cuda.memory_allocated(),
    "memory_allocated_0": lambda T: T.cuda.memory_allocated(0),
    "memory_reserved": lambda T: T.cuda.memory_reserved(),
    "empty_cache": lambda T: T.cuda.empty_cache(),
    "is_bf16_supported": lambda T: (T.cuda.is_bf16_supported(), T.cuda.is_bf16_supported(including_emulation=False)),
    "get_arch_list": lambda T: T.cuda.get_arch_list(),
    "event": lambda T: T.cuda.Event(enable_timing=True),
    "initial_seed": lambda T: T.cuda.initial_seed(),
    "seed": lambda T: (T.cuda.seed(), T.cuda.seed_all()),
    "device_ctx": lambda T: _cuda_ctx(T),
    "device_count": lambda T: T.cuda.device_count(),
    "zeros": lambda T: T.zeros(2, device="cuda"),
    "to_cuda": lambda T: T.zeros(2).cuda(),
    "cuda_1": lambda T: T.zeros(2).cuda(1),
    # an int device is the current accelerator's (torch 2.x), and there is none
    "ordinal_device": lambda T: T.device(0),
    "ordinal_factory": lambda T: T.zeros(2, device=0),
    "ordinal_to": lambda T: T.zeros(2).to(1),
    "ordinal_module": lambda T: T.nn.Linear(2, 3, True, 0),
}


@pytest.mark.parametrize(
    "args",
    [(None,), ({},), (0, 0), ("cuda", "a"), ("cuda", 1.0), (-1,), (True,), (2.0,), ("cuda", -1), ("cpu", 0),
     ("cuda", True), ("cuda:1",), ("cpu",)],
)  # fmt: skip
def test_device_constructor_matches_torch(args: tuple) -> None:
    if engine.cuda.is_available():
        pytest.skip("this machine has a GPU: torch's cpu build is no oracle for torch.device(0)")
    assert _outcome(lambda: engine.device(*args)) == _outcome(lambda: torch.device(*args))


@pytest.mark.parametrize("name", list(NO_CUDA))
def test_no_cuda_matches_torchs_cpu_build(name: str) -> None:
    if engine.cuda.is_available():
        pytest.skip("this machine has a GPU: torch's cpu build is no oracle for it")
    assert _outcome(lambda: NO_CUDA[name](engine)) == _outcome(lambda: NO_CUDA[name](torch))


def test_no_cupy_error_says_what_to_install() -> None:
    import importlib.util
    import sys

    if "cupy" in sys.modules or importlib.util.find_spec("cupy") is not None:
        pytest.skip("cupy is installed")
    with pytest.raises(AssertionError, match="^Torch not compiled with CUDA enabled") as e:
        engine.ones(1, device="cuda")
    assert str(e.value) == "Torch not compiled with CUDA enabled"
    assert e.value.__notes__[0].startswith("CUDA is not available: cupy is not installed; install a CUDA build")


def test_cuda_device_facts_and_timing(device: str) -> None:
    if device != "cuda":
        return
    cuda = engine.cuda
    props = cuda.get_device_properties(0)
    assert cuda.get_device_name() == cuda.get_device_name(0) == props.name and props.name
    assert cuda.get_device_capability() == (props.major, props.minor) and props.major >= 3
    assert props.total_memory > 0 and props.multi_processor_count > 0
    assert repr(props).startswith(f"_CudaDeviceProperties(name='{props.name}', major={props.major}, ")
    free, total = cuda.mem_get_info()
    assert 0 <= free <= total
    x = engine.ones(1024, device="cuda")
    assert cuda.memory_reserved() >= cuda.memory_allocated() >= 0
    start, end = cuda.Event(enable_timing=True), cuda.Event(enable_timing=True)
    start.record()
    (x * 2).sum()
    end.record()
    end.synchronize()
    assert end.query() and start.elapsed_time(end) >= 0.0
    with cuda.device(0):
        assert cuda.current_device() == 0
    cuda.synchronize()
    cuda.empty_cache()
    cuda.manual_seed(3)
    assert cuda.initial_seed() == 3 and isinstance(cuda.is_bf16_supported(), bool)


@pytest.mark.parametrize("name", list(NO_ACCELERATOR))
def test_no_accelerator_matches_torch(name: str) -> None:
    if engine.cuda.is_available():
        pytest.skip("this machine has an accelerator: torch's cpu build is no oracle for it")
    assert _outcome(lambda: NO_ACCELERATOR[name](engine)) == _outcome(lambda: NO_ACCELERATOR[name](torch))


@pytest.mark.parametrize("precision", ["high", "medium", "highest"])
def test_matmul_precision_drives_allow_tf32(precision: str) -> None:
    got = []
    for T in (torch, engine):
        before = T.get_float32_matmul_precision()
        try:
            T.set_float32_matmul_precision(precision)
            got.append((T.get_float32_matmul_precision(), T.backends.cuda.matmul.allow_tf32))
        finally:
            T.set_float32_matmul_precision(before)
    assert got[1] == got[0]


def test_cudnn_flags_are_settable_and_read_back() -> None:
    cudnn = engine.backends.cudnn
    saved = (cudnn.deterministic, cudnn.benchmark)
    try:
        cudnn.deterministic, cudnn.benchmark = True, False
        assert (engine.backends.cudnn.deterministic, engine.backends.cudnn.benchmark) == (True, False)
    finally:
        cudnn.deterministic, cudnn.benchmark = saved


FLAGS = [("cudnn", "enabled"), ("cudnn", "deterministic"), ("cudnn", "benchmark"), ("cudnn", "allow_tf32"),
         ("cuda.matmul", "allow_tf32"), ("cuda.matmul", "allow_fp16_reduced_precision_reduction"),
         ("cuda.matmul", "allow_bf16_reduced_precision_reduction")]  # fmt: skip


@pytest.mark.parametrize(("where", "flag"), FLAGS)
@pytest.mark.parametrize("value", ["x", 1, None, print])
def test_backend_flags_take_bools_only(where: str, flag: str, value: object) -> None:
    """torch's setters refuse anything but a bool, each with its own message (and the value stays)."""
    errors = []
    for T in (torch, engine):
        owner = T.backends
        for part in where.split("."):
            owner = getattr(owner, part)
        before = getattr(owner, flag)
        with pytest.raises(Exception) as info:
            setattr(owner, flag, value)
        errors.append((type(info.value).__name__, str(info.value), getattr(owner, flag) == before))
    assert errors[1] == errors[0]


def test_cuda_is_the_current_accelerator(device: str) -> None:
    if device != "cuda":
        return
    acc = engine.accelerator
    assert acc.is_available() and repr(acc.current_accelerator()) == "device(type='cuda')"
    assert acc.device_count() == engine.cuda.device_count() >= 1
    assert acc.current_device_index() == acc.current_device_idx() == 0
    acc.set_device_index(0)
    with acc.device_index(0):
        assert acc.current_device_index() == 0
    acc.synchronize()
    assert engine.ones(2, device=acc.current_accelerator()).device == engine.device("cuda", 0)
    with pytest.raises(RuntimeError, match="invalid device ordinal"):
        acc.set_device_index(acc.device_count())
