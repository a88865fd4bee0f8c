"""The post's claims (1-9) as claims about the population of the post's problems.

Each ``measure_*`` takes a chunk of seeds and returns one plain dict per seed, deciding that seed
with the claim's own check (:mod:`linnet.claims.post.checks`,
:mod:`linnet.claims.post.second_order`) so that a seed holds here exactly when the benchmark's
check holds on it. :data:`POPULATIONS` pairs each with its summary and threshold
(:mod:`linnet.claims.population`). Thresholds were chosen on the development seeds 0-19; the
development and held-out figures are in docs/claims.md.
"""

from __future__ import annotations

from collections.abc import Sequence

from linnet.claims.population import FailureRate, Median, Population
from linnet.claims.post import at_depth, checks, second_order
from linnet.claims.post.constants import (
    POST_DIVERGING,
    POST_FAITHFUL_GAUSS_NEWTON,
    POST_GAUSS_NEWTON_WITHIN,
    POST_GN_STEPS,
    POST_KAPPA_BOUND,
    SECOND_ORDER_RELIABLE,
)
from linnet.claims.post.producers import (
    balanced_runs,
    float32_runs,
    post_kappas,
    post_runs,
    samples_runs,
    second_order_runs,
    slow_runs,
)
from linnet.claims.statistics import AT_LEAST, AT_MOST, Threshold
from linnet.problems.families import post_problem
from linnet.runs.experiment import Runs
from linnet.runs.loop import run

# -- 1: GD and Adam plateau ------------------------------------------------------------------------

def measure_plateau(seeds: Sequence[int]) -> list[dict]:
    """Per seed, the post's 8 first-order runs in three outcomes: ``plateau`` (ended above 1e-6,
    away from a critical point: :func:`checks.check_plateau` on the runs that finished), ``below``
    and ``diverged`` (its own outcome, never counted as a plateau). The seed holds when no run that
    finished went below. Which runs diverge is reported: the post's figure shows gd at lr 1e-4 and
    1e-3 diverging, and on seed 19 gd at lr 1e-4 does not."""
    out = []
    for s in seeds:
        runs = post_runs(s, gauss_newton=False)
        finished = Runs({m: r for m, r in runs.items() if not r.diverged})
        claim = checks.check_plateau(finished, diverging=())
        out.append({"holds": claim.holds, "finished": len(finished),
                    "lowest_relative_loss": min((r.relative_loss for r in finished.values()), default=None),
                    "diverged": sorted(m["optimizer"] for m, r in runs.items() if r.diverged),
                    "post_diverging_diverged": all(runs.one(optimizer=spec).diverged for spec in POST_DIVERGING)})
    return out


# -- 2: Gauss-Newton ------------------------------------------------------------------------------

def measure_gauss_newton(seeds: Sequence[int]) -> list[dict]:
    """Per seed, both of the post's Gauss-Newton runs judged by :func:`second_order.check_gauss_newton`
    (contraction (1 - step)^2 within 1%; step 0.2 at relative 1e-28 within 200 iterations)."""
    out = []
    for s in seeds:
        problem = post_problem(s)
        claims = {spec: second_order.check_gauss_newton(run(problem, spec, POST_GN_STEPS),
                                                        float(spec.split("=")[1].rstrip("]")), within)
                  for spec, within in POST_GAUSS_NEWTON_WITHIN.items()}
        out.append({"holds": all(c.holds for c in claims.values()),
                    "steps_to_1e-28": claims["gauss-newton[step=0.2]"].numbers["steps_to_1e-28"],
                    "contraction_error": max(abs(c.numbers["contraction"] / c.numbers["expected_contraction"] - 1)
                                             for c in claims.values())})
    return out


# -- 3: more samples don't help -------------------------------------------------------------------

def measure_samples(seeds: Sequence[int]) -> list[dict]:
    """Per seed, the factor by which more samples lower GD's relative loss after 3000 steps:
    L(1000 samples) / min over 1e4, 1e5 samples and the expected loss (same per-sample step;
    :func:`checks.samples_gain`). Above 1: more samples helped; at or below 1: they did not."""
    out = []
    for s in seeds:
        rel = {m["nsamples"]: r.relative_loss for m, r in samples_runs(s, nsamples=checks.SAMPLES_COMPARED).items()}
        out.append({"gain": checks.samples_gain(rel), **{f"relative_loss_n{n}": v for n, v in rel.items()}})
    return out


# -- 4: kappa -------------------------------------------------------------------------------------

def measure_kappa(seeds: Sequence[int]) -> list[dict]:
    """kappa(A) of the post's construction, per seed, and whether it is below POST_KAPPA_BOUND."""
    return [{"kappa": k, "holds": k < POST_KAPPA_BOUND} for k in post_kappas(seeds).values()]


# -- 5: slow, not stuck ---------------------------------------------------------------------------

def measure_slow(seeds: Sequence[int]) -> list[dict]:
    """Per seed, :func:`checks.check_slow_not_stuck` on one seed: gd[lr=1e-05] reaches relative 1e-12
    within 3e6 steps, in SLOW_UNITS_WINDOW times the stall point's time constant (the chunk's long
    runs are one batched program)."""
    out = []
    for s, v in slow_runs(seeds).items():
        claim = checks.check_slow_not_stuck({s: v})
        units = v["steps"] / v["time_constant"] if v["steps"] is not None else None
        out.append({"holds": claim.holds, "steps": v["steps"], "steps_over_time_constant": units})
    return out


# -- 6: the plateau is the imbalance --------------------------------------------------------------

def measure_balanced(seeds: Sequence[int], spec: str = "gd[lr=1e-05]") -> list[dict]:
    """Per seed, :func:`checks.check_balanced`: the loss ratio post / balanced start after 3000 steps
    of ``spec``, the imbalance's measured drift and the conservation law's bound on it."""
    out = []
    for s in seeds:
        problem = post_problem(s)
        n = checks.check_balanced(problem, balanced_runs(s, spec))
        out.append({"factor": n.numbers["factor"], "drift": n.numbers["imbalance_drift"],
                    "bound": n.numbers["conservation_bound"], "holds": n.holds})
    return out


# -- 7: the post's LM floor -----------------------------------------------------------------------

#: claim 7: iterations of both LM runs (the faithful run is on its floor by then on seeds 0-1:
#: second_order.LM_FLOOR_DESCENT)
LM_FLOOR_ITERATIONS = 120


def measure_lm_floor(seeds: Sequence[int]) -> list[dict]:
    """Per seed, the faithful LM (Kronecker Jacobian, old lstsq cutoff) and the same step with the
    current cutoff at LM_FLOOR_ITERATIONS each: the gap between their floors (the faithful run's
    lowest relative loss over its last window over the sane run's final one), and whether the
    faithful run is flat on that floor (:func:`second_order.check_lm_floor`)."""
    out = []
    for s in seeds:
        problem = post_problem(s)
        faithful = run(problem, POST_FAITHFUL_GAUSS_NEWTON, LM_FLOOR_ITERATIONS)
        sane = run(problem, "gauss-newton[step=0.2]", LM_FLOOR_ITERATIONS)
        claim = second_order.check_lm_floor(faithful, sane)
        n = claim.numbers
        gap = n["faithful_relative_loss_floor"] / n["sane_relative_loss"] if n["sane_relative_loss"] else float("inf")
        out.append({"gap": gap, "holds": claim.holds, "descent": n["faithful_descent"],
                    "faithful_floor": n["faithful_relative_loss_floor"], "sane": n["sane_relative_loss"]})
    return out


# -- 8: second-order methods ----------------------------------------------------------------------

def measure_second_order(seeds: Sequence[int]) -> list[dict]:
    """Per seed, whether lm, als, closed form and scipy's lm all reach relative 1e-20 within 200
    iterations (:func:`second_order.check_second_order`), and which did not."""
    runs = second_order_runs(seeds, SECOND_ORDER_RELIABLE)
    out = []
    for of_seed in runs.by("seed").values():
        claim = second_order.check_second_order(of_seed)
        out.append({"holds": claim.holds,
                    "failed": sorted(spec for spec, row in claim.numbers.items() if row["failed_seeds"])})
    return out


# -- 9: float32 -----------------------------------------------------------------------------------

def measure_float32(seeds: Sequence[int]) -> list[dict]:
    """Per seed, :func:`second_order.check_float32` on its float64 / float32 pairs."""
    out = []
    for s in seeds:
        claim = second_order.check_float32(float32_runs(s))
        out.append({"holds": claim.holds,
                    "failed": sorted(spec for spec, row in claim.numbers.items() if not row["holds"])})
    return out


# -- D1: the post's claims at depth ----------------------------------------------------------------

def measure_plateau_at_depth(seeds: Sequence[int]) -> list[dict]:
    """Per seed, at each depth of at_depth.DEPTHS with hidden width = rank from the Gaussian start
    (where claim 1 is decided at depth; the benchmarks measure the other sizes and the fan-in
    start), the post's 8 first-order runs in three outcomes: ``plateau`` (ended above 1e-6, away
    from a critical point), ``below`` and ``diverged`` (its own outcome, never counted as a
    plateau). The chunk's runs of one depth are one batched program per optimizer
    (:func:`at_depth.first_order_runs`). The seed holds when no run that finished went below."""
    rows: list[dict] = [{} for _ in seeds]
    for depth in at_depth.DEPTHS:
        runs = at_depth.first_order_runs(depth, at_depth.POST_RANK, seeds)
        for i, of_seed in enumerate(runs.by("seed").values()):
            n = at_depth.check_plateau_at_depth(of_seed, depth, at_depth.POST_RANK).numbers
            rows[i][f"depth{depth}"] = {"plateau": n["finished"] - n["below"], "below": n["below"],
                                        "diverged": sum(v["diverged"] for v in n["by_spec"].values())}
    for row in rows:
        row["below"] = sum(row[f"depth{d}"]["below"] for d in at_depth.DEPTHS)
        row["holds"] = row["below"] == 0
    return rows


#: where the post's claim 2 holds at depth (docs/deep.md, rows 1d-1e, seeds 0-19): lm at every size but
#: depth 6 x width 24 (it stops at its rounding floor there), gauss-newton[step=0.5] at width 4 x rank,
#: depths 3 and 4 (it stalls on some seeds elsewhere)
SECOND_ORDER_AT_DEPTH = {
    "lm": tuple((d, w) for d in at_depth.DEPTHS for w in at_depth.WIDTHS if (d, w) != (6, 4 * at_depth.POST_RANK)),
    "gauss-newton[step=0.5]": ((3, 4 * at_depth.POST_RANK), (4, 4 * at_depth.POST_RANK)),
}
#: where claim 3 can be measured at depth (docs/deep.md, rows 1g-1h): gd at lr 1e-6 per 1000 samples
#: diverges on no seed at depth 3 x width rank from the Gaussian start, and at width rank from the fan-in start
SAMPLES_AT_DEPTH = (("gaussian", 3), ("fan-in", 3), ("fan-in", 4), ("fan-in", 6))


def measure_second_order_at_depth(seeds: Sequence[int]) -> list[dict]:
    """Per seed, whether each method of SECOND_ORDER_AT_DEPTH reaches relative 1e-24 within the
    budgets at each of its sizes (:func:`at_depth.check_second_order_at_depth`), and where not."""
    failed: list[list[str]] = [[] for _ in seeds]
    for spec, sizes in SECOND_ORDER_AT_DEPTH.items():
        for depth, w in sizes:
            runs = at_depth.second_order_at_depth(depth, w, spec, seeds)
            for i, of_seed in enumerate(runs.by("seed").values()):
                if not at_depth.check_second_order_at_depth(of_seed, spec, depth, w).holds:
                    failed[i].append(f"{spec} d{depth} w{w}")
    return [{"holds": not f, "failed": f} for f in failed]


def measure_samples_at_depth(seeds: Sequence[int]) -> list[dict]:
    """Per seed, claim 3's gain (:func:`checks.samples_gain`) at each size of SAMPLES_AT_DEPTH
    (hidden width = rank), and the largest of them (None if a run diverged)."""
    rows: list[dict] = [{} for _ in seeds]
    for init, depth in SAMPLES_AT_DEPTH:
        runs = at_depth.samples_runs_at_depth(depth, at_depth.POST_RANK, seeds, init=init)
        for i, by_n in enumerate(runs.by("seed").values()):
            rel = {m["nsamples"]: r.relative_loss for m, r in by_n.items()}
            rows[i][f"gain_{init}_d{depth}"] = checks.samples_gain(rel)
    for row in rows:
        gains = list(row.values())
        row["gain"] = None if None in gains else max(gains)
    return rows


POPULATIONS = {
    "post.plateau": Population(
        measure_plateau, FailureRate(),
        "on >= 95% of problems like the post's, every one of its 8 first-order runs that does not diverge ends "
        "above relative 1e-6, away from a critical point (diverged runs are their own outcome, counted)"),
    "post.gauss-newton": Population(
        measure_gauss_newton, FailureRate(),
        "on >= 95% of problems, the post's Gauss-Newton steps contract the loss by (1 - step)^2 and step 0.2 "
        "reaches relative 1e-28 within 200 iterations"),
    "post.samples": Population(
        measure_samples, Median("gain", Threshold(checks.SAMPLES_FACTOR, AT_MOST)),
        f"more samples don't help: the median factor by which 1e4, 1e5 samples or the expected loss "
        f"lower GD's loss after 3000 steps below 1000 samples' is at most {checks.SAMPLES_FACTOR:g}"),
    "post.kappa": Population(
        measure_kappa, FailureRate(), f"kappa(A) of the post's construction is below {POST_KAPPA_BOUND:g} "
        "on >= 95% of problems (the post says 1e5)"),
    "post.slow-not-stuck": Population(
        measure_slow, FailureRate(rate=0.15),
        "gd[lr=1e-05] reaches relative 1e-12 within 3e6 steps on all but at most 15% of problems, in "
        f"{checks.SLOW_UNITS_WINDOW[0]:g} to {checks.SLOW_UNITS_WINDOW[1]:g} times the stall point's "
        "time constant", held_out=20, chunk=5),
    "post.balanced": Population(
        measure_balanced, FailureRate(),
        f"on >= 95% of problems GD from a balanced start of the same product ends >= {checks.BALANCED_FACTOR:g}x "
        "lower, and the imbalance drifts by no more than the conservation law allows"),
    "post.lm-floor": Population(
        measure_lm_floor, Median("gap", Threshold(second_order.LM_FLOOR_GAP, AT_LEAST)),
        f"at equal budgets ({LM_FLOOR_ITERATIONS} iterations) the post's LM floor lies a median "
        f">= {second_order.LM_FLOOR_GAP:g}x above the same step solved with the current lstsq cutoff",
        held_out=20, chunk=2),
    "post.second-order": Population(
        measure_second_order, FailureRate(),
        "lm, als, closed form and scipy's lm reach relative 1e-20 within 200 iterations on >= 95% of problems"),
    "post.float32": Population(
        measure_float32, FailureRate(),
        "on >= 95% of problems, float32 second-order runs stall between eps32^2 / 10 and 1e-10 and first-order "
        "runs end where float64 does"),
    "depth.plateau": Population(
        measure_plateau_at_depth, FailureRate(),
        "claim 1 at depths 3, 4, 6, where it holds: at hidden width = rank from the Gaussian start, on >= 95% "
        "of problems no first-order run at the post's rates that finishes ends below relative 1e-6 (diverged runs "
        "are their own outcome; at 4 x rank and from the fan-in start it fails: docs/deep.md)"),
    "depth.second-order": Population(
        measure_second_order_at_depth, FailureRate(),
        "claim 2 at depth, where it holds: on >= 95% of problems lm reaches relative 1e-24 within 100 (depth 3) "
        "or 300 (depths 4, 6) iterations at hidden widths rank and 4 x rank except depth 6 x 24, and "
        "gauss-newton[step=0.5] at width 4 x rank, depths 3 and 4"),
    "depth.samples": Population(
        measure_samples_at_depth, Median("gain", Threshold(checks.SAMPLES_FACTOR, AT_MOST)),
        "claim 3 at depth, where GD at lr 1e-6 does not diverge (width = rank: depth 3 from the Gaussian start, "
        "depths 3, 4, 6 from the fan-in start): the median over problems of the largest factor by which more "
        f"samples lower GD's loss is at most {checks.SAMPLES_FACTOR:g}"),
}
