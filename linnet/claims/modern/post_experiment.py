"""The post's experiment asked of every new optimizer (modern.plateau; the table of docs/modern.md).

The post ran GD and Adam for 3000 steps on its problem and saw them stop far above machine
precision (claim post.plateau). linnet asks the same of adamw, lion, adafactor, muon,
schedule-free-adamw, shampoo and soap, each at the step size the report card's protocol chose for it
on the post's problem (:mod:`linnet.sweeps.tuning`: 17 rates from 1e-8 to 1 on the development
seeds 0-19, the lowest median relative loss after 3000 steps among the rates that never diverge;
:data:`TUNED_LR`, recomputed by benchmarks/test_bench_modern_claims.py), and reports per seed:

- the relative loss after the post's 3000 steps (a plateau: above 1e-6, the post's claim's level);
- the steps to relative 1e-6, 1e-12 and 1e-24 within ten times the budget (30000), at the same rate;
- why not, where it stops short: the floor of a constant step. At a constant rate an adaptive or
  orthogonalised step keeps a fixed size near the minimum, so the loss settles at a level that
  falls with the rate. The floor is the median relative loss over the last FLOOR_WINDOW of
  FLOOR_STEPS steps, counted only where the run has settled (that median within FLAT of the
  window's before it; a run still descending has no floor yet). It is measured at the tuned rate
  and at 10^-0.5 and 10^-1 of it, and its exponent p in floor ~ lr^p is the least-squares slope in
  log-log over the rates with a floor above 1e-24 (at least two).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from linnet.claims.claim import Claim
from linnet.claims.post.constants import PLATEAU_RELATIVE_LOSS, POST_STEPS
from linnet.problems.families import post_problem
from linnet.runs.batched import run_batched

#: the new optimizers and the rate the report card's protocol chose on the post's problem (3000 steps,
#: development seeds 0-19). adafactor and shampoo chose the grid's largest rate, 1
TUNED_LR = {"adamw": 0.316228, "lion": 0.001, "adafactor": 1.0, "muon": 0.01, "schedule-free-adamw": 0.316228,
            "shampoo": 1.0, "soap": 0.00316228}
#: the steps of the longer run, and the relative losses whose first step it records
REACH_STEPS = 10 * POST_STEPS
REACH_TARGETS = (1e-6, 1e-12, 1e-24)
#: the floor's rates, as fractions of the tuned rate, and its window
FLOOR_FRACTIONS = (1.0, 10**-0.5, 0.1)
FLOOR_STEPS = REACH_STEPS
FLOOR_WINDOW = 3000
#: a run has settled when the median of its last window is within this factor of the window's before
FLAT = 2.0
#: relative losses at or below this are machine precision: no floor (linnet.sweeps.tuning.FLOOR)
MACHINE_FLOOR = 1e-24


def tuned_spec(name: str, fraction: float = 1.0) -> str:
    """``name`` at ``fraction`` of its tuned rate, as a spec."""
    return f"{name}[lr={TUNED_LR[name] * fraction!r}]"


def settled_floor(history: np.ndarray) -> float | None:
    """The median of the last FLOOR_WINDOW values of a relative-loss history where it is within FLAT
    of the median of the FLOOR_WINDOW before them; None where the run is still descending (or
    rising), has too few finite steps, or diverged."""
    if history.size < 2 * FLOOR_WINDOW or not np.all(np.isfinite(history[-2 * FLOOR_WINDOW:])):
        return None
    last, before = np.median(history[-FLOOR_WINDOW:]), np.median(history[-2 * FLOOR_WINDOW:-FLOOR_WINDOW])
    return float(last) if max(last, before) <= FLAT * min(last, before) else None


def floor_exponent(lrs: Sequence[float], floors: Sequence[float | None]) -> float | None:
    """The slope p of log(floor) against log(lr) over the rates with a floor above MACHINE_FLOOR
    (None where fewer than two have one)."""
    pts = [(np.log(lr), np.log(f)) for lr, f in zip(lrs, floors, strict=True)
           if f is not None and np.isfinite(f) and f > MACHINE_FLOOR]
    if len(pts) < 2:
        return None
    x, y = np.array(pts).T
    return float(np.polyfit(x, y, 1)[0])


def measure_optimizer(name: str, seeds: Sequence[int]) -> list[dict]:
    """Per seed, ``name``'s figures of the post's experiment (keys prefixed by ``name``): relative
    loss after 3000 steps (None: diverged), steps to each REACH_TARGETS (None: not reached), the
    floor at each FLOOR_FRACTIONS of the tuned rate and the fitted exponent."""
    problems = [post_problem(int(s)) for s in seeds]
    spec = tuned_spec(name)
    post = run_batched(problems, spec, POST_STEPS)
    reach = run_batched(problems, spec, REACH_STEPS, target=REACH_TARGETS[-1], targets=REACH_TARGETS)
    floors = []
    for fraction in FLOOR_FRACTIONS:
        r = run_batched(problems, tuned_spec(name, fraction), FLOOR_STEPS, target=MACHINE_FLOOR, history=True)
        per_seed = []
        for i in range(len(problems)):
            h = r.history(i) / r.y_norm2[i]
            per_seed.append(settled_floor(h) if r.steps[i] == FLOOR_STEPS else None)
        floors.append(per_seed)
    lrs = [TUNED_LR[name] * f for f in FLOOR_FRACTIONS]
    out = []
    for i in range(len(problems)):
        row = {f"{name} relative_loss": None if post.diverged[i] else float(post.final_loss[i] / post.y_norm2[i])}
        for t in REACH_TARGETS:
            n = int(reach.steps_to[t][i])
            row[f"{name} steps_to_{t:g}"] = n if n >= 0 else None
        for fraction, per_seed in zip(FLOOR_FRACTIONS, floors, strict=True):
            row[f"{name} floor_{fraction:g}"] = per_seed[i]
        row[f"{name} floor_exponent"] = floor_exponent(lrs, [f[i] for f in floors])
        row[f"{name} plateau"] = bool(row[f"{name} relative_loss"] is not None
                                      and row[f"{name} relative_loss"] > PLATEAU_RELATIVE_LOSS)
        out.append(row)
    return out


def measure_post_experiment(seeds: Sequence[int], names: Sequence[str] = tuple(TUNED_LR)) -> list[dict]:
    """Per seed, every optimizer's figures (:func:`measure_optimizer`), and ``holds``: every one of
    them ends above relative 1e-6 after 3000 steps (the post's plateau)."""
    seeds = list(seeds)
    rows: list[dict] = [{} for _ in seeds]
    for name in names:
        for row, figures in zip(rows, measure_optimizer(name, seeds), strict=True):
            row.update(figures)
    return [dict(row, holds=all(row[f"{n} plateau"] for n in names)) for row in rows]


def check_post_experiment(rows: Sequence[dict], names: Sequence[str] | None = None) -> Claim:
    """Holds when every new optimizer (or each of ``names``) plateaus on every seed."""
    if names is None:
        names = [k[: -len(" plateau")] for k in rows[0] if k.endswith(" plateau")]
    return Claim("modern.plateau", "at the step size the report card's protocol chose, every new optimizer ends "
                 "above relative 1e-6 after 3000 steps on the post's problem (the post's claim 1)",
                 all(r[f"{n} plateau"] for r in rows for n in names),
                 {f"{n} plateaus": sum(r[f"{n} plateau"] for r in rows) for n in names})
