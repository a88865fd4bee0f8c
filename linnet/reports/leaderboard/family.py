"""The leaderboard's problem family, its seeds and its budgets.

The family is the report card's tuned settings of the post's problem (:mod:`linnet.reports.card.questions`),
each one axis away from the post's: the post's problem itself (depth 2, 10 x 6 x 6, 1000 samples),
the conditioned family at kappa 1, 1e2, 1e4 and 1e6, depths 3 to 6 (every hidden width 6 = rank(A))
and hidden width 24 (4 x rank). Each setting is tuned at its card budget (the post's 3000 steps);
the held-out runs then get the card's longer budget, 30000 steps, stopped at relative 1e-24
(:data:`linnet.reports.card.questions.REACH`), and record the first step at each of :data:`TARGETS`.

    >>> [s.name for s in FAMILY]  # doctest: +NORMALIZE_WHITESPACE
    ['post', 'kappa 1', 'kappa 100', 'kappa 10000', 'kappa 1e+06',
     'depth 3', 'depth 4', 'depth 5', 'depth 6', 'width 24']
    >>> held_out_setting(FAMILY[1]).steps, held_out_setting(FAMILY[1]).target, HELD_OUT_SEEDS
    (30000, 1e-24, range(1000, 1020))
"""

from __future__ import annotations

from linnet.claims.seeds import HELD_OUT
from linnet.reports.card.questions import DEPTHS, KAPPAS, POST, REACH, REACH_TARGETS, WIDE
from linnet.sweeps.tuning import Setting

#: the settings, in the order of the tables: the post's problem, kappa, depth, width
FAMILY: tuple[Setting, ...] = (POST, *KAPPAS, *DEPTHS, WIDE)
#: the relative losses whose first step is ranked (the card's), the last one where a run stops
TARGETS = REACH_TARGETS
#: the held-out budget: the card's longer run of the post's problem (30000 steps)
STEPS = REACH.steps
#: the held-out seeds per setting: the first 20 of the held-out block, so that the whole command
#: (17 optimizers x 10 settings, tuning included) stays within minutes on two cores; 20 seeds x 10
#: settings = 200 problems per optimizer
HELD_OUT_SEEDS = HELD_OUT[:20]


def held_out_setting(setting: Setting, steps: int = STEPS) -> Setting:
    """``setting``'s problems for the held-out runs: ``steps`` steps, stopped at the last target."""
    return Setting(setting.name, setting.params, steps, target=TARGETS[-1])


def describe(setting: Setting) -> dict:
    """A setting as the leaderboard's JSON gives it: its name, problem parameters and tuning budget."""
    return {"setting": setting.name, "params": dict(setting.params), "tuning_steps": setting.steps}
