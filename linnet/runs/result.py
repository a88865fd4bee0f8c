"""The result of a run: one fixed set of fields for every optimizer and backend.

Modelled on scipy.optimize.OptimizeResult (status code plus message), but a frozen dataclass with
fixed fields, so a result from any backend, benchmark or worker process reads the same. Its flat
plain-data form is :func:`linnet.runs.record.record`; its stop codes are :mod:`linnet.optimizers.stopping`'s.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import ArrayLike

from linnet.optimizers.stopping import DIVERGED
from linnet.optimizers.stopping import message as _message
from linnet.runs.record import record

if TYPE_CHECKING:
    from linnet.problems.problem import Problem


def stopped(status: int, steps: int, optimizer: str, backend: str, problem: Problem, losses: ArrayLike,
            grad_norms: ArrayLike, weights: Iterable[np.ndarray], seconds: float, traces: dict | None = None,
            message: str | None = None, device: str = "CPU") -> Result:
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


def reaches(relative_loss, target):
    """The one "reached a target" rule: relative loss (loss / ||Y||_F^2) <= target.

    Elementwise on arrays; NaN (a diverged loss) reaches no target. :meth:`RunResult.steps_to`
    applies it to a loss history, the batched loop (:mod:`linnet.runs.batched`) to each step's
    (B,) relative losses, so the two agree on every step count.
    """
    return relative_loss <= target


def first_step_to(relative_losses, target: float) -> int | None:
    """The first index k of the history ``relative_losses`` (steps + 1,) that :func:`reaches`
    ``target``: the number of updates after which the run first got there; None if never."""
    hit = np.flatnonzero(reaches(np.asarray(relative_losses), target))
    return int(hit[0]) if hit.size else None


class RunResult:
    """What every run result reads as: :class:`Result`, and one member of a batched run
    (:class:`linnet.runs.batched_result.MemberResult`). :func:`linnet.runs.record.record` reads these names.

    A subclass provides the raw figures: ``optimizer``, ``backend``, ``device``, ``problem_info``,
    ``steps``, ``status``, ``message``, ``diverged``, ``seconds``, ``initial_loss``,
    ``initial_grad_norm``, ``last_loss`` and ``last_grad_norm`` (at the stop; non-finite when the
    run diverged), ``last_step`` (the index of that evaluation), ``losses`` (the (steps + 1,) loss
    history, where it was kept) and :meth:`recorded_steps_to`. The derived figures are defined
    here once.
    """

    # the raw figures every subclass provides (fields of Result, properties of MemberResult)
    optimizer: str
    backend: str
    device: str
    problem_info: dict[str, Any]
    steps: int
    status: int
    message: str
    diverged: bool
    seconds: float
    losses: np.ndarray

    if TYPE_CHECKING:  # read-only figures: properties in every subclass

        @property
        def initial_loss(self) -> float: ...

        @property
        def initial_grad_norm(self) -> float: ...

        @property
        def last_loss(self) -> float: ...

        @property
        def last_grad_norm(self) -> float: ...

        @property
        def last_step(self) -> int: ...

    def recorded_steps_to(self) -> dict:
        """{relative target: steps to it, or None} for targets counted during the run; other
        targets are read off the loss history. Default: none counted."""
        return {}

    @property
    def final_loss(self) -> float | None:
        """Loss at the final parameters; None when the run diverged."""
        return None if self.diverged else float(self.last_loss)

    @property
    def relative_loss(self) -> float | None:
        """final_loss / ||Y||_F^2; None when the run diverged."""
        return None if self.diverged else self.final_loss / self.problem_info["y_norm2"]

    @property
    def grad_norm(self) -> float | None:
        """Gradient norm at the final parameters; None when the run diverged."""
        return None if self.diverged else float(self.last_grad_norm)

    @property
    def relative_losses(self) -> np.ndarray:
        """losses / ||Y||_F^2, (steps + 1,)."""
        return np.asarray(self.losses) / self.problem_info["y_norm2"]

    def steps_to(self, relative_target: float) -> int | None:
        """The first number of updates after which relative loss <= target (:func:`reaches`); None if never."""
        recorded = self.recorded_steps_to()
        if relative_target in recorded:
            return recorded[relative_target]
        return first_step_to(self.relative_losses, relative_target)

    @property
    def divergence_step(self) -> int | None:
        """Index of the first non-finite loss (the step at which divergence was seen)."""
        return self.last_step if self.diverged else None

    def to_dict(self, history: bool = False) -> dict:
        """The run record (:func:`linnet.runs.record.record`); histories only when asked."""
        return record(self, history)


@dataclass(frozen=True, eq=False)
class Result(RunResult):
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
    problem_info: dict[str, Any]
    losses: np.ndarray
    grad_norms: np.ndarray
    weights: tuple[np.ndarray, ...]
    steps: int
    diverged: bool
    status: int
    message: str
    seconds: float
    traces: dict[str, np.ndarray] = field(default_factory=dict)
    device: str = "CPU"

    @property
    def initial_loss(self) -> float:
        return float(self.losses[0])

    @property
    def initial_grad_norm(self) -> float:
        """Gradient norm at the initial parameters."""
        return float(self.grad_norms[0])

    @property
    def last_loss(self) -> float:
        return self.losses[-1]

    @property
    def last_grad_norm(self) -> float:
        return self.grad_norms[-1]

    @property
    def last_step(self) -> int:
        return len(self.losses) - 1
