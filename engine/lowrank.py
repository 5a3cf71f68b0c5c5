"""torch.svd_lowrank and torch.pca_lowrank (torch/_lowrank.py): Halko et al.'s randomized range finder over the
engine's randn (the seeded stream torch draws, so a seed gives torch's basis), QR and SVD; dense input only
(torch's sparse branch needs sparse tensors, which the engine has none of). Built from differentiable ops, so
gradients flow as in torch."""

from __future__ import annotations

from typing import Any

from engine.tensor import Tensor


def _floating(A: Tensor) -> Any:
    """torch's _linalg_utils.get_floating_dtype: A's dtype when it is a float, else float32."""
    from engine import float32

    return A.dtype if A.dtype.is_floating_point else float32


def get_approximate_basis(A: Tensor, q: int, niter: int | None = 2, M: Tensor | None = None) -> Tensor:
    """An orthonormal (..., m, q) basis approximating the range of A - M (power iterations: niter)."""
    from engine import linalg, randn

    niter = 2 if niter is None else niter
    dtype = A.dtype if A.is_complex() else _floating(A)
    R = randn(A.shape[-1], q, dtype=dtype, device=A.device)
    X = A.matmul(R)
    if M is not None:
        X = X - M.matmul(R)
    Q = linalg.qr(X).Q
    for _ in range(niter):
        X = A.mH.matmul(Q)
        if M is not None:
            X = X - M.mH.matmul(Q)
        Q = linalg.qr(X).Q
        X = A.matmul(Q)
        if M is not None:
            X = X - M.matmul(Q)
        Q = linalg.qr(X).Q
    return Q


def svd_lowrank(A: Tensor, q: int | None = 6, niter: int | None = 2, M: Tensor | None = None) -> tuple:
    """(U, S, V) of a rank-q approximation of A - M: A - M ~ U diag(S) V^H."""
    from engine import linalg

    q = 6 if q is None else q
    m, n = A.shape[-2:]
    if M is not None:
        M = M.broadcast_to(A.size())
    if m < n:
        A = A.mH
        if M is not None:
            M = M.mH
    Q = get_approximate_basis(A, q, niter=niter, M=M)
    B = Q.mH.matmul(A)
    if M is not None:
        B = B - Q.mH.matmul(M)
    U, S, Vh = linalg.svd(B, full_matrices=False)
    V = Vh.mH
    U = Q.matmul(U)
    if m < n:
        U, V = V, U
    return U, S, V


def pca_lowrank(A: Tensor, q: int | None = None, center: bool = True, niter: int = 2) -> tuple:  # noqa: FBT001, FBT002
    """svd_lowrank of A with its column means taken out (center=True): principal components."""
    m, n = A.shape[-2:]
    if q is None:
        q = min(6, m, n)
    elif not (q >= 0 and q <= min(m, n)):
        raise ValueError(f"q(={q}) must be non-negative integer and not greater than min(m, n)={min(m, n)}")
    if not (niter >= 0):
        raise ValueError(f"niter(={niter}) must be non-negative integer")
    if not center:
        return svd_lowrank(A, q, niter=niter, M=None)
    C = A.mean(dim=(-2,), keepdim=True)
    return svd_lowrank(A - C, q, niter=niter, M=None)


TORCH = {"svd_lowrank": svd_lowrank, "pca_lowrank": pca_lowrank}
