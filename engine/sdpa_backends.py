"""Which kernels scaled_dot_product_attention may use: torch.nn.attention's SDPBackend and sdpa_kernel, and
torch.backends.cuda's switches (flash_sdp_enabled, enable_math_sdp, the deprecated sdp_kernel).

On the cpu torch has two: its flash kernel (4-d inputs without dropout) and the math path, op by op; the
efficient, cuDNN and overrideable ones are cuda's. F.scaled_dot_product_attention asks `cpu_backend()` which to
run, and with neither allowed raises torch's "No viable backend" error."""

from __future__ import annotations

from typing import Any

from engine.naming import TorchNamed

# torch's global switches (torch._C._get_<name>_sdp_enabled), all on by default
ENABLED = {"cudnn": True, "flash": True, "mem_efficient": True, "math": True, "overrideable": True}
_NAMES = {"cudnn": "CUDNN_ATTENTION", "flash": "FLASH_ATTENTION", "mem_efficient": "EFFICIENT_ATTENTION",
          "math": "MATH", "overrideable": "OVERRIDEABLE"}  # fmt: skip


class SDPBackend(metaclass=TorchNamed):
    """torch.nn.attention.SDPBackend: ERROR, MATH, FLASH_ATTENTION, EFFICIENT_ATTENTION, CUDNN_ATTENTION,
    OVERRIDEABLE (a pybind11 enum in torch: `<SDPBackend.MATH: 0>`, int() its value)."""

    _torch_name = "torch.nn.attention._SDPBackend"
    __slots__ = ("_name", "_value")
    __members__: dict[str, SDPBackend] = {}

    def __init__(self, name: str, value: int) -> None:
        self._name = name
        self._value = value

    @property
    def name(self) -> str:
        return self._name

    @property
    def value(self) -> int:
        return self._value

    def __repr__(self) -> str:
        return f"<SDPBackend.{self._name}: {self._value}>"

    def __str__(self) -> str:
        return f"SDPBackend.{self._name}"

    def __int__(self) -> int:
        return self._value

    __index__ = __int__

    def __hash__(self) -> int:
        return hash(self._value)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, SDPBackend) and other._value == self._value

    def __ne__(self, other: object) -> bool:
        return not self == other


for _name, _value in (("ERROR", -1), ("MATH", 0), ("FLASH_ATTENTION", 1), ("EFFICIENT_ATTENTION", 2),
                      ("CUDNN_ATTENTION", 3), ("OVERRIDEABLE", 4)):  # fmt: skip
    _member = SDPBackend(_name, _value)
    setattr(SDPBackend, _name, _member)
    SDPBackend.__members__[_name] = _member


def _current() -> list:
    return [getattr(SDPBackend, v) for k, v in _NAMES.items() if ENABLED[k]]


def _use(backends: list) -> None:
    for k, v in _NAMES.items():
        ENABLED[k] = getattr(SDPBackend, v) in backends


class sdpa_kernel:  # noqa: N801 - torch's name (a function returning a context manager there)
    """`with sdpa_kernel(SDPBackend.MATH):` allows only the given backends inside the block; the switches are
    restored on leaving it."""

    _torch_name = "contextlib._GeneratorContextManager"

    def __init__(self, backends: Any, set_priority: bool = False) -> None:
        if not isinstance(backends, (list, SDPBackend)):
            raise AssertionError(
                "Backend must be an instance of SDPBackend or a list of SDPBackend instances, got "
                f"{type(backends).__name__}"
            )
        self._backends = list(dict.fromkeys([backends] if isinstance(backends, SDPBackend) else backends))
        self._previous: list | None = None

    def __enter__(self) -> dict:
        self._previous = _current()
        _use(self._backends)
        return {}

    def __exit__(self, *exc: object) -> bool:
        _use(self._previous or [])
        return False


def cpu_backend(flash_eligible: bool) -> str:
    """The kernel torch's cpu dispatch picks: 'flash' or 'math'."""
    if flash_eligible and ENABLED["flash"]:
        return "flash"
    if ENABLED["math"]:
        return "math"
    raise RuntimeError(
        "No viable backend for scaled_dot_product_attention was found. This is likely due to turning off both the "
        "math kernel and the fused kernels."
    )


# ---- torch.backends.cuda's switches ---------------------------------------------------------------------------
def _setter(name: str, prefix: str) -> Any:
    def enable(enabled: bool) -> None:
        if type(enabled) is not bool:
            raise RuntimeError(f"{prefix}{type(enabled).__name__}")
        ENABLED[name] = enabled

    return enable


# (torch's bindings name set_sdp_use_math in three of these messages, and leave a "%s" in cuDNN's)
_MATH = "set_sdp_use_math expects a bool, but got "
enable_flash_sdp = _setter("flash", _MATH)
enable_mem_efficient_sdp = _setter("mem_efficient", _MATH)
enable_math_sdp = _setter("math", _MATH)
enable_cudnn_sdp = _setter("cudnn", "set_sdp_use_cudnn expects a bool, but got %s")


def flash_sdp_enabled() -> bool:
    return ENABLED["flash"]


def mem_efficient_sdp_enabled() -> bool:
    return ENABLED["mem_efficient"]


def math_sdp_enabled() -> bool:
    return ENABLED["math"]


def cudnn_sdp_enabled() -> bool:
    return ENABLED["cudnn"]


class sdp_kernel(sdpa_kernel):  # noqa: N801 - torch's name
    """torch.backends.cuda.sdp_kernel, deprecated: sdpa_kernel with one switch per backend."""

    def __init__(self, enable_flash: bool = True, enable_math: bool = True, enable_mem_efficient: bool = True,
                 enable_cudnn: bool = True) -> None:  # fmt: skip
        import warnings

        from engine.warn import user_stacklevel

        warnings.warn(
            "`torch.backends.cuda.sdp_kernel()` is deprecated. In the future, this context manager will be removed. "
            "Please see `torch.nn.attention.sdpa_kernel()` for the new context manager, with updated signature.",
            FutureWarning,
            stacklevel=user_stacklevel(),
        )
        chosen = [(enable_flash, SDPBackend.FLASH_ATTENTION), (enable_mem_efficient, SDPBackend.EFFICIENT_ATTENTION),
                  (enable_math, SDPBackend.MATH), (enable_cudnn, SDPBackend.CUDNN_ATTENTION)]  # fmt: skip
        super().__init__([b for on, b in chosen if on])
