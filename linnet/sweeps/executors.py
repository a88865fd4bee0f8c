"""Where a sweep's tasks run: in this process, in a pool of local processes, or on dask.distributed.

Every executor has one method, ``imap(fn, tasks)``, yielding ``(index, result)`` as tasks finish
(in any order), and ``close()``. A task is a list of member descriptions (plain data), so what
travels to a worker is a few hundred bytes per member and what comes back is its rows. A task
that could not be finished (its worker died for good) yields ``(index, LostTask)``; the driver
writes nothing for it, so a later run picks its members up again.

dask is optional (``pip install 'linnet[dask]'``) and imported only when asked for.
"""

from __future__ import annotations

import concurrent.futures as cf
import functools
import multiprocessing
import os
import sys
from dataclasses import dataclass

from linnet.core.errors import LinnetError

#: seconds to wait for a dask scheduler before saying it cannot be reached
CONNECT_TIMEOUT = 5


@dataclass(frozen=True)
class LostTask:
    """A task no worker finished; ``reason`` says why."""

    reason: str


def single_threaded(fn, *args):
    """Call ``fn(*args)`` with BLAS and OpenMP pools limited to one thread (one task per core)."""
    from threadpoolctl import threadpool_limits

    with threadpool_limits(1):
        return fn(*args)


class InProcess:
    """Run tasks one after another in this process (the default: nothing to start)."""

    workers = 1

    def imap(self, fn, tasks):
        for i, task in enumerate(tasks):
            yield i, fn(*task)

    def close(self):
        pass


#: modules whose import starts threads that a forked child inherits without their owners (their locks
#: may be held at the fork, and the child then waits forever): jax warns of it on every fork
FORK_UNSAFE = ("jax", "torch")


def start_method() -> str | None:
    """How the pool starts its workers: the platform's default (a fork on Linux, cheap: a worker
    shares what this process has imported), or ``forkserver`` once a module of
    :data:`FORK_UNSAFE` is imported here (an optax or torch adapter run in this process): its
    workers then import linnet afresh, plugins included."""
    return "forkserver" if any(m in sys.modules for m in FORK_UNSAFE) else None


class ProcessPool:
    """A pool of ``workers`` local processes (default: one per core), started by :func:`start_method`."""

    def __init__(self, workers: int | None = None):
        self.workers = workers or os.cpu_count() or 1
        if self.workers < 1:
            raise LinnetError(f"--workers must be a positive integer, got {workers}")
        method = start_method()
        self._pool = cf.ProcessPoolExecutor(self.workers, mp_context=multiprocessing.get_context(method)
                                            if method else None)

    def imap(self, fn, tasks):
        futures = {self._pool.submit(single_threaded, fn, *task): i for i, task in enumerate(tasks)}
        try:
            for future in cf.as_completed(futures):
                try:
                    yield futures[future], future.result()
                except cf.process.BrokenProcessPool:
                    yield futures[future], LostTask("a worker process died")
        finally:
            for future in futures:
                future.cancel()

    def close(self):
        self._pool.shutdown(wait=True, cancel_futures=True)


class Dask:
    """dask.distributed: connect to ``address`` (``tcp://host:port``), or, with ``address="local"``,
    start a ``LocalCluster`` of ``workers`` single-threaded worker processes on 127.0.0.1."""

    def __init__(self, address: str, workers: int | None = None):
        try:
            from dask.distributed import Client, LocalCluster
        except ImportError:
            raise LinnetError("the dask executor needs dask.distributed: pip install 'linnet[dask]'") from None
        self._cluster = None
        if address == "local":
            self._cluster = LocalCluster(n_workers=workers or os.cpu_count() or 1, threads_per_worker=1,
                                         processes=True, host="127.0.0.1", dashboard_address=None)
            address = self._cluster.scheduler_address
        elif workers is not None:
            raise LinnetError("--workers applies to --scheduler local; a running scheduler has its own workers")
        try:
            self.client = Client(address, timeout=CONNECT_TIMEOUT)
        except (OSError, TimeoutError, ValueError) as err:
            self.close()
            raise LinnetError(f"cannot reach the dask scheduler at {address}: {err}") from None
        self.workers = max(1, len(self.client.scheduler_info().get("workers", {})))

    def imap(self, fn, tasks):
        from dask.distributed import as_completed

        futures = [self.client.submit(single_threaded, fn, *task, pure=False) for task in tasks]
        index = {f.key: i for i, f in enumerate(futures)}
        try:
            for future in as_completed(futures):
                try:
                    yield index[future.key], future.result()
                except Exception as err:  # noqa: BLE001  (KilledWorker and friends: the task is lost)
                    yield index[future.key], LostTask(f"{type(err).__name__}: {err}")
        finally:
            self.client.cancel(futures)

    def close(self):
        client = getattr(self, "client", None)
        if client is not None:
            client.close()
        if self._cluster is not None:
            self._cluster.close()


def ordered_map(executor, fn, items) -> list:
    """``[fn(x) for x in items]`` on ``executor``, in order: the injectable ``map`` of loops over
    seeds or configurations. ``fn`` must be picklable (a module-level function) for the process
    pool and dask. LinnetError if a task was lost."""
    items = list(items)
    out = {}
    for i, result in executor.imap(fn, [(x,) for x in items]):
        if isinstance(result, LostTask):
            raise LinnetError(f"the task for {items[i]!r} was lost: {result.reason}")
        out[i] = result
    return [out[i] for i in range(len(items))]


def as_map(executor):
    """The injectable ``map`` of the claims' run producers (:mod:`linnet.claims.post.producers`) on
    ``executor``: ``as_map(executor)(fn, items)`` is ``list(map(fn, items))``, run there."""
    return functools.partial(ordered_map, executor)


def make_executor(scheduler: str | None = None, workers: int | None = None, processes: bool = False):
    """The executor the command line asks for: ``--scheduler`` (dask), ``--processes`` (a local
    pool), or in-process."""
    if scheduler is not None:
        return Dask(scheduler, workers)
    if processes:
        return ProcessPool(workers)
    if workers not in (None, 1):
        raise LinnetError("--workers needs --processes or --scheduler local")
    return InProcess()
