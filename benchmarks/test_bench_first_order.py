"""Claim 1 (GD and Adam plateau at the post's budget) and claim 3 (more samples don't help).

Each benchmark times the post's 3000-step runs, then asserts the claim on the result. Both claims
are about any first-order rule, so the benchmarks deciding them also run a user's first-order
optimizers (``--linnet-optimizer``; linnet.testing.user_optimizers), whose claims are reported,
not asserted.
"""

import time

import pytest
from helpers import EXACT, LOSS, SENSITIVE, figure, timed_run

from linnet.claims.post.checks import check_plateau, check_samples
from linnet.claims.post.constants import POST_FIRST_ORDER, POST_STEPS
from linnet.claims.post.producers import per_sample_lr, post_runs, samples_runs
from linnet.problems.families import conditioned_problem, post_problem
from linnet.runs.experiment import Runs
from linnet.runs.loop import run
from linnet.testing.benchmarking import store
from linnet.testing.user_optimizers import Applies, over_optimizers
from linnet.testing.verdicts import settle

SEEDS = range(5)
#: the seeds of the numpy-only benchmarks, named as their ids always were
NUMPY_SEEDS = [pytest.param(s, id=f"seed{s}-numpy") for s in SEEDS]
#: claim 1 is about any first-order rule; claim 3 also sets its step size per sample size
FIRST_ORDER = Applies(first_order=True)
FIRST_ORDER_WITH_LR = Applies(first_order=True, step_size=True)


BACKENDS = [pytest.param("numpy"), pytest.param("tensorflow", marks=pytest.mark.tensorflow)]


@pytest.mark.claim("post.plateau")
@over_optimizers(FIRST_ORDER, {"seed": [pytest.param(s, id=f"seed{s}") for s in SEEDS], "backend": BACKENDS},
                 named=POST_FIRST_ORDER)
def test_plateau(benchmark, spec, seed, backend):
    """Non-diverging runs end above relative 1e-6 with a gradient far from zero; gd at 1e-4 and
    1e-3 diverge. On numpy, and on TensorFlow (the post's backend; its compiled loop)."""
    if backend == "tensorflow":
        pytest.importorskip("tensorflow")
    result = timed_run(benchmark, post_problem(seed), spec, POST_STEPS, group=f"plateau {spec}",
                       rounds=2 if backend == "numpy" else 1,
                       warmup_rounds=0 if backend == "numpy" else 1, backend=backend)
    store(benchmark, result, loss=LOSS, divergence_step=figure(result.divergence_step, EXACT))
    settle(benchmark, check_plateau(Runs.keyed("optimizer", {spec: result})))


#: the registry's other first-order optimizers at their example settings
OTHER_FIRST_ORDER = ("momentum[lr=1e-06,momentum=0.9]", "rmsprop[lr=0.001]")


@pytest.mark.parametrize("seed", SEEDS, ids=lambda s: f"seed{s}-numpy")
@pytest.mark.parametrize("spec", OTHER_FIRST_ORDER)
def test_other_first_order(benchmark, spec, seed):
    """momentum and rmsprop on the post's budget also end far above machine precision (measured
    relative loss on seeds 0-4: momentum 6.8e-4 to 8.0e-3, rmsprop 6.0e-4 to 2.3e-3; threshold 1e-6).
    (momentum at lr 1e-5 is not shown here: it reaches 7e-32 on seed 4.)"""
    result = timed_run(benchmark, post_problem(seed), spec, POST_STEPS, group=f"plateau {spec}",
                       rounds=1)
    # rmsprop at lr 1e-3 amplifies round-off (tests/test_tensorflow.py shows it against TensorFlow):
    # measured up to 2.9% apart over six numerics configurations (helpers.SENSITIVE)
    store(benchmark, result, loss=SENSITIVE if spec == "rmsprop[lr=0.001]" else LOSS)
    claim = check_plateau(Runs.keyed("optimizer", {spec: result}), diverging=())
    assert claim.holds, claim.numbers


@pytest.mark.claim("post.samples")
@over_optimizers(FIRST_ORDER_WITH_LR, {"seed": NUMPY_SEEDS}, unnamed="gd[lr=1e-05]")
def test_samples_dont_help(benchmark, spec, seed):
    """Same per-sample step: relative loss after 3000 steps within SAMPLES_FACTOR for
    1e3 ... 1e5 samples and the expected loss; 100 samples recorded too. A user's optimizer runs
    with its lr scaled as GD's (producers.per_sample_spec)."""
    benchmark.group = "samples"
    results = benchmark.pedantic(samples_runs, kwargs={"seed": seed, "spec": spec}, rounds=1, iterations=1)
    claim = check_samples(results)
    store(benchmark, **{f"relative_loss_n{m.nsamples}": figure(r.relative_loss, LOSS) for m, r in results.items()},
           spread=figure(claim.numbers["spread"], LOSS))
    settle(benchmark, claim)


@pytest.mark.claim("post.samples")
@pytest.mark.tensorflow
def test_samples_dont_help_tensorflow(benchmark):
    """Claim 3 on the post's backend, over the samples themselves (seed 0; 1e3, 1e4 samples and
    the expected loss: the TensorFlow loss is O(nsamples) per step, so 1e5 is left to numpy)."""
    pytest.importorskip("tensorflow")
    benchmark.group = "samples"
    nsamples = (1000, 10_000, 0)
    results = benchmark.pedantic(samples_runs, kwargs={"seed": 0, "nsamples": nsamples,
                                                              "backend": "tensorflow"},
                                 rounds=1, iterations=1)
    claim = check_samples(results, compared=nsamples)
    store(benchmark, **{f"relative_loss_n{m.nsamples}": figure(r.relative_loss, LOSS) for m, r in results.items()})
    assert claim.holds, claim.numbers


@pytest.mark.claim("post.plateau")
@over_optimizers(FIRST_ORDER, {"seed": NUMPY_SEEDS}, named=("gd[lr=1e-05]", "adam[lr=0.01]"))
def test_plateau_on_conditioned_family(benchmark, spec, seed):
    """Claim 1 on a truly conditioned A (kappa = 1e5): still far above machine precision."""
    problem = conditioned_problem(1e5, seed)
    result = timed_run(benchmark, problem, spec, POST_STEPS, group=f"conditioned plateau {spec}")
    store(benchmark, result, loss=LOSS)
    settle(benchmark, check_plateau(Runs.keyed("optimizer", {spec: result}), diverging=()))


@pytest.mark.claim("post.samples")
@over_optimizers(FIRST_ORDER_WITH_LR, {"seed": NUMPY_SEEDS}, unnamed="gd[lr=1e-05]")
def test_samples_dont_help_on_conditioned_family(benchmark, spec, seed):
    """Claim 3 on the conditioned family with kappa = 1e5."""
    benchmark.group = "samples conditioned"
    results = benchmark.pedantic(
        samples_runs, kwargs={"seed": seed, "spec": spec, "family_problem": conditioned_problem, "kappa": 1e5},
        rounds=1, iterations=1)
    claim = check_samples(results)
    store(benchmark, **{f"relative_loss_n{m.nsamples}": figure(r.relative_loss, LOSS) for m, r in results.items()})
    settle(benchmark, claim)


def test_step_cost_flat_in_nsamples(benchmark):
    """3000 GD steps cost the same at 100 and 1,000,000 samples (the loss is computed from S).

    Both are timed side by side (best of 5) and the ratio stored in extra_info; the assertion
    is on the result (both runs finish without diverging), never on time.
    """
    benchmark.group = "nsamples cost"
    small, large = post_problem(0, nsamples=100), post_problem(0, nsamples=1_000_000)
    spec_small = f"gd[lr={per_sample_lr(1e-5, 100)!r}]"
    spec_large = f"gd[lr={per_sample_lr(1e-5, 1_000_000)!r}]"

    def best(problem, spec):
        times = []
        for _ in range(5):
            start = time.perf_counter()
            result = run(problem, spec, POST_STEPS)
            times.append(time.perf_counter() - start)
        return min(times), result

    t_small, r_small = best(small, spec_small)
    result = benchmark.pedantic(run, args=(large, spec_large, POST_STEPS), rounds=3, iterations=1)
    t_large, _ = best(large, spec_large)
    benchmark.extra_info["seconds_n100"] = t_small
    benchmark.extra_info["seconds_n1000000"] = t_large
    benchmark.extra_info["ratio_large_over_small"] = t_large / t_small
    store(benchmark, result, loss=LOSS, relative_loss_n100=figure(r_small.relative_loss, LOSS))
    assert not result.diverged and not r_small.diverged


def test_post_reproduction_compute(benchmark):
    """The post's whole experiment (8 first-order runs of 3000 steps, 2 Gauss-Newton runs of 200)
    in numpy; the target (docs/design.md, "Performance targets") is under 1 s of compute (read the
    time off the report)."""
    benchmark.group = "post reproduction"
    results = benchmark.pedantic(post_runs, kwargs={"seed": 0}, rounds=2, iterations=1)
    store(benchmark, **{f"relative_loss {m.optimizer}": figure(r.relative_loss, LOSS) for m, r in results.items()})
    first = Runs((m, r) for m, r in results.items() if m.optimizer in POST_FIRST_ORDER)
    assert check_plateau(first).holds
