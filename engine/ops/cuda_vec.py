"""Elementwise kernels over dense arrays with 16-byte loads: the bandwidth path for large fused ops on a GPU.

cupy's ElementwiseKernel handles any strides and broadcasting, so every element goes through an indexer and a
4- or 8-byte load. When every operand is one dense, aligned block of the result's shape (the common case: a
fused chain or addcmul over whole tensors), each thread here loads float4/double2 vectors instead, as PyTorch's
vectorized kernels do, and memory moves close to the card's bandwidth. The per-element expression is the
caller's, unchanged (each lane computes it on its own element), so the numbers are the ElementwiseKernel's bit
for bit. Anything else (broadcasting, views with other strides, float16, an emulated cupy without RawKernel)
returns None and the caller runs its ElementwiseKernel.

Kernel text comes only from the callers' fixed op tables and generated names (in0, c0, ...), never from a
script.
"""

from __future__ import annotations

from typing import Any

import numpy as np

ERRORS: list = []  # (kernel, error) for kernels that could not be built or run; their callers fall back
ENABLED = [True]  # (scripts/gpu_fused_check.py times both paths by switching this)
_BLOCK = 256
_TYPES = {np.dtype(np.float32): ("float", "float4", 4), np.dtype(np.float64): ("double", "double2", 2)}
_KERNELS: dict = {}
_FAILED: set = set()
_RAW: list = []  # [cupy.RawKernel or None], looked up once


def unroll(nin: int) -> int:
    """Vectors per thread: more loads in flight where each element reads few bytes (PyTorch's kernels raise
    their elements per thread for narrow ops alike); one input needs the most."""
    return 4 if nin == 1 else 2 if nin == 2 else 1


def source(body: str, ctype: str, vtype: str, lanes: int, nin: int, nconst: int, preamble: str = "") -> str:
    """The CUDA C of a kernel computing `body` (an expression over in0.., c0..) for every element. Block b's
    thread t handles vectors b*blockDim*U + t + u*blockDim (u < U: coalesced, all loads issued before any
    compute), and the first threads of the grid the last n % lanes elements."""
    u_count = unroll(nin)
    args = [f"in{i}" for i in range(nin)] + [f"c{j}" for j in range(nconst)]
    fparams = ", ".join(f"const {ctype} {a}" for a in args)
    kparams = ", ".join(
        [f"const {vtype}* __restrict__ v{i}" for i in range(nin)]
        + [f"{vtype}* __restrict__ vout"]
        + [f"const {ctype} c{j}" for j in range(nconst)]
        + ["const long long nvec", "const long long n"]
    )
    decls = "\n".join(f"    {vtype} a{i}[{u_count}];" for i in range(nin))
    loads = " ".join(f"a{i}[u] = v{i}[j];" for i in range(nin))
    consts = "".join(f", c{j}" for j in range(nconst))
    lanes_code = " ".join(
        f"r.{ln} = tcli_elem({', '.join(f'a{i}[u].{ln}' for i in range(nin))}{consts});" for ln in "xyzw"[:lanes]
    )
    tail_args = ", ".join(f"((const {ctype}*)v{i})[t]" for i in range(nin))
    return f"""{preamble}
__device__ __forceinline__ {ctype} tcli_elem({fparams}) {{ return {body}; }}
extern "C" __global__ void tcli_vec({kparams}) {{
    const long long base = (long long)blockIdx.x * blockDim.x * {u_count} + threadIdx.x;
{decls}
    #pragma unroll
    for (int u = 0; u < {u_count}; ++u) {{
        const long long j = base + (long long)u * blockDim.x;
        if (j < nvec) {{ {loads} }}
    }}
    #pragma unroll
    for (int u = 0; u < {u_count}; ++u) {{
        const long long j = base + (long long)u * blockDim.x;
        if (j < nvec) {{ {vtype} r; {lanes_code} vout[j] = r; }}
    }}
    const long long t = nvec * {lanes} + (long long)blockIdx.x * blockDim.x + threadIdx.x;  // the tail
    if (t < n) {{
        (({ctype}*)vout)[t] = tcli_elem({tail_args}{consts});
    }}
}}
"""


def grid(n: int, lanes: int, nin: int) -> int:
    """Blocks of _BLOCK threads covering n elements: nvec vectors U to a thread, and the tail."""
    nvec = n // lanes
    per_block = _BLOCK * unroll(nin)
    return max((nvec + per_block - 1) // per_block, 1 if n > nvec * lanes else 0)


def _raw() -> Any:
    if not _RAW:
        import cupy

        _RAW.append(getattr(cupy, "RawKernel", None))
    return _RAW[0]


def run(body: str, ins: list, consts: tuple, dtype: Any, shape: tuple, preamble: str = "") -> Any:
    """`body` over arrays `ins` (each of `shape`, C-contiguous, 16-byte aligned) into a new array, or None when
    this path does not apply or its kernel failed (the caller then runs its own)."""
    spec = _TYPES.get(dtype)
    if spec is None or not ENABLED[0]:
        return None
    for a in ins:
        if a.shape != shape or a.dtype != dtype or not a.flags.c_contiguous or a.data.ptr % 16:
            return None
    key = (body, spec[0], len(ins), len(consts), preamble)
    if key in _FAILED:
        return None
    raw = _raw()
    if raw is None:  # an emulated cupy
        return None
    import cupy

    ctype, vtype, lanes = spec
    try:
        k = _KERNELS.get(key)
        if k is None:
            k = _KERNELS[key] = raw(source(body, ctype, vtype, lanes, len(ins), len(consts), preamble), "tcli_vec")
        out = cupy.empty(shape, dtype=dtype)
        n = out.size
        if n == 0:
            return out
        blocks = grid(n, lanes, len(ins))
        k((blocks,), (_BLOCK,), (*ins, out, *(dtype.type(c) for c in consts), np.int64(n // lanes), np.int64(n)))
        return out
    except Exception as err:  # noqa: BLE001 - any build or launch failure: the caller's kernel runs instead
        if type(err).__name__ == "OutOfMemoryError":
            raise
        _FAILED.add(key)
        _KERNELS.pop(key, None)
        ERRORS.append((f"{body} [{ctype}]", f"{type(err).__name__}: {err}"))
        return None
