"""The sweep driver: members without a row, cut into tasks, run by an executor, written as they finish
(:func:`run_sweep`), or kept in memory (:func:`run_rows`, for the commands that decide from the rows at once).

Tasks hold members that can share one batched program (equal layer shapes, the same optimizer up
to ``lr``, the same steps and target), sized from a cost model so that each runs for about
:data:`TASK_SECONDS` or more, and split into at least as many tasks as the executor has workers.
"""

from __future__ import annotations

import math
import sys
import time
from pathlib import Path

from linnet.core.errors import LinnetError
from linnet.optimizers.spec import parse
from linnet.sweeps import store
from linnet.sweeps.execute import batch_family, run_members
from linnet.sweeps.executors import InProcess, LostTask
from linnet.sweeps.grid import Grid

#: the wanted duration of one task, seconds
TASK_SECONDS = 1.0
#: seconds per member-step, measured on a 2-core machine for the post's 10x6x6 problem: batched GD
#: on 1000 members ~0.5e-6 (1.5 s for 3000 steps), one run ~13e-6 (38 ms for 3000 steps); second-order
#: steps cost about ten first-order ones one by one (lm 128e-6, gauss-newton 150e-6 on 200 members),
#: and batched (linnet.runs.batched_steps) lm 57e-6, gauss-newton 44e-6: their LAPACK calls, one
#: per member, are most of it
COST_BATCHED, COST_SINGLE, COST_SECOND_ORDER, COST_BATCHED_SECOND_ORDER = 0.5e-6, 13e-6, 130e-6, 50e-6

#: the most members in one batched task (the per-step overhead is amortised well before that)
MAX_BATCH = 4096

_SHAPE_KEYS = ("xdim", "wdim", "ydim", "depth", "widths", "dtype")


def _group_key(member: dict):
    family = batch_family(parse(member["optimizer"]))
    if family is None:
        return None
    return (family, tuple(str(member.get(k)) for k in _SHAPE_KEYS), member["steps"], member.get("target"))


def plan_tasks(members: list[dict], workers: int = 1, task_size: int | None = None) -> list[list[dict]]:
    """Cut members into tasks: each batchable group into one slice per worker (at least ~1 s each,
    at most MAX_BATCH members); other members into runs of about 1 s, spread over the workers."""
    groups: dict = {}
    for m in members:
        key = _group_key(m)
        groups.setdefault(key if key is not None else ("single", m["optimizer"]), []).append((key, m))
    tasks = []
    for items in groups.values():
        batchable = items[0][0] is not None
        steps = max(1, items[0][1]["steps"])
        first_order = parse(items[0][1]["optimizer"]).first_order
        cost = steps * ((COST_BATCHED if first_order else COST_BATCHED_SECOND_ORDER) if batchable else
                        COST_SINGLE if first_order else COST_SECOND_ORDER)
        at_least = max(1, math.ceil(TASK_SECONDS / cost))  # members for about TASK_SECONDS
        spread = max(1, math.ceil(len(items) / workers))  # members for one task per worker
        if task_size:
            size = task_size
        elif batchable:  # larger batches amortise more: one batch per worker, of at most MAX_BATCH
            size = min(MAX_BATCH, max(spread, at_least))
        else:
            size = min(at_least, spread)
        group = [m for _, m in items]
        tasks.extend(group[i:i + size] for i in range(0, len(group), size))
    return tasks


def run_sweep(grid: Grid, out: Path | str, *, executor=None, histories: bool = False, force: bool = False,
              task_size: int | None = None, progress: bool = True, on_task=None) -> dict:
    """Run every member of ``grid`` that has no row in ``out`` yet, writing rows as tasks finish.

    Args:
        grid: the sweep.
        out: its folder (see :mod:`linnet.sweeps.store`).
        executor: from :mod:`linnet.sweeps.executors` (default: in-process); closed at the end.
        histories: also write each member's loss history.
        force: replace a different sweep in ``out``.
        task_size: members per task (default: from the cost model).
        progress: show a tqdm bar on stderr.
        on_task: called as ``on_task(done_tasks, total_tasks)`` after each written task.

    Returns:
        {"members", "ran", "skipped", "failed", "lost", "seconds", "out"}.
    """
    from tqdm import tqdm

    start = time.perf_counter()
    executor = executor or InProcess()
    try:
        out = store.prepare(out, grid, force=force)
        members = grid.members()
        done = store.done_ids(out)
        todo = [m for m in members if m["id"] not in done]
        tasks = plan_tasks(todo, executor.workers, task_size)
        ran = failed = lost = 0
        bar = tqdm(total=len(todo), unit="member", file=sys.stderr, disable=not progress, desc="sweep")
        try:
            for n, (i, result) in enumerate(executor.imap(run_members, [(t, histories) for t in tasks]), 1):
                if isinstance(result, LostTask):
                    lost += len(tasks[i])
                else:
                    rows, hist = result
                    store.write_part(out, rows, hist if histories else None)
                    ran += len(rows)
                    failed += sum(r["error"] is not None for r in rows)
                bar.update(len(tasks[i]))
                bar.set_postfix(running=min(executor.workers, len(tasks) - n), failed=failed, lost=lost,
                                refresh=False)
                if on_task is not None:
                    on_task(n, len(tasks))
        finally:
            bar.close()
    finally:
        executor.close()
    return {"members": len(members), "ran": ran, "skipped": len(members) - len(todo), "failed": failed,
            "lost": lost, "seconds": round(time.perf_counter() - start, 3), "out": str(out)}


def run_rows(members: list[dict], *, executor=None, histories: bool = False, progress: bool = False,
             desc: str = "runs") -> tuple[list[dict], list[dict]]:
    """Run ``members`` (dicts with an ``id``) on ``executor`` (default in-process) in the tasks of
    :func:`plan_tasks`, batched where they can be; return (rows, history rows) in the members' order,
    as :func:`linnet.sweeps.execute.run_members` does, with a tqdm bar on stderr when ``progress``.

    LinnetError if a task was lost (a worker died): the caller decides from every row or none.
    """
    from tqdm import tqdm

    executor = executor or InProcess()
    tasks = plan_tasks(members, executor.workers)
    rows: dict[str, dict] = {}
    hist: dict[str, dict] = {}
    with tqdm(total=len(members), unit="run", file=sys.stderr, disable=not progress, desc=desc) as bar:
        for i, result in executor.imap(run_members, [(t, histories) for t in tasks]):
            if isinstance(result, LostTask):
                raise LinnetError(f"a task of {len(tasks[i])} runs was lost: {result.reason}")
            got, got_hist = result
            rows.update((r["id"], r) for r in got)
            hist.update((h["id"], h) for h in got_hist)
            bar.update(len(tasks[i]))
    return [rows[m["id"]] for m in members], [hist[m["id"]] for m in members if m["id"] in hist]
