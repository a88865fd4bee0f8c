"""Quantities the claims measure on runs: contraction, Gauss-Newton curvature, imbalance drift."""

from __future__ import annotations

import numpy as np

from linnet.optimizers.linalg import gauss_newton as gn
from linnet.problems.losses import imbalance


def contraction(result, low: float = 1e-24, high: float = 1e-4) -> float:
    """Median per-iteration loss ratio L[k+1] / L[k] while the relative loss is in [low, high].

    For the Gauss-Newton step scaled by ``step`` on a realizable problem the residual shrinks by
    (1 - step) per iteration, so the loss by (1 - step)^2.
    """
    rel = result.relative_losses
    window = (rel[:-1] >= low) & (rel[:-1] <= high)
    ratios = result.losses[1:][window] / result.losses[:-1][window]
    return float(np.median(ratios)) if ratios.size else float("nan")


def gauss_newton_curvature(problem, weights) -> np.ndarray:
    """Nonzero eigenvalues of the Gauss-Newton curvature 2 J^T J at ``weights``, largest first.

    J is the compressed Jacobian of vec((W1 W2 - A) C) in (vec W1, vec W2) with S = C C^T
    (:func:`linnet.optimizers.linalg.gauss_newton.jacobian`), so J^T J is the sample Gauss-Newton matrix (the loss's
    Hessian at a zero-residual point). Its wdim^2 zero eigenvalues (the symmetry W1 M, M^-1 W2)
    are dropped. Shapes: J is (ydim k, ydim wdim + wdim xdim); the result has
    min(ydim k, ydim wdim + wdim xdim - wdim^2) entries.
    """
    J = gn.jacobian(problem.S_factor, weights)
    s = np.linalg.svd(J, compute_uv=False)
    keep = min(len(s), J.shape[1] - weights[0].shape[1] ** 2)
    return 2.0 * s[:keep] ** 2


def imbalance_drift(problem, result) -> float:
    """||D_end - D_0||_F / ||D_0||_F for D = W1^T W1 - W2 W2^T along a run."""
    d0 = imbalance(problem.weights)
    return float(np.linalg.norm(imbalance(result.weights) - d0) / np.linalg.norm(d0))


def conservation_bound(problem, result, lr: float) -> float:
    """lr^2 sum_t ||g_t||^2 / ||D_0||_F: the largest relative drift of D = W1^T W1 - W2 W2^T that
    ``result``'s GD steps can cause. Per step D changes by exactly lr^2 (G1^T G1 - G2 G2^T)
    (:func:`linnet.problems.losses.imbalance_changes`; Du, Hu & Lee 2018; Arora et al. 2018), of
    norm at most lr^2 (||G1||^2 + ||G2||^2) = lr^2 ||g_t||^2, with ||g_t|| the run's gradient norms
    at the points it stepped from (``result.grad_norms`` without its last entry)."""
    g = np.asarray(result.grad_norms[:-1], dtype=float)
    return float(lr**2 * np.sum(g**2) / np.linalg.norm(imbalance(problem.weights)))


def first_below(values, level: float) -> int | None:
    """Index of the first value below ``level`` (None if none)."""
    hit = np.flatnonzero(np.asarray(values) < level)
    return int(hit[0]) if hit.size else None


def decades_fallen(result, window: int) -> float | None:
    """log10(L[end - window] / L[end]): decades the loss fell over the last ``window`` steps."""
    losses = np.asarray(result.losses)
    if result.diverged or len(losses) <= window:
        return None
    return float(np.log10(losses[-1 - window] / losses[-1]))
