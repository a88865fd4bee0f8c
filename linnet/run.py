"""The run loop: apply an optimizer to a problem for a number of steps and return a Result.

    >>> import linnet
    >>> result = linnet.run(linnet.post_problem(seed=0), "gd[lr=1e-05]", steps=3000)
    >>> round(result.final_loss, 3)
    73.063

The loop evaluates loss and gradients at the current layers (recording them), stops at the first
non-finite loss (``diverged``), at an optional target relative loss, or when a callback asks,
and otherwise applies one update. ``losses[k]`` is the loss after k updates, as the post's
``sess.run([loss, ..., train_op])`` returns the loss before the update it applies.
"""

from __future__ import annotations

import math
import time

import numpy as np

from linnet import results
from linnet.errors import LinnetError
from linnet.losses import evaluate
from linnet.results import Result
from linnet.spec import as_optimizer

BACKENDS = ("numpy", "tensorflow")


def check_steps(steps) -> int:
    """Return steps as an int, or raise LinnetError unless it is a non-negative integer."""
    if isinstance(steps, (bool, np.bool_)) or not isinstance(steps, (int, np.integer)) or steps < 0:
        raise LinnetError(f"steps must be a non-negative integer, got {steps!r}")
    return int(steps)


def check_target(target) -> float | None:
    if target is None:
        return None
    if not (isinstance(target, (int, float)) and math.isfinite(target) and target >= 0):
        raise LinnetError(f"target must be a non-negative relative loss, got {target!r}")
    return float(target)


def run(problem, optimizer, steps: int, *, backend: str = "numpy", target: float | None = None,
        callback=None, **backend_options) -> Result:
    """Run ``optimizer`` (an instance or a spec string) on ``problem`` for ``steps`` updates.

    Args:
        problem: a :class:`linnet.problems.Problem`.
        optimizer: e.g. ``"adam[lr=0.01]"`` or ``linnet.optimizers.Adam(lr=0.01)``.
        steps: the most updates to apply.
        backend: ``"numpy"`` (fast, from S) or ``"tensorflow"`` (the post's sample loss; see
            :mod:`linnet.backends.tensorflow`, whose options ``backend_options`` carries).
        target: stop once the relative loss (loss / ||Y||_F^2) is at most this.
        callback: ``callback(step, weights, loss)`` after each evaluation; a true return stops.

    Returns:
        A :class:`linnet.results.Result`. Divergence is a result (``diverged=True``), not an error.
    """
    optimizer = as_optimizer(optimizer)
    steps = check_steps(steps)
    target = check_target(target)
    if backend == "tensorflow":
        from linnet.backends import tensorflow as tf_backend

        return tf_backend.run(problem, optimizer, steps, target=target, callback=callback, **backend_options)
    if backend != "numpy":
        raise LinnetError(f"unknown backend {backend!r}; choose one of {', '.join(BACKENDS)}")
    if backend_options:
        raise LinnetError(f"the numpy backend takes no options, got {', '.join(backend_options)}")
    if hasattr(optimizer, "drive"):
        return _driven(problem, optimizer, steps, target)
    return _loop(problem, optimizer, steps, target, callback)


def _loop(problem, optimizer, steps, target, callback) -> Result:
    target_loss = -math.inf if target is None else target * problem.y_norm2
    record = getattr(optimizer, "record", None)
    is_done = getattr(optimizer, "is_done", None)
    losses = np.empty(steps + 1)
    grad_norms = np.empty(steps + 1)
    traces: dict[str, list] = {}
    weights = problem.weights
    status = results.COMPLETED
    start = time.perf_counter()
    state = optimizer.init(problem, weights)
    with np.errstate(all="ignore"):  # overflow on the way to divergence is an outcome
        for k in range(steps + 1):
            ev = evaluate(problem, weights)
            losses[k], grad_norms[k] = ev.loss, ev.grad_norm
            if record is not None:
                for key, value in record(problem, weights, state).items():
                    traces.setdefault(key, []).append(value)
            if not math.isfinite(ev.loss):
                status = results.DIVERGED
                break
            if status == results.CONVERGED or k == steps:
                break
            if ev.loss <= target_loss:
                status = results.TARGET_REACHED
                break
            if callback is not None and callback(k, weights, ev.loss):
                status = results.STOPPED_BY_CALLBACK
                break
            weights, state = optimizer.update(problem, weights, ev, state)
            if is_done is not None and is_done(state):
                status = results.CONVERGED  # evaluate the final point, then stop
    seconds = time.perf_counter() - start
    return results.stopped(status, k, optimizer.spec, "numpy", problem, losses[: k + 1], grad_norms[: k + 1],
                           weights, seconds, traces)


def _driven(problem, optimizer, steps, target) -> Result:
    """Optimizers that run their own loop (the scipy peer) return plain fields via ``drive``.

    ``optimizer.drive(problem, steps, target)`` returns a dict with ``losses``, ``grad_norms``,
    ``weights``, ``steps``, ``status`` and optionally ``message`` and ``traces``.
    """
    start = time.perf_counter()
    out = optimizer.drive(problem, steps, target)
    seconds = time.perf_counter() - start
    losses = np.asarray(out["losses"], dtype=float)
    status = results.DIVERGED if not math.isfinite(losses[-1]) else out["status"]
    return results.stopped(status, out["steps"], optimizer.spec, "numpy", problem, losses, out["grad_norms"],
                           out["weights"], seconds, out.get("traces"),
                           None if status == results.DIVERGED else out.get("message"))
