"""linnet.claims.statistics: intervals against scipy's independent implementations and closed
forms, the bootstrap's coverage measured, and each branch of the three-way verdict."""

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy import stats

from linnet.claims import statistics as s


@pytest.mark.parametrize(("k", "n"), [(0, 1), (0, 20), (3, 20), (19, 20), (20, 20), (57, 100)])
def test_clopper_pearson_equals_scipys_exact_binomial_interval(k, n):
    est = s.proportion(k, n)
    ci = stats.binomtest(k, n).proportion_ci(confidence_level=0.95, method="exact")
    assert (est.value, est.n, est.method) == (k / n, n, "clopper-pearson")
    assert est.low == pytest.approx(ci.low, abs=1e-12) and est.high == pytest.approx(ci.high, abs=1e-12)


@given(st.integers(1, 500).flatmap(lambda n: st.tuples(st.integers(0, n), st.just(n))))
def test_proportion_interval_holds_its_estimate_and_moves_up_with_k(kn):
    k, n = kn
    est = s.proportion(k, n)
    assert 0 <= est.low <= est.value <= est.high <= 1
    if k < n:
        more = s.proportion(k + 1, n)
        assert more.low >= est.low and more.high >= est.high


@pytest.mark.parametrize("n", [1, 20, 59, 100, 1000])
def test_failure_rate_bounds_are_the_one_sided_exact_bounds(n):
    est = s.failure_rate(0, n)
    assert est.low == 0 and est.value == 0
    assert est.high == pytest.approx(stats.beta.ppf(0.95, 1, n), rel=1e-10)  # Beta(1, n): 1 - 0.05**(1/n)
    if n >= 100:
        assert est.high == pytest.approx(3 / n, rel=0.02)  # the rule of three (2.95/n at n = 100)
    for k in (1, n // 3):
        if 0 < k < n:
            one = s.failure_rate(k, n)
            less = stats.binomtest(k, n, alternative="less").proportion_ci(confidence_level=0.95, method="exact")
            more = stats.binomtest(k, n, alternative="greater").proportion_ci(confidence_level=0.95, method="exact")
            assert one.high == pytest.approx(less.high, rel=1e-10) and one.low == pytest.approx(more.low, rel=1e-10)


def test_failure_rate_verdicts_enough_seeds_too_few_and_too_many_failures():
    assert s.decide_failure_rate(s.failure_rate(0, 59), 0.05) == s.HOLDS  # 1 - 0.05**(1/59) = 0.0495
    assert s.decide_failure_rate(s.failure_rate(0, 58), 0.05) == s.INCONCLUSIVE  # 0.0503
    assert s.decide_failure_rate(s.failure_rate(1, 100), 0.05) == s.HOLDS  # upper bound 0.0466
    assert s.decide_failure_rate(s.failure_rate(2, 100), 0.05) == s.INCONCLUSIVE  # 0.0616
    assert s.decide_failure_rate(s.failure_rate(10, 100), 0.05) == s.DOES_NOT_HOLD  # lower bound 0.0545
    assert s.decide_failure_rate(s.failure_rate(9, 100), 0.05) == s.INCONCLUSIVE  # lower bound 0.048
    assert math.ceil(math.log(0.05) / math.log(0.95)) == 59


@given(st.integers(1, 400).flatmap(lambda n: st.tuples(st.integers(0, n), st.just(n))),
       st.sampled_from([0.01, 0.05, 0.15]))
def test_failure_rate_verdicts_are_never_opposite_across_blocks_of_one_population(kn, rate):
    """A verdict says holds only with the upper bound <= rate and does not hold only with the lower
    bound > rate, so two blocks can give opposite verdicts only if one bound is wrong at 95%."""
    k, n = kn
    est = s.failure_rate(k, n)
    assert est.low <= est.value <= est.high
    verdict = s.decide_failure_rate(est, rate)
    assert (verdict == s.HOLDS) == (est.high <= rate) and (verdict == s.DOES_NOT_HOLD) == (est.low > rate)


def test_decide_each_branch():
    est = s.Estimate(1.0, 0.8, 1.2, 20, "bootstrap")
    assert s.decide(est, s.Threshold(0.8, s.AT_LEAST)) == s.HOLDS  # the threshold itself is on the claimed side
    assert s.decide(est, s.Threshold(1.3, s.AT_LEAST)) == s.DOES_NOT_HOLD
    assert s.decide(est, s.Threshold(1.0, s.AT_LEAST)) == s.INCONCLUSIVE
    assert s.decide(est, s.Threshold(1.2, s.AT_MOST)) == s.HOLDS
    assert s.decide(est, s.Threshold(0.7, s.AT_MOST)) == s.DOES_NOT_HOLD
    assert s.decide(est, s.Threshold(1.0, s.AT_MOST)) == s.INCONCLUSIVE
    assert s.decide(s.Estimate(1.0, float("nan"), float("nan"), 20, "bootstrap"),
                    s.Threshold(0.0, s.AT_LEAST)) == s.INCONCLUSIVE
    with pytest.raises(ValueError, match="side must be"):
        s.Threshold(1.0, ">=")
    assert str(s.Threshold(1.5, s.AT_MOST)) == "at most 1.5"


def test_bootstrap_is_a_function_of_the_data_alone():
    values = np.random.default_rng(7).exponential(size=40)
    first, second = s.median(values), s.median(list(values))
    assert first == second
    assert first.value == np.median(values) and first.low < first.value < first.high and first.n == 40
    assert s.median([3.0] * 20) == s.Estimate(3.0, 3.0, 3.0, 20, "bootstrap")  # ties: degenerate, not NaN
    assert s.median([5.0]) == s.Estimate(5.0, 5.0, 5.0, 1, "bootstrap")
    with pytest.raises(ValueError, match="non-empty 1-D"):
        s.median([])


def test_bootstrap_median_interval_covers_the_true_median_about_95_percent():
    """Measured coverage over 200 samples of 50 exponential values: the percentile interval of the
    median contains ln 2 in 195 of 200 (97.5%); the band 0.88-0.99 is +-2.5 binomial standard
    deviations of 0.95 at n = 200, so a wrong level (0.68, or an interval of zero width) fails."""
    rng = np.random.default_rng(2024)
    covered = sum(est.low <= math.log(2) <= est.high
                  for est in (s.median(rng.exponential(size=50)) for _ in range(200)))
    assert 176 <= covered <= 198, covered


def test_bootstrap_of_a_statistic_across_groups():
    """A fitted slope across groups (one group of per-seed values per depth), each resampled alone."""
    rng = np.random.default_rng(3)
    depths = np.arange(2, 7)
    groups = [np.exp(0.3 * d + rng.normal(scale=0.2, size=30)) for d in depths]

    def rate(*g):
        return float(np.polyfit(depths, np.log([np.median(x) for x in g]), 1)[0])

    est = s.bootstrap(groups, rate)
    assert est.value == rate(*groups) and est.n == 150
    assert est.low < 0.3 < est.high and est.high - est.low < 0.1
    flat = s.bootstrap([np.exp(rng.normal(scale=0.2, size=30)) for _ in depths], rate)
    assert s.decide(est, s.Threshold(0.1, s.AT_LEAST)) == s.HOLDS
    assert s.decide(flat, s.Threshold(0.1, s.AT_LEAST)) == s.DOES_NOT_HOLD  # the negative control


def test_bad_counts_are_one_error():
    for k, n in [(-1, 5), (6, 5), (0, 0), (1.5, 3)]:
        with pytest.raises(ValueError, match="need counts"):
            s.proportion(k, n)
