"""Small helpers shared by the benchmark modules."""

from linnet.run import run


def timed_run(benchmark, problem, spec, steps, rounds=2, group=None, warmup_rounds=0, **kwargs):
    """Time ``linnet.run(problem, spec, steps)`` with few rounds; return the last Result.

    Use ``warmup_rounds=1`` where the first call pays a one-off cost (TensorFlow's tracing).
    """
    if group is not None:
        benchmark.group = group
    return benchmark.pedantic(run, args=(problem, spec, steps), kwargs=kwargs,
                              rounds=rounds, iterations=1, warmup_rounds=warmup_rounds)
