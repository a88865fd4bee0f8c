"""Gauss-Newton and Levenberg-Marquardt for W1 ... WN ~ A, at any depth.

Both work from S = X X^T through the compressed Jacobian of :mod:`linnet.optimizers.linalg.gauss_newton` and
:mod:`linnet.problems.jacobian`, so no step costs more with more samples (except the post-faithful, two-layer
``gauss-newton[...,jacobian=kron]``, which forms the post's Jacobian over samples on purpose).
K-FAC, ALS and the closed form are in :mod:`linnet.optimizers.layerwise`.

* ``gauss-newton[step=S]``: the post's "Levenberg-Marquardt": theta <- theta + S d with d the
  minimum-norm least-squares solution of the linearised problem. Near a zero-residual solution
  the residual contracts by (1 - S) per step up to O(S^2 d^2) terms, the loss by (1 - S)^2.
* ``lm``: Levenberg-Marquardt with Nielsen's damping rule (Nielsen 1999; Madsen, Nielsen &
  Tingleff 2004, "Methods for non-linear least squares problems", Algorithm 3.16).

Solvers (``solver=``, both methods), for the row-space system of ydim * rank(S) rows:

* ``direct``: the dense row-space system, formed from Kronecker factors
  (:func:`linnet.optimizers.linalg.gauss_newton.row_gram`; for two-layer Gauss-Newton J's SVD),
  up to :data:`linnet.optimizers.linalg.gauss_newton.ROW_SPACE_MAX` = 4096 rows (a 134 MB matrix);
* ``cg``: matrix-free, preconditioned conjugate gradients truncated by Eisenstat-Walker forcing
  terms, with the settings ``precond``, ``rtol``, ``eta_min``, ``maxiter``
  (:mod:`linnet.optimizers.iterative`, :mod:`linnet.optimizers.linalg.krylov`);
* ``dense``: the exact solve inside the ``cg`` loop (same traces, no size check), the reference
  CG is tested against (:func:`linnet.optimizers.linalg.krylov.direct_solve`);
* ``auto``: ``direct`` up to ROW_SPACE_MAX rows, ``cg`` beyond. The default for ``lm``;
  ``gauss-newton`` defaults to ``direct``, which its batched loop
  (:mod:`linnet.runs.batched_steps`) implements, and refuses larger systems with one error.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from linnet.core.errors import LinnetError
from linnet.core.validation import check_positive
from linnet.optimizers import iterative
from linnet.optimizers.base import Optimizer
from linnet.optimizers.linalg import gauss_newton as gn
from linnet.optimizers.linalg.cutoff import check_rcond
from linnet.optimizers.linalg.damping import nielsen
from linnet.optimizers.registration import register
from linnet.optimizers.stopping import NO_PROGRESS
from linnet.problems.jacobian import partial_products, suffix_times
from linnet.problems.losses import loss, product

JACOBIANS = ("structured", "kron")
#: how ``lm`` and ``gauss-newton`` solve their row-space systems (module docstring)
SOLVERS = ("auto", "direct", "cg", "dense")


def check_solver(owner) -> None:
    """Validate ``owner.solver`` and its row-space settings (:func:`linnet.optimizers.iterative.check_settings`)."""
    if owner.solver not in SOLVERS:
        raise LinnetError(f"{owner.name}: solver must be one of {', '.join(SOLVERS)}, got {owner.solver!r}")
    iterative.check_settings(owner)


def uses_row_space_loop(solver: str, problem) -> bool:
    """Whether ``solver`` runs the loop of :mod:`linnet.optimizers.iterative` on ``problem`` (cg or dense).

    ``auto`` does so above :data:`linnet.optimizers.linalg.gauss_newton.ROW_SPACE_MAX` rows,
    ydim * rank(S), the size of the row-space system.
    """
    rows = problem.ydim * problem.S_factor.shape[1]
    return solver in ("cg", "dense") or (solver == "auto" and rows > gn.ROW_SPACE_MAX)


def add(weights, deltas, scale: float = 1.0):
    """(W_k + scale dW_k for each layer)."""
    return tuple(W + scale * d for W, d in zip(weights, deltas, strict=True))


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
            Jacobian over samples, ydim*nsamples rows, solved with numpy.linalg.lstsq; solver=direct only).
        rcond: singular-value cutoff of the direct solve: "default" (numpy's eps * max(M, N)),
            "machine" (numpy's old rcond=-1, the post's) or a number; see
            :mod:`linnet.optimizers.linalg.gauss_newton`.
        solver: "direct" (default), "cg", "dense" or "auto" (module docstring). ``cg`` and ``dense``
            solve J J^T z = r in the row space at any depth, d = -J^T z
            (:func:`linnet.optimizers.iterative.gn_update`); with J J^T invertible this is the same
            minimum-norm step.
        precond, rtol, eta_min, maxiter: the CG solve's settings
            (:func:`linnet.optimizers.iterative.check_settings`).

    ``gauss-newton[step=0.2,jacobian=kron,rcond=machine]`` is exactly the post's step. Every run
    of the direct solve on a sample problem records the trace ``post_metric`` = np.sum(Yhat - Y)**2,
    the quantity the post plotted as its loss: the square of the *sum* of the residual entries,
    (1_ydim^T R X 1_nsamples)^2, computed from the samples' row sums X 1. The row-space loop
    records ``inner_iterations`` and ``forcing`` instead.
    """

    step: float
    jacobian: str = "structured"
    rcond: str = "default"
    solver: str = "direct"
    precond: str = "kron"
    rtol: float = 0.0
    eta_min: float = 1e-10
    maxiter: int = 500
    example = "gauss-newton[step=0.2]"

    def __post_init__(self):
        check_positive(self, step=self.step)
        if self.jacobian not in JACOBIANS:
            raise LinnetError(f"{self.name}: jacobian must be one of {', '.join(JACOBIANS)}, "
                              f"got {self.jacobian!r}")
        check_rcond(self, self.rcond)
        check_solver(self)
        if self.jacobian == "kron" and self.solver != "direct":
            raise LinnetError(f"{self.name}: jacobian=kron is solved by lstsq (solver=direct), "
                              f"got solver={self.solver}")

    @property
    def batchable(self) -> bool:
        """The structured direct solve batches (:mod:`linnet.runs.batched_steps`); the rest do not."""
        return self.jacobian == "structured" and self.solver == "direct"

    def init(self, problem, weights):
        if uses_row_space_loop(self.solver, problem):
            return iterative.RowSpaceGNState(None, None, 0)
        gn.check_row_space(self, problem)
        if self.jacobian == "kron":
            gn.check_two_layers(self, weights)
        if self.jacobian == "kron" and problem.X is None:
            raise LinnetError(f"{self.name}: jacobian=kron needs samples (nsamples > 0)")
        return GaussNewtonState(None if problem.X is None else problem.X.sum(axis=1))

    def direction(self, problem, weights, R):
        """The unscaled step of the direct solve, one delta per layer (dW1, ..., dWN)."""
        solve = gn.structured_step if self.jacobian == "structured" else gn.sample_step
        return solve(problem, weights, R, self.rcond)

    def update(self, problem, weights, evaluation, state):
        if isinstance(state, iterative.RowSpaceGNState):
            return iterative.gn_update(self, problem, weights, evaluation, state)
        return add(weights, self.direction(problem, weights, evaluation.residual), self.step), state

    def trace(self, problem, weights, state):
        if isinstance(state, iterative.RowSpaceGNState):
            return iterative.traces(state)
        if state.xsum is None:
            return {}
        R = product(weights) - problem.A
        return {"post_metric": float(np.sum(R @ state.xsum) ** 2)}  # numpy: overflow gives inf


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
    of :mod:`linnet.optimizers.linalg.gauss_newton`). The minimiser d = -(J^T J + mu I)^-1 J^T r is computed in J's
    row space, d = -J^T z with (J J^T + mu I) z = r (the push-through identity): J J^T is only
    (ydim k) x (ydim k) (60 x 60 for the post, against 96 x 96 for J^T J), is assembled from
    Kronecker factors (:func:`linnet.optimizers.linalg.gauss_newton.row_gram`) without forming J, and d lies in
    the row space of J by construction, so the symmetry directions (W1 M, M^-1 W2) are never
    stepped along. Then ||J d + r|| = mu ||z||, so the model's predicted decrease is
    ||r||^2 - mu^2 ||z||^2.

    Damping (Madsen, Nielsen & Tingleff 2004, Algorithm 3.16, after Nielsen 1999):
    mu_0 = tau * max diag(J^T J); gain ratio rho = actual / predicted decrease; if rho > 0 the step
    is taken and mu <- mu * max(1/3, 1 - (2 rho - 1)^3), nu <- 2; otherwise the step is rejected
    and mu <- mu * nu, nu <- 2 nu, and a new trial is made (the Gram matrix is reused). An update
    ends when a step is taken, or, with ``done`` set (the run stops with NO_PROGRESS), when the trial
    step is below Nielsen's eps_2 test ||d|| <= eps (||theta|| + eps) with eps the machine epsilon.

    Solvers (module docstring): ``direct`` forms J J^T as above; ``cg`` never forms it and solves
    each damped system by preconditioned conjugate gradients with the same damping rule
    (:func:`linnet.optimizers.iterative.lm_update`, :mod:`linnet.optimizers.linalg.krylov`);
    ``dense`` is that loop with the exact solve; ``auto`` (the default) is direct while
    ydim * rank(S) <= :data:`linnet.optimizers.linalg.gauss_newton.ROW_SPACE_MAX` (4096 rows, a
    134 MB Gram matrix) and CG beyond.

    Attributes:
        tau: initial damping relative to the largest diagonal entry of J^T J.
        solver: "auto", "direct", "cg" or "dense".
        precond: CG's preconditioner, "kron", "jacobi" or "none" (:mod:`linnet.optimizers.linalg.krylov`).
        rtol: a fixed relative tolerance of the CG solve; 0 (default) for Eisenstat-Walker.
        eta_min: the lower bound of the Eisenstat-Walker forcing term.
        maxiter: the most CG iterations per inner solve.
    """

    tau: float = 1e-3
    solver: str = "auto"
    precond: str = "kron"
    rtol: float = 0.0
    eta_min: float = 1e-10
    maxiter: int = 500
    example = "lm"
    done_status = NO_PROGRESS
    #: safety bound on rejected trials per update (mu grows by 2^(1+2+...) so ~30 always suffice)
    max_trials = 64

    def __post_init__(self):
        check_positive(self, tau=self.tau)
        check_solver(self)

    @property
    def batchable(self) -> bool:
        """The direct solve batches (:mod:`linnet.runs.batched_steps`); the row-space loop runs one by one."""
        return self.solver in ("auto", "direct")

    def init(self, problem, weights):
        if uses_row_space_loop(self.solver, problem):
            return iterative.lm_init(self, problem, weights)
        gn.check_row_space(self, problem)
        # diag(J^T J), block k = (Suf_k C)(Suf_k C)^T kron Pre_k^T Pre_k: products of the squared row
        # norms of Suf_k C and the squared column norms of Pre_k (1 for the identity)
        parts = partial_products(weights)
        diag_max = 0.0
        for pre, suf in zip(parts.prefixes, suffix_times(parts, problem.S_factor), strict=True):
            cols = 1.0 if pre is None else np.max(np.sum(pre * pre, axis=0))
            diag_max = max(diag_max, float(np.max(np.sum(suf * suf, axis=1)) * cols))
        return LMState(self.tau * diag_max, 2.0, False)

    def update(self, problem, weights, evaluation, state):
        if isinstance(state, iterative.RowSpaceLMState):  # cg or dense (init chose it)
            return iterative.lm_update(self, problem, weights, evaluation, state)
        C = problem.S_factor
        gram = gn.row_gram(C, weights)
        r = gn.residual_vector(C, evaluation.residual)
        rr = float(r @ r)
        eps = np.finfo(r.dtype).eps
        small = eps * (np.sqrt(sum(np.vdot(W, W) for W in weights)) + eps)
        mu, nu = state.mu, state.nu
        for _ in range(self.max_trials):
            deltas, z = gn.damped_step(C, weights, r, gram, mu)
            if np.sqrt(sum(np.vdot(d, d) for d in deltas)) <= small:
                break
            new = add(weights, deltas)
            actual = evaluation.loss - loss(problem, new)
            predicted = rr - mu * mu * float(z @ z)
            accepted, mu, nu = nielsen(mu, nu, actual, predicted)
            if accepted:
                return new, LMState(mu, nu, False)
        return weights, LMState(mu, nu, True)

    def is_done(self, state) -> bool:
        return state.done

    def trace(self, problem, weights, state):
        if isinstance(state, iterative.RowSpaceLMState):
            return iterative.traces(state)
        return {"damping": state.mu}
