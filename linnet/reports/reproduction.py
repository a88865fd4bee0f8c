"""The runs behind ``linnet reproduce``: the post's experiment and what it leaves out.

One call of :func:`compute` makes every run the figures need (the run functions and thresholds are
those of :mod:`linnet.claims`, so the report shows what the benchmarks assert), and
:func:`check_claims` checks the claims on them. The runs:

* the post's experiment (``linnet.claims.post.producers.post_runs``): 8 first-order runs of ``steps`` on ``backend``,
  and the two Gauss-Newton runs of ``POST_GAUSS_NEWTON`` (numpy);
* the post's "LM" as it ran: ``gauss-newton[step=S,jacobian=kron,rcond=machine]``, the post's
  Kronecker Jacobian over the samples solved by lstsq with numpy's old cutoff, whose trace
  ``post_metric`` = sum(r)**2 is what the post plotted. Its floor comes from that solve: the old
  cutoff keeps one or two singular values that are rounding noise, and their huge components
  blow up the rounding error of Yhat - Y. With ``faithful_lm=False`` (``--fast-lm``) the
  structured Jacobian is used with the same cutoff: the same curves down to about 1e-8, but no
  floor (about 200x faster per step);
* ``lm``, ``kfac[step=0.5]``, ``als`` and ``closed-form`` for the corrected figure;
* GD from the post's and from a balanced initialisation (``linnet.claims.post.producers.balanced_runs``);
* long GD, ``gd[lr=1e-05]`` to relative loss 1e-12 (``linnet.claims.post.producers.slow_runs``), with the step count
  predicted from its linear rate;
* GD at the same per-sample step for nsamples 100 ... 1e5 and the expected loss
  (``linnet.claims.post.producers.samples_runs``);
* kappa(A) of the post's construction for seeds 0-19 (``linnet.claims.post.producers.post_kappas``).

The backend option applies to the post's first-order runs (the ones the post ran in TensorFlow);
everything else runs on numpy.
"""

from __future__ import annotations

import functools
import math
import operator
import sys
import time
from dataclasses import dataclass, field

import numpy as np

import linnet
from linnet.claims.post.checks import (
    check_balanced,
    check_plateau,
    check_post_kappa,
    check_samples,
    check_slow_not_stuck,
)
from linnet.claims.post.constants import (
    POST_FIRST_ORDER,
    POST_GAUSS_NEWTON,
    POST_GAUSS_NEWTON_WITHIN,
    POST_GN_STEPS,
    POST_STEPS,
    SLOW_LR,
    SLOW_TARGET,
)
from linnet.claims.post.measures import gauss_newton_curvature
from linnet.claims.post.producers import balanced_runs, post_kappas, post_runs, samples_runs, slow_runs
from linnet.claims.post.second_order import check_gauss_newton, check_lm_floor
from linnet.core.errors import LinnetError
from linnet.core.validation import BACKENDS, check_steps
from linnet.problems.families import post_problem
from linnet.runs.experiment import Runs
from linnet.runs.loop import run

#: the second-order runs the corrected figure adds, and their budget (besides the post's two)
EXTRA_SPECS = ("lm", "kfac[step=0.5]", "als", "closed-form")
#: the step sizes of the post's two "LM" runs
POST_LM_STEP_SIZES = (0.05, 0.2)
#: learning rates compared from the post's and a balanced initialisation
BALANCED_SPECS = ("gd[lr=1e-06]", "gd[lr=1e-05]")
#: sample sizes at the same per-sample step (0 = the expected loss)
SAMPLE_SIZES = (100, 1000, 10_000, 100_000, 0)
KAPPA_SEEDS = tuple(range(20))
#: cap on the long GD run (seed 0 needs about 1.7e5 steps; some seeds need 1e6 or more)
LONG_MAX_STEPS = 1_000_000
#: the float64 floor drawn on the corrected figure: relative loss eps^2
FLOAT64_FLOOR = float(np.finfo(np.float64).eps ** 2)


def post_lm_spec(step: float, faithful: bool = True) -> str:
    """The post's LM as it ran: Gauss-Newton with numpy's old lstsq cutoff (rcond=-1)."""
    jac = ",jacobian=kron" if faithful else ""
    return f"gauss-newton[step={step!r}{jac},rcond=machine]"


@dataclass
class Reproduction:
    """Every run and measured number behind the report (results are linnet.Result records)."""

    seed: int
    backend: str
    steps: int
    gn_steps: int
    problem: linnet.Problem
    post: Runs  #: post_runs: 8 first-order + POST_GAUSS_NEWTON, one per member optimizer
    post_lm: dict  #: {spec: Result} the post's LM as it ran (trace post_metric)
    extra: dict  #: {spec: Result} lm, kfac, als, closed-form
    balanced: Runs  #: balanced_runs of each BALANCED_SPECS: members (optimizer, start)
    long: linnet.Result
    long_info: dict
    samples: Runs  #: samples_runs: one per member nsamples
    kappas: dict  #: {seed: kappa}
    seconds: dict = field(default_factory=dict)  #: wall time of each stage


#: measured cost of each stage in seconds (seed 0, numpy, on the 2-core reference machine): the
#: progress bar advances by these, so its ETA follows the work, not the stage count
STAGE_SECONDS = {"post runs": 0.41, "post LM": 11.3, "second order": 0.02, "balanced": 0.15,
                 "long gd": 8.0, "nsamples": 0.2, "kappa": 0.004}


def _progress(total: float, progress: bool | None):
    """A tqdm bar on stderr over ``total`` seconds of work; progress None = only on a terminal."""
    from tqdm.auto import tqdm

    return tqdm(total=total, desc="reproduce", unit="s", disable=None if progress is None else not progress,
                file=sys.stderr, leave=False, bar_format="{l_bar}{bar}| {elapsed}<{remaining} {postfix}")


def long_gd(problem, seed: int, lr: float = SLOW_LR, target: float = SLOW_TARGET,
            max_steps: int = LONG_MAX_STEPS, stall_steps: int = POST_STEPS, stall_result=None):
    """GD to ``target`` with its predicted step count. Returns (Result, info dict).

    The steps to the target and the statistics at the post's stall (relative loss, curvature,
    time constant 1 / (lr lambda_min)) are :func:`linnet.claims.post.producers.slow_runs`'s; this adds the run's
    curve (for the figure) and two predictions, both from the linear convergence of GD near a
    minimum (the loss contracts by (1 - lr lambda)^2 per step along a curvature eigenvalue
    lambda, the slowest along lambda_min):

    * ``predicted_steps``: from the post's budget (``stall_steps``) on, at the rate of the
      smallest nonzero Gauss-Newton curvature lambda_min at the minimum GD reaches:
      stall_steps + ln(target / L_stall) / (2 ln(1 - lr lambda_min));
    * ``extrapolated_steps``: the post's own curve, its log-loss slope over the last third of
      its steps continued to the target (uses nothing beyond the post's budget).
    """
    spec = f"gd[lr={lr!r}]"
    slow = slow_runs([seed], lr=lr, target=target, max_steps=max_steps, stall_steps=stall_steps)[seed]
    reached = slow["steps"] is not None and slow["steps"] >= 0  # not reached: None
    result = run(problem, spec, slow["steps"] if reached else max_steps)
    stall = stall_result if stall_result is not None else run(problem, spec, stall_steps)
    end_curv = gauss_newton_curvature(problem, result.weights)
    lam_end = float(end_curv[-1])
    L_stall = float(slow["stall_relative_loss"]) if slow["stall_relative_loss"] is not None else math.nan
    rate = 2.0 * math.log1p(-lr * lam_end)  # log loss per step near the minimum
    predicted = stall_steps + math.log(target / L_stall) / rate if rate < 0 else math.inf
    a = (2 * stall_steps) // 3
    slope = (math.log(stall.relative_losses[stall_steps]) - math.log(stall.relative_losses[a])) / (
        stall_steps - a)
    extrapolated = stall_steps + math.log(target / L_stall) / slope if slope < 0 else math.inf
    info = {
        "optimizer": spec,
        "target": target,
        "max_steps": max_steps,
        "reached": reached,
        "steps": slow["steps"] if reached else None,
        "relative_loss": result.relative_loss,
        "seconds": result.seconds,
        "stall_steps": stall_steps,
        **{k: slow[k] for k in ("stall_relative_loss", "stall_curvature_min", "stall_curvature_cond",
                                "time_constant")},
        "end_curvature_min": lam_end,
        "end_curvature_cond": float(end_curv[0] / lam_end),
        "predicted_steps": predicted,
        "extrapolated_steps": extrapolated,
        "extrapolated_from": [int(a), int(stall_steps)],
    }
    return result, info


def compute(seed: int = 0, backend: str = "numpy", steps: int = POST_STEPS,
            gn_steps: int = POST_GN_STEPS, long_max_steps: int = LONG_MAX_STEPS,
            faithful_lm: bool = True, progress: bool | None = None) -> Reproduction:
    """Make every run of the report. ``progress``: None = tqdm bars on a terminal, False = none."""
    steps, gn_steps, long_max_steps = check_steps(steps), check_steps(gn_steps), check_steps(long_max_steps)
    if steps < 3 or gn_steps < 1:
        raise LinnetError(f"--steps must be at least 3 (and gn_steps at least 1), got {steps}")
    if backend not in BACKENDS:
        raise LinnetError(f"unknown backend {backend!r}; choose one of {', '.join(BACKENDS)}")
    problem = post_problem(seed)
    seconds: dict = {}
    weights = dict(STAGE_SECONDS, **({} if faithful_lm else {"post LM": STAGE_SECONDS["post LM"] / 200}))
    bar = _progress(sum(weights.values()), progress)

    def stage(name, fn):
        bar.set_postfix_str(name)
        t = time.perf_counter()
        out = fn()
        seconds[name] = time.perf_counter() - t
        bar.update(weights[name])
        return out

    try:
        post = stage("post runs", lambda: post_runs(seed, backend=backend, steps=steps,
                                                            gn_steps=gn_steps, problem=problem))
        post_lm = stage("post LM", lambda: {
            s: run(problem, s, gn_steps) for s in (post_lm_spec(h, faithful_lm) for h in POST_LM_STEP_SIZES)})
        extra = stage("second order", lambda: {
            s: run(problem, s, 1 if s == "closed-form" else gn_steps) for s in EXTRA_SPECS})
        balanced = stage("balanced", lambda: functools.reduce(
            operator.or_, (balanced_runs(seed, s, steps) for s in BALANCED_SPECS), Runs()))
        # the post's own gd[lr=1e-05] run is where the long run's prediction starts (numpy only)
        stall = post.one(optimizer=f"gd[lr={SLOW_LR!r}]") if backend == "numpy" else None
        long, long_info = stage("long gd", lambda: long_gd(
            problem, seed, max_steps=long_max_steps, stall_steps=steps, stall_result=stall))
        samples = stage("nsamples", lambda: samples_runs(seed, SAMPLE_SIZES, steps=steps))
        kappas = stage("kappa", lambda: post_kappas(KAPPA_SEEDS))
    finally:
        bar.close()
    return Reproduction(seed=seed, backend=backend, steps=steps, gn_steps=gn_steps, problem=problem,
                        post=post, post_lm=post_lm, extra=extra, balanced=balanced, long=long,
                        long_info=long_info, samples=samples, kappas=kappas, seconds=seconds)


def check_claims(rep: Reproduction) -> list[dict]:
    """The claims of linnet.claims checked on this report's runs (seed ``rep.seed`` only).

    An error in a check is an error (it propagates). The LM floor is checked only on the post's
    faithful LM; with ``--fast-lm`` its entry says so, with ``holds`` None.
    """
    first = Runs((m, r) for m, r in rep.post.items() if m.optimizer in POST_FIRST_ORDER)
    out = [check_plateau(first)]
    out += [check_gauss_newton(rep.post.one(optimizer=s), linnet.parse(s).step,
                                      POST_GAUSS_NEWTON_WITHIN[s]) for s in POST_GAUSS_NEWTON]
    faithful = post_lm_spec(0.2, True)
    if faithful in rep.post_lm:
        out.append(check_lm_floor(rep.post_lm[faithful], rep.post.one(optimizer="gauss-newton[step=0.2]")))
    out.append(check_balanced(rep.problem, rep.balanced.select(optimizer="gd[lr=1e-05]")))
    info = rep.long_info
    out.append(check_slow_not_stuck({rep.seed: {
        "steps": info["steps"] if info["reached"] else None, "time_constant": info["time_constant"],
        "stall_curvature_cond": info["stall_curvature_cond"]}}))
    out += [check_samples(rep.samples), check_post_kappa(rep.kappas)]
    dicts = [c.to_dict() for c in out]
    if faithful not in rep.post_lm:
        dicts.insert(3, {"key": "lm-floor", "holds": None, "numbers": {},
                         "statement": "not checked: --fast-lm solves the post's LM without its floor"})
    return dicts
