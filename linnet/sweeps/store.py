"""A sweep's folder: ``sweep.json``, the results dataset and the optional histories dataset.

Layout of ``DIR``::

    sweep.json                  the grid, the machine, the linnet and library versions
    results/part-*.parquet      one row per member (schema :data:`linnet.sweeps.rows.SCHEMA`)
    histories/part-*.parquet    with --histories: (id, losses) per member

Only the driver writes, one part file per finished task, each written whole or not at all
(:func:`linnet.core.files.write_atomic`), histories before results: a member counts as done exactly
when its row is in a results part, so a sweep stopped at any moment resumes by running the
members without a row, and no member is ever written twice.
"""

from __future__ import annotations

import io
import json
import platform
import shutil
import time
import uuid
from pathlib import Path

import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.parquet as pq

from linnet.core.errors import LinnetError
from linnet.core.files import make_folder, write_atomic, write_text
from linnet.sweeps.grid import Grid, grid_from_dict
from linnet.sweeps.rows import HISTORY_SCHEMA, SCHEMA


def machine_info() -> dict:
    """Where a sweep ran: :func:`linnet.runs.machine.machine_info` plus host and versions."""
    import pandas

    import linnet
    from linnet.runs.machine import machine_info as benchmark_machine

    return {**benchmark_machine(), "host": platform.node(), "platform": platform.platform(),
            "linnet": linnet.__version__, "pyarrow": pa.__version__, "pandas": pandas.__version__}


def _parts(folder: Path) -> list[Path]:
    return sorted(folder.glob("part-*.parquet")) if folder.is_dir() else []


def read_grid(out: Path | str) -> Grid | None:
    """The grid recorded in ``DIR/sweep.json``, or None where there is none."""
    path = Path(out) / "sweep.json"
    if not path.exists():
        return None
    try:
        return grid_from_dict(json.loads(path.read_text())["grid"])
    except (ValueError, KeyError, LinnetError) as err:
        raise LinnetError(f"{path} is not a sweep description: {err}") from None


def prepare(out: Path | str, grid: Grid, *, force: bool = False) -> Path:
    """Make ``out`` ready for ``grid``; LinnetError if it holds a different sweep, unless the new
    grid extends the old one (every old member is a new member) or ``force`` (the old results are
    deleted)."""
    out = make_folder(out)
    old = read_grid(out)
    has_rows = bool(_parts(out / "results"))
    if old is not None and old != grid and (has_rows or force):
        if force:
            for sub in ("results", "histories"):
                shutil.rmtree(out / sub, ignore_errors=True)
        elif not grid.extends(old):
            raise LinnetError(f"{out} holds a different sweep; pass --force to replace it, or give a grid "
                              "that extends it")
    elif old is None and has_rows and not force:
        raise LinnetError(f"{out} holds results but no sweep.json; pass --force to replace them")
    make_folder(out / "results")
    info = {"grid": grid.to_dict(), "members": len(grid.members()), "machine": machine_info(),
            "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
    write_text(out / "sweep.json", json.dumps(info, indent=2) + "\n", force=True)
    return out


def done_ids(out: Path | str) -> set[str]:
    """Ids of the members that have a row."""
    parts = _parts(Path(out) / "results")
    if not parts:
        return set()
    return set(ds.dataset(parts, format="parquet").to_table(columns=["id"]).column("id").to_pylist())


def _write(folder: Path, table: pa.Table) -> Path:
    buffer = io.BytesIO()
    pq.write_table(table, buffer)
    make_folder(folder)
    name = f"part-{time.time_ns():020d}-{uuid.uuid4().hex[:8]}.parquet"
    return write_atomic(folder / name, lambda f: f.write(buffer.getvalue()))


def write_part(out: Path | str, rows: list[dict], histories: list[dict] | None = None) -> None:
    """Append one task's rows (and histories) as new part files."""
    out = Path(out)
    if histories:
        _write(out / "histories", pa.Table.from_pylist(histories, schema=HISTORY_SCHEMA))
    if rows:
        _write(out / "results", pa.Table.from_pylist(rows, schema=SCHEMA))


def load(out: Path | str, table: str = "results"):
    """The sweep's results (or ``table="histories"``) as a pandas DataFrame, one row per member."""
    folder = Path(out) / table
    parts = _parts(folder)
    schema = SCHEMA if table == "results" else HISTORY_SCHEMA
    if not parts:
        if not (Path(out) / "sweep.json").exists():
            raise LinnetError(f"{out} is not a sweep folder (no sweep.json)")
        return schema.empty_table().to_pandas()
    frame = ds.dataset(parts, format="parquet", schema=schema).to_table().to_pandas()
    return frame.drop_duplicates("id", keep="last").reset_index(drop=True)
