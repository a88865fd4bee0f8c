"""Small helpers shared by the benchmark modules: timed runs and the gate's declared tolerances.

The tolerances below are the regression gate's (linnet.testing.tolerance), set from the figures of
the whole suite measured under six numerics configurations: the machine the first baseline was
written on; a Zen 5 machine of the same class with the OpenBLAS kernels pinned to Haswell (as its
environment sets OPENBLAS_CORETYPE), SkylakeX and Sandybridge, numpy's SIMD loops with and without
AVX-512 (NPY_DISABLE_CPU_FEATURES), and one and two BLAS threads. The largest difference between
any two configurations is written beside each tolerance, with the margin over it. 792 of the 1258
figures were bit-identical in all six; 466 differed, most by a few ulps.
"""

from linnet.runs.loop import run
from linnet.testing.tolerance import decades, exact, figure, relative, window

#: a run's relative loss and other floats of a run (trajectories of up to 3000 steps; float64).
#: Measured: 1 against 2 BLAS threads, all 595 figures common to both runs bit-identical (the
#: problems' matrices are too small for OpenBLAS to split); across kernels, the TensorFlow and
#: numpy loops agree within 1e-6 (test_bench_tensorflow asserts it), so 1e-6 is the tolerance.
#: Below 1e-18 (round-off) compared in decades: one decade allowed (measured: identical).
LOSS = relative(1e-6)
#: a figure of rounding noise (the post's LM floor, float32 floors, the faithful solver's floor):
#: measured up to 3.41 decades apart (the faithful solver's floor_metric_min: 1.0e-30 to 2.7e-27);
#: 5 decades allowed (margin 1.5x)
FLOOR = decades(5.0)
#: counts that a run's discrete decisions fix (steps, successes, steps to a target): equal
#: (measured: identical in all six configurations, and over repeated runs, except those below)
EXACT = exact()
#: a fitted slope or a ratio of losses computed from runs that end near round-off (the
#: preconditioner's error slopes, the deficiency margin's rate ratios): measured up to 6.0e-5
#: relative apart; 1e-3 allowed (margin 17x)
RATIO = relative(1e-3)
#: the losses of runs that amplify round-off: Adam at lr 1e-3 and 1e-2 and GD at lr 1e-4 on the
#: deep and wide nets, Gauss-Newton on seeds where it stalls, rmsprop at lr 1e-3. Two machines
#: give different trajectories there, as a perturbation of 1 ulp does. Measured up to 0.67 decades
#: apart above 1e-18 (adam[lr=0.01] at depth 4, width 24: 3.5e-4 against 1.6e-3) and 5.6 decades
#: below it (the fan-in start's minima, all at machine precision); allowed: a factor 20 (1.3
#: decades, margin 2x) above 1e-18 and 10 decades below it (margin 1.8x). The claims these runs
#: decide are asserted by the benchmarks themselves; this only bounds how far the figures move.
SENSITIVE = relative(0.95, below=10.0)
#: how many of a size's runs end below a target, when some of them amplify round-off (see
#: SENSITIVE): measured up to 5 apart in 160 runs (the fan-in plateau at depth 4, width 24: 90 to 95)
SENSITIVE_COUNT = window(10, "measured up to 5 apart over six numerics configurations (machines, "
                             "OpenBLAS kernels, SIMD widths, thread counts); 2x margin")

__all__ = ["EXACT", "FLOOR", "LOSS", "RATIO", "SENSITIVE", "SENSITIVE_COUNT", "figure", "timed_run"]


def timed_run(benchmark, problem, spec, steps, rounds=2, group=None, warmup_rounds=0, **kwargs):
    """Time ``linnet.run(problem, spec, steps)`` with few rounds; return the last Result.

    Use ``warmup_rounds=1`` where the first call pays a one-off cost (TensorFlow's tracing).
    """
    if group is not None:
        benchmark.group = group
    return benchmark.pedantic(run, args=(problem, spec, steps), kwargs=kwargs,
                              rounds=rounds, iterations=1, warmup_rounds=warmup_rounds)
