"""torch.signal.windows: scipy-style windows (sym=True for filter design, False for spectral analysis), each
built from engine ops exactly as torch/signal/windows/windows.py builds it from torch's (a linspace through
exp, sin, cos or i0), so values, dtypes and requires_grad come out as torch's, as do its ValueErrors."""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

import engine
from engine.tensor import Tensor

__all__ = ["bartlett", "blackman", "cosine", "exponential", "gaussian", "general_cosine", "general_hamming",
           "hamming", "hann", "kaiser", "nuttall"]  # fmt: skip


def _checks(function_name: str, M: int, dtype: Any, layout: Any) -> Any:  # noqa: N803
    """torch's _window_function_checks; the dtype, the default one when not given."""
    dtype = engine.get_default_dtype() if dtype is None else dtype
    if M < 0:
        raise ValueError(f"{function_name} requires non-negative window length, got M={M}")
    if layout is not engine.strided:
        raise ValueError(f"{function_name} is implemented for strided tensors only, got: {layout}")
    if dtype not in (engine.float32, engine.float64):
        raise ValueError(f"{function_name} expects float32 or float64 dtypes, got: {dtype}")
    return dtype


def _trivial(M: int, dtype: Any, device: Any, requires_grad: bool, ones_at_1: bool = True) -> Tensor | None:  # noqa: N803
    """The empty window for M = 0 and, for the windows torch special-cases there, the one-point window."""
    if M == 0:
        return engine.empty((0,), dtype=dtype, device=device, requires_grad=requires_grad)
    if M == 1 and ones_at_1:
        return engine.ones((1,), dtype=dtype, device=device, requires_grad=requires_grad)
    return None


def _linspace(start: Any, end: Any, M: int, dtype: Any, device: Any, requires_grad: bool) -> Tensor:  # noqa: N803
    return engine.linspace(start=start, end=end, steps=M, dtype=dtype, device=device, requires_grad=requires_grad)


def exponential(M: int, *, center: float | None = None, tau: float = 1.0, sym: bool = True, dtype: Any = None,  # noqa: N803
                layout: Any = engine.strided, device: Any = None, requires_grad: bool = False) -> Tensor:  # fmt: skip
    """exp(-|n - center| / tau)."""
    dtype = _checks("exponential", M, dtype, layout)
    if tau <= 0:
        raise ValueError(f"Tau must be positive, got: {tau} instead.")
    if sym and center is not None:
        raise ValueError("Center must be None for symmetric windows")
    if (w := _trivial(M, dtype, device, requires_grad, ones_at_1=False)) is not None:
        return w
    if center is None:
        center = (M if not sym and M > 1 else M - 1) / 2.0
    constant = 1 / tau
    k = _linspace(-center * constant, (-center + (M - 1)) * constant, M, dtype, device, requires_grad)
    return engine.exp(-engine.abs(k))


def cosine(M: int, *, sym: bool = True, dtype: Any = None, layout: Any = engine.strided, device: Any = None,  # noqa: N803
           requires_grad: bool = False) -> Tensor:  # fmt: skip
    """sin(pi (n + 0.5) / M): the sine window."""
    dtype = _checks("cosine", M, dtype, layout)
    if (w := _trivial(M, dtype, device, requires_grad, ones_at_1=False)) is not None:
        return w
    constant = math.pi / (M + 1 if not sym and M > 1 else M)
    k = _linspace(0.5 * constant, (0.5 + (M - 1)) * constant, M, dtype, device, requires_grad)
    return engine.sin(k)


def gaussian(M: int, *, std: float = 1.0, sym: bool = True, dtype: Any = None, layout: Any = engine.strided,  # noqa: N803
             device: Any = None, requires_grad: bool = False) -> Tensor:  # fmt: skip
    """exp(-(n - (M - 1) / 2)^2 / (2 std^2))."""
    dtype = _checks("gaussian", M, dtype, layout)
    if std <= 0:
        raise ValueError(f"Standard deviation must be positive, got: {std} instead.")
    if (w := _trivial(M, dtype, device, requires_grad, ones_at_1=False)) is not None:
        return w
    start = -(M if not sym and M > 1 else M - 1) / 2.0
    constant = 1 / (std * math.sqrt(2))
    k = _linspace(start * constant, (start + (M - 1)) * constant, M, dtype, device, requires_grad)
    return engine.exp(-(k**2))


def kaiser(M: int, *, beta: float = 12.0, sym: bool = True, dtype: Any = None, layout: Any = engine.strided,  # noqa: N803
           device: Any = None, requires_grad: bool = False) -> Tensor:  # fmt: skip
    """I0(sqrt(beta^2 - k^2)) / I0(beta), k from -beta to beta."""
    dtype = _checks("kaiser", M, dtype, layout)
    if beta < 0:
        raise ValueError(f"beta must be non-negative, got: {beta} instead.")
    if (w := _trivial(M, dtype, device, requires_grad)) is not None:
        return w
    b = engine.tensor(beta, dtype=dtype, device=device)
    start = -b
    constant = 2.0 * b / (M if not sym else M - 1)
    end = engine.minimum(b, start + (M - 1) * constant)
    k = _linspace(start, end, M, dtype, device, requires_grad)
    return engine.i0(engine.sqrt(b * b - engine.pow(k, 2))) / engine.i0(b)


def general_cosine(M: int, *, a: Iterable, sym: bool = True, dtype: Any = None, layout: Any = engine.strided,  # noqa: N803
                   device: Any = None, requires_grad: bool = False) -> Tensor:  # fmt: skip
    """sum_i (-1)^i a_i cos(2 pi i n / (M - 1))."""
    dtype = _checks("general_cosine", M, dtype, layout)
    if (w := _trivial(M, dtype, device, requires_grad)) is not None:
        return w
    if not isinstance(a, Iterable):
        raise TypeError("Coefficients must be a list/tuple")
    if not a:
        raise ValueError("Coefficients cannot be empty")
    constant = 2 * math.pi / (M if not sym else M - 1)
    k = _linspace(0, (M - 1) * constant, M, dtype, device, requires_grad)
    a_i = engine.tensor([(-1) ** i * w for i, w in enumerate(a)], device=device, dtype=dtype,
                        requires_grad=requires_grad)  # fmt: skip
    i = engine.arange(a_i.shape[0], dtype=a_i.dtype, device=a_i.device, requires_grad=a_i.requires_grad)
    return (a_i.unsqueeze(-1) * engine.cos(i.unsqueeze(-1) * k)).sum(0)


def general_hamming(M: int, *, alpha: float = 0.54, sym: bool = True, dtype: Any = None,  # noqa: N803
                    layout: Any = engine.strided, device: Any = None,
                    requires_grad: bool = False) -> Tensor:  # fmt: skip
    """alpha - (1 - alpha) cos(2 pi n / (M - 1))."""
    return general_cosine(M, a=[alpha, 1.0 - alpha], sym=sym, dtype=dtype, layout=layout, device=device,
                          requires_grad=requires_grad)  # fmt: skip


def _cosine_sum(name: str, alpha: float | None = None, coefficients: list | None = None) -> Any:
    """A named member of the general cosine family (torch's hamming, hann, blackman and nuttall)."""

    def window(M: int, *, sym: bool = True, dtype: Any = None, layout: Any = engine.strided, device: Any = None,  # noqa: N803
               requires_grad: bool = False) -> Tensor:  # fmt: skip
        if coefficients is None:
            kw = {} if alpha is None else {"alpha": alpha}
            return general_hamming(M, sym=sym, dtype=dtype, layout=layout, device=device,
                                   requires_grad=requires_grad, **kw)  # fmt: skip
        if name == "blackman":  # (checked under its own name before general_cosine's)
            dtype = _checks(name, M, dtype, layout)
        return general_cosine(M, a=coefficients, sym=sym, dtype=dtype, layout=layout, device=device,
                              requires_grad=requires_grad)  # fmt: skip

    window.__name__ = window.__qualname__ = name
    window.__doc__ = f"torch.signal.windows.{name}(M, *, sym=True, dtype=None, layout=torch.strided, device=None, "
    window.__doc__ += "requires_grad=False)."
    return window


hamming = _cosine_sum("hamming")
hann = _cosine_sum("hann", alpha=0.5)
blackman = _cosine_sum("blackman", coefficients=[0.42, 0.5, 0.08])
nuttall = _cosine_sum("nuttall", coefficients=[0.3635819, 0.4891775, 0.1365995, 0.0106411])


def bartlett(M: int, *, sym: bool = True, dtype: Any = None, layout: Any = engine.strided, device: Any = None,  # noqa: N803
             requires_grad: bool = False) -> Tensor:  # fmt: skip
    """1 - |k|, k from -1 to 1: the triangle."""
    dtype = _checks("bartlett", M, dtype, layout)
    if (w := _trivial(M, dtype, device, requires_grad)) is not None:
        return w
    constant = 2 / (M if not sym else M - 1)
    k = _linspace(-1, -1 + (M - 1) * constant, M, dtype, device, requires_grad)
    return 1 - engine.abs(k)
