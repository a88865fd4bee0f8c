"""The per-optimizer part of a batched run: how B stacked problems are evaluated and stepped.

:func:`linnet.runs.batched.run_batched` is the one loop (evaluation, stopping, histories, steps to
targets, divergence); what differs between optimizers is a small step object, one per kind:

* :class:`FirstOrderStep` (gd, momentum, adam, rmsprop): the loss and gradients of
  :mod:`linnet.problems.losses` written for stacks (:func:`evaluate`), and the optimizer's own
  rule :meth:`linnet.optimizers.first_order.FirstOrder.step`, whose formulas broadcast over the
  batch axis, with the step size carried in the state (a float, or (B, 1, 1) per member);
* :class:`GaussNewtonStep` and :class:`LevenbergMarquardtStep`: bit for bit as the single update
  (below).

Every step object has the same four methods, on stacks with a leading batch axis of B members:

* ``start(problems, A, S, weights, lrs) -> (data, state)``: the per-member constants (a
  :class:`Stack`) and the initial state; raises LinnetError for a configuration it cannot batch;
* ``evaluate(data, weights)``: an evaluation (a NamedTuple whose ``loss`` is (B,)) at ``weights``;
* ``grad_norms(weights, evaluation) -> (B,)``: the run loop's gradient norm there;
* ``step(data, weights, evaluation, state) -> (weights, state, done)``: one update of every
  member; ``done`` is (B,) bool, members whose optimizer found it can go no further
  (``Optimizer.is_done``), or None for optimizers that never do.

The loop removes stopped members from every array with :func:`take`, so data, state and
evaluations are trees of arrays whose batched leaves have the batch axis first.

Second order, bit for bit. Gauss-Newton and Levenberg-Marquardt converge to the round-off floor
(relative loss ~1e-28 on the post's problem), where the step count to a target and the final loss
turn on the last bits of every step. So their batched steps do not approximate the single run:
they perform, for each member, the same floating-point operations in the same order. Every
operation on a stack is one numpy computes per member exactly as for that member alone:

* matmul on stacks (numpy calls BLAS once per matrix of a stack) -- the stacked Jacobian products
  of :mod:`linnet.problems.jacobian`, the row Gram :func:`linnet.optimizers.linalg.gauss_newton.row_gram`;
* the LAPACK gufuncs np.linalg.solve / svd / eigh (one LAPACK call per matrix) -- the damped solve
  :func:`linnet.optimizers.linalg.gauss_newton.damped_step` and the Kronecker SVD
  :func:`linnet.optimizers.linalg.gauss_newton.spectrum`;
* elementwise arithmetic, and per-member scalar rules (Nielsen's damping update,
  :func:`linnet.optimizers.linalg.damping.nielsen`) in Python floats as the single update computes them;
* the loss tr(R S R^T) as np.vdot(R S, R) computes it (BLAS ddot; a stacked (1, n) @ (n, 1) matmul
  is the same ddot call), not the einsum of :func:`evaluate`, which sums in another order.

The single updates (:class:`linnet.optimizers.second_order.GaussNewton`, ``LevenbergMarquardt``)
call the same stack-aware functions with unstacked arrays, so there is one definition of each step.
tests/test_batched_second_order.py checks the identity per operation (stacks of 1, 7 and 64
members) and per run (hypothesis over random grids). The first-order batch's einsum loss agrees
with the single run's to about 1e-12 relative, not bit for bit (docs/sweeps.md).

Scope of the second-order steps: ``gauss-newton[jacobian=structured]`` at every depth (at depth 2
the stacked Kronecker SVD; at other depths the stacked row Gram with one scipy eigh per member, in
a loop, as the single step calls it) and ``lm`` with the direct row-space solve (``solver=cg``, and
``auto`` beyond :data:`linnet.optimizers.linalg.gauss_newton.ROW_SPACE_MAX` rows, run one by one).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from linnet.core.errors import LinnetError
from linnet.optimizers.first_order import FirstOrder
from linnet.optimizers.linalg import gauss_newton as gn
from linnet.optimizers.linalg.damping import nielsen
from linnet.optimizers.second_order import GaussNewton, LevenbergMarquardt, LMState, add
from linnet.problems.jacobian import vjp
from linnet.problems.losses import product


def take(tree, keep):
    """Index every batched array (ndim >= 1, leading batch axis) of a tree of tuples and
    NamedTuples with ``keep`` (a (B,) bool mask or an index array); other leaves stay as they are."""
    if isinstance(tree, np.ndarray) and tree.ndim >= 1:
        return tree[keep]
    if isinstance(tree, tuple) and hasattr(tree, "_fields"):
        return type(tree)(*(take(t, keep) for t in tree))
    if isinstance(tree, tuple):
        return tuple(take(t, keep) for t in tree)
    return tree


class Stack(NamedTuple):
    """The per-member constants of B problems of one shape.

    Attributes:
        A: (B, ydim, xdim) targets; S: (B, xdim, xdim) sample second moments X X^T.
        C: (B, xdim, k) factors of S = C C^T (the second-order steps), or None.
    """

    A: np.ndarray
    S: np.ndarray
    C: np.ndarray | None = None


def _t(M: np.ndarray) -> np.ndarray:
    return M.swapaxes(-1, -2)


# -- first order ------------------------------------------------------------------------------


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


def evaluate(A: np.ndarray, S: np.ndarray, weights) -> BatchEvaluation:
    """Loss and gradients of the stacked problems (A (B, ydim, xdim), S (B, xdim, xdim)) at the
    stacked layers ``weights`` (each (B, rows, cols)); the formulas of :func:`linnet.problems.losses.evaluate`:
    tr(R S R^T) and dL/dWk = 2 (W1..W_{k-1})^T R S (W_{k+1}..WN)^T."""
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


class FirstOrderState(NamedTuple):
    """A first-order member's state: its step size ``lr`` (the optimizer's float, or (B, 1, 1) per
    member) and the optimizer's own state (:meth:`FirstOrder.initial_state` of the stacked layers)."""

    lr: float | np.ndarray
    inner: tuple


class FirstOrderStep:
    """gd, momentum, adam, rmsprop on stacks: :func:`evaluate`, then the optimizer's ``step``."""

    def __init__(self, optimizer: FirstOrder):
        self.optimizer = optimizer

    def start(self, problems, A, S, weights, lrs):
        """Per-member step sizes ``lrs`` (B,) replace the optimizer's ``lr``, in the problems' dtype."""
        lr = self.optimizer.lr if lrs is None else np.asarray(lrs, dtype=problems[0].dtype).reshape(-1, 1, 1)
        return Stack(A, S), FirstOrderState(lr, self.optimizer.initial_state(weights))

    def evaluate(self, data: Stack, weights) -> BatchEvaluation:
        return evaluate(data.A, data.S, weights)

    def grad_norms(self, weights, evaluation: BatchEvaluation) -> np.ndarray:
        return grad_norms(evaluation.grads)

    def step(self, data: Stack, weights, evaluation: BatchEvaluation, state: FirstOrderState):
        new, inner = self.optimizer.step(weights, evaluation.grads, state.inner, state.lr)
        return new, FirstOrderState(state.lr, inner), None


# -- second order, bit for bit ----------------------------------------------------------------


def dots(X: np.ndarray) -> np.ndarray:
    """(B,) np.vdot(X[b], X[b]) per member of a C-contiguous stack, bit for bit (one ddot each)."""
    flat = np.ascontiguousarray(X).reshape(X.shape[0], -1)
    return (flat[:, None, :] @ flat[:, :, None])[:, 0, 0]


class ResidualEvaluation(NamedTuple):
    """Loss and residual of B stacked problems, as :func:`linnet.problems.losses.evaluate` computes them.

    Attributes:
        loss: (B,) np.vdot(R S, R); residual: R = W1 ... WN - A, (B, ydim, xdim); E: R S.
    """

    loss: np.ndarray
    residual: np.ndarray
    E: np.ndarray


def losses(A: np.ndarray, S: np.ndarray, weights) -> ResidualEvaluation:
    """(loss (B,), R (B, ydim, xdim), E = R S) per member, as :func:`linnet.problems.losses.evaluate` computes
    them: R = W1 ... WN - A, loss = np.vdot(R S, R)."""
    R = product(weights) - A
    E = R @ S
    flat_e, flat_r = E.reshape(E.shape[0], 1, -1), R.reshape(R.shape[0], -1, 1)
    return ResidualEvaluation((flat_e @ flat_r)[:, 0, 0], R, E)


def residual_grad_norms(weights, E: np.ndarray) -> np.ndarray:
    """(B,) the run loop's gradient norm sqrt(sum_k ||2 Pre_k^T E Suf_k^T||^2), E = R S."""
    return np.sqrt(sum(dots(2.0 * G) for G in vjp(weights, E)))


def _norms(arrays) -> np.ndarray:
    """(B,) sqrt(sum_k vdot(X_k, X_k)) per member, as the single update's norms of layers / steps."""
    return np.sqrt(sum(dots(X) for X in arrays))


def _second_order_start(optimizer, problems, A, S, lrs):
    """The stack with S's factors, and each member's single-run initial state (the single run's checks)."""
    if lrs is not None:
        raise LinnetError(f"{optimizer.spec} takes no per-member step sizes")
    if len({p.S_factor.shape for p in problems}) != 1:
        raise LinnetError("a batched second-order run needs S factors of one shape (equal rank of S)")
    states = [optimizer.init(p, p.weights) for p in problems]
    return Stack(A, S, np.stack([p.S_factor for p in problems])), states


class _SecondOrderStep:
    """The evaluation both second-order steps share: :func:`losses` and :func:`residual_grad_norms`."""

    def __init__(self, optimizer):
        self.optimizer = optimizer

    def evaluate(self, data: Stack, weights) -> ResidualEvaluation:
        return losses(data.A, data.S, weights)

    def grad_norms(self, weights, evaluation: ResidualEvaluation) -> np.ndarray:
        return residual_grad_norms(weights, evaluation.E)


class GaussNewtonStep(_SecondOrderStep):
    """``gauss-newton[jacobian=structured]``: weights + step * the min-norm step (gn.min_norm_step)."""

    def start(self, problems, A, S, weights, lrs):
        data, _ = _second_order_start(self.optimizer, problems, A, S, lrs)
        return data, ()

    def step(self, data: Stack, weights, evaluation: ResidualEvaluation, state):
        opt = self.optimizer
        return add(weights, gn.min_norm_step(data.C, weights, evaluation.residual, opt.rcond), opt.step), state, None


class DampingState(NamedTuple):
    """Levenberg-Marquardt's per-member damping: mu, nu (B,), as ``LMState`` holds them for one run."""

    mu: np.ndarray
    nu: np.ndarray


class LevenbergMarquardtStep(_SecondOrderStep):
    """``lm`` with the direct row-space solve (:func:`lm_update`)."""

    def start(self, problems, A, S, weights, lrs):
        data, states = _second_order_start(self.optimizer, problems, A, S, lrs)
        if not isinstance(states[0], LMState):
            raise LinnetError(f"{self.optimizer.spec} solves by CG here (matrix-free); it runs one by one")
        return data, DampingState(np.array([s.mu for s in states]), np.full(len(problems), 2.0))

    def step(self, data: Stack, weights, evaluation: ResidualEvaluation, state: DampingState):
        weights, mu, nu, done = lm_update(self.optimizer, data.A, data.S, data.C, weights, evaluation.loss,
                                          evaluation.residual, state.mu, state.nu)
        return weights, DampingState(mu, nu), done


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
        w_t = take(weights, trying)
        deltas, z = gn.damped_step(C[trying], w_t, r[trying], gram[trying], mu[trying])
        go = ~(_norms(deltas) <= small[trying])  # a step of no useful length: the member is done
        trying, w_t, deltas, z = trying[go], take(w_t, go), take(deltas, go), z[go]
        if not trying.size:
            break
        trial = add(w_t, deltas)
        actual = loss[trying] - losses(A[trying], S[trying], trial).loss
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


#: the batched step of each batchable optimizer class (looked up along the class's MRO)
STEPS = {FirstOrder: FirstOrderStep, GaussNewton: GaussNewtonStep, LevenbergMarquardt: LevenbergMarquardtStep}


def step_for(optimizer):
    """The batched step object of ``optimizer``; LinnetError where it has none (it runs one by one)."""
    if optimizer.batchable:
        for cls in type(optimizer).__mro__:
            if cls in STEPS:
                return STEPS[cls](optimizer)
    raise LinnetError(f"{optimizer.spec} has no batched loop; it runs one by one")
