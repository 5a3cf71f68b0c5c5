"""torch's tensor repr, ported from torch/_tensor_str.py (PyTorch 2.13) to work on numpy arrays.

The aim is byte-identical output, so the structure and even the quirks of the original are kept (for
example: widths only count nonzero finite values, `" ..."` vs `"..."` separators, `edgeitems=0` slicing
with `[-0:]`). Values are turned into Python scalars before formatting, as torch does with `.item()` and
`.tolist()`, so float32/float16 values are formatted through their exact float64 widening.
"""

from __future__ import annotations

import contextlib
import dataclasses
import math
from collections.abc import Iterator
from typing import Any

import numpy as np


@dataclasses.dataclass
class _PrinterOptions:
    precision: int = 4
    threshold: float = 1000
    edgeitems: int = 3
    linewidth: int = 80
    sci_mode: bool | None = None


PRINT_OPTS = _PrinterOptions()


def set_printoptions(
    precision: int | None = None,
    threshold: float | None = None,
    edgeitems: int | None = None,
    linewidth: int | None = None,
    profile: str | None = None,
    sci_mode: bool | None = None,
) -> None:
    """Set options for printing, with torch.set_printoptions' semantics.

    As in torch, `sci_mode` is always assigned (so any call without it resets it to automatic).
    """
    if profile is not None:
        if profile == "default":
            PRINT_OPTS.precision = 4
            PRINT_OPTS.threshold = 1000
            PRINT_OPTS.edgeitems = 3
            PRINT_OPTS.linewidth = 80
        elif profile == "short":
            PRINT_OPTS.precision = 2
            PRINT_OPTS.threshold = 1000
            PRINT_OPTS.edgeitems = 2
            PRINT_OPTS.linewidth = 80
        elif profile == "full":
            PRINT_OPTS.precision = 4
            PRINT_OPTS.threshold = math.inf
            PRINT_OPTS.edgeitems = 3
            PRINT_OPTS.linewidth = 80

    if precision is not None:
        PRINT_OPTS.precision = precision
    if threshold is not None:
        PRINT_OPTS.threshold = threshold
    if edgeitems is not None:
        PRINT_OPTS.edgeitems = edgeitems
    if linewidth is not None:
        PRINT_OPTS.linewidth = linewidth
    PRINT_OPTS.sci_mode = sci_mode


def get_printoptions() -> dict[str, Any]:
    """The current options, as a dict that can be passed back as `set_printoptions(**opts)`."""
    return dataclasses.asdict(PRINT_OPTS)


@contextlib.contextmanager
def printoptions(**kwargs: Any) -> Iterator[None]:
    """Temporarily change the print options; accepts set_printoptions' arguments."""
    old_kwargs = get_printoptions()
    set_printoptions(**kwargs)
    try:
        yield
    finally:
        set_printoptions(**old_kwargs)


class _Formatter:
    __slots__ = ("floating_dtype", "int_mode", "sci_mode", "max_width", "precision")

    def __init__(self, arr: np.ndarray) -> None:
        self.floating_dtype = arr.dtype.kind == "f"
        self.int_mode = True
        self.sci_mode = False
        self.max_width = 1
        # Read once so a formatter is self-consistent even if options change mid-print.
        self.precision = PRINT_OPTS.precision

        flat = arr.reshape(-1)
        if not self.floating_dtype:
            if flat.size:
                self.max_width = max(self.max_width, max(map(len, map(str, flat.tolist()))))
            return

        nonzero_finite_vals = flat[np.isfinite(flat) & (flat != 0)]
        if nonzero_finite_vals.size == 0:
            # No valid number: torch keeps int_mode and a width of 1 (nan/inf/0 are not measured).
            return

        # torch converts to double before comparing magnitudes (float16 would overflow at 1e8).
        nonzero_finite_abs = np.abs(nonzero_finite_vals).astype(np.float64)
        nonzero_finite_min = float(nonzero_finite_abs.min())
        nonzero_finite_max = float(nonzero_finite_abs.max())

        # The ceil comparison happens in the tensor's own dtype, as in torch.
        self.int_mode = not bool(np.any(nonzero_finite_vals != np.ceil(nonzero_finite_vals)))

        if PRINT_OPTS.sci_mode is None:
            self.sci_mode = (
                nonzero_finite_max / nonzero_finite_min > 1000.0
                or nonzero_finite_max > 1.0e8
                or nonzero_finite_min < 1.0e-4
            )
        else:
            self.sci_mode = PRINT_OPTS.sci_mode

        values = nonzero_finite_vals.tolist()
        if self.sci_mode:
            spec = f".{self.precision}e"
            extra = 0
        elif self.int_mode:
            # Integer-valued floats print as `1.`: the trailing dot is counted in the width.
            spec = ".0f"
            extra = 1
        else:
            spec = f".{self.precision}f"
            extra = 0
        width = max(len(format(v, spec)) for v in values) + extra
        self.max_width = max(self.max_width, width)

    def width(self) -> int:
        return self.max_width

    def format(self, value: Any) -> str:
        if self.floating_dtype:
            if self.sci_mode:
                ret = format(value, f"{self.max_width}.{self.precision}e")
            elif self.int_mode:
                ret = format(value, ".0f")
                if not (math.isinf(value) or math.isnan(value)):
                    ret += "."
            else:
                ret = format(value, f".{self.precision}f")
        else:
            ret = f"{value}"
        return (self.max_width - len(ret)) * " " + ret


class _ComplexFormatter:
    """torch's formatter pair for a complex tensor: the real and the imaginary parts are measured and formatted
    each on their own, and joined as `re+imj` (torch's _val_formatter; a sign of the imaginary part, -0.0's
    included, replaces the `+`)."""

    __slots__ = ("real", "imag")

    def __init__(self, arr: np.ndarray) -> None:
        self.real = _Formatter(arr.real)
        self.imag = _Formatter(arr.imag)

    def width(self) -> int:
        # (torch's element length adds the imaginary width and one for the `j`)
        return self.real.width() + self.imag.width() + 1

    def format(self, value: complex) -> str:
        re = self.real.format(value.real)
        im = (self.imag.format(value.imag) + "j").lstrip()
        return re + im if im[0] in "+-" else re + "+" + im


def _vector_str(arr: np.ndarray, indent: int, summarize: bool, formatter: _Formatter | _ComplexFormatter) -> str:
    # length includes the space and comma between elements
    element_length = formatter.width() + 2
    elements_per_line = max(1, math.floor((PRINT_OPTS.linewidth - indent) / element_length))

    edgeitems = PRINT_OPTS.edgeitems
    fmt = formatter.format
    if summarize and not edgeitems:
        data = ["..."]
    elif summarize and arr.shape[0] > 2 * edgeitems:
        data = [fmt(v) for v in arr[:edgeitems].tolist()] + [" ..."] + [fmt(v) for v in arr[-edgeitems:].tolist()]
    else:
        data = [fmt(v) for v in arr.tolist()]

    lines = [", ".join(data[i : i + elements_per_line]) for i in range(0, len(data), elements_per_line)]
    return "[" + (",\n" + " " * (indent + 1)).join(lines) + "]"


def _tensor_str_with_formatter(
    arr: np.ndarray, indent: int, summarize: bool, formatter: _Formatter | _ComplexFormatter
) -> str:
    dim = arr.ndim
    if dim == 0:
        return formatter.format(arr.item())
    if dim == 1:
        return _vector_str(arr, indent, summarize, formatter)

    edgeitems = PRINT_OPTS.edgeitems
    n = arr.shape[0]
    if summarize and n > 2 * edgeitems:
        slices = (
            [_tensor_str_with_formatter(arr[i], indent + 1, summarize, formatter) for i in range(edgeitems)]
            + ["..."]
            + [_tensor_str_with_formatter(arr[i], indent + 1, summarize, formatter) for i in range(n - edgeitems, n)]
        )
    else:
        slices = [_tensor_str_with_formatter(arr[i], indent + 1, summarize, formatter) for i in range(n)]

    return "[" + ("," + "\n" * (dim - 1) + " " * (indent + 1)).join(slices) + "]"


def _get_summarized_data(arr: np.ndarray) -> np.ndarray:
    dim = arr.ndim
    if dim == 0:
        return arr
    edgeitems = PRINT_OPTS.edgeitems
    if dim == 1:
        if arr.shape[0] > 2 * edgeitems:
            # With edgeitems == 0, `[-0:]` is the whole vector: torch measures every element then.
            return np.concatenate((arr[:edgeitems], arr[-edgeitems:]))
        return arr
    if not edgeitems:
        return np.empty((0,) * dim, dtype=arr.dtype)
    n = arr.shape[0]
    if n > 2 * edgeitems:
        rows = [*range(edgeitems), *range(n - edgeitems, n)]
    else:
        rows = range(n)
    return np.stack([_get_summarized_data(arr[i]) for i in rows])


def _tensor_str(arr: np.ndarray, indent: int) -> str:
    if arr.size == 0:
        return "[]"
    summarize = arr.size > PRINT_OPTS.threshold
    shown = _get_summarized_data(arr) if summarize else arr
    formatter = _ComplexFormatter(shown) if arr.dtype.kind == "c" else _Formatter(shown)
    return _tensor_str_with_formatter(arr, indent, summarize, formatter)


def _add_suffixes(tensor_str: str, suffixes: list[str], indent: int, force_newline: bool) -> str:
    tensor_strs = [tensor_str]
    # torch's arithmetic (len - rfind + 1) over-counts by two; kept so wrapping decisions match.
    last_line_len = len(tensor_str) - tensor_str.rfind("\n") + 1
    for suffix in suffixes:
        suffix_len = len(suffix)
        if force_newline or last_line_len + suffix_len + 2 > PRINT_OPTS.linewidth:
            tensor_strs.append(",\n" + " " * indent + suffix)
            last_line_len = indent + suffix_len
            force_newline = False
        else:
            tensor_strs.append(", " + suffix)
            last_line_len += suffix_len + 2
    tensor_strs.append(")")
    return "".join(tensor_strs)


def _default_dtype_name() -> str:
    # Imported lazily: dtypes is a sibling module and printing must not depend on import order.
    from engine.dtypes import get_default_dtype

    return str(get_default_dtype())


#: engine/forward_ad's printing hook, set once a dual level was entered: t -> (show its graph, its tangent or None)
FORWARD_AD: list = [None]


def format_tensor(t: Any) -> str:
    """Exactly what torch's `repr(tensor)` returns for a strided (dense) tensor.

    `t` needs: `_host()` (numpy array of the values), `dtype` (str like 'torch.float32'), `device`
    (`.type` and str like 'cuda:0'), `requires_grad` and `grad_fn` (None or an object with `.name()`).
    """
    meta = t.device.type == "meta"
    arr = None if meta else np.asarray(t._host())
    prefix = "tensor("
    indent = len(prefix)
    suffixes = []

    # torch prints the device only when it is not the default tensor type's device, which is cpu here.
    device = t.device
    if device.type != "cpu":
        suffixes.append("device='" + str(device) + "'")

    dtype_name = str(t.dtype)
    default_name = _default_dtype_name()
    default_complex = "torch.complex128" if default_name == "torch.float64" else "torch.complex64"
    has_default_dtype = dtype_name in (default_name, default_complex, "torch.int64", "torch.bool")

    if meta:  # (shape and dtype only: a meta tensor has no values)
        suffixes.append("size=" + str(tuple(t.shape)))
        if dtype_name != default_name:
            suffixes.append("dtype=" + dtype_name)
        tensor_str = "..."
    elif arr.size == 0:
        # Match numpy: the shape is shown unless it is (0,).
        if arr.ndim != 1:
            suffixes.append("size=" + str(tuple(arr.shape)))
        # An empty tensor has no elements to hint at its dtype, so anything but the default is shown.
        if dtype_name != default_name:
            suffixes.append("dtype=" + dtype_name)
        tensor_str = "[]"
    else:
        if not PRINT_OPTS.edgeitems:
            suffixes.append("size=" + str(tuple(arr.shape)))
        if not has_default_dtype:
            suffixes.append("dtype=" + dtype_name)
        tensor_str = _tensor_str(arr, indent)

    grad_fn = t.grad_fn
    requires_grad = t.requires_grad
    tangent = None
    fwd = FORWARD_AD[0]
    if fwd is not None and requires_grad:  # (a dual tensor: its tangent, and no graph where torch shows none)
        requires_grad, tangent = fwd(t)
        if not requires_grad:
            grad_fn = None
    if grad_fn is not None:
        suffixes.append(f"grad_fn=<{grad_fn.name().rsplit('::', 1)[-1]}>")
    elif requires_grad:
        suffixes.append("requires_grad=True")
    if tangent is not None:
        suffixes.append(f"tangent={tangent}")

    return _add_suffixes(prefix + tensor_str, suffixes, indent, force_newline=False)


def format_size(shape: tuple[int, ...]) -> str:
    """repr of torch.Size: 'torch.Size([2, 3])'."""
    return "torch.Size([" + ", ".join(str(int(s)) for s in shape) + "])"


def format_sparse(t: Any) -> str:
    """torch's repr of a sparse COO tensor (engine/sparse_tensor.py): its indices and values, then size, nnz, dtype,
    layout and the autograd suffix, the first suffix on a line of its own."""
    prefix = "tensor("
    indent = len(prefix)
    suffixes = []
    device = t.device
    if device.type != "cpu":
        suffixes.append("device='" + str(device) + "'")
    dtype_name = str(t.dtype)
    default_name = _default_dtype_name()
    default_complex = "torch.complex128" if default_name == "torch.float64" else "torch.complex64"
    suffixes.append("size=" + str(tuple(t.shape)))
    suffixes.append("nnz=" + str(t._nnz()))
    if dtype_name not in (default_name, default_complex, "torch.int64", "torch.bool"):
        suffixes.append("dtype=" + dtype_name)
    parts = []
    for name, arr in (("indices", np.asarray(t._ind)), ("values", np.asarray(t._vals._host()))):
        part_prefix = name + "=tensor("
        s = _tensor_str(arr, indent + len(part_prefix))
        if arr.size == 0:
            s += ", size=" + str(tuple(arr.shape))
        parts.append(part_prefix + s)
    tensor_str = parts[0] + "),\n" + " " * indent + parts[1] + ")"
    suffixes.append("layout=torch.sparse_coo")
    if t.grad_fn is not None:
        suffixes.append(f"grad_fn=<{t.grad_fn.name().rsplit('::', 1)[-1]}>")
    elif t.requires_grad:
        suffixes.append("requires_grad=True")
    return _add_suffixes(prefix + tensor_str, suffixes, indent, force_newline=True)
