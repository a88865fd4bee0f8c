"""The post's claims 1-3 at depth 3, 4 and 6 and hidden widths rank (6) and 4 x rank (24), seeds 0-19
(depth.plateau, depth.second-order, depth.samples; linnet.claims.post.at_depth, docs/deep.md
"The post's claims at depth").

Each benchmark stores its checked claim (the verdict after ``pytest benchmarks`` reads it) and
asserts that the verdict is the measured one in EXPECTED: a claim that does not hold at a size is
reported as "does not hold" with its numbers, and a change of verdict fails the benchmark.
"""

import pytest
from helpers import EXACT, LOSS, SENSITIVE, SENSITIVE_COUNT, figure

from linnet.claims.post import at_depth as ad
from linnet.testing.benchmarking import store
from linnet.testing.tolerance import window

CONFIGS = [(d, w) for d in ad.DEPTHS for w in ad.WIDTHS]
IDS = [f"depth{d}-width{w}" for d, w in CONFIGS]
#: claim 1 also at depth 2 (the post's net), where width 24 already breaks it
PLATEAU_CONFIGS = [(2, w) for w in ad.WIDTHS] + CONFIGS
PLATEAU_IDS = [f"depth{d}-width{w}" for d, w in PLATEAU_CONFIGS]

#: measured verdicts of claim 1 (seeds 0-19). Gaussian start: holds at width 6 (at depth >= 3 GD
#: diverges at the post's rates except lr 1e-6 at depth 3 and on 3 seeds at depth 4; Adam ends at
#: 0.0045 or above); does not at width 24 (Adam at lr 1e-3 and 1e-2 reaches 1e-28..1e-24; at depth
#: 2 also gd at lr 1e-6 and 1e-5, to 1e-28..1e-31). Fan-in start (depth >= 3): does not hold
#: anywhere (gd[lr=1e-4] and adam[lr=0.01] reach machine precision even at width 6)
PLATEAU = {("gaussian", 6): True, ("gaussian", 24): False, ("fan-in", 6): False, ("fan-in", 24): False}
#: measured verdicts of claim 2 (seeds 0-19; successes out of 20 beside each): lm reaches 1e-24
#: everywhere but depth 6, width 24 (0/20: it stops, no progress, at 3.5e-24..1.2e-23);
#: gauss-newton[step=0.5] on every seed only at width 24, depths 3 and 4 (elsewhere 18, 12, 12, 10);
#: so does the plain step 1 (5-6 iterations there; elsewhere 13, 8, 1 at width 6 and 3 at depth 6)
SECOND_ORDER = {("lm", 6, 24): False, ("gauss-newton[step=0.5]", 3, 24): True,
                ("gauss-newton[step=0.5]", 4, 24): True, ("gauss-newton[step=1]", 3, 24): True,
                ("gauss-newton[step=1]", 4, 24): True}


def _plateau(benchmark, depth, width, init):
    benchmark.group = "post claims at depth"
    runs = benchmark.pedantic(ad.first_order_runs, args=(depth, width), kwargs={"init": init},
                              rounds=1, iterations=1)
    claim = ad.check_plateau_at_depth(runs, depth, width, init)
    figures = {}
    for spec, n in claim.numbers["by_spec"].items():
        figures[f"{spec} diverged"] = figure(n["diverged"], EXACT)
        # Adam at lr 1e-3 and 1e-2 and GD at lr 1e-4 amplify round-off here (helpers.SENSITIVE)
        figures[f"{spec} relative_loss_min"] = figure(n["relative_loss_min"], SENSITIVE)
        figures[f"{spec} relative_loss_max"] = figure(n["relative_loss_max"], SENSITIVE)
    store(benchmark, below=figure(claim.numbers["below"], SENSITIVE_COUNT), **figures)
    benchmark.extra_info["claim"] = claim.to_dict()
    assert claim.holds is PLATEAU[(init, width)], claim.numbers


@pytest.mark.claim("depth.plateau")
@pytest.mark.parametrize(("depth", "width"), PLATEAU_CONFIGS, ids=PLATEAU_IDS)
def test_plateau_at_depth(benchmark, depth, width):
    """Claim 1 from the post's Gaussian draw: the post's 4 gd and 4 adam rates, 3000 steps, batched."""
    _plateau(benchmark, depth, width, "gaussian")


@pytest.mark.claim("depth.plateau")
@pytest.mark.expensive
@pytest.mark.parametrize(("depth", "width"), CONFIGS, ids=IDS)
def test_plateau_at_depth_fan_in(benchmark, depth, width):
    """Claim 1 from the fan-in start (variance 1 / n_k): GD no longer diverges, and reaches 1e-30."""
    _plateau(benchmark, depth, width, "fan-in")


@pytest.mark.claim("depth.second-order")
@pytest.mark.parametrize("spec", ad.DEPTH_SECOND_ORDER)
@pytest.mark.parametrize(("depth", "width"), CONFIGS, ids=IDS)
def test_second_order_at_depth(benchmark, depth, width, spec):
    """Claim 2: relative 1e-24 on every seed within 100 (depth 3) or 300 (depths 4, 6) iterations."""
    _second_order(benchmark, depth, width, spec)


@pytest.mark.claim("depth.second-order")
@pytest.mark.expensive
@pytest.mark.parametrize(("depth", "width"), CONFIGS, ids=IDS)
def test_plain_gauss_newton_at_depth(benchmark, depth, width):
    """Claim 2 with the undamped full step (about 11 s for the 6 rows): stalls at width 6."""
    _second_order(benchmark, depth, width, "gauss-newton[step=1]")


#: lm and gauss-newton successes out of 20 seeds (see _second_order)
SUCCESSES = window(8, "measured up to 4 of 20 apart over six numerics configurations (machines, OpenBLAS "
                      "kernels, SIMD widths, thread counts); 2x margin")


def _second_order(benchmark, depth, width, spec):
    benchmark.group = "post claims at depth"
    runs = benchmark.pedantic(ad.second_order_at_depth, args=(depth, width, spec), rounds=1, iterations=1)
    claim = ad.check_second_order_at_depth(runs, spec, depth, width)
    n = claim.numbers
    # On the seeds where a Gauss-Newton step stalls, its trajectory depends on round-off: over six
    # numerics configurations the successes moved by up to 4 of 20 and the iteration counts by up
    # to 227, so the counts are recorded, not gated, and the successes gated within a window
    benchmark.extra_info["iterations"] = {"min": n["min_iterations"], "max": n["max_iterations"]}
    store(benchmark, successes=figure(n["successes"], SUCCESSES),
           final_relative_loss_max=figure(n["final_relative_loss_max"], SENSITIVE))
    benchmark.extra_info["claim"] = claim.to_dict()
    expected = SECOND_ORDER.get((spec, depth, width), spec == "lm")
    assert claim.holds is expected, n


def _samples(benchmark, depth, width, init):
    benchmark.group = "post claims at depth"
    runs = benchmark.pedantic(ad.samples_runs_at_depth, args=(depth, width), kwargs={"init": init},
                              rounds=1, iterations=1)
    claim = ad.check_samples_at_depth(runs, depth, width, init=init)
    store(benchmark, spread_max=figure(claim.numbers["spread_max"], LOSS),
           spread_min=figure(claim.numbers["spread_min"], LOSS), diverged=figure(claim.numbers["diverged"], EXACT))
    benchmark.extra_info["claim"] = claim.to_dict()
    return claim


@pytest.mark.claim("depth.samples")
def test_samples_at_depth(benchmark):
    """Claim 3 at depth 3, width 6 (Gaussian start), gd at the post's lr 1e-6 per 1000 samples
    (the only one of its rates that diverges on no seed there): spread over 1e3..1e5 samples and the
    expected loss <= 1.5x on every seed (measured 1.007-1.174)."""
    claim = _samples(benchmark, 3, 6, "gaussian")
    assert claim.holds, claim.numbers


@pytest.mark.claim("depth.samples")
@pytest.mark.expensive
@pytest.mark.parametrize(("depth", "width"), CONFIGS, ids=IDS)
def test_samples_at_depth_fan_in(benchmark, depth, width):
    """Claim 3 from the fan-in start, where gd at lr 1e-6 diverges nowhere (about 11 s for the 6
    rows). Measured spreads: width 6 1.006-1.263 (holds); width 24 up to 5.4 (depths 3, 4) and 2.8
    (depth 6), on 13, 11 and 8 seeds above 1.5: GD converges there, and the sample covariance
    changes its rate, so the losses after 3000 steps differ."""
    claim = _samples(benchmark, depth, width, "fan-in")
    assert claim.holds is (width == ad.POST_RANK), claim.numbers
