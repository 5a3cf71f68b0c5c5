"""Which of its kernel builds torch's cpu dispatch picks on this machine (ATen's DispatchStub), so that code
emulating a vectorized kernel uses the vector width and the FMA contraction torch's build has here.

torch compiles its cpu kernels three times: DEFAULT (no FMA instructions), AVX2 (32-byte vectors, FMA) and
AVX512 (64-byte vectors, FMA), and picks one at startup: the ATEN_CPU_CAPABILITY environment variable when it
names one of them, else AVX512 when the cpu has avx512vl, avx512bw, avx512dq and fma, else AVX2 when it has
avx2 and fma, else DEFAULT. Vectorized<T> is 64 bytes wide in the AVX512 build and 32 in the other two.

A kernel registered without an AVX512 variant (REGISTER_DISPATCH rather than ALSO_REGISTER_AVX512_DISPATCH:
the batch, layer and group norm kernels among them; their DispatchStub's AVX512 slot is left empty) runs its
AVX2 build on an AVX512 machine: `kernel_build(False)`.
"""

from __future__ import annotations

import os

_NAMES = ("default", "avx2", "avx512")
_FOUND: list = []  # the machine's capability, found on first use
_FORCED: list = []  # set_cpu_capability's override (tests emulate the other build with it)
_MKL_ORDER: list = []  # mkl_order_known's answer, found on first use


def _cpu_flags() -> set:
    """The cpu's feature flags: /proc/cpuinfo's, else numpy's dispatch probe."""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("flags"):
                    return set(line.partition(":")[2].split())
    except OSError:
        pass
    try:
        from numpy._core._multiarray_umath import __cpu_features__ as feats
    except ImportError:  # (numpy 1.x)
        try:
            from numpy.core._multiarray_umath import __cpu_features__ as feats
        except ImportError:
            return set()
    names = {"AVX512VL": "avx512vl", "AVX512BW": "avx512bw", "AVX512DQ": "avx512dq", "FMA3": "fma", "AVX2": "avx2"}
    return {flag for key, flag in names.items() if feats.get(key)}


def _cpu_vendor() -> str:
    """/proc/cpuinfo's vendor_id ('AuthenticAMD', 'GenuineIntel'), or '' where it cannot be read."""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("vendor_id"):
                    return line.partition(":")[2].strip()
    except OSError:
        pass
    return ""


def mkl_order_known() -> bool:
    """Whether torch's MKL here sums matrix products in the order engine/ops/gemm_order.py emulates: derived
    on an AMD cpu with AVX2 and FMA (MKL runs its AVX2 kernels there, also when told MKL_ENABLE_INSTRUCTIONS=
    AVX2); an Intel cpu may get MKL's AVX-512 kernels, whose order nobody here has probed."""
    if not _MKL_ORDER:
        _MKL_ORDER.append(_cpu_vendor() == "AuthenticAMD" and {"avx2", "fma"} <= _cpu_flags())
    return _MKL_ORDER[0]


def _compute() -> str:
    env = os.environ.get("ATEN_CPU_CAPABILITY")
    if env in _NAMES:  # (torch warns about and ignores any other value)
        return env
    flags = _cpu_flags()
    if {"avx512vl", "avx512bw", "avx512dq", "fma"} <= flags:
        return "avx512"
    if {"avx2", "fma"} <= flags:
        return "avx2"
    return "default"


def cpu_capability() -> str:
    """'avx512', 'avx2' or 'default': the kernel build torch runs here."""
    if _FORCED:
        return _FORCED[0]
    if not _FOUND:
        _FOUND.append(_compute())
    return _FOUND[0]


def set_cpu_capability(name: str | None) -> None:
    """Emulate another build ('avx512', 'avx2', 'default'), or the machine's again (None)."""
    if name is not None and name not in _NAMES:
        raise ValueError(f"unknown cpu capability {name!r}")
    _FORCED.clear()
    if name is not None:
        _FORCED.append(name)


def kernel_build(avx512_kernel: bool) -> str:
    """The build of a kernel that torch runs here: AVX512 falls back to AVX2 for a kernel without an AVX512
    variant."""
    cap = cpu_capability()
    return "avx2" if cap == "avx512" and not avx512_kernel else cap


def vector_bytes(build: str) -> int:
    """The width of torch's Vectorized<T> in a build, in bytes."""
    return 64 if build == "avx512" else 32


def has_fma(build: str) -> bool:
    """Whether a build contracts a * b + c into one rounding (GCC does in the FMA-enabled builds)."""
    return build != "default"
