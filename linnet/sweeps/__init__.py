"""Sweeps: thousands of configurations as batched array programs, into one results table.

    >>> from linnet.sweeps.driver import run_sweep
    >>> from linnet.sweeps.grid import Grid
    >>> from linnet.sweeps.store import load
    >>> grid = Grid({"seed": list(range(20))}, ("gd[lr=1e-05]",), steps=3000)
    >>> # the next two lines are skipped by the doctests: the sweep writes a Parquet folder and takes seconds
    >>> summary = run_sweep(grid, "out/sweep")          # doctest: +SKIP
    >>> load("out/sweep").groupby("optimizer").relative_loss.median()   # doctest: +SKIP

Modules: :mod:`~linnet.sweeps.grid` (grid, members, ids), :mod:`~linnet.sweeps.parse` (command-line
and TOML values), :mod:`~linnet.sweeps.execute` (batched and single runs of a task),
:mod:`~linnet.sweeps.rows` (the row schema), :mod:`~linnet.sweeps.executors` (in-process,
process pool, dask), :mod:`~linnet.sweeps.store` (the Parquet folder, resume),
:mod:`~linnet.sweeps.driver` (tasks and progress), :mod:`~linnet.sweeps.commands` (the ``sweep``
command). A sweep's figures and performance profiles are drawn in :mod:`linnet.reports.figures.sweep`.

Imports: linnet.core, linnet.problems, linnet.optimizers, linnet.runs, linnet.claims.
"""
