"""First-order optimizers on many problems of one shape at once, as one array program.

A run of 3000 GD steps on the post's 10x6 problem costs tens of milliseconds, almost all of it
per-call overhead; stacking B problems into arrays with a leading batch axis amortises that
overhead over B members. Every layer is a stack (B, rows, cols), so any depth N works.

The loss and gradients are those of :mod:`linnet.problems.losses` (tr(R S R^T), dL/dWk = 2 (W1..W_{k-1})^T
R S (W_{k+1}..WN)^T), written for stacks. The updates are the optimizers' own ``update`` methods
(:mod:`linnet.optimizers.first_order`), whose formulas broadcast over the batch axis; the step size
``lr`` may differ per member (a (B, 1, 1) array). The stopping rule is the one of every run loop
(:func:`linnet.optimizers.stopping.decide_many`), applied per member with an active mask: a member stops at
its first non-finite loss (diverged), at the step limit (completed) or, before that, at the target.
"""

from __future__ import annotations

import copy
import time
from typing import NamedTuple

import numpy as np

from linnet.core.errors import LinnetError
from linnet.optimizers import stopping
from linnet.optimizers.spec import as_optimizer
from linnet.runs.batched_result import BatchRun, MemberResult  # noqa: F401  (re-exported)


class BatchEvaluation(NamedTuple):
    """Loss and gradients of B stacked problems; ``losses.Evaluation`` with a batch axis.

    Attributes:
        loss: (B,) tr(R S R^T) per member.
        grads: dL/dWk per layer, each (B, rows_k, cols_k).
        residual: R = W1 ... WN - A, (B, ydim, xdim).
    """

    loss: np.ndarray
    grads: tuple[np.ndarray, ...]
    residual: np.ndarray


def _t(M: np.ndarray) -> np.ndarray:
    return M.swapaxes(-1, -2)


def evaluate(A: np.ndarray, S: np.ndarray, weights) -> BatchEvaluation:
    """Loss and gradients of the stacked problems (A (B, ydim, xdim), S (B, xdim, xdim)) at the
    stacked layers ``weights`` (each (B, rows, cols)); the formulas of :func:`linnet.problems.losses.evaluate`."""
    n = len(weights)
    prefix = [None] * n  # prefix[k] = W1 ... W_{k-1}
    for k in range(1, n):
        prefix[k] = weights[0] if k == 1 else prefix[k - 1] @ weights[k - 1]
    P = weights[0] if n == 1 else prefix[n - 1] @ weights[n - 1]
    R = P - A
    E2 = 2.0 * (R @ S)  # doubling is exact, so loss = tr(E2 R^T) / 2 rounds as tr(R S R^T)
    suffix = [None] * n  # suffix[k] = W_{k+1} ... WN
    for k in range(n - 2, -1, -1):
        suffix[k] = weights[n - 1] if k == n - 2 else weights[k + 1] @ suffix[k + 1]
    grads = []
    for k in range(n):
        G = E2 if prefix[k] is None else _t(prefix[k]) @ E2
        if suffix[k] is not None:
            G = G @ np.ascontiguousarray(_t(suffix[k]))  # a contiguous right factor multiplies faster
        grads.append(G)
    return BatchEvaluation(0.5 * np.einsum("bij,bij->b", E2, R), tuple(grads), R)


def grad_norms(grads) -> np.ndarray:
    """(B,) sqrt(sum_k ||dL/dWk||_F^2) per member (the run loop's ``grad_norm``)."""
    return np.sqrt(sum(np.einsum("bij,bij->b", g, g) for g in grads))


def _take(tree, keep):
    """Index every batched array (ndim >= 1, leading batch axis) of a state tree with ``keep``."""
    if isinstance(tree, np.ndarray) and tree.ndim >= 1:
        return tree[keep]
    if isinstance(tree, tuple) and hasattr(tree, "_fields"):
        return type(tree)(*(_take(t, keep) for t in tree))
    if isinstance(tree, tuple):
        return tuple(_take(t, keep) for t in tree)
    return tree


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


def _with_lr(optimizer, lr):
    """A copy of the (frozen) optimizer whose ``lr`` is the per-member (B, 1, 1) array ``lr``."""
    if lr is None:
        return optimizer
    vector = copy.copy(optimizer)
    object.__setattr__(vector, "lr", lr)
    return vector


def run_first_order(problems, optimizer, steps: int, *, target: float | None = None, lrs=None,
                    targets=(), history: bool = False) -> BatchRun:
    """Run a first-order optimizer on every problem for up to ``steps`` updates, as one program.

    Args:
        problems: problems with equal layer shapes and dtype.
        optimizer: a first-order optimizer or its spec (gd, momentum, adam, rmsprop).
        steps: the most updates to apply.
        target: stop a member once its relative loss is <= target (as ``linnet.run``'s target).
        lrs: optional per-member step sizes (B,), replacing the optimizer's ``lr``.
        targets: relative losses whose first-reaching step to record (``Result.steps_to``).
        history: keep the (steps + 1, B) loss history.

    Returns:
        A :class:`BatchRun`; member i equals ``linnet.run(problems[i], spec_i, steps, target=target)``.
    """
    problems = list(problems)
    optimizer = as_optimizer(optimizer)
    if not optimizer.batchable or not optimizer.first_order:
        raise LinnetError(f"{optimizer.spec} has no batched first-order loop")
    A, S, weights, y2 = stack_problems(problems)
    dtype = problems[0].dtype
    B = len(problems)
    lr = None if lrs is None else np.asarray(lrs, dtype=dtype).reshape(B, 1, 1)
    stop_at = np.full(B, -np.inf) if target is None else target * y2  # for the members in the arrays
    # the recorded targets, most lenient first: a member reaches them in this order (a relative
    # loss at or below one target is below every more lenient one), so one comparison per step with
    # each member's next target finds them all; -inf after the last. Relative losses are loss / y2,
    # as Result.steps_to computes them (loss <= t * y2 can differ by one rounding)
    levels = sorted(set(targets), reverse=True)
    table = np.array([*levels, -np.inf])  # (targets + 1,)
    level = np.zeros(B, dtype=np.int64)
    next_at = np.full(B, table[0])  # for the members in the arrays
    y2_active = y2  # y2 of the members in the arrays
    out = BatchRun(status=np.full(B, stopping.COMPLETED), steps=np.zeros(B, dtype=np.int64),
                   initial_loss=np.zeros(B), final_loss=np.zeros(B), grad_norm=np.zeros(B), y_norm2=y2,
                   initial_grad_norm=np.zeros(B),
                   steps_to={t: np.full(B, -1, dtype=np.int64) for t in targets},
                   losses=np.full((steps + 1, B), np.nan) if history else None)
    idx = np.arange(B)  # members still in the arrays; all of them are active
    opt = _with_lr(optimizer, lr)
    start = time.perf_counter()
    state = opt.init(None, weights)
    with np.errstate(all="ignore"):  # overflow on the way to divergence is an outcome
        for k in range(steps + 1):
            ev = evaluate(A, S, weights)
            loss = np.asarray(ev.loss, dtype=np.float64)
            if k == 0:
                out.initial_loss[idx] = loss
                out.initial_grad_norm[idx] = grad_norms(ev.grads)
            if history:
                out.losses[k, idx] = loss
            relative = loss / y2_active
            hit = relative <= next_at
            if hit.any():
                for j in np.flatnonzero(hit):
                    m = idx[j]
                    while relative[j] <= table[level[m]]:
                        out.steps_to[levels[level[m]]][m] = k
                        level[m] += 1
                    next_at[j] = table[level[m]]
            # the decision is decide_many's; a cheap test first skips it on the steps where every
            # member goes on (finite, above its target, within the budget): almost every step
            if k == steps or not (np.isfinite(loss) & (loss > stop_at)).all():
                status = stopping.decide_many(k, steps, loss, stop_at)
                stop = status != stopping.RUNNING
                if stop.any():
                    where = idx[stop]
                    out.status[where] = status[stop]
                    out.steps[where] = k
                    out.final_loss[where] = loss[stop]
                    out.grad_norm[where] = grad_norms(tuple(g[stop] for g in ev.grads))
                    keep = ~stop
                    if not keep.any():
                        break
                    idx, A, S, stop_at, next_at = idx[keep], A[keep], S[keep], stop_at[keep], next_at[keep]
                    y2_active = y2_active[keep]
                    weights = _take(weights, keep)
                    ev = BatchEvaluation(loss[keep], _take(ev.grads, keep), ev.residual[keep])
                    state = _take(state, keep)
                    lr = None if lr is None else lr[keep]
                    opt = _with_lr(optimizer, lr)
            weights, state = opt.update(None, weights, ev, state)
    out.seconds = time.perf_counter() - start
    return out


def gd_steps_to_target(problems, lr: float, target: float, max_steps: int) -> np.ndarray:
    """Run GD with step ``lr`` on every problem until its relative loss is <= ``target``.

    Returns:
        (len(problems),) int array: the number of updates after which each problem first had
        relative loss <= target, or -1 where it did not within ``max_steps`` (or diverged).
        Equals ``linnet.run(p, f"gd[lr={lr}]", max_steps).steps_to(target)`` for each problem.
    """
    run = run_first_order(problems, f"gd[lr={lr!r}]", max_steps, target=target, targets=(target,))
    return run.steps_to[target]
