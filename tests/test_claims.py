"""Every claim check on a case where its claim holds and on one where it is false (negative controls).

Constructed results are built with :func:`linnet.runs.result.stopped` from loss histories chosen to
make the claim true or false; run results come from short runs.
"""

import numpy as np
import pytest

import linnet
from linnet.claims.post.checks import (
    SAMPLES_COMPARED,
    SAMPLES_FACTOR,
    SLOW_UNITS_WINDOW,
    check_balanced,
    check_plateau,
    check_post_kappa,
    check_samples,
    check_slow_not_stuck,
)
from linnet.claims.post.constants import POST_FAITHFUL_GAUSS_NEWTON, POST_FIRST_ORDER, POST_GAUSS_NEWTON
from linnet.claims.post.measures import gauss_newton_curvature
from linnet.claims.post.producers import balanced_runs, post_kappas, post_runs, samples_runs
from linnet.claims.post.second_order import (
    LM_FLOOR_DESCENT,
    check_float32,
    check_gauss_newton,
    check_lm_floor,
    check_second_order,
)
from linnet.optimizers.stopping import COMPLETED, DIVERGED
from linnet.problems.families import post_problem
from linnet.runs import result as results
from linnet.runs.experiment import Runs

PROBLEM = post_problem(0)
Y2 = PROBLEM.y_norm2


def made(spec, relative_losses, problem=PROBLEM, traces=None, weights=None, grad_norms=None):
    """A Result of ``spec`` whose relative-loss history is ``relative_losses``."""
    rel = np.asarray(relative_losses, dtype=float)
    steps = len(rel) - 1
    status = DIVERGED if not np.isfinite(rel[-1]) else COMPLETED
    norms = np.ones_like(rel) if grad_norms is None else np.asarray(grad_norms, float)
    return results.stopped(status, steps, spec, "numpy", problem, rel * problem.y_norm2, norms,
                           problem.weights if weights is None else weights, 0.0, traces)


def decay(start, rate, n):
    return start * rate ** np.arange(n + 1)


# -- claim 1 ----------------------------------------------------------------------------------

def test_plateau_holds_on_the_post_runs_including_gauss_newton():
    """The README's example: non-first-order runs are left out by declared capability."""
    runs = post_runs(seed=0)
    assert set(POST_GAUSS_NEWTON) <= {m.optimizer for m in runs}
    claim = check_plateau(runs)
    assert claim.holds is True
    assert set(claim.numbers) == set(POST_FIRST_ORDER)


def test_plateau_fails_when_a_first_order_run_reaches_low_loss():
    low = made("gd[lr=1e-05]", decay(1.0, 0.99, 3000))  # ends near 1e-13
    assert check_plateau(Runs.keyed("optimizer", {"gd[lr=1e-05]": low})).holds is False


def test_plateau_fails_when_a_diverging_run_does_not_diverge():
    fine = made("gd[lr=0.0001]", np.full(11, 0.01))
    assert check_plateau(Runs.keyed("optimizer", {"gd[lr=0.0001]": fine})).holds is False


def test_plateau_fails_at_a_critical_point():
    flat = made("gd[lr=1e-05]", np.full(11, 0.01), grad_norms=[1.0] * 10 + [1e-9])
    assert check_plateau(Runs.keyed("optimizer", {"gd[lr=1e-05]": flat})).holds is False


def test_plateau_fails_with_no_first_order_run():
    assert check_plateau(Runs.keyed("optimizer", {"lm": made("lm", [1.0, 0.5])})).holds is False


# -- claim 2 ----------------------------------------------------------------------------------

def test_gauss_newton_contraction_holds_and_fails():
    good = made("gauss-newton[step=0.2]", decay(1.0, 0.64, 160))
    assert check_gauss_newton(good, 0.2, within=200).holds is True
    slow = made("gauss-newton[step=0.2]", decay(1.0, 0.70, 160))  # contraction 0.70, not 0.64
    assert check_gauss_newton(slow, 0.2, within=None).holds is False
    short = made("gauss-newton[step=0.2]", decay(1.0, 0.64, 100))  # right rate, never below 1e-28
    assert check_gauss_newton(short, 0.2, within=200).holds is False


# -- claim 3 ----------------------------------------------------------------------------------

def test_samples_is_one_sided_holds_within_and_fails_beyond_the_factor():
    same = {n: made("gd[lr=1e-05]", [1.0, 0.010 * (1 + 0.01 * i)]) for i, n in enumerate(SAMPLES_COMPARED)}
    assert check_samples(Runs.keyed("nsamples", same)).holds is True
    # the loss RISES with the samples (held-out seed 1005): not "more samples help", so it holds
    rises = dict(same)
    rises[0] = made("gd[lr=1e-05]", [1.0, 0.010 * 2 * SAMPLES_FACTOR])
    claim = check_samples(Runs.keyed("nsamples", rises))
    assert claim.holds is True and claim.numbers["spread"] > SAMPLES_FACTOR
    # the expected loss ends 2 x factor LOWER than 1000 samples: more samples helped, it fails
    helps = dict(same)
    helps[0] = made("gd[lr=1e-05]", [1.0, 0.010 / (2 * SAMPLES_FACTOR)])
    claim = check_samples(Runs.keyed("nsamples", helps))
    assert claim.holds is False and claim.numbers["gain"] == pytest.approx(2 * SAMPLES_FACTOR)


def test_samples_fails_when_a_run_diverged():
    runs = {n: made("gd[lr=1e-05]", [1.0, 0.01]) for n in SAMPLES_COMPARED}
    runs[1000] = made("gd[lr=1e-05]", [1.0, np.inf])
    assert check_samples(Runs.keyed("nsamples", runs)).holds is False


# -- fact 4 -----------------------------------------------------------------------------------

def test_post_kappa_holds_and_fails():
    assert check_post_kappa(post_kappas(range(3))).holds is True
    assert check_post_kappa({0: 10.0, 1: 1e5}).holds is False
    assert check_post_kappa({}).holds is False


# -- fact 5 -----------------------------------------------------------------------------------

def test_slow_not_stuck_holds_and_fails():
    def entry(steps, tc=1000.0):
        return {"steps": steps, "time_constant": tc, "stall_curvature_cond": 10.0}

    assert check_slow_not_stuck({0: entry(2000), 1: entry(500)}).holds is True
    assert check_slow_not_stuck({0: entry(2000), 1: entry(None)}).holds is False  # not reached
    high = SLOW_UNITS_WINDOW[1] * 1000 * 2
    assert check_slow_not_stuck({0: entry(high)}).holds is False  # far slower than predicted
    low = SLOW_UNITS_WINDOW[0] * 1000 / 2
    assert check_slow_not_stuck({0: entry(low)}).holds is False  # far faster than predicted


# -- fact 6 -----------------------------------------------------------------------------------

def test_balanced_holds_on_seed_0_and_fails_on_constructed_cases():
    runs = balanced_runs(0)
    post, balanced = runs.one(start="post"), runs.one(start="balanced")
    assert check_balanced(PROBLEM, runs).holds is True
    # no gain from balancing
    assert check_balanced(PROBLEM, Runs.keyed("start", {"post": post, "balanced": post})).holds is False
    # the imbalance moved: end at a balanced factorisation of the same product
    moved = made("gd[lr=1e-05]", post.relative_losses, weights=PROBLEM.balanced().weights)
    claim = check_balanced(PROBLEM, Runs.keyed("start", {"post": moved, "balanced": balanced}))
    assert claim.numbers["imbalance_drift"] > claim.numbers["conservation_bound"] and claim.holds is False


# -- fact 7 -----------------------------------------------------------------------------------

def _floored(n, floor=1e-10):
    rel = np.maximum(decay(1.0, 0.64, n), floor * (1 + 0.5 * np.sin(np.arange(n + 1))))
    return made(POST_FAITHFUL_GAUSS_NEWTON, rel, traces={"post_metric": rel * Y2})


def test_lm_floor_holds_on_a_constructed_floor():
    assert check_lm_floor(_floored(120), made("gauss-newton[step=0.2]", decay(1.0, 0.64, 120))).holds is True


def test_lm_floor_fails_at_unequal_budgets():
    sane = made("gauss-newton[step=0.2]", decay(1.0, 0.64, 200))
    assert check_lm_floor(_floored(120), sane).holds is False


def test_lm_floor_fails_without_a_floor():
    """Negative control of post.lm-floor: the structured solver with the old cutoff (no floor),
    truncated at 80 iterations and passed as "faithful", at the sane run's budget."""
    problem = post_problem(0)
    steps = 120
    fake = linnet.run(problem, "gauss-newton[step=0.2,rcond=machine]", steps)
    sane = linnet.run(problem, "gauss-newton[step=0.2]", steps)
    claim = check_lm_floor(fake, sane)
    assert claim.holds is False, claim.numbers
    assert claim.numbers["faithful_descent"] > LM_FLOOR_DESCENT


# -- fact 8 -----------------------------------------------------------------------------------

def test_second_order_holds_and_fails():
    ok = made("lm", decay(1.0, 0.1, 25))
    stuck = made("lm", np.full(26, 1e-3))

    def runs(table):  # {spec: {seed: result}}
        return Runs.keyed(("optimizer", "seed"), table)

    assert check_second_order(runs({"lm": {0: ok, 1: ok}})).holds is True
    assert check_second_order(runs({"lm": {0: ok, 1: stuck}})).holds is False
    # an unreliable method failing everywhere is reported, not required and not fatal
    assert check_second_order(runs({"lm": {0: ok}, "kfac[step=0.5]": {0: stuck}})).holds is True
    assert check_second_order(runs({"kfac[step=0.5]": {0: ok}})).holds is False  # nothing reliable


# -- fact 9 -----------------------------------------------------------------------------------

def test_float32_holds_and_fails():
    p32 = PROBLEM.astype(np.float32)
    f64 = made("lm", decay(1.0, 0.1, 30))

    def pair(spec, r64, r32):
        return Runs.keyed("dtype", {"float64": r64, "float32": r32}, optimizer=spec)

    good = pair("lm", f64, made("lm", np.maximum(decay(1.0, 0.1, 30), 1e-13), p32))
    assert check_float32(good).holds is True
    same_as_64 = pair("lm", f64, made("lm", decay(1.0, 0.1, 30), p32))
    assert check_float32(same_as_64).holds is False
    gd64 = made("gd[lr=1e-05]", [1.0, 0.01])
    assert check_float32(pair("gd", gd64, made("gd[lr=1e-05]", [1.0, 0.02], p32))).holds is False
    assert check_float32(good | pair("gd", gd64, made("gd[lr=1e-05]", [1.0, 0.02], p32))).holds is False


# -- executors ----------------------------------------------------------------------------------

def test_run_producers_take_a_map():
    calls = []

    def recording_map(fn, items):
        items = list(items)
        calls.append(len(items))
        return [fn(x) for x in items]

    kappas = post_kappas(range(3), map=recording_map)
    assert calls == [3] and kappas == post_kappas(range(3))
    runs = samples_runs(0, nsamples=(1000, 0), steps=10, map=recording_map)
    assert calls[-1] == 2 and [m.nsamples for m in runs] == [1000, 0]


def test_claims_package_re_exports_nothing():
    """Each name has one home, its defining module: ``linnet.claims`` itself holds only submodules."""
    import types

    import linnet.claims

    names = [n for n, v in vars(linnet.claims).items() if not n.startswith("_") and not isinstance(v, types.ModuleType)]
    assert names == []


def test_curvature_uses_the_shared_jacobian():
    from linnet.optimizers.linalg import gauss_newton as gn

    J = gn.jacobian(PROBLEM.S_factor, PROBLEM.weights)
    s = np.linalg.svd(J, compute_uv=False)
    got = gauss_newton_curvature(PROBLEM, PROBLEM.weights)
    np.testing.assert_allclose(got, 2 * s[: len(got)] ** 2, rtol=1e-12)
