"""One row of a sweep's results table: the member's parameters and its run's record, flattened.

The run fields are those of the one run record (:func:`linnet.runs.record.record`: status code and
message, steps, diverged and the step of divergence, initial, final and relative loss, gradient
norm, seconds, backend, linnet version), plus the first step at each relative loss of
:data:`linnet.sweeps.grid.ROW_TARGETS`; the member columns are its id, its grid parameters
(null where the grid does not set them), its optimizer spec, step limit and target, whether it
ran in a batch, and ``error``. "Not reached" and "not defined" are null (None), as in the record.
A member that raised has null run fields and its message in ``error``. :data:`SCHEMA` fixes the
column types, so every part file of a dataset agrees.
"""

from __future__ import annotations

import pyarrow as pa

from linnet.problems.families import PARAMETERS
from linnet.runs.record import flat, record
from linnet.sweeps.grid import ROW_TARGETS, target_column

_TYPES = {int: pa.int64(), float: pa.float64(), str: pa.string(), tuple: pa.string()}

#: the run record's fields a row copies, with their column types
RUN_FIELDS = {
    "status": pa.int64(), "message": pa.string(), "diverged": pa.bool_(), "divergence_step": pa.int64(),
    "steps": pa.int64(), "initial_loss": pa.float64(), "final_loss": pa.float64(), "relative_loss": pa.float64(),
    "grad_norm": pa.float64(), "y_norm2": pa.float64(), "seconds": pa.float64(), "backend": pa.string(),
    "linnet_version": pa.string(),
}

SCHEMA = pa.schema(
    [("id", pa.string())]
    + [(key, _TYPES[kind]) for key, kind in PARAMETERS.items()]
    + [("optimizer", pa.string()), ("max_steps", pa.int64()), ("target", pa.float64())]
    + list(RUN_FIELDS.items())
    + [(target_column(t), pa.int64()) for t in ROW_TARGETS]
    + [("batched", pa.bool_()), ("error", pa.string())]
)

HISTORY_SCHEMA = pa.schema([("id", pa.string()), ("losses", pa.list_(pa.float64()))])


def _member_columns(member: dict) -> dict:
    row = {"id": member["id"], "optimizer": member["optimizer"], "max_steps": member["steps"],
           "target": member.get("target")}
    for key in PARAMETERS:
        value = member.get(key)
        row[key] = "x".join(map(str, value)) if isinstance(value, (list, tuple)) else value
    return row


def result_row(member: dict, result, batched: bool = False) -> dict:
    """The row of a member whose run gave ``result``: a :class:`linnet.runs.result.Result`, or a batched
    member's :class:`linnet.runs.batched_result.MemberResult` (the same fields)."""
    rec = flat(record(result))
    row = _member_columns(member)
    row.update({key: rec[key] for key in RUN_FIELDS})
    row.update({target_column(t): result.steps_to(t) for t in ROW_TARGETS})
    row.update(batched=batched, error=None)
    return row


def failed_row(member: dict, error: BaseException | str) -> dict:
    """The row of a member whose problem or run raised: its parameters and the message."""
    row = {name: None for name in SCHEMA.names}
    row.update(_member_columns(member))
    text = error if isinstance(error, str) else f"{type(error).__name__}: {error}"
    row.update(message=text, error=text)
    return row
