"""The one stopping rule of every run loop: status codes, their messages, and the decision.

Modelled on scipy.optimize (``least_squares``' status codes and ``TERMINATION_MESSAGES``): a
status >= 0 is a normal stop, -1 is divergence. Every loop -- the numpy loop
(:mod:`linnet.runs.loop`), the TensorFlow loops (:mod:`linnet.runs.backends.tensorflow`) and batched loops
over many problems -- evaluates the loss after k updates, then asks :func:`decide` (or
:func:`decide_many`, vectorised over members) whether to stop, in this order:

1. the loss is not finite: ``DIVERGED`` (divergence is a result, not an error);
2. the optimizer's last update said it can go no further (``Optimizer.is_done``): its declared
   ``done_status``, ``CONVERGED`` or ``NO_PROGRESS``;
3. k equals the step budget: ``COMPLETED``;
4. the loss is at or below the target loss: ``TARGET_REACHED``;
5. (the loop then calls the callback; a true return is ``STOPPED_BY_CALLBACK``).

A numpy loop that Ctrl-C (KeyboardInterrupt) stops ends with ``INTERRUPTED``: the run up to its
last evaluation, a result like any other, carried by :class:`linnet.runs.loop.RunInterrupted`.

Otherwise the loop applies one more update.
"""

from __future__ import annotations

import math

import numpy as np

DIVERGED = -1
COMPLETED = 0
TARGET_REACHED = 1
STOPPED_BY_CALLBACK = 2
CONVERGED = 3
NO_PROGRESS = 4
INTERRUPTED = 5
#: :func:`decide_many`'s value for members that go on
RUNNING = -2

MESSAGES = {
    DIVERGED: "diverged: the loss became non-finite",
    COMPLETED: "completed the requested steps",
    TARGET_REACHED: "reached the target relative loss",
    STOPPED_BY_CALLBACK: "stopped by the callback",
    CONVERGED: "converged: the optimizer's own convergence test is met",
    NO_PROGRESS: "stopped: the optimizer's step no longer reduces the loss",
    INTERRUPTED: "interrupted: stopped by Ctrl-C (KeyboardInterrupt)",
}


def message(status: int, steps: int) -> str:
    """The message of ``status`` for a run that stopped after ``steps`` updates."""
    if status == DIVERGED:
        return f"diverged: non-finite loss after {steps} updates"
    return MESSAGES[status]


def decide(k: int, steps: int, loss: float, target_loss: float, done_status: int | None = None) -> int | None:
    """The status to stop with after k updates at ``loss``, or None to go on.

    Args:
        k: updates applied so far.
        steps: the step budget.
        loss: the loss after k updates.
        target_loss: stop at or below this loss (-inf: no target).
        done_status: the optimizer's ``done_status`` when its last update reported it is done,
            else None.
    """
    if not math.isfinite(loss):
        return DIVERGED
    if done_status is not None:
        return done_status
    if k >= steps:
        return COMPLETED
    if loss <= target_loss:
        return TARGET_REACHED
    return None


def decide_many(k: int, steps: int, losses, target_losses, done=None, done_status: int = CONVERGED) -> np.ndarray:
    """:func:`decide` for many members at once.

    Args:
        losses: (batch,) losses after k updates.
        target_losses: scalar or (batch,) target losses.
        done: optional (batch,) bool, members whose optimizer reported done.

    Returns:
        (batch,) int array of statuses, :data:`RUNNING` where a member goes on.
    """
    losses = np.asarray(losses)
    finite = np.isfinite(losses)
    done = np.zeros(losses.shape, bool) if done is None else np.asarray(done, bool)
    with np.errstate(invalid="ignore"):
        below = losses <= target_losses
    return np.select([~finite, done, np.full(losses.shape, k >= steps), below],
                     [DIVERGED, done_status, COMPLETED, TARGET_REACHED], RUNNING)
