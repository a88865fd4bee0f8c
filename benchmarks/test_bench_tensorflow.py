"""TensorFlow backend timings: the post-faithful per-step loop, the compiled loop, numpy.

Targets (docs/design.md, "Performance targets"), reported as ratios measured side by side in one run,
never asserted (wall time depends on the machine):

* ``compiled_speedup``: per-step seconds / compiled seconds, target >= 4 (also ``xla_speedup``);
* ``numpy_speedup``: per-step seconds / numpy seconds, target >= 20;

for 3000 GD steps at lr 1e-5 on the post problem, seed 0. Each ratio is of the fastest of the
rounds, using ``Result.seconds`` (the loop, after tracing and graph compilation). The claims the
tests assert are about the results: every mode reaches numpy's loss.
"""

from __future__ import annotations

import pytest
from helpers import LOSS

import linnet
from linnet.runs.backends.tf_runtime import configure_environment
from linnet.testing.benchmarking import store

pytestmark = pytest.mark.tensorflow

SPEC = "gd[lr=1e-05]"
SEED = 0
STEPS = 3000
ROUNDS = 3
GROUP = f"tensorflow: {SPEC} post problem, {STEPS} steps"
TARGETS = {"compiled_speedup": 4.0, "numpy_speedup": 20.0}


@pytest.fixture(scope="module")
def problem():
    configure_environment()
    pytest.importorskip("tensorflow")
    return linnet.post_problem(SEED)


@pytest.fixture(scope="module")
def numpy_result(problem):
    return linnet.run(problem, SPEC, STEPS)


def _agrees(result, reference, rtol=1e-6) -> float:
    """Relative difference of final losses (round-off, so kept out of the gated ``figures``);
    asserts the required 1e-6 for gd."""
    diff = abs(result.final_loss - reference.final_loss) / reference.final_loss
    assert not result.diverged and result.steps == STEPS
    assert diff <= rtol
    return diff


@pytest.mark.benchmark(group=GROUP)
@pytest.mark.parametrize("mode", ["compiled", "xla"], ids=lambda m: f"{SPEC}-seed{SEED}-tensorflow-{m}")
def test_compiled_loop(benchmark, problem, numpy_result, mode):
    result = benchmark.pedantic(linnet.run, args=(problem, SPEC, STEPS),
                                kwargs={"backend": "tensorflow", "mode": mode},
                                rounds=ROUNDS, warmup_rounds=1, iterations=1)
    diff = _agrees(result, numpy_result)
    store(benchmark, result, loss=LOSS)
    benchmark.extra_info.update(mode=mode, loop_seconds=result.seconds, numpy_final_loss_rel_difference=diff)


@pytest.mark.benchmark(group=GROUP)
@pytest.mark.parametrize("mode", ["per-step"], ids=lambda m: f"{SPEC}-seed{SEED}-tensorflow-{m}")
def test_per_step_against_compiled_and_numpy(benchmark, problem, numpy_result, mode):
    """Times the post-faithful per-step loop; before each round (untimed, pytest-benchmark's
    ``setup``) runs the compiled, XLA and numpy loops once, so all four share the machine's state
    and the ratios compare like with like."""
    seconds: dict[str, list[float]] = {"per-step": [], "compiled": [], "xla": [], "numpy": []}
    others: dict = {}

    def side_runs():
        for other in ("compiled", "xla"):
            others[other] = linnet.run(problem, SPEC, STEPS, backend="tensorflow", mode=other)
            seconds[other].append(others[other].seconds)
        others["numpy"] = linnet.run(problem, SPEC, STEPS)
        seconds["numpy"].append(others["numpy"].seconds)

    def per_step():
        result = linnet.run(problem, SPEC, STEPS, backend="tensorflow", mode=mode)
        seconds["per-step"].append(result.seconds)
        return result

    result = benchmark.pedantic(per_step, setup=side_runs, rounds=ROUNDS, warmup_rounds=1, iterations=1)
    diff = _agrees(result, numpy_result)
    for other in ("compiled", "xla"):  # the same run, whichever way it is executed
        assert abs(others[other].final_loss - result.final_loss) <= 1e-12 * result.final_loss
    best = {k: min(v[-ROUNDS:]) for k, v in seconds.items()}
    ratios = {
        "compiled_speedup": best["per-step"] / best["compiled"],
        "xla_speedup": best["per-step"] / best["xla"],
        "numpy_speedup": best["per-step"] / best["numpy"],
    }
    store(benchmark, result, loss=LOSS)
    benchmark.extra_info.update(ratios, numpy_final_loss_rel_difference=diff)
    benchmark.extra_info["speedup_targets"] = TARGETS
    benchmark.extra_info["loop_seconds"] = {k: round(v, 6) for k, v in best.items()}
    benchmark.extra_info["mode"] = mode
