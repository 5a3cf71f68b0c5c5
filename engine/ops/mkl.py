"""torch's own cpu matrix products and VML functions, bit for bit, through the Intel oneMKL that torch links.

PyTorch 2.13's cpu build links oneMKL 2024.2 statically: its float32/float64 matrix products are MKL's
?gemm/?gemv, and exp, log, sin and the other functions in VML_FUNCTIONS are MKL's VML in high-accuracy mode.
The `mkl==2024.2.0` wheel (the `exact` extra) ships the same library as libmkl_rt.so.2; called with the
arguments torch passes (its layout choices are replicated below), it returns torch's bits, where numpy's
OpenBLAS adds products in another order and numpy's SIMD math rounds differently in the last bit.

Loaded on first use, not at import. TCLI_MKL=0 turns it off; another MKL version (whose kernels may round
differently) is not used. MKL runs sequentially, which is torch's arithmetic with torch.set_num_threads(1); at
torch's default thread count torch's MKL splits products big enough to share out (seen from 11x230x219 in
float32, at similar sizes in float64) and their sums can differ in the last bits. MKL's GNU OpenMP layer on torch's
thread count matched torch there, but its thread start-up made a small MLP's training step 3-4x slower on a
2-core machine, and told one thread its sums differ from the sequential library's even on small products.
"""

from __future__ import annotations

import ctypes
import os
import sys
from typing import Any

import numpy as np

_SEQUENTIAL = 1  # MKL_THREADING_SEQUENTIAL
_ROW_MAJOR, _COL_MAJOR, _N, _T = 101, 102, 111, 112  # CBLAS_LAYOUT / CBLAS_TRANSPOSE values
_VML_MODE = 0x2 | 0x140000 | 0x100  # VML_HA | VML_FTZDAZ_OFF | VML_ERRMODE_IGNORE: torch's vml.h
# torch name -> VML name; each checked bit for bit against torch on float32 and float64, edge values included
# (sinh, cosh, asinh, acosh, atanh, rsqrt, expm1, log1p, exp2 and lgamma differ: torch does not use VML for them)
VML_FUNCTIONS = {
    "exp": "Exp",
    "log": "Ln",
    "log2": "Log2",
    "log10": "Log10",
    "sqrt": "Sqrt",
    "sin": "Sin",
    "cos": "Cos",
    "tan": "Tan",
    "tanh": "Tanh",
    "asin": "Asin",
    "acos": "Acos",
    "atan": "Atan",
    "erf": "Erf",
    "erfc": "Erfc",
    "erfinv": "ErfInv",
}
_F32, _F64 = np.dtype(np.float32), np.dtype(np.float64)
_STATE: list = []  # [the loaded library or None], found on first use
_FNS: dict = {}  # (name, dtype) -> ctypes function with its prototype


def _library_path() -> str:
    return os.path.join(sys.prefix, "lib", "libmkl_rt.so.2")


def _load() -> Any:
    if os.environ.get("TCLI_MKL", "1") == "0":
        return None
    try:
        lib = ctypes.CDLL(_library_path())
    except OSError:
        return None
    # (before any other call, the version query included: MKL's default layer is Intel's OpenMP, whose
    # libiomp5 the wheel leaves to the intel-openmp package)
    lib.MKL_Set_Threading_Layer(ctypes.c_int(_SEQUENTIAL))
    buf = ctypes.create_string_buffer(256)
    lib.mkl_get_version_string(buf, ctypes.c_int(len(buf)))
    if b"Version 2024.2" not in buf.value:
        return None
    lib.MKL_Get_Max_Threads.restype = ctypes.c_int
    return lib


def _blas(name: str, dt: Any, *args: Any) -> Any:
    return _fn(name, dt)(*args)


def lib() -> Any:
    """The loaded libmkl_rt, or None where MKL 2024.2 is not installed or TCLI_MKL=0."""
    if not _STATE:
        _STATE.append(_load())
    return _STATE[0]


def available() -> bool:
    return lib() is not None


_I, _P = ctypes.c_int, ctypes.c_void_p


def _fn(name: str, dt: Any) -> Any:
    key = (name, dt)
    f = _FNS.get(key)
    if f is None:
        real = ctypes.c_float if dt is _F32 else ctypes.c_double
        p = "s" if dt is _F32 else "d"
        if name == "gemm":
            sig = [_I] * 6 + [real, _P, _I, _P, _I, real, _P, _I]
        elif name == "gemv":
            sig = [_I, _I, _I, _I, real, _P, _I, _P, _I, real, _P, _I]
        elif name == "dot":
            sig = [_I, _P, _I, _P, _I]
        elif name == "gemm_batch":
            ip, rp = ctypes.POINTER(_I), ctypes.POINTER(real)
            sig = [_I, ip, ip, ip, ip, ip, rp, _P, ip, _P, ip, rp, _P, ip, _I, ip]
        else:
            sig = [ctypes.c_longlong, _P, _P, ctypes.c_longlong]
        cname = f"cblas_{p}{name}" if name in ("gemm", "gemv", "dot", "gemm_batch") else f"vm{p}{VML_FUNCTIONS[name]}"
        f = ctypes.CFUNCTYPE(real if name == "dot" else None, *sig)((cname, lib()))
        _FNS[key] = f
    return f


def _operand(x: Any, rows: int, cols: int, transpose_c: bool) -> tuple:
    """torch's addmm_impl_cpu_ casting an operand to a column-major rows x cols BLAS matrix: as it is, as its
    transpose, or copied row-major contiguous. Returns (array, transposed, leading dimension)."""
    isz = x.itemsize
    s0, s1 = x.strides
    if s0 % isz == 0 and s1 % isz == 0:
        lo, hi = (s1 // isz, s0 // isz) if transpose_c else (s0 // isz, s1 // isz)
        if lo == 1 and hi >= max(1, rows):
            return x, False, hi
        if hi == 1 and lo >= max(1, cols):
            return x, True, lo
    # (torch's contiguous strides: numpy may keep any stride on a size-1 dim of an array it calls contiguous)
    return np.ascontiguousarray(x), not transpose_c, max(1, x.shape[1])


def gemm(a: Any, b: Any, c: Any = None, alpha: float = 1.0, beta: float = 0.0) -> Any:
    """alpha * a @ b + beta * c for 2-D float32 or float64 numpy arrays of one dtype, as torch's mm/addmm:
    c (already holding the broadcast bias when beta != 0) is written in place and returned; a fresh
    C-contiguous result when c is None. Transposed views go to BLAS with a transpose flag, as torch does."""
    m, k = a.shape
    n = b.shape[1]
    if c is None:
        c = np.empty((m, n), a.dtype)
    if c.size == 0:
        return c
    if k == 0:
        if beta == 0:
            c[...] = 0
        else:
            c *= beta
        return c
    # the result is C-contiguous: column-major it is C^T = B^T A^T (torch's transpose_c), except for a single
    # column, whose strides (1, 1) read as column-major already
    transpose_c = not (n == 1)
    if transpose_c:
        m1, m2, mm_, nn = b, a, n, m
    else:
        m1, m2, mm_, nn = a, b, m, n
    a_, ta, lda = _operand(m1, mm_, k, transpose_c)
    b_, tb, ldb = _operand(m2, k, nn, transpose_c)
    ldc = c.strides[0] // c.itemsize if transpose_c else m
    _blas(
        "gemm",
        a.dtype,
        _COL_MAJOR,
        _T if ta else _N,
        _T if tb else _N,
        mm_,
        nn,
        k,
        alpha,
        a_.ctypes.data,
        lda,
        b_.ctypes.data,
        ldb,
        beta,
        c.ctypes.data,
        ldc,
    )
    return c


def gemv(a: Any, v: Any) -> Any:
    """a @ v for a float32/float64 matrix and vector, as torch's mv (addmv_impl_cpu, beta 0)."""
    m, n = a.shape
    r = np.empty(m, a.dtype)
    if m == 0:
        return r
    if n == 0:
        r[...] = 0
        return r
    isz = a.itemsize
    if v.strides[0] <= 0 or v.strides[0] % isz:
        v = np.ascontiguousarray(v)
    inc = v.strides[0] // isz
    s0, s1 = (s // isz if s % isz == 0 else -1 for s in a.strides)
    if s0 == 1 and (n == 1 or s1 >= max(1, m)):
        trans, rows, cols, lda = _N, m, n, s1
    elif s1 == 1 and (m == 1 or s0 >= max(1, n)):
        trans, rows, cols, lda = _T, n, m, s0
    else:
        a = np.ascontiguousarray(a)
        trans, rows, cols, lda = _T, n, m, n
    if cols == 1:
        lda = rows  # (torch's gemv: one column's leading dimension is its length)
    _blas(
        "gemv",
        a.dtype,
        _COL_MAJOR,
        trans,
        rows,
        cols,
        1.0,
        a.ctypes.data,
        lda,
        v.ctypes.data,
        inc,
        0.0,
        r.ctypes.data,
        1,
    )
    return r


def usable(*arrays: Any) -> bool:
    """Whether MKL takes these numpy arrays: all float32 or all float64, and MKL loaded."""
    d = arrays[0].dtype
    if d is not _F32 and d is not _F64:
        return False
    for x in arrays:
        if type(x) is not np.ndarray or x.dtype is not d:
            return False
    return (_STATE[0] if _STATE else lib()) is not None


def vml(name: str, x: Any) -> Any:
    """torch.<name>(x) for a float32/float64 numpy array through VML, in x's layout (as numpy's ufuncs and
    torch's unary kernels keep it); a layout that is not dense is computed on a contiguous copy (the
    functions are elementwise, so the layout changes no bits)."""
    r = np.empty_like(x)
    if x.size == 0:
        return r
    f = _fn(name, x.dtype)
    if (x.flags.c_contiguous or x.flags.f_contiguous) and r.strides == x.strides:
        f(x.size, x.ctypes.data, r.ctypes.data, _VML_MODE)
    else:
        src = np.ascontiguousarray(x)
        tmp = np.empty(src.shape, src.dtype)
        f(src.size, src.ctypes.data, tmp.ctypes.data, _VML_MODE)
        r[...] = tmp
    return r


def dot(a: Any, b: Any) -> Any:
    """The dot product of two float32/float64 vectors as torch.dot (cblas ?dot), a 0-d array."""
    n = a.shape[0]
    isz = a.itemsize
    if n <= 1:
        return (a * b).sum() if n else np.zeros((), a.dtype)[()]
    if a.strides[0] <= 0 or a.strides[0] % isz:
        a = np.ascontiguousarray(a)
    if b.strides[0] <= 0 or b.strides[0] % isz:
        b = np.ascontiguousarray(b)
    r = _blas("dot", a.dtype, n, a.ctypes.data, a.strides[0] // isz, b.ctypes.data, b.strides[0] // isz)
    return a.dtype.type(r)


def _items_dense(s1: int, s2: int, rows: int, cols: int) -> bool:
    """torch's batch_items_contiguous_or_transposed for one operand's item strides (in elements)."""
    return (s1 == 1 and s2 >= rows) or (s2 == 1 and s1 >= cols)


def bmm(a: Any, b: Any) -> Any:
    """a @ b for two 3-D float32/float64 batches of one size, as torch's bmm (bmm_out_or_baddbmm_): below 400
    multiply-adds per matrix a loop adding each product to a zero in k order; else MKL's gemm_batch over the
    batch where each item is contiguous or transposed, one gemm per item otherwise."""
    bs, m, k = a.shape
    n = b.shape[2]
    if k * m * n < 400:
        c = np.zeros((bs, m, n), a.dtype)
        for i in range(k):
            c += a[:, :, i, None] * b[:, None, i, :]
        return c
    c = np.empty((bs, m, n), a.dtype)
    isz = a.itemsize
    sa = [s // isz if s > 0 and s % isz == 0 else -1 for s in a.strides]
    sb = [s // isz if s > 0 and s % isz == 0 else -1 for s in b.strides]
    if bs == 0 or not (_items_dense(sa[1], sa[2], m, k) and _items_dense(sb[1], sb[2], k, n)):
        for i in range(bs):
            gemm(a[i], b[i], c[i])
        return c
    ta = sa[1] == 1 and sa[2] >= m
    tb = sb[1] == 1 and sb[2] >= k
    lda, ldb = sa[2] if ta else sa[1], sb[2] if tb else sb[1]
    fa, fb = _T if ta else _N, _T if tb else _N
    if bs == 1:  # (torch's single gemm, row-major)
        _blas("gemm", a.dtype, _ROW_MAJOR, fa, fb, m, n, k, 1.0, a.ctypes.data, lda, b.ctypes.data, ldb, 0.0,
              c.ctypes.data, n)  # fmt: skip
        return c
    ptrs = ctypes.c_void_p * bs
    pa, pb, pc = (ptrs(*[x.ctypes.data + i * x.strides[0] for i in range(bs)]) for x in (a, b, c))
    real = ctypes.c_float if a.dtype == _F32 else ctypes.c_double
    r = ctypes.byref
    _blas("gemm_batch", a.dtype, _ROW_MAJOR, r(_I(fa)), r(_I(fb)), r(_I(m)), r(_I(n)), r(_I(k)), r(real(1.0)), pa,
          r(_I(lda)), pb, r(_I(ldb)), r(real(0.0)), pc, r(_I(n)), 1, r(_I(bs)))  # fmt: skip
    return c
