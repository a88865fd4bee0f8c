"""Second-order optimizers for W1 W2 ~ A: Gauss-Newton, Levenberg-Marquardt, K-FAC, ALS, closed form.

All of them work from S = X X^T through the compressed Jacobian and the normal equations of
:mod:`linnet.gauss_newton`, so no step costs more with more samples (except the post-faithful
``gauss-newton[...,jacobian=kron]``, which forms the post's Jacobian over samples on purpose).

* ``gauss-newton[step=S]``: the post's "Levenberg-Marquardt": theta <- theta + S d with d the
  minimum-norm least-squares solution of the linearised problem. Near a zero-residual solution the
  residual R contracts as R <- (1 - S) R + S^2 dW1 dW2, so the loss contracts by (1 - S)^2.
* ``lm``: Levenberg-Marquardt with Nielsen's damping rule (Nielsen 1999; Madsen, Nielsen &
  Tingleff 2004, "Methods for non-linear least squares problems", Algorithm 3.16).
* ``kfac[step=S]``: block-diagonal (layer-wise) Gauss-Newton, which for a linear net is exact
  K-FAC (Martens & Grosse 2015); ``damping=adaptive`` adds factored Tikhonov damping (their
  section 6.3) adapted by the Levenberg-Marquardt rule (their section 6.5).
* ``als``: alternating least squares, exact minimisation over W1, then over W2.
* ``closed-form``: W1 = Y pinv(W2 X), one linear solve.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from linnet import gauss_newton as gn
from linnet.errors import LinnetError
from linnet.losses import trace_loss
from linnet.optimizers.base import Optimizer
from linnet.spec import register
from linnet.stopping import NO_PROGRESS
from linnet.validation import check_positive

JACOBIANS = ("structured", "kron")
DAMPINGS = ("none", "adaptive")


def _loss(problem, weights) -> float:
    return trace_loss(weights[0] @ weights[1] - problem.A, problem.S)


def _add(weights, deltas, scale: float = 1.0):
    return tuple(W + scale * d for W, d in zip(weights, deltas))


# -- Gauss-Newton -----------------------------------------------------------------------------


class GaussNewtonState(NamedTuple):
    #: X 1 (xdim,), the samples' row sums, for the post's plotted metric; None for the expected loss
    xsum: np.ndarray | None


@register("gauss-newton")
@dataclass(frozen=True)
class GaussNewton(Optimizer):
    """Gauss-Newton (the post's "LM"): step times the min-norm solution of the linearised problem.

    Attributes:
        step: the scale S of the update, theta <- theta + S d (the post used 0.05 and 0.2).
        jacobian: "structured" (compressed Jacobian from S, ydim*xdim rows) or "kron" (the post's
            Jacobian over samples, ydim*nsamples rows, solved with numpy.linalg.lstsq).
        rcond: singular-value cutoff: "default" (numpy's eps * max(M, N)), "machine" (numpy's old
            rcond=-1, the post's) or a number; see :mod:`linnet.gauss_newton`.

    ``gauss-newton[step=0.2,jacobian=kron,rcond=machine]`` is exactly the post's step. Every run
    on a sample problem records the trace ``post_metric`` = np.sum(Yhat - Y)**2, the quantity the
    post plotted as its loss: the square of the *sum* of the residual entries,
    (1_ydim^T R X 1_nsamples)^2, computed from the samples' row sums X 1.
    """

    step: float
    jacobian: str = "structured"
    rcond: str = "default"
    example = "gauss-newton[step=0.2]"
    max_layers = 2

    def __post_init__(self):
        check_positive(self, step=self.step)
        if self.jacobian not in JACOBIANS:
            raise LinnetError(f"{self.name}: jacobian must be one of {', '.join(JACOBIANS)}, "
                              f"got {self.jacobian!r}")
        gn.check_rcond(self, self.rcond)

    def init(self, problem, weights):
        gn.check_two_layers(self, weights)
        if self.jacobian == "kron" and problem.X is None:
            raise LinnetError(f"{self.name}: jacobian=kron needs samples (nsamples > 0)")
        return GaussNewtonState(None if problem.X is None else problem.X.sum(axis=1))

    def direction(self, problem, weights, R):
        """The unscaled step (dW1, dW2)."""
        solve = gn.structured_step if self.jacobian == "structured" else gn.sample_step
        return solve(problem, weights, R, self.rcond)

    def update(self, problem, weights, evaluation, state):
        return _add(weights, self.direction(problem, weights, evaluation.residual), self.step), state

    def record(self, problem, weights, state):
        if state.xsum is None:
            return {}
        R = weights[0] @ weights[1] - problem.A
        return {"post_metric": float(np.sum(R @ state.xsum)) ** 2}


# -- Levenberg-Marquardt ----------------------------------------------------------------------


class LMState(NamedTuple):
    mu: float  #: damping of the next step
    nu: float  #: growth factor of mu after a rejected step
    done: bool  #: no step of useful length reduces the loss


@register("lm")
@dataclass(frozen=True)
class LevenbergMarquardt(Optimizer):
    """Levenberg-Marquardt with Nielsen's gain-ratio damping rule; never increases the loss.

    Each update minimises ||J d + r||^2 + mu ||d||^2 (J, r the compressed Jacobian and residual
    of :mod:`linnet.gauss_newton`). The minimiser d = -(J^T J + mu I)^-1 J^T r is computed in J's
    row space, d = -J^T z with (J J^T + mu I) z = r (the push-through identity): J J^T is only
    (ydim k) x (ydim k) (60 x 60 for the post, against 96 x 96 for J^T J), is assembled from
    Kronecker factors (:func:`linnet.gauss_newton.row_gram`) without forming J, and d lies in
    the row space of J by construction, so the symmetry directions (W1 M, M^-1 W2) are never
    stepped along. Then ||J d + r|| = mu ||z||, so the model's predicted decrease is
    ||r||^2 - mu^2 ||z||^2.

    Damping (Madsen, Nielsen & Tingleff 2004, Algorithm 3.16, after Nielsen 1999):
    mu_0 = tau * max diag(J^T J); gain ratio rho = actual / predicted decrease; if rho > 0 the step
    is taken and mu <- mu * max(1/3, 1 - (2 rho - 1)^3), nu <- 2; otherwise the step is rejected
    and mu <- mu * nu, nu <- 2 nu, and a new trial is made (the Gram matrix is reused). An update
    ends when a step is taken, or, with ``done`` set (the run stops with NO_PROGRESS), when the trial
    step is below Nielsen's eps_2 test ||d|| <= eps (||theta|| + eps) with eps the machine epsilon.

    Attributes:
        tau: initial damping relative to the largest diagonal entry of J^T J.
    """

    tau: float = 1e-3
    example = "lm"
    max_layers = 2
    done_status = NO_PROGRESS
    #: safety bound on rejected trials per update (mu grows by 2^(1+2+...) so ~30 always suffice)
    max_trials = 64

    def __post_init__(self):
        check_positive(self, tau=self.tau)

    def init(self, problem, weights):
        gn.check_two_layers(self, weights)
        W1, W2 = weights
        B = W2 @ problem.S_factor
        # diag(J^T J): diag(B B^T) repeated for W1, diag(S) x diag(W1^T W1) for W2
        diag_max = max(np.max(np.sum(B * B, axis=1)), np.max(np.diag(problem.S)) * np.max(np.sum(W1 * W1, axis=0)))
        return LMState(self.tau * float(diag_max), 2.0, False)

    def update(self, problem, weights, evaluation, state):
        C = problem.S_factor
        gram = gn.row_gram(C, weights)
        r = gn.residual_vector(C, evaluation.residual)
        rr = float(r @ r)
        eps = np.finfo(r.dtype).eps
        small = eps * (np.sqrt(sum(np.vdot(W, W) for W in weights)) + eps)
        mu, nu = state.mu, state.nu
        for _ in range(self.max_trials):
            d1, d2, z = gn.damped_step(C, weights, r, gram, mu)
            if np.sqrt(np.vdot(d1, d1) + np.vdot(d2, d2)) <= small:
                break
            new = _add(weights, (d1, d2))
            actual = evaluation.loss - _loss(problem, new)
            predicted = rr - mu * mu * float(z @ z)
            rho = actual / predicted if predicted > 0 else -np.inf
            if rho > 0:
                mu *= max(1 / 3, 1 - (2 * rho - 1) ** 3)
                return new, LMState(mu, 2.0, False)
            mu, nu = mu * nu, nu * 2
        return weights, LMState(mu, nu, True)

    def is_done(self, state) -> bool:
        return state.done

    def record(self, problem, weights, state):
        return {"damping": state.mu}


# -- K-FAC ------------------------------------------------------------------------------------


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

    The Gauss-Newton matrix's diagonal blocks are exactly Kronecker products (see
    :func:`linnet.gauss_newton.normal_equations`): for W1, A_1 = W2 S W2^T (input side) and
    G_1 = I (output side); for W2, A_2 = S and G_2 = W1^T W1. With Gamma_1 = R S W2^T and
    Gamma_2 = W1^T R S (half the gradients) each layer moves by

        dW_k = -step * (G_k + gamma / pi_k I)^-1 Gamma_k (A_k + pi_k gamma I)^-1,

    gamma = sqrt(lambda), pi_k = sqrt((tr A_k / dim A_k) / (tr G_k / dim G_k)): the factored
    Tikhonov damping of Martens & Grosse (2015), section 6.3. Undamped (lambda = 0) the inverses
    are pseudoinverses (eigenvalue cutoff dim * eps * e_max), and both layers solve for the
    whole residual at once, so the linear change is about twice the Gauss-Newton one: step 0.5
    is the natural scale, and the simultaneous update can still overshoot (the method can fail).

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
    max_layers = 2
    omega = (19 / 20) ** 5

    def __post_init__(self):
        check_positive(self, step=self.step, tau=self.tau)
        if self.damping not in DAMPINGS:
            raise LinnetError(f"{self.name}: damping must be one of {', '.join(DAMPINGS)}, "
                              f"got {self.damping!r}")

    @staticmethod
    def factors(problem, weights):
        """[(A_k, G_k)] for k = 1, 2: the Kronecker factors of the Gauss-Newton diagonal blocks."""
        W1, W2 = weights
        return [(W2 @ problem.S @ W2.T, np.eye(W1.shape[0], dtype=W1.dtype)), (problem.S, W1.T @ W1)]

    def init(self, problem, weights):
        gn.check_two_layers(self, weights)
        if self.damping == "none":
            return KFACState(0.0)
        scale = max(np.trace(A) / len(A) * np.trace(G) / len(G) for A, G in self.factors(problem, weights))
        return KFACState(self.tau * float(scale))

    def direction(self, problem, weights, R, damping: float):
        """(dW1, dW2) before the step scale, for Tikhonov damping lambda = ``damping``."""
        W1, W2 = weights
        RS = R @ problem.S
        gammas = (RS @ W2.T, W1.T @ RS)
        gamma = np.sqrt(damping)
        out = []
        for (A, G), Gam in zip(self.factors(problem, weights), gammas):
            pi = np.sqrt((np.trace(A) / len(A)) / (np.trace(G) / len(G))) if damping > 0 else 1.0
            out.append(-(_damped_inverse(G, gamma / pi) @ Gam @ _damped_inverse(A, pi * gamma)))
        return tuple(out)

    def update(self, problem, weights, evaluation, state):
        R = evaluation.residual
        deltas = self.direction(problem, weights, R, state.damping)
        new = _add(weights, deltas, self.step)
        if self.damping == "none":
            return new, state
        scaled = tuple(self.step * d for d in deltas)
        predicted = gn.linearised_loss(problem.S, R, weights, scaled) - evaluation.loss
        actual = _loss(problem, new) - evaluation.loss
        rho = actual / predicted if predicted < 0 else -np.inf
        lam = state.damping
        if rho > 3 / 4:
            lam *= self.omega
        elif rho < 1 / 4:
            lam /= self.omega
        return (new if actual < 0 else weights), KFACState(lam)

    def record(self, problem, weights, state):
        return {"damping": state.damping} if self.damping != "none" else {}


# -- alternating least squares and the closed form ---------------------------------------------


def solve_W1(problem, W2: np.ndarray) -> np.ndarray:
    """argmin over W1 of tr((W1 W2 - A) S (...)^T): W1 = (A C) pinv(W2 C), min-norm (lstsq).

    Equals the post's Y pinv(W2 X): with X^T = Q C^T (Q orthonormal columns), pinv(W2 X) =
    Q pinv(W2 C), so A X pinv(W2 X) = A C pinv(W2 C).
    """
    C = problem.S_factor
    return np.linalg.lstsq((W2 @ C).T, (problem.A @ C).T, rcond=None)[0].T


def solve_W2(problem, W1: np.ndarray) -> np.ndarray:
    """argmin over W2 of tr((W1 W2 - A) S (...)^T), min-norm: W2 = pinv(W1) (A C) pinv(C)."""
    C = problem.S_factor
    Z = np.linalg.lstsq(W1, problem.A @ C, rcond=None)[0]
    return np.linalg.lstsq(C.T, Z.T, rcond=None)[0].T


class SolveState(NamedTuple):
    done: bool


@register("als")
@dataclass(frozen=True)
class ALS(Optimizer):
    """Alternating least squares: W1 <- argmin with W2 fixed, then W2 <- argmin with the new W1.

    Each half-sweep is an exact minimisation over one layer (:func:`solve_W1`, :func:`solve_W2`),
    so the loss cannot increase; a sweep that does not decrease it (the rounding floor) is
    discarded and ends the run (NO_PROGRESS: it stopped, whether or not at the minimum).
    """

    example = "als"
    max_layers = 2
    done_status = NO_PROGRESS

    def init(self, problem, weights):
        gn.check_two_layers(self, weights)
        return SolveState(False)

    def update(self, problem, weights, evaluation, state):
        W1 = solve_W1(problem, weights[1])
        new = (W1, solve_W2(problem, W1))
        if _loss(problem, new) < evaluation.loss:
            return new, SolveState(False)
        return weights, SolveState(True)

    def is_done(self, state) -> bool:
        return state.done


@register("closed-form")
@dataclass(frozen=True)
class ClosedForm(Optimizer):
    """One linear solve, W1 = Y pinv(W2 X) (from S), keeping W2; needs wdim >= xdim.

    When wdim >= xdim and W2 C has full column rank, W1 W2 C = A C, i.e. zero loss: the
    baseline every "reaches machine precision" claim is measured against. The run stops as
    converged after the one update.
    """

    example = "closed-form"
    max_layers = 2

    def init(self, problem, weights):
        gn.check_two_layers(self, weights)
        if problem.wdim < problem.xdim:
            raise LinnetError(f"{self.name}: needs wdim >= xdim (W2 X must have full row rank of X), "
                              f"got wdim = {problem.wdim} < xdim = {problem.xdim}")
        return SolveState(False)

    def update(self, problem, weights, evaluation, state):
        return (solve_W1(problem, weights[1]), weights[1]), SolveState(True)

    def is_done(self, state) -> bool:
        return state.done
