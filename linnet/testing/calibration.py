"""A small machine calibration saved with every benchmark run, so that ``compare`` can separate the
machine from the code.

Two rates, each the best (smallest time) of several repeats, as ``timeit`` advises (the minimum is
the least disturbed by other load):

* ``matmul_gflops``: dense float64 matrix multiply, n x n by n x n (2 n^3 flops), through numpy's
  BLAS with its current thread count; what a BLAS-bound benchmark's time scales with;
* ``call_seconds``: one tiny numpy operation (``np.add`` of two 6 x 6 arrays into a third, the
  size of the post's layers), per call; what an overhead-bound benchmark's time scales with
  (Python and numpy dispatch, not arithmetic).

The whole measurement takes about 0.1 s. Stored by linnet's pytest plugin under
``machine_info["linnet"]["calibration"]``; read by :mod:`linnet.reports.machines`.
"""

from __future__ import annotations

import time

import numpy as np

MATMUL_N = 256
REPEATS = 7
CALLS = 2000


def _best(fn, repeats: int) -> float:
    best = float("inf")
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t)
    return best


def measure(n: int = MATMUL_N, repeats: int = REPEATS, calls: int = CALLS) -> dict:
    """{"matmul_gflops": float, "call_seconds": float, "matmul_n": n, "repeats": repeats}."""
    rs = np.random.RandomState(0)
    a, b = rs.randn(n, n), rs.randn(n, n)
    a @ b  # warm the BLAS threads
    matmul = _best(lambda: a @ b, repeats)
    x, y, out = rs.randn(6, 6), rs.randn(6, 6), np.empty((6, 6))

    def tiny():
        for _ in range(calls):
            np.add(x, y, out=out)

    per_call = _best(tiny, repeats) / calls
    return {"matmul_gflops": 2.0 * n**3 / matmul / 1e9, "call_seconds": per_call, "matmul_n": n,
            "repeats": repeats}
