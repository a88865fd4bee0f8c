"""What a batched run produced (:func:`linnet.runs.batched.run_batched`): the whole batch's arrays
(:class:`BatchRun`) and one member read as a run result (:class:`MemberResult`, a
:class:`linnet.runs.result.RunResult` like :class:`linnet.runs.result.Result`)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from linnet.core.errors import LinnetError
from linnet.optimizers import stopping
from linnet.runs.result import RunResult


@dataclass
class BatchRun:
    """What a batched run produced, one entry per member (the fields of :class:`linnet.runs.result.Result`).

    Attributes:
        status: (B,) status codes of :mod:`linnet.optimizers.stopping`.
        steps: (B,) updates applied.
        initial_loss, final_loss, grad_norm: (B,) at the start and at the stop (non-finite loss
            where the member diverged); initial_grad_norm: (B,) at the start.
        y_norm2: (B,) ||Y||_F^2, the relative-loss scale.
        steps_to: {target: (B,) first step with relative loss <= target, -1 where never}.
        seconds: wall time of the whole batch.
        losses: (k + 1, B) loss history when asked for, k the last step any member was evaluated
            (NaN after a member stopped), else None.
    """

    status: np.ndarray
    steps: np.ndarray
    initial_loss: np.ndarray
    final_loss: np.ndarray
    grad_norm: np.ndarray
    y_norm2: np.ndarray
    steps_to: dict = field(default_factory=dict)
    seconds: float = 0.0
    losses: np.ndarray | None = None
    initial_grad_norm: np.ndarray | None = None

    @property
    def diverged(self) -> np.ndarray:
        return self.status == stopping.DIVERGED

    def history(self, i: int) -> np.ndarray:
        """Member i's loss history, as ``Result.losses`` (kept only by a run with history=True)."""
        if self.losses is None:
            raise LinnetError("this batched run kept no loss history; run it with history=True")
        return self.losses[: self.steps[i] + 1, i]

    def member(self, i: int, problem, spec: str) -> MemberResult:
        """Member i's run, read as a :class:`linnet.runs.result.Result` (for :func:`linnet.runs.record.record`);
        ``problem`` and ``spec`` are the member's; its seconds are its share of the batch's time."""
        return MemberResult(self, i, problem.describe(), spec)


@dataclass(frozen=True)
class MemberResult(RunResult):
    """Member i of a :class:`BatchRun`, read as a run result: the raw figures of
    :class:`linnet.runs.result.RunResult` from the batch's arrays, and the derived ones
    (final_loss, relative_loss, steps_to, ...) from RunResult. ``steps_to`` knows the batch's
    recorded targets, and any other target where the batch kept its loss history."""

    run: BatchRun
    i: int
    problem_info: dict
    optimizer: str
    backend: str = "numpy"
    device: str = "CPU"

    @property
    def steps(self) -> int:
        return int(self.run.steps[self.i])

    @property
    def status(self) -> int:
        return int(self.run.status[self.i])

    @property
    def message(self) -> str:
        return stopping.message(self.status, self.steps)

    @property
    def diverged(self) -> bool:
        return self.status == stopping.DIVERGED

    @property
    def seconds(self) -> float:
        return self.run.seconds / len(self.run.steps)

    @property
    def initial_loss(self) -> float:
        return float(self.run.initial_loss[self.i])

    @property
    def initial_grad_norm(self) -> float:
        return float(self.run.initial_grad_norm[self.i])

    @property
    def last_loss(self) -> float:
        return self.run.final_loss[self.i]

    @property
    def last_grad_norm(self) -> float:
        return self.run.grad_norm[self.i]

    @property
    def last_step(self) -> int:
        return self.steps

    @property
    def losses(self) -> np.ndarray:
        return self.run.history(self.i)

    def recorded_steps_to(self) -> dict:
        return {t: (int(first[self.i]) if first[self.i] >= 0 else None) for t, first in self.run.steps_to.items()}
