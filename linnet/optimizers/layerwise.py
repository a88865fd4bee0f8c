"""Layer-by-layer second-order optimizers for W1 ... WN ~ A: K-FAC, ALS and the closed form.

Layer k's Gauss-Newton block is exactly a Kronecker product for a linear net: with
Pre_k = W1 ... W_{k-1} and Suf_k = W_{k+1} ... WN (:mod:`linnet.problems.jacobian`), the loss restricted to
layer k is tr((Pre_k Wk Suf_k - A) S (...)^T), a linear least-squares problem in Wk whose normal
matrix is (Suf_k S Suf_k^T) kron (Pre_k^T Pre_k) (Martens & Grosse 2015, section 3).

* ``kfac[step=S]``: one Kronecker-factored block per layer, all layers at once (K-FAC, exact
  blocks); ``damping=adaptive`` adds factored Tikhonov damping (their section 6.3) adapted by the
  Levenberg-Marquardt rule (their section 6.5).
* ``als``: block-coordinate least squares, an exact solve for W1, then W2 (with the new W1), ...
* ``closed-form``: the best product (the S-weighted truncated SVD of A to the narrowest width),
  factored balanced (:func:`linnet.problems.inits.balanced_from_product`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from linnet.core.errors import LinnetError
from linnet.core.validation import check_positive
from linnet.optimizers.base import Optimizer
from linnet.optimizers.linalg import gauss_newton as gn
from linnet.optimizers.registration import register
from linnet.optimizers.second_order import add
from linnet.optimizers.stopping import NO_PROGRESS
from linnet.problems.inits import balanced_from_product
from linnet.problems.jacobian import partial_products, vjp
from linnet.problems.losses import loss

DAMPINGS = ("none", "adaptive")


class KFACState(NamedTuple):
    damping: float  #: lambda, the Tikhonov damping (0 when undamped)


def _damped_inverse(M: np.ndarray, shift: float) -> np.ndarray:
    """(M + shift I)^-1 for symmetric PSD M; pinv(M) (cutoff dim * eps * e_max) when shift is 0."""
    e, V = np.linalg.eigh(M)
    if shift > 0:
        inv = 1.0 / (e + shift)
    else:
        keep = e > len(e) * np.finfo(M.dtype).eps * max(e[-1], 0.0)
        inv = np.where(keep, 1.0 / np.where(keep, e, 1.0), 0.0)
    return (V * inv) @ V.T


@register("kfac")
@dataclass(frozen=True)
class KFAC(Optimizer):
    """K-FAC = layer-wise Gauss-Newton for a linear net; damping none or adaptive (Martens & Grosse 2015).

    Layer k's Gauss-Newton block is A_k kron G_k (column-major vec; A_k symmetric) with
    A_k = Suf_k S Suf_k^T (input side, (n_k, n_k); S for the last layer) and G_k = Pre_k^T Pre_k
    (output side, (n_{k-1}, n_{k-1}); I for the first layer). With Gamma_k = Pre_k^T R S Suf_k^T
    (half the gradient) each layer moves by

        dW_k = -step * (G_k + gamma / pi_k I)^-1 Gamma_k (A_k + pi_k gamma I)^-1,

    gamma = sqrt(lambda), pi_k = sqrt((tr A_k / dim A_k) / (tr G_k / dim G_k)): the factored
    Tikhonov damping of Martens & Grosse (2015), section 6.3. Undamped (lambda = 0) the inverses
    are pseudoinverses (eigenvalue cutoff dim * eps * e_max), and every layer solves for the whole
    residual at once, so the linear change is about N times the Gauss-Newton one: step 1/N is the
    natural scale (0.5 for the post), and the simultaneous update can still overshoot.

    ``damping=adaptive``: lambda_0 = tau * max_k (tr A_k / dim A_k)(tr G_k / dim G_k); after each
    step the reduction ratio rho = (L(new) - L) / (M(step) - L), with M the exact Gauss-Newton
    model ||J d + r||^2, adapts lambda by the Levenberg-Marquardt rule of their section 6.5:
    lambda <- omega lambda if rho > 3/4, lambda / omega if rho < 1/4, omega = (19/20)^5 (their
    omega_1 with T_1 = 5, applied here every iteration). A step that increases the loss is
    rejected (weights kept, lambda / omega), so adaptive K-FAC never increases the loss.
    """

    step: float
    damping: str = "none"
    tau: float = 1e-3
    example = "kfac[step=0.5]"
    omega = (19 / 20) ** 5

    def __post_init__(self):
        check_positive(self, step=self.step, tau=self.tau)
        if self.damping not in DAMPINGS:
            raise LinnetError(f"{self.name}: damping must be one of {', '.join(DAMPINGS)}, "
                              f"got {self.damping!r}")

    @staticmethod
    def factors(problem, weights):
        """[(A_k, G_k)] for each layer: the Kronecker factors of the Gauss-Newton diagonal blocks."""
        parts = partial_products(weights)
        out = []
        for W, pre, suf in zip(weights, parts.prefixes, parts.suffixes, strict=True):
            A = problem.S if suf is None else suf @ problem.S @ suf.T
            G = np.eye(W.shape[0], dtype=W.dtype) if pre is None else pre.T @ pre
            out.append((A, G))
        return out

    def init(self, problem, weights):
        if self.damping == "none":
            return KFACState(0.0)
        scale = max(np.trace(A) / len(A) * np.trace(G) / len(G) for A, G in self.factors(problem, weights))
        return KFACState(self.tau * float(scale))

    def direction(self, problem, weights, R, damping: float):
        """The layers' deltas before the step scale, for Tikhonov damping lambda = ``damping``."""
        gammas = vjp(weights, R @ problem.S)
        gamma = np.sqrt(damping)
        out = []
        for (A, G), Gam in zip(self.factors(problem, weights), gammas, strict=True):
            pi = np.sqrt((np.trace(A) / len(A)) / (np.trace(G) / len(G))) if damping > 0 else 1.0
            out.append(-(_damped_inverse(G, gamma / pi) @ Gam @ _damped_inverse(A, pi * gamma)))
        return tuple(out)

    def update(self, problem, weights, evaluation, state):
        R = evaluation.residual
        deltas = self.direction(problem, weights, R, state.damping)
        new = add(weights, deltas, self.step)
        if self.damping == "none":
            return new, state
        scaled = tuple(self.step * d for d in deltas)
        predicted = gn.linearised_loss(problem.S, R, weights, scaled) - evaluation.loss
        actual = loss(problem, new) - evaluation.loss
        rho = actual / predicted if predicted < 0 else -np.inf
        lam = state.damping
        if rho > 3 / 4:
            lam *= self.omega
        elif rho < 1 / 4:
            lam /= self.omega
        return (new if actual < 0 else weights), KFACState(lam)

    def trace(self, problem, weights, state):
        return {"damping": state.damping} if self.damping != "none" else {}


# -- block-coordinate least squares and the closed form ------------------------------------------


def solve_layer(problem, weights, k: int) -> np.ndarray:
    """argmin over Wk of tr((Pre_k Wk Suf_k - A) S (...)^T), min-norm: pinv(Pre_k) (A C) pinv(Suf_k C).

    (S = C C^T, ``problem.S_factor``.) At depth 2 this is the post's W1 = Y pinv(W2 X) for k = 0:
    with X^T = Q C^T (Q orthonormal columns), pinv(W2 X) = Q pinv(W2 C), so A X pinv(W2 X) =
    A C pinv(W2 C). Both pseudoinverses are applied by numpy.linalg.lstsq.
    """
    C = problem.S_factor
    parts = partial_products(weights)
    pre, suf = parts.prefixes[k], parts.suffixes[k]
    Z = problem.A @ C if pre is None else np.linalg.lstsq(pre, problem.A @ C, rcond=None)[0]
    right = C if suf is None else suf @ C
    return np.linalg.lstsq(right.T, Z.T, rcond=None)[0].T


class SolveState(NamedTuple):
    done: bool


@register("als")
@dataclass(frozen=True)
class ALS(Optimizer):
    """Block-coordinate least squares: W1 <- argmin with the others fixed, then W2, ..., then WN.

    Each layer's update is an exact minimisation (:func:`solve_layer`), so the loss cannot
    increase; a sweep that does not decrease it (the rounding floor) is discarded and ends the run
    (NO_PROGRESS: it stopped, whether or not at the minimum). At depth 2 this is alternating least
    squares.
    """

    example = "als"
    done_status = NO_PROGRESS

    def init(self, problem, weights):
        return SolveState(False)

    def update(self, problem, weights, evaluation, state):
        new = list(weights)
        for k in range(len(new)):
            new[k] = solve_layer(problem, new, k)
        new = tuple(new)
        if loss(problem, new) < evaluation.loss:
            return new, SolveState(False)
        return weights, SolveState(True)

    def is_done(self, state) -> bool:
        return state.done


def best_product(problem, rank: int) -> np.ndarray:
    """argmin over P of rank <= ``rank`` of tr((P - A) S (P - A)^T): [A C]_rank pinv(C), (ydim, xdim).

    [M]_r is the truncated SVD (Eckart & Young 1936); since the rows of [A C]_r lie in C's row
    space, [A C]_r pinv(C) C = [A C]_r, which is the best rank-r approximation of A C.
    """
    C = problem.S_factor
    U, s, Vt = np.linalg.svd(problem.A @ C, full_matrices=False)
    return ((U[:, :rank] * s[:rank]) @ Vt[:rank]) @ np.linalg.pinv(C)


@register("closed-form")
@dataclass(frozen=True)
class ClosedForm(Optimizer):
    """The best product of rank <= the narrowest width (:func:`best_product`), factored balanced.

    When rank(A) is at most every width the product is A on the samples: zero loss up to rounding,
    the baseline every "reaches machine precision" claim is measured against; otherwise the best
    loss any weights of these shapes can reach. The run stops as converged after the one update.
    """

    example = "closed-form"

    def init(self, problem, weights):
        return SolveState(False)

    def update(self, problem, weights, evaluation, state):
        rank = min(min(W.shape) for W in weights)
        P = best_product(problem, rank)
        return balanced_from_product(P, [W.shape for W in weights]), SolveState(True)

    def is_done(self, state) -> bool:
        return state.done
