"""Set-up for the unit and property tests (the hypothesis profiles are in the root conftest.py)."""

import os
import pathlib
import sys

import pytest

# tests import their shared hypothesis strategies as a plain module
sys.path.insert(0, str(pathlib.Path(__file__).parent))

#: at most this many pytest-xdist workers for ``-n auto``: the suite has a few dozen files and
#: ``--dist loadfile`` sends each file to one worker, so more workers add start-up (each imports
#: numpy, and TensorFlow where a file needs it) and memory, not speed
MAX_WORKERS = 8


def pytest_xdist_auto_num_workers(config):
    """``-n auto``: one worker per CPU this process may run on, at most MAX_WORKERS."""
    return min(len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1,
               MAX_WORKERS)


@pytest.fixture(autouse=True, scope="session")
def _child_pytest_runs_are_not_xdist_workers():
    """Tests that start pytest in a subprocess (the plugin, gate and compare tests) start a run of
    its own. pytest-xdist marks its workers with PYTEST_XDIST_* variables, which a child process
    inherits and which make pytest-benchmark there disable itself as if it were a worker; the
    variables are set aside for the session (nothing in the worker reads them after start-up)."""
    saved = {k: os.environ.pop(k) for k in list(os.environ) if k.startswith("PYTEST_XDIST_")}
    yield
    os.environ.update(saved)
