"""The one learning-rate tuning protocol: a log grid, chosen on development seeds, scored on held-out ones.

Every comparison linnet makes between optimizers it did not tune by hand (the report card of
``linnet check``, its performance profile against the built-ins) picks each optimizer's step size
the same way, so that no optimizer is favoured by the care spent on it:

1. the grid is :data:`LR_GRID`, 1e-8 to 1 in half decades (17 rates), the same for every optimizer;
2. on each problem :class:`Setting`, every rate of the grid runs on the DEVELOPMENT seeds
   (:data:`linnet.claims.seeds.DEVELOPMENT`, 0-19) for the setting's step budget, batched through
   the sweep engine (:func:`linnet.sweeps.driver.run_rows`);
3. a rate that diverges on any development seed is out (a step size that is unstable on one problem
   in twenty is not one a user could trust); of the others, the rate with the lowest median relative
   loss after the budget is chosen, the smaller rate on a tie (:func:`choose`). Relative losses below
   :data:`FLOOR` count as FLOOR: below it every rate is at round-off, and round-off should not pick;
4. the chosen rate is then run, unchanged, on held-out seeds, which choose nothing (the caller's).
   Where every rate diverged on a development seed, the smallest rate runs, and the outcome says so.

An optimizer without an ``lr`` hyperparameter (lm, als, ...) is not tuned: its spec runs as given.

    >>> len(LR_GRID), LR_GRID[0], LR_GRID[-1]
    (17, 1e-08, 1.0)
    >>> choose(LR_GRID[:3], [[0.5, 0.5], [0.1, 0.2], [None, 0.01]])   # the third diverged once
    1
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from linnet.claims.seeds import DEVELOPMENT
from linnet.optimizers.spec import as_optimizer
from linnet.runs.experiment import member_id
from linnet.sweeps.driver import run_rows

#: the step sizes every optimizer is tuned over: 10^(k/2) for k = -16 ... 0
LR_GRID = tuple(float(f"{10.0 ** (k / 2):.6g}") for k in range(-16, 1))
#: relative losses at or below this are at round-off in float64 (the post's problems reach 1e-28 to
#: 1e-31 with exact solves; docs/claims.md, post.gauss-newton): they tie
FLOOR = 1e-24


@dataclass(frozen=True)
class Setting:
    """A problem setting: the problem parameters every seed shares, a step budget and a target.

    ``params`` are member keys of :data:`linnet.runs.experiment.MEMBER_KEYS` other than seed and
    optimizer (``{"family": "conditioned", "kappa": 1e6}``); ``target`` stops a run early at that
    relative loss (None: run the whole budget)."""

    name: str
    params: dict = field(hash=False)
    steps: int
    target: float | None = None

    def members(self, spec: str, seeds: Sequence[int]) -> list[dict]:
        """One member per seed: ``spec`` on this setting's problem of that seed."""
        out = []
        for s in seeds:
            m = {**self.params, "seed": int(s), "optimizer": spec, "steps": self.steps, "target": self.target}
            out.append({**m, "id": member_id(m)})
        return out


def tunable(optimizer) -> bool:
    """True where the optimizer has a step size ``lr`` to tune (a dataclass field of that name)."""
    return any(f.name == "lr" for f in dataclasses.fields(optimizer))


def with_lr(optimizer, lr: float) -> str:
    """The spec of ``optimizer`` with step size ``lr``."""
    return dataclasses.replace(optimizer, lr=lr).spec


def floored(relative_loss: float | None) -> float | None:
    """A relative loss with round-off levels merged: max(loss, FLOOR); None stays None (diverged)."""
    return None if relative_loss is None else max(float(relative_loss), FLOOR)


def choose(grid: Sequence[float], losses: Sequence[Sequence[float | None]]) -> int | None:
    """The index of the chosen rate: ``losses[i]`` are rate i's relative losses on the development
    seeds, None where the run diverged. Rates with a divergence are out; of the rest, the lowest
    median of the floored losses, the first (smaller) rate on a tie. None when every rate diverged."""
    best, best_score = None, np.inf
    for i, values in enumerate(losses):
        if any(v is None for v in values):
            continue
        score = float(np.median([floored(v) for v in values]))
        if best is None or score < best_score:
            best, best_score = i, score
    return best


@dataclass(frozen=True)
class Tuned:
    """The outcome of tuning one optimizer on one setting.

    ``spec`` is the chosen configuration: the given spec where there is nothing to tune (``lr`` None),
    the smallest rate of the grid where every rate diverged (``note`` says so); ``scores`` holds, per rate of
    ``grid``, the median floored relative loss on the development seeds (None where the rate
    diverged on one), and ``diverged`` how many seeds diverged."""

    setting: str
    spec: str
    lr: float | None
    grid: tuple[float, ...] = ()
    scores: tuple[float | None, ...] = ()
    diverged: tuple[int, ...] = ()
    seeds: tuple[int, ...] = ()
    note: str = ""

    def to_dict(self) -> dict:
        return {"setting": self.setting, "spec": self.spec, "lr": self.lr, "grid": list(self.grid),
                "scores": list(self.scores), "diverged": list(self.diverged), "seeds": list(self.seeds),
                "note": self.note}


def tune_many(jobs: Sequence[tuple[object, Setting]], *, grid: Sequence[float] = LR_GRID,
              seeds: Sequence[int] = DEVELOPMENT, executor=None, progress: bool = False) -> list[Tuned]:
    """Tune each (optimizer, setting) pair by the protocol above, every run of every pair in one
    pass of the sweep engine (so a pool's workers stay busy); returns one :class:`Tuned` per pair."""
    seeds = tuple(int(s) for s in seeds)
    members, owners = [], []
    for j, (optimizer, setting) in enumerate(jobs):
        optimizer = as_optimizer(optimizer)
        if not tunable(optimizer):
            continue
        for i, lr in enumerate(grid):
            for m in setting.members(with_lr(optimizer, lr), seeds):
                members.append(m)
                owners.append((j, i))
    rows, _ = run_rows(members, executor=executor, progress=progress, desc="tune") if members else ([], [])
    losses: dict[tuple[int, int], list] = {}
    for owner, row in zip(owners, rows, strict=True):
        losses.setdefault(owner, []).append(None if row["diverged"] or row["error"] else row["relative_loss"])
    out = []
    for j, (optimizer, setting) in enumerate(jobs):
        optimizer = as_optimizer(optimizer)
        if not tunable(optimizer):
            out.append(Tuned(setting.name, optimizer.spec, None, note="no lr to tune"))
            continue
        per_rate = [losses[(j, i)] for i in range(len(grid))]
        scores = tuple(None if any(v is None for v in vs) else float(np.median([floored(v) for v in vs]))
                       for vs in per_rate)
        diverged = tuple(sum(v is None for v in vs) for vs in per_rate)
        best = choose(grid, per_rate)
        note = "" if best is not None else "every rate diverged on a development seed; the smallest runs"
        lr = grid[0] if best is None else grid[best]
        out.append(Tuned(setting.name, with_lr(optimizer, lr), lr, tuple(grid), scores, diverged, seeds, note))
    return out
