"""linnet.claims.population: the three verdicts of every summary, each with a case that makes it
say so, the chunked measurement against one seed at a time, and every registered claim's
population wired (its measure returns one row per seed, its summary decides those rows)."""

import math

import numpy as np
import pytest

from linnet.claims import population as pop
from linnet.claims.literature import populations as literature
from linnet.claims.registry import REGISTRY
from linnet.claims.statistics import AT_LEAST, AT_MOST, DOES_NOT_HOLD, HOLDS, INCONCLUSIVE, Threshold


def _rows(**columns):
    n = len(next(iter(columns.values())))
    return [{**{k: v[i] for k, v in columns.items()}, "seed": i} for i in range(n)]


@pytest.mark.parametrize(("failures", "n", "expected"),
                         [(0, 100, HOLDS), (0, 20, INCONCLUSIVE), (1, 100, HOLDS), (3, 100, INCONCLUSIVE),
                          (12, 100, DOES_NOT_HOLD)])
def test_failure_rate_verdicts(failures, n, expected):
    rows = _rows(holds=[i >= failures for i in range(n)])
    v = pop.decide_rows("x", pop.Population(None, pop.FailureRate(), "s"), rows)
    assert v.verdict == expected
    assert v.estimate.n == n and v.estimate.value == failures / n
    assert v.counterexamples == tuple(range(failures))


def test_failure_rate_sets_the_seeds_needed():
    """rate 0.15 (an expensive claim's): 20 clean seeds are enough (bound 0.139), 18 are not (0.153)."""
    summary = pop.FailureRate(rate=0.15)
    assert summary.decide(summary.estimate(_rows(holds=[True] * 20))) == HOLDS
    assert summary.decide(summary.estimate(_rows(holds=[True] * 18))) == INCONCLUSIVE


@pytest.mark.parametrize(("values", "expected"), [
    ([1.0, 1.1, 0.9, 1.05, 0.95] * 8, HOLDS),             # every resample's median near 1 < 1.5
    ([2.0, 2.1, 1.9, 2.05, 1.95] * 8, DOES_NOT_HOLD),     # near 2 > 1.5
    ([1.0, 2.0, 1.2, 1.8, 1.5, 1.4, 1.6], INCONCLUSIVE),  # the interval straddles 1.5
])
def test_median_verdicts(values, expected):
    summary = pop.Median("gain", Threshold(1.5, AT_MOST))
    est = summary.estimate(_rows(gain=values))
    assert summary.decide(est) == expected
    assert est.value == pytest.approx(np.median(values))


def test_median_counts_a_missing_value_as_never():
    summary = pop.Median("steps", Threshold(100, AT_MOST))
    assert list(summary.values(_rows(steps=[1, None, float("nan")]))) == [1, math.inf, math.inf]


def test_paired_resamples_seeds_together():
    """A ratio between two figures of the same seeds: identical columns give the ratio 1 exactly
    on every resample (paired), where resampling the columns apart would not."""
    a = list(np.linspace(1, 50, 30))
    summary = pop.Paired(("a", "b"), lambda x, y, axis: np.mean(y / x, axis=axis), Threshold(1.0, AT_LEAST))
    est = summary.estimate(_rows(a=a, b=a))
    assert (est.value, est.low, est.high) == (1.0, 1.0, 1.0)
    assert summary.decide(est) == HOLDS
    below = summary.estimate(_rows(a=a, b=[0.5 * x for x in a]))
    assert summary.decide(below) == DOES_NOT_HOLD


def test_verify_in_chunks_equals_one_seed_at_a_time():
    p = pop.Population(pop._toy, pop.Median("value", Threshold(0.05, AT_MOST)), "s", chunk=3)
    whole = pop.verify("toy", p, range(10))
    single = pop.verify("toy", pop.Population(pop._toy, p.summary, "s", chunk=1), range(10))
    assert whole.rows == single.rows and whole.estimate == single.estimate
    assert [r["seed"] for r in whole.rows] == list(range(10))
    d = whole.to_dict()
    assert {"id", "verdict", "estimate", "interval", "threshold", "seeds", "statement"} <= set(d)
    assert d["seeds"] == 10 and d["seed_range"] == "0-9" and len(d["interval"]) == 2


def test_verify_refuses_no_seeds():
    with pytest.raises(ValueError, match="at least one seed"):
        pop.verify("toy", pop.Population(pop._toy, pop.FailureRate("small"), "s"), [])


@pytest.mark.parametrize("entry", REGISTRY, ids=lambda e: e.id)
def test_every_claim_has_a_population_with_a_statement_and_a_held_out_n(entry):
    p = entry.population
    assert p is not None and p.statement and 1 <= p.held_out <= 100 and p.chunk >= 1
    assert p.summary.threshold.side in (AT_LEAST, AT_MOST)


# -- claim-level negative controls: the measure itself made false ----------------------------------

def test_preconditioner_population_fails_from_a_gaussian_start():
    """D2's negative control: from a Gaussian (unbalanced) start the slope is 1, not 2."""
    rows = _seeded(literature.measure_preconditioner(range(3), init="gaussian"), range(3))
    v = pop.decide_rows("deep.preconditioner", literature.POPULATIONS["deep.preconditioner"], rows)
    assert v.verdict == DOES_NOT_HOLD
    assert all(abs(r["slope_depth3"] - 1) < 0.01 for r in rows)


def test_margin_population_fails_from_a_start_without_margin():
    """D3's negative control: the flipped start (no deficiency margin) contracts far slower than the bound."""
    rows = _seeded(literature.measure_margin(range(1), flip=True), range(1))
    assert pop.decide_rows("deep.margin", literature.POPULATIONS["deep.margin"], rows).verdict == DOES_NOT_HOLD


def test_width_excess_ratio_fails_when_the_excess_does_not_shrink():
    """D5's statistic: the same excess at both widths is a ratio 1 > 0.5 (does not hold)."""
    summary = literature.POPULATIONS["deep.width"].summary
    rows = _rows(excess_width32=[30, 31, 29, 33] * 5, excess_width256=[30, 31, 29, 33] * 5)
    assert summary.decide(summary.estimate(rows)) == DOES_NOT_HOLD


def test_narrow_rate_is_growth_fits_rate():
    steps = [np.array([10.0, 20, 30]) * 1.4**d for d in range(len(literature.narrow.NARROW_DEPTHS))]
    fit = literature.narrow.growth_fit(literature.narrow.NARROW_DEPTHS, [np.median(s) for s in steps])
    assert float(literature.narrow_rate(*steps)) == pytest.approx(fit["rate"], rel=1e-12)
    assert fit["rate"] == pytest.approx(np.log(1.4), rel=1e-12)


def test_narrow_rate_fails_when_steps_do_not_grow_with_depth():
    """D4's statistic: steps flat in depth give rate 0 < 0.1 (does not hold)."""
    summary = literature.POPULATIONS["deep.narrow"].summary
    rows = _rows(**{k: [50 + i % 7 for i in range(30)] for k in summary.keys})
    est = summary.estimate(rows)
    assert est.value == pytest.approx(0, abs=1e-12) and summary.decide(est) == DOES_NOT_HOLD


def _seeded(rows, seeds):
    return [dict(r, seed=s) for r, s in zip(rows, seeds, strict=True)]
