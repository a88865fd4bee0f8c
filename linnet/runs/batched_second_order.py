"""Gauss-Newton and Levenberg-Marquardt on many problems of one shape at once, bit for bit as alone.

These methods converge to the round-off floor (relative loss ~1e-28 on the post's problem), where
the step count to a target and the final loss turn on the last bits of every step. So the batched
loop does not approximate the single run: it performs, for each member, the same floating-point
operations in the same order. Every operation on a stack is one numpy computes per member exactly
as for that member alone:

* matmul on stacks (numpy calls BLAS once per matrix of a stack) -- the stacked Jacobian products
  of :mod:`linnet.problems.jacobian`, the row Gram :func:`linnet.optimizers.linalg.gauss_newton.row_gram`;
* the LAPACK gufuncs np.linalg.solve / svd / eigh (one LAPACK call per matrix) -- the damped solve
  :func:`linnet.optimizers.linalg.gauss_newton.damped_step` and the Kronecker SVD
  :func:`linnet.optimizers.linalg.gauss_newton.spectrum`;
* elementwise arithmetic, and per-member scalar rules (Nielsen's damping update) in Python floats
  as the single update computes them;
* the loss tr(R S R^T) as np.vdot(R S, R) computes it (BLAS ddot; a stacked (1, n) @ (n, 1) matmul
  is the same ddot call), not the einsum of :func:`linnet.runs.batched.evaluate`, which sums in
  another order.

The single updates (:class:`linnet.optimizers.second_order.GaussNewton`, ``LevenbergMarquardt``)
call the same stack-aware functions with unstacked arrays, so there is one definition of each step.
tests/test_batched_second_order.py checks the identity per operation (stacks of 1, 7 and 64
members) and per run (hypothesis over random grids).

Scope: ``gauss-newton[jacobian=structured]`` at every depth (at depth 2 the stacked Kronecker SVD;
at other depths the stacked row Gram with one scipy eigh per member, in a loop, as the single step
calls it) and ``lm`` with the direct row-space solve (``solver=cg``, and ``auto`` beyond
:data:`linnet.optimizers.linalg.gauss_newton.ROW_SPACE_MAX` rows, run one by one). Members whose configuration is
outside that raise LinnetError here, and the sweep engine runs them one by one.
"""

from __future__ import annotations

import math
import time

import numpy as np

from linnet.core.errors import LinnetError
from linnet.optimizers import stopping
from linnet.optimizers.linalg import gauss_newton as gn
from linnet.optimizers.linalg.damping import nielsen
from linnet.optimizers.second_order import GaussNewton, LevenbergMarquardt, LMState, add
from linnet.optimizers.spec import as_optimizer
from linnet.problems.jacobian import vjp
from linnet.problems.losses import product
from linnet.runs.batched import BatchRun, _take, stack_problems


def dots(X: np.ndarray) -> np.ndarray:
    """(B,) np.vdot(X[b], X[b]) per member of a C-contiguous stack, bit for bit (one ddot each)."""
    flat = np.ascontiguousarray(X).reshape(X.shape[0], -1)
    return (flat[:, None, :] @ flat[:, :, None])[:, 0, 0]


def losses(A: np.ndarray, S: np.ndarray, weights) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(loss (B,), R (B, ydim, xdim), E = R S) per member, as :func:`linnet.problems.losses.evaluate` computes
    them: R = W1 ... WN - A, loss = np.vdot(R S, R)."""
    R = product(weights) - A
    E = R @ S
    flat_e, flat_r = E.reshape(E.shape[0], 1, -1), R.reshape(R.shape[0], -1, 1)
    return (flat_e @ flat_r)[:, 0, 0], R, E


def grad_norms(weights, E: np.ndarray) -> np.ndarray:
    """(B,) the run loop's gradient norm sqrt(sum_k ||2 Pre_k^T E Suf_k^T||^2), E = R S."""
    return np.sqrt(sum(dots(2.0 * G) for G in vjp(weights, E)))


def _norms(arrays) -> np.ndarray:
    """(B,) sqrt(sum_k vdot(X_k, X_k)) per member, as the single update's norms of layers / steps."""
    return np.sqrt(sum(dots(X) for X in arrays))


def gauss_newton_update(opt: GaussNewton, C, weights, R):
    """One Gauss-Newton update of every member: weights + step * (the min-norm step, gn.min_norm_step)."""
    return add(weights, gn.min_norm_step(C, weights, R, opt.rcond), opt.step)


def lm_update(opt: LevenbergMarquardt, A, S, C, weights, loss, R, mu, nu):
    """One Levenberg-Marquardt update of every member (``LevenbergMarquardt.update``, direct solver).

    Args: the stacks A, S, C, weights; loss (B,) and R at ``weights``; mu, nu (B,) damping state.
    Returns (weights, mu, nu, done), each member's as its own update returns them: members whose
    trial is rejected try again with more damping, in stacks of the members still trying.
    """
    gram = gn.row_gram(C, weights)
    r = gn.residual_vector(C, R)
    rr = dots(r)
    eps = np.finfo(r.dtype).eps
    small = eps * (_norms(weights) + eps)
    mu, nu = mu.copy(), nu.copy()
    new_w = tuple(W.copy() for W in weights)
    done = np.ones(len(mu), dtype=bool)  # until a step is taken
    trying = np.arange(len(mu))
    for _ in range(opt.max_trials):
        w_t = _take(weights, trying)
        deltas, z = gn.damped_step(C[trying], w_t, r[trying], gram[trying], mu[trying])
        go = ~(_norms(deltas) <= small[trying])  # a step of no useful length: the member is done
        trying, w_t, deltas, z = trying[go], _take(w_t, go), _take(deltas, go), z[go]
        if not trying.size:
            break
        trial = add(w_t, deltas)
        actual = loss[trying] - losses(A[trying], S[trying], trial)[0]
        zz = dots(z)
        accepted = np.zeros(len(trying), dtype=bool)
        for j, m in enumerate(trying):  # Nielsen's rule in Python floats, as the single update
            m_mu = float(mu[m])
            predicted = float(rr[m]) - m_mu * m_mu * float(zz[j])
            accepted[j], mu[m], nu[m] = nielsen(m_mu, float(nu[m]), float(actual[j]), predicted)
        if accepted.any():
            taken = trying[accepted]
            done[taken] = False
            for W, T in zip(new_w, trial, strict=True):
                W[taken] = T[accepted]
        trying = trying[~accepted]
        if not trying.size:
            break
    return new_w, mu, nu, done


def _check(problems, optimizer):
    if not isinstance(optimizer, (GaussNewton, LevenbergMarquardt)) or not optimizer.batchable:
        raise LinnetError(f"{optimizer.spec} has no batched second-order loop; it runs one by one")
    if len({p.S_factor.shape for p in problems}) != 1:
        raise LinnetError("a batched second-order run needs S factors of one shape (equal rank of S)")
    states = [optimizer.init(p, p.weights) for p in problems]  # the single run's checks and initial state
    if isinstance(optimizer, LevenbergMarquardt) and not isinstance(states[0], LMState):
        raise LinnetError(f"{optimizer.spec} solves by CG here (matrix-free); it runs one by one")
    return states


def run_second_order(problems, optimizer, steps: int, *, target: float | None = None, targets=(),
                     history: bool = False) -> BatchRun:
    """Run Gauss-Newton or Levenberg-Marquardt on every problem for up to ``steps`` updates, as one program.

    Args: as :func:`linnet.runs.batched.run_first_order` (no per-member step sizes).

    Returns:
        A :class:`linnet.runs.batched.BatchRun`; member i equals ``linnet.run(problems[i], optimizer, steps,
        target=target)`` exactly: the same status, steps, losses (bit for bit), steps to each target.
    """
    problems = list(problems)
    optimizer = as_optimizer(optimizer)
    A, S, weights, y2 = stack_problems(problems)
    states = _check(problems, optimizer)
    C = np.stack([p.S_factor for p in problems])
    is_lm = isinstance(optimizer, LevenbergMarquardt)
    mu = np.array([s.mu for s in states]) if is_lm else None
    nu = np.full(len(problems), 2.0)
    B = len(problems)
    stop_at = np.full(B, -math.inf) if target is None else target * y2  # linnet.run's target loss
    done = np.zeros(B, dtype=bool)
    out = BatchRun(status=np.full(B, stopping.COMPLETED), steps=np.zeros(B, dtype=np.int64),
                   initial_loss=np.zeros(B), final_loss=np.zeros(B), grad_norm=np.zeros(B), y_norm2=y2,
                   steps_to={t: np.full(B, -1, dtype=np.int64) for t in targets},
                   losses=np.full((steps + 1, B), np.nan) if history else None, initial_grad_norm=np.zeros(B))
    idx = np.arange(B)  # members still running
    start = time.perf_counter()
    with np.errstate(all="ignore"):  # overflow on the way to divergence is an outcome
        for k in range(steps + 1):
            loss, R, E = losses(A, S, weights)
            if k == 0:
                out.initial_loss[idx] = loss
                out.initial_grad_norm[idx] = grad_norms(weights, E)
            if history:
                out.losses[k, idx] = loss
            relative = loss / y2[idx]  # as Result.relative_losses
            for t, first in out.steps_to.items():
                first[idx[(first[idx] < 0) & (relative <= t)]] = k
            status = stopping.decide_many(k, steps, loss, stop_at, done, optimizer.done_status)
            stop = status != stopping.RUNNING
            if stop.any():
                where = idx[stop]
                out.status[where], out.steps[where], out.final_loss[where] = status[stop], k, loss[stop]
                out.grad_norm[where] = grad_norms(_take(weights, stop), E[stop])
                keep = ~stop
                if not keep.any():
                    break
                idx, A, S, C, stop_at, done = idx[keep], A[keep], S[keep], C[keep], stop_at[keep], done[keep]
                weights, loss, R, nu = _take(weights, keep), loss[keep], R[keep], nu[keep]
                mu = None if mu is None else mu[keep]
            if is_lm:
                weights, mu, nu, done = lm_update(optimizer, A, S, C, weights, loss, R, mu, nu)
            else:
                weights = gauss_newton_update(optimizer, C, weights, R)
    out.seconds = time.perf_counter() - start
    return out
