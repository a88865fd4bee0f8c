"""Loss and gradients of a product of layer matrices, from the second moment S.

For layers ``weights = (W1, ..., WN)`` the model is P = W1 W2 ... WN (ydim x xdim) and the loss is

    L = tr(R S R^T),  R = P - A,

which equals the post's ``reduce_sum(squared_difference(W1 @ (W2 @ X), Y))`` when S = X X^T and
Y = A X, and the expected loss ||P - A||_F^2 when S = I (docs/design.md, "The problem").

Gradients (matrix calculus, e.g. Saxe, McClelland & Ganguli 2014, eq. 2, for N = 2):

    dL/dWk = 2 (W1 ... W_{k-1})^T (R S) (W_{k+1} ... WN)^T,

so for two layers dL/dW1 = 2 R S W2^T and dL/dW2 = 2 W1^T R S. The cost is O(ydim xdim wdim) per
evaluation, independent of the number of samples.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from scipy.linalg import block_diag

from linnet.problems.jacobian import vjp


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
    """Test oracle: the post's loss over the samples, sum ||W1 ... WN X - Y||^2 (O(nsamples)).

    Kept only to check :func:`loss` against; nothing in linnet calls it.
    """
    Yhat = product(weights) @ problem.X
    return float(np.sum((Yhat - problem.Y) ** 2))


def evaluate(problem, weights) -> Evaluation:
    """Loss, gradients, gradient norm and residual at ``weights``, in one pass.

    The gradients are 2 J^T (R C) (:func:`linnet.problems.jacobian.vjp`, with S in place of C C^T).
    """
    R = residual(problem, weights)
    E = R @ problem.S
    grads = tuple(2.0 * G for G in vjp(weights, E))
    grad_norm = float(np.sqrt(sum(np.vdot(g, g) for g in grads)))
    return Evaluation(float(np.vdot(E, R)), grads, grad_norm, R)


def pair_imbalances(weights) -> list[np.ndarray]:
    """[W_k^T W_k - W_{k+1} W_{k+1}^T for k = 1..N-1], each (n_k, n_k); [] for one layer.

    Each is conserved by gradient flow (Du, Hu & Lee 2018, Theorem 2.1; Arora, Cohen & Hazan 2018,
    Theorem 1); one step of gradient descent changes each by exactly the second-order term of
    :func:`imbalance_changes`.
    """
    return [W.T @ W - V @ V.T for W, V in zip(weights[:-1], weights[1:])]


def imbalance_changes(grads, lr: float) -> list[np.ndarray]:
    """The exact change of :func:`pair_imbalances` under one gradient-descent step W_k -= lr G_k.

    With G_k = dL/dW_k for the product loss (:func:`evaluate`),

        D_k(W - lr G) - D_k(W) = lr^2 (G_k^T G_k - G_{k+1} G_{k+1}^T),    k = 1..N-1,

    each (n_k, n_k): the first-order terms cancel because G_k^T W_k = W_{k+1} G_{k+1}^T (both equal
    (W_{k+1} ... W_N) E^T (W_1 ... W_k) for E = dL/dP), which is why gradient flow conserves D_k
    (Du, Hu & Lee 2018, Theorem 2.1; Arora, Cohen & Hazan 2018, Theorem 1, in the order
    W_N ... W_1 there). The identity holds for plain gradient steps only: a momentum or adaptive
    step is not a multiple of G and changes D_k at first order in lr. Summed over a run it bounds
    the drift: ||D_k(T) - D_k(0)||_F <= lr^2 sum_t (||G_k||_F^2 + ||G_{k+1}||_F^2).
    """
    return [lr * lr * (G.T @ G - H @ H.T) for G, H in zip(grads[:-1], grads[1:])]


def imbalance(weights) -> np.ndarray:
    """The imbalances of every adjacent pair (:func:`pair_imbalances`) as one block-diagonal matrix.

    Shape (sum_k n_k, sum_k n_k) over the hidden widths; for two layers it is W1^T W1 - W2 W2^T,
    (wdim, wdim). Its Frobenius norm is sqrt(sum_k ||D_k||_F^2); (0, 0) for one layer.
    """
    blocks = pair_imbalances(weights)
    return block_diag(*blocks) if blocks else np.zeros((0, 0), dtype=weights[0].dtype)
