"""Gauss-Newton systems of the two-layer linear net, in Kronecker form, computed from S.

Parameters are stacked as theta = [vec(W1); vec(W2)] with the column-major vec the post unpacks
with ``reshape(W.T.shape).T``. Around (W1, W2) the model is linear in (dW1, dW2) up to the term
dW1 dW2:

    (W1 + dW1)(W2 + dW2) - A = R + dW1 W2 + W1 dW2 + dW1 dW2,   R = W1 W2 - A  (ydim, xdim).

**The post's Jacobian over samples.** With vec(B M C) = (C^T kron B) vec(M), the sample residual
r_X = vec(R X) (ydim*nsamples) has the Jacobian

    J_X = [ (W2 X)^T kron I_ydim ,  X^T kron W1 ]        (ydim*nsamples, ydim*wdim + wdim*xdim),

which is the post's ``LHS`` (its ``RHS`` is -r_X). :func:`sample_jacobian` forms it.

**The compressed Jacobian.** Let S = X X^T = C C^T with C (xdim, k) (``problem.S_factor``). Then
X^T = Q C^T for a Q (nsamples, k) with orthonormal columns (both are square roots of S), so

    J_X = (Q kron I) J_C,   r_X = (Q kron I) r_C,   J_C = [ (W2 C)^T kron I ,  C^T kron W1 ],
    r_C = vec(R C),

and ||J_X d + r_X|| = ||J_C d + r_C|| for every d: the same least-squares problem, with the same
minimum-norm solution, in ydim*k rows (60 for the post) instead of ydim*nsamples (10,000). Its
cost does not depend on nsamples. For the expected loss S = I and C = I. :func:`jacobian` forms J_C.

**The normal equations from S** (blocks of J^T J and J^T r, from (A kron B)(C kron D) = AC kron BD):

    J^T J = [ (W2 S W2^T) kron I      (W2 S) kron W1      ]      J^T r = [ vec(R S W2^T) ]
            [ (S W2^T) kron W1^T      S kron (W1^T W1)    ],             [ vec(W1^T R S) ].

(J^T r is half the gradient of tr(R S R^T).) The diagonal blocks are the Kronecker-factored
curvature blocks of K-FAC, exact for a linear net (Martens & Grosse 2015, section 3).

**Rank deficiency and the cutoff.** (W1 M, M^-1 W2) gives the same product for every invertible
M, so J has a null space of dimension wdim^2 (at least) and the Gauss-Newton step is defined as the
minimum-norm least-squares solution. Computed singular values of a rank-deficient matrix are not
zero but of order eps * s_max; :func:`cutoff` drops those below rcond * s_max with numpy's
``lstsq`` default rcond = eps * max(M, N) ("default", numpy >= 1.14; see the numpy.linalg.lstsq
docs), or numpy's old rcond = -1 ("machine", the cutoff eps * s_max the post ran with), or a
given number. With "machine", rounding-level singular values of the null space can survive the
cutoff and be inverted, giving huge steps along the symmetry directions.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from linnet.core.errors import LinnetError
from linnet.optimizers.linalg.cutoff import numpy_rcond, pinv_apply, rcond_ratio
from linnet.problems.jacobian import dense_jacobian, jvp, row_factors, vjp

#: the most rows (ydim m) of the Jacobian whose dense row-space system ``solver=direct`` forms: 4096 rows
#: is a 4096^2 Gram matrix of 134 MB in float64. The one threshold of ``lm`` and ``gauss-newton``:
#: ``solver=auto`` is direct up to it and matrix-free CG (:mod:`.krylov`) beyond
ROW_SPACE_MAX = 4096


def check_row_space(owner, problem) -> None:
    """Raise LinnetError where the dense row-space system (ydim m)^2 would be too large to form."""
    rows = problem.ydim * problem.S_factor.shape[1]
    if rows > ROW_SPACE_MAX:
        raise LinnetError(f"{owner.name}: the direct solve forms a {rows} x {rows} row-space matrix "
                          f"({rows * rows * 8 / 2**30:.1f} GiB); use lm[solver=cg] or gauss-newton[...,solver=cg] "
                          f"(matrix-free; solver=auto switches) for outputs with ydim * rank(S) > {ROW_SPACE_MAX}")


def check_two_layers(owner, weights) -> None:
    if len(weights) != 2:
        raise LinnetError(f"{owner.name}: needs two layers (W1, W2), got {len(weights)}")


def pack(*weights) -> np.ndarray:
    """theta = [vec(W1); ...; vec(WN)] (column-major vec), shape (sum_k n_{k-1} n_k,)."""
    return np.concatenate([W.ravel(order="F") for W in weights])


def unpack(theta: np.ndarray, shapes) -> tuple[np.ndarray, ...]:
    """Inverse of :func:`pack` for the layers' ``shapes``."""
    out, start = [], 0
    for a, b in shapes:
        out.append(theta[start:start + a * b].reshape((a, b), order="F"))
        start += a * b
    return tuple(out)


def jacobian(C: np.ndarray, weights) -> np.ndarray:
    """The compressed Jacobian J_C, (ydim*k, nparams); at depth 2 [(W2 C)^T kron I_ydim, C^T kron W1].

    The one definition is :func:`linnet.problems.jacobian.dense_jacobian` (blocks (Suf_k C)^T kron Pre_k).
    """
    return dense_jacobian(weights, C)


def residual_vector(C: np.ndarray, R: np.ndarray) -> np.ndarray:
    """The compressed residual r_C = vec(R C), (ydim*k,); (B, ydim*k) for stacks (B, ...)."""
    return (R @ C).swapaxes(-1, -2).reshape(*R.shape[:-2], -1)


def _unvec(z: np.ndarray, ydim: int) -> np.ndarray:
    """Z (ydim, k) from z = vec(Z) (column-major); stacks (B, ydim*k) -> (B, ydim, k)."""
    return z.reshape(*z.shape[:-1], -1, ydim).swapaxes(-1, -2)


def sample_jacobian(X: np.ndarray, weights) -> np.ndarray:
    """The post's Jacobian over samples, [(W2 X)^T kron I, X^T kron W1], (ydim*nsamples, nparams)."""
    W1, W2 = weights
    return np.hstack([np.kron((W2 @ X).T, np.eye(W1.shape[0], dtype=W1.dtype)), np.kron(X.T, W1)])


def sample_residual_vector(X: np.ndarray, R: np.ndarray) -> np.ndarray:
    """The post's residual over samples, vec(W1 W2 X - Y) = vec(R X), (ydim*nsamples,)."""
    return (R @ X).ravel(order="F")


def normal_equations(S: np.ndarray, weights, R: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(J^T J, J^T r) from S alone (module docstring), shapes (nparams, nparams) and (nparams,)."""
    W1, W2 = weights
    eye = np.eye(W1.shape[0], dtype=W1.dtype)
    W2S = W2 @ S
    JtJ = np.block([
        [np.kron(W2S @ W2.T, eye), np.kron(W2S, W1)],
        [np.kron(W2S.T, W1.T), np.kron(S, W1.T @ W1)],
    ])
    RS = R @ S
    return JtJ, pack(RS @ W2.T, W1.T @ RS)


def row_gram(C: np.ndarray, weights) -> np.ndarray:
    """J J^T of the compressed Jacobian, (ydim k, ydim k), from its Kronecker factors.

    J J^T = sum_k R_k kron L_k (:func:`linnet.problems.jacobian.row_factors`; at depth 2
    (B^T B) kron I + (C^T C) kron (W1 W1^T), B = W2 C): it maps vec(Z), Z (ydim, k), to
    vec(sum_k L_k Z R_k). Entry ((a, i), (b, j)) of the column-major layout is sum_k R_k[a, b] L_k[i, j].
    Stacks (layers (B, ...), C (B, xdim, k)) give (B, ydim k, ydim k), each as its member alone.
    """
    lead, ydim, k = weights[0].shape[:-2], weights[0].shape[-2], C.shape[-1]
    gram = np.zeros((*lead, k, ydim, k, ydim), dtype=weights[0].dtype)
    diagonal = np.arange(ydim)
    for L, R in row_factors(weights, C):
        R = np.eye(k, dtype=gram.dtype) if R is None else R
        if L is None:  # the identity factor: i == j only (the indexed view is (ydim, *lead, k, k))
            gram[..., diagonal, :, diagonal] += R
        else:
            gram += R[..., :, None, :, None] * L[..., None, :, None, :]
    return gram.reshape(*lead, k * ydim, k * ydim)


def damped_step(C: np.ndarray, weights, r: np.ndarray, gram: np.ndarray, mu: float):
    """The Levenberg-Marquardt step d = -(J^T J + mu I)^-1 J^T r, solved in J's row space.

    By the push-through identity d = -J^T z with (J J^T + mu I) z = r, where ``gram`` = J J^T
    (:func:`row_gram`) and r = vec(R C) (:func:`residual_vector`); J^T vec(Z) is
    :func:`linnet.problems.jacobian.vjp` with Z = unvec(z) (ydim, k). Returns (deltas, z), deltas in the
    layers' shapes; ||J d + r|| = mu ||z||. Stacks: gram (B, n, n), r (B, n), mu (B,) or a number.
    """
    mu = np.asarray(mu, dtype=r.dtype)[..., None, None]
    z = np.linalg.solve(gram + mu * np.eye(r.shape[-1], dtype=r.dtype), r[..., None])[..., 0]
    return tuple(-G for G in vjp(weights, _unvec(z, weights[0].shape[-2]), C)), z


def row_space_step(C: np.ndarray, weights, R: np.ndarray, rcond: str = "default"):
    """The minimum-norm Gauss-Newton step -J^+ r = -J^T (J J^T)^+ r at any depth, from the row Gram.

    The pseudoinverse of J J^T (:func:`row_gram`, (ydim k)^2, independent of nsamples) keeps the
    eigenvalues e > ratio * e_max with ratio = :func:`rcond_ratio` of (J J^T's shape): a cutoff on
    J's singular values at sqrt(ratio) s_max, since the Gram's eigenvalues are only accurate to about
    eps e_max. Returns the layers' deltas. Stacks: one eigh per member, in a loop.
    """
    gram, r = row_gram(C, weights), residual_vector(C, R)
    z = np.stack([pinv_apply(g, v, rcond) for g, v in zip(gram.reshape(-1, *gram.shape[-2:]),
                                                             r.reshape(-1, r.shape[-1]))]).reshape(r.shape)
    return tuple(-G for G in vjp(weights, _unvec(z, weights[0].shape[-2]), C))


#: blocks whose Gram eigenvalues span more than 1 / GRAM_RATIO are decomposed by SVD instead
GRAM_RATIO = 1e-6


class Spectrum(NamedTuple):
    """The SVD of the compressed Jacobian J, obtained through its Kronecker structure (:func:`spectrum`).

    Attributes:
        Q: (ydim, ydim) left singular vectors of W1 (completed to a basis).
        Et: (ydim, k, k) right singular vectors (rows) of the blocks G_j = [B; m_j C].
        s: (ydim, k) the singular values of J (all ydim * k of them).
        coef: (ydim, k) coordinates b = U^T r of r = vec(R C) in J's left singular basis U.
        B: (wdim, k) W2 C.
        C: (xdim, k) the factor of S.
        W1: (ydim, wdim).
    """

    Q: np.ndarray
    Et: np.ndarray
    s: np.ndarray
    coef: np.ndarray
    B: np.ndarray
    C: np.ndarray
    W1: np.ndarray

    @property
    def nparams(self) -> int:  # of one member
        return self.W1.shape[-2] * self.W1.shape[-1] + self.B.shape[-2] * self.C.shape[-2]


def spectrum(C: np.ndarray, weights, R: np.ndarray) -> Spectrum:
    """The SVD of J = [(W2 C)^T kron I, C^T kron W1] from small pieces, never forming J.

    J J^T = K1 kron I + K2 kron (W1 W1^T), K1 = B^T B (B = W2 C), K2 = C^T C, maps vec(Z),
    Z (ydim, k), to vec(Z K1 + W1 W1^T Z K2). With the full SVD W1 = Q diag(m) P^T (m padded with
    zeros to ydim) and Z = Q Z~, row j of Z~ is mapped to z~_j (K1 + m_j^2 K2) = z~_j G_j^T G_j
    with G_j = [B; m_j C] ((wdim + xdim) x k). So with the SVDs G_j = . diag(s_j) E_j^T, the
    matrix U = (I kron Q) blockdiag(E_j) is orthogonal and J J^T = U diag(s^2) U^T: the s_j are
    the singular values of J and U its left singular vectors.

    Accuracy: the eigendecomposition of the Gram matrix G_j^T G_j is fast but gives its small
    eigenvalues only to about eps * s_max^2, i.e. singular values s to eps * (s_max / s)^2
    relative. Blocks whose smallest eigenvalue is at most ``GRAM_RATIO`` = 1e-6 times the
    largest (singular-value ratio 1e-3, so at least 1e-10 relative accuracy above it) are redone
    with the SVD of G_j itself, which keeps every singular value accurate to eps * s_max as the
    SVD of J would; numpy's lstsq cutoff then applies unchanged. Cost: one ydim x ydim SVD, a
    batched eigh of ydim k x k matrices and, where needed, small (wdim + xdim) x k SVDs: 40 to
    120 us for the post against about 400 us for the SVD of its 60 x 96 J. Stacks (layers (B, ...),
    C (B, xdim, k), R (B, ydim, xdim)) give each field a leading batch axis.
    """
    W1, W2 = weights
    lead, ydim, k = W1.shape[:-2], W1.shape[-2], C.shape[-1]
    B = W2 @ C
    Q, m, _ = np.linalg.svd(W1)
    m = np.concatenate([m, np.zeros((*lead, ydim - m.shape[-1]), dtype=m.dtype)], axis=-1)
    G = np.concatenate([np.broadcast_to(B[..., None, :, :], (*lead, ydim, *B.shape[-2:])),
                        m[..., None, None] * C[..., None, :, :]], axis=-2)
    lam, E = np.linalg.eigh(np.swapaxes(G, -1, -2) @ G)
    s, Et = np.sqrt(np.maximum(lam, 0.0)), np.swapaxes(E, -1, -2)
    refine = lam[..., 0] <= GRAM_RATIO * lam[..., -1].max(axis=-1, keepdims=True)
    if refine.any():
        _, s_r, Et[refine] = np.linalg.svd(G[refine], full_matrices=True)
        s[refine] = np.pad(s_r, ((0, 0), (0, k - s_r.shape[1])))
    coef = np.einsum("...jk,...jlk->...jl", np.swapaxes(Q, -1, -2) @ (R @ C), Et)
    return Spectrum(Q, Et, s, coef, B, C, W1)


def kept(sp: Spectrum, rcond: str = "default") -> np.ndarray:
    """Mask of the singular values of J above the cutoff rcond * s_max (see :func:`rcond_ratio`), per member."""
    rows = sp.s.shape[-2] * sp.s.shape[-1]
    return sp.s > rcond_ratio(rcond, (rows, sp.nparams), sp.s.dtype) * sp.s.max(axis=(-2, -1), keepdims=True)


def spectral_step(sp: Spectrum, mu: float = 0.0, rcond: str = "default"):
    """(dW1, dW2) = -(J^T J + mu I)^-1 J^T r = -J^T (J J^T + mu I)^-1 r from a :class:`Spectrum`.

    With b = coef: vec(Z) = U diag(w) b, w = 1 / (s^2 + mu) on singular values kept by
    :func:`kept` (0 elsewhere), then J^T vec(Z) = [vec(Z B^T); vec(W1^T Z C^T)]. With mu = 0 this
    is the minimum-norm least-squares solution -J^+ r (J^+ = J^T (J J^T)^+), as lstsq computes it.
    """
    keep = kept(sp, rcond)
    w = np.where(keep, 1.0 / np.where(keep, sp.s**2 + mu, 1.0), 0.0)
    Z = sp.Q @ np.einsum("...jl,...jlk->...jk", sp.coef * w, sp.Et)
    return -(Z @ np.swapaxes(sp.B, -1, -2)), -(np.swapaxes(sp.W1, -1, -2) @ Z @ np.swapaxes(sp.C, -1, -2))


def structured_step(problem, weights, R: np.ndarray, rcond: str = "default"):
    """The minimum-norm Gauss-Newton step from S (cost free of nsamples), one delta per layer."""
    return min_norm_step(problem.S_factor, weights, R, rcond)


def min_norm_step(C: np.ndarray, weights, R: np.ndarray, rcond: str = "default"):
    """:func:`structured_step` from S's factor C; stacks too. Two layers: through J's SVD
    (:func:`spectrum`), accurate to eps * s_max; any other depth: :func:`row_space_step`."""
    if len(weights) == 2:
        return spectral_step(spectrum(C, weights, R), rcond=rcond)
    return row_space_step(C, weights, R, rcond)


def sample_step(problem, weights, R: np.ndarray | None = None, rcond: str = "default"):
    """The post's step: form J_X over the samples and call numpy.linalg.lstsq (as the post does).

    The residual is computed as the post computes it, Yhat - Y with Yhat = W1 (W2 X), so it
    carries the post's absolute rounding error (about eps * |Y| per entry, however small the
    residual); ``R`` is not used. With rcond="machine" that noise meets rounding-level singular
    values of J_X that survive the cutoff: the source of the post's floor.
    """
    if problem.X is None:
        raise LinnetError("the Kronecker Jacobian over samples needs samples (nsamples > 0)")
    if len(weights) != 2:
        raise LinnetError(f"the post's Kronecker Jacobian over samples is two-layer; got {len(weights)} layers "
                          "(use jacobian=structured)")
    W1, W2 = weights
    J = sample_jacobian(problem.X, weights)
    r = (W1 @ (W2 @ problem.X) - problem.Y).ravel(order="F")
    d = np.linalg.lstsq(J, -r, rcond=numpy_rcond(rcond))[0]
    return unpack(d, [W.shape for W in weights])


def linearised_loss(S: np.ndarray, R: np.ndarray, weights, deltas) -> float:
    """The Gauss-Newton model ||J d + r||^2 = tr(E S E^T), E = R + sum_k Pre_k dWk Suf_k (jvp)."""
    E = R + jvp(weights, deltas)
    return float(np.vdot(E @ S, E))
