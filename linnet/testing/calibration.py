"""A small machine calibration saved with every benchmark run, so that ``compare`` can separate the
machine from the code.

Two rates, each the median of many short repeats (the median of short repeats resists a burst of
other load better than one long timing, and the spread of the repeats is kept with it):

* ``matmul_gflops``: dense float64 matrix multiply, n x n by n x n (2 n^3 flops, n pinned at
  :data:`MATMUL_N`), through numpy's BLAS pinned to one thread (threadpoolctl), so that the figure
  does not depend on how many threads the BLAS happens to get; what a BLAS-bound benchmark's time
  scales with;
* ``call_seconds``: one tiny numpy operation (``np.add`` of two 6 x 6 arrays into a third, the
  size of the post's layers), per call; what an overhead-bound benchmark's time scales with
  (Python and numpy dispatch, not arithmetic).

``*_spread`` is the ratio of the 75th to the 25th percentile of the repeats' rates (1 = no
spread). Between runs the medians move more than that: :data:`RUN_TO_RUN_SPREAD` is the largest
ratio between two calibrations measured on one idle machine, and ``linnet compare`` normalises a
time ratio by the calibrations only where the machines differ by more than it
(:mod:`linnet.reports.comparison`). The whole measurement takes about 0.2 s. Stored by linnet's
pytest plugin under ``machine_info["linnet"]["calibration"]``; read by :mod:`linnet.reports.machines`.

    >>> cal = measure(n=64, repeats=5, calls=50)
    >>> sorted(cal)
    ['blas_threads', 'call_seconds', 'call_spread', 'calls', 'matmul_gflops', 'matmul_n', 'matmul_spread', 'repeats']
    >>> cal["matmul_spread"] >= 1 and cal["call_spread"] >= 1
    True
"""

from __future__ import annotations

import time

import numpy as np

MATMUL_N = 256
REPEATS = 31
CALLS = 500

#: how far two calibrations of one idle machine can differ, per figure. Measured: ``measure()`` in
#: 24 separate processes, one after another, on an idle 2-core AMD EPYC (OpenBLAS 0.3.30, numpy
#: 2.4): matmul 49.1 to 52.1 GFLOP/s (median 51.6; largest ratio 1.06), per call 302 to 535 ns
#: (median 305; 23 of the 24 within 302-309 ns, one process slowed as a whole to 535 ns: largest
#: ratio 1.77). The factors below leave a margin over those ratios (1.25 is 3.9x the matmul ratio in
#: log terms, 2.0 is 1.2x the per-call one). Before the calibration pinned one BLAS thread and took
#: medians, three back-to-back runs of its best-of-7 gave 116, 69.5 and 46.6 GFLOP/s (ratio 2.5).
#: Machines whose calibrations differ by less than these factors cannot be told apart by them.
RUN_TO_RUN_SPREAD = {"matmul_gflops": 1.25, "call_seconds": 2.0}


def _times(fn, repeats: int) -> np.ndarray:
    out = np.empty(repeats)
    for i in range(repeats):
        t = time.perf_counter()
        fn()
        out[i] = time.perf_counter() - t
    return out


def _spread(times: np.ndarray) -> float:
    q25, q75 = np.percentile(times, [25, 75])
    return float(q75 / q25) if q25 > 0 else 1.0


def measure(n: int = MATMUL_N, repeats: int = REPEATS, calls: int = CALLS) -> dict:
    """{"matmul_gflops", "matmul_spread", "call_seconds", "call_spread", "matmul_n", "repeats",
    "calls", "blas_threads"}: the medians of ``repeats`` timings and their spreads."""
    from threadpoolctl import threadpool_limits

    rs = np.random.RandomState(0)
    a, b = rs.randn(n, n), rs.randn(n, n)
    x, y, out = rs.randn(6, 6), rs.randn(6, 6), np.empty((6, 6))

    def tiny():
        for _ in range(calls):
            np.add(x, y, out=out)

    with threadpool_limits(limits=1, user_api="blas"):
        a @ b  # warm up
        matmul = _times(lambda: a @ b, repeats)
    tiny()
    per_call = _times(tiny, repeats) / calls
    return {"matmul_gflops": 2.0 * n**3 / float(np.median(matmul)) / 1e9, "matmul_spread": _spread(matmul),
            "call_seconds": float(np.median(per_call)), "call_spread": _spread(per_call),
            "matmul_n": n, "repeats": repeats, "calls": calls, "blas_threads": 1}
