#!/usr/bin/env python3
"""Compile every CUDA kernel the engine writes with NVRTC, without a GPU.

The engine generates cupy ElementwiseKernels (engine/ops/fusion.py for user chains, engine/ops/cuda_kernels.py
for sigmoid/addcmul/addcdiv). The cupy emulator the tests use runs their C *expression* in numpy, but never the
preamble nor the kernel as CUDA C, so only NVRTC can say that the source compiles. NVRTC needs no GPU and no
driver, so this runs anywhere `pip install 'cupy-cuda13x[ctk]'` does:

    python -m venv /tmp/nv && /tmp/nv/bin/pip install numpy 'cupy-cuda13x[ctk]'
    /tmp/nv/bin/python scripts/nvrtc_check.py

It drives the engine through every fusable op, each dtype and both operand orders on the emulator, records each
kernel the engine asks cupy to build, writes it out as cupy 14's ElementwiseKernel source (its template:
`#include <cupy/carray.cuh>`, the preamble, one `CUPY_FOR` loop binding each argument) and compiles it to PTX.
For a kernel made only of + - * / it also checks the PTX has no fused multiply-add: the fused chain must round
each op as the ops one by one do. Exit status 0 when every kernel compiles and keeps its roundings.
"""

from __future__ import annotations

import ctypes
import glob
import importlib.util
import os
import re
import sys

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ARCHS = ("compute_80", "compute_90")  # A100 and H100/H200, the GPUs the device tool lends


def _find(pattern: str, what: str) -> str:
    for base in sys.path:
        hits = sorted(glob.glob(os.path.join(base, pattern)))
        if hits:
            return hits[-1]
    raise SystemExit(f"nvrtc_check: {what} not found; install it with `pip install 'cupy-cuda13x[ctk]'`")


class NVRTC:
    """The four NVRTC calls this needs, through ctypes (cupy itself would ask the driver for the device)."""

    def __init__(self) -> None:
        self.lib = ctypes.CDLL(os.environ.get("NVRTC_LIB") or _find("nvidia/cu1*/lib/libnvrtc.so*", "libnvrtc"))
        spec = importlib.util.find_spec("cupy")
        if spec is None or spec.origin is None:
            raise SystemExit("nvrtc_check: cupy's headers not found; `pip install 'cupy-cuda13x[ctk]'`")
        inc = os.path.join(os.path.dirname(spec.origin), "_core", "include")
        cuda_inc = os.path.dirname(_find("nvidia/cu1*/include/cuda_fp16.h", "the CUDA headers"))
        self.includes = [inc, *(os.path.join(inc, "cupy", "_cccl", d) for d in ("cub", "thrust", "libcudacxx"))]
        self.includes.append(cuda_inc)

    def ptx(self, source: str, arch: str) -> tuple[str | None, str]:
        """(PTX, "") or (None, the compiler's log)."""
        prog = ctypes.c_void_p()
        self._ok(self.lib.nvrtcCreateProgram(ctypes.byref(prog), source.encode(), b"k.cu", 0, None, None))
        opts = [f"-I{d}".encode() for d in self.includes] + [b"--std=c++17", f"-arch={arch}".encode()]
        try:
            rc = self.lib.nvrtcCompileProgram(prog, len(opts), (ctypes.c_char_p * len(opts))(*opts))
            if rc != 0:
                size = ctypes.c_size_t()
                self.lib.nvrtcGetProgramLogSize(prog, ctypes.byref(size))
                log = ctypes.create_string_buffer(size.value)
                self.lib.nvrtcGetProgramLog(prog, log)
                return None, log.value.decode(errors="replace")
            size = ctypes.c_size_t()
            self._ok(self.lib.nvrtcGetPTXSize(prog, ctypes.byref(size)))
            buf = ctypes.create_string_buffer(size.value)
            self._ok(self.lib.nvrtcGetPTX(prog, buf))
            return buf.value.decode(), ""
        finally:
            self.lib.nvrtcDestroyProgram(ctypes.byref(prog))

    @staticmethod
    def _ok(rc: int) -> None:
        if rc != 0:
            raise RuntimeError(f"NVRTC call failed with status {rc}")


def cupy_source(ins: str, outs: str, operation: str, name: str, preamble: str, ndim: int, contiguous: bool) -> str:
    """The CUDA C cupy 14.2 compiles for ElementwiseKernel(ins, outs, operation, name, preamble=...) on arrays
    of `ndim` dims (cupy/_core/_kernel.pyx: _get_elementwise_kernel_code)."""
    import numpy as np
    from cupy._core._scalar import format_type_decls, get_typename  # the real cupy's: imports without a GPU

    params, binds, decls = [], [], set()
    for decl, const in [(p, True) for p in ins.split(",")] + [(p, False) for p in outs.split(",")]:
        dt, var = decl.split()
        ct = get_typename(np.dtype(dt), decls)
        if var.startswith("c") and var[1:].isdigit() or (const and var == "v"):  # the scalars we pass
            params.append(f"const {ct} {var}")
            continue
        c = int(contiguous)
        params.append(f"{'const ' if const else ''}CArray<{ct}, {ndim}, {c}, 1> _raw_{var}")
        binds.append(f"{'const ' if const else ''}{ct} &{var} = _raw_{var}[_ind.get()];")
    params.append(f"CIndexer<{ndim}, 1> _ind")
    body = "\n        ".join([*binds, operation])
    return f"""#include <cupy/complex.cuh>
#include <cupy/carray.cuh>
{format_type_decls(decls)}
{preamble}
extern "C" __global__ void {name}({", ".join(params)}) {{
    ;
    #pragma unroll 1
    CUPY_FOR(i, _ind.size()) {{
        _ind.set(i);
        {body};
    }}
    ;
}}
"""


def record_kernels() -> list:
    """Every (ins, outs, operation, name, preamble) the engine builds while running each fusable op."""
    sys.path[:0] = [ROOT, os.path.join(ROOT, "tests")]
    os.environ["TCLI_FUSE_MIN_NUMEL"] = "0"
    import fakecupy

    fakecupy.install()
    made: list = []
    real = fakecupy.ElementwiseKernel.__init__

    def spy(self, in_params, out_params, operation, name="kernel", **kw):  # noqa: ANN001, ANN202
        made.append((in_params, out_params, operation, name, kw.get("preamble", "")))
        real(self, in_params, out_params, operation, name, **kw)

    fakecupy.ElementwiseKernel.__init__ = spy
    import engine

    for dt in (engine.float32, engine.float64):
        x, y, z = (engine.rand(4, 3, dtype=dt, device="cuda") + 0.5 for _ in range(3))
        chains = [
            x + y, x - y, x * y, x / y, x**y, -x, x.exp(), x.log(), x.sqrt(), x.tanh(), x.sin(), x.cos(),
            x.sigmoid(), x.reciprocal(), x + 2, 2 + x, x - 2, 2 - x, x * 2, 2 * x, x / 2, 2 / x, x**2, 2**x,
            x ** 0.5, (x * y + z).exp(), (2 * ((x * y + z).exp() * 0.5).sigmoid() - 1).tanh(),
            1 - 2 / (3 + x) - y**2 + z**0.5, 3 / x + (y + 1).log() * z.sin() - x.cos(),
            x * y + z, x * y - z * x,
        ]  # fmt: skip
        for c in chains:
            c.cpu()
    for dt in (engine.float16, engine.float32, engine.float64):
        a, b, c = (engine.rand(4, 3, dtype=dt, device="cuda") + 0.5 for _ in range(3))
        for r in (engine.sigmoid(a), engine.addcmul(a, b, c, value=0.5), engine.addcdiv(a, b, c, value=0.5)):
            r.cpu()
    from engine.ops import cuda_kernels, fusion

    if fusion.ERRORS or cuda_kernels.ERRORS:
        raise SystemExit(f"nvrtc_check: the emulator rejected kernels: {fusion.ERRORS + cuda_kernels.ERRORS}")
    return made


def _rounding_only(expr: str) -> bool:
    """Whether an expression is made of + - * only (as round-to-nearest intrinsics): its PTX must hold no fma."""
    calls = set(re.findall(r"(\w+)\(", expr))
    return bool(calls) and calls <= {"tcli_add", "tcli_sub", "tcli_mul"}


def _check(nv: NVRTC, src: str, expr: str, label: str, vectors: bool = False) -> int:
    """Compile src for every arch; 1 for each arch where it fails to compile, contracts + - * into an fma, or
    (vectors) loads no 16-byte vectors. Prints each failure."""
    bad = 0
    for arch in ARCHS:
        ptx, log = nv.ptx(src, arch)
        if ptx is None:
            print(f"FAIL {label} {arch}: {expr}\n{log}\n--- source ---\n{src}")
        elif _rounding_only(expr) and re.search(r"\bfma\.", ptx):
            print(f"FAIL {label}: {expr} compiled to a fused multiply-add ({arch}), so it rounds once where the "
                  "ops one by one round twice")  # fmt: skip
        elif vectors and not re.search(r"ld\.global\.nc\.v[24]\.|ld\.global\.v[24]\.", ptx):
            print(f"FAIL {label}: {expr} loads no vectors ({arch})")
        else:
            continue
        bad += 1
    return bad


def main() -> int:
    nv = NVRTC()
    cupy_source("float32 x", "float32 y", "y = x", "warm", "", 1, True)  # import the real cupy before the emulator
    kernels = record_kernels()
    bad = 0
    for ins, outs, op, name, pre in kernels:
        for ndim, contiguous in ((1, True), (2, False)):
            src = cupy_source(ins, outs, op, name, pre, ndim, contiguous)
            bad += _check(nv, src, op, f"{name} [{ins}] ndim={ndim}")
    # the same expressions as dense 16-byte-load kernels (engine/ops/cuda_vec.py), which the emulator never builds
    from engine.ops import cuda_kernels, cuda_vec, fusion

    vec = []
    for ins, _outs, op, name, _pre in kernels:
        if name.startswith("tcli_fused_"):
            names = [p.split() for p in ins.split(",")]
            nin = sum(v.startswith("in") for _, v in names)
            vec.append((op.removeprefix("out0 = "), np.dtype(names[0][0]), nin, len(names) - nin, fusion._PREAMBLE))
    for (_name, dt), body in cuda_kernels._VEC.items():
        vec.append((body, np.dtype(dt), 1 if _name == "sigmoid" else 3, 0 if _name == "sigmoid" else 1, ""))
    for body, dt, nin, nconst, pre in vec:
        ctype, vtype, lanes = cuda_vec._TYPES[dt]
        src = cuda_vec.source(body, ctype, vtype, lanes, nin, nconst, pre)
        bad += _check(nv, src, body, f"dense kernel [{ctype}]", vectors=True)
    print(f"nvrtc_check: {len(kernels)} kernels x 2 layouts x {len(ARCHS)} archs, {len(vec)} dense kernels, "
          f"{bad} failures")  # fmt: skip
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
