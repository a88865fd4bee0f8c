"""The report card of any optimizer: every question of :mod:`linnet.reports.card.questions` asked of
it, on held-out seeds, after one tuning protocol, and where it stands against the built-ins.

:func:`report_card` runs it in four passes of the sweep engine (batched where the optimizer is
batchable, on any executor of :mod:`linnet.sweeps.executors`, with progress bars):

1. tuning (:func:`linnet.sweeps.tuning.tune_many`): the optimizer's step size on every tuned setting,
   and each reference built-in's on the post's problem, on the development seeds 0-19;
2. the held-out runs: every setting at its tuned step on the held-out seeds (default 1000-1099),
   and the references on the post's problem for 30000 steps;
3. the mode question's runs (one by one: it reads every step's layers), on the first
   :data:`linnet.reports.card.questions.MODES_SEEDS` held-out seeds;
4. the verdicts (:func:`linnet.claims.population.decide_summary`) and the performance profile
   against the references (Dolan & More 2002; :func:`linnet.reports.figures.sweep.profile_curves`),
   in steps and in seconds to relative 1e-6.

:func:`text` renders a :class:`Card` as the claims verdict's lines (:func:`linnet.reports.claims.line`)
and two tables; :meth:`Card.to_dict` is its JSON.
"""

from __future__ import annotations

import functools
import math
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from linnet.claims.population import Verdict, chunks, decide_summary, seed_text
from linnet.claims.seeds import DEVELOPMENT, HELD_OUT
from linnet.claims.statistics import INCONCLUSIVE, Estimate, median, proportion
from linnet.core.errors import LinnetError
from linnet.core.text import g
from linnet.optimizers.base import runs_on
from linnet.optimizers.spec import as_optimizer
from linnet.optimizers.stopping import TARGET_REACHED
from linnet.reports.card.questions import (
    BALANCED,
    MODES,
    MODES_QUESTION,
    MODES_SEEDS,
    POST,
    QUESTIONS,
    REACH,
    REACH_TARGETS,
    TUNED,
    depth_of,
    learning_times,
    relative,
)
from linnet.reports.claims import line
from linnet.runs.record import plain
from linnet.runs.result import reaches
from linnet.sweeps.driver import run_rows
from linnet.sweeps.executors import InProcess, ordered_map
from linnet.sweeps.grid import target_column
from linnet.sweeps.tuning import LR_GRID, Tuned, tunable, tune_many

#: the built-ins the optimizer is profiled against, each tuned by the same protocol on the post's
#: problem (the spec's lr is replaced by the tuned one)
REFERENCES = ("gd[lr=1e-05]", "momentum[lr=1e-06,momentum=0.9]", "adam[lr=0.01]", "rmsprop[lr=0.001]", "lm")
#: the relative loss the performance profile measures the cost to (the post's plateau level)
PROFILE_TARGET = REACH_TARGETS[0]


@dataclass(frozen=True)
class SettingSummary:
    """One setting on the held-out seeds: the spec that ran, how many diverged, the median relative
    loss at the budget with its 95% interval (a diverged run counts as +inf), and per target of
    :data:`REACH_TARGETS` the median first step among the runs that reached it and how many did."""

    setting: str
    spec: str
    steps: int
    seeds: int
    diverged: int
    relative_loss: Estimate
    reached: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        return plain({"setting": self.setting, "spec": self.spec, "steps": self.steps, "seeds": self.seeds,
                      "diverged": self.diverged, "relative_loss": self.relative_loss.to_dict(),
                      "reached": {f"{t:g}": v for t, v in self.reached.items()}})


@dataclass(frozen=True)
class Standing:
    """One optimizer in the performance profile: the fraction of problems it solves best (within a
    factor 1 of the best, rho(1)) and at all (rho(inf)), each with its Clopper-Pearson interval, in
    ``metric`` (steps or seconds to :data:`PROFILE_TARGET`)."""

    spec: str
    metric: str
    best: Estimate
    solved: Estimate

    def to_dict(self) -> dict:
        return {"spec": self.spec, "metric": self.metric, "best": self.best.to_dict(), "solved": self.solved.to_dict()}


@dataclass(frozen=True)
class Card:
    """A report card: the optimizer, the protocol's choices, the per-setting summaries, the verdicts,
    the questions not asked (with why) and the standing against the references."""

    spec: str  #: the optimizer's spec, without ``lr`` where it is tuned
    capabilities: dict
    development: tuple[int, ...]
    held_out: tuple[int, ...]
    grid: tuple[float, ...]
    #: the optimizer's tuning, one per setting it was tuned on, and the references' (on the post's problem)
    tuned: tuple[Tuned, ...]
    references: tuple[Tuned, ...]
    settings: tuple[SettingSummary, ...]
    verdicts: tuple[Verdict, ...]
    not_asked: tuple[tuple[str, str], ...]
    standings: tuple[Standing, ...]
    seconds: float
    #: the held-out rows of the post's problem over 30000 steps, the optimizer's and the references'
    #: (the performance profile's data, for the figures); and the mode question's per-seed figures
    reach_rows: tuple = field(default=(), repr=False)
    mode_rows: tuple = field(default=(), repr=False)

    #: the relative loss the performance profile measures the cost to
    profile_target: float = PROFILE_TARGET

    def to_dict(self) -> dict:
        return plain({"optimizer": self.spec, "capabilities": self.capabilities,
                      "development_seeds": seed_text(self.development), "held_out_seeds": seed_text(self.held_out),
                      "grid": list(self.grid), "tuning": [t.to_dict() for t in self.tuned],
                      "references": [t.to_dict() for t in self.references],
                      "settings": [s.to_dict() for s in self.settings],
                      "verdicts": [v.to_dict() for v in self.verdicts],
                      "not_asked": [{"id": i, "why": why} for i, why in self.not_asked],
                      "profile": {"target": PROFILE_TARGET, "steps": REACH.steps,
                                  "standings": [s.to_dict() for s in self.standings]},
                      "seconds": self.seconds})


def untuned_spec(optimizer) -> str:
    """The spec of ``optimizer`` without its step size where the card tunes it: ``adam``,
    ``nesterov[momentum=0.8]``; the whole spec otherwise."""
    if not tunable(optimizer):
        return optimizer.spec
    text = re.sub(r"(?<=[\[,])lr=[^,\]]*,?", "", optimizer.spec)
    return text.removesuffix("[]").replace(",]", "]")


def capabilities(optimizer) -> dict:
    """The capabilities an optimizer declares (docs/optimizers.md, "Capabilities")."""
    cls = type(optimizer)
    return {"first_order": bool(cls.first_order), "batchable": bool(optimizer.batchable),
            "backends": list(cls.backends), "max_layers": cls.max_layers}


def _empty_verdict(qid: str, statement: str, summary) -> Verdict:
    nan = float("nan")
    return Verdict(qid, statement, INCONCLUSIVE, Estimate(nan, nan, nan, 0, "no finished run"), summary.threshold, ())


def first_step(row: dict, target: float) -> int | None:
    """The first step at which a sweep row's run reached relative ``target``: its steps-to column
    (:data:`linnet.sweeps.grid.ROW_TARGETS`), or, for the member's own stopping target, its steps
    where it stopped there. A run stops at the first step that reaches its target, or earlier, so
    one that stopped for another reason at a loss that reaches it (closed-form and ALS converge in
    one step, below 1e-24: status converged) reached it at its last step. None where not reached."""
    if target_column(target) in row:
        return row[target_column(target)]
    if row.get("target") != target or row.get("error") or row.get("diverged"):
        return None
    final = row.get("relative_loss")
    stopped_there = row.get("status") == TARGET_REACHED or (final is not None and bool(reaches(final, target)))
    return row["steps"] if stopped_there else None


def _summary(setting, spec: str, rows: Sequence[dict]) -> SettingSummary:
    rel = [relative(r) for r in rows]
    values = np.array([np.inf if v is None else v for v in rel], dtype=float)
    reached = {}
    if setting is REACH:
        for t in REACH_TARGETS:
            steps = [k for k in (first_step(r, t) for r in rows) if k is not None]
            reached[t] = {"median_steps": float(np.median(steps)) if steps else None, "reached": len(steps)}
    return SettingSummary(setting.name, spec, setting.steps, len(rows), sum(v is None for v in rel),
                          median(values), reached)


def _by_optimizer(row: dict) -> str:
    return row["optimizer"]


def _by_seed(row: dict) -> int:
    return int(row["seed"])


def cost_table(rows: Sequence[dict], solvers: Sequence[str], problems: Sequence, metric: str, *,
               solver_of: Callable[[dict], str] = _by_optimizer, problem_of: Callable[[dict], object] = _by_seed,
               target: float = PROFILE_TARGET):
    """The cost table of a performance profile: a DataFrame, one row per problem of ``problems``, one
    column per solver of ``solvers``, the cost of each row (its problem ``problem_of(row)``, by
    default its seed; its solver ``solver_of(row)``, by default its optimizer's spec) to relative
    ``target``: ``metric`` "steps" (its first step there) or "seconds" (the run's seconds, its share
    of its batch's, scaled to those steps); +inf where not reached or not run. Rows of other solvers
    or problems are left out."""
    import pandas as pd

    solvers, problems = list(dict.fromkeys(solvers)), list(dict.fromkeys(problems))
    column, row = {s: j for j, s in enumerate(solvers)}, {p: i for i, p in enumerate(problems)}
    cost = np.full((len(problems), len(solvers)), np.inf)
    for r in rows:
        k = first_step(r, target)
        i, j = row.get(problem_of(r)), column.get(solver_of(r))
        if k is not None and i is not None and j is not None:
            cost[i, j] = k if metric == "steps" else r["seconds"] * k / max(r["steps"], 1)
    return pd.DataFrame(cost, index=pd.Index(problems, tupleize_cols=False), columns=solvers)


def standings_of(costs, metric: str) -> tuple[Standing, ...]:
    """rho(1) and rho(inf) of each solver (column) of a cost table of :func:`cost_table`, each
    with its Clopper-Pearson interval over the table's problems (a problem no solver solves counts
    against all)."""
    from linnet.reports.figures.sweep import profile_curves

    _, curves = profile_curves(costs, taus=np.array([1.0]))
    n = len(costs)
    out = []
    for solver in costs.columns:
        solved = int(np.isfinite(costs[solver].to_numpy(dtype=float)).sum())
        out.append(Standing(solver, metric, proportion(int(round(curves[str(solver)][0] * n)), n),
                            proportion(solved, n)))
    return tuple(out)


def standings(rows: Sequence[dict], specs: Sequence[str], seeds: Sequence[int]) -> tuple[Standing, ...]:
    """rho(1) and rho(inf) of each spec over the problems of ``seeds`` (a problem no spec solves
    counts against all), in steps and in seconds to :data:`PROFILE_TARGET`: the seconds are the run's
    (its share of its batch's) scaled to the steps to the target."""
    return tuple(s for metric in ("steps", "seconds")
                 for s in standings_of(cost_table(rows, specs, seeds, metric), metric))


def report_card(optimizer, *, held_out: Sequence[int] = HELD_OUT, development: Sequence[int] = DEVELOPMENT,
                grid: Sequence[float] = LR_GRID, references: Sequence[str] = REFERENCES, executor=None,
                progress: bool = False) -> Card:
    """The report card of ``optimizer`` (a spec string or an instance; its ``lr``, if it has one, is
    replaced by the tuned one on each setting).

    Raises:
        LinnetError: an optimizer the numpy backend does not run, or no held-out seeds.
    """
    start = time.perf_counter()
    optimizer = as_optimizer(optimizer)
    refs = [as_optimizer(r) for r in references]  # a bad reference spec is refused before any run
    if "numpy" not in type(optimizer).backends:
        raise LinnetError(f"linnet check runs on the numpy backend; {optimizer.name} runs on "
                          f"{', '.join(type(optimizer).backends)} (numpy runs {', '.join(runs_on('numpy'))})")
    held_out, development = tuple(int(s) for s in held_out), tuple(int(s) for s in development)
    if not held_out or not development:
        raise LinnetError("a report card needs development and held-out seeds")
    executor = executor or InProcess()
    fits = [s for s in TUNED if optimizer.max_layers is None or depth_of(s) <= optimizer.max_layers]

    tuned = tune_many([(optimizer, s) for s in fits] + [(r, POST) for r in refs], grid=grid, seeds=development,
                      executor=executor, progress=progress)
    mine = {s.name: t for s, t in zip(fits, tuned)}
    tuned, references = tuned[: len(fits)], tuned[len(fits):]
    ref_specs = [t.spec for t in references]
    spec_of = {name: t.spec for name, t in mine.items()}
    spec_of[BALANCED.name] = spec_of[REACH.name] = spec_of[POST.name]

    swept = [s for s in fits if s is not MODES] + [BALANCED, REACH]
    jobs = [(s, spec_of[s.name]) for s in swept] + [(REACH, spec) for spec in ref_specs]
    members, owners, seen = [], [], set()
    for setting, spec in jobs:
        for m in setting.members(spec, held_out):
            if m["id"] not in seen:  # the optimizer may be one of the references
                seen.add(m["id"])
                members.append(m)
                owners.append(setting.name)
    rows, _ = run_rows(members, executor=executor, progress=progress, desc="held-out")
    by_setting: dict[str, dict[str, dict[int, dict]]] = {}
    for owner, row in zip(owners, rows, strict=True):
        by_setting.setdefault(owner, {}).setdefault(row["optimizer"], {})[int(row["seed"])] = row

    def rows_of(setting):
        got = by_setting[setting.name][spec_of[setting.name]]
        return [got[s] for s in held_out]

    summaries = tuple(_summary(s, spec_of[s.name], rows_of(s)) for s in swept)
    verdicts, not_asked = [], []
    for q in QUESTIONS:
        if not q.applies(optimizer) or any(s.name not in spec_of for s in q.settings):
            not_asked.append((q.id, f"{optimizer.name} handles at most {optimizer.max_layers} layers"))
            continue
        per_seed = []
        for seed in held_out:
            figures = q.per_seed({s.name: by_setting[s.name][spec_of[s.name]][seed] for s in q.settings})
            if figures is not None:
                per_seed.append({**figures, "seed": seed})
        verdicts.append(decide_summary(q.id, q.statement, q.summary, per_seed) if per_seed
                        else _empty_verdict(q.id, q.statement, q.summary))

    mode_rows: list[dict] = []
    if MODES.name in spec_of:
        seeds = held_out[:MODES_SEEDS]
        measured = ordered_map(executor, functools.partial(learning_times, spec_of[MODES.name]), chunks(seeds, 5))
        mode_rows = [r for part in measured for r in part]
        verdicts.append(decide_summary(MODES_QUESTION.id, MODES_QUESTION.statement, MODES_QUESTION.summary,
                                       mode_rows))

    reach_specs = [spec_of[REACH.name], *ref_specs]
    reach_rows = [r for spec in dict.fromkeys(reach_specs) for r in by_setting[REACH.name][spec].values()]
    ranked = standings(reach_rows, reach_specs, held_out)
    return Card(untuned_spec(optimizer), capabilities(optimizer), development, held_out, tuple(grid), tuple(tuned),
                tuple(references), summaries, tuple(verdicts), tuple(not_asked), ranked,
                round(time.perf_counter() - start, 3), tuple(reach_rows), tuple(mode_rows))


# -- text --------------------------------------------------------------------------------------------

def _interval(e: Estimate) -> str:
    return f"{g(e.value)} [{g(e.low)}, {g(e.high)}]" if not math.isnan(e.value) else "—"


def tuning_text(card: Card) -> str:
    """The protocol in one paragraph, with the grid and the development seeds."""
    if not any(t.grid for t in card.tuned):
        return (f"tuning: none for {card.spec} (no lr); the references' lr from {len(card.grid)} rates "
                f"{g(card.grid[0])} .. {g(card.grid[-1])} on development seeds {seed_text(card.development)} "
                "(linnet.sweeps.tuning)")
    return (f"tuning: lr from {len(card.grid)} rates {g(card.grid[0])} .. {g(card.grid[-1])} on development seeds "
            f"{seed_text(card.development)}; per setting, the lowest median relative loss after the budget among "
            "the rates that diverge on no development seed (linnet.sweeps.tuning)")


def text(card: Card) -> str:
    """The card as the claims verdict's lines and two tables, for a terminal."""
    caps = card.capabilities
    kind = ", ".join(["first order" if caps["first_order"] else "second order",
                      "batchable" if caps["batchable"] else "one run at a time",
                      "any depth" if caps["max_layers"] is None else f"at most {caps['max_layers']} layers"])
    out = [f"linnet check {card.spec}: {kind}; held-out seeds {seed_text(card.held_out)} "
           f"(the mode question: the first {min(MODES_SEEDS, len(card.held_out))}); {g(card.seconds)} s",
           tuning_text(card), ""]
    head = f"{'setting':22s} {'spec':34s} {'rel. loss [95%]':34s} {'diverged':>8s}"
    out.append(head + "".join(f"  {'to ' + g(t):>14s}" for t in REACH_TARGETS))
    for s in card.settings:
        cells = "".join(f"  {_reached(s.reached[t], s.seeds):>14s}" for t in REACH_TARGETS) if s.reached else ""
        out.append(f"{s.setting:22s} {s.spec:34s} {_interval(s.relative_loss):34s} {s.diverged:>4d}/{s.seeds:<3d}"
                   + cells)
    out += ["", "verdicts (what each statement says of this optimizer):"]
    out += [line(v) for v in card.verdicts]
    out += [f"{qid:22s} not asked: {why}" for qid, why in card.not_asked]
    out += ["", f"against the built-ins (performance profile, cost to relative {g(PROFILE_TARGET)} within "
                f"{REACH.steps:,} steps, {len(card.held_out)} problems; best = rho(1), solved = rho(inf)):"]
    for metric in ("steps", "seconds"):
        for s in (s for s in card.standings if s.metric == metric):
            out.append(f"  {metric:8s} {s.spec:34s} best {_interval(s.best):26s} solved {_interval(s.solved)}")
    return "\n".join(out)


def _reached(cell: dict, n: int) -> str:
    return f"{g(cell['median_steps'])} ({cell['reached']}/{n})" if cell["reached"] else f"— (0/{n})"


def markdown(data: dict) -> str:
    """The verdicts of a card's JSON (:meth:`Card.to_dict`) as a Markdown table, then the tuned step
    on the post's problem and the standing in steps: the README's and docs' report-card table."""
    rows = ["| question | verdict | estimate [95% interval] | threshold | seeds |", "|---|---|---|---|---|"]
    for v in data["verdicts"]:
        low, high = v["interval"]
        rows.append(f"| `{v['id']}` | **{v['verdict']}** | {g(v['estimate'])} [{g(low)}, {g(high)}] "
                    f"| {v['threshold']} | {v['seeds']} ({v['seed_range']}) |")
    rows += [f"| `{n['id']}` | not asked | | | {n['why']} |" for n in data["not_asked"]]
    post = data["settings"][0]
    steps = [s for s in data["profile"]["standings"] if s["metric"] == "steps"]
    standing = "; ".join(f"`{s['spec']}` cheapest on {s['best']['estimate']:.0%}, solves {s['solved']['estimate']:.0%}"
                         for s in steps)
    return "\n".join(rows) + (
        f"\n\nTuned on the post's problem: `{post['spec']}` (relative loss after {post['steps']:,} steps: median "
        f"{g(post['relative_loss']['estimate'])}). Performance profile, steps to relative "
        f"{g(data['profile']['target'])} within {data['profile']['steps']:,} steps on the held-out problems: "
        f"{standing}.")
