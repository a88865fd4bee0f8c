"""Depth-N problems: the extended draw, every initialisation, bad shapes, and the CLI's --depth."""

import json

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import linnet
from linnet.cli import main
from linnet.core.errors import LinnetError
from linnet.problems.inits import INITS, balanced_factors
from linnet.problems.losses import product


def _independent_draw(seed, dims, nsamples=1000, cond=1e-5):
    """The documented draw order (docs/design.md), written out: W1..WN = randn(h_{k-1}, h_k) in turn, then A, then X."""
    rs = np.random.RandomState(seed)
    Ws = [rs.randn(dims[k], dims[k + 1]) for k in range(len(dims) - 1)]
    A = np.linspace(1, cond, dims[0])[:, None] * rs.rand(dims[0], dims[-1])
    X = rs.randn(dims[-1], nsamples)
    return Ws, A, X


def _independent_gd(Ws, A, X, lr, steps):
    """Plain GD on sum ||W1 ... WN X - A X||^2 over the samples; returns the final loss."""
    Y = A @ X
    Ws = [W.copy() for W in Ws]
    for _ in range(steps):
        E = 2 * (product(Ws) @ X - Y) @ X.T
        grads = []
        for k in range(len(Ws)):
            left = product(Ws[:k]) if k else np.eye(A.shape[0])
            right = product(Ws[k + 1:]) if k + 1 < len(Ws) else np.eye(A.shape[1])
            grads.append(left.T @ E @ right.T)
        Ws = [W - lr * g for W, g in zip(Ws, grads)]
    return float(np.sum((product(Ws) @ X - Y) ** 2))


@pytest.mark.parametrize("seed", [0, 3])
def test_depth_two_is_the_post_draw_for_draw(seed):
    Ws, A, X = _independent_draw(seed, (10, 6, 6))
    p = linnet.post_problem(seed)
    assert p.depth == 2 and p.widths == (6,)
    for W, V in zip(p.weights, Ws):
        np.testing.assert_array_equal(W, V)
    np.testing.assert_array_equal(p.A, A)
    np.testing.assert_array_equal(p.X, X)


@given(st.integers(0, 2**32 - 1), st.lists(st.integers(1, 7), min_size=0, max_size=5),
       st.integers(1, 7), st.integers(1, 7))
def test_extended_draw_matches_the_documented_order(seed, widths, ydim, xdim):
    Ws, A, X = _independent_draw(seed, (ydim, *widths, xdim), nsamples=5)
    p = linnet.post_problem(seed, widths=widths, ydim=ydim, xdim=xdim, nsamples=5)
    assert p.depth == len(widths) + 1 and p.describe()["widths"] == widths
    for W, V in zip(p.weights, Ws, strict=True):
        np.testing.assert_array_equal(W, V)
    np.testing.assert_array_equal(p.A, A)
    np.testing.assert_array_equal(p.X, X)


@pytest.mark.parametrize("init", [i for i in INITS if i != "identity"])
def test_every_init_keeps_a_and_x(init):
    base = linnet.post_problem(2, depth=4, wdim=5, nsamples=7)
    p = linnet.post_problem(2, depth=4, wdim=5, nsamples=7, init=init)
    np.testing.assert_array_equal(p.A, base.A)
    np.testing.assert_array_equal(p.X, base.X)
    assert [W.shape for W in p.weights] == [(10, 5), (5, 5), (5, 5), (5, 6)]


@given(st.integers(0, 1000), st.lists(st.integers(1, 6), min_size=1, max_size=5))
def test_balanced_is_balanced_with_the_same_product(seed, widths):
    g = linnet.post_problem(seed, widths=widths, nsamples=0)
    b = linnet.post_problem(seed, widths=widths, nsamples=0, init="balanced")
    scale = np.linalg.norm(product(g.weights))
    np.testing.assert_allclose(product(b.weights), product(g.weights), atol=1e-12 * scale)
    for W, V in zip(b.weights[:-1], b.weights[1:]):
        np.testing.assert_allclose(W.T @ W, V @ V.T, atol=1e-12 * scale)


def test_balanced_negative_control():
    """The Gaussian draw itself is not balanced: the check above can fail."""
    W = linnet.post_problem(0, depth=3).weights
    assert np.linalg.norm(W[0].T @ W[0] - W[1] @ W[1].T) > 1.0


def test_orthogonal_identity_fan_in_small():
    o = linnet.post_problem(1, widths=(8, 4), init="orthogonal", nsamples=0)
    np.testing.assert_allclose(o.weights[0].T @ o.weights[0], np.eye(8), atol=1e-12)  # 10 x 8: columns
    np.testing.assert_allclose(o.weights[1].T @ o.weights[1], np.eye(4), atol=1e-12)  # 8 x 4: columns
    np.testing.assert_allclose(o.weights[2] @ o.weights[2].T, np.eye(4), atol=1e-12)  # 4 x 6: rows
    i = linnet.post_problem(1, depth=5, xdim=4, wdim=4, ydim=4, init="identity", nsamples=0)
    assert all(np.array_equal(W, np.eye(4)) for W in i.weights)
    g = linnet.post_problem(1, depth=3, wdim=9, nsamples=0)
    f = linnet.post_problem(1, depth=3, wdim=9, nsamples=0, init="fan-in")
    for W, V in zip(f.weights, g.weights):
        np.testing.assert_allclose(W, V / np.sqrt(V.shape[1]))
    s = linnet.post_problem(1, depth=3, nsamples=0, init="small", init_scale=1e-3)
    np.testing.assert_allclose(s.weights[1], 1e-3 * linnet.post_problem(1, depth=3, nsamples=0).weights[1])


def test_conditioned_family_at_depth():
    p = linnet.conditioned_problem(1e3, 4, widths=(5, 7, 4), xdim=6, ydim=8, nsamples=0)
    assert p.depth == 4 and p.rank == 4 and p.kappa == pytest.approx(1e3)
    assert p.target_kappa == 1e3 and p.row_scale is None
    q = linnet.post_problem(4)
    assert q.row_scale == 1e-5 and q.target_kappa is None


@pytest.mark.parametrize("kwargs, message", [
    (dict(depth=0), "depth must be"),
    (dict(depth=3, widths=(4,)), "depth 3 needs 2"),
    (dict(widths=(4, 0)), "width must be"),
    (dict(init="identity", depth=3), "square layers"),
    (dict(init="gaussian", init_scale=0.1), "init_scale applies"),
    (dict(init="small", init_scale=-1.0), "init_scale must be"),
])
def test_bad_shapes_are_one_clear_error(kwargs, message):
    with pytest.raises(LinnetError, match=message):
        linnet.post_problem(0, **kwargs)
    with pytest.raises(LinnetError, match="no product"):
        linnet.conditioned_problem(10.0, 0, widths=(6, 2, 6), rank=4)


def _cli_json(capsys, *args):
    assert main(["run", *args, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


@pytest.mark.parametrize("seed", [0, 7])
@pytest.mark.parametrize("init", ["gaussian", "balanced"])
def test_cli_depth_three_reproduces_an_independent_implementation(capsys, seed, init):
    out = _cli_json(capsys, "--depth", "3", "--width", "6", "--seed", str(seed), "--init", init,
                    "--optimizer", "gd[lr=1e-6]", "--steps", "3000")
    assert out["problem"]["depth"] == 3 and out["problem"]["widths"] == [6, 6]
    Ws, A, X = _independent_draw(seed, (10, 6, 6, 6))
    if init == "balanced":
        Ws = list(balanced_factors(Ws))
    expected = _independent_gd(Ws, A, X, 1e-6, 3000)
    # the sample sum and linnet's trace form tr(R S R^T) round differently: measured agreement 1e-13..1e-11
    assert out["final_loss"] == pytest.approx(expected, rel=1e-8)


def test_cli_widths_and_errors(capsys):
    out = _cli_json(capsys, "--widths", "8,7,6", "--optimizer", "gd[lr=1e-6]", "--steps", "2")
    assert out["problem"]["depth"] == 4 and out["problem"]["widths"] == [8, 7, 6]
    assert main(["run", "--widths", "8,5,6", "--optimizer", "lm"]) == 2  # a width below rank(A) = 6
    assert main(["run", "--widths", "4,x", "--optimizer", "lm"]) == 2
    assert main(["run", "--init", "identity", "--optimizer", "lm"]) == 2
    assert main(["run", "--depth", "0", "--optimizer", "lm"]) == 2
    assert "square layers" in capsys.readouterr().err
