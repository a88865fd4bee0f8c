"""Running members: batched where they can be, one by one where not; one row per member.

A task is a list of member descriptions (plain dicts, see :mod:`linnet.sweeps.grid`); the worker
builds each member's problem with :func:`linnet.problems.families.make_problem`, groups members whose
layers have equal shapes and whose batchable optimizer differs at most in ``lr``, runs each
group as one array program (:func:`linnet.runs.batched.run_batched`, first and second order) and
every other member with :func:`linnet.run`. A member that raises becomes a failed row; the others go on.
"""

from __future__ import annotations

import dataclasses
import time

import numpy as np

from linnet.core.errors import LinnetError
from linnet.optimizers.spec import parse
from linnet.problems.families import make_problem
from linnet.runs.batched import run_batched
from linnet.runs.loop import run
from linnet.sweeps.grid import ROW_TARGETS
from linnet.sweeps.rows import failed_row, result_row

_NOT_PROBLEM = ("id", "family", "dtype", "optimizer", "steps", "target")


def build_problem(member: dict):
    """The member's problem: ``make_problem(family, **parameters)``, cast to its dtype."""
    params = {k: (tuple(v) if isinstance(v, list) else v) for k, v in member.items() if k not in _NOT_PROBLEM}
    try:
        problem = make_problem(member.get("family", "post"), **params)
    except TypeError as err:  # a parameter this family's constructor does not take
        raise ValueError(f"family {member.get('family', 'post')!r} takes no such parameter: {err}") from None
    dtype = member.get("dtype", "float64")
    return problem if dtype == "float64" else problem.astype(dtype)


def batch_family(optimizer) -> str | None:
    """The spec an optimizer shares with every one it can batch with (all but ``lr``); None where
    it has no batched loop (its declared ``batchable`` capability)."""
    if not optimizer.batchable:
        return None
    return (dataclasses.replace(optimizer, lr=1.0) if hasattr(optimizer, "lr") else optimizer).spec


def batch_key(problem, optimizer):
    """Members with equal keys run as one batch; None where the optimizer cannot batch."""
    family = batch_family(optimizer)
    if family is None:
        return None
    return (family, tuple(w.shape for w in problem.weights), problem.S.shape, str(problem.dtype))


def _one(member, problem, histories):
    result = run(problem, member["optimizer"], member["steps"], target=member.get("target"))
    history = {"id": member["id"], "losses": [float(x) for x in result.losses]} if histories else None
    return result_row(member, result), history


def _batch(members, problems, histories):
    optimizers = [parse(m["optimizer"]) for m in members]
    lrs = [o.lr for o in optimizers] if hasattr(optimizers[0], "lr") else None
    steps, target = members[0]["steps"], members[0].get("target")
    out = run_batched(problems, optimizers[0], steps, target=target, lrs=lrs, targets=ROW_TARGETS,
                      history=histories)
    rows, hist = [], []
    for i, (member, problem) in enumerate(zip(members, problems)):
        rows.append(result_row(member, out.member(i, problem, member["optimizer"]), batched=True))
        if histories:
            hist.append({"id": member["id"], "losses": out.history(i).tolist()})
    return rows, hist


def run_members(members: list[dict], histories: bool = False) -> tuple[list[dict], list[dict]]:
    """Run every member; return (rows, history rows) in the members' order.

    Members sharing a step limit, target and :func:`batch_key` run as one batch; the rest, and
    every member of a batch that raised, run one by one.
    """
    rows: dict[str, dict] = {}
    hist: dict[str, dict] = {}
    groups: dict = {}
    singles = []
    for member in members:
        try:
            problem = build_problem(member)
            key = batch_key(problem, parse(member["optimizer"]))
        except Exception as err:  # noqa: BLE001  (a member that raises is a failed row)
            rows[member["id"]] = failed_row(member, err)
            continue
        if key is None:
            singles.append((member, problem))
        else:
            groups.setdefault((key, member["steps"], member.get("target")), []).append((member, problem))
    for group in groups.values():
        if len(group) == 1:
            singles.extend(group)
            continue
        try:
            got, got_hist = _batch([m for m, _ in group], [p for _, p in group], histories)
        except (LinnetError, ValueError, np.linalg.LinAlgError):  # one by one, where each failure is recorded
            singles.extend(group)
            continue
        rows.update((r["id"], r) for r in got)
        hist.update((h["id"], h) for h in got_hist)
    for member, problem in singles:
        start = time.perf_counter()
        try:
            row, h = _one(member, problem, histories)
        except Exception as err:  # noqa: BLE001
            row, h = failed_row(member, err), None
            row["seconds"] = time.perf_counter() - start
        rows[member["id"]] = row
        if h is not None:
            hist[member["id"]] = h
    order = [m["id"] for m in members]
    return [rows[i] for i in order], [hist[i] for i in order if i in hist]
