"""The scipy peer: ``scipy.optimize.least_squares`` (MINPACK ``lm`` or ``trf``) on the same problem.

``scipy[method=lm]`` and ``scipy[method=trf]`` run scipy's own loop on the compressed residual
r(theta) = vec((W1 ... WN - A) C), S = C C^T (:mod:`linnet.optimizers.linalg.gauss_newton`), at any depth, with the
analytic Jacobian :func:`linnet.problems.jacobian.dense_jacobian` (at depth 2, J_C = [(W2 C)^T kron I,
C^T kron W1]). ||r||^2 = tr(R S R^T) is linnet's loss, so scipy and linnet minimise the same
function of the same parameters.

MINPACK's ``lmder`` requires at least as many residuals as variables (m >= n), and the compressed
residual has ydim*k (60 for the post) entries for ydim*wdim + wdim*xdim (96) variables. We append
n - m residuals that are identically zero, with zero rows in the Jacobian: they add nothing to
||r||^2 nor to J^T J and J^T r, so every step MINPACK computes is the one it would compute for the
unpadded problem (the same least-squares subproblems, the same gradient and stopping tests);
the extra rows only satisfy the shape check. (The post's Jacobian over samples satisfies m >= n
by having 10,000 rows; the zero rows do the same at no cost.)

scipy's ``cost`` is 0.5 ||r||^2; linnet records ||r||^2. The loss history has one entry per
Jacobian evaluation: both MINPACK and ``trf`` (with tr_solver="exact") evaluate the Jacobian once
per iteration, at the accepted iterate, and scipy once more at the final point (repeats are
dropped). The run stops after ``steps`` iterations or at the target relative loss (by raising a
private exception from the Jacobian callback), or when scipy's tolerances ftol = xtol = gtol =
machine epsilon stop it (status CONVERGED, scipy's message attached). ``callback(step, weights,
loss)`` is called at each recorded point after the budget and target tests, as in the run loop.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from linnet.core.errors import LinnetError
from linnet.optimizers import stopping
from linnet.optimizers.base import Optimizer
from linnet.optimizers.linalg import gauss_newton as gn
from linnet.optimizers.registration import register
from linnet.problems.losses import evaluate, product

METHODS = ("lm", "trf")


class _Stop(Exception):
    """Raised inside scipy's loop to end it at the step budget or the target."""


@register("scipy")
@dataclass(frozen=True)
class ScipyLeastSquares(Optimizer):
    """scipy.optimize.least_squares (method lm = MINPACK, or trf) with the analytic Jacobian."""

    method: str  # required, so the spec always names it: scipy[method=lm], scipy[method=trf]
    example = "scipy[method=lm]"
    drives_own_loop = True
    reproducible_steps = False

    def __post_init__(self):
        if self.method not in METHODS:
            raise LinnetError(f"{self.name}: method must be one of {', '.join(METHODS)}, got {self.method!r}")

    def drive(self, problem, steps: int, target: float | None, callback=None) -> dict:
        from scipy.optimize import least_squares

        C = problem.S_factor
        shapes = [W.shape for W in problem.weights]
        m = problem.ydim * C.shape[1]
        n = sum(a * b for a, b in shapes)
        pad = max(n - m, 0) if self.method == "lm" else 0
        target_loss = -np.inf if target is None else target * problem.y_norm2
        points: list[np.ndarray] = []
        stopped_by: list[bool] = []  # set when the callback asked to stop
        losses: list[float] = []

        def fun(theta):
            R = product(gn.unpack(theta, shapes)) - problem.A
            return np.concatenate([gn.residual_vector(C, R), np.zeros(pad)])

        def jac(theta):
            weights = gn.unpack(theta, shapes)
            if not points or not np.array_equal(theta, points[-1]):
                r = gn.residual_vector(C, product(weights) - problem.A)
                points.append(theta.copy())
                losses.append(float(r @ r))
                if len(points) > steps or losses[-1] <= target_loss:
                    raise _Stop
                if callback is not None and callback(len(points) - 1, weights, losses[-1]):
                    stopped_by.append(True)
                    raise _Stop
            J = gn.jacobian(C, weights)
            return np.vstack([J, np.zeros((pad, n))]) if pad else J

        theta0 = gn.pack(*problem.weights)
        with np.errstate(all="ignore"):
            start = evaluate(problem, problem.weights)
        if not np.isfinite(start.loss):  # scipy refuses a non-finite start: a run diverged at step 0
            return {"losses": [start.loss], "grad_norms": [start.grad_norm], "weights": problem.weights,
                    "steps": 0, "status": stopping.DIVERGED}
        eps = np.finfo(np.float64).eps
        status, message = stopping.CONVERGED, None
        try:
            out = least_squares(fun, theta0, jac=jac, method=self.method, ftol=eps, xtol=eps, gtol=eps,
                                max_nfev=100 * (steps + 1))
            status = stopping.CONVERGED if out.status > 0 else stopping.COMPLETED
            message = f"scipy: {out.message}"
            jac(out.x)  # record the final point (a no-op when it is the last one recorded)
        except _Stop:
            if stopped_by:
                status = stopping.STOPPED_BY_CALLBACK
            else:
                status = stopping.TARGET_REACHED if losses[-1] <= target_loss else stopping.COMPLETED
        evaluations = [evaluate(problem, gn.unpack(theta, shapes)) for theta in points]
        return {
            "losses": [e.loss for e in evaluations],
            "grad_norms": [e.grad_norm for e in evaluations],
            # scipy works in float64; the layers come back in the problem's dtype
            "weights": tuple(W.astype(problem.dtype) for W in gn.unpack(points[-1], shapes)),
            "steps": len(points) - 1,
            "status": status,
            "message": message or stopping.MESSAGES[status],
        }
