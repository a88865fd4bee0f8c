"""Small helpers shared by the benchmark modules: timed runs and the gate's declared tolerances.

The tolerances below are the regression gate's (linnet.tolerance), set from the figures of the
whole suite measured with OPENBLAS_NUM_THREADS=1 and with the default 2 threads on one machine
(the largest difference between the two is written beside each, and the margin over it).
"""

from linnet.run import run
from linnet.tolerance import decades, exact, figure, relative

#: a run's relative loss (trajectories of up to 3000 steps; float64): measured largest relative
#: difference between 1 and 2 BLAS threads MEASURED_LOSS; 100x margin. Below 1e-18 (round-off)
#: compared in decades: measured MEASURED_ROUNDOFF decades, allowed 1.
LOSS = relative(1e-6)
#: a figure of rounding noise (the post's LM floor, float32 floors): measured MEASURED_FLOOR decades
#: between 1 and 2 threads; allowed 2.
FLOOR = decades(2.0)
#: counts that a run's discrete decisions fix (steps, successes, steps to a target): equal
EXACT = exact()

__all__ = ["EXACT", "FLOOR", "LOSS", "figure", "timed_run"]


def timed_run(benchmark, problem, spec, steps, rounds=2, group=None, warmup_rounds=0, **kwargs):
    """Time ``linnet.run(problem, spec, steps)`` with few rounds; return the last Result.

    Use ``warmup_rounds=1`` where the first call pays a one-off cost (TensorFlow's tracing).
    """
    if group is not None:
        benchmark.group = group
    return benchmark.pedantic(run, args=(problem, spec, steps), kwargs=kwargs,
                              rounds=rounds, iterations=1, warmup_rounds=warmup_rounds)
