"""Claims 3-5 of the deep-linear-network literature: each check on hand-made numbers (and its negative
control), and a small real run."""

import numpy as np
import pytest

from linnet.claims.literature import margin as deep_margin
from linnet.claims.literature import narrow as deep_narrow
from linnet.claims.literature import width as deep_width
from linnet.core.errors import LinnetError
from linnet.problems.inits import balanced_factors
from linnet.problems.losses import product

# -- deficiency margin (Arora, Cohen, Golowich & Hu 2019) -------------------------------------------


def test_margin_start_is_balanced_with_the_stated_margin():
    p = deep_margin.margin_problem(0, depth=3)
    c = deep_margin.MARGIN_FRACTION * np.linalg.svd(p.A, compute_uv=False)[-1]
    assert deep_margin.deficiency_margin(p) == pytest.approx(c, rel=1e-12)
    for W, V in zip(p.weights[:-1], p.weights[1:]):
        np.testing.assert_allclose(W.T @ W, V @ V.T, atol=1e-12)
    tall = deep_margin.margin_problem(0, depth=3, ydim=8)
    assert [w.shape for w in tall.weights] == [(8, 4), (4, 4), (4, 4)]
    assert deep_margin.deficiency_margin(tall) == pytest.approx(c, rel=1e-12)
    flipped = deep_margin.margin_problem(0, depth=3, flip=True)
    assert deep_margin.deficiency_margin(flipped) < 0  # distance 2 sigma_min: no margin
    np.testing.assert_allclose(np.linalg.svd(product(flipped.weights), compute_uv=False),
                               np.linalg.svd(p.A, compute_uv=False), rtol=1e-12)


def test_rate_ratios_on_hand_made_losses():
    bound = 0.1
    fast = np.exp(-0.2 * np.arange(5.0))  # rate 0.2 every step: ratio 2
    stall = np.array([1.0, 0.8, 0.8, 0.8, 0.8])  # stalls: ratio 0
    ratios = deep_margin.rate_ratios(np.stack([fast, stall], axis=1), bound)
    np.testing.assert_allclose(ratios, [2.0, 0.0], atol=1e-12)
    floor = np.array([1.0, 1e-25, 2e-25, 1e-25, 3e-25])  # round-off after the floor is left out
    assert deep_margin.rate_ratios(floor[:, None], bound)[0] > 1
    assert deep_margin.rate_ratios(np.array([[1.0], [np.nan]]), bound)[0] == -np.inf  # diverged


def test_margin_claim_holds_and_its_negative_control_fails():
    measured = deep_margin.measure_margin(range(3), depth=3)
    assert deep_margin.check_margin(measured).holds, measured  # measured 7.1-42.5 (seeds 0-19)
    theorem = deep_margin.measure_margin(range(3), depth=3, lr=None)
    assert theorem["lr_over_theorem"] == 1 and deep_margin.check_margin(theorem).holds
    control = deep_margin.measure_margin(range(3), depth=3, flip=True)
    assert not deep_margin.check_margin(control).holds  # measured 3.5e-7: the flipped mode stalls
    assert control["final_over_initial_max"] > 0.2


# -- exponential in depth (Shamir 2019) ----------------------------------------------------------------


def test_growth_fit_on_hand_made_medians():
    depths = np.arange(2, 11)
    fit = deep_narrow.growth_fit(depths, 5.0 * np.exp(0.4 * depths))
    assert fit["rate"] == pytest.approx(0.4) and fit["rate_residual"] < 1e-9 < fit["exponent_residual"]
    fit = deep_narrow.growth_fit(depths, 3.0 * depths**2.0)
    assert fit["exponent"] == pytest.approx(2.0) and fit["exponent_residual"] < fit["rate_residual"]


def test_depth_growth_check_and_negative_controls():
    exp_like = {"rate": 0.3, "rate_residual": 1.0, "exponent_residual": 1.5}
    assert deep_narrow.check_depth_growth(exp_like).holds
    assert not deep_narrow.check_depth_growth({**exp_like, "rate": 0.05}).holds  # too slow a growth
    assert not deep_narrow.check_depth_growth({**exp_like, "rate_residual": 2.0}).holds  # polynomial fits better


def test_width_one_nets_slow_down_with_depth_and_wide_nets_do_not():
    narrow = deep_narrow.measure_depth_growth(range(20), depths=(2, 10))
    assert narrow["medians"][-1] > 3 * narrow["medians"][0], narrow["medians"]  # measured 105 and 1346.5
    wide = deep_narrow.measure_depth_growth(range(6), depths=(2, 6, 10), width=8, init="fan-in")
    assert not deep_narrow.check_depth_growth(wide).holds and wide["rate"] < 0.1, wide["medians"]
    p = deep_narrow.scalar_problem(0, 5)
    assert [w.shape for w in p.weights] == [(1, 1)] * 5 and p.A[0, 0] == 1


# -- width matters (Du & Hu 2019) ------------------------------------------------------------------------


def test_du_hu_problem_folds_the_scaling_into_the_target():
    p = deep_width.du_hu_problem(0, 8, depth=3)
    alpha = deep_width.scaling(8, 3)
    assert alpha == pytest.approx(1 / np.sqrt(8**2 * 4))
    np.testing.assert_allclose(np.linalg.svd(p.A * alpha, compute_uv=False), np.logspace(0, -np.log10(2), 4))
    assert deep_width.limit_steps(1.0, 1e-8) == 14  # 0.25^14 = 3.7e-9 <= 1e-8 < 0.25^13


def test_width_below_the_rank_is_one_error_line():
    with pytest.raises(LinnetError, match="rank"):
        deep_width.measure_width(range(1), widths=(2, 4))


def test_width_check_on_hand_made_medians_and_a_grid_that_stops_early():
    plateau = {"plateau_spread": 1.5, "narrow_over_wide": 10.0}
    assert deep_width.check_width(plateau).holds
    assert not deep_width.check_width({**plateau, "plateau_spread": 4.4}).holds  # the grid (4, 8, 16)
    assert not deep_width.check_width({**plateau, "narrow_over_wide": 1.2}).holds  # width does not matter


def test_width_real_run_small():
    measured = deep_width.measure_width(range(4), widths=(4, 64, 128, 256), depth=3)  # 111, 28.5, 18.5, 17.5
    assert measured["medians"][0] > 2 * measured["medians"][-1], measured["medians"]
    assert measured["plateau_spread"] < 2.0 and all(r == 4 for r in measured["reached"])
    early = deep_width.measure_width(range(4), widths=(4, 8, 16), depth=4)
    assert not deep_width.check_width(early).holds, early["medians"]


def test_balanced_factors_unchanged_by_margin_module():  # margin_problem reuses linnet.problems.inits
    p = deep_margin.margin_problem(1, depth=2)
    np.testing.assert_allclose(product(balanced_factors(p.weights)), product(p.weights), atol=1e-12)


def test_aligned_start_isolates_depth_and_its_negative_controls():
    """Saxe et al. from the aligned, balanced start: depth 3 closer to s_1 / s_i than depth 2; the
    check fails when depth 3 is not closer, or when a depth's ratios are beyond SAXE_RATIO_FACTOR."""
    from linnet.claims.literature import dynamics as dyn

    by_depth = {d: dyn.measure_modes_aligned(d) for d in (2, 3)}
    assert dyn.check_modes_aligned(by_depth).holds
    assert by_depth[3]["ratios"] == pytest.approx([1.0, 1.945, 3.788], abs=1e-3)
    assert by_depth[2]["ratios"] == pytest.approx([1.0, 1.794, 3.216], abs=1e-3)
    swapped = {2: by_depth[3], 3: by_depth[2]}
    assert not dyn.check_modes_aligned(swapped).holds
    # the same rotation class: another seed gives the same learning times
    assert dyn.measure_modes_aligned(3, seed=7)["times"] == by_depth[3]["times"]
    far = dict(by_depth[2], factor=dyn.SAXE_RATIO_FACTOR * 1.1)
    assert not dyn.check_modes_aligned({2: far, 3: by_depth[3]}).holds


def test_width_one_step_size_is_stable_at_every_depth_measured_and_stops_at_one_over_lr():
    """D4's step-size condition: the flattest minimiser of a width-1 chain has sharpness 2N, so
    gd[lr=0.01] is stable there up to N < 100 (every depth D4 measures: 2-12) and not beyond."""
    from linnet.claims.literature import narrow

    assert narrow.stable_depth(narrow.NARROW_LR) == pytest.approx(100)
    assert max(narrow.NARROW_DEPTHS_LONG) < narrow.stable_depth(narrow.NARROW_LR)
    assert narrow.converges_near_minimiser(12) and narrow.converges_near_minimiser(99)
    assert not narrow.converges_near_minimiser(101)  # negative control: sharpness 202 > 2 / lr
