"""Levenberg-Marquardt and Gauss-Newton for N layers, solved in the Jacobian's row space, directly or matrix-free.

``lm-rowspace[solver=cg]`` is Levenberg-Marquardt with Nielsen's damping rule, exactly as
:class:`linnet.optimizers.second_order.LevenbergMarquardt` (Madsen, Nielsen & Tingleff 2004,
Algorithm 3.16), at any depth N >= 1 (layers W1 ... WN of any widths), with the damped system
(J J^T + mu I) z = r in J's row space solved

* ``solver=cg``: by preconditioned conjugate gradients on (ydim, m) matrices
  (:func:`linnet.optimizers.linalg.krylov.solve`),
  memory a few copies of the layers plus 2N matrices of the output's size;
* ``solver=direct``: by Cholesky of the (ydim m) x (ydim m) matrix
  (:func:`linnet.optimizers.linalg.krylov.direct_solve`);
* ``solver=auto`` (default): direct while ydim m <= :data:`linnet.optimizers.linalg.krylov.DIRECT_MAX`, cg beyond.

``gauss-newton-rowspace[solver=cg,step=S]`` is the undamped step theta <- theta - S J^T z with
J J^T z = r (mu = 0), the N-layer, matrix-free form of ``gauss-newton[step=S]``.

Truncation: the inner solve stops at relative residual eta_k, Eisenstat-Walker choice 2 on the
residual norms ||R C|| (:func:`linnet.optimizers.linalg.krylov.forcing_term`), bounded below by ``eta_min``; or at a
fixed ``rtol`` when one is given (a tight rtol reproduces the direct solve). The gain ratio uses
the model value of the step actually taken: with CG's residual S = r - (J J^T + mu I) z,
J d + r = mu z + S, so the prediction stays exact for an inexact z.

Traces recorded per outer step: ``damping`` (mu), ``inner_iterations`` (CG iterations spent in
the update that led to this point, over every trial; 0 at the start) and ``forcing`` (eta).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from linnet.core.errors import LinnetError
from linnet.optimizers.base import Optimizer
from linnet.optimizers.linalg import krylov
from linnet.optimizers.linalg.damping import nielsen
from linnet.optimizers.spec import check_positive, register
from linnet.optimizers.stopping import NO_PROGRESS
from linnet.problems import jacobian as jac
from linnet.problems.losses import loss


class RowSpaceLMState(NamedTuple):
    mu: float  #: damping of the next step
    nu: float  #: growth factor of mu after a rejected step
    done: bool  #: no step of useful length reduces the loss
    rnorm: float | None  #: ||R C|| at the previous outer step (for the forcing term)
    eta: float | None  #: the previous forcing term
    inner: int  #: CG iterations of the last update


def max_diagonal(system: krylov.RowSystem) -> float:
    """max diag(J^T J): for layer k the diagonal of (Suf_k C)(Suf_k C)^T kron Pre_k^T Pre_k.

    Its largest entry is max_i ||Pre_k e_i||^2 times max_j ||(Suf_k C)^T e_j||^2 (column norms of
    Pre_k, row norms of Suf_k C); Pre_1 = I, and Suf_N C = C.
    """
    out = 0.0
    sufs = jac.suffix_times(system.parts, system.C)
    for pre, suf in zip(system.parts.prefixes, sufs, strict=True):
        left = 1.0 if pre is None else float(np.max(np.sum(pre * pre, axis=0)))
        right = 1.0 if suf is None else float(np.max(np.sum(suf * suf, axis=1)))
        out = max(out, left * right)
    return out


SOLVERS = ("auto", "cg", "direct")


@dataclass(frozen=True)
class _RowSpaceSolve:
    """The row-space methods' solver settings and one truncated solve per step.

    Attributes:
        solver: "auto", "cg" or "direct" (module docstring).
        precond: "kron" (exact inverse of the first and last layers' Kronecker terms), "jacobi"
            or "none"; see :mod:`linnet.optimizers.linalg.krylov`.
        rtol: a fixed relative tolerance of the inner solve; 0 (default) for Eisenstat-Walker.
        eta_min: the lower bound of the Eisenstat-Walker forcing term.
        maxiter: the most CG iterations per inner solve.
    """

    solver: str = "auto"
    precond: str = "kron"
    rtol: float = 0.0
    eta_min: float = 1e-10
    maxiter: int = 500

    def __post_init__(self):
        check_positive(self, eta_min=self.eta_min, maxiter=self.maxiter)
        if self.solver not in SOLVERS:
            raise LinnetError(f"{self.name}: solver must be one of {', '.join(SOLVERS)}, got {self.solver!r}")
        if self.precond not in krylov.PRECONDITIONERS:
            raise LinnetError(f"{self.name}: precond must be one of {', '.join(krylov.PRECONDITIONERS)}, "
                              f"got {self.precond!r}")
        if not (math.isfinite(self.rtol) and 0 <= self.rtol < 1):
            raise LinnetError(f"{self.name}: rtol must be in [0, 1) (0 = Eisenstat-Walker), got {self.rtol!r}")

    def _setup(self, problem, weights, evaluation, state):
        """(system, R C, ||R C||, eta, solve) for this step; solve(system, RC, mu) -> (Z, S, CGInfo)."""
        system = krylov.row_system(weights, problem.S_factor)
        RC = evaluation.residual @ problem.S_factor
        rnorm = float(np.linalg.norm(RC))
        eta = self.rtol or krylov.forcing_term(rnorm, state.rnorm, state.eta, self.eta_min)
        direct = self.solver == "direct" or (self.solver == "auto" and RC.size <= krylov.DIRECT_MAX)
        method = krylov.direct_solve if direct else krylov.solve

        def solve(system, RC, mu):
            return method(system, RC, mu, eta, precond=self.precond, maxiter=self.maxiter)

        return system, RC, rnorm, eta, solve

    def trace(self, problem, weights, state):
        out = {"inner_iterations": state.inner, "forcing": math.nan if state.eta is None else state.eta}
        if hasattr(state, "mu"):
            out["damping"] = state.mu
        return out


@register("lm-rowspace")
@dataclass(frozen=True)
class RowSpaceLM(_RowSpaceSolve, Optimizer):
    """Levenberg-Marquardt (Nielsen damping) at any depth and width; direct or CG row-space solve.

    Attributes: the solver settings of :class:`_RowSpaceSolve`, then
        tau: initial damping relative to the largest diagonal entry of J^T J (as ``lm``).
    """

    tau: float = 1e-3
    example = "lm-rowspace[solver=cg]"
    #: safety bound on rejected trials per update (as ``lm``)
    max_trials = 64
    #: as ``lm``: a run ends when no step of useful length reduces the loss
    done_status = NO_PROGRESS

    def __post_init__(self):
        check_positive(self, tau=self.tau)
        super().__post_init__()

    def init(self, problem, weights):
        if not math.isfinite(loss(problem, weights)):  # already diverged: the loop stops before any update
            return RowSpaceLMState(math.inf, 2.0, False, None, None, 0)
        system = krylov.row_system(weights, problem.S_factor)
        return RowSpaceLMState(self.tau * max_diagonal(system), 2.0, False, None, None, 0)

    def update(self, problem, weights, evaluation, state):
        system, RC, rnorm, eta, solve = self._setup(problem, weights, evaluation, state)
        rr = rnorm * rnorm
        eps = np.finfo(RC.dtype).eps
        small = eps * (math.sqrt(sum(float(np.vdot(W, W)) for W in weights)) + eps)
        mu, nu, inner = state.mu, state.nu, 0
        for _ in range(self.max_trials):
            Z, S, info = solve(system, RC, mu)
            inner += info.iterations
            deltas = krylov.step_from_row(system, weights, Z)
            if math.sqrt(sum(float(np.vdot(d, d)) for d in deltas)) <= small:
                break
            new = tuple(W + d for W, d in zip(weights, deltas))
            actual = evaluation.loss - loss(problem, new)
            lin = mu * Z + S  # J d + r for the step taken
            predicted = rr - float(np.vdot(lin, lin))
            accepted, mu, nu = nielsen(mu, nu, actual, predicted)
            if accepted:
                return new, RowSpaceLMState(mu, nu, False, rnorm, eta, inner)
        return weights, RowSpaceLMState(mu, nu, True, rnorm, eta, inner)

    def is_done(self, state) -> bool:
        return state.done


class RowSpaceGNState(NamedTuple):
    rnorm: float | None  #: ||R C|| at the previous outer step (for the forcing term)
    eta: float | None  #: the previous forcing term
    inner: int  #: CG iterations of the last update


@register("gauss-newton-rowspace")
@dataclass(frozen=True)
class RowSpaceGaussNewton(_RowSpaceSolve, Optimizer):
    """Gauss-Newton, theta <- theta - step J^T z with J J^T z = r, at any depth; direct or CG solve.

    With J J^T invertible (hidden widths at least ydim and m) d = -J^T z is the minimum-norm
    Gauss-Newton step, as ``gauss-newton`` computes it for two layers.

    Attributes: the solver settings of :class:`_RowSpaceSolve`, then
        step: the scale S of the update (1: full Gauss-Newton steps).
    """

    step: float = 1.0
    example = "gauss-newton-rowspace[solver=cg]"

    def __post_init__(self):
        check_positive(self, step=self.step)
        super().__post_init__()

    def init(self, problem, weights):
        return RowSpaceGNState(None, None, 0)

    def update(self, problem, weights, evaluation, state):
        system, RC, rnorm, eta, solve = self._setup(problem, weights, evaluation, state)
        Z, _, info = solve(system, RC, 0.0)
        deltas = krylov.step_from_row(system, weights, Z)
        return tuple(W + self.step * d for W, d in zip(weights, deltas)), RowSpaceGNState(rnorm, eta, info.iterations)
