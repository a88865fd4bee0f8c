"""Matrix-free Levenberg-Marquardt and Gauss-Newton steps: conjugate gradients in the Jacobian's row space.

For layers (W1, ..., WN), S = C C^T (C of shape (xdim, m)) and the residual matrix R C (ydim, m),
the damped step d = -(J^T J + mu I)^-1 J^T r equals -J^T z with (J J^T + mu I) z = r (the
push-through identity), r = vec(R C). In the row space the operator is

    K_mu(V) = sum_k L_k V R_k + mu V,    L_k (ydim, ydim),  R_k (m, m)

(:func:`linnet.problems.jacobian.row_factors`), so applying it costs 2N matrix products of the output's size
(ydim and m), whatever the widths, and nothing larger than a layer, P or S is ever formed. This
module solves K_mu(Z) = R C by preconditioned conjugate gradients (Hestenes & Stiefel 1952; Saad
2003, "Iterative methods for sparse linear systems", Algorithm 9.1) on (ydim, m) matrices with the
Frobenius inner product, truncated by Eisenstat-Walker forcing terms (:func:`forcing_term`).

Preconditioners (``precond=``):

* ``"kron"``: the exact inverse of the first and the last layer's terms plus the damping,
  M(V) = V R_1 + L_N V R_N + mu V (L_1 = I as nothing precedes layer 1). With L_N = Q diag(lam) Q^T
  and the generalised eigendecomposition (R_1 + mu I) U = R_N U diag(theta), U^T R_N U = I
  (R_N = C^T C is positive definite), every row of Q^T V decouples and

      M^-1(V) = Q [ (Q^T V U) / (lam_i + theta_j) ] U^T,

  four (ydim or m)-sized products per application: the simultaneous diagonalisation that solves a
  sum of two Kronecker products exactly, as in Kronecker-factored curvature approximations (Martens
  & Grosse 2015, "Optimizing neural networks with Kronecker-factored approximate curvature", their
  section 6.3 inverts such sums approximately; here it is exact). For two layers M = K_mu, so CG
  converges in one iteration; for N > 2 the middle layers' terms are what CG iterates on.
* ``"jacobi"``: the diagonal of K_mu, diag(L_k) diag(R_k)^T summed over k, plus mu.
* ``"none"``: plain conjugate gradients.

Shapes: V, Z, R C are (ydim, m); a layer Wk is (n_{k-1}, n_k).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import scipy.linalg

from linnet.core.errors import LinnetError
from linnet.problems import jacobian as jac

PRECONDITIONERS = ("kron", "jacobi", "none")

#: Eisenstat & Walker (1996), "Choosing the forcing terms in an inexact Newton method", choice 2:
#: eta_k = gamma (||F_k|| / ||F_{k-1}||)^alpha with gamma = 0.9, alpha = 2, safeguarded by
#: max(eta_k, gamma eta_{k-1}^alpha) when gamma eta_{k-1}^alpha > 0.1 and capped at eta_max = 0.9;
#: eta_0 = 0.5 (their experiments' starting value).
EW_GAMMA, EW_ALPHA, EW_MAX, EW_START = 0.9, 2.0, 0.9, 0.5


class RowSystem(NamedTuple):
    """J J^T in factored form at one point, for any damping (built once per outer step).

    Attributes:
        factors: [(L_k, R_k)] from :func:`linnet.problems.jacobian.row_factors` (None = identity).
        parts: the prefix and suffix products, reused by :func:`step_from_row`.
        C: (xdim, m) the factor of S, or None for S = I.
        lam, Q: the eigendecomposition of L_N (ydim,), (ydim, ydim), for the "kron" preconditioner.
        m: the number of columns of R C (m = xdim when C is None).
    """

    factors: list
    parts: jac.PartialProducts
    C: np.ndarray | None
    lam: np.ndarray
    Q: np.ndarray
    m: int


def row_system(weights, C: np.ndarray | None = None) -> RowSystem:
    """Factor J J^T at ``weights`` (layers (n_{k-1}, n_k)) for the row-space solves below."""
    parts = jac.partial_products(weights)
    factors = jac.row_factors(weights, C, parts)
    L_last = factors[-1][0] if len(weights) > 1 else None
    ydim = weights[0].shape[0]
    if L_last is None:  # one layer: the "last" term is the first, L = I
        lam, Q = np.ones(ydim, dtype=weights[0].dtype), np.eye(ydim, dtype=weights[0].dtype)
    else:
        lam, Q = np.linalg.eigh(L_last)
        lam = np.maximum(lam, 0.0)
    m = weights[-1].shape[1] if C is None else C.shape[1]
    return RowSystem(factors, parts, C, lam, Q, m)


def apply(system: RowSystem, V: np.ndarray, mu: float) -> np.ndarray:
    """K_mu(V) = J J^T V + mu V = sum_k L_k V R_k + mu V, V (ydim, m)."""
    out = jac.row_gram_apply(system.factors, V)
    return out + mu * V if mu else out


def _eye(n, dtype):
    return np.eye(n, dtype=dtype)


def preconditioner(system: RowSystem, mu: float, kind: str = "kron"):
    """The function V -> M^-1 V of the preconditioner ``kind`` (module docstring) at damping mu."""
    if kind == "none":
        return lambda V: V
    factors, m = system.factors, system.m
    ydim, dtype = system.Q.shape[0], system.Q.dtype
    if kind == "jacobi":
        diag = np.full((ydim, m), mu, dtype=dtype)
        for L, R in factors:
            dl = np.ones(ydim, dtype=dtype) if L is None else np.diag(L)
            dr = np.ones(m, dtype=dtype) if R is None else np.diag(R)
            diag += np.outer(dl, dr)
        return lambda V: V / diag
    if kind != "kron":
        raise LinnetError(f"unknown preconditioner {kind!r}; choose one of {', '.join(PRECONDITIONERS)}")
    if len(factors) == 1:
        Ra = np.zeros((m, m), dtype=dtype)
    else:
        Ra = _eye(m, dtype) if factors[0][1] is None else factors[0][1]
    Rb = factors[-1][1]
    Rb = _eye(m, dtype) if Rb is None else Rb
    theta, U = scipy.linalg.eigh(Ra + mu * _eye(m, dtype), Rb)
    denom = system.lam[:, None] + theta[None, :]
    # mu = 0 with a singular R_1 and L_N (Gauss-Newton on narrow layers): keep M^-1 bounded
    denom = np.maximum(denom, np.finfo(dtype).eps * float(denom.max()))
    Q = system.Q
    return lambda V: Q @ ((Q.T @ V @ U) / denom) @ U.T


class CGInfo(NamedTuple):
    """What one inner solve did: its iterations and the relative residual it stopped at."""

    iterations: int
    relative_residual: float
    converged: bool


def cg(op, B: np.ndarray, precond, rtol: float, maxiter: int):
    """Preconditioned conjugate gradients for op(Z) = B, Z and B (ydim, m), from Z = 0.

    Saad (2003), Algorithm 9.1, with the Frobenius inner product. Stops when ||B - op(Z)|| <= rtol
    ||B|| (the recurrence's residual) or after ``maxiter`` iterations. Returns (Z, S, CGInfo) with S
    the final residual B - op(Z) as the recurrence carries it. (scipy.sparse.linalg.cg solves the
    same system but reports neither the iteration count nor the residual, which the truncation
    rule and the LM gain ratio need.)
    """
    Z = np.zeros_like(B)
    S = B.copy()
    bnorm = float(np.linalg.norm(B))
    if bnorm == 0:
        return Z, S, CGInfo(0, 0.0, True)
    Y = precond(S)
    P = Y.copy()
    sy = float(np.vdot(S, Y))
    k = 0
    rel = 1.0
    while k < maxiter:
        KP = op(P)
        curv = float(np.vdot(P, KP))
        if not curv > 0:
            break
        alpha = sy / curv
        Z += alpha * P
        S -= alpha * KP
        k += 1
        rel = float(np.linalg.norm(S)) / bnorm
        if rel <= rtol:
            return Z, S, CGInfo(k, rel, True)
        Y = precond(S)
        sy_new = float(np.vdot(S, Y))
        P = Y + (sy_new / sy) * P
        sy = sy_new
    return Z, S, CGInfo(k, rel, rel <= rtol)


def solve(system: RowSystem, RC: np.ndarray, mu: float, rtol: float, *, precond: str = "kron",
          maxiter: int = 500):
    """Z with (J J^T + mu I) Z ~= R C to relative residual ``rtol``; returns (Z, S, CGInfo), S the residual."""
    return cg(lambda V: apply(system, V, mu), RC, preconditioner(system, mu, precond), rtol, maxiter)


def dense_operator(system: RowSystem, mu: float) -> np.ndarray:
    """J J^T + mu I as a matrix, (ydim m, ydim m): sum_k R_k kron L_k + mu I (column-major vec).

    The exact solve's matrix (``solver=dense``): (ydim m)^2 entries, so only for small outputs.
    """
    ydim, m, dtype = system.Q.shape[0], system.m, system.Q.dtype
    K = mu * np.eye(ydim * m, dtype=dtype)
    for L, R in system.factors:
        K += np.kron(_eye(m, dtype) if R is None else R, _eye(ydim, dtype) if L is None else L)
    return K


def direct_solve(system: RowSystem, RC: np.ndarray, mu: float, rtol: float = 0.0, *, precond: str = "kron",
                 maxiter: int = 0):
    """The direct row-space solve, with :func:`solve`'s signature and return.

    Cholesky of :func:`dense_operator` when mu > 0; the minimum-norm least-squares solution (numpy's
    lstsq, default cutoff) when mu = 0, where J J^T may be singular (Gauss-Newton).
    """
    K, rhs = dense_operator(system, mu), RC.ravel(order="F")
    z = scipy.linalg.solve(K, rhs, assume_a="pos") if mu > 0 else np.linalg.lstsq(K, rhs, rcond=None)[0]
    Z = z.reshape(RC.shape, order="F")
    return Z, RC - apply(system, Z, mu), CGInfo(0, 0.0, True)


def step_from_row(system: RowSystem, weights, Z: np.ndarray) -> tuple:
    """The parameter step d = -J^T Z, layer shapes (:func:`linnet.problems.jacobian.vjp`)."""
    return tuple(-g for g in jac.vjp(weights, Z, system.C, system.parts))


def forcing_term(norm: float, previous_norm: float | None, previous_eta: float | None,
                 eta_min: float = 0.0) -> float:
    """Eisenstat-Walker choice 2 forcing term (constants above) for residual norms ||F_k||, ||F_{k-1}||.

    The inner solve stops at relative residual eta_k: loose far from the solution, tightening
    quadratically as ||F|| falls, so the outer iteration keeps the local rate of the exact method.
    ``eta_min`` bounds it below (no iterations spent beneath what rounding allows).
    """
    if previous_norm is None or previous_eta is None or previous_norm == 0:
        return EW_START
    eta = EW_GAMMA * (norm / previous_norm) ** EW_ALPHA
    safeguard = EW_GAMMA * previous_eta**EW_ALPHA
    if safeguard > 0.1:
        eta = max(eta, safeguard)
    return float(min(max(eta, eta_min), EW_MAX))
