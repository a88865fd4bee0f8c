"""The claims about the new optimizers (M1-M5) as claims about populations of problems.

Each measure is its module's (one plain dict per seed); :data:`POPULATIONS` pairs it with its
summary (:mod:`linnet.claims.population`). Thresholds, step sizes and budgets were chosen on the
development seeds 0-19 (beside each constant, with the measured range and margin); the verdicts on
the held-out seeds are in docs/claims.md.
"""

from __future__ import annotations

from linnet.claims.modern import conservation, modes, polar, post_experiment, stability
from linnet.claims.population import FailureRate, Paired, Population
from linnet.claims.statistics import AT_MOST, Threshold

#: held-out seeds of the post's experiment: each seed runs seven optimizers for 123000 steps
POST_EXPERIMENT_SEEDS = 20
#: the failure rate a 20-seed claim tolerates (docs/claims.md): 20 seeds without a failure bound it
#: below 0.139
TWENTY_SEED_RATE = 0.15

POPULATIONS = {
    "muon.modes": Population(
        modes.measure_modes, FailureRate(),
        "on >= 95% of mode problems (Saxe's, depth 2, small start), Muon finishes the modes smallest first, "
        f"with t_i / t_1 within {modes.MODES_FACTOR:g}x of the equal-rate (s_i / s_1)^(1/2)"),
    "muon.stable": Population(
        stability.measure_stable, FailureRate(),
        f"on >= 95% of problems, at kappa 1 to 1e6, Muon at the constant rate {stability.STABLE_LR:g}, above GD's "
        "threshold 2 / lambda_max at the start, neither diverges nor ends above its initial loss in 3000 steps"),
    "muon.kappa": Population(
        stability.measure_kappa,
        Paired(tuple(f"steps_kappa{k:g}" for k in stability.KAPPAS), stability.kappa_slope,
               Threshold(stability.KAPPA_SLOPE, AT_MOST), missing=float(stability.ANNEALED_BUDGET)),
        f"with exponential annealing ({stability.ANNEALED_SPEC}) the median steps to relative 1e-12 grow with "
        f"kappa 1 to 1e6 at a fitted slope of at most {stability.KAPPA_SLOPE:g} decades per decade "
        f"(a run that does not reach it within {stability.ANNEALED_BUDGET} steps counts as the budget)"),
    "muon.conserved": Population(
        conservation.measure_conservation, FailureRate(),
        "on >= 95% of aligned, imbalanced starts, along Muon flow sqrt(W1^T W1) - sqrt(W2 W2^T) drifts by at "
        f"most {conservation.CONSERVED_DRIFT:g} (relative) and W1^T W1 - W2 W2^T by at least "
        f"{conservation.NOT_CONSERVED_DRIFT:g}"),
    "shampoo.polar": Population(
        polar.measure_polar, FailureRate(),
        "on >= 95% of problems, at depths 2-6 from the orthogonal start, one Shampoo step from zero statistics "
        f"with epsilon 0 and muon[polar=exact]'s direction are U V^T within {polar.POLAR_FACTOR:g} eps kappa(G)^2"),
    "modern.plateau": Population(
        post_experiment.measure_post_experiment, FailureRate(rate=TWENTY_SEED_RATE),
        "on >= 85% of the post's problems, every new optimizer at its tuned step ends above relative 1e-6 "
        "after 3000 steps", held_out=POST_EXPERIMENT_SEEDS, chunk=POST_EXPERIMENT_SEEDS),
}
