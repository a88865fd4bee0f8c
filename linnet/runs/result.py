"""The result of a run: one fixed set of fields for every optimizer and backend.

Modelled on scipy.optimize.OptimizeResult (status code plus message), but a frozen dataclass with
fixed fields, so a result from any backend, benchmark or worker process reads the same. Its flat
plain-data form is :func:`linnet.runs.record.record`; its stop codes are :mod:`linnet.optimizers.stopping`'s.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

# the status codes and messages live in linnet.optimizers.stopping (re-exported here for readers of a Result)
from linnet.optimizers.stopping import (  # noqa: F401
    COMPLETED,
    CONVERGED,
    DIVERGED,
    MESSAGES,
    NO_PROGRESS,
    STOPPED_BY_CALLBACK,
    TARGET_REACHED,
)
from linnet.optimizers.stopping import message as _message
from linnet.runs.record import plain, record  # noqa: F401  (plain: re-exported for existing callers)


def stopped(status: int, steps: int, optimizer: str, backend: str, problem, losses, grad_norms, weights,
            seconds: float, traces: dict | None = None, message: str | None = None, device: str = "CPU") -> Result:
    """The Result of a run loop that stopped with ``status`` after ``steps`` updates.

    Every loop (numpy, TensorFlow, the scipy peer) builds its record here, so ``diverged`` and the
    message mean the same everywhere.
    """
    if message is None:
        message = _message(status, steps)
    return Result(
        optimizer=optimizer,
        backend=backend,
        problem_info=problem.describe(),
        losses=np.asarray(losses, dtype=float),
        grad_norms=np.asarray(grad_norms, dtype=float),
        weights=tuple(weights),
        steps=int(steps),
        diverged=status == DIVERGED,
        status=status,
        message=message,
        seconds=seconds,
        traces={k: np.asarray(v) for k, v in (traces or {}).items()},
        device=device,
    )


@dataclass(frozen=True, eq=False)
class Result:
    """What one run produced.

    Attributes:
        optimizer: the optimizer's spec string, e.g. ``gd[lr=1e-05]``.
        backend: ``"numpy"`` or ``"tensorflow"``.
        problem_info: the problem's metadata, plain data (:meth:`linnet.problems.problem.Problem.describe`).
        losses: (steps + 1,) loss at the parameters after 0, 1, ..., steps updates; when the run
            diverged, it ends with the first non-finite value.
        grad_norms: (len(losses),) gradient norm sqrt(sum_k ||dL/dWk||^2) at the same points.
        weights: the final layer matrices (W1, W2).
        steps: number of updates applied.
        diverged: True when the loss became non-finite.
        status: one of the codes above; ``message`` says it in words.
        message: why the run stopped.
        seconds: wall time of the loop (after problem set-up and, for TensorFlow, tracing).
        traces: extra per-step histories an optimizer records, by name (e.g. the post's plotted
            ``sum(r)**2`` or LM's damping), each a 1-D array.
        device: where the arithmetic ran: ``"CPU"`` (numpy), or TensorFlow's device, e.g. ``"GPU:0"``.
    """

    optimizer: str
    backend: str
    problem_info: dict
    losses: np.ndarray
    grad_norms: np.ndarray
    weights: tuple
    steps: int
    diverged: bool
    status: int
    message: str
    seconds: float
    traces: dict = field(default_factory=dict)
    device: str = "CPU"

    @property
    def initial_loss(self) -> float:
        return float(self.losses[0])

    @property
    def final_loss(self) -> float | None:
        """Loss at the final parameters; None when the run diverged."""
        return None if self.diverged else float(self.losses[-1])

    @property
    def relative_loss(self) -> float | None:
        """final_loss / ||Y||_F^2; None when the run diverged."""
        return None if self.diverged else float(self.losses[-1]) / self.problem_info["y_norm2"]

    @property
    def grad_norm(self) -> float | None:
        """Gradient norm at the final parameters; None when the run diverged."""
        return None if self.diverged else float(self.grad_norms[-1])

    @property
    def initial_grad_norm(self) -> float:
        """Gradient norm at the initial parameters."""
        return float(self.grad_norms[0])

    @property
    def relative_losses(self) -> np.ndarray:
        """losses / ||Y||_F^2."""
        return np.asarray(self.losses) / self.problem_info["y_norm2"]

    def steps_to(self, relative_target: float) -> int | None:
        """The first number of updates after which relative loss <= target; None if never."""
        hit = np.flatnonzero(self.relative_losses <= relative_target)
        return int(hit[0]) if hit.size else None

    @property
    def divergence_step(self) -> int | None:
        """Index of the first non-finite loss (the step at which divergence was seen)."""
        return len(self.losses) - 1 if self.diverged else None

    def to_dict(self, history: bool = False) -> dict:
        """The run record (:func:`linnet.runs.record.record`); histories only when asked."""
        return record(self, history)
