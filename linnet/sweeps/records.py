"""One row of a sweep's results table: the member's parameters and its run's record.

The run fields are those of :meth:`linnet.results.Result.to_dict` (status code and message,
steps, diverged, initial, final and relative loss, gradient norm, seconds, backend), flattened,
plus the step of divergence and the first step at each relative loss of
:data:`linnet.sweeps.grid.RECORD_TARGETS`. "Not reached" and "not defined" are null (None), as
in :class:`linnet.results.Result`. A member that raised has null run fields and its message in
``error``. :data:`SCHEMA` fixes the column types, so every part file of a dataset agrees.
"""

from __future__ import annotations

import math

import pyarrow as pa

from linnet.sweeps.grid import PROBLEM_KEYS, RECORD_TARGETS, target_column

_TYPES = {int: pa.int64(), float: pa.float64(), str: pa.string(), tuple: pa.string()}

SCHEMA = pa.schema(
    [("id", pa.string())]
    + [(key, _TYPES[kind]) for key, kind in PROBLEM_KEYS.items()]
    + [("optimizer", pa.string()), ("max_steps", pa.int64()), ("target", pa.float64()),
       ("status", pa.int64()), ("message", pa.string()), ("diverged", pa.bool_()),
       ("divergence_step", pa.int64()), ("steps", pa.int64()), ("initial_loss", pa.float64()),
       ("final_loss", pa.float64()), ("relative_loss", pa.float64()), ("grad_norm", pa.float64())]
    + [(target_column(t), pa.int64()) for t in RECORD_TARGETS]
    + [("seconds", pa.float64()), ("backend", pa.string()), ("batched", pa.bool_()), ("error", pa.string())]
)

HISTORY_SCHEMA = pa.schema([("id", pa.string()), ("losses", pa.list_(pa.float64()))])


def _finite(x) -> float | None:
    x = float(x)
    return x if math.isfinite(x) else None


def _member_columns(member: dict) -> dict:
    row = {"id": member["id"], "optimizer": member["optimizer"], "max_steps": member["steps"],
           "target": member.get("target")}
    for key in PROBLEM_KEYS:
        value = member.get(key)
        row[key] = "x".join(map(str, value)) if isinstance(value, (list, tuple)) else value
    return row


def run_record(member: dict, *, status: int, message: str, steps: int, initial_loss, final_loss, y_norm2: float,
               grad_norm, steps_to: dict, seconds: float, batched: bool) -> dict:
    """The row of a member whose run stopped with ``status`` after ``steps`` updates.

    ``steps_to`` maps each target of RECORD_TARGETS to its first step or None; ``final_loss`` and
    ``grad_norm`` are those at the stop (non-finite when the run diverged).
    """
    row = _member_columns(member)
    final = _finite(final_loss)
    diverged = final is None
    row.update(
        status=int(status), message=message, diverged=diverged, divergence_step=int(steps) if diverged else None,
        steps=int(steps), initial_loss=_finite(initial_loss), final_loss=final,
        relative_loss=None if diverged else final / y_norm2, grad_norm=None if diverged else _finite(grad_norm),
        seconds=float(seconds), backend="numpy", batched=batched, error=None,
    )
    row.update({target_column(t): None if steps_to.get(t) is None else int(steps_to[t]) for t in RECORD_TARGETS})
    return row


def from_result(member: dict, result) -> dict:
    """The row of a member run one by one with :func:`linnet.run`."""
    return run_record(member, status=result.status, message=result.message, steps=result.steps,
                      initial_loss=result.initial_loss, final_loss=result.losses[-1],
                      y_norm2=result.problem_info["y_norm2"], grad_norm=result.grad_norms[-1],
                      steps_to={t: result.steps_to(t) for t in RECORD_TARGETS}, seconds=result.seconds,
                      batched=False)


def failed(member: dict, error: BaseException | str) -> dict:
    """The row of a member whose problem or run raised: its parameters and the message."""
    row = {name: None for name in SCHEMA.names}
    row.update(_member_columns(member))
    text = error if isinstance(error, str) else f"{type(error).__name__}: {error}"
    row.update(message=text, error=text)
    return row
