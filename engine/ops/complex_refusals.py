"""The functions torch has no complex kernel for, with the error each raises on a complex tensor ({} is the
dtype's name, ComplexFloat or ComplexDouble). install() puts the check in front of the function under each of its
names (torch.erfinv, Tensor.erfinv, torch.special.erfinv, ...). None of them is on a hot path (activations such
as leaky_relu are left out for that reason); their real implementations stay as they are."""

from __future__ import annotations

import functools
from typing import Any

from engine.tensor import Tensor

_NI = NotImplementedError


def _kernel(name: str) -> tuple:
    return (_NI, f"\"{name}\" not implemented for '{{}}'")


REFUSALS: dict[str, tuple] = {
    "deg2rad": (RuntimeError, "deg2rad is not supported for complex tensors."),
    "rad2deg": (RuntimeError, "rad2deg is not supported for complex tensors."),
    "signbit": (_NI, "signbit is not implemented for complex tensors."),
    "isposinf": (RuntimeError, "isposinf does not support complex inputs."),
    "isneginf": (RuntimeError, "isneginf does not support complex inputs."),
    "nansum": (RuntimeError, "nansum on CPU does not support complex inputs"),
    "nanmean": (RuntimeError, "nansum on CPU does not support complex inputs"),
    "fmax": (RuntimeError, "fmax not implemented for complex tensors."),
    "fmin": (RuntimeError, "fmin not implemented for complex tensors."),
    "logit": _kernel("logit_cpu"),
    "erfinv": _kernel("erfinv_vml_cpu"),
    "erfc": _kernel("erfc_vml_cpu"),
    "i0": _kernel("i0_vml_cpu"),
    "i0e": _kernel("i0e_cpu"),
    "i1": _kernel("i1_cpu"),
    "i1e": _kernel("i1e_cpu"),
    "ndtri": _kernel("ndtri_cpu"),
    "log_ndtr": _kernel("log_ndtr_cpu"),
    "entr": _kernel("entr_cpu"),
    "erfcx": _kernel("erfcx_cpu"),
    "lgamma": _kernel("lgamma_vml_cpu"),
    "gammaln": _kernel("lgamma_vml_cpu"),
    "digamma": _kernel("digamma"),
    "psi": _kernel("digamma"),
    "polygamma": _kernel("trigamma"),
    "mvlgamma": _kernel("arange_cpu"),
    "multigammaln": _kernel("arange_cpu"),
    "xlogy": _kernel("xlogy_cpu"),
    "xlog1py": _kernel("xlog1py_cpu"),
    "atan2": _kernel("atan2_cpu"),
    "arctan2": _kernel("atan2_cpu"),
    "copysign": _kernel("copysign_cpu"),
    "fmod": _kernel("fmod_cpu"),
    "bitwise_and": _kernel("bitwise_and_cpu"),
    "bitwise_or": _kernel("bitwise_or_cpu"),
    "bitwise_xor": _kernel("bitwise_xor_cpu"),
    "histc": _kernel("aminmax_cpu"),
    "aminmax": _kernel("aminmax_cpu"),
    "bucketize": _kernel("searchsorted_out_cpu"),
    "searchsorted": _kernel("searchsorted_out_cpu"),
    "cummax": _kernel("cummax_cpu"),
    "cummin": _kernel("cummin_cpu"),
    "kthvalue": _kernel("kthvalue_cpu"),
    "median": _kernel("median_cpu"),
    "nanmedian": _kernel("median_cpu"),
    "mode": _kernel("mode_cpu"),
}


def _complex_arg(args: tuple) -> Tensor | None:
    for a in args[:2]:  # (the input, and a second operand of the binary ones)
        if isinstance(a, Tensor) and a._data.dtype.kind == "c":
            return a
    return None


def refusing(fn: Any, name: str) -> Any:
    exc, msg = REFUSALS[name]

    @functools.wraps(fn)
    def checked(*args: Any, **kwargs: Any) -> Any:
        z = _complex_arg(args) if args else kwargs.get("input")
        if z is not None and isinstance(z, Tensor) and z._data.dtype.kind == "c":
            raise exc(msg.format(z.dtype.scalar_name()))
        return fn(*args, **kwargs)

    checked._complex_refusal = True  # type: ignore[attr-defined]
    return checked


def install(namespace: Any) -> None:
    """Wrap the table's functions found in a module's namespace or on a class (once each)."""
    items = vars(namespace)
    for name in REFUSALS:
        fn = items.get(name)
        if callable(fn) and not getattr(fn, "_complex_refusal", False) and not isinstance(fn, type):
            setattr(namespace, name, refusing(fn, name))
