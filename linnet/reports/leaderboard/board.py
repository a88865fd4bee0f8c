"""The leaderboard: every entrant tuned by the report card's one protocol on every setting of the
family, run on held-out seeds, and ranked by the steps it takes to relative 1e-6, 1e-12 and 1e-24.

:func:`leaderboard` runs it in two passes of the sweep engine (batched where an optimizer is
batchable, on any executor of :mod:`linnet.sweeps.executors`, with progress bars):

1. tuning (:func:`linnet.sweeps.tuning.tune_many`, the card's protocol): each entrant's ``lr`` on
   every setting of :data:`linnet.reports.leaderboard.family.FAMILY` at its budget (3000 steps), on
   the development seeds 0-19; an entrant without ``lr`` runs as entered;
2. the held-out runs: every setting at its tuned step on the held-out seeds (default 1000-1019),
   30000 steps each, stopped at relative 1e-24, recording the first step at 1e-6, 1e-12 and 1e-24.

Then, per entrant, pooled over the family's problems (setting x seed) and per setting: the median
number of steps to each target with its 95% bootstrap interval (:func:`linnet.claims.statistics.median`),
a run that never reaches the target counting as +inf ("never"), and how many runs reached it; and the
performance profile (Dolan & More 2002) of the cost to relative 1e-6 over all the family's problems,
in steps and in seconds (:func:`linnet.reports.card.card.cost_table`, the card's): rho(1), the
fraction of problems on which the entrant is the cheapest, and rho(inf), the fraction it solves,
each with its Clopper-Pearson interval.

The entrants are ranked by their pooled median steps to 1e-6, then 1e-12, then 1e-24 (fewer first;
"never" last), a tie broken by more runs reaching the target, then by name.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from linnet.claims.population import seed_text
from linnet.claims.seeds import DEVELOPMENT
from linnet.claims.statistics import Estimate, median
from linnet.core.errors import LinnetError
from linnet.reports.card.card import PROFILE_TARGET, Standing, capabilities, cost_table, first_step, standings_of
from linnet.reports.leaderboard.entrants import Absent, cannot_run, entrants
from linnet.reports.leaderboard.family import FAMILY, HELD_OUT_SEEDS, STEPS, TARGETS, describe, held_out_setting
from linnet.runs.record import plain
from linnet.sweeps.driver import run_rows
from linnet.sweeps.executors import InProcess
from linnet.sweeps.tuning import LR_GRID, Setting, Tuned, tune_many

#: the costs of the performance profile
METRICS = ("steps", "seconds")


@dataclass(frozen=True)
class Reach:
    """Steps to relative ``target`` over ``runs`` runs: the median with its 95% bootstrap interval
    (+inf where the median run never reached it) and how many ``reached`` it."""

    target: float
    steps: Estimate
    reached: int
    runs: int

    def to_dict(self) -> dict:
        """JSON: ``median`` and ``interval`` are null where infinite (never reached)."""
        return plain({"target": self.target, "median": self.steps.value, "interval": [self.steps.low, self.steps.high],
                      "reached": self.reached, "runs": self.runs})


def reach(steps: Sequence[int | None], target: float) -> Reach:
    """:class:`Reach` of per-run first steps at ``target`` (None: never reached, counted as +inf)."""
    values = np.array([np.inf if k is None else float(k) for k in steps], dtype=float)
    if not values.size:
        nan = float("nan")
        return Reach(target, Estimate(nan, nan, nan, 0, "no run"), 0, 0)
    return Reach(target, median(values), int(np.isfinite(values).sum()), int(values.size))


@dataclass(frozen=True)
class SettingResult:
    """One entrant on one setting: the tuning's outcome, the held-out runs' counts and
    :class:`Reach` per target; ``why`` (and nothing else) where it could not run the setting."""

    setting: str
    tuned: Tuned | None = None
    runs: int = 0
    diverged: int = 0
    failed: int = 0
    reached: tuple[Reach, ...] = ()
    why: str = ""
    error: str | None = None  #: the first failed run's message

    def to_dict(self) -> dict:
        if self.tuned is None:
            return {"setting": self.setting, "not_run": self.why}
        t = self.tuned
        return plain({"setting": self.setting, "spec": t.spec, "lr": t.lr, "tuning_scores": list(t.scores),
                      "tuning_diverged": list(t.diverged), "note": t.note, "runs": self.runs,
                      "diverged": self.diverged, "failed": self.failed, "error": self.error,
                      "reached": {f"{r.target:g}": r.to_dict() for r in self.reached}})


@dataclass(frozen=True)
class Entry:
    """One entrant's line: pooled :class:`Reach` per target over every problem of the family (a
    setting it could not run counts as never), its standing in the profile per metric, and each
    setting's :class:`SettingResult`."""

    label: str
    capabilities: dict
    tuned: bool
    pooled: tuple[Reach, ...]
    standings: tuple[Standing, ...]
    settings: tuple[SettingResult, ...]
    seconds: float  #: the seconds of its held-out runs (their share of their batches')

    def rank_key(self) -> tuple:
        key: list = []
        for r in self.pooled:
            value = r.steps.value
            key += [math.inf if math.isnan(value) else value, -r.reached]
        return (*key, self.label)

    def to_dict(self) -> dict:
        return plain({"optimizer": self.label, "capabilities": self.capabilities,
                      "tuned": self.tuned, "reached": {f"{r.target:g}": r.to_dict() for r in self.pooled},
                      "profile": {s.metric: {"best": s.best.to_dict(), "solved": s.solved.to_dict()}
                                  for s in self.standings},
                      "seconds": self.seconds, "settings": [s.to_dict() for s in self.settings]})


@dataclass(frozen=True)
class Leaderboard:
    """The leaderboard: the entries, best first; who is absent and why; the protocol's choices."""

    entries: tuple[Entry, ...]
    absent: tuple[Absent, ...]
    settings: tuple[Setting, ...]
    development: tuple[int, ...]
    held_out: tuple[int, ...]
    grid: tuple[float, ...]
    steps: int
    seconds: float
    workers: int = 1  #: the executor's workers (processes) that ran it
    #: {metric: the profile's cost table}, one row per problem (setting, seed), one column per entrant
    costs: dict = field(default_factory=dict, repr=False)
    #: the held-out rows, each with its entrant (``entrant``) and setting (``setting``)
    rows: tuple = field(default=(), repr=False)

    @property
    def problems(self) -> int:
        return len(self.settings) * len(self.held_out)

    def to_dict(self) -> dict:
        return plain({
            "protocol": "the report card's (linnet.sweeps.tuning): lr tuned per setting over the grid on the "
                        "development seeds, lowest median relative loss after the setting's budget among the rates "
                        "that diverge on no development seed; then held-out runs at the tuned lr",
            "development_seeds": seed_text(self.development), "held_out_seeds": seed_text(self.held_out),
            "grid": list(self.grid), "steps": self.steps, "targets": list(TARGETS),
            "family": [describe(s) for s in self.settings], "problems": self.problems,
            "profile": {"target": PROFILE_TARGET, "metrics": list(METRICS)},
            "optimizers": [e.to_dict() for e in self.entries],
            "not_entered": [a.to_dict() for a in self.absent],
            "seconds": self.seconds, "workers": self.workers})


def _row_entrant(row: dict) -> str:
    return row["entrant"]


def _row_problem(row: dict) -> tuple[str, int]:
    return row["setting"], int(row["seed"])


def leaderboard(specs: Sequence | None = None, *, settings: Sequence[Setting] = FAMILY,
                held_out: Sequence[int] = HELD_OUT_SEEDS, development: Sequence[int] = DEVELOPMENT,
                grid: Sequence[float] = LR_GRID, steps: int = STEPS, executor=None,
                progress: bool = False) -> Leaderboard:
    """The leaderboard of ``specs`` (spec strings or optimizers; default: every registered optimizer,
    :func:`linnet.reports.leaderboard.entrants.entrants`) on ``settings``.

    Raises:
        LinnetError: a bad spec, an entrant named twice, no seeds, held-out seeds that overlap the
            development ones, or a non-positive budget.
    """
    start = time.perf_counter()
    entered, absent = entrants(specs)
    held_out, development = tuple(int(s) for s in held_out), tuple(int(s) for s in development)
    settings = tuple({s.name: s for s in settings}.values())
    if not held_out or not development or not settings:
        raise LinnetError("a leaderboard needs settings, development seeds and held-out seeds")
    if set(held_out) & set(development):
        raise LinnetError(f"the held-out seeds {seed_text(held_out)} must not overlap the development seeds "
                          f"{seed_text(development)}, which tune the step size")
    if not isinstance(steps, int) or steps < 1:
        raise LinnetError(f"the held-out budget must be a positive number of steps, got {steps!r}")
    executor = executor or InProcess()

    runnable = [(e, s) for e in entered for s in settings if cannot_run(e, s) is None]
    tuned = tune_many([(e.optimizer, s) for e, s in runnable], grid=grid, seeds=development, executor=executor,
                      progress=progress)
    members, owners = [], []
    for (e, s), t in zip(runnable, tuned, strict=True):
        for m in held_out_setting(s, steps).members(t.spec, held_out):
            members.append(m)
            owners.append((e.label, s.name))
    rows, _ = run_rows(members, executor=executor, progress=progress, desc="held-out")
    rows = [{**row, "entrant": label, "setting": name} for (label, name), row in zip(owners, rows, strict=True)]

    problems = [(s.name, seed) for s in settings for seed in held_out]
    labels = [e.label for e in entered]
    costs = {metric: cost_table(rows, labels, problems, metric, solver_of=_row_entrant, problem_of=_row_problem)
             for metric in METRICS}
    standing = {(s.spec, s.metric): s for metric in METRICS for s in standings_of(costs[metric], metric)}
    by_owner: dict[tuple[str, str], list[dict]] = {}
    for row in rows:
        by_owner.setdefault((row["entrant"], row["setting"]), []).append(row)
    tuning = {(e.label, s.name): t for (e, s), t in zip(runnable, tuned, strict=True)}

    entries = []
    for e in entered:
        per_setting, pooled = [], {t: [] for t in TARGETS}
        for s in settings:
            why = cannot_run(e, s)
            if why is not None:
                per_setting.append(SettingResult(s.name, why=why))
                for t in TARGETS:
                    pooled[t] += [None] * len(held_out)
                continue
            got = by_owner[(e.label, s.name)]
            firsts = {t: [first_step(r, t) for r in got] for t in TARGETS}
            for t in TARGETS:
                pooled[t] += firsts[t]
            per_setting.append(SettingResult(
                s.name, tuning[(e.label, s.name)], len(got), sum(bool(r.get("diverged")) for r in got),
                sum(r.get("error") is not None for r in got), tuple(reach(firsts[t], t) for t in TARGETS),
                error=next((r["error"] for r in got if r.get("error") is not None), None)))
        mine = [r for s in settings for r in by_owner.get((e.label, s.name), [])]
        seconds = float(sum(r["seconds"] or 0.0 for r in mine))
        entries.append(Entry(e.label, capabilities(e.optimizer), e.tuned,
                             tuple(reach(pooled[t], t) for t in TARGETS),
                             tuple(standing[(e.label, metric)] for metric in METRICS), tuple(per_setting),
                             round(seconds, 3)))
    entries.sort(key=Entry.rank_key)
    costs = {metric: table[[e.label for e in entries]] for metric, table in costs.items()}  # best first
    return Leaderboard(tuple(entries), absent, settings, development, held_out, tuple(grid), steps,
                       round(time.perf_counter() - start, 3), executor.workers, costs, tuple(rows))
