"""The row-space loop of ``lm`` and ``gauss-newton`` at ``solver=cg`` and ``solver=dense``, at any depth.

:class:`linnet.optimizers.second_order.LevenbergMarquardt` and
:class:`linnet.optimizers.second_order.GaussNewton` call the functions here when their solver is
``cg``, ``dense``, or ``auto`` above :data:`linnet.optimizers.linalg.gauss_newton.ROW_SPACE_MAX`
rows (where ``auto`` means ``cg``). The step is d = -J^T z with z solving the damped system
(J J^T + mu I) z = r in J's row space (the push-through identity), r = vec(R C), at depth N >= 1
(layers W1 ... WN of any widths), solved

* ``solver=cg``: by preconditioned conjugate gradients on (ydim, m) matrices
  (:func:`linnet.optimizers.linalg.krylov.solve`), memory a few copies of the layers plus 2N
  matrices of the output's size;
* ``solver=dense``: exactly, from the (ydim m) x (ydim m) matrix sum_k R_k kron L_k + mu I
  (:func:`linnet.optimizers.linalg.krylov.direct_solve`: Cholesky for mu > 0, lstsq for mu = 0),
  with the same outer loop and traces as ``cg``: the reference the CG solve is tested against.

Levenberg-Marquardt (:func:`lm_update`): Nielsen's damping rule (Madsen, Nielsen & Tingleff 2004,
Algorithm 3.16; :func:`linnet.optimizers.linalg.damping.nielsen`), as ``lm[solver=direct]``.
Gauss-Newton (:func:`gn_update`): the undamped step theta <- theta - S J^T z with J J^T z = r (mu = 0).

Truncation: the inner solve stops at relative residual eta_k, Eisenstat-Walker choice 2 on the
residual norms ||R C|| (:func:`linnet.optimizers.linalg.krylov.forcing_term`), bounded below by
``eta_min``; or at a fixed ``rtol`` when one is given (a tight rtol reproduces the exact solve).
The gain ratio uses the model value of the step actually taken: with CG's residual
S = r - (J J^T + mu I) z, J d + r = mu z + S, so the prediction stays exact for an inexact z.

Traces recorded per outer step (:func:`traces`): ``damping`` (mu, LM only), ``inner_iterations``
(CG iterations spent in the update that led to this point, over every trial; 0 at the start and
for ``dense``) and ``forcing`` (eta).
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from linnet.core.errors import LinnetError
from linnet.core.validation import check_positive
from linnet.optimizers.linalg import krylov
from linnet.optimizers.linalg.damping import nielsen
from linnet.problems import jacobian as jac
from linnet.problems.losses import loss


class RowSpaceLMState(NamedTuple):
    mu: float  #: damping of the next step
    nu: float  #: growth factor of mu after a rejected step
    done: bool  #: no step of useful length reduces the loss
    rnorm: float | None  #: ||R C|| at the previous outer step (for the forcing term)
    eta: float | None  #: the previous forcing term
    inner: int  #: CG iterations of the last update


class RowSpaceGNState(NamedTuple):
    rnorm: float | None  #: ||R C|| at the previous outer step (for the forcing term)
    eta: float | None  #: the previous forcing term
    inner: int  #: CG iterations of the last update


def check_settings(opt) -> None:
    """Validate the row-space settings of ``opt`` (fields precond, rtol, eta_min, maxiter).

    precond: "kron", "jacobi" or "none" (:mod:`linnet.optimizers.linalg.krylov`); rtol: a fixed
    relative tolerance of the inner solve in [0, 1), 0 for Eisenstat-Walker; eta_min > 0: the lower
    bound of the Eisenstat-Walker forcing term; maxiter > 0: the most CG iterations per inner solve.
    """
    check_positive(opt, eta_min=opt.eta_min, maxiter=opt.maxiter)
    if opt.precond not in krylov.PRECONDITIONERS:
        raise LinnetError(f"{opt.name}: precond must be one of {', '.join(krylov.PRECONDITIONERS)}, "
                          f"got {opt.precond!r}")
    if not (math.isfinite(opt.rtol) and 0 <= opt.rtol < 1):
        raise LinnetError(f"{opt.name}: rtol must be in [0, 1) (0 = Eisenstat-Walker), got {opt.rtol!r}")


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


def _setup(opt, problem, weights, evaluation, state):
    """(system, R C (ydim, m), ||R C||, eta, solve) for this step; solve(system, RC, mu) -> (Z, S, CGInfo)."""
    system = krylov.row_system(weights, problem.S_factor)
    RC = evaluation.residual @ problem.S_factor
    rnorm = float(np.linalg.norm(RC))
    eta = opt.rtol or krylov.forcing_term(rnorm, state.rnorm, state.eta, opt.eta_min)
    method = krylov.direct_solve if opt.solver == "dense" else krylov.solve

    def solve(system, RC, mu):
        return method(system, RC, mu, eta, precond=opt.precond, maxiter=opt.maxiter)

    return system, RC, rnorm, eta, solve


def traces(state) -> dict:
    """The row-space traces of ``state``: inner_iterations, forcing, and damping for LM."""
    out = {"inner_iterations": state.inner, "forcing": math.nan if state.eta is None else state.eta}
    if isinstance(state, RowSpaceLMState):
        out["damping"] = state.mu
    return out


def lm_init(opt, problem, weights) -> RowSpaceLMState:
    """mu_0 = tau * max diag(J^T J), nu_0 = 2 (Madsen, Nielsen & Tingleff 2004, Algorithm 3.16)."""
    if not math.isfinite(loss(problem, weights)):  # already diverged: the loop stops before any update
        return RowSpaceLMState(math.inf, 2.0, False, None, None, 0)
    system = krylov.row_system(weights, problem.S_factor)
    return RowSpaceLMState(opt.tau * max_diagonal(system), 2.0, False, None, None, 0)


def lm_update(opt, problem, weights, evaluation, state: RowSpaceLMState):
    """One Levenberg-Marquardt update (``opt``: tau, solver, row-space settings, max_trials).

    Trials at growing damping until Nielsen's rule accepts one; returns (weights, state), with
    ``done`` set and the weights unchanged when the trial step falls below Nielsen's eps_2 test
    ||d|| <= eps (||theta|| + eps).
    """
    system, RC, rnorm, eta, solve = _setup(opt, problem, weights, evaluation, state)
    rr = rnorm * rnorm
    eps = np.finfo(RC.dtype).eps
    small = eps * (math.sqrt(sum(float(np.vdot(W, W)) for W in weights)) + eps)
    mu, nu, inner = state.mu, state.nu, 0
    for _ in range(opt.max_trials):
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


def gn_update(opt, problem, weights, evaluation, state: RowSpaceGNState):
    """One Gauss-Newton update theta <- theta - opt.step J^T z, J J^T z = r; returns (weights, state).

    With J J^T invertible (hidden widths at least ydim and m) d = -J^T z is the minimum-norm
    Gauss-Newton step.
    """
    system, RC, rnorm, eta, solve = _setup(opt, problem, weights, evaluation, state)
    Z, _, info = solve(system, RC, 0.0)
    deltas = krylov.step_from_row(system, weights, Z)
    return tuple(W + opt.step * d for W, d in zip(weights, deltas)), RowSpaceGNState(rnorm, eta, info.iterations)
