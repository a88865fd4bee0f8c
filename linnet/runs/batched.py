"""Many problems of one shape at once, as one array program: the one batched run loop.

A run of 3000 GD steps on the post's 10x6 problem costs tens of milliseconds, almost all of it
per-call overhead; stacking B problems into arrays with a leading batch axis amortises that
overhead over B members. Every layer is a stack (B, rows, cols), so any depth N works.

:func:`run_batched` runs every batchable optimizer (first order: gd, momentum, adam, rmsprop;
second order: Gauss-Newton and LM, bit for bit as alone). The loop is written here once; the
per-optimizer part (evaluation and update on stacks) is a step object of
:mod:`linnet.runs.batched_steps`. Each step, the loop evaluates every member still running, records
its loss and the targets it reached (the rule of :func:`linnet.runs.result.reaches`, as
``Result.steps_to``), and asks the stopping rule of every run loop
(:func:`linnet.optimizers.stopping.decide_many`): a member stops at its first non-finite loss
(diverged), when its optimizer is done, at the step limit (completed) or, before that, at the
target. Stopped members leave the arrays; the others take one update.
"""

from __future__ import annotations

import time

import numpy as np

from linnet.core.errors import LinnetError
from linnet.optimizers import stopping
from linnet.optimizers.spec import as_optimizer
from linnet.runs import history as histories
from linnet.runs.batched_result import BatchRun
from linnet.runs.batched_steps import step_for, take
from linnet.runs.result import reaches


def stack_problems(problems):
    """(A, S, weights, y_norm2) of problems of one shape and dtype, stacked on a leading batch axis:
    A (B, ydim, xdim), S (B, xdim, xdim), each layer (B, rows, cols), y_norm2 (B,)."""
    if not problems:
        raise LinnetError("a batched run needs at least one problem")
    shapes = {(tuple(w.shape for w in p.weights), p.S.shape, str(p.dtype)) for p in problems}
    if len(shapes) != 1:
        raise LinnetError("a batched run needs problems of one shape and dtype")
    weights = tuple(np.stack([p.weights[k] for p in problems]) for k in range(len(problems[0].weights)))
    return (np.stack([p.A for p in problems]), np.stack([p.S for p in problems]), weights,
            np.array([p.y_norm2 for p in problems]))


class StepsToTargets:
    """The first step at which each of B members reaches each recorded relative target.

    The targets are kept most lenient first: a member reaches them in this order (a relative loss
    at or below one target is below every more lenient one), so one comparison per step with each
    member's next target finds them all (-inf after the last). ``first`` is {target: (B,) int,
    -1 where never}, indexed by member; the per-step arrays are indexed by position among the
    members still running, and :meth:`keep` drops the stopped ones.
    """

    def __init__(self, targets, B: int):
        self.levels = sorted(set(targets), reverse=True)
        self.table = np.array([*self.levels, -np.inf])  # (targets + 1,)
        self.level = np.zeros(B, dtype=np.int64)  # per member: index of its next target
        self.next_at = np.full(B, self.table[0])  # per running member: its next target
        self.first = {t: np.full(B, -1, dtype=np.int64) for t in targets}

    def see(self, k: int, members: np.ndarray, relative: np.ndarray) -> None:
        """Record step k for the running ``members`` (B_running,) at relative losses ``relative``."""
        hit = reaches(relative, self.next_at)
        if hit.any():
            for j in np.flatnonzero(hit):
                m = members[j]
                while reaches(relative[j], self.table[self.level[m]]):
                    self.first[self.levels[self.level[m]]][m] = k
                    self.level[m] += 1
                self.next_at[j] = self.table[self.level[m]]

    def keep(self, keep: np.ndarray) -> None:
        """Keep the running members where ``keep`` (B_running,) is true."""
        self.next_at = self.next_at[keep]


def run_batched(problems, optimizer, steps: int, *, target: float | None = None, lrs=None, targets=(),
                history: bool = False) -> BatchRun:
    """Run a batchable optimizer on every problem for up to ``steps`` updates, as one program.

    Args:
        problems: B problems with equal layer shapes and dtype (and, for second order, equal rank of S).
        optimizer: a batchable optimizer or its spec (``Optimizer.batchable``: gd, momentum, adam,
            rmsprop, ``gauss-newton[jacobian=structured]``, ``lm`` with the direct solve).
        steps: the most updates to apply.
        target: stop a member once its relative loss is <= target (as ``linnet.run``'s target).
        lrs: optional per-member step sizes (B,) replacing a first-order optimizer's ``lr``.
        targets: relative losses whose first-reaching step to record (``Result.steps_to``).
        history: keep the loss history, a row per step evaluated (it grows with the steps taken).

    Returns:
        A :class:`BatchRun`; member i equals ``linnet.run(problems[i], spec_i, steps, target=target)``
        (second order: bit for bit; first order: to about 1e-12 relative, see
        :mod:`linnet.runs.batched_steps`), with the steps to each of ``targets``.

    Raises:
        LinnetError: the optimizer or configuration has no batched loop, or the problems do not stack.
    """
    problems = list(problems)
    optimizer = as_optimizer(optimizer)
    method = step_for(optimizer)
    A, S, weights, y2 = stack_problems(problems)
    data, state = method.start(problems, A, S, weights, lrs)
    B = len(problems)
    stop_at = np.full(B, -np.inf) if target is None else target * y2  # for the running members
    reached = StepsToTargets(targets, B)
    out = BatchRun(status=np.full(B, stopping.COMPLETED), steps=np.zeros(B, dtype=np.int64),
                   initial_loss=np.zeros(B), final_loss=np.zeros(B), grad_norm=np.zeros(B), y_norm2=y2,
                   initial_grad_norm=np.zeros(B), steps_to=reached.first,
                   losses=histories.start(steps, (B,), fill=np.nan) if history else None)
    idx = np.arange(B)  # the members still running, in the order of the arrays
    y2_running = y2
    done = None  # (running,) bool: members whose optimizer's last update said it is done
    start = time.perf_counter()
    with np.errstate(all="ignore"):  # overflow on the way to divergence is an outcome
        for k in range(steps + 1):
            ev = method.evaluate(data, weights)
            loss = np.asarray(ev.loss, dtype=np.float64)
            if k == 0:
                out.initial_loss[idx] = loss
                out.initial_grad_norm[idx] = method.grad_norms(weights, ev)
            if history:
                if k == len(out.losses):  # the history grows with the steps taken
                    out.losses = histories.grow(out.losses, steps, fill=np.nan)
                out.losses[k, idx] = loss
            reached.see(k, idx, loss / y2_running)  # relative losses, as Result.relative_losses
            # the decision is decide_many's; a cheap test first skips it on the steps where every
            # member goes on (finite, above its target, not done, within the budget): almost every step
            if (k == steps or (done is not None and done.any())
                    or not (np.isfinite(loss) & (loss > stop_at)).all()):
                status = stopping.decide_many(k, steps, loss, stop_at, done, optimizer.done_status)
                stop = status != stopping.RUNNING
                if stop.any():
                    where = idx[stop]
                    out.status[where] = status[stop]
                    out.steps[where] = k
                    out.final_loss[where] = loss[stop]
                    out.grad_norm[where] = method.grad_norms(take(weights, stop), take(ev, stop))
                    keep = ~stop
                    if not keep.any():
                        break
                    idx, stop_at, y2_running, done = take((idx, stop_at, y2_running, done), keep)
                    data, state, weights, ev = take((data, state, weights, ev), keep)
                    reached.keep(keep)
            weights, state, done = method.step(data, weights, ev, state)
    out.seconds = time.perf_counter() - start
    if history:
        out.losses = out.losses[: k + 1]  # the rows evaluated: (steps + 1, B) if one member ran to the budget
    return out


def gd_steps_to_target(problems, lr: float, target: float, max_steps: int) -> np.ndarray:
    """Run GD with step ``lr`` on every problem until its relative loss is <= ``target``.

    Returns:
        (len(problems),) int array: the number of updates after which each problem first had
        relative loss <= target, or -1 where it did not within ``max_steps`` (or diverged).
        Equals ``linnet.run(p, f"gd[lr={lr}]", max_steps).steps_to(target)`` for each problem.
    """
    run = run_batched(problems, f"gd[lr={lr!r}]", max_steps, target=target, targets=(target,))
    return run.steps_to[target]
