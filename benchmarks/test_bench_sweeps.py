"""Sweeps: batched against member-by-member (first- and second-order), and dask with 2 workers against 1.

The quick benchmarks time the batched program on all members and the member-by-member loop on a
subset, scaled to all members (stated in extra_info); the ratio is recorded, and asserted only
loosely. Machine-independent figures (steps, relative losses) go to the regression gate.
"""

import time

import numpy as np
import pytest
from helpers import EXACT, LOSS, figure

from linnet.problems.families import post_problem
from linnet.runs.batched import run_batched
from linnet.runs.loop import run
from linnet.testing.benchmarking import store

GD = "gd[lr=1e-05]"
#: members timed one by one, scaled to the batch (a full member-by-member loop of 1000 runs is ~40 s)
SUBSET = 20


def _per_member_seconds(problems, spec, steps, target=None):
    start = time.perf_counter()
    results = [run(p, spec, steps, target=target) for p in problems]
    return (time.perf_counter() - start) / len(problems), results


def test_batched_1000_members(benchmark):
    """1000 members (seeds 0-999, gd[lr=1e-05], 3000 steps, the post's problem) as one program,
    against member-by-member (20 members timed, scaled to 1000). Target: >= 20x, goal < 1 s.
    Measured on the 2-core machine: 1.4-1.7 s batched, 38 ms per member one by one, 23-28x."""
    benchmark.group = "sweeps"
    problems = [post_problem(s) for s in range(1000)]
    out = benchmark.pedantic(run_batched, args=(problems, GD, 3000), rounds=1, iterations=1)
    single, results = _per_member_seconds(problems[:SUBSET], GD, 3000)
    relative = out.final_loss / out.y_norm2
    for i, r in enumerate(results):  # the batch equals the single runs it was timed against
        assert abs(out.final_loss[i] - r.final_loss) <= 1e-12 * r.final_loss
    ratio = single * len(problems) / out.seconds
    benchmark.extra_info.update(batched_seconds=out.seconds, single_seconds_per_member=single,
                                single_seconds_scaled=single * len(problems), members_timed_singly=SUBSET,
                                ratio_single_over_batched=ratio)
    store(benchmark, median_relative_loss=figure(float(np.median(relative)), LOSS),
           max_relative_loss=figure(float(relative.max()), LOSS), diverged=figure(int(out.diverged.sum()), EXACT))
    assert ratio >= 8, ratio  # loose: measured 23-28x; a shared, noisy machine must not fail it


#: (optimizer, members, step limit): lm reaches 1e-20 in 8-20 steps, gauss-newton[step=0.2] (the
#: post's step, the loss contracts by 0.64 per step) in 111-115
SECOND_ORDER = {"lm": ("lm", 200, 200), "gauss-newton": ("gauss-newton[step=0.2]", 100, 400)}


@pytest.mark.parametrize("method", sorted(SECOND_ORDER))
def test_batched_second_order_to_1e20(benchmark, method):
    """lm on seeds 0-199 and gauss-newton[step=0.2] on seeds 0-99 of the post's problem to relative
    1e-20, as one program (linnet.runs.batched.run_batched) against every member one by one. The batch
    is bit for bit the single runs (asserted: steps and final losses equal). The ratio is recorded,
    not asserted: the per-member LAPACK calls (a 60 x 60 solve per lm trial, ten 6 x 6 eigh per
    Gauss-Newton step) stay one per member, so batching saves only the Python and call overhead.
    Measured on the 2-core machine over four runs: lm 0.12-0.20 s batched against 0.27-0.41 s
    (1.8-2.2x), gauss-newton 0.59-0.89 s against 1.66-2.14 s (2.4-2.8x; 3.4x for 200 members of
    100 steps). Gated, exact (identical under 1 and 2 BLAS threads): lm 200/200 reach 1e-20 in
    8-20 steps (median 11), gauss-newton 100/100 in 111-115 (median 113)."""
    benchmark.group = "sweeps"
    spec, members, steps = SECOND_ORDER[method]
    problems = [post_problem(s) for s in range(members)]
    out = benchmark.pedantic(run_batched, args=(problems, spec, steps),
                             kwargs={"target": 1e-20, "targets": (1e-20,)}, rounds=1, iterations=1)
    single, results = _per_member_seconds(problems, spec, steps, target=1e-20)
    assert [r.steps for r in results] == out.steps.tolist()
    assert [r.final_loss for r in results] == out.final_loss.tolist()
    ratio = single * members / out.seconds
    benchmark.extra_info.update(batched_seconds=out.seconds, single_seconds=single * members,
                                ratio_single_over_batched=ratio)
    reached = out.steps_to[1e-20][out.steps_to[1e-20] >= 0]
    store(benchmark, reached_1e20=figure(int(reached.size), EXACT),
           min_steps_to_1e20=figure(int(reached.min()), EXACT), max_steps_to_1e20=figure(int(reached.max()), EXACT),
           median_steps_to_1e20=figure(float(np.median(reached)), EXACT))


@pytest.mark.expensive
@pytest.mark.slow
def test_batched_gd_to_1e12_seeds_0_19(benchmark):
    """GD to relative 1e-12 on seeds 0-19 (up to ~1.94 million steps) in one batched program,
    against the sum of the single runs, estimated as the single-run cost per step (100k steps of
    seeds 0-2) times the members' total steps: running them all one by one takes minutes."""
    benchmark.group = "sweeps"
    problems = [post_problem(s) for s in range(20)]
    out = benchmark.pedantic(run_batched, args=(problems, GD, 2_500_000),
                             kwargs={"target": 1e-12, "targets": (1e-12,)}, rounds=1, iterations=1)
    timed, steps = 3, 100_000  # the single-run cost per step, from 100k steps of seeds 0-2
    start = time.perf_counter()
    for p in problems[:timed]:
        run(p, GD, steps)
    per_step = (time.perf_counter() - start) / (timed * steps)
    single_total = per_step * int(out.steps.sum())
    benchmark.extra_info.update(batched_seconds=out.seconds, single_seconds_scaled=single_total,
                                ratio_single_over_batched=single_total / out.seconds)
    store(benchmark, **{f"steps_to_1e-12_seed{s}": figure(int(n), EXACT) for s, n in enumerate(out.steps_to[1e-12])})


def _dask_sweep(tmp_path, workers, grid):
    from linnet.sweeps.driver import run_sweep
    from linnet.sweeps.executors import Dask

    executor = Dask("local", workers)  # started before the clock
    start = time.perf_counter()
    summary = run_sweep(grid, tmp_path / f"w{workers}", executor=executor, progress=False, task_size=1)
    return time.perf_counter() - start, summary


@pytest.mark.expensive
@pytest.mark.slow
def test_dask_two_workers_against_one(benchmark, tmp_path):
    """A CPU-bound sweep (40 members of 3000 Adam steps, one member per task) on a LocalCluster of
    2 workers against 1, cluster start-up excluded; target >= 1.6x on 2 cores (recorded in
    extra_info). The three tables (1 worker, 2 workers, in-process) are equal. Also the per-member
    overhead of the dask path against in-process, from the same sweep."""
    pytest.importorskip("dask.distributed")
    from linnet.sweeps.driver import run_sweep
    from linnet.sweeps.grid import Grid
    from linnet.sweeps.store import load

    benchmark.group = "sweeps"
    grid = Grid({"seed": list(range(40))}, ("adam[lr=0.01]",), 3000)
    one, _ = _dask_sweep(tmp_path, 1, grid)
    two, summary = benchmark.pedantic(_dask_sweep, args=(tmp_path, 2, grid), rounds=1, iterations=1)
    start = time.perf_counter()
    run_sweep(grid, tmp_path / "inprocess", progress=False, task_size=1)
    inprocess = time.perf_counter() - start
    benchmark.extra_info.update(one_worker_seconds=one, two_workers_seconds=two, speedup=one / two,
                                in_process_seconds=inprocess,
                                dask_overhead_per_member_seconds=(one - inprocess) / 40)
    store(benchmark, ran=figure(summary["ran"], EXACT), failed=figure(summary["failed"], EXACT))
    assert summary["ran"] == 40
    # the speedup is recorded, not asserted: measured 1.65x on an idle 2-core machine, 1.09x when
    # another process held a core; what must hold anywhere is that the tables agree
    tables = [load(tmp_path / name).sort_values("id").reset_index(drop=True) for name in ("w1", "w2", "inprocess")]
    for table in tables[1:]:
        assert table[["id", "steps", "status"]].equals(tables[0][["id", "steps", "status"]])
        assert np.allclose(table["final_loss"], tables[0]["final_loss"], rtol=1e-12, atol=0)
