"""Deep linear networks, deep.margin, deep.narrow, deep.width: linear convergence with a deficiency margin (Arora,
Cohen, Golowich & Hu 2019), exponential time in depth for width 1 (Shamir 2019), width matters (Du &
Hu 2019); measured over seeds 0-19 (thresholds and measured ranges in docs/deep.md)."""

import pytest
from helpers import EXACT, LOSS, RATIO, figure

from linnet.claims.literature import margin as deep_margin
from linnet.claims.literature import narrow as deep_narrow
from linnet.claims.literature import width as deep_width
from linnet.testing.benchmarking import store
from linnet.testing.verdicts import report


@pytest.mark.claim("deep.margin")
@pytest.mark.parametrize("ydim", [deep_margin.MARGIN_D, 2 * deep_margin.MARGIN_D])
@pytest.mark.parametrize("depth", deep_margin.MARGIN_DEPTHS)
def test_deficiency_margin(benchmark, depth, ydim):
    """The loss contracts at least at eta c^(2(N-1)/N) per step, at lr 0.05 and at the theorem's step,
    for Phi 4 x 4 and 8 x 4; the flipped start without a margin (control) does not."""
    benchmark.group = "deep literature claims"

    def measure():
        return (deep_margin.measure_margin(range(20), depth, ydim=ydim),
                deep_margin.measure_margin(range(20), depth, lr=None, ydim=ydim),
                deep_margin.measure_margin(range(20), depth, flip=True, ydim=ydim))

    practical, theorem, control = benchmark.pedantic(measure, rounds=1, iterations=1)
    claim = deep_margin.check_margin({**practical, "min": min(practical["min"], theorem["min"]),
                                      "diverged": practical["diverged"] + theorem["diverged"],
                                      "theorem_step": theorem})
    control_holds = deep_margin.check_margin(control).holds
    store(benchmark, min_ratio=figure(practical["min"], RATIO), theorem_min_ratio=figure(theorem["min"], RATIO),
           lr_over_theorem=figure(practical["lr_over_theorem"], LOSS), control_holds=figure(control_holds, EXACT))
    report(benchmark, claim)
    assert claim.holds and not control_holds, (practical["min"], theorem["min"], control["min"])


@pytest.mark.claim("deep.narrow")
def test_exponential_time_in_depth(benchmark):
    """Width 1 from N(0, 1): median steps grow exponentially with depth 2-10; the width-8 fan-in
    start (control) does not."""
    benchmark.group = "deep literature claims"

    def measure():
        return (deep_narrow.measure_depth_growth(range(20)),
                deep_narrow.measure_depth_growth(range(20), width=8, init="fan-in"))

    narrow, wide = benchmark.pedantic(measure, rounds=1, iterations=1)
    claim = deep_narrow.check_depth_growth(narrow)
    control_holds = deep_narrow.check_depth_growth(wide).holds
    medians = {f"median_depth{d}": figure(m, EXACT) for d, m in zip(narrow["depths"], narrow["medians"])}
    store(benchmark, rate=figure(narrow["rate"], LOSS), exponent=figure(narrow["exponent"], LOSS),
           reached=figure(sum(narrow["reached"]), EXACT), control_rate=figure(wide["rate"], LOSS),
           control_holds=figure(control_holds, EXACT), **medians)
    report(benchmark, claim)
    assert claim.holds and not control_holds, (narrow["medians"], wide["medians"])


@pytest.mark.claim("deep.narrow")
@pytest.mark.expensive
def test_exponential_time_in_depth_to_12(benchmark):
    """The same to depth 12 with a budget of 50000 steps (about 16 s)."""
    benchmark.group = "deep literature claims"
    narrow = benchmark.pedantic(deep_narrow.measure_depth_growth, args=(range(20), deep_narrow.NARROW_DEPTHS_LONG),
                                kwargs={"budget": deep_narrow.NARROW_BUDGET_LONG}, rounds=1, iterations=1)
    claim = deep_narrow.check_depth_growth(narrow)
    medians = {f"median_depth{d}": figure(m, EXACT) for d, m in zip(narrow["depths"], narrow["medians"])}
    store(benchmark, rate=figure(narrow["rate"], LOSS), reached=figure(sum(narrow["reached"]), EXACT), **medians)
    report(benchmark, claim)
    assert claim.holds, narrow["medians"]


@pytest.mark.claim("deep.width")
@pytest.mark.parametrize("depth", [3, 4])
def test_width_matters(benchmark, depth):
    """Du & Hu's scaled N(0, 1) start: medians of the widest three widths within 2x, the narrowest
    width at least 4x slower; a grid that stops at width 16 (control) shows no plateau."""
    benchmark.group = "deep literature claims"

    def measure():
        return (deep_width.measure_width(range(20), depth=depth),
                deep_width.measure_width(range(20), widths=deep_width.WIDTHS[:3], depth=depth))

    measured, early = benchmark.pedantic(measure, rounds=1, iterations=1)
    claim = deep_width.check_width(measured)
    control_holds = deep_width.check_width(early).holds
    medians = {f"median_width{w}": figure(m, EXACT) for w, m in zip(measured["widths"], measured["medians"])}
    store(benchmark, plateau_spread=figure(measured["plateau_spread"], LOSS),
           narrow_over_wide=figure(measured["narrow_over_wide"], LOSS), control_holds=figure(control_holds, EXACT),
           **medians)
    report(benchmark, claim)
    assert claim.holds and not control_holds, (measured["medians"], early["medians"])
