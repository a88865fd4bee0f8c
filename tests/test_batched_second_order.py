"""Batched Gauss-Newton and Levenberg-Marquardt (linnet.runs.batched_steps) equal one-by-one runs
bit for bit: each stacked operation against the unstacked call (stacks of 1, 7 and 64 members),
whole runs with every stop status, and negative controls showing the comparisons can fail.

(The sweep engine's rows against linnet.run over random grids: tests/test_sweeps.py.)"""

import math

import numpy as np
import pytest

import linnet
from linnet.core.errors import LinnetError
from linnet.optimizers.linalg import gauss_newton as gn
from linnet.optimizers.stopping import COMPLETED, DIVERGED, NO_PROGRESS, TARGET_REACHED
from linnet.problems.losses import evaluate
from linnet.runs import batched_steps
from linnet.runs.batched import run_batched, stack_problems

STACKS = (1, 7, 64)
#: shapes: the post; wdim < xdim, so the Kronecker SVD redoes blocks by SVD (spectrum's refine branch);
#: the expected loss (S = I); depths 3 and 4
SHAPES = [dict(), dict(xdim=5, wdim=2, ydim=4, nsamples=20), dict(xdim=3, wdim=5, ydim=2, nsamples=0),
          dict(depth=3), dict(xdim=4, wdim=2, ydim=7, nsamples=20, depth=4)]


def _random_point(problem, seed):
    """Layers away from the initial point (scaled Gaussians), so the test is not about one point."""
    rs = np.random.RandomState(seed)
    return tuple(0.5 * rs.randn(*W.shape) for W in problem.weights)


def _stacked(B, shape):
    problems = [linnet.post_problem(100 + i, **shape) for i in range(B)]
    points = [_random_point(p, i) for i, p in enumerate(problems)]
    A, S, _, _ = stack_problems(problems)
    weights = tuple(np.stack([w[k] for w in points]) for k in range(len(points[0])))
    return problems, points, A, S, np.stack([p.S_factor for p in problems]), weights


@pytest.mark.parametrize("shape", SHAPES, ids=str)
@pytest.mark.parametrize("B", STACKS)
def test_stacked_operations_equal_single_ones_bit_for_bit(B, shape):
    problems, points, A, S, C, weights = _stacked(B, shape)
    loss, R, E = batched_steps.losses(A, S, weights)
    norms = batched_steps.residual_grad_norms(weights, E)
    gram = gn.row_gram(C, weights)
    r = gn.residual_vector(C, R)
    mu = np.geomspace(1e-6, 10.0, B)
    deltas, z = gn.damped_step(C, weights, r, gram, mu)
    steps = {rc: gn.min_norm_step(C, weights, R, rc) for rc in ("default", "machine")}
    for b, (p, w) in enumerate(zip(problems, points)):
        ev = evaluate(p, w)
        assert loss[b] == ev.loss and norms[b] == ev.grad_norm
        assert np.array_equal(R[b], ev.residual)
        c = p.S_factor
        g1, r1 = gn.row_gram(c, w), gn.residual_vector(c, ev.residual)
        assert np.array_equal(gram[b], g1) and np.array_equal(r[b], r1)
        d1, z1 = gn.damped_step(c, w, r1, g1, float(mu[b]))
        assert np.array_equal(z[b], z1) and all(np.array_equal(d[b], e) for d, e in zip(deltas, d1))
        for rc, step in steps.items():
            single = gn.structured_step(p, w, ev.residual, rc)
            assert all(np.array_equal(d[b], e) for d, e in zip(step, single))


def test_the_refine_branch_is_exercised():
    """SHAPES[1] (wdim 2 < xdim 5) has blocks G_j = [B; 0] of rank 2 < k = 5: spectrum redoes them by SVD."""
    _, _, _, _, C, weights = _stacked(7, SHAPES[1])
    lam = np.linalg.eigvalsh(C.swapaxes(-1, -2) @ weights[1].swapaxes(-1, -2) @ weights[1] @ C)
    assert (lam[:, 0] <= gn.GRAM_RATIO * lam[:, -1]).all()


def test_the_identity_check_can_fail():
    """Negative control: the first-order batch's loss, einsum('bij,bij->b'), sums in another order than
    np.vdot and differs in the last bits for most members (measured: 38-69 of the 72 members of
    stacks of 1, 7 and 64, over five shapes); the bit-for-bit comparison sees it."""
    problems, points, A, S, C, weights = _stacked(64, SHAPES[0])
    _, R, E = batched_steps.losses(A, S, weights)
    einsum = np.einsum("bij,bij->b", E, R)
    singles = np.array([evaluate(p, w).loss for p, w in zip(problems, points)])
    assert not np.array_equal(einsum, singles)
    assert np.allclose(einsum, singles, rtol=1e-13, atol=0)


#: batches whose members stop at different steps with each status (seeds 0-7)
RUNS = [
    ("lm", dict(), 80, None, {NO_PROGRESS}),
    ("lm", dict(nsamples=0), 80, 1e-20, {TARGET_REACHED}),
    ("lm[tau=10.0]", dict(depth=3), 80, None, {NO_PROGRESS}),
    ("gauss-newton[step=0.2]", dict(), 40, None, {COMPLETED}),
    ("gauss-newton[step=1.0]", dict(nsamples=0), 40, 1e-28, {TARGET_REACHED, COMPLETED}),
    ("gauss-newton[step=100.0]", dict(xdim=3, wdim=3, ydim=3, nsamples=0), 80, None, {DIVERGED}),
    ("gauss-newton[step=0.5,rcond=machine]", dict(xdim=5, wdim=2, ydim=4), 30, None, {COMPLETED}),
    ("gauss-newton[step=0.5]", dict(depth=3), 80, 1e-20, {TARGET_REACHED, COMPLETED}),
]
TARGETS = (1e-2, 1e-6, 1e-12, 1e-20, 1e-28)


@pytest.mark.parametrize(("spec", "shape", "steps", "target", "statuses"), RUNS, ids=[r[0] for r in RUNS])
def test_batched_runs_equal_single_runs_bit_for_bit(spec, shape, steps, target, statuses):
    problems = [linnet.post_problem(s, **shape) for s in range(8)]
    out = run_batched(problems, spec, steps, target=target, targets=TARGETS, history=True)
    assert set(out.status.tolist()) == statuses
    for i, p in enumerate(problems):
        r = linnet.run(p, spec, steps, target=target)
        assert (out.status[i], out.steps[i]) == (r.status, r.steps)
        assert np.array_equal(out.history(i), r.losses)
        assert out.grad_norm[i] == r.grad_norms[-1] or r.diverged
        assert out.initial_grad_norm[i] == r.initial_grad_norm
        single_steps_to = [-1 if r.steps_to(t) is None else r.steps_to(t) for t in TARGETS]
        assert [out.steps_to[t][i] for t in TARGETS] == single_steps_to


def test_divergence_steps_differ_between_members():
    problems = [linnet.post_problem(s, xdim=3, wdim=3, ydim=3, nsamples=0) for s in range(8)]
    out = run_batched(problems, "gauss-newton[step=100.0]", 80)
    assert out.diverged.all() and len(set(out.steps.tolist())) > 1  # measured: steps 46-59
    assert all(not math.isfinite(x) for x in out.final_loss)


def _matmul_step(sp, mu=0.0, rcond="default"):
    """gauss_newton.spectral_step with its einsum over each block written as a matmul: the same sum
    of the same products, in another order (a round-off-level change of the step)."""
    keep = gn.kept(sp, rcond)
    w = np.where(keep, 1.0 / np.where(keep, sp.s**2 + mu, 1.0), 0.0)
    Z = sp.Q @ ((sp.coef * w)[..., None, :] @ sp.Et)[..., 0, :]
    return -(Z @ np.swapaxes(sp.B, -1, -2)), -(np.swapaxes(sp.W1, -1, -2) @ Z @ np.swapaxes(sp.C, -1, -2))


def test_run_equality_can_fail(monkeypatch):
    """Negative control, and why the batch must be bit for bit: a step that differs from the single
    run's only by summation order makes Gauss-Newton's runs to the round-off floor differ. Measured
    (gauss-newton[step=1.0], S = I, target 1e-28, seeds 0-7, 60 steps): 8 of 8 final losses differ
    by more than 1e-12 relative (up to 0.83), 2 of 8 step counts differ (10 -> 43, 60 -> 59).
    (The einsum loss alone moves the final losses by <= 4.2e-16 relative and no step count, for
    lm and gauss-newton: their decisions are robust to it; the steps' arithmetic is not.)"""
    problems = [linnet.post_problem(s, nsamples=0) for s in range(8)]
    results = [linnet.run(p, "gauss-newton[step=1.0]", 60, target=1e-28) for p in problems]
    monkeypatch.setattr(gn, "spectral_step", _matmul_step)  # the batch's step only (singles ran)
    out = run_batched(problems, "gauss-newton[step=1.0]", 60, target=1e-28)
    differ = [not math.isclose(out.final_loss[i], r.final_loss, rel_tol=1e-12) for i, r in enumerate(results)]
    assert sum(differ) >= 4, differ
    assert any(out.steps[i] != r.steps for i, r in enumerate(results))


@pytest.mark.parametrize(("spec", "shape", "message"), [
    ("gauss-newton[step=0.2,jacobian=kron]", dict(), "no batched loop"),
    ("lm[solver=cg]", dict(), "no batched loop"),
    ("kfac[step=0.5]", dict(), "no batched loop"),
    ("scipy[method=lm]", dict(), "no batched loop"),
])
def test_configurations_without_a_batched_loop_are_one_error(spec, shape, message):
    with pytest.raises(LinnetError, match=message):
        run_batched([linnet.post_problem(s, **shape) for s in range(2)], spec, 5)


def test_second_order_batches_take_no_per_member_step_sizes():
    with pytest.raises(LinnetError, match="no per-member step sizes"):
        run_batched([linnet.post_problem(s) for s in range(2)], "lm", 5, lrs=[1.0, 2.0])


def test_members_of_unequal_rank_of_s_do_not_batch():
    problems = [linnet.post_problem(0, nsamples=3), linnet.post_problem(1, nsamples=20)]
    with pytest.raises(LinnetError, match="rank of S"):
        run_batched(problems, "lm", 5)
