"""Problems: the post's draw order, the conditioned family, the balanced initialisation."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from strategies import seeds

import linnet
import linnet.problems.inits
from linnet.problems.losses import imbalance, product


def test_post_draw_order_seed0():
    """Values drawn by hand: RandomState(0) gives randn W1 (10x6), randn W2 (6x6), rand A, randn X."""
    p = linnet.post_problem(0)
    W1, W2 = p.weights
    assert W1[0, 0] == 1.764052345967664  # the first randn of RandomState(0)
    assert W2[0, 0] == -0.672460447775951  # the 61st
    assert p.A[0, 0] == 0.7252542798196405  # linspace row scale 1 times the first rand
    assert p.A[-1, -1] == 3.183892953130785e-07  # last row scaled by cond = 1e-5
    assert p.X[0, 0] == 0.3960067126616453
    assert p.X[-1, -1] == -0.41086903218014903
    assert p.A.shape == (10, 6) and p.X.shape == (6, 1000)


@given(seeds)
def test_post_construction_matches_the_post_code(seed):
    """The post's train_nets, line for line, with np.random seeded the same way."""
    rs = np.random.RandomState(seed)
    W1 = rs.randn(10, 6)
    W2 = rs.randn(6, 6)
    A = np.linspace(1, 1e-5, 10).reshape(-1, 1) * rs.rand(10, 6)
    X = rs.randn(6, 1000)
    p = linnet.post_problem(seed)
    np.testing.assert_array_equal(p.weights[0], W1)
    np.testing.assert_array_equal(p.weights[1], W2)
    np.testing.assert_array_equal(p.A, A)
    np.testing.assert_array_equal(p.X, X)
    np.testing.assert_array_equal(p.Y, A @ X)
    assert p.y_norm2 == pytest.approx(np.sum((A @ X) ** 2), rel=1e-12)


def test_expected_loss_problem_shares_the_draws():
    p, e = linnet.post_problem(3), linnet.post_problem(3, nsamples=0)
    np.testing.assert_array_equal(p.A, e.A)
    np.testing.assert_array_equal(e.S, np.eye(6))
    assert e.X is None and e.nsamples == 0
    assert e.y_norm2 == pytest.approx(np.sum(e.A**2), rel=1e-14)


def test_post_kappa_is_not_1e5():
    assert linnet.post_problem(0).kappa == pytest.approx(12.669416558, rel=1e-8)
    assert all(linnet.post_problem(s, nsamples=0).kappa < 100 for s in range(20))


@given(seeds, st.floats(1.0, 1e8), st.integers(2, 6), st.integers(0, 3))
def test_conditioned_family_has_the_requested_kappa(seed, kappa, rank, extra):
    p = linnet.conditioned_problem(kappa, seed, xdim=rank + extra, wdim=rank, ydim=rank + 2, nsamples=0)
    s = np.linalg.svd(p.A, compute_uv=False)
    assert p.rank == rank
    assert s[0] / s[rank - 1] == pytest.approx(kappa, rel=1e-8)
    assert p.kappa == pytest.approx(kappa, rel=1e-8)
    assert s[0] == pytest.approx(1.0, rel=1e-12)


@given(seeds)
def test_conditioned_family_is_realizable(seed):
    """rank(A) <= wdim, so the truncated SVD factors A exactly as W1 W2."""
    p = linnet.conditioned_problem(1e5, seed, xdim=6, wdim=4, ydim=10)
    assert p.rank <= p.wdim
    B1, B2 = linnet.problems.inits.balanced_from_product(p.A, [(p.ydim, p.wdim), (p.wdim, p.xdim)])
    np.testing.assert_allclose(B1 @ B2, p.A, atol=1e-14)


@given(seeds, st.sampled_from(["post", "conditioned"]))
def test_balanced_init_keeps_the_product_and_is_balanced(seed, family):
    p = linnet.make_problem(family, seed=seed, nsamples=0)
    b = p.balanced()
    np.testing.assert_allclose(product(b.weights), product(p.weights), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(imbalance(b.weights), 0, atol=1e-12 * np.abs(product(p.weights)).max())
    assert b.init == "balanced"
    assert linnet.make_problem(family, seed=seed, nsamples=0, init="balanced").init == "balanced"


def test_small_init_is_scaled_gaussian():
    g, s = linnet.post_problem(1), linnet.post_problem(1, init="small")
    np.testing.assert_allclose(s.weights[0], linnet.problems.inits.SMALL_INIT_SCALE * g.weights[0])
    np.testing.assert_array_equal(s.A, g.A)


def test_problem_is_immutable():
    p = linnet.post_problem(0)
    with pytest.raises(ValueError, match="read-only"):
        p.A[0, 0] = 1.0
    with pytest.raises(ValueError, match="read-only"):
        p.weights[0][0, 0] = 1.0
    with pytest.raises(AttributeError):
        p.seed = 3


def test_describe_reports_seed_dims_kappa_rank_norm():
    d = linnet.post_problem(2, xdim=5, wdim=4, ydim=7, nsamples=50).describe()
    assert {k: d[k] for k in ("seed", "xdim", "wdim", "ydim", "nsamples", "rank")} == {
        "seed": 2, "xdim": 5, "wdim": 4, "ydim": 7, "nsamples": 50, "rank": 5}
    assert d["kappa"] > 1 and d["y_norm2"] > 0


def test_astype_float32():
    p = linnet.post_problem(0).astype(np.float32)
    assert p.A.dtype == p.S.dtype == p.weights[0].dtype == np.float32


@pytest.mark.parametrize("kwargs, message", [
    (dict(kappa=0.5), "kappa must be"),
    (dict(kappa=float("inf")), "kappa must be"),
    (dict(wdim=2, rank=4), "wdim = 2 < rank = 4"),
    (dict(rank=9), "rank must be between"),
    (dict(nsamples=-1), "nsamples"),
    (dict(xdim=0), "xdim"),
    (dict(init="zeros"), "unknown init"),
    (dict(seed=-3), "seed"),
])
def test_bad_conditioned_input(kwargs, message):
    with pytest.raises(linnet.LinnetError, match=message):
        linnet.conditioned_problem(**kwargs)


def test_bad_family():
    with pytest.raises(linnet.LinnetError, match="unknown problem"):
        linnet.make_problem("nope")
    with pytest.raises(linnet.LinnetError, match="kappa applies"):
        linnet.make_problem("post", kappa=10.0)
