"""Sweeps on real parts: a process pool, a dask LocalCluster on the loopback address (one worker
killed mid-sweep), and a driver process interrupted by a signal and run again."""

import functools
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from linnet.cli import main
from linnet.sweeps import executors
from linnet.sweeps.driver import run_sweep
from linnet.sweeps.executors import Dask, ProcessPool
from linnet.sweeps.grid import Grid
from linnet.sweeps.store import load

pytest.importorskip("dask.distributed")

ROOT = Path(__file__).resolve().parents[1]
GRID = Grid({"seed": list(range(6)), "nsamples": [0, 50]}, ("gd[lr=0.001]", "adam[lr=0.01]", "lm"), 200)


@pytest.fixture(scope="module")
def cluster():
    from dask.distributed import LocalCluster

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                      dashboard_address=None) as c:
        yield c


def _table(out):
    return load(out).drop(columns=["seconds"]).sort_values("id").reset_index(drop=True)


def test_executors_write_identical_tables(tmp_path, cluster):
    run_sweep(GRID, tmp_path / "inprocess", progress=False)
    run_sweep(GRID, tmp_path / "pool", executor=ProcessPool(2), progress=False)
    run_sweep(GRID, tmp_path / "dask", executor=Dask(cluster.scheduler_address), progress=False, task_size=5)
    reference = _table(tmp_path / "inprocess")
    assert len(reference) == 36 and reference.error.isna().all()
    pd.testing.assert_frame_equal(_table(tmp_path / "pool"), reference)
    pd.testing.assert_frame_equal(_table(tmp_path / "dask"), reference)


def test_a_killed_dask_worker_loses_no_member_and_duplicates_none(tmp_path, cluster):
    grid = Grid({"seed": list(range(24))}, ("adam[lr=0.01]",), 3000)
    executor = Dask(cluster.scheduler_address)
    killed = []

    def kill_one_worker(done, total):
        if not killed:
            pids = executor.client.run(os.getpid)
            killed.append(next(iter(pids.values())))
            os.kill(killed[0], signal.SIGKILL)

    summary = run_sweep(grid, tmp_path, executor=executor, task_size=1, progress=False, on_task=kill_one_worker)
    assert killed and summary["ran"] == 24 and summary.get("lost") == 0
    df = load(tmp_path)
    ids = pd.read_parquet(tmp_path / "results").id  # the raw dataset, before load's de-duplication
    assert len(ids) == 24 and ids.is_unique and set(ids) == {m["id"] for m in grid.members()}
    assert df.error.isna().all()


def test_unreachable_scheduler_is_one_error_line(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(executors, "CONNECT_TIMEOUT", 1)  # nothing listens on port 9: no need to wait 5 s
    argv = ["sweep", "--seeds", "0", "--optimizer", "lm", "--out", str(tmp_path), "--scheduler", "tcp://127.0.0.1:9"]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("linnet: error: cannot reach the dask scheduler at tcp://127.0.0.1:9")


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGKILL], ids=["ctrl-c", "kill"])
def test_an_interrupted_driver_resumes_exactly_once(tmp_path, signum):
    argv = [sys.executable, "-m", "linnet", "sweep", "--seeds", "0-29", "--optimizer", "adam[lr=0.01]",
            "--steps", "3000", "--task-size", "1", "--out", str(tmp_path), "--quiet", "--json"]
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    # SIGINT at its default in the driver, even where this test runs as a shell's background job
    # (started with SIGINT ignored, which Python then leaves ignored)
    driver = subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                              preexec_fn=functools.partial(signal.signal, signal.SIGINT, signal.SIG_DFL))
    results = tmp_path / "results"
    deadline = time.monotonic() + 60
    while len(list(results.glob("part-*.parquet"))) < 3 and time.monotonic() < deadline:
        time.sleep(0.02)
    driver.send_signal(signum)
    _, err = driver.communicate(timeout=60)
    written = len(load(tmp_path))
    assert 3 <= written < 30, err
    if signum == signal.SIGINT:
        assert driver.returncode == 130 and "run the same command again to resume" in err
    again = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=120)
    assert again.returncode == 0, again.stderr
    summary = json.loads(again.stdout)
    assert (summary["ran"], summary["skipped"]) == (30 - written, written)
    ids = pd.read_parquet(results).id
    assert len(ids) == 30 and ids.is_unique


def test_ordered_map_runs_a_claim_loop_on_a_process_pool():
    """The executor side of the claims' injectable map: the same runs, in order, on 2 processes."""
    from linnet.claims.post.producers import post_kappas
    from linnet.sweeps.executors import InProcess, ordered_map

    here = ordered_map(InProcess(), post_kappas, [[0], [1, 2]])
    pool = ProcessPool(2)
    try:
        there = ordered_map(pool, post_kappas, [[0], [1, 2]])
    finally:
        pool.close()
    assert there == here and list(here[1]) == [1, 2]


def test_a_pool_forks_unless_jax_or_torch_runs_threads_here(monkeypatch):
    """After ``import jax`` (an optax adapter run in this process) a forked worker could wait forever
    on a lock one of jax's threads held at the fork, so the pool starts its workers from a fork
    server instead; before it, a plain fork (the platform's default)."""
    import sys

    from linnet.sweeps.executors import FORK_UNSAFE, start_method

    for name in FORK_UNSAFE:
        monkeypatch.delitem(sys.modules, name, raising=False)
    assert start_method() is None
    monkeypatch.setitem(sys.modules, "jax", sys)
    assert start_method() == "forkserver"
