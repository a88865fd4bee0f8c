"""Estimates with 95% intervals, and the three-way verdict of a claim about a population of seeds.

A claim about "problems like the post's" is a claim about the population its seeds are drawn from,
so its verdict rests on an interval, not on the seeds at hand:

* a median, rate or fitted slope over seeds: a bootstrap percentile interval over the seeds
  (Efron & Tibshirani, *An Introduction to the Bootstrap*, 1993, ch. 13), computed by
  :func:`scipy.stats.bootstrap` with a fixed generator, so that the same seeds give the same
  interval on every machine (:func:`bootstrap`, :func:`median`);
* "k of n seeds": the Clopper-Pearson interval (Clopper & Pearson, Biometrika 26, 1934), the
  Beta quantiles ``B(a/2; k, n-k+1)`` and ``B(1-a/2; k+1, n-k)`` (:func:`proportion`);
* "on every seed": n and the one-sided upper bound on the failure rate, ``1 - a**(1/n)`` when no
  seed fails (the exact binomial bound; about 3/n, the "rule of three" of Hanley &
  Lippman-Hand, JAMA 249, 1983), the one-sided Clopper-Pearson bound otherwise (:func:`every_seed`).

:func:`decide` turns an estimate and a :class:`Threshold` into ``holds`` (the whole interval on the
claimed side), ``does not hold`` (the whole interval on the other side) or ``inconclusive``
(the interval straddles the threshold): never silently one or the other. A claim made on every
seed is decided by :func:`decide_every_seed`: a failing seed is a counterexample (``does not
hold``); with none, it ``holds`` once the upper bound on the failure rate is below the rate the
claim tolerates, and is ``inconclusive`` while too few seeds ran to say so.

    >>> est = proportion(19, 20)
    >>> round(est.value, 2), round(est.low, 3), round(est.high, 3)
    (0.95, 0.751, 0.999)
    >>> decide(est, Threshold(0.5, AT_LEAST)), decide(est, Threshold(0.9, AT_LEAST))
    ('holds', 'inconclusive')
    >>> [decide_every_seed(every_seed(k, n), 0.05) for k, n in [(0, 100), (0, 20), (1, 100)]]
    ['holds', 'inconclusive', 'does not hold']
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
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


def bootstrap(samples: Sequence[Sequence[float]], statistic: Callable[..., float], *,
              vectorized: bool = False) -> Estimate:
    """``statistic(*samples)`` with its bootstrap percentile interval.

    ``samples`` are one or more 1-D groups of per-seed values (e.g. one group of step counts per
    depth); each group is resampled on its own, seeds with replacement, and ``statistic`` takes one
    array per group and returns a float (a median, a rate, a fitted slope across the groups).
    The interval is the (1 - LEVEL)/2 and (1 + LEVEL)/2 quantiles of RESAMPLES resampled statistics,
    from a generator seeded with BOOTSTRAP_SEED. A statistic that is NaN on some resample gives a NaN
    interval (decided INCONCLUSIVE); a group of one value gives the degenerate interval [value, value].
    ``vectorized``: ``statistic`` takes an ``axis`` keyword and reduces along it (as
    :func:`scipy.stats.bootstrap` calls it), which is much faster than one call per resample.
    """
    groups = [np.asarray(s, dtype=float) for s in samples]
    if not groups or any(g.ndim != 1 or g.size == 0 for g in groups):
        raise ValueError("bootstrap needs one or more non-empty 1-D groups of per-seed values")
    value = float(statistic(*groups, axis=-1) if vectorized else statistic(*groups))
    n = sum(g.size for g in groups)
    if all(g.size == 1 for g in groups):
        return Estimate(value, value, value, n, "bootstrap")
    generator = {_generator_keyword(): np.random.default_rng(BOOTSTRAP_SEED)}
    with np.errstate(all="ignore"):
        result = stats.bootstrap(tuple(groups), statistic, n_resamples=RESAMPLES, vectorized=vectorized,
                                 confidence_level=LEVEL, method="percentile", **generator)
    interval = result.confidence_interval
    return Estimate(value, float(interval.low), float(interval.high), n, "bootstrap")


def median(values: Sequence[float]) -> Estimate:
    """The median over seeds with its bootstrap percentile interval (:func:`bootstrap`)."""
    return bootstrap([values], np.median, vectorized=True)


def proportion(k: int, n: int) -> Estimate:
    """The fraction k/n of seeds with its two-sided Clopper-Pearson interval at LEVEL."""
    _check_counts(k, n)
    a = 1.0 - LEVEL
    low = 0.0 if k == 0 else float(stats.beta.ppf(a / 2, k, n - k + 1))
    high = 1.0 if k == n else float(stats.beta.ppf(1 - a / 2, k + 1, n - k))
    return Estimate(k / n, low, high, n, "clopper-pearson")


def every_seed(failures: int, n: int) -> Estimate:
    """The failure rate of a claim made "on every seed": ``failures / n`` with the one-sided LEVEL
    interval [0, upper]; ``upper = 1 - (1 - LEVEL)**(1/n)`` when no seed fails (the largest
    failure rate under which n passes in a row still have probability 1 - LEVEL), the one-sided
    Clopper-Pearson bound ``B(LEVEL; failures+1, n-failures)`` otherwise (decided by
    :func:`decide_every_seed`)."""
    _check_counts(failures, n)
    if failures == n:
        upper = 1.0
    elif failures == 0:
        upper = 1.0 - (1.0 - LEVEL) ** (1.0 / n)
    else:
        upper = float(stats.beta.ppf(LEVEL, failures + 1, n - failures))
    return Estimate(failures / n, 0.0, upper, n, "every seed")


def decide_every_seed(estimate: Estimate, rate: float) -> str:
    """The verdict on a claim made on every seed (``estimate`` from :func:`every_seed`): DOES_NOT_HOLD
    when a seed failed (a counterexample), HOLDS when none did and the upper bound on the failure
    rate is at most ``rate``, INCONCLUSIVE when none did but too few seeds ran (n < log(1 - LEVEL) /
    log(1 - rate): 59 seeds for rate 0.05, 299 for 0.01)."""
    if estimate.value > 0:
        return DOES_NOT_HOLD
    return HOLDS if estimate.high <= rate else INCONCLUSIVE


def _check_counts(k: int, n: int) -> None:
    if not (isinstance(n, (int, np.integer)) and isinstance(k, (int, np.integer)) and 0 <= k <= n and n >= 1):
        raise ValueError(f"need counts 0 <= k <= n, n >= 1; got k={k!r}, n={n!r}")
