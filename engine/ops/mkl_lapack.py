"""torch's cpu LAPACK calls, through the oneMKL 2024.2 that engine/ops/mkl.py loads (the library torch links).

PyTorch's cpu build runs its factorizations in MKL's LAPACK (aten/src/ATen/native/BatchLinearAlgebra*.cpp): QR is
?geqrf then ?orgqr, the SVD ?gesdd (jobz 'A', 'S' or 'N'), eigh ?syevd, eig ?geev, LU ?getrf and ?getrs, Cholesky
?potrf, lstsq ?gelsy/?gelsd/?gelss/?gels. numpy's lapack-lite/OpenBLAS block and round otherwise (the last bit of
R, the sign of a singular vector): called here with torch's arguments (a column-major copy of each matrix, the
workspace size LAPACK's query returns, matrices of a batch one after another) MKL returns torch's bits.

Known gap: mkl.py runs MKL's sequential library (libmkl_sequential), and torch's MKL is its OpenMP-threaded one;
even on one thread the two take other paths for some shapes: tall QR and SVD (m >= ~40 rows over fewer columns),
getrf of 17, 25, 33, 49 or 57 columns, and at 2 threads float64 syevd of 49+ and gesdd of ~35+ columns. Loading
libmkl_rt with MKL_Set_Threading_Layer(GNU) and MKL_Set_Num_Threads(torch's count) matched torch on every one of
them, but that choice is mkl.py's (its gemm emulation assumes the sequential layer); a second copy of MKL in
another link namespace (dlmopen) crashed on its first allocation.

Each function takes and returns numpy arrays: a batch of (..., m, n) matrices in, results laid out as torch's
(column-major matrices, views of the buffer LAPACK wrote). available() is False where MKL 2024.2 is not loaded
(TCLI_MKL=0, another platform): callers then use numpy's LAPACK."""

from __future__ import annotations

import ctypes
import math
from typing import Any

import numpy as np

from engine.ops import mkl

_F32, _F64 = np.dtype(np.float32), np.dtype(np.float64)
_PREFIX = {_F32: "s", _F64: "d"}
_CT = {_F32: ctypes.c_float, _F64: ctypes.c_double}
_FNS: dict = {}
_I = ctypes.c_int


def available(dtype: Any = None) -> bool:
    return mkl.available() and (dtype is None or np.dtype(dtype) in _PREFIX)


def _fn(name: str, dtype: Any) -> Any:
    key = (name, dtype)
    f = _FNS.get(key)
    if f is None:
        f = getattr(mkl.lib(), _PREFIX[np.dtype(dtype)] + name + "_")
        f.restype = None
        _FNS[key] = f
    return f


def _p(a: Any) -> Any:
    return ctypes.c_void_p(a.ctypes.data)


def _ref(v: int) -> Any:
    return ctypes.byref(_I(v))


def _ch(c: str) -> Any:
    return ctypes.c_char_p(c.encode())


def _aligned(shape: tuple, dtype: Any) -> Any:
    """Zeros of `shape`, the buffer 64-byte aligned as torch's allocator aligns (MKL's kernels take other paths,
    and round otherwise, on other alignments)."""
    dt = np.dtype(dtype)
    size = math.prod(shape) * dt.itemsize
    raw = np.zeros(size + 64, dtype=np.uint8)
    off = (-raw.ctypes.data) % 64
    return raw[off : off + size].view(dt).reshape(shape)


def _fortran(a: Any, rows: int | None = None) -> Any:
    """A writable batch of column-major copies of a's (..., m, n) matrices, as a (B, n, rows) C array (rows >= m
    pads each column, zeros below the matrix)."""
    m, n = a.shape[-2:]
    batch = math.prod(a.shape[:-2])
    rows = m if rows is None else rows
    out = _aligned((batch, n, rows), dtype=a.dtype)
    out[:, :, :m] = a.reshape((batch, m, n)).swapaxes(-1, -2)
    return out


def _back(buf: Any, batch: tuple, m: int, n: int) -> Any:
    """The (..., m, n) column-major matrices of a (B, n, rows) buffer, as a view."""
    return buf[:, :n, :m].reshape(batch + (n, m)).swapaxes(-1, -2)


def _work_size(wk: Any) -> int:
    return max(1, int(wk.value))


# ---- QR ------------------------------------------------------------------------------------------------------------
def geqrf(a: Any, cols: int | None = None) -> tuple:
    """(buffer (B, cols, m) holding geqrf's QR in its first n columns, tau (B, k)) of a's matrices; `cols` >= n
    columns leave room for a complete Q."""
    m, n = a.shape[-2:]
    k = min(m, n)
    dt = a.dtype
    batch = math.prod(a.shape[:-2])
    buf = _aligned((batch, max(n, cols or 0), m), dtype=dt)
    buf[:, :n, :] = a.reshape((batch, m, n)).swapaxes(-1, -2)
    tau = np.zeros((batch, k), dtype=dt)
    f = _fn("geqrf", dt)
    info = _I(0)
    lda = max(1, m)
    wk = _CT[dt](0)
    f(_ref(m), _ref(n), _p(buf), _ref(lda), _p(tau), ctypes.byref(wk), _ref(-1), ctypes.byref(info))
    lwork = _work_size(wk)
    work = np.empty(lwork, dtype=dt)
    for i in range(batch):
        f(_ref(m), _ref(n), _p(buf[i]), _ref(lda), _p(tau[i]), _p(work), _ref(lwork), ctypes.byref(info))
    return buf, tau


def orgqr(buf: Any, tau: Any, m: int, ncols: int) -> None:
    """orgqr in place on the first `ncols` columns of geqrf's buffer (B, cols, m), tau's k reflectors."""
    dt = buf.dtype
    k = tau.shape[-1]
    f = _fn("orgqr", dt)
    info = _I(0)
    lda = max(1, m)
    wk = _CT[dt](0)
    f(_ref(m), _ref(ncols), _ref(k), _p(buf), _ref(lda), _p(tau), ctypes.byref(wk), _ref(-1), ctypes.byref(info))
    lwork = _work_size(wk)
    work = np.empty(lwork, dtype=dt)
    for i in range(buf.shape[0]):
        f(_ref(m), _ref(ncols), _ref(k), _p(buf[i]), _ref(lda), _p(tau[i]), _p(work), _ref(lwork), ctypes.byref(info))


def qr(a: Any, mode: str) -> tuple:
    """(Q, R) of torch's linalg_qr: geqrf, R the upper triangle of its first rows, Q orgqr's (empty for mode 'r')."""
    m, n = a.shape[-2:]
    k = min(m, n)
    batch = a.shape[:-2]
    complete = mode == "complete"
    qcols = m if complete else k
    buf, tau = geqrf(a, qcols)
    rrows = m if complete else k
    R = _back(buf, batch, m, n)[..., :rrows, :].swapaxes(-1, -2).copy().swapaxes(-1, -2)
    R[...] = np.triu(R)  # (each matrix column-major, as torch's R)
    if mode == "r":
        return np.zeros((0,), dtype=a.dtype), R
    if qcols > n:
        buf[:, n:, :] = 0
    orgqr(buf, tau, m, qcols)
    return _back(buf, batch, m, qcols), R


# ---- SVD -----------------------------------------------------------------------------------------------------------
def gesdd(a: Any, jobz: str) -> tuple:
    """(U, S, Vh, info) of gesdd with torch's jobz ('A' full, 'S' reduced, 'N' values only: U and Vh empty)."""
    m, n = a.shape[-2:]
    k = min(m, n)
    dt = a.dtype
    shape = a.shape[:-2]
    batch = math.prod(shape)
    A = _fortran(a)
    S = np.zeros((batch, k), dtype=dt)
    ucols, vrows = (m, n) if jobz == "A" else (k, k)
    if jobz == "N":
        U = np.zeros((batch, 1, 1), dtype=dt)
        V = np.zeros((batch, 1, 1), dtype=dt)
        ldu = ldvt = 1
    else:
        U = np.zeros((batch, ucols, m), dtype=dt)
        V = np.zeros((batch, n, vrows), dtype=dt)
        ldu, ldvt = max(1, m), max(1, vrows)
    iwork = np.zeros(max(1, 8 * k), dtype=np.int32)
    info = np.zeros(batch, dtype=np.int32)
    f = _fn("gesdd", dt)
    lda = max(1, m)
    wk = _CT[dt](0)
    inf = _I(0)
    f(_ch(jobz), _ref(m), _ref(n), _p(A), _ref(lda), _p(S), _p(U), _ref(ldu), _p(V), _ref(ldvt), ctypes.byref(wk),
      _ref(-1), _p(iwork), ctypes.byref(inf))  # fmt: skip
    lwork = _work_size(wk)
    work = np.empty(lwork, dtype=dt)
    for i in range(batch):
        f(_ch(jobz), _ref(m), _ref(n), _p(A[i]), _ref(lda), _p(S[i]), _p(U[i]), _ref(ldu), _p(V[i]), _ref(ldvt),
          _p(work), _ref(lwork), _p(iwork), ctypes.byref(inf))  # fmt: skip
        info[i] = inf.value
    S = S.reshape(shape + (k,))
    if jobz == "N":
        return None, S, None, info.reshape(shape)
    return _back(U, shape, m, ucols), S, _back(V, shape, vrows, n), info.reshape(shape)


# ---- eigh ----------------------------------------------------------------------------------------------------------
def syevd(a: Any, vectors: bool, uplo: str) -> tuple:
    """(eigenvalues, eigenvectors or None, info) of syevd on a's symmetric matrices (the `uplo` triangle read)."""
    n = a.shape[-1]
    dt = a.dtype
    shape = a.shape[:-2]
    batch = math.prod(shape)
    A = _fortran(a)
    W = np.zeros((batch, n), dtype=dt)
    info = np.zeros(batch, dtype=np.int32)
    jobz = "V" if vectors else "N"
    f = _fn("syevd", dt)
    lda = max(1, n)
    wk = _CT[dt](0)
    iwk = _I(0)
    inf = _I(0)
    f(_ch(jobz), _ch(uplo), _ref(n), _p(A), _ref(lda), _p(W), ctypes.byref(wk), _ref(-1), ctypes.byref(iwk),
      _ref(-1), ctypes.byref(inf))  # fmt: skip
    lwork, liwork = _work_size(wk), max(1, iwk.value)
    work = np.empty(lwork, dtype=dt)
    iwork = np.empty(liwork, dtype=np.int32)
    for i in range(batch):
        f(_ch(jobz), _ch(uplo), _ref(n), _p(A[i]), _ref(lda), _p(W[i]), _p(work), _ref(lwork), _p(iwork),
          _ref(liwork), ctypes.byref(inf))  # fmt: skip
        info[i] = inf.value
    V = _back(A, shape, n, n) if vectors else None
    return W.reshape(shape + (n,)), V, info.reshape(shape)


# ---- eig -----------------------------------------------------------------------------------------------------------
def geev(a: Any, vectors: bool) -> tuple:
    """(real parts, imaginary parts, right eigenvectors as geev packs them or None, info)."""
    n = a.shape[-1]
    dt = a.dtype
    shape = a.shape[:-2]
    batch = math.prod(shape)
    A = _fortran(a)
    WR = np.zeros((batch, n), dtype=dt)
    WI = np.zeros((batch, n), dtype=dt)
    VR = np.zeros((batch, n, n) if vectors else (batch, 1, 1), dtype=dt)
    VL = np.zeros(1, dtype=dt)
    ldvr = max(1, n) if vectors else 1
    info = np.zeros(batch, dtype=np.int32)
    jobvr = "V" if vectors else "N"
    f = _fn("geev", dt)
    lda = max(1, n)
    wk = _CT[dt](0)
    inf = _I(0)
    f(_ch("N"), _ch(jobvr), _ref(n), _p(A), _ref(lda), _p(WR), _p(WI), _p(VL), _ref(1), _p(VR), _ref(ldvr),
      ctypes.byref(wk), _ref(-1), ctypes.byref(inf))  # fmt: skip
    lwork = _work_size(wk)
    work = np.empty(lwork, dtype=dt)
    for i in range(batch):
        f(_ch("N"), _ch(jobvr), _ref(n), _p(A[i]), _ref(lda), _p(WR[i]), _p(WI[i]), _p(VL), _ref(1), _p(VR[i]),
          _ref(ldvr), _p(work), _ref(lwork), ctypes.byref(inf))  # fmt: skip
        info[i] = inf.value
    V = _back(VR, shape, n, n) if vectors else None
    return WR.reshape(shape + (n,)), WI.reshape(shape + (n,)), V, info.reshape(shape)


# ---- LU ------------------------------------------------------------------------------------------------------------
def getrf(a: Any) -> tuple:
    """(LU column-major, 1-based int32 pivots, info) of getrf on a's (..., m, n) matrices."""
    m, n = a.shape[-2:]
    k = min(m, n)
    dt = a.dtype
    shape = a.shape[:-2]
    batch = math.prod(shape)
    A = _fortran(a)
    piv = np.zeros((batch, k), dtype=np.int32)
    info = np.zeros(batch, dtype=np.int32)
    f = _fn("getrf", dt)
    lda = max(1, m)
    inf = _I(0)
    if m and n:
        for i in range(batch):
            f(_ref(m), _ref(n), _p(A[i]), _ref(lda), _p(piv[i]), ctypes.byref(inf))
            info[i] = inf.value
    return _back(A, shape, m, n), piv.reshape(shape + (k,)), info.reshape(shape)


def getrs(lu: Any, piv: Any, b: Any, trans: bool) -> Any:
    """X solving A X = B (A^T X = B for trans) for getrf's LU and pivots; lu, piv and b share the batch shape.
    Column-major result."""
    n = lu.shape[-1]
    nrhs = b.shape[-1]
    dt = b.dtype
    shape = b.shape[:-2]
    batch = math.prod(shape)
    LU = _fortran(np.broadcast_to(lu, shape + (n, n)))
    P = np.ascontiguousarray(np.broadcast_to(piv, shape + (n,)), dtype=np.int32).reshape((batch, n))
    B = _fortran(b)
    f = _fn("getrs", dt)
    ld = max(1, n)
    inf = _I(0)
    t = _ch("T" if trans else "N")
    if n and nrhs:
        for i in range(batch):
            f(t, _ref(n), _ref(nrhs), _p(LU[i]), _ref(ld), _p(P[i]), _p(B[i]), _ref(ld), ctypes.byref(inf))
    return _back(B, shape, n, nrhs)


# ---- Cholesky ------------------------------------------------------------------------------------------------------
def potrf(a: Any, upper: bool) -> tuple:
    """(factor with the other triangle zeroed, info) of potrf on a's matrices (the `upper` triangle read)."""
    n = a.shape[-1]
    dt = a.dtype
    shape = a.shape[:-2]
    batch = math.prod(shape)
    A = _fortran(a)
    info = np.zeros(batch, dtype=np.int32)
    f = _fn("potrf", dt)
    lda = max(1, n)
    inf = _I(0)
    uplo = _ch("U" if upper else "L")
    if n:
        for i in range(batch):
            f(uplo, _ref(n), _p(A[i]), _ref(lda), ctypes.byref(inf))
            info[i] = inf.value
    r = _back(A, shape, n, n)
    r[...] = np.triu(r) if upper else np.tril(r)  # (in place: torch's column-major factor)
    return r, info.reshape(shape)


# ---- least squares -------------------------------------------------------------------------------------------------
def lstsq(a: Any, b: Any, rcond: float, driver: str) -> tuple:
    """(solution buffer (..., max(m, n), k) column-major, rank (..., ) int64, singular values (..., min(m, n)))
    of torch's apply_lstsq: a column-major A and B (padded to max(m, n) rows), the driver's workspace query."""
    m, n = a.shape[-2:]
    k = b.shape[-1]
    dt = a.dtype
    shape = b.shape[:-2]
    batch = math.prod(shape)
    A = _fortran(np.broadcast_to(a, shape + (m, n)))
    rows = max(m, n)
    B = _fortran(b, rows)
    mn = min(m, n)
    rank = np.zeros(batch, dtype=np.int64)
    S = np.zeros((batch, mn), dtype=dt)
    f = _fn(driver, dt)
    lda, ldb = max(1, m), max(1, rows)
    inf = _I(0)
    rk = _I(0)
    wk = _CT[dt](0)
    rc = _CT[dt](rcond)
    if driver == "gels":
        args = lambda i, w, lw: (_ch("N"), _ref(m), _ref(n), _ref(k), _p(A[i]), _ref(lda), _p(B[i]), _ref(ldb), w,  # noqa: E731
                                 _ref(lw), ctypes.byref(inf))  # fmt: skip
    elif driver == "gelsy":
        # torch's jpvt is uninitialized memory (at::empty), carried from one matrix to the next: its gelsy is not
        # deterministic (20 calls on one 20x20 float32 input gave 4 equal answers). Garbage is mostly nonzero,
        # which fixes every column in place (no pivoting), as the permutation left by the first matrix does for
        # the next ones: all ones here, torch's most frequent answer.
        jpvt = np.ones(max(1, n), dtype=np.int32)
        args = lambda i, w, lw: (_ref(m), _ref(n), _ref(k), _p(A[i]), _ref(lda), _p(B[i]), _ref(ldb), _p(jpvt),  # noqa: E731
                                 ctypes.byref(rc), ctypes.byref(rk), w, _ref(lw), ctypes.byref(inf))  # fmt: skip
    elif driver == "gelsd":
        iwk = _I(0)
        args = lambda i, w, lw: (_ref(m), _ref(n), _ref(k), _p(A[i]), _ref(lda), _p(B[i]), _ref(ldb), _p(S[i]),  # noqa: E731
                                 ctypes.byref(rc), ctypes.byref(rk), w, _ref(lw), ctypes.byref(iwk),
                                 ctypes.byref(inf))  # fmt: skip
    else:  # gelss
        args = lambda i, w, lw: (_ref(m), _ref(n), _ref(k), _p(A[i]), _ref(lda), _p(B[i]), _ref(ldb), _p(S[i]),  # noqa: E731
                                 ctypes.byref(rc), ctypes.byref(rk), w, _ref(lw), ctypes.byref(inf))  # fmt: skip
    if batch and mn:
        f(*args(0, ctypes.byref(wk), -1))
        lwork = _work_size(wk)
        work = np.empty(lwork, dtype=dt)
        if driver == "gelsd":
            iw = np.empty(max(1, iwk.value), dtype=np.int32)
            base = args

            def args(i: int, w: Any, lw: int) -> tuple:
                r = list(base(i, w, lw))
                r[12] = _p(iw)
                return tuple(r)

        for i in range(batch):
            f(*args(i, _p(work), lwork))
            rank[i] = rk.value
    sol = _back(B, shape, rows, k)
    return sol, rank.reshape(shape), S.reshape(shape + (mn,))


# ---- triangular solve ----------------------------------------------------------------------------------------------
def _f_operand(a: Any) -> tuple:
    """(a (B, n, n) buffer whose matrices BLAS reads column-major, transposed) for a batch of square matrices:
    a's own memory where each matrix is column-major (transposed False) or row-major (True, BLAS's 'T' of the
    matrix it reads), else a column-major copy, as torch passes A to trsm without copying an F-ready A."""
    n = a.shape[-1]
    batch = math.prod(a.shape[:-2])
    isz = a.itemsize
    flat = a.reshape((batch, n, n)) if a.size else np.zeros((batch, n, n), dtype=a.dtype)
    st = flat.strides
    if n <= 1 or (st[-2] == isz and st[-1] == n * isz and (batch <= 1 or st[0] == n * n * isz)):
        return np.ascontiguousarray(flat.swapaxes(-1, -2)), False
    if st[-1] == isz and st[-2] == n * isz and (batch <= 1 or st[0] == n * n * isz):
        return np.ascontiguousarray(flat), True
    return np.ascontiguousarray(flat.swapaxes(-1, -2)), False


def trsm(a: Any, b: Any, upper: bool, left: bool, unit: bool) -> Any:
    """X solving A X = B (left) or X A = B for triangular A (the `upper` triangle read), by BLAS ?trsm on a
    column-major X holding B; a and b share their batch shape. Column-major result."""
    m, n = b.shape[-2:]
    dt = b.dtype
    shape = b.shape[:-2]
    batch = math.prod(shape)
    k = a.shape[-1]
    A, transposed = _f_operand(a)
    X = _fortran(b)
    f = _fn("trsm", dt)
    one = _CT[dt](1.0)
    lda, ldb = max(1, k), max(1, m)
    side, uplo = _ch("L" if left else "R"), _ch("U" if upper != transposed else "L")
    ta, dg = _ch("T" if transposed else "N"), _ch("U" if unit else "N")
    if m and n:
        for i in range(batch):
            f(side, uplo, ta, dg, _ref(m), _ref(n), ctypes.byref(one), _p(A[i]), _ref(lda), _p(X[i]), _ref(ldb))
    return _back(X, shape, m, n)
