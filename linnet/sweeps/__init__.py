"""Sweeps: thousands of configurations as batched array programs, into one results table.

    >>> from linnet.sweeps import Grid, run_sweep, load
    >>> grid = Grid({"seed": list(range(20))}, ("gd[lr=1e-05]",), steps=3000)
    >>> summary = run_sweep(grid, "out/sweep")          # doctest: +SKIP
    >>> load("out/sweep").groupby("optimizer").relative_loss.median()   # doctest: +SKIP

Modules: :mod:`~linnet.sweeps.grid` (grid, members, ids), :mod:`~linnet.sweeps.parse` (command-line
and TOML values), :mod:`~linnet.sweeps.execute` (batched and single runs of a task),
:mod:`~linnet.sweeps.records` (the row schema), :mod:`~linnet.sweeps.executors` (in-process,
process pool, dask), :mod:`~linnet.sweeps.store` (the Parquet folder, resume),
:mod:`~linnet.sweeps.driver` (tasks and progress), :mod:`~linnet.sweeps.plots` (figures and the
performance profile), :mod:`~linnet.sweeps.commands` (the ``sweep`` and ``plot`` commands).
"""

from linnet.sweeps.driver import run_sweep
from linnet.sweeps.grid import Grid, grid_from_dict
from linnet.sweeps.store import load

__all__ = ["Grid", "grid_from_dict", "load", "run_sweep"]
