"""The post's claims 1-3 at depth 3, 4 and 6, hidden widths rank and 4 x rank:
the registry's depth.plateau, depth.second-order and depth.samples (docs/deep.md).

The depth-2 checks are the claims: :func:`~linnet.claims.post.checks.check_plateau` (claim 1),
:func:`~linnet.claims.post.second_order.check_second_order` (claim 2, at relative DEPTH_TARGET) and
:func:`~linnet.claims.post.checks.check_samples` (claim 3) are fed runs of
``post_problem(seed, depth=N, wdim=W)`` -- the post's draw extended to N layers (Gaussian
``randn`` layers unless ``init`` says otherwise) -- and their verdicts are gathered over seeds.
The first-order runs of one (depth, width) are one batched program per optimizer
(:func:`linnet.runs.batched.run_batched`, the post's rates as per-member step sizes).

Measured on seeds 0-19 (docs/deep.md, "The post's claims at depth"): at the post's rates GD
diverges almost everywhere at depth >= 3 (products of randn layers are large); Adam stays above
1e-6 at width = rank but reaches machine precision at 4 x rank (lr 1e-3 and 1e-2), so claim 1
holds only at width = rank. The thresholds are the depth-2 claims' own; nothing is re-tuned.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from linnet.claims.claim import Claim
from linnet.claims.post.checks import SAMPLES_COMPARED, SAMPLES_FACTOR, check_plateau, check_samples
from linnet.claims.post.constants import PLATEAU_RELATIVE_LOSS, POST_FIRST_ORDER, POST_STEPS
from linnet.claims.post.producers import per_sample_lr, per_sample_spec, second_order_runs
from linnet.claims.post.second_order import check_second_order
from linnet.optimizers.spec import parse
from linnet.problems.families import POST_DIMS, post_problem
from linnet.runs.batched import run_batched
from linnet.runs.experiment import Member, Runs

#: the depths and hidden-width factors of depth.plateau, depth.second-order and depth.samples (docs/deep.md)
DEPTHS = (3, 4, 6)
WIDTH_FACTORS = (1, 4)
SEEDS = range(20)
#: rank of the post's A = linspace(1, cond, ydim)[:, None] * rand(ydim, xdim): a (10, 6) uniform draw
#: has full column rank, so rank = min(ydim, xdim) = 6 (checked on seeds 0-19 in the tests)
POST_RANK = min(POST_DIMS["xdim"], POST_DIMS["ydim"])
WIDTHS = tuple(f * POST_RANK for f in WIDTH_FACTORS)
#: "machine precision" at depth: relative 1e-24, within 100 iterations at depth 3 and 300 at depth
#: 4 (docs/deep.md), and 300 at depth 6
DEPTH_TARGET = 1e-24
DEPTH_BUDGETS = {2: 100, 3: 100, 4: 300, 6: 300}
#: the second-order methods checked: LM, and Gauss-Newton at step 0.5 (step 1 stalls at depth 3
#: and 4: docs/deep.md; the post's steps 0.05 and 0.2 are too slow for 1e-24 within 100)
DEPTH_SECOND_ORDER = ("lm", "gauss-newton[step=0.5]")
#: claim 3 at depth: the post's smallest GD rate, the only one of its four that diverges on no
#: seed at depth 3, width 6 (Gaussian start); per-sample step as at depth 2 (claims.per_sample_lr)
SAMPLES_SPEC = "gd[lr=1e-06]"
SAMPLES_NSAMPLES = (100, *SAMPLES_COMPARED)


def _by_optimizer(specs: Iterable[str]) -> dict:
    """{optimizer name: [(spec, lr), ...]}: specs that differ only in lr share one batch."""
    out: dict = {}
    for spec in specs:
        opt = parse(spec)
        out.setdefault(opt.name, []).append((spec, opt.lr))
    return out


def first_order_runs(depth: int, width: int, seeds: Iterable[int] = SEEDS, specs: Iterable[str] = POST_FIRST_ORDER,
                     init: str = "gaussian", steps: int = POST_STEPS) -> Runs:
    """The post's first-order runs at ``depth`` and hidden width ``width``: Runs keyed by
    Member(family="post", seed, depth, wdim=width, init, optimizer, steps), spec-major.

    Each optimizer's rates run as one batch of len(rates) x len(seeds) members with their loss
    histories; a run is a :class:`linnet.runs.batched_result.MemberResult` (the fields a Result has).
    """
    seeds = list(seeds)
    problems = [post_problem(s, depth=depth, wdim=width, init=init) for s in seeds]
    out = {}
    for group in _by_optimizer(specs).values():
        batch = run_batched([p for _ in group for p in problems], group[0][0], steps,
                                lrs=[lr for _, lr in group for _ in problems], history=True)
        for j, (spec, _) in enumerate(group):
            for i, s in enumerate(seeds):
                member = Member(family="post", seed=s, depth=depth, wdim=width, init=init, optimizer=spec, steps=steps)
                out[member] = batch.member(j * len(seeds) + i, problems[i], spec)
    return Runs(out)


def check_plateau_at_depth(runs: Runs, depth: int, width: int,
                           init: str = "gaussian") -> Claim:
    """Claim 1 at depth: every run that does not diverge ends above PLATEAU_RELATIVE_LOSS, away from
    a critical point (each run judged by :func:`check_plateau`); diverged runs are counted.

    Holds when no run that ran to the end fails and at least one ran to the end (a grid where
    every run diverges says nothing about where GD stands). ``runs``: one per member (optimizer, seed).
    """
    numbers, failures, finished = {}, 0, 0
    for spec, of_spec in runs.by("optimizer").items():
        rel, low, fractions, diverged = [], [], [], []
        for member, r in of_spec.items():
            seed = member["seed"]
            claim = check_plateau(Runs({member: r}), diverging=(spec,) if r.diverged else ())
            if r.diverged:
                diverged.append(seed)
                continue
            rel.append(r.relative_loss)
            fractions.append(claim.numbers[spec]["grad_fraction"])
            if not claim.holds:
                low.append(seed)
        finished += len(rel)
        failures += len(low)
        numbers[spec] = {"runs": len(of_spec), "diverged": len(diverged), "failed_seeds": low,
                         "relative_loss_min": min(rel) if rel else None,
                         "relative_loss_max": max(rel) if rel else None,
                         "grad_fraction_min": min(fractions) if fractions else None}
    return Claim("depth.plateau", f"depth {depth}, hidden width {width}, {init} start: after the post's "
                 f"{POST_STEPS} steps every first-order run at the post's rates that does not diverge has "
                 f"relative loss above {PLATEAU_RELATIVE_LOSS:g} (diverged runs counted)",
                 finished > 0 and failures == 0,
                 {"depth": depth, "width": width, "init": init, "finished": finished,
                  "below": failures, "by_spec": numbers})


def second_order_at_depth(depth: int, width: int, spec: str, seeds: Iterable[int] = SEEDS) -> Runs:
    """``spec`` on each seed at ``depth`` and ``width`` within DEPTH_BUDGETS[depth] iterations,
    stopping at relative DEPTH_TARGET (:func:`linnet.claims.post.producers.second_order_runs`'s Runs)."""
    return second_order_runs(seeds, (spec,), DEPTH_BUDGETS[depth], DEPTH_TARGET, depth=depth, wdim=width)


def check_second_order_at_depth(runs: Runs, spec: str, depth: int, width: int) -> Claim:
    """Claim 2 at depth: ``spec`` reaches relative DEPTH_TARGET on every seed within the budget
    (:func:`check_second_order` with ``spec`` as the method that must succeed). ``runs``: one per
    seed, of optimizer ``spec``."""
    by_seed = runs.select(optimizer=spec)
    table = check_second_order(by_seed, reliable=(spec,), target=DEPTH_TARGET)
    finals = [r.relative_loss for r in by_seed.values() if r.relative_loss is not None]
    numbers = {"optimizer": spec, "depth": depth, "width": width, "budget": DEPTH_BUDGETS[depth], **table.numbers[spec],
               "final_relative_loss_max": max(finals) if finals else None,
               "diverged": sum(r.diverged for r in by_seed.values())}
    return Claim("depth.second-order", f"{spec} reaches relative {DEPTH_TARGET:g} on every seed within "
                 f"{DEPTH_BUDGETS[depth]} iterations at depth {depth}, hidden width {width}",
                 table.holds, numbers)


def samples_runs_at_depth(depth: int, width: int, seeds: Iterable[int] = SEEDS, spec: str = SAMPLES_SPEC,
                          nsamples: Iterable[int] = SAMPLES_NSAMPLES, init: str = "gaussian",
                          steps: int = POST_STEPS) -> Runs:
    """``spec`` (a batchable first-order rule with an ``lr``, the step at 1000 samples) at the same
    per-sample step on each sample size, every seed in one batch: Runs keyed by
    Member(family="post", seed, nsamples, depth, wdim=width, init, optimizer, steps), seed-major
    (:func:`linnet.claims.post.producers.samples_runs`, batched over seeds)."""
    seeds, nsamples = list(seeds), list(nsamples)
    pairs = [(s, n) for s in seeds for n in nsamples]
    problems = [post_problem(s, depth=depth, wdim=width, nsamples=n, init=init) for s, n in pairs]
    lr = parse(spec).lr
    batch = run_batched(problems, spec, steps, lrs=[per_sample_lr(lr, n) for _, n in pairs])
    out: dict = {}
    for i, (s, n) in enumerate(pairs):
        member_spec = per_sample_spec(spec, n)
        member = Member(family="post", seed=s, nsamples=n, depth=depth, wdim=width, init=init,
                        optimizer=member_spec, steps=steps)
        out[member] = batch.member(i, problems[i], member_spec)
    return Runs(out)


def check_samples_at_depth(runs: Runs, depth: int, width: int,
                           compared=SAMPLES_COMPARED, init: str = "gaussian") -> Claim:
    """Claim 3 at depth: :func:`check_samples` holds on every seed (spread <= SAMPLES_FACTOR).
    ``runs``: one per member (seed, nsamples). ``init`` names the runs' start (in the key where it
    is not the post's Gaussian draw)."""
    per_seed = {s: check_samples(by_n, compared) for s, by_n in runs.by("seed").items()}
    spreads = [c.numbers["spread"] for c in per_seed.values() if c.numbers["spread"] is not None]
    failed = [s for s, c in per_seed.items() if not c.holds]
    return Claim("depth.samples", f"depth {depth}, hidden width {width}: GD's relative loss after "
                 f"{POST_STEPS} steps at the same per-sample step agrees within {SAMPLES_FACTOR:g}x for "
                 f"nsamples {', '.join(map(str, compared))} on every seed", bool(per_seed) and not failed,
                 {"depth": depth, "width": width, "init": init, "seeds": len(per_seed), "failed_seeds": failed,
                  "spread_min": min(spreads) if spreads else None, "spread_max": max(spreads) if spreads else None,
                  "relative_loss_min": min(c.numbers["relative_loss"][str(n)] or np.inf
                                           for c in per_seed.values() for n in compared),
                  "diverged": sum(r.diverged for r in runs.values())})
