"""Wall time of the new optimizers: batched sweeps against gd, numpy against the Keras classes on TensorFlow.

Two targets, reported as ratios measured side by side in one run and never gated (wall time depends
on the machine and its load): they go to ``benchmark.extra_info``, not to the gate's ``figures``.

* ``ratio_to_gd`` (:func:`test_batched_sweep_against_gd`): a batched sweep of the post problem,
  seeds 0-999, 3000 steps (:func:`linnet.runs.batched.run_batched`, ``BatchRun.seconds``: the loop),
  over gd[lr=1e-05]'s same sweep timed just before and just after it in the same test (their mean).
  Target: at most 4 (``TARGET_RATIO_TO_GD``), Newton-Schulz included.
* ``tensorflow_over_numpy`` (:func:`test_numpy_per_step_against_keras`): seconds per step of
  ``linnet.run`` on the tensorflow backend, which runs the Keras class in its compiled loop (the
  backend's default mode, one ``tf.function`` for all steps; ``Result.seconds`` excludes tracing),
  over the numpy backend's, the post problem, seed 0, 3000 steps, fastest of ``ROUNDS`` each (the
  TensorFlow run in pytest-benchmark's untimed ``setup`` of each numpy round, so both share the
  machine's state). Target: at least 10 (``TARGET_TENSORFLOW_OVER_NUMPY``).

Each optimizer runs at the spec tests/test_modern_optimizers.py uses for it (``SPECS`` there). The
sweeps take 2-4 minutes on the 2-core machine and the TensorFlow runs 20-40 s with TensorFlow's
start-up, so both are in the expensive selection (``--linnet-expensive``).

Measured on the shared 2-core development machine (AMD EPYC, OpenBLAS 0.3.31, numpy 2.4, TF 2.21,
Keras 3.15), ratio_to_gd as the median of 6 side-by-side repeats in two sessions (gd's sweep 1.05-3.35
s, median 1.48 s, as other jobs' load came and went), tensorflow_over_numpy in two quiet runs:

==============================  ===========  ===================  =====================
spec                            ratio_to_gd  numpy us per step    tensorflow_over_numpy
==============================  ===========  ===================  =====================
adamw[lr=0.001]                 1.8          29-31                3.4-4.3
lion[lr=0.0001]                 1.3          23                   3.8-5.7
adafactor[lr=0.01]              2.9          80-83                0.9
schedule-free-adamw[lr=0.0025]  2.0          30-31                2.2-2.8
muon[lr=0.02]                   6.8          92-96                1.0
muon[lr=0.02,polar=exact]       25           (numpy only)
shampoo[lr=0.1]                 39           (numpy only)
soap[lr=0.003]                  8.0          (numpy only)
==============================  ===========  ===================  =====================

So the 4x target holds for the Adam family and not for the matrix methods, whose steps are tiny
linear algebra on each of the 1000 members, which numpy does one matrix at a time (one BLAS or
LAPACK call each: ~35-50 ns for a 6 x 6 product, ~3 us for a 6 x 6 eigh, 5-9 us for an SVD).
Newton-Schulz alone is 30 such products per step (5 iterations, 3 products, 2 layers) against 4 for gd's
loss and gradients; polar=exact is an SVD per layer, Shampoo four eighs per step (its ``frequency``
option recomputes them less often, off by default), SOAP four eighs every 10 steps and 16 products
per step. The 10x target holds for none: numpy's own loop costs about 15 us per step on one problem
(gd's numpy step, 8.4x faster than its compiled TensorFlow loop), and each numpy call on a 10 x 6
matrix costs about a microsecond, while the compiled loop runs a step in 70-130 us.

The figures the gate compares are machine independent: how many members diverged (none), that every
member ran the whole budget (asserted, so every ratio times the same work), and the median relative
loss of the sweep or the numpy run. Starting layers moved by one ulp move the 3000-step loss of
seeds 0-7 by up to 2x for soap, 0.93 for muon[polar=exact], 0.64 for muon and 0.24 for adafactor,
so their medians are compared as helpers.SENSITIVE; by 3.5e-9 at most for the others (helpers.LOSS).
"""

from __future__ import annotations

import numpy as np
import pytest
from helpers import EXACT, LOSS, SENSITIVE, figure

import linnet
from linnet.problems.families import post_problem
from linnet.runs.backends.tf_runtime import configure_environment
from linnet.runs.batched import run_batched
from linnet.testing.benchmarking import store

GD = "gd[lr=1e-05]"
MEMBERS, STEPS = 1000, 3000
TARGET_RATIO_TO_GD = 4.0
TARGET_TENSORFLOW_OVER_NUMPY = 10.0
ROUNDS = 3
#: one spec per new optimizer (tests/test_modern_optimizers.py's SPECS), with the tolerance of its median loss
SWEEPS = {
    "adamw[lr=0.001]": LOSS,
    "lion[lr=0.0001]": LOSS,
    "adafactor[lr=0.01]": SENSITIVE,
    "schedule-free-adamw[lr=0.0025]": LOSS,
    "muon[lr=0.02]": SENSITIVE,
    "muon[lr=0.02,polar=exact]": SENSITIVE,
    "shampoo[lr=0.1]": LOSS,
    "soap[lr=0.003]": SENSITIVE,
}
#: the optimizers with a Keras class (the tensorflow backend runs them), and the Keras class's name
KERAS = {"adamw[lr=0.001]": "AdamW", "lion[lr=0.0001]": "Lion", "adafactor[lr=0.01]": "Adafactor",
         "schedule-free-adamw[lr=0.0025]": "ScheduleFreeAdamW", "muon[lr=0.02]": "Muon"}


@pytest.fixture(scope="module")
def members():
    return [post_problem(seed) for seed in range(MEMBERS)]


@pytest.mark.slow
@pytest.mark.expensive
@pytest.mark.parametrize("spec", list(SWEEPS))
def test_batched_sweep_against_gd(benchmark, members, spec):
    """One optimizer's batched sweep (1000 members, 3000 steps) against gd's, timed around it."""
    benchmark.group = f"modern timing: batched sweep, {MEMBERS} members x {STEPS} steps"
    before = run_batched(members, GD, STEPS).seconds
    out = benchmark.pedantic(run_batched, args=(members, spec, STEPS), rounds=1, iterations=1)
    after = run_batched(members, GD, STEPS).seconds
    ratio = out.seconds / ((before + after) / 2)
    benchmark.extra_info.update(seconds=out.seconds, gd_seconds=[before, after], ratio_to_gd=ratio,
                                target_ratio_to_gd=TARGET_RATIO_TO_GD)
    relative = out.final_loss / out.y_norm2
    store(benchmark, diverged=figure(int(out.diverged.sum()), EXACT),
          median_relative_loss=figure(float(np.median(relative)), SWEEPS[spec]))
    assert (out.steps == STEPS).all()  # every member ran the whole budget: the ratio times the same work


@pytest.fixture(scope="module")
def keras():
    configure_environment()  # before TensorFlow loads, as the backend does
    pytest.importorskip("tensorflow")
    return pytest.importorskip("keras")


@pytest.mark.tensorflow
@pytest.mark.expensive
@pytest.mark.parametrize("spec", list(KERAS))
def test_numpy_per_step_against_keras(benchmark, keras, spec):
    """numpy's seconds per step against the Keras class's in the tensorflow backend's compiled loop."""
    if not hasattr(keras.optimizers, KERAS[spec]):
        pytest.skip(f"keras {keras.__version__} has no keras.optimizers.{KERAS[spec]}")
    benchmark.group = f"modern timing: numpy against keras on tensorflow, {STEPS} steps"
    problem = linnet.post_problem(0)
    linnet.run(problem, spec, STEPS, backend="tensorflow")  # traces the loop once (the backend caches it)
    seconds: dict[str, list[float]] = {"numpy": [], "tensorflow": []}
    runs = {}

    def tensorflow_run():
        runs["tensorflow"] = linnet.run(problem, spec, STEPS, backend="tensorflow")
        seconds["tensorflow"].append(runs["tensorflow"].seconds)

    def numpy_run():
        result = linnet.run(problem, spec, STEPS)
        seconds["numpy"].append(result.seconds)
        return result

    result = benchmark.pedantic(numpy_run, setup=tensorflow_run, rounds=ROUNDS, iterations=1)
    best = {backend: min(times) / STEPS for backend, times in seconds.items()}
    difference = abs(runs["tensorflow"].final_loss - result.final_loss) / result.final_loss
    benchmark.extra_info.update(seconds_per_step=best, tensorflow_over_numpy=best["tensorflow"] / best["numpy"],
                                target_tensorflow_over_numpy=TARGET_TENSORFLOW_OVER_NUMPY,
                                tensorflow_final_loss_rel_difference=difference)
    store(benchmark, result, loss=SWEEPS[spec])
    assert result.steps == runs["tensorflow"].steps == STEPS and not result.diverged
