"""The result record of a run: one fixed set of fields for every optimizer and backend.

Modelled on scipy.optimize.OptimizeResult (status code plus message), but a frozen dataclass with
fixed fields, so a record from any backend, benchmark or worker process reads the same.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

#: status codes (scipy.optimize.least_squares style: >= 0 is a normal stop)
DIVERGED = -1
COMPLETED = 0
TARGET_REACHED = 1
STOPPED_BY_CALLBACK = 2
CONVERGED = 3

MESSAGES = {
    DIVERGED: "diverged: the loss became non-finite",
    COMPLETED: "completed the requested steps",
    TARGET_REACHED: "reached the target relative loss",
    STOPPED_BY_CALLBACK: "stopped by the callback",
    CONVERGED: "converged: the optimizer can make no further progress",
}


def stopped(status: int, steps: int, optimizer: str, backend: str, problem, losses, grad_norms, weights,
            seconds: float, traces: dict | None = None, message: str | None = None) -> Result:
    """The Result of a run loop that stopped with ``status`` after ``steps`` updates.

    Every loop (numpy, TensorFlow, the scipy peer) builds its record here, so ``diverged`` and the
    message mean the same everywhere.
    """
    if message is None:
        message = MESSAGES[status]
        if status == DIVERGED:
            message = f"diverged: non-finite loss after {steps} updates"
    return Result(
        optimizer=optimizer,
        backend=backend,
        problem=problem.describe(),
        losses=np.asarray(losses, dtype=float),
        grad_norms=np.asarray(grad_norms, dtype=float),
        weights=tuple(weights),
        steps=int(steps),
        diverged=status == DIVERGED,
        status=status,
        message=message,
        seconds=seconds,
        traces={k: np.asarray(v) for k, v in (traces or {}).items()},
    )


def plain(x):
    """Plain, JSON-ready data: numpy scalars and arrays become Python numbers and lists, mapping
    keys become strings, and non-finite floats become None (JSON has no inf or nan)."""
    if isinstance(x, Mapping):
        return {str(k): plain(v) for k, v in x.items()}
    if isinstance(x, (list, tuple, np.ndarray)):
        return [plain(v) for v in x]
    if isinstance(x, np.generic):
        x = x.item()
    if isinstance(x, float) and not math.isfinite(x):
        return None
    return x


@dataclass(frozen=True, eq=False)
class Result:
    """What one run produced.

    Attributes:
        optimizer: the optimizer's spec string, e.g. ``gd[lr=1e-05]``.
        backend: ``"numpy"`` or ``"tensorflow"``.
        problem: the problem's metadata (:meth:`linnet.problems.Problem.describe`).
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
    """

    optimizer: str
    backend: str
    problem: dict
    losses: np.ndarray
    grad_norms: np.ndarray
    weights: tuple
    steps: int
    diverged: bool
    status: int
    message: str
    seconds: float
    traces: dict = field(default_factory=dict)

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
        return None if self.diverged else float(self.losses[-1]) / self.problem["y_norm2"]

    @property
    def grad_norm(self) -> float | None:
        """Gradient norm at the final parameters; None when the run diverged."""
        return None if self.diverged else float(self.grad_norms[-1])

    @property
    def relative_losses(self) -> np.ndarray:
        """losses / ||Y||_F^2."""
        return np.asarray(self.losses) / self.problem["y_norm2"]

    def steps_to(self, relative_target: float) -> int | None:
        """The first number of updates after which relative loss <= target; None if never."""
        hit = np.flatnonzero(self.relative_losses <= relative_target)
        return int(hit[0]) if hit.size else None

    @property
    def divergence_step(self) -> int | None:
        """Index of the first non-finite loss (the step at which divergence was seen)."""
        return len(self.losses) - 1 if self.diverged else None

    def to_dict(self, history: bool = False) -> dict:
        """JSON-ready fields of the CLI contract (DESIGN.md); histories only when asked."""
        out = {
            "optimizer": self.optimizer,
            "backend": self.backend,
            "problem": dict(self.problem),
            "steps": self.steps,
            "diverged": self.diverged,
            "status": self.status,
            "message": self.message,
            "initial_loss": plain(self.initial_loss),
            "final_loss": plain(self.final_loss),
            "relative_loss": plain(self.relative_loss),
            "grad_norm": plain(self.grad_norm),
            "seconds": self.seconds,
        }
        if history:
            out["losses"] = [plain(x) for x in self.losses]
            out["grad_norms"] = [plain(x) for x in self.grad_norms]
            out["traces"] = {k: [plain(x) for x in v] for k, v in self.traces.items()}
        return out
