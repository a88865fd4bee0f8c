"""The deep-linear-network claims (D2-D7) as claims about populations of problems.

Each ``measure_*`` takes a chunk of seeds and returns one plain dict per seed, built from the
claim module's own measurement (:mod:`~linnet.claims.literature.dynamics`,
:mod:`~linnet.claims.literature.margin`, :mod:`~linnet.claims.literature.narrow`,
:mod:`~linnet.claims.literature.width`). :data:`POPULATIONS` pairs each with its summary
(:mod:`linnet.claims.population`); thresholds were chosen on the development seeds 0-19, and the
development and held-out figures are in docs/claims.md.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

import numpy as np

from linnet.claims.literature import dynamics, margin, narrow, width
from linnet.claims.population import FailureRate, Median, Paired, Population
from linnet.claims.statistics import AT_LEAST, AT_MOST, Threshold
from linnet.runs.batched import run_batched

# -- D2: depth as a preconditioner ----------------------------------------------------------------

#: the depths of D2 (every depth the README lists)
PRECONDITIONER_DEPTHS = (2, 3, 4, 6)


def measure_preconditioner(seeds: Sequence[int], init: str = "balanced") -> list[dict]:
    """Per seed, the slope of Theorem 1's error against lr at each depth of PRECONDITIONER_DEPTHS
    and its largest distance from 2 (:func:`dynamics.measure_preconditioner`)."""
    slopes = {d: dynamics.measure_preconditioner(seeds, d, init)["slopes"] for d in PRECONDITIONER_DEPTHS}
    out = []
    for i in range(len(seeds)):
        worst = max(abs(slopes[d][i] - 2) for d in PRECONDITIONER_DEPTHS)
        out.append({**{f"slope_depth{d}": slopes[d][i] for d in PRECONDITIONER_DEPTHS}, "deviation": worst,
                    "holds": worst <= dynamics.PRECONDITIONER_SLOPE_TOLERANCE})
    return out


# -- D3: deficiency margin ------------------------------------------------------------------------

def measure_margin(seeds: Sequence[int], flip: bool = False) -> list[dict]:
    """Per seed, the smallest per-step rate over the bound's at each depth of margin.MARGIN_DEPTHS
    (lr MARGIN_LR; :func:`margin.measure_margin`), the smallest of them, and whether it is at least
    MARGIN_MIN_RATIO on a run that did not diverge."""
    by_depth = {d: margin.measure_margin(seeds, d, flip=flip) for d in margin.MARGIN_DEPTHS}
    out = []
    for i in range(len(seeds)):
        ratios = {d: by_depth[d]["ratios"][i] for d in margin.MARGIN_DEPTHS}
        worst = min(ratios.values())
        out.append({**{f"ratio_depth{d}": r for d, r in ratios.items()}, "min_ratio": worst,
                    "holds": bool(np.isfinite(worst) and worst >= margin.MARGIN_MIN_RATIO)})
    return out


# -- D4: width 1, steps exponential in depth ------------------------------------------------------

def measure_narrow(seeds: Sequence[int], lr: float = narrow.NARROW_LR) -> list[dict]:
    """Per seed, GD's steps to NARROW_TARGET at each depth of NARROW_DEPTHS (None: not within
    NARROW_BUDGET, or diverged; :func:`narrow.measure_depth_growth`)."""
    m = narrow.measure_depth_growth(seeds, lr=lr)
    return [{f"steps_depth{d}": (int(m["steps"][d][i]) if m["steps"][d][i] >= 0 else None)
             for d in narrow.NARROW_DEPTHS} for i in range(len(seeds))]


def narrow_rate(*steps_by_depth, axis: int = -1):
    """The least-squares slope (per layer) of log(median steps) against depth, medians floored at 1
    (the ``rate`` of :func:`narrow.growth_fit`): the statistic D4 is decided on. One group of
    per-seed steps per depth of NARROW_DEPTHS, reduced along ``axis``."""
    x = np.asarray(narrow.NARROW_DEPTHS, dtype=float)
    y = np.log(np.maximum(np.stack([np.median(s, axis=axis) for s in steps_by_depth], axis=-1), 1.0))
    xc = x - x.mean()
    return (y * xc).sum(axis=-1) / (xc**2).sum()


# -- D5: excess over the infinite width -----------------------------------------------------------

#: the widths of D5's excess: the narrowest past which every seed reaches the target, and the widest
WIDTH_EXCESS_WIDTHS = (32, 256)
#: the excess over the infinite-width limit at the widest width must be at most this fraction of
#: the narrowest's (median over seeds). Measured on seeds 0-19, depth 4: median excess 31 (m = 32),
#: 16, 9.5, 5 (m = 256), 3 (512): ratio 0.16, margin 3.1x
WIDTH_EXCESS_RATIO = 0.5


def measure_width(seeds: Sequence[int], widths=WIDTH_EXCESS_WIDTHS) -> list[dict]:
    """Per seed and width m, GD's steps to WIDTH_TARGET minus the infinite-width limit's from the
    same start (:func:`width.limit_steps`): the excess that Du & Hu's claim says vanishes with m.
    None where the target was not reached within WIDTH_BUDGET."""
    seeds = list(seeds)
    excess = {}
    for m in widths:
        r = run_batched([width.du_hu_problem(s, m) for s in seeds], f"gd[lr={width.du_hu_lr(m)!r}]",
                        width.WIDTH_BUDGET, target=width.WIDTH_TARGET, targets=(width.WIDTH_TARGET,))
        limits = [width.limit_steps(v) for v in r.initial_loss / r.y_norm2]
        excess[m] = [int(n - lim) if n >= 0 else None for n, lim in zip(r.steps_to[width.WIDTH_TARGET], limits)]
    return [{f"excess_width{m}": excess[m][i] for m in widths} for i in range(len(seeds))]


def excess_ratio(narrowest, widest, axis: int = -1):
    """median(excess at the widest width) / median(excess at the narrowest), along ``axis``."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.median(widest, axis=axis) / np.median(narrowest, axis=axis)


# -- D6: identity start ---------------------------------------------------------------------------

#: D6's long runs: steps for the negative-eigenvalue target from the identity (does it stay stuck?)
#: and from the identity perturbed by IDENTITY_PERTURBATION (does it escape, and when?)
IDENTITY_LONG_STEPS = 20_000
IDENTITY_PERTURBATION = 1e-3
IDENTITY_ESCAPED = 1e-20


def perturbed_identity(problem, seed: int, scale: float = IDENTITY_PERTURBATION):
    """``problem`` from I + scale * E_k per layer, E_k Gaussian from RandomState([seed, 7])."""
    rs = np.random.RandomState([seed, 7])
    weights = tuple(W + scale * rs.randn(*W.shape) for W in problem.weights)
    return replace(problem, weights=weights, init="perturbed identity", _cache={})


def measure_identity(seeds: Sequence[int]) -> list[dict]:
    """Per seed: the SPD target from the identity after IDENTITY_STEPS; the target with a negative
    eigenvalue from the identity after IDENTITY_LONG_STEPS (stuck: the -0.5 mode stays at 0); the
    same from a perturbed identity (steps to IDENTITY_ESCAPED, None if not within the long run)."""
    seeds = list(seeds)
    spec = f"gd[lr={dynamics.IDENTITY_LR!r}]"
    spd = run_batched([dynamics.symmetric_target_problem(s) for s in seeds], spec, dynamics.IDENTITY_STEPS)
    negative = [dynamics.symmetric_target_problem(s, negative=True) for s in seeds]
    stuck = run_batched(negative, spec, IDENTITY_LONG_STEPS)
    escaped = run_batched([perturbed_identity(p, s) for p, s in zip(negative, seeds)], spec, IDENTITY_LONG_STEPS,
                          target=IDENTITY_ESCAPED, targets=(IDENTITY_ESCAPED,))
    out = []
    for i in range(len(seeds)):
        spd_rel = float(spd.final_loss[i] / spd.y_norm2[i])
        stuck_rel = float(stuck.final_loss[i] / stuck.y_norm2[i])
        n = int(escaped.steps_to[IDENTITY_ESCAPED][i])
        out.append({"spd_relative_loss": spd_rel, "negative_relative_loss": stuck_rel,
                    "perturbed_steps": n if n >= 0 else None,
                    "holds": spd_rel < dynamics.IDENTITY_CONVERGED < stuck_rel and n >= 0})
    return out


# -- D7: modes one at a time ----------------------------------------------------------------------

def measure_modes(seeds: Sequence[int], depth: int = 2) -> list[dict]:
    """Per seed, the learning times' ratios t_i / t_1 from the small random start and the largest
    factor between them and s_1 / s_i (:func:`dynamics.measure_modes`)."""
    m = dynamics.measure_modes(seeds, depth)
    predicted = np.asarray(m["predicted"])
    out = []
    for t in m["times"]:
        ratios = np.asarray(t) / t[0]
        factor = float(np.max(np.maximum(ratios / predicted, predicted / ratios)))
        out.append({"ratios": ratios.tolist(), "factor": factor, "in_order": bool(np.all(np.diff(t) > 0))})
    return out


POPULATIONS = {
    "deep.preconditioner": Population(
        measure_preconditioner, FailureRate(),
        "from a balanced start, at depths 2, 3, 4 and 6 on >= 95% of problems, the error of Theorem 1's "
        f"update against lr has slope 2 within {dynamics.PRECONDITIONER_SLOPE_TOLERANCE:g}"),
    "deep.margin": Population(
        measure_margin, FailureRate(),
        "from a balanced start with a deficiency margin, on >= 95% of problems at depths 2, 3, 4 and 6, GD's "
        "loss contracts on every step at least at the bound's rate"),
    "deep.narrow": Population(
        measure_narrow, Paired(tuple(f"steps_depth{d}" for d in narrow.NARROW_DEPTHS), narrow_rate,
                               Threshold(narrow.NARROW_MIN_RATE, AT_LEAST), missing=float(narrow.NARROW_BUDGET)),
        f"width-1 nets from N(0, 1): the median steps to the target grow with depth 2-10 at a fitted rate of at "
        f"least {narrow.NARROW_MIN_RATE:g} per layer (gd[lr={narrow.NARROW_LR:g}], stable at every depth "
        "measured)"),
    "deep.width": Population(
        measure_width, Paired(tuple(f"excess_width{m}" for m in WIDTH_EXCESS_WIDTHS), excess_ratio,
                              Threshold(WIDTH_EXCESS_RATIO, AT_MOST)),
        f"the excess of GD's steps over the infinite-width limit vanishes with width: at width "
        f"{WIDTH_EXCESS_WIDTHS[1]} its median is at most {WIDTH_EXCESS_RATIO:g} of width "
        f"{WIDTH_EXCESS_WIDTHS[0]}'s"),
    "deep.identity": Population(
        measure_identity, FailureRate(),
        "on >= 95% of rotations, from the identity GD fits a symmetric positive definite target and stays "
        "stuck on one with a "
        f"negative eigenvalue for {IDENTITY_LONG_STEPS} steps, which a start perturbed by "
        f"{IDENTITY_PERTURBATION:g} escapes (relative {IDENTITY_ESCAPED:g})"),
    "deep.modes": Population(
        measure_modes, Median("factor", Threshold(dynamics.SAXE_RATIO_FACTOR, AT_MOST)),
        "from a small random start at depth 2, the median over problems of the largest factor between "
        f"t_i / t_1 and s_1 / s_i is at most {dynamics.SAXE_RATIO_FACTOR:g}"),
}
