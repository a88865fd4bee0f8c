"""Histories that grow with the steps a run takes, not with its step budget.

A run asked for ``steps`` updates may stop long before (a target, divergence, the optimizer
done, Ctrl-C), and a budget of 10**12 steps cannot be held in memory at all. So a loop starts
with room for :data:`FIRST_ROWS` evaluations (or the budget's steps + 1, if fewer) and doubles the
room whenever it is full, never beyond steps + 1 rows: the cost per step is one integer test, and
the memory is at most twice what the steps taken need.

    >>> h = start(10**12)
    >>> len(h) == FIRST_ROWS
    True
    >>> len(grow(h, 10**12)) == 2 * FIRST_ROWS
    True
    >>> len(grow(start(5000), 5000))
    5001
"""

from __future__ import annotations

import numpy as np

#: evaluations a history has room for when a run starts
FIRST_ROWS = 4096


def start(steps: int, columns: tuple[int, ...] = (), fill: float | None = None) -> np.ndarray:
    """A float64 history for a run of at most ``steps`` updates: rows for the first evaluations.

    Args:
        steps: the step budget (a run evaluates at most steps + 1 times).
        columns: the shape of one row (``(B,)`` for a batched run).
        fill: the value of rows not yet written (None: left uninitialised).
    """
    return _allocate(min(steps + 1, FIRST_ROWS), columns, fill)


def grow(history: np.ndarray, steps: int, fill: float | None = None) -> np.ndarray:
    """A copy of ``history`` with twice its rows (at most steps + 1), the written rows kept."""
    bigger = _allocate(min(2 * len(history), steps + 1), history.shape[1:], fill)
    bigger[: len(history)] = history
    return bigger


def _allocate(rows: int, columns: tuple[int, ...], fill: float | None) -> np.ndarray:
    shape = (rows, *columns)
    return np.empty(shape) if fill is None else np.full(shape, fill)
