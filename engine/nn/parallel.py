"""torch.nn.parallel: DataParallel and data_parallel, as the "Data Parallelism" tutorial and many training
scripts use them (`model = nn.DataParallel(model)`).

Without a GPU, as in torch, DataParallel only wraps its module (`device_ids` empty, the forward is the
module's); its state_dict keys gain the `module.` prefix, which is what scripts meet when they load such a
checkpoint. With GPUs the module moves to device_ids[0] and the inputs go there. torch would also split the
batch over several GPUs and run replicas: here the whole batch runs on device_ids[0] (the same values for a
model without batch statistics: BatchNorm's running means would differ)."""

from __future__ import annotations

from typing import Any

from engine.nn.module import Module

__all__ = ["DataParallel", "data_parallel"]


def _device_type() -> str | None:
    from engine.backend import cuda_available

    return "cuda" if cuda_available() else None


def _index(device: Any) -> int:
    """torch._utils._get_device_index(device, optional=True)."""
    from engine.backend import CURRENT
    from engine.backend import device as device_type

    if isinstance(device, str):
        device = device_type(device)
    if isinstance(device, device_type):
        if device.type == "cpu":
            raise ValueError(f"Expected a non cpu device, but got: {device}")
        return CURRENT[0] if device.index is None else device.index
    if isinstance(device, int):
        return device
    return CURRENT[0]


def _move(obj: Any, dev: Any) -> Any:
    """scatter's walk for one device: tensors in tuples, lists and dicts go to `dev`, anything else stays."""
    from engine.func.pytree import _is_namedtuple_class
    from engine.tensor import Tensor

    if isinstance(obj, Tensor):
        return obj.to(dev)
    if isinstance(obj, tuple) and len(obj) > 0:
        moved = [_move(o, dev) for o in obj]
        return type(obj)(*moved) if _is_namedtuple_class(type(obj)) else tuple(moved)
    if isinstance(obj, list) and len(obj) > 0:
        return [_move(o, dev) for o in obj]
    if isinstance(obj, dict) and len(obj) > 0:
        return type(obj)((k, _move(v, dev)) for k, v in obj.items())
    return obj


def _check_placement(module: Module, src: Any) -> None:
    import itertools

    for t in itertools.chain(module.parameters(), module.buffers()):
        if t.device != src:
            raise RuntimeError(
                "module must have its parameters and buffers "
                f"on device {src} (device_ids[0]) but found one of "
                f"them on device: {t.device}"
            )


def _run(module: Module, src: Any, output: Any, inputs: tuple, kwargs: dict) -> Any:
    _check_placement(module, src)
    out = module(*_move(inputs, src), **_move(kwargs, src))
    return out if output == src else _move(out, output)


class DataParallel(Module):
    _torch_name = "torch.nn.parallel.data_parallel.{name}"

    def __init__(self, module: Module, device_ids: Any = None, output_device: Any = None, dim: int = 0) -> None:
        super().__init__()
        device_type = _device_type()
        if device_type is None:
            self.module = module
            self.device_ids = []
            return
        from engine.backend import device, device_count

        if device_ids is None:
            device_ids = list(range(device_count()))
        if output_device is None:
            output_device = device_ids[0]
        self.dim = dim
        self.module = module
        self.device_ids = [_index(x) for x in device_ids]
        self.output_device = _index(output_device)
        self.src_device_obj = device(device_type, self.device_ids[0])
        if len(self.device_ids) == 1:
            self.module.to(self.src_device_obj)

    def forward(self, *inputs: Any, **kwargs: Any) -> Any:
        if not self.device_ids:
            return self.module(*inputs, **kwargs)
        from engine.backend import device

        return _run(self.module, self.src_device_obj, device("cuda", self.output_device), inputs, kwargs)


def data_parallel(module: Module, inputs: Any, device_ids: Any = None, output_device: Any = None, dim: int = 0,
                  module_kwargs: Any = None) -> Any:  # fmt: skip
    """The functional DataParallel: runs `module` on `inputs` (a tensor or a tuple) on device_ids[0]."""
    if not isinstance(inputs, tuple):
        inputs = (inputs,) if inputs is not None else ()
    device_type = _device_type()
    if device_type is None:
        raise RuntimeError("device type could not be determined")
    from engine.backend import device, device_count

    if device_ids is None:
        device_ids = list(range(device_count()))
    if output_device is None:
        output_device = device_ids[0]
    device_ids = [_index(x) for x in device_ids]
    src = device(device_type, device_ids[0])
    return _run(module, src, device(device_type, _index(output_device)), inputs, module_kwargs or {})
