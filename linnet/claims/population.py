"""A claim about a population of problems, and its verdict on a block of seeds.

A claim such as "GD plateaus on problems like the post's" is about the population the seeds draw
from. linnet decides it the same way for every claim:

1. ``measure(seeds)`` runs the experiment on a chunk of seeds and returns one plain dict per seed
   (the per-seed figures; a module-level function, so it pickles and runs on any executor);
2. a *summary* turns the per-seed dicts into an :class:`~linnet.claims.statistics.Estimate` with
   its 95% interval and decides it against the claim's threshold: :class:`FailureRate` (a
   statement made of every problem, stated as the failure rate it tolerates: the rate, its
   one-sided bounds and :func:`~linnet.claims.statistics.decide_failure_rate`) or :class:`Median` (a typical value:
   the median over seeds, its bootstrap interval and :func:`~linnet.claims.statistics.decide`),
   or a summary of the claim's own (a fitted slope across groups of seeds, say) with the same
   two methods;
3. :func:`verify` maps ``measure`` over chunks of the seeds (the ``map`` of a sweep executor:
   :func:`linnet.sweeps.executors.as_map`) and returns a :class:`Verdict`: ``holds``,
   ``does not hold`` or ``inconclusive``, with the estimate, its interval, the threshold and the
   seeds.

Thresholds, step sizes and budgets are chosen on :data:`linnet.claims.seeds.DEVELOPMENT`; the
verdict that counts is the one on :data:`linnet.claims.seeds.HELD_OUT` (``held_out`` of its seeds:
fewer for a claim whose single run is expensive, and the interval then says what that n allows).

    >>> from linnet.claims.statistics import AT_MOST
    >>> population = Population(_toy, FailureRate("small"), "every seed's value is small")
    >>> v = verify("toy", population, range(60))
    >>> v.verdict, v.estimate.n, round(v.estimate.high, 4)
    ('holds', 60, 0.0487)
    >>> verify("toy", Population(_toy, Median("value", Threshold(0.5, AT_MOST)), "small"), range(5)).verdict
    'holds'
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from linnet.claims.statistics import (
    AT_MOST,
    Estimate,
    Threshold,
    bootstrap,
    decide,
    decide_failure_rate,
    failure_rate,
    median,
)
from linnet.runs.record import plain

#: the failure rate a claim made of every problem tolerates by default: "on all but at most 5% of
#: problems like these". With no failure, 59 seeds bound the rate below it (one-sided 95%)
TOLERATED_RATE = 0.05
#: seeds per task handed to ``map``: enough that batched runs share their array programs, few
#: enough that 100 seeds keep two to eight workers busy
CHUNK = 10


class Summary(Protocol):
    """How per-seed figures become an estimate and a verdict."""

    def estimate(self, rows: Sequence[dict]) -> Estimate: ...

    def decide(self, estimate: Estimate) -> str: ...

    @property
    def threshold(self) -> Threshold: ...


@dataclass(frozen=True)
class FailureRate:
    """A statement made of every problem, decided as "fails on at most ``rate`` of problems": per
    seed, ``rows[i][key]`` says whether it held there.

    The estimate is the failure rate with its one-sided 95% bounds
    (:func:`~linnet.claims.statistics.failure_rate`): ``holds`` when the upper bound is at most
    ``rate``, ``does not hold`` when the lower bound exceeds it, ``inconclusive`` in between
    (:func:`~linnet.claims.statistics.decide_failure_rate`). The seeds that failed are in the rows
    (``counterexamples``)."""

    key: str = "holds"
    rate: float = TOLERATED_RATE

    @property
    def threshold(self) -> Threshold:
        return Threshold(self.rate, AT_MOST)

    def estimate(self, rows: Sequence[dict]) -> Estimate:
        return failure_rate(sum(not bool(r[self.key]) for r in rows), len(rows))

    def decide(self, estimate: Estimate) -> str:
        return decide_failure_rate(estimate, self.rate)

    def counterexamples(self, rows: Sequence[dict]) -> list[int]:
        return [int(r["seed"]) for r in rows if not bool(r[self.key])]


@dataclass(frozen=True)
class Median:
    """A typical value: the median of ``rows[i][key]`` over seeds with its bootstrap interval,
    against ``threshold``. A seed whose value is None or NaN (its run never got there) counts as
    ``missing`` (default +inf: "never", the worst case for an AT_MOST threshold)."""

    key: str
    threshold: Threshold
    missing: float = float("inf")

    def values(self, rows: Sequence[dict]) -> np.ndarray:
        raw = [r[self.key] for r in rows]
        return np.array([self.missing if v is None or (isinstance(v, float) and np.isnan(v)) else v
                         for v in raw], dtype=float)

    def estimate(self, rows: Sequence[dict]) -> Estimate:
        return median(self.values(rows))

    def decide(self, estimate: Estimate) -> str:
        return decide(estimate, self.threshold)


@dataclass(frozen=True)
class Paired:
    """A statistic across several figures of the same seeds (a fitted slope across depths, a
    ratio between two widths): ``statistic(*arrays)`` with one array per key in ``keys`` (element i
    of each is seed i), its bootstrap interval resampling seeds together (``paired``), against
    ``threshold``. A None or NaN value counts as ``missing``. ``statistic`` takes an ``axis``
    keyword and reduces along it (:func:`~linnet.claims.statistics.bootstrap`'s ``vectorized``)."""

    keys: tuple[str, ...]
    statistic: Callable[..., float]
    threshold: Threshold
    missing: float = float("inf")

    def estimate(self, rows: Sequence[dict]) -> Estimate:
        groups = [Median(k, self.threshold, self.missing).values(rows) for k in self.keys]
        return bootstrap(groups, self.statistic, paired=True, vectorized=True)

    def decide(self, estimate: Estimate) -> str:
        return decide(estimate, self.threshold)


@dataclass(frozen=True)
class Population:
    """A claim about a population of problems: how to measure one seed and how to decide.

    ``measure(seeds)`` returns one plain dict per seed, in order; ``summary`` decides
    (:class:`FailureRate`, :class:`Median` or a claim's own); ``statement`` is what is claimed, in
    words, with its threshold; ``held_out`` is how many seeds of the held-out block it is verified
    on; ``chunk`` how many seeds go in one task."""

    measure: Callable[[Sequence[int]], list[dict]]
    summary: Summary
    statement: str
    held_out: int = 100
    chunk: int = CHUNK


@dataclass(frozen=True)
class Verdict:
    """A claim decided on a block of seeds: ``verdict`` (holds, does not hold, inconclusive), the
    estimate with its interval, the threshold, the seeds and the per-seed figures (``rows``)."""

    id: str
    statement: str
    verdict: str
    estimate: Estimate
    threshold: Threshold
    seeds: tuple[int, ...]
    rows: tuple = field(default=(), repr=False)
    #: the seeds where a claim made of every problem failed (FailureRate summaries)
    counterexamples: tuple[int, ...] = ()

    @property
    def seed_range(self) -> str:
        """The seeds as ``A-B`` when they are consecutive, else as a list."""
        return seed_text(self.seeds)

    def to_dict(self, rows: bool = False) -> dict:
        out = {"id": self.id, "verdict": self.verdict, "estimate": self.estimate.value,
               "interval": [self.estimate.low, self.estimate.high], "threshold": str(self.threshold),
               "seeds": len(self.seeds), "seed_range": self.seed_range, "method": self.estimate.method,
               "statement": self.statement, "counterexamples": list(self.counterexamples)}
        if rows:
            out["rows"] = list(self.rows)
        return plain(out)


def seed_text(seeds: Sequence[int]) -> str:
    """``"1000-1099"`` for consecutive seeds, ``"0, 3, 7"`` otherwise.

    >>> seed_text(range(1000, 1100)), seed_text([0, 3, 7])
    ('1000-1099', '0, 3, 7')
    """
    seeds = list(seeds)
    if len(seeds) > 1 and seeds == list(range(seeds[0], seeds[-1] + 1)):
        return f"{seeds[0]}-{seeds[-1]}"
    return ", ".join(map(str, seeds))


def chunks(seeds: Sequence[int], size: int) -> list[tuple[int, ...]]:
    """``seeds`` in consecutive chunks of at most ``size``."""
    seeds = tuple(seeds)
    return [seeds[i:i + size] for i in range(0, len(seeds), max(1, size))]


def verify(claim_id: str, population: Population, seeds: Iterable[int], map=map) -> Verdict:
    """Measure ``population`` on ``seeds`` (chunks through ``map``) and decide it."""
    seeds = tuple(int(s) for s in seeds)
    if not seeds:
        raise ValueError("verify needs at least one seed")
    rows = [dict(row, seed=s) for chunk, out in zip(chunks(seeds, population.chunk),
                                                    map(population.measure, chunks(seeds, population.chunk)),
                                                    strict=True)
            for s, row in zip(chunk, out, strict=True)]
    return decide_rows(claim_id, population, rows)


def decide_rows(claim_id: str, population: Population, rows: Sequence[dict]) -> Verdict:
    """The verdict on per-seed figures already measured (each row has its ``seed``)."""
    return decide_summary(claim_id, population.statement, population.summary, rows)


def decide_summary(claim_id: str, statement: str, summary: Summary, rows: Sequence[dict]) -> Verdict:
    """The verdict of ``statement``, decided by ``summary`` on per-seed figures (each row has its
    ``seed``): for a claim measured by other means than a :class:`Population` (the report card's)."""
    estimate = summary.estimate(rows)
    counter = getattr(summary, "counterexamples", None)
    return Verdict(claim_id, statement, summary.decide(estimate), estimate, summary.threshold,
                   tuple(int(r["seed"]) for r in rows), tuple(plain(dict(r)) for r in rows),
                   tuple(counter(rows)) if counter else ())


def _toy(seeds: Sequence[int]) -> list[dict]:
    """A toy measure for the examples: value seed / 1000 (small, below 0.5 up to seed 499)."""
    return [{"value": s / 1000, "small": s < 500} for s in seeds]
