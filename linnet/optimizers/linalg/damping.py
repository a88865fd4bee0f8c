"""Nielsen's gain-ratio damping rule of Levenberg-Marquardt: one definition for every LM path.

Madsen, Nielsen & Tingleff (2004), "Methods for non-linear least squares problems", Algorithm 3.16,
after Nielsen (1999), "Damping parameter in Marquardt's method": with the gain ratio
rho = actual / predicted decrease of the loss, a trial step is accepted when rho > 0, and then
mu <- mu * max(1/3, 1 - (2 rho - 1)^3), nu <- 2; a rejected step sets mu <- mu * nu, nu <- 2 nu.

    >>> nielsen(1.0, 2.0, actual=1.0, predicted=1.0)     # rho = 1: accepted, mu shrinks by 3
    (True, 0.3333333333333333, 2.0)
    >>> nielsen(1.0, 2.0, actual=-1.0, predicted=1.0)    # the loss rose: rejected, mu doubles
    (False, 2.0, 4.0)
"""

from __future__ import annotations

import math


def nielsen(mu: float, nu: float, actual: float, predicted: float) -> tuple[bool, float, float]:
    """One damping decision: ``(accepted, mu, nu)`` after a trial step.

    Args: ``mu`` the damping the trial used, ``nu`` the growth factor after a rejection,
    ``actual`` the loss decrease the trial step achieved, ``predicted`` the decrease the damped
    linear model predicts (a trial with ``predicted <= 0`` is rejected). Python floats in and out,
    so a batched run makes exactly the decisions of the single one.
    """
    rho = actual / predicted if predicted > 0 else -math.inf
    if rho > 0:
        return True, mu * max(1 / 3, 1 - (2 * rho - 1) ** 3), 2.0
    return False, mu * nu, nu * 2
