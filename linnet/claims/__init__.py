"""The post's claims, and what it leaves out, as plain functions of measured results.

Each ``check_*`` function takes results (or measured numbers) and returns a :class:`Claim`: whether
it holds, and the numbers it rests on. Benchmarks assert ``claim.holds``, the CLI and reports
print ``claim.numbers``: one definition of each claim. The ``*_runs`` functions produce the runs
the checks need (each loop over seeds or configurations through an injectable ``map``), as
:class:`~linnet.runs.experiment.Runs` keyed by :class:`~linnet.runs.experiment.Member` descriptions.

Modules: :mod:`~linnet.claims.constants` (the post's settings and thresholds, with their
sources), :mod:`~linnet.claims.runs` (run producers), :mod:`~linnet.claims.measures`
(contraction, curvature, imbalance drift), :mod:`~linnet.claims.post_checks` (claims 1, 3-6) and
:mod:`~linnet.claims.method_checks` (claims 2, 7-9); :mod:`~linnet.claims.at_depth` applies claims 1-3
at depth 3, 4, 6 (docs/deep.md). Sources: docs/design.md.

    >>> from linnet import claims
    >>> claims.check_plateau(claims.post_runs(seed=0)).holds
    True

Imports: linnet.core, linnet.problems, linnet.optimizers, linnet.runs.
"""

from linnet.claims.claim import Claim
from linnet.claims.constants import (
    CRITICAL_GRAD_FRACTION,
    FLOAT32_EPS,
    FLOAT32_FLOOR_MAX,
    FLOAT32_SPECS,
    MACHINE_PRECISION_RELATIVE,
    PLATEAU_RELATIVE_LOSS,
    POST_ADAM_RATES,
    POST_DIVERGING,
    POST_FAITHFUL_GAUSS_NEWTON,
    POST_FIRST_ORDER,
    POST_GAUSS_NEWTON,
    POST_GAUSS_NEWTON_WITHIN,
    POST_GD_RATES,
    POST_GN_STEPS,
    POST_KAPPA_BOUND,
    POST_KAPPA_CLAIMED,
    POST_LM_LEVEL,
    POST_STEPS,
    SECOND_ORDER,
    SECOND_ORDER_RELIABLE,
    SECOND_ORDER_STEPS,
    SECOND_ORDER_TARGET,
    SLOW_LR,
    SLOW_MAX_STEPS,
    SLOW_TARGET,
)
from linnet.claims.measures import contraction, gauss_newton_curvature, imbalance_drift
from linnet.claims.method_checks import (
    LM_FLOOR_DESCENT,
    LM_FLOOR_GAP,
    LM_FLOOR_WINDOW,
    check_float32,
    check_gauss_newton,
    check_lm_floor,
    check_second_order,
)
from linnet.claims.post_checks import (
    BALANCED_FACTOR,
    IMBALANCE_DRIFT,
    SAMPLES_COMPARED,
    SAMPLES_FACTOR,
    SLOW_UNITS_WINDOW,
    check_balanced,
    check_plateau,
    check_post_kappa,
    check_samples,
    check_slow_not_stuck,
)
from linnet.claims.runs import (
    balanced_runs,
    balanced_runs_over_seeds,
    float32_runs,
    per_sample_lr,
    post_kappas,
    post_runs,
    samples_runs,
    second_order_runs,
    slow_runs,
)
from linnet.runs.experiment import Member, Runs
from linnet.runs.record import plain

__all__ = [
    "BALANCED_FACTOR",
    "CRITICAL_GRAD_FRACTION",
    "Claim",
    "FLOAT32_EPS",
    "FLOAT32_FLOOR_MAX",
    "FLOAT32_SPECS",
    "IMBALANCE_DRIFT",
    "LM_FLOOR_DESCENT",
    "LM_FLOOR_GAP",
    "LM_FLOOR_WINDOW",
    "MACHINE_PRECISION_RELATIVE",
    "Member",
    "PLATEAU_RELATIVE_LOSS",
    "POST_ADAM_RATES",
    "POST_DIVERGING",
    "POST_FAITHFUL_GAUSS_NEWTON",
    "POST_FIRST_ORDER",
    "POST_GAUSS_NEWTON",
    "POST_GAUSS_NEWTON_WITHIN",
    "POST_GD_RATES",
    "POST_GN_STEPS",
    "POST_KAPPA_BOUND",
    "POST_KAPPA_CLAIMED",
    "POST_LM_LEVEL",
    "POST_STEPS",
    "Runs",
    "SAMPLES_COMPARED",
    "SAMPLES_FACTOR",
    "SECOND_ORDER",
    "SECOND_ORDER_RELIABLE",
    "SECOND_ORDER_STEPS",
    "SECOND_ORDER_TARGET",
    "SLOW_LR",
    "SLOW_MAX_STEPS",
    "SLOW_TARGET",
    "SLOW_UNITS_WINDOW",
    "balanced_runs",
    "balanced_runs_over_seeds",
    "check_balanced",
    "check_float32",
    "check_gauss_newton",
    "check_lm_floor",
    "check_plateau",
    "check_post_kappa",
    "check_samples",
    "check_second_order",
    "check_slow_not_stuck",
    "contraction",
    "float32_runs",
    "gauss_newton_curvature",
    "imbalance_drift",
    "per_sample_lr",
    "plain",
    "post_kappas",
    "post_runs",
    "samples_runs",
    "second_order_runs",
    "slow_runs",
]
