"""torch dtypes as engine objects: names as torch prints them, numpy counterparts, promotion rules."""

from __future__ import annotations

from typing import Any

import numpy as np

from engine.bf16 import BF16_NP
from engine.naming import TorchNamed

# Categories order torch's type promotion: a higher category always wins over a lower one.
BOOL, INT, FLOAT, COMPLEX = 0, 1, 2, 3


_SEALED = False


class dtype(metaclass=TorchNamed):  # noqa: N801 - torch's spelling
    _torch_name = "torch.dtype"
    _c_type = True
    __slots__ = ("name", "np", "cat", "itemsize", "is_floating_point", "is_signed", "legacy")

    def __new__(cls, *args: Any, **kwargs: Any) -> dtype:
        if _SEALED:  # (torch's dtypes are its fixed set: a made one could name any numpy dtype, objects too)
            raise TypeError("cannot create 'torch.dtype' instances")
        return super().__new__(cls)

    def __init__(self, name: str, np_dtype: type, cat: int, legacy: str) -> None:
        self.name = name
        self.np = np.dtype(np_dtype)
        self.cat = cat
        self.itemsize = 2 if np_dtype is BF16_NP else self.np.itemsize  # (bfloat16 is stored as float32)
        self.is_floating_point = cat == FLOAT
        self.is_signed = name not in ("bool", "uint8", "uint16", "uint32", "uint64")
        self.legacy = legacy  # 'FloatTensor': used in torch's version-counter error text

    @property
    def is_complex(self) -> bool:
        return self.cat == COMPLEX

    def to_real(self) -> dtype:
        return _TO_REAL.get(self, self)

    def to_complex(self) -> dtype:
        """complex64 for float32 (and float16), complex128 for float64: torch's toComplexType."""
        return self if self.cat == COMPLEX else (complex128 if self is float64 else complex64)

    def __repr__(self) -> str:
        return "torch." + self.name

    def name_for_error(self) -> str:
        return _C_NAMES.get(self.name, self.name)

    def scalar_name(self) -> str:
        """torch's ScalarType name as its kernel errors print it: Float, Long, Bool..."""
        return self.legacy[: -len("Tensor")]  # ByteTensor -> Byte, LongTensor -> Long, HalfTensor -> Half

    def __reduce__(self) -> str:
        return self.name


bool_ = dtype("bool", np.bool_, BOOL, "BoolTensor")
uint8 = dtype("uint8", np.uint8, INT, "ByteTensor")
int8 = dtype("int8", np.int8, INT, "CharTensor")
int16 = dtype("int16", np.int16, INT, "ShortTensor")
int32 = dtype("int32", np.int32, INT, "IntTensor")
int64 = dtype("int64", np.int64, INT, "LongTensor")
float16 = dtype("float16", np.float16, FLOAT, "HalfTensor")
float32 = dtype("float32", np.float32, FLOAT, "FloatTensor")
float64 = dtype("float64", np.float64, FLOAT, "DoubleTensor")
bfloat16 = dtype("bfloat16", BF16_NP, FLOAT, "BFloat16Tensor")
complex64 = dtype("complex64", np.complex64, COMPLEX, "ComplexFloatTensor")
complex128 = dtype("complex128", np.complex128, COMPLEX, "ComplexDoubleTensor")
# torch's 'shell' unsigned types: made, stored, printed and converted, but few kernels take them (see UINTS)
uint16 = dtype("uint16", np.uint16, INT, "UInt16Tensor")
uint32 = dtype("uint32", np.uint32, INT, "UInt32Tensor")
uint64 = dtype("uint64", np.uint64, INT, "UInt64Tensor")
_TO_REAL = {complex64: float32, complex128: float64}
_SEALED = True

_C_NAMES = {
    "float32": "float",
    "float64": "double",
    "float16": "c10::Half",
    "bfloat16": "c10::BFloat16",
    "int64": "long int",
    "int32": "int",
    "int16": "short int",
    "int8": "signed char",
    "uint8": "unsigned char",
    "uint16": "unsigned short",
    "uint32": "unsigned int",
    "uint64": "unsigned long",
    "complex64": "c10::complex<float>",
    "complex128": "c10::complex<double>",
}

ALL = (
    bool_,
    uint8,
    int8,
    int16,
    int32,
    int64,
    float16,
    float32,
    float64,
    complex64,
    complex128,
    uint16,
    uint32,
    uint64,
)
#: the shell unsigned types, and their numpy dtypes (the ops that torch has no kernel of theirs for refuse these)
UINTS = frozenset({uint16, uint32, uint64})
UINTS_NP = frozenset(d.np for d in UINTS)
# numpy dtype -> engine dtype; keyed by np.dtype objects, which hash and compare fast. (bfloat16 is not in it:
# its numpy dtype equals float32's, so only its array's type tells it apart; see dtype_of.)
FROM_NP: dict = {d.np: d for d in ALL}
ALL_TYPES = (*ALL, bfloat16)
ALIASES = {
    "bool": bool_, "uint8": uint8, "int8": int8, "int16": int16, "short": int16, "int32": int32,
    "int": int32, "int64": int64, "long": int64, "float16": float16, "half": float16,
    "float32": float32, "float": float32, "float64": float64, "double": float64,
    "complex64": complex64, "cfloat": complex64, "complex128": complex128, "cdouble": complex128,
    "uint16": uint16, "uint32": uint32, "uint64": uint64,
}  # fmt: skip


class _Promotions(dict):
    """A promotion table; a pair it lacks is one of torch's shell unsigned types with an integer or bool type,
    which torch refuses to promote."""

    def __missing__(self, key: tuple) -> Any:
        a, b = key
        if isinstance(a, np.dtype):
            a, b = FROM_NP[a], FROM_NP[b]
        raise RuntimeError(
            "Promotion for uint16, uint32, uint64 types is not supported, attempted to promote "
            f"{a.scalar_name()} and {b.scalar_name()}"
        )


def _promotable(a: dtype, b: dtype) -> bool:
    return a is b or not (a in UINTS or b in UINTS) or a.cat >= FLOAT or b.cat >= FLOAT


def _promote(a: dtype, b: dtype) -> dtype:
    if a is b:
        return a
    if a in UINTS or b in UINTS:  # (with a floating or complex type: that type)
        return b if a in UINTS else a
    if a is bfloat16 or b is bfloat16:
        other = b if a is bfloat16 else a
        if other.cat < FLOAT:
            return bfloat16
        # (with float16 neither holds the other: float32, as torch)
        return float32 if other is float16 else other
    if a.cat != b.cat and not (a.cat >= FLOAT and b.cat >= FLOAT):
        return a if a.cat > b.cat else b
    # (float with complex: numpy's rule is torch's, float64 + complex64 -> complex128)
    return FROM_NP[np.promote_types(a.np, b.np)]


PROMOTE: dict = _Promotions({(a, b): _promote(a, b) for a in ALL_TYPES for b in ALL_TYPES if _promotable(a, b)})
# The same table keyed by numpy dtypes, for hot paths that hold arrays rather than tensors.
PROMOTE_NP: dict = _Promotions({(a.np, b.np): PROMOTE[a, b].np for a in ALL for b in ALL if _promotable(a, b)})


def no_uint_kernel(kernel: str, np_dtype: Any) -> None:
    """torch's refusal where a kernel has no case for its shell unsigned types (uint16, uint32, uint64)."""
    if np_dtype in UINTS_NP:
        raise NotImplementedError(f"\"{kernel}\" not implemented for '{FROM_NP[np_dtype].scalar_name()}'")


def promote_types(a: dtype, b: dtype) -> dtype:
    return PROMOTE[a, b]


class _Defaults:
    __slots__ = ("float",)

    def __init__(self) -> None:
        self.float = float32


DEFAULT = _Defaults()


def get_default_dtype() -> dtype:
    return DEFAULT.float


def set_default_dtype(d: dtype) -> None:
    if not isinstance(d, dtype) or not d.is_floating_point:
        raise TypeError("only floating-point types are supported as the default type")
    DEFAULT.float = d


def from_np(dt: np.dtype) -> dtype:
    """The engine dtype of a numpy dtype, bfloat16's tagged float32 included."""
    return bfloat16 if dt.metadata is not None else FROM_NP[dt]


def dtype_of(a: object) -> dtype:
    """The engine dtype of an array: its numpy dtype's, or bfloat16 for a tagged float32 array."""
    d = FROM_NP[a.dtype]
    if d is float32 and a.dtype.metadata is not None:
        return bfloat16
    return d


def to_dtype(d: object) -> dtype:
    """Accept an engine dtype, a numpy dtype/type, or a Python type, as torch's dtype= arguments do."""
    if isinstance(d, dtype):
        return d
    if d is float:
        return float64  # (torch: dtype=float is double, whatever the default dtype)
    if d is int:
        return int64
    if d is bool:
        return bool_
    if d is complex:
        return complex128  # (torch: dtype=complex is cdouble, whatever the default dtype)
    if isinstance(d, str) and d in ALIASES:
        return ALIASES[d]
    try:
        return FROM_NP[np.dtype(d)]
    except (TypeError, KeyError):
        raise TypeError(f"dtype must be a torch.dtype, got {d!r}") from None


def scalar_dtype(v: object) -> dtype:
    """The dtype torch gives a Python number when it takes part in an op as a 'wrapped number'."""
    if isinstance(v, bool):
        return bool_
    if isinstance(v, int):
        return int64
    if isinstance(v, complex):
        return default_complex()
    return DEFAULT.float


def default_complex() -> dtype:
    """The complex dtype that follows the default float dtype (torch.get_default_dtype's complex twin)."""
    return complex128 if DEFAULT.float is float64 else complex64


def result_type(dim: dtype | None, zero: dtype | None, wrapped: dtype | None) -> dtype:
    """torch's result_type: dimensioned tensors first, then 0-dim tensors, then Python scalars;
    a lower group only matters when it is of a higher category (c10 combine_categories)."""
    lower = _combine(zero, wrapped)
    return _combine(dim, lower)


def _combine(higher: dtype | None, lower: dtype | None) -> dtype | None:
    if higher is None:
        return lower
    if lower is None or higher.cat == COMPLEX:
        return higher
    if lower.cat == COMPLEX:
        # a float keeps its precision and becomes complex; an integer or bool takes the complex type
        return higher.to_complex() if higher.cat == FLOAT else lower
    if higher.cat == FLOAT:
        return higher
    if higher is bool_ or lower.cat == FLOAT:
        return PROMOTE[higher, lower]
    return higher
