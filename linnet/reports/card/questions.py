"""The report card's settings and questions: what ``linnet check`` asks of any optimizer.

Each question is a claim of linnet's registry (:mod:`linnet.claims.registry`) asked of the
optimizer under test instead of the built-in it was first made of, or a sensitivity of the same
kind, and is decided like every claim: per-seed figures on held-out seeds, an estimate with its 95%
interval, and holds / does not hold / inconclusive (:mod:`linnet.claims.population`). A verdict says
what the statement says of *this* optimizer: ``post.plateau`` "holds" for GD (it plateaus, as the
post claims) and "does not hold" for LM.

The settings (problem families and budgets, :class:`linnet.sweeps.tuning.Setting`): the post's
problem (depth 2, 10 x 6 x 6, 1000 samples) for the post's 3000 steps and again for ten times that
(:data:`REACH`, steps to relative 1e-6, 1e-12 and 1e-24); the same problems from the balanced
factorisation of the same product; 1e4 samples and the expected loss; the conditioned family at
kappa 1, 1e2, 1e4 and 1e6; depths 3 to 6; hidden width 24 (4 x rank); and the mode-learning problem
of Saxe et al. 2014 (:data:`MODES`). Every setting but the balanced start and the longer budget
(which keep the post's tuned step, so that only the start or the budget differs) has its step size
tuned by :mod:`linnet.sweeps.tuning`.

Losses at round-off are merged at :data:`linnet.sweeps.tuning.FLOOR` (1e-24) before any ratio,
so two runs that both reached machine precision compare as equal.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from linnet.claims.literature.dynamics import mode_learning_times
from linnet.claims.population import FailureRate, Median, Summary
from linnet.claims.post.checks import BALANCED_FACTOR, SAMPLES_FACTOR
from linnet.claims.post.constants import PLATEAU_RELATIVE_LOSS, POST_STEPS
from linnet.claims.statistics import AT_MOST, Threshold
from linnet.problems.families import make_problem
from linnet.sweeps.tuning import Setting, floored

#: the post's experiment: its problem and its 3000 steps
POST = Setting("post", {"family": "post"}, POST_STEPS)
#: the relative losses whose first step the longer run records
REACH_TARGETS = (1e-6, 1e-12, 1e-24)
#: the post's problem for ten times its budget, stopped at relative 1e-24 (the post's tuned step)
REACH = Setting("post, 30000 steps", {"family": "post"}, 10 * POST_STEPS, target=REACH_TARGETS[-1])
#: the post's problem from the balanced factorisation of the same product (the post's tuned step)
BALANCED = Setting("post, balanced start", {"family": "post", "init": "balanced"}, POST_STEPS)
#: more samples: 1e4, and the expected loss (nsamples 0: the infinite sample)
SAMPLES = (Setting("post, 1e4 samples", {"family": "post", "nsamples": 10_000}, POST_STEPS),
           Setting("post, expected loss", {"family": "post", "nsamples": 0}, POST_STEPS))
#: the conditioned family (A = U diag(s) V^T, s log-spaced from 1 to 1/kappa), post's dimensions
KAPPAS = tuple(Setting(f"kappa {k:g}", {"family": "conditioned", "kappa": float(k)}, POST_STEPS)
               for k in (1, 1e2, 1e4, 1e6))
#: the post's problem at depths 3-6 (every hidden width 6 = rank(A))
DEPTHS = tuple(Setting(f"depth {n}", {"family": "post", "depth": n}, POST_STEPS) for n in (3, 4, 5, 6))
#: the post's problem with hidden width 24 = 4 x rank(A)
WIDE = Setting("width 24", {"family": "post", "wdim": 24}, POST_STEPS)
#: Saxe et al. 2014's mode-learning problem: A = U diag(1, 0.5, 0.25) V^T (3 x 3; kappa 4), the
#: expected loss (S = I), a small start (scale 1e-4: linnet.claims.literature.dynamics.SAXE_INIT_SCALE)
MODES = Setting("modes (Saxe)", {"family": "conditioned", "kappa": 4.0, "xdim": 3, "wdim": 3, "ydim": 3,
                                 "nsamples": 0, "init": "small", "init_scale": 1e-4}, POST_STEPS)
#: a change of setting that moves the median loss by at most this many decades is "insensitive"
DECADES = 1.0
#: held-out seeds of the mode question: one run each, one by one (its strengths need every step)
MODES_SEEDS = 20
#: the failure rate the mode question tolerates on its 20 seeds: with no failure, 20 seeds bound the
#: rate below 0.139 (one-sided 95%), so 15%, as the registry's 20-seed claims (docs/claims.md)
MODES_RATE = 0.15


def depth_of(setting: Setting) -> int:
    """The number of layers of a setting's problems."""
    return int(setting.params.get("depth") or 2)


# -- per-seed figures --------------------------------------------------------------------------------

def relative(row: Mapping) -> float | None:
    """A row's relative loss; None where the run diverged or failed."""
    if row.get("error") or row.get("diverged"):
        return None
    return row.get("relative_loss")


def decades_between(a: Mapping, b: Mapping) -> float | None:
    """|log10| of the ratio of two rows' floored relative losses; None where either diverged."""
    x, y = floored(relative(a)), floored(relative(b))
    return None if x is None or y is None else abs(math.log10(x / y))


def learning_times(spec: str, seeds: Sequence[int]) -> list[dict]:
    """Per seed, the steps until each mode of :data:`MODES`' problem reaches half its strength
    (``spec`` from the small start; :func:`mode_learning_times`), and whether the modes were learned
    in decreasing order of s_i (each strictly after the stronger one)."""
    params = {k: v for k, v in MODES.params.items()}
    out = []
    for s in seeds:
        problem = make_problem(seed=int(s), **params)
        t = mode_learning_times(problem, max_steps=MODES.steps, optimizer=spec)
        out.append({"seed": int(s), "times": [None if math.isinf(x) else int(x) for x in t],
                    "in_order": bool(np.all(np.isfinite(t)) and np.all(np.diff(t) > 0)),
                    "t2_over_t1": float(t[1] / t[0]) if np.all(np.isfinite(t[:2])) and t[0] > 0 else None,
                    "t3_over_t1": float(t[2] / t[0]) if np.all(np.isfinite(t[::2])) and t[0] > 0 else None})
    return out


# -- the questions --------------------------------------------------------------------------------

@dataclass(frozen=True)
class Question:
    """One question of the card: its id, statement, decision, the settings whose rows it reads, and
    ``per_seed(rows)``, which maps {setting name: that seed's row} to the seed's figures (None: the
    seed has none, e.g. a diverged run where the statement is about the runs that finished; a
    question with no ``per_seed`` is decided on a measure of its own, as the mode question is).

    ``applies(optimizer)`` says whether it can be asked of an optimizer (depth limits)."""

    id: str
    statement: str
    summary: Summary
    settings: tuple[Setting, ...]
    per_seed: Callable[[Mapping[str, Mapping]], dict | None] | None
    applies: Callable[[object], bool] = lambda optimizer: True


def _plateau(rows):
    rel = relative(rows[POST.name])
    return None if rel is None else {"holds": rel > PLATEAU_RELATIVE_LOSS, "relative_loss": rel}


def _stable(rows):
    return {"holds": relative(rows[POST.name]) is not None}


def _balanced(rows):
    post, balanced = floored(relative(rows[POST.name])), floored(relative(rows[BALANCED.name]))
    factor = None if post is None or balanced is None else post / balanced
    return {"holds": factor is not None and factor >= BALANCED_FACTOR, "factor": factor}


def _samples(rows):
    first = floored(relative(rows[POST.name]))
    more = [floored(relative(rows[s.name])) for s in SAMPLES]
    gain = None if first is None or None in more else first / min(v for v in more if v is not None)
    return {"gain": gain}


def _sensitivity(first: Setting, last: Setting):
    def per_seed(rows):
        return {"decades": decades_between(rows[first.name], rows[last.name])}
    return per_seed


def _fits(depth: int):
    return lambda optimizer: optimizer.max_layers is None or optimizer.max_layers >= depth


QUESTIONS = (
    Question("post.plateau",
             f"ends above relative loss {PLATEAU_RELATIVE_LOSS:g} after the post's {POST_STEPS} steps (a plateau), "
             "on all but at most 5% of the problems where it did not diverge",
             FailureRate(), (POST,), _plateau),
    Question("post.stable", "does not diverge at its tuned step on the post's problems (all but at most 5%)",
             FailureRate(), (POST,), _stable),
    Question("post.balanced",
             f"from the balanced factorisation of the same product it ends at least {BALANCED_FACTOR:g}x lower "
             "after 3000 steps at the same step (the plateau is the imbalance), on all but at most 5%",
             FailureRate(), (POST, BALANCED), _balanced),
    Question("post.samples",
             f"more samples don't help: 1e4 samples or the expected loss lower the loss after 3000 steps by at "
             f"most {SAMPLES_FACTOR:g}x (median; each sample size tuned)",
             Median("gain", Threshold(SAMPLES_FACTOR, AT_MOST)), (POST, *SAMPLES), _samples),
    Question("sensitivity.kappa",
             f"insensitive to kappa: the loss after 3000 steps at kappa 1e6 is within {DECADES:g} decade of "
             "kappa 1 (median of |log10 ratio|; each kappa tuned)",
             Median("decades", Threshold(DECADES, AT_MOST)), KAPPAS, _sensitivity(KAPPAS[0], KAPPAS[-1])),
    Question("sensitivity.depth",
             f"insensitive to depth: the loss after 3000 steps at depth 6 is within {DECADES:g} decade of depth 2 "
             "(median of |log10 ratio|; each depth tuned)",
             Median("decades", Threshold(DECADES, AT_MOST)), (POST, *DEPTHS), _sensitivity(POST, DEPTHS[-1]),
             applies=_fits(depth_of(DEPTHS[-1]))),
    Question("sensitivity.width",
             f"insensitive to width: the loss after 3000 steps at hidden width 24 is within {DECADES:g} decade "
             "of width 6 = rank (median of |log10 ratio|; each width tuned)",
             Median("decades", Threshold(DECADES, AT_MOST)), (POST, WIDE), _sensitivity(POST, WIDE)),
)

#: the mode question, decided on :func:`learning_times` (not on sweep rows)
MODES_QUESTION = Question(
    "deep.modes", "learns the modes of A one at a time in decreasing order of s_i, from a small start "
    "(Saxe et al. 2014; all but at most 15% of problems)", FailureRate("in_order", rate=MODES_RATE), (MODES,), None)

#: every setting whose step size is tuned (the balanced start and the longer budget keep the post's)
TUNED = (POST, *SAMPLES, *KAPPAS, *DEPTHS, WIDE, MODES)
