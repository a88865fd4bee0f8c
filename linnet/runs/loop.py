"""The run loop: apply an optimizer to a problem for a number of steps and return a Result.

    >>> import linnet
    >>> result = linnet.run(linnet.post_problem(seed=0), "gd[lr=1e-05]", steps=3000)
    >>> round(result.final_loss, 3)
    73.063

The loop evaluates loss and gradients at the current layers (recording them), asks the one
stopping rule (:func:`linnet.optimizers.stopping.decide`: divergence, the optimizer done, the step budget,
the target relative loss), then the callback, and otherwise applies one update. ``losses[k]`` is
the loss after k updates, as the post's ``sess.run([loss, ..., train_op])`` returns the loss
before the update it applies. The histories grow with the steps taken (:mod:`linnet.runs.history`),
so a huge budget costs nothing until it is used. Ctrl-C (KeyboardInterrupt) ends the run at its
last evaluation: :class:`RunInterrupted`, a KeyboardInterrupt that carries that Result (status
``INTERRUPTED``), so a caller that stops on Ctrl-C still stops and one that wants the run has it.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, cast

import numpy as np

from linnet.core.errors import LinnetError
from linnet.core.validation import check_backend, check_steps, check_target
from linnet.optimizers import stopping
from linnet.optimizers.spec import as_optimizer
from linnet.problems.losses import evaluate
from linnet.runs import history
from linnet.runs import result as results
from linnet.runs.result import Result

if TYPE_CHECKING:
    from linnet.optimizers.base import Optimizer
    from linnet.problems.problem import Problem


class RunInterrupted(KeyboardInterrupt):
    """Ctrl-C during the numpy loop, with the run so far.

    Attributes:
        result: the :class:`linnet.runs.result.Result` of the steps completed, status
            :data:`linnet.optimizers.stopping.INTERRUPTED`.
    """

    def __init__(self, result: Result):
        super().__init__(result.message)
        self.result = result


def run(problem: Problem, optimizer: Optimizer | str, steps: int, *, backend: str = "numpy",
        target: float | None = None, callback: Callable[[int, tuple, float], object] | None = None,
        **backend_options: Any) -> Result:
    """Run ``optimizer`` (an instance or a spec string) on ``problem`` for ``steps`` updates.

    Args:
        problem: a :class:`linnet.problems.problem.Problem`.
        optimizer: e.g. ``"adam[lr=0.01]"`` or ``linnet.optimizers.first_order.Adam(lr=0.01)``.
        steps: the most updates to apply.
        backend: ``"numpy"`` (fast, from S) or ``"tensorflow"`` (the post's sample loss; see
            :mod:`linnet.runs.backends.tensorflow`, whose options ``backend_options`` carries).
        target: stop once the relative loss (loss / ||Y||_F^2) is at most this.
        callback: ``callback(step, weights, loss)`` after each evaluation; a true return stops.

    Returns:
        A :class:`linnet.runs.result.Result`. Divergence is a result (``diverged=True``), not an error.

    Raises:
        RunInterrupted: Ctrl-C during the numpy loop; its ``result`` is the run so far.
    """
    optimizer = cast("Optimizer", as_optimizer(optimizer))
    steps = check_steps(steps)
    target = check_target(target)
    check_backend(backend)
    optimizer.check_backend(backend)
    optimizer.check_layers(problem.weights)
    if backend == "tensorflow":
        from linnet.runs.backends import tensorflow as tf_backend

        return tf_backend.run(problem, optimizer, steps, target=target, callback=callback, **backend_options)
    if backend_options:
        raise LinnetError(f"the numpy backend takes no options, got {', '.join(backend_options)}")
    if optimizer.drives_own_loop:
        return _driven(problem, optimizer, steps, target, callback)
    return _loop(problem, optimizer, steps, target, callback)


def _loop(problem, optimizer, steps, target, callback) -> Result:
    target_loss = -math.inf if target is None else target * problem.y_norm2
    losses = history.start(steps)  # room for the first evaluations, doubled when full
    grad_norms = history.start(steps)
    room = len(losses)
    traces: dict[str, list] = {}
    weights = problem.weights
    done = None  # the optimizer's done_status once its last update reported done
    recorded, recorded_weights = -1, weights  # the last evaluation written in full, and its point
    start = time.perf_counter()
    state = optimizer.init(problem, weights)
    try:
        with np.errstate(all="ignore"):  # overflow on the way to divergence is an outcome
            for k in range(steps + 1):
                ev = evaluate(problem, weights)
                if k == room:
                    losses, grad_norms = history.grow(losses, steps), history.grow(grad_norms, steps)
                    room = len(losses)
                losses[k], grad_norms[k] = ev.loss, ev.grad_norm
                for key, value in optimizer.trace(problem, weights, state).items():
                    traces.setdefault(key, []).append(value)
                recorded, recorded_weights = k, weights
                status = stopping.decide(k, steps, ev.loss, target_loss, done)
                if status is not None:
                    break
                if callback is not None and callback(k, weights, ev.loss):
                    status = stopping.STOPPED_BY_CALLBACK
                    break
                weights, state = optimizer.update(problem, weights, ev, state)
                if optimizer.is_done(state):
                    done = optimizer.done_status  # evaluate the final point, then stop
    except KeyboardInterrupt:
        if recorded < 0:  # interrupted before the first evaluation: nothing to report
            raise
        # Ctrl-C: the run so far, up to the last evaluation written in full
        k = recorded
        raise RunInterrupted(results.stopped(
            stopping.INTERRUPTED, k, optimizer.spec, "numpy", problem, losses[: k + 1], grad_norms[: k + 1],
            recorded_weights, time.perf_counter() - start, {key: v[: k + 1] for key, v in traces.items()})) from None
    seconds = time.perf_counter() - start
    # decide() returns a status at k == steps at the latest, so the loop always ends with one
    return results.stopped(cast(int, status), k, optimizer.spec, "numpy", problem, losses[: k + 1], grad_norms[: k + 1],
                           weights, seconds, traces)


def _driven(problem, optimizer, steps, target, callback) -> Result:
    """Optimizers that run their own loop (``drives_own_loop``, the scipy peer) return plain fields
    via :meth:`linnet.optimizers.base.Optimizer.drive`; the callback is passed on to it."""
    start = time.perf_counter()
    out = optimizer.drive(problem, steps, target, callback)
    seconds = time.perf_counter() - start
    losses = np.asarray(out["losses"], dtype=float)
    status = stopping.DIVERGED if not math.isfinite(losses[-1]) else out["status"]
    return results.stopped(status, out["steps"], optimizer.spec, "numpy", problem, losses, out["grad_norms"],
                           out["weights"], seconds, out.get("traces"),
                           None if status == stopping.DIVERGED else out.get("message"))
