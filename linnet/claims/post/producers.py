"""The runs each claim needs, so a benchmark times exactly what the claim is about.

Every producer that loops over seeds or configurations takes ``map`` (default: the builtin),
called as ``map(fn, items)`` and expected to return the results in order, so a sweep engine can
run the loop in batches, on a process pool or on a cluster without touching the checks. ``fn``
is a module-level function applied to plain arguments, so it pickles.

Every producer of runs returns :class:`linnet.runs.experiment.Runs` keyed by a
:class:`~linnet.runs.experiment.Member` that describes the run (family, seed, nsamples, depth, wdim,
init, dtype, start, optimizer, steps, target, backend, as far as they apply), so the checks pick
runs by parameter: ``runs.select(optimizer=spec)``, ``runs.by("seed")``, ``runs.one(start="post")``.
Two producers return measurements rather than runs and keep their own shape:
:func:`post_kappas` ({seed: kappa}) and :func:`slow_runs` ({seed: {"steps", stall statistics}}:
the long runs are a batch that records only steps to the target).
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Iterable

import numpy as np

from linnet.claims.post.constants import (
    FLOAT32_SPECS,
    POST_FIRST_ORDER,
    POST_GAUSS_NEWTON,
    POST_GN_STEPS,
    POST_STEPS,
    SECOND_ORDER,
    SECOND_ORDER_STEPS,
    SECOND_ORDER_TARGET,
    SLOW_LR,
    SLOW_MAX_STEPS,
    SLOW_TARGET,
    STALL_STEPS,
)
from linnet.claims.post.measures import gauss_newton_curvature
from linnet.optimizers.spec import format_spec, parse
from linnet.problems.families import post_problem
from linnet.runs.batched import gd_steps_to_target
from linnet.runs.experiment import Member, Runs
from linnet.runs.loop import run


def _run_spec(spec: str, problem, steps: int, backend: str = "numpy", target=None):
    return run(problem, spec, steps, backend=backend, target=target)


def post_runs(seed: int = 0, backend: str = "numpy", steps: int = POST_STEPS,
              gn_steps: int = POST_GN_STEPS, problem=None, gauss_newton: bool = True, map=map) -> Runs:
    """The post's experiment: its 8 first-order runs and (numpy) its 2 Gauss-Newton runs.

    Returns Runs keyed by Member(family="post", seed, optimizer, steps, backend).
    ``problem`` defaults to ``post_problem(seed)`` (one given is described as family "given").
    """
    family = "post" if problem is None else "given"
    problem = post_problem(seed) if problem is None else problem
    specs = list(POST_FIRST_ORDER)
    out = {Member(family=family, seed=seed, optimizer=s, steps=steps, backend=backend): r for s, r in
           zip(specs, map(functools.partial(_run_spec, problem=problem, steps=steps, backend=backend), specs))}
    if gauss_newton:
        gn = list(POST_GAUSS_NEWTON)
        out.update({Member(family=family, seed=seed, optimizer=s, steps=gn_steps, backend="numpy"): r for s, r in
                    zip(gn, map(functools.partial(_run_spec, problem=problem, steps=gn_steps), gn))})
    return Runs(out)


def per_sample_lr(lr: float, nsamples: int, reference: int = 1000) -> float:
    """The learning rate with the same per-sample step as ``lr`` at ``reference`` samples.

    The sample-sum loss grows like nsamples (S = X X^T ~ nsamples I), so the step scales as
    reference / nsamples; the expected loss (nsamples = 0, S = I) takes lr * reference.
    """
    return lr * reference / (nsamples if nsamples else 1)


def per_sample_spec(spec: str, nsamples: int) -> str:
    """``spec`` with its ``lr`` replaced by :func:`per_sample_lr` at ``nsamples``: the same per-sample
    step for a rule whose step is lr times the gradient (gd; a user's first-order rule with an ``lr``).

    >>> per_sample_spec("gd[lr=1e-05]", 10_000)
    'gd[lr=1e-06]'
    """
    optimizer = parse(spec)
    return format_spec(dataclasses.replace(optimizer, lr=per_sample_lr(optimizer.lr, nsamples)))


def _samples_run(n, seed, spec, steps, family_problem, backend, problem_kwargs):
    problem = family_problem(seed=seed, nsamples=n, **problem_kwargs)
    return run(problem, per_sample_spec(spec, n), steps, backend=backend)


def samples_runs(seed: int = 0, nsamples: Iterable[int] = (100, 1000, 10_000, 100_000, 0),
                 spec: str = "gd[lr=1e-05]", steps: int = POST_STEPS, family_problem=post_problem,
                 backend: str = "numpy", map=map, **problem_kwargs) -> Runs:
    """``spec`` (GD at lr 1e-5) at the same per-sample step on each sample size (0 = expected loss):
    its ``lr`` is the step at 1000 samples (:func:`per_sample_spec`). Runs keyed by
    Member(family, seed, nsamples, **problem_kwargs, optimizer, steps, backend).

    The problems share W1, W2 and A (drawn before X), so only the samples differ. ``family`` is
    ``family_problem``'s name without ``_problem`` ("post", "conditioned").
    """
    nsamples = list(nsamples)
    fn = functools.partial(_samples_run, seed=seed, spec=spec, steps=steps, family_problem=family_problem,
                           backend=backend, problem_kwargs=problem_kwargs)
    family = family_problem.__name__.removesuffix("_problem")
    return Runs({Member(family=family, seed=seed, nsamples=n, **problem_kwargs,
                        optimizer=per_sample_spec(spec, n), steps=steps, backend=backend): r
                 for n, r in zip(nsamples, map(fn, nsamples))})


def _kappa(seed):
    return post_problem(seed, nsamples=0).kappa


def post_kappas(seeds: Iterable[int] = range(20), map=map) -> dict:
    """kappa(A) of the post's construction for each seed: {seed: kappa}."""
    seeds = list(seeds)
    return dict(zip(seeds, map(_kappa, seeds)))


def _stall(seed, lr, stall_steps):
    problem = post_problem(seed)
    stall = run(problem, f"gd[lr={lr!r}]", stall_steps)
    curvature = gauss_newton_curvature(problem, stall.weights)
    return {
        "stall_relative_loss": stall.relative_loss,
        "stall_curvature_min": float(curvature[-1]),
        "stall_curvature_cond": float(curvature[0] / curvature[-1]),
        "time_constant": float(1.0 / (lr * curvature[-1])),
    }


def slow_runs(seeds: Iterable[int] = range(20), lr: float = SLOW_LR, target: float = SLOW_TARGET,
              max_steps: int = SLOW_MAX_STEPS, stall_steps: int = STALL_STEPS, map=map) -> dict:
    """Long GD to ``target`` on each seed, and the curvature where the post's budget stalls it.

    The long runs are one batched array program (:func:`linnet.runs.batched.gd_steps_to_target`); the
    stall points go through ``map``. Returns {seed: {"steps": updates to target (None if not
    reached), "stall_relative_loss", "stall_curvature_min", "stall_curvature_cond",
    "time_constant": 1 / (lr * lambda_min)}}.
    """
    seeds = list(seeds)
    steps = gd_steps_to_target([post_problem(s) for s in seeds], lr, target, max_steps)
    stalls = map(functools.partial(_stall, lr=lr, stall_steps=stall_steps), seeds)
    return {s: {"steps": int(n) if n >= 0 else None, **stall} for s, n, stall in zip(seeds, steps, stalls)}


def _balanced(seed, spec, steps):
    problem = post_problem(seed)
    return run(problem, spec, steps), run(problem.balanced(), spec, steps)


def _balanced_members(seed, spec, steps, pair) -> dict:
    return {Member(family="post", seed=seed, start=start, optimizer=spec, steps=steps): r
            for start, r in zip(("post", "balanced"), pair)}


def balanced_runs(seed: int, spec: str = "gd[lr=1e-05]", steps: int = POST_STEPS) -> Runs:
    """GD from the post's initialisation and from a balanced one of the same product: two runs,
    Member(family="post", seed, start="post" or "balanced", optimizer, steps)."""
    return Runs(_balanced_members(seed, spec, steps, _balanced(seed, spec, steps)))


def balanced_runs_over_seeds(seeds: Iterable[int] = range(20), spec: str = "gd[lr=1e-05]",
                             steps: int = POST_STEPS, map=map) -> Runs:
    """:func:`balanced_runs` on each seed, in one Runs (two members per seed)."""
    seeds = list(seeds)
    pairs = map(functools.partial(_balanced, spec=spec, steps=steps), seeds)
    return Runs({m: r for s, pair in zip(seeds, pairs) for m, r in _balanced_members(s, spec, steps, pair).items()})


def _second_order_row(spec, seeds, steps, target, problem_kwargs):
    return [run(post_problem(s, **problem_kwargs), spec, steps, target=target) for s in seeds]


def second_order_runs(seeds: Iterable[int] = range(20), specs: Iterable[str] = SECOND_ORDER,
                      steps: int = SECOND_ORDER_STEPS, target: float = SECOND_ORDER_TARGET, map=map,
                      **problem_kwargs) -> Runs:
    """Each spec on each post seed, stopping at relative ``target``: Runs keyed by
    Member(family="post", seed, **problem_kwargs, optimizer, steps, target), spec-major.

    ``problem_kwargs`` go to :func:`linnet.problems.families.post_problem` (e.g. ``depth=3, wdim=6``).
    """
    seeds, specs = list(seeds), list(specs)
    fn = functools.partial(_second_order_row, seeds=seeds, steps=steps, target=target,
                           problem_kwargs=problem_kwargs)
    return Runs({Member(family="post", seed=s, **problem_kwargs, optimizer=spec, steps=steps, target=target): r
                 for spec, row in zip(specs, map(fn, specs)) for s, r in zip(seeds, row)})


def _float32_steps(spec: str) -> int:
    return POST_STEPS if parse(spec).first_order else POST_GN_STEPS


def _float32_pair(spec, seed):
    problem = post_problem(seed)
    steps = _float32_steps(spec)
    return run(problem, spec, steps), run(problem.astype(np.float32), spec, steps)


def float32_runs(seed: int = 0, specs: Iterable[str] = FLOAT32_SPECS, map=map) -> Runs:
    """Each spec in float64 and float32 on the post problem: Runs keyed by
    Member(family="post", seed, dtype="float64" or "float32", optimizer, steps).

    First-order methods (declared ``first_order``) run the post's 3000 steps, others 200 iterations.
    """
    specs = list(specs)
    pairs = map(functools.partial(_float32_pair, seed=seed), specs)
    return Runs({Member(family="post", seed=seed, dtype=dtype, optimizer=spec, steps=_float32_steps(spec)): r
                 for spec, pair in zip(specs, pairs) for dtype, r in zip(("float64", "float32"), pair)})
