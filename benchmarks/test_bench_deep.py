"""Deep linear networks (docs/deep.md): the second-order targets at depth 3 and 4, and the literature's
claims measured over seeds (linnet.claims.literature.dynamics; thresholds and measured ranges in docs/deep.md)."""

import pytest
from helpers import EXACT, FLOOR, LOSS, RATIO, figure, timed_run

from linnet.claims.literature import dynamics as dc
from linnet.problems.families import post_problem
from linnet.testing.benchmarking import store

#: the targets of docs/deep.md: relative 1e-24 at depth 3 within 100 steps, at depth 4 within 300 (width 6)
DEPTH_BUDGETS = {3: 100, 4: 300}


@pytest.mark.parametrize("depth", sorted(DEPTH_BUDGETS))
@pytest.mark.parametrize("spec", ["lm", "gauss-newton[step=0.5]"])
def test_second_order_target_at_depth(benchmark, spec, depth):
    """Measured seeds 0-2: lm 16-21 steps, gauss-newton[step=0.5] 45-63 steps to relative 1e-24."""
    result = timed_run(benchmark, post_problem(0, depth=depth, wdim=6), spec, DEPTH_BUDGETS[depth],
                       rounds=1, group=f"deep target depth {depth}", target=1e-24)
    store(benchmark, result, loss=LOSS, depth=figure(depth, EXACT))
    assert result.relative_loss <= 1e-24, (result.steps, result.relative_loss)


@pytest.mark.claim("deep.preconditioner")
@pytest.mark.parametrize("depth", [2, 3, 4, 6])
def test_depth_is_a_preconditioner(benchmark, depth):
    """Arora, Cohen & Hazan 2018, Theorem 1: error of the end-to-end update is O(lr^2), slope 2."""
    benchmark.group = "deep claims"
    measured = benchmark.pedantic(dc.measure_preconditioner, args=(range(20), depth), rounds=1, iterations=1)
    claim = dc.check_preconditioner(measured)
    store(benchmark, slope_min=figure(measured["min"], RATIO), slope_max=figure(measured["max"], RATIO))
    benchmark.extra_info["claim"] = claim.to_dict()
    assert claim.holds, measured


@pytest.mark.claim("deep.identity")
@pytest.mark.slow
def test_identity_initialisation(benchmark):
    """Bartlett, Helmbold & Long 2018: from the identity GD converges for SPD targets, not otherwise."""
    benchmark.group = "deep claims"

    def both():
        return dc.measure_identity(range(20)), dc.measure_identity(range(20), negative=True)

    positive, negative = benchmark.pedantic(both, rounds=1, iterations=1)
    claim = dc.check_identity(positive, negative)
    store(benchmark, spd_max_relative_loss=figure(positive["max"], FLOOR),
           negative_min_relative_loss=figure(negative["min"], LOSS))
    benchmark.extra_info["claim"] = claim.to_dict()
    assert claim.holds, claim.numbers


@pytest.mark.claim("deep.modes")
@pytest.mark.slow
def test_one_mode_at_a_time(benchmark):
    """Saxe, McClelland & Ganguli 2014: modes learned in decreasing order, t_i / t_1 ~ s_1 / s_i (depth 2)."""
    benchmark.group = "deep claims"
    measured = benchmark.pedantic(dc.measure_modes, args=(range(20),), rounds=1, iterations=1)
    claim = dc.check_modes(measured)
    ratios = {f"ratio_{i + 1}_{end}": figure(measured[f"ratio_{end}"][i], LOSS)
              for i in (1, 2) for end in ("min", "max")}
    store(benchmark, **ratios)
    benchmark.extra_info["claim"] = claim.to_dict()
    assert claim.holds, claim.numbers


@pytest.mark.claim("deep.modes")
def test_modes_from_an_aligned_balanced_start(benchmark):
    """Saxe et al. 2014 with the start that isolates depth (aligned, balanced, equal per-mode strength
    1e-3): t_i / t_1 near s_1 / s_i at depths 2 and 3, closer at depth 3 (t proportional to 1 / s_i)."""
    benchmark.group = "deep claims"
    by_depth = benchmark.pedantic(lambda: {d: dc.measure_modes_aligned(d) for d in (2, 3)}, rounds=1, iterations=1)
    claim = dc.check_modes_aligned(by_depth)
    store(benchmark, **{f"depth{d}_ratio_{i + 1}": figure(m["ratios"][i], RATIO) for d, m in by_depth.items()
                        for i in (1, 2)})
    benchmark.extra_info["claim"] = claim.to_dict()
    assert claim.holds, claim.numbers
