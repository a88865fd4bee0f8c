"""Gradient descent on many problems of the same shape at once, as one array program.

Long runs (10^5 to 10^6 steps, "GD is slow, not stuck") cost per step what one small run costs
in Python overhead; stacking the seeds into (batch, ., .) arrays amortises it. The update is the
one of :class:`linnet.optimizers.GD` on the trace-form loss (:mod:`linnet.losses`), two layers.
"""

from __future__ import annotations

import numpy as np

from linnet.errors import LinnetError


def gd_steps_to_target(problems, lr: float, target: float, max_steps: int,
                       weights=None) -> np.ndarray:
    """Run GD with step ``lr`` on every problem until its relative loss is <= ``target``.

    Args:
        problems: a sequence of two-layer problems with equal shapes.
        lr: the GD learning rate (as in ``gd[lr=...]``).
        target: relative loss (loss / ||Y||_F^2) to reach.
        max_steps: the most updates to apply.
        weights: optional starting layers per problem (default: each problem's initial weights).

    Returns:
        (len(problems),) int array: the number of updates after which each problem first had
        relative loss <= target, or -1 where it did not within ``max_steps`` (or diverged).
        Equals ``linnet.run(p, f"gd[lr={lr}]", max_steps).steps_to(target)`` for each problem.
    """
    problems = list(problems)
    if not problems:
        raise LinnetError("gd_steps_to_target needs at least one problem")
    if len({(p.A.shape, p.wdim) for p in problems}) != 1:
        raise LinnetError("gd_steps_to_target needs problems of one shape")
    weights = [p.weights for p in problems] if weights is None else weights
    A = np.stack([p.A for p in problems])
    S = np.stack([p.S for p in problems])
    W1 = np.stack([w[0] for w in weights])
    W2 = np.stack([w[1] for w in weights])
    threshold = target * np.array([p.y_norm2 for p in problems])
    found = np.full(len(problems), -1)
    active = np.ones(len(problems), dtype=bool)
    two_lr = 2.0 * lr
    with np.errstate(all="ignore"):
        for k in range(max_steps + 1):
            R = W1 @ W2 - A
            E = R @ S
            loss = np.einsum("bij,bij->b", E, R)
            hit = active & (loss <= threshold)
            if hit.any():
                found[hit] = k
                active &= ~hit
            active &= np.isfinite(loss)
            if not active.any() or k == max_steps:
                break
            G1 = E @ W2.transpose(0, 2, 1)  # dL/dW1 / 2 = R S W2^T
            W2 = W2 - two_lr * (W1.transpose(0, 2, 1) @ E)  # dL/dW2 / 2 = W1^T R S
            W1 = W1 - two_lr * G1
    return found
