"""Small helpers shared by the benchmark modules: timed runs and the gate's declared tolerances.

The tolerances below are the regression gate's (linnet.testing.tolerance), set from the figures of the
whole suite measured with OPENBLAS_NUM_THREADS=1 and with the default 2 threads on one machine
(the largest difference between the two is written beside each, and the margin over it).
"""

from linnet.runs.loop import run
from linnet.testing.tolerance import decades, exact, figure, relative

#: a run's relative loss and other floats of a run (trajectories of up to 3000 steps; float64).
#: Measured: 1 against 2 BLAS threads, all 595 figures common to both runs bit-identical (the
#: problems' matrices are too small for OpenBLAS to split); across kernels, the TensorFlow and
#: numpy loops agree within 1e-6 (test_bench_tensorflow asserts it), so 1e-6 is the tolerance.
#: Below 1e-18 (round-off) compared in decades: one decade allowed (measured: identical).
LOSS = relative(1e-6)
#: a figure of rounding noise (the post's LM floor, float32 floors, the faithful solver's floor):
#: measured post_metric_floor 1.96e-12 with 2 threads, 6.0e-11 with 1 (1.49 decades, the largest
#: difference of any figure); 2 decades allowed
FLOOR = decades(2.0)
#: counts that a run's discrete decisions fix (steps, successes, steps to a target): equal
#: (measured: identical under 1 and 2 threads, and over repeated runs)
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
