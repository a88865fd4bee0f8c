"""The post's claims at depth (linnet.claims.post.at_depth): each check where it holds, and negative controls
(a depth, width or start where the claim is false, and constructed numbers)."""

import numpy as np
import pytest

from linnet.claims.post import at_depth as ad
from linnet.core.errors import LinnetError
from linnet.optimizers.stopping import COMPLETED, DIVERGED
from linnet.problems.families import post_problem
from linnet.problems.problem import numerical_rank, singular_values
from linnet.runs import result as results
from linnet.runs.batched import run_batched
from linnet.runs.experiment import Runs
from linnet.runs.loop import run

SEEDS = range(2)


def made(spec, relative_losses, problem, grad_norms=None):
    """A Result of ``spec`` on ``problem`` whose relative-loss history is ``relative_losses``."""
    rel = np.asarray(relative_losses, dtype=float)
    status = DIVERGED if not np.isfinite(rel[-1]) else COMPLETED
    norms = np.ones_like(rel) if grad_norms is None else np.asarray(grad_norms, float)
    return results.stopped(status, len(rel) - 1, spec, "numpy", problem, rel * problem.y_norm2, norms,
                           problem.weights, 0.0)


def test_post_rank_is_the_rank_of_the_posts_target():
    assert ad.WIDTHS == (6, 24)
    assert all(numerical_rank(singular_values(post_problem(s, nsamples=0).A)) == ad.POST_RANK for s in range(20))


@pytest.mark.parametrize("spec", ["gd[lr=1e-06]", "adam[lr=0.01]"])
def test_batched_members_read_as_single_runs(spec):
    """What check_plateau reads of a batch member (loss history, initial gradient) equals linnet.run's."""
    problems = [post_problem(s, depth=3, wdim=6) for s in SEEDS]
    batch = run_batched(problems, spec, 200, history=True)
    for i, p in enumerate(problems):
        member, single = batch.member(i, p, spec), run(p, spec, 200)
        np.testing.assert_allclose(member.losses, single.losses, rtol=1e-10)
        assert member.initial_grad_norm == pytest.approx(single.initial_grad_norm, rel=1e-12)


def test_a_member_without_history_says_so():
    p = post_problem(0, depth=3)
    member = run_batched([p], "gd[lr=1e-06]", 5).member(0, p, "gd[lr=1e-06]")
    with pytest.raises(LinnetError, match="history=True"):
        _ = member.losses


def test_plateau_holds_at_depth_three_width_rank():
    """Measured on seeds 0-19: gd[lr=1e-06] ends at 0.0144-0.155, the other gd rates diverge."""
    runs = ad.first_order_runs(3, 6, SEEDS, specs=("gd[lr=1e-06]", "gd[lr=0.001]", "adam[lr=0.01]"))
    claim = ad.check_plateau_at_depth(runs, 3, 6)
    assert claim.holds, claim.numbers
    assert claim.key == "depth.plateau" and claim.numbers["width"] == 6
    assert claim.numbers["by_spec"]["gd[lr=0.001]"]["diverged"] == len(SEEDS)
    assert claim.numbers["by_spec"]["gd[lr=1e-06]"]["relative_loss_min"] > 1e-2


def test_plateau_negative_control_width_four_times_rank():
    """At width 24 Adam at lr 1e-2 reaches machine precision: the check says the claim does not hold."""
    runs = ad.first_order_runs(3, 24, SEEDS, specs=("adam[lr=0.01]",))
    claim = ad.check_plateau_at_depth(runs, 3, 24)
    assert not claim.holds
    assert claim.numbers["by_spec"]["adam[lr=0.01]"]["failed_seeds"] == list(SEEDS)
    assert claim.numbers["by_spec"]["adam[lr=0.01]"]["relative_loss_max"] < 1e-24


def test_plateau_negative_control_everything_diverged():
    """A grid where every run diverges says nothing about where GD stands: not 'holds'."""
    runs = ad.first_order_runs(6, 6, SEEDS, specs=("gd[lr=1e-06]",))
    claim = ad.check_plateau_at_depth(runs, 6, 6)
    assert not claim.holds and claim.numbers["finished"] == 0


def test_plateau_negative_controls_constructed():
    p = post_problem(0, depth=3)
    above = made("gd[lr=1e-06]", np.full(1001, 0.01), p)
    low = made("gd[lr=1e-06]", np.full(1001, 1e-7), p)
    critical = made("gd[lr=1e-06]", np.full(1001, 0.01), p, grad_norms=[1.0] * 1000 + [1e-9])
    by = ("optimizer", "seed")
    assert ad.check_plateau_at_depth(Runs.keyed(by, {"gd[lr=1e-06]": {0: above}}), 3, 6).holds
    assert not ad.check_plateau_at_depth(Runs.keyed(by, {"gd[lr=1e-06]": {0: above, 1: low}}), 3, 6).holds
    assert not ad.check_plateau_at_depth(Runs.keyed(by, {"gd[lr=1e-06]": {0: critical}}), 3, 6).holds


def test_lm_reaches_machine_precision_at_depth_three():
    claim = ad.check_second_order_at_depth(ad.second_order_at_depth(3, 6, "lm", SEEDS), "lm", 3, 6)
    assert claim.holds, claim.numbers  # measured, seeds 0-19: 11-16 iterations
    assert claim.key == "depth.second-order" and claim.numbers["optimizer"] == "lm"
    assert claim.numbers["max_iterations"] <= 100


def test_second_order_negative_controls():
    """Plain Gauss-Newton (step 1) stalls at depth 4 (seed 0: 2.2e-3); lm stops (no progress)
    above 1e-24 at depth 6, width 24 (measured 3.5e-24..1.2e-23)."""
    stalled = Runs.keyed("seed", {0: run(post_problem(0, depth=4, wdim=6), "gauss-newton[step=1]", 300,
                                         target=ad.DEPTH_TARGET)}, optimizer="gauss-newton[step=1]")
    claim = ad.check_second_order_at_depth(stalled, "gauss-newton[step=1]", 4, 6)
    assert not claim.holds and claim.numbers["successes"] == 0
    assert claim.numbers["final_relative_loss_max"] > 1e-6
    floor = ad.check_second_order_at_depth(ad.second_order_at_depth(6, 24, "lm", [0]), "lm", 6, 24)
    assert not floor.holds and floor.numbers["final_relative_loss_max"] > ad.DEPTH_TARGET


def test_samples_hold_at_depth_three():
    claim = ad.check_samples_at_depth(ad.samples_runs_at_depth(3, 6, SEEDS), 3, 6)
    assert claim.holds, claim.numbers  # measured, seeds 0-19: spread 1.007-1.174
    assert claim.numbers["diverged"] == 0


def test_samples_negative_control_constructed():
    p = post_problem(0, depth=3)
    same = {n: made("gd[lr=1e-06]", [1.0, 0.02], p) for n in ad.SAMPLES_NSAMPLES}
    by = ("seed", "nsamples")
    assert ad.check_samples_at_depth(Runs.keyed(by, {0: same}), 3, 6).holds
    apart = {**same, 1000: made("gd[lr=1e-06]", [1.0, 0.04], p)}  # 2x apart
    claim = ad.check_samples_at_depth(Runs.keyed(by, {0: same, 1: apart}), 3, 6)
    assert not claim.holds and claim.numbers["failed_seeds"] == [1]
    diverged = {**same, 0: made("gd[lr=1e-06]", [1.0, np.inf], p)}
    assert not ad.check_samples_at_depth(Runs.keyed(by, {0: diverged}), 3, 6).holds
