"""Loss and gradients of a product of layer matrices, from the second moment S.

For layers ``weights = (W1, ..., WN)`` the model is P = W1 W2 ... WN (ydim x xdim) and the loss is

    L = tr(R S R^T),  R = P - A,

which equals the post's ``reduce_sum(squared_difference(W1 @ (W2 @ X), Y))`` when S = X X^T and
Y = A X, and the expected loss ||P - A||_F^2 when S = I (DESIGN.md, "The problem").

Gradients (matrix calculus, e.g. Saxe, McClelland & Ganguli 2014, eq. 2, for N = 2):

    dL/dWk = 2 (W1 ... W_{k-1})^T (R S) (W_{k+1} ... WN)^T,

so for two layers dL/dW1 = 2 R S W2^T and dL/dW2 = 2 W1^T R S. The cost is O(ydim xdim wdim) per
evaluation, independent of the number of samples.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np


class Evaluation(NamedTuple):
    """Loss and gradients at one point.

    Attributes:
        loss: tr(R S R^T), a float.
        grads: dL/dWk for each layer, shapes as the layers.
        grad_norm: sqrt(sum_k ||dL/dWk||_F^2), the post's "gradient magnitude".
        residual: R = W1 ... WN - A, (ydim, xdim).
    """

    loss: float
    grads: tuple[np.ndarray, ...]
    grad_norm: float
    residual: np.ndarray


def product(weights) -> np.ndarray:
    """W1 @ W2 @ ... @ WN, (ydim, xdim)."""
    P = weights[0]
    for W in weights[1:]:
        P = P @ W
    return P


def residual(problem, weights) -> np.ndarray:
    """R = W1 ... WN - A, (ydim, xdim)."""
    return product(weights) - problem.A


def trace_loss(R: np.ndarray, S: np.ndarray) -> float:
    """tr(R S R^T) for R (ydim, xdim) and S (xdim, xdim)."""
    return float(np.vdot(R @ S, R))


def loss(problem, weights) -> float:
    """The sample-sum loss tr(R S R^T) (the expected loss when problem.nsamples == 0)."""
    return trace_loss(residual(problem, weights), problem.S)


def sample_loss(problem, weights) -> float:
    """The post's loss computed over the samples, sum ||W1 W2 X - Y||^2 (O(nsamples); for checks)."""
    Yhat = product(weights) @ problem.X
    return float(np.sum((Yhat - problem.Y) ** 2))


def evaluate(problem, weights) -> Evaluation:
    """Loss, gradients, gradient norm and residual at ``weights``, in one pass."""
    R = residual(problem, weights)
    E = R @ problem.S
    n = len(weights)
    # prefix[k] = W1 ... W_{k-1} (None for k = 0), suffix[k] = W_{k+1} ... WN (None for k = N-1)
    prefix = [None] * n
    for k in range(1, n):
        prefix[k] = weights[0] if k == 1 else prefix[k - 1] @ weights[k - 1]
    suffix = [None] * n
    for k in range(n - 2, -1, -1):
        suffix[k] = weights[n - 1] if k == n - 2 else weights[k + 1] @ suffix[k + 1]
    grads = []
    for k in range(n):
        G = E if prefix[k] is None else prefix[k].T @ E
        if suffix[k] is not None:
            G = G @ suffix[k].T
        grads.append(2.0 * G)
    grad_norm = float(np.sqrt(sum(np.vdot(g, g) for g in grads)))
    return Evaluation(float(np.vdot(E, R)), tuple(grads), grad_norm, R)


def imbalance(weights) -> np.ndarray:
    """W1^T W1 - W2 W2^T, (wdim, wdim): conserved by gradient flow (Du, Hu & Lee 2018, Thm 2.1).

    Gradient descent with step lr changes it by O(lr^2) per step.
    """
    W1, W2 = weights[0], weights[1]
    return W1.T @ W1 - W2 @ W2.T
