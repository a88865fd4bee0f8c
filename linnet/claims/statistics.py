"""Estimates with 95% intervals, and the three-way verdict of a claim about a population of seeds.

A claim about "problems like the post's" is a claim about the population its seeds are drawn from,
so its verdict rests on an interval, not on the seeds at hand:

* a median, rate or fitted slope over seeds: a bootstrap percentile interval over the seeds
  (Efron & Tibshirani, *An Introduction to the Bootstrap*, 1993, ch. 13), computed by
  :func:`scipy.stats.bootstrap` with a fixed generator, so that the same seeds give the same
  interval on every machine (:func:`bootstrap`, :func:`median`);
* "k of n seeds": the Clopper-Pearson interval (Clopper & Pearson, Biometrika 26, 1934), the
  Beta quantiles ``B(a/2; k, n-k+1)`` and ``B(1-a/2; k+1, n-k)`` (:func:`proportion`);
* "on (nearly) every seed": n and the one-sided upper bound on the failure rate, ``1 - a**(1/n)``
  when no seed fails (the exact binomial bound; about 3/n, the "rule of three" of Hanley &
  Lippman-Hand, JAMA 249, 1983), the one-sided Clopper-Pearson bound otherwise (:func:`failure_rate`).

:func:`decide` turns an estimate and a :class:`Threshold` into ``holds`` (the whole interval on the
claimed side), ``does not hold`` (the whole interval on the other side) or ``inconclusive``
(the interval straddles the threshold): never silently one or the other. A claim made of every
problem is stated as a failure rate it tolerates (5%: "on all but at most 5% of problems like
these") and decided by :func:`decide_failure_rate`, so that one counterexample in 100 seeds, which
a new block of seeds may or may not contain, cannot flip its verdict to the opposite one.

    >>> est = proportion(19, 20)
    >>> round(est.value, 2), round(est.low, 3), round(est.high, 3)
    (0.95, 0.751, 0.999)
    >>> decide(est, Threshold(0.5, AT_LEAST)), decide(est, Threshold(0.9, AT_LEAST))
    ('holds', 'inconclusive')
    >>> [decide_failure_rate(failure_rate(k, n), 0.05) for k, n in [(0, 100), (0, 20), (1, 100), (12, 100)]]
    ['holds', 'inconclusive', 'holds', 'does not hold']
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike
from scipy import stats

#: the confidence level of every interval linnet reports
LEVEL = 0.95
#: bootstrap resamples: the percentile interval's end points move by well under 1% of its width
#: between generators at this count for the 20-100 seeds a claim uses
RESAMPLES = 4999
#: the bootstrap generator's seed: the interval is a function of the data alone
BOOTSTRAP_SEED = 20171205

HOLDS = "holds"
DOES_NOT_HOLD = "does not hold"
INCONCLUSIVE = "inconclusive"
VERDICTS = (HOLDS, DOES_NOT_HOLD, INCONCLUSIVE)

AT_LEAST = "at least"
AT_MOST = "at most"


@dataclass(frozen=True)
class Estimate:
    """A point estimate with its ``LEVEL`` interval [low, high] from ``n`` seeds; ``method`` names
    how the interval was computed (``bootstrap``, ``clopper-pearson``, ``every seed``)."""

    value: float
    low: float
    high: float
    n: int
    method: str

    def to_dict(self) -> dict:
        return {"estimate": self.value, "interval": [self.low, self.high], "seeds": self.n,
                "method": self.method}


@dataclass(frozen=True)
class Threshold:
    """What a claim asserts of its estimate: ``side`` (AT_LEAST or AT_MOST) ``value``."""

    value: float
    side: str

    def __post_init__(self):
        if self.side not in (AT_LEAST, AT_MOST):
            raise ValueError(f"side must be {AT_LEAST!r} or {AT_MOST!r}, not {self.side!r}")

    def __str__(self) -> str:
        return f"{self.side} {self.value:g}"


def decide(estimate: Estimate, threshold: Threshold) -> str:
    """HOLDS when the interval lies on the claimed side of the threshold (the threshold itself
    included), DOES_NOT_HOLD when it lies strictly on the other side, INCONCLUSIVE otherwise
    (the interval straddles the threshold, or it is undefined: NaN)."""
    low, high, t = estimate.low, estimate.high, threshold.value
    if np.isnan(low) or np.isnan(high):
        return INCONCLUSIVE
    if threshold.side == AT_LEAST:
        return HOLDS if low >= t else DOES_NOT_HOLD if high < t else INCONCLUSIVE
    return HOLDS if high <= t else DOES_NOT_HOLD if low > t else INCONCLUSIVE


def _generator_keyword() -> str:
    """scipy 1.15 names the bootstrap's generator ``rng``; older releases ``random_state``."""
    return "rng" if "rng" in inspect.signature(stats.bootstrap).parameters else "random_state"


def bootstrap(samples: Sequence[ArrayLike], statistic: Callable[..., float], *,
              vectorized: bool = False, paired: bool = False) -> Estimate:
    """``statistic(*samples)`` with its bootstrap percentile interval.

    ``samples`` are one or more 1-D groups of per-seed values (e.g. one group of step counts per
    depth); each group is resampled on its own, seeds with replacement, and ``statistic`` takes one
    array per group and returns a float (a median, a rate, a fitted slope across the groups).
    The interval is the (1 - LEVEL)/2 and (1 + LEVEL)/2 quantiles of RESAMPLES resampled statistics,
    from a generator seeded with BOOTSTRAP_SEED. A statistic that is NaN on some resample gives a NaN
    interval (decided INCONCLUSIVE); a group of one value gives the degenerate interval [value, value].
    ``vectorized``: ``statistic`` takes an ``axis`` keyword and reduces along it (as
    :func:`scipy.stats.bootstrap` calls it), which is much faster than one call per resample.
    ``paired``: the groups are measurements of the same seeds (element i of every group is seed i,
    e.g. one group per depth), and seeds are resampled together, keeping each seed's values in
    one resample.
    """
    groups = [np.asarray(s, dtype=float) for s in samples]
    if not groups or any(g.ndim != 1 or g.size == 0 for g in groups):
        raise ValueError("bootstrap needs one or more non-empty 1-D groups of per-seed values")
    if paired and len({g.size for g in groups}) != 1:
        raise ValueError("paired groups need one value per seed in every group")
    value = float(statistic(*groups, axis=-1) if vectorized else statistic(*groups))
    n = groups[0].size if paired else sum(g.size for g in groups)
    if all(g.size == 1 for g in groups):
        return Estimate(value, value, value, n, "bootstrap")
    generator = {_generator_keyword(): np.random.default_rng(BOOTSTRAP_SEED)}
    with np.errstate(all="ignore"):
        result = stats.bootstrap(tuple(groups), statistic, n_resamples=RESAMPLES, vectorized=vectorized,
                                 paired=paired,
                                 confidence_level=LEVEL, method="percentile", **generator)
    interval = result.confidence_interval
    return Estimate(value, float(interval.low), float(interval.high), n, "bootstrap")


def median(values: ArrayLike) -> Estimate:
    """The median over seeds with its bootstrap percentile interval (:func:`bootstrap`)."""
    return bootstrap([values], np.median, vectorized=True)


def proportion(k: int, n: int) -> Estimate:
    """The fraction k/n of seeds with its two-sided Clopper-Pearson interval at LEVEL."""
    _check_counts(k, n)
    a = 1.0 - LEVEL
    low = 0.0 if k == 0 else float(stats.beta.ppf(a / 2, k, n - k + 1))
    high = 1.0 if k == n else float(stats.beta.ppf(1 - a / 2, k + 1, n - k))
    return Estimate(k / n, low, high, n, "clopper-pearson")


def failure_rate(failures: int, n: int) -> Estimate:
    """The failure rate of a claim made of (nearly) every problem: ``failures / n`` with the
    one-sided LEVEL bounds [low, high]. ``high`` is the largest failure rate under which ``failures``
    or fewer have probability 1 - LEVEL: ``1 - (1 - LEVEL)**(1/n)`` when none failed (the exact
    binomial bound, about 3/n), the Clopper-Pearson bound ``B(LEVEL; failures+1, n-failures)``
    otherwise; ``low`` is the one-sided lower bound ``B(1 - LEVEL; failures, n-failures+1)`` (0 when
    none failed). Decided by :func:`decide_failure_rate`."""
    _check_counts(failures, n)
    if failures == n:
        upper = 1.0
    elif failures == 0:
        upper = 1.0 - (1.0 - LEVEL) ** (1.0 / n)
    else:
        upper = float(stats.beta.ppf(LEVEL, failures + 1, n - failures))
    lower = 0.0 if failures == 0 else float(stats.beta.ppf(1.0 - LEVEL, failures, n - failures + 1))
    return Estimate(failures / n, lower, upper, n, "failure rate")


def decide_failure_rate(estimate: Estimate, rate: float) -> str:
    """The verdict on "fails on at most ``rate`` of problems" (``estimate`` from
    :func:`failure_rate`), each direction a one-sided LEVEL test: HOLDS when the upper bound is at
    most ``rate`` (with no failure that needs n >= log(1 - LEVEL) / log(1 - rate): 59 seeds for rate
    0.05, 20 for 0.15), DOES_NOT_HOLD when the lower bound exceeds it, INCONCLUSIVE in between.
    A failing seed is reported as a counterexample, but one failure in 100 does not refute a claim
    about 95% of problems: it is what such a claim allows."""
    if estimate.high <= rate:
        return HOLDS
    return DOES_NOT_HOLD if estimate.low > rate else INCONCLUSIVE


def _check_counts(k: int, n: int) -> None:
    if not (isinstance(n, (int, np.integer)) and isinstance(k, (int, np.integer)) and 0 <= k <= n and n >= 1):
        raise ValueError(f"need counts 0 <= k <= n, n >= 1; got k={k!r}, n={n!r}")
