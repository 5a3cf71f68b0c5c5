"""torch's own cpu matrix products and VML functions, bit for bit, through the Intel oneMKL that torch links.

PyTorch 2.13's cpu build links oneMKL 2024.2 statically: its float32/float64 matrix products are MKL's
?gemm/?gemv, and exp, log, sin and the other functions in VML_FUNCTIONS are MKL's VML in high-accuracy mode.
The `mkl==2024.2.0` wheel (the `exact` extra) ships the same library as libmkl_rt.so.2; called with the
arguments torch passes (its layout choices are replicated below), it returns torch's bits, where numpy's
OpenBLAS adds products in another order and numpy's SIMD math rounds differently in the last bit.

Loaded on first use, not at import. TCLI_MKL=0 turns it off; another MKL version (whose kernels may round
differently) is not used. MKL runs sequentially, which is torch's arithmetic with torch.set_num_threads(1). At
torch's default thread count torch's MKL shares a product out over its threads, each thread computing its part as
the sequential library would (but for a lone float32 row, see _gemm_tail_split); where the parts round otherwise
than the whole (float32 products of 5-11 rows, float64 ones with at least half as many columns as rows, from
about 12-17 columns), gemm makes those sequential calls on the same parts (_two_thread_cut: measured on two
threads). On 3 or more threads (a user's machine: torch's default is its physical cores) float32 products are
shared over a grid of threads (_thread_grid) and float64 ones over another (_f64_grid), reproduced the same way
(but for a float64 part of a lone row against a column-major b); MKL's batched gemm's sharing of a batch over
more threads than items is not. MKL's GNU OpenMP
layer on torch's thread count matched torch, but its thread start-up made a small MLP's training step 3-4x
slower on a 2-core machine, and told one thread its sums differ from the sequential library's even on small
products.
"""

from __future__ import annotations

import ctypes
import math
import os
import sys
from typing import Any

import numpy as np

from engine.ops.cascade_sum import _seq as _seq_sum
from engine.ops.cascade_sum import torch_threads
from engine.ops.cpu_loops import fresh_like

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


def lib() -> Any:
    """The loaded libmkl_rt, or None where MKL 2024.2 is not installed or TCLI_MKL=0."""
    if not _STATE:
        _STATE.append(_load())
    return _STATE[0]


def available() -> bool:
    return lib() is not None


# The functions are called without ctypes prototypes, their arguments given as C values already: ints (C int,
# MKL's LP64 interface), c_float/c_double scalars and byref pointers. A prototype converting Python ints to
# pointers cost ~100 ns an argument and numpy's `a.ctypes.data` ~800 ns an array: 3-4 us of a tiny product.
_I = ctypes.c_int
_LL = ctypes.c_longlong
_MODE = _LL(_VML_MODE)
_REAL = {_F32: ctypes.c_float, _F64: ctypes.c_double}
_ONE = {_F32: ctypes.c_float(1.0), _F64: ctypes.c_double(1.0)}
_ZERO = {_F32: ctypes.c_float(0.0), _F64: ctypes.c_double(0.0)}
_byref, _char_at = ctypes.byref, ctypes.c_char.from_buffer


def _ptr(x: Any) -> Any:
    """A pointer argument to x's first element: a byref of a char on its buffer where numpy exports one
    (writable and C-contiguous, or F-contiguous through the transpose), else numpy's address."""
    try:
        return _byref(_char_at(x))
    except (TypeError, ValueError, BufferError):
        pass
    try:
        return _byref(_char_at(x.T))
    except (TypeError, ValueError, BufferError):
        return ctypes.c_void_p(x.ctypes.data)


def _ptr_at(x: Any, offset: int) -> Any:
    """_ptr(x) moved on by `offset` bytes."""
    try:
        return _byref(_char_at(x), offset)
    except (TypeError, ValueError, BufferError):
        pass
    try:
        return _byref(_char_at(x.T), offset)
    except (TypeError, ValueError, BufferError):
        return ctypes.c_void_p(x.ctypes.data + offset)


def _dense(x: Any) -> tuple:
    """(pointer, BLAS transpose flag, leading dimension) of a writable row- or column-major matrix read as
    column-major, as _operand would choose them; (None, 0, 0) for any other layout."""
    isz = x.itemsize
    try:
        if x.strides[0] == isz:
            return _byref(_char_at(x.T)), _T, x.shape[0]
        return _byref(_char_at(x)), _N, x.shape[1]
    except (TypeError, ValueError, BufferError):
        return None, 0, 0


def _scalar(dt: Any, v: float) -> Any:
    return _ONE[dt] if v == 1 else _ZERO[dt] if v == 0 else _REAL[dt](v)


def _fn(name: str, dt: Any) -> Any:
    key = (name, dt)
    f = _FNS.get(key)
    if f is None:
        p = "s" if dt is _F32 else "d"
        blas = name in ("gemm", "gemv", "dot", "gemm_batch")
        f = getattr(lib(), f"cblas_{p}{name}" if blas else f"vm{p}{VML_FUNCTIONS[name]}")
        f.restype = _REAL[dt] if name == "dot" else None
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


# Work split over threads, as torch's own MKL and VML calls are (MKL runs sequentially here: see the top).
# A product is split by blocks of its rows, at multiples of _ROW_BLOCK, where MKL's sequential kernel gives each
# row the same bits whatever the rows around it (checked against the whole product, float32 and float64, in
# tests/test_engine_mkl.py); elementwise VML functions split anywhere.
_PAR_GEMM_MIN = 1 << 21  # multiply-adds: below this, handing work to threads costs more than it saves
_PAR_VML_MIN = 1 << 16  # elements
_ROW_BLOCK = 32
_POOL: list = []  # [ThreadPoolExecutor or None], made on first use


def _threads() -> Any:
    """The worker pool for one chunk a core, or None on a single core (TCLI_THREADS overrides the count)."""
    if not _POOL:
        try:
            count = int(os.environ.get("TCLI_THREADS", "0")) or len(os.sched_getaffinity(0))
        except (ValueError, AttributeError):
            count = os.cpu_count() or 1
        count = min(count, 16)
        if count > 1:
            from concurrent.futures import ThreadPoolExecutor

            _POOL.append(ThreadPoolExecutor(count, thread_name_prefix="tcli-mkl"))
        else:
            _POOL.append(None)
    return _POOL[0]


def _run_split(pool: Any, jobs: list) -> None:
    """Run (function, args) jobs: all but the first on the pool, the first on this thread; wait for all."""
    futures = [pool.submit(f, *args) for f, args in jobs[1:]]
    jobs[0][0](*jobs[0][1])
    for fut in futures:
        fut.result()


def gemm(a: Any, b: Any, c: Any = None, alpha: float = 1.0, beta: float = 0.0, threaded: bool = True) -> Any:
    """alpha * a @ b + beta * c for 2-D float32 or float64 numpy arrays of one dtype, as torch's mm/addmm:
    c (already holding the broadcast bias when beta != 0) is written in place and returned; a fresh
    C-contiguous result when c is None. Transposed views go to BLAS with a transpose flag, as torch does.
    threaded=False: MKL on one thread, as for torch's calls inside its own parallel loops (bmm/baddbmm items)."""
    m, k = a.shape
    n = b.shape[1]
    if c is None:
        c = np.empty((m, n), a.dtype)
    if n > 11 and k > 1 and threaded and (cut := _two_thread_cut(m, n, k, a.dtype)) and (t := torch_threads()) > 1:
        if t == 2:
            if cut < 0:
                return _gemm_tail_split(a, b, c, alpha, beta)
            return _gemm_column_split(a, b, c, alpha, beta, [cut])
        if cut > 0:
            return _gemm_f64_grid(a, b, c, alpha, beta, t)
    if a.dtype is _F64 and threaded and m > 2 * n and _threaded(m, n, k) and torch_threads() > 2:
        return _gemm_f64_grid(a, b, c, alpha, beta, torch_threads())  # (row parts only)
    if threaded and m > 1 and n > 1 and a.dtype is _F32 and (t := torch_threads()) > 2 and _threaded(m, n, k, True):
        parts = _grid_parts(m, n, t)
        if parts is not None and c.strides[1] == c.itemsize:
            return _gemm_grid(a, b, c, alpha, beta, *parts)
    if m * n * k >= _PAR_GEMM_MIN and n > 1 and m >= 2 * _ROW_BLOCK and (pool := _threads()) is not None:
        blocks = m // _ROW_BLOCK  # (the rows past the last whole block go with it: a lone row would be a gemv)
        per = -(-blocks // min(pool._max_workers, blocks))
        cuts = [i * _ROW_BLOCK for i in range(0, blocks, per)] + [m]
        _run_split(pool, [(_gemm, (a[i:j], b, c[i:j], alpha, beta)) for i, j in zip(cuts, cuts[1:])])
        return c
    return _gemm(a, b, c, alpha, beta)


def _threaded(m: int, n: int, k: int, more: bool = False) -> bool:
    """Whether MKL's threaded driver shares an (m, k) @ (k, n) product out at all: from 101 columns, from 17
    with k >= 5, from 12 with k >= 17, and past 16 rows also from 16 columns with k >= 5 and 12 with k >= 8
    (k = 1 is one product). more: as seen on 3+ threads (float32), also from 101 rows, and past 16 rows from 12
    columns with k >= 5."""
    return k > 1 and (
        n > 100
        or (n > 16 and k > 4)
        or (n > 11 and (k > 16 or (m > 16 and (k > 7 or n > 15 and k > 4))))
        or (more and (m > 100 or (m > 16 and n > 11 and k > 4)))
    )


# torch's MKL on its default threads: where oneMKL's threaded driver gives a product to two threads, each computes
# its part as the sequential library would (but for the lone row noted at _gemm_tail_split), and some of those
# parts round otherwise than the whole product on one thread. Measured against torch 2.13 at 2 threads (mm, addmm,
# all four layouts, shapes up to 3000); float32 on more threads: _thread_grid.
def _two_thread_cut(m: int, n: int, k: int, dt: Any) -> int:
    """How MKL's two threads share an (m, k) @ (k, n) product, where that changes bits: -1 float32 by rows
    (_gemm_tail_split), a column index float64 by columns (_gemm_column_split); 0 otherwise (one thread, or parts
    that give the whole product's bits), where MKL shares it out at all (_threaded)."""
    if not _threaded(m, n, k):
        return 0
    if dt is _F32:
        return -1 if 4 < m < 12 and m & 3 else 0
    if dt is not _F64 or 2 * n < m:  # (more than twice as many rows: the whole product's bits)
        return 0
    cut = -(-((n + 1) // 2) // 12) * 12  # (half the columns, up to MKL's 12-column kernel blocks)
    if cut == n - 1:  # (a lone last column: computed as in a 2-column product, see _gemm_column_split)
        return cut if m > 1 else 0
    return cut if cut < n else 0


# torch's MKL on 3 or more threads (float32): its threaded driver lays its threads out as a grid over the result,
# `cols` parts of its columns (BLAS's M, in 16-column kernel blocks) by `rows` parts of its rows (BLAS's N, in
# 4-row blocks), each part a sequential gemm on its block, and a part narrower than a kernel block rounds
# otherwise than the same columns or rows of the whole product. Measured against torch 2.13 (mm, all four
# layouts, 3-128 threads, oversubscribed on 2 cores: the split follows the thread count, not the cores).
def _thread_grid(t: int) -> tuple:
    """(column parts, row parts) of MKL's float32 thread grid for t >= 3 threads: t - 1 columns up to 4 threads;
    else d rows, d the largest with d * d < t that divides t or t - 1, and t // d columns."""
    if t <= 4:
        return t - 1, 1
    d = math.isqrt(t - 1)
    while t % d > 1:
        d -= 1
    return t // d, d


def _grid_parts(m: int, n: int, t: int) -> tuple | None:
    """The row and column cuts (each from 0 to the size) of MKL's float32 thread grid for an (m, k) @ (k, n)
    product on t threads, where some part rounds otherwise than the whole product (its last column part
    narrower than 16 columns, any column part of a product of 2-3 rows, or its last row part narrower than 4
    rows); None where the whole product's bits are the grid's."""
    cols, rows = _thread_grid(t)
    cw = (-(-n // cols) + 15) // 16 * 16  # (a part's columns: an even share, up to whole 16-column blocks)
    rw = (-(-m // rows) + 3) // 4 * 4
    if (n <= cw or (m > 3 and n - (n - 1) // cw * cw >= 16)) and (m <= rw or m - (m - 1) // rw * rw >= 4):
        return None
    return list(range(0, m, rw)) + [m], list(range(0, n, cw)) + [n]


def _base(x: Any) -> int:
    """The address of x's first element (_ptr's, as an int: offsets are added to it)."""
    for v in (x, x.T):
        try:
            return ctypes.addressof(_char_at(v))
        except (TypeError, ValueError, BufferError):
            pass
    return x.ctypes.data


def _gemm_grid(a: Any, b: Any, c: Any, alpha: float, beta: float, rows: list, cols: list) -> Any:
    """gemm as MKL's thread grid computes it: one sequential call per block, on the operands as torch passes
    them (pointers offset into the whole call's; on this machine's cores where the product is big enough), but
    for the blocks its threads compute otherwise: a lone column (one dot product a row) and a lone row against
    a column-major b (_row_dots, as _gemm_tail_split). Parts that give the whole product's bits are taken
    together: the rows but a last 1-3, and the columns but a last 1-15 of whole-height row parts (a part of
    1-3 rows rounds by its own columns' place)."""
    m, k = a.shape
    n = b.shape[1]
    _, _, _, first, b_trans, ldb, second, a_trans, lda, _, _ = _blas_operands(a, b)
    dt, isz = a.dtype, a.itemsize
    f = _FNS.get(("gemm", dt)) or _fn("gemm", dt)
    fb, fa, al, be = _T if b_trans else _N, _T if a_trans else _N, _scalar(dt, alpha), _scalar(dt, beta)
    sb, sa = isz * (ldb if b_trans else 1), isz * (1 if a_trans else lda)  # (one result column / row further)
    ldc = c.strides[0] // isz
    pb, pa, pc, vp = _base(first), _base(second), _base(c), ctypes.c_void_p
    rows = [0, m] if len(rows) == 2 or m - rows[-2] > 3 else [0, rows[-2], m]
    wide = [0, n] if len(cols) == 2 or n - cols[-2] > 15 else [0, cols[-2], n]
    jobs = []
    for r0, r1 in zip(rows, rows[1:]):
        part = cols if r1 - r0 < 4 else wide
        for c0, c1 in zip(part, part[1:]):
            if c1 - c0 == 1 and not b_trans:
                # a lone column of a row-major b: its products (alpha taken into a's entries) added in k order
                # to beta * c
                x = second[r0:r1]
                if alpha != 1:
                    x = x * dt.type(alpha)
                terms = np.empty((k + 1, r1 - r0), dt)
                terms[0] = 0 if beta == 0 else dt.type(beta) * c[r0:r1, c0]
                np.multiply(x.T, first[:, c0, None], out=terms[1:])
                c[r0:r1, c0] = _seq_sum(terms, 0)
                continue
            if c1 - c0 == 1 or (r1 - r0 == 1 and b_trans):
                # a lone column of a column-major b (each row's dot product in k order where a's rows are
                # strided, else in 8 lanes, which match for k a multiple of 4 only), or a lone row against it
                # (_row_dots); alpha and beta applied after
                if c1 - c0 == 1:
                    x = second[r0:r1]
                    r = _lane_sums(np.ascontiguousarray(x * first[:, c0]), 1 if a_trans else 8)[:, None]
                else:
                    r = _row_dots(second[r0], first[:, c0:c1], a_trans)[None]
                if alpha != 1:
                    r *= dt.type(alpha)
                c[r0:r1, c0:c1] = r if beta == 0 else r + dt.type(beta) * c[r0:r1, c0:c1]
                continue
            jobs.append((f, (_COL_MAJOR, fb, fa, c1 - c0, r1 - r0, k, al, vp(pb + c0 * sb), ldb, vp(pa + r0 * sa), lda,
                             be, vp(pc + (r0 * ldc + c0) * isz), ldc)))  # fmt: skip
    if len(jobs) > 1 and m * n * k >= _PAR_GEMM_MIN and (pool := _threads()) is not None:
        _run_split(pool, jobs)
    else:
        for fn, args in jobs:
            fn(*args)
    return c


def _f64_grid(m: int, n: int, t: int) -> tuple:
    """(column parts, row parts) of MKL's float64 thread grid for an (m, k) @ (k, n) product on t >= 2 threads:
    all rows past twice as many rows as columns; else t's power-of-2 part up to 4 to the columns, then each other
    prime factor of t, smallest first, to the columns while no factor went to the rows and the rows are fewer than
    the columns (than half of them once 2 or more column parts), else to the rows. (Measured against torch 2.13 at
    2-6, 8, 10, 12 and 16 threads.)"""
    if m > 2 * n:
        return 1, t
    p2 = t & -t
    pc = min(p2, 4)
    pr, q, f = 1, t // pc, 2
    while q > 1:
        while q % f == 0:
            q //= f
            if pr == 1 and m * min(pc, 2) < n:
                pc *= f
            else:
                pr *= f
        f += 1
    return pc, pr


def _gemm_f64_grid(a: Any, b: Any, c: Any, alpha: float, beta: float, t: int) -> Any:
    """gemm for float64 products that MKL shares over t >= 3 threads as a grid (_f64_grid): row parts in 4-row
    blocks, each cut into column parts in 12-column blocks as on two threads (_gemm_column_split)."""
    m = a.shape[0]
    n = b.shape[1]
    pc, pr = _f64_grid(m, n, t)
    w = (-(-n // pc) + 11) // 12 * 12
    h = (-(-m // pr) + 3) // 4 * 4
    cols = list(range(w, n, w))
    for r0 in range(0, m, h):
        r1 = min(m, r0 + h)
        if cols:
            _gemm_column_split(a[r0:r1], b, c[r0:r1], alpha, beta, cols)
        else:
            _gemm(a[r0:r1], b, c[r0:r1], alpha, beta)
    return c


def _gemm_column_split(a: Any, b: Any, c: Any, alpha: float, beta: float, cuts: list) -> Any:
    """gemm for float64 products that MKL's threads share by columns (BLAS's M), cut at `cuts`: each part a
    sequential MKL call on the operands as torch passes them, on this machine's cores where the product is big
    enough; but a lone last column (as 13 or 25 columns on two threads), whose thread hands it to a kernel of more
    columns: it is the last column of the product of the last 2 columns (at k <= 256 the whole product's column
    but for its last 2-3 rows against a column-major b, at k > 256 all its rows differ)."""
    n = b.shape[1]
    _, m1, m2, first, _, _, second, _, _, _, _ = _blas_operands(a, b)
    b = b if first is m1 else first  # (operands torch copies: its threads see the copies)
    a = a if second is m2 else second
    lone = cuts[-1] == n - 1
    if lone and a.shape[0] == 1:  # (a single row's lone column: as in the whole product, its part's last)
        cuts, lone = cuts[:-1], False
        if not cuts:
            return _gemm(a, b, c, alpha, beta)
    if lone and len(cuts) == 1:  # (the first part as the whole product: one call)
        tail = c[:, n - 2 :].copy()
        _gemm(a, b, c, alpha, beta)
        c[:, n - 1] = _gemm(a, b[:, n - 2 :], tail, alpha, beta)[:, 1]
        return c
    if lone:
        tail = c[:, n - 2 :].copy()
        cuts = cuts[:-1]
    # the calls _gemm would make for each part b[:, lo:hi], their pointers offset by hand
    m, k = a.shape
    _, _, _, _, ta, lda, _, tb, ldb, _, _ = _blas_operands(a, b)
    dt, isz = a.dtype, a.itemsize
    f = _FNS.get(("gemm", dt)) or _fn("gemm", dt)
    fa, fb, al, be = _T if ta else _N, _T if tb else _N, _scalar(dt, alpha), _scalar(dt, beta)
    pb, ldc, step = _ptr(a), c.strides[0] // isz, isz * (lda if ta else 1)
    bounds = [0, *cuts, n]
    jobs = [
        (f, (_COL_MAJOR, fa, fb, hi - lo, m, k, al, _ptr_at(b, lo * step), lda, pb, ldb, be, _ptr_at(c, lo * isz), ldc))
        for lo, hi in zip(bounds, bounds[1:])
    ]
    if m * n * k >= _PAR_GEMM_MIN and (pool := _threads()) is not None:
        _run_split(pool, jobs)
    else:
        for f, args in jobs:
            f(*args)
    if lone:
        c[:, n - 1] = _gemm(a, b[:, n - 2 :], tail, alpha, beta)[:, 1]
    return c


def _gemm_tail_split(a: Any, b: Any, c: Any, alpha: float, beta: float) -> Any:
    """gemm for float32 products of 5-11 rows (not a multiple of 4) that MKL's two threads share: its threaded
    driver hands the whole 4-row blocks (rows of the result, BLAS's N) and the last 1-3 rows to its two threads.
    Each part is a sequential MKL call on the operands as torch passes them, but for a last single row: with b
    column-major (BLAS's first operand transposed) MKL's kernel for it takes dot products (_row_dots) where a's
    row is contiguous, and adds in k order (alpha and beta applied after) where it is strided."""
    m = a.shape[0]
    _, m1, m2, first, b_trans, _, second, a_trans, _, _, _ = _blas_operands(a, b)
    b = b if first is m1 else first  # (operands torch copies: its threads see the copies)
    a = a if second is m2 else second
    c0 = m & ~3
    _gemm(a[:c0], b, c[:c0], alpha, beta)
    if m - c0 > 1 or not b_trans:
        _gemm(a[c0:], b, c[c0:], alpha, beta)
    else:
        r = _row_dots(a[c0], b, a_trans)
        if alpha != 1:
            r *= a.dtype.type(alpha)
        if beta == 0:
            c[c0] = r
        else:
            c[c0] = r + a.dtype.type(beta) * c[c0]
    return c


def _lane_sums(p: Any, w: int) -> Any:
    """Row sums of the products p (n rows of k, C-contiguous) as a w-lane vector loop without FMA: w-product
    chunks added in order, the lanes then added halves first, the products past the last whole chunk added one
    by one."""
    n, k = p.shape
    kw = k - k % w
    if kw == 0:
        r = np.zeros(n, p.dtype)
    else:
        # chunk-major: each chunk's w lanes moved as one w-item block (a fraction of an item-wise transpose's cost)
        lanes = np.ascontiguousarray(p[:, :kw]).view(np.dtype((np.void, w * p.itemsize)))
        acc = _seq_sum(np.ascontiguousarray(lanes.T).view(p.dtype).reshape(kw // w, n, w), 0)  # (in chunk order)
        while acc.shape[1] > 1:
            acc = acc[:, : acc.shape[1] // 2] + acc[:, acc.shape[1] // 2 :]
        r = acc[:, 0]
    for i in range(kw, k):
        r = r + p[:, i]
    return r


def _row_dots(x: Any, b: Any, strided: bool) -> Any:
    """x @ b for one row x as MKL's threaded sgemm computes a lone last row against a column-major b: rounded
    products, summed by _lane_sums in 4 lanes for the columns in whole groups of 4, in 8 for the 1-3 after them;
    in k order where x is strided."""
    n = b.shape[1]
    n4 = n & ~3
    p = np.ascontiguousarray(b.T * x)  # (n, k): already C-contiguous for a column-major b
    if strided:
        return _lane_sums(p, 1)
    r = np.empty(n, b.dtype)
    if n4:
        r[:n4] = _lane_sums(p[:n4], 4)
    if n4 < n:
        r[n4:] = _lane_sums(p[n4:], 8)
    return r


def _blas_operands(a: Any, b: Any) -> tuple:
    """How gemm hands a @ b to column-major BLAS for a C-contiguous result: (transpose_c, BLAS's first and second
    operand as given, then each as passed with its transpose flag and leading dimension, M, N). Column-major the
    result is C^T = B^T A^T (torch's transpose_c), except for a single column, whose strides (1, 1) read as
    column-major already. One place for _gemm and _plan, whose calls must agree bit for bit."""
    m, k = a.shape
    n = b.shape[1]
    transpose_c = n != 1
    if transpose_c:
        m1, m2, mm_, nn = b, a, n, m
    else:
        m1, m2, mm_, nn = a, b, m, n
    first, ta, lda = _operand(m1, mm_, k, transpose_c)
    second, tb, ldb = _operand(m2, k, nn, transpose_c)
    return transpose_c, m1, m2, first, ta, lda, second, tb, ldb, mm_, nn


def _gemm(a: Any, b: Any, c: Any, alpha: float, beta: float) -> Any:
    m, k = a.shape
    n = b.shape[1]
    if c.size == 0:
        return c
    if k == 0:
        if beta == 0:
            c[...] = 0
        else:
            c *= beta
        return c
    dt = a.dtype
    if m > 1 and n > 1 and k > 1 and alpha == 1 and beta == 0:
        # the usual case, where _operand's answer is known from the layout: row-major as it is, column-major
        # transposed, each with its row length as leading dimension; the product goes as B^T A^T (below)
        pb, tb, ldb = _dense(b)
        pa, ta, lda = _dense(a)
        if pa is not None and pb is not None:
            f = _FNS.get(("gemm", dt)) or _fn("gemm", dt)
            f(_COL_MAJOR, tb, ta, n, m, k, _ONE[dt], pb, ldb, pa, lda, _ZERO[dt], _ptr(c), c.strides[0] // c.itemsize)
            return c
    transpose_c, _, _, a_, ta, lda, b_, tb, ldb, mm_, nn = _blas_operands(a, b)
    ldc = c.strides[0] // c.itemsize if transpose_c else m
    f = _FNS.get(("gemm", dt)) or _fn("gemm", dt)
    f(_COL_MAJOR, _T if ta else _N, _T if tb else _N, mm_, nn, k, _ONE[dt] if alpha == 1 else _scalar(dt, alpha),
      _ptr(a_), lda, _ptr(b_), ldb, _ZERO[dt] if beta == 0 else _scalar(dt, beta), _ptr(c), ldc)  # fmt: skip
    return c


# A layer's products repeat a few layouts every step, and at its sizes working out gemm's arguments (several
# calls, each reading shapes and strides) cost as much as MKL's arithmetic. product() looks them up instead.
_PLANS: dict = {}  # (a's shape and strides, b's shape and strides, dtype) -> _plan(a, b)


def _pointer_source(x: Any) -> int:
    """Which view of x exports the buffer that _ptr takes x's address from: 0 x itself (C-contiguous), 1 its
    transpose (F-contiguous), 2 neither (numpy's address)."""
    return 0 if x.flags.c_contiguous else 1 if x.flags.f_contiguous else 2


def _plan(a: Any, b: Any) -> tuple | None:
    """gemm(a, b)'s call for a fresh result, alpha 1, less the pointers and beta: (swap, transa, transb, M, N, K,
    lda, ldb, ldc, result shape and strides, pointer sources of BLAS's first and second operand), swap telling
    that b is BLAS's first operand. _gemm's general path's choices (_blas_operands; its fast path agrees with them);
    None where gemm must decide: an empty or thread-split product, or an operand to be copied first."""
    m, k = a.shape
    n = b.shape[1]
    if m == 0 or n == 0 or k == 0 or (m * n * k >= _PAR_GEMM_MIN and n > 1 and m >= 2 * _ROW_BLOCK):
        return None
    if n > 11 and k > 1 and _two_thread_cut(m, n, k, a.dtype):
        return None  # (whether MKL splits these depends on the thread count at the call)
    # (whether MKL's grid on 3+ threads splits these depends on the thread count at the call: product checks)
    split = a.dtype is _F32 and m > 1 and (n % 16 and n > 16 or m & 3 and m > 4 or m < 4 and n > 16)
    split = split and _threaded(m, n, k, True) or a.dtype is _F64 and m > 2 * n and _threaded(m, n, k)
    transpose_c, m1, m2, first, ta, lda, second, tb, ldb, mm_, nn = _blas_operands(a, b)
    if first is not m1 or second is not m2:  # (a copy: its address is new on every call)
        return None
    ldc = n if transpose_c else m  # (a fresh (m, n) result's row stride is n items)
    isz = a.itemsize
    return (transpose_c, _T if ta else _N, _T if tb else _N, mm_, nn, k, lda, ldb, ldc, (m, n), (n * isz, isz),
            _pointer_source(m1), _pointer_source(m2), split)  # fmt: skip


def _address(x: Any, source: int) -> Any:
    """_ptr(x) for an x whose _pointer_source is `source`, without its failed tries."""
    try:
        if source == 0:
            return _byref(_char_at(x))
        if source == 1:
            return _byref(_char_at(x.T))
    except (TypeError, ValueError, BufferError):  # (a read-only array)
        pass
    return ctypes.c_void_p(x.ctypes.data)


_ndarray = np.ndarray
# (numpy's module __getattr__ keeps np.<name> from being read quickly: bound once)
_np_empty = np.empty


def product(a: Any, b: Any, c: Any = None, beta: float = 0.0) -> Any:
    """gemm(a, b, c, 1, beta) for two 2-D float32 or float64 numpy arrays of one dtype, bit for bit, its arguments
    looked up by layout (_PLANS); None where MKL does not take these arrays (usable() is false). c, where given,
    is written in place and returned (addmm's result holding the broadcast bias)."""
    dt = a.dtype
    if (dt is not _F32 and dt is not _F64) or b.dtype is not dt or type(a) is not _ndarray or type(b) is not _ndarray:
        return None
    if (_STATE[0] if _STATE else lib()) is None:
        return None
    key = (a.shape, a.strides, b.shape, b.strides, dt)
    plan = _PLANS.get(key)
    if plan is None:
        if key in _PLANS:  # (planned: gemm decides this layout each time)
            return gemm(a, b, c, 1.0, beta)
        plan = _plan(a, b)
        if len(_PLANS) < 1024:
            _PLANS[key] = plan
        if plan is None:
            return gemm(a, b, c, 1.0, beta)
    swap, ta, tb, m, n, k, lda, ldb, ldc, shape, strides, s1, s2, split = plan
    if split and torch_threads() > 2:
        return gemm(a, b, c, 1.0, beta)
    if c is None:
        c = _np_empty(shape, dt)
    elif c.strides != strides or c.shape != shape:  # (not laid out as a fresh result: another ldc)
        return gemm(a, b, c, 1.0, beta)
    if swap:
        a, b = b, a
    f = _FNS.get(("gemm", dt)) or _fn("gemm", dt)
    f(_COL_MAJOR, ta, tb, m, n, k, _ONE[dt], _address(a, s1), lda, _address(b, s2), ldb,
      _ZERO[dt] if beta == 0 else _scalar(dt, beta), _byref(_char_at(c)), ldc)  # fmt: skip
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
    dt = a.dtype
    _fn("gemv", dt)(_COL_MAJOR, trans, rows, cols, _ONE[dt], _ptr(a), lda, _ptr(v), inc, _ZERO[dt], _ptr(r), 1)
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
    r = np.empty_like(x) if 0 not in x.strides else fresh_like(x)  # (a broadcast dim: TensorIterator's layout)
    n = x.size
    if n == 0:
        return r
    f = _FNS.get((name, x.dtype)) or _fn(name, x.dtype)
    try:  # C-contiguous and writable, the usual case: r is laid out as x
        px, pr = _char_at(x), _char_at(r)
    except (TypeError, ValueError, BufferError):
        pass
    else:
        if n < _PAR_VML_MIN or (pool := _threads()) is None:
            f(_LL(n), _byref(px), _byref(pr), _MODE)
            return r
        bx, br, isz = ctypes.addressof(px), ctypes.addressof(pr), x.itemsize
        step = -(-n // pool._max_workers // -64) * -64
        jobs = []
        for i in range(0, n, step):
            size, off = min(step, n - i), i * isz
            jobs.append((f, (_LL(size), ctypes.c_void_p(bx + off), ctypes.c_void_p(br + off), _MODE)))
        _run_split(pool, jobs)
        return r
    if (x.flags.c_contiguous or x.flags.f_contiguous) and r.strides == x.strides:
        f(_LL(n), _ptr(x), _ptr(r), _MODE)
    else:
        src = np.ascontiguousarray(x)
        tmp = np.empty(src.shape, src.dtype)
        f(_LL(src.size), _ptr(src), _ptr(tmp), _MODE)
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
    r = _fn("dot", a.dtype)(n, _ptr(a), a.strides[0] // isz, _ptr(b), b.strides[0] // isz)
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
        for i in range(bs):  # (torch's parallel loop over the items: MKL threaded for a single one only)
            gemm(a[i], b[i], c[i], threaded=bs == 1)
        return c
    ta = sa[1] == 1 and sa[2] >= m
    tb = sb[1] == 1 and sb[2] >= k
    lda, ldb = sa[2] if ta else sa[1], sb[2] if tb else sb[1]
    fa, fb = _T if ta else _N, _T if tb else _N
    if bs == 1:  # (torch's single gemm, row-major)
        dt = a.dtype
        t = torch_threads()
        if (
            (t == 2 and n > 11 and k > 1 and _two_thread_cut(m, n, k, dt))
            or (t > 2 and dt is _F32 and m > 1 and _threaded(m, n, k, True) and _grid_parts(m, n, t))
            or (t > 2 and dt is _F64 and m > 1 and _threaded(m, n, k))
        ):
            gemm(a[0], b[0], c[0])  # (the same call as mm's: its threads split it the same way)
            return c
        _fn("gemm", dt)(_ROW_MAJOR, fa, fb, m, n, k, _ONE[dt], _ptr(a), lda, _ptr(b), ldb, _ZERO[dt], _ptr(c), n)
        return c
    ptrs = ctypes.c_void_p * bs
    pa, pb, pc = (ptrs(*[x.ctypes.data + i * x.strides[0] for i in range(bs)]) for x in (a, b, c))
    dt, r = a.dtype, ctypes.byref
    _fn("gemm_batch", dt)(_ROW_MAJOR, r(_I(fa)), r(_I(fb)), r(_I(m)), r(_I(n)), r(_I(k)), r(_ONE[dt]), pa, r(_I(lda)),
                          pb, r(_I(ldb)), r(_ZERO[dt]), pc, r(_I(n)), 1, r(_I(bs)))  # fmt: skip
    return c


def gemm_chain(a: Any, b: Any, cols: int, rows: int, widths: list, last: Any) -> None:
    """The float32 products c_j = a[j][:, :widths[j]] @ b[j][:widths[j]] in order, each written over the first
    `rows` rows of b[j + 1] (the last one into `last`): a (J, rows, W) and b (J, R, cols) C-contiguous, last
    (rows, cols) C-contiguous. Each call is gemm's own for these row-major operands (C^T = B^T A^T), only with
    the pointers worked out once."""
    f = _FNS.get(("gemm", _F32)) or _fn("gemm", _F32)
    pa, pb, pl = a.ctypes.data, b.ctypes.data, last.ctypes.data
    sa, sb = a.strides[0], b.strides[0]
    lda = a.shape[2]
    vp = ctypes.c_void_p
    one, zero = _ONE[_F32], _ZERO[_F32]
    jn = len(widths)
    for j, k in enumerate(widths):
        out = pb + (j + 1) * sb if j + 1 < jn else pl
        f(_COL_MAJOR, _N, _N, cols, rows, k, one, vp(pb + j * sb), cols, vp(pa + j * sa), lda, zero, vp(out), cols)
