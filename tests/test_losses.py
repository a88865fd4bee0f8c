"""Loss and gradients: finite differences, the trace identity, symmetries, conservation laws."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from strategies import problems, random_weights, seeds

import linnet
from linnet.claims.seeds import HELD_OUT
from linnet.problems.losses import (
    evaluate,
    imbalance,
    imbalance_changes,
    loss,
    pair_imbalances,
    sample_loss,
    trace_loss,
)


def central_difference(f, weights, k, i, j, h):
    plus = [w.copy() for w in weights]
    minus = [w.copy() for w in weights]
    plus[k][i, j] += h
    minus[k][i, j] -= h
    return (f(plus) - f(minus)) / (2 * h)


@given(problems(), seeds)
def test_gradients_match_central_differences(problem, seed):
    weights = random_weights(problem, seed)
    ev = evaluate(problem, weights)
    f = lambda w: loss(problem, w)
    for k, g in enumerate(ev.grads):
        assert g.shape == weights[k].shape
        for i, j in np.ndindex(*g.shape):
            h = 1e-5 * max(1.0, abs(weights[k][i, j]))
            fd = central_difference(f, weights, k, i, j, h)
            # central differences: error O(h^2 f''') plus round-off eps * |f| / h
            tol = 1e-6 * max(1.0, abs(fd), ev.loss * 1e-4)
            assert abs(fd - g[i, j]) <= tol, (k, i, j, fd, g[i, j])


@given(seeds, st.integers(3, 4))
def test_deeper_products_gradients(seed, depth):
    """The loss and gradients are written for W1 ... WN: check N = 3, 4 against differences."""
    p = linnet.post_problem(seed, xdim=3, wdim=3, ydim=4, nsamples=20)
    rs = np.random.RandomState(seed)
    weights = [rs.randn(4, 3)] + [rs.randn(3, 3) for _ in range(depth - 2)] + [rs.randn(3, 3)]
    ev = evaluate(p, weights)
    f = lambda w: linnet.problems.losses.trace_loss(linnet.problems.losses.product(w) - p.A, p.S)
    for k, g in enumerate(ev.grads):
        for i, j in np.ndindex(*g.shape):
            fd = central_difference(f, weights, k, i, j, 1e-6)
            assert fd == pytest.approx(g[i, j], rel=1e-5, abs=1e-5 * max(1.0, ev.loss) ** 0.5)


@given(problems(nsamples=st.integers(1, 300)), seeds)
def test_sample_loss_equals_trace_form(problem, seed):
    weights = random_weights(problem, seed)
    assert loss(problem, weights) == pytest.approx(sample_loss(problem, weights), rel=1e-12, abs=1e-300)


@given(problems(), seeds)
def test_expected_loss_is_frobenius_norm(problem, seed):
    weights = random_weights(problem, seed)
    R = weights[0] @ weights[1] - problem.A
    assert trace_loss(R, np.eye(problem.xdim)) == pytest.approx(np.sum(R**2), rel=1e-13)


@given(problems(), seeds)
def test_loss_invariant_under_rescaling_symmetry(problem, seed):
    """(W1 M, M^-1 W2) gives the same product, hence the same loss, for any invertible M."""
    W1, W2 = random_weights(problem, seed)
    rs = np.random.RandomState(seed + 1)
    M = np.eye(problem.wdim) + 0.3 * rs.randn(problem.wdim, problem.wdim)
    if np.linalg.cond(M) > 1e3:
        M = np.eye(problem.wdim) * 2.0
    before = loss(problem, (W1, W2))
    after = loss(problem, (W1 @ M, np.linalg.solve(M, W2)))
    assert after == pytest.approx(before, rel=1e-9, abs=1e-12)


@given(seeds, st.sampled_from([1e-6, 1e-5, 3e-5]))
def test_imbalance_changes_by_order_lr_squared_per_gd_step(seed, lr):
    """D = W1^T W1 - W2 W2^T: one GD step changes it by exactly lr^2 (g1^T g1 - g2 g2^T)."""
    p = linnet.post_problem(seed)
    ev = evaluate(p, p.weights)
    W1, W2 = p.weights
    g1, g2 = ev.grads
    step = linnet.run(p, f"gd[lr={lr}]", 1).weights
    change = imbalance(step) - imbalance(p.weights)
    np.testing.assert_allclose(change, lr**2 * (g1.T @ g1 - g2 @ g2.T), rtol=1e-6,
                               atol=1e-9 * np.abs(imbalance(p.weights)).max())
    assert np.linalg.norm(change) <= 2 * lr**2 * ev.grad_norm**2


def test_grad_norm_is_the_posts_gradient_magnitude():
    p = linnet.post_problem(0)
    ev = evaluate(p, p.weights)
    assert ev.grad_norm == pytest.approx(np.sqrt(sum(np.sum(g**2) for g in ev.grads)), rel=1e-14)


#: the conservation law's round-off: |change - lr^2 (G_k^T G_k - G_{k+1} G_{k+1}^T)| in units of
#: eps (||W_k||_2^2 + ||W_{k+1}||_2^2). Measured on the held-out seeds 1000-1099, depths 2-6, lr 1e-6
#: and 1e-4: at most 207; a sign step (the direction of Adam and Lion) misses by at least 3.6e8.
CONSERVATION_ROUNDOFF = 1e3


def _conservation_errors(problem, lr, step=lambda G: G):
    """max |D_k(W - lr step(G)) - D_k(W) - imbalance_changes(G, lr)_k| per pair, in round-off units."""
    g = evaluate(problem, problem.weights).grads
    after = tuple(W - lr * step(G) for W, G in zip(problem.weights, g))
    eps = np.finfo(np.float64).eps
    return [np.abs(a - b - c).max() / (eps * (np.linalg.norm(W, 2) ** 2 + np.linalg.norm(V, 2) ** 2))
            for a, b, c, W, V in zip(pair_imbalances(after), pair_imbalances(problem.weights),
                                     imbalance_changes(g, lr), problem.weights[:-1], problem.weights[1:])]


@pytest.mark.parametrize("depth", [2, 3, 4, 5, 6])
def test_gd_changes_every_pair_imbalance_by_exactly_lr_squared_on_held_out_seeds(depth):
    """Du, Hu & Lee 2018 (Theorem 2.1), per step: D_k = W_k^T W_k - W_{k+1} W_{k+1}^T changes by
    lr^2 (G_k^T G_k - G_{k+1} G_{k+1}^T), to round-off, on every held-out seed; the negative control,
    a sign step of the same length scale, is caught on every seed."""
    worst, control = 0.0, np.inf
    for seed in HELD_OUT:
        p = linnet.post_problem(seed, depth=depth, wdim=4, nsamples=0)
        for lr in (1e-6, 1e-4):
            errors = _conservation_errors(p, lr)
            assert len(errors) == depth - 1
            worst = max(worst, *errors)
            control = min(control, max(_conservation_errors(p, lr, np.sign)))
    assert worst <= CONSERVATION_ROUNDOFF, worst
    assert control > 1e3 * CONSERVATION_ROUNDOFF, control


@given(seeds, st.integers(2, 6), st.sampled_from([1e-7, 1e-6]))
def test_imbalance_of_every_pair_changes_by_lr_squared(seed, depth, lr):
    """The same law on any seed (hypothesis), and the block-diagonal imbalance's shape."""
    p = linnet.post_problem(seed, depth=depth, wdim=4, nsamples=0)
    assert max(_conservation_errors(p, lr)) <= CONSERVATION_ROUNDOFF
    assert imbalance(p.weights).shape == (4 * (depth - 1),) * 2


def test_imbalance_negative_control_last_pair_is_seen():
    """Moving only the last layer changes the last pair's block (a check that ignored it would miss this)."""
    p = linnet.post_problem(0, depth=3, nsamples=0)
    moved = (*p.weights[:2], 2 * p.weights[2])
    change = imbalance(moved) - imbalance(p.weights)
    assert np.abs(change[:6, :6]).max() == 0 and np.abs(change[6:, 6:]).max() > 1
    assert imbalance(p.weights[:1]).shape == (0, 0)
