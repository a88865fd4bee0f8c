"""Sweeps: thousands of configurations as batched array programs, into one results table.

    >>> from linnet.sweeps import Grid, run_sweep, load
    >>> grid = Grid({"seed": list(range(20))}, ("gd[lr=1e-05]",), steps=3000)
    >>> summary = run_sweep(grid, "out/sweep")          # doctest: +SKIP
    >>> load("out/sweep").groupby("optimizer").relative_loss.median()   # doctest: +SKIP

Modules: :mod:`~linnet.sweeps.grid` (grid, members, ids), :mod:`~linnet.sweeps.parse` (command-line
and TOML values), :mod:`~linnet.sweeps.execute` (batched and single runs of a task),
:mod:`~linnet.sweeps.rows` (the row schema), :mod:`~linnet.sweeps.executors` (in-process,
process pool, dask), :mod:`~linnet.sweeps.store` (the Parquet folder, resume),
:mod:`~linnet.sweeps.driver` (tasks and progress), :mod:`~linnet.sweeps.plots` (figures and the
performance profile), :mod:`~linnet.sweeps.commands` (the ``sweep`` and ``plot`` commands).

Imports: linnet.core, linnet.problems, linnet.optimizers, linnet.runs, linnet.claims.
"""

import importlib

#: public names and their modules, imported on first use (pyarrow loads only when a sweep runs)
_EXPORTS = {"Grid": "grid", "grid_from_dict": "grid", "load": "store", "run_sweep": "driver"}

__all__ = sorted(_EXPORTS)


def __getattr__(name):
    if name in _EXPORTS:
        return getattr(importlib.import_module(f"linnet.sweeps.{_EXPORTS[name]}"), name)
    raise AttributeError(f"module 'linnet.sweeps' has no attribute {name!r}")
