"""Claims of the deep-linear-network literature: each holds where the paper says, and a negative control."""

import numpy as np

from linnet.claims.literature import dynamics as dc
from linnet.problems.families import post_problem
from linnet.problems.losses import product


def test_end_to_end_update_at_depth_one_is_the_gradient():
    p = post_problem(0, depth=1, nsamples=0)
    G = np.ones((10, 6))
    np.testing.assert_allclose(dc.end_to_end_update(p.weights, G), G)


def test_preconditioner_holds_from_a_balanced_start():
    measured = dc.measure_preconditioner(range(3), depth=3)
    claim = dc.check_preconditioner(measured)
    assert claim.holds, measured  # measured slopes 1.99988-2.00005 (seeds 0-19, depths 2-6)


def test_preconditioner_negative_control_gaussian_start():
    """Unbalanced, the formula is wrong at first order: slope ~1 (measured 0.9998-0.9999), the check fails."""
    measured = dc.measure_preconditioner(range(3), depth=3, init="gaussian")
    assert not dc.check_preconditioner(measured).holds
    assert measured["max"] < 1.5


def test_identity_init_claim_and_its_negative_control():
    pos = dc.measure_identity(range(2))
    neg = dc.measure_identity(range(2), negative=True)
    assert dc.check_identity(pos, neg).holds  # measured: 1e-29 (SPD) against 0.0387 (negative eigenvalue)
    assert not dc.check_identity(neg, pos).holds  # swapped: the check says it does not hold
    p = dc.symmetric_target_problem(0, negative=True)
    assert np.allclose(p.A, p.A.T) and abs(np.linalg.eigvalsh(p.A)[0] + 0.5) < 1e-12
    assert np.array_equal(product(p.weights), np.eye(4))


def test_modes_are_learned_one_at_a_time_at_depth_two():
    measured = dc.measure_modes(range(3))
    assert dc.check_modes(measured).holds, measured  # measured ratios 1.76-2.28 and 3.40-5.15 (seeds 0-19)


def test_modes_negative_control_depth_three_ratios():
    """At depth 3 the order holds but t_3 / t_1 is not s_1 / s_3 = 4 (measured 5.3 to never): the check says so."""
    measured = dc.measure_modes(range(3), depth=3)
    assert measured["in_order"] and not dc.check_modes(measured).holds


def test_figures_are_written(tmp_path):
    from linnet.reports.figures import deep as deep_figures

    paths = deep_figures.write_all(tmp_path, seeds=range(2), post_seeds=range(1))
    assert [p.name for p in paths] == ["preconditioner.png", "identity_init.png", "modes.png",
                                       "deficiency_margin.png", "depth_growth.png", "width.png",
                                       "post_claims_at_depth.png"]
    assert all(p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" for p in paths)
